/* Fast int8 linear layers for cores with the DSP extension (exf_simd.h): bit-exact with exf_linear_s8.
 *
 * SMLAD multiplies two pairs of int16 and adds both products to an accumulator: two MACs per
 * instruction. The int8 operands are widened with SXTB16, which takes bytes 0 and 2 (or, rotated,
 * 1 and 3) of a word: both operands are widened the same way, so the pairs line up without
 * reordering any weights.
 *
 * Blocking: EXF_DSP_BLOCK_ROWS rows of x are widened once into scratch (per group of four columns
 * of x, row by row, the words {x0 x2} and {x1 x3}), then every weight row is loaded and widened
 * once per block and used for all of its rows: per four columns of x, one load and two SXTB16 of
 * the weights, and per row one LDRD and two SMLAD. Each output's sum is the same integer as in
 * exf_linear_s8 (integer addition does not depend on order), and requantization is the same
 * rounding: for shift >= 32 the high word of acc * mult + 2^(shift - 1) shifted by shift - 32
 * (SMLAL, ASR), then SSAT; otherwise exfq_requantize.
 */
#include "edgexf_kernels.h"
#include "exf_simd.h"
#include "quant_common.h"

#define R_MAX EXF_DSP_BLOCK_ROWS

/* nr rows of x (row stride k) widened into xs: for group g and row r, words 2 (g nr + r) and +1. */
static void widen_rows(const int8_t *x, int32_t k, int32_t nr, uint32_t *xs) {
    const int32_t groups = k >> 2;
    for (int32_t g = 0; g < groups; g++) {
        for (int32_t r = 0; r < nr; r++) {
            uint32_t v = exf_load4(x + r * k + 4 * g);
            *xs++ = exf_sxtb16(v);
            *xs++ = exf_sxtb16_ror8(v);
        }
    }
}

/* y rows [0, nr) = linear of the nr rows of x, widened in xs. nr is a constant where this is
 * inlined, so the accumulators live in registers. */
static inline __attribute__((always_inline)) void block(const int32_t nr, const int8_t *x, const uint32_t *xs,
                                                         const int8_t *w, const int32_t *bias,
                                                         const int32_t *mult, const int32_t *shift, int8_t *y,
                                                         int32_t k, int32_t m, int32_t out_zp) {
    const int32_t groups = k >> 2, tail = k & 3;
    for (int32_t j = 0; j < m; j++) {
        const int8_t *wj = w + j * k;
        const int32_t b = bias ? bias[j] : 0;
        int32_t acc[R_MAX];
#pragma GCC unroll 8
        for (int32_t r = 0; r < nr; r++) acc[r] = b;
        const uint32_t *p = xs;
        for (int32_t g = 0; g < groups; g++) {
            const uint32_t wv = exf_load4(wj);
            const uint32_t w02 = exf_sxtb16(wv), w13 = exf_sxtb16_ror8(wv);
            wj += 4;
#pragma GCC unroll 8
            for (int32_t r = 0; r < nr; r++) {
                uint32_t x02, x13; /* {x0 x2} {x1 x3} of row r */
                exf_load_pair(&p, &x02, &x13);
                acc[r] = exf_smlad(x02, w02, acc[r]);
                acc[r] = exf_smlad(x13, w13, acc[r]);
            }
        }
        for (int32_t i = 0; i < tail; i++) {
#pragma GCC unroll 8
            for (int32_t r = 0; r < nr; r++) acc[r] += (int32_t)x[r * k + 4 * groups + i] * (int32_t)wj[i];
        }
        const int32_t mj = mult[j], sj = shift[j];
        if (sj >= 32) { /* 2^(sj - 1) as two words, without a 64-bit shift */
            const uint32_t round_lo = sj == 32 ? 0x80000000u : 0u, round_hi = sj == 32 ? 0u : 1u << (sj - 33);
            const int64_t round = (int64_t)(((uint64_t)round_hi << 32) | round_lo);
#pragma GCC unroll 8
            for (int32_t r = 0; r < nr; r++) {
                const int64_t v = (int64_t)acc[r] * mj + round; /* SMLAL */
                y[r * m + j] = (int8_t)exf_ssat8(((int32_t)(v >> 32) >> (sj - 32)) + out_zp);
            }
        } else {
#pragma GCC unroll 8
            for (int32_t r = 0; r < nr; r++) y[r * m + j] = exfq_clamp_s8(exfq_requantize(acc[r], mj, sj) + out_zp);
        }
    }
}

void exfq_linear_s8_dsp(const int8_t *x, const int8_t *w, const int32_t *bias, const int32_t *mult,
                        const int32_t *shift, int8_t *y, int32_t rows, int32_t k, int32_t m, int32_t out_zp,
                        void *scratch) {
#if EXF_MVE /* Helium: VMLADAV on the int8 operands, no widening (quant_dot_mve.c) */
    (void)scratch;
    exfq_linear_s8_mve(x, w, bias, mult, shift, y, rows, k, m, out_zp);
    return;
#endif
    uint32_t *xs = (uint32_t *)scratch;
    int32_t r = 0;
    for (; r + R_MAX <= rows; r += R_MAX) {
        widen_rows(x + r * k, k, R_MAX, xs);
        block(R_MAX, x + r * k, xs, w, bias, mult, shift, y + r * m, k, m, out_zp);
    }
    const int32_t left = rows - r;
    if (left > 0) widen_rows(x + r * k, k, left, xs);
    switch (left) { /* one specialization per count, so each keeps its accumulators in registers */
#define EXF_TAIL(n) \
    case n: block(n, x + r * k, xs, w, bias, mult, shift, y + r * m, k, m, out_zp); break;
#if R_MAX > 7
    EXF_TAIL(7)
#endif
#if R_MAX > 6
    EXF_TAIL(6)
#endif
#if R_MAX > 5
    EXF_TAIL(5)
#endif
#if R_MAX > 4
    EXF_TAIL(4)
#endif
    EXF_TAIL(3)
    EXF_TAIL(2)
    EXF_TAIL(1)
#undef EXF_TAIL
    default: break;
    }
}

void exf_linear_s8_dsp(const exf_linear_q_params_t *p, const int8_t *x, int8_t *y, void *scratch) {
    const exf_dense_q_t *fc = &p->fc;
    exfq_linear_s8_dsp(x, (const int8_t *)fc->w, fc->bias, fc->mult, fc->shift, y, p->rows, p->k, p->m, fc->out_zp,
                       scratch);
}
