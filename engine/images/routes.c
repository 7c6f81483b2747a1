/* The image routes of the Docker Engine API, and the images module. */
#include <fnmatch.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "api-handler.h"
#include "api-events.h"
#include "images-internal.h"
#include "json.h"
#include "log.h"
#include "strv.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

static ssize_t
body_read(void *ctx, void *buf, size_t n, struct mc_error **err)
{
    return eng_req_read(ctx, buf, n, err);
}

/* ---- list ---- */

static bool
filter_values_match(json_t *values, bool (*match)(const struct img_info *, const char *),
                    const struct img_info *i)
{
    const char *v;
    json_t *on;
    json_object_foreach (values, v, on) {
        if (match(i, v))
            return true;
    }
    return false;
}

/* reference=busybox matches any tag of busybox; busybox:1* matches name:tag globs. */
static bool
match_reference(const struct img_info *i, const char *pattern)
{
    const char *slash = strrchr(pattern, '/');
    bool with_tag = strchr(slash ? slash : pattern, ':') != NULL;
    STRV_FOREACH (t, i->tags) {
        _cleanup_free_ char *name = xstrndup(*t, (size_t)(strrchr(*t, ':') - *t));
        if (fnmatch(pattern, with_tag ? *t : name, FNM_PATHNAME) == 0)
            return true;
    }
    return false;
}

static bool
match_label(const struct img_info *i, const char *want)
{
    json_t *labels = json_object_get(json_object_get(i->config, "config"), "Labels");
    const char *eq = strchr(want, '=');
    _cleanup_free_ char *key = eq ? xstrndup(want, (size_t)(eq - want)) : xstrdup(want);
    json_t *v = json_object_get(labels, key);
    if (!v)
        return false;
    return !eq || streq_ptr(json_string_value(v), eq + 1);
}

static int
check_filters(json_t *f, struct mc_error **err)
{
    static const char *const known[] = { "reference", "dangling", "label", "before", "since" };
    const char *k;
    json_t *v;
    json_object_foreach (f, k, v) {
        bool ok = false;
        for (size_t i = 0; i < ELEMENTSOF(known); i++)
            ok |= streq(k, known[i]);
        if (!ok)
            return mc_error_set(err, MC_ERR_INVALID, "invalid filter '%s'", k);
    }
    json_t *d = json_object_get(f, "dangling");
    const char *dv;
    json_object_foreach (d, dv, v) {
        if (!streq(dv, "true") && !streq(dv, "false") && !streq(dv, "1") && !streq(dv, "0"))
            return mc_error_set(err, MC_ERR_INVALID, "invalid filter 'dangling=%s'", dv);
    }
    return 0;
}

/* Created time of the image a before/since filter names; -1 when absent. */
static int64_t
filter_time(json_t *f, const char *key, struct mc_error **err)
{
    const char *ref;
    json_t *v;
    json_object_foreach (json_object_get(f, key), ref, v) {
        struct img_info i;
        if (img_get(ref, &i, err) < 0)
            return -2;
        int64_t t = i.created;
        img_info_clear(&i);
        return t;
    }
    return -1;
}

static bool
keep_image(const struct img_info *i, json_t *f, int64_t before, int64_t since)
{
    json_t *d = json_object_get(f, "dangling");
    if (d) {
        bool want = json_object_get(d, "true") || json_object_get(d, "1");
        if (want != (strv_length(i->tags) == 0))
            return false;
    }
    json_t *refs = json_object_get(f, "reference");
    if (refs && json_object_size(refs) && !filter_values_match(refs, match_reference, i))
        return false;
    json_t *labels = json_object_get(f, "label");
    const char *l;
    json_t *v;
    json_object_foreach (labels, l, v) {
        if (!match_label(i, l))
            return false;
    }
    if (before >= 0 && i->created >= before)
        return false;
    if (since >= 0 && i->created <= since)
        return false;
    return true;
}

/* The image's tags; with a reference filter, only those it matches (as dockerd lists them). */
static json_t *
listed_tags(const struct img_info *i, json_t *refs)
{
    if (!refs || !json_object_size(refs))
        return mc_json_from_strv(i->tags);
    json_t *out = json_array();
    STRV_FOREACH (t, i->tags) {
        struct img_info one = { .tags = (char *[]){ *t, NULL } };
        if (filter_values_match(refs, match_reference, &one))
            json_array_append_new(out, json_string(*t));
    }
    return out;
}

static json_t *
summary(const struct img_info *i, int api, json_t *refs)
{
    json_t *labels = json_object_get(json_object_get(i->config, "config"), "Labels");
    json_t *s = json_pack("{s:s,s:s,s:o,s:[],s:I,s:I,s:i,s:O,s:i}", "Id", i->id, "ParentId", "",
                          "RepoTags", listed_tags(i, refs), "RepoDigests", "Created",
                          (json_int_t)i->created, "Size", (json_int_t)i->size, "SharedSize", -1,
                          "Labels", labels ? labels : json_null(), "Containers", -1);
    if (api < 144)
        json_object_set_new(s, "VirtualSize", json_integer(i->size));
    return s;
}

static int
h_list(struct eng_request *req, struct mc_error **err)
{
    _cleanup_json_ json_t *f = eng_req_filters(req, err);
    if (!f || check_filters(f, err) < 0)
        return -1;
    int64_t before = filter_time(f, "before", err);
    int64_t since = before < -1 ? -2 : filter_time(f, "since", err);
    if (before < -1 || since < -1)
        return -1;
    size_t n;
    struct img_info *all = img_list(&n);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        if (keep_image(&all[i], f, before, since))
            json_array_append_new(out, summary(&all[i], eng_req_api_version(req),
                                               json_object_get(f, "reference")));
        img_info_clear(&all[i]);
    }
    free(all);
    return eng_resp_json_take(req, 200, out);
}

/* ---- inspect, history ---- */

static int
h_inspect(struct eng_request *req, struct mc_error **err)
{
    struct img_info i;
    if (img_get(eng_req_param(req, "name"), &i, err) < 0)
        return -1;
    json_t *c = i.config;
    json_t *cfg = json_object_get(c, "config");
    const char *comment = mc_json_str(c, "comment");
    const char *author = mc_json_str(c, "author");
    const char *arch = mc_json_str(c, "architecture");
    const char *os = mc_json_str(c, "os");
    json_t *out = json_pack(
            "{s:s,s:o,s:[],s:s,s:s,s:s,s:s,s:s,s:O,s:s,s:s,s:I,s:{s:s,s:{}},s:{s:s,s:o},"
            "s:{s:s}}",
            "Id", i.id, "RepoTags", mc_json_from_strv(i.tags), "RepoDigests", "Parent", "",
            "Comment", comment ? comment : "", "Created", i.created_str, "DockerVersion", "",
            "Author", author ? author : "", "Config", cfg ? cfg : json_null(), "Architecture",
            arch ? arch : "", "Os", os ? os : "", "Size", (json_int_t)i.size, "GraphDriver", "Name",
            img_overlay() ? "overlay2" : "vfs", "Data", "RootFS", "Type", "layers", "Layers",
            mc_json_from_strv(i.layers), "Metadata", "LastTagTime", "0001-01-01T00:00:00Z");
    if (eng_req_api_version(req) < 144)
        json_object_set_new(out, "VirtualSize", json_integer(i.size));
    img_info_clear(&i);
    return eng_resp_json_take(req, 200, out);
}

static json_t *
history_entry(const struct img_info *i, json_t *h, bool top, int64_t size)
{
    int64_t created = 0;
    mc_parse_rfc3339(mc_json_str(h, "created") ? mc_json_str(h, "created") : "", &created);
    const char *by = mc_json_str(h, "created_by");
    const char *comment = mc_json_str(h, "comment");
    return json_pack("{s:s,s:I,s:s,s:o,s:I,s:s}", "Id", top ? i->id : "<missing>", "Created",
                     (json_int_t)(created / 1000000000), "CreatedBy", by ? by : "", "Tags",
                     top ? mc_json_from_strv(i->tags) : json_null(), "Size", (json_int_t)size,
                     "Comment", comment ? comment : "");
}

static int
h_history(struct eng_request *req, struct mc_error **err)
{
    struct img_info i;
    if (img_get(eng_req_param(req, "name"), &i, err) < 0)
        return -1;
    json_t *hist = json_object_get(i.config, "history");
    json_t *out = json_array();
    size_t n = json_array_size(hist), layer = 0;
    for (size_t k = 0; k < n; k++) {
        json_t *h = json_array_get(hist, k);
        int64_t size = 0;
        if (!json_is_true(json_object_get(h, "empty_layer")) && i.layers[layer])
            size = img_layer_size(i.layers[layer++]);
        json_array_insert_new(out, 0, history_entry(&i, h, k + 1 == n, size > 0 ? size : 0));
    }
    if (n == 0) { /* no history recorded: one line per layer */
        for (size_t k = 0; i.layers[k]; k++) {
            _cleanup_json_ json_t *h = json_pack("{s:s}", "created", i.created_str);
            json_array_insert_new(
                    out, 0, history_entry(&i, h, !i.layers[k + 1], img_layer_size(i.layers[k])));
        }
    }
    img_info_clear(&i);
    return eng_resp_json_take(req, 200, out);
}

/* ---- tag, remove, prune ---- */

static int
h_tag(struct eng_request *req, struct mc_error **err)
{
    const char *repo = eng_req_query(req, "repo");
    const char *tag = eng_req_query(req, "tag");
    if (isempty(repo))
        return mc_error_set(err, MC_ERR_INVALID,
                            "repository name must have at least one "
                            "component");
    _cleanup_free_ char *ref = isempty(tag) ? xstrdup(repo) : xasprintf("%s:%s", repo, tag);
    if (img_tag(eng_req_param(req, "name"), ref, err) < 0)
        return -1;
    return eng_resp_empty(req, 201);
}

static int
h_remove(struct eng_request *req, struct mc_error **err)
{
    _cleanup_json_ json_t *out = json_array();
    if (img_remove(eng_req_param(req, "name"), eng_req_query_bool(req, "force", false), out, err) <
        0)
        return -1;
    return eng_resp_json(req, 200, out);
}

static int
h_prune(struct eng_request *req, struct mc_error **err)
{
    _cleanup_json_ json_t *f = eng_req_filters(req, err);
    if (!f)
        return -1;
    json_t *d = json_object_get(f, "dangling");
    bool all = d && (json_object_get(d, "false") || json_object_get(d, "0"));
    size_t n;
    struct img_info *list = img_list(&n);
    _cleanup_json_ json_t *deleted = json_array();
    json_int_t reclaimed = 0;
    for (size_t i = 0; i < n; i++) {
        if (all || strv_length(list[i].tags) == 0) {
            size_t before = json_array_size(deleted);
            struct mc_error *e = NULL;
            if (img_remove(list[i].id, false, deleted, &e) == 0 &&
                json_array_size(deleted) > before)
                reclaimed += list[i].size;
            mc_error_free(e);
        }
        img_info_clear(&list[i]);
    }
    free(list);
    return eng_resp_json_take(req, 200,
                              json_pack("{s:O,s:I}", "ImagesDeleted",
                                        json_array_size(deleted) ? deleted : json_null(),
                                        "SpaceReclaimed", reclaimed));
}

/* ---- import (and pull, not yet), load, save ---- */

static int
h_create(struct eng_request *req, struct mc_error **err)
{
    const char *from_image = eng_req_query(req, "fromImage");
    const char *from_src = eng_req_query(req, "fromSrc");
    if (!isempty(from_image))
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "pulling images (%s) is not supported by machined yet: copy the "
                            "image with docker save | docker load, or docker import",
                            from_image);
    if (!streq_ptr(from_src, "-"))
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "importing from '%s' is not supported: send the archive in the "
                            "request body (fromSrc=-)",
                            from_src ? from_src : "");
    const char *repo = eng_req_query(req, "repo");
    const char *tag = eng_req_query(req, "tag");
    _cleanup_free_ char *ref = isempty(repo)  ? NULL
                               : isempty(tag) ? xstrdup(repo)
                                              : xasprintf("%s:%s", repo, tag);
    _cleanup_strv_ char **changes = eng_req_query_all(req, "changes");
    _cleanup_free_ char *id = NULL;
    if (img_import(body_read, req, ref, changes, eng_req_query(req, "message"), &id, err) < 0)
        return -1;
    struct eng_stream *s = eng_resp_stream(req, 200, "application/json", err);
    if (!s)
        return -1;
    _cleanup_json_ json_t *j = json_pack("{s:s}", "status", id);
    return eng_stream_json(s, j, err);
}

struct load_ctx {
    struct eng_request *req;
    struct eng_stream *s;
};

static int
load_progress(void *ctx, const char *line, struct mc_error **err)
{
    struct load_ctx *l = ctx;
    if (!l->s && !(l->s = eng_resp_stream(l->req, 200, "application/json", err)))
        return -1;
    _cleanup_json_ json_t *j = json_pack("{s:s}", "stream", line);
    return eng_stream_json(l->s, j, err);
}

static int
h_load(struct eng_request *req, struct mc_error **err)
{
    struct load_ctx l = { .req = req };
    return img_load(body_read, req, load_progress, &l, err);
}

static int
save_write(void *ctx, const void *data, size_t n, struct mc_error **err)
{
    return eng_stream_write(ctx, data, n, err);
}

static int
save(struct eng_request *req, char **names, struct mc_error **err)
{
    if (img_save_check(names, err) < 0)
        return -1;
    struct eng_stream *s = eng_resp_stream(req, 200, "application/x-tar", err);
    if (!s || img_save(names, save_write, s, err) < 0)
        return -1;
    STRV_FOREACH (n, names) {
        _cleanup_free_ char *id = eng_image_resolve(*n, NULL);
        if (id)
            eng_event("image", "save", id, json_pack("{s:s}", "name", *n));
    }
    return 0;
}

static int
h_save(struct eng_request *req, struct mc_error **err)
{
    _cleanup_strv_ char **names = eng_req_query_all(req, "names");
    return save(req, names, err);
}

static int
h_save_one(struct eng_request *req, struct mc_error **err)
{
    _cleanup_strv_ char **names = strv_new();
    strv_add(&names, eng_req_param(req, "name"));
    return save(req, names, err);
}

static int
h_push(struct eng_request *req, struct mc_error **err)
{
    return mc_error_set(err, MC_ERR_UNSUPPORTED,
                        "pushing images is not supported by machined yet: use docker save");
}

static const struct eng_route image_routes[] = {
    { "GET", "/images/json", h_list },
    { "POST", "/images/create", h_create, ENG_ROUTE_STREAM_BODY },
    { "POST", "/images/load", h_load, ENG_ROUTE_STREAM_BODY },
    { "GET", "/images/get", h_save },
    { "POST", "/images/prune", h_prune },
    { "GET", "/images/{name*}/json", h_inspect },
    { "GET", "/images/{name*}/history", h_history },
    { "GET", "/images/{name*}/get", h_save_one },
    { "POST", "/images/{name*}/tag", h_tag },
    { "POST", "/images/{name*}/push", h_push },
    { "DELETE", "/images/{name*}", h_remove },
};

/* ---- the module ---- */

static int
images_init(struct eng_daemon *d, struct mc_error **err)
{
    return img_store_open(d->data_root, geteuid() == 0, err);
}

static void
images_shutdown(struct eng_daemon *d)
{
    img_store_close();
}

static const char *
backing_fs(void)
{
    struct statfs s;
    if (!img_store_root() || statfs(img_store_root(), &s) < 0)
        return "unknown";
    switch ((unsigned long)s.f_type) {
    case 0xEF53:
        return "extfs";
    case 0x58465342:
        return "xfs";
    case 0x9123683E:
        return "btrfs";
    case 0x01021994:
        return "tmpfs";
    case 0x794c7630:
        return "overlayfs";
    default:
        return "unknown";
    }
}

static void
images_info(json_t *info)
{
    json_object_set_new(info, "Images", json_integer((json_int_t)img_count()));
    json_object_set_new(info, "Driver", json_string(img_overlay() ? "overlay2" : "vfs"));
    json_object_set_new(info, "DriverStatus",
                        json_pack("[[s,s],[s,s]]", "Backing Filesystem", backing_fs(),
                                  "Supports d_type", "true"));
    if (!img_overlay())
        json_array_append_new(json_object_get(info, "Warnings"),
                              json_string("WARNING: overlayfs is not usable here: containers "
                                          "get full copies of their images (vfs)"));
}

const struct eng_module eng_images_module = {
    .name = "images",
    .init = images_init,
    .shutdown = images_shutdown,
    .info = images_info,
    .routes = image_routes,
    .n_routes = ELEMENTSOF(image_routes),
};
