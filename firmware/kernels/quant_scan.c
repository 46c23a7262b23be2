/* Mamba's selective scan, one step, in integers (edgexf/ir/ops_scan.py: q_selective_scan): the arithmetic
 * of the q_mul / q_lut / q_add / q_mean chain it replaces, element for element, in one pass over the
 * (e, n) state instead of seven passes and four (e, n) intermediates.
 *
 * Per state element: dA = table[sat8(dt * A)], t1 = sat16(dA * h), t2 = sat16(dtx * B), h' = sat16(t1 + t2),
 * the sum's term sat8(h' * C); per row e: dtx = sat8(dt * x) first, then y = sat(sum + sat8(x * D)).
 * The multiplies take quant_mul.h's hi path (SMMLA, exact: see there) and the adds quant_add.h's hi or lo
 * path when the call's terms allow it for all of them ("fast"); otherwise every step as exf_mul_q and
 * exf_add_q compute it, in int64 where their fast paths do not apply ("any", per element). */
#include "edgexf_kernels.h"
#include "quant_add.h"
#include "quant_common.h"
#include "quant_mul.h"
#include "quant_pairs.h"

#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
#include <arm_acle.h>
#define SAT_S8(v) __ssat((v), 8)
#define SAT_S16(v) __ssat((v), 16)
#else
#define SAT_S8(v) ((v) < -128 ? -128 : (v) > 127 ? 127 : (v))
#define SAT_S16(v) ((v) < -32768 ? -32768 : (v) > 32767 ? 32767 : (v))
#endif

enum { MAX_FAST_N = 32 }; /* the fast loop keeps B and C, centred and pre-shifted, on the stack */

typedef struct {
    exfq_mul_t dA, dAh, dBx, hC; /* the multiplies inside the loop over n */
    exfq_add_t h;                /* h' = dA h + dBx */
} scan_terms;

static exfq_mul_t prepare(const exf_mul_terms_t *t, int32_t a_bytes, int32_t b_bytes) {
    return exfq_mul_prepare(a_bytes, b_bytes, t->a_zp, t->b_zp, t->mult, t->shift, t->out_zp);
}

/* clamp(requantize((a - a_zp)(b - b_zp)) + out_zp) in int64 (exf_mul_q's arithmetic), before the
 * saturation to the step's type: clamped to int16's range, which a later int8 or int16 saturation
 * leaves as the int64 value's own. */
static int32_t mul_wide(const exf_mul_terms_t *t, int32_t a, int32_t b) {
    const int64_t p = (int64_t)(a - t->a_zp) * (b - t->b_zp);
    return exfq_clamp_s16(exfq_requantize(p, t->mult, t->shift) + t->out_zp);
}

/* The hi path of quant_mul.h on centred operands u, v (before saturation) */
static ALWAYS_INLINE int32_t mul_hi(const exfq_mul_t *m, int32_t u, int32_t v) {
    return smmla((int32_t)((uint32_t)(u * v) << m->ls), m->mult, m->bias) >> m->rs;
}

static ALWAYS_INLINE int32_t mul_any(const exfq_mul_t *m, const exf_mul_terms_t *t, int32_t a, int32_t b) {
    return m->path == EXFQ_MUL_HI ? mul_hi(m, a - t->a_zp, b - t->b_zp) : mul_wide(t, a, b);
}

/* quant_add.h's add of raw a, b (before saturation) on its hi, lo or wide path */
static ALWAYS_INLINE int32_t add_path(const exfq_add_t *p, int32_t a, int32_t b, const int path) {
    const int64_t v = p->k + (int64_t)a * p->ma + (int64_t)b * p->mb;
    if (path == EXFQ_ADD_HI) return ((int32_t)(v >> 32) >> p->rs) + p->out_zp;
    if (path == EXFQ_ADD_LO) return (int32_t)(((uint32_t)v >> p->rs) | ((uint32_t)(v >> 32) << p->ls));
    return exfq_clamp_s16((v >> p->rs) + p->out_zp);
}

/* The per-row tail: y[e] = sat(sum + sat8(x D)), the sum requantized from acc = sum of (h' C - in_zp) */
static void row_out(const exf_scan_q_params_t *p, int64_t acc, int32_t xe, int32_t de, void *y, int32_t e) {
    const int32_t total = exfq_clamp_s8(exfq_requantize(acc, p->sum_mult, p->sum_shift) + p->sum_out_zp);
    const int32_t dx = SAT_S8(mul_wide(&p->Dx, xe, de));
    int32_t add[6];
    exfq_add_array(&p->y, add);
    exfq_store(y, p->y_bytes, e, exfq_add_pair(total, dx, add));
}

static int32_t dtx_of(const exf_scan_q_params_t *p, int32_t dte, int32_t xe) {
    return SAT_S8(mul_wide(&p->dtx, dte, xe));
}

/* Any terms: each multiply and the add on its own path, chosen per element */
static void scan_any(const exf_scan_q_params_t *p, const scan_terms *s, const int8_t *x, const int8_t *dt,
                     const int8_t *B, const int8_t *C, const int16_t *h, int16_t *h_next, void *y) {
    const int32_t e = p->e, n = p->n;
    const int8_t *table = p->exp_table + 128;
    for (int32_t i = 0; i < e; i++) {
        const int32_t dtx = dtx_of(p, dt[i], x[i]);
        int64_t acc = 0;
        for (int32_t j = 0; j < n; j++) {
            const int32_t k = i * n + j;
            const int32_t dA = table[SAT_S8(mul_any(&s->dA, &p->dA, dt[i], p->A[k]))];
            const int32_t t1 = SAT_S16(mul_any(&s->dAh, &p->dAh, dA, h[k]));
            const int32_t t2 = SAT_S16(mul_any(&s->dBx, &p->dBx, dtx, B[j]));
            const int32_t path = s->h.path;
            const int32_t hn = SAT_S16(path == EXFQ_ADD_HI   ? add_path(&s->h, t1, t2, EXFQ_ADD_HI)
                                       : path == EXFQ_ADD_LO ? add_path(&s->h, t1, t2, EXFQ_ADD_LO)
                                                             : add_path(&s->h, t1, t2, EXFQ_ADD_WIDE));
            h_next[k] = (int16_t)hn;
            acc += SAT_S8(mul_any(&s->hC, &p->hC, hn, C[j])) - p->sum_in_zp;
        }
        row_out(p, acc, x[i], p->D[i], y, i);
    }
}

/* The per-row steps on their fast paths: dt x, x D and the sum's requantization (acc, |acc| <= 255 n, as
 * the product acc * 1 of an int16 and an int8: within exfq_mul_prepare's bound) by SMMLA, the add by
 * quant_add.h's hi or lo path */
typedef struct {
    exfq_mul_t dtx, Dx, sum;
    exfq_add_t y;
} row_terms;

static ALWAYS_INLINE int32_t add_fast(const exfq_add_t *p, int32_t a, int32_t b) {
    return p->path == EXFQ_ADD_HI ? add_path(p, a, b, EXFQ_ADD_HI) : add_path(p, a, b, EXFQ_ADD_LO);
}

/* Every multiply on the hi path and the adds on the hi or lo path (h's: `path`, a constant where inlined).
 * B and C are centred once per call, C also shifted left by its multiply's ls; dt and dt x centred and
 * shifted once per row: (u << ls) v is (u v) << ls in int32 (the product fits, exfq_mul_prepare). One loop
 * over n per row (n is small: three loops, each with fewer terms in registers, took 15% more). */
static ALWAYS_INLINE void scan_fast(const exf_scan_q_params_t *p, const scan_terms *s, const row_terms *r,
                                    const int8_t *x, const int8_t *dt, const int8_t *B, const int8_t *C,
                                    const int16_t *h, int16_t *h_next, void *y, const int path) {
    const int32_t e = p->e, n = p->n, y_bytes = p->y_bytes;
    int32_t bc[MAX_FAST_N], cc[MAX_FAST_N];
    for (int32_t j = 0; j < n; j++) {
        bc[j] = B[j] - p->dBx.b_zp;
        cc[j] = (int32_t)((uint32_t)(C[j] - p->hC.b_zp) << s->hC.ls);
    }
    const int8_t *table = p->exp_table + 128;
    const int32_t a_zp = p->dA.b_zp, e_zp = p->dAh.a_zp, h_zp = p->dAh.b_zp, hc_zp = p->hC.a_zp;
    const int32_t ma = s->dA.mult, ba = s->dA.bias, ra = s->dA.rs;
    const int32_t mh = s->dAh.mult, bh = s->dAh.bias, rh = s->dAh.rs, lh = s->dAh.ls;
    const int32_t mb = s->dBx.mult, bb = s->dBx.bias, rb = s->dBx.rs;
    const int32_t mc = s->hC.mult, bcs = s->hC.bias, rc = s->hC.rs;
    const int32_t sum_zp = n * p->sum_in_zp;
    const exfq_add_t add = s->h;
    for (int32_t i = 0; i < e; i++) {
        const int32_t xe = x[i], dte = dt[i];
        const int32_t dtx8 = SAT_S8(mul_hi(&r->dtx, dte - p->dtx.a_zp, xe - p->dtx.b_zp));
        const int32_t dtu = (int32_t)((uint32_t)(dte - p->dA.a_zp) << s->dA.ls);
        const int32_t dtx = (int32_t)((uint32_t)(dtx8 - p->dBx.a_zp) << s->dBx.ls);
        const int8_t *a = p->A + i * n;
        const int16_t *hr = h + i * n;
        int16_t *hw = h_next + i * n;
        int32_t acc = 0; /* n <= 32 terms of |.| <= 128 */
        for (int32_t j = 0; j < n; j++) {
            const int32_t dA = table[SAT_S8(smmla(dtu * (a[j] - a_zp), ma, ba) >> ra)];
            const int32_t t1 = SAT_S16(smmla((int32_t)((uint32_t)((dA - e_zp) * (hr[j] - h_zp)) << lh), mh, bh) >> rh);
            const int32_t t2 = SAT_S16(smmla(dtx * bc[j], mb, bb) >> rb);
            const int32_t hn = SAT_S16(add_path(&add, t1, t2, path));
            hw[j] = (int16_t)hn;
            acc += SAT_S8(smmla((hn - hc_zp) * cc[j], mc, bcs) >> rc);
        }
        const int32_t total = SAT_S8(mul_hi(&r->sum, acc - sum_zp, 1));
        const int32_t dx = SAT_S8(mul_hi(&r->Dx, xe - p->Dx.a_zp, p->D[i] - p->Dx.b_zp));
        const int32_t v = add_fast(&r->y, total, dx);
        if (y_bytes == 1) {
            ((int8_t *)y)[i] = (int8_t)SAT_S8(v);
        } else {
            ((int16_t *)y)[i] = (int16_t)SAT_S16(v);
        }
    }
}

void exf_selective_scan_q(const exf_scan_q_params_t *p, const int8_t *x, const int8_t *dt, const int8_t *B,
                          const int8_t *C, const int16_t *h, int16_t *h_next, void *y) {
    // x, dt (e,), B, C (n,) int8, h (e, n) int16 -> h_next (e, n) int16, y (e,) int8 or int16
    scan_terms s;
    s.dA = prepare(&p->dA, 1, 1);
    s.dAh = prepare(&p->dAh, 1, 2);
    s.dBx = prepare(&p->dBx, 1, 1);
    s.hC = prepare(&p->hC, 2, 1);
    s.h = exfq_add_prepare(2, 2, &p->h);
    row_terms r;
    r.dtx = prepare(&p->dtx, 1, 1);
    r.Dx = prepare(&p->Dx, 1, 1);
    r.sum = exfq_mul_prepare(2, 1, 0, 0, p->sum_mult, p->sum_shift, p->sum_out_zp);
    r.y = exfq_add_prepare(1, 1, &p->y);
    const int hi = s.dA.path == EXFQ_MUL_HI && s.dAh.path == EXFQ_MUL_HI && s.dBx.path == EXFQ_MUL_HI &&
                   s.hC.path == EXFQ_MUL_HI && r.dtx.path == EXFQ_MUL_HI && r.Dx.path == EXFQ_MUL_HI &&
                   r.sum.path == EXFQ_MUL_HI && r.y.path != EXFQ_ADD_WIDE && p->n <= MAX_FAST_N;
    if (hi && s.h.path == EXFQ_ADD_HI) {
        scan_fast(p, &s, &r, x, dt, B, C, h, h_next, y, EXFQ_ADD_HI);
    } else if (hi && s.h.path == EXFQ_ADD_LO) {
        scan_fast(p, &s, &r, x, dt, B, C, h, h_next, y, EXFQ_ADD_LO);
    } else {
        scan_any(p, &s, x, dt, B, C, h, h_next, y);
    }
}
