/* Integer elementwise kernels: table lookup, broadcasting add and multiply (int8, or int8/int16),
 * requantize. Every element is computed independently, so y may equal an input (see edgexf_kernels.h for
 * when). Arithmetic as in edgexf_kernels.h ("integer kernels"); mirrored by edgexf/ir/kernels_q.py. The
 * broadcasting kernels walk their shapes with exf_bcast_walk (broadcast.h); the add's arithmetic is
 * quant_add.h's, the multiply's quant_mul.h's. */
#include "edgexf_kernels.h"
#include "broadcast.h"
#include "quant_add.h"
#include "quant_common.h"
#include "quant_mul.h"
#include "quant_pairs.h"

void exf_lut_s8(const exf_lut_params_t *p, const int8_t *x, int8_t *y) {
    // x (n,) -> y (n,), y = table[x + 128]
    exfq_lut_s8(x, p->table, y, p->n);
}

exfq_add_t exfq_add_prepare(int32_t a_bytes, int32_t b_bytes, const exf_add_terms_t *add) {
    const int32_t a_zp = add->a_zp, b_zp = add->b_zp, ma = add->ma, mb = add->mb, shift = add->shift;
    exfq_add_t p;
    p.k = ((int64_t)1 << (shift - 1)) - (int64_t)a_zp * ma - (int64_t)b_zp * mb;
    p.ma = ma;
    p.mb = mb;
    p.out_zp = add->out_zp;
    p.ls = 0;
    if (shift >= 32) {
        p.path = EXFQ_ADD_HI;
        p.rs = shift - 32;
        return p;
    }
    /* |v| <= max |a - a_zp| |ma| + max |b - b_zp| |mb| + 2^(shift - 1) (below 2^17 2^31 2 + 2^30), so
     * |v >> shift| <= (bound >> shift) + 1 < 2^29 on the lo path */
    const int64_t am = (a_bytes == 1 ? 128 : 32768) + (a_zp < 0 ? -(int64_t)a_zp : a_zp);
    const int64_t bm = (b_bytes == 1 ? 128 : 32768) + (b_zp < 0 ? -(int64_t)b_zp : b_zp);
    const int64_t abs_ma = ma < 0 ? -(int64_t)ma : ma, abs_mb = mb < 0 ? -(int64_t)mb : mb;
    const int64_t bound = am * abs_ma + bm * abs_mb + ((int64_t)1 << (shift - 1));
    p.rs = shift;
    p.ls = 32 - shift;
    p.path = (bound >> shift) < (1 << 29) - 1 ? EXFQ_ADD_LO : EXFQ_ADD_WIDE;
    if (p.path == EXFQ_ADD_LO) { /* out_zp 2^shift (|.| < 2^47) into K: floor(v / 2^shift) + out_zp at once */
        p.k += (int64_t)p.out_zp * ((int64_t)1 << shift);
        p.out_zp = 0;
    }
    return p;
}

static ALWAYS_INLINE int32_t load_as(const void *p, int32_t i, const int bytes) {
    return bytes == 1 ? (int32_t)((const int8_t *)p)[i] : (int32_t)((const int16_t *)p)[i];
}


static ALWAYS_INLINE void store_as(void *p, int32_t i, int32_t v, const int bytes) {
    if (bytes == 1) {
        ((int8_t *)p)[i] = (int8_t)SAT_S8(v);
    } else {
        ((int16_t *)p)[i] = (int16_t)SAT_S16(v);
    }
}

/* The hi and lo paths (quant_add.h) over rows rows of n: a's element (r, i) at r * ra + i * sa, likewise b,
 * y's at r * n + i. ab, bb, yb (element sizes) and hi are constants where inlined, and sa, sb too on the
 * contiguous path. */
static ALWAYS_INLINE void add_body(const exfq_add_t *p, const void *a, int32_t ra, int32_t sa, const void *b,
                                   int32_t rb, int32_t sb, void *y, int32_t rows, int32_t n, const int ab,
                                   const int bb, const int yb, const int hi) {
    const int64_t k = p->k;
    const int32_t ma = p->ma, mb = p->mb, rs = p->rs, ls = p->ls, zp = p->out_zp;
    for (int32_t r = 0; r < rows; r++) {
        const void *ar = (const uint8_t *)a + r * ra * ab, *br = (const uint8_t *)b + r * rb * bb;
        void *yr = (uint8_t *)y + r * n * yb;
        for (int32_t i = 0; i < n; i++) {
            const int64_t v = k + (int64_t)load_as(ar, i * sa, ab) * ma + (int64_t)load_as(br, i * sb, bb) * mb;
            const int32_t res = hi ? (int32_t)(v >> 32) >> rs
                                   : (int32_t)(((uint32_t)v >> rs) | ((uint32_t)(v >> 32) << ls)); /* 0 < rs, ls < 32 */
            store_as(yr, i, hi ? res + zp : res, yb); /* lo: out_zp is in k */
        }
    }
}

/* Any element sizes and strides: one loop for all, which reads them and the path at run time (about 4
 * instructions per element more than a specialized loop) */
static __attribute__((noinline)) void add_strided(const exfq_add_t *p, const void *a, int32_t ra, int32_t sa,
                                                  const void *b, int32_t rb, int32_t sb, void *y, int32_t rows,
                                                  int32_t n, int32_t ab, int32_t bb, int32_t yb) {
    add_body(p, a, ra, sa, b, rb, sb, y, rows, n, ab, bb, yb, p->path == EXFQ_ADD_HI);
}

/* Contiguous operands of the kinds the models have (all int8: the ViTs' residual adds; all int16: a
 * recurrent model's int16 state update; int8 + int8 into int16: Mamba's int16 residual) in loops of their
 * own per path; every other combination of element sizes and strides through add_strided (about 32
 * instructions per element against 12). Specializing all eight size combinations and both stride kinds
 * would cost about 6 KB more code, too much for the small models. ab, bb, yb: constants where inlined. */
static ALWAYS_INLINE void add_contiguous(const exfq_add_t *p, const void *a, int32_t ra, const void *b, int32_t rb,
                                         void *y, int32_t rows, int32_t n, const int ab, const int bb,
                                         const int yb) {
    if (p->path == EXFQ_ADD_HI) {
        add_body(p, a, ra, 1, b, rb, 1, y, rows, n, ab, bb, yb, 1);
    } else {
        add_body(p, a, ra, 1, b, rb, 1, y, rows, n, ab, bb, yb, 0);
    }
}

/* exf_add_q takes the SMLAD form where a, b and y are int8 (the ViTs' residual adds: about 9.5
 * instructions an element against 13) and y's rows hold at least ADD8_MIN elements (its terms cost about
 * 50 instructions: an LMU's 32-element add took 30 more with them; one test of the last dimension costs
 * such an add least), on DSP cores and on the host (whose tests then check it against the NumPy mirror);
 * not where SMLAD is emulated in C on a core (slower than the plain form) nor with Helium
 * (exfq_add_s8_mve). */
#define ADD8_MIN 64
#if EXF_SIMD_NATIVE || !defined(__arm__)
#define EXF_ADD8 (!EXF_MVE)
#else
#define EXF_ADD8 0
#endif

/* rows rows of n through exfq_add8_row: a's and b's rows ra and rb elements apart, y's n. Not inlined
 * into add_block, whose other paths keep their code (inlined, an LMU's int16 add of 512 took 86 more). */
static __attribute__((noinline)) void add8_rows(const exfq_add8_t *q, const int8_t *a, int32_t ra, const int8_t *b,
                                                int32_t rb, int8_t *y, int32_t rows, int32_t n) {
    for (int32_t r = 0; r < rows; r++) exfq_add8_row(q, a + r * ra, b + r * rb, y + r * n, n);
}

/* The contiguous block for a, b, y of bytes (ab, bb, yb); 0 where that combination has no loop of its own.
 * q8: the SMLAD form's terms for all int8, or NULL. */
static int add_block_contiguous(const exfq_add_t *p, const exfq_add8_t *q8, const void *a, int32_t ra,
                                const void *b, int32_t rb, void *y, int32_t rows, int32_t n, int32_t ab, int32_t bb,
                                int32_t yb) {
    if (ab == 1 && bb == 1 && yb == 1) {
        if (q8) {
            add8_rows(q8, (const int8_t *)a, ra, (const int8_t *)b, rb, (int8_t *)y, rows, n);
            return 1;
        }
#if EXF_MVE /* Helium: four elements a vector (quant_add_mve.c) */
        exfq_add_s8_mve(p, (const int8_t *)a, ra, (const int8_t *)b, rb, (int8_t *)y, rows, n); /* hi or lo */
        return 1;
#endif
        add_contiguous(p, a, ra, b, rb, y, rows, n, 1, 1, 1);
    } else if (ab == 2 && bb == 2 && yb == 2) {
#if EXF_MVE /* Helium: four elements a vector (quant_add_mve.c) */
        exfq_add_s16_mve(p, (const int16_t *)a, ra, (const int16_t *)b, rb, (int16_t *)y, rows, n);
        return 1;
#endif
        add_contiguous(p, a, ra, b, rb, y, rows, n, 2, 2, 2);
    } else if (ab == 1 && bb == 1 && yb == 2) {
        add_contiguous(p, a, ra, b, rb, y, rows, n, 1, 1, 2);
    } else {
        return 0;
    }
    return 1;
}

typedef struct {
    exfq_add_t p;
    const exfq_add8_t *q8; /* the all-int8 SMLAD form's terms (quant_add.h), or NULL */
    const void *a, *b;
    void *y;
    int32_t a_bytes, b_bytes, y_bytes;
} add_ctx;

/* The wide path: int64 shift and clamp (quant_add.h) */
static void add_block_wide(const add_ctx *c, int32_t out, const exf_bcast_block *blk) {
    const exfq_add_t p = c->p;
    const exf_bcast_block bk = *blk;
    for (int32_t r = 0; r < bk.rows; r++) {
        for (int32_t i = 0; i < bk.n; i++) {
            const int32_t u = exfq_load(c->a, c->a_bytes, bk.off[0] + r * bk.row_step[0] + i * bk.step[0]);
            const int32_t v = exfq_load(c->b, c->b_bytes, bk.off[1] + r * bk.row_step[1] + i * bk.step[1]);
            exfq_store(c->y, c->y_bytes, out++, ((p.k + (int64_t)u * p.ma + (int64_t)v * p.mb) >> p.rs) + p.out_zp);
        }
    }
}

static void add_block(const void *ctx, int32_t out, const exf_bcast_block *blk) {
    const add_ctx *c = (const add_ctx *)ctx;
    if (c->p.path == EXFQ_ADD_WIDE) {
        add_block_wide(c, out, blk);
        return;
    }
    const void *a = (const uint8_t *)c->a + blk->off[0] * c->a_bytes;
    const void *b = (const uint8_t *)c->b + blk->off[1] * c->b_bytes;
    void *y = (uint8_t *)c->y + out * c->y_bytes;
    const int32_t contiguous = blk->step[0] == 1 && blk->step[1] == 1;
    if (!contiguous || !add_block_contiguous(&c->p, c->q8, a, blk->row_step[0], b, blk->row_step[1], y, blk->rows,
                                             blk->n, c->a_bytes, c->b_bytes, c->y_bytes)) {
        add_strided(&c->p, a, blk->row_step[0], blk->step[0], b, blk->row_step[1], blk->step[1], y, blk->rows,
                    blk->n, c->a_bytes, c->b_bytes, c->y_bytes);
    }
}

void exfq_add_row(const exfq_add_t *p, const void *a, int32_t a_bytes, int32_t sa, const void *b, int32_t b_bytes,
                  int32_t sb, void *y, int32_t y_bytes, int32_t n) {
    /* the plain form (q8 not ok): kernel_check.c checks exfq_add8_row against it */
    const add_ctx c = {*p, NULL, a, b, y, a_bytes, b_bytes, y_bytes};
    const exf_bcast_block blk = {1, n, {0, 0, 0}, {0, 0, 0}, {sa, sb, 0}};
    add_block(&c, 0, &blk);
}

/* exf_add_q's walk with the SMLAD form's terms where they allow it: out of line, so that the other adds
 * pay one test for it */
static __attribute__((noinline)) void add_walk_s8(const exf_add_q_params_t *p, const add_ctx *plain) {
    add_ctx c = *plain;
    const exfq_add8_t q8 = exfq_add8_prepare(&c.p);
    if (q8.ok) c.q8 = &q8;
    const int32_t *const strides[2] = {p->sa, p->sb};
    exf_bcast_walk(p->shape, 2, strides, add_block, &c);
}

void exf_add_q(const exf_add_q_params_t *p, const void *a, const void *b, void *y) {
    // a + b (broadcast to shape, each rescaled) -> y (shape[0], shape[1], shape[2], shape[3])
    const int32_t a_bytes = p->a_bytes, b_bytes = p->b_bytes, y_bytes = p->y_bytes;
    const add_ctx c = {exfq_add_prepare(a_bytes, b_bytes, &p->add), NULL, a, b, y, a_bytes, b_bytes, y_bytes};
    if (EXF_ADD8 && a_bytes + b_bytes + y_bytes == 3 && p->shape[3] >= ADD8_MIN) { /* all int8 */
        add_walk_s8(p, &c);
        return;
    }
    const int32_t *const strides[2] = {p->sa, p->sb};
    exf_bcast_walk(p->shape, 2, strides, add_block, &c);
}

/* max |x - zp| over the int8 (bytes 1) or int16 range */
static int64_t zp_span(int32_t bytes, int32_t zp) {
    const int64_t lo = bytes == 1 ? -128 : -32768, hi = bytes == 1 ? 127 : 32767;
    return hi - zp > zp - lo ? hi - zp : zp - lo;
}

exfq_mul_t exfq_mul_prepare(int32_t a_bytes, int32_t b_bytes, int32_t a_zp, int32_t b_zp, int32_t mult, int32_t shift,
                             int32_t out_zp) {
    exfq_mul_t p = {a_zp, b_zp, mult, 0, 0, 0, shift, out_zp, EXFQ_MUL_WIDE};
    const int32_t ls = shift < 33 ? 33 - shift : 0;
    const int64_t pmax = zp_span(a_bytes, a_zp) * zp_span(b_bytes, b_zp); /* < 2^63 for any int32 zero points */
    if (ls > 16 || pmax > (INT32_MAX >> ls) || shift > 62) return p;
    const int32_t rs = shift + ls - 32; /* [1, 30] */
    const int64_t bias = ((int64_t)1 << (rs - 1)) + (int64_t)out_zp * ((int64_t)1 << rs);
    const int64_t abs_mult = mult < 0 ? -(int64_t)mult : mult;
    const int64_t hmax = (((pmax << ls) * abs_mult) >> 32) + 1; /* (pmax 2^ls) |mult| < 2^62 */
    if (hmax + (bias < 0 ? -bias : bias) > INT32_MAX) return p;
    p.bias = (int32_t)bias;
    p.rs = rs;
    p.ls = ls;
    p.path = EXFQ_MUL_HI;
    return p;
}

/* The hi path over rows rows of n, operand and y addressing as add_body's. ab, bb, yb (element sizes) and
 * shl (p->ls applied; without it ls must be 0) are constants where inlined, and sa, sb too on the contiguous
 * path. */
static ALWAYS_INLINE void mul_body(const exfq_mul_t *p, const void *a, int32_t ra, int32_t sa, const void *b,
                                   int32_t rb, int32_t sb, void *y, int32_t rows, int32_t n, const int ab,
                                   const int bb, const int yb, const int shl) {
    const int32_t a_zp = p->a_zp, b_zp = p->b_zp, mult = p->mult, bias = p->bias, rs = p->rs, ls = p->ls;
    for (int32_t r = 0; r < rows; r++) {
        const void *ar = (const uint8_t *)a + r * ra * ab, *br = (const uint8_t *)b + r * rb * bb;
        void *yr = (uint8_t *)y + r * n * yb;
        for (int32_t i = 0; i < n; i++) {
            const int32_t u = load_as(ar, i * sa, ab) - a_zp, v = load_as(br, i * sb, bb) - b_zp;
            const int32_t prod = shl ? (int32_t)((uint32_t)(u * v) << ls) : u * v; /* |.| < 2^31 (exfq_mul_prepare) */
            store_as(yr, i, smmla(prod, mult, bias) >> rs, yb);
        }
    }
}

/* Strided operands (a broadcast multiply along the row) or ls > 0 (shift below 33): one loop for every element
 * size, which it reads at run time, the operands walked by byte pointers */
static __attribute__((noinline)) void mul_strided(const exfq_mul_t *p, const void *a, int32_t ra, int32_t sa,
                                                  const void *b, int32_t rb, int32_t sb, void *y, int32_t rows,
                                                  int32_t n, int32_t ab, int32_t bb, int32_t yb) {
    const int32_t a_zp = p->a_zp, b_zp = p->b_zp, mult = p->mult, bias = p->bias, rs = p->rs, ls = p->ls;
    const int32_t da = sa * ab, db = sb * bb; /* bytes per element */
    const uint8_t *pa = (const uint8_t *)a, *pb = (const uint8_t *)b;
    uint8_t *py = (uint8_t *)y, *const end = py + rows * n * yb;
    while (py != end) {
        const uint8_t *qa = pa, *qb = pb, *const row_end = py + n * yb;
        for (; py != row_end; py += yb, qa += da, qb += db) {
            const int32_t u = (ab == 1 ? *(const int8_t *)qa : *(const int16_t *)qa) - a_zp;
            const int32_t v = (bb == 1 ? *(const int8_t *)qb : *(const int16_t *)qb) - b_zp;
            const int32_t res = smmla((int32_t)((uint32_t)(u * v) << ls), mult, bias) >> rs;
            if (yb == 1) {
                *(int8_t *)py = (int8_t)SAT_S8(res);
            } else {
                *(int16_t *)py = (int16_t)SAT_S16(res);
            }
        }
        pa += ra * ab;
        pb += rb * bb;
    }
}

/* int8 operands (exf_mul_q's, and Mamba's gates) in loops of their own: contiguous with ls 0, or any strides
 * and ls; an int16 operand times an int8 one, contiguous, in mul_block_s16_s8; every other combination
 * through mul_strided (about 26 instructions per element against 11). yb: a constant where inlined. */
static ALWAYS_INLINE void mul_s8_body(const exfq_mul_t *p, const void *a, int32_t ra, int32_t sa, const void *b,
                                      int32_t rb, int32_t sb, void *y, int32_t rows, int32_t n, const int yb) {
    if (sa == 1 && sb == 1 && p->ls == 0) {
        mul_body(p, a, ra, 1, b, rb, 1, y, rows, n, 1, 1, yb, 0);
    } else {
        mul_body(p, a, ra, sa, b, rb, sb, y, rows, n, 1, 1, yb, 1);
    }
}

/* An int16 operand times an int8 one (Mamba's int16 state h or residual times an int8 factor), into int8
 * or int16, contiguous with ls 0 */
static void mul_block_s16_s8(const exfq_mul_t *p, const void *a, int32_t ra, const void *b, int32_t rb, void *y,
                             int32_t rows, int32_t n, int32_t a_is_16, int32_t yb) {
    if (a_is_16) {
        if (yb == 2) {
            mul_body(p, a, ra, 1, b, rb, 1, y, rows, n, 2, 1, 2, 0);
        } else {
            mul_body(p, a, ra, 1, b, rb, 1, y, rows, n, 2, 1, 1, 0);
        }
    } else {
        if (yb == 2) {
            mul_body(p, a, ra, 1, b, rb, 1, y, rows, n, 1, 2, 2, 0);
        } else {
            mul_body(p, a, ra, 1, b, rb, 1, y, rows, n, 1, 2, 1, 0);
        }
    }
}

static void mul_block_s8(const exfq_mul_t *p, const void *a, int32_t ra, int32_t sa, const void *b, int32_t rb,
                         int32_t sb, void *y, int32_t rows, int32_t n, int32_t yb) {
#if EXF_MVE /* Helium: four elements a vector, contiguous or broadcast along the row (quant_elementwise_mve.c) */
    if ((sa == 0 || sa == 1) && (sb == 0 || sb == 1)) {
        exfq_mul_s8_mve(p, (const int8_t *)a, ra, sa, (const int8_t *)b, rb, sb, y, rows, n, yb);
        return;
    }
#endif
    if (yb == 1) {
        mul_s8_body(p, a, ra, sa, b, rb, sb, y, rows, n, 1);
    } else {
        mul_s8_body(p, a, ra, sa, b, rb, sb, y, rows, n, 2);
    }
}

typedef struct {
    exfq_mul_t p;
    const void *a, *b;
    void *y;
    int32_t a_bytes, b_bytes, y_bytes;
} mul_ctx;

/* The wide path: the product in int64 and exfq_requantize */
static void mul_block_wide(const mul_ctx *c, int32_t out, const exf_bcast_block *blk) {
    /* in locals: an int8 store may alias *c and *blk */
    const exfq_mul_t p = c->p;
    const void *a = c->a, *b = c->b;
    void *y = c->y;
    const int32_t a_bytes = c->a_bytes, b_bytes = c->b_bytes, y_bytes = c->y_bytes;
    const int32_t sa = blk->step[0], sb = blk->step[1], rows = blk->rows, n = blk->n;
    for (int32_t r = 0; r < rows; r++) {
        const int32_t ar = blk->off[0] + r * blk->row_step[0], br = blk->off[1] + r * blk->row_step[1];
        for (int32_t i = 0; i < n; i++) {
            const int64_t prod = (int64_t)(exfq_load(a, a_bytes, ar + i * sa) - p.a_zp) *
                                 (exfq_load(b, b_bytes, br + i * sb) - p.b_zp);
            exfq_store(y, y_bytes, out++, exfq_requantize(prod, p.mult, p.shift) + p.out_zp);
        }
    }
}

static void mul_block(const void *ctx, int32_t out, const exf_bcast_block *blk) {
    const mul_ctx *c = (const mul_ctx *)ctx;
    if (c->p.path == EXFQ_MUL_WIDE) {
        mul_block_wide(c, out, blk);
        return;
    }
    const void *a = (const uint8_t *)c->a + blk->off[0] * c->a_bytes;
    const void *b = (const uint8_t *)c->b + blk->off[1] * c->b_bytes;
    void *y = (uint8_t *)c->y + out * c->y_bytes;
    const int32_t contiguous = blk->step[0] == 1 && blk->step[1] == 1 && c->p.ls == 0;
    if (c->a_bytes == 1 && c->b_bytes == 1) {
        mul_block_s8(&c->p, a, blk->row_step[0], blk->step[0], b, blk->row_step[1], blk->step[1], y, blk->rows,
                     blk->n, c->y_bytes);
    } else if (contiguous && c->a_bytes + c->b_bytes == 3) {
        mul_block_s16_s8(&c->p, a, blk->row_step[0], b, blk->row_step[1], y, blk->rows, blk->n, c->a_bytes == 2,
                         c->y_bytes);
    } else {
        mul_strided(&c->p, a, blk->row_step[0], blk->step[0], b, blk->row_step[1], blk->step[1], y, blk->rows,
                    blk->n, c->a_bytes, c->b_bytes, c->y_bytes);
    }
}

/* a * b (broadcast to shape), a and b of a_bytes and b_bytes each, the shared body of the two kernels */
static void mul_any(const exf_mul_q_params_t *p, const void *a, int32_t a_bytes, const void *b, int32_t b_bytes,
                    void *y) {
    const int32_t y_bytes = p->y_bytes;
    const mul_ctx c = {exfq_mul_prepare(a_bytes, b_bytes, p->a_zp, p->b_zp, p->mult, p->shift, p->out_zp), a, b, y,
                       a_bytes, b_bytes, y_bytes};
    const int32_t *const strides[2] = {p->sa, p->sb};
    exf_bcast_walk(p->shape, 2, strides, mul_block, &c);
}

void exf_mul_q(const exf_mul_q_params_t *p, const int8_t *a, const int8_t *b, void *y) {
    // a * b (broadcast to shape) -> y (shape[0], shape[1], shape[2], shape[3])
    mul_any(p, a, 1, b, 1, y);
}

void exf_mul_qq(const exf_mul_q_params_t *p, const void *a, const void *b, void *y) {
    // a * b (broadcast to shape, int8 or int16 each) -> y (shape[0], shape[1], shape[2], shape[3])
    mul_any(p, a, p->a_bytes, b, p->b_bytes, y);
}

void exf_requant_q(const exf_requant_q_params_t *p, const void *x, void *y) {
    const int32_t x_bytes = p->x_bytes, y_bytes = p->y_bytes, n = p->n;
    const int32_t in_zp = p->in_zp, mult = p->mult, shift = p->shift, out_zp = p->out_zp;
    // x (n,) -> y (n,), rescaled and converted between int8 and int16
    for (int32_t i = 0; i < n; i++) {
        int64_t v = exfq_requantize(exfq_load(x, x_bytes, i) - in_zp, mult, shift) + out_zp;
        exfq_store(y, y_bytes, i, v);
    }
}
