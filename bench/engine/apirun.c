/* A minimal engine API client for the start-path benchmark: what `docker run --rm IMAGE CMD`
 * asks of an engine (create with AutoRemove, wait?condition=removed on a second connection,
 * start, the wait's answer), without the docker CLI's own cost. Repeats it N times over a
 * unix socket and prints each run's wall time in ms, one per line.
 * usage: apirun SOCKET IMAGE NETWORK N CMD... */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "strbuf.h"
#include "util.h"

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
dial(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        perror("apirun: connect");
        return -1;
    }
    return fd;
}

static int
send_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads until needle appears in what was received (kept in b). */
static int
read_until(int fd, struct mc_buf *b, const char *needle)
{
    char tmp[4096];
    while (!b->data || !strstr(b->data, needle)) {
        ssize_t r = read(fd, tmp, sizeof(tmp));
        if (r <= 0)
            return -1;
        mc_buf_append(b, tmp, (size_t)r);
    }
    return 0;
}

static int
request(int fd, const char *method, const char *path, const char *body, struct mc_buf *ans,
        const char *until)
{
    _cleanup_buf_ struct mc_buf req = MC_BUF_INIT;
    mc_buf_printf(&req,
                  "%s %s HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n"
                  "Content-Length: %zu\r\n\r\n%s",
                  method, path, body ? strlen(body) : 0, body ? body : "");
    mc_buf_reset(ans);
    if (send_all(fd, req.data, req.len) < 0)
        return -1;
    return read_until(fd, ans, until);
}

/* One run; returns its time in ms, or -1. */
static double
one_run(const char *sock, const char *create_body)
{
    _cleanup_buf_ struct mc_buf ans = MC_BUF_INIT;
    double t0 = now_ms();
    _cleanup_close_ int c = dial(sock);
    _cleanup_close_ int w = dial(sock);
    if (c < 0 || w < 0 ||
        request(c, "POST", "/v1.44/containers/create", create_body, &ans, "\"Warnings\"") < 0)
        return -1;
    const char *id = strstr(ans.data, "\"Id\":\"");
    if (!id)
        return -1;
    char cid[65];
    memcpy(cid, id + 6, 64);
    cid[64] = '\0';
    char path[160];
    snprintf(path, sizeof(path), "/v1.44/containers/%s/wait?condition=removed", cid);
    _cleanup_buf_ struct mc_buf wans = MC_BUF_INIT;
    if (request(w, "POST", path, NULL, &wans, "\r\n\r\n") < 0)
        return -1;
    double t1 = now_ms();
    snprintf(path, sizeof(path), "/v1.44/containers/%s/start", cid);
    if (request(c, "POST", path, NULL, &ans, "\r\n\r\n") < 0 || !strstr(ans.data, " 204 "))
        return -1;
    double t2 = now_ms();
    if (read_until(w, &wans, "StatusCode") < 0)
        return -1;
    double t3 = now_ms();
    if (getenv("APIRUN_SPLIT"))
        fprintf(stderr, "create+wait %.2f start %.2f exit %.2f\n", t1 - t0, t2 - t1, t3 - t2);
    return t3 - t0;
}

static void
json_cmd(struct mc_buf *b, char **cmd)
{
    mc_buf_puts(b, "[");
    for (int i = 0; cmd[i]; i++)
        mc_buf_printf(b, "%s\"%s\"", i ? "," : "", cmd[i]);
    mc_buf_puts(b, "]");
}

int
main(int argc, char **argv)
{
    int n;
    if (argc < 6 || mc_parse_int(argv[4], &n) < 0 || n < 1) {
        fprintf(stderr, "usage: apirun SOCKET IMAGE NETWORK N CMD...\n");
        return 2;
    }
    _cleanup_buf_ struct mc_buf body = MC_BUF_INIT;
    mc_buf_printf(&body, "{\"Image\":\"%s\",\"Cmd\":", argv[2]);
    json_cmd(&body, argv + 5);
    mc_buf_printf(&body, ",\"HostConfig\":{\"AutoRemove\":true,\"NetworkMode\":\"%s\"}}", argv[3]);
    for (int i = 0; i < n; i++) {
        double t = one_run(argv[1], body.data);
        if (t < 0) {
            fprintf(stderr, "apirun: run %d failed\n", i);
            return 1;
        }
        printf("%.3f\n", t);
    }
    return 0;
}
