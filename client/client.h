/* The engine API client: a connection to one engine (tcp with mutual TLS, plain tcp, or a unix
 * socket), requests and responses as structs, every call bounded by a timeout unless it is a
 * stream.
 *
 * Where the engine is comes from a struct client_config: from DOCKER_HOST, DOCKER_TLS_VERIFY and
 * DOCKER_CERT_PATH (client_config_from_env), or filled by the caller (`-H NAME`, tests pointing
 * at a local peer). client_new() sets OpenSSL up (once) for a TLS engine only; a program that
 * makes its own TLS clients from several threads calls client_global_init() first.
 *
 * The client speaks HTTP/1.1 itself, over a socket and OpenSSL (docs/adr/0007): one connection
 * per exchange, so several exchanges may run at once from different threads (`run` holds
 * attach, wait and start together), each exchange used by one thread at a time. Doing the
 * protocol here, rather than through libcurl, is what makes hijacked streams work as the engine
 * API wants them: after `101 UPGRADED` the same connection carries raw bytes both ways, and the
 * end of stdin is a half-close (TLS close_notify, or shutdown(SHUT_WR)) while the output is
 * still read. It also keeps libcurl's global initialisation (about 5 ms per process here) out of
 * every `machine run`. */
#ifndef MC_CLIENT_H
#define MC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <sys/types.h>

#include <jansson.h>

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

/* Fills cfg from DOCKER_HOST (default CLIENT_DEFAULT_HOST), DOCKER_TLS_VERIFY (any non-empty
 * value, "0" included as in the docker CLI: TLS with verification), DOCKER_TLS (TLS without
 * verification), DOCKER_CERT_PATH (default ~/.docker) and DOCKER_API_VERSION.
 * Pure: reads only through get. */
int client_config_from_env(client_getenv_fn get, struct client_config *ret, struct mc_error **err);
void client_config_clear(struct client_config *cfg);

/* Initialises OpenSSL once per process (before threads). */
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

/* Sends one request and reads the whole answer (at most 64 MiB). Transport failures are errors
 * (MC_ERR_TIMEOUT, MC_ERR_IO, MC_ERR_AUTH for TLS refusals); any HTTP status is a success of
 * this call. */
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
    char *platform; /* Platform.Name: "machined"; empty or absent for some engines */
};
void client_version_clear(struct client_version *v);
/* Parses the body of GET /version (pure). */
int client_version_parse(const char *body, size_t len, struct client_version *ret,
                         struct mc_error **err);
/* GET /version. */
int client_version(struct client *c, int timeout_ms, struct client_version *ret,
                   struct mc_error **err);

/* ---- Exchanges: one request whose answer is read piece by piece ---- */

struct client_call {
    const char *method;       /* "GET", "POST", ... */
    const char *path;         /* with its query; the API version prefix is added by the client */
    const char *content_type; /* of the body; NULL: application/json when there is one */
    const void *body;         /* a whole body, or NULL */
    size_t body_len;
    bool body_from_fd; /* the body is read from body_fd until its end and sent chunked */
    int body_fd;
    bool upgrade;   /* a hijack (attach, exec start): asks for "Upgrade: tcp" */
    int timeout_ms; /* connecting, sending and the whole answer; <= 0: none (streams) */
};

/* An exchange in progress: the request is sent and the answer's head is read. */
struct client_exchange;

/* Connects, sends the call and reads the answer's head. Any HTTP status is a success of this
 * call; with call->upgrade, the 101 answer leaves the connection carrying the raw stream. */
int client_open(struct client *c, const struct client_call *call, struct client_exchange **ret,
                struct mc_error **err);
void client_exchange_free(struct client_exchange *x);
MC_DEFINE_CLEANUP(struct client_exchange, client_exchange_free)
#define _cleanup_exchange_ _cleanup_(client_exchange_freep)

/* Ends the exchange's connection both ways (shutdown, not close): a thread blocked reading it
 * returns. The only call that may be made while another thread uses x. */
void client_exchange_abort(struct client_exchange *x);

long client_exchange_status(const struct client_exchange *x);
/* A header of the answer (case-insensitive name), or NULL. */
const char *client_exchange_header(const struct client_exchange *x, const char *name);
/* Reads the next bytes of the body (de-chunked), or of the raw stream after a 101. Returns the
 * count, 0 at the end, or -1. Blocks (up to the call's timeout). */
ssize_t client_exchange_read(struct client_exchange *x, void *buf, size_t n, struct mc_error **err);
/* Reads the rest of the body, NUL-terminated; more than max bytes is an error. */
int client_exchange_read_all(struct client_exchange *x, size_t max, char **ret, size_t *ret_len,
                             struct mc_error **err);
/* For an answer of 400 or more: reads the body and fills err with the engine's message
 * ({"message": ...}, else the body, else the status) and a code from the status (404
 * MC_ERR_NOT_FOUND, 409 MC_ERR_CONFLICT, 400 MC_ERR_INVALID, 501 MC_ERR_UNSUPPORTED, ...).
 * Returns -1. */
int client_exchange_error(struct client_exchange *x, struct mc_error **err);

/* The error code for an HTTP status of 400 or more. */
enum mc_error_code client_status_code(long status);

/* ---- JSON calls ---- */

/* One call with an optional JSON body whose answer, when the status is below 400, is parsed
 * into *ret (NULL for an empty body; ret may be NULL to ignore it). A status of 400 or more is
 * an error as client_exchange_error() makes it. ret_status (may be NULL) gets the status. */
int client_call_json(struct client *c, const char *method, const char *path, const json_t *body,
                     int timeout_ms, json_t **ret, long *ret_status, struct mc_error **err);

/* ---- Hijacked streams (attach, exec start) ---- */

struct client_hijack_io {
    int in_fd;       /* stdin to send, or -1: nothing is sent and the stream is never half-closed */
    int out_fd;      /* stdout frames (and all raw bytes) go here */
    int err_fd;      /* stderr frames */
    bool framed;     /* the 8-byte multiplexed framing (no TTY); raw bytes otherwise */
    bool keep_stdin; /* at in_fd's end, do not half-close (a terminal's end is not stdin's) */
    const char *detach_keys; /* typed on in_fd, they end the pump (1); NULL: none */
};

/* Copies in_fd to the hijacked stream and the stream to out_fd/err_fd until the engine ends
 * the stream. At in_fd's end the stream is half-closed and output is still read. x must be a
 * 101 answer of client_open(). Returns 0 at the stream's end, 1 when the detach keys were
 * typed (the container goes on), -1 on an error. */
int client_hijack_pump(struct client_exchange *x, const struct client_hijack_io *io,
                       struct mc_error **err);

#endif
