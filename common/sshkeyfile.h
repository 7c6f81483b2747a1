/* SSH private key files as users bring them: which kind of key a file holds, and a refusal
 * with the reason for the kinds machine cannot use (RSA, DSA, passphrase-protected, PKCS#8).
 * Pure parsing (plus one file read), shared by the generic driver's pre-create check and the
 * provisioner's SSH client. */
#ifndef MC_SSHKEYFILE_H
#define MC_SSHKEYFILE_H

#include <stddef.h>

#include "error.h"

enum mc_key_type {
    MC_KEY_UNKNOWN,
    MC_KEY_ED25519,
    MC_KEY_ECDSA,
    MC_KEY_RSA,
    MC_KEY_DSA,
};

/* "ed25519", "ECDSA", "RSA", ... */
const char *mc_key_type_name(enum mc_key_type t);

/* Classifies a private key file's text: ed25519 and ECDSA keys are usable. RSA keys (libssh2
 * 1.10 signs only with ssh-rsa, SHA-1, which OpenSSH 8.8 and later reject), DSA keys, keys
 * protected by a passphrase and PKCS#8 files are refused with the reason (MC_ERR_UNSUPPORTED);
 * anything else is MC_ERR_INVALID. text is NUL-terminated at len; what names the key in
 * messages. */
int mc_sshkey_classify(const char *text, size_t len, const char *what, enum mc_key_type *ret,
                       struct mc_error **err);
/* Reads a private key file (at most 64 KB) and classifies it. */
int mc_sshkey_check_file(const char *path, enum mc_key_type *ret, struct mc_error **err);

#endif
