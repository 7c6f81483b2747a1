/* The provisioner's entry points (provision.h): one SSH session per action, the steps of
 * DESIGN.md §5 with a progress line and a timeout each, and the engine actions the generic
 * driver leaves to us. */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "certs.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "provision.h"
#include "remote.h"
#include "ssh.h"
#include "steps.h"
#include "strv.h"
#include "timeutil.h"
#include "url.h"
#include "util.h"
#include "wait.h"
#include "xalloc.h"

/* One provisioner action on one machine: its SSH session and what the steps need. */
struct run {
    struct machine_handle *h;
    struct driver_ssh_target target;
    char *identity;
    char *known_hosts;
    char *ip;
    struct prov_ssh *ssh;
    struct prov_remote remote;
    struct prov_facts facts;
    struct prov_plan plan;
    char *engine_binary;
    char **labels, **opts, **env, **sans;
    char *tls_ca, *tls_cert, *tls_key;
    char *server_cert, *server_key; /* the store's, for the plan */
    int64_t ssh_timeout_ms, step_timeout_ms;
    int64_t last_report_ms;
};

static void
run_clear(struct run *r)
{
    driver_ssh_target_clear(&r->target);
    free(r->identity);
    free(r->known_hosts);
    free(r->ip);
    prov_ssh_free(r->ssh);
    prov_remote_clear(&r->remote);
    prov_facts_clear(&r->facts);
    free(r->engine_binary);
    strv_free(r->labels);
    strv_free(r->opts);
    strv_free(r->env);
    strv_free(r->sans);
    free(r->tls_ca);
    free(r->tls_cert);
    free(r->tls_key);
    free(r->server_cert);
    free(r->server_key);
}

/* ---- what the record says ---- */

static json_t *
host_section(struct machine_handle *h)
{
    return store_machine_section(h->rec, "host");
}

static enum prov_init
recorded_init(struct machine_handle *h)
{
    const char *s = mc_json_str(store_machine_get_section(h->rec, "host"), "init");
    for (int i = 0; s && i < PROV_INIT__MAX; i++)
        if (streq(s, prov_init_name(i)))
            return i;
    return PROV_INIT_NONE;
}

static bool
engine_installed(struct machine_handle *h)
{
    return mc_json_bool(store_machine_get_section(h->rec, "host"), "installed", false);
}

/* The machined to upload: --engine-binary, else next to this program (installed layout:
 * BINDIR/../libexec/machine/machined; build tree: cli/../engine/machined). */
static char *
find_engine_binary(struct machine_handle *h, struct mc_error **err)
{
    const char *flag = machine_flag_str(h, "engine_binary");
    if (!isempty(flag)) {
        if (access(flag, R_OK) < 0)
            return mc_error_sys(err, errno, "--engine-binary '%s' cannot be read", flag), NULL;
        return xstrdup(flag);
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n < 0)
        return mc_error_sys(err, errno, "Cannot find this program's folder"), NULL;
    self[n] = '\0';
    _cleanup_free_ char *dir = mc_dirname(self);
    static const char *const rel[] = { "machined", "../libexec/machine/machined",
                                       "../lib/machine/machined", "../engine/machined" };
    for (size_t i = 0; i < ELEMENTSOF(rel); i++) {
        char *p = mc_path_join(dir, rel[i]);
        if (access(p, R_OK) == 0)
            return p;
        free(p);
    }
    return mc_error_set(err, MC_ERR_NOT_FOUND,
                        "No machined to install was found next to '%s' (looked for machined, "
                        "../libexec/machine/machined and ../engine/machined); give one with "
                        "--engine-binary",
                        self),
           NULL;
}

/* ---- the session ---- */

static void
upload_progress(void *userdata, uint64_t sent, uint64_t total)
{
    struct run *r = userdata;
    int64_t now = mc_now_ms();
    if (r->last_report_ms == 0) /* the first piece: start the clock, say nothing yet */
        r->last_report_ms = now;
    if (sent < total && now - r->last_report_ms < 1000)
        return;
    r->last_report_ms = now;
    if (sent < total)
        machine_progress(r->h, "      uploading machined: %llu of %llu bytes",
                         (unsigned long long)sent, (unsigned long long)total);
}

static int
run_init(struct run *r, struct machine_handle *h, struct mc_error **err)
{
    r->h = h;
    r->ssh_timeout_ms = machine_flag_int(h, "ssh_timeout_ms", MACHINE_SSH_TIMEOUT_MS);
    r->step_timeout_ms = machine_flag_int(h, "provision_timeout_ms", MACHINE_PROVISION_TIMEOUT_MS);
    if (driver_get_ssh_target(h->driver, &h->ctx, &r->target, err) < 0)
        return mc_error_prefix(err, "%s: ", h->driver->name);
    const char *user = machine_flag_str(h, "ssh_user");
    if (!isempty(user)) {
        free(r->target.user);
        r->target.user = xstrdup(user);
    }
    r->identity =
            r->target.identity ? xstrdup(r->target.identity) : mc_path_join(h->dir, "id_ed25519");
    r->known_hosts = mc_path_join(h->dir, "known_hosts");
    r->ip = driver_get_ip(h->driver, &h->ctx, err);
    if (!r->ip)
        return mc_error_prefix(err, "%s: ", h->driver->name);
    r->tls_ca = mc_path_join(h->certs_dir, "ca.pem");
    r->tls_cert = mc_path_join(h->certs_dir, "cert.pem");
    r->tls_key = mc_path_join(h->certs_dir, "key.pem");
    return 0;
}

static int
connect_ssh(struct run *r, struct mc_error **err)
{
    struct prov_ssh_config c = { .host = r->target.host,
                                 .port = r->target.port,
                                 .user = r->target.user,
                                 .identity = r->identity,
                                 .known_hosts = r->known_hosts };
    int attempts = 0;
    if (prov_wait_ssh(&c, mc_now_ms() + r->ssh_timeout_ms, &r->ssh, &attempts, err) < 0)
        return -1;
    bool root = isempty(r->target.user) || streq(r->target.user, "root");
    prov_remote_init_ssh(&r->remote, r->ssh, !root);
    return attempts;
}

static int64_t
step_deadline(const struct run *r)
{
    return mc_now_ms() + r->step_timeout_ms;
}

/* One numbered step: a progress line with its detail and duration, or an error naming it. */
typedef int (*step_fn)(struct run *r, char **ret_detail, struct mc_error **err);
struct step {
    const char *name;
    step_fn fn;
    bool ssh; /* bounded by --ssh-timeout (else --provision-timeout) */
};

static int
step_failed(const struct run *r, int i, int n, const struct step *st, int64_t t0,
            struct mc_error **err)
{
    double secs = (double)(mc_now_ms() - t0) / 1000.0;
    if (!err || !mc_error_is(*err, MC_ERR_TIMEOUT))
        return mc_error_prefix(err, "step %d/%d '%s' failed after %.2f s: ", i, n, st->name, secs);
    return mc_error_prefix(err, "step %d/%d '%s' failed after %.2f s, its limit (%s %gs): ", i, n,
                           st->name, secs, st->ssh ? "--ssh-timeout" : "--provision-timeout",
                           (double)(st->ssh ? r->ssh_timeout_ms : r->step_timeout_ms) / 1000.0);
}

static int
run_steps(struct run *r, const struct step *steps, int n, struct mc_error **err)
{
    for (int i = 0; i < n; i++) {
        int64_t t0 = mc_now_ms();
        r->plan.deadline_ms = t0 + r->step_timeout_ms;
        _cleanup_free_ char *detail = NULL;
        if (steps[i].fn(r, &detail, err) < 0)
            return step_failed(r, i + 1, n, &steps[i], t0, err);
        machine_progress(r->h, "  (%d/%d) %-20s %s [%.2f s]", i + 1, n, steps[i].name,
                         detail ? detail : "", (double)(mc_now_ms() - t0) / 1000.0);
    }
    return 0;
}

/* ---- the steps ---- */

static int
s_wait_ssh(struct run *r, char **ret_detail, struct mc_error **err)
{
    int attempts = connect_ssh(r, err);
    if (attempts < 0)
        return -1;
    *ret_detail = xasprintf("%s@%s (%d attempt%s)", r->target.user ? r->target.user : "root",
                            prov_ssh_peer(r->ssh), attempts, attempts == 1 ? "" : "s");
    return 0;
}

static int
s_facts(struct run *r, char **ret_detail, struct mc_error **err)
{
    if (prov_step_facts(&r->remote, &r->plan, &r->facts, ret_detail, err) < 0)
        return -1;
    /* The host passed the checks: from the next step on it may hold something of ours, and rm
     * must go and remove it. One save records that with the facts, the init system and the
     * data root (the rest is saved with the machine's create state). */
    json_t *host = host_section(r->h);
    json_t *f = prov_facts_to_json(&r->facts);
    json_object_update(host, f);
    json_decref(f);
    json_object_set_new(host, "installed", json_true());
    json_object_set_new(host, "init", json_string(prov_init_name(r->facts.init)));
    json_object_set_new(host, "data_root", json_string(prov_engine_data_root(&r->plan.engine)));
    return machine_save(r->h, err);
}

static int
s_hostname(struct run *r, char **ret_detail, struct mc_error **err)
{
    return prov_step_hostname(&r->remote, &r->plan, &r->facts, ret_detail, err);
}

static int
s_upload(struct run *r, char **ret_detail, struct mc_error **err)
{
    return prov_step_upload(&r->remote, &r->plan, &r->facts, ret_detail, err);
}

/* upgrade and regenerate-certs: the service installed at provisioning, restarted. */
static int
s_restart(struct run *r, char **ret_detail, struct mc_error **err)
{
    enum prov_init init = recorded_init(r->h);
    if (prov_engine_action(&r->remote, init, PROV_SERVICE_RESTART, r->plan.deadline_ms, err) < 0)
        return -1;
    *ret_detail = xasprintf("restarted through %s", prov_service_path(init));
    return 0;
}

/* SANs: every address the driver knows (the engine's and SSH's), plus --tls-san. */
static void
collect_sans(struct run *r)
{
    strv_free(r->sans);
    r->sans = strv_new();
    strv_add(&r->sans, r->ip);
    if (r->target.host && !streq(r->target.host, r->ip))
        strv_add(&r->sans, r->target.host);
    _cleanup_strv_ char **extra = machine_flag_strv(r->h, "tls_san");
    STRV_FOREACH (s, extra)
        if (!strv_contains(r->sans, *s))
            strv_add(&r->sans, *s);
}

static int
s_certs(struct run *r, char **ret_detail, struct mc_error **err)
{
    struct store *s = r->h->store;
    const char *name = r->h->rec->name;
    collect_sans(r);
    /* machine-ops installs the client files before provisioning; an older store may lack them. */
    if (!store_machine_has_tls(s, name) &&
        (prov_certs_ensure_ca(s, err) < 0 || prov_certs_install_client(s, name, err) < 0))
        return -1;
    int days = (int)machine_flag_int(r->h, "tls_validity_days", 0);
    if (prov_certs_issue_server(s, name, r->sans, days, err) < 0)
        return -1;
    free(r->server_cert);
    free(r->server_key);
    r->server_cert = store_machine_path(s, name, "server.pem");
    r->server_key = store_machine_path(s, name, "server-key.pem");
    /* kept in r: with certs_with_service the service step reads them */
    r->plan.ca_path = r->tls_ca;
    r->plan.cert_path = r->server_cert;
    r->plan.key_path = r->server_key;
    _cleanup_free_ char *uploaded = NULL;
    if (prov_step_certs(&r->remote, &r->plan, &uploaded, err) < 0)
        return -1;
    /* Saved with the create state; regenerate-certs saves it itself. */
    json_object_set_new(host_section(r->h), "tls_sans", mc_json_from_strv(r->sans));
    _cleanup_free_ char *list = strv_join(r->sans, ", ");
    *ret_detail = xasprintf("issued for %s, localhost; %s", list, uploaded);
    return 0;
}

static int
s_service(struct run *r, char **ret_detail, struct mc_error **err)
{
    return prov_step_service(&r->remote, &r->plan, &r->facts, ret_detail, err);
}

static int
s_firewall(struct run *r, char **ret_detail, struct mc_error **err)
{
    return prov_step_firewall(&r->remote, &r->plan, &r->facts, ret_detail, err);
}

static int
wait_engine(struct run *r, int64_t deadline, struct mc_error **err)
{
    struct prov_tls_files tls = { r->tls_ca, r->tls_cert, r->tls_key };
    int port = (int)machine_flag_int(r->h, "engine_port", MACHINE_ENGINE_PORT);
    if (prov_wait_engine(r->ip, port, &tls, deadline, err) == 0)
        return 0;
    return r->ssh ? prov_engine_log_attach(&r->remote, r->facts.init, err) : -1;
}

static int
s_wait_engine(struct run *r, char **ret_detail, struct mc_error **err)
{
    if (wait_engine(r, r->plan.deadline_ms, err) < 0)
        return -1;
    *ret_detail = xasprintf("GET https://%s:%lld/_ping answered over mutual TLS", r->ip,
                            (long long)machine_flag_int(r->h, "engine_port", MACHINE_ENGINE_PORT));
    return 0;
}

static void
plan_init(struct run *r)
{
    struct machine_handle *h = r->h;
    r->labels = machine_flag_strv(h, "engine_label");
    r->opts = machine_flag_strv(h, "engine_opt");
    r->env = machine_flag_strv(h, "engine_env");
    r->plan = (struct prov_plan){
        .name = h->rec->name,
        .engine_binary = r->engine_binary,
        .engine = { .port = (int)machine_flag_int(h, "engine_port", MACHINE_ENGINE_PORT),
                    .labels = r->labels,
                    .opts = r->opts,
                    .env = r->env },
        .cache_dir = h->cache_dir,
        .upload_progress = upload_progress,
        .userdata = r,
    };
}

static int
begin(struct run *r, struct machine_handle *h, bool need_binary, struct mc_error **err)
{
    if (run_init(r, h, err) < 0)
        return -1;
    if (need_binary && !(r->engine_binary = find_engine_binary(h, err)))
        return -1;
    plan_init(r);
    return 0;
}

int
prov_provision_host(struct machine_handle *h, struct mc_error **err)
{
    static const struct step steps[] = {
        { "wait for SSH", s_wait_ssh, true }, { "host facts", s_facts },
        { "host name", s_hostname },          { "upload machined", s_upload },
        { "certificates", s_certs },          { "engine service", s_service },
        { "host firewall", s_firewall },      { "wait for engine", s_wait_engine },
    };
    _cleanup_(run_clear) struct run r = { 0 };
    if (begin(&r, h, true, err) < 0)
        return -1;
    /* The certificates go with the service's files: one command (a login shell, a sudo) less. */
    r.plan.certs_with_service = true;
    int64_t t0 = mc_now_ms();
    if (run_steps(&r, steps, ELEMENTSOF(steps), err) < 0)
        return -1;
    machine_progress(h, "  provisioned in %.2f s", (double)(mc_now_ms() - t0) / 1000.0);
    return 0;
}

/* ---- engine actions (generic driver's start, stop, restart, rm; status) ---- */

static int
engine_action(struct machine_handle *h, enum prov_service_action a, struct mc_error **err)
{
    _cleanup_(run_clear) struct run r = { 0 };
    if (begin(&r, h, false, err) < 0 || connect_ssh(&r, err) < 0)
        return -1;
    r.facts.init = recorded_init(h);
    int64_t t0 = mc_now_ms();
    if (prov_engine_action(&r.remote, r.facts.init, a, step_deadline(&r), err) < 0)
        return -1;
    if (a != PROV_SERVICE_STOP && wait_engine(&r, step_deadline(&r), err) < 0)
        return mc_error_prefix(err,
                               "the engine did not answer after %s: ", prov_service_action_name(a));
    machine_progress(h, "Engine of machine '%s': %s done [%.2f s]", h->rec->name,
                     prov_service_action_name(a), (double)(mc_now_ms() - t0) / 1000.0);
    return 0;
}

int
prov_engine_start(struct machine_handle *h, struct mc_error **err)
{
    return engine_action(h, PROV_SERVICE_START, err);
}

int
prov_engine_stop(struct machine_handle *h, struct mc_error **err)
{
    return engine_action(h, PROV_SERVICE_STOP, err);
}

int
prov_engine_restart(struct machine_handle *h, struct mc_error **err)
{
    return engine_action(h, PROV_SERVICE_RESTART, err);
}

int
prov_engine_remove(struct machine_handle *h, bool force, struct mc_error **err)
{
    if (!engine_installed(h)) {
        machine_progress(h, "Nothing of machine's was installed on the host of '%s'", h->rec->name);
        return 0;
    }
    _cleanup_(run_clear) struct run r = { 0 };
    if (begin(&r, h, false, err) < 0 || connect_ssh(&r, err) < 0)
        return mc_error_prefix(err, "cannot reach the host to remove the engine (rm -f forgets "
                                    "the machine anyway): ");
    const char *root = mc_json_str(store_machine_get_section(h->rec, "host"), "data_root");
    _cleanup_free_ char *removed = NULL;
    if (prov_engine_uninstall(&r.remote, recorded_init(h), root ? root : PROV_ENGINE_DATA_ROOT,
                              h->purge, step_deadline(&r), &removed, err) < 0)
        return -1;
    _cleanup_strv_ char **lines = strv_split(removed, "\n");
    _cleanup_free_ char *list = strv_join(lines, ", ");
    machine_progress(h, "Uninstalled the engine from %s: %s%s", prov_ssh_peer(r.ssh),
                     isempty(list) ? "nothing was left" : list,
                     h->purge ? "" : " (data root kept; rm --purge removes it)");
    return 0;
}

int
prov_engine_state(struct machine_handle *h, int64_t deadline_ms, enum driver_state *ret,
                  struct mc_error **err)
{
    const char *url = store_machine_url(h->rec);
    struct mc_url u = { 0 };
    if (!url || mc_url_parse(url, MACHINE_ENGINE_PORT, &u, err) < 0)
        return mc_error_set(err, MC_ERR_INVALID, "machine '%s' has no engine URL recorded",
                            h->rec->name);
    _cleanup_free_ char *ca = mc_path_join(h->certs_dir, "ca.pem");
    _cleanup_free_ char *cert = mc_path_join(h->certs_dir, "cert.pem");
    _cleanup_free_ char *key = mc_path_join(h->certs_dir, "key.pem");
    struct prov_tls_files tls = { ca, cert, key };
    _cleanup_error_ struct mc_error *e = NULL;
    int64_t deadline = deadline_ms > 0 ? deadline_ms : mc_now_ms() + 5000;
    *ret = prov_engine_ping(u.host, u.port, &tls, deadline, &e) == 0 ? DRIVER_STATE_RUNNING
                                                                     : DRIVER_STATE_STOPPED;
    mc_url_clear(&u);
    return 0;
}

int
prov_upgrade_engine(struct machine_handle *h, struct mc_error **err)
{
    static const struct step steps[] = {
        { "wait for SSH", s_wait_ssh, true }, { "host facts", s_facts },
        { "upload machined", s_upload },      { "restart engine", s_restart },
        { "wait for engine", s_wait_engine },
    };
    _cleanup_(run_clear) struct run r = { 0 };
    if (begin(&r, h, true, err) < 0)
        return -1;
    r.plan.force_upload = true;
    int64_t t0 = mc_now_ms();
    if (run_steps(&r, steps, ELEMENTSOF(steps), err) < 0)
        return -1;
    machine_progress(h, "Upgraded the engine of '%s'; images and containers are kept [%.2f s]",
                     h->rec->name, (double)(mc_now_ms() - t0) / 1000.0);
    return 0;
}

int
prov_regenerate_certs(struct machine_handle *h, struct mc_error **err)
{
    static const struct step steps[] = {
        { "wait for SSH", s_wait_ssh, true },
        { "certificates", s_certs },
        { "restart engine", s_restart },
        { "wait for engine", s_wait_engine },
    };
    _cleanup_(run_clear) struct run r = { 0 };
    if (begin(&r, h, false, err) < 0)
        return -1;
    r.facts.init = recorded_init(h);
    if (run_steps(&r, steps, ELEMENTSOF(steps), err) < 0)
        return -1;
    machine_progress(h, "Regenerated the certificates of '%s'", h->rec->name);
    return machine_save(h, err);
}
