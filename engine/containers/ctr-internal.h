/* The containers module's shared state. Internal to engine/containers.
 *
 * Locking: one mutex (ctrs.lock) guards the table and every container's state, and one
 * condition variable (ctrs.changed) is broadcast on any change (start, exit, removal, new log
 * lines, exec exit), which waits, followed logs and attaches sleep on. Slow work (starting a
 * process, writing files of other containers) happens outside the lock; a container being
 * started or removed is marked so that no one else touches it meanwhile.
 *
 * Supervision: machined is the parent of every container process. One supervisor thread owns
 * an epoll set of pidfds and output pipes: it reaps, copies output into the json-file log and
 * to attached clients' queues, records exit codes and OOM kills, and applies restart policies
 * and AutoRemove. */
#ifndef ENG_CTR_INTERNAL_H
#define ENG_CTR_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "cgroup.h"
#include "cleanup.h"
#include "ctr-pure.h"
#include "engine.h"
#include "runtime.h"
#include "strbuf.h"

/* What the supervisor's epoll entries point at. */
enum ctr_watch_kind {
    CTR_WATCH_PROC, /* a container's first process (pidfd) */
    CTR_WATCH_PIPE, /* a container's stdout or stderr */
    CTR_WATCH_EXEC, /* an exec process (pidfd) */
    CTR_WATCH_WAKE, /* the supervisor's eventfd */
};

struct ctr_watch {
    enum ctr_watch_kind kind;
    void *obj;
    int idx;
};

/* An attached client's share of the output: bytes ready to send (frames, or raw with a tty).
 * Guarded by ctrs.lock; efd is signalled when q grows or the output ends. */
struct ctr_sub {
    struct ctr_sub *next;
    struct mc_buf q;
    int efd;
    bool want_stdout;
    bool want_stderr;
    bool eof;
};

/* One output stream of a running container. */
struct ctr_pipe {
    int fd;
    struct mc_buf line; /* the unfinished last line, for the log */
    struct ctr_watch watch;
};

struct eng_ctr_exec;

struct eng_ctr {
    char id[65];
    char *name;     /* "/name" */
    char *image;    /* Config.Image as the user typed it */
    char *image_id; /* sha256:... */
    json_t *config;
    json_t *host_config;
    char *path;
    char **args;
    int64_t created_ns;
    char *dir;
    char *log_path;
    bool net_default; /* NetworkMode default: loopback only (no bridge yet) */

    /* persisted state */
    enum eng_ctr_state state;
    int pid;
    int exit_code;
    bool oom_killed;
    char *error;
    int64_t started_ns;
    int64_t finished_ns;
    int restart_count;
    bool started_before;
    bool manually_stopped;

    /* while running */
    struct eng_rt_process proc;
    struct eng_cgroup *cgroup;
    struct ctr_watch proc_watch;
    struct ctr_pipe pipes[2]; /* stdout, stderr (fd -1 when closed) */
    int log_fd;
    bool tty;
    struct ctr_sub *subs;
    bool throttled;    /* an attached client's queue is full: stop reading the pipes */
    bool pipes_paused; /* the supervisor took the pipes out of its epoll set (its own flag) */
    int stdin_fd;      /* our end of its stdin (pipe or pty), -1 when none or closed */

    /* bookkeeping */
    uint64_t exits;           /* bumped at each exit (wait next-exit) */
    uint64_t log_seq;         /* bumped at each log write (logs -f) */
    bool busy;                /* a start or removal is in progress outside the lock */
    bool removed;             /* gone from the table; freed when refs drops to 0 */
    bool stop_requested;      /* stop/kill/rm in progress: no restart */
    int64_t restart_at_ms;    /* monotonic time of a scheduled restart, 0: none */
    int64_t restart_delay_ms; /* the last backoff */
    int refs;
    struct eng_ctr_exec **execs;
    size_t nexecs;
};

struct eng_ctr_exec {
    char id[65];
    struct eng_ctr *ctr; /* NULL once the container is gone */
    json_t *config;      /* the create body: Cmd, Env, User, WorkingDir, Tty, Privileged... */
    bool tty;
    bool running;
    bool started;
    bool exited;
    int exit_code;
    int pid;
    int pty_fd; /* a dup of the pty master while running with a tty (resize), else -1 */
    struct eng_rt_process proc;
    struct ctr_watch watch;
    int refs;
};

/* The module's global state. */
struct ctr_registry {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct eng_ctr **v;
    size_t n;
    struct eng_ctr_exec **execs; /* every exec instance, for /exec/{id} */
    size_t nexecs;
    struct eng_daemon *daemon;
    char *root; /* <data-root>/containers */
    struct eng_cgroup_manager *cgroups;
    int epfd;
    int wake_fd;
    struct ctr_watch wake_watch;
    pthread_t supervisor;
    bool running;
    bool shutting_down;
    int lock_fd; /* the data root's lock, held for the daemon's life */
};

extern struct ctr_registry ctrs;

/* ---- ctr-store.c: the table and the records ---- */

/* Finds by full ID, unique ID prefix or name (with or without '/'). Takes a reference (release
 * with ctr_unref) so the container outlives the lock. 404 "No such container: x". Locks. */
struct eng_ctr *ctr_get(const char *ref, struct mc_error **err);
/* The same with ctrs.lock held; no reference taken. */
struct eng_ctr *ctr_find_locked(const char *ref, struct mc_error **err);
void ctr_ref_locked(struct eng_ctr *c);
void ctr_unref(struct eng_ctr *c);
MC_DEFINE_CLEANUP(struct eng_ctr, ctr_unref)
#define _cleanup_ctr_ _cleanup_(ctr_unrefp)
void ctr_unref_locked(struct eng_ctr *c);
/* Adds a new container to the table; MC_ERR_EXISTS (409) when the name is taken. Locked. */
int ctr_add_locked(struct eng_ctr *c, struct mc_error **err);
/* Takes c out of the table (the caller removes its files). Locked. */
void ctr_remove_locked(struct eng_ctr *c);
/* Writes <dir>/config.v2.json atomically (with ctrs.lock held: state is consistent). */
int ctr_save_locked(struct eng_ctr *c, struct mc_error **err);
/* Loads every record under ctrs.root. */
int ctr_load_all(struct mc_error **err);
void ctr_free(struct eng_ctr *c);
/* A new 64-hex ID unused in the table. Locked. */
void ctr_new_id_locked(char out[65]);
/* Broadcasts ctrs.changed. Locked. */
void ctr_changed_locked(void);

/* ---- ctr-super.c: the supervisor ---- */

int ctr_supervisor_start(struct mc_error **err);
void ctr_supervisor_stop(void);
/* Starts watching a started container (its pidfd and pipes). Locked. */
int ctr_watch_container_locked(struct eng_ctr *c, struct mc_error **err);
/* Starts watching an exec process. Locked. */
int ctr_watch_exec_locked(struct eng_ctr_exec *e, struct mc_error **err);
/* Wakes the supervisor (a restart time changed). */
void ctr_supervisor_wake(void);
/* Attached clients' queues: a new one (want stdout/stderr) and its removal; the end of the
 * output marks every queue of c finished. Locked. */
struct ctr_sub *ctr_sub_add_locked(struct eng_ctr *c, bool want_stdout, bool want_stderr);
void ctr_sub_remove_locked(struct eng_ctr *c, struct ctr_sub *s);
void ctr_subs_eof_locked(struct eng_ctr *c);

/* ---- ctr-life.c: lifecycle ---- */

/* Starts c (created or exited). 304 (MC_ERR_NOT_MODIFIED) when running. c is referenced. */
int ctr_start(struct eng_ctr *c, struct mc_error **err);
/* Stops c: signal (StopSignal or SIGTERM), timeout_s seconds (-1: the container's StopTimeout
 * or 10), then SIGKILL; returns once it exited. 304 when not running. */
int ctr_stop(struct eng_ctr *c, int timeout_s, const char *signal, struct mc_error **err);
int ctr_kill(struct eng_ctr *c, const char *signal, struct mc_error **err);
int ctr_restart(struct eng_ctr *c, int timeout_s, struct mc_error **err);
int ctr_pause(struct eng_ctr *c, bool pause, struct mc_error **err);
int ctr_rename(struct eng_ctr *c, const char *name, struct mc_error **err);
/* Removes c (force: kill it first). 409 when running without force. */
int ctr_delete(struct eng_ctr *c, bool force, struct mc_error **err);
/* What the supervisor calls when a container's first process has exited and its output is
 * drained. Locked. */
void ctr_exited_locked(struct eng_ctr *c, int code);
/* Runs scheduled restarts whose time has come; returns the ms until the next (-1: none). */
int64_t ctr_run_restarts(void);
/* Removes a container's files and cgroup and takes it out of the table (AutoRemove, rm). */
int ctr_destroy(struct eng_ctr *c, struct mc_error **err);
/* Parses a signal name or number ("SIGTERM", "TERM", "15"); -1 when unknown. */
int ctr_signal_number(const char *s);
/* The create path: builds, saves and adds a container; returns it referenced. */
struct eng_ctr *ctr_create(const char *name, json_t *body, char **ret_warnings,
                           struct mc_error **err);

/* ---- ctr-json.c: inspect and list answers ---- */

/* Publishes an event about c (api-events.h): its name, image and labels as attributes, and
 * extra ones (stolen; NULL for none). Locked. */
void ctr_event_locked(const struct eng_ctr *c, const char *action, json_t *extra);
/* A time as dockerd writes it (RFC 3339 with nanoseconds; 0 is "0001-01-01T00:00:00Z"). */
json_t *ctr_time_json(int64_t ns);
json_t *ctr_inspect_json_locked(const struct eng_ctr *c);
/* Appends c's list summary as a JSON object's members (without the braces). */
void ctr_summary_write_locked(struct mc_buf *b, const struct eng_ctr *c, int64_t now_ns);
json_t *ctr_exec_inspect_json_locked(const struct eng_ctr_exec *e);
/* Fills the filter view of c. Locked. */
void ctr_view_locked(const struct eng_ctr *c, struct eng_ctr_view *v);

/* ---- ctr-exec.c ---- */

struct eng_ctr_exec *ctr_exec_create(struct eng_ctr *c, json_t *body, struct mc_error **err);
/* Publishes an exec's event on its container, as dockerd: "exec_create: CMD ARGS",
 * "exec_start: CMD ARGS" (with_cmd), "exec_die" with the exit code. Locked. */
void ctr_exec_event_locked(const struct eng_ctr_exec *e, const char *action, bool with_cmd);
struct eng_ctr_exec *ctr_exec_get(const char *id, struct mc_error **err);
struct eng_ctr_exec *ctr_exec_get_locked(const char *id);
void ctr_exec_unref(struct eng_ctr_exec *e);
/* Starts e; the process's fds come back in ret (stdin/stdout/stderr or pty). */
int ctr_exec_start(struct eng_ctr_exec *e, bool detach, struct eng_rt_process *ret,
                   struct mc_error **err);
/* Resizes a running exec's tty (nothing without one). */
int ctr_exec_resize(struct eng_ctr_exec *e, unsigned short h, unsigned short w,
                    struct mc_error **err);
/* Forgets the exec instances of c (container stopped or removed). Locked. */
void ctr_exec_drop_locked(struct eng_ctr *c);

/* ---- ctr-top.c ---- */

/* docker top's answer for the pids of a container ({"Titles":[...],"Processes":[[...]]}). */
json_t *ctr_top_json(const pid_t *pids, size_t n, struct mc_error **err);

#endif
