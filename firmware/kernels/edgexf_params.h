/* Parameter structs of the integer and fused kernels (edgexf_kernels.h declares the kernels and states
 * their arithmetic). As CMSIS-NN's arm_nn_types.h: every number a kernel needs (sizes, zero points,
 * multipliers, shifts, broadcast shapes and strides) and the pointers to its constant data (weights,
 * bias, multipliers, shifts, tables) are named fields of one const struct, which the code generator
 * writes as a `static const` designated initializer per op; the activations (inputs, outputs) and the
 * working memory stay function arguments. Kernels copy the fields their loops use into locals first, so
 * stores through the output pointers cannot force reloads.
 *
 * Units: sizes in elements unless named *_bytes (element sizes: 1 = int8, 2 = int16); zero points in
 * raw integer codes; (mult, shift) a multiplier m / 2^shift as edgexf_kernels.h's requantize. */
#ifndef EDGEXF_PARAMS_H
#define EDGEXF_PARAMS_H

#include <stdint.h>

/* ---- pieces shared by several kernels ------------------------------------------------------------ */

/* exf_add_q's arithmetic: y = clamp_y(((a - a_zp) ma + (b - b_zp) mb + 2^(shift - 1)) >> shift) + out_zp). */
typedef struct {
    int32_t a_zp, b_zp; /* the operands' zero points */
    int32_t ma, mb;     /* their multipliers (mb < 0 subtracts) */
    int32_t shift;      /* in [1, 62] */
    int32_t out_zp;     /* y's zero point */
} exf_add_terms_t;

/* An integer layernorm's constants (exf_layernorm_s8's arithmetic): with gamma and beta, or (gamma NULL)
 * without them, where the quantizer folded them into the next linear layer (mult and mshift then). */
typedef struct {
    const int32_t *gamma; /* (d) real gamma over the output scale, times 2^gshift; NULL: none */
    const int32_t *beta;  /* (d) real beta over the output scale, times 2^gshift; NULL with gamma */
    int64_t eps_term;     /* d^2 eps in input codes squared, >= 0 */
    int32_t gshift;       /* gamma's and beta's fraction bits, in [0, 40] */
    int32_t mult, mshift; /* gamma NULL: d / out_scale = mult / 2^mshift, mult in [2^30, 2^31), mshift >= 1 */
    int32_t out_zp;       /* the normalized output's zero point */
} exf_norm_q_t;

/* One integer linear layer's constants (exf_linear_s8's arithmetic). */
typedef struct {
    const void *w;        /* (m, k) int8, or exf_linear_s8_w16's widened int16 pairs where rq is set */
    const int32_t *bias;  /* (m) with x's zero point folded in; NULL = 0 */
    const int32_t *mult;  /* (m) requantization multipliers */
    const int32_t *shift; /* (m) requantization shifts in [1, 62]; unused where rq is set */
    const int32_t *rq;    /* (2 m) widened weights' terms (quant_dot_w16.c), or NULL for int8 weights */
    int32_t out_zp;       /* y's zero point (in rq where rq is set) */
} exf_dense_q_t;

/* ---- integer kernels ------------------------------------------------------------------------------ */

/* exf_linear_s8, _q, _s8_dsp, _s8_w16, _q_w16: x (rows, k) @ w (m, k)^T -> y (rows, m). */
typedef struct {
    exf_dense_q_t fc;          /* the layer's constants */
    int32_t rows, k, m;        /* x rows, inputs per row, outputs per row */
    int32_t x_bytes, y_bytes;  /* element sizes (exf_linear_q, exf_linear_q_w16; 1 for the _s8 kernels) */
    int32_t pre_shift;         /* exf_linear_q_w16: left shift of the sums before requantizing (in rq) */
} exf_linear_q_params_t;

/* exf_conv2d_s8: geometry as exf_conv2d_f32. */
typedef struct {
    const int8_t *w;                  /* (o, c / groups, kh, kw) */
    const int32_t *bias;              /* (o), NULL = 0 */
    const int32_t *mult, *shift;      /* (o) per output channel */
    int32_t n, c, h, wd;              /* input batch, channels, height, width */
    int32_t o, kh, kw;                /* output channels, kernel height and width */
    int32_t sh, sw, pt, pl, dh, dw;   /* strides, top and left padding, dilations */
    int32_t groups, oh, ow;           /* channel groups, output height and width */
    int32_t in_zp, out_zp;            /* zero points */
} exf_conv2d_q_params_t;

/* exf_matmul_s8: a (batch, m, k) @ b (batch, k, n) -> y (batch, m, n). */
typedef struct {
    int32_t batch, m, k, n;
    int32_t a_batch_stride, b_batch_stride; /* elements between batches; 0 broadcasts */
    int32_t a_zp, b_zp;
    int32_t mult, shift, out_zp;            /* one requantization for the tensor */
} exf_matmul_q_params_t;

/* exf_softmax_s8: x (rows, n). */
typedef struct {
    const int32_t *exp_table; /* (256) round(exp(scale_x (i - 255)) 2^16) */
    int32_t rows, n;
} exf_softmax_q_params_t;

/* exf_layernorm_s8, _s16: x (rows, d). */
typedef struct {
    exf_norm_q_t ln;
    int32_t rows, d;
} exf_layernorm_q_params_t;

/* exf_mean_s8: x (outer, n, inner) -> y (outer, inner). */
typedef struct {
    int32_t outer, n, inner;
    int32_t in_zp, mult, shift, out_zp; /* mult / 2^shift = in_scale / (n out_scale) */
} exf_mean_q_params_t;

/* exf_lut_s8: n elements through a 256-entry table. */
typedef struct {
    const int8_t *table; /* (256) y for x + 128 */
    int32_t n;
} exf_lut_params_t;

/* exf_add_q: broadcast as exf_add_f32 (rank 4, strides in elements, 0 on a broadcast axis). */
typedef struct {
    int32_t shape[4], sa[4], sb[4];     /* y's dims; a's and b's strides */
    int32_t a_bytes, b_bytes, y_bytes;  /* element sizes */
    exf_add_terms_t add;
} exf_add_q_params_t;

/* exf_mul_q (a, b int8), exf_mul_qq: broadcast as exf_mul_f32. */
typedef struct {
    int32_t shape[4], sa[4], sb[4];     /* y's dims; a's and b's strides */
    int32_t a_bytes, b_bytes, y_bytes;  /* element sizes (a_bytes = b_bytes = 1 for exf_mul_q) */
    int32_t a_zp, b_zp;
    int32_t mult, shift, out_zp;
} exf_mul_q_params_t;

/* exf_requant_q: n elements to a new scale and element size. */
typedef struct {
    int32_t x_bytes, y_bytes, n;
    int32_t in_zp, mult, shift, out_zp;
} exf_requant_q_params_t;

/* exf_max_q: x (outer, n, inner) -> y (outer, inner), integer codes. */
typedef struct {
    int32_t bytes;           /* element size of x and y */
    int32_t outer, n, inner;
} exf_max_q_params_t;

/* exf_maximum_q: broadcast as exf_maximum_f32, integer codes. */
typedef struct {
    int32_t shape[4], sa[4], sb[4]; /* y's dims; a's and b's strides */
    int32_t bytes;                  /* element size of a, b and y */
} exf_maximum_q_params_t;

/* exf_compare_q: broadcast as exf_compare_f32, integer codes (b may be int32 thresholds). */
typedef struct {
    int32_t shape[4], sa[4], sb[4]; /* y's dims; a's and b's strides */
    int32_t a_bytes, b_bytes;       /* 1, 2 (b also 4) */
    int32_t cmp;                    /* EXF_CMP_* */
} exf_compare_q_params_t;

/* ---- integrated (fused) integer kernels ----------------------------------------------------------- */

/* exf_ln_linear_s8, _s8_dsp: x (rows, k) -> layernorm -> linear -> y (rows, m) int8. */
typedef struct {
    exf_norm_q_t ln;     /* out_zp: the normalized rows' zero point */
    exf_dense_q_t fc;    /* rq only for _dsp */
    int32_t x_bytes;     /* x's element size */
    int32_t rows, k, m;
} exf_ln_linear_q_params_t;

/* exf_attention_s8, _s8_dsp: qkv (t, 3, heads, dh) -> y (t, heads dh); the arithmetic: quant_attention.h. */
typedef struct {
    const int16_t *exp_table;         /* (EXF_ATTENTION_TABLE = 512) softmax weights by steps below the max */
    int32_t t, heads, dh;             /* tokens, heads, channels per head */
    int32_t q_zp, k_zp, v_zp;         /* queries', keys' and values' zero points */
    int32_t exp_mult, exp_shift;      /* scores -> table steps; exp_mult > 0, exp_shift in [33, 62] */
    int32_t av_mult, av_shift, out_zp; /* v_scale / out_scale (the row's 1 / sum folded in per row) */
} exf_attention_q_params_t;

/* exf_token_mlp_q, _q_dsp: y[r] = add(x[r], fc2(act(fc1(layernorm(x[r]))))). */
typedef struct {
    exf_norm_q_t ln;
    exf_dense_q_t fc1;          /* d -> hidden; rq only for _dsp */
    const int8_t *act_table;    /* (256) the activation as exf_lut_s8's table */
    exf_dense_q_t fc2;          /* hidden -> d */
    exf_add_terms_t res;        /* the residual add, x the first operand */
    int32_t x_bytes, y_bytes;   /* element sizes */
    int32_t rows, d, hidden;
} exf_token_mlp_q_params_t;

/* exf_patch_embed_s8, _s8_w16: x (c, h, wd) in p x p patches -> y (tokens, d). */
typedef struct {
    const void *w;               /* (d, c, p, p) int8, or (_w16) the widened int16 pairs */
    const int32_t *bias;         /* (d), NULL = 0 */
    const int32_t *mult, *shift; /* (d); shift unused by _w16 */
    const int32_t *rq;           /* (2 d) _w16's requantization terms (with conv_zp), else NULL */
    int32_t in_zp, conv_zp;      /* the image's and the conv output's zero points */
    const int8_t *cls;           /* (d) class token in the conv output's parameters, or NULL */
    const int8_t *pos;           /* (tokens, d) position embedding, or NULL */
    exf_add_terms_t pos_add;     /* token + pos, when pos is set */
    int32_t y_bytes;
    int32_t c, h, wd, d, p;      /* channels, height, width, embedding width, patch size */
} exf_patch_embed_q_params_t;

/* ---- integrated (fused) float32 kernels ----------------------------------------------------------- */

typedef struct {
    const float *gamma, *beta; /* (k) or NULL */
    float eps;
    const float *w, *b;        /* (m, k), (m) or NULL */
    int32_t rows, k, m;
} exf_ln_linear_f32_params_t;

typedef struct {
    const float *scale; /* one float multiplying the scores, or NULL */
    int32_t t, heads, dh;
} exf_attention_f32_params_t;

typedef struct {
    const float *gamma, *beta; /* (d) or NULL */
    float eps;
    const float *w1, *b1;      /* (hidden, d), (hidden) */
    int32_t act;               /* EXF_ACT_* */
    const float *w2, *b2;      /* (d, hidden), (d) */
    int32_t rows, d, hidden;
} exf_token_mlp_f32_params_t;

typedef struct {
    const float *w, *b;        /* (d, c, p, p), (d) or NULL */
    const float *cls, *pos;    /* (d), (tokens, d) or NULL */
    int32_t c, h, wd, d, p;
} exf_patch_embed_f32_params_t;

/* ---- Mamba's selective scan (exf_selective_scan_f32, exf_selective_scan_q) ------------------------- */

typedef struct {
    const float *A; /* (e, n): -exp(A_log), folded */
    const float *D; /* (e) */
    int32_t e, n;   /* d_inner, d_state */
} exf_scan_f32_params_t;

/* One integer multiply's terms: clamp(requantize((a - a_zp) (b - b_zp), mult, shift) + out_zp), as exf_mul_q. */
typedef struct {
    int32_t a_zp, b_zp, mult, shift, out_zp;
} exf_mul_terms_t;

/* exf_selective_scan_q (edgexf/ir/ops_scan.py states the integers): h' in Q15 arithmetic, y in one add. */
typedef struct {
    const int8_t *A, *D;       /* (e, n), (e) */
    const int16_t *exp_table;  /* 256 entries, Q15: dA = table[index + 128] */
    exf_mul_terms_t dA;        /* dt * A -> the table's int8 index */
    int32_t x_zp, dt_zp, B_zp, C_zp, D_zp;
    int32_t w_mult, w_shift;   /* w = requantize((dt - zp)(x - zp)): Q15 of h per code of B */
    exf_add_terms_t y;         /* y = sum_n h' (C - zp) * ma + (x - zp)(D - zp) * mb, shifted (a_zp = b_zp = 0) */
    int32_t y_bytes;           /* y's element size */
    int32_t e, n;
} exf_scan_q_params_t;

/* ---- Mamba's causal conv on its conv state (exf_conv_step_f32, exf_conv_step_q) --------------------- */

typedef struct {
    const float *W, *bias; /* (e, k), (e) */
    int32_t e, k;          /* d_inner, d_conv */
} exf_conv_step_f32_params_t;

/* exf_conv_step_q (edgexf/ir/ops_conv_step.py): acc = bias + sum_k window (W - w_zp) in int32, one
 * requantization to y's int8 scale. */
typedef struct {
    const int8_t *W;      /* (e, k) */
    const int32_t *bias;  /* (e): in the sum's units */
    int32_t w_zp, mult, shift, out_zp;
    int32_t e, k;
} exf_conv_step_q_params_t;

/* exf_gate_q (edgexf/ir/ops_gate.py): y = a * table[requant(z)], the chain's three ops. */
typedef struct {
    const int8_t *table;                       /* 256 entries: the activation (SiLU) of int8 codes */
    int32_t z_in_zp, z_mult, z_shift, z_out_zp; /* z (int16) -> its int8 code, as exf_requant_q */
    exf_mul_terms_t mul;                       /* a * the table's value, as exf_mul_q */
    int32_t a_bytes;                           /* a's element size */
    int32_t n;
} exf_gate_q_params_t;

/* exf_rms_norm_q (edgexf/ir/ops_rms_norm.py): RMSNorm as the chain of integer ops the quantizer makes. */
typedef struct {
    const int8_t *w, *table;       /* (d), 256 entries: rsqrt(mean + eps) of the mean's int8 code */
    exf_mul_terms_t sq, norm, scale; /* x x, x rsqrt, (x rsqrt) w: as exf_mul_q */
    int32_t mean_in_zp, mean_mult, mean_shift, mean_out_zp; /* as exf_mean_s8 */
    int32_t x_bytes, rows, d;
} exf_rms_norm_q_params_t;

#endif /* EDGEXF_PARAMS_H */
