/* tar archives: see tar.h. */
#include <string.h>

#include "tar.h"
#include "util.h"
#include "xalloc.h"

/* ustar field offsets and sizes */
#define F_NAME     0, 100
#define F_MODE     100, 8
#define F_UID      108, 8
#define F_GID      116, 8
#define F_SIZE     124, 12
#define F_MTIME    136, 12
#define F_CHKSUM   148, 8
#define F_TYPE     156
#define F_LINKNAME 157, 100
#define F_MAGIC    257
#define F_UNAME    265, 32
#define F_GNAME    297, 32
#define F_DEVMAJOR 329, 8
#define F_DEVMINOR 337, 8
#define F_PREFIX   345, 155

#define MAX_SIZE (INT64_C(1) << 62)

void
mc_tar_entry_clear(struct mc_tar_entry *e)
{
    free(e->name);
    free(e->linkname);
    free(e->uname);
    free(e->gname);
    for (size_t i = 0; i < e->n_xattrs; i++) {
        free(e->xattrs[i].name);
        free(e->xattrs[i].value);
    }
    free(e->xattrs);
    memset(e, 0, sizeof(*e));
}

/* A NUL-terminated copy of a field that may fill its whole width. */
static char *
field_str(const uint8_t *b, size_t off, size_t len)
{
    const uint8_t *p = b + off;
    size_t n = 0;
    while (n < len && p[n])
        n++;
    return xstrndup((const char *)p, n);
}

/* Octal (with blanks and NULs around it) or base-256 (high bit of the first byte set). */
static int
field_num(const uint8_t *b, size_t off, size_t len, int64_t *ret)
{
    const uint8_t *p = b + off;
    if (p[0] & 0x80) {
        if (p[0] == 0xff) /* negative base-256: only as a time before 1970 */
            return -1;
        uint64_t v = p[0] & 0x7f;
        for (size_t i = 1; i < len; i++) {
            if (v >> 55)
                return -1;
            v = v << 8 | p[i];
        }
        if (v > (uint64_t)INT64_MAX)
            return -1;
        *ret = (int64_t)v;
        return 0;
    }
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\0'))
        i++;
    uint64_t v = 0;
    for (; i < len && p[i] >= '0' && p[i] <= '7'; i++) {
        if (v >> 60)
            return -1;
        v = v * 8 + (uint64_t)(p[i] - '0');
    }
    for (; i < len; i++)
        if (p[i] != ' ' && p[i] != '\0')
            return -1;
    *ret = (int64_t)v;
    return 0;
}

static bool
all_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

static bool
checksum_ok(const uint8_t block[MC_TAR_BLOCK])
{
    int64_t want;
    if (field_num(block, F_CHKSUM, &want) < 0)
        return false;
    uint64_t usum = 0;
    int64_t ssum = 0;
    for (size_t i = 0; i < MC_TAR_BLOCK; i++) {
        uint8_t c = (i >= 148 && i < 156) ? ' ' : block[i];
        usum += c;
        ssum += (int8_t)c;
    }
    return (int64_t)usum == want || ssum == want;
}

int
mc_tar_header_parse(const uint8_t block[MC_TAR_BLOCK], struct mc_tar_entry *ret,
                    struct mc_error **err)
{
    if (all_zero(block, MC_TAR_BLOCK))
        return 0;
    if (!checksum_ok(block))
        return mc_error_set(err, MC_ERR_INVALID,
                            "The tar archive is malformed: a header has a bad checksum.");
    struct mc_tar_entry e = { 0 };
    int64_t mode, uid, gid, size, mtime, maj = 0, min = 0;
    if (field_num(block, F_MODE, &mode) < 0 || field_num(block, F_UID, &uid) < 0 ||
        field_num(block, F_GID, &gid) < 0 || field_num(block, F_SIZE, &size) < 0 ||
        field_num(block, F_MTIME, &mtime) < 0 || size > MAX_SIZE)
        return mc_error_set(err, MC_ERR_INVALID,
                            "The tar archive is malformed: a header has a bad number.");
    bool ustar = memcmp(block + F_MAGIC, "ustar\0", 6) == 0;
    bool gnu = memcmp(block + F_MAGIC, "ustar  \0", 8) == 0;
    if (ustar || gnu) {
        /* Device numbers are optional: garbage there only matters for device entries. */
        if (field_num(block, F_DEVMAJOR, &maj) < 0 || field_num(block, F_DEVMINOR, &min) < 0)
            maj = min = 0;
        e.uname = field_str(block, F_UNAME);
        e.gname = field_str(block, F_GNAME);
    } else {
        e.uname = xstrdup("");
        e.gname = xstrdup("");
    }
    _cleanup_free_ char *name = field_str(block, F_NAME);
    _cleanup_free_ char *prefix = ustar ? field_str(block, F_PREFIX) : xstrdup("");
    e.name = *prefix ? xasprintf("%s/%s", prefix, name) : TAKE_PTR(name);
    e.linkname = field_str(block, F_LINKNAME);
    e.type = (char)block[F_TYPE];
    e.mode = (uint32_t)(mode & 07777);
    e.uid = uid;
    e.gid = gid;
    e.size = size;
    e.mtime = mtime;
    e.devmajor = (uint32_t)(maj & 0xffffffff);
    e.devminor = (uint32_t)(min & 0xffffffff);
    *ret = e;
    return 1;
}

static int
pax_error(struct mc_error **err)
{
    return mc_error_set(err, MC_ERR_INVALID,
                        "The tar archive is malformed: a PAX extended header is not valid.");
}

/* A decimal with an optional fraction (mtime) or a plain decimal. */
static int
pax_num(const char *v, size_t n, int64_t *ret)
{
    int64_t x = 0;
    size_t i = 0;
    bool neg = n > 0 && v[0] == '-';
    if (neg)
        i++;
    if (i == n)
        return -1;
    for (; i < n && v[i] != '.'; i++) {
        if (v[i] < '0' || v[i] > '9' || x > INT64_MAX / 10 - 10)
            return -1;
        x = x * 10 + (v[i] - '0');
    }
    for (i = i < n ? i + 1 : i; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return -1;
    *ret = neg ? -x : x;
    return 0;
}

static int
pax_record(const char *k, size_t kl, const char *v, size_t vl, struct mc_tar_entry *e,
           struct mc_error **err)
{
#define KEY(s) (kl == sizeof(s) - 1 && memcmp(k, s, kl) == 0)
    int64_t n;
    if (KEY("path") || KEY("linkpath")) {
        if (vl > MC_TAR_MAX_NAME || memchr(v, '\0', vl))
            return pax_error(err);
        char **dst = KEY("path") ? &e->name : &e->linkname;
        free(*dst);
        *dst = xstrndup(v, vl);
    } else if (KEY("uname") || KEY("gname")) {
        char **dst = KEY("uname") ? &e->uname : &e->gname;
        free(*dst);
        *dst = xstrndup(v, vl);
    } else if (KEY("size") || KEY("uid") || KEY("gid") || KEY("mtime")) {
        if (pax_num(v, vl, &n) < 0)
            return pax_error(err);
        if (KEY("size")) {
            if (n < 0 || n > MAX_SIZE)
                return pax_error(err);
            e->size = n;
        } else if (KEY("uid")) {
            e->uid = n;
        } else if (KEY("gid")) {
            e->gid = n;
        } else {
            e->mtime = n;
        }
    } else if (kl > 13 && memcmp(k, "SCHILY.xattr.", 13) == 0) {
        if (e->n_xattrs >= MC_TAR_MAX_XATTRS)
            return pax_error(err);
        e->xattrs = xreallocarray(e->xattrs, e->n_xattrs + 1, sizeof(*e->xattrs));
        e->xattrs[e->n_xattrs++] = (struct mc_tar_xattr){ .name = xstrndup(k + 13, kl - 13),
                                                          .value = xmemdup(v, vl + 1),
                                                          .len = vl };
        e->xattrs[e->n_xattrs - 1].value[vl] = '\0';
    }
    return 0;
#undef KEY
}

int
mc_tar_pax_apply(const char *data, size_t len, struct mc_tar_entry *e, struct mc_error **err)
{
    size_t pos = 0;
    while (pos < len) {
        if (data[pos] == '\0') /* trailing NUL padding */
            break;
        size_t rl = 0, i = pos;
        while (i < len && data[i] >= '0' && data[i] <= '9' && rl < MC_TAR_MAX_PAX)
            rl = rl * 10 + (size_t)(data[i++] - '0');
        if (i == pos || i >= len || data[i] != ' ' || rl <= i - pos + 1 || rl > len - pos ||
            data[pos + rl - 1] != '\n')
            return pax_error(err);
        const char *k = data + i + 1;
        const char *end = data + pos + rl - 1;
        const char *eq = memchr(k, '=', (size_t)(end - k));
        if (!eq || eq == k)
            return pax_error(err);
        if (pax_record(k, (size_t)(eq - k), eq + 1, (size_t)(end - eq - 1), e, err) < 0)
            return -1;
        pos += rl;
    }
    return 0;
}

/* ---- the reader ---- */

#define RBUF 65536

struct mc_tar_reader {
    mc_tar_read_fn read;
    void *ctx;
    uint8_t *buf;
    size_t buf_off, buf_len;
    bool eof;
    uint64_t offset;
    struct mc_tar_entry cur;
    uint64_t data_left, pad_left;
    bool done;
};

struct mc_tar_reader *
mc_tar_reader_new(mc_tar_read_fn read, void *ctx)
{
    struct mc_tar_reader *r = xzalloc(sizeof(*r));
    r->read = read;
    r->ctx = ctx;
    r->buf = xmalloc(RBUF);
    return r;
}

void
mc_tar_reader_free(struct mc_tar_reader *r)
{
    if (!r)
        return;
    mc_tar_entry_clear(&r->cur);
    free(r->buf);
    free(r);
}

uint64_t
mc_tar_reader_offset(const struct mc_tar_reader *r)
{
    return r->offset;
}

/* Up to n bytes from the buffer or the source; 0 only at the end of input. */
static ssize_t
raw_read(struct mc_tar_reader *r, void *dst, size_t n, struct mc_error **err)
{
    if (r->buf_off == r->buf_len && !r->eof) {
        if (n >= RBUF) { /* large reads bypass the buffer */
            ssize_t got = r->read(r->ctx, dst, n, err);
            if (got == 0)
                r->eof = true;
            if (got > 0)
                r->offset += (uint64_t)got;
            return got;
        }
        ssize_t got = r->read(r->ctx, r->buf, RBUF, err);
        if (got < 0)
            return -1;
        if (got == 0)
            r->eof = true;
        r->buf_off = 0;
        r->buf_len = (size_t)got;
    }
    size_t have = r->buf_len - r->buf_off;
    size_t take = have < n ? have : n;
    memcpy(dst, r->buf + r->buf_off, take);
    r->buf_off += take;
    r->offset += take;
    return (ssize_t)take;
}

/* Exactly n bytes. Returns 0, 1 when the input ended before any byte, -1 on error or a
 * truncated archive. */
static int
read_full(struct mc_tar_reader *r, void *dst, size_t n, struct mc_error **err)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = raw_read(r, (char *)dst + got, n - got, err);
        if (k < 0)
            return -1;
        if (k == 0) {
            if (got == 0)
                return 1;
            return mc_error_set(err, MC_ERR_INVALID, "The tar archive is truncated.");
        }
        got += (size_t)k;
    }
    return 0;
}

static int
skip(struct mc_tar_reader *r, uint64_t n, struct mc_error **err)
{
    uint8_t tmp[4096];
    while (n > 0) {
        size_t k = n < sizeof(tmp) ? (size_t)n : sizeof(tmp);
        int rc = read_full(r, tmp, k, err);
        if (rc != 0)
            return rc < 0 ? -1 : mc_error_set(err, MC_ERR_INVALID, "The tar archive is truncated.");
        n -= k;
    }
    return 0;
}

/* Reads the data of a metadata entry (long name, PAX header) into a new buffer. */
static char *
read_meta(struct mc_tar_reader *r, int64_t size, size_t max, struct mc_error **err)
{
    if (size < 0 || (uint64_t)size > max) {
        mc_error_set(err, MC_ERR_INVALID, "The tar archive has an oversized extended header.");
        return NULL;
    }
    char *data = xmalloc((size_t)size + 1);
    if (read_full(r, data, (size_t)size, err) != 0 ||
        skip(r, mc_tar_padding((uint64_t)size), err) < 0) {
        if (err && !*err)
            mc_error_set(err, MC_ERR_INVALID, "The tar archive is truncated.");
        free(data);
        return NULL;
    }
    data[size] = '\0';
    return data;
}

static bool
header_only(char type)
{
    return type == MC_TAR_HARDLINK || type == MC_TAR_SYMLINK || type == MC_TAR_CHAR ||
           type == MC_TAR_BLOCKDEV || type == MC_TAR_DIR || type == MC_TAR_FIFO;
}

struct pending {
    char *longname, *longlink, *pax;
    size_t pax_len;
};

static void
pending_clear(struct pending *p)
{
    free(p->longname);
    free(p->longlink);
    free(p->pax);
    memset(p, 0, sizeof(*p));
}

/* Folds pending long names and PAX records into e, normalises its type. */
static int
finish_entry(struct pending *p, struct mc_tar_entry *e, struct mc_error **err)
{
    if (p->longname) {
        free(e->name);
        e->name = TAKE_PTR(p->longname);
    }
    if (p->longlink) {
        free(e->linkname);
        e->linkname = TAKE_PTR(p->longlink);
    }
    if (p->pax && mc_tar_pax_apply(p->pax, p->pax_len, e, err) < 0)
        return -1;
    if (e->type == '\0' || e->type == '7')
        e->type = MC_TAR_FILE;
    if (e->type == 'S')
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "The tar entry '%s' is a GNU sparse file, which is not supported.",
                            e->name);
    if (header_only(e->type))
        e->size = 0;
    return 0;
}

int
mc_tar_reader_next(struct mc_tar_reader *r, const struct mc_tar_entry **ret, struct mc_error **err)
{
    if (r->done)
        return 0;
    if (skip(r, r->data_left + r->pad_left, err) < 0)
        return -1;
    r->data_left = r->pad_left = 0;
    mc_tar_entry_clear(&r->cur);
    struct pending p = { 0 };
    for (;;) {
        uint8_t block[MC_TAR_BLOCK];
        int rc = read_full(r, block, sizeof(block), err);
        if (rc == 1 && !p.longname && !p.longlink && !p.pax) {
            r->done = true; /* the input ended at an entry boundary */
            return 0;
        }
        if (rc != 0) {
            pending_clear(&p);
            return rc < 0 ? -1 : mc_error_set(err, MC_ERR_INVALID, "The tar archive is truncated.");
        }
        struct mc_tar_entry e = { 0 };
        rc = mc_tar_header_parse(block, &e, err);
        if (rc <= 0) {
            pending_clear(&p);
            r->done = rc == 0;
            return rc;
        }
        if (e.type == 'L' || e.type == 'K' || e.type == 'x' || e.type == 'g') {
            char *data = read_meta(
                    r, e.size, e.type == 'x' || e.type == 'g' ? MC_TAR_MAX_PAX : MC_TAR_MAX_NAME,
                    err);
            size_t len = (size_t)e.size;
            char type = e.type;
            mc_tar_entry_clear(&e);
            if (!data) {
                pending_clear(&p);
                return -1;
            }
            if (type == 'L') {
                free(p.longname);
                p.longname = xstrndup(data, strnlen(data, len));
            } else if (type == 'K') {
                free(p.longlink);
                p.longlink = xstrndup(data, strnlen(data, len));
            } else if (type == 'x') {
                free(p.pax);
                p.pax = TAKE_PTR(data);
                p.pax_len = len;
            }
            free(data);
            continue;
        }
        rc = finish_entry(&p, &e, err);
        pending_clear(&p);
        if (rc < 0) {
            mc_tar_entry_clear(&e);
            return -1;
        }
        r->cur = e;
        r->data_left = (uint64_t)e.size;
        r->pad_left = mc_tar_padding((uint64_t)e.size);
        *ret = &r->cur;
        return 1;
    }
}

ssize_t
mc_tar_reader_data(struct mc_tar_reader *r, void *buf, size_t n, struct mc_error **err)
{
    if (r->data_left == 0 || n == 0)
        return 0;
    if (n > r->data_left)
        n = (size_t)r->data_left;
    ssize_t k = raw_read(r, buf, n, err);
    if (k == 0)
        return mc_error_set(err, MC_ERR_INVALID, "The tar archive is truncated inside '%s'.",
                            r->cur.name);
    if (k > 0)
        r->data_left -= (uint64_t)k;
    return k;
}

/* ---- the writer ---- */

size_t
mc_tar_padding(uint64_t size)
{
    return (size_t)((MC_TAR_BLOCK - size % MC_TAR_BLOCK) % MC_TAR_BLOCK);
}

void
mc_tar_end(struct mc_buf *out)
{
    static const uint8_t zeros[2 * MC_TAR_BLOCK];
    mc_buf_append(out, zeros, sizeof(zeros));
}

static void
put_octal(uint8_t *b, size_t off, size_t len, uint64_t v)
{
    char tmp[32];
    snprintf(tmp, sizeof(tmp), "%0*llo", (int)len - 1, (unsigned long long)v);
    memcpy(b + off, tmp, len - 1);
    b[off + len - 1] = '\0';
}

static bool
fits_octal(int64_t v, size_t len)
{
    return v >= 0 && (uint64_t)v < (UINT64_C(1) << (3 * (len - 1)));
}

/* Appends one PAX record "LEN key=value\n", where LEN counts itself. */
static void
pax_put(struct mc_buf *b, const char *key, const char *value, size_t vlen)
{
    size_t body = 1 + strlen(key) + 1 + vlen + 1;
    size_t len = body + 1;
    for (;;) {
        size_t with_digits = body + (size_t)snprintf(NULL, 0, "%zu", len);
        if (with_digits == len)
            break;
        len = with_digits;
    }
    mc_buf_printf(b, "%zu %s=", len, key);
    mc_buf_append(b, value, vlen);
    mc_buf_putc(b, '\n');
}

/* Splits a long name into the ustar prefix and name fields; false when it cannot fit. */
static bool
split_name(const char *name, size_t *ret_prefix_len)
{
    size_t n = strlen(name);
    if (n <= 100) {
        *ret_prefix_len = 0;
        return true;
    }
    for (size_t i = n - 1; i > 0; i--) {
        if (name[i] != '/')
            continue;
        if (i <= 155 && n - i - 1 <= 100 && n - i - 1 > 0) {
            *ret_prefix_len = i;
            return true;
        }
    }
    return false;
}

static void
ustar_block(uint8_t *b, const struct mc_tar_entry *e, const char *name, char type, uint64_t size)
{
    memset(b, 0, MC_TAR_BLOCK);
    size_t plen = 0;
    if (split_name(name, &plen) && plen > 0) {
        memcpy(b + 345, name, plen);
        memcpy(b, name + plen + 1, strlen(name + plen + 1));
    } else {
        size_t n = strlen(name);
        memcpy(b, name, n > 100 ? 100 : n);
    }
    put_octal(b, F_MODE, e->mode & 07777);
    put_octal(b, F_UID, fits_octal(e->uid, 8) ? (uint64_t)e->uid : 0);
    put_octal(b, F_GID, fits_octal(e->gid, 8) ? (uint64_t)e->gid : 0);
    put_octal(b, F_SIZE, fits_octal((int64_t)size, 12) ? size : 0);
    put_octal(b, F_MTIME, fits_octal(e->mtime, 12) ? (uint64_t)e->mtime : 0);
    b[F_TYPE] = (uint8_t)type;
    const char *ln = e->linkname ? e->linkname : "";
    size_t ll = strlen(ln);
    memcpy(b + 157, ln, ll > 100 ? 100 : ll);
    memcpy(b + F_MAGIC,
           "ustar\0"
           "00",
           8);
    if (e->uname)
        memcpy(b + 265, e->uname, strnlen(e->uname, 31));
    if (e->gname)
        memcpy(b + 297, e->gname, strnlen(e->gname, 31));
    put_octal(b, F_DEVMAJOR, e->devmajor & 07777777);
    put_octal(b, F_DEVMINOR, e->devminor & 07777777);
    memset(b + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < MC_TAR_BLOCK; i++)
        sum += b[i];
    char tmp[8];
    snprintf(tmp, sizeof(tmp), "%06o", sum & 0777777);
    memcpy(b + 148, tmp, 6);
    b[154] = '\0';
    b[155] = ' ';
}

void
mc_tar_header_write(struct mc_buf *out, const struct mc_tar_entry *e)
{
    const char *ln = e->linkname ? e->linkname : "";
    size_t plen;
    struct mc_buf pax = MC_BUF_INIT;
    char num[32];
    if (!split_name(e->name, &plen))
        pax_put(&pax, "path", e->name, strlen(e->name));
    if (strlen(ln) > 100)
        pax_put(&pax, "linkpath", ln, strlen(ln));
    if (!fits_octal(e->size, 12)) {
        snprintf(num, sizeof(num), "%lld", (long long)e->size);
        pax_put(&pax, "size", num, strlen(num));
    }
    if (!fits_octal(e->uid, 8)) {
        snprintf(num, sizeof(num), "%lld", (long long)e->uid);
        pax_put(&pax, "uid", num, strlen(num));
    }
    if (!fits_octal(e->gid, 8)) {
        snprintf(num, sizeof(num), "%lld", (long long)e->gid);
        pax_put(&pax, "gid", num, strlen(num));
    }
    if (!fits_octal(e->mtime, 12)) {
        snprintf(num, sizeof(num), "%lld", (long long)e->mtime);
        pax_put(&pax, "mtime", num, strlen(num));
    }
    for (size_t i = 0; i < e->n_xattrs; i++) {
        _cleanup_free_ char *key = xasprintf("SCHILY.xattr.%s", e->xattrs[i].name);
        pax_put(&pax, key, e->xattrs[i].value, e->xattrs[i].len);
    }
    uint8_t block[MC_TAR_BLOCK];
    if (pax.len > 0) {
        struct mc_tar_entry pe = { .mode = 0644, .mtime = e->mtime > 0 ? e->mtime : 0 };
        ustar_block(block, &pe, "PaxHeaders.0/entry", 'x', pax.len);
        mc_buf_append(out, block, sizeof(block));
        mc_buf_append(out, pax.data, pax.len);
        static const uint8_t zeros[MC_TAR_BLOCK];
        mc_buf_append(out, zeros, mc_tar_padding(pax.len));
    }
    mc_buf_free(&pax);
    ustar_block(block, e, e->name, e->type ? e->type : MC_TAR_FILE, (uint64_t)e->size);
    mc_buf_append(out, block, sizeof(block));
}
