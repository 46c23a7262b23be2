/* Test model with 1.5 MB of constants: more than the STM32F746's 1 MB of flash. */
#include "edgexf_model_api.h"
#define EDGEXF_NUM_INPUTS 1
#define EDGEXF_NUM_OUTPUTS 1
#define EDGEXF_ARENA_BYTES 4
extern const edgexf_tensor_info_t edgexf_input_info[EDGEXF_NUM_INPUTS];
extern const edgexf_tensor_info_t edgexf_output_info[EDGEXF_NUM_OUTPUTS];
