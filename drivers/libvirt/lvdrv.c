/* The libvirt driver: a domain booted from a qcow2 overlay on a cached cloud image, configured
 * by a NoCloud seed, on a NAT network; KVM where it works, else TCG (DESIGN.md §4).
 *
 * Everything create makes is recorded in ctx->state before it is made, and marked complete after,
 * so an interrupted create is resumed (complete things are adopted, half-made ones replaced) and
 * rm removes exactly what was made. A domain carries the machine's instance id in its metadata:
 * a domain of the same name without it is someone else's and is never touched. */
#include <string.h>
#include <sys/file.h>
#include <fcntl.h>
#include <errno.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "crypto.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "lvdrv-internal.h"
#include "lvdrv.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

#define DEFAULT_SSH_USER "docker"

static const struct driver_option options[] = {
    { .name = "uri",
      .type = DRIVER_OPT_STRING,
      .default_value = "qemu:///system",
      .help = "libvirt connection URI",
      .metavar = "URI" },
    { .name = "cpu-count",
      .type = DRIVER_OPT_INT,
      .default_value = "2",
      .help = "virtual CPUs",
      .metavar = "N" },
    { .name = "memory",
      .type = DRIVER_OPT_INT,
      .default_value = "2048",
      .help = "memory in MiB",
      .metavar = "MIB" },
    { .name = "disk-size",
      .type = DRIVER_OPT_INT,
      .default_value = "20",
      .help = "disk size in GiB",
      .metavar = "GIB" },
    { .name = "network",
      .type = DRIVER_OPT_STRING,
      .default_value = "default",
      .help = "libvirt network (a NAT network is made and started when missing)",
      .metavar = "NAME" },
    { .name = "pool",
      .type = DRIVER_OPT_STRING,
      .default_value = "machine",
      .help = "libvirt storage pool for images, disks and seeds (made when missing)",
      .metavar = "NAME" },
    { .name = "pool-path",
      .type = DRIVER_OPT_STRING,
      .help = "folder of a pool that machine makes (default /var/lib/libvirt/machine; "
              "~/.local/share/libvirt/machine for qemu:///session)",
      .metavar = "PATH" },
    { .name = "accel",
      .type = DRIVER_OPT_STRING,
      .default_value = "auto",
      .help = "auto (KVM when a probe guest boots under it, else TCG), kvm or tcg",
      .metavar = "MODE" },
    { .name = "image",
      .type = DRIVER_OPT_STRING,
      .default_value = LVDRV_DEFAULT_IMAGE,
      .help = "cloud image (qcow2 or raw) to boot: a URL, downloaded and cached, or a file",
      .metavar = "URL|PATH" },
    { .name = "image-checksum",
      .type = DRIVER_OPT_STRING,
      .help = "the image's sha256:HEX or sha512:HEX (default: the publisher's SHA512SUMS)",
      .metavar = "ALGO:HEX" },
    { .name = "boot-timeout",
      .type = DRIVER_OPT_INT,
      .default_value = "600",
      .help = "seconds to wait for the guest's address after it starts",
      .metavar = "SECONDS" },
    { .name = "stop-timeout",
      .type = DRIVER_OPT_INT,
      .default_value = "120",
      .help = "seconds an ACPI shutdown may take before the domain is destroyed",
      .metavar = "SECONDS" },
    { 0 },
};

/* The options of a create, checked; the strings are copies (the state they may come from
 * changes while create runs). */
struct config {
    char *uri;
    int64_t cpus, memory_mib, disk_gib, boot_timeout_s, stop_timeout_s;
    char *network, *pool, *image, *image_checksum;
    char *pool_path;
    enum lvdrv_accel accel;
};

static void
config_clear(struct config *c)
{
    free(c->uri);
    free(c->network);
    free(c->pool);
    free(c->image);
    free(c->image_checksum);
    free(c->pool_path);
    memset(c, 0, sizeof(*c));
}

static const char *
opt_or(const struct driver_ctx *ctx, const char *name, const char *dflt)
{
    const char *v = driver_opt_str(ctx, name);
    return isempty(v) ? dflt : v;
}

/* The state's value for key (what a resumed create must keep), else the option, else dflt. */
static char *
state_or_opt(const struct driver_ctx *ctx, const char *key, const char *dflt)
{
    const char *v = mc_json_str(ctx->state, key);
    return xstrdup(v ? v : opt_or(ctx, key, dflt));
}

static char *
default_pool_path(const char *uri)
{
    const char *home = getenv("HOME");
    if (strstr(uri, "/session") && !isempty(home))
        return xasprintf("%s/.local/share/libvirt/machine", home);
    return xstrdup("/var/lib/libvirt/machine");
}

static int
check_positive(const char *name, int64_t v, int64_t max, struct mc_error **err)
{
    if (v < 1 || v > max)
        return mc_error_set(err, MC_ERR_USAGE, "--libvirt-%s must be a whole number from 1 to %lld",
                            name, (long long)max);
    return 0;
}

/* Reads the options; the state's values win for what a resumed create must not change. */
static int
config_read(const struct driver_ctx *ctx, struct config *c, struct mc_error **err)
{
    c->uri = state_or_opt(ctx, "uri", "qemu:///system");
    c->cpus = driver_opt_int(ctx, "cpu-count", 2);
    c->memory_mib = driver_opt_int(ctx, "memory", 2048);
    c->disk_gib = driver_opt_int(ctx, "disk-size", 20);
    c->boot_timeout_s = driver_opt_int(ctx, "boot-timeout", 600);
    c->stop_timeout_s = driver_opt_int(ctx, "stop-timeout", 120);
    c->network = state_or_opt(ctx, "network", "default");
    c->pool = state_or_opt(ctx, "pool", "machine");
    c->pool_path = xstrdup_or_null(driver_opt_str(ctx, "pool-path"));
    if (isempty(c->pool_path)) {
        free(c->pool_path);
        c->pool_path = default_pool_path(c->uri);
    }
    c->image = xstrdup(opt_or(ctx, "image", LVDRV_DEFAULT_IMAGE));
    c->image_checksum = xstrdup_or_null(driver_opt_str(ctx, "image-checksum"));
    int a = lvdrv_accel_from_string(opt_or(ctx, "accel", "auto"));
    if (a < 0)
        return mc_error_set(err, MC_ERR_USAGE, "--libvirt-accel must be auto, kvm or tcg, not '%s'",
                            driver_opt_str(ctx, "accel"));
    c->accel = (enum lvdrv_accel)a;
    if (check_positive("cpu-count", c->cpus, 1024, err) < 0 ||
        check_positive("memory", c->memory_mib, 16 << 20, err) < 0 ||
        check_positive("disk-size", c->disk_gib, 64 << 10, err) < 0 ||
        check_positive("boot-timeout", c->boot_timeout_s, 86400, err) < 0 ||
        check_positive("stop-timeout", c->stop_timeout_s, 86400, err) < 0)
        return -1;
    struct lvdrv_checksum sum;
    if (!isempty(c->image_checksum) && lvdrv_checksum_parse(c->image_checksum, &sum, err) < 0)
        return mc_error_prefix(err, "--libvirt-image-checksum: ");
    return 0;
}

static const char *
cache_dir(const struct driver_ctx *ctx)
{
    return ctx->cache_dir ? ctx->cache_dir : ctx->dir;
}

static char *
disk_volume_name(const char *name)
{
    return xasprintf("%s.qcow2", name);
}

static char *
seed_volume_name(const char *name)
{
    return xasprintf("%s-seed.iso", name);
}

static int
save(struct driver_ctx *ctx, struct mc_error **err)
{
    return driver_save(ctx, err) < 0 ? mc_error_prefix(err, "saving the driver state: ") : 0;
}

/* ---- ownership ---- */

/* The instance id in a domain's metadata, or NULL when it has none of ours. */
static char *
domain_instance(virDomainPtr dom)
{
    _cleanup_free_ char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    lvdrv_reset_error();
    return xml ? lvdrv_xpath_string(xml, "/domain/metadata/m:machine/m:instance") : NULL;
}

/* Looks the machine's domain up. *ret is NULL when there is none; a domain of that name made
 * for another machine (or by someone else) is an MC_ERR_EXISTS error. */
static int
find_domain(virConnectPtr conn, const struct driver_ctx *ctx, const char *uri, virDomainPtr *ret,
            struct mc_error **err)
{
    *ret = NULL;
    virDomainPtr dom = virDomainLookupByName(conn, ctx->name);
    if (!dom) {
        if (lvdrv_last_error_code() == VIR_ERR_NO_DOMAIN) {
            lvdrv_reset_error();
            return 0;
        }
        return lvdrv_error(err, "looking up the domain '%s'", ctx->name);
    }
    _cleanup_free_ char *instance = domain_instance(dom);
    const char *mine = mc_json_str(ctx->state, "instance_id");
    if (!instance || !mine || !streq(instance, mine)) {
        virDomainFree(dom);
        return mc_error_set(err, MC_ERR_EXISTS,
                            "a libvirt domain named '%s' exists already on '%s' and was not made "
                            "for this machine: choose another name, or remove that domain",
                            ctx->name, uri);
    }
    *ret = dom;
    return 0;
}

/* ---- checks before anything is made ---- */

static int
check_memory(virConnectPtr conn, const struct config *c, struct mc_error **err)
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
check_image(const struct config *c, struct mc_error **err)
{
    if (startswith(c->image, "http://") || startswith(c->image, "https://"))
        return 0;
    if (access(c->image, R_OK) < 0)
        return mc_error_sys(err, errno, "the image '%s' cannot be read", c->image);
    return 0;
}

static int
precheck(virConnectPtr conn, const struct driver_ctx *ctx, const struct config *c,
         struct mc_error **err)
{
    _cleanup_domain_ virDomainPtr dom = NULL;
    if (check_memory(conn, c, err) < 0 || check_image(c, err) < 0 ||
        find_domain(conn, ctx, c->uri, &dom, err) < 0)
        return -1;
    return 0;
}

static int
libvirt_precreate_check(struct driver_ctx *ctx, struct mc_error **err)
{
    struct config c = { 0 };
    int r = config_read(ctx, &c, err);
    _cleanup_conn_ virConnectPtr conn = r == 0 ? lvdrv_connect(c.uri, err) : NULL;
    if (r == 0 && (!conn || precheck(conn, ctx, &c, err) < 0))
        r = -1;
    config_clear(&c);
    if (r < 0 && err && *err && (*err)->code != MC_ERR_USAGE)
        (*err)->code = MC_ERR_PRECREATE;
    return r;
}

/* ---- create, step by step ---- */

struct create {
    struct driver_ctx *ctx;
    struct config cfg;
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
    config_clear(&cr->cfg);
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
    mc_json_set_str(s, "ssh_user", cr->ctx->ssh_user ? cr->ctx->ssh_user : DEFAULT_SSH_USER);
    return save(cr->ctx, err);
}

/* Serialises base uploads into one pool from this store (a flock on the cache folder). */
static int
lock_uploads(const char *cache, struct mc_error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/libvirt", cache);
    if (mc_mkdir_p(dir, 0700, err) < 0)
        return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return mc_error_sys(err, errno, "opening '%s'", dir);
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR) {
            int e = errno;
            close(fd);
            return mc_error_sys(err, e, "locking '%s'", dir);
        }
    return fd;
}

static int
step_image(struct create *cr, struct mc_error **err)
{
    driver_progress(cr->ctx, "preparing the image '%s'", cr->cfg.image);
    return lvdrv_image_prepare(cr->ctx, cache_dir(cr->ctx), cr->cfg.image, cr->cfg.image_checksum,
                               &cr->image, err);
}

static int
step_base(struct create *cr, struct mc_error **err)
{
    _cleanup_close_ int lock = lock_uploads(cache_dir(cr->ctx), err);
    _cleanup_free_ char *base = NULL;
    if (lock < 0 ||
        lvdrv_base_ensure(cr->conn, cr->pool, &cr->image, cr->ctx, &base, &cr->base_path, err) < 0)
        return -1;
    mc_json_set_str(cr->ctx->state, "base_volume", base);
    return save(cr->ctx, err);
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
    if (save(cr->ctx, err) < 0)
        return -1;
    mc_crashpoint("libvirt-volume-recorded");
    if (make(cr, name, err) < 0)
        return -1;
    json_object_set_new(s, done_key, json_true());
    return save(cr->ctx, err);
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
    _cleanup_free_ char *disk = disk_volume_name(cr->ctx->name);
    _cleanup_free_ char *seed = seed_volume_name(cr->ctx->name);
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
    if (lvdrv_accel_resolve(cr->conn, cr->cfg.uri, cr->pool, cr->cfg.accel, cache_dir(cr->ctx),
                            &cr->accel, &warning, err) < 0)
        return -1;
    if (warning)
        log_warn("%s", warning);
    mc_json_set_str(cr->ctx->state, "accel", lvdrv_accel_to_string(cr->accel));
    return save(cr->ctx, err);
}

static int
define_domain(struct create *cr, struct mc_error **err)
{
    _cleanup_free_ char *disk = disk_volume_name(cr->ctx->name);
    _cleanup_free_ char *seed = seed_volume_name(cr->ctx->name);
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
    if (save(cr->ctx, err) < 0)
        return -1;
    _cleanup_domain_ virDomainPtr dom = virDomainDefineXML(cr->conn, xml);
    if (!dom)
        return lvdrv_error(err, "defining the domain '%s'", cr->ctx->name);
    char uuid[VIR_UUID_STRING_BUFLEN];
    if (virDomainGetUUIDString(dom, uuid) == 0)
        mc_json_set_str(cr->ctx->state, "domain_uuid", uuid);
    return save(cr->ctx, err);
}

static int
step_domain(struct create *cr, struct mc_error **err)
{
    _cleanup_domain_ virDomainPtr dom = NULL;
    if (find_domain(cr->conn, cr->ctx, cr->cfg.uri, &dom, err) < 0)
        return -1;
    if (dom)
        return 0; /* made by an interrupted create: adopted */
    driver_progress(cr->ctx, "defining the domain '%s' (%s, %lld vCPU, %lld MiB)", cr->ctx->name,
                    cr->accel == LVDRV_ACCEL_KVM ? "KVM" : "TCG", (long long)cr->cfg.cpus,
                    (long long)cr->cfg.memory_mib);
    return define_domain(cr, err);
}

static int64_t
deadline_of(const struct driver_ctx *ctx, int64_t timeout_s)
{
    int64_t d = mc_now_ms() + timeout_s * 1000;
    return ctx->deadline_ms && ctx->deadline_ms < d ? ctx->deadline_ms : d;
}

/* Waits for the booted guest's sshd. Under TCG a guest takes a minute or more from its DHCP
 * lease to a running sshd (cloud-init makes host keys first): the driver reports a booted guest,
 * so that the provisioner's SSH wait measures SSH, not the boot (docs/adr/0010). test:/// guests
 * are not machines: their made-up addresses are never dialled. */
static int
wait_booted(virConnectPtr conn, struct driver_ctx *ctx, const char *ip, int64_t deadline,
            struct mc_error **err)
{
    const char *type = virConnectGetType(conn);
    if (type && streq(type, "TEST"))
        return 0;
    driver_progress(ctx, "'%s' has the address %s; waiting for its sshd", ctx->name, ip);
    if (lvdrv_wait_sshd(ip, 22, deadline, err) < 0)
        return mc_error_prefix(err, "booting '%s': ", ctx->name);
    driver_progress(ctx, "'%s' is up", ctx->name);
    return 0;
}

/* Starts the domain (when it is not running) and waits for its address and its sshd. */
static int
boot(virConnectPtr conn, struct driver_ctx *ctx, virDomainPtr dom, int64_t timeout_s,
     struct mc_error **err)
{
    int64_t deadline = deadline_of(ctx, timeout_s);
    if (virDomainIsActive(dom) != 1) {
        driver_progress(ctx, "starting the domain '%s'", ctx->name);
        if (virDomainCreate(dom) < 0)
            return lvdrv_error(err, "starting the domain '%s'", ctx->name);
    }
    _cleanup_free_ char *xml = virDomainGetXMLDesc(dom, 0);
    _cleanup_free_ char *mac =
            xml ? lvdrv_xpath_string(xml, "/domain/devices/interface[1]/mac/@address") : NULL;
    if (!mac)
        return lvdrv_error(err, "reading the MAC address of the domain '%s'", ctx->name);
    driver_progress(ctx, "waiting for the address of '%s' (%s)", ctx->name, mac);
    _cleanup_free_ char *ip = lvdrv_domain_ipv4(dom, mac, deadline, err);
    if (!ip)
        return -1;
    mc_json_set_str(ctx->state, "mac", mac);
    mc_json_set_str(ctx->state, "ip", ip);
    if (save(ctx, err) < 0)
        return -1;
    return wait_booted(conn, ctx, ip, deadline, err);
}

static int
step_boot(struct create *cr, struct mc_error **err)
{
    _cleanup_domain_ virDomainPtr dom = NULL;
    if (find_domain(cr->conn, cr->ctx, cr->cfg.uri, &dom, err) < 0)
        return -1;
    if (!dom)
        return mc_error_set(err, MC_ERR_NOT_FOUND, "the domain '%s' disappeared while it was made",
                            cr->ctx->name);
    return boot(cr->conn, cr->ctx, dom, cr->cfg.boot_timeout_s, err);
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

static int
libvirt_create(struct driver_ctx *ctx, struct mc_error **err)
{
    struct create cr = { .ctx = ctx };
    int r = config_read(ctx, &cr.cfg, err);
    if (r == 0)
        r = create_steps(&cr, err);
    create_clear(&cr);
    return r;
}

/* ---- the other verbs ---- */

/* Connects to the machine's URI and finds its domain (NULL with MC_ERR_NOT_FOUND when gone). */
static virDomainPtr
open_domain(struct driver_ctx *ctx, virConnectPtr *ret_conn, struct mc_error **err)
{
    const char *uri = mc_json_str(ctx->state, "uri");
    if (!uri)
        uri = opt_or(ctx, "uri", "qemu:///system");
    _cleanup_conn_ virConnectPtr conn = lvdrv_connect(uri, err);
    if (!conn)
        return NULL;
    virDomainPtr dom = NULL;
    if (find_domain(conn, ctx, uri, &dom, err) < 0)
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
    if (find_domain(conn, ctx, uri, &dom, &e) < 0 && !mc_error_is(e, MC_ERR_EXISTS))
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

static int
libvirt_remove(struct driver_ctx *ctx, bool force, struct mc_error **err)
{
    const char *uri = mc_json_str(ctx->state, "uri");
    if (!uri)
        return 0; /* create never got as far as connecting: nothing was made */
    _cleanup_conn_ virConnectPtr conn = lvdrv_connect(uri, err);
    if (!conn)
        return mc_error_prefix(err, "removing '%s': ", ctx->name);
    int r = remove_all(conn, ctx, uri, force, err);
    if (save(ctx, r < 0 ? NULL : err) < 0)
        return -1;
    return r < 0 ? mc_error_prefix(err, "removing '%s': ", ctx->name) : 0;
}

static int
libvirt_start(struct driver_ctx *ctx, struct mc_error **err)
{
    _cleanup_conn_ virConnectPtr conn = NULL;
    _cleanup_domain_ virDomainPtr dom = open_domain(ctx, &conn, err);
    if (!dom)
        return -1;
    return boot(conn, ctx, dom, driver_opt_int(ctx, "boot-timeout", 600), err);
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
    int64_t deadline = deadline_of(ctx, timeout_s);
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

static int
libvirt_stop(struct driver_ctx *ctx, struct mc_error **err)
{
    _cleanup_conn_ virConnectPtr conn = NULL;
    _cleanup_domain_ virDomainPtr dom = open_domain(ctx, &conn, err);
    if (!dom)
        return -1;
    return shutdown_domain(ctx, dom, driver_opt_int(ctx, "stop-timeout", 120), err);
}

static int
libvirt_restart(struct driver_ctx *ctx, struct mc_error **err)
{
    _cleanup_conn_ virConnectPtr conn = NULL;
    _cleanup_domain_ virDomainPtr dom = open_domain(ctx, &conn, err);
    if (!dom)
        return -1;
    /* Power-cycle rather than virDomainReboot: it ends the same way whether or not the guest
     * honours ACPI, and the address is read again afterwards. */
    if (shutdown_domain(ctx, dom, driver_opt_int(ctx, "stop-timeout", 120), err) < 0)
        return -1;
    return boot(conn, ctx, dom, driver_opt_int(ctx, "boot-timeout", 600), err);
}

static int
libvirt_kill(struct driver_ctx *ctx, struct mc_error **err)
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

static int
libvirt_get_state(struct driver_ctx *ctx, enum driver_state *ret, struct mc_error **err)
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

static char *
libvirt_get_ip(struct driver_ctx *ctx, struct mc_error **err)
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

static int
libvirt_get_ssh_target(struct driver_ctx *ctx, struct driver_ssh_target *ret, struct mc_error **err)
{
    char *ip = libvirt_get_ip(ctx, err);
    if (!ip)
        return -1;
    const char *user = mc_json_str(ctx->state, "ssh_user");
    ret->host = ip;
    ret->port = 22;
    ret->user = xstrdup(user ? user : DEFAULT_SSH_USER);
    return 0;
}

const struct machine_driver libvirt_driver = {
    .name = "libvirt",
    .description = "local virtual machines through libvirt (KVM or TCG)",
    .available = true,
    .provisions = true,
    .options = options,
    .precreate_check = libvirt_precreate_check,
    .create = libvirt_create,
    .remove = libvirt_remove,
    .start = libvirt_start,
    .stop = libvirt_stop,
    .restart = libvirt_restart,
    .kill = libvirt_kill,
    .get_state = libvirt_get_state,
    .get_ip = libvirt_get_ip,
    .get_ssh_target = libvirt_get_ssh_target,
};
