/* For client/ only: the client object and the byte transport under every exchange (a unix
 * socket, plain tcp, or tcp with TLS through OpenSSL). */
#ifndef MC_CLIENT_INTERNAL_H
#define MC_CLIENT_INTERNAL_H

#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "client-http.h"
#include "client.h"
#include "strbuf.h"

struct client {
    struct client_config cfg;
    char *socket_path; /* unix:// */
    char *tcp_host;    /* tcp:// (no brackets) */
    int tcp_port;
    char *host_header; /* "192.0.2.10:2376", or "api.moby.localhost" for unix sockets */
    pthread_mutex_t tls_lock;
    SSL_CTX *tls; /* made at the first TLS connection, under tls_lock */
};

/* The largest whole answer read into memory. */
#define CLIENT_ANSWER_MAX (64 * 1024 * 1024)

/* The answer of a would-block read or write: poll for *want, then call again. */
#define TR_AGAIN (-2)

struct transport {
    int fd;
    SSL *ssl;
    bool write_shut;
    const char *host; /* the engine URL, for messages (borrowed from the client) */
    int timeout_ms;   /* the exchange's timeout, for messages */
};
#define TRANSPORT_INIT       \
    {                        \
        -1, NULL, 0, NULL, 0 \
    }

/* Connects to the client's engine (TLS handshake included) within timeout_ms (<= 0: none),
 * the deadline being mc_now_ms() based. The socket is non-blocking and O_CLOEXEC. */
int tr_connect(struct client *c, int timeout_ms, int64_t deadline, struct transport *ret,
               struct mc_error **err);
void tr_close(struct transport *t);

/* One non-blocking read: > 0 bytes, 0 at the peer's end of stream, TR_AGAIN with *want set,
 * or -1. */
ssize_t tr_read(struct transport *t, void *buf, size_t n, short *want, struct mc_error **err);
/* One non-blocking write: > 0 bytes written, TR_AGAIN with *want set, or -1. */
ssize_t tr_write(struct transport *t, const void *buf, size_t n, short *want,
                 struct mc_error **err);
/* True when bytes are already decrypted and buffered (poll would not see them). */
bool tr_pending(const struct transport *t);
/* Blocking forms, bounded by deadline (0: none). */
ssize_t tr_read_wait(struct transport *t, void *buf, size_t n, int64_t deadline,
                     struct mc_error **err);
int tr_write_all(struct transport *t, const void *buf, size_t n, int64_t deadline,
                 struct mc_error **err);
/* Ends the write direction, keeping the read one: TLS close_notify, else shutdown(SHUT_WR). */
int tr_shutdown_write(struct transport *t, int64_t deadline, struct mc_error **err);
/* Waits until the transport can go on in the direction of want, or deadline. */
int tr_poll(struct transport *t, short want, int64_t deadline, struct mc_error **err);

struct client_exchange {
    struct client *c; /* borrowed */
    struct transport t;
    char *method;
    int64_t deadline; /* 0: none */
    struct client_http_head head;
    enum client_http_body kind;
    bool raw;      /* after a 101: the connection is the stream */
    uint64_t left; /* CLIENT_BODY_LENGTH: bytes still to come */
    struct client_chunked chunked;
    bool done;        /* the body has ended */
    struct mc_buf in; /* read but not yet consumed */
};

/* The deadline for a timeout in ms from now (0 for none). */
int64_t client_deadline(int timeout_ms);

#endif
