/*
 * tokenizer.h - text <-> token ids for the vocabularies stored in GGUF files.
 *
 * Four algorithms, chosen by tokenizer.ggml.model:
 *   "llama" SPM  SentencePiece BPE: bigram merges by score, byte fallback <0xXX>
 *   "gpt2"  BPE  byte-level BPE with merge ranks and a pre-tokenizer chosen by
 *                tokenizer.ggml.pre
 *   "bert"  WPM  WordPiece (BERT normalisation, greedy longest match)
 *   "t5"    UGM  Unigram (Viterbi over the precompiled_charsmap normalisation)
 * The results follow llama.cpp's tokenizer exactly, including its special
 * token handling and its defaults per model type.
 *
 * A tokenizer is built from a plain in-memory description (rf_vocab_desc),
 * which the GGUF loader fills; it copies everything it needs, is immutable
 * afterwards, and may be used from several threads at once.
 *
 * Ids are int32_t. Functions taking an id reject id < 0 or id >= vocab size
 * with RF_ERR_RANGE (queries returning bool answer false).
 */
#ifndef RF_TOKENIZER_H
#define RF_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

typedef struct rf_gguf rf_gguf;
typedef struct rf_tokenizer rf_tokenizer;

typedef enum rf_tok_kind {
    RF_TOK_SPM = 1,
    RF_TOK_BPE = 2,
    RF_TOK_WPM = 3,
    RF_TOK_UGM = 4,
} rf_tok_kind;

/* Token types as stored in tokenizer.ggml.token_type. */
enum {
    RF_TOKTYPE_UNDEFINED = 0,
    RF_TOKTYPE_NORMAL = 1,
    RF_TOKTYPE_UNKNOWN = 2,
    RF_TOKTYPE_CONTROL = 3,
    RF_TOKTYPE_USER_DEFINED = 4,
    RF_TOKTYPE_UNUSED = 5,
    RF_TOKTYPE_BYTE = 6,
};

/* Token attributes (bit set), derived from the type and per-model fixes. */
enum {
    RF_TOKATTR_UNKNOWN = 1 << 0,
    RF_TOKATTR_UNUSED = 1 << 1,
    RF_TOKATTR_NORMAL = 1 << 2,
    RF_TOKATTR_CONTROL = 1 << 3,
    RF_TOKATTR_USER_DEFINED = 1 << 4,
    RF_TOKATTR_BYTE = 1 << 5,
    RF_TOKATTR_LSTRIP = 1 << 7,  /* eats whitespace to its left in text */
    RF_TOKATTR_RSTRIP = 1 << 8,  /* eats whitespace to its right in text */
};

#define RF_TOK_NULL (-1)        /* "no such token" */
#define RF_TOK_UNSET INT64_MIN  /* in rf_vocab_desc: use the model type's default */
#define RF_TOK_MAX_TOKEN_BYTES 16384 /* longer token strings are rejected */
#define RF_TOK_MAX_INPUT ((size_t)1 << 30) /* longest text encode accepts */

typedef struct rf_tok_text {
    const char *ptr;  /* not NUL-terminated */
    size_t len;
} rf_tok_text;

/* Everything a tokenizer is built from. Initialise with rf__vocab_desc_init,
 * then fill what the model has. Pointers are only read during
 * rf__tokenizer_create. */
typedef struct rf_vocab_desc {
    const char *model;        /* "llama", "gpt2", "bert", "t5" */
    const char *pre;          /* BPE pre-tokenizer (tokenizer.ggml.pre); NULL: "default" */
    const char *name;         /* general.name (some models need token attribute fixes) */
    const char *arch;         /* general.architecture */
    uint32_t n_tokens;
    const rf_tok_text *tokens;
    const float *scores;      /* NULL: all 0 */
    const int32_t *types;     /* RF_TOKTYPE_*; NULL: all normal */
    uint32_t n_merges;
    const rf_tok_text *merges;/* "left right", in rank order (BPE) */
    const uint8_t *charsmap;  /* UGM precompiled_charsmap; may be NULL */
    size_t charsmap_len;
    /* Special token ids: RF_TOK_UNSET for the default, -1 for none. Any other
     * value outside [0, n_tokens) is an error. */
    int64_t bos, eos, eot, eom, unk, sep, pad, mask;
    int64_t fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep;
    /* Flags: -1 for the default, else 0/1. */
    int8_t add_bos, add_eos, add_sep, add_space_prefix, remove_extra_ws;
    int8_t lowercase, strip_accents;
} rf_vocab_desc;

void rf__vocab_desc_init(rf_vocab_desc *d);

/* Builds a tokenizer. The vocabulary is validated: RF_ERR_FORMAT (with a
 * message) for duplicate or over-long token strings, merges naming unknown
 * tokens, malformed byte tokens, special ids outside the vocabulary, a bad
 * charsmap; RF_ERR_UNSUPPORTED for an unknown model or pre-tokenizer. */
rf_status rf__tokenizer_create(const rf_vocab_desc *d, rf_tokenizer **out, rf_err *err);

/* Reads the tokenizer.ggml.* metadata of an open GGUF file. The tokenizer
 * keeps no reference to the file. */
rf_status rf__tokenizer_load(const rf_gguf *g, rf_tokenizer **out, rf_err *err);

void rf__tokenizer_free(rf_tokenizer *t);  /* NULL is a no-op */

/* ---- encode ----
 * add_special: add BOS/EOS (and SEP for WPM) as the model's flags say.
 * parse_special: recognise the text of control tokens in `text`; without it
 * only user-defined tokens are (as llama.cpp does). Any bytes are accepted,
 * NUL and malformed UTF-8 included. Linear time in len. */
rf_status rf__tokenizer_encode(const rf_tokenizer *t, const char *text, size_t len, bool add_special,
                               bool parse_special, int32_t **ids, size_t *n_ids, rf_err *err);
/* Same into a caller buffer of `cap` ids. If it is too small: RF_ERR_RANGE and
 * *n_ids = the number needed (the buffer holds the first cap ids). */
rf_status rf__tokenizer_encode_into(const rf_tokenizer *t, const char *text, size_t len,
                                    bool add_special, bool parse_special, int32_t *buf, size_t cap,
                                    size_t *n_ids, rf_err *err);

/* ---- decode ----
 * The text of one token as generation prints it. special: render control and
 * unknown tokens (else they give ""). The pointer stays valid for the life
 * of the tokenizer; pieces are not NUL-terminated. */
rf_status rf__tokenizer_token_to_piece(const rf_tokenizer *t, int32_t id, bool special,
                                       const char **piece, size_t *len, rf_err *err);
/* Whole sequence, as llama_detokenize: the leading space an SPM prefix added
 * is removed, remove_special drops the BOS/EOS that add_special adds,
 * unparse_special renders control tokens, and BPE models with
 * clean_up_tokenization_spaces tidy " ," etc. *text is NUL-terminated, freed
 * by the caller with rf__free. */
rf_status rf__tokenizer_decode(const rf_tokenizer *t, const int32_t *ids, size_t n_ids,
                               bool remove_special, bool unparse_special, char **text, size_t *len,
                               rf_err *err);

/* ---- streaming decode ----
 * Feeds ids one at a time and hands back only whole UTF-8 characters: bytes of
 * a character split across tokens are held until it is complete; bytes that
 * can never form one come out as U+FFFD. */
typedef struct rf_tok_stream rf_tok_stream;
/* special: render control tokens; strip_leading_space: drop one space at the
 * very start (for decoding a whole SPM sequence, as rf__tokenizer_decode). */
rf_status rf__tok_stream_create(const rf_tokenizer *t, bool special, bool strip_leading_space,
                                rf_tok_stream **out, rf_err *err);
void rf__tok_stream_free(rf_tok_stream *s);
/* text, len: the text completed by this token (may be empty); valid until
 * the next call on s. */
rf_status rf__tok_stream_push(rf_tok_stream *s, int32_t id, const char **text, size_t *len,
                              rf_err *err);
/* Ends the stream: pending incomplete bytes come out as U+FFFD. */
void rf__tok_stream_flush(rf_tok_stream *s, const char **text, size_t *len);
void rf__tok_stream_reset(rf_tok_stream *s);

/* ---- queries ---- */
rf_tok_kind rf__tokenizer_kind(const rf_tokenizer *t);
const char *rf__tokenizer_pre(const rf_tokenizer *t);  /* BPE pre-tokenizer name, else "" */
uint32_t rf__tokenizer_n_vocab(const rf_tokenizer *t);
/* Raw vocabulary string of id (NULL if out of range). */
const char *rf__tokenizer_token_text(const rf_tokenizer *t, int32_t id, size_t *len);
float rf__tokenizer_token_score(const rf_tokenizer *t, int32_t id);
unsigned rf__tokenizer_token_attr(const rf_tokenizer *t, int32_t id); /* RF_TOKATTR_*; 0 if out of range */
int32_t rf__tokenizer_find(const rf_tokenizer *t, const char *text, size_t len); /* exact; -1 */
/* Special ids; RF_TOK_NULL when the model has none. */
int32_t rf__tokenizer_bos(const rf_tokenizer *t);
int32_t rf__tokenizer_eos(const rf_tokenizer *t);
int32_t rf__tokenizer_eot(const rf_tokenizer *t);
int32_t rf__tokenizer_eom(const rf_tokenizer *t);
int32_t rf__tokenizer_unk(const rf_tokenizer *t);
int32_t rf__tokenizer_sep(const rf_tokenizer *t);
int32_t rf__tokenizer_pad(const rf_tokenizer *t);
int32_t rf__tokenizer_nl(const rf_tokenizer *t);
int32_t rf__tokenizer_fim_pre(const rf_tokenizer *t);
int32_t rf__tokenizer_fim_suf(const rf_tokenizer *t);
int32_t rf__tokenizer_fim_mid(const rf_tokenizer *t);
bool rf__tokenizer_add_bos(const rf_tokenizer *t);
bool rf__tokenizer_add_eos(const rf_tokenizer *t);
bool rf__tokenizer_add_space_prefix(const rf_tokenizer *t);
/* Whether decoding tidies " ," and the like (clean_up_tokenization_spaces). */
bool rf__tokenizer_clean_spaces(const rf_tokenizer *t);
/* End of generation: EOS, EOT, EOM and the other end tokens llama.cpp lists. */
bool rf__tokenizer_is_eog(const rf_tokenizer *t, int32_t id);
size_t rf__tokenizer_eog_ids(const rf_tokenizer *t, const int32_t **ids);
bool rf__tokenizer_is_control(const rf_tokenizer *t, int32_t id);

#endif /* RF_TOKENIZER_H */
