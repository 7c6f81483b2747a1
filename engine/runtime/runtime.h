/* Starting processes in containers: a pure library with no knowledge of container records or
 * HTTP. The caller prepares everything (argv, environment, resolved user, capabilities, the
 * seccomp program, mounts); eng_rt_start() clones a child into new mount, pid, uts, ipc and
 * (unless the host's is shared) net namespaces, optionally a user namespace, sets up the root
 * filesystem with pivot_root, /proc, /sys, /sys/fs/cgroup, a minimal /dev, masked and read-only
 * paths and binds, then drops privileges and execs. eng_rt_exec() runs another process in a running container.
 *
 * The child never allocates: the daemon is multi-threaded and the child is a raw clone, so all
 * memory it reads is prepared by the parent (eng_rt_start copies nothing it does not need). */
#ifndef ENG_RUNTIME_H
#define ENG_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "error.h"

struct eng_cgroup;
struct eng_seccomp_prog;

enum eng_rt_net {
    ENG_RT_NET_PRIVATE, /* a new network namespace with loopback up (NetworkMode none/default) */
    ENG_RT_NET_HOST,    /* the host's network namespace */
};

struct eng_rt_bind {
    const char *source; /* a host path (file or folder) */
    const char *target; /* an absolute path inside the container, created when missing */
    bool readonly;
};

struct eng_rt_rlimit {
    int resource; /* RLIMIT_NOFILE, ... */
    struct rlimit limit;
};

/* What the process runs as and with: shared by eng_rt_start and eng_rt_exec. */
struct eng_rt_proc_config {
    char *const *argv; /* argv[0] without '/' is searched in the PATH of env */
    char *const *env;
    const char *cwd; /* NULL or "": "/"; created when missing (as runc) */
    uid_t uid;
    gid_t gid;
    const gid_t *groups; /* supplementary groups (setgroups) */
    size_t ngroups;
    uint64_t caps;                          /* bounding, permitted and effective set */
    bool no_new_privs;                      /* PR_SET_NO_NEW_PRIVS before exec (and before
                                             * the seccomp filter goes on) */
    const struct eng_seccomp_prog *seccomp; /* NULL: unconfined */
    const struct eng_rt_rlimit *rlimits;
    size_t nrlimits;
    bool tty;            /* a pty for stdin/stdout/stderr (stderr merged) */
    unsigned short rows; /* initial size of the pty; 0: leave the kernel's default */
    unsigned short cols;
    bool open_stdin;           /* a stdin pipe; else /dev/null (ignored with tty) */
    bool null_stdio;           /* stdin, stdout and stderr all /dev/null (a detached exec) */
    struct eng_cgroup *cgroup; /* joined before exec; NULL: none. eng_rt_start also shows it at
                                * /sys/fs/cgroup, in Docker's layout (cgroup.h): on v2 in a
                                * cgroup namespace of the container's own; read-only unless
                                * privileged */
};

struct eng_rt_config {
    struct eng_rt_proc_config proc;
    const char *rootfs;       /* the container's root folder on the host */
    const char *overlay_data; /* when set: overlayfs options mounted at rootfs inside the
                               * container's own mount namespace (gone when it dies) */
    bool overlay_volatile;    /* mount it "volatile" (no sync at unmount: a container that is
                               * discarded at exit); without kernel support, plainly */
    bool readonly_rootfs;
    const char *hostname;
    enum eng_rt_net net;
    bool privileged; /* the host's /dev, no masked or read-only paths, nothing nodev */
    const struct eng_rt_bind *binds;
    size_t nbinds;
    /* A user namespace mapping container ids 0..userns_size-1 to host ids from userns_base;
     * userns_size 0: no user namespace. */
    uid_t userns_base;
    uint32_t userns_size;
};

/* A started process. The parent's ends of its stdio: stdin_fd (write) is -1 unless open_stdin
 * or tty; with tty, stdin_fd, stdout_fd and pty_fd are the same pty master (close it once via
 * eng_rt_process_close) and stderr_fd is -1. */
struct eng_rt_process {
    pid_t pid; /* in the host's pid namespace */
    int pidfd; /* for waitid(P_PIDFD) and pidfd_send_signal */
    int stdin_fd;
    int stdout_fd;
    int stderr_fd;
    int pty_fd;
};

#define ENG_RT_PROCESS_INIT                                                                   \
    {                                                                                         \
        .pid = 0, .pidfd = -1, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .pty_fd = -1 \
    }

/* Starts a container's first process. Returns once it has exec'd (0, *ret filled) or failed
 * (-1): an error in the child is reported with its step; a failed exec says, as runc does,
 * 'exec: "X": executable file not found in $PATH' (MC_ERR_NOT_FOUND), '... no such file or
 * directory' (MC_ERR_NOT_FOUND) or '... permission denied' (MC_ERR_PERMISSION). */
int eng_rt_start(const struct eng_rt_config *cfg, struct eng_rt_process *ret,
                 struct mc_error **err);

/* Runs a process inside the namespaces (the cgroup namespace included) and cgroup of the
 * running process target_pidfd, as `docker exec` does. userns: the container has its own user namespace. The new process is a
 * child of the caller, like eng_rt_start's. */
int eng_rt_exec(int target_pidfd, bool userns, const struct eng_rt_proc_config *proc,
                struct eng_rt_process *ret, struct mc_error **err);

/* Closes the parent's fds of p (each once, the pty included); the process is not touched. */
void eng_rt_process_close(struct eng_rt_process *p);

/* Sends sig through the pidfd (never to a recycled pid). Returns -1 with the errno set. */
int eng_rt_signal(const struct eng_rt_process *p, int sig);

/* Sets the pty's window size. */
int eng_rt_resize(int pty_fd, unsigned short rows, unsigned short cols, struct mc_error **err);

/* Waits for p (blocking) and returns its wait status in docker's terms: the exit code, or
 * 128+signal. The pidfd stays open. */
int eng_rt_wait(const struct eng_rt_process *p, int *ret_code, struct mc_error **err);

/* Reaps p if it has exited (non-blocking): 1 and *ret_code when reaped, 0 when still running. */
int eng_rt_try_reap(const struct eng_rt_process *p, int *ret_code, struct mc_error **err);

/* Docker's default masked and read-only paths (NULL-terminated). */
extern const char *const eng_rt_masked_paths[];
extern const char *const eng_rt_readonly_paths[];

#endif
