/* The JSON answers: container inspect, the list's summaries, exec inspect. */
#include <string.h>

#include "api-events.h"
#include "ctr-internal.h"
#include "fs.h"
#include "images.h"
#include "json.h"
#include "strv.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

void
ctr_event_locked(const struct eng_ctr *c, const char *action, json_t *extra)
{
    json_t *attrs = json_object();
    const char *key;
    json_t *v;
    json_object_foreach (json_object_get(c->config, "Labels"), key, v)
        if (json_is_string(v))
            json_object_set(attrs, key, v);
    json_object_set_new(attrs, "image", json_string(c->image ? c->image : ""));
    json_object_set_new(attrs, "name", json_string(c->name[0] == '/' ? c->name + 1 : c->name));
    if (extra)
        json_object_update(attrs, extra);
    json_decref(extra);
    eng_event("container", action, c->id, attrs);
}

json_t *
ctr_time_json(int64_t ns)
{
    char buf[64];
    if (ns == 0)
        return json_string("0001-01-01T00:00:00Z");
    return json_string(mc_format_rfc3339(ns, true, buf, sizeof(buf)));
}

static json_t *
state_json(const struct eng_ctr *c)
{
    bool running = c->state == ENG_CTR_RUNNING || c->state == ENG_CTR_PAUSED ||
                   c->state == ENG_CTR_RESTARTING;
    return json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:o, s:o}", "Status",
                     eng_ctr_state_name(c->state), "Running", running, "Paused",
                     c->state == ENG_CTR_PAUSED, "Restarting", c->state == ENG_CTR_RESTARTING,
                     "OOMKilled", c->oom_killed, "Dead", c->state == ENG_CTR_DEAD, "Pid", c->pid,
                     "ExitCode", c->exit_code, "Error", c->error ? c->error : "", "StartedAt",
                     ctr_time_json(c->started_ns), "FinishedAt", ctr_time_json(c->finished_ns));
}

static json_t *
mounts_json(const struct eng_ctr *c)
{
    json_t *arr = json_array();
    struct eng_ctr_bind *b = NULL;
    size_t n = 0;
    if (eng_ctr_binds_parse(json_object_get(c->host_config, "Binds"), &b, &n, NULL) < 0)
        return arr;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "bind",
                                             "Source", b[i].source, "Destination", b[i].destination,
                                             "Mode", b[i].mode, "RW", !b[i].readonly, "Propagation",
                                             "rprivate"));
    eng_ctr_binds_free(b, n);
    return arr;
}

static const char *
network_name(const struct eng_ctr *c)
{
    const char *m = mc_json_str(c->host_config, "NetworkMode");
    if (isempty(m) || streq(m, "default"))
        return "bridge";
    return m;
}

static json_t *
network_json(const struct eng_ctr *c)
{
    json_t *networks = json_object();
    /* No endpoint: the bridge does not exist yet, and none/host have no address of ours. */
    json_object_set_new(networks, network_name(c),
                        json_pack("{s:n, s:n, s:n, s:s, s:s, s:s, s:i, s:s, s:s}", "IPAMConfig",
                                  "Links", "Aliases", "NetworkID", "", "EndpointID", "", "Gateway",
                                  "", "IPPrefixLen", 0, "IPAddress", "", "MacAddress", ""));
    return json_pack("{s:s, s:s, s:b, s:o, s:s, s:s, s:s, s:s, s:i, s:o}", "Bridge", "",
                     "SandboxID", "", "HairpinMode", false, "Ports", json_object(), "SandboxKey",
                     "", "Gateway", "", "IPAddress", "", "MacAddress", "", "IPPrefixLen", 0,
                     "Networks", networks);
}

static json_t *
exec_ids_json(const struct eng_ctr *c)
{
    if (c->nexecs == 0)
        return json_null();
    json_t *arr = json_array();
    for (size_t i = 0; i < c->nexecs; i++)
        json_array_append_new(arr, json_string(c->execs[i]->id));
    return arr;
}

static json_t *
graph_driver_json(const struct eng_ctr *c)
{
    bool overlay = eng_images_overlay();
    json_t *data = json_object();
    if (overlay) {
        _cleanup_free_ char *upper = mc_path_join(c->dir, "upper");
        _cleanup_free_ char *merged = mc_path_join(c->dir, "merged");
        _cleanup_free_ char *work = mc_path_join(c->dir, "work");
        json_object_set_new(data, "UpperDir", json_string(upper));
        json_object_set_new(data, "MergedDir", json_string(merged));
        json_object_set_new(data, "WorkDir", json_string(work));
    }
    return json_pack("{s:o, s:s}", "Data", data, "Name", overlay ? "overlay2" : "vfs");
}

static char *
etc_path(const struct eng_ctr *c, const char *name)
{
    return mc_path_join(c->dir, name);
}

json_t *
ctr_inspect_json_locked(const struct eng_ctr *c)
{
    _cleanup_free_ char *hostname = etc_path(c, "hostname");
    _cleanup_free_ char *hosts = etc_path(c, "hosts");
    _cleanup_free_ char *resolv = etc_path(c, "resolv.conf");
    json_t *j =
            json_pack("{s:s, s:o, s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "Id", c->id,
                      "Created", ctr_time_json(c->created_ns), "Path", c->path, "Args",
                      mc_json_from_strv(c->args), "State", state_json(c), "Image", c->image_id,
                      "ResolvConfPath", resolv, "HostnamePath", hostname, "HostsPath", hosts,
                      "LogPath", c->log_path, "Name", c->name, "RestartCount", c->restart_count);
    json_object_set_new(j, "Driver", json_string(eng_images_overlay() ? "overlay2" : "vfs"));
    json_object_set_new(j, "Platform", json_string("linux"));
    json_object_set_new(j, "MountLabel", json_string(""));
    json_object_set_new(j, "ProcessLabel", json_string(""));
    json_object_set_new(j, "AppArmorProfile", json_string(""));
    json_object_set_new(j, "ExecIDs", exec_ids_json(c));
    json_object_set(j, "HostConfig", c->host_config);
    json_object_set_new(j, "GraphDriver", graph_driver_json(c));
    json_object_set_new(j, "Mounts", mounts_json(c));
    json_object_set(j, "Config", c->config);
    json_object_set_new(j, "NetworkSettings", network_json(c));
    return j;
}

/* dockerd's Command column: the path, then the arguments, those with a space in quotes. */
static char *
command_text(const struct eng_ctr *c)
{
    _cleanup_strv_ char **all = strv_new();
    strv_add(&all, c->path);
    STRV_FOREACH (a, c->args)
        strv_push(&all, strchr(*a, ' ') ? xasprintf("'%s'", *a) : xstrdup(*a));
    return strv_join(all, " ");
}

/* Appends "s" escaped, with its quotes. */
static void
put_json_string(struct mc_buf *b, const char *s, size_t n)
{
    mc_buf_putc(b, '"');
    eng_ctr_json_escape(b, s, n);
    mc_buf_putc(b, '"');
}

/* Appends ,"key":"value" (or without the comma for the first member). */
static void
put_str(struct mc_buf *b, const char *key, const char *val, bool comma)
{
    if (comma)
        mc_buf_putc(b, ',');
    mc_buf_putc(b, '"');
    mc_buf_puts(b, key);
    mc_buf_append(b, "\":", 2);
    put_json_string(b, val ? val : "", val ? strlen(val) : 0);
}

static void
put_labels(struct mc_buf *b, const json_t *labels)
{
    mc_buf_puts(b, ",\"Labels\":{");
    const char *k;
    json_t *v;
    bool first = true;
    json_object_foreach ((json_t *)labels, k, v) {
        if (!json_is_string(v))
            continue;
        if (!first)
            mc_buf_putc(b, ',');
        put_json_string(b, k, strlen(k));
        mc_buf_putc(b, ':');
        put_json_string(b, json_string_value(v), json_string_length(v));
        first = false;
    }
    mc_buf_putc(b, '}');
}

static void
put_mounts(struct mc_buf *b, const struct eng_ctr *c)
{
    mc_buf_puts(b, ",\"Mounts\":");
    if (json_array_size(json_object_get(c->host_config, "Binds")) == 0) {
        mc_buf_puts(b, "[]");
        return;
    }
    _cleanup_json_ json_t *m = mounts_json(c);
    _cleanup_free_ char *s = mc_json_dumps(m, false);
    mc_buf_puts(b, s);
}

/* The list's summary of c written straight as JSON text (no jansson tree: GET /containers/json
 * with many containers is mostly this). */
void
ctr_summary_write_locked(struct mc_buf *b, const struct eng_ctr *c, int64_t now_ns)
{
    struct eng_ctr_state_info st = { c->state, c->exit_code, c->started_ns, c->finished_ns };
    _cleanup_free_ char *status = eng_ctr_status_text(&st, now_ns);
    _cleanup_free_ char *cmd = command_text(c);
    const char *net = network_name(c);
    put_str(b, "Id", c->id, false);
    mc_buf_puts(b, ",\"Names\":[");
    put_json_string(b, c->name, strlen(c->name));
    mc_buf_putc(b, ']');
    put_str(b, "Image", c->image, true);
    put_str(b, "ImageID", c->image_id, true);
    put_str(b, "Command", cmd, true);
    mc_buf_printf(b, ",\"Created\":%lld,\"Ports\":[]", (long long)(c->created_ns / 1000000000));
    put_labels(b, json_object_get(c->config, "Labels"));
    put_str(b, "State", eng_ctr_state_name(c->state), true);
    put_str(b, "Status", status, true);
    mc_buf_puts(b, ",\"HostConfig\":{");
    put_str(b, "NetworkMode", net, false);
    mc_buf_puts(b, "},\"NetworkSettings\":{\"Networks\":{");
    put_json_string(b, net, strlen(net));
    mc_buf_puts(b, ":{\"NetworkID\":\"\",\"IPAddress\":\"\"}}}");
    put_mounts(b, c);
}

json_t *
ctr_exec_inspect_json_locked(const struct eng_ctr_exec *e)
{
    const json_t *cfg = e->config;
    _cleanup_strv_ char **cmd = mc_json_to_strv(json_object_get(cfg, "Cmd"));
    json_t *args = mc_json_from_strv(cmd[0] ? cmd + 1 : cmd);
    const char *user = mc_json_str(cfg, "User");
    return json_pack("{s:s, s:b, s:o, s:{s:b, s:s, s:o, s:b, s:s}, s:b, s:b, s:b, s:b, s:s, "
                     "s:s, s:i}",
                     "ID", e->id, "Running", e->running, "ExitCode",
                     e->exited ? json_integer(e->exit_code) : json_null(), "ProcessConfig", "tty",
                     e->tty, "entrypoint", cmd[0] ? cmd[0] : "", "arguments", args, "privileged",
                     mc_json_bool(cfg, "Privileged", false), "user", user ? user : "", "OpenStdin",
                     mc_json_bool(cfg, "AttachStdin", false), "OpenStderr",
                     mc_json_bool(cfg, "AttachStderr", false), "OpenStdout",
                     mc_json_bool(cfg, "AttachStdout", false), "CanRemove", false, "ContainerID",
                     e->ctr ? e->ctr->id : "", "DetachKeys", "", "Pid", e->pid);
}

void
ctr_view_locked(const struct eng_ctr *c, struct eng_ctr_view *v)
{
    *v = (struct eng_ctr_view){
        .id = c->id,
        .name = c->name,
        .image = c->image,
        .image_id = c->image_id,
        .labels = json_object_get(c->config, "Labels"),
        .state = { c->state, c->exit_code, c->started_ns, c->finished_ns },
        .created_ns = c->created_ns,
    };
}
