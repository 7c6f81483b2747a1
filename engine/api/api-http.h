/* The engine's HTTP/1.1 request parser: pure functions from bytes to structs, bounded, with no
 * I/O, so that unit tests and the libFuzzer target (tests/fuzz/fuzz-http.c) call them directly.
 *
 *   head:    eng_http_parse_head() parses the request line and the header block.
 *   body:    Content-Length bodies are counted by the caller; chunked bodies go through
 *            eng_chunked_step(), an incremental decoder that yields spans of the input.
 *   query:   eng_query_parse() splits and percent-decodes "a=1&b=x%2Fy".
 *   framing: eng_frame_header() writes the 8-byte header of the multiplexed stream format. */
#ifndef ENG_API_HTTP_H
#define ENG_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Bounds applied while parsing (see eng_http_default_limits). */
struct eng_http_limits {
    size_t max_request_line; /* bytes, CRLF excluded */
    size_t max_head;         /* request line plus headers plus the blank line */
    size_t max_headers;      /* header fields */
};

/* 8 KiB request line, 64 KiB head, 100 header fields. */
extern const struct eng_http_limits eng_http_default_limits;

struct eng_http_header {
    char *name;  /* as sent; compare with strcasecmp */
    char *value; /* leading and trailing blanks removed */
};

struct eng_http_head {
    char *method; /* "GET", ... */
    char *target; /* the raw request target, "/v1.44/images/json?all=1" */
    char *path;   /* the percent-decoded path, without the query */
    char *query;  /* the raw query after '?', or "" */
    int minor;    /* HTTP/1.<minor>: 0 or 1 */
    struct eng_http_header *headers;
    size_t n_headers;
    /* Derived from the headers. */
    bool has_content_length;
    uint64_t content_length;
    bool chunked;         /* Transfer-Encoding: chunked */
    bool keep_alive;      /* HTTP/1.1 without "Connection: close", or 1.0 with keep-alive */
    bool upgrade;         /* Connection: Upgrade with an Upgrade header (hijack) */
    bool expect_continue; /* Expect: 100-continue */
};

/* Parses one request head from buf[0..len).
 * Returns the number of bytes the head takes (> 0) when it is complete, 0 when more bytes are
 * needed (the limits are already checked on what is there), or -1 with *ret_status set to the
 * HTTP status to answer (400, 414, 431, 501 or 505) and err filled. On success ret is filled and
 * owned by the caller (eng_http_head_clear). */
long eng_http_parse_head(const char *buf, size_t len, const struct eng_http_limits *lim,
                         struct eng_http_head *ret, int *ret_status, struct mc_error **err);
void eng_http_head_clear(struct eng_http_head *h);
/* The value of the first header called name (case-insensitive), or NULL. */
const char *eng_http_head_get(const struct eng_http_head *h, const char *name);

/* Decodes %XX escapes (and '+' as a space when plus_is_space) of s[0..n) into a new string.
 * Returns NULL on a malformed escape or an encoded NUL. */
char *eng_url_decode(const char *s, size_t n, bool plus_is_space);

/* A decoded query string: keys and values in the order sent; repeated keys are kept. */
struct eng_query {
    char **keys;
    char **values;
    size_t n;
};

/* Parses "a=1&b=2&a=3" (values percent-decoded, '+' is a space). A key without '=' gets "".
 * Returns -1 (MC_ERR_INVALID) on a malformed escape. At most 1024 pairs. */
int eng_query_parse(const char *q, struct eng_query *ret, struct mc_error **err);
void eng_query_clear(struct eng_query *q);
/* The first value of key, or NULL. */
const char *eng_query_get(const struct eng_query *q, const char *key);

/* Incremental decoder of a chunked body. Zero-initialise before the first call. */
struct eng_chunked {
    int state;
    uint64_t remaining; /* bytes left in the current chunk */
    size_t line_len;    /* bytes of the current size or trailer line, bounded */
    uint64_t total;     /* decoded bytes so far */
};

/* Consumes input from in[0..len). Sets *ret_consumed to the bytes used and, when chunk data is
 * available, *ret_data and *ret_data_len to a span of in of at most max_data bytes (the data,
 * already counted in consumed).
 * Returns 1 when the body (last chunk and trailers) is complete, 0 when it needs more input or
 * has yielded data (call again with the rest), -1 on a malformed body (MC_ERR_INVALID). */
int eng_chunked_step(struct eng_chunked *c, const char *in, size_t len, size_t max_data,
                     size_t *ret_consumed, const char **ret_data, size_t *ret_data_len,
                     struct mc_error **err);

/* Stream types of the multiplexed format (attach, exec, logs without a TTY). */
enum eng_stream_type {
    ENG_STREAM_STDIN = 0,
    ENG_STREAM_STDOUT = 1,
    ENG_STREAM_STDERR = 2,
};

/* Writes the 8-byte frame header {type, 0, 0, 0, len as big-endian uint32}. */
void eng_frame_header(uint8_t out[8], enum eng_stream_type type, uint32_t len);
/* Parses a frame header; returns -1 when the type byte or the padding is not valid. */
int eng_frame_parse(const uint8_t in[8], enum eng_stream_type *ret_type, uint32_t *ret_len);

/* The reason phrase for a status ("Not Found"); "UPGRADED" for 101 as dockerd sends it. */
const char *eng_http_status_text(int status);

#endif
