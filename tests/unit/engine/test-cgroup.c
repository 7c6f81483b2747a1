/* cgroup layout detection, conversions, and both versions against fake cgroupfs trees. */
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup-priv.h"
#include "fs.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static const char hybrid[] =
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
        "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
static const char pure_v2[] =
        "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";

static void
test_layout(void)
{
    struct eng_mountinfo mi;
    struct eng_cgroup_layout l;
    ok(eng_mountinfo_parse(hybrid, &mi, NULL) == 0, "hybrid mountinfo parses");
    eng_cgroup_layout_from_mounts(&mi, &l);
    is_str(l.unified, "/sys/fs/cgroup/unified", "unified mount found");
    is_str(l.v1[ENG_CG_MEMORY], "/sys/fs/cgroup/memory", "v1 memory found");
    is_str(l.v1[ENG_CG_PIDS], "/sys/fs/cgroup/pids", "v1 pids found");
    is_int(eng_cgroup_choose_version(&l, "hugetlb\n"), 1, "hybrid host uses v1");
    eng_cgroup_layout_clear(&l);
    eng_mountinfo_free(&mi);

    ok(eng_mountinfo_parse(pure_v2, &mi, NULL) == 0, "v2 mountinfo parses");
    eng_cgroup_layout_from_mounts(&mi, &l);
    is_int(eng_cgroup_choose_version(&l, "cpuset cpu io memory hugetlb pids rdma\n"), 2,
           "pure v2 host with memory uses v2");
    is_int(eng_cgroup_choose_version(&l, "cpu io\n"), 0, "no memory controller anywhere");
    eng_cgroup_layout_clear(&l);
    eng_mountinfo_free(&mi);
}

static void
test_conversions(void)
{
    is_int(eng_cgroup_shares_to_weight(1024), 39, "1024 shares is weight 39 (as runc)");
    is_int(eng_cgroup_shares_to_weight(2), 1, "minimum shares");
    is_int(eng_cgroup_shares_to_weight(262144), 10000, "maximum shares");
    int64_t q, p;
    struct eng_cgroup_limits l = { .nano_cpus = 1500000000 };
    ok(eng_cgroup_cpu_max(&l, &q, &p) && q == 150000 && p == 100000, "1.5 CPUs");
    l = (struct eng_cgroup_limits){ .cpu_quota = 50000, .cpu_period = 200000 };
    ok(eng_cgroup_cpu_max(&l, &q, &p) && q == 50000 && p == 200000, "explicit quota and period");
    l = (struct eng_cgroup_limits){ 0 };
    ok(!eng_cgroup_cpu_max(&l, &q, &p), "no cpu limit");
    l = (struct eng_cgroup_limits){ .memory = 100 };
    is_int(eng_cgroup_memsw(&l), 200, "swap defaults to twice the memory");
    l.memory_swap = -1;
    is_int(eng_cgroup_memsw(&l), -1, "unlimited swap");
    l.memory_swap = 150;
    is_int(eng_cgroup_memsw(&l), 150, "explicit memory+swap");
}

static char *
read_value(const char *dir, const char *file)
{
    _cleanup_free_ char *path = mc_path_join(dir, file);
    char *data = NULL;
    if (mc_read_file(path, 4096, &data, NULL, NULL) < 0)
        return xstrdup("(missing)");
    return data;
}

static void
put(const char *dir, const char *file, const char *value)
{
    mc_mkdir_p(dir, 0755, NULL);
    _cleanup_free_ char *path = mc_path_join(dir, file);
    mc_write_file_atomic(path, value, strlen(value), 0644, NULL);
}

static pid_t
sleeper(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    return pid;
}

static bool
was_killed(pid_t pid)
{
    int status;
    for (int i = 0; i < 200; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
        usleep(10000);
    }
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    return false;
}

static void
test_v2_fake(void)
{
    _cleanup_free_ char *root = mc_path_join(tap_tmpdir(), "v2");
    struct mc_error *err = NULL;
    struct eng_cgroup_options o = { .v2_root = root, .parent = "machined/test" };
    _cleanup_(eng_cgroup_manager_freep) struct eng_cgroup_manager *m =
            eng_cgroup_manager_new(&o, &err);
    if (!ok(m != NULL, "v2 manager on a fake tree"))
        return;
    is_int(eng_cgroup_manager_version(m), 2, "version 2");
    _cleanup_free_ char *top = read_value(root, "cgroup.subtree_control");
    _cleanup_free_ char *mid = read_value(root, "machined/cgroup.subtree_control");
    ok(streq(top, "+memory +cpu +pids") && streq(mid, top), "controllers enabled down the tree");

    _cleanup_free_ char *dir = mc_path_join(root, "machined/test/c1");
    put(dir, "memory.swap.max", "max");
    struct eng_cgroup_limits l = {
        .memory = 64 << 20, .nano_cpus = 500000000, .cpu_shares = 512, .pids_limit = 100
    };
    _cleanup_(eng_cgroup_freep) struct eng_cgroup *cg = eng_cgroup_create(m, "c1", &l, &err);
    if (!ok(cg != NULL, "cgroup created"))
        return;
    is_str(eng_cgroup_path(cg), dir, "cgroup path");
    _cleanup_free_ char *mem = read_value(dir, "memory.max");
    _cleanup_free_ char *swap = read_value(dir, "memory.swap.max");
    _cleanup_free_ char *cpu = read_value(dir, "cpu.max");
    _cleanup_free_ char *weight = read_value(dir, "cpu.weight");
    _cleanup_free_ char *pids = read_value(dir, "pids.max");
    is_str(mem, "67108864", "memory.max");
    is_str(swap, "67108864", "memory.swap.max is swap alone (twice memory in total)");
    is_str(cpu, "50000 100000", "cpu.max");
    is_str(weight, "20", "cpu.weight from 512 shares");
    is_str(pids, "100", "pids.max");

    struct eng_cgroup_mounts plan;
    eng_cgroup_mount_plan(cg, false, &plan);
    ok(plan.version == 2 && plan.readonly && plan.nbinds == 0 && plan.nlinks == 0,
       "v2 mount plan: a cgroup namespace and cgroup2, read-only, no binds");
    eng_cgroup_mounts_clear(&plan);
    eng_cgroup_mount_plan(cg, true, &plan);
    ok(plan.version == 2 && !plan.readonly, "v2 mount plan of a privileged container: writable");
    eng_cgroup_mounts_clear(&plan);

    pid_t child = sleeper();
    ok(eng_cgroup_attach(cg, child, &err) == 0, "attach");
    _cleanup_free_ char *procs = read_value(dir, "cgroup.procs");
    char want[32];
    snprintf(want, sizeof(want), "%d", child);
    is_str(procs, want, "pid written to cgroup.procs");

    put(dir, "memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n");
    uint64_t kills = 99;
    ok(eng_cgroup_oom_kills(cg, &kills, &err) == 0 && kills == 1, "oom_kill read");
    put(dir, "cgroup.events", "populated 1\nfrozen 1\n");
    ok(eng_cgroup_freeze(cg, true, &err) == 0, "freeze waits for frozen 1");
    _cleanup_free_ char *fr = read_value(dir, "cgroup.freeze");
    is_str(fr, "1", "cgroup.freeze written");

    /* A fake tree has no cgroup.kill: destroy falls back to killing what cgroup.procs lists. */
    put(dir, "cgroup.procs", want);
    ok(eng_cgroup_destroy(cg, &err) == 0, "destroy");
    ok(!mc_path_exists(dir), "folder removed");
    ok(was_killed(child), "remaining process SIGKILLed");
    mc_error_free(err);
}

static void
test_v1_fake(void)
{
    _cleanup_free_ char *root = mc_path_join(tap_tmpdir(), "v1");
    struct mc_error *err = NULL;
    struct eng_cgroup_options o = { .v1_root = root };
    _cleanup_(eng_cgroup_manager_freep) struct eng_cgroup_manager *m =
            eng_cgroup_manager_new(&o, &err);
    if (!ok(m != NULL, "v1 manager on a fake tree"))
        return;
    is_int(eng_cgroup_manager_version(m), 1, "version 1");
    _cleanup_free_ char *mdir = mc_path_join(root, "memory/machined/c1");
    _cleanup_free_ char *cdir = mc_path_join(root, "cpu/machined/c1");
    _cleanup_free_ char *pdir = mc_path_join(root, "pids/machined/c1");
    _cleanup_free_ char *fdir = mc_path_join(root, "freezer/machined/c1");
    put(mdir, "memory.memsw.limit_in_bytes", "-1");
    struct eng_cgroup_limits l = {
        .memory = 32 << 20, .cpu_shares = 256, .nano_cpus = 2000000000, .pids_limit = 20
    };
    _cleanup_(eng_cgroup_freep) struct eng_cgroup *cg = eng_cgroup_create(m, "c1", &l, &err);
    if (!ok(cg != NULL, "cgroup created in every hierarchy"))
        return;
    _cleanup_free_ char *mem = read_value(mdir, "memory.limit_in_bytes");
    _cleanup_free_ char *memsw = read_value(mdir, "memory.memsw.limit_in_bytes");
    _cleanup_free_ char *quota = read_value(cdir, "cpu.cfs_quota_us");
    _cleanup_free_ char *period = read_value(cdir, "cpu.cfs_period_us");
    _cleanup_free_ char *shares = read_value(cdir, "cpu.shares");
    _cleanup_free_ char *pids = read_value(pdir, "pids.max");
    is_str(mem, "33554432", "memory.limit_in_bytes");
    is_str(memsw, "67108864", "memsw is memory plus swap");
    ok(streq(quota, "200000") && streq(period, "100000"), "two CPUs");
    is_str(shares, "256", "cpu.shares");
    is_str(pids, "20", "pids.max");

    struct eng_cgroup_mounts plan;
    eng_cgroup_mount_plan(cg, false, &plan);
    ok(plan.version == 1 && plan.readonly && plan.nbinds == 4 && plan.nlinks == 0,
       "v1 mount plan: read-only, one bind per hierarchy, no links");
    const char *want_src[] = { mdir, cdir, pdir, fdir };
    const char *want_name[] = { "memory", "cpu", "pids", "freezer" };
    for (size_t i = 0; i < plan.nbinds && i < 4; i++) {
        is_str(plan.binds[i].source, want_src[i], "v1 bind %zu: the container's own folder", i);
        is_str(plan.binds[i].name, want_name[i], "v1 bind %zu: at /sys/fs/cgroup/%s", i,
               want_name[i]);
    }
    _cleanup_free_ char *memfile = mc_path_join(plan.binds[0].source, "memory.limit_in_bytes");
    _cleanup_free_ char *pidsfile = mc_path_join(plan.binds[2].source, "pids.max");
    _cleanup_free_ char *seen_mem = read_value(plan.binds[0].source, "memory.limit_in_bytes");
    _cleanup_free_ char *seen_pids = read_value(plan.binds[2].source, "pids.max");
    ok(streq(seen_mem, "33554432") && streq(seen_pids, "20"),
       "what the container reads at memory/memory.limit_in_bytes and pids/pids.max: its limits");
    eng_cgroup_mounts_clear(&plan);
    eng_cgroup_mount_plan(cg, true, &plan);
    ok(plan.version == 1 && !plan.readonly && plan.nbinds == 4,
       "v1 mount plan of a privileged container: writable");
    eng_cgroup_mounts_clear(&plan);

    pid_t child = sleeper();
    ok(eng_cgroup_attach(cg, child, &err) == 0, "attach");
    _cleanup_free_ char *fprocs = read_value(fdir, "cgroup.procs");
    char want[32];
    snprintf(want, sizeof(want), "%d", child);
    is_str(fprocs, want, "pid written in every hierarchy");
    pid_t *list = NULL;
    size_t n = 0;
    ok(eng_cgroup_pids(cg, &list, &n, &err) == 0 && n == 1 && list[0] == child, "pids listed");
    free(list);

    ok(eng_cgroup_freeze(cg, true, &err) == 0, "freeze");
    _cleanup_free_ char *state = read_value(fdir, "freezer.state");
    is_str(state, "FROZEN", "freezer.state");
    put(mdir, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    uint64_t kills = 0;
    ok(eng_cgroup_oom_kills(cg, &kills, &err) == 0 && kills == 2, "oom_kill from oom_control");

    ok(eng_cgroup_destroy(cg, &err) == 0, "destroy");
    ok(!mc_path_exists(mdir) && !mc_path_exists(fdir), "folders removed");
    ok(was_killed(child), "remaining process SIGKILLed");

    mc_error_free(err);
}

/* A v1 host laid out as Debian's systemd does (cpu and cpuacct co-mounted as "cpu,cpuacct"),
 * here with pids and freezer co-mounted too, detected from mountinfo over a fake tree. */
static void
test_v1_comounted_plan(void)
{
    _cleanup_free_ char *root = mc_path_join(tap_tmpdir(), "v1co");
    _cleanup_free_ char *mi =
            xasprintf("31 23 0:28 / %s rw,relatime - tmpfs tmpfs rw,mode=755\n"
                      "32 31 0:29 / %s/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
                      "35 31 0:32 / %s/memory rw,relatime - cgroup cgroup rw,memory\n"
                      "39 31 0:36 / %s/pids,freezer rw,relatime - cgroup cgroup rw,pids,freezer\n",
                      root, root, root, root);
    struct mc_error *err = NULL;
    struct eng_cgroup_options o = { .mountinfo = mi, .parent = "machined" };
    _cleanup_(eng_cgroup_manager_freep) struct eng_cgroup_manager *m =
            eng_cgroup_manager_new(&o, &err);
    if (!ok(m != NULL && eng_cgroup_manager_version(m) == 1, "v1 manager from mountinfo")) {
        tap_diag("%s", err ? err->message : "");
        mc_error_free(err);
        return;
    }
    _cleanup_(eng_cgroup_freep) struct eng_cgroup *cg = eng_cgroup_create(m, "c2", NULL, &err);
    if (!ok(cg != NULL, "cgroup created in the co-mounted hierarchies"))
        return;
    struct eng_cgroup_mounts plan;
    eng_cgroup_mount_plan(cg, false, &plan);
    _cleanup_free_ char *mem = mc_path_join(root, "memory/machined/c2");
    _cleanup_free_ char *cpu = mc_path_join(root, "cpu,cpuacct/machined/c2");
    _cleanup_free_ char *pf = mc_path_join(root, "pids,freezer/machined/c2");
    ok(plan.nbinds == 3, "one bind per hierarchy, co-mounted controllers once (%zu)", plan.nbinds);
    if (plan.nbinds == 3) {
        ok(streq(plan.binds[0].source, mem) && streq(plan.binds[0].name, "memory"), "memory");
        ok(streq(plan.binds[1].source, cpu) && streq(plan.binds[1].name, "cpu,cpuacct"),
           "cpu,cpuacct named after its mount");
        ok(streq(plan.binds[2].source, pf) && streq(plan.binds[2].name, "pids,freezer"),
           "pids,freezer named after its mount");
    }
    _cleanup_free_ char *links = xstrdup("");
    for (size_t i = 0; i < plan.nlinks; i++) {
        char *next = xasprintf("%s%s->%s ", links, plan.links[i].name, plan.links[i].target);
        free(links);
        links = next;
    }
    is_str(links, "cpu->cpu,cpuacct cpuacct->cpu,cpuacct pids->pids,freezer freezer->pids,freezer ",
           "links for each co-mounted controller, as Docker makes them");
    eng_cgroup_mounts_clear(&plan);
    ok(plan.nbinds == 0 && plan.links == NULL, "the plan is cleared");
    eng_cgroup_destroy(cg, NULL);
    eng_cgroup_manager_remove_parent(m, NULL);
    mc_error_free(err);
}

int
main(void)
{
    test_layout();
    test_conversions();
    test_v2_fake();
    test_v1_fake();
    test_v1_comounted_plan();
    return tap_done();
}
