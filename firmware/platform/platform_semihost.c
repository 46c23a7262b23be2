/* platform.h on a Cortex-M under semihosting: files through the emulator (or a debug probe),
 * ticks from SysTick clocked by the core clock. */
#include "platform.h"

#include "semihost.h"
#include "startup.h"

/* SysTick registers (Armv7-M ARM, B3.3). */
#define REG(addr) (*(volatile uint32_t *)(addr))
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define SCB_ICSR REG(0xE000ED04u)

#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE_CORE (1u << 2)
#define SCB_ICSR_PENDSTSET (1u << 26)
#define SYST_RELOAD 0x00FFFFFFu /* the counter is 24 bits: the longest period, fewest interrupts */

void plat_init(void)
{
    SYST_RVR = SYST_RELOAD;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE_CORE;
}

uint64_t plat_ticks(void)
{
    uint32_t wraps, value, pending;
    do {
        wraps = startup_systick_wraps;
        value = SYST_CVR;
        pending = SCB_ICSR & SCB_ICSR_PENDSTSET;
    } while (wraps != startup_systick_wraps);
    /* A wrap whose interrupt has not run yet: count it if `value` was read after the reload
     * (large), not if it was read just before reaching zero (small). */
    if (pending && value > SYST_RELOAD / 2) {
        wraps++;
    }
    /* SysTick counts down */
    return (uint64_t)wraps * (SYST_RELOAD + 1u) + (SYST_RELOAD - value);
}

plat_file plat_open_read(const char *name) { return semihost_open(name, SEMIHOST_MODE_RB); }

plat_file plat_open_write(const char *name) { return semihost_open(name, SEMIHOST_MODE_WB); }

int32_t plat_read(plat_file f, void *buf, uint32_t n) { return semihost_read(f, buf, n) == 0 ? 0 : -1; }

int32_t plat_write(plat_file f, const void *buf, uint32_t n)
{
    return semihost_write(f, buf, n) == 0 ? 0 : -1;
}

int64_t plat_length(plat_file f) { return semihost_flen(f); }

void plat_close(plat_file f) { semihost_close(f); }

void plat_log(const char *s) { semihost_write0(s); }

void plat_exit(int32_t code) { semihost_exit(code); }
