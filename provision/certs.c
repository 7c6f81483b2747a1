/* Certificates with OpenSSL 3 (certs.h). OpenSSL errors are converted by mc_error_openssl(). */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "certs.h"
#include "crypto.h"
#include "fs.h"
#include "log.h"
#include "strbuf.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

#define PEM_MAX (64 * 1024)

MC_DEFINE_CLEANUP(X509_NAME, X509_NAME_free)

EVP_PKEY *
prov_cert_new_key(enum prov_cert_key type, struct mc_error **err)
{
    EVP_PKEY *k = type == PROV_CERT_KEY_RSA_2048
                          ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
                          : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!k)
        mc_error_openssl(err, "cannot generate a key");
    return k;
}

static int
set_serial(X509 *cert, struct mc_error **err)
{
    _cleanup_(BN_freep) BIGNUM *bn = BN_new();
    if (!bn || !BN_rand(bn, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
        !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)))
        return mc_error_openssl(err, "cannot make a serial number");
    return 0;
}

static int
set_names(X509 *cert, const char *cn, X509 *issuer, struct mc_error **err)
{
    X509_NAME *name = X509_get_subject_name(cert);
    if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"machine", -1,
                                    -1, 0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                    0))
        return mc_error_openssl(err, "cannot set the name '%s'", cn);
    if (!X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name))
        return mc_error_openssl(err, "cannot set the issuer of '%s'", cn);
    return 0;
}

static bool
is_dns_name(const char *s)
{
    if (isempty(s) || strlen(s) > 253)
        return false;
    for (const char *c = s; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("-.*", *c))
            return false;
    return true;
}

/* "IP:192.0.2.10,DNS:localhost,...": each SAN classified as an address or a name. */
static char *
san_value(char *const *sans, struct mc_error **err)
{
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    unsigned char addr[16];
    for (size_t i = 0; sans && sans[i]; i++) {
        const char *s = sans[i];
        bool ip = inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
        if (!ip && !is_dns_name(s)) {
            mc_error_set(err, MC_ERR_INVALID,
                         "'%s' is neither an IP address nor a DNS name for a certificate", s);
            return NULL;
        }
        mc_buf_printf(&b, "%s%s:%s", b.len ? "," : "", ip ? "IP" : "DNS", s);
    }
    return b.len ? mc_buf_steal(&b) : NULL;
}

struct ext {
    int nid;
    const char *value;
};

static int
add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value, struct mc_error **err)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (!ext)
        return mc_error_openssl(err, "cannot make the extension %s = '%s'", OBJ_nid2sn(nid), value);
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : mc_error_openssl(err, "cannot add the extension %s", OBJ_nid2sn(nid));
}

/* The extensions of each kind, in order (the subject key id before the authority's). */
static const struct ext ca_exts[] = {
    { NID_basic_constraints, "critical,CA:TRUE,pathlen:0" },
    { NID_key_usage, "critical,keyCertSign,cRLSign" },
    { NID_subject_key_identifier, "hash" },
    { 0, NULL },
};
static const struct ext client_exts[] = {
    { NID_basic_constraints, "critical,CA:FALSE" },
    { NID_ext_key_usage, "clientAuth" },
    { NID_subject_key_identifier, "hash" },
    { NID_authority_key_identifier, "keyid:always" },
    { 0, NULL },
};
static const struct ext server_exts[] = {
    { NID_basic_constraints, "critical,CA:FALSE" },
    { NID_ext_key_usage, "serverAuth" },
    { NID_subject_key_identifier, "hash" },
    { NID_authority_key_identifier, "keyid:always" },
    { 0, NULL },
};

static int
add_extensions(X509 *cert, X509 *issuer, const struct prov_cert_opts *o, EVP_PKEY *key,
               struct mc_error **err)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
    const struct ext *exts = o->kind == PROV_CERT_CA       ? ca_exts
                             : o->kind == PROV_CERT_CLIENT ? client_exts
                                                           : server_exts;
    for (size_t i = 0; exts[i].nid; i++)
        if (add_ext(cert, &ctx, exts[i].nid, exts[i].value, err) < 0)
            return -1;
    if (o->kind != PROV_CERT_CA) {
        /* RSA key exchange needs keyEncipherment; ECDSA only signs. */
        bool rsa = EVP_PKEY_is_a(key, "RSA");
        if (add_ext(cert, &ctx, NID_key_usage,
                    rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature",
                    err) < 0)
            return -1;
    }
    if (o->kind != PROV_CERT_SERVER)
        return 0;
    _cleanup_free_ char *san = san_value(o->sans, err);
    if (!san)
        return err && *err ? -1
                           : mc_error_set(err, MC_ERR_INVALID,
                                          "a server certificate needs "
                                          "at least one name");
    return add_ext(cert, &ctx, NID_subject_alt_name, san, err);
}

X509 *
prov_cert_make(const struct prov_cert_opts *o, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
               struct mc_error **err)
{
    int days = o->validity_days > 0 ? o->validity_days : PROV_CERT_DEFAULT_DAYS;
    _cleanup_(X509_freep) X509 *cert = X509_new();
    if (!cert || !X509_set_version(cert, 2)) {
        mc_error_openssl(err, "cannot start a certificate");
        return NULL;
    }
    if (set_serial(cert, err) < 0 || set_names(cert, o->common_name, issuer, err) < 0)
        return NULL;
    if (!X509_gmtime_adj(X509_getm_notBefore(cert), -PROV_CERT_BACKDATE_SECONDS) ||
        !X509_time_adj_ex(X509_getm_notAfter(cert), days, 0, NULL) || !X509_set_pubkey(cert, key)) {
        mc_error_openssl(err, "cannot set the validity or key of '%s'", o->common_name);
        return NULL;
    }
    if (add_extensions(cert, issuer, o, key, err) < 0)
        return NULL;
    if (!X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256())) {
        mc_error_openssl(err, "cannot sign the certificate of '%s'", o->common_name);
        return NULL;
    }
    return TAKE_PTR(cert);
}

static char *
bio_text(BIO *b)
{
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    return xstrndup(data, n > 0 ? (size_t)n : 0);
}

char *
prov_cert_pem(X509 *cert)
{
    _cleanup_(BIO_free_allp) BIO *b = BIO_new(BIO_s_mem());
    if (!b || !PEM_write_bio_X509(b, cert))
        abort(); /* memory BIOs fail only when memory does */
    return bio_text(b);
}

char *
prov_key_pem(EVP_PKEY *key)
{
    _cleanup_(BIO_free_allp) BIO *b = BIO_new(BIO_s_mem());
    if (!b || !PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL))
        abort();
    return bio_text(b);
}

X509 *
prov_cert_from_pem(const char *pem, const char *what, struct mc_error **err)
{
    _cleanup_(BIO_free_allp) BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *c = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    if (!c)
        mc_error_openssl(err, "%s is not a PEM certificate", what);
    return c;
}

EVP_PKEY *
prov_key_from_pem(const char *pem, const char *what, struct mc_error **err)
{
    _cleanup_(BIO_free_allp) BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    if (!k)
        mc_error_openssl(err, "%s is not a PEM private key", what);
    return k;
}

/* ---- files ---- */

static int
write_pem(const char *path, char *pem, bool secret, struct mc_error **err)
{
    size_t len = strlen(pem);
    int r = mc_write_file_atomic(path, pem, len, secret ? 0600 : 0644, err);
    if (secret)
        explicit_bzero(pem, len);
    return r;
}

static int
write_cert_and_key(const char *cert_path, const char *key_path, X509 *cert, EVP_PKEY *key,
                   struct mc_error **err)
{
    _cleanup_free_ char *kp = prov_key_pem(key);
    _cleanup_free_ char *cp = prov_cert_pem(cert);
    if (write_pem(key_path, kp, true, err) < 0)
        return -1;
    return write_pem(cert_path, cp, false, err);
}

static int
read_cert(const char *path, X509 **ret, struct mc_error **err)
{
    _cleanup_free_ char *pem = NULL;
    if (mc_read_file(path, PEM_MAX, &pem, NULL, err) < 0)
        return -1;
    _cleanup_free_ char *what = xasprintf("'%s'", path);
    *ret = prov_cert_from_pem(pem, what, err);
    return *ret ? 0 : -1;
}

static int
read_key(const char *path, EVP_PKEY **ret, struct mc_error **err)
{
    char *pem = NULL;
    size_t len = 0;
    if (mc_read_file(path, PEM_MAX, &pem, &len, err) < 0)
        return -1;
    _cleanup_free_ char *what = xasprintf("'%s'", path);
    *ret = prov_key_from_pem(pem, what, err);
    mc_free_secret(pem, len);
    return *ret ? 0 : -1;
}

static const char *const ca_files[] = { "ca-key.pem", "key.pem", "cert.pem", "ca.pem" };

/* The set is complete when all four files exist; ca.pem is written last. */
static bool
ca_complete(struct store *s)
{
    for (size_t i = 0; i < ELEMENTSOF(ca_files); i++) {
        _cleanup_free_ char *p = store_certs_path(s, ca_files[i]);
        if (!mc_path_exists(p))
            return false;
    }
    return true;
}

static int
make_ca(struct store *s, struct mc_error **err)
{
    _cleanup_free_ char *ca = store_certs_path(s, "ca.pem");
    _cleanup_free_ char *ca_key = store_certs_path(s, "ca-key.pem");
    _cleanup_free_ char *cert = store_certs_path(s, "cert.pem");
    _cleanup_free_ char *key = store_certs_path(s, "key.pem");
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *cak = prov_cert_new_key(PROV_CERT_KEY_ECDSA_P256, err);
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *ck =
            cak ? prov_cert_new_key(PROV_CERT_KEY_ECDSA_P256, err) : NULL;
    if (!ck)
        return -1;
    struct prov_cert_opts cao = { .kind = PROV_CERT_CA, .common_name = "machine store CA" };
    struct prov_cert_opts co = { .kind = PROV_CERT_CLIENT, .common_name = "machine client" };
    _cleanup_(X509_freep) X509 *cac = prov_cert_make(&cao, cak, NULL, NULL, err);
    _cleanup_(X509_freep) X509 *cc = cac ? prov_cert_make(&co, ck, cac, cak, err) : NULL;
    if (!cc)
        return -1;
    _cleanup_free_ char *cak_pem = prov_key_pem(cak);
    if (write_pem(ca_key, cak_pem, true, err) < 0 || write_cert_and_key(cert, key, cc, ck, err) < 0)
        return -1;
    _cleanup_free_ char *cac_pem = prov_cert_pem(cac);
    return write_pem(ca, cac_pem, false, err);
}

int
prov_certs_ensure_ca(struct store *s, struct mc_error **err)
{
    if (ca_complete(s))
        return 0;
    _cleanup_close_ int fd = store_lock_ca(s, -1, err);
    if (fd < 0)
        return -1;
    if (ca_complete(s)) /* made by another process while we waited */
        return 0;
    log_info("creating the store CA and client certificate in '%s'", s->certs_dir);
    if (make_ca(s, err) < 0)
        return mc_error_prefix(err, "store CA: ");
    return 0;
}

int
prov_certs_load_ca(struct store *s, X509 **ret_cert, EVP_PKEY **ret_key, struct mc_error **err)
{
    if (prov_certs_ensure_ca(s, err) < 0)
        return -1;
    _cleanup_free_ char *ca = store_certs_path(s, "ca.pem");
    _cleanup_free_ char *ca_key = store_certs_path(s, "ca-key.pem");
    _cleanup_(X509_freep) X509 *c = NULL;
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
    if (read_cert(ca, &c, err) < 0 || read_key(ca_key, &k, err) < 0)
        return mc_error_prefix(err, "store CA: ");
    if (X509_check_private_key(c, k) != 1)
        return mc_error_set(err, MC_ERR_INVALID, "store CA: '%s' does not match '%s'", ca_key, ca);
    *ret_cert = TAKE_PTR(c);
    *ret_key = TAKE_PTR(k);
    return 0;
}

static int
copy_file(const char *from, const char *to, mode_t mode, struct mc_error **err)
{
    char *data = NULL;
    size_t len = 0;
    if (mc_read_file(from, PEM_MAX, &data, &len, err) < 0)
        return -1;
    int r = mc_write_file_atomic(to, data, len, mode, err);
    mc_free_secret(data, len);
    return r;
}

int
prov_certs_install_client(struct store *s, const char *name, struct mc_error **err)
{
    static const struct {
        const char *file;
        mode_t mode;
    } files[] = { { "ca.pem", 0644 }, { "cert.pem", 0644 }, { "key.pem", 0600 } };
    if (prov_certs_ensure_ca(s, err) < 0)
        return -1;
    _cleanup_free_ char *dir = store_machine_path(s, name, "certs");
    if (mc_mkdir_p(dir, 0700, err) < 0)
        return -1;
    for (size_t i = 0; i < ELEMENTSOF(files); i++) {
        _cleanup_free_ char *from = store_certs_path(s, files[i].file);
        _cleanup_free_ char *to = mc_path_join(dir, files[i].file);
        if (copy_file(from, to, files[i].mode, err) < 0)
            return mc_error_prefix(err, "client certificate of machine '%s': ", name);
    }
    return 0;
}

int
prov_certs_issue_server(struct store *s, const char *name, char *const *sans, int validity_days,
                        struct mc_error **err)
{
    _cleanup_(X509_freep) X509 *ca = NULL;
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *ca_key = NULL;
    if (prov_certs_load_ca(s, &ca, &ca_key, err) < 0)
        return -1;
    _cleanup_strv_ char **all = strv_copy(sans);
    if (!strv_contains(all, "localhost"))
        strv_add(&all, "localhost");
    if (!strv_contains(all, "127.0.0.1"))
        strv_add(&all, "127.0.0.1");
    struct prov_cert_opts o = {
        .kind = PROV_CERT_SERVER,
        .common_name = name,
        .validity_days = validity_days,
        .sans = all,
    };
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = prov_cert_new_key(o.key_type, err);
    _cleanup_(X509_freep) X509 *cert = key ? prov_cert_make(&o, key, ca, ca_key, err) : NULL;
    if (!cert)
        return mc_error_prefix(err, "server certificate of machine '%s': ", name);
    _cleanup_free_ char *cert_path = store_machine_path(s, name, "server.pem");
    _cleanup_free_ char *key_path = store_machine_path(s, name, "server-key.pem");
    return write_cert_and_key(cert_path, key_path, cert, key, err);
}
