#include <stdbool.h>
#include <string.h>

#include "passwd.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

/* One line of a colon-separated file, split into at most 7 fields (borrowed, not NUL-ended). */
struct fields {
    const char *v[7];
    size_t len[7];
    size_t n;
};

static void
split_line(const char *line, size_t len, struct fields *f)
{
    f->n = 0;
    const char *p = line, *end = line + len;
    while (f->n < ELEMENTSOF(f->v)) {
        const char *c = memchr(p, ':', (size_t)(end - p));
        f->v[f->n] = p;
        f->len[f->n] = c ? (size_t)(c - p) : (size_t)(end - p);
        f->n++;
        if (!c)
            break;
        p = c + 1;
    }
}

static bool
field_is(const struct fields *f, size_t i, const char *s)
{
    return i < f->n && f->len[i] == strlen(s) && memcmp(f->v[i], s, f->len[i]) == 0;
}

static bool
field_id(const struct fields *f, size_t i, unsigned int *ret)
{
    if (i >= f->n || f->len[i] == 0 || f->len[i] > 10)
        return false;
    char buf[16];
    memcpy(buf, f->v[i], f->len[i]);
    buf[f->len[i]] = '\0';
    uint64_t v;
    if (mc_parse_uint64(buf, &v) < 0 || v > UINT32_MAX)
        return false;
    *ret = (unsigned int)v;
    return true;
}

/* Calls fn on each non-comment line; stops when fn returns true. */
static void
for_each_line(const char *text, bool (*fn)(const struct fields *, void *), void *data)
{
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > 0 && p[0] != '#') {
            struct fields f;
            split_line(p, len, &f);
            if (fn(&f, data))
                return;
        }
        p = nl ? nl + 1 : NULL;
    }
}

static bool
parse_id(const char *s, unsigned int *ret)
{
    uint64_t v;
    if (mc_parse_uint64(s, &v) < 0 || v > UINT32_MAX - 1)
        return false;
    *ret = (unsigned int)v;
    return true;
}

struct user_match {
    const char *arg;
    bool numeric;
    unsigned int id;
    bool found;
    char *name;
    unsigned int uid, gid;
    char *home;
};

static bool
match_user(const struct fields *f, void *data)
{
    struct user_match *m = data;
    unsigned int uid, gid;
    if (f->n < 7 || !field_id(f, 2, &uid) || !field_id(f, 3, &gid))
        return false;
    if (!field_is(f, 0, m->arg) && !(m->numeric && uid == m->id))
        return false;
    m->found = true;
    m->name = xstrndup(f->v[0], f->len[0]);
    m->uid = uid;
    m->gid = gid;
    m->home = xstrndup(f->v[5], f->len[5]);
    return true;
}

struct group_match {
    const char *arg;  /* an explicit group, or NULL to collect the user's groups */
    const char *user; /* the user's name, for membership */
    bool numeric;
    unsigned int id;
    gid_t *gids;
    size_t n;
};

static bool
lists_member(const struct fields *f, const char *user)
{
    if (f->n < 4 || !user)
        return false;
    const char *p = f->v[3], *end = f->v[3] + f->len[3];
    size_t ul = strlen(user);
    while (p < end) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        size_t len = c ? (size_t)(c - p) : (size_t)(end - p);
        if (len == ul && memcmp(p, user, ul) == 0)
            return true;
        p += len + 1;
    }
    return false;
}

static bool
match_group(const struct fields *f, void *data)
{
    struct group_match *m = data;
    unsigned int gid;
    if (f->n < 3 || !field_id(f, 2, &gid))
        return false;
    bool hit = m->arg ? (field_is(f, 0, m->arg) || (m->numeric && gid == m->id))
                      : lists_member(f, m->user);
    if (hit) {
        m->gids = xreallocarray(m->gids, m->n + 1, sizeof(gid_t));
        m->gids[m->n++] = gid;
    }
    return hit && m->arg;
}

static int
resolve_user_part(const char *arg, const char *passwd, struct user_match *m,
                  struct eng_exec_user *u, struct mc_error **err)
{
    m->arg = arg;
    m->numeric = parse_id(arg, &m->id);
    /* No user: the entry of uid 0 (its home and groups), as runc does. */
    if (isempty(arg)) {
        m->numeric = true;
        m->id = 0;
    }
    for_each_line(passwd, match_user, m);
    if (m->found) {
        u->uid = m->uid;
        u->gid = m->gid;
        free(u->home);
        u->home = xstrdup(isempty(m->home) ? "/" : m->home);
        return 0;
    }
    if (isempty(arg))
        return 0;
    if (!m->numeric)
        return mc_error_set(err, MC_ERR_NOT_FOUND,
                            "Unable to find user %s: no matching entries in passwd file.", arg);
    u->uid = m->id;
    return 0;
}

static int
resolve_group_part(const char *arg, const char *group, const struct user_match *um,
                   struct eng_exec_user *u, struct mc_error **err)
{
    struct group_match gm = { .arg = arg, .user = um->name };
    if (arg) {
        gm.numeric = parse_id(arg, &gm.id);
        for_each_line(group, match_group, &gm);
        if (gm.n > 0)
            u->gid = gm.gids[0];
        else if (gm.numeric)
            u->gid = gm.id;
        free(gm.gids);
        if (gm.n == 0 && !gm.numeric)
            return mc_error_set(err, MC_ERR_NOT_FOUND,
                                "Unable to find group %s: no matching entries in group file.", arg);
        return 0;
    }
    if (um->name)
        for_each_line(group, match_group, &gm);
    u->groups = gm.gids;
    u->ngroups = gm.n;
    return 0;
}

int
eng_exec_user_resolve(const char *spec, const char *passwd, const char *group,
                      struct eng_exec_user *ret, struct mc_error **err)
{
    _cleanup_free_ char *user = xstrdup(spec ? spec : "");
    char *colon = strchr(user, ':');
    const char *group_arg = NULL;
    if (colon) {
        *colon = '\0';
        group_arg = colon + 1;
        if (isempty(group_arg))
            return mc_error_set(err, MC_ERR_INVALID, "User '%s' has an empty group.", spec);
    }
    struct eng_exec_user u = { .uid = 0, .gid = 0, .home = xstrdup("/") };
    struct user_match um = { 0 };
    int r = resolve_user_part(user, passwd, &um, &u, err);
    if (r == 0)
        r = resolve_group_part(group_arg, group, &um, &u, err);
    free(um.name);
    free(um.home);
    if (r < 0) {
        eng_exec_user_clear(&u);
        return mc_error_prefix(err, "user '%s': ", spec);
    }
    *ret = u;
    return 0;
}

void
eng_exec_user_clear(struct eng_exec_user *u)
{
    free(u->groups);
    free(u->home);
    u->groups = NULL;
    u->home = NULL;
    u->ngroups = 0;
}

struct name_match {
    unsigned int uid;
    char *name;
};

static bool
match_uid(const struct fields *f, void *data)
{
    struct name_match *m = data;
    unsigned int uid;
    if (f->n < 3 || !field_id(f, 2, &uid) || uid != m->uid)
        return false;
    m->name = xstrndup(f->v[0], f->len[0]);
    return true;
}

char *
eng_passwd_name(const char *passwd, uid_t uid)
{
    struct name_match m = { .uid = uid };
    for_each_line(passwd, match_uid, &m);
    return m.name ? m.name : xasprintf("%u", (unsigned)uid);
}
