/* `docker import`: a root filesystem tar (plain or gzip) becomes a one-layer image. */
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "api-events.h"
#include "images-internal.h"
#include "json.h"
#include "strv.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

static const char *
go_arch(void)
{
    static struct utsname u;
    if (!u.machine[0] && uname(&u) < 0)
        return "amd64";
    if (streq(u.machine, "x86_64"))
        return "amd64";
    if (streq(u.machine, "aarch64"))
        return "arm64";
    return u.machine;
}

/* The config of an imported image (what dockerd writes: architecture, os, config, created,
 * history, rootfs). */
static json_t *
import_config(const char *diff_id, char *const *changes, const char *message, struct mc_error **err)
{
    char now[64];
    mc_format_rfc3339(mc_realtime_ns(), true, now, sizeof(now));
    json_t *cfg = json_object();
    STRV_FOREACH (c, (char **)changes) {
        if (img_apply_change(cfg, *c, err) < 0) {
            json_decref(cfg);
            return NULL;
        }
    }
    json_t *history = json_pack("[{s:s,s:s}]", "created", now, "comment",
                                isempty(message) ? "Imported from -" : message);
    json_t *j = json_pack("{s:s,s:s,s:o,s:s,s:o,s:{s:s,s:[s]}}", "architecture", go_arch(), "os",
                          "linux", "config", cfg, "created", now, "history", history, "rootfs",
                          "type", "layers", "diff_ids", diff_id);
    if (!isempty(message))
        json_object_set_new(j, "comment", json_string(message));
    return j;
}

int
img_import(mc_tar_read_fn read, void *ctx, const char *repo_tag, char *const *changes,
           const char *message, char **ret_id, struct mc_error **err)
{
    _cleanup_strv_ char **tags = strv_new();
    if (!isempty(repo_tag)) {
        struct img_ref r;
        if (img_ref_parse(repo_tag, &r, err) < 0)
            return -1;
        if (!r.tag) {
            img_ref_clear(&r);
            return mc_error_set(err, MC_ERR_INVALID, "Cannot import with a digest reference.");
        }
        strv_push(&tags, img_ref_string(&r));
        img_ref_clear(&r);
    }
    /* Check the changes before reading the upload. */
    _cleanup_json_ json_t *probe = json_object();
    STRV_FOREACH (c, (char **)changes) {
        if (img_apply_change(probe, *c, err) < 0)
            return -1;
    }
    _cleanup_free_ char *tmp = NULL, *diff_id = NULL;
    if (img_spool_stream(read, ctx, true, &tmp, &diff_id, NULL, err) < 0)
        return mc_error_prefix(err, "Cannot import the image: ");
    if (img_layer_commit(tmp, diff_id, err) < 0)
        return mc_error_prefix(err, "Cannot import the image: ");
    _cleanup_json_ json_t *cfg = import_config(diff_id, changes, message, err);
    if (!cfg)
        return -1;
    _cleanup_free_ char *txt = mc_json_dumps(cfg, false);
    char *id = img_add_image(txt, strlen(txt), tags, err);
    if (!id)
        return -1;
    eng_event("image", "import", id, tags[0] ? json_pack("{s:s}", "name", tags[0]) : NULL);
    *ret_id = id;
    return 0;
}
