/* Integer row reductions: softmax, layernorm, mean. Arithmetic as in edgexf_kernels.h ("integer
 * kernels"); mirrored by edgexf/ir/kernels_q.py. */
#include "edgexf_kernels.h"
#include "quant_common.h"

void exf_softmax_s8(const int8_t *x, const int32_t *exp_table, int8_t *y, int32_t rows, int32_t n) {
    // x (rows, n) -> y (rows, n), softmax over n, output scale 1/256 and zero point -128
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *xr = x + r * n;
        int8_t *yr = y + r * n;
        int32_t mx = xr[0];
        for (int32_t i = 1; i < n; i++) mx = xr[i] > mx ? xr[i] : mx;
        /* x_i - mx is in [-255, 0], so the index x_i - mx + 255 is in [0, 255] */
        int32_t sum = 0;
        for (int32_t i = 0; i < n; i++) sum += exp_table[xr[i] - mx + 255];
        /* every x_i is read before y_i is written (the lookup is redone), so y may equal x */
        for (int32_t i = 0; i < n; i++) {
            int32_t e = exp_table[xr[i] - mx + 255];
            int32_t p = (e * 256 + sum / 2) / sum; /* round(256 e_i / sum), ties up */
            yr[i] = exfq_clamp_s8(p - 128);
        }
    }
}

/* One row of LayerNorm; q_i = x[i] or x16[i] (exactly one is non-NULL), so the int8 and int16
 * kernels share the arithmetic. */
static inline void layernorm_row(const int8_t *x, const int16_t *x16, const int32_t *gamma,
                                 const int32_t *beta, int8_t *y, int32_t d, int64_t eps_term, int32_t gshift,
                                 int32_t out_zp) {
    int64_t sum = 0, sum_sq = 0;
    for (int32_t i = 0; i < d; i++) {
        int64_t q = x ? x[i] : x16[i];
        sum += q;
        sum_sq += q * q;
    }
    int64_t var = (int64_t)d * sum_sq - sum * sum + eps_term; /* d^2 (variance + eps), >= 0 */
    int64_t inv = 0;
    int32_t s = 1;
    if (var != 0) {
        /* scale var by 4^k to 61-62 bits so its square root r has 31 bits, then inv = 2^61 / r is
         * 1 / sqrt(var) to ~2^-31 relative, times 2^(61 - k) */
        int32_t k = (62 - exfq_bitlen64((uint64_t)var)) / 2;
        uint64_t r = exfq_isqrt64((uint64_t)var << (2 * k));
        inv = exfq_div_2p61(r);
        s = 45 - k; /* z = n * 2^16 / sqrt(var): n * inv carries 2^(61 - k), keep 2^16 */
    }
    const int32_t out_shift = gshift + 16;
    const int64_t half = (int64_t)1 << (out_shift - 1);
    /* q_i is read just before y_i is written, so y may equal x */
    for (int32_t i = 0; i < d; i++) {
        int64_t q = x ? x[i] : x16[i];
        int64_t z = 0;
        if (var != 0) z = (((int64_t)d * q - sum) * inv + ((int64_t)1 << (s - 1))) >> s;
        int64_t v = ((int64_t)gamma[i] * z + (int64_t)beta[i] * 65536 + half) >> out_shift;
        y[i] = exfq_clamp_s8(v + out_zp);
    }
}

void exf_layernorm_s8(const int8_t *x, const int32_t *gamma, const int32_t *beta, int8_t *y, int32_t rows,
                      int32_t d, int64_t eps_term, int32_t gshift, int32_t out_zp) {
    // x (rows, d) int8 -> y (rows, d) int8, normalized over d
    for (int32_t r = 0; r < rows; r++) {
        layernorm_row(x + r * d, NULL, gamma, beta, y + r * d, d, eps_term, gshift, out_zp);
    }
}

void exf_layernorm_s16(const int16_t *x, const int32_t *gamma, const int32_t *beta, int8_t *y, int32_t rows,
                       int32_t d, int64_t eps_term, int32_t gshift, int32_t out_zp) {
    // x (rows, d) int16 -> y (rows, d) int8, normalized over d
    for (int32_t r = 0; r < rows; r++) {
        layernorm_row(NULL, x + r * d, gamma, beta, y + r * d, d, eps_term, gshift, out_zp);
    }
}

void exf_mean_s8(const int8_t *x, int8_t *y, int32_t outer, int32_t n, int32_t inner, int32_t in_zp,
                 int32_t mult, int32_t shift, int32_t out_zp) {
    // x (outer, n, inner) -> y (outer, inner), mean over n
    for (int32_t o = 0; o < outer; o++) {
        for (int32_t i = 0; i < inner; i++) {
            const int8_t *xo = x + o * n * inner + i;
            int32_t acc = 0;
            for (int32_t j = 0; j < n; j++) acc += (int32_t)xo[j * inner] - in_zp;
            y[o * inner + i] = exfq_clamp_s8(exfq_requantize(acc, mult, shift) + out_zp);
        }
    }
}
