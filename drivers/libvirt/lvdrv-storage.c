/* Pools and volumes: everything qemu reads lives in a libvirt pool and is written through the
 * storage API, so it works whatever user qemu runs as, and on a remote URI alike. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "fs.h"
#include "lvdrv-internal.h"
#include "timeutil.h"
#include "xalloc.h"

virStoragePoolPtr
lvdrv_pool_ensure(virConnectPtr conn, const char *name, const char *path, struct mc_error **err)
{
    virStoragePoolPtr pool = virStoragePoolLookupByName(conn, name);
    if (!pool && lvdrv_last_error_code() != VIR_ERR_NO_STORAGE_POOL) {
        lvdrv_error(err, "looking up the storage pool '%s'", name);
        return NULL;
    }
    if (!pool) {
        lvdrv_reset_error();
        _cleanup_free_ char *xml = lvdrv_pool_xml(name, path);
        pool = virStoragePoolDefineXML(conn, xml, 0);
        /* A parallel create may have defined it a moment ago. */
        if (!pool)
            pool = virStoragePoolLookupByName(conn, name);
        if (!pool) {
            lvdrv_error(err, "defining the storage pool '%s' at '%s'", name, path);
            return NULL;
        }
        lvdrv_reset_error();
        if (virStoragePoolBuild(pool, 0) < 0 || virStoragePoolSetAutostart(pool, 1) < 0) {
            lvdrv_error(err, "building the storage pool '%s' at '%s'", name, path);
            virStoragePoolFree(pool);
            return NULL;
        }
    }
    if (virStoragePoolIsActive(pool) != 1 && virStoragePoolCreate(pool, 0) < 0 &&
        virStoragePoolIsActive(pool) != 1) {
        lvdrv_error(err, "starting the storage pool '%s'", name);
        virStoragePoolFree(pool);
        return NULL;
    }
    return pool;
}

virStorageVolPtr
lvdrv_vol_lookup(virStoragePoolPtr pool, const char *name, struct mc_error **err)
{
    virStorageVolPtr vol = virStorageVolLookupByName(pool, name);
    if (!vol)
        lvdrv_error(err, "looking up the volume '%s' in the pool '%s'", name,
                    virStoragePoolGetName(pool));
    return vol;
}

int
lvdrv_vol_delete(virStoragePoolPtr pool, const char *name, struct mc_error **err)
{
    _cleanup_vol_ virStorageVolPtr vol = virStorageVolLookupByName(pool, name);
    if (!vol) {
        if (lvdrv_last_error_code() == VIR_ERR_NO_STORAGE_VOL) {
            lvdrv_reset_error();
            return 0;
        }
        return lvdrv_error(err, "looking up the volume '%s'", name);
    }
    if (virStorageVolDelete(vol, 0) < 0)
        return lvdrv_error(err, "deleting the volume '%s' from the pool '%s'", name,
                           virStoragePoolGetName(pool));
    return 0;
}

virStorageVolPtr
lvdrv_vol_create(virStoragePoolPtr pool, const char *xml, struct mc_error **err)
{
    virStorageVolPtr vol = virStorageVolCreateXML(pool, xml, 0);
    if (!vol)
        lvdrv_error(err, "creating a volume in the pool '%s'", virStoragePoolGetName(pool));
    return vol;
}

struct upload {
    const uint8_t *data;
    int fd;
    uint64_t len, done;
    int64_t last_report;
    struct driver_ctx *ctx;
    const char *vol_name;
};

static int
send_chunk(virStreamPtr st, struct upload *u, uint8_t *buf, size_t cap, struct mc_error **err)
{
    size_t n = (size_t)(u->len - u->done < cap ? u->len - u->done : cap);
    const uint8_t *p = u->data ? u->data + u->done : buf;
    if (!u->data) {
        ssize_t r = read(u->fd, buf, n);
        if (r < 0 && errno == EINTR)
            return 0;
        if (r <= 0)
            return mc_error_sys(err, r < 0 ? errno : EIO, "reading the image to upload");
        n = (size_t)r;
    }
    for (size_t off = 0; off < n;) {
        int w = virStreamSend(st, (const char *)p + off, n - off);
        if (w < 0)
            return lvdrv_error(err, "sending to the volume '%s'", u->vol_name);
        off += (size_t)w;
    }
    u->done += n;
    return 0;
}

static void
report(struct upload *u)
{
    int64_t now = mc_now_ms();
    if (!u->ctx || u->len < (64u << 20) || now - u->last_report < 3000)
        return;
    u->last_report = now;
    driver_progress(u->ctx, "uploading into the volume '%s': %llu%% of %llu MiB", u->vol_name,
                    (unsigned long long)(u->done * 100 / u->len),
                    (unsigned long long)(u->len >> 20));
}

int
lvdrv_vol_upload(virConnectPtr conn, virStorageVolPtr vol, const void *data, const char *path,
                 uint64_t len, struct driver_ctx *ctx, struct mc_error **err)
{
    struct upload u = { .data = data,
                        .fd = -1,
                        .len = len,
                        .ctx = ctx,
                        .vol_name = virStorageVolGetName(vol),
                        .last_report = mc_now_ms() };
    _cleanup_close_ int fd = -1;
    if (!data) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return mc_error_sys(err, errno, "opening '%s'", path);
        u.fd = fd;
    }
    _cleanup_stream_ virStreamPtr st = virStreamNew(conn, 0);
    if (!st || virStorageVolUpload(vol, st, 0, len, 0) < 0)
        return lvdrv_error(err, "uploading into the volume '%s'", u.vol_name);
    _cleanup_free_ uint8_t *buf = data ? NULL : xmalloc(1 << 20);
    while (u.done < u.len) {
        if (send_chunk(st, &u, buf, 1 << 20, err) < 0) {
            virStreamAbort(st);
            lvdrv_reset_error();
            return -1;
        }
        report(&u);
    }
    if (virStreamFinish(st) < 0)
        return lvdrv_error(err, "finishing the upload into the volume '%s'", u.vol_name);
    return 0;
}

/* A base volume is complete once its marker volume exists: the marker is made only after the
 * upload finished, so a base left by an interrupted create is found and replaced. */
static bool
base_complete(virStoragePoolPtr pool, const char *name, const char *marker)
{
    _cleanup_vol_ virStorageVolPtr vol = virStorageVolLookupByName(pool, name);
    _cleanup_vol_ virStorageVolPtr mark = vol ? virStorageVolLookupByName(pool, marker) : NULL;
    lvdrv_reset_error();
    return vol && mark;
}

static int
base_upload(virConnectPtr conn, virStoragePoolPtr pool, const struct lvdrv_image *img,
            const char *name, const char *marker, struct driver_ctx *ctx, struct mc_error **err)
{
    if (lvdrv_vol_delete(pool, marker, err) < 0 || lvdrv_vol_delete(pool, name, err) < 0)
        return -1;
    _cleanup_free_ char *xml = lvdrv_volume_xml(name, img->size, "raw", NULL, NULL);
    _cleanup_vol_ virStorageVolPtr vol = lvdrv_vol_create(pool, xml, err);
    if (!vol)
        return -1;
    driver_progress(ctx, "uploading the image into the pool '%s' (%llu MiB)",
                    virStoragePoolGetName(pool), (unsigned long long)(img->size >> 20));
    if (lvdrv_vol_upload(conn, vol, NULL, img->path, img->size, ctx, err) < 0) {
        lvdrv_vol_delete(pool, name, NULL);
        return -1;
    }
    _cleanup_free_ char *mxml = lvdrv_volume_xml(marker, 0, "raw", NULL, NULL);
    _cleanup_vol_ virStorageVolPtr mark = lvdrv_vol_create(pool, mxml, err);
    return mark ? 0 : -1;
}

int
lvdrv_base_ensure(virConnectPtr conn, virStoragePoolPtr pool, const struct lvdrv_image *img,
                  struct driver_ctx *ctx, char **ret_name, char **ret_path, struct mc_error **err)
{
    _cleanup_free_ char *name = xasprintf("base-%s.%s", img->sha256, img->qcow2 ? "qcow2" : "img");
    _cleanup_free_ char *marker = xasprintf("%s.complete", name);
    if (!base_complete(pool, name, marker) &&
        base_upload(conn, pool, img, name, marker, ctx, err) < 0)
        return mc_error_prefix(err, "preparing the base volume '%s': ", name);
    _cleanup_vol_ virStorageVolPtr vol = lvdrv_vol_lookup(pool, name, err);
    _cleanup_free_ char *path = vol ? virStorageVolGetPath(vol) : NULL;
    if (!path)
        return vol ? lvdrv_error(err, "reading the path of the volume '%s'", name) : -1;
    *ret_name = TAKE_PTR(name);
    *ret_path = TAKE_PTR(path);
    return 0;
}
