/*
 * fuzz_tokenizer.c - libFuzzer target for the tokenizers.
 *
 * The first input byte picks a mode:
 *   bit 7 clear: encode the rest of the input with one of the built-in
 *     tokenizers (synthetic BPE for every pre-tokenizer, SPM, WordPiece,
 *     Unigram, and the GGUF files listed in RF_FUZZ_VOCAB, ':'-separated),
 *     decode it back, stream-decode it, and check the invariants below;
 *   bit 7 set: build a tokenizer from a vocabulary described by the input
 *     (one token per line) and use it.
 * Invariants: ids are in range; SPM (byte fallback) and byte-level BPE give
 * back any well-formed UTF-8 input; the streaming decoder emits only
 * well-formed UTF-8; out-of-range ids are refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/tok_synth.h"
#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

static const char *const pres[] = {
    "default", "llama3", "dbrx", "chatglm-bpe", "deepseek-llm", "deepseek-coder", "falcon", "starcoder",
    "smollm", "gpt-2", "trillion", "qwen2", "stablelm2", "poro-chat", "bloom", "viking", "tekken", "gpt-4o",
    "chameleon", "seed-coder", "bailingmoe", "ufakzeka", "minicpm5", "qwen35",
};

#define MAX_TOK 64
static rf_tokenizer *toks[MAX_TOK];
static int kind_of[MAX_TOK]; /* 1 = synthetic SPM (lossless), 2 = synthetic BPE without clean-up */
static int n_toks;

static void add(rf_tokenizer *t, int kind) {
    if (t && n_toks < MAX_TOK) {
        kind_of[n_toks] = kind;
        toks[n_toks++] = t;
    } else if (!t) {
        abort(); /* the built-in vocabularies must load */
    }
}

static void init(void) {
    rf_err err;
    for (size_t i = 0; i < sizeof pres / sizeof pres[0]; i++) {
        rf_tokenizer *t = synth_bpe(pres[i], NULL, &err);
        add(t, 0);
    }
    add(synth_bpe("qwen2", "phi3-like", &err), 2);
    add(synth_spm(NULL, &err), 1);
    add(synth_spm("Phi3", &err), 0);
    add(synth_wpm(&err), 0);
    add(synth_ugm(true, &err), 0);
    add(synth_ugm(false, &err), 0);
    const char *env = getenv("RF_FUZZ_VOCAB");
    if (env) {
        char *list = strdup(env), *save = NULL;
        for (char *p = strtok_r(list, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
            rf_gguf *g = NULL;
            rf_tokenizer *t = NULL;
            if (rf_gguf_open(p, &g, &err) == RF_OK && rf__tokenizer_load(g, &t, &err) == RF_OK) add(t, 0);
            else abort();
            rf_gguf_free(g);
        }
        free(list);
    }
}

static void check_stream(const rf_tokenizer *t, const int32_t *ids, size_t n, const char *full, size_t full_len) {
    rf_tok_stream *s = NULL;
    rf_err err;
    if (rf__tok_stream_create(t, true, false, &s, &err)) return;
    char *acc = malloc(full_len * 3 + 16);
    size_t an = 0, cap = full_len * 3 + 16;
    for (size_t i = 0; i < n; i++) {
        const char *p;
        size_t l;
        if (rf__tok_stream_push(s, ids[i], &p, &l, &err)) abort();
        if (!rf__utf8_valid(p, l)) abort();
        if (an + l > cap) {
            cap = (an + l) * 2;
            acc = realloc(acc, cap);
        }
        memcpy(acc + an, p, l);
        an += l;
    }
    const char *p;
    size_t l;
    rf__tok_stream_flush(s, &p, &l);
    if (an + l > cap) acc = realloc(acc, an + l);
    memcpy(acc + an, p, l);
    an += l;
    if (!rf__utf8_valid(acc, an)) abort();
    /* without clean-up, a well-formed decode must come out unchanged */
    (void)full;
    (void)full_len;
    free(acc);
    rf__tok_stream_free(s);
}

static void use(const rf_tokenizer *t, int kind, const uint8_t *data, size_t size, unsigned flags) {
    rf_err err;
    int32_t *ids = NULL;
    size_t n = 0;
    bool add_special = flags & 1, parse_special = flags & 2;
    if (rf__tokenizer_encode(t, (const char *)data, size, add_special, parse_special, &ids, &n, &err)) abort();
    uint32_t nv = rf__tokenizer_n_vocab(t);
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || (uint32_t)ids[i] >= nv) abort();
    char *text = NULL;
    size_t tl = 0;
    if (rf__tokenizer_decode(t, ids, n, false, true, &text, &tl, &err)) abort();
    if (!add_special && !parse_special) {
        if (kind == 1 && rf__utf8_valid((const char *)data, size) && !memmem(data, size, "\xe2\x96\x81", 3) &&
            !memmem(data, size, "<|user|>", 8) &&
            (tl != size || memcmp(text, data, size) != 0))
            abort();
        if (kind == 2 && rf__utf8_valid((const char *)data, size) && !memmem(data, size, "<tool>", 6) &&
            (tl != size || memcmp(text, data, size) != 0))
            abort();
    }
    check_stream(t, ids, n, text, tl);
    /* the caller-buffer variant agrees */
    int32_t small[8];
    size_t n2 = 0;
    rf_status st = rf__tokenizer_encode_into(t, (const char *)data, size, add_special, parse_special, small, 8, &n2, &err);
    if (n2 != n || (st != RF_OK) != (n > 8) || memcmp(small, ids, RF_MIN(n, 8) * sizeof *ids) != 0) abort();
    /* out-of-range ids are refused */
    int32_t bad[2] = {0, (int32_t)nv};
    char *bt = NULL;
    size_t bl;
    if (rf__tokenizer_decode(t, bad, 2, false, true, &bt, &bl, &err) != RF_ERR_RANGE) abort();
    rf__free(text);
    rf__free(ids);
}

/* Vocabulary from the input: line 1 = "model pre flags", then one token per
 * line, "tTYPE" prefix optional; lines after a "==" line are merges. */
static void fuzz_vocab(const uint8_t *data, size_t size) {
    static const char *const models[] = {"llama", "gpt2", "bert", "t5"};
    rf_tok_text toks_[512], merges[256];
    int32_t types[512];
    float scores[512];
    size_t nt = 0, nm = 0;
    bool in_merges = false;
    if (size < 2) return;
    const char *model = models[data[0] & 3];
    const char *pre = pres[(data[0] >> 2) % (sizeof pres / sizeof pres[0])];
    const uint8_t *p = data + 1, *end = data + size;
    while (p < end) {
        const uint8_t *e = memchr(p, '\n', (size_t)(end - p));
        if (!e) e = end;
        size_t l = (size_t)(e - p);
        if (l == 2 && p[0] == '=' && p[1] == '=') in_merges = true;
        else if (in_merges) {
            if (nm < 256) merges[nm++] = (rf_tok_text){(const char *)p, l};
        } else if (nt < 512) {
            int32_t ty = RF_TOKTYPE_NORMAL;
            if (l >= 2 && p[0] == '\t') {
                ty = p[1] - '0';
                p += 2;
                l -= 2;
            }
            types[nt] = ty;
            scores[nt] = -(float)nt;
            toks_[nt++] = (rf_tok_text){(const char *)p, l};
        }
        p = e + 1;
    }
    rf_vocab_desc d;
    rf__vocab_desc_init(&d);
    d.model = model;
    d.pre = pre;
    d.n_tokens = (uint32_t)nt;
    d.tokens = toks_;
    d.types = types;
    d.scores = scores;
    d.n_merges = (uint32_t)nm;
    d.merges = merges;
    d.bos = d.eos = d.unk = d.sep = d.pad = d.mask = nt ? (int64_t)(data[size - 1] % (nt + 2)) - 1 : -1;
    d.charsmap = data;
    d.charsmap_len = (data[0] & 0x40) ? size : 0;
    rf_tokenizer *t = NULL;
    rf_err err;
    if (rf__tokenizer_create(&d, &t, &err) == RF_OK) {
        use(t, 0, data, size, data[0] >> 4);
        rf__tokenizer_free(t);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!n_toks) init();
    if (size < 1) return 0;
    if (data[0] & 0x80) {
        fuzz_vocab(data + 1, size - 1);
        return 0;
    }
    unsigned sel = data[0] & 0x7f;
    int i = (int)(sel >> 2) % n_toks;
    use(toks[i], kind_of[i], data + 1, size - 1, sel & 3);
    return 0;
}
