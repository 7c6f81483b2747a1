/* NULL-terminated string vectors (char **), each element owned by the vector. */
#ifndef MC_STRV_H
#define MC_STRV_H

#include <stdbool.h>
#include <stddef.h>

#include "cleanup.h"

#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)

size_t strv_length(char *const *l);
void strv_free(char **l);
MC_DEFINE_CLEANUP(char *, strv_free)
#define _cleanup_strv_ _cleanup_(strv_freep)
/* Appends s, taking ownership; *l may be NULL. */
void strv_push(char ***l, char *s);
/* Appends a copy of s. */
void strv_add(char ***l, const char *s);
char **strv_copy(char *const *l);
bool strv_contains(char *const *l, const char *s);
/* Joins with sep; an empty or NULL vector gives "". */
char *strv_join(char *const *l, const char *sep);
/* Splits s at any of the characters in seps; empty fields are dropped. */
char **strv_split(const char *s, const char *seps);
/* An empty vector (never NULL). */
char **strv_new(void);

#endif
