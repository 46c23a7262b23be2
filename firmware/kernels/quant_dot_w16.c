/* Fast int8 linear layers with weights widened to int16 in flash (cores with the DSP extension):
 * bit-exact with exf_linear_s8.
 *
 * w16 is the weight matrix (m outputs of k inputs) as a pair-row matrix (quant_pairs.h): the outputs
 * are its rows, ceil(m / 2) pairs of ceil(k / 4) groups, 16 bytes per pair and group, zeros where m is
 * odd or k not a multiple of 4 (edgexf/codegen/wide_weights.py writes it at code generation). Twice the
 * flash of the int8 weights; in exchange no instruction widens a weight at run time.
 *
 * Two rows of x at a time are widened into a pair-row matrix in scratch (one SXTB16 per two inputs,
 * once per row for all m outputs), then exfp_dot_pairs takes the 2 x 2 blocks of sums against every
 * output pair: 16 MACs in 12 instructions. Each sum plus the bias is the same int32 as in exf_linear_s8
 * (integer addition does not depend on order), and is requantized with the same rounding by requant_t's
 * SMMLA path, which needs every shift in [33, 53] (code generation picks this kernel only then): rq
 * holds per output the path's two terms, worked out at code generation, rq[2 j] = 2^(shift - 33) +
 * out_zp 2^(shift - 32) and rq[2 j + 1] = shift - 32. An odd last row is paired with a row of zeros.
 *
 * scratch (4-byte aligned): 16 ceil(k / 4) bytes of widened rows, then 16 ceil(m / 2) bytes of sums.
 */
#include "edgexf_kernels.h"
#include "quant_pairs.h"

/* y0[j] and (if two) y1[j] for j < m from the sums acc (exfp_dot_pairs' order: output j's two rows at
 * acc[2 j], acc[2 j + 1]) plus the bias, requantized by requant_t's SMMLA path with rq's terms. two and
 * has_bias are constants where inlined. */
static ALWAYS_INLINE void requantize_body(const int32_t *acc, const int32_t *bias, const int32_t *mult,
                                          const int32_t *rq, int8_t *y0, int8_t *y1, int32_t m, const int two,
                                          const int has_bias) {
    for (int32_t j = 0; j < m; j++, acc += 2, rq += 2) {
        const int32_t b = has_bias ? bias[j] : 0, mj = mult[j], rb = rq[0], sh = rq[1];
        y0[j] = (int8_t)exf_ssat8(smmla(acc[0] + b, mj, rb) >> sh);
        if (two) y1[j] = (int8_t)exf_ssat8(smmla(acc[1] + b, mj, rb) >> sh);
    }
}

static void requantize_rows(const int32_t *acc, const int32_t *bias, const int32_t *mult, const int32_t *rq,
                            int8_t *y0, int8_t *y1, int32_t two, int32_t m) {
    if (two) {
        if (bias) {
            requantize_body(acc, bias, mult, rq, y0, y1, m, 1, 1);
        } else {
            requantize_body(acc, bias, mult, rq, y0, y1, m, 1, 0);
        }
    } else {
        if (bias) {
            requantize_body(acc, bias, mult, rq, y0, y1, m, 0, 1);
        } else {
            requantize_body(acc, bias, mult, rq, y0, y1, m, 0, 0);
        }
    }
}

void exf_linear_s8_w16(const int8_t *x, const int16_t *w16, const int32_t *bias, const int32_t *mult,
                       const int32_t *rq, int8_t *y, int32_t rows, int32_t k, int32_t m, void *scratch) {
    const int32_t groups = (k + 3) >> 2, pairs = (m + 1) >> 1;
    uint32_t *xs = (uint32_t *)scratch;
    int32_t *acc = (int32_t *)(xs + 4 * groups);
    for (int32_t r = 0; r < rows; r += 2) {
        const int32_t two = r + 1 < rows;
        exfp_widen_row(x + r * k, k, 0, xs);
        if (two) {
            exfp_widen_row(x + (r + 1) * k, k, 0, xs + 2);
        } else {
            exfp_zero_row(groups, xs + 2);
        }
        exfp_dot_pairs(xs, (const uint32_t *)(const void *)w16, groups, pairs, acc);
        requantize_rows(acc, bias, mult, rq, y + r * m, y + (r + 1) * m, two, m);
    }
}
