/* decode.c - ids to text: pieces, whole sequences (llama_detokenize rules), streaming. */
#include <string.h>

#include "tokenizer/tok_internal.h"

rf_status rf__tokenizer_token_to_piece(const rf_tokenizer *t, int32_t id, bool special,
                                       const char **piece, size_t *len, rf_err *err) {
    if (!t || !piece || !len) return rf__err(err, RF_ERR_INVALID_ARG, "token_to_piece: NULL argument");
    if (id < 0 || (uint32_t)id >= t->n_tokens) {
        *piece = "";
        *len = 0;
        return rf__err(err, RF_ERR_RANGE, "token id %d is outside the vocabulary (%u tokens)", id, t->n_tokens);
    }
    if (!special && (t->attr[id] & (RF_TOKATTR_UNKNOWN | RF_TOKATTR_CONTROL))) {
        *piece = "";
        *len = 0;
        return RF_OK;
    }
    *piece = t->piece_arena + t->piece_off[id];
    *len = t->piece_len[id];
    return RF_OK;
}

/* clean_up_tokenization_spaces, in place (llama.cpp's three passes). */
static size_t clean_spaces(char *s, size_t n) {
    size_t total = n ? 1 : 0;
    for (size_t i = 1; i < n; i++) { /* " ?", " !", " .", " ," */
        char x = s[i];
        if (s[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) total--;
        s[total++] = x;
    }
    n = total;
    total = n ? 1 : 0;
    for (size_t i = 1; i < n; i++) { /* " ' " -> "'" */
        char x = s[i];
        if (x == '\'' && i + 1 < n && s[i - 1] == ' ' && s[i + 1] == ' ') {
            total--;
            s[++i] = '\0';
        }
        s[total++] = x;
    }
    n = total;
    total = n ? 1 : 0;
    for (size_t i = 1; i < n; i++) { /* " 's", " 'm", " 're", " 've" */
        char x = s[i];
        if (s[i - 1] == ' ' && x == '\'' && i + 1 < n) {
            char x1 = s[i + 1];
            if (x1 == 's' || x1 == 'm') total--;
            else if (i + 2 < n && ((x1 == 'r' && s[i + 2] == 'e') || (x1 == 'v' && s[i + 2] == 'e'))) total--;
        }
        s[total++] = x;
    }
    return total;
}

rf_status rf__tokenizer_decode(const rf_tokenizer *t, const int32_t *ids, size_t n_ids,
                               bool remove_special, bool unparse_special, char **text, size_t *len,
                               rf_err *err) {
    rf__buf b = {0};
    if (!t || !text || !len || (!ids && n_ids)) return rf__err(err, RF_ERR_INVALID_ARG, "decode: NULL argument");
    *text = NULL;
    *len = 0;
    for (size_t i = 0; i < n_ids; i++)
        if (ids[i] < 0 || (uint32_t)ids[i] >= t->n_tokens)
            return rf__err(err, RF_ERR_RANGE, "token id %d at position %zu is outside the vocabulary (%u tokens)",
                           ids[i], i, t->n_tokens);
    bool remove_space = t->add_space_prefix;
    if (remove_special && t->add_bos && n_ids > 0 && ids[0] == t->bos) {
        remove_space = false;
        ids++;
        n_ids--;
    }
    if (remove_special && t->add_eos && n_ids > 0 && ids[n_ids - 1] == t->eos) n_ids--;
    for (size_t i = 0; i < n_ids; i++) {
        const char *p;
        size_t pl;
        rf__tokenizer_token_to_piece(t, ids[i], unparse_special, &p, &pl, NULL);
        if (remove_space && pl && p[0] == ' ') {
            p++;
            pl--;
        }
        remove_space = false;
        rf__buf_put(&b, p, pl);
    }
    rf__buf_reserve(&b, 1);
    if (b.oom) {
        rf__free(b.p);
        return rf__err(err, RF_ERR_NOMEM, "out of memory decoding %zu tokens", n_ids);
    }
    if (t->clean_spaces) b.n = clean_spaces(b.p, b.n);
    b.p[b.n] = 0;
    *text = b.p;
    *len = b.n;
    return RF_OK;
}

/* ---- streaming ---- */

struct rf_tok_stream {
    const rf_tokenizer *t;
    bool special, strip_space, started;
    uint8_t pend[4];
    size_t npend;
    rf__buf out;
};

rf_status rf__tok_stream_create(const rf_tokenizer *t, bool special, bool strip_leading_space,
                                rf_tok_stream **out, rf_err *err) {
    if (!t || !out) return rf__err(err, RF_ERR_INVALID_ARG, "stream_create: NULL argument");
    rf_tok_stream *s = rf__calloc(1, sizeof *s);
    if (!s) return rf__err(err, RF_ERR_NOMEM, "out of memory");
    s->t = t;
    s->special = special;
    s->strip_space = strip_leading_space;
    *out = s;
    return RF_OK;
}

void rf__tok_stream_free(rf_tok_stream *s) {
    if (!s) return;
    rf__free(s->out.p);
    rf__free(s);
}

void rf__tok_stream_reset(rf_tok_stream *s) {
    s->npend = 0;
    s->started = false;
    s->out.n = 0;
}

/* Expected length of a sequence starting with b (0: never a valid start). */
static size_t utf8_need(uint8_t b) {
    if (b < 0x80) return 1;
    if (b >= 0xC2 && b <= 0xDF) return 2;
    if (b >= 0xE0 && b <= 0xEF) return 3;
    if (b >= 0xF0 && b <= 0xF4) return 4;
    return 0;
}

/* Is s[0..n) (n < full length) still a valid prefix of a sequence? */
static bool utf8_prefix_ok(const uint8_t *s, size_t n) {
    for (size_t k = 1; k < n; k++) {
        uint8_t c = s[k];
        if (k == 1) {
            if (s[0] == 0xE0 && (c < 0xA0 || c > 0xBF)) return false;
            if (s[0] == 0xED && (c < 0x80 || c > 0x9F)) return false;
            if (s[0] == 0xF0 && (c < 0x90 || c > 0xBF)) return false;
            if (s[0] == 0xF4 && (c < 0x80 || c > 0x8F)) return false;
        }
        if ((c & 0xC0) != 0x80) return false;
    }
    return true;
}

static void feed(rf_tok_stream *s, uint8_t c) {
    if (s->npend == 0) {
        size_t need = utf8_need(c);
        if (need == 1) {
            rf__buf_putc(&s->out, (char)c);
        } else if (need == 0) {
            rf__buf_put(&s->out, "\xef\xbf\xbd", 3);
        } else {
            s->pend[s->npend++] = c;
        }
        return;
    }
    s->pend[s->npend++] = c;
    if (!utf8_prefix_ok(s->pend, s->npend)) {
        /* the pending bytes can never complete: replace them, then retry c */
        s->npend = 0;
        rf__buf_put(&s->out, "\xef\xbf\xbd", 3);
        feed(s, c);
        return;
    }
    if (s->npend == utf8_need(s->pend[0])) {
        rf__buf_put(&s->out, s->pend, s->npend);
        s->npend = 0;
    }
}

rf_status rf__tok_stream_push(rf_tok_stream *s, int32_t id, const char **text, size_t *len, rf_err *err) {
    const char *p;
    size_t pl;
    if (!s || !text || !len) return rf__err(err, RF_ERR_INVALID_ARG, "stream_push: NULL argument");
    *text = "";
    *len = 0;
    rf_status st = rf__tokenizer_token_to_piece(s->t, id, s->special, &p, &pl, err);
    if (st) return st;
    s->out.n = 0;
    if (s->strip_space && !s->started && pl && p[0] == ' ') {
        p++;
        pl--;
    }
    s->started = true;
    for (size_t i = 0; i < pl; i++) feed(s, (uint8_t)p[i]);
    if (s->out.oom) return rf__err(err, RF_ERR_NOMEM, "out of memory");
    *text = s->out.p ? s->out.p : "";
    *len = s->out.n;
    return RF_OK;
}

void rf__tok_stream_flush(rf_tok_stream *s, const char **text, size_t *len) {
    s->out.n = 0;
    if (s->npend) rf__buf_put(&s->out, "\xef\xbf\xbd", 3);
    s->npend = 0;
    *text = s->out.p && !s->out.oom ? s->out.p : "";
    *len = s->out.oom ? 0 : s->out.n;
}
