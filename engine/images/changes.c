/* `docker import --change`: Dockerfile instructions applied to an image config. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "images-internal.h"
#include "json.h"
#include "strbuf.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

/* Splits words with Dockerfile-like quoting: "a b" and 'a b' group, \x escapes x. */
static char **
split_words(const char *s, struct mc_error **err)
{
    char **out = strv_new();
    struct mc_buf w = MC_BUF_INIT;
    bool in_word = false;
    char quote = 0;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (quote) {
            if (c == quote)
                quote = 0;
            else if (c == '\\' && quote == '"' && p[1])
                mc_buf_putc(&w, *++p);
            else
                mc_buf_putc(&w, c);
            continue;
        }
        if (c == ' ' || c == '\t') {
            if (in_word)
                strv_push(&out, mc_buf_steal(&w));
            in_word = false;
            continue;
        }
        in_word = true;
        if (c == '"' || c == '\'')
            quote = c;
        else if (c == '\\' && p[1])
            mc_buf_putc(&w, *++p);
        else
            mc_buf_putc(&w, c);
    }
    if (quote) {
        mc_buf_free(&w);
        strv_free(out);
        mc_error_set(err, MC_ERR_INVALID, "The change '%s' has an unterminated quote.", s);
        return NULL;
    }
    if (in_word)
        strv_push(&out, w.data ? mc_buf_steal(&w) : xstrdup(""));
    mc_buf_free(&w);
    return out;
}

/* JSON form ["a","b"] or shell form (wrapped in /bin/sh -c). */
static json_t *
command_value(const char *args)
{
    if (args[0] == '[') {
        json_t *j = json_loads(args, 0, NULL);
        bool strings = json_is_array(j);
        size_t i;
        json_t *v;
        json_array_foreach (j, i, v) {
            strings &= json_is_string(v);
        }
        if (strings)
            return j;
        json_decref(j);
    }
    return json_pack("[s,s,s]", "/bin/sh", "-c", args);
}

static json_t *
object_at(json_t *cfg, const char *key)
{
    json_t *o = json_object_get(cfg, key);
    if (!json_is_object(o)) {
        o = json_object();
        json_object_set_new(cfg, key, o);
    }
    return o;
}

/* Sets KEY=VALUE pairs ("ENV A=1 B=2", or the old "ENV A 1") into env or labels. */
static int
key_values(json_t *cfg, const char *instr, const char *args, bool env, struct mc_error **err)
{
    _cleanup_strv_ char **w = split_words(args, err);
    if (!w)
        return -1;
    size_t n = strv_length(w);
    if (n == 0)
        return mc_error_set(err, MC_ERR_INVALID, "%s needs at least one argument.", instr);
    _cleanup_strv_ char **pairs = strv_new();
    if (!strchr(w[0], '=')) {
        if (n < 2)
            return mc_error_set(err, MC_ERR_INVALID, "%s needs a value for '%s'.", instr, w[0]);
        /* "ENV KEY rest of line" */
        const char *rest = args + strspn(args, " \t");
        rest += strlen(w[0]);
        rest += strspn(rest, " \t");
        strv_push(&pairs, xasprintf("%s=%s", w[0], rest));
    } else {
        STRV_FOREACH (p, w) {
            if (!strchr(*p, '='))
                return mc_error_set(err, MC_ERR_INVALID, "%s: '%s' is not KEY=VALUE.", instr, *p);
            strv_add(&pairs, *p);
        }
    }
    STRV_FOREACH (p, pairs) {
        char *eq = strchr(*p, '=');
        _cleanup_free_ char *k = xstrndup(*p, (size_t)(eq - *p));
        if (!env) {
            json_object_set_new(object_at(cfg, "Labels"), k, json_string(eq + 1));
            continue;
        }
        json_t *list = json_object_get(cfg, "Env");
        if (!json_is_array(list)) {
            list = json_array();
            json_object_set_new(cfg, "Env", list);
        }
        size_t i, kl = strlen(k);
        json_t *v;
        bool replaced = false;
        json_array_foreach (list, i, v) {
            const char *s = json_string_value(v);
            if (s && strncmp(s, k, kl) == 0 && s[kl] == '=') {
                json_array_set_new(list, i, json_string(*p));
                replaced = true;
                break;
            }
        }
        if (!replaced)
            json_array_append_new(list, json_string(*p));
    }
    return 0;
}

static int
expose(json_t *cfg, const char *args, struct mc_error **err)
{
    _cleanup_strv_ char **w = split_words(args, err);
    if (!w)
        return -1;
    STRV_FOREACH (p, w) {
        const char *slash = strchr(*p, '/');
        size_t digits = slash ? (size_t)(slash - *p) : strlen(*p);
        if (digits == 0 || strspn(*p, "0123456789-") < digits ||
            (slash && !streq(slash, "/tcp") && !streq(slash, "/udp") && !streq(slash, "/sctp")))
            return mc_error_set(err, MC_ERR_INVALID, "EXPOSE: '%s' is not a port.", *p);
        _cleanup_free_ char *key = slash ? xstrdup(*p) : xasprintf("%s/tcp", *p);
        json_object_set_new(object_at(cfg, "ExposedPorts"), key, json_object());
    }
    return 0;
}

static int
volume(json_t *cfg, const char *args, struct mc_error **err)
{
    json_t *list = args[0] == '[' ? json_loads(args, 0, NULL) : NULL;
    if (!json_is_array(list)) {
        json_decref(list);
        char **w = split_words(args, err);
        if (!w)
            return -1;
        list = mc_json_from_strv(w);
        strv_free(w);
    }
    size_t i;
    json_t *v;
    json_array_foreach (list, i, v) {
        if (json_is_string(v))
            json_object_set_new(object_at(cfg, "Volumes"), json_string_value(v), json_object());
    }
    json_decref(list);
    return 0;
}

int
img_apply_change(json_t *cfg, const char *change, struct mc_error **err)
{
    const char *s = change + strspn(change, " \t\r\n");
    size_t il = strcspn(s, " \t");
    _cleanup_free_ char *instr = xstrndup(s, il);
    for (char *c = instr; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    const char *args = s + il;
    args += strspn(args, " \t");
    _cleanup_free_ char *a = xstrdup(args);
    for (size_t n = strlen(a); n > 0 && isspace((unsigned char)a[n - 1]); n--)
        a[n - 1] = '\0';
    if (streq(instr, "CMD") || streq(instr, "ENTRYPOINT")) {
        json_object_set_new(cfg, streq(instr, "CMD") ? "Cmd" : "Entrypoint", command_value(a));
        if (streq(instr, "ENTRYPOINT"))
            json_object_set_new(cfg, "Cmd", json_null());
        return 0;
    }
    if (streq(instr, "ENV") || streq(instr, "LABEL"))
        return key_values(cfg, instr, a, streq(instr, "ENV"), err);
    if (streq(instr, "EXPOSE"))
        return expose(cfg, a, err);
    if (streq(instr, "VOLUME"))
        return volume(cfg, a, err);
    if (streq(instr, "WORKDIR") || streq(instr, "USER") || streq(instr, "STOPSIGNAL")) {
        if (!*a)
            return mc_error_set(err, MC_ERR_INVALID, "%s needs an argument.", instr);
        const char *key = streq(instr, "WORKDIR") ? "WorkingDir"
                          : streq(instr, "USER")  ? "User"
                                                  : "StopSignal";
        json_object_set_new(cfg, key, json_string(a));
        return 0;
    }
    if (streq(instr, "ONBUILD")) {
        json_t *list = json_object_get(cfg, "OnBuild");
        if (!json_is_array(list)) {
            list = json_array();
            json_object_set_new(cfg, "OnBuild", list);
        }
        json_array_append_new(list, json_string(a));
        return 0;
    }
    return mc_error_set(err, MC_ERR_INVALID, "%s is not a valid change command", instr);
}
