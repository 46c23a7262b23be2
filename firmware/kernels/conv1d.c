/* 1-D convolution (NCL), grouped: Mamba's depthwise causal conv and plain temporal convs.
 * Sums in the order of edgexf_kernels.h; NumPy mirror: edgexf/ir/kernels_math_ref.py (conv1d_f32). */
#include "edgexf_kernels.h"

void exf_conv1d_f32(const float *x, const float *w, const float *b, float *y, int32_t n, int32_t c, int32_t l,
                    int32_t o, int32_t k, int32_t stride, int32_t pad, int32_t groups, int32_t ol) {
    // x (n, c, l) conv w (o, c/groups, k) + b (o,) -> y (n, o, ol)
    const int32_t cg = c / groups, og = o / groups;
    for (int32_t s = 0; s < n; s++) {
        for (int32_t oc = 0; oc < o; oc++) {
            const float *xg = x + (s * c + (oc / og) * cg) * l; /* the first input channel of oc's group */
            const float *wo = w + oc * cg * k;
            float *yo = y + (s * o + oc) * ol;
            for (int32_t ox = 0; ox < ol; ox++) {
                const int32_t x0 = ox * stride - pad; /* input position of tap 0 */
                float acc = b ? b[oc] : 0.0f;
                for (int32_t ic = 0; ic < cg; ic++) {
                    for (int32_t kx = 0; kx < k; kx++) {
                        const int32_t pos = x0 + kx;
                        if (pos < 0 || pos >= l) continue; /* padding: skipped, not added as 0 * w */
                        acc += xg[ic * l + pos] * wo[ic * k + kx];
                    }
                }
                yo[ox] = acc;
            }
        }
    }
}
