/* SSH wire format: base64, KEXINIT parsing, known_hosts pinning (pure functions). */
#include <string.h>

#include "crypto.h"
#include "sshkey.h"
#include "sshwire.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static void
test_base64(void)
{
    static const char *const cases[][2] = {
        { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
    };
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        _cleanup_free_ char *e = mc_base64_encode(cases[i][0], strlen(cases[i][0]));
        is_str(e, cases[i][1], "base64 of '%s'", cases[i][0]);
        _cleanup_free_ uint8_t *d = NULL;
        size_t n = 0;
        ok(mc_base64_decode(e, strlen(e), &d, &n) == 0 && n == strlen(cases[i][0]) &&
                   memcmp(d, cases[i][0], n) == 0,
           "round trip of '%s'", cases[i][0]);
    }
    _cleanup_free_ uint8_t *d = NULL;
    size_t n = 0;
    ok(mc_base64_decode("Zm9vYg", 6, &d, &n) == 0 && n == 4, "padding is optional");
    free(TAKE_PTR(d));
    ok(mc_base64_decode("Z", 1, &d, &n) < 0, "a single leftover character is refused");
    ok(mc_base64_decode("Zm9v!!!!", 8, &d, &n) < 0, "non-base64 characters are refused");
}

/* A KEXINIT packet as a server sends it: length, padding, message 20, cookie, name-lists. */
static struct mc_buf
kexinit_packet(const char *kex, const char *hostkeys, uint8_t msg)
{
    struct mc_buf payload = MC_BUF_INIT;
    mc_buf_putc(&payload, (char)msg);
    mc_buf_append(&payload, "0123456789abcdef", 16);
    prov_wire_put_string(&payload, kex, strlen(kex));
    prov_wire_put_string(&payload, hostkeys, strlen(hostkeys));
    for (int i = 0; i < 8; i++)
        prov_wire_put_string(&payload, "x", 1);
    mc_buf_putc(&payload, 0);
    prov_wire_put_u32(&payload, 0);
    uint8_t padding = 4;
    struct mc_buf pkt = MC_BUF_INIT;
    prov_wire_put_u32(&pkt, (uint32_t)(payload.len + padding + 1));
    mc_buf_putc(&pkt, (char)padding);
    mc_buf_append(&pkt, payload.data, payload.len);
    mc_buf_append(&pkt, "\0\0\0\0", padding);
    mc_buf_free(&payload);
    return pkt;
}

static void
test_kexinit(void)
{
    _cleanup_buf_ struct mc_buf pkt =
            kexinit_packet("curve25519-sha256,ecdh-sha2-nistp256", "rsa-sha2-512,rsa-sha2-256", 20);
    struct prov_kexinit k = { 0 };
    struct mc_error *err = NULL;
    ok(prov_kexinit_parse((uint8_t *)pkt.data, pkt.len, &k, &err) == 0, "KEXINIT parsed");
    is_str(k.hostkeys, "rsa-sha2-512,rsa-sha2-256", "host key algorithms");
    is_str(k.kex, "curve25519-sha256,ecdh-sha2-nistp256", "kex algorithms");
    ok(prov_namelist_has(k.hostkeys, "rsa-sha2-256") && !prov_namelist_has(k.hostkeys, "rsa-sha2"),
       "name-list lookup matches whole names");
    prov_kexinit_clear(&k);

    for (size_t cut = 0; cut < pkt.len; cut += 7) {
        struct prov_kexinit t = { 0 };
        bool refused = prov_kexinit_parse((uint8_t *)pkt.data, cut, &t, &err) < 0;
        prov_kexinit_clear(&t);
        mc_error_free(err);
        err = NULL;
        if (!refused) {
            ok(false, "truncated packet (%zu bytes) refused", cut);
            return;
        }
    }
    ok(true, "every truncation of the packet is refused");
    _cleanup_buf_ struct mc_buf other = kexinit_packet("a", "b", 21);
    ok(prov_kexinit_parse((uint8_t *)other.data, other.len, &k, &err) < 0 &&
               strstr(err->message, "not KEXINIT"),
       "another message type is refused");
    mc_error_free(err);
}

static void
test_knownhosts(void)
{
    const char *b64 = "AAAAC3NzaC1lZDI1NTE5AAAAIOUsvlAGCEqgNXicM04vwPy4wW5RuPcOuY3beIY6Womr";
    struct prov_hostkey k = { 0 };
    struct mc_error *err = NULL;
    _cleanup_free_ char *text = xasprintf("# pinned by machine\n\n[10.0.0.1]:2222 ssh-ed25519 %s\n"
                                          "10.0.0.1 ecdsa-sha2-nistp256 %s\n",
                                          b64, "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAA");
    is_int(prov_knownhosts_find(text, NULL, &k, &err), 1, "a pinned key is found");
    is_str(k.type, "ssh-ed25519", "the first entry when no type is asked");
    _cleanup_free_ char *fp = prov_hostkey_fingerprint(k.blob, k.len);
    is_str(fp, "SHA256:BYFaYNraNQhMSrjXBIBECgDCc6Gj/kVjlanFoMd+2hk",
           "fingerprint as ssh-keygen -l prints it");
    _cleanup_free_ char *line = prov_knownhosts_line("10.0.0.9", 22, &k);
    _cleanup_free_ char *want = xasprintf("10.0.0.9 ssh-ed25519 %s\n", b64);
    is_str(line, want, "a line for port 22");
    _cleanup_free_ char *line2 = prov_knownhosts_line("10.0.0.9", 2222, &k);
    ok(startswith(line2, "[10.0.0.9]:2222 ssh-ed25519 "), "a line for another port");
    prov_hostkey_clear(&k);
    is_int(prov_knownhosts_find(text, "ecdsa-sha2-nistp256", &k, &err), 1, "found by type");
    is_str(k.type, "ecdsa-sha2-nistp256", "the entry of the asked type");
    prov_hostkey_clear(&k);
    is_int(prov_knownhosts_find("# nothing\n", NULL, &k, &err), 0, "nothing pinned");
    is_int(prov_knownhosts_find("10.0.0.1 ssh-ed25519\n", NULL, &k, &err), -1,
           "a line without a key is malformed");
    mc_error_free(err);
    err = NULL;
    is_int(prov_knownhosts_find("h ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOUs\n", NULL, &k, &err), -1,
           "a blob whose type differs from the line's is malformed");
    mc_error_free(err);
}

int
main(void)
{
    test_base64();
    test_kexinit();
    test_knownhosts();
    return tap_done();
}
