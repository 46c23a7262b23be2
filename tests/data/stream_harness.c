/* Test harness for a streaming model's step API: reads one sequence (EDGEXF_INPUT0_BYTES) from stdin,
 * then writes every step's output to stdout, three passes over the sequence:
 *   pass 0: edgexf_reset(), then the steps;  pass 1: edgexf_reset() again, the same steps (must equal
 *   pass 0);  pass 2: no reset, the steps go on from pass 1's final state (must differ).
 * Then one edgexf_run() on the whole sequence and its output (must equal pass 0's last step). */
#include <stdio.h>
#include <string.h>

#include "model.h"

static unsigned char seq[EDGEXF_INPUT0_BYTES];

static void steps(void) {
    for (int t = 0; t < EDGEXF_STEPS; ++t) {
        memcpy(edgexf_step_input(0), seq + t * EDGEXF_STEP_INPUT0_BYTES, EDGEXF_STEP_INPUT0_BYTES);
        if (edgexf_step() != 0) return;
        fwrite(edgexf_output(0), 1, EDGEXF_OUTPUT0_BYTES, stdout);
    }
}

int main(void) {
    if (fread(seq, 1, sizeof seq, stdin) != sizeof seq) return 2;
    edgexf_init();
    edgexf_reset();
    steps();
    edgexf_reset();
    steps();
    steps();
    memcpy(edgexf_input(0), seq, sizeof seq);
    if (edgexf_run() != 0) return 3;
    fwrite(edgexf_output(0), 1, EDGEXF_OUTPUT0_BYTES, stdout);
    return 0;
}
