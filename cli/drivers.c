/* Generated driver flags and their resolution (cli-drivers.h). */
#include <ctype.h>
#include <string.h>

#include "cli-drivers.h"
#include "json.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

char *
cli_driver_flag_name(const struct machine_driver *d, const struct driver_option *o)
{
    return o->flag ? xstrdup(o->flag) : xasprintf("%s-%s", d->name, o->name);
}

char *
cli_driver_env_name(const struct machine_driver *d, const struct driver_option *o)
{
    char *s = xasprintf("MACHINE_%s_%s", d->name, o->name);
    for (char *c = s; *c; c++)
        *c = *c == '-' ? '_' : (char)toupper((unsigned char)*c);
    return s;
}

static const enum cli_flag_type flag_types[] = {
    [DRIVER_OPT_STRING] = CLI_STRING,
    [DRIVER_OPT_INT] = CLI_STRING,
    [DRIVER_OPT_BOOL] = CLI_BOOL,
    [DRIVER_OPT_STRINGS] = CLI_STRINGS,
};

static struct cli_flag *generated;
static struct cli_driver_flag *tags;
static size_t n_generated;

static void
add_generated(const struct machine_driver *d, const struct driver_option *o)
{
    size_t k = n_generated++;
    tags[k] = (struct cli_driver_flag){ .driver = d, .option = o };
    generated[k] = (struct cli_flag){
        .name = cli_driver_flag_name(d, o),
        .type = flag_types[o->type],
        .metavar = o->metavar,
        .help = o->help,
        .env = cli_driver_env_name(d, o),
        .dflt = o->default_value,
        .tag = &tags[k],
    };
}

/* Builds the flags once; they live as long as the process (the tags point into them). */
static void
generate(void)
{
    const struct machine_driver *const *list = driver_list();
    size_t total = 0;
    for (size_t i = 0; list[i]; i++)
        for (size_t j = 0; list[i]->available && list[i]->options && list[i]->options[j].name; j++)
            total++;
    generated = xcalloc(total + 1, sizeof(*generated));
    tags = xcalloc(total + 1, sizeof(*tags));
    for (size_t i = 0; list[i]; i++)
        for (size_t j = 0; list[i]->available && list[i]->options && list[i]->options[j].name; j++)
            add_generated(list[i], &list[i]->options[j]);
}

void
cli_driver_flags(struct cli_flagset *set)
{
    if (!generated)
        generate();
    for (size_t i = 0; i < n_generated; i++)
        cli_flagset_add_one(set, &generated[i]);
}

int
cli_driver_lookup(const char *name, const struct machine_driver **ret, struct mc_error **err)
{
    const struct machine_driver *d = driver_find(name);
    if (!d) {
        _cleanup_strv_ char **names = strv_new();
        const struct machine_driver *const *list = driver_list();
        for (size_t i = 0; list[i]; i++)
            strv_add(&names, list[i]->name);
        const char *near = cli_did_you_mean(name, (const char *const *)names);
        _cleanup_free_ char *known = strv_join(names, ", ");
        if (near)
            return mc_error_set(err, MC_ERR_USAGE, "unknown driver '%s'; did you mean '%s'?", name,
                                near);
        return mc_error_set(err, MC_ERR_USAGE, "unknown driver '%s' (drivers: %s)", name, known);
    }
    if (!d->available)
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "the '%s' driver is not yet available in this build", d->name);
    *ret = d;
    return 0;
}

static int
convert(const struct cli_driver_flag *t, const char *flag, const char *text, json_t **ret,
        struct mc_error **err)
{
    int64_t n;
    bool b;
    switch (t->option->type) {
    case DRIVER_OPT_INT:
        if (mc_parse_int64(text, &n) < 0)
            return mc_error_set(err, MC_ERR_USAGE, "--%s '%s' is not a whole number", flag, text);
        *ret = json_integer(n);
        return 0;
    case DRIVER_OPT_BOOL:
        if (mc_parse_bool(text, &b) < 0)
            return mc_error_set(err, MC_ERR_USAGE, "--%s '%s' is not true or false", flag, text);
        *ret = json_boolean(b);
        return 0;
    case DRIVER_OPT_STRINGS: {
        _cleanup_strv_ char **l = strv_split(text, ",");
        *ret = mc_json_from_strv(l);
        return 0;
    }
    default:
        *ret = json_string(text);
        return 0;
    }
}

/* One option: the flag's values, else its variable, else the default, else absent. */
static int
resolve_one(const struct cli_flag *f, const struct cli_args *args, cli_getenv_fn get, json_t *obj,
            struct mc_error **err)
{
    const struct cli_driver_flag *t = f->tag;
    char *const *given = cli_args_get_all(args, f->name);
    json_t *v = NULL;
    if (given && t->option->type == DRIVER_OPT_STRINGS) {
        v = mc_json_from_strv(given);
    } else {
        const char *text = cli_args_get(args, f->name, get);
        if (!text)
            text = t->option->default_value;
        if (!text)
            return 0;
        if (convert(t, f->name, text, &v, err) < 0)
            return -1;
    }
    json_object_set_new(obj, t->option->name, v);
    return 0;
}

int
cli_driver_resolve(const struct machine_driver *d, const struct cli_args *args, cli_getenv_fn get,
                   json_t **ret, struct mc_error **err)
{
    _cleanup_json_ json_t *obj = json_object();
    for (size_t i = 0; i < args->set->n; i++) {
        const struct cli_flag *f = args->set->flags[i];
        const struct cli_driver_flag *t = f->tag;
        if (!t)
            continue;
        if (t->driver != d) {
            if (args->values[i])
                return mc_error_set(err, MC_ERR_USAGE,
                                    "flag '--%s' belongs to the '%s' driver, not '%s'", f->name,
                                    t->driver->name, d->name);
            continue;
        }
        if (resolve_one(f, args, get, obj, err) < 0)
            return -1;
    }
    *ret = TAKE_PTR(obj);
    return 0;
}
