/* Test helper: makes the store CA and client certificate, a server certificate for machine NAME
 * with the given SANs, and the machine's client files, through provision/certs.h.
 * usage: certgen STORE NAME [SAN...] */
#include <stdio.h>

#include "certs.h"
#include "fs.h"
#include "xalloc.h"

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: certgen STORE NAME [SAN...]\n");
        return 2;
    }
    struct mc_error *err = NULL;
    struct store *s = NULL;
    _cleanup_free_ char *dir = NULL;
    if (store_open(argv[1], &s, &err) < 0)
        goto fail;
    dir = store_machine_dir(s, argv[2]);
    if (mc_mkdir_p(dir, 0700, &err) < 0 || prov_certs_install_client(s, argv[2], &err) < 0 ||
        prov_certs_issue_server(s, argv[2], argv + 3, 0, &err) < 0)
        goto fail;
    store_free(s);
    return 0;
fail:
    fprintf(stderr, "certgen: %s\n", err->message);
    mc_error_free(err);
    store_free(s);
    return 1;
}
