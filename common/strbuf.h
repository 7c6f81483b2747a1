/* A growable byte buffer, always NUL-terminated (data[len] == '\0'). */
#ifndef MC_STRBUF_H
#define MC_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "cleanup.h"

struct mc_buf {
    char *data;
    size_t len;
    size_t cap;
};

#define MC_BUF_INIT \
    {               \
        NULL, 0, 0  \
    }

void mc_buf_reserve(struct mc_buf *b, size_t extra);
void mc_buf_append(struct mc_buf *b, const void *data, size_t n);
void mc_buf_puts(struct mc_buf *b, const char *s);
void mc_buf_putc(struct mc_buf *b, char c);
void mc_buf_printf(struct mc_buf *b, const char *fmt, ...) _printf_(2, 3);
void mc_buf_vprintf(struct mc_buf *b, const char *fmt, va_list ap) _printf_(2, 0);
/* Empties the buffer, keeping its memory. */
void mc_buf_reset(struct mc_buf *b);
/* Drops the first n bytes. */
void mc_buf_consume(struct mc_buf *b, size_t n);
/* Returns the contents as a NUL-terminated string owned by the caller; the buffer is emptied. */
char *mc_buf_steal(struct mc_buf *b);
/* Frees the contents; the buffer itself (often on the stack) stays usable. */
void mc_buf_free(struct mc_buf *b);
#define _cleanup_buf_ _cleanup_(mc_buf_free)

#endif
