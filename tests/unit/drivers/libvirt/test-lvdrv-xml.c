/* The XML the driver gives libvirt: golden files, libvirt's own schemas (virt-xml-validate), and
 * escaping; and the XPath reader. */
#include <string.h>

#include "lvdrv-internal.h"
#include "strv.h"
#include "tap-libvirt.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static void
check(const char *xml, const char *golden, const char *what)
{
    is_golden(xml, golden);
    tap_libvirt_xml_valid(xml, what);
}

static struct lvdrv_domain_spec
spec(const char *type)
{
    return (struct lvdrv_domain_spec){
        .name = "web1",
        .instance_id = "0123456789abcdef0123456789abcdef",
        .type = type,
        .vcpus = 2,
        .memory_mib = 2048,
        .pool = "machine",
        .disk_volume = "web1.qcow2",
        .seed_volume = "web1-seed.iso",
        .network = "default",
    };
}

static void
test_domains(void)
{
    struct lvdrv_domain_spec tcg = spec("qemu"), kvm = spec("kvm");
    _cleanup_free_ char *x1 = lvdrv_domain_xml(&tcg);
    _cleanup_free_ char *x2 = lvdrv_domain_xml(&kvm);
    _cleanup_free_ char *x3 = lvdrv_probe_domain_xml("machine-kvm-probe-00000000", "kvm", "machine",
                                                     "machine-kvm-probe-00000000.img");
    check(x1, "libvirt/domain-tcg.xml", "domain-tcg");
    check(x2, "libvirt/domain-kvm.xml", "domain-kvm");
    check(x3, "libvirt/domain-probe.xml", "domain-probe");

    _cleanup_free_ char *inst = lvdrv_xpath_string(x1, "/domain/metadata/m:machine/m:instance");
    is_str(inst, "0123456789abcdef0123456789abcdef", "the instance id reads back by XPath");
    _cleanup_free_ char *none = lvdrv_xpath_string(x1, "/domain/devices/interface/mac/@address");
    ok(none == NULL, "a missing node reads as NULL");
    _cleanup_strv_ char **disks = lvdrv_xpath_strings(x1, "/domain/devices/disk/source/@volume");
    is_int(strv_length(disks), 2, "two disks");
    ok(disks[0] && disks[1] && streq(disks[0], "web1.qcow2") && streq(disks[1], "web1-seed.iso"),
       "the overlay and the seed, in that order");
}

static void
test_storage_and_network(void)
{
    _cleanup_free_ char *pool = lvdrv_pool_xml("machine", "/var/lib/libvirt/machine");
    _cleanup_free_ char *net = lvdrv_network_xml("default", "192.168.122");
    _cleanup_free_ char *base = lvdrv_volume_xml("base-0a.qcow2", 2147483648ULL, "raw", NULL, NULL);
    _cleanup_free_ char *disk = lvdrv_volume_xml("web1.qcow2", 21474836480ULL, "qcow2",
                                                 "/var/lib/libvirt/machine/base-0a.qcow2", "qcow2");
    check(pool, "libvirt/pool.xml", "pool");
    check(net, "libvirt/network.xml", "network");
    check(base, "libvirt/volume-base.xml", "volume-base");
    check(disk, "libvirt/volume-overlay.xml", "volume-overlay");
}

static void
test_escaping(void)
{
    /* Option values reach the XML: a quote or an angle bracket must stay inside its value. */
    struct lvdrv_domain_spec s = spec("qemu");
    s.network = "n'\"<&>";
    s.pool = "p</source><disk>";
    _cleanup_free_ char *x = lvdrv_domain_xml(&s);
    _cleanup_free_ char *net = lvdrv_xpath_string(x, "/domain/devices/interface/source/@network");
    is_str(net, "n'\"<&>", "a network name with quotes and brackets reads back unchanged");
    _cleanup_free_ char *pool = lvdrv_xpath_string(x, "/domain/devices/disk[1]/source/@pool");
    is_str(pool, "p</source><disk>", "so does a pool name that looks like markup");
    _cleanup_free_ char *n = lvdrv_xpath_string(x, "count(/domain/devices/disk)");
    is_str(n, "2", "and no element was injected");
}

int
main(void)
{
    test_domains();
    test_storage_and_network();
    test_escaping();
    return tap_done();
}
