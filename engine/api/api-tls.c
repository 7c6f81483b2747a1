/* Mutual TLS: see api-tls.h. */
#include <openssl/err.h>
#include <openssl/x509.h>

#include "api-tls.h"
#include "crypto.h"

const char eng_tls12_ciphers[] = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                 "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";

static int
load_files(SSL_CTX *ctx, const char *ca_path, const char *cert_path, const char *key_path,
           struct mc_error **err)
{
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1)
        return mc_error_openssl(err, "Cannot load the server certificate '%s'", cert_path);
    if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1)
        return mc_error_openssl(err, "Cannot load the server key '%s'", key_path);
    if (SSL_CTX_check_private_key(ctx) != 1)
        return mc_error_openssl(err, "The key '%s' does not match the certificate '%s'", key_path,
                                cert_path);
    if (SSL_CTX_load_verify_locations(ctx, ca_path, NULL) != 1)
        return mc_error_openssl(err, "Cannot load the CA certificate '%s'", ca_path);
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca_path);
    if (!names)
        return mc_error_openssl(err, "Cannot read the CA names in '%s'", ca_path);
    SSL_CTX_set_client_CA_list(ctx, names);
    return 0;
}

SSL_CTX *
eng_tls_server_ctx(const char *ca_path, const char *cert_path, const char *key_path,
                   struct mc_error **err)
{
    _cleanup_(SSL_CTX_freep) SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        mc_error_openssl(err, "Cannot create a TLS context");
        return NULL;
    }
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, eng_tls12_ciphers) != 1) {
        mc_error_openssl(err, "Cannot restrict the TLS versions and ciphers");
        return NULL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                     SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET |
                                     SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_verify_depth(ctx, 4);
    if (load_files(ctx, ca_path, cert_path, key_path, err) < 0)
        return NULL;
    ERR_clear_error();
    return TAKE_PTR(ctx);
}
