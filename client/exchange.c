/* Exchanges (client.h): connect, send one request, read the answer's head, then its body piece
 * by piece, or the raw stream after a 101. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client-internal.h"
#include "json.h"
#include "log.h"
#include "util.h"
#include "xalloc.h"

#define READ_BLOCK   (64 * 1024)
#define UPLOAD_BLOCK (64 * 1024)
#define ERROR_MAX    (64 * 1024)

void
client_exchange_free(struct client_exchange *x)
{
    if (!x)
        return;
    tr_close(&x->t);
    client_http_head_clear(&x->head);
    free(x->method);
    mc_buf_free(&x->in);
    free(x);
}

void
client_exchange_abort(struct client_exchange *x)
{
    if (x && x->t.fd >= 0)
        shutdown(x->t.fd, SHUT_RDWR);
}

long
client_exchange_status(const struct client_exchange *x)
{
    return x->head.status;
}

const char *
client_exchange_header(const struct client_exchange *x, const char *name)
{
    return client_http_head_get(&x->head, name);
}

static char *
request_target(const struct client *c, const char *path)
{
    if (c->cfg.api_version)
        return xasprintf("/v%s%s", c->cfg.api_version, path);
    return xstrdup(path);
}

/* Reads more bytes into x->in: the count, 0 at the peer's end, or -1. */
static ssize_t
fill(struct client_exchange *x, struct mc_error **err)
{
    mc_buf_reserve(&x->in, READ_BLOCK);
    ssize_t r = tr_read_wait(&x->t, x->in.data + x->in.len, READ_BLOCK, x->deadline, err);
    if (r > 0) {
        x->in.len += (size_t)r;
        x->in.data[x->in.len] = '\0';
    }
    return r;
}

static int
send_chunked_fd(struct client_exchange *x, int fd, struct mc_error **err)
{
    _cleanup_free_ char *block = xmalloc(UPLOAD_BLOCK + 32);
    for (;;) {
        ssize_t n = read(fd, block + 16, UPLOAD_BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return mc_error_sys(err, errno, "cannot read the body to send");
        if (n == 0)
            return tr_write_all(&x->t, "0\r\n\r\n", 5, x->deadline, err);
        char size[16];
        int sl = snprintf(size, sizeof(size), "%zx\r\n", (size_t)n);
        char *start = block + 16 - sl;
        memcpy(start, size, (size_t)sl);
        memcpy(block + 16 + n, "\r\n", 2);
        if (tr_write_all(&x->t, start, (size_t)(sl + n + 2), x->deadline, err) < 0)
            return -1;
    }
}

static int
send_request(struct client_exchange *x, const struct client_call *call, struct mc_error **err)
{
    _cleanup_free_ char *target = request_target(x->c, call->path);
    bool has_body = call->body || call->body_from_fd;
    struct client_http_request r = {
        .method = x->method,
        .target = target,
        .host = x->c->host_header,
        .content_type = has_body ? (call->content_type ? call->content_type : "application/json")
                                 : call->content_type,
        .content_length = call->body_from_fd ? -1 : (int64_t)call->body_len,
        .upgrade = call->upgrade,
    };
    _cleanup_buf_ struct mc_buf head = MC_BUF_INIT;
    client_http_write_head(&head, &r);
    if (call->body && !call->body_from_fd)
        mc_buf_append(&head, call->body, call->body_len);
    if (tr_write_all(&x->t, head.data, head.len, x->deadline, err) < 0)
        return -1;
    if (call->body_from_fd)
        return send_chunked_fd(x, call->body_fd, err);
    return 0;
}

/* Reads the answer's head, skipping interim 1xx answers other than 101. */
static int
read_head(struct client_exchange *x, struct mc_error **err)
{
    for (;;) {
        ssize_t n = client_http_parse_head(x->in.data ? x->in.data : "", x->in.len, &x->head, err);
        if (n < 0)
            return -1;
        if (n > 0) {
            mc_buf_consume(&x->in, (size_t)n);
            if (x->head.status >= 200 || x->head.status == 101)
                return 0;
            client_http_head_clear(&x->head);
            continue;
        }
        ssize_t r = fill(x, err);
        if (r < 0)
            return -1;
        if (r == 0)
            return mc_error_set(err, MC_ERR_IO,
                                "the engine at '%s' closed the connection "
                                "before answering",
                                x->c->cfg.host);
    }
}

int
client_open(struct client *c, const struct client_call *call, struct client_exchange **ret,
            struct mc_error **err)
{
    _cleanup_exchange_ struct client_exchange *x = xzalloc(sizeof(*x));
    x->c = c;
    x->t = (struct transport)TRANSPORT_INIT;
    x->method = xstrdup(call->method ? call->method : "GET");
    x->deadline = client_deadline(call->timeout_ms);
    if (tr_connect(c, call->timeout_ms, x->deadline, &x->t, err) < 0)
        return -1;
    struct mc_error *send_err = NULL;
    if (send_request(x, call, &send_err) < 0) {
        /* The engine may have answered (and closed) before taking the whole body. */
        int64_t saved = x->deadline;
        x->deadline = client_deadline(1000);
        int r = read_head(x, NULL);
        x->deadline = saved;
        if (r < 0)
            return mc_error_propagate(err, send_err);
        mc_error_free(send_err);
    } else if (read_head(x, err) < 0) {
        return mc_error_prefix(err, "%s %s: ", x->method, call->path);
    }
    log_debug("%s %s at '%s': %ld", x->method, call->path, c->cfg.host, x->head.status);
    if (x->head.status == 101) {
        x->raw = true;
        x->kind = CLIENT_BODY_CLOSE;
    } else if (client_http_body_kind(&x->head, x->method, &x->kind, &x->left, err) < 0) {
        return -1;
    }
    x->done = x->kind == CLIENT_BODY_NONE || (x->kind == CLIENT_BODY_LENGTH && x->left == 0);
    *ret = TAKE_PTR(x);
    return 0;
}

/* Takes up to n body bytes from what is buffered; 0 when more must be read first. */
static ssize_t
take_buffered(struct client_exchange *x, void *buf, size_t n, struct mc_error **err)
{
    if (x->in.len == 0)
        return 0;
    if (x->kind != CLIENT_BODY_CHUNKED) {
        size_t k = x->in.len < n ? x->in.len : n;
        if (x->kind == CLIENT_BODY_LENGTH && k > x->left)
            k = (size_t)x->left;
        memcpy(buf, x->in.data, k);
        mc_buf_consume(&x->in, k);
        if (x->kind == CLIENT_BODY_LENGTH) {
            x->left -= k;
            x->done = x->left == 0;
        }
        return (ssize_t)k;
    }
    while (x->in.len > 0 && x->chunked.state != CLIENT_CHUNK_DONE) {
        size_t used;
        const char *data;
        size_t dlen;
        size_t avail = x->chunked.state == CLIENT_CHUNK_DATA && x->in.len > n ? n : x->in.len;
        if (client_chunked_step(&x->chunked, x->in.data, avail, &used, &data, &dlen, err) < 0)
            return -1;
        if (dlen)
            memcpy(buf, data, dlen);
        mc_buf_consume(&x->in, used);
        if (dlen)
            return (ssize_t)dlen;
        if (used == 0)
            break;
    }
    x->done = x->chunked.state == CLIENT_CHUNK_DONE;
    return 0;
}

ssize_t
client_exchange_read(struct client_exchange *x, void *buf, size_t n, struct mc_error **err)
{
    while (!x->done && n > 0) {
        ssize_t k = take_buffered(x, buf, n, err);
        if (k != 0 || x->done)
            return k;
        ssize_t r = fill(x, err);
        if (r < 0)
            return -1;
        if (r == 0) {
            if (x->kind == CLIENT_BODY_CLOSE)
                return 0;
            return mc_error_set(err, MC_ERR_IO,
                                "the engine at '%s' closed the connection in "
                                "the middle of its answer",
                                x->c->cfg.host);
        }
    }
    return 0;
}

int
client_exchange_read_all(struct client_exchange *x, size_t max, char **ret, size_t *ret_len,
                         struct mc_error **err)
{
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    mc_buf_puts(&b, "");
    for (;;) {
        mc_buf_reserve(&b, READ_BLOCK);
        ssize_t r = client_exchange_read(x, b.data + b.len, READ_BLOCK, err);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        b.len += (size_t)r;
        b.data[b.len] = '\0';
        if (b.len > max)
            return mc_error_set(err, MC_ERR_INVALID, "the engine's answer is larger than %zu bytes",
                                max);
    }
    if (ret_len)
        *ret_len = b.len;
    *ret = mc_buf_steal(&b);
    return 0;
}

static const struct {
    long status;
    enum mc_error_code code;
} status_codes[] = {
    { 400, MC_ERR_INVALID },      { 401, MC_ERR_AUTH },     { 403, MC_ERR_PERMISSION },
    { 404, MC_ERR_NOT_FOUND },    { 409, MC_ERR_CONFLICT }, { 501, MC_ERR_UNSUPPORTED },
    { 304, MC_ERR_NOT_MODIFIED },
};

enum mc_error_code
client_status_code(long status)
{
    for (size_t i = 0; i < ELEMENTSOF(status_codes); i++)
        if (status_codes[i].status == status)
            return status_codes[i].code;
    return MC_ERR_REMOTE;
}

int
client_exchange_error(struct client_exchange *x, struct mc_error **err)
{
    _cleanup_free_ char *body = NULL;
    size_t len = 0;
    if (client_exchange_read_all(x, ERROR_MAX, &body, &len, NULL) < 0)
        body = NULL;
    _cleanup_json_ json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
    const char *msg = mc_json_str(j, "message");
    enum mc_error_code code = client_status_code(x->head.status);
    if (msg)
        return mc_error_set(err, code, "Error response from daemon: %s", msg);
    if (body && len) {
        body[strcspn(body, "\r\n")] = '\0';
        return mc_error_set(err, code, "the engine answered %ld: %s", x->head.status, body);
    }
    return mc_error_set(err, code, "the engine answered %ld %s with no message", x->head.status,
                        x->head.reason);
}

int
client_call_json(struct client *c, const char *method, const char *path, const json_t *body,
                 int timeout_ms, json_t **ret, long *ret_status, struct mc_error **err)
{
    _cleanup_free_ char *text = body ? mc_json_dumps(body, false) : NULL;
    struct client_call call = {
        .method = method,
        .path = path,
        .body = text,
        .body_len = text ? strlen(text) : 0,
        .timeout_ms = timeout_ms,
    };
    _cleanup_exchange_ struct client_exchange *x = NULL;
    if (client_open(c, &call, &x, err) < 0)
        return -1;
    if (ret_status)
        *ret_status = x->head.status;
    if (x->head.status >= 400)
        return client_exchange_error(x, err);
    _cleanup_free_ char *answer = NULL;
    size_t len = 0;
    if (client_exchange_read_all(x, CLIENT_ANSWER_MAX, &answer, &len, err) < 0)
        return mc_error_prefix(err, "%s %s: ", method, path);
    if (!ret)
        return 0;
    *ret = NULL;
    if (len == 0 || strspn(answer, " \r\n\t") == len)
        return 0;
    _cleanup_free_ char *what = xasprintf("the engine's answer to %s %s", method, path);
    *ret = mc_json_parse(answer, len, what, err);
    return *ret ? 0 : -1;
}
