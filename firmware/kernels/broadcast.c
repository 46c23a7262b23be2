/* The broadcast walk of the elementwise kernels (broadcast.h). */
#include "broadcast.h"

void exf_bcast_walk(const int32_t shape[4], int32_t nops, const int32_t *const strides[], exf_bcast_fn fn,
                    const void *ctx) {
    exf_bcast_block b;
    if (shape[0] == 1 && shape[1] == 1 && shape[2] == 1) { /* one row already (the code generator's merge) */
        b.rows = 1;
        b.n = shape[3];
        for (int32_t j = 0; j < nops; j++) {
            b.off[j] = b.row_step[j] = 0;
            b.step[j] = strides[j][3];
        }
        fn(ctx, 0, &b);
        return;
    }
    int32_t n[4] = {1, 1, 1, 1}, s[EXF_BCAST_MAX_OPS][4] = {{0}};
    int32_t axes = 0; /* the axes of size other than 1, in order, into n[4 - axes .. 3] */
    for (int32_t k = 3; k >= 0; k--) {
        if (shape[k] == 1) continue;
        axes++;
        n[4 - axes] = shape[k];
        for (int32_t j = 0; j < nops; j++) s[j][4 - axes] = strides[j][k];
    }
    /* axes 2, 1, 0 into the innermost while every operand steps through them as one */
    for (int32_t k = 2; k > 3 - axes; k--) {
        int32_t one = 1;
        for (int32_t j = 0; j < nops; j++) one &= s[j][k] == s[j][3] * n[3];
        if (!one) break;
        n[3] *= n[k];
        n[k] = 1;
        for (int32_t j = 0; j < nops; j++) s[j][k] = 0;
    }
    /* the merged axes left 1s between: move the outer ones in */
    for (int32_t k = 2, to = 2; k >= 0; k--) {
        if (n[k] == 1) continue;
        if (k != to) {
            n[to] = n[k];
            n[k] = 1;
            for (int32_t j = 0; j < nops; j++) {
                s[j][to] = s[j][k];
                s[j][k] = 0;
            }
        }
        to--;
    }
    b.rows = n[2];
    b.n = n[3];
    for (int32_t j = 0; j < nops; j++) {
        b.row_step[j] = s[j][2];
        b.step[j] = s[j][3];
    }
    int32_t out = 0;
    for (int32_t i0 = 0; i0 < n[0]; i0++) {
        for (int32_t i1 = 0; i1 < n[1]; i1++, out += n[2] * n[3]) {
            for (int32_t j = 0; j < nops; j++) b.off[j] = i0 * s[j][0] + i1 * s[j][1];
            fn(ctx, out, &b);
        }
    }
}
