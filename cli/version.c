/* machine version: the client's version, then the active engine's when one is set. */
#include <string.h>

#include "cli.h"
#include "json.h"
#include "util.h"
#include "xalloc.h"

#define VERSION_TIMEOUT_MS 5000

static const struct cli_flag version_flags[] = { CLI_FLAG_FORMAT, { 0 } };

/* The active engine: -H, else DOCKER_HOST. None set: *ret stays NULL. */
static int
engine_version(struct cli_ctx *ctx, json_t **ret, char **ret_note, struct mc_error **err)
{
    if (!ctx->host && isempty(ctx->getenv("DOCKER_HOST")))
        return 0;
    struct client_config cfg = { 0 };
    if (cli_engine_config(ctx, &cfg, err) < 0)
        return -1;
    _cleanup_error_ struct mc_error *e = NULL;
    _cleanup_client_ struct client *c = client_new(&cfg, &e);
    struct client_version v = { 0 };
    if (c && client_version(c, VERSION_TIMEOUT_MS, &v, &e) == 0) {
        *ret = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}", "Version", v.version,
                         "ApiVersion", v.api_version, "MinAPIVersion", v.min_api_version, "Os",
                         v.os, "Arch", v.arch, "Host", cfg.host, "Name",
                         isempty(v.platform) ? NULL : v.platform);
    } else {
        *ret_note = xstrdup(e->message);
    }
    client_version_clear(&v);
    client_config_clear(&cfg);
    return 0;
}

static void
print_human(struct cli_ctx *ctx, const json_t *server, const char *note)
{
    fprintf(ctx->out, "machine version %s\n", MC_VERSION);
    if (server) {
        const char *name = mc_json_str(server, "Name");
        fprintf(ctx->out, "Engine: %s%s%s at %s\n API version: %s (minimum %s)\n", name ? name : "",
                name ? " " : "", mc_json_str(server, "Version"), mc_json_str(server, "Host"),
                mc_json_str(server, "ApiVersion") ? mc_json_str(server, "ApiVersion") : "?",
                mc_json_str(server, "MinAPIVersion") ? mc_json_str(server, "MinAPIVersion") : "?");
        if (mc_json_str(server, "Os"))
            fprintf(ctx->out, " OS/Arch: %s/%s\n", mc_json_str(server, "Os"),
                    mc_json_str(server, "Arch") ? mc_json_str(server, "Arch") : "?");
    }
    if (note)
        fprintf(ctx->err, "machine: the active engine did not answer: %s\n", note);
}

static int
version_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
            struct mc_error **err)
{
    _cleanup_json_ json_t *server = NULL;
    _cleanup_free_ char *note = NULL;
    if (engine_version(ctx, &server, &note, err) < 0)
        return -1;
    _cleanup_json_ json_t *o =
            json_pack("{s:{s:s}, s:O?}", "Client", "Version", MC_VERSION, "Server", server);
    bool done = false;
    if (cli_print_formatted(ctx, args, o, false, &done, err) < 0)
        return -1;
    if (!done)
        print_human(ctx, server, note);
    return 0;
}

const struct cli_command cli_cmd_version = {
    .name = "version",
    .usage = "[OPTIONS]",
    .summary = "Print the version of machine, and of the active engine when one is set",
    .description = "The engine is the one -H names, else DOCKER_HOST's. Template fields: "
                   ".Client.Version .Server.Version\n.Server.ApiVersion .Server.MinAPIVersion "
                   ".Server.Os .Server.Arch .Server.Host .Server.Name",
    .flags = version_flags,
    .run = version_run,
};
