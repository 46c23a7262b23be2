/* ARM semihosting calls (see semihost.h). Operation numbers from the Arm semihosting spec v3. */
#include "semihost.h"

#include <string.h>

enum {
    SYS_OPEN = 0x01,
    SYS_CLOSE = 0x02,
    SYS_WRITE0 = 0x04,
    SYS_WRITE = 0x05,
    SYS_READ = 0x06,
    SYS_FLEN = 0x0C,
    SYS_EXIT_EXTENDED = 0x20,
};

/* ADP_Stopped_ApplicationExit: with SYS_EXIT_EXTENDED the second word is the exit status
 * (plain SYS_EXIT can only say 0 or 1). */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static int32_t semihost_call(int32_t op, const void *arg)
{
    register int32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    /* "memory": the host reads and writes the blocks and buffers r1 points to. */
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

int32_t semihost_open(const char *name, int32_t mode)
{
    uint32_t block[3] = {(uint32_t)(uintptr_t)name, (uint32_t)mode, (uint32_t)strlen(name)};
    return semihost_call(SYS_OPEN, block);
}

int32_t semihost_read(int32_t handle, void *buf, uint32_t n)
{
    uint32_t block[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)buf, n};
    return semihost_call(SYS_READ, block);
}

int32_t semihost_write(int32_t handle, const void *buf, uint32_t n)
{
    uint32_t block[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)buf, n};
    return semihost_call(SYS_WRITE, block);
}

int32_t semihost_close(int32_t handle)
{
    uint32_t block[1] = {(uint32_t)handle};
    return semihost_call(SYS_CLOSE, block);
}

int32_t semihost_flen(int32_t handle)
{
    uint32_t block[1] = {(uint32_t)handle};
    return semihost_call(SYS_FLEN, block);
}

void semihost_write0(const char *s)
{
    semihost_call(SYS_WRITE0, s);
}

void semihost_exit(int32_t code)
{
    uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
    semihost_call(SYS_EXIT_EXTENDED, block);
    for (;;) {
        /* not reached under an emulator; on a board without a debugger, stay here */
    }
}
