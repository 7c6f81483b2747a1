/* The `machine` front end: the command table (main.c), the shared context and helpers that
 * verbs use. One file per verb or verb group defines its const struct cli_command. */
#ifndef MC_CLI_H
#define MC_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "cli-args.h"
#include "client.h"
#include "error.h"
#include "machine-ops.h"
#include "store.h"

/* What every verb gets: the global flags and the lazily opened store. */
struct cli_ctx {
    const char *progname;
    const char *storage_path; /* --storage-path, MACHINE_STORAGE_PATH or ~/.machine */
    const char *host;         /* -H/--host: a URL or a machine name, or NULL */
    bool debug;
    bool quiet;
    FILE *out; /* stdout */
    FILE *err; /* stderr: progress and warnings */
    struct store *store;
    cli_getenv_fn getenv; /* getenv, replaceable in tests */
    int error_exit; /* non-zero: the exit code of any error the verb returns (run: 125, 126, 127) */
    const struct cli_command *verb; /* the verb being run (a group's command once chosen): the
                                     * usage shown with a usage error */
};

struct cli_command;
/* Runs a verb. Returns the exit code (0 on success), or -1 with err set. */
typedef int (*cli_run_fn)(struct cli_ctx *ctx, const struct cli_command *cmd,
                          const struct cli_args *args, struct mc_error **err);

struct cli_command {
    const char *name;
    const char *usage;            /* after "machine VERB ": "[OPTIONS] [NAME...]" */
    const char *summary;          /* one line for `machine help` */
    const char *description;      /* paragraphs for `machine VERB --help`, or NULL */
    const struct cli_flag *flags; /* the verb's own flags (NULL-name terminated), or NULL */
    bool stop_at_positional;      /* flags end at the first positional (ssh) */
    cli_run_fn run;
    /* Adds generated flags (create: every driver's options). */
    void (*more_flags)(struct cli_flagset *set);
};

/* The command table, NULL-terminated, and lookup by name: every verb in machine-full
 * (commands.c), the engine verbs in the machine front (front.c; docs/adr/0011). */
const struct cli_command *const *cli_commands(void);
const struct cli_command *cli_command_find(const char *name);
/* A verb the table lacks (name), or none (name NULL: the usage). machine-full reports an
 * unknown command or prints the usage; the front becomes machine-full with the same argv. */
int cli_verb_missing(struct cli_ctx *ctx, const char *name, char **argv, struct mc_error **err);
/* The full flag set of a command (its table, generated flags, --help). */
void cli_command_flags(const struct cli_command *cmd, struct cli_flagset *ret);
/* Prints `machine VERB --help`. */
void cli_command_help(const struct cli_command *cmd, FILE *f);
/* Prints the global usage (`machine help`). */
void cli_usage(FILE *f);

/* The verbs (one file each, or per group). */
extern const struct cli_command cli_cmd_active, cli_cmd_completion, cli_cmd_config, cli_cmd_create,
        cli_cmd_env, cli_cmd_help, cli_cmd_inspect, cli_cmd_ip, cli_cmd_kill, cli_cmd_ls,
        cli_cmd_provision, cli_cmd_regenerate_certs, cli_cmd_restart, cli_cmd_rm, cli_cmd_scp,
        cli_cmd_ssh, cli_cmd_start, cli_cmd_status, cli_cmd_stop, cli_cmd_upgrade, cli_cmd_url,
        cli_cmd_version;
/* The engine verbs (cli-engine.h). */
extern const struct cli_command cli_cmd_container, cli_cmd_container_logs, cli_cmd_container_ls,
        cli_cmd_exec, cli_cmd_image, cli_cmd_images, cli_cmd_info, cli_cmd_logs, cli_cmd_ps,
        cli_cmd_rmi, cli_cmd_run;

/* The flags --format and --help, shared by verbs. */
#define CLI_FLAG_FORMAT                                                               \
    {                                                                                 \
        .name = "format", .short_name = 'f', .type = CLI_STRING, .metavar = "FORMAT", \
        .help = "print 'json', or each item through a template such as '{{.Name}}'"   \
    }

/* Opens the store (once) at ctx->storage_path. */
int cli_store(struct cli_ctx *ctx, struct store **ret, struct mc_error **err);
/* The machine names a verb acts on: its positionals, or "default" when there are none. */
char **cli_names(const struct cli_args *args);
/* Exactly one NAME (or "default"); more is a usage error. */
int cli_one_name(const struct cli_ctx *ctx, const struct cli_command *cmd,
                 const struct cli_args *args, const char **ret, struct mc_error **err);
/* Runs fn for each name of cli_names(); every name is tried, and the failures are reported
 * together (one failure keeps its own error). */
typedef int (*cli_name_fn)(struct cli_ctx *ctx, const char *name, void *userdata,
                           struct mc_error **err);
int cli_each_name(struct cli_ctx *ctx, const struct cli_args *args, cli_name_fn fn, void *userdata,
                  struct mc_error **err);
/* A progress callback printing "... \n" to ctx->err unless --quiet. */
void cli_progress(void *userdata, const char *msg);
/* Prints text (NULL-safe) to ctx->out. */
void cli_print(struct cli_ctx *ctx, const char *text);
/* Prints a JSON value or template output per --format; false when --format was not given. */
int cli_print_formatted(struct cli_ctx *ctx, const struct cli_args *args, const json_t *items,
                        bool list, bool *ret_done, struct mc_error **err);

/* The machine name the environment points at (MACHINE_NAME, checked against DOCKER_HOST), or
 * NULL. Reads only the store. */
char *cli_active_machine(struct cli_ctx *ctx, struct mc_error **err);
/* Where the engine client connects: -H URL|NAME, else DOCKER_HOST and friends. ret_name gets
 * the machine name when one was named (may be NULL). */
int cli_engine_config(struct cli_ctx *ctx, struct client_config *ret, struct mc_error **err);
/* The client configuration of a stored machine: its recorded URL and its certs folder. */
int cli_machine_client_config(struct cli_ctx *ctx, const struct store_machine *m,
                              struct client_config *ret, struct mc_error **err);

#endif
