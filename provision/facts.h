/* Host facts: what provisioning needs to know about a host before it changes anything.
 *
 * One shell script (prov_facts_script) prints sections "@@name" followed by lines; a pure
 * parser turns its output into struct prov_facts (unit-tested without a host). */
#ifndef MC_FACTS_H
#define MC_FACTS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "error.h"

enum prov_init {
    PROV_INIT_NONE, /* no init system we can use: a self-daemonising start with a pid file */
    PROV_INIT_SYSTEMD,
    PROV_INIT_OPENRC,
    PROV_INIT_SYSVINIT,
    PROV_INIT__MAX
};

enum prov_cgroup {
    PROV_CGROUP_UNKNOWN,
    PROV_CGROUP_V1,     /* legacy hierarchies only */
    PROV_CGROUP_HYBRID, /* v1 hierarchies plus a v2 mount (unified) */
    PROV_CGROUP_V2,
    PROV_CGROUP__MAX
};

enum prov_overlay {
    PROV_OVERLAY_NO,
    PROV_OVERLAY_YES,    /* listed in /proc/filesystems */
    PROV_OVERLAY_MODULE, /* not loaded, but the module exists */
    PROV_OVERLAY__MAX
};

struct prov_facts {
    char *os_id;        /* "debian" */
    char *os_version;   /* "12" */
    char *os_pretty;    /* "Debian GNU/Linux 12 (bookworm)" */
    char *arch;         /* uname -m */
    char *kernel;       /* uname -r */
    char *hostname;     /* the kernel's */
    char *etc_hostname; /* /etc/hostname's */
    char **hosts_local; /* the names of /etc/hosts lines for 127.0.1.1 */
    enum prov_init init;
    enum prov_cgroup cgroup;
    enum prov_overlay overlay;
    int uid;          /* of the login user */
    bool sudo_ok;     /* sudo -n works (meaningful when uid != 0) */
    char *sudo_said;  /* what sudo -n printed when it failed */
    char *engine_sum; /* sha256 of the installed machined, or NULL */
    bool have_tools;  /* the tools below were looked for */
    bool has_ufw, has_firewalld, has_gzip;
};

/* The script to run on the host as the login user (never through sudo: it probes sudo). */
const char *prov_facts_script(void);
/* Parses the script's output (pure). Missing sections leave defaults; a missing arch or uid is
 * MC_ERR_INVALID (the output is not from the script). */
int prov_facts_parse(const char *text, struct prov_facts *ret, struct mc_error **err);
void prov_facts_clear(struct prov_facts *f);

const char *prov_init_name(enum prov_init i);
const char *prov_cgroup_name(enum prov_cgroup c);
const char *prov_overlay_name(enum prov_overlay o);
/* True when the facts show the host named name already, now and at boot, with a 127.0.1.1
 * line of /etc/hosts listing it: what the host name step would make (pure). */
bool prov_hostname_is_set(const struct prov_facts *f, const char *name);
/* True when the facts show that neither ufw nor firewalld is installed: no host firewall
 * step to take (pure). */
bool prov_no_firewall_tool(const struct prov_facts *f);

/* One line for the progress output: "Debian GNU/Linux 12 (bookworm), x86_64, kernel 6.1,
 * init none, cgroup hybrid, overlay yes". Newly allocated. */
char *prov_facts_summary(const struct prov_facts *f);
/* The facts as a JSON object for the machine's record. */
json_t *prov_facts_to_json(const struct prov_facts *f);

/* The architecture (uname -m spelling) of an ELF executable's header (pure), or NULL when the
 * bytes are not an ELF file or the machine is unknown. */
const char *prov_elf_arch(const unsigned char *hdr, size_t len);
/* True when a binary built for elf_arch runs on a host whose uname -m is host_arch. */
bool prov_arch_compatible(const char *elf_arch, const char *host_arch);

#endif
