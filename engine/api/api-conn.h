/* A client connection: a non-blocking socket, optionally wrapped in TLS, with an input buffer
 * and deadlines. One thread reads; any thread may write (writes are serialised, and every
 * OpenSSL call on the connection is under one lock, so a hijacked stream can read stdin in one
 * thread while another writes output). Internal to engine/api. */
#ifndef ENG_API_CONN_H
#define ENG_API_CONN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <openssl/ssl.h>

#include "error.h"

struct eng_conn {
    int fd;
    SSL *ssl;                 /* NULL on the unix socket */
    pthread_mutex_t ssl_lock; /* every SSL_* call */
    pthread_mutex_t wlock;    /* one writer at a time, so frames stay whole */
    char *in;                 /* buffered input: in[in_off .. in_len) */
    size_t in_off, in_len, in_cap;
    bool eof; /* the peer closed its sending direction */
    bool write_closed;
    bool broken;   /* a fatal TLS or socket error: no close_notify at the end */
    char peer[64]; /* for logs: "tcp 192.0.2.1:5555" or "unix" */
};

/* Plain sockets stay blocking with this receive timeout, so that a read with no deadline (or
 * this one) is a single recv() instead of poll() then recv(): an idle keep-alive connection
 * costs one system call per request less. Reads with other deadlines, and all writes, use
 * MSG_DONTWAIT and poll(). TLS sockets are non-blocking (OpenSSL's calls are locked and never
 * held across a wait). */
#define ENG_CONN_BLOCKING_TIMEOUT_MS 300000

/* Takes ownership of fd. With ctx, the connection speaks TLS and eng_conn_handshake() must
 * succeed first. */
void eng_conn_init(struct eng_conn *c, int fd, SSL_CTX *ctx, const char *peer);
/* The TLS server handshake, bounded by timeout_ms; a client without a certificate signed by
 * the CA fails here (MC_ERR_AUTH). */
int eng_conn_handshake(struct eng_conn *c, int timeout_ms, struct mc_error **err);
/* Reads more bytes into the input buffer (growing it up to max_buffered bytes). Returns the
 * count, 0 at EOF, -1 on error or when timeout_ms passes (MC_ERR_TIMEOUT; -1 waits forever). */
ssize_t eng_conn_fill(struct eng_conn *c, size_t max_buffered, int timeout_ms,
                      struct mc_error **err);
/* Buffered bytes first, then the socket: up to n bytes; 0 at EOF. */
ssize_t eng_conn_read(struct eng_conn *c, void *buf, size_t n, int timeout_ms,
                      struct mc_error **err);
/* Bytes available without blocking (buffered here or inside OpenSSL). */
size_t eng_conn_buffered(struct eng_conn *c);
/* Drops n buffered bytes. */
void eng_conn_consume(struct eng_conn *c, size_t n);
/* Writes everything (MC_ERR_IO when the peer is gone; MC_ERR_TIMEOUT after timeout_ms). */
int eng_conn_writev(struct eng_conn *c, const struct iovec *iov, int n, int timeout_ms,
                    struct mc_error **err);
int eng_conn_write(struct eng_conn *c, const void *data, size_t n, int timeout_ms,
                   struct mc_error **err);
/* Half-close: shutdown(SHUT_WR), or a TLS close_notify. */
int eng_conn_shutdown_write(struct eng_conn *c);
/* True when the peer has closed the connection (looks without consuming). */
bool eng_conn_peer_gone(struct eng_conn *c);
/* Ends TLS politely (best effort) and closes the socket; frees buffers. */
void eng_conn_close(struct eng_conn *c);

#endif
