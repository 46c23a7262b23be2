/* Hand-written stand-in for a generated model (tests of the targets and run layers).
 * Inputs: a float32 (4,), b int8 (4,). Outputs: y = a*2 + b float32 (4,), q = int8(clip(y, -128, 127))
 * truncated toward zero. edgexf_run() returns 7 when a[0] is NaN, to test the runner's error path. */
#include "edgexf_model_api.h"
#define EDGEXF_NUM_INPUTS 2
#define EDGEXF_NUM_OUTPUTS 2
#define EDGEXF_ARENA_BYTES 40
extern const edgexf_tensor_info_t edgexf_input_info[EDGEXF_NUM_INPUTS];
extern const edgexf_tensor_info_t edgexf_output_info[EDGEXF_NUM_OUTPUTS];
