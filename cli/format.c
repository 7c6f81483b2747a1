/* Tables, JSON output and --format templates (cli-format.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli-format.h"
#include "json.h"
#include "strbuf.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

enum node_kind {
    NODE_TEXT,
    NODE_FIELD, /* {{.A.B}} or {{.}} */
};

enum node_func {
    FUNC_NONE,
    FUNC_JSON,
    FUNC_UPPER,
    FUNC_LOWER,
};

static const struct {
    const char *name;
    enum node_func func;
} funcs[] = {
    { "json", FUNC_JSON },
    { "upper", FUNC_UPPER },
    { "lower", FUNC_LOWER },
};

struct node {
    enum node_kind kind;
    enum node_func func;
    char *text;  /* NODE_TEXT */
    char **path; /* NODE_FIELD: the field names; empty for "." */
};

struct cli_template {
    bool table;
    struct node *nodes;
    size_t n;
};

void
cli_template_free(struct cli_template *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->nodes[i].text);
        strv_free(t->nodes[i].path);
    }
    free(t->nodes);
    free(t);
}

bool
cli_template_is_table(const struct cli_template *t)
{
    return t->table;
}

static struct node *
add_node(struct cli_template *t, enum node_kind kind)
{
    t->nodes = xreallocarray(t->nodes, t->n + 1, sizeof(*t->nodes));
    struct node *n = &t->nodes[t->n++];
    memset(n, 0, sizeof(*n));
    n->kind = kind;
    return n;
}

/* Literal text with the shell-typed escapes \t, \n and \\ turned into characters. */
static void
add_text(struct cli_template *t, const char *s, size_t len)
{
    if (len == 0)
        return;
    struct mc_buf b = MC_BUF_INIT;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\' && i + 1 < len && strchr("tn\\", s[i + 1])) {
            i++;
            mc_buf_putc(&b, s[i] == 't' ? '\t' : s[i] == 'n' ? '\n' : '\\');
            continue;
        }
        mc_buf_putc(&b, s[i]);
    }
    add_node(t, NODE_TEXT)->text = mc_buf_steal(&b);
}

static int
parse_path(const char *expr, char ***ret, struct mc_error **err)
{
    if (expr[0] != '.')
        return mc_error_set(err, MC_ERR_USAGE,
                            "template: '%s' is not a field: fields start with a dot, as in "
                            "{{.Name}}",
                            expr);
    _cleanup_strv_ char **path = strv_split(expr + 1, ".");
    STRV_FOREACH (p, path)
        for (const char *c = *p; *c; c++)
            if (!isalnum((unsigned char)*c) && *c != '_')
                return mc_error_set(err, MC_ERR_USAGE, "template: invalid field '%s'", expr);
    *ret = TAKE_PTR(path);
    return 0;
}

/* One action: "FIELD" or "FUNC FIELD". */
static int
parse_action(struct cli_template *t, const char *action, struct mc_error **err)
{
    _cleanup_strv_ char **words = strv_split(action, " \t");
    size_t n = strv_length(words);
    if (n == 0 || n > 2)
        return mc_error_set(err, MC_ERR_USAGE, "template: cannot read '{{%s}}'", action);
    enum node_func func = FUNC_NONE;
    if (n == 2) {
        for (size_t i = 0; i < ELEMENTSOF(funcs); i++)
            if (streq(words[0], funcs[i].name))
                func = funcs[i].func;
        if (func == FUNC_NONE)
            return mc_error_set(err, MC_ERR_USAGE,
                                "template: unknown function '%s' (known: json, upper, lower)",
                                words[0]);
    }
    char **path = NULL;
    if (parse_path(words[n - 1], &path, err) < 0)
        return -1;
    struct node *node = add_node(t, NODE_FIELD);
    node->func = func;
    node->path = path;
    return 0;
}

int
cli_template_parse(const char *src, struct cli_template **ret, struct mc_error **err)
{
    _cleanup_template_ struct cli_template *t = xzalloc(sizeof(*t));
    const char *rest = startswith(src, "table ");
    if (rest) {
        t->table = true;
        src = rest;
    }
    const char *p = src;
    while (*p) {
        const char *open = strstr(p, "{{");
        if (!open) {
            add_text(t, p, strlen(p));
            break;
        }
        add_text(t, p, (size_t)(open - p));
        const char *close = strstr(open + 2, "}}");
        if (!close)
            return mc_error_set(err, MC_ERR_USAGE, "template: '{{' without '}}' in '%s'", src);
        _cleanup_free_ char *action = xstrndup(open + 2, (size_t)(close - open - 2));
        if (parse_action(t, action, err) < 0)
            return -1;
        p = close + 2;
    }
    *ret = TAKE_PTR(t);
    return 0;
}

static const json_t *
lookup(const json_t *item, char *const *path, struct mc_error **err)
{
    const json_t *v = item;
    for (size_t i = 0; path && path[i]; i++) {
        const json_t *next = json_is_object(v) ? json_object_get(v, path[i]) : NULL;
        if (!next) {
            _cleanup_free_ char *joined = strv_join(path, ".");
            mc_error_set(err, MC_ERR_USAGE, "template: no field '.%s' in this output", joined);
            return NULL;
        }
        v = next;
    }
    return v;
}

static void
put_value(struct mc_buf *b, const json_t *v, enum node_func func)
{
    if (func == FUNC_JSON || (!json_is_string(v) && !json_is_null(v))) {
        _cleanup_free_ char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        mc_buf_puts(b, s ? s : "");
        return;
    }
    if (json_is_null(v))
        return;
    size_t start = b->len;
    mc_buf_puts(b, json_string_value(v));
    for (size_t i = start; i < b->len; i++)
        if (func == FUNC_UPPER || func == FUNC_LOWER)
            b->data[i] = (char)(func == FUNC_UPPER ? toupper((unsigned char)b->data[i])
                                                   : tolower((unsigned char)b->data[i]));
}

char *
cli_template_render(const struct cli_template *t, const json_t *item, struct mc_error **err)
{
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    mc_buf_puts(&b, "");
    for (size_t i = 0; i < t->n; i++) {
        const struct node *n = &t->nodes[i];
        if (n->kind == NODE_TEXT) {
            mc_buf_puts(&b, n->text);
            continue;
        }
        const json_t *v = lookup(item, n->path, err);
        if (!v)
            return NULL;
        put_value(&b, v, n->func);
    }
    return mc_buf_steal(&b);
}

/* The header of a table template: each field's last name in upper case. */
static char *
table_header(const struct cli_template *t)
{
    struct mc_buf b = MC_BUF_INIT;
    mc_buf_puts(&b, "");
    for (size_t i = 0; i < t->n; i++) {
        const struct node *n = &t->nodes[i];
        if (n->kind == NODE_TEXT) {
            mc_buf_puts(&b, n->text);
            continue;
        }
        size_t len = strv_length(n->path);
        const char *name = len ? n->path[len - 1] : "ITEM";
        for (const char *c = name; *c; c++)
            mc_buf_putc(&b, (char)toupper((unsigned char)*c));
    }
    return mc_buf_steal(&b);
}

/* Splits tab-separated lines into an aligned table. */
static char *
align_tabs(const char *text)
{
    _cleanup_strv_ char **lines = strv_split(text, "\n");
    size_t ncols = 0;
    STRV_FOREACH (l, lines) {
        size_t c = 1;
        for (const char *p = *l; *p; p++)
            c += *p == '\t';
        ncols = c > ncols ? c : ncols;
    }
    struct cli_table tbl = { .ncols = ncols };
    STRV_FOREACH (l, lines) {
        _cleanup_free_ const char **cells = xcalloc(ncols, sizeof(char *));
        _cleanup_strv_ char **parts = xcalloc(ncols + 1, sizeof(char *));
        const char *p = *l;
        for (size_t c = 0; c < ncols && p; c++) {
            const char *tab = strchr(p, '\t');
            parts[c] = tab ? xstrndup(p, (size_t)(tab - p)) : xstrdup(p);
            cells[c] = parts[c];
            p = tab ? tab + 1 : NULL;
        }
        cli_table_add(&tbl, cells);
    }
    char *out = cli_table_render(&tbl);
    cli_table_clear(&tbl);
    return out;
}

char *
cli_template_render_list(const struct cli_template *t, const json_t *items, struct mc_error **err)
{
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    mc_buf_puts(&b, "");
    if (t->table) {
        _cleanup_free_ char *h = table_header(t);
        mc_buf_printf(&b, "%s\n", h);
    }
    size_t i;
    const json_t *item;
    json_array_foreach (items, i, item) {
        _cleanup_free_ char *line = cli_template_render(t, item, err);
        if (!line)
            return NULL;
        mc_buf_printf(&b, "%s\n", line);
    }
    if (t->table)
        return align_tabs(b.data);
    return mc_buf_steal(&b);
}

void
cli_table_init(struct cli_table *t, const char *const *headers, size_t ncols)
{
    memset(t, 0, sizeof(*t));
    t->ncols = ncols;
    cli_table_add(t, headers);
}

void
cli_table_add(struct cli_table *t, const char *const *cells)
{
    t->cells = xreallocarray(t->cells, (t->nrows + 1) * t->ncols, sizeof(char *));
    for (size_t c = 0; c < t->ncols; c++)
        t->cells[t->nrows * t->ncols + c] = xstrdup(cells[c] ? cells[c] : "");
    t->nrows++;
}

/* The width of a cell in characters: UTF-8 continuation bytes take no column ("…"). */
static size_t
cell_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

char *
cli_table_render(const struct cli_table *t)
{
    _cleanup_free_ size_t *width = xcalloc(t->ncols ? t->ncols : 1, sizeof(size_t));
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t w = cell_width(t->cells[r * t->ncols + c]);
            width[c] = w > width[c] ? w : width[c];
        }
    struct mc_buf b = MC_BUF_INIT;
    mc_buf_puts(&b, "");
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *cell = t->cells[r * t->ncols + c];
            mc_buf_puts(&b, cell);
            if (c + 1 < t->ncols)
                mc_buf_printf(&b, "%*s", (int)(width[c] + 3 - cell_width(cell)), "");
        }
        while (b.len && b.data[b.len - 1] == ' ')
            b.data[--b.len] = '\0';
        mc_buf_putc(&b, '\n');
    }
    return mc_buf_steal(&b);
}

void
cli_table_clear(struct cli_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}

char *
cli_format_output(const char *format, const json_t *items, bool list, struct mc_error **err)
{
    if (streq(format, "json")) {
        char *s = mc_json_dumps(items, true);
        char *out = xasprintf("%s\n", s);
        free(s);
        return out;
    }
    _cleanup_template_ struct cli_template *t = NULL;
    if (cli_template_parse(format, &t, err) < 0)
        return NULL;
    if (list)
        return cli_template_render_list(t, items, err);
    _cleanup_free_ char *one = cli_template_render(t, items, err);
    return one ? xasprintf("%s\n", one) : NULL;
}
