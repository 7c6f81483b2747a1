/* SSH keys: the OpenSSH private-key encoder against a file made by ssh-keygen, and the
 * classification (and refusal) of keys users bring. */
#include <string.h>
#include <sys/stat.h>

#include "fs.h"
#include "sshkey.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

/* tests/data/provision/ed25519-vector was made by `ssh-keygen -t ed25519 -N '' -C
 * vector@machine`; these are its seed, public key and check word. */
static const char seed_hex[] = "df9feaceb7da8022e27ee0299f304dda0537beef912d8ea76028ecb410174743";
static const char pub_hex[] = "e5f564cb22cdb644e0520abacf833f19db6a47766b927bd0562aadf1fb58f9eb";
static const uint32_t check = 0xcb031767;

static void
test_encoder_matches_ssh_keygen(void)
{
    uint8_t seed[32], pub[32];
    ok(mc_hex_decode(seed_hex, seed, 32) == 0 && mc_hex_decode(pub_hex, pub, 32) == 0,
       "vector decoded");
    _cleanup_free_ char *pem = prov_sshkey_ed25519_pem(seed, pub, "vector@machine", check);
    _cleanup_free_ char *path = tap_data_path("provision/ed25519-vector");
    _cleanup_free_ char *want = NULL;
    struct mc_error *err = NULL;
    ok(mc_read_file(path, 65536, &want, NULL, &err) == 0, "ssh-keygen's file read");
    is_str(pem, want, "private key file identical to ssh-keygen's, byte for byte");
    _cleanup_free_ char *line = prov_sshkey_ed25519_public_line(pub, "vector@machine");
    _cleanup_free_ char *pubpath = tap_data_path("provision/ed25519-vector.pub");
    _cleanup_free_ char *wantpub = NULL;
    ok(mc_read_file(pubpath, 65536, &wantpub, NULL, &err) == 0, "ssh-keygen's .pub read");
    is_str(line, wantpub, "public key line identical to ssh-keygen's");
    mc_error_free(err);
}

static void
test_generate(void)
{
    _cleanup_free_ char *path = mc_path_join(tap_tmpdir(), "id_ed25519");
    struct mc_error *err = NULL;
    ok(prov_sshkey_generate(path, "h1@machine", &err) == 0, "key generated");
    enum mc_key_type t = MC_KEY_UNKNOWN;
    ok(mc_sshkey_check_file(path, &t, &err) == 0 && t == MC_KEY_ED25519,
       "the generated key classifies as ed25519");
    struct stat st;
    ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "private key is 0600");
    _cleanup_free_ char *pub = xasprintf("%s.pub", path);
    _cleanup_free_ char *line = NULL;
    ok(mc_read_file(pub, 4096, &line, NULL, &err) == 0 && startswith(line, "ssh-ed25519 AAAAC3") &&
               endswith(line, " h1@machine\n"),
       "public key line written");
    mc_error_free(err);
}

static void
refused(const char *text, const char *needle, const char *name)
{
    struct mc_error *err = NULL;
    enum mc_key_type t;
    ok(mc_sshkey_classify(text, strlen(text), "KEY", &t, &err) < 0 && err &&
               strstr(err->message, needle),
       "%s refused: %s", name, err ? err->message : "(accepted)");
    mc_error_free(err);
}

static void
test_classify(void)
{
    refused("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n",
            "libssh2 1.10 signs only with ssh-rsa (SHA-1), which OpenSSH 8.8", "PEM RSA key");
    /* An OpenSSH-format RSA key: magic, none, none, "", 1, public blob ("ssh-rsa" ...). */
    refused("-----BEGIN OPENSSH PRIVATE KEY-----\n"
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAACwAAAAdzc2gtcnNh\n"
            "-----END OPENSSH PRIVATE KEY-----\n",
            "RSA key", "OpenSSH RSA key");
    /* The same header with cipher aes256-ctr and an ed25519 public key. */
    refused("-----BEGIN OPENSSH PRIVATE KEY-----\n"
            "b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAAAAAAAEAAAAPAAAAC3NzaC1lZDI1NT"
            "E5\n"
            "-----END OPENSSH PRIVATE KEY-----\n",
            "passphrase", "encrypted key");
    refused("-----BEGIN DSA PRIVATE KEY-----\nx\n-----END DSA PRIVATE KEY-----\n", "DSA",
            "DSA key");
    refused("ssh-ed25519 AAAAC3Nza foo\n", "public key", "public key file");
    refused("hello\n", "not an SSH private key", "random text");
    struct mc_error *err = NULL;
    enum mc_key_type t = MC_KEY_UNKNOWN;
    const char *ec = "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n";
    ok(mc_sshkey_classify(ec, strlen(ec), "KEY", &t, &err) == 0 && t == MC_KEY_ECDSA,
       "a PEM ECDSA key is accepted");
    mc_error_free(err);
}

int
main(void)
{
    test_encoder_matches_ssh_keygen();
    test_generate();
    test_classify();
    return tap_done();
}
