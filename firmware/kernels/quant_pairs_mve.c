/* The 2 x 2 blocked product of pair-row matrices (quant_pairs.h) for cores with Helium (MVE), the same
 * sums as exfp_dot_pairs, which calls it there (the int16-weight linear and patch kernels; the attention
 * has its own Helium form there, quant_attention_mve.c). Compiled to nothing elsewhere (under __ARM_FEATURE_MVE).
 *
 * A row pair's group of four elements is 16 bytes: row 0's {e0 e2} {e1 e3}, then row 1's. Two groups of
 * one row are gathered into one vector of eight int16 (VLDRH gather, halfword offsets 0-3 and 8-11 for
 * row 0, 4-7 and 12-15 for row 1), and VMLADAV.S16 adds the eight products of two such vectors to a
 * sum: per two groups, four gathers and four VMLADAV for the block's 32 MACs. The pairing inside a
 * group ({e0 e2} {e1 e3}) is the same on both sides, so the products line up. A last odd group is
 * loaded whole (both rows) and against b with its rows swapped (a gather): the two full sums give
 * c00 + c11 and c01 + c10, the same with a's row 1 masked off give c00 and c01. Sums of at most
 * 65025 n in magnitude (quant_pairs.h), exact in int32.
 * The count is of instructions (QEMU): on the silicon a gather moves one element a cycle or so. */
#include "quant_pairs.h"

#if EXF_MVE
#include <arm_mve.h>

void exfp_dot_pairs_mve(const uint32_t *a, const uint32_t *b, int32_t groups, int32_t pairs, int32_t *acc) {
    static const uint16_t row0[8] = {0, 1, 2, 3, 8, 9, 10, 11}, row1[8] = {4, 5, 6, 7, 12, 13, 14, 15};
    static const uint16_t swap[8] = {4, 5, 6, 7, 0, 1, 2, 3};
    static const int16_t lo[8] = {-1, -1, -1, -1, 0, 0, 0, 0};
    const uint16x8_t off0 = vld1q_u16(row0), off1 = vld1q_u16(row1);
    const int16_t *pa = (const int16_t *)(const void *)a;
    const int16_t *pb = (const int16_t *)(const void *)b;
    const int32_t twos = groups >> 1;
    if (groups == 4) { /* dh 13-16 (the ViTs' heads): a's four vectors stay in registers */
        const int16x8_t x00 = vldrhq_gather_shifted_offset_s16(pa, off0), x01 = vldrhq_gather_shifted_offset_s16(pa + 16, off0);
        const int16x8_t x10 = vldrhq_gather_shifted_offset_s16(pa, off1), x11 = vldrhq_gather_shifted_offset_s16(pa + 16, off1);
        for (int32_t p = 0; p < pairs; p++, acc += 4, pb += 32) {
            const int16x8_t y00 = vldrhq_gather_shifted_offset_s16(pb, off0);
            const int16x8_t y01 = vldrhq_gather_shifted_offset_s16(pb + 16, off0);
            const int16x8_t y10 = vldrhq_gather_shifted_offset_s16(pb, off1);
            const int16x8_t y11 = vldrhq_gather_shifted_offset_s16(pb + 16, off1);
            acc[0] = vmladavaq_s16(vmladavq_s16(x00, y00), x01, y01);
            acc[1] = vmladavaq_s16(vmladavq_s16(x10, y00), x11, y01);
            acc[2] = vmladavaq_s16(vmladavq_s16(x00, y10), x01, y11);
            acc[3] = vmladavaq_s16(vmladavq_s16(x10, y10), x11, y11);
        }
        return;
    }
    for (int32_t p = 0; p < pairs; p++, acc += 4, pb += 8 * groups) {
        int32_t c00 = 0, c01 = 0, c10 = 0, c11 = 0;
        for (int32_t g = 0; g < twos; g++) { /* groups 2 g and 2 g + 1: 16 halfwords of each row pair */
            const int16_t *ga = pa + 16 * g, *gb = pb + 16 * g;
            const int16x8_t x0 = vldrhq_gather_shifted_offset_s16(ga, off0);
            const int16x8_t x1 = vldrhq_gather_shifted_offset_s16(ga, off1);
            const int16x8_t y0 = vldrhq_gather_shifted_offset_s16(gb, off0);
            const int16x8_t y1 = vldrhq_gather_shifted_offset_s16(gb, off1);
            c00 = vmladavaq_s16(c00, x0, y0);
            c01 = vmladavaq_s16(c01, x0, y1);
            c10 = vmladavaq_s16(c10, x1, y0);
            c11 = vmladavaq_s16(c11, x1, y1);
        }
        if (groups & 1) { /* the last group: {a0 a1} against {b0 b1} and {b1 b0} */
            const int16_t *ga = pa + 16 * twos, *gb = pb + 16 * twos;
            const int16x8_t x = vld1q_s16(ga), y = vld1q_s16(gb);
            const int16x8_t ys = vldrhq_gather_shifted_offset_s16(gb, vld1q_u16(swap));
            const int16x8_t x_row0 = vandq_s16(x, vld1q_s16(lo));
            const int32_t d00 = vmladavq_s16(x_row0, y), d01 = vmladavq_s16(x_row0, ys);
            c00 += d00;
            c11 += vmladavq_s16(x, y) - d00;
            c01 += d01;
            c10 += vmladavq_s16(x, ys) - d01;
        }
        acc[0] = c00;
        acc[1] = c10;
        acc[2] = c01;
        acc[3] = c11;
    }
}
#endif /* EXF_MVE */
