/* eng_stream_pump(): copy between a hijacked connection and a process's fds (api-handler.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "api-internal.h"
#include "strbuf.h"

#define PUMP_BUF 16384

struct pump {
    struct eng_stream *s;
    int in_fd;
    bool client_open;      /* still reading stdin from the client */
    struct mc_buf pending; /* stdin bytes not yet taken by the process */
    bool framed;
};

static void
close_stdin(struct pump *p)
{
    if (p->in_fd >= 0)
        close(p->in_fd);
    p->in_fd = -1;
    mc_buf_reset(&p->pending);
}

/* Reads what the client sent; returns -1 when the client is gone. */
static int
take_client(struct pump *p)
{
    char buf[PUMP_BUF];
    struct mc_error *e = NULL;
    ssize_t n = eng_stream_read_timeout(p->s, buf, sizeof(buf), 0, &e);
    bool timeout = n < 0 && mc_error_is(e, MC_ERR_TIMEOUT);
    mc_error_free(e);
    if (n > 0) {
        if (p->in_fd >= 0)
            mc_buf_append(&p->pending, buf, (size_t)n);
        return 0;
    }
    if (n == 0) { /* stdin EOF (half-close): the process sees EOF once pending is written */
        p->client_open = false;
        if (p->pending.len == 0)
            close_stdin(p);
        return 0;
    }
    return timeout ? 0 : -1;
}

static void
feed_stdin(struct pump *p)
{
    ssize_t w = write(p->in_fd, p->pending.data, p->pending.len);
    if (w > 0)
        mc_buf_consume(&p->pending, (size_t)w);
    else if (w < 0 && errno != EAGAIN && errno != EINTR)
        close_stdin(p); /* the process closed its stdin */
    if (p->pending.len == 0 && !p->client_open)
        close_stdin(p);
}

/* Forwards one read of an output fd; returns 1 at EOF, -1 when the client is gone. */
static int
forward(struct pump *p, int fd, enum eng_stream_type type, struct mc_error **err)
{
    char buf[PUMP_BUF];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0)
        return 1;
    int r = p->framed ? eng_stream_frame(p->s, type, buf, (size_t)n, err)
                      : eng_stream_write(p->s, buf, (size_t)n, err);
    return r < 0 ? -1 : 0;
}

int
eng_stream_pump(struct eng_stream *s, int in_fd, int out_fd, int err_fd, bool framed,
                struct mc_error **err)
{
    struct pump p = { .s = s, .in_fd = in_fd, .client_open = in_fd >= 0, .framed = framed };
    int outs[2] = { out_fd, err_fd };
    if (in_fd >= 0)
        fcntl(in_fd, F_SETFL, fcntl(in_fd, F_GETFL) | O_NONBLOCK);
    int rc = 0;
    while (outs[0] >= 0 || outs[1] >= 0) {
        struct pollfd pf[4];
        int n = 0, ci = -1, ii = -1, oi[2] = { -1, -1 };
        bool want_client = p.client_open && p.pending.len == 0;
        if (want_client) {
            ci = n;
            pf[n++] = (struct pollfd){ .fd = eng_stream_fd(s), .events = POLLIN };
        }
        if (p.in_fd >= 0 && p.pending.len > 0) {
            ii = n;
            pf[n++] = (struct pollfd){ .fd = p.in_fd, .events = POLLOUT };
        }
        for (int i = 0; i < 2; i++)
            if (outs[i] >= 0) {
                oi[i] = n;
                pf[n++] = (struct pollfd){ .fd = outs[i], .events = POLLIN };
            }
        int timeout = want_client && eng_stream_readable(s) ? 0 : -1;
        if (poll(pf, (nfds_t)n, timeout) < 0 && errno != EINTR) {
            rc = mc_error_sys(err, errno, "Cannot wait for the process output");
            break;
        }
        if (want_client && (timeout == 0 || pf[ci].revents) && take_client(&p) < 0) {
            rc = mc_error_set(err, MC_ERR_IO, "The client went away.");
            break;
        }
        if (ii >= 0 && pf[ii].revents)
            feed_stdin(&p);
        for (int i = 0; i < 2; i++) {
            if (oi[i] < 0 || !pf[oi[i]].revents)
                continue;
            int r = forward(&p, outs[i], i == 0 ? ENG_STREAM_STDOUT : ENG_STREAM_STDERR, err);
            if (r < 0) {
                rc = -1;
                goto out;
            }
            if (r > 0)
                outs[i] = -1;
        }
    }
out:
    close_stdin(&p);
    mc_buf_free(&p.pending);
    return rc;
}
