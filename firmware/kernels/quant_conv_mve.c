/* Fast int8 convolution for cores with Helium (MVE): bit-exact with exf_conv2d_s8 for every geometry it
 * takes (groups, depthwise, stride, padding, dilation; conv1d as h = kh = 1). exf_conv2d_s8_dsp calls it
 * there (one line, quant_conv_dsp.c), in the same scratch; compiled to nothing elsewhere.
 *
 * Per channel group the output positions go in blocks of at most EXF_CONV_BLOCK (split evenly): each
 * position's patch (im2col, K = c/groups kh kw taps in the weight's order) is written as an int8 row of
 * the block, a tap in the padding as in_zp. With W_o = sum of channel o's K weights,
 *   sum_taps (x - in_zp) w = sum_taps x w - in_zp W_o
 * (a padding tap, x = in_zp, adds 0 either way: exf_conv2d_s8 skips it), so the products run on the int8
 * patches and weights as they are, 16 MACs per VMLADAVA: quant_mve.h's blocks, two channels' weight rows
 * by three patches. bias - in_zp W_o is added as the channel's sums over the block's positions are
 * requantized (per channel, four positions a vector for shift >= 32; y's channel-major layout makes a
 * channel's positions contiguous): in registers where K <= 16 and the shifts are >= 33 (exfm_dot_rq: the
 * MNIST ViT's 4 x 4 patches), else from the sums (exfm_requant_run). All in int32, exf_conv2d_s8's integer modulo 2^32.
 * A patch row of kw contiguous taps inside the image (dw 1) is copied by one predicated VLDRB/VSTRB pair
 * per 16 taps, other taps one by one (about 8 instructions a tap: a 3 x 3 conv with padding spends
 * about as many instructions on its patches as on its products).
 *
 * scratch: EXF_CONV_BLOCK K bytes (the patches), within kernel_choice.conv_scratch's
 * 8 ceil(K / 4) (EXF_CONV_BLOCK + 3) + 8 EXF_CONV_BLOCK for the DSP form. */
#include "edgexf_kernels.h"
#include "quant_mve.h"

#if EXF_MVE

#define BLOCK EXF_CONV_BLOCK
#if BLOCK > EXFM_CHUNK
#error "a block's positions must fit exfm_dot_rows' EXFM_CHUNK sums"
#endif

/* The K taps of output position (oy, ox) over the group's channels xg, in the weight's order, at dst. */
static void patch_row(const exf_conv2d_q_params_t *p, const int8_t *xg, int32_t oy, int32_t ox, int8_t *dst) {
    const int32_t h = p->h, wd = p->wd, kh = p->kh, kw = p->kw, dh = p->dh, dw = p->dw;
    const int8_t zp = (int8_t)p->in_zp;
    const int32_t cg = p->c / p->groups, iy0 = oy * p->sh - p->pt, ix0 = ox * p->sw - p->pl;
    const int whole = dw == 1 && ix0 >= 0 && ix0 + kw <= wd; /* each patch row is kw contiguous bytes */
    const mve_pred16_t live = vctp8q((uint32_t)(kw < 16 ? kw : 16)); /* a row of up to 16: one copy */
    for (int32_t ic = 0; ic < cg; ic++) {
        for (int32_t ky = 0; ky < kh; ky++, dst += kw) {
            const int32_t iy = iy0 + ky * dh;
            if (iy < 0 || iy >= h) {
                for (int32_t kx = 0; kx < kw; kx++) dst[kx] = zp;
                continue;
            }
            const int8_t *row = xg + (ic * h + iy) * wd;
            if (whole && kw <= 16) {
                vstrbq_p_s8(dst, vldrbq_z_s8(row + ix0, live), live);
                continue;
            }
            if (whole) {
                for (int32_t kx = 0; kx < kw; kx += 16) {
                    const mve_pred16_t part = vctp8q((uint32_t)(kw - kx));
                    vstrbq_p_s8(dst + kx, vldrbq_z_s8(row + ix0 + kx, part), part);
                }
                continue;
            }
            for (int32_t kx = 0; kx < kw; kx++) {
                const int32_t ix = ix0 + kx * dw;
                dst[kx] = ix < 0 || ix >= wd ? zp : row[ix];
            }
        }
    }
}

/* bias - in_zp W_oc, channel oc's term, w its K weights; wraps as the portable int32 sum may */
static int32_t bias_term(const exf_conv2d_q_params_t *p, int32_t oc, const int8_t *w, int32_t K) {
    const uint32_t w_sum = (uint32_t)exfm_sum_s8(w, K);
    return (int32_t)((uint32_t)(p->bias ? p->bias[oc] : 0) - (uint32_t)p->in_zp * w_sum);
}

void exfq_conv2d_s8_mve(const exf_conv2d_q_params_t *p, const int8_t *x, int8_t *y, void *scratch) {
    const int32_t c = p->c, o = p->o, groups = p->groups, cg = c / groups, og = o / groups, ow = p->ow;
    const int32_t K = cg * p->kh * p->kw, positions = p->oh * ow, out_zp = p->out_zp;
    // x (n, c, h, wd) conv W (o, c/groups, kh, kw) + bias (o,) -> y (n, o, oh, ow), per-channel requantize
    int8_t *patches = (int8_t *)scratch; /* BLOCK rows of K */
    int32_t sums[2 * EXFM_CHUNK] __attribute__((aligned(8)));
    const int32_t blocks = (positions + BLOCK - 1) / BLOCK, step = (positions + blocks - 1) / blocks;
    for (int32_t bi = 0; bi < p->n; bi++) {
        for (int32_t gi = 0; gi < groups; gi++) {
            const int8_t *xg = x + (bi * c + gi * cg) * p->h * p->wd;
            for (int32_t pos = 0; pos < positions; pos += step) {
                const int32_t np = positions - pos < step ? positions - pos : step;
                for (int32_t i = 0; i < np; i++) patch_row(p, xg, (pos + i) / ow, (pos + i) % ow, patches + i * K);
                for (int32_t j = 0; j < og; j += 2) {
                    const int32_t oc = gi * og + j, two = j + 1 < og;
                    const int8_t *wj = p->w + oc * K;
                    int8_t *yj = y + (bi * o + oc) * positions + pos;
                    if (K <= 16 && p->shift[oc] >= 33 && (!two || p->shift[oc + 1] >= 33)) { /* in registers */
                        exfm_rq_t rq[2];
                        for (int32_t r = 0; r <= two; r++) {
                            rq[r] = (exfm_rq_t){bias_term(p, oc + r, wj + r * K, K), p->mult[oc + r],
                                                p->shift[oc + r], out_zp};
                        }
                        if (two) {
                            exfm_dot_rq(2, wj, patches, NULL, K, np, rq, yj, positions);
                        } else {
                            exfm_dot_rq(1, wj, patches, NULL, K, np, rq, yj, positions);
                        }
                        continue;
                    }
                    if (two) {
                        exfm_dot_rows(2, wj, patches, NULL, K, np, sums);
                    } else {
                        exfm_dot_rows(1, wj, patches, NULL, K, np, sums);
                    }
                    for (int32_t r = 0; r <= two; r++) {
                        exfm_requant_run(sums + r * EXFM_CHUNK, bias_term(p, oc + r, wj + r * K, K), np,
                                         p->mult[oc + r], p->shift[oc + r], out_zp, yj + r * positions);
                    }
                }
            }
        }
    }
}
#endif /* EXF_MVE */
