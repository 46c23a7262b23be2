/* Mamba's selective scan, one step, float32 (edgexf/ir/ops_scan.py; edgexf_kernels.h states the order).
 * One pass over the (e, n) state: each element's exp, update, and its term of C . h' at once, where the
 * chain of plain ops it replaces makes eight passes and four (e, n) intermediates. */
#include "edgexf_kernels.h"

void exf_selective_scan_f32(const exf_scan_f32_params_t *p, const float *x, const float *dt, const float *B,
                            const float *C, const float *h, float *h_next, float *y) {
    // x, dt (e,), B, C (n,), h (e, n) -> h_next (e, n), y (e,)
    const float *A = p->A, *D = p->D;
    const int32_t e = p->e, n = p->n;
    for (int32_t i = 0; i < e; i++) {
        const float dte = dt[i], xe = x[i], dtx = dte * xe;
        const float *a = A + i * n, *hi = h + i * n;
        float *ho = h_next + i * n;
        float acc = 0.0f;
        for (int32_t j = 0; j < n; j++) {
            const float dA = exf_expf(dte * a[j]);
            const float v = dA * hi[j] + dtx * B[j];
            ho[j] = v;
            acc = acc + v * C[j];
        }
        y[i] = acc + xe * D[i];
    }
}
