/* One row pair of an int16-weight linear layer against all its output pairs, requantized straight from
 * the 2 x 2 block's registers (quant_dot_w16.c's int8-output path): exfp_row_pair_s8.
 *
 * Per output pair j (outputs 2 j, 2 j + 1) the four sums start from the two biases (the first group's
 * SMLAD accumulates onto them), take 12 instructions per group of four inputs (quant_pairs.h group2x2),
 * and are requantized by requant_t's SMMLA path with rq's terms (quant_dot_w16.c) and saturated to int8
 * without being stored: no sums written to scratch and read back, no loop of their own.
 *
 * Two forms of the same integers: plain C (the host build, and any core without Thumb-2 DSP), and on
 * Thumb-2 DSP cores a hand-allocated assembly function. gcc 12 spills the pointers of the bias, mult,
 * rq and y streams around the 13 registers the group loop holds and reloads terms after each int8 store
 * (a char store may alias them): its form took about 50 instructions per output pair outside the groups,
 * more than the separate requantization loop it replaces. The assembly keeps them in 7 stack words and
 * takes 33 (a bias, mult and rq LDRD each, 4 SMMLA, 4 ASR, 4 SSAT, 4 STRB, the stream pointers' loads
 * and stores, the loop branch). kernel_check.c runs both against the portable kernel (host and QEMU).
 */
#include "quant_pairs.h"

#if EXF_SIMD_NATIVE && defined(__thumb2__) && !EXF_MVE
#define EXF_ROW_PAIR_ASM 1
#else
#define EXF_ROW_PAIR_ASM 0
#endif

/* requant_t's SMMLA path with an output's terms (mult, rb = rq[2 j], sh = rq[2 j + 1]), saturated to int8 */
static ALWAYS_INLINE int8_t requant_s8(int32_t acc, int32_t mult, int32_t rb, int32_t sh) {
    return (int8_t)exf_ssat8(smmla(acc, mult, rb) >> sh);
}

/* The row pair a (groups groups, a_end its end) against the next output pair of *w (advanced past it):
 * c[0] = row 0 . output 0 + b0, c[1] = row 1 . output 0 + b0, c[2] = row 0 . output 1 + b1,
 * c[3] = row 1 . output 1 + b1. odd (groups odd): a constant where inlined. */
static ALWAYS_INLINE void block2x2(const uint32_t *a, const uint32_t *a_end, const uint32_t **w, int32_t b0,
                                   int32_t b1, int32_t c[4], const int odd) {
    const uint32_t *pa = a, *b = *w;
    uint32_t x0, x1, y0, y1, u0, u1;
    exf_load_pair(&pa, &x0, &x1);
    exf_load_pair(&pa, &y0, &y1);
    exf_load_pair(&b, &u0, &u1);
    int32_t c00 = exf_smlad(x1, u1, exf_smlad(x0, u0, b0)), c10 = exf_smlad(y1, u1, exf_smlad(y0, u0, b0));
    exf_load_pair(&b, &u0, &u1);
    int32_t c01 = exf_smlad(x1, u1, exf_smlad(x0, u0, b1)), c11 = exf_smlad(y1, u1, exf_smlad(y0, u0, b1));
    if (!odd) group2x2(&pa, &b, &c00, &c01, &c10, &c11);
    while (pa != a_end) { /* an even number of groups left */
        group2x2(&pa, &b, &c00, &c01, &c10, &c11);
        group2x2(&pa, &b, &c00, &c01, &c10, &c11);
    }
    *w = b;
    c[0] = c00;
    c[1] = c10;
    c[2] = c01;
    c[3] = c11;
}

#if EXF_ROW_PAIR_ASM
/* The full output pairs in Thumb-2: r0 = the job. Registers in the group loop: r0-r3 the sums c00 c10
 * c01 c11, r4 r5 a row 0's two words, r6 r7 a row 1's, r8 r9 a weight row's, r10 the a pointer, r11 the
 * weight pointer, r12 a's end; lr a stream pointer outside it. Stack words: 0 a, 4 bias, 8 mult, 12 rq,
 * 16 y0, 20 y0's end, 24 y1. The group loop takes two groups a pass; for an even group count the first
 * pass of each pair starts with one group more (the macro's `even`). */
__attribute__((naked, noinline)) static void row_pairs_asm(const exfp_row_pair_t *job) {
    __asm__ volatile(
        ".macro EXF_GROUP\n"
        "ldrd r4, r5, [r10], #8\n"
        "ldrd r6, r7, [r10], #8\n"
        "ldrd r8, r9, [r11], #8\n"
        "smlad r0, r4, r8, r0\n"
        "smlad r1, r6, r8, r1\n"
        "smlad r0, r5, r9, r0\n"
        "smlad r1, r7, r9, r1\n"
        "ldrd r8, r9, [r11], #8\n"
        "smlad r2, r4, r8, r2\n"
        "smlad r3, r6, r8, r3\n"
        "smlad r2, r5, r9, r2\n"
        "smlad r3, r7, r9, r3\n"
        ".endm\n"
        ".macro EXF_PAIRS even\n"
        "1:\n"
        "ldr r10, [sp, #0]\n"
        "ldr lr, [sp, #4]\n"
        "ldrd r0, r2, [lr], #8\n" /* the biases start c00 and c01 */
        "str lr, [sp, #4]\n"
        "ldrd r4, r5, [r10], #8\n"
        "ldrd r6, r7, [r10], #8\n"
        "ldrd r8, r9, [r11], #8\n"
        "smlad r1, r6, r8, r0\n" /* c10 from the bias before c00 overwrites it */
        "smlad r0, r4, r8, r0\n"
        "smlad r1, r7, r9, r1\n"
        "smlad r0, r5, r9, r0\n"
        "ldrd r8, r9, [r11], #8\n"
        "smlad r3, r6, r8, r2\n"
        "smlad r2, r4, r8, r2\n"
        "smlad r3, r7, r9, r3\n"
        "smlad r2, r5, r9, r2\n"
        ".if \\even\n"
        "EXF_GROUP\n"
        ".endif\n"
        "cmp r10, r12\n"
        "beq 3f\n"
        "2:\n"
        "EXF_GROUP\n"
        "EXF_GROUP\n"
        "cmp r10, r12\n"
        "bne 2b\n"
        "3:\n"
        "ldr lr, [sp, #8]\n"
        "ldrd r4, r5, [lr], #8\n" /* mult */
        "str lr, [sp, #8]\n"
        "ldr lr, [sp, #12]\n"
        "ldrd r6, r7, [lr], #8\n" /* rb, sh of output 0 */
        "ldrd r8, r9, [lr], #8\n" /* of output 1 */
        "str lr, [sp, #12]\n"
        "smmla r0, r0, r4, r6\n"
        "smmla r1, r1, r4, r6\n"
        "smmla r2, r2, r5, r8\n"
        "smmla r3, r3, r5, r8\n"
        "asr r0, r0, r7\n"
        "asr r1, r1, r7\n"
        "asr r2, r2, r9\n"
        "asr r3, r3, r9\n"
        "ssat r0, #8, r0\n"
        "ssat r1, #8, r1\n"
        "ssat r2, #8, r2\n"
        "ssat r3, #8, r3\n"
        "ldr lr, [sp, #24]\n"
        "strb r3, [lr, #1]\n"
        "strb r1, [lr], #2\n"
        "str lr, [sp, #24]\n"
        "ldrd lr, r4, [sp, #16]\n"
        "strb r2, [lr, #1]\n"
        "strb r0, [lr], #2\n"
        "str lr, [sp, #16]\n"
        "cmp lr, r4\n"
        "bne 1b\n"
        ".endm\n"
        "push {r4-r11, lr}\n"
        "sub sp, sp, #28\n"
        "ldrd r1, r11, [r0, #0]\n"  /* a, w */
        "ldrd r2, r3, [r0, #8]\n"   /* groups, full output pairs */
        "add r12, r1, r2, lsl #4\n" /* a's end */
        "str r1, [sp, #0]\n"
        "ldrd r4, r5, [r0, #16]\n" /* bias, mult */
        "ldrd r6, r7, [r0, #24]\n" /* rq, y0 */
        "ldr r8, [r0, #32]\n"      /* y1 */
        "add r9, r7, r3, lsl #1\n" /* y0's end */
        "strd r4, r5, [sp, #4]\n"
        "strd r6, r7, [sp, #12]\n"
        "strd r9, r8, [sp, #20]\n"
        "tst r2, #1\n"
        "bne 4f\n"
        "EXF_PAIRS 1\n"
        "b 5f\n"
        "4:\n"
        "EXF_PAIRS 0\n"
        "5:\n"
        "add sp, sp, #28\n"
        "pop {r4-r11, pc}\n"
        ".purgem EXF_GROUP\n"
        ".purgem EXF_PAIRS\n");
}
#endif

/* The full output pairs in C (the host, cores without the assembly form). odd: a constant where inlined. */
static ALWAYS_INLINE void row_pairs_body(const exfp_row_pair_t *job, const int odd) {
    const uint32_t *a = job->a, *w = job->w, *const a_end = a + 4 * job->groups;
    const int32_t *bias = job->bias, *mult = job->mult, *rq = job->rq;
    int8_t *y0 = job->y0, *y1 = job->y1;
    int32_t c[4];
    for (int32_t p = 0; p < job->pairs; p++, y0 += 2, y1 += 2, bias += 2, mult += 2, rq += 4) {
        block2x2(a, a_end, &w, bias[0], bias[1], c, odd);
        y0[0] = requant_s8(c[0], mult[0], rq[0], rq[1]);
        y1[0] = requant_s8(c[1], mult[0], rq[0], rq[1]);
        y0[1] = requant_s8(c[2], mult[1], rq[2], rq[3]);
        y1[1] = requant_s8(c[3], mult[1], rq[2], rq[3]);
    }
}

void exfp_row_pair_s8(const exfp_row_pair_t *job, int32_t m) {
    if (job->pairs > 0) {
#if EXF_ROW_PAIR_ASM
        row_pairs_asm(job);
#else
        if (job->groups & 1) {
            row_pairs_body(job, 1);
        } else {
            row_pairs_body(job, 0);
        }
#endif
    }
    if (m & 1) { /* the last output, paired with a row of zeros in w */
        const int32_t j = m - 1, *rq = job->rq + 2 * j;
        const uint32_t *w = job->w + 4 * job->groups * job->pairs;
        int32_t c[4];
        if (job->groups & 1) {
            block2x2(job->a, job->a + 4 * job->groups, &w, job->bias[j], 0, c, 1);
        } else {
            block2x2(job->a, job->a + 4 * job->groups, &w, job->bias[j], 0, c, 0);
        }
        job->y0[j] = requant_s8(c[0], job->mult[j], rq[0], rq[1]);
        job->y1[j] = requant_s8(c[1], job->mult[j], rq[0], rq[1]);
    }
}
