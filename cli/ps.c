/* machine ps (and container ls): the engine's containers as docker's table, IDs, JSON or a
 * template. Template fields: .ID .Image .Command .CreatedAt .RunningFor .Ports .State .Status
 * .Names .Labels. */
#include <string.h>
#include <time.h>

#include "cli-engine.h"
#include "cli-format.h"
#include "client-http.h"
#include "json.h"
#include "strbuf.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

static const struct cli_flag ps_flags[] = {
    { .name = "all",
      .short_name = 'a',
      .type = CLI_BOOL,
      .help = "show every container (only running ones by default)" },
    { .name = "quiet", .short_name = 'q', .type = CLI_BOOL, .help = "print IDs only" },
    { .name = "filter",
      .short_name = 'f',
      .type = CLI_STRINGS,
      .metavar = "KEY=VALUE",
      .help = "only containers matching: status=, name=, label=, id=, exited=" },
    { .name = "last",
      .short_name = 'n',
      .type = CLI_STRING,
      .metavar = "N",
      .help = "the N most recently created containers (all states)" },
    { .name = "latest",
      .short_name = 'l',
      .type = CLI_BOOL,
      .help = "the most recently created container (all states)" },
    { .name = "no-trunc", .type = CLI_BOOL, .help = "do not shorten IDs and commands" },
    CLI_FLAG_FORMAT_LONG,
    { 0 },
};

static int
list_path(const struct cli_args *args, char **ret, struct mc_error **err)
{
    struct client_query q = { MC_BUF_INIT };
    _cleanup_free_ char *filters = NULL;
    if (cli_filters_json(cli_args_get_all(args, "filter"), &filters, err) < 0)
        return -1;
    const char *last = cli_args_get(args, "last", NULL);
    int64_t n;
    if (last && (mc_parse_int64(last, &n) < 0 || n < 0)) {
        mc_buf_free(&q.buf);
        return mc_error_set(err, MC_ERR_USAGE, "invalid --last '%s': use a number", last);
    }
    if (cli_args_bool(args, "all", NULL) || last || cli_args_bool(args, "latest", NULL))
        client_query_add_bool(&q, "all", true);
    if (last || cli_args_bool(args, "latest", NULL))
        client_query_add(&q, "limit", cli_args_bool(args, "latest", NULL) ? "1" : last);
    if (filters)
        client_query_add(&q, "filters", filters);
    *ret = client_query_path(&q, "/containers/json");
    return 0;
}

/* "0.0.0.0:8080->80/tcp, 443/tcp" */
static char *
ports_text(const json_t *ports)
{
    struct mc_buf b = MC_BUF_INIT;
    mc_buf_puts(&b, "");
    size_t i;
    const json_t *p;
    json_array_foreach (ports, i, p) {
        const char *ip = mc_json_str(p, "IP");
        int64_t pub = mc_json_int(p, "PublicPort", 0);
        const char *type = mc_json_str(p, "Type");
        if (b.len)
            mc_buf_puts(&b, ", ");
        if (pub)
            mc_buf_printf(&b, "%s:%lld->", ip ? ip : "", (long long)pub);
        mc_buf_printf(&b, "%lld/%s", (long long)mc_json_int(p, "PrivatePort", 0),
                      type ? type : "tcp");
    }
    return mc_buf_steal(&b);
}

/* Names without their leading '/', joined; link names (with another '/') left out. */
static char *
names_text(const json_t *names)
{
    _cleanup_strv_ char **l = strv_new();
    size_t i;
    const json_t *n;
    json_array_foreach (names, i, n) {
        const char *s = json_string_value(n);
        if (!s)
            continue;
        if (*s == '/')
            s++;
        if (!strchr(s, '/'))
            strv_add(&l, s);
    }
    return strv_join(l, ",");
}

static char *
labels_text(const json_t *labels)
{
    _cleanup_strv_ char **l = strv_new();
    const char *k;
    const json_t *v;
    json_object_foreach ((json_t *)labels, k, v)
        strv_push(&l, xasprintf("%s=%s", k, json_string_value(v) ? json_string_value(v) : ""));
    return strv_join(l, ",");
}

/* Go's time.String() form, as docker's .CreatedAt: "2026-01-01 12:00:00 +0000 UTC". */
static char *
created_at(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[64];
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
    return xstrdup(buf);
}

static json_t *
ps_item(const json_t *c, bool no_trunc, int64_t now)
{
    const char *id = mc_json_str(c, "Id");
    const char *command = mc_json_str(c, "Command");
    int64_t created = mc_json_int(c, "Created", 0);
    _cleanup_free_ char *short_id = cli_short_id(id ? id : "");
    _cleanup_free_ char *cmd = cli_quote_command(command ? command : "", no_trunc);
    _cleanup_free_ char *at = created_at(created);
    _cleanup_free_ char *ago = cli_human_ago(created, now);
    _cleanup_free_ char *ports = ports_text(json_object_get(c, "Ports"));
    _cleanup_free_ char *names = names_text(json_object_get(c, "Names"));
    _cleanup_free_ char *labels = labels_text(json_object_get(c, "Labels"));
    const char *image = mc_json_str(c, "Image");
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID",
                     no_trunc && id ? id : short_id, "Image", image ? image : "", "Command", cmd,
                     "CreatedAt", at, "RunningFor", ago, "Ports", ports, "State",
                     mc_json_str(c, "State") ? mc_json_str(c, "State") : "", "Status",
                     mc_json_str(c, "Status") ? mc_json_str(c, "Status") : "", "Names", names,
                     "Labels", labels);
}

static const char *const ps_columns[] = { "ID",     "Image", "Command", "RunningFor",
                                          "Status", "Ports", "Names" };
static const char *const ps_headers[] = { "CONTAINER ID", "IMAGE", "COMMAND", "CREATED",
                                          "STATUS",       "PORTS", "NAMES" };

static void
print_table(struct cli_ctx *ctx, const json_t *items, bool quiet)
{
    _cleanup_(cli_table_clear) struct cli_table t = { 0 };
    cli_table_init(&t, ps_headers, ELEMENTSOF(ps_headers));
    size_t i;
    const json_t *item;
    json_array_foreach (items, i, item) {
        if (quiet) {
            fprintf(ctx->out, "%s\n", mc_json_str(item, "ID"));
            continue;
        }
        const char *cells[ELEMENTSOF(ps_columns)];
        for (size_t c = 0; c < ELEMENTSOF(ps_columns); c++)
            cells[c] = mc_json_str(item, ps_columns[c]);
        cli_table_add(&t, cells);
    }
    if (quiet)
        return;
    _cleanup_free_ char *text = cli_table_render(&t);
    cli_print(ctx, text);
}

static int
ps_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
       struct mc_error **err)
{
    _cleanup_free_ char *path = NULL;
    _cleanup_client_ struct client *c = NULL;
    _cleanup_json_ json_t *list = NULL;
    if (list_path(args, &path, err) < 0 || cli_engine_client(ctx, &c, err) < 0 ||
        client_call_json(c, "GET", path, NULL, CLI_ENGINE_TIMEOUT_MS, &list, NULL, err) < 0)
        return -1;
    bool no_trunc = cli_args_bool(args, "no-trunc", NULL);
    _cleanup_json_ json_t *items = json_array();
    size_t i;
    const json_t *ctr;
    json_array_foreach (list, i, ctr)
        json_array_append_new(items, ps_item(ctr, no_trunc, (int64_t)time(NULL)));
    bool done = false;
    if (!cli_args_bool(args, "quiet", NULL) &&
        cli_print_formatted(ctx, args, items, true, &done, err) < 0)
        return -1;
    if (!done)
        print_table(ctx, items, cli_args_bool(args, "quiet", NULL));
    return 0;
}

const struct cli_command cli_cmd_ps = {
    .name = "ps",
    .usage = "[OPTIONS]",
    .summary = "List the containers of the active engine",
    .description = "Template fields: .ID .Image .Command .CreatedAt .RunningFor .Ports .State "
                   ".Status\n.Names .Labels",
    .flags = ps_flags,
    .run = ps_run,
};

const struct cli_command cli_cmd_container_ls = {
    .name = "container ls",
    .usage = "[OPTIONS]",
    .summary = "List containers (as machine ps)",
    .description = "Template fields: .ID .Image .Command .CreatedAt .RunningFor .Ports .State "
                   ".Status\n.Names .Labels",
    .flags = ps_flags,
    .run = ps_run,
};
