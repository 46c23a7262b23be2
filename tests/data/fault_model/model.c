#include "model.h"

static uint32_t arena[1];

const edgexf_tensor_info_t edgexf_input_info[EDGEXF_NUM_INPUTS] = {{"x", EDGEXF_INT32, 1, {1}, 4, 0.0f, 0}};
const edgexf_tensor_info_t edgexf_output_info[EDGEXF_NUM_OUTPUTS] = {{"x", EDGEXF_INT32, 1, {1}, 4, 0.0f, 0}};

void edgexf_init(void) {}
void *edgexf_input(int32_t i) { (void)i; return arena; }
const void *edgexf_output(int32_t i) { (void)i; return arena; }

#if defined(__arm__)
#define BAD_ADDRESS 0xF0000000u /* nothing mapped there on mps2-an500 */
#else
#define BAD_ADDRESS 0x10u /* the host's unmapped first page */
#endif

/* volatile: the compiler cannot tell the address is invalid (no -Warray-bounds on the host) */
static volatile uintptr_t bad_address = BAD_ADDRESS;

int32_t edgexf_run(void)
{
    *(volatile uint32_t *)bad_address = arena[0];
    return 0;
}
