/* The event stream (api-events.h): a ring of the last events, and GET /events.
 *
 * GET /events?since=&until=&filters=: with since, the kept events from then on come first;
 * then new events follow as they happen, until `until` (or, without it, until the client goes
 * away). An until in the past ends the answer after the kept events, which is what
 * `docker events --since 1s --until 2s` asks. Times are unix seconds with a fraction, or
 * RFC 3339, as the docker CLI sends them. */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "api-events.h"
#include "api-handler.h"
#include "json.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

#define WAIT_SLICE_MS 1000

static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    json_t *ring[ENG_EVENTS_KEPT]; /* event seq is at ring[seq % ENG_EVENTS_KEPT] */
    uint64_t next;                 /* the seq of the next event */
} ev = { .lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER };

void
eng_event(const char *type, const char *action, const char *id, json_t *attrs)
{
    int64_t now = mc_realtime_ns();
    if (!attrs)
        attrs = json_object();
    json_t *e = json_pack("{s:s,s:s,s:{s:s,s:o},s:s,s:I,s:I}", "Type", type, "Action", action,
                          "Actor", "ID", id, "Attributes", attrs, "scope", "local", "time",
                          (json_int_t)(now / 1000000000), "timeNano", (json_int_t)now);
    if (streq(type, "container") || streq(type, "image")) { /* the old fields, as dockerd */
        json_object_set_new(e, "status", json_string(action));
        json_object_set_new(e, "id", json_string(id));
        const char *from = mc_json_str(attrs, "image");
        if (streq(type, "container") && from)
            json_object_set_new(e, "from", json_string(from));
    }
    pthread_mutex_lock(&ev.lock);
    json_t **slot = &ev.ring[ev.next % ENG_EVENTS_KEPT];
    json_decref(*slot);
    *slot = e;
    ev.next++;
    pthread_cond_broadcast(&ev.changed);
    pthread_mutex_unlock(&ev.lock);
}

/* ---- filters ---- */

static bool
has(const json_t *filters, const char *key, const char *value)
{
    return value && json_object_get(json_object_get(filters, key), value) != NULL;
}

/* "exec_start: sh -c true" is matched by "exec_start". */
static bool
action_matches(const json_t *filters, const char *action)
{
    size_t n = strcspn(action, ":");
    const char *v;
    json_t *on;
    json_object_foreach ((json_t *)json_object_get(filters, "event"), v, on) {
        if (strlen(v) == n && strncmp(v, action, n) == 0)
            return true;
    }
    return false;
}

static bool
labels_match(const json_t *filters, const json_t *attrs)
{
    const char *want;
    json_t *on;
    json_object_foreach ((json_t *)json_object_get(filters, "label"), want, on) {
        const char *eq = strchr(want, '=');
        _cleanup_free_ char *key = eq ? xstrndup(want, (size_t)(eq - want)) : xstrdup(want);
        const char *got = mc_json_str(attrs, key);
        if (!got || (eq && !streq(got, eq + 1)))
            return false;
    }
    return true;
}

static bool
object_matches(const json_t *filters, const char *key, const char *type, const char *id,
               const json_t *attrs)
{
    if (!json_object_get(filters, key))
        return true;
    if (streq(key, "image") && streq(type, "container"))
        return has(filters, key, mc_json_str(attrs, "image"));
    return streq(type, key) &&
           (has(filters, key, id) || has(filters, key, mc_json_str(attrs, "name")));
}

bool
eng_event_matches(const json_t *event, const json_t *filters)
{
    const char *type = mc_json_str(event, "Type");
    const char *action = mc_json_str(event, "Action");
    const json_t *actor = json_object_get(event, "Actor");
    const char *id = mc_json_str(actor, "ID");
    const json_t *attrs = json_object_get(actor, "Attributes");
    if (!type || !action || !id)
        return false;
    if (json_object_get(filters, "type") && !has(filters, "type", type))
        return false;
    if (json_object_get(filters, "event") && !action_matches(filters, action))
        return false;
    return object_matches(filters, "container", type, id, attrs) &&
           object_matches(filters, "image", type, id, attrs) && labels_match(filters, attrs);
}

int
eng_event_filters_check(const json_t *filters, struct mc_error **err)
{
    static const char *const known[] = { "type", "event", "container", "image", "label", NULL };
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)filters, key, v) {
        bool ok = false;
        for (size_t i = 0; known[i]; i++)
            ok = ok || streq(key, known[i]);
        if (!ok)
            return mc_error_set(err, MC_ERR_INVALID, "invalid filter '%s'", key);
    }
    return 0;
}

/* ---- GET /events ---- */

struct window {
    int64_t since; /* ns; 0: only new events */
    int64_t until; /* ns; 0: no end */
};

static int
parse_time(struct eng_request *req, const char *key, int64_t *ret, struct mc_error **err)
{
    const char *s = eng_req_query(req, key);
    *ret = 0;
    if (isempty(s))
        return 0;
    if (mc_parse_unix_time(s, ret) < 0)
        return mc_error_set(err, MC_ERR_INVALID, "invalid value for %s: '%s'", key, s);
    return 0;
}

/* The next event after *seq that is inside w and passes filters, or NULL; advances *seq.
 * Locked. The result is a new reference. */
static json_t *
next_locked(uint64_t *seq, const struct window *w, const json_t *filters)
{
    if (ev.next > ENG_EVENTS_KEPT && *seq < ev.next - ENG_EVENTS_KEPT)
        *seq = ev.next - ENG_EVENTS_KEPT; /* the older ones are gone */
    for (; *seq < ev.next; (*seq)++) {
        json_t *e = ev.ring[*seq % ENG_EVENTS_KEPT];
        int64_t t = mc_json_int(e, "timeNano", 0);
        if ((w->since && t < w->since) || (w->until && t > w->until) ||
            !eng_event_matches(e, filters))
            continue;
        (*seq)++;
        return json_incref(e);
    }
    return NULL;
}

/* Waits (locked) until an event comes, the slice passes or `until` does. */
static void
wait_locked(const struct window *w)
{
    int64_t wake = mc_realtime_ns() + (int64_t)WAIT_SLICE_MS * 1000000;
    if (w->until && w->until < wake)
        wake = w->until;
    struct timespec ts = { .tv_sec = wake / 1000000000, .tv_nsec = wake % 1000000000 };
    pthread_cond_timedwait(&ev.changed, &ev.lock, &ts);
}

static int
h_events(struct eng_request *req, struct mc_error **err)
{
    struct window w;
    _cleanup_json_ json_t *filters = eng_req_filters(req, err);
    if (!filters || eng_event_filters_check(filters, err) < 0 ||
        parse_time(req, "since", &w.since, err) < 0 || parse_time(req, "until", &w.until, err) < 0)
        return -1;
    struct eng_stream *s = eng_resp_stream(req, 200, "application/json", err);
    if (!s)
        return -1;
    pthread_mutex_lock(&ev.lock);
    uint64_t seq = w.since ? 0 : ev.next;
    for (;;) {
        json_t *e = next_locked(&seq, &w, filters);
        if (e) {
            pthread_mutex_unlock(&ev.lock);
            int r = eng_stream_json(s, e, err);
            json_decref(e);
            if (r < 0)
                return -1;
            pthread_mutex_lock(&ev.lock);
            continue;
        }
        if (w.until && mc_realtime_ns() >= w.until)
            break;
        wait_locked(&w);
        if (seq == ev.next && eng_req_client_gone(req))
            break;
    }
    pthread_mutex_unlock(&ev.lock);
    return 0;
}

static const struct eng_route routes[] = {
    { "GET", "/events", h_events },
};

const struct eng_module eng_events_module = {
    .name = "events",
    .routes = routes,
    .n_routes = ELEMENTSOF(routes),
};
