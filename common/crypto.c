#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "crypto.h"
#include "util.h"
#include "xalloc.h"

int
mc_error_openssl(struct mc_error **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);

    unsigned long e = ERR_get_error();
    char reason[256] = "unknown OpenSSL error";
    if (e)
        ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    return mc_error_set(err, MC_ERR_FAILED, "%s: %s", msg, reason);
}

void
mc_sha256(const void *data, size_t len, uint8_t out[MC_SHA256_LEN])
{
    SHA256(data, len, out);
}

void
mc_sha256_hex(const void *data, size_t len, char hex[MC_SHA256_HEX_LEN + 1])
{
    uint8_t d[MC_SHA256_LEN];
    SHA256(data, len, d);
    mc_hex_encode(d, sizeof(d), hex);
}

void
mc_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
               uint8_t out[MC_SHA256_LEN])
{
    unsigned int n = MC_SHA256_LEN;
    if (!HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n))
        abort();
}

void
mc_sha256_init(struct mc_sha256_ctx *c)
{
    c->md = EVP_MD_CTX_new();
    if (!c->md || EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1)
        abort();
}

void
mc_sha256_update(struct mc_sha256_ctx *c, const void *data, size_t len)
{
    if (EVP_DigestUpdate(c->md, data, len) != 1)
        abort();
}

void
mc_sha256_final_hex(struct mc_sha256_ctx *c, char hex[MC_SHA256_HEX_LEN + 1])
{
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(c->md, d, &n) != 1)
        abort();
    mc_hex_encode(d, n, hex);
    mc_sha256_free(c);
}

void
mc_sha256_free(struct mc_sha256_ctx *c)
{
    EVP_MD_CTX_free(c->md);
    c->md = NULL;
}

int
mc_sha256_file_hex(const char *path, char hex[MC_SHA256_HEX_LEN + 1], struct mc_error **err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mc_error_sys(err, errno, "cannot open '%s'", path);
    struct mc_sha256_ctx c;
    mc_sha256_init(&c);
    _cleanup_free_ char *buf = xmalloc(1 << 20);
    for (;;) {
        ssize_t n = read(fd, buf, 1 << 20);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            mc_sha256_free(&c);
            return mc_error_sys(err, e, "cannot read '%s'", path);
        }
        if (n == 0)
            break;
        mc_sha256_update(&c, buf, (size_t)n);
    }
    mc_sha256_final_hex(&c, hex);
    return 0;
}

void
mc_random_bytes(void *buf, size_t n)
{
    if (RAND_bytes(buf, (int)n) != 1)
        abort();
}

char *
mc_random_hex(size_t n)
{
    _cleanup_free_ uint8_t *b = xmalloc(n);
    char *hex = xmalloc(2 * n + 1);
    mc_random_bytes(b, n);
    mc_hex_encode(b, n, hex);
    return hex;
}

char *
mc_base64_encode(const void *data, size_t len)
{
    char *out = xmalloc(4 * ((len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

int
mc_base64_decode(const char *s, size_t slen, uint8_t **ret, size_t *ret_len)
{
    while (slen > 0 && s[slen - 1] == '=')
        slen--;
    if (slen % 4 == 1)
        return -1;
    /* EVP_DecodeBlock wants whole quanta: pad back to a multiple of 4. */
    size_t padded = (slen + 3) / 4 * 4;
    _cleanup_free_ char *in = xmalloc(padded + 1);
    memcpy(in, s, slen);
    memset(in + slen, '=', padded - slen);
    in[padded] = '\0';
    _cleanup_free_ uint8_t *out = xmalloc(padded / 4 * 3 + 1);
    int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)padded);
    if (n < 0)
        return -1;
    n -= (int)(padded - slen);
    *ret_len = (size_t)n;
    *ret = TAKE_PTR(out);
    return 0;
}
