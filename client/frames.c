/* Stream framing and JSON message streams (client-frames.h). */
#include <string.h>

#include "client-frames.h"
#include "json.h"

#define JSONLINE_MAX (1024 * 1024)

bool
client_demux_idle(const struct client_demux *d)
{
    return d->header_len == 0 && d->left == 0;
}

/* Completes a header from data; returns the bytes used. */
static size_t
take_header(struct client_demux *d, const char *data, size_t len)
{
    size_t k = sizeof(d->header) - d->header_len;
    if (k > len)
        k = len;
    memcpy(d->header + d->header_len, data, k);
    d->header_len += k;
    return k;
}

int
client_demux_feed(struct client_demux *d, const char *data, size_t len, client_frame_fn fn,
                  void *userdata, struct mc_error **err)
{
    while (len > 0) {
        if (d->left == 0) {
            size_t used = take_header(d, data, len);
            data += used;
            len -= used;
            if (d->header_len < sizeof(d->header))
                return 0;
            if (d->header[0] > CLIENT_STREAM_STDERR)
                return mc_error_set(err, MC_ERR_INVALID,
                                    "the engine's stream has an unrecognized input header: %d",
                                    d->header[0]);
            d->stream = d->header[0];
            d->left = (uint32_t)d->header[4] << 24 | (uint32_t)d->header[5] << 16 |
                      (uint32_t)d->header[6] << 8 | (uint32_t)d->header[7];
            d->header_len = 0;
            continue;
        }
        size_t k = len < d->left ? len : d->left;
        if (fn(userdata, d->stream, data, k, err) < 0)
            return -1;
        d->left -= (uint32_t)k;
        data += k;
        len -= k;
    }
    return 0;
}

size_t
client_escape_filter(struct client_escape *e, const char *in, size_t n, char *out, bool *ret_detach)
{
    size_t len = e->keys ? strlen(e->keys) : 0, w = 0;
    *ret_detach = false;
    if (len == 0) {
        memcpy(out, in, n);
        return n;
    }
    for (size_t i = 0; i < n; i++) {
        if (in[i] == e->keys[e->matched]) {
            if (++e->matched == len) {
                e->matched = 0;
                *ret_detach = true;
                return w;
            }
            continue;
        }
        memcpy(out + w, e->keys, e->matched); /* a false start: what was held goes through */
        w += e->matched;
        e->matched = 0;
        if (in[i] == e->keys[0]) {
            e->matched = 1;
            continue;
        }
        out[w++] = in[i];
    }
    return w;
}

static int
one_line(const char *line, size_t len, client_json_fn fn, void *userdata, struct mc_error **err)
{
    while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    if (strspn(line, " \t\r") >= len)
        return 0;
    _cleanup_json_ json_t *msg = mc_json_parse(line, len, "a message of the engine's stream", err);
    if (!msg)
        return -1;
    return fn(userdata, msg, err);
}

int
client_jsonlines_feed(struct client_jsonlines *j, const char *data, size_t len, client_json_fn fn,
                      void *userdata, struct mc_error **err)
{
    mc_buf_append(&j->buf, data, len);
    size_t start = 0;
    for (;;) {
        char *nl = memchr(j->buf.data + start, '\n', j->buf.len - start);
        if (!nl)
            break;
        size_t n = (size_t)(nl - (j->buf.data + start));
        if (one_line(j->buf.data + start, n, fn, userdata, err) < 0)
            return -1;
        start += n + 1;
    }
    mc_buf_consume(&j->buf, start);
    if (j->buf.len > JSONLINE_MAX)
        return mc_error_set(err, MC_ERR_INVALID,
                            "a message of the engine's stream is longer than %d bytes",
                            JSONLINE_MAX);
    return 0;
}

int
client_jsonlines_finish(struct client_jsonlines *j, client_json_fn fn, void *userdata,
                        struct mc_error **err)
{
    int r = 0;
    if (j->buf.len)
        r = one_line(j->buf.data, j->buf.len, fn, userdata, err);
    mc_buf_free(&j->buf);
    return r;
}
