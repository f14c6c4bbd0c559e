/*
 * gemma3.c - the gemma3 architecture (Gemma 3 text models): gemma2's block
 * (rf__gemma_build in gemma2.c) with QK-norm instead of attention
 * soft-capping, and local/global layers in a 5:1 pattern by default. Local
 * (sliding-window) layers use their own rope base (rope.freq_base_swa,
 * 10000 when absent) and no rope scaling; global layers use rope.freq_base
 * and the file's scaling (linear x8 on the larger models). Final logit
 * soft-capping only when the file asks for it; no window at all when
 * attention.sliding_window is absent or 0.
 */
#include <math.h>
#include <stdio.h>

#include "models/models.h"

static rf_status gemma3_hparams(rf_hparams *hp, const rf_gguf *g, rf_err *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", hp->arch);
    if (!rf_gguf_get(g, key)) return rf__err(err, RF_ERR_FORMAT, "missing required key '%s'", key);
    /* local layers: own base (llama.cpp's default 10000), never scaled */
    snprintf(key, sizeof key, "%s.rope.freq_base_swa", hp->arch);
    if (!rf_gguf_get(g, key)) hp->rope_freq_base_swa = 10000.0f;
    hp->rope_freq_scale_swa = 1.0f;
    rf_status st = rf__hparams_swa_pattern(hp, g, 6, err);
    if (st != RF_OK) return st;
    hp->attn_softcap = 0.0f; /* gemma3 has QK-norm instead */
    if (hp->head_dim_k != hp->head_dim_v)
        return rf__err(err, RF_ERR_FORMAT, "%s: key and value head sizes differ (%u, %u)", hp->arch,
                       hp->head_dim_k, hp->head_dim_v);
    hp->rope_mode = RF_ROPE_NEOX;
    hp->embd_scale = sqrtf((float)hp->n_embd);
    hp->attn_scale = 1.0f; /* queries are scaled before the soft-cap instead */
    return RF_OK;
}

static rf_status gemma3_tensors(rf_model_impl *m, rf_err *err) {
    return rf__gemma_tensors(m, true, true, true, err);
}

static rf_tensor *gemma3_build(const rf_build *b) {
    return rf__gemma_build(b, rf__gemma_query_scale(b->hp, 62));
}

const rf_arch rf__arch_gemma3 = {
    .name = "gemma3",
    .load_hparams = gemma3_hparams,
    .load_tensors = gemma3_tensors,
    .build = gemma3_build,
};
