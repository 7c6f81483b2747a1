/* The EC2 client against a scripted HTTP peer on loopback: retries of throttling, 5xx and
 * refused connections within a deadline, AWS errors with code, message and request ID, and a
 * signature that the peer recomputes from what it received. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include "ec2-client.h"
#include "sigv4.h"
#include "strbuf.h"
#include "tap.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

#define SECRET  "peerSECRETpeerSECRETpeerSECRET0000000001"
#define MAX_REQ 64

struct scripted {
    int status;
    const char *body;
};

struct peer {
    int fd;
    int port;
    pthread_t thread;
    const struct scripted *script;
    size_t n_script;
    size_t served;
    char *requests[MAX_REQ];
    int held[MAX_REQ]; /* connections left unanswered (status 0 in the script) */
    size_t n_held;
};

static char *
read_request(int fd)
{
    struct mc_buf b = MC_BUF_INIT;
    char chunk[4096];
    size_t want = 0;
    for (;;) {
        ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
        if (n <= 0)
            break;
        mc_buf_append(&b, chunk, (size_t)n);
        char *end = strstr(b.data, "\r\n\r\n");
        if (!end)
            continue;
        if (!want) {
            const char *cl = strcasestr(b.data, "\r\nContent-Length:");
            int64_t len = 0;
            _cleanup_free_ char *num = cl ? xstrndup(cl + 17, strcspn(cl + 17, "\r")) : NULL;
            if (num && mc_parse_int64(num + strspn(num, " "), &len) < 0)
                len = 0;
            want = (size_t)(end + 4 - b.data) + (size_t)len;
        }
        if (b.len >= want)
            break;
    }
    return mc_buf_steal(&b);
}

static void *
serve(void *arg)
{
    struct peer *p = arg;
    for (;;) {
        int c = accept4(p->fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            return NULL;
        char *req = read_request(c);
        const struct scripted *s =
                &p->script[p->served < p->n_script ? p->served : p->n_script - 1];
        if (p->served < MAX_REQ)
            p->requests[p->served] = req;
        else
            free(req);
        p->served++;
        if (s->status == 0 && p->n_held < MAX_REQ) {
            p->held[p->n_held++] = c;
            continue;
        }
        _cleanup_free_ char *resp = xasprintf("HTTP/1.1 %d Scripted\r\nContent-Type: text/xml\r\n"
                                              "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                              s->status, strlen(s->body), s->body);
        ssize_t w = send(c, resp, strlen(resp), MSG_NOSIGNAL);
        (void)w;
        close(c);
    }
}

static void
peer_start(struct peer *p, const struct scripted *script, size_t n)
{
    memset(p, 0, sizeof(*p));
    p->script = script;
    p->n_script = n;
    p->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    if (p->fd < 0 || bind(p->fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(p->fd, 16) < 0 ||
        getsockname(p->fd, (struct sockaddr *)&a, &len) < 0)
        tap_bail("cannot listen on loopback");
    p->port = ntohs(a.sin_port);
    pthread_create(&p->thread, NULL, serve, p);
}

static void
peer_stop(struct peer *p)
{
    shutdown(p->fd, SHUT_RDWR);
    pthread_join(p->thread, NULL);
    close(p->fd);
    for (size_t i = 0; i < p->n_held; i++)
        close(p->held[i]);
    for (size_t i = 0; i < MAX_REQ && i < p->served; i++)
        free(p->requests[i]);
}

/* A free loopback port: bound, then closed, so that connecting is refused. */
static int
closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static void
client_for(struct aws_ec2 *c, int port, const char *token)
{
    struct aws_config cfg = {
        .creds = { xstrdup("AKIDPEER"), xstrdup(SECRET), xstrdup_or_null(token),
                   xstrdup("test credentials") },
        .region = xstrdup("eu-west-1"),
        .endpoint = xasprintf("http://127.0.0.1:%d", port),
    };
    if (aws_ec2_init(c, &cfg, NULL) < 0)
        tap_bail("client init");
    aws_config_clear(&cfg);
    c->retry = (struct aws_retry_policy){ .base_ms = 2, .cap_ms = 20, .budget_ms = 5000 };
}

/* The value of a header in a raw request, newly allocated, or NULL. */
static char *
header_of(const char *req, const char *name)
{
    _cleanup_free_ char *needle = xasprintf("\r\n%s:", name);
    const char *h = strcasestr(req, needle);
    if (!h)
        return NULL;
    h += strlen(needle);
    h += strspn(h, " ");
    return xstrndup(h, strcspn(h, "\r"));
}

/* Recomputes the signature of a received request as the service would. */
static bool
signature_verifies(const char *req, const char *token)
{
    _cleanup_free_ char *date = header_of(req, "X-Amz-Date");
    _cleanup_free_ char *auth = header_of(req, "Authorization");
    _cleanup_free_ char *host = header_of(req, "Host");
    _cleanup_free_ char *ctype = header_of(req, "Content-Type");
    _cleanup_free_ char *tok = header_of(req, "X-Amz-Security-Token");
    const char *body = strstr(req, "\r\n\r\n");
    if (!date || !auth || !host || !ctype || !body || !startswith(req, "POST / HTTP/1.1\r\n"))
        return false;
    if (!streq_ptr(tok, token))
        return false;
    body += 4;
    const struct aws_header hs[] = { { "Content-Type", ctype }, { "Host", host } };
    const struct aws_sigv4_request r = { .method = "POST",
                                         .path = "/",
                                         .headers = hs,
                                         .n_headers = 2,
                                         .body = body,
                                         .body_len = strlen(body) };
    const struct aws_sigv4_params p = { .access_key_id = "AKIDPEER",
                                        .secret_access_key = SECRET,
                                        .session_token = token,
                                        .region = "eu-west-1",
                                        .service = "ec2",
                                        .amz_date = date,
                                        .normalize_path = true };
    struct aws_sigv4_signed s;
    aws_sigv4_sign(&r, &p, AWS_SIGV4_HEADER, &s);
    _cleanup_free_ char *want = xasprintf("Signature=%s", s.signature);
    aws_sigv4_signed_clear(&s);
    return strstr(auth, want) != NULL && strstr(auth, "Credential=AKIDPEER/") &&
           strstr(auth, "/eu-west-1/ec2/aws4_request");
}

static const char vpcs_ok[] = "<DescribeVpcsResponse><vpcSet/></DescribeVpcsResponse>";
static const char throttled[] =
        "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit "
        "exceeded.</Message></Error></Errors><RequestID>req-1</RequestID></Response>";
static const char invalid[] =
        "<Response><Errors><Error><Code>InvalidParameterValue</Code><Message>Value (x) for "
        "parameter y is invalid</Message></Error></Errors><RequestID>req-7</RequestID></Response>";
static const char auth_failure[] =
        "<ErrorResponse><Errors><Error><Code>AuthFailure</Code><Message>AWS was not able to "
        "validate the provided access credentials</Message></Error></Errors></ErrorResponse>";
static const char unavailable[] =
        "<Response><Errors><Error><Code>Unavailable</Code><Message>The server is "
        "overloaded</Message></Error></Errors><RequestID>req-9</RequestID></Response>";
static const char not_found[] =
        "<Response><Errors><Error><Code>InvalidKeyPair.NotFound</Code><Message>The key pair "
        "'k' does not exist</Message></Error></Errors><RequestID>req-3</RequestID></Response>";

static void
test_retry_then_success(void)
{
    static const struct scripted script[] = {
        { 503, "<html>Service Unavailable</html>" },
        { 400, throttled },
        { 200, vpcs_ok },
    };
    struct peer p;
    peer_start(&p, script, ELEMENTSOF(script));
    struct aws_ec2 c;
    client_for(&c, p.port, NULL);
    struct aws_params params = { 0 };
    aws_params_filter(&params, "isDefault", "true");
    _cleanup_free_ char *body = NULL;
    struct mc_error *err = NULL;
    int r = aws_ec2_call(&c, "DescribeVpcs", &params, &body, NULL, &err);
    ok(r == 0 && streq(body, vpcs_ok), "a 503 and a throttle, then success: %s",
       err ? err->message : "ok");
    is_int(c.attempts, 3, "three attempts");
    is_int(p.served, 3, "the peer saw three requests");
    bool all = p.served == 3;
    for (size_t i = 0; i < p.served && i < MAX_REQ; i++)
        all = all && signature_verifies(p.requests[i], NULL);
    ok(all, "each attempt is signed afresh and the peer's recomputed signature matches");
    ok(p.served > 0 && strstr(p.requests[0], "\r\n\r\nAction=DescribeVpcs&Version=2016-11-15&"
                                             "Filter.1.Name=isDefault&Filter.1.Value.1=true"),
       "the form body");
    ok(p.served > 0 && !strcasestr(p.requests[0], "Expect:"), "no Expect: 100-continue");
    aws_params_clear(&params);
    aws_ec2_clear(&c);
    mc_error_free(err);
    peer_stop(&p);
}

static void
expect_failure(const struct scripted *script, size_t n, const char *token, enum mc_error_code code,
               const char *message, unsigned attempts, const char *what)
{
    struct peer p;
    peer_start(&p, script, n);
    struct aws_ec2 c;
    client_for(&c, p.port, token);
    _cleanup_free_ char *body = NULL;
    struct mc_error *err = NULL;
    int r = aws_ec2_call(&c, "DescribeVpcs", NULL, &body, NULL, &err);
    ok(r < 0 && err && err->code == code && strstr(err->message, message), "%s: %s", what,
       err ? err->message : "(no error)");
    ok(!err || !strstr(err->message, SECRET), "%s: no secret in the message", what);
    is_int(c.attempts, attempts, "%s: attempts", what);
    ok(p.served > 0 && signature_verifies(p.requests[0], token), "%s: signed correctly", what);
    aws_ec2_clear(&c);
    mc_error_free(err);
    peer_stop(&p);
}

static void
test_errors(void)
{
    static const struct scripted inval[] = { { 400, invalid } };
    expect_failure(inval, 1, NULL, MC_ERR_REMOTE,
                   "DescribeVpcs: 400 InvalidParameterValue: Value (x) for parameter y is invalid "
                   "(request ID req-7)",
                   1, "a client error is not retried");
    static const struct scripted auth[] = { { 401, auth_failure } };
    expect_failure(auth, 1, "sessiontok", MC_ERR_AUTH,
                   "DescribeVpcs: 401 AuthFailure: AWS was not able to validate the provided "
                   "access credentials; the credentials came from test credentials",
                   1, "an authentication failure names the credential source (session token sent)");
    static const struct scripted nf[] = { { 400, not_found } };
    expect_failure(nf, 1, NULL, MC_ERR_NOT_FOUND, "400 InvalidKeyPair.NotFound", 1,
                   "*.NotFound maps to not-found");
}

static void
test_deadline(void)
{
    static const struct scripted busy[] = { { 503, unavailable } };
    struct peer p;
    peer_start(&p, busy, 1);
    struct aws_ec2 c;
    client_for(&c, p.port, NULL);
    c.retry = (struct aws_retry_policy){ .base_ms = 5, .cap_ms = 40, .budget_ms = 1000 };
    _cleanup_free_ char *body = NULL;
    struct mc_error *err = NULL;
    int64_t t0 = mc_now_ms();
    int r = aws_ec2_call(&c, "DescribeVpcs", NULL, &body, NULL, &err);
    int64_t took = mc_now_ms() - t0;
    ok(r < 0 && err && err->code == MC_ERR_TIMEOUT &&
               strstr(err->message, "DescribeVpcs: 503 Unavailable: The server is overloaded "
                                    "(request ID req-9) (gave up after"),
       "always 503: gives up at the deadline with the last answer: %s", err ? err->message : "");
    ok(c.attempts >= 3, "retried several times (%u)", c.attempts);
    ok(took < 3000, "within the budget (%lld ms)", (long long)took);
    mc_error_free(err);
    err = NULL;

    /* The context's deadline is shorter than the retry budget: it wins. */
    c.retry.budget_ms = 60000;
    c.deadline_ms = mc_now_ms() + 150;
    t0 = mc_now_ms();
    free(body);
    body = NULL;
    r = aws_ec2_call(&c, "DescribeVpcs", NULL, &body, NULL, &err);
    took = mc_now_ms() - t0;
    ok(r < 0 && took < 1500, "the caller's deadline bounds the retries (%lld ms)", (long long)took);
    aws_ec2_clear(&c);
    mc_error_free(err);
    peer_stop(&p);

    /* A peer that accepts and never answers: each attempt is bounded by what is left. */
    static const struct scripted silent[] = { { 0, "" } };
    peer_start(&p, silent, 1);
    client_for(&c, p.port, NULL);
    c.retry = (struct aws_retry_policy){ .base_ms = 5, .cap_ms = 20, .budget_ms = 800 };
    err = NULL;
    t0 = mc_now_ms();
    r = aws_ec2_call(&c, "DescribeVpcs", NULL, &body, NULL, &err);
    took = mc_now_ms() - t0;
    ok(r < 0 && err && err->code == MC_ERR_TIMEOUT && strstr(err->message, "timed out") &&
               took < 2500,
       "a silent peer: the attempt times out at the deadline (%lld ms): %s", (long long)took,
       err ? err->message : "");
    aws_ec2_clear(&c);
    mc_error_free(err);
    peer_stop(&p);

    client_for(&c, closed_port(), NULL);
    c.retry = (struct aws_retry_policy){ .base_ms = 5, .cap_ms = 20, .budget_ms = 1000 };
    err = NULL;
    r = aws_ec2_call(&c, "DescribeVpcs", NULL, &body, NULL, &err);
    ok(r < 0 && err && err->code == MC_ERR_TIMEOUT && strstr(err->message, "cannot reach") &&
               c.attempts >= 2,
       "a refused connection is retried, then reported: %s (%u attempts)", err ? err->message : "",
       c.attempts);
    aws_ec2_clear(&c);
    mc_error_free(err);
}

static void
test_policy(void)
{
    ok(aws_retryable(500, NULL) && aws_retryable(503, "Unavailable") && aws_retryable(429, NULL),
       "5xx and 429 are retried");
    ok(aws_retryable(400, "RequestLimitExceeded") && aws_retryable(400, "Throttling") &&
               aws_retryable(400, "ThrottlingException"),
       "throttling codes are retried whatever the status");
    ok(!aws_retryable(400, "InvalidParameterValue") && !aws_retryable(401, "AuthFailure") &&
               !aws_retryable(403, "UnauthorizedOperation") && !aws_retryable(400, NULL),
       "client errors are not");
    struct aws_retry_policy pol = { .base_ms = 100, .cap_ms = 1000, .budget_ms = 0 };
    is_int(aws_backoff_ms(&pol, 1, UINT32_MAX - (UINT32_MAX % 101)), 0, "jitter can be zero");
    bool bounded = true;
    for (int attempt = 1; attempt <= 10; attempt++) {
        int64_t ceiling = 100LL << (attempt - 1);
        if (ceiling > 1000)
            ceiling = 1000;
        for (uint32_t r = 0; r < 5000; r += 7)
            bounded = bounded && aws_backoff_ms(&pol, attempt, r * 104729u) <= ceiling;
        bounded = bounded && aws_backoff_ms(&pol, attempt, (uint32_t)ceiling) == ceiling;
    }
    ok(bounded, "waits stay within min(cap, base * 2^(attempt-1)) and reach it");
    is_int(aws_backoff_ms(&pol, 3, 399), 399, "the third retry may wait up to 400 ms");
    is_int(aws_backoff_ms(&pol, 30, 999), 999, "late retries are capped, no overflow");

    struct aws_params p = { 0 };
    aws_params_add(&p, "GroupDescription", "machine: web1 / a=b");
    aws_params_filter(&p, "tag:machine-id", "x y");
    _cleanup_free_ char *e = aws_params_encode("CreateSecurityGroup", &p);
    is_str(e,
           "Action=CreateSecurityGroup&Version=2016-11-15&GroupDescription=machine%3A+web1+%2F+a%"
           "3Db"
           "&Filter.1.Name=tag%3Amachine-id&Filter.1.Value.1=x+y",
           "parameters are form-encoded in order");
    aws_params_clear(&p);
}

int
main(void)
{
    test_policy();
    test_retry_then_success();
    test_errors();
    test_deadline();
    return tap_done();
}
