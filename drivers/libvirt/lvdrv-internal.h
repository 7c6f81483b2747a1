/* The libvirt driver's modules: connection and errors, XML, acceleration, images, the cloud-init
 * seed, storage and networks. For drivers/libvirt/ and its tests only. */
#ifndef MC_LVDRV_INTERNAL_H
#define MC_LVDRV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

#include "driver.h"
#include "error.h"

MC_DEFINE_CLEANUP(virConnect, virConnectClose)
MC_DEFINE_CLEANUP(virDomain, virDomainFree)
MC_DEFINE_CLEANUP(virNetwork, virNetworkFree)
MC_DEFINE_CLEANUP(virStoragePool, virStoragePoolFree)
MC_DEFINE_CLEANUP(virStorageVol, virStorageVolFree)
MC_DEFINE_CLEANUP(virStream, virStreamFree)
#define _cleanup_conn_   _cleanup_(virConnectClosep)
#define _cleanup_domain_ _cleanup_(virDomainFreep)
#define _cleanup_net_    _cleanup_(virNetworkFreep)
#define _cleanup_pool_   _cleanup_(virStoragePoolFreep)
#define _cleanup_vol_    _cleanup_(virStorageVolFreep)
#define _cleanup_stream_ _cleanup_(virStreamFreep)

/* The XML namespace of the metadata that marks a domain as made by machine. */
#define LVDRV_METADATA_NS  "https://machine.invalid/xmlns/libvirt-driver/1"
#define LVDRV_METADATA_KEY "machine"

/* ---- lvdrv-conn.c: connections and libvirt's errors ---- */

/* Opens uri (with libvirt's default authentication callbacks). Errors name the URI and carry
 * libvirt's reason. The caller closes the connection. */
virConnectPtr lvdrv_connect(const char *uri, struct mc_error **err);
/* Fills err from libvirt's last error: "<message>: <libvirt's reason>", with a code mapped from
 * libvirt's (no domain/volume/network/pool: MC_ERR_NOT_FOUND, ...). Resets the last error.
 * Returns -1. */
int lvdrv_error(struct mc_error **err, const char *fmt, ...) _printf_(2, 3);
/* libvirt's last error code (virErrorNumber), or VIR_ERR_OK. */
int lvdrv_last_error_code(void);
/* libvirt's last error message (or fallback), newly allocated; resets the last error. For
 * failures that are results rather than errors (a probe guest that does not start). */
char *lvdrv_last_error_text(const char *fallback);
/* Forgets libvirt's last error (after an expected failure such as a lookup of a missing name). */
void lvdrv_reset_error(void);

/* ---- lvdrv-xml.c: XML written with libxml2's xmlTextWriter, and read with XPath ---- */

struct lvdrv_domain_spec {
    const char *name;
    const char *instance_id; /* recorded in the domain's metadata */
    const char *type;        /* libvirt domain type: "kvm" or "qemu" (TCG) */
    int vcpus;
    int64_t memory_mib;
    const char *pool;
    const char *disk_volume;
    const char *seed_volume;
    const char *network;
};

/* The domain XML of a machine (newly allocated). */
char *lvdrv_domain_xml(const struct lvdrv_domain_spec *s);
/* The transient domain that probes a domain type ("kvm"): boots the sector in pool/volume. */
char *lvdrv_probe_domain_xml(const char *name, const char *type, const char *pool,
                             const char *volume);
/* A directory storage pool. */
char *lvdrv_pool_xml(const char *name, const char *path);
/* A NAT network on prefix.0/24 (prefix like "192.168.122") with DHCP on .2-.254. */
char *lvdrv_network_xml(const char *name, const char *prefix);
/* A volume of capacity bytes; backing_path (with its format) makes it a copy-on-write overlay. */
char *lvdrv_volume_xml(const char *name, uint64_t capacity, const char *format,
                       const char *backing_path, const char *backing_format);

/* The string value of an XPath expression over xml, or NULL when it matches nothing.
 * Namespace prefix "m" maps to LVDRV_METADATA_NS. */
char *lvdrv_xpath_string(const char *xml, const char *expr);
/* All string values of nodes matching expr (a NULL-terminated vector, possibly empty). */
char **lvdrv_xpath_strings(const char *xml, const char *expr);

/* ---- lvdrv-accel.c: KVM or TCG ---- */

enum lvdrv_accel {
    LVDRV_ACCEL_AUTO,
    LVDRV_ACCEL_KVM,
    LVDRV_ACCEL_TCG,
};
const char *lvdrv_accel_to_string(enum lvdrv_accel a);
int lvdrv_accel_from_string(const char *s);
/* The libvirt domain type for an acceleration ("kvm" or "qemu"). */
const char *lvdrv_accel_domain_type(enum lvdrv_accel a);

enum lvdrv_probe_result {
    LVDRV_PROBE_NOT_RUN,
    LVDRV_PROBE_OK,      /* the probe guest wrote its marker under KVM */
    LVDRV_PROBE_TIMEOUT, /* no marker before the deadline */
    LVDRV_PROBE_FAILED,  /* the probe guest could not start */
};

struct lvdrv_probe {
    enum lvdrv_probe_result result;
    char *detail;    /* why it failed (libvirt's reason), or NULL */
    int deadline_s;  /* the deadline it ran under */
    char *cached_in; /* the cache file the result came from, or NULL when probed now */
};
void lvdrv_probe_clear(struct lvdrv_probe *p);

#define LVDRV_PROBE_DEADLINE_S 10
#define LVDRV_PROBE_MARKER     "MACHINE-KVM-PROBE-OK"

/* Whether the host's capabilities XML offers the kvm and qemu (TCG) domain types for x86_64.
 * Returns -1 on unparsable XML. */
int lvdrv_caps_offers(const char *caps_xml, bool *ret_kvm, bool *ret_tcg, struct mc_error **err);
/* True when the choice for requested depends on a probe (auto, and KVM offered). */
bool lvdrv_accel_wants_probe(enum lvdrv_accel requested, bool kvm_offered);
/* Chooses KVM or TCG from what was requested, what the capabilities offer and the probe's
 * result (pure). *ret_warning gets the text to show the user, or NULL. Errors when what was
 * requested is not offered. */
int lvdrv_accel_choose(enum lvdrv_accel requested, const char *uri, const char *caps_xml,
                       const struct lvdrv_probe *probe, enum lvdrv_accel *ret, char **ret_warning,
                       struct mc_error **err);
/* Boots the probe guest from a volume in pool under KVM, waiting at most deadline_ms for its
 * serial marker. Only an infrastructure failure (no pool, upload refused) is an error; a guest
 * that fails or hangs is a result. Leaves no domain or volume behind. */
int lvdrv_probe_kvm(virConnectPtr conn, virStoragePoolPtr pool, int deadline_ms,
                    struct lvdrv_probe *ret, struct mc_error **err);
/* The same probe under any domain type ("qemu" for TCG: the tests check the probe's own
 * machinery with it, where KVM does not work). */
int lvdrv_probe_guest(virConnectPtr conn, virStoragePoolPtr pool, const char *type, int deadline_ms,
                      struct lvdrv_probe *ret, struct mc_error **err);
/* The whole choice for uri: capabilities, the cached or fresh probe (cache file
 * cache_dir/libvirt/accel.json), and the decision. */
int lvdrv_accel_resolve(virConnectPtr conn, const char *uri, virStoragePoolPtr pool,
                        enum lvdrv_accel requested, const char *cache_dir, enum lvdrv_accel *ret,
                        char **ret_warning, struct mc_error **err);

/* ---- lvdrv-image.c: base images ---- */

struct lvdrv_image {
    char *path;    /* a local file holding the image */
    char *sha256;  /* its digest (hex) */
    uint64_t size; /* bytes */
    bool qcow2;
    uint64_t virtual_size; /* the disk size the image describes (qcow2 header, or size for raw) */
};
void lvdrv_image_clear(struct lvdrv_image *img);

struct lvdrv_checksum {
    char algo[8]; /* "sha256" or "sha512" */
    char hex[129];
};
/* Parses "sha256:HEX" or "sha512:HEX". */
int lvdrv_checksum_parse(const char *s, struct lvdrv_checksum *ret, struct mc_error **err);
/* Finds file's line in a SHA*SUMS text ("HEX  NAME" or "HEX *NAME"). */
int lvdrv_checksum_from_sums(const char *sums, const char *algo, const char *file,
                             struct lvdrv_checksum *ret, struct mc_error **err);
/* The virtual size of a qcow2 image from its header, or -1 when hdr is not qcow2. */
int lvdrv_qcow2_virtual_size(const uint8_t *hdr, size_t len, uint64_t *ret);

/* Makes image (a URL or a path; NULL: the default) available as a local file: a URL is
 * downloaded into cache_dir/images/ with resume, progress and the checksum (given, or the
 * publisher's SHA512SUMS/SHA256SUMS) checked; a path is used in place. */
int lvdrv_image_prepare(struct driver_ctx *ctx, const char *cache_dir, const char *image,
                        const char *checksum, struct lvdrv_image *ret, struct mc_error **err);

/* Makes dir (0700) when missing and takes an exclusive flock on the folder itself (no lock file
 * is left behind); returns the fd, which releases the lock when closed. */
int lvdrv_lock_dir(const char *dir, struct mc_error **err);

#define LVDRV_DEFAULT_IMAGE \
    "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2"

/* ---- lvdrv-seed.c: the NoCloud seed ---- */

struct lvdrv_seed {
    char *user_data;
    char *meta_data;
};
void lvdrv_seed_clear(struct lvdrv_seed *s);
/* Renders user-data and meta-data from templates/. */
int lvdrv_seed_render(const char *hostname, const char *user, const char *ssh_public_key,
                      const char *instance_id, struct lvdrv_seed *ret, struct mc_error **err);
/* An ISO9660 image (volume id "cidata", Rock Ridge and Joliet) holding the seed's files, written
 * with libarchive. */
int lvdrv_seed_iso(const struct lvdrv_seed *s, void **ret_data, size_t *ret_len,
                   struct mc_error **err);

/* ---- lvdrv-storage.c: pools and volumes ---- */

/* Looks up the pool, or defines, builds and starts a directory pool at path; starts it when
 * inactive. */
virStoragePoolPtr lvdrv_pool_ensure(virConnectPtr conn, const char *name, const char *path,
                                    struct mc_error **err);
/* The volume, or NULL with MC_ERR_NOT_FOUND. */
virStorageVolPtr lvdrv_vol_lookup(virStoragePoolPtr pool, const char *name, struct mc_error **err);
/* Deletes the volume; a missing one is success. */
int lvdrv_vol_delete(virStoragePoolPtr pool, const char *name, struct mc_error **err);
/* Creates a volume from XML. */
virStorageVolPtr lvdrv_vol_create(virStoragePoolPtr pool, const char *xml, struct mc_error **err);
/* Uploads len bytes into vol from a buffer or (when data is NULL) from the file at path. */
int lvdrv_vol_upload(virConnectPtr conn, virStorageVolPtr vol, const void *data, const char *path,
                     uint64_t len, struct driver_ctx *ctx, struct mc_error **err);
/* Makes sure pool holds the image as a complete base volume (uploaded once per digest; a marker
 * volume records completion) and returns its name and path. */
int lvdrv_base_ensure(virConnectPtr conn, virStoragePoolPtr pool, const struct lvdrv_image *img,
                      struct driver_ctx *ctx, char **ret_name, char **ret_path,
                      struct mc_error **err);

/* ---- lvdrv-net.c: networks and addresses ---- */

/* Looks up the network, or defines a NAT network on a free /24 and starts it; starts it when
 * inactive and marks it autostart. */
int lvdrv_network_ensure(virConnectPtr conn, const char *name, struct mc_error **err);
/* The first IPv4 address of the domain's interface with mac, asking the DHCP leases first, then
 * the guest agent, then the ARP table, until deadline_ms (mc_now_ms()). */
char *lvdrv_domain_ipv4(virDomainPtr dom, const char *mac, int64_t deadline_ms,
                        struct mc_error **err);
/* Waits until deadline_ms for a server at ip:port that sends an SSH identification line (a
 * TCP read of the banner: no SSH session, no key). The guest has booted when it answers. */
int lvdrv_wait_sshd(const char *ip, int port, int64_t deadline_ms, struct mc_error **err);

/* ---- lvdrv.c: options, the machine's names, ownership, boot ---- */

#define LVDRV_DEFAULT_SSH_USER "docker"

/* The options of a create, checked; the strings are copies (the state they may come from
 * changes while create runs). */
struct lvdrv_config {
    char *uri;
    int64_t cpus, memory_mib, disk_gib, boot_timeout_s, stop_timeout_s;
    char *network, *pool, *image, *image_checksum;
    char *pool_path;
    enum lvdrv_accel accel;
};

/* Reads and checks the options (MC_ERR_USAGE for a bad value); the state's uri, pool and
 * network win, since a resumed create must keep them. Clear c even on failure. */
int lvdrv_config_read(const struct driver_ctx *ctx, struct lvdrv_config *c, struct mc_error **err);
void lvdrv_config_clear(struct lvdrv_config *c);
/* The option's value, or dflt when it is absent or empty. */
const char *lvdrv_opt_or(const struct driver_ctx *ctx, const char *name, const char *dflt);
/* Where downloads and the probe's answers are kept: ctx->cache_dir, else ctx->dir. */
const char *lvdrv_cache_dir(const struct driver_ctx *ctx);
/* The names of a machine's volumes (newly allocated). */
char *lvdrv_disk_volume_name(const char *name);
char *lvdrv_seed_volume_name(const char *name);
/* driver_save() with context on failure. */
int lvdrv_save(struct driver_ctx *ctx, struct mc_error **err);
/* Looks the machine's domain up. *ret is NULL when there is none; a domain of that name made
 * for another machine (or by someone else) is an MC_ERR_EXISTS error. */
int lvdrv_find_domain(virConnectPtr conn, const struct driver_ctx *ctx, const char *uri,
                      virDomainPtr *ret, struct mc_error **err);
/* mc_now_ms() + timeout_s, or ctx->deadline_ms when that comes first. */
int64_t lvdrv_deadline(const struct driver_ctx *ctx, int64_t timeout_s);
/* Starts the domain (unless it runs), waits for its address (saved in the state) and its sshd. */
int lvdrv_boot(virConnectPtr conn, struct driver_ctx *ctx, virDomainPtr dom, int64_t timeout_s,
               struct mc_error **err);

/* ---- lvdrv-create.c, lvdrv-power.c: the vtable's slots ---- */

int lvdrv_precreate_check(struct driver_ctx *ctx, struct mc_error **err);
int lvdrv_create(struct driver_ctx *ctx, struct mc_error **err);
int lvdrv_remove(struct driver_ctx *ctx, bool force, struct mc_error **err);
int lvdrv_start(struct driver_ctx *ctx, struct mc_error **err);
int lvdrv_stop(struct driver_ctx *ctx, struct mc_error **err);
int lvdrv_restart(struct driver_ctx *ctx, struct mc_error **err);
int lvdrv_kill(struct driver_ctx *ctx, struct mc_error **err);
int lvdrv_get_state(struct driver_ctx *ctx, enum driver_state *ret, struct mc_error **err);
char *lvdrv_get_ip(struct driver_ctx *ctx, struct mc_error **err);
int lvdrv_get_ssh_target(struct driver_ctx *ctx, struct driver_ssh_target *ret,
                         struct mc_error **err);
/* The driver state of a libvirt domain state (virDomainState). */
enum driver_state lvdrv_state_from_libvirt(int state);

#endif
