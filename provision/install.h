/* What provisioning puts on a host, as pure functions: the engine's config.json and
 * environment file, and the shell scripts that install the binary and files, set the
 * hostname, install and control the service for each init system, open the firewall and
 * uninstall everything. Unit tests compare them with golden files. */
#ifndef MC_INSTALL_H
#define MC_INSTALL_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "facts.h"

#define PROV_ENGINE_BIN       "/usr/local/bin/machined"
#define PROV_ENGINE_ETC       "/etc/machined"
#define PROV_ENGINE_CONFIG    PROV_ENGINE_ETC "/config.json"
#define PROV_ENGINE_ENV       PROV_ENGINE_ETC "/environment"
#define PROV_ENGINE_CA        PROV_ENGINE_ETC "/ca.pem"
#define PROV_ENGINE_CERT      PROV_ENGINE_ETC "/server.pem"
#define PROV_ENGINE_KEY       PROV_ENGINE_ETC "/server-key.pem"
#define PROV_ENGINE_DATA_ROOT "/var/lib/machined"
#define PROV_ENGINE_PIDFILE   "/run/machined.pid"
#define PROV_ENGINE_SOCKET    "/run/machined.sock"
#define PROV_ENGINE_LOG       "/var/log/machined.log"

/* The engine's options, from the create flags. */
struct prov_engine_cfg {
    int port;            /* --engine-port */
    char *const *labels; /* --engine-label KEY=VALUE */
    char *const *opts;   /* --engine-opt KEY=VALUE (config.json keys) */
    char *const *env;    /* --engine-env KEY=VALUE */
};

/* config.json for machined (pure). --engine-opt values that look like JSON scalars (true,
 * false, numbers) are stored as such; keys that machine itself sets (hosts, tls*) are refused
 * (MC_ERR_USAGE). Newly allocated, indented, ending in a newline. */
char *prov_engine_config(const struct prov_engine_cfg *c, struct mc_error **err);
/* The data root the engine will use: --engine-opt data-root=..., or the default. */
const char *prov_engine_data_root(const struct prov_engine_cfg *c);
/* The environment file (KEY='value' lines, read by systemd and by sh); values with a quote or
 * a newline, and names that are not shell names, are refused (MC_ERR_USAGE). */
char *prov_engine_env_file(char *const *env, struct mc_error **err);

/* A file for prov_script_install_files: its bytes travel on the script's stdin. */
struct prov_file {
    const char *path; /* absolute, with no whitespace */
    unsigned mode;    /* 0644 */
    const char *data;
    size_t len;
    bool keep_same; /* an identical file on the host is not replaced (its time stays) */
};
/* The line that follows the files' bytes on the installer's stdin. */
#define PROV_INSTALL_END "@@end"
/* A script reading the n files' bytes, one after the other, from stdin (in that order, then
 * the line PROV_INSTALL_END) and writing each to its path atomically with its mode, after all
 * have arrived whole. One command for several files (each command costs a login shell and a
 * sudo), with shell builtins where they do (each process costs tens of milliseconds on a slow
 * guest). */
char *prov_script_install_files(const struct prov_file *files, size_t n);
/* A script writing stdin (gzipped: unpacked with gzip -dc) to the engine binary, refusing it
 * unless its sha256 is sum_hex. */
char *prov_script_install_binary(const char *sum_hex, bool gzipped);
/* The largest engine binary machine uploads. */
#define PROV_ENGINE_MAX (256 * 1024 * 1024)
/* A script setting the host name (now and at boot; /etc/hosts too). */
char *prov_script_hostname(const char *name);

/* Where the service definition goes for an init system, and its text. */
const char *prov_service_path(enum prov_init init);
char *prov_service_text(enum prov_init init, struct mc_error **err);
/* A script that enables the installed service and (re)starts it. */
char *prov_script_service_enable_restart(enum prov_init init);

enum prov_service_action {
    PROV_SERVICE_START,
    PROV_SERVICE_STOP,
    PROV_SERVICE_RESTART,
    PROV_SERVICE_STATUS, /* exit 0 when running */
    PROV_SERVICE__MAX
};
char *prov_script_service(enum prov_init init, enum prov_service_action a);
const char *prov_service_action_name(enum prov_service_action a);

/* A script that opens port/tcp where ufw or firewalld is active; it prints "ufw",
 * "firewalld" or "none". */
char *prov_script_firewall(int port);

/* A script that stops the engine and removes its service, binary, certificates, configuration,
 * log and pid file (and data_root when purge). It prints what it removed. */
char *prov_script_uninstall(enum prov_init init, const char *data_root, bool purge);

#endif
