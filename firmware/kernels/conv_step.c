/* Mamba's causal depthwise conv on its conv state, one step, float32 and integer (edgexf/ir/ops_conv_step.py;
 * edgexf_kernels.h states the arithmetic). One pass over the channels: a channel's window is its K-1 state
 * values and x, read once; the next state is the window's last K-1, written after they are read, so it may
 * lie over the state. The chain this replaces (concat, mul, sum, add, slice) made five passes, two (E, K)
 * intermediates, and in integers three roundings: about 250 instructions a channel at K = 4, here about
 * 45 (an int8 FSDD layer: 15.7k -> 2.9k). */
#include "edgexf_kernels.h"
#include "quant_pairs.h"

void exf_conv_step_f32(const exf_conv_step_f32_params_t *p, const float *x, const float *state,
                       float *state_next, float *y) {
    // x (e,), state (e, k-1) -> state_next (e, k-1), y (e,)
    const int32_t e = p->e, k1 = p->k - 1;
    for (int32_t i = 0; i < e; i++) {
        const float *s = state + i * k1, *w = p->W + i * p->k;
        float *sn = state_next + i * k1;
        const float xi = x[i];
        float acc = 0.0f; /* the chain's sum: from 0.0, in index order, each product rounded first */
        for (int32_t j = 0; j < k1; j++) acc = acc + s[j] * w[j];
        acc = acc + xi * w[k1];
        for (int32_t j = 0; j + 1 < k1; j++) sn[j] = s[j + 1]; /* s[j + 1] read before sn[j + 1] is written */
        sn[k1 - 1] = xi;
        y[i] = acc + p->bias[i];
    }
}

/* hi, k: constants where inlined (requant_of's SMMLA path when the shift allows it, exact either way; k = 4,
 * mamba's default d_conv, unrolled: about 45 instructions a channel against 70 with k a variable) */
static ALWAYS_INLINE void conv_q(const exf_conv_step_q_params_t *p, const int16_t *x, const int16_t *state,
                                 int16_t *state_next, int8_t *y, const requant_t r, const int hi,
                                 const int32_t k) {
    const int32_t e = p->e, k1 = k - 1, zp = p->w_zp;
    const int8_t *w = p->W;
    for (int32_t i = 0; i < e; i++, w += k) {
        const int16_t *s = state + i * k1;
        int16_t *sn = state_next + i * k1;
        const int32_t xi = x[i];
        /* |acc| <= k 2^15 2^8 + |bias| < 2^31: the pass checks it */
        int32_t acc = p->bias[i] + xi * (w[k1] - zp);
        for (int32_t j = 0; j < k1; j++) acc += s[j] * (w[j] - zp);
        for (int32_t j = 0; j + 1 < k1; j++) sn[j] = s[j + 1]; /* s[j + 1] read before sn[j + 1] is written */
        sn[k1 - 1] = (int16_t)xi;
        y[i] = (int8_t)requant(acc, r, hi);
    }
}

void exf_conv_step_q(const exf_conv_step_q_params_t *p, const int16_t *x, const int16_t *state,
                     int16_t *state_next, int8_t *y) {
    // x (e,), state (e, k-1) int16 -> state_next (e, k-1) int16, y (e,) int8
    const requant_t r = requant_of(p->mult, p->shift, p->out_zp);
    if (r.hi && p->k == 4) {
        conv_q(p, x, state, state_next, y, r, 1, 4);
    } else if (r.hi) {
        conv_q(p, x, state, state_next, y, r, 1, p->k);
    } else {
        conv_q(p, x, state, state_next, y, r, 0, p->k);
    }
}
