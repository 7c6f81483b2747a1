/* The KVM probe's machinery against a real libvirtd (run inside a private one by probe.py): the
 * probe guest's boot sector is read back from its console when it boots (under TCG here, where
 * KVM guests do not run); a guest silent past its deadline is a timeout and is destroyed; the KVM
 * probe ends within its deadline and leaves no domain or volume behind; and a connection left
 * idle longer than libvirtd's keepalive limit still works (the driver runs libvirt's event loop,
 * which answers the pings). */
#include <string.h>

#include "lvdrv-internal.h"
#include "strv.h"
#include "tap.h"
#include "timeutil.h"
#include "util.h"

static void
nothing_left(virConnectPtr conn, virStoragePoolPtr pool, const char *what)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(conn, &doms, 0);
    for (int i = 0; i < n; i++)
        virDomainFree(doms[i]);
    free(doms);
    is_int(n, 0, "%s: no domain is left", what);
    virStorageVolPtr *vols = NULL;
    int m = virStoragePoolListAllVolumes(pool, &vols, 0);
    for (int i = 0; i < m; i++)
        virStorageVolFree(vols[i]);
    free(vols);
    is_int(m, 0, "%s: no volume is left", what);
}

int
main(void)
{
    virConnectPtr conn = lvdrv_connect("qemu:///system", NULL);
    if (!conn)
        tap_bail("no libvirtd: run through probe.py");
    _cleanup_error_ struct mc_error *e = NULL;
    virStoragePoolPtr pool = lvdrv_pool_ensure(conn, "machine", "/var/lib/libvirt/machine", &e);
    if (!pool)
        tap_bail("no pool: %s", e->message);

    struct lvdrv_probe p = { 0 };
    int64_t t0 = mc_now_ms();
    is_int(lvdrv_probe_guest(conn, pool, "qemu", 60000, &p, NULL), 0, "the probe runs under TCG");
    is_int(p.result, LVDRV_PROBE_OK,
           "the boot sector's marker comes back through the console "
           "(%.1f s)",
           (double)(mc_now_ms() - t0) / 1000);
    if (p.detail)
        tap_diag("%s", p.detail);
    lvdrv_probe_clear(&p);
    nothing_left(conn, pool, "after the TCG probe");

    /* A guest that has not written its marker by the deadline (a hung KVM guest, here a TCG one
     * given no time): a timeout, reported at once, and the guest destroyed. */
    t0 = mc_now_ms();
    is_int(lvdrv_probe_guest(conn, pool, "qemu", 1, &p, NULL), 0, "a probe with no time runs");
    int64_t took = mc_now_ms() - t0;
    ok(p.result == LVDRV_PROBE_TIMEOUT && p.deadline_s == 1,
       "a guest silent past the deadline is a timeout, not an error");
    ok(took < 10000, "the probe ends without waiting on the guest (%.1f s)", (double)took / 1000);
    lvdrv_probe_clear(&p);
    nothing_left(conn, pool, "after the timed-out probe");

    t0 = mc_now_ms();
    is_int(lvdrv_probe_kvm(conn, pool, LVDRV_PROBE_DEADLINE_S * 1000, &p, NULL), 0,
           "the KVM probe runs");
    took = mc_now_ms() - t0;
    ok(p.result != LVDRV_PROBE_NOT_RUN && took < (LVDRV_PROBE_DEADLINE_S + 10) * 1000,
       "and answers within its deadline (%.1f s: %s%s%s)", (double)took / 1000,
       p.result == LVDRV_PROBE_OK ? "KVM works" : "KVM does not work", p.detail ? ": " : "",
       p.detail ? p.detail : "");
    lvdrv_probe_clear(&p);
    nothing_left(conn, pool, "after the KVM probe");

    /* libvirtd pings an idle client every 5 s and drops it after 5 unanswered pings. */
    mc_sleep_ms(40000);
    unsigned long version = 0;
    ok(virConnectIsAlive(conn) == 1 && virConnectGetLibVersion(conn, &version) == 0,
       "a connection idle for 40 s still works (keepalive answered)");
    virStoragePoolFree(pool);
    virConnectClose(conn);
    return tap_done();
}
