/* Allocation that never returns NULL: on exhaustion the process aborts, as in crun and OpenSSH.
 * Callers therefore never test the result. */
#ifndef MC_XALLOC_H
#define MC_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

#include "cleanup.h"

void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows an array of nmemb elements of size bytes; overflow aborts. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
/* Like xstrdup but NULL in gives NULL out. */
char *xstrdup_or_null(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
/* A newly allocated formatted string. */
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
char *xvasprintf(const char *fmt, va_list ap) _printf_(1, 0);

/* Wipes n bytes of p (explicit_bzero) and frees it; for secrets. NULL is accepted. */
void mc_free_secret(void *p, size_t n);

#endif
