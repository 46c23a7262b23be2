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
 * they go through memory to exf_conv2d_s8's rounding (pairs_any). pairs_hi's 2 x 2 blocks are assembly
 * (pairs_asm; plain C off the DSP cores): gcc kept a channel pair's eight terms on the stack. The MNIST
 * ViT's patch conv (49 positions, K = 16, 64 channels): 99,320 -> 78,320 instructions, about 80 per
 * 2 x 2 block (4 outputs): 32 SMLAD, 4 LDM and 8 LDRD, 12 to requantize, 24 loop, terms and stores.
 * A floor for this shape: 25,088 SMLAD (2 MACs each) + 3,136 outputs x 4 (SMMLA, ASR, SSAT, STRB) =
 * 37,632 instructions before any load, above the 35,840 quoted for CMSIS-NN (which is 1.4 MACs per
 * cycle on a dual-issue core, not per instruction).
 *
 * Direct path (one input channel and fewer than EXF_CONV_DIRECT_OG outputs per group: depthwise):
 * quant_conv_direct.c.
 *
 * scratch (edgexf_kernels.h, kernel_choice.conv_scratch): im2col 8 g (B + 3) + 8 B bytes, g = ceil(K / 4),
 * B the block: a weight row pair, the block of patches, one patch gathered as int16, the sums of a row
 * pair (pairs_any); direct path the padded plane plus 4 bytes, and the widened kernel.
 */
#include "edgexf_kernels.h"
#include "quant_conv.h"
#include "quant_pairs.h"

#define BLOCK EXF_CONV_BLOCK

/* The patch of output position (oy, ox) of the group's channels xg: K taps, channel by channel, row
 * by row, as a row of a pair-row matrix at dst. */
static __attribute__((noinline)) void patch_row(const exf_conv2d_q_params_t *p, const int8_t *xg, int32_t oy,
                                                int32_t ox, int16_t *tmp, uint32_t *dst) {
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

/* The block's np patches from position pos on, where every patch lies inside the image and its rows
 * are whole groups of four contiguous bytes (patch_row's fast case for all of them, its checks and
 * index arithmetic once per block): about 7 instructions per 4 taps. */
static __attribute__((noinline)) void patch_block_inside(const exf_conv2d_q_params_t *p, const int8_t *xg,
                                                         int32_t pos, int32_t np, uint32_t *pw, int32_t gk) {
    const int32_t wd = p->wd, kh = p->kh, kw4 = p->kw >> 2, ow = p->ow, cg = p->c / p->groups;
    const int32_t row_step = p->dh * wd, ch_step = p->h * wd - kh * row_step;
    const uint32_t negzp2 = pack2(-p->in_zp, -p->in_zp);
    int32_t oy = pos / ow, ox = pos % ow;
    for (int32_t i = 0; i < np; i++) {
        uint32_t *dst = pw + 4 * gk * (i >> 1) + 2 * (i & 1);
        const int8_t *row = xg + oy * p->sh * wd + ox * p->sw;
        for (int32_t ic = 0; ic < cg; ic++, row += ch_step) {
            for (int32_t ky = 0; ky < kh; ky++, row += row_step) {
                const int8_t *b = row;
                for (int32_t g = 0; g < kw4; g++, b += 4, dst += 4) {
                    const uint32_t v = exf_load4(b);
                    dst[0] = sxtab16(negzp2, v);
                    dst[1] = sxtab16_ror8(negzp2, v);
                }
            }
        }
        if (++ox == ow) ox = 0, oy++;
    }
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

#if EXF_SIMD_NATIVE
/* What pairs_asm reads (offsets fixed in its assembly; y is advanced in place). */
typedef struct {
    const uint32_t *ww, *a_end; /* 0, 4: the weight row pair and its end */
    const uint32_t *pw, *pw_end; /* 8, 12: the patch row pairs and their end */
    int8_t *y;                   /* 16 */
    int32_t stride;              /* 20 */
    pair_terms_t t;              /* 24: b0 b1 m0 rb0 m1 rb1 sh0 sh1 */
} pairs_job_t;

/* One group: the weight rows' four words in one LDM (r3 r4 = row 0, r5 r6 = row 1), each patch's two
 * words in one LDRD, 8 SMLAD: c00 r10, c01 r11, c10 r12, c11 r0. */
#define PAIRS_GROUP                                                                                       \
    "ldm r1!, {r3, r4, r5, r6}\n\t"                                                                       \
    "ldrd r8, r9, [r2], #8\n\t"                                                                           \
    "smlad r10, r3, r8, r10\n\tsmlad r10, r4, r9, r10\n\tsmlad r12, r5, r8, r12\n\tsmlad r12, r6, r9, r12\n\t" \
    "ldrd r8, r9, [r2], #8\n\t"                                                                           \
    "smlad r11, r3, r8, r11\n\tsmlad r11, r4, r9, r11\n\tsmlad r0, r5, r8, r0\n\tsmlad r0, r6, r9, r0\n\t"

/* the pair's four sums requantized (SMMLA, ASR, SSAT) and stored, then the next pair (both loops) */
#define PAIRS_REQUANT_STORE                                                                               \
    "mov r9, r0\n\t"                                                                                      \
    "pop {r0}\n\t"                                                                                        \
    "ldrd r3, r4, [r0, #32]\n\t"                                                                          \
    "ldrd r5, r6, [r0, #48]\n\t"                                                                          \
    "smmla r10, r10, r3, r4\n\tsmmla r11, r11, r3, r4\n\t"                                                \
    "ldrd r3, r4, [r0, #40]\n\t"                                                                          \
    "smmla r12, r12, r3, r4\n\tsmmla r9, r9, r3, r4\n\t"                                                  \
    "asr r10, r10, r5\n\tasr r11, r11, r5\n\tasr r12, r12, r6\n\tasr r9, r9, r6\n\t"                      \
    "ssat r10, #8, r10\n\tssat r11, #8, r11\n\tssat r12, #8, r12\n\tssat r9, #8, r9\n\t"                  \
    "ldrd r3, r4, [r0, #16]\n\t"                                                                          \
    "add r4, r4, r3\n\t"                                                                                  \
    "strb r12, [r4]\n\tstrb r9, [r4, #1]\n\tstrb r11, [r3, #1]\n\tstrb r10, [r3], #2\n\t"                 \
    "str r3, [r0, #16]\n\t"                                                                               \
    "ldr r3, [r0, #12]\n\t"                                                                               \
    "cmp r2, r3\n\t"                                                                                      \
    "bne 1b\n\t"

/* pairs_body (every pair stored whole) in assembly: gcc 12 kept the eight terms of the pair on the stack
 * and reloaded them per output; here every register but r7 (the frame pointer of an unoptimized build)
 * and sp holds a value of the 2 x 2 block, the job's pointer is pushed for the block's dot products.
 * Per pair 31 + 11 gk (+ 2 per pair of groups) instructions: 21 per output at gk = 4, against 23.6.
 * odd: gk is odd (then one group before the loop of two). */
static __attribute__((noinline)) void pairs_asm(pairs_job_t *job, int32_t odd) {
    register pairs_job_t *j __asm__("r0") = job;
    if (odd) {
        __asm__ volatile(
            "ldr r2, [r0, #8]\n\t"
            "ldr lr, [r0, #4]\n"
            "1:\n\t"
            "ldr r1, [r0, #0]\n\t"
            "ldrd r10, r12, [r0, #24]\n\t"
            "mov r11, r10\n\t"
            "push {r0}\n\t"
            "mov r0, r12\n\t" PAIRS_GROUP
            "cmp r1, lr\n\t"
            "beq 3f\n"
            "2:\n\t" PAIRS_GROUP PAIRS_GROUP
            "cmp r1, lr\n\t"
            "bne 2b\n"
            "3:\n\t"
            PAIRS_REQUANT_STORE
            : "+r"(j)
            :
            : "r1", "r2", "r3", "r4", "r5", "r6", "r8", "r9", "r10", "r11", "r12", "lr", "cc", "memory");
    } else {
        __asm__ volatile(
            "ldr r2, [r0, #8]\n\t"
            "ldr lr, [r0, #4]\n"
            "1:\n\t"
            "ldr r1, [r0, #0]\n\t"
            "ldrd r10, r12, [r0, #24]\n\t"
            "mov r11, r10\n\t"
            "push {r0}\n\t"
            "mov r0, r12\n"
            "2:\n\t" PAIRS_GROUP PAIRS_GROUP
            "cmp r1, lr\n\t"
            "bne 2b\n\t"
            PAIRS_REQUANT_STORE
            : "+r"(j)
            :
            : "r1", "r2", "r3", "r4", "r5", "r6", "r8", "r9", "r10", "r11", "r12", "lr", "cc", "memory");
    }
}
#endif

static __attribute__((noinline)) void pairs_hi(const uint32_t *ww, const uint32_t *pw, int32_t gk, int32_t np,
                                               const pair_terms_t *t, int8_t *y, int32_t stride) {
#if EXF_SIMD_NATIVE
    const int32_t pairs = np >> 1, odd = gk & 1;
    pairs_job_t job = {ww, ww + 4 * gk, pw, pw + 4 * gk * pairs, y, stride, *t};
    if (pairs) pairs_asm(&job, odd);
    if (np & 1) { /* the last patch and its zero row, into a 2 x 2 buffer (stride 2), its column kept */
        int8_t out[4];
        pairs_job_t last = {ww, ww + 4 * gk, job.pw_end, job.pw_end + 4 * gk, out, 2, *t};
        pairs_asm(&last, odd);
        y[np - 1] = out[0];
        y[stride + np - 1] = out[2];
    }
#else
    if (gk & 1) {
        pw = pairs_body(ww, pw, gk, np >> 1, t, y, stride, 1, 0);
        pairs_body(ww, pw, gk, np & 1, t, y + (np & ~1), stride, 1, 1);
    } else {
        pw = pairs_body(ww, pw, gk, np >> 1, t, y, stride, 0, 0);
        pairs_body(ww, pw, gk, np & 1, t, y + (np & ~1), stride, 0, 1);
    }
#endif
}

/* Any requantization: the sums through acc (exfp_dot_pairs: channel r's at position i in
 * acc[2 i + r]), then bias and requant() per output. For a channel pair with a shift
 * outside [33, 53] (not the example models'). */
static __attribute__((noinline)) void pairs_any(const exf_conv2d_q_params_t *p, const uint32_t *ww,
                                                const uint32_t *pw, int32_t gk, int32_t np, int32_t oc, int32_t two,
                                                int8_t *y, int32_t *acc) {
    exfp_dot_pairs(ww, pw, gk, (np + 1) >> 1, acc);
    const int32_t positions = p->oh * p->ow;
    for (int32_t r = 0; r <= two; r++, y += positions) {
        const int32_t b = p->bias ? p->bias[oc + r] : 0;
        const requant_t rq = requant_of(p->mult[oc + r], p->shift[oc + r], p->out_zp);
        const int32_t *a = acc + r;
        if (rq.hi) {
            for (int32_t i = 0; i < np; i++) y[i] = (int8_t)requant(a[2 * i] + b, rq, 1);
        } else {
            for (int32_t i = 0; i < np; i++) y[i] = (int8_t)requant(a[2 * i] + b, rq, 0);
        }
    }
}

void exf_conv2d_s8_dsp(const exf_conv2d_q_params_t *p, const int8_t *x, int8_t *y, void *scratch) {
    const int32_t c = p->c, o = p->o, groups = p->groups, cg = c / groups, og = o / groups;
    const int32_t K = cg * p->kh * p->kw, gk = (K + 3) >> 2, ow = p->ow, positions = p->oh * ow;
    // x (n, c, h, wd) conv W (o, c/groups, kh, kw) + bias (o,) -> y (n, o, oh, ow), per-channel requantize
    if (cg == 1 && og < EXF_CONV_DIRECT_OG) {
        exfp_conv2d_direct(p, x, y, scratch);
        return;
    }
#if EXF_MVE /* Helium: VMLADAVA on int8 patches and weights, in the same scratch (quant_conv_mve.c) */
    exfq_conv2d_s8_mve(p, x, y, scratch);
    return;
#endif
    uint32_t *ww = (uint32_t *)scratch;                  /* a pair of weight rows */
    uint32_t *pw = ww + 4 * gk;                           /* BLOCK patches: BLOCK / 2 row pairs */
    const int32_t block = gk <= EXF_CONV_SMALL_GROUPS ? 2 * BLOCK : BLOCK;
    int16_t *tmp = (int16_t *)(pw + 4 * gk * (block / 2)); /* one patch, 4 gk int16 */
    int32_t *acc = (int32_t *)(tmp + 4 * gk);            /* 2 BLOCK sums */
    /* every patch inside the image, its rows whole groups of 4 bytes: the patch embedding's case */
    const int inside = p->pt == 0 && p->pl == 0 && (p->oh - 1) * p->sh + (p->kh - 1) * p->dh < p->h &&
                       (ow - 1) * p->sw + p->kw <= p->wd && p->dw == 1 && (p->kw & 3) == 0;
    /* the positions in blocks of at most BLOCK, as even as they come (49 = 26 + 23, not 32 + 17) */
    const int32_t blocks = (positions + block - 1) / block, step = ((positions + blocks - 1) / blocks + 1) & ~1;
    for (int32_t bi = 0; bi < p->n; bi++) {
        for (int32_t gi = 0; gi < groups; gi++) {
            const int8_t *xg = x + (bi * c + gi * cg) * p->h * p->wd;
            for (int32_t pos = 0; pos < positions; pos += step) {
                const int32_t np = positions - pos < step ? positions - pos : step;
                if (inside) {
                    patch_block_inside(p, xg, pos, np, pw, gk);
                } else {
                    for (int32_t i = 0, oy = pos / ow, ox = pos % ow; i < np; i++) {
                        patch_row(p, xg, oy, ox, tmp, pw + 4 * gk * (i >> 1) + 2 * (i & 1));
                        if (++ox == ow) ox = 0, oy++;
                    }
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
