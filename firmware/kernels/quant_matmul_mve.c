/* Fast int8 batch matmul for cores with Helium (MVE): bit-exact with exf_matmul_s8. exf_matmul_s8_dsp
 * calls it there (one line, quant_matmul_dsp.c), in the same scratch; compiled to nothing elsewhere.
 *
 * With the zero points taken out of the product,
 *   sum_i (a_ri - a_zp)(b_ic - b_zp) = sum_i a_ri b_ic - b_zp A_r - a_zp B_c + k a_zp b_zp,
 * A_r = sum_i a_ri and B_c = sum_i b_ic, so the products run on the int8 operands as they are, 16 MACs
 * per VMLADAVA (quant_mve.h's blocks: two rows of a by three columns of b). The column terms
 * k a_zp b_zp - a_zp B_c start the sums, the row term - b_zp A_r is added as they are requantized;
 * all in int32, whose wrap-around sum is exf_matmul_s8's int32 (the same integer modulo 2^32).
 * b's columns must be contiguous for VMLADAVA: per batch (once where b is broadcast) b is transposed
 * into scratch, eight bytes a step by a VLDRB gather (16-bit offsets i n, so 7 n < 2^16) and a
 * narrowing VSTRB, about 0.8 instructions a byte against 3 for LDRB/STRB. The requantization is
 * per tensor, four outputs a vector for shift >= 32: in registers where k <= 16 and shift >= 33
 * (exfm_dot_rq: the MNIST ViT's q k^T), else from the sums of EXFM_CHUNK columns (exfm_requant_run).
 *
 * scratch: 4 n + n k bytes (the column terms, b transposed): within kernel_choice.matmul_scratch's
 * 8 ceil(k / 4) (m2 + n2) + 8 n2 for the DSP form (8 n2 >= 4 n, 8 ceil(k / 4) n2 >= 2 n k). */
#include "edgexf_kernels.h"
#include "quant_mve.h"

#if EXF_MVE

/* bt (cols, k) = b (k, cols) transposed: per column, eight rows a step gathered (VLDRB.S16 with offsets
 * i cols) and stored narrowed, the last k % 8 under a VCTP predicate. */
static void transpose(const int8_t *b, int32_t k, int32_t cols, int8_t *bt) {
    if (7 * cols > 65535) { /* beyond the 16-bit offsets: byte by byte */
        for (int32_t c = 0; c < cols; c++) {
            for (int32_t i = 0; i < k; i++) bt[c * k + i] = b[i * cols + c];
        }
        return;
    }
    const uint16x8_t offs = vmulq_n_u16(vidupq_n_u16(0, 1), (uint16_t)cols);
    for (int32_t c = 0; c < cols; c++, bt += k) {
        for (int32_t i = 0; i < k; i += 8) {
            const mve_pred16_t live = vctp16q((uint32_t)(k - i));
            const int16x8_t v = vldrbq_gather_offset_z_s16(b + i * cols + c, offs, live);
            vstrbq_p_s16(bt + i, v, live);
        }
    }
}

void exfq_matmul_s8_mve(const exf_matmul_q_params_t *p, const int8_t *a, const int8_t *b, int8_t *y, void *scratch) {
    const int32_t batch = p->batch, m = p->m, k = p->k, n = p->n, a_zp = p->a_zp, b_zp = p->b_zp;
    const int32_t mult = p->mult, shift = p->shift, out_zp = p->out_zp;
    // a (batch, m, k) @ b (batch, k, n) -> y (batch, m, n), per-tensor requantize
    int32_t *col = (int32_t *)scratch;  /* k a_zp b_zp - a_zp B_c */
    int8_t *bt = (int8_t *)(col + n);   /* b transposed: (n, k) */
    int32_t sums[2 * EXFM_CHUNK] __attribute__((aligned(8)));
    const int32_t kab = k * a_zp * b_zp; /* |.| <= k 2^14 */
    const int direct = k <= 16 && shift >= 33; /* exfm_dot_rq's case: x held, requantized in registers */
    for (int32_t t = 0; t < batch; t++) {
        if (t == 0 || p->b_batch_stride) {
            transpose(b + t * p->b_batch_stride, k, n, bt);
            for (int32_t c = 0; c < n; c++) col[c] = kab - a_zp * exfm_sum_s8(bt + c * k, k);
        }
        const int8_t *at = a + t * p->a_batch_stride;
        int8_t *yt = y + t * m * n;
        int32_t r = 0;
        for (; r + 2 <= m; r += 2) { /* two rows share every column vector */
            const int32_t row0 = -b_zp * exfm_sum_s8(at + r * k, k), row1 = -b_zp * exfm_sum_s8(at + (r + 1) * k, k);
            if (direct) { /* the whole row pair, requantized in registers */
                const exfm_rq_t rq[2] = {{row0, mult, shift, out_zp}, {row1, mult, shift, out_zp}};
                exfm_dot_rq(2, at + r * k, bt, col, k, n, rq, yt + r * n, n);
                continue;
            }
            for (int32_t j = 0; j < n; j += EXFM_CHUNK) {
                const int32_t nc = n - j < EXFM_CHUNK ? n - j : EXFM_CHUNK;
                exfm_dot_rows(2, at + r * k, bt + j * k, col + j, k, nc, sums);
                exfm_requant_run(sums, row0, nc, mult, shift, out_zp, yt + r * n + j);
                exfm_requant_run(sums + EXFM_CHUNK, row1, nc, mult, shift, out_zp, yt + (r + 1) * n + j);
            }
        }
        if (r < m && direct) {
            const exfm_rq_t rq[2] = {{-b_zp * exfm_sum_s8(at + r * k, k), mult, shift, out_zp}};
            exfm_dot_rq(1, at + r * k, bt, col, k, n, rq, yt + r * n, n);
        } else if (r < m) {
            const int32_t row0 = -b_zp * exfm_sum_s8(at + r * k, k);
            for (int32_t j = 0; j < n; j += EXFM_CHUNK) {
                const int32_t nc = n - j < EXFM_CHUNK ? n - j : EXFM_CHUNK;
                exfm_dot_rows(1, at + r * k, bt + j * k, col + j, k, nc, sums);
                exfm_requant_run(sums, row0, nc, mult, shift, out_zp, yt + r * n + j);
            }
        }
    }
}
#endif /* EXF_MVE */
