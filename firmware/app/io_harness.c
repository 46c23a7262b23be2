/* Host harness for a generated model with any number of inputs and outputs, through pipes.
 *
 * stdin:  per sample, every input's raw bytes concatenated, in input order (edgexf_input_info order);
 * stdout: per sample, every output's raw bytes concatenated, in output order.
 * It runs one sample after another until stdin ends (a model whose inputs hold no bytes runs once). Exit status:
 * 0 after at least one whole sample; 2 if stdin ends inside a sample or holds none; 3 if edgexf_run()
 * fails. It uses only the generated model's API (model.h), so it builds around any model directory;
 * edgexf.eval.onnx_conformance runs it on the ONNX backend test cases.
 */
#include <stdint.h>
#include <stdio.h>

#include "app_model.h" /* model.h, or a prefixed model's header */

/* Reads exactly n bytes into dst; *sample_bytes counts the bytes of the sample read so far. Returns 1
 * if it got them, 0 at a clean end of input (before the sample's first byte), -1 if the input ends
 * part way through a sample. */
static int read_exact(uint8_t *dst, uint32_t n, uint32_t *sample_bytes)
{
    uint32_t got = 0;
    while (got < n) {
        const size_t r = fread(dst + got, 1, n - got, stdin);
        if (r == 0) {
            return (*sample_bytes == 0) ? 0 : -1;
        }
        got += (uint32_t)r;
        *sample_bytes += (uint32_t)r;
    }
    return 1;
}

/* One sample: 1 done, 0 no more input, or the exit status of a failure. */
static int run_sample(void)
{
    uint32_t sample_bytes = 0;
    for (int32_t i = 0; i < EDGEXF_NUM_INPUTS; i++) {
        const int r = read_exact((uint8_t *)edgexf_input(i), edgexf_input_info[i].bytes, &sample_bytes);
        if (r <= 0) {
            return r == 0 ? 0 : 2;
        }
    }
    if (edgexf_run() != 0) {
        return 3;
    }
    for (int32_t i = 0; i < EDGEXF_NUM_OUTPUTS; i++) {
        const uint32_t n = edgexf_output_info[i].bytes;
        if (fwrite(edgexf_output(i), 1, n, stdout) != n) {
            return 3;
        }
    }
    return 1;
}

int main(void)
{
    uint32_t input_bytes = 0;
    for (int32_t i = 0; i < EDGEXF_NUM_INPUTS; i++) {
        input_bytes += edgexf_input_info[i].bytes;
    }
    edgexf_init();
    int samples = 0;
    for (;;) {
        const int r = run_sample();
        if (r == 0) {
            break;
        }
        if (r != 1) {
            return r;
        }
        samples++;
        if (input_bytes == 0) {
            break; /* nothing to read: one run */
        }
    }
    return samples > 0 ? 0 : 2;
}
