/* machined: the container engine daemon (DESIGN.md §7). Reads its configuration, listens on
 * the configured hosts (mutual TLS on tcp, a root-only unix socket), starts the engine's
 * modules, tells systemd (Type=notify) or the --daemonize parent that it is ready, and serves
 * until SIGTERM. See docs/man/machined.8. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api-server.h"
#include "api-tls.h"
#include "crypto.h"
#include "engine.h"
#include "fs.h"
#include "log.h"
#include "strv.h"
#include "url.h"
#include "util.h"
#include "xalloc.h"

static void
usage(FILE *f)
{
    fprintf(f,
            "Usage: machined [OPTIONS]\n\n"
            "The machine container engine: the Docker Engine API (1.44) over mutual TLS and a\n"
            "root-only unix socket.\n\n"
            "Options:\n"
            "  -H, --host URL          listen on tcp://ADDR:PORT (mutual TLS) or unix:///PATH;\n"
            "                          repeatable (default unix:///run/machined.sock)\n"
            "      --tlscacert FILE    CA certificate that signs client certificates\n"
            "      --tlscert FILE      server certificate\n"
            "      --tlskey FILE       server key\n"
            "      --tlsverify         accepted for dockerd compatibility (always on for tcp)\n"
            "      --data-root DIR     images and containers (default " ENG_DEFAULT_DATA_ROOT ")\n"
            "      --config FILE       JSON configuration (default " ENG_DEFAULT_CONFIG
            " when present);\n"
            "                          command-line flags override its keys\n"
            "      --label KEY=VALUE   engine label shown by `docker info`; repeatable\n"
            "      --log-format FMT    json (default) or text\n"
            "      --log-level LEVEL   debug, info (default), warn, error\n"
            "  -D, --debug             same as --log-level debug\n"
            "      --log-file FILE     append logs to FILE instead of stderr\n"
            "      --pidfile FILE      write the daemon's pid to FILE\n"
            "      --cgroup-parent PATH  containers' cgroups under PATH (default machined)\n"
            "      --daemonize         detach (fork, setsid) once listening; for init systems\n"
            "                          without supervision (logs: /var/log/machined.log unless\n"
            "                          --log-file)\n"
            "      --live-restore      accepted for dockerd compatibility, not honoured:\n"
            "                          containers are stopped with the daemon (machined(8))\n"
            "      --version           print the version and exit\n"
            "      --help              print this help and exit\n");
}

enum {
    OPT_TLSCACERT = 256,
    OPT_TLSCERT,
    OPT_TLSKEY,
    OPT_TLSVERIFY,
    OPT_DATA_ROOT,
    OPT_CONFIG,
    OPT_LABEL,
    OPT_LOG_FORMAT,
    OPT_LOG_LEVEL,
    OPT_LOG_FILE,
    OPT_PIDFILE,
    OPT_CGROUP_PARENT,
    OPT_DAEMONIZE,
    OPT_LIVE_RESTORE,
    OPT_VERSION,
    OPT_HELP,
};

static const struct option options[] = {
    { "host", required_argument, NULL, 'H' },
    { "tlscacert", required_argument, NULL, OPT_TLSCACERT },
    { "tlscert", required_argument, NULL, OPT_TLSCERT },
    { "tlskey", required_argument, NULL, OPT_TLSKEY },
    { "tlsverify", no_argument, NULL, OPT_TLSVERIFY },
    { "data-root", required_argument, NULL, OPT_DATA_ROOT },
    { "config", required_argument, NULL, OPT_CONFIG },
    { "config-file", required_argument, NULL, OPT_CONFIG },
    { "label", required_argument, NULL, OPT_LABEL },
    { "log-format", required_argument, NULL, OPT_LOG_FORMAT },
    { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
    { "debug", no_argument, NULL, 'D' },
    { "log-file", required_argument, NULL, OPT_LOG_FILE },
    { "pidfile", required_argument, NULL, OPT_PIDFILE },
    { "cgroup-parent", required_argument, NULL, OPT_CGROUP_PARENT },
    { "daemonize", no_argument, NULL, OPT_DAEMONIZE },
    { "live-restore", no_argument, NULL, OPT_LIVE_RESTORE },
    { "version", no_argument, NULL, OPT_VERSION },
    { "help", no_argument, NULL, OPT_HELP },
    { NULL, 0, NULL, 0 },
};

struct cmdline {
    struct eng_config flags; /* only what the command line set */
    char *config_path;
    bool config_given;
    bool live_restore_set;
};

static void
set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = xstrdup(v);
}

/* Returns 0 to go on, 1 when done (--version, --help), 2 on a usage error. */
static int
parse_args(int argc, char **argv, struct cmdline *cl)
{
    struct eng_config *f = &cl->flags;
    int c;
    while ((c = getopt_long(argc, argv, "H:D", options, NULL)) != -1) {
        switch (c) {
        case 'H':
            strv_add(&f->hosts, optarg);
            break;
        case OPT_TLSCACERT:
            set_str(&f->tlscacert, optarg);
            break;
        case OPT_TLSCERT:
            set_str(&f->tlscert, optarg);
            break;
        case OPT_TLSKEY:
            set_str(&f->tlskey, optarg);
            break;
        case OPT_TLSVERIFY:
            break;
        case OPT_DATA_ROOT:
            set_str(&f->data_root, optarg);
            break;
        case OPT_CONFIG:
            set_str(&cl->config_path, optarg);
            cl->config_given = true;
            break;
        case OPT_LABEL:
            strv_add(&f->labels, optarg);
            break;
        case OPT_LOG_FORMAT:
            set_str(&f->log_format, optarg);
            break;
        case OPT_LOG_LEVEL:
            set_str(&f->log_level, optarg);
            break;
        case 'D':
            set_str(&f->log_level, "debug");
            break;
        case OPT_LOG_FILE:
            set_str(&f->log_file, optarg);
            break;
        case OPT_PIDFILE:
            set_str(&f->pidfile, optarg);
            break;
        case OPT_CGROUP_PARENT:
            set_str(&f->cgroup_parent, optarg);
            break;
        case OPT_DAEMONIZE:
            f->daemonize = true;
            break;
        case OPT_LIVE_RESTORE:
            f->live_restore = true;
            cl->live_restore_set = true;
            break;
        case OPT_VERSION:
            printf("machined version %s, API %s\n", MC_VERSION, ENG_API_VERSION);
            return 1;
        case OPT_HELP:
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "machined: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return 0;
}

static void
overlay_str(char **dst, char **src)
{
    if (*src) {
        free(*dst);
        *dst = TAKE_PTR(*src);
    }
}

static void
overlay_strv(char ***dst, char ***src)
{
    if (*src) {
        strv_free(*dst);
        *dst = TAKE_PTR(*src);
    }
}

/* The file's keys, then the command line's on top. */
static int
build_config(struct cmdline *cl, struct eng_config *cfg, struct mc_error **err)
{
    const char *path = cl->config_path ? cl->config_path : ENG_DEFAULT_CONFIG;
    if (cl->config_given || mc_path_exists(path))
        if (eng_config_load_file(cfg, path, err) < 0)
            return -1;
    struct eng_config *f = &cl->flags;
    overlay_strv(&cfg->hosts, &f->hosts);
    overlay_strv(&cfg->labels, &f->labels);
    overlay_str(&cfg->tlscacert, &f->tlscacert);
    overlay_str(&cfg->tlscert, &f->tlscert);
    overlay_str(&cfg->tlskey, &f->tlskey);
    overlay_str(&cfg->data_root, &f->data_root);
    overlay_str(&cfg->log_format, &f->log_format);
    overlay_str(&cfg->log_level, &f->log_level);
    overlay_str(&cfg->log_file, &f->log_file);
    overlay_str(&cfg->pidfile, &f->pidfile);
    overlay_str(&cfg->cgroup_parent, &f->cgroup_parent);
    if (cl->live_restore_set)
        cfg->live_restore = true;
    cfg->daemonize = f->daemonize;
    /* A detached daemon's stderr is /dev/null: keep its log somewhere. */
    if (cfg->daemonize && !cfg->log_file)
        cfg->log_file = xstrdup("/var/log/machined.log");
    return eng_config_finish(cfg, err);
}

static int
setup_logging(const struct eng_config *cfg, struct mc_error **err)
{
    mc_log_set_json(streq(cfg->log_format, "json"));
    mc_log_set_level(MC_LOG_INFO);
    if (cfg->log_level)
        mc_log_set_level((enum mc_log_level)mc_log_level_from_string(cfg->log_level));
    if (cfg->log_file) {
        int fd = open(cfg->log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0)
            return mc_error_sys(err, errno, "Cannot open the log file '%s'", cfg->log_file);
        FILE *f = fdopen(fd, "a");
        if (!f) {
            close(fd);
            return mc_error_sys(err, errno, "Cannot open the log file '%s'", cfg->log_file);
        }
        mc_log_set_stream(f);
    }
    return 0;
}

/* ---- pid file, readiness ---- */

static int
write_pidfile(const char *path, struct mc_error **err)
{
    _cleanup_free_ char *dir = mc_dirname(path);
    if (mc_mkdir_p(dir, 0755, err) < 0)
        return -1;
    _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return mc_error_sys(err, errno, "Cannot open the pid file '%s'", path);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        char other[32] = "";
        ssize_t n = pread(fd, other, sizeof(other) - 1, 0);
        other[n > 0 ? strcspn(other, "\n") : 0] = '\0';
        return mc_error_set(err, MC_ERR_EXISTS,
                            "Another machined (pid %s) holds the pid file '%s'.",
                            *other ? other : "?", path);
    }
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
        return mc_error_sys(err, errno, "Cannot write the pid file '%s'", path);
    return TAKE_FD(fd); /* stays open (and locked) until the daemon exits */
}

/* systemd's readiness protocol (sd_notify) without libsystemd. */
static void
notify_systemd(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (isempty(path) || (path[0] != '/' && path[0] != '@'))
        return;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t n = strlen(path);
    if (n >= sizeof(sa.sun_path))
        return;
    memcpy(sa.sun_path, path, n);
    if (path[0] == '@')
        sa.sun_path[0] = '\0';
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    _cleanup_free_ char *msg = xasprintf("%s\nMAINPID=%d", state, (int)getpid());
    if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
               (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0)
        log_warn("cannot notify systemd at '%s': %s", path, strerror(errno));
}

/* --daemonize: the parent waits until the child is listening (or failed), so an init script's
 * `start` returns with the daemon ready, and exits 0 or 1 accordingly. Returns the pipe to
 * report readiness on (in the child). */
static int
daemonize(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        perror("machined: pipe");
        exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("machined: fork");
        exit(1);
    }
    if (pid > 0) {
        close(p[1]);
        char buf[4096];
        ssize_t n = read(p[0], buf, sizeof(buf) - 1);
        if (n > 0 && buf[0] == '+')
            exit(0);
        if (n > 1)
            fprintf(stderr, "machined: %.*s\n", (int)n - 1, buf + 1);
        else
            fprintf(stderr, "machined: the daemon exited during start-up\n");
        exit(1);
    }
    close(p[0]);
    setsid();
    if (chdir("/") < 0)
        _exit(1);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO)
            close(null);
    }
    return p[1];
}

static void
report_ready(int fd, const struct mc_error *e)
{
    if (fd < 0)
        return;
    _cleanup_free_ char *msg = e ? xasprintf("-%s", e->message) : xstrdup("+");
    if (write(fd, msg, strlen(msg)) < 0) {
        /* the parent is gone: nothing to tell */
    }
    close(fd);
}

/* ---- serving ---- */

static int
block_signals(struct mc_error **err)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    /* Every thread inherits this mask; forked children must reset it before exec. */
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return mc_error_set(err, MC_ERR_FAILED, "Cannot block signals.");
    signal(SIGPIPE, SIG_IGN);
    int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        return mc_error_sys(err, errno, "Cannot create a signalfd");
    return fd;
}

static SSL_CTX *
tls_for(const struct eng_config *cfg, struct mc_error **err)
{
    bool tcp = false;
    STRV_FOREACH (h, cfg->hosts) {
        tcp |= startswith(*h, "tcp://") != NULL;
    }
    if (!tcp)
        return NULL;
    return eng_tls_server_ctx(cfg->tlscacert, cfg->tlscert, cfg->tlskey, err);
}

static int
start(struct eng_daemon *d, struct eng_server *s, SSL_CTX *tls, struct mc_error **err)
{
    if (mc_mkdir_p(d->data_root, 0711, err) < 0)
        return -1;
    if (eng_modules_init(d, err) < 0)
        return -1;
    STRV_FOREACH (h, d->config->hosts) {
        if (eng_server_listen(s, *h, startswith(*h, "tcp://") ? tls : NULL, err) < 0) {
            eng_modules_shutdown(d);
            return -1;
        }
    }
    return 0;
}

/* Waits for signals: SIGHUP is logged (there is nothing to reload), SIGTERM/SIGINT/SIGQUIT
 * end the loop. */
static int
serve(struct eng_server *s, int sigfd, struct mc_error **err)
{
    for (;;) {
        if (eng_server_run(s, sigfd, err) < 0)
            return -1;
        struct signalfd_siginfo si;
        while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
            if (si.ssi_signo == SIGHUP) {
                log_info("SIGHUP received: machined has no configuration to reload");
                continue;
            }
            log_info("signal %d received: shutting down", (int)si.ssi_signo);
            return 0;
        }
    }
}

static int
run(const struct eng_config *cfg, int ready_fd)
{
    struct mc_error *err = NULL;
    int rc = 1;
    int pid_fd = -1;
    _cleanup_close_ int sigfd = block_signals(&err);
    struct eng_daemon d = { .config = cfg,
                            .modules = eng_modules,
                            .data_root = cfg->data_root,
                            .live_restore = cfg->live_restore };
    _cleanup_(SSL_CTX_freep) SSL_CTX *tls = NULL;
    struct eng_server *s = NULL;
    if (sigfd < 0)
        goto out;
    if (cfg->pidfile && (pid_fd = write_pidfile(cfg->pidfile, &err)) < 0)
        goto out;
    tls = tls_for(cfg, &err);
    if (err)
        goto out;
    s = eng_server_new(&d, eng_modules);
    if (start(&d, s, tls, &err) < 0)
        goto out;
    log_info("machined %s ready (API %s, data root '%s')", MC_VERSION, ENG_API_VERSION,
             cfg->data_root);
    notify_systemd("READY=1");
    report_ready(ready_fd, NULL);
    ready_fd = -1;
    rc = serve(s, sigfd, &err) < 0 ? 1 : 0;
    notify_systemd("STOPPING=1");
    eng_server_stop_listening(s);
    eng_modules_shutdown(&d);
    eng_server_shutdown(s, 3000);
out:
    if (err) {
        log_error("%s", err->message);
        report_ready(ready_fd, err);
        mc_error_free(err);
    }
    eng_server_free(s);
    if (pid_fd >= 0) {
        unlink(cfg->pidfile);
        close(pid_fd);
    }
    log_info("machined stopped");
    return rc;
}

int
main(int argc, char **argv)
{
    mc_log_init("machined");
    /* Connection threads share two malloc arenas instead of one per thread (idle RSS). */
    mallopt(M_ARENA_MAX, 2);
    /* No openssl.cnf: it could ask for providers that a static binary cannot load. */
    OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    struct cmdline cl = { 0 };
    int r = parse_args(argc, argv, &cl);
    if (r)
        return r == 1 ? 0 : 2;
    struct eng_config cfg = { 0 };
    struct mc_error *err = NULL;
    if (build_config(&cl, &cfg, &err) < 0) {
        fprintf(stderr, "machined: %s\n", err->message);
        return 1;
    }
    eng_config_clear(&cl.flags);
    free(cl.config_path);
    if (setup_logging(&cfg, &err) < 0) {
        fprintf(stderr, "machined: %s\n", err->message);
        return 1;
    }
    int ready_fd = cfg.daemonize ? daemonize() : -1;
    r = run(&cfg, ready_fd);
    eng_config_clear(&cfg);
    return r;
}
