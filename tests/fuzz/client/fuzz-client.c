/* The engine client's parsers of what an engine sends: the answer head and how its body is
 * delimited, a chunked body, the 8-byte stream framing and JSON message streams. The input is
 * read as an answer head followed by its body, which is also fed to the stream parsers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client-frames.h"
#include "client-http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
on_frame(void *userdata, int stream, const char *d, size_t len, struct mc_error **err)
{
    *(size_t *)userdata += len;
    return 0;
}

static int
on_json(void *userdata, json_t *msg, struct mc_error **err)
{
    *(size_t *)userdata += json_object_size(msg);
    return 0;
}

/* Decodes a chunked body as the client does, a few bytes at a time. */
static void
dechunk(const char *in, size_t len)
{
    struct client_chunked c = { 0 };
    size_t off = 0;
    while (off < len && c.state != CLIENT_CHUNK_DONE) {
        size_t step = len - off < 7 ? len - off : 7, used, dlen;
        const char *d;
        struct mc_error *err = NULL;
        if (client_chunked_step(&c, in + off, step, &used, &d, &dlen, &err) < 0) {
            mc_error_free(err);
            return;
        }
        if (used == 0 && dlen == 0) {
            if (step == len - off)
                return;
            step = len - off; /* a line longer than the window: give it all */
            if (client_chunked_step(&c, in + off, step, &used, &d, &dlen, &err) < 0) {
                mc_error_free(err);
                return;
            }
            if (used == 0)
                return;
        }
        off += used;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    struct mc_error *err = NULL;
    struct client_http_head h = { 0 };
    ssize_t n = client_http_parse_head(in, size, &h, &err);
    mc_error_free(err);
    err = NULL;
    size_t body = n > 0 ? (size_t)n : 0;
    if (n > 0) {
        enum client_http_body kind;
        uint64_t len;
        client_http_head_get(&h, "Content-Type");
        if (client_http_body_kind(&h, "GET", &kind, &len, &err) == 0 && kind == CLIENT_BODY_CHUNKED)
            dechunk(in + body, size - body);
        mc_error_free(err);
        err = NULL;
        client_http_head_clear(&h);
    }
    size_t count = 0;
    struct client_demux d = { 0 };
    client_demux_feed(&d, in + body, size - body, on_frame, &count, &err);
    mc_error_free(err);
    err = NULL;
    struct client_jsonlines j = { MC_BUF_INIT };
    if (client_jsonlines_feed(&j, in + body, size - body, on_json, &count, &err) == 0)
        client_jsonlines_finish(&j, on_json, &count, &err);
    mc_buf_free(&j.buf);
    mc_error_free(err);
    return 0;
}
