#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "rt-seccomp.h"
#include "util.h"
#include "xalloc.h"

MC_DEFINE_CLEANUP(void, seccomp_release)
#define _cleanup_seccomp_ _cleanup_(seccomp_releasep)

/* moby's unconditional allow list (names unknown to the running libseccomp are skipped). */
static const char *const allowed[] = {
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "bind",
    "brk",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futex",
    "futex_time64",
    "futex_waitv",
    "futimesat",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "get_robust_list",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "get_thread_area",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "ioctl",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "ioprio_get",
    "ioprio_set",
    "io_setup",
    "io_submit",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "ipc",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listxattr",
    "llistxattr",
    "_llseek",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "lstat64",
    "madvise",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "mremap",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "name_to_handle_at",
    "nanosleep",
    "newfstatat",
    "_newselect",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "pselect6",
    "pselect6_time64",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "send",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "set_robust_list",
    "setsid",
    "setsockopt",
    "set_thread_area",
    "set_tid_address",
    "setuid",
    "setuid32",
    "setxattr",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "sigprocmask",
    "sigreturn",
    "socketcall",
    "socketpair",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    "tkill",
    "truncate",
    "truncate64",
    "ugetrlimit",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
    /* minKernel 4.8, which every supported kernel meets */
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
    /* x86 only (amd64, x32, x86) */
    "arch_prctl",
    "modify_ldt",
};

/* Syscalls allowed only when the container holds a capability. */
struct gated {
    int cap;
    const char *names[24];
};

static const struct gated gated[] = {
    { 21 /* SYS_ADMIN */, { "bpf",           "clone",           "clone3",
                            "fanotify_init", "fsconfig",        "fsmount",
                            "fsopen",        "fspick",          "lookup_dcookie",
                            "mount",         "mount_setattr",   "move_mount",
                            "open_tree",     "perf_event_open", "quotactl",
                            "quotactl_fd",   "setdomainname",   "sethostname",
                            "setns",         "syslog",          "umount",
                            "umount2",       "unshare",         NULL } },
    { 22 /* SYS_BOOT */, { "reboot", NULL } },
    { 18 /* SYS_CHROOT */, { "chroot", NULL } },
    { 16 /* SYS_MODULE */, { "delete_module", "init_module", "finit_module", NULL } },
    { 20 /* SYS_PACCT */, { "acct", NULL } },
    { 19 /* SYS_PTRACE */,
      { "kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace",
        NULL } },
    { 17 /* SYS_RAWIO */, { "iopl", "ioperm", NULL } },
    { 25 /* SYS_TIME */, { "settimeofday", "stime", "clock_settime", "clock_settime64", NULL } },
    { 26 /* SYS_TTY_CONFIG */, { "vhangup", NULL } },
    { 23 /* SYS_NICE */,
      { "get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node", NULL } },
    { 34 /* SYSLOG */, { "syslog", NULL } },
    { 39 /* BPF */, { "bpf", NULL } },
    { 38 /* PERFMON */, { "perf_event_open", NULL } },
    { 2 /* DAC_READ_SEARCH */, { "open_by_handle_at", NULL } },
};

#define CAP_BIT(c)        (UINT64_C(1) << (c))
#define AF_VSOCK_NR       40
#define CLONE_NS_FLAGS    UINT64_C(0x7E020000)
#define SYS_ADMIN_CAP_BIT CAP_BIT(21)

uint64_t
eng_seccomp_relevant_caps(void)
{
    uint64_t m = 0;
    for (size_t i = 0; i < ELEMENTSOF(gated); i++)
        m |= CAP_BIT(gated[i].cap);
    return m;
}

static int
scmp_error(struct mc_error **err, int r, const char *what, const char *name)
{
    return mc_error_sys(err, -r, "seccomp: %s '%s' failed", what, name);
}

/* Adds an allow rule for name with up to one argument comparison; unknown names are skipped as
 * moby does for syscalls a kernel or architecture lacks. */
static int
allow(scmp_filter_ctx ctx, const char *name, unsigned int nargs, struct scmp_arg_cmp cmp,
      struct mc_error **err)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0;
    int r = nargs ? seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, cmp)
                  : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    /* -EEXIST: the same rule twice (a name in two capability groups). */
    if (r < 0 && r != -EEXIST)
        return scmp_error(err, r, "allowing", name);
    return 0;
}

static int
add_unconditional(scmp_filter_ctx ctx, uint64_t caps, struct mc_error **err)
{
    struct scmp_arg_cmp none = { 0 };
    for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
        if (allow(ctx, allowed[i], 0, none, err) < 0)
            return -1;
    for (size_t i = 0; i < ELEMENTSOF(gated); i++) {
        if (!(caps & CAP_BIT(gated[i].cap)))
            continue;
        for (size_t j = 0; gated[i].names[j]; j++)
            if (allow(ctx, gated[i].names[j], 0, none, err) < 0)
                return -1;
    }
    return 0;
}

static int
add_conditional(scmp_filter_ctx ctx, uint64_t caps, struct mc_error **err)
{
    static const uint64_t personas[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };
    if (allow(ctx, "socket", 1, SCMP_A0_64(SCMP_CMP_NE, AF_VSOCK_NR), err) < 0)
        return -1;
    for (size_t i = 0; i < ELEMENTSOF(personas); i++)
        if (allow(ctx, "personality", 1, SCMP_A0_64(SCMP_CMP_EQ, personas[i]), err) < 0)
            return -1;
    if (caps & SYS_ADMIN_CAP_BIT)
        return 0;
    if (allow(ctx, "clone", 1, SCMP_A0_64(SCMP_CMP_MASKED_EQ, CLONE_NS_FLAGS, 0), err) < 0)
        return -1;
    int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    if (r < 0)
        return scmp_error(err, r, "answering ENOSYS to", "clone3");
    return 0;
}

static int
new_filter(scmp_filter_ctx *ret, struct mc_error **err)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (!ctx)
        return mc_error_set(err, MC_ERR_FAILED, "seccomp: cannot create a filter context.");
    *ret = ctx;
    int r = seccomp_arch_add(ctx, SCMP_ARCH_X86);
    if (r == 0 || r == -EEXIST)
        r = seccomp_arch_add(ctx, SCMP_ARCH_X32);
    if (r < 0 && r != -EEXIST)
        return scmp_error(err, r, "adding", "x86 and x32 architectures");
    /* A binary tree of syscall numbers keeps the filter's path short. */
    r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (r < 0)
        return scmp_error(err, r, "setting", "optimize");
    return 0;
}

static int
export_bpf(scmp_filter_ctx ctx, struct eng_seccomp_prog *p, struct mc_error **err)
{
    _cleanup_close_ int fd = memfd_create("machined-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return mc_error_sys(err, errno, "seccomp: memfd_create failed");
    int r = seccomp_export_bpf(ctx, fd);
    if (r < 0)
        return scmp_error(err, r, "exporting", "the filter");
    off_t size = lseek(fd, 0, SEEK_END);
    if (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0)
        return mc_error_set(err, MC_ERR_FAILED, "seccomp: the exported filter is malformed.");
    p->insns = xmalloc((size_t)size);
    if (pread(fd, p->insns, (size_t)size, 0) != size)
        return mc_error_sys(err, errno, "seccomp: reading the exported filter failed");
    p->n = (size_t)size / sizeof(struct sock_filter);
    return 0;
}

struct eng_seccomp_prog *
eng_seccomp_build(uint64_t caps, struct mc_error **err)
{
    _cleanup_seccomp_ void *ctx = NULL;
    struct eng_seccomp_prog *p = xzalloc(sizeof(*p));
    p->caps_key = caps & eng_seccomp_relevant_caps();
    if (new_filter((scmp_filter_ctx *)&ctx, err) < 0 || add_unconditional(ctx, caps, err) < 0 ||
        add_conditional(ctx, caps, err) < 0 || export_bpf(ctx, p, err) < 0) {
        eng_seccomp_prog_free(p);
        return NULL;
    }
    return p;
}

void
eng_seccomp_prog_free(struct eng_seccomp_prog *p)
{
    if (!p)
        return;
    free(p->insns);
    free(p);
}

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct eng_seccomp_prog **cache;
static size_t cache_n;

const struct eng_seccomp_prog *
eng_seccomp_default(uint64_t caps, struct mc_error **err)
{
    uint64_t key = caps & eng_seccomp_relevant_caps();
    struct eng_seccomp_prog *found = NULL;
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < cache_n && !found; i++)
        if (cache[i]->caps_key == key)
            found = cache[i];
    if (!found) {
        /* Programs are never freed: a child may be loading one while another thread looks
         * up, and there are at most as many as distinct relevant capability sets in use. */
        found = eng_seccomp_build(caps, err);
        if (found) {
            cache = xreallocarray(cache, cache_n + 1, sizeof(*cache));
            cache[cache_n++] = found;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    return found;
}

int
eng_seccomp_load(const struct eng_seccomp_prog *prog)
{
    struct sock_fprog fp = { .len = (unsigned short)prog->n, .filter = prog->insns };
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
        return -errno;
    return 0;
}
