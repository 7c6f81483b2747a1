/* The /containers and /exec routes that answer at once; the long ones (wait, attach, logs, exec
 * start) are in ctr-stream.c. Handlers turn requests into ctr_*() calls and never touch
 * sockets. */
#include <string.h>

#include "api-handler.h"
#include "ctr-internal.h"
#include "ctr-routes.h"
#include "json.h"
#include "log.h"
#include "strbuf.h"
#include "strv.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

static int
h_create(struct eng_request *req, struct mc_error **err)
{
    _cleanup_json_ json_t *body = eng_req_body_json(req, err);
    if (!body)
        return -1;
    if (!json_is_object(body))
        return mc_error_set(err, MC_ERR_INVALID, "The create body must be a JSON object.");
    _cleanup_free_ char *warning = NULL;
    _cleanup_ctr_ struct eng_ctr *c = ctr_create(eng_req_query(req, "name"), body, &warning, err);
    if (!c)
        return -1;
    json_t *warnings = json_array();
    if (warning)
        json_array_append_new(warnings, json_string(warning));
    return eng_resp_json_take(req, 201, json_pack("{s:s, s:o}", "Id", c->id, "Warnings", warnings));
}

static bool
before_since_ok(const json_t *filters, const struct eng_ctr *c)
{
    const char *key;
    json_t *vals;
    json_object_foreach ((json_t *)filters, key, vals) {
        bool before = streq(key, "before");
        if (!before && !streq(key, "since"))
            continue;
        const char *ref;
        json_t *t;
        json_object_foreach (vals, ref, t) {
            struct eng_ctr *o = ctr_find_locked(ref, NULL);
            if (!o || (before ? c->created_ns >= o->created_ns : c->created_ns <= o->created_ns))
                return false;
        }
    }
    return true;
}

static int
check_before_since_locked(const json_t *filters, struct mc_error **err)
{
    static const char *const keys[] = { "before", "since" };
    for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
        const char *ref;
        json_t *t;
        json_object_foreach (json_object_get(filters, keys[i]), ref, t)
            if (!ctr_find_locked(ref, err))
                return -1;
    }
    return 0;
}

/* Newest first, as dockerd lists them. */
static int
by_created_desc(const void *a, const void *b)
{
    const struct eng_ctr *x = *(struct eng_ctr *const *)a, *y = *(struct eng_ctr *const *)b;
    return x->created_ns < y->created_ns ? 1 : x->created_ns > y->created_ns ? -1 : 0;
}

static void
list_locked(const json_t *filters, bool all, int64_t limit, struct mc_buf *out)
{
    struct eng_ctr **v = xcalloc(ctrs.n + 1, sizeof(*v));
    if (ctrs.n)
        memcpy(v, ctrs.v, ctrs.n * sizeof(*v));
    qsort(v, ctrs.n, sizeof(*v), by_created_desc);
    int64_t now = mc_realtime_ns(), listed = 0;
    bool status_filter = json_object_get(filters, "status") != NULL;
    mc_buf_reserve(out, ctrs.n * 640 + 4);
    mc_buf_putc(out, '[');
    for (size_t i = 0; i < ctrs.n && (limit <= 0 || listed < limit); i++) {
        struct eng_ctr *c = v[i];
        struct eng_ctr_view view;
        ctr_view_locked(c, &view);
        bool running = c->state == ENG_CTR_RUNNING || c->state == ENG_CTR_PAUSED ||
                       c->state == ENG_CTR_RESTARTING;
        /* limit implies all, like docker ps -n */
        if (!all && limit <= 0 && !status_filter && !running)
            continue;
        if (!eng_ctr_filters_match(filters, &view) || !before_since_ok(filters, c))
            continue;
        mc_buf_puts(out, listed++ ? ",{" : "{");
        ctr_summary_write_locked(out, c, now);
        mc_buf_putc(out, '}');
    }
    mc_buf_puts(out, "]\n");
    free(v);
}

static int
h_list(struct eng_request *req, struct mc_error **err)
{
    int64_t limit;
    if (eng_req_query_int(req, "limit", -1, &limit, err) < 0)
        return -1;
    _cleanup_json_ json_t *filters = eng_req_filters(req, err);
    if (!filters || eng_ctr_filters_check(filters, err) < 0)
        return -1;
    bool all = eng_req_query_bool(req, "all", false);
    _cleanup_buf_ struct mc_buf out = MC_BUF_INIT;
    pthread_mutex_lock(&ctrs.lock);
    int r = check_before_since_locked(filters, err);
    if (r == 0)
        list_locked(filters, all, limit, &out);
    pthread_mutex_unlock(&ctrs.lock);
    if (r < 0)
        return -1;
    return eng_resp_raw(req, 200, "application/json", out.data, out.len);
}

static int
h_inspect(struct eng_request *req, struct mc_error **err)
{
    _cleanup_ctr_ struct eng_ctr *c = ctr_get(eng_req_param(req, "id"), err);
    if (!c)
        return -1;
    pthread_mutex_lock(&ctrs.lock);
    json_t *j = ctr_inspect_json_locked(c);
    pthread_mutex_unlock(&ctrs.lock);
    return eng_resp_json_take(req, 200, j);
}

static int
h_start(struct eng_request *req, struct mc_error **err)
{
    _cleanup_ctr_ struct eng_ctr *c = ctr_get(eng_req_param(req, "id"), err);
    if (!c || ctr_start(c, err) < 0)
        return -1;
    return eng_resp_empty(req, 204);
}

static int
query_timeout(struct eng_request *req, int *ret, struct mc_error **err)
{
    int64_t t;
    if (eng_req_query_int(req, "t", -1, &t, err) < 0)
        return -1;
    *ret = t < -1 ? -1 : (int)t;
    return 0;
}

static int
h_stop(struct eng_request *req, struct mc_error **err)
{
    int t;
    if (query_timeout(req, &t, err) < 0)
        return -1;
    _cleanup_ctr_ struct eng_ctr *c = ctr_get(eng_req_param(req, "id"), err);
    if (!c || ctr_stop(c, t, eng_req_query(req, "signal"), err) < 0)
        return -1;
    return eng_resp_empty(req, 204);
}

static int
h_restart(struct eng_request *req, struct mc_error **err)
{
    int t;
    if (query_timeout(req, &t, err) < 0)
        return -1;
    _cleanup_ctr_ struct eng_ctr *c = ctr_get(eng_req_param(req, "id"), err);
    if (!c || ctr_restart(c, t, err) < 0)
        return -1;
    return eng_resp_empty(req, 204);
}

static int
h_kill(struct eng_request *req, struct mc_error **err)
{
    const char *ref = eng_req_param(req, "id");
    _cleanup_ctr_ struct eng_ctr *c = ctr_get(ref, err);
    if (!c)
        return -1;
    if (ctr_kill(c, eng_req_query(req, "signal"), err) < 0)
        return mc_error_prefix(err, "Cannot kill container: %s: ", ref);
    return eng_resp_empty(req, 204);
}

static int
h_pause(struct eng_request *req, struct mc_error **err)
{
    _cleanup_ctr_ struct eng_ctr *c = ctr_get(eng_req_param(req, "id"), err);
    if (!c || ctr_pause(c, endswith(eng_req_path(req), "/pause"), err) < 0)
        return -1;
    return eng_resp_empty(req, 204);
}

static int
h_rename(struct eng_request *req, struct mc_error **err)
{
    _cleanup_ctr_ struct eng_ctr *c = ctr_get(eng_req_param(req, "id"), err);
    if (!c || ctr_rename(c, eng_req_query(req, "name"), err) < 0)
        return -1;
    return eng_resp_empty(req, 204);
}

static int
h_delete(struct eng_request *req, struct mc_error **err)
{
    if (eng_req_query_bool(req, "link", false))
        return mc_error_set(err, MC_ERR_INVALID, "Links are not supported by machined.");
    _cleanup_ctr_ struct eng_ctr *c = ctr_get(eng_req_param(req, "id"), err);
    if (!c || ctr_delete(c, eng_req_query_bool(req, "force", false), err) < 0)
        return -1;
    return eng_resp_empty(req, 204);
}

static int
query_size(struct eng_request *req, unsigned short *h, unsigned short *w, struct mc_error **err)
{
    int64_t hv, wv;
    if (eng_req_query_int(req, "h", 0, &hv, err) < 0 ||
        eng_req_query_int(req, "w", 0, &wv, err) < 0)
        return -1;
    if (hv < 0 || wv < 0 || hv > 65535 || wv > 65535)
        return mc_error_set(err, MC_ERR_INVALID, "Invalid tty size %lldx%lld", (long long)hv,
                            (long long)wv);
    *h = (unsigned short)hv;
    *w = (unsigned short)wv;
    return 0;
}

static int
h_resize(struct eng_request *req, struct mc_error **err)
{
    unsigned short h, w;
    if (query_size(req, &h, &w, err) < 0)
        return -1;
    _cleanup_ctr_ struct eng_ctr *c = ctr_get(eng_req_param(req, "id"), err);
    if (!c)
        return -1;
    pthread_mutex_lock(&ctrs.lock);
    int r = 0;
    if (c->state != ENG_CTR_RUNNING && c->state != ENG_CTR_PAUSED)
        r = mc_error_set(err, MC_ERR_CONFLICT, "Container %s is not running", c->id);
    else if (c->tty && c->proc.pty_fd >= 0)
        r = eng_rt_resize(c->proc.pty_fd, h, w, err);
    pthread_mutex_unlock(&ctrs.lock);
    return r < 0 ? -1 : eng_resp_empty(req, 200);
}

static int
h_top(struct eng_request *req, struct mc_error **err)
{
    const char *args = eng_req_query(req, "ps_args");
    if (!isempty(args) && !streq(args, "-ef") && !streq(args, "ef"))
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "machined lists processes as ps -ef only, not with '%s'", args);
    _cleanup_ctr_ struct eng_ctr *c = ctr_get(eng_req_param(req, "id"), err);
    if (!c)
        return -1;
    pid_t *pids = NULL;
    size_t n = 0;
    pthread_mutex_lock(&ctrs.lock);
    int r = c->state != ENG_CTR_RUNNING && c->state != ENG_CTR_PAUSED
                    ? mc_error_set(err, MC_ERR_CONFLICT, "Container %s is not running", c->id)
                    : eng_cgroup_pids(c->cgroup, &pids, &n, err);
    pthread_mutex_unlock(&ctrs.lock);
    if (r < 0)
        return -1;
    json_t *j = ctr_top_json(pids, n, err);
    free(pids);
    return j ? eng_resp_json_take(req, 200, j) : -1;
}

static int
h_prune(struct eng_request *req, struct mc_error **err)
{
    json_t *deleted = json_array();
    pthread_mutex_lock(&ctrs.lock);
    size_t n = 0;
    struct eng_ctr **v = xcalloc(ctrs.n + 1, sizeof(*v));
    for (size_t i = 0; i < ctrs.n; i++)
        if (ctrs.v[i]->state == ENG_CTR_EXITED || ctrs.v[i]->state == ENG_CTR_CREATED ||
            ctrs.v[i]->state == ENG_CTR_DEAD) {
            ctr_ref_locked(ctrs.v[i]);
            v[n++] = ctrs.v[i];
        }
    pthread_mutex_unlock(&ctrs.lock);
    for (size_t i = 0; i < n; i++) {
        if (ctr_destroy(v[i], NULL) == 0)
            json_array_append_new(deleted, json_string(v[i]->id));
        ctr_unref(v[i]);
    }
    free(v);
    return eng_resp_json_take(
            req, 200, json_pack("{s:o, s:i}", "ContainersDeleted", deleted, "SpaceReclaimed", 0));
}

/* ---- exec ---- */

static int
h_exec_create(struct eng_request *req, struct mc_error **err)
{
    _cleanup_json_ json_t *body = eng_req_body_json(req, err);
    if (!body)
        return -1;
    _cleanup_ctr_ struct eng_ctr *c = ctr_get(eng_req_param(req, "id"), err);
    if (!c)
        return -1;
    struct eng_ctr_exec *e = ctr_exec_create(c, body, err);
    if (!e)
        return -1;
    int r = eng_resp_json_take(req, 201, json_pack("{s:s}", "Id", e->id));
    ctr_exec_unref(e);
    return r;
}

static int
h_exec_inspect(struct eng_request *req, struct mc_error **err)
{
    struct eng_ctr_exec *e = ctr_exec_get(eng_req_param(req, "id"), err);
    if (!e)
        return -1;
    pthread_mutex_lock(&ctrs.lock);
    json_t *j = ctr_exec_inspect_json_locked(e);
    pthread_mutex_unlock(&ctrs.lock);
    ctr_exec_unref(e);
    return eng_resp_json_take(req, 200, j);
}

static int
h_exec_resize(struct eng_request *req, struct mc_error **err)
{
    unsigned short h, w;
    if (query_size(req, &h, &w, err) < 0)
        return -1;
    struct eng_ctr_exec *e = ctr_exec_get(eng_req_param(req, "id"), err);
    if (!e)
        return -1;
    int r = ctr_exec_resize(e, h, w, err);
    ctr_exec_unref(e);
    return r < 0 ? -1 : eng_resp_empty(req, 200);
}

static const struct eng_route routes[] = {
    { "POST", "/containers/create", h_create, .max_body = 4 << 20 },
    { "GET", "/containers/json", h_list },
    { "POST", "/containers/prune", h_prune },
    { "GET", "/containers/{id}/json", h_inspect },
    { "POST", "/containers/{id}/start", h_start },
    { "POST", "/containers/{id}/stop", h_stop },
    { "POST", "/containers/{id}/restart", h_restart },
    { "POST", "/containers/{id}/kill", h_kill },
    { "POST", "/containers/{id}/pause", h_pause },
    { "POST", "/containers/{id}/unpause", h_pause },
    { "POST", "/containers/{id}/rename", h_rename },
    { "POST", "/containers/{id}/resize", h_resize },
    { "GET", "/containers/{id}/top", h_top },
    { "DELETE", "/containers/{id}", h_delete },
    { "POST", "/containers/{id}/wait", ctr_h_wait },
    { "POST", "/containers/{id}/attach", ctr_h_attach },
    { "GET", "/containers/{id}/logs", ctr_h_logs },
    { "GET", "/containers/{id}/stats", ctr_h_stats },
    { "POST", "/containers/{id}/exec", h_exec_create },
    { "POST", "/exec/{id}/start", ctr_h_exec_start },
    { "GET", "/exec/{id}/json", h_exec_inspect },
    { "POST", "/exec/{id}/resize", h_exec_resize },
};

const struct eng_module eng_containers_module = {
    .name = "containers",
    .init = ctr_module_init,
    .shutdown = ctr_module_shutdown,
    .info = ctr_module_info,
    .routes = routes,
    .n_routes = ELEMENTSOF(routes),
};
