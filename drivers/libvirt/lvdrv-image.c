/* Base images: a local file used in place, or a URL downloaded with libcurl (resume, progress,
 * checksum) into the cache by digest:
 *
 *   CACHE/images/sha256/HEX                 verified downloads, named by their SHA-256
 *   CACHE/images/by-checksum/ALGO-HEX       the SHA-256 name of the file with that checksum
 *   CACHE/images/by-url/SHA256(URL).json    the last verified download of a URL (offline reuse)
 *   CACHE/images/by-path/SHA256(PATH).json  the digest of a local file, keyed by its stat
 *   CACHE/images/partial/SHA256(URL).part   a download in progress (resumed next time)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "crypto.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "lvdrv-internal.h"
#include "strbuf.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

MC_DEFINE_CLEANUP(CURL, curl_easy_cleanup)

void
lvdrv_image_clear(struct lvdrv_image *img)
{
    free(img->path);
    free(img->sha256);
    memset(img, 0, sizeof(*img));
}

/* ---- checksums (pure) ---- */

static size_t
digest_hex_len(const char *algo)
{
    return streq(algo, "sha256") ? 64 : streq(algo, "sha512") ? 128 : 0;
}

int
lvdrv_checksum_parse(const char *s, struct lvdrv_checksum *ret, struct mc_error **err)
{
    const char *colon = strchr(s, ':');
    size_t alen = colon ? (size_t)(colon - s) : 0;
    if (!colon || alen >= sizeof(ret->algo))
        return mc_error_set(err, MC_ERR_INVALID,
                            "the checksum '%s' is not 'sha256:HEX' or 'sha512:HEX'", s);
    struct lvdrv_checksum c = { 0 };
    memcpy(c.algo, s, alen);
    size_t want = digest_hex_len(c.algo);
    const char *hex = colon + 1;
    if (!want || strlen(hex) != want || !mc_is_hex(hex, want))
        return mc_error_set(err, MC_ERR_INVALID,
                            "the checksum '%s' is not 'sha256:HEX' (64 digits) or 'sha512:HEX' "
                            "(128 digits)",
                            s);
    for (size_t i = 0; i < want; i++)
        c.hex[i] = (char)(hex[i] >= 'A' && hex[i] <= 'F' ? hex[i] - 'A' + 'a' : hex[i]);
    *ret = c;
    return 0;
}

int
lvdrv_checksum_from_sums(const char *sums, const char *algo, const char *file,
                         struct lvdrv_checksum *ret, struct mc_error **err)
{
    size_t want = digest_hex_len(algo);
    for (const char *line = sums; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        /* "HEX  NAME" (text mode) or "HEX *NAME" (binary mode). */
        if (len > want + 2 && mc_is_hex(line, want) && line[want] == ' ' &&
            (line[want + 1] == ' ' || line[want + 1] == '*')) {
            const char *name = line + want + 2;
            size_t nlen = len - want - 2;
            if (nlen > 0 && name[nlen - 1] == '\r')
                nlen--;
            if (nlen == strlen(file) && strncmp(name, file, nlen) == 0) {
                _cleanup_free_ char *spec = xasprintf("%s:%.*s", algo, (int)want, line);
                return lvdrv_checksum_parse(spec, ret, err);
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    return mc_error_set(err, MC_ERR_NOT_FOUND, "the checksum list has no %s line for '%s'", algo,
                        file);
}

int
lvdrv_qcow2_virtual_size(const uint8_t *hdr, size_t len, uint64_t *ret)
{
    if (len < 32 || memcmp(hdr, "QFI\xfb", 4) != 0)
        return -1;
    uint64_t size = 0;
    for (int i = 0; i < 8; i++)
        size = size << 8 | hdr[24 + i];
    *ret = size;
    return 0;
}

/* ---- streaming digests ---- */

struct hasher {
    EVP_MD_CTX *sha256;
    EVP_MD_CTX *sha512;
};

static void
hasher_init(struct hasher *h)
{
    h->sha256 = EVP_MD_CTX_new();
    h->sha512 = EVP_MD_CTX_new();
    if (!h->sha256 || !h->sha512 || EVP_DigestInit_ex(h->sha256, EVP_sha256(), NULL) != 1 ||
        EVP_DigestInit_ex(h->sha512, EVP_sha512(), NULL) != 1)
        abort();
}

static void
hasher_update(struct hasher *h, const void *data, size_t n)
{
    if (EVP_DigestUpdate(h->sha256, data, n) != 1 || EVP_DigestUpdate(h->sha512, data, n) != 1)
        abort();
}

static void
final_hex(EVP_MD_CTX *md, char *hex)
{
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (EVP_DigestFinal_ex(md, d, &n) != 1)
        abort();
    mc_hex_encode(d, n, hex);
}

/* Finishes both digests into sha256 (65 bytes) and sha512 (129 bytes). */
static void
hasher_final(struct hasher *h, char *sha256, char *sha512)
{
    final_hex(h->sha256, sha256);
    final_hex(h->sha512, sha512);
}

static void
hasher_free(struct hasher *h)
{
    EVP_MD_CTX_free(h->sha256);
    EVP_MD_CTX_free(h->sha512);
    h->sha256 = h->sha512 = NULL;
}

/* Feeds the first len bytes of fd (from its start) to h. */
static int
hash_fd(int fd, uint64_t len, struct hasher *h, const char *path, struct mc_error **err)
{
    _cleanup_free_ uint8_t *buf = xmalloc(1 << 20);
    uint64_t done = 0;
    while (done < len) {
        size_t want = len - done < (1 << 20) ? (size_t)(len - done) : (1 << 20);
        ssize_t n = pread(fd, buf, want, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return mc_error_sys(err, n < 0 ? errno : EIO, "reading '%s'", path);
        hasher_update(h, buf, (size_t)n);
        done += (uint64_t)n;
    }
    return 0;
}

/* ---- the image's format ---- */

/* Fills ret with the image at path (taken over, freed on failure) of that digest and size, and
 * its format: qcow2 (with the disk size its header gives) or raw. */
static int
image_describe(char *path, const char *sha256, uint64_t size, struct lvdrv_image *ret,
               struct mc_error **err)
{
    struct lvdrv_image img = { .path = path, .sha256 = xstrdup(sha256), .size = size };
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint8_t hdr[32] = { 0 };
    ssize_t n = fd < 0 ? -1 : pread(fd, hdr, sizeof(hdr), 0);
    if (n < 0) {
        mc_error_sys(err, errno, "reading the image '%s'", path);
        lvdrv_image_clear(&img);
        return -1;
    }
    img.qcow2 = lvdrv_qcow2_virtual_size(hdr, (size_t)n, &img.virtual_size) == 0;
    if (!img.qcow2)
        img.virtual_size = size;
    *ret = img;
    return 0;
}

static bool
checksum_matches(const struct lvdrv_checksum *want, const char *sha256, const char *sha512)
{
    return streq(want->hex, streq(want->algo, "sha256") ? sha256 : sha512);
}

/* ---- a local file ---- */

static char *
key_of(const char *s)
{
    char hex[MC_SHA256_HEX_LEN + 1];
    mc_sha256_hex(s, strlen(s), hex);
    return xstrdup(hex);
}

static int
digest_local(const char *path, const struct stat *st, const char *cache, char *sha256, char *sha512,
             struct mc_error **err)
{
    _cleanup_free_ char *key = key_of(path);
    _cleanup_free_ char *record = xasprintf("%s/images/by-path/%s.json", cache, key);
    _cleanup_json_ json_t *j = mc_json_load_file(record, 65536, NULL);
    const char *c256 = mc_json_str(j, "sha256"), *c512 = mc_json_str(j, "sha512");
    if (c256 && c512 && strlen(c256) == 64 && strlen(c512) == 128 &&
        mc_json_int(j, "size", -1) == (int64_t)st->st_size &&
        mc_json_int(j, "ino", -1) == (int64_t)st->st_ino &&
        mc_json_int(j, "mtime_ns", -1) ==
                (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec) {
        memcpy(sha256, c256, 65);
        memcpy(sha512, c512, 129);
        return 0;
    }
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mc_error_sys(err, errno, "opening the image '%s'", path);
    struct hasher h;
    hasher_init(&h);
    int r = hash_fd(fd, (uint64_t)st->st_size, &h, path, err);
    if (r == 0)
        hasher_final(&h, sha256, sha512);
    hasher_free(&h);
    if (r < 0)
        return -1;
    _cleanup_free_ char *dir = xasprintf("%s/images/by-path", cache);
    _cleanup_json_ json_t *rec =
            json_pack("{s:s, s:I, s:I, s:I, s:s, s:s}", "path", path, "size",
                      (json_int_t)st->st_size, "ino", (json_int_t)st->st_ino, "mtime_ns",
                      (json_int_t)(st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec), "sha256",
                      sha256, "sha512", sha512);
    if (mc_mkdir_p(dir, 0700, NULL) == 0)
        (void)mc_json_save_file(record, rec, true, 0600, NULL);
    return 0;
}

static int
prepare_path(const char *image, const char *cache, const struct lvdrv_checksum *want,
             struct lvdrv_image *ret, struct mc_error **err)
{
    _cleanup_free_ char *path = realpath(image, NULL);
    struct stat st;
    if (!path || stat(path, &st) < 0)
        return mc_error_sys(err, errno, "the image '%s' cannot be used", image);
    if (!S_ISREG(st.st_mode))
        return mc_error_set(err, MC_ERR_INVALID, "the image '%s' is not a regular file", image);
    char sha256[65], sha512[129];
    if (digest_local(path, &st, cache, sha256, sha512, err) < 0)
        return -1;
    if (want && !checksum_matches(want, sha256, sha512))
        return mc_error_set(err, MC_ERR_INVALID,
                            "the image '%s' does not match the checksum %s:%s (its %s is %s)",
                            image, want->algo, want->hex, want->algo,
                            streq(want->algo, "sha256") ? sha256 : sha512);
    return image_describe(TAKE_PTR(path), sha256, (uint64_t)st.st_size, ret, err);
}

/* ---- downloads ---- */

struct download {
    int fd;
    struct hasher h;
    uint64_t offset; /* bytes already in the file when the transfer started */
    uint64_t written;
    int64_t last_report;
    int last_percent;
    struct driver_ctx *ctx;
    const char *url;
    int write_errno;
};

static size_t
on_data(char *data, size_t size, size_t nmemb, void *opaque)
{
    struct download *d = opaque;
    size_t n = size * nmemb;
    for (size_t off = 0; off < n;) {
        ssize_t w = write(d->fd, data + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            d->write_errno = errno;
            return 0; /* makes curl fail with CURLE_WRITE_ERROR */
        }
        off += (size_t)w;
    }
    hasher_update(&d->h, data, n);
    d->written += n;
    return n;
}

static int
on_progress(void *opaque, curl_off_t total, curl_off_t now, curl_off_t ut, curl_off_t un)
{
    struct download *d = opaque;
    if (total <= 0)
        return 0;
    uint64_t all = d->offset + (uint64_t)total, have = d->offset + (uint64_t)now;
    int percent = (int)(have * 100 / all);
    int64_t t = mc_now_ms();
    if (percent == d->last_percent || (t - d->last_report < 5000 && percent < 100))
        return 0;
    d->last_report = t;
    d->last_percent = percent;
    driver_progress(d->ctx, "downloading '%s': %d%% of %llu MiB", d->url, percent,
                    (unsigned long long)(all >> 20));
    return 0;
}

/* Sets the options every request shares; errbuf gets curl's message. */
static CURL *
easy_new(const char *url, char *errbuf)
{
    CURL *c = curl_easy_init();
    if (!c)
        abort();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    /* A stalled transfer (under 1 KB/s for a minute) fails rather than hangs. */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "machine/" MC_VERSION);
    errbuf[0] = '\0';
    return c;
}

/* curl's failure as an error: the HTTP status when there is one, else curl's message. */
static int
curl_fail(CURL *c, CURLcode rc, const char *errbuf, const char *what, const char *url,
          struct mc_error **err)
{
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_HTTP_RETURNED_ERROR)
        return mc_error_set(err, status == 404 ? MC_ERR_NOT_FOUND : MC_ERR_REMOTE,
                            "%s '%s': the server answered HTTP %ld", what, url, status);
    return mc_error_set(err, MC_ERR_IO, "%s '%s': %s", what, url,
                        errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

/* A small text file (a checksum list), at most 1 MiB. */
static size_t
on_text(char *data, size_t size, size_t nmemb, void *opaque)
{
    struct mc_buf *b = opaque;
    size_t n = size * nmemb;
    if (b->len + n > (1 << 20))
        return 0;
    mc_buf_append(b, data, n);
    return n;
}

static char *
fetch_text(const char *url, struct mc_error **err)
{
    char errbuf[CURL_ERROR_SIZE];
    _cleanup_(curl_easy_cleanupp) CURL *c = easy_new(url, errbuf);
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_text);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        curl_fail(c, rc, errbuf, "fetching", url, err);
        return NULL;
    }
    mc_buf_putc(&b, '\0');
    return mc_buf_steal(&b);
}

/* The publisher's checksum of url from SHA512SUMS (or SHA256SUMS) in the same folder. */
static int
publisher_checksum(const char *url, struct lvdrv_checksum *ret, struct mc_error **err)
{
    static const struct {
        const char *file, *algo;
    } lists[] = { { "SHA512SUMS", "sha512" }, { "SHA256SUMS", "sha256" } };
    const char *slash = strrchr(url, '/');
    const char *q = strpbrk(slash, "?#");
    _cleanup_free_ char *file =
            q ? xstrndup(slash + 1, (size_t)(q - slash - 1)) : xstrdup(slash + 1);
    for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
        _cleanup_free_ char *sums_url =
                xasprintf("%.*s/%s", (int)(slash - url), url, lists[i].file);
        _cleanup_error_ struct mc_error *e = NULL;
        _cleanup_free_ char *sums = fetch_text(sums_url, &e);
        if (!sums && mc_error_is(e, MC_ERR_NOT_FOUND))
            continue;
        if (!sums)
            return mc_error_propagate(err, TAKE_PTR(e));
        return lvdrv_checksum_from_sums(sums, lists[i].algo, file, ret, err);
    }
    return mc_error_set(err, MC_ERR_NOT_FOUND,
                        "the image '%s' has no SHA512SUMS or SHA256SUMS next to it: pass its "
                        "checksum with --libvirt-image-checksum sha256:HEX",
                        url);
}

/* Opens the partial download and hashes what it holds, for a resume. */
static int
resume_open(const char *part, struct download *d, struct mc_error **err)
{
    d->fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (d->fd < 0)
        return mc_error_sys(err, errno, "opening '%s'", part);
    struct stat st;
    if (fstat(d->fd, &st) < 0)
        return mc_error_sys(err, errno, "reading '%s'", part);
    d->offset = (uint64_t)st.st_size;
    if (d->offset && hash_fd(d->fd, d->offset, &d->h, part, err) < 0)
        return -1;
    if (lseek(d->fd, 0, SEEK_END) < 0)
        return mc_error_sys(err, errno, "reading '%s'", part);
    return 0;
}

static int
restart_from_zero(struct download *d, const char *part, struct mc_error **err)
{
    if (ftruncate(d->fd, 0) < 0 || lseek(d->fd, 0, SEEK_SET) < 0)
        return mc_error_sys(err, errno, "truncating '%s'", part);
    hasher_free(&d->h);
    hasher_init(&d->h);
    d->offset = d->written = 0;
    return 0;
}

/* One transfer from d->offset; a server that ignores ranges makes us start over once. */
static int
transfer(struct download *d, const char *part, struct mc_error **err)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        char errbuf[CURL_ERROR_SIZE];
        _cleanup_(curl_easy_cleanupp) CURL *c = easy_new(d->url, errbuf);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, d);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, d);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, d->ctx ? 0L : 1L);
        curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)d->offset);
        if (d->offset && d->ctx)
            driver_progress(d->ctx, "resuming the download of '%s' at %llu MiB", d->url,
                            (unsigned long long)(d->offset >> 20));
        CURLcode rc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (rc == CURLE_OK)
            return 0;
        /* 416: the partial file is already whole (the checksum decides). */
        if (d->offset && rc == CURLE_HTTP_RETURNED_ERROR && status == 416)
            return 0;
        if (d->offset && rc == CURLE_RANGE_ERROR && attempt == 0) {
            if (restart_from_zero(d, part, err) < 0)
                return -1;
            continue;
        }
        if (rc == CURLE_WRITE_ERROR && d->write_errno)
            return mc_error_sys(err, d->write_errno, "writing '%s'", part);
        return curl_fail(c, rc, errbuf, "downloading", d->url, err);
    }
    return mc_error_set(err, MC_ERR_REMOTE, "downloading '%s': the server does not resume", d->url);
}

/* Records a verified download under its digest and its checksum. */
static int
cache_store(const char *cache, const char *part, const char *url, const char *sha256,
            const char *sha512, struct mc_error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/images/sha256", cache);
    _cleanup_free_ char *final = xasprintf("%s/%s", dir, sha256);
    if (mc_mkdir_p(dir, 0700, err) < 0 || mc_rename(part, final, err) < 0)
        return -1;
    _cleanup_free_ char *bc = xasprintf("%s/images/by-checksum", cache);
    _cleanup_free_ char *bu = xasprintf("%s/images/by-url", cache);
    if (mc_mkdir_p(bc, 0700, err) < 0 || mc_mkdir_p(bu, 0700, err) < 0)
        return -1;
    const char *const algos[][2] = { { "sha256", sha256 }, { "sha512", sha512 } };
    for (size_t i = 0; i < ELEMENTSOF(algos); i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s-%s", bc, algos[i][0], algos[i][1]);
        if (mc_write_file_atomic(p, sha256, 64, 0600, err) < 0)
            return -1;
    }
    _cleanup_free_ char *key = key_of(url);
    _cleanup_free_ char *rec_path = xasprintf("%s/%s.json", bu, key);
    _cleanup_json_ json_t *rec =
            json_pack("{s:s, s:s, s:s}", "url", url, "sha256", sha256, "sha512", sha512);
    return mc_json_save_file(rec_path, rec, true, 0600, err);
}

int
lvdrv_lock_dir(const char *dir, struct mc_error **err)
{
    if (mc_mkdir_p(dir, 0700, err) < 0)
        return -1;
    _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return mc_error_sys(err, errno, "opening '%s'", dir);
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR)
            return mc_error_sys(err, errno, "locking '%s'", dir);
    return TAKE_FD(fd);
}

static bool cached_by_checksum(const char *cache, const struct lvdrv_checksum *want,
                               char *ret_sha256);

static int
download(struct driver_ctx *ctx, const char *cache, const char *url,
         const struct lvdrv_checksum *want, char *ret_sha256, struct mc_error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/images/partial", cache);
    _cleanup_free_ char *key = key_of(url);
    _cleanup_free_ char *part = xasprintf("%s/%s.part", dir, key);
    /* One download at a time; a parallel create waits, then finds the image cached. */
    _cleanup_close_ int lock = lvdrv_lock_dir(dir, err);
    if (lock < 0)
        return -1;
    if (cached_by_checksum(cache, want, ret_sha256))
        return 0;
    struct download d = { .fd = -1, .ctx = ctx, .url = url, .last_percent = -1 };
    hasher_init(&d.h);
    int r = resume_open(part, &d, err);
    if (r == 0)
        r = transfer(&d, part, err);
    char sha256[65], sha512[129];
    if (r == 0)
        hasher_final(&d.h, sha256, sha512);
    hasher_free(&d.h);
    if (d.fd >= 0) {
        int synced = r == 0 ? fsync(d.fd) : 0;
        int e = errno;
        if ((synced < 0 || close(d.fd) < 0) && r == 0)
            r = mc_error_sys(err, synced < 0 ? e : errno, "writing '%s'", part);
    }
    if (r < 0) {
        /* Keep what arrived for a resume; an empty file is no use to anyone. */
        if (d.offset + d.written == 0)
            unlink(part);
        return -1;
    }
    if (!checksum_matches(want, sha256, sha512)) {
        unlink(part);
        return mc_error_set(err, MC_ERR_INVALID,
                            "the download of '%s' does not match its checksum (expected %s:%s, "
                            "got %s:%s); the download was deleted",
                            url, want->algo, want->hex, want->algo,
                            streq(want->algo, "sha256") ? sha256 : sha512);
    }
    if (cache_store(cache, part, url, sha256, sha512, err) < 0)
        return -1;
    memcpy(ret_sha256, sha256, 65);
    return 0;
}

/* The cached file with the checksum want, as its SHA-256 name, or false. */
static bool
cached_by_checksum(const char *cache, const struct lvdrv_checksum *want, char *ret_sha256)
{
    _cleanup_free_ char *p = xasprintf("%s/images/by-checksum/%s-%s", cache, want->algo, want->hex);
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    if (mc_read_file(p, 128, &data, &len, NULL) < 0 || len < 64 || !mc_is_hex(data, 64))
        return false;
    _cleanup_free_ char *file = xasprintf("%s/images/sha256/%.64s", cache, data);
    if (!mc_path_exists(file))
        return false;
    memcpy(ret_sha256, data, 64);
    ret_sha256[64] = '\0';
    return true;
}

/* With no way to learn the checksum (the publisher is unreachable), the last verified download
 * of the same URL. */
static bool
cached_by_url(const char *cache, const char *url, char *ret_sha256)
{
    _cleanup_free_ char *key = key_of(url);
    _cleanup_free_ char *p = xasprintf("%s/images/by-url/%s.json", cache, key);
    _cleanup_json_ json_t *rec = mc_json_load_file(p, 65536, NULL);
    const char *sha = mc_json_str(rec, "sha256");
    if (!sha || strlen(sha) != 64 || !mc_is_hex(sha, 64))
        return false;
    _cleanup_free_ char *file = xasprintf("%s/images/sha256/%s", cache, sha);
    if (!mc_path_exists(file))
        return false;
    memcpy(ret_sha256, sha, 65);
    return true;
}

static int
prepare_url(struct driver_ctx *ctx, const char *url, const char *cache,
            const struct lvdrv_checksum *given, struct lvdrv_image *ret, struct mc_error **err)
{
    struct lvdrv_checksum want;
    char sha256[65] = "";
    if (given)
        want = *given;
    else {
        _cleanup_error_ struct mc_error *e = NULL;
        if (publisher_checksum(url, &want, &e) < 0) {
            if (!mc_error_is(e, MC_ERR_IO) || !cached_by_url(cache, url, sha256))
                return mc_error_propagate(err, TAKE_PTR(e));
            log_warn("%s; using the copy of '%s' downloaded before", e->message, url);
        }
    }
    if (!sha256[0] && !cached_by_checksum(cache, &want, sha256) &&
        download(ctx, cache, url, &want, sha256, err) < 0)
        return -1;
    _cleanup_free_ char *path = xasprintf("%s/images/sha256/%s", cache, sha256);
    struct stat st;
    if (stat(path, &st) < 0)
        return mc_error_sys(err, errno, "the cached image '%s' cannot be used", path);
    return image_describe(TAKE_PTR(path), sha256, (uint64_t)st.st_size, ret, err);
}

int
lvdrv_image_prepare(struct driver_ctx *ctx, const char *cache_dir, const char *image,
                    const char *checksum, struct lvdrv_image *ret, struct mc_error **err)
{
    struct lvdrv_checksum want;
    if (isempty(image))
        image = LVDRV_DEFAULT_IMAGE;
    if (!isempty(checksum) && lvdrv_checksum_parse(checksum, &want, err) < 0)
        return -1;
    const struct lvdrv_checksum *w = isempty(checksum) ? NULL : &want;
    if (startswith(image, "http://") || startswith(image, "https://"))
        return prepare_url(ctx, image, cache_dir, w, ret, err);
    return prepare_path(image, cache_dir, w, ret, err);
}
