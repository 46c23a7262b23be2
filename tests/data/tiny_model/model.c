#include "model.h"

/* arena: a @0 (16 B), b @16 (4 B), y @20 (16 B), q @36 (4 B) */
static float arena_f32[EDGEXF_ARENA_BYTES / 4];
#define ARENA ((uint8_t *)arena_f32)

const edgexf_tensor_info_t edgexf_input_info[EDGEXF_NUM_INPUTS] = {
    {"a", EDGEXF_FLOAT32, 1, {4}, 16, 0.0f, 0},
    {"b", EDGEXF_INT8, 1, {4}, 4, 0.0f, 0},
};
const edgexf_tensor_info_t edgexf_output_info[EDGEXF_NUM_OUTPUTS] = {
    {"y", EDGEXF_FLOAT32, 1, {4}, 16, 0.0f, 0},
    {"q", EDGEXF_INT8, 1, {4}, 4, 0.0f, 0},
};

void edgexf_init(void) {}

void *edgexf_input(int32_t i) { return ARENA + (i == 0 ? 0 : 16); }

const void *edgexf_output(int32_t i) { return ARENA + (i == 0 ? 20 : 36); }

int32_t edgexf_run(void)
{
    const float *a = (const float *)(ARENA + 0);
    const int8_t *b = (const int8_t *)(ARENA + 16);
    float *y = (float *)(ARENA + 20);
    int8_t *q = (int8_t *)(ARENA + 36);
    if (a[0] != a[0]) {
        return 7;
    }
    for (int i = 0; i < 4; i++) {
        y[i] = a[i] * 2.0f + (float)b[i];
        float c = y[i] < -128.0f ? -128.0f : (y[i] > 127.0f ? 127.0f : y[i]);
        q[i] = (int8_t)c;
    }
    return 0;
}
