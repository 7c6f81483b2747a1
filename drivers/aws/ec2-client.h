/* The EC2 Query API over libcurl: signed POST bodies, AWS errors turned into mc_errors that
 * carry Code, Message and RequestID, and throttling, 5xx answers and dropped connections
 * retried with exponential backoff and full jitter within a deadline. */
#ifndef MC_EC2_CLIENT_H
#define MC_EC2_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws-config.h"
#include "ec2-xml.h"
#include "error.h"

#define AWS_EC2_API_VERSION "2016-11-15"

/* The parameters of one call, in the order they are sent (Action and Version come first). */
struct aws_params {
    char **names;
    char **values;
    size_t n;
};
void aws_params_add(struct aws_params *p, const char *name, const char *value);
void aws_params_addf(struct aws_params *p, const char *name, const char *fmt, ...) _printf_(3, 4);
/* The next free N of the parameters named PREFIX N SUFFIX ("Filter.", ".Name"), from 1. */
int aws_params_next(const struct aws_params *p, const char *prefix, const char *suffix);
/* Adds Filter.N.Name=name and Filter.N.Value.M for each of the NULL-terminated values (N is the
 * next free filter number). */
void aws_params_filter_values(struct aws_params *p, const char *name, const char *const *values);
/* Adds Filter.N.Name=name and Filter.N.Value.1=value. */
void aws_params_filter(struct aws_params *p, const char *name, const char *value);
void aws_params_clear(struct aws_params *p);
/* "Action=A&Version=2016-11-15&name=value..." form-encoded: RFC 3986 unreserved characters
 * kept, space as '+', every other byte as %XX. */
char *aws_params_encode(const char *action, const struct aws_params *p);

struct aws_retry_policy {
    int64_t base_ms;   /* the first retry waits up to this long */
    int64_t cap_ms;    /* no single wait is longer */
    int64_t budget_ms; /* a call gives up this long after it started (within any deadline) */
};
#define AWS_RETRY_DEFAULT ((struct aws_retry_policy){ 250, 20000, 300000 })

/* True when an answer is worth retrying: HTTP 5xx or 429, or a throttling code in any status. */
bool aws_retryable(long http_status, const char *code);
/* The wait before retry number attempt (1 for the first retry): a random value in
 * [0, min(cap, base * 2^(attempt-1))], picked by random (full jitter). */
int64_t aws_backoff_ms(const struct aws_retry_policy *p, int attempt, uint32_t random);

struct aws_ec2 {
    char *endpoint; /* "https://ec2.us-east-1.amazonaws.com" */
    char *url;      /* endpoint with its path ("/" when none) */
    char *host;     /* the Host header, as signed */
    char *path;     /* the request path, as signed */
    char *region;
    struct aws_credentials creds;
    struct aws_retry_policy retry;
    int64_t deadline_ms; /* mc_now_ms() time after which no call is retried; 0: none */
    void *curl;          /* CURL *, reused between calls */
    /* The last call: its HTTP status and, for an AWS error, its code (else NULL). */
    long last_status;
    char *last_code;
    unsigned attempts; /* attempts made by the last call */
};

/* Prepares a client from resolved settings; takes over cfg->creds (cfg's copy is emptied). */
int aws_ec2_init(struct aws_ec2 *c, struct aws_config *cfg, struct mc_error **err);
void aws_ec2_clear(struct aws_ec2 *c);

/* Calls action. On success returns 0 and the answer's XML in *ret_body (NUL-terminated, owned by
 * the caller). An AWS error becomes an error "ACTION: STATUS CODE: MESSAGE (request ID ID)",
 * with the credential source added for authentication failures, and c->last_code set so that
 * callers can branch on it (aws_ec2_code_is()). Codes: MC_ERR_AUTH (401, AuthFailure, ...),
 * MC_ERR_PERMISSION (403), MC_ERR_NOT_FOUND (*.NotFound), MC_ERR_EXISTS (*.Duplicate),
 * MC_ERR_TIMEOUT (retries ran out of time), MC_ERR_IO (transport), else MC_ERR_REMOTE. */
int aws_ec2_call(struct aws_ec2 *c, const char *action, const struct aws_params *params,
                 char **ret_body, size_t *ret_len, struct mc_error **err);

/* True when the last call failed with this AWS error code. */
bool aws_ec2_code_is(const struct aws_ec2 *c, const char *code);

/* GET url with libcurl (https only, at most 4 KiB, within timeout_ms): the body in *ret. For
 * small services such as checkip.amazonaws.com. */
int aws_http_get(const char *url, int64_t timeout_ms, char **ret, struct mc_error **err);

#endif
