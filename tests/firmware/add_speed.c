/* exf_add_q's speed against its earlier arithmetic (tests/firmware/test_elementwise_speed.py): the per-element
 * int64 formula with a branch on each element size, kept here as the reference, and the library's
 * exf_add_q on the same data, same-shape and broadcast, int8 and int16; exits PLAT_EXIT_CHECK_FAILED at
 * the first output that differs. Logs one line per case:
 *   time CASE elements reference_ticks kernel_ticks */
#include "edgexf_kernels.h"
#include "log_num.h"
#include "platform.h"

#include "speed_common.h"

/* exf_add_q as it was: the reference */
static void __attribute__((noinline)) add_reference(const void *pa, int32_t a_bytes, const void *pb, int32_t b_bytes,
                                                    void *py, int32_t y_bytes, const int32_t shape[4],
                                                    const int32_t sa[4], const int32_t sb[4], int32_t a_zp,
                                                    int32_t b_zp, int32_t ma, int32_t mb, int32_t shift,
                                                    int32_t out_zp)
{
    const int64_t half = (int64_t)1 << (shift - 1);
    int32_t out = 0;
    for (int32_t i0 = 0; i0 < shape[0]; i0++) {
        for (int32_t i1 = 0; i1 < shape[1]; i1++) {
            for (int32_t i2 = 0; i2 < shape[2]; i2++) {
                int32_t ar = i0 * sa[0] + i1 * sa[1] + i2 * sa[2];
                int32_t br = i0 * sb[0] + i1 * sb[1] + i2 * sb[2];
                for (int32_t i3 = 0; i3 < shape[3]; i3++) {
                    int64_t u = load(pa, a_bytes, ar + i3 * sa[3]) - a_zp;
                    int64_t v = load(pb, b_bytes, br + i3 * sb[3]) - b_zp;
                    int64_t t = u * ma + v * mb;
                    store(py, y_bytes, out++, ((t + half) >> shift) + out_zp);
                }
            }
        }
    }
}

static void fill(int16_t *p, int32_t bytes)
{
    for (int32_t i = 0; i < N; i++) {
        if (bytes == 1) {
            ((int8_t *)p)[i] = (int8_t)rng();
        } else {
            p[i] = (int16_t)rng();
        }
    }
}

/* The cases' shape: 50 x 64 (the MNIST ViT's), then odd ones (rows of 61: the tails of 4-element vectors) */
static int32_t case_rows = 50, case_cols = 64;

/* One case: a (N elements) + b, b the same shape or a row of case_cols broadcast over case_rows rows */
static int32_t check(const char *name, int32_t a_bytes, int32_t b_bytes, int32_t y_bytes, int32_t broadcast,
                     int32_t shift)
{
    const int32_t shape[4] = {1, 1, case_rows, case_cols}, sa[4] = {0, 0, case_cols, 1};
    const int32_t sb[4] = {0, 0, broadcast ? 0 : case_cols, 1};
    const int32_t a_zp = a_bytes == 1 ? -3 : 0, b_zp = b_bytes == 1 ? 5 : 0, out_zp = y_bytes == 1 ? -7 : 11;
    const int32_t ma = 1518500250, mb = -1073741824 + 12345;
    fill(a, a_bytes);
    fill(b, b_bytes);
    uint64_t t0 = plat_ticks();
    add_reference(a, a_bytes, b, b_bytes, y_ref, y_bytes, shape, sa, sb, a_zp, b_zp, ma, mb, shift, out_zp);
    uint64_t t1 = plat_ticks();
    const exf_add_q_params_t p = {.shape = {shape[0], shape[1], shape[2], shape[3]},
                                  .sa = {sa[0], sa[1], sa[2], sa[3]}, .sb = {sb[0], sb[1], sb[2], sb[3]},
                                  .a_bytes = a_bytes, .b_bytes = b_bytes, .y_bytes = y_bytes,
                                  .add = {a_zp, b_zp, ma, mb, shift, out_zp}};
    exf_add_q(&p, a, b, y_new);
    uint64_t t2 = plat_ticks();
    return compare_and_log(name, y_bytes, t1 - t0, t2 - t1);
}

int main(void)
{
    plat_init();
    int32_t bad = 0;
    bad |= check("s8_same_shift32", 1, 1, 1, 0, 32);
    bad |= check("s8_same_shift31", 1, 1, 1, 0, 31);
    bad |= check("s8_same_shift34", 1, 1, 1, 0, 34);
    bad |= check("s8_bcast_shift32", 1, 1, 1, 1, 32);
    bad |= check("s16_same_shift31", 2, 2, 2, 0, 31);
    bad |= check("s16_same_shift40", 2, 2, 2, 0, 40);
    bad |= check("s16_s8_s16_same_shift32", 2, 1, 2, 0, 32);
    bad |= check("s16_s16_s8_same_shift31", 2, 2, 1, 0, 31);
    bad |= check("s8_s16_s16_bcast_shift40", 1, 2, 2, 1, 40);
    case_rows = 7, case_cols = 61;
    bad |= check("s8odd_same_shift34", 1, 1, 1, 0, 34);
    bad |= check("s8odd_bcast_shift32", 1, 1, 1, 1, 32);
    if (bad) plat_exit(PLAT_EXIT_CHECK_FAILED);
    plat_log("add speed: all outputs equal\n");
    plat_exit(PLAT_EXIT_OK);
}
