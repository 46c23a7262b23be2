/* What the programs that check fast kernels against their portable twins share (kernel_check.c here, whose files share one state: CHECK_RNG_SHARED,
 * tests/firmware/speed_common.h and mm_speed.c): a xorshift32 generator, seeded by CHECK_RNG_SEED where
 * the includer defines it, and the line they log per case, "time NAME COUNT reference_ticks kernel_ticks". */
#ifndef EDGEXF_CHECK_COMMON_H
#define EDGEXF_CHECK_COMMON_H

#include <stdint.h>

#include "log_num.h"
#include "platform.h"

#ifndef CHECK_RNG_SEED
#define CHECK_RNG_SEED 0x2545F491u
#endif

#ifdef CHECK_RNG_SHARED /* a program of several files (kernel_check.h): one state, defined in one of them */
extern uint32_t rng_state;
#else
static uint32_t rng_state = CHECK_RNG_SEED;
#endif

static inline uint32_t rng(void) /* xorshift32 */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static inline void log_case_time(const char *name, int64_t count, uint64_t reference_ticks, uint64_t kernel_ticks)
{
    plat_log("time ");
    plat_log(name);
    plat_log(" ");
    log_num(count);
    plat_log(" ");
    log_num((int64_t)reference_ticks);
    plat_log(" ");
    log_num((int64_t)kernel_ticks);
    plat_log("\n");
}

#endif /* EDGEXF_CHECK_COMMON_H */
