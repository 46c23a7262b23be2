/* Fast int8 convolution for cores with the DSP extension (exf_simd.h): bit-exact with exf_conv2d_s8,
 * for every geometry it takes (groups, depthwise, stride, padding, dilation; conv1d as h = kh = 1).
 *
 * im2col (every conv but the direct path's): per channel group, the output positions are taken in
 * blocks (2 EXF_CONV_BLOCK for patches of at most EXF_CONV_SMALL_GROUPS groups of 4 taps, else
 * EXF_CONV_BLOCK): each position's patch (K = c/groups kh kw taps) is written as a row of a pair-row
 * matrix (quant_pairs.h) with x - in_zp, a tap in the padding as 0 (the real zero: exf_conv2d_s8 skips
 * it). Where a patch lies inside the image and its rows are whole groups of four contiguous bytes
 * (kw % 4 == 0, dw == 1: a patch embedding with p % 4 == 0), it is widened with SXTAB16 four taps at a
 * time; otherwise tap by tap. Then the group's weight rows, widened two at a time (widening a whole
 * group once would need og K int16 of scratch), go against the block in 2 x 2 blocks (LDRD, SMLAD),
 * each sum started at its channel's bias; on requant_t's SMMLA path (shift in [33, 53], the example
 * models') the four sums are requantized and stored as soon as they are made (pairs_hi), otherwise
 * they go through memory to exf_conv2d_s8's rounding (pairs_any). The MNIST ViT's patch conv (49
 * positions, K = 16, 64 channels): 99,320 -> 87,240 instructions, of which the 2 x 2 blocks with their
 * requantization take about 74,000 (23.6 per output: 8 SMLAD, 4 LDRD, 4 for the requantization, the
 * rest loop and spilled terms), the patches 9,400 and the weight widening 3,700.
 *
 * Direct path (one input channel per group, fewer than EXF_CONV_DIRECT_OG outputs per group: depthwise
 * and channel multipliers 2-3, where im2col would widen each patch for one or two rows): the input
 * channel is copied once into a plane padded with in_zp (x - in_zp = 0 there), each output channel's
 * kernel rows widened into {w0 w2} {w1 w3} words, and each output is bias - in_zp sum(w) + sum x w,
 * four taps of a kernel row per 4-byte load (SXTB16 twice, SMLAD twice); a 3 x 3 kernel keeps its six
 * weight words in registers. About 5x fewer instructions than exf_conv2d_s8 on a 3 x 3 depthwise conv
 * (tests/firmware/mm_speed.c), where im2col was 1.7x slower than it.
 *
 * scratch (edgexf_kernels.h, kernel_choice.conv_scratch): im2col 8 g (B + 3) + 8 B bytes, g = ceil(K / 4),
 * B the block: a weight row pair, the block of patches, one patch gathered as int16, the sums of a row
 * pair (pairs_any); direct path the padded plane plus 4 bytes, and the widened kernel.
 */
#include "edgexf_kernels.h"
#include "quant_pairs.h"

#define BLOCK EXF_CONV_BLOCK

/* The patch of output position (oy, ox) of the group's channels xg: K taps, channel by channel, row
 * by row, as a row of a pair-row matrix at dst. */
static void patch_row(const exf_conv2d_q_params_t *p, const int8_t *xg, int32_t oy, int32_t ox, int16_t *tmp,
                      uint32_t *dst) {
    const int32_t h = p->h, wd = p->wd, kh = p->kh, kw = p->kw, dh = p->dh, dw = p->dw, zp = p->in_zp;
    const int32_t cg = p->c / p->groups, iy0 = oy * p->sh - p->pt, ix0 = ox * p->sw - p->pl;
    const int inside = iy0 >= 0 && iy0 + (kh - 1) * dh < h && ix0 >= 0 && ix0 + (kw - 1) * dw < wd;
    if (inside && dw == 1 && (kw & 3) == 0) { /* whole groups of contiguous bytes */
        const uint32_t negzp2 = pack2(-zp, -zp);
        for (int32_t ic = 0; ic < cg; ic++) {
            for (int32_t ky = 0; ky < kh; ky++) {
                const int8_t *row = xg + (ic * h + iy0 + ky * dh) * wd + ix0;
                for (int32_t kx = 0; kx < kw; kx += 4, dst += 4) {
                    const uint32_t v = exf_load4(row + kx);
                    dst[0] = sxtab16(negzp2, v);
                    dst[1] = sxtab16_ror8(negzp2, v);
                }
            }
        }
        return;
    }
    int16_t *t = tmp;
    for (int32_t ic = 0; ic < cg; ic++) {
        for (int32_t ky = 0; ky < kh; ky++) {
            const int32_t iy = iy0 + ky * dh;
            const int8_t *row = xg + (ic * h + iy) * wd;
            for (int32_t kx = 0; kx < kw; kx++) {
                const int32_t ix = ix0 + kx * dw;
                *t++ = (int16_t)(iy < 0 || iy >= h || ix < 0 || ix >= wd ? 0 : row[ix] - zp);
            }
        }
    }
    exfp_pack_row_s16(tmp, cg * kh * kw, dst);
}

/* One group of four taps of a 2 x 2 block: the weight row pair a by the patch row pair b, both
 * advancing by a group; c[r][s] = channel r at patch s. 4 LDRD and 8 SMLAD for 16 MACs. */
static ALWAYS_INLINE void group2x2(const uint32_t **a, const uint32_t **b, int32_t *c00, int32_t *c01, int32_t *c10,
                                   int32_t *c11) {
    uint32_t x0, x1, y0, y1, u0, u1;
    exf_load_pair(a, &x0, &x1); /* weight row 0 */
    exf_load_pair(a, &y0, &y1); /* weight row 1 */
    exf_load_pair(b, &u0, &u1); /* patch 0 */
    *c00 = exf_smlad(x1, u1, exf_smlad(x0, u0, *c00));
    *c10 = exf_smlad(y1, u1, exf_smlad(y0, u0, *c10));
    exf_load_pair(b, &u0, &u1); /* patch 1 */
    *c01 = exf_smlad(x1, u1, exf_smlad(x0, u0, *c01));
    *c11 = exf_smlad(y1, u1, exf_smlad(y0, u0, *c11));
}

/* A channel pair's terms, read through one pointer so that the block loop keeps few values live:
 * the biases, then per channel requant_t's SMMLA-path multiplier, bias and shift - 32. */
typedef struct {
    int32_t b0, b1, m0, rb0, m1, rb1, sh0, sh1;
} pair_terms_t;

/* The weight row pair ww (gk groups) against `pairs` patch row pairs at pw, each sum started at its
 * channel's bias and requantized (SMMLA path) as soon as it is made: channel 0's outputs at y[0], y[1],
 * channel 1's at y[stride], y[stride + 1], y advancing by 2 per pair. last: only the first patch of
 * the pair is stored (an odd block's zero row). odd (gk odd), last: constants where inlined. */
static ALWAYS_INLINE const uint32_t *pairs_body(const uint32_t *ww, const uint32_t *pw, int32_t gk, int32_t pairs,
                                                const pair_terms_t *t, int8_t *y, int32_t stride, const int odd,
                                                const int last) {
    /* the terms as locals: the int8 stores may alias anything, so gcc would reload t's fields after each */
    const int32_t b0 = t->b0, b1 = t->b1, m0 = t->m0, rb0 = t->rb0, m1 = t->m1, rb1 = t->rb1;
    const int32_t sh0 = t->sh0, sh1 = t->sh1;
    const uint32_t *const a_end = ww + 4 * gk;
    int8_t *const y_end = y + 2 * pairs;
    for (; y != y_end; y += 2) {
        const uint32_t *pa = ww;
        int32_t c00 = b0, c01 = b0, c10 = b1, c11 = b1;
        if (odd) group2x2(&pa, &pw, &c00, &c01, &c10, &c11);
        while (pa != a_end) {
            group2x2(&pa, &pw, &c00, &c01, &c10, &c11);
            group2x2(&pa, &pw, &c00, &c01, &c10, &c11);
        }
        const int32_t v00 = exf_ssat8(smmla(c00, m0, rb0) >> sh0), v10 = exf_ssat8(smmla(c10, m1, rb1) >> sh1);
        y[0] = (int8_t)v00;
        y[stride] = (int8_t)v10;
        if (!last) {
            const int32_t v01 = exf_ssat8(smmla(c01, m0, rb0) >> sh0), v11 = exf_ssat8(smmla(c11, m1, rb1) >> sh1);
            y[1] = (int8_t)v01;
            y[stride + 1] = (int8_t)v11;
        }
    }
    return pw;
}

static __attribute__((noinline)) void pairs_hi(const uint32_t *ww, const uint32_t *pw, int32_t gk, int32_t np,
                                               const pair_terms_t *t, int8_t *y, int32_t stride) {
    if (gk & 1) {
        pw = pairs_body(ww, pw, gk, np >> 1, t, y, stride, 1, 0);
        pairs_body(ww, pw, gk, np & 1, t, y + (np & ~1), stride, 1, 1);
    } else {
        pw = pairs_body(ww, pw, gk, np >> 1, t, y, stride, 0, 0);
        pairs_body(ww, pw, gk, np & 1, t, y + (np & ~1), stride, 0, 1);
    }
}

/* Any requantization: the sums through acc (2 np int32: channel r's at acc[2 i + r]... as
 * pairs_body's), then requant() per output. For shifts outside [33, 53] (not the example models'). */
static __attribute__((noinline)) void pairs_any(const exf_conv2d_q_params_t *p, const uint32_t *ww,
                                                const uint32_t *pw, int32_t gk, int32_t np, int32_t oc, int32_t two,
                                                int8_t *y, int32_t *acc) {
    const uint32_t *const a_end = ww + 4 * gk;
    const int32_t b0 = p->bias ? p->bias[oc] : 0, b1 = p->bias && two ? p->bias[oc + 1] : 0;
    for (int32_t i = 0; i < np; i += 2, acc += 4) {
        const uint32_t *pa = ww;
        int32_t c00 = b0, c01 = b0, c10 = b1, c11 = b1;
        while (pa != a_end) group2x2(&pa, &pw, &c00, &c01, &c10, &c11);
        acc[0] = c00, acc[1] = c01, acc[2] = c10, acc[3] = c11;
    }
    acc -= 2 * (np + (np & 1));
    const int32_t positions = p->oh * p->ow;
    for (int32_t r = 0; r <= two; r++, y += positions) {
        const requant_t rq = requant_of(p->mult[oc + r], p->shift[oc + r], p->out_zp);
        const int32_t *a = acc + 2 * r; /* position i's sum at a[2 i - (i & 1)] */
        if (rq.hi) {
            for (int32_t i = 0; i < np; i++) y[i] = (int8_t)requant(a[2 * i - (i & 1)], rq, 1);
        } else {
            for (int32_t i = 0; i < np; i++) y[i] = (int8_t)requant(a[2 * i - (i & 1)], rq, 0);
        }
    }
}

/* ---- the direct path: one input channel per group and fewer than EXF_CONV_DIRECT_OG outputs per
 * group (depthwise, channel multiplier 1-3), where im2col would widen each patch for one or two rows */

/* The group's input channel xc as the plane of rows the outputs read (hp x wp, the padding written as
 * in_zp: x - in_zp = 0 there, the real zero that exf_conv2d_s8 skips), then 4 zero bytes for the last
 * 4-byte load of a row. */
static void fill_plane(const exf_conv2d_q_params_t *p, const int8_t *xc, int8_t *plane, int32_t hp, int32_t wp) {
    const int32_t h = p->h, wd = p->wd, pl = p->pl;
    const int32_t c0 = pl < wp ? pl : wp, c1 = pl + wd < wp ? pl + wd : wp; /* the columns [c0, c1) from x */
    for (int32_t r = 0; r < hp; r++, plane += wp) {
        const int32_t iy = r - p->pt;
        if (iy < 0 || iy >= h) {
            memset(plane, (uint8_t)p->in_zp, (size_t)wp);
            continue;
        }
        memset(plane, (uint8_t)p->in_zp, (size_t)c0);
        if (c1 > c0) memcpy(plane + c0, xc + iy * wd + (c0 - pl), (size_t)(c1 - c0)); /* c1 >= c0 */
        memset(plane + c1, (uint8_t)p->in_zp, (size_t)(wp - c1));
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
 * k3 (a constant where inlined): kh == 3, kw <= 4, dw == 1, the six weight words in registers, about
 * 24 instructions per output of a 3 x 3 kernel with its requantization (exf_conv2d_s8: about 230).
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
        for (int32_t ox = 0; ox < ow; ox++, r += sw) {
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

/* Not inlined into conv_direct: each form keeps its own values in registers (the k3 weights). */
static __attribute__((noinline)) void direct_channel(const exf_conv2d_q_params_t *p, const int8_t *plane,
                                                     int32_t wp, const uint32_t *wq, const int8_t *w, int32_t acc0,
                                                     const requant_t *rq, int8_t *y, int32_t k3) {
    if (k3 && rq->hi) {
        direct_body(p, plane, wp, wq, w, acc0, *rq, y, 1, 1);
    } else if (rq->hi) {
        direct_body(p, plane, wp, wq, w, acc0, *rq, y, 1, 0);
    } else {
        direct_body(p, plane, wp, wq, w, acc0, *rq, y, 0, 0);
    }
}

static void conv_direct(const exf_conv2d_q_params_t *p, const int8_t *x, int8_t *y, void *scratch) {
    const int32_t c = p->c, o = p->o, og = o / p->groups, positions = p->oh * p->ow;
    const int32_t hp = (p->oh - 1) * p->sh + (p->kh - 1) * p->dh + 1;
    const int32_t wp = (p->ow - 1) * p->sw + (p->kw - 1) * p->dw + 1;
    int8_t *plane = (int8_t *)scratch;
    uint32_t *wq = (uint32_t *)scratch + ((hp * wp + 4 + 3) >> 2);
    const int k3 = p->kh == 3 && p->kw <= 4 && p->dw == 1;
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

void exf_conv2d_s8_dsp(const exf_conv2d_q_params_t *p, const int8_t *x, int8_t *y, void *scratch) {
    const int32_t c = p->c, o = p->o, groups = p->groups, cg = c / groups, og = o / groups;
    const int32_t K = cg * p->kh * p->kw, gk = (K + 3) >> 2, ow = p->ow, positions = p->oh * ow;
    // x (n, c, h, wd) conv W (o, c/groups, kh, kw) + bias (o,) -> y (n, o, oh, ow), per-channel requantize
    if (cg == 1 && og < EXF_CONV_DIRECT_OG) {
        conv_direct(p, x, y, scratch);
        return;
    }
    uint32_t *ww = (uint32_t *)scratch;                  /* a pair of weight rows */
    uint32_t *pw = ww + 4 * gk;                           /* BLOCK patches: BLOCK / 2 row pairs */
    const int32_t block = gk <= EXF_CONV_SMALL_GROUPS ? 2 * BLOCK : BLOCK;
    int16_t *tmp = (int16_t *)(pw + 4 * gk * (block / 2)); /* one patch, 4 gk int16 */
    int32_t *acc = (int32_t *)(tmp + 4 * gk);            /* 2 BLOCK sums */
    /* the positions in blocks of at most BLOCK, as even as they come (49 = 26 + 23, not 32 + 17) */
    const int32_t blocks = (positions + block - 1) / block, step = ((positions + blocks - 1) / blocks + 1) & ~1;
    for (int32_t bi = 0; bi < p->n; bi++) {
        for (int32_t gi = 0; gi < groups; gi++) {
            const int8_t *xg = x + (bi * c + gi * cg) * p->h * p->wd;
            for (int32_t pos = 0; pos < positions; pos += step) {
                const int32_t np = positions - pos < step ? positions - pos : step;
                for (int32_t i = 0; i < np; i++) {
                    const int32_t q = pos + i;
                    patch_row(p, xg, q / ow, q % ow, tmp, pw + 4 * gk * (i >> 1) + 2 * (i & 1));
                }
                if (np & 1) exfp_zero_row(gk, pw + 4 * gk * (np >> 1) + 2);
                for (int32_t j = 0; j < og; j += 2) {
                    const int32_t two = j + 1 < og, oc = gi * og + j, oc1 = oc + two;
                    const int8_t *wj = p->w + oc * K;
                    int8_t *yc = y + (bi * o + oc) * positions + pos;
                    exfp_widen_row(wj, K, 0, ww);
                    if (two) {
                        exfp_widen_row(wj + K, K, 0, ww + 2);
                    } else {
                        exfp_zero_row(gk, ww + 2);
                    }
                    const requant_t r0 = requant_of(p->mult[oc], p->shift[oc], p->out_zp);
                    const requant_t r1 = requant_of(p->mult[oc1], p->shift[oc1], p->out_zp);
                    if (two && r0.hi && r1.hi) {
                        const pair_terms_t t = {p->bias ? p->bias[oc] : 0, p->bias ? p->bias[oc1] : 0, r0.mult,
                                                r0.bias, r1.mult, r1.bias, r0.shift - 32, r1.shift - 32};
                        pairs_hi(ww, pw, gk, np, &t, yc, positions);
                    } else {
                        pairs_any(p, ww, pw, gk, np, oc, two, yc, acc);
                    }
                }
            }
        }
    }
}
