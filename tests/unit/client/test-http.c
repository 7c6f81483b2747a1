/* The client's HTTP/1.1 grammar: response heads, body framing, chunked bodies, request heads,
 * URL escaping. */
#include <string.h>

#include "client-http.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static void
test_head(void)
{
    const char *text = "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream"
                       "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n\x01\x00rest";
    struct client_http_head h = { 0 };
    _cleanup_error_ struct mc_error *err = NULL;
    ssize_t n = client_http_parse_head(text, strlen(text) + 3, &h, &err);
    is_int(n, strstr(text, "\r\n\r\n") + 4 - text, "the head ends after the blank line");
    is_int(h.status, 101, "status 101");
    is_str(h.reason, "UPGRADED", "reason");
    is_str(client_http_head_get(&h, "upgrade"), "tcp", "headers are found case-insensitively");
    is_str(client_http_head_get(&h, "content-type"), "application/vnd.docker.raw-stream",
           "a header's value");
    ok(!client_http_head_get(&h, "Content-Length"), "an absent header is NULL");
    client_http_head_clear(&h);

    is_int(client_http_parse_head("HTTP/1.1 200 OK\r\nA: b\r\n", 23, &h, &err), 0,
           "an incomplete head asks for more");
    const char *spaces = "HTTP/1.0 204 No Content\r\nX-Thing:   padded value \t\r\n\r\n";
    ok(client_http_parse_head(spaces, strlen(spaces), &h, &err) > 0, "HTTP/1.0 is accepted");
    is_str(client_http_head_get(&h, "X-Thing"), "padded value", "values are trimmed");
    is_int(h.minor, 0, "the minor version");
    client_http_head_clear(&h);
}

static void
expect_bad_head(const char *text, const char *want)
{
    struct client_http_head h = { 0 };
    _cleanup_error_ struct mc_error *err = NULL;
    ssize_t n = client_http_parse_head(text, strlen(text), &h, &err);
    ok(n < 0 && err && err->code == MC_ERR_INVALID && strstr(err->message, want),
       "refused: '%.20s...' (%s)", text, err ? err->message : "accepted");
}

static void
test_bad_heads(void)
{
    expect_bad_head("SSH-2.0-OpenSSH_9.2\r\n\r\n", "not HTTP/1.x");
    expect_bad_head("HTTP/2 200 OK\r\n\r\n", "not HTTP/1.x");
    expect_bad_head("HTTP/1.1 2000 OK\r\n\r\n", "malformed");
    expect_bad_head("HTTP/1.1 20 OK\r\n\r\n", "malformed");
    expect_bad_head("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed header");
    expect_bad_head("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "header name");
    expect_bad_head("HTTP/1.1 200 OK\r\n: x\r\n\r\n", "malformed header");
    _cleanup_free_ char *many = xstrdup("HTTP/1.1 200 OK\r\n");
    for (int i = 0; i <= CLIENT_HTTP_HEADERS_MAX; i++) {
        char *next = xasprintf("%sH%d: v\r\n", many, i);
        free(many);
        many = next;
    }
    _cleanup_free_ char *all = xasprintf("%s\r\n", many);
    expect_bad_head(all, "more than");
    size_t big = CLIENT_HTTP_HEAD_MAX + 10;
    _cleanup_free_ char *huge = xmalloc(big + 1);
    memset(huge, 'a', big);
    memcpy(huge, "HTTP/1.1 200 OK\r\nX: ", 20);
    huge[big] = '\0';
    expect_bad_head(huge, "larger than");
}

static void
body_kind(const char *head, const char *method, enum client_http_body want, uint64_t want_len,
          const char *what)
{
    struct client_http_head h = { 0 };
    _cleanup_error_ struct mc_error *err = NULL;
    enum client_http_body kind = CLIENT_BODY_NONE;
    uint64_t len = 0;
    ok(client_http_parse_head(head, strlen(head), &h, &err) > 0 &&
               client_http_body_kind(&h, method, &kind, &len, &err) == 0 && kind == want &&
               len == want_len,
       "body: %s", what);
    client_http_head_clear(&h);
}

static void
test_body_kinds(void)
{
    body_kind("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", "GET", CLIENT_BODY_LENGTH, 12,
              "Content-Length");
    body_kind("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\nContent-Length: 3\r\n\r\n",
              "GET", CLIENT_BODY_CHUNKED, 0, "chunked wins over Content-Length");
    body_kind("HTTP/1.1 204 No Content\r\n\r\n", "DELETE", CLIENT_BODY_NONE, 0, "204");
    body_kind("HTTP/1.1 304 Not Modified\r\n\r\n", "POST", CLIENT_BODY_NONE, 0, "304");
    body_kind("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", "HEAD", CLIENT_BODY_NONE, 0, "HEAD");
    body_kind("HTTP/1.1 200 OK\r\n\r\n", "GET", CLIENT_BODY_CLOSE, 0, "until the close");
    struct client_http_head h = { 0 };
    _cleanup_error_ struct mc_error *err = NULL;
    const char *bad = "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n";
    enum client_http_body kind;
    uint64_t len;
    ok(client_http_parse_head(bad, strlen(bad), &h, &err) > 0 &&
               client_http_body_kind(&h, "GET", &kind, &len, &err) < 0,
       "a negative Content-Length is refused");
    client_http_head_clear(&h);
}

/* Decodes a chunked body fed in pieces of step bytes. */
static char *
dechunk(const char *in, size_t step, bool *ret_done, struct mc_error **err)
{
    struct client_chunked c = { 0 };
    struct mc_buf out = MC_BUF_INIT, pending = MC_BUF_INIT;
    mc_buf_puts(&out, "");
    size_t len = strlen(in);
    for (size_t off = 0; off < len || pending.len;) {
        size_t k = len - off < step ? len - off : step;
        mc_buf_append(&pending, in + off, k);
        off += k;
        for (;;) {
            size_t used;
            const char *data;
            size_t dlen;
            if (client_chunked_step(&c, pending.data ? pending.data : "", pending.len, &used, &data,
                                    &dlen, err) < 0) {
                mc_buf_free(&pending);
                mc_buf_free(&out);
                return NULL;
            }
            mc_buf_append(&out, data, dlen);
            mc_buf_consume(&pending, used);
            if (used == 0 && dlen == 0)
                break;
        }
        if (k == 0)
            break;
    }
    mc_buf_free(&pending);
    *ret_done = c.state == CLIENT_CHUNK_DONE;
    return mc_buf_steal(&out);
}

static void
test_chunked(void)
{
    const char *body = "5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n";
    for (size_t step = 1; step <= strlen(body); step += 7) {
        bool done = false;
        _cleanup_error_ struct mc_error *err = NULL;
        _cleanup_free_ char *out = dechunk(body, step, &done, &err);
        ok(out && streq(out, "hello 0123456789") && done, "chunked body fed %zu bytes at a time",
           step);
    }
    static const char *const bad[] = {
        "zz\r\nhello\r\n",
        "5\r\nhelloXX0\r\n\r\n",
        "fffffffffffffffffff\r\n",
    };
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        bool done;
        _cleanup_error_ struct mc_error *err = NULL;
        _cleanup_free_ char *out = dechunk(bad[i], 64, &done, &err);
        ok(!out && err && err->code == MC_ERR_INVALID, "malformed chunked body %zu refused: %s", i,
           err ? err->message : "accepted");
    }
}

static void
test_request_head(void)
{
    struct mc_buf b = MC_BUF_INIT;
    struct client_http_request attach = {
        .method = "POST",
        .target = "/v1.41/containers/abc/attach?stream=1",
        .host = "api.moby.localhost",
        .content_type = "text/plain",
        .upgrade = true,
    };
    client_http_write_head(&b, &attach);
    is_str(b.data,
           "POST /v1.41/containers/abc/attach?stream=1 HTTP/1.1\r\nHost: api.moby.localhost\r\n"
           "User-Agent: machine/" MC_VERSION "\r\nContent-Type: text/plain\r\n"
           "Content-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
           "an attach request: body-less POST with Content-Length 0 and the upgrade");
    mc_buf_reset(&b);
    struct client_http_request load = {
        .method = "POST",
        .target = "/images/load?quiet=1",
        .host = "127.0.0.1:2376",
        .content_type = "application/x-tar",
        .content_length = -1,
    };
    client_http_write_head(&b, &load);
    ok(strstr(b.data, "Transfer-Encoding: chunked\r\n") && !strstr(b.data, "Content-Length"),
       "a streamed body is chunked");
    mc_buf_reset(&b);
    struct client_http_request get = { .method = "GET", .target = "/_ping", .host = "h:1" };
    client_http_write_head(&b, &get);
    ok(!strstr(b.data, "Content-Length") && !strstr(b.data, "Content-Type"),
       "a GET without a body has no body headers");
    mc_buf_free(&b);
}

static void
test_escape(void)
{
    _cleanup_free_ char *a = client_url_escape("{\"name\":{\"c 1\":true}}", false);
    is_str(a, "%7B%22name%22%3A%7B%22c%201%22%3Atrue%7D%7D", "a filters value");
    _cleanup_free_ char *b = client_url_escape("localhost:5000/bb:1", true);
    is_str(b, "localhost:5000/bb:1", "an image name keeps '/' and ':' in a path");
    _cleanup_free_ char *c = client_url_escape("localhost:5000/bb", false);
    is_str(c, "localhost%3A5000%2Fbb", "but not in a query");
    struct client_query q = { MC_BUF_INIT };
    _cleanup_free_ char *none = client_query_path(&q, "/containers/json");
    is_str(none, "/containers/json", "an empty query adds nothing");
    client_query_add_bool(&q, "all", true);
    client_query_add(&q, "names", "a b");
    client_query_add(&q, "names", "x&y");
    _cleanup_free_ char *p = client_query_path(&q, "/images/get");
    is_str(p, "/images/get?all=1&names=a%20b&names=x%26y", "repeated keys and escapes");
}

int
main(void)
{
    test_head();
    test_bad_heads();
    test_body_kinds();
    test_chunked();
    test_request_head();
    test_escape();
    return tap_done();
}
