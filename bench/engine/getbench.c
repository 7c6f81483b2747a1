/* GET one path over a unix socket again and again for some seconds, one connection per request
 * ("Connection: close", read to the end: any body framing works, Content-Length or chunked),
 * checking each answer is a 200. Prints "requests=N rps=R p50_us=A p99_us=B".
 * usage: getbench SOCKET SECONDS PATH */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "xalloc.h"

static double
now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One request; returns 0 when the answer was a 200. */
static int
one(const char *sock, const char *req)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char buf[65536], head[16] = "";
    size_t got = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        if (got < sizeof(head) - 1) {
            size_t k = (size_t)n < sizeof(head) - 1 - got ? (size_t)n : sizeof(head) - 1 - got;
            memcpy(head + got, buf, k);
            head[got + k] = '\0';
        }
        got += (size_t)n;
    }
    close(fd);
    return startswith(head, "HTTP/1.1 200") ? 0 : -1;
}

int
main(int argc, char **argv)
{
    int secs;
    if (argc != 4 || mc_parse_int(argv[2], &secs) < 0 || secs < 1) {
        fprintf(stderr, "usage: getbench SOCKET SECONDS PATH\n");
        return 2;
    }
    char req[1024];
    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: api.moby.localhost\r\nConnection: close\r\n\r\n", argv[3]);
    size_t cap = 1024, n = 0;
    double *lat = xcalloc(cap, sizeof(double));
    double end = now_us() + secs * 1e6;
    while (now_us() < end) {
        double t0 = now_us();
        if (one(argv[1], req) < 0) {
            fprintf(stderr, "getbench: a request to %s failed\n", argv[1]);
            return 1;
        }
        if (n == cap)
            lat = xreallocarray(lat, cap *= 2, sizeof(double));
        lat[n++] = now_us() - t0;
    }
    qsort(lat, n, sizeof(double), cmp);
    printf("requests=%zu rps=%.1f p50_us=%.0f p99_us=%.0f\n", n, (double)n / secs, lat[n / 2],
           lat[n * 99 / 100]);
    free(lat);
    return 0;
}
