/* Fast int8 patch embedding with the weights widened to int16 at code generation (cores with the DSP
 * extension): bit-exact with exf_patch_embed_s8 (quant_fused.c).
 *
 * The conv with kernel = stride = p is a linear layer over the patches: each patch's K = c p p taps in
 * the weight's order (channel, ky, kx) are a row, and w16 is the (d, K) weight matrix as a pair-row
 * matrix (quant_pairs.h; edgexf/codegen/wide_weights.py pack_pairs writes it, as for exf_linear_s8_w16).
 * The patches of a patch row go two at a time: each one's taps are widened, minus in_zp, into a row of
 * a pair-row matrix (straight from the image where p % 4 == 0, else gathered into a small int8 buffer
 * first; the odd last one paired with a row of zeros), then exfp_dot_pairs takes the 2 x 2 blocks of
 * sums against every output pair. Each sum plus
 * the bias is the int32 of exf_patch_embed_s8, requantized with the same rounding by requant_t's SMMLA
 * path (every shift in [33, 53]; code generation picks this kernel only then), whose terms rq holds per
 * output: rq[2 o] = 2^(shift - 33) + conv_zp 2^(shift - 32), rq[2 o + 1] = shift - 32. The position
 * embedding is added and the token stored exactly as the portable kernel does. The MNIST ViT's
 * (49 patches of 16 taps, d 64, int8 tokens): 155,000 -> 133,840 instructions (a word copy of the tokens
 * instead of newlib-nano's byte copy, the sums and terms read by LDRD, the pos add without the shift it
 * does not need, patches widened from the image). By the loops' instructions (estimated, not timed
 * apart): about 44,000 for the 2 x 2 blocks, 28,000 the requantization (9 per output), 35,000 the
 * position embedding's add (11 per element: two SMLAL for its exact int64 sum).
 *
 * The order of reads and writes is the portable kernel's (each patch row's tokens in scratch, copied to
 * y once that row's image rows are read, the class token last), so y may overlap x as
 * edgexf/ir/ops_fused.py patch_embed_delta allows: from x's first byte for MCUFormer's int8 tokens.
 *
 * scratch (4-byte aligned): align8(nw d y_bytes) bytes of a patch row's tokens (nw = wd / p), 16 ceil(K / 4)
 * of two widened patches, 16 ceil(d / 2) of sums, 4 ceil(K / 4) of gathered taps.
 */
#include "edgexf_kernels.h"
#include "quant_pairs.h"

static inline int32_t ssat16(int32_t v) {
#if EXF_SIMD_NATIVE
    return __ssat(v, 16);
#else
    return v < -32768 ? -32768 : v > 32767 ? 32767 : v;
#endif
}

/* The K taps of the patch whose top-left pixel is x0 (channel 0), in the weight's order, minus in_zp,
 * into one row of a pair-row matrix at dst: where p % 4 == 0 straight from the image, four taps per
 * 4-byte load (SXTAB16 twice), else gathered into buf first. */
static void widen_patch(const int8_t *x0, int8_t *buf, int32_t c, int32_t plane, int32_t wd, int32_t p,
                        int32_t in_zp, uint32_t *dst) {
    if ((p & 3) == 0) {
        const uint32_t negzp2 = pack2(-in_zp, -in_zp);
        for (int32_t ic = 0; ic < c; ic++, x0 += plane) {
            const int8_t *row = x0;
            for (int32_t ky = 0; ky < p; ky++, row += wd) {
                for (int32_t kx = 0; kx < p; kx += 4, dst += 4) {
                    const uint32_t v = exf_load4(row + kx);
                    dst[0] = sxtab16(negzp2, v);
                    dst[1] = sxtab16_ror8(negzp2, v);
                }
            }
        }
        return;
    }
    int8_t *b = buf;
    for (int32_t ic = 0; ic < c; ic++, x0 += plane) {
        const int8_t *row = x0;
        for (int32_t ky = 0; ky < p; ky++, row += wd) {
            for (int32_t kx = 0; kx < p; kx++) *b++ = row[kx];
        }
    }
    exfp_widen_row(buf, c * p * p, in_zp, dst);
}

/* Two tokens' (one if !two) d conv outputs from the sums of a row pair (exfp_dot_pairs' order: output
 * o's at acc[2 o], acc[2 o + 1]) plus the bias, requantized by requant_t's SMMLA path with rq's terms,
 * into dst and dst + d (int16 if wide, else int8). two and wide are constants where inlined. */
static ALWAYS_INLINE void requant_body(const int32_t *acc, const int32_t *bias, const int32_t *mult,
                                       const int32_t *rq, void *dst, int32_t d, const int two, const int wide,
                                       const int has_bias) {
    const uint32_t *a = (const uint32_t *)(const void *)acc, *t = (const uint32_t *)(const void *)rq;
    for (int32_t o = 0; o < d; o++) {
        uint32_t a0, a1, rb, sh; /* each pair in one LDRD (gcc 12 made two LDRs of them) */
        exf_load_pair(&a, &a0, &a1);
        exf_load_pair(&t, &rb, &sh);
        const int32_t b = has_bias ? bias[o] : 0, m = mult[o];
        const int32_t v0 = exf_ssat8(smmla((int32_t)a0 + b, m, (int32_t)rb) >> sh);
        const int32_t v1 = two ? exf_ssat8(smmla((int32_t)a1 + b, m, (int32_t)rb) >> sh) : 0;
        if (wide) {
            ((int16_t *)dst)[o] = (int16_t)v0;
            if (two) ((int16_t *)dst)[d + o] = (int16_t)v1;
        } else {
            ((int8_t *)dst)[o] = (int8_t)v0;
            if (two) ((int8_t *)dst)[d + o] = (int8_t)v1;
        }
    }
}

#define REQUANT(two, wide, has_bias) requant_body(acc, bias, mult, rq, dst, d, two, wide, has_bias)

/* Not inlined: its loops keep their values in registers. */
static __attribute__((noinline)) void requant_tokens(const int32_t *acc, const int32_t *bias, const int32_t *mult,
                                                     const int32_t *rq, void *dst, int32_t d, int32_t two,
                                                     int32_t wide) {
    if (!bias) { /* not the example ViTs' case: generic in the row count */
        if (wide) {
            REQUANT(two, 1, 0);
        } else {
            REQUANT(two, 0, 0);
        }
    } else if (wide) {
        two ? REQUANT(1, 1, 1) : REQUANT(0, 1, 1);
    } else {
        two ? REQUANT(1, 0, 1) : REQUANT(0, 0, 1);
    }
}

/* The position embedding's add, exfq_add_pair(a, b, add) clamped, for a, b in [-128, 127], a shift
 * s = add[4] in [10, 60] and |out_zp| 2^s < 2^60 (pos_fast), in 32-bit words: with
 * X = (a - a_zp) ma + (b - b_zp) mb + 2^(s - 1) + out_zp 2^s = a ma + b mb + c and u = max(32 - s, 0),
 * the high word of X 2^u = (a 2^u) ma + (b 2^u) mb + c 2^u (SMLAL twice) is floor(X / 2^(s + u - 32)),
 * then shifted by down = max(s - 32, 0): floor(X / 2^s) = exfq_add_pair's value. |a|, |b| <= 128 and
 * u <= 22 keep a 2^u and b 2^u in int32; |X| < 2^(s - 1) + 2^40 + 2^60 keeps X 2^u in int64 (s < 32:
 * |X| < 2^41, 2^u <= 2^22) and the result in int32. */
typedef struct {
    int64_t c; /* c 2^u */
    int32_t ma, mb, u, down;
} pos_add_t;

static inline int pos_fast(const int32_t *add) {
    const int32_t s = add[4], zp = add[5] < 0 ? -add[5] : add[5];
    /* s <= 60 also keeps the shift by 60 - s defined (it was undefined for 61 and 62) */
    return s >= 10 && s <= 60 && zp < (1 << 20) && (int64_t)zp < ((int64_t)1 << (60 - s));
}

static pos_add_t pos_add_of(const int32_t *add) {
    const int32_t s = add[4], u = s < 32 ? 32 - s : 0;
    const int64_t c = ((int64_t)1 << (s - 1)) - (int64_t)add[0] * add[2] - (int64_t)add[1] * add[3] +
                      (int64_t)((uint64_t)(int64_t)add[5] << s);
    const pos_add_t r = {(int64_t)((uint64_t)c << u), add[2], add[3], u, s > 32 ? s - 32 : 0};
    return r;
}

/* y[i] = clamp(add(y[i], pos[i])) for i < n, in place; y int16 if wide, else int8. */
static ALWAYS_INLINE void add_pos_body(void *y, const int8_t *pos, int32_t n, const pos_add_t *q, const int wide,
                                       const int shifted) {
    const int64_t c = q->c;
    const int32_t ma = q->ma, mb = q->mb, u = q->u, down = shifted ? q->down : 0; /* shifted: s > 32 */
    for (int32_t i = 0; i < n; i++) {
        const int32_t a = wide ? ((int16_t *)y)[i] : ((int8_t *)y)[i];
        const int32_t au = (int32_t)((uint32_t)a << u), bu = (int32_t)((uint32_t)(int32_t)pos[i] << u);
        const int64_t v = c + (int64_t)au * ma + (int64_t)bu * mb;
        const int32_t e = (int32_t)(uint32_t)((uint64_t)v >> 32) >> down;
        if (wide) {
            ((int16_t *)y)[i] = (int16_t)ssat16(e);
        } else {
            ((int8_t *)y)[i] = (int8_t)exf_ssat8(e);
        }
    }
}

static __attribute__((noinline)) void add_pos(void *y, const int8_t *pos, int32_t n, const int32_t *add,
                                             const pos_add_t *q, int32_t y_bytes) {
    if (!pos_fast(add)) { /* the portable arithmetic */
        for (int32_t i = 0; i < n; i++) exfq_store(y, y_bytes, i, exfq_add_pair(exfq_load(y, y_bytes, i), pos[i], add));
    } else if (y_bytes == 2) {
        add_pos_body(y, pos, n, q, 1, 1);
    } else if (q->down) {
        add_pos_body(y, pos, n, q, 0, 1);
    } else { /* the example ViTs' int8 tokens: no shift after the high word */
        add_pos_body(y, pos, n, q, 0, 0);
    }
}

/* n bytes from src (4-byte aligned) to dst (any alignment: Armv7-M stores words unaligned), a word at a
 * time: newlib-nano's memcpy goes byte by byte (4 instructions a byte, 9,400 for the MNIST ViT's tokens). */
static void copy_bytes(uint8_t *dst, const uint8_t *src, int32_t n) {
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t v;
        memcpy(&v, src + i, 4);
        memcpy(dst + i, &v, 4);
    }
    for (; i < n; i++) dst[i] = src[i];
}

/* The class token, plus pos[0] if pos, at y's start. */
static void write_cls(const int8_t *cls, const int8_t *pos, const int32_t *pos_add, void *y, int32_t y_bytes,
                      int32_t d) {
    for (int32_t o = 0; o < d; o++) {
        const int64_t e = pos ? exfq_add_pair(cls[o], pos[o], pos_add) : cls[o];
        if (y_bytes == 1) {
            ((int8_t *)y)[o] = exfq_clamp_s8(e);
        } else {
            ((int16_t *)y)[o] = exfq_clamp_s16(e);
        }
    }
}

void exf_patch_embed_s8_w16(const exf_patch_embed_q_params_t *prm, const int8_t *x, void *y, void *scratch) {
    const int16_t *w16 = (const int16_t *)prm->w;
    const int8_t *cls = prm->cls, *pos = prm->pos;
    const int32_t *bias = prm->bias, *mult = prm->mult, *rq = prm->rq;
    const int32_t in_zp = prm->in_zp, y_bytes = prm->y_bytes;
    const int32_t c = prm->c, h = prm->h, wd = prm->wd, d = prm->d, p = prm->p;
    int32_t pos_add[6];
    exfq_add_array(&prm->pos_add, pos_add);
    const int32_t nw = wd / p, k = c * p * p, groups = (k + 3) >> 2, pairs = (d + 1) >> 1;
    const int32_t row_bytes = nw * d * y_bytes;
    uint8_t *tokens = (uint8_t *)scratch;
    uint32_t *xs = (uint32_t *)(void *)(tokens + ((row_bytes + 7) & ~7));
    int32_t *acc = (int32_t *)(xs + 4 * groups);
    int8_t *taps = (int8_t *)(acc + 4 * pairs);
    const pos_add_t q = pos && pos_fast(pos_add) ? pos_add_of(pos_add) : (pos_add_t){0, 0, 0, 0, 0};
    int32_t t0 = cls ? 1 : 0;
    for (int32_t py = 0; py < h / p; py++, t0 += nw) {
        const int8_t *x_row = x + py * p * wd;
        for (int32_t px = 0; px < nw; px += 2) {
            const int32_t two = px + 1 < nw;
            widen_patch(x_row + px * p, taps, c, h * wd, wd, p, in_zp, xs);
            if (two) {
                widen_patch(x_row + (px + 1) * p, taps, c, h * wd, wd, p, in_zp, xs + 2);
            } else {
                exfp_zero_row(groups, xs + 2);
            }
            exfp_dot_pairs(xs, (const uint32_t *)(const void *)w16, groups, pairs, acc);
            requant_tokens(acc, bias, mult, rq, tokens + px * d * y_bytes, d, two, y_bytes == 2);
        }
        if (pos) add_pos(tokens, pos + t0 * d, nw * d, pos_add, &q, y_bytes);
        copy_bytes((uint8_t *)y + t0 * d * y_bytes, tokens, row_bytes);
    }
    if (cls) write_cls(cls, pos, pos_add, y, y_bytes, d);
}
