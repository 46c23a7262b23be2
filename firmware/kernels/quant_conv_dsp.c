/* Fast int8 convolution for cores with the DSP extension (exf_simd.h): bit-exact with exf_conv2d_s8,
 * for every geometry it takes (groups, depthwise, stride, padding, dilation; conv1d as h = kh = 1).
 *
 * Per channel group, the output positions are taken in blocks of at most EXF_CONV_BLOCK: each
 * position's patch (im2col, K = c/groups kh kw taps) is written as a row of a pair-row matrix
 * (quant_pairs.h) with x - in_zp, a tap in the padding as 0 (the real zero: exf_conv2d_s8 skips it).
 * Where a patch lies inside the image and its rows are whole groups of four contiguous bytes
 * (kw % 4 == 0, dw == 1: a patch embedding with p % 4 == 0), it is widened with SXTAB16 four taps at a
 * time; otherwise tap by tap. Then the group's weight rows, widened two at a time (about
 * 1/(4 EXF_CONV_BLOCK) of the MAC instructions; widening a whole group once would need og K int16 of
 * scratch), go against the block: exfp_dot_pairs (2 x 2 blocks: LDRD, SMLAD), a lone last row (og
 * odd) exfp_dot_row. The sums plus the bias are exf_conv2d_s8's integers, requantized per output
 * channel with its rounding (quant_pairs.h requant_t: SMMLA for shift in [33, 53]). Each patch serves
 * the og channels of its group, so a depthwise conv (og = 1) is slower than exf_conv2d_s8 and
 * passes/select_kernels.py leaves og < 4 on it.
 *
 * scratch: 8 g (EXF_CONV_BLOCK + 3) + 8 EXF_CONV_BLOCK bytes, g = ceil(K / 4): a weight row pair, the
 * block of patches, one patch gathered as int16, the sums of a row pair (kernel_choice.conv_scratch).
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

/* Channel oc + r's outputs at positions [pos, pos + np) from the sums of exfp_dot_pairs, acc[4 q + 2 s + r]
 * for position pos + 2 q + s. hi: rq.hi, a constant where inlined. */
static ALWAYS_INLINE void store_row(const int32_t *acc, int32_t b, const requant_t rq, int32_t np, int8_t *y,
                                    const int hi) {
    int32_t i = 0;
    for (; i + 2 <= np; i += 2, acc += 4) {
        y[i] = (int8_t)requant(acc[0] + b, rq, hi);
        y[i + 1] = (int8_t)requant(acc[2] + b, rq, hi);
    }
    if (i < np) y[i] = (int8_t)requant(acc[0] + b, rq, hi);
}

static void store_block(const exf_conv2d_q_params_t *p, const int32_t *acc, int32_t oc, int32_t two, int32_t np,
                        int8_t *y) {
    const int32_t positions = p->oh * p->ow;
    for (int32_t r = 0; r < 1 + two; r++, y += positions) {
        const int32_t b = p->bias ? p->bias[oc + r] : 0;
        const requant_t rq = requant_of(p->mult[oc + r], p->shift[oc + r], p->out_zp);
        if (rq.hi) {
            store_row(acc + r, b, rq, np, y, 1);
        } else {
            store_row(acc + r, b, rq, np, y, 0);
        }
    }
}

void exf_conv2d_s8_dsp(const exf_conv2d_q_params_t *p, const int8_t *x, int8_t *y, void *scratch) {
    const int32_t c = p->c, o = p->o, groups = p->groups, cg = c / groups, og = o / groups;
    const int32_t K = cg * p->kh * p->kw, gk = (K + 3) >> 2, ow = p->ow, positions = p->oh * ow;
    // x (n, c, h, wd) conv W (o, c/groups, kh, kw) + bias (o,) -> y (n, o, oh, ow), per-channel requantize
#if EXF_MVE /* Helium: VMLADAVA on int8 patches and weights, in the same scratch (quant_conv_mve.c) */
    exfq_conv2d_s8_mve(p, x, y, scratch);
    return;
#endif
    uint32_t *ww = (uint32_t *)scratch;                  /* a pair of weight rows */
    uint32_t *pw = ww + 4 * gk;                           /* BLOCK patches: BLOCK / 2 row pairs */
    int16_t *tmp = (int16_t *)(pw + 4 * gk * (BLOCK / 2)); /* one patch, 4 gk int16 */
    int32_t *acc = (int32_t *)(tmp + 4 * gk);            /* 2 BLOCK sums */
    /* the positions in blocks of at most BLOCK, as even as they come (49 = 26 + 23, not 32 + 17) */
    const int32_t blocks = (positions + BLOCK - 1) / BLOCK, step = ((positions + blocks - 1) / blocks + 1) & ~1;
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
                int8_t *yb = y + bi * o * positions;
                for (int32_t j = 0; j < og; j += 2) {
                    const int32_t two = j + 1 < og;
                    const int8_t *wj = p->w + (gi * og + j) * K;
                    exfp_widen_row(wj, K, 0, ww);
                    if (two) {
                        exfp_widen_row(wj + K, K, 0, ww + 2);
                        exfp_dot_pairs(ww, pw, gk, (np + 1) >> 1, acc);
                    } else {
                        exfp_dot_row(ww, pw, gk, (np + 1) >> 1, acc);
                    }
                    store_block(p, acc, gi * og + j, two, np, yb + (gi * og + j) * positions + pos);
                }
            }
        }
    }
}
