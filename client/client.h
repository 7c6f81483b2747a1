/* The engine API client core: a connection to one engine (tcp with mutual TLS, plain tcp, or a
 * unix socket) over libcurl, requests and responses as structs, every call bounded by a timeout.
 *
 * Where the engine is comes from a struct client_config: from DOCKER_HOST, DOCKER_TLS_VERIFY and
 * DOCKER_CERT_PATH (client_config_from_env), or filled by the caller (`-H NAME`, tests pointing
 * at a local peer). Call client_global_init() once, before any thread uses the client. */
#ifndef MC_CLIENT_H
#define MC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* The engine URL used when DOCKER_HOST is unset. */
#define CLIENT_DEFAULT_HOST "unix:///run/machined.sock"

struct client_config {
    char *host;        /* tcp://HOST:PORT or unix:///PATH */
    bool tls;          /* speak TLS (tcp only) */
    bool tls_verify;   /* verify the engine's certificate against ca.pem */
    char *cert_path;   /* folder with ca.pem, cert.pem, key.pem; NULL: no client certificate */
    char *api_version; /* "1.44": requests go to /v1.44/...; NULL: unversioned paths */
};

/* Getter for environment variables (getenv, or a table in tests). */
typedef const char *(*client_getenv_fn)(const char *name);

/* Fills cfg from DOCKER_HOST (default CLIENT_DEFAULT_HOST), DOCKER_TLS_VERIFY (non-empty and
 * not "0": TLS with verification), DOCKER_CERT_PATH (default ~/.docker) and DOCKER_API_VERSION.
 * Pure: reads only through get. */
int client_config_from_env(client_getenv_fn get, struct client_config *ret, struct mc_error **err);
void client_config_clear(struct client_config *cfg);

/* Initialises libcurl once per process (before threads). */
void client_global_init(void);

struct client;

/* A client for one engine; cfg is copied. */
struct client *client_new(const struct client_config *cfg, struct mc_error **err);
void client_free(struct client *c);
MC_DEFINE_CLEANUP(struct client, client_free)
#define _cleanup_client_ _cleanup_(client_freep)
/* The URL the client talks to ("tcp://..."), for messages. */
const char *client_host(const struct client *c);

struct client_request {
    const char *method;       /* "GET", "POST", ... */
    const char *path;         /* "/version": the API version prefix is added by the client */
    const char *content_type; /* for body; NULL: application/json when a body is given */
    const void *body;
    size_t body_len;
    int timeout_ms; /* the whole exchange; <= 0: none */
};

struct client_response {
    long status;
    char *body; /* NUL-terminated */
    size_t body_len;
    char *content_type;
};
void client_response_clear(struct client_response *r);

/* Sends one request and reads the whole answer. Transport failures are errors (MC_ERR_TIMEOUT,
 * MC_ERR_IO, MC_ERR_AUTH for TLS refusals); any HTTP status is a success of this call. */
int client_request(struct client *c, const struct client_request *req, struct client_response *ret,
                   struct mc_error **err);

/* GET /_ping: 0 when the engine answers "OK". */
int client_ping(struct client *c, int timeout_ms, struct mc_error **err);

struct client_version {
    char *version;     /* "0.1.0" */
    char *api_version; /* "1.44" */
    char *min_api_version;
    char *os;
    char *arch;
    char *kernel_version;
};
void client_version_clear(struct client_version *v);
/* Parses the body of GET /version (pure). */
int client_version_parse(const char *body, size_t len, struct client_version *ret,
                         struct mc_error **err);
/* GET /version. */
int client_version(struct client *c, int timeout_ms, struct client_version *ret,
                   struct mc_error **err);

#endif
