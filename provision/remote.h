/* Running shell scripts on a host as root: the seam between the provisioning steps and SSH.
 *
 * The steps compose scripts (pure) and run them through a struct prov_remote. The SSH remote
 * runs each one as `sh -c SCRIPT`, through `sudo -n` when the login user is not root; the
 * recording remote (for unit tests) appends every script to a transcript compared with golden
 * files, and answers from a table of canned outputs. */
#ifndef MC_REMOTE_H
#define MC_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ssh.h"
#include "strbuf.h"

/* What a script reads on stdin: bytes, or a local file streamed in 256 KB pieces. */
struct prov_input {
    const void *data;
    size_t len;
    const char *path; /* a local file instead of data */
    void (*progress)(void *userdata, uint64_t sent);
    void *userdata;
};

struct prov_remote;
struct prov_remote_ops {
    int (*run)(struct prov_remote *r, const char *script, bool as_root, const struct prov_input *in,
               int64_t deadline_ms, struct prov_ssh_result *res, struct mc_error **err);
};

struct prov_remote {
    const struct prov_remote_ops *ops;
    struct prov_ssh *ssh; /* the SSH remote's session (borrowed) */
    bool sudo;            /* the SSH remote wraps root scripts in sudo -n */
    /* The recording remote: */
    struct mc_buf transcript;
    const struct prov_canned *canned; /* terminated by an entry with match == NULL */
};

/* A canned answer: the first entry whose match is a substring of the script answers it. */
struct prov_canned {
    const char *match;
    int status;
    const char *out;
    const char *err;
};

/* Runs script (a POSIX sh script) on the host, as root when as_root (through sudo -n for a
 * non-root login), else as the login user. A non-zero exit is in res->status. */
int prov_remote_run(struct prov_remote *r, const char *script, bool as_root,
                    const struct prov_input *in, int64_t deadline_ms, struct prov_ssh_result *res,
                    struct mc_error **err);
/* Like prov_remote_run, but a non-zero exit is an error (MC_ERR_REMOTE) quoting the script's
 * stderr (or stdout when stderr is empty): "what failed (exit N): <message>". */
int prov_remote_check(struct prov_remote *r, const char *what, const char *script, bool as_root,
                      const struct prov_input *in, int64_t deadline_ms, char **ret_out,
                      struct mc_error **err);

/* A remote over an SSH session (borrowed; it must outlive the remote). */
void prov_remote_init_ssh(struct prov_remote *r, struct prov_ssh *ssh, bool sudo);
/* A recording remote answering from canned (NULL: every script succeeds with no output). */
void prov_remote_init_recorder(struct prov_remote *r, const struct prov_canned *canned);
void prov_remote_clear(struct prov_remote *r);

/* 'text' quoted for sh (single quotes, with embedded quotes escaped), newly allocated. */
char *prov_shell_quote(const char *text);

#endif
