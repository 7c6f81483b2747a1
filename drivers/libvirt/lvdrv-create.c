/* The libvirt driver's pre-create check and create, step by step: connect, check, record, the
 * image, the pool and the network, KVM or TCG, the base volume, the disk and the seed, the
 * domain, the boot. Every step is safe to run again on a resumed create. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "crypto.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "lvdrv-internal.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

/* ---- checks before anything is made ---- */

static int
check_memory(virConnectPtr conn, const struct lvdrv_config *c, struct mc_error **err)
{
    virNodeInfo info;
    if (virNodeGetInfo(conn, &info) < 0)
        return lvdrv_error(err, "reading the memory of the host of '%s'", c->uri);
    unsigned long long host_mib = info.memory / 1024;
    if ((unsigned long long)c->memory_mib > host_mib)
        return mc_error_set(err, MC_ERR_PRECREATE,
                            "--libvirt-memory %lld MiB is more than the host of '%s' has (%llu "
                            "MiB)",
                            (long long)c->memory_mib, c->uri, host_mib);
    return 0;
}

static int
check_image(const struct lvdrv_config *c, struct mc_error **err)
{
    if (startswith(c->image, "http://") || startswith(c->image, "https://"))
        return 0;
    if (access(c->image, R_OK) < 0)
        return mc_error_sys(err, errno, "the image '%s' cannot be read", c->image);
    return 0;
}

static int
precheck(virConnectPtr conn, const struct driver_ctx *ctx, const struct lvdrv_config *c,
         struct mc_error **err)
{
    _cleanup_domain_ virDomainPtr dom = NULL;
    if (check_memory(conn, c, err) < 0 || check_image(c, err) < 0 ||
        lvdrv_find_domain(conn, ctx, c->uri, &dom, err) < 0)
        return -1;
    return 0;
}

int
lvdrv_precreate_check(struct driver_ctx *ctx, struct mc_error **err)
{
    struct lvdrv_config c = { 0 };
    int r = lvdrv_config_read(ctx, &c, err);
    _cleanup_conn_ virConnectPtr conn = r == 0 ? lvdrv_connect(c.uri, err) : NULL;
    if (r == 0 && (!conn || precheck(conn, ctx, &c, err) < 0))
        r = -1;
    lvdrv_config_clear(&c);
    if (r < 0 && err && *err && (*err)->code != MC_ERR_USAGE)
        (*err)->code = MC_ERR_PRECREATE;
    return r;
}

/* ---- create, step by step ---- */

struct create {
    struct driver_ctx *ctx;
    struct lvdrv_config cfg;
    virConnectPtr conn;
    virStoragePoolPtr pool;
    struct lvdrv_image image;
    char *base_path;
    enum lvdrv_accel accel;
};

static void
create_clear(struct create *cr)
{
    lvdrv_image_clear(&cr->image);
    free(cr->base_path);
    if (cr->pool)
        virStoragePoolFree(cr->pool);
    if (cr->conn)
        virConnectClose(cr->conn);
    lvdrv_config_clear(&cr->cfg);
}

/* Records what this machine is made of before anything exists. */
static int
step_record(struct create *cr, struct mc_error **err)
{
    json_t *s = cr->ctx->state;
    if (!mc_json_str(s, "instance_id")) {
        _cleanup_free_ char *id = mc_random_hex(16);
        mc_json_set_str(s, "instance_id", id);
    }
    mc_json_set_str(s, "uri", cr->cfg.uri);
    mc_json_set_str(s, "pool", cr->cfg.pool);
    mc_json_set_str(s, "network", cr->cfg.network);
    mc_json_set_str(s, "ssh_user", cr->ctx->ssh_user ? cr->ctx->ssh_user : LVDRV_DEFAULT_SSH_USER);
    return lvdrv_save(cr->ctx, err);
}

static int
step_image(struct create *cr, struct mc_error **err)
{
    driver_progress(cr->ctx, "preparing the image '%s'", cr->cfg.image);
    return lvdrv_image_prepare(cr->ctx, lvdrv_cache_dir(cr->ctx), cr->cfg.image,
                               cr->cfg.image_checksum, &cr->image, err);
}

static int
step_base(struct create *cr, struct mc_error **err)
{
    /* One upload into the pool at a time from this store. */
    _cleanup_free_ char *lock_dir = xasprintf("%s/libvirt", lvdrv_cache_dir(cr->ctx));
    _cleanup_close_ int lock = lvdrv_lock_dir(lock_dir, err);
    _cleanup_free_ char *base = NULL;
    if (lock < 0 ||
        lvdrv_base_ensure(cr->conn, cr->pool, &cr->image, cr->ctx, &base, &cr->base_path, err) < 0)
        return -1;
    mc_json_set_str(cr->ctx->state, "base_volume", base);
    return lvdrv_save(cr->ctx, err);
}

/* Makes the volume recorded under key, unless a complete one exists: the record is saved before
 * the volume is made, so an unrecorded volume of that name is someone else's. */
static int
make_volume(struct create *cr, const char *key, const char *name,
            int (*make)(struct create *, const char *, struct mc_error **), struct mc_error **err)
{
    json_t *s = cr->ctx->state;
    _cleanup_free_ char *done_key = xasprintf("%s_complete", key);
    const char *recorded = mc_json_str(s, key);
    _cleanup_vol_ virStorageVolPtr vol = virStorageVolLookupByName(cr->pool, name);
    lvdrv_reset_error();
    if (vol && (!recorded || !streq(recorded, name)))
        return mc_error_set(err, MC_ERR_EXISTS,
                            "the pool '%s' already holds a volume '%s' that this machine did not "
                            "make: choose another name, or remove that volume",
                            cr->cfg.pool, name);
    if (vol && mc_json_bool(s, done_key, false))
        return 0;
    if (vol && lvdrv_vol_delete(cr->pool, name, err) < 0)
        return -1;
    mc_json_set_str(s, key, name);
    json_object_set_new(s, done_key, json_false());
    if (lvdrv_save(cr->ctx, err) < 0)
        return -1;
    mc_crashpoint("libvirt-volume-recorded");
    if (make(cr, name, err) < 0)
        return -1;
    mc_crashpoint("libvirt-volume-made");
    json_object_set_new(s, done_key, json_true());
    return lvdrv_save(cr->ctx, err);
}

static int
make_disk(struct create *cr, const char *name, struct mc_error **err)
{
    uint64_t want = (uint64_t)cr->cfg.disk_gib << 30;
    uint64_t capacity = want > cr->image.virtual_size ? want : cr->image.virtual_size;
    if (capacity > want)
        log_warn("the image '%s' is %llu GiB, more than --libvirt-disk-size %lld: the disk "
                 "keeps the image's size",
                 cr->cfg.image, (unsigned long long)(capacity >> 30), (long long)cr->cfg.disk_gib);
    _cleanup_free_ char *xml = lvdrv_volume_xml(name, capacity, "qcow2", cr->base_path,
                                                cr->image.qcow2 ? "qcow2" : "raw");
    _cleanup_vol_ virStorageVolPtr vol = lvdrv_vol_create(cr->pool, xml, err);
    return vol ? 0 : mc_error_prefix(err, "creating the disk '%s': ", name);
}

static int
make_seed(struct create *cr, const char *name, struct mc_error **err)
{
    struct lvdrv_seed seed = { 0 };
    _cleanup_free_ void *iso = NULL;
    size_t len = 0;
    const char *user = mc_json_str(cr->ctx->state, "ssh_user");
    if (lvdrv_seed_render(cr->ctx->name, user, cr->ctx->ssh_public_key,
                          mc_json_str(cr->ctx->state, "instance_id"), &seed, err) < 0)
        return mc_error_prefix(err, "making the cloud-init seed: ");
    int r = lvdrv_seed_iso(&seed, &iso, &len, err);
    lvdrv_seed_clear(&seed);
    if (r < 0)
        return -1;
    _cleanup_free_ char *xml = lvdrv_volume_xml(name, len, "raw", NULL, NULL);
    _cleanup_vol_ virStorageVolPtr vol = lvdrv_vol_create(cr->pool, xml, err);
    if (!vol || lvdrv_vol_upload(cr->conn, vol, iso, NULL, len, NULL, err) < 0)
        return mc_error_prefix(err, "writing the seed '%s': ", name);
    return 0;
}

static int
step_volumes(struct create *cr, struct mc_error **err)
{
    _cleanup_free_ char *disk = lvdrv_disk_volume_name(cr->ctx->name);
    _cleanup_free_ char *seed = lvdrv_seed_volume_name(cr->ctx->name);
    driver_progress(cr->ctx, "creating the disk '%s' (%lld GiB) and the cloud-init seed", disk,
                    (long long)cr->cfg.disk_gib);
    if (make_volume(cr, "disk_volume", disk, make_disk, err) < 0 ||
        make_volume(cr, "seed_volume", seed, make_seed, err) < 0)
        return -1;
    return 0;
}

static int
step_accel(struct create *cr, struct mc_error **err)
{
    const char *recorded = mc_json_str(cr->ctx->state, "accel");
    int a = recorded ? lvdrv_accel_from_string(recorded) : -1;
    if (a > 0) {
        cr->accel = (enum lvdrv_accel)a;
        return 0;
    }
    _cleanup_free_ char *warning = NULL;
    if (cr->cfg.accel == LVDRV_ACCEL_AUTO)
        driver_progress(cr->ctx, "checking whether KVM guests run on '%s'", cr->cfg.uri);
    if (lvdrv_accel_resolve(cr->conn, cr->cfg.uri, cr->pool, cr->cfg.accel,
                            lvdrv_cache_dir(cr->ctx), &cr->accel, &warning, err) < 0)
        return -1;
    if (warning)
        log_warn("%s", warning);
    mc_json_set_str(cr->ctx->state, "accel", lvdrv_accel_to_string(cr->accel));
    return lvdrv_save(cr->ctx, err);
}

static int
define_domain(struct create *cr, struct mc_error **err)
{
    _cleanup_free_ char *disk = lvdrv_disk_volume_name(cr->ctx->name);
    _cleanup_free_ char *seed = lvdrv_seed_volume_name(cr->ctx->name);
    struct lvdrv_domain_spec spec = {
        .name = cr->ctx->name,
        .instance_id = mc_json_str(cr->ctx->state, "instance_id"),
        .type = lvdrv_accel_domain_type(cr->accel),
        .vcpus = (int)cr->cfg.cpus,
        .memory_mib = cr->cfg.memory_mib,
        .pool = cr->cfg.pool,
        .disk_volume = disk,
        .seed_volume = seed,
        .network = cr->cfg.network,
    };
    _cleanup_free_ char *xml = lvdrv_domain_xml(&spec);
    mc_json_set_str(cr->ctx->state, "domain", cr->ctx->name);
    if (lvdrv_save(cr->ctx, err) < 0)
        return -1;
    _cleanup_domain_ virDomainPtr dom = virDomainDefineXML(cr->conn, xml);
    if (!dom)
        return lvdrv_error(err, "defining the domain '%s'", cr->ctx->name);
    mc_crashpoint("libvirt-domain-defined");
    char uuid[VIR_UUID_STRING_BUFLEN];
    if (virDomainGetUUIDString(dom, uuid) == 0)
        mc_json_set_str(cr->ctx->state, "domain_uuid", uuid);
    return lvdrv_save(cr->ctx, err);
}

static int
step_domain(struct create *cr, struct mc_error **err)
{
    _cleanup_domain_ virDomainPtr dom = NULL;
    if (lvdrv_find_domain(cr->conn, cr->ctx, cr->cfg.uri, &dom, err) < 0)
        return -1;
    if (dom)
        return 0; /* made by an interrupted create: adopted */
    driver_progress(cr->ctx, "defining the domain '%s' (%s, %lld vCPU, %lld MiB)", cr->ctx->name,
                    cr->accel == LVDRV_ACCEL_KVM ? "KVM" : "TCG", (long long)cr->cfg.cpus,
                    (long long)cr->cfg.memory_mib);
    return define_domain(cr, err);
}

static int
step_boot(struct create *cr, struct mc_error **err)
{
    _cleanup_domain_ virDomainPtr dom = NULL;
    if (lvdrv_find_domain(cr->conn, cr->ctx, cr->cfg.uri, &dom, err) < 0)
        return -1;
    if (!dom)
        return mc_error_set(err, MC_ERR_NOT_FOUND, "the domain '%s' disappeared while it was made",
                            cr->ctx->name);
    return lvdrv_boot(cr->conn, cr->ctx, dom, cr->cfg.boot_timeout_s, err);
}

static int
create_steps(struct create *cr, struct mc_error **err)
{
    driver_progress(cr->ctx, "connecting to '%s'", cr->cfg.uri);
    cr->conn = lvdrv_connect(cr->cfg.uri, err);
    if (!cr->conn || precheck(cr->conn, cr->ctx, &cr->cfg, err) < 0 || step_record(cr, err) < 0)
        return -1;
    /* The image first: a missing or corrupt one fails before anything exists in libvirt. */
    if (step_image(cr, err) < 0)
        return -1;
    cr->pool = lvdrv_pool_ensure(cr->conn, cr->cfg.pool, cr->cfg.pool_path, err);
    if (!cr->pool || lvdrv_network_ensure(cr->conn, cr->cfg.network, err) < 0)
        return -1;
    if (step_accel(cr, err) < 0 || step_base(cr, err) < 0 || step_volumes(cr, err) < 0 ||
        step_domain(cr, err) < 0)
        return -1;
    return step_boot(cr, err);
}

int
lvdrv_create(struct driver_ctx *ctx, struct mc_error **err)
{
    struct create cr = { .ctx = ctx };
    int r = lvdrv_config_read(ctx, &cr.cfg, err);
    if (r == 0)
        r = create_steps(&cr, err);
    create_clear(&cr);
    return r;
}
