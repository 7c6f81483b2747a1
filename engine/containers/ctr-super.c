/* The supervisor thread: one epoll set over every container's pidfd and output pipes and every
 * exec's pidfd. It copies output into the json-file log and attached clients' queues, reaps,
 * finalises exits (OOM, cgroup, restart, AutoRemove) and runs scheduled restarts. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ctr-internal.h"
#include "json.h"
#include "log.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

/* The longest line the log keeps in one entry, as dockerd's json-file (16 KiB). */
#define LOG_LINE_MAX (16 * 1024)
/* An attached client that lags this much behind stops the container's output (the process
 * blocks on its full pipe, as with dockerd) until it catches up to half of it. */
#define SUB_QUEUE_MAX (1024 * 1024)

/* ---- attached clients ---- */

struct ctr_sub *
ctr_sub_add_locked(struct eng_ctr *c, bool want_stdout, bool want_stderr)
{
    struct ctr_sub *s = xzalloc(sizeof(*s));
    s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->want_stdout = want_stdout;
    s->want_stderr = want_stderr;
    s->next = c->subs;
    c->subs = s;
    return s;
}

void
ctr_sub_remove_locked(struct eng_ctr *c, struct ctr_sub *s)
{
    if (c->throttled)
        ctr_supervisor_wake();
    for (struct ctr_sub **p = &c->subs; *p; p = &(*p)->next) {
        if (*p != s)
            continue;
        *p = s->next;
        break;
    }
    if (s->efd >= 0)
        close(s->efd);
    mc_buf_free(&s->q);
    free(s);
}

static void
sub_signal(struct ctr_sub *s)
{
    eventfd_write(s->efd, 1);
}

void
ctr_subs_eof_locked(struct eng_ctr *c)
{
    for (struct ctr_sub *s = c->subs; s; s = s->next) {
        s->eof = true;
        sub_signal(s);
    }
}

static void
subs_output_locked(struct eng_ctr *c, int type, const char *data, size_t n)
{
    for (struct ctr_sub *s = c->subs; s; s = s->next) {
        if (s->eof || (type == 1 && !s->want_stdout) || (type == 2 && !s->want_stderr))
            continue;
        if (c->tty)
            mc_buf_append(&s->q, data, n);
        else
            eng_ctr_frame(&s->q, type, data, n);
        if (s->q.len > SUB_QUEUE_MAX)
            c->throttled = true;
        sub_signal(s);
    }
}

/* True when every attached client has drained its queue to half. Locked. */
static bool
subs_caught_up_locked(const struct eng_ctr *c)
{
    for (const struct ctr_sub *s = c->subs; s; s = s->next)
        if (!s->eof && s->q.len > SUB_QUEUE_MAX / 2)
            return false;
    return true;
}

/* ---- the log ---- */

static void
log_lines(struct eng_ctr *c, int idx, const char *data, size_t n, struct mc_buf *out)
{
    struct mc_buf *line = &c->pipes[idx].line;
    const char *stream = idx == 0 ? "stdout" : "stderr";
    int64_t now = mc_realtime_ns();
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t take = nl ? (size_t)(nl - data) + 1 : n;
        if (line->len + take > LOG_LINE_MAX && !nl)
            take = LOG_LINE_MAX > line->len ? LOG_LINE_MAX - line->len : 0;
        mc_buf_append(line, data, take);
        data += take;
        n -= take;
        if (nl && take > 0 && line->data[line->len - 1] == '\n') {
            eng_ctr_log_encode(out, stream, line->data, line->len, now);
            mc_buf_reset(line);
        } else if (line->len >= LOG_LINE_MAX) {
            eng_ctr_log_encode(out, stream, line->data, line->len, now);
            mc_buf_reset(line);
        }
    }
}

static void
log_write(struct eng_ctr *c, const struct mc_buf *out)
{
    if (out->len == 0 || c->log_fd < 0)
        return;
    if (write(c->log_fd, out->data, out->len) < 0)
        log_warn("container %.12s: cannot write its log: %s", c->id, strerror(errno));
}

static void
output(struct eng_ctr *c, int idx, const char *data, size_t n)
{
    _cleanup_buf_ struct mc_buf entries = MC_BUF_INIT;
    log_lines(c, idx, data, n, &entries);
    log_write(c, &entries);
    pthread_mutex_lock(&ctrs.lock);
    subs_output_locked(c, idx + 1, data, n);
    c->log_seq++;
    ctr_changed_locked();
    pthread_mutex_unlock(&ctrs.lock);
}

static void
flush_partial(struct eng_ctr *c, int idx)
{
    struct mc_buf *line = &c->pipes[idx].line;
    if (line->len == 0)
        return;
    _cleanup_buf_ struct mc_buf entries = MC_BUF_INIT;
    eng_ctr_log_encode(&entries, idx == 0 ? "stdout" : "stderr", line->data, line->len,
                       mc_realtime_ns());
    log_write(c, &entries);
    mc_buf_reset(line);
}

/* ---- epoll ---- */

static int
watch_add(int fd, struct ctr_watch *w, struct mc_error **err)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };
    if (epoll_ctl(ctrs.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return mc_error_sys(err, errno, "cannot watch fd %d", fd);
    return 0;
}

static void
watch_del(int fd)
{
    if (fd >= 0)
        epoll_ctl(ctrs.epfd, EPOLL_CTL_DEL, fd, NULL);
}

int
ctr_watch_container_locked(struct eng_ctr *c, struct mc_error **err)
{
    c->proc_watch = (struct ctr_watch){ CTR_WATCH_PROC, c, 0 };
    for (int i = 0; i < 2; i++) {
        c->pipes[i].watch = (struct ctr_watch){ CTR_WATCH_PIPE, c, i };
        if (c->pipes[i].fd < 0)
            continue;
        fcntl(c->pipes[i].fd, F_SETFL, fcntl(c->pipes[i].fd, F_GETFL) | O_NONBLOCK);
        if (watch_add(c->pipes[i].fd, &c->pipes[i].watch, err) < 0)
            return -1;
    }
    return watch_add(c->proc.pidfd, &c->proc_watch, err);
}

int
ctr_watch_exec_locked(struct eng_ctr_exec *e, struct mc_error **err)
{
    e->watch = (struct ctr_watch){ CTR_WATCH_EXEC, e, 0 };
    e->refs++; /* the supervisor's, dropped when it reaps */
    return watch_add(e->proc.pidfd, &e->watch, err);
}

void
ctr_supervisor_wake(void)
{
    if (ctrs.wake_fd >= 0)
        eventfd_write(ctrs.wake_fd, 1);
}

/* ---- events ---- */

static char buf[64 * 1024]; /* the supervisor thread's only */

static void
close_pipe(struct eng_ctr *c, int idx)
{
    struct ctr_pipe *p = &c->pipes[idx];
    flush_partial(c, idx);
    watch_del(p->fd);
    /* A pty's master is also stdin and the process's pty_fd: closed with the process. */
    if (!c->tty)
        close(p->fd);
    p->fd = -1;
}

/* Takes the pipes out of the epoll set while a client catches up (the process then blocks on
 * its full pipe). */
static void
pause_pipes(struct eng_ctr *c)
{
    if (c->pipes_paused)
        return;
    for (int i = 0; i < 2; i++)
        watch_del(c->pipes[i].fd);
    c->pipes_paused = true;
}

/* Puts the pipes of containers whose clients caught up back into the epoll set. */
static void
resume_pipes(void)
{
    pthread_mutex_lock(&ctrs.lock);
    for (size_t k = 0; k < ctrs.n; k++) {
        struct eng_ctr *c = ctrs.v[k];
        if (!c->pipes_paused || !subs_caught_up_locked(c))
            continue;
        c->throttled = false;
        c->pipes_paused = false;
        for (int i = 0; i < 2; i++)
            if (c->pipes[i].fd >= 0)
                watch_add(c->pipes[i].fd, &c->pipes[i].watch, NULL);
    }
    pthread_mutex_unlock(&ctrs.lock);
}

/* Copies what the pipe holds. Without drain, at most a few buffers (fairness) and the pipe
 * stays open at EAGAIN; with drain (the process is gone) it is read to the end and closed. */
static void
read_pipe(struct eng_ctr *c, int idx, bool drain)
{
    for (int round = 0; drain || round < 16; round++) {
        ssize_t n = read(c->pipes[idx].fd, buf, sizeof(buf));
        if (n > 0) {
            output(c, idx, buf, (size_t)n);
            if (!drain && c->throttled) {
                pause_pipes(c);
                return;
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN && !drain)
            return;
        /* EOF, EIO from a pty without writers, or nothing more to come */
        close_pipe(c, idx);
        return;
    }
}

/* Containers whose AutoRemove waits for the end of the current epoll batch (later events of
 * the batch may still point at them). */
static struct eng_ctr **doomed;
static size_t ndoomed;

static void
container_exited(struct eng_ctr *c)
{
    int code = 0;
    struct mc_error *err = NULL;
    if (eng_rt_try_reap(&c->proc, &code, &err) <= 0) {
        mc_error_free(err);
        return; /* not yet: a spurious wakeup */
    }
    watch_del(c->proc.pidfd);
    for (int i = 0; i < 2; i++)
        if (c->pipes[i].fd >= 0)
            read_pipe(c, i, true);
    c->pipes_paused = false;
    c->throttled = false;
    if (c->log_fd >= 0)
        close(c->log_fd);
    c->log_fd = -1;
    uint64_t kills = 0;
    bool oom = c->cgroup && eng_cgroup_oom_kills(c->cgroup, &kills, NULL) == 0 && kills > 0;
    if (c->cgroup) {
        eng_cgroup_destroy(c->cgroup, NULL);
        eng_cgroup_free(TAKE_PTR(c->cgroup));
    }
    pthread_mutex_lock(&ctrs.lock);
    c->oom_killed = oom;
    ctr_exited_locked(c, code);
    bool remove = c->state == ENG_CTR_EXITED && !ctrs.shutting_down &&
                  mc_json_bool(c->host_config, "AutoRemove", false);
    if (remove) {
        ctr_ref_locked(c);
        doomed = xreallocarray(doomed, ndoomed + 1, sizeof(*doomed));
        doomed[ndoomed++] = c;
    }
    pthread_mutex_unlock(&ctrs.lock);
}

static void
remove_doomed(void)
{
    for (size_t i = 0; i < ndoomed; i++) {
        ctr_destroy(doomed[i], NULL);
        ctr_unref(doomed[i]);
    }
    ndoomed = 0;
}

static void
exec_exited(struct eng_ctr_exec *e)
{
    int code = 0;
    if (eng_rt_try_reap(&e->proc, &code, NULL) <= 0)
        return;
    watch_del(e->proc.pidfd);
    pthread_mutex_lock(&ctrs.lock);
    e->exit_code = code;
    e->exited = true;
    e->running = false;
    e->pid = 0;
    ctr_exec_event_locked(e, "exec_die", false);
    close(e->proc.pidfd);
    e->proc.pidfd = -1;
    if (e->pty_fd >= 0)
        close(e->pty_fd);
    e->pty_fd = -1;
    ctr_changed_locked();
    pthread_mutex_unlock(&ctrs.lock);
    ctr_exec_unref(e);
}

static void
dispatch(struct ctr_watch *w)
{
    uint64_t v;
    switch (w->kind) {
    case CTR_WATCH_PROC:
        container_exited(w->obj);
        break;
    case CTR_WATCH_PIPE: {
        struct eng_ctr *c = w->obj;
        if (c->pipes[w->idx].fd >= 0)
            read_pipe(c, w->idx, false);
        break;
    }
    case CTR_WATCH_EXEC:
        exec_exited(w->obj);
        break;
    case CTR_WATCH_WAKE:
        (void)!read(ctrs.wake_fd, &v, sizeof(v));
        resume_pipes();
        break;
    }
}

static void *
supervise(void *arg)
{
    struct epoll_event ev[32];
    while (ctrs.running) {
        int64_t next = ctr_run_restarts();
        int timeout = next < 0 ? 1000 : next > 1000 ? 1000 : (int)next;
        int n = epoll_wait(ctrs.epfd, ev, ELEMENTSOF(ev), timeout);
        for (int i = 0; i < n; i++)
            dispatch(ev[i].data.ptr);
        remove_doomed();
    }
    return NULL;
}

int
ctr_supervisor_start(struct mc_error **err)
{
    ctrs.epfd = epoll_create1(EPOLL_CLOEXEC);
    ctrs.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ctrs.epfd < 0 || ctrs.wake_fd < 0)
        return mc_error_sys(err, errno, "cannot create the supervisor's epoll set");
    ctrs.wake_watch = (struct ctr_watch){ CTR_WATCH_WAKE, NULL, 0 };
    if (watch_add(ctrs.wake_fd, &ctrs.wake_watch, err) < 0)
        return -1;
    ctrs.running = true;
    int r = pthread_create(&ctrs.supervisor, NULL, supervise, NULL);
    if (r != 0) {
        ctrs.running = false;
        return mc_error_sys(err, r, "cannot start the supervisor thread");
    }
    return 0;
}

void
ctr_supervisor_stop(void)
{
    if (!ctrs.running)
        return;
    ctrs.running = false;
    ctr_supervisor_wake();
    pthread_join(ctrs.supervisor, NULL);
}
