/* The libvirt driver's verbs on an existing machine: start, stop (ACPI, then destroy), restart,
 * kill, remove, and the state, address and SSH target it reports. */
#include <string.h>

#include <libvirt/virterror.h>

#include "json.h"
#include "log.h"
#include "lvdrv-internal.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

/* Connects to the machine's URI and finds its domain (NULL with MC_ERR_NOT_FOUND when gone). */
static virDomainPtr
open_domain(struct driver_ctx *ctx, virConnectPtr *ret_conn, struct mc_error **err)
{
    const char *uri = mc_json_str(ctx->state, "uri");
    if (!uri)
        uri = lvdrv_opt_or(ctx, "uri", "qemu:///system");
    _cleanup_conn_ virConnectPtr conn = lvdrv_connect(uri, err);
    if (!conn)
        return NULL;
    virDomainPtr dom = NULL;
    if (lvdrv_find_domain(conn, ctx, uri, &dom, err) < 0)
        return NULL;
    if (!dom) {
        mc_error_set(err, MC_ERR_NOT_FOUND, "the domain '%s' does not exist on '%s'", ctx->name,
                     uri);
        return NULL;
    }
    *ret_conn = TAKE_PTR(conn);
    return dom;
}

static int
undefine(virDomainPtr dom, const char *name, struct mc_error **err)
{
    if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) < 0)
        return lvdrv_error(err, "destroying the domain '%s'", name);
    unsigned flags = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                     VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA | VIR_DOMAIN_UNDEFINE_NVRAM;
    /* A driver that knows none of these has none of them to remove (test:///). */
    if (virDomainUndefineFlags(dom, flags) < 0 &&
        (lvdrv_last_error_code() != VIR_ERR_INVALID_ARG || virDomainUndefine(dom) < 0))
        return lvdrv_error(err, "undefining the domain '%s'", name);
    return 0;
}

/* Deletes the recorded volume under key (only ours: see make_volume). */
static int
remove_volume(virConnectPtr conn, struct driver_ctx *ctx, const char *key, struct mc_error **err)
{
    const char *name = mc_json_str(ctx->state, key);
    const char *pool_name = mc_json_str(ctx->state, "pool");
    if (!name || !pool_name)
        return 0;
    _cleanup_pool_ virStoragePoolPtr pool = virStoragePoolLookupByName(conn, pool_name);
    if (!pool) {
        if (lvdrv_last_error_code() == VIR_ERR_NO_STORAGE_POOL) {
            lvdrv_reset_error();
            return 0;
        }
        return lvdrv_error(err, "looking up the storage pool '%s'", pool_name);
    }
    if (lvdrv_vol_delete(pool, name, err) < 0)
        return -1;
    json_object_del(ctx->state, key);
    return 0;
}

/* Undefines the machine's domain when it is still ours; one of that name made since by someone
 * else stays. */
static int
remove_domain(virConnectPtr conn, struct driver_ctx *ctx, const char *uri, struct mc_error **err)
{
    if (!mc_json_str(ctx->state, "domain"))
        return 0;
    _cleanup_domain_ virDomainPtr dom = NULL;
    _cleanup_error_ struct mc_error *e = NULL;
    if (lvdrv_find_domain(conn, ctx, uri, &dom, &e) < 0 && !mc_error_is(e, MC_ERR_EXISTS))
        return mc_error_propagate(err, TAKE_PTR(e));
    if (dom && undefine(dom, ctx->name, err) < 0)
        return -1;
    json_object_del(ctx->state, "domain");
    json_object_del(ctx->state, "domain_uuid");
    return 0;
}

/* Removes the domain, then the disk and the seed; with force, goes on past a failure (the first
 * one is reported). */
static int
remove_all(virConnectPtr conn, struct driver_ctx *ctx, const char *uri, bool force,
           struct mc_error **err)
{
    int r = remove_domain(conn, ctx, uri, err);
    if (r < 0 && !force)
        return -1;
    if (remove_volume(conn, ctx, "disk_volume", err) < 0) {
        if (!force)
            return -1;
        r = -1;
    }
    if (remove_volume(conn, ctx, "seed_volume", err) < 0)
        r = -1;
    return r;
}

int
lvdrv_remove(struct driver_ctx *ctx, bool force, struct mc_error **err)
{
    const char *uri = mc_json_str(ctx->state, "uri");
    if (!uri)
        return 0; /* create never got as far as connecting: nothing was made */
    _cleanup_conn_ virConnectPtr conn = lvdrv_connect(uri, err);
    if (!conn)
        return mc_error_prefix(err, "removing '%s': ", ctx->name);
    int r = remove_all(conn, ctx, uri, force, err);
    if (lvdrv_save(ctx, r < 0 ? NULL : err) < 0)
        return -1;
    return r < 0 ? mc_error_prefix(err, "removing '%s': ", ctx->name) : 0;
}

int
lvdrv_start(struct driver_ctx *ctx, struct mc_error **err)
{
    _cleanup_conn_ virConnectPtr conn = NULL;
    _cleanup_domain_ virDomainPtr dom = open_domain(ctx, &conn, err);
    if (!dom)
        return -1;
    return lvdrv_boot(conn, ctx, dom, driver_opt_int(ctx, "boot-timeout", 600), err);
}

static bool
is_off(virDomainPtr dom)
{
    int state = 0, reason = 0;
    if (virDomainGetState(dom, &state, &reason, 0) < 0) {
        lvdrv_reset_error();
        return false;
    }
    return state == VIR_DOMAIN_SHUTOFF || state == VIR_DOMAIN_CRASHED;
}

/* An ACPI power-button press, then destroy when the guest has not stopped by the timeout. */
static int
shutdown_domain(struct driver_ctx *ctx, virDomainPtr dom, int64_t timeout_s, struct mc_error **err)
{
    if (is_off(dom))
        return 0;
    driver_progress(ctx, "shutting '%s' down (ACPI)", ctx->name);
    /* A driver without the ACPI flag (test:///, some remote hypervisors) picks its own way. */
    if (virDomainShutdownFlags(dom, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) < 0 &&
        virDomainShutdown(dom) < 0) {
        _cleanup_free_ char *why = lvdrv_last_error_text("no reason given");
        if (!is_off(dom))
            log_warn("the shutdown of '%s' was refused (%s): destroying it", ctx->name, why);
        timeout_s = 0;
    }
    int64_t deadline = lvdrv_deadline(ctx, timeout_s);
    while (!is_off(dom) && mc_now_ms() < deadline)
        mc_sleep_ms(500);
    if (is_off(dom))
        return 0;
    log_warn("'%s' did not shut down within %lld s: destroying it", ctx->name,
             (long long)timeout_s);
    if (virDomainDestroy(dom) < 0 && !is_off(dom))
        return lvdrv_error(err, "destroying the domain '%s'", ctx->name);
    lvdrv_reset_error();
    return 0;
}

int
lvdrv_stop(struct driver_ctx *ctx, struct mc_error **err)
{
    _cleanup_conn_ virConnectPtr conn = NULL;
    _cleanup_domain_ virDomainPtr dom = open_domain(ctx, &conn, err);
    if (!dom)
        return -1;
    return shutdown_domain(ctx, dom, driver_opt_int(ctx, "stop-timeout", 120), err);
}

int
lvdrv_restart(struct driver_ctx *ctx, struct mc_error **err)
{
    _cleanup_conn_ virConnectPtr conn = NULL;
    _cleanup_domain_ virDomainPtr dom = open_domain(ctx, &conn, err);
    if (!dom)
        return -1;
    /* Power-cycle rather than virDomainReboot: it ends the same way whether or not the guest
     * honours ACPI, and the address is read again afterwards. */
    if (shutdown_domain(ctx, dom, driver_opt_int(ctx, "stop-timeout", 120), err) < 0)
        return -1;
    return lvdrv_boot(conn, ctx, dom, driver_opt_int(ctx, "boot-timeout", 600), err);
}

int
lvdrv_kill(struct driver_ctx *ctx, struct mc_error **err)
{
    _cleanup_conn_ virConnectPtr conn = NULL;
    _cleanup_domain_ virDomainPtr dom = open_domain(ctx, &conn, err);
    if (!dom)
        return -1;
    if (!is_off(dom) && virDomainDestroy(dom) < 0 && !is_off(dom))
        return lvdrv_error(err, "destroying the domain '%s'", ctx->name);
    lvdrv_reset_error();
    return 0;
}

enum driver_state
lvdrv_state_from_libvirt(int state)
{
    switch (state) {
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED: /* running, its vCPUs waiting on a resource */
        return DRIVER_STATE_RUNNING;
    case VIR_DOMAIN_PAUSED:
        return DRIVER_STATE_PAUSED;
    case VIR_DOMAIN_SHUTDOWN:
        return DRIVER_STATE_STOPPING;
    case VIR_DOMAIN_SHUTOFF:
        return DRIVER_STATE_STOPPED;
    case VIR_DOMAIN_CRASHED:
        return DRIVER_STATE_ERROR;
    case VIR_DOMAIN_PMSUSPENDED:
        return DRIVER_STATE_SAVED;
    default:
        return DRIVER_STATE_NONE;
    }
}

int
lvdrv_get_state(struct driver_ctx *ctx, enum driver_state *ret, struct mc_error **err)
{
    _cleanup_error_ struct mc_error *e = NULL;
    _cleanup_conn_ virConnectPtr conn = NULL;
    _cleanup_domain_ virDomainPtr dom = open_domain(ctx, &conn, &e);
    if (!dom) {
        if (!mc_error_is(e, MC_ERR_NOT_FOUND))
            return mc_error_propagate(err, TAKE_PTR(e));
        *ret = DRIVER_STATE_NOT_FOUND;
        return 0;
    }
    int state = 0, reason = 0;
    if (virDomainGetState(dom, &state, &reason, 0) < 0)
        return lvdrv_error(err, "reading the state of the domain '%s'", ctx->name);
    *ret = lvdrv_state_from_libvirt(state);
    return 0;
}

char *
lvdrv_get_ip(struct driver_ctx *ctx, struct mc_error **err)
{
    _cleanup_conn_ virConnectPtr conn = NULL;
    _cleanup_domain_ virDomainPtr dom = open_domain(ctx, &conn, err);
    if (!dom)
        return NULL;
    if (virDomainIsActive(dom) != 1) {
        mc_error_set(err, MC_ERR_NOT_RUNNING, "the domain '%s' is not running", ctx->name);
        return NULL;
    }
    /* One round of asking (deadline now); the address found at boot when none answers. */
    _cleanup_error_ struct mc_error *e = NULL;
    char *ip = lvdrv_domain_ipv4(dom, mc_json_str(ctx->state, "mac"), mc_now_ms(), &e);
    if (ip)
        return ip;
    const char *known = mc_json_str(ctx->state, "ip");
    if (known)
        return xstrdup(known);
    mc_error_propagate(err, TAKE_PTR(e));
    return NULL;
}

int
lvdrv_get_ssh_target(struct driver_ctx *ctx, struct driver_ssh_target *ret, struct mc_error **err)
{
    char *ip = lvdrv_get_ip(ctx, err);
    if (!ip)
        return -1;
    const char *user = mc_json_str(ctx->state, "ssh_user");
    ret->host = ip;
    ret->port = 22;
    ret->user = xstrdup(user ? user : LVDRV_DEFAULT_SSH_USER);
    return 0;
}
