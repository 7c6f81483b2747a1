/* The engine's start path without HTTP: eng_rt_start() + wait of `true` on a root filesystem,
 * in variants that add one cost at a time (network namespace, seccomp, cgroups, overlay), and
 * the bare floor (clone with the same namespaces + exec, no mounts). Prints the median of N
 * runs of each, in ms. Usage: rt-bench ROOTFS [N] [OVERLAY_LOWER]. Root only. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "cgroup.h"
#include "fs.h"
#include "rt-seccomp.h"
#include "runtime.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

static char *env[] = { "PATH=/bin", NULL };
static char *argv_true[] = { "/bin/true", NULL };

static int
cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double
median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp);
    return v[n / 2];
}

/* clone(ns flags) + exec true + wait: the floor a container start cannot go under. */
static double
floor_run(const char *rootfs, int net)
{
    double t0 = now_ms();
    int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | (net ? CLONE_NEWNET : 0);
    pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) {
        if (chroot(rootfs) < 0 || chdir("/") < 0)
            _exit(126);
        execve("/bin/true", argv_true, env);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    return now_ms() - t0;
}

struct variant {
    const char *name;
    bool net;
    bool seccomp;
    bool cgroup;
    bool overlay;
};

static double
one_run(const struct variant *v, const char *rootfs, const char *overlay,
        struct eng_cgroup_manager *m, int i)
{
    struct mc_error *err = NULL;
    struct eng_rt_config c = {
        .proc = { .argv = argv_true,
                  .env = env,
                  .caps = ENG_CAPS_DEFAULT,
                  .seccomp = v->seccomp ? eng_seccomp_default(ENG_CAPS_DEFAULT, &err) : NULL },
        .rootfs = rootfs,
        .hostname = "bench",
        .net = v->net ? ENG_RT_NET_PRIVATE : ENG_RT_NET_HOST,
    };
    _cleanup_free_ char *merged = NULL, *opts = NULL, *upper = NULL, *work = NULL;
    if (v->overlay) {
        upper = xasprintf("%s/u%d", overlay, i);
        work = xasprintf("%s/w%d", overlay, i);
        merged = xasprintf("%s/m%d", overlay, i);
        mc_mkdir_p(upper, 0755, NULL);
        mc_mkdir_p(work, 0755, NULL);
        mc_mkdir_p(merged, 0755, NULL);
        opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", rootfs, upper, work);
        c.rootfs = merged;
        c.overlay_data = opts;
        c.overlay_volatile = true;
    }
    double t0 = now_ms();
    char name[32];
    snprintf(name, sizeof(name), "b%d", i);
    struct eng_cgroup *cg = v->cgroup ? eng_cgroup_create(m, name, NULL, &err) : NULL;
    c.proc.cgroup = cg;
    struct eng_rt_process p = ENG_RT_PROCESS_INIT;
    if (eng_rt_start(&c, &p, &err) < 0) {
        fprintf(stderr, "rt-bench: %s: %s\n", v->name, err->message);
        return -1;
    }
    double t1 = now_ms();
    int code;
    eng_rt_wait(&p, &code, NULL);
    if (getenv("RT_BENCH_SPLIT"))
        fprintf(stderr, "%s: start %.2f wait %.2f\n", v->name, t1 - t0, now_ms() - t1);
    if (cg) {
        eng_cgroup_destroy(cg, NULL);
        eng_cgroup_free(cg);
    }
    double t = now_ms() - t0;
    eng_rt_process_close(&p);
    if (v->overlay) {
        mc_rm_rf(upper, NULL);
        mc_rm_rf(work, NULL);
        mc_rm_rf(merged, NULL);
    }
    return t;
}

int
main(int argc, char **argv)
{
    if (argc < 2 || geteuid() != 0) {
        fprintf(stderr, "usage (root): rt-bench ROOTFS [N] [OVERLAY_SCRATCH]\n");
        return 77;
    }
    const char *rootfs = argv[1];
    int n = 50;
    if (argc > 2 && (mc_parse_int(argv[2], &n) < 0 || n < 1)) {
        fprintf(stderr, "rt-bench: N must be a positive number\n");
        return 2;
    }
    const char *scratch = argc > 3 ? argv[3] : NULL;
    struct mc_error *err = NULL;
    char parent[64];
    snprintf(parent, sizeof(parent), "machined-bench-%d", getpid());
    struct eng_cgroup_manager *m =
            eng_cgroup_manager_new(&(struct eng_cgroup_options){ .parent = parent }, &err);
    if (!m || !eng_seccomp_default(ENG_CAPS_DEFAULT, &err)) {
        fprintf(stderr, "rt-bench: %s\n", err->message);
        return 1;
    }
    double *t = xcalloc((size_t)n, sizeof(double));
    for (int net = 0; net < 2; net++) {
        for (int i = 0; i < n; i++)
            t[i] = floor_run(rootfs, net);
        printf("floor clone+exec%s %.2f\n", net ? " +netns" : "", median(t, n));
    }
    static const struct variant vs[] = {
        { "runtime host-net", false, false, false, false },
        { "runtime +netns", true, false, false, false },
        { "runtime +netns +seccomp", true, true, false, false },
        { "runtime +netns +seccomp +cgroups", true, true, true, false },
        { "runtime +netns +seccomp +cgroups +overlay", true, true, true, true },
    };
    for (size_t k = 0; k < ELEMENTSOF(vs); k++) {
        if (vs[k].overlay && !scratch)
            continue;
        for (int i = 0; i < n; i++)
            if ((t[i] = one_run(&vs[k], rootfs, scratch, m, i)) < 0)
                return 1;
        printf("%s %.2f\n", vs[k].name, median(t, n));
    }
    eng_cgroup_manager_remove_parent(m, NULL);
    eng_cgroup_manager_free(m);
    free(t);
    return 0;
}
