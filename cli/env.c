/* machine env: the shell commands that point docker and machine at a machine (DESIGN.md §6);
 * machine active: which machine the environment points at. Both read the store only. */
#include <string.h>
#include <unistd.h>

#include "cli-shell.h"
#include "cli.h"
#include "fs.h"
#include "json.h"
#include "strbuf.h"
#include "strv.h"
#include "url.h"
#include "util.h"
#include "xalloc.h"

static const struct cli_flag env_flags[] = {
    { .name = "shell",
      .type = CLI_STRING,
      .metavar = "SHELL",
      .help = "bash, zsh, sh, fish, tcsh, powershell, cmd or emacs (default: detected from the "
              "parent process, then $SHELL)" },
    { .name = "unset", .short_name = 'u', .type = CLI_BOOL, .help = "print commands that undo it" },
    { .name = "no-proxy", .type = CLI_BOOL, .help = "add the machine's address to NO_PROXY" },
    { 0 },
};

/* The shell of our parent process (what runs `eval "$(machine env)"`), else $SHELL's. */
static enum cli_shell
detect_shell(struct cli_ctx *ctx)
{
    _cleanup_free_ char *path = xasprintf("/proc/%d/comm", (int)getppid());
    _cleanup_free_ char *comm = NULL;
    _cleanup_error_ struct mc_error *e = NULL;
    if (mc_read_file(path, 256, &comm, NULL, &e) == 0) {
        comm[strcspn(comm, "\n")] = '\0';
        int sh = cli_shell_from_name(comm);
        if (sh >= 0)
            return (enum cli_shell)sh;
    }
    const char *shell = ctx->getenv("SHELL");
    int sh = isempty(shell) ? -1 : cli_shell_from_name(shell);
    return sh >= 0 ? (enum cli_shell)sh : CLI_SHELL_SH;
}

static int
pick_shell(struct cli_ctx *ctx, const struct cli_args *args, enum cli_shell *ret,
           struct mc_error **err)
{
    const char *given = cli_args_get(args, "shell", NULL);
    if (!given) {
        *ret = detect_shell(ctx);
        return 0;
    }
    int sh = cli_shell_from_name(given);
    if (sh < 0)
        return mc_error_set(err, MC_ERR_USAGE,
                            "unknown shell '%s' (bash, zsh, sh, fish, tcsh, powershell, cmd, "
                            "emacs)",
                            given);
    *ret = (enum cli_shell)sh;
    return 0;
}

/* "machine [--storage-path P] env [--shell S] [--unset] [--no-proxy] [NAME]": what the user
 * evaluates. */
static char *
hint_command(struct cli_ctx *ctx, const struct cli_args *args, const char *name, bool unset)
{
    struct mc_buf b = MC_BUF_INIT;
    mc_buf_puts(&b, "machine");
    /* The store given by flag must be named again, or the hint would read another store. */
    _cleanup_free_ char *dflt = store_default_path();
    if (ctx->storage_path && !streq(dflt, ctx->storage_path))
        mc_buf_printf(&b, " --storage-path %s", ctx->storage_path);
    mc_buf_puts(&b, " env");
    if (cli_args_has(args, "shell"))
        mc_buf_printf(&b, " --shell %s", cli_args_get(args, "shell", NULL));
    if (unset)
        mc_buf_puts(&b, " --unset");
    if (!unset && cli_args_bool(args, "no-proxy", NULL))
        mc_buf_puts(&b, " --no-proxy");
    if (!unset && !streq(name, "default"))
        mc_buf_printf(&b, " %s", name);
    return mc_buf_steal(&b);
}

/* NO_PROXY as it is, plus host (unless already listed). */
static char *
no_proxy_with(struct cli_ctx *ctx, const char *host)
{
    const char *cur = ctx->getenv("NO_PROXY");
    if (isempty(cur))
        cur = ctx->getenv("no_proxy");
    if (isempty(cur))
        return xstrdup(host);
    _cleanup_strv_ char **parts = strv_split(cur, ",");
    if (strv_contains(parts, host))
        return xstrdup(cur);
    return xasprintf("%s,%s", cur, host);
}

static int
machine_url(struct cli_ctx *ctx, const char *name, char **ret_url, bool *ret_tls,
            struct mc_error **err)
{
    struct store *s = NULL;
    _cleanup_store_machine_ struct store_machine *m = NULL;
    if (cli_store(ctx, &s, err) < 0 || store_machine_load(s, name, &m, err) < 0)
        return -1;
    const char *url = store_machine_url(m);
    if (m->create_state != STORE_CREATE_READY && !url)
        return mc_error_set(err, MC_ERR_CONFLICT,
                            "machine '%s' is not ready (%s): finish it with 'machine create %s'",
                            name, store_create_state_to_string(m->create_state), name);
    if (!url)
        return mc_error_set(err, MC_ERR_INVALID, "machine '%s' has no engine URL", name);
    *ret_url = xstrdup(url);
    *ret_tls = store_machine_has_tls(s, name);
    return 0;
}

static int
env_set(struct cli_ctx *ctx, const struct cli_args *args, enum cli_shell sh, const char *name,
        struct mc_error **err)
{
    _cleanup_free_ char *url = NULL;
    bool tls = false;
    if (machine_url(ctx, name, &url, &tls, err) < 0)
        return -1;
    struct store *s = ctx->store;
    _cleanup_free_ char *certs = store_machine_path(s, name, "certs");
    _cleanup_free_ char *no_proxy = NULL;
    struct cli_env_var vars[6] = {
        { "DOCKER_TLS_VERIFY", tls ? "1" : NULL },
        { "DOCKER_HOST", url },
        { "DOCKER_CERT_PATH", tls ? certs : NULL },
        { "MACHINE_NAME", name },
        { "DOCKER_MACHINE_NAME", name },
    };
    size_t n = 5;
    if (cli_args_bool(args, "no-proxy", NULL)) {
        struct mc_url u = { 0 };
        if (mc_url_parse(url, 0, &u, err) < 0)
            return -1;
        if (u.host)
            no_proxy = no_proxy_with(ctx, u.host);
        mc_url_clear(&u);
        if (no_proxy)
            vars[n++] = (struct cli_env_var){ "NO_PROXY", no_proxy };
    }
    _cleanup_free_ char *hint = hint_command(ctx, args, name, false);
    _cleanup_free_ char *out = cli_shell_render(sh, vars, n, hint);
    cli_print(ctx, out);
    return 0;
}

static int
env_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
        struct mc_error **err)
{
    const char *name = NULL;
    enum cli_shell sh = CLI_SHELL_SH;
    if (cli_one_name(ctx, cmd, args, &name, err) < 0 || pick_shell(ctx, args, &sh, err) < 0)
        return -1;
    if (!cli_args_bool(args, "unset", NULL))
        return env_set(ctx, args, sh, name, err) < 0 ? -1 : 0;
    static const struct cli_env_var unset[] = {
        { "DOCKER_TLS_VERIFY", NULL },   { "DOCKER_HOST", NULL },
        { "DOCKER_CERT_PATH", NULL },    { "MACHINE_NAME", NULL },
        { "DOCKER_MACHINE_NAME", NULL },
    };
    _cleanup_free_ char *hint = hint_command(ctx, args, name, true);
    _cleanup_free_ char *out = cli_shell_render(sh, unset, ELEMENTSOF(unset), hint);
    cli_print(ctx, out);
    return 0;
}

const struct cli_command cli_cmd_env = {
    .name = "env",
    .usage = "[OPTIONS] [NAME]",
    .summary = "Print the commands that point docker and machine at a machine",
    .description = "Prints DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, MACHINE_NAME and "
                   "DOCKER_MACHINE_NAME for\nthe shell, to evaluate: eval \"$(machine env "
                   "NAME)\". Reads the store only; the host is not contacted.\nA machine without "
                   "TLS material (none) sets DOCKER_HOST and unsets the TLS variables.",
    .flags = env_flags,
    .run = env_run,
};

static int
active_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
           struct mc_error **err)
{
    const char *docker_host = ctx->getenv("DOCKER_HOST");
    if (isempty(docker_host))
        return mc_error_set(err, MC_ERR_NOT_FOUND, "no active machine: DOCKER_HOST is not set");
    _cleanup_free_ char *name = cli_active_machine(ctx, err);
    if (!name && err && *err)
        return -1;
    if (!name)
        return mc_error_set(err, MC_ERR_NOT_FOUND,
                            "no active machine: DOCKER_HOST '%s' is not a machine of this store",
                            docker_host);
    _cleanup_json_ json_t *item = json_pack("{s:s}", "Name", name);
    bool done = false;
    if (cli_print_formatted(ctx, args, item, false, &done, err) < 0)
        return -1;
    if (!done)
        fprintf(ctx->out, "%s\n", name);
    return 0;
}

static const struct cli_flag active_flags[] = { CLI_FLAG_FORMAT, { 0 } };

const struct cli_command cli_cmd_active = {
    .name = "active",
    .usage = "[OPTIONS]",
    .summary = "Print which machine the environment points at",
    .description = "The machine whose URL is DOCKER_HOST (MACHINE_NAME picks among machines that "
                   "share a URL).",
    .flags = active_flags,
    .run = active_run,
};
