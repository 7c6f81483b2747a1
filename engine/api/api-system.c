/* System routes: /_ping, /version, /info, and JSON 404s for the object kinds machined does not
 * have (networks, volumes, plugins) so that `docker inspect` falls through. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "api-handler.h"
#include "crypto.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

#ifndef MC_GIT_COMMIT
#define MC_GIT_COMMIT ""
#endif

static struct {
    char *version_json; /* GET /version, built once: the route never forks or reads files */
    size_t version_len;
    char *engine_id;
    char *os_name;
    char kernel[sizeof(((struct utsname *)0)->release)];
    char machine[sizeof(((struct utsname *)0)->machine)];
} sys;

static const char *
go_arch(const char *m)
{
    if (streq(m, "x86_64"))
        return "amd64";
    if (streq(m, "aarch64"))
        return "arm64";
    if (streq(m, "armv7l"))
        return "arm";
    if (streq(m, "i686") || streq(m, "i386"))
        return "386";
    return m;
}

/* PRETTY_NAME of /etc/os-release, or "Linux". */
static char *
read_os_name(void)
{
    _cleanup_free_ char *data = NULL;
    if (mc_read_file("/etc/os-release", 64 * 1024, &data, NULL, NULL) < 0)
        return xstrdup("Linux");
    for (char *line = data; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        const char *v = startswith(line, "PRETTY_NAME=");
        if (v) {
            size_t n = strlen(v);
            if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
                return xstrndup(v + 1, n - 2);
            return xstrdup(v);
        }
        line = nl ? nl + 1 : NULL;
    }
    return xstrdup("Linux");
}

/* A stable engine ID (UUID form), kept in <data-root>/engine-id. */
static char *
load_engine_id(const char *data_root, struct mc_error **err)
{
    _cleanup_free_ char *path = mc_path_join(data_root, "engine-id");
    _cleanup_free_ char *data = NULL;
    if (mc_read_file(path, 256, &data, NULL, NULL) == 0) {
        data[strcspn(data, "\r\n")] = '\0';
        if (strlen(data) == 36)
            return TAKE_PTR(data);
    }
    uint8_t b[16];
    mc_random_bytes(b, sizeof(b));
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    char hex[33];
    mc_hex_encode(b, sizeof(b), hex);
    char *id = xasprintf("%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
    _cleanup_free_ char *line = xasprintf("%s\n", id);
    if (mc_write_file_atomic(path, line, strlen(line), 0644, err) < 0) {
        free(id);
        return NULL;
    }
    return id;
}

static json_t *
version_object(void)
{
    const char *arch = go_arch(sys.machine);
    json_t *details = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "ApiVersion", ENG_API_VERSION,
                                "Arch", arch, "BuildTime", __DATE__ " " __TIME__, "Experimental",
                                "false", "GitCommit", MC_GIT_COMMIT, "KernelVersion", sys.kernel,
                                "MinAPIVersion", ENG_API_MIN_VERSION, "Os", "linux");
    return json_pack("{s:{s:s},s:[{s:s,s:s,s:o}],s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "Platform",
                     "Name", "machined", "Components", "Name", "Engine", "Version", MC_VERSION,
                     "Details", details, "Version", MC_VERSION, "ApiVersion", ENG_API_VERSION,
                     "MinAPIVersion", ENG_API_MIN_VERSION, "GitCommit", MC_GIT_COMMIT, "GoVersion",
                     "", "Os", "linux", "Arch", arch, "KernelVersion", sys.kernel, "BuildTime",
                     __DATE__ " " __TIME__);
}

static int
system_init(struct eng_daemon *d, struct mc_error **err)
{
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(sys.kernel, sizeof(sys.kernel), "%s", u.release);
        snprintf(sys.machine, sizeof(sys.machine), "%s", u.machine);
    }
    free(sys.os_name);
    sys.os_name = read_os_name();
    free(sys.engine_id);
    sys.engine_id = load_engine_id(d->data_root, err);
    if (!sys.engine_id)
        return -1;
    _cleanup_json_ json_t *v = version_object();
    free(sys.version_json);
    sys.version_json = mc_json_dumps(v, false);
    sys.version_len = strlen(sys.version_json);
    sys.version_json = xrealloc(sys.version_json, sys.version_len + 2);
    sys.version_json[sys.version_len++] = '\n';
    sys.version_json[sys.version_len] = '\0';
    return 0;
}

static int
h_ping(struct eng_request *req, struct mc_error **err)
{
    static const char extra[] = "Builder-Version: 1\r\n"
                                "Cache-Control: no-cache, no-store, must-revalidate\r\n"
                                "Pragma: no-cache\r\n"
                                "Swarm: inactive\r\n";
    bool head = streq(eng_req_method(req), "HEAD");
    return eng_resp_raw_with(req, 200, "text/plain; charset=utf-8", extra, "OK", head ? 0 : 2);
}

static int
h_version(struct eng_request *req, struct mc_error **err)
{
    if (!sys.version_json)
        return mc_error_set(err, MC_ERR_FAILED, "The engine is not initialised.");
    return eng_resp_raw(req, 200, "application/json", sys.version_json, sys.version_len);
}

static const char *
cgroup_version(void)
{
    struct stat st;
    return stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0 ? "2" : "1";
}

static json_t *
info_base(const struct eng_daemon *d)
{
    struct sysinfo si = { 0 };
    sysinfo(&si);
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    char now[64];
    mc_format_rfc3339(mc_realtime_ns(), true, now, sizeof(now));
    json_t *plugins = json_pack("{s:[],s:[s,s],s:n,s:[s]}", "Volume", "Network", "host", "null",
                                "Authorization", "Log", "json-file");
    json_t *swarm =
            json_pack("{s:s,s:s,s:s,s:b,s:s,s:n}", "NodeID", "", "NodeAddr", "", "LocalNodeState",
                      "inactive", "ControlAvailable", 0, "Error", "", "RemoteManagers");
    json_t *registry = json_pack("{s:{},s:[s],s:[]}", "IndexConfigs", "InsecureRegistryCIDRs",
                                 "127.0.0.0/8", "Mirrors");
    json_t *info = json_pack(
            "{s:s,s:i,s:i,s:i,s:i,s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:I,s:s,s:s,s:s,"
            "s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:o,s:o,s:o,s:s,s:s,s:[s],s:b,s:o,s:[],s:b,s:s}",
            "ID", sys.engine_id ? sys.engine_id : "", "Containers", 0, "ContainersRunning", 0,
            "ContainersPaused", 0, "ContainersStopped", 0, "Images", 0, "Driver", "",
            "LoggingDriver", "json-file", "CgroupDriver", "cgroupfs", "CgroupVersion",
            cgroup_version(), "KernelVersion", sys.kernel, "OperatingSystem",
            sys.os_name ? sys.os_name : "Linux", "OSType", "linux", "Architecture", sys.machine,
            "IndexServerAddress", "https://index.docker.io/v1/", "NCPU",
            (int)sysconf(_SC_NPROCESSORS_ONLN), "MemTotal", (json_int_t)si.totalram * si.mem_unit,
            "Name", host, "DockerRootDir", d->data_root, "ServerVersion", MC_VERSION, "MemoryLimit",
            1, "SwapLimit", 0, "CpuCfsPeriod", 1, "CpuCfsQuota", 1, "CPUShares", 1, "CPUSet", 0,
            "PidsLimit", 1, "Debug", 0, "Plugins", plugins, "Swarm", swarm, "RegistryConfig",
            registry, "SystemTime", now, "DefaultRuntime", "machined", "SecurityOptions",
            "name=seccomp,profile=builtin", "LiveRestoreEnabled", 0, "Labels",
            mc_json_from_strv(d->config ? d->config->labels : NULL), "Warnings",
            "ExperimentalBuild", 0, "Isolation", "");
    json_object_set_new(info, "Runtimes", json_pack("{s:{s:s}}", "machined", "path", "machined"));
    return info;
}

static int
h_info(struct eng_request *req, struct mc_error **err)
{
    const struct eng_daemon *d = eng_req_daemon(req);
    json_t *info = info_base(d);
    for (size_t i = 0; d->modules && d->modules[i]; i++)
        if (d->modules[i]->info)
            d->modules[i]->info(info);
    return eng_resp_json_take(req, 200, info);
}

static int
h_network(struct eng_request *req, struct mc_error **err)
{
    return mc_error_set(err, MC_ERR_NOT_FOUND, "network %s not found", eng_req_param(req, "id"));
}

static int
h_volume(struct eng_request *req, struct mc_error **err)
{
    return mc_error_set(err, MC_ERR_NOT_FOUND, "get %s: no such volume",
                        eng_req_param(req, "name"));
}

static int
h_plugin(struct eng_request *req, struct mc_error **err)
{
    return mc_error_set(err, MC_ERR_NOT_FOUND, "plugin \"%s\" not found",
                        eng_req_param(req, "name"));
}

static const struct eng_route system_routes[] = {
    { "GET", "/_ping", h_ping },
    { "HEAD", "/_ping", h_ping },
    { "GET", "/version", h_version },
    { "GET", "/info", h_info },
    { "GET", "/networks/{id}", h_network },
    { "GET", "/volumes/{name}", h_volume },
    { "GET", "/plugins/{name*}/json", h_plugin },
};

const struct eng_module eng_system_module = {
    .name = "system",
    .init = system_init,
    .routes = system_routes,
    .n_routes = ELEMENTSOF(system_routes),
};
