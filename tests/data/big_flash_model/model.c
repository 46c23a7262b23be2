#include "model.h"

#define TABLE_BYTES (1536u * 1024u)
static const uint8_t table[TABLE_BYTES] = {1}; /* the rest zero, still stored in flash (const) */
static uint32_t arena[1];

const edgexf_tensor_info_t edgexf_input_info[EDGEXF_NUM_INPUTS] = {{"i", EDGEXF_INT32, 1, {1}, 4, 0.0f, 0}};
const edgexf_tensor_info_t edgexf_output_info[EDGEXF_NUM_OUTPUTS] = {{"i", EDGEXF_INT32, 1, {1}, 4, 0.0f, 0}};

void edgexf_init(void) {}
void *edgexf_input(int32_t i) { (void)i; return arena; }
const void *edgexf_output(int32_t i) { (void)i; return arena; }

int32_t edgexf_run(void)
{
    arena[0] = table[arena[0] % TABLE_BYTES]; /* keeps the table from --gc-sections */
    return 0;
}
