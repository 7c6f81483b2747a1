/* The parent's side of starting a container process: pipes, the clone, the id maps and cgroup
 * of the child, then waiting until it has exec'd or reporting the step that failed. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cgroup.h"
#include "fs.h"
#include "rt-child.h"
#include "util.h"
#include "xalloc.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

const char *const eng_rt_masked_paths[] = {
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
    NULL,
};

const char *const eng_rt_readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static const char default_path[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

static const char *
env_path(char *const *env)
{
    for (size_t i = 0; env && env[i]; i++) {
        const char *v = startswith(env[i], "PATH=");
        if (v)
            return v;
    }
    return default_path;
}

/* The pipes of a process without a tty: [0] read end, [1] write end. */
struct stdio_pipes {
    int in[2];
    int out[2];
    int err[2];
};

static void
close_pair(int p[2])
{
    for (int i = 0; i < 2; i++)
        if (p[i] >= 0) {
            close(p[i]);
            p[i] = -1;
        }
}

static void
stdio_pipes_close(struct stdio_pipes *s)
{
    close_pair(s->in);
    close_pair(s->out);
    close_pair(s->err);
}

static int
stdio_pipes_open(const struct eng_rt_proc_config *p, struct stdio_pipes *s, struct mc_error **err)
{
    *s = (struct stdio_pipes){ { -1, -1 }, { -1, -1 }, { -1, -1 } };
    if (p->tty || p->null_stdio)
        return 0;
    if ((p->open_stdin && pipe2(s->in, O_CLOEXEC) < 0) || pipe2(s->out, O_CLOEXEC) < 0 ||
        pipe2(s->err, O_CLOEXEC) < 0) {
        int e = errno;
        stdio_pipes_close(s);
        return mc_error_sys(err, e, "cannot create the process's pipes");
    }
    return 0;
}

/* The state of one start or exec while the parent talks to its child. */
struct launch {
    struct stdio_pipes pipes;
    int sock[2];
    struct rt_child child;
    int pidfd;
    pid_t pid;
    int pty_fd;
    bool cgroup_joined; /* cloned into its cgroup */
};

static void
launch_free(struct launch *l)
{
    stdio_pipes_close(&l->pipes);
    close_pair(l->sock);
    if (l->pty_fd >= 0)
        close(l->pty_fd);
    if (l->pidfd >= 0) {
        /* The child failed or we did: it must not outlive the error. */
        syscall(SYS_pidfd_send_signal, l->pidfd, SIGKILL, NULL, 0);
        siginfo_t si;
        waitid((idtype_t)P_PIDFD, (id_t)l->pidfd, &si, WEXITED);
        close(l->pidfd);
    }
    free(l->child.bind_fds);
    for (int i = 0; i < l->child.ncgroup_join; i++)
        close(l->child.cgroup_join_fds[i]);
}

static int
launch_init(struct launch *l, const struct eng_rt_proc_config *p, struct mc_error **err)
{
    memset(l, 0, sizeof(*l));
    l->sock[0] = l->sock[1] = l->pidfd = l->pty_fd = -1;
    if (!p->argv || !p->argv[0] || !*p->argv[0])
        return mc_error_set(err, MC_ERR_INVALID, "No command specified.");
    if (stdio_pipes_open(p, &l->pipes, err) < 0)
        return -1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, l->sock) < 0)
        return mc_error_sys(err, errno, "cannot create the socket pair for the child");
    l->child = (struct rt_child){
        .proc = p,
        .sync_fd = l->sock[1],
        .stdin_fd = l->pipes.in[0],
        .stdout_fd = l->pipes.out[1],
        .stderr_fd = l->pipes.err[1],
        .path = env_path(p->env),
        .target_pidfd = -1,
    };
    return 0;
}

/* Closes the child's ends once it has its own copies. */
static void
launch_forget_child_ends(struct launch *l)
{
    int *ends[] = { &l->sock[1], &l->pipes.in[0], &l->pipes.out[1], &l->pipes.err[1] };
    for (size_t i = 0; i < ELEMENTSOF(ends); i++)
        if (*ends[i] >= 0) {
            close(*ends[i]);
            *ends[i] = -1;
        }
}

static int
child_error(const struct rt_msg *m, struct mc_error **err)
{
    if (m->exec_err) {
        enum mc_error_code code = m->errnum == ENOENT   ? MC_ERR_NOT_FOUND
                                  : m->errnum == EACCES ? MC_ERR_PERMISSION
                                                        : MC_ERR_FAILED;
        return mc_error_set(err, code, "%.*s", (int)sizeof(m->text), m->text);
    }
    return mc_error_set_full(err, MC_LOG_MODULE, mc_error_code_from_errno(m->errnum), m->errnum,
                             "container setup: %.*s", (int)sizeof(m->text), m->text);
}

static int
send_go(struct launch *l, struct mc_error **err)
{
    if (eng_rt_send(l->sock[0], &(struct rt_msg){ .type = RT_MSG_GO }, -1) < 0)
        return mc_error_sys(err, errno, "cannot reach the container's child");
    return 0;
}

/* Opens the files through which the process enters its cgroup by itself, where there are. */
static int
prepare_cgroup_join(struct launch *l, struct eng_cgroup *cg, struct mc_error **err)
{
    if (!cg)
        return 0;
    int n = eng_cgroup_join_fds(cg, l->child.cgroup_join_fds, err);
    if (n < 0)
        return mc_error_prefix(err, "cannot prepare the process's cgroup: ");
    l->child.ncgroup_join = n;
    return 0;
}

static int
join_cgroup(struct launch *l, struct eng_cgroup *cg, struct mc_error **err)
{
    /* with join fds the process moved itself before it waits for go; cloned into it, it
     * started there */
    if (cg && l->child.ncgroup_join == 0 && !l->cgroup_joined &&
        eng_cgroup_attach(cg, l->pid, err) < 0)
        return mc_error_prefix(err, "cannot move the process into its cgroup: ");
    return send_go(l, err);
}

/* Reads the child's messages until it has exec'd (EOF: its end was close-on-exec). exec's
 * intermediate reports the pid first; the cgroup is joined then. */
static int
collect(struct launch *l, struct eng_cgroup *cg, struct mc_error **err)
{
    for (;;) {
        struct rt_msg m;
        int fd = -1;
        int r = eng_rt_recv(l->sock[0], &m, &fd);
        if (r < 0)
            return mc_error_sys(err, errno, "cannot read from the container's child");
        if (r == 1)
            break;
        if (m.type == RT_MSG_PTY && fd >= 0 && l->pty_fd < 0) {
            l->pty_fd = fd;
        } else if (m.type == RT_MSG_PID && l->pid == 0) {
            l->pid = m.pid;
            l->pidfd = (int)syscall(SYS_pidfd_open, m.pid, 0);
            if (l->pidfd < 0)
                return mc_error_sys(err, errno, "cannot open the exec process %d", m.pid);
            if (join_cgroup(l, cg, err) < 0)
                return -1;
        } else if (m.type == RT_MSG_ERROR) {
            return child_error(&m, err);
        } else if (fd >= 0) {
            close(fd);
        }
    }
    if (l->pid == 0 || (l->child.proc->tty && l->pty_fd < 0))
        return mc_error_set(err, MC_ERR_FAILED, "The container's child exited during setup.");
    return 0;
}

static void
launch_result(struct launch *l, struct eng_rt_process *ret)
{
    ret->pid = l->pid;
    ret->pidfd = TAKE_FD(l->pidfd);
    if (l->child.proc->tty) {
        ret->pty_fd = TAKE_FD(l->pty_fd);
        ret->stdin_fd = ret->stdout_fd = ret->pty_fd;
        ret->stderr_fd = -1;
        return;
    }
    ret->pty_fd = -1;
    ret->stdin_fd = TAKE_FD(l->pipes.in[1]);
    ret->stdout_fd = TAKE_FD(l->pipes.out[0]);
    ret->stderr_fd = TAKE_FD(l->pipes.err[0]);
}

static int
write_id_maps(pid_t pid, const struct eng_rt_config *cfg, struct mc_error **err)
{
    char map[64], path[64];
    snprintf(map, sizeof(map), "0 %u %u\n", (unsigned)cfg->userns_base, cfg->userns_size);
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "/proc/%d/%s", pid, i ? "gid_map" : "uid_map");
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, map, strlen(map)) < 0)
            return mc_error_sys(err, errno, "cannot write '%s'", path);
    }
    return 0;
}

static pid_t
clone_with_pidfd(uint64_t flags, int *ret_pidfd, int cgroup_fd)
{
    struct clone_args a;
    memset(&a, 0, sizeof(a));
    a.flags = flags | CLONE_PIDFD;
    a.pidfd = (uint64_t)(uintptr_t)ret_pidfd;
    if (cgroup_fd >= 0) {
        a.flags |= CLONE_INTO_CGROUP;
        a.cgroup = (uint64_t)cgroup_fd;
    }
    a.exit_signal = SIGCHLD;
    return (pid_t)syscall(SYS_clone3, &a, sizeof(a));
}

static uint64_t
clone_flags(const struct eng_rt_config *cfg)
{
    uint64_t f = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
    if (cfg->net == ENG_RT_NET_PRIVATE)
        f |= CLONE_NEWNET;
    if (cfg->userns_size)
        f |= CLONE_NEWUSER;
    return f;
}

int
eng_rt_start(const struct eng_rt_config *cfg, struct eng_rt_process *ret, struct mc_error **err)
{
    _cleanup_(launch_free) struct launch l;
    if (launch_init(&l, &cfg->proc, err) < 0)
        return -1;
    if (isempty(cfg->rootfs))
        return mc_error_set(err, MC_ERR_INVALID, "No root filesystem given.");
    l.child.cfg = cfg;
    l.child.bind_fds = xcalloc(cfg->nbinds + 1, sizeof(int));
    _cleanup_(eng_cgroup_mounts_clear) struct eng_cgroup_mounts cgm = { 0 };
    if (cfg->proc.cgroup) {
        eng_cgroup_mount_plan(cfg->proc.cgroup, cfg->privileged, &cgm);
        l.child.cgroup_mounts = &cgm;
    }
    _cleanup_free_ char *vol = NULL;
    if (cfg->overlay_data && cfg->overlay_volatile)
        l.child.overlay_volatile = vol = xasprintf("%s,volatile", cfg->overlay_data);
    if (prepare_cgroup_join(&l, cfg->proc.cgroup, err) < 0)
        return -1;
    /* v2: the child starts in its cgroup (Linux 5.7); where the kernel refuses, the engine
     * moves it by pid as on older kernels */
    _cleanup_close_ int cgfd = cfg->proc.cgroup && l.child.ncgroup_join == 0
                                       ? eng_cgroup_clone_fd(cfg->proc.cgroup)
                                       : -1;
    l.pid = clone_with_pidfd(clone_flags(cfg), &l.pidfd, cgfd);
    l.cgroup_joined = l.pid >= 0 && cgfd >= 0;
    if (l.pid < 0 && cgfd >= 0)
        l.pid = clone_with_pidfd(clone_flags(cfg), &l.pidfd, -1);
    if (l.pid < 0)
        return mc_error_sys(err, errno, "cannot create the container's namespaces");
    if (l.pid == 0) {
        close(l.sock[0]);
        eng_rt_child_run(&l.child);
    }
    launch_forget_child_ends(&l);
    if (cfg->userns_size && (write_id_maps(l.pid, cfg, err) < 0 || send_go(&l, err) < 0))
        return -1;
    if (join_cgroup(&l, cfg->proc.cgroup, err) < 0 || collect(&l, NULL, err) < 0)
        return -1;
    launch_result(&l, ret);
    return 0;
}

int
eng_rt_exec(int target_pidfd, bool userns, const struct eng_rt_proc_config *proc,
            struct eng_rt_process *ret, struct mc_error **err)
{
    _cleanup_(launch_free) struct launch l;
    if (launch_init(&l, proc, err) < 0)
        return -1;
    l.child.target_pidfd = target_pidfd;
    l.child.userns = userns;
    if (prepare_cgroup_join(&l, proc->cgroup, err) < 0)
        return -1;
    pid_t mid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (mid < 0)
        return mc_error_sys(err, errno, "cannot fork to enter the container");
    if (mid == 0) {
        close(l.sock[0]);
        eng_rt_exec_intermediate(&l.child);
    }
    launch_forget_child_ends(&l);
    int r = collect(&l, proc->cgroup, err);
    waitpid(mid, NULL, 0);
    if (r < 0)
        return -1;
    launch_result(&l, ret);
    return 0;
}

void
eng_rt_process_close(struct eng_rt_process *p)
{
    int *fds[] = { &p->pidfd, &p->stdin_fd, &p->stdout_fd, &p->stderr_fd, &p->pty_fd };
    for (size_t i = 0; i < ELEMENTSOF(fds); i++) {
        int fd = *fds[i];
        if (fd < 0)
            continue;
        for (size_t j = i; j < ELEMENTSOF(fds); j++)
            if (*fds[j] == fd)
                *fds[j] = -1;
        close(fd);
    }
}

int
eng_rt_signal(const struct eng_rt_process *p, int sig)
{
    return (int)syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0);
}

int
eng_rt_resize(int pty_fd, unsigned short rows, unsigned short cols, struct mc_error **err)
{
    struct winsize ws = { .ws_row = rows, .ws_col = cols };
    if (ioctl(pty_fd, TIOCSWINSZ, &ws) < 0)
        return mc_error_sys(err, errno, "cannot resize the tty to %ux%u", rows, cols);
    return 0;
}

static int
status_code(const siginfo_t *si)
{
    if (si->si_code == CLD_EXITED)
        return si->si_status;
    return 128 + si->si_status;
}

int
eng_rt_wait(const struct eng_rt_process *p, int *ret_code, struct mc_error **err)
{
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    int r;
    do
        r = waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si, WEXITED);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return mc_error_sys(err, errno, "cannot wait for process %d", p->pid);
    *ret_code = status_code(&si);
    return 0;
}

int
eng_rt_try_reap(const struct eng_rt_process *p, int *ret_code, struct mc_error **err)
{
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    if (waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si, WEXITED | WNOHANG) < 0)
        return mc_error_sys(err, errno, "cannot wait for process %d", p->pid);
    if (si.si_pid == 0)
        return 0;
    *ret_code = status_code(&si);
    return 1;
}
