/* The container child. Runs between clone and execve in a copy of a multi-threaded daemon, so
 * it only makes system calls and formats into stack buffers: no allocation, no locks, no stdio.
 * Each step returns -1 after filling the message that the parent turns into an error. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "rt-child.h"
#include "rt-seccomp.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static struct rt_msg failure;

static int fail(int errnum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failure.type = RT_MSG_ERROR;
    failure.errnum = errnum;
    vsnprintf(failure.text, sizeof(failure.text), fmt, ap);
    va_end(ap);
    return -1;
}

_noreturn_ static void
die(int sync_fd)
{
    eng_rt_send(sync_fd, &failure, -1);
    _exit(126);
}

/* ---- messages ---- */

int
eng_rt_send(int sock, const struct rt_msg *m, int fd)
{
    struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd >= 0) {
        memset(&u, 0, sizeof(u));
        mh.msg_control = u.buf;
        mh.msg_controllen = sizeof(u.buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    ssize_t n;
    do
        n = sendmsg(sock, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(*m) ? 0 : -1;
}

int
eng_rt_recv(int sock, struct rt_msg *m, int *ret_fd)
{
    struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)
    };
    ssize_t n;
    do
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        return 1;
    if (n != (ssize_t)sizeof(*m)) {
        if (n >= 0)
            errno = EPROTO;
        return -1;
    }
    if (ret_fd) {
        *ret_fd = -1;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
    }
    return 0;
}

static int
wait_go(int sync_fd)
{
    struct rt_msg m;
    int r = eng_rt_recv(sync_fd, &m, NULL);
    if (r != 0 || m.type != RT_MSG_GO)
        return fail(r < 0 ? errno : EPIPE, "the engine did not let the container start");
    return 0;
}

/* ---- paths inside the new root ---- */

static int
mkdir_p(const char *path, mode_t mode)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof(buf))
        return fail(ENAMETOOLONG, "path '%s' is too long", path);
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
            return fail(errno, "cannot create '%s'", buf);
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return fail(errno, "cannot create '%s'", buf);
    return 0;
}

/* Creates an empty file at path (and its folders) to bind a file onto. */
static int
touch_p(const char *path)
{
    /* an existing entry is used as it is: opened for writing, an overlay would copy it up */
    struct stat st;
    if (lstat(path, &st) == 0)
        return 0;
    char dir[4096];
    size_t n = strlen(path);
    const char *slash = strrchr(path, '/');
    if (n >= sizeof(dir) || !slash)
        return fail(ENAMETOOLONG, "path '%s' is too long", path);
    if (slash > path) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
        if (mkdir_p(dir, 0755) < 0)
            return -1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 && errno != EISDIR && errno != ELOOP)
        return fail(errno, "cannot create '%s'", path);
    if (fd >= 0)
        close(fd);
    return 0;
}

/* ---- mounts ---- */

static int
do_mount(const char *src, const char *dst, const char *type, unsigned long flags, const char *data)
{
    if (mount(src, dst, type, flags, data) < 0)
        return fail(errno, "cannot mount %s on '%s'", type ? type : src, dst);
    return 0;
}

static unsigned long
locked_flags(const char *path)
{
    struct statvfs s;
    unsigned long f = 0;
    if (statvfs(path, &s) < 0)
        return 0;
    if (s.f_flag & ST_NOSUID)
        f |= MS_NOSUID;
    if (s.f_flag & ST_NODEV)
        f |= MS_NODEV;
    if (s.f_flag & ST_NOEXEC)
        f |= MS_NOEXEC;
    if (s.f_flag & ST_RDONLY)
        f |= MS_RDONLY;
    return f;
}

/* Changes the per-mount flags of the mount at path, keeping those it has. */
static int
remount(const char *path, unsigned long add)
{
    unsigned long flags = MS_BIND | MS_REMOUNT | locked_flags(path) | add;
    if (mount(NULL, path, NULL, flags, NULL) < 0)
        return fail(errno, "cannot remount '%s'", path);
    return 0;
}

/* Attaches a detached mount (open_tree(OPEN_TREE_CLONE), made while the host's root was still
 * there) at target, which resolves inside the new root. */
static int
attach_on(int tree_fd, const char *target)
{
    if (syscall(SYS_move_mount, tree_fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return fail(errno, "cannot bind onto '%s'", target);
    close(tree_fd);
    return 0;
}

static int
clone_tree(const char *path, bool rec)
{
    unsigned int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0);
    int fd = (int)syscall(SYS_open_tree, AT_FDCWD, path, flags);
    if (fd < 0)
        return fail(errno, "cannot open the host's '%s' for binding", path);
    return fd;
}

/* A new, detached instance of a pseudo filesystem (proc, sysfs). Made before pivot_root:
 * in a user namespace the kernel only allows it while a full /proc is visible. */
static int
new_fs_tree(const char *fstype, unsigned int attrs)
{
    int fs = (int)syscall(SYS_fsopen, fstype, FSOPEN_CLOEXEC);
    if (fs < 0)
        return -1;
    int mfd = -1;
    if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
        mfd = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attrs);
    int e = errno;
    close(fs);
    errno = e;
    return mfd;
}

static int
prepare_root(const struct rt_child *c)
{
    const struct eng_rt_config *cfg = c->cfg;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return fail(errno, "cannot make the mounts private");
    /* volatile spares the sync of the upper filesystem at unmount (kernel 5.10) */
    if (c->overlay_volatile &&
        mount("overlay", cfg->rootfs, "overlay", 0, c->overlay_volatile) == 0)
        return 0;
    if (cfg->overlay_data)
        return do_mount("overlay", cfg->rootfs, "overlay", 0, cfg->overlay_data);
    return do_mount(cfg->rootfs, cfg->rootfs, NULL, MS_BIND | MS_REC, NULL);
}

static const char *const devices[] = { "null", "zero", "full", "random", "urandom", "tty" };
#define NDEVICES (sizeof(devices) / sizeof(devices[0]))

struct trees {
    int dev[NDEVICES]; /* the host's device nodes */
    int hostdev;       /* the host's /dev (privileged) */
    int proc;
    int sys;
};

static int
make_pseudo_trees(struct trees *t)
{
    const unsigned int base = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    t->proc = new_fs_tree("proc", base);
    if (t->proc < 0)
        return fail(errno, "cannot create the container's /proc");
    /* sysfs needs a network namespace of our own (or no user namespace); otherwise the host's
     * /sys is bound read-only. */
    t->sys = new_fs_tree("sysfs", base | MOUNT_ATTR_RDONLY);
    if (t->sys < 0 && (t->sys = clone_tree("/sys", true)) < 0)
        return -1;
    return 0;
}

/* Makes, while the host's root is still there, every mount the new root will get. */
static int
make_trees(struct rt_child *c, struct trees *t)
{
    const struct eng_rt_config *cfg = c->cfg;
    if (make_pseudo_trees(t) < 0)
        return -1;
    for (size_t i = 0; i < cfg->nbinds; i++)
        if ((c->bind_fds[i] = clone_tree(cfg->binds[i].source, true)) < 0)
            return -1;
    const struct eng_cgroup_mounts *cg = c->cgroup_mounts;
    for (size_t i = 0; cg && cg->version == 1 && i < cg->nbinds; i++)
        if ((c->cgroup_fds[i] = clone_tree(cg->binds[i].source, false)) < 0)
            return -1;
    t->hostdev = -1;
    if (cfg->privileged)
        return (t->hostdev = clone_tree("/dev", true)) < 0 ? -1 : 0;
    for (size_t i = 0; i < NDEVICES; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/dev/%s", devices[i]);
        if ((t->dev[i] = clone_tree(path, false)) < 0)
            return -1;
    }
    return 0;
}

static int
pivot(const char *rootfs)
{
    if (chdir(rootfs) < 0)
        return fail(errno, "cannot enter the root filesystem '%s'", rootfs);
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return fail(errno, "pivot_root into '%s' failed", rootfs);
    if (umount2(".", MNT_DETACH) < 0)
        return fail(errno, "cannot detach the old root");
    if (chdir("/") < 0)
        return fail(errno, "cannot enter the new root");
    return 0;
}

static int
mount_proc_sys(const struct trees *t)
{
    if (mkdir_p("/proc", 0555) < 0 || attach_on(t->proc, "/proc") < 0)
        return -1;
    if (mkdir_p("/sys", 0555) < 0 || attach_on(t->sys, "/sys") < 0)
        return -1;
    return remount("/sys", MS_RDONLY);
}

/* cgroup v1: Docker's layout, a tmpfs with the container's folder of each hierarchy bound in
 * under the hierarchy's name, and links for co-mounted controllers. */
static int
mount_cgroup_v1(struct rt_child *c)
{
    const struct eng_cgroup_mounts *p = c->cgroup_mounts;
    const unsigned long base = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    const unsigned long ro = p->readonly ? MS_RDONLY : 0;
    char path[4096];
    if (do_mount("tmpfs", "/sys/fs/cgroup", "tmpfs", base, "mode=755,size=64k") < 0)
        return -1;
    for (size_t i = 0; i < p->nbinds; i++) {
        snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", p->binds[i].name);
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return fail(errno, "cannot create '%s'", path);
        int fd = c->cgroup_fds[i];
        c->cgroup_fds[i] = -1;
        if (attach_on(fd, path) < 0 || remount(path, base | ro) < 0)
            return -1;
    }
    for (size_t i = 0; i < p->nlinks; i++) {
        snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", p->links[i].name);
        if (symlink(p->links[i].target, path) < 0 && errno != EEXIST)
            return fail(errno, "cannot create the link '%s'", path);
    }
    return ro ? remount("/sys/fs/cgroup", base | ro) : 0;
}

/* cgroup v2: a cgroup namespace rooted at the container's cgroup (the engine has moved us
 * there before saying go), and a cgroup2 mount made in it, which shows that cgroup at its
 * top: /sys/fs/cgroup/memory.max is the container's limit. */
static int
mount_cgroup_v2(const struct rt_child *c)
{
    const struct eng_cgroup_mounts *p = c->cgroup_mounts;
    if (unshare(CLONE_NEWCGROUP) < 0)
        return fail(errno, "cannot create the cgroup namespace");
    unsigned int attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                         (p->readonly ? MOUNT_ATTR_RDONLY : 0);
    int fd = new_fs_tree("cgroup2", attrs);
    if (fd < 0)
        return fail(errno, "cannot mount cgroup2 for the container");
    return attach_on(fd, "/sys/fs/cgroup");
}

static int
make_dev_links(void)
{
    static const char *const links[][2] = {
        { "/proc/self/fd", "/dev/fd" },       { "/proc/self/fd/0", "/dev/stdin" },
        { "/proc/self/fd/1", "/dev/stdout" }, { "/proc/self/fd/2", "/dev/stderr" },
        { "pts/ptmx", "/dev/ptmx" },
    };
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
        if (symlink(links[i][0], links[i][1]) < 0 && errno != EEXIST)
            return fail(errno, "cannot create the link '%s'", links[i][1]);
    return 0;
}

static int
mount_dev_extras(void)
{
    const unsigned long base = MS_NOSUID | MS_NOEXEC;
    if (mkdir_p("/dev/pts", 0755) < 0 || do_mount("devpts", "/dev/pts", "devpts", base,
                                                  "newinstance,ptmxmode=0666,mode=0620,gid=5") < 0)
        return -1;
    if (mkdir_p("/dev/shm", 01777) < 0 ||
        do_mount("shm", "/dev/shm", "tmpfs", base | MS_NODEV, "mode=1777,size=65536k") < 0)
        return -1;
    if (mkdir_p("/dev/mqueue", 0755) < 0 ||
        do_mount("mqueue", "/dev/mqueue", "mqueue", base | MS_NODEV, NULL) < 0)
        return -1;
    return 0;
}

/* A tmpfs /dev, nodev, holding bind mounts of the host's device nodes: a container with
 * CAP_MKNOD can create nodes but never open them, on any writable mount. */
static int
mount_dev(const struct eng_rt_config *cfg, const struct trees *t)
{
    if (mkdir_p("/dev", 0755) < 0)
        return -1;
    if (cfg->privileged) {
        if (attach_on(t->hostdev, "/dev") < 0)
            return -1;
        return mount_dev_extras();
    }
    if (do_mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME,
                 "mode=755,size=65536k") < 0)
        return -1;
    for (size_t i = 0; i < NDEVICES; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/dev/%s", devices[i]);
        if (touch_p(path) < 0 || attach_on(t->dev[i], path) < 0)
            return -1;
    }
    if (make_dev_links() < 0)
        return -1;
    return mount_dev_extras();
}

static int
mount_binds(struct rt_child *c)
{
    const struct eng_rt_config *cfg = c->cfg;
    for (size_t i = 0; i < cfg->nbinds; i++) {
        const struct eng_rt_bind *b = &cfg->binds[i];
        struct stat st;
        if (fstat(c->bind_fds[i], &st) < 0)
            return fail(errno, "bind source '%s'", b->source);
        int r = S_ISDIR(st.st_mode) ? mkdir_p(b->target, 0755) : touch_p(b->target);
        if (r < 0 || attach_on(c->bind_fds[i], b->target) < 0)
            return -1;
        unsigned long add = (b->readonly ? MS_RDONLY : 0) | (cfg->privileged ? 0 : MS_NODEV);
        if (add && remount(b->target, add) < 0)
            return -1;
    }
    return 0;
}

static int
mask_paths(void)
{
    for (size_t i = 0; eng_rt_masked_paths[i]; i++) {
        const char *p = eng_rt_masked_paths[i];
        struct stat st;
        if (lstat(p, &st) < 0)
            continue;
        int r = S_ISDIR(st.st_mode)
                        ? mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=0")
                        : mount("/dev/null", p, NULL, MS_BIND, NULL);
        if (r < 0 && errno != ENOENT)
            return fail(errno, "cannot mask '%s'", p);
    }
    for (size_t i = 0; eng_rt_readonly_paths[i]; i++) {
        const char *p = eng_rt_readonly_paths[i];
        if (access(p, F_OK) < 0)
            continue;
        if (do_mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0 || remount(p, MS_RDONLY) < 0)
            return -1;
    }
    return 0;
}

static int
loopback_up(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return fail(errno, "cannot open a socket to bring up 'lo'");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, "lo", 3);
    int r = ioctl(s, SIOCGIFFLAGS, &ifr);
    if (r == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        r = ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    int e = errno;
    close(s);
    return r < 0 ? fail(e, "cannot bring up 'lo'") : 0;
}

static int
setup_root(struct rt_child *c)
{
    const struct eng_rt_config *cfg = c->cfg;
    struct trees t = { .hostdev = -1, .proc = -1, .sys = -1 };
    if (prepare_root(c) < 0 || make_trees(c, &t) < 0 || pivot(cfg->rootfs) < 0 ||
        mount_proc_sys(&t) < 0 || mount_dev(cfg, &t) < 0 || mount_binds(c) < 0)
        return -1;
    if (c->cgroup_mounts && c->cgroup_mounts->version == 1 && mount_cgroup_v1(c) < 0)
        return -1;
    if (!cfg->privileged && mask_paths() < 0)
        return -1;
    if (cfg->hostname && sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
        return fail(errno, "cannot set the hostname '%s'", cfg->hostname);
    if (cfg->net == ENG_RT_NET_PRIVATE && loopback_up() < 0)
        return -1;
    /* The working folder is created before the root may turn read-only, as runc does. */
    const char *cwd = c->proc->cwd && *c->proc->cwd ? c->proc->cwd : "/";
    if (mkdir_p(cwd, 0755) < 0)
        return -1;
    unsigned long flags = (cfg->readonly_rootfs ? MS_RDONLY : 0) | (cfg->privileged ? 0 : MS_NODEV);
    return flags ? remount("/", flags) : 0;
}

/* ---- stdio ---- */

static int
setup_pty(int sync_fd, const struct eng_rt_proc_config *p, bool console)
{
    int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return fail(errno, "cannot open '/dev/ptmx'");
    int unlock = 0, n;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0)
        return fail(errno, "cannot set up the pty");
    if (p->rows && p->cols) {
        struct winsize ws = { .ws_row = p->rows, .ws_col = p->cols };
        ioctl(master, TIOCSWINSZ, &ws);
    }
    char name[32];
    snprintf(name, sizeof(name), "/dev/pts/%d", n);
    int slave = open(name, O_RDWR | O_NOCTTY);
    if (slave < 0)
        return fail(errno, "cannot open '%s'", name);
    if (eng_rt_send(sync_fd, &(struct rt_msg){ .type = RT_MSG_PTY }, master) < 0)
        return fail(errno, "cannot hand the pty to the engine");
    /* The first process of a container also gets the pty as /dev/console, as with runc. */
    if (console &&
        (touch_p("/dev/console") < 0 || do_mount(name, "/dev/console", NULL, MS_BIND, NULL) < 0))
        return -1;
    close(master);
    if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
        return fail(errno, "cannot make '%s' the controlling terminal", name);
    for (int fd = 0; fd < 3; fd++)
        if (dup2(slave, fd) < 0)
            return fail(errno, "cannot attach the pty");
    if (slave > 2)
        close(slave);
    return 0;
}

static int
setup_stdio(struct rt_child *c)
{
    if (c->proc->tty)
        return setup_pty(c->sync_fd, c->proc, c->cfg && !c->cfg->privileged);
    /* A session of its own: sharing the engine's process group would let kill(0, ...) in the
     * container reach the engine. */
    if (setsid() < 0)
        return fail(errno, "cannot start a new session");
    int null = -1;
    if ((c->stdin_fd < 0 || c->proc->null_stdio) &&
        (null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
        return fail(errno, "cannot open '/dev/null'");
    int in = c->stdin_fd >= 0 ? c->stdin_fd : null;
    int out = c->proc->null_stdio ? null : c->stdout_fd;
    int err = c->proc->null_stdio ? null : c->stderr_fd;
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        return fail(errno, "cannot set up stdin, stdout and stderr");
    return 0;
}

/* ---- credentials ---- */

/* Raw system calls: glibc's wrappers would try to signal the threads of the daemon we were
 * cloned from (setxid broadcast), which do not exist in this process. */
static int
become_root(void)
{
    if (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0)
        return -1;
    return 0;
}

static int
drop_bounding(uint64_t caps)
{
    for (int cap = 0; cap < 64; cap++) {
        if (caps & (UINT64_C(1) << cap))
            continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            if (errno == EINVAL)
                break; /* past the kernel's last capability */
            return fail(errno, "cannot drop capability %d from the bounding set", cap);
        }
    }
    return 0;
}

static int
set_caps(uint64_t caps)
{
    struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof(d));
    /* Never more than the engine holds ("all" for --privileged means all of those). */
    if (syscall(SYS_capget, &h, d) == 0)
        caps &= (uint64_t)d[0].permitted | ((uint64_t)d[1].permitted << 32);
    memset(d, 0, sizeof(d));
    d[0].effective = d[0].permitted = (uint32_t)caps;
    d[1].effective = d[1].permitted = (uint32_t)(caps >> 32);
    if (syscall(SYS_capset, &h, d) < 0)
        return fail(errno, "cannot set the capabilities");
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    return 0;
}

static int
set_rlimits(const struct eng_rt_proc_config *p)
{
    for (size_t i = 0; i < p->nrlimits; i++)
        if (setrlimit(p->rlimits[i].resource, &p->rlimits[i].limit) < 0)
            return fail(errno, "cannot set resource limit %d", p->rlimits[i].resource);
    return 0;
}

static int
load_seccomp(const struct eng_rt_proc_config *p)
{
    int r = p->seccomp ? eng_seccomp_load(p->seccomp) : 0;
    if (r < 0)
        return fail(-r, "cannot load the seccomp filter");
    return 0;
}

/* Without no_new_privs (opted out), seccomp goes on while the process is still root with
 * CAP_SYS_ADMIN, as in runc; the filter allows every call made after it. */
static int
switch_user(const struct eng_rt_proc_config *p)
{
    if (set_rlimits(p) < 0 || drop_bounding(p->caps) < 0)
        return -1;
    if (!p->no_new_privs && load_seccomp(p) < 0)
        return -1;
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return fail(errno, "cannot keep capabilities across the user switch");
    if (syscall(SYS_setgroups, p->ngroups, p->groups) < 0)
        return fail(errno, "cannot set the supplementary groups");
    if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0)
        return fail(errno, "cannot set the group to %u", (unsigned)p->gid);
    if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0)
        return fail(errno, "cannot set the user to %u", (unsigned)p->uid);
    return set_caps(p->caps);
}

/* ---- exec ---- */

static int
exec_fail(const char *file, int errnum)
{
    failure.exec_err = 1;
    const char *why = errnum == ENOENT    ? "no such file or directory"
                      : errnum == EACCES  ? "permission denied"
                      : errnum == ENOEXEC ? "exec format error"
                                          : strerror(errnum);
    return fail(errnum, "exec: \"%s\": %s", file, why);
}

static bool
is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

/* Searches the container's PATH as Go's exec.LookPath does (runc), then execs. */
static int
exec_process(const struct rt_child *c)
{
    const struct eng_rt_proc_config *p = c->proc;
    const char *file = p->argv[0];
    syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
    if (strchr(file, '/')) {
        execve(file, p->argv, p->env);
        return exec_fail(file, errno);
    }
    char buf[4096];
    for (const char *d = c->path; d && *d;) {
        const char *colon = strchr(d, ':');
        size_t len = colon ? (size_t)(colon - d) : strlen(d);
        int n = snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, len ? d : ".", file);
        if (n > 0 && (size_t)n < sizeof(buf) && is_executable(buf)) {
            execve(buf, p->argv, p->env);
            return exec_fail(file, errno);
        }
        d = colon ? colon + 1 : NULL;
    }
    failure.exec_err = 1;
    return fail(ENOENT, "exec: \"%s\": executable file not found in $PATH", file);
}

static int
enter_cwd(const struct eng_rt_proc_config *p)
{
    const char *cwd = p->cwd && *p->cwd ? p->cwd : "/";
    if (chdir(cwd) < 0)
        return fail(errno, "chdir to cwd (\"%s\") set in config.json failed", cwd);
    return 0;
}

/* With no_new_privs (the default), the seccomp filter needs no capability: it goes on last,
 * once the user and capabilities are final, so the fewest calls run under it. */
static int
lock_down(const struct eng_rt_proc_config *p)
{
    if (!p->no_new_privs)
        return 0;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return fail(errno, "cannot set no_new_privs");
    return load_seccomp(p);
}

/* The first process of a v2 container enters its cgroup namespace once it is in its cgroup. */
static int
enter_cgroup_ns(const struct rt_child *c)
{
    if (!c->cfg || !c->cgroup_mounts || c->cgroup_mounts->version != 2)
        return 0;
    return mount_cgroup_v2(c);
}

/* Enters the container's cgroup through the files the engine opened (v1 `tasks`: "0" moves
 * this thread, which is the whole process: it has no other). */
static int
join_own_cgroup(struct rt_child *c)
{
    for (int i = 0; i < c->ncgroup_join; i++) {
        if (write(c->cgroup_join_fds[i], "0", 1) != 1)
            return fail(errno, "cannot enter the container's cgroup");
        close(c->cgroup_join_fds[i]);
    }
    c->ncgroup_join = 0;
    return 0;
}

/* The steps every process shares once its namespaces and root are set. */
_noreturn_ static void
finish(struct rt_child *c)
{
    const struct eng_rt_proc_config *p = c->proc;
    if (join_own_cgroup(c) < 0 || setup_stdio(c) < 0 || wait_go(c->sync_fd) < 0 ||
        enter_cgroup_ns(c) < 0 || switch_user(p) < 0 || enter_cwd(p) < 0 || lock_down(p) < 0)
        die(c->sync_fd);
    exec_process(c);
    die(c->sync_fd);
}

/* The engine blocks its termination signals in every thread and ignores SIGPIPE; a container
 * starts with the defaults. */
static void
reset_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static int
become_ns_root(const struct eng_rt_config *cfg, int sync_fd)
{
    if (!cfg->userns_size)
        return 0;
    /* The parent writes our uid and gid maps, then says go. */
    if (wait_go(sync_fd) < 0)
        return -1;
    if (become_root() < 0)
        return fail(errno, "cannot become root in the user namespace");
    return 0;
}

void
eng_rt_child_run(struct rt_child *c)
{
    reset_signals();
    if (become_ns_root(c->cfg, c->sync_fd) < 0 || setup_root(c) < 0)
        die(c->sync_fd);
    finish(c);
}

/* ---- exec into a running container ---- */

static int
join_namespaces(const struct rt_child *c)
{
    /* The cgroup namespace is the host's on v1: joining it changes nothing. */
    int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
                CLONE_NEWCGROUP;
    if (c->userns)
        flags |= CLONE_NEWUSER;
    if (setns(c->target_pidfd, flags) < 0)
        return fail(errno, "cannot join the container's namespaces");
    return 0;
}

void
eng_rt_exec_intermediate(struct rt_child *c)
{
    reset_signals();
    if (join_namespaces(c) < 0)
        die(c->sync_fd);
    /* The process that execs is created in the container's pid namespace as a child of the
     * engine itself, so the engine reaps it like the container's first process. */
    pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
    if (pid < 0) {
        fail(errno, "cannot fork into the container");
        die(c->sync_fd);
    }
    if (pid == 0) {
        if (c->userns && (become_root() < 0)) {
            fail(errno, "cannot become root in the user namespace");
            die(c->sync_fd);
        }
        finish(c);
    }
    eng_rt_send(c->sync_fd, &(struct rt_msg){ .type = RT_MSG_PID, .pid = pid }, -1);
    _exit(0);
}
