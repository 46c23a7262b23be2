/* Cortex-M start-up (startup.c): what other firmware files may use from it. */
#ifndef EDGEXF_STARTUP_H
#define EDGEXF_STARTUP_H

#include <stdint.h>

/* SysTick wrap count, incremented by SysTick_Handler: with the 24-bit counter it makes a 64-bit
 * tick count (platform_semihost.c). */
extern volatile uint32_t startup_systick_wraps;

#endif /* EDGEXF_STARTUP_H */
