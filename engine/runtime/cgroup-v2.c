/* cgroup v2: one folder per container under <root>/<parent>, controllers enabled down the
 * tree through cgroup.subtree_control. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup-internal.h"
#include "fs.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

static const char enable[] = "+memory +cpu +pids";

static int
v2_init(struct eng_cgroup_manager *m, struct mc_error **err)
{
    _cleanup_free_ char *parent = mc_path_join(m->v2_root, m->parent);
    if (mc_mkdir_p(parent, 0755, err) < 0)
        return -1;
    /* Enable the controllers in every folder from the root down to the parent. */
    _cleanup_free_ char *dir = xstrdup(m->v2_root);
    if (eng_cg_write(dir, "cgroup.subtree_control", enable, err) < 0)
        return mc_error_prefix(err, "cgroup v2: ");
    for (const char *p = m->parent; *p;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len > 0) {
            char *next = xasprintf("%s/%.*s", dir, (int)len, p);
            free(dir);
            dir = next;
            if (eng_cg_write(dir, "cgroup.subtree_control", enable, err) < 0)
                return mc_error_prefix(err, "cgroup v2: ");
        }
        p += len + (slash ? 1 : 0);
    }
    return 0;
}

static int
v2_memory(const char *dir, const struct eng_cgroup_limits *l, struct mc_error **err)
{
    if (l->memory <= 0)
        return 0;
    if (eng_cg_write_int(dir, "memory.max", l->memory, err) < 0)
        return -1;
    int64_t memsw = eng_cgroup_memsw(l);
    /* v2 limits swap alone, v1 memory plus swap; the file exists only with swap accounting. */
    const char *file = "memory.swap.max";
    _cleanup_free_ char *path = mc_path_join(dir, file);
    if (!mc_path_exists(path))
        return 0;
    if (memsw < 0)
        return eng_cg_write(dir, file, "max", err);
    return eng_cg_write_int(dir, file, memsw - l->memory, err);
}

static int
v2_create(struct eng_cgroup *cg, const struct eng_cgroup_limits *l, struct mc_error **err)
{
    const char *dir = cg->dirs[0];
    if (v2_memory(dir, l, err) < 0)
        return -1;
    int64_t quota, period;
    if (eng_cgroup_cpu_max(l, &quota, &period)) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%lld %lld", (long long)quota, (long long)period);
        if (eng_cg_write(dir, "cpu.max", buf, err) < 0)
            return -1;
    }
    if (l->cpu_shares > 0 &&
        eng_cg_write_int(dir, "cpu.weight",
                         (int64_t)eng_cgroup_shares_to_weight((uint64_t)l->cpu_shares), err) < 0)
        return -1;
    if (l->pids_limit > 0)
        return eng_cg_write_int(dir, "pids.max", l->pids_limit, err);
    return eng_cg_write(dir, "pids.max", "max", err);
}

static int
v2_attach(struct eng_cgroup *cg, pid_t pid, struct mc_error **err)
{
    return eng_cg_write_int(cg->dirs[0], "cgroup.procs", pid, err);
}

static int
v2_freeze(struct eng_cgroup *cg, bool frozen, struct mc_error **err)
{
    if (eng_cg_write(cg->dirs[0], "cgroup.freeze", frozen ? "1" : "0", err) < 0)
        return -1;
    int64_t deadline = mc_now_ms() + 5000;
    while (mc_now_ms() < deadline) {
        _cleanup_free_ char *ev = eng_cg_read(cg->dirs[0], "cgroup.events", err);
        uint64_t v;
        if (!ev)
            return -1;
        if (eng_cg_keyed_value(ev, "frozen", &v) && v == (frozen ? 1u : 0u))
            return 0;
        mc_sleep_ms(2);
    }
    return mc_error_set(err, MC_ERR_TIMEOUT, "The cgroup '%s' did not %s within 5 seconds.",
                        cg->dirs[0], frozen ? "freeze" : "thaw");
}

static int
v2_oom_kills(struct eng_cgroup *cg, uint64_t *ret, struct mc_error **err)
{
    _cleanup_free_ char *ev = eng_cg_read(cg->dirs[0], "memory.events", err);
    if (!ev)
        return -1;
    if (!eng_cg_keyed_value(ev, "oom_kill", ret))
        *ret = 0;
    return 0;
}

static int
v2_kill_all(struct eng_cgroup *cg)
{
    /* cgroup.kill (Linux 5.14) kills atomically, including processes being forked; the list
     * covers older kernels (and fake trees). */
    _cleanup_free_ char *kill_file = mc_path_join(cg->dirs[0], "cgroup.kill");
    if (mc_path_exists(kill_file))
        eng_cg_write(cg->dirs[0], "cgroup.kill", "1", NULL);
    return eng_cg_kill_procs(cg->dirs[0]);
}

static int
v2_clone_fd(struct eng_cgroup *cg)
{
    return open(cg->dirs[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

const struct eng_cgroup_ops eng_cgroup_v2_ops = {
    .version = 2,
    .init = v2_init,
    .create = v2_create,
    .attach = v2_attach,
    .clone_fd = v2_clone_fd,
    .freeze = v2_freeze,
    .oom_kills = v2_oom_kills,
    .kill_all = v2_kill_all,
};
