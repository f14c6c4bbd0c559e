/*
 * models.h - model architectures: hyperparameters, weights, and the registry
 * of forward-pass builders.
 *
 * Adding an architecture = one file src/models/<arch>.c defining an rf_arch
 * plus one line in registry.c. The file reads what is particular to it
 * (rf_hparams is filled with everything common first), looks its tensors up
 * with rf__model_tensor (which checks names, shapes and types and fails with
 * RF_ERR_FORMAT naming the tensor) and expresses one forward step as a graph
 * of backend ops (backend/backend.h) with the helpers below.
 */
#ifndef RF_MODELS_H
#define RF_MODELS_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"
#include "gguf/gguf.h"

#define RF_MAX_LAYERS 512

typedef enum rf_rope_scaling {
    RF_ROPE_SCALING_NONE = 0,
    RF_ROPE_SCALING_LINEAR,
    RF_ROPE_SCALING_YARN,
    RF_ROPE_SCALING_LONGROPE,
} rf_rope_scaling;

typedef enum rf_expert_gating {
    RF_GATING_SOFTMAX = 0,
    RF_GATING_SIGMOID = 1,
} rf_expert_gating;

/* Every hyperparameter any architecture needs. Per-layer values live in
 * arrays (a scalar key fills all layers). Read by rf__hparams_load_common
 * from "<arch>.*" keys with llama.cpp's defaults; arch files add the rest. */
typedef struct rf_hparams {
    char arch[64];
    char name[128];                 /* general.name */
    uint32_t n_vocab;
    uint32_t n_ctx_train;
    uint32_t n_embd;
    uint32_t n_layer;
    uint32_t n_head[RF_MAX_LAYERS];
    uint32_t n_head_kv[RF_MAX_LAYERS];
    uint32_t n_ff[RF_MAX_LAYERS];
    uint32_t head_dim_k;            /* attention.key_length (default n_embd / n_head) */
    uint32_t head_dim_v;            /* attention.value_length (default head_dim_k) */

    float norm_eps;                 /* attention.layer_norm_epsilon */
    float norm_rms_eps;             /* attention.layer_norm_rms_epsilon */

    /* rotary embedding */
    uint32_t n_rot;                 /* rope.dimension_count (default head_dim_k) */
    int32_t rope_mode;              /* RF_ROPE_NORMAL / RF_ROPE_NEOX: set by the arch */
    float rope_freq_base;           /* rope.freq_base (default 10000) */
    float rope_freq_scale;          /* 1 / rope.scaling.factor, 1 when unscaled */
    float rope_freq_base_swa;       /* sliding-window layers (default rope_freq_base) */
    float rope_freq_scale_swa;
    rf_rope_scaling rope_scaling;   /* rope.scaling.type (default linear, as llama.cpp) */
    uint32_t n_ctx_orig;            /* rope.scaling.original_context_length or n_ctx_train */
    float yarn_ext_factor;          /* 1 for YaRN, else 0 */
    float yarn_attn_factor;         /* rope.scaling.attn_factor (default 1) */
    float yarn_beta_fast, yarn_beta_slow; /* 32, 1 unless stored */
    /* Llama 3 frequency scaling (used when the file has no rope_freqs tensor) */
    bool rope_llama3;
    float llama3_factor, llama3_low_freq_factor, llama3_high_freq_factor;
    uint32_t llama3_orig_ctx;

    /* attention */
    uint32_t n_swa;                 /* attention.sliding_window (0 = none) */
    bool swa_layer[RF_MAX_LAYERS];  /* which layers use the window */
    float attn_scale;               /* 0 = 1/sqrt(head_dim_k) */
    float attn_softcap;             /* attn_logit_softcapping (0 = none) */
    float final_softcap;            /* final_logit_softcapping (0 = none) */
    float attn_temp_scale;          /* attention.temperature_scale: queries scaled by
                                       1 + s * log(floor(pos / n_ctx_orig) + 1) (0 = none) */

    /* scaling of embeddings, residuals and logits (0 = none) */
    float embd_scale;
    float residual_scale;
    float logit_scale;

    /* mixture of experts */
    uint32_t n_expert;
    uint32_t n_expert_used;
    uint32_t n_ff_exp;
    uint32_t n_ff_shexp;
    uint32_t n_expert_shared;
    bool expert_weights_norm;
    float expert_weights_scale;
    uint32_t n_layer_dense_lead;    /* leading_dense_block_count: first layers without experts */
    rf_expert_gating expert_gating;

    bool tied_embeddings;           /* output.weight absent: reuse token_embd */
} rf_hparams;

/* Weights of one layer: a superset; an architecture fills what it uses. */
typedef struct rf_layer {
    rf_tensor *attn_norm, *attn_norm_b, *attn_post_norm;
    rf_tensor *wq, *wk, *wv, *wqkv, *wo;
    rf_tensor *bq, *bk, *bv, *bqkv, *bo;
    rf_tensor *attn_q_norm, *attn_k_norm;
    rf_tensor *ffn_norm, *ffn_norm_b, *ffn_post_norm;
    rf_tensor *ffn_gate, *ffn_up, *ffn_down;
    rf_tensor *ffn_gate_b, *ffn_up_b, *ffn_down_b;
    rf_tensor *ffn_gate_inp;                          /* router */
    rf_tensor *ffn_gate_exps, *ffn_up_exps, *ffn_down_exps;
    rf_tensor *ffn_gate_shexp, *ffn_up_shexp, *ffn_down_shexp, *ffn_gate_inp_shexp;
    rf_tensor *rope_freqs;                            /* per-layer frequency factors */
    rf_tensor *attn_sinks;                            /* [n_head] extra softmax logits (gpt-oss) */
    rf_tensor *ffn_gate_inp_b;                        /* router bias [n_expert] */
    rf_tensor *ffn_exp_probs_b;                       /* expert selection bias [n_expert] */
    rf_tensor *ffn_gate_exps_b, *ffn_up_exps_b, *ffn_down_exps_b; /* [n_out, n_expert] */
} rf_layer;

typedef struct rf_weights {
    rf_tensor *tok_embd;
    rf_tensor *output_norm, *output_norm_b;
    rf_tensor *output;                                /* == tok_embd when tied */
    rf_tensor *rope_freqs;
    rf_tensor *rope_long, *rope_short;                /* long/short-context factors (phi3) */
    rf_layer layers[RF_MAX_LAYERS];
} rf_weights;

typedef struct rf_model_impl rf_model_impl;

/* What a forward builder gets: the graph to append to, its inputs, the KV
 * cache and what to output. */
typedef struct rf_build {
    const rf_model_impl *m;
    const rf_hparams *hp;
    const rf_weights *w;
    rf_graph *g;
    int64_t n_tokens;
    rf_tensor *tokens;              /* I32 [n_tokens] */
    rf_tensor *pos;                 /* I32 [n_tokens] */
    rf_tensor *const *k_cache;      /* per layer [head_dim_k * n_head_kv, n_ctx] */
    rf_tensor *const *v_cache;
    bool all_logits;                /* logits for every token, else only the last */
} rf_build;

typedef struct rf_arch {
    const char *name;               /* general.architecture */
    /* OPTIONAL: read what rf__hparams_load_common did not (rope mode is
     * required: set hp->rope_mode). */
    rf_status (*load_hparams)(rf_hparams *hp, const rf_gguf *g, rf_err *err);
    /* Look up weights into m->w with rf__model_tensor. */
    rf_status (*load_tensors)(rf_model_impl *m, rf_err *err);
    /* Append one forward step; returns the logits tensor [n_vocab, n_out]
     * (NULL with the graph's latched error on failure). */
    rf_tensor *(*build)(const rf_build *b);
} rf_arch;

/* The registry (registry.c). NULL if the architecture is not supported. */
const rf_arch *rf__arch_find(const char *name);
/* Comma-separated list of supported names into buf (for messages). */
void rf__arch_list(char *buf, size_t size);

/* ---- model (src/engine/model.c) ---- */
struct rf_model_impl {
    rf_gguf *gguf;
    const rf_arch *arch;
    rf_hparams hp;
    rf_weights w;
    rf_backend *be;                 /* owns the weight buffers */
    rf_buffer **wbufs;
    uint32_t n_wbufs;
    rf_tensor *tensors;             /* one per GGUF tensor, same order */
    uint64_t n_tensors;
    rf_buffer *extra_buf;           /* weights made at load time (llama3 rope factors) */
    rf_tensor extra[2];
    uint64_t n_params;
    uint64_t weight_bytes;
};

/* Reads the keys every architecture shares. */
rf_status rf__hparams_load_common(rf_hparams *hp, const rf_gguf *g, rf_err *err);

/* Finds tensor `name` (printf-style) and checks its shape: ne0 exactly, ne1
 * and ne2 exactly or -1 for "dimension absent" (must be 1); the 4th dim must
 * be 1. RF_TENSOR_F32 also requires type F32 (norms, biases). Missing and
 * optional: *out = NULL, RF_OK. Missing and required, wrong shape or type:
 * RF_ERR_FORMAT naming the tensor. Whether the backend can multiply with a
 * type is checked when the graph is planned (also naming the tensor). */
enum { RF_TENSOR_REQUIRED = 0, RF_TENSOR_OPTIONAL = 1, RF_TENSOR_F32 = 2 /* must be F32 */ };
rf_status rf__model_tensor(rf_model_impl *m, rf_tensor **out, int flags, int64_t ne0, int64_t ne1,
                           int64_t ne2, rf_err *err, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

/* ---- building blocks shared by architectures (src/models/common.c) ---- */
/* Rope parameters of layer il (sliding-window layers may use another base). */
void rf__llm_rope_params(const rf_hparams *hp, uint32_t il, rf_rope_params *p);
/* x @ w (+ b when b != NULL). */
/* Loads the llama tensor table (embeddings, tied or separate output, rope_freqs,
 * attention with optional biases, dense or expert feed-forward) for llama,
 * Mistral 3 and Granite. Expert width: expert_feed_forward_length when
 * ff_exp_key and present, else feed_forward_length; shared experts
 * (ffn_*_shexp) when shared_experts and expert_shared_feed_forward_length > 0.
 * Checks expert_used_count is in 1..expert_count. */
rf_status rf__llm_llama_tensors(rf_model_impl *m, bool ff_exp_key, bool shared_experts, rf_err *err);
rf_tensor *rf__llm_linear(rf_graph *g, rf_tensor *w, rf_tensor *b, rf_tensor *x);
/* Self-attention of layer il from projected q, k, v ([n_head*hd, n_tok]
 * etc.): rope on q and k (freq factors from the layer or the model), store
 * k and v in the cache, attend (with the layer's attention sinks when it has
 * them). Returns [hd_v * n_head, n_tok]. */
rf_tensor *rf__llm_attention(const rf_build *b, uint32_t il, rf_tensor *q, rf_tensor *k,
                             rf_tensor *v, bool rope);
/* Gated feed-forward: down(act(gate(x)) * up(x)); gelu selects GEGLU. */
rf_tensor *rf__llm_ffn_gated(rf_graph *g, const rf_layer *l, rf_tensor *x, bool gelu);
/* Mixture of experts: router softmax/sigmoid, top-k, expert products,
 * weighted sum. Softmax (hp->expert_gating): weights are the chosen
 * experts' probabilities, renormalised when expert_weights_norm. Sigmoid:
 * experts chosen by sigmoid score plus the layer's ffn_exp_probs_b when
 * present, weighed by score (divided by their sum when expert_weights_norm).
 * Then multiplied by expert_weights_scale when set. */
rf_tensor *rf__llm_moe(const rf_build *b, const rf_layer *l, rf_tensor *x);
/* The rows that produce logits: the last one unless all_logits. */
rf_tensor *rf__llm_output_rows(const rf_build *b, rf_tensor *x);
/* Final norm (RMS) + output projection (+ softcap/scale). */
rf_tensor *rf__llm_logits(const rf_build *b, rf_tensor *x);

/* Which layers use the sliding window (hp->swa_layer), as llama.cpp reads
 * "<arch>.attention.sliding_window_pattern": one flag per layer, or a period
 * n where layer il slides unless il % n == n - 1 (n == 0: every layer);
 * default_period when the key is absent. No layer slides when n_swa == 0. */
rf_status rf__hparams_swa_pattern(rf_hparams *hp, const rf_gguf *g, uint32_t default_period,
                                  rf_err *err);
/* RMS norm of every head_dim-wide head of x ([n_head * head_dim, n_tok],
 * contiguous) with the per-head weight w [head_dim] (QK-norm). */
rf_tensor *rf__llm_head_norm(rf_graph *g, rf_tensor *x, rf_tensor *w, int64_t head_dim,
                             float eps);
/* Element-wise logistic sigmoid (built from the soft-cap and scale ops). */
rf_tensor *rf__llm_sigmoid(rf_graph *g, rf_tensor *x);

/* ---- shared between architecture files ---- */
/* gemma2.c: the Gemma 1/2/3 decoder (GeGLU, query scaling before the
 * soft-cap, sandwich norms where present); weights with QK-norm tensors when
 * qk_norm, post-attention/feed-forward norms when post_norms, and an own
 * output matrix when own_output and present. */
rf_status rf__gemma_tensors(rf_model_impl *m, bool qk_norm, bool post_norms, bool own_output,
                           rf_err *err);
float rf__gemma_query_scale(const rf_hparams *hp, uint32_t n_layer_27b);
rf_tensor *rf__gemma_build(const rf_build *b, float q_scale);
/* command_r.c: the Cohere parallel block (layer norms, attention and
 * feed-forward side by side, logit scale); per-head QK layer norms when
 * qk_norm; rope on every layer, or only on sliding-window layers when
 * nope_global. */
rf_status rf__cohere_tensors(rf_model_impl *m, bool qk_norm, rf_err *err);
rf_tensor *rf__cohere_build(const rf_build *b, bool nope_global);

#endif /* RF_MODELS_H */
