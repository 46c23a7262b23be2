/* The little the test-vector runner needs from where it runs: files, a clock, a console, exit.
 *
 * platform_host.c: stdio files and clock_gettime (ticks are nanoseconds).
 * platform_semihost.c: semihosting files and SysTick at the core clock (ticks are core clock
 * ticks; under QEMU -icount shift=0 one tick of a 25 MHz core is 40 instructions).
 */
#ifndef EDGEXF_PLATFORM_H
#define EDGEXF_PLATFORM_H

#include <stdint.h>

/* Exit codes of the runner and of the fault handlers, one table for both. 1 is left out because
 * QEMU and the C runtime use it for their own failures. edgexf/run/common.py reads this enum
 * (name = value, comment = meaning): keep one entry per line in that form. */
enum plat_exit_code {
    PLAT_EXIT_OK = 0,               /* all samples ran */
    PLAT_EXIT_NO_INPUT = 2,         /* input.bin could not be opened */
    PLAT_EXIT_BAD_INPUT_SIZE = 3,   /* input.bin is empty or not a whole number of samples */
    PLAT_EXIT_SHORT_READ = 4,       /* input.bin ended early while reading */
    PLAT_EXIT_WRITE_FAILED = 5,     /* output.bin, ticks.bin or profile.bin could not be opened or written */
    PLAT_EXIT_RUN_FAILED = 6,       /* edgexf_run() returned non-zero */
    PLAT_EXIT_CHECK_FAILED = 7,     /* a fast kernel's output differs from the portable one (kernel_check.c) */
    PLAT_EXIT_HARDFAULT = 10,       /* HardFault */
    PLAT_EXIT_MEMMANAGE = 11,       /* MemManage fault (MPU or execute-never) */
    PLAT_EXIT_BUSFAULT = 12,        /* BusFault (access to an invalid address) */
    PLAT_EXIT_USAGEFAULT = 13,      /* UsageFault (undefined instruction, unaligned, divide by 0) */
    PLAT_EXIT_NMI = 14,             /* NMI */
    PLAT_EXIT_UNEXPECTED_IRQ = 15,  /* an interrupt with no handler */
};

typedef int32_t plat_file; /* a handle; negative: none */

void plat_init(void);                                  /* start the clock; call first */
plat_file plat_open_read(const char *name);            /* -1 when missing */
plat_file plat_open_write(const char *name);           /* truncates; -1 on failure */
int32_t plat_read(plat_file f, void *buf, uint32_t n); /* 0 when all n bytes were read */
int32_t plat_write(plat_file f, const void *buf, uint32_t n); /* 0 when all n bytes were written */
int64_t plat_length(plat_file f);                      /* file length in bytes, -1 on failure */
void plat_close(plat_file f);
uint64_t plat_ticks(void);                             /* monotonic; unit: see above */
void plat_log(const char *s);                          /* to the console, as is (no newline added) */
__attribute__((noreturn)) void plat_exit(int32_t code);

#endif /* EDGEXF_PLATFORM_H */
