/* The provisioner's parsers of what a host sends: the server's KEXINIT packet, the facts
 * script's output, known_hosts text, and SSH key files users bring. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "sshkey.h"
#include "sshkeyfile.h"
#include "sshwire.h"
#include "xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mc_error *err = NULL;
    struct prov_kexinit k = { 0 };
    if (prov_kexinit_parse(data, size, &k, &err) == 0)
        prov_namelist_has(k.hostkeys, "ssh-ed25519");
    prov_kexinit_clear(&k);
    mc_error_free(err);
    err = NULL;

    char *s = xstrndup((const char *)data, size);
    struct prov_facts f = { 0 };
    if (prov_facts_parse(s, &f, &err) == 0) {
        free(prov_facts_summary(&f));
        prov_facts_clear(&f);
    }
    mc_error_free(err);
    err = NULL;
    struct prov_hostkey h = { 0 };
    if (prov_knownhosts_find(s, "ssh-ed25519", &h, &err) == 1)
        free(prov_hostkey_fingerprint(h.blob, h.len));
    prov_hostkey_clear(&h);
    mc_error_free(err);
    err = NULL;
    enum mc_key_type t;
    mc_sshkey_classify(s, strlen(s), "fuzz", &t, &err);
    mc_error_free(err);
    free(s);
    return 0;
}
