/* ARM semihosting: file and console I/O through the debugger or emulator (QEMU
 * -semihosting-config enable=on,target=native). Each call is `bkpt 0xAB` with r0 = operation and
 * r1 = argument; QEMU resolves relative file names against its own working directory.
 *
 * Without a debugger attached, a real board takes `bkpt` as a fault: this is for emulation and
 * debug-probe runs only.
 */
#ifndef EDGEXF_SEMIHOST_H
#define EDGEXF_SEMIHOST_H

#include <stdint.h>

/* SYS_OPEN modes (ISO C fopen modes, in this order): 1 = "rb", 5 = "wb". */
enum { SEMIHOST_MODE_RB = 1, SEMIHOST_MODE_WB = 5 };

int32_t semihost_open(const char *name, int32_t mode);             /* handle, or -1 */
int32_t semihost_read(int32_t handle, void *buf, uint32_t n);      /* bytes NOT read (0: all) */
int32_t semihost_write(int32_t handle, const void *buf, uint32_t n); /* bytes NOT written (0: all) */
int32_t semihost_close(int32_t handle);                            /* 0 on success */
int32_t semihost_flen(int32_t handle);                             /* length in bytes, or -1 */
void semihost_write0(const char *s);                               /* NUL-terminated string to the console */
__attribute__((noreturn)) void semihost_exit(int32_t code);        /* QEMU exits with status `code` */

#endif /* EDGEXF_SEMIHOST_H */
