/* Mamba's output gate in integers, y = a * table[requant(z)] (edgexf/ir/ops_gate.py: q_gate; edgexf_kernels.h
 * states the arithmetic): the chain's q_requant, q_lut and q_mul, bit for bit, in one pass. Each step takes
 * its SMMLA form where the terms allow it (quant_pairs.h's requant, quant_mul.h's hi path: exact) and int64
 * otherwise; about 16 instructions an element where the chain took 59 (37 of them the int16 requant). The
 * slow loop is the chain's formulas as they are (requant takes its own SMMLA form where it can). */
#include "edgexf_kernels.h"
#include "quant_common.h"
#include "quant_mul.h"
#include "quant_pairs.h"

/* ab (a's element size) and fast (both steps on their SMMLA forms, z's zero point 0 as int16 tensors have
 * it, the multiply without a left shift: the example models' case) are constants where inlined */
static ALWAYS_INLINE void gate(const exf_gate_q_params_t *p, const void *a, const int16_t *z, int8_t *y,
                               const requant_t r, const exfq_mul_t *m, const int ab, const int fast) {
    const int8_t *table = p->table + 128;
    const int32_t a_zp = m->a_zp, s_zp = m->b_zp, n = p->n;
    if (fast) {
        const int32_t zm = r.mult, zb = r.bias, zs = r.shift - 32, mult = m->mult, bias = m->bias, rs = m->rs;
        for (int32_t i = 0; i < n; i++) {
            const int32_t s = table[exf_ssat8(smmla(z[i], zm, zb) >> zs)];
            const int32_t u = (ab == 1 ? ((const int8_t *)a)[i] : ((const int16_t *)a)[i]) - a_zp;
            y[i] = (int8_t)exf_ssat8(smmla(u * (s - s_zp), mult, bias) >> rs);
        }
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        const int32_t s = table[requant(z[i] - p->z_in_zp, r, r.hi)];
        const int64_t u = (ab == 1 ? ((const int8_t *)a)[i] : ((const int16_t *)a)[i]) - a_zp;
        y[i] = exfq_clamp_s8(exfq_requantize(u * (s - s_zp), m->mult, m->shift) + m->out_zp);
    }
}

void exf_gate_q(const exf_gate_q_params_t *p, const void *a, const int16_t *z, int8_t *y) {
    // a (n,) int8 or int16, z (n,) int16 -> y (n,) int8
    const requant_t r = requant_of(p->z_mult, p->z_shift, p->z_out_zp);
    const exf_mul_terms_t *t = &p->mul;
    const exfq_mul_t m = exfq_mul_prepare(p->a_bytes, 1, t->a_zp, t->b_zp, t->mult, t->shift, t->out_zp);
    const int fast = r.hi && p->z_in_zp == 0 && m.path == EXFQ_MUL_HI && m.ls == 0;
    if (p->a_bytes == 1) {
        fast ? gate(p, a, z, y, r, &m, 1, 1) : gate(p, a, z, y, r, &m, 1, 0);
    } else {
        fast ? gate(p, a, z, y, r, &m, 2, 1) : gate(p, a, z, y, r, &m, 2, 0);
    }
}
