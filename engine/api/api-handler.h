/* The interface between machined's HTTP layer and the handlers of each module.
 *
 * A module lists its routes in a const table (struct eng_route) and points its struct
 * eng_module at it (engine.h). A handler gets the parsed request, turns it into eng_*() calls,
 * and answers through the functions below; it never touches the socket except through a
 * struct eng_stream (a chunked response, or a hijacked connection).
 *
 *   static int
 *   h_container_start(struct eng_request *req, struct mc_error **err)
 *   {
 *       if (eng_container_start(eng_req_param(req, "id"), err) < 0)
 *           return -1;                  // the server maps err to a JSON error and a status
 *       return eng_resp_empty(req, 204);
 *   }
 *   static const struct eng_route routes[] = {
 *       { "POST", "/containers/{id}/start", h_container_start },
 *       { "POST", "/containers/create", h_create, .max_body = 4 << 20 },
 *       { "DELETE", "/images/{name*}", h_image_delete },   // {x*} spans slashes
 *   };
 *
 * Threads: each connection is served by its own thread (small stack: do not put big buffers
 * on it), so a handler may block (a long-poll wait, a followed log, an attach) without holding
 * up anyone else. Handlers of different connections run concurrently: shared state needs locks.
 *
 * Return value: 0 once the handler has answered (exactly one eng_resp_* call), or -1 with *err
 * set. On -1 before any answer, the server sends {"message": err->message} with the status of
 * eng_http_status_for_error(); on -1 after a stream began, a JSON stream gets a final
 * {"errorDetail":{"message":...},"error":...} line and other streams are just ended. A handler
 * that returns 0 without answering gets a 500 (a bug). */
#ifndef ENG_API_HANDLER_H
#define ENG_API_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "api-http.h"
#include "engine.h"
#include "error.h"

struct eng_request;
struct eng_stream;

typedef int (*eng_handler_fn)(struct eng_request *req, struct mc_error **err);

enum eng_route_flags {
    /* The handler reads the body itself with eng_req_read() (tar uploads: load, import,
     * build). Without it the server reads the whole body (at most max_body) first. */
    ENG_ROUTE_STREAM_BODY = 1 << 0,
};

struct eng_route {
    const char *method;  /* "GET", "HEAD", "POST", "PUT", "DELETE"; "*" matches any */
    const char *pattern; /* without the /vX.Y prefix; {name} is one path segment, {name*} one
                          * or more (image names carry '/'); at most one {x*} per pattern */
    eng_handler_fn handler;
    unsigned flags;  /* enum eng_route_flags */
    size_t max_body; /* buffered body limit; 0 means 1 MiB; larger bodies get 413 */
};

/* ---- the request ---- */

const char *eng_req_method(const struct eng_request *req);
/* The decoded path without the version prefix: "/containers/abc/json". */
const char *eng_req_path(const struct eng_request *req);
/* The API version of the path prefix as major*100+minor (144 for /v1.44/); 144 without one. */
int eng_req_api_version(const struct eng_request *req);
/* A path parameter of the route pattern ({id}, {name*}), decoded; NULL when absent. */
const char *eng_req_param(const struct eng_request *req, const char *name);
/* The first value of a query parameter (decoded), or NULL. */
const char *eng_req_query(const struct eng_request *req, const char *key);
/* Every value of a repeated parameter (t=a&t=b), as a new NULL-terminated vector. */
char **eng_req_query_all(const struct eng_request *req, const char *key);
/* A boolean parameter as docker sends them ("1"/"0", "true"/"false"); dflt when absent or
 * empty. Any other value counts as true, as in dockerd's BoolValue. */
bool eng_req_query_bool(const struct eng_request *req, const char *key, bool dflt);
/* An integer parameter; dflt when absent or empty; MC_ERR_INVALID when malformed. */
int eng_req_query_int(const struct eng_request *req, const char *key, int64_t dflt, int64_t *ret,
                      struct mc_error **err);
/* The "filters" parameter as a JSON object {"key":{"value":true}} (the old form {"key":
 * ["value"]} is converted). Returns a new reference to an empty object when absent; NULL with
 * MC_ERR_INVALID when malformed. */
json_t *eng_req_filters(const struct eng_request *req, struct mc_error **err);
/* A request header (case-insensitive), or NULL. */
const char *eng_req_header(const struct eng_request *req, const char *name);
/* The buffered body (routes without ENG_ROUTE_STREAM_BODY); "" with len 0 when none. The
 * bytes are NUL-terminated and owned by the request. */
const char *eng_req_body(const struct eng_request *req, size_t *ret_len);
/* The buffered body parsed as JSON; an empty body gives an empty object. New reference. */
json_t *eng_req_body_json(const struct eng_request *req, struct mc_error **err);
/* Streaming body (ENG_ROUTE_STREAM_BODY routes): reads up to n bytes, decoding chunked
 * transfer encoding. Returns the count, 0 at the end of the body, -1 on error or timeout. */
ssize_t eng_req_read(struct eng_request *req, void *buf, size_t n, struct mc_error **err);
/* The daemon (data root, config). */
struct eng_daemon *eng_req_daemon(const struct eng_request *req);
/* The connection's socket, for poll() only: POLLIN/POLLHUP while a handler waits means the
 * client went away (or pipelined another request). Never read or write it. */
int eng_req_fd(const struct eng_request *req);
/* True when the client has closed the connection (a non-blocking peek). Long-polls (wait) use it
 * to notice an abandoned request; `docker run -d` drops its wait connection. */
bool eng_req_client_gone(const struct eng_request *req);

/* ---- plain answers (one per request) ---- */

/* Sends j (compact, "\n"-terminated) as application/json. j is not stolen. */
int eng_resp_json(struct eng_request *req, int status, const json_t *j);
/* Sends j and drops the reference (handy with json_pack). */
int eng_resp_json_take(struct eng_request *req, int status, json_t *j);
/* A status with no body (201, 204, 304); Content-Length: 0 where a body is allowed. */
int eng_resp_empty(struct eng_request *req, int status);
/* Any bytes with a content type. */
int eng_resp_raw(struct eng_request *req, int status, const char *content_type, const void *data,
                 size_t len);
/* The same with extra header lines (each "Name: value\r\n"). */
int eng_resp_raw_with(struct eng_request *req, int status, const char *content_type,
                      const char *extra_headers, const void *data, size_t len);
/* {"message": ...} with exactly Content-Type: application/json. */
int eng_resp_error_msg(struct eng_request *req, int status, const char *message);
/* The error's message with its status (eng_http_status_for_error). Handlers normally just
 * return -1 and let the server do this. */
int eng_resp_error(struct eng_request *req, const struct mc_error *e);

/* The one map from error codes to HTTP statuses: not-found 404, exists and conflict and
 * not-running 409, invalid and usage 400, not-modified 304, unsupported 501, permission 403,
 * auth 401, anything else 500. */
int eng_http_status_for_error(const struct mc_error *e);

/* ---- streams ---- */

/* Starts a chunked response: the status and headers are sent (and flushed) at once, so a
 * client that blocks on the headers (wait, before start) proceeds. Write the body with
 * eng_stream_write()/eng_stream_json(); the server ends it when the handler returns. The
 * stream belongs to the request. */
struct eng_stream *eng_resp_stream(struct eng_request *req, int status, const char *content_type,
                                   struct mc_error **err);

/* Hijacks the connection (attach, exec start): sends
 *   HTTP/1.1 101 UPGRADED\r\nContent-Type: <ct>\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n
 * when the client asked for an upgrade, else a 200 with that Content-Type and no length (as
 * dockerd does), then hands over the raw connection. content_type is normally
 * eng_stream_content_type(req, tty). Bytes the client sent after the request (stdin) are
 * returned first by eng_stream_read(). The server closes the connection when the handler
 * returns: return only when the process has exited and its output is written. */
struct eng_stream *eng_resp_hijack(struct eng_request *req, const char *content_type,
                                   struct mc_error **err);

/* "application/vnd.docker.raw-stream" with a TTY or below API 1.42, else
 * "application/vnd.docker.multiplexed-stream". */
const char *eng_stream_content_type(const struct eng_request *req, bool tty);

/* Writes bytes: one chunk on a chunked stream, raw bytes on a hijacked one. Safe to call from
 * another thread than eng_stream_read()'s (one reader and any number of writers; writes are
 * serialised). Returns -1 (MC_ERR_IO) when the client is gone. */
int eng_stream_write(struct eng_stream *s, const void *data, size_t len, struct mc_error **err);
/* One multiplexed frame: the 8-byte header then the payload, in one write. */
int eng_stream_frame(struct eng_stream *s, enum eng_stream_type type, const void *data, size_t len,
                     struct mc_error **err);
/* One JSON message followed by "\r\n" (the progress streams of load, import, pull, build). */
int eng_stream_json(struct eng_stream *s, const json_t *j, struct mc_error **err);
/* Reads stdin from a hijacked connection: up to n bytes, blocking until some arrive. Returns 0
 * when the client half-closed (TCP FIN, or TLS close_notify): stdin EOF; keep writing output.
 * Returns -1 when the connection broke. */
ssize_t eng_stream_read(struct eng_stream *s, void *buf, size_t n, struct mc_error **err);
/* Like eng_stream_read() but waits at most timeout_ms (0: poll once); returns -1 with
 * MC_ERR_TIMEOUT when nothing arrived. */
ssize_t eng_stream_read_timeout(struct eng_stream *s, void *buf, size_t n, int timeout_ms,
                                struct mc_error **err);
/* True when eng_stream_read() can return at once (buffered bytes); poll eng_stream_fd()
 * otherwise. */
bool eng_stream_readable(struct eng_stream *s);
/* The socket, for poll() alongside the handler's own fds. Never read or write it directly. */
int eng_stream_fd(const struct eng_stream *s);
/* Ends the output direction (shutdown(SHUT_WR), or TLS close_notify) while stdin may still be
 * read. Optional: returning from the handler closes everything. */
int eng_stream_close_write(struct eng_stream *s);

/* Copies between a hijacked stream and a process until the output ends:
 * bytes read from the client go to in_fd (-1: stdin is not read), which the pump owns and
 * closes at the client's stdin EOF (half-close) or when it returns; out_fd and err_fd (-1 for
 * none) are read until both reach EOF and sent as frames of type stdout/stderr, or raw when
 * !framed (TTY); they stay open. Returns 0 when the output ended, -1 when the client went
 * away. */
int eng_stream_pump(struct eng_stream *s, int in_fd, int out_fd, int err_fd, bool framed,
                    struct mc_error **err);

#endif
