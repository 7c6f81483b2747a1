/* What the engine verbs (run, exec, ps, images, logs, info, container ..., image ...) share:
 * reaching the engine, calls with the engine's errors, docker's human formats, filters, JSON
 * message streams. The pure helpers are in cli-engine-pure.h. */
#ifndef MC_CLI_ENGINE_H
#define MC_CLI_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "cli-engine-pure.h"
#include "cli.h"
#include "client.h"

/* --format without a short name (-f is --filter on the docker-like verbs). */
#define CLI_FLAG_FORMAT_LONG                                                      \
    {                                                                             \
        .name = "format", .type = CLI_STRING, .metavar = "FORMAT",                \
        .help = "print 'json', or each item through a template such as '{{.ID}}'" \
    }

/* Timeouts of ordinary calls; streams (attach, wait, logs -f, load) have none. */
#define CLI_ENGINE_TIMEOUT_MS 60000

/* A client for the engine of -H, else DOCKER_HOST and friends (cli_engine_config). */
int cli_engine_client(struct cli_ctx *ctx, struct client **ret, struct mc_error **err);

/* A path with one object name, prefix + NAME + suffix ("/containers/" "c1" "/json"), NAME
 * escaped; image names keep '/' and ':', as the docker CLI sends them. */
char *cli_object_path(const char *prefix, const char *name, const char *suffix, bool image);

/* Sends the terminal's size (stdout's, else stdin's) to a container (or, with exec, an exec
 * instance); nothing when neither is a terminal. Failures are ignored, as docker's are after
 * its retries. */
void cli_engine_resize(struct client *c, const char *id, bool exec);

/* Reads a JSON message stream (load, import) and prints it as docker does: "stream" text as
 * is, "status" lines (prefixed by their "id"), nothing for "aux". An "error" message is
 * returned as an error (after the lines before it are printed). */
int cli_print_json_stream(struct cli_ctx *ctx, struct client_exchange *x, struct mc_error **err);

/* Runs fn for each positional name; prints nothing itself. Every name is tried; failures are
 * returned together, one per line, as docker prints them. */
typedef int (*cli_engine_name_fn)(struct cli_ctx *ctx, struct client *c, const char *name,
                                  const struct cli_args *args, struct mc_error **err);
int cli_engine_each(struct cli_ctx *ctx, struct client *c, const struct cli_args *args,
                    size_t first, cli_engine_name_fn fn, struct mc_error **err);

/* GET PREFIX NAME /json for each positional, printed as one JSON array (pretty) or through
 * --format; the names not found are reported after the others print (container and image
 * inspect). */
int cli_inspect_objects(struct cli_ctx *ctx, const struct cli_args *args, const char *prefix,
                        bool image, struct mc_error **err);

/* Verb groups: `machine container stop ...` runs the sub-command named by the first positional,
 * parsing the rest with its flags. subs is NULL-terminated. */
int cli_group_run(struct cli_ctx *ctx, const struct cli_command *group,
                  const struct cli_command *const *subs, const struct cli_args *args,
                  struct mc_error **err);
/* The group's help: its sub-commands and their summaries. */
void cli_group_help(const struct cli_command *group, const struct cli_command *const *subs,
                    FILE *f);

#endif
