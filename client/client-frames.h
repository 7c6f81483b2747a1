/* The engine's stream formats, parsed without I/O: the 8-byte multiplexed framing of attach,
 * exec and logs without a TTY, and the JSON message streams of load, import and pull
 * (one JSON document per line). */
#ifndef MC_CLIENT_FRAMES_H
#define MC_CLIENT_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "error.h"
#include "strbuf.h"

/* Stream numbers in a frame header. */
enum client_stream_kind {
    CLIENT_STREAM_STDIN = 0, /* written to stdout, as the docker CLI does */
    CLIENT_STREAM_STDOUT = 1,
    CLIENT_STREAM_STDERR = 2,
};

/* A payload piece: stream is 0, 1 or 2. Returns 0, or -1 with err set to stop. */
typedef int (*client_frame_fn)(void *userdata, int stream, const char *data, size_t len,
                               struct mc_error **err);

/* An incremental demultiplexer: frames may be split anywhere across feeds. */
struct client_demux {
    uint8_t header[8];
    size_t header_len;
    uint32_t left; /* payload bytes of the current frame still to come */
    int stream;
};
/* Feeds bytes; calls fn for each piece of payload (a frame's payload may come in several
 * pieces). A header with a stream other than 0, 1 or 2 is an error (MC_ERR_INVALID) that names
 * it, like the docker CLI's "Unrecognized input header". */
int client_demux_feed(struct client_demux *d, const char *data, size_t len, client_frame_fn fn,
                      void *userdata, struct mc_error **err);
/* True at a frame boundary (the stream may end here). */
bool client_demux_idle(const struct client_demux *d);

/* The detach keys of an interactive terminal (docker's ctrl-p ctrl-q): a filter of what the
 * user types that holds back a partial match and reports a whole one. */
struct client_escape {
    const char *keys; /* NULL or "": no detach keys */
    size_t matched;   /* bytes of keys seen in a row, held back */
};
/* Copies in[0..n) to out (which has room for n + strlen(keys) bytes), minus the detach keys;
 * held-back bytes that turn out not to be the keys are let through first. Returns the bytes
 * written to out; *ret_detach is set when the whole sequence was typed (bytes after it are
 * dropped). */
size_t client_escape_filter(struct client_escape *e, const char *in, size_t n, char *out,
                            bool *ret_detach);

/* A JSON message (the document, borrowed for the call). Returns 0, or -1 to stop. */
typedef int (*client_json_fn)(void *userdata, json_t *msg, struct mc_error **err);

/* An incremental splitter of a JSON message stream: documents separated by newlines (blank
 * lines and "\r" ignored). A line of more than 1 MiB, or one that is not JSON, is an error. */
struct client_jsonlines {
    struct mc_buf buf;
};
int client_jsonlines_feed(struct client_jsonlines *j, const char *data, size_t len,
                          client_json_fn fn, void *userdata, struct mc_error **err);
/* Ends the stream: a last line without its newline is parsed too. Frees the buffer. */
int client_jsonlines_finish(struct client_jsonlines *j, client_json_fn fn, void *userdata,
                            struct mc_error **err);

#endif
