/* machine: create container hosts anywhere and run containers on them.
 *
 * `machine [global flags] VERB [flags] [NAME...]`. This file parses the global flags, runs the
 * verb from the command table (commands.c for machine-full, front.c for the machine front,
 * docs/adr/0011), and is the only place that turns a struct mc_error into text and an exit
 * code (0 success, 1 failure, 2 usage error, 3 pre-create check failed). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

static const struct cli_flag global_flags[] = {
    { .name = "storage-path",
      .short_name = 's',
      .type = CLI_STRING,
      .metavar = "PATH",
      .env = "MACHINE_STORAGE_PATH",
      .dflt = "~/.machine",
      .help = "the store: machine records, keys and certificates" },
    { .name = "host",
      .short_name = 'H',
      .type = CLI_STRING,
      .metavar = "URL|NAME",
      .help = "the engine to talk to for one command: tcp://..., unix://... or a machine" },
    { .name = "debug",
      .short_name = 'D',
      .type = CLI_BOOL,
      .env = "MACHINE_DEBUG",
      .help = "log debug lines to stderr" },
    { .name = "quiet", .short_name = 'q', .type = CLI_BOOL, .help = "print no progress lines" },
    { .name = "help", .short_name = 'h', .type = CLI_BOOL, .help = "print this help" },
    { .name = "version", .short_name = 'v', .type = CLI_BOOL, .help = "print the version" },
    { 0 },
};

/* Exit codes of DESIGN.md §8, by error code; anything else is 1. */
static const struct {
    enum mc_error_code code;
    int exit_code;
} exit_codes[] = {
    { MC_ERR_USAGE, 2 },
    { MC_ERR_PRECREATE, 3 },
};

void
cli_usage(FILE *f)
{
    fprintf(f, "Usage: machine [OPTIONS] COMMAND [ARGS...]\n\n"
               "Create container hosts anywhere and run containers on them.\n\n"
               "Options:\n");
    for (size_t i = 0; global_flags[i].name; i++) {
        const struct cli_flag *g = &global_flags[i];
        _cleanup_free_ char *left = xasprintf("-%c, --%s%s%s", g->short_name, g->name,
                                              g->metavar ? " " : "", g->metavar ? g->metavar : "");
        fprintf(f, "  %-28s %s%s%s%s\n", left, g->help, g->env ? " [$" : "", g->env ? g->env : "",
                g->env ? "]" : "");
    }
    fprintf(f, "\nCommands:\n");
    const struct cli_command *const *commands = cli_commands();
    for (size_t i = 0; commands[i]; i++)
        fprintf(f, "  %-18s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\nRun 'machine COMMAND --help' for more about a command.\n");
}

static int
exit_code_of(const struct mc_error *e)
{
    for (size_t i = 0; i < ELEMENTSOF(exit_codes); i++)
        if (e->code == exit_codes[i].code)
            return exit_codes[i].exit_code;
    return 1;
}

/* The one place an error becomes text and an exit code. A usage error also shows the usage
 * of the command (or of machine). */
static int
report(const struct mc_error *e, const struct cli_command *cmd)
{
    fprintf(stderr, "machine: %s\n", e->message);
    if (e->code == MC_ERR_USAGE && cmd)
        fprintf(stderr, "Usage: machine %s %s\nRun 'machine %s --help' for more.\n", cmd->name,
                cmd->usage, cmd->name);
    else if (e->code == MC_ERR_USAGE)
        fprintf(stderr, "Usage: machine [OPTIONS] COMMAND [ARGS...]\nRun 'machine --help' for "
                        "the commands.\n");
    return exit_code_of(e);
}

static const char *
env_get(const char *name)
{
    return getenv(name);
}

static int
run_verb(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv,
         struct mc_error **err)
{
    _cleanup_(cli_flagset_clear) struct cli_flagset set = { 0 };
    cli_command_flags(cmd, &set);
    _cleanup_free_ char *what = xasprintf("machine %s", cmd->name);
    _cleanup_(cli_args_clear) struct cli_args args = { 0 };
    if (cli_args_parse(&set, argc, argv, cmd->stop_at_positional, what, &args, err) < 0)
        return -1;
    if (cli_args_has(&args, "help") && args.rest_index >= argc) {
        cli_command_help(cmd, ctx->out);
        return 0;
    }
    return cmd->run(ctx, cmd, &args, err);
}

static void
set_globals(struct cli_ctx *ctx, const struct cli_args *g, char **storage)
{
    const char *path = cli_args_get(g, "storage-path", env_get);
    *storage = path ? xstrdup(path) : store_default_path();
    ctx->storage_path = *storage;
    ctx->host = cli_args_get(g, "host", env_get);
    ctx->debug = cli_args_bool(g, "debug", env_get);
    ctx->quiet = cli_args_bool(g, "quiet", env_get);
    if (ctx->debug)
        mc_log_set_level(MC_LOG_DEBUG);
}

static int
run(int argc, char **argv, struct cli_ctx *ctx, struct mc_error **err)
{
    _cleanup_(cli_flagset_clear) struct cli_flagset gset = { 0 };
    cli_flagset_add(&gset, global_flags);
    _cleanup_(cli_args_clear) struct cli_args g = { 0 };
    if (cli_args_parse(&gset, argc - 1, argv + 1, true, "machine", &g, err) < 0)
        return -1;
    _cleanup_free_ char *storage = NULL;
    set_globals(ctx, &g, &storage);
    if (cli_args_has(&g, "version") && !g.positional[0])
        return cli_cmd_version.run(ctx, &cli_cmd_version, &g, err);
    const struct cli_command *cmd = g.positional[0] ? cli_command_find(g.positional[0]) : NULL;
    if (!cmd)
        return cli_verb_missing(ctx, g.positional[0], argv, err);
    ctx->verb = cmd;
    int first = 1 + g.rest_index + 1;
    return run_verb(ctx, cmd, argc - first, argv + first, err);
}

int
main(int argc, char **argv)
{
    mc_log_init("machine");
    signal(SIGPIPE, SIG_IGN);
    struct cli_ctx ctx = {
        .progname = "machine",
        .out = stdout,
        .err = stderr,
        .getenv = env_get,
    };
    struct mc_error *err = NULL;
    int rc = run(argc, argv, &ctx, &err);
    if (rc < 0) {
        rc = report(err, ctx.verb);
        if (ctx.error_exit)
            rc = ctx.error_exit;
    }
    mc_error_free(err);
    store_free(ctx.store);
    if (fflush(stdout) != 0 && rc == 0)
        rc = 1;
    return rc;
}
