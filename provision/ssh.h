/* SSH sessions over libssh2: one session per host, reused for every command.
 *
 * A session is connected with prov_ssh_connect() (TCP, curve25519 key exchange, the host key
 * checked against the machine's pinned key or pinned at first contact, public-key auth with an
 * ed25519 or ECDSA key) and then runs any number of exec channels, each with its exit status,
 * stdout and stderr kept apart, optional stdin (bytes or a streamed file), and a deadline.
 * Keepalives are sent while waiting. Everything here is non-blocking underneath: no call waits
 * past its deadline. */
#ifndef MC_SSH_H
#define MC_SSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>

#include "error.h"

struct prov_ssh_config {
    const char *host;
    int port;                /* 0: 22 */
    const char *user;        /* NULL: root */
    const char *identity;    /* the private key file (ed25519 or ECDSA, OpenSSH or PEM form) */
    const char *known_hosts; /* the pinned host key; written at first contact */
    int keepalive_s;         /* 0: 15 */
};

struct prov_ssh;

/* Connects, checks the host key and authenticates, all before deadline_ms (mc_now_ms()).
 * Errors: MC_ERR_TIMEOUT (no answer; the message says whether TCP or SSH was silent),
 * MC_ERR_IO (refused, unreachable, reset), MC_ERR_CONFLICT (the host key differs from the
 * pinned one: never retried), MC_ERR_UNSUPPORTED (RSA-only host, RSA key), MC_ERR_AUTH (key
 * refused). *ret is owned by the caller (prov_ssh_free). */
int prov_ssh_connect(const struct prov_ssh_config *c, int64_t deadline_ms, struct prov_ssh **ret,
                     struct mc_error **err);
/* Disconnects and frees; NULL is accepted. */
void prov_ssh_free(struct prov_ssh *s);
MC_DEFINE_CLEANUP(struct prov_ssh, prov_ssh_free)
#define _cleanup_ssh_ _cleanup_(prov_ssh_freep)

/* "host:port" of the session (for messages). */
const char *prov_ssh_peer(const struct prov_ssh *s);
/* The user logged in. */
const char *prov_ssh_user(const struct prov_ssh *s);

/* What an exec reads and where its output goes. */
struct prov_ssh_io {
    const void *in; /* stdin bytes (in_fd < 0), or NULL for none */
    size_t in_len;
    int in_fd;          /* >= 0: stdin streamed from this fd until EOF; set -1 otherwise */
    int out_fd, err_fd; /* >= 0: output written there as it comes; -1: captured */
    bool pty;           /* request a terminal (stderr then arrives on stdout) */
    const char *term;   /* TERM for the pty ("xterm" when NULL) */
    int cols, rows;     /* its size */
    volatile sig_atomic_t *winch; /* set by a SIGWINCH handler: the size is asked again */
    void (*get_size)(int *cols, int *rows);
    void (*progress)(void *userdata, uint64_t sent); /* stdin bytes sent so far */
    void *userdata;
    int64_t deadline_ms; /* 0: none */
};
#define PROV_SSH_IO_INIT                        \
    {                                           \
        .in_fd = -1, .out_fd = -1, .err_fd = -1 \
    }

struct prov_ssh_result {
    int status;   /* exit status; 128+N when killed by signal N; -1 when the host sent none */
    char *signal; /* the signal's name ("KILL") or NULL */
    char *out;    /* captured stdout (NUL-terminated) or NULL */
    size_t out_len;
    char *err; /* captured stderr or NULL */
    size_t err_len;
};
void prov_ssh_result_clear(struct prov_ssh_result *r);

/* Runs cmd (a shell command line, NULL for a login shell) in a new channel. A non-zero exit is
 * not an error here (it is in res->status); -1 means the command could not run or finish
 * (MC_ERR_TIMEOUT past the deadline, MC_ERR_IO when the connection failed). */
int prov_ssh_exec(struct prov_ssh *s, const char *cmd, const struct prov_ssh_io *io,
                  struct prov_ssh_result *res, struct mc_error **err);

/* The host key algorithms a server offers, read from its KEXINIT over a fresh TCP connection
 * (used to explain a failed key exchange). Newly allocated comma-separated list. */
char *prov_ssh_probe_hostkeys(const char *host, int port, int64_t deadline_ms,
                              struct mc_error **err);

#endif
