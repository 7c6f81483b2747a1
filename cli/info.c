/* machine info: what the active engine says of itself (GET /info), as docker info prints it. */
#include <stdio.h>

#include "cli-engine.h"
#include "json.h"
#include "strv.h"
#include "xalloc.h"

static const struct cli_flag info_flags[] = { CLI_FLAG_FORMAT, { 0 } };

/* Lines of "Label: value" read from keys of the answer; a NULL key is a literal header. */
static const struct {
    const char *label;
    const char *key;
    int indent;
} lines[] = {
    { "Containers", "Containers", 1 },
    { "Running", "ContainersRunning", 2 },
    { "Paused", "ContainersPaused", 2 },
    { "Stopped", "ContainersStopped", 2 },
    { "Images", "Images", 1 },
    { "Server Version", "ServerVersion", 1 },
    { "Storage Driver", "Driver", 1 },
    { "Logging Driver", "LoggingDriver", 1 },
    { "Cgroup Driver", "CgroupDriver", 1 },
    { "Cgroup Version", "CgroupVersion", 1 },
    { "Kernel Version", "KernelVersion", 1 },
    { "Operating System", "OperatingSystem", 1 },
    { "OSType", "OSType", 1 },
    { "Architecture", "Architecture", 1 },
    { "CPUs", "NCPU", 1 },
    { "Name", "Name", 1 },
    { "ID", "ID", 1 },
    { "Docker Root Dir", "DockerRootDir", 1 },
};

/* docker's binary sizes: "7.62GiB". */
static char *
binary_size(int64_t n)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
    double v = (double)n;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < ELEMENTSOF(units)) {
        v /= 1024.0;
        u++;
    }
    return xasprintf("%.4g%s", v, units[u]);
}

static void
print_value(struct cli_ctx *ctx, int indent, const char *label, const json_t *v)
{
    if (!v)
        return;
    fprintf(ctx->out, "%*s%s: ", indent, "", label);
    if (json_is_string(v))
        fprintf(ctx->out, "%s\n", json_string_value(v));
    else if (json_is_integer(v))
        fprintf(ctx->out, "%lld\n", (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        fprintf(ctx->out, "%s\n", json_is_true(v) ? "true" : "false");
    else
        fprintf(ctx->out, "\n");
}

static void
print_human(struct cli_ctx *ctx, const char *host, const json_t *info)
{
    fprintf(ctx->out, "Server: %s\n", host);
    for (size_t i = 0; i < ELEMENTSOF(lines); i++)
        print_value(ctx, lines[i].indent, lines[i].label, json_object_get(info, lines[i].key));
    json_t *mem = json_object_get(info, "MemTotal");
    if (json_is_integer(mem)) {
        _cleanup_free_ char *size = binary_size(json_integer_value(mem));
        fprintf(ctx->out, " Total Memory: %s\n", size);
    }
    _cleanup_strv_ char **labels = mc_json_to_strv(json_object_get(info, "Labels"));
    if (labels && labels[0]) {
        fprintf(ctx->out, " Labels:\n");
        STRV_FOREACH (l, labels)
            fprintf(ctx->out, "  %s\n", *l);
    }
    _cleanup_strv_ char **warnings = mc_json_to_strv(json_object_get(info, "Warnings"));
    STRV_FOREACH (w, warnings)
        fprintf(ctx->err, "WARNING: %s\n", *w);
}

static int
info_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
         struct mc_error **err)
{
    _cleanup_client_ struct client *c = NULL;
    _cleanup_json_ json_t *info = NULL;
    if (cli_engine_client(ctx, &c, err) < 0 ||
        client_call_json(c, "GET", "/info", NULL, CLI_ENGINE_TIMEOUT_MS, &info, NULL, err) < 0)
        return -1;
    bool done = false;
    if (cli_print_formatted(ctx, args, info, false, &done, err) < 0)
        return -1;
    if (!done)
        print_human(ctx, client_host(c), info);
    return 0;
}

const struct cli_command cli_cmd_info = {
    .name = "info",
    .usage = "[OPTIONS]",
    .summary = "Print what the active engine says of itself",
    .description = "The engine is the one -H names, else DOCKER_HOST's. Template fields are "
                   "the engine's\n/info keys: {{.ServerVersion}}, {{.Containers}}, ...",
    .flags = info_flags,
    .run = info_run,
};
