/* The server side of mutual TLS for tcp listeners. */
#ifndef ENG_API_TLS_H
#define ENG_API_TLS_H

#include <openssl/ssl.h>

#include "error.h"

/* A server context: TLS 1.3, or TLS 1.2 with ECDHE and AES-GCM only; the certificate chain
 * and key from cert_path/key_path; client certificates required and verified against
 * ca_path. No session cache or tickets (each handshake is full; nothing grows). Returns NULL
 * with err filled (naming the file) on failure; the caller owns the context. */
SSL_CTX *eng_tls_server_ctx(const char *ca_path, const char *cert_path, const char *key_path,
                            struct mc_error **err);

/* The cipher list offered for TLS 1.2 (exposed for tests). */
extern const char eng_tls12_ciphers[];

#endif
