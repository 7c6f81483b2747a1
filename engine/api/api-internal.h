/* Shared by the files of engine/api only: the request and stream structures behind the opaque
 * types of api-handler.h. */
#ifndef ENG_API_INTERNAL_H
#define ENG_API_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "api-conn.h"
#include "api-handler.h"
#include "api-http.h"
#include "api-router.h"
#include "strbuf.h"

#define ENG_DEFAULT_MAX_BODY (1u << 20)
/* Inactivity bounds: a request head must arrive within HEAD_TIMEOUT of its first byte; body
 * bytes may pause at most BODY_TIMEOUT; an idle keep-alive connection is closed after
 * IDLE_TIMEOUT; a write may block at most WRITE_TIMEOUT. */
#define ENG_HEAD_TIMEOUT_MS  30000
#define ENG_BODY_TIMEOUT_MS  300000
#define ENG_IDLE_TIMEOUT_MS  ENG_CONN_BLOCKING_TIMEOUT_MS
#define ENG_WRITE_TIMEOUT_MS 600000
#define ENG_TLS_HANDSHAKE_MS 15000

enum eng_resp_state {
    RESP_NONE,
    RESP_SENT,     /* a complete answer */
    RESP_STREAM,   /* chunked (or, for HTTP/1.0, close-delimited) body in progress */
    RESP_HIJACKED, /* raw connection */
};

enum eng_body_mode {
    BODY_NONE,
    BODY_LENGTH,
    BODY_CHUNKED,
};

struct eng_stream {
    struct eng_request *req;
    bool chunked;
    bool json; /* application/json: errors become errorDetail lines */
};

struct eng_server;

struct eng_request {
    struct eng_server *server;
    struct eng_conn *conn;
    struct eng_http_head head;
    struct eng_query query;
    struct eng_route_match match;
    const char *path; /* into head.path, after the version prefix */
    int api_version;  /* 144 when there is no prefix */
    bool query_parsed;
    /* body */
    enum eng_body_mode body_mode;
    uint64_t body_left;
    struct eng_chunked chunked;
    bool body_done;
    bool body_error;
    char *body; /* buffered body, NUL-terminated */
    size_t body_len;
    /* answer */
    enum eng_resp_state state;
    int status;
    bool keep_alive;
    struct eng_stream stream;
    struct mc_buf out; /* reused for heads */
};

/* Appends the status line and the headers every answer carries (Api-Version, Docker-Experimental,
 * Ostype, Server, Date), plus Connection when needed. */
void eng_resp_put_head(struct eng_request *req, struct mc_buf *b, int status);
/* Sends an error for a request that could not be parsed or routed (also closes keep-alive). */
int eng_resp_send_error_close(struct eng_request *req, int status, const char *message);
/* Ends a stream after the handler returned (terminating chunk; an errorDetail line first when
 * err is set and the stream is JSON). */
void eng_resp_finish_stream(struct eng_request *req, const struct mc_error *err);

/* The daemon behind a request. */
struct eng_daemon *eng_server_daemon(struct eng_server *s);

#endif
