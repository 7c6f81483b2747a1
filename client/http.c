/* The pure HTTP/1.1 pieces of the engine client (client-http.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client-http.h"
#include "util.h"
#include "xalloc.h"

void
client_http_head_clear(struct client_http_head *h)
{
    for (size_t i = 0; i < h->n_headers; i++) {
        free(h->headers[i].name);
        free(h->headers[i].value);
    }
    free(h->headers);
    free(h->reason);
    memset(h, 0, sizeof(*h));
}

const char *
client_http_head_get(const struct client_http_head *h, const char *name)
{
    for (size_t i = 0; i < h->n_headers; i++)
        if (strcasecmp(h->headers[i].name, name) == 0)
            return h->headers[i].value;
    return NULL;
}

/* The offset just past the blank line ending the head, or 0 when it is not complete. */
static size_t
head_end(const char *data, size_t len)
{
    for (size_t i = 0; i + 3 < len; i++)
        if (data[i] == '\r' && data[i + 1] == '\n' && data[i + 2] == '\r' && data[i + 3] == '\n')
            return i + 4;
    return 0;
}

static bool
is_token_char(char c)
{
    return c > 32 && c < 127 && !strchr("()<>@,;:\\\"/[]?={}", c);
}

static int
parse_status_line(const char *line, struct client_http_head *h, struct mc_error **err)
{
    const char *p = startswith(line, "HTTP/1.");
    if (!p || (p[0] != '0' && p[0] != '1') || p[1] != ' ')
        return mc_error_set(err, MC_ERR_INVALID, "the engine's answer is not HTTP/1.x: '%.40s'",
                            line);
    h->minor = p[0] - '0';
    p += 2;
    if (strlen(p) < 3 || !strchr("12345", p[0]) || !strchr("0123456789", p[1]) ||
        !strchr("0123456789", p[2]) || (p[3] != ' ' && p[3] != '\0'))
        return mc_error_set(err, MC_ERR_INVALID, "the engine's status line '%.40s' is malformed",
                            line);
    h->status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    h->reason = xstrdup(p[3] ? p + 4 : "");
    return 0;
}

static int
parse_header_line(const char *line, struct client_http_head *h, struct mc_error **err)
{
    const char *colon = strchr(line, ':');
    if (!colon || colon == line)
        return mc_error_set(err, MC_ERR_INVALID, "the engine sent a malformed header '%.40s'",
                            line);
    for (const char *c = line; c < colon; c++)
        if (!is_token_char(*c))
            return mc_error_set(err, MC_ERR_INVALID,
                                "the engine sent a malformed header name '%.40s'", line);
    if (h->n_headers >= CLIENT_HTTP_HEADERS_MAX)
        return mc_error_set(err, MC_ERR_INVALID, "the engine sent more than %d headers",
                            CLIENT_HTTP_HEADERS_MAX);
    const char *v = colon + 1;
    v += strspn(v, " \t");
    size_t vlen = strlen(v);
    while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
    h->headers = xreallocarray(h->headers, h->n_headers + 1, sizeof(*h->headers));
    h->headers[h->n_headers].name = xstrndup(line, (size_t)(colon - line));
    h->headers[h->n_headers].value = xstrndup(v, vlen);
    h->n_headers++;
    return 0;
}

ssize_t
client_http_parse_head(const char *data, size_t len, struct client_http_head *ret,
                       struct mc_error **err)
{
    size_t end = head_end(data, len < CLIENT_HTTP_HEAD_MAX ? len : CLIENT_HTTP_HEAD_MAX);
    if (end == 0) {
        if (len >= CLIENT_HTTP_HEAD_MAX)
            return mc_error_set(err, MC_ERR_INVALID,
                                "the engine's answer head is larger than %d bytes",
                                CLIENT_HTTP_HEAD_MAX);
        return 0;
    }
    _cleanup_free_ char *copy = xstrndup(data, end - 4);
    if (strlen(copy) != end - 4)
        return mc_error_set(err, MC_ERR_INVALID, "the engine's answer head holds a NUL byte");
    struct client_http_head h = { 0 };
    char *line = copy;
    for (bool first = true; line; first = false) {
        char *nl = strstr(line, "\r\n");
        if (nl)
            *nl = '\0';
        int r = first ? parse_status_line(line, &h, err) : parse_header_line(line, &h, err);
        if (r < 0) {
            client_http_head_clear(&h);
            return -1;
        }
        line = nl ? nl + 2 : NULL;
    }
    *ret = h;
    return (ssize_t)end;
}

/* True when a comma-separated header value lists token (case-insensitive). */
static bool
header_lists(const char *value, const char *token)
{
    size_t n = strlen(token);
    for (const char *p = value; p && *p;) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, ",");
        size_t t = len;
        while (t && (p[t - 1] == ' ' || p[t - 1] == '\t'))
            t--;
        if (t == n && strncasecmp(p, token, n) == 0)
            return true;
        p += len;
    }
    return false;
}

int
client_http_body_kind(const struct client_http_head *h, const char *method,
                      enum client_http_body *ret, uint64_t *ret_length, struct mc_error **err)
{
    if (streq(method, "HEAD") || h->status < 200 || h->status == 204 || h->status == 304) {
        *ret = CLIENT_BODY_NONE;
        return 0;
    }
    const char *te = client_http_head_get(h, "Transfer-Encoding");
    if (te && header_lists(te, "chunked")) {
        *ret = CLIENT_BODY_CHUNKED;
        return 0;
    }
    const char *cl = client_http_head_get(h, "Content-Length");
    if (!cl) {
        *ret = CLIENT_BODY_CLOSE;
        return 0;
    }
    uint64_t n;
    if (!*cl || strspn(cl, "0123456789") != strlen(cl) || mc_parse_uint64(cl, &n) < 0)
        return mc_error_set(err, MC_ERR_INVALID, "the engine sent a malformed Content-Length '%s'",
                            cl);
    *ret = CLIENT_BODY_LENGTH;
    *ret_length = n;
    return 0;
}

/* A line ending in "\r\n" inside in[0..len): its length without the CRLF, or -1 when absent.
 * Lines longer than 4 KiB are malformed (-2). */
static ssize_t
find_line(const char *in, size_t len)
{
    for (size_t i = 0; i + 1 < len && i < 4096; i++)
        if (in[i] == '\r' && in[i + 1] == '\n')
            return (ssize_t)i;
    return len > 4096 ? -2 : -1;
}

static int
parse_chunk_size(const char *in, size_t n, uint64_t *ret, struct mc_error **err)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; i < n && strchr("0123456789abcdefABCDEF", in[i]) && in[i]; i++) {
        if (v >> 60)
            return mc_error_set(err, MC_ERR_INVALID, "the engine sent a chunk size too large");
        char c = in[i];
        v = v * 16 + (uint64_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    if (i == 0 || (i < n && in[i] != ';' && in[i] != ' ' && in[i] != '\t'))
        return mc_error_set(err, MC_ERR_INVALID, "the engine sent a malformed chunk size");
    *ret = v;
    return 0;
}

int
client_chunked_step(struct client_chunked *c, const char *in, size_t len, size_t *ret_consumed,
                    const char **ret_data, size_t *ret_data_len, struct mc_error **err)
{
    *ret_consumed = 0;
    *ret_data = NULL;
    *ret_data_len = 0;
    ssize_t line;
    switch (c->state) {
    case CLIENT_CHUNK_SIZE:
    case CLIENT_CHUNK_TRAILER:
        line = find_line(in, len);
        if (line == -2)
            return mc_error_set(err, MC_ERR_INVALID, "the engine sent a chunk line too long");
        if (line < 0)
            return 0;
        *ret_consumed = (size_t)line + 2;
        if (c->state == CLIENT_CHUNK_TRAILER) {
            if (line == 0)
                c->state = CLIENT_CHUNK_DONE;
            return 0;
        }
        if (parse_chunk_size(in, (size_t)line, &c->left, err) < 0)
            return -1;
        c->state = c->left ? CLIENT_CHUNK_DATA : CLIENT_CHUNK_TRAILER;
        return 0;
    case CLIENT_CHUNK_DATA: {
        size_t n = len < c->left ? len : (size_t)c->left;
        *ret_data = in;
        *ret_data_len = n;
        *ret_consumed = n;
        c->left -= n;
        if (c->left == 0)
            c->state = CLIENT_CHUNK_CRLF;
        return 0;
    }
    case CLIENT_CHUNK_CRLF:
        if (len < 2)
            return 0;
        if (in[0] != '\r' || in[1] != '\n')
            return mc_error_set(err, MC_ERR_INVALID, "the engine sent a chunk without its CRLF");
        *ret_consumed = 2;
        c->state = CLIENT_CHUNK_SIZE;
        return 0;
    case CLIENT_CHUNK_DONE:
        return 0;
    }
    return 0;
}

void
client_http_write_head(struct mc_buf *b, const struct client_http_request *r)
{
    mc_buf_printf(b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: machine/%s\r\n", r->method,
                  r->target, r->host, MC_VERSION);
    if (r->content_type)
        mc_buf_printf(b, "Content-Type: %s\r\n", r->content_type);
    if (r->content_length < 0)
        mc_buf_puts(b, "Transfer-Encoding: chunked\r\n");
    else if (r->content_length > 0 || !streq(r->method, "GET"))
        mc_buf_printf(b, "Content-Length: %lld\r\n", (long long)r->content_length);
    if (r->upgrade)
        mc_buf_puts(b, "Connection: Upgrade\r\nUpgrade: tcp\r\n");
    mc_buf_puts(b, "\r\n");
}

char *
client_url_escape(const char *s, bool keep_path)
{
    static const char hex[] = "0123456789ABCDEF";
    struct mc_buf b = MC_BUF_INIT;
    mc_buf_puts(&b, "");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~", *p) ||
                     (keep_path && (*p == '/' || *p == ':'));
        if (plain) {
            mc_buf_putc(&b, (char)*p);
            continue;
        }
        char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
        mc_buf_append(&b, e, 3);
    }
    return mc_buf_steal(&b);
}

void
client_query_add(struct client_query *q, const char *key, const char *value)
{
    _cleanup_free_ char *k = client_url_escape(key, false);
    _cleanup_free_ char *v = client_url_escape(value, false);
    mc_buf_printf(&q->buf, "%c%s=%s", q->buf.len ? '&' : '?', k, v);
}

void
client_query_add_bool(struct client_query *q, const char *key, bool value)
{
    client_query_add(q, key, value ? "1" : "0");
}

char *
client_query_path(struct client_query *q, const char *path)
{
    char *p = xasprintf("%s%s", path, q->buf.len ? q->buf.data : "");
    mc_buf_free(&q->buf);
    return p;
}
