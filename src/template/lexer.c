/*
 * lexer.c - template source to tokens, following the rules of jinja2's lexer
 * (3.1) with trim_blocks=True and lstrip_blocks=True:
 *
 *   - line endings \r\n and \r become \n; one trailing newline is dropped
 *   - text runs until the first "{{", "{%" or "{#"
 *   - "{%-", "{{-", "{#-" strip all whitespace before the tag; "{%+" keeps it;
 *     otherwise (lstrip_blocks) spaces and tabs between the start of a line
 *     and a block or comment tag are removed
 *   - "-%}", "-}}", "-#}" strip all whitespace after the tag; "%}" and "#}"
 *     eat one newline (trim_blocks); "+%}" eats nothing
 *   - {% raw %} ... {% endraw %} is text
 *   - inside tags: whitespace, numbers (float before integer, '_' separators,
 *     0b/0o/0x), names, quoted strings with Python escapes, operators;
 *     brackets must balance before a closing delimiter counts
 *
 * "Whitespace" is Python's str.isspace() set. The source must be UTF-8.
 */
#include <string.h>

#include <utf8proc.h>

#include "template/tpl.h"

#define MAX_BALANCE 512

typedef struct lexer {
    tpl_arena *ar;
    const char *src;
    size_t len, pos;
    size_t line_pos;      /* lines counted up to here */
    int line;
    tpl_token *toks;
    size_t n, cap;
    rf_err *err;
    bool line_starting;
    uint8_t bal[MAX_BALANCE];
    int nbal;
} lexer;

static int line_at(lexer *lx, size_t off) {
    if (off < lx->line_pos) { lx->line_pos = 0; lx->line = 1; }
    for (size_t i = lx->line_pos; i < off && i < lx->len; i++)
        if (lx->src[i] == '\n') lx->line++;
    lx->line_pos = off;
    return lx->line;
}

static rf_status lex_fail(lexer *lx, size_t off, const char *msg) {
    return rf__err(lx->err, RF_ERR_TEMPLATE, "template syntax error, line %d: %s",
                   line_at(lx, off), msg);
}

static tpl_token *push(lexer *lx, int type, size_t off) {
    if (lx->n == lx->cap) {
        size_t nc = lx->cap ? lx->cap * 2 : 256;
        tpl_token *t = rf__realloc(lx->toks, nc * sizeof *t);
        if (!t) return NULL;
        lx->toks = t;
        lx->cap = nc;
    }
    tpl_token *t = &lx->toks[lx->n++];
    memset(t, 0, sizeof *t);
    t->type = (uint8_t)type;
    t->line = line_at(lx, off);
    return t;
}

#define PUSH(tok, type, off)                                                        \
    do {                                                                            \
        if (!((tok) = push(lx, (type), (off))))                                     \
            return rf__err(lx->err, RF_ERR_NOMEM, "out of memory lexing template"); \
    } while (0)

static size_t skip_space(const char *s, size_t len, size_t i) {
    size_t k;
    while (i < len && (k = rf__py_space_at(s + i, s + len)) > 0) i += k;
    return i;
}

static bool starts(const lexer *lx, size_t i, const char *lit) {
    size_t n = strlen(lit);
    return i + n <= lx->len && memcmp(lx->src + i, lit, n) == 0;
}

/* Emit the text before a tag, applying '-' stripping or lstrip_blocks. */
static rf_status emit_text(lexer *lx, size_t from, size_t to, char sign, bool is_var) {
    const char *s = lx->src;
    if (sign == '-') {
        size_t k;
        while (to > from && (k = rf__py_space_before(s + from, s + to)) > 0) to -= k;
    } else if (sign != '+' && !is_var) {
        size_t l = to;
        while (l > from && s[l - 1] != '\n') l--;
        if ((l > from || lx->line_starting) && l < to && skip_space(s, to, l) == to) to = l;
    }
    if (to > from) {
        tpl_token *t;
        PUSH(t, TK_DATA, from);
        t->s = s + from;
        t->len = to - from;
    }
    return RF_OK;
}

/* (\d+_)*\d+ at *i */
static bool digits_us(const char *s, size_t len, size_t *i) {
    size_t j = *i;
    if (j >= len || s[j] < '0' || s[j] > '9') return false;
    while (j < len && s[j] >= '0' && s[j] <= '9') j++;
    while (j + 1 < len && s[j] == '_' && s[j + 1] >= '0' && s[j + 1] <= '9') {
        j++;
        while (j < len && s[j] >= '0' && s[j] <= '9') j++;
    }
    *i = j;
    return true;
}

static bool exponent(const char *s, size_t len, size_t *i) {
    size_t j = *i;
    if (j >= len || (s[j] != 'e' && s[j] != 'E')) return false;
    j++;
    if (j < len && (s[j] == '+' || s[j] == '-')) j++;
    if (!digits_us(s, len, &j)) return false;
    *i = j;
    return true;
}

static int hexval(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static rf_status lex_number(lexer *lx) {
    const char *s = lx->src;
    size_t len = lx->len, i = lx->pos;
    tpl_token *t;
    /* float first, unless right after a '.' (so that x.0.1 is two subscripts) */
    if (i == 0 || s[i - 1] != '.') {
        size_t j = i, end = 0;
        digits_us(s, len, &j);
        size_t k = j;
        if (k + 1 < len && s[k] == '.' && s[k + 1] >= '0' && s[k + 1] <= '9') {
            k++;
            digits_us(s, len, &k);
            size_t e = k;
            end = exponent(s, len, &e) ? e : k;
        } else if (exponent(s, len, &k)) {
            end = k;
        }
        if (end) {
            char buf[128];
            size_t bn = 0;
            for (size_t q = i; q < end; q++)
                if (s[q] != '_') {
                    if (bn + 1 >= sizeof buf) return lex_fail(lx, i, "float literal too long");
                    buf[bn++] = s[q];
                }
            buf[bn] = '\0';
            PUSH(t, TK_FLOAT, i);
            t->fval = strtod(buf, NULL);
            lx->pos = end;
            return RF_OK;
        }
    }
    int base = 10;
    size_t j = i;
    if (s[i] == '0' && i + 1 < len &&
        (s[i + 1] == 'b' || s[i + 1] == 'B' || s[i + 1] == 'o' || s[i + 1] == 'O' ||
         s[i + 1] == 'x' || s[i + 1] == 'X')) {
        int b = (s[i + 1] == 'b' || s[i + 1] == 'B') ? 2 : (s[i + 1] == 'o' || s[i + 1] == 'O') ? 8 : 16;
        size_t k = i + 2, ndig = 0;
        for (;;) {
            size_t q = k;
            if (q < len && s[q] == '_') q++;
            int d = q < len ? hexval(s[q]) : -1;
            if (d < 0 || d >= b) break;
            k = q + 1;
            ndig++;
        }
        if (ndig) { base = b; j = k; }
    }
    if (base == 10) {
        j = i + 1;
        if (s[i] != '0') {
            while (j < len) {
                size_t q = j;
                if (s[q] == '_') q++;
                if (q < len && s[q] >= '0' && s[q] <= '9') j = q + 1; else break;
            }
        } else {
            while (j < len) {
                size_t q = j;
                if (s[q] == '_') q++;
                if (q < len && s[q] == '0') j = q + 1; else break;
            }
        }
    }
    uint64_t v = 0;
    for (size_t q = (base == 10 ? i : i + 2); q < j; q++) {
        if (s[q] == '_') continue;
        int d = hexval(s[q]);
        if (!rf__mul_ok(v, (uint64_t)base, &v) || !rf__add_ok(v, (uint64_t)d, &v) ||
            v > (uint64_t)INT64_MAX)
            return lex_fail(lx, i, "integer literal too large");
    }
    PUSH(t, TK_INT, i);
    t->ival = (int64_t)v;
    lx->pos = j;
    return RF_OK;
}

static bool ident_cp(int32_t cp, bool first) {
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '_' ||
               (!first && cp >= '0' && cp <= '9');
    utf8proc_category_t cat = utf8proc_category(cp);
    switch (cat) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_NL:
        return true;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_PC:
        return !first;
    default:
        return false;
    }
}

static bool word_cp(int32_t cp) {
    if (cp < 0x80) return ident_cp(cp, false);
    utf8proc_category_t cat = utf8proc_category(cp);
    return ident_cp(cp, false) || cat == UTF8PROC_CATEGORY_NO || cat == UTF8PROC_CATEGORY_ME;
}

static rf_status lex_name(lexer *lx) {
    const char *s = lx->src;
    size_t i = lx->pos, j = i;
    int32_t cp;
    while (j < lx->len) {
        size_t k = rf__utf8_dec(s + j, lx->len - j, &cp);
        if (!word_cp(cp)) break;
        j += k;
    }
    rf__utf8_dec(s + i, lx->len - i, &cp);
    if (!ident_cp(cp, true)) return lex_fail(lx, i, "invalid character in identifier");
    for (size_t q = i; q < j;) {
        size_t k = rf__utf8_dec(s + q, j - q, &cp);
        if (!ident_cp(cp, false)) return lex_fail(lx, i, "invalid character in identifier");
        q += k;
    }
    tpl_token *t;
    PUSH(t, TK_NAME, i);
    t->s = s + i;
    t->len = j - i;
    lx->pos = j;
    return RF_OK;
}

/* Python's unicode-escape decoding of a string literal body. */
static rf_status lex_string(lexer *lx) {
    const char *s = lx->src;
    size_t i = lx->pos, len = lx->len;
    char q = s[i];
    size_t j = i + 1;
    while (j < len && s[j] != q) {
        if (s[j] == '\\') {
            if (j + 1 >= len) break;
            j += 2;
        } else {
            j++;
        }
    }
    if (j >= len) return lex_fail(lx, i, "unexpected char, unterminated string");
    /* decoded text is never longer than the literal */
    char *out = rf__tpl_alloc(lx->ar, j - i + 1);
    if (!out) return rf__err(lx->err, RF_ERR_NOMEM, "out of memory lexing template");
    size_t o = 0;
    for (size_t k = i + 1; k < j;) {
        char ch = s[k];
        if (ch != '\\') { out[o++] = ch; k++; continue; }
        char e = s[k + 1];
        k += 2;
        int32_t cp = -1;
        switch (e) {
        case '\n': continue;
        case '\\': cp = '\\'; break;
        case '\'': cp = '\''; break;
        case '"': cp = '"'; break;
        case 'a': cp = 7; break;
        case 'b': cp = 8; break;
        case 'f': cp = 12; break;
        case 'n': cp = 10; break;
        case 'r': cp = 13; break;
        case 't': cp = 9; break;
        case 'v': cp = 11; break;
        case 'x': case 'u': case 'U': {
            int nd = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            uint32_t v = 0;
            for (int d = 0; d < nd; d++) {
                int h = k < j ? hexval(s[k]) : -1;
                if (h < 0) return lex_fail(lx, i, "truncated escape in string literal");
                v = v * 16 + (uint32_t)h;
                k++;
            }
            if (v > 0x10FFFF) return lex_fail(lx, i, "illegal Unicode character in string literal");
            if (v >= 0xD800 && v <= 0xDFFF)
                return lex_fail(lx, i, "surrogate escapes are not supported in string literals");
            cp = (int32_t)v;
            break;
        }
        case 'N':
            return lex_fail(lx, i, "\\N{...} escapes are not supported");
        default:
            if (e >= '0' && e <= '7') {
                int32_t v = e - '0';
                for (int d = 0; d < 2 && k < j && s[k] >= '0' && s[k] <= '7'; d++) v = v * 8 + (s[k++] - '0');
                cp = v;
            } else {
                /* unknown escape: kept as is */
                out[o++] = '\\';
                k--;
                continue;
            }
        }
        char enc[4];
        size_t n = rf__utf8_enc(cp, enc);
        memcpy(out + o, enc, n);
        o += n;
    }
    out[o] = '\0';
    tpl_token *t;
    PUSH(t, TK_STRING, i);
    t->s = out;
    t->len = o;
    lx->pos = j + 1;
    return RF_OK;
}

static const struct { const char *s; uint8_t op; } ops2[] = {
    {"//", OP_FLOORDIV}, {"**", OP_POW}, {"==", OP_EQ}, {"!=", OP_NE}, {">=", OP_GTEQ}, {"<=", OP_LTEQ},
};

static int op1(char ch) {
    switch (ch) {
    case '+': return OP_ADD; case '-': return OP_SUB; case '/': return OP_DIV;
    case '*': return OP_MUL; case '%': return OP_MOD; case '~': return OP_TILDE;
    case '[': return OP_LBRACKET; case ']': return OP_RBRACKET; case '(': return OP_LPAREN;
    case ')': return OP_RPAREN; case '{': return OP_LBRACE; case '}': return OP_RBRACE;
    case '>': return OP_GT; case '<': return OP_LT; case '=': return OP_ASSIGN;
    case '.': return OP_DOT; case ':': return OP_COLON; case '|': return OP_PIPE;
    case ',': return OP_COMMA; case ';': return OP_SEMICOLON;
    default: return -1;
    }
}

static rf_status lex_operator(lexer *lx) {
    size_t i = lx->pos;
    int op = -1;
    size_t w = 1;
    for (size_t k = 0; k < RF_ARRAY_LEN(ops2); k++)
        if (starts(lx, i, ops2[k].s)) { op = ops2[k].op; w = 2; break; }
    if (op < 0) op = op1(lx->src[i]);
    if (op < 0) {
        char msg[64];
        unsigned char ch = (unsigned char)lx->src[i];
        if (ch >= 0x20 && ch < 0x7f) snprintf(msg, sizeof msg, "unexpected char '%c'", ch);
        else snprintf(msg, sizeof msg, "unexpected char 0x%02x", ch);
        return lex_fail(lx, i, msg);
    }
    if (op == OP_LBRACE || op == OP_LPAREN || op == OP_LBRACKET) {
        if (lx->nbal >= MAX_BALANCE)
            return rf__err(lx->err, RF_ERR_BUDGET, "template line %d: brackets nested too deeply (limit %d)",
                           line_at(lx, i), MAX_BALANCE);
        lx->bal[lx->nbal++] = (uint8_t)(op == OP_LBRACE ? OP_RBRACE : op == OP_LPAREN ? OP_RPAREN : OP_RBRACKET);
    } else if (op == OP_RBRACE || op == OP_RPAREN || op == OP_RBRACKET) {
        char msg[64];
        if (!lx->nbal) {
            snprintf(msg, sizeof msg, "unexpected '%c'", lx->src[i]);
            return lex_fail(lx, i, msg);
        }
        uint8_t want = lx->bal[--lx->nbal];
        if (want != op) {
            snprintf(msg, sizeof msg, "unexpected '%c', expected '%c'", lx->src[i],
                     want == OP_RBRACE ? '}' : want == OP_RPAREN ? ')' : ']');
            return lex_fail(lx, i, msg);
        }
    }
    tpl_token *t;
    PUSH(t, TK_OP, i);
    t->op = (uint8_t)op;
    lx->pos = i + w;
    return RF_OK;
}

/* Tokens of a {{ }} or {% %} tag, up to and including its end. */
static rf_status lex_tag(lexer *lx, bool is_var) {
    rf_status st;
    lx->nbal = 0;
    while (lx->pos < lx->len) {
        size_t i = lx->pos;
        const char *s = lx->src;
        if (lx->nbal == 0) {
            tpl_token *t;
            if (is_var) {
                if (starts(lx, i, "-}}")) {
                    PUSH(t, TK_VAR_END, i);
                    lx->pos = skip_space(s, lx->len, i + 3);
                    goto end;
                }
                if (starts(lx, i, "}}")) {
                    PUSH(t, TK_VAR_END, i);
                    lx->pos = i + 2;
                    goto end;
                }
            } else {
                if (starts(lx, i, "+%}")) {
                    PUSH(t, TK_BLOCK_END, i);
                    lx->pos = i + 3;
                    goto end;
                }
                if (starts(lx, i, "-%}")) {
                    PUSH(t, TK_BLOCK_END, i);
                    lx->pos = skip_space(s, lx->len, i + 3);
                    goto end;
                }
                if (starts(lx, i, "%}")) {
                    PUSH(t, TK_BLOCK_END, i);
                    lx->pos = i + 2;
                    if (lx->pos < lx->len && s[lx->pos] == '\n') lx->pos++;
                    goto end;
                }
            }
        }
        size_t k = rf__py_space_at(s + i, s + lx->len);
        if (k) {
            lx->pos = skip_space(s, lx->len, i);
            continue;
        }
        unsigned char ch = (unsigned char)s[i];
        if (ch >= '0' && ch <= '9') st = lex_number(lx);
        else if (ch == '\'' || ch == '"') st = lex_string(lx);
        else if (ch >= 0x80 || ch == '_' || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z')) st = lex_name(lx);
        else st = lex_operator(lx);
        if (st) return st;
    }
    return RF_OK; /* end of input inside a tag: the parser reports it */
end:
    lx->line_starting = lx->pos > 0 && lx->src[lx->pos - 1] == '\n';
    return RF_OK;
}

static bool utf8_valid(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        if (c < 0x80) { i++; continue; }
        size_t n;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; min = 0x10000; }
        else return false;
        if (i + n > len) return false;
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n;
    }
    return true;
}

rf_status rf__tpl_lex(tpl_arena *ar, const char *src, size_t len, tpl_token **toks,
                      size_t *ntoks, rf_err *err) {
    rf_status st = RF_OK;
    lexer lx;
    memset(&lx, 0, sizeof lx);
    lx.ar = ar;
    lx.err = err;
    lx.line = 1;
    lx.line_starting = true;
    *toks = NULL;
    *ntoks = 0;
    if (!utf8_valid(src, len))
        return rf__err(err, RF_ERR_TEMPLATE, "template source is not valid UTF-8");

    /* normalise newlines, drop one trailing newline */
    char *s = rf__tpl_alloc(ar, len + 1);
    if (!s) return rf__err(err, RF_ERR_NOMEM, "out of memory lexing template");
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '\r') {
            s[n++] = '\n';
            if (i + 1 < len && src[i + 1] == '\n') i++;
        } else {
            s[n++] = src[i];
        }
    }
    if (n > 0 && s[n - 1] == '\n') n--;
    s[n] = '\0';
    lx.src = s;
    lx.len = n;

    while (lx.pos < lx.len) {
        size_t tag = SIZE_MAX, p = lx.pos;
        while (p + 1 < lx.len) {
            const char *q = memchr(s + p, '{', lx.len - p - 1);
            if (!q) break;
            size_t i = (size_t)(q - s);
            if (s[i + 1] == '{' || s[i + 1] == '%' || s[i + 1] == '#') { tag = i; break; }
            p = i + 1;
        }
        if (tag == SIZE_MAX) {
            tpl_token *t;
            if (!(t = push(&lx, TK_DATA, lx.pos))) { st = rf__err(err, RF_ERR_NOMEM, "out of memory lexing template"); goto fail; }
            t->s = s + lx.pos;
            t->len = lx.len - lx.pos;
            lx.pos = lx.len;
            break;
        }
        char kind = s[tag + 1];
        size_t after = tag + 2;

        if (kind == '%') { /* {% raw %} ? */
            size_t i = after;
            char sign = 0;
            if (i < lx.len && (s[i] == '-' || s[i] == '+')) sign = s[i++];
            i = skip_space(s, lx.len, i);
            if (starts(&lx, i, "raw")) {
                i = skip_space(s, lx.len, i + 3);
                size_t e = 0;
                if (starts(&lx, i, "-%}")) e = skip_space(s, lx.len, i + 3);
                else if (starts(&lx, i, "%}")) e = i + 2;
                if (e) {
                    if ((st = emit_text(&lx, lx.pos, tag, sign, false))) goto fail;
                    lx.line_starting = s[e - 1] == '\n';
                    /* find {%[-+]? endraw [+-]?%} */
                    size_t j = e, mend = 0, rawend = 0;
                    char sign2 = 0;
                    while (j + 1 < lx.len) {
                        const char *q = memchr(s + j, '{', lx.len - j);
                        if (!q) break;
                        size_t b = (size_t)(q - s);
                        if (b + 1 < lx.len && s[b + 1] == '%') {
                            size_t k = b + 2;
                            char sg = 0;
                            if (k < lx.len && (s[k] == '-' || s[k] == '+')) sg = s[k++];
                            k = skip_space(s, lx.len, k);
                            if (starts(&lx, k, "endraw")) {
                                k = skip_space(s, lx.len, k + 6);
                                if (starts(&lx, k, "+%}")) mend = k + 3;
                                else if (starts(&lx, k, "-%}")) mend = skip_space(s, lx.len, k + 3);
                                else if (starts(&lx, k, "%}")) {
                                    mend = k + 2;
                                    if (mend < lx.len && s[mend] == '\n') mend++;
                                }
                                if (mend) { rawend = b; sign2 = sg; break; }
                            }
                        }
                        j = b + 1;
                    }
                    if (!mend) { st = lex_fail(&lx, tag, "missing end of raw directive"); goto fail; }
                    if ((st = emit_text(&lx, e, rawend, sign2, false))) goto fail;
                    lx.pos = mend;
                    lx.line_starting = s[mend - 1] == '\n';
                    continue;
                }
            }
        }

        char sign = 0;
        if (after < lx.len && (s[after] == '-' || s[after] == '+')) sign = s[after++];
        if ((st = emit_text(&lx, lx.pos, tag, sign, kind == '{'))) goto fail;

        if (kind == '#') {
            size_t i = after, end = 0;
            for (; i + 1 < lx.len; i++) {
                if (s[i] == '+' && starts(&lx, i, "+#}")) { end = i + 3; break; }
                if (s[i] == '-' && starts(&lx, i, "-#}")) { end = skip_space(s, lx.len, i + 3); break; }
                if (s[i] == '#' && s[i + 1] == '}') {
                    end = i + 2;
                    if (end < lx.len && s[end] == '\n') end++;
                    break;
                }
            }
            if (!end) { st = lex_fail(&lx, tag, "missing end of comment tag"); goto fail; }
            lx.pos = end;
            lx.line_starting = s[end - 1] == '\n';
            continue;
        }
        tpl_token *t;
        if (!(t = push(&lx, kind == '{' ? TK_VAR_BEGIN : TK_BLOCK_BEGIN, tag))) {
            st = rf__err(err, RF_ERR_NOMEM, "out of memory lexing template");
            goto fail;
        }
        lx.pos = after;
        if ((st = lex_tag(&lx, kind == '{'))) goto fail;
    }
    tpl_token *t;
    if (!(t = push(&lx, TK_EOF, lx.len))) { st = rf__err(err, RF_ERR_NOMEM, "out of memory lexing template"); goto fail; }
    *toks = lx.toks;
    *ntoks = lx.n;
    return RF_OK;
fail:
    rf__free(lx.toks);
    return st;
}
