/* The provisioning steps that act through a struct prov_remote (DESIGN.md §5, steps 2-7):
 * facts, hostname, upload, certificates, service, firewall. Waiting for SSH (1) and for the
 * engine (8), and issuing the certificate, are I/O of their own in provision.c.
 *
 * Each step returns 0 and a short detail for the progress line, or -1 with an error naming the
 * real cause; the caller names the step. */
#ifndef MC_STEPS_H
#define MC_STEPS_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "facts.h"
#include "install.h"
#include "remote.h"

struct prov_plan {
    const char *name;          /* the machine's name: the host name */
    const char *engine_binary; /* the local machined to upload */
    struct prov_engine_cfg engine;
    const char *ca_path; /* local files uploaded by the certs step */
    const char *cert_path;
    const char *key_path;
    bool force_upload;     /* upload even when the host has the same binary (upgrade) */
    const char *cache_dir; /* the store's cache/ (the gzipped binary is kept there), or NULL */
    /* The certificates travel with the engine service's files (one command less): the certs
     * step then only checks that they can be read, and the service step installs them. */
    bool certs_with_service;
    int64_t deadline_ms;
    void (*upload_progress)(void *userdata, uint64_t sent, uint64_t total);
    void *userdata;
};

/* Reads the facts as the login user and checks, before anything changes, that the host can
 * take the engine: sudo -n works for a non-root user, the architecture matches the binary's.
 * Errors: MC_ERR_PERMISSION (no passwordless sudo), MC_ERR_UNSUPPORTED (architecture). */
int prov_step_facts(struct prov_remote *r, const struct prov_plan *p, struct prov_facts *ret,
                    char **ret_detail, struct mc_error **err);
/* Sets the host name; nothing to run when the facts show it set already. */
int prov_step_hostname(struct prov_remote *r, const struct prov_plan *p, const struct prov_facts *f,
                       char **ret_detail, struct mc_error **err);
/* Uploads machined with its sha256 checked on the host; skipped when the host has it. */
int prov_step_upload(struct prov_remote *r, const struct prov_plan *p, const struct prov_facts *f,
                     char **ret_detail, struct mc_error **err);
/* Uploads the CA, the server certificate and its key to /etc/machined (one command); with
 * certs_with_service, only reads them (the service step installs them). */
int prov_step_certs(struct prov_remote *r, const struct prov_plan *p, char **ret_detail,
                    struct mc_error **err);
/* Writes config.json, the environment file and the service (and the certificates, with
 * certs_with_service), enables and (re)starts it, in one command; systemd's daemon-reload only
 * when its copy of the unit is stale. */
int prov_step_service(struct prov_remote *r, const struct prov_plan *p, const struct prov_facts *f,
                      char **ret_detail, struct mc_error **err);
/* Opens the engine port where ufw or firewalld is active; nothing to run when the facts
 * show neither installed. */
int prov_step_firewall(struct prov_remote *r, const struct prov_plan *p, const struct prov_facts *f,
                       char **ret_detail, struct mc_error **err);

/* Engine actions on an installed host (the generic driver's start, stop, restart, status). */
int prov_engine_action(struct prov_remote *r, enum prov_init init, enum prov_service_action a,
                       int64_t deadline_ms, struct mc_error **err);
/* Stops and removes the engine (data root only with purge); *ret_removed lists what went. */
int prov_engine_uninstall(struct prov_remote *r, enum prov_init init, const char *data_root,
                          bool purge, int64_t deadline_ms, char **ret_removed,
                          struct mc_error **err);

/* The last lines of the engine's log on the host, for an error message (NULL when none). */
char *prov_engine_log_tail(struct prov_remote *r, enum prov_init init, int64_t deadline_ms);
/* Adds those lines to *err, an error about the engine not starting or not answering: its
 * own words are often the real cause. Returns -1. */
int prov_engine_log_attach(struct prov_remote *r, enum prov_init init, struct mc_error **err);

#endif
