/* Mamba's selective scan, one step, in integers (edgexf/ir/ops_scan.py: q_selective_scan; edgexf_kernels.h
 * states the arithmetic): one pass over the (e, n) state, h' written over h where the plan puts it there.
 *
 * Per state element: the exp's int8 index (exf_mul_q's requantization of dt A: quant_mul.h's SMMLA hi path
 * when the terms allow it, which is exact), its Q15 value from the table, then h' = (dA h + w B + 2^14) >> 15
 * as one 64-bit multiply-accumulate pair (|.| < 2^40, so the shifted value fits 32 bits) and h' C summed in
 * int32 (|h' C| < 2^23, n <= 255). Per row: w = dt x in Q15 of h per code of B, and y from the sum and
 * x D in one exf_add_q-style add, both in int64. */
#include "edgexf_kernels.h"
#include "quant_common.h"
#include "quant_mul.h"
#include "quant_pairs.h"


enum { MAX_FAST_N = 64 }; /* the fast loop keeps B and C, centred, on the stack */

/* exf_mul_q's dt * A, saturated to int8, in int64 (any terms) */
static int32_t index_wide(const exf_mul_terms_t *t, int32_t dt, int32_t a) {
    const int64_t prod = (int64_t)(dt - t->a_zp) * (a - t->b_zp);
    return exfq_clamp_s8(exfq_requantize(prod, t->mult, t->shift) + t->out_zp);
}

/* w = sat32(requantize((dt - dt_zp)(x - x_zp), w_mult, w_shift)) */
static int32_t row_w(const exf_scan_q_params_t *p, int32_t dt, int32_t x) {
    const int64_t w = exfq_requantize((int64_t)(dt - p->dt_zp) * (x - p->x_zp), p->w_mult, p->w_shift);
    return (int32_t)(w < INT32_MIN ? INT32_MIN : w > INT32_MAX ? INT32_MAX : w);
}

/* y[i] from the row's sum acc = sum_n h' (C - C_zp) and x D; add: p->y as exfq_add_pair reads it */
static ALWAYS_INLINE void row_y(const exf_scan_q_params_t *p, const int32_t add[6], int32_t acc, int32_t i,
                                int32_t xe, void *y) {
    const int32_t xd = (xe - p->x_zp) * (p->D[i] - p->D_zp);
    const int64_t v = exfq_add_pair(acc, xd, add);
    if (p->y_bytes == 1) {
        ((int8_t *)y)[i] = exfq_clamp_s8(v);
    } else {
        ((int16_t *)y)[i] = exfq_clamp_s16(v);
    }
}

/* h' from dA (Q15), h and w (B - B_zp): the 64-bit sum + 2^14, >> 15, saturated */
static ALWAYS_INLINE int32_t update(int32_t dA, int32_t h, int32_t w, int32_t b) {
    const int64_t v = (int64_t)dA * h + (int64_t)w * b + (1 << 14);
    return SAT_S16((int32_t)(v >> 15)); /* |v| < 2^15 2^15 + 2^31 2^8 + 2^14 < 2^40: v >> 15 fits */
}

/* Any terms and sizes: the index in int64, B and C centred as they are read */
static void scan_any(const exf_scan_q_params_t *p, const int8_t *x, const int8_t *dt, const int8_t *B,
                     const int8_t *C, const int16_t *h, int16_t *h_next, void *y) {
    const int32_t e = p->e, n = p->n;
    const int16_t *table = p->exp_table + 128;
    int32_t add[6];
    exfq_add_array(&p->y, add);
    for (int32_t i = 0; i < e; i++) {
        const int32_t w = row_w(p, dt[i], x[i]);
        int64_t acc = 0;
        for (int32_t j = 0; j < n; j++) {
            const int32_t k = i * n + j;
            const int32_t hn = update(table[index_wide(&p->dA, dt[i], p->A[k])], h[k], w, B[j] - p->B_zp);
            h_next[k] = (int16_t)hn;
            acc += hn * (C[j] - p->C_zp);
        }
        /* |acc| <= n 2^15 2^8: int32 for n <= 255, which every fused model has (the reference: int64) */
        row_y(p, add, (int32_t)acc, i, x[i], y);
    }
}

/* The index on quant_mul.h's hi path (m: its terms), n <= MAX_FAST_N. dt is centred and shifted left by the
 * multiply's ls once per row: (u << ls) v is (u v) << ls in int32 (the product fits, exfq_mul_prepare). */
static void scan_fast(const exf_scan_q_params_t *p, const exfq_mul_t *m, const int8_t *x, const int8_t *dt,
                      const int8_t *B, const int8_t *C, const int16_t *h, int16_t *h_next, void *y) {
    const int32_t e = p->e, n = p->n;
    int32_t bc[2 * MAX_FAST_N]; /* B - B_zp and C - C_zp, interleaved: one pointer in the loop */
    for (int32_t j = 0; j < n; j++) {
        bc[2 * j] = B[j] - p->B_zp;
        bc[2 * j + 1] = C[j] - p->C_zp;
    }
    const int16_t *table = p->exp_table + 128;
    const int32_t a_zp = p->dA.b_zp, dt_zp = p->dA.a_zp, ls = m->ls;
    const int32_t mult = m->mult, bias = m->bias, rs = m->rs;
    int32_t add[6];
    exfq_add_array(&p->y, add);
    for (int32_t i = 0; i < e; i++) {
        const int32_t w = row_w(p, dt[i], x[i]);
        const int32_t dtu = (int32_t)((uint32_t)(dt[i] - dt_zp) << ls);
        const int8_t *a = p->A + i * n;
        const int16_t *hr = h + i * n;
        int16_t *hw = h_next + i * n;
        const int32_t *q = bc;
        int32_t acc = 0;
        for (int32_t j = 0; j < n; j++, q += 2) {
            const int32_t dA = table[SAT_S8(smmla(dtu * (a[j] - a_zp), mult, bias) >> rs)];
            const int32_t hn = update(dA, hr[j], w, q[0]);
            hw[j] = (int16_t)hn;
            acc += hn * q[1];
        }
        row_y(p, add, acc, i, x[i], y);
    }
}

void exf_selective_scan_q(const exf_scan_q_params_t *p, const int8_t *x, const int8_t *dt, const int8_t *B,
                          const int8_t *C, const int16_t *h, int16_t *h_next, void *y) {
    // x, dt (e,), B, C (n,) int8, h (e, n) int16 -> h_next (e, n) int16, y (e,) int8 or int16
    const exf_mul_terms_t *t = &p->dA;
    const exfq_mul_t m = exfq_mul_prepare(1, 1, t->a_zp, t->b_zp, t->mult, t->shift, t->out_zp);
    if (m.path == EXFQ_MUL_HI && p->n <= MAX_FAST_N) {
        scan_fast(p, &m, x, dt, B, C, h, h_next, y);
    } else {
        scan_any(p, x, dt, B, C, h, h_next, y);
    }
}
