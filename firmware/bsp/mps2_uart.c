/* BSP for Arm's MPS2 FPGA images as QEMU emulates them (mps2-an500: Cortex-M7; mps2-an386: Cortex-M4),
 * and the MPS3 AN547 (Cortex-M55) with its defines (boards/mps3-an547.toml):
 * CMSDK UART0 (mps2: 0x40004000), polled; SysTick at the fixed system clock (mps2: 25 MHz). There are no clocks
 * to set up and no caches to turn on (QEMU models none). Boards without an STM32 machine in QEMU
 * (the STM32F7s) run their emulated evaluation firmware on this (board files: [emulator] bsp).
 */
#include <stdint.h>

#include "bsp.h"

#ifdef BSP_EXTERNAL_SETUP
#error "the mps2_uart driver sets up no external memory (it never calls bsp_external_setup): weights in external flash need a driver that does, such as stm32f7"
#endif
#include "cortex_m.h"

/* Defaults: mps2's; the MPS3 AN547 (Cortex-M55, same CMSDK UART) passes its own through the board
 * file's [bsp.defines]: UART0 at its Secure alias 0x59303000, SysTick at 32 MHz. */
#ifdef BSP_CLOCK_HZ
#define MPS2_CLOCK_HZ ((uint32_t)BSP_CLOCK_HZ)
#else
#define MPS2_CLOCK_HZ 25000000u
#endif

/* CMSDK APB UART (Arm DDI 0479, 4.3) */
#ifdef BSP_UART0_BASE
#define UART0_BASE ((uint32_t)BSP_UART0_BASE)
#else
#define UART0_BASE 0x40004000u
#endif
#define UART_DATA REG32(UART0_BASE + 0x00u)
#define UART_STATE REG32(UART0_BASE + 0x04u)
#define UART_CTRL REG32(UART0_BASE + 0x08u)
#define UART_BAUDDIV REG32(UART0_BASE + 0x10u)
#define UART_STATE_TXFULL (1u << 0)
#define UART_STATE_RXFULL (1u << 1)
#define UART_STATE_RXOVERRUN (1u << 3) /* write 1 to clear */
#define UART_CTRL_TXEN (1u << 0)
#define UART_CTRL_RXEN (1u << 1)
#define UART_BAUD 115200u

static uint8_t counter_kind;

void bsp_init(void)
{
    UART_BAUDDIV = MPS2_CLOCK_HZ / UART_BAUD; /* 217; QEMU ignores it, the FPGA does not */
    UART_CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN;
    counter_kind = cortex_counter_start();
}

/* TXFULL is not bounded: under QEMU a host that reads slowly holds it, which must not drop bytes. */
void bsp_uart_write(const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        while (UART_STATE & UART_STATE_TXFULL) {
        }
        UART_DATA = p[i];
    }
}

int32_t bsp_uart_read(void)
{
    const uint32_t state = UART_STATE;
    if (state & UART_STATE_RXOVERRUN) {
        UART_STATE = UART_STATE_RXOVERRUN;
    }
    if (!(state & UART_STATE_RXFULL)) {
        return -1;
    }
    return (int32_t)(UART_DATA & 0xFFu);
}

uint64_t bsp_counter(void) { return cortex_counter(counter_kind); }

void bsp_counter_restart(void) { cortex_counter_restart(counter_kind); }

void bsp_info(bsp_info_t *info)
{
    info->cpuid = SCB_CPUID;
    info->clock_hz = MPS2_CLOCK_HZ;
    info->flags = 0;
    info->counter_kind = counter_kind;
#ifdef EDGEXF_EMULATED
    info->counter_hz = EDGEXF_EMULATOR_CLOCK_HZ;
#else
    info->counter_hz = MPS2_CLOCK_HZ;
#endif
    info->note = "";
}
