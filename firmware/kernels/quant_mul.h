#ifndef EDGEXF_QUANT_MUL_H
#define EDGEXF_QUANT_MUL_H

#include <stdint.h>

/* The integer multiply of exf_mul_q and exf_mul_qq, internal to the kernel library (edgexf_kernels.h
 * states the arithmetic): y = clamp_y(requantize((a - a_zp) (b - b_zp), mult, shift) + out_zp). Once per call
 * (exfq_mul_prepare) the operand ranges bound |p| <= P = max |a - a_zp| max |b - b_zp|; the "hi" path takes p
 * in int32 and requantizes it as quant_pairs.h's requant: with s = shift + ls, rs = s - 32 and
 * bias = 2^(s - 33) + out_zp 2^rs,
 *   requantize(p) + out_zp = floor((p 2^ls mult + 2^(s - 1) + out_zp 2^s) / 2^s) = (H + bias) >> rs,
 * H = floor(p 2^ls mult / 2^32) (SMMLA adds bias), floor of a floor being the floor of the quotient.
 * ls = 33 - shift below shift 33 (else 0): scaling p and 2^shift by 2^ls leaves the quotient as it is.
 * The hi path is taken when P 2^ls < 2^31 and |H| + |bias| < 2^31 (neither the product, the shifted p,
 * nor SMMLA's sum overflows int32). With int8-range zero points: int8 x int8 down to shift 18, int16 x int8
 * down to about shift 25, int16 x int16 (P up to 65535 32768) from shift 33; upwards to 62 with out_zp 0, and with
 * |out_zp| <= 128 to about 56 (|out_zp| 2^rs < 2^31). Otherwise ("wide": int16 x int16 with zero points
 * far from 0, a smaller shift, or a large shift with an out_zp) the int64 formula per element, as before. */
enum { EXFQ_MUL_HI, EXFQ_MUL_WIDE };

typedef struct {
    int32_t a_zp, b_zp, mult;
    int32_t bias, rs, ls;  /* hi: as above */
    int32_t shift, out_zp; /* wide */
    int32_t path;          /* EXFQ_MUL_* */
} exfq_mul_t;

/* The per-call terms for a (a_bytes) times b (b_bytes): the path and, on the hi path, bias, rs and ls. */
exfq_mul_t exfq_mul_prepare(int32_t a_bytes, int32_t b_bytes, int32_t a_zp, int32_t b_zp, int32_t mult, int32_t shift,
                            int32_t out_zp);

/* The hi path on int8 a and b with Helium (MVE; quant_elementwise_mve.c, compiled only for such cores): rows
 * of n, a's element (r, i) at r ra + i sa (sa 0 or 1), b's likewise, y's at r n + i, y int8 or int16 (yb). */
void exfq_mul_s8_mve(const exfq_mul_t *p, const int8_t *a, int32_t ra, int32_t sa, const int8_t *b, int32_t rb,
                     int32_t sb, void *y, int32_t rows, int32_t n, int32_t yb);

#endif /* EDGEXF_QUANT_MUL_H */
