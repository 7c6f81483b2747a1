/* The engine verbs' shared I/O (cli-engine.h): the client, object paths, JSON message streams,
 * per-name loops and verb groups. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli-engine.h"
#include "cli-tty.h"
#include "client-frames.h"
#include "client-http.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

int
cli_engine_client(struct cli_ctx *ctx, struct client **ret, struct mc_error **err)
{
    struct client_config cfg = { 0 };
    if (cli_engine_config(ctx, &cfg, err) < 0)
        return -1;
    *ret = client_new(&cfg, err);
    client_config_clear(&cfg);
    return *ret ? 0 : -1;
}

char *
cli_object_path(const char *prefix, const char *name, const char *suffix, bool image)
{
    _cleanup_free_ char *e = client_url_escape(name, image);
    return xasprintf("%s%s%s", prefix, e, suffix);
}

void
cli_engine_resize(struct client *c, const char *id, bool exec)
{
    int rows, cols;
    if (!cli_tty_size(STDOUT_FILENO, &rows, &cols) && !cli_tty_size(STDIN_FILENO, &rows, &cols))
        return;
    char h[16], w[16];
    snprintf(h, sizeof(h), "%d", rows);
    snprintf(w, sizeof(w), "%d", cols);
    struct client_query q = { MC_BUF_INIT };
    client_query_add(&q, "h", h);
    client_query_add(&q, "w", w);
    _cleanup_free_ char *base =
            cli_object_path(exec ? "/exec/" : "/containers/", id, "/resize", false);
    _cleanup_free_ char *path = client_query_path(&q, base);
    client_call_json(c, "POST", path, NULL, CLI_ENGINE_TIMEOUT_MS, NULL, NULL, NULL);
}

struct stream_print {
    struct cli_ctx *ctx;
    char *error; /* the first error message of the stream */
};

static int
on_message(void *userdata, json_t *msg, struct mc_error **err)
{
    struct stream_print *p = userdata;
    _cleanup_free_ char *text = NULL, *error = NULL;
    cli_json_message_text(msg, &text, &error);
    if (text)
        cli_print(p->ctx, text);
    if (error && !p->error)
        p->error = TAKE_PTR(error);
    return 0;
}

int
cli_print_json_stream(struct cli_ctx *ctx, struct client_exchange *x, struct mc_error **err)
{
    struct client_jsonlines lines = { MC_BUF_INIT };
    struct stream_print p = { .ctx = ctx };
    char buf[16384];
    int r = 0;
    for (;;) {
        ssize_t n = client_exchange_read(x, buf, sizeof(buf), err);
        if (n <= 0) {
            r = n < 0 ? -1 : client_jsonlines_finish(&lines, on_message, &p, err);
            break;
        }
        if (client_jsonlines_feed(&lines, buf, (size_t)n, on_message, &p, err) < 0) {
            r = -1;
            break;
        }
        fflush(ctx->out);
    }
    mc_buf_free(&lines.buf);
    _cleanup_free_ char *error = p.error;
    if (r == 0 && error)
        return mc_error_set(err, MC_ERR_REMOTE, "%s", error);
    return r;
}

int
cli_engine_each(struct cli_ctx *ctx, struct client *c, const struct cli_args *args, size_t first,
                cli_engine_name_fn fn, struct mc_error **err)
{
    _cleanup_strv_ char **failures = strv_new();
    enum mc_error_code code = MC_ERR_FAILED;
    for (size_t i = first; args->positional[i]; i++) {
        struct mc_error *e = NULL;
        if (fn(ctx, c, args->positional[i], args, &e) == 0)
            continue;
        if (!failures[0])
            code = e->code;
        strv_add(&failures, e->message);
        mc_error_free(e);
    }
    if (!failures[0])
        return 0;
    _cleanup_free_ char *all = strv_join(failures, "\n");
    return mc_error_set(err, code, "%s", all);
}

static const struct cli_command *
find_sub(const struct cli_command *group, const struct cli_command *const *subs, const char *name)
{
    size_t n = strlen(group->name);
    for (size_t i = 0; subs[i]; i++)
        if (strncmp(subs[i]->name, group->name, n) == 0 && subs[i]->name[n] == ' ' &&
            streq(subs[i]->name + n + 1, name))
            return subs[i];
    return NULL;
}

void
cli_group_help(const struct cli_command *group, const struct cli_command *const *subs, FILE *f)
{
    fprintf(f, "Usage: machine %s %s\n\n%s\n\nCommands:\n", group->name, group->usage,
            group->summary);
    size_t n = strlen(group->name) + 1;
    for (size_t i = 0; subs[i]; i++)
        fprintf(f, "  %-10s %s\n", subs[i]->name + n, subs[i]->summary);
    fprintf(f, "\nRun 'machine %s COMMAND --help' for more about a command.\n", group->name);
}

int
cli_group_run(struct cli_ctx *ctx, const struct cli_command *group,
              const struct cli_command *const *subs, const struct cli_args *args,
              struct mc_error **err)
{
    const char *name = args->positional[0];
    if (!name || streq(name, "--help") || streq(name, "-h")) {
        cli_group_help(group, subs, name ? ctx->out : ctx->err);
        return name ? 0
                    : mc_error_set(err, MC_ERR_USAGE, "'machine %s' needs a command", group->name);
    }
    const struct cli_command *sub = find_sub(group, subs, name);
    if (!sub)
        return mc_error_set(err, MC_ERR_USAGE, "'machine %s' has no command '%s'", group->name,
                            name);
    ctx->verb = sub;
    _cleanup_(cli_flagset_clear) struct cli_flagset set = { 0 };
    cli_command_flags(sub, &set);
    _cleanup_free_ char *what = xasprintf("machine %s", sub->name);
    _cleanup_(cli_args_clear) struct cli_args sub_args = { 0 };
    int argc = (int)strv_length(args->positional) - 1;
    if (cli_args_parse(&set, argc, args->positional + 1, sub->stop_at_positional, what, &sub_args,
                       err) < 0)
        return -1;
    if (cli_args_has(&sub_args, "help") && sub_args.rest_index >= argc) {
        cli_command_help(sub, ctx->out);
        return 0;
    }
    return sub->run(ctx, sub, &sub_args, err);
}
