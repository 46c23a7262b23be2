/* What every Armv7-M BSP shares: CPUID, bounded register waits, the cycle/tick counter, the Cortex-M7
 * L1 caches and MPU regions. Registers from the Armv7-M Architecture Reference Manual (B3.2 SCB, C1.8
 * DWT, B2.2.7 cache maintenance, B3.5 MPU) and the Cortex-M7 TRM. Static inline: each driver includes
 * what it uses. */
#ifndef EDGEXF_CORTEX_M_H
#define EDGEXF_CORTEX_M_H

#include <stdint.h>

#include "bsp.h"
#include "systick.h"

#define REG32(addr) (*(volatile uint32_t *)(addr))

#define SCB_CPUID REG32(0xE000ED00u)
#define SCB_CCR REG32(0xE000ED14u)
#define SCB_CCR_DC (1u << 16) /* D-cache enable */
#define SCB_CCR_IC (1u << 17) /* I-cache enable */
#define SCB_CCSIDR REG32(0xE000ED80u) /* geometry of the cache CSSELR selects */
#define SCB_CSSELR REG32(0xE000ED84u)
#define SCB_ICIALLU REG32(0xE000EF50u) /* invalidate the whole I-cache */
#define SCB_DCISW REG32(0xE000EF60u)   /* invalidate a D-cache line by set and way */

#define DEMCR REG32(0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24) /* powers the DWT */
#define DWT_CTRL REG32(0xE0001000u)
#define DWT_CTRL_CYCCNTENA (1u << 0)
#define DWT_CYCCNT REG32(0xE0001004u)
#define DWT_LAR REG32(0xE0001FB0u) /* lock access: the Cortex-M7 ignores DWT writes until unlocked */
#define DWT_LAR_KEY 0xC5ACCE55u

/* Register polls give up after this many reads: about 0.1 s on a 16 MHz reset clock (ST's HAL
 * waits 100 ms for the HSE, which typically starts in 2 ms), under 0.1 s of real time in QEMU. */
#define BSP_WAIT_POLLS 250000u

/* 0 once (*reg & mask) == want within `polls` reads, -1 when it never came true. */
static inline int bsp_wait_polls(volatile uint32_t *reg, uint32_t mask, uint32_t want, uint32_t polls)
{
    for (uint32_t i = 0; i < polls; i++) {
        if ((*reg & mask) == want) {
            return 0;
        }
    }
    return -1;
}

static inline int bsp_wait(volatile uint32_t *reg, uint32_t mask, uint32_t want)
{
    return bsp_wait_polls(reg, mask, want, BSP_WAIT_POLLS);
}

static inline void cortex_barriers(void)
{
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

/* ---- counter ---------------------------------------------------------------------------------- */
/* Starts SysTick (always: its wraps extend the count to 64 bits) and, on a board, the DWT cycle
 * counter if it counts (QEMU's DWT reads 0; so may a core without one). Returns the counter kind. */
static inline uint8_t cortex_counter_start(void)
{
    systick_start();
#ifdef EDGEXF_EMULATED
    return BSP_COUNTER_QEMU_SYSTICK;
#else
    DEMCR |= DEMCR_TRCENA;
    DWT_LAR = DWT_LAR_KEY;
    DWT_CYCCNT = 0;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
    for (volatile int i = 0; i < 16; i++) {
    }
    return DWT_CYCCNT != 0 ? BSP_COUNTER_DWT : BSP_COUNTER_SYSTICK;
#endif
}

/* Starts the count again from 0, on a tick edge. Under QEMU the phase of SysTick's ticks relative
 * to the program is wherever the host's last byte happened to arrive (real time), so equal runs
 * counted one tick apart; a write to CVR restarts the period there (B3.3.3: it clears the counter,
 * which reloads on the next tick), and the instructions from here on are the same every time. */
static inline void cortex_counter_restart(uint8_t kind)
{
    SYSTICK_CSR = 0;
    SYSTICK_ICSR = SYSTICK_ICSR_PENDSTCLR;
    startup_systick_wraps = 0;
    systick_start();
    while (SYSTICK_CVR == 0) { /* until the first reload, one tick: then the count is RELOAD - CVR */
    }
    if (kind == BSP_COUNTER_DWT) {
        DWT_CYCCNT = 0;
    }
}

/* The count since cortex_counter_start() or _restart(). SysTick and CYCCNT both count core cycles from (almost)
 * the same moment, so the 64-bit SysTick count gives the high bits and CYCCNT the exact low 32:
 * their difference stays far below 2^31 cycles, and no run, however long, wraps. */
static inline uint64_t cortex_counter(uint8_t kind)
{
    const uint64_t ticks = systick_ticks();
    if (kind != BSP_COUNTER_DWT) {
        return ticks;
    }
    const uint32_t cycles = DWT_CYCCNT;
    return ticks + (uint64_t)(int64_t)(int32_t)(cycles - (uint32_t)ticks);
}

/* ---- Cortex-M7 L1 caches (the Armv7-M sequence: invalidate, barriers, enable) ------------------ */
static inline void cortex_m7_enable_icache(void)
{
    cortex_barriers();
    SCB_ICIALLU = 0;
    cortex_barriers();
    SCB_CCR |= SCB_CCR_IC;
    cortex_barriers();
}

static inline void cortex_m7_enable_dcache(void)
{
    SCB_CSSELR = 0; /* level 1, data cache */
    cortex_barriers();
    const uint32_t ccsidr = SCB_CCSIDR;
    const uint32_t sets = ((ccsidr >> 13) & 0x7FFFu) + 1u;
    const uint32_t ways = ((ccsidr >> 3) & 0x3FFu) + 1u;
    const uint32_t set_shift = (ccsidr & 0x7u) + 4u; /* log2(line bytes) */
    const uint32_t way_shift = ways > 1u ? (uint32_t)__builtin_clz(ways - 1u) : 0u;
    for (uint32_t set = 0; set < sets; set++) {
        for (uint32_t way = 0; way < ways; way++) {
            SCB_DCISW = (set << set_shift) | (ways > 1u ? way << way_shift : 0u);
        }
    }
    cortex_barriers();
    SCB_CCR |= SCB_CCR_DC;
    cortex_barriers();
}

static inline uint8_t cortex_m7_cache_flags(void)
{
    const uint32_t ccr = SCB_CCR;
    return (uint8_t)(((ccr & SCB_CCR_IC) ? BSP_FLAG_ICACHE : 0u) | ((ccr & SCB_CCR_DC) ? BSP_FLAG_DCACHE : 0u));
}

/* ---- MPU (Armv7-M B3.5): one region at a time, the default map behind them ----------------------- */
#define MPU_CTRL REG32(0xE000ED94u)
#define MPU_RNR REG32(0xE000ED98u)
#define MPU_RBAR REG32(0xE000ED9Cu)
#define MPU_RASR REG32(0xE000EDA0u)
#define MPU_CTRL_ENABLE (1u << 0)
#define MPU_CTRL_PRIVDEFENA (1u << 2) /* privileged code sees the default map where no region applies */
#define MPU_RASR_ENABLE (1u << 0)
#define MPU_RASR_SIZE(log2_bytes) (((uint32_t)(log2_bytes) - 1u) << 1) /* 2^log2_bytes, base aligned to it */
#define MPU_RASR_XN (1u << 28)                                          /* never executed */
#define MPU_RASR_AP_NONE (0u << 24)
#define MPU_RASR_AP_READ_ONLY (6u << 24) /* read-only, privileged and unprivileged */
#define MPU_RASR_STRONGLY_ORDERED 0u     /* TEX 000, C 0, B 0: no speculative reads, no caching */
#define MPU_RASR_NORMAL_WT (1u << 17)    /* TEX 000, C 1, B 0, not shareable: normal memory, cached write-through */
#define MPU_RASR_AP_READ_WRITE (3u << 24) /* full access */
#define MPU_RASR_NORMAL_WB (1u << 17 | 1u << 16) /* TEX 000, C 1, B 1: normal memory, cached write-back */

/* Sets region `n` (a higher number wins where regions overlap) and turns the MPU on with the default
 * memory map as the background for privileged code (the evaluation firmware never leaves privileged
 * thread mode). The MPU is off while the region changes, so no access sees half a region. */
static inline void cortex_mpu_region(uint32_t n, uint32_t base, uint32_t rasr)
{
    __asm__ volatile("dmb" ::: "memory");
    MPU_CTRL = 0;
    MPU_RNR = n;
    MPU_RBAR = base;
    MPU_RASR = rasr;
    MPU_CTRL = MPU_CTRL_ENABLE | MPU_CTRL_PRIVDEFENA;
    cortex_barriers();
}

#endif /* EDGEXF_CORTEX_M_H */
