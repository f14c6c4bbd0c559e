/*
 * tok_internal.h - the tokenizer object and the helpers shared by the
 * algorithm files (spm.c, bpe.c, wpm.c, ugm.c). Not for use outside
 * src/tokenizer/.
 */
#ifndef RF_TOK_INTERNAL_H
#define RF_TOK_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

/* ---- growable id vector -------------------------------------------------- */
typedef struct rf__ivec {
    int32_t *v;
    size_t n, cap;
    bool oom;
} rf__ivec;

static inline void rf__ivec_push(rf__ivec *a, int32_t x) {
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 64;
        int32_t *nv = a->oom ? NULL : rf__realloc(a->v, nc * sizeof *nv);
        if (!nv) {
            a->oom = true;
            return;
        }
        a->v = nv;
        a->cap = nc;
    }
    a->v[a->n++] = x;
}

/* ---- growable byte buffer ------------------------------------------------ */
typedef struct rf__buf {
    char *p;
    size_t n, cap;
    bool oom;
} rf__buf;

bool rf__buf_reserve(rf__buf *b, size_t extra);
static inline void rf__buf_put(rf__buf *b, const void *s, size_t n) {
    if (n == 0 || !rf__buf_reserve(b, n)) return;
    __builtin_memcpy(b->p + b->n, s, n);
    b->n += n;
}
static inline void rf__buf_putc(rf__buf *b, char c) { rf__buf_put(b, &c, 1); }

/* ---- hashing ------------------------------------------------------------- */
uint64_t rf__hash_bytes(const void *p, size_t n);

/* ---- byte trie with sorted children (built once, read-only) --------------- */
typedef struct rf__trie_node {
    uint32_t first;  /* index of the first child; children are contiguous */
    uint16_t nchild;
    uint8_t label;   /* byte on the edge from the parent */
    uint8_t pad;
    int32_t value;   /* token id or -1 */
} rf__trie_node;

typedef struct rf__trie {
    rf__trie_node *nodes; /* nodes[0] is the root */
    uint32_t n;
} rf__trie;

/* Builds a trie over strs[i] (lengths lens[i]) with values vals[i]. */
rf_status rf__trie_build(rf__trie *t, const char *const *strs, const uint32_t *lens,
                         const int32_t *vals, size_t count, rf_err *err);
void rf__trie_free(rf__trie *t);
/* Child of node `at` along byte c, or 0 (the root is never a child). */
uint32_t rf__trie_child(const rf__trie *t, uint32_t at, uint8_t c);

/* ---- pre-tokenizer (BPE) ------------------------------------------------- */
#define RF_PRETOK_MAX_RX 6
enum { RF_RX_PCRE = 0, RF_RX_GPT2 = 1, RF_RX_LLAMA3 = 2, RF_RX_WS_END = 3 };

typedef struct rf__pretok {
    int n;
    struct {
        int kind;
        bool collapsed; /* match on category representatives (regex uses \p{..}) */
        pcre2_code *code;
    } rx[RF_PRETOK_MAX_RX];
    pcre2_general_context *gctx;
} rf__pretok;

/* ---- the tokenizer ------------------------------------------------------- */
typedef struct rf__merge_slot {
    uint64_t key;  /* (left id << 32) | right id */
    uint32_t rank; /* UINT32_MAX: empty slot */
    int32_t result;/* id of the merged text, or -1 */
} rf__merge_slot;

struct rf_tokenizer {
    rf_tok_kind kind;
    int pre_type;
    char pre_name[64];

    uint32_t n_tokens;
    char *arena;        /* token texts, each followed by a NUL */
    size_t *off;
    uint32_t *len;
    float *score;
    uint16_t *attr;
    uint32_t max_token_len;

    uint64_t *map;      /* open addressing: (hash32 << 32) | (id + 1); 0 = empty */
    size_t map_mask;

    rf__merge_slot *merges;
    size_t merge_mask;
    uint32_t n_merges;

    int32_t byte_tok[256]; /* token for a raw byte (SPM/UGM <0xXX>; BPE byte-level char) */
    int32_t char_tok[256]; /* token whose text is exactly that one byte */
    char byte_enc[256][2]; /* BPE: UTF-8 of the byte-level code point */
    uint8_t byte_enc_len[256];

    int32_t bos, eos, eot, eom, unk, sep, pad, mask, nl;
    int32_t fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep;
    bool add_bos, add_eos, add_sep, add_space_prefix, remove_extra_ws, escape_ws, ws_suffix;
    bool clean_spaces, ignore_merges, lowercase, strip_accents;
    bool spm_chunks;    /* no token has U+2581 after another character */

    int32_t *eog;       /* sorted ids */
    size_t n_eog;
    int32_t *special;   /* control/user-defined/unknown ids, longest text first */
    size_t n_special;

    char *piece_arena;  /* token_to_piece(special = true) of every token */
    size_t *piece_off;
    uint32_t *piece_len;

    rf__trie trie;      /* WPM: all tokens; UGM: normal, user-defined, unused */
    rf__trie ud_trie;   /* UGM: user-defined tokens */
    uint8_t *charsmap;
    size_t charsmap_len;
    size_t xcda_n;      /* entries of the double array at charsmap + 4 */
    size_t repl_off;    /* replacement strings start */
    double ugm_unk_score;

    rf__pretok pretok;
};

static inline const char *rf__tok_text(const rf_tokenizer *t, int32_t id) { return t->arena + t->off[id]; }
/* Exact lookup of a token text; -1 when absent. */
int32_t rf__tok_find(const rf_tokenizer *t, const char *s, size_t n);
int32_t rf__tok_find_h(const rf_tokenizer *t, const char *s, size_t n, uint64_t h);
/* Merge rank of (a, b), or -1; *result gets the merged token id or -1. */
int64_t rf__tok_merge(const rf_tokenizer *t, int32_t a, int32_t b, int32_t *result);

/* ---- algorithm entry points: tokenize one fragment of raw text ------------ */
rf_status rf__spm_encode(const rf_tokenizer *t, const char *text, size_t n, bool prefix_space,
                         rf__ivec *out, rf_err *err);
rf_status rf__bpe_encode(const rf_tokenizer *t, const char *text, size_t n, rf__ivec *out,
                         rf_err *err);
rf_status rf__wpm_encode(const rf_tokenizer *t, const char *text, size_t n, rf__ivec *out,
                         rf_err *err);
rf_status rf__ugm_encode(const rf_tokenizer *t, const char *text, size_t n, rf__ivec *out,
                         rf_err *err);

/* Pre-tokenizer setup (bpe.c / pretok.c). Fills the BPE flags implied by the
 * name; RF_ERR_UNSUPPORTED for an unknown name. */
rf_status rf__pretok_init(rf_tokenizer *t, const char *name, rf_err *err);
void rf__pretok_free(rf__pretok *p);
/* Splits cpts[0..n) into words; *bounds receives n_words + 1 code point
 * offsets (caller frees). */
rf_status rf__pretok_split(const rf__pretok *p, const uint32_t *cpts, size_t n, uint32_t **bounds,
                           size_t *n_words, rf_err *err);

/* UGM setup (ugm.c). */
rf_status rf__ugm_init(rf_tokenizer *t, rf_err *err);
/* WPM setup (wpm.c). */
rf_status rf__wpm_init(rf_tokenizer *t, rf_err *err);

#endif /* RF_TOK_INTERNAL_H */
