/* The kernel check's shared buffers and helpers (kernel_check.h): operands, outputs, the generator state,
 * random operands and the log lines. */
#include "kernel_check.h"

uint32_t rng_state = CHECK_RNG_SEED;

int8_t x[MAX_ROWS * MAX_K];
int8_t w[3 * MAX_W] __attribute__((aligned(8)));
int32_t bias[MAX_M], mult[MAX_M], shift[MAX_M];
int8_t y_portable[MAX_ROWS * MAX_M] __attribute__((aligned(8))), y_fast[MAX_ROWS * MAX_M] __attribute__((aligned(8)));
uint32_t scratch[EXF_DSP_BLOCK_ROWS * MAX_K / 4 * 2];
int16_t x16[MAX_Q_ROWS * MAX_K];

int32_t rng_in(int32_t lo, int32_t hi) { return lo + (int32_t)(rng() % (uint32_t)(hi - lo + 1)); }

void log_field(int64_t v) /* the number and a space */
{
    log_num(v);
    plat_log(" ");
}

void log_shape(const char *what, const char *kernel, int32_t rows, int32_t k, int32_t m)
{
    plat_log(what);
    plat_log(kernel);
    plat_log(" ");
    log_field(rows);
    log_field(k);
    log_field(m);
}

/* Random operands; shifts from lo to hi: random shapes take both below 33 and from 33 up (the fast
 * requantizations' paths), timed ones 33 to 46, as the example ViTs do. */
void fill(int32_t rows, int32_t k, int32_t m, int32_t lo, int32_t hi)
{
    for (int32_t i = 0; i < rows * k; i++) x[i] = (int8_t)rng();
    for (int32_t i = 0; i < m * k; i++) w[i] = (int8_t)rng();
    for (int32_t j = 0; j < m; j++) {
        bias[j] = rng_in(-100000, 100000);
        mult[j] = rng_in(1 << 29, 0x7FFFFFFF) * (rng() % 8 == 0 ? -1 : 1);
        shift[j] = rng_in(lo, hi);
    }
}

int32_t compare(const char *kernel, int32_t rows, int32_t k, int32_t m, const int8_t *fast)
{
    for (int32_t i = 0; i < rows * m; i++) {
        if (y_portable[i] != fast[i]) {
            log_shape("MISMATCH ", kernel, rows, k, m);
            plat_log("at element ");
            log_field(i);
            plat_log("\n");
            return -1;
        }
    }
    return 0;
}

void log_time(const char *kernel, int32_t rows, int32_t k, int32_t m, uint64_t portable, uint64_t fast)
{
    log_shape("time ", kernel, rows, k, m);
    log_field((int64_t)portable);
    log_field((int64_t)fast);
    plat_log("\n");
}

/* A zero point: an extreme one (-128, 127) half of the time, else any int8. */
int32_t rng_zp(void) { return rng() % 2 ? (rng() % 2 ? -128 : 127) : rng_in(-128, 127); }
