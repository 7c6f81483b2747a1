/* The plan of /sys/fs/cgroup inside a container (Docker's layout), computed from the cgroup's
 * folders alone; engine/runtime's child carries it out. */
#include <string.h>

#include "cgroup-internal.h"
#include "util.h"
#include "xalloc.h"

_Static_assert(ENG_CG__MAX <= ENG_CGROUP_MOUNT_MAX_BINDS, "one bind per v1 hierarchy at most");

static const char *
base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static bool
has_name(const struct eng_cgroup_mounts *p, const char *name)
{
    for (size_t i = 0; i < p->nbinds; i++)
        if (streq(p->binds[i].name, name))
            return true;
    for (size_t i = 0; i < p->nlinks; i++)
        if (streq(p->links[i].name, name))
            return true;
    return false;
}

/* "cpu,cpuacct": links "cpu" and "cpuacct" to it, as Docker makes them. */
static void
add_links(struct eng_cgroup_mounts *p, const char *name)
{
    if (!strchr(name, ','))
        return;
    for (const char *s = name; *s;) {
        size_t len = strcspn(s, ",");
        _cleanup_free_ char *part = xstrndup(s, len);
        if (len > 0 && !has_name(p, part)) {
            p->links = xreallocarray(p->links, p->nlinks + 1, sizeof(*p->links));
            p->links[p->nlinks++] = (struct eng_cgroup_mount_link){ TAKE_PTR(part), xstrdup(name) };
        }
        s += len + (s[len] == ',' ? 1 : 0);
    }
}

/* True when controller c shares its hierarchy with an earlier one (co-mounted). */
static bool
seen_root(const struct eng_cgroup_manager *m, int c)
{
    for (int k = 0; k < c; k++)
        if (m->v1_roots[k] && streq(m->v1_roots[k], m->v1_roots[c]))
            return true;
    return false;
}

void
eng_cgroup_mount_plan(const struct eng_cgroup *cg, bool writable, struct eng_cgroup_mounts *ret)
{
    const struct eng_cgroup_manager *m = cg->m;
    memset(ret, 0, sizeof(*ret));
    ret->version = m->ops->version;
    ret->readonly = !writable;
    if (ret->version != 1)
        return;
    for (int c = 0; c < ENG_CG__MAX; c++) {
        if (!cg->dirs[c] || !m->v1_roots[c] || seen_root(m, c))
            continue;
        const char *name = base_name(m->v1_roots[c]);
        ret->binds[ret->nbinds++] =
                (struct eng_cgroup_mount_bind){ xstrdup(cg->dirs[c]), xstrdup(name) };
    }
    for (size_t i = 0, n = ret->nbinds; i < n; i++)
        add_links(ret, ret->binds[i].name);
}

void
eng_cgroup_mounts_clear(struct eng_cgroup_mounts *p)
{
    for (size_t i = 0; i < p->nbinds; i++) {
        free(p->binds[i].source);
        free(p->binds[i].name);
    }
    for (size_t i = 0; i < p->nlinks; i++) {
        free(p->links[i].name);
        free(p->links[i].target);
    }
    free(p->links);
    memset(p, 0, sizeof(*p));
}
