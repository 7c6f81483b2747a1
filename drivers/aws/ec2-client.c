#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "crypto.h"
#include "ec2-client.h"
#include "log.h"
#include "sigv4.h"
#include "strbuf.h"
#include "timeutil.h"
#include "url.h"
#include "util.h"
#include "xalloc.h"

#define SERVICE            "ec2"
#define CONTENT_TYPE       "application/x-www-form-urlencoded; charset=utf-8"
#define ATTEMPT_TIMEOUT_MS 60000
#define CONNECT_TIMEOUT_MS 10000
/* A retry needs at least this long before the deadline: a shorter attempt could only end in a
 * transport timeout that hides the service's last real answer. */
#define MIN_ATTEMPT_MS 250

MC_DEFINE_CLEANUP(CURL, curl_easy_cleanup)

/* ---- parameters ---- */

void
aws_params_add(struct aws_params *p, const char *name, const char *value)
{
    p->names = xreallocarray(p->names, p->n + 1, sizeof(char *));
    p->values = xreallocarray(p->values, p->n + 1, sizeof(char *));
    p->names[p->n] = xstrdup(name);
    p->values[p->n] = xstrdup(value);
    p->n++;
}

void
aws_params_addf(struct aws_params *p, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *v = xvasprintf(fmt, ap);
    va_end(ap);
    aws_params_add(p, name, v);
}

int
aws_params_next(const struct aws_params *p, const char *prefix, const char *suffix)
{
    int n = 1;
    for (size_t i = 0; i < p->n; i++)
        if (startswith(p->names[i], prefix) && endswith(p->names[i], suffix))
            n++;
    return n;
}

void
aws_params_filter_values(struct aws_params *p, const char *name, const char *const *values)
{
    int n = aws_params_next(p, "Filter.", ".Name");
    _cleanup_free_ char *k = xasprintf("Filter.%d.Name", n);
    aws_params_add(p, k, name);
    for (size_t i = 0; values[i]; i++) {
        _cleanup_free_ char *v = xasprintf("Filter.%d.Value.%zu", n, i + 1);
        aws_params_add(p, v, values[i]);
    }
}

void
aws_params_filter(struct aws_params *p, const char *name, const char *value)
{
    aws_params_filter_values(p, name, (const char *const[]){ value, NULL });
}

void
aws_params_clear(struct aws_params *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->names[i]);
        free(p->values[i]);
    }
    free(p->names);
    free(p->values);
    memset(p, 0, sizeof(*p));
}

/* Form encoding: unreserved characters kept, space as '+', every other byte as %XX. EC2 reads
 * '+' and %20 alike; moto recomputes signatures over a body it re-encodes this way (Python's
 * urlencode), so this is the one encoding both accept. */
static void
put_form(struct mc_buf *b, const char *s)
{
    for (const char *p = s; *p;) {
        size_t n = strcspn(p, " ");
        _cleanup_free_ char *e = aws_uri_encode(p, n, false);
        mc_buf_puts(b, e);
        p += n;
        if (*p == ' ') {
            mc_buf_putc(b, '+');
            p++;
        }
    }
}

static void
put_pair(struct mc_buf *b, const char *name, const char *value)
{
    if (b->len)
        mc_buf_putc(b, '&');
    put_form(b, name);
    mc_buf_putc(b, '=');
    put_form(b, value);
}

char *
aws_params_encode(const char *action, const struct aws_params *p)
{
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    put_pair(&b, "Action", action);
    put_pair(&b, "Version", AWS_EC2_API_VERSION);
    for (size_t i = 0; p && i < p->n; i++)
        put_pair(&b, p->names[i], p->values[i]);
    return mc_buf_steal(&b);
}

/* ---- retry policy ---- */

static const char *const retry_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "BandwidthLimitExceeded",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "Unavailable",
    "RequestTimeout",
    "RequestTimeoutException",
    NULL,
};

bool
aws_retryable(long http_status, const char *code)
{
    if (http_status >= 500 || http_status == 429)
        return true;
    for (size_t i = 0; code && retry_codes[i]; i++)
        if (streq(code, retry_codes[i]))
            return true;
    return false;
}

int64_t
aws_backoff_ms(const struct aws_retry_policy *p, int attempt, uint32_t random)
{
    int64_t ceiling = p->base_ms;
    for (int i = 1; i < attempt && ceiling < p->cap_ms; i++)
        ceiling *= 2;
    if (ceiling > p->cap_ms)
        ceiling = p->cap_ms;
    return ceiling > 0 ? (int64_t)(random % (uint64_t)(ceiling + 1)) : 0;
}

/* ---- the client ---- */

static int
split_endpoint(struct aws_ec2 *c, struct mc_error **err)
{
    struct mc_url u = { 0 };
    if (mc_url_parse(c->endpoint, 0, &u, err) < 0)
        return mc_error_prefix(err, "AWS endpoint '%s': ", c->endpoint);
    bool default_port = u.port == 0 || (streq(u.scheme, "https") && u.port == 443) ||
                        (streq(u.scheme, "http") && u.port == 80);
    int port = u.port;
    if (default_port)
        u.port = 0;
    c->host = u.port                ? mc_url_hostport(&u)
              : strchr(u.host, ':') ? xasprintf("[%s]", u.host)
                                    : xstrdup(u.host);
    u.port = port;
    c->path = xstrdup(isempty(u.path) ? "/" : u.path);
    c->url = isempty(u.path) ? xasprintf("%s/", c->endpoint) : xstrdup(c->endpoint);
    mc_url_clear(&u);
    return 0;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

/* libcurl's global state, once per process: `ls` asks several machines from threads. */
static void
curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int
aws_ec2_init(struct aws_ec2 *c, struct aws_config *cfg, struct mc_error **err)
{
    pthread_once(&curl_once, curl_init_once);
    memset(c, 0, sizeof(*c));
    c->endpoint = xstrdup(cfg->endpoint);
    c->region = xstrdup(cfg->region);
    c->retry = AWS_RETRY_DEFAULT;
    if (split_endpoint(c, err) < 0) {
        aws_ec2_clear(c);
        return -1;
    }
    c->creds = cfg->creds;
    memset(&cfg->creds, 0, sizeof(cfg->creds));
    c->curl = curl_easy_init();
    if (!c->curl) {
        aws_ec2_clear(c);
        return mc_error_set(err, MC_ERR_FAILED, "cannot start libcurl");
    }
    return 0;
}

void
aws_ec2_clear(struct aws_ec2 *c)
{
    free(c->endpoint);
    free(c->url);
    free(c->host);
    free(c->path);
    free(c->region);
    free(c->last_code);
    aws_credentials_clear(&c->creds);
    if (c->curl)
        curl_easy_cleanup(c->curl);
    memset(c, 0, sizeof(*c));
}

bool
aws_ec2_code_is(const struct aws_ec2 *c, const char *code)
{
    return c->last_code && streq(c->last_code, code);
}

/* One HTTP exchange's outcome. */
struct answer {
    long status;
    CURLcode curl_code;
    char curl_error[CURL_ERROR_SIZE];
    struct mc_buf body;
    bool too_big;
};

static size_t
on_body(char *data, size_t size, size_t n, void *userdata)
{
    struct answer *a = userdata;
    if (a->body.len + size * n > AWS_XML_MAX) {
        a->too_big = true;
        return 0;
    }
    mc_buf_append(&a->body, data, size * n);
    return size * n;
}

static void
slist_wipe_free(struct curl_slist *l)
{
    for (struct curl_slist *i = l; i; i = i->next)
        explicit_bzero(i->data, strlen(i->data));
    curl_slist_free_all(l);
}

/* Signs the body for now and returns the headers to send. */
static struct curl_slist *
signed_headers(const struct aws_ec2 *c, const char *body)
{
    char amz_date[17];
    aws_sigv4_amz_date((long long)time(NULL), amz_date);
    const struct aws_header hs[] = { { "Content-Type", CONTENT_TYPE }, { "Host", c->host } };
    const struct aws_sigv4_request req = {
        .method = "POST",
        .path = c->path,
        .headers = hs,
        .n_headers = ELEMENTSOF(hs),
        .body = body,
        .body_len = strlen(body),
    };
    const struct aws_sigv4_params p = {
        .access_key_id = c->creds.access_key_id,
        .secret_access_key = c->creds.secret_access_key,
        .session_token = c->creds.session_token,
        .region = c->region,
        .service = SERVICE,
        .amz_date = amz_date,
        .normalize_path = true,
    };
    struct aws_sigv4_signed s;
    aws_sigv4_sign(&req, &p, AWS_SIGV4_HEADER, &s);
    struct curl_slist *l = NULL;
    _cleanup_free_ char *host = xasprintf("Host: %s", c->host);
    l = curl_slist_append(l, "Content-Type: " CONTENT_TYPE);
    l = curl_slist_append(l, host);
    l = curl_slist_append(l, "Expect:");
    for (size_t i = 0; i < s.n_headers; i++) {
        char *h = xasprintf("%s: %s", s.headers[i].name, s.headers[i].value);
        l = curl_slist_append(l, h);
        mc_free_secret(h, strlen(h));
    }
    aws_sigv4_signed_clear(&s);
    return l;
}

static void
exchange(struct aws_ec2 *c, const char *body, int64_t timeout_ms, struct answer *a)
{
    CURL *h = c->curl;
    struct curl_slist *headers = signed_headers(c, body);
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "machine/" MC_VERSION);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(timeout_ms < CONNECT_TIMEOUT_MS ? timeout_ms : CONNECT_TIMEOUT_MS));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, a->curl_error);
    a->curl_error[0] = '\0';
    a->curl_code = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    slist_wipe_free(headers);
}

static bool
transport_retryable(CURLcode code)
{
    return code == CURLE_COULDNT_CONNECT || code == CURLE_OPERATION_TIMEDOUT ||
           code == CURLE_SEND_ERROR || code == CURLE_RECV_ERROR || code == CURLE_GOT_NOTHING ||
           code == CURLE_PARTIAL_FILE;
}

/* The libcurl boundary: one error from a failed transfer. */
static int
error_curl(struct mc_error **err, const struct aws_ec2 *c, const char *action,
           const struct answer *a)
{
    if (a->too_big)
        return mc_error_set(err, MC_ERR_INVALID, "%s: the answer from '%s' is larger than %u bytes",
                            action, c->endpoint, AWS_XML_MAX);
    const char *why = a->curl_error[0] ? a->curl_error : curl_easy_strerror(a->curl_code);
    if (a->curl_code == CURLE_OPERATION_TIMEDOUT)
        return mc_error_set(err, MC_ERR_TIMEOUT, "%s: no answer from '%s' in time: %s", action,
                            c->endpoint, why);
    return mc_error_set(err, MC_ERR_IO, "%s: cannot reach '%s': %s", action, c->endpoint, why);
}

static const char *const auth_codes[] = {
    "AuthFailure",
    "SignatureDoesNotMatch",
    "InvalidClientTokenId",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "UnrecognizedClientException",
    "ExpiredToken",
    "RequestExpired",
    "InvalidAccessKeyId",
    NULL,
};

static enum mc_error_code
code_for(long status, const char *code)
{
    for (size_t i = 0; auth_codes[i]; i++)
        if (streq(code, auth_codes[i]))
            return MC_ERR_AUTH;
    if (status == 401)
        return MC_ERR_AUTH;
    if (status == 403)
        return MC_ERR_PERMISSION;
    if (endswith(code, ".NotFound") || endswith(code, ".Malformed.NotFound"))
        return MC_ERR_NOT_FOUND;
    if (endswith(code, ".Duplicate"))
        return MC_ERR_EXISTS;
    return MC_ERR_REMOTE;
}

/* The error for an HTTP answer that is not 200. */
static int
error_answer(struct mc_error **err, struct aws_ec2 *c, const char *action, const struct answer *a)
{
    struct aws_error_info e = { 0 };
    if (aws_xml_parse_error(a->body.data ? a->body.data : "", a->body.len, &e) < 0)
        return mc_error_set(err, a->status >= 500 ? MC_ERR_REMOTE : code_for(a->status, ""),
                            "%s: HTTP %ld from '%s' without an AWS error document", action,
                            a->status, c->endpoint);
    enum mc_error_code code = code_for(a->status, e.code);
    _cleanup_free_ char *rid =
            e.request_id ? xasprintf(" (request ID %s)", e.request_id) : xstrdup("");
    _cleanup_free_ char *who = code == MC_ERR_AUTH || code == MC_ERR_PERMISSION
                                       ? xasprintf("; the credentials came from %s",
                                                   c->creds.source ? c->creds.source : "nowhere")
                                       : xstrdup("");
    mc_error_set(err, code, "%s: %ld %s: %s%s%s", action, a->status, e.code,
                 e.message ? e.message : "(no message)", rid, who);
    aws_error_info_clear(&e);
    return -1;
}

/* Whether to try again, after waiting *ret_wait; false when the deadline forbids it. */
static bool
should_retry(struct aws_ec2 *c, const struct answer *a, int attempt, int64_t deadline,
             int64_t *ret_wait)
{
    bool again = a->curl_code != CURLE_OK
                         ? transport_retryable(a->curl_code)
                         : a->status != 200 && aws_retryable(a->status, c->last_code);
    if (!again)
        return false;
    uint32_t r;
    mc_random_bytes(&r, sizeof(r));
    *ret_wait = aws_backoff_ms(&c->retry, attempt, r);
    return mc_now_ms() + *ret_wait + MIN_ATTEMPT_MS < deadline;
}

static void
note_code(struct aws_ec2 *c, const struct answer *a)
{
    free(c->last_code);
    c->last_code = NULL;
    struct aws_error_info e = { 0 };
    if (a->curl_code == CURLE_OK && a->status != 200 &&
        aws_xml_parse_error(a->body.data ? a->body.data : "", a->body.len, &e) == 0) {
        c->last_code = xstrdup(e.code);
        aws_error_info_clear(&e);
    }
}

static int64_t
call_deadline(const struct aws_ec2 *c)
{
    int64_t d = mc_now_ms() + c->retry.budget_ms;
    return c->deadline_ms > 0 && c->deadline_ms < d ? c->deadline_ms : d;
}

static int
finish(struct aws_ec2 *c, const char *action, struct answer *a, int64_t started, bool gave_up,
       char **ret_body, size_t *ret_len, struct mc_error **err)
{
    struct mc_error *e = NULL;
    if (a->curl_code != CURLE_OK)
        error_curl(&e, c, action, a);
    else if (a->status != 200)
        error_answer(&e, c, action, a);
    if (e && gave_up) {
        char *m = xasprintf("%s (gave up after %u attempt%s in %.1f s)", e->message, c->attempts,
                            c->attempts == 1 ? "" : "s", (double)(mc_now_ms() - started) / 1000.0);
        free(e->message);
        e->message = m;
        e->code = MC_ERR_TIMEOUT;
    }
    if (e)
        return mc_error_propagate(err, e);
    if (ret_len)
        *ret_len = a->body.len;
    *ret_body = a->body.data ? mc_buf_steal(&a->body) : xstrdup("");
    return 0;
}

int
aws_ec2_call(struct aws_ec2 *c, const char *action, const struct aws_params *params,
             char **ret_body, size_t *ret_len, struct mc_error **err)
{
    _cleanup_free_ char *body = aws_params_encode(action, params);
    int64_t started = mc_now_ms(), deadline = call_deadline(c);
    struct answer a = { 0 };
    bool gave_up = false;
    c->attempts = 0;
    for (int attempt = 1;; attempt++) {
        mc_buf_free(&a.body);
        a = (struct answer){ 0 };
        int64_t left = deadline - mc_now_ms();
        exchange(c, body, left < ATTEMPT_TIMEOUT_MS ? (left > 1 ? left : 1) : ATTEMPT_TIMEOUT_MS,
                 &a);
        c->attempts++;
        c->last_status = a.status;
        note_code(c, &a);
        log_debug("EC2 %s: attempt %d: HTTP %ld %s", action, attempt, a.status,
                  a.curl_code ? curl_easy_strerror(a.curl_code)
                              : (c->last_code ? c->last_code : ""));
        if (a.curl_code == CURLE_OK && a.status == 200)
            break;
        int64_t wait = 0;
        if (!should_retry(c, &a, attempt, deadline, &wait)) {
            gave_up = a.curl_code != CURLE_OK ? transport_retryable(a.curl_code)
                                              : aws_retryable(a.status, c->last_code);
            break;
        }
        mc_sleep_ms(wait);
    }
    int r = finish(c, action, &a, started, gave_up, ret_body, ret_len, err);
    mc_buf_free(&a.body);
    return r;
}

int
aws_http_get(const char *url, int64_t timeout_ms, char **ret, struct mc_error **err)
{
    pthread_once(&curl_once, curl_init_once);
    _cleanup_(curl_easy_cleanupp) CURL *h = curl_easy_init();
    if (!h)
        return mc_error_set(err, MC_ERR_FAILED, "cannot start libcurl");
    struct answer a = { 0 };
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "machine/" MC_VERSION);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, a.curl_error);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE, 4096L);
    a.curl_code = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a.status);
    if (a.curl_code != CURLE_OK || a.status != 200) {
        mc_buf_free(&a.body);
        if (a.curl_code != CURLE_OK)
            return mc_error_set(err, MC_ERR_IO, "cannot reach '%s': %s", url,
                                a.curl_error[0] ? a.curl_error : curl_easy_strerror(a.curl_code));
        return mc_error_set(err, MC_ERR_REMOTE, "'%s' answered HTTP %ld", url, a.status);
    }
    *ret = a.body.data ? mc_buf_steal(&a.body) : xstrdup("");
    return 0;
}
