/* TAP helpers for the libvirt driver's tests. */
#ifndef MC_TAP_LIBVIRT_H
#define MC_TAP_LIBVIRT_H

/* One TAP line: xml (the XML of a domain, network, pool or volume) validates against libvirt's
 * schema for its root element, as virt-xml-validate checks it; its complaints go to diag. */
void tap_libvirt_xml_valid(const char *xml, const char *what);

#endif
