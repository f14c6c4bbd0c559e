/*
 * template.h - chat template engine: a sandboxed interpreter for the subset
 * of Jinja2 that Hugging Face chat templates use.
 *
 * The engine renders like jinja2's ImmutableSandboxedEnvironment with
 * trim_blocks=True, lstrip_blocks=True and the loop-controls extension, plus
 * the helpers transformers' apply_chat_template installs: raise_exception(),
 * strftime_now() and a tojson filter equal to json.dumps(x, ensure_ascii=False,
 * sort_keys=False). Templates reach only the data they are given; every render
 * runs under an instruction budget, an output and memory cap, a recursion
 * limit and a time limit. Parse and runtime errors are RF_ERR_TEMPLATE with
 * the template line in the message; exhausted limits are RF_ERR_BUDGET.
 *
 * A parsed template is immutable: several threads may render it at once.
 */
#ifndef RF_TEMPLATE_H
#define RF_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

typedef struct rf_template rf_template;

typedef struct rf_template_opts {
    uint64_t max_steps;     /* instruction budget (evaluation steps); 0 = default */
    size_t max_output;      /* bytes of output, and of any one string; 0 = default */
    size_t max_memory;      /* bytes one render may allocate; 0 = default */
    uint32_t max_depth;     /* macro / recursive-loop call depth; 0 = default */
    double max_seconds;     /* wall-clock limit; 0 = default, < 0 = none */
    bool fixed_time;        /* strftime_now() formats `now` (UTC) instead of the clock */
    int64_t now;            /* UNIX time used when fixed_time */
} rf_template_opts;

#define RF_TEMPLATE_DEFAULT_STEPS 50000000ull
#define RF_TEMPLATE_DEFAULT_OUTPUT (32u << 20)
#define RF_TEMPLATE_DEFAULT_MEMORY (256u << 20)
#define RF_TEMPLATE_DEFAULT_DEPTH 100u
#define RF_TEMPLATE_DEFAULT_SECONDS 10.0

/* Fill `o` with the defaults above. */
void rf__template_opts_default(rf_template_opts *o);

/* Parse `len` bytes of template source (UTF-8). On success *out owns the
 * template (free with rf__template_free); on failure *out is NULL and `err`
 * names the problem and the line. */
rf_status rf__template_parse(const char *src, size_t len, rf_template **out, rf_err *err);

/* Render with `context` (a JSON object whose keys become template globals;
 * may be NULL). `opts` may be NULL for defaults. On success *out is a
 * NUL-terminated string from rf__malloc (caller frees with rf__free) and
 * *out_len (may be NULL) its length; on failure *out is NULL. */
rf_status rf__template_render(const rf_template *t, const json_t *context,
                              const rf_template_opts *opts, char **out, size_t *out_len,
                              rf_err *err);

void rf__template_free(rf_template *t);

/* Render a chat template the way transformers' apply_chat_template does:
 * globals messages, tools (null when NULL), documents (null),
 * add_generation_prompt, bos_token, eos_token (empty when NULL), then every
 * key of `extra` (may be NULL; it may override the others). */
rf_status rf__chat_apply_ex(const char *template_src, size_t template_len,
                            const json_t *messages, const json_t *tools, const json_t *extra,
                            bool add_generation_prompt, const char *bos, const char *eos,
                            const rf_template_opts *opts, char **out, size_t *out_len,
                            rf_err *err);

/* Shorthand for rf__chat_apply_ex with a NUL-terminated template, no extra
 * globals and default limits. */
rf_status rf__chat_apply(const char *template_src, const json_t *messages, const json_t *tools,
                         bool add_generation_prompt, const char *bos, const char *eos,
                         char **out, rf_err *err);

#endif /* RF_TEMPLATE_H */
