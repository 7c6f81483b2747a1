/* tar archives: a streaming reader and a header writer (ustar, with PAX and GNU long names and
 * large numbers), shared by the engine (layers, load, save, import, build contexts) and by
 * `machine` (build contexts, import). Pure header parsing is separate from I/O so unit tests
 * and fuzzers call it directly. Safe extraction to disk lives in the engine
 * (engine/images/layer-extract.h): nothing here touches the filesystem. */
#ifndef MC_TAR_H
#define MC_TAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "strbuf.h"

#define MC_TAR_BLOCK 512

/* Entry types (the typeflag byte), normalised: '\0' and '7' read as MC_TAR_FILE. */
enum mc_tar_type {
    MC_TAR_FILE = '0',
    MC_TAR_HARDLINK = '1',
    MC_TAR_SYMLINK = '2',
    MC_TAR_CHAR = '3',
    MC_TAR_BLOCKDEV = '4',
    MC_TAR_DIR = '5',
    MC_TAR_FIFO = '6',
};

struct mc_tar_xattr {
    char *name; /* "security.capability", from SCHILY.xattr.NAME */
    char *value;
    size_t len;
};

struct mc_tar_entry {
    char *name;     /* as stored (long names applied), not normalised */
    char *linkname; /* symlink target or hardlink path; "" when none */
    char type;      /* enum mc_tar_type */
    uint32_t mode;  /* permission bits, 07777 */
    int64_t uid, gid;
    int64_t size;  /* bytes of data that follow (0 for non-files) */
    int64_t mtime; /* seconds since the epoch */
    uint32_t devmajor, devminor;
    char *uname, *gname;
    struct mc_tar_xattr *xattrs;
    size_t n_xattrs;
};

void mc_tar_entry_clear(struct mc_tar_entry *e);

/* Limits on metadata read from archives. */
#define MC_TAR_MAX_NAME   65536     /* long names (GNU or PAX) */
#define MC_TAR_MAX_PAX    (1 << 20) /* one PAX extended header */
#define MC_TAR_MAX_XATTRS 64

/* Parses one 512-byte header block. Returns 1 with ret filled (name from the name and prefix
 * fields; the raw typeflag in ret->type, not normalised), 0 for an all-zero block (the end
 * marker), -1 (MC_ERR_INVALID) on a bad checksum or malformed number. */
int mc_tar_header_parse(const uint8_t block[MC_TAR_BLOCK], struct mc_tar_entry *ret,
                        struct mc_error **err);

/* Applies the records of a PAX extended header ("%d %s=%s\n"...) to e: path, linkpath, size,
 * uid, gid, uname, gname, mtime and SCHILY.xattr.*; other keys are ignored. -1 when a record is
 * malformed. */
int mc_tar_pax_apply(const char *data, size_t len, struct mc_tar_entry *e, struct mc_error **err);

/* ---- reading ---- */

/* Reads up to n bytes into buf; returns the count, 0 at the end, -1 with err. */
typedef ssize_t (*mc_tar_read_fn)(void *ctx, void *buf, size_t n, struct mc_error **err);

struct mc_tar_reader;

struct mc_tar_reader *mc_tar_reader_new(mc_tar_read_fn read, void *ctx);
void mc_tar_reader_free(struct mc_tar_reader *r);
/* Moves to the next entry (skipping what is left of the current one's data). Returns 1 with
 * *ret pointing at the entry (owned by the reader, valid until the next call), 0 at the end of
 * the archive (two zero blocks, or the end of input at an entry boundary), -1 on a malformed
 * or truncated archive. GNU long names ('L', 'K') and PAX headers ('x') are folded into the
 * entry they describe; global PAX headers ('g') are skipped. */
int mc_tar_reader_next(struct mc_tar_reader *r, const struct mc_tar_entry **ret,
                       struct mc_error **err);
/* Reads the current entry's data: up to n bytes, 0 at its end. */
ssize_t mc_tar_reader_data(struct mc_tar_reader *r, void *buf, size_t n, struct mc_error **err);
/* Bytes of input consumed so far (for progress and tests). */
uint64_t mc_tar_reader_offset(const struct mc_tar_reader *r);

/* ---- writing ---- */

/* Appends the header block(s) for e to out: a PAX 'x' header first when the name or link does
 * not fit ustar, or a number does not fit its octal field; then the ustar header. The caller
 * writes e->size bytes of data followed by mc_tar_padding(e->size) zero bytes. */
void mc_tar_header_write(struct mc_buf *out, const struct mc_tar_entry *e);
/* Zero bytes needed after size bytes of data to reach a block boundary. */
size_t mc_tar_padding(uint64_t size);
/* Appends the end-of-archive marker (two zero blocks). */
void mc_tar_end(struct mc_buf *out);

#endif
