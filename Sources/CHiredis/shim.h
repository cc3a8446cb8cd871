#ifndef CREDITWATCH_CHIREDIS_SHIM_H
#define CREDITWATCH_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
