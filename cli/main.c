/* machine: create container hosts anywhere and run containers on them. */
#include <stdio.h>
#include <string.h>

#include "log.h"

int
main(int argc, char **argv)
{
    mc_log_init("machine");
    if (argc > 1 && strcmp(argv[1], "version") == 0) {
        printf("machine version %s\n", MC_VERSION);
        return 0;
    }
    fprintf(argc > 1 ? stderr : stdout, "Usage: machine [OPTIONS] COMMAND [ARGS...]\n");
    return argc > 1 ? 2 : 0;
}
