/* machine run's pure part: the flags as a struct, and the body of POST /containers/create that
 * they make (what the stock docker CLI sends for the same flags, minus fields left at their
 * defaults). Unit-tested without an engine. */
#ifndef MC_CLI_RUN_H
#define MC_CLI_RUN_H

#include <stdbool.h>

#include <jansson.h>

#include "cli-args.h"
#include "error.h"

struct cli_run_opts {
    const char *image;
    char *const *cmd; /* after the image; may be empty */
    bool detach, rm, interactive, tty, privileged, read_only;
    const char *name, *workdir, *user, *network, *memory, *cpus, *pids_limit, *restart, *hostname;
    const char *entrypoint; /* NULL: the image's */
    char *const *env;
    char *const *volumes;
    char *const *labels;
    char *const *cap_add;
    char *const *cap_drop;
    char *const *security_opt;
    int console_rows, console_cols; /* -t on a terminal: its size; 0: unknown */
};

/* Fills o from parsed run flags (borrowed strings); positionals are IMAGE [COMMAND [ARG...]]. */
int cli_run_opts_from_args(const struct cli_args *args, struct cli_run_opts *ret,
                           struct mc_error **err);

/* The create body; "-e KEY" without a value takes KEY from get (dropped when unset). Bad
 * values (--memory, --cpus, --restart, ...) are MC_ERR_USAGE errors naming the flag. */
json_t *cli_run_create_body(const struct cli_run_opts *o, cli_getenv_fn get, struct mc_error **err);

/* Parses --cpus ("1.5") into nano-CPUs. */
int cli_parse_cpus(const char *s, int64_t *ret);
/* Parses --restart ("no", "always", "unless-stopped", "on-failure[:N]") into a RestartPolicy. */
int cli_parse_restart(const char *s, json_t **ret, struct mc_error **err);

#endif
