/* The request loop end to end over socketpairs: keep-alive, pipelining, chunked request
 * bodies, limits, errors, streamed answers, hijacked connections with stdin half-close, the
 * pump, abandoned long-polls, and the same over mutual TLS (with a client refused for lack of
 * a certificate). */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "api-handler.h"
#include "api-server.h"
#include "api-tls.h"
#include "crypto.h"
#include "json.h"
#include "spawn.h"
#include "strbuf.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

/* ---- handlers of the test module ---- */

static int
h_echo_query(struct eng_request *req, struct mc_error **err)
{
    return eng_resp_json_take(req, 200,
                              json_pack("{s:s?,s:i,s:b}", "x", eng_req_query(req, "x"), "api",
                                        eng_req_api_version(req), "flag",
                                        eng_req_query_bool(req, "flag", false)));
}

static int
h_echo_body(struct eng_request *req, struct mc_error **err)
{
    size_t n;
    const char *b = eng_req_body(req, &n);
    return eng_resp_raw(req, 200, "application/octet-stream", b, n);
}

static int
h_count_body(struct eng_request *req, struct mc_error **err)
{
    char buf[1000];
    size_t total = 0;
    unsigned sum = 0;
    for (;;) {
        ssize_t n = eng_req_read(req, buf, sizeof(buf), err);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            sum = sum * 31 + (unsigned char)buf[i];
        total += (size_t)n;
    }
    return eng_resp_json_take(
            req, 200, json_pack("{s:I,s:I}", "bytes", (json_int_t)total, "sum", (json_int_t)sum));
}

static int
h_stream(struct eng_request *req, struct mc_error **err)
{
    struct eng_stream *s = eng_resp_stream(req, 200, "application/json", err);
    if (!s)
        return -1;
    _cleanup_json_ json_t *a = json_pack("{s:s}", "status", "one");
    _cleanup_json_ json_t *b = json_pack("{s:s}", "status", "two");
    if (eng_stream_json(s, a, err) < 0 || eng_stream_json(s, b, err) < 0)
        return -1;
    if (streq(eng_req_path(req), "/stream-fail"))
        return mc_error_set(err, MC_ERR_IO, "it broke");
    return 0;
}

/* Echoes stdin back as stdout frames until the client half-closes, then writes "bye" on
 * stderr: output after stdin EOF must still arrive. */
static int
h_hijack(struct eng_request *req, struct mc_error **err)
{
    struct eng_stream *s = eng_resp_hijack(req, eng_stream_content_type(req, false), err);
    if (!s)
        return -1;
    char buf[256];
    for (;;) {
        ssize_t n = eng_stream_read(s, buf, sizeof(buf), err);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        if (eng_stream_frame(s, ENG_STREAM_STDOUT, buf, (size_t)n, err) < 0)
            return -1;
    }
    return eng_stream_frame(s, ENG_STREAM_STDERR, "bye\n", 4, err);
}

struct fake_proc {
    int in, out, err;
};

/* A "process" for the pump: upper-cases stdin to stdout, says "done" on stderr at EOF. */
static void *
fake_proc_main(void *arg)
{
    struct fake_proc *p = arg;
    char buf[256];
    ssize_t n;
    while ((n = read(p->in, buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < n; i++)
            buf[i] = (char)toupper((unsigned char)buf[i]);
        if (write(p->out, buf, (size_t)n) != n)
            break;
    }
    if (write(p->err, "done", 4) != 4)
        tap_diag("fake process: write failed");
    close(p->in);
    close(p->out);
    close(p->err);
    return NULL;
}

static int
h_pump(struct eng_request *req, struct mc_error **err)
{
    int in[2], out[2], er[2];
    if (pipe(in) < 0 || pipe(out) < 0 || pipe(er) < 0)
        return mc_error_sys(err, errno, "pipe");
    struct fake_proc p = { in[0], out[1], er[1] };
    pthread_t t;
    pthread_create(&t, NULL, fake_proc_main, &p);
    struct eng_stream *s = eng_resp_hijack(req, eng_stream_content_type(req, false), err);
    int r = s ? eng_stream_pump(s, in[1], out[0], er[0], true, err) : -1;
    if (!s)
        close(in[1]);
    pthread_join(t, NULL);
    close(out[0]);
    close(er[0]);
    return r;
}

static int
h_not_found(struct eng_request *req, struct mc_error **err)
{
    return mc_error_set(err, MC_ERR_NOT_FOUND, "No such thing: '%s'", eng_req_param(req, "id"));
}

static int
h_no_answer(struct eng_request *req, struct mc_error **err)
{
    return 0;
}

static int wait_saw_gone;

/* A long-poll like wait: headers at once, then wait for an event that never comes; the
 * handler must notice the client leaving. */
static int
h_wait(struct eng_request *req, struct mc_error **err)
{
    struct eng_stream *s = eng_resp_stream(req, 200, "application/json", err);
    if (!s)
        return -1;
    for (int i = 0; i < 100; i++) {
        struct pollfd p = { .fd = eng_req_fd(req), .events = POLLIN };
        poll(&p, 1, 100);
        if (eng_req_client_gone(req)) {
            wait_saw_gone = 1;
            return 0;
        }
    }
    return 0;
}

static const struct eng_route routes[] = {
    { "GET", "/echo", h_echo_query },
    { "POST", "/echo-body", h_echo_body, .max_body = 64 },
    { "POST", "/count", h_count_body, ENG_ROUTE_STREAM_BODY },
    { "GET", "/stream", h_stream },
    { "GET", "/stream-fail", h_stream },
    { "POST", "/hijack", h_hijack },
    { "POST", "/pump", h_pump },
    { "GET", "/things/{id}", h_not_found },
    { "GET", "/no-answer", h_no_answer },
    { "POST", "/wait", h_wait },
};
static const struct eng_module test_module = { .name = "test",
                                               .routes = routes,
                                               .n_routes = ELEMENTSOF(routes) };
static const struct eng_module *const modules[] = { &test_module, NULL };

/* ---- a tiny client ---- */

struct peer {
    int fd;
    SSL *ssl;
    struct mc_buf in;
    pthread_t server;
    bool closed;
};

struct serve_arg {
    struct eng_server *s;
    int fd;
    SSL_CTX *tls;
};

static void *
serve_main(void *arg)
{
    struct serve_arg *a = arg;
    eng_server_serve_fd(a->s, a->fd, a->tls);
    free(a);
    return NULL;
}

static struct eng_server *server;

static void
peer_open(struct peer *p, SSL_CTX *server_tls, SSL_CTX *client_tls)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
    struct serve_arg *a = xmalloc(sizeof(*a));
    *a = (struct serve_arg){ server, sv[1], server_tls };
    memset(p, 0, sizeof(*p));
    p->fd = sv[0];
    pthread_create(&p->server, NULL, serve_main, a);
    if (client_tls) {
        p->ssl = SSL_new(client_tls);
        SSL_set_fd(p->ssl, p->fd);
    }
}

static void
peer_close(struct peer *p)
{
    if (p->ssl) {
        SSL_free(p->ssl);
        p->ssl = NULL;
    }
    close(p->fd);
    pthread_join(p->server, NULL);
    mc_buf_free(&p->in);
}

static void
peer_send(struct peer *p, const char *s, size_t n)
{
    if (p->ssl) {
        SSL_write(p->ssl, s, (int)n); /* fails for the clients the server refuses */
        return;
    }
    if (write(p->fd, s, n) != (ssize_t)n)
        tap_diag("write failed: %s", strerror(errno));
}

static void
peer_puts(struct peer *p, const char *s)
{
    peer_send(p, s, strlen(s));
}

/* Reads more into p->in; false at EOF or after 5 s. */
static bool
peer_more(struct peer *p)
{
    if (p->closed)
        return false;
    struct pollfd pf = { .fd = p->fd, .events = POLLIN };
    if (!(p->ssl && SSL_pending(p->ssl)) && poll(&pf, 1, 5000) <= 0)
        return false;
    char buf[4096];
    int n = p->ssl ? SSL_read(p->ssl, buf, sizeof(buf)) : (int)read(p->fd, buf, sizeof(buf));
    if (n <= 0) {
        p->closed = true;
        return false;
    }
    mc_buf_append(&p->in, buf, (size_t)n);
    return true;
}

struct resp {
    int status;
    char *head;
    struct mc_buf body;
};

static void
resp_clear(struct resp *r)
{
    free(r->head);
    mc_buf_free(&r->body);
    memset(r, 0, sizeof(*r));
}

static const char *
resp_header(const struct resp *r, const char *name)
{
    static char v[256];
    _cleanup_free_ char *pat = xasprintf("\r\n%s: ", name);
    const char *h = strstr(r->head, pat);
    if (!h)
        return NULL;
    h += strlen(pat);
    snprintf(v, sizeof(v), "%.*s", (int)strcspn(h, "\r"), h);
    return v;
}

/* Reads one response (head and body) from the peer. */
static bool
read_response(struct peer *p, struct resp *r, bool body_until_close)
{
    memset(r, 0, sizeof(*r));
    char *end;
    while (!(end = p->in.data ? strstr(p->in.data, "\r\n\r\n") : NULL))
        if (!peer_more(p))
            return false;
    size_t hl = (size_t)(end - p->in.data) + 4;
    r->head = xstrndup(p->in.data, hl);
    mc_buf_consume(&p->in, hl);
    r->status = (r->head[9] - '0') * 100 + (r->head[10] - '0') * 10 + (r->head[11] - '0');
    const char *cl = resp_header(r, "Content-Length");
    const char *te = resp_header(r, "Transfer-Encoding");
    if (te && streq(te, "chunked")) {
        struct eng_chunked c = { 0 };
        for (;;) {
            size_t used = 0, dlen = 0;
            const char *d;
            int rc = eng_chunked_step(&c, p->in.data ? p->in.data : "", p->in.len, SIZE_MAX, &used,
                                      &d, &dlen, NULL);
            if (rc < 0)
                return false;
            mc_buf_append(&r->body, d, dlen);
            mc_buf_consume(&p->in, used);
            if (rc == 1)
                return true;
            if (used == 0 && !peer_more(p))
                return false;
        }
    }
    if (cl) {
        uint64_t n;
        mc_parse_uint64(cl, &n);
        while (p->in.len < n)
            if (!peer_more(p))
                return false;
        mc_buf_append(&r->body, p->in.data, n);
        mc_buf_consume(&p->in, n);
        return true;
    }
    if (body_until_close) {
        while (peer_more(p))
            ;
        mc_buf_append(&r->body, p->in.data ? p->in.data : "", p->in.len);
        mc_buf_reset(&p->in);
    }
    return true;
}

/* A HEAD answer: the head only, whatever its Content-Length says. */
static bool
read_head_only(struct peer *p, struct resp *r)
{
    memset(r, 0, sizeof(*r));
    char *end;
    while (!(end = p->in.data ? strstr(p->in.data, "\r\n\r\n") : NULL))
        if (!peer_more(p))
            return false;
    size_t hl = (size_t)(end - p->in.data) + 4;
    r->head = xstrndup(p->in.data, hl);
    mc_buf_consume(&p->in, hl);
    r->status = (r->head[9] - '0') * 100 + (r->head[10] - '0') * 10 + (r->head[11] - '0');
    return true;
}

static bool
body_is(const struct resp *r, const char *want)
{
    return r->body.len == strlen(want) &&
           memcmp(r->body.data ? r->body.data : "", want, r->body.len) == 0;
}

/* ---- tests ---- */

static void
test_keepalive_and_pipelining(void)
{
    struct peer p;
    peer_open(&p, NULL, NULL);
    struct resp r;
    peer_puts(&p, "GET /echo?x=a%2Fb&flag=1 HTTP/1.1\r\nHost: api.moby.localhost\r\n\r\n");
    ok(read_response(&p, &r, false) && r.status == 200, "first request answered");
    ok(body_is(&r, "{\"x\":\"a/b\",\"api\":144,\"flag\":true}\n"),
       "query decoded; default API 1.44");
    is_str(resp_header(&r, "Api-Version"), "1.44", "Api-Version header");
    is_str(resp_header(&r, "Ostype"), "linux", "Ostype header");
    is_str(resp_header(&r, "Docker-Experimental"), "false", "Docker-Experimental header");
    ok(resp_header(&r, "Server") && startswith(resp_header(&r, "Server"), "machined/") &&
               endswith(resp_header(&r, "Server"), " (linux)"),
       "Server header");
    resp_clear(&r);

    peer_puts(&p, "GET /v1.24/echo?x=1 HTTP/1.1\r\n\r\nGET /v1.44/echo?x=2 HTTP/1.1\r\n\r\n"
                  "GET /v1.50/echo HTTP/1.1\r\n\r\n");
    ok(read_response(&p, &r, false) && body_is(&r, "{\"x\":\"1\",\"api\":124,\"flag\":false}\n"),
       "pipelined request 1 (API 1.24) on the same connection");
    resp_clear(&r);
    ok(read_response(&p, &r, false) && body_is(&r, "{\"x\":\"2\",\"api\":144,\"flag\":false}\n"),
       "pipelined request 2");
    resp_clear(&r);
    ok(read_response(&p, &r, false) && r.status == 400 &&
               strstr(r.body.data, "is too new. Maximum supported API version is 1.44"),
       "version 1.50: 400");
    resp_clear(&r);

    peer_puts(&p, "GET /nothing/here HTTP/1.1\r\n\r\n");
    ok(read_response(&p, &r, false) && r.status == 404, "unknown route: 404");
    is_str(resp_header(&r, "Content-Type"), "application/json", "exactly application/json");
    ok(body_is(&r, "{\"message\":\"page not found\"}\n"), "JSON message");
    resp_clear(&r);
    peer_puts(&p, "HEAD /echo HTTP/1.1\r\n\r\n");
    ok(read_head_only(&p, &r) && r.status == 404, "known path, other method: 404, not 405");
    resp_clear(&r);
    peer_puts(&p, "GET /things/t1 HTTP/1.1\r\n\r\n");
    ok(read_response(&p, &r, false) && r.status == 404 &&
               body_is(&r, "{\"message\":\"No such thing: 't1'\"}\n"),
       "handler errors map to statuses");
    resp_clear(&r);
    peer_puts(&p, "GET /no-answer HTTP/1.1\r\n\r\n");
    ok(read_response(&p, &r, false) && r.status == 500, "a handler that never answers: 500");
    resp_clear(&r);
    peer_puts(&p, "GET /echo HTTP/1.1\r\nConnection: close\r\n\r\n");
    ok(read_response(&p, &r, false) && r.status == 200 &&
               streq_ptr(resp_header(&r, "Connection"), "close"),
       "Connection: close honoured");
    ok(!peer_more(&p), "then the server closes");
    resp_clear(&r);
    peer_close(&p);
}

static void
test_bodies(void)
{
    struct peer p;
    peer_open(&p, NULL, NULL);
    struct resp r;
    peer_puts(&p, "POST /echo-body HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
    ok(read_response(&p, &r, false) && body_is(&r, "hello"), "Content-Length body");
    resp_clear(&r);
    peer_puts(&p, "POST /echo-body HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n");
    ok(read_response(&p, &r, false) && body_is(&r, "abcde"), "chunked body, buffered");
    resp_clear(&r);
    peer_puts(&p,
              "POST /count HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
    ok(read_response(&p, &r, false) && r.status == 100, "100 Continue for Expect");
    resp_clear(&r);
    /* 3000 bytes in uneven chunks, streamed to the handler. */
    unsigned sum = 0;
    for (int i = 0; i < 30; i++) {
        char chunk[200];
        memset(chunk, 'a' + i % 26, 100);
        for (int j = 0; j < 100; j++)
            sum = sum * 31 + (unsigned char)chunk[j];
        _cleanup_free_ char *h = xasprintf("64\r\n");
        peer_puts(&p, h);
        peer_send(&p, chunk, 100);
        peer_puts(&p, "\r\n");
    }
    peer_puts(&p, "0\r\n\r\n");
    _cleanup_free_ char *want = xasprintf("{\"bytes\":3000,\"sum\":%u}\n", sum);
    ok(read_response(&p, &r, false) && body_is(&r, want), "streamed chunked body read in full");
    resp_clear(&r);
    peer_puts(&p, "POST /echo-body HTTP/1.1\r\nContent-Length: 65\r\n\r\n");
    ok(read_response(&p, &r, false) && r.status == 413, "body above the route's limit: 413");
    resp_clear(&r);
    ok(!peer_more(&p), "and the connection is closed");
    peer_close(&p);

    peer_open(&p, NULL, NULL);
    peer_puts(&p, "POST /echo-body HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    ok(read_response(&p, &r, false) && r.status == 400, "malformed chunked body: 400");
    resp_clear(&r);
    peer_close(&p);
}

static void
test_malformed(void)
{
    static const char *bad[] = {
        "GET\r\n\r\n", "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", /* a TLS hello on the socket */
    };
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        struct peer p;
        peer_open(&p, NULL, NULL);
        struct resp r;
        peer_puts(&p, bad[i]);
        ok(read_response(&p, &r, false) && r.status == 400 &&
                   streq_ptr(resp_header(&r, "Content-Type"), "application/json"),
           "malformed request %zu: 400 JSON", i);
        resp_clear(&r);
        peer_close(&p);
    }
    struct peer p;
    peer_open(&p, NULL, NULL);
    struct resp r;
    peer_puts(&p, "GET /echo HTTP/1.1\r\n\r\n");
    ok(read_response(&p, &r, false) && r.status == 200, "the server still serves");
    resp_clear(&r);
    peer_close(&p);
}

static void
test_streams(void)
{
    struct peer p;
    peer_open(&p, NULL, NULL);
    struct resp r;
    peer_puts(&p, "GET /stream HTTP/1.1\r\n\r\n");
    ok(read_response(&p, &r, false) && r.status == 200 &&
               streq_ptr(resp_header(&r, "Transfer-Encoding"), "chunked"),
       "chunked stream");
    ok(body_is(&r, "{\"status\":\"one\"}\r\n{\"status\":\"two\"}\r\n"), "JSON messages");
    resp_clear(&r);
    peer_puts(&p, "GET /stream-fail HTTP/1.1\r\n\r\n");
    ok(read_response(&p, &r, false) && r.status == 200 &&
               strstr(r.body.data,
                      "{\"errorDetail\":{\"message\":\"it broke\"},\"error\":\"it broke\"}"),
       "an error after the stream began becomes an errorDetail line");
    resp_clear(&r);
    peer_puts(&p, "GET /echo HTTP/1.1\r\n\r\n");
    ok(read_response(&p, &r, false) && r.status == 200, "keep-alive after a stream");
    resp_clear(&r);
    peer_close(&p);

    /* An abandoned long-poll (docker run -d drops its wait) ends its handler. */
    wait_saw_gone = 0;
    peer_open(&p, NULL, NULL);
    peer_puts(&p, "POST /wait HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    while (!(p.in.data && strstr(p.in.data, "\r\n\r\n")) && peer_more(&p))
        ;
    ok(p.in.data && startswith(p.in.data, "HTTP/1.1 200 OK\r\n"),
       "wait headers arrive at once (body still open)");
    shutdown(p.fd, SHUT_RDWR);
    peer_close(&p);
    ok(wait_saw_gone, "the handler saw the client go");
}

static const char hijack_head[] = "HTTP/1.1 101 UPGRADED\r\n"
                                  "Content-Type: application/vnd.docker.multiplexed-stream\r\n"
                                  "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n";

/* Sends a hijack request and stdin, half-closes, and returns everything after the head. */
static bool
run_hijack(struct peer *p, const char *path, const char *stdin_data, struct mc_buf *out,
           char **ret_head)
{
    _cleanup_free_ char *req =
            xasprintf("POST %s HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                      "Content-Type: text/plain\r\nContent-Length: 0\r\n\r\n%s",
                      path, stdin_data);
    peer_puts(p, req);
    while (!(p->in.data && strstr(p->in.data, "\r\n\r\n")))
        if (!peer_more(p))
            return false;
    size_t hl = (size_t)(strstr(p->in.data, "\r\n\r\n") - p->in.data) + 4;
    *ret_head = xstrndup(p->in.data, hl);
    mc_buf_consume(&p->in, hl);
    if (p->ssl)
        SSL_shutdown(p->ssl); /* close_notify: stdin EOF, as Go's CloseWrite */
    else
        shutdown(p->fd, SHUT_WR);
    while (peer_more(p))
        ;
    mc_buf_append(out, p->in.data ? p->in.data : "", p->in.len);
    return true;
}

static void
test_hijack(SSL_CTX *server_tls, SSL_CTX *client_tls, const char *what)
{
    struct peer p;
    peer_open(&p, server_tls, client_tls);
    if (p.ssl && SSL_connect(p.ssl) != 1) {
        ok(false, "%s: handshake", what);
        peer_close(&p);
        return;
    }
    struct mc_buf out = MC_BUF_INIT;
    _cleanup_free_ char *head = NULL;
    ok(run_hijack(&p, "/hijack", "hi\n", &out, &head), "%s: hijacked", what);
    is_str(head, hijack_head, "%s: exact 101 UPGRADED head", what);
    static const char want[] = "\x01\0\0\0\0\0\0\x03hi\n\x02\0\0\0\0\0\0\x04"
                               "bye\n";
    ok(out.len == sizeof(want) - 1 && memcmp(out.data, want, out.len) == 0,
       "%s: stdin echoed as a stdout frame; output after stdin EOF still arrives; then EOF", what);
    mc_buf_free(&out);
    peer_close(&p);

    peer_open(&p, server_tls, client_tls);
    if (p.ssl)
        SSL_connect(p.ssl);
    free(head);
    head = NULL;
    ok(run_hijack(&p, "/v1.44/pump", "abc", &out, &head), "%s: pump hijacked", what);
    static const char want2[] = "\x01\0\0\0\0\0\0\x03"
                                "ABC\x02\0\0\0\0\0\0\x04"
                                "done";
    ok(out.len == sizeof(want2) - 1 && memcmp(out.data, want2, out.len) == 0,
       "%s: the pump feeds stdin, closes it at EOF and frames stdout and stderr", what);
    mc_buf_free(&out);
    peer_close(&p);
}

/* ---- TLS ---- */

static bool
make_certs(const char *dir)
{
    _cleanup_free_ char *script = xasprintf("%s/tests/lib/make-test-certs.sh", tap_srcdir());
    char *argv[] = { "sh", script, (char *)dir, NULL };
    struct mc_spawn_opts o = { .timeout_ms = 60000 };
    struct mc_spawn_result res = { 0 };
    struct mc_error *err = NULL;
    bool good = mc_spawn(argv, &o, &res, &err) == 0 && res.status == 0;
    mc_error_free(err);
    mc_spawn_result_free(&res);
    return good;
}

static SSL_CTX *
client_ctx(const char *dir, const char *cert, const char *key, int max_version, const char *ciphers)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    _cleanup_free_ char *ca = xasprintf("%s/ca.pem", dir);
    SSL_CTX_load_verify_locations(c, ca, NULL);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
    if (cert) {
        _cleanup_free_ char *cp = xasprintf("%s/%s", dir, cert);
        _cleanup_free_ char *kp = xasprintf("%s/%s", dir, key);
        SSL_CTX_use_certificate_file(c, cp, SSL_FILETYPE_PEM);
        SSL_CTX_use_PrivateKey_file(c, kp, SSL_FILETYPE_PEM);
    }
    if (max_version)
        SSL_CTX_set_max_proto_version(c, max_version);
    if (ciphers)
        SSL_CTX_set_cipher_list(c, ciphers);
    return c;
}

/* Connects and does one request; true when it was answered. */
static bool
tls_request(SSL_CTX *server_tls, SSL_CTX *c)
{
    struct peer p;
    peer_open(&p, server_tls, c);
    bool answered = false;
    if (SSL_connect(p.ssl) == 1) {
        peer_puts(&p, "GET /echo HTTP/1.1\r\n\r\n");
        struct resp r;
        answered = read_response(&p, &r, false) && r.status == 200;
        resp_clear(&r);
    }
    ERR_clear_error();
    peer_close(&p);
    return answered;
}

static void
test_tls(void)
{
    _cleanup_free_ char *dir = xasprintf("%s/certs", tap_tmpdir());
    if (!make_certs(dir)) {
        tap_skip(9, "openssl could not make test certificates");
        return;
    }
    _cleanup_free_ char *ca = xasprintf("%s/ca.pem", dir);
    _cleanup_free_ char *cert = xasprintf("%s/server.pem", dir);
    _cleanup_free_ char *key = xasprintf("%s/server-key.pem", dir);
    struct mc_error *err = NULL;
    SSL_CTX *stls = eng_tls_server_ctx(ca, cert, key, &err);
    ok(stls != NULL, "server TLS context");
    if (!stls) {
        tap_diag("%s", err->message);
        mc_error_free(err);
        return;
    }
    _cleanup_free_ char *missing = xasprintf("%s/nope.pem", dir);
    SSL_CTX *bad = eng_tls_server_ctx(ca, missing, key, &err);
    ok(!bad && err && strstr(err->message, "nope.pem"), "a missing file is named in the error");
    mc_error_free(err);

    SSL_CTX *good = client_ctx(dir, "cert.pem", "key.pem", 0, NULL);
    test_hijack(stls, good, "TLS 1.3");
    SSL_CTX *none = client_ctx(dir, NULL, NULL, 0, NULL);
    ok(!tls_request(stls, none), "a client without a certificate is refused");
    SSL_CTX *foreign = client_ctx(dir, "foreign-cert.pem", "foreign-key.pem", 0, NULL);
    ok(!tls_request(stls, foreign), "a client certificate from another CA is refused");
    SSL_CTX *gcm =
            client_ctx(dir, "cert.pem", "key.pem", TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256");
    ok(tls_request(stls, gcm), "TLS 1.2 with ECDHE and AES-GCM works");
    SSL_CTX *chacha =
            client_ctx(dir, "cert.pem", "key.pem", TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305");
    ok(!tls_request(stls, chacha), "TLS 1.2 with ChaCha20 is refused");
    SSL_CTX *cbc =
            client_ctx(dir, "cert.pem", "key.pem", TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA256");
    ok(!tls_request(stls, cbc), "TLS 1.2 with CBC is refused");
    SSL_CTX_free(good);
    SSL_CTX_free(none);
    SSL_CTX_free(foreign);
    SSL_CTX_free(gcm);
    SSL_CTX_free(chacha);
    SSL_CTX_free(cbc);
    SSL_CTX_free(stls);
}

int
main(void)
{
    signal(SIGPIPE, SIG_IGN);
    struct eng_daemon d = { .modules = modules, .data_root = tap_tmpdir() };
    server = eng_server_new(&d, modules);
    test_keepalive_and_pipelining();
    test_bodies();
    test_malformed();
    test_streams();
    test_hijack(NULL, NULL, "unix socket");
    test_tls();
    eng_server_free(server);
    return tap_done();
}
