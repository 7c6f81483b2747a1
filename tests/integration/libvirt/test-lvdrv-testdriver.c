/* The driver in-process against libvirt's test:///default (a fake hypervisor inside libvirt0):
 * pools, networks, volumes, define, start, stop, kill, restart, undefine, state mapping, the XML
 * libvirt keeps validated against its schema, and the refusal to touch a domain that is not ours.
 *
 * test:///default answers made-up guest addresses (192.168.122.x) that are nobody's: the test
 * first moves itself into a new network namespace with only loopback, so nothing can reach them.
 * test:///default cannot upload into volumes, so create's download/upload path is tested against
 * a real libvirtd (tests/e2e/libvirt). */
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "json.h"
#include "lvdrv-internal.h"
#include "lvdrv.h"
#include "tap-libvirt.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

#define URI "test:///default"

static void
enter_loopback_only_netns(void)
{
    if (geteuid() != 0)
        tap_skip_all("needs root to enter a network namespace with only loopback "
                     "(test:///default reports made-up guest addresses that must never be "
                     "dialled)");
    if (unshare(CLONE_NEWNET) < 0)
        tap_skip_all("cannot make a network namespace: %s", strerror(errno));
    struct if_nameindex *ifs = if_nameindex();
    int n = 0;
    for (struct if_nameindex *i = ifs; i && i->if_index; i++)
        n++;
    ok(n == 1 && ifs && streq(ifs[0].if_name, "lo"), "only loopback exists in our namespace");
    if_freenameindex(ifs);
}

struct fixture {
    virConnectPtr conn;
    virStoragePoolPtr pool;
    json_t *state;
    json_t *options;
    struct driver_ctx ctx;
    int saves;
};

static int
count_save(struct driver_ctx *ctx, struct mc_error **err)
{
    ((struct fixture *)ctx->userdata)->saves++;
    return 0;
}

static void
test_pool_and_network(struct fixture *f)
{
    _cleanup_free_ char *pool_dir = xasprintf("%s/pool", tap_tmpdir());
    _cleanup_error_ struct mc_error *e = NULL;
    f->pool = lvdrv_pool_ensure(f->conn, "machine", pool_dir, &e);
    ok(f->pool != NULL, "the pool 'machine' is made when missing %s", e ? e->message : "");
    ok(f->pool && virStoragePoolIsActive(f->pool) == 1, "and started");
    _cleanup_pool_ virStoragePoolPtr again = lvdrv_pool_ensure(f->conn, "machine", "/x", NULL);
    ok(again != NULL, "ensuring it again finds it");
    _cleanup_free_ char *xml = f->pool ? virStoragePoolGetXMLDesc(f->pool, 0) : NULL;
    _cleanup_free_ char *path = xml ? lvdrv_xpath_string(xml, "/pool/target/path") : NULL;
    is_str(path, pool_dir, "at the path given the first time");

    is_int(lvdrv_network_ensure(f->conn, "default", NULL), 0, "the existing network 'default'");
    is_int(lvdrv_network_ensure(f->conn, "mt-libvirt", NULL), 0, "a missing network is made");
    _cleanup_net_ virNetworkPtr net = virNetworkLookupByName(f->conn, "mt-libvirt");
    ok(net && virNetworkIsActive(net) == 1, "and started");
    _cleanup_free_ char *nxml = net ? virNetworkGetXMLDesc(net, 0) : NULL;
    _cleanup_free_ char *addr = nxml ? lvdrv_xpath_string(nxml, "/network/ip/@address") : NULL;
    is_str(addr, "192.168.123.1", "on the first /24 that 'default' (192.168.122.0/24) leaves free");
    _cleanup_free_ char *mode = nxml ? lvdrv_xpath_string(nxml, "/network/forward/@mode") : NULL;
    is_str(mode, "nat", "as a NAT network");
    if (nxml)
        tap_libvirt_xml_valid(nxml, "network");
}

static void
test_volumes(struct fixture *f)
{
    _cleanup_free_ char *bxml = lvdrv_volume_xml("base-test.img", 1 << 20, "raw", NULL, NULL);
    _cleanup_vol_ virStorageVolPtr base = lvdrv_vol_create(f->pool, bxml, NULL);
    ok(base != NULL, "a base volume is made");
    _cleanup_free_ char *bpath = base ? virStorageVolGetPath(base) : NULL;
    _cleanup_free_ char *oxml =
            lvdrv_volume_xml("web1.qcow2", 20ULL << 30, "qcow2", bpath ? bpath : "/x", "raw");
    _cleanup_vol_ virStorageVolPtr ov = lvdrv_vol_create(f->pool, oxml, NULL);
    ok(ov != NULL, "an overlay on it is made");
    _cleanup_free_ char *got = ov ? virStorageVolGetXMLDesc(ov, 0) : NULL;
    _cleanup_free_ char *backing =
            got ? lvdrv_xpath_string(got, "/volume/backingStore/path") : NULL;
    is_str(backing, bpath, "backed by the base volume");
    _cleanup_free_ char *cap = got ? lvdrv_xpath_string(got, "/volume/capacity") : NULL;
    is_str(cap, "21474836480", "with the requested size");
    if (got)
        tap_libvirt_xml_valid(got, "volume");
    _cleanup_free_ char *sxml = lvdrv_volume_xml("web1-seed.iso", 374784, "raw", NULL, NULL);
    _cleanup_vol_ virStorageVolPtr seed = lvdrv_vol_create(f->pool, sxml, NULL);
    ok(seed != NULL, "a seed volume is made");
    is_int(lvdrv_vol_delete(f->pool, "base-test.img", NULL), 0, "a volume is deleted");
    is_int(lvdrv_vol_delete(f->pool, "base-test.img", NULL), 0, "deleting it again is fine");
}

static void
fixture_ctx(struct fixture *f, const char *name)
{
    f->ctx = (struct driver_ctx){
        .name = name,
        .dir = tap_tmpdir(),
        .ssh_public_key = "ssh-ed25519 AAAA test",
        .options = f->options,
        .state = f->state,
        .save = count_save,
        .userdata = f,
    };
}

/* Defines web1 as create would after its volumes, recording it in the state. */
static void
test_define(struct fixture *f)
{
    json_object_set_new(f->state, "uri", json_string(URI));
    json_object_set_new(f->state, "pool", json_string("machine"));
    json_object_set_new(f->state, "instance_id", json_string("feedc0de"));
    json_object_set_new(f->state, "disk_volume", json_string("web1.qcow2"));
    json_object_set_new(f->state, "seed_volume", json_string("web1-seed.iso"));
    json_object_set_new(f->state, "domain", json_string("web1"));
    struct lvdrv_domain_spec spec = {
        .name = "web1",
        .instance_id = "feedc0de",
        .type = "qemu",
        .vcpus = 2,
        .memory_mib = 2048,
        .pool = "machine",
        .disk_volume = "web1.qcow2",
        .seed_volume = "web1-seed.iso",
        .network = "mt-libvirt",
    };
    _cleanup_free_ char *xml = lvdrv_domain_xml(&spec);
    _cleanup_domain_ virDomainPtr dom = virDomainDefineXML(f->conn, xml);
    ok(dom != NULL, "the domain XML is accepted by libvirt");
    _cleanup_free_ char *kept = dom ? virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE) : NULL;
    _cleanup_free_ char *inst =
            kept ? lvdrv_xpath_string(kept, "/domain/metadata/m:machine/m:instance") : NULL;
    is_str(inst, "feedc0de", "libvirt keeps the instance id in the metadata");
    _cleanup_free_ char *mac =
            kept ? lvdrv_xpath_string(kept, "/domain/devices/interface/mac/@address") : NULL;
    ok(mac && startswith(mac, "52:54:00:"), "libvirt gave the interface a MAC (%s)",
       mac ? mac : "none");
    if (kept)
        tap_libvirt_xml_valid(kept, "domain");
}

static void
expect_state(struct fixture *f, enum driver_state want, const char *what)
{
    enum driver_state s = DRIVER_STATE_NONE;
    _cleanup_error_ struct mc_error *e = NULL;
    int r = driver_get_state(&libvirt_driver, &f->ctx, &s, &e);
    ok(r == 0 && s == want, "%s: %s (got %s%s)", what, driver_state_to_string(want),
       driver_state_to_string(s), e ? e->message : "");
}

static void
test_lifecycle(struct fixture *f)
{
    fixture_ctx(f, "web1");
    const struct machine_driver *d = &libvirt_driver;
    expect_state(f, DRIVER_STATE_STOPPED, "defined");
    _cleanup_error_ struct mc_error *e = NULL;
    int started = driver_start(d, &f->ctx, &e);
    is_int(started, 0, "start %s", e ? e->message : "");
    expect_state(f, DRIVER_STATE_RUNNING, "started");
    ok(mc_json_str(f->state, "ip") && mc_json_str(f->state, "mac"),
       "start records the address libvirt reports (made up here, and never dialled)");
    struct driver_ssh_target t = { 0 };
    is_int(driver_get_ssh_target(d, &f->ctx, &t, NULL), 0, "an SSH target");
    ok(t.port == 22 && streq_ptr(t.user, "docker") &&
               streq_ptr(t.host, mc_json_str(f->state, "ip")),
       "port 22, user docker, the recorded address");
    driver_ssh_target_clear(&t);

    _cleanup_domain_ virDomainPtr dom = virDomainLookupByName(f->conn, "web1");
    ok(dom && virDomainSuspend(dom) == 0, "suspended behind our back");
    expect_state(f, DRIVER_STATE_PAUSED, "suspended");
    ok(dom && virDomainResume(dom) == 0, "resumed");
    is_int(driver_stop(d, &f->ctx, NULL), 0, "stop (ACPI)");
    expect_state(f, DRIVER_STATE_STOPPED, "stopped");
    is_int(driver_stop(d, &f->ctx, NULL), 0, "stopping a stopped machine is fine");
    is_int(driver_restart(d, &f->ctx, NULL), 0, "restart");
    expect_state(f, DRIVER_STATE_RUNNING, "restarted");
    is_int(driver_kill(d, &f->ctx, NULL), 0, "kill");
    expect_state(f, DRIVER_STATE_STOPPED, "killed");
    is_int(driver_start(d, &f->ctx, NULL), 0, "start again");

    int saves = f->saves;
    _cleanup_error_ struct mc_error *rm_err = NULL;
    int rm = driver_remove(d, &f->ctx, false, &rm_err);
    is_int(rm, 0, "rm %s", rm_err ? rm_err->message : "");
    ok(f->saves > saves, "rm saves the state it changed");
    _cleanup_domain_ virDomainPtr gone = virDomainLookupByName(f->conn, "web1");
    ok(!gone && lvdrv_last_error_code() == VIR_ERR_NO_DOMAIN, "the domain is undefined");
    lvdrv_reset_error();
    _cleanup_vol_ virStorageVolPtr disk = virStorageVolLookupByName(f->pool, "web1.qcow2");
    _cleanup_vol_ virStorageVolPtr seed = virStorageVolLookupByName(f->pool, "web1-seed.iso");
    ok(!disk && !seed, "its disk and seed volumes are deleted");
    lvdrv_reset_error();
    ok(!json_object_get(f->state, "domain") && !json_object_get(f->state, "disk_volume"),
       "and forgotten");
    expect_state(f, DRIVER_STATE_NOT_FOUND, "after rm");
}

static void
test_state_table(void)
{
    static const struct {
        int vir;
        enum driver_state want;
    } map[] = {
        { VIR_DOMAIN_NOSTATE, DRIVER_STATE_NONE },
        { VIR_DOMAIN_RUNNING, DRIVER_STATE_RUNNING },
        { VIR_DOMAIN_BLOCKED, DRIVER_STATE_RUNNING },
        { VIR_DOMAIN_PAUSED, DRIVER_STATE_PAUSED },
        { VIR_DOMAIN_SHUTDOWN, DRIVER_STATE_STOPPING },
        { VIR_DOMAIN_SHUTOFF, DRIVER_STATE_STOPPED },
        { VIR_DOMAIN_CRASHED, DRIVER_STATE_ERROR },
        { VIR_DOMAIN_PMSUSPENDED, DRIVER_STATE_SAVED },
    };
    for (size_t i = 0; i < ELEMENTSOF(map); i++)
        is_int(lvdrv_state_from_libvirt(map[i].vir), map[i].want, "libvirt state %d maps to '%s'",
               map[i].vir, driver_state_to_string(map[i].want));
}

/* test:///default has a running domain named "test" that machine did not make. */
static void
test_foreign_domain(struct fixture *f)
{
    json_object_clear(f->state);
    fixture_ctx(f, "test");
    _cleanup_error_ struct mc_error *e = NULL;
    is_int(driver_precreate_check(&libvirt_driver, &f->ctx, &e), -1,
           "a name that exists in libvirt already");
    ok(e && e->code == MC_ERR_PRECREATE &&
               strstr(e->message, "a libvirt domain named 'test' exists already on "
                                  "'test:///default' and was not made for this machine"),
       "is refused before anything is made: %s", e ? e->message : "");
    _cleanup_error_ struct mc_error *e2 = NULL;
    is_int(driver_create(&libvirt_driver, &f->ctx, &e2), -1, "create refuses it too");
    ok(mc_error_is(e2, MC_ERR_EXISTS), "as existing");

    json_object_set_new(f->state, "uri", json_string(URI));
    json_object_set_new(f->state, "domain", json_string("test"));
    json_object_set_new(f->state, "instance_id", json_string("not-the-same"));
    is_int(driver_remove(&libvirt_driver, &f->ctx, false, NULL), 0,
           "rm of a machine whose domain was replaced by someone else's");
    _cleanup_domain_ virDomainPtr still = virDomainLookupByName(f->conn, "test");
    ok(still && virDomainIsActive(still) == 1, "leaves that domain alone, still running");
    _cleanup_error_ struct mc_error *e3 = NULL;
    is_int(driver_stop(&libvirt_driver, &f->ctx, &e3), -1, "and stop refuses to touch it");
}

static void
test_precreate_inputs(struct fixture *f)
{
    json_object_clear(f->state);
    fixture_ctx(f, "web2");
    json_object_set_new(f->options, "memory", json_string("9999999"));
    _cleanup_error_ struct mc_error *e = NULL;
    is_int(driver_precreate_check(&libvirt_driver, &f->ctx, &e), -1, "more memory than the host");
    ok(e && e->code == MC_ERR_PRECREATE &&
               strstr(e->message, "--libvirt-memory 9999999 MiB is more than the host of "
                                  "'test:///default' has"),
       "is refused: %s", e ? e->message : "");
    json_object_set_new(f->options, "memory", json_string("512"));

    json_object_set_new(f->options, "uri", json_string("qemu+tcp://127.0.0.1:1/system"));
    _cleanup_error_ struct mc_error *e2 = NULL;
    is_int(driver_precreate_check(&libvirt_driver, &f->ctx, &e2), -1, "an unreachable URI");
    ok(e2 && e2->code == MC_ERR_PRECREATE &&
               startswith(e2->message, "cannot connect to libvirt at "
                                       "'qemu+tcp://127.0.0.1:1/system': "),
       "is refused with libvirt's reason: %s", e2 ? e2->message : "");
    json_object_set_new(f->options, "uri", json_string(URI));

    json_object_set_new(f->options, "accel", json_string("hvf"));
    _cleanup_error_ struct mc_error *e3 = NULL;
    is_int(driver_precreate_check(&libvirt_driver, &f->ctx, &e3), -1, "an unknown accel");
    ok(mc_error_is(e3, MC_ERR_USAGE), "is a usage error: %s", e3 ? e3->message : "");
    json_object_set_new(f->options, "accel", json_string("tcg"));

    is_int(driver_precreate_check(&libvirt_driver, &f->ctx, NULL), 0, "good options pass");
}

int
main(void)
{
    enter_loopback_only_netns();
    struct fixture f = { .state = json_object(), .options = json_object() };
    json_object_set_new(f.options, "uri", json_string(URI));
    f.conn = lvdrv_connect(URI, NULL);
    if (!f.conn)
        tap_bail("cannot open test:///default");
    test_pool_and_network(&f);
    if (!f.pool)
        tap_bail("no pool: the rest cannot run");
    test_volumes(&f);
    test_define(&f);
    test_lifecycle(&f);
    test_state_table();
    test_foreign_domain(&f);
    test_precreate_inputs(&f);
    virStoragePoolFree(f.pool);
    virConnectClose(f.conn);
    json_decref(f.state);
    json_decref(f.options);
    return tap_done();
}
