/* The integer add of exf_add_q, shared with the fused kernels' residual adds (quant_fused*.c); internal
 * to the kernel library (edgexf_kernels.h states the arithmetic: y = clamp_y(((t + 2^(shift - 1)) >> shift)
 * + out_zp), t = (a - a_zp) ma + (b - b_zp) mb in int64).
 *
 * The zero points and the rounding term are folded, once per call, into one int64 constant
 * K = 2^(shift - 1) - a_zp ma - b_zp mb, so that each element is v = a ma + b mb + K = t + 2^(shift - 1)
 * (two 64-bit multiply-accumulates: SMLAL on Armv7-M), and v >> shift is taken as:
 * - shift >= 32 ("hi"): (int32)(v >> 32) >> (shift - 32), the high word shifted, which is the same floor
 *   (floor(floor(v / 2^32) / 2^(shift - 32)) = floor(v / 2^shift));
 * - shift < 32 ("lo"), when the call's operand ranges bound |v >> shift| below 2^29: the low word of the
 *   64-bit shift, (v_lo >> shift) | (v_hi << (32 - shift)), exact since the result fits int32; out_zp
 *   is added in K as out_zp 2^shift (|.| < 2^47, and floor((v + out_zp 2^shift) / 2^shift) is
 *   floor(v / 2^shift) + out_zp, still within int32), which leaves the loop a register more;
 * - otherwise ("wide": gains no code generator emits) the int64 shift and an int64 clamp.
 * Ranges: |a|, |b|, |a_zp|, |b_zp|, |out_zp| <= 2^16 (the int16 range and its zero points), |ma|, |mb|
 * <= 2^31, shift in [1, 62]. Then |a ma|, |a_zp ma| <= 2^47 (likewise b), |K| <= 2^61 + 2^48, and
 * |v| <= 2^61 + 2^50 < 2^62: neither K nor v overflows int64, and v equals t + 2^(shift - 1) exactly.
 * On the hi path |v >> 32| < 2^30, so adding out_zp stays in int32; on the lo path the bound is checked.
 * Then + out_zp and a saturation to y's element type (SSAT). */
#ifndef EDGEXF_QUANT_ADD_H
#define EDGEXF_QUANT_ADD_H

#include <stdint.h>

#include "edgexf_params.h"

enum { EXFQ_ADD_HI, EXFQ_ADD_LO, EXFQ_ADD_WIDE };

typedef struct {
    int64_t k;      /* 2^(shift - 1) - a_zp ma - b_zp mb (lo: + out_zp 2^shift) */
    int32_t ma, mb; /* the multipliers */
    int32_t rs;     /* hi: shift - 32; lo, wide: shift */
    int32_t ls;     /* lo: 32 - shift */
    int32_t out_zp; /* lo: 0 (in k) */
    int32_t path;   /* EXFQ_ADD_* */
} exfq_add_t;

/* The per-call terms for a (a_bytes) + b (b_bytes). */
exfq_add_t exfq_add_prepare(int32_t a_bytes, int32_t b_bytes, const exf_add_terms_t *add);

/* y[i] = add(a[i * sa], b[i * sb]) for i < n; a, b, y int8 or int16 by their *_bytes. As exf_add_q, y may
 * be a (or b) when that operand is contiguous with y's element size. */
void exfq_add_row(const exfq_add_t *p, const void *a, int32_t a_bytes, int32_t sa, const void *b, int32_t b_bytes,
                  int32_t sb, void *y, int32_t y_bytes, int32_t n);

/* int8 + int8 -> int8 on the hi and lo paths with Helium (MVE; quant_add_mve.c, compiled only for such
 * cores): rows of n, a's and b's rows ra and rb elements apart, y's n. */
void exfq_add_s8_mve(const exfq_add_t *p, const int8_t *a, int32_t ra, const int8_t *b, int32_t rb, int8_t *y,
                     int32_t rows, int32_t n);

#endif /* EDGEXF_QUANT_ADD_H */
