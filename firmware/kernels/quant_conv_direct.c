/* exf_conv2d_s8_dsp's direct path (quant_conv_dsp.c calls it): bit-exact with exf_conv2d_s8.
 *
 * One input channel per group and fewer than EXF_CONV_DIRECT_OG outputs per group (depthwise and
 * channel multipliers 2-3, where im2col would widen each patch for one or two rows): the input
 * channel is copied once into a plane padded with in_zp (x - in_zp = 0 there), each output channel's
 * kernel rows widened into {w0 w2} {w1 w3} words, and each output is bias - in_zp sum(w) + sum x w,
 * four taps of a kernel row per 4-byte load (SXTB16 twice, SMLAD twice); a 3 x 3 kernel reads its six
 * weight words once per channel, and at stride 1 a 3-tap row serves two outputs per load (row_pair). On
 * 3 x 3 depthwise convs (QEMU, stm32f746): 12 x 12 x 8, pad 1 263,640 -> 42,240 instructions against
 * exf_conv2d_s8 (6.2x; im2col took 444,560, 1.7x slower than it), 16 x 16 x 32 6.9x, the same at
 * stride 2 4.2x. About 34 instructions per output where the taps and the requantization need about 16
 * (row_pair's 7 per row and output pair, 4 to requantize): gcc 12 keeps some of the 13 live values
 * (weights, terms, pointers) on the stack; assembly as in quant_conv_dsp.c would be the next step.
 *
 * scratch: align4(hp wp + 4) + 8 kh ceil(kw / 4) bytes (edgexf_kernels.h, kernel_choice.conv_scratch).
 */
#include "quant_conv.h"
#include "quant_pairs.h"

/* acc + bottom(a) bottom(b) (SMLABB) and acc + top(a) bottom(b) (SMLATB), halfwords signed */
#if EXF_SIMD_NATIVE
static inline int32_t smlabb(uint32_t a, uint32_t b, int32_t acc) {
    int32_t out;
    __asm__("smlabb %0, %1, %2, %3" : "=r"(out) : "r"(a), "r"(b), "r"(acc));
    return out;
}
static inline int32_t smlatb(uint32_t a, uint32_t b, int32_t acc) {
    int32_t out;
    __asm__("smlatb %0, %1, %2, %3" : "=r"(out) : "r"(a), "r"(b), "r"(acc));
    return out;
}
#else
static inline int32_t smlabb(uint32_t a, uint32_t b, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)((int16_t)a * (int16_t)b));
}
static inline int32_t smlatb(uint32_t a, uint32_t b, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)((int16_t)(a >> 16) * (int16_t)b));
}
#endif

/* Two neighbouring outputs (stride 1) of one kernel row of at most 3 taps from the 4 bytes x0..x3 at r:
 * with e02 = {x0 x2}, e13 = {x1 x3}, qe = {w0 w2}, qo = {w1 0}: out0 += e02.qe + x1 w1, out1 += e13.qe
 * + x2 w1. 7 instructions for 6 MACs (one output at a time: 10). */
static ALWAYS_INLINE void row_pair(const int8_t *r, uint32_t qe, uint32_t qo, int32_t *a0, int32_t *a1) {
    const uint32_t v = exf_load4(r), e02 = exf_sxtb16(v), e13 = exf_sxtb16_ror8(v);
    *a0 = smlabb(e13, qo, exf_smlad(e02, qe, *a0));
    *a1 = smlatb(e02, qo, exf_smlad(e13, qe, *a1));
}

/* The group's input channel xc as the plane of rows the outputs read (hp x wp, the padding written as
 * in_zp: x - in_zp = 0 there, the real zero that exf_conv2d_s8 skips), then 4 zero bytes for the last
 * 4-byte load of a row. */
static void fill_plane(const exf_conv2d_q_params_t *p, const int8_t *xc, int8_t *plane, int32_t hp, int32_t wp) {
    const int32_t h = p->h, wd = p->wd, pl = p->pl;
    const int32_t c0 = pl < wp ? pl : wp, c1 = pl + wd < wp ? pl + wd : wp; /* the columns [c0, c1) from x */
    const uint32_t zp4 = 0x01010101u * (uint8_t)p->in_zp;
    for (int32_t r = 0; r < hp; r++, plane += wp) {
        const int32_t iy = r - p->pt;
        /* in_zp a word at a time over the whole row (newlib-nano's memset and memcpy go byte by byte,
         * 4 instructions a byte), then the image's columns over it */
        int32_t i = 0;
        for (; i + 4 <= wp; i += 4) memcpy(plane + i, &zp4, 4);
        for (; i < wp; i++) plane[i] = (int8_t)p->in_zp;
        if (iy < 0 || iy >= h || c1 <= c0) continue;
        const int8_t *src = xc + iy * wd + (c0 - pl);
        int8_t *dst = plane + c0;
        const int32_t n = c1 - c0;
        for (i = 0; i + 4 <= n; i += 4) {
            uint32_t v;
            memcpy(&v, src + i, 4);
            memcpy(dst + i, &v, 4);
        }
        for (; i < n; i++) dst[i] = src[i];
    }
    memset(plane, 0, 4);
}

/* Channel oc's kernel rows widened into wq as groups of four taps {w0 w2} {w1 w3} (SXTB16's pairing of
 * the image bytes; taps past kw are 0), returning the sum of its weights. */
static int32_t widen_kernel(const int8_t *w, int32_t kh, int32_t kw, uint32_t *wq) {
    int32_t sum = 0;
    for (int32_t ky = 0; ky < kh; ky++, w += kw) {
        for (int32_t kx = 0; kx < kw; kx += 4, wq += 2) {
            int32_t v[4] = {0, 0, 0, 0};
            for (int32_t i = 0; i < 4 && kx + i < kw; i++) sum += v[i] = w[kx + i];
            wq[0] = pack2(v[0], v[2]);
            wq[1] = pack2(v[1], v[3]);
        }
    }
    return sum;
}

/* Channel oc's outputs from the plane: acc = bias - in_zp sum(w) + sum x w over every tap (the padding
 * is in_zp). For dw == 1 four taps of a kernel row per 4-byte load (LDR, SXTB16 twice, SMLAD twice);
 * k3 (a constant where inlined): 1 for kh == 3, kw <= 4, dw == 1, the six weight words held in locals;
 * 2 where also kw <= 3 and stride 1, two outputs at a time (row_pair).
 * Else (dw > 1) tap by tap. hi: requant_t's SMMLA path (a constant where inlined). */
static ALWAYS_INLINE void direct_body(const exf_conv2d_q_params_t *p, const int8_t *plane, int32_t wp,
                                      const uint32_t *wq, const int8_t *w, int32_t acc0, const requant_t rq,
                                      int8_t *y, const int hi, const int k3) {
    /* p's fields as locals: the int8 stores to y may alias them, so gcc would reload them per output */
    const int32_t kh = p->kh, kw = p->kw, gw = (kw + 3) >> 2, dh = p->dh, dw = p->dw, oh = p->oh, ow = p->ow;
    const int32_t sw = p->sw, row_step = p->sh * wp, tap_rows = dh * wp;
    const uint32_t q0 = k3 ? wq[0] : 0, q1 = k3 ? wq[1] : 0, q2 = k3 ? wq[2] : 0, q3 = k3 ? wq[3] : 0;
    const uint32_t q4 = k3 ? wq[4] : 0, q5 = k3 ? wq[5] : 0;
    for (int32_t oy = 0; oy < oh; oy++, plane += row_step) {
        const int8_t *r = plane;
        int32_t ox = 0;
        if (k3 == 2) { /* kw <= 3, stride 1: two outputs at a time */
            for (; ox + 2 <= ow; ox += 2, r += 2, y += 2) {
                int32_t a0 = acc0, a1 = acc0;
                row_pair(r, q0, q1, &a0, &a1);
                row_pair(r + tap_rows, q2, q3, &a0, &a1);
                row_pair(r + 2 * tap_rows, q4, q5, &a0, &a1);
                y[0] = (int8_t)requant(a0, rq, hi);
                y[1] = (int8_t)requant(a1, rq, hi);
            }
        }
        for (; ox < ow; ox++, r += sw) {
            int32_t acc = acc0;
            if (k3) {
                const uint32_t v0 = exf_load4(r), v1 = exf_load4(r + tap_rows), v2 = exf_load4(r + 2 * tap_rows);
                acc = exf_smlad(exf_sxtb16(v0), q0, exf_smlad(exf_sxtb16_ror8(v0), q1, acc));
                acc = exf_smlad(exf_sxtb16(v1), q2, exf_smlad(exf_sxtb16_ror8(v1), q3, acc));
                acc = exf_smlad(exf_sxtb16(v2), q4, exf_smlad(exf_sxtb16_ror8(v2), q5, acc));
            } else if (dw == 1) {
                const uint32_t *q = wq;
                const int8_t *rr = r;
                for (int32_t ky = 0; ky < kh; ky++, rr += tap_rows) {
                    for (int32_t g = 0; g < gw; g++, q += 2) {
                        const uint32_t v = exf_load4(rr + 4 * g);
                        acc = exf_smlad(exf_sxtb16(v), q[0], acc);
                        acc = exf_smlad(exf_sxtb16_ror8(v), q[1], acc);
                    }
                }
            } else {
                const int8_t *rr = r;
                for (int32_t ky = 0; ky < kh; ky++, rr += tap_rows) {
                    for (int32_t kx = 0; kx < kw; kx++) acc += (int32_t)rr[kx * dw] * w[ky * kw + kx];
                }
            }
            *y++ = (int8_t)requant(acc, rq, hi);
        }
    }
}

/* Not inlined into exfp_conv2d_direct: each form keeps its own values in registers (the k3 weights). */
static __attribute__((noinline)) void direct_channel(const exf_conv2d_q_params_t *p, const int8_t *plane,
                                                     int32_t wp, const uint32_t *wq, const int8_t *w, int32_t acc0,
                                                     const requant_t *rq, int8_t *y, int32_t k3) {
    if (k3 == 2 && rq->hi) {
        direct_body(p, plane, wp, wq, w, acc0, *rq, y, 1, 2);
    } else if (k3 && rq->hi) {
        direct_body(p, plane, wp, wq, w, acc0, *rq, y, 1, 1);
    } else if (rq->hi) {
        direct_body(p, plane, wp, wq, w, acc0, *rq, y, 1, 0);
    } else {
        direct_body(p, plane, wp, wq, w, acc0, *rq, y, 0, 0);
    }
}

void exfp_conv2d_direct(const exf_conv2d_q_params_t *p, const int8_t *x, int8_t *y, void *scratch) {
    const int32_t c = p->c, o = p->o, og = o / p->groups, positions = p->oh * p->ow;
    const int32_t hp = (p->oh - 1) * p->sh + (p->kh - 1) * p->dh + 1;
    const int32_t wp = (p->ow - 1) * p->sw + (p->kw - 1) * p->dw + 1;
    int8_t *plane = (int8_t *)scratch;
    uint32_t *wq = (uint32_t *)scratch + ((hp * wp + 4 + 3) >> 2);
    const int k3 = p->kh == 3 && p->kw <= 4 && p->dw == 1 ? (p->kw <= 3 && p->sw == 1 ? 2 : 1) : 0;
    for (int32_t bi = 0; bi < p->n; bi++) {
        for (int32_t oc = 0; oc < o; oc++) {
            if (oc % og == 0) fill_plane(p, x + (bi * c + oc / og) * p->h * p->wd, plane, hp, wp);
            const int8_t *w = p->w + oc * p->kh * p->kw;
            const int32_t sum = widen_kernel(w, p->kh, p->kw, wq);
            const int32_t acc0 = (p->bias ? p->bias[oc] : 0) - p->in_zp * sum;
            const requant_t rq = requant_of(p->mult[oc], p->shift[oc], p->out_zp);
            direct_channel(p, plane, wp, wq, w, acc0, &rq, y + (bi * o + oc) * positions, k3);
        }
    }
}

