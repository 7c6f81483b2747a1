/* Machine operations over the store and the drivers (machine-ops.h). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "certs.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "machine-ops.h"
#include "provision.h"
#include "sshkey.h"
#include "strv.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

#define SSH_PUBKEY_MAX 16384

static const char *const action_names[MACHINE_ACTION__MAX] = {
    [MACHINE_START] = "start",
    [MACHINE_STOP] = "stop",
    [MACHINE_RESTART] = "restart",
    [MACHINE_KILL] = "kill",
};

const char *
machine_action_name(enum machine_action a)
{
    return (unsigned)a < MACHINE_ACTION__MAX ? action_names[a] : "act on";
}

void
machine_progress(struct machine_handle *h, const char *fmt, ...)
{
    if (!h->progress)
        return;
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    h->progress(h->userdata, msg);
}

/* A machine lock on the stack, released (with its dirty marker) when the scope ends unless a
 * handle took it over. */
struct held_lock {
    struct store *s;
    const char *name;
    int fd;
};

static void
held_lock_release(struct held_lock *l)
{
    store_unlock_machine(l->s, l->name, l->fd);
    l->fd = -1;
}

static int
ctx_save(struct driver_ctx *ctx, struct mc_error **err)
{
    return machine_save(ctx->userdata, err);
}

static void
ctx_progress(struct driver_ctx *ctx, const char *msg)
{
    struct machine_handle *h = ctx->userdata;
    machine_progress(h, "%s", msg);
}

int
machine_save(struct machine_handle *h, struct mc_error **err)
{
    if (h->lock_fd < 0)
        return mc_error_set(err, MC_ERR_FAILED, "machine '%s' was opened without its lock",
                            h->rec->name);
    return store_machine_save(h->store, h->rec, err);
}

const char *
machine_flag_str(const struct machine_handle *h, const char *key)
{
    return mc_json_str(store_machine_get_section(h->rec, "flags"), key);
}

int64_t
machine_flag_int(const struct machine_handle *h, const char *key, int64_t dflt)
{
    return mc_json_int(store_machine_get_section(h->rec, "flags"), key, dflt);
}

char **
machine_flag_strv(const struct machine_handle *h, const char *key)
{
    return mc_json_to_strv(json_object_get(store_machine_get_section(h->rec, "flags"), key));
}

static int
find_driver(const char *name, const struct machine_driver **ret, struct mc_error **err)
{
    const struct machine_driver *d = driver_find(name);
    if (!d)
        return mc_error_set(err, MC_ERR_UNSUPPORTED, "unknown driver '%s'", name);
    if (!d->available)
        return mc_error_set(err, MC_ERR_UNSUPPORTED, "the '%s' driver is not yet available",
                            d->name);
    *ret = d;
    return 0;
}

void
machine_close(struct machine_handle *h)
{
    if (!h)
        return;
    if (h->state_copied)
        json_decref(h->ctx.state);
    store_unlock_machine(h->store, h->rec->name, h->lock_fd);
    store_machine_free(h->rec);
    free(h->dir);
    free(h->driver_dir);
    free(h->certs_dir);
    free(h->cache_dir);
    free(h->ssh_public_key);
    free(h);
}

static void
read_public_key(struct machine_handle *h)
{
    _cleanup_free_ char *path = mc_path_join(h->dir, "id_ed25519.pub");
    _cleanup_error_ struct mc_error *e = NULL;
    char *key = NULL;
    if (!mc_path_exists(path) || mc_read_file(path, SSH_PUBKEY_MAX, &key, NULL, &e) < 0)
        return;
    key[strcspn(key, "\r\n")] = '\0';
    free(h->ssh_public_key);
    h->ssh_public_key = key;
    h->ctx.ssh_public_key = key;
}

/* Points the driver context at the record: its options, its state, its folders. */
static void
ctx_init(struct machine_handle *h)
{
    json_t *state = store_machine_section(h->rec, "driver_state");
    h->state_copied = h->lock_fd < 0;
    h->ctx = (struct driver_ctx){
        .name = h->rec->name,
        .dir = h->driver_dir,
        .certs_dir = h->certs_dir,
        .cache_dir = h->cache_dir,
        .ssh_user = machine_flag_str(h, "ssh_user"),
        .engine_port = (int)machine_flag_int(h, "engine_port", MACHINE_ENGINE_PORT),
        .options = store_machine_section(h->rec, "options"),
        .state = h->lock_fd >= 0 ? state : json_deep_copy(state),
        .save = h->lock_fd >= 0 ? ctx_save : NULL,
        .progress = ctx_progress,
        .userdata = h,
    };
    read_public_key(h);
}

static struct machine_handle *
handle_new(struct store *s, struct store_machine *rec, const struct machine_driver *d, int lock_fd)
{
    struct machine_handle *h = xzalloc(sizeof(*h));
    h->store = s;
    h->rec = rec;
    h->driver = d;
    h->lock_fd = lock_fd;
    h->dir = store_machine_dir(s, rec->name);
    h->driver_dir = mc_path_join(h->dir, "driver");
    h->certs_dir = mc_path_join(h->dir, "certs");
    h->cache_dir = mc_path_join(s->root, "cache");
    ctx_init(h);
    return h;
}

/* The folders a driver may rely on; made under the lock. */
static int
make_folders(struct machine_handle *h, struct mc_error **err)
{
    if (mc_mkdir_p(h->driver_dir, 0700, err) < 0 || mc_mkdir_p(h->certs_dir, 0700, err) < 0 ||
        mc_mkdir_p(h->cache_dir, 0700, err) < 0)
        return mc_error_prefix(err, "machine '%s': ", h->rec->name);
    return 0;
}

int
machine_open_record(struct store *s, struct store_machine *rec, struct machine_handle **ret,
                    struct mc_error **err)
{
    _cleanup_store_machine_ struct store_machine *owned = rec;
    const struct machine_driver *d = NULL;
    if (find_driver(rec->driver, &d, err) < 0)
        return mc_error_prefix(err, "machine '%s': ", rec->name);
    *ret = handle_new(s, TAKE_PTR(owned), d, -1);
    return 0;
}

int
machine_open(struct store *s, const char *name, bool lock, struct machine_handle **ret,
             struct mc_error **err)
{
    _cleanup_(held_lock_release) struct held_lock lk = { s, name, -1 };
    if (lock && (lk.fd = store_lock_machine(s, name, -1, err)) < 0)
        return -1;
    _cleanup_store_machine_ struct store_machine *rec = NULL;
    if (store_machine_load(s, name, &rec, err) < 0)
        return -1;
    const struct machine_driver *d = NULL;
    if (find_driver(rec->driver, &d, err) < 0)
        return mc_error_prefix(err, "machine '%s': ", name);
    _cleanup_machine_ struct machine_handle *h = handle_new(s, TAKE_PTR(rec), d, TAKE_FD(lk.fd));
    if (lock && make_folders(h, err) < 0)
        return -1;
    *ret = TAKE_PTR(h);
    return 0;
}

/* ---- create ---- */

/* The machine's SSH key pair, made once (sshkey.h writes both files atomically). A pair left
 * half-made by an interrupted create is made again. */
static int
ensure_ssh_key(struct machine_handle *h, struct mc_error **err)
{
    _cleanup_free_ char *key = mc_path_join(h->dir, "id_ed25519");
    _cleanup_free_ char *pub = mc_path_join(h->dir, "id_ed25519.pub");
    if (mc_path_exists(key) && mc_path_exists(pub) && h->ssh_public_key)
        return 0;
    _cleanup_free_ char *comment = xasprintf("machine-%s", h->rec->name);
    if (prov_sshkey_generate(key, comment, err) < 0)
        return mc_error_prefix(err, "SSH key of machine '%s': ", h->rec->name);
    read_public_key(h);
    if (!h->ssh_public_key)
        return mc_error_set(err, MC_ERR_FAILED, "no public key was written to '%s'", pub);
    return 0;
}

static json_t *
flags_json(const struct machine_create_opts *o)
{
    json_t *f = json_object();
    json_object_set_new(f, "no_provision", json_boolean(o->no_provision));
    json_object_set_new(f, "engine_port",
                        json_integer(o->engine_port ? o->engine_port : MACHINE_ENGINE_PORT));
    json_object_set_new(f, "tls_san", mc_json_from_strv(o->tls_san));
    if (o->tls_validity_days > 0)
        json_object_set_new(f, "tls_validity_days", json_integer(o->tls_validity_days));
    mc_json_set_str(f, "engine_binary", o->engine_binary);
    mc_json_set_str(f, "ssh_user", o->ssh_user);
    json_object_set_new(f, "engine_opt", mc_json_from_strv(o->engine_opts));
    json_object_set_new(f, "engine_label", mc_json_from_strv(o->engine_labels));
    json_object_set_new(f, "engine_env", mc_json_from_strv(o->engine_env));
    json_object_set_new(
            f, "ssh_timeout_ms",
            json_integer(o->ssh_timeout_ms ? o->ssh_timeout_ms : MACHINE_SSH_TIMEOUT_MS));
    json_object_set_new(f, "provision_timeout_ms",
                        json_integer(o->provision_timeout_ms ? o->provision_timeout_ms
                                                             : MACHINE_PROVISION_TIMEOUT_MS));
    return f;
}

/* Records the failure of step with its cause, and returns -1 with err untouched. */
static int
record_failure(struct machine_handle *h, const char *step, struct mc_error **err)
{
    const char *cause = err && *err ? (*err)->message : "unknown error";
    store_machine_set_create_state(h->rec, STORE_CREATE_FAILED, step, cause);
    _cleanup_error_ struct mc_error *save_err = NULL;
    if (machine_save(h, &save_err) < 0)
        log_warn("cannot record the failure of machine '%s': %s", h->rec->name, save_err->message);
    return -1;
}

static int
set_step(struct machine_handle *h, enum store_create_state st, const char *step,
         struct mc_error **err)
{
    store_machine_set_create_state(h->rec, st, step, NULL);
    log_debug("create '%s': %s, step '%s'", h->rec->name, store_create_state_to_string(st), step);
    return machine_save(h, err);
}

/* Records the engine URL the driver reports, so env and `ls --timeout 0` need no driver. */
static int
record_url(struct machine_handle *h, bool *ret_changed, struct mc_error **err)
{
    _cleanup_free_ char *url = driver_get_url(h->driver, &h->ctx, err);
    if (!url)
        return -1;
    json_t *engine = store_machine_section(h->rec, "engine");
    if (ret_changed)
        *ret_changed = !streq_ptr(mc_json_str(engine, "url"), url);
    json_object_set_new(engine, "url", json_string(url));
    return 0;
}

static int
step_driver_create(struct machine_handle *h, struct mc_error **err)
{
    if (set_step(h, STORE_CREATE_CREATING, MACHINE_STEP_DRIVER_CREATE, err) < 0)
        return -1;
    if (h->driver->provisions && ensure_ssh_key(h, err) < 0)
        return record_failure(h, MACHINE_STEP_DRIVER_CREATE, err);
    machine_progress(h, "Creating machine '%s' with the '%s' driver", h->rec->name,
                     h->driver->name);
    if (driver_create(h->driver, &h->ctx, err) < 0 || record_url(h, NULL, err) < 0) {
        mc_error_prefix(err, "%s: ", h->driver->name);
        return record_failure(h, MACHINE_STEP_DRIVER_CREATE, err);
    }
    if (!h->driver->provisions)
        return set_step(h, STORE_CREATE_READY, MACHINE_STEP_DONE, err);
    return set_step(h, STORE_CREATE_PROVISIONING, MACHINE_STEP_PROVISION, err);
}

static int
step_provision(struct machine_handle *h, struct mc_error **err)
{
    machine_progress(h, "Provisioning machine '%s'", h->rec->name);
    /* The client files first: the store CA is made here on first need. */
    if (prov_certs_install_client(h->store, h->rec->name, err) < 0 ||
        prov_provision_host(h, err) < 0)
        return record_failure(h, MACHINE_STEP_PROVISION, err);
    return set_step(h, STORE_CREATE_READY, MACHINE_STEP_DONE, err);
}

/* Where a create resumes: the step that failed or was interrupted. */
static bool
needs_driver_create(const struct store_machine *rec)
{
    if (rec->create_state == STORE_CREATE_CREATING)
        return true;
    return rec->create_state == STORE_CREATE_FAILED &&
           !streq_ptr(rec->create_step, MACHINE_STEP_PROVISION);
}

static int
run_steps(struct machine_handle *h, struct mc_error **err)
{
    if (needs_driver_create(h->rec) && step_driver_create(h, err) < 0)
        return -1;
    if (h->rec->create_state == STORE_CREATE_READY)
        return 0;
    /* the caller tells the user what is left (cli/create.c) */
    if (mc_json_bool(store_machine_get_section(h->rec, "flags"), "no_provision", false))
        return 0;
    return step_provision(h, err);
}

/* A new record for a fresh create, after the driver's pre-create check passed. Nothing is
 * written when the check fails. */
static int
new_record(struct store *s, const struct machine_create_opts *o, const struct machine_driver *d,
           int lock_fd, struct machine_handle **ret, struct mc_error **err)
{
    struct store_machine *rec = store_machine_new(o->name, d->name);
    store_machine_set_section(rec, "options", (json_t *)o->options);
    json_t *flags = flags_json(o);
    store_machine_set_section(rec, "flags", flags);
    json_decref(flags);
    _cleanup_machine_ struct machine_handle *h = handle_new(s, rec, d, lock_fd);
    h->progress = o->progress;
    h->userdata = o->userdata;
    /* The check sees a scratch state: nothing of it is kept. */
    h->ctx.save = NULL;
    if (driver_precreate_check(d, &h->ctx, err) < 0) {
        h->lock_fd = -1; /* the caller still owns it */
        return mc_error_prefix(err, "%s: ", d->name);
    }
    h->ctx.save = ctx_save;
    json_object_clear(h->ctx.state);
    if (machine_save(h, err) < 0 || make_folders(h, err) < 0) {
        h->lock_fd = -1;
        return -1;
    }
    *ret = TAKE_PTR(h);
    return 0;
}

/* Opens the record of an interrupted or failed create, to resume it. */
static int
resume_record(struct store *s, struct store_machine *rec, const struct machine_create_opts *o,
              int lock_fd, struct machine_handle **ret, struct mc_error **err)
{
    _cleanup_store_machine_ struct store_machine *owned = rec;
    if (rec->create_state == STORE_CREATE_READY)
        return mc_error_set(err, MC_ERR_EXISTS, "machine '%s' exists already", rec->name);
    const struct machine_driver *d = NULL;
    if (find_driver(rec->driver, &d, err) < 0)
        return -1;
    struct machine_handle *h = handle_new(s, TAKE_PTR(owned), d, lock_fd);
    h->progress = o->progress;
    h->userdata = o->userdata;
    machine_progress(h,
                     "Resuming the create of machine '%s' (%s at step '%s') with the flags "
                     "it was first given",
                     h->rec->name, store_create_state_to_string(h->rec->create_state),
                     h->rec->create_step ? h->rec->create_step : "?");
    if (make_folders(h, err) < 0) {
        h->lock_fd = -1;
        machine_close(h);
        return -1;
    }
    *ret = h;
    return 0;
}

/* The record of a create, new or resumed. A folder left without config.json by a crash
 * before the record was written holds nothing that was made: it starts afresh. */
static int
open_for_create(struct store *s, const struct machine_create_opts *o, int lock_fd,
                struct machine_handle **ret, struct mc_error **err)
{
    _cleanup_error_ struct mc_error *load_err = NULL;
    struct store_machine *rec = NULL;
    if (store_machine_load(s, o->name, &rec, &load_err) == 0)
        return resume_record(s, rec, o, lock_fd, ret, err);
    _cleanup_free_ char *config = store_machine_path(s, o->name, "config.json");
    if (!mc_error_is(load_err, MC_ERR_NOT_FOUND) && mc_path_exists(config))
        return mc_error_propagate(err, TAKE_PTR(load_err));
    const struct machine_driver *d = NULL;
    if (find_driver(o->driver, &d, err) < 0)
        return -1;
    return new_record(s, o, d, lock_fd, ret, err);
}

int
machine_create(struct store *s, const struct machine_create_opts *o, struct mc_error **err)
{
    if (store_check_name(o->name, err) < 0)
        return -1;
    _cleanup_(held_lock_release) struct held_lock lk = { s, o->name, -1 };
    if ((lk.fd = store_lock_machine(s, o->name, -1, err)) < 0)
        return -1;
    _cleanup_machine_ struct machine_handle *h = NULL;
    if (open_for_create(s, o, lk.fd, &h, err) < 0)
        return mc_error_prefix(err, "create '%s': ", o->name);
    lk.fd = -1; /* the handle owns the lock now */
    if (run_steps(h, err) < 0)
        return mc_error_prefix(err, "create '%s': ", o->name);
    return 0;
}

/* ---- remove ---- */

static int
remove_resources(struct machine_handle *h, bool force, struct mc_error **err)
{
    if (driver_has_remove(h->driver))
        return driver_remove(h->driver, &h->ctx, force, err);
    if (h->driver->provisions)
        return prov_engine_remove(h, force, err);
    return 0;
}

/* Removes a machine whose record cannot be used (corrupt, unknown driver): rm -f only. */
static int
remove_broken(struct store *s, const char *name, struct mc_error *cause, bool force,
              struct mc_error **err)
{
    if (!force)
        return mc_error_propagate(err, cause);
    mc_error_free(cause);
    return store_machine_remove(s, name, err);
}

static int
remove_machine(struct store *s, const char *name, bool force, bool purge,
               machine_progress_fn progress, void *userdata, struct mc_error **err)
{
    _cleanup_(held_lock_release) struct held_lock lk = { s, name, -1 };
    if ((lk.fd = store_lock_machine(s, name, -1, err)) < 0)
        return -1;
    store_empty_trash(s);
    struct mc_error *load_err = NULL;
    struct store_machine *rec = NULL;
    if (store_machine_load(s, name, &rec, &load_err) < 0) {
        if (mc_error_is(load_err, MC_ERR_NOT_FOUND))
            return mc_error_propagate(err, load_err);
        return remove_broken(s, name, load_err, force, err);
    }
    const struct machine_driver *d = NULL;
    if (find_driver(rec->driver, &d, &load_err) < 0) {
        store_machine_free(rec);
        return remove_broken(s, name, load_err, force, err);
    }
    _cleanup_machine_ struct machine_handle *h = handle_new(s, rec, d, TAKE_FD(lk.fd));
    h->progress = progress;
    h->userdata = userdata;
    h->purge = purge;
    machine_progress(h, "Removing machine '%s'", name);
    _cleanup_error_ struct mc_error *rm_err = NULL;
    if (remove_resources(h, force, &rm_err) < 0) {
        if (!force)
            return mc_error_propagate(err, TAKE_PTR(rm_err));
        machine_progress(h, "Going on after an error (--force): %s", rm_err->message);
    }
    return store_machine_remove(s, name, err);
}

int
machine_remove(struct store *s, const char *name, bool force, machine_progress_fn progress,
               void *userdata, struct mc_error **err)
{
    return remove_machine(s, name, force, false, progress, userdata, err);
}

int
machine_purge(struct store *s, const char *name, bool force, machine_progress_fn progress,
              void *userdata, struct mc_error **err)
{
    return remove_machine(s, name, force, true, progress, userdata, err);
}

/* ---- power actions ---- */

typedef int (*driver_action_fn)(const struct machine_driver *d, struct driver_ctx *ctx,
                                struct mc_error **err);
typedef int (*prov_action_fn)(struct machine_handle *h, struct mc_error **err);

static const struct {
    driver_action_fn driver;
    prov_action_fn prov; /* for provisioning drivers with an empty slot */
} actions[MACHINE_ACTION__MAX] = {
    [MACHINE_START] = { driver_start, prov_engine_start },
    [MACHINE_STOP] = { driver_stop, prov_engine_stop },
    [MACHINE_RESTART] = { driver_restart, prov_engine_restart },
    [MACHINE_KILL] = { driver_kill, NULL },
};

static bool
has_slot(const struct machine_driver *d, enum machine_action a)
{
    switch (a) {
    case MACHINE_START:
        return d->start != NULL;
    case MACHINE_STOP:
        return d->stop != NULL;
    case MACHINE_RESTART:
        return d->restart != NULL;
    case MACHINE_KILL:
        return d->kill != NULL;
    default:
        return false;
    }
}

static int
do_action(struct machine_handle *h, enum machine_action a, struct mc_error **err)
{
    const struct machine_driver *d = h->driver;
    if (has_slot(d, a))
        return actions[a].driver(d, &h->ctx, err);
    if (a == MACHINE_RESTART && d->start && d->stop) {
        if (driver_stop(d, &h->ctx, err) < 0)
            return -1;
        return driver_start(d, &h->ctx, err);
    }
    if (d->provisions && actions[a].prov)
        return actions[a].prov(h, err);
    return actions[a].driver(d, &h->ctx, err); /* the dispatcher's "cannot" error */
}

/* After start/restart the address may be new: record it, and re-issue the certificates of a
 * provisioned host whose address changed. */
static int
after_start(struct machine_handle *h, struct mc_error **err)
{
    bool changed = false;
    if (record_url(h, &changed, err) < 0 || machine_save(h, err) < 0)
        return -1;
    if (changed && h->driver->provisions && h->rec->create_state == STORE_CREATE_READY) {
        machine_progress(h, "The address of machine '%s' changed: regenerating certificates",
                         h->rec->name);
        return prov_regenerate_certs(h, err);
    }
    return 0;
}

int
machine_act(struct store *s, const char *name, enum machine_action a, machine_progress_fn progress,
            void *userdata, struct mc_error **err)
{
    _cleanup_machine_ struct machine_handle *h = NULL;
    if (machine_open(s, name, true, &h, err) < 0)
        return -1;
    h->progress = progress;
    h->userdata = userdata;
    if (do_action(h, a, err) < 0)
        return mc_error_prefix(err, "%s '%s': ", machine_action_name(a), name);
    if ((a == MACHINE_START || a == MACHINE_RESTART) && after_start(h, err) < 0)
        return mc_error_prefix(err, "%s '%s': ", machine_action_name(a), name);
    return 0;
}

int
machine_provision(struct store *s, const char *name, machine_progress_fn progress, void *userdata,
                  struct mc_error **err)
{
    _cleanup_machine_ struct machine_handle *h = NULL;
    if (machine_open(s, name, true, &h, err) < 0)
        return -1;
    h->progress = progress;
    h->userdata = userdata;
    if (!h->driver->provisions)
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "provision '%s': machines of the '%s' driver are not provisioned", name,
                            h->driver->name);
    if (needs_driver_create(h->rec))
        return mc_error_set(err, MC_ERR_CONFLICT,
                            "provision '%s': the machine's create did not finish; run "
                            "'machine create %s' to resume it",
                            name, name);
    if (step_provision(h, err) < 0)
        return mc_error_prefix(err, "provision '%s': ", name);
    return 0;
}

/* ---- live queries ---- */

int
machine_get_state(struct machine_handle *h, int64_t deadline_ms, enum driver_state *ret,
                  struct mc_error **err)
{
    h->ctx.deadline_ms = deadline_ms;
    if (!h->driver->get_state && h->driver->provisions)
        return prov_engine_state(h, deadline_ms, ret, err);
    return driver_get_state(h->driver, &h->ctx, ret, err);
}

char *
machine_get_ip(struct machine_handle *h, int64_t deadline_ms, struct mc_error **err)
{
    h->ctx.deadline_ms = deadline_ms;
    return driver_get_ip(h->driver, &h->ctx, err);
}

char *
machine_get_url(struct machine_handle *h, int64_t deadline_ms, struct mc_error **err)
{
    h->ctx.deadline_ms = deadline_ms;
    return driver_get_url(h->driver, &h->ctx, err);
}
