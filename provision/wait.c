#include <string.h>

#include <curl/curl.h>

#include "log.h"
#include "strbuf.h"
#include "timeutil.h"
#include "util.h"
#include "wait.h"
#include "xalloc.h"

MC_DEFINE_CLEANUP(CURL, curl_easy_cleanup)

#define SSH_ATTEMPT_MAX_MS 15000
/* The least time worth a last attempt: less, and it would only time out and hide the cause
 * the attempt before it found. */
#define LAST_ATTEMPT_MIN_MS 250

/* The pause before the next attempt (the backoff *delay, doubled up to max for the one after,
 * cut so that the attempt still has LAST_ATTEMPT_MIN_MS before the deadline); -1 when no
 * attempt fits any more. */
static int64_t
next_pause(int64_t *delay, int64_t max, int64_t deadline_ms)
{
    int64_t room = deadline_ms - mc_now_ms() - LAST_ATTEMPT_MIN_MS;
    if (room < 0)
        return -1;
    int64_t pause = *delay < room ? *delay : room;
    *delay = *delay * 2 > max ? max : *delay * 2;
    return pause;
}

static bool
permanent(const struct mc_error *e)
{
    return mc_error_is(e, MC_ERR_CONFLICT) || mc_error_is(e, MC_ERR_UNSUPPORTED) ||
           mc_error_is(e, MC_ERR_INVALID);
}

/* What a failed wait reports: the last attempt's error, unless that attempt was cut short by
 * the deadline and only timed out right after an attempt the host answered with a cause (a
 * refused key, a refused connection): that cause is the real one. Takes both errors. */
static struct mc_error *
final_cause(struct mc_error *last, struct mc_error *prev, bool cut_short)
{
    if (cut_short && prev && mc_error_is(last, MC_ERR_TIMEOUT) &&
        !mc_error_is(prev, MC_ERR_TIMEOUT)) {
        mc_error_free(last);
        return prev;
    }
    mc_error_free(prev);
    return last;
}

int
prov_wait_ssh(const struct prov_ssh_config *c, int64_t deadline_ms, struct prov_ssh **ret,
              int *ret_attempts, struct mc_error **err)
{
    int64_t start = mc_now_ms(), delay = 50;
    int attempts = 0;
    struct mc_error *prev = NULL;
    for (;;) {
        struct mc_error *e = NULL;
        attempts++;
        /* One attempt never takes the whole budget: a host whose packets are dropped while it
         * boots (a cloud firewall not in place yet) answers a later attempt. */
        int64_t attempt_deadline = mc_now_ms() + SSH_ATTEMPT_MAX_MS;
        bool cut_short = attempt_deadline > deadline_ms;
        if (cut_short)
            attempt_deadline = deadline_ms;
        if (prov_ssh_connect(c, attempt_deadline, ret, &e) == 0) {
            mc_error_free(prev);
            if (ret_attempts)
                *ret_attempts = attempts;
            return 0;
        }
        int64_t pause = permanent(e) ? -1 : next_pause(&delay, 2000, deadline_ms);
        if (pause < 0) {
            if (permanent(e)) {
                mc_error_free(prev);
                return mc_error_propagate(err, e);
            }
            e = final_cause(e, prev, cut_short);
            mc_error_prefix(&e, "SSH did not become usable in %.1f s (%d attempt%s): ",
                            (double)(mc_now_ms() - start) / 1000.0, attempts,
                            attempts == 1 ? "" : "s");
            return mc_error_propagate(err, e);
        }
        log_debug("SSH attempt %d failed, retrying in %lld ms: %s", attempts, (long long)pause,
                  e->message);
        mc_error_free(prev);
        prev = e;
        mc_sleep_ms(pause);
    }
}

static size_t
collect(char *p, size_t size, size_t n, void *userdata)
{
    mc_buf_append(userdata, p, size * n);
    return size * n;
}

int
prov_engine_ping(const char *host, int port, const struct prov_tls_files *tls, int64_t deadline_ms,
                 struct mc_error **err)
{
    static bool inited;
    if (!inited) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        inited = true;
    }
    _cleanup_(curl_easy_cleanupp) CURL *curl = curl_easy_init();
    if (!curl)
        return mc_error_set(err, MC_ERR_FAILED, "libcurl cannot make a handle");
    _cleanup_free_ char *url = strchr(host, ':') ? xasprintf("https://[%s]:%d/_ping", host, port)
                                                 : xasprintf("https://%s:%d/_ping", host, port);
    _cleanup_buf_ struct mc_buf body = MC_BUF_INIT;
    char errbuf[CURL_ERROR_SIZE] = "";
    int64_t left = deadline_ms - mc_now_ms();
    if (left < 1)
        left = 1;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CAINFO, tls->ca);
    curl_easy_setopt(curl, CURLOPT_SSLCERT, tls->cert);
    curl_easy_setopt(curl, CURLOPT_SSLKEY, tls->key);
    curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(left < 5000 ? left : 5000));
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK)
        return mc_error_set(err, rc == CURLE_OPERATION_TIMEDOUT ? MC_ERR_TIMEOUT : MC_ERR_IO,
                            "GET %s failed: %s", url, *errbuf ? errbuf : curl_easy_strerror(rc));
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200)
        return mc_error_set(err, MC_ERR_REMOTE, "GET %s answered %ld: %.200s", url, status,
                            body.data ? body.data : "");
    return 0;
}

int
prov_wait_engine(const char *host, int port, const struct prov_tls_files *tls, int64_t deadline_ms,
                 struct mc_error **err)
{
    int64_t delay = 20;
    for (;;) {
        struct mc_error *e = NULL;
        if (prov_engine_ping(host, port, tls, deadline_ms, &e) == 0)
            return 0;
        int64_t pause = next_pause(&delay, 500, deadline_ms);
        if (pause < 0)
            return mc_error_propagate(err, e);
        mc_error_free(e);
        mc_sleep_ms(pause);
    }
}
