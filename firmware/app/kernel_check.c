/* Kernel check: runs each fast kernel (_dsp) and its portable twin on the same random data, over
 * random shapes (odd sizes and tails included) and over the shapes of the example ViTs; exits
 * PLAT_EXIT_CHECK_FAILED at the first output byte that differs, naming the kernel and the shape.
 * For the fixed shapes it also logs both kernels' ticks, one line each:
 *   time KERNEL rows k m portable_ticks fast_ticks
 * Build: edgexf/targets/toolchain.py build_kernel_check (host gcc, or a board / QEMU image).
 */
#include "edgexf_kernels.h"
#include "platform.h"
#include "log_num.h"

#define MAX_ROWS 64
#define MAX_K 512
#define MAX_M 384
#define RANDOM_CASES 300

static int8_t x[MAX_ROWS * MAX_K];
static int8_t w[MAX_M * MAX_K];
static int32_t bias[MAX_M], mult[MAX_M], shift[MAX_M];
static int8_t y_portable[MAX_ROWS * MAX_M], y_fast[MAX_ROWS * MAX_M];
static uint32_t scratch[EXF_DSP_BLOCK_ROWS * MAX_K / 4 * 2];

static uint32_t rng_state = 0x2545F491u;

static uint32_t rng(void) /* xorshift32 */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static int32_t rng_in(int32_t lo, int32_t hi) { return lo + (int32_t)(rng() % (uint32_t)(hi - lo + 1)); }

static void log_field(int64_t v) /* the number and a space */
{
    log_num(v);
    plat_log(" ");
}

static void log_shape(const char *what, const char *kernel, int32_t rows, int32_t k, int32_t m)
{
    plat_log(what);
    plat_log(kernel);
    plat_log(" ");
    log_field(rows);
    log_field(k);
    log_field(m);
}

/* Random operands; shifts both below 32 and from 32 up (the fast requantization's two paths). */
static void fill(int32_t rows, int32_t k, int32_t m)
{
    for (int32_t i = 0; i < rows * k; i++) x[i] = (int8_t)rng();
    for (int32_t i = 0; i < m * k; i++) w[i] = (int8_t)rng();
    for (int32_t j = 0; j < m; j++) {
        bias[j] = rng_in(-100000, 100000);
        mult[j] = rng_in(1 << 29, 0x7FFFFFFF) * (rng() % 8 == 0 ? -1 : 1);
        shift[j] = rng_in(24, 46);
    }
}

static int32_t check_linear(int32_t rows, int32_t k, int32_t m, int32_t timed)
{
    fill(rows, k, m);
    const int32_t out_zp = rng_in(-128, 127);
    const int32_t *b = rng() % 4 == 0 ? NULL : bias;
    uint64_t t0 = plat_ticks();
    exf_linear_s8(x, w, b, mult, shift, y_portable, rows, k, m, out_zp);
    uint64_t t1 = plat_ticks();
    exf_linear_s8_dsp(x, w, b, mult, shift, y_fast, rows, k, m, out_zp, scratch);
    uint64_t t2 = plat_ticks();
#ifdef KERNEL_CHECK_SELFTEST /* tests/firmware/test_kernels_dsp.py: a wrong byte must be caught */
    y_fast[(rows * m) / 2] ^= 1;
#endif
    for (int32_t i = 0; i < rows * m; i++) {
        if (y_portable[i] != y_fast[i]) {
            log_shape("MISMATCH ", "exf_linear_s8_dsp", rows, k, m);
            plat_log("at element ");
            log_field(i);
            plat_log("\n");
            return -1;
        }
    }
    if (timed) {
        log_shape("time ", "exf_linear_s8_dsp", rows, k, m);
        log_field((int64_t)(t1 - t0));
        log_field((int64_t)(t2 - t1));
        plat_log("\n");
    }
    return 0;
}

/* (rows, k, m) of the example ViTs' linear layers: digits (17 tokens, D 32), MNIST (50, D 64),
 * large (197, D 128; rows capped at MAX_ROWS) */
static const int32_t TIMED[][3] = {
    {17, 32, 96}, {17, 32, 32}, {17, 32, 64}, {17, 64, 32},     {50, 64, 192}, {50, 64, 64},
    {50, 64, 128}, {50, 128, 64}, {64, 128, 384}, {64, 128, 256}, {64, 256, 128}, {1, 64, 10},
};

int main(void)
{
    plat_init();
    for (uint32_t i = 0; i < sizeof TIMED / sizeof TIMED[0]; i++) {
        if (check_linear(TIMED[i][0], TIMED[i][1], TIMED[i][2], 1) != 0) {
            plat_exit(PLAT_EXIT_CHECK_FAILED);
        }
    }
    for (int32_t c = 0; c < RANDOM_CASES; c++) {
        const int32_t rows = rng_in(1, 13), k = rng_in(1, 70), m = rng_in(1, 20);
        if (check_linear(rows, k, m, 0) != 0) {
            plat_exit(PLAT_EXIT_CHECK_FAILED);
        }
    }
    plat_log("kernel check: all outputs equal\n");
    plat_exit(PLAT_EXIT_OK);
}
