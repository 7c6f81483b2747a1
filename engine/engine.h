/* machined's daemon-wide types: the configuration, and the modules that make up the engine.
 *
 * A module (system, images, containers, ...) is a const struct eng_module listed once in
 * engine/modules.c. The daemon calls every module's init() in list order at start-up, asks each
 * for its part of GET /info, routes requests through each module's const route table (in list
 * order, first match wins), and calls shutdown() in reverse order on SIGTERM. */
#ifndef ENG_ENGINE_H
#define ENG_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "error.h"

/* What machined runs with: /etc/machined/config.json overlaid by the command line. */
struct eng_config {
    char **hosts;        /* listen URLs: tcp://ADDR:PORT (mutual TLS) and unix:///PATH */
    char *tlscacert;     /* CA that signs client certificates */
    char *tlscert;       /* server certificate */
    char *tlskey;        /* server key */
    char *data_root;     /* default /var/lib/machined */
    char **labels;       /* engine labels shown by /info */
    char *log_format;    /* "json" (default) or "text" */
    char *log_level;     /* "debug", "info" (default), "warn", "error" */
    char *log_file;      /* append logs here instead of stderr (useful with --daemonize) */
    char *pidfile;       /* written at start, removed at exit; NULL: none */
    char *cgroup_parent; /* containers' cgroups go under this path of each hierarchy;
                          * NULL: "machined" */
    bool live_restore;   /* accepted, not honoured: containers stop with the daemon (ADR 0012) */
    bool daemonize;      /* fork, setsid, detach (sysvinit / no init system) */
};

#define ENG_DEFAULT_DATA_ROOT "/var/lib/machined"
#define ENG_DEFAULT_CONFIG    "/etc/machined/config.json"
#define ENG_API_VERSION       "1.44"
#define ENG_API_MIN_VERSION   "1.24"

/* Loads a config.json (keys: hosts, tlscacert, tlscert, tlskey, data-root, labels, log-format,
 * log-level, log-file, pidfile, live-restore, cgroup-parent) into cfg; keys absent from the file leave cfg
 * alone. Unknown keys are an error (MC_ERR_INVALID), as in dockerd. */
int eng_config_load_file(struct eng_config *cfg, const char *path, struct mc_error **err);
/* The same from a JSON text (for tests). what names it in errors. */
int eng_config_load_json(struct eng_config *cfg, const char *text, size_t len, const char *what,
                         struct mc_error **err);
/* Checks a loaded config: TLS files present for every tcp:// host, valid URLs, a data root;
 * fills defaults (hosts: unix:///run/machined.sock, data root). */
int eng_config_finish(struct eng_config *cfg, struct mc_error **err);
void eng_config_clear(struct eng_config *cfg);

struct eng_module;

/* The running daemon, as modules see it. */
struct eng_daemon {
    const struct eng_config *config;
    const struct eng_module *const *modules; /* usually eng_modules */
    const char *data_root;                   /* absolute */
    bool live_restore;
};

struct eng_route;

struct eng_module {
    const char *name;
    /* Called once at start-up; an error stops the daemon. NULL: nothing to do. */
    int (*init)(struct eng_daemon *d, struct mc_error **err);
    /* Called on SIGTERM in reverse module order (containers stop theirs gracefully unless
     * d->live_restore). NULL: nothing to do. */
    void (*shutdown)(struct eng_daemon *d);
    /* Adds the module's keys to the GET /info object. NULL: nothing. */
    void (*info)(json_t *info);
    const struct eng_route *routes;
    size_t n_routes;
};

/* The engine's modules in order (engine/modules.c), NULL-terminated. */
extern const struct eng_module *const eng_modules[];

/* The modules, each defined in its folder. */
extern const struct eng_module eng_system_module;     /* api/api-system.c: _ping, version, info */
extern const struct eng_module eng_images_module;     /* images/ */
extern const struct eng_module eng_containers_module; /* containers/ */
extern const struct eng_module eng_events_module;     /* api/api-events.c: GET /events */
/* api/api-unsupported.c: 501 with a clear message for the Docker API routes not implemented
 * (networks, volumes, build, swarm, ...); last, so any module implementing one wins. */
extern const struct eng_module eng_unsupported_module;

/* Runs every module's init() in order; on failure, shuts down the ones already started. */
int eng_modules_init(struct eng_daemon *d, struct mc_error **err);
/* Runs every module's shutdown() in reverse order. */
void eng_modules_shutdown(struct eng_daemon *d);

#endif
