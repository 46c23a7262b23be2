/* Test model whose run executes a loop of known instruction count: input n (uint32), output n.
 * On Arm the loop is `subs; bne` taken n times: 2n instructions. */
#include "edgexf_model_api.h"
#define EDGEXF_NUM_INPUTS 1
#define EDGEXF_NUM_OUTPUTS 1
#define EDGEXF_ARENA_BYTES 4
extern const edgexf_tensor_info_t edgexf_input_info[EDGEXF_NUM_INPUTS];
extern const edgexf_tensor_info_t edgexf_output_info[EDGEXF_NUM_OUTPUTS];
