/* machine exec: run a command in a running container — the stock docker CLI's order (inspect
 * the container → create the exec → start it hijacked → read its exit code from inspect).
 * Exits with the command's exit code. */
#include <string.h>
#include <unistd.h>

#include "cli-engine.h"
#include "cli-sigproxy.h"
#include "cli-tty.h"
#include "json.h"
#include "xalloc.h"

static const struct cli_flag exec_flags[] = {
    { .name = "detach",
      .short_name = 'd',
      .type = CLI_BOOL,
      .help = "run the command in the background" },
    { .name = "interactive",
      .short_name = 'i',
      .type = CLI_BOOL,
      .help = "send stdin to the command" },
    { .name = "tty", .short_name = 't', .type = CLI_BOOL, .help = "give the command a terminal" },
    { .name = "env",
      .short_name = 'e',
      .type = CLI_STRINGS,
      .metavar = "KEY=VALUE",
      .help = "set an environment variable" },
    { .name = "user",
      .short_name = 'u',
      .type = CLI_STRING,
      .metavar = "USER[:GROUP]",
      .help = "the user (name or number) to run as" },
    { .name = "workdir",
      .short_name = 'w',
      .type = CLI_STRING,
      .metavar = "DIR",
      .help = "the working directory of the command" },
    { .name = "privileged", .type = CLI_BOOL, .help = "give the command every capability" },
    { .name = "detach-keys",
      .type = CLI_STRING,
      .metavar = "KEYS",
      .dflt = CLI_DETACH_KEYS,
      .help = "with -it, the keys that leave the command running and return" },
    { 0 },
};

struct exec {
    struct client *c;
    const char *container;
    char *id;
    char *detach_keys; /* with -it */
    bool detach, interactive, tty;
    int rows, cols;
};

static json_t *
console_size(const struct exec *x)
{
    return x->tty ? json_pack("[i,i]", x->rows, x->cols) : json_null();
}

static int
create_exec(struct exec *x, const struct cli_args *args, struct mc_error **err)
{
    char *const *env = cli_args_get_all(args, "env");
    const char *user = cli_args_get(args, "user", NULL);
    const char *workdir = cli_args_get(args, "workdir", NULL);
    _cleanup_json_ json_t *body = json_pack(
            "{s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:s, s:o, s:s, s:o, s:o}", "User",
            user ? user : "", "Privileged", cli_args_bool(args, "privileged", NULL), "Tty", x->tty,
            "AttachStdin", x->interactive && !x->detach, "AttachStderr", !x->detach, "AttachStdout",
            !x->detach, "Detach", x->detach, "DetachKeys", "", "Env",
            env ? mc_json_from_strv(env) : json_null(), "WorkingDir", workdir ? workdir : "", "Cmd",
            mc_json_from_strv(args->positional + 1), "ConsoleSize", console_size(x));
    _cleanup_free_ char *inspect = cli_object_path("/containers/", x->container, "/json", false);
    _cleanup_free_ char *path = cli_object_path("/containers/", x->container, "/exec", false);
    _cleanup_json_ json_t *answer = NULL;
    if (client_call_json(x->c, "GET", inspect, NULL, CLI_ENGINE_TIMEOUT_MS, NULL, NULL, err) < 0 ||
        client_call_json(x->c, "POST", path, body, CLI_ENGINE_TIMEOUT_MS, &answer, NULL, err) < 0)
        return -1;
    const char *id = mc_json_str(answer, "Id");
    if (!id)
        return mc_error_set(err, MC_ERR_REMOTE, "the engine's exec answer has no Id");
    x->id = xstrdup(id);
    return 0;
}

static void
on_winch(void *userdata, int signo)
{
    struct exec *x = userdata;
    cli_engine_resize(x->c, x->id, true);
}

static int
pump(struct exec *x, struct client_exchange *stream, struct mc_error **err)
{
    _cleanup_(cli_tty_restore) struct cli_tty tty = CLI_TTY_INIT;
    struct cli_sigproxy *proxy = NULL;
    if (x->tty && x->interactive && cli_tty_raw(&tty, STDIN_FILENO, err) < 0)
        return -1;
    if (x->tty) {
        cli_engine_resize(x->c, x->id, true);
        if (cli_sigproxy_start(true, on_winch, x, &proxy, err) < 0)
            return -1;
    }
    struct client_hijack_io io = {
        .in_fd = x->interactive ? STDIN_FILENO : -1,
        .out_fd = STDOUT_FILENO,
        .err_fd = STDERR_FILENO,
        .framed = !x->tty,
        .detach_keys = x->detach_keys,
    };
    int r = client_hijack_pump(stream, &io, err);
    cli_sigproxy_stop(proxy);
    return r;
}

static int
start_exec(struct exec *x, struct mc_error **err)
{
    _cleanup_json_ json_t *body = json_pack("{s:b, s:b, s:o}", "Detach", x->detach, "Tty", x->tty,
                                            "ConsoleSize", console_size(x));
    _cleanup_free_ char *text = mc_json_dumps(body, false);
    _cleanup_free_ char *path = cli_object_path("/exec/", x->id, "/start", false);
    struct client_call call = {
        .method = "POST",
        .path = path,
        .body = text,
        .body_len = strlen(text),
        .upgrade = !x->detach,
        .timeout_ms = x->detach ? CLI_ENGINE_TIMEOUT_MS : 0,
    };
    _cleanup_exchange_ struct client_exchange *stream = NULL;
    if (client_open(x->c, &call, &stream, err) < 0)
        return -1;
    if (client_exchange_status(stream) >= 400)
        return client_exchange_error(stream, err);
    if (x->detach)
        return 0;
    if (client_exchange_status(stream) != 101)
        return mc_error_set(err, MC_ERR_REMOTE, "the engine answered exec start with %ld, not 101",
                            client_exchange_status(stream));
    return pump(x, stream, err);
}

static int
exit_code(struct exec *x, struct mc_error **err)
{
    _cleanup_free_ char *path = cli_object_path("/exec/", x->id, "/json", false);
    _cleanup_json_ json_t *answer = NULL;
    if (client_call_json(x->c, "GET", path, NULL, CLI_ENGINE_TIMEOUT_MS, &answer, NULL, err) < 0)
        return -1;
    json_t *code = json_object_get(answer, "ExitCode");
    if (!json_is_integer(code))
        return mc_error_set(err, MC_ERR_REMOTE, "the engine's exec inspect has no ExitCode");
    return (int)(json_integer_value(code) & 0xff);
}

static int
exec_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
         struct mc_error **err)
{
    if (!args->positional[0] || !args->positional[1])
        return mc_error_set(err, MC_ERR_USAGE, "'machine exec' needs a container and a command");
    struct exec x = {
        .container = args->positional[0],
        .detach = cli_args_bool(args, "detach", NULL),
        .interactive = cli_args_bool(args, "interactive", NULL),
        .tty = cli_args_bool(args, "tty", NULL),
    };
    if (x.tty && x.interactive && !isatty(STDIN_FILENO))
        return mc_error_set(err, MC_ERR_USAGE,
                            "the input device is not a TTY; leave out -t "
                            "when stdin is a pipe or a file");
    if (x.tty && !cli_tty_size(STDOUT_FILENO, &x.rows, &x.cols))
        x.rows = 24, x.cols = 80;
    if (x.tty && x.interactive &&
        cli_parse_detach_keys(cli_args_get_or_default(args, "detach-keys", NULL), &x.detach_keys,
                              err) < 0)
        return -1;
    _cleanup_client_ struct client *c = NULL;
    int rc = cli_engine_client(ctx, &c, err);
    x.c = c;
    if (rc == 0)
        rc = create_exec(&x, args, err);
    fflush(ctx->out);
    if (rc == 0)
        rc = start_exec(&x, err);
    if (rc == 1)
        rc = 0; /* detached: the command goes on */
    else if (rc == 0 && !x.detach)
        rc = exit_code(&x, err);
    free(x.id);
    free(x.detach_keys);
    return rc;
}

const struct cli_command cli_cmd_exec = {
    .name = "exec",
    .usage = "[OPTIONS] CONTAINER COMMAND [ARG...]",
    .summary = "Run a command in a running container",
    .description = "Exits with the command's exit code.",
    .flags = exec_flags,
    .stop_at_positional = true,
    .run = exec_run,
};
