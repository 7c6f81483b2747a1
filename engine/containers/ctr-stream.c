/* The handlers that hold their connection: wait (headers at once, the body at the exit),
 * attach (101 at once, output until the process is gone, stdin to the process), logs
 * (json-file, follow) and exec start (hijacked, ExitCode recorded before the close). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <linux/sockios.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctr-internal.h"
#include "ctr-routes.h"
#include "json.h"
#include "log.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

/* Sleeps on ctrs.changed for at most ms (lock held). */
static void
wait_changed_locked(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&ctrs.changed, &ctrs.lock, &ts);
}

static bool
is_running(enum eng_ctr_state s)
{
    return s == ENG_CTR_RUNNING || s == ENG_CTR_PAUSED || s == ENG_CTR_RESTARTING;
}

/* ---- wait ---- */

enum wait_cond {
    WAIT_NOT_RUNNING,
    WAIT_NEXT_EXIT,
    WAIT_REMOVED
};

static int
parse_condition(const char *s, enum wait_cond *ret, struct mc_error **err)
{
    if (isempty(s) || streq(s, "not-running"))
        *ret = WAIT_NOT_RUNNING;
    else if (streq(s, "next-exit"))
        *ret = WAIT_NEXT_EXIT;
    else if (streq(s, "removed"))
        *ret = WAIT_REMOVED;
    else
        return mc_error_set(err, MC_ERR_INVALID, "invalid condition: \"%s\"", s);
    return 0;
}

static bool
wait_done_locked(const struct eng_ctr *c, enum wait_cond cond, uint64_t exits0)
{
    switch (cond) {
    case WAIT_NOT_RUNNING:
        return !is_running(c->state) && !c->busy;
    case WAIT_NEXT_EXIT:
        return c->exits != exits0 || c->removed;
    case WAIT_REMOVED:
    default:
        return c->removed;
    }
}

int
ctr_h_wait(struct eng_request *req, struct mc_error **err)
{
    enum wait_cond cond = WAIT_NOT_RUNNING;
    if (parse_condition(eng_req_query(req, "condition"), &cond, err) < 0)
        return -1;
    _cleanup_ctr_ struct eng_ctr *c = ctr_get(eng_req_param(req, "id"), err);
    if (!c)
        return -1;
    pthread_mutex_lock(&ctrs.lock);
    uint64_t exits0 = c->exits;
    pthread_mutex_unlock(&ctrs.lock);
    /* The CLI sends start only after these headers arrive. */
    struct eng_stream *s = eng_resp_stream(req, 200, "application/json", err);
    if (!s)
        return -1;
    pthread_mutex_lock(&ctrs.lock);
    while (!wait_done_locked(c, cond, exits0)) {
        wait_changed_locked(500);
        if (eng_req_client_gone(req)) {
            pthread_mutex_unlock(&ctrs.lock);
            return 0;
        }
    }
    int code = c->exit_code;
    pthread_mutex_unlock(&ctrs.lock);
    _cleanup_json_ json_t *j = json_pack("{s:i, s:n}", "StatusCode", code, "Error");
    return eng_stream_json(s, j, err) < 0 ? -1 : 0;
}

/* ---- attach ---- */

struct attach {
    struct eng_ctr *c;
    struct ctr_sub *sub;
    struct eng_stream *s;
    bool use_stdin;
    bool stdin_once;
    int stdin_fd;     /* our dup of the process's stdin, once it runs */
    bool client_done; /* stdin EOF seen */
};

/* Sends what the supervisor queued; returns 1 at the end of the output, -1 if the client
 * went away. */
static int
attach_flush(struct attach *a, struct mc_error **err)
{
    _cleanup_buf_ struct mc_buf q = MC_BUF_INIT;
    uint64_t v;
    (void)!read(a->sub->efd, &v, sizeof(v));
    pthread_mutex_lock(&ctrs.lock);
    q = a->sub->q;
    a->sub->q = (struct mc_buf)MC_BUF_INIT;
    bool eof = a->sub->eof;
    if (a->c->pipes_paused)
        ctr_supervisor_wake(); /* this client caught up: the output may flow again */
    if (a->use_stdin && a->stdin_fd < 0 && !a->client_done && a->c->stdin_fd >= 0)
        a->stdin_fd = fcntl(a->c->stdin_fd, F_DUPFD_CLOEXEC, 3);
    pthread_mutex_unlock(&ctrs.lock);
    if (q.len > 0 && eng_stream_write(a->s, q.data, q.len, err) < 0)
        return -1;
    return eof ? 1 : 0;
}

/* The client half-closed: with StdinOnce the process's stdin is closed too (cat sees EOF). */
static void
attach_stdin_eof(struct attach *a)
{
    a->client_done = true;
    if (a->stdin_fd >= 0)
        close(a->stdin_fd);
    a->stdin_fd = -1;
    if (!a->stdin_once || a->c->tty)
        return;
    pthread_mutex_lock(&ctrs.lock);
    if (a->c->stdin_fd >= 0)
        close(a->c->stdin_fd);
    a->c->stdin_fd = -1;
    pthread_mutex_unlock(&ctrs.lock);
}

/* Copies one read of the client's stdin to the process; -1 when the client went away. */
static int
attach_stdin(struct attach *a)
{
    char buf[16384];
    ssize_t n = eng_stream_read_timeout(a->s, buf, sizeof(buf), 0, NULL);
    if (n == 0) {
        attach_stdin_eof(a);
        return 0;
    }
    if (n < 0)
        return eng_stream_readable(a->s) ? 0 : -1;
    for (ssize_t off = 0; off < n && a->stdin_fd >= 0;) {
        ssize_t w = write(a->stdin_fd, buf + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(a->stdin_fd); /* the process closed its stdin: drop the rest */
            a->stdin_fd = -1;
            break;
        }
        off += w;
    }
    return 0;
}

static int
attach_loop(struct attach *a, struct mc_error **err)
{
    for (;;) {
        bool read_client = a->stdin_fd >= 0 && !a->client_done;
        struct pollfd pf[2] = { { .fd = a->sub->efd, .events = POLLIN },
                                { .fd = eng_stream_fd(a->s), .events = read_client ? POLLIN : 0 } };
        int timeout = read_client && eng_stream_readable(a->s) ? 0 : 1000;
        if (poll(pf, 2, timeout) < 0 && errno != EINTR)
            return mc_error_sys(err, errno, "attach: poll failed");
        int r = attach_flush(a, err);
        if (r != 0)
            return r < 0 ? -1 : 0;
        if ((pf[1].revents & (POLLHUP | POLLERR)) && !read_client)
            return 0; /* the client is gone */
        if (read_client && (timeout == 0 || pf[1].revents) && attach_stdin(a) < 0)
            return 0;
    }
}

int
ctr_h_attach(struct eng_request *req, struct mc_error **err)
{
    _cleanup_ctr_ struct eng_ctr *c = ctr_get(eng_req_param(req, "id"), err);
    if (!c)
        return -1;
    struct attach a = { .c = c,
                        .stdin_fd = -1,
                        .use_stdin = eng_req_query_bool(req, "stdin", false),
                        .stdin_once = mc_json_bool(c->config, "StdinOnce", false) };
    pthread_mutex_lock(&ctrs.lock);
    if (c->state == ENG_CTR_EXITED && c->started_before && !c->busy) {
        pthread_mutex_unlock(&ctrs.lock);
        return mc_error_set(err, MC_ERR_CONFLICT,
                            "You cannot attach to a stopped container, start it first");
    }
    a.sub = ctr_sub_add_locked(c, eng_req_query_bool(req, "stdout", false),
                               eng_req_query_bool(req, "stderr", false));
    bool tty = c->tty;
    pthread_mutex_unlock(&ctrs.lock);
    int r = -1;
    a.s = eng_resp_hijack(req, eng_stream_content_type(req, tty), err);
    if (a.s)
        r = attach_loop(&a, err) < 0 ? 0 : 0; /* a broken client is not an error to report */
    if (a.stdin_fd >= 0)
        close(a.stdin_fd);
    pthread_mutex_lock(&ctrs.lock);
    ctr_sub_remove_locked(c, a.sub);
    pthread_mutex_unlock(&ctrs.lock);
    return r;
}

/* ---- logs ---- */

struct logs_opts {
    bool out, err, follow, timestamps;
    int64_t since, until;
    int64_t tail; /* -1: all */
};

static int
logs_opts_parse(struct eng_request *req, struct logs_opts *o, struct mc_error **err)
{
    o->out = eng_req_query_bool(req, "stdout", false);
    o->err = eng_req_query_bool(req, "stderr", false);
    o->follow = eng_req_query_bool(req, "follow", false);
    o->timestamps = eng_req_query_bool(req, "timestamps", false);
    if (!o->out && !o->err)
        return mc_error_set(err, MC_ERR_INVALID,
                            "Bad parameters: you must choose at least one stream");
    const char *tail = eng_req_query(req, "tail");
    o->tail = -1;
    if (!isempty(tail) && !streq(tail, "all") &&
        (mc_parse_int64(tail, &o->tail) < 0 || o->tail < 0))
        o->tail = -1;
    if (eng_ctr_parse_log_time(eng_req_query(req, "since"), &o->since, err) < 0 ||
        eng_ctr_parse_log_time(eng_req_query(req, "until"), &o->until, err) < 0)
        return -1;
    return 0;
}

static int64_t
count_lines(FILE *f)
{
    int64_t n = 0;
    char buf[65536];
    size_t r;
    while ((r = fread(buf, 1, sizeof(buf), f)) > 0)
        for (size_t i = 0; i < r; i++)
            n += buf[i] == '\n';
    rewind(f);
    return n;
}

/* Sends one json-file entry; 1 past "until" (stop), -1 when the client is gone. */
static int
send_entry(struct eng_stream *s, const char *line, size_t n, const struct logs_opts *o, bool tty,
           struct mc_error **err)
{
    struct eng_ctr_log_entry e;
    if (eng_ctr_log_decode(line, n, &e, NULL) < 0)
        return 0;
    int r = 0;
    if (o->until && e.time_ns > o->until)
        r = 1;
    else if ((e.is_stderr ? o->err : o->out) && (!o->since || e.time_ns >= o->since)) {
        _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
        char ts[64];
        if (o->timestamps)
            mc_buf_printf(&b, "%s ", mc_format_rfc3339(e.time_ns, true, ts, sizeof(ts)));
        mc_buf_append(&b, e.log, e.len);
        r = tty ? eng_stream_write(s, b.data, b.len, err)
                : eng_stream_frame(s, e.is_stderr ? ENG_STREAM_STDERR : ENG_STREAM_STDOUT, b.data,
                                   b.len, err);
    }
    eng_ctr_log_entry_clear(&e);
    return r;
}

/* Sends the complete lines from f's position on; returns 1 at "until", -1 client gone. */
static int
send_lines(FILE *f, int64_t *skip, struct eng_stream *s, const struct logs_opts *o, bool tty,
           struct mc_error **err)
{
    _cleanup_free_ char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    for (;;) {
        long pos = ftell(f);
        if ((n = getline(&line, &cap, f)) <= 0)
            break;
        if (line[n - 1] != '\n') { /* a line being written: read it whole later */
            fseek(f, pos, SEEK_SET);
            break;
        }
        if (*skip > 0) {
            (*skip)--;
            continue;
        }
        int r = send_entry(s, line, (size_t)n, o, tty, err);
        if (r != 0)
            return r;
    }
    clearerr(f);
    return 0;
}

/* Follows: sleeps until new lines or the end of the container's run. */
static bool
follow_wait(struct eng_request *req, struct eng_ctr *c, uint64_t *seen)
{
    pthread_mutex_lock(&ctrs.lock);
    while (c->log_seq == *seen && is_running(c->state) && !c->removed) {
        wait_changed_locked(1000);
        if (eng_req_client_gone(req))
            break;
    }
    bool more = c->log_seq != *seen || is_running(c->state);
    *seen = c->log_seq;
    pthread_mutex_unlock(&ctrs.lock);
    return more && !eng_req_client_gone(req);
}

int
ctr_h_logs(struct eng_request *req, struct mc_error **err)
{
    struct logs_opts o;
    if (logs_opts_parse(req, &o, err) < 0)
        return -1;
    _cleanup_ctr_ struct eng_ctr *c = ctr_get(eng_req_param(req, "id"), err);
    if (!c)
        return -1;
    pthread_mutex_lock(&ctrs.lock);
    bool tty = c->tty;
    uint64_t seen = c->log_seq;
    bool follow = o.follow && (is_running(c->state) || c->busy);
    pthread_mutex_unlock(&ctrs.lock);
    struct eng_stream *s = eng_resp_stream(req, 200, eng_stream_content_type(req, tty), err);
    if (!s)
        return -1;
    _cleanup_fclose_ FILE *f = fopen(c->log_path, "re");
    int64_t skip = f && o.tail >= 0 ? count_lines(f) - o.tail : 0;
    for (;;) {
        int r = f ? send_lines(f, &skip, s, &o, tty, err) : 0;
        if (r != 0)
            return r < 0 ? -1 : 0;
        if (!follow || !follow_wait(req, c, &seen))
            break;
        if (!f)
            f = fopen(c->log_path, "re");
    }
    return 0;
}

/* ---- exec start ---- */

static void
exec_wait_exit(struct eng_ctr_exec *e)
{
    pthread_mutex_lock(&ctrs.lock);
    while (!e->exited)
        wait_changed_locked(1000);
    pthread_mutex_unlock(&ctrs.lock);
}

/* As dockerd: a failed start goes to the client as text on stdout, then the stream ends. */
static void
exec_report(struct eng_stream *s, bool tty, const struct mc_error *e)
{
    _cleanup_free_ char *text = xasprintf("%s\r\n", e->message);
    if (tty)
        eng_stream_write(s, text, strlen(text), NULL);
    else
        eng_stream_frame(s, ENG_STREAM_STDOUT, text, strlen(text), NULL);
}

/* docker-py reads the answer's head through a buffered reader, then the frames from the raw
 * socket, so frames that reach it with the head are lost (docker-py issues #2042, #3332): its
 * exec_run then returns no output. dockerd's exec starts tens of milliseconds after its
 * answer, so the frames never come that early; ours can start within one. So the process
 * starts once the client has read the head, where the socket tells (a unix socket's send
 * queue, SIOCOUTQ, is empty once the peer has read it), waiting at most 100 ms; over TCP the
 * kernel cannot tell, and the process starts at once. */
static void
wait_head_read(struct eng_stream *s)
{
    int fd = eng_stream_fd(s);
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 || sa.ss_family != AF_UNIX)
        return;
    int64_t deadline = mc_now_ms() + 100;
    int queued = 0;
    while (ioctl(fd, SIOCOUTQ, &queued) == 0 && queued > 0 && mc_now_ms() < deadline)
        nanosleep(&(struct timespec){ .tv_nsec = 100000 }, NULL);
}

static int
exec_attached(struct eng_request *req, struct eng_ctr_exec *e, bool tty, struct mc_error **err)
{
    struct eng_stream *s = eng_resp_hijack(req, eng_stream_content_type(req, tty), err);
    if (!s)
        return -1;
    wait_head_read(s);
    struct eng_rt_process p = ENG_RT_PROCESS_INIT;
    struct mc_error *start_err = NULL;
    if (ctr_exec_start(e, false, &p, &start_err) < 0) {
        exec_report(s, tty, start_err);
        mc_error_free(start_err);
        return 0;
    }
    int in = p.stdin_fd;
    if (tty)
        in = mc_json_bool(e->config, "AttachStdin", false) ? fcntl(p.pty_fd, F_DUPFD_CLOEXEC, 3)
                                                           : -1;
    else
        p.stdin_fd = -1; /* the pump owns and closes it */
    eng_stream_pump(s, in, p.stdout_fd, tty ? -1 : p.stderr_fd, !tty, NULL);
    exec_wait_exit(e);
    eng_rt_process_close(&p);
    return 0;
}

int
ctr_h_exec_start(struct eng_request *req, struct mc_error **err)
{
    _cleanup_json_ json_t *body = eng_req_body_json(req, err);
    if (!body)
        return -1;
    struct eng_ctr_exec *e = ctr_exec_get(eng_req_param(req, "id"), err);
    if (!e)
        return -1;
    bool detach = mc_json_bool(body, "Detach", false);
    bool tty = json_is_boolean(json_object_get(body, "Tty")) ? mc_json_bool(body, "Tty", false)
                                                             : e->tty;
    int r;
    if (detach) {
        struct eng_rt_process p = ENG_RT_PROCESS_INIT;
        r = ctr_exec_start(e, true, &p, err);
        eng_rt_process_close(&p);
        if (r == 0)
            r = eng_resp_empty(req, 200);
    } else {
        e->tty = tty;
        r = exec_attached(req, e, tty, err);
    }
    ctr_exec_unref(e);
    return r;
}
