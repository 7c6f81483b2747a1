/* Linux capabilities: names, Docker's default set, and CapAdd/CapDrop arithmetic (pure). */
#ifndef ENG_CAPS_H
#define ENG_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* The highest capability this engine knows (CAP_CHECKPOINT_RESTORE). */
#define ENG_CAP_LAST 40

/* Docker's default set: CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID,
 * SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE. */
#define ENG_CAPS_DEFAULT UINT64_C(0x00000000a80425fb)
#define ENG_CAPS_ALL     ((UINT64_C(1) << (ENG_CAP_LAST + 1)) - 1)

/* The number of a capability named "NET_ADMIN", "CAP_NET_ADMIN" or "cap_net_admin";
 * -1 when unknown. */
int eng_cap_from_name(const char *name);
/* "CAP_NET_ADMIN" for 12; NULL when out of range. */
const char *eng_cap_name(int cap);

/* Docker's rules: start from base; an "ALL" in add gives every capability, an "ALL" in drop
 * removes every one before adding; then drop, then add. Unknown names are refused with
 * MC_ERR_INVALID naming them. */
int eng_caps_compute(uint64_t base, char *const *add, char *const *drop, uint64_t *ret,
                     struct mc_error **err);

/* The capability names of mask, as "CAP_X" strings (for inspect and tests); a new vector. */
char **eng_caps_names(uint64_t mask);

#endif
