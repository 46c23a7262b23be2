/* Fast int8 batch matmul for cores with the DSP extension (exf_simd.h): bit-exact with exf_matmul_s8.
 *
 * Per batch, both operands become pair-row matrices (quant_pairs.h) with their zero points subtracted
 * ((x - zp) is in [-255, 255], an int16): a's m rows (exfp_widen_row: SXTAB16 on its contiguous bytes)
 * and b's n columns (gathered byte by byte, paired the same way). An operand broadcast over the batch
 * (stride 0) is widened once. Then each pair of a's rows against all of b's column pairs is
 * exfp_dot_pairs (2 x 2 blocks, 16 MACs in 12 instructions: LDRD and SMLAD), whose sums are
 * exf_matmul_s8's integers (integer addition does not depend on order), requantized row by row with
 * its rounding: for shift in [33, 53] SSAT8(SMMLA(acc, mult, 2^(shift - 33) + out_zp 2^(shift - 32))
 * >> (shift - 32)) (quant_pairs.h requant_t), otherwise exfq_requantize.
 *
 * scratch: 8 g (m2 + n2) + 8 n2 bytes, g = ceil(k / 4), m2 and n2 = m and n rounded up to even
 * (the two pair-row matrices, then the sums of a row pair; kernel_choice.matmul_scratch mirrors it).
 */
#include "edgexf_kernels.h"
#include "quant_pairs.h"

/* a (rows, k) - zp as a pair-row matrix at dst; an odd last row gets a row of zeros as its partner. */
static void widen_rows(const int8_t *a, int32_t rows, int32_t k, int32_t zp, uint32_t *dst) {
    const int32_t groups = (k + 3) >> 2;
    for (int32_t r = 0; r < rows; r++) exfp_widen_row(a + r * k, k, zp, dst + 4 * groups * (r >> 1) + 2 * (r & 1));
    if (rows & 1) exfp_zero_row(groups, dst + 4 * groups * (rows >> 1) + 2);
}

/* The columns of b (k, cols) - zp as the rows of a pair-row matrix at dst (a zero partner for an odd
 * last column): per column and group four LDRSB a row of b apart, paired {e0 e2} {e1 e3}. */
static void widen_cols(const int8_t *b, int32_t k, int32_t cols, int32_t zp, uint32_t *dst) {
    const int32_t groups = (k + 3) >> 2, full = k >> 2;
    for (int32_t c = 0; c < cols; c++) {
        uint32_t *out = dst + 4 * groups * (c >> 1) + 2 * (c & 1);
        const int8_t *bc = b + c;
        for (int32_t g = 0; g < full; g++, out += 4, bc += 4 * cols) {
            out[0] = pack2(bc[0] - zp, bc[2 * cols] - zp);
            out[1] = pack2(bc[cols] - zp, bc[3 * cols] - zp);
        }
        if (full < groups) {
            int32_t v[4] = {0, 0, 0, 0};
            for (int32_t i = 0; 4 * full + i < k; i++) v[i] = bc[i * cols] - zp;
            out[0] = pack2(v[0], v[2]);
            out[1] = pack2(v[1], v[3]);
        }
    }
    if (cols & 1) exfp_zero_row(groups, dst + 4 * groups * (cols >> 1) + 2);
}

/* Rows r0 (and r0 + 1 where two) of y from the sums of exfp_dot_pairs, acc[4 p + 2 s + r] for column
 * 2 p + s. hi: r.hi, a constant where inlined. */
static ALWAYS_INLINE void store_rows(const int32_t *acc, int8_t *y, int32_t n, int32_t two, const requant_t r,
                                     const int hi) {
    int32_t c = 0;
    for (; c + 2 <= n; c += 2, acc += 4) {
        y[c] = (int8_t)requant(acc[0], r, hi);
        y[c + 1] = (int8_t)requant(acc[2], r, hi);
        if (two) {
            y[n + c] = (int8_t)requant(acc[1], r, hi);
            y[n + c + 1] = (int8_t)requant(acc[3], r, hi);
        }
    }
    if (c < n) {
        y[c] = (int8_t)requant(acc[0], r, hi);
        if (two) y[n + c] = (int8_t)requant(acc[1], r, hi);
    }
}

void exf_matmul_s8_dsp(const exf_matmul_q_params_t *p, const int8_t *a, const int8_t *b, int8_t *y, void *scratch) {
    const int32_t batch = p->batch, m = p->m, k = p->k, n = p->n, groups = (k + 3) >> 2;
    const int32_t m_pairs = (m + 1) >> 1, n_pairs = (n + 1) >> 1;
    // a (batch, m, k) @ b (batch, k, n) -> y (batch, m, n), per-tensor requantize
#if EXF_MVE /* Helium: VMLADAVA on the int8 operands, b transposed in the same scratch (quant_matmul_mve.c) */
    exfq_matmul_s8_mve(p, a, b, y, scratch);
    return;
#endif
    uint32_t *aw = (uint32_t *)scratch, *bw = aw + 4 * groups * m_pairs;
    int32_t *acc = (int32_t *)(bw + 4 * groups * n_pairs);
    const requant_t rq = requant_of(p->mult, p->shift, p->out_zp);
    for (int32_t t = 0; t < batch; t++) {
        if (t == 0 || p->a_batch_stride) widen_rows(a + t * p->a_batch_stride, m, k, p->a_zp, aw);
        if (t == 0 || p->b_batch_stride) widen_cols(b + t * p->b_batch_stride, k, n, p->b_zp, bw);
        int8_t *yt = y + t * m * n;
        for (int32_t i = 0; i < m_pairs; i++) {
            exfp_dot_pairs(aw + 4 * groups * i, bw, groups, n_pairs, acc);
            const int32_t two = 2 * i + 1 < m;
            if (rq.hi) {
                store_rows(acc, yt + 2 * i * n, n, two, rq, 1);
            } else {
                store_rows(acc, yt + 2 * i * n, n, two, rq, 0);
            }
        }
    }
}
