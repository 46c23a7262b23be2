/* Fast int8 batch matmul for cores with the DSP extension (exf_simd.h): bit-exact with exf_matmul_s8.
 *
 * Per batch, both operands are widened once to int16 pairs with their zero points subtracted
 * ((x - zp) is in [-255, 255]): a's rows and b's columns, two rows (two columns) interleaved, so that
 * one LDRD loads the same pair of k of two rows. k is padded to a multiple of 4 with zeros (and an
 * odd m or n with one zero row or column, never stored), and the pairs are (i, i + 2) and (i + 1,
 * i + 3) of each group of four: SXTB16 widens a's contiguous bytes so, b's columns are gathered
 * byte by byte in the same order. Then each 2 x 2 block of outputs is four accumulators in registers;
 * per pair of k: two LDRD and four SMLAD, 8 MACs. The sums are exf_matmul_s8's integers (integer
 * addition does not depend on order); requantization is its rounding: for shift >= 32 the high word of
 * acc * mult + 2^(shift - 1) shifted by shift - 32 (SMLAL, ASR), then SSAT; otherwise exfq_requantize.
 *
 * scratch: 4 kp (m2 + n2) bytes, kp = 2 ceil(k / 4) pairs, m2 and n2 = m and n rounded up to even
 * (edgexf/ir/kernel_choice.py matmul_scratch mirrors it).
 */
#include "edgexf_kernels.h"
#include "exf_simd.h"
#include "quant_common.h"

#if EXF_SIMD_NATIVE
static inline uint32_t ssub16(uint32_t a, uint32_t b) { return (uint32_t)__ssub16((int32_t)a, (int32_t)b); }
#else
static inline uint32_t ssub16(uint32_t a, uint32_t b) {
    return exf_halves((int16_t)a - (int16_t)b, (int16_t)(a >> 16) - (int16_t)(b >> 16));
}
#endif

static inline uint32_t pair(int32_t lo, int32_t hi) { return (uint16_t)lo | ((uint32_t)(uint16_t)hi << 16); }

/* Rows [0, rows) of a (row stride k) into ws, two rows interleaved: the word of pair q of row r is
 * ws[2 ((r / 2) kp + q) + r % 2]; an odd last row gets a zero partner. */
static void widen_rows(const int8_t *a, int32_t rows, int32_t k, int32_t zp, uint32_t *ws) {
    const int32_t kp = 2 * ((k + 3) >> 2), full = k >> 2;
    const uint32_t zz = pair(zp, zp);
    for (int32_t r = 0; r < rows + (rows & 1); r++) {
        uint32_t *out = ws + 2 * (r >> 1) * kp + (r & 1);
        if (r == rows) { /* the zero partner of an odd last row */
            for (int32_t q = 0; q < kp; q++) out[2 * q] = 0;
            break;
        }
        const int8_t *ar = a + r * k;
        for (int32_t g = 0; g < full; g++) {
            const uint32_t v = exf_load4(ar + 4 * g);
            out[4 * g] = ssub16(exf_sxtb16(v), zz);       /* {a0 a2} - zp */
            out[4 * g + 2] = ssub16(exf_sxtb16_ror8(v), zz); /* {a1 a3} - zp */
        }
        if (full * 4 < k) { /* the last group, zeros past k */
            int32_t t[4] = {0, 0, 0, 0};
            for (int32_t i = full * 4; i < k; i++) t[i - full * 4] = ar[i] - zp;
            out[4 * full] = pair(t[0], t[2]);
            out[4 * full + 2] = pair(t[1], t[3]);
        }
    }
}

/* Columns [0, cols) of b (k, cols) into ws, laid out as widen_rows lays out rows. */
static void widen_cols(const int8_t *b, int32_t k, int32_t cols, int32_t zp, uint32_t *ws) {
    const int32_t kp = 2 * ((k + 3) >> 2);
    for (int32_t c = 0; c < cols + (cols & 1); c++) {
        uint32_t *out = ws + 2 * (c >> 1) * kp + (c & 1);
        for (int32_t g = 0; 4 * g < k; g++) {
            int32_t t[4] = {0, 0, 0, 0};
            if (c < cols) {
                for (int32_t i = 0; i < 4 && 4 * g + i < k; i++) t[i] = b[(4 * g + i) * cols + c] - zp;
            }
            out[4 * g] = pair(t[0], t[2]);
            out[4 * g + 2] = pair(t[1], t[3]);
        }
    }
}

static inline int8_t requantize(int32_t acc, int32_t mult, int32_t shift, int64_t round, int32_t out_zp) {
    if (shift >= 32) return (int8_t)exf_ssat8(((int32_t)(((int64_t)acc * mult + round) >> 32) >> (shift - 32)) + out_zp);
    return exfq_clamp_s8(exfq_requantize(acc, mult, shift) + out_zp);
}

void exf_matmul_s8_dsp(const exf_matmul_q_params_t *p, const int8_t *a, const int8_t *b, int8_t *y, void *scratch) {
    const int32_t batch = p->batch, m = p->m, k = p->k, n = p->n, mult = p->mult, shift = p->shift;
    const int32_t out_zp = p->out_zp, kp = 2 * ((k + 3) >> 2);
    // a (batch, m, k) @ b (batch, k, n) -> y (batch, m, n), per-tensor requantize
    uint32_t *aw = (uint32_t *)scratch, *bw = aw + kp * (m + (m & 1));
    /* 2^(shift - 1) for the shift >= 32 path, as two words without a 64-bit shift */
    const uint32_t round_lo = shift == 32 ? 0x80000000u : 0u, round_hi = shift > 32 ? 1u << (shift - 33) : 0u;
    const int64_t round = (int64_t)(((uint64_t)round_hi << 32) | round_lo);
    for (int32_t t = 0; t < batch; t++) {
        if (t == 0 || p->a_batch_stride) widen_rows(a + t * p->a_batch_stride, m, k, p->a_zp, aw);
        if (t == 0 || p->b_batch_stride) widen_cols(b + t * p->b_batch_stride, k, n, p->b_zp, bw);
        int8_t *yt = y + t * m * n;
        for (int32_t r = 0; r < m; r += 2) {
            const int32_t two_rows = r + 1 < m;
            for (int32_t c = 0; c < n; c += 2) {
                const uint32_t *pa = aw + r * kp, *pb = bw + c * kp;
                int32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0; /* a{row}{column} */
#pragma GCC unroll 4
                for (int32_t q = 0; q < kp; q++) {
                    uint32_t x0, x1, w0, w1; /* pair q of rows r, r + 1 and of columns c, c + 1 */
                    exf_load_pair(&pa, &x0, &x1);
                    exf_load_pair(&pb, &w0, &w1);
                    a00 = exf_smlad(x0, w0, a00);
                    a01 = exf_smlad(x0, w1, a01);
                    a10 = exf_smlad(x1, w0, a10);
                    a11 = exf_smlad(x1, w1, a11);
                }
                int8_t *y0 = yt + r * n + c;
                y0[0] = requantize(a00, mult, shift, round, out_zp);
                if (c + 1 < n) y0[1] = requantize(a01, mult, shift, round, out_zp);
                if (two_rows) {
                    y0[n] = requantize(a10, mult, shift, round, out_zp);
                    if (c + 1 < n) y0[n + 1] = requantize(a11, mult, shift, round, out_zp);
                }
            }
        }
    }
}
