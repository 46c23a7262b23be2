/* What the STM32F4 and STM32F7 drivers share: RCC, GPIO and the clock tree, whose registers lie at
 * the same addresses with the same bits in both families (RM0090 section 7 and 8 for the F4, RM0385
 * section 5 and 6 for the F7). The USART, the flash interface and the power controller differ and
 * stay in each driver.
 *
 * The board file's [bsp] defines arrive as -DBSP_<NAME>=<value>:
 *   HSE_HZ, HSE_BYPASS             the external clock in Hz; 1 when it is fed in (e.g. ST-LINK's MCO)
 *   PLL_M, PLL_N, PLL_P, PLL_Q     SYSCLK = HSE_HZ / PLL_M * PLL_N / PLL_P
 *   FLASH_WS                       flash wait states at SYSCLK
 *   USART, BAUD                    which U(S)ART (1..8) and its baud rate
 *   TX_PORT, TX_PIN, RX_PORT, RX_PIN, AF   its pins (port letter, pin number) and alternate function
 * The driver includes this after defining STM32_SYSCLK_MAX_HZ, STM32_APB1_MAX_HZ, STM32_APB2_MAX_HZ,
 * STM32_FLASH_WS_MAX and STM32_UARTS (how many U(S)ARTs the family has).
 */
#ifndef EDGEXF_STM32_COMMON_H
#define EDGEXF_STM32_COMMON_H

#include <stdint.h>

#include "cortex_m.h"

/* ---- the board's [bsp] defines: all required ------------------------------------------------- */
/* (#error does not expand macros: each message is written out) */
#ifndef BSP_HSE_HZ
#error "BSP_HSE_HZ missing: add HSE_HZ to the board file's [bsp] defines (the external clock in Hz)"
#endif
#ifndef BSP_HSE_BYPASS
#error "BSP_HSE_BYPASS missing: add HSE_BYPASS to the board file's [bsp] defines (true for an external clock signal, false for a crystal)"
#endif
#ifndef BSP_PLL_M
#error "BSP_PLL_M missing: add PLL_M to the board file's [bsp] defines (HSE divider: HSE_HZ / PLL_M should be 1 or 2 MHz)"
#endif
#ifndef BSP_PLL_N
#error "BSP_PLL_N missing: add PLL_N to the board file's [bsp] defines (VCO multiplier)"
#endif
#ifndef BSP_PLL_P
#error "BSP_PLL_P missing: add PLL_P to the board file's [bsp] defines (SYSCLK divider: 2, 4, 6 or 8)"
#endif
#ifndef BSP_PLL_Q
#error "BSP_PLL_Q missing: add PLL_Q to the board file's [bsp] defines (48 MHz domain divider, 2..15)"
#endif
#ifndef BSP_FLASH_WS
#error "BSP_FLASH_WS missing: add FLASH_WS to the board file's [bsp] defines (flash wait states at SYSCLK)"
#endif
#ifndef BSP_USART
#error "BSP_USART missing: add USART to the board file's [bsp] defines (the U(S)ART number wired to the host, e.g. 1)"
#endif
#ifndef BSP_BAUD
#error "BSP_BAUD missing: add BAUD to the board file's [bsp] defines (115200 for edgexf eval)"
#endif
#if !defined(BSP_TX_PORT) || !defined(BSP_TX_PIN) || !defined(BSP_RX_PORT) || !defined(BSP_RX_PIN)
#error "TX_PORT, TX_PIN, RX_PORT and RX_PIN missing: add TX_PORT, TX_PIN, RX_PORT and RX_PIN to the board file's [bsp] defines (e.g. TX_PORT = \"A\", TX_PIN = 9)"
#endif
#ifndef BSP_AF
#error "BSP_AF missing: add AF to the board file's [bsp] defines (the pins' alternate function number, e.g. 7)"
#endif

/* ---- clock tree, checked at compile time ----------------------------------------------------- */
#define STM32_HSI_HZ 16000000u
#define STM32_VCO_IN_HZ (BSP_HSE_HZ / BSP_PLL_M)
#define STM32_VCO_OUT_HZ (STM32_VCO_IN_HZ * BSP_PLL_N)
#define STM32_SYSCLK_HZ (STM32_VCO_OUT_HZ / BSP_PLL_P)
#if BSP_HSE_HZ % BSP_PLL_M != 0
#error "BSP_HSE_HZ must be a multiple of BSP_PLL_M (the VCO input is a whole number of Hz)"
#endif
#if BSP_PLL_M < 2 || BSP_PLL_M > 63 || STM32_VCO_IN_HZ < 950000 || STM32_VCO_IN_HZ > 2100000
#error "BSP_PLL_M must be 2..63 and put HSE_HZ / PLL_M between 0.95 and 2.1 MHz"
#endif
#if BSP_PLL_N < 50 || BSP_PLL_N > 432 || STM32_VCO_OUT_HZ < 100000000 || STM32_VCO_OUT_HZ > 432000000
#error "BSP_PLL_N must be 50..432 and put the VCO between 100 and 432 MHz"
#endif
#if BSP_PLL_P != 2 && BSP_PLL_P != 4 && BSP_PLL_P != 6 && BSP_PLL_P != 8
#error "BSP_PLL_P must be 2, 4, 6 or 8"
#endif
#if BSP_PLL_Q < 2 || BSP_PLL_Q > 15
#error "BSP_PLL_Q must be 2..15"
#endif
#if STM32_SYSCLK_HZ > STM32_SYSCLK_MAX_HZ
#error "HSE_HZ / PLL_M * PLL_N / PLL_P is above this chip's maximum SYSCLK"
#endif
/* 2.7 to 3.6 V: one wait state per 30 MHz of HCLK (RM0090 table 10, RM0385 table 7) */
#if BSP_FLASH_WS < (STM32_SYSCLK_HZ - 1) / 30000000 || BSP_FLASH_WS > STM32_FLASH_WS_MAX
#error "BSP_FLASH_WS is too small for SYSCLK (one wait state per 30 MHz at 2.7-3.6 V) or too large"
#endif

/* APB prescalers: the smallest of /1, /2, /4, /8, /16 that keeps each bus within its limit.
 * CFGR's PPRE code: 0 for /1, 4 + log2(divider) - 1 otherwise. */
#define STM32_APB_DIV(max) \
    (STM32_SYSCLK_HZ <= (max) ? 1u : STM32_SYSCLK_HZ <= 2u * (max) ? 2u : STM32_SYSCLK_HZ <= 4u * (max) ? 4u \
     : STM32_SYSCLK_HZ <= 8u * (max) ? 8u : 16u)
#define STM32_PPRE(div) ((div) == 1u ? 0u : (div) == 2u ? 4u : (div) == 4u ? 5u : (div) == 8u ? 6u : 7u)

/* ---- RCC (0x40023800) --------------------------------------------------------------------------- */
#define RCC_BASE 0x40023800u
#define RCC_CR REG32(RCC_BASE + 0x00u)
#define RCC_PLLCFGR REG32(RCC_BASE + 0x04u)
#define RCC_CFGR REG32(RCC_BASE + 0x08u)
#define RCC_AHB1ENR REG32(RCC_BASE + 0x30u)
#define RCC_AHB3ENR REG32(RCC_BASE + 0x38u) /* FMC/FSMC, and the F7's QUADSPI */
#define RCC_APB1ENR REG32(RCC_BASE + 0x40u)
#define RCC_APB2ENR REG32(RCC_BASE + 0x44u)

#define RCC_CR_HSEON (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_HSEBYP (1u << 18)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_PLLCFGR_PLLSRC_HSE (1u << 22)
#define RCC_CFGR_SW_MASK 0x3u
#define RCC_CFGR_SW_PLL 0x2u
#define RCC_CFGR_SWS_MASK (0x3u << 2)
#define RCC_CFGR_SWS_PLL (0x2u << 2)
#define RCC_CFGR_PPRE1_SHIFT 10
#define RCC_CFGR_PPRE2_SHIFT 13
#define RCC_APB1ENR_PWREN (1u << 28)

/* ---- GPIO (port A at 0x40020000, one port per 0x400) ------------------------------------------ */
#define GPIO_BASE(port) (0x40020000u + 0x400u * (uint32_t)(port))
#define GPIO_MODER(port) REG32(GPIO_BASE(port) + 0x00u)
#define GPIO_OSPEEDR(port) REG32(GPIO_BASE(port) + 0x08u)
#define GPIO_PUPDR(port) REG32(GPIO_BASE(port) + 0x0Cu)
#define GPIO_AFR(port, pin) REG32(GPIO_BASE(port) + 0x20u + 4u * ((uint32_t)(pin) >> 3))

/* A port letter (TX_PORT = "A" arrives as -DBSP_TX_PORT=A) to its index: STM32_PORT(A) is 0; a
 * letter with no port is -1 in #if (an undefined name counts as 0 there). */
#define STM32_PORTNUM_A 1
#define STM32_PORTNUM_B 2
#define STM32_PORTNUM_C 3
#define STM32_PORTNUM_D 4
#define STM32_PORTNUM_E 5
#define STM32_PORTNUM_F 6
#define STM32_PORTNUM_G 7
#define STM32_PORTNUM_H 8
#define STM32_PORTNUM_I 9
#define STM32_PORTNUM_J 10
#define STM32_PORTNUM_K 11
#define STM32_PORT_(letter) (STM32_PORTNUM_##letter - 1)
#define STM32_PORT(letter) STM32_PORT_(letter)
#if STM32_PORT(BSP_TX_PORT) < 0 || STM32_PORT(BSP_RX_PORT) < 0
#error "BSP_TX_PORT and BSP_RX_PORT must be port letters A..K"
#endif
#if BSP_TX_PIN < 0 || BSP_TX_PIN > 15 || BSP_RX_PIN < 0 || BSP_RX_PIN > 15
#error "BSP_TX_PIN and BSP_RX_PIN must be 0..15"
#endif

/* ---- U(S)ARTs: base address, bus and clock enable bit (the F7 adds UART7 and UART8) ----------- */
#if BSP_USART == 1
#define STM32_USART_BASE 0x40011000u
#define STM32_USART_APB 2
#define STM32_USART_EN_BIT 4
#elif BSP_USART == 2
#define STM32_USART_BASE 0x40004400u
#define STM32_USART_APB 1
#define STM32_USART_EN_BIT 17
#elif BSP_USART == 3
#define STM32_USART_BASE 0x40004800u
#define STM32_USART_APB 1
#define STM32_USART_EN_BIT 18
#elif BSP_USART == 4
#define STM32_USART_BASE 0x40004C00u
#define STM32_USART_APB 1
#define STM32_USART_EN_BIT 19
#elif BSP_USART == 5
#define STM32_USART_BASE 0x40005000u
#define STM32_USART_APB 1
#define STM32_USART_EN_BIT 20
#elif BSP_USART == 6
#define STM32_USART_BASE 0x40011400u
#define STM32_USART_APB 2
#define STM32_USART_EN_BIT 5
#elif BSP_USART == 7 && STM32_UARTS >= 8
#define STM32_USART_BASE 0x40007800u
#define STM32_USART_APB 1
#define STM32_USART_EN_BIT 30
#elif BSP_USART == 8 && STM32_UARTS >= 8
#define STM32_USART_BASE 0x40007C00u
#define STM32_USART_APB 1
#define STM32_USART_EN_BIT 31
#else
#error "BSP_USART names no U(S)ART of this chip family"
#endif

/* ---- clock helpers ----------------------------------------------------------------------------- */
typedef struct {
    uint32_t sysclk_hz, apb1_hz, apb2_hz;
    const char *note; /* "" when the PLL runs as asked */
} stm32_clocks_t;

/* Turns on the HSE (a crystal, or bypassed for a clock signal) and the main PLL from it; 0 when both
 * are ready, else -1 with both off again and `note` saying which did not start. */
static inline int stm32_start_pll(stm32_clocks_t *c)
{
    if (BSP_HSE_BYPASS) {
        RCC_CR |= RCC_CR_HSEBYP; /* writable only while HSE is off: before HSEON */
    }
    RCC_CR |= RCC_CR_HSEON;
    if (bsp_wait(&RCC_CR, RCC_CR_HSERDY, RCC_CR_HSERDY) != 0) {
        RCC_CR &= ~(RCC_CR_HSEON | RCC_CR_HSEBYP);
        c->note = "HSE did not start: running on HSI at 16 MHz";
        return -1;
    }
    RCC_PLLCFGR = (uint32_t)BSP_PLL_M | ((uint32_t)BSP_PLL_N << 6) | (((uint32_t)BSP_PLL_P / 2u - 1u) << 16)
                  | RCC_PLLCFGR_PLLSRC_HSE | ((uint32_t)BSP_PLL_Q << 24);
    RCC_CR |= RCC_CR_PLLON;
    if (bsp_wait(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY) != 0) {
        RCC_CR &= ~(RCC_CR_PLLON | RCC_CR_HSEON | RCC_CR_HSEBYP);
        c->note = "PLL did not lock: running on HSI at 16 MHz";
        return -1;
    }
    return 0;
}

/* Sets the APB prescalers and switches SYSCLK to the PLL; on success `c` holds the new clocks. */
static inline int stm32_switch_to_pll(stm32_clocks_t *c)
{
    const uint32_t apb1_div = STM32_APB_DIV(STM32_APB1_MAX_HZ), apb2_div = STM32_APB_DIV(STM32_APB2_MAX_HZ);
    RCC_CFGR = (STM32_PPRE(apb1_div) << RCC_CFGR_PPRE1_SHIFT) | (STM32_PPRE(apb2_div) << RCC_CFGR_PPRE2_SHIFT);
    RCC_CFGR |= RCC_CFGR_SW_PLL;
    if (bsp_wait(&RCC_CFGR, RCC_CFGR_SWS_MASK, RCC_CFGR_SWS_PLL) != 0) {
        RCC_CFGR = 0; /* HSI, every bus at /1 */
        RCC_CR &= ~(RCC_CR_PLLON | RCC_CR_HSEON | RCC_CR_HSEBYP);
        c->note = "SYSCLK did not switch to the PLL: running on HSI at 16 MHz";
        return -1;
    }
    c->sysclk_hz = STM32_SYSCLK_HZ;
    c->apb1_hz = STM32_SYSCLK_HZ / apb1_div;
    c->apb2_hz = STM32_SYSCLK_HZ / apb2_div;
    return 0;
}

/* What the clocks are before (or without) the PLL: the 16 MHz HSI, every bus at /1. */
static inline stm32_clocks_t stm32_reset_clocks(void)
{
    return (stm32_clocks_t){STM32_HSI_HZ, STM32_HSI_HZ, STM32_HSI_HZ, ""};
}

/* ---- pins --------------------------------------------------------------------------------------- */
#define GPIO_SPEED_FAST 0x2u      /* OSPEEDR codes */
#define GPIO_SPEED_VERY_HIGH 0x3u /* "high" in RM0090, "very high" in RM0385: the same code */
#define GPIO_PULL_NONE 0x0u       /* PUPDR codes */
#define GPIO_PULL_UP 0x1u

/* Clocks the pin's port and gives the pin to alternate function `af` (its peripheral) with that output
 * speed and pull; the mode changes last, so the pin never drives with a half-set configuration. */
static inline void stm32_pin_alt(uint32_t port, uint32_t pin, uint32_t af, uint32_t speed, uint32_t pull)
{
    RCC_AHB1ENR |= 1u << port;
    (void)RCC_AHB1ENR; /* a read-back: the clock runs before the first access (ST's errata sheets) */
    GPIO_AFR(port, pin) = (GPIO_AFR(port, pin) & ~(0xFu << 4u * (pin & 7u))) | (af << 4u * (pin & 7u));
    GPIO_OSPEEDR(port) = (GPIO_OSPEEDR(port) & ~(0x3u << 2u * pin)) | (speed << 2u * pin);
    GPIO_PUPDR(port) = (GPIO_PUPDR(port) & ~(0x3u << 2u * pin)) | (pull << 2u * pin);
    GPIO_MODER(port) = (GPIO_MODER(port) & ~(0x3u << 2u * pin)) | (0x2u << 2u * pin); /* alternate function */
}

/* ---- USART pins and clock ---------------------------------------------------------------------- */

/* The U(S)ART's kernel clock in Hz: its APB bus clock. */
static inline uint32_t stm32_usart_hz(const stm32_clocks_t *c)
{
    return STM32_USART_APB == 2 ? c->apb2_hz : c->apb1_hz;
}

/* Clocks the U(S)ART and puts TX and RX on their pins (RX pulled up: an unconnected line idles high).
 * Returns the U(S)ART's kernel clock in Hz. */
static inline uint32_t stm32_usart_setup(const stm32_clocks_t *c)
{
    if (STM32_USART_APB == 2) {
        RCC_APB2ENR |= 1u << STM32_USART_EN_BIT;
        (void)RCC_APB2ENR;
    } else {
        RCC_APB1ENR |= 1u << STM32_USART_EN_BIT;
        (void)RCC_APB1ENR;
    }
    /* fast edges: clean at any baud rate */
    stm32_pin_alt(STM32_PORT(BSP_TX_PORT), BSP_TX_PIN, BSP_AF, GPIO_SPEED_FAST, GPIO_PULL_NONE);
    stm32_pin_alt(STM32_PORT(BSP_RX_PORT), BSP_RX_PIN, BSP_AF, GPIO_SPEED_FAST, GPIO_PULL_UP);
    return stm32_usart_hz(c);
}

/* USARTDIV with 16x oversampling, rounded: the BRR value of both families. */
static inline uint32_t stm32_brr(uint32_t kernel_hz)
{
    return (kernel_hz + (uint32_t)BSP_BAUD / 2u) / (uint32_t)BSP_BAUD;
}

#endif /* EDGEXF_STM32_COMMON_H */
