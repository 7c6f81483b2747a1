#include <stdio.h>
#include <string.h>

#include "strbuf.h"
#include "xalloc.h"

void
mc_buf_reserve(struct mc_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void
mc_buf_append(struct mc_buf *b, const void *data, size_t n)
{
    mc_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void
mc_buf_puts(struct mc_buf *b, const char *s)
{
    mc_buf_append(b, s, strlen(s));
}

void
mc_buf_putc(struct mc_buf *b, char c)
{
    mc_buf_append(b, &c, 1);
}

void
mc_buf_vprintf(struct mc_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    mc_buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void
mc_buf_printf(struct mc_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mc_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void
mc_buf_reset(struct mc_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void
mc_buf_consume(struct mc_buf *b, size_t n)
{
    if (n >= b->len) {
        mc_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

char *
mc_buf_steal(struct mc_buf *b)
{
    char *s = b->data ? b->data : xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

void
mc_buf_free(struct mc_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
