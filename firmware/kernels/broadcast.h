/* The broadcast walk of the elementwise binary (and ternary) kernels, internal to the kernel library
 * (edgexf_kernels.h states the shapes and strides: rank 4, strides in elements, 0 on a broadcast axis, y
 * contiguous). Axes of size 1 are dropped, and then each operand's axes k and k + 1 are one axis where
 * s[k] == s[k + 1] * shape[k + 1] for every operand, innermost first: a same-shape op is one row of all
 * its elements, a row broadcast one row per repeat. What remains is walked in blocks of rows: the
 * kernel's block function gets y's offset (blocks come in y's order) and a block of `rows` rows of `n`
 * elements, operand j's element (r, i) at off[j] + r * row_step[j] + i * step[j]. */
#ifndef EDGEXF_BROADCAST_H
#define EDGEXF_BROADCAST_H

#include <stdint.h>

#define EXF_BCAST_MAX_OPS 3

typedef struct {
    int32_t rows, n;
    int32_t off[EXF_BCAST_MAX_OPS], row_step[EXF_BCAST_MAX_OPS], step[EXF_BCAST_MAX_OPS];
} exf_bcast_block;

/* y's elements out .. out + rows * n - 1 from the block (row by row) */
typedef void (*exf_bcast_fn)(const void *ctx, int32_t out, const exf_bcast_block *b);

/* Walks shape (4 axes) for nops (<= EXF_BCAST_MAX_OPS) operands whose strides are strides[0 .. nops - 1],
 * calling fn for each block. */
void exf_bcast_walk(const int32_t shape[4], int32_t nops, const int32_t *const strides[], exf_bcast_fn fn,
                    const void *ctx);

#endif /* EDGEXF_BROADCAST_H */
