/* OpenSSL at its boundary: digests, random bytes, error conversion and handle cleanup. */
#ifndef MC_CRYPTO_H
#define MC_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "error.h"

MC_DEFINE_CLEANUP(EVP_PKEY, EVP_PKEY_free)
MC_DEFINE_CLEANUP(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
MC_DEFINE_CLEANUP(EVP_MD_CTX, EVP_MD_CTX_free)
MC_DEFINE_CLEANUP(X509, X509_free)
MC_DEFINE_CLEANUP(X509_STORE, X509_STORE_free)
MC_DEFINE_CLEANUP(X509_STORE_CTX, X509_STORE_CTX_free)
MC_DEFINE_CLEANUP(BIO, BIO_free_all)
MC_DEFINE_CLEANUP(SSL_CTX, SSL_CTX_free)
MC_DEFINE_CLEANUP(SSL, SSL_free)
MC_DEFINE_CLEANUP(BIGNUM, BN_free)

#define MC_SHA256_LEN     32
#define MC_SHA256_HEX_LEN 64

/* Fills an error from OpenSSL's error queue (emptying it): "<message>: <openssl reason>". */
int mc_error_openssl(struct mc_error **err, const char *fmt, ...) _printf_(2, 3);

/* One-shot SHA-256; hex gets 65 bytes (lower-case, NUL-terminated). */
void mc_sha256(const void *data, size_t len, uint8_t out[MC_SHA256_LEN]);
void mc_sha256_hex(const void *data, size_t len, char hex[MC_SHA256_HEX_LEN + 1]);
/* SHA-256 of a whole file, as hex. */
int mc_sha256_file_hex(const char *path, char hex[MC_SHA256_HEX_LEN + 1], struct mc_error **err);
/* HMAC-SHA256. */
void mc_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                    uint8_t out[MC_SHA256_LEN]);

/* Streaming SHA-256. */
struct mc_sha256_ctx {
    EVP_MD_CTX *md;
};
void mc_sha256_init(struct mc_sha256_ctx *c);
void mc_sha256_update(struct mc_sha256_ctx *c, const void *data, size_t len);
/* Finishes and frees the context. */
void mc_sha256_final_hex(struct mc_sha256_ctx *c, char hex[MC_SHA256_HEX_LEN + 1]);
void mc_sha256_free(struct mc_sha256_ctx *c);

/* Standard base64 with padding, newly allocated. */
char *mc_base64_encode(const void *data, size_t len);
/* Decodes base64 (padding optional; no whitespace). Returns -1 on bad input; *ret is owned by
 * the caller. */
int mc_base64_decode(const char *s, size_t slen, uint8_t **ret, size_t *ret_len);

/* Cryptographically random bytes; aborts if the generator fails. */
void mc_random_bytes(void *buf, size_t n);
/* n random bytes as 2n hex characters in a new string. */
char *mc_random_hex(size_t n);

#endif
