/* libFuzzer target: the tar reader and the safe extractor (engine/images/layer-extract.c),
 * through the decompressor (gzip). Every input is extracted into a fresh directory next to a
 * sentinel directory; anything written outside the target (a new entry beside it, a changed
 * sentinel) aborts as a finding. Run it unprivileged (tests/fuzz/engine/run-fuzzer.sh does). */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decompress.h"
#include "fs.h"
#include "layer-extract.h"
#include "tar.h"

static char base[256];
static char target[300];
static char sentinel_dir[300];
static char victim[320];
static struct stat victim_st;

struct mem {
    const uint8_t *data;
    size_t len, pos;
};

static ssize_t
mem_read(void *ctx, void *buf, size_t n, struct mc_error **err)
{
    struct mem *m = ctx;
    if (n > m->len - m->pos)
        n = m->len - m->pos;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

static int force_rm(int dirfd, const char *name, int depth);

static void
remove_base(void)
{
    force_rm(AT_FDCWD, base, 0);
}

/* Called once, by libFuzzer or by the first input under tests/fuzz/replay.c. */
static void
setup(void)
{
    snprintf(base, sizeof(base), "/tmp/engine-api-fuzz-tar-XXXXXX");
    if (!mkdtemp(base))
        abort();
    snprintf(target, sizeof(target), "%s/t", base);
    snprintf(sentinel_dir, sizeof(sentinel_dir), "%s/outside", base);
    snprintf(victim, sizeof(victim), "%s/victim", sentinel_dir);
    if (mkdir(sentinel_dir, 0755) < 0 ||
        mc_write_file_atomic(victim, "original", 8, 0644, NULL) < 0 || stat(victim, &victim_st) < 0)
        abort();
    atexit(remove_base);
}

/* base holds exactly t/ and outside/, outside/ exactly an unchanged victim. */
static void
check_outside(void)
{
    DIR *d = opendir(base);
    struct dirent *de;
    int n = 0;
    while (d && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (strcmp(de->d_name, "t") != 0 && strcmp(de->d_name, "outside") != 0) {
            fprintf(stderr, "FINDING: '%s' appeared beside the target\n", de->d_name);
            abort();
        }
        n++;
    }
    if (d)
        closedir(d);
    d = opendir(sentinel_dir);
    while (d && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (strcmp(de->d_name, "victim") != 0) {
            fprintf(stderr, "FINDING: '%s' appeared in the sentinel directory\n", de->d_name);
            abort();
        }
    }
    if (d)
        closedir(d);
    struct stat st;
    char buf[16] = "";
    int fd = open(victim, O_RDONLY);
    ssize_t r = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
    if (fd >= 0)
        close(fd);
    if (lstat(victim, &st) < 0 || !S_ISREG(st.st_mode) || st.st_ino != victim_st.st_ino ||
        st.st_mode != victim_st.st_mode || r != 8 || memcmp(buf, "original", 8) != 0) {
        fprintf(stderr, "FINDING: the sentinel file changed\n");
        abort();
    }
}

/* rm -rf that first makes directories writable (archives may leave them read-only, and the
 * fuzzer runs unprivileged). */
static int
force_rm(int dirfd, const char *name, int depth)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    if (S_ISDIR(st.st_mode) && depth < 1000) {
        fchmodat(dirfd, name, 0700, 0);
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;
        while (d && (de = readdir(d)))
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                force_rm(fd, de->d_name, depth + 1);
        if (d)
            closedir(d);
        return unlinkat(dirfd, name, AT_REMOVEDIR);
    }
    return unlinkat(dirfd, name, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!base[0])
        setup();
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    if (mkdir(target, 0755) < 0)
        abort();
    int dfd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct mem m = { data + 1, size - 1, 0 };
    struct eng_decomp *dc = eng_decomp_new(mem_read, &m);
    struct mc_tar_reader *r = mc_tar_reader_new(eng_decomp_read, dc);
    struct eng_extract_opts o = {
        .whiteouts = (flags & 1) ? ENG_WHITEOUT_APPLY : ENG_WHITEOUT_KEEP,
        .no_openat2 = (flags & 2) != 0,
        .only_files = (flags & 4) != 0,
        .xattrs = (flags & 8) != 0,
    };
    struct mc_error *err = NULL;
    eng_extract_tar(dfd, r, &o, NULL, &err);
    mc_error_free(err);
    mc_tar_reader_free(r);
    eng_decomp_free(dc);
    close(dfd);
    check_outside();
    chmod(target, 0700);
    if (force_rm(AT_FDCWD, target, 0) < 0)
        abort();
    return 0;
}
