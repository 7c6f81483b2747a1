/* Certificates (OpenSSL 3): the store CA, the store's one client certificate, and server
 * certificates for hosts (DESIGN.md §3, §5 step 5).
 *
 * Keys are ECDSA P-256 by default (RSA 2048 on request), serials are 128 random bits, notBefore
 * is backdated a few minutes against clock skew, and validity is configurable. Files:
 *   certs/ca.pem ca-key.pem cert.pem key.pem       the store's CA and client certificate
 *   machines/NAME/certs/ca.pem cert.pem key.pem    copies for DOCKER_CERT_PATH
 *   machines/NAME/server.pem server-key.pem        the host's server certificate
 * Keys are 0600, certificates 0644, every file is written atomically. The pure functions
 * (prov_cert_*) work in memory; the store functions (prov_certs_*) read and write files. */
#ifndef MC_CERTS_H
#define MC_CERTS_H

#include <stdbool.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "error.h"
#include "store.h"

/* Certificates live this long unless asked otherwise (as Docker Machine's). */
#define PROV_CERT_DEFAULT_DAYS 1080
/* notBefore is this far in the past. */
#define PROV_CERT_BACKDATE_SECONDS 300

enum prov_cert_key {
    PROV_CERT_KEY_ECDSA_P256, /* the default */
    PROV_CERT_KEY_RSA_2048,
};

enum prov_cert_kind {
    PROV_CERT_CA,     /* CA:TRUE, keyCertSign + cRLSign */
    PROV_CERT_CLIENT, /* CA:FALSE, digitalSignature, clientAuth */
    PROV_CERT_SERVER, /* CA:FALSE, digitalSignature, serverAuth, SANs */
};

struct prov_cert_opts {
    enum prov_cert_kind kind;
    const char *common_name;
    int validity_days; /* <= 0: PROV_CERT_DEFAULT_DAYS */
    char *const *sans; /* server: IP addresses and DNS names, told apart here; NULL-terminated */
    enum prov_cert_key key_type;
};

/* A new private key of the given type. */
EVP_PKEY *prov_cert_new_key(enum prov_cert_key type, struct mc_error **err);
/* A certificate for key, signed by issuer_key as issuer (both NULL: self-signed, for a CA). */
X509 *prov_cert_make(const struct prov_cert_opts *o, EVP_PKEY *key, X509 *issuer,
                     EVP_PKEY *issuer_key, struct mc_error **err);
/* PEM text (newly allocated): a certificate; a private key (PKCS#8, unencrypted). */
char *prov_cert_pem(X509 *cert);
char *prov_key_pem(EVP_PKEY *key);
/* Parses PEM text. */
X509 *prov_cert_from_pem(const char *pem, const char *what, struct mc_error **err);
EVP_PKEY *prov_key_from_pem(const char *pem, const char *what, struct mc_error **err);

/* Makes the store's CA and client certificate when they do not exist yet, under the CA lock
 * (parallel creates make exactly one). An incomplete set left by a crash is made again. */
int prov_certs_ensure_ca(struct store *s, struct mc_error **err);
/* Loads the store CA (ensuring it first). The caller owns both. */
int prov_certs_load_ca(struct store *s, X509 **ret_cert, EVP_PKEY **ret_key, struct mc_error **err);
/* Copies the store's ca.pem, cert.pem and key.pem into machines/NAME/certs (DOCKER_CERT_PATH). */
int prov_certs_install_client(struct store *s, const char *name, struct mc_error **err);
/* Issues a server certificate for machine name (CN = name; SANs: sans plus "localhost" and
 * 127.0.0.1) signed by the store CA, written to machines/NAME/server.pem and server-key.pem.
 * validity_days <= 0: the default. */
int prov_certs_issue_server(struct store *s, const char *name, char *const *sans, int validity_days,
                            struct mc_error **err);

#endif
