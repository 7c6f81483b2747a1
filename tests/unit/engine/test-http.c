/* The engine's pure HTTP pieces: request heads, chunked bodies, queries, framing, routing,
 * version prefixes and the error-to-status map. */
#include <string.h>

#include "api-handler.h"
#include "api-http.h"
#include "api-events.h"
#include "json.h"
#include "api-router.h"
#include "strbuf.h"
#include "strv.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static long
parse(const char *s, struct eng_http_head *h, int *status)
{
    struct mc_error *err = NULL;
    *status = 0;
    long r = eng_http_parse_head(s, strlen(s), &eng_http_default_limits, h, status, &err);
    mc_error_free(err);
    return r;
}

static void
test_heads(void)
{
    struct eng_http_head h = { 0 };
    int st;
    const char *ping = "HEAD /_ping HTTP/1.1\r\nHost: api.moby.localhost\r\n"
                       "User-Agent: Docker-Client/28.2.2 (linux)\r\n\r\nGET /next";
    long n = parse(ping, &h, &st);
    is_int(n, (long)(strstr(ping, "GET /next") - ping), "head length excludes the next request");
    is_str(h.method, "HEAD", "method");
    is_str(h.path, "/_ping", "path");
    is_str(eng_http_head_get(&h, "user-agent"), "Docker-Client/28.2.2 (linux)",
           "headers are case-insensitive");
    ok(h.keep_alive && !h.chunked && !h.has_content_length, "1.1 keeps alive by default");
    eng_http_head_clear(&h);

    ok(parse("GET /_ping HTTP/1.1\r\nHost: x\r\n", &h, &st) == 0, "incomplete head wants more");
    ok(parse("GET /images/localhost%3A5000%2Fbb/json?x=1 HTTP/1.1\r\n\r\n", &h, &st) > 0,
       "escaped path");
    is_str(h.path, "/images/localhost:5000/bb/json", "path is percent-decoded");
    is_str(h.query, "x=1", "query kept raw");
    eng_http_head_clear(&h);

    ok(parse("POST /build HTTP/1.1\nTransfer-Encoding: chunked\nConnection: close\n\n", &h, &st) >
               0,
       "bare LF lines are accepted");
    ok(h.chunked && !h.keep_alive, "chunked and Connection: close");
    eng_http_head_clear(&h);

    ok(parse("POST /containers/x/attach HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
             "Content-Length: 0\r\n\r\n",
             &h, &st) > 0,
       "attach head");
    ok(h.upgrade && h.has_content_length && h.content_length == 0, "upgrade detected");
    eng_http_head_clear(&h);

    ok(parse("GET / HTTP/1.0\r\n\r\n", &h, &st) > 0 && !h.keep_alive, "1.0 closes by default");
    eng_http_head_clear(&h);
    ok(parse("\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &h, &st) > 0 && h.keep_alive,
       "leading CRLF ignored; 1.0 keep-alive");
    eng_http_head_clear(&h);
}

static void
test_bad_heads(void)
{
    static const struct {
        const char *req;
        int status;
        const char *what;
    } cases[] = {
        { "GARBAGE\r\n\r\n", 400, "no target" },
        { "GET /x HTTP/2.0\r\n\r\n", 505, "HTTP/2" },
        { "GET /x HTTP/1.1 extra\r\n\r\n", 400, "three spaces" },
        { "GET x HTTP/1.1\r\n\r\n", 400, "relative target" },
        { "G(T /x HTTP/1.1\r\n\r\n", 400, "bad method" },
        { "GET /x HTTP/1.1\r\nBad Name: v\r\n\r\n", 400, "space in a header name" },
        { "GET /x HTTP/1.1\r\n folded\r\n\r\n", 400, "obs-fold" },
        { "GET /x HTTP/1.1\r\nNoColon\r\n\r\n", 400, "no colon" },
        { "GET /x HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400, "bad length" },
        { "GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400,
          "conflicting lengths" },
        { "GET /x HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
          "length and chunked" },
        { "GET /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "other encodings" },
        { "GET /a%zz HTTP/1.1\r\n\r\n", 400, "bad escape" },
        { "GET /a%00 HTTP/1.1\r\n\r\n", 400, "encoded NUL" },
        { "GET /x HTTP/1.1\r\nA: b\x01c\r\n\r\n", 400, "control character in a value" },
    };
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        struct eng_http_head h = { 0 };
        int st;
        long r = parse(cases[i].req, &h, &st);
        ok(r < 0 && st == cases[i].status, "refused with %d: %s", cases[i].status, cases[i].what);
    }

    /* Limits: a long request line, a big head, many headers. */
    struct mc_buf b = MC_BUF_INIT;
    mc_buf_puts(&b, "GET /");
    for (int i = 0; i < 9000; i++)
        mc_buf_putc(&b, 'a');
    struct eng_http_head h = { 0 };
    int st;
    ok(parse(b.data, &h, &st) < 0 && st == 414, "unterminated long request line: 414");
    mc_buf_puts(&b, " HTTP/1.1\r\n\r\n");
    ok(parse(b.data, &h, &st) < 0 && st == 414, "long request line: 414");
    mc_buf_reset(&b);
    mc_buf_puts(&b, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 101; i++)
        mc_buf_printf(&b, "X-%d: y\r\n", i);
    mc_buf_puts(&b, "\r\n");
    ok(parse(b.data, &h, &st) < 0 && st == 431, "101 headers: 431");
    mc_buf_reset(&b);
    mc_buf_puts(&b, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 70; i++) {
        mc_buf_printf(&b, "X-%d: ", i);
        for (int j = 0; j < 1000; j++)
            mc_buf_putc(&b, 'v');
        mc_buf_puts(&b, "\r\n");
    }
    ok(parse(b.data, &h, &st) < 0 && st == 431, "70 KB of headers without an end: 431");
    mc_buf_free(&b);
}

/* Decodes a chunked body whose bytes arrive step at a time, taking at most 3 data bytes per
 * call. Returns 1 at its end (with *ret_used the bytes it took), 0 if incomplete, -1 if bad. */
static int
dechunk(const char *in, size_t len, size_t step, struct mc_buf *out, size_t *ret_used)
{
    struct eng_chunked c = { 0 };
    size_t pos = 0, arrived = 0;
    for (;;) {
        size_t used, dlen;
        const char *d;
        struct mc_error *err = NULL;
        int r = eng_chunked_step(&c, in + pos, arrived - pos, 3, &used, &d, &dlen, &err);
        mc_error_free(err);
        if (r < 0)
            return -1;
        if (dlen)
            mc_buf_append(out, d, dlen);
        pos += used;
        *ret_used = pos;
        if (r == 1)
            return 1;
        if (used == 0) {
            if (arrived == len)
                return 0;
            arrived = arrived + step > len ? len : arrived + step;
        }
    }
}

static void
test_chunked(void)
{
    const char body[] = "4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n"
                        "Trailer: x\r\n\r\nNEXT";
    for (size_t step = 1; step <= sizeof(body); step += 3) {
        struct mc_buf out = MC_BUF_INIT;
        size_t used = 0;
        int r = dechunk(body, sizeof(body) - 1, step, &out, &used);
        if (!ok(r == 1 && out.len == 23 &&
                        memcmp(out.data, "Wikipedia in\r\n\r\nchunks.", 23) == 0 &&
                        used == sizeof(body) - 1 - 4,
                "chunked body decoded in steps of %zu", step)) {
            tap_diag("r=%d len=%zu used=%zu", r, out.len, used);
        }
        mc_buf_free(&out);
    }
    static const char *bad[] = {
        "x\r\n",                 /* not hex */
        "\r\n",                  /* no size */
        "3\r\nabcd\r\n",         /* data longer than size */
        "3\r\nabc\rX",           /* CR without LF */
        "fffffffffffffffff\r\n", /* too large */
    };
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        struct mc_buf out = MC_BUF_INIT;
        size_t used;
        ok(dechunk(bad[i], strlen(bad[i]), 64, &out, &used) < 0,
           "malformed chunked body %zu refused", i);
        mc_buf_free(&out);
    }
}

static void
test_query(void)
{
    struct eng_query q;
    ok(eng_query_parse("t=a&t=b&repo=localhost%3A5000%2Fbb&flag&x=a+b&&filters=%7B%22a%22%7D", &q,
                       NULL) == 0,
       "query parses");
    is_int(q.n, 6, "six pairs (empty ones dropped)");
    is_str(eng_query_get(&q, "t"), "a", "first of a repeated key");
    is_str(eng_query_get(&q, "repo"), "localhost:5000/bb", "value decoded");
    is_str(eng_query_get(&q, "flag"), "", "key without value");
    is_str(eng_query_get(&q, "x"), "a b", "plus is a space");
    is_str(eng_query_get(&q, "filters"), "{\"a\"}", "JSON decoded");
    ok(eng_query_get(&q, "nope") == NULL, "missing key");
    eng_query_clear(&q);
    struct mc_error *err = NULL;
    ok(eng_query_parse("a=%G1", &q, &err) < 0 && err, "bad escape refused");
    mc_error_free(err);
}

static void
test_frames(void)
{
    uint8_t h[8];
    eng_frame_header(h, ENG_STREAM_STDOUT, 3);
    static const uint8_t want[8] = { 1, 0, 0, 0, 0, 0, 0, 3 };
    ok(memcmp(h, want, 8) == 0, "stdout frame header for 'hi\\n'");
    eng_frame_header(h, ENG_STREAM_STDERR, 0x01020304);
    static const uint8_t want2[8] = { 2, 0, 0, 0, 1, 2, 3, 4 };
    ok(memcmp(h, want2, 8) == 0, "big-endian length");
    enum eng_stream_type t;
    uint32_t len;
    ok(eng_frame_parse(h, &t, &len) == 0 && t == ENG_STREAM_STDERR && len == 0x01020304,
       "parse round trip");
    h[1] = 1;
    ok(eng_frame_parse(h, &t, &len) < 0, "non-zero padding refused");
    h[0] = 3;
    h[1] = 0;
    ok(eng_frame_parse(h, &t, &len) < 0, "unknown type refused");
}

static int
h_dummy(struct eng_request *req, struct mc_error **err)
{
    return 0;
}

static const struct eng_route test_routes[] = {
    { "GET", "/images/json", h_dummy },          { "GET", "/images/{name*}/json", h_dummy },
    { "DELETE", "/images/{name*}", h_dummy },    { "POST", "/images/{name*}/tag", h_dummy },
    { "GET", "/containers/{id}/json", h_dummy }, { "POST", "/exec/{id}/start", h_dummy },
    { "GET", "/networks/{id}", h_dummy },        { "*", "/networks/{rest*}", h_dummy },
};
static const struct eng_module test_module = {
    .name = "test",
    .routes = test_routes,
    .n_routes = ELEMENTSOF(test_routes),
};
static const struct eng_module *const test_modules[] = { &test_module, NULL };

static void
test_router(void)
{
    struct eng_route_match m;
    ok(eng_router_find(test_modules, "GET", "/images/json", &m) && m.route == &test_routes[0],
       "exact route first");
    eng_route_match_clear(&m);
    ok(eng_router_find(test_modules, "GET", "/images/localhost:5000/bb:1/json", &m) &&
               m.route == &test_routes[1],
       "greedy name");
    is_str(eng_route_match_param(&m, "name"), "localhost:5000/bb:1", "name keeps / and :");
    eng_route_match_clear(&m);
    ok(eng_router_find(test_modules, "DELETE", "/images/alpine:3.20", &m), "delete image");
    is_str(eng_route_match_param(&m, "name"), "alpine:3.20", "delete name");
    eng_route_match_clear(&m);
    ok(eng_router_find(test_modules, "POST", "/images/busybox/tag", &m) &&
               m.route == &test_routes[3],
       "tag route");
    eng_route_match_clear(&m);
    ok(eng_router_find(test_modules, "GET", "/containers/abc/json", &m), "segment param");
    is_str(eng_route_match_param(&m, "id"), "abc", "id");
    eng_route_match_clear(&m);
    ok(!eng_router_find(test_modules, "GET", "/containers/a/b/json", &m),
       "segment params do not span slashes");
    ok(!eng_router_find(test_modules, "POST", "/containers/abc/json", &m),
       "other method: no route");
    ok(!eng_router_find(test_modules, "GET", "/images//json", &m), "empty name: no route");
    ok(!eng_router_find(test_modules, "GET", "/nothing", &m), "unknown: no route");
    ok(eng_router_find(test_modules, "GET", "/networks/bridge", &m) && m.route == &test_routes[6],
       "an exact method before a \"*\" route");
    eng_route_match_clear(&m);
    ok(eng_router_find(test_modules, "DELETE", "/networks/bridge", &m) &&
               m.route == &test_routes[7],
       "\"*\" matches any other method");
    eng_route_match_clear(&m);
    ok(eng_router_find(test_modules, "POST", "/networks/x/connect", &m) &&
               m.route == &test_routes[7],
       "\"*\" with a greedy tail");
    eng_route_match_clear(&m);

    const char *rest, *vt;
    size_t vl;
    int v;
    eng_api_version_split("/v1.44/images/json", &rest, &v, &vt, &vl);
    ok(v == 144 && streq(rest, "/images/json"), "/v1.44 prefix");
    eng_api_version_split("/version", &rest, &v, &vt, &vl);
    ok(v == 0 && streq(rest, "/version"), "/version is not a prefix");
    eng_api_version_split("/v1.24/x", &rest, &v, &vt, &vl);
    struct mc_error *err = NULL;
    ok(v == 124 && eng_api_version_check(v, vt, vl, &err) == 0, "1.24 accepted");
    eng_api_version_split("/v1.50/x", &rest, &v, &vt, &vl);
    ok(eng_api_version_check(v, vt, vl, &err) < 0, "1.50 refused");
    is_str(err->message, "client version 1.50 is too new. Maximum supported API version is 1.44",
           "dockerd's wording (too new)");
    mc_error_free(err);
    err = NULL;
    eng_api_version_split("/v1.12/x", &rest, &v, &vt, &vl);
    ok(eng_api_version_check(v, vt, vl, &err) < 0 && strstr(err->message, "is too old"),
       "1.12 refused as too old");
    is_int(eng_http_status_for_error(err), 400, "version errors are 400");
    mc_error_free(err);
    eng_api_version_split("/v1.44.1/x", &rest, &v, &vt, &vl);
    ok(v > 144, "1.44.1 counts as newer");
}

static void
test_status_map(void)
{
    static const struct {
        enum mc_error_code code;
        int status;
    } map[] = {
        { MC_ERR_NOT_FOUND, 404 },   { MC_ERR_CONFLICT, 409 }, { MC_ERR_EXISTS, 409 },
        { MC_ERR_NOT_RUNNING, 409 }, { MC_ERR_INVALID, 400 },  { MC_ERR_NOT_MODIFIED, 304 },
        { MC_ERR_UNSUPPORTED, 501 }, { MC_ERR_IO, 500 },       { MC_ERR_PERMISSION, 403 },
    };
    for (size_t i = 0; i < ELEMENTSOF(map); i++) {
        struct mc_error e = { .code = map[i].code };
        is_int(eng_http_status_for_error(&e), map[i].status, "%s -> %d",
               mc_error_code_name(map[i].code), map[i].status);
    }
    is_str(eng_http_status_text(101), "UPGRADED", "101 says UPGRADED as dockerd does");
}

static void
test_events(void)
{
    _cleanup_json_ json_t *start = json_pack(
            "{s:s,s:s,s:{s:s,s:{s:s,s:s,s:s}}}", "Type", "container", "Action", "start", "Actor",
            "ID", "0123456789ab0123", "Attributes", "name", "web", "image", "bb", "tier", "front");
    _cleanup_json_ json_t *exec = json_pack("{s:s,s:s,s:{s:s,s:{s:s,s:s}}}", "Type", "container",
                                            "Action", "exec_start: sh -c true", "Actor", "ID",
                                            "abc", "Attributes", "name", "db", "image", "pg");
    _cleanup_json_ json_t *tag =
            json_pack("{s:s,s:s,s:{s:s,s:{s:s}}}", "Type", "image", "Action", "tag", "Actor", "ID",
                      "sha256:aa", "Attributes", "name", "bb:2");
    static const struct {
        const char *filters;
        bool start, exec, tag;
    } cases[] = {
        { "{}", true, true, true },
        { "{\"type\":{\"container\":true}}", true, true, false },
        { "{\"type\":{\"image\":true}}", false, false, true },
        { "{\"event\":{\"start\":true,\"die\":true}}", true, false, false },
        { "{\"event\":{\"exec_start\":true}}", false, true, false },
        { "{\"container\":{\"web\":true}}", true, false, false },
        { "{\"container\":{\"0123456789ab0123\":true}}", true, false, false },
        { "{\"image\":{\"bb\":true}}", true, false, false },
        { "{\"image\":{\"bb:2\":true}}", false, false, true },
        { "{\"label\":{\"tier=front\":true}}", true, false, false },
        { "{\"label\":{\"tier\":true}}", true, false, false },
        { "{\"label\":{\"tier=back\":true}}", false, false, false },
    };
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        _cleanup_json_ json_t *f = json_loads(cases[i].filters, 0, NULL);
        ok(eng_event_matches(start, f) == cases[i].start &&
                   eng_event_matches(exec, f) == cases[i].exec &&
                   eng_event_matches(tag, f) == cases[i].tag,
           "events filtered by %s", cases[i].filters);
    }
    _cleanup_json_ json_t *bad = json_loads("{\"colour\":{\"red\":true}}", 0, NULL);
    struct mc_error *err = NULL;
    ok(eng_event_filters_check(bad, &err) < 0 && strstr(err->message, "invalid filter 'colour'"),
       "an unknown events filter is refused");
    mc_error_free(err);
}

int
main(void)
{
    test_heads();
    test_bad_heads();
    test_chunked();
    test_query();
    test_frames();
    test_router();
    test_events();
    test_status_map();
    return tap_done();
}
