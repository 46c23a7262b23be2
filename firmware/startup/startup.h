/* Cortex-M start-up (startup.c): what other firmware files may use from it, and the two hooks it
 * needs from the program it starts. */
#ifndef EDGEXF_STARTUP_H
#define EDGEXF_STARTUP_H

#include <stdint.h>

/* SysTick wrap count, incremented by SysTick_Handler: with the 24-bit counter it makes a 64-bit
 * tick count (systick.h). */
extern volatile uint32_t startup_systick_wraps;

/* Hooks the program provides, so start-up code needs no console of its own:
 *   semihosting builds (platform_semihost.c): the semihosting console, and QEMU exits with `code`
 *     (platform.h's codes);
 *   the evaluation firmware (eval_app.c): the report as a LOG frame over the UART, then it stops.
 * startup_exit gets main's return value; startup_fault a fault report (one line, ending in '\n')
 * and platform.h's exit code for that fault. Neither returns. */
__attribute__((noreturn)) void startup_exit(int32_t code);
__attribute__((noreturn)) void startup_fault(const char *report, int32_t code);

#endif /* EDGEXF_STARTUP_H */
