/* BSP for the STM32F74x/75x/76x/77x (RM0385, RM0410): HSE -> PLL -> SYSCLK (216 MHz with the board
 * files' defines) with the regulator's over-drive above 180 MHz, flash wait states with the ART
 * accelerator and prefetch, the Cortex-M7 I- and D-caches, one USART polled, DWT cycles.
 *
 * Nothing here is chip-specific beyond the family: the 32F746GDISCOVERY (HSE 25 MHz crystal, USART1
 * on PA9/PB7) and the NUCLEO-F767ZI (HSE 8 MHz from the ST-LINK's MCO, bypass; USART3 on PD8/PD9)
 * differ only in their board files' [bsp] defines (stm32_common.h lists them).
 * A build whose weights lie partly in the board's external flash also gets that memory's set-up
 * (bsp.h: bsp_external_setup, e.g. external/stm32f7_qspi.c), called from bsp_init.
 * QEMU has no STM32F7 machine: this file is built for the boards only, never run in the tests.
 */
#include <stdint.h>

#include "bsp.h"
#include "stm32f7.h"

/* ---- power controller (0x40007000): voltage scale and over-drive (RM0385 4.1.4) --------------- */
#define PWR_CR1 REG32(0x40007000u)
#define PWR_CSR1 REG32(0x40007004u)
#define PWR_CR1_VOS_MASK (0x3u << 14)
#define PWR_CR1_VOS_SCALE1 (0x3u << 14)
#define PWR_CR1_ODEN (1u << 16)
#define PWR_CR1_ODSWEN (1u << 17)
#define PWR_CSR1_ODRDY (1u << 16)
#define PWR_CSR1_ODSWRDY (1u << 17)
#define OVERDRIVE_ABOVE_HZ 180000000u /* scale 1 without over-drive stops at 180 MHz */

/* ---- flash interface (0x40023C00) -------------------------------------------------------------- */
#define FLASH_ACR REG32(0x40023C00u)
#define FLASH_ACR_LATENCY_MASK 0xFu
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ARTEN (1u << 9)

/* ---- U(S)ART kernel clock selection: 00 = its APB clock (PCLK1 or PCLK2) ---------------------- */
#define RCC_DCKCFGR2 REG32(RCC_BASE + 0x90u)
#define RCC_DCKCFGR2_USART_SHIFT (2u * ((uint32_t)BSP_USART - 1u))

/* ---- USART (CR1/BRR/ISR/ICR/RDR/TDR: another layout than the F4's) ---------------------------- */
#define USART_CR1 REG32(STM32_USART_BASE + 0x00u)
#define USART_BRR REG32(STM32_USART_BASE + 0x0Cu)
#define USART_ISR REG32(STM32_USART_BASE + 0x1Cu)
#define USART_ICR REG32(STM32_USART_BASE + 0x20u)
#define USART_RDR REG32(STM32_USART_BASE + 0x24u)
#define USART_TDR REG32(STM32_USART_BASE + 0x28u)
#define USART_CR1_UE (1u << 0)
#define USART_CR1_RE (1u << 2)
#define USART_CR1_TE (1u << 3)
#define USART_ISR_FE (1u << 1)
#define USART_ISR_NF (1u << 2)
#define USART_ISR_ORE (1u << 3)
#define USART_ISR_RXNE (1u << 5)
#define USART_ISR_TXE (1u << 7)
#define USART_ICR_ERRORS (USART_ISR_FE | USART_ISR_NF | USART_ISR_ORE) /* FECF, NCF, ORECF: same bits */

static stm32_clocks_t clocks;
static uint8_t counter_kind;
#ifdef BSP_EXTERNAL_SETUP
static const char *external_note = "";
#endif

/* On any failure the HSI (16 MHz) keeps running and the note says which step failed. */
static void clocks_init(void)
{
    RCC_APB1ENR |= RCC_APB1ENR_PWREN;
    (void)RCC_APB1ENR;
    PWR_CR1 = (PWR_CR1 & ~PWR_CR1_VOS_MASK) | PWR_CR1_VOS_SCALE1; /* only while the PLL is off */
    if (stm32_start_pll(&clocks) != 0) {
        return;
    }
    if (STM32_SYSCLK_HZ > OVERDRIVE_ABOVE_HZ) {
        PWR_CR1 |= PWR_CR1_ODEN;
        int failed = bsp_wait(&PWR_CSR1, PWR_CSR1_ODRDY, PWR_CSR1_ODRDY);
        if (!failed) {
            PWR_CR1 |= PWR_CR1_ODSWEN;
            failed = bsp_wait(&PWR_CSR1, PWR_CSR1_ODSWRDY, PWR_CSR1_ODSWRDY);
        }
        if (failed) {
            PWR_CR1 &= ~(PWR_CR1_ODEN | PWR_CR1_ODSWEN);
            RCC_CR &= ~(RCC_CR_PLLON | RCC_CR_HSEON | RCC_CR_HSEBYP);
            clocks.note = "over-drive did not start: running on HSI at 16 MHz";
            return;
        }
    }
    FLASH_ACR = FLASH_ACR_PRFTEN | FLASH_ACR_ARTEN | (uint32_t)BSP_FLASH_WS;
    if (bsp_wait(&FLASH_ACR, FLASH_ACR_LATENCY_MASK, (uint32_t)BSP_FLASH_WS) != 0) {
        RCC_CR &= ~(RCC_CR_PLLON | RCC_CR_HSEON | RCC_CR_HSEBYP);
        clocks.note = "flash wait states were not taken: running on HSI at 16 MHz";
        return;
    }
    (void)stm32_switch_to_pll(&clocks);
}

/* BRR is writable only while the USART is off (UE = 0). */
static void usart_start(uint32_t kernel_hz)
{
    USART_CR1 = 0;
    USART_BRR = stm32_brr(kernel_hz);
    USART_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE; /* 8N1, 16x oversampling */
}

/* The USART listens from the start, on the reset clock, as the F4 driver's does; it gets its final
 * divider once the clocks are set. An external memory with weights (bsp.h) is set up after the clocks
 * (its own clock divides HCLK, which is SYSCLK here) and before the caches, so its MPU region is in
 * place before any line could be cached. */
void bsp_init(void)
{
    clocks = stm32_reset_clocks();
    RCC_DCKCFGR2 &= ~(0x3u << RCC_DCKCFGR2_USART_SHIFT);
    usart_start(stm32_usart_setup(&clocks));
    clocks_init();
    if (clocks.sysclk_hz != STM32_HSI_HZ) {
        usart_start(stm32_usart_hz(&clocks));
    }
#ifdef BSP_EXTERNAL_SETUP
    external_note = bsp_external_setup(clocks.sysclk_hz);
#endif
    cortex_m7_enable_icache();
    cortex_m7_enable_dcache();
    counter_kind = cortex_counter_start();
}

/* TXE is not bounded: the USART empties it at the baud rate (no flow control). */
void bsp_uart_write(const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        while (!(USART_ISR & USART_ISR_TXE)) {
        }
        USART_TDR = p[i];
    }
}

/* An overrun (ORE) stops reception on this USART until it is cleared: clear it and any framing or
 * noise error, keep going; the lost bytes spoil a frame's CRC, which the host recovers from. */
int32_t bsp_uart_read(void)
{
    const uint32_t isr = USART_ISR;
    if (isr & USART_ICR_ERRORS) {
        USART_ICR = isr & USART_ICR_ERRORS;
    }
    if (!(isr & USART_ISR_RXNE)) {
        return -1;
    }
    return (int32_t)(USART_RDR & 0xFFu);
}

#ifdef BSP_EXTERNAL_SETUP
/* `s` appended to the string of n characters in dst (cap bytes), cut short to fit; the new length. */
static uint32_t append(char *dst, uint32_t n, uint32_t cap, const char *s)
{
    while (*s != '\0' && n + 1u < cap) {
        dst[n++] = *s++;
    }
    dst[n] = '\0';
    return n;
}
#endif

/* What did not go as planned: the clocks' note and the external memory's, joined by "; ". */
static const char *note(void)
{
#ifdef BSP_EXTERNAL_SETUP
    if (clocks.note[0] != '\0' && external_note[0] != '\0') {
        static char joined[128];
        uint32_t n = append(joined, 0, sizeof joined, clocks.note);
        n = append(joined, n, sizeof joined, "; ");
        (void)append(joined, n, sizeof joined, external_note);
        return joined;
    }
    return clocks.note[0] != '\0' ? clocks.note : external_note;
#else
    return clocks.note;
#endif
}

uint64_t bsp_counter(void) { return cortex_counter(counter_kind); }

void bsp_counter_restart(void) { cortex_counter_restart(counter_kind); }

void bsp_info(bsp_info_t *info)
{
    info->cpuid = SCB_CPUID;
    info->clock_hz = clocks.sysclk_hz;
    info->flags = cortex_m7_cache_flags();
    info->counter_kind = counter_kind;
#ifdef EDGEXF_EMULATED
    info->counter_hz = EDGEXF_EMULATOR_CLOCK_HZ;
#else
    info->counter_hz = clocks.sysclk_hz;
#endif
    info->note = note();
}
