/* gzip compression of an upload (zlib), so that a slow link or a slow guest (TCG) carries half
 * the bytes of the engine binary; the host unpacks it with gzip -dc. */
#ifndef MC_GZIP_H
#define MC_GZIP_H

#include <stddef.h>

#include "error.h"
#include "strbuf.h"

/* Compresses len bytes of data into *out (appended) in the gzip format at level (1-9).
 * Errors: MC_ERR_FAILED with zlib's words. */
int prov_gzip(const void *data, size_t len, int level, struct mc_buf *out, struct mc_error **err);

#endif
