/* test_tokenizer.c - tokenizer edge cases on small synthetic vocabularies:
 * each algorithm on hand-checked inputs, special tokens, empty/NUL/malformed
 * input, invalid ids, the streaming decoder, malformed vocabularies, the GGUF
 * loader, allocation failures, and linear time on 10 MB inputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gguf/gguf.h"
#include "rf_test.h"
#include "tok_synth.h"

#if defined(__SANITIZE_ADDRESS__)
#define RF_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RF_SANITIZED 1
#endif
#endif
#ifndef RF_SANITIZED
#define RF_SANITIZED 0
#endif

static int32_t id_of(const rf_tokenizer *t, const char *s) { return rf__tokenizer_find(t, s, strlen(s)); }

/* Encodes and compares with the ids of the given token texts (NULL-terminated). */
static bool enc_is(const rf_tokenizer *t, const char *text, size_t len, int add_special, int parse_special, ...) {
    int32_t *ids = NULL, want[64];
    size_t n = 0, nw = 0;
    rf_err err = {0};
    va_list ap;
    va_start(ap, parse_special);
    for (const char *s; (s = va_arg(ap, const char *)) != NULL && nw < 64;) want[nw++] = id_of(t, s);
    va_end(ap);
    if (rf__tokenizer_encode(t, text, len, add_special, parse_special, &ids, &n, &err)) {
        fprintf(stderr, "encode failed: %s\n", err.msg);
        return false;
    }
    bool ok = n == nw;
    for (size_t i = 0; ok && i < n; i++) ok = ids[i] == want[i] && want[i] >= 0;
    if (!ok) {
        fprintf(stderr, "encode '%.*s': got", (int)len, text);
        for (size_t i = 0; i < n; i++) {
            size_t l;
            const char *p = rf__tokenizer_token_text(t, ids[i], &l);
            fprintf(stderr, " %d'%.*s'", ids[i], (int)l, p);
        }
        fprintf(stderr, ", want");
        for (size_t i = 0; i < nw; i++) fprintf(stderr, " %d", want[i]);
        fprintf(stderr, "\n");
    }
    rf__free(ids);
    return ok;
}
#define ENC(t, s, as, ps, ...) enc_is(t, s, sizeof(s) - 1, as, ps, __VA_ARGS__, (const char *)NULL)

static char *roundtrip(const rf_tokenizer *t, const char *s, size_t n, size_t *out_len) {
    int32_t *ids = NULL;
    size_t ni = 0;
    char *txt = NULL;
    rf_err err;
    if (rf__tokenizer_encode(t, s, n, false, false, &ids, &ni, &err)) return NULL;
    if (rf__tokenizer_decode(t, ids, ni, false, true, &txt, out_len, &err)) txt = NULL;
    rf__free(ids);
    return txt;
}

#define SP "\xe2\x96\x81"

static void test_spm(void) {
    rf_err err = {0};
    rf_tokenizer *t = synth_spm(NULL, &err);
    RF_CHECK(t != NULL);
    if (!t) return;
    RF_CHECK(rf__tokenizer_kind(t) == RF_TOK_SPM);
    RF_CHECK(rf__tokenizer_bos(t) == 1 && rf__tokenizer_eos(t) == 2 && rf__tokenizer_unk(t) == 0);
    RF_CHECK(rf__tokenizer_add_bos(t) && !rf__tokenizer_add_eos(t));
    /* "▁a" outranks "▁▁"; then "▁an", then "▁and" */
    RF_CHECK(ENC(t, " and", false, false, SP, SP "and"));
    RF_CHECK(ENC(t, "the", true, false, "<s>", SP "the"));
    /* pairs merge by score: "he" first, "\u2581hello" is unreachable without "\u2581h" */
    RF_CHECK(ENC(t, "hello world", false, false, SP, "he", "l", "l", "o", SP "w", "or", "ld"));
    /* not in the vocabulary: byte fallback, NUL included */
    RF_CHECK(ENC(t, "q\0", false, false, SP, "<0x71>", "<0x00>"));
    RF_CHECK(ENC(t, "", false, false, (const char *)NULL));
    RF_CHECK(ENC(t, "", true, false, "<s>"));
    /* control tokens only with parse_special; user-defined always; a space
     * prefix again after a special token */
    RF_CHECK(ENC(t, "<|end|>a", false, true, "<|end|>", SP "a"));
    RF_CHECK(ENC(t, "<|user|>a", false, false, "<|user|>", SP "a"));
    RF_CHECK(ENC(t, "<s>", false, false, SP, "<0x3C>", "s", "<0x3E>"));
    RF_CHECK(ENC(t, "<s>", false, true, "<s>"));
    /* lossless: SPM decode drops the prefix space */
    const char *samples[] = {"Hello  world", " leading", "tab\there\n", "\xf0\x9f\x98\x80 emoji", "a\0b", "",
                             "e\xcc\x81 combining", "\xe6\x97\xa5\xe6\x9c\xac"};
    size_t lens[] = {12, 8, 10, 10, 3, 0, 14, 6};
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        size_t l;
        char *r = roundtrip(t, samples[i], lens[i], &l);
        RF_CHECK(r && l == lens[i] && memcmp(r, samples[i], l) == 0);
        rf__free(r);
    }
    /* malformed UTF-8: bytes in, bytes out */
    {
        const char bad[] = "x\xff\xfe\xc0\x80y\xe2\x82";
        size_t l;
        char *r = roundtrip(t, bad, sizeof bad - 1, &l);
        RF_CHECK(r && l == sizeof bad - 1 && memcmp(r, bad, l) == 0);
        rf__free(r);
    }
    /* whole-sequence decode: BOS removed only with remove_special */
    {
        int32_t ids[] = {1, id_of(t, SP "hello"), 2};
        char *s = NULL;
        size_t l = 0;
        RF_CHECK(rf__tokenizer_decode(t, ids, 3, false, true, &s, &l, &err) == RF_OK);
        RF_CHECK(s && !strcmp(s, "<s> hello</s>"));
        rf__free(s);
        RF_CHECK(rf__tokenizer_decode(t, ids, 3, false, false, &s, &l, &err) == RF_OK);
        RF_CHECK(s && !strcmp(s, " hello"));
        rf__free(s);
        RF_CHECK(rf__tokenizer_decode(t, ids + 1, 1, false, false, &s, &l, &err) == RF_OK);
        RF_CHECK(s && !strcmp(s, "hello"));
        rf__free(s);
    }
    RF_CHECK(rf__tokenizer_is_eog(t, 2) && !rf__tokenizer_is_eog(t, 1));
    RF_CHECK(rf__tokenizer_is_eog(t, id_of(t, "<|end|>"))); /* recognised by its text */
    RF_CHECK(rf__tokenizer_nl(t) == id_of(t, "<0x0A>"));
    rf__tokenizer_free(t);

    /* Phi-3 models: special tokens eat the spaces after them */
    t = synth_spm("Phi3", &err);
    RF_CHECK(t != NULL);
    if (t) {
        RF_CHECK(ENC(t, "<|user|>  a", false, false, "<|user|>", SP "a"));
        RF_CHECK(ENC(t, "<|end|>  a", false, true, "<|end|>", SP "a"));
        rf__tokenizer_free(t);
    }
}

static void test_bpe(void) {
    rf_err err = {0};
    rf_tokenizer *t = synth_bpe("gpt-2", NULL, &err);
    RF_CHECK(t != NULL);
    if (!t) return;
    RF_CHECK(rf__tokenizer_kind(t) == RF_TOK_BPE);
    RF_CHECK(!strcmp(rf__tokenizer_pre(t), "gpt-2"));
    RF_CHECK(ENC(t, " hello world", false, false, "\xc4\xa0hello", "\xc4\xa0world"));
    RF_CHECK(ENC(t, "it's", false, false, "i", "t", "'s"));
    RF_CHECK(ENC(t, " it's", false, false, "\xc4\xa0it", "'s"));
    /* "zq" merges but is no token: its bytes come out one by one */
    RF_CHECK(ENC(t, "zq", false, false, "z", "q"));
    /* malformed UTF-8 becomes U+FFFD (as bytes EF BF BD) */
    RF_CHECK(ENC(t, "\xff", false, false, "\xc3\xaf", "\xc2\xbf", "\xc2\xbd"));
    RF_CHECK(ENC(t, "a\0", false, false, "a", "\xc4\x80"));
    /* specials: control text needs parse_special, user-defined does not */
    RF_CHECK(ENC(t, "<|im_start|>", false, true, "<|im_start|>"));
    RF_CHECK(ENC(t, "<tool>x", false, false, "<tool>", "x"));
    {
        int32_t *ids = NULL;
        size_t n = 0;
        RF_CHECK(rf__tokenizer_encode(t, "<|im_start|>", 12, false, false, &ids, &n, &err) == RF_OK);
        RF_CHECK(n > 1);
        for (size_t i = 0; i < n; i++) RF_CHECK(ids[i] != id_of(t, "<|im_start|>"));
        rf__free(ids);
    }
    /* longest special text first: "<|im_end|>" inside a longer control text */
    RF_CHECK(ENC(t, "<|endoftext|><|im_end|>", false, true, "<|endoftext|>", "<|im_end|>"));
    /* clean-up of tokenization spaces (gpt-2 has it) */
    {
        int32_t ids[] = {id_of(t, "a"), id_of(t, "\xc4\xa0"), id_of(t, ","), id_of(t, "\xc4\xa0"), id_of(t, "'s")};
        char *s = NULL;
        size_t l;
        RF_CHECK(rf__tokenizer_decode(t, ids, 5, false, true, &s, &l, &err) == RF_OK);
        RF_CHECK(s && !strcmp(s, "a,'s"));
        rf__free(s);
    }
    /* control tokens render only when asked */
    {
        const char *p;
        size_t l;
        int32_t eot = id_of(t, "<|endoftext|>");
        RF_CHECK(rf__tokenizer_token_to_piece(t, eot, true, &p, &l, &err) == RF_OK && l == 13);
        RF_CHECK(rf__tokenizer_token_to_piece(t, eot, false, &p, &l, &err) == RF_OK && l == 0);
        RF_CHECK(rf__tokenizer_is_eog(t, eot) && rf__tokenizer_eot(t) == eot);
    }
    rf__tokenizer_free(t);

    /* byte-level BPE is lossless on well-formed UTF-8 (qwen2: no clean-up) */
    t = synth_bpe("qwen2", NULL, &err);
    RF_CHECK(t != NULL);
    if (t) {
        srand(7);
        static const char *const bits[] = {" ", "  ", "\n", "\r\n", "\t", "a", "The", "'s", "'LL", "123456",
                                           "\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\xa6\x99", "e\xcc\x81", ",", "!?",
                                           "\xc2\xa0", "\xe3\x80\x80", "\xef\xbb\xbf", "\xe2\x80\x8b"};
        for (int it = 0; it < 300; it++) {
            char buf[256];
            size_t n = 0;
            int k = rand() % 12;
            for (int j = 0; j < k; j++) {
                const char *b = bits[rand() % (int)(sizeof bits / sizeof *bits)];
                size_t l = strlen(b);
                memcpy(buf + n, b, l);
                n += l;
            }
            size_t ol;
            char *r = roundtrip(t, buf, n, &ol);
            RF_CHECK(r && ol == n && memcmp(r, buf, n) == 0);
            rf__free(r);
        }
        rf__tokenizer_free(t);
    }
    /* llama3 adds BOS by default */
    t = synth_bpe("llama3", NULL, &err);
    RF_CHECK(t && rf__tokenizer_add_bos(t));
    rf__tokenizer_free(t);
}

static void test_wpm(void) {
    rf_err err = {0};
    rf_tokenizer *t = synth_wpm(&err);
    RF_CHECK(t != NULL);
    if (!t) return;
    RF_CHECK(ENC(t, "Hello, WORLD!", true, false, "[CLS]", SP "hello", SP ",", SP "world", SP "!", "[SEP]"));
    RF_CHECK(ENC(t, "Unaffable", false, false, SP "un", "aff", "able"));
    RF_CHECK(ENC(t, "caf\xc3\xa9 e\xcc\x81", false, false, SP "cafe", SP "e"));
    RF_CHECK(ENC(t, "\xe6\x97\xa5\xe6\x9c\xac", false, false, SP "\xe6\x97\xa5", SP "\xe6\x9c\xac"));
    RF_CHECK(ENC(t, "xyz hello", false, false, "[UNK]", SP "hello"));
    RF_CHECK(ENC(t, "$12", false, false, SP "$", SP "1", "2"));
    RF_CHECK(ENC(t, "\0a\tb\xff", false, false, SP "a", SP "b"));
    RF_CHECK(ENC(t, " \n ", false, false, (const char *)NULL));
    rf__tokenizer_free(t);
}

static void test_ugm(void) {
    rf_err err = {0};
    rf_tokenizer *t = synth_ugm(true, &err);
    RF_CHECK(t != NULL);
    if (!t) return;
    RF_CHECK(rf__tokenizer_kind(t) == RF_TOK_UGM && rf__tokenizer_eos(t) == 1 && rf__tokenizer_unk(t) == 2);
    RF_CHECK(ENC(t, "the hello", false, false, SP "the", SP "hello"));
    RF_CHECK(ENC(t, "  the   hello  ", true, false, SP "the", SP "hello", "</s>")); /* extra spaces go */
    RF_CHECK(ENC(t, "\xef\xbc\xa1\xef\xbc\xa2", false, false, SP "A", "B")); /* full width folded */
    RF_CHECK(ENC(t, "\xef\xac\x81ne", false, false, SP "fi", "ne"));        /* ligature unfolded */
    RF_CHECK(ENC(t, "a\xc2\xa0" "and", false, false, SP, "a", SP "and"));     /* NBSP is a space */
    RF_CHECK(ENC(t, "<extra_id_0>x", false, false, "<extra_id_0>", SP, "<unk>"));
    RF_CHECK(ENC(t, "qqq", false, false, SP, "<unk>"));                   /* unknowns merge */
    RF_CHECK(ENC(t, "\xff" "12", false, false, SP, "<unk>", "12"));
    rf__tokenizer_free(t);
    t = synth_ugm(false, &err);
    RF_CHECK(t != NULL);
    if (t) {
        RF_CHECK(ENC(t, "\xef\xbc\xa1\xef\xbc\xa2", false, false, SP, "<unk>"));
        rf__tokenizer_free(t);
    }
}

static void test_invalid_ids_and_stream(void) {
    rf_err err = {0};
    rf_tokenizer *t = synth_spm(NULL, &err);
    RF_CHECK(t != NULL);
    if (!t) return;
    uint32_t nv = rf__tokenizer_n_vocab(t);
    int32_t bad[][2] = {{5, -1}, {5, (int32_t)nv}, {INT32_MIN, 5}, {INT32_MAX, 5}};
    for (int i = 0; i < 4; i++) {
        char *s = (char *)1;
        size_t l = 7;
        err.msg[0] = 0;
        RF_CHECK(rf__tokenizer_decode(t, bad[i], 2, false, true, &s, &l, &err) == RF_ERR_RANGE);
        RF_CHECK(s == NULL && err.msg[0] != 0);
    }
    const char *p;
    size_t l;
    RF_CHECK(rf__tokenizer_token_to_piece(t, -3, true, &p, &l, &err) == RF_ERR_RANGE);
    RF_CHECK(rf__tokenizer_token_to_piece(t, (int32_t)nv, true, &p, &l, &err) == RF_ERR_RANGE);
    RF_CHECK(!rf__tokenizer_is_eog(t, -1) && !rf__tokenizer_is_eog(t, (int32_t)nv));
    RF_CHECK(rf__tokenizer_token_text(t, -1, &l) == NULL && rf__tokenizer_token_attr(t, (int32_t)nv) == 0);

    /* streaming: a 4-byte character split over byte tokens comes out whole */
    int32_t *ids = NULL;
    size_t n = 0;
    const char emoji[] = "\xf0\x9f\x98\x80";
    RF_CHECK(rf__tokenizer_encode(t, emoji, 4, false, false, &ids, &n, &err) == RF_OK);
    RF_CHECK(n == 5); /* ▁ + 4 byte tokens */
    rf_tok_stream *st = NULL;
    RF_CHECK(rf__tok_stream_create(t, true, true, &st, &err) == RF_OK);
    if (st && n == 5) {
        const char *o;
        size_t ol;
        RF_CHECK(rf__tok_stream_push(st, ids[0], &o, &ol, &err) == RF_OK && ol == 0); /* stripped space */
        for (int i = 1; i < 4; i++) RF_CHECK(rf__tok_stream_push(st, ids[i], &o, &ol, &err) == RF_OK && ol == 0);
        RF_CHECK(rf__tok_stream_push(st, ids[4], &o, &ol, &err) == RF_OK && ol == 4 && !memcmp(o, emoji, 4));
        /* a sequence cut short by a new character: U+FFFD, then the character */
        RF_CHECK(rf__tok_stream_push(st, id_of(t, "<0xE6>"), &o, &ol, &err) == RF_OK && ol == 0);
        RF_CHECK(rf__tok_stream_push(st, id_of(t, "<0x97>"), &o, &ol, &err) == RF_OK && ol == 0);
        RF_CHECK(rf__tok_stream_push(st, id_of(t, "e"), &o, &ol, &err) == RF_OK);
        RF_CHECK(ol == 4 && !memcmp(o, "\xef\xbf\xbd" "e", 4));
        /* stray continuation byte and invalid lead bytes */
        RF_CHECK(rf__tok_stream_push(st, id_of(t, "<0x80>"), &o, &ol, &err) == RF_OK);
        RF_CHECK(ol == 3 && !memcmp(o, "\xef\xbf\xbd", 3));
        RF_CHECK(rf__tok_stream_push(st, id_of(t, "<0xC0>"), &o, &ol, &err) == RF_OK && ol == 3);
        /* incomplete at the end: flush gives U+FFFD */
        RF_CHECK(rf__tok_stream_push(st, id_of(t, "<0xE6>"), &o, &ol, &err) == RF_OK && ol == 0);
        rf__tok_stream_flush(st, &o, &ol);
        RF_CHECK(ol == 3 && !memcmp(o, "\xef\xbf\xbd", 3));
        RF_CHECK(rf__tok_stream_push(st, -1, &o, &ol, &err) == RF_ERR_RANGE);
        /* a surrogate encoding never completes */
        rf__tok_stream_reset(st);
        RF_CHECK(rf__tok_stream_push(st, id_of(t, "<0xED>"), &o, &ol, &err) == RF_OK && ol == 0);
        RF_CHECK(rf__tok_stream_push(st, id_of(t, "<0xA0>"), &o, &ol, &err) == RF_OK);
        RF_CHECK(ol == 6 && !memcmp(o, "\xef\xbf\xbd\xef\xbf\xbd", 6));
    }
    rf__tok_stream_free(st);
    rf__free(ids);
    rf__tokenizer_free(t);
}

/* ---- malformed vocabularies ---- */

static rf_status try_vocab(const char *model, const char *const *toks, size_t n, const int32_t *types,
                           const char *const *merges, size_t nm, int64_t bos, rf_err *err) {
    rf_tok_text tt[32], mm[8];
    rf_vocab_desc d;
    rf_tokenizer *t = NULL;
    for (size_t i = 0; i < n; i++) tt[i] = (rf_tok_text){toks[i], strlen(toks[i])};
    for (size_t i = 0; i < nm; i++) mm[i] = (rf_tok_text){merges[i], strlen(merges[i])};
    rf__vocab_desc_init(&d);
    d.model = model;
    d.n_tokens = (uint32_t)n;
    d.tokens = tt;
    d.types = types;
    d.n_merges = (uint32_t)nm;
    d.merges = nm ? mm : NULL;
    d.bos = bos;
    err->msg[0] = 0;
    rf_status st = rf__tokenizer_create(&d, &t, err);
    if (st == RF_OK) RF_CHECK(t != NULL);
    else RF_CHECK(t == NULL && err->msg[0] != 0);
    rf__tokenizer_free(t);
    return st;
}

static void test_bad_vocab(void) {
    rf_err err;
    size_t base = rf__alloc_live_blocks();
    const char *ok[] = {"<unk>", "<s>", "</s>", "a", "b", "ab"};
    int32_t ty[] = {2, 3, 3, 1, 1, 1};
    const char *mg[] = {"a b"};
    RF_CHECK(try_vocab("llama", ok, 6, ty, NULL, 0, RF_TOK_UNSET, &err) == RF_OK);
    RF_CHECK(try_vocab("gpt2", ok, 6, ty, mg, 1, 1, &err) == RF_OK);
    /* special id beyond the vocabulary */
    RF_CHECK(try_vocab("llama", ok, 6, ty, NULL, 0, 6, &err) == RF_ERR_FORMAT);
    RF_CHECK(strstr(err.msg, "BOS") != NULL);
    RF_CHECK(try_vocab("llama", ok, 6, ty, NULL, 0, (int64_t)1 << 40, &err) == RF_ERR_FORMAT);
    /* merges naming unknown tokens, or not two tokens */
    const char *mg_bad[][1] = {{"a c"}, {"ab"}, {" a"}, {"a "}};
    for (int i = 0; i < 4; i++) RF_CHECK(try_vocab("gpt2", ok, 6, ty, mg_bad[i], 1, 1, &err) == RF_ERR_FORMAT);
    RF_CHECK(try_vocab("gpt2", ok, 6, ty, NULL, 0, 1, &err) == RF_ERR_FORMAT); /* BPE without merges */
    /* malformed byte tokens */
    const char *bytes_bad[][1] = {{"<0x-1>"}, {"<0x1>"}, {"<0xGG>"}, {"<0x0A"}, {"0x0A>"}, {"<0x0AB>"}};
    for (int i = 0; i < 6; i++) {
        const char *v[] = {"<unk>", "<s>", "</s>", bytes_bad[i][0]};
        int32_t tv[] = {2, 3, 3, 6};
        RF_CHECK(try_vocab("llama", v, 4, tv, NULL, 0, RF_TOK_UNSET, &err) == RF_ERR_FORMAT);
    }
    /* absurdly long token string */
    char *longtok = malloc(RF_TOK_MAX_TOKEN_BYTES + 2);
    memset(longtok, 'x', RF_TOK_MAX_TOKEN_BYTES + 1);
    longtok[RF_TOK_MAX_TOKEN_BYTES + 1] = 0;
    {
        const char *v[] = {"<unk>", "<s>", "</s>", longtok};
        RF_CHECK(try_vocab("llama", v, 4, NULL, NULL, 0, RF_TOK_UNSET, &err) == RF_ERR_FORMAT);
        longtok[RF_TOK_MAX_TOKEN_BYTES] = 0;
        RF_CHECK(try_vocab("llama", v, 4, NULL, NULL, 0, RF_TOK_UNSET, &err) == RF_OK);
    }
    free(longtok);
    /* duplicates, unknown model or pre-tokenizer, empty vocabulary */
    const char *dup[] = {"<unk>", "<s>", "</s>", "a", "a"};
    RF_CHECK(try_vocab("llama", dup, 5, NULL, NULL, 0, RF_TOK_UNSET, &err) == RF_ERR_FORMAT);
    RF_CHECK(try_vocab("rwkv-nope", ok, 6, ty, NULL, 0, RF_TOK_UNSET, &err) == RF_ERR_UNSUPPORTED);
    RF_CHECK(try_vocab("llama", ok, 0, ty, NULL, 0, RF_TOK_UNSET, &err) == RF_ERR_FORMAT);
    /* add_bos without a BOS token */
    RF_CHECK(try_vocab("llama", ok, 6, ty, NULL, 0, -1, &err) == RF_ERR_FORMAT);
    {
        rf_tok_text tt[6];
        rf_tok_text mm[1] = {{"a b", 3}};
        for (int i = 0; i < 6; i++) tt[i] = (rf_tok_text){ok[i], strlen(ok[i])};
        rf_vocab_desc d;
        rf_tokenizer *t = NULL;
        rf__vocab_desc_init(&d);
        d.model = "gpt2";
        d.pre = "no-such-pre";
        d.n_tokens = 6;
        d.tokens = tt;
        d.n_merges = 1;
        d.merges = mm;
        RF_CHECK(rf__tokenizer_create(&d, &t, &err) == RF_ERR_UNSUPPORTED && t == NULL);
        /* charsmap too short, or its double array larger than the blob */
        uint8_t cm[8] = {16, 0, 0, 0, 1, 2, 3, 4};
        d.model = "t5";
        d.pre = NULL;
        d.n_merges = 0;
        d.merges = NULL;
        d.charsmap = cm;
        d.charsmap_len = 3;
        RF_CHECK(rf__tokenizer_create(&d, &t, &err) == RF_ERR_FORMAT && t == NULL);
        d.charsmap_len = 8;
        RF_CHECK(rf__tokenizer_create(&d, &t, &err) == RF_ERR_FORMAT && t == NULL);
        /* a charsmap whose entries point nowhere is tolerated at run time */
        uint8_t cm2[16] = {8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 'x', 0, 'y', 0};
        d.charsmap = cm2;
        d.charsmap_len = sizeof cm2;
        RF_CHECK(rf__tokenizer_create(&d, &t, &err) == RF_OK);
        if (t) {
            int32_t *ids = NULL;
            size_t n;
            RF_CHECK(rf__tokenizer_encode(t, "ab\xff", 3, true, true, &ids, &n, &err) == RF_OK);
            rf__free(ids);
            rf__tokenizer_free(t);
        }
    }
    RF_CHECK(rf__alloc_live_blocks() == base);
}

/* ---- the GGUF loader ---- */

static rf_status load_from_writer(rf_gguf_writer *w, rf_tokenizer **t, rf_err *err) {
    void *buf = NULL;
    size_t size = 0;
    rf_gguf *g = NULL;
    rf_status st = rf_gguf_writer_write_buffer(w, &buf, &size, err);
    if (!st) st = rf_gguf_open_buffer(buf, size, &g, err);
    if (!st) st = rf__tokenizer_load(g, t, err);
    rf_gguf_free(g);
    rf__free(buf);
    return st;
}

static void test_gguf_loader(void) {
    static const char *const toks[] = {"<unk>", "<s>", "</s>", "\xe2\x96\x81h", "i", "\xe2\x96\x81hi"};
    const float scores[] = {0, 0, 0, -1, -2, -0.5f};
    const int32_t types[] = {2, 3, 3, 1, 1, 1};
    rf_err err = {0};
    size_t base = rf__alloc_live_blocks();
    for (int variant = 0; variant < 7; variant++) {
        rf_gguf_writer *w = NULL;
        rf_tokenizer *t = NULL;
        RF_CHECK(rf_gguf_writer_create(&w) == RF_OK);
        if (!w) return;
        rf_gguf_writer_set_str(w, "general.architecture", "llama");
        rf_gguf_writer_set_str(w, "tokenizer.ggml.model", variant == 6 ? "nope" : "llama");
        rf_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, 6);
        rf_gguf_writer_set_arr(w, "tokenizer.ggml.scores", RF_GGUF_F32, scores, variant == 1 ? 5 : 6);
        if (variant == 2) rf_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", RF_GGUF_F32, scores, 6);
        else rf_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", RF_GGUF_I32, types, 6);
        rf_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", variant == 3 ? 6 : 1);
        if (variant == 4) rf_gguf_writer_set_str(w, "tokenizer.ggml.eos_token_id", "2");
        else rf_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
        if (variant == 5) rf_gguf_writer_set_i32(w, "tokenizer.ggml.padding_token_id", -1);
        rf_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", true);
        rf_status st = load_from_writer(w, &t, &err);
        if (variant == 0 || variant == 5) {
            RF_CHECK(st == RF_OK && t != NULL);
            if (t) {
                RF_CHECK(ENC(t, "hi", true, false, "<s>", SP "hi"));
                RF_CHECK(rf__tokenizer_pad(t) == -1);
            }
        } else if (variant == 6) {
            RF_CHECK(st == RF_ERR_UNSUPPORTED);
        } else {
            RF_CHECK(st == RF_ERR_FORMAT && t == NULL && err.msg[0] != 0);
        }
        rf__tokenizer_free(t);
        rf_gguf_writer_free(w);
    }
    RF_CHECK(rf__alloc_live_blocks() == base);
}

/* ---- allocation failures ---- */

static void test_alloc_failures(void) {
    rf_err err;
    size_t base = rf__alloc_live_blocks();
    int nomem = 0;
    for (long k = 0; k < 4000; k += (k < 200 ? 1 : 37)) {
        rf__alloc_fail_after(k);
        rf_tokenizer *t = synth_bpe("default", NULL, &err);
        bool failed = rf__alloc_failed_injected();
        rf__alloc_fail_after(-1);
        if (!t) {
            RF_CHECK(failed);
            nomem++;
            RF_CHECK(rf__alloc_live_blocks() == base);
            continue;
        }
        rf__alloc_fail_after(k % 40);
        int32_t *ids = NULL;
        size_t n = 0;
        rf_status st = rf__tokenizer_encode(t, "Hello <|im_start|> world 123 \xe6\x97\xa5!", 33, true, true, &ids, &n, &err);
        failed = rf__alloc_failed_injected();
        rf__alloc_fail_after(-1);
        RF_CHECK(st == RF_OK || (st == RF_ERR_NOMEM && failed && ids == NULL));
        rf__free(ids);
        rf__tokenizer_free(t);
        RF_CHECK(rf__alloc_live_blocks() == base);
    }
    RF_CHECK(nomem > 10);
}

/* ---- linear time on 10 MB ---- */

/* Process CPU time, so that a busy machine disturbs the ratios less. */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double time_encode(const rf_tokenizer *t, const char *s, size_t n, size_t *n_ids) {
    int32_t *ids = NULL;
    rf_err err;
    double t0 = cpu_now();
    rf_status st = rf__tokenizer_encode(t, s, n, false, false, &ids, n_ids, &err);
    double dt = cpu_now() - t0;
    RF_CHECK(st == RF_OK);
    rf__free(ids);
    return dt;
}

/* 10 MB (2 MB under the sanitizers) in seconds, and about 10x the time of a
 * tenth of it: no quadratic corner, even for one 10 MB word. */
static void test_large_inputs(void) {
    const size_t big = RF_SANITIZED ? (size_t)2 << 20 : (size_t)10 << 20;
    rf_err err;
    rf_tokenizer *tk[5] = {synth_bpe("gpt-2", NULL, &err), synth_bpe("qwen2", NULL, &err), synth_spm(NULL, &err),
                           synth_wpm(&err), synth_ugm(true, &err)};
    const char *names[] = {"bpe gpt-2", "bpe qwen2", "spm", "wpm", "ugm"};
    static const char *const pat_names[] = {"mixed text", "one word", "spaces", "random ab"};
    /* which tokenizers run on which pattern */
    static const int use[4][5] = {{1, 1, 1, 1, 1}, {1, 0, 1, 1, 1}, {1, 0, 1, 0, 1}, {0, 1, 0, 0, 0}};
    char *text = malloc(big);
    static const char *const words[] = {"the ", "hello ", "world", "  ", "\n", "123 ", "\xe6\x97\xa5\xe6\x9c\xac ", "x"};
    for (int pattern = 0; pattern < 4; pattern++) {
        srand(11);
        for (size_t i = 0; i < big;) {
            if (pattern == 0) {
                const char *w = words[rand() % 8];
                size_t l = RF_MIN(strlen(w), big - i);
                memcpy(text + i, w, l);
                i += l;
            } else {
                text[i++] = pattern == 1 ? 'a' : pattern == 2 ? ' ' : "ab"[rand() % 2];
            }
        }
        for (int k = 0; k < 5; k++) {
            if (!tk[k] || !use[pattern][k]) continue;
            size_t n1, n2;
            double t1 = time_encode(tk[k], text, big / 10, &n1);
            double t2 = time_encode(tk[k], text, big, &n2);
            fprintf(stderr, "  %-9s %-10s: %zu bytes -> %zu ids in %.2f s cpu (a tenth: %.3f s)\n", names[k],
                    pat_names[pattern], big, n2, t2, t1);
            RF_CHECK(n2 > 0 || (k >= 3 && pattern == 2)); /* WPM and UGM drop spaces */
            RF_CHECK(t2 < 35.0 * t1 + 0.5); /* a cache-resident tenth makes the ratio exceed 10 */
            if (!RF_SANITIZED) RF_CHECK(t2 < 20.0);
        }
    }
    free(text);
    for (int k = 0; k < 5; k++) rf__tokenizer_free(tk[k]);
}

int main(void) {
    test_spm();
    test_bpe();
    test_wpm();
    test_ugm();
    test_invalid_ids_and_stream();
    test_bad_vocab();
    test_gguf_loader();
    test_alloc_failures();
    test_large_inputs();
    return rf_test_finish("test_tokenizer");
}
