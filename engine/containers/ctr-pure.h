/* The pure half of the containers module: Docker's rules as functions of their inputs (no I/O,
 * no clock, no locks), so that unit tests check them one by one. */
#ifndef ENG_CTR_PURE_H
#define ENG_CTR_PURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cgroup.h"
#include "error.h"
#include "runtime.h"
#include "strbuf.h"

enum eng_ctr_state {
    ENG_CTR_CREATED,
    ENG_CTR_RUNNING,
    ENG_CTR_PAUSED,
    ENG_CTR_RESTARTING,
    ENG_CTR_EXITED,
    ENG_CTR_DEAD,
    ENG_CTR_REMOVING,
    ENG_CTR__STATE_MAX
};

/* "created", "running", "paused", "restarting", "exited", "dead", "removing". */
const char *eng_ctr_state_name(enum eng_ctr_state s);
/* The state for a name; -1 when unknown. */
int eng_ctr_state_from_name(const char *name);

/* What the status text and the list filters look at. */
struct eng_ctr_state_info {
    enum eng_ctr_state state;
    int exit_code;
    int64_t started_ns;  /* 0: never started */
    int64_t finished_ns; /* 0: never finished */
};

/* docker ps's Status column ("Up 3 seconds", "Exited (0) 2 seconds ago", "Created",
 * "Up 1 second (Paused)", "Restarting (1) 5 seconds ago", "Dead", "Removal In Progress") at
 * time now_ns; newly allocated. */
char *eng_ctr_status_text(const struct eng_ctr_state_info *s, int64_t now_ns);

/* ---- restart policies ---- */

enum eng_ctr_restart_policy {
    ENG_CTR_RESTART_NO,
    ENG_CTR_RESTART_ALWAYS,
    ENG_CTR_RESTART_UNLESS_STOPPED,
    ENG_CTR_RESTART_ON_FAILURE,
};

struct eng_ctr_restart {
    enum eng_ctr_restart_policy policy;
    int max_retries; /* on-failure: 0 means no limit */
};

/* HostConfig.RestartPolicy ({"Name":"on-failure","MaximumRetryCount":3}; NULL or "" is no). */
int eng_ctr_restart_parse(const json_t *policy, struct eng_ctr_restart *ret, struct mc_error **err);
/* Docker's RestartManager.ShouldRestart: always; unless-stopped unless manually stopped;
 * on-failure when the code is not 0 and the retries allow it. */
bool eng_ctr_should_restart(const struct eng_ctr_restart *p, int exit_code, bool manually_stopped,
                            int restart_count);
/* The delay before the next restart: 100 ms, doubled each time, back to 100 ms after a run of
 * at least 10 s, at most 1 minute. */
int64_t eng_ctr_restart_delay_ms(int64_t previous_ms, int64_t ran_ms);

/* ---- create ---- */

/* Fills what the user left out of a create body's Config from the image's config, as dockerd's
 * merge(): User, Env (image variables the user did not set, appended), Labels, Cmd and
 * Entrypoint (the image's Cmd only when the user gave neither), WorkingDir, ExposedPorts,
 * Volumes, StopSignal. image_config may be NULL. */
void eng_ctr_merge_config(json_t *config, const json_t *image_config);
/* The process to run: Entrypoint followed by Cmd. "No command specified" (MC_ERR_INVALID)
 * when both are empty. */
int eng_ctr_command(const json_t *config, char **ret_path, char ***ret_args, struct mc_error **err);
/* A container name from the user: "/name" (leading slash added); MC_ERR_INVALID with
 * dockerd's wording when it does not match [a-zA-Z0-9][a-zA-Z0-9_.-]+. */
int eng_ctr_name_normalize(const char *name, char **ret, struct mc_error **err);
/* A random "adjective_surname" name as docker makes them, from a seed. */
char *eng_ctr_name_random(uint64_t seed);

/* A bind mount from HostConfig.Binds ("SRC:DST[:OPTS]"). */
struct eng_ctr_bind {
    char *source;
    char *destination;
    char *mode; /* the options as given ("ro", "rw,z", "") */
    bool readonly;
};

/* Parses HostConfig.Binds; named volumes (a SRC that is not an absolute path) are refused
 * with MC_ERR_UNSUPPORTED. */
int eng_ctr_binds_parse(const json_t *binds, struct eng_ctr_bind **ret, size_t *ret_n,
                        struct mc_error **err);
void eng_ctr_binds_free(struct eng_ctr_bind *b, size_t n);

/* What HostConfig asks of the runtime beyond binds and the command. */
struct eng_ctr_host_opts {
    struct eng_cgroup_limits limits;
    enum eng_rt_net net;
    bool net_default; /* NetworkMode default/bridge: loopback only until the bridge exists */
    bool privileged;
    bool readonly_rootfs;
    bool auto_remove;
    bool seccomp_unconfined;
    bool no_new_privs;
    uint64_t caps;
    struct eng_rt_rlimit *rlimits;
    size_t nrlimits;
    struct eng_ctr_restart restart;
};

/* Reads HostConfig (NULL is all defaults): resources, NetworkMode (default, bridge, none,
 * host), Privileged, ReadonlyRootfs, AutoRemove, SecurityOpt (seccomp=unconfined,
 * no-new-privileges[=bool] or [:bool]; apparmor= and label= are accepted and ignored),
 * CapAdd/CapDrop, Ulimits, RestartPolicy. no_new_privs is on unless SecurityOpt says
 * no-new-privileges=false (privileged containers included). Refuses what machined cannot do (other network modes: 400/501). */
int eng_ctr_host_opts_parse(const json_t *host_config, struct eng_ctr_host_opts *ret,
                            struct mc_error **err);
void eng_ctr_host_opts_clear(struct eng_ctr_host_opts *o);

/* The process environment: the config's Env with PATH (when missing), HOSTNAME, TERM=xterm
 * (tty) and HOME (when missing) as dockerd adds them. New vector. */
char **eng_ctr_process_env(const json_t *env, const char *hostname, bool tty, const char *home);

/* ---- list filters ---- */

/* What a container looks like to the filters of GET /containers/json. */
struct eng_ctr_view {
    const char *id;
    const char *name;  /* with '/' */
    const char *image; /* as the user typed it */
    const char *image_id;
    const json_t *labels;
    struct eng_ctr_state_info state;
    int64_t created_ns;
};

/* Checks filters ({"status":{"exited":true},...}) are ones machined knows: id, name, label,
 * status, exited, ancestor, before, since. MC_ERR_INVALID otherwise, with dockerd's wording. */
int eng_ctr_filters_check(const json_t *filters, struct mc_error **err);
/* True when v passes every filter except before/since (which need the other containers). */
bool eng_ctr_filters_match(const json_t *filters, const struct eng_ctr_view *v);

/* ---- json-file logs ---- */

/* Appends the JSON string escape of n bytes (no quotes), as Go's encoder writes it: invalid
 * UTF-8 becomes U+FFFD, <, > and & are \u escaped. */
void eng_ctr_json_escape(struct mc_buf *out, const char *data, size_t n);

/* Appends one json-file line: {"log":"...","stream":"stdout","time":"..."}\n. */
void eng_ctr_log_encode(struct mc_buf *out, const char *stream, const char *data, size_t n,
                        int64_t time_ns);

struct eng_ctr_log_entry {
    char *log; /* the bytes, NUL-terminated */
    size_t len;
    bool is_stderr;
    int64_t time_ns;
};

/* Parses one json-file line. */
int eng_ctr_log_decode(const char *line, size_t n, struct eng_ctr_log_entry *ret,
                       struct mc_error **err);
void eng_ctr_log_entry_clear(struct eng_ctr_log_entry *e);
/* docker's since/until values ("1700000000", "1700000000.5", RFC 3339) as ns; 0 for "". */
int eng_ctr_parse_log_time(const char *s, int64_t *ret_ns, struct mc_error **err);

/* Appends the 8-byte stream header (type: 1 stdout, 2 stderr) and the payload. */
void eng_ctr_frame(struct mc_buf *out, int type, const void *data, size_t n);

/* ---- stats (ctr-statsparse.c) ---- */

/* A process's CPU time from /proc/PID/stat, in clock ticks: utime + cutime and
 * stime + cstime. False when the text is not such a line. */
bool eng_ctr_parse_proc_stat_times(const char *text, uint64_t *ret_user, uint64_t *ret_sys);
/* The host's CPU time from /proc/stat's "cpu" line, in clock ticks, as dockerd counts it
 * (user, nice, system, idle, iowait, irq, softirq). */
bool eng_ctr_parse_system_cpu(const char *text, uint64_t *ret_ticks);
/* "key value" lines (memory.stat, cpu.stat) as a new JSON object of integers; other lines are
 * left out. */
json_t *eng_ctr_parse_keyed_values(const char *text);
/* /proc/PID/net/dev as docker stats' "networks" object (rx_/tx_ bytes, packets, errors,
 * dropped per interface), loopback left out; new. */
json_t *eng_ctr_parse_net_dev(const char *text);

#endif
