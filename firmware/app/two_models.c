/* Two models in one image: what a firmware that runs, say, a camera classifier and a keyword spotter
 * does, with both compiled by edgexf with different prefixes (edgexf compile --prefix) and one copy of
 * the kernel library linked (targets/image.py builds it; tests/firmware/test_two_models.py runs it).
 *
 * Built with -DMODEL_A=vit -DMODEL_A_UPPER=VIT -DMODEL_A_HEADER="vit_model.h" and the same for
 * MODEL_B. Through semihosting, like runner.c: for each model, <prefix>_in.bin holds its samples (each
 * input's raw bytes, in input order) and <prefix>_out.bin gets its outputs. The samples run
 * interleaved (A's first, B's first, A's second, ...), each model's outputs written out before the
 * other runs, so with one shared arena every run starts on the other model's leftovers.
 *
 * -DSHARED_ARENA (with -DVIT_ARENA=shared_arena -DKWS_ARENA=shared_arena for the models' sources):
 * the two arenas are one region, defined here and sized by the larger *_ARENA_BYTES. The models never
 * run at the same time, so that is safe; the app checks that both outputs lie in it.
 */
#include <stdint.h>

#include MODEL_A_HEADER
#include MODEL_B_HEADER
#include "platform.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define STR_(x) #x
#define STR(x) STR_(x)

#ifdef SHARED_ARENA
#define ARENA_A CAT(MODEL_A_UPPER, _ARENA_BYTES)
#define ARENA_B CAT(MODEL_B_UPPER, _ARENA_BYTES)
#define SHARED_ARENA_BYTES (ARENA_A > ARENA_B ? ARENA_A : ARENA_B)
uint8_t shared_arena[SHARED_ARENA_BYTES] __attribute__((aligned(16)));
#endif

typedef struct {
    const char *name, *in_file, *out_file;
    void (*init)(void);
    void *(*input)(int32_t i);
    const void *(*output)(int32_t i);
    int32_t (*run)(void);
    const edgexf_tensor_info_t *in_info, *out_info;
    int32_t n_in, n_out;
    plat_file in, out;
    uint32_t sample_bytes, samples;
} model_t;

#define MODEL(p)                                                                                       \
    {STR(p), STR(p) "_in.bin", STR(p) "_out.bin", CAT(p, _init), CAT(p, _input), CAT(p, _output),     \
     CAT(p, _run), CAT(p, _input_info), CAT(p, _output_info),                                        \
     (int32_t)(sizeof CAT(p, _input_info) / sizeof CAT(p, _input_info)[0]),                           \
     (int32_t)(sizeof CAT(p, _output_info) / sizeof CAT(p, _output_info)[0]), -1, -1, 0, 0}

static model_t models[2] = {MODEL(MODEL_A), MODEL(MODEL_B)};

static void fail(const model_t *m, const char *what, int32_t code)
{
    plat_log("two_models: ");
    plat_log(m->name);
    plat_log(": ");
    plat_log(what);
    plat_log("\n");
    plat_exit(code);
}

static void open_files(model_t *m)
{
    m->in = plat_open_read(m->in_file);
    if (m->in < 0) fail(m, "no input file", PLAT_EXIT_NO_INPUT);
    m->out = plat_open_write(m->out_file);
    if (m->out < 0) fail(m, "cannot write the output file", PLAT_EXIT_WRITE_FAILED);
    for (int32_t i = 0; i < m->n_in; i++) m->sample_bytes += m->in_info[i].bytes;
    const int64_t length = plat_length(m->in);
    if (length <= 0 || length % m->sample_bytes != 0) fail(m, "input not whole samples", PLAT_EXIT_BAD_INPUT_SIZE);
    m->samples = (uint32_t)(length / m->sample_bytes);
}

static void run_one(const model_t *m)
{
    for (int32_t i = 0; i < m->n_in; i++) {
        if (plat_read(m->in, m->input(i), m->in_info[i].bytes) != 0) fail(m, "short read", PLAT_EXIT_SHORT_READ);
    }
    if (m->run() != 0) fail(m, "run failed", PLAT_EXIT_RUN_FAILED);
    for (int32_t o = 0; o < m->n_out; o++) {
#ifdef SHARED_ARENA
        const uint8_t *p = (const uint8_t *)m->output(o);
        if (p < shared_arena || p + m->out_info[o].bytes > shared_arena + SHARED_ARENA_BYTES) {
            fail(m, "an output outside the shared arena (was it built with -DPREFIX_ARENA=shared_arena?)",
                 PLAT_EXIT_CHECK_FAILED);
        }
#endif
        if (plat_write(m->out, m->output(o), m->out_info[o].bytes) != 0) fail(m, "write failed", PLAT_EXIT_WRITE_FAILED);
    }
}

int main(void)
{
    plat_init();
    uint32_t most = 0;
    for (int32_t k = 0; k < 2; k++) {
        models[k].init();
        open_files(&models[k]);
        most = models[k].samples > most ? models[k].samples : most;
    }
    for (uint32_t s = 0; s < most; s++) {
        for (int32_t k = 0; k < 2; k++) {
            if (s < models[k].samples) run_one(&models[k]);
        }
    }
    for (int32_t k = 0; k < 2; k++) {
        plat_close(models[k].in);
        plat_close(models[k].out);
    }
    plat_log("two_models: done\n");
    plat_exit(PLAT_EXIT_OK);
}
