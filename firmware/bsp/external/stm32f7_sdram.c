/* The 32F746GDISCOVERY's SDRAM, usable at 0xC0000000 before the model touches its arena there: the
 * STM32F7's FMC (RM0385 chapter 13, SDRAM controller) driving the kit's Micron MT48LC4M32B2 on SDRAM
 * bank 1 (SDCKE0/SDNE0) over a 16-bit data bus: 4 internal banks of 4096 rows x 256 columns x 16 bits,
 * 8 MB. The board file names this set-up (boards/stm32f746g-disco.toml, [[external]] "sdram": setup =
 * "stm32f7_sdram"); edgexf builds it into the board's evaluation firmware when the build places the arena
 * there (edgexf compile --arena external), and the F7 driver's bsp_init calls it through
 * bsp_external_setup (bsp.h) before the model runs. Nothing else is placed in the SDRAM, so the start-up
 * (which zeroes .bss before main) never needs it.
 *
 * Built and linked for the board with -Wall -Wextra -Werror (tests/targets/test_sdram_board.py), but
 * NEVER RUN: no board was at hand, and QEMU has no FMC (the emulated build keeps the arena in
 * mps2-an500's SSRAM at 0x20100000 instead). The values follow RM0385, the MT48LC4M32B2 datasheet
 * (-6A speed grade: CL 2 up to 100 MHz, CL 3 above; see step 2) and the pins of the kit's schematic.
 *
 * The steps, every wait bounded (bsp_wait): a step that fails returns a note for DEVICE_INFO and leaves
 * the SDRAM window no-access in the MPU, so the model's first arena access faults with a report
 * (MemManage, its address) instead of computing with whatever the bus returns.
 *   1. clocks for GPIOC..H and the FMC; its 38 pins on alternate function 12, very high speed.
 *   2. SDCR1: 8 column bits, 12 row bits, 16-bit bus, 4 banks, SDCLK = HCLK / 2 (108 MHz at 216 MHz),
 *      read burst on, no read pipe delay, CAS latency 3 (as we read the -6A grade's datasheet, CL 2 holds
 *      up to 100 MHz only; ST's example for this kit writes 2 at 108 MHz).
 *   3. SDTR1, in SDCLK cycles of 9.26 ns: tMRD 2, tXSR 8 (67 ns), tRAS 5 (42 ns), tRC 7 (60 ns), tWR 2,
 *      tRP 2 (18 ns), tRCD 2 (18 ns): each datasheet minimum rounded up.
 *   4. the JEDEC start: clock enable; at least 100 us; PRECHARGE ALL; 8 AUTO-REFRESH; LOAD MODE
 *      REGISTER (burst length 1, sequential, CAS latency 3, single-location writes); each command only
 *      once the controller is not busy.
 *   5. the refresh timer: 4096 rows every 64 ms, one every 15.625 us, less 20 cycles of margin (RM0385).
 *   6. MPU: the 8 MB as normal memory, cached write-back, read-write, never executed. The default map
 *      makes 0xC0000000 device memory, where an unaligned access faults (the kernels read int16 pairs
 *      at any even address).
 *   7. a check: two words written at both ends and read back (a wrong bus width or a dead SDRAM shows).
 *
 * Another board's SDRAM differs in its pins, its bank, its geometry and its timings: a new set-up file,
 * named by its board file.
 */
#include <stdint.h>

#include "bsp.h"
#include "stm32f7.h"

const char *stm32f7_sdram_setup(uint32_t hclk_hz); /* called by bsp_external_setup (edgexf/eval/build.py) */

/* ---- the kit's wiring (32F746GDISCOVERY schematic): every pin on AF12 (FMC) ----------------------- */
typedef struct {
    uint8_t port;
    uint16_t pins; /* a bit per pin */
} sdram_port_t;

static const sdram_port_t PORTS[] = {
    {STM32_PORT(C), 1u << 3},                                   /* SDCKE0 */
    {STM32_PORT(D), 0xC703u},                                   /* D2 D3 D13 D14 D15 D0 D1: 0 1 8 9 10 14 15 */
    {STM32_PORT(E), 0xFF83u},                                   /* NBL0 NBL1 D4..D12: 0 1 7..15 */
    {STM32_PORT(F), 0xF83Fu},                                   /* A0..A5 SDNRAS A6..A9: 0..5 11 12..15 */
    {STM32_PORT(G), 1u << 0 | 1u << 1 | 1u << 4 | 1u << 5 | 1u << 8 | 1u << 15}, /* A10 A11 BA0 BA1 SDCLK SDNCAS */
    {STM32_PORT(H), 1u << 3 | 1u << 5},                         /* SDNE0 SDNWE */
};
#define FMC_AF 12u

/* ---- the SDRAM: Micron MT48LC4M32B2 on a 16-bit bus ---------------------------------------------- */
#define SDRAM_BASE_ADDR 0xC0000000u
#define SDRAM_LOG2_BYTES 23u       /* 8 MB */
#define SDRAM_REFRESH_NS 15625u    /* 4096 rows every 64 ms */
#define SDRAM_CAS_LATENCY 3u
#define SDRAM_MODE_BURST_1 0x0u     /* mode register: burst length 1, sequential */
#define SDRAM_MODE_CAS(cl) ((uint32_t)(cl) << 4)
#define SDRAM_MODE_SINGLE_WRITE (1u << 9)
#define SDRAM_AUTO_REFRESHES 8u
#define SDRAM_START_US 100u        /* clock running and inputs stable before PRECHARGE ALL */

/* ---- FMC SDRAM controller (0xA0000140, RM0385 13.7.5) ---------------------------------------------- */
#define FMC_SDCR1 REG32(0xA0000140u)
#define FMC_SDTR1 REG32(0xA0000148u)
#define FMC_SDCMR REG32(0xA0000150u)
#define FMC_SDRTR REG32(0xA0000154u)
#define FMC_SDSR REG32(0xA0000158u)

#define SDCR_NC_8 0u          /* column address bits: 8 */
#define SDCR_NR_12 (1u << 2)  /* row address bits: 12 */
#define SDCR_MWID_16 (1u << 4)
#define SDCR_NB_4 (1u << 6)
#define SDCR_CAS(cl) ((uint32_t)(cl) << 7)
#define SDCR_SDCLK_HCLK_2 (2u << 10)
#define SDCR_RBURST (1u << 12)
#define SDCR_RPIPE_0 0u
#define SDTR(tmrd, txsr, tras, trc, twr, trp, trcd)                                                      \
    (((tmrd) - 1u) | ((txsr) - 1u) << 4 | ((tras) - 1u) << 8 | ((trc) - 1u) << 12 | ((twr) - 1u) << 16 \
     | ((trp) - 1u) << 20 | ((trcd) - 1u) << 24)
#define SDCMR_CLOCK_ENABLE 1u
#define SDCMR_PALL 2u
#define SDCMR_AUTO_REFRESH 3u
#define SDCMR_LOAD_MODE 4u
#define SDCMR_CTB1 (1u << 4) /* the command goes to bank 1 */
#define SDCMR_NRFS(n) (((uint32_t)(n) - 1u) << 5)
#define SDCMR_MRD(mode) ((uint32_t)(mode) << 9)
#define SDSR_BUSY (1u << 5)
#define SDRTR_COUNT(n) ((uint32_t)(n) << 1)

#define MPU_REGION_SDRAM 2u /* 0 and 1: the QSPI flash's (stm32f7_qspi.c) */

/* One command to bank 1, once the controller takes commands again. */
static int sdram_command(uint32_t command)
{
    if (bsp_wait(&FMC_SDSR, SDSR_BUSY, 0) != 0) {
        return -1;
    }
    FMC_SDCMR = command | SDCMR_CTB1;
    return bsp_wait(&FMC_SDSR, SDSR_BUSY, 0);
}

/* At least `us` microseconds at hclk_hz: a loop of at least one cycle per pass (more in practice). */
static void delay_at_least_us(uint32_t hclk_hz, uint32_t us)
{
    for (volatile uint32_t i = 0; i < hclk_hz / 1000000u * us; i++) {
    }
}

/* The window stays unreachable: the arena's first access faults with its address. */
static const char *give_up(const char *note)
{
    cortex_mpu_region(MPU_REGION_SDRAM, SDRAM_BASE_ADDR, MPU_RASR_XN | MPU_RASR_AP_NONE | MPU_RASR_STRONGLY_ORDERED
                                                            | MPU_RASR_SIZE(SDRAM_LOG2_BYTES) | MPU_RASR_ENABLE);
    return note;
}

const char *stm32f7_sdram_setup(uint32_t hclk_hz)
{
    /* 1: clocks and pins */
    RCC_AHB3ENR |= 1u << 0; /* FMCEN */
    (void)RCC_AHB3ENR;
    for (uint32_t i = 0; i < sizeof PORTS / sizeof PORTS[0]; i++) {
        for (uint32_t pin = 0; pin < 16u; pin++) {
            if (PORTS[i].pins & (1u << pin)) {
                stm32_pin_alt(PORTS[i].port, pin, FMC_AF, GPIO_SPEED_VERY_HIGH, GPIO_PULL_UP);
            }
        }
    }
    /* 2, 3: the device and its timings */
    FMC_SDCR1 = SDCR_NC_8 | SDCR_NR_12 | SDCR_MWID_16 | SDCR_NB_4 | SDCR_CAS(SDRAM_CAS_LATENCY)
                | SDCR_SDCLK_HCLK_2 | SDCR_RBURST | SDCR_RPIPE_0;
    FMC_SDTR1 = SDTR(2u, 8u, 5u, 7u, 2u, 2u, 2u);
    /* 4: the JEDEC start */
    if (sdram_command(SDCMR_CLOCK_ENABLE) != 0) {
        return give_up("SDRAM: the FMC stayed busy at clock enable; the arena there is unusable");
    }
    delay_at_least_us(hclk_hz, SDRAM_START_US);
    const uint32_t mode = SDRAM_MODE_BURST_1 | SDRAM_MODE_CAS(SDRAM_CAS_LATENCY) | SDRAM_MODE_SINGLE_WRITE;
    if (sdram_command(SDCMR_PALL) != 0
        || sdram_command(SDCMR_AUTO_REFRESH | SDCMR_NRFS(SDRAM_AUTO_REFRESHES)) != 0
        || sdram_command(SDCMR_LOAD_MODE | SDCMR_MRD(mode)) != 0) {
        return give_up("SDRAM: the FMC stayed busy in the start sequence; the arena there is unusable");
    }
    /* 5: refresh: one row every 15.625 us of SDCLK (HCLK / 2), less 20 cycles */
    const uint32_t sdclk_khz = hclk_hz / 2u / 1000u;
    FMC_SDRTR = SDRTR_COUNT(sdclk_khz * SDRAM_REFRESH_NS / 1000000u - 20u);
    /* 6: normal memory from here on */
    cortex_mpu_region(MPU_REGION_SDRAM, SDRAM_BASE_ADDR, MPU_RASR_XN | MPU_RASR_AP_READ_WRITE | MPU_RASR_NORMAL_WB
                                                            | MPU_RASR_SIZE(SDRAM_LOG2_BYTES) | MPU_RASR_ENABLE);
    /* 7: both ends answer with what was written (the D-cache is still off: these reach the SDRAM) */
    volatile uint32_t *first = (volatile uint32_t *)SDRAM_BASE_ADDR;
    volatile uint32_t *last = (volatile uint32_t *)(SDRAM_BASE_ADDR + (1u << SDRAM_LOG2_BYTES) - 4u);
    *first = 0x5AA5C33Cu;
    *last = 0xA55A3CC3u;
    if (*first != 0x5AA5C33Cu || *last != 0xA55A3CC3u) {
        return give_up("SDRAM: a test word did not read back; the arena there is unusable");
    }
    return "";
}
