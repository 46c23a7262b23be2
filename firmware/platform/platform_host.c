/* platform.h on a POSIX host: stdio files, CLOCK_MONOTONIC in nanoseconds. */
#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c11 */

#include "platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The runner holds at most three files open at once; a few spare slots. */
#define MAX_FILES 8
static FILE *files[MAX_FILES];

static plat_file keep(FILE *fp)
{
    if (fp == NULL) {
        return -1;
    }
    for (int32_t i = 0; i < MAX_FILES; i++) {
        if (files[i] == NULL) {
            files[i] = fp;
            return i;
        }
    }
    fclose(fp);
    return -1;
}

static FILE *get(plat_file f)
{
    return (f >= 0 && f < MAX_FILES) ? files[f] : NULL;
}

void plat_init(void) {}

plat_file plat_open_read(const char *name) { return keep(fopen(name, "rb")); }

plat_file plat_open_write(const char *name) { return keep(fopen(name, "wb")); }

int32_t plat_read(plat_file f, void *buf, uint32_t n)
{
    FILE *fp = get(f);
    return (fp != NULL && fread(buf, 1, n, fp) == n) ? 0 : -1;
}

int32_t plat_write(plat_file f, const void *buf, uint32_t n)
{
    FILE *fp = get(f);
    return (fp != NULL && fwrite(buf, 1, n, fp) == n) ? 0 : -1;
}

int64_t plat_length(plat_file f)
{
    FILE *fp = get(f);
    if (fp == NULL) {
        return -1;
    }
    long here = ftell(fp);
    if (here < 0 || fseek(fp, 0, SEEK_END) != 0) {
        return -1;
    }
    long end = ftell(fp);
    fseek(fp, here, SEEK_SET);
    return end;
}

void plat_close(plat_file f)
{
    FILE *fp = get(f);
    if (fp != NULL) {
        fclose(fp);
        files[f] = NULL;
    }
}

uint64_t plat_ticks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void plat_log(const char *s)
{
    fputs(s, stdout);
}

void plat_exit(int32_t code)
{
    exit(code); /* flushes the log and closes the files */
}
