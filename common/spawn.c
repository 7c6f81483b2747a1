#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "strbuf.h"
#include "timeutil.h"
#include "xalloc.h"

extern char **environ;

struct pipes {
    int in[2], out[2], err[2], exec[2];
};

static _noreturn_ void
child(char *const *argv, const struct mc_spawn_opts *o, struct pipes *p)
{
    int devnull = open("/dev/null", O_RDWR);
    dup2(o->input ? p->in[0] : devnull, STDIN_FILENO);
    if (o->capture & MC_SPAWN_CAPTURE_OUT)
        dup2(p->out[1], STDOUT_FILENO);
    if (o->capture & MC_SPAWN_CAPTURE_ERR)
        dup2(p->err[1], STDERR_FILENO);
    if (o->cwd && chdir(o->cwd) < 0)
        goto fail;
    signal(SIGPIPE, SIG_DFL);
    if (o->env)
        environ = (char **)o->env;
    execvp(argv[0], argv);
fail:;
    int e = errno;
    (void)!write(p->exec[1], &e, sizeof(e));
    _exit(127);
}

static void
close_pair(int fds[2])
{
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
}

/* Feeds stdin and drains stdout/stderr until the pipes close and the child exits (pidfd
 * readable), or the deadline passes. */
static int
pump(const char *prog, pid_t pid, struct pipes *p, const struct mc_spawn_opts *o,
     struct mc_buf *out, struct mc_buf *errb, struct mc_error **err)
{
    size_t in_off = 0;
    int64_t deadline = o->timeout_ms > 0 ? mc_now_ms() + o->timeout_ms : -1;
    _cleanup_close_ int pidfd = deadline < 0 ? -1 : (int)syscall(SYS_pidfd_open, pid, 0);
    for (;;) {
        struct pollfd fds[4] = {
            { .fd = p->in[1], .events = POLLOUT },
            { .fd = p->out[0], .events = POLLIN },
            { .fd = p->err[0], .events = POLLIN },
            { .fd = pidfd, .events = POLLIN },
        };
        if (fds[0].fd < 0 && fds[1].fd < 0 && fds[2].fd < 0 && pidfd < 0)
            return 0;
        int wait = deadline < 0 ? -1 : (int)(deadline - mc_now_ms());
        if (deadline >= 0 && wait <= 0) {
            kill(pid, SIGKILL);
            return mc_error_set(err, MC_ERR_TIMEOUT, "'%s' did not finish within %d ms", prog,
                                o->timeout_ms);
        }
        if (poll(fds, 4, wait) < 0 && errno != EINTR)
            return mc_error_sys(err, errno, "poll failed");
        if (fds[3].revents) {
            close(pidfd);
            pidfd = -1;
        }
        if (fds[0].revents) {
            ssize_t n = write(p->in[1], (const char *)o->input + in_off, o->input_len - in_off);
            if (n > 0)
                in_off += (size_t)n;
            if (n < 0 || in_off >= o->input_len) {
                close(p->in[1]);
                p->in[1] = -1;
            }
        }
        struct mc_buf *bufs[2] = { out, errb };
        int *rfd[2] = { &p->out[0], &p->err[0] };
        for (int i = 0; i < 2; i++) {
            if (!fds[i + 1].revents)
                continue;
            char tmp[65536];
            ssize_t n = read(*rfd[i], tmp, sizeof(tmp));
            if (n > 0)
                mc_buf_append(bufs[i], tmp, (size_t)n);
            else if (n == 0 || errno != EINTR) {
                close(*rfd[i]);
                *rfd[i] = -1;
            }
        }
    }
}

int
mc_spawn(char *const *argv, const struct mc_spawn_opts *opts, struct mc_spawn_result *res,
         struct mc_error **err)
{
    static const struct mc_spawn_opts none = { 0 };
    const struct mc_spawn_opts *o = opts ? opts : &none;
    struct pipes p = { { -1, -1 }, { -1, -1 }, { -1, -1 }, { -1, -1 } };
    memset(res, 0, sizeof(*res));

    if ((o->input && pipe2(p.in, O_CLOEXEC) < 0) ||
        ((o->capture & MC_SPAWN_CAPTURE_OUT) && pipe2(p.out, O_CLOEXEC) < 0) ||
        ((o->capture & MC_SPAWN_CAPTURE_ERR) && pipe2(p.err, O_CLOEXEC) < 0) ||
        pipe2(p.exec, O_CLOEXEC) < 0) {
        int e = errno;
        close_pair(p.in), close_pair(p.out), close_pair(p.err), close_pair(p.exec);
        return mc_error_sys(err, e, "cannot create pipes to run '%s'", argv[0]);
    }

    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close_pair(p.in), close_pair(p.out), close_pair(p.err), close_pair(p.exec);
        return mc_error_sys(err, e, "cannot fork to run '%s'", argv[0]);
    }
    if (pid == 0)
        child(argv, o, &p);

    /* Parent: keep only our ends. */
    if (p.in[0] >= 0)
        close(p.in[0]);
    if (p.out[1] >= 0)
        close(p.out[1]);
    if (p.err[1] >= 0)
        close(p.err[1]);
    close(p.exec[1]);
    p.in[0] = p.out[1] = p.err[1] = p.exec[1] = -1;

    int exec_errno = 0;
    ssize_t n;
    while ((n = read(p.exec[0], &exec_errno, sizeof(exec_errno))) < 0 && errno == EINTR)
        ;
    close(p.exec[0]);

    _cleanup_buf_ struct mc_buf out = MC_BUF_INIT, errb = MC_BUF_INIT;
    int r = 0;
    if (n == sizeof(exec_errno)) {
        close_pair(p.in), close_pair(p.out), close_pair(p.err);
        mc_error_sys(err, exec_errno, "cannot run '%s'", argv[0]);
        r = -1;
    } else {
        r = pump(argv[0], pid, &p, o, &out, &errb, err);
        close_pair(p.in), close_pair(p.out), close_pair(p.err);
    }

    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (r < 0)
        return -1;
    res->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (o->capture & MC_SPAWN_CAPTURE_OUT) {
        res->out_len = out.len;
        res->out = mc_buf_steal(&out);
    }
    if (o->capture & MC_SPAWN_CAPTURE_ERR) {
        res->err_len = errb.len;
        res->err = mc_buf_steal(&errb);
    }
    return 0;
}

void
mc_spawn_result_free(struct mc_spawn_result *res)
{
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
}
