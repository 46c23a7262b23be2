/* Decimal numbers on the console without printf (so no stdio is linked on the target): shared by
 * the firmware apps (runner.c, kernel_check.c). */
#ifndef EDGEXF_LOG_NUM_H
#define EDGEXF_LOG_NUM_H

#include <stdint.h>

#include "platform.h"

/* Decimal text of v into buf (at least 21 bytes). */
static inline const char *fmt_i64(char *buf, int64_t v)
{
    char *p = buf + 20;
    uint64_t u = v < 0 ? 0u - (uint64_t)v : (uint64_t)v;
    *p = '\0';
    do {
        *--p = (char)('0' + u % 10u);
        u /= 10u;
    } while (u != 0u);
    if (v < 0) {
        *--p = '-';
    }
    return p;
}

static inline void log_num(int64_t v)
{
    char buf[21];
    plat_log(fmt_i64(buf, v));
}

#endif /* EDGEXF_LOG_NUM_H */
