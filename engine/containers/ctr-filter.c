/* GET /containers/json filters (pure): id, name, label, status, exited, ancestor; before and
 * since are applied by the caller, which knows the other containers. */
#include <string.h>

#include "ctr-pure.h"
#include "json.h"
#include "util.h"

static const char *const known[] = { "id",     "name",     "label",  "status",
                                     "exited", "ancestor", "before", "since" };

int
eng_ctr_filters_check(const json_t *filters, struct mc_error **err)
{
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)filters, key, v) {
        size_t i = 0;
        while (i < ELEMENTSOF(known) && !streq(known[i], key))
            i++;
        if (i == ELEMENTSOF(known))
            return mc_error_set(err, MC_ERR_INVALID, "invalid filter '%s'", key);
        if (!streq(key, "status"))
            continue;
        const char *s;
        json_t *t;
        json_object_foreach (v, s, t)
            if (eng_ctr_state_from_name(s) < 0)
                return mc_error_set(err, MC_ERR_INVALID, "invalid filter 'status=%s'", s);
    }
    return 0;
}

/* Calls match on each value of filters[key]; true when the key is absent or any value
 * matches (docker ORs the values of one key and ANDs the keys). */
static bool
any_value(const json_t *filters, const char *key, const struct eng_ctr_view *v,
          bool (*match)(const char *value, const struct eng_ctr_view *v))
{
    const json_t *values = json_object_get(filters, key);
    if (!json_is_object(values) || json_object_size(values) == 0)
        return true;
    const char *val;
    json_t *t;
    json_object_foreach ((json_t *)values, val, t)
        if (match(val, v))
            return true;
    return false;
}

static bool
match_id(const char *val, const struct eng_ctr_view *v)
{
    return startswith(v->id, val) != NULL;
}

/* dockerd matches names with a regular expression; plain text is a substring match, and the
 * anchors ^ and $ the user adds are honoured. */
static bool
match_name(const char *val, const struct eng_ctr_view *v)
{
    const char *name = v->name;
    const char *bare = name[0] == '/' ? name + 1 : name;
    size_t n = strlen(val);
    bool start = val[0] == '^', end = n > 0 && val[n - 1] == '$';
    const char *body = val + start;
    size_t bn = n - start - end;
    if (start && end)
        return (strlen(bare) == bn && strncmp(bare, body, bn) == 0) ||
               (strlen(name) == bn && strncmp(name, body, bn) == 0);
    if (start)
        return strncmp(bare, body, bn) == 0 || strncmp(name, body, bn) == 0;
    if (end) {
        size_t ln = strlen(name);
        return ln >= bn && strncmp(name + ln - bn, body, bn) == 0;
    }
    return strstr(name, val) != NULL;
}

static bool
match_label(const char *val, const struct eng_ctr_view *v)
{
    const char *eq = strchr(val, '=');
    if (!eq)
        return json_object_get(v->labels, val) != NULL;
    char key[256];
    size_t kl = (size_t)(eq - val);
    if (kl >= sizeof(key))
        return false;
    memcpy(key, val, kl);
    key[kl] = '\0';
    return streq_ptr(mc_json_str(v->labels, key), eq + 1);
}

static bool
match_status(const char *val, const struct eng_ctr_view *v)
{
    return streq(val, eng_ctr_state_name(v->state.state));
}

static bool
match_exited(const char *val, const struct eng_ctr_view *v)
{
    int code;
    return v->state.state == ENG_CTR_EXITED && mc_parse_int(val, &code) == 0 &&
           code == v->state.exit_code;
}

/* The image as typed, its repository without ":latest", or the image id (or a prefix of it). */
static bool
match_ancestor(const char *val, const struct eng_ctr_view *v)
{
    if (streq_ptr(v->image, val))
        return true;
    size_t n = strlen(val);
    if (v->image && strncmp(v->image, val, n) == 0 && streq(v->image + n, ":latest"))
        return true;
    size_t in = v->image ? strlen(v->image) : 0;
    if (in && strncmp(val, v->image, in) == 0 && streq(val + in, ":latest"))
        return true;
    if (!v->image_id)
        return false;
    const char *id = startswith(v->image_id, "sha256:") ? v->image_id + 7 : v->image_id;
    const char *want = startswith(val, "sha256:") ? val + 7 : val;
    return strlen(want) >= 4 && startswith(id, want) != NULL;
}

/* Every label filter must match (dockerd's MatchKVList). */
static bool
label_all(const json_t *filters, const struct eng_ctr_view *v)
{
    const json_t *values = json_object_get(filters, "label");
    const char *val;
    json_t *t;
    json_object_foreach ((json_t *)values, val, t)
        if (!match_label(val, v))
            return false;
    return true;
}

bool
eng_ctr_filters_match(const json_t *filters, const struct eng_ctr_view *v)
{
    return any_value(filters, "id", v, match_id) && any_value(filters, "name", v, match_name) &&
           any_value(filters, "status", v, match_status) &&
           any_value(filters, "exited", v, match_exited) &&
           any_value(filters, "ancestor", v, match_ancestor) && label_all(filters, v);
}
