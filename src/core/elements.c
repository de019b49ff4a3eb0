/* Placeholder until the element table lands. */
#include "matscreen/species.h"
ms_err ms_elements_load(void) { return MS_SUCCESS; }
void ms_elements_unload(void) {}
