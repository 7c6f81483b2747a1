/* machine logs (and container logs): a container's output, as the stock docker CLI fetches it
 * (inspect for Tty, then the logs stream, demultiplexed unless the container has a TTY). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli-engine.h"
#include "client-frames.h"
#include "client-http.h"
#include "fs.h"
#include "json.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

static const struct cli_flag logs_flags[] = {
    { .name = "follow",
      .short_name = 'f',
      .type = CLI_BOOL,
      .help = "keep printing new output until the container stops" },
    { .name = "timestamps",
      .short_name = 't',
      .type = CLI_BOOL,
      .help = "start each line with its time" },
    { .name = "tail",
      .short_name = 'n',
      .type = CLI_STRING,
      .metavar = "N",
      .dflt = "all",
      .help = "only the last N lines" },
    { .name = "since",
      .type = CLI_STRING,
      .metavar = "TIME",
      .help = "only output after TIME (10m, 2026-01-02T15:04:05Z, unix seconds)" },
    { .name = "until", .type = CLI_STRING, .metavar = "TIME", .help = "only output before TIME" },
    { 0 },
};

static int
logs_path(const char *id, const struct cli_args *args, char **ret, struct mc_error **err)
{
    int64_t now = mc_realtime_ns();
    _cleanup_free_ char *since = NULL, *until = NULL;
    const char *s = cli_args_get(args, "since", NULL), *u = cli_args_get(args, "until", NULL);
    if ((s && cli_parse_time_arg(s, now, &since, err) < 0) ||
        (u && cli_parse_time_arg(u, now, &until, err) < 0))
        return -1;
    struct client_query q = { MC_BUF_INIT };
    client_query_add_bool(&q, "stdout", true);
    client_query_add_bool(&q, "stderr", true);
    if (cli_args_bool(args, "follow", NULL))
        client_query_add_bool(&q, "follow", true);
    if (cli_args_bool(args, "timestamps", NULL))
        client_query_add_bool(&q, "timestamps", true);
    client_query_add(&q, "tail", cli_args_get_or_default(args, "tail", NULL));
    if (since)
        client_query_add(&q, "since", since);
    if (until)
        client_query_add(&q, "until", until);
    _cleanup_free_ char *base = cli_object_path("/containers/", id, "/logs", false);
    *ret = client_query_path(&q, base);
    return 0;
}

static int
write_out(int fd, const char *data, size_t len, struct mc_error **err)
{
    if (mc_write_all(fd, data, len) < 0)
        return mc_error_sys(err, errno, "cannot write the container's output");
    return 0;
}

static int
on_frame(void *userdata, int stream, const char *data, size_t len, struct mc_error **err)
{
    return write_out(stream == CLIENT_STREAM_STDERR ? STDERR_FILENO : STDOUT_FILENO, data, len,
                     err);
}

static int
copy_logs(struct client_exchange *x, bool tty, struct mc_error **err)
{
    struct client_demux demux = { 0 };
    char buf[65536];
    for (;;) {
        ssize_t n = client_exchange_read(x, buf, sizeof(buf), err);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        int r = tty ? write_out(STDOUT_FILENO, buf, (size_t)n, err)
                    : client_demux_feed(&demux, buf, (size_t)n, on_frame, NULL, err);
        if (r < 0)
            return -1;
    }
    if (!client_demux_idle(&demux))
        return mc_error_set(err, MC_ERR_IO, "the engine ended the logs inside a frame");
    return 0;
}

static int
logs_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
         struct mc_error **err)
{
    if (!args->positional[0] || args->positional[1])
        return mc_error_set(err, MC_ERR_USAGE, "'machine %s' takes one container", cmd->name);
    _cleanup_client_ struct client *c = NULL;
    _cleanup_json_ json_t *info = NULL;
    _cleanup_free_ char *inspect =
            cli_object_path("/containers/", args->positional[0], "/json", false);
    if (cli_engine_client(ctx, &c, err) < 0 ||
        client_call_json(c, "GET", inspect, NULL, CLI_ENGINE_TIMEOUT_MS, &info, NULL, err) < 0)
        return -1;
    const char *id = mc_json_str(info, "Id");
    bool tty = mc_json_bool(json_object_get(info, "Config"), "Tty", false);
    _cleanup_free_ char *path = NULL;
    if (logs_path(id ? id : args->positional[0], args, &path, err) < 0)
        return -1;
    bool follow = cli_args_bool(args, "follow", NULL);
    struct client_call call = { .method = "GET",
                                .path = path,
                                .timeout_ms = follow ? 0 : CLI_ENGINE_TIMEOUT_MS };
    _cleanup_exchange_ struct client_exchange *x = NULL;
    if (client_open(c, &call, &x, err) < 0)
        return -1;
    if (client_exchange_status(x) >= 400)
        return client_exchange_error(x, err);
    fflush(ctx->out);
    return copy_logs(x, tty, err);
}

const struct cli_command cli_cmd_logs = {
    .name = "logs",
    .usage = "[OPTIONS] CONTAINER",
    .summary = "Print a container's output",
    .flags = logs_flags,
    .run = logs_run,
};

const struct cli_command cli_cmd_container_logs = {
    .name = "container logs",
    .usage = "[OPTIONS] CONTAINER",
    .summary = "Print a container's output (as machine logs)",
    .flags = logs_flags,
    .run = logs_run,
};
