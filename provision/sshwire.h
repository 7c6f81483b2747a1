/* The SSH wire format as pure functions: length-prefixed strings and the server's
 * KEXINIT (which lists the host key algorithms a server offers). No I/O: unit-tested and
 * fuzzable. */
#ifndef MC_SSHWIRE_H
#define MC_SSHWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "strbuf.h"
#include "wire.h"

/* Appends a big-endian uint32 / a length-prefixed string. */
void prov_wire_put_u32(struct mc_buf *b, uint32_t v);
void prov_wire_put_string(struct mc_buf *b, const void *data, size_t len);

/* The name-lists of a server's SSH_MSG_KEXINIT that matter to us. */
struct prov_kexinit {
    char *kex;      /* comma-separated, newly allocated */
    char *hostkeys; /* server_host_key_algorithms */
};
void prov_kexinit_clear(struct prov_kexinit *k);
/* Parses the unencrypted binary packet that follows the server's identification line:
 * uint32 packet_length, byte padding_length, payload (byte 20, cookie[16], name-lists...).
 * Errors: MC_ERR_INVALID. */
int prov_kexinit_parse(const uint8_t *pkt, size_t len, struct prov_kexinit *ret,
                       struct mc_error **err);
/* True when the comma-separated list contains name. */
bool prov_namelist_has(const char *list, const char *name);

#endif
