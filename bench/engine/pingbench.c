/* A small HTTP/1.1 load generator for engine benchmarks: N keep-alive connections to a unix
 * socket, each sending one request and reading its answer in a loop for a fixed time.
 * Prints "requests=N seconds=S rps=R p50_us=A p99_us=B".
 * usage: pingbench SOCKET CONNECTIONS SECONDS [PATH] */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define MAX_SAMPLES 2000000

struct worker {
    const char *sock;
    const char *req;
    double seconds;
    uint64_t done;
    uint32_t *lat_us;
    size_t n_lat;
    int failed;
};

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads one answer (head and Content-Length body); keeps extra bytes in buf. */
static int
read_answer(int fd, char *buf, size_t cap, size_t *have)
{
    for (;;) {
        char *end = memmem(buf, *have, "\r\n\r\n", 4);
        if (end) {
            size_t head = (size_t)(end - buf) + 4;
            uint64_t body = 0;
            char *cl = memmem(buf, head, "Content-Length: ", 16);
            if (cl) {
                char num[24];
                size_t k = strcspn(cl + 16, "\r");
                snprintf(num, sizeof(num), "%.*s", (int)(k < 20 ? k : 20), cl + 16);
                if (mc_parse_uint64(num, &body) < 0)
                    return -1;
            }
            if (*have >= head + body) {
                memmove(buf, buf + head + body, *have - head - body);
                *have -= head + body;
                return 0;
            }
        }
        if (*have == cap)
            return -1;
        ssize_t n = read(fd, buf + *have, cap - *have);
        if (n <= 0)
            return -1;
        *have += (size_t)n;
    }
}

static void *
run(void *arg)
{
    struct worker *w = arg;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", w->sock);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        w->failed = errno;
        return NULL;
    }
    size_t len = strlen(w->req);
    char buf[65536];
    size_t have = 0;
    double end = now() + w->seconds;
    for (;;) {
        double t0 = now();
        if (t0 >= end)
            break;
        if (write(fd, w->req, len) != (ssize_t)len ||
            read_answer(fd, buf, sizeof(buf), &have) < 0) {
            w->failed = EIO;
            break;
        }
        if (w->n_lat < MAX_SAMPLES)
            w->lat_us[w->n_lat++] = (uint32_t)((now() - t0) * 1e6);
        w->done++;
    }
    close(fd);
    return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: pingbench SOCKET CONNECTIONS SECONDS [PATH]\n");
        return 2;
    }
    int conns;
    int64_t secs;
    if (mc_parse_int(argv[2], &conns) < 0 || conns < 1 || conns > 64 ||
        mc_parse_int64(argv[3], &secs) < 0 || secs < 1) {
        fprintf(stderr, "pingbench: bad CONNECTIONS or SECONDS\n");
        return 2;
    }
    char req[512];
    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: api.moby.localhost\r\n"
             "User-Agent: pingbench\r\n\r\n",
             argc > 4 ? argv[4] : "/_ping");
    struct worker *w = calloc((size_t)conns, sizeof(*w));
    pthread_t *t = calloc((size_t)conns, sizeof(*t));
    for (int i = 0; i < conns; i++) {
        w[i] = (struct worker){ .sock = argv[1], .req = req, .seconds = (double)secs };
        w[i].lat_us = malloc(sizeof(uint32_t) * MAX_SAMPLES);
        pthread_create(&t[i], NULL, run, &w[i]);
    }
    uint64_t total = 0;
    size_t n_lat = 0;
    int failed = 0;
    for (int i = 0; i < conns; i++) {
        pthread_join(t[i], NULL);
        total += w[i].done;
        n_lat += w[i].n_lat;
        failed |= w[i].failed;
    }
    uint32_t *all = malloc(sizeof(uint32_t) * (n_lat ? n_lat : 1));
    size_t k = 0;
    for (int i = 0; i < conns; i++) {
        memcpy(all + k, w[i].lat_us, w[i].n_lat * sizeof(uint32_t));
        k += w[i].n_lat;
        free(w[i].lat_us);
    }
    qsort(all, n_lat, sizeof(uint32_t), cmp_u32);
    printf("requests=%llu seconds=%lld rps=%.0f p50_us=%u p99_us=%u\n", (unsigned long long)total,
           (long long)secs, (double)total / (double)secs, n_lat ? all[n_lat / 2] : 0,
           n_lat ? all[n_lat * 99 / 100] : 0);
    free(all);
    free(w);
    free(t);
    if (failed || total == 0) {
        fprintf(stderr, "pingbench: a connection failed (%s)\n", strerror(failed ? failed : EIO));
        return 1;
    }
    return 0;
}
