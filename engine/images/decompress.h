/* A read filter that recognises a compressed stream by its first bytes and inflates it:
 * gzip (zlib) is supported; xz, zstd and bzip2 are recognised and refused with a clear error;
 * anything else passes through unchanged (a plain tar). */
#ifndef ENG_DECOMPRESS_H
#define ENG_DECOMPRESS_H

#include <sys/types.h>

#include "error.h"
#include "tar.h"

struct eng_decomp;

/* Wraps a source read function (same signature as mc_tar_read_fn). */
struct eng_decomp *eng_decomp_new(mc_tar_read_fn read, void *ctx);
void eng_decomp_free(struct eng_decomp *d);
/* Reads decompressed bytes; usable as an mc_tar_read_fn with d as ctx. */
ssize_t eng_decomp_read(void *d, void *buf, size_t n, struct mc_error **err);
/* "gzip" or "none", once the first read happened. */
const char *eng_decomp_format(const struct eng_decomp *d);

/* An mc_tar_read_fn over a file descriptor (ctx points at the int fd). */
ssize_t eng_fd_read(void *ctx, void *buf, size_t n, struct mc_error **err);

#endif
