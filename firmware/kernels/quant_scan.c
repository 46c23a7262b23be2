/* Mamba's selective scan, one step, in integers (edgexf/ir/ops_scan.py: q_selective_scan; edgexf_kernels.h
 * states the arithmetic): one pass over the (e, n) state, h' written over h where the plan puts it there.
 *
 * Per state element: the exp's int8 index (exf_mul_q's requantization of dt A: quant_mul.h's SMMLA hi path
 * when the terms allow it, which is exact), its Q15 value from the table, then h' = (dA h + w B + 2^14) >> 15
 * as one 64-bit multiply-accumulate pair (|.| < 2^40, so the shifted value fits 32 bits) and h' C summed in
 * int32 (|h' C| < 2^23, n <= 255). Per row: w = dt x in Q15 of h per code of B, and y from the sum and
 * x D in one exf_add_q-style add, both in int64. */
#include <string.h>

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

/* The per-row terms of the fast loop, in int32 where the shifts allow (each exact; else row_w / row_y):
 * - w by mode. W_SMMULR (w_shift in [17, 32]): u = (dt - zp)(x - zp), |u| <= 255^2 < 2^16, so u << ls fits
 *   int32 (ls = 32 - w_shift <= 15) and SMMULR's (u 2^ls mult + 2^31) >> 32 is requantize(u) (2^31 / 2^ls =
 *   2^(w_shift - 1)); |w| < 2^16 2^31 / 2^17 needs no saturation. W_SMMLA (w_shift in [33, 53]):
 *   quant_pairs.h's requant hi formula, (floor(u mult / 2^32) + 2^(w_shift - 33)) >> (w_shift - 32).
 * - y (its add's shift in [33, 53], zero points of its operands 0, as the pass makes them): the high word of
 *   acc ma + xd mb (SMULL, SMLAL), plus y_bias = 2^(shift - 33) + out_zp 2^(shift - 32), >> (shift - 32): the
 *   same floor, as 2^(shift - 1) and out_zp 2^shift are whole multiples of 2^32 (|hi| < 2^30 + 2^15 with
 *   n <= MAX_FAST_N, |y_bias| < 2^29). */
enum { W_INT64, W_SMMULR, W_SMMLA };
typedef struct {
    int32_t w_mode, w_ls, w_bias, w_rs;
    int32_t y_fast, y_bias, y_rs;
} rows_t;

static rows_t rows_of(const exf_scan_q_params_t *p) {
    const int32_t ws = p->w_shift, ys = p->y.shift;
    rows_t r = {W_INT64, 0, 0, 0, 0, 0, 0};
    if (ws >= 17 && ws <= 32) {
        r.w_mode = W_SMMULR;
        r.w_ls = 32 - ws;
    } else if (ws >= 33 && ws <= 53) {
        r.w_mode = W_SMMLA;
        r.w_bias = (int32_t)(1u << (ws - 33));
        r.w_rs = ws - 32;
    }
    const int32_t zp_ok = p->y.a_zp == 0 && p->y.b_zp == 0 && p->y.out_zp >= -128 && p->y.out_zp <= 128;
    if (ys >= 33 && ys <= 53 && zp_ok) {
        r.y_fast = 1;
        r.y_bias = (int32_t)(1u << (ys - 33)) + p->y.out_zp * (1 << (ys - 32));
        r.y_rs = ys - 32;
    }
    return r;
}

#if EXF_SIMD_NATIVE
/* (a b + 2^31) >> 32 (SMMULR) */
static inline int32_t smmulr(int32_t a, int32_t b) {
    int32_t out;
    __asm__("smmulr %0, %1, %2" : "=r"(out) : "r"(a), "r"(b));
    return out;
}
#else
static inline int32_t smmulr(int32_t a, int32_t b) {
    return (int32_t)(((int64_t)a * b + 0x80000000LL) >> 32);
}
#endif

static ALWAYS_INLINE int32_t fast_w(const exf_scan_q_params_t *p, const rows_t *r, int32_t dt, int32_t x) {
    const int32_t u = (dt - p->dt_zp) * (x - p->x_zp);
    if (r->w_mode == W_SMMULR) return smmulr((int32_t)((uint32_t)u << r->w_ls), p->w_mult);
    if (r->w_mode == W_SMMLA) return smmla(u, p->w_mult, r->w_bias) >> r->w_rs;
    return row_w(p, dt, x);
}

static ALWAYS_INLINE void fast_y(const exf_scan_q_params_t *p, const rows_t *r, const int32_t add[6],
                                 int32_t acc, int32_t i, int32_t xe, void *y) {
    if (!r->y_fast) {
        row_y(p, add, acc, i, xe, y);
        return;
    }
    const int32_t xd = (xe - p->x_zp) * (p->D[i] - p->D_zp);
    const int64_t v = (int64_t)acc * p->y.ma + (int64_t)xd * p->y.mb;
    const int32_t t = ((int32_t)(v >> 32) + r->y_bias) >> r->y_rs;
    if (p->y_bytes == 1) {
        ((int8_t *)y)[i] = (int8_t)SAT_S8(t);
    } else {
        ((int16_t *)y)[i] = (int16_t)SAT_S16(t);
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

/* |w| up to this takes h' in int32: |dA h| <= 32767 * 32768 < 2^30 and |w (B - B_zp)| <= 2^22 * 255 < 2^30,
 * so dA h + w b + 2^14 < 2^31. A larger |w| (a row with large dt and x) takes the int64 sum. */
enum { W32_MAX = 1 << 22 };

/* One row of the fast loop: h' over h (hr), acc = sum_j h' (C - C_zp). wide: a constant where inlined, the
 * int64 update (update()); else the int32 one, the same value (W32_MAX). The index: dtu (a - a_zp) is
 * dtu a + c0, c0 = -dtu a_zp (each term and the sum fit int32: exfq_mul_prepare bounds dtu (a - a_zp)). */
static ALWAYS_INLINE int32_t scan_row(const int8_t *a, int16_t *hr, const int32_t *q, int32_t n, int32_t dtu,
                                      int32_t c0, const exfq_mul_t *m, const int16_t *table, int32_t w,
                                      const int wide) {
    const int32_t mult = m->mult, bias = m->bias, rs = m->rs;
    int32_t acc = 0;
    for (int32_t j = 0; j < n; j++, q += 2) {
        const int32_t dA = table[SAT_S8(smmla(dtu * a[j] + c0, mult, bias) >> rs)];
        int32_t hn;
        if (wide) {
            hn = update(dA, hr[j], w, q[0]);
        } else {
            hn = SAT_S16((dA * hr[j] + w * q[0] + (1 << 14)) >> 15);
        }
        hr[j] = (int16_t)hn;
        acc += hn * q[1];
    }
    return acc;
}

/* The index on quant_mul.h's hi path (m: its terms), n <= MAX_FAST_N, h' written over h (h_next: h copied
 * there first when it is elsewhere). dt is centred and shifted left by the multiply's ls once per row:
 * (u << ls) v is (u v) << ls in int32 (the product fits, exfq_mul_prepare). rows: a constant where inlined,
 * the example models' case (w by SMMULR, y by its high word) with y's element size (1 or 2), else 0: the
 * row's terms in registers and no per-row branches on them (about 30 instructions a row less). */
static ALWAYS_INLINE void fast_body(const exf_scan_q_params_t *p, const exfq_mul_t *m, const int8_t *x,
                                    const int8_t *dt, const int32_t *bc, int16_t *h_next, void *y,
                                    const rows_t *r, const int rows) {
    const int32_t e = p->e, n = p->n;
    const int16_t *table = p->exp_table + 128;
    const int32_t a_zp = p->dA.b_zp, dt_zp = p->dA.a_zp, ls = m->ls;
    const int32_t x_zp = p->x_zp, w_dt_zp = p->dt_zp, w_mult = p->w_mult, w_ls = r->w_ls;
    const int32_t ma = p->y.ma, mb = p->y.mb;
    const int32_t y_bias = r->y_bias, y_rs = r->y_rs, D_zp = p->D_zp;
    const int8_t *D = p->D;
    int32_t add[6];
    exfq_add_array(&p->y, add);
    for (int32_t i = 0; i < e; i++) {
        const int32_t xi = x[i], dti = dt[i];
        const int32_t w = rows ? smmulr((int32_t)((uint32_t)((dti - w_dt_zp) * (xi - x_zp)) << w_ls), w_mult)
                               : fast_w(p, r, dti, xi);
        const int32_t dtu = (int32_t)((uint32_t)(dti - dt_zp) << ls);
        const int32_t c0 = -dtu * a_zp;
        const int8_t *a = p->A + i * n;
        int16_t *hr = h_next + i * n;
        const int32_t acc = (w >= -W32_MAX && w <= W32_MAX) ? scan_row(a, hr, bc, n, dtu, c0, m, table, w, 0)
                                                            : scan_row(a, hr, bc, n, dtu, c0, m, table, w, 1);
        if (rows) {
            const int64_t v = (int64_t)acc * ma + (int64_t)((xi - x_zp) * (D[i] - D_zp)) * mb;
            const int32_t t = ((int32_t)(v >> 32) + y_bias) >> y_rs;
            if (rows == 1) {
                ((int8_t *)y)[i] = (int8_t)SAT_S8(t);
            } else {
                ((int16_t *)y)[i] = (int16_t)SAT_S16(t);
            }
        } else {
            fast_y(p, r, add, acc, i, xi, y);
        }
    }
}

static void scan_fast(const exf_scan_q_params_t *p, const exfq_mul_t *m, const int8_t *x, const int8_t *dt,
                      const int8_t *B, const int8_t *C, const int16_t *h, int16_t *h_next, void *y) {
    const int32_t e = p->e, n = p->n;
    int32_t bc[2 * MAX_FAST_N]; /* B - B_zp and C - C_zp, interleaved: one pointer in the loop */
    for (int32_t j = 0; j < n; j++) {
        bc[2 * j] = B[j] - p->B_zp;
        bc[2 * j + 1] = C[j] - p->C_zp;
    }
    if (h_next != h) memcpy(h_next, h, (size_t)(e * n) * sizeof(int16_t)); /* the plan puts h' over h */
    const rows_t r = rows_of(p);
    if (r.w_mode == W_SMMULR && r.y_fast) {
        if (p->y_bytes == 1) {
            fast_body(p, m, x, dt, bc, h_next, y, &r, 1);
        } else {
            fast_body(p, m, x, dt, bc, h_next, y, &r, 2);
        }
    } else {
        fast_body(p, m, x, dt, bc, h_next, y, &r, 0);
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
