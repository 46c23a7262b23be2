/* Board support for the evaluation firmware (firmware/app/eval_app.c): clocks, caches, one UART,
 * a cycle or tick counter. One driver per chip family, firmware/bsp/<driver>.c, chosen by the board
 * file's [bsp] driver (or [emulator] bsp for the emulated build) and parameterized by its [bsp]
 * defines, which arrive as -DBSP_<NAME>=<value> (see edgexf/targets/boards.py).
 *
 * Drivers are polled: no interrupt other than SysTick is enabled (startup.c's vector table has the
 * 16 system exceptions only). Every wait on the hardware is bounded, so a clock that does not start
 * leaves the board on its reset clock with a note, never hung.
 */
#ifndef EDGEXF_BSP_H
#define EDGEXF_BSP_H

#include <stdint.h>

/* DEVICE_INFO's counter kinds (docs/eval_protocol.md) */
enum bsp_counter_kind {
    BSP_COUNTER_DWT = 1,          /* DWT CYCCNT: core cycles */
    BSP_COUNTER_SYSTICK = 2,      /* SysTick at the core clock */
    BSP_COUNTER_QEMU_SYSTICK = 3, /* SysTick under QEMU -icount shift=0: ticks of 1e9/Hz instructions */
};

/* DEVICE_INFO's flags */
#define BSP_FLAG_ICACHE (1u << 0)
#define BSP_FLAG_DCACHE (1u << 1)
#define BSP_FLAG_EMULATED (1u << 2)

typedef struct {
    uint32_t cpuid;      /* SCB CPUID */
    uint32_t clock_hz;   /* core clock as configured */
    uint8_t flags;       /* BSP_FLAG_*: what is on */
    uint8_t counter_kind; /* enum bsp_counter_kind */
    uint32_t counter_hz; /* bsp_counter() ticks per second */
    const char *note;    /* what did not go as planned (e.g. HSE did not start), or "" */
} bsp_info_t;

void bsp_init(void);                               /* first thing in main: clocks, caches, UART, counter */
void bsp_uart_write(const uint8_t *p, uint32_t n); /* blocking until every byte is in the UART */
int32_t bsp_uart_read(void);                       /* a waiting byte 0..255, or -1 when none (non-blocking) */
uint64_t bsp_counter(void);                        /* monotonic, bsp_info_t.counter_hz ticks per second */
void bsp_counter_restart(void); /* from 0 on a tick edge, before a measured run: equal runs, equal counts */
void bsp_info(bsp_info_t *info);                   /* DEVICE_INFO's figures (the app adds the board name) */

/* The board's external memories that the build uses (a QSPI flash with weights, an SDRAM with the
 * arena), made usable where they are linked. Each memory's set-up file (firmware/bsp/external/<setup>.c,
 * named by the board file's [[external]] setup) defines `const char *<setup>_setup(uint32_t hclk_hz)`;
 * edgexf writes bsp_external_setup into the board's evaluation firmware (external_setup.c, calling those
 * of the memories the build places something in, in the board file's order) and builds it with
 * -DBSP_EXTERNAL_SETUP only when there is one. The driver's bsp_init then calls it once the clocks run
 * (hclk_hz: the AHB clock they gave), before the caches are on. Returns "" or a note for DEVICE_INFO (the
 * first set-up that failed; what it holds is then unusable). Drivers that do not call it refuse
 * BSP_EXTERNAL_SETUP at compile time. */
#ifdef BSP_EXTERNAL_SETUP
const char *bsp_external_setup(uint32_t hclk_hz);
#endif

/* Under QEMU the counter runs at the emulated machine's SysTick clock (its board file's
 * [emulator] cpu_clock_hz, which eval_build passes in), whatever the firmware set its clocks to. */
#ifdef EDGEXF_EMULATED
#ifndef EDGEXF_EMULATOR_CLOCK_HZ
#error "EDGEXF_EMULATED builds need -DEDGEXF_EMULATOR_CLOCK_HZ=<[emulator] cpu_clock_hz> (eval_build.py passes it)"
#endif
#endif

#endif /* EDGEXF_BSP_H */
