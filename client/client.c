/* The engine API client core (client.h): configuration, the client object, whole requests,
 * ping and version. Exchanges are in exchange.c, the transport in transport.c. */
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "client-internal.h"
#include "fs.h"
#include "json.h"
#include "url.h"
#include "util.h"
#include "xalloc.h"

static pthread_once_t ssl_once = PTHREAD_ONCE_INIT;

static void
ssl_init_once(void)
{
    OPENSSL_init_ssl(0, NULL);
}

void
client_global_init(void)
{
    pthread_once(&ssl_once, ssl_init_once);
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
    const char *tls = get("DOCKER_TLS");
    const char *certs = get("DOCKER_CERT_PATH");
    const char *api = get("DOCKER_API_VERSION");
    const char *home = get("HOME");
    struct client_config cfg = { 0 };
    cfg.host = xstrdup(isempty(host) ? CLIENT_DEFAULT_HOST : host);
    /* As the docker CLI: any non-empty DOCKER_TLS_VERIFY verifies, "0" included; DOCKER_TLS alone
     * speaks TLS without verifying the engine. */
    cfg.tls_verify = !isempty(verify);
    cfg.tls = cfg.tls_verify || !isempty(tls);
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
    free(c->socket_path);
    free(c->tcp_host);
    free(c->host_header);
    SSL_CTX_free(c->tls);
    pthread_mutex_destroy(&c->tls_lock);
    free(c);
}

static int
set_address(struct client *c, struct mc_error **err)
{
    struct mc_url u = { 0 };
    if (mc_url_parse(c->cfg.host, 0, &u, err) < 0)
        return -1;
    int r = 0;
    if (streq(u.scheme, "unix")) {
        c->socket_path = xstrdup(u.path);
        c->host_header = xstrdup("api.moby.localhost");
        c->cfg.tls = false;
    } else if (streq(u.scheme, "tcp") || streq(u.scheme, "http") || streq(u.scheme, "https")) {
        if (u.port == 0)
            r = mc_error_set(err, MC_ERR_INVALID, "engine URL '%s' has no port", c->cfg.host);
        c->tcp_host = xstrdup(u.host);
        c->tcp_port = u.port;
        c->host_header = mc_url_hostport(&u);
        c->cfg.tls = c->cfg.tls || streq(u.scheme, "https");
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
    pthread_mutex_init(&c->tls_lock, NULL);
    c->cfg.host = xstrdup(cfg->host ? cfg->host : CLIENT_DEFAULT_HOST);
    c->cfg.tls = cfg->tls;
    c->cfg.tls_verify = cfg->tls_verify;
    c->cfg.cert_path = xstrdup_or_null(cfg->cert_path);
    c->cfg.api_version = xstrdup_or_null(cfg->api_version);
    if (set_address(c, err) < 0)
        return NULL;
    if (c->cfg.tls) /* OpenSSL's set-up reads its configuration: only TLS pays for it */
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

int
client_request(struct client *c, const struct client_request *req, struct client_response *ret,
               struct mc_error **err)
{
    struct client_call call = {
        .method = req->method ? req->method : "GET",
        .path = req->path,
        .content_type = req->content_type,
        .body = req->body,
        .body_len = req->body_len,
        .timeout_ms = req->timeout_ms,
    };
    _cleanup_exchange_ struct client_exchange *x = NULL;
    if (client_open(c, &call, &x, err) < 0)
        return -1;
    struct client_response r = { .status = x->head.status };
    if (client_exchange_read_all(x, CLIENT_ANSWER_MAX, &r.body, &r.body_len, err) < 0)
        return mc_error_prefix(err, "%s %s: ", call.method, call.path);
    r.content_type = xstrdup_or_null(client_http_head_get(&x->head, "Content-Type"));
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
    free(v->platform);
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
        .platform = xstrdup_or_null(mc_json_str(json_object_get(j, "Platform"), "Name")),
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
