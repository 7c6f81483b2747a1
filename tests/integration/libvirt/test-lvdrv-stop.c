/* The driver's power verbs against a real libvirtd and qemu (run inside a private one by
 * run-inside.py): a guest that ignores the ACPI power button (one with no bootable disk: SeaBIOS
 * has no OS to honour it) is destroyed once --libvirt-stop-timeout has passed; kill powers off at
 * once; rm undefines the domain (with the qemu driver's undefine flags, which test:/// lacks)
 * and deletes its volumes. */
#include <string.h>

#include <libvirt/virterror.h>

#include "json.h"
#include "lvdrv-internal.h"
#include "lvdrv.h"
#include "tap.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

#define NAME "lvs1"

static int
no_save(struct driver_ctx *ctx, struct mc_error **err)
{
    return 0;
}

static void
make_volume(virStoragePoolPtr pool, const char *name, const char *format)
{
    _cleanup_free_ char *xml = lvdrv_volume_xml(name, 1 << 20, format, NULL, NULL);
    _cleanup_error_ struct mc_error *e = NULL;
    _cleanup_vol_ virStorageVolPtr vol = lvdrv_vol_create(pool, xml, &e);
    if (!vol)
        tap_bail("cannot make the volume '%s': %s", name, e->message);
}

/* Defines NAME as create would: an empty disk (nothing to boot), a seed, the NAT network. */
static virDomainPtr
define(virConnectPtr conn, virStoragePoolPtr pool)
{
    _cleanup_error_ struct mc_error *e = NULL;
    if (lvdrv_network_ensure(conn, "default", &e) < 0)
        tap_bail("no network: %s", e->message);
    make_volume(pool, NAME ".qcow2", "qcow2");
    make_volume(pool, NAME "-seed.iso", "raw");
    struct lvdrv_domain_spec spec = {
        .name = NAME,
        .instance_id = "stop-test",
        .type = "qemu",
        .vcpus = 1,
        .memory_mib = 64,
        .pool = "machine",
        .disk_volume = NAME ".qcow2",
        .seed_volume = NAME "-seed.iso",
        .network = "default",
    };
    _cleanup_free_ char *xml = lvdrv_domain_xml(&spec);
    virDomainPtr dom = virDomainDefineXML(conn, xml);
    if (!dom)
        tap_bail("cannot define the domain: %s", lvdrv_last_error_text("no reason"));
    return dom;
}

static void
expect_state(struct driver_ctx *ctx, enum driver_state want, const char *what)
{
    enum driver_state s = DRIVER_STATE_NONE;
    _cleanup_error_ struct mc_error *e = NULL;
    int r = driver_get_state(&libvirt_driver, ctx, &s, &e);
    ok(r == 0 && s == want, "%s: %s (got %s%s)", what, driver_state_to_string(want),
       driver_state_to_string(s), e ? e->message : "");
}

static void
test_stop_and_kill(virDomainPtr dom, struct driver_ctx *ctx, json_t *options)
{
    ok(virDomainCreate(dom) == 0, "the guest runs (SeaBIOS, no bootable disk)");
    expect_state(ctx, DRIVER_STATE_RUNNING, "started");
    _cleanup_error_ struct mc_error *e = NULL;
    int64_t t0 = mc_now_ms();
    is_int(driver_stop(&libvirt_driver, ctx, &e), 0, "stop %s", e ? e->message : "");
    int64_t took = mc_now_ms() - t0;
    ok(took >= 3000 && took < 20000,
       "the guest ignored the ACPI button and was destroyed after the 3 s stop timeout (%.1f s)",
       (double)took / 1000);
    expect_state(ctx, DRIVER_STATE_STOPPED, "stopped");

    ok(virDomainCreate(dom) == 0, "started again");
    json_object_set_new(options, "stop-timeout", json_string("60"));
    t0 = mc_now_ms();
    is_int(driver_kill(&libvirt_driver, ctx, NULL), 0, "kill");
    took = mc_now_ms() - t0;
    ok(took < 15000, "powers off at once, never waiting on the 60 s stop timeout (%.1f s)",
       (double)took / 1000);
    expect_state(ctx, DRIVER_STATE_STOPPED, "killed");
}

static void
test_remove(virConnectPtr conn, virStoragePoolPtr pool, struct driver_ctx *ctx)
{
    _cleanup_error_ struct mc_error *e = NULL;
    is_int(driver_remove(&libvirt_driver, ctx, false, &e), 0, "rm %s", e ? e->message : "");
    _cleanup_domain_ virDomainPtr gone = virDomainLookupByName(conn, NAME);
    ok(!gone && lvdrv_last_error_code() == VIR_ERR_NO_DOMAIN, "the domain is undefined");
    lvdrv_reset_error();
    _cleanup_vol_ virStorageVolPtr disk = virStorageVolLookupByName(pool, NAME ".qcow2");
    _cleanup_vol_ virStorageVolPtr seed = virStorageVolLookupByName(pool, NAME "-seed.iso");
    ok(!disk && !seed, "its disk and seed volumes are deleted");
    lvdrv_reset_error();
    expect_state(ctx, DRIVER_STATE_NOT_FOUND, "after rm");
}

int
main(void)
{
    virConnectPtr conn = lvdrv_connect("qemu:///system", NULL);
    if (!conn)
        tap_bail("no libvirtd: run through run-inside.py");
    _cleanup_error_ struct mc_error *e = NULL;
    virStoragePoolPtr pool = lvdrv_pool_ensure(conn, "machine", "/var/lib/libvirt/machine", &e);
    if (!pool)
        tap_bail("no pool: %s", e->message);
    virDomainPtr dom = define(conn, pool);
    json_t *state = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "uri", "qemu:///system", "pool",
                              "machine", "instance_id", "stop-test", "domain", NAME, "disk_volume",
                              NAME ".qcow2", "seed_volume", NAME "-seed.iso");
    json_t *options = json_pack("{s:s}", "stop-timeout", "3");
    struct driver_ctx ctx = {
        .name = NAME,
        .dir = tap_tmpdir(),
        .options = options,
        .state = state,
        .save = no_save,
    };
    test_stop_and_kill(dom, &ctx, options);
    test_remove(conn, pool, &ctx);
    virDomainFree(dom);
    json_decref(state);
    json_decref(options);
    virStoragePoolFree(pool);
    virConnectClose(conn);
    return tap_done();
}
