/* cgroup v1: one folder per controller (memory, cpu, pids, freezer) under each hierarchy's
 * <mount>/<parent>. Hybrid hosts use this too. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "fs.h"
#include "log.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

static int
v1_init(struct eng_cgroup_manager *m, struct mc_error **err)
{
    for (int c = 0; c < ENG_CG__MAX; c++) {
        if (!m->v1_roots[c])
            continue;
        _cleanup_free_ char *dir = mc_path_join(m->v1_roots[c], m->parent);
        if (mc_mkdir_p(dir, 0755, err) < 0)
            return mc_error_prefix(err, "cgroup v1 %s: ", eng_cg_controller_names[c]);
    }
    return 0;
}

static int
need(struct eng_cgroup *cg, enum eng_cg_controller c, struct mc_error **err)
{
    if (cg->dirs[c])
        return 0;
    return mc_error_set(err, MC_ERR_UNSUPPORTED,
                        "The %s cgroup controller is not mounted on this host.",
                        eng_cg_controller_names[c]);
}

static int
v1_memory(struct eng_cgroup *cg, const struct eng_cgroup_limits *l, struct mc_error **err)
{
    if (l->memory <= 0)
        return 0;
    const char *dir = cg->dirs[ENG_CG_MEMORY];
    if (eng_cg_write_int(dir, "memory.limit_in_bytes", l->memory, err) < 0)
        return -1;
    _cleanup_free_ char *memsw = mc_path_join(dir, "memory.memsw.limit_in_bytes");
    if (!mc_path_exists(memsw)) /* no swap accounting */
        return 0;
    return eng_cg_write_int(dir, "memory.memsw.limit_in_bytes", eng_cgroup_memsw(l), err);
}

static int
v1_cpu(struct eng_cgroup *cg, const struct eng_cgroup_limits *l, struct mc_error **err)
{
    int64_t quota, period;
    bool bw = eng_cgroup_cpu_max(l, &quota, &period);
    if (!bw && l->cpu_shares <= 0)
        return 0;
    if (need(cg, ENG_CG_CPU, err) < 0)
        return -1;
    const char *dir = cg->dirs[ENG_CG_CPU];
    if (bw && (eng_cg_write_int(dir, "cpu.cfs_period_us", period, err) < 0 ||
               eng_cg_write_int(dir, "cpu.cfs_quota_us", quota, err) < 0))
        return -1;
    if (l->cpu_shares > 0 && eng_cg_write_int(dir, "cpu.shares", l->cpu_shares, err) < 0)
        return -1;
    return 0;
}

static int
v1_create(struct eng_cgroup *cg, const struct eng_cgroup_limits *l, struct mc_error **err)
{
    if (need(cg, ENG_CG_MEMORY, err) < 0 || v1_memory(cg, l, err) < 0 || v1_cpu(cg, l, err) < 0)
        return -1;
    if (l->pids_limit > 0) {
        if (need(cg, ENG_CG_PIDS, err) < 0)
            return -1;
        return eng_cg_write_int(cg->dirs[ENG_CG_PIDS], "pids.max", l->pids_limit, err);
    }
    return 0;
}

static int
v1_attach(struct eng_cgroup *cg, pid_t pid, struct mc_error **err)
{
    for (int c = 0; c < ENG_CG__MAX; c++)
        if (cg->dirs[c] && eng_cg_write_int(cg->dirs[c], "cgroup.procs", pid, err) < 0)
            return -1;
    return 0;
}

_Static_assert(ENG_CG__MAX <= ENG_CGROUP_JOIN_MAX, "a join fd per v1 controller");

static int
v1_join_fds(struct eng_cgroup *cg, int *fds, struct mc_error **err)
{
    int n = 0;
    for (int c = 0; c < ENG_CG__MAX; c++) {
        if (!cg->dirs[c])
            continue;
        _cleanup_free_ char *p = mc_path_join(cg->dirs[c], "tasks");
        fds[n] = open(p, O_WRONLY | O_CLOEXEC);
        if (fds[n] < 0) {
            int e = errno;
            while (n > 0)
                close(fds[--n]);
            return mc_error_sys(err, e, "cannot open '%s'", p);
        }
        n++;
    }
    return n;
}

static int
v1_freeze(struct eng_cgroup *cg, bool frozen, struct mc_error **err)
{
    if (need(cg, ENG_CG_FREEZER, err) < 0)
        return -1;
    const char *dir = cg->dirs[ENG_CG_FREEZER];
    const char *want = frozen ? "FROZEN" : "THAWED";
    int64_t deadline = mc_now_ms() + 5000;
    /* FREEZING may persist while tasks are in uninterruptible sleep: write again until done. */
    while (mc_now_ms() < deadline) {
        if (eng_cg_write(dir, "freezer.state", want, err) < 0)
            return -1;
        _cleanup_free_ char *state = eng_cg_read(dir, "freezer.state", err);
        if (!state)
            return -1;
        if (startswith(state, want))
            return 0;
        mc_sleep_ms(2);
    }
    return mc_error_set(err, MC_ERR_TIMEOUT, "The cgroup '%s' did not reach %s within 5 seconds.",
                        dir, want);
}

static int
v1_oom_kills(struct eng_cgroup *cg, uint64_t *ret, struct mc_error **err)
{
    _cleanup_free_ char *text = eng_cg_read(cg->dirs[ENG_CG_MEMORY], "memory.oom_control", err);
    if (!text)
        return -1;
    if (!eng_cg_keyed_value(text, "oom_kill", ret))
        *ret = 0;
    return 0;
}

static int
v1_kill_all(struct eng_cgroup *cg)
{
    const char *dir = cg->dirs[ENG_CG_MEMORY] ? cg->dirs[ENG_CG_MEMORY] : cg->dirs[ENG_CG_PIDS];
    if (!dir)
        return 0;
    /* Freeze first so that nothing forks between reading the list and the kills. */
    bool frozen = cg->dirs[ENG_CG_FREEZER] && v1_freeze(cg, true, NULL) == 0;
    for (int i = 0; i < 10 && eng_cg_kill_procs(dir) > 0; i++)
        if (!frozen)
            mc_sleep_ms(1);
    if (frozen)
        v1_freeze(cg, false, NULL);
    return 0;
}

const struct eng_cgroup_ops eng_cgroup_v1_ops = {
    .version = 1,
    .init = v1_init,
    .create = v1_create,
    .attach = v1_attach,
    .join_fds = v1_join_fds,
    .freeze = v1_freeze,
    .oom_kills = v1_oom_kills,
    .kill_all = v1_kill_all,
};
