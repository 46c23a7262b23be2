/* The kernel library's version symbol (edgexf_kernels.h says why): a model generated for this library
 * references it from its init function, so a model made for other kernels does not link with these. */
#include "edgexf_kernels.h"

const char EXF_KERNELS_ID[] = EXF_KERNELS_VERSION;
