/* The acceleration choice: the host's capabilities and the probe's result in, KVM or TCG and the
 * warning text out. */
#include <string.h>

#include "fs.h"
#include "lvdrv-internal.h"
#include "tap.h"
#include "xalloc.h"

#define URI "qemu:///system"

static char *
caps(const char *name)
{
    _cleanup_free_ char *rel = xasprintf("libvirt/%s", name);
    _cleanup_free_ char *path = tap_data_path(rel);
    char *data = NULL;
    if (mc_read_file(path, 1 << 20, &data, NULL, NULL) < 0)
        tap_bail("cannot read '%s'", path);
    return data;
}

struct choice {
    enum lvdrv_accel accel;
    char *warning;
    struct mc_error *err;
};

static void
choice_clear(struct choice *c)
{
    free(c->warning);
    mc_error_free(c->err);
    memset(c, 0, sizeof(*c));
}

static int
choose(enum lvdrv_accel requested, const char *caps_xml, enum lvdrv_probe_result result,
       const char *detail, const char *cached_in, struct choice *c)
{
    struct lvdrv_probe probe = { .result = result, .deadline_s = 10 };
    probe.detail = (char *)detail;
    probe.cached_in = (char *)cached_in;
    memset(c, 0, sizeof(*c));
    return lvdrv_accel_choose(requested, URI, caps_xml, &probe, &c->accel, &c->warning, &c->err);
}

static void
test_probe_decides(const char *kvm_caps)
{
    struct choice c;
    ok(lvdrv_accel_wants_probe(LVDRV_ACCEL_AUTO, true), "auto with KVM offered wants the probe");
    ok(!lvdrv_accel_wants_probe(LVDRV_ACCEL_AUTO, false), "auto without KVM needs no probe");
    ok(!lvdrv_accel_wants_probe(LVDRV_ACCEL_TCG, true), "tcg needs no probe");
    ok(!lvdrv_accel_wants_probe(LVDRV_ACCEL_KVM, true), "kvm needs no probe");

    is_int(choose(LVDRV_ACCEL_AUTO, kvm_caps, LVDRV_PROBE_OK, NULL, NULL, &c), 0, "auto, probe ok");
    is_int(c.accel, LVDRV_ACCEL_KVM, "a probe guest that boots means KVM");
    ok(c.warning == NULL, "and no warning");
    choice_clear(&c);

    is_int(choose(LVDRV_ACCEL_AUTO, kvm_caps, LVDRV_PROBE_TIMEOUT, NULL, NULL, &c), 0,
           "auto, probe timeout");
    is_int(c.accel, LVDRV_ACCEL_TCG, "a probe guest that hangs means TCG");
    is_str(c.warning,
           "KVM is offered by 'qemu:///system' but a probe guest did not boot under it within "
           "10 s: KVM guests hang on this host; using TCG (software emulation), which is several "
           "times slower; --libvirt-accel kvm forces KVM",
           "the warning says why");
    choice_clear(&c);

    is_int(choose(LVDRV_ACCEL_AUTO, kvm_caps, LVDRV_PROBE_TIMEOUT, NULL,
                  "/s/cache/libvirt/accel.json", &c),
           0, "auto, cached timeout");
    is_str(c.warning,
           "KVM is offered by 'qemu:///system' but a probe guest did not boot under it within "
           "10 s (remembered in '/s/cache/libvirt/accel.json'; delete it to probe again): KVM "
           "guests hang on this host; using TCG (software emulation), which is several times "
           "slower; --libvirt-accel kvm forces KVM",
           "a cached answer says where it is remembered");
    choice_clear(&c);

    is_int(choose(LVDRV_ACCEL_AUTO, kvm_caps, LVDRV_PROBE_FAILED,
                  "Could not access KVM kernel module: Permission denied", NULL, &c),
           0, "auto, probe failed");
    is_int(c.accel, LVDRV_ACCEL_TCG, "a probe guest that cannot start means TCG");
    is_str(c.warning,
           "KVM is offered by 'qemu:///system' but a probe guest could not run under it (Could "
           "not access KVM kernel module: Permission denied); using TCG (software emulation), "
           "which is several times slower; --libvirt-accel kvm forces KVM",
           "the warning carries libvirt's reason");
    choice_clear(&c);

    is_int(choose(LVDRV_ACCEL_AUTO, kvm_caps, LVDRV_PROBE_FAILED, "Permission denied",
                  "/s/cache/libvirt/accel.json", &c),
           0, "auto, cached failure");
    is_str(c.warning,
           "KVM is offered by 'qemu:///system' but a probe guest could not run under it "
           "(Permission denied) (remembered in '/s/cache/libvirt/accel.json'; delete it to probe "
           "again); using TCG (software emulation), which is several times slower; "
           "--libvirt-accel kvm forces KVM",
           "a cached failure says where it is remembered");
    choice_clear(&c);

    is_int(choose(LVDRV_ACCEL_AUTO, kvm_caps, LVDRV_PROBE_NOT_RUN, NULL, NULL, &c), -1,
           "auto with KVM offered refuses to decide without the probe");
    choice_clear(&c);
}

static void
test_no_kvm(const char *tcg_caps)
{
    struct choice c;
    is_int(choose(LVDRV_ACCEL_AUTO, tcg_caps, LVDRV_PROBE_NOT_RUN, NULL, NULL, &c), 0,
           "auto without KVM");
    is_int(c.accel, LVDRV_ACCEL_TCG, "no KVM in the capabilities means TCG");
    is_str(c.warning,
           "KVM is not available on 'qemu:///system' (its capabilities offer no KVM guests for "
           "x86_64): using TCG (software emulation), which is several times slower; "
           "--libvirt-accel kvm forces KVM",
           "the warning says why");
    choice_clear(&c);

    is_int(choose(LVDRV_ACCEL_KVM, tcg_caps, LVDRV_PROBE_NOT_RUN, NULL, NULL, &c), -1,
           "kvm asked for but not offered");
    ok(c.err && c.err->code == MC_ERR_PRECREATE, "is a pre-create error");
    ok(c.err && strstr(c.err->message, "--libvirt-accel kvm was asked for but "
                                       "'qemu:///system' offers no KVM guests"),
       "that says what is missing: %s", c.err ? c.err->message : "");
    choice_clear(&c);

    is_int(choose(LVDRV_ACCEL_TCG, tcg_caps, LVDRV_PROBE_NOT_RUN, NULL, NULL, &c), 0, "tcg");
    is_int(c.accel, LVDRV_ACCEL_TCG, "tcg asked for is tcg");
    ok(c.warning == NULL, "without a warning: the user chose it");
    choice_clear(&c);
}

static void
test_forced(const char *kvm_caps, const char *test_caps)
{
    struct choice c;
    is_int(choose(LVDRV_ACCEL_KVM, kvm_caps, LVDRV_PROBE_TIMEOUT, NULL, NULL, &c), 0,
           "kvm asked for and offered");
    is_int(c.accel, LVDRV_ACCEL_KVM, "is kvm, whatever a probe said");
    ok(c.warning == NULL, "without a warning");
    choice_clear(&c);

    is_int(choose(LVDRV_ACCEL_AUTO, test_caps, LVDRV_PROBE_NOT_RUN, NULL, NULL, &c), -1,
           "a host with neither KVM nor TCG guests");
    ok(c.err && strstr(c.err->message, "offers neither KVM nor TCG"), "is refused: %s",
       c.err ? c.err->message : "");
    choice_clear(&c);

    is_int(choose(LVDRV_ACCEL_AUTO, "<not xml", LVDRV_PROBE_OK, NULL, NULL, &c), -1,
           "malformed capabilities");
    ok(c.err && strstr(c.err->message, "not valid XML"), "are refused: %s",
       c.err ? c.err->message : "");
    choice_clear(&c);
}

static void
test_names(void)
{
    is_int(lvdrv_accel_from_string("auto"), LVDRV_ACCEL_AUTO, "auto parses");
    is_int(lvdrv_accel_from_string("kvm"), LVDRV_ACCEL_KVM, "kvm parses");
    is_int(lvdrv_accel_from_string("tcg"), LVDRV_ACCEL_TCG, "tcg parses");
    is_int(lvdrv_accel_from_string("hvf"), -1, "hvf does not");
    is_str(lvdrv_accel_domain_type(LVDRV_ACCEL_KVM), "kvm", "KVM is domain type kvm");
    is_str(lvdrv_accel_domain_type(LVDRV_ACCEL_TCG), "qemu", "TCG is domain type qemu");
}

int
main(void)
{
    _cleanup_free_ char *kvm_caps = caps("caps-kvm.xml");
    _cleanup_free_ char *tcg_caps = caps("caps-tcg.xml");
    _cleanup_free_ char *test_caps = caps("caps-test-driver.xml");
    bool kvm = false, tcg = false;
    is_int(lvdrv_caps_offers(kvm_caps, &kvm, &tcg, NULL), 0, "qemu capabilities parse");
    ok(kvm && tcg, "and offer KVM and TCG");
    is_int(lvdrv_caps_offers(tcg_caps, &kvm, &tcg, NULL), 0, "TCG-only capabilities parse");
    ok(!kvm && tcg, "and offer TCG only");
    test_probe_decides(kvm_caps);
    test_no_kvm(tcg_caps);
    test_forced(kvm_caps, test_caps);
    test_names();
    return tap_done();
}
