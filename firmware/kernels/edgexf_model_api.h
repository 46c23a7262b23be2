/* The API every generated model exposes (model.h includes this and adds its sizes).
 *
 * Inputs and outputs live in the model's one static arena, as in TFLite Micro: write the inputs
 * through edgexf_input(i), call edgexf_run(), read the outputs through edgexf_output(i). The outputs
 * stay valid until the next edgexf_run(); the inputs are overwritten by it (the planner reuses their
 * bytes once consumed), so write them again before each run.
 */
#ifndef EDGEXF_MODEL_API_H
#define EDGEXF_MODEL_API_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum edgexf_dtype { EDGEXF_FLOAT32 = 0, EDGEXF_INT8 = 1, EDGEXF_INT16 = 2, EDGEXF_INT32 = 3, EDGEXF_UINT8 = 4 };

typedef struct {
    const char *name;  /* tensor name in the source model */
    int32_t dtype;     /* enum edgexf_dtype */
    int32_t ndim;
    int32_t shape[6];
    uint32_t bytes;
    float scale;        /* integer tensors: real = scale * (q - zero_point); 0 for float tensors */
    int32_t zero_point;
} edgexf_tensor_info_t;

void edgexf_init(void);              /* call once before the first run */
void *edgexf_input(int32_t i);       /* where input i is written, inside the arena */
const void *edgexf_output(int32_t i);/* where output i is read after a run */
int32_t edgexf_run(void);            /* one inference; 0 on success */
void edgexf_reset(void);             /* clear a recurrent model's state (nothing for other models) */

#ifdef __cplusplus
}
#endif

#endif /* EDGEXF_MODEL_API_H */
