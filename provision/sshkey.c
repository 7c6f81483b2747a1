#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "crypto.h"
#include "fs.h"
#include "sshkey.h"
#include "sshwire.h"
#include "strbuf.h"
#include "util.h"
#include "xalloc.h"

#define OPENSSH_MAGIC     "openssh-key-v1"
#define OPENSSH_PEM_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define OPENSSH_PEM_END   "-----END OPENSSH PRIVATE KEY-----"

static void
put_ed25519_public(struct mc_buf *b, const uint8_t pub[32])
{
    prov_wire_put_string(b, "ssh-ed25519", strlen("ssh-ed25519"));
    prov_wire_put_string(b, pub, 32);
}

char *
prov_sshkey_ed25519_public_line(const uint8_t pub[32], const char *comment)
{
    _cleanup_buf_ struct mc_buf blob = MC_BUF_INIT;
    put_ed25519_public(&blob, pub);
    _cleanup_free_ char *b64 = mc_base64_encode(blob.data, blob.len);
    return xasprintf("ssh-ed25519 %s%s%s\n", b64, isempty(comment) ? "" : " ",
                     comment ? comment : "");
}

/* The private section: check words, the key, the comment, then padding to 8 bytes. */
static void
put_private_section(struct mc_buf *b, const uint8_t seed[32], const uint8_t pub[32],
                    const char *comment, uint32_t check)
{
    prov_wire_put_u32(b, check);
    prov_wire_put_u32(b, check);
    put_ed25519_public(b, pub);
    uint8_t priv[64];
    memcpy(priv, seed, 32);
    memcpy(priv + 32, pub, 32);
    prov_wire_put_string(b, priv, sizeof(priv));
    explicit_bzero(priv, sizeof(priv));
    prov_wire_put_string(b, comment ? comment : "", comment ? strlen(comment) : 0);
    for (uint8_t pad = 1; b->len % 8 != 0; pad++)
        mc_buf_putc(b, (char)pad);
}

char *
prov_sshkey_ed25519_pem(const uint8_t seed[32], const uint8_t pub[32], const char *comment,
                        uint32_t check)
{
    _cleanup_buf_ struct mc_buf file = MC_BUF_INIT;
    _cleanup_buf_ struct mc_buf pubblob = MC_BUF_INIT;
    _cleanup_buf_ struct mc_buf priv = MC_BUF_INIT;
    mc_buf_append(&file, OPENSSH_MAGIC, sizeof(OPENSSH_MAGIC)); /* with its NUL */
    prov_wire_put_string(&file, "none", 4);                     /* cipher */
    prov_wire_put_string(&file, "none", 4);                     /* kdf */
    prov_wire_put_string(&file, "", 0);                         /* kdf options */
    prov_wire_put_u32(&file, 1);
    put_ed25519_public(&pubblob, pub);
    prov_wire_put_string(&file, pubblob.data, pubblob.len);
    put_private_section(&priv, seed, pub, comment, check);
    prov_wire_put_string(&file, priv.data, priv.len);
    explicit_bzero(priv.data, priv.len);

    char *b64 = mc_base64_encode(file.data, file.len);
    explicit_bzero(file.data, file.len);
    _cleanup_buf_ struct mc_buf pem = MC_BUF_INIT;
    mc_buf_puts(&pem, OPENSSH_PEM_BEGIN "\n");
    for (size_t off = 0, n = strlen(b64); off < n; off += 70)
        mc_buf_printf(&pem, "%.70s\n", b64 + off);
    mc_buf_puts(&pem, OPENSSH_PEM_END "\n");
    mc_free_secret(b64, strlen(b64));
    return mc_buf_steal(&pem);
}

int
prov_sshkey_generate(const char *path, const char *comment, struct mc_error **err)
{
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
    _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &key) != 1)
        return mc_error_openssl(err, "Cannot generate an ed25519 key");
    uint8_t seed[32], pub[32];
    size_t slen = sizeof(seed), plen = sizeof(pub);
    if (EVP_PKEY_get_raw_private_key(key, seed, &slen) != 1 ||
        EVP_PKEY_get_raw_public_key(key, pub, &plen) != 1 || slen != 32 || plen != 32)
        return mc_error_openssl(err, "Cannot read the new ed25519 key");
    uint32_t check;
    mc_random_bytes(&check, sizeof(check));
    char *pem = prov_sshkey_ed25519_pem(seed, pub, comment, check);
    explicit_bzero(seed, sizeof(seed));
    int r = mc_write_file_atomic(path, pem, strlen(pem), 0600, err);
    mc_free_secret(pem, strlen(pem));
    if (r < 0)
        return -1;
    _cleanup_free_ char *line = prov_sshkey_ed25519_public_line(pub, comment);
    _cleanup_free_ char *pubpath = xasprintf("%s.pub", path);
    return mc_write_file_atomic(pubpath, line, strlen(line), 0644, err);
}

void
prov_hostkey_clear(struct prov_hostkey *k)
{
    free(k->type);
    free(k->blob);
    k->type = NULL;
    k->blob = NULL;
    k->len = 0;
}

char *
prov_hostkey_fingerprint(const uint8_t *blob, size_t len)
{
    uint8_t d[MC_SHA256_LEN];
    mc_sha256(blob, len, d);
    _cleanup_free_ char *b64 = mc_base64_encode(d, sizeof(d));
    size_t n = strlen(b64);
    while (n > 0 && b64[n - 1] == '=')
        b64[--n] = '\0';
    return xasprintf("SHA256:%s", b64);
}

char *
prov_knownhosts_line(const char *host, int port, const struct prov_hostkey *k)
{
    _cleanup_free_ char *b64 = mc_base64_encode(k->blob, k->len);
    if (port == 22)
        return xasprintf("%s %s %s\n", host, k->type, b64);
    return xasprintf("[%s]:%d %s %s\n", host, port, k->type, b64);
}

/* Splits "host type base64 [comment]"; returns false on a malformed line. */
static bool
parse_line(char *line, struct prov_hostkey *ret)
{
    char *save = NULL;
    char *host = strtok_r(line, " \t", &save);
    char *type = strtok_r(NULL, " \t", &save);
    char *b64 = strtok_r(NULL, " \t", &save);
    if (!host || !type || !b64)
        return false;
    uint8_t *blob;
    size_t n;
    if (mc_base64_decode(b64, strlen(b64), &blob, &n) < 0)
        return false;
    /* The blob starts with the type string: a mismatch is a corrupt line. */
    struct mc_wire w = { blob, n, false };
    if (!mc_wire_string_eq(&w, type)) {
        free(blob);
        return false;
    }
    ret->type = xstrdup(type);
    ret->blob = blob;
    ret->len = n;
    return true;
}

int
prov_knownhosts_find(const char *text, const char *type, struct prov_hostkey *ret,
                     struct mc_error **err)
{
    struct prov_hostkey first = { 0 };
    int lineno = 0;
    for (const char *p = text; p && *p; lineno++) {
        const char *nl = strchr(p, '\n');
        _cleanup_free_ char *line = xstrndup(p, nl ? (size_t)(nl - p) : strlen(p));
        p = nl ? nl + 1 : NULL;
        const char *s = line + strspn(line, " \t\r");
        if (*s == '\0' || *s == '#')
            continue;
        struct prov_hostkey k = { 0 };
        if (!parse_line(line, &k)) {
            prov_hostkey_clear(&first);
            return mc_error_set(err, MC_ERR_INVALID, "line %d of the pinned host keys is malformed",
                                lineno + 1);
        }
        if (type && streq(k.type, type)) {
            prov_hostkey_clear(&first);
            *ret = k;
            return 1;
        }
        if (!first.type)
            first = k;
        else
            prov_hostkey_clear(&k);
    }
    if (!first.type)
        return 0;
    *ret = first;
    return 1;
}
