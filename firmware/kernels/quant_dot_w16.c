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
 * out_zp 2^(shift - 32) and rq[2 j + 1] = shift - 32. A single row (an odd last row, a recurrent
 * model's step) goes through exfp_dot_row, one row against two output pairs at a time.
 *
 * Two rows and more of int8 x and y with a bias (the ViTs' layers) go faster (exfq_linear_s8_w16_rows,
 * quant_w16_rows.c): rows in blocks of three (3 x 2 blocks, 24 MACs in 17 instructions, the rows
 * widened into a triple-row matrix) or two, each block's sums started from the biases and requantized
 * straight from its registers, with no sums stored. MNIST ViT's layers (50 rows, k 64-128): 1.11-1.20
 * MACs per instruction, 0.96-1.06 before.
 *
 * exf_linear_q_w16 is the same for exf_linear_q: x and y int8 or int16 (an int16 row is re-paired by
 * halfword packing instead of widened). Its portable twin sums in int64; code generation picks it only
 * where every output's |bias| + sum |w| 2^15 (or 2^7 for int8 x) stays below 2^31, so the int32 sums
 * are the same integers. Shifts below 33 (an int16 output's) are brought into range by shifting the
 * sums left by pre_shift first, which code generation allows only where the shifted bound stays below
 * 2^31: requantize(acc, mult, shift) = requantize(acc 2^ls, mult, shift + ls) exactly, and rq holds the
 * terms of shift + ls.
 *
 * scratch (4-byte aligned): 16 ceil(k / 4) bytes of widened rows, then 16 ceil(m / 2) bytes of sums;
 * blocks of three rows take 24 ceil(k / 4) bytes and are used only where that fits in the same bytes.
 */
#include "edgexf_kernels.h"
#include "quant_common.h"
#include "quant_pairs.h"

/* y0[j] and (if two) y1[j] for j < m from the sums acc (exfp_dot_pairs' order: output j's two rows at
 * acc[2 j], acc[2 j + 1]) plus the bias, shifted left by ls, requantized by requant_t's SMMLA path with
 * rq's terms and saturated to int8 (y_bytes 1) or int16 (2). two, has_bias and y_bytes are constants
 * where inlined, and ls too on the int8 paths (0). */
static ALWAYS_INLINE void requantize_body(const int32_t *acc, const int32_t *bias, const int32_t *mult,
                                          const int32_t *rq, void *y0, void *y1, int32_t m, const int two,
                                          const int has_bias, const int y_bytes, const int32_t ls) {
    for (int32_t j = 0; j < m; j++, acc += 2, rq += 2) {
        const int32_t b = has_bias ? bias[j] : 0, mj = mult[j], rb = rq[0], sh = rq[1];
        const int32_t a0 = (int32_t)((uint32_t)(acc[0] + b) << ls), a1 = (int32_t)((uint32_t)(acc[1] + b) << ls);
        const int32_t v0 = smmla(a0, mj, rb) >> sh, v1 = two ? smmla(a1, mj, rb) >> sh : 0;
        if (y_bytes == 1) {
            ((int8_t *)y0)[j] = (int8_t)exf_ssat8(v0);
            if (two) ((int8_t *)y1)[j] = (int8_t)exf_ssat8(v1);
        } else {
            ((int16_t *)y0)[j] = (int16_t)exf_ssat16(v0);
            if (two) ((int16_t *)y1)[j] = (int16_t)exf_ssat16(v1);
        }
    }
}

#define EXF_REQUANTIZE(t, b, yb, ls) requantize_body(acc, bias, mult, rq, y0, y1, m, t, b, yb, ls)
static void requantize_rows_s8(const int32_t *acc, const int32_t *bias, const int32_t *mult, const int32_t *rq,
                               void *y0, void *y1, int32_t two, int32_t m) {
    if (two) {
        if (bias) EXF_REQUANTIZE(1, 1, 1, 0); else EXF_REQUANTIZE(1, 0, 1, 0);
    } else {
        if (bias) EXF_REQUANTIZE(0, 1, 1, 0); else EXF_REQUANTIZE(0, 0, 1, 0);
    }
}

/* Any output type and pre-shift, read at run time (int16 outputs; an int8 one whose shifts needed a pre-shift) */
static void requantize_rows_any(const int32_t *acc, const int32_t *bias, const int32_t *mult, const int32_t *rq,
                                void *y0, void *y1, int32_t two, int32_t m, int32_t y_bytes, int32_t ls) {
    if (y_bytes == 1) {
        if (bias) EXF_REQUANTIZE(two, 1, 1, ls); else EXF_REQUANTIZE(two, 0, 1, ls);
    } else if (!two) { /* a recurrent model's one-row step: no test of two per output */
        if (bias) EXF_REQUANTIZE(0, 1, 2, ls); else EXF_REQUANTIZE(0, 0, 2, ls);
    } else {
        if (bias) EXF_REQUANTIZE(1, 1, 2, ls); else EXF_REQUANTIZE(1, 0, 2, ls);
    }
}
#undef EXF_REQUANTIZE

/* Row r of x (int8 or int16 by x_bytes, k elements) into the pair-row slot dst. */
static void widen_any(const void *x, int32_t x_bytes, int32_t r, int32_t k, uint32_t *dst) {
    if (x_bytes == 1) {
        exfp_widen_row((const int8_t *)x + r * k, k, 0, dst);
    } else {
        exfp_pack_row_s16((const int16_t *)x + r * k, k, dst);
    }
}

/* The body of exfq_linear_q_w16 and exf_linear_q_w16, inlined into each: the struct kernel calling the
 * plain one cost a recurrent model's per-step linears ~7 instructions a call (the numbers pushed again). */
static inline __attribute__((always_inline)) void linear_q_w16(const void *x, int32_t x_bytes, const int16_t *w16,
                                                               const int32_t *bias, const int32_t *mult,
                                                               const int32_t *rq, int32_t pre_shift, void *y,
                                                               int32_t y_bytes, int32_t rows, int32_t k, int32_t m,
                                                               void *scratch) {
    const int32_t groups = (k + 3) >> 2, pairs = (m + 1) >> 1;
    const uint32_t *w = (const uint32_t *)(const void *)w16;
    uint32_t *xs = (uint32_t *)scratch;
    int32_t *acc = (int32_t *)(xs + 4 * groups);
    for (int32_t r = 0; r < rows; r += 2) {
        const int32_t two = r + 1 < rows;
        widen_any(x, x_bytes, r, k, xs);
        if (two) {
            widen_any(x, x_bytes, r + 1, k, xs + 2);
            exfp_dot_pairs(xs, w, groups, pairs, acc);
        } else { /* a single row (a recurrent model's step, the odd last row): no zero row to multiply */
            exfp_dot_row(xs, w, groups, pairs, acc);
        }
        uint8_t *y0 = (uint8_t *)y + r * m * y_bytes, *y1 = y0 + m * y_bytes;
        if (y_bytes == 1 && pre_shift == 0) {
            requantize_rows_s8(acc, bias, mult, rq, y0, y1, two, m);
        } else {
            requantize_rows_any(acc, bias, mult, rq, y0, y1, two, m, y_bytes, pre_shift);
        }
    }
}

void exfq_linear_q_w16(const void *x, int32_t x_bytes, const int16_t *w16, const int32_t *bias,
                       const int32_t *mult, const int32_t *rq, int32_t pre_shift, void *y, int32_t y_bytes,
                       int32_t rows, int32_t k, int32_t m, void *scratch) {
    linear_q_w16(x, x_bytes, w16, bias, mult, rq, pre_shift, y, y_bytes, rows, k, m, scratch);
}

void exf_linear_q_w16(const exf_linear_q_params_t *p, const void *x, void *y, void *scratch) {
    const exf_dense_q_t *fc = &p->fc;
    linear_q_w16(x, p->x_bytes, (const int16_t *)fc->w, fc->bias, fc->mult, fc->rq, p->pre_shift, y, p->y_bytes,
                 p->rows, p->k, p->m, scratch);
}

/* int8 x and y, a bias, rows >= 2 (quant_common.h): rows in blocks of three, where three widened rows
 * fit the declared scratch (24 groups bytes), then two (exfp_row_triple_s8, exfp_row_pair_s8:
 * requantized from the blocks' registers, the bias the first SMLAD's accumulator), an odd last row as
 * linear_q_w16 does. Its own entry (exf_linear_s8_w16_rows, which code generation names for two rows and
 * more with a bias; the fused kernels choose per block), so that linear_q_w16's code, a recurrent model's
 * one-row step, stays as it was: a test inside it cost that step about 15 instructions a call (gcc set
 * up both paths first), one in exf_linear_s8_w16 about 8. */
void exfq_linear_s8_w16_rows(const int8_t *x, const int16_t *w16, const int32_t *bias, const int32_t *mult,
                             const int32_t *rq, int8_t *y, int32_t rows, int32_t k, int32_t m, void *scratch) {
#if EXF_MVE /* Helium: exfp_dot_pairs' MVE form, then the requantization loop */
    exfq_linear_q_w16(x, 1, w16, bias, mult, rq, 0, y, 1, rows, k, m, scratch);
#else
    const int32_t groups = (k + 3) >> 2;
    const uint32_t *w = (const uint32_t *)(const void *)w16;
    uint32_t *xs = (uint32_t *)scratch;
    int32_t r = 0;
    exfp_rows_s8_t job = {xs, w, groups, m >> 1, bias, mult, rq, y, m, 1};
    if (groups <= 2 * ((m + 1) >> 1)) {
        for (; r + 3 <= rows && rows - r != 4; r += 3) { /* 4 left: two pairs, not a triple and a row */
            for (int32_t i = 0; i < 3; i++) exfp_widen_row3(x + (r + i) * k, k, xs + 2 * i);
            job.y = y + r * m;
            exfp_row_triple_s8(&job);
        }
    }
    for (; r + 2 <= rows; r += 2) {
        exfp_widen_row(x + r * k, k, 0, xs);
        exfp_widen_row(x + (r + 1) * k, k, 0, xs + 2);
        job.y = y + r * m;
        exfp_row_pair_s8(&job);
    }
    if (r < rows) { /* the odd last row */
        int32_t *acc = (int32_t *)(xs + 4 * groups);
        exfp_widen_row(x + r * k, k, 0, xs);
        exfp_dot_row(xs, w, groups, (m + 1) >> 1, acc);
        requantize_rows_s8(acc, bias, mult, rq, y + r * m, NULL, 0, m);
    }
#endif
}

/* exf_linear_q_w16 for two rows and more with a bias and no pre-shift (the LMU's int16 memory layer: 32
 * rows of 16 to 16, int16 in and out): row pairs requantized from registers (exfp_row_pair_s8, int8 or
 * int16 y), an int16 row re-paired by halfword packing. Its own entry, as exf_linear_s8_w16_rows, so the
 * one-row step keeps its code; any other case takes exf_linear_q_w16. */
void exf_linear_q_w16_rows(const exf_linear_q_params_t *p, const void *x, void *y, void *scratch) {
#if !EXF_MVE /* Helium: exfp_dot_pairs' MVE form in exf_linear_q_w16 */
    const exf_dense_q_t *fc = &p->fc;
    if (fc->bias != NULL && p->pre_shift == 0) {
        const int32_t k = p->k, m = p->m, rows = p->rows, x_bytes = p->x_bytes, y_bytes = p->y_bytes;
        uint32_t *xs = (uint32_t *)scratch;
        exfp_rows_s8_t job = {xs,     (const uint32_t *)fc->w, (k + 3) >> 2, m >> 1, fc->bias, fc->mult,
                              fc->rq, y,                       m,            y_bytes};
        int32_t r = 0;
        for (; r + 2 <= rows; r += 2) {
            widen_any(x, x_bytes, r, k, xs);
            widen_any(x, x_bytes, r + 1, k, xs + 2);
            job.y = (uint8_t *)y + r * m * y_bytes;
            exfp_row_pair_s8(&job);
        }
        if (r < rows) { /* the odd last row */
            int32_t *acc = (int32_t *)(xs + 4 * job.groups);
            widen_any(x, x_bytes, r, k, xs);
            exfp_dot_row(xs, job.w, job.groups, (m + 1) >> 1, acc);
            requantize_rows_any(acc, fc->bias, fc->mult, fc->rq, (uint8_t *)y + r * m * y_bytes, NULL, 0, m, y_bytes,
                                0);
        }
        return;
    }
#endif
    exf_linear_q_w16(p, x, y, scratch);
}

void exf_linear_s8_w16(const exf_linear_q_params_t *p, const int8_t *x, int8_t *y, void *scratch) {
    const exf_dense_q_t *fc = &p->fc;
    exfq_linear_q_w16(x, 1, (const int16_t *)fc->w, fc->bias, fc->mult, fc->rq, 0, y, 1, p->rows, p->k, p->m,
                      scratch);
}

void exf_linear_s8_w16_rows(const exf_linear_q_params_t *p, const int8_t *x, int8_t *y, void *scratch) {
    const exf_dense_q_t *fc = &p->fc;
    exfq_linear_s8_w16_rows(x, (const int16_t *)fc->w, fc->bias, fc->mult, fc->rq, y, p->rows, p->k, p->m, scratch);
}
