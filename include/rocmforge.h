/*
 * rocmforge.h - public C API of librocmforge.
 *
 * Conventions: every function that can fail returns an rf_status; objects are
 * opaque handles created by rf_*_create/load and released by the matching
 * rf_*_free, which accepts NULL. Strings returned by the library are owned by
 * the object they came from unless the comment says otherwise.
 */
#ifndef ROCMFORGE_H
#define ROCMFORGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define RF_API __declspec(dllexport)
#else
#define RF_API __attribute__((visibility("default")))
#endif

#define RF_VERSION_MAJOR 0
#define RF_VERSION_MINOR 1
#define RF_VERSION_PATCH 0

/* Status codes. Append-only: values are never renumbered or reused. */
typedef enum rf_status {
    RF_OK = 0,
    RF_ERR_NOMEM = 1,        /* an allocation failed or would exceed a limit */
    RF_ERR_IO = 2,           /* open/read/mmap failed */
    RF_ERR_INVALID_ARG = 3,  /* caller passed something invalid */
    RF_ERR_FORMAT = 4,       /* malformed input file or data */
    RF_ERR_UNSUPPORTED = 5,  /* valid, but not supported by this build */
    RF_ERR_NOT_FOUND = 6,    /* key, tensor or file not present */
    RF_ERR_TYPE = 7,         /* present, but of the wrong type */
    RF_ERR_RANGE = 8,        /* value out of range */
    RF_ERR_TEMPLATE = 9,     /* chat template failed to parse or render */
    RF_ERR_BUDGET = 10,      /* an instruction, time or size budget ran out */
    RF_ERR_CANCELLED = 11,   /* stopped by the caller (callback returned nonzero) */
    RF_ERR_CONTEXT_FULL = 12,/* the context window is full */
    RF_ERR_INTERNAL = 13,    /* a bug: an internal invariant failed */
} rf_status;

/* A static, human-readable name for a status code. Never NULL. */
RF_API const char *rf_status_str(rf_status st);

/* Library version as "MAJOR.MINOR.PATCH". */
RF_API const char *rf_version(void);

/* ==========================================================================
 * Models, contexts and generation
 *
 * Typical use:
 *   rf_model *m; rf_context *c; char err[256];
 *   rf_model_params mp = rf_model_params_default();
 *   if (rf_model_load("model.gguf", &mp, &m, err, sizeof err)) { puts(err); ... }
 *   rf_context_params cp = rf_context_params_default();
 *   rf_context_create(m, &cp, &c, err, sizeof err);
 *   rf_sampling_params sp = rf_sampling_params_default();
 *   rf_generate(c, "Once upon a time", &sp, on_piece, NULL, &stats);
 *   rf_context_free(c); rf_model_free(m);
 *
 * Threads: a model may be shared by several contexts; one context must be
 * used by one thread at a time.
 * ========================================================================== */

typedef struct rf_model rf_model;
typedef struct rf_context rf_context;
typedef int32_t rf_token;

/* ---- models ---- */

/* Progress while loading, fraction in [0, 1]. Return nonzero to cancel the
 * load (rf_model_load then fails with RF_ERR_CANCELLED). */
typedef int (*rf_progress_cb)(float fraction, void *user);

typedef struct rf_model_params {
    rf_progress_cb progress;  /* may be NULL */
    void *progress_user;
    bool prefault;            /* read all weights during the load (default true) so the
                                 first tokens do not pay for page faults */
} rf_model_params;

RF_API rf_model_params rf_model_params_default(void);

/* Loads a GGUF model (memory-mapped; a "-00001-of-0000N.gguf" name opens all
 * splits). On failure *out is NULL and, when err is non-NULL, err receives a
 * NUL-terminated message of at most errlen bytes naming the problem (an
 * unsupported architecture, a missing or misshapen tensor, ...).
 * Free with rf_model_free, after every context made from it. */
RF_API rf_status rf_model_load(const char *path, const rf_model_params *params, rf_model **out,
                               char *err, size_t errlen);
RF_API void rf_model_free(rf_model *m);  /* NULL is a no-op */

/* Descriptions; strings are owned by the model. */
RF_API const char *rf_model_arch(const rf_model *m);     /* general.architecture */
RF_API const char *rf_model_name(const rf_model *m);     /* general.name, or "" */
RF_API const char *rf_model_desc(const rf_model *m);     /* "llama 135M Q4_1" */
RF_API uint64_t rf_model_n_params(const rf_model *m);
RF_API uint64_t rf_model_size(const rf_model *m);        /* bytes of weights */
RF_API uint32_t rf_model_n_vocab(const rf_model *m);
RF_API uint32_t rf_model_n_ctx_train(const rf_model *m);
RF_API uint32_t rf_model_n_embd(const rf_model *m);
RF_API uint32_t rf_model_n_layer(const rf_model *m);
/* The chat template stored in the file (tokenizer.chat_template), or NULL. */
RF_API const char *rf_model_chat_template(const rf_model *m);

/* ---- tokens ---- */

/* Text to token ids. add_special: BOS/EOS as the vocabulary asks;
 * parse_special: recognise control-token text (e.g. "<|im_start|>").
 * If cap is too small: RF_ERR_RANGE with *n_tokens = the count needed. */
RF_API rf_status rf_tokenize(const rf_model *m, const char *text, size_t len, bool add_special,
                             bool parse_special, rf_token *tokens, size_t cap, size_t *n_tokens);
/* The text of one token (not NUL-terminated). special: render control tokens.
 * If cap is too small: RF_ERR_RANGE with *len = the bytes needed. */
RF_API rf_status rf_token_to_piece(const rf_model *m, rf_token token, bool special, char *buf,
                                   size_t cap, size_t *len);
RF_API rf_token rf_token_bos(const rf_model *m);          /* -1 when the model has none */
RF_API rf_token rf_token_eos(const rf_model *m);
RF_API bool rf_token_is_eog(const rf_model *m, rf_token t); /* EOS, EOT and other end tokens */
RF_API bool rf_model_add_bos(const rf_model *m);          /* does tokenization add BOS */

/* ---- contexts ---- */

typedef struct rf_context_params {
    uint32_t n_ctx;      /* context length in tokens; 0 = min(training length, 4096) */
    uint32_t n_batch;    /* prompt tokens per forward step; 0 = 512 */
    int32_t n_threads;   /* CPU threads; <= 0 = all CPUs */
    bool kv_f32;         /* KV cache in f32 (default f16) */
} rf_context_params;

RF_API rf_context_params rf_context_params_default(void);
/* Creates an evaluation context (KV cache, compute buffers, threads) for m.
 * Errors as rf_model_load. Free with rf_context_free before the model. */
RF_API rf_status rf_context_create(rf_model *m, const rf_context_params *params, rf_context **out,
                                   char *err, size_t errlen);
RF_API void rf_context_free(rf_context *c);  /* NULL is a no-op */
/* Message of the last failed call on c ("" if none); owned by c. */
RF_API const char *rf_context_error(const rf_context *c);
RF_API uint32_t rf_context_n_ctx(const rf_context *c);
RF_API uint32_t rf_context_n_past(const rf_context *c);    /* tokens in the KV cache */
RF_API int32_t rf_context_n_threads(const rf_context *c);
/* Forgets everything in the KV cache. */
RF_API void rf_context_reset(rf_context *c);

/* Low level: evaluates n tokens after those already in the KV cache and
 * appends them. logits (may be NULL) receives the last token's logits
 * (rf_model_n_vocab floats) or, with all_logits, n rows of them. */
RF_API rf_status rf_eval(rf_context *c, const rf_token *tokens, size_t n, bool all_logits,
                         float *logits);

/* ---- generation ---- */

#define RF_SEED_RANDOM UINT64_MAX

typedef struct rf_sampling_params {
    float temperature;        /* 0 = greedy (default 0.8) */
    int32_t top_k;            /* 0 = off (default 40) */
    float top_p;              /* 1 = off (default 0.95) */
    float min_p;              /* 0 = off (default 0.05) */
    float repeat_penalty;     /* 1 = off (default 1.0) */
    int32_t repeat_last_n;    /* penalty window in tokens; -1 = whole context (default 64) */
    float presence_penalty;   /* default 0 */
    float frequency_penalty;  /* default 0 */
    uint64_t seed;            /* RF_SEED_RANDOM (default) picks one; see stats */
    int32_t max_tokens;       /* -1 = until end of generation or a full context (default) */
    const char *const *stop;  /* stop strings (not printed); may be NULL */
    size_t n_stop;
    bool ignore_eog;          /* keep going past end-of-generation tokens */
    /* prompt handling */
    int32_t add_special;      /* -1 = as the vocabulary says (default), 0 = no, 1 = yes */
    bool parse_special;       /* control-token text in the prompt is parsed (default true) */
} rf_sampling_params;

RF_API rf_sampling_params rf_sampling_params_default(void);

/* Receives generated text as it is produced (whole UTF-8 characters; stop
 * strings and text that might begin one are held back). Return nonzero to
 * stop. */
typedef int (*rf_token_cb)(const char *piece, size_t len, void *user);

typedef enum rf_stop_reason {
    RF_STOP_NONE = 0,
    RF_STOP_EOG = 1,          /* end-of-generation token */
    RF_STOP_MAX_TOKENS = 2,
    RF_STOP_STRING = 3,       /* a stop string appeared */
    RF_STOP_CALLBACK = 4,     /* the callback returned nonzero */
    RF_STOP_CONTEXT_FULL = 5,
} rf_stop_reason;

typedef struct rf_generate_stats {
    uint32_t n_prompt;        /* prompt tokens */
    uint32_t n_prompt_cached; /* of which reused from the KV cache */
    uint32_t n_generated;     /* tokens sampled */
    double t_prompt_s;        /* prompt evaluation time */
    double t_gen_s;           /* generation time (sampling and evaluation) */
    rf_stop_reason stop;
    uint64_t seed;            /* the seed actually used */
} rf_generate_stats;

/* Generates a continuation of prompt. The KV cache is kept between calls:
 * the longest prefix of the new prompt's tokens that is already in it is
 * reused (a chat sends the whole conversation each turn and pays only for
 * the new part). cb may be NULL; stats may be NULL. Fails before calling cb
 * when the prompt does not fit (RF_ERR_CONTEXT_FULL) or parameters are
 * invalid; a full context during generation is a normal stop. */
RF_API rf_status rf_generate(rf_context *c, const char *prompt, const rf_sampling_params *params,
                             rf_token_cb cb, void *user, rf_generate_stats *stats);

/* ---- chat templates ---- */

typedef struct rf_chat_message {
    const char *role;         /* "system", "user", "assistant", ... */
    const char *content;
} rf_chat_message;

/* Renders a conversation with tmpl (NULL = the model's template) the way
 * transformers' apply_chat_template does (sandboxed, with time and size
 * limits). Writes a NUL-terminated string into buf (may be NULL when cap is
 * 0); *len receives its length; RF_ERR_RANGE when cap <= length (call again
 * with a larger buffer). RF_ERR_NOT_FOUND if there is no template;
 * RF_ERR_TEMPLATE / RF_ERR_BUDGET with a message in err (may be NULL). */
RF_API rf_status rf_chat_apply_template(const rf_model *m, const char *tmpl,
                                        const rf_chat_message *msgs, size_t n_msgs,
                                        bool add_generation_prompt, char *buf, size_t cap,
                                        size_t *len, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif /* ROCMFORGE_H */
