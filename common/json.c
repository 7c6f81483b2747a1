#include <string.h>

#include "fs.h"
#include "json.h"
#include "strv.h"
#include "xalloc.h"

json_t *
mc_json_parse(const char *data, size_t len, const char *what, struct mc_error **err)
{
    json_error_t je;
    json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        mc_error_set(err, MC_ERR_INVALID, "%s is not valid JSON (line %d, column %d): %s", what,
                     je.line, je.column, je.text);
        return NULL;
    }
    return j;
}

json_t *
mc_json_load_file(const char *path, size_t max, struct mc_error **err)
{
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    if (mc_read_file(path, max, &data, &len, err) < 0)
        return NULL;
    _cleanup_free_ char *what = xasprintf("'%s'", path);
    return mc_json_parse(data, len, what, err);
}

char *
mc_json_dumps(const json_t *j, bool pretty)
{
    char *s = json_dumps(j, pretty ? JSON_INDENT(4) : JSON_COMPACT);
    if (!s)
        abort(); /* only on allocation failure */
    return s;
}

int
mc_json_save_file(const char *path, const json_t *j, bool pretty, mode_t mode,
                  struct mc_error **err)
{
    _cleanup_free_ char *s = mc_json_dumps(j, pretty);
    size_t n = strlen(s);
    s = xrealloc(s, n + 2);
    s[n] = '\n';
    s[n + 1] = '\0';
    return mc_write_file_atomic(path, s, n + 1, mode, err);
}

const char *
mc_json_str(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t
mc_json_int(const json_t *obj, const char *key, int64_t dflt)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    return dflt;
}

bool
mc_json_bool(const json_t *obj, const char *key, bool dflt)
{
    json_t *v = json_object_get(obj, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

void
mc_json_set_str(json_t *obj, const char *key, const char *s)
{
    if (s)
        json_object_set_new(obj, key, json_string(s));
    else
        json_object_del(obj, key);
}

json_t *
mc_json_from_strv(char *const *l)
{
    json_t *a = json_array();
    for (size_t i = 0; l && l[i]; i++)
        json_array_append_new(a, json_string(l[i]));
    return a;
}

char **
mc_json_to_strv(const json_t *arr)
{
    char **l = strv_new();
    size_t i;
    json_t *v;
    if (!json_is_array(arr))
        return l;
    json_array_foreach (arr, i, v)
        if (json_is_string(v))
            strv_add(&l, json_string_value(v));
    return l;
}
