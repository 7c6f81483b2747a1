/* Connections and the one conversion of libvirt's errors into struct mc_error. */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "lvdrv-internal.h"
#include "xalloc.h"

static void
quiet_handler(void *userdata, virErrorPtr error)
{
    /* libvirt prints every error on stderr by default; ours are returned, not printed. */
}

static void *
run_event_loop(void *arg)
{
    for (;;)
        if (virEventRunDefaultImpl() < 0)
            lvdrv_reset_error();
    return NULL;
}

static void
init_once(void)
{
    virSetErrorFunc(NULL, quiet_handler);
    /* The KVM probe reads the guest's console through a non-blocking stream, which needs an
     * event loop registered before the connection is opened. A registered loop also tells
     * libvirtd that we answer its keepalive pings, so it must run all the time: a connection
     * idle during a long download or boot would be closed by the server otherwise. */
    virEventRegisterDefaultImpl();
    pthread_t t;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0 ||
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) != 0 ||
        pthread_create(&t, &attr, run_event_loop, NULL) != 0)
        abort();
    pthread_attr_destroy(&attr);
}

static enum mc_error_code
code_of(int vir_code)
{
    switch (vir_code) {
    case VIR_ERR_NO_DOMAIN:
    case VIR_ERR_NO_NETWORK:
    case VIR_ERR_NO_STORAGE_POOL:
    case VIR_ERR_NO_STORAGE_VOL:
        return MC_ERR_NOT_FOUND;
    case VIR_ERR_OPERATION_INVALID:
        return MC_ERR_CONFLICT;
    case VIR_ERR_NO_SUPPORT:
        return MC_ERR_UNSUPPORTED;
    case VIR_ERR_AUTH_FAILED:
    case VIR_ERR_AUTH_CANCELLED:
    case VIR_ERR_AUTH_UNAVAILABLE:
        return MC_ERR_AUTH;
    case VIR_ERR_OPERATION_DENIED:
    case VIR_ERR_ACCESS_DENIED:
        return MC_ERR_PERMISSION;
    case VIR_ERR_OPERATION_TIMEOUT:
        return MC_ERR_TIMEOUT;
    case VIR_ERR_SYSTEM_ERROR:
    case VIR_ERR_RPC:
        return MC_ERR_IO;
    default:
        return MC_ERR_FAILED;
    }
}

int
lvdrv_error(struct mc_error **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    virErrorPtr e = virGetLastError();
    if (!e || !e->message) {
        mc_error_set(err, MC_ERR_FAILED, "%s: libvirt gave no reason", msg);
        return -1;
    }
    mc_error_set(err, code_of(e->code), "%s: %s", msg, e->message);
    virResetLastError();
    return -1;
}

int
lvdrv_last_error_code(void)
{
    virErrorPtr e = virGetLastError();
    return e ? e->code : VIR_ERR_OK;
}

char *
lvdrv_last_error_text(const char *fallback)
{
    virErrorPtr e = virGetLastError();
    char *s = xstrdup(e && e->message ? e->message : fallback);
    virResetLastError();
    /* qemu's messages run over several lines; a warning is one. */
    for (char *p = s; (p = strchr(p, '\n'));)
        *p = ' ';
    return s;
}

void
lvdrv_reset_error(void)
{
    virResetLastError();
}

virConnectPtr
lvdrv_connect(const char *uri, struct mc_error **err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
    virConnectPtr conn = virConnectOpenAuth(uri, virConnectAuthPtrDefault, 0);
    if (!conn)
        lvdrv_error(err, "cannot connect to libvirt at '%s'", uri);
    return conn;
}
