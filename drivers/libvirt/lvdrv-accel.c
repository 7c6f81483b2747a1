/* KVM or TCG. A host's capabilities can offer KVM while KVM guests hang (nested virtualization
 * that half works), so `auto` boots a probe guest under KVM with a short deadline, caches the
 * answer per URI, and falls back to TCG with a warning that says why. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "lvdrv-internal.h"
#include "strbuf.h"
#include "strv.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

static const char *const accel_names[] = {
    [LVDRV_ACCEL_AUTO] = "auto",
    [LVDRV_ACCEL_KVM] = "kvm",
    [LVDRV_ACCEL_TCG] = "tcg",
};

static const char *const probe_names[] = {
    [LVDRV_PROBE_NOT_RUN] = "not-run",
    [LVDRV_PROBE_OK] = "ok",
    [LVDRV_PROBE_TIMEOUT] = "timeout",
    [LVDRV_PROBE_FAILED] = "failed",
};

const char *
lvdrv_accel_to_string(enum lvdrv_accel a)
{
    return (size_t)a < ELEMENTSOF(accel_names) ? accel_names[a] : "auto";
}

int
lvdrv_accel_from_string(const char *s)
{
    for (size_t i = 0; i < ELEMENTSOF(accel_names); i++)
        if (streq(s, accel_names[i]))
            return (int)i;
    return -1;
}

const char *
lvdrv_accel_domain_type(enum lvdrv_accel a)
{
    return a == LVDRV_ACCEL_KVM ? "kvm" : "qemu";
}

void
lvdrv_probe_clear(struct lvdrv_probe *p)
{
    free(p->detail);
    free(p->cached_in);
    memset(p, 0, sizeof(*p));
}

int
lvdrv_caps_offers(const char *caps_xml, bool *ret_kvm, bool *ret_tcg, struct mc_error **err)
{
    _cleanup_free_ char *root = caps_xml ? lvdrv_xpath_string(caps_xml, "name(/*)") : NULL;
    if (!root || !streq(root, "capabilities"))
        return mc_error_set(err, MC_ERR_INVALID, "the host's capabilities are not valid XML");
    _cleanup_strv_ char **types = lvdrv_xpath_strings(
            caps_xml, "/capabilities/guest[os_type='hvm']/arch[@name='x86_64']/domain/@type");
    *ret_kvm = strv_contains(types, "kvm");
    *ret_tcg = strv_contains(types, "qemu");
    return 0;
}

bool
lvdrv_accel_wants_probe(enum lvdrv_accel requested, bool kvm_offered)
{
    return requested == LVDRV_ACCEL_AUTO && kvm_offered;
}

#define TCG_CONSEQUENCE                                                                   \
    "using TCG (software emulation), which is several times slower; --libvirt-accel kvm " \
    "forces KVM"

static char *
fallback_warning(const char *uri, const struct lvdrv_probe *probe)
{
    _cleanup_free_ char *cached =
            probe->cached_in
                    ? xasprintf(" (remembered in '%s'; delete it to probe again)", probe->cached_in)
                    : xstrdup("");
    if (probe->result == LVDRV_PROBE_TIMEOUT)
        return xasprintf("KVM is offered by '%s' but a probe guest did not boot under it within "
                         "%d s%s: KVM guests hang on this host; " TCG_CONSEQUENCE,
                         uri, probe->deadline_s, cached);
    return xasprintf("KVM is offered by '%s' but a probe guest could not run under it "
                     "(%s)%s; " TCG_CONSEQUENCE,
                     uri, probe->detail ? probe->detail : "no reason given", cached);
}

int
lvdrv_accel_choose(enum lvdrv_accel requested, const char *uri, const char *caps_xml,
                   const struct lvdrv_probe *probe, enum lvdrv_accel *ret, char **ret_warning,
                   struct mc_error **err)
{
    bool kvm = false, tcg = false;
    if (lvdrv_caps_offers(caps_xml, &kvm, &tcg, err) < 0)
        return mc_error_prefix(err, "choosing KVM or TCG on '%s': ", uri);
    if (requested == LVDRV_ACCEL_KVM && !kvm)
        return mc_error_set(err, MC_ERR_PRECREATE,
                            "--libvirt-accel kvm was asked for but '%s' offers no KVM guests "
                            "for x86_64 (is /dev/kvm there and usable by libvirt?)",
                            uri);
    if (!tcg && requested != LVDRV_ACCEL_KVM && !(requested == LVDRV_ACCEL_AUTO && kvm))
        return mc_error_set(err, MC_ERR_PRECREATE,
                            "'%s' offers neither KVM nor TCG (qemu) guests for x86_64", uri);
    if (requested != LVDRV_ACCEL_AUTO) {
        *ret = requested;
        *ret_warning = NULL;
        return 0;
    }
    if (!kvm) {
        *ret = LVDRV_ACCEL_TCG;
        *ret_warning = xasprintf("KVM is not available on '%s' (its capabilities offer no KVM "
                                 "guests for x86_64): " TCG_CONSEQUENCE,
                                 uri);
        return 0;
    }
    if (!probe || probe->result == LVDRV_PROBE_NOT_RUN)
        return mc_error_set(err, MC_ERR_FAILED,
                            "choosing KVM or TCG on '%s' needs the KVM probe's result", uri);
    if (probe->result == LVDRV_PROBE_OK) {
        *ret = LVDRV_ACCEL_KVM;
        *ret_warning = NULL;
        return 0;
    }
    if (!tcg)
        return mc_error_set(err, MC_ERR_PRECREATE,
                            "'%s' offers no TCG guests and KVM guests do not run there", uri);
    *ret = LVDRV_ACCEL_TCG;
    *ret_warning = fallback_warning(uri, probe);
    return 0;
}

/* ---- the probe guest ---- */

/* A boot sector (real mode, loaded at 0x7c00): ds = 0, then write the marker to COM1 (0x3f8)
 * byte by byte, then halt forever. The marker follows the code at 0x7c17. */
static const uint8_t boot_code[] = {
    0x31, 0xc0,       /* xor ax, ax */
    0x8e, 0xd8,       /* mov ds, ax */
    0xfc,             /* cld */
    0xba, 0xf8, 0x03, /* mov dx, 0x3f8 */
    0xbe, 0x17, 0x7c, /* mov si, 0x7c17 */
    0xac,             /* next: lodsb */
    0x84, 0xc0,       /* test al, al */
    0x74, 0x03,       /* jz halt */
    0xee,             /* out dx, al */
    0xeb, 0xf8,       /* jmp next */
    0xfa,             /* halt: cli */
    0xf4,             /* hlt */
    0xeb, 0xfc,       /* jmp halt */
};

static void
boot_sector(uint8_t sector[512])
{
    static const char marker[] = LVDRV_PROBE_MARKER "\r\n";
    memset(sector, 0, 512);
    memcpy(sector, boot_code, sizeof(boot_code));
    memcpy(sector + sizeof(boot_code), marker, sizeof(marker)); /* with its NUL */
    sector[510] = 0x55;
    sector[511] = 0xaa;
}

/* Reads the console until the marker shows, the console ends or the deadline passes. The
 * event loop (lvdrv-conn.c) fills the stream; this only polls it. */
static enum lvdrv_probe_result
watch_console(virStreamPtr st, int64_t deadline, char **ret_detail)
{
    _cleanup_buf_ struct mc_buf seen = MC_BUF_INIT;
    while (mc_now_ms() < deadline) {
        char buf[512];
        int n = virStreamRecv(st, buf, sizeof(buf));
        if (n > 0 && seen.len < 65536)
            mc_buf_append(&seen, buf, (size_t)n);
        if (strstr(seen.data ? seen.data : "", LVDRV_PROBE_MARKER))
            return LVDRV_PROBE_OK;
        if (n == 0 || n == -1) {
            *ret_detail = n == 0 ? xstrdup("the guest's console closed before the marker")
                                 : lvdrv_last_error_text("the console failed");
            return LVDRV_PROBE_FAILED;
        }
        if (n == -2)
            mc_sleep_ms(50);
    }
    return LVDRV_PROBE_TIMEOUT;
}

/* Starts the probe domain paused, attaches to its console, then lets it run: nothing it writes
 * can be lost before we listen. */
static enum lvdrv_probe_result
run_probe_domain(virConnectPtr conn, const char *xml, int64_t deadline, char **ret_detail)
{
    _cleanup_domain_ virDomainPtr dom =
            virDomainCreateXML(conn, xml, VIR_DOMAIN_START_PAUSED | VIR_DOMAIN_START_AUTODESTROY);
    if (!dom) {
        *ret_detail = lvdrv_last_error_text("the guest did not start");
        return LVDRV_PROBE_FAILED;
    }
    _cleanup_stream_ virStreamPtr st = virStreamNew(conn, VIR_STREAM_NONBLOCK);
    enum lvdrv_probe_result r = LVDRV_PROBE_FAILED;
    if (st && virDomainOpenConsole(dom, NULL, st, VIR_DOMAIN_CONSOLE_FORCE) == 0 &&
        virDomainResume(dom) == 0)
        r = watch_console(st, deadline, ret_detail);
    else
        *ret_detail = lvdrv_last_error_text("the console did not open");
    if (st)
        virStreamAbort(st);
    if (virDomainDestroy(dom) < 0)
        lvdrv_reset_error();
    lvdrv_reset_error();
    return r;
}

/* Deletes probe volumes that an interrupted probe left (their domain, transient and destroyed
 * with its connection, is gone). */
static void
sweep_probe_volumes(virConnectPtr conn, virStoragePoolPtr pool)
{
    virStorageVolPtr *vols = NULL;
    int n = virStoragePoolListAllVolumes(pool, &vols, 0);
    for (int i = 0; i < n; i++) {
        const char *name = virStorageVolGetName(vols[i]);
        if (name && startswith(name, "machine-kvm-probe-") && endswith(name, ".img")) {
            _cleanup_free_ char *dom_name = xstrndup(name, strlen(name) - 4);
            _cleanup_domain_ virDomainPtr dom = virDomainLookupByName(conn, dom_name);
            if (!dom && virStorageVolDelete(vols[i], 0) < 0)
                log_warn("cannot delete the stale probe volume '%s'", name);
        }
        virStorageVolFree(vols[i]);
    }
    free(vols);
    lvdrv_reset_error();
}

int
lvdrv_probe_kvm(virConnectPtr conn, virStoragePoolPtr pool, int deadline_ms,
                struct lvdrv_probe *ret, struct mc_error **err)
{
    return lvdrv_probe_guest(conn, pool, "kvm", deadline_ms, ret, err);
}

int
lvdrv_probe_guest(virConnectPtr conn, virStoragePoolPtr pool, const char *type, int deadline_ms,
                  struct lvdrv_probe *ret, struct mc_error **err)
{
    sweep_probe_volumes(conn, pool);
    int64_t deadline = mc_now_ms() + deadline_ms;
    _cleanup_free_ char *suffix = mc_random_hex(4);
    _cleanup_free_ char *name = xasprintf("machine-kvm-probe-%s", suffix);
    _cleanup_free_ char *vol_name = xasprintf("%s.img", name);
    uint8_t sector[512];
    boot_sector(sector);

    /* SeaBIOS boots no disk smaller than one cylinder (16 heads x 63 sectors): the volume is a
     * sparse 1 MiB with the sector at its start. */
    _cleanup_free_ char *vol_xml = lvdrv_volume_xml(vol_name, 1 << 20, "raw", NULL, NULL);
    _cleanup_vol_ virStorageVolPtr vol = lvdrv_vol_create(pool, vol_xml, err);
    if (!vol)
        return mc_error_prefix(err, "preparing the KVM probe: ");
    if (lvdrv_vol_upload(conn, vol, sector, NULL, sizeof(sector), NULL, err) < 0) {
        lvdrv_vol_delete(pool, vol_name, NULL);
        return mc_error_prefix(err, "preparing the KVM probe: ");
    }
    const char *pool_name = virStoragePoolGetName(pool);
    _cleanup_free_ char *xml = lvdrv_probe_domain_xml(name, type, pool_name, vol_name);
    char *detail = NULL;
    enum lvdrv_probe_result r = run_probe_domain(conn, xml, deadline, &detail);
    lvdrv_vol_delete(pool, vol_name, NULL);
    ret->result = r;
    ret->detail = detail;
    ret->deadline_s = (deadline_ms + 999) / 1000;
    return 0;
}

/* ---- the per-URI cache ---- */

static char *
cache_path(const char *cache_dir)
{
    return xasprintf("%s/libvirt/accel.json", cache_dir);
}

/* Fills probe from the cache when it holds an answer for uri; returns whether it did. */
static bool
cache_load(const char *cache_dir, const char *uri, struct lvdrv_probe *probe)
{
    _cleanup_free_ char *path = cache_path(cache_dir);
    _cleanup_json_ json_t *all = mc_json_load_file(path, 1 << 20, NULL);
    json_t *e = json_object_get(all, uri);
    const char *result = mc_json_str(e, "result");
    if (!result)
        return false;
    if (streq(result, "ok"))
        probe->result = LVDRV_PROBE_OK;
    else if (streq(result, "timeout"))
        probe->result = LVDRV_PROBE_TIMEOUT;
    else if (streq(result, "failed"))
        probe->result = LVDRV_PROBE_FAILED;
    else
        return false;
    probe->deadline_s = (int)mc_json_int(e, "deadline_s", LVDRV_PROBE_DEADLINE_S);
    probe->detail = xstrdup_or_null(mc_json_str(e, "detail"));
    probe->cached_in = TAKE_PTR(path);
    return true;
}

/* Remembers the answer for uri: a probe costs up to its deadline on every create otherwise.
 * The warning that reports a remembered answer names the file to delete to probe again (after
 * fixing /dev/kvm's permissions, say). */
static void
cache_save(const char *cache_dir, const char *uri, const struct lvdrv_probe *probe)
{
    _cleanup_free_ char *dir = xasprintf("%s/libvirt", cache_dir);
    _cleanup_free_ char *path = cache_path(cache_dir);
    _cleanup_free_ char *lock_path = xasprintf("%s.lock", path);
    if (mc_mkdir_p(dir, 0700, NULL) < 0)
        return;
    _cleanup_close_ int lock = mc_lock_path(lock_path, true, 10000, NULL);
    if (lock < 0)
        return;
    _cleanup_json_ json_t *all = mc_json_load_file(path, 1 << 20, NULL);
    if (!json_is_object(all)) {
        json_decref(all);
        all = json_object();
    }
    char when[64];
    mc_format_rfc3339(mc_realtime_ns(), false, when, sizeof(when));
    json_object_set_new(all, uri,
                        json_pack("{s:s, s:i, s:s}", "result", probe_names[probe->result],
                                  "deadline_s", probe->deadline_s, "probed_at", when));
    if (probe->detail)
        mc_json_set_str(json_object_get(all, uri), "detail", probe->detail);
    (void)mc_json_save_file(path, all, true, 0600, NULL);
}

int
lvdrv_accel_resolve(virConnectPtr conn, const char *uri, virStoragePoolPtr pool,
                    enum lvdrv_accel requested, const char *cache_dir, enum lvdrv_accel *ret,
                    char **ret_warning, struct mc_error **err)
{
    _cleanup_free_ char *caps = virConnectGetCapabilities(conn);
    if (!caps)
        return lvdrv_error(err, "reading the capabilities of '%s'", uri);
    bool kvm = false, tcg = false;
    if (lvdrv_caps_offers(caps, &kvm, &tcg, err) < 0)
        return -1;
    struct lvdrv_probe probe = { 0 };
    if (lvdrv_accel_wants_probe(requested, kvm) && !cache_load(cache_dir, uri, &probe)) {
        if (lvdrv_probe_kvm(conn, pool, LVDRV_PROBE_DEADLINE_S * 1000, &probe, err) < 0)
            return -1;
        cache_save(cache_dir, uri, &probe);
    }
    int r = lvdrv_accel_choose(requested, uri, caps, &probe, ret, ret_warning, err);
    lvdrv_probe_clear(&probe);
    return r;
}
