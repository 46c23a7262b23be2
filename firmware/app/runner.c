/* Test-vector runner: feeds input.bin through the model, writes output.bin and ticks.bin.
 *
 * Uses only model.h (the generated model) and platform.h (host or semihosting), so the same file
 * runs on the host and on the emulated board:
 *   input.bin  = per sample, every input's raw bytes in input order (edgexf_input_info order);
 *   output.bin = per sample, every output's raw bytes in output order;
 *   ticks.bin  = per sample, the ticks edgexf_run() took, as a little-endian uint64;
 *   profile.bin (built with -DEDGEXF_PROFILE only) = per sample, EDGEXF_NUM_OPS little-endian uint64:
 *                the ticks of each op, measured by the hook model.c calls after every op.
 * Exits with the codes of platform.h, printing a line that says why.
 */
#include "app_model.h" /* model.h, or a prefixed model's header */
#include "platform.h"
#include "log_num.h"

/* Ends the message logged so far (written in pieces: no printf) and exits with `code`. */
__attribute__((noreturn)) static void fail(int32_t code)
{
    plat_log("\n");
    plat_exit(code);
}

static uint32_t total_bytes(const edgexf_tensor_info_t *info, int32_t n)
{
    uint32_t sum = 0;
    for (int32_t i = 0; i < n; i++) {
        sum += info[i].bytes;
    }
    return sum;
}

static int32_t write_u64_le(plat_file f, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(v >> (8 * i));
    }
    return plat_write(f, b, sizeof b);
}

#ifdef EDGEXF_PROFILE
/* Op i's ticks in the current sample: from the previous op's hook (from just before edgexf_run() for
 * op 0) to its own, so they add up to the whole run; each figure includes one hook's own cost. */
static uint64_t profile_ticks[EDGEXF_NUM_OPS > 0 ? EDGEXF_NUM_OPS : 1];
static uint64_t profile_last;

void edgexf_profile_op(int32_t op_index)
{
    const uint64_t now = plat_ticks();
    if (op_index >= 0 && op_index < EDGEXF_NUM_OPS) {
        profile_ticks[op_index] += now - profile_last;
    }
    profile_last = now;
}

/* Appends this sample's figures to profile.bin and clears them for the next sample. */
static int32_t profile_write(plat_file f)
{
    for (int32_t i = 0; i < EDGEXF_NUM_OPS; i++) {
        if (write_u64_le(f, profile_ticks[i]) != 0) {
            return -1;
        }
        profile_ticks[i] = 0;
    }
    return 0;
}
#endif

int main(void)
{
    plat_init();
    edgexf_init();

    const uint32_t sample_bytes = total_bytes(edgexf_input_info, EDGEXF_NUM_INPUTS);
    plat_file in = plat_open_read("input.bin");
    if (in < 0) {
        plat_log("edgexf runner: cannot open input.bin");
        fail(PLAT_EXIT_NO_INPUT);
    }
    const int64_t length = plat_length(in);
    if (length <= 0 || sample_bytes == 0 || length % sample_bytes != 0) {
        plat_log("edgexf runner: input.bin has ");
        log_num(length);
        plat_log(" bytes; one sample is ");
        log_num(sample_bytes);
        plat_log(" bytes (all inputs), so it must be a non-zero multiple of that");
        fail(PLAT_EXIT_BAD_INPUT_SIZE);
    }
    const int64_t samples = length / sample_bytes;

    plat_file out = plat_open_write("output.bin");
    plat_file ticks = plat_open_write("ticks.bin");
    if (out < 0 || ticks < 0) {
        plat_log("edgexf runner: cannot create output.bin or ticks.bin");
        fail(PLAT_EXIT_WRITE_FAILED);
    }
#ifdef EDGEXF_PROFILE
    plat_file profile = plat_open_write("profile.bin");
    if (profile < 0) {
        plat_log("edgexf runner: cannot create profile.bin");
        fail(PLAT_EXIT_WRITE_FAILED);
    }
#endif

    for (int64_t s = 0; s < samples; s++) {
        for (int32_t i = 0; i < EDGEXF_NUM_INPUTS; i++) {
            if (plat_read(in, edgexf_input(i), edgexf_input_info[i].bytes) != 0) {
                plat_log("edgexf runner: input.bin ended early");
                fail(PLAT_EXIT_SHORT_READ);
            }
        }
        const uint64_t t0 = plat_ticks();
#ifdef EDGEXF_PROFILE
        profile_last = t0;
#endif
        const int32_t rc = edgexf_run();
        const uint64_t t1 = plat_ticks();
        if (rc != 0) {
            plat_log("edgexf runner: edgexf_run() returned ");
            log_num(rc);
            plat_log(" on sample ");
            log_num(s);
            fail(PLAT_EXIT_RUN_FAILED);
        }
        for (int32_t o = 0; o < EDGEXF_NUM_OUTPUTS; o++) {
            if (plat_write(out, edgexf_output(o), edgexf_output_info[o].bytes) != 0) {
                plat_log("edgexf runner: cannot write output.bin");
                fail(PLAT_EXIT_WRITE_FAILED);
            }
        }
        if (write_u64_le(ticks, t1 - t0) != 0) {
            plat_log("edgexf runner: cannot write ticks.bin");
            fail(PLAT_EXIT_WRITE_FAILED);
        }
#ifdef EDGEXF_PROFILE
        if (profile_write(profile) != 0) {
            plat_log("edgexf runner: cannot write profile.bin");
            fail(PLAT_EXIT_WRITE_FAILED);
        }
#endif
    }
    plat_close(in);
    plat_close(out);
    plat_close(ticks);
#ifdef EDGEXF_PROFILE
    plat_close(profile);
#endif
    plat_log("edgexf runner: ");
    log_num(samples);
    plat_log(" samples done\n");
    return PLAT_EXIT_OK;
}
