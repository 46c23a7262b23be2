/* Internal to exf_conv2d_s8_dsp (quant_conv_dsp.c): its direct path, in a file of its own. */
#ifndef EDGEXF_QUANT_CONV_H
#define EDGEXF_QUANT_CONV_H

#include "edgexf_kernels.h"

/* One input channel and fewer than EXF_CONV_DIRECT_OG outputs per group (depthwise): each input channel
 * copied once into a plane padded with in_zp, no im2col (quant_conv_direct.c). */
void exfp_conv2d_direct(const exf_conv2d_q_params_t *p, const int8_t *x, int8_t *y, void *scratch);

#endif /* EDGEXF_QUANT_CONV_H */
