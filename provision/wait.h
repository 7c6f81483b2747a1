/* Waiting for a host: for its sshd (bounded backoff) and for its engine's /_ping over mutual TLS
 * from the workstation. */
#ifndef MC_WAIT_H
#define MC_WAIT_H

#include <stdint.h>

#include "error.h"
#include "ssh.h"

/* Connects to sshd, retrying transient failures (refused, unreachable, timeouts, a silent
 * sshd, a key not yet authorised) with a backoff from 50 ms to 2 s, until deadline_ms. A
 * changed host key, an RSA-only host and an unusable key fail at once. The error of the last
 * attempt says why, prefixed with how long it waited. */
int prov_wait_ssh(const struct prov_ssh_config *c, int64_t deadline_ms, struct prov_ssh **ret,
                  int *ret_attempts, struct mc_error **err);

/* The client TLS material for the engine (what DOCKER_CERT_PATH holds). */
struct prov_tls_files {
    const char *ca;
    const char *cert;
    const char *key;
};

/* One GET /_ping on https://host:port with mutual TLS; 0 when it answered 200 "OK". */
int prov_engine_ping(const char *host, int port, const struct prov_tls_files *tls,
                     int64_t deadline_ms, struct mc_error **err);
/* Pings until it answers or deadline_ms passes (the last failure is the error). */
int prov_wait_engine(const char *host, int port, const struct prov_tls_files *tls,
                     int64_t deadline_ms, struct mc_error **err);

#endif
