/* Certificates: the chain verifies with OpenSSL's own verification for the right purposes,
 * key usages and SANs are as asked, serials are random 128-bit numbers, validity is
 * configurable and backdated, and the store CA is made once even by parallel processes. */
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "certs.h"
#include "crypto.h"
#include "fs.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static int
verify(X509 *ca, X509 *leaf, int purpose)
{
    _cleanup_(X509_STORE_freep) X509_STORE *st = X509_STORE_new();
    _cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_STORE_add_cert(st, ca);
    X509_STORE_CTX_init(ctx, st, leaf, NULL);
    X509_STORE_CTX_set_purpose(ctx, purpose);
    int r = X509_verify_cert(ctx);
    if (r != 1)
        tap_diag("verify: %s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    return r;
}

static int
serial_bits(X509 *c)
{
    _cleanup_(BN_freep) BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(c), NULL);
    return BN_num_bits(bn);
}

static void
test_chain(void)
{
    _cleanup_error_ struct mc_error *err = NULL;
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *cak = prov_cert_new_key(PROV_CERT_KEY_ECDSA_P256, &err);
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *ck = prov_cert_new_key(PROV_CERT_KEY_ECDSA_P256, &err);
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *sk = prov_cert_new_key(PROV_CERT_KEY_RSA_2048, &err);
    ok(cak && ck && sk, "generates ECDSA and RSA keys");
    ok(EVP_PKEY_is_a(cak, "EC") && EVP_PKEY_get_bits(cak) == 256, "the default key is P-256");
    struct prov_cert_opts cao = { .kind = PROV_CERT_CA, .common_name = "test CA" };
    struct prov_cert_opts co = { .kind = PROV_CERT_CLIENT,
                                 .common_name = "client",
                                 .validity_days = 7 };
    char *sans[] = { "192.0.2.10", "2001:db8::1", "web1.example", "localhost", NULL };
    struct prov_cert_opts so = { .kind = PROV_CERT_SERVER, .common_name = "web1", .sans = sans };
    _cleanup_(X509_freep) X509 *ca = prov_cert_make(&cao, cak, NULL, NULL, &err);
    _cleanup_(X509_freep) X509 *cl = prov_cert_make(&co, ck, ca, cak, &err);
    _cleanup_(X509_freep) X509 *sv = prov_cert_make(&so, sk, ca, cak, &err);
    ok(ca && cl && sv, "makes a CA, a client and a server certificate");
    if (!ca || !cl || !sv)
        tap_bail("%s", err ? err->message : "no certificate");

    is_int(verify(ca, cl, X509_PURPOSE_SSL_CLIENT), 1, "the client chain verifies as sslclient");
    is_int(verify(ca, sv, X509_PURPOSE_SSL_SERVER), 1, "the server chain verifies as sslserver");
    ok(verify(ca, cl, X509_PURPOSE_SSL_SERVER) != 1, "the client certificate is no server's");
    ok(verify(ca, sv, X509_PURPOSE_SSL_CLIENT) != 1, "the server certificate is no client's");
    ok(verify(cl, sv, X509_PURPOSE_SSL_SERVER) != 1, "a client certificate is no CA");

    ok(X509_check_ca(ca) >= 1, "the CA is a CA (CA:TRUE)");
    ok(X509_get_key_usage(ca) & KU_KEY_CERT_SIGN, "the CA has keyCertSign");
    ok(X509_check_ca(cl) == 0 && X509_check_ca(sv) == 0, "leaves are not CAs");
    ok(X509_get_extended_key_usage(cl) == XKU_SSL_CLIENT, "the client has clientAuth only");
    ok(X509_get_extended_key_usage(sv) == XKU_SSL_SERVER, "the server has serverAuth only");
    ok((X509_get_key_usage(cl) & KU_DIGITAL_SIGNATURE) &&
               !(X509_get_key_usage(cl) & KU_KEY_ENCIPHERMENT),
       "an ECDSA leaf signs only");
    ok(X509_get_key_usage(sv) & KU_KEY_ENCIPHERMENT, "an RSA leaf may encipher keys");

    ok(X509_check_ip_asc(sv, "192.0.2.10", 0) == 1, "SAN IPv4");
    ok(X509_check_ip_asc(sv, "2001:db8::1", 0) == 1, "SAN IPv6");
    ok(X509_check_host(sv, "web1.example", 0, 0, NULL) == 1, "SAN DNS name");
    ok(X509_check_host(sv, "localhost", 0, 0, NULL) == 1, "SAN localhost");
    ok(X509_check_ip_asc(sv, "192.0.2.11", 0) != 1, "no other address");
    ok(X509_check_host(sv, "web2.example", 0, 0, NULL) != 1, "no other name");

    int b1 = serial_bits(ca), b2 = serial_bits(cl);
    ok(b1 > 100 && b1 <= 128 && b2 > 100 && b2 <= 128, "serials are 128-bit numbers (%d, %d)", b1,
       b2);
    ok(ASN1_INTEGER_cmp(X509_get0_serialNumber(ca), X509_get0_serialNumber(cl)) != 0,
       "serials differ");

    time_t now = time(NULL);
    time_t before = now - 60, week = now + 7 * 86400 + 60;
    ok(X509_cmp_time(X509_get0_notBefore(cl), &before) < 0, "notBefore is backdated");
    ok(X509_cmp_time(X509_get0_notAfter(cl), &week) < 0, "validity is configurable (7 days)");
    time_t long_ago = now + 1000 * 86400;
    ok(X509_cmp_time(X509_get0_notAfter(sv), &long_ago) > 0, "default validity is long");

    _cleanup_free_ char *pem = prov_cert_pem(sv);
    _cleanup_(X509_freep) X509 *back = prov_cert_from_pem(pem, "test", &err);
    ok(back && X509_cmp(back, sv) == 0, "PEM round-trip of a certificate");
    _cleanup_free_ char *kpem = prov_key_pem(ck);
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *kback = prov_key_from_pem(kpem, "test", &err);
    ok(kback && EVP_PKEY_eq(kback, ck) == 1, "PEM round-trip of a key");
    ok(startswith(kpem, "-----BEGIN PRIVATE KEY-----"), "keys are PKCS#8");

    char *bad[] = { "web 1", NULL };
    struct prov_cert_opts bo = { .kind = PROV_CERT_SERVER, .common_name = "x", .sans = bad };
    _cleanup_error_ struct mc_error *e2 = NULL;
    ok(!prov_cert_make(&bo, ck, ca, cak, &e2) && e2 && strstr(e2->message, "'web 1'"),
       "a SAN that is neither address nor name is refused");
}

static int
file_mode(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static char *
read_text(const char *path)
{
    char *s = NULL;
    return mc_read_file(path, 1 << 20, &s, NULL, NULL) == 0 ? s : NULL;
}

static void
test_store(const char *root)
{
    struct store *s = NULL;
    _cleanup_error_ struct mc_error *err = NULL;
    if (store_open(root, &s, &err) < 0)
        tap_bail("store: %s", err->message);
    /* Four processes race to make the CA: exactly one set results. */
    for (int i = 0; i < 4; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(prov_certs_ensure_ca(s, NULL) == 0 ? 0 : 1);
    }
    int fails = 0, st = 0;
    for (int i = 0; i < 4; i++)
        fails += wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    is_int(fails, 0, "parallel processes all get the CA");
    _cleanup_free_ char *ca_path = store_certs_path(s, "ca.pem");
    _cleanup_free_ char *key_path = store_certs_path(s, "ca-key.pem");
    _cleanup_free_ char *ca1 = read_text(ca_path);
    ok(prov_certs_ensure_ca(s, &err) == 0, "ensure again");
    _cleanup_free_ char *ca2 = read_text(ca_path);
    ok(ca1 && ca2 && streq(ca1, ca2), "the CA is made once");
    is_int(file_mode(key_path), 0600, "the CA key is 0600");
    is_int(file_mode(ca_path), 0644, "the CA certificate is 0644");

    _cleanup_store_machine_ struct store_machine *m = store_machine_new("web1", "fake");
    store_machine_save(s, m, NULL);
    ok(prov_certs_install_client(s, "web1", &err) == 0, "installs the client files");
    _cleanup_free_ char *mkey = store_machine_path(s, "web1", "certs/key.pem");
    is_int(file_mode(mkey), 0600, "the machine's copy of the client key is 0600");
    char *sans[] = { "192.0.2.10", NULL };
    ok(prov_certs_issue_server(s, "web1", sans, 30, &err) == 0, "issues a server certificate");
    _cleanup_free_ char *spath = store_machine_path(s, "web1", "server.pem");
    _cleanup_free_ char *skey = store_machine_path(s, "web1", "server-key.pem");
    is_int(file_mode(skey), 0600, "the server key is 0600");
    _cleanup_free_ char *spem = read_text(spath);
    _cleanup_(X509_freep) X509 *sv = spem ? prov_cert_from_pem(spem, "server", &err) : NULL;
    _cleanup_(X509_freep) X509 *ca = ca2 ? prov_cert_from_pem(ca2, "ca", &err) : NULL;
    ok(sv && ca && verify(ca, sv, X509_PURPOSE_SSL_SERVER) == 1, "it chains to the store CA");
    ok(sv && X509_check_ip_asc(sv, "127.0.0.1", 0) == 1 &&
               X509_check_host(sv, "localhost", 0, 0, NULL) == 1 &&
               X509_check_ip_asc(sv, "192.0.2.10", 0) == 1,
       "it names the host's address, localhost and 127.0.0.1");

    unlink(ca_path); /* an incomplete set (as after a crash) is made again */
    ok(prov_certs_ensure_ca(s, &err) == 0, "an incomplete set is made again");
    _cleanup_free_ char *ca3 = read_text(ca_path);
    ok(ca3 && !streq(ca3, ca2), "with a new CA");
    store_free(s);
}

int
main(void)
{
    test_chain();
    _cleanup_free_ char *root = mc_path_join(tap_tmpdir(), "store");
    test_store(root);
    return tap_done();
}
