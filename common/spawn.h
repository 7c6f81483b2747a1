/* Running local programs without a shell: argv in, exit status and captured output out. */
#ifndef MC_SPAWN_H
#define MC_SPAWN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct mc_spawn_result {
    int status; /* the exit code, or 128+signal when killed by a signal */
    char *out;  /* captured stdout (NUL-terminated), or NULL when not captured */
    size_t out_len;
    char *err; /* captured stderr, or NULL */
    size_t err_len;
};

struct mc_spawn_opts {
    const char *const *env; /* NULL: inherit */
    const char *cwd;        /* NULL: inherit */
    const void *input;      /* written to stdin, then stdin is closed; NULL: /dev/null */
    size_t input_len;
    int timeout_ms; /* <= 0: none; on expiry the child is SIGKILLed (MC_ERR_TIMEOUT) */
    int capture;    /* bit 0: stdout, bit 1: stderr; uncaptured streams are inherited */
};

#define MC_SPAWN_CAPTURE_OUT 1
#define MC_SPAWN_CAPTURE_ERR 2

/* Runs argv[0] (looked up in PATH) and waits; the caller ignores SIGPIPE when it passes input. A non-zero exit is not an error here: it is in
 * res->status. Returns -1 only when the program cannot run or times out. */
int mc_spawn(char *const *argv, const struct mc_spawn_opts *opts, struct mc_spawn_result *res,
             struct mc_error **err);
void mc_spawn_result_free(struct mc_spawn_result *res);

#endif
