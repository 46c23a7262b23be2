/* Step-by-step runner for a streaming model, in QEMU (semihosting) or on the host: the files of
 * firmware/app/runner.c, but one record per time step instead of one per sequence.
 *   input.bin  = whole sequences, each EDGEXF_STEPS steps of EDGEXF_STEP_INPUT0_BYTES;
 *   output.bin = every step's output 0, one after another;
 *   ticks.bin  = every step's edgexf_step() ticks, little-endian uint64.
 * Each sequence starts from edgexf_reset(). Exits with platform.h's codes. */
#include "model.h"
#include "platform.h"

static void fail(const char *why, int32_t code)
{
    plat_log(why);
    plat_log("\n");
    plat_exit(code);
}

int main(void)
{
    plat_init();
    edgexf_init();
    plat_file in = plat_open_read("input.bin");
    if (in < 0) fail("step runner: cannot open input.bin", PLAT_EXIT_NO_INPUT);
    const int64_t length = plat_length(in);
    const int64_t sequence = (int64_t)EDGEXF_STEPS * EDGEXF_STEP_INPUT0_BYTES;
    if (length <= 0 || length % sequence != 0) {
        fail("step runner: input.bin is not a whole number of sequences", PLAT_EXIT_BAD_INPUT_SIZE);
    }
    plat_file out = plat_open_write("output.bin");
    plat_file ticks = plat_open_write("ticks.bin");
    if (out < 0 || ticks < 0) fail("step runner: cannot create output.bin or ticks.bin", PLAT_EXIT_WRITE_FAILED);
    for (int64_t s = 0; s < length / sequence; s++) {
        edgexf_reset();
        for (int32_t t = 0; t < EDGEXF_STEPS; t++) {
            if (plat_read(in, edgexf_step_input(0), EDGEXF_STEP_INPUT0_BYTES) != 0) {
                fail("step runner: input.bin ended early", PLAT_EXIT_SHORT_READ);
            }
            const uint64_t t0 = plat_ticks();
            if (edgexf_step() != 0) fail("step runner: edgexf_step() failed", PLAT_EXIT_RUN_FAILED);
            const uint64_t dt = plat_ticks() - t0;
            uint8_t le[8];
            for (int i = 0; i < 8; i++) le[i] = (uint8_t)(dt >> (8 * i));
            if (plat_write(out, edgexf_output(0), EDGEXF_OUTPUT0_BYTES) != 0 || plat_write(ticks, le, 8) != 0) {
                fail("step runner: cannot write output.bin or ticks.bin", PLAT_EXIT_WRITE_FAILED);
            }
        }
    }
    plat_close(in);
    plat_close(out);
    plat_close(ticks);
    return PLAT_EXIT_OK;
}
