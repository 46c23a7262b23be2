/* The kernel check's LayerNorm and residual add (kernel_check.h): exf_layernorm_s8 against its twins,
 * exfq_add8_row against exfq_add_row. */
#include "kernel_check.h"
#include "quant_add.h" /* the library's internal add helpers (exfq_add_row, exfq_add8_row) */
#include "quant_common.h" /* the library's internal LayerNorm twin (exfq_layernorm_plain_portable) */

/* exf_layernorm_s8 against exf_layernorm_s16 on the same values (its int16 path is the generic loop, the
 * int8 one a loop of its own per output shift, quant_norm.c): the contract's integers either way. gshift
 * 16..23 crosses the output paths around the int8 loop's (sh 33..38); rows of equal values (V == 0),
 * extreme q and gamma, random beta, eps_term and out_zp. plain: the form without gamma (quant_norm_plain.c,
 * its int8 rows on SMLAWB/SMLAWT sixteen and four at a time, or Helium) against its plain C twin, mult in
 * [2^30, 2^31) and mshift 1..40 (slopes from 0 to the 2^22 ceiling). */
int32_t check_layernorm(int32_t rows, int32_t d, int32_t gshift, int32_t plain)
{
    const int32_t kind = rng() % 4;
    for (int32_t i = 0; i < rows * d; i++) {
        x[i] = (int8_t)(kind == 0 ? 7 : kind == 1 ? (rng() % 2 ? 127 : -128) : (int32_t)rng());
        x16[i] = x[i];
    }
    for (int32_t i = 0; i < d; i++) {
        bias[i] = rng() % 8 == 0 ? (rng() % 2 ? (1 << 30) : -(1 << 30)) : (int32_t)(rng() >> 1) - (1 << 30);
        mult[i] = (int32_t)rng() >> rng_in(0, 16);
    }
    exf_layernorm_q_params_t p = {
        .ln = {.gamma = bias, .beta = mult, .eps_term = rng() % 2 ? 0 : rng() >> rng_in(0, 31),
               .gshift = gshift, .out_zp = rng_in(-128, 127)},
        .rows = rows,
        .d = d,
    };
    if (plain) {
        p.ln.gamma = p.ln.beta = NULL;
        p.ln.mult = (int32_t)((1u << 30) | (rng() >> 2));
        p.ln.mshift = rng_in(1, 40);
    }
    exf_layernorm_s8(&p, x, y_fast);
    if (plain) {
        exfq_layernorm_plain_portable(x, 1, &p.ln, y_portable, rows, d);
    } else {
        exf_layernorm_s16(&p, x16, y_portable);
    }
    for (int32_t i = 0; i < rows * d; i++) {
        if (y_fast[i] != y_portable[i]) {
            log_shape("MISMATCH ", plain ? "exf_layernorm_s8 (no gamma)" : "exf_layernorm_s8", rows, d, gshift);
            plat_log("at element ");
            log_field(i);
            plat_log("\n");
            return -1;
        }
    }
    return 0;
}

/* exfq_add8_row (the token MLP's all-int8 residual add on SMLAD, quant_add.h) against exfq_add_row on the
 * same terms: random zero points, multipliers of either sign up to the int16-halves limit, shifts 16..31,
 * odd n, extreme operands, in place (y == a) every other case. Terms it refuses (ok == 0) are counted
 * and skipped: exfq_add_row handles them. */
int32_t add8_refused;
int32_t check_add8(int32_t n, int32_t in_place)
{
    const int32_t big = rng() % 8 == 0;
    const exf_add_terms_t terms = {
        .a_zp = rng_in(-128, 127), .b_zp = rng_in(-128, 127),
        .ma = big ? (rng() % 2 ? 2147450879 : -2147450880) : (int32_t)rng() >> rng_in(0, 12),
        .mb = (int32_t)rng() >> rng_in(0, 12), .shift = rng_in(16, 31), .out_zp = rng_in(-128, 127),
    };
    const exfq_add_t p = exfq_add_prepare(1, 1, &terms);
    const exfq_add8_t q = exfq_add8_prepare(&p);
    if (!q.ok) {
        add8_refused++;
        return 0;
    }
    int8_t *a = x, *b = x + MAX_K;
    for (int32_t i = 0; i < n; i++) {
        const uint32_t r = rng();
        a[i] = (int8_t)(r % 16 == 0 ? -128 : r % 16 == 1 ? 127 : (int32_t)(r >> 8));
        b[i] = (int8_t)(r % 16 == 2 ? -128 : r % 16 == 3 ? 127 : (int32_t)(r >> 16));
    }
    exfq_add_row(&p, a, 1, 1, b, 1, 1, y_portable, 1, n);
    if (in_place) {
        exfq_add8_row(&q, a, b, a, n);
    } else {
        exfq_add8_row(&q, a, b, y_fast, n);
    }
    const int8_t *got = in_place ? a : y_fast;
    for (int32_t i = 0; i < n; i++) {
        if (got[i] != y_portable[i]) {
            log_shape("MISMATCH ", "exfq_add8_row", n, terms.shift, in_place);
            plat_log("at element ");
            log_field(i);
            plat_log("\n");
            return -1;
        }
    }
    return 0;
}
