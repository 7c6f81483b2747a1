/* machine container COMMAND: stop, start, restart, kill, rm, pause, unpause, wait, inspect, top,
 * rename, and ls and logs (ps.c, logs.c). Verbs taking several containers try each and report
 * the failures together, printing each container done as docker does. */
#include <string.h>

#include "cli-engine.h"
#include "cli-format.h"
#include "client-http.h"
#include "json.h"
#include "strbuf.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

static const struct cli_flag stop_flags[] = {
    { .name = "time",
      .short_name = 't',
      .type = CLI_STRING,
      .metavar = "SECONDS",
      .help = "seconds to wait before killing the container" },
    { .name = "signal",
      .short_name = 's',
      .type = CLI_STRING,
      .metavar = "SIGNAL",
      .help = "the signal that asks it to stop (default: the container's)" },
    { 0 },
};
static const struct cli_flag kill_flags[] = {
    { .name = "signal",
      .short_name = 's',
      .type = CLI_STRING,
      .metavar = "SIGNAL",
      .dflt = "KILL",
      .help = "the signal to send" },
    { 0 },
};
static const struct cli_flag rm_flags[] = {
    { .name = "force",
      .short_name = 'f',
      .type = CLI_BOOL,
      .help = "kill and remove a running container" },
    { .name = "volumes",
      .short_name = 'v',
      .type = CLI_BOOL,
      .help = "also remove its anonymous volumes" },
    { 0 },
};
static const struct cli_flag format_flags[] = {
    { .name = "format",
      .short_name = 'f',
      .type = CLI_STRING,
      .metavar = "FORMAT",
      .help = "print 'json', or each item through a template such as '{{.State.Status}}'" },
    { 0 },
};

/* POST /containers/NAME/ACTION?QUERY, then prints NAME. */
static int
post_action(struct cli_ctx *ctx, struct client *c, const char *name, const char *action,
            struct client_query *q, struct mc_error **err)
{
    _cleanup_free_ char *base = cli_object_path("/containers/", name, action, false);
    _cleanup_free_ char *path = client_query_path(q, base);
    _cleanup_error_ struct mc_error *e = NULL;
    if (client_call_json(c, "POST", path, NULL, 0, NULL, NULL, &e) < 0 &&
        !mc_error_is(e, MC_ERR_NOT_MODIFIED))
        return mc_error_propagate(err, TAKE_PTR(e));
    fprintf(ctx->out, "%s\n", name);
    fflush(ctx->out);
    return 0;
}

static int
with_time(struct cli_ctx *ctx, struct client *c, const char *name, const struct cli_args *args,
          const char *action, struct mc_error **err)
{
    struct client_query q = { MC_BUF_INIT };
    const char *t = cli_args_get(args, "time", NULL);
    const char *sig = cli_args_get(args, "signal", NULL);
    if (sig)
        client_query_add(&q, "signal", sig);
    if (t)
        client_query_add(&q, "t", t);
    return post_action(ctx, c, name, action, &q, err);
}

static int
stop_one(struct cli_ctx *ctx, struct client *c, const char *name, const struct cli_args *args,
         struct mc_error **err)
{
    return with_time(ctx, c, name, args, "/stop", err);
}

static int
restart_one(struct cli_ctx *ctx, struct client *c, const char *name, const struct cli_args *args,
            struct mc_error **err)
{
    return with_time(ctx, c, name, args, "/restart", err);
}

static int
simple_one(struct cli_ctx *ctx, struct client *c, const char *name, const char *action,
           struct mc_error **err)
{
    struct client_query q = { MC_BUF_INIT };
    return post_action(ctx, c, name, action, &q, err);
}

static int
start_one(struct cli_ctx *ctx, struct client *c, const char *name, const struct cli_args *args,
          struct mc_error **err)
{
    return simple_one(ctx, c, name, "/start", err);
}

static int
pause_one(struct cli_ctx *ctx, struct client *c, const char *name, const struct cli_args *args,
          struct mc_error **err)
{
    return simple_one(ctx, c, name, "/pause", err);
}

static int
unpause_one(struct cli_ctx *ctx, struct client *c, const char *name, const struct cli_args *args,
            struct mc_error **err)
{
    return simple_one(ctx, c, name, "/unpause", err);
}

static int
kill_one(struct cli_ctx *ctx, struct client *c, const char *name, const struct cli_args *args,
         struct mc_error **err)
{
    struct client_query q = { MC_BUF_INIT };
    const char *sig = cli_args_get(args, "signal", NULL);
    if (sig)
        client_query_add(&q, "signal", sig);
    return post_action(ctx, c, name, "/kill", &q, err);
}

static int
rm_one(struct cli_ctx *ctx, struct client *c, const char *name, const struct cli_args *args,
       struct mc_error **err)
{
    struct client_query q = { MC_BUF_INIT };
    if (cli_args_bool(args, "force", NULL))
        client_query_add_bool(&q, "force", true);
    if (cli_args_bool(args, "volumes", NULL))
        client_query_add_bool(&q, "v", true);
    _cleanup_free_ char *base = cli_object_path("/containers/", name, "", false);
    _cleanup_free_ char *path = client_query_path(&q, base);
    if (client_call_json(c, "DELETE", path, NULL, CLI_ENGINE_TIMEOUT_MS, NULL, NULL, err) < 0)
        return -1;
    fprintf(ctx->out, "%s\n", name);
    fflush(ctx->out);
    return 0;
}

static int
wait_one(struct cli_ctx *ctx, struct client *c, const char *name, const struct cli_args *args,
         struct mc_error **err)
{
    _cleanup_free_ char *path = cli_object_path("/containers/", name, "/wait", false);
    _cleanup_json_ json_t *answer = NULL;
    if (client_call_json(c, "POST", path, NULL, 0, &answer, NULL, err) < 0)
        return -1;
    const char *msg = mc_json_str(json_object_get(answer, "Error"), "Message");
    if (msg && *msg)
        return mc_error_set(err, MC_ERR_REMOTE, "%s", msg);
    fprintf(ctx->out, "%lld\n", (long long)mc_json_int(answer, "StatusCode", -1));
    fflush(ctx->out);
    return 0;
}

/* Runs fn on every positional; needs at least one. */
static int
each_container(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
               cli_engine_name_fn fn, struct mc_error **err)
{
    if (!args->positional[0])
        return mc_error_set(err, MC_ERR_USAGE, "'machine %s' needs at least one container",
                            cmd->name);
    _cleanup_client_ struct client *c = NULL;
    if (cli_engine_client(ctx, &c, err) < 0)
        return -1;
    return cli_engine_each(ctx, c, args, 0, fn, err);
}

#define EACH_VERB(verb, fn)                                                   \
    static int verb##_run(struct cli_ctx *ctx, const struct cli_command *cmd, \
                          const struct cli_args *args, struct mc_error **err) \
    {                                                                         \
        return each_container(ctx, cmd, args, fn, err);                       \
    }

EACH_VERB(stop, stop_one)
EACH_VERB(restart, restart_one)
EACH_VERB(start, start_one)
EACH_VERB(kill, kill_one)
EACH_VERB(rm, rm_one)
EACH_VERB(pause, pause_one)
EACH_VERB(unpause, unpause_one)
EACH_VERB(wait, wait_one)

/* GET PREFIX NAME SUFFIX for each name into a JSON array, printed pretty or through --format;
 * shared with image inspect. Missing objects are reported after the others print. */
int
cli_inspect_objects(struct cli_ctx *ctx, const struct cli_args *args, const char *prefix,
                    bool image, struct mc_error **err)
{
    _cleanup_client_ struct client *c = NULL;
    if (cli_engine_client(ctx, &c, err) < 0)
        return -1;
    _cleanup_json_ json_t *items = json_array();
    struct mc_error *failures = NULL;
    _cleanup_buf_ struct mc_buf msgs = MC_BUF_INIT;
    for (size_t i = 0; args->positional[i]; i++) {
        _cleanup_free_ char *path = cli_object_path(prefix, args->positional[i], "/json", image);
        json_t *one = NULL;
        struct mc_error *e = NULL;
        if (client_call_json(c, "GET", path, NULL, CLI_ENGINE_TIMEOUT_MS, &one, NULL, &e) == 0) {
            json_array_append_new(items, one ? one : json_object());
            continue;
        }
        mc_buf_printf(&msgs, "%s%s", msgs.len ? "\n" : "", e->message);
        mc_error_propagate(&failures, e);
    }
    bool done = false;
    int r = cli_print_formatted(ctx, args, items, true, &done, err);
    if (r == 0 && !done) {
        _cleanup_free_ char *text = mc_json_dumps(items, true);
        fprintf(ctx->out, "%s\n", text);
    }
    if (!failures)
        return r;
    enum mc_error_code code = failures->code;
    mc_error_free(failures);
    return r < 0 ? -1 : mc_error_set(err, code, "%s", msgs.data);
}

static int
inspect_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
            struct mc_error **err)
{
    if (!args->positional[0])
        return mc_error_set(err, MC_ERR_USAGE, "'machine %s' needs at least one container",
                            cmd->name);
    return cli_inspect_objects(ctx, args, "/containers/", false, err);
}

static int
top_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
        struct mc_error **err)
{
    if (!args->positional[0])
        return mc_error_set(err, MC_ERR_USAGE, "'machine %s' needs a container", cmd->name);
    struct client_query q = { MC_BUF_INIT };
    if (args->positional[1]) {
        _cleanup_free_ char *ps_args = strv_join(args->positional + 1, " ");
        client_query_add(&q, "ps_args", ps_args);
    }
    _cleanup_free_ char *base = cli_object_path("/containers/", args->positional[0], "/top", false);
    _cleanup_free_ char *path = client_query_path(&q, base);
    _cleanup_client_ struct client *c = NULL;
    _cleanup_json_ json_t *answer = NULL;
    if (cli_engine_client(ctx, &c, err) < 0 ||
        client_call_json(c, "GET", path, NULL, CLI_ENGINE_TIMEOUT_MS, &answer, NULL, err) < 0)
        return -1;
    _cleanup_strv_ char **titles = mc_json_to_strv(json_object_get(answer, "Titles"));
    size_t n = strv_length(titles);
    if (n == 0)
        return mc_error_set(err, MC_ERR_REMOTE, "the engine's top answer has no Titles");
    _cleanup_(cli_table_clear) struct cli_table t = { 0 };
    cli_table_init(&t, (const char *const *)titles, n);
    size_t i;
    const json_t *row;
    json_array_foreach (json_object_get(answer, "Processes"), i, row) {
        _cleanup_strv_ char **cells = mc_json_to_strv(row);
        while (strv_length(cells) < n)
            strv_add(&cells, "");
        cli_table_add(&t, (const char *const *)cells);
    }
    _cleanup_free_ char *text = cli_table_render(&t);
    cli_print(ctx, text);
    return 0;
}

static int
rename_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
           struct mc_error **err)
{
    if (strv_length(args->positional) != 2)
        return mc_error_set(err, MC_ERR_USAGE, "'machine %s' takes a container and a new name",
                            cmd->name);
    struct client_query q = { MC_BUF_INIT };
    client_query_add(&q, "name", args->positional[1]);
    _cleanup_free_ char *base =
            cli_object_path("/containers/", args->positional[0], "/rename", false);
    _cleanup_free_ char *path = client_query_path(&q, base);
    _cleanup_client_ struct client *c = NULL;
    if (cli_engine_client(ctx, &c, err) < 0)
        return -1;
    return client_call_json(c, "POST", path, NULL, CLI_ENGINE_TIMEOUT_MS, NULL, NULL, err);
}

#define SUB(var, verb, use, text, fl, fn)                                                \
    static const struct cli_command var = {                                              \
        .name = "container " verb, .usage = use, .summary = text, .flags = fl, .run = fn \
    }

SUB(c_stop, "stop", "[OPTIONS] CONTAINER...", "Stop running containers", stop_flags, stop_run);
SUB(c_start, "start", "CONTAINER...", "Start stopped containers", NULL, start_run);
SUB(c_restart, "restart", "[OPTIONS] CONTAINER...", "Restart containers", stop_flags, restart_run);
SUB(c_kill, "kill", "[OPTIONS] CONTAINER...", "Send a signal (KILL) to containers", kill_flags,
    kill_run);
SUB(c_rm, "rm", "[OPTIONS] CONTAINER...", "Remove containers", rm_flags, rm_run);
SUB(c_pause, "pause", "CONTAINER...", "Freeze the processes of containers", NULL, pause_run);
SUB(c_unpause, "unpause", "CONTAINER...", "Thaw the processes of containers", NULL, unpause_run);
SUB(c_wait, "wait", "CONTAINER...", "Wait for containers to stop; print their exit codes", NULL,
    wait_run);
SUB(c_inspect, "inspect", "[OPTIONS] CONTAINER...", "Print what the engine knows of containers",
    format_flags, inspect_run);
SUB(c_top, "top", "CONTAINER [ps OPTIONS]", "List the processes of a container", NULL, top_run);
SUB(c_rename, "rename", "CONTAINER NEW-NAME", "Rename a container", NULL, rename_run);

static const struct cli_command *const container_subs[] = {
    &c_inspect,
    &c_kill,
    &cli_cmd_container_logs,
    &cli_cmd_container_ls,
    &c_pause,
    &c_rename,
    &c_restart,
    &c_rm,
    &c_start,
    &c_stop,
    &c_top,
    &c_unpause,
    &c_wait,
    NULL,
};

static int
container_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
              struct mc_error **err)
{
    return cli_group_run(ctx, cmd, container_subs, args, err);
}

const struct cli_command cli_cmd_container = {
    .name = "container",
    .usage = "COMMAND [ARGS...]",
    .summary = "Manage the containers of the active engine",
    .description = "Commands: inspect kill logs ls pause rename restart rm start stop top unpause "
                   "wait\nRun 'machine container COMMAND --help' for more about a command.",
    .stop_at_positional = true,
    .run = container_run,
};
