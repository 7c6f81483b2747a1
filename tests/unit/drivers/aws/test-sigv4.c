/* SigV4 against the official vectors (../shared/testdata/aws-sigv4/v4): every intermediate
 * file of every case, header-signed and query-signed, byte for byte. */
#include <dirent.h>
#include <string.h>

#include "fs.h"
#include "json.h"
#include "sigv4.h"
#include "strv.h"
#include "tap.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

#define MAX_HEADERS 16

/* A request.txt split into its parts; the strings point into text. */
struct vector_request {
    char *text;
    struct aws_sigv4_request req;
    struct aws_header headers[MAX_HEADERS];
    char *path; /* owned: the target up to '?' */
};

static void
vector_request_clear(struct vector_request *v)
{
    free(v->text);
    free(v->path);
}

/* "METHOD TARGET HTTP/1.1\nName:value\n...\n\nbody": the target may hold spaces. */
static int
parse_request(char *text, struct vector_request *v)
{
    memset(v, 0, sizeof(*v));
    v->text = text;
    char *eol = strchr(text, '\n');
    if (!eol)
        return -1;
    *eol = '\0';
    char *sp = strchr(text, ' ');
    char *proto = strstr(text, " HTTP/1.1");
    if (!sp || !proto || proto < sp)
        return -1;
    *sp = '\0';
    *proto = '\0';
    v->req.method = text;
    char *target = sp + 1;
    char *q = strchr(target, '?');
    v->path = q ? xstrndup(target, (size_t)(q - target)) : xstrdup(target);
    v->req.path = v->path;
    v->req.query = q ? q + 1 : NULL;
    char *p = eol + 1;
    while (*p && *p != '\n') {
        char *end = strchr(p, '\n');
        if (end)
            *end = '\0';
        char *colon = strchr(p, ':');
        if (!colon || v->req.n_headers == MAX_HEADERS)
            return -1;
        *colon = '\0';
        v->headers[v->req.n_headers++] = (struct aws_header){ p, colon + 1 };
        if (!end)
            return 0;
        p = end + 1;
    }
    v->req.headers = v->headers;
    if (*p == '\n') {
        v->req.body = p + 1;
        v->req.body_len = strlen(p + 1);
    }
    return 0;
}

static char *
slurp(const char *dir, const char *name)
{
    _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
    char *data = NULL;
    if (mc_read_file(path, 1 << 20, &data, NULL, NULL) < 0)
        return NULL;
    return data;
}

static void
check_mode(const char *dir, const char *cname, const struct aws_sigv4_request *req,
           const struct aws_sigv4_params *p, enum aws_sigv4_mode mode)
{
    const char *prefix = mode == AWS_SIGV4_HEADER ? "header" : "query";
    _cleanup_free_ char *fc = xasprintf("%s-canonical-request.txt", prefix);
    _cleanup_free_ char *fs = xasprintf("%s-string-to-sign.txt", prefix);
    _cleanup_free_ char *fg = xasprintf("%s-signature.txt", prefix);
    _cleanup_free_ char *fr = xasprintf("%s-signed-request.txt", prefix);
    _cleanup_free_ char *want_creq = slurp(dir, fc), *want_sts = slurp(dir, fs);
    _cleanup_free_ char *want_sig = slurp(dir, fg), *want_req = slurp(dir, fr);

    _cleanup_free_ char *creq = aws_sigv4_canonical_request(req, p, mode);
    is_str(creq, want_creq, "%s: %s canonical request", cname, prefix);
    _cleanup_free_ char *sts = aws_sigv4_string_to_sign(want_creq ? want_creq : creq, p);
    is_str(sts, want_sts, "%s: %s string to sign", cname, prefix);
    char sig[MC_SHA256_HEX_LEN + 1];
    aws_sigv4_signature(want_sts ? want_sts : sts, p, sig);
    is_str(sig, want_sig, "%s: %s signature", cname, prefix);

    struct aws_sigv4_signed s;
    aws_sigv4_sign(req, p, mode, &s);
    _cleanup_free_ char *text = aws_sigv4_signed_request_text(req, &s);
    is_str(text, want_req, "%s: %s signed request", cname, prefix);
    aws_sigv4_signed_clear(&s);
}

static void
check_case(const char *root, const char *cname)
{
    _cleanup_free_ char *dir = xasprintf("%s/%s", root, cname);
    _cleanup_free_ char *ctx_path = xasprintf("%s/context.json", dir);
    struct mc_error *err = NULL;
    _cleanup_json_ json_t *ctx = mc_json_load_file(ctx_path, 1 << 16, &err);
    char *text = slurp(dir, "request.txt");
    struct vector_request v;
    if (!ctx || !text || parse_request(text, &v) < 0) {
        ok(false, "%s: context.json and request.txt read", cname);
        free(text);
        mc_error_free(err);
        return;
    }
    json_t *creds = json_object_get(ctx, "credentials");
    int64_t ns = 0;
    const char *ts = mc_json_str(ctx, "timestamp");
    ok(ts && mc_parse_rfc3339(ts, &ns) == 0, "%s: timestamp parses", cname);
    char amz_date[17];
    aws_sigv4_amz_date(ns / 1000000000, amz_date);
    struct aws_sigv4_params p = {
        .access_key_id = mc_json_str(creds, "access_key_id"),
        .secret_access_key = mc_json_str(creds, "secret_access_key"),
        .session_token = mc_json_str(creds, "token"),
        .region = mc_json_str(ctx, "region"),
        .service = mc_json_str(ctx, "service"),
        .amz_date = amz_date,
        .normalize_path = mc_json_bool(ctx, "normalize", true),
        .sign_body = mc_json_bool(ctx, "sign_body", false),
        .expires = (int)mc_json_int(ctx, "expiration_in_seconds", 0),
    };
    /* No vector here omits its session token from the signature; fail loudly if one appears. */
    ok(!mc_json_bool(ctx, "omit_session_token", false), "%s: signs its session token", cname);
    check_mode(dir, cname, &v.req, &p, AWS_SIGV4_HEADER);
    check_mode(dir, cname, &v.req, &p, AWS_SIGV4_QUERY);
    vector_request_clear(&v);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_helpers(void)
{
    _cleanup_free_ char *e = aws_uri_encode("a b/c~é+=", strlen("a b/c~é+="), false);
    is_str(e, "a%20b%2Fc~%C3%A9%2B%3D", "uri encode: space, slash, utf-8, reserved");
    _cleanup_free_ char *k = aws_uri_encode("/a b/", 5, true);
    is_str(k, "/a%20b/", "uri encode keeps slashes in paths");
    char d[17];
    aws_sigv4_amz_date(1440938160, d);
    is_str(d, "20150830T123600Z", "amz date in UTC");
}

int
main(void)
{
    test_helpers();
    _cleanup_free_ char *root = xasprintf("%s/../shared/testdata/aws-sigv4/v4", tap_srcdir());
    _cleanup_closedir_ DIR *d = opendir(root);
    if (!d)
        tap_skip_all("the official SigV4 vectors are not at '%s'", root);
    _cleanup_strv_ char **cases = strv_new();
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            strv_add(&cases, de->d_name);
    qsort(cases, strv_length(cases), sizeof(char *), cmp_str);
    ok(strv_length(cases) >= 30, "found %zu vector cases", strv_length(cases));
    STRV_FOREACH (c, cases)
        check_case(root, *c);
    return tap_done();
}
