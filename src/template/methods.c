/*
 * methods.c - Python methods of str, list, tuple and dict values and of the
 * loop object, and the global functions (range, namespace, dict,
 * raise_exception, strftime_now).
 *
 * Sandbox: list and dict methods that modify (append, pop, update, ...)
 * exist but are unsafe, as in jinja2's ImmutableSandboxedEnvironment: looking
 * them up gives an undefined value and calling it is an error.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <utf8proc.h>

#include "template/tpl.h"

#define MAX_RANGE 100000

/* ---- argument helpers --------------------------------------------------------------------- */
bool rf__tpl_arg(const tv *args, size_t nargs, tdict *kw, size_t i, const char *name, tv *out) {
    if (i < nargs) { *out = args[i]; return true; }
    if (kw && name && rf__tdict_get_str(kw, name, strlen(name), out)) return true;
    return false;
}

rf_status rf__tpl_check_args(tpl_ctx *c, const char *fname, size_t nargs, size_t maxpos, tdict *kw,
                             const char *const *names) {
    if (nargs > maxpos)
        return TPL_ERR(c, "%s() takes at most %zu positional argument(s) (%zu given)", fname, maxpos, nargs);
    for (size_t i = 0; kw && i < kw->n; i++) {
        tv k = kw->keys[i];
        bool ok = false;
        size_t pos = 0;
        for (const char *const *n = names; n && *n; n++, pos++)
            if (k.t == TV_STR && strlen(*n) == k.u.s->len && memcmp(*n, k.u.s->s, k.u.s->len) == 0) {
                ok = true;
                if (pos < nargs) return TPL_ERR(c, "%s() got multiple values for argument '%s'", fname, *n);
            }
        if (!ok)
            return TPL_ERR(c, "%s() got an unexpected keyword argument '%s'", fname, k.t == TV_STR ? k.u.s->s : "?");
    }
    return RF_OK;
}

static rf_status need_str(tpl_ctx *c, tv v, const char *what) {
    if (v.t == TV_STR) return RF_OK;
    if (v.t == TV_UNDEF) return rf__tpl_undef_error(c, v);
    return TPL_ERR(c, "%s must be str, not %s", what, rf__tv_type_name(v));
}

static rf_status need_int(tpl_ctx *c, tv v, const char *what, int64_t *out) {
    if (tv_is_intlike(v)) { *out = tv_ival(v); return RF_OK; }
    if (v.t == TV_UNDEF) return rf__tpl_undef_error(c, v);
    return TPL_ERR(c, "%s: '%s' object cannot be interpreted as an integer", what, rf__tv_type_name(v));
}

/* ---- Unicode helpers ---------------------------------------------------------------------- */
static bool cp_cased(int32_t cp) {
    utf8proc_category_t k = utf8proc_category(cp);
    return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT;
}
static bool cp_alpha(int32_t cp) {
    utf8proc_category_t k = utf8proc_category(cp);
    return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}
static bool cp_decimal(int32_t cp) { return utf8proc_category(cp) == UTF8PROC_CATEGORY_ND; }
static bool cp_digit(int32_t cp) {
    return cp_decimal(cp) || cp == 0xB2 || cp == 0xB3 || cp == 0xB9 || (cp >= 0x2070 && cp <= 0x2079 && cp != 0x2071 &&
           cp != 0x2072 && cp != 0x2073) || (cp >= 0x2080 && cp <= 0x2089) || (cp >= 0x2460 && cp <= 0x2468);
}
static bool cp_numeric(int32_t cp) {
    utf8proc_category_t k = utf8proc_category(cp);
    return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO;
}
static bool cp_word(int32_t cp) {
    if (cp == '_') return true;
    utf8proc_category_t k = utf8proc_category(cp);
    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
           (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
}

/* ---- string helpers ------------------------------------------------------------------------------ */
static bool in_chars(const tstr *chars, int32_t cp) {
    size_t i = 0;
    while (i < chars->len) {
        int32_t x;
        i += rf__utf8_dec(chars->s + i, chars->len - i, &x);
        if (x == cp) return true;
    }
    return false;
}

rf_status rf__str_strip(tpl_ctx *c, tv s, tv chars, int mode, tv *out) {
    rf_status st;
    if ((st = need_str(c, s, "strip() self"))) return st;
    if (chars.t != TV_NONE && chars.t != TV_UNDEF && chars.t != TV_STR)
        return TPL_ERR(c, "strip arg must be None or str");
    bool ws = chars.t != TV_STR;
    const char *p = s.u.s->s;
    size_t a = 0, b = s.u.s->len;
    if (mode != STRIP_RIGHT) {
        while (a < b) {
            int32_t cp;
            size_t w = rf__utf8_dec(p + a, b - a, &cp);
            if (ws ? !rf__py_isspace(cp) : !in_chars(chars.u.s, cp)) break;
            a += w;
        }
    }
    if (mode != STRIP_LEFT) {
        while (b > a) {
            size_t q = b - 1;
            while (q > a && ((unsigned char)p[q] & 0xC0) == 0x80) q--;
            int32_t cp;
            rf__utf8_dec(p + q, b - q, &cp);
            if (ws ? !rf__py_isspace(cp) : !in_chars(chars.u.s, cp)) break;
            b = q;
        }
    }
    if ((st = tpl_steps(c, s.u.s->len / 256))) return st;
    if (a == 0 && b == s.u.s->len) { *out = s; out->kind = 0; return RF_OK; }
    *out = rf__tv_str(c, p + a, b - a, &st);
    return st;
}

/* Append the case mapping of cp (full mappings, like Python). */
static rf_status put_case(tpl_ctx *c, sbuf *b, int32_t cp, int mode) {
    int32_t m[3];
    size_t n = rf__case_special(cp, mode, m);
    if (!n) {
        m[0] = mode == CASE_UPPER ? utf8proc_toupper(cp) : mode == CASE_LOWER ? utf8proc_tolower(cp)
             : mode == CASE_TITLE ? utf8proc_totitle(cp) : cp;
        n = 1;
    }
    char enc[12];
    size_t len = 0;
    for (size_t i = 0; i < n; i++) len += rf__utf8_enc(m[i], enc + len);
    return rf__sb_put(c, b, enc, len);
}

/* Greek capital sigma lowers to final sigma after a cased letter and not before one. */
static bool final_sigma(const char *p, size_t len, size_t at, size_t w) {
    bool before = false, after = false;
    size_t i = at;
    while (i > 0) {
        size_t q = i - 1;
        while (q > 0 && ((unsigned char)p[q] & 0xC0) == 0x80) q--;
        int32_t cp;
        rf__utf8_dec(p + q, i - q, &cp);
        utf8proc_category_t k = utf8proc_category(cp);
        if (k == UTF8PROC_CATEGORY_MN || k == UTF8PROC_CATEGORY_ME || k == UTF8PROC_CATEGORY_CF ||
            k == UTF8PROC_CATEGORY_LM || k == UTF8PROC_CATEGORY_SK || cp == '\'' || cp == 0x2019 || cp == '.' || cp == ':') {
            i = q;
            continue;
        }
        before = cp_cased(cp);
        break;
    }
    for (i = at + w; i < len;) {
        int32_t cp;
        size_t k2 = rf__utf8_dec(p + i, len - i, &cp);
        utf8proc_category_t k = utf8proc_category(cp);
        if (k == UTF8PROC_CATEGORY_MN || k == UTF8PROC_CATEGORY_ME || k == UTF8PROC_CATEGORY_CF ||
            k == UTF8PROC_CATEGORY_LM || k == UTF8PROC_CATEGORY_SK || cp == '\'' || cp == 0x2019 || cp == '.' || cp == ':') {
            i += k2;
            continue;
        }
        after = cp_cased(cp);
        break;
    }
    return before && !after;
}

rf_status rf__str_case(tpl_ctx *c, tv s, int mode, tv *out) {
    rf_status st;
    if ((st = need_str(c, s, "str"))) return st;
    if ((st = tpl_steps(c, s.u.s->len / 64))) return st;
    sbuf b = {0};
    const char *p = s.u.s->s;
    size_t len = s.u.s->len, i = 0;
    bool prev_cased = false, first = true;
    while (i < len) {
        int32_t cp;
        size_t at = i, w = rf__utf8_dec(p + i, len - i, &cp);
        i += w;
        int m;
        switch (mode) {
        case CASE_UPPER: m = CASE_UPPER; break;
        case CASE_LOWER: m = CASE_LOWER; break;
        case CASE_TITLE: m = prev_cased ? CASE_LOWER : CASE_TITLE; break;
        case CASE_CAPITALIZE: m = first ? CASE_TITLE : CASE_LOWER; break;
        default: {
            utf8proc_category_t k = utf8proc_category(cp);
            m = k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LT ? CASE_LOWER
              : k == UTF8PROC_CATEGORY_LL ? CASE_UPPER : -1;
        }
        }
        if (m == CASE_LOWER && cp == 0x3A3 && final_sigma(p, len, at, w)) {
            if ((st = rf__sb_put(c, &b, "\xcf\x82", 2))) goto fail;
        } else if (m < 0) {
            if ((st = rf__sb_put(c, &b, p + at, w))) goto fail;
        } else if ((st = put_case(c, &b, cp, m))) {
            goto fail;
        }
        prev_cased = cp_cased(cp);
        first = false;
    }
    *out = rf__sb_take(c, &b, &st);
    return st;
fail:
    rf__sb_free(&b);
    return st;
}

rf_status rf__str_replace(tpl_ctx *c, tv s, tv old, tv repl, int64_t count, tv *out) {
    rf_status st;
    if ((st = need_str(c, s, "replace() self")) || (st = need_str(c, old, "replace() argument 1")) ||
        (st = need_str(c, repl, "replace() argument 2")))
        return st;
    const tstr *h = s.u.s, *o = old.u.s, *r = repl.u.s;
    if (count < 0) count = INT64_MAX;
    if ((st = tpl_steps(c, h->len / 64))) return st;
    sbuf b = {0};
    if (o->len == 0) {
        size_t i = 0;
        int64_t done = 0;
        while (i <= h->len) {
            if (done < count) { if ((st = rf__sb_put(c, &b, r->s, r->len))) goto fail; done++; }
            if (i == h->len) break;
            int32_t cp;
            size_t w = rf__utf8_dec(h->s + i, h->len - i, &cp);
            if ((st = rf__sb_put(c, &b, h->s + i, w))) goto fail;
            i += w;
        }
    } else {
        size_t i = 0;
        int64_t done = 0;
        while (i < h->len) {
            const char *m = done < count ? memmem(h->s + i, h->len - i, o->s, o->len) : NULL;
            if (!m) { if ((st = rf__sb_put(c, &b, h->s + i, h->len - i))) goto fail; break; }
            size_t at = (size_t)(m - h->s);
            if ((st = rf__sb_put(c, &b, h->s + i, at - i)) || (st = rf__sb_put(c, &b, r->s, r->len))) goto fail;
            if ((st = tpl_steps(c, 1))) goto fail;
            i = at + o->len;
            done++;
        }
    }
    *out = rf__sb_take(c, &b, &st);
    return st;
fail:
    rf__sb_free(&b);
    return st;
}

static size_t line_break_at(const char *p, size_t len, size_t i) { /* bytes of a line break at i, 0 if none */
    unsigned char ch = (unsigned char)p[i];
    if (ch == '\r') return (i + 1 < len && p[i + 1] == '\n') ? 2 : 1;
    if (ch == '\n' || ch == 0x0b || ch == 0x0c || (ch >= 0x1c && ch <= 0x1e)) return 1;
    if (ch >= 0x80) {
        int32_t cp;
        size_t w = rf__utf8_dec(p + i, len - i, &cp);
        if (cp == 0x85 || cp == 0x2028 || cp == 0x2029) return w;
    }
    return 0;
}

rf_status rf__str_splitlines(tpl_ctx *c, tv s, bool keepends, tv *out) {
    rf_status st;
    if ((st = need_str(c, s, "splitlines() self"))) return st;
    const char *p = s.u.s->s;
    size_t len = s.u.s->len, n = 0;
    for (size_t i = 0; i < len;) {
        size_t w = line_break_at(p, len, i);
        if (w) { n++; i += w; } else i++;
    }
    tlist *l = rf__tlist_new(c, n + 1);
    if (!l) return c->st;
    size_t k = 0, start = 0;
    for (size_t i = 0; i < len;) {
        size_t w = line_break_at(p, len, i);
        if (!w) { i++; continue; }
        l->v[k++] = rf__tv_str(c, p + start, (keepends ? i + w : i) - start, &st);
        if (st) return st;
        i += w;
        start = i;
    }
    if (start < len) {
        l->v[k++] = rf__tv_str(c, p + start, len - start, &st);
        if (st) return st;
    }
    l->n = k;
    *out = tv_listv(l, LK_LIST);
    return tpl_steps(c, k);
}

rf_status rf__str_pad(tpl_ctx *c, tv s, int64_t width, const char *fill, size_t fill_len, char align, tv *out) {
    rf_status st;
    if ((st = need_str(c, s, "str"))) return st;
    int64_t n = (int64_t)rf__utf8_count(s.u.s->s, s.u.s->len);
    if (width <= n) { *out = s; out->kind = 0; return RF_OK; }
    uint64_t marg = (uint64_t)(width - n), total;
    if (!rf__mul_ok(marg, fill_len, &total) || total > c->max_str)
        return rf__tpl_fail(c, RF_ERR_BUDGET, "padded string longer than the limit of %zu bytes", c->max_str);
    if ((st = tpl_steps(c, marg / 64))) return st;
    uint64_t left = align == '<' ? 0 : align == '>' ? marg : marg / 2 + (marg & (uint64_t)width & 1);
    sbuf b = {0};
    for (uint64_t i = 0; i < left && !st; i++) st = rf__sb_put(c, &b, fill, fill_len);
    if (!st) st = rf__sb_put(c, &b, s.u.s->s, s.u.s->len);
    for (uint64_t i = left; i < marg && !st; i++) st = rf__sb_put(c, &b, fill, fill_len);
    if (st) { rf__sb_free(&b); return st; }
    *out = rf__sb_take(c, &b, &st);
    return st;
}

/* [start, end) as byte offsets from Python-style optional code point indices */
static rf_status sub_range(tpl_ctx *c, const tstr *s, const tv *args, size_t nargs, size_t first, size_t *a,
                           size_t *b) {
    rf_status st = tpl_steps(c, s->len >> 6);
    if (st) return st;
    int64_t n = (int64_t)rf__utf8_count(s->s, s->len), lo = 0, hi = n;
    if (nargs > first && args[first].t != TV_NONE) {
        if ((st = need_int(c, args[first], "slice index", &lo))) return st;
        if (lo < 0) lo = RF_MAX(lo + n, 0);
        if (lo > n) lo = n + 1;
    }
    if (nargs > first + 1 && args[first + 1].t != TV_NONE) {
        if ((st = need_int(c, args[first + 1], "slice index", &hi))) return st;
        if (hi < 0) hi = RF_MAX(hi + n, 0);
        if (hi > n) hi = n;
    }
    if (lo > n) { *a = s->len + 1; *b = s->len; return RF_OK; }
    bool ascii = (size_t)n == s->len;
    *a = ascii ? (size_t)lo : rf__utf8_offset(s->s, s->len, (size_t)lo);
    *b = ascii ? (size_t)hi : rf__utf8_offset(s->s, s->len, (size_t)hi);
    return RF_OK;
}

static int64_t cp_index(const tstr *s, size_t off) { return (int64_t)rf__utf8_count(s->s, off); }

static bool match_at(const tstr *s, size_t a, size_t b, const tstr *pre, bool end) {
    if (a > b || b - a < pre->len) return false;
    return memcmp(s->s + (end ? b - pre->len : a), pre->s, pre->len) == 0;
}

static rf_status split_impl(tpl_ctx *c, tv self, tv sep, int64_t maxsplit, bool right, tv *out) {
    rf_status st;
    const tstr *s = self.u.s;
    if ((st = tpl_steps(c, s->len / 64))) return st;
    tv parts[64];
    size_t np = 0, cap = RF_ARRAY_LEN(parts);
    tv *pv = parts;
#define ADD(from, len_)                                                              \
    do {                                                                             \
        if (np == cap) {                                                             \
            tv *nv = rf__tpl_alloc(&c->ar, cap * 2 * sizeof *nv);                    \
            if (!nv) return rf__tpl_nomem(c);                                        \
            memcpy(nv, pv, np * sizeof *nv);                                         \
            pv = nv;                                                                 \
            cap *= 2;                                                                \
        }                                                                            \
        pv[np++] = rf__tv_str(c, s->s + (from), (len_), &st);                        \
        if (st) return st;                                                           \
    } while (0)
    if (maxsplit < 0) maxsplit = INT64_MAX;
    if (sep.t == TV_NONE || sep.t == TV_UNDEF) {
        if (!right) {
            size_t i = 0, k;
            int64_t done = 0;
            for (;;) {
                while (i < s->len && (k = rf__py_space_at(s->s + i, s->s + s->len))) i += k;
                if (i >= s->len) break;
                if (done >= maxsplit) {
                    size_t e = s->len;
                    while (e > i && (k = rf__py_space_before(s->s + i, s->s + e))) e -= k;
                    ADD(i, e - i);
                    break;
                }
                size_t j = i;
                while (j < s->len && !rf__py_space_at(s->s + j, s->s + s->len)) j++;
                ADD(i, j - i);
                done++;
                i = j;
            }
        } else {
            size_t e = s->len, k;
            int64_t done = 0;
            for (;;) {
                while (e > 0 && (k = rf__py_space_before(s->s, s->s + e))) e -= k;
                if (e == 0) break;
                if (done >= maxsplit) {
                    size_t i = 0;
                    while (i < e && (k = rf__py_space_at(s->s + i, s->s + e))) i += k;
                    ADD(i, e - i);
                    break;
                }
                size_t j = e;
                while (j > 0 && !rf__py_space_before(s->s, s->s + j)) j--;
                ADD(j, e - j);
                done++;
                e = j;
            }
        }
    } else {
        if ((st = need_str(c, sep, "separator"))) return st;
        const tstr *sp = sep.u.s;
        if (!sp->len) return TPL_ERR(c, "empty separator");
        if (!right) {
            size_t i = 0;
            int64_t done = 0;
            for (;;) {
                const char *m = done < maxsplit ? memmem(s->s + i, s->len - i, sp->s, sp->len) : NULL;
                if (!m) { ADD(i, s->len - i); break; }
                size_t at = (size_t)(m - s->s);
                ADD(i, at - i);
                i = at + sp->len;
                done++;
            }
        } else {
            size_t e = s->len;
            int64_t done = 0;
            for (;;) {
                size_t at = SIZE_MAX;
                if (done < maxsplit && e >= sp->len)
                    for (size_t q = e - sp->len + 1; q-- > 0;)
                        if (memcmp(s->s + q, sp->s, sp->len) == 0) { at = q; break; }
                if (at == SIZE_MAX) { ADD(0, e); break; }
                ADD(at + sp->len, e - at - sp->len);
                e = at;
                done++;
            }
        }
    }
#undef ADD
    tlist *l = rf__tlist_new(c, np);
    if (!l) return c->st;
    for (size_t i = 0; i < np; i++) l->v[i] = right ? pv[np - 1 - i] : pv[i];
    *out = tv_listv(l, LK_LIST);
    return tpl_steps(c, np);
}

/* ---- number parsing (Python int()/float() of a string) ------------------------------------------- */
static void trim_ws(const char **s, size_t *len) {
    size_t k;
    while (*len && (k = rf__py_space_at(*s, *s + *len))) { *s += k; *len -= k; }
    while (*len && (k = rf__py_space_before(*s, *s + *len))) *len -= k;
}

bool rf__py_parse_int(const char *s, size_t len, int base, int64_t *out, bool *overflow) {
    *overflow = false;
    trim_ws(&s, &len);
    bool neg = false;
    if (len && (*s == '+' || *s == '-')) { neg = *s == '-'; s++; len--; }
    if (!len) return false;
    if (len >= 2 && s[0] == '0') {
        char p = (char)(s[1] | 0x20);
        int pb = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
        if (pb && (base == 0 || base == pb)) { base = pb; s += 2; len -= 2; if (len && *s == '_') { s++; len--; } if (!len) return false; }
    }
    if (base == 0) {
        base = 10;
        if (len > 1 && s[0] == '0') {
            for (size_t i = 0; i < len; i++) if (s[i] != '0' && s[i] != '_') return false;
        }
    }
    if (base < 2 || base > 36) return false;
    uint64_t v = 0;
    bool prev_digit = false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '_') {
            if (!prev_digit || i + 1 >= len) return false;
            prev_digit = false;
            continue;
        }
        int d = (ch >= '0' && ch <= '9') ? ch - '0' : ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') ? (ch | 0x20) - 'a' + 10 : 99;
        if (d >= base) return false;
        if (!*overflow && (!rf__mul_ok(v, (uint64_t)base, &v) || !rf__add_ok(v, (uint64_t)d, &v) ||
                           v > (uint64_t)INT64_MAX + (neg ? 1u : 0u)))
            *overflow = true;
        prev_digit = true;
    }
    if (*overflow) return true;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

bool rf__py_parse_float(const char *s, size_t len, double *out) {
    trim_ws(&s, &len);
    char buf[512];
    size_t n = 0;
    size_t i = 0;
    if (i < len && (s[i] == '+' || s[i] == '-')) buf[n++] = s[i++];
    size_t rest = len - i;
    const char *r = s + i;
    if ((rest == 3 && strncasecmp(r, "inf", 3) == 0) || (rest == 8 && strncasecmp(r, "infinity", 8) == 0)) {
        *out = (n && buf[0] == '-') ? -INFINITY : INFINITY;
        return true;
    }
    if (rest == 3 && strncasecmp(r, "nan", 3) == 0) { *out = NAN; return true; }
    bool digits = false, prev_digit = false, dot = false, exp = false;
    for (; i < len; i++) {
        char ch = s[i];
        if (n >= sizeof buf - 2) return false;
        if (ch >= '0' && ch <= '9') { buf[n++] = ch; digits = prev_digit = true; continue; }
        if (ch == '_') {
            if (!prev_digit || i + 1 >= len || s[i + 1] < '0' || s[i + 1] > '9') return false;
            prev_digit = false;
            continue;
        }
        prev_digit = false;
        if (ch == '.' && !dot && !exp) { dot = true; buf[n++] = ch; continue; }
        if ((ch == 'e' || ch == 'E') && digits && !exp) {
            exp = true;
            buf[n++] = 'e';
            if (i + 1 < len && (s[i + 1] == '+' || s[i + 1] == '-')) buf[n++] = s[++i];
            if (i + 1 >= len || s[i + 1] < '0' || s[i + 1] > '9') return false;
            continue;
        }
        return false;
    }
    if (!digits) return false;
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    return true;
}

/* ---- method table ------------------------------------------------------------------------------------------- */
enum {
    T_STR = 1, T_LIST = 2, T_TUPLE = 4, T_DICT = 8, T_LOOP = 16,
};

enum {
    M_STRIP, M_LSTRIP, M_RSTRIP, M_SPLIT, M_RSPLIT, M_SPLITLINES, M_STARTSWITH, M_ENDSWITH, M_UPPER, M_LOWER,
    M_TITLE, M_CAPITALIZE, M_SWAPCASE, M_CASEFOLD, M_REPLACE, M_FIND, M_RFIND, M_INDEX, M_RINDEX, M_COUNT,
    M_JOIN, M_FORMAT, M_FORMAT_MAP, M_ISDIGIT, M_ISALPHA, M_ISALNUM, M_ISSPACE, M_ISUPPER, M_ISLOWER, M_ISTITLE,
    M_ISNUMERIC, M_ISDECIMAL, M_ISASCII, M_ISIDENTIFIER, M_CENTER, M_LJUST, M_RJUST, M_ZFILL, M_PARTITION,
    M_RPARTITION, M_REMOVEPREFIX, M_REMOVESUFFIX, M_EXPANDTABS,
    M_LIST_INDEX, M_LIST_COUNT, M_COPY,
    M_ITEMS, M_KEYS, M_VALUES, M_GET,
    M_CYCLE, M_CHANGED,
    M_UNSAFE,
};

static const struct { const char *name; int types; int id; } methods[] = {
    {"strip", T_STR, M_STRIP}, {"lstrip", T_STR, M_LSTRIP}, {"rstrip", T_STR, M_RSTRIP},
    {"split", T_STR, M_SPLIT}, {"rsplit", T_STR, M_RSPLIT}, {"splitlines", T_STR, M_SPLITLINES},
    {"startswith", T_STR, M_STARTSWITH}, {"endswith", T_STR, M_ENDSWITH}, {"upper", T_STR, M_UPPER},
    {"lower", T_STR, M_LOWER}, {"title", T_STR, M_TITLE}, {"capitalize", T_STR, M_CAPITALIZE},
    {"swapcase", T_STR, M_SWAPCASE}, {"casefold", T_STR, M_CASEFOLD}, {"replace", T_STR, M_REPLACE},
    {"find", T_STR, M_FIND}, {"rfind", T_STR, M_RFIND}, {"index", T_STR, M_INDEX}, {"rindex", T_STR, M_RINDEX},
    {"count", T_STR, M_COUNT}, {"join", T_STR, M_JOIN}, {"format", T_STR, M_FORMAT},
    {"format_map", T_STR, M_FORMAT_MAP}, {"isdigit", T_STR, M_ISDIGIT}, {"isalpha", T_STR, M_ISALPHA},
    {"isalnum", T_STR, M_ISALNUM}, {"isspace", T_STR, M_ISSPACE}, {"isupper", T_STR, M_ISUPPER},
    {"islower", T_STR, M_ISLOWER}, {"istitle", T_STR, M_ISTITLE}, {"isnumeric", T_STR, M_ISNUMERIC},
    {"isdecimal", T_STR, M_ISDECIMAL}, {"isascii", T_STR, M_ISASCII}, {"isidentifier", T_STR, M_ISIDENTIFIER},
    {"center", T_STR, M_CENTER}, {"ljust", T_STR, M_LJUST}, {"rjust", T_STR, M_RJUST}, {"zfill", T_STR, M_ZFILL},
    {"partition", T_STR, M_PARTITION}, {"rpartition", T_STR, M_RPARTITION},
    {"removeprefix", T_STR, M_REMOVEPREFIX}, {"removesuffix", T_STR, M_REMOVESUFFIX},
    {"expandtabs", T_STR, M_EXPANDTABS},
    {"index", T_LIST | T_TUPLE, M_LIST_INDEX}, {"count", T_LIST | T_TUPLE, M_LIST_COUNT},
    {"copy", T_LIST | T_DICT, M_COPY},
    {"items", T_DICT, M_ITEMS}, {"keys", T_DICT, M_KEYS}, {"values", T_DICT, M_VALUES}, {"get", T_DICT, M_GET},
    {"cycle", T_LOOP, M_CYCLE}, {"changed", T_LOOP, M_CHANGED},
    /* modifying methods: present but unsafe */
    {"append", T_LIST, M_UNSAFE}, {"clear", T_LIST | T_DICT, M_UNSAFE}, {"pop", T_LIST | T_DICT, M_UNSAFE},
    {"reverse", T_LIST, M_UNSAFE}, {"insert", T_LIST, M_UNSAFE}, {"sort", T_LIST, M_UNSAFE},
    {"extend", T_LIST, M_UNSAFE}, {"remove", T_LIST, M_UNSAFE}, {"popitem", T_DICT, M_UNSAFE},
    {"setdefault", T_DICT, M_UNSAFE}, {"update", T_DICT, M_UNSAFE},
};

bool rf__tpl_method_lookup(tpl_ctx *c, tv obj, const char *name, size_t nlen, tv *out, bool *unsafe, rf_status *st) {
    *unsafe = false;
    *st = RF_OK;
    int t = obj.t == TV_STR ? T_STR : obj.t == TV_DICT ? T_DICT : obj.t == TV_LOOP ? T_LOOP
          : obj.t == TV_LIST && obj.kind == LK_LIST ? T_LIST : obj.t == TV_LIST && obj.kind == LK_TUPLE ? T_TUPLE : 0;
    if (!t) return false;
    for (size_t i = 0; i < RF_ARRAY_LEN(methods); i++) {
        if (!(methods[i].types & t) || strlen(methods[i].name) != nlen || memcmp(methods[i].name, name, nlen) != 0)
            continue;
        if (methods[i].id == M_UNSAFE) { *unsafe = true; return false; }
        tmethod *m = rf__tpl_alloc(&c->ar, sizeof *m);
        if (!m) { *st = rf__tpl_nomem(c); return false; }
        m->self = obj;
        m->id = methods[i].id;
        m->name = methods[i].name;
        out->t = TV_METHOD;
        out->kind = 0;
        out->u.m = m;
        return true;
    }
    return false;
}

static rf_status str_pred(tpl_ctx *c, const tstr *s, int id, tv *out) {
    size_t i = 0;
    bool ok = s->len > 0 || id == M_ISASCII, any_cased = false, prev_cased = false;
    if (id == M_ISIDENTIFIER) {
        int32_t cp;
        if (!s->len) { *out = tv_bool(false); return RF_OK; }
        size_t w = rf__utf8_dec(s->s, s->len, &cp);
        ok = cp == '_' || cp_alpha(cp) || utf8proc_category(cp) == UTF8PROC_CATEGORY_NL;
        for (i = w; ok && i < s->len;) {
            i += rf__utf8_dec(s->s + i, s->len - i, &cp);
            ok = cp_word(cp) || utf8proc_category(cp) == UTF8PROC_CATEGORY_MN ||
                 utf8proc_category(cp) == UTF8PROC_CATEGORY_MC || utf8proc_category(cp) == UTF8PROC_CATEGORY_PC;
        }
        *out = tv_bool(ok);
        return RF_OK;
    }
    while (ok && i < s->len) {
        int32_t cp;
        i += rf__utf8_dec(s->s + i, s->len - i, &cp);
        utf8proc_category_t k = utf8proc_category(cp);
        switch (id) {
        case M_ISDIGIT: ok = cp_digit(cp); break;
        case M_ISALPHA: ok = cp_alpha(cp); break;
        case M_ISALNUM: ok = cp_alpha(cp) || cp_numeric(cp) || cp_digit(cp); break;
        case M_ISSPACE: ok = rf__py_isspace(cp); break;
        case M_ISNUMERIC: ok = cp_numeric(cp); break;
        case M_ISDECIMAL: ok = cp_decimal(cp); break;
        case M_ISASCII: ok = cp < 0x80; break;
        case M_ISUPPER: if (k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT) ok = false; else if (k == UTF8PROC_CATEGORY_LU) any_cased = true; break;
        case M_ISLOWER: if (k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LT) ok = false; else if (k == UTF8PROC_CATEGORY_LL) any_cased = true; break;
        case M_ISTITLE:
            if (k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LT) { if (prev_cased) ok = false; prev_cased = any_cased = true; }
            else if (k == UTF8PROC_CATEGORY_LL) { if (!prev_cased) ok = false; prev_cased = true; }
            else prev_cased = false;
            break;
        }
    }
    if (id == M_ISUPPER || id == M_ISLOWER || id == M_ISTITLE) ok = ok && any_cased;
    *out = tv_bool(ok);
    return tpl_steps(c, s->len / 64);
}

static rf_status str_method(tpl_ctx *c, tmethod *m, const tv *args, size_t nargs, tdict *kw, tv *out) {
    rf_status st;
    tv self = m->self, a = tv_none(), b = tv_none();
    const tstr *s = self.u.s;
    const char *fname = m->name;
    switch (m->id) {
    case M_STRIP: case M_LSTRIP: case M_RSTRIP:
        if ((st = rf__tpl_check_args(c, fname, nargs, 1, NULL, NULL))) return st;
        if (kw && kw->n) return TPL_ERR(c, "%s() takes no keyword arguments", fname);
        rf__tpl_arg(args, nargs, NULL, 0, NULL, &a);
        return rf__str_strip(c, self, a, m->id == M_STRIP ? STRIP_BOTH : m->id == M_LSTRIP ? STRIP_LEFT : STRIP_RIGHT, out);
    case M_SPLIT: case M_RSPLIT: {
        static const char *const names[] = {"sep", "maxsplit", NULL};
        int64_t maxsplit = -1;
        if ((st = rf__tpl_check_args(c, fname, nargs, 2, kw, names))) return st;
        rf__tpl_arg(args, nargs, kw, 0, "sep", &a);
        if (rf__tpl_arg(args, nargs, kw, 1, "maxsplit", &b) && (st = need_int(c, b, fname, &maxsplit))) return st;
        return split_impl(c, self, a, maxsplit, m->id == M_RSPLIT, out);
    }
    case M_SPLITLINES: {
        static const char *const names[] = {"keepends", NULL};
        if ((st = rf__tpl_check_args(c, fname, nargs, 1, kw, names))) return st;
        rf__tpl_arg(args, nargs, kw, 0, "keepends", &a);
        return rf__str_splitlines(c, self, rf__tv_truthy(a), out);
    }
    case M_STARTSWITH: case M_ENDSWITH: {
        if ((st = rf__tpl_check_args(c, fname, nargs, 3, NULL, NULL))) return st;
        if (nargs < 1) return TPL_ERR(c, "%s() takes at least 1 argument (0 given)", fname);
        size_t lo, hi;
        if ((st = sub_range(c, s, args, nargs, 1, &lo, &hi))) return st;
        bool end = m->id == M_ENDSWITH, r = false;
        if (args[0].t == TV_STR) {
            r = match_at(s, lo, hi, args[0].u.s, end);
        } else if (args[0].t == TV_LIST && args[0].kind == LK_TUPLE) {
            for (size_t i = 0; i < args[0].u.l->n && !r; i++) {
                tv p = args[0].u.l->v[i];
                if (p.t != TV_STR) return TPL_ERR(c, "tuple for %s must only contain str, not %s", fname, rf__tv_type_name(p));
                r = match_at(s, lo, hi, p.u.s, end);
            }
        } else {
            if (args[0].t == TV_UNDEF) return rf__tpl_undef_error(c, args[0]);
            return TPL_ERR(c, "%s first arg must be str or a tuple of str, not %s", fname, rf__tv_type_name(args[0]));
        }
        *out = tv_bool(r);
        return RF_OK;
    }
    case M_UPPER: case M_LOWER: case M_TITLE: case M_CAPITALIZE: case M_SWAPCASE: case M_CASEFOLD:
        if ((st = rf__tpl_check_args(c, fname, nargs, 0, kw, NULL))) return st;
        return rf__str_case(c, self, m->id == M_UPPER ? CASE_UPPER : m->id == M_TITLE ? CASE_TITLE
                                    : m->id == M_CAPITALIZE ? CASE_CAPITALIZE : m->id == M_SWAPCASE ? CASE_SWAP : CASE_LOWER, out);
    case M_REPLACE: {
        static const char *const names[] = {"old", "new", "count", NULL};
        if ((st = rf__tpl_check_args(c, fname, nargs, 3, kw, names))) return st;
        int64_t count = -1;
        tv cnt;
        if (!rf__tpl_arg(args, nargs, kw, 0, "old", &a) || !rf__tpl_arg(args, nargs, kw, 1, "new", &b))
            return TPL_ERR(c, "replace() expected at least 2 arguments");
        if (rf__tpl_arg(args, nargs, kw, 2, "count", &cnt) && (st = need_int(c, cnt, fname, &count))) return st;
        return rf__str_replace(c, self, a, b, count, out);
    }
    case M_FIND: case M_RFIND: case M_INDEX: case M_RINDEX: case M_COUNT: {
        if ((st = rf__tpl_check_args(c, fname, nargs, 3, NULL, NULL))) return st;
        if (kw && kw->n) return TPL_ERR(c, "%s() takes no keyword arguments", fname);
        if (nargs < 1) return TPL_ERR(c, "%s() takes at least 1 argument (0 given)", fname);
        if ((st = need_str(c, args[0], "substring"))) return st;
        const tstr *sub = args[0].u.s;
        size_t lo, hi;
        if ((st = sub_range(c, s, args, nargs, 1, &lo, &hi))) return st;
        if ((st = tpl_steps(c, s->len / 64))) return st;
        if (m->id == M_COUNT) {
            int64_t n = 0;
            if (lo <= hi) {
                if (!sub->len) n = cp_index(s, hi) - cp_index(s, lo) + 1;
                else
                    for (size_t i = lo; i + sub->len <= hi;) {
                        const char *f = memmem(s->s + i, hi - i, sub->s, sub->len);
                        if (!f) break;
                        n++;
                        i = (size_t)(f - s->s) + sub->len;
                    }
            }
            *out = tv_int(n);
            return RF_OK;
        }
        int64_t pos = -1;
        if (lo <= hi && hi - lo >= sub->len) {
            if (m->id == M_FIND || m->id == M_INDEX) {
                const char *f = sub->len ? memmem(s->s + lo, hi - lo, sub->s, sub->len) : s->s + lo;
                if (f) pos = cp_index(s, (size_t)(f - s->s));
            } else {
                for (size_t q = hi - sub->len + 1; q-- > lo;)
                    if (memcmp(s->s + q, sub->s, sub->len) == 0) { pos = cp_index(s, q); break; }
            }
        }
        if (pos < 0 && (m->id == M_INDEX || m->id == M_RINDEX)) return TPL_ERR(c, "substring not found");
        *out = tv_int(pos);
        return RF_OK;
    }
    case M_JOIN: {
        if ((st = rf__tpl_check_args(c, fname, nargs, 1, NULL, NULL))) return st;
        if (nargs != 1) return TPL_ERR(c, "join() takes exactly one argument (%zu given)", nargs);
        tv *items;
        size_t n;
        if ((st = rf__tv_iter(c, args[0], &items, &n))) return st;
        sbuf buf = {0};
        for (size_t i = 0; i < n; i++) {
            if (items[i].t != TV_STR) {
                rf__sb_free(&buf);
                return TPL_ERR(c, "sequence item %zu: expected str instance, %s found", i, rf__tv_type_name(items[i]));
            }
            if ((i && (st = rf__sb_put(c, &buf, s->s, s->len))) ||
                (st = rf__sb_put(c, &buf, items[i].u.s->s, items[i].u.s->len)) || (st = tpl_steps(c, 1))) {
                rf__sb_free(&buf);
                return st;
            }
        }
        *out = rf__sb_take(c, &buf, &st);
        return st;
    }
    case M_FORMAT:
        return rf__py_str_format(c, self.u.s, args, nargs, kw, out);
    case M_FORMAT_MAP:
        if (nargs != 1 || (kw && kw->n)) return TPL_ERR(c, "format_map() takes exactly one argument");
        if (args[0].t != TV_DICT) return TPL_ERR(c, "format_map() argument must be a mapping");
        return rf__py_str_format(c, self.u.s, NULL, 0, args[0].u.d, out);
    case M_ISDIGIT: case M_ISALPHA: case M_ISALNUM: case M_ISSPACE: case M_ISUPPER: case M_ISLOWER: case M_ISTITLE:
    case M_ISNUMERIC: case M_ISDECIMAL: case M_ISASCII: case M_ISIDENTIFIER:
        if ((st = rf__tpl_check_args(c, fname, nargs, 0, kw, NULL))) return st;
        return str_pred(c, s, m->id, out);
    case M_CENTER: case M_LJUST: case M_RJUST: {
        if ((st = rf__tpl_check_args(c, fname, nargs, 2, NULL, NULL))) return st;
        if (nargs < 1) return TPL_ERR(c, "%s() takes at least 1 argument (0 given)", fname);
        int64_t width = 0;
        if ((st = need_int(c, args[0], fname, &width))) return st;
        const char *fill = " ";
        size_t fl = 1;
        if (nargs > 1) {
            if (args[1].t != TV_STR || rf__utf8_count(args[1].u.s->s, args[1].u.s->len) != 1)
                return TPL_ERR(c, "The fill character must be exactly one character long");
            fill = args[1].u.s->s;
            fl = args[1].u.s->len;
        }
        return rf__str_pad(c, self, width, fill, fl, m->id == M_CENTER ? '^' : m->id == M_LJUST ? '<' : '>', out);
    }
    case M_ZFILL: {
        if ((st = rf__tpl_check_args(c, fname, nargs, 1, NULL, NULL))) return st;
        int64_t width = 0;
        if (nargs != 1) return TPL_ERR(c, "zfill() takes exactly one argument");
        if ((st = need_int(c, args[0], fname, &width))) return st;
        int64_t n = (int64_t)rf__utf8_count(s->s, s->len);
        if (width <= n) { *out = self; return RF_OK; }
        if (width > (int64_t)c->max_str) return rf__tpl_fail(c, RF_ERR_BUDGET, "zfill width too large");
        tstr *r = rf__tstr_alloc(c, s->len + (size_t)(width - n));
        if (!r) return c->st;
        size_t sign = (s->len && (s->s[0] == '+' || s->s[0] == '-')) ? 1 : 0;
        memcpy(r->s, s->s, sign);
        memset(r->s + sign, '0', (size_t)(width - n));
        memcpy(r->s + sign + (size_t)(width - n), s->s + sign, s->len - sign);
        *out = tv_strv(r);
        return RF_OK;
    }
    case M_PARTITION: case M_RPARTITION: {
        if (nargs != 1 || (kw && kw->n)) return TPL_ERR(c, "%s() takes exactly one argument", fname);
        if ((st = need_str(c, args[0], "separator"))) return st;
        const tstr *sp = args[0].u.s;
        if (!sp->len) return TPL_ERR(c, "empty separator");
        size_t at = SIZE_MAX;
        if (m->id == M_PARTITION) {
            const char *f = memmem(s->s, s->len, sp->s, sp->len);
            if (f) at = (size_t)(f - s->s);
        } else if (s->len >= sp->len) {
            for (size_t q = s->len - sp->len + 1; q-- > 0;)
                if (memcmp(s->s + q, sp->s, sp->len) == 0) { at = q; break; }
        }
        tlist *l = rf__tlist_new(c, 3);
        if (!l) return c->st;
        static tstr empty = {0};
        if (at == SIZE_MAX) {
            l->v[0] = m->id == M_PARTITION ? self : tv_strv(&empty);
            l->v[1] = tv_strv(&empty);
            l->v[2] = m->id == M_PARTITION ? tv_strv(&empty) : self;
        } else {
            l->v[0] = rf__tv_str(c, s->s, at, &st);
            if (!st) l->v[1] = args[0];
            if (!st) l->v[2] = rf__tv_str(c, s->s + at + sp->len, s->len - at - sp->len, &st);
            if (st) return st;
        }
        *out = tv_listv(l, LK_TUPLE);
        return RF_OK;
    }
    case M_REMOVEPREFIX: case M_REMOVESUFFIX: {
        if (nargs != 1 || (kw && kw->n)) return TPL_ERR(c, "%s() takes exactly one argument", fname);
        if ((st = need_str(c, args[0], fname))) return st;
        const tstr *p = args[0].u.s;
        bool suf = m->id == M_REMOVESUFFIX;
        if (p->len && match_at(s, 0, s->len, p, suf)) {
            *out = rf__tv_str(c, s->s + (suf ? 0 : p->len), s->len - p->len, &st);
            return st;
        }
        *out = self;
        return RF_OK;
    }
    case M_EXPANDTABS: {
        static const char *const names[] = {"tabsize", NULL};
        if ((st = rf__tpl_check_args(c, fname, nargs, 1, kw, names))) return st;
        int64_t ts = 8;
        if (rf__tpl_arg(args, nargs, kw, 0, "tabsize", &a) && (st = need_int(c, a, fname, &ts))) return st;
        sbuf buf = {0};
        int64_t col = 0;
        for (size_t i = 0; i < s->len && !st;) {
            int32_t cp;
            size_t w = rf__utf8_dec(s->s + i, s->len - i, &cp);
            if (cp == '\t') {
                int64_t n = ts > 0 ? ts - col % ts : 0;
                if (n > (int64_t)c->max_str) { st = rf__tpl_fail(c, RF_ERR_BUDGET, "expandtabs() result too long"); break; }
                if ((st = tpl_steps(c, (uint64_t)n >> 6))) break;
                for (int64_t k = 0; k < n && !st; k++) st = rf__sb_putc(c, &buf, ' ');
                col += n;
            } else {
                st = rf__sb_put(c, &buf, s->s + i, w);
                col = (cp == '\n' || cp == '\r') ? 0 : col + 1;
            }
            i += w;
        }
        if (st) { rf__sb_free(&buf); return st; }
        *out = rf__sb_take(c, &buf, &st);
        return st;
    }
    default:
        return TPL_ERR(c, "unsupported method '%s'", fname);
    }
}

rf_status rf__tpl_call_method(tpl_ctx *c, tmethod *m, const tv *args, size_t nargs, tdict *kw, tv *out) {
    rf_status st;
    tv self = m->self;
    const char *fname = m->name;
    if (self.t == TV_STR) return str_method(c, m, args, nargs, kw, out);
    switch (m->id) {
    case M_LIST_INDEX: case M_LIST_COUNT: {
        if (kw && kw->n) return TPL_ERR(c, "%s() takes no keyword arguments", fname);
        if (nargs < 1 || nargs > (m->id == M_LIST_INDEX ? 3u : 1u)) return TPL_ERR(c, "%s(): wrong number of arguments", fname);
        const tlist *l = self.u.l;
        int64_t n = (int64_t)l->n, lo = 0, hi = n, cnt = 0;
        if (nargs > 1) { if ((st = need_int(c, args[1], fname, &lo))) return st; if (lo < 0) lo = RF_MAX(lo + n, 0); }
        if (nargs > 2) { if ((st = need_int(c, args[2], fname, &hi))) return st; if (hi < 0) hi = RF_MAX(hi + n, 0); }
        hi = RF_MIN(hi, n);
        for (int64_t i = lo; i < hi; i++) {
            bool eq;
            if ((st = rf__tv_eq(c, l->v[i], args[0], &eq))) return st;
            if (eq) {
                if (m->id == M_LIST_INDEX) { *out = tv_int(i); return RF_OK; }
                cnt++;
            }
        }
        if ((st = tpl_steps(c, (uint64_t)n / 8))) return st;
        if (m->id == M_LIST_INDEX) return TPL_ERR(c, "value is not in list");
        *out = tv_int(cnt);
        return RF_OK;
    }
    case M_COPY:
        if (nargs || (kw && kw->n)) return TPL_ERR(c, "copy() takes no arguments");
        if (self.t == TV_DICT) {
            tdict *d = rf__tdict_new(c, self.u.d->n);
            if (!d) return c->st;
            for (size_t i = 0; i < self.u.d->n; i++)
                if ((st = rf__tdict_set(c, d, self.u.d->keys[i], self.u.d->vals[i]))) return st;
            *out = tv_dictv(d);
            return RF_OK;
        } else {
            tlist *l = rf__tlist_new(c, self.u.l->n);
            if (!l) return c->st;
            memcpy(l->v, self.u.l->v, self.u.l->n * sizeof(tv));
            *out = tv_listv(l, LK_LIST);
            return RF_OK;
        }
    case M_ITEMS: case M_KEYS: case M_VALUES: {
        if (nargs || (kw && kw->n)) return TPL_ERR(c, "%s() takes no arguments", fname);
        const tdict *d = self.u.d;
        tlist *l = rf__tlist_new(c, d->n);
        if (!l) return c->st;
        if ((st = tpl_steps(c, d->n / 4))) return st;
        for (size_t i = 0; i < d->n; i++) {
            if (m->id == M_ITEMS) {
                tlist *pair = rf__tlist_new(c, 2);
                if (!pair) return c->st;
                pair->v[0] = d->keys[i];
                pair->v[1] = d->vals[i];
                l->v[i] = tv_listv(pair, LK_TUPLE);
            } else {
                l->v[i] = m->id == M_KEYS ? d->keys[i] : d->vals[i];
            }
        }
        *out = tv_listv(l, m->id == M_ITEMS ? LK_ITEMS : m->id == M_KEYS ? LK_KEYS : LK_VALUES);
        return RF_OK;
    }
    case M_GET:
        if (kw && kw->n) return TPL_ERR(c, "get() takes no keyword arguments");
        if (nargs < 1 || nargs > 2) return TPL_ERR(c, "get expected 1 or 2 arguments, got %zu", nargs);
        if (!rf__tdict_get(c, self.u.d, args[0], out, &st)) {
            if (st) return st;
            *out = nargs > 1 ? args[1] : tv_none();
        }
        return RF_OK;
    case M_CYCLE:
        if (kw && kw->n) return TPL_ERR(c, "cycle() takes no keyword arguments");
        if (!nargs) return TPL_ERR(c, "no items for cycling given");
        *out = args[self.u.loop->index0 % nargs];
        return RF_OK;
    case M_CHANGED: {
        tloop *L = self.u.loop;
        tlist *l = rf__tlist_new(c, nargs);
        if (!l) return c->st;
        if (nargs) memcpy(l->v, args, nargs * sizeof(tv));
        tv now = tv_listv(l, LK_TUPLE);
        bool same = false;
        if (L->has_changed && (st = rf__tv_eq(c, L->last_changed, now, &same))) return st;
        if (L->has_changed && same) { *out = tv_bool(false); return RF_OK; }
        L->last_changed = now;
        L->has_changed = true;
        *out = tv_bool(true);
        return RF_OK;
    }
    default:
        return TPL_ERR(c, "unsupported method '%s'", fname);
    }
}

/* ---- global functions ------------------------------------------------------------------------------ */
const char *rf__tpl_func_name(int id) {
    switch (id) {
    case FN_RANGE: return "range";
    case FN_NAMESPACE: return "namespace";
    case FN_DICT: return "dict";
    case FN_RAISE: return "raise_exception";
    case FN_STRFTIME: return "strftime_now";
    case FN_LIPSUM: return "lipsum";
    case FN_CYCLER: return "cycler";
    case FN_JOINER: return "joiner";
    default: return NULL;
    }
}

/* dict(*args, **kwargs) into d */
static rf_status dict_fill(tpl_ctx *c, const char *fname, tdict *d, const tv *args, size_t nargs, tdict *kw) {
    rf_status st;
    if (nargs > 1) return TPL_ERR(c, "%s expected at most 1 argument, got %zu", fname, nargs);
    if (nargs == 1) {
        tv a = args[0];
        if (a.t == TV_DICT || a.t == TV_NS) {
            for (size_t i = 0; i < a.u.d->n; i++)
                if ((st = rf__tdict_set(c, d, a.u.d->keys[i], a.u.d->vals[i]))) return st;
        } else {
            tv *items;
            size_t n;
            if ((st = rf__tv_iter(c, a, &items, &n))) return st;
            for (size_t i = 0; i < n; i++) {
                tv *pair;
                size_t pn;
                if (items[i].t == TV_STR || (st = rf__tv_iter(c, items[i], &pair, &pn)))
                    return st ? st : TPL_ERR(c, "cannot convert dictionary update sequence element #%zu to a sequence", i);
                if (pn != 2)
                    return TPL_ERR(c, "dictionary update sequence element #%zu has length %zu; 2 is required", i, pn);
                if ((st = rf__tdict_set(c, d, pair[0], pair[1]))) return st;
            }
        }
    }
    for (size_t i = 0; kw && i < kw->n; i++)
        if ((st = rf__tdict_set(c, d, kw->keys[i], kw->vals[i]))) return st;
    return RF_OK;
}

rf_status rf__tpl_call_func(tpl_ctx *c, int id, const tv *args, size_t nargs, tdict *kw, tv *out) {
    rf_status st;
    switch (id) {
    case FN_RANGE: {
        if (kw && kw->n) return TPL_ERR(c, "range() takes no keyword arguments");
        if (nargs < 1 || nargs > 3) return TPL_ERR(c, "range expected 1 to 3 arguments, got %zu", nargs);
        int64_t v[3] = {0, 0, 1};
        for (size_t i = 0; i < nargs; i++) {
            if (!tv_is_intlike(args[i])) {
                if (args[i].t == TV_UNDEF) return rf__tpl_undef_error(c, args[i]);
                return TPL_ERR(c, "'%s' object cannot be interpreted as an integer", rf__tv_type_name(args[i]));
            }
        }
        if (nargs == 1) v[1] = tv_ival(args[0]);
        else { v[0] = tv_ival(args[0]); v[1] = tv_ival(args[1]); if (nargs == 3) v[2] = tv_ival(args[2]); }
        if (v[2] == 0) return TPL_ERR(c, "range() arg 3 must not be zero");
        long double span = v[2] > 0 ? (long double)v[1] - v[0] : (long double)v[0] - v[1];
        long double cnt = span <= 0 ? 0 : (span + (v[2] > 0 ? v[2] : -(long double)v[2]) - 1) / (v[2] > 0 ? v[2] : -(long double)v[2]);
        if (cnt > MAX_RANGE)
            return rf__tpl_fail(c, RF_ERR_BUDGET, "range() of %.0Lf items exceeds the sandbox limit of %d", cnt, MAX_RANGE);
        size_t n = (size_t)cnt;
        if ((st = tpl_steps(c, n / 4))) return st;
        tlist *l = rf__tlist_new(c, n);
        if (!l) return c->st;
        for (size_t i = 0; i < n; i++) l->v[i] = tv_int(v[0] + (int64_t)i * v[2]);
        *out = tv_listv(l, LK_LIST);
        return RF_OK;
    }
    case FN_NAMESPACE: case FN_DICT: {
        tdict *d = rf__tdict_new(c, 8);
        if (!d) return c->st;
        if ((st = dict_fill(c, id == FN_DICT ? "dict" : "namespace", d, args, nargs, kw))) return st;
        *out = tv_dictv(d);
        if (id == FN_NAMESPACE) out->t = TV_NS;
        return RF_OK;
    }
    case FN_RAISE: {
        tv msg = nargs ? args[0] : tv_none();
        if (!nargs && kw) rf__tpl_arg(args, nargs, kw, 0, "message", &msg);
        tv s;
        if ((st = rf__tv_to_str(c, msg, &s))) return st;
        return TPL_ERR(c, "%.*s", (int)RF_MIN(s.u.s->len, (size_t)380), s.u.s->s);
    }
    case FN_STRFTIME: {
        /* datetime.now().strftime(fmt): a naive local time, so %z and %Z are empty;
         * %f is the microseconds; the rest goes to the C library like CPython does. */
        tv fmt;
        if (!rf__tpl_arg(args, nargs, kw, 0, "format", &fmt) || nargs > 1)
            return TPL_ERR(c, "strftime_now() takes exactly one argument");
        if (fmt.t != TV_STR) return TPL_ERR(c, "strftime() argument 1 must be str, not %s", rf__tv_type_name(fmt));
        struct timespec ts;
        if (c->fixed_time) { ts.tv_sec = (time_t)c->now; ts.tv_nsec = 0; }
        else clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tmv;
        if (!(c->fixed_time ? gmtime_r(&ts.tv_sec, &tmv) : localtime_r(&ts.tv_sec, &tmv))) return TPL_ERR(c, "time out of range");
        if (fmt.u.s->len > 4096) return TPL_ERR(c, "strftime format too long");
        sbuf f = {0};
        st = RF_OK;
        const char *p = fmt.u.s->s;
        size_t n = fmt.u.s->len;
        for (size_t i = 0; i < n && !st; i++) {
            if (p[i] == '%' && i + 1 < n) {
                char d = p[i + 1];
                if (d == 'z' || d == 'Z') { i++; continue; }
                if (d == 'f') { st = rf__sb_printf(c, &f, "%06ld", (long)(ts.tv_nsec / 1000)); i++; continue; }
                if (d == '%') { st = rf__sb_put(c, &f, "%%", 2); i++; continue; }
            }
            st = rf__sb_putc(c, &f, p[i]);
        }
        if (st) { rf__sb_free(&f); return st; }
        if (!f.len || memchr(f.p, '\0', f.len)) {
            *out = rf__tv_str(c, f.p ? f.p : "", strnlen(f.p ? f.p : "", f.len), &st);
            rf__sb_free(&f);
            return st;
        }
        size_t cap = 256 + f.len * 16;
        char *buf = rf__tpl_alloc(&c->ar, cap);
        if (!buf) { rf__sb_free(&f); return rf__tpl_nomem(c); }
        size_t len = strftime(buf, cap, f.p, &tmv);
        rf__sb_free(&f);
        *out = rf__tv_str(c, buf, len, &st);
        return st;
    }
    default:
        return TPL_ERR(c, "%s() is not supported by this template engine", rf__tpl_func_name(id));
    }
}
