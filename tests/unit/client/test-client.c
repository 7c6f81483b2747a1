/* The client core: configuration from DOCKER_* variables (pure), the /version parser, and
 * requests over a unix socket to a peer in this process: answers, an engine error, and a peer
 * that never answers (bounded by the timeout). */
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "fs.h"
#include "tap.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

static const char *const *env_table;

static const char *
table_env(const char *name)
{
    for (size_t i = 0; env_table && env_table[i]; i += 2)
        if (streq(env_table[i], name))
            return env_table[i + 1];
    return NULL;
}

static void
test_config(void)
{
    struct client_config c = { 0 };
    _cleanup_error_ struct mc_error *err = NULL;
    env_table = (const char *const[]){ "HOME", "/home/u", NULL };
    ok(client_config_from_env(table_env, &c, &err) == 0, "no variables");
    is_str(c.host, CLIENT_DEFAULT_HOST, "the default socket");
    ok(!c.tls && !c.tls_verify, "no TLS");
    client_config_clear(&c);

    env_table = (const char *const[]){
        "DOCKER_HOST", "tcp://192.0.2.10:2376", "DOCKER_TLS_VERIFY", "1", "HOME", "/home/u", NULL
    };
    ok(client_config_from_env(table_env, &c, &err) == 0, "tcp with TLS verification");
    ok(c.tls && c.tls_verify, "TLS on");
    is_str(c.cert_path, "/home/u/.docker", "certificates default to ~/.docker");
    client_config_clear(&c);

    env_table = (const char *const[]){ "DOCKER_HOST",
                                       "tcp://h:1",
                                       "DOCKER_TLS_VERIFY",
                                       "0",
                                       "DOCKER_CERT_PATH",
                                       "/c",
                                       "DOCKER_API_VERSION",
                                       "1.41",
                                       NULL };
    ok(client_config_from_env(table_env, &c, &err) == 0 && c.tls && c.tls_verify,
       "DOCKER_TLS_VERIFY=0 still verifies, as the docker CLI does");
    is_str(c.cert_path, "/c", "DOCKER_CERT_PATH");
    is_str(c.api_version, "1.41", "DOCKER_API_VERSION");
    client_config_clear(&c);

    env_table = (const char *const[]){ "DOCKER_HOST", "tcp://h:1", "DOCKER_TLS", "1", NULL };
    ok(client_config_from_env(table_env, &c, &err) == 0 && c.tls && !c.tls_verify,
       "DOCKER_TLS=1: TLS without verification");
    client_config_clear(&c);

    env_table = (const char *const[]){ "DOCKER_HOST", "192.0.2.1", NULL };
    _cleanup_error_ struct mc_error *e2 = NULL;
    ok(client_config_from_env(table_env, &c, &e2) < 0 && strstr(e2->message, "DOCKER_HOST"),
       "a DOCKER_HOST that is no URL is an error naming it");
}

static void
test_version_parse(void)
{
    const char *body = "{\"Version\":\"0.1.0\",\"ApiVersion\":\"1.44\",\"MinAPIVersion\":\"1.24\","
                       "\"Os\":\"linux\",\"Arch\":\"amd64\",\"KernelVersion\":\"6.1\"}";
    struct client_version v = { 0 };
    _cleanup_error_ struct mc_error *err = NULL, *e2 = NULL;
    ok(client_version_parse(body, strlen(body), &v, &err) == 0, "parses /version");
    is_str(v.version, "0.1.0", "Version");
    is_str(v.api_version, "1.44", "ApiVersion");
    is_str(v.min_api_version, "1.24", "MinAPIVersion");
    client_version_clear(&v);
    ok(client_version_parse("{}", 2, &v, &e2) < 0 && e2->code == MC_ERR_INVALID,
       "an answer without Version is invalid");
}

/* ---- a peer on a unix socket ---- */

struct peer {
    int fd;
    bool silent;
    char request[1024];
};

static void *
peer_main(void *arg)
{
    struct peer *p = arg;
    for (;;) {
        int c = accept(p->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        ssize_t n = read(c, p->request, sizeof(p->request) - 1);
        p->request[n > 0 ? n : 0] = '\0';
        if (p->silent) {
            sleep(30); /* holds the connection and never answers */
            close(c);
            continue;
        }
        const char *status = "404 Not Found", *body = "{\"message\":\"page not found\"}";
        if (strstr(p->request, "GET /_ping ")) {
            status = "200 OK";
            body = "OK";
        } else if (strstr(p->request, "GET /v1.44/version ") ||
                   strstr(p->request, "GET /version ")) {
            status = "200 OK";
            body = "{\"Version\":\"7.7.7\",\"ApiVersion\":\"1.44\"}";
        }
        _cleanup_free_ char *answer = xasprintf("HTTP/1.1 %s\r\nContent-Length: %zu\r\n\r\n%s",
                                                status, strlen(body), body);
        (void)!write(c, answer, strlen(answer));
        close(c);
    }
}

static int
listen_unix(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0)
        tap_bail("cannot listen on '%s'", path);
    return fd;
}

static struct client *
client_for(const char *sock, const char *api)
{
    _cleanup_free_ char *url = xasprintf("unix://%s", sock);
    struct client_config cfg = { .host = url, .api_version = (char *)api };
    _cleanup_error_ struct mc_error *err = NULL;
    struct client *c = client_new(&cfg, &err);
    if (!c)
        tap_bail("client_new: %s", err->message);
    return c;
}

static void
test_requests(const char *tmp)
{
    _cleanup_free_ char *sock = mc_path_join(tmp, "engine.sock");
    static struct peer p;
    p.fd = listen_unix(sock);
    pthread_t t;
    pthread_create(&t, NULL, peer_main, &p);
    pthread_detach(t);

    _cleanup_client_ struct client *c = client_for(sock, NULL);
    _cleanup_error_ struct mc_error *e1 = NULL, *e2 = NULL, *e3 = NULL;
    ok(client_ping(c, 5000, &e1) == 0, "ping over a unix socket");
    struct client_version v = { 0 };
    ok(client_version(c, 5000, &v, &e1) == 0 && streq(v.version, "7.7.7"), "GET /version");
    client_version_clear(&v);
    _cleanup_client_ struct client *cv = client_for(sock, "1.44");
    ok(client_version(cv, 5000, &v, &e2) == 0, "with an API version the path is /v1.44/version");
    client_version_clear(&v);
    struct client_request req = { .method = "GET", .path = "/nope", .timeout_ms = 5000 };
    struct client_response r = { 0 };
    ok(client_request(c, &req, &r, &e3) == 0 && r.status == 404, "any status is an answer");
    ok(r.body && strstr(r.body, "page not found"), "with its body");
    client_response_clear(&r);

    p.silent = true;
    _cleanup_error_ struct mc_error *e4 = NULL;
    int64_t t0 = mc_now_ms();
    ok(client_version(c, 300, &v, &e4) < 0 && e4->code == MC_ERR_TIMEOUT,
       "a peer that never answers is a timeout");
    int64_t took = mc_now_ms() - t0;
    ok(took >= 250 && took < 2000, "bounded by the timeout (%lld ms)", (long long)took);
    ok(e4 && strstr(e4->message, "did not answer within 300 ms"), "saying so: %s",
       e4 ? e4->message : "");

    _cleanup_free_ char *gone = mc_path_join(tmp, "nobody.sock");
    _cleanup_client_ struct client *c2 = client_for(gone, NULL);
    _cleanup_error_ struct mc_error *e5 = NULL;
    ok(client_ping(c2, 1000, &e5) < 0 && e5->code == MC_ERR_IO &&
               strstr(e5->message, "cannot reach the engine"),
       "no engine: an I/O error naming the engine");
}

int
main(void)
{
    client_global_init();
    test_config();
    test_version_parse();
    test_requests(tap_tmpdir());
    return tap_done();
}
