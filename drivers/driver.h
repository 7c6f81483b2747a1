/* The driver interface: one const struct machine_driver per driver, listed in registry.c.
 *
 * A driver creates and controls the machine a host runs on (a libvirt domain, an EC2 instance,
 * nothing at all for `none`). It never touches the store or SSH: what it needs comes in a
 * struct driver_ctx, and what it produces (its state, addresses) goes back through it;
 * provision/ saves it. Callers use the driver_*() dispatchers below, which answer
 * MC_ERR_UNSUPPORTED for an empty slot. */
#ifndef MC_DRIVER_H
#define MC_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "error.h"

enum driver_state {
    DRIVER_STATE_NONE, /* unknown */
    DRIVER_STATE_RUNNING,
    DRIVER_STATE_PAUSED,
    DRIVER_STATE_SAVED,
    DRIVER_STATE_STOPPED,
    DRIVER_STATE_STOPPING,
    DRIVER_STATE_STARTING,
    DRIVER_STATE_ERROR,
    DRIVER_STATE_TIMEOUT,
    DRIVER_STATE_NOT_FOUND, /* the VM or instance no longer exists */
    DRIVER_STATE__MAX
};

/* "Running", "Stopped", ... as Docker Machine prints them. */
const char *driver_state_to_string(enum driver_state s);
int driver_state_from_string(const char *s);

enum driver_opt_type {
    DRIVER_OPT_STRING,
    DRIVER_OPT_INT,
    DRIVER_OPT_BOOL,    /* a flag without a value; the env var takes 1/0/true/false */
    DRIVER_OPT_STRINGS, /* repeatable; stored as a JSON array */
};

/* One create option. The CLI turns it into the flag --<driver>-<name> (or --<flag> when flag is
 * set) and the environment variable MACHINE_<DRIVER>_<NAME> (upper case, '-' -> '_'); a flag
 * beats its variable, which beats default_value. The resolved options reach the driver as a JSON
 * object keyed by name; an option with neither value nor default is absent, so the driver can
 * apply further fallbacks of its own (AWS_REGION, ...). */
struct driver_option {
    const char *name; /* "region", "ip-address" */
    enum driver_opt_type type;
    const char *default_value; /* as text; NULL for none */
    const char *help;          /* one line, shown by `machine create --help` */
    const char *flag;          /* full flag name when not --<driver>-<name> (none's "url") */
    const char *metavar;       /* placeholder in help ("URL", "N", "PATH") */
    bool secret;               /* a credential: `inspect` shows it masked, logs never show it */
};

/* Where to reach a host's sshd. */
struct driver_ssh_target {
    char *host;
    int port;
    char *user;
    char *identity; /* the private key to log in with; NULL: the machine's own id_ed25519 */
};
void driver_ssh_target_clear(struct driver_ssh_target *t);

struct driver_ctx;
/* Persists ctx->state immediately (cloud drivers call it as soon as a resource exists). */
typedef int (*driver_save_fn)(struct driver_ctx *ctx, struct mc_error **err);
/* A progress line for the user ("waiting for the instance to run"). */
typedef void (*driver_progress_fn)(struct driver_ctx *ctx, const char *msg);

struct driver_ctx {
    const char *name;           /* the machine's name (an RFC 1123 label) */
    const char *dir;            /* a folder that belongs to the driver (exists, 0700) */
    const char *certs_dir;      /* where DOCKER_CERT_PATH points (exists, 0700); drivers that
                                   bring their own TLS material (none) put ca.pem, cert.pem and
                                   key.pem there, others leave it to provision/ */
    const char *cache_dir;      /* the store's cache/ folder, shared by all machines (exists,
                                 * 0700), for downloads such as VM images; NULL: none, and the
                                 * driver caches under dir */
    const char *ssh_public_key; /* the machine's OpenSSH public key line, or NULL */
    const char *ssh_user;       /* the user the provisioner will log in as, or NULL */
    int engine_port;            /* the engine's TCP port (2376 by default) */
    const json_t *options;      /* resolved create options (see struct driver_option) */
    json_t *state;              /* the driver's own saved state: a JSON object it owns */
    int64_t deadline_ms;        /* mc_now_ms() deadline for this call; 0: none */
    driver_save_fn save;        /* NULL in tests that do not persist */
    driver_progress_fn progress;
    void *userdata; /* for save and progress */
};

struct machine_driver {
    const char *name;
    const char *const *aliases; /* NULL-terminated, or NULL */
    const char *description;
    bool available;                      /* false: known but not built yet ("not yet available") */
    bool provisions;                     /* true: the host is provisioned over SSH after create */
    const struct driver_option *options; /* terminated by an entry with name == NULL */

    /* Checks flags, credentials and quotas before anything is made (errors: MC_ERR_PRECREATE). */
    int (*precreate_check)(struct driver_ctx *ctx, struct mc_error **err);
    /* Makes the machine and starts it. Must be resumable: state from an interrupted create is in
     * ctx->state, and resources are found by the machine's name too. */
    int (*create)(struct driver_ctx *ctx, struct mc_error **err);
    /* Deletes everything create made. force: go on past errors, reporting the first. */
    int (*remove)(struct driver_ctx *ctx, bool force, struct mc_error **err);
    int (*start)(struct driver_ctx *ctx, struct mc_error **err);
    int (*stop)(struct driver_ctx *ctx, struct mc_error **err);
    int (*restart)(struct driver_ctx *ctx, struct mc_error **err);
    int (*kill)(struct driver_ctx *ctx, struct mc_error **err);
    int (*get_state)(struct driver_ctx *ctx, enum driver_state *ret, struct mc_error **err);
    /* The address the engine and SSH are reached at (newly allocated). */
    char *(*get_ip)(struct driver_ctx *ctx, struct mc_error **err);
    int (*get_ssh_target)(struct driver_ctx *ctx, struct driver_ssh_target *ret,
                          struct mc_error **err);
    /* The engine URL; when empty, tcp://<get_ip>:<engine_port>. */
    char *(*get_url)(struct driver_ctx *ctx, struct mc_error **err);
};

/* Lookup by name or alias, in registry.c. NULL when unknown. */
const struct machine_driver *driver_find(const char *name);
/* All drivers, NULL-terminated, in display order. */
const struct machine_driver *const *driver_list(void);
/* The default for --driver. */
#define DRIVER_DEFAULT "libvirt"

/* Dispatchers: an empty slot gives MC_ERR_UNSUPPORTED naming the driver and the action. */
int driver_precreate_check(const struct machine_driver *d, struct driver_ctx *ctx,
                           struct mc_error **err);
int driver_create(const struct machine_driver *d, struct driver_ctx *ctx, struct mc_error **err);
int driver_remove(const struct machine_driver *d, struct driver_ctx *ctx, bool force,
                  struct mc_error **err);
int driver_start(const struct machine_driver *d, struct driver_ctx *ctx, struct mc_error **err);
int driver_stop(const struct machine_driver *d, struct driver_ctx *ctx, struct mc_error **err);
int driver_restart(const struct machine_driver *d, struct driver_ctx *ctx, struct mc_error **err);
int driver_kill(const struct machine_driver *d, struct driver_ctx *ctx, struct mc_error **err);
int driver_get_state(const struct machine_driver *d, struct driver_ctx *ctx, enum driver_state *ret,
                     struct mc_error **err);
char *driver_get_ip(const struct machine_driver *d, struct driver_ctx *ctx, struct mc_error **err);
int driver_get_ssh_target(const struct machine_driver *d, struct driver_ctx *ctx,
                          struct driver_ssh_target *ret, struct mc_error **err);
char *driver_get_url(const struct machine_driver *d, struct driver_ctx *ctx, struct mc_error **err);
/* True when the driver fills the slot (so the provisioner knows when to act instead). */
bool driver_has_start(const struct machine_driver *d);
bool driver_has_stop(const struct machine_driver *d);
bool driver_has_remove(const struct machine_driver *d);

/* Helpers for drivers. */
void driver_progress(struct driver_ctx *ctx, const char *fmt, ...) _printf_(2, 3);
int driver_save(struct driver_ctx *ctx, struct mc_error **err);
/* The resolved option as a string / integer / boolean (the default when absent). */
const char *driver_opt_str(const struct driver_ctx *ctx, const char *name);
int64_t driver_opt_int(const struct driver_ctx *ctx, const char *name, int64_t dflt);
bool driver_opt_bool(const struct driver_ctx *ctx, const char *name);

#endif
