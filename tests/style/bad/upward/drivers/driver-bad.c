/* A driver must never include the store (DESIGN.md §2): the checker must refuse this. */
#include "store-bad.h"
