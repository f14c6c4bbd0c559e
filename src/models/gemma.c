/*
 * gemma.c - the gemma architecture (Gemma 1): the Gemma block of gemma2.c
 * without its later additions - pre-norms only, no soft-capping, no sliding
 * window. Token embeddings scaled by sqrt(n_embd) and tied with the output,
 * queries scaled by 1/sqrt(head_dim), GeGLU feed-forward; the file stores
 * the (1 + w) norm weights already shifted.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/models.h"

static rf_status gemma_hparams(rf_hparams *hp, const rf_gguf *g, rf_err *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", hp->arch);
    if (!rf_gguf_get(g, key)) return rf__err(err, RF_ERR_FORMAT, "missing required key '%s'", key);
    if (hp->head_dim_k != hp->head_dim_v)
        return rf__err(err, RF_ERR_FORMAT, "%s: key and value head sizes differ (%u, %u)", hp->arch,
                       hp->head_dim_k, hp->head_dim_v);
    hp->n_swa = 0;
    memset(hp->swa_layer, 0, sizeof hp->swa_layer);
    hp->attn_softcap = 0.0f;
    hp->final_softcap = 0.0f;
    hp->rope_mode = RF_ROPE_NEOX;
    hp->embd_scale = sqrtf((float)hp->n_embd);
    hp->attn_scale = 1.0f; /* queries are scaled instead */
    return RF_OK;
}

static rf_status gemma_tensors(rf_model_impl *m, rf_err *err) {
    /* llama.cpp's gemma always ties the output to the token embeddings */
    return rf__gemma_tensors(m, false, false, false, err);
}

static rf_tensor *gemma_build(const rf_build *b) {
    return rf__gemma_build(b, 1.0f / sqrtf((float)b->hp->head_dim_k));
}

const rf_arch rf__arch_gemma = {
    .name = "gemma",
    .load_hparams = gemma_hparams,
    .load_tensors = gemma_tensors,
    .build = gemma_build,
};
