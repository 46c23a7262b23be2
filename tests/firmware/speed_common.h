/* What the elementwise speed programs (add_speed.c, mul_speed.c; tests/firmware/test_elementwise_speed.py)
 * share: their data (the generator and the time line: firmware/app/check_common.h), and int8/int16 element access with saturation. */
#ifndef EDGEXF_SPEED_COMMON_H
#define EDGEXF_SPEED_COMMON_H

#include <stdint.h>

#define CHECK_RNG_SEED 0x9E3779B9u
#include "check_common.h"

#define N 3200

static int16_t a[N], b[N], y_ref[N], y_new[N];


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
    log_case_time(name, N, reference_ticks, kernel_ticks);
    return 0;
}

#endif /* EDGEXF_SPEED_COMMON_H */
