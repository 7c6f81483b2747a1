/* machine run: create a container, attach to it, wait for it and start it — the stock docker
 * CLI's order (create → attach, 101 → wait, headers at once → start → resize), on three
 * connections at once. Exits with the container's code; 125 when the engine fails, 126 when
 * the command cannot be executed, 127 when it is not found. Signals are forwarded as kill
 * calls; -it puts the terminal in raw mode and restores it on every way out. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli-engine.h"
#include "cli-run.h"
#include "cli-sigproxy.h"
#include "cli-tty.h"
#include "client-http.h"
#include "json.h"
#include "util.h"
#include "xalloc.h"

#define RUN_ANSWER_MAX (1024 * 1024)

static const struct cli_flag run_flags[] = {
    { .name = "detach",
      .short_name = 'd',
      .type = CLI_BOOL,
      .help = "run in the background and print the container's ID" },
    { .name = "rm", .type = CLI_BOOL, .help = "remove the container when it exits" },
    { .name = "interactive",
      .short_name = 'i',
      .type = CLI_BOOL,
      .help = "send stdin to the container" },
    { .name = "tty", .short_name = 't', .type = CLI_BOOL, .help = "give the container a terminal" },
    { .name = "env",
      .short_name = 'e',
      .type = CLI_STRINGS,
      .metavar = "KEY[=VALUE]",
      .help = "set an environment variable (KEY alone: its value here)" },
    { .name = "volume",
      .short_name = 'v',
      .type = CLI_STRINGS,
      .metavar = "SRC:DST[:ro]",
      .help = "bind a host path into the container" },
    { .name = "name", .type = CLI_STRING, .metavar = "NAME", .help = "the container's name" },
    { .name = "workdir",
      .short_name = 'w',
      .type = CLI_STRING,
      .metavar = "DIR",
      .help = "the working directory inside the container" },
    { .name = "user",
      .short_name = 'u',
      .type = CLI_STRING,
      .metavar = "USER[:GROUP]",
      .help = "the user (name or number) to run as" },
    { .name = "entrypoint",
      .type = CLI_STRING,
      .metavar = "PROGRAM",
      .help = "replace the image's entrypoint" },
    { .name = "network", .type = CLI_STRING, .metavar = "MODE", .help = "none, host or default" },
    { .name = "net", .type = CLI_STRING, .metavar = "MODE", .hidden = true },
    { .name = "memory",
      .short_name = 'm',
      .type = CLI_STRING,
      .metavar = "SIZE",
      .help = "memory limit (512m, 1g)" },
    { .name = "cpus", .type = CLI_STRING, .metavar = "N", .help = "CPU limit (1.5)" },
    { .name = "pids-limit", .type = CLI_STRING, .metavar = "N", .help = "process count limit" },
    { .name = "restart",
      .type = CLI_STRING,
      .metavar = "POLICY",
      .help = "no, always, unless-stopped or on-failure[:N]" },
    { .name = "hostname",
      .type = CLI_STRING,
      .metavar = "NAME",
      .help = "the container's host name" },
    { .name = "label",
      .short_name = 'l',
      .type = CLI_STRINGS,
      .metavar = "KEY=VALUE",
      .help = "set a label" },
    { .name = "privileged", .type = CLI_BOOL, .help = "give the container every capability" },
    { .name = "cap-add", .type = CLI_STRINGS, .metavar = "CAP", .help = "add a capability" },
    { .name = "cap-drop", .type = CLI_STRINGS, .metavar = "CAP", .help = "drop a capability" },
    { .name = "security-opt",
      .type = CLI_STRINGS,
      .metavar = "OPT",
      .help = "security option (seccomp=unconfined)" },
    { .name = "read-only", .type = CLI_BOOL, .help = "mount the root filesystem read-only" },
    { .name = "detach-keys",
      .type = CLI_STRING,
      .metavar = "KEYS",
      .dflt = CLI_DETACH_KEYS,
      .help = "with -it, the keys that leave the container running and return" },
    { 0 },
};

struct run {
    struct cli_ctx *ctx;
    struct client *c;
    struct cli_run_opts o;
    char *detach_keys; /* with -it */
    char *id;
    struct client_exchange *wait; /* read by wait_thread */
    pthread_t wait_thread;
    bool waiting;
    long exit_code;            /* the wait's StatusCode */
    struct mc_error *wait_err; /* the wait failed, or reported an error */
};

static void
run_clear(struct run *r)
{
    if (r->waiting) {
        client_exchange_abort(r->wait);
        pthread_join(r->wait_thread, NULL);
    }
    client_exchange_free(r->wait);
    mc_error_free(r->wait_err);
    client_free(r->c);
    free(r->detach_keys);
    free(r->id);
}

static void
print_warnings(struct cli_ctx *ctx, const json_t *answer)
{
    size_t i;
    const json_t *w;
    json_array_foreach (json_object_get(answer, "Warnings"), i, w)
        if (json_is_string(w))
            fprintf(ctx->err, "WARNING: %s\n", json_string_value(w));
}

static int
create(struct run *r, const json_t *body, struct mc_error **err)
{
    struct client_query q = { MC_BUF_INIT };
    if (r->o.name)
        client_query_add(&q, "name", r->o.name);
    _cleanup_free_ char *path = client_query_path(&q, "/containers/create");
    _cleanup_json_ json_t *answer = NULL;
    if (client_call_json(r->c, "POST", path, body, CLI_ENGINE_TIMEOUT_MS, &answer, NULL, err) < 0)
        return -1;
    const char *id = mc_json_str(answer, "Id");
    if (!id)
        return mc_error_set(err, MC_ERR_REMOTE, "the engine's create answer has no Id");
    r->id = xstrdup(id);
    print_warnings(r->ctx, answer);
    return 0;
}

static int
start(struct run *r, struct mc_error **err)
{
    _cleanup_free_ char *path = cli_object_path("/containers/", r->id, "/start", false);
    if (client_call_json(r->c, "POST", path, NULL, CLI_ENGINE_TIMEOUT_MS, NULL, NULL, err) == 0)
        return 0;
    r->ctx->error_exit = cli_run_error_exit_code((*err)->message);
    return -1;
}

static void
on_signal(void *userdata, int signo)
{
    struct run *r = userdata;
    if (signo == SIGWINCH) {
        if (r->o.tty)
            cli_engine_resize(r->c, r->id, false);
        return;
    }
    char sig[16];
    snprintf(sig, sizeof(sig), "%d", signo);
    struct client_query q = { MC_BUF_INIT };
    client_query_add(&q, "signal", sig);
    _cleanup_free_ char *base = cli_object_path("/containers/", r->id, "/kill", false);
    _cleanup_free_ char *path = client_query_path(&q, base);
    client_call_json(r->c, "POST", path, NULL, CLI_ENGINE_TIMEOUT_MS, NULL, NULL, NULL);
}

static int
open_attach(struct run *r, struct client_exchange **ret, struct mc_error **err)
{
    struct client_query q = { MC_BUF_INIT };
    client_query_add_bool(&q, "stream", true);
    if (r->o.interactive)
        client_query_add_bool(&q, "stdin", true);
    client_query_add_bool(&q, "stdout", true);
    client_query_add_bool(&q, "stderr", true);
    _cleanup_free_ char *base = cli_object_path("/containers/", r->id, "/attach", false);
    _cleanup_free_ char *path = client_query_path(&q, base);
    struct client_call call = {
        .method = "POST", .path = path, .content_type = "text/plain", .upgrade = true
    };
    _cleanup_exchange_ struct client_exchange *x = NULL;
    if (client_open(r->c, &call, &x, err) < 0)
        return -1;
    if (client_exchange_status(x) >= 400)
        return client_exchange_error(x, err);
    if (client_exchange_status(x) != 101)
        return mc_error_set(err, MC_ERR_REMOTE, "the engine answered attach with %ld, not 101",
                            client_exchange_status(x));
    *ret = TAKE_PTR(x);
    return 0;
}

static void *
wait_main(void *arg)
{
    struct run *r = arg;
    _cleanup_free_ char *body = NULL;
    size_t len = 0;
    if (client_exchange_read_all(r->wait, RUN_ANSWER_MAX, &body, &len, &r->wait_err) < 0)
        return NULL;
    _cleanup_json_ json_t *j = mc_json_parse(body, len, "the engine's wait answer", &r->wait_err);
    const char *msg = mc_json_str(json_object_get(j, "Error"), "Message");
    if (j && msg && *msg)
        mc_error_set(&r->wait_err, MC_ERR_REMOTE, "error waiting for the container: %s", msg);
    else if (j)
        r->exit_code = (long)mc_json_int(j, "StatusCode", 125);
    return NULL;
}

/* Opens the wait: its headers come at once, and only then may the container start (with
 * --rm, a wait sent after the exit would find the container gone). */
static int
open_wait(struct run *r, struct mc_error **err)
{
    struct client_query q = { MC_BUF_INIT };
    client_query_add(&q, "condition", r->o.rm ? "removed" : "next-exit");
    _cleanup_free_ char *base = cli_object_path("/containers/", r->id, "/wait", false);
    _cleanup_free_ char *path = client_query_path(&q, base);
    struct client_call call = { .method = "POST", .path = path };
    if (client_open(r->c, &call, &r->wait, err) < 0)
        return -1;
    if (client_exchange_status(r->wait) >= 400)
        return client_exchange_error(r->wait, err);
    r->exit_code = 125;
    int e = pthread_create(&r->wait_thread, NULL, wait_main, r);
    if (e != 0)
        return mc_error_sys(err, e, "cannot start the wait thread");
    r->waiting = true;
    return 0;
}

static int
pump(struct run *r, struct client_exchange *attach, struct mc_error **err)
{
    _cleanup_(cli_tty_restore) struct cli_tty tty = CLI_TTY_INIT;
    if (r->o.tty && r->o.interactive && cli_tty_raw(&tty, STDIN_FILENO, err) < 0)
        return -1;
    if (r->o.tty)
        cli_engine_resize(r->c, r->id, false);
    struct client_hijack_io io = {
        .in_fd = r->o.interactive ? STDIN_FILENO : -1,
        .out_fd = STDOUT_FILENO,
        .err_fd = STDERR_FILENO,
        .framed = !r->o.tty,
        .detach_keys = r->detach_keys,
    };
    return client_hijack_pump(attach, &io, err);
}

static int
run_attached(struct run *r, struct mc_error **err)
{
    _cleanup_exchange_ struct client_exchange *attach = NULL;
    if (open_attach(r, &attach, err) < 0)
        return -1;
    /* Before the wait thread starts, so that it inherits the blocked signals. */
    struct cli_sigproxy *proxy = NULL;
    if (cli_sigproxy_start(false, on_signal, r, &proxy, err) < 0)
        return -1;
    int rc = open_wait(r, err);
    if (rc == 0)
        rc = start(r, err);
    if (rc == 0)
        rc = pump(r, attach, err);
    cli_sigproxy_stop(proxy);
    if (rc != 0)
        return rc < 0 ? -1 : 0; /* 1: detached, the container goes on */
    pthread_join(r->wait_thread, NULL);
    r->waiting = false;
    if (r->wait_err)
        return mc_error_propagate(err, TAKE_PTR(r->wait_err));
    return (int)(r->exit_code & 0xff);
}

static int
check_terminal(const struct cli_run_opts *o, struct mc_error **err)
{
    if (o->tty && o->interactive && !isatty(STDIN_FILENO))
        return mc_error_set(err, MC_ERR_USAGE,
                            "the input device is not a TTY; leave out -t "
                            "when stdin is a pipe or a file");
    return 0;
}

static int
run_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
        struct mc_error **err)
{
    ctx->error_exit = 125;
    _cleanup_(run_clear) struct run r = { .ctx = ctx };
    if (cli_run_opts_from_args(args, &r.o, err) < 0)
        return -1;
    if (!r.o.network)
        r.o.network = cli_args_get(args, "net", NULL);
    if (r.o.tty)
        cli_tty_size(STDOUT_FILENO, &r.o.console_rows, &r.o.console_cols);
    if (check_terminal(&r.o, err) < 0)
        return -1;
    if (r.o.tty && r.o.interactive &&
        cli_parse_detach_keys(cli_args_get_or_default(args, "detach-keys", NULL), &r.detach_keys,
                              err) < 0)
        return -1;
    _cleanup_json_ json_t *body = cli_run_create_body(&r.o, ctx->getenv, err);
    if (!body || cli_engine_client(ctx, &r.c, err) < 0 || create(&r, body, err) < 0)
        return -1;
    fflush(ctx->out);
    if (!r.o.detach)
        return run_attached(&r, err);
    if (start(&r, err) < 0)
        return -1;
    fprintf(ctx->out, "%s\n", r.id);
    return 0;
}

const struct cli_command cli_cmd_run = {
    .name = "run",
    .usage = "[OPTIONS] IMAGE [COMMAND] [ARG...]",
    .summary = "Run a command in a new container on the active engine",
    .description = "Exits with the command's exit code; 125 when the engine fails, 126 when the\n"
                   "command cannot be executed, 127 when it is not found. Signals are forwarded\n"
                   "to the container. The engine is the one -H names, else DOCKER_HOST's.",
    .flags = run_flags,
    .stop_at_positional = true,
    .run = run_run,
};
