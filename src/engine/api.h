/* api.h - the objects behind the public handles (include/rocmforge.h). */
#ifndef RF_API_INTERNAL_H
#define RF_API_INTERNAL_H

#include "engine/engine.h"
#include "tokenizer/tokenizer.h"

struct rf_model {
    rf_model_impl *impl;
    rf_tokenizer *tok;
    char *chat_template;     /* NUL-terminated copy, or NULL */
    char desc[160];
};

struct rf_context {
    rf_model *model;
    rf_ctx_impl *impl;
    int32_t *hist;           /* the tokens in the KV cache (impl->n_past of them) */
    float *logits;           /* n_vocab */
    int32_t n_threads;
    rf_err err;
};

/* Copies an rf_err message into a caller buffer (either may be NULL/0). */
void rf__err_copy(const rf_err *e, char *buf, size_t len);

#endif
