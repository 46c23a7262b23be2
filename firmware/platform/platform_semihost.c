/* platform.h on a Cortex-M under semihosting: files through the emulator (or a debug probe),
 * ticks from SysTick clocked by the core clock. Also the start-up's two hooks (startup.h): main's
 * return and a fault report go to the semihosting console and exit QEMU with that status. */
#include "platform.h"

#include "semihost.h"
#include "startup.h"
#include "systick.h"

void plat_init(void) { systick_start(); }

uint64_t plat_ticks(void) { return systick_ticks(); }

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

void startup_exit(int32_t code) { semihost_exit(code); }

void startup_fault(const char *report, int32_t code)
{
    semihost_write0(report);
    semihost_exit(code);
}
