/* Linked into the static machined only. OpenSSL's libcrypto.a references the dl*() family
 * (dynamic engines and providers) and the resolver (getaddrinfo, getnameinfo, gethostbyname:
 * BIO_lookup and BIO_get_host_ip), none of which machined calls: it loads no OpenSSL
 * configuration (OPENSSL_INIT_NO_LOAD_CONFIG), no dynamic modules, and resolves no host names.
 * glibc's static versions of these need, at run time, the shared NSS and loader of the exact
 * glibc that built the binary, which a host of another distribution does not have. These
 * definitions take their place, so any call fails cleanly and the static link has no warnings. */
#include <dlfcn.h>
#include <netdb.h>
#include <stddef.h>

/* glibc's static start-up code links its own dlopen.o (which carries the link warning), so
 * OpenSSL's references are redirected here with -Wl,--wrap=dlopen instead. */
void *__wrap_dlopen(const char *file, int mode);
void *
__wrap_dlopen(const char *file, int mode)
{
    return NULL;
}

void *
dlsym(void *restrict handle, const char *restrict name)
{
    return NULL;
}

int
dlclose(void *handle)
{
    return -1;
}

char *
dlerror(void)
{
    return (char *)"machined does not load shared objects";
}

int
dladdr(const void *addr, Dl_info *info)
{
    return 0;
}

int
getaddrinfo(const char *restrict node, const char *restrict service,
            const struct addrinfo *restrict hints, struct addrinfo **restrict res)
{
    return EAI_FAIL;
}

void
freeaddrinfo(struct addrinfo *res)
{
}

const char *
gai_strerror(int code)
{
    return "machined does not resolve host names";
}

int
getnameinfo(const struct sockaddr *restrict sa, socklen_t salen, char *restrict host,
            socklen_t hostlen, char *restrict serv, socklen_t servlen, int flags)
{
    return EAI_FAIL;
}

struct hostent *
gethostbyname(const char *name)
{
    h_errno = NO_RECOVERY;
    return NULL;
}
