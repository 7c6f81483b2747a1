/* machine images, machine rmi, and machine image COMMAND: ls, rm, inspect, load, save, import,
 * tag, history. load and import stream a file (or stdin) to the engine as a chunked body and
 * print its JSON message stream; save streams the engine's tar to a file or stdout. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli-engine.h"
#include "cli-format.h"
#include "client-http.h"
#include "fs.h"
#include "json.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

static const struct cli_flag ls_flags[] = {
    { .name = "all", .short_name = 'a', .type = CLI_BOOL, .help = "show intermediate images too" },
    { .name = "quiet", .short_name = 'q', .type = CLI_BOOL, .help = "print IDs only" },
    { .name = "filter",
      .short_name = 'f',
      .type = CLI_STRINGS,
      .metavar = "KEY=VALUE",
      .help = "only images matching: reference=, dangling=, label=, before=, since=" },
    { .name = "no-trunc", .type = CLI_BOOL, .help = "do not shorten IDs" },
    CLI_FLAG_FORMAT_LONG,
    { 0 },
};
static const struct cli_flag rm_flags[] = {
    { .name = "force",
      .short_name = 'f',
      .type = CLI_BOOL,
      .help = "remove even when tagged several times or used by stopped containers" },
    { .name = "no-prune", .type = CLI_BOOL, .help = "keep untagged parents" },
    { 0 },
};
static const struct cli_flag load_flags[] = {
    { .name = "input",
      .short_name = 'i',
      .type = CLI_STRING,
      .metavar = "FILE",
      .help = "the tar to load (default: stdin)" },
    { .name = "quiet", .short_name = 'q', .type = CLI_BOOL, .help = "no progress" },
    { 0 },
};
static const struct cli_flag save_flags[] = {
    { .name = "output",
      .short_name = 'o',
      .type = CLI_STRING,
      .metavar = "FILE",
      .help = "write the tar to FILE (default: stdout, never a terminal)" },
    { 0 },
};
static const struct cli_flag import_flags[] = {
    { .name = "change",
      .short_name = 'c',
      .type = CLI_STRINGS,
      .metavar = "INSTRUCTION",
      .help = "a Dockerfile instruction for the image (CMD, ENV, WORKDIR, ...)" },
    { .name = "message",
      .short_name = 'm',
      .type = CLI_STRING,
      .metavar = "TEXT",
      .help = "the commit message" },
    { 0 },
};
static const struct cli_flag history_flags[] = {
    { .name = "quiet", .short_name = 'q', .type = CLI_BOOL, .help = "print IDs only" },
    { .name = "no-trunc", .type = CLI_BOOL, .help = "do not shorten IDs and commands" },
    CLI_FLAG_FORMAT_LONG,
    { 0 },
};
static const struct cli_flag format_flags[] = {
    { .name = "format",
      .short_name = 'f',
      .type = CLI_STRING,
      .metavar = "FORMAT",
      .help = "print 'json', or each item through a template such as '{{.Id}}'" },
    { 0 },
};

static int
open_client(struct cli_ctx *ctx, struct client **ret, struct mc_error **err)
{
    return cli_engine_client(ctx, ret, err);
}

/* ---- images / image ls ---- */

static int
images_path(const struct cli_args *args, char **ret, struct mc_error **err)
{
    _cleanup_strv_ char **filters = strv_copy(cli_args_get_all(args, "filter"));
    if (args->positional[0])
        strv_push(&filters, xasprintf("reference=%s", args->positional[0]));
    _cleanup_free_ char *json = NULL;
    if (cli_filters_json(filters, &json, err) < 0)
        return -1;
    struct client_query q = { MC_BUF_INIT };
    if (cli_args_bool(args, "all", NULL))
        client_query_add_bool(&q, "all", true);
    if (json)
        client_query_add(&q, "filters", json);
    *ret = client_query_path(&q, "/images/json");
    return 0;
}

static json_t *
image_item(const json_t *img, const char *ref, bool no_trunc, int64_t now)
{
    _cleanup_free_ char *repo = NULL, *tag = NULL;
    cli_split_reference(ref ? ref : "<none>:<none>", &repo, &tag);
    const char *id = mc_json_str(img, "Id");
    _cleanup_free_ char *short_id = cli_short_id(id ? id : "");
    int64_t created = mc_json_int(img, "Created", 0);
    _cleanup_free_ char *ago = cli_human_ago(created, now);
    _cleanup_free_ char *size = cli_human_size(mc_json_int(img, "Size", 0));
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "Repository", repo, "Tag",
                     tag ? tag : "<none>", "ID", no_trunc && id ? id : short_id, "CreatedSince",
                     ago, "CreatedAt", (json_int_t)created, "Size", size);
}

static json_t *
image_items(const json_t *list, bool no_trunc)
{
    json_t *items = json_array();
    int64_t now = (int64_t)time(NULL);
    size_t i, j;
    const json_t *img, *tag;
    json_array_foreach (list, i, img) {
        const json_t *tags = json_object_get(img, "RepoTags");
        if (json_array_size(tags) == 0)
            json_array_append_new(items, image_item(img, NULL, no_trunc, now));
        json_array_foreach (tags, j, tag)
            json_array_append_new(items, image_item(img, json_string_value(tag), no_trunc, now));
    }
    return items;
}

static void
print_images(struct cli_ctx *ctx, const json_t *items, bool quiet)
{
    static const char *const headers[] = { "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE" };
    static const char *const keys[] = { "Repository", "Tag", "ID", "CreatedSince", "Size" };
    _cleanup_(cli_table_clear) struct cli_table t = { 0 };
    cli_table_init(&t, headers, ELEMENTSOF(headers));
    _cleanup_strv_ char **seen = strv_new();
    size_t i;
    const json_t *item;
    json_array_foreach (items, i, item) {
        const char *id = mc_json_str(item, "ID");
        if (quiet) {
            if (!strv_contains(seen, id))
                fprintf(ctx->out, "%s\n", id);
            strv_add(&seen, id);
            continue;
        }
        const char *cells[ELEMENTSOF(keys)];
        for (size_t k = 0; k < ELEMENTSOF(keys); k++)
            cells[k] = mc_json_str(item, keys[k]);
        cli_table_add(&t, cells);
    }
    if (!quiet) {
        _cleanup_free_ char *text = cli_table_render(&t);
        cli_print(ctx, text);
    }
}

static int
images_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
           struct mc_error **err)
{
    if (args->positional[0] && args->positional[1])
        return mc_error_set(err, MC_ERR_USAGE, "'machine %s' takes at most one REPOSITORY[:TAG]",
                            cmd->name);
    _cleanup_free_ char *path = NULL;
    _cleanup_client_ struct client *c = NULL;
    _cleanup_json_ json_t *list = NULL;
    if (images_path(args, &path, err) < 0 || open_client(ctx, &c, err) < 0 ||
        client_call_json(c, "GET", path, NULL, CLI_ENGINE_TIMEOUT_MS, &list, NULL, err) < 0)
        return -1;
    _cleanup_json_ json_t *items = image_items(list, cli_args_bool(args, "no-trunc", NULL));
    bool quiet = cli_args_bool(args, "quiet", NULL), done = false;
    if (!quiet && cli_print_formatted(ctx, args, items, true, &done, err) < 0)
        return -1;
    if (!done)
        print_images(ctx, items, quiet);
    return 0;
}

/* ---- rmi / image rm ---- */

static int
rm_one(struct cli_ctx *ctx, struct client *c, const char *name, const struct cli_args *args,
       struct mc_error **err)
{
    struct client_query q = { MC_BUF_INIT };
    if (cli_args_bool(args, "force", NULL))
        client_query_add_bool(&q, "force", true);
    if (cli_args_bool(args, "no-prune", NULL))
        client_query_add_bool(&q, "noprune", true);
    _cleanup_free_ char *base = cli_object_path("/images/", name, "", true);
    _cleanup_free_ char *path = client_query_path(&q, base);
    _cleanup_json_ json_t *answer = NULL;
    if (client_call_json(c, "DELETE", path, NULL, CLI_ENGINE_TIMEOUT_MS, &answer, NULL, err) < 0)
        return -1;
    size_t i;
    const json_t *item;
    json_array_foreach (answer, i, item) {
        if (mc_json_str(item, "Untagged"))
            fprintf(ctx->out, "Untagged: %s\n", mc_json_str(item, "Untagged"));
        if (mc_json_str(item, "Deleted"))
            fprintf(ctx->out, "Deleted: %s\n", mc_json_str(item, "Deleted"));
    }
    fflush(ctx->out);
    return 0;
}

static int
rm_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
       struct mc_error **err)
{
    if (!args->positional[0])
        return mc_error_set(err, MC_ERR_USAGE, "'machine %s' needs at least one image", cmd->name);
    _cleanup_client_ struct client *c = NULL;
    if (open_client(ctx, &c, err) < 0)
        return -1;
    return cli_engine_each(ctx, c, args, 0, rm_one, err);
}

/* ---- image inspect ---- */

static int
inspect_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
            struct mc_error **err)
{
    if (!args->positional[0])
        return mc_error_set(err, MC_ERR_USAGE, "'machine %s' needs at least one image", cmd->name);
    return cli_inspect_objects(ctx, args, "/images/", true, err);
}

/* ---- load, import: a tar up, a JSON message stream back ---- */

static int
open_input(const char *file, int *ret, struct mc_error **err)
{
    if (!file || streq(file, "-")) {
        *ret = STDIN_FILENO;
        return 0;
    }
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mc_error_sys(err, errno, "cannot open '%s'", file);
    *ret = fd;
    return 0;
}

/* POSTs the tar from file (or stdin) and prints the engine's message stream. */
static int
upload(struct cli_ctx *ctx, const char *path, const char *content_type, const char *file,
       struct mc_error **err)
{
    int fd = -1;
    if (open_input(file, &fd, err) < 0)
        return -1;
    _cleanup_close_ int owned = fd == STDIN_FILENO ? -1 : fd;
    if (fd == STDIN_FILENO && isatty(fd))
        return mc_error_set(err, MC_ERR_USAGE,
                            "refusing to read an image from a terminal; give a file or "
                            "redirect stdin");
    _cleanup_client_ struct client *c = NULL;
    if (open_client(ctx, &c, err) < 0)
        return -1;
    struct client_call call = {
        .method = "POST",
        .path = path,
        .content_type = content_type,
        .body_from_fd = true,
        .body_fd = fd,
    };
    _cleanup_exchange_ struct client_exchange *x = NULL;
    if (client_open(c, &call, &x, err) < 0)
        return -1;
    if (client_exchange_status(x) >= 400)
        return client_exchange_error(x, err);
    return cli_print_json_stream(ctx, x, err);
}

static int
load_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
         struct mc_error **err)
{
    if (args->positional[0])
        return mc_error_set(err, MC_ERR_USAGE, "'machine %s' takes no arguments (use -i FILE)",
                            cmd->name);
    struct client_query q = { MC_BUF_INIT };
    /* docker's rule: no progress bars unless stdout is a terminal. */
    client_query_add_bool(&q, "quiet",
                          cli_args_bool(args, "quiet", NULL) || !isatty(STDOUT_FILENO));
    _cleanup_free_ char *path = client_query_path(&q, "/images/load");
    return upload(ctx, path, "application/x-tar", cli_args_get(args, "input", NULL), err);
}

static int
import_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
           struct mc_error **err)
{
    size_t n = strv_length(args->positional);
    if (n < 1 || n > 2)
        return mc_error_set(err, MC_ERR_USAGE, "'machine %s' takes FILE|- [REPOSITORY[:TAG]]",
                            cmd->name);
    struct client_query q = { MC_BUF_INIT };
    client_query_add(&q, "fromSrc", "-");
    if (n == 2)
        client_query_add(&q, "repo", args->positional[1]);
    STRV_FOREACH (ch, (char **)cli_args_get_all(args, "change"))
        client_query_add(&q, "changes", *ch);
    if (cli_args_get(args, "message", NULL))
        client_query_add(&q, "message", cli_args_get(args, "message", NULL));
    _cleanup_free_ char *path = client_query_path(&q, "/images/create");
    return upload(ctx, path, "text/plain", args->positional[0], err);
}

/* ---- save: the engine's tar to a file or stdout ---- */

static int
copy_body(struct client_exchange *x, int fd, struct mc_error **err)
{
    char buf[65536];
    for (;;) {
        ssize_t n = client_exchange_read(x, buf, sizeof(buf), err);
        if (n <= 0)
            return (int)n;
        if (mc_write_all(fd, buf, (size_t)n) < 0)
            return mc_error_sys(err, errno, "cannot write the image tar");
    }
}

static int
save_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
         struct mc_error **err)
{
    if (!args->positional[0])
        return mc_error_set(err, MC_ERR_USAGE, "'machine %s' needs at least one image", cmd->name);
    const char *out = cli_args_get(args, "output", NULL);
    if (!out && isatty(STDOUT_FILENO))
        return mc_error_set(err, MC_ERR_USAGE,
                            "refusing to write an image to a terminal; use -o FILE or redirect");
    struct client_query q = { MC_BUF_INIT };
    STRV_FOREACH (name, args->positional)
        client_query_add(&q, "names", *name);
    _cleanup_free_ char *path = client_query_path(&q, "/images/get");
    _cleanup_client_ struct client *c = NULL;
    _cleanup_exchange_ struct client_exchange *x = NULL;
    struct client_call call = { .method = "GET", .path = path };
    if (open_client(ctx, &c, err) < 0 || client_open(c, &call, &x, err) < 0)
        return -1;
    if (client_exchange_status(x) >= 400)
        return client_exchange_error(x, err);
    _cleanup_close_ int fd = -1;
    if (out) {
        fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
            return mc_error_sys(err, errno, "cannot write '%s'", out);
    }
    fflush(ctx->out);
    return copy_body(x, out ? fd : STDOUT_FILENO, err);
}

/* ---- tag ---- */

static int
tag_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
        struct mc_error **err)
{
    if (strv_length(args->positional) != 2)
        return mc_error_set(err, MC_ERR_USAGE, "'machine %s' takes SOURCE and TARGET[:TAG]",
                            cmd->name);
    _cleanup_free_ char *repo = NULL, *tag = NULL;
    cli_split_reference(args->positional[1], &repo, &tag);
    struct client_query q = { MC_BUF_INIT };
    client_query_add(&q, "repo", repo);
    client_query_add(&q, "tag", tag ? tag : "latest");
    _cleanup_free_ char *base = cli_object_path("/images/", args->positional[0], "/tag", true);
    _cleanup_free_ char *path = client_query_path(&q, base);
    _cleanup_client_ struct client *c = NULL;
    if (open_client(ctx, &c, err) < 0)
        return -1;
    return client_call_json(c, "POST", path, NULL, CLI_ENGINE_TIMEOUT_MS, NULL, NULL, err);
}

/* ---- history ---- */

static json_t *
history_item(const json_t *h, bool no_trunc, int64_t now)
{
    const char *id = mc_json_str(h, "Id");
    _cleanup_free_ char *short_id = NULL;
    if (!id || streq(id, "<missing>"))
        short_id = xstrdup("<missing>");
    else
        short_id = no_trunc ? xstrdup(id) : cli_short_id(id);
    const char *by = mc_json_str(h, "CreatedBy");
    _cleanup_free_ char *shown = NULL;
    if (no_trunc || strlen(by ? by : "") <= 45)
        shown = xstrdup(by ? by : "");
    else
        shown = xasprintf("%.44s\xe2\x80\xa6", by);
    _cleanup_free_ char *ago = cli_human_ago(mc_json_int(h, "Created", 0), now);
    _cleanup_free_ char *size = cli_human_size(mc_json_int(h, "Size", 0));
    const char *comment = mc_json_str(h, "Comment");
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "ID", short_id, "CreatedSince", ago, "CreatedBy",
                     shown, "Size", size, "Comment", comment ? comment : "");
}

static int
history_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
            struct mc_error **err)
{
    if (strv_length(args->positional) != 1)
        return mc_error_set(err, MC_ERR_USAGE, "'machine %s' takes one image", cmd->name);
    _cleanup_free_ char *path = cli_object_path("/images/", args->positional[0], "/history", true);
    _cleanup_client_ struct client *c = NULL;
    _cleanup_json_ json_t *list = NULL;
    if (open_client(ctx, &c, err) < 0 ||
        client_call_json(c, "GET", path, NULL, CLI_ENGINE_TIMEOUT_MS, &list, NULL, err) < 0)
        return -1;
    bool no_trunc = cli_args_bool(args, "no-trunc", NULL),
         quiet = cli_args_bool(args, "quiet", NULL);
    _cleanup_json_ json_t *items = json_array();
    size_t i;
    const json_t *h;
    json_array_foreach (list, i, h)
        json_array_append_new(items, history_item(h, no_trunc, (int64_t)time(NULL)));
    bool done = false;
    if (!quiet && cli_print_formatted(ctx, args, items, true, &done, err) < 0)
        return -1;
    if (done)
        return 0;
    static const char *const headers[] = { "IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT" };
    static const char *const keys[] = { "ID", "CreatedSince", "CreatedBy", "Size", "Comment" };
    _cleanup_(cli_table_clear) struct cli_table t = { 0 };
    cli_table_init(&t, headers, ELEMENTSOF(headers));
    const json_t *item;
    json_array_foreach (items, i, item) {
        if (quiet) {
            fprintf(ctx->out, "%s\n", mc_json_str(item, "ID"));
            continue;
        }
        const char *cells[ELEMENTSOF(keys)];
        for (size_t k = 0; k < ELEMENTSOF(keys); k++)
            cells[k] = mc_json_str(item, keys[k]);
        cli_table_add(&t, cells);
    }
    if (!quiet) {
        _cleanup_free_ char *text = cli_table_render(&t);
        cli_print(ctx, text);
    }
    return 0;
}

/* ---- the commands ---- */

#define IMAGES_FIELDS "Template fields: .Repository .Tag .ID .CreatedSince .CreatedAt .Size"

const struct cli_command cli_cmd_images = {
    .name = "images",
    .usage = "[OPTIONS] [REPOSITORY[:TAG]]",
    .summary = "List the images of the active engine",
    .description = IMAGES_FIELDS,
    .flags = ls_flags,
    .run = images_run,
};

const struct cli_command cli_cmd_rmi = {
    .name = "rmi",
    .usage = "[OPTIONS] IMAGE...",
    .summary = "Remove images (as machine image rm)",
    .flags = rm_flags,
    .run = rm_run,
};

#define SUB(var, verb, use, text, fl, fn)                                            \
    static const struct cli_command var = {                                          \
        .name = "image " verb, .usage = use, .summary = text, .flags = fl, .run = fn \
    }

SUB(i_ls, "ls", "[OPTIONS] [REPOSITORY[:TAG]]", "List images (as machine images)", ls_flags,
    images_run);
SUB(i_rm, "rm", "[OPTIONS] IMAGE...", "Remove images", rm_flags, rm_run);
SUB(i_inspect, "inspect", "[OPTIONS] IMAGE...", "Print what the engine knows of images",
    format_flags, inspect_run);
SUB(i_load, "load", "[OPTIONS]", "Load images from a docker-save or OCI tar", load_flags, load_run);
SUB(i_save, "save", "[OPTIONS] IMAGE...", "Write images as a docker-save tar", save_flags,
    save_run);
SUB(i_import, "import", "[OPTIONS] FILE|- [REPOSITORY[:TAG]]",
    "Make an image from a root filesystem tar", import_flags, import_run);
SUB(i_tag, "tag", "SOURCE TARGET[:TAG]", "Give an image another name", NULL, tag_run);
SUB(i_history, "history", "[OPTIONS] IMAGE", "Show how an image was made", history_flags,
    history_run);

static const struct cli_command *const image_subs[] = {
    &i_history, &i_import, &i_inspect, &i_load, &i_ls, &i_rm, &i_save, &i_tag, NULL,
};

static int
image_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
          struct mc_error **err)
{
    return cli_group_run(ctx, cmd, image_subs, args, err);
}

const struct cli_command cli_cmd_image = {
    .name = "image",
    .usage = "COMMAND [ARGS...]",
    .summary = "Manage the images of the active engine",
    .description = "Commands: history import inspect load ls rm save tag\n"
                   "Run 'machine image COMMAND --help' for more about a command.",
    .stop_at_positional = true,
    .run = image_run,
};
