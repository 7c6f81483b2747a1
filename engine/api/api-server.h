/* The listening side of machined: listeners, the accept loop, and one thread per connection
 * (stack ENG_CONN_STACK_SIZE), each reading requests, routing them and calling handlers.
 *
 * Why threads: a connection's handler may block for as long as a container lives (attach, wait,
 * logs -f) and `docker run` holds 3-4 connections at once, so a thread per connection keeps
 * handlers plain sequential code. Threads are cheap here: 256 KiB of reserved stack each, of
 * which a few pages are touched, and malloc arenas are capped (main.c). */
#ifndef ENG_API_SERVER_H
#define ENG_API_SERVER_H

#include <stdbool.h>

#include <openssl/ssl.h>

#include "engine.h"
#include "error.h"

#define ENG_CONN_STACK_SIZE (256 * 1024)
#define ENG_MAX_CONNECTIONS 4096

struct eng_server;

/* A server for the daemon d routing through modules (NULL-terminated, usually eng_modules). */
struct eng_server *eng_server_new(struct eng_daemon *d, const struct eng_module *const *modules);
/* Frees the server (after eng_server_shutdown). NULL is accepted. */
void eng_server_free(struct eng_server *s);

/* Adds a listener. tcp://ADDR:PORT requires tls (mutual TLS); ADDR is an IPv4 or IPv6
 * literal, or "localhost". unix:///PATH creates the socket with mode 0660, owned by root's
 * group; a stale socket file is replaced, a live one (another daemon answers) is an error. */
int eng_server_listen(struct eng_server *s, const char *url, SSL_CTX *tls, struct mc_error **err);
/* Listens on an already-bound socket (tests); takes ownership of fd. */
int eng_server_listen_fd(struct eng_server *s, int fd, SSL_CTX *tls, struct mc_error **err);
/* The port of the n-th tcp listener (tests that bind port 0), or -1. */
int eng_server_tcp_port(struct eng_server *s, int n);

/* Accepts connections until wake_fd becomes readable (a signalfd, an eventfd). Returns 0 then;
 * -1 when polling fails. */
int eng_server_run(struct eng_server *s, int wake_fd, struct mc_error **err);
/* Closes the listeners and removes unix socket files; open connections go on. */
void eng_server_stop_listening(struct eng_server *s);
/* Stops listening, shuts every open connection down, and waits up to timeout_ms for their
 * threads to finish. */
void eng_server_shutdown(struct eng_server *s, int timeout_ms);
/* Serves one connected socket in the calling thread until it closes (tests, fuzzing).
 * Takes ownership of fd. */
void eng_server_serve_fd(struct eng_server *s, int fd, SSL_CTX *tls);
/* Connections currently open. */
int eng_server_connections(struct eng_server *s);

#endif
