#include "model.h"

#define BUFFER_BYTES (400u * 1024u)
static uint8_t buffer[BUFFER_BYTES]; /* .bss: RAM only */
static uint32_t arena[1];

const edgexf_tensor_info_t edgexf_input_info[EDGEXF_NUM_INPUTS] = {{"i", EDGEXF_INT32, 1, {1}, 4, 0.0f, 0}};
const edgexf_tensor_info_t edgexf_output_info[EDGEXF_NUM_OUTPUTS] = {{"i", EDGEXF_INT32, 1, {1}, 4, 0.0f, 0}};

void edgexf_init(void) {}
void *edgexf_input(int32_t i) { (void)i; return arena; }
const void *edgexf_output(int32_t i) { (void)i; return arena; }

int32_t edgexf_run(void)
{
    buffer[arena[0] % BUFFER_BYTES] = 1; /* keeps the buffer from --gc-sections */
    arena[0] = buffer[0];
    return 0;
}
