/* The NoCloud seed: rendered from templates/, written as an ISO9660 image labelled "cidata" that
 * libarchive reads back with the same files. */
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "lvdrv-internal.h"
#include "strbuf.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsOnly0000000000000000000 machine"

/* The regular files of an ISO image as "name=content\n..." in archive order. */
static char *
read_back(const void *iso, size_t len)
{
    struct archive *a = archive_read_new();
    archive_read_support_format_iso9660(a);
    if (archive_read_open_memory(a, iso, len) != ARCHIVE_OK)
        tap_bail("libarchive cannot open the image: %s", archive_error_string(a));
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    struct archive_entry *e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        if (archive_entry_filetype(e) == AE_IFDIR)
            continue;
        mc_buf_printf(&b, "%s=", archive_entry_pathname(e));
        char buf[4096];
        la_ssize_t n;
        while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
            mc_buf_append(&b, buf, (size_t)n);
        mc_buf_puts(&b, "\n--\n");
    }
    archive_read_free(a);
    return mc_buf_steal(&b);
}

static void
test_render(struct lvdrv_seed *s)
{
    is_int(lvdrv_seed_render("web1", "docker", KEY, "inst-1", s, NULL), 0, "the seed renders");
    ok(s->user_data && strncmp(s->user_data, "#cloud-config\n", 14) == 0,
       "user-data is a cloud-config");
    ok(s->user_data && strstr(s->user_data, "hostname: web1\n"), "with the host name");
    ok(s->user_data && strstr(s->user_data, "  - name: docker\n"), "the user");
    ok(s->user_data && strstr(s->user_data, "      - " KEY "\n"), "and the machine's key");
    is_str(s->meta_data, "instance-id: inst-1\nlocal-hostname: web1\n", "meta-data");

    struct lvdrv_seed bad = { 0 };
    _cleanup_error_ struct mc_error *e = NULL;
    is_int(lvdrv_seed_render("web1", "docker", "ssh-ed25519 AAA\nruncmd: [reboot]", "i", &bad, &e),
           -1, "a key with a newline (YAML injection) is refused");
    ok(e && strstr(e->message, "one non-empty line"), "saying why");
}

static void
test_iso(const struct lvdrv_seed *s)
{
    _cleanup_free_ void *iso = NULL;
    size_t len = 0;
    is_int(lvdrv_seed_iso(s, &iso, &len, NULL), 0, "the ISO image is written");
    ok(len >= 32768 + 2048 && len % 2048 == 0, "it is whole 2 KiB sectors (%zu bytes)", len);
    const uint8_t *pvd = (const uint8_t *)iso + 32768;
    ok(len > 32768 + 72 && pvd[0] == 1 && memcmp(pvd + 1, "CD001", 5) == 0,
       "with a primary volume descriptor");
    /* cloud-init matches the label without regard to case. */
    ok(len > 32768 + 72 && strncasecmp((const char *)pvd + 40, "cidata ", 7) == 0,
       "whose volume id is cidata");
    _cleanup_free_ char *files = read_back(iso, len);
    _cleanup_free_ char *want =
            xasprintf("user-data=%s\n--\nmeta-data=%s\n--\n", s->user_data, s->meta_data);
    _cleanup_free_ char *want2 =
            xasprintf("meta-data=%s\n--\nuser-data=%s\n--\n", s->meta_data, s->user_data);
    if (!streq(files, want) && !streq(files, want2))
        tap_diag("read back:\n%s", files);
    ok(streq(files, want) || streq(files, want2),
       "libarchive reads back user-data and meta-data unchanged");
}

int
main(void)
{
    struct lvdrv_seed s = { 0 };
    test_render(&s);
    test_iso(&s);
    lvdrv_seed_clear(&s);
    return tap_done();
}
