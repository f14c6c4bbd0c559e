/*
 * cohere2.c - the cohere2 architecture (Command R7B, Command A): command-r's
 * parallel block (rf__cohere_build in command_r.c) with sliding-window
 * layers - attention.sliding_window (required) on three layers of four
 * unless attention.sliding_window_pattern says otherwise - that use rotary
 * embedding, and global layers that attend without positional encoding.
 * logit_scale is required.
 */
#include <stdio.h>

#include "models/models.h"

static rf_status cohere2_hparams(rf_hparams *hp, const rf_gguf *g, rf_err *err) {
    char key[128];
    const char *required[] = {"attention.layer_norm_epsilon", "attention.sliding_window", "logit_scale"};
    for (size_t i = 0; i < RF_ARRAY_LEN(required); i++) {
        snprintf(key, sizeof key, "%s.%s", hp->arch, required[i]);
        if (!rf_gguf_get(g, key)) return rf__err(err, RF_ERR_FORMAT, "missing required key '%s'", key);
    }
    if (hp->head_dim_k != hp->head_dim_v || (uint64_t)hp->head_dim_k * hp->n_head[0] != hp->n_embd)
        return rf__err(err, RF_ERR_FORMAT, "%s: head size %u x %u heads must equal n_embd %u",
                       hp->arch, hp->head_dim_k, hp->n_head[0], hp->n_embd);
    rf_status st = rf__hparams_swa_pattern(hp, g, 4, err);
    if (st != RF_OK) return st;
    hp->rope_mode = RF_ROPE_NORMAL;
    return RF_OK;
}

static rf_status cohere2_tensors(rf_model_impl *m, rf_err *err) {
    return rf__cohere_tensors(m, false, err);
}

static rf_tensor *cohere2_build(const rf_build *b) {
    return rf__cohere_build(b, true);
}

const rf_arch rf__arch_cohere2 = {
    .name = "cohere2",
    .load_hparams = cohere2_hparams,
    .load_tensors = cohere2_tensors,
    .build = cohere2_build,
};
