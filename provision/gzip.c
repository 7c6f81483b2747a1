#include <limits.h>
#include <stdint.h>

#include <zlib.h>

#include "gzip.h"

/* The one conversion from zlib's status to our error. */
static int
zlib_error(z_stream *z, int rc, struct mc_error **err)
{
    return mc_error_set(err, MC_ERR_FAILED, "zlib cannot compress the upload: %s (%d)",
                        z->msg ? z->msg : zError(rc), rc);
}

int
prov_gzip(const void *data, size_t len, int level, struct mc_buf *out, struct mc_error **err)
{
    z_stream z = { 0 };
    /* 15 bits of window, +16: a gzip header and trailer instead of zlib's. */
    int rc = deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK)
        return zlib_error(&z, rc, err);
    size_t bound = deflateBound(&z, (uLong)len);
    if (len > UINT_MAX || bound > UINT_MAX) {
        deflateEnd(&z);
        return mc_error_set(err, MC_ERR_INVALID, "The upload is too large to compress (%zu bytes)",
                            len);
    }
    size_t start = out->len;
    mc_buf_reserve(out, bound);
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out->data + start;
    z.avail_out = (uInt)bound;
    rc = deflate(&z, Z_FINISH);
    if (rc != Z_STREAM_END) {
        int r = zlib_error(&z, rc, err);
        deflateEnd(&z);
        return r;
    }
    out->len = start + z.total_out;
    out->data[out->len] = '\0'; /* mc_buf's invariant */
    deflateEnd(&z);
    return 0;
}
