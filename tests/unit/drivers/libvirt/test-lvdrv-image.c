/* Images without a network: checksum syntax, checksum lists, the qcow2 header, and a local image
 * file (digest, its cache, a checksum that does not match, a missing file). Downloads are tested
 * in the integration suite against a loopback server. */
#include <string.h>
#include <sys/stat.h>

#include "crypto.h"
#include "fs.h"
#include "lvdrv-internal.h"
#include "tap.h"
#include "xalloc.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_checksum_parse(void)
{
    struct lvdrv_checksum c;
    is_int(lvdrv_checksum_parse("sha256:" HEX64, &c, NULL), 0, "sha256:HEX parses");
    is_str(c.algo, "sha256", "algorithm");
    is_str(c.hex, HEX64, "digest");
    is_int(lvdrv_checksum_parse("sha512:" HEX64 HEX64, &c, NULL), 0, "sha512:HEX parses");
    is_int(lvdrv_checksum_parse("SHA256:" HEX64, &c, NULL), -1, "the algorithm is lower case");
    is_int(lvdrv_checksum_parse("sha256:ABCDEF6789abcdef0123456789abcdef0123456789abcdef0123456789"
                                "abcdef",
                                &c, NULL),
           0, "upper-case hex parses");
    is_str(c.hex, "abcdef6789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
           "and is kept lower case");
    _cleanup_error_ struct mc_error *e = NULL;
    is_int(lvdrv_checksum_parse("md5:d41d8cd98f00b204e9800998ecf8427e", &c, &e), -1,
           "md5 is refused");
    ok(e && strstr(e->message, "'sha256:HEX' (64 digits)"), "saying what is accepted");
    is_int(lvdrv_checksum_parse("sha256:" HEX64 "0", &c, NULL), -1, "a digest too long");
    is_int(lvdrv_checksum_parse("sha256:xyz", &c, NULL), -1, "not hex");
    is_int(lvdrv_checksum_parse(HEX64, &c, NULL), -1, "no algorithm");
}

static void
test_sums(void)
{
    const char *sums = HEX64 "  other.qcow2\n"
                             "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff "
                             "*debian-12-genericcloud-amd64.qcow2\r\n"
                             "garbage line\n";
    struct lvdrv_checksum c;
    is_int(lvdrv_checksum_from_sums(sums, "sha256", "debian-12-genericcloud-amd64.qcow2", &c, NULL),
           0, "a binary-mode line with CRLF is found");
    is_str(c.hex, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "its digest");
    is_int(lvdrv_checksum_from_sums(sums, "sha256", "other.qcow2", &c, NULL), 0,
           "a text-mode line is found");
    is_str(c.hex, HEX64, "its digest");
    _cleanup_error_ struct mc_error *e = NULL;
    is_int(lvdrv_checksum_from_sums(sums, "sha256", "other.qcow", &c, &e), -1,
           "a prefix of a name does not match");
    ok(mc_error_is(e, MC_ERR_NOT_FOUND), "not found");
    is_int(lvdrv_checksum_from_sums(sums, "sha512", "other.qcow2", &c, NULL), -1,
           "a sha256 line is not a sha512 one");
}

static void
test_qcow2(void)
{
    uint8_t hdr[32] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
    hdr[24 + 4] = 0x80; /* 2 GiB: 0x0000000080000000, big-endian */
    uint64_t size = 0;
    is_int(lvdrv_qcow2_virtual_size(hdr, sizeof(hdr), &size), 0, "a qcow2 header");
    is_int((int64_t)size, 2147483648LL, "gives its virtual size");
    hdr[0] = 0xeb;
    is_int(lvdrv_qcow2_virtual_size(hdr, sizeof(hdr), &size), -1, "a boot sector is not qcow2");
    is_int(lvdrv_qcow2_virtual_size(hdr, 8, &size), -1, "a short header is not qcow2");
}

static void
test_local_file(void)
{
    const char *dir = tap_tmpdir();
    _cleanup_free_ char *path = xasprintf("%s/disk.img", dir);
    _cleanup_free_ char *cache = xasprintf("%s/cache", dir);
    const char data[] = "not really a disk";
    if (mc_write_file_atomic(path, data, sizeof(data) - 1, 0644, NULL) < 0 ||
        mc_mkdir_p(cache, 0700, NULL) < 0)
        tap_bail("cannot write test files");
    char hex[65];
    mc_sha256_hex(data, sizeof(data) - 1, hex);

    struct lvdrv_image img = { 0 };
    is_int(lvdrv_image_prepare(NULL, cache, path, NULL, &img, NULL), 0, "a local raw image");
    is_str(img.sha256, hex, "is named by its SHA-256");
    ok(!img.qcow2 && img.virtual_size == sizeof(data) - 1, "raw, its size is its disk size");
    lvdrv_image_clear(&img);

    _cleanup_free_ char *sum = xasprintf("sha256:%s", hex);
    is_int(lvdrv_image_prepare(NULL, cache, path, sum, &img, NULL), 0,
           "the right checksum is accepted (from the digest cache)");
    lvdrv_image_clear(&img);

    _cleanup_error_ struct mc_error *e = NULL;
    is_int(lvdrv_image_prepare(NULL, cache, path, "sha256:" HEX64, &img, &e), -1,
           "a wrong checksum is refused");
    ok(e && strstr(e->message, "does not match the checksum sha256:" HEX64), "saying so: %s",
       e ? e->message : "");
    ok(mc_path_exists(path), "and the user's own file is left alone");

    _cleanup_error_ struct mc_error *e2 = NULL;
    _cleanup_free_ char *missing = xasprintf("%s/nope.qcow2", dir);
    is_int(lvdrv_image_prepare(NULL, cache, missing, NULL, &img, &e2), -1,
           "a missing image is refused");
    ok(e2 && strstr(e2->message, "nope.qcow2' cannot be used: No such file"), "naming it: %s",
       e2 ? e2->message : "");
}

int
main(void)
{
    test_checksum_parse();
    test_sums();
    test_qcow2();
    test_local_file();
    return tap_done();
}
