/*
 * quantize_model.h - converting a whole GGUF model to another tensor type
 * (what `rocmforge quantize` runs).
 *
 * A file type (rf_ftype, numbered as llama.cpp's LLAMA_FTYPE_* so the value
 * can be stored in general.file_type) names a default tensor type and a
 * per-tensor precision mix: which tensors get more bits (attn_v, ffn_down in
 * some layers, the output matrix), which are never quantized (1-D tensors,
 * norms, routers, position embeddings, ...), and what a tensor gets when its
 * row length is not a multiple of the type's block size. The mix reproduces
 * llama.cpp's choice (src/llama-quant.cpp, llama_tensor_get_type) tensor for
 * tensor; tests/py/test_quantize_model.py holds it to recorded outputs.
 *
 * Sources may be F32, F16, BF16 or any type with a conversion to f32
 * (requantizing, which loses more precision: the plan counts such tensors so
 * the caller can warn). The input is used in place from its mapping and the
 * output is written tensor by tensor: memory use is bounded by the largest
 * output tensor plus per-thread row buffers.
 */
#ifndef RF_QUANTIZE_MODEL_H
#define RF_QUANTIZE_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"
#include "gguf/gguf.h"
#include "quant/quant.h"

/* File types, numbered as llama.cpp's llama_ftype (general.file_type). */
typedef enum rf_ftype {
    RF_FTYPE_ALL_F32 = 0,
    RF_FTYPE_MOSTLY_F16 = 1,
    RF_FTYPE_MOSTLY_Q4_0 = 2,
    RF_FTYPE_MOSTLY_Q4_1 = 3,
    RF_FTYPE_MOSTLY_Q8_0 = 7,
    RF_FTYPE_MOSTLY_Q5_0 = 8,
    RF_FTYPE_MOSTLY_Q5_1 = 9,
    RF_FTYPE_MOSTLY_Q2_K = 10,
    RF_FTYPE_MOSTLY_Q3_K_S = 11,
    RF_FTYPE_MOSTLY_Q3_K_M = 12,
    RF_FTYPE_MOSTLY_Q3_K_L = 13,
    RF_FTYPE_MOSTLY_Q4_K_S = 14,
    RF_FTYPE_MOSTLY_Q4_K_M = 15,
    RF_FTYPE_MOSTLY_Q5_K_S = 16,
    RF_FTYPE_MOSTLY_Q5_K_M = 17,
    RF_FTYPE_MOSTLY_Q6_K = 18,
    RF_FTYPE_MOSTLY_IQ2_XXS = 19,
    RF_FTYPE_MOSTLY_IQ2_XS = 20,
    RF_FTYPE_MOSTLY_Q2_K_S = 21,
    RF_FTYPE_MOSTLY_IQ3_XS = 22,
    RF_FTYPE_MOSTLY_IQ3_XXS = 23,
    RF_FTYPE_MOSTLY_IQ1_S = 24,
    RF_FTYPE_MOSTLY_IQ4_NL = 25,
    RF_FTYPE_MOSTLY_IQ3_S = 26,
    RF_FTYPE_MOSTLY_IQ3_M = 27,
    RF_FTYPE_MOSTLY_IQ2_S = 28,
    RF_FTYPE_MOSTLY_IQ2_M = 29,
    RF_FTYPE_MOSTLY_IQ4_XS = 30,
    RF_FTYPE_MOSTLY_IQ1_M = 31,
    RF_FTYPE_MOSTLY_BF16 = 32,
    RF_FTYPE_MOSTLY_TQ1_0 = 36,
    RF_FTYPE_MOSTLY_TQ2_0 = 37,
    RF_FTYPE_MOSTLY_MXFP4_MOE = 38,
} rf_ftype;

/* The file type a preset name stands for ("Q4_K_M", "q4_k", "MXFP4", or the
 * number itself, as llama.cpp's quantize tool accepts them); false if the
 * name is not one of the presets this build can produce. */
bool rf_ftype_from_name(const char *name, rf_ftype *out);
/* Canonical preset name of a file type ("Q4_K_M"), or NULL. */
const char *rf_ftype_name(rf_ftype ftype);
/* The default tensor type of a file type; false if it has none. */
bool rf_ftype_default_type(rf_ftype ftype, rf_type *out);
/* Preset names one per call: i = 0, 1, ... until NULL (aliases included,
 * *alias_of set to the canonical name for those, NULL otherwise). */
const char *rf_ftype_preset_at(int i, const char **alias_of);

typedef struct rf_quantize_progress {
    uint64_t index;            /* 0-based index of the tensor just written */
    uint64_t count;            /* tensors in the model */
    const char *name;
    rf_type src_type, dst_type;
    uint64_t src_bytes, dst_bytes;
    uint64_t done_src_bytes;   /* input tensor bytes handled so far, this one included */
    double elapsed;            /* seconds since the start */
} rf_quantize_progress;

typedef void (*rf_quantize_progress_fn)(void *user, const rf_quantize_progress *p);

typedef struct rf_quantize_params {
    rf_ftype ftype;
    int n_threads;                    /* <= 0: one per online CPU */
    bool pure;                        /* every quantizable tensor gets the default type */
    rf_quantize_progress_fn progress; /* may be NULL; called after each tensor */
    void *progress_user;
} rf_quantize_params;

/* Defaults: Q8_0, all CPUs, not pure, no progress callback. */
rf_quantize_params rf_quantize_default_params(void);

/* The per-tensor decision. */
typedef struct rf_quantize_plan {
    uint64_t n_tensors;
    rf_type *types;            /* [n_tensors], in the input file's tensor order */
    uint32_t n_requantized;    /* tensors converted from a quantized source type */
    uint32_t n_fallback;       /* tensors whose row length forced another type */
    uint64_t requant_types;    /* bit t set: source type t is requantized */
} rf_quantize_plan;

/* Chooses the type of every tensor of `g` for `p` (ftype and pure are used).
 * Fills *plan (free with rf_quantize_plan_free). Fails with
 * RF_ERR_UNSUPPORTED if a needed conversion does not exist in this build, or
 * RF_ERR_FORMAT for metadata llama.cpp would reject too (an expert tensor
 * whose layer cannot be determined). */
rf_status rf_quantize_plan_make(const rf_gguf *g, const rf_quantize_params *p, rf_quantize_plan *plan,
                                rf_err *err);
void rf_quantize_plan_free(rf_quantize_plan *plan);

typedef struct rf_quantize_stats {
    uint64_t n_tensors;
    uint64_t src_tensor_bytes, dst_tensor_bytes;  /* tensor data only */
    uint64_t src_file_bytes, dst_file_bytes;      /* whole files */
    uint64_t n_elements;
    uint32_t n_requantized, n_fallback;
    uint64_t requant_types;
    double seconds;
} rf_quantize_stats;

/* Quantizes the model at in_path (a split model by its first part) into a
 * single GGUF file at out_path: metadata copied verbatim (split keys
 * dropped), general.quantization_version = 2 and general.file_type = ftype
 * set, alignment kept, tensors in input order. out_path must differ from
 * the input; on failure it is removed. `stats` may be NULL. */
rf_status rf_quantize_model(const char *in_path, const char *out_path, const rf_quantize_params *p,
                            rf_quantize_stats *stats, rf_err *err);

#endif /* RF_QUANTIZE_MODEL_H */
