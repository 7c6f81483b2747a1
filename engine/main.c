/* machined: the container engine daemon. */
#include <stdio.h>
#include <string.h>

#include "log.h"

static void
usage(FILE *f)
{
    fprintf(f, "Usage: machined [OPTIONS]\n\n"
               "The machine container engine: the Docker Engine API over mutual TLS and a unix\n"
               "socket.\n\n"
               "Options:\n"
               "  --version   print the version and exit\n"
               "  --help      print this help and exit\n");
}

int
main(int argc, char **argv)
{
    mc_log_init("machined");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--version") == 0) {
            printf("machined version %s\n", MC_VERSION);
            return 0;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        fprintf(stderr, "machined: unknown option '%s'\n", argv[i]);
        usage(stderr);
        return 2;
    }
    usage(stderr);
    return 2;
}
