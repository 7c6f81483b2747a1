/* The container table and the records under <data-root>/containers/<id>/config.v2.json. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "ctr-internal.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "strv.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

struct ctr_registry ctrs = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .epfd = -1,
    .wake_fd = -1,
    .lock_fd = -1,
};

void
ctr_changed_locked(void)
{
    pthread_cond_broadcast(&ctrs.changed);
}

/* ---- lookup ---- */

static bool
name_matches(const struct eng_ctr *c, const char *ref)
{
    return streq(c->name, ref) || (ref[0] != '/' && streq(c->name + 1, ref));
}

struct eng_ctr *
ctr_find_locked(const char *ref, struct mc_error **err)
{
    struct eng_ctr *prefix = NULL;
    size_t n = strlen(ref), hits = 0;
    if (n == 0)
        return mc_error_set(err, MC_ERR_NOT_FOUND, "No such container: %s", ref), NULL;
    for (size_t i = 0; i < ctrs.n; i++) {
        struct eng_ctr *c = ctrs.v[i];
        if (streq(c->id, ref) || name_matches(c, ref))
            return c;
        if (strncmp(c->id, ref, n) == 0) {
            prefix = c;
            hits++;
        }
    }
    if (hits == 1)
        return prefix;
    if (hits > 1)
        return mc_error_set(err, MC_ERR_INVALID, "Multiple IDs found with provided prefix: %s",
                            ref),
               NULL;
    return mc_error_set(err, MC_ERR_NOT_FOUND, "No such container: %s", ref), NULL;
}

void
ctr_ref_locked(struct eng_ctr *c)
{
    c->refs++;
}

struct eng_ctr *
ctr_get(const char *ref, struct mc_error **err)
{
    pthread_mutex_lock(&ctrs.lock);
    struct eng_ctr *c = ctr_find_locked(ref, err);
    if (c)
        ctr_ref_locked(c);
    pthread_mutex_unlock(&ctrs.lock);
    return c;
}

void
ctr_unref_locked(struct eng_ctr *c)
{
    if (!c)
        return;
    if (--c->refs == 0 && c->removed)
        ctr_free(c);
}

void
ctr_unref(struct eng_ctr *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&ctrs.lock);
    ctr_unref_locked(c);
    pthread_mutex_unlock(&ctrs.lock);
}

int
ctr_add_locked(struct eng_ctr *c, struct mc_error **err)
{
    for (size_t i = 0; i < ctrs.n; i++)
        if (streq(ctrs.v[i]->name, c->name))
            return mc_error_set(err, MC_ERR_EXISTS,
                                "Conflict. The container name \"%s\" is already in use by "
                                "container \"%s\". You have to remove (or rename) that "
                                "container to be able to reuse that name.",
                                c->name, ctrs.v[i]->id);
    ctrs.v = xreallocarray(ctrs.v, ctrs.n + 1, sizeof(*ctrs.v));
    ctrs.v[ctrs.n++] = c;
    c->refs++; /* the table's reference */
    return 0;
}

void
ctr_remove_locked(struct eng_ctr *c)
{
    for (size_t i = 0; i < ctrs.n; i++) {
        if (ctrs.v[i] != c)
            continue;
        memmove(&ctrs.v[i], &ctrs.v[i + 1], (ctrs.n - i - 1) * sizeof(*ctrs.v));
        ctrs.n--;
        c->removed = true;
        ctr_changed_locked();
        ctr_unref_locked(c);
        return;
    }
}

void
ctr_new_id_locked(char out[65])
{
    for (;;) {
        uint8_t b[32];
        mc_random_bytes(b, sizeof(b));
        mc_hex_encode(b, sizeof(b), out);
        /* dockerd avoids IDs that look like numbers: a short ID must not parse as one. */
        bool digits = true;
        for (int i = 0; i < 12 && digits; i++)
            digits = out[i] >= '0' && out[i] <= '9';
        if (!digits && !ctr_find_locked(out, NULL))
            return;
    }
}

void
ctr_free(struct eng_ctr *c)
{
    if (!c)
        return;
    free(c->name);
    free(c->image);
    free(c->image_id);
    json_decref(c->config);
    json_decref(c->host_config);
    free(c->path);
    strv_free(c->args);
    free(c->dir);
    free(c->log_path);
    free(c->error);
    for (int i = 0; i < 2; i++)
        mc_buf_free(&c->pipes[i].line);
    eng_cgroup_free(c->cgroup);
    free(c->execs);
    free(c);
}

/* ---- records ---- */

static int64_t
time_from_json(const json_t *obj, const char *key)
{
    int64_t ns = 0;
    const char *s = mc_json_str(obj, key);
    if (!s || startswith(s, "0001-01-01") || mc_parse_rfc3339(s, &ns) < 0)
        return 0;
    return ns;
}

static json_t *
record_state(const struct eng_ctr *c)
{
    return json_pack("{s:s, s:i, s:i, s:b, s:s?, s:o, s:o, s:i, s:b, s:b}", "Status",
                     eng_ctr_state_name(c->state), "Pid", c->pid, "ExitCode", c->exit_code,
                     "OOMKilled", c->oom_killed, "Error", c->error, "StartedAt",
                     ctr_time_json(c->started_ns), "FinishedAt", ctr_time_json(c->finished_ns),
                     "RestartCount", c->restart_count, "HasBeenStartedBefore", c->started_before,
                     "HasBeenManuallyStopped", c->manually_stopped);
}

static json_t *
record_json(const struct eng_ctr *c)
{
    return json_pack("{s:i, s:s, s:o, s:s, s:s, s:s, s:O, s:O, s:s, s:o, s:o, s:b}", "Version", 1,
                     "ID", c->id, "Created", ctr_time_json(c->created_ns), "Name", c->name, "Image",
                     c->image_id, "ImageRef", c->image, "Config", c->config, "HostConfig",
                     c->host_config, "Path", c->path, "Args", mc_json_from_strv(c->args), "State",
                     record_state(c), "NetDefault", c->net_default);
}

/* Replaces path by writing a temporary file and renaming it over: a reader or a crash sees
 * the old or the new record, never a mix. No fsync: a state record is rewritten at every
 * start and exit, on the path of `docker run`, and losing the last change in a power cut is
 * acceptable for it (docs/adr/0002-engine-supervision.md). */
static int
replace_file(const char *path, const char *data, size_t n, struct mc_error **err)
{
    _cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
    _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, data, n) != (ssize_t)n)
        return mc_error_sys(err, errno, "cannot write '%s'", tmp);
    if (rename(tmp, path) < 0)
        return mc_error_sys(err, errno, "cannot rename '%s'", tmp);
    return 0;
}

int
ctr_save_locked(struct eng_ctr *c, struct mc_error **err)
{
    _cleanup_json_ json_t *j = record_json(c);
    _cleanup_free_ char *text = mc_json_dumps(j, false);
    _cleanup_free_ char *path = mc_path_join(c->dir, "config.v2.json");
    if (replace_file(path, text, strlen(text), err) < 0)
        return mc_error_prefix(err, "container %.12s: ", c->id);
    return 0;
}

static void
state_from_json(struct eng_ctr *c, const json_t *st)
{
    int s = eng_ctr_state_from_name(mc_json_str(st, "Status") ? mc_json_str(st, "Status") : "");
    c->state = s < 0 ? ENG_CTR_DEAD : (enum eng_ctr_state)s;
    c->pid = (int)mc_json_int(st, "Pid", 0);
    c->exit_code = (int)mc_json_int(st, "ExitCode", 0);
    c->oom_killed = mc_json_bool(st, "OOMKilled", false);
    c->error = xstrdup_or_null(mc_json_str(st, "Error"));
    c->started_ns = time_from_json(st, "StartedAt");
    c->finished_ns = time_from_json(st, "FinishedAt");
    c->restart_count = (int)mc_json_int(st, "RestartCount", 0);
    c->started_before = mc_json_bool(st, "HasBeenStartedBefore", false);
    c->manually_stopped = mc_json_bool(st, "HasBeenManuallyStopped", false);
}

static struct eng_ctr *
record_load(const char *dir, const char *id, struct mc_error **err)
{
    _cleanup_free_ char *path = mc_path_join(dir, "config.v2.json");
    _cleanup_json_ json_t *j = mc_json_load_file(path, 16 << 20, err);
    if (!j)
        return NULL;
    const char *name = mc_json_str(j, "Name"), *rid = mc_json_str(j, "ID");
    if (!name || !streq_ptr(rid, id) || !json_is_object(json_object_get(j, "Config")) ||
        !mc_json_str(j, "Path"))
        return mc_error_set(err, MC_ERR_INVALID, "The record '%s' is incomplete.", path), NULL;
    struct eng_ctr *c = xzalloc(sizeof(*c));
    memcpy(c->id, id, 65);
    c->name = xstrdup(name);
    c->image_id = xstrdup(mc_json_str(j, "Image") ? mc_json_str(j, "Image") : "");
    c->image = xstrdup(mc_json_str(j, "ImageRef") ? mc_json_str(j, "ImageRef") : "");
    c->config = json_incref(json_object_get(j, "Config"));
    c->host_config = json_incref(json_object_get(j, "HostConfig"));
    c->path = xstrdup(mc_json_str(j, "Path"));
    c->args = mc_json_to_strv(json_object_get(j, "Args"));
    c->created_ns = time_from_json(j, "Created");
    c->net_default = mc_json_bool(j, "NetDefault", false);
    c->dir = xstrdup(dir);
    c->log_path = xasprintf("%s/%s-json.log", dir, id);
    state_from_json(c, json_object_get(j, "State"));
    return c;
}

static struct eng_ctr *
load_one(const char *id)
{
    _cleanup_free_ char *dir = mc_path_join(ctrs.root, id);
    struct mc_error *err = NULL;
    if (strlen(id) != 64 || !mc_is_hex(id, 64))
        return NULL;
    mc_remove_stale_temps(dir);
    struct eng_ctr *c = record_load(dir, id, &err);
    if (!c) {
        log_warn("skipping container %.12s: %s", id, err->message);
        mc_error_free(err);
    }
    return c;
}

int
ctr_load_all(struct mc_error **err)
{
    /* what a removal interrupted by a crash left */
    _cleanup_free_ char *trash = mc_path_join(ctrs.root, ".trash");
    mc_rm_rf(trash, NULL);
    _cleanup_closedir_ DIR *d = opendir(ctrs.root);
    if (!d)
        return errno == ENOENT ? 0 : mc_error_sys(err, errno, "cannot read '%s'", ctrs.root);
    struct dirent *de;
    while ((de = readdir(d))) {
        struct eng_ctr *c = load_one(de->d_name);
        if (!c)
            continue;
        c->log_fd = -1;
        c->stdin_fd = -1;
        c->proc = (struct eng_rt_process)ENG_RT_PROCESS_INIT;
        c->pipes[0].fd = c->pipes[1].fd = -1;
        pthread_mutex_lock(&ctrs.lock);
        if (ctr_add_locked(c, NULL) < 0) {
            log_warn("skipping container %.12s: its name '%s' is taken", c->id, c->name);
            ctr_free(c);
        }
        pthread_mutex_unlock(&ctrs.lock);
    }
    return 0;
}
