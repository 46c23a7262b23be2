/* SysTick as a 64-bit tick counter: the 24-bit down-counter at the core clock, extended by the wrap
 * count that startup.c's SysTick_Handler keeps. Shared by platform_semihost.c (the runner's ticks)
 * and the evaluation firmware's BSPs (firmware/bsp/). Registers: Armv7-M ARM, B3.3. */
#ifndef EDGEXF_SYSTICK_H
#define EDGEXF_SYSTICK_H

#include <stdint.h>

#include "startup.h"

#define SYSTICK_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYSTICK_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYSTICK_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYSTICK_ICSR (*(volatile uint32_t *)0xE000ED04u) /* SCB ICSR: PENDSTSET */

#define SYSTICK_CSR_ENABLE (1u << 0)
#define SYSTICK_CSR_TICKINT (1u << 1)
#define SYSTICK_CSR_CLKSOURCE_CORE (1u << 2)
#define SYSTICK_ICSR_PENDSTSET (1u << 26)
#define SYSTICK_ICSR_PENDSTCLR (1u << 25)
#define SYSTICK_RELOAD 0x00FFFFFFu /* the counter is 24 bits: the longest period, fewest interrupts */

/* Starts counting from 0 at the core clock, interrupting once per wrap. */
static inline void systick_start(void)
{
    SYSTICK_RVR = SYSTICK_RELOAD;
    SYSTICK_CVR = 0;
    SYSTICK_CSR = SYSTICK_CSR_ENABLE | SYSTICK_CSR_TICKINT | SYSTICK_CSR_CLKSOURCE_CORE;
}

/* Core clock ticks since systick_start(); monotonic. */
static inline uint64_t systick_ticks(void)
{
    uint32_t wraps, value, pending;
    do {
        wraps = startup_systick_wraps;
        value = SYSTICK_CVR;
        pending = SYSTICK_ICSR & SYSTICK_ICSR_PENDSTSET;
    } while (wraps != startup_systick_wraps);
    /* A wrap whose interrupt has not run yet: count it if `value` was read after the reload
     * (large), not if it was read just before reaching zero (small). */
    if (pending && value > SYSTICK_RELOAD / 2) {
        wraps++;
    }
    /* SysTick counts down */
    return (uint64_t)wraps * (SYSTICK_RELOAD + 1u) + (SYSTICK_RELOAD - value);
}

#endif /* EDGEXF_SYSTICK_H */
