/* Integer elementwise kernels: table lookup, broadcasting add and multiply (int8, or int8/int16), requantize. Every element
 * is computed independently, so y may equal an input (see edgexf_kernels.h for when). Arithmetic as
 * in edgexf_kernels.h ("integer kernels"); mirrored by edgexf/ir/kernels_q.py. */
#include "edgexf_kernels.h"
#include "quant_common.h"

void exf_lut_s8(const int8_t *x, const int8_t *table, int8_t *y, int32_t n) {
    // x (n,) -> y (n,), y = table[x + 128]
    for (int32_t i = 0; i < n; i++) y[i] = table[(int32_t)x[i] + 128];
}

void exf_add_q(const void *a, int32_t a_bytes, const void *b, int32_t b_bytes, void *y, int32_t y_bytes,
               const int32_t shape[4], const int32_t sa[4], const int32_t sb[4], int32_t a_zp, int32_t b_zp,
               int32_t ma, int32_t mb, int32_t shift, int32_t out_zp) {
    // a + b (broadcast to shape, each rescaled) -> y (shape[0], shape[1], shape[2], shape[3])
    const int64_t half = (int64_t)1 << (shift - 1);
    int32_t out = 0;
    for (int32_t i0 = 0; i0 < shape[0]; i0++) {
        for (int32_t i1 = 0; i1 < shape[1]; i1++) {
            for (int32_t i2 = 0; i2 < shape[2]; i2++) {
                int32_t ar = i0 * sa[0] + i1 * sa[1] + i2 * sa[2];
                int32_t br = i0 * sb[0] + i1 * sb[1] + i2 * sb[2];
                for (int32_t i3 = 0; i3 < shape[3]; i3++) {
                    int64_t u = exfq_load(a, a_bytes, ar + i3 * sa[3]) - a_zp;
                    int64_t v = exfq_load(b, b_bytes, br + i3 * sb[3]) - b_zp;
                    int64_t t = u * ma + v * mb;
                    exfq_store(y, y_bytes, out++, ((t + half) >> shift) + out_zp);
                }
            }
        }
    }
}

void exf_mul_q(const int8_t *a, const int8_t *b, void *y, int32_t y_bytes, const int32_t shape[4],
               const int32_t sa[4], const int32_t sb[4], int32_t a_zp, int32_t b_zp, int32_t mult,
               int32_t shift, int32_t out_zp) {
    // a * b (broadcast to shape) -> y (shape[0], shape[1], shape[2], shape[3])
    int32_t out = 0;
    for (int32_t i0 = 0; i0 < shape[0]; i0++) {
        for (int32_t i1 = 0; i1 < shape[1]; i1++) {
            for (int32_t i2 = 0; i2 < shape[2]; i2++) {
                const int8_t *ar = a + i0 * sa[0] + i1 * sa[1] + i2 * sa[2];
                const int8_t *br = b + i0 * sb[0] + i1 * sb[1] + i2 * sb[2];
                for (int32_t i3 = 0; i3 < shape[3]; i3++) {
                    int32_t p = ((int32_t)ar[i3 * sa[3]] - a_zp) * ((int32_t)br[i3 * sb[3]] - b_zp);
                    exfq_store(y, y_bytes, out++, exfq_requantize(p, mult, shift) + out_zp);
                }
            }
        }
    }
}

void exf_mul_qq(const void *a, int32_t a_bytes, const void *b, int32_t b_bytes, void *y, int32_t y_bytes,
                const int32_t shape[4], const int32_t sa[4], const int32_t sb[4], int32_t a_zp, int32_t b_zp,
                int32_t mult, int32_t shift, int32_t out_zp) {
    // a * b (broadcast to shape, int8 or int16 each) -> y (shape[0], shape[1], shape[2], shape[3])
    int32_t out = 0;
    for (int32_t i0 = 0; i0 < shape[0]; i0++) {
        for (int32_t i1 = 0; i1 < shape[1]; i1++) {
            for (int32_t i2 = 0; i2 < shape[2]; i2++) {
                int32_t ar = i0 * sa[0] + i1 * sa[1] + i2 * sa[2];
                int32_t br = i0 * sb[0] + i1 * sb[1] + i2 * sb[2];
                for (int32_t i3 = 0; i3 < shape[3]; i3++) {
                    int64_t u = (int64_t)exfq_load(a, a_bytes, ar + i3 * sa[3]) - a_zp;
                    int64_t v = (int64_t)exfq_load(b, b_bytes, br + i3 * sb[3]) - b_zp;
                    exfq_store(y, y_bytes, out++, exfq_requantize(u * v, mult, shift) + out_zp);
                }
            }
        }
    }
}

void exf_requant_q(const void *x, int32_t x_bytes, void *y, int32_t y_bytes, int32_t n, int32_t in_zp,
                   int32_t mult, int32_t shift, int32_t out_zp) {
    // x (n,) -> y (n,), rescaled and converted between int8 and int16
    for (int32_t i = 0; i < n; i++) {
        int64_t v = exfq_requantize(exfq_load(x, x_bytes, i) - in_zp, mult, shift) + out_zp;
        exfq_store(y, y_bytes, i, v);
    }
}
