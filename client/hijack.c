/* The copy loop of a hijacked stream (client_hijack_pump): one thread, one poll() over the
 * caller's stdin and the connection, so a TLS connection is never used by two threads. Stdin's
 * end half-closes the stream (TLS close_notify or shutdown(SHUT_WR)) and output is read on
 * until the engine closes. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "client-frames.h"
#include "client-internal.h"
#include "fs.h"
#include "xalloc.h"

#define PUMP_BLOCK (64 * 1024)

struct pump {
    struct client_exchange *x;
    const struct client_hijack_io *io;
    struct client_demux demux;
    bool in_open;  /* still reading in_fd */
    bool out_open; /* the engine has not ended the stream */
    char *in_buf;  /* stdin read but not yet sent */
    size_t in_len, in_off;
    struct client_escape escape;
    bool detached;
    short read_want, write_want; /* what the connection waits for (TLS may cross directions) */
};

static int
write_fd(int fd, const char *data, size_t len, struct mc_error **err)
{
    if (mc_write_all(fd, data, len) < 0)
        return mc_error_sys(err, errno, "cannot write the container's output");
    return 0;
}

static int
on_frame(void *userdata, int stream, const char *data, size_t len, struct mc_error **err)
{
    const struct client_hijack_io *io = userdata;
    return write_fd(stream == CLIENT_STREAM_STDERR ? io->err_fd : io->out_fd, data, len, err);
}

static int
deliver(struct pump *p, const char *data, size_t len, struct mc_error **err)
{
    if (!p->io->framed)
        return write_fd(p->io->out_fd, data, len, err);
    return client_demux_feed(&p->demux, data, len, on_frame, (void *)p->io, err);
}

static int
read_stream(struct pump *p, struct mc_error **err)
{
    char buf[PUMP_BLOCK];
    for (;;) {
        short want = POLLIN;
        ssize_t r = tr_read(&p->x->t, buf, sizeof(buf), &want, err);
        if (r == TR_AGAIN) {
            p->read_want = want;
            return 0;
        }
        if (r < 0)
            return -1;
        if (r == 0) {
            p->out_open = false;
            return 0;
        }
        if (deliver(p, buf, (size_t)r, err) < 0)
            return -1;
    }
}

static void
stop_stdin(struct pump *p)
{
    p->in_open = false;
    p->in_len = p->in_off = 0;
}

/* Sends what is buffered from stdin; at stdin's end, half-closes. A connection that no longer
 * takes stdin ends stdin, not the stream: the output may still come. */
static void
write_stream(struct pump *p)
{
    while (p->in_off < p->in_len) {
        short want = POLLOUT;
        ssize_t w = tr_write(&p->x->t, p->in_buf + p->in_off, p->in_len - p->in_off, &want, NULL);
        if (w == TR_AGAIN) {
            p->write_want = want;
            return;
        }
        if (w < 0) {
            stop_stdin(p);
            return;
        }
        p->in_off += (size_t)w;
    }
    p->in_len = p->in_off = 0;
    p->write_want = 0;
}

static void
read_stdin(struct pump *p)
{
    char raw[PUMP_BLOCK];
    ssize_t n = read(p->io->in_fd, raw, sizeof(raw));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n > 0) {
        p->in_len = client_escape_filter(&p->escape, raw, (size_t)n, p->in_buf, &p->detached);
        p->in_off = 0;
        write_stream(p);
        return;
    }
    stop_stdin(p); /* the end, or an error such as EIO from a hung-up terminal */
    if (!p->io->keep_stdin)
        tr_shutdown_write(&p->x->t, client_deadline(5000), NULL);
}

static int
wait_events(struct pump *p, bool *ret_stream, bool *ret_stdin, struct mc_error **err)
{
    struct pollfd fds[2] = { { .fd = p->x->t.fd, .events = p->read_want | p->write_want },
                             { .fd = -1 } };
    if (p->in_open && p->in_len == 0)
        fds[1] = (struct pollfd){ .fd = p->io->in_fd, .events = POLLIN };
    int r = poll(fds, 2, -1);
    if (r < 0 && errno != EINTR)
        return mc_error_sys(err, errno, "cannot wait for the container's streams");
    *ret_stream = r > 0 && fds[0].revents;
    *ret_stdin = r > 0 && fds[1].revents;
    return 0;
}

int
client_hijack_pump(struct client_exchange *x, const struct client_hijack_io *io,
                   struct mc_error **err)
{
    _cleanup_free_ char *in_buf = xmalloc(PUMP_BLOCK + 64);
    struct pump p = {
        .x = x,
        .io = io,
        .in_open = io->in_fd >= 0,
        .out_open = true,
        .in_buf = in_buf,
        .escape = { .keys = io->detach_keys },
        .read_want = POLLIN,
    };
    if (io->detach_keys && strlen(io->detach_keys) > 64)
        return mc_error_set(err, MC_ERR_INVALID, "detach keys longer than 64 bytes");
    if (!x->raw)
        return mc_error_set(err, MC_ERR_INVALID, "the engine did not upgrade the connection");
    if (x->in.len && deliver(&p, x->in.data, x->in.len, err) < 0)
        return -1;
    mc_buf_reset(&x->in);
    while (p.out_open) {
        bool stream = tr_pending(&x->t), in = false;
        if (!stream && wait_events(&p, &stream, &in, err) < 0)
            return -1;
        if (in)
            read_stdin(&p);
        if (p.detached)
            return 1;
        if (p.in_len > p.in_off && p.write_want)
            write_stream(&p);
        if (stream && read_stream(&p, err) < 0)
            return -1;
    }
    if (io->framed && !client_demux_idle(&p.demux))
        return mc_error_set(err, MC_ERR_IO, "the engine ended the stream inside a frame");
    return 0;
}
