/* The request parser: see api-http.h. Everything here is pure (no I/O, no globals written). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api-http.h"
#include "util.h"
#include "xalloc.h"

const struct eng_http_limits eng_http_default_limits = {
    .max_request_line = 8192,
    .max_head = 65536,
    .max_headers = 100,
};

#define MAX_QUERY_PAIRS    1024
#define MAX_CHUNK_LINE     4096
#define MAX_CHUNK_SIZE     (UINT64_C(1) << 40)
#define MAX_CONTENT_LENGTH (UINT64_C(1) << 46)
#define MAX_METHOD_LEN     16

/* RFC 9110 tchar. */
static bool
is_tchar(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

void
eng_http_head_clear(struct eng_http_head *h)
{
    for (size_t i = 0; i < h->n_headers; i++) {
        free(h->headers[i].name);
        free(h->headers[i].value);
    }
    free(h->headers);
    free(h->method);
    free(h->target);
    free(h->path);
    free(h->query);
    memset(h, 0, sizeof(*h));
}

const char *
eng_http_head_get(const struct eng_http_head *h, const char *name)
{
    for (size_t i = 0; i < h->n_headers; i++)
        if (strcasecmp(h->headers[i].name, name) == 0)
            return h->headers[i].value;
    return NULL;
}

static int
hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

char *
eng_url_decode(const char *s, size_t n, bool plus_is_space)
{
    char *out = xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out[o++] = ' ';
        } else if (c == '\0') {
            free(out);
            return NULL;
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    return out;
}

/* Finds the end of the head: returns the offset just past the blank line, or 0. Sets
 * *first_line_end to the end of the first line when there is one (else 0). */
static size_t
find_head_end(const char *buf, size_t len, size_t *first_line_end)
{
    *first_line_end = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (!*first_line_end)
            *first_line_end = i + 1;
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* Length of a line without its CR LF (or bare LF). */
static size_t
line_length(const char *line, size_t with_lf)
{
    size_t n = with_lf - 1;
    if (n > 0 && line[n - 1] == '\r')
        n--;
    return n;
}

static int
fail(int *ret_status, int status, struct mc_error **err, const char *msg)
{
    *ret_status = status;
    return mc_error_set(err, status == 501 ? MC_ERR_UNSUPPORTED : MC_ERR_INVALID, "%s", msg);
}

static int
parse_request_line(const char *line, size_t n, struct eng_http_head *h, int *ret_status,
                   struct mc_error **err)
{
    const char *sp1 = memchr(line, ' ', n);
    if (!sp1 || sp1 == line || sp1 - line > MAX_METHOD_LEN)
        return fail(ret_status, 400, err, "The request line has no valid method.");
    for (const char *p = line; p < sp1; p++)
        if (!is_tchar((unsigned char)*p))
            return fail(ret_status, 400, err, "The request method has invalid characters.");
    const char *target = sp1 + 1;
    const char *end = line + n;
    const char *sp2 = memchr(target, ' ', (size_t)(end - target));
    if (!sp2 || sp2 == target)
        return fail(ret_status, 400, err, "The request line has no target or no version.");
    for (const char *p = target; p < sp2; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c == 0x7f || c == '#')
            return fail(ret_status, 400, err, "The request target has invalid characters.");
    }
    if (*target != '/')
        return fail(ret_status, 400, err, "The request target must be an absolute path.");
    const char *ver = sp2 + 1;
    size_t vlen = (size_t)(end - ver);
    if (vlen != 8 || memcmp(ver, "HTTP/", 5) != 0 || ver[6] != '.' || ver[5] < '0' ||
        ver[5] > '9' || ver[7] < '0' || ver[7] > '9')
        return fail(ret_status, 400, err, "The request line has a malformed HTTP version.");
    if (ver[5] != '1')
        return fail(ret_status, 505, err, "Only HTTP/1.0 and HTTP/1.1 are supported.");
    h->minor = ver[7] - '0';
    if (h->minor > 1)
        h->minor = 1;
    h->method = xstrndup(line, (size_t)(sp1 - line));
    h->target = xstrndup(target, (size_t)(sp2 - target));
    const char *q = strchr(h->target, '?');
    size_t plen = q ? (size_t)(q - h->target) : strlen(h->target);
    h->query = xstrdup(q ? q + 1 : "");
    h->path = eng_url_decode(h->target, plen, false);
    if (!h->path)
        return fail(ret_status, 400, err, "The request path has a malformed percent escape.");
    return 0;
}

static int
parse_header_line(const char *line, size_t n, struct eng_http_header *ret, int *ret_status,
                  struct mc_error **err)
{
    if (n > 0 && (line[0] == ' ' || line[0] == '\t'))
        return fail(ret_status, 400, err, "Folded header lines are not accepted.");
    const char *colon = memchr(line, ':', n);
    if (!colon || colon == line)
        return fail(ret_status, 400, err, "A header line has no name.");
    for (const char *p = line; p < colon; p++)
        if (!is_tchar((unsigned char)*p))
            return fail(ret_status, 400, err, "A header name has invalid characters.");
    const char *v = colon + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    for (const char *p = v; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(ret_status, 400, err, "A header value has control characters.");
    }
    ret->name = xstrndup(line, (size_t)(colon - line));
    ret->value = xstrndup(v, (size_t)(end - v));
    return 0;
}

/* True when the comma-separated list s holds token (case-insensitive). */
static bool
list_has(const char *s, const char *token)
{
    size_t tl = strlen(token);
    while (s && *s) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        size_t n = strcspn(s, ",");
        size_t m = n;
        while (m > 0 && (s[m - 1] == ' ' || s[m - 1] == '\t'))
            m--;
        if (m == tl && strncasecmp(s, token, tl) == 0)
            return true;
        s += n;
    }
    return false;
}

static int
parse_content_length(const char *v, uint64_t *ret)
{
    if (!*v || strlen(v) > 15)
        return -1;
    uint64_t n = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    if (n > MAX_CONTENT_LENGTH)
        return -1;
    *ret = n;
    return 0;
}

static int
derive(struct eng_http_head *h, int *ret_status, struct mc_error **err)
{
    bool te_seen = false, conn_close = false, conn_keep = false, conn_upgrade = false;
    bool has_upgrade = false;
    for (size_t i = 0; i < h->n_headers; i++) {
        const char *n = h->headers[i].name, *v = h->headers[i].value;
        if (strcasecmp(n, "Content-Length") == 0) {
            uint64_t cl;
            if (parse_content_length(v, &cl) < 0)
                return fail(ret_status, 400, err, "The Content-Length header is not valid.");
            if (h->has_content_length && cl != h->content_length)
                return fail(ret_status, 400, err, "The request has conflicting Content-Lengths.");
            h->has_content_length = true;
            h->content_length = cl;
        } else if (strcasecmp(n, "Transfer-Encoding") == 0) {
            if (te_seen || strcasecmp(v, "chunked") != 0)
                return fail(ret_status, 501, err,
                            "Only the chunked Transfer-Encoding is supported.");
            te_seen = true;
            h->chunked = true;
        } else if (strcasecmp(n, "Connection") == 0) {
            conn_close |= list_has(v, "close");
            conn_keep |= list_has(v, "keep-alive");
            conn_upgrade |= list_has(v, "upgrade");
        } else if (strcasecmp(n, "Upgrade") == 0) {
            has_upgrade = *v != '\0';
        } else if (strcasecmp(n, "Expect") == 0) {
            h->expect_continue = strcasecmp(v, "100-continue") == 0;
        }
    }
    if (h->chunked && h->has_content_length)
        return fail(ret_status, 400, err,
                    "The request has both Content-Length and Transfer-Encoding.");
    h->keep_alive = h->minor == 1 ? !conn_close : conn_keep && !conn_close;
    h->upgrade = conn_upgrade && has_upgrade;
    return 0;
}

static int
check_limits_incomplete(const char *buf, size_t len, const struct eng_http_limits *lim,
                        size_t first_line_end, int *ret_status, struct mc_error **err)
{
    /* Refuse what cannot become a request line without waiting for its end (a TLS hello sent
     * to the plain socket has no line end at all). */
    for (size_t i = 0; i < len && i <= MAX_METHOD_LEN && buf[i] != ' '; i++)
        if (!is_tchar((unsigned char)buf[i]))
            return fail(ret_status, 400, err, "The request line has no valid method.");
    if (!first_line_end && len > lim->max_request_line + 2)
        return fail(ret_status, 414, err, "The request line is too long.");
    if (first_line_end && line_length(buf, first_line_end) > lim->max_request_line)
        return fail(ret_status, 414, err, "The request line is too long.");
    if (len > lim->max_head)
        return fail(ret_status, 431, err, "The request headers are too large.");
    return 0;
}

long
eng_http_parse_head(const char *buf, size_t len, const struct eng_http_limits *lim,
                    struct eng_http_head *ret, int *ret_status, struct mc_error **err)
{
    /* Empty lines before a request line are ignored (RFC 9112 §2.2). */
    size_t skip = 0;
    while (skip < len && (buf[skip] == '\r' || buf[skip] == '\n') && skip < 8)
        skip++;
    const char *b = buf + skip;
    size_t n = len - skip;
    size_t first_end;
    size_t end = find_head_end(b, n, &first_end);
    if (!end) {
        if (check_limits_incomplete(b, n, lim, first_end, ret_status, err) < 0)
            return -1;
        return 0;
    }
    if (check_limits_incomplete(b, end, lim, first_end, ret_status, err) < 0)
        return -1;

    struct eng_http_head h = { 0 };
    if (parse_request_line(b, line_length(b, first_end), &h, ret_status, err) < 0)
        goto bad;
    size_t pos = first_end;
    size_t cap = 0;
    while (pos < end) {
        const char *lf = memchr(b + pos, '\n', end - pos);
        size_t with_lf = (size_t)(lf - (b + pos)) + 1;
        size_t ll = line_length(b + pos, with_lf);
        if (ll == 0)
            break;
        if (h.n_headers >= lim->max_headers) {
            fail(ret_status, 431, err, "The request has too many header fields.");
            goto bad;
        }
        if (h.n_headers == cap) {
            cap = cap ? cap * 2 : 16;
            h.headers = xreallocarray(h.headers, cap, sizeof(*h.headers));
        }
        if (parse_header_line(b + pos, ll, &h.headers[h.n_headers], ret_status, err) < 0)
            goto bad;
        h.n_headers++;
        pos += with_lf;
    }
    if (derive(&h, ret_status, err) < 0)
        goto bad;
    *ret = h;
    return (long)(skip + end);
bad:
    eng_http_head_clear(&h);
    return -1;
}

int
eng_query_parse(const char *q, struct eng_query *ret, struct mc_error **err)
{
    struct eng_query out = { 0 };
    const char *p = q;
    while (*p) {
        size_t n = strcspn(p, "&");
        if (n > 0) {
            if (out.n >= MAX_QUERY_PAIRS) {
                eng_query_clear(&out);
                return mc_error_set(err, MC_ERR_INVALID,
                                    "The query string has too many parameters.");
            }
            const char *eq = memchr(p, '=', n);
            size_t kl = eq ? (size_t)(eq - p) : n;
            char *k = eng_url_decode(p, kl, true);
            char *v = eq ? eng_url_decode(eq + 1, n - kl - 1, true) : xstrdup("");
            if (!k || !v) {
                free(k);
                free(v);
                eng_query_clear(&out);
                return mc_error_set(err, MC_ERR_INVALID,
                                    "The query string has a malformed percent escape.");
            }
            out.keys = xreallocarray(out.keys, out.n + 1, sizeof(char *));
            out.values = xreallocarray(out.values, out.n + 1, sizeof(char *));
            out.keys[out.n] = k;
            out.values[out.n] = v;
            out.n++;
        }
        p += n;
        if (*p == '&')
            p++;
    }
    *ret = out;
    return 0;
}

void
eng_query_clear(struct eng_query *q)
{
    for (size_t i = 0; i < q->n; i++) {
        free(q->keys[i]);
        free(q->values[i]);
    }
    free(q->keys);
    free(q->values);
    memset(q, 0, sizeof(*q));
}

const char *
eng_query_get(const struct eng_query *q, const char *key)
{
    for (size_t i = 0; i < q->n; i++)
        if (streq(q->keys[i], key))
            return q->values[i];
    return NULL;
}

enum {
    CH_SIZE = 0,
    CH_EXT,
    CH_SIZE_LF,
    CH_DATA,
    CH_DATA_CR,
    CH_DATA_LF,
    CH_TRAILER_START,
    CH_TRAILER,
    CH_TRAILER_LF,
    CH_END_LF,
    CH_DONE,
};

static int
chunk_error(struct mc_error **err, const char *msg)
{
    return mc_error_set(err, MC_ERR_INVALID, "The chunked request body is malformed: %s.", msg);
}

/* After a size line: data follows, or the last chunk's trailers. */
static void
size_line_done(struct eng_chunked *c)
{
    c->line_len = 0;
    c->state = c->remaining ? CH_DATA : CH_TRAILER_START;
}

static int
chunk_size_char(struct eng_chunked *c, char ch, struct mc_error **err)
{
    int v = hexval((unsigned char)ch);
    if (c->state == CH_SIZE && v >= 0) {
        if (c->remaining > MAX_CHUNK_SIZE)
            return chunk_error(err, "a chunk is too large");
        c->remaining = c->remaining * 16 + (uint64_t)v;
        c->line_len++;
        return 0;
    }
    if (c->state == CH_SIZE && c->line_len == 0)
        return chunk_error(err, "a chunk size is missing");
    if (c->state == CH_SIZE_LF) {
        if (ch != '\n')
            return chunk_error(err, "a chunk size line does not end with CRLF");
        size_line_done(c);
        return 0;
    }
    if (++c->line_len > MAX_CHUNK_LINE)
        return chunk_error(err, "a chunk extension is too long");
    if (ch == '\r')
        c->state = CH_SIZE_LF;
    else if (ch == '\n')
        size_line_done(c);
    else if (c->state == CH_SIZE && ch != ';' && ch != ' ' && ch != '\t')
        return chunk_error(err, "a chunk size is not hexadecimal");
    else
        c->state = CH_EXT;
    return 0;
}

static int
chunk_trailer_char(struct eng_chunked *c, char ch, struct mc_error **err)
{
    switch (c->state) {
    case CH_TRAILER_START:
        if (ch == '\r')
            c->state = CH_END_LF;
        else if (ch == '\n')
            c->state = CH_DONE;
        else
            c->state = CH_TRAILER;
        break;
    case CH_END_LF:
        if (ch != '\n')
            return chunk_error(err, "the body does not end with CRLF");
        c->state = CH_DONE;
        break;
    default: /* CH_TRAILER, CH_TRAILER_LF */
        if (++c->line_len > MAX_CHUNK_LINE * 2)
            return chunk_error(err, "the trailers are too long");
        if (ch == '\n')
            c->state = CH_TRAILER_START;
        break;
    }
    return 0;
}

int
eng_chunked_step(struct eng_chunked *c, const char *in, size_t len, size_t max_data,
                 size_t *ret_consumed, const char **ret_data, size_t *ret_data_len,
                 struct mc_error **err)
{
    size_t i = 0;
    *ret_data = NULL;
    *ret_data_len = 0;
    while (i < len && c->state != CH_DONE) {
        char ch = in[i];
        switch (c->state) {
        case CH_DATA: {
            size_t avail = len - i;
            if (avail > max_data)
                avail = max_data;
            if (avail == 0) {
                *ret_consumed = i;
                return 0;
            }
            size_t take = c->remaining < avail ? (size_t)c->remaining : avail;
            *ret_data = in + i;
            *ret_data_len = take;
            c->remaining -= take;
            c->total += take;
            if (!c->remaining)
                c->state = CH_DATA_CR;
            *ret_consumed = i + take;
            return 0;
        }
        case CH_DATA_CR:
            if (ch == '\n')
                c->state = CH_SIZE;
            else if (ch == '\r')
                c->state = CH_DATA_LF;
            else
                return chunk_error(err, "chunk data is longer than its size");
            c->line_len = 0;
            break;
        case CH_DATA_LF:
            if (ch != '\n')
                return chunk_error(err, "chunk data does not end with CRLF");
            c->state = CH_SIZE;
            break;
        case CH_SIZE:
        case CH_EXT:
        case CH_SIZE_LF:
            if (chunk_size_char(c, ch, err) < 0)
                return -1;
            break;
        default:
            if (chunk_trailer_char(c, ch, err) < 0)
                return -1;
            break;
        }
        i++;
    }
    *ret_consumed = i;
    return c->state == CH_DONE ? 1 : 0;
}

void
eng_frame_header(uint8_t out[8], enum eng_stream_type type, uint32_t len)
{
    out[0] = (uint8_t)type;
    out[1] = out[2] = out[3] = 0;
    out[4] = (uint8_t)(len >> 24);
    out[5] = (uint8_t)(len >> 16);
    out[6] = (uint8_t)(len >> 8);
    out[7] = (uint8_t)len;
}

int
eng_frame_parse(const uint8_t in[8], enum eng_stream_type *ret_type, uint32_t *ret_len)
{
    if (in[0] > ENG_STREAM_STDERR || in[1] || in[2] || in[3])
        return -1;
    *ret_type = (enum eng_stream_type)in[0];
    *ret_len = (uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 | (uint32_t)in[6] << 8 | in[7];
    return 0;
}

const char *
eng_http_status_text(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "UPGRADED";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Request Entity Too Large";
    case 414:
        return "Request URI Too Long";
    case 417:
        return "Expectation Failed";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}
