/* Test model whose run writes to an address with no memory behind it: a BusFault on Cortex-M,
 * a segmentation fault on the host. */
#include "edgexf_model_api.h"
#define EDGEXF_NUM_INPUTS 1
#define EDGEXF_NUM_OUTPUTS 1
#define EDGEXF_ARENA_BYTES 4
extern const edgexf_tensor_info_t edgexf_input_info[EDGEXF_NUM_INPUTS];
extern const edgexf_tensor_info_t edgexf_output_info[EDGEXF_NUM_OUTPUTS];
