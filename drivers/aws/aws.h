/* The Amazon EC2 driver (`--driver aws`, alias `amazonec2`). */
#ifndef MC_AWS_H
#define MC_AWS_H

#include "driver.h"

extern const struct machine_driver aws_driver;

#endif
