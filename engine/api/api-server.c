/* Listeners, the accept loop and the per-connection request loop: see api-server.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api-internal.h"
#include "api-server.h"
#include "fs.h"
#include "log.h"
#include "timeutil.h"
#include "url.h"
#include "util.h"
#include "xalloc.h"

#define MAX_LISTENERS 16
#define LINGER_MS     2000
#define DRAIN_MAX     (1u << 20)

struct listener {
    int fd;
    SSL_CTX *tls;
    char *unix_path;
    int port;
};

struct conn_node {
    struct eng_conn conn;
    struct conn_node *prev, *next;
    struct eng_server *server;
};

struct eng_server {
    struct eng_daemon *daemon;
    const struct eng_module *const *modules;
    struct listener listeners[MAX_LISTENERS];
    size_t n_listeners;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    struct conn_node *conns;
    int n_conns;
    bool stopping;
};

struct eng_daemon *
eng_server_daemon(struct eng_server *s)
{
    return s->daemon;
}

struct eng_server *
eng_server_new(struct eng_daemon *d, const struct eng_module *const *modules)
{
    struct eng_server *s = xzalloc(sizeof(*s));
    s->daemon = d;
    s->modules = modules;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->idle, NULL);
    return s;
}

void
eng_server_free(struct eng_server *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_listeners; i++) {
        if (s->listeners[i].fd >= 0)
            close(s->listeners[i].fd);
        free(s->listeners[i].unix_path);
    }
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->idle);
    free(s);
}

/* ---- the request loop ---- */

/* Reads and parses one request head. Returns 1 with h filled, 0 when the connection ended
 * quietly (EOF or idle before a request began), -1 with *status set (0: close without an
 * answer) on a bad or slow request. */
static int
read_head(struct eng_conn *c, struct eng_http_head *h, int *status, struct mc_error **err)
{
    const struct eng_http_limits *lim = &eng_http_default_limits;
    int64_t started = -1;
    *status = 0;
    for (;;) {
        size_t have = c->in_len - c->in_off;
        if (have > 0) {
            long n = eng_http_parse_head(c->in + c->in_off, have, lim, h, status, err);
            if (n > 0) {
                eng_conn_consume(c, (size_t)n);
                return 1;
            }
            if (n < 0)
                return -1;
            if (started < 0)
                started = mc_now_ms();
        }
        int timeout = ENG_IDLE_TIMEOUT_MS;
        if (started >= 0) {
            int64_t left = ENG_HEAD_TIMEOUT_MS - (mc_now_ms() - started);
            timeout = left < 1 ? 1 : (int)left;
        }
        struct mc_error *e = NULL;
        ssize_t r = eng_conn_fill(c, lim->max_head + 1024, timeout, &e);
        if (r > 0)
            continue;
        bool timed_out = mc_error_is(e, MC_ERR_TIMEOUT);
        mc_error_free(e);
        if (started < 0)
            return 0;
        *status = timed_out ? 408 : 0;
        return mc_error_set(err, timed_out ? MC_ERR_TIMEOUT : MC_ERR_INVALID,
                            timed_out ? "The request head did not arrive in time."
                                      : "The connection closed inside a request head.");
    }
}

/* Reads and drops what is left of the body, up to max bytes. Returns true when it ended. */
static bool
drain_body(struct eng_request *req, size_t max, int timeout_ms)
{
    char buf[4096];
    size_t total = 0;
    int64_t deadline = mc_now_ms() + timeout_ms;
    while (!req->body_done && total < max && mc_now_ms() < deadline) {
        struct mc_error *e = NULL;
        ssize_t n = eng_req_read(req, buf, sizeof(buf), &e);
        mc_error_free(e);
        if (n <= 0)
            break;
        total += (size_t)n;
    }
    return req->body_done;
}

/* Closes gracefully after an error answer: stop writing, then read whatever the client is
 * still sending for a moment, so that closing does not reset the connection before the
 * client has read the answer. */
static void
linger(struct eng_conn *c)
{
    eng_conn_shutdown_write(c);
    char buf[4096];
    size_t total = 0;
    int64_t deadline = mc_now_ms() + LINGER_MS;
    while (total < DRAIN_MAX) {
        int64_t left = deadline - mc_now_ms();
        if (left <= 0)
            break;
        struct mc_error *e = NULL;
        ssize_t n = eng_conn_read(c, buf, sizeof(buf), (int)left, &e);
        mc_error_free(e);
        if (n <= 0)
            break;
        total += (size_t)n;
    }
}

static int
read_buffered_body(struct eng_request *req, size_t max, int *status, struct mc_error **err)
{
    if (req->body_done)
        return 0;
    if (req->body_mode == BODY_LENGTH && req->body_left > max) {
        *status = 413;
        return mc_error_set(err, MC_ERR_INVALID, "The request body is larger than %zu bytes.", max);
    }
    struct mc_buf b = MC_BUF_INIT;
    if (req->body_mode == BODY_LENGTH)
        mc_buf_reserve(&b, (size_t)req->body_left + 1);
    char buf[4096];
    for (;;) {
        ssize_t n = eng_req_read(req, buf, sizeof(buf), err);
        if (n < 0) {
            mc_buf_free(&b);
            *status = 400;
            return -1;
        }
        if (n == 0)
            break;
        if (b.len + (size_t)n > max) {
            mc_buf_free(&b);
            *status = 413;
            return mc_error_set(err, MC_ERR_INVALID, "The request body is larger than %zu bytes.",
                                max);
        }
        mc_buf_append(&b, buf, (size_t)n);
    }
    req->body_len = b.len;
    req->body = b.data ? mc_buf_steal(&b) : xstrdup("");
    return 0;
}

static void
set_body_mode(struct eng_request *req)
{
    if (req->head.chunked) {
        req->body_mode = BODY_CHUNKED;
    } else if (req->head.has_content_length && req->head.content_length > 0) {
        req->body_mode = BODY_LENGTH;
        req->body_left = req->head.content_length;
    } else {
        req->body_mode = BODY_NONE;
        req->body_done = true;
    }
}

static void
log_result(struct eng_request *req, int64_t t0, const struct mc_error *e)
{
    int status = req->state == RESP_HIJACKED ? 101 : req->status;
    if (e && status >= 500)
        log_error("%s %s -> %d: %s", req->head.method, req->head.target, status, e->message);
    else if (e)
        log_debug("%s %s -> %d: %s", req->head.method, req->head.target, status, e->message);
    else
        log_debug("%s %s -> %d (%.1f ms)", req->head.method, req->head.target, status,
                  (double)(mc_now_ms() - t0));
}

static void
call_handler(struct eng_request *req, int64_t t0)
{
    const struct eng_route *r = req->match.route;
    struct mc_error *e = NULL;
    int status = 0;
    bool send_continue = req->head.expect_continue && !req->body_done && req->head.minor == 1;
    if (send_continue) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        eng_conn_write(req->conn, cont, sizeof(cont) - 1, ENG_WRITE_TIMEOUT_MS, NULL);
    }
    if (!(r->flags & ENG_ROUTE_STREAM_BODY) &&
        read_buffered_body(req, r->max_body ? r->max_body : ENG_DEFAULT_MAX_BODY, &status, &e) <
                0) {
        eng_resp_send_error_close(req, status, e->message);
        mc_error_free(e);
        return;
    }
    int rc = r->handler(req, &e);
    if (rc < 0 && !e)
        mc_error_set(&e, MC_ERR_FAILED, "The request failed.");
    if (rc < 0 && req->state == RESP_NONE)
        eng_resp_error(req, e);
    else if (rc == 0 && req->state == RESP_NONE)
        eng_resp_error_msg(req, 500, "The handler did not answer.");
    if (req->state == RESP_STREAM)
        eng_resp_finish_stream(req, e);
    log_result(req, t0, e);
    mc_error_free(e);
}

static void
dispatch(struct eng_server *s, struct eng_request *req)
{
    int64_t t0 = mc_now_ms();
    const char *vtext;
    size_t vlen;
    int version;
    eng_api_version_split(req->head.path, &req->path, &version, &vtext, &vlen);
    req->api_version = version ? version : ENG_API_VERSION_NUM;
    set_body_mode(req);
    if (!eng_router_find(s->modules, req->head.method, req->path, &req->match)) {
        eng_resp_error_msg(req, 404, "page not found");
        log_debug("%s %s -> 404", req->head.method, req->head.target);
        return;
    }
    struct mc_error *e = NULL;
    if (eng_api_version_check(version, vtext, vlen, &e) < 0) {
        eng_resp_error(req, e);
        log_debug("%s %s -> 400: %s", req->head.method, req->head.target, e->message);
        mc_error_free(e);
        return;
    }
    call_handler(req, t0);
}

static void
request_clear(struct eng_request *req)
{
    eng_http_head_clear(&req->head);
    eng_query_clear(&req->query);
    eng_route_match_clear(&req->match);
    free(req->body);
    mc_buf_free(&req->out);
}

/* After an answer: may the connection carry another request? */
static bool
reusable(struct eng_request *req)
{
    if (req->state == RESP_HIJACKED || !req->keep_alive || req->conn->broken ||
        req->conn->write_closed)
        return false;
    if (!req->body_done && !drain_body(req, 64 * 1024, 5000))
        return false;
    return true;
}

/* Serves one request. Returns true when the connection stays open for another. */
static bool
serve_one(struct eng_server *s, struct eng_conn *c)
{
    struct eng_request req = { .server = s, .conn = c };
    struct mc_error *e = NULL;
    int status = 0;
    int r = read_head(c, &req.head, &status, &e);
    if (r <= 0) {
        if (r < 0 && status) {
            eng_resp_send_error_close(&req, status, e->message);
            log_info("bad request from %s -> %d: %s", c->peer, status, e->message);
            if (!c->broken)
                linger(c); /* the rest of the request, unread, would reset the answer away */
        }
        mc_error_free(e);
        request_clear(&req);
        return false;
    }
    req.keep_alive = req.head.keep_alive;
    dispatch(s, &req);
    bool again = reusable(&req);
    if (!again && req.state != RESP_HIJACKED && !req.body_done && !c->broken)
        linger(c);
    request_clear(&req);
    return again;
}

static void
serve_conn(struct eng_server *s, struct eng_conn *c)
{
    if (c->ssl) {
        struct mc_error *e = NULL;
        if (eng_conn_handshake(c, ENG_TLS_HANDSHAKE_MS, &e) < 0) {
            log_info("%s", e->message);
            mc_error_free(e);
            return;
        }
    }
    while (!c->eof && serve_one(s, c))
        ;
}

void
eng_server_serve_fd(struct eng_server *s, int fd, SSL_CTX *tls)
{
    struct eng_conn c;
    eng_conn_init(&c, fd, tls, tls ? "tls test peer" : "test peer");
    serve_conn(s, &c);
    eng_conn_close(&c);
}

/* ---- connection threads ---- */

static void
unregister_conn(struct conn_node *n)
{
    struct eng_server *s = n->server;
    pthread_mutex_lock(&s->lock);
    if (n->prev)
        n->prev->next = n->next;
    else
        s->conns = n->next;
    if (n->next)
        n->next->prev = n->prev;
    s->n_conns--;
    if (s->n_conns == 0)
        pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->lock);
}

static void *
conn_thread(void *arg)
{
    struct conn_node *n = arg;
    serve_conn(n->server, &n->conn);
    unregister_conn(n);
    eng_conn_close(&n->conn);
    free(n);
    return NULL;
}

static void
start_conn(struct eng_server *s, int fd, SSL_CTX *tls, const char *peer)
{
    struct conn_node *n = xzalloc(sizeof(*n));
    n->server = s;
    eng_conn_init(&n->conn, fd, tls, peer);
    pthread_mutex_lock(&s->lock);
    if (s->stopping || s->n_conns >= ENG_MAX_CONNECTIONS) {
        pthread_mutex_unlock(&s->lock);
        log_warn("refusing a connection from %s: %d connections are open", peer, s->n_conns);
        eng_conn_close(&n->conn);
        free(n);
        return;
    }
    n->next = s->conns;
    if (s->conns)
        s->conns->prev = n;
    s->conns = n;
    s->n_conns++;
    pthread_mutex_unlock(&s->lock);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, ENG_CONN_STACK_SIZE);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int r = pthread_create(&t, &attr, conn_thread, n);
    pthread_attr_destroy(&attr);
    if (r != 0) {
        log_error("cannot start a thread for %s: %s", peer, strerror(r));
        unregister_conn(n);
        eng_conn_close(&n->conn);
        free(n);
    }
}

int
eng_server_connections(struct eng_server *s)
{
    pthread_mutex_lock(&s->lock);
    int n = s->n_conns;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* ---- listeners ---- */

static int
add_listener(struct eng_server *s, int fd, SSL_CTX *tls, char *unix_path, int port,
             struct mc_error **err)
{
    if (s->n_listeners >= MAX_LISTENERS) {
        close(fd);
        free(unix_path);
        return mc_error_set(err, MC_ERR_INVALID, "At most %d listeners are supported.",
                            MAX_LISTENERS);
    }
    s->listeners[s->n_listeners++] =
            (struct listener){ .fd = fd, .tls = tls, .unix_path = unix_path, .port = port };
    return 0;
}

static int
parse_ip(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len,
         struct mc_error **err)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (streq(host, "localhost"))
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof(*v4);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*v6);
        return 0;
    }
    return mc_error_set(err, MC_ERR_INVALID,
                        "'%s' is not an IP address: listen on an address such as 0.0.0.0, "
                        "127.0.0.1 or ::",
                        host);
}

static int
listen_tcp(struct eng_server *s, const struct mc_url *u, SSL_CTX *tls, struct mc_error **err)
{
    if (!tls)
        return mc_error_set(err, MC_ERR_INVALID,
                            "Listening on tcp://%s:%d needs --tlscacert, --tlscert and --tlskey: "
                            "machined serves TCP only with mutual TLS.",
                            u->host, u->port);
    struct sockaddr_storage ss;
    socklen_t len = 0;
    if (parse_ip(u->host, u->port, &ss, &len, err) < 0)
        return -1;
    _cleanup_close_ int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return mc_error_sys(err, errno, "Cannot create a TCP socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) < 0)
        return mc_error_sys(err, errno, "Cannot listen on tcp://%s:%d", u->host, u->port);
    if (listen(fd, 512) < 0)
        return mc_error_sys(err, errno, "Cannot listen on tcp://%s:%d", u->host, u->port);
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    int port = u->port;
    if (getsockname(fd, (struct sockaddr *)&bound, &blen) == 0)
        port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                                : ((struct sockaddr_in6 *)&bound)->sin6_port);
    log_info("listening on tcp://%s:%d (mutual TLS)", u->host, port);
    return add_listener(s, TAKE_FD(fd), tls, NULL, port, err);
}

/* A socket file where nobody answers is stale; one where a daemon answers is in use. */
static int
remove_stale_socket(const char *path, struct mc_error **err)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode))
        return mc_error_set(err, MC_ERR_EXISTS, "'%s' exists and is not a socket.", path);
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        return mc_error_set(err, MC_ERR_EXISTS,
                            "Another daemon is listening on '%s'; stop it first.", path);
    if (unlink(path) < 0 && errno != ENOENT)
        return mc_error_sys(err, errno, "Cannot remove the stale socket '%s'", path);
    return 0;
}

static int
listen_unix(struct eng_server *s, const char *path, struct mc_error **err)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path))
        return mc_error_set(err, MC_ERR_INVALID, "The socket path '%s' is too long.", path);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    _cleanup_free_ char *dir = mc_dirname(path);
    if (mc_mkdir_p(dir, 0755, err) < 0 || remove_stale_socket(path, err) < 0)
        return -1;
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return mc_error_sys(err, errno, "Cannot create a unix socket");
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return mc_error_sys(err, errno, "Cannot bind the unix socket '%s'", path);
    /* Root only: the owner and root's group may connect, nobody else. */
    if (chmod(path, 0660) < 0 || (geteuid() == 0 && chown(path, 0, 0) < 0)) {
        int e = errno;
        unlink(path);
        return mc_error_sys(err, e, "Cannot restrict the unix socket '%s'", path);
    }
    if (listen(fd, 512) < 0)
        return mc_error_sys(err, errno, "Cannot listen on the unix socket '%s'", path);
    log_info("listening on unix://%s", path);
    return add_listener(s, TAKE_FD(fd), NULL, xstrdup(path), 0, err);
}

int
eng_server_listen(struct eng_server *s, const char *url, SSL_CTX *tls, struct mc_error **err)
{
    struct mc_url u = { 0 };
    if (mc_url_parse(url, 2376, &u, err) < 0)
        return -1;
    int r;
    if (streq(u.scheme, "unix"))
        r = listen_unix(s, u.path, err);
    else if (streq(u.scheme, "tcp"))
        r = listen_tcp(s, &u, tls, err);
    else
        r = mc_error_set(err, MC_ERR_INVALID,
                         "Cannot listen on '%s': use tcp://ADDRESS:PORT or unix:///PATH.", url);
    mc_url_clear(&u);
    return r;
}

int
eng_server_listen_fd(struct eng_server *s, int fd, SSL_CTX *tls, struct mc_error **err)
{
    return add_listener(s, fd, tls, NULL, 0, err);
}

int
eng_server_tcp_port(struct eng_server *s, int n)
{
    int seen = 0;
    for (size_t i = 0; i < s->n_listeners; i++)
        if (s->listeners[i].port > 0 && seen++ == n)
            return s->listeners[i].port;
    return -1;
}

static void
describe_peer(const struct sockaddr_storage *ss, char *out, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
        snprintf(out, len, "tcp %s:%d", ip, ntohs(a->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
        snprintf(out, len, "tcp [%s]:%d", ip, ntohs(a->sin6_port));
    } else {
        snprintf(out, len, "unix socket");
    }
}

static void
accept_one(struct eng_server *s, struct listener *l)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOMEM) {
            log_warn("cannot accept a connection: %s", strerror(errno));
            mc_sleep_ms(50);
        }
        return;
    }
    char peer[64];
    describe_peer(&ss, peer, sizeof(peer));
    if (ss.ss_family != AF_UNIX) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    start_conn(s, fd, l->tls, peer);
}

int
eng_server_run(struct eng_server *s, int wake_fd, struct mc_error **err)
{
    struct pollfd p[MAX_LISTENERS + 1];
    for (;;) {
        size_t n = 0;
        for (size_t i = 0; i < s->n_listeners; i++)
            p[n++] = (struct pollfd){ .fd = s->listeners[i].fd, .events = POLLIN };
        p[n++] = (struct pollfd){ .fd = wake_fd, .events = POLLIN };
        int r = poll(p, n, -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return mc_error_sys(err, errno, "Cannot wait for connections");
        if (p[n - 1].revents)
            return 0;
        for (size_t i = 0; i < s->n_listeners; i++)
            if (p[i].revents & POLLIN)
                accept_one(s, &s->listeners[i]);
    }
}

void
eng_server_stop_listening(struct eng_server *s)
{
    for (size_t i = 0; i < s->n_listeners; i++) {
        if (s->listeners[i].fd >= 0)
            close(s->listeners[i].fd);
        s->listeners[i].fd = -1;
        if (s->listeners[i].unix_path)
            unlink(s->listeners[i].unix_path);
    }
}

void
eng_server_shutdown(struct eng_server *s, int timeout_ms)
{
    eng_server_stop_listening(s);
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    for (struct conn_node *n = s->conns; n; n = n->next)
        shutdown(n->conn.fd, SHUT_RDWR);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (s->n_conns > 0)
        if (pthread_cond_timedwait(&s->idle, &s->lock, &until) == ETIMEDOUT)
            break;
    if (s->n_conns > 0)
        log_warn("%d connections still open at shutdown", s->n_conns);
    pthread_mutex_unlock(&s->lock);
}
