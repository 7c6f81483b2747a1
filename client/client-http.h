/* The pure HTTP/1.1 pieces of the engine client: the request head it writes, the response head
 * and chunked-body grammar it reads, and URL escaping. No I/O, so unit tests and a fuzzer call
 * them directly. Every parser is bounded (CLIENT_HTTP_HEAD_MAX, CLIENT_HTTP_HEADERS_MAX). */
#ifndef MC_CLIENT_HTTP_H
#define MC_CLIENT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "strbuf.h"

#define CLIENT_HTTP_HEAD_MAX    (64 * 1024)
#define CLIENT_HTTP_HEADERS_MAX 100

struct client_http_header {
    char *name; /* as sent */
    char *value;
};

struct client_http_head {
    int minor; /* HTTP/1.x */
    long status;
    char *reason;
    struct client_http_header *headers;
    size_t n_headers;
};
void client_http_head_clear(struct client_http_head *h);
/* The value of a header (case-insensitive name), or NULL. */
const char *client_http_head_get(const struct client_http_head *h, const char *name);

/* Parses a response head from the start of data. Returns the head's length (through the blank
 * line) and fills ret; 0 when more bytes are needed; -1 (MC_ERR_INVALID) when the bytes are not
 * an HTTP/1.x response head or exceed the limits. */
ssize_t client_http_parse_head(const char *data, size_t len, struct client_http_head *ret,
                               struct mc_error **err);

/* How the body of a response is delimited. */
enum client_http_body {
    CLIENT_BODY_NONE,    /* HEAD, 1xx, 204, 304 */
    CLIENT_BODY_LENGTH,  /* Content-Length */
    CLIENT_BODY_CHUNKED, /* Transfer-Encoding: chunked */
    CLIENT_BODY_CLOSE,   /* until the connection closes */
};
/* Decides from the status, the method and the headers; a malformed Content-Length is an
 * error. ret_length is set for CLIENT_BODY_LENGTH. */
int client_http_body_kind(const struct client_http_head *h, const char *method,
                          enum client_http_body *ret, uint64_t *ret_length, struct mc_error **err);

/* An incremental decoder of a chunked body. */
enum client_chunk_state {
    CLIENT_CHUNK_SIZE,    /* expecting "HEX[;ext]\r\n" */
    CLIENT_CHUNK_DATA,    /* inside a chunk: left bytes remain */
    CLIENT_CHUNK_CRLF,    /* the "\r\n" after a chunk's data */
    CLIENT_CHUNK_TRAILER, /* trailer lines until an empty one */
    CLIENT_CHUNK_DONE,
};
struct client_chunked {
    enum client_chunk_state state;
    uint64_t left;
};
/* Consumes bytes from in[0..len): *ret_consumed is how many; when a piece of payload is found,
 * ret_data and ret_data_len point at it inside in (*ret_data_len is 0 otherwise). Returns 0, or
 * -1 (MC_ERR_INVALID) on a malformed body. Call again with the unconsumed rest; with nothing
 * consumed and no data, more input is needed. */
int client_chunked_step(struct client_chunked *c, const char *in, size_t len, size_t *ret_consumed,
                        const char **ret_data, size_t *ret_data_len, struct mc_error **err);

/* What a request head needs. */
struct client_http_request {
    const char *method;
    const char *target; /* "/v1.44/containers/json?all=1" */
    const char *host;   /* Host header */
    const char *content_type;
    int64_t content_length; /* -1: chunked body; 0 with body-less POST/PUT: "Content-Length: 0" */
    bool upgrade;           /* "Connection: Upgrade", "Upgrade: tcp" (attach, exec start) */
};
/* Appends the request head (through the blank line) to b. */
void client_http_write_head(struct mc_buf *b, const struct client_http_request *r);

/* Percent-encodes s for a query value or a path segment (unreserved characters stay). With
 * keep_path, '/' and ':' also stay: image names go raw in paths, as the docker CLI sends them. */
char *client_url_escape(const char *s, bool keep_path);

/* A query string under construction: "?a=1&b=x%2Fy". */
struct client_query {
    struct mc_buf buf;
};
void client_query_add(struct client_query *q, const char *key, const char *value);
void client_query_add_bool(struct client_query *q, const char *key, bool value);
/* The path with the query appended, newly allocated; q is emptied. */
char *client_query_path(struct client_query *q, const char *path);

#endif
