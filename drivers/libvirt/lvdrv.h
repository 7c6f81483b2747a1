/* The libvirt driver: local VMs booted from a cloud image (KVM where it works, else TCG). */
#ifndef MC_LVDRV_H
#define MC_LVDRV_H

#include "driver.h"

extern const struct machine_driver libvirt_driver;

#endif
