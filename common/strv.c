#include <string.h>

#include "strbuf.h"
#include "strv.h"
#include "xalloc.h"

size_t
strv_length(char *const *l)
{
    size_t n = 0;
    while (l && l[n])
        n++;
    return n;
}

void
strv_free(char **l)
{
    STRV_FOREACH (s, l)
        free(*s);
    free(l);
}

char **
strv_new(void)
{
    return xzalloc(sizeof(char *));
}

void
strv_push(char ***l, char *s)
{
    size_t n = strv_length(*l);
    *l = xreallocarray(*l, n + 2, sizeof(char *));
    (*l)[n] = s;
    (*l)[n + 1] = NULL;
}

void
strv_add(char ***l, const char *s)
{
    strv_push(l, xstrdup(s));
}

char **
strv_copy(char *const *l)
{
    char **r = strv_new();
    for (size_t i = 0; l && l[i]; i++)
        strv_add(&r, l[i]);
    return r;
}

bool
strv_contains(char *const *l, const char *s)
{
    for (size_t i = 0; l && l[i]; i++)
        if (strcmp(l[i], s) == 0)
            return true;
    return false;
}

char *
strv_join(char *const *l, const char *sep)
{
    struct mc_buf b = MC_BUF_INIT;
    for (size_t i = 0; l && l[i]; i++) {
        if (i)
            mc_buf_puts(&b, sep);
        mc_buf_puts(&b, l[i]);
    }
    return mc_buf_steal(&b);
}

char **
strv_split(const char *s, const char *seps)
{
    char **r = strv_new();
    while (*s) {
        size_t skip = strspn(s, seps);
        s += skip;
        size_t n = strcspn(s, seps);
        if (n)
            strv_push(&r, xstrndup(s, n));
        s += n;
    }
    return r;
}
