/*
 * vocab.c - building a tokenizer from an rf_vocab_desc: validation, defaults
 * per model type, special tokens, end-of-generation set, the piece cache, and
 * the queries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"

void rf__vocab_desc_init(rf_vocab_desc *d) {
    memset(d, 0, sizeof *d);
    d->bos = d->eos = d->eot = d->eom = d->unk = d->sep = d->pad = d->mask = RF_TOK_UNSET;
    d->fim_pre = d->fim_suf = d->fim_mid = d->fim_pad = d->fim_rep = d->fim_sep = RF_TOK_UNSET;
    d->add_bos = d->add_eos = d->add_sep = d->add_space_prefix = d->remove_extra_ws = -1;
    d->lowercase = d->strip_accents = -1;
}

/* ---- text -> id map ---- */

int32_t rf__tok_find_h(const rf_tokenizer *t, const char *s, size_t n, uint64_t h) {
    if (!t->map) return -1;
    uint32_t h32 = (uint32_t)(h >> 32);
    for (size_t i = (size_t)h & t->map_mask;; i = (i + 1) & t->map_mask) {
        uint64_t e = t->map[i];
        if (!e) return -1;
        if ((uint32_t)(e >> 32) != h32) continue;
        int32_t id = (int32_t)(uint32_t)e - 1;
        if (t->len[id] == n && memcmp(t->arena + t->off[id], s, n) == 0) return id;
    }
}

int32_t rf__tok_find(const rf_tokenizer *t, const char *s, size_t n) {
    return rf__tok_find_h(t, s, n, rf__hash_bytes(s, n));
}

static uint64_t mix64(uint64_t x) {
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ull;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dull;
    x ^= x >> 33;
    return x;
}

int64_t rf__tok_merge(const rf_tokenizer *t, int32_t a, int32_t b, int32_t *result) {
    if (!t->merges || a < 0 || b < 0) return -1;
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    for (size_t i = mix64(key) & t->merge_mask;; i = (i + 1) & t->merge_mask) {
        const rf__merge_slot *s = &t->merges[i];
        if (s->rank == UINT32_MAX) return -1;
        if (s->key == key) {
            *result = s->result;
            return s->rank;
        }
    }
}

static size_t pow2_at_least(size_t n) {
    size_t c = 16;
    while (c < n) c *= 2;
    return c;
}

/* ---- construction helpers ---- */

static bool text_is(const rf_tokenizer *t, int32_t id, const char *s) {
    size_t n = strlen(s);
    return t->len[id] == n && memcmp(rf__tok_text(t, id), s, n) == 0;
}

static int32_t find_cstr(const rf_tokenizer *t, const char *s) { return rf__tok_find(t, s, strlen(s)); }

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Value of a "<0xHH>" byte token, or -1 when malformed. */
static int byte_token_value(const char *s, size_t n) {
    if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return -1;
    int hi = hexval(s[3]), lo = hexval(s[4]);
    if (hi < 0 || lo < 0) return -1;
    return hi * 16 + lo;
}

static uint16_t attr_of_type(int32_t type) {
    switch (type) {
    case RF_TOKTYPE_UNKNOWN: return RF_TOKATTR_UNKNOWN;
    case RF_TOKTYPE_UNUSED: return RF_TOKATTR_UNUSED;
    case RF_TOKTYPE_NORMAL: return RF_TOKATTR_NORMAL;
    case RF_TOKTYPE_CONTROL: return RF_TOKATTR_CONTROL;
    case RF_TOKTYPE_USER_DEFINED: return RF_TOKATTR_USER_DEFINED;
    case RF_TOKTYPE_BYTE: return RF_TOKATTR_BYTE;
    default: return 0;
    }
}

static rf_status copy_tokens(rf_tokenizer *t, const rf_vocab_desc *d, rf_err *err) {
    uint32_t n = d->n_tokens;
    uint64_t total = 0;
    char tmp[32];
    if (n == 0) return rf__err(err, RF_ERR_FORMAT, "tokenizer vocabulary is empty");
    if (n > (uint32_t)INT32_MAX - 1)
        return rf__err(err, RF_ERR_FORMAT, "tokenizer vocabulary too large (%u tokens)", n);
    if (!d->tokens) return rf__err(err, RF_ERR_INVALID_ARG, "no token strings given");
    for (uint32_t i = 0; i < n; i++) {
        size_t l = d->tokens[i].len;
        if (l > RF_TOK_MAX_TOKEN_BYTES)
            return rf__err(err, RF_ERR_FORMAT, "token %u is %zu bytes long (limit %d)", i, l,
                           RF_TOK_MAX_TOKEN_BYTES);
        if (l && !d->tokens[i].ptr) return rf__err(err, RF_ERR_INVALID_ARG, "token %u has no text", i);
        if (l == 0) l = (size_t)snprintf(tmp, sizeof tmp, "[EMPTY_%u]", i);
        total += l + 1;
    }
    t->n_tokens = n;
    t->arena = rf__malloc(total);
    t->off = rf__malloc(n * sizeof *t->off);
    t->len = rf__malloc(n * sizeof *t->len);
    t->score = rf__calloc(n, sizeof *t->score);
    t->attr = rf__calloc(n, sizeof *t->attr);
    t->map_mask = pow2_at_least((size_t)n * 2) - 1;
    t->map = rf__calloc(t->map_mask + 1, sizeof *t->map);
    if (!t->arena || !t->off || !t->len || !t->score || !t->attr || !t->map)
        return rf__err(err, RF_ERR_NOMEM, "out of memory for a %u-token vocabulary", n);
    size_t pos = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *s = d->tokens[i].ptr;
        size_t l = d->tokens[i].len;
        if (l == 0) {
            l = (size_t)snprintf(tmp, sizeof tmp, "[EMPTY_%u]", i);
            s = tmp;
        }
        memcpy(t->arena + pos, s, l);
        t->arena[pos + l] = 0;
        t->off[i] = pos;
        t->len[i] = (uint32_t)l;
        pos += l + 1;
        if (l > t->max_token_len) t->max_token_len = (uint32_t)l;
        if (d->scores) t->score[i] = d->scores[i];
        t->attr[i] = d->types ? attr_of_type(d->types[i]) : RF_TOKATTR_NORMAL;
        if ((t->attr[i] & RF_TOKATTR_BYTE) && byte_token_value(s, l) < 0)
            return rf__err(err, RF_ERR_FORMAT, "byte token %u is '%.*s', not <0xHH>", i,
                           (int)RF_MIN(l, 32), s);
        /* insert into the map, rejecting duplicates */
        uint64_t h = rf__hash_bytes(s, l);
        int32_t dup = rf__tok_find_h(t, s, l, h);
        if (dup >= 0)
            return rf__err(err, RF_ERR_FORMAT, "duplicate token '%.*s' (ids %d and %u)",
                           (int)RF_MIN(l, 64), s, dup, i);
        size_t k = (size_t)h & t->map_mask;
        while (t->map[k]) k = (k + 1) & t->map_mask;
        t->map[k] = ((h >> 32) << 32) | (uint64_t)(i + 1);
    }
    return RF_OK;
}

static rf_status load_merges(rf_tokenizer *t, const rf_vocab_desc *d, rf_err *err) {
    rf_status st = RF_OK;
    char *cat = NULL;
    if (d->n_merges && !d->merges) return rf__err(err, RF_ERR_INVALID_ARG, "no merge strings given");
    t->n_merges = d->n_merges;
    t->merge_mask = pow2_at_least((size_t)d->n_merges * 2 + 2) - 1;
    t->merges = rf__malloc((t->merge_mask + 1) * sizeof *t->merges);
    cat = rf__malloc(2 * RF_TOK_MAX_TOKEN_BYTES + 2);
    if (!t->merges || !cat) {
        st = rf__err(err, RF_ERR_NOMEM, "out of memory for %u merges", d->n_merges);
        goto out;
    }
    for (size_t i = 0; i <= t->merge_mask; i++) t->merges[i].rank = UINT32_MAX;
    for (uint32_t r = 0; r < d->n_merges; r++) {
        const char *s = d->merges[r].ptr;
        size_t n = d->merges[r].len;
        const char *sp = n > 1 ? memchr(s + 1, ' ', n - 1) : NULL;
        if (!s || !sp) {
            st = rf__err(err, RF_ERR_FORMAT, "merge %u ('%.*s') is not two tokens separated by a space",
                         r, (int)RF_MIN(n, 64), s ? s : "");
            goto out;
        }
        size_t la = (size_t)(sp - s), lb = n - la - 1;
        int32_t a = rf__tok_find(t, s, la), b = rf__tok_find(t, sp + 1, lb);
        if (a < 0 || b < 0) {
            st = rf__err(err, RF_ERR_FORMAT, "merge %u ('%.*s') names a token not in the vocabulary", r,
                         (int)RF_MIN(n, 64), s);
            goto out;
        }
        memcpy(cat, s, la);
        memcpy(cat + la, sp + 1, lb);
        int32_t res = rf__tok_find(t, cat, la + lb);
        uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
        size_t k = mix64(key) & t->merge_mask;
        while (t->merges[k].rank != UINT32_MAX && t->merges[k].key != key) k = (k + 1) & t->merge_mask;
        if (t->merges[k].rank != UINT32_MAX) continue; /* the first rank wins */
        t->merges[k].key = key;
        t->merges[k].rank = r;
        t->merges[k].result = res;
    }
out:
    rf__free(cat);
    return st;
}

/* Default special ids and flags per model type. */
static void set_defaults(rf_tokenizer *t) {
    t->bos = t->eos = t->eot = t->eom = t->unk = t->sep = t->pad = t->mask = RF_TOK_NULL;
    t->fim_pre = t->fim_suf = t->fim_mid = t->fim_pad = t->fim_rep = t->fim_sep = RF_TOK_NULL;
    t->escape_ws = true;
    t->lowercase = true;
    switch (t->kind) {
    case RF_TOK_SPM:
        t->bos = 1;
        t->eos = 2;
        t->unk = 0;
        t->add_space_prefix = true;
        t->add_bos = true;
        break;
    case RF_TOK_WPM:
        t->bos = 101;
        t->unk = 100;
        t->sep = 102;
        t->pad = 0;
        t->mask = 103;
        t->add_sep = true;
        t->clean_spaces = true;
        t->add_bos = true;
        break;
    case RF_TOK_BPE:
        t->bos = 11;
        t->eos = 11;
        t->escape_ws = false;
        t->clean_spaces = true;
        break;
    case RF_TOK_UGM:
        t->eos = 1;
        t->unk = 2;
        t->pad = 0;
        t->add_eos = true;
        break;
    }
}

static rf_status set_special(rf_tokenizer *t, int32_t *slot, int64_t v, const char *what, rf_err *err) {
    if (*slot >= 0 && (uint32_t)*slot >= t->n_tokens) *slot = RF_TOK_NULL; /* default out of range */
    if (v == RF_TOK_UNSET) return RF_OK;
    if (v == -1) {
        *slot = RF_TOK_NULL;
        return RF_OK;
    }
    if (v < 0 || v >= (int64_t)t->n_tokens)
        return rf__err(err, RF_ERR_FORMAT, "%s token id %lld is outside the vocabulary (%u tokens)", what,
                       (long long)v, t->n_tokens);
    *slot = (int32_t)v;
    return RF_OK;
}

static void mark_control(rf_tokenizer *t, int32_t id) { t->attr[id] |= RF_TOKATTR_CONTROL; }

/* First id (lowest) whose text is in `names`, or -1. */
static int32_t find_any(const rf_tokenizer *t, const char *const *names) {
    int32_t best = -1;
    for (size_t i = 0; names[i]; i++) {
        int32_t id = find_cstr(t, names[i]);
        if (id >= 0 && (best < 0 || id < best)) best = id;
    }
    return best;
}

static void autodetect(rf_tokenizer *t, int32_t *slot, const char *const *names) {
    if (*slot != RF_TOK_NULL) return;
    int32_t id = find_any(t, names);
    if (id >= 0) {
        *slot = id;
        mark_control(t, id);
    }
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static _Thread_local const rf_tokenizer *g_sort_tok;
static int cmp_special(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    uint32_t lx = g_sort_tok->len[x], ly = g_sort_tok->len[y];
    if (lx != ly) return lx > ly ? -1 : 1;
    return (x > y) - (x < y);
}

static rf_status build_eog(rf_tokenizer *t, rf_err *err) {
    static const char *const eog_names[] = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
        "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
        "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
        "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>", "[e~[", NULL};
    int32_t cand[64];
    size_t n = 0;
    if (t->fim_pad >= 0) cand[n++] = t->fim_pad;
    if (t->fim_rep >= 0) cand[n++] = t->fim_rep;
    if (t->fim_sep >= 0) cand[n++] = t->fim_sep;
    for (size_t i = 0; eog_names[i]; i++) {
        int32_t id = find_cstr(t, eog_names[i]);
        if (id >= 0) {
            cand[n++] = id;
            mark_control(t, id);
        }
    }
    /* tokens always rendered as text (gpt-oss) */
    static const char *const ud[] = {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>", NULL};
    for (size_t i = 0; ud[i]; i++) {
        int32_t id = find_cstr(t, ud[i]);
        if (id >= 0) t->attr[id] = RF_TOKATTR_USER_DEFINED;
    }
    if (t->eos >= 0) cand[n++] = t->eos;
    if (t->eot >= 0) cand[n++] = t->eot;
    if (t->eom >= 0) cand[n++] = t->eom;
    qsort(cand, n, sizeof *cand, cmp_i32);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || cand[m - 1] != cand[i]) cand[m++] = cand[i];
    n = m;

    /* <|end|> is not an end of generation when <|return|>/<|call|> (or
     * <|calls|>/<|flush|>) exist; </s> is not one when <|tool_response> exists */
    bool has_return = false, has_call = false, has_flush = false, has_tool_resp = false;
    int32_t end_id = -1, s_id = -1;
    for (size_t i = 0; i < n; i++) {
        int32_t id = cand[i];
        if (text_is(t, id, "<|return|>")) has_return = true;
        else if (text_is(t, id, "<|call|>") || text_is(t, id, "<|calls|>")) has_call = true;
        else if (text_is(t, id, "<|flush|>")) has_flush = true;
        else if (text_is(t, id, "<|end|>")) end_id = id;
        else if (text_is(t, id, "<|tool_response>")) has_tool_resp = true;
        else if (text_is(t, id, "</s>")) s_id = id;
    }
    m = 0;
    for (size_t i = 0; i < n; i++) {
        if (end_id >= 0 && cand[i] == end_id && ((has_return && has_call) || (has_call && has_flush))) {
            t->attr[end_id] = RF_TOKATTR_USER_DEFINED;
            continue;
        }
        if (s_id >= 0 && cand[i] == s_id && has_tool_resp) {
            t->attr[s_id] = RF_TOKATTR_NORMAL;
            continue;
        }
        cand[m++] = cand[i];
    }
    n = m;
    t->eog = rf__malloc((n ? n : 1) * sizeof *t->eog);
    if (!t->eog) return rf__err(err, RF_ERR_NOMEM, "out of memory");
    memcpy(t->eog, cand, n * sizeof *cand);
    t->n_eog = n;
    return RF_OK;
}

static char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

/* Does hay, lowercased, contain needle (lowercase)? */
static bool contains_ci(const char *hay, const char *needle) {
    if (!hay) return false;
    size_t hn = strlen(hay), nn = strlen(needle);
    for (size_t i = 0; i + nn <= hn; i++) {
        size_t k = 0;
        while (k < nn && ascii_lower(hay[i + k]) == needle[k]) k++;
        if (k == nn) return true;
    }
    return false;
}

/* Per-model attribute fixes for special tokens that eat surrounding spaces. */
static void model_attr_fixes(rf_tokenizer *t, const rf_vocab_desc *d) {
    const char *pre = d->pre ? d->pre : "";
    const char *arch = d->arch ? d->arch : "";
    if (strstr(pre, "jina-v2-de") || strstr(pre, "jina-v2-es") || strstr(pre, "jina-v2-code") ||
        strstr(arch, "nomic-bert-moe") || strstr(arch, "jina-bert-v3")) {
        int32_t id = find_cstr(t, "<mask>");
        if (id >= 0) t->attr[id] |= RF_TOKATTR_LSTRIP;
    } else if (contains_ci(d->name, "phi-3") || contains_ci(d->name, "phi3")) {
        for (size_t i = 0; i < t->n_special; i++) t->attr[t->special[i]] |= RF_TOKATTR_RSTRIP;
        int32_t id = find_cstr(t, "</s>");
        if (id >= 0) t->attr[id] |= RF_TOKATTR_RSTRIP;
        static const char *const keep[] = {"<unk>", "<s>", "<|endoftext|>", NULL};
        for (size_t i = 0; keep[i]; i++) {
            id = find_cstr(t, keep[i]);
            if (id >= 0) t->attr[id] &= (uint16_t)~RF_TOKATTR_RSTRIP;
        }
    } else if (contains_ci(d->name, "modern-bert")) {
        int32_t id = find_cstr(t, "[MASK]");
        if (id >= 0) t->attr[id] |= RF_TOKATTR_LSTRIP;
    }
}

/* token_to_piece with special rendering, computed once per token. */
static void piece_of(const rf_tokenizer *t, int32_t id, rf__buf *out) {
    const unsigned attr = t->attr[id];
    const char *s = rf__tok_text(t, id);
    size_t n = t->len[id];
    if (attr & (RF_TOKATTR_UNKNOWN | RF_TOKATTR_CONTROL | RF_TOKATTR_USER_DEFINED)) {
        rf__buf_put(out, s, n);
        return;
    }
    if (attr & RF_TOKATTR_NORMAL) {
        if (t->kind == RF_TOK_BPE && !t->escape_ws) {
            /* byte-level: every code point stands for one byte */
            for (size_t i = 0; i < n;) {
                size_t adv;
                uint32_t cp = rf__utf8_decode((const uint8_t *)s + i, n - i, &adv);
                int b = rf__ucp_to_byte(cp);
                if (b >= 0) {
                    rf__buf_putc(out, (char)b);
                } else {
                    char tmp[16];
                    rf__buf_put(out, "[UNK_BYTE_0x", 12);
                    for (size_t k = 0; k < adv; k++) {
                        snprintf(tmp, sizeof tmp, "%02x", (uint8_t)s[i + k]);
                        rf__buf_put(out, tmp, 2);
                    }
                    rf__buf_put(out, s, n);
                    rf__buf_putc(out, ']');
                }
                i += adv;
            }
            return;
        }
        /* U+2581 stands for a space */
        for (size_t i = 0; i < n;) {
            if (i + 3 <= n && memcmp(s + i, "\xe2\x96\x81", 3) == 0) {
                rf__buf_putc(out, ' ');
                i += 3;
            } else {
                rf__buf_putc(out, s[i]);
                i++;
            }
        }
        return;
    }
    if (attr & RF_TOKATTR_BYTE) {
        rf__buf_putc(out, (char)byte_token_value(s, n));
        return;
    }
    /* undefined or unused-only tokens render as nothing */
}

static rf_status build_pieces(rf_tokenizer *t, rf_err *err) {
    rf__buf b = {0};
    t->piece_off = rf__malloc(t->n_tokens * sizeof *t->piece_off);
    t->piece_len = rf__malloc(t->n_tokens * sizeof *t->piece_len);
    if (!t->piece_off || !t->piece_len) goto nomem;
    for (uint32_t i = 0; i < t->n_tokens; i++) {
        size_t start = b.n;
        piece_of(t, (int32_t)i, &b);
        t->piece_off[i] = start;
        t->piece_len[i] = (uint32_t)(b.n - start);
    }
    if (b.oom) goto nomem;
    t->piece_arena = b.p ? b.p : rf__malloc(1);
    if (!t->piece_arena) goto nomem;
    return RF_OK;
nomem:
    rf__free(b.p);
    return rf__err(err, RF_ERR_NOMEM, "out of memory for token pieces");
}

static void find_byte_tokens(rf_tokenizer *t) {
    for (int b = 0; b < 256; b++) {
        char one = (char)b;
        t->char_tok[b] = rf__tok_find(t, &one, 1);
        uint32_t cp = rf__byte_to_ucp((uint8_t)b);
        t->byte_enc_len[b] = (uint8_t)rf__utf8_encode(cp, t->byte_enc[b]);
        if (t->kind == RF_TOK_BPE || t->kind == RF_TOK_WPM) {
            t->byte_tok[b] = rf__tok_find(t, t->byte_enc[b], t->byte_enc_len[b]);
        } else {
            char hex[8];
            snprintf(hex, sizeof hex, "<0x%02X>", b);
            int32_t id = find_cstr(t, hex);
            t->byte_tok[b] = id >= 0 ? id : t->char_tok[b];
        }
    }
}

rf_status rf__tokenizer_create(const rf_vocab_desc *d, rf_tokenizer **out, rf_err *err) {
    rf_status st = RF_OK;
    rf_tokenizer *t = NULL;
    if (!out) return rf__err(err, RF_ERR_INVALID_ARG, "rf__tokenizer_create: out is NULL");
    *out = NULL;
    if (!d || !d->model) return rf__err(err, RF_ERR_INVALID_ARG, "tokenizer description without a model");
    t = rf__calloc(1, sizeof *t);
    if (!t) return rf__err(err, RF_ERR_NOMEM, "out of memory");

    if (!strcmp(d->model, "llama")) t->kind = RF_TOK_SPM;
    else if (!strcmp(d->model, "gpt2")) t->kind = RF_TOK_BPE;
    else if (!strcmp(d->model, "bert")) t->kind = RF_TOK_WPM;
    else if (!strcmp(d->model, "t5")) t->kind = RF_TOK_UGM;
    else {
        st = rf__err(err, RF_ERR_UNSUPPORTED, "unsupported tokenizer model '%.64s'", d->model);
        goto fail;
    }
    set_defaults(t);
    if ((st = copy_tokens(t, d, err))) goto fail;
    find_byte_tokens(t);

    if (t->kind == RF_TOK_BPE) {
        if (!d->n_merges) {
            st = rf__err(err, RF_ERR_FORMAT, "BPE vocabulary has no merges");
            goto fail;
        }
        if ((st = load_merges(t, d, err))) goto fail;
        const char *pre = d->pre && d->pre[0] ? d->pre : "default";
        if ((st = rf__pretok_init(t, pre, err))) goto fail;
    }
    if (d->add_space_prefix >= 0) t->add_space_prefix = d->add_space_prefix;
    if (d->remove_extra_ws >= 0) t->remove_extra_ws = d->remove_extra_ws;

    struct {
        int32_t *slot;
        int64_t v;
        const char *what;
    } sp[] = {
        {&t->bos, d->bos, "BOS"},          {&t->eos, d->eos, "EOS"},
        {&t->eot, d->eot, "EOT"},          {&t->eom, d->eom, "EOM"},
        {&t->unk, d->unk, "unknown"},      {&t->sep, d->sep, "separator"},
        {&t->pad, d->pad, "padding"},      {&t->mask, d->mask, "mask"},
        {&t->fim_pre, d->fim_pre, "FIM prefix"}, {&t->fim_suf, d->fim_suf, "FIM suffix"},
        {&t->fim_mid, d->fim_mid, "FIM middle"}, {&t->fim_pad, d->fim_pad, "FIM pad"},
        {&t->fim_rep, d->fim_rep, "FIM repo"},   {&t->fim_sep, d->fim_sep, "FIM separator"},
    };
    for (size_t i = 0; i < RF_ARRAY_LEN(sp); i++)
        if ((st = set_special(t, sp[i].slot, sp[i].v, sp[i].what, err))) goto fail;

    if (d->add_bos >= 0) t->add_bos = d->add_bos;
    if (d->add_eos >= 0) t->add_eos = d->add_eos;
    if (d->add_sep >= 0) t->add_sep = d->add_sep;
    if (t->add_bos && t->bos < 0) {
        st = rf__err(err, RF_ERR_FORMAT, "add_bos_token is true, but there is no BOS token");
        goto fail;
    }
    if (t->add_eos && t->eos < 0) {
        st = rf__err(err, RF_ERR_FORMAT, "add_eos_token is true, but there is no EOS token");
        goto fail;
    }
    if (t->add_sep && t->sep < 0) {
        st = rf__err(err, RF_ERR_FORMAT, "add_sep_token is true, but there is no separator token");
        goto fail;
    }
    if (d->lowercase >= 0) t->lowercase = d->lowercase;
    t->strip_accents = t->lowercase;
    if (d->strip_accents >= 0) t->strip_accents = d->strip_accents;

    /* special tokens recognised by their text */
    static const char *const eot_names[] = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
        "<EOT>", "_<EOT>", "[EOT]", "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
        "<end_of_utterance>", NULL};
    static const char *const eom_names[] = {"<|eom_id|>", NULL};
    static const char *const pre_names[] = {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
        "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>", "<PRE>", "\xe2\x96\x81<PRE>",
        "<|code_prefix|>", "<|prefix|>", NULL};
    static const char *const suf_names[] = {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
        "<\xef\xbd\x9c" "fim\xe2\x96\x81hole\xef\xbd\x9c>", "<SUF>", "\xe2\x96\x81<SUF>",
        "<|code_suffix|>", "<|suffix|>", NULL};
    static const char *const mid_names[] = {"<|fim_middle|>", "<fim-middle>", "<fim_middle>",
        "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>", "<MID>", "\xe2\x96\x81<MID>",
        "<|code_middle|>", "<|middle|>", NULL};
    static const char *const pad_names[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", NULL};
    static const char *const rep_names[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
        "<reponame>", NULL};
    static const char *const sep_names[] = {"<|file_sep|>", NULL};
    autodetect(t, &t->eot, eot_names);
    autodetect(t, &t->eom, eom_names);
    autodetect(t, &t->fim_pre, pre_names);
    autodetect(t, &t->fim_suf, suf_names);
    autodetect(t, &t->fim_mid, mid_names);
    autodetect(t, &t->fim_pad, pad_names);
    autodetect(t, &t->fim_rep, rep_names);
    autodetect(t, &t->fim_sep, sep_names);
    /* control tokens named "unused" are unused */
    for (uint32_t i = 0; i < t->n_tokens; i++)
        if ((t->attr[i] & RF_TOKATTR_CONTROL) && strstr(rf__tok_text(t, (int32_t)i), "unused"))
            t->attr[i] |= RF_TOKATTR_UNUSED;
    if ((st = build_eog(t, err))) goto fail;

    /* special tokens, longest text first */
    size_t ns = 0;
    for (uint32_t i = 0; i < t->n_tokens; i++)
        if (t->attr[i] & (RF_TOKATTR_CONTROL | RF_TOKATTR_USER_DEFINED | RF_TOKATTR_UNKNOWN)) ns++;
    t->special = rf__malloc((ns ? ns : 1) * sizeof *t->special);
    if (!t->special) {
        st = rf__err(err, RF_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < t->n_tokens; i++)
        if (t->attr[i] & (RF_TOKATTR_CONTROL | RF_TOKATTR_USER_DEFINED | RF_TOKATTR_UNKNOWN))
            t->special[t->n_special++] = (int32_t)i;
    g_sort_tok = t;
    qsort(t->special, t->n_special, sizeof *t->special, cmp_special);
    g_sort_tok = NULL;

    if ((st = build_pieces(t, err))) goto fail;
    if (t->kind == RF_TOK_SPM) {
        t->spm_chunks = true;
        for (uint32_t i = 0; i < t->n_tokens && t->spm_chunks; i++) {
            const char *s = rf__tok_text(t, (int32_t)i);
            for (uint32_t k = 1; k + 3 <= t->len[i]; k++)
                if (memcmp(s + k, "\xe2\x96\x81", 3) == 0 && (k < 3 || memcmp(s + k - 3, "\xe2\x96\x81", 3) != 0)) {
                    t->spm_chunks = false;
                    break;
                }
        }
    }
    model_attr_fixes(t, d);

    if (t->kind == RF_TOK_WPM && (st = rf__wpm_init(t, err))) goto fail;
    if (t->kind == RF_TOK_UGM) {
        if (d->charsmap_len) {
            t->charsmap = rf__malloc(d->charsmap_len);
            if (!t->charsmap) {
                st = rf__err(err, RF_ERR_NOMEM, "out of memory");
                goto fail;
            }
            memcpy(t->charsmap, d->charsmap, d->charsmap_len);
            t->charsmap_len = d->charsmap_len;
        }
        if ((st = rf__ugm_init(t, err))) goto fail;
    }

    /* newline token */
    t->nl = t->pad;
    if (t->kind == RF_TOK_SPM) {
        if (t->byte_tok['\n'] >= 0) t->nl = t->byte_tok['\n'];
    } else if (t->kind != RF_TOK_WPM) {
        int32_t one[4];
        size_t n1 = 0;
        rf_err e2;
        if (rf__tokenizer_encode_into(t, "\n", 1, false, false, one, 4, &n1, &e2) == RF_OK && n1 > 0)
            t->nl = one[0];
    }
    *out = t;
    return RF_OK;
fail:
    rf__tokenizer_free(t);
    return st;
}

void rf__tokenizer_free(rf_tokenizer *t) {
    if (!t) return;
    rf__pretok_free(&t->pretok);
    rf__trie_free(&t->trie);
    rf__trie_free(&t->ud_trie);
    rf__free(t->charsmap);
    rf__free(t->arena);
    rf__free(t->off);
    rf__free(t->len);
    rf__free(t->score);
    rf__free(t->attr);
    rf__free(t->map);
    rf__free(t->merges);
    rf__free(t->eog);
    rf__free(t->special);
    rf__free(t->piece_arena);
    rf__free(t->piece_off);
    rf__free(t->piece_len);
    rf__free(t);
}

/* ---- queries ---- */

static bool valid_id(const rf_tokenizer *t, int32_t id) { return t && id >= 0 && (uint32_t)id < t->n_tokens; }

rf_tok_kind rf__tokenizer_kind(const rf_tokenizer *t) { return t->kind; }
const char *rf__tokenizer_pre(const rf_tokenizer *t) { return t->pre_name; }
uint32_t rf__tokenizer_n_vocab(const rf_tokenizer *t) { return t ? t->n_tokens : 0; }

const char *rf__tokenizer_token_text(const rf_tokenizer *t, int32_t id, size_t *len) {
    if (!valid_id(t, id)) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = t->len[id];
    return rf__tok_text(t, id);
}

float rf__tokenizer_token_score(const rf_tokenizer *t, int32_t id) { return valid_id(t, id) ? t->score[id] : 0.0f; }
unsigned rf__tokenizer_token_attr(const rf_tokenizer *t, int32_t id) { return valid_id(t, id) ? t->attr[id] : 0; }
int32_t rf__tokenizer_find(const rf_tokenizer *t, const char *text, size_t len) {
    return (t && (text || !len)) ? rf__tok_find(t, text ? text : "", len) : -1;
}
int32_t rf__tokenizer_bos(const rf_tokenizer *t) { return t->bos; }
int32_t rf__tokenizer_eos(const rf_tokenizer *t) { return t->eos; }
int32_t rf__tokenizer_eot(const rf_tokenizer *t) { return t->eot; }
int32_t rf__tokenizer_eom(const rf_tokenizer *t) { return t->eom; }
int32_t rf__tokenizer_unk(const rf_tokenizer *t) { return t->unk; }
int32_t rf__tokenizer_sep(const rf_tokenizer *t) { return t->sep; }
int32_t rf__tokenizer_pad(const rf_tokenizer *t) { return t->pad; }
int32_t rf__tokenizer_nl(const rf_tokenizer *t) { return t->nl; }
int32_t rf__tokenizer_fim_pre(const rf_tokenizer *t) { return t->fim_pre; }
int32_t rf__tokenizer_fim_suf(const rf_tokenizer *t) { return t->fim_suf; }
int32_t rf__tokenizer_fim_mid(const rf_tokenizer *t) { return t->fim_mid; }
bool rf__tokenizer_add_bos(const rf_tokenizer *t) { return t->add_bos; }
bool rf__tokenizer_add_eos(const rf_tokenizer *t) { return t->add_eos; }
bool rf__tokenizer_add_space_prefix(const rf_tokenizer *t) { return t->add_space_prefix; }
bool rf__tokenizer_clean_spaces(const rf_tokenizer *t) { return t->clean_spaces; }

bool rf__tokenizer_is_eog(const rf_tokenizer *t, int32_t id) {
    if (!valid_id(t, id)) return false;
    return bsearch(&id, t->eog, t->n_eog, sizeof *t->eog, cmp_i32) != NULL;
}

size_t rf__tokenizer_eog_ids(const rf_tokenizer *t, const int32_t **ids) {
    if (ids) *ids = t->eog;
    return t->n_eog;
}

bool rf__tokenizer_is_control(const rf_tokenizer *t, int32_t id) {
    return valid_id(t, id) && (t->attr[id] & RF_TOKATTR_CONTROL);
}
