/* engine/runtime as a library, as root on this host: real namespaces, mounts, cgroups (v1 here),
 * seccomp and capabilities on a busybox root filesystem made offline. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "caps.h"
#include "cgroup.h"
#include "fs.h"
#include "passwd.h"
#include "rt-seccomp.h"
#include "runtime.h"
#include "spawn.h"
#include "strbuf.h"
#include "tap.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

static char *rootfs;
static struct eng_cgroup_manager *cgm;
static char *env_default[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                               "HOME=/root", NULL };

struct result {
    int code;
    struct mc_buf out;
    struct mc_buf err;
    struct mc_error *error; /* start failed */
};

static void
result_free(struct result *r)
{
    mc_buf_free(&r->out);
    mc_buf_free(&r->err);
    mc_error_free(r->error);
}

static struct eng_rt_config
base_config(char **argv)
{
    struct mc_error *err = NULL;
    struct eng_rt_config c = {
        .proc = { .argv = argv,
                  .env = env_default,
                  .caps = ENG_CAPS_DEFAULT,
                  .seccomp = eng_seccomp_default(ENG_CAPS_DEFAULT, &err) },
        .rootfs = rootfs,
        .hostname = "ctest",
        .net = ENG_RT_NET_PRIVATE,
    };
    if (err)
        tap_bail("seccomp: %s", err->message);
    return c;
}

/* Copies fd's output into b until EOF (or EIO from a pty whose other side closed). */
static bool
drain_one(int fd, struct mc_buf *b)
{
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
        mc_buf_append(b, buf, (size_t)n);
        return true;
    }
    return n < 0 && errno == EINTR;
}

static void
drain(struct eng_rt_process *p, struct result *r)
{
    struct pollfd pf[2] = { { .fd = p->stdout_fd, .events = POLLIN },
                            { .fd = p->stderr_fd, .events = POLLIN } };
    int open_n = p->stderr_fd >= 0 ? 2 : 1;
    while (open_n > 0 && poll(pf, 2, 20000) > 0) {
        for (int i = 0; i < 2; i++) {
            if (pf[i].fd < 0 || !pf[i].revents)
                continue;
            if (!drain_one(pf[i].fd, i ? &r->err : &r->out)) {
                pf[i].fd = -1;
                open_n--;
            }
        }
    }
}

static int
run(const struct eng_rt_config *cfg, const char *input, struct result *r)
{
    memset(r, 0, sizeof(*r));
    struct eng_rt_process p = ENG_RT_PROCESS_INIT;
    if (eng_rt_start(cfg, &p, &r->error) < 0)
        return -1;
    if (input && p.stdin_fd >= 0)
        (void)!write(p.stdin_fd, input, strlen(input));
    if (!cfg->proc.tty && p.stdin_fd >= 0) {
        close(p.stdin_fd);
        p.stdin_fd = -1;
    }
    drain(&p, r);
    eng_rt_wait(&p, &r->code, NULL);
    eng_rt_process_close(&p);
    return 0;
}

/* Runs argv with the base config; returns stdout (owned by the caller) and sets *code. */
static char *
sh(const char *script, int *code)
{
    char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
    struct eng_rt_config c = base_config(argv);
    struct result r;
    if (run(&c, NULL, &r) < 0) {
        tap_diag("start failed: %s", r.error->message);
        result_free(&r);
        *code = -1;
        return xstrdup("");
    }
    *code = r.code;
    if (r.err.len)
        tap_diag("stderr of '%s': %s", script, r.err.data);
    char *out = mc_buf_steal(&r.out);
    result_free(&r);
    return out ? out : xstrdup("");
}

static void
check_sh(const char *script, const char *want, const char *what)
{
    int code;
    _cleanup_free_ char *out = sh(script, &code);
    is_str(out, want, "%s", what);
}

static void
test_basics(void)
{
    char *echo[] = { "echo", "hi", NULL };
    struct eng_rt_config c = base_config(echo);
    struct result r;
    int64_t t0 = mc_now_ms();
    ok(run(&c, NULL, &r) == 0, "echo hi starts");
    tap_diag("echo hi: %lld ms from start to exit", (long long)(mc_now_ms() - t0));
    is_str(r.out.data ? r.out.data : "", "hi\n", "echo hi prints hi");
    is_int(r.code, 0, "exit 0");
    result_free(&r);

    int code;
    _cleanup_free_ char *o = sh("exit 3", &code);
    is_int(code, 3, "sh -c 'exit 3' exits 3");

    char *cat[] = { "cat", NULL };
    c = base_config(cat);
    c.proc.open_stdin = true;
    ok(run(&c, "x\n", &r) == 0 && r.out.data && streq(r.out.data, "x\n"), "stdin reaches cat");
    result_free(&r);

    char *nope[] = { "nope", NULL };
    c = base_config(nope);
    ok(run(&c, NULL, &r) < 0 && r.error->code == MC_ERR_NOT_FOUND &&
               strstr(r.error->message, "exec: \"nope\": executable file not found in $PATH"),
       "missing command: docker's wording, not found");
    result_free(&r);
    char *abs[] = { "/nope", NULL };
    c = base_config(abs);
    ok(run(&c, NULL, &r) < 0 && strstr(r.error->message, "no such file or directory"),
       "missing absolute path: no such file or directory");
    result_free(&r);
    char *dir[] = { "/etc/passwd", NULL };
    c = base_config(dir);
    ok(run(&c, NULL, &r) < 0 && r.error->code == MC_ERR_PERMISSION &&
               strstr(r.error->message, "permission denied"),
       "non-executable: permission denied");
    result_free(&r);
}

static void
test_isolation(void)
{
    check_sh("echo $$", "1\n", "the process is pid 1 of its own pid namespace");
    check_sh("ls /proc | grep -c '^[0-9]'", "3\n",
             "only its own processes are visible (sh, ls, grep)");
    check_sh("hostname", "ctest\n", "hostname set");
    check_sh("grep CapEff /proc/self/status", "CapEff:\t00000000a80425fb\n",
             "CapEff is Docker's default set");
    check_sh("grep CapBnd /proc/self/status", "CapBnd:\t00000000a80425fb\n",
             "the bounding set too");
    check_sh("grep Seccomp: /proc/self/status", "Seccomp:\t2\n", "seccomp filter on");
    if (access("/proc/kcore", F_OK) == 0)
        check_sh("wc -c < /proc/kcore", "0\n", "/proc/kcore masked");
    else
        check_sh("test -e /proc/kcore || echo absent", "absent\n",
                 "/proc/kcore absent (this kernel has none; masked where it exists)");
    check_sh("wc -c < /proc/interrupts", "0\n", "/proc/interrupts masked");
    check_sh("cat /proc/keys /proc/timer_list | wc -c", "0\n", "/proc/keys and timer_list masked");
    check_sh("ls /sys/firmware | wc -l", "0\n", "/sys/firmware masked");
    check_sh("echo x > /proc/sys/kernel/domainname 2>/dev/null || echo ro", "ro\n",
             "/proc/sys read-only");
    check_sh("echo x > /proc/sysrq-trigger 2>/dev/null || echo ro", "ro\n",
             "/proc/sysrq-trigger read-only");
    check_sh("touch /sys/kernel/x 2>/dev/null || echo ro", "ro\n", "/sys read-only");
    check_sh("ls /sys/class/net", "lo\n", "a private network namespace with loopback only");
    check_sh("cat /sys/class/net/lo/flags", "0x9\n", "loopback is up");
    check_sh("ls /dev | sort | tr '\\n' ' '",
             "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero ",
             "a minimal /dev");
    check_sh("head -c 3 /dev/zero | wc -c; echo x > /dev/null && echo w", "3\nw\n",
             "device nodes work");
    check_sh("mount -t tmpfs none /mnt 2>/dev/null || echo denied", "denied\n", "mount is denied");
}

static void
test_probe(void)
{
    int code;
    _cleanup_free_ char *out = sh("probe syscalls", &code);
    const char *want[] = { "keyctl=EPERM", "unshare=EPERM",     "unshare_user=EPERM",
                           "mount=EPERM",  "init_module=EPERM", "finit_module=EPERM",
                           "vsock=EPERM",  "clone3=ENOSYS",     "reboot=EPERM",
                           "swapoff=EPERM" };
    for (size_t i = 0; i < ELEMENTSOF(want); i++)
        ok(strstr(out, want[i]) != NULL, "probe: %s", want[i]);

    struct stat st;
    stat("/", &st);
    char script[128];
    snprintf(script, sizeof(script), "probe mknod %u %u", major(st.st_dev), minor(st.st_dev));
    _cleanup_free_ char *mk = sh(script, &code);
    ok(!strstr(mk, "open/tmp/blk=ok") && !strstr(mk, "open/dev/blk=ok") &&
               !strstr(mk, "open/dev/shm/blk=ok"),
       "a block device made with CAP_MKNOD cannot be opened anywhere writable");
    ok(strstr(mk, "mknod/tmp/blk=ok") != NULL, "mknod itself works (CAP_MKNOD, as docker)");
}

static void
test_user_and_fs(void)
{
    _cleanup_free_ char *pw = NULL, *gr = NULL;
    _cleanup_free_ char *pwp = mc_path_join(rootfs, "etc/passwd");
    _cleanup_free_ char *grp = mc_path_join(rootfs, "etc/group");
    mc_read_file(pwp, 1 << 20, &pw, NULL, NULL);
    mc_read_file(grp, 1 << 20, &gr, NULL, NULL);
    struct eng_exec_user u;
    ok(eng_exec_user_resolve("app", pw, gr, &u, NULL) == 0, "app resolves from the image");
    char *argv[] = { "sh", "-c", "id; grep CapEff /proc/self/status; pwd", NULL };
    struct eng_rt_config c = base_config(argv);
    c.proc.uid = u.uid;
    c.proc.gid = u.gid;
    c.proc.groups = u.groups;
    c.proc.ngroups = u.ngroups;
    c.proc.cwd = "/home/app/work";
    struct result r;
    ok(run(&c, NULL, &r) == 0 && r.out.data &&
               strstr(r.out.data, "uid=1000(app) gid=1000(app) groups=50(staff)") &&
               strstr(r.out.data, "CapEff:\t0000000000000000") &&
               strstr(r.out.data, "/home/app/work\n"),
       "runs as app with its groups, no effective capabilities, in a created cwd");
    tap_diag("%s", r.out.data ? r.out.data : "");
    result_free(&r);
    eng_exec_user_clear(&u);

    _cleanup_free_ char *host = mc_path_join(tap_tmpdir(), "bind");
    mc_mkdir_p(host, 0755, NULL);
    _cleanup_free_ char *f = mc_path_join(host, "f");
    mc_write_file_atomic(f, "hello\n", 6, 0644, NULL);
    struct eng_rt_bind binds[] = { { host, "/data/ro", true },
                                   { host, "/data/rw", false },
                                   { f, "/etc/single", true } };
    char *argv2[] = { "sh", "-c",
                      "cat /data/ro/f /etc/single; touch /data/ro/x 2>/dev/null || echo ro;"
                      "touch /data/rw/y && echo rw; touch /z 2>/dev/null || echo rootro;"
                      "touch /tmp/t 2>/dev/null || echo tmpro",
                      NULL };
    c = base_config(argv2);
    c.binds = binds;
    c.nbinds = ELEMENTSOF(binds);
    c.readonly_rootfs = true;
    ok(run(&c, NULL, &r) == 0 && r.out.data &&
               streq(r.out.data, "hello\nhello\nro\nrw\nrootro\ntmpro\n"),
       "binds ro and rw, a file bind, a read-only root");
    tap_diag("%s", r.out.data ? r.out.data : "");
    _cleanup_free_ char *y = mc_path_join(host, "y");
    ok(mc_path_exists(y), "the rw bind wrote to the host folder");
    result_free(&r);
}

static void
test_tty(void)
{
    char *argv[] = { "sh", "-c", "tty; echo err >&2; stty size", NULL };
    struct eng_rt_config c = base_config(argv);
    c.proc.tty = true;
    c.proc.rows = 24;
    c.proc.cols = 80;
    struct result r;
    ok(run(&c, NULL, &r) == 0 && r.out.data && streq(r.out.data, "/dev/pts/0\r\nerr\r\n24 80\r\n"),
       "tty: a pty from the container's devpts, stderr merged, size set");
    tap_diag("%s", r.out.data ? r.out.data : "");
    result_free(&r);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names the plan puts in /sys/fs/cgroup, sorted as ls prints them, each followed by a
 * space. */
static char *
plan_names(struct eng_cgroup *cg)
{
    struct eng_cgroup_mounts p;
    eng_cgroup_mount_plan(cg, false, &p);
    char *names[16];
    size_t n = 0;
    for (size_t i = 0; i < p.nbinds && n < 16; i++)
        names[n++] = p.binds[i].name;
    for (size_t i = 0; i < p.nlinks && n < 16; i++)
        names[n++] = p.links[i].name;
    qsort(names, n, sizeof(names[0]), cmp_str);
    struct mc_buf b = { 0 };
    for (size_t i = 0; i < n; i++) {
        mc_buf_append(&b, names[i], strlen(names[i]));
        mc_buf_append(&b, " ", 1);
    }
    eng_cgroup_mounts_clear(&p);
    char *s = mc_buf_steal(&b);
    return s ? s : xstrdup("");
}

/* /sys/fs/cgroup inside shows the container's own cgroup (v1 here: Docker's tmpfs with the
 * container's folder of each hierarchy), read-only unless privileged, in a user namespace
 * too. cg has pids.max 20. */
static void
test_cgroup_mounts(struct eng_cgroup *cg)
{
    bool v1 = eng_cgroup_manager_version(cgm) == 1;
    const char *file = v1 ? "/sys/fs/cgroup/pids/pids.max" : "/sys/fs/cgroup/pids.max";
    _cleanup_free_ char *script = xasprintf(
            "cat %s; echo 5 > %s 2>/dev/null || echo ro; mkdir /sys/fs/cgroup/x 2>/dev/null || "
            "echo ro; cat %s",
            file, file, file);
    char *argv[] = { "sh", "-c", script, NULL };
    struct eng_rt_config c = base_config(argv);
    c.proc.cgroup = cg;
    struct result r;
    ok(run(&c, NULL, &r) == 0 && r.out.data && streq(r.out.data, "20\nro\nro\n20\n"),
       "/sys/fs/cgroup shows the container's pids.max (20), read-only");
    tap_diag("%s", r.out.data ? r.out.data : (r.error ? r.error->message : ""));
    result_free(&r);

    c.userns_base = 200000;
    c.userns_size = 65536;
    ok(run(&c, NULL, &r) == 0 && r.out.data && streq(r.out.data, "20\nro\nro\n20\n"),
       "the same in a user namespace");
    tap_diag("%s", r.out.data ? r.out.data : (r.error ? r.error->message : ""));
    result_free(&r);

    char *priv_argv[] = { "sh", "-c", NULL, NULL };
    _cleanup_free_ char *priv_script = xasprintf("echo 30 > %s && cat %s", file, file);
    priv_argv[2] = priv_script;
    c = base_config(priv_argv);
    c.proc.cgroup = cg;
    c.privileged = true;
    c.proc.caps = ENG_CAPS_ALL;
    c.proc.seccomp = NULL;
    ok(run(&c, NULL, &r) == 0 && r.out.data && streq(r.out.data, "30\n"),
       "a privileged container may write its limits there");
    result_free(&r);

    if (v1) {
        char *ls[] = { "sh", "-c", "ls /sys/fs/cgroup | tr '\\n' ' '", NULL };
        c = base_config(ls);
        c.proc.cgroup = cg;
        bool started = run(&c, NULL, &r) == 0;
        const char *out = r.out.data ? r.out.data : "";
        _cleanup_free_ char *want = plan_names(cg);
        ok(started && streq(out, want),
           "v1: a folder per hierarchy the container has a cgroup in, links for co-mounted "
           "controllers (%s)",
           out);
        result_free(&r);
    }
}

/* no_new_privs before exec, and the seccomp filter on either way: loaded last with it,
 * before the user switch (with CAP_SYS_ADMIN) without it; for root and another user. */
static void
test_no_new_privs(void)
{
    char *argv[] = { "grep", "-E", "^(NoNewPrivs|Seccomp):", "/proc/self/status", NULL };
    for (int nnp = 0; nnp < 2; nnp++)
        for (int user = 0; user < 2; user++) {
            struct eng_rt_config c = base_config(argv);
            c.proc.no_new_privs = nnp;
            c.proc.uid = c.proc.gid = user ? 1000 : 0;
            struct result r;
            _cleanup_free_ char *want = xasprintf("NoNewPrivs:\t%d\nSeccomp:\t2\n", nnp);
            ok(run(&c, NULL, &r) == 0 && r.out.data && streq(r.out.data, want),
               "no_new_privs %s, uid %d: NoNewPrivs %d and the seccomp filter on",
               nnp ? "on" : "off", user ? 1000 : 0, nnp);
            result_free(&r);
        }
}

static void
test_cgroups(void)
{
    struct mc_error *err = NULL;
    struct eng_cgroup_limits pl = { .pids_limit = 20 };
    struct eng_cgroup *cg = eng_cgroup_create(cgm, "pids", &pl, &err);
    if (!ok(cg != NULL, "pids cgroup")) {
        tap_diag("%s", err->message);
        return;
    }
    char *argv[] = { "probe", "forks", "200", NULL };
    struct eng_rt_config c = base_config(argv);
    c.proc.cgroup = cg;
    struct result r;
    ok(run(&c, NULL, &r) == 0 && r.out.data && startswith(r.out.data, "forked="), "fork bomb ran");
    int forked = 999;
    if (r.out.data && sscanf(r.out.data, "forked=%d", &forked) != 1)
        forked = 999;
    ok(forked < 20 && forked > 5, "a fork bomb stays under pids-limit 20 (forked %d)", forked);
    ok(1, "kill(0, SIGKILL) in the container did not reach this process (own session)");
    result_free(&r);
    test_cgroup_mounts(cg);
    ok(eng_cgroup_destroy(cg, &err) == 0, "pids cgroup removed");
    eng_cgroup_free(cg);

    struct eng_cgroup_limits ml = { .memory = 32 << 20 };
    cg = eng_cgroup_create(cgm, "mem", &ml, &err);
    char *hog[] = { "probe", "hog", "200", NULL };
    c = base_config(hog);
    c.proc.cgroup = cg;
    ok(cg && run(&c, NULL, &r) == 0, "memory hog ran");
    is_int(r.code, 137, "the hog over 32 MB was killed");
    uint64_t kills = 0;
    ok(eng_cgroup_oom_kills(cg, &kills, &err) == 0 && kills > 0, "the kernel counted an OOM kill");
    result_free(&r);
    ok(eng_cgroup_destroy(cg, &err) == 0, "memory cgroup removed");
    eng_cgroup_free(cg);
    mc_error_free(err);
}

static void
test_exec(void)
{
    struct mc_error *err = NULL;
    struct eng_cgroup *cg = eng_cgroup_create(cgm, "exec", NULL, &err);
    char *argv[] = { "sleep", "30", NULL };
    struct eng_rt_config c = base_config(argv);
    c.proc.cgroup = cg;
    struct eng_rt_process p = ENG_RT_PROCESS_INIT;
    if (!ok(cg && eng_rt_start(&c, &p, &err) == 0, "long-running container started")) {
        tap_diag("%s", err ? err->message : "");
        return;
    }
    char *eargv[] = { "sh", "-c", "echo $$; tr '\\0' ' ' < /proc/1/cmdline; echo; hostname; pwd",
                      NULL };
    struct eng_rt_proc_config ep = c.proc;
    ep.argv = eargv;
    ep.cwd = "/tmp";
    struct eng_rt_process e = ENG_RT_PROCESS_INIT;
    ok(eng_rt_exec(p.pidfd, false, &ep, &e, &err) == 0, "exec into it");
    struct result r;
    memset(&r, 0, sizeof(r));
    drain(&e, &r);
    eng_rt_wait(&e, &r.code, NULL);
    ok(r.out.data && strstr(r.out.data, "sleep 30 \nctest\n/tmp\n") &&
               !startswith(r.out.data, "1\n"),
       "exec sees the container's pid namespace, hostname and cwd");
    tap_diag("%s", r.out.data ? r.out.data : "");
    pid_t *pids = NULL;
    size_t n = 0;
    ok(eng_cgroup_pids(cg, &pids, &n, &err) == 0 && n == 1 && pids[0] == p.pid,
       "after exec exits only the init remains in the cgroup");
    free(pids);
    eng_rt_process_close(&e);
    result_free(&r);

    char *nope[] = { "nope", NULL };
    ep.argv = nope;
    struct mc_error *xerr = NULL;
    ok(eng_rt_exec(p.pidfd, false, &ep, &e, &xerr) < 0 && xerr &&
               strstr(xerr->message, "executable file not found"),
       "exec of a missing command fails with docker's wording");
    mc_error_free(xerr);

    ok(eng_rt_signal(&p, SIGKILL) == 0, "kill the container");
    int code;
    eng_rt_wait(&p, &code, NULL);
    is_int(code, 137, "killed");
    eng_rt_process_close(&p);
    eng_cgroup_destroy(cg, NULL);
    eng_cgroup_free(cg);
    mc_error_free(err);
}

static void
test_userns_and_host_net(void)
{
    char *argv[] = { "sh", "-c", "id -u; cat /proc/self/uid_map", NULL };
    struct eng_rt_config c = base_config(argv);
    c.userns_base = 200000;
    c.userns_size = 65536;
    struct result r;
    ok(run(&c, NULL, &r) == 0 && r.out.data && strstr(r.out.data, "0\n") &&
               strstr(r.out.data, "200000"),
       "user namespace: root inside, mapped to 200000 outside");
    if (r.error)
        tap_diag("%s", r.error->message);
    tap_diag("%s", r.out.data ? r.out.data : "");
    result_free(&r);

    int code;
    _cleanup_free_ char *priv = sh("cat /proc/net/dev | wc -l", &code);
    char *argv2[] = { "sh", "-c", "cat /proc/net/dev | wc -l", NULL };
    c = base_config(argv2);
    c.net = ENG_RT_NET_HOST;
    const char *got = run(&c, NULL, &r) == 0 && r.out.data ? r.out.data : "?";
    ok(!streq(got, "?") && !streq(got, priv),
       "host network: the host's interfaces are visible (%.*s vs %.*s lines)",
       (int)strcspn(got, "\n"), got, (int)strcspn(priv, "\n"), priv);
    result_free(&r);
}

static void
setup(void)
{
    if (geteuid() != 0)
        tap_skip_all("needs root (namespaces, mounts, cgroups)");
    /* Reachable by the user namespace test's mapped root. */
    chmod(tap_tmpdir(), 0755);
    rootfs = mc_path_join(tap_tmpdir(), "rootfs");
    _cleanup_free_ char *script =
            mc_path_join(tap_srcdir(), "tests/integration/engine/make-rootfs.sh");
    _cleanup_free_ char *probe =
            mc_path_join(getenv("MACHINE_TEST_BUILDDIR"), "tests/integration/engine/probe");
    char *argv[] = { "sh", script, rootfs, probe, NULL };
    struct mc_spawn_result res;
    struct mc_error *err = NULL;
    if (mc_spawn(argv, &(struct mc_spawn_opts){ 0 }, &res, &err) < 0 || res.status != 0) {
        if (res.status == 77)
            tap_skip_all("busybox-static is not installed");
        tap_bail("cannot make the rootfs");
    }
    mc_spawn_result_free(&res);
    char parent[64];
    snprintf(parent, sizeof(parent), "machined-test-engine-runtime-%d", getpid());
    cgm = eng_cgroup_manager_new(&(struct eng_cgroup_options){ .parent = parent }, &err);
    if (!cgm)
        tap_bail("cgroups: %s", err->message);
}

int
main(void)
{
    setup();
    test_basics();
    test_isolation();
    test_no_new_privs();
    test_probe();
    test_user_and_fs();
    test_tty();
    test_cgroups();
    test_exec();
    test_userns_and_host_net();
    eng_cgroup_manager_remove_parent(cgm, NULL);
    eng_cgroup_manager_free(cgm);
    return tap_done();
}
