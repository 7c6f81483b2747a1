/* Helpers shared by the verbs: help text, the store, names, output, the active machine. */
#include <stdlib.h>
#include <string.h>

#include "cli-format.h"
#include "cli.h"
#include "fs.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

static const struct cli_flag help_flag[] = {
    { .name = "help", .short_name = 'h', .type = CLI_BOOL, .help = "print this help" },
    { 0 },
};

void
cli_command_flags(const struct cli_command *cmd, struct cli_flagset *ret)
{
    cli_flagset_add(ret, cmd->flags);
    if (cmd->more_flags)
        cmd->more_flags(ret);
    cli_flagset_add(ret, help_flag);
}

static void
flag_help(FILE *f, const struct cli_flag *fl)
{
    _cleanup_free_ char *left = NULL;
    const char *mv = fl->type == CLI_BOOL ? "" : fl->metavar ? fl->metavar : "VALUE";
    if (fl->short_name)
        left = xasprintf("-%c, --%s%s%s", fl->short_name, fl->name, *mv ? " " : "", mv);
    else
        left = xasprintf("    --%s%s%s", fl->name, *mv ? " " : "", mv);
    fprintf(f, "  %-36s %s", left, fl->help ? fl->help : "");
    if (fl->dflt)
        fprintf(f, " (default %s)", fl->dflt);
    if (fl->env)
        fprintf(f, " [$%s]", fl->env);
    if (fl->type == CLI_STRINGS)
        fprintf(f, " (repeatable)");
    fputc('\n', f);
}

void
cli_command_help(const struct cli_command *cmd, FILE *f)
{
    fprintf(f, "Usage: machine %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
    if (cmd->description)
        fprintf(f, "\n%s\n", cmd->description);
    _cleanup_(cli_flagset_clear) struct cli_flagset set = { 0 };
    cli_command_flags(cmd, &set);
    fprintf(f, "\nOptions:\n");
    for (size_t i = 0; i < set.n; i++)
        if (!set.flags[i]->hidden)
            flag_help(f, set.flags[i]);
}

const struct cli_command *
cli_command_find(const char *name)
{
    const struct cli_command *const *commands = cli_commands();
    for (size_t i = 0; commands[i]; i++)
        if (streq(commands[i]->name, name))
            return commands[i];
    return NULL;
}

int
cli_store(struct cli_ctx *ctx, struct store **ret, struct mc_error **err)
{
    if (!ctx->store && store_open(ctx->storage_path, &ctx->store, err) < 0)
        return -1;
    *ret = ctx->store;
    return 0;
}

char **
cli_names(const struct cli_args *args)
{
    if (args->positional[0])
        return strv_copy(args->positional);
    char **l = strv_new();
    strv_add(&l, "default");
    return l;
}

int
cli_one_name(const struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
             const char **ret, struct mc_error **err)
{
    if (args->positional[0] && args->positional[1])
        return mc_error_set(err, MC_ERR_USAGE, "'machine %s' takes one machine name, not %zu",
                            cmd->name, strv_length(args->positional));
    *ret = args->positional[0] ? args->positional[0] : "default";
    return 0;
}

void
cli_progress(void *userdata, const char *msg)
{
    struct cli_ctx *ctx = userdata;
    if (!ctx->quiet)
        fprintf(ctx->err, "%s\n", msg);
}

void
cli_print(struct cli_ctx *ctx, const char *text)
{
    if (text)
        fputs(text, ctx->out);
}

int
cli_print_formatted(struct cli_ctx *ctx, const struct cli_args *args, const json_t *items,
                    bool list, bool *ret_done, struct mc_error **err)
{
    const char *format = cli_args_get(args, "format", NULL);
    *ret_done = format != NULL;
    if (!format)
        return 0;
    _cleanup_free_ char *out = cli_format_output(format, items, list, err);
    if (!out)
        return -1;
    cli_print(ctx, out);
    return 0;
}

/* True when DOCKER_HOST points at the machine's recorded URL. */
static bool
host_matches(struct store *s, const char *name, const char *docker_host)
{
    _cleanup_store_machine_ struct store_machine *m = NULL;
    _cleanup_error_ struct mc_error *e = NULL;
    if (store_machine_load(s, name, &m, &e) < 0)
        return false;
    return streq_ptr(store_machine_url(m), docker_host);
}

char *
cli_active_machine(struct cli_ctx *ctx, struct mc_error **err)
{
    const char *docker_host = ctx->getenv("DOCKER_HOST");
    const char *name = ctx->getenv("MACHINE_NAME");
    if (isempty(docker_host))
        return NULL;
    struct store *s = NULL;
    if (cli_store(ctx, &s, err) < 0)
        return NULL;
    /* MACHINE_NAME tells apart machines that share a URL (several none machines). */
    if (!isempty(name) && host_matches(s, name, docker_host))
        return xstrdup(name);
    _cleanup_strv_ char **names = NULL;
    if (store_list_names(s, &names, err) < 0)
        return NULL;
    STRV_FOREACH (n, names)
        if (host_matches(s, *n, docker_host))
            return xstrdup(*n);
    return NULL;
}

int
cli_machine_client_config(struct cli_ctx *ctx, const struct store_machine *m,
                          struct client_config *ret, struct mc_error **err)
{
    struct store *s = NULL;
    if (cli_store(ctx, &s, err) < 0)
        return -1;
    const char *url = store_machine_url(m);
    if (!url)
        return mc_error_set(err, MC_ERR_CONFLICT,
                            "machine '%s' has no engine URL yet (its create is %s)", m->name,
                            store_create_state_to_string(m->create_state));
    bool tls = store_machine_has_tls(s, m->name);
    *ret = (struct client_config){
        .host = xstrdup(url),
        .tls = tls,
        .tls_verify = tls,
        .cert_path = tls ? store_machine_path(s, m->name, "certs") : NULL,
    };
    return 0;
}

int
cli_engine_config(struct cli_ctx *ctx, struct client_config *ret, struct mc_error **err)
{
    if (ctx->host && !strstr(ctx->host, "://")) {
        struct store *s = NULL;
        _cleanup_store_machine_ struct store_machine *m = NULL;
        if (cli_store(ctx, &s, err) < 0 || store_machine_load(s, ctx->host, &m, err) < 0)
            return mc_error_prefix(err, "-H: ");
        return cli_machine_client_config(ctx, m, ret, err);
    }
    if (client_config_from_env(ctx->getenv, ret, err) < 0)
        return -1;
    if (ctx->host) {
        free(ret->host);
        ret->host = xstrdup(ctx->host);
    }
    return 0;
}

int
cli_each_name(struct cli_ctx *ctx, const struct cli_args *args, cli_name_fn fn, void *userdata,
              struct mc_error **err)
{
    _cleanup_strv_ char **names = cli_names(args);
    _cleanup_strv_ char **failures = strv_new();
    struct mc_error *first = NULL;
    STRV_FOREACH (n, names) {
        struct mc_error *e = NULL;
        if (fn(ctx, *n, userdata, &e) == 0)
            continue;
        strv_add(&failures, e->message);
        if (!first)
            first = e;
        else
            mc_error_free(e);
    }
    if (!first)
        return 0;
    if (strv_length(failures) == 1)
        return mc_error_propagate(err, first);
    mc_error_free(first);
    _cleanup_free_ char *all = strv_join(failures, "\n");
    return mc_error_set(err, MC_ERR_FAILED, "%zu of %zu machines failed:\n%s",
                        strv_length(failures), strv_length(names), all);
}
