/* The 32F746GDISCOVERY's QSPI flash, memory-mapped at 0x90000000 before the model reads its weights
 * there: the STM32F7's QUADSPI (RM0385 chapter 14) in memory-mapped mode over the kit's Micron
 * N25Q128A (16 MB NOR flash, 3-byte addresses, at most 108 MHz). The board file names this set-up
 * (boards/stm32f746g-disco.toml, [[external]] "qspi": setup = "stm32f7_qspi"); edgexf builds it into
 * the board's evaluation firmware when the build places weights in that flash, and the F7 driver's
 * bsp_init calls it through bsp_external_setup (bsp.h). `edgexf flash` writes the weights there with openocd's stmqspi driver.
 *
 * Built and linked for the board with -Wall -Wextra -Werror, and its call from the start-up checked in
 * the ELF (tests/targets/test_qspi_board.py), but NEVER RUN: no board was at hand, and QEMU has no
 * QUADSPI (the emulated build keeps the weights in mps2-an500's RAM at 0x60000000 instead). The
 * sequence follows RM0385 and the N25Q128A datasheet; openocd's board/stm32f746g-disco.cfg (its
 * qspi_init) drives the same pins and registers, with a slower single-line read.
 *
 * The steps, every wait bounded (bsp_wait): a step that fails aborts the QUADSPI and returns a note for
 * DEVICE_INFO, and the MPU keeps the whole QSPI window no-access, so the first weight read faults with
 * a report (MemManage, its address) instead of computing with garbage.
 *   0. MPU: the 256 MB QSPI window no-access and strongly ordered. The Cortex-M7 may read normal memory
 *      speculatively, and the default map makes 0x90000000 normal: a speculative read there before
 *      (or beyond) memory-mapped mode can stall the QUADSPI. ST's examples for this kit set the MPU
 *      up the same way.
 *   1. clocks for GPIOB/D/E and the QUADSPI; its six pins on their alternate functions, very high speed.
 *   2. QUADSPI: clock HCLK / (PRESCALER + 1) <= 108 MHz (216 MHz: /2), FSIZE 23 (2^24 bytes), nCS high
 *      6 cycles between commands (the flash needs 50 ns after a write, 20 ns after a read: 56 ns at 108
 *      MHz), data sampled half a cycle late (ST's setting for this flash at 108 MHz).
 *   3. the flash: RESET ENABLE + RESET MEMORY (0x66, 0x99), first on four lines, then on one, so a flash
 *      left in the quad protocol resets too (on one line those four-line commands are cut off and
 *      ignored); then the status register's write-in-progress bit polled to 0.
 *   4. its volatile configuration register (0x85 read, 0x81 write after WRITE ENABLE): 10 dummy cycles,
 *      what QUAD I/O FAST READ needs at 108 MHz, and XIP off; read back to check that the flash answers.
 *   5. memory-mapped mode: QUAD I/O FAST READ (0xEB), instruction on one line, address and data on four,
 *      10 dummy cycles.
 *   6. MPU: the flash's 16 MB read-only normal memory, cached write-through, never executed (weights).
 *
 * Another board's QSPI flash differs in its pins (the table below), its size (FSIZE and the MPU
 * region) and its commands (another vendor's dummy-cycle register): a new set-up file, named by its
 * board file.
 */
#include <stdint.h>

#include "bsp.h"
#include "stm32f7.h"

const char *stm32f7_qspi_setup(uint32_t hclk_hz); /* called by bsp_external_setup (edgexf/eval/build.py) */

/* ---- the kit's wiring (32F746GDISCOVERY schematic; openocd's board script uses the same) --------- */
typedef struct {
    uint8_t port, pin, af, pull;
} qspi_pin_t;

static const qspi_pin_t PINS[] = {
    {STM32_PORT(B), 2, 9, GPIO_PULL_NONE},   /* CLK */
    {STM32_PORT(B), 6, 10, GPIO_PULL_UP},    /* BK1_NCS: pulled up, the flash stays deselected */
    {STM32_PORT(D), 11, 9, GPIO_PULL_NONE},  /* BK1_IO0 */
    {STM32_PORT(D), 12, 9, GPIO_PULL_NONE},  /* BK1_IO1 */
    {STM32_PORT(E), 2, 9, GPIO_PULL_NONE},   /* BK1_IO2 */
    {STM32_PORT(D), 13, 9, GPIO_PULL_NONE},  /* BK1_IO3 */
};

/* ---- the flash: Micron N25Q128A ------------------------------------------------------------------ */
#define FLASH_BASE_ADDR 0x90000000u /* where the QUADSPI maps it */
#define FLASH_LOG2_BYTES 24u        /* 16 MB */
#define FLASH_MAX_HZ 108000000u
#define N25Q_WRITE_ENABLE 0x06u
#define N25Q_READ_STATUS 0x05u
#define N25Q_READ_VCR 0x85u /* volatile configuration register */
#define N25Q_WRITE_VCR 0x81u
#define N25Q_RESET_ENABLE 0x66u
#define N25Q_RESET_MEMORY 0x99u
#define N25Q_QUAD_IO_FAST_READ 0xEBu
#define N25Q_STATUS_WIP 0x01u    /* write in progress */
#define N25Q_STATUS_WEL 0x02u    /* write enable latch */
#define N25Q_VCR_XIP_OFF 0x08u   /* bit 3 set: XIP disabled (its reset value) */
#define N25Q_VCR_KEEP 0x07u      /* bits 2..0 (wrap) stay as they are */
#define N25Q_DUMMY_CYCLES 10u    /* QUAD I/O FAST READ at 108 MHz (VCR bits 7..4) */
/* Flash status polls: WIP after a reset that interrupts an erase or a program lasts longer than a
 * register write; 10x bsp_wait's bound (about 0.1 s at 216 MHz if a poll takes ten cycles; not measured). */
#define FLASH_WAIT_POLLS (10u * BSP_WAIT_POLLS)

/* ---- QUADSPI (0xA0001000, RM0385 chapter 14) --------------------------------------------------------- */
#define QSPI_BASE 0xA0001000u
#define QSPI_CR REG32(QSPI_BASE + 0x00u)
#define QSPI_DCR REG32(QSPI_BASE + 0x04u)
#define QSPI_SR REG32(QSPI_BASE + 0x08u)
#define QSPI_FCR REG32(QSPI_BASE + 0x0Cu)
#define QSPI_DLR REG32(QSPI_BASE + 0x10u)
#define QSPI_CCR REG32(QSPI_BASE + 0x14u)
#define QSPI_DR8 (*(volatile uint8_t *)(QSPI_BASE + 0x20u)) /* byte access: one byte of the FIFO */
#define QSPI_PSMKR REG32(QSPI_BASE + 0x24u)
#define QSPI_PSMAR REG32(QSPI_BASE + 0x28u)
#define QSPI_PIR REG32(QSPI_BASE + 0x2Cu)

#define QSPI_CR_EN (1u << 0)
#define QSPI_CR_ABORT (1u << 1)
#define QSPI_CR_SSHIFT (1u << 4)           /* sample half a cycle later */
#define QSPI_CR_APMS (1u << 22)            /* automatic polling stops at a match */
#define QSPI_CR_PRESCALER(p) ((uint32_t)(p) << 24)
#define QSPI_DCR_CSHT(cycles) (((uint32_t)(cycles) - 1u) << 8) /* nCS high between commands */
#define QSPI_DCR_FSIZE(log2) (((uint32_t)(log2) - 1u) << 16)   /* the flash holds 2^log2 bytes */
#define QSPI_SR_TCF (1u << 1)              /* transfer complete */
#define QSPI_SR_SMF (1u << 3)              /* status match */
#define QSPI_SR_BUSY (1u << 5)
#define QSPI_FCR_CTCF (1u << 1)
#define QSPI_FCR_CSMF (1u << 3)

/* CCR: the phases of one command. Lines: 0 phase absent, 1 single, 3 quad. */
#define LINES_1 1u
#define LINES_4 3u
#define CCR_IMODE(lines) ((lines) << 8)
#define CCR_ADMODE(lines) ((lines) << 10)
#define CCR_ADSIZE_24 (2u << 12)
#define CCR_DCYC(cycles) ((uint32_t)(cycles) << 18)
#define CCR_DMODE(lines) ((lines) << 24)
#define CCR_INDIRECT_WRITE (0u << 26)
#define CCR_INDIRECT_READ (1u << 26)
#define CCR_AUTO_POLL (2u << 26)
#define CCR_MEMORY_MAPPED (3u << 26)
#define POLL_INTERVAL_CYCLES 16u

/* ---- QUADSPI commands: indirect write, indirect read, automatic polling --------------------------------------------------- */
static int qspi_idle(void)
{
    return bsp_wait(&QSPI_SR, QSPI_SR_BUSY, 0);
}

/* Waits for the end of an indirect transfer and clears its flag. */
static int qspi_complete(void)
{
    if (bsp_wait(&QSPI_SR, QSPI_SR_TCF, QSPI_SR_TCF) != 0) {
        return -1;
    }
    QSPI_FCR = QSPI_FCR_CTCF;
    return 0;
}

/* An instruction alone: with no address and no data the transfer starts when CCR is written. */
static int qspi_instruction(uint32_t instruction, uint32_t lines)
{
    if (qspi_idle() != 0) {
        return -1;
    }
    QSPI_CCR = CCR_INDIRECT_WRITE | CCR_IMODE(lines) | instruction;
    return qspi_complete();
}

/* A one-byte register read (instruction and data on one line). */
static int qspi_read_register(uint32_t instruction, uint8_t *value)
{
    if (qspi_idle() != 0) {
        return -1;
    }
    QSPI_DLR = 0; /* length - 1 */
    QSPI_CCR = CCR_INDIRECT_READ | CCR_IMODE(LINES_1) | CCR_DMODE(LINES_1) | instruction;
    if (qspi_complete() != 0) {
        return -1;
    }
    *value = QSPI_DR8;
    return 0;
}

/* A one-byte register write: the transfer starts when the byte reaches the FIFO. */
static int qspi_write_register(uint32_t instruction, uint8_t value)
{
    if (qspi_idle() != 0) {
        return -1;
    }
    QSPI_DLR = 0;
    QSPI_CCR = CCR_INDIRECT_WRITE | CCR_IMODE(LINES_1) | CCR_DMODE(LINES_1) | instruction;
    QSPI_DR8 = value;
    return qspi_complete();
}

/* The QUADSPI reads the status register every POLL_INTERVAL_CYCLES until (status & mask) == match. */
static int flash_wait_status(uint8_t mask, uint8_t match)
{
    if (qspi_idle() != 0) {
        return -1;
    }
    QSPI_PSMKR = mask;
    QSPI_PSMAR = match;
    QSPI_PIR = POLL_INTERVAL_CYCLES;
    QSPI_DLR = 0;
    QSPI_CCR = CCR_AUTO_POLL | CCR_IMODE(LINES_1) | CCR_DMODE(LINES_1) | N25Q_READ_STATUS;
    if (bsp_wait_polls(&QSPI_SR, QSPI_SR_SMF, QSPI_SR_SMF, FLASH_WAIT_POLLS) != 0) {
        return -1;
    }
    QSPI_FCR = QSPI_FCR_CSMF;
    return 0;
}

/* Stops whatever the QUADSPI was doing and turns it off; the note says which step failed. */
static const char *give_up(const char *note)
{
    QSPI_CR |= QSPI_CR_ABORT;
    (void)bsp_wait(&QSPI_CR, QSPI_CR_ABORT, 0); /* ABORT clears itself once the abort is done */
    QSPI_CR = 0;
    return note;
}

/* ---- the set-up (called by bsp_external_setup, bsp.h) ------------------------------------------- */
const char *stm32f7_qspi_setup(uint32_t hclk_hz)
{
    /* 0: nothing reaches the window until the flash is mapped */
    cortex_mpu_region(0, FLASH_BASE_ADDR, MPU_RASR_XN | MPU_RASR_AP_NONE | MPU_RASR_STRONGLY_ORDERED
                                              | MPU_RASR_SIZE(28) | MPU_RASR_ENABLE);
    /* 1: clocks and pins */
    RCC_AHB3ENR |= 1u << 1; /* QSPIEN */
    (void)RCC_AHB3ENR;
    for (uint32_t i = 0; i < sizeof PINS / sizeof PINS[0]; i++) {
        stm32_pin_alt(PINS[i].port, PINS[i].pin, PINS[i].af, GPIO_SPEED_VERY_HIGH, PINS[i].pull);
    }
    /* 2: the controller, off while it is configured */
    const uint32_t prescaler = (hclk_hz + FLASH_MAX_HZ - 1u) / FLASH_MAX_HZ - 1u;
    QSPI_CR = 0;
    QSPI_DCR = QSPI_DCR_FSIZE(FLASH_LOG2_BYTES) | QSPI_DCR_CSHT(6);
    QSPI_CR = QSPI_CR_PRESCALER(prescaler) | QSPI_CR_APMS | QSPI_CR_SSHIFT;
    QSPI_CR |= QSPI_CR_EN;
    /* 3: reset the flash, in either protocol */
    if (qspi_instruction(N25Q_RESET_ENABLE, LINES_4) != 0 || qspi_instruction(N25Q_RESET_MEMORY, LINES_4) != 0
        || qspi_instruction(N25Q_RESET_ENABLE, LINES_1) != 0 || qspi_instruction(N25Q_RESET_MEMORY, LINES_1) != 0) {
        return give_up("QSPI: the flash reset was not sent; weights there unreadable");
    }
    if (flash_wait_status(N25Q_STATUS_WIP, 0) != 0) {
        return give_up("QSPI flash busy or silent after reset; weights there unreadable");
    }
    /* 4: dummy cycles for QUAD I/O FAST READ, then check the flash took them */
    uint8_t vcr = 0;
    if (qspi_read_register(N25Q_READ_VCR, &vcr) != 0) {
        return give_up("QSPI flash config register unreadable; weights there unreadable");
    }
    const uint8_t want = (uint8_t)((N25Q_DUMMY_CYCLES << 4) | N25Q_VCR_XIP_OFF | (vcr & N25Q_VCR_KEEP));
    if (qspi_instruction(N25Q_WRITE_ENABLE, LINES_1) != 0 || flash_wait_status(N25Q_STATUS_WEL, N25Q_STATUS_WEL) != 0
        || qspi_write_register(N25Q_WRITE_VCR, want) != 0 || flash_wait_status(N25Q_STATUS_WIP, 0) != 0
        || qspi_read_register(N25Q_READ_VCR, &vcr) != 0 || vcr != want) {
        return give_up("QSPI flash did not take its dummy cycles; weights there unreadable");
    }
    /* 5: memory-mapped from here on: the core's reads at 0x90000000 become QUAD I/O FAST READs */
    if (qspi_idle() != 0) {
        return give_up("QSPI controller stuck busy; weights there unreadable");
    }
    QSPI_CCR = CCR_MEMORY_MAPPED | CCR_DMODE(LINES_4) | CCR_DCYC(N25Q_DUMMY_CYCLES) | CCR_ADSIZE_24
               | CCR_ADMODE(LINES_4) | CCR_IMODE(LINES_1) | N25Q_QUAD_IO_FAST_READ;
    /* 6: the flash itself readable, cached */
    cortex_mpu_region(1, FLASH_BASE_ADDR, MPU_RASR_XN | MPU_RASR_AP_READ_ONLY | MPU_RASR_NORMAL_WT
                                              | MPU_RASR_SIZE(FLASH_LOG2_BYTES) | MPU_RASR_ENABLE);
    return "";
}
