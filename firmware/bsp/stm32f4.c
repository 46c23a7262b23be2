/* BSP for the STM32F405/407 (RM0090): HSE -> PLL -> SYSCLK (168 MHz with the board files' defines),
 * flash wait states with prefetch and the flash caches, one USART polled, DWT cycles or SysTick.
 *
 * Also runs under QEMU's netduinoplus2 (an STM32F405), whose RCC is not emulated: its registers read
 * 0, so HSE never reports ready, the bounded wait gives up and the board stays on the 16 MHz HSI,
 * which DEVICE_INFO's note says. QEMU's USART1 works as on the chip; its DWT reads 0 (SysTick it is).
 */
#include <stdint.h>

#include "bsp.h"

#ifdef BSP_EXTERNAL_SETUP
#error "the stm32f4 driver sets up no external memory (it never calls bsp_external_setup): weights in external flash need a driver that does, such as stm32f7"
#endif

#define STM32_SYSCLK_MAX_HZ 168000000u
#define STM32_APB1_MAX_HZ 42000000u
#define STM32_APB2_MAX_HZ 84000000u
#define STM32_FLASH_WS_MAX 7
#define STM32_UARTS 6
#include "stm32_common.h"

/* ---- flash interface (0x40023C00) ------------------------------------------------------------- */
#define FLASH_ACR REG32(0x40023C00u)
#define FLASH_ACR_LATENCY_MASK 0x7u
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN (1u << 9) /* flash instruction cache (ART) */
#define FLASH_ACR_DCEN (1u << 10) /* flash data cache (ART) */

/* ---- USART (SR/DR/BRR/CR1) --------------------------------------------------------------------- */
#define USART_SR REG32(STM32_USART_BASE + 0x00u)
#define USART_DR REG32(STM32_USART_BASE + 0x04u)
#define USART_BRR REG32(STM32_USART_BASE + 0x08u)
#define USART_CR1 REG32(STM32_USART_BASE + 0x0Cu)
#define USART_SR_RXNE (1u << 5)
#define USART_SR_TXE (1u << 7)
#define USART_CR1_RE (1u << 2)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_UE (1u << 13)

static stm32_clocks_t clocks;
static uint8_t counter_kind;

/* HSE and PLL, then the wait states for SYSCLK, then the switch; any step that fails leaves the
 * HSI running with no extra wait states needed (extra ones are harmless). */
static void clocks_init(void)
{
    FLASH_ACR = FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN; /* 0 wait states: right for 16 MHz */
    if (stm32_start_pll(&clocks) != 0) {
        return;
    }
    FLASH_ACR = FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN | (uint32_t)BSP_FLASH_WS;
    if (bsp_wait(&FLASH_ACR, FLASH_ACR_LATENCY_MASK, (uint32_t)BSP_FLASH_WS) != 0) {
        RCC_CR &= ~(RCC_CR_PLLON | RCC_CR_HSEON | RCC_CR_HSEBYP);
        clocks.note = "flash wait states were not taken: running on HSI at 16 MHz";
        return;
    }
    (void)stm32_switch_to_pll(&clocks);
}

static void usart_start(uint32_t kernel_hz)
{
    USART_CR1 = 0;
    USART_BRR = stm32_brr(kernel_hz);
    USART_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE; /* 8N1, 16x oversampling */
}

/* The USART listens before the clocks change (0.1 s when the HSE does not start): QEMU drops
 * what arrives at a disabled USART, but holds back what an enabled one has no room for. */
void bsp_init(void)
{
    clocks = stm32_reset_clocks();
    usart_start(stm32_usart_setup(&clocks));
    clocks_init();
    if (clocks.sysclk_hz != STM32_HSI_HZ) {
        usart_start(stm32_usart_hz(&clocks)); /* the baud rate divider for the new bus clock */
    }
    counter_kind = cortex_counter_start();
}

/* TXE is not bounded: the USART empties it at the baud rate (no flow control on a board), and
 * under QEMU a host that reads slowly holds it, which must not drop bytes. */
void bsp_uart_write(const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        while (!(USART_SR & USART_SR_TXE)) {
        }
        USART_DR = p[i];
    }
}

/* Reading SR then DR also clears an overrun (ORE): the byte in DR is kept, later ones were lost,
 * and the frame's CRC will say so. */
int32_t bsp_uart_read(void)
{
    if (!(USART_SR & USART_SR_RXNE)) {
        return -1;
    }
    return (int32_t)(USART_DR & 0xFFu);
}

uint64_t bsp_counter(void) { return cortex_counter(counter_kind); }

void bsp_counter_restart(void) { cortex_counter_restart(counter_kind); }

void bsp_info(bsp_info_t *info)
{
    const uint32_t acr = FLASH_ACR;
    info->cpuid = SCB_CPUID;
    info->clock_hz = clocks.sysclk_hz;
    info->flags = (uint8_t)(((acr & FLASH_ACR_ICEN) ? BSP_FLAG_ICACHE : 0u) | ((acr & FLASH_ACR_DCEN) ? BSP_FLAG_DCACHE : 0u));
    info->counter_kind = counter_kind;
#ifdef EDGEXF_EMULATED
    info->counter_hz = EDGEXF_EMULATOR_CLOCK_HZ;
#else
    info->counter_hz = clocks.sysclk_hz;
#endif
    info->note = clocks.note;
}
