/* The libvirt driver: a domain booted from a qcow2 overlay on a cached cloud image, configured
 * by a NoCloud seed, on a NAT network; KVM where it works, else TCG (DESIGN.md §4).
 *
 * Everything create makes is recorded in ctx->state before it is made, and marked complete after,
 * so an interrupted create is resumed (complete things are adopted, half-made ones replaced) and
 * rm removes exactly what was made. A domain carries the machine's instance id in its metadata:
 * a domain of the same name without it is someone else's and is never touched. */
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "json.h"
#include "lvdrv-internal.h"
#include "lvdrv.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

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
      .help = "seconds to wait for the guest's address and sshd after it starts",
      .metavar = "SECONDS" },
    { .name = "stop-timeout",
      .type = DRIVER_OPT_INT,
      .default_value = "120",
      .help = "seconds an ACPI shutdown may take before the domain is destroyed",
      .metavar = "SECONDS" },
    { 0 },
};

void
lvdrv_config_clear(struct lvdrv_config *c)
{
    free(c->uri);
    free(c->network);
    free(c->pool);
    free(c->image);
    free(c->image_checksum);
    free(c->pool_path);
    memset(c, 0, sizeof(*c));
}

const char *
lvdrv_opt_or(const struct driver_ctx *ctx, const char *name, const char *dflt)
{
    const char *v = driver_opt_str(ctx, name);
    return isempty(v) ? dflt : v;
}

/* The state's value for key (what a resumed create must keep), else the option, else dflt. */
static char *
state_or_opt(const struct driver_ctx *ctx, const char *key, const char *dflt)
{
    const char *v = mc_json_str(ctx->state, key);
    return xstrdup(v ? v : lvdrv_opt_or(ctx, key, dflt));
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

int
lvdrv_config_read(const struct driver_ctx *ctx, struct lvdrv_config *c, struct mc_error **err)
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
    c->image = xstrdup(lvdrv_opt_or(ctx, "image", LVDRV_DEFAULT_IMAGE));
    c->image_checksum = xstrdup_or_null(driver_opt_str(ctx, "image-checksum"));
    int a = lvdrv_accel_from_string(lvdrv_opt_or(ctx, "accel", "auto"));
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
    if (!isempty(c->image_checksum) && lvdrv_checksum_parse(c->image_checksum, &sum, err) < 0) {
        if (err && *err)
            (*err)->code = MC_ERR_USAGE; /* a flag's value, like the numbers above */
        return mc_error_prefix(err, "--libvirt-image-checksum: ");
    }
    return 0;
}

const char *
lvdrv_cache_dir(const struct driver_ctx *ctx)
{
    return ctx->cache_dir ? ctx->cache_dir : ctx->dir;
}

char *
lvdrv_disk_volume_name(const char *name)
{
    return xasprintf("%s.qcow2", name);
}

char *
lvdrv_seed_volume_name(const char *name)
{
    return xasprintf("%s-seed.iso", name);
}

int
lvdrv_save(struct driver_ctx *ctx, struct mc_error **err)
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

int
lvdrv_find_domain(virConnectPtr conn, const struct driver_ctx *ctx, const char *uri,
                  virDomainPtr *ret, struct mc_error **err)
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

int64_t
lvdrv_deadline(const struct driver_ctx *ctx, int64_t timeout_s)
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
int
lvdrv_boot(virConnectPtr conn, struct driver_ctx *ctx, virDomainPtr dom, int64_t timeout_s,
           struct mc_error **err)
{
    int64_t deadline = lvdrv_deadline(ctx, timeout_s);
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
    if (lvdrv_save(ctx, err) < 0)
        return -1;
    return wait_booted(conn, ctx, ip, deadline, err);
}

const struct machine_driver libvirt_driver = {
    .name = "libvirt",
    .description = "local virtual machines through libvirt (KVM or TCG)",
    .available = true,
    .provisions = true,
    .options = options,
    .precreate_check = lvdrv_precreate_check,
    .create = lvdrv_create,
    .remove = lvdrv_remove,
    .start = lvdrv_start,
    .stop = lvdrv_stop,
    .restart = lvdrv_restart,
    .kill = lvdrv_kill,
    .get_state = lvdrv_get_state,
    .get_ip = lvdrv_get_ip,
    .get_ssh_target = lvdrv_get_ssh_target,
};
