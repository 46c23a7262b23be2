/* Data movement for any dtype: strided row copies (concat, slice) and permutes (transpose). */
#include <string.h>

#include "edgexf_kernels.h"

void exf_copy_rows(const void *src, int32_t src_stride, void *dst, int32_t dst_stride, int32_t rows,
                   int32_t row_bytes) {
    // src (rows, row_bytes) at src_stride -> dst (rows, row_bytes) at dst_stride
    const uint8_t *s = (const uint8_t *)src;
    uint8_t *d = (uint8_t *)dst;
    for (int32_t r = 0; r < rows; r++) memcpy(d + r * dst_stride, s + r * src_stride, (size_t)row_bytes);
}

/* y[j] = x[j * stride] for j < n, elements of elem_bytes */
static void gather_row(const uint8_t *x, uint8_t *y, int32_t elem_bytes, int32_t n, int32_t stride) {
    switch (elem_bytes) {
    case 1:
        for (int32_t j = 0; j < n; j++) y[j] = x[j * stride];
        break;
    case 2:
        for (int32_t j = 0; j < n; j++) memcpy(y + 2 * j, x + 2 * j * stride, 2);
        break;
    case 4:
        for (int32_t j = 0; j < n; j++) memcpy(y + 4 * j, x + 4 * j * stride, 4);
        break;
    default:
        for (int32_t j = 0; j < n; j++) {
            memcpy(y + j * elem_bytes, x + j * stride * elem_bytes, (size_t)elem_bytes);
        }
        break;
    }
}

void exf_permute(const void *x, void *y, int32_t elem_bytes, int32_t ndim, const int32_t shape[],
                 const int32_t in_strides[]) {
    // x (strided by in_strides) -> y (shape[0], ..., shape[ndim-1]) contiguous
    const uint8_t *xb = (const uint8_t *)x;
    uint8_t *yb = (uint8_t *)y;
    if (ndim == 0) {
        memcpy(yb, xb, (size_t)elem_bytes);
        return;
    }
    int32_t last = ndim - 1, n = shape[last], stride = in_strides[last];
    int32_t outer = 1;
    for (int32_t k = 0; k < last; k++) outer *= shape[k];
    if (n == 0) return;
    /* odometer over the outer dims; off is the x element offset of the current row's start */
    int32_t idx[6] = {0, 0, 0, 0, 0, 0};
    int32_t off = 0;
    for (int32_t row = 0; row < outer; row++) {
        gather_row(xb + off * elem_bytes, yb + row * n * elem_bytes, elem_bytes, n, stride);
        for (int32_t k = last - 1; k >= 0; k--) {
            if (++idx[k] < shape[k]) {
                off += in_strides[k];
                break;
            }
            off -= (shape[k] - 1) * in_strides[k];
            idx[k] = 0;
        }
    }
}
