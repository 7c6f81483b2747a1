/* The store: machine records, locks and the files of each machine (DESIGN.md §3).
 *
 *   ROOT/                       $MACHINE_STORAGE_PATH, default ~/.machine (0700)
 *   ROOT/certs/                 the store CA and client certificate (provision/certs.h)
 *   ROOT/machines/NAME/         one folder per machine (0700), config.json (0600)
 *   ROOT/locks/                 flock files: machine.NAME.lock per machine, ca.lock for the CA
 *   ROOT/trash/                 machines being removed (renamed here first, so that a crash
 *                               never leaves a half-removed machine under machines/)
 *
 * Every write is atomic (mc_write_file_atomic). Writers hold the machine's lock; readers (ls,
 * env, inspect) need none, since a config.json is always whole. docs/store-format.md describes
 * config.json. */
#ifndef MC_STORE_H
#define MC_STORE_H

#include <stdbool.h>

#include <jansson.h>

#include "error.h"

/* The version of config.json this code writes. Older versions are migrated on load. */
#define STORE_CONFIG_VERSION 1
/* config.json is never larger than this. */
#define STORE_CONFIG_MAX (1024 * 1024)

struct store {
    char *root;
    char *machines_dir;
    char *certs_dir;
    char *locks_dir;
    char *trash_dir;
    int machines_fd; /* machines/, for short lookups when reading many records */
};

/* The default root: $MACHINE_STORAGE_PATH, else $HOME/.machine. Newly allocated. */
char *store_default_path(void);

/* Opens the store at root, creating its folders (0700) when missing. *ret is owned by the
 * caller (store_free). */
int store_open(const char *root, struct store **ret, struct mc_error **err);
void store_free(struct store *s);
MC_DEFINE_CLEANUP(struct store, store_free)
#define _cleanup_store_ _cleanup_(store_freep)

/* Paths, newly allocated: machines/NAME, machines/NAME/REL, certs/REL. */
char *store_machine_dir(const struct store *s, const char *name);
char *store_machine_path(const struct store *s, const char *name, const char *rel);
char *store_certs_path(const struct store *s, const char *rel);

/* Refuses a name that is not an RFC 1123 label, with a message naming the rule. */
int store_check_name(const char *name, struct mc_error **err);

/* Takes the machine's exclusive lock, waiting at most timeout_ms (-1: forever). Returns the fd
 * that holds it; release it with store_unlock_machine(). While the lock is held a marker
 * locks/machine.NAME.dirty exists; one left by a writer that crashed tells the next holder (and
 * store_tidy) to remove the stale temporary files of its interrupted writes. */
int store_lock_machine(const struct store *s, const char *name, int timeout_ms,
                       struct mc_error **err);
/* Removes the dirty marker and releases the lock (fd < 0 is accepted). */
void store_unlock_machine(const struct store *s, const char *name, int fd);
/* Takes the store's CA lock (creation of the CA and client certificate); close the fd. */
int store_lock_ca(const struct store *s, int timeout_ms, struct mc_error **err);
/* Cleans up after writers that crashed: for each dirty marker whose lock nobody holds, removes
 * the machine's stale temporary files and the marker (never waits). One readdir of locks/ when
 * nothing crashed, so `ls` calls it every time. */
void store_tidy(const struct store *s);
/* The same for one machine. */
void store_tidy_machine(const struct store *s, const char *name);

/* The names of all machine folders, sorted. A folder without a readable config.json is
 * listed too, so that `ls` can show its error and `rm -f` remove it. */
int store_list_names(const struct store *s, char ***ret, struct mc_error **err);

bool store_machine_exists(const struct store *s, const char *name);

/* The create state of a machine (DESIGN.md §3). */
enum store_create_state {
    STORE_CREATE_CREATING,
    STORE_CREATE_PROVISIONING,
    STORE_CREATE_READY,
    STORE_CREATE_FAILED,
    STORE_CREATE__MAX
};
/* "creating", "provisioning", "ready", "failed". */
const char *store_create_state_to_string(enum store_create_state s);
int store_create_state_from_string(const char *s);

/* A parsed config.json. The JSON document is the source of truth; the fields are views into
 * it kept in sync by the setters below, so unknown keys (written by newer code or by the
 * provisioner) survive a load and save. */
struct store_machine {
    char *name;
    json_t *config;     /* the whole document (owned) */
    const char *driver; /* config.driver */
    enum store_create_state create_state;
    const char *create_step;  /* the step in progress, or the failed step; may be NULL */
    const char *create_error; /* the cause of a failure; NULL unless failed */
};

/* A new record in state "creating" for a machine of the given driver. */
struct store_machine *store_machine_new(const char *name, const char *driver);
/* Validates and takes ownership of a parsed config.json document (pure, no I/O). Older
 * versions are migrated; newer ones are refused. */
int store_machine_parse(const char *name, json_t *doc, struct store_machine **ret,
                        struct mc_error **err);
void store_machine_free(struct store_machine *m);
MC_DEFINE_CLEANUP(struct store_machine, store_machine_free)
#define _cleanup_store_machine_ _cleanup_(store_machine_freep)

/* Reads machines/NAME/config.json. MC_ERR_NOT_FOUND when the machine does not exist;
 * MC_ERR_INVALID when its folder has no config.json or the file is corrupt. */
int store_machine_load(const struct store *s, const char *name, struct store_machine **ret,
                       struct mc_error **err);
/* Writes the record atomically (0600), creating the machine's folder (0700) when needed. The
 * caller holds the machine's lock. */
int store_machine_save(const struct store *s, const struct store_machine *m, struct mc_error **err);
/* Removes the machine's folder: it is renamed into trash/ first (atomic), then deleted.
 * A missing machine is MC_ERR_NOT_FOUND. The caller holds the machine's lock. */
int store_machine_remove(const struct store *s, const char *name, struct mc_error **err);
/* Deletes what interrupted removals left in trash/ (best effort). */
void store_empty_trash(const struct store *s);

/* Record setters (keep the fields and the document in sync). step and error may be NULL. */
void store_machine_set_create_state(struct store_machine *m, enum store_create_state state,
                                    const char *step, const char *error);
/* A sub-object of the document, created empty when missing or not an object: "driver_state",
 * "options", "flags", "engine", "host". Borrowed. */
json_t *store_machine_section(struct store_machine *m, const char *key);
/* The same, read-only: NULL when missing. */
const json_t *store_machine_get_section(const struct store_machine *m, const char *key);
/* Replaces a section (takes a reference to value). */
void store_machine_set_section(struct store_machine *m, const char *key, json_t *value);

/* The engine URL recorded at create or start (config.engine.url), or NULL. */
const char *store_machine_url(const struct store_machine *m);
/* True when machines/NAME/certs holds ca.pem, cert.pem and key.pem. */
bool store_machine_has_tls(const struct store *s, const char *name);

#endif
