/* Scope-bound cleanup for owning locals, as in systemd and crun.
 *
 * Every owning local carries a cleanup attribute and starts NULL or -1; ownership leaves a scope
 * only through TAKE_PTR() or TAKE_FD(). Library-specific wrappers live with the module that uses
 * the library (json.h for jansson, crypto.h for OpenSSL, ...). */
#ifndef MC_CLEANUP_H
#define MC_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

#define _cleanup_(f)       __attribute__((cleanup(f)))
#define _cleanup_free_     _cleanup_(mc_freep)
#define _cleanup_close_    _cleanup_(mc_closep)
#define _cleanup_fclose_   _cleanup_(mc_fclosep)
#define _cleanup_closedir_ _cleanup_(mc_closedirp)
#define _printf_(a, b)     __attribute__((format(printf, a, b)))
#define _noreturn_         __attribute__((noreturn))
#define _unused_           __attribute__((unused))
#define _pure_             __attribute__((pure))
#define _warn_unused_      __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Take ownership out of a cleanup-managed pointer: returns it and leaves NULL behind. */
#define TAKE_PTR(p)                \
    __extension__({                \
        __typeof__(p) *_pp = &(p); \
        __typeof__(p) _tmp = *_pp; \
        *_pp = NULL;               \
        _tmp;                      \
    })

/* Take ownership out of a cleanup-managed file descriptor: returns it and leaves -1 behind. */
#define TAKE_FD(fd)        \
    __extension__({        \
        int *_pfd = &(fd); \
        int _tmp = *_pfd;  \
        *_pfd = -1;        \
        _tmp;              \
    })

/* Defines NAME##p(type **) calling FUNC on a non-NULL pointer, for _cleanup_(NAME##p). */
#define MC_DEFINE_CLEANUP(type, func)    \
    static inline void func##p(type **p) \
    {                                    \
        if (*p)                          \
            func(*p);                    \
    }

static inline void
mc_freep(void *p)
{
    free(*(void **)p);
}

static inline void
mc_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}

static inline void
mc_fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}

static inline void
mc_closedirp(DIR **d)
{
    if (*d)
        closedir(*d);
}

#endif
