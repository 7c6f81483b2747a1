/* The byte transport under every exchange (client-internal.h): a unix socket, plain tcp, or tcp
 * with mutual TLS through OpenSSL. Sockets are non-blocking; the blocking forms poll with a
 * deadline. OpenSSL's errors are converted in one place, tls_error(). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "client-internal.h"
#include "fs.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

int64_t
client_deadline(int timeout_ms)
{
    return timeout_ms > 0 ? mc_now_ms() + timeout_ms : 0;
}

/* The one conversion of OpenSSL's error queue (and the verify result) into an error. */
static int
tls_error(struct client *c, SSL *ssl, const char *what, struct mc_error **err)
{
    unsigned long e = ERR_get_error();
    char reason[256] = "the connection was closed during the handshake";
    if (e)
        ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (v != X509_V_OK)
        return mc_error_set(err, MC_ERR_AUTH, "%s with the engine at '%s' failed: %s (%s)", what,
                            c->cfg.host, reason, X509_verify_cert_error_string(v));
    return mc_error_set(err, MC_ERR_AUTH, "%s with the engine at '%s' failed: %s", what,
                        c->cfg.host, reason);
}

/* A certificate file OpenSSL refused. */
static int
file_error(struct client *c, const char *what, const char *path, struct mc_error **err)
{
    tls_error(c, NULL, what, err);
    return mc_error_prefix(err, "'%s': ", path);
}

static int
load_cert_files(struct client *c, SSL_CTX *ctx, struct mc_error **err)
{
    _cleanup_free_ char *ca = mc_path_join(c->cfg.cert_path, "ca.pem");
    _cleanup_free_ char *cert = mc_path_join(c->cfg.cert_path, "cert.pem");
    _cleanup_free_ char *key = mc_path_join(c->cfg.cert_path, "key.pem");
    if (c->cfg.tls_verify && SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
        return file_error(c, "loading the CA certificate", ca, err);
    if (access(cert, R_OK) != 0 && !c->cfg.tls_verify)
        return 0; /* DOCKER_TLS without a client certificate */
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
        return file_error(c, "loading the client certificate", cert, err);
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        return file_error(c, "loading the client key", key, err);
    return 0;
}

/* The TLS context, made once per client: TLS 1.2+ with verification as configured. */
static SSL_CTX *
tls_context(struct client *c, struct mc_error **err)
{
    pthread_mutex_lock(&c->tls_lock);
    if (!c->tls) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        if (!ctx) {
            tls_error(c, NULL, "setting up TLS", err);
        } else {
            SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
            SSL_CTX_set_verify(ctx, c->cfg.tls_verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
            if (c->cfg.cert_path && load_cert_files(c, ctx, err) < 0)
                SSL_CTX_free(TAKE_PTR(ctx));
            c->tls = ctx;
        }
    }
    SSL_CTX *ret = c->tls;
    pthread_mutex_unlock(&c->tls_lock);
    return ret;
}

int
tr_poll(struct transport *t, short want, int64_t deadline, struct mc_error **err)
{
    for (;;) {
        int wait = -1;
        if (deadline) {
            int64_t left = deadline - mc_now_ms();
            if (left <= 0)
                return mc_error_set(err, MC_ERR_TIMEOUT,
                                    "the engine at '%s' did not answer within %d ms",
                                    t->host ? t->host : "?", t->timeout_ms);
            wait = (int)left;
        }
        struct pollfd p = { .fd = t->fd, .events = want };
        int r = poll(&p, 1, wait);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return mc_error_sys(err, errno, "cannot wait for the engine's connection");
    }
}

/* A connection that could not be made: an I/O error whatever the errno. */
static int
unreachable(struct client *c, int errnum, struct mc_error **err)
{
    return mc_error_set_full(err, MC_LOG_MODULE, MC_ERR_IO, errnum,
                             "cannot reach the engine at '%s'", c->cfg.host);
}

/* Unix sockets connect at once (or fail), so the connect blocks and the socket turns
 * non-blocking afterwards. */
static int
socket_unix(struct client *c, int *ret, struct mc_error **err)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (strlen(c->socket_path) >= sizeof(a.sun_path))
        return mc_error_set(err, MC_ERR_INVALID, "the socket path '%s' is too long",
                            c->socket_path);
    memcpy(a.sun_path, c->socket_path, strlen(c->socket_path) + 1);
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return mc_error_sys(err, errno, "cannot make a socket");
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        return unreachable(c, errno, err);
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
        return mc_error_sys(err, errno, "cannot set up the engine's connection");
    *ret = TAKE_FD(fd);
    return 0;
}

/* Waits for a non-blocking connect to finish. */
static int
connect_finish(struct client *c, int fd, int timeout_ms, int64_t deadline, struct mc_error **err)
{
    struct transport t = { .fd = fd, .host = c->cfg.host, .timeout_ms = timeout_ms };
    if (tr_poll(&t, POLLOUT, deadline, err) < 0)
        return mc_error_prefix(err, "connecting to '%s': ", c->cfg.host);
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
        soerr = errno;
    if (soerr)
        return unreachable(c, soerr, err);
    return 0;
}

static int
socket_tcp(struct client *c, int timeout_ms, int64_t deadline, int *ret, struct mc_error **err)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    char port[16];
    snprintf(port, sizeof(port), "%d", c->tcp_port);
    int r = getaddrinfo(c->tcp_host, port, &hints, &res);
    if (r != 0)
        return mc_error_set(err, MC_ERR_IO, "cannot resolve the engine's host '%s': %s",
                            c->tcp_host, gai_strerror(r));
    struct mc_error *last = NULL;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        _cleanup_close_ int fd =
                socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            continue;
        mc_error_free(last);
        last = NULL;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
            unreachable(c, errno, &last);
            continue;
        }
        if (connect_finish(c, fd, timeout_ms, deadline, &last) == 0) {
            /* Requests are small writes after the handshake's: without this, Nagle's algorithm
             * holds them for the peer's delayed ACK (40 ms per exchange). */
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
            freeaddrinfo(res);
            *ret = TAKE_FD(fd);
            return 0;
        }
    }
    freeaddrinfo(res);
    if (!last)
        mc_error_set(&last, MC_ERR_IO, "cannot reach the engine at '%s'", c->cfg.host);
    return mc_error_propagate(err, last);
}

static bool
is_ip_literal(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int
tls_handshake(struct client *c, struct transport *t, int64_t deadline, struct mc_error **err)
{
    SSL_CTX *ctx = tls_context(c, err);
    if (!ctx)
        return -1;
    t->ssl = SSL_new(ctx);
    if (!t->ssl || SSL_set_fd(t->ssl, t->fd) != 1)
        return tls_error(c, NULL, "setting up TLS", err);
    if (c->cfg.tls_verify) {
        X509_VERIFY_PARAM *p = SSL_get0_param(t->ssl);
        int ok = is_ip_literal(c->tcp_host) ? X509_VERIFY_PARAM_set1_ip_asc(p, c->tcp_host)
                                            : X509_VERIFY_PARAM_set1_host(p, c->tcp_host, 0);
        if (ok != 1)
            return tls_error(c, NULL, "setting up TLS", err);
    }
    if (!is_ip_literal(c->tcp_host))
        SSL_set_tlsext_host_name(t->ssl, c->tcp_host);
    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(t->ssl);
        if (r == 1)
            return 0;
        int e = SSL_get_error(t->ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            return tls_error(c, t->ssl, "the TLS handshake", err);
        if (tr_poll(t, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, err) < 0)
            return mc_error_prefix(err, "TLS handshake with '%s': ", c->cfg.host);
    }
}

int
tr_connect(struct client *c, int timeout_ms, int64_t deadline, struct transport *ret,
           struct mc_error **err)
{
    struct transport t = TRANSPORT_INIT;
    t.host = c->cfg.host;
    t.timeout_ms = timeout_ms;
    int r = c->socket_path ? socket_unix(c, &t.fd, err)
                           : socket_tcp(c, timeout_ms, deadline, &t.fd, err);
    if (r == 0 && c->cfg.tls && !c->socket_path)
        r = tls_handshake(c, &t, deadline, err);
    if (r < 0) {
        tr_close(&t);
        return -1;
    }
    *ret = t;
    return 0;
}

void
tr_close(struct transport *t)
{
    if (t->ssl)
        SSL_free(t->ssl);
    if (t->fd >= 0)
        close(t->fd);
    t->ssl = NULL;
    t->fd = -1;
}

/* Turns an SSL_read/SSL_write result into bytes, TR_AGAIN or an error. */
static ssize_t
ssl_result(struct transport *t, int r, short *want, const char *what, struct mc_error **err)
{
    int e = SSL_get_error(t->ssl, r);
    switch (e) {
    case SSL_ERROR_NONE:
        return r;
    case SSL_ERROR_WANT_READ:
        *want = POLLIN;
        return TR_AGAIN;
    case SSL_ERROR_WANT_WRITE:
        *want = POLLOUT;
        return TR_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return 0; /* close_notify */
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0 && errno == 0)
            return 0; /* the peer closed without close_notify: end of stream */
        break;
    default:
        break;
    }
    unsigned long code = ERR_get_error();
    char reason[256] = "";
    if (code)
        ERR_error_string_n(code, reason, sizeof(reason));
    ERR_clear_error();
    if (!code)
        return mc_error_sys(err, errno ? errno : EIO, "%s the engine's TLS connection", what);
    return mc_error_set(err, MC_ERR_IO, "%s the engine's TLS connection: %s", what, reason);
}

ssize_t
tr_read(struct transport *t, void *buf, size_t n, short *want, struct mc_error **err)
{
    if (t->ssl) {
        ERR_clear_error();
        errno = 0;
        int r = SSL_read(t->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
        return r > 0 ? r : ssl_result(t, r, want, "reading from", err);
    }
    ssize_t r = read(t->fd, buf, n);
    if (r >= 0)
        return r;
    if (errno == EAGAIN || errno == EINTR) {
        *want = POLLIN;
        return TR_AGAIN;
    }
    if (errno == ECONNRESET)
        return 0;
    return mc_error_sys(err, errno, "cannot read from the engine's connection");
}

ssize_t
tr_write(struct transport *t, const void *buf, size_t n, short *want, struct mc_error **err)
{
    if (t->ssl) {
        ERR_clear_error();
        errno = 0;
        int r = SSL_write(t->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
        if (r > 0)
            return r;
        ssize_t s = ssl_result(t, r, want, "writing to", err);
        return s == 0 ? mc_error_set(err, MC_ERR_IO, "the engine closed the connection") : s;
    }
    ssize_t r = send(t->fd, buf, n, MSG_NOSIGNAL);
    if (r >= 0)
        return r;
    if (errno == EAGAIN || errno == EINTR) {
        *want = POLLOUT;
        return TR_AGAIN;
    }
    return mc_error_sys(err, errno, "cannot write to the engine's connection");
}

bool
tr_pending(const struct transport *t)
{
    return t->ssl && SSL_pending(t->ssl) > 0;
}

ssize_t
tr_read_wait(struct transport *t, void *buf, size_t n, int64_t deadline, struct mc_error **err)
{
    for (;;) {
        short want = POLLIN;
        ssize_t r = tr_read(t, buf, n, &want, err);
        if (r != TR_AGAIN)
            return r;
        if (tr_poll(t, want, deadline, err) < 0)
            return -1;
    }
}

int
tr_write_all(struct transport *t, const void *buf, size_t n, int64_t deadline,
             struct mc_error **err)
{
    const char *p = buf;
    while (n > 0) {
        short want = POLLOUT;
        ssize_t r = tr_write(t, p, n, &want, err);
        if (r == TR_AGAIN) {
            if (tr_poll(t, want, deadline, err) < 0)
                return -1;
            continue;
        }
        if (r < 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int
tr_shutdown_write(struct transport *t, int64_t deadline, struct mc_error **err)
{
    if (t->write_shut)
        return 0;
    t->write_shut = true;
    if (!t->ssl) {
        if (shutdown(t->fd, SHUT_WR) < 0 && errno != ENOTCONN)
            return mc_error_sys(err, errno, "cannot end the stream to the engine");
        return 0;
    }
    for (;;) {
        ERR_clear_error();
        int r = SSL_shutdown(t->ssl); /* 0: our close_notify is out, the peer's is not in */
        if (r >= 0)
            return 0;
        int e = SSL_get_error(t->ssl, r);
        if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ)
            return ssl_result(t, r, &(short){ 0 }, "ending", err) < 0 ? -1 : 0;
        if (tr_poll(t, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, err) < 0)
            return -1;
    }
}
