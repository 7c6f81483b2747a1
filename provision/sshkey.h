/* SSH keys: the machine's own ed25519 key (generated here, written in the OpenSSH private-key
 * format that ssh-keygen and libssh2 read) and the host key pinned in a machine's known_hosts.
 * Keys users bring are checked by common/sshkeyfile.h. */
#ifndef MC_SSHKEY_H
#define MC_SSHKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "sshkeyfile.h"

/* Generates an ed25519 key pair: path (0600, OpenSSH private-key format, unencrypted) and
 * path.pub (0644, "ssh-ed25519 AAAA... comment"). Both are written atomically. */
int prov_sshkey_generate(const char *path, const char *comment, struct mc_error **err);

/* The OpenSSH private-key file for an ed25519 key (pure): seed is the 32-byte private key,
 * pub the 32-byte public key, check the 32-bit check word. Newly allocated PEM text. */
char *prov_sshkey_ed25519_pem(const uint8_t seed[32], const uint8_t pub[32], const char *comment,
                              uint32_t check);
/* "ssh-ed25519 BASE64 comment" for a public key (pure), newly allocated. */
char *prov_sshkey_ed25519_public_line(const uint8_t pub[32], const char *comment);

/* A host key as the server sent it: its algorithm name and the key blob. */
struct prov_hostkey {
    char *type; /* "ssh-ed25519", "ecdsa-sha2-nistp256", ... */
    uint8_t *blob;
    size_t len;
};
void prov_hostkey_clear(struct prov_hostkey *k);
/* "SHA256:<base64 without padding>", as OpenSSH prints it; newly allocated. */
char *prov_hostkey_fingerprint(const uint8_t *blob, size_t len);
/* The known_hosts line "HOST type base64\n" (HOST is "[host]:port" unless port is 22). */
char *prov_knownhosts_line(const char *host, int port, const struct prov_hostkey *k);
/* Finds the pinned key in known_hosts text (pure). A machine's file pins the machine's key
 * whatever address it had then, so host fields are not compared: the first entry whose type is
 * `type` wins, else (type NULL or no such entry) the first entry. Returns 1 and fills *ret when
 * found, 0 when the text pins nothing, -1 (MC_ERR_INVALID) on a malformed line. */
int prov_knownhosts_find(const char *text, const char *type, struct prov_hostkey *ret,
                         struct mc_error **err);

#endif
