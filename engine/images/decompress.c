/* Decompression by magic number: see decompress.h. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "decompress.h"
#include "xalloc.h"

#define IN_BUF 65536

enum format {
    FMT_UNKNOWN,
    FMT_NONE,
    FMT_GZIP,
};

struct eng_decomp {
    mc_tar_read_fn read;
    void *ctx;
    enum format fmt;
    unsigned char *in;
    size_t in_off, in_len;
    bool in_eof;
    z_stream z;
    bool z_init, z_end;
};

struct eng_decomp *
eng_decomp_new(mc_tar_read_fn read, void *ctx)
{
    struct eng_decomp *d = xzalloc(sizeof(*d));
    d->read = read;
    d->ctx = ctx;
    d->in = xmalloc(IN_BUF);
    return d;
}

void
eng_decomp_free(struct eng_decomp *d)
{
    if (!d)
        return;
    if (d->z_init)
        inflateEnd(&d->z);
    free(d->in);
    free(d);
}

const char *
eng_decomp_format(const struct eng_decomp *d)
{
    return d->fmt == FMT_GZIP ? "gzip" : "none";
}

ssize_t
eng_fd_read(void *ctx, void *buf, size_t n, struct mc_error **err)
{
    int fd = *(int *)ctx;
    for (;;) {
        ssize_t r = read(fd, buf, n);
        if (r >= 0)
            return r;
        if (errno != EINTR)
            return mc_error_sys(err, errno, "Cannot read the archive");
    }
}

/* Refills the input buffer; returns bytes available, 0 at the end, -1 on error. */
static ssize_t
fill(struct eng_decomp *d, struct mc_error **err)
{
    if (d->in_off < d->in_len)
        return (ssize_t)(d->in_len - d->in_off);
    if (d->in_eof)
        return 0;
    ssize_t r = d->read(d->ctx, d->in, IN_BUF, err);
    if (r < 0)
        return -1;
    if (r == 0)
        d->in_eof = true;
    d->in_off = 0;
    d->in_len = (size_t)r;
    return r;
}

static int
sniff(struct eng_decomp *d, struct mc_error **err)
{
    /* Gather at least 6 bytes (or all there is) to look at. */
    while (d->in_len < 6 && !d->in_eof) {
        ssize_t r = d->read(d->ctx, d->in + d->in_len, IN_BUF - d->in_len, err);
        if (r < 0)
            return -1;
        if (r == 0)
            d->in_eof = true;
        d->in_len += (size_t)r;
    }
    const unsigned char *m = d->in;
    size_t n = d->in_len;
    if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
        d->fmt = FMT_GZIP;
        if (inflateInit2(&d->z, 15 + 32) != Z_OK)
            return mc_error_set(err, MC_ERR_FAILED, "Cannot start gzip decompression.");
        d->z_init = true;
        return 0;
    }
    const char *other = NULL;
    if (n >= 6 && memcmp(m,
                         "\xfd"
                         "7zXZ\0",
                         6) == 0)
        other = "xz";
    else if (n >= 4 && memcmp(m, "\x28\xb5\x2f\xfd", 4) == 0)
        other = "zstd";
    else if (n >= 3 && memcmp(m, "BZh", 3) == 0)
        other = "bzip2";
    if (other)
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "The archive is compressed with %s, which machined does not support; "
                            "use an uncompressed or gzip-compressed tar.",
                            other);
    d->fmt = FMT_NONE;
    return 0;
}

static ssize_t
read_gzip(struct eng_decomp *d, void *buf, size_t n, struct mc_error **err)
{
    uInt want = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
    d->z.next_out = buf;
    d->z.avail_out = want;
    while (d->z.avail_out == want && !d->z_end) {
        ssize_t avail = fill(d, err);
        if (avail < 0)
            return -1;
        if (avail == 0)
            return mc_error_set(err, MC_ERR_INVALID, "The gzip stream is truncated.");
        d->z.next_in = d->in + d->in_off;
        d->z.avail_in = (uInt)avail;
        int r = inflate(&d->z, Z_NO_FLUSH);
        d->in_off = d->in_len - d->z.avail_in;
        if (r == Z_STREAM_END) {
            /* Another gzip member may follow (concatenated files); anything else ends it. */
            ssize_t more = fill(d, err);
            if (more < 0)
                return -1;
            if (more > 0 && d->in[d->in_off] == 0x1f)
                inflateReset(&d->z);
            else
                d->z_end = true;
        } else if (r != Z_OK && r != Z_BUF_ERROR) {
            return mc_error_set(err, MC_ERR_INVALID, "The gzip stream is corrupt: %s.",
                                d->z.msg ? d->z.msg : "inflate failed");
        }
    }
    return (ssize_t)(want - d->z.avail_out);
}

ssize_t
eng_decomp_read(void *vd, void *buf, size_t n, struct mc_error **err)
{
    struct eng_decomp *d = vd;
    if (d->fmt == FMT_UNKNOWN && sniff(d, err) < 0)
        return -1;
    if (d->fmt == FMT_GZIP)
        return read_gzip(d, buf, n, err);
    ssize_t avail = fill(d, err);
    if (avail <= 0)
        return avail;
    size_t take = (size_t)avail < n ? (size_t)avail : n;
    memcpy(buf, d->in + d->in_off, take);
    d->in_off += take;
    return (ssize_t)take;
}
