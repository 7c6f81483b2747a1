/* The engine API client core over libcurl (client.h). libcurl's errors are converted in one
 * place, curl_error(). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "client.h"
#include "fs.h"
#include "json.h"
#include "strbuf.h"
#include "url.h"
#include "util.h"
#include "xalloc.h"

/* Answers larger than this are refused (the core's answers are small JSON documents). */
#define CLIENT_BODY_MAX (64 * 1024 * 1024)

MC_DEFINE_CLEANUP(CURL, curl_easy_cleanup)
MC_DEFINE_CLEANUP(struct curl_slist, curl_slist_free_all)

struct client {
    struct client_config cfg;
    char *base;        /* "https://192.0.2.10:2376" or "http://localhost" */
    char *socket_path; /* for unix:// */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void
client_global_init(void)
{
    pthread_once(&curl_once, curl_init_once);
}

void
client_config_clear(struct client_config *cfg)
{
    free(cfg->host);
    free(cfg->cert_path);
    free(cfg->api_version);
    memset(cfg, 0, sizeof(*cfg));
}

int
client_config_from_env(client_getenv_fn get, struct client_config *ret, struct mc_error **err)
{
    const char *host = get("DOCKER_HOST");
    const char *verify = get("DOCKER_TLS_VERIFY");
    const char *certs = get("DOCKER_CERT_PATH");
    const char *api = get("DOCKER_API_VERSION");
    const char *home = get("HOME");
    struct client_config cfg = { 0 };
    cfg.host = xstrdup(isempty(host) ? CLIENT_DEFAULT_HOST : host);
    cfg.tls_verify = !isempty(verify) && !streq(verify, "0");
    cfg.tls = cfg.tls_verify;
    if (!isempty(certs))
        cfg.cert_path = xstrdup(certs);
    else if (cfg.tls && !isempty(home))
        cfg.cert_path = mc_path_join(home, ".docker");
    cfg.api_version = xstrdup_or_null(isempty(api) ? NULL : api);
    struct mc_url u = { 0 };
    if (mc_url_parse(cfg.host, 0, &u, err) < 0) {
        client_config_clear(&cfg);
        return mc_error_prefix(err, "DOCKER_HOST: ");
    }
    mc_url_clear(&u);
    *ret = cfg;
    return 0;
}

const char *
client_host(const struct client *c)
{
    return c->cfg.host;
}

void
client_free(struct client *c)
{
    if (!c)
        return;
    client_config_clear(&c->cfg);
    free(c->base);
    free(c->socket_path);
    free(c);
}

static int
set_base(struct client *c, struct mc_error **err)
{
    struct mc_url u = { 0 };
    if (mc_url_parse(c->cfg.host, 0, &u, err) < 0)
        return -1;
    int r = 0;
    if (streq(u.scheme, "unix")) {
        c->socket_path = xstrdup(u.path);
        c->base = xstrdup("http://localhost");
    } else if (streq(u.scheme, "tcp") || streq(u.scheme, "http") || streq(u.scheme, "https")) {
        _cleanup_free_ char *hp = mc_url_hostport(&u);
        bool tls = c->cfg.tls || streq(u.scheme, "https");
        if (u.port == 0)
            r = mc_error_set(err, MC_ERR_INVALID, "engine URL '%s' has no port", c->cfg.host);
        c->base = xasprintf("%s://%s", tls ? "https" : "http", hp);
        c->cfg.tls = tls;
    } else {
        r = mc_error_set(err, MC_ERR_INVALID,
                         "engine URL '%s' is neither tcp://HOST:PORT nor unix:///PATH",
                         c->cfg.host);
    }
    mc_url_clear(&u);
    return r;
}

struct client *
client_new(const struct client_config *cfg, struct mc_error **err)
{
    _cleanup_(client_freep) struct client *c = xzalloc(sizeof(*c));
    c->cfg.host = xstrdup(cfg->host ? cfg->host : CLIENT_DEFAULT_HOST);
    c->cfg.tls = cfg->tls;
    c->cfg.tls_verify = cfg->tls_verify;
    c->cfg.cert_path = xstrdup_or_null(cfg->cert_path);
    c->cfg.api_version = xstrdup_or_null(cfg->api_version);
    if (set_base(c, err) < 0)
        return NULL;
    client_global_init();
    return TAKE_PTR(c);
}

void
client_response_clear(struct client_response *r)
{
    free(r->body);
    free(r->content_type);
    memset(r, 0, sizeof(*r));
}

static const struct {
    CURLcode code;
    enum mc_error_code mc;
} curl_codes[] = {
    { CURLE_OPERATION_TIMEDOUT, MC_ERR_TIMEOUT },    { CURLE_COULDNT_CONNECT, MC_ERR_IO },
    { CURLE_COULDNT_RESOLVE_HOST, MC_ERR_IO },       { CURLE_SSL_CONNECT_ERROR, MC_ERR_AUTH },
    { CURLE_PEER_FAILED_VERIFICATION, MC_ERR_AUTH }, { CURLE_SSL_CERTPROBLEM, MC_ERR_AUTH },
    { CURLE_SSL_CACERT_BADFILE, MC_ERR_AUTH },       { CURLE_WRITE_ERROR, MC_ERR_INVALID },
};

/* The one conversion from a libcurl failure to an error. */
static int
curl_error(const struct client *c, CURLcode rc, const char *errbuf, int timeout_ms,
           struct mc_error **err)
{
    enum mc_error_code code = MC_ERR_IO;
    for (size_t i = 0; i < ELEMENTSOF(curl_codes); i++)
        if (curl_codes[i].code == rc)
            code = curl_codes[i].mc;
    if (code == MC_ERR_TIMEOUT)
        return mc_error_set(err, code, "the engine at '%s' did not answer within %d ms",
                            c->cfg.host, timeout_ms);
    return mc_error_set(err, code, "cannot reach the engine at '%s': %s", c->cfg.host,
                        errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

static size_t
on_body(char *data, size_t size, size_t n, void *userdata)
{
    struct mc_buf *b = userdata;
    if (b->len + size * n > CLIENT_BODY_MAX)
        return 0; /* libcurl turns this into CURLE_WRITE_ERROR */
    mc_buf_append(b, data, size * n);
    return size * n;
}

static void
setup_tls(CURL *h, const struct client *c)
{
    if (!c->cfg.tls)
        return;
    if (c->cfg.cert_path) {
        _cleanup_free_ char *ca = mc_path_join(c->cfg.cert_path, "ca.pem");
        _cleanup_free_ char *cert = mc_path_join(c->cfg.cert_path, "cert.pem");
        _cleanup_free_ char *key = mc_path_join(c->cfg.cert_path, "key.pem");
        if (c->cfg.tls_verify)
            curl_easy_setopt(h, CURLOPT_CAINFO, ca); /* libcurl copies option strings */
        curl_easy_setopt(h, CURLOPT_SSLCERT, cert);
        curl_easy_setopt(h, CURLOPT_SSLKEY, key);
    }
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->cfg.tls_verify ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->cfg.tls_verify ? 2L : 0L);
    curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
}

static char *
request_url(const struct client *c, const char *path)
{
    if (c->cfg.api_version)
        return xasprintf("%s/v%s%s", c->base, c->cfg.api_version, path);
    return xasprintf("%s%s", c->base, path);
}

int
client_request(struct client *c, const struct client_request *req, struct client_response *ret,
               struct mc_error **err)
{
    _cleanup_(curl_easy_cleanupp) CURL *h = curl_easy_init();
    if (!h)
        return mc_error_set(err, MC_ERR_FAILED, "cannot start a libcurl session");
    char errbuf[CURL_ERROR_SIZE] = "";
    _cleanup_buf_ struct mc_buf body = MC_BUF_INIT;
    _cleanup_free_ char *url = request_url(c, req->path);
    _cleanup_(curl_slist_free_allp) struct curl_slist *hdrs = NULL;

    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method ? req->method : "GET");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "machine/" MC_VERSION);
    if (c->socket_path)
        curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket_path);
    if (req->timeout_ms > 0)
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
    if (req->body) {
        _cleanup_free_ char *ct = xasprintf(
                "Content-Type: %s", req->content_type ? req->content_type : "application/json");
        hdrs = curl_slist_append(hdrs, ct);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    setup_tls(h, c);

    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK)
        return curl_error(c, rc, errbuf, req->timeout_ms, err);
    struct client_response r = { 0 };
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    char *ct = NULL;
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
    r.content_type = xstrdup_or_null(ct);
    r.body_len = body.len;
    r.body = body.data ? mc_buf_steal(&body) : xstrdup("");
    *ret = r;
    return 0;
}

/* An error answer: the engine's {"message": ...} when it sent one. */
static int
remote_error(const struct client *c, const struct client_request *req,
             const struct client_response *r, struct mc_error **err)
{
    _cleanup_json_ json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    const char *msg = mc_json_str(j, "message");
    return mc_error_set(err, MC_ERR_REMOTE, "the engine at '%s' answered %s %s with %ld: %s",
                        c->cfg.host, req->method, req->path, r->status,
                        msg ? msg : (r->body_len ? r->body : "(no message)"));
}

int
client_ping(struct client *c, int timeout_ms, struct mc_error **err)
{
    struct client_request req = { .method = "GET", .path = "/_ping", .timeout_ms = timeout_ms };
    struct client_response r = { 0 };
    if (client_request(c, &req, &r, err) < 0)
        return -1;
    int ret = 0;
    if (r.status != 200)
        ret = remote_error(c, &req, &r, err);
    client_response_clear(&r);
    return ret;
}

void
client_version_clear(struct client_version *v)
{
    free(v->version);
    free(v->api_version);
    free(v->min_api_version);
    free(v->os);
    free(v->arch);
    free(v->kernel_version);
    memset(v, 0, sizeof(*v));
}

int
client_version_parse(const char *body, size_t len, struct client_version *ret,
                     struct mc_error **err)
{
    _cleanup_json_ json_t *j = mc_json_parse(body, len, "the engine's /version answer", err);
    if (!j)
        return -1;
    const char *version = mc_json_str(j, "Version");
    if (!version)
        return mc_error_set(err, MC_ERR_INVALID, "the engine's /version answer has no Version");
    struct client_version v = {
        .version = xstrdup(version),
        .api_version = xstrdup_or_null(mc_json_str(j, "ApiVersion")),
        .min_api_version = xstrdup_or_null(mc_json_str(j, "MinAPIVersion")),
        .os = xstrdup_or_null(mc_json_str(j, "Os")),
        .arch = xstrdup_or_null(mc_json_str(j, "Arch")),
        .kernel_version = xstrdup_or_null(mc_json_str(j, "KernelVersion")),
    };
    *ret = v;
    return 0;
}

int
client_version(struct client *c, int timeout_ms, struct client_version *ret, struct mc_error **err)
{
    struct client_request req = { .method = "GET", .path = "/version", .timeout_ms = timeout_ms };
    struct client_response r = { 0 };
    if (client_request(c, &req, &r, err) < 0)
        return -1;
    int rc;
    if (r.status != 200)
        rc = remote_error(c, &req, &r, err);
    else
        rc = client_version_parse(r.body, r.body_len, ret, err);
    client_response_clear(&r);
    return rc;
}
