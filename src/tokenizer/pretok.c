/*
 * pretok.c - BPE pre-tokenizers: the regular expressions llama.cpp applies for
 * each tokenizer.ggml.pre, run with PCRE2 in UTF mode, plus hand-written
 * splitters for the two most common expressions (GPT-2 and Llama 3).
 *
 * The expressions are applied one after the other, each refining the pieces
 * of the previous one: both the matches and the text between them become
 * pieces. Like llama.cpp, an expression that uses Unicode properties (\p{..})
 * is matched against a copy of the text in which every non-ASCII code point
 * is replaced by one representative of its class (letter, number,
 * punctuation, mark, symbol, other) and every non-ASCII white space by \v; an
 * expression without them sees the code points themselves, again with
 * non-ASCII white space as \v. \s then only has to match ASCII white space,
 * which is what PCRE2 does without PCRE2_UCP. This makes the results follow
 * the code point classes of unicode_tables.c rather than PCRE2's own tables.
 */
#include <stdio.h>
#include <string.h>

#include "tokenizer/tok_internal.h"

/* ---- the expressions ---- */

#define RX_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define RX_CONTRACT "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
#define RX_LLAMA3 RX_CONTRACT "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RX_QWEN2 RX_CONTRACT "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RX_PORO " ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{ff0c}\\x{3001}\\x{0964}\\x{06d4}\\x{060c})]+"
#define RX_CJK "[\\x{4e00}-\\x{9fa5}\\x{0800}-\\x{4e00}\\x{ac00}-\\x{d7ff}]+"
/* Tekken and GPT-4o: llama.cpp writes "letter but not a-z" as
 * ((?=[\p{L}])([^a-z])). On the class-representative text every non-ASCII
 * letter is U+00AA, so the same set is the class [A-Z\x{aa}] (and
 * [a-z\x{aa}] for "letter but not A-Z"), which needs no backtracking stack. */
#define RX_UP "[A-Z\\x{aa}]"
#define RX_LO "[a-z\\x{aa}]"
#define RX_TEKKEN "[^\\r\\n\\p{L}\\p{N}]?" RX_UP "*" RX_LO "+|[^\\r\\n\\p{L}\\p{N}]?" RX_UP "+" RX_LO "*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RX_GPT4O "[^\\r\\n\\p{L}\\p{N}]?" RX_UP "*" RX_LO "+" RX_CONTRACT "?|[^\\r\\n\\p{L}\\p{N}]?" RX_UP "+" RX_LO "*" RX_CONTRACT "?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/* Marks for the hand-written splitters (never compiled). */
#define RX_SPLIT_GPT2 "\001gpt2"
#define RX_SPLIT_LLAMA3 "\001llama3"
#define RX_SPLIT_WS_END "\001wsend" /* \s+$ */

enum { PRE_NO_CLEAN = 1, PRE_IGNORE_MERGES = 2, PRE_ADD_BOS = 4, PRE_NO_BOS = 8 };

typedef struct pre_def {
    const char *names; /* '|'-separated */
    unsigned flags;
    const char *rx[RF_PRETOK_MAX_RX + 1];
} pre_def;

static const pre_def pre_defs[] = {
    {"default", 0,
     {"[\\p{P}\\$\\+<=>\\^~\\|]+", RX_SPLIT_GPT2, "\\p{N}+", "[0-9][0-9][0-9]", NULL}},
    {"llama3|llama-v3|llama-bpe|falcon3|falcon-h1|pixtral|midm-2.0|lfm2|jina-v5-nano",
     PRE_IGNORE_MERGES | PRE_ADD_BOS, {RX_SPLIT_LLAMA3, NULL}},
    {"dbrx|smaug-bpe", 0, {RX_SPLIT_LLAMA3, NULL}},
    {"chatglm-bpe|glm4", PRE_NO_BOS, {RX_SPLIT_LLAMA3, NULL}},
    {"deepseek-llm", PRE_NO_CLEAN,
     {"[\r\n]",
      "\\s?[A-Za-z\\x{b5}\\x{c0}-\\x{d6}\\x{d8}-\\x{f6}\\x{f8}-\\x{1ba}\\x{1bc}-\\x{1bf}\\x{1c4}-\\x{293}"
      "\\x{295}-\\x{2af}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37b}-\\x{37d}\\x{37f}\\x{386}\\x{388}-\\x{38a}"
      "\\x{38c}\\x{38e}-\\x{3a1}\\x{3a3}-\\x{3f5}\\x{3f7}-\\x{481}\\x{48a}-\\x{52f}\\x{531}-\\x{556}"
      "\\x{10a0}-\\x{10c5}\\x{13a0}-\\x{13f5}\\x{13f8}-\\x{13fd}\\x{1c90}-\\x{1cba}\\x{1cbd}-\\x{1cbf}"
      "\\x{1d00}-\\x{1d2b}\\x{1d6b}-\\x{1d77}\\x{1d79}-\\x{1d9a}\\x{1e00}-\\x{1f15}\\x{1f18}-\\x{1f1d}"
      "\\x{1f20}-\\x{1f45}\\x{1f48}-\\x{1f4d}\\x{1f50}-\\x{1f57}\\x{1f59}\\x{1f5b}\\x{1f5d}\\x{1f5f}-\\x{1f7d}"
      "\\x{1f80}-\\x{1fb4}\\x{1fb6}-\\x{1fbc}\\x{1fbe}\\x{1fc2}-\\x{1fc4}\\x{1fc6}-\\x{1fcc}\\x{1fd0}-\\x{1fd3}"
      "\\x{1fd6}-\\x{1fdb}\\x{1fe0}-\\x{1fec}\\x{1ff2}-\\x{1ff4}\\x{1ff6}-\\x{1ffc}\\x{2102}\\x{2107}"
      "\\x{210a}-\\x{2113}\\x{2115}\\x{2119}-\\x{211d}\\x{2124}\\x{2126}\\x{2128}\\x{212a}-\\x{212d}"
      "\\x{212f}-\\x{2134}\\x{2139}\\x{213c}-\\x{213f}\\x{2145}-\\x{2149}\\x{214e}\\x{2183}\\x{2184}"
      "\\x{2c00}-\\x{2c7b}\\x{2c7e}-\\x{2ce4}\\x{2ceb}-\\x{2cee}\\x{2cf2}\\x{2cf3}\\x{a640}-\\x{a66d}"
      "\\x{a680}-\\x{a69b}\\x{a722}-\\x{a76f}\\x{a771}-\\x{a787}\\x{a78b}-\\x{a78e}\\x{ab70}-\\x{abbf}"
      "\\x{fb00}-\\x{fb06}\\x{fb13}-\\x{fb17}\\x{ff21}-\\x{ff3a}\\x{ff41}-\\x{ff5a}\\x{10400}-\\x{1044f}"
      "\\x{104b0}-\\x{104d3}\\x{104d8}-\\x{104fb}\\x{10c80}-\\x{10cb2}\\x{10cc0}-\\x{10cf2}"
      "\\x{118a0}-\\x{118df}\\x{1e900}-\\x{1e943}]+",
      "\\s?[!-/:-~\\x{ff01}-\\x{ff0f}\\x{ff1a}-\\x{ff5e}\\x{2018}-\\x{201f}\\x{3000}-\\x{3002}]+",
      RX_SPLIT_WS_END, RX_CJK, "\\p{N}+", NULL}},
    {"deepseek-coder", PRE_NO_CLEAN, {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", RX_CJK, "\\p{N}", NULL}},
    {"falcon", 0, {"[\\p{P}\\$\\+<=>\\^~\\|`]+", RX_SPLIT_GPT2, "[0-9][0-9][0-9]", NULL}},
    {"starcoder|refact|codeshell|exaone|minerva-7b|mellum2", 0, {"\\p{N}", RX_SPLIT_GPT2, NULL}},
    {"command-r|smollm", PRE_NO_CLEAN, {"\\p{N}", RX_SPLIT_GPT2, NULL}},
    {"gpt-2|phi-2|jina-es|jina-de|gigachat|jina-v2-es|jina-v2-de|a.x-4.0|mellum|modern-bert|exaone4|mpt|olmo|jais",
     0, {RX_SPLIT_GPT2, NULL}},
    {"trillion|granite-docling", PRE_NO_CLEAN, {RX_SPLIT_GPT2, NULL}},
    {"stablelm2|megrez", 0, {RX_QWEN2, NULL}},
    {"qwen2|deepseek-r1-qwen|kormo|f2llmv2|hunyuan|solar-open|grok-2", PRE_NO_CLEAN, {RX_QWEN2, NULL}},
    {"poro-chat", PRE_NO_CLEAN, {RX_PORO, NULL}},
    {"bloom|gpt3-finnish", 0, {RX_PORO, NULL}},
    {"viking", PRE_NO_CLEAN, {RX_PORO, "\\p{N}", NULL}},
    {"tekken", PRE_NO_CLEAN | PRE_IGNORE_MERGES | PRE_ADD_BOS, {RX_TEKKEN, NULL}},
    {"gpt-4o|llama4|kanana2|talkie", PRE_NO_CLEAN, {RX_GPT4O, NULL}},
    {"chameleon", PRE_NO_CLEAN | PRE_ADD_BOS,
     {"<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )", "\\p{N}",
      "[\\p{P}!-/:-@\\[-`{-~]", RX_SPLIT_GPT2}},
    {"seed-coder", PRE_NO_CLEAN,
     {RX_CONTRACT "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", NULL}},
    {"bailingmoe|bailingmoe2|llada-moe", PRE_NO_CLEAN,
     {"'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+", NULL}},
    {"ufakzeka", PRE_NO_CLEAN,
     {"[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", NULL}},
    {"minicpm5", PRE_IGNORE_MERGES,
     {"\\p{N}{1,3}", RX_CONTRACT "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", NULL}},
    {"qwen35", PRE_NO_CLEAN,
     {RX_CONTRACT "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", NULL}},
};

static bool name_in(const char *names, const char *name) {
    size_t n = strlen(name);
    for (const char *p = names; *p;) {
        const char *e = strchr(p, '|');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && memcmp(p, name, n) == 0) return true;
        if (!e) break;
        p = e + 1;
    }
    return false;
}

static void *pc_malloc(size_t n, void *u) {
    (void)u;
    return rf__malloc(n);
}
static void pc_free(void *p, void *u) {
    (void)u;
    rf__free(p);
}

rf_status rf__pretok_init(rf_tokenizer *t, const char *name, rf_err *err) {
    const pre_def *def = NULL;
    rf__pretok *p = &t->pretok;
    for (size_t i = 0; i < RF_ARRAY_LEN(pre_defs) && !def; i++)
        if (name_in(pre_defs[i].names, name)) def = &pre_defs[i];
    if (!def) return rf__err(err, RF_ERR_UNSUPPORTED, "unsupported pre-tokenizer '%.64s'", name);
    snprintf(t->pre_name, sizeof t->pre_name, "%s", name);
    if (def->flags & PRE_NO_CLEAN) t->clean_spaces = false;
    if (def->flags & PRE_IGNORE_MERGES) t->ignore_merges = true;
    if (def->flags & PRE_ADD_BOS) t->add_bos = true;
    if (def->flags & PRE_NO_BOS) t->bos = RF_TOK_NULL;
    p->gctx = pcre2_general_context_create(pc_malloc, pc_free, NULL);
    if (!p->gctx) return rf__err(err, RF_ERR_NOMEM, "out of memory");
    pcre2_compile_context *cctx = pcre2_compile_context_create(p->gctx);
    if (!cctx) return rf__err(err, RF_ERR_NOMEM, "out of memory");
    rf_status st = RF_OK;
    for (int i = 0; i < RF_PRETOK_MAX_RX && def->rx[i]; i++) {
        const char *rx = def->rx[i];
        p->n = i + 1;
        if (!strcmp(rx, RX_SPLIT_GPT2)) p->rx[i].kind = RF_RX_GPT2;
        else if (!strcmp(rx, RX_SPLIT_LLAMA3)) p->rx[i].kind = RF_RX_LLAMA3;
        else if (!strcmp(rx, RX_SPLIT_WS_END)) p->rx[i].kind = RF_RX_WS_END;
        else {
            int ec;
            PCRE2_SIZE eo;
            p->rx[i].kind = RF_RX_PCRE;
            p->rx[i].collapsed = strstr(rx, "\\p{") != NULL;
            p->rx[i].code = pcre2_compile((PCRE2_SPTR)rx, PCRE2_ZERO_TERMINATED,
                                          PCRE2_UTF | PCRE2_NO_AUTO_CAPTURE | PCRE2_DOLLAR_ENDONLY |
                                              PCRE2_NEVER_BACKSLASH_C,
                                          &ec, &eo, cctx);
            if (!p->rx[i].code) {
                char msg[128];
                pcre2_get_error_message(ec, (PCRE2_UCHAR *)msg, sizeof msg);
                st = rf__err(err, RF_ERR_INTERNAL, "pre-tokenizer '%s' expression %d: %s at %zu", name, i,
                             msg, (size_t)eo);
                break;
            }
            pcre2_jit_compile(p->rx[i].code, PCRE2_JIT_COMPLETE); /* interpreter if JIT is unavailable */
        }
    }
    pcre2_compile_context_free(cctx);
    return st;
}

void rf__pretok_free(rf__pretok *p) {
    for (int i = 0; i < p->n; i++) pcre2_code_free(p->rx[i].code);
    pcre2_general_context_free(p->gctx);
    memset(p, 0, sizeof *p);
}

/* ---- splitting ---- */

typedef struct bounds {
    uint32_t *v;
    size_t n, cap;
    bool oom;
} bounds;

static inline void bpush(bounds *b, size_t x) {
    if (b->n && b->v[b->n - 1] >= x) return; /* empty piece */
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 64;
        uint32_t *nv = b->oom ? NULL : rf__realloc(b->v, nc * sizeof *nv);
        if (!nv) {
            b->oom = true;
            return;
        }
        b->v = nv;
        b->cap = nc;
    }
    b->v[b->n++] = (uint32_t)x;
}

#define OUT_OF_RANGE 0xFFFFFFFFu
#define NO_FLAGS 0xFFu

typedef struct seg {
    const uint32_t *cp;
    size_t a, b;
} seg;

static inline uint32_t cpt_at(const seg *s, size_t p) { return (p >= s->a && p < s->b) ? s->cp[p] : OUT_OF_RANGE; }
static inline unsigned fl_at(const seg *s, size_t p) {
    return (p >= s->a && p < s->b) ? rf__ucp_flags(s->cp[p]) : NO_FLAGS;
}
static inline bool f_letter(unsigned f) { return f != NO_FLAGS && (f & 7) == RF_UCAT_LETTER; }
static inline bool f_number(unsigned f) { return f != NO_FLAGS && (f & 7) == RF_UCAT_NUMBER; }
static inline bool f_space(unsigned f) { return f != NO_FLAGS && (f & RF_UCP_WHITESPACE); }
/* [^\s\p{L}\p{N}] at a position inside the piece */
static inline bool f_other(unsigned f) { return f != NO_FLAGS && !f_space(f) && !f_letter(f) && !f_number(f); }

/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S) */
static void split_gpt2(const seg *s, bounds *out) {
    size_t pos = s->a;
    while (pos < s->b) {
        uint32_t c = s->cp[pos];
        unsigned f = fl_at(s, pos);
        if (c == '\'' && pos + 1 < s->b) {
            uint32_t n1 = s->cp[pos + 1];
            if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') {
                pos += 2;
                bpush(out, pos);
                continue;
            }
            if (pos + 2 < s->b) {
                uint32_t n2 = s->cp[pos + 2];
                if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) {
                    pos += 3;
                    bpush(out, pos);
                    continue;
                }
            }
        }
        unsigned f2 = c == ' ' ? fl_at(s, pos + 1) : f;
        if (f_letter(f2)) {
            pos += c == ' ';
            while (f_letter(fl_at(s, pos))) pos++;
            bpush(out, pos);
            continue;
        }
        if (f_number(f2)) {
            pos += c == ' ';
            while (f_number(fl_at(s, pos))) pos++;
            bpush(out, pos);
            continue;
        }
        if (f_other(f2)) {
            pos += c == ' ';
            while (f_other(fl_at(s, pos))) pos++;
            bpush(out, pos);
            continue;
        }
        size_t nws = 0;
        while (f_space(fl_at(s, pos + nws))) nws++;
        if (nws > 1 && cpt_at(s, pos + nws) != OUT_OF_RANGE) {
            pos += nws - 1;
            bpush(out, pos);
            continue;
        }
        if (nws > 0) {
            pos += nws;
            bpush(out, pos);
            continue;
        }
        bpush(out, ++pos);
    }
}

/* (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
static void split_llama3(const seg *s, bounds *out) {
    size_t pos = s->a;
    while (pos < s->b) {
        uint32_t c = s->cp[pos];
        unsigned f = fl_at(s, pos);
        if (c == '\'' && pos + 1 < s->b) {
            uint32_t n1 = rf__ucp_tolower(s->cp[pos + 1]);
            if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') {
                pos += 2;
                bpush(out, pos);
                continue;
            }
            if (pos + 2 < s->b) {
                uint32_t n2 = rf__ucp_tolower(s->cp[pos + 2]);
                if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) {
                    pos += 3;
                    bpush(out, pos);
                    continue;
                }
            }
        }
        if (!(c == '\r' || c == '\n' || f_number(f))) {
            if (f_letter(f) || f_letter(fl_at(s, pos + 1))) {
                pos++;
                while (f_letter(fl_at(s, pos))) pos++;
                bpush(out, pos);
                continue;
            }
        }
        if (f_number(f)) {
            size_t ini = pos;
            while (f_number(fl_at(s, pos))) {
                if (++pos - ini >= 3) {
                    bpush(out, pos);
                    ini = pos;
                }
            }
            bpush(out, pos);
            continue;
        }
        unsigned f2 = c == ' ' ? fl_at(s, pos + 1) : f;
        if (!(f_space(f2) || f_letter(f2) || f_number(f2))) { /* f itself is always in range here */
            pos += c == ' ';
            while (f_other(fl_at(s, pos))) pos++;
            uint32_t c2 = cpt_at(s, pos);
            while (c2 == '\r' || c2 == '\n') c2 = cpt_at(s, ++pos);
            bpush(out, pos);
            continue;
        }
        size_t nws = 0, last_rn = 0;
        while (f_space(fl_at(s, pos + nws))) {
            uint32_t c2 = cpt_at(s, pos + nws);
            if (c2 == '\r' || c2 == '\n') last_rn = pos + nws + 1;
            nws++;
        }
        if (last_rn > 0) {
            pos = last_rn;
            bpush(out, pos);
            continue;
        }
        if (nws > 1 && cpt_at(s, pos + nws) != OUT_OF_RANGE) {
            pos += nws - 1;
            bpush(out, pos);
            continue;
        }
        if (nws > 0) {
            pos += nws;
            bpush(out, pos);
            continue;
        }
        bpush(out, ++pos);
    }
}

/* \s+$ : the white space at the end of the piece */
static void split_ws_end(const seg *s, bounds *out) {
    size_t p = s->b;
    while (p > s->a && f_space(fl_at(s, p - 1))) p--;
    bpush(out, p);
    bpush(out, s->b);
}

/* Text as one expression kind sees it (see the top of the file). */
typedef struct subject {
    char *s;
    uint32_t *off; /* byte offset of every code point, plus the end */
    bool built;
} subject;

static uint32_t representative(uint32_t c, bool collapsed) {
    if (c < 0x80) return c;
    unsigned f = rf__ucp_flags(c);
    if (f & RF_UCP_WHITESPACE) return 0x0B;
    if (!collapsed) return (c >= 0xD800 && c <= 0xDFFF) ? 0xFFFF : c;
    switch (f & 7) {
    case RF_UCAT_LETTER: return 0xAA;
    case RF_UCAT_NUMBER: return 0xB2;
    case RF_UCAT_PUNCT: return 0xA1;
    case RF_UCAT_MARK: return 0x300;
    case RF_UCAT_SYMBOL: return 0xA6;
    default: return 0xFFFF;
    }
}

static bool build_subject(subject *sub, const uint32_t *cp, size_t n, bool collapsed) {
    size_t cap = n * 4 + 1;
    sub->s = rf__malloc(cap);
    sub->off = rf__malloc((n + 1) * sizeof *sub->off);
    if (!sub->s || !sub->off) return false;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        sub->off[i] = (uint32_t)k;
        k += rf__utf8_encode(representative(cp[i], collapsed), sub->s + k);
    }
    sub->off[n] = (uint32_t)k;
    sub->built = true;
    return true;
}

/* Code point index of byte offset `byte` (a code point boundary), searching
 * forward from index *hint. */
static size_t cpt_of(const subject *sub, size_t byte, size_t *hint) {
    size_t i = *hint;
    while (sub->off[i] < byte) i++;
    *hint = i;
    return i;
}

static rf_status split_pcre(const rf__pretok *p, int r, const subject *sub, size_t a, size_t b,
                            pcre2_match_data *md, pcre2_match_context *mc, bounds *out, rf_err *err) {
    const PCRE2_SPTR base = (PCRE2_SPTR)sub->s + sub->off[a];
    const size_t len = sub->off[b] - sub->off[a];
    size_t start = 0, hint = a;
    uint32_t opts = PCRE2_NO_UTF_CHECK;
    while (start <= len) {
        int rc = pcre2_match(p->rx[r].code, base, len, start, opts, md, mc);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
            /* JIT stack or limits: retry once with the interpreter */
            rc = pcre2_match(p->rx[r].code, base, len, start, opts | PCRE2_NO_JIT, md, mc);
            if (rc == PCRE2_ERROR_NOMATCH) break;
            if (rc < 0) {
                char msg[128];
                pcre2_get_error_message(rc, (PCRE2_UCHAR *)msg, sizeof msg);
                return rf__err(err, RF_ERR_INTERNAL, "pre-tokenizer match failed: %s", msg);
            }
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t m0 = ov[0], m1 = ov[1];
        bpush(out, cpt_of(sub, sub->off[a] + m0, &hint));
        bpush(out, cpt_of(sub, sub->off[a] + m1, &hint));
        if (m1 > m0) {
            start = m1;
        } else {
            if (m1 >= len) break;
            start = m1 + rf__utf8_lead_len((uint8_t)base[m1]);
        }
    }
    bpush(out, b);
    return RF_OK;
}

rf_status rf__pretok_split(const rf__pretok *p, const uint32_t *cpts, size_t n, uint32_t **bnd,
                           size_t *n_words, rf_err *err) {
    rf_status st = RF_OK;
    bounds cur = {0}, nxt = {0};
    subject subj[2] = {{0}, {0}}; /* [0] code points, [1] class representatives */
    pcre2_match_data *md = NULL;
    pcre2_match_context *mc = NULL;
    *bnd = NULL;
    *n_words = 0;
    if (n > UINT32_MAX / 4) return rf__err(err, RF_ERR_RANGE, "text too long for the pre-tokenizer");
    bpush(&cur, 0);
    if (n) bpush(&cur, n);
    if (cur.oom) goto nomem;
    for (int r = 0; r < p->n && n; r++) {
        nxt.n = 0;
        bpush(&nxt, 0);
        subject *sub = NULL;
        if (p->rx[r].kind == RF_RX_PCRE) {
            sub = &subj[p->rx[r].collapsed ? 1 : 0];
            if (!sub->built && !build_subject(sub, cpts, n, p->rx[r].collapsed)) goto nomem;
            if (!md) {
                md = pcre2_match_data_create(4, p->gctx);
                mc = pcre2_match_context_create(p->gctx);
                if (!md || !mc) goto nomem;
                pcre2_set_match_limit(mc, UINT32_MAX);
                pcre2_set_depth_limit(mc, UINT32_MAX);
            }
        }
        for (size_t i = 0; i + 1 < cur.n; i++) {
            seg s = {cpts, cur.v[i], cur.v[i + 1]};
            switch (p->rx[r].kind) {
            case RF_RX_GPT2: split_gpt2(&s, &nxt); break;
            case RF_RX_LLAMA3: split_llama3(&s, &nxt); break;
            case RF_RX_WS_END: split_ws_end(&s, &nxt); break;
            default:
                if ((st = split_pcre(p, r, sub, s.a, s.b, md, mc, &nxt, err))) goto out;
            }
        }
        if (nxt.oom) goto nomem;
        bounds tmp = cur;
        cur = nxt;
        nxt = tmp;
    }
    if (cur.oom) goto nomem;
    *bnd = cur.v;
    *n_words = cur.n ? cur.n - 1 : 0;
    cur.v = NULL;
    goto out;
nomem:
    st = rf__err(err, RF_ERR_NOMEM, "out of memory in the pre-tokenizer");
out:
    rf__free(cur.v);
    rf__free(nxt.v);
    for (int i = 0; i < 2; i++) {
        rf__free(subj[i].s);
        rf__free(subj[i].off);
    }
    pcre2_match_data_free(md);
    pcre2_match_context_free(mc);
    return st;
}
