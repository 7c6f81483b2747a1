#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "crypto.h"
#include "fs.h"
#include "sshkeyfile.h"
#include "strbuf.h"
#include "util.h"
#include "wire.h"
#include "xalloc.h"

#define OPENSSH_MAGIC     "openssh-key-v1"
#define OPENSSH_PEM_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define OPENSSH_PEM_END   "-----END OPENSSH PRIVATE KEY-----"
#define KEY_FILE_MAX      (64 * 1024)

static const char *const key_type_names[] = {
    [MC_KEY_UNKNOWN] = "unknown", [MC_KEY_ED25519] = "ed25519", [MC_KEY_ECDSA] = "ECDSA",
    [MC_KEY_RSA] = "RSA",         [MC_KEY_DSA] = "DSA",
};

const char *
mc_key_type_name(enum mc_key_type t)
{
    return key_type_names[t];
}

static int
refuse_rsa(const char *what, struct mc_error **err)
{
    return mc_error_set(err, MC_ERR_UNSUPPORTED,
                        "The SSH key '%s' is an RSA key, which machine refuses: libssh2 1.10 "
                        "signs only with ssh-rsa (SHA-1), which OpenSSH 8.8 and later reject. Use "
                        "an ed25519 key (ssh-keygen -t ed25519) or an ECDSA key.",
                        what);
}

static int
classify_type_name(const char *name, size_t n, const char *what, enum mc_key_type *ret,
                   struct mc_error **err)
{
    if (n == strlen("ssh-ed25519") && memcmp(name, "ssh-ed25519", n) == 0)
        *ret = MC_KEY_ED25519;
    else if (n > strlen("ecdsa-sha2-") && memcmp(name, "ecdsa-sha2-", strlen("ecdsa-sha2-")) == 0)
        *ret = MC_KEY_ECDSA;
    else if (n == strlen("ssh-rsa") && memcmp(name, "ssh-rsa", n) == 0)
        return refuse_rsa(what, err);
    else if (n == strlen("ssh-dss") && memcmp(name, "ssh-dss", n) == 0)
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "The SSH key '%s' is a DSA key, which OpenSSH no longer accepts; use "
                            "an ed25519 or ECDSA key.",
                            what);
    else
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "The SSH key '%s' has the unsupported type '%.*s'; use an ed25519 or "
                            "ECDSA key.",
                            what, (int)n, name);
    return 0;
}

/* The body of an OpenSSH private-key file: its cipher and its first public key's type. */
static int
classify_openssh(const char *text, size_t len, const char *what, enum mc_key_type *ret,
                 struct mc_error **err)
{
    const char *b = memmem(text, len, OPENSSH_PEM_BEGIN, strlen(OPENSSH_PEM_BEGIN));
    const char *e = memmem(text, len, OPENSSH_PEM_END, strlen(OPENSSH_PEM_END));
    if (!b || !e || e < b)
        return mc_error_set(err, MC_ERR_INVALID, "The SSH key '%s' is not a complete OpenSSH key.",
                            what);
    _cleanup_buf_ struct mc_buf b64 = MC_BUF_INIT;
    for (const char *p = b + strlen(OPENSSH_PEM_BEGIN); p < e; p++)
        if (*p != '\n' && *p != '\r' && *p != ' ')
            mc_buf_putc(&b64, *p);
    _cleanup_free_ uint8_t *raw = NULL;
    size_t rawlen = 0;
    if (mc_base64_decode(b64.data ? b64.data : "", b64.len, &raw, &rawlen) < 0 ||
        rawlen < sizeof(OPENSSH_MAGIC) || memcmp(raw, OPENSSH_MAGIC, sizeof(OPENSSH_MAGIC)) != 0)
        return mc_error_set(err, MC_ERR_INVALID, "The SSH key '%s' is not a valid OpenSSH key.",
                            what);
    struct mc_wire w = { raw + sizeof(OPENSSH_MAGIC), rawlen - sizeof(OPENSSH_MAGIC), false };
    bool plain = mc_wire_string_eq(&w, "none");
    const uint8_t *blob, *type;
    size_t bloblen, typelen;
    uint32_t nkeys = 0;
    mc_wire_string(&w, &blob, &bloblen); /* kdf name */
    mc_wire_string(&w, &blob, &bloblen); /* kdf options */
    mc_wire_u32(&w, &nkeys);
    mc_wire_string(&w, &blob, &bloblen);
    if (w.failed || nkeys != 1)
        return mc_error_set(err, MC_ERR_INVALID, "The SSH key '%s' is a malformed OpenSSH key.",
                            what);
    struct mc_wire pw = { blob, bloblen, false };
    if (!mc_wire_string(&pw, &type, &typelen))
        return mc_error_set(err, MC_ERR_INVALID, "The SSH key '%s' is a malformed OpenSSH key.",
                            what);
    if (classify_type_name((const char *)type, typelen, what, ret, err) < 0)
        return -1;
    if (!plain)
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "The SSH key '%s' is protected by a passphrase, which machine cannot "
                            "ask for; use a key without one (for example a copy made with "
                            "ssh-keygen -p -N '').",
                            what);
    return 0;
}

int
mc_sshkey_classify(const char *text, size_t len, const char *what, enum mc_key_type *ret,
                   struct mc_error **err)
{
    if (memmem(text, len, OPENSSH_PEM_BEGIN, strlen(OPENSSH_PEM_BEGIN)))
        return classify_openssh(text, len, what, ret, err);
    if (memmem(text, len, "-----BEGIN RSA PRIVATE KEY-----", 31))
        return refuse_rsa(what, err);
    if (memmem(text, len, "-----BEGIN DSA PRIVATE KEY-----", 31))
        return classify_type_name("ssh-dss", 7, what, ret, err);
    if (memmem(text, len, "ENCRYPTED", 9) && memmem(text, len, "-----BEGIN", 10))
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "The SSH key '%s' is protected by a passphrase, which machine cannot "
                            "ask for; use a key without one.",
                            what);
    if (memmem(text, len, "-----BEGIN EC PRIVATE KEY-----", 30)) {
        *ret = MC_KEY_ECDSA;
        return 0;
    }
    if (memmem(text, len, "-----BEGIN PRIVATE KEY-----", 27))
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "The SSH key '%s' is in PKCS#8 form; rewrite it in the OpenSSH format "
                            "with ssh-keygen -p -f '%s' (an ed25519 or ECDSA key).",
                            what, what);
    if (startswith(text, "ssh-") || startswith(text, "ecdsa-"))
        return mc_error_set(err, MC_ERR_INVALID,
                            "'%s' is a public key; give the private key file instead.", what);
    return mc_error_set(err, MC_ERR_INVALID, "'%s' is not an SSH private key.", what);
}

int
mc_sshkey_check_file(const char *path, enum mc_key_type *ret, struct mc_error **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (mc_read_file(path, KEY_FILE_MAX, &text, &len, err) < 0)
        return mc_error_prefix(err, "SSH key: ");
    int r = mc_sshkey_classify(text, len, path, ret, err);
    explicit_bzero(text, len);
    return r;
}
