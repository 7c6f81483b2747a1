/* Machine operations: the layer that sees both the drivers and the store (DESIGN.md §2).
 *
 * create (record first, resumable), rm, start/stop/restart/kill, provision and live state.
 * Each operation locks the machine in the store, builds the driver's context from the record
 * (its saved state, resolved options, folders, SSH key) and saves the record whenever the driver
 * asks (driver_save) and after each step. Provisioning over SSH, and the engine actions taken
 * for drivers that leave start/stop/remove empty, are in provision.h. */
#ifndef MC_MACHINE_OPS_H
#define MC_MACHINE_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "driver.h"
#include "error.h"
#include "store.h"

/* The engine's TCP port when --engine-port is not given. */
#define MACHINE_ENGINE_PORT 2376
/* --ssh-timeout and --provision-timeout when not given (documented in machine-create(1)). */
#define MACHINE_SSH_TIMEOUT_MS       60000
#define MACHINE_PROVISION_TIMEOUT_MS 120000

/* Create steps, recorded in config.create.step. */
#define MACHINE_STEP_RECORD        "record"
#define MACHINE_STEP_DRIVER_CREATE "driver-create"
#define MACHINE_STEP_PROVISION     "provision"
#define MACHINE_STEP_DONE          "done"

/* A progress line for the user (stderr in the CLI). */
typedef void (*machine_progress_fn)(void *userdata, const char *msg);

struct machine_create_opts {
    const char *name;
    const char *driver;           /* a driver name or alias */
    const json_t *options;        /* the resolved driver options (see struct driver_option) */
    bool no_provision;            /* stop after the driver's create */
    int engine_port;              /* 0: MACHINE_ENGINE_PORT */
    char *const *tls_san;         /* extra SANs for the server certificate, or NULL */
    int tls_validity_days;        /* the server certificate's validity; 0: PROV_CERT_DEFAULT_DAYS */
    const char *engine_binary;    /* the machined to upload; NULL: the one next to machine */
    const char *ssh_user;         /* the user to provision as; NULL: the driver's */
    char *const *engine_opts;     /* --engine-opt KEY=VALUE (config.json keys), or NULL */
    char *const *engine_labels;   /* --engine-label KEY=VALUE, or NULL */
    char *const *engine_env;      /* --engine-env NAME=VALUE, or NULL */
    int64_t ssh_timeout_ms;       /* 0: MACHINE_SSH_TIMEOUT_MS */
    int64_t provision_timeout_ms; /* each provisioning step; 0: MACHINE_PROVISION_TIMEOUT_MS */
    machine_progress_fn progress;
    void *userdata;
};

/* An open machine: its record, its driver and a driver context pointing into the record.
 * With a lock, ctx.save persists the record (config.json) at once; without one (readers such
 * as `ls`), ctx.save is NULL and ctx.state is a private copy. */
struct machine_handle {
    struct store *store; /* borrowed */
    struct store_machine *rec;
    const struct machine_driver *driver;
    struct driver_ctx ctx;
    int lock_fd;       /* -1 when opened without the lock */
    bool state_copied; /* ctx.state is a reader's private copy */
    char *dir;         /* machines/NAME */
    char *driver_dir;  /* machines/NAME/driver: ctx.dir */
    char *certs_dir;   /* machines/NAME/certs: ctx.certs_dir, DOCKER_CERT_PATH */
    char *cache_dir;   /* cache/, shared by all machines: ctx.cache_dir (VM images) */
    char *ssh_public_key;
    machine_progress_fn progress;
    void *userdata;
    bool purge; /* rm --purge: the engine's data root goes too (provisioned hosts) */
};

/* Opens machine name. With lock, takes the machine's lock (waiting) and makes its folders.
 * Errors: MC_ERR_NOT_FOUND, MC_ERR_INVALID (corrupt record), MC_ERR_UNSUPPORTED (the driver
 * is unknown to or not available in this build). *ret is owned by the caller. */
int machine_open(struct store *s, const char *name, bool lock, struct machine_handle **ret,
                 struct mc_error **err);
/* Builds a handle around a record the caller already loaded (takes ownership of rec), without
 * the lock: used by `ls` threads. */
int machine_open_record(struct store *s, struct store_machine *rec, struct machine_handle **ret,
                        struct mc_error **err);
/* Unlocks and frees; NULL is accepted. */
void machine_close(struct machine_handle *h);
MC_DEFINE_CLEANUP(struct machine_handle, machine_close)
#define _cleanup_machine_ _cleanup_(machine_closep)

/* Saves the record now (the handle must hold the lock). */
int machine_save(struct machine_handle *h, struct mc_error **err);
/* Reports a progress line through the handle's callback. */
void machine_progress(struct machine_handle *h, const char *fmt, ...) _printf_(2, 3);
/* The value of a create flag recorded in config.flags, or NULL / dflt. */
const char *machine_flag_str(const struct machine_handle *h, const char *key);
int64_t machine_flag_int(const struct machine_handle *h, const char *key, int64_t dflt);
/* The recorded --tls-san values (a new vector, never NULL). */
char **machine_flag_strv(const struct machine_handle *h, const char *key);

/* Creates a machine, or resumes one whose create was interrupted or failed, with the flags it
 * was first given (DESIGN.md §3). The record is written before anything is made. A ready
 * machine is refused (MC_ERR_EXISTS); a failed pre-create check is MC_ERR_PRECREATE and
 * leaves nothing behind. */
int machine_create(struct store *s, const struct machine_create_opts *o, struct mc_error **err);

/* Deletes the machine's resources (driver, or the provisioner's uninstall for drivers without
 * a remove slot) and then its folder. force: go on past errors and remove the record anyway
 * (also a corrupt one, or one of an unknown driver). */
int machine_remove(struct store *s, const char *name, bool force, machine_progress_fn progress,
                   void *userdata, struct mc_error **err);

/* machine_remove, and on a provisioned host the engine's data root (images, containers,
 * volumes) too: `rm --purge`. */
int machine_purge(struct store *s, const char *name, bool force, machine_progress_fn progress,
                  void *userdata, struct mc_error **err);

/* Power actions. An empty driver slot falls back to the provisioner's engine action for
 * drivers that provision (generic), and restart falls back to stop + start. start and restart
 * record the engine URL again and re-issue certificates when the address changed. */
enum machine_action {
    MACHINE_START,
    MACHINE_STOP,
    MACHINE_RESTART,
    MACHINE_KILL,
    MACHINE_ACTION__MAX
};
const char *machine_action_name(enum machine_action a);
int machine_act(struct store *s, const char *name, enum machine_action a,
                machine_progress_fn progress, void *userdata, struct mc_error **err);

/* Runs (or re-runs) provisioning of a created machine (`machine provision NAME`). */
int machine_provision(struct store *s, const char *name, machine_progress_fn progress,
                      void *userdata, struct mc_error **err);

/* Live queries through the driver, bounded by deadline_ms (mc_now_ms() based; 0: none). A
 * provisioning driver without get_state (generic) is asked through its engine instead:
 * Running when it answers, Stopped when it does not. */
int machine_get_state(struct machine_handle *h, int64_t deadline_ms, enum driver_state *ret,
                      struct mc_error **err);
char *machine_get_ip(struct machine_handle *h, int64_t deadline_ms, struct mc_error **err);
char *machine_get_url(struct machine_handle *h, int64_t deadline_ms, struct mc_error **err);

#endif
