/* quant_mix.h - per-tensor type choice of a file type (internal to quantize_model.c). */
#ifndef RF_QUANT_MIX_H
#define RF_QUANT_MIX_H

#include "quant/quantize_model.h"

/* The model facts the choice depends on. */
typedef struct rf__mix_model {
    char arch[64];       /* general.architecture */
    uint32_t n_layer;    /* {arch}.block_count */
    uint32_t n_head;     /* {arch}.attention.head_count (of layer 0) */
    uint32_t n_head_kv;  /* {arch}.attention.head_count_kv (of layer 0; defaults to n_head) */
    uint32_t n_expert;   /* {arch}.expert_count, 0 if absent */
    bool is_70b;         /* llama.cpp's LLM_TYPE_70B (gives attn_v more bits) */
} rf__mix_model;

/* Whether a tensor may be quantized at all (llama.cpp: tensor_allows_quantization). */
bool rf__mix_allows_quantization(const rf__mix_model *m, const char *name, const int64_t ne[RF_GGUF_MAX_DIMS]);

/* Fills out[i] with the type of tensor i (names[i], ne[i], src_types[i]) for
 * file type `ftype` whose default type is `default_type`. */
rf_status rf__mix_types(const rf__mix_model *m, rf_ftype ftype, rf_type default_type, bool pure, uint64_t n,
                        const char *const *names, const int64_t (*ne)[RF_GGUF_MAX_DIMS], const rf_type *src_types,
                        rf_type *out, uint32_t *n_fallback, rf_err *err);

#endif /* RF_QUANT_MIX_H */
