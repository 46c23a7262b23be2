/* What the kernel check's files share (kernel_check.c runs them in order; kernel_check_common.c holds the
 * buffers and helpers, one file per kernel family the checks): the bounds of every case, the operand and
 * output buffers, the fill / compare / log helpers, one random sequence (CHECK_RNG_SHARED: every file
 * draws from the same rng_state, so the cases are those of the one-file program) and each family's check.
 * Each check returns 0, or -1 after logging the kernel and shape whose outputs differ. */
#ifndef EDGEXF_KERNEL_CHECK_H
#define EDGEXF_KERNEL_CHECK_H

#include "edgexf_kernels.h"
#include "platform.h"
#define CHECK_RNG_SHARED /* one generator state for the program, defined in kernel_check_common.c */
#include "check_common.h" /* rng() */

#define MAX_ROWS 64
#define MAX_K 512
#define MAX_M 384
#define RANDOM_CASES 300
#define RANDOM_ATTENTION_CASES 200
#define RANDOM_PATCH_CASES 300
#define RANDOM_LN_CASES 200
#define RANDOM_ADD_CASES 300

#define MAX_W 49152 /* int8 weights of the largest shape (384 x 128); then their int16 pairs (pack_w16) */
#define GUARD_BYTES 64 /* past the scratch the kernel declares: must stay untouched */

/* attention: t <= MAX_T tokens, dh <= MAX_DH, heads * dh <= MAX_D; qkv lives in w, y in y_portable/y_fast */
#define MAX_T 64
#define MAX_DH 40
#define MAX_D 160

#define MAX_Q_ROWS 8 /* rows * k and rows * m within 8 rows of the largest: random rows <= 7, the LMU's 32 x 16 */

/* patch embedding: at most MAX_PATCHES patches of at most MAX_TAPS taps, d <= MAX_PD outputs */
#define MAX_PATCHES 64
#define MAX_TAPS 192
#define MAX_PD 64

extern int8_t x[MAX_ROWS * MAX_K];
extern int8_t w[3 * MAX_W];
extern int32_t bias[MAX_M], mult[MAX_M], shift[MAX_M];
extern int8_t y_portable[MAX_ROWS * MAX_M], y_fast[MAX_ROWS * MAX_M];
extern uint32_t scratch[EXF_DSP_BLOCK_ROWS * MAX_K / 4 * 2];
extern int16_t x16[MAX_Q_ROWS * MAX_K];

/* kernel_check_common.c */
int32_t rng_in(int32_t lo, int32_t hi);
int32_t rng_zp(void);
void log_field(int64_t v);
void log_shape(const char *what, const char *kernel, int32_t rows, int32_t k, int32_t m);
void fill(int32_t rows, int32_t k, int32_t m, int32_t lo, int32_t hi);
int32_t compare(const char *kernel, int32_t rows, int32_t k, int32_t m, const int8_t *fast);
void log_time(const char *kernel, int32_t rows, int32_t k, int32_t m, uint64_t portable, uint64_t fast);

/* kernel_check_linear.c */
const int16_t *pack_w16(int32_t k, int32_t m);
const int32_t *rq_terms(int32_t m, int32_t out_zp, int32_t pre_shift);
int32_t check_linear(int32_t rows, int32_t k, int32_t m, int32_t timed);
int32_t check_linear_q(int32_t rows, int32_t k, int32_t m, int32_t x_bytes, int32_t y_bytes, int32_t timed);

/* kernel_check_attention.c */
int32_t check_attention(int32_t t, int32_t heads, int32_t dh, int32_t timed);

/* kernel_check_patch.c */
int32_t check_patch(int32_t c, int32_t nh, int32_t nw, int32_t p, int32_t d, int32_t has_cls, int32_t has_pos,
                    int32_t has_bias, int32_t y_bytes, int32_t timed);

/* kernel_check_norm.c */
extern int32_t add8_refused;
int32_t check_layernorm(int32_t rows, int32_t d, int32_t gshift, int32_t plain);
int32_t check_add8(int32_t n, int32_t in_place);

#endif /* EDGEXF_KERNEL_CHECK_H */
