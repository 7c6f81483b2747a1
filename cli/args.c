/* Command-line parsing (cli-args.h). */
#include <stdlib.h>
#include <string.h>

#include "cli-args.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

void
cli_flagset_add_one(struct cli_flagset *set, const struct cli_flag *flag)
{
    set->flags = xreallocarray(set->flags, set->n + 1, sizeof(*set->flags));
    set->flags[set->n++] = flag;
}

void
cli_flagset_add(struct cli_flagset *set, const struct cli_flag *table)
{
    for (size_t i = 0; table && table[i].name; i++)
        cli_flagset_add_one(set, &table[i]);
}

void
cli_flagset_clear(struct cli_flagset *set)
{
    free(set->flags);
    set->flags = NULL;
    set->n = 0;
}

static ssize_t
find_index(const struct cli_flagset *set, const char *name, size_t name_len, char short_name)
{
    for (size_t i = 0; i < set->n; i++) {
        const struct cli_flag *f = set->flags[i];
        if (short_name ? f->short_name == short_name
                       : strlen(f->name) == name_len && strncmp(f->name, name, name_len) == 0)
            return (ssize_t)i;
    }
    return -1;
}

const struct cli_flag *
cli_flagset_find(const struct cli_flagset *set, const char *name)
{
    ssize_t i = find_index(set, name, strlen(name), 0);
    return i < 0 ? NULL : set->flags[i];
}

const char *
cli_did_you_mean(const char *word, const char *const *candidates)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    size_t limit = strlen(word) <= 4 ? 1 : strlen(word) <= 8 ? 2 : 3;
    for (size_t i = 0; candidates && candidates[i]; i++) {
        size_t d = mc_edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    return best_d <= limit ? best : NULL;
}

void
cli_args_clear(struct cli_args *a)
{
    for (size_t i = 0; a->set && a->values && i < a->set->n; i++)
        strv_free(a->values[i]);
    free(a->values);
    strv_free(a->positional);
    memset(a, 0, sizeof(*a));
}

static int
unknown_flag(const struct cli_flagset *set, const char *arg, const char *cmd, struct mc_error **err)
{
    _cleanup_strv_ char **names = strv_new();
    for (size_t i = 0; i < set->n; i++)
        if (!set->flags[i]->hidden)
            strv_push(&names, xasprintf("--%s", set->flags[i]->name));
    _cleanup_free_ char *word = xstrndup(arg, strcspn(arg, "="));
    const char *near = cli_did_you_mean(word, (const char *const *)names);
    if (near)
        return mc_error_set(err, MC_ERR_USAGE, "unknown flag '%s' for '%s'; did you mean '%s'?",
                            word, cmd, near);
    return mc_error_set(err, MC_ERR_USAGE, "unknown flag '%s' for '%s'", word, cmd);
}

struct parser {
    const struct cli_flagset *set;
    struct cli_args *a;
    int argc;
    char **argv;
    int i;
    const char *cmd;
};

/* Stores a value for flag idx; value NULL means "take the next argument". */
static int
take_value(struct parser *p, size_t idx, const char *shown, const char *value,
           struct mc_error **err)
{
    const struct cli_flag *f = p->set->flags[idx];
    if (f->type == CLI_BOOL) {
        bool b = true;
        if (value && mc_parse_bool(value, &b) < 0)
            return mc_error_set(err, MC_ERR_USAGE,
                                "flag '%s' of '%s' takes true or false, not '%s'", shown, p->cmd,
                                value);
        strv_free(p->a->values[idx]);
        p->a->values[idx] = NULL;
        strv_add(&p->a->values[idx], b ? "true" : "false");
        return 0;
    }
    if (!value) {
        if (p->i + 1 >= p->argc)
            return mc_error_set(err, MC_ERR_USAGE, "flag '%s' of '%s' needs a value (%s)", shown,
                                p->cmd, f->metavar ? f->metavar : "VALUE");
        value = p->argv[++p->i];
    }
    strv_add(&p->a->values[idx], value);
    return 0;
}

static int
parse_long(struct parser *p, const char *arg, struct mc_error **err)
{
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    ssize_t idx = find_index(p->set, name, len, 0);
    if (idx < 0)
        return unknown_flag(p->set, arg, p->cmd, err);
    _cleanup_free_ char *shown = xstrndup(arg, (size_t)(len + 2));
    return take_value(p, (size_t)idx, shown, eq ? eq + 1 : NULL, err);
}

/* "-x", "-xVALUE", "-abc" (booleans grouped). */
static int
parse_short(struct parser *p, const char *arg, struct mc_error **err)
{
    for (const char *c = arg + 1; *c; c++) {
        ssize_t idx = find_index(p->set, NULL, 0, *c);
        char shown[3] = { '-', *c, '\0' };
        if (idx < 0)
            return unknown_flag(p->set, shown, p->cmd, err);
        if (p->set->flags[idx]->type == CLI_BOOL) {
            if (take_value(p, (size_t)idx, shown, NULL, err) < 0)
                return -1;
            continue;
        }
        return take_value(p, (size_t)idx, shown, c[1] ? c + 1 : NULL, err);
    }
    return 0;
}

int
cli_args_parse(const struct cli_flagset *set, int argc, char **argv, bool stop_at_positional,
               const char *cmd, struct cli_args *ret, struct mc_error **err)
{
    struct cli_args a = { .set = set, .positional = strv_new(), .rest_index = argc };
    a.values = xcalloc(set->n ? set->n : 1, sizeof(char **));
    struct parser p = { .set = set, .a = &a, .argc = argc, .argv = argv, .cmd = cmd };
    bool flags_done = false;
    for (p.i = 0; p.i < argc; p.i++) {
        const char *arg = argv[p.i];
        int r = 0;
        if (flags_done || arg[0] != '-' || streq(arg, "-")) {
            if (stop_at_positional && !flags_done) {
                a.rest_index = p.i;
                flags_done = true;
            }
            strv_add(&a.positional, arg);
            continue;
        }
        if (streq(arg, "--")) {
            flags_done = true;
            if (stop_at_positional)
                a.rest_index = p.i + 1;
            continue;
        }
        r = arg[1] == '-' ? parse_long(&p, arg, err) : parse_short(&p, arg, err);
        if (r < 0) {
            cli_args_clear(&a);
            return -1;
        }
    }
    *ret = a;
    return 0;
}

static ssize_t
index_of(const struct cli_args *a, const char *name)
{
    return find_index(a->set, name, strlen(name), 0);
}

bool
cli_args_has(const struct cli_args *a, const char *name)
{
    ssize_t i = index_of(a, name);
    return i >= 0 && a->values[i];
}

const char *
cli_args_get(const struct cli_args *a, const char *name, cli_getenv_fn get)
{
    ssize_t i = index_of(a, name);
    if (i < 0)
        return NULL;
    char **v = a->values[i];
    if (v && v[0])
        return v[strv_length(v) - 1];
    const char *env = a->set->flags[i]->env;
    if (env && get) {
        const char *e = get(env);
        if (!isempty(e))
            return e;
    }
    return NULL;
}

const char *
cli_args_get_or_default(const struct cli_args *a, const char *name, cli_getenv_fn get)
{
    const char *v = cli_args_get(a, name, get);
    if (v)
        return v;
    ssize_t i = index_of(a, name);
    return i < 0 ? NULL : a->set->flags[i]->dflt;
}

char *const *
cli_args_get_all(const struct cli_args *a, const char *name)
{
    ssize_t i = index_of(a, name);
    return i < 0 ? NULL : a->values[i];
}

bool
cli_args_bool(const struct cli_args *a, const char *name, cli_getenv_fn get)
{
    const char *v = cli_args_get(a, name, get);
    bool b = false;
    return v && mc_parse_bool(v, &b) == 0 && b;
}

int
cli_args_duration_ms(const struct cli_args *a, const char *name, int64_t dflt, int64_t *ret,
                     struct mc_error **err)
{
    const char *v = cli_args_get(a, name, NULL);
    if (!v) {
        *ret = dflt;
        return 0;
    }
    int64_t ms = 0;
    if (mc_parse_duration_ms(v, &ms) < 0 || ms < 0)
        return mc_error_set(err, MC_ERR_USAGE,
                            "--%s '%s' is not a duration (such as 10s, 500ms or 2m)", name, v);
    *ret = ms;
    return 0;
}
