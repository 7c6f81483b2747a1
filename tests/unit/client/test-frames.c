/* The multiplexed stream framing and JSON message streams. */
#include <string.h>

#include "client-frames.h"
#include "json.h"
#include "strbuf.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

struct sink {
    struct mc_buf out[3];
};

static int
on_frame(void *userdata, int stream, const char *data, size_t len, struct mc_error **err)
{
    struct sink *s = userdata;
    mc_buf_append(&s->out[stream], data, len);
    return 0;
}

static void
frame(struct mc_buf *b, int stream, const char *payload)
{
    size_t n = strlen(payload);
    char h[8] = {
        (char)stream, 0, 0, 0, (char)(n >> 24), (char)(n >> 16), (char)(n >> 8), (char)n
    };
    mc_buf_append(b, h, 8);
    mc_buf_append(b, payload, n);
}

static void
test_demux(void)
{
    struct mc_buf in = MC_BUF_INIT;
    frame(&in, 1, "hi\n");
    frame(&in, 2, "to stderr\n");
    frame(&in, 1, "");
    _cleanup_free_ char *big = xmalloc(70001);
    memset(big, 'x', 70000);
    big[70000] = '\0';
    frame(&in, 1, big);
    frame(&in, 0, "echo\n");
    for (size_t step = 1; step <= in.len; step = step * 3 + 1) {
        struct sink s = { { MC_BUF_INIT, MC_BUF_INIT, MC_BUF_INIT } };
        struct client_demux d = { 0 };
        _cleanup_error_ struct mc_error *err = NULL;
        int r = 0;
        for (size_t off = 0; off < in.len && r == 0; off += step) {
            size_t k = in.len - off < step ? in.len - off : step;
            r = client_demux_feed(&d, in.data + off, k, on_frame, &s, &err);
        }
        _cleanup_free_ char *want_out = xasprintf("hi\n%s", big);
        ok(r == 0 && s.out[1].len == strlen(want_out) &&
                   memcmp(s.out[1].data, want_out, s.out[1].len) == 0 && s.out[2].data &&
                   streq(s.out[2].data, "to stderr\n") && s.out[0].data &&
                   streq(s.out[0].data, "echo\n") && client_demux_idle(&d),
           "frames split every %zu bytes come out whole, per stream", step);
        for (int i = 0; i < 3; i++)
            mc_buf_free(&s.out[i]);
    }
    mc_buf_free(&in);

    struct client_demux d = { 0 };
    struct sink s = { { MC_BUF_INIT, MC_BUF_INIT, MC_BUF_INIT } };
    _cleanup_error_ struct mc_error *err = NULL;
    ok(client_demux_feed(&d, "hi\n", 3, on_frame, &s, &err) == 0 && !client_demux_idle(&d),
       "a partial header is not a boundary");
    ok(client_demux_feed(&d, "there", 5, on_frame, &s, &err) < 0 && err &&
               strstr(err->message, "unrecognized input header: 104"),
       "raw bytes where a frame was expected are refused like docker does: %s",
       err ? err->message : "accepted");
}

struct msgs {
    int n;
    struct mc_buf text;
};

static int
on_msg(void *userdata, json_t *msg, struct mc_error **err)
{
    struct msgs *m = userdata;
    m->n++;
    const char *s = mc_json_str(msg, "stream");
    mc_buf_puts(&m->text, s ? s : "?");
    return 0;
}

static void
test_jsonlines(void)
{
    const char *in = "{\"stream\":\"Loaded image: bb:latest\\n\"}\r\n\r\n"
                     "{\"status\":\"x\"}\n{\"stream\":\"two\"}";
    for (size_t step = 1; step <= strlen(in); step += 5) {
        struct client_jsonlines j = { MC_BUF_INIT };
        struct msgs m = { 0, MC_BUF_INIT };
        _cleanup_error_ struct mc_error *err = NULL;
        int r = 0;
        for (size_t off = 0; off < strlen(in) && r == 0; off += step) {
            size_t k = strlen(in) - off < step ? strlen(in) - off : step;
            r = client_jsonlines_feed(&j, in + off, k, on_msg, &m, &err);
        }
        if (r == 0)
            r = client_jsonlines_finish(&j, on_msg, &m, &err);
        ok(r == 0 && m.n == 3 && streq(m.text.data, "Loaded image: bb:latest\n?two"),
           "messages split every %zu bytes, the last without a newline", step);
        mc_buf_free(&m.text);
        mc_buf_free(&j.buf);
    }
    struct client_jsonlines j = { MC_BUF_INIT };
    struct msgs m = { 0, MC_BUF_INIT };
    _cleanup_error_ struct mc_error *err = NULL;
    ok(client_jsonlines_feed(&j, "not json\n", 9, on_msg, &m, &err) < 0 && err,
       "a line that is not JSON is an error");
    client_jsonlines_finish(&j, on_msg, &m, NULL);
    mc_buf_free(&m.text);
}

static void
escape(const char *keys, const char *const *pieces, const char *want, bool want_detach)
{
    struct client_escape e = { .keys = keys };
    char out[256];
    struct mc_buf got = MC_BUF_INIT;
    mc_buf_puts(&got, "");
    bool detach = false;
    for (size_t i = 0; pieces[i] && !detach; i++)
        mc_buf_append(&got, out,
                      client_escape_filter(&e, pieces[i], strlen(pieces[i]), out, &detach));
    ok(streq(got.data, want) && detach == want_detach, "detach keys: '%s'%s", want,
       want_detach ? " then detach" : "");
    mc_buf_free(&got);
}

static void
test_escape(void)
{
    escape("\020\021", (const char *const[]){ "ab", "c\020", "\021zz", NULL }, "abc", true);
    escape("\020\021", (const char *const[]){ "a\020b", "\020\020", "\021", NULL }, "a\020b\020",
           true);
    escape("\020\021", (const char *const[]){ "a\020", NULL }, "a", false);
    escape("\020\021", (const char *const[]){ "\021\020x", NULL }, "\021\020x", false);
    escape(NULL, (const char *const[]){ "\020\021", NULL }, "\020\021", false);
}

int
main(void)
{
    test_escape();
    test_demux();
    test_jsonlines();
    return tap_done();
}
