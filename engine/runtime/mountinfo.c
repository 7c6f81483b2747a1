#include <stdio.h>
#include <string.h>

#include "mountinfo.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *
unescape(const char *s, size_t n)
{
    char *out = xmalloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
            s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
            out[j++] = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = '\0';
    return out;
}

/* Splits one line (without its newline) into at most max space-separated fields. */
static size_t
split_fields(const char *line, size_t len, const char **starts, size_t *lens, size_t max)
{
    size_t n = 0, i = 0;
    while (i < len && n < max) {
        while (i < len && line[i] == ' ')
            i++;
        if (i >= len)
            break;
        starts[n] = line + i;
        while (i < len && line[i] != ' ')
            i++;
        lens[n] = (size_t)(line + i - starts[n]);
        n++;
    }
    return n;
}

static bool
parse_uint_field(const char *s, size_t n, unsigned int *ret)
{
    unsigned long v = 0;
    if (n == 0 || n > 9)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    *ret = (unsigned int)v;
    return true;
}

static bool
parse_devno(const char *s, size_t n, struct eng_mount_entry *e)
{
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return false;
    return parse_uint_field(s, (size_t)(colon - s), &e->major) &&
           parse_uint_field(colon + 1, n - (size_t)(colon - s) - 1, &e->minor);
}

static void
mount_entry_clear(struct eng_mount_entry *e)
{
    free(e->root);
    free(e->mount_point);
    free(e->options);
    free(e->fstype);
    free(e->source);
    free(e->super_options);
}

/* Fields: id parent major:minor root mount-point options [optional...] - fstype source super. */
static int
parse_mount_line(const char *line, size_t len, struct eng_mount_entry *e)
{
    const char *f[64];
    size_t l[64];
    size_t n = split_fields(line, len, f, l, ELEMENTSOF(f));
    size_t sep = 6;
    while (sep < n && !(l[sep] == 1 && f[sep][0] == '-'))
        sep++;
    if (n < 6 || sep + 3 > n)
        return -1;
    unsigned int id, parent;
    if (!parse_uint_field(f[0], l[0], &id) || !parse_uint_field(f[1], l[1], &parent) ||
        !parse_devno(f[2], l[2], e))
        return -1;
    e->id = (int)id;
    e->parent_id = (int)parent;
    e->root = unescape(f[3], l[3]);
    e->mount_point = unescape(f[4], l[4]);
    e->options = xstrndup(f[5], l[5]);
    e->fstype = unescape(f[sep + 1], l[sep + 1]);
    e->source = unescape(f[sep + 2], l[sep + 2]);
    e->super_options = sep + 3 < n ? xstrndup(f[sep + 3], l[sep + 3]) : xstrdup("");
    return 0;
}

int
eng_mountinfo_parse(const char *text, struct eng_mountinfo *ret, struct mc_error **err)
{
    struct eng_mountinfo mi = { NULL, 0 };
    size_t lineno = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        if (len > 0) {
            mi.entries = xreallocarray(mi.entries, mi.n + 1, sizeof(*mi.entries));
            struct eng_mount_entry *e = &mi.entries[mi.n];
            memset(e, 0, sizeof(*e));
            if (parse_mount_line(p, len, e) < 0) {
                mount_entry_clear(e);
                eng_mountinfo_free(&mi);
                return mc_error_set(err, MC_ERR_INVALID, "mountinfo line %zu is malformed.",
                                    lineno);
            }
            mi.n++;
        }
        p += len + (nl ? 1 : 0);
    }
    *ret = mi;
    return 0;
}

void
eng_mountinfo_free(struct eng_mountinfo *mi)
{
    for (size_t i = 0; i < mi->n; i++)
        mount_entry_clear(&mi->entries[i]);
    free(mi->entries);
    mi->entries = NULL;
    mi->n = 0;
}

bool
eng_option_has(const char *opts, const char *opt)
{
    size_t n = strlen(opt);
    for (const char *p = opts; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && memcmp(p, opt, n) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

static int
parse_cgroup_line(const char *line, size_t len, struct eng_proc_cgroup *e)
{
    const char *c1 = memchr(line, ':', len);
    if (!c1)
        return -1;
    const char *c2 = memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line));
    if (!c2)
        return -1;
    unsigned int id;
    if (!parse_uint_field(line, (size_t)(c1 - line), &id))
        return -1;
    const char *path = c2 + 1;
    size_t plen = len - (size_t)(path - line);
    if (plen == 0 || path[0] != '/')
        return -1;
    e->hierarchy = (int)id;
    _cleanup_free_ char *ctl = xstrndup(c1 + 1, (size_t)(c2 - c1 - 1));
    e->controllers = strv_split(ctl, ",");
    e->path = xstrndup(path, plen);
    return 0;
}

int
eng_proc_cgroup_parse(const char *text, struct eng_proc_cgroups *ret, struct mc_error **err)
{
    struct eng_proc_cgroups c = { NULL, 0 };
    size_t lineno = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        if (len > 0) {
            c.entries = xreallocarray(c.entries, c.n + 1, sizeof(*c.entries));
            memset(&c.entries[c.n], 0, sizeof(c.entries[c.n]));
            if (parse_cgroup_line(p, len, &c.entries[c.n]) < 0) {
                eng_proc_cgroups_free(&c);
                return mc_error_set(err, MC_ERR_INVALID, "cgroup file line %zu is malformed.",
                                    lineno);
            }
            c.n++;
        }
        p += len + (nl ? 1 : 0);
    }
    *ret = c;
    return 0;
}

void
eng_proc_cgroups_free(struct eng_proc_cgroups *c)
{
    for (size_t i = 0; i < c->n; i++) {
        strv_free(c->entries[i].controllers);
        free(c->entries[i].path);
    }
    free(c->entries);
    c->entries = NULL;
    c->n = 0;
}

const char *
eng_proc_cgroup_path(const struct eng_proc_cgroups *c, const char *controller)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct eng_proc_cgroup *e = &c->entries[i];
        if (!controller && e->hierarchy == 0 && strv_length(e->controllers) == 0)
            return e->path;
        if (controller && strv_contains(e->controllers, controller))
            return e->path;
    }
    return NULL;
}
