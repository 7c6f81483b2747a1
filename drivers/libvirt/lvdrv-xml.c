/* The XML libvirt reads, written with libxml2's xmlTextWriter (never pasted from strings, so a
 * name or path can never break out of its attribute), and the XML it answers, read with XPath.
 *
 * The writer only fails when memory runs out, which aborts, as every allocation here does. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlwriter.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "lvdrv-internal.h"
#include "strv.h"
#include "xalloc.h"

struct xw {
    xmlBufferPtr buf;
    xmlTextWriterPtr w;
};

static void
check(int rc)
{
    if (rc < 0)
        abort();
}

static void
xw_open(struct xw *x)
{
    x->buf = xmlBufferCreate();
    if (!x->buf)
        abort();
    x->w = xmlNewTextWriterMemory(x->buf, 0);
    if (!x->w)
        abort();
    check(xmlTextWriterSetIndent(x->w, 1));
    check(xmlTextWriterSetIndentString(x->w, BAD_CAST "  "));
}

/* Closes every open element and returns the document. */
static char *
xw_close(struct xw *x)
{
    check(xmlTextWriterEndDocument(x->w));
    xmlFreeTextWriter(x->w);
    char *s = xstrdup((const char *)xmlBufferContent(x->buf));
    xmlBufferFree(x->buf);
    return s;
}

static void
start(struct xw *x, const char *name)
{
    check(xmlTextWriterStartElement(x->w, BAD_CAST name));
}

static void
start_ns(struct xw *x, const char *prefix, const char *name, const char *uri)
{
    check(xmlTextWriterStartElementNS(x->w, BAD_CAST prefix, BAD_CAST name, BAD_CAST uri));
}

static void
end(struct xw *x)
{
    check(xmlTextWriterEndElement(x->w));
}

static void
attr(struct xw *x, const char *name, const char *value)
{
    check(xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value));
}

static void _printf_(3, 4) attrf(struct xw *x, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *v = xvasprintf(fmt, ap);
    va_end(ap);
    attr(x, name, v);
}

/* <name attrs...>text</name>; text may be NULL for an empty element. */
static void
elem(struct xw *x, const char *name, const char *text)
{
    start(x, name);
    if (text)
        check(xmlTextWriterWriteString(x->w, BAD_CAST text));
    end(x);
}

static void _printf_(3, 4) elemf(struct xw *x, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *v = xvasprintf(fmt, ap);
    va_end(ap);
    elem(x, name, v);
}

/* <name a1="v1"/> with one attribute. */
static void
elem_attr(struct xw *x, const char *name, const char *a1, const char *v1)
{
    start(x, name);
    attr(x, a1, v1);
    end(x);
}

static void
write_metadata(struct xw *x, const struct lvdrv_domain_spec *s)
{
    start(x, "metadata");
    start_ns(x, LVDRV_METADATA_KEY, "machine", LVDRV_METADATA_NS);
    start_ns(x, LVDRV_METADATA_KEY, "name", NULL);
    check(xmlTextWriterWriteString(x->w, BAD_CAST s->name));
    end(x);
    start_ns(x, LVDRV_METADATA_KEY, "instance", NULL);
    check(xmlTextWriterWriteString(x->w, BAD_CAST s->instance_id));
    end(x);
    end(x);
    end(x);
}

/* <os> for a BIOS boot from the first disk on a q35 machine. */
static void
write_os(struct xw *x)
{
    start(x, "os");
    start(x, "type");
    attr(x, "arch", "x86_64");
    attr(x, "machine", "q35");
    check(xmlTextWriterWriteString(x->w, BAD_CAST "hvm"));
    end(x);
    elem_attr(x, "boot", "dev", "hd");
    end(x);
}

static void
write_cpu(struct xw *x, const char *type)
{
    /* TCG emulates its default CPU model; under KVM the guest sees the host's CPU. */
    if (strcmp(type, "kvm") != 0)
        return;
    start(x, "cpu");
    attr(x, "mode", "host-passthrough");
    attr(x, "check", "none");
    end(x);
}

static void
write_lifecycle(struct xw *x, const char *on_reboot)
{
    elem(x, "on_poweroff", "destroy");
    elem(x, "on_reboot", on_reboot);
    elem(x, "on_crash", "destroy");
}

static void
write_volume_disk(struct xw *x, const char *device, const char *format, const char *pool,
                  const char *volume, const char *dev, const char *bus, bool readonly)
{
    start(x, "disk");
    attr(x, "type", "volume");
    attr(x, "device", device);
    start(x, "driver");
    attr(x, "name", "qemu");
    attr(x, "type", format);
    if (strcmp(device, "disk") == 0 && !readonly)
        attr(x, "discard", "unmap");
    end(x);
    start(x, "source");
    attr(x, "pool", pool);
    attr(x, "volume", volume);
    end(x);
    start(x, "target");
    attr(x, "dev", dev);
    attr(x, "bus", bus);
    end(x);
    if (readonly)
        elem(x, "readonly", NULL);
    end(x);
}

static void
write_serial_console(struct xw *x)
{
    start(x, "serial");
    attr(x, "type", "pty");
    elem_attr(x, "target", "port", "0");
    end(x);
    start(x, "console");
    attr(x, "type", "pty");
    start(x, "target");
    attr(x, "type", "serial");
    attr(x, "port", "0");
    end(x);
    end(x);
}

static void
write_devices(struct xw *x, const struct lvdrv_domain_spec *s)
{
    start(x, "devices");
    write_volume_disk(x, "disk", "qcow2", s->pool, s->disk_volume, "vda", "virtio", false);
    /* The seed is a read-only virtio disk, not a CD-ROM: cloud-init finds it by its label
     * either way, and Debian's cloud kernel has no AHCI driver for a q35 SATA CD-ROM. */
    write_volume_disk(x, "disk", "raw", s->pool, s->seed_volume, "vdb", "virtio", true);
    start(x, "interface");
    attr(x, "type", "network");
    elem_attr(x, "source", "network", s->network);
    elem_attr(x, "model", "type", "virtio");
    end(x);
    write_serial_console(x);
    /* The guest agent's channel: a third source of the guest's address when it runs one. */
    start(x, "channel");
    attr(x, "type", "unix");
    start(x, "target");
    attr(x, "type", "virtio");
    attr(x, "name", "org.qemu.guest_agent.0");
    end(x);
    end(x);
    /* Entropy from the host: under TCG a guest can otherwise wait minutes to seed its RNG
     * before sshd generates keys. */
    start(x, "rng");
    attr(x, "model", "virtio");
    start(x, "backend");
    attr(x, "model", "random");
    check(xmlTextWriterWriteString(x->w, BAD_CAST "/dev/urandom"));
    end(x);
    end(x);
    end(x);
}

char *
lvdrv_domain_xml(const struct lvdrv_domain_spec *s)
{
    struct xw x;
    xw_open(&x);
    start(&x, "domain");
    attr(&x, "type", s->type);
    elem(&x, "name", s->name);
    elemf(&x, "title", "machine %s", s->name);
    elemf(&x, "description", "Made by machine; remove it with 'machine rm %s'.", s->name);
    write_metadata(&x, s);
    start(&x, "memory");
    attr(&x, "unit", "MiB");
    check(xmlTextWriterWriteFormatString(x.w, "%lld", (long long)s->memory_mib));
    end(&x);
    elemf(&x, "vcpu", "%d", s->vcpus);
    write_os(&x);
    start(&x, "features");
    elem(&x, "acpi", NULL);
    elem(&x, "apic", NULL);
    end(&x);
    write_cpu(&x, s->type);
    elem_attr(&x, "clock", "offset", "utc");
    write_lifecycle(&x, "restart");
    write_devices(&x, s);
    return xw_close(&x);
}

char *
lvdrv_probe_domain_xml(const char *name, const char *type, const char *pool, const char *volume)
{
    struct xw x;
    xw_open(&x);
    start(&x, "domain");
    attr(&x, "type", type);
    elem(&x, "name", name);
    elem(&x, "title", "machine: KVM probe (removed when it ends)");
    start(&x, "memory");
    attr(&x, "unit", "MiB");
    check(xmlTextWriterWriteString(x.w, BAD_CAST "16"));
    end(&x);
    elem(&x, "vcpu", "1");
    write_os(&x);
    write_cpu(&x, type);
    /* The probe guest ends by itself; whatever it does then, it must not come back. */
    write_lifecycle(&x, "destroy");
    start(&x, "devices");
    write_volume_disk(&x, "disk", "raw", pool, volume, "vda", "virtio", true);
    write_serial_console(&x);
    elem_attr(&x, "memballoon", "model", "none");
    end(&x);
    return xw_close(&x);
}

char *
lvdrv_pool_xml(const char *name, const char *path)
{
    struct xw x;
    xw_open(&x);
    start(&x, "pool");
    attr(&x, "type", "dir");
    elem(&x, "name", name);
    start(&x, "target");
    elem(&x, "path", path);
    end(&x);
    return xw_close(&x);
}

char *
lvdrv_network_xml(const char *name, const char *prefix)
{
    struct xw x;
    xw_open(&x);
    start(&x, "network");
    elem(&x, "name", name);
    elem_attr(&x, "forward", "mode", "nat");
    start(&x, "ip");
    attrf(&x, "address", "%s.1", prefix);
    attr(&x, "netmask", "255.255.255.0");
    start(&x, "dhcp");
    start(&x, "range");
    attrf(&x, "start", "%s.2", prefix);
    attrf(&x, "end", "%s.254", prefix);
    return xw_close(&x);
}

char *
lvdrv_volume_xml(const char *name, uint64_t capacity, const char *format, const char *backing_path,
                 const char *backing_format)
{
    struct xw x;
    xw_open(&x);
    start(&x, "volume");
    elem(&x, "name", name);
    elem(&x, "allocation", "0");
    start(&x, "capacity");
    attr(&x, "unit", "bytes");
    check(xmlTextWriterWriteFormatString(x.w, "%llu", (unsigned long long)capacity));
    end(&x);
    start(&x, "target");
    elem_attr(&x, "format", "type", format);
    end(&x);
    if (backing_path) {
        start(&x, "backingStore");
        elem(&x, "path", backing_path);
        elem_attr(&x, "format", "type", backing_format);
        end(&x);
    }
    return xw_close(&x);
}

/* Evaluates expr over xml; the caller frees the result and the document. */
static xmlXPathObjectPtr
eval(const char *xml, const char *expr, xmlDocPtr *ret_doc)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "libvirt.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return NULL;
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    if (!ctx)
        abort();
    check(xmlXPathRegisterNs(ctx, BAD_CAST "m", BAD_CAST LVDRV_METADATA_NS));
    xmlXPathObjectPtr obj = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    xmlXPathFreeContext(ctx);
    if (!obj) {
        xmlFreeDoc(doc);
        return NULL;
    }
    *ret_doc = doc;
    return obj;
}

char *
lvdrv_xpath_string(const char *xml, const char *expr)
{
    xmlDocPtr doc = NULL;
    xmlXPathObjectPtr obj = eval(xml, expr, &doc);
    if (!obj)
        return NULL;
    char *ret = NULL;
    bool empty = obj->type == XPATH_NODESET && (!obj->nodesetval || obj->nodesetval->nodeNr == 0);
    if (!empty) {
        xmlChar *s = xmlXPathCastToString(obj);
        ret = xstrdup((const char *)s);
        xmlFree(s);
    }
    xmlXPathFreeObject(obj);
    xmlFreeDoc(doc);
    return ret;
}

char **
lvdrv_xpath_strings(const char *xml, const char *expr)
{
    char **l = strv_new();
    xmlDocPtr doc = NULL;
    xmlXPathObjectPtr obj = eval(xml, expr, &doc);
    if (!obj)
        return l;
    if (obj->type == XPATH_NODESET && obj->nodesetval)
        for (int i = 0; i < obj->nodesetval->nodeNr; i++) {
            xmlChar *s = xmlNodeGetContent(obj->nodesetval->nodeTab[i]);
            strv_add(&l, s ? (const char *)s : "");
            xmlFree(s);
        }
    xmlXPathFreeObject(obj);
    xmlFreeDoc(doc);
    return l;
}
