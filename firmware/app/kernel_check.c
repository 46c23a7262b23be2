/* Kernel check: runs each fast kernel (_dsp, and exf_linear_s8_w16 with its weights packed here) and its
 * portable twin (for exf_layernorm_s8's own loop: exf_layernorm_s16 on the same values) on the same random
 * data, over
 * on random shapes (odd sizes and tails included) and over the shapes of the example ViTs; exits
 * PLAT_EXIT_CHECK_FAILED at the first output byte that differs, naming the kernel and the shape.
 * For the fixed shapes it also logs both kernels' ticks, one line each:
 *   time KERNEL rows k m portable_ticks fast_ticks
 * (for exf_attention_s8_dsp: time KERNEL t heads dh portable_ticks fast_ticks scratch_bytes).
 * Build: edgexf/targets/toolchain.py build_kernel_check (host gcc, or a board / QEMU image).
 */
#include "kernel_check.h"

/* (c, nh, nw, p, d, y_bytes) timed with a class token, position embedding and bias: the MNIST ViT's
 * (28 x 28 in 4 x 4 patches, D 64, int8 and int16 tokens), and 28 x 28 in 7 x 7 patches */
static const int32_t TIMED_PATCH[][6] = {{1, 7, 7, 4, 64, 1}, {1, 7, 7, 4, 64, 2}, {1, 4, 4, 7, 64, 1}};

/* (t, heads, dh) of the example ViTs' attention: digits (17 tokens, 4 heads of 12), MNIST (50, 4 x 16),
 * two heads of 32, large (197 tokens capped at MAX_T, 8 x 16) */
static const int32_t TIMED_ATTENTION[][3] = {{17, 4, 12}, {50, 4, 16}, {50, 2, 32}, {64, 8, 16}};

/* (rows, k, m) of the example ViTs' linear layers: digits (17 tokens, D 32), MNIST (50, D 64),
 * large (197, D 128; rows capped at MAX_ROWS); one row of 64 to 10 (a head) and Mamba's dt_proj (2 to 64) */
static const int32_t TIMED[][3] = {
    {17, 32, 96}, {17, 32, 32}, {17, 32, 64}, {17, 64, 32},     {50, 64, 192}, {50, 64, 64},
    {50, 64, 128}, {50, 128, 64}, {64, 128, 384}, {64, 128, 256}, {64, 256, 128}, {1, 64, 10}, {1, 2, 64},
};

/* (rows, k, m) of the recurrent examples' int16-state linear layers, one step (one row) each, and the
 * LMU's memory layer (32 rows of 16 to 16) */
static const int32_t TIMED_Q[][3] = {{1, 64, 192}, {1, 256, 64}, {1, 128, 128}, {1, 384, 64}, {32, 16, 16}};

int main(void)
{
    plat_init();
    for (uint32_t i = 0; i < sizeof TIMED / sizeof TIMED[0]; i++) {
        if (check_linear(TIMED[i][0], TIMED[i][1], TIMED[i][2], 1) != 0) {
            plat_exit(PLAT_EXIT_CHECK_FAILED);
        }
    }
    for (uint32_t i = 0; i < sizeof TIMED_Q / sizeof TIMED_Q[0]; i++) {
        for (int32_t entry = 1; entry <= (TIMED_Q[i][0] >= 2 ? 2 : 1); entry++) { /* rows: both entries */
            if (check_linear_q(TIMED_Q[i][0], TIMED_Q[i][1], TIMED_Q[i][2], 2, 2, entry) != 0) {
                plat_exit(PLAT_EXIT_CHECK_FAILED);
            }
        }
    }
    for (uint32_t i = 0; i < sizeof TIMED_ATTENTION / sizeof TIMED_ATTENTION[0]; i++) {
        const int32_t *s = TIMED_ATTENTION[i];
        if (check_attention(s[0], s[1], s[2], 1) != 0) {
            plat_exit(PLAT_EXIT_CHECK_FAILED);
        }
    }
    for (int32_t c = 0; c < RANDOM_CASES; c++) { /* the first 16: rows 2-7 (blocks of three and two, an odd
                                                      * last row), k 1-16 (1-4 groups: each entry of the w16
                                                      * blocks' four-group loop) */
        const int32_t rows = c < 16 ? 2 + c % 6 : rng_in(1, 13), k = c < 16 ? c + 1 : rng_in(1, 70);
        const int32_t m = rng_in(1, 20);
        if (check_linear(rows, k, m, 0) != 0) {
            plat_exit(PLAT_EXIT_CHECK_FAILED);
        }
    }
    for (int32_t c = 0; c < RANDOM_CASES; c++) { /* every x and y type, odd rows, k and m */
        const int32_t rows = rng_in(1, 7), k = rng_in(1, 70), m = rng_in(1, 20);
        if (check_linear_q(rows, k, m, 1 + c % 2, 1 + (c / 2) % 2, 0) != 0) {
            plat_exit(PLAT_EXIT_CHECK_FAILED);
        }
    }
    for (int32_t c = 0; c < RANDOM_ATTENTION_CASES; c++) { /* odd t, dh of every residue mod 4 */
        const int32_t t = c < 8 ? c + 1 : rng_in(1, MAX_T), dh = c < 40 ? c % MAX_DH + 1 : rng_in(1, MAX_DH);
        const int32_t heads = rng_in(1, MAX_D / dh < 4 ? MAX_D / dh : 4);
        if (check_attention(t, heads, dh, 0) != 0) {
            plat_exit(PLAT_EXIT_CHECK_FAILED);
        }
    }
    for (uint32_t i = 0; i < sizeof TIMED_PATCH / sizeof TIMED_PATCH[0]; i++) {
        const int32_t *s = TIMED_PATCH[i];
        if (check_patch(s[0], s[1], s[2], s[3], s[4], 1, 1, 1, s[5], 1) != 0) {
            plat_exit(PLAT_EXIT_CHECK_FAILED);
        }
    }
    for (int32_t n = 0; n < RANDOM_PATCH_CASES; n++) { /* p 1..8, odd and even patch counts and d */
        const int32_t p = n < 8 ? n + 1 : rng_in(1, 8), c = rng_in(1, 3), nw = rng_in(1, 8);
        const int32_t nh = rng_in(1, MAX_PATCHES / nw < 8 ? MAX_PATCHES / nw : 8), d = rng_in(1, 40);
        const int32_t has_pos = n < 8 || rng() % 2; /* the first eight: the edge shifts of the position add */
        if (check_patch(c, nh, nw, p, d, rng() % 2, has_pos, rng() % 4 != 0, rng() % 2 ? 1 : 2, 0) != 0) {
            plat_exit(PLAT_EXIT_CHECK_FAILED);
        }
    }
    for (int32_t c = 0; c < RANDOM_LN_CASES; c++) { /* d 1..MAX_M: odd, tails of four */
        const int32_t d = c < 16 ? c / 2 + 1 : rng_in(1, MAX_M);
        if (check_layernorm(rng_in(1, MAX_Q_ROWS), d, 16 + c % 8, c % 2) != 0) {
            plat_exit(PLAT_EXIT_CHECK_FAILED);
        }
    }
    for (int32_t c = 0; c < RANDOM_ADD_CASES; c++) {
        if (check_add8(c < 8 ? c + 1 : rng_in(1, MAX_K), c % 2) != 0) {
            plat_exit(PLAT_EXIT_CHECK_FAILED);
        }
    }
    if (add8_refused > RANDOM_ADD_CASES / 4) { /* the check must check: most random terms are taken */
        log_shape("TOO FEW ", "exfq_add8_row", add8_refused, RANDOM_ADD_CASES, 0);
        plat_exit(PLAT_EXIT_CHECK_FAILED);
    }
    plat_log("kernel check: all outputs equal\n");
    plat_exit(PLAT_EXIT_OK);
}
