/* The answering side of api-handler.h: plain answers, errors, chunked streams and hijacks. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api-internal.h"
#include "json.h"
#include "log.h"
#include "util.h"
#include "xalloc.h"

#define SERVER_HEADER "Server: machined/" MC_VERSION " (linux)\r\n"

/* The Date header, formatted once per second per thread. */
static const char *
http_date(void)
{
    static __thread time_t cached = -1;
    static __thread char buf[48];
    time_t now = time(NULL);
    if (now != cached) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(buf, sizeof(buf), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        cached = now;
    }
    return buf;
}

void
eng_resp_put_head(struct eng_request *req, struct mc_buf *b, int status)
{
    static const char common[] = "Api-Version: " ENG_API_VERSION "\r\n"
                                 "Docker-Experimental: false\r\n"
                                 "Ostype: linux\r\n" SERVER_HEADER;
    mc_buf_printf(b, "HTTP/1.1 %d %s\r\n", status, eng_http_status_text(status));
    mc_buf_append(b, common, sizeof(common) - 1);
    mc_buf_puts(b, http_date());
    if (!req->keep_alive)
        mc_buf_puts(b, "Connection: close\r\n");
    else if (req->head.minor == 0)
        mc_buf_puts(b, "Connection: keep-alive\r\n");
    req->status = status;
}

static bool
is_head(const struct eng_request *req)
{
    return req->head.method && streq(req->head.method, "HEAD");
}

static int
send_answer(struct eng_request *req, int status, const char *content_type, const void *data,
            size_t len, const char *extra_headers)
{
    if (req->state != RESP_NONE)
        return -1;
    struct mc_buf *b = &req->out;
    mc_buf_reset(b);
    eng_resp_put_head(req, b, status);
    if (extra_headers)
        mc_buf_puts(b, extra_headers);
    bool no_body = status == 204 || status == 304 || (status >= 100 && status < 200);
    if (content_type && !no_body)
        mc_buf_printf(b, "Content-Type: %s\r\n", content_type);
    if (!no_body)
        mc_buf_printf(b, "Content-Length: %zu\r\n", len);
    mc_buf_append(b, "\r\n", 2);
    struct iovec iov[2] = { { b->data, b->len }, { (void *)data, len } };
    int n = no_body || is_head(req) || len == 0 ? 1 : 2;
    req->state = RESP_SENT;
    struct mc_error *e = NULL;
    if (eng_conn_writev(req->conn, iov, n, ENG_WRITE_TIMEOUT_MS, &e) < 0) {
        log_debug("%s", e->message);
        mc_error_free(e);
        req->keep_alive = false;
    }
    return 0;
}

int
eng_resp_raw(struct eng_request *req, int status, const char *content_type, const void *data,
             size_t len)
{
    return send_answer(req, status, content_type, data, len, NULL);
}

int
eng_resp_raw_with(struct eng_request *req, int status, const char *content_type,
                  const char *extra_headers, const void *data, size_t len)
{
    return send_answer(req, status, content_type, data, len, extra_headers);
}

int
eng_resp_json(struct eng_request *req, int status, const json_t *j)
{
    _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s)
        abort();
    size_t n = strlen(s);
    s = xrealloc(s, n + 2);
    s[n] = '\n';
    s[n + 1] = '\0';
    return send_answer(req, status, "application/json", s, n + 1, NULL);
}

int
eng_resp_json_take(struct eng_request *req, int status, json_t *j)
{
    int r = eng_resp_json(req, status, j);
    json_decref(j);
    return r;
}

int
eng_resp_empty(struct eng_request *req, int status)
{
    return send_answer(req, status, NULL, NULL, 0, NULL);
}

int
eng_resp_error_msg(struct eng_request *req, int status, const char *message)
{
    _cleanup_json_ json_t *j = json_pack("{s:s}", "message", message ? message : "");
    if (!j) /* invalid UTF-8 in the message */
        j = json_pack("{s:s}", "message", "The error message is not valid UTF-8.");
    return eng_resp_json(req, status, j);
}

int
eng_http_status_for_error(const struct mc_error *e)
{
    switch (e ? e->code : MC_ERR_FAILED) {
    case MC_ERR_INVALID:
    case MC_ERR_USAGE:
        return 400;
    case MC_ERR_AUTH:
        return 401;
    case MC_ERR_PERMISSION:
        return 403;
    case MC_ERR_NOT_FOUND:
        return 404;
    case MC_ERR_EXISTS:
    case MC_ERR_CONFLICT:
    case MC_ERR_NOT_RUNNING:
        return 409;
    case MC_ERR_NOT_MODIFIED:
        return 304;
    case MC_ERR_UNSUPPORTED:
        return 501;
    default:
        return 500;
    }
}

int
eng_resp_error(struct eng_request *req, const struct mc_error *e)
{
    int status = eng_http_status_for_error(e);
    if (status == 304)
        return eng_resp_empty(req, 304);
    return eng_resp_error_msg(req, status, e ? e->message : "The request failed.");
}

int
eng_resp_send_error_close(struct eng_request *req, int status, const char *message)
{
    req->keep_alive = false;
    if (!req->head.method)
        req->head.minor = 1;
    return eng_resp_error_msg(req, status, message);
}

/* ---- streams ---- */

struct eng_stream *
eng_resp_stream(struct eng_request *req, int status, const char *content_type,
                struct mc_error **err)
{
    if (req->state != RESP_NONE) {
        mc_error_set(err, MC_ERR_FAILED, "The request was already answered.");
        return NULL;
    }
    struct mc_buf *b = &req->out;
    mc_buf_reset(b);
    bool chunked = req->head.minor >= 1;
    if (!chunked)
        req->keep_alive = false;
    eng_resp_put_head(req, b, status);
    mc_buf_printf(b, "Content-Type: %s\r\n", content_type);
    if (chunked)
        mc_buf_puts(b, "Transfer-Encoding: chunked\r\n");
    mc_buf_append(b, "\r\n", 2);
    req->state = RESP_STREAM;
    req->stream = (struct eng_stream){ .req = req,
                                       .chunked = chunked,
                                       .json = streq(content_type, "application/json") };
    if (eng_conn_write(req->conn, b->data, b->len, ENG_WRITE_TIMEOUT_MS, err) < 0)
        return NULL;
    return &req->stream;
}

struct eng_stream *
eng_resp_hijack(struct eng_request *req, const char *content_type, struct mc_error **err)
{
    if (req->state != RESP_NONE) {
        mc_error_set(err, MC_ERR_FAILED, "The request was already answered.");
        return NULL;
    }
    _cleanup_free_ char *head =
            req->head.upgrade
                    ? xasprintf("HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\n"
                                "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
                                content_type)
                    : xasprintf("HTTP/1.1 200 OK\r\nContent-Type: %s\r\n\r\n", content_type);
    req->state = RESP_HIJACKED;
    req->status = req->head.upgrade ? 101 : 200;
    req->keep_alive = false;
    req->stream = (struct eng_stream){ .req = req };
    if (eng_conn_write(req->conn, head, strlen(head), ENG_WRITE_TIMEOUT_MS, err) < 0)
        return NULL;
    return &req->stream;
}

const char *
eng_stream_content_type(const struct eng_request *req, bool tty)
{
    if (tty || req->api_version < 142)
        return "application/vnd.docker.raw-stream";
    return "application/vnd.docker.multiplexed-stream";
}

int
eng_stream_write(struct eng_stream *s, const void *data, size_t len, struct mc_error **err)
{
    if (len == 0)
        return 0;
    if (!s->chunked)
        return eng_conn_write(s->req->conn, data, len, ENG_WRITE_TIMEOUT_MS, err);
    char size[24];
    int n = snprintf(size, sizeof(size), "%zx\r\n", len);
    struct iovec iov[3] = { { size, (size_t)n }, { (void *)data, len }, { "\r\n", 2 } };
    return eng_conn_writev(s->req->conn, iov, 3, ENG_WRITE_TIMEOUT_MS, err);
}

int
eng_stream_frame(struct eng_stream *s, enum eng_stream_type type, const void *data, size_t len,
                 struct mc_error **err)
{
    if (len == 0)
        return 0;
    if (len > UINT32_MAX)
        return mc_error_set(err, MC_ERR_INVALID, "A frame is too large.");
    uint8_t h[8];
    eng_frame_header(h, type, (uint32_t)len);
    if (!s->chunked) {
        struct iovec iov[2] = { { h, 8 }, { (void *)data, len } };
        return eng_conn_writev(s->req->conn, iov, 2, ENG_WRITE_TIMEOUT_MS, err);
    }
    char size[24];
    int n = snprintf(size, sizeof(size), "%zx\r\n", len + 8);
    struct iovec iov[4] = { { size, (size_t)n }, { h, 8 }, { (void *)data, len }, { "\r\n", 2 } };
    return eng_conn_writev(s->req->conn, iov, 4, ENG_WRITE_TIMEOUT_MS, err);
}

int
eng_stream_json(struct eng_stream *s, const json_t *j, struct mc_error **err)
{
    _cleanup_free_ char *txt = json_dumps(j, JSON_COMPACT);
    if (!txt)
        abort();
    size_t n = strlen(txt);
    txt = xrealloc(txt, n + 3);
    memcpy(txt + n, "\r\n", 3);
    return eng_stream_write(s, txt, n + 2, err);
}

ssize_t
eng_stream_read_timeout(struct eng_stream *s, void *buf, size_t n, int timeout_ms,
                        struct mc_error **err)
{
    return eng_conn_read(s->req->conn, buf, n, timeout_ms, err);
}

ssize_t
eng_stream_read(struct eng_stream *s, void *buf, size_t n, struct mc_error **err)
{
    return eng_conn_read(s->req->conn, buf, n, -1, err);
}

bool
eng_stream_readable(struct eng_stream *s)
{
    return eng_conn_buffered(s->req->conn) > 0;
}

int
eng_stream_fd(const struct eng_stream *s)
{
    return s->req->conn->fd;
}

int
eng_stream_close_write(struct eng_stream *s)
{
    if (s->chunked)
        return 0;
    return eng_conn_shutdown_write(s->req->conn);
}

void
eng_resp_finish_stream(struct eng_request *req, const struct mc_error *e)
{
    struct eng_stream *s = &req->stream;
    if (e && s->json) {
        _cleanup_json_ json_t *j = json_pack("{s:{s:s},s:s}", "errorDetail", "message", e->message,
                                             "error", e->message);
        if (j)
            eng_stream_json(s, j, NULL);
    }
    if (s->chunked) {
        if (eng_conn_write(req->conn, "0\r\n\r\n", 5, ENG_WRITE_TIMEOUT_MS, NULL) < 0)
            req->keep_alive = false;
    } else {
        req->keep_alive = false;
    }
    req->state = RESP_SENT;
}
