/* Connections: see api-conn.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "api-conn.h"
#include "crypto.h"
#include "timeutil.h"
#include "xalloc.h"

#define READ_CHUNK   4096
#define COALESCE_MAX 16384

void
eng_conn_init(struct eng_conn *c, int fd, SSL_CTX *ctx, const char *peer)
{
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    int fl = fcntl(fd, F_GETFL);
    if (ctx && fl >= 0) {
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    } else {
        if (fl >= 0)
            fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        struct timeval tv = { .tv_sec = ENG_CONN_BLOCKING_TIMEOUT_MS / 1000 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    }
    pthread_mutex_init(&c->ssl_lock, NULL);
    pthread_mutex_init(&c->wlock, NULL);
    snprintf(c->peer, sizeof(c->peer), "%s", peer ? peer : "");
    if (ctx) {
        c->ssl = SSL_new(ctx);
        if (c->ssl)
            SSL_set_fd(c->ssl, fd);
    }
}

/* Waits for events on fd until deadline (ms on the monotonic clock; -1: forever). */
static int
wait_fd(int fd, short events, int64_t deadline, struct mc_error **err)
{
    for (;;) {
        int timeout = -1;
        if (deadline >= 0) {
            int64_t left = deadline - mc_now_ms();
            if (left <= 0)
                return mc_error_set(err, MC_ERR_TIMEOUT, "The connection timed out.");
            timeout = left > 60000 ? 60000 : (int)left;
        }
        struct pollfd p = { .fd = fd, .events = events };
        int r = poll(&p, 1, timeout);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return mc_error_sys(err, errno, "Cannot wait for the connection");
        if (r > 0)
            return 0;
    }
}

static int64_t
deadline_of(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : mc_now_ms() + timeout_ms;
}

/* A plain HTTP request on a TLS port: answered in clear, in the words of Go's TLS server (so
 * of dockerd), which the docker CLI shows; a client without DOCKER_TLS_VERIFY learns why. */
static void
answer_plain_http(int fd)
{
    static const char msg[] = "HTTP/1.0 400 Bad Request\r\n\r\n"
                              "Client sent an HTTP request to an HTTPS server.\n";
    if (write(fd, msg, sizeof(msg) - 1) < 0)
        return; /* the client is gone: nothing to tell */
    shutdown(fd, SHUT_WR);
    /* Read the rest of the request for a moment: closing with it unread would reset the
     * connection before the client has read the answer. */
    char buf[4096];
    int64_t deadline = mc_now_ms() + 1000;
    for (size_t total = 0; total < 65536;) {
        int64_t left = deadline - mc_now_ms();
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return;
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            return;
        total += (size_t)n;
    }
}

int
eng_conn_handshake(struct eng_conn *c, int timeout_ms, struct mc_error **err)
{
    if (!c->ssl)
        return mc_error_openssl(err, "Cannot set up TLS for %s", c->peer);
    int64_t deadline = deadline_of(timeout_ms);
    for (;;) {
        ERR_clear_error();
        int r = SSL_accept(c->ssl);
        if (r == 1)
            return 0;
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            if (wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, err) < 0)
                return -1;
            continue;
        }
        c->broken = true;
        if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_HTTP_REQUEST) {
            answer_plain_http(c->fd);
            ERR_clear_error();
            return mc_error_set(err, MC_ERR_AUTH,
                                "%s sent a plain HTTP request to the TLS port (answered 400).",
                                c->peer);
        }
        if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
            return mc_error_set(err, MC_ERR_AUTH, "The TLS handshake with %s failed: %s.", c->peer,
                                r == 0 ? "the peer closed the connection" : strerror(errno));
        return mc_error_openssl(err, "The TLS handshake with %s failed", c->peer);
    }
}

/* Makes room for at least one READ_CHUNK (or what max allows) at the end of the buffer. */
static size_t
make_room(struct eng_conn *c, size_t max_buffered)
{
    if (c->in_off == c->in_len) {
        c->in_off = c->in_len = 0;
    } else if (c->in_off > 0 && c->in_cap - c->in_len < READ_CHUNK) {
        memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
        c->in_len -= c->in_off;
        c->in_off = 0;
    }
    if (c->in_cap - c->in_len < READ_CHUNK && c->in_cap < max_buffered) {
        size_t cap = c->in_cap ? c->in_cap * 2 : READ_CHUNK;
        if (cap > max_buffered)
            cap = max_buffered;
        if (cap < c->in_len + 1)
            cap = c->in_len + 1;
        c->in = xrealloc(c->in, cap);
        c->in_cap = cap;
    }
    return c->in_cap - c->in_len;
}

/* One non-blocking read attempt into dst. Returns >0 bytes, 0 at EOF, -2 when it would
 * block (with *want_events set), -1 on error. */
static ssize_t
read_once(struct eng_conn *c, void *dst, size_t n, short *want_events, struct mc_error **err)
{
    if (!c->ssl) {
        ssize_t r = recv(c->fd, dst, n, MSG_DONTWAIT);
        if (r >= 0)
            return r;
        if (errno == EAGAIN || errno == EINTR) {
            *want_events = POLLIN;
            return -2;
        }
        c->broken = true;
        return mc_error_sys(err, errno, "Cannot read from %s", c->peer);
    }
    pthread_mutex_lock(&c->ssl_lock);
    ERR_clear_error();
    int r = SSL_read(c->ssl, dst, n > INT32_MAX ? INT32_MAX : (int)n);
    int e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, r);
    int saved = errno;
    if (e == SSL_ERROR_SSL || e == SSL_ERROR_SYSCALL) {
        c->broken = true;
        if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_HTTP_REQUEST) {
            answer_plain_http(c->fd);
            ERR_clear_error();
            return mc_error_set(err, MC_ERR_AUTH,
                                "%s sent a plain HTTP request to the TLS port (answered 400).",
                                c->peer);
        }
        if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
            mc_error_set(err, MC_ERR_IO, "Cannot read from %s: %s.", c->peer,
                         saved ? strerror(saved) : "connection closed");
        else
            mc_error_openssl(err, "Cannot read from %s", c->peer);
    }
    pthread_mutex_unlock(&c->ssl_lock);
    switch (e) {
    case SSL_ERROR_NONE:
        return r;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_WANT_READ:
        *want_events = POLLIN;
        return -2;
    case SSL_ERROR_WANT_WRITE:
        *want_events = POLLOUT;
        return -2;
    default:
        return -1;
    }
}

/* A plain socket read that blocks in recv() (SO_RCVTIMEO bounds each call). */
static ssize_t
recv_blocking(struct eng_conn *c, void *dst, size_t n, int timeout_ms, struct mc_error **err)
{
    int64_t deadline = deadline_of(timeout_ms);
    for (;;) {
        ssize_t r = recv(c->fd, dst, n, 0);
        if (r >= 0) {
            if (r == 0)
                c->eof = true;
            return r;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN) {
            if (deadline >= 0 && mc_now_ms() >= deadline)
                return mc_error_set(err, MC_ERR_TIMEOUT, "The connection timed out.");
            continue;
        }
        c->broken = true;
        return mc_error_sys(err, errno, "Cannot read from %s", c->peer);
    }
}

static ssize_t
read_blocking(struct eng_conn *c, void *dst, size_t n, int timeout_ms, struct mc_error **err)
{
    if (!c->ssl && (timeout_ms < 0 || timeout_ms >= ENG_CONN_BLOCKING_TIMEOUT_MS))
        return recv_blocking(c, dst, n, timeout_ms, err);
    int64_t deadline = deadline_of(timeout_ms);
    for (;;) {
        short ev = 0;
        ssize_t r = read_once(c, dst, n, &ev, err);
        if (r == 0)
            c->eof = true;
        if (r != -2)
            return r;
        if (wait_fd(c->fd, ev, deadline, err) < 0)
            return -1;
    }
}

ssize_t
eng_conn_fill(struct eng_conn *c, size_t max_buffered, int timeout_ms, struct mc_error **err)
{
    if (c->eof)
        return 0;
    size_t room = make_room(c, max_buffered);
    if (room == 0)
        return mc_error_set(err, MC_ERR_INVALID, "The request from %s is too large.", c->peer);
    ssize_t r = read_blocking(c, c->in + c->in_len, room, timeout_ms, err);
    if (r > 0)
        c->in_len += (size_t)r;
    return r;
}

size_t
eng_conn_buffered(struct eng_conn *c)
{
    size_t n = c->in_len - c->in_off;
    if (c->ssl) {
        pthread_mutex_lock(&c->ssl_lock);
        n += (size_t)SSL_pending(c->ssl);
        pthread_mutex_unlock(&c->ssl_lock);
    }
    return n;
}

void
eng_conn_consume(struct eng_conn *c, size_t n)
{
    c->in_off += n;
    if (c->in_off >= c->in_len)
        c->in_off = c->in_len = 0;
}

ssize_t
eng_conn_read(struct eng_conn *c, void *buf, size_t n, int timeout_ms, struct mc_error **err)
{
    size_t have = c->in_len - c->in_off;
    if (have > 0) {
        size_t take = have < n ? have : n;
        memcpy(buf, c->in + c->in_off, take);
        eng_conn_consume(c, take);
        return (ssize_t)take;
    }
    if (c->eof || n == 0)
        return 0;
    return read_blocking(c, buf, n, timeout_ms, err);
}

static int
write_plain(struct eng_conn *c, struct iovec *iov, int n, int64_t deadline, struct mc_error **err)
{
    while (n > 0) {
        struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)n };
        ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(c->fd, POLLOUT, deadline, err) < 0)
                return -1;
            continue;
        }
        if (w < 0) {
            c->broken = true;
            return mc_error_sys(err, errno, "Cannot write to %s", c->peer);
        }
        size_t left = (size_t)w;
        while (n > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

static int
write_tls_one(struct eng_conn *c, const char *p, size_t len, int64_t deadline,
              struct mc_error **err)
{
    while (len > 0) {
        int n = len > 1 << 20 ? 1 << 20 : (int)len;
        pthread_mutex_lock(&c->ssl_lock);
        ERR_clear_error();
        int r = SSL_write(c->ssl, p, n);
        int e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, r);
        int saved = errno;
        if (e != SSL_ERROR_NONE && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            c->broken = true;
            if (ERR_peek_error() == 0)
                mc_error_set(err, MC_ERR_IO, "Cannot write to %s: %s.", c->peer,
                             saved ? strerror(saved) : "connection closed");
            else
                mc_error_openssl(err, "Cannot write to %s", c->peer);
        }
        pthread_mutex_unlock(&c->ssl_lock);
        if (e == SSL_ERROR_NONE) {
            p += r;
            len -= (size_t)r;
        } else if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            if (wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, err) < 0)
                return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

static int
write_tls(struct eng_conn *c, const struct iovec *iov, int n, int64_t deadline,
          struct mc_error **err)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    if (n > 1 && total <= COALESCE_MAX) {
        /* One TLS record instead of several small ones. */
        char buf[COALESCE_MAX];
        size_t o = 0;
        for (int i = 0; i < n; i++) {
            memcpy(buf + o, iov[i].iov_base, iov[i].iov_len);
            o += iov[i].iov_len;
        }
        return write_tls_one(c, buf, o, deadline, err);
    }
    for (int i = 0; i < n; i++)
        if (write_tls_one(c, iov[i].iov_base, iov[i].iov_len, deadline, err) < 0)
            return -1;
    return 0;
}

int
eng_conn_writev(struct eng_conn *c, const struct iovec *iov, int n, int timeout_ms,
                struct mc_error **err)
{
    struct iovec local[16];
    if (n > (int)ELEMENTSOF(local))
        return mc_error_set(err, MC_ERR_INVALID, "Too many pieces in one write.");
    memcpy(local, iov, sizeof(*iov) * (size_t)n);
    int64_t deadline = deadline_of(timeout_ms);
    pthread_mutex_lock(&c->wlock);
    int r;
    if (c->broken || c->write_closed)
        r = mc_error_set(err, MC_ERR_IO, "The connection to %s is closed.", c->peer);
    else if (c->ssl)
        r = write_tls(c, local, n, deadline, err);
    else
        r = write_plain(c, local, n, deadline, err);
    pthread_mutex_unlock(&c->wlock);
    return r;
}

int
eng_conn_write(struct eng_conn *c, const void *data, size_t n, int timeout_ms,
               struct mc_error **err)
{
    struct iovec iov = { .iov_base = (void *)data, .iov_len = n };
    return eng_conn_writev(c, &iov, 1, timeout_ms, err);
}

int
eng_conn_shutdown_write(struct eng_conn *c)
{
    pthread_mutex_lock(&c->wlock);
    if (!c->write_closed && !c->broken) {
        if (c->ssl) {
            pthread_mutex_lock(&c->ssl_lock);
            ERR_clear_error();
            SSL_shutdown(c->ssl); /* sends close_notify; does not wait for the peer's */
            pthread_mutex_unlock(&c->ssl_lock);
        }
        shutdown(c->fd, SHUT_WR);
    }
    c->write_closed = true;
    pthread_mutex_unlock(&c->wlock);
    return 0;
}

bool
eng_conn_peer_gone(struct eng_conn *c)
{
    if (c->eof || c->broken)
        return true;
    char b;
    ssize_t r = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (r == 0)
        return true;
    if (r < 0)
        return errno != EAGAIN && errno != EINTR;
    if (!c->ssl)
        return false;
    /* A TLS record is waiting: it may be the peer's close_notify. */
    pthread_mutex_lock(&c->ssl_lock);
    ERR_clear_error();
    int n = SSL_peek(c->ssl, &b, 1);
    int e = n > 0 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, n);
    pthread_mutex_unlock(&c->ssl_lock);
    return e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL || e == SSL_ERROR_SSL;
}

void
eng_conn_close(struct eng_conn *c)
{
    if (c->ssl) {
        if (!c->broken && !c->write_closed) {
            ERR_clear_error();
            SSL_shutdown(c->ssl);
        }
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    ERR_clear_error();
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->in);
    c->in = NULL;
    c->in_cap = c->in_len = c->in_off = 0;
    pthread_mutex_destroy(&c->ssl_lock);
    pthread_mutex_destroy(&c->wlock);
}
