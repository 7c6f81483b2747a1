/* Networks (a NAT network is made when the named one is missing) and the guest's address. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libvirt/virterror.h>

#include "lvdrv-internal.h"
#include "strv.h"
#include "timeutil.h"
#include "xalloc.h"

/* The third octet of every 192.168.X.0/24 in use, by libvirt's networks and by this machine's
 * interfaces. */
static void
used_subnets(virConnectPtr conn, bool used[256])
{
    virNetworkPtr *nets = NULL;
    int n = virConnectListAllNetworks(conn, &nets, 0);
    for (int i = 0; i < n; i++) {
        _cleanup_free_ char *xml = virNetworkGetXMLDesc(nets[i], 0);
        _cleanup_strv_ char **addrs = xml ? lvdrv_xpath_strings(xml, "/network/ip/@address") : NULL;
        STRV_FOREACH (a, addrs) {
            unsigned o3;
            if (sscanf(*a, "192.168.%u.", &o3) == 1 && o3 < 256)
                used[o3] = true;
        }
        virNetworkFree(nets[i]);
    }
    free(nets);
    lvdrv_reset_error();
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) < 0)
        return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        uint32_t a = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
        if ((a >> 16) == 0xc0a8)
            used[(a >> 8) & 0xff] = true;
    }
    freeifaddrs(ifs);
}

static virNetworkPtr
define_network(virConnectPtr conn, const char *name, struct mc_error **err)
{
    bool used[256] = { false };
    used_subnets(conn, used);
    int third = 122;
    while (third < 255 && used[third])
        third++;
    if (third == 255) {
        mc_error_set(err, MC_ERR_CONFLICT,
                     "no free 192.168.X.0/24 subnet for the network '%s' (122 to 254 are in use)",
                     name);
        return NULL;
    }
    _cleanup_free_ char *prefix = xasprintf("192.168.%d", third);
    _cleanup_free_ char *xml = lvdrv_network_xml(name, prefix);
    virNetworkPtr net = virNetworkDefineXML(conn, xml);
    if (!net) /* a parallel create may have defined it a moment ago */
        net = virNetworkLookupByName(conn, name);
    if (!net) {
        lvdrv_error(err, "defining the network '%s' on %s.0/24", name, prefix);
        return NULL;
    }
    lvdrv_reset_error();
    if (virNetworkSetAutostart(net, 1) < 0)
        lvdrv_reset_error(); /* only convenience: we start it ourselves when needed */
    return net;
}

int
lvdrv_network_ensure(virConnectPtr conn, const char *name, struct mc_error **err)
{
    _cleanup_net_ virNetworkPtr net = virNetworkLookupByName(conn, name);
    if (!net && lvdrv_last_error_code() != VIR_ERR_NO_NETWORK)
        return lvdrv_error(err, "looking up the network '%s'", name);
    lvdrv_reset_error();
    if (!net)
        net = define_network(conn, name, err);
    if (!net)
        return -1;
    if (virNetworkIsActive(net) != 1 && virNetworkCreate(net) < 0 && virNetworkIsActive(net) != 1)
        return lvdrv_error(err, "starting the network '%s'", name);
    return 0;
}

/* The IPv4 address of the interface with mac in one answer, or NULL. */
static char *
find_ipv4(virDomainInterfacePtr *ifaces, int n, const char *mac)
{
    for (int i = 0; i < n; i++) {
        if (mac && (!ifaces[i]->hwaddr || strcasecmp(ifaces[i]->hwaddr, mac) != 0))
            continue;
        for (unsigned j = 0; j < ifaces[i]->naddrs; j++)
            if (ifaces[i]->addrs[j].type == VIR_IP_ADDR_TYPE_IPV4 && ifaces[i]->addrs[j].addr)
                return xstrdup(ifaces[i]->addrs[j].addr);
    }
    return NULL;
}

static char *
ask(virDomainPtr dom, unsigned source, const char *mac)
{
    virDomainInterfacePtr *ifaces = NULL;
    int n = virDomainInterfaceAddresses(dom, &ifaces, source, 0);
    if (n < 0) {
        /* No agent in the guest, or no lease yet: try the next source. */
        lvdrv_reset_error();
        return NULL;
    }
    char *ip = find_ipv4(ifaces, n, mac);
    for (int i = 0; i < n; i++)
        virDomainInterfaceFree(ifaces[i]);
    free(ifaces);
    return ip;
}

char *
lvdrv_domain_ipv4(virDomainPtr dom, const char *mac, int64_t deadline_ms, struct mc_error **err)
{
    static const unsigned sources[] = {
        VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE,
        VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT,
        VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP,
    };
    for (;;) {
        for (size_t i = 0; i < ELEMENTSOF(sources); i++) {
            char *ip = ask(dom, sources[i], mac);
            if (ip)
                return ip;
        }
        int state = 0, reason = 0;
        if (virDomainGetState(dom, &state, &reason, 0) == 0 && state != VIR_DOMAIN_RUNNING) {
            mc_error_set(err, MC_ERR_NOT_RUNNING,
                         "the domain '%s' stopped before it had an address", virDomainGetName(dom));
            return NULL;
        }
        lvdrv_reset_error();
        if (mc_now_ms() >= deadline_ms)
            break;
        mc_sleep_ms(1000);
    }
    mc_error_set(err, MC_ERR_TIMEOUT,
                 "the domain '%s' got no IPv4 address for %s in time (asked the DHCP leases, the "
                 "guest agent and the ARP table)",
                 virDomainGetName(dom), mac ? mac : "any interface");
    return NULL;
}

/* Waits (at most until deadline) for fd to become ready for events; false on a timeout. */
static bool
wait_fd(int fd, short events, int64_t deadline)
{
    struct pollfd p = { .fd = fd, .events = events };
    int64_t left = deadline - mc_now_ms();
    if (left <= 0)
        return false;
    int r;
    while ((r = poll(&p, 1, (int)left)) < 0 && errno == EINTR)
        ;
    return r > 0;
}

/* One try: connects and reads the first line; true when it is an SSH identification. */
static bool
banner_once(const struct sockaddr_in *sa, int64_t deadline)
{
    _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return false;
    if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 && errno != EINPROGRESS)
        return false;
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (!wait_fd(fd, POLLOUT, deadline) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 ||
        soerr != 0)
        return false;
    char buf[256];
    size_t have = 0;
    while (have < sizeof(buf) - 1 && wait_fd(fd, POLLIN, deadline)) {
        ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
        if (n <= 0)
            return false;
        have += (size_t)n;
        buf[have] = '\0';
        if (strchr(buf, '\n'))
            return strncmp(buf, "SSH-", 4) == 0;
    }
    return false;
}

int
lvdrv_wait_sshd(const char *ip, int port, int64_t deadline_ms, struct mc_error **err)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
        return mc_error_set(err, MC_ERR_INVALID, "'%s' is not an IPv4 address", ip);
    for (;;) {
        int64_t now = mc_now_ms();
        int64_t try_deadline = now + 5000 < deadline_ms ? now + 5000 : deadline_ms;
        if (banner_once(&sa, try_deadline))
            return 0;
        if (mc_now_ms() >= deadline_ms)
            break;
        mc_sleep_ms(1000);
    }
    return mc_error_set(err, MC_ERR_TIMEOUT,
                        "the guest's sshd at %s:%d did not send its identification in time", ip,
                        port);
}
