/* TAP helpers for the libvirt driver's tests. */
#include <string.h>

#include "error.h"
#include "fs.h"
#include "spawn.h"
#include "tap-libvirt.h"
#include "tap.h"
#include "xalloc.h"

void
tap_libvirt_xml_valid(const char *xml, const char *what)
{
    _cleanup_free_ char *path = xasprintf("%s/%s.xml", tap_tmpdir(), what);
    if (mc_write_file_atomic(path, xml, strlen(xml), 0644, NULL) < 0)
        tap_bail("cannot write '%s'", path);
    char *argv[] = { "virt-xml-validate", path, NULL };
    struct mc_spawn_opts o = { .capture = MC_SPAWN_CAPTURE_OUT | MC_SPAWN_CAPTURE_ERR,
                               .timeout_ms = 60000 };
    struct mc_spawn_result r = { 0 };
    _cleanup_error_ struct mc_error *e = NULL;
    int rc = mc_spawn(argv, &o, &r, &e);
    ok(rc == 0 && r.status == 0, "the %s XML validates against libvirt's schema", what);
    if (rc < 0 || r.status != 0)
        tap_diag("virt-xml-validate: %s %s", e ? e->message : "", r.err ? r.err : "");
    mc_spawn_result_free(&r);
}
