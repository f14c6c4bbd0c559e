/* inspect.h - helpers shared by the human and JSON views of `rocmforge inspect`. */
#ifndef RF_TOOLS_INSPECT_H
#define RF_TOOLS_INSPECT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "gguf/gguf.h"

/* Arrays up to this many elements are shown in full in --json (and all of
 * them with --full). */
#define RF_INSPECT_JSON_ARRAY_LIMIT 64

/* Known hyperparameter suffixes (after "<arch>."), in display order. */
extern const char *const rf__inspect_hparams[];

/* Special-token keys: tokenizer.ggml.<name>_token_id. */
extern const char *const rf__inspect_special[];

/* llama.cpp's name of a general.file_type value, or NULL. */
const char *rf__inspect_ftype_name(uint64_t ftype);

/* Text of token `id` of tokenizer.ggml.tokens; false if absent or out of range. */
bool rf__inspect_token_text(const rf_gguf *g, uint64_t id, rf_str *out);

/* Signed or unsigned integer value as int64 (false for non-integers or
 * values beyond int64). */
bool rf__inspect_int(const rf_gguf_value *v, int64_t *out);

/* Whole JSON document; NULL on allocation failure. */
json_t *rf__inspect_json(const char *path, const rf_gguf *g, bool full);

#endif
