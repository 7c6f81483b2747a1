/* Routing: see api-router.h. */
#include <string.h>

#include "api-router.h"
#include "util.h"
#include "xalloc.h"

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

void
eng_api_version_split(const char *path, const char **ret_rest, int *ret_version,
                      const char **ret_version_text, size_t *ret_version_len)
{
    *ret_rest = path;
    *ret_version = 0;
    *ret_version_text = NULL;
    *ret_version_len = 0;
    if (path[0] != '/' || path[1] != 'v' || !is_digit(path[2]))
        return;
    const char *p = path + 2;
    size_t n = strspn(p, "0123456789.");
    if (p[n] != '/' && p[n] != '\0')
        return;
    /* major.minor[.patch]: a patch above zero counts as one minor more, so it is "too new". */
    long parts[3] = { 0, 0, 0 };
    int idx = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '.') {
            if (++idx > 2)
                break;
            continue;
        }
        if (parts[idx] < 100000)
            parts[idx] = parts[idx] * 10 + (p[i] - '0');
    }
    long minor = parts[1] + (parts[2] > 0 ? 1 : 0);
    long v = parts[0] * 100 + (minor > 99 ? 99 : minor);
    *ret_version = v > 100000 ? 100000 : (int)v;
    if (*ret_version == 0)
        *ret_version = -1; /* "/v0.0/": present but below any minimum */
    *ret_version_text = p;
    *ret_version_len = n;
    *ret_rest = p + n;
}

int
eng_api_version_check(int version, const char *text, size_t len, struct mc_error **err)
{
    if (version == 0)
        return 0;
    if (version < ENG_API_MIN_VERSION_NUM)
        return mc_error_set(err, MC_ERR_INVALID,
                            "client version %.*s is too old. Minimum supported API version is "
                            "%s, please upgrade your client to a newer version",
                            (int)len, text, ENG_API_MIN_VERSION);
    if (version > ENG_API_VERSION_NUM)
        return mc_error_set(err, MC_ERR_INVALID,
                            "client version %.*s is too new. Maximum supported API version is %s",
                            (int)len, text, ENG_API_VERSION);
    return 0;
}

static void
add_param(struct eng_route_match *m, const char *name, size_t name_len, const char *val,
          size_t val_len)
{
    if (m->n_params >= ENG_ROUTE_MAX_PARAMS)
        return;
    m->names[m->n_params] = xstrndup(name, name_len);
    m->values[m->n_params] = xstrndup(val, val_len);
    m->n_params++;
}

/* Patterns with {x*}: a literal prefix and suffix around one or more segments. */
static bool
match_greedy(const char *pat, const char *open, const char *path, struct eng_route_match *m)
{
    const char *close = strchr(open, '}');
    if (!close)
        return false;
    size_t pre = (size_t)(open - pat);
    const char *suffix = close + 1;
    size_t suf = strlen(suffix), plen = strlen(path);
    if (plen < pre + suf + 1 || strncmp(path, pat, pre) != 0 ||
        strcmp(path + plen - suf, suffix) != 0)
        return false;
    const char *mid = path + pre;
    size_t mid_len = plen - pre - suf;
    if (mid[0] == '/' || mid[mid_len - 1] == '/')
        return false;
    add_param(m, open + 1, (size_t)(close - open - 2), mid, mid_len);
    return true;
}

static bool
match_segments(const char *pat, const char *path, struct eng_route_match *m)
{
    const char *p = pat, *s = path;
    while (*p) {
        if (*p != '{') {
            if (*p++ != *s++)
                return false;
            continue;
        }
        const char *close = strchr(p, '}');
        if (!close)
            return false;
        size_t n = strcspn(s, "/");
        if (n == 0)
            return false;
        add_param(m, p + 1, (size_t)(close - p - 1), s, n);
        p = close + 1;
        s += n;
    }
    return *s == '\0';
}

bool
eng_route_matches(const struct eng_route *r, const char *method, const char *path,
                  struct eng_route_match *m)
{
    memset(m, 0, sizeof(*m));
    if (!streq(r->method, "*") && !streq(r->method, method))
        return false;
    const char *open = strchr(r->pattern, '{');
    const char *star = open ? strstr(open, "*}") : NULL;
    bool found =
            star ? match_greedy(r->pattern, open, path, m) : match_segments(r->pattern, path, m);
    if (!found) {
        eng_route_match_clear(m);
        return false;
    }
    m->route = r;
    return true;
}

bool
eng_router_find(const struct eng_module *const *modules, const char *method, const char *path,
                struct eng_route_match *ret)
{
    for (size_t i = 0; modules[i]; i++)
        for (size_t j = 0; j < modules[i]->n_routes; j++)
            if (eng_route_matches(&modules[i]->routes[j], method, path, ret))
                return true;
    memset(ret, 0, sizeof(*ret));
    return false;
}

const char *
eng_route_match_param(const struct eng_route_match *m, const char *name)
{
    for (size_t i = 0; i < m->n_params; i++)
        if (streq(m->names[i], name))
            return m->values[i];
    return NULL;
}

void
eng_route_match_clear(struct eng_route_match *m)
{
    for (size_t i = 0; i < m->n_params; i++) {
        free(m->names[i]);
        free(m->values[i]);
    }
    memset(m, 0, sizeof(*m));
}
