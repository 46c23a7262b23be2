/* What the elementwise speed programs (add_speed.c, mul_speed.c; tests/firmware/test_elementwise_speed.py)
 * share: their data, a xorshift32 generator, and int8/int16 element access with saturation. */
#ifndef EDGEXF_SPEED_COMMON_H
#define EDGEXF_SPEED_COMMON_H

#include <stdint.h>

#include "log_num.h"
#include "platform.h"

#define N 3200

static int16_t a[N], b[N], y_ref[N], y_new[N];

static uint32_t rng_state = 0x9E3779B9u;

static uint32_t rng(void) /* xorshift32 */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static int32_t load(const void *p, int32_t bytes, int32_t i)
{
    return bytes == 1 ? ((const int8_t *)p)[i] : ((const int16_t *)p)[i];
}

static void store(void *p, int32_t bytes, int32_t i, int64_t v)
{
    if (bytes == 1) {
        ((int8_t *)p)[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
    } else {
        ((int16_t *)p)[i] = (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
    }
}

/* y_new against y_ref (N elements of y_bytes): MISMATCH and -1 at the first byte that differs, else the
 * line "time NAME elements reference_ticks kernel_ticks" and 0 */
static int32_t compare_and_log(const char *name, int32_t y_bytes, uint64_t reference_ticks, uint64_t kernel_ticks)
{
    const uint8_t *r = (const uint8_t *)y_ref, *n = (const uint8_t *)y_new;
    for (int32_t i = 0; i < N * y_bytes; i++) {
        if (r[i] != n[i]) {
            plat_log("MISMATCH ");
            plat_log(name);
            plat_log("\n");
            return -1;
        }
    }
    plat_log("time ");
    plat_log(name);
    plat_log(" ");
    log_num(N);
    plat_log(" ");
    log_num((int64_t)reference_ticks);
    plat_log(" ");
    log_num((int64_t)kernel_ticks);
    plat_log("\n");
    return 0;
}

#endif /* EDGEXF_SPEED_COMMON_H */
