/* Docker Engine API routes that machined does not implement (yet): networks, volumes, build,
 * swarm, ... Each answers at once 501 with a JSON message naming what is missing and,
 * where there is one, what to use instead, so that `docker network ls` or `docker build` ends
 * with a clear error instead of dockerd's bare "page not found" (or a hang). Where the true
 * answer needs no feature (there are no volumes to list, no networks or build cache to prune),
 * it is given, so `docker volume ls` and `docker system prune` work.
 *
 * This module comes last in engine/modules.c: a module that implements one of these routes (and
 * the 404s of api-system.c that `docker inspect` relies on) takes precedence. Paths outside the
 * Docker API stay 404 "page not found", as in dockerd. */
#include <string.h>

#include "api-handler.h"
#include "util.h"

/* What is missing, by the path's first segments (or, under /containers/{id}/, the segments
 * after the id). */
static const struct {
    const char *key;
    const char *message;
} features[] = {
    { "networks", "Networks are not implemented by machined yet: containers use --network none, "
                  "host or default (loopback only until the bridge network exists)." },
    { "volumes", "Named volumes are not implemented by machined yet: bind a host folder with "
                 "-v /host/path:/container/path instead." },
    { "system/df", "Disk usage reports (docker system df) are not implemented by machined yet." },
    { "build", "Building images is not implemented by machined yet: docker import a root "
               "filesystem tar, or docker load a saved image." },
    { "session", "BuildKit is not supported by machined (set DOCKER_BUILDKIT=0); building "
                 "images is not implemented yet either." },
    { "grpc", "BuildKit is not supported by machined (set DOCKER_BUILDKIT=0); building images "
              "is not implemented yet either." },
    { "commit", "Committing a container to an image is not implemented by machined yet." },
    { "auth", "Registry logins are not implemented by machined yet: it does not pull or push, "
              "so copy images with docker save and docker load." },
    { "images/search", "Searching a registry is not implemented by machined yet." },
    { "distribution", "Registry access is not implemented by machined yet: copy images with "
                      "docker save and docker load." },
    { "plugins", "Plugins are not supported by machined." },
    { "swarm", "Swarm mode is not supported by machined." },
    { "nodes", "Swarm mode is not supported by machined." },
    { "services", "Swarm mode is not supported by machined." },
    { "tasks", "Swarm mode is not supported by machined." },
    { "secrets", "Swarm mode is not supported by machined." },
    { "configs", "Swarm mode is not supported by machined." },
    { "changes", "Listing a container's changes (docker diff) is not implemented by machined "
                 "yet." },
    { "export", "Exporting a container's file system is not implemented by machined yet." },
    { "archive", "Copying files to or from a container (docker cp) is not implemented by "
                 "machined yet: bind a host folder with -v, or pipe through docker exec -i." },
    { "update", "Changing a running container's limits (docker update) is not implemented by "
                "machined yet." },
    { "attach/ws", "Attaching over a WebSocket is not supported by machined: use "
                   "POST /containers/{id}/attach." },
};

/* The key of features[] that path falls under: its start, or under /containers/{id}/ what
 * follows the id. */
static const char *
feature_key(const char *path)
{
    const char *rest = startswith(path, "/containers/");
    if (rest) {
        const char *slash = strchr(rest, '/');
        return slash ? slash + 1 : "";
    }
    return path[0] == '/' ? path + 1 : path;
}

/* Reads and drops the request body (at most 1 GiB): a client still sending one (docker build's
 * context) when the answer comes and the connection closes reports the broken pipe instead of
 * the answer. */
static void
discard_body(struct eng_request *req)
{
    char buf[16384];
    size_t total = 0;
    while (total < ((size_t)1 << 30)) {
        struct mc_error *e = NULL;
        ssize_t n = eng_req_read(req, buf, sizeof(buf), &e);
        mc_error_free(e);
        if (n <= 0)
            return;
        total += (size_t)n;
    }
}

static int
h_unsupported(struct eng_request *req, struct mc_error **err)
{
    discard_body(req);
    const char *key = feature_key(eng_req_path(req));
    for (size_t i = 0; i < ELEMENTSOF(features); i++) {
        const char *after = startswith(key, features[i].key);
        if (after && (*after == '\0' || *after == '/'))
            return mc_error_set(err, MC_ERR_UNSUPPORTED, "%s", features[i].message);
    }
    return mc_error_set(err, MC_ERR_UNSUPPORTED, "'%s %s' is not implemented by machined.",
                        eng_req_method(req), eng_req_path(req));
}

/* machined has no volumes, user networks or build cache: these lists are empty. */
static int
h_volumes_list(struct eng_request *req, struct mc_error **err)
{
    return eng_resp_json_take(req, 200, json_pack("{s:[],s:[]}", "Volumes", "Warnings"));
}

static int
h_volumes_prune(struct eng_request *req, struct mc_error **err)
{
    return eng_resp_json_take(req, 200,
                              json_pack("{s:[],s:i}", "VolumesDeleted", "SpaceReclaimed", 0));
}

static int
h_networks_prune(struct eng_request *req, struct mc_error **err)
{
    return eng_resp_json_take(req, 200, json_pack("{s:[]}", "NetworksDeleted"));
}

static int
h_build_prune(struct eng_request *req, struct mc_error **err)
{
    return eng_resp_json_take(req, 200,
                              json_pack("{s:[],s:i}", "CachesDeleted", "SpaceReclaimed", 0));
}

/* Any method; the handler reads the body itself (and drops it). */
#define UNSUPPORTED(pattern)                               \
    {                                                      \
        "*", pattern, h_unsupported, ENG_ROUTE_STREAM_BODY \
    }

static const struct eng_route routes[] = {
    { "GET", "/volumes", h_volumes_list },
    { "POST", "/volumes/prune", h_volumes_prune },
    { "POST", "/networks/prune", h_networks_prune },
    { "POST", "/build/prune", h_build_prune },
    UNSUPPORTED("/networks"),
    UNSUPPORTED("/networks/{rest*}"),
    UNSUPPORTED("/volumes"),
    UNSUPPORTED("/volumes/{rest*}"),
    UNSUPPORTED("/system/df"),
    UNSUPPORTED("/build"),
    UNSUPPORTED("/build/{rest*}"),
    UNSUPPORTED("/session"),
    UNSUPPORTED("/grpc"),
    UNSUPPORTED("/commit"),
    UNSUPPORTED("/auth"),
    UNSUPPORTED("/images/search"),
    UNSUPPORTED("/distribution/{rest*}"),
    UNSUPPORTED("/plugins"),
    UNSUPPORTED("/plugins/{rest*}"),
    UNSUPPORTED("/swarm"),
    UNSUPPORTED("/swarm/{rest*}"),
    UNSUPPORTED("/nodes"),
    UNSUPPORTED("/nodes/{rest*}"),
    UNSUPPORTED("/services"),
    UNSUPPORTED("/services/{rest*}"),
    UNSUPPORTED("/tasks"),
    UNSUPPORTED("/tasks/{rest*}"),
    UNSUPPORTED("/secrets"),
    UNSUPPORTED("/secrets/{rest*}"),
    UNSUPPORTED("/configs"),
    UNSUPPORTED("/configs/{rest*}"),
    UNSUPPORTED("/containers/{id}/changes"),
    UNSUPPORTED("/containers/{id}/export"),
    UNSUPPORTED("/containers/{id}/archive"),
    UNSUPPORTED("/containers/{id}/update"),
    UNSUPPORTED("/containers/{id}/attach/ws"),
};

const struct eng_module eng_unsupported_module = {
    .name = "unsupported",
    .routes = routes,
    .n_routes = ELEMENTSOF(routes),
};
