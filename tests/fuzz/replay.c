/* Runs a libFuzzer target over corpus files without libFuzzer, as a TAP test: every file or
 * every file in every folder given as an argument goes through LLVMFuzzerTestOneInput once.
 * This keeps targets building and their corpus passing with any compiler; real fuzzing builds
 * the same target with clang -fsanitize=fuzzer (tests/fuzz/meson.build). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fs.h"
#include "strv.h"
#include "tap.h"
#include "xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
run_file(const char *path)
{
    char *data = NULL;
    size_t len = 0;
    if (mc_read_file(path, 1 << 24, &data, &len, NULL) < 0) {
        ok(false, "read '%s'", path);
        return;
    }
    ok(LLVMFuzzerTestOneInput((const uint8_t *)data, len) == 0, "'%s' goes through", path);
    free(data);
}

static int
cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) < 0)
            tap_bail("no corpus at '%s'", argv[i]);
        if (!S_ISDIR(st.st_mode)) {
            run_file(argv[i]);
            continue;
        }
        _cleanup_closedir_ DIR *d = opendir(argv[i]);
        _cleanup_strv_ char **files = strv_new();
        struct dirent *de;
        while (d && (de = readdir(d)))
            if (de->d_name[0] != '.')
                strv_push(&files, mc_path_join(argv[i], de->d_name));
        qsort(files, strv_length(files), sizeof(char *), cmp);
        STRV_FOREACH (f, files)
            run_file(*f);
    }
    return tap_done();
}
