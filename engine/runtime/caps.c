#include <strings.h>

#include "caps.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

static const char *const cap_names[ENG_CAP_LAST + 1] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

int
eng_cap_from_name(const char *name)
{
    const char *n = name;
    if (strncasecmp(n, "CAP_", 4) == 0)
        n += 4;
    for (int i = 0; i <= ENG_CAP_LAST; i++)
        if (strcasecmp(n, cap_names[i] + 4) == 0)
            return i;
    return -1;
}

const char *
eng_cap_name(int cap)
{
    if (cap < 0 || cap > ENG_CAP_LAST)
        return NULL;
    return cap_names[cap];
}

static bool
has_all(char *const *l)
{
    STRV_FOREACH (s, (char **)l)
        if (strcasecmp(*s, "ALL") == 0 || strcasecmp(*s, "CAP_ALL") == 0)
            return true;
    return false;
}

static int
mask_of(char *const *l, uint64_t *ret, struct mc_error **err)
{
    uint64_t m = 0;
    STRV_FOREACH (s, (char **)l) {
        if (strcasecmp(*s, "ALL") == 0 || strcasecmp(*s, "CAP_ALL") == 0)
            continue;
        int c = eng_cap_from_name(*s);
        if (c < 0)
            return mc_error_set(err, MC_ERR_INVALID, "Unknown capability '%s'.", *s);
        m |= UINT64_C(1) << c;
    }
    *ret = m;
    return 0;
}

int
eng_caps_compute(uint64_t base, char *const *add, char *const *drop, uint64_t *ret,
                 struct mc_error **err)
{
    uint64_t a, d;
    if (mask_of(add, &a, err) < 0 || mask_of(drop, &d, err) < 0)
        return -1;
    uint64_t caps = base;
    if (has_all(drop))
        caps = 0;
    caps &= ~d;
    if (has_all(add))
        caps = ENG_CAPS_ALL & ~(has_all(drop) ? 0 : d);
    caps |= a;
    *ret = caps;
    return 0;
}

char **
eng_caps_names(uint64_t mask)
{
    char **l = strv_new();
    for (int i = 0; i <= ENG_CAP_LAST; i++)
        if (mask & (UINT64_C(1) << i))
            strv_add(&l, eng_cap_name(i));
    return l;
}
