/* Blocks of two or three rows of an int16-weight linear layer against all its output pairs, requantized
 * straight from the block's registers (quant_dot_w16.c's int8-output path): exfp_row_pair_s8 (2 x 2
 * blocks) and exfp_row_triple_s8 (3 x 2).
 *
 * Per output pair (outputs 2 j, 2 j + 1) the sums start from the two biases (the first group's SMLAD
 * accumulates onto them), take per group of four inputs one LDRD per row and per output and two SMLAD per
 * sum (2 x 2: 12 instructions for 16 MACs; 3 x 2: 17 for 24), and are requantized by requant_t's SMMLA
 * path with rq's terms (quant_dot_w16.c) and saturated to int8 without being stored: no sums written to
 * scratch and read back, no loop of their own.
 *
 * Two forms of the same integers: plain C (the host build, cores without Thumb-2 DSP) and, on Thumb-2
 * DSP cores, hand-allocated assembly. gcc 12 spills the bias, mult, rq and y stream pointers around the
 * 13 registers the 2 x 2 group loop holds and reloads terms after each int8 store (a char store may alias
 * them): its form took about 50 instructions per output pair outside the groups, more than the separate
 * requantization loop it replaces. The assembly keeps them in stack words: 35 instructions per 2 x 2
 * output pair (4 results), 45 per 3 x 2 one (6 results), besides the groups. The 3 x 2 group loop needs
 * 15 registers (six sums, two row words, four weight words, two pointers and the rows' end): the end
 * stays on the stack, one load per pass of four groups (71 instructions per 96 MACs, against 50 per 64
 * for 2 x 2).
 * kernel_check.c runs every form against the portable kernel (host and QEMU). */
#include "quant_pairs.h"

#if EXF_SIMD_NATIVE && defined(__thumb2__) && !EXF_MVE
#define EXF_ROWS_ASM 1
#else
#define EXF_ROWS_ASM 0
#endif

/* requant_t's SMMLA path with an output's terms (mult, rb = rq[2 j], sh = rq[2 j + 1]), saturated to y's
 * type and stored as its element i */
static ALWAYS_INLINE void requant_store(void *y, int32_t y_bytes, int32_t i, int32_t acc, int32_t mult, int32_t rb,
                                        int32_t sh) {
    const int32_t v = smmla(acc, mult, rb) >> sh;
    if (y_bytes == 2) {
        ((int16_t *)y)[i] = (int16_t)exf_ssat16(v);
    } else {
        ((int8_t *)y)[i] = (int8_t)exf_ssat8(v);
    }
}

/* The block's rows (rows 2 or 3: a's groups 2 rows words apart, row r at words 2 r, 2 r + 1) against
 * every output pair from output 2 first on, in C: the host's form, and on Thumb-2 DSP cores the last
 * output of an odd m (its pair's second weight row is zeros). One generic loop, not specialized: its
 * speed matters only for that one output. */
static void rows_c(const exfp_rows_s8_t *job, int32_t rows, int32_t first) {
    const int32_t groups = job->groups, m = job->m;
    const uint32_t *w = job->w + 4 * groups * first;
    for (int32_t j = 2 * first; j < m; j += 2) {
        const int two = j + 1 < m;
        int32_t c[6]; /* c[r + 3 s]: row r . output j + s + its bias */
        for (int32_t r = 0; r < rows; r++) c[r] = job->bias[j], c[r + 3] = two ? job->bias[j + 1] : 0;
        const uint32_t *pa = job->a;
        for (int32_t g = 0; g < groups; g++) {
            uint32_t u0, u1, v0, v1; /* the group of outputs j and j + 1 */
            exf_load_pair(&w, &u0, &u1);
            exf_load_pair(&w, &v0, &v1);
            for (int32_t r = 0; r < rows; r++) {
                uint32_t x0, x1;
                exf_load_pair(&pa, &x0, &x1);
                c[r] = exf_smlad(x1, u1, exf_smlad(x0, u0, c[r]));
                c[r + 3] = exf_smlad(x1, v1, exf_smlad(x0, v0, c[r + 3]));
            }
        }
        const int32_t *rq = job->rq + 2 * j;
        for (int32_t r = 0; r < rows; r++) {
            requant_store(job->y, job->y_bytes, r * m + j, c[r], job->mult[j], rq[0], rq[1]);
            if (two) requant_store(job->y, job->y_bytes, r * m + j + 1, c[r + 3], job->mult[j + 1], rq[2], rq[3]);
        }
    }
}

#if EXF_ROWS_ASM
/* 2 x 2 in Thumb-2: r0 = the job. Group loop registers: r0-r3 the sums c00 c10 c01 c11, r4 r5 a row 0's
 * two words, r6 r7 row 1's, r8 r9 a weight row's, r10 the a pointer, r11 the weight pointer, r12 a's end;
 * lr a stream pointer outside it. Stack words: 0 a, 4 bias, 8 mult, 12 rq, 16 y0, 20 y0's end, 24 y1,
 * 28 where the group loop is entered. The group loop takes four groups a pass (50 instructions per 64
 * MACs), entered by a TBB as in triples_asm. */
/* One body for both output types: SAT the saturation bits, ST the store, OFF STEP an output's and a pair's
 * bytes, LSL log2 of the element bytes. */
#define EXF_PAIRS_ASM(name, SAT, ST, OFF, STEP, LSL) \
    __attribute__((naked, noinline)) static void name(__attribute__((unused)) const exfp_rows_s8_t *job) { \
    __asm__ volatile( \
        ".macro EXF_G2\n" \
        "ldrd r4, r5, [r10], #8\n" \
        "ldrd r6, r7, [r10], #8\n" \
        "ldrd r8, r9, [r11], #8\n" \
        "smlad r0, r4, r8, r0\n" \
        "smlad r1, r6, r8, r1\n" \
        "smlad r0, r5, r9, r0\n" \
        "smlad r1, r7, r9, r1\n" \
        "ldrd r8, r9, [r11], #8\n" \
        "smlad r2, r4, r8, r2\n" \
        "smlad r3, r6, r8, r3\n" \
        "smlad r2, r5, r9, r2\n" \
        "smlad r3, r7, r9, r3\n" \
        ".endm\n" \
        "push {r4-r11, lr}\n" \
        "sub sp, sp, #36\n" \
        "ldrd r1, r11, [r0, #0]\n"  /* a, w */ \
        "ldrd r2, r3, [r0, #8]\n"   /* groups, full output pairs */ \
        "add r12, r1, r2, lsl #4\n" /* a's end */ \
        "str r1, [sp, #0]\n" \
        "ldrd r4, r5, [r0, #16]\n" /* bias, mult */ \
        "ldrd r6, r7, [r0, #24]\n" /* rq, y */ \
        "ldr r8, [r0, #32]\n"      /* m */ \
        "add r8, r7, r8, lsl #" LSL "\n" /* y1: m elements on */ \
        "add r9, r7, r3, lsl #(1 + " LSL ")\n" /* y0's end */ \
        "strd r4, r5, [sp, #4]\n" \
        "strd r6, r7, [sp, #12]\n" \
        "strd r9, r8, [sp, #20]\n" \
        "subs r2, r2, #1\n" /* groups after the first */ \
        "rsb r9, r2, #0\n" \
        "and r9, r9, #3\n" \
        "it eq\n" \
        "moveq r9, #4\n" /* none: the requantization */ \
        "str r9, [sp, #28]\n" \
        "1:\n" \
        "ldr r10, [sp, #0]\n" \
        "ldr lr, [sp, #4]\n" \
        "ldrd r0, r2, [lr], #8\n" /* the biases start c00 and c01 */ \
        "str lr, [sp, #4]\n" \
        "ldrd r4, r5, [r10], #8\n" \
        "ldrd r6, r7, [r10], #8\n" \
        "ldrd r8, r9, [r11], #8\n" \
        "smlad r1, r6, r8, r0\n" /* c10 from the bias before c00 overwrites it */ \
        "smlad r0, r4, r8, r0\n" \
        "smlad r1, r7, r9, r1\n" \
        "smlad r0, r5, r9, r0\n" \
        "ldrd r8, r9, [r11], #8\n" \
        "smlad r3, r6, r8, r2\n" \
        "smlad r2, r4, r8, r2\n" \
        "smlad r3, r7, r9, r3\n" \
        "smlad r2, r5, r9, r2\n" \
        "ldr lr, [sp, #28]\n" \
        "tbb [pc, lr]\n" \
        "6:\n" \
        ".byte (2f - 6b) / 2, (7f - 6b) / 2, (8f - 6b) / 2, (9f - 6b) / 2, (3f - 6b) / 2\n" \
        ".align 1\n" \
        "2:\n" \
        "EXF_G2\n" \
        "7:\n" \
        "EXF_G2\n" \
        "8:\n" \
        "EXF_G2\n" \
        "9:\n" \
        "EXF_G2\n" \
        "cmp r10, r12\n" \
        "bne 2b\n" \
        "3:\n" \
        "ldr lr, [sp, #8]\n" \
        "ldrd r4, r5, [lr], #8\n" /* mult */ \
        "str lr, [sp, #8]\n" \
        "ldr lr, [sp, #12]\n" \
        "ldrd r6, r7, [lr], #8\n" /* rb, sh of output 0 */ \
        "ldrd r8, r9, [lr], #8\n" /* of output 1 */ \
        "str lr, [sp, #12]\n" \
        "smmla r0, r0, r4, r6\n" \
        "smmla r1, r1, r4, r6\n" \
        "smmla r2, r2, r5, r8\n" \
        "smmla r3, r3, r5, r8\n" \
        "asr r0, r0, r7\n" \
        "asr r1, r1, r7\n" \
        "asr r2, r2, r9\n" \
        "asr r3, r3, r9\n" \
        "ssat r0, #" SAT ", r0\n" \
        "ssat r1, #" SAT ", r1\n" \
        "ssat r2, #" SAT ", r2\n" \
        "ssat r3, #" SAT ", r3\n" \
        "ldr lr, [sp, #24]\n" \
        ST " r3, [lr, #" OFF "]\n" \
        ST " r1, [lr], #" STEP "\n" \
        "str lr, [sp, #24]\n" \
        "ldrd lr, r4, [sp, #16]\n" \
        ST " r2, [lr, #" OFF "]\n" \
        ST " r0, [lr], #" STEP "\n" \
        "str lr, [sp, #16]\n" \
        "cmp lr, r4\n" \
        "bne 1b\n" \
        "add sp, sp, #36\n" \
        "pop {r4-r11, pc}\n" \
        ".purgem EXF_G2\n"); \
    }
EXF_PAIRS_ASM(pairs_asm, "8", "strb", "1", "2", "0")
EXF_PAIRS_ASM(pairs_asm_s16, "16", "strh", "2", "4", "1")
#undef EXF_PAIRS_ASM

/* 3 x 2 in Thumb-2: r0 = the job. Group loop registers: r0-r2 the sums of rows 0-2 with output 0, r3-r5
 * with output 1, r6 r7 a row's two words, r8 r9 output 0's weight words, r10 r11 output 1's, r12 the a
 * pointer, lr the weight pointer. Stack words: 0 a, 4 a's end, 8 bias, 12 mult, 16 rq, 20 y, 24 m, 28 y's
 * end, 32 where the group loop is entered. The first group takes the rows from the last, so that the
 * biases in r0 and r3 start every sum before row 0's overwrite them. The group loop takes four groups a
 * pass (the end compared once a pass: 71 instructions per 96 MACs) and is entered by a TBB at the group
 * that leaves a whole number of passes, (1 - groups) mod 4, or straight at the requantization for one
 * group: 2 instructions per output pair, and one copy of the loop. */
__attribute__((naked, noinline)) static void triples_asm(__attribute__((unused)) const exfp_rows_s8_t *job) {
    __asm__ volatile(
        ".macro EXF_G3\n"
        "ldrd r8, r9, [lr], #8\n"
        "ldrd r10, r11, [lr], #8\n"
        "ldrd r6, r7, [r12], #8\n"
        "smlad r0, r6, r8, r0\n"
        "smlad r3, r6, r10, r3\n"
        "smlad r0, r7, r9, r0\n"
        "smlad r3, r7, r11, r3\n"
        "ldrd r6, r7, [r12], #8\n"
        "smlad r1, r6, r8, r1\n"
        "smlad r4, r6, r10, r4\n"
        "smlad r1, r7, r9, r1\n"
        "smlad r4, r7, r11, r4\n"
        "ldrd r6, r7, [r12], #8\n"
        "smlad r2, r6, r8, r2\n"
        "smlad r5, r6, r10, r5\n"
        "smlad r2, r7, r9, r2\n"
        "smlad r5, r7, r11, r5\n"
        ".endm\n"
        "push {r4-r11, lr}\n"
        "sub sp, sp, #36\n"
        "ldrd r1, lr, [r0, #0]\n" /* a, w */
        "ldrd r2, r3, [r0, #8]\n" /* groups, full output pairs */
        "add r4, r2, r2, lsl #1\n"
        "add r4, r1, r4, lsl #3\n" /* a's end: 24 groups bytes on */
        "strd r1, r4, [sp, #0]\n"
        "ldrd r4, r5, [r0, #16]\n" /* bias, mult */
        "ldrd r6, r7, [r0, #24]\n" /* rq, y */
        "ldr r8, [r0, #32]\n"      /* m */
        "add r9, r7, r3, lsl #1\n" /* y's end */
        "strd r4, r5, [sp, #8]\n"
        "strd r6, r7, [sp, #16]\n"
        "strd r8, r9, [sp, #24]\n"
        "subs r2, r2, #1\n" /* groups after the first */
        "rsb r9, r2, #0\n"
        "and r9, r9, #3\n"
        "it eq\n"
        "moveq r9, #4\n" /* none: the requantization */
        "str r9, [sp, #32]\n"
        "1:\n"
        "ldr r12, [sp, #0]\n"
        "ldr r6, [sp, #8]\n"
        "ldrd r0, r3, [r6], #8\n" /* the biases */
        "str r6, [sp, #8]\n"
        "ldrd r8, r9, [lr], #8\n"
        "ldrd r10, r11, [lr], #8\n"
        "ldrd r6, r7, [r12, #16]\n" /* row 2 */
        "smlad r2, r6, r8, r0\n"
        "smlad r5, r6, r10, r3\n"
        "smlad r2, r7, r9, r2\n"
        "smlad r5, r7, r11, r5\n"
        "ldrd r6, r7, [r12, #8]\n" /* row 1 */
        "smlad r1, r6, r8, r0\n"
        "smlad r4, r6, r10, r3\n"
        "smlad r1, r7, r9, r1\n"
        "smlad r4, r7, r11, r4\n"
        "ldrd r6, r7, [r12], #24\n" /* row 0 */
        "smlad r0, r6, r8, r0\n"
        "smlad r3, r6, r10, r3\n"
        "smlad r0, r7, r9, r0\n"
        "smlad r3, r7, r11, r3\n"
        "ldr r6, [sp, #32]\n"
        "tbb [pc, r6]\n"
        "6:\n"
        ".byte (2f - 6b) / 2, (7f - 6b) / 2, (8f - 6b) / 2, (9f - 6b) / 2, (3f - 6b) / 2\n"
        ".align 1\n"
        "2:\n"
        "EXF_G3\n"
        "7:\n"
        "EXF_G3\n"
        "8:\n"
        "EXF_G3\n"
        "9:\n"
        "EXF_G3\n"
        "ldr r6, [sp, #4]\n"
        "cmp r12, r6\n"
        "bne 2b\n"
        "3:\n"
        "ldr r6, [sp, #12]\n"
        "ldrd r8, r9, [r6], #8\n" /* mult */
        "str r6, [sp, #12]\n"
        "ldr r6, [sp, #16]\n"
        "ldrd r10, r11, [r6], #8\n" /* rb, sh of output 0 */
        "ldrd r7, r12, [r6], #8\n"  /* of output 1 */
        "str r6, [sp, #16]\n"
        "smmla r0, r0, r8, r10\n"
        "smmla r1, r1, r8, r10\n"
        "smmla r2, r2, r8, r10\n"
        "smmla r3, r3, r9, r7\n"
        "smmla r4, r4, r9, r7\n"
        "smmla r5, r5, r9, r7\n"
        "asr r0, r0, r11\n"
        "asr r1, r1, r11\n"
        "asr r2, r2, r11\n"
        "asr r3, r3, r12\n"
        "asr r4, r4, r12\n"
        "asr r5, r5, r12\n"
        "ssat r0, #8, r0\n"
        "ssat r1, #8, r1\n"
        "ssat r2, #8, r2\n"
        "ssat r3, #8, r3\n"
        "ssat r4, #8, r4\n"
        "ssat r5, #8, r5\n"
        "ldrd r6, r7, [sp, #20]\n" /* y, m */
        "add r8, r6, #2\n"
        "str r8, [sp, #20]\n"
        "strb r0, [r6]\n"
        "strb r3, [r6, #1]\n"
        "add r6, r6, r7\n"
        "strb r1, [r6]\n"
        "strb r4, [r6, #1]\n"
        "add r6, r6, r7\n"
        "strb r2, [r6]\n"
        "strb r5, [r6, #1]\n"
        "ldr r9, [sp, #28]\n"
        "cmp r8, r9\n"
        "bne 1b\n"
        "add sp, sp, #36\n"
        "pop {r4-r11, pc}\n"
        ".purgem EXF_G3\n");
}
#endif

void exfp_row_pair_s8(const exfp_rows_s8_t *job) {
#if EXF_ROWS_ASM
    if (job->pairs > 0) {
        if (job->y_bytes == 2) {
            pairs_asm_s16(job);
        } else {
            pairs_asm(job);
        }
    }
    rows_c(job, 2, job->pairs); /* an odd m's last output, if any */
#else
    rows_c(job, 2, 0);
#endif
}

void exfp_row_triple_s8(const exfp_rows_s8_t *job) {
#if EXF_ROWS_ASM
    if (job->pairs > 0) triples_asm(job);
    rows_c(job, 3, job->pairs);
#else
    rows_c(job, 3, 0);
#endif
}
