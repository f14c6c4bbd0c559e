/*
 * tok_synth.h - small synthetic vocabularies for the tokenizer tests and the
 * fuzz target: byte-level BPE (any pre-tokenizer), SPM with byte fallback,
 * WordPiece, and Unigram with a precompiled_charsmap built here (a
 * XOR-compressed double array as SentencePiece stores it).
 */
#ifndef RF_TOK_SYNTH_H
#define RF_TOK_SYNTH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

typedef struct synth_vocab {
    char **str;
    size_t *len;
    int32_t *type;
    float *score;
    size_t n, cap;
    char **merge;
    size_t n_merges, cap_merges;
} synth_vocab;

static void sv_free(synth_vocab *v) {
    for (size_t i = 0; i < v->n; i++) free(v->str[i]);
    for (size_t i = 0; i < v->n_merges; i++) free(v->merge[i]);
    free(v->str);
    free(v->len);
    free(v->type);
    free(v->score);
    free(v->merge);
    memset(v, 0, sizeof *v);
}

static int32_t sv_find(const synth_vocab *v, const char *s, size_t n) {
    for (size_t i = 0; i < v->n; i++)
        if (v->len[i] == n && memcmp(v->str[i], s, n) == 0) return (int32_t)i;
    return -1;
}

static int32_t sv_add(synth_vocab *v, const char *s, size_t n, int32_t type, float score) {
    int32_t id = sv_find(v, s, n);
    if (id >= 0) return id;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 512;
        v->str = realloc(v->str, v->cap * sizeof *v->str);
        v->len = realloc(v->len, v->cap * sizeof *v->len);
        v->type = realloc(v->type, v->cap * sizeof *v->type);
        v->score = realloc(v->score, v->cap * sizeof *v->score);
    }
    v->str[v->n] = malloc(n + 1);
    memcpy(v->str[v->n], s, n);
    v->str[v->n][n] = 0;
    v->len[v->n] = n;
    v->type[v->n] = type;
    v->score[v->n] = score;
    return (int32_t)v->n++;
}

static void sv_add_merge(synth_vocab *v, const char *a, size_t na, const char *b, size_t nb) {
    if (v->n_merges == v->cap_merges) {
        v->cap_merges = v->cap_merges ? v->cap_merges * 2 : 256;
        v->merge = realloc(v->merge, v->cap_merges * sizeof *v->merge);
    }
    char *m = malloc(na + nb + 2);
    memcpy(m, a, na);
    m[na] = ' ';
    memcpy(m + na + 1, b, nb);
    m[na + nb + 1] = 0;
    v->merge[v->n_merges++] = m;
}

/* Where sv_build sends a finished description; a tool may divert it (to
 * write the vocabulary out as a GGUF file, say). */
static rf_status (*synth_sink)(const rf_vocab_desc *, rf_tokenizer **, rf_err *) = rf__tokenizer_create;

static rf_tokenizer *sv_build(synth_vocab *v, rf_vocab_desc *d, rf_err *err) {
    rf_tok_text *toks = malloc(v->n * sizeof *toks), *mer = malloc((v->n_merges + 1) * sizeof *mer);
    rf_tokenizer *t = NULL;
    for (size_t i = 0; i < v->n; i++) toks[i] = (rf_tok_text){v->str[i], v->len[i]};
    for (size_t i = 0; i < v->n_merges; i++) mer[i] = (rf_tok_text){v->merge[i], strlen(v->merge[i])};
    d->n_tokens = (uint32_t)v->n;
    d->tokens = toks;
    d->types = v->type;
    d->scores = v->score;
    if (v->n_merges) {
        d->n_merges = (uint32_t)v->n_merges;
        d->merges = mer;
    }
    if (synth_sink(d, &t, err)) t = NULL;
    free(toks);
    free(mer);
    return t;
}

static const char *const synth_words[] = {
    " the", " and", " of", "ing", "tion", " hello", " world", "Hello", " a", " to", "'s", "'t",
    " is", "er", "ed", "es", " in", " that", " it", " for", "123", "12", "  ", "    ", "\n\n", "\n",
    " \xe6\x97\xa5\xe6\x9c\xac", "\xe8\xaa\x9e", "\xc3\xa9", " caf\xc3\xa9", "\xf0\x9f\xa6\x99", " \xd0\xbf\xd1\x80\xd0\xb8",
    "aaaaaaaa", "abab", "()", " {", "};", " =", " ==", "->", "::", "\t", "\t\t", "00", "000", " 1", "...", " -", "--",
};

/* Byte-level BPE over the bytes of synth_words, with a few special tokens. */
static rf_tokenizer *synth_bpe(const char *pre, const char *name, rf_err *err) {
    synth_vocab v = {0};
    rf_vocab_desc d;
    for (int b = 0; b < 256; b++) {
        char u[4];
        size_t l = rf__utf8_encode(rf__byte_to_ucp((uint8_t)b), u);
        sv_add(&v, u, l, RF_TOKTYPE_NORMAL, 0);
    }
    for (size_t w = 0; w < sizeof synth_words / sizeof synth_words[0]; w++) {
        const char *s = synth_words[w];
        char cur[256], nx[8];
        size_t lc = rf__utf8_encode(rf__byte_to_ucp((uint8_t)s[0]), cur);
        for (size_t i = 1; s[i]; i++) {
            size_t ln = rf__utf8_encode(rf__byte_to_ucp((uint8_t)s[i]), nx);
            bool have = false;
            for (size_t m = 0; m < v.n_merges; m++)
                if (strlen(v.merge[m]) == lc + ln + 1 && !memcmp(v.merge[m], cur, lc) && !memcmp(v.merge[m] + lc + 1, nx, ln))
                    have = true;
            if (!have) sv_add_merge(&v, cur, lc, nx, ln);
            memcpy(cur + lc, nx, ln);
            lc += ln;
            sv_add(&v, cur, lc, RF_TOKTYPE_NORMAL, 0);
        }
    }
    /* a merge whose result is not a token */
    sv_add_merge(&v, "z", 1, "q", 1);
    sv_add(&v, "<|endoftext|>", 13, RF_TOKTYPE_CONTROL, 0);
    sv_add(&v, "<|im_start|>", 12, RF_TOKTYPE_CONTROL, 0);
    sv_add(&v, "<|im_end|>", 10, RF_TOKTYPE_CONTROL, 0);
    sv_add(&v, "<tool>", 6, RF_TOKTYPE_USER_DEFINED, 0);
    sv_add(&v, "<unk>", 5, RF_TOKTYPE_UNKNOWN, 0);
    rf__vocab_desc_init(&d);
    d.model = "gpt2";
    d.pre = pre;
    d.name = name;
    d.bos = d.eos = sv_find(&v, "<|endoftext|>", 13);
    rf_tokenizer *t = sv_build(&v, &d, err);
    sv_free(&v);
    return t;
}

/* SentencePiece-style vocabulary: <unk> <s> </s>, 256 byte tokens, pieces. */
static rf_tokenizer *synth_spm(const char *name, rf_err *err) {
    static const char *const pieces[] = {
        "\xe2\x96\x81", "\xe2\x96\x81t", "\xe2\x96\x81th", "\xe2\x96\x81the", "he", "\xe2\x96\x81" "a",
        "\xe2\x96\x81" "an", "\xe2\x96\x81" "and", "in", "ing", "\xe2\x96\x81hello", "\xe2\x96\x81w", "or", "ld",
        "\xe2\x96\x81world", "\xe2\x96\x81\xe2\x96\x81", "\xe2\x96\x81\xe2\x96\x81\xe2\x96\x81\xe2\x96\x81",
        "\xe6\x97\xa5", "\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac", "\xc3\xa9", "1", "2", "3", "12", "e", "t", "aa", "aaaa", "aaaaaaaa",
        "h", "a", "n", "d", "o", "r", "l", "w", "i", "g", "s", ".", ",", "!",
    };
    synth_vocab v = {0};
    rf_vocab_desc d;
    sv_add(&v, "<unk>", 5, RF_TOKTYPE_UNKNOWN, 0);
    sv_add(&v, "<s>", 3, RF_TOKTYPE_CONTROL, 0);
    sv_add(&v, "</s>", 4, RF_TOKTYPE_CONTROL, 0);
    for (int b = 0; b < 256; b++) {
        char hex[8];
        snprintf(hex, sizeof hex, "<0x%02X>", b);
        sv_add(&v, hex, 6, RF_TOKTYPE_BYTE, 0);
    }
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++)
        sv_add(&v, pieces[i], strlen(pieces[i]), RF_TOKTYPE_NORMAL, -(float)i - (float)strlen(pieces[i]) * 0.25f);
    sv_add(&v, "<|user|>", 8, RF_TOKTYPE_USER_DEFINED, 0);
    sv_add(&v, "<|end|>", 7, RF_TOKTYPE_CONTROL, 0);
    sv_add(&v, "<|endoftext|>", 13, RF_TOKTYPE_CONTROL, 0);
    rf__vocab_desc_init(&d);
    d.model = "llama";
    d.name = name;
    rf_tokenizer *t = sv_build(&v, &d, err);
    sv_free(&v);
    return t;
}

/* WordPiece: word-initial pieces carry U+2581, continuations do not. */
static rf_tokenizer *synth_wpm(rf_err *err) {
    static const char *const pieces[] = {
        "\xe2\x96\x81hello", "\xe2\x96\x81world", "\xe2\x96\x81the", "\xe2\x96\x81un", "aff", "able",
        "\xe2\x96\x81" "a", "\xe2\x96\x81" "b", "\xe2\x96\x81" "c", "\xe2\x96\x81" "e", "\xe2\x96\x81,", "\xe2\x96\x81.",
        "\xe2\x96\x81!", "\xe2\x96\x81\xe6\x97\xa5", "\xe2\x96\x81\xe6\x9c\xac", "\xe2\x96\x81" "cafe", "s", "ing",
        "\xe2\x96\x81" "1", "2", "3", "\xe2\x96\x81$", "a", "b", "c", "e", "l", "o",
    };
    synth_vocab v = {0};
    rf_vocab_desc d;
    sv_add(&v, "[PAD]", 5, RF_TOKTYPE_CONTROL, 0);
    sv_add(&v, "[UNK]", 5, RF_TOKTYPE_CONTROL, 0);
    sv_add(&v, "[CLS]", 5, RF_TOKTYPE_CONTROL, 0);
    sv_add(&v, "[SEP]", 5, RF_TOKTYPE_CONTROL, 0);
    sv_add(&v, "[MASK]", 6, RF_TOKTYPE_CONTROL, 0);
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++)
        sv_add(&v, pieces[i], strlen(pieces[i]), RF_TOKTYPE_NORMAL, 0);
    rf__vocab_desc_init(&d);
    d.model = "bert";
    d.pad = 0;
    d.unk = 1;
    d.bos = 2;
    d.sep = 3;
    d.mask = 4;
    rf_tokenizer *t = sv_build(&v, &d, err);
    sv_free(&v);
    return t;
}

/* ---- a precompiled_charsmap: double array (XCDA) + replacement strings ---- */

typedef struct xcda_builder {
    uint32_t *unit;
    uint8_t *used;
    size_t n;
} xcda_builder;

static void xb_grow(xcda_builder *b, size_t need) {
    if (need <= b->n) return;
    size_t nn = b->n ? b->n : 1024;
    while (nn < need) nn *= 2;
    b->unit = realloc(b->unit, nn * sizeof *b->unit);
    b->used = realloc(b->used, nn);
    memset(b->unit + b->n, 0, (nn - b->n) * sizeof *b->unit);
    memset(b->used + b->n, 0, nn - b->n);
    b->n = nn;
}

/* keys[lo..hi) sorted, sharing the first `depth` bytes; places the node whose
 * child base is returned. vals are byte offsets of the replacements. */
static uint32_t xb_place(xcda_builder *b, const char *const *keys, const uint32_t *vals, size_t lo, size_t hi,
                         size_t depth) {
    uint8_t labels[256];
    int nl = 0, has_value = -1;
    for (size_t i = lo; i < hi; i++) {
        size_t l = strlen(keys[i]);
        if (l == depth) {
            has_value = (int)i;
            continue;
        }
        uint8_t c = (uint8_t)keys[i][depth];
        if (nl == 0 || labels[nl - 1] != c) labels[nl++] = c;
    }
    uint32_t base;
    for (base = 256;; base++) {
        xb_grow(b, ((size_t)base | 255) + 1);
        bool ok = !(has_value >= 0 && b->used[base]);
        for (int k = 0; k < nl && ok; k++)
            if (b->used[base ^ labels[k]]) ok = false;
        if (ok) break;
    }
    if (has_value >= 0) {
        b->used[base] = 1;
        b->unit[base] = (1u << 31) | vals[has_value];
    }
    for (int k = 0; k < nl; k++) b->used[base ^ labels[k]] = 1;
    for (int k = 0; k < nl; k++) {
        size_t a = lo;
        while (a < hi && (strlen(keys[a]) <= depth || (uint8_t)keys[a][depth] != labels[k])) a++;
        size_t e = a;
        while (e < hi && strlen(keys[e]) > depth && (uint8_t)keys[e][depth] == labels[k]) e++;
        uint32_t pos = base ^ labels[k];
        bool leaf = false;
        for (size_t i = a; i < e; i++)
            if (strlen(keys[i]) == depth + 1) leaf = true;
        uint32_t child_base = xb_place(b, keys, vals, a, e, depth + 1);
        b->unit[pos] = ((pos ^ child_base) << 10) | (leaf ? 1u << 8 : 0) | labels[k];
    }
    return base;
}

/* Builds a charsmap mapping keys[i] -> reps[i] (keys sorted, distinct). */
static uint8_t *synth_charsmap(const char *const *keys, const char *const *reps, size_t n, size_t *len) {
    xcda_builder b = {0};
    uint32_t *vals = malloc(n * sizeof *vals);
    size_t blob = 0;
    for (size_t i = 0; i < n; i++) {
        vals[i] = (uint32_t)blob;
        blob += strlen(reps[i]) + 1;
    }
    xb_grow(&b, 512);
    b.used[0] = 1;
    uint32_t root = xb_place(&b, keys, vals, 0, n, 0);
    b.unit[0] = (0 ^ root) << 10;
    size_t units = b.n; /* whole blocks of 256, as darts-clone lays them out */
    while (units > 256 && !b.used[units - 1]) units--;
    units = (units + 255) / 256 * 256;
    *len = 4 + units * 4 + blob;
    uint8_t *out = malloc(*len);
    uint32_t sz = (uint32_t)(units * 4);
    memcpy(out, &sz, 4);
    memcpy(out + 4, b.unit, units * 4);
    size_t p = 4 + units * 4;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(reps[i]) + 1;
        memcpy(out + p, reps[i], l);
        p += l;
    }
    free(vals);
    free(b.unit);
    free(b.used);
    return out;
}

/* Unigram vocabulary (T5-like ids: <pad>=0 </s>=1 <unk>=2) with a charsmap
 * that folds full-width letters, the "fi" ligature and NBSP. */
static rf_tokenizer *synth_ugm(bool with_charsmap, rf_err *err) {
    static const struct { const char *s; float score; } pieces[] = {
        {"\xe2\x96\x81", -2.0f}, {"\xe2\x96\x81the", -3.0f}, {"\xe2\x96\x81t", -6.0f}, {"he", -5.0f},
        {"h", -7.0f}, {"e", -6.5f}, {"t", -6.2f}, {"\xe2\x96\x81hello", -4.0f}, {"hell", -6.0f}, {"o", -6.0f},
        {"\xe2\x96\x81world", -4.5f}, {"wor", -7.0f}, {"ld", -6.0f}, {"\xe2\x96\x81" "fi", -5.0f}, {"ne", -5.5f},
        {"\xe2\x96\x81" "A", -5.0f}, {"B", -6.0f}, {"\xe6\x97\xa5\xe6\x9c\xac", -5.0f}, {"\xe6\x97\xa5", -8.0f},
        {"1", -6.0f}, {"2", -6.0f}, {"12", -5.0f}, {".", -4.0f}, {",", -4.0f}, {"a", -7.0f}, {"n", -7.0f},
        {"d", -7.0f}, {"\xe2\x96\x81" "and", -4.2f},
    };
    synth_vocab v = {0};
    rf_vocab_desc d;
    uint8_t *cm = NULL;
    size_t cml = 0;
    sv_add(&v, "<pad>", 5, RF_TOKTYPE_CONTROL, 0);
    sv_add(&v, "</s>", 4, RF_TOKTYPE_CONTROL, 0);
    sv_add(&v, "<unk>", 5, RF_TOKTYPE_UNKNOWN, 0);
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++)
        sv_add(&v, pieces[i].s, strlen(pieces[i].s), RF_TOKTYPE_NORMAL, pieces[i].score);
    sv_add(&v, "<extra_id_0>", 12, RF_TOKTYPE_USER_DEFINED, 0);
    rf__vocab_desc_init(&d);
    d.model = "t5";
    d.add_space_prefix = 1;
    d.remove_extra_ws = 1;
    if (with_charsmap) {
        static const char *const keys[] = {"\xc2\xa0", "\xef\xac\x81", "\xef\xbc\xa1", "\xef\xbc\xa2"};
        static const char *const reps[] = {" ", "fi", "A", "B"};
        cm = synth_charsmap(keys, reps, 4, &cml);
        d.charsmap = cm;
        d.charsmap_len = cml;
    }
    rf_tokenizer *t = sv_build(&v, &d, err);
    sv_free(&v);
    free(cm);
    return t;
}

#endif /* RF_TOK_SYNTH_H */
