/* exf_mul_q / exf_mul_qq's speed against their earlier arithmetic (tests/firmware/test_elementwise_speed.py): the
 * per-element int64 product and requantization with a branch on each element size, kept here as the
 * reference, and the library's kernel on the same data (each path of quant_mul.h: contiguous, broadcast, the
 * pre-shift below shift 33, the int64 fallback), int8 and int16; exits
 * PLAT_EXIT_CHECK_FAILED at the first output that differs. Logs one line per case:
 *   time CASE elements reference_ticks kernel_ticks */
#include "edgexf_kernels.h"
#include "log_num.h"
#include "platform.h"

#include "speed_common.h"

/* exf_mul_qq's arithmetic as it was: the reference */
static void __attribute__((noinline)) mul_reference(const void *pa, int32_t a_bytes, const void *pb, int32_t b_bytes,
                                                    void *py, int32_t y_bytes, const int32_t shape[4],
                                                    const int32_t sa[4], const int32_t sb[4], int32_t a_zp,
                                                    int32_t b_zp, int32_t mult, int32_t shift, int32_t out_zp)
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
                    store(py, y_bytes, out++, ((u * v * mult + half) >> shift) + out_zp);
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

/* One case: a (N elements) times b, b the same shape (broadcast 0), a row of 64 broadcast over 50 rows (1:
 * contiguous rows) or a column of 50 broadcast over 64 (2: b's step 0 along the row); exf_mul_q when both
 * are int8 */
static int32_t check(const char *name, int32_t a_bytes, int32_t b_bytes, int32_t y_bytes, int32_t broadcast,
                     int32_t a_zp, int32_t b_zp, int32_t mult, int32_t shift, int32_t out_zp)
{
    const int32_t shape[4] = {1, 1, 50, 64}, sa[4] = {0, 0, 64, 1};
    const int32_t sb[4] = {0, 0, broadcast == 1 ? 0 : broadcast == 2 ? 1 : 64, broadcast == 2 ? 0 : 1};
    fill(a, a_bytes);
    fill(b, b_bytes);
    uint64_t t0 = plat_ticks();
    mul_reference(a, a_bytes, b, b_bytes, y_ref, y_bytes, shape, sa, sb, a_zp, b_zp, mult, shift, out_zp);
    uint64_t t1 = plat_ticks();
    const exf_mul_q_params_t p = {.shape = {shape[0], shape[1], shape[2], shape[3]},
                                  .sa = {sa[0], sa[1], sa[2], sa[3]}, .sb = {sb[0], sb[1], sb[2], sb[3]},
                                  .a_bytes = a_bytes, .b_bytes = b_bytes, .y_bytes = y_bytes, .a_zp = a_zp,
                                  .b_zp = b_zp, .mult = mult, .shift = shift, .out_zp = out_zp};
    if (a_bytes == 1 && b_bytes == 1) {
        exf_mul_q(&p, (const int8_t *)a, (const int8_t *)b, y_new);
    } else {
        exf_mul_qq(&p, a, b, y_new);
    }
    uint64_t t2 = plat_ticks();
    return compare_and_log(name, y_bytes, t1 - t0, t2 - t1);
}

int main(void)
{
    plat_init();
    int32_t bad = 0;
    /* the hi path (quant_mul.h), contiguous: the specialized loops */
    bad |= check("s8_same_shift40", 1, 1, 1, 0, -3, 5, 1518500250, 40, -7);
    bad |= check("s8_s8_s16_same_shift36", 1, 1, 2, 0, 127, -128, -1073741824 + 12345, 36, 11);
    bad |= check("s16_s8_s16_same_shift45", 2, 1, 2, 0, 0, -128, 2147483647, 45, 0);
    bad |= check("s16_s16_s8_same_shift53", 2, 2, 1, 0, 0, 0, 1518500250, 53, -7);
    /* the hi path, strided loop: broadcast, or the pre-shift below shift 33 */
    bad |= check("s8_bcast_shift40", 1, 1, 1, 1, -3, 5, 1518500250, 40, -7);
    bad |= check("s8_s16_s16_bcast_shift46", 1, 2, 2, 1, 5, 0, -2147483647 - 1, 46, 3);
    bad |= check("s8_col_bcast_shift40", 1, 1, 1, 2, -3, 5, 1518500250, 40, -7);
    bad |= check("s16_s8_s16_col_bcast_shift45", 2, 1, 2, 2, 0, -128, 2147483647, 45, 0);
    bad |= check("s8_s8_s16_same_shift31", 1, 1, 2, 0, -3, 5, 1518500250, 31, -7);
    /* the int64 path: int16 x int16 with |p| beyond int32 */
    bad |= check("s16_wide_same_shift48", 2, 2, 2, 0, -32768, 1, 1518500250, 48, 0);
    if (bad) plat_exit(PLAT_EXIT_CHECK_FAILED);
    plat_log("mul speed: all outputs equal\n");
    plat_exit(PLAT_EXIT_OK);
}
