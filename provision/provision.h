/* Provisioning entry points (DESIGN.md §5), called by machine-ops for drivers whose
 * `provisions` is true, and by the CLI verbs provision, upgrade and regenerate-certs.
 *
 * Each takes an open, locked machine handle (machine-ops.h): h->driver and h->ctx reach the
 * driver (driver_get_ssh_target, driver_get_ip), h->rec is the record (config.flags holds the
 * create flags: engine_port, tls_san, engine_binary, ssh_user; the provisioner records host
 * facts in the "host" section) and machine_save(h) persists it. Files: machines/NAME/id_ed25519
 * (+ .pub, made by machine_create before the driver runs), machines/NAME/known_hosts,
 * machines/NAME/server.pem and server-key.pem; certificates come from certs.h
 * (prov_certs_issue_server). Before prov_provision_host runs, machine-ops has made the store CA
 * if needed and copied the client files into machines/NAME/certs (prov_certs_install_client).
 *
 * Every step prints a progress line with its duration and is bounded by its own timeout
 * (flags ssh_timeout_ms for SSH, provision_timeout_ms for each other step); a failure names
 * the step and its real cause. */
#ifndef MC_PROVISION_H
#define MC_PROVISION_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "machine-ops.h"

/* Provisions the host: wait for SSH, facts, hostname, upload machined, server certificate,
 * service, firewall, wait for the engine (steps 1-8). Safe to run again. */
int prov_provision_host(struct machine_handle *h, struct mc_error **err);

/* Engine-level actions for drivers that leave the slot empty (generic): start, stop or
 * restart the engine service, or uninstall it (force: go on past errors). */
int prov_engine_start(struct machine_handle *h, struct mc_error **err);
int prov_engine_stop(struct machine_handle *h, struct mc_error **err);
int prov_engine_restart(struct machine_handle *h, struct mc_error **err);
int prov_engine_remove(struct machine_handle *h, bool force, struct mc_error **err);

/* The state of a host whose driver has no get_state (generic), from its engine: Running when
 * GET /_ping answers over mutual TLS before deadline_ms, Stopped when it does not. Never
 * touches SSH (ls stays fast). */
int prov_engine_state(struct machine_handle *h, int64_t deadline_ms, enum driver_state *ret,
                      struct mc_error **err);

/* `machine upgrade NAME`: replaces machined and restarts it, keeping images and containers. */
int prov_upgrade_engine(struct machine_handle *h, struct mc_error **err);
/* `machine regenerate-certs NAME` (and start, when the address changed): re-issues the server
 * certificate for the host's current addresses, uploads it and restarts the engine. */
int prov_regenerate_certs(struct machine_handle *h, struct mc_error **err);

#endif
