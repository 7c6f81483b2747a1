/* Engine and service addresses: tcp://HOST:PORT, unix:///PATH, http(s)://HOST[:PORT]/PATH. */
#ifndef MC_URL_H
#define MC_URL_H

#include "error.h"

struct mc_url {
    char *scheme; /* "tcp", "unix", "http", "https", "ssh" ... (lower case) */
    char *host;   /* without brackets for IPv6; NULL for unix */
    int port;     /* 0 when absent */
    char *path;   /* the socket path for unix; "" or "/..." otherwise */
};

/* Parses s. default_port fills a missing port for host schemes (0 keeps it 0). */
int mc_url_parse(const char *s, int default_port, struct mc_url *ret, struct mc_error **err);
void mc_url_clear(struct mc_url *u);
/* "host:port" with brackets around IPv6 hosts, newly allocated. */
char *mc_url_hostport(const struct mc_url *u);

#endif
