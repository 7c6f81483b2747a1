#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sigv4.h"
#include "strbuf.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

#define ALGORITHM "AWS4-HMAC-SHA256"

/* One name=value pair of the canonical query or one canonical header. */
struct pair {
    char *name;
    char *value;
    size_t order; /* position in the input, so that sorting keeps duplicates in order */
};

struct pairs {
    struct pair *v;
    size_t n;
};

static void
pairs_add(struct pairs *ps, char *name, char *value)
{
    ps->v = xreallocarray(ps->v, ps->n + 1, sizeof(*ps->v));
    ps->v[ps->n] = (struct pair){ name, value, ps->n };
    ps->n++;
}

static void
pairs_free(struct pairs *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        free(ps->v[i].name);
        free(ps->v[i].value);
    }
    free(ps->v);
    ps->v = NULL;
    ps->n = 0;
}

static int
cmp_by_name_then_order(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int
cmp_by_name_then_value(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static bool
is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

char *
aws_uri_encode(const char *s, size_t len, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    mc_buf_reserve(&b, len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            mc_buf_putc(&b, (char)c);
            continue;
        }
        char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
        mc_buf_append(&b, esc, 3);
    }
    return mc_buf_steal(&b);
}

/* Decodes %XX escapes (a malformed escape is kept as it is). */
static char *
uri_decode(const char *s, size_t len)
{
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    mc_buf_reserve(&b, len);
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < len && (hi = mc_hex_digit(s[i + 1])) >= 0 &&
            (lo = mc_hex_digit(s[i + 2])) >= 0) {
            mc_buf_putc(&b, (char)(hi << 4 | lo));
            i += 2;
            continue;
        }
        mc_buf_putc(&b, s[i]);
    }
    return mc_buf_steal(&b);
}

/* Removes empty and "." segments and resolves ".." (RFC 3986 dot segments, with empty
 * segments dropped as AWS does for every service but S3). A path that ended with '/' keeps it. */
static char *
normalize_path(const char *path)
{
    _cleanup_strv_ char **in = strv_split(path, "/");
    _cleanup_strv_ char **out = strv_new();
    STRV_FOREACH (seg, in) {
        if (streq(*seg, "."))
            continue;
        if (streq(*seg, "..")) {
            size_t n = strv_length(out);
            if (n > 0) {
                free(out[n - 1]);
                out[n - 1] = NULL;
            }
            continue;
        }
        strv_add(&out, *seg);
    }
    _cleanup_free_ char *joined = strv_join(out, "/");
    bool trailing = *path && path[strlen(path) - 1] == '/' && *joined;
    return xasprintf("/%s%s", joined, trailing ? "/" : "");
}

static char *
canonical_uri(const char *path, bool normalize)
{
    if (isempty(path))
        return xstrdup("/");
    if (!normalize)
        return aws_uri_encode(path, strlen(path), true);
    _cleanup_free_ char *n = normalize_path(path);
    return aws_uri_encode(n, strlen(n), true);
}

static void
query_add_raw(struct pairs *ps, const char *query)
{
    if (isempty(query))
        return;
    for (const char *p = query; *p;) {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        size_t nlen = eq ? (size_t)(eq - p) : len;
        if (len > 0) {
            _cleanup_free_ char *name = uri_decode(p, nlen);
            _cleanup_free_ char *value = eq ? uri_decode(eq + 1, len - nlen - 1) : xstrdup("");
            pairs_add(ps, aws_uri_encode(name, strlen(name), false),
                      aws_uri_encode(value, strlen(value), false));
        }
        p += len;
        if (*p == '&')
            p++;
    }
}

static void
query_add(struct pairs *ps, const char *name, const char *value)
{
    pairs_add(ps, xstrdup(name), aws_uri_encode(value, strlen(value), false));
}

static char *
scope(const struct aws_sigv4_params *p)
{
    return xasprintf("%.8s/%s/%s/aws4_request", p->amz_date, p->region, p->service);
}

/* Lower-case name; value trimmed with inner runs of blanks collapsed to one space. */
static void
header_add(struct pairs *ps, const char *name, const char *value)
{
    char *lname = xstrdup(name);
    for (char *c = lname; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    const char *v = value;
    while (*v == ' ' || *v == '\t')
        v++;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            const char *rest = v + strspn(v, " \t");
            if (*rest)
                mc_buf_putc(&b, ' ');
            v = rest - 1;
            continue;
        }
        mc_buf_putc(&b, *v);
    }
    pairs_add(ps, lname, b.data ? mc_buf_steal(&b) : xstrdup(""));
}

static void
body_hash(const struct aws_sigv4_request *req, char hex[MC_SHA256_HEX_LEN + 1])
{
    mc_sha256_hex(req->body ? req->body : "", req->body ? req->body_len : 0, hex);
}

/* The canonical headers (sorted, duplicates merged with ','), as "name:value\n" lines, and the
 * signed-headers list. */
static void
canonical_headers(const struct aws_sigv4_request *req, const struct aws_sigv4_params *p,
                  enum aws_sigv4_mode mode, char **ret_lines, char **ret_signed)
{
    struct pairs hs = { 0 };
    for (size_t i = 0; i < req->n_headers; i++)
        header_add(&hs, req->headers[i].name, req->headers[i].value);
    if (mode == AWS_SIGV4_HEADER) {
        header_add(&hs, "x-amz-date", p->amz_date);
        if (!isempty(p->session_token))
            header_add(&hs, "x-amz-security-token", p->session_token);
        if (p->sign_body) {
            char h[MC_SHA256_HEX_LEN + 1];
            body_hash(req, h);
            header_add(&hs, "x-amz-content-sha256", h);
        }
    }
    if (hs.n > 0)
        qsort(hs.v, hs.n, sizeof(*hs.v), cmp_by_name_then_order);
    _cleanup_buf_ struct mc_buf lines = MC_BUF_INIT;
    _cleanup_buf_ struct mc_buf names = MC_BUF_INIT;
    for (size_t i = 0; i < hs.n; i++) {
        bool same = i > 0 && streq(hs.v[i].name, hs.v[i - 1].name);
        if (same) {
            mc_buf_printf(&lines, ",%s", hs.v[i].value);
            continue;
        }
        if (i > 0)
            mc_buf_putc(&lines, '\n');
        mc_buf_printf(&lines, "%s:%s", hs.v[i].name, hs.v[i].value);
        mc_buf_printf(&names, "%s%s", names.len ? ";" : "", hs.v[i].name);
    }
    mc_buf_putc(&lines, '\n');
    pairs_free(&hs);
    *ret_lines = mc_buf_steal(&lines);
    *ret_signed = mc_buf_steal(&names);
}

/* The X-Amz-* parameters of a presigned request, in the order the signed URL lists them
 * (all but X-Amz-Signature). */
static void
presign_params(const struct aws_sigv4_params *p, const char *signed_headers, struct pairs *ret)
{
    _cleanup_free_ char *credential = NULL, *sc = scope(p);
    credential = xasprintf("%s/%s", p->access_key_id, sc);
    _cleanup_free_ char *expires = xasprintf("%d", p->expires);
    query_add(ret, "X-Amz-Algorithm", ALGORITHM);
    query_add(ret, "X-Amz-Credential", credential);
    query_add(ret, "X-Amz-Date", p->amz_date);
    query_add(ret, "X-Amz-SignedHeaders", signed_headers);
    query_add(ret, "X-Amz-Expires", expires);
    if (!isempty(p->session_token))
        query_add(ret, "X-Amz-Security-Token", p->session_token);
}

static char *
pairs_join(const struct pairs *ps)
{
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    for (size_t i = 0; i < ps->n; i++)
        mc_buf_printf(&b, "%s%s=%s", i ? "&" : "", ps->v[i].name, ps->v[i].value);
    return b.data ? mc_buf_steal(&b) : xstrdup("");
}

char *
aws_sigv4_canonical_request(const struct aws_sigv4_request *req, const struct aws_sigv4_params *p,
                            enum aws_sigv4_mode mode)
{
    _cleanup_free_ char *uri = canonical_uri(req->path, p->normalize_path);
    _cleanup_free_ char *lines = NULL, *signed_headers = NULL;
    canonical_headers(req, p, mode, &lines, &signed_headers);
    struct pairs q = { 0 };
    query_add_raw(&q, req->query);
    if (mode == AWS_SIGV4_QUERY)
        presign_params(p, signed_headers, &q);
    if (q.n > 0)
        qsort(q.v, q.n, sizeof(*q.v), cmp_by_name_then_value);
    _cleanup_free_ char *query = pairs_join(&q);
    pairs_free(&q);
    char hash[MC_SHA256_HEX_LEN + 1];
    body_hash(req, hash);
    return xasprintf("%s\n%s\n%s\n%s\n%s\n%s", req->method, uri, query, lines, signed_headers,
                     hash);
}

char *
aws_sigv4_string_to_sign(const char *canonical_request, const struct aws_sigv4_params *p)
{
    char hash[MC_SHA256_HEX_LEN + 1];
    mc_sha256_hex(canonical_request, strlen(canonical_request), hash);
    _cleanup_free_ char *sc = scope(p);
    return xasprintf("%s\n%s\n%s\n%s", ALGORITHM, p->amz_date, sc, hash);
}

void
aws_sigv4_signature(const char *string_to_sign, const struct aws_sigv4_params *p,
                    char hex[MC_SHA256_HEX_LEN + 1])
{
    uint8_t k[MC_SHA256_LEN], sig[MC_SHA256_LEN];
    size_t slen = strlen(p->secret_access_key) + 4;
    char *secret = xasprintf("AWS4%s", p->secret_access_key);
    mc_hmac_sha256(secret, slen, p->amz_date, 8, k);
    mc_free_secret(secret, slen);
    mc_hmac_sha256(k, sizeof(k), p->region, strlen(p->region), k);
    mc_hmac_sha256(k, sizeof(k), p->service, strlen(p->service), k);
    mc_hmac_sha256(k, sizeof(k), "aws4_request", 12, k);
    mc_hmac_sha256(k, sizeof(k), string_to_sign, strlen(string_to_sign), sig);
    explicit_bzero(k, sizeof(k));
    mc_hex_encode(sig, sizeof(sig), hex);
}

static void
signed_add(struct aws_sigv4_signed *s, const char *name, char *value)
{
    s->headers[s->n_headers].name = xstrdup(name);
    s->headers[s->n_headers].value = value;
    s->n_headers++;
}

static void
sign_header_mode(const struct aws_sigv4_request *req, const struct aws_sigv4_params *p,
                 struct aws_sigv4_signed *ret)
{
    _cleanup_free_ char *lines = NULL, *signed_headers = NULL, *sc = scope(p);
    canonical_headers(req, p, AWS_SIGV4_HEADER, &lines, &signed_headers);
    if (!isempty(p->session_token))
        signed_add(ret, "X-Amz-Security-Token", xstrdup(p->session_token));
    signed_add(ret, "X-Amz-Date", xstrdup(p->amz_date));
    if (p->sign_body) {
        char h[MC_SHA256_HEX_LEN + 1];
        body_hash(req, h);
        signed_add(ret, "x-amz-content-sha256", xstrdup(h));
    }
    signed_add(ret, "Authorization",
               xasprintf("%s Credential=%s/%s, SignedHeaders=%s, Signature=%s", ALGORITHM,
                         p->access_key_id, sc, signed_headers, ret->signature));
}

static void
sign_query_mode(const struct aws_sigv4_request *req, const struct aws_sigv4_params *p,
                struct aws_sigv4_signed *ret)
{
    _cleanup_free_ char *lines = NULL, *signed_headers = NULL;
    canonical_headers(req, p, AWS_SIGV4_QUERY, &lines, &signed_headers);
    struct pairs q = { 0 };
    presign_params(p, signed_headers, &q);
    query_add(&q, "X-Amz-Signature", ret->signature);
    _cleanup_free_ char *added = pairs_join(&q);
    pairs_free(&q);
    ret->query = isempty(req->query) ? TAKE_PTR(added) : xasprintf("%s&%s", req->query, added);
}

void
aws_sigv4_sign(const struct aws_sigv4_request *req, const struct aws_sigv4_params *p,
               enum aws_sigv4_mode mode, struct aws_sigv4_signed *ret)
{
    memset(ret, 0, sizeof(*ret));
    _cleanup_free_ char *creq = aws_sigv4_canonical_request(req, p, mode);
    _cleanup_free_ char *sts = aws_sigv4_string_to_sign(creq, p);
    aws_sigv4_signature(sts, p, ret->signature);
    if (mode == AWS_SIGV4_HEADER)
        sign_header_mode(req, p, ret);
    else
        sign_query_mode(req, p, ret);
}

void
aws_sigv4_signed_clear(struct aws_sigv4_signed *s)
{
    for (size_t i = 0; i < s->n_headers; i++) {
        free(s->headers[i].name);
        free(s->headers[i].value);
    }
    free(s->query);
    memset(s, 0, sizeof(*s));
}

char *
aws_sigv4_signed_request_text(const struct aws_sigv4_request *req, const struct aws_sigv4_signed *s)
{
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    const char *query = s->query ? s->query : req->query;
    mc_buf_printf(&b, "%s %s%s%s HTTP/1.1\n", req->method, req->path, isempty(query) ? "" : "?",
                  isempty(query) ? "" : query);
    for (size_t i = 0; i < req->n_headers; i++)
        mc_buf_printf(&b, "%s:%s\n", req->headers[i].name, req->headers[i].value);
    for (size_t i = 0; i < s->n_headers; i++)
        mc_buf_printf(&b, "%s:%s\n", s->headers[i].name, s->headers[i].value);
    mc_buf_putc(&b, '\n');
    if (req->body)
        mc_buf_append(&b, req->body, req->body_len);
    return mc_buf_steal(&b);
}

void
aws_sigv4_amz_date(long long epoch_s, char buf[17])
{
    time_t t = (time_t)epoch_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 17, "%Y%m%dT%H%M%SZ", &tm);
}
