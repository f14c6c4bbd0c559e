/*
 * wpm.c - WordPiece (tokenizer.ggml.model "bert"): BERT normalisation
 * (lower case, accents removed through the first code point of the canonical
 * decomposition, control characters dropped), splitting at white space,
 * punctuation and CJK ideographs, then greedy longest-match per word with the
 * word prefixed by U+2581 (continuation pieces carry no prefix). A word with
 * no complete match becomes the unknown token.
 */
#include <string.h>

#include "tokenizer/tok_internal.h"

rf_status rf__wpm_init(rf_tokenizer *t, rf_err *err) {
    rf_status st = RF_OK;
    const char **strs = rf__malloc(t->n_tokens * sizeof *strs);
    int32_t *vals = rf__malloc(t->n_tokens * sizeof *vals);
    if (!strs || !vals) {
        st = rf__err(err, RF_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < t->n_tokens; i++) {
        strs[i] = rf__tok_text(t, (int32_t)i);
        vals[i] = (int32_t)i;
    }
    st = rf__trie_build(&t->trie, strs, t->len, vals, t->n_tokens, err);
out:
    rf__free(strs);
    rf__free(vals);
    return st;
}

static bool is_chinese(uint32_t c) {
    return (c >= 0x04E00 && c <= 0x09FFF) || (c >= 0x03400 && c <= 0x04DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0x0F900 && c <= 0x0FAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* Greedy longest match of "\u2581" + word; false if some position has none. */
static void encode_word(const rf_tokenizer *t, const char *w, size_t n, rf__ivec *out) {
    size_t start = out->n;
    for (size_t i = 0; i < n;) {
        uint32_t node = 0;
        int32_t best = -1;
        size_t best_len = 0;
        for (size_t j = i; j < n; j++) {
            node = rf__trie_child(&t->trie, node, (uint8_t)w[j]);
            if (!node) break;
            if (t->trie.nodes[node].value >= 0) {
                best = t->trie.nodes[node].value;
                best_len = j - i + 1;
            }
        }
        if (best < 0) {
            out->n = start; /* discard the whole word */
            break;
        }
        rf__ivec_push(out, best);
        i += best_len;
    }
    if (out->n == start && t->unk >= 0) rf__ivec_push(out, t->unk);
}

rf_status rf__wpm_encode(const rf_tokenizer *t, const char *text, size_t n, rf__ivec *out, rf_err *err) {
    rf_status st = RF_OK;
    uint32_t *cp = NULL;
    size_t ncp = 0;
    rf__buf word = {0};
    if (n == 0) return RF_OK;
    cp = rf__utf8_to_cpts(text, n, &ncp);
    if (!cp) return rf__err(err, RF_ERR_NOMEM, "out of memory");
    rf__buf_put(&word, "\xe2\x96\x81", 3);
    for (size_t i = 0; i <= ncp; i++) {
        bool flush = i == ncp, single = false;
        uint32_t c = 0;
        char u[4];
        if (!flush) {
            c = cp[i];
            if (t->strip_accents) c = rf__ucp_nfd_first(c);
            unsigned f = rf__ucp_flags(c), cat = f & 7;
            if (f & RF_UCP_WHITESPACE) {
                flush = true;
            } else if (c == 0 || c == 0xFFFD || cat == RF_UCAT_OTHER) {
                continue;
            } else if (t->strip_accents && cat == RF_UCAT_MARK) {
                continue;
            } else {
                single = cat == RF_UCAT_PUNCT || (c < 0x7F && cat == RF_UCAT_SYMBOL) || is_chinese(c);
                flush = single;
            }
        }
        if (flush && word.n > 3) {
            encode_word(t, word.p, word.n, out);
            word.n = 3;
        }
        if (flush && !single) continue;
        uint32_t lc = t->lowercase ? rf__ucp_tolower(c) : c;
        rf__buf_put(&word, u, rf__utf8_encode(lc, u));
        if (single) {
            encode_word(t, word.p, word.n, out);
            word.n = 3;
        }
        if (word.oom) break;
    }
    if (word.oom || out->oom) st = rf__err(err, RF_ERR_NOMEM, "out of memory in the WordPiece tokenizer");
    rf__free(word.p);
    rf__free(cp);
    return st;
}
