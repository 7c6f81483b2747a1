/* machine ls: every machine with its driver, state, URL, engine version and errors.
 *
 * The store gives the rows; with --timeout > 0 each created machine's live state (driver
 * get_state, then the engine's /version) is fetched by its own thread, all under one deadline,
 * so a dead host costs at most the timeout and never delays the others. Threads still running
 * at the deadline are abandoned (they own their data); their rows say so. */
#include <fnmatch.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli-format.h"
#include "cli.h"
#include "json.h"
#include "log.h"
#include "strv.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

#define LS_DEFAULT_TIMEOUT_MS 10000
#define LS_THREAD_STACK       (256 * 1024)

static const struct cli_flag ls_flags[] = {
    { .name = "filter",
      .type = CLI_STRINGS,
      .metavar = "KEY=VALUE",
      .help = "only machines whose driver=, state= or name= (a glob) matches; keys AND, "
              "values of one key OR" },
    { .name = "timeout",
      .short_name = 't',
      .type = CLI_STRING,
      .metavar = "DURATION",
      .dflt = "10s",
      .help = "how long to wait for live states; 0: from the store only, no host is contacted" },
    { .name = "quiet", .short_name = 'q', .type = CLI_BOOL, .help = "print names only" },
    CLI_FLAG_FORMAT,
    { 0 },
};

struct row {
    char *name;
    struct store_machine *rec; /* NULL when the record cannot be read */
    char *state;
    char *engine;
    char *error;
    bool active;
};

static void
row_clear(struct row *r)
{
    free(r->name);
    store_machine_free(r->rec);
    free(r->state);
    free(r->engine);
    free(r->error);
}

/* ---- live state, one thread per host ---- */

struct job {
    struct machine_handle *h;
    struct client_config engine;
    bool has_engine;
    int64_t deadline;
    bool done;
    char *state, *engine_version, *error; /* results */
};

struct live {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t pending;
    size_t refs; /* the caller plus each running thread */
    struct job *jobs;
    size_t n;
};

static void
live_unref_locked(struct live *l)
{
    if (--l->refs > 0) {
        pthread_mutex_unlock(&l->mu);
        return;
    }
    pthread_mutex_unlock(&l->mu);
    for (size_t i = 0; i < l->n; i++) {
        machine_close(l->jobs[i].h);
        client_config_clear(&l->jobs[i].engine);
        free(l->jobs[i].state);
        free(l->jobs[i].engine_version);
        free(l->jobs[i].error);
    }
    free(l->jobs);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static void
engine_check(struct job *j)
{
    struct mc_error *e = NULL;
    struct client *c = client_new(&j->engine, &e);
    int64_t left = j->deadline - mc_now_ms();
    struct client_version v = { 0 };
    if (c && left > 0 && client_version(c, (int)left, &v, &e) == 0)
        j->engine_version = xasprintf("v%s", v.version);
    else
        j->error = xstrdup(e ? e->message : "no time was left to ask the engine");
    client_version_clear(&v);
    client_free(c);
    mc_error_free(e);
}

static void *
job_main(void *arg)
{
    struct job *j = arg;
    struct live *l = j->h->userdata;
    struct mc_error *e = NULL;
    enum driver_state st = DRIVER_STATE_NONE;
    if (machine_get_state(j->h, j->deadline, &st, &e) < 0) {
        j->state = xstrdup(mc_error_is(e, MC_ERR_TIMEOUT) ? "Timeout" : "Error");
        j->error = xstrdup(e->message);
    } else {
        j->state = xstrdup(driver_state_to_string(st));
        if (st == DRIVER_STATE_RUNNING && j->has_engine)
            engine_check(j);
    }
    mc_error_free(e);
    pthread_mutex_lock(&l->mu);
    j->done = true;
    l->pending--;
    pthread_cond_signal(&l->cv);
    live_unref_locked(l);
    return NULL;
}

static struct live *
live_new(size_t n)
{
    struct live *l = xzalloc(sizeof(*l));
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&l->mu, NULL);
    l->jobs = xcalloc(n ? n : 1, sizeof(*l->jobs));
    l->refs = 1;
    return l;
}

/* Prepares a job for a created machine: the handle and engine configuration are built here,
 * in the caller's thread, so that a thread never touches the store. */
static bool
add_job(struct cli_ctx *ctx, struct live *l, struct row *r, int64_t deadline)
{
    /* A half-made machine shows its create state and cause, not a live state. */
    if (!r->rec || r->rec->create_state != STORE_CREATE_READY)
        return false;
    struct store *s = NULL;
    struct mc_error *e = NULL;
    struct job *j = &l->jobs[l->n];
    struct store_machine *copy = NULL;
    json_t *doc = json_deep_copy(r->rec->config);
    if (cli_store(ctx, &s, &e) < 0 || store_machine_parse(r->name, doc, &copy, &e) < 0 ||
        machine_open_record(s, copy, &j->h, &e) < 0) {
        r->error = xstrdup(e->message);
        mc_error_free(e);
        return false;
    }
    j->has_engine = cli_machine_client_config(ctx, r->rec, &j->engine, &e) == 0;
    mc_error_free(e);
    j->h->userdata = l;
    j->deadline = deadline;
    l->n++;
    return true;
}

static void
start_jobs(struct live *l)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, LS_THREAD_STACK);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (size_t i = 0; i < l->n; i++) {
        pthread_t t;
        pthread_mutex_lock(&l->mu);
        l->refs++;
        l->pending++;
        pthread_mutex_unlock(&l->mu);
        if (pthread_create(&t, &attr, job_main, &l->jobs[i]) != 0) {
            /* Out of threads: this row reports it instead of a state. */
            pthread_mutex_lock(&l->mu);
            l->refs--;
            l->pending--;
            l->jobs[i].done = true;
            l->jobs[i].state = xstrdup("Error");
            l->jobs[i].error = xstrdup("cannot start a thread to ask this host");
            pthread_mutex_unlock(&l->mu);
        }
    }
    pthread_attr_destroy(&attr);
}

static void
wait_jobs(struct live *l, int64_t deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t left = deadline - mc_now_ms();
    struct timespec until = now;
    until.tv_sec += left / 1000;
    until.tv_nsec += (left % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    while (l->pending > 0)
        if (pthread_cond_timedwait(&l->cv, &l->mu, &until) != 0)
            break;
}

static void
collect(struct live *l, struct row *rows, size_t nrows, int64_t timeout_ms)
{
    for (size_t i = 0, k = 0; i < nrows && k < l->n; i++) {
        struct job *j = &l->jobs[k];
        if (!j->h || !streq(j->h->rec->name, rows[i].name))
            continue;
        k++;
        if (!j->done) {
            rows[i].state = xstrdup("Timeout");
            rows[i].error = xasprintf("no answer within %lld ms", (long long)timeout_ms);
            continue;
        }
        rows[i].state = TAKE_PTR(j->state);
        rows[i].engine = TAKE_PTR(j->engine_version);
        if (!rows[i].error)
            rows[i].error = TAKE_PTR(j->error);
    }
    for (size_t i = 0; i < nrows; i++)
        log_debug("ls: '%s': %s%s%s", rows[i].name, rows[i].state ? rows[i].state : "(store only)",
                  rows[i].error ? ": " : "", rows[i].error ? rows[i].error : "");
}

static void
fetch_live(struct cli_ctx *ctx, struct row *rows, size_t n, int64_t timeout_ms)
{
    int64_t deadline = mc_now_ms() + timeout_ms;
    struct live *l = live_new(n);
    for (size_t i = 0; i < n; i++)
        add_job(ctx, l, &rows[i], deadline);
    client_global_init();
    start_jobs(l);
    pthread_mutex_lock(&l->mu);
    wait_jobs(l, deadline);
    collect(l, rows, n, timeout_ms);
    live_unref_locked(l);
}

/* ---- rows ---- */

static void
load_row(struct store *s, const char *name, struct row *r)
{
    struct mc_error *e = NULL;
    r->name = xstrdup(name);
    if (store_machine_load(s, name, &r->rec, &e) < 0) {
        r->error = xstrdup(e->message);
        r->state = xstrdup("Error");
    }
    mc_error_free(e);
}

/* Records are read and parsed by a few threads when there are many (parsing is most of the
 * work of `ls --timeout 0`); each thread fills its own stripe of rows. */
#define LS_LOAD_THREADS_MAX 4
#define LS_ROWS_PER_THREAD  128

struct load_part {
    struct store *s;
    char **names;
    struct row *rows;
    size_t from, to;
};

static void *
load_part_main(void *arg)
{
    struct load_part *p = arg;
    for (size_t i = p->from; i < p->to; i++)
        load_row(p->s, p->names[i], &p->rows[i]);
    return NULL;
}

static void
load_rows(struct store *s, char **names, struct row *rows, size_t n)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t k = n / LS_ROWS_PER_THREAD + 1;
    if (k > LS_LOAD_THREADS_MAX)
        k = LS_LOAD_THREADS_MAX;
    if (cpus > 0 && k > (size_t)cpus)
        k = (size_t)cpus;
    struct load_part parts[LS_LOAD_THREADS_MAX];
    pthread_t threads[LS_LOAD_THREADS_MAX];
    bool started[LS_LOAD_THREADS_MAX] = { false };
    for (size_t t = 0; t < k; t++) {
        parts[t] = (struct load_part){ s, names, rows, n * t / k, n * (t + 1) / k };
        /* Part 0 runs here; a thread that cannot start runs here too. */
        started[t] = t > 0 && pthread_create(&threads[t], NULL, load_part_main, &parts[t]) == 0;
    }
    for (size_t t = 0; t < k; t++)
        if (!started[t])
            load_part_main(&parts[t]);
    for (size_t t = 0; t < k; t++)
        if (started[t])
            pthread_join(threads[t], NULL);
}

/* The state shown when no live state was fetched: the create state. */
static void
fill_store_state(struct row *r)
{
    if (r->state || !r->rec)
        return;
    r->state = xstrdup(store_create_state_to_string(r->rec->create_state));
}

/* A half-made machine shows its create state and, when it failed, the cause. */
static void
fill_create_error(struct row *r)
{
    if (!r->rec || r->rec->create_state == STORE_CREATE_READY)
        return;
    free(r->state);
    r->state = xstrdup(store_create_state_to_string(r->rec->create_state));
    if (r->rec->create_error && !r->error)
        r->error = xasprintf("%s failed: %s", r->rec->create_step ? r->rec->create_step : "create",
                             r->rec->create_error);
}

static bool
match_one(const char *key, const char *want, const struct row *r)
{
    if (streq(key, "name"))
        return fnmatch(want, r->name, 0) == 0;
    if (streq(key, "driver"))
        return r->rec && r->rec->driver && strcasecmp(want, r->rec->driver) == 0;
    if (streq(key, "state"))
        return r->state && strcasecmp(want, r->state) == 0;
    return false;
}

static int
check_filters(char *const *filters, struct mc_error **err)
{
    static const char *const keys[] = { "name=", "driver=", "state=" };
    for (size_t i = 0; filters && filters[i]; i++) {
        bool known = false;
        for (size_t k = 0; k < ELEMENTSOF(keys); k++)
            known = known || startswith(filters[i], keys[k]);
        if (!known)
            return mc_error_set(err, MC_ERR_USAGE,
                                "--filter '%s': expected driver=, state= or name=", filters[i]);
    }
    return 0;
}

/* Keys AND, values of one key OR. */
static bool
row_matches(char *const *filters, const struct row *r)
{
    static const char *const keys[] = { "name", "driver", "state" };
    for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
        bool seen = false, hit = false;
        for (size_t i = 0; filters && filters[i]; i++) {
            _cleanup_free_ char *prefix = xasprintf("%s=", keys[k]);
            const char *v = startswith(filters[i], prefix);
            if (!v)
                continue;
            seen = true;
            hit = hit || match_one(keys[k], v, r);
        }
        if (seen && !hit)
            return false;
    }
    return true;
}

static json_t *
row_json(const struct row *r)
{
    const char *url = r->rec ? store_machine_url(r->rec) : NULL;
    json_t *o = json_object();
    json_object_set_new(o, "Name", json_string(r->name));
    json_object_set_new(o, "Active", json_string(r->active ? "*" : "-"));
    json_object_set_new(o, "ActiveHost", json_boolean(r->active));
    json_object_set_new(o, "DriverName", r->rec ? json_string(r->rec->driver) : json_null());
    json_object_set_new(o, "State", json_string(r->state ? r->state : ""));
    json_object_set_new(o, "CreateState",
                        r->rec ? json_string(store_create_state_to_string(r->rec->create_state))
                               : json_null());
    json_object_set_new(o, "URL", url ? json_string(url) : json_null());
    json_object_set_new(o, "DockerVersion", r->engine ? json_string(r->engine) : json_null());
    json_object_set_new(o, "Error", r->error ? json_string(r->error) : json_null());
    return o;
}

static char *
render_table(const struct row *rows, size_t n, bool names_only)
{
    static const char *const headers[] = { "NAME", "ACTIVE", "DRIVER", "STATE",
                                           "URL",  "ENGINE", "ERRORS" };
    if (names_only) {
        _cleanup_strv_ char **names = strv_new();
        for (size_t i = 0; i < n; i++)
            strv_add(&names, rows[i].name);
        _cleanup_free_ char *joined = strv_join(names, "\n");
        return n ? xasprintf("%s\n", joined) : xstrdup("");
    }
    struct cli_table t;
    cli_table_init(&t, headers, ELEMENTSOF(headers));
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        const char *url = r->rec ? store_machine_url(r->rec) : NULL;
        const char *cells[] = { r->name,
                                r->active ? "*" : "-",
                                r->rec ? r->rec->driver : "",
                                r->state,
                                url ? url : "",
                                r->engine ? r->engine : "Unknown",
                                r->error ? r->error : "" };
        cli_table_add(&t, cells);
    }
    char *out = cli_table_render(&t);
    cli_table_clear(&t);
    return out;
}

static int
print_rows(struct cli_ctx *ctx, const struct cli_args *args, char *const *filters,
           const struct row *rows, size_t n, struct mc_error **err)
{
    _cleanup_json_ json_t *items = json_array();
    _cleanup_free_ const struct row **shown = xcalloc(n ? n : 1, sizeof(*shown));
    _cleanup_free_ struct row *kept = xcalloc(n ? n : 1, sizeof(*kept));
    size_t k = 0;
    bool formatted = cli_args_get(args, "format", NULL) != NULL;
    for (size_t i = 0; i < n; i++)
        if (row_matches(filters, &rows[i])) {
            if (formatted)
                json_array_append_new(items, row_json(&rows[i]));
            kept[k++] = rows[i];
        }
    bool done = false;
    if (formatted)
        return cli_print_formatted(ctx, args, items, true, &done, err);
    _cleanup_free_ char *out = render_table(kept, k, cli_args_bool(args, "quiet", NULL));
    cli_print(ctx, out);
    return 0;
}

/* The active machine, as cli_active_machine() finds it, from the rows already loaded. */
static void
mark_active(struct cli_ctx *ctx, struct row *rows, size_t n)
{
    const char *docker_host = ctx->getenv("DOCKER_HOST");
    const char *name = ctx->getenv("MACHINE_NAME");
    struct row *first = NULL;
    if (isempty(docker_host))
        return;
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].rec || !streq_ptr(store_machine_url(rows[i].rec), docker_host))
            continue;
        if (name && streq(rows[i].name, name)) {
            rows[i].active = true;
            return;
        }
        first = first ? first : &rows[i];
    }
    if (first)
        first->active = true;
}

static int
ls_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
       struct mc_error **err)
{
    int64_t timeout_ms = 0;
    char *const *filters = cli_args_get_all(args, "filter");
    struct store *s = NULL;
    _cleanup_strv_ char **names = NULL;
    if (cli_args_duration_ms(args, "timeout", LS_DEFAULT_TIMEOUT_MS, &timeout_ms, err) < 0 ||
        check_filters(filters, err) < 0)
        return -1;
    if (args->positional[0])
        return mc_error_set(err, MC_ERR_USAGE, "'machine ls' takes no names; use --filter");
    if (cli_store(ctx, &s, err) < 0 || store_list_names(s, &names, err) < 0)
        return -1;
    /* What writers that crashed left: temporary files, and machines half through rm. */
    store_tidy(s);
    store_empty_trash(s);
    size_t n = strv_length(names);
    _cleanup_free_ struct row *rows = xcalloc(n ? n : 1, sizeof(*rows));
    load_rows(s, names, rows, n);
    if (timeout_ms > 0)
        fetch_live(ctx, rows, n, timeout_ms);
    for (size_t i = 0; i < n; i++) {
        fill_store_state(&rows[i]);
        fill_create_error(&rows[i]);
    }
    mark_active(ctx, rows, n);
    int r = print_rows(ctx, args, filters, rows, n, err);
    for (size_t i = 0; i < n; i++)
        row_clear(&rows[i]);
    return r < 0 ? -1 : 0;
}

const struct cli_command cli_cmd_ls = {
    .name = "ls",
    .usage = "[OPTIONS]",
    .summary = "List machines",
    .description = "Columns: NAME ACTIVE DRIVER STATE URL ENGINE ERRORS. STATE is the live state "
                   "of the host, or for a\nmachine whose create has not finished its create "
                   "state (creating, provisioning, failed) with\nthe cause in ERRORS. With "
                   "--timeout 0 nothing is contacted and STATE is the create state.\nTemplate "
                   "fields: .Name .Active .ActiveHost .DriverName .State .CreateState .URL\n"
                   ".DockerVersion .Error",
    .flags = ls_flags,
    .run = ls_run,
};
