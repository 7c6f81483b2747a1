/* The NoCloud seed that configures the guest's first boot: user-data (the user and the machine's
 * SSH key, the host name) and meta-data (instance id, host name), rendered from templates/ and
 * written as an ISO9660 image labelled "cidata" by libarchive (docs/adr/0005). Networking is left
 * to cloud-init's fallback: DHCP on the first interface. */
#include <string.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>

#include "lvdrv-internal.h"
#include "render.h"
#include "strbuf.h"
#include "templates.h"
#include "util.h"
#include "xalloc.h"

void
lvdrv_seed_clear(struct lvdrv_seed *s)
{
    free(s->user_data);
    free(s->meta_data);
    memset(s, 0, sizeof(*s));
}

static char *
render(const char *name, const char *const *vars, struct mc_error **err)
{
    const char *tmpl = template_get(name);
    if (!tmpl) {
        mc_error_set(err, MC_ERR_FAILED, "the template '%s' is not built in", name);
        return NULL;
    }
    char *s = mc_render(tmpl, vars, err);
    if (!s)
        mc_error_prefix(err, "rendering '%s': ", name);
    return s;
}

int
lvdrv_seed_render(const char *hostname, const char *user, const char *ssh_public_key,
                  const char *instance_id, struct lvdrv_seed *ret, struct mc_error **err)
{
    if (isempty(ssh_public_key) || strchr(ssh_public_key, '\n'))
        return mc_error_set(err, MC_ERR_INVALID,
                            "the machine's SSH public key must be one non-empty line");
    const char *const vars[] = { "hostname",     hostname,      "user",      user, "ssh_public_key",
                                 ssh_public_key, "instance_id", instance_id, NULL };
    struct lvdrv_seed s = { 0 };
    s.user_data = render("cloud-init-user-data.yaml", vars, err);
    s.meta_data = s.user_data ? render("cloud-init-meta-data.yaml", vars, err) : NULL;
    if (!s.meta_data) {
        lvdrv_seed_clear(&s);
        return -1;
    }
    *ret = s;
    return 0;
}

static la_ssize_t
append(struct archive *a, void *opaque, const void *data, size_t n)
{
    mc_buf_append(opaque, data, n);
    return (la_ssize_t)n;
}

static int
archive_fail(struct archive *a, struct mc_error **err)
{
    const char *why = archive_error_string(a);
    return mc_error_set(err, MC_ERR_FAILED, "writing the cloud-init seed image: %s",
                        why ? why : "libarchive gave no reason");
}

static int
add_file(struct archive *a, const char *name, const char *text, struct mc_error **err)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        abort();
    size_t len = strlen(text);
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)len);
    archive_entry_set_mtime(e, time(NULL), 0);
    int rc = archive_write_header(a, e);
    archive_entry_free(e);
    if (rc != ARCHIVE_OK || archive_write_data(a, text, len) != (la_ssize_t)len)
        return archive_fail(a, err);
    return 0;
}

static int
write_iso(struct archive *a, const struct lvdrv_seed *s, struct mc_buf *out, struct mc_error **err)
{
    /* The volume id is what cloud-init's NoCloud looks for; Rock Ridge and Joliet keep the
     * lower-case, hyphenated file names it reads. */
    if (archive_write_set_format_iso9660(a) != ARCHIVE_OK ||
        archive_write_set_option(a, "iso9660", "volume-id", "cidata") != ARCHIVE_OK ||
        archive_write_set_option(a, "iso9660", "rockridge", "1") != ARCHIVE_OK ||
        archive_write_set_option(a, "iso9660", "joliet", "1") != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open2(a, out, NULL, append, NULL, NULL) != ARCHIVE_OK)
        return archive_fail(a, err);
    if (add_file(a, "user-data", s->user_data, err) < 0 ||
        add_file(a, "meta-data", s->meta_data, err) < 0)
        return -1;
    if (archive_write_close(a) != ARCHIVE_OK)
        return archive_fail(a, err);
    return 0;
}

int
lvdrv_seed_iso(const struct lvdrv_seed *s, void **ret_data, size_t *ret_len, struct mc_error **err)
{
    _cleanup_buf_ struct mc_buf out = MC_BUF_INIT;
    struct archive *a = archive_write_new();
    if (!a)
        abort();
    int r = write_iso(a, s, &out, err);
    archive_write_free(a);
    if (r < 0)
        return -1;
    *ret_len = out.len;
    *ret_data = mc_buf_steal(&out);
    return 0;
}
