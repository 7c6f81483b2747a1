/* A cursor over the SSH wire format's length-prefixed fields (RFC 4251 §5), shared by the
 * OpenSSH key reader (sshkeyfile.c) and the provisioner's KEXINIT parser. Reads return false,
 * and leave the cursor failed, on overrun. */
#ifndef MC_WIRE_H
#define MC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mc_wire {
    const uint8_t *p;
    size_t left;
    bool failed;
};

/* A big-endian uint32. */
bool mc_wire_u32(struct mc_wire *w, uint32_t *ret);
/* A length-prefixed string: *ret points into the buffer (not NUL-terminated). */
bool mc_wire_string(struct mc_wire *w, const uint8_t **ret, size_t *ret_len);
/* True when the string at the cursor equals s (and consumes it). */
bool mc_wire_string_eq(struct mc_wire *w, const char *s);

#endif
