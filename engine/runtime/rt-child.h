/* The code that runs in a freshly cloned container child, and the messages it exchanges with
 * the parent over a SOCK_SEQPACKET pair. Internal to engine/runtime. */
#ifndef ENG_RT_CHILD_H
#define ENG_RT_CHILD_H

#include <sys/types.h>

#include "cgroup.h"
#include "runtime.h"

enum rt_msg_type {
    RT_MSG_GO = 1, /* parent: the child is in its cgroup (and user namespace map): go on */
    RT_MSG_PTY,    /* child: the pty master travels with this message (SCM_RIGHTS) */
    RT_MSG_PID,    /* exec's intermediate: the pid of the process in the container */
    RT_MSG_ERROR,  /* child: a step failed; the text says which and why */
};

struct rt_msg {
    int type;
    int errnum;   /* errno of the failed step */
    int exec_err; /* 1 when the failure is the exec itself (docker's 126/127 wording) */
    pid_t pid;
    char text[480];
};

/* Everything the child needs, prepared by the parent before the clone. */
struct rt_child {
    const struct eng_rt_config *cfg; /* NULL for exec */
    const struct eng_rt_proc_config *proc;
    int sync_fd;                        /* the child's end of the socket pair */
    int stdin_fd, stdout_fd, stderr_fd; /* the child's ends of the pipes, -1 with a tty */
    int *bind_fds;                      /* scratch: one per bind */
    const char *path;                   /* the PATH of the process's environment */
    const char *overlay_volatile;       /* overlay_data + ",volatile", or NULL */
    const struct eng_cgroup_mounts *cgroup_mounts; /* /sys/fs/cgroup inside; NULL: untouched */
    int cgroup_fds[ENG_CGROUP_MOUNT_MAX_BINDS];    /* scratch: one per v1 bind */
    int cgroup_join_fds[ENG_CGROUP_JOIN_MAX];      /* "0" written there enters the cgroup */
    int ncgroup_join;                              /* 0: the engine moves the process */
    int target_pidfd;                              /* exec: the container's process */
    bool userns;                                   /* exec: join the user namespace too */
};

/* The container's first process: namespaces are already there (clone flags); sets up the root
 * and execs. Never returns. */
_noreturn_ void eng_rt_child_run(struct rt_child *c);
/* exec's intermediate process: joins the namespaces, forks the process that will exec as a
 * child of machined (CLONE_PARENT), reports its pid, exits. */
_noreturn_ void eng_rt_exec_intermediate(struct rt_child *c);

/* Sends a message (with an fd when fd >= 0). Async-signal-safe. */
int eng_rt_send(int sock, const struct rt_msg *m, int fd);
/* Receives a message and its fd (-1 if none). Returns 0, 1 on EOF, -1 with errno. */
int eng_rt_recv(int sock, struct rt_msg *m, int *ret_fd);

#endif
