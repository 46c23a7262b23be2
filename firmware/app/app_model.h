/* The model one of edgexf's apps (runner.c, eval_app.c, io_harness.c) runs, by edgexf's generic names.
 *
 * A model compiled without --prefix: its model.h. A prefixed one (edgexf compile --prefix kws): the
 * build passes -DEDGEXF_MODEL_HEADER="kws_model.h" -DEDGEXF_GENERIC_NAMES, and that header maps
 * edgexf_run, EDGEXF_NUM_INPUTS, ... to kws_run, KWS_NUM_INPUTS, ... (targets/toolchain.py's
 * include_flags), so the apps are not copied per prefix. */
#ifndef EDGEXF_APP_MODEL_H
#define EDGEXF_APP_MODEL_H

#ifdef EDGEXF_MODEL_HEADER
#include EDGEXF_MODEL_HEADER
#else
#include "model.h"
#endif

#endif /* EDGEXF_APP_MODEL_H */
