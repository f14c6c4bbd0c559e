/*
 * pyfmt.c - Python number and string formatting used by templates:
 * float repr (shortest round-trip), printf-style 'fmt' % args (the `%`
 * operator and the |format filter) and str.format() with the format
 * specification mini-language.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template/tpl.h"

/* ---- float repr ------------------------------------------------------------------------- */
size_t rf__py_float_repr(double f, char *out, size_t cap) {
    if (cap < 32) { if (cap) out[0] = '\0'; return 0; }
    if (f != f) return (size_t)snprintf(out, cap, "nan");
    if (isinf(f)) return (size_t)snprintf(out, cap, f > 0 ? "inf" : "-inf");
    char buf[48];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, f);
        if (strtod(buf, NULL) == f) break;
    }
    /* buf: [-]D[.DDD]e[+-]XX */
    const char *s = buf;
    bool neg = *s == '-';
    if (neg) s++;
    char digits[24];
    size_t nd = 0;
    while (*s && *s != 'e') {
        if (*s != '.' && nd < sizeof digits - 1) digits[nd++] = *s;
        s++;
    }
    int e = *s == 'e' ? (int)strtol(s + 1, NULL, 10) : 0; /* exponent printed by %e: small */
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    digits[nd] = '\0';
    size_t o = 0;
    if (neg) out[o++] = '-';
    if (e >= -4 && e < 16) {
        int decpt = e + 1;
        if (decpt <= 0) {
            out[o++] = '0';
            out[o++] = '.';
            for (int i = 0; i < -decpt; i++) out[o++] = '0';
            memcpy(out + o, digits, nd);
            o += nd;
        } else if ((size_t)decpt >= nd) {
            memcpy(out + o, digits, nd);
            o += nd;
            for (size_t i = nd; i < (size_t)decpt; i++) out[o++] = '0';
            out[o++] = '.';
            out[o++] = '0';
        } else {
            memcpy(out + o, digits, (size_t)decpt);
            o += (size_t)decpt;
            out[o++] = '.';
            memcpy(out + o, digits + decpt, nd - (size_t)decpt);
            o += nd - (size_t)decpt;
        }
        out[o] = '\0';
        return o;
    }
    out[o++] = digits[0];
    if (nd > 1) {
        out[o++] = '.';
        memcpy(out + o, digits + 1, nd - 1);
        o += nd - 1;
    }
    o += (size_t)snprintf(out + o, cap - o, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    return o;
}

/* ---- shared pieces ------------------------------------------------------------------------ */
static rf_status pad_put(tpl_ctx *c, sbuf *b, const char *s, size_t len, size_t width, char align,
                         const char *fill, size_t fill_len, size_t sign_len) {
    size_t cps = rf__utf8_count(s, len);
    size_t padn = width > cps ? width - cps : 0;
    rf_status st = RF_OK;
    if (!padn) return rf__sb_put(c, b, s, len);
    if ((st = tpl_steps(c, padn / 64))) return st;
    size_t left = align == '<' ? 0 : align == '^' ? padn / 2 : padn;
    size_t right = padn - left;
    if (align == '=') {
        if ((st = rf__sb_put(c, b, s, sign_len))) return st;
        for (size_t i = 0; !st && i < padn; i++) st = rf__sb_put(c, b, fill, fill_len);
        if (!st) st = rf__sb_put(c, b, s + sign_len, len - sign_len);
        return st;
    }
    for (size_t i = 0; !st && i < left; i++) st = rf__sb_put(c, b, fill, fill_len);
    if (!st) st = rf__sb_put(c, b, s, len);
    for (size_t i = 0; !st && i < right; i++) st = rf__sb_put(c, b, fill, fill_len);
    return st;
}

/* digits of |v| in a base, with optional grouping; returns length */
static size_t int_digits(uint64_t v, int base, bool upper, char group, int every, char *out, size_t cap) {
    char tmp[160];
    size_t n = 0;
    const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int k = 0;
    do {
        if (group && k && k % every == 0) tmp[n++] = group;
        tmp[n++] = dig[v % (uint64_t)base];
        v /= (uint64_t)base;
        k++;
    } while (v && n < sizeof tmp - 2);
    if (n >= cap) n = cap - 1;
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return n;
}

static uint64_t uabs64(int64_t v) { return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v; }

/* ---- printf-style ------------------------------------------------------------------------------ */
rf_status rf__py_percent_format(tpl_ctx *c, tstr *fmt, tv args, tv *out) {
    const tv *argv = &args;
    size_t argc = 1, argi = 0;
    bool mapping = args.t == TV_DICT;
    /* a single mapping-like argument (dict, list, Undefined) may go unused without an error */
    bool single_container = (args.t == TV_LIST && args.kind != LK_TUPLE) || args.t == TV_UNDEF;
    if (args.t == TV_LIST && args.kind == LK_TUPLE) { argv = args.u.l->v; argc = args.u.l->n; }
    sbuf b = {0};
    rf_status st = RF_OK;
    const char *s = fmt->s, *end = fmt->s + fmt->len;
    bool used_mapping = false;
    while (s < end) {
        const char *pct = memchr(s, '%', (size_t)(end - s));
        if (!pct) { st = rf__sb_put(c, &b, s, (size_t)(end - s)); break; }
        if ((st = rf__sb_put(c, &b, s, (size_t)(pct - s)))) goto fail;
        s = pct + 1;
        if (s >= end) { st = TPL_ERR(c, "incomplete format"); goto fail; }
        tv arg = tv_none();
        bool have_key = false;
        if (*s == '(') {
            const char *k = ++s;
            int depth = 1;
            while (s < end && depth) { if (*s == '(') depth++; else if (*s == ')') depth--; if (depth) s++; }
            if (s >= end) { st = TPL_ERR(c, "incomplete format key"); goto fail; }
            if (args.t == TV_UNDEF) { st = rf__tpl_undef_error(c, args); goto fail; }
            if (!mapping) { st = TPL_ERR(c, "format requires a mapping"); goto fail; }
            if (!rf__tdict_get_str(args.u.d, k, (size_t)(s - k), &arg)) {
                st = TPL_ERR(c, "KeyError: '%.*s'", (int)RF_MIN((size_t)(s - k), 100), k);
                goto fail;
            }
            s++;
            have_key = used_mapping = true;
        }
        bool left = false, plus = false, space = false, alt = false, zero = false;
        for (; s < end; s++) {
            if (*s == '-') left = true;
            else if (*s == '+') plus = true;
            else if (*s == ' ') space = true;
            else if (*s == '#') alt = true;
            else if (*s == '0') zero = true;
            else break;
        }
        size_t width = 0;
        int prec = -1;
        if (s < end && *s == '*') {
            if (argi >= argc || mapping) { st = TPL_ERR(c, "not enough arguments for format string"); goto fail; }
            tv w = argv[argi++];
            if (!tv_is_intlike(w)) { st = TPL_ERR(c, "* wants int"); goto fail; }
            int64_t wv = tv_ival(w);
            if (wv < 0) { left = true; wv = wv == INT64_MIN ? INT64_MAX : -wv; }
            width = (uint64_t)wv > c->max_str ? c->max_str + 1 : (size_t)wv;
            s++;
        } else {
            while (s < end && *s >= '0' && *s <= '9') { width = width * 10 + (size_t)(*s - '0'); if (width > c->max_str) width = c->max_str + 1; s++; }
        }
        if (s < end && *s == '.') {
            s++;
            prec = 0;
            if (s < end && *s == '*') {
                if (argi >= argc || mapping) { st = TPL_ERR(c, "not enough arguments for format string"); goto fail; }
                tv pv = argv[argi++];
                if (!tv_is_intlike(pv)) { st = TPL_ERR(c, "* wants int"); goto fail; }
                prec = (int)RF_MAX(0, RF_MIN(tv_ival(pv), 100000000));
                s++;
            } else {
                while (s < end && *s >= '0' && *s <= '9') { prec = prec * 10 + (*s - '0'); if (prec > 100000000) prec = 100000000; s++; }
            }
        }
        while (s < end && (*s == 'h' || *s == 'l' || *s == 'L')) s++;
        if (s >= end) { st = TPL_ERR(c, "incomplete format"); goto fail; }
        char conv = *s++;
        if (conv == '%') {
            if ((st = rf__sb_putc(c, &b, '%'))) goto fail;
            continue;
        }
        if (width > c->max_str) { st = rf__tpl_fail(c, RF_ERR_BUDGET, "format width too large"); goto fail; }
        if (!have_key) {
            if (mapping && argc == 1) arg = args;
            else if (argi >= argc) { st = TPL_ERR(c, "not enough arguments for format string"); goto fail; }
            else arg = argv[argi++];
        }
        if (arg.t == TV_UNDEF && conv != 's') { st = rf__tpl_undef_error(c, arg); goto fail; }
        char numbuf[400];
        const char *txt = numbuf;
        size_t tlen = 0, sign_len = 0;
        tv sv;
        switch (conv) {
        case 's': case 'r': case 'a': {
            sbuf tmp = {0};
            st = conv == 's' ? rf__tv_write_str(c, &tmp, arg) : rf__tv_write_repr(c, &tmp, arg);
            if (st) { rf__sb_free(&tmp); goto fail; }
            sv = rf__sb_take(c, &tmp, &st);
            if (st) goto fail;
            txt = sv.u.s->s;
            tlen = sv.u.s->len;
            if (prec >= 0) tlen = rf__utf8_offset(txt, tlen, (size_t)prec);
            zero = false;
            break;
        }
        case 'd': case 'i': case 'u': case 'x': case 'X': case 'o': {
            int64_t v;
            if (tv_is_intlike(arg)) v = tv_ival(arg);
            else if (arg.t == TV_FLOAT && (conv == 'd' || conv == 'i' || conv == 'u')) {
                if (arg.u.f != arg.u.f || fabs(arg.u.f) >= 9.2e18) { st = TPL_ERR(c, "cannot convert float to integer"); goto fail; }
                v = (int64_t)arg.u.f;
            } else {
                st = TPL_ERR(c, "%%%c format: %s is required, not %s", conv,
                             (conv == 'x' || conv == 'X' || conv == 'o') ? "an integer" : "a real number",
                             rf__tv_type_name(arg));
                goto fail;
            }
            char *p = numbuf;
            if (v < 0) *p++ = '-';
            else if (plus) *p++ = '+';
            else if (space) *p++ = ' ';
            sign_len = (size_t)(p - numbuf);
            if (alt && conv != 'd' && conv != 'i' && conv != 'u') {
                *p++ = '0';
                *p++ = conv == 'o' ? 'o' : conv;
                sign_len += 2;
            }
            int base = conv == 'o' ? 8 : (conv == 'x' || conv == 'X') ? 16 : 10;
            char dig[80];
            size_t nd = int_digits(uabs64(v), base, conv == 'X', 0, 3, dig, sizeof dig);
            if (prec > 0 && (size_t)prec > nd) {
                size_t z = RF_MIN((size_t)prec - nd, (size_t)200);
                memset(p, '0', z);
                p += z;
            }
            memcpy(p, dig, nd);
            p += nd;
            tlen = (size_t)(p - numbuf);
            break;
        }
        case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': {
            if (!tv_is_num(arg)) { st = TPL_ERR(c, "must be real number, not %s", rf__tv_type_name(arg)); goto fail; }
            char f[16], *q = f;
            *q++ = '%';
            if (plus) *q++ = '+';
            if (space) *q++ = ' ';
            if (alt) *q++ = '#';
            *q++ = '.';
            *q++ = '*';
            *q++ = conv;
            *q = '\0';
            int pr = prec < 0 ? 6 : RF_MIN(prec, 300);
            double fv = tv_fval(arg);
            if (conv != 'e' && conv != 'E' && conv != 'g' && conv != 'G' && fabs(fv) > 1e300) pr = RF_MIN(pr, 20);
            int n = snprintf(numbuf, sizeof numbuf, f, pr, fv);
            tlen = n < 0 ? 0 : RF_MIN((size_t)n, sizeof numbuf - 1);
            sign_len = (tlen && (numbuf[0] == '-' || numbuf[0] == '+' || numbuf[0] == ' ')) ? 1 : 0;
            if (isinf(fv) || fv != fv) zero = false;
            break;
        }
        case 'c': {
            int32_t cp;
            if (tv_is_intlike(arg)) {
                int64_t v = tv_ival(arg);
                if (v < 0 || v > 0x10FFFF) { st = TPL_ERR(c, "%%c arg not in range(0x110000)"); goto fail; }
                cp = (int32_t)v;
            } else if (arg.t == TV_STR && rf__utf8_count(arg.u.s->s, arg.u.s->len) == 1) {
                rf__utf8_dec(arg.u.s->s, arg.u.s->len, &cp);
            } else {
                st = TPL_ERR(c, "%%c requires int or char");
                goto fail;
            }
            tlen = rf__utf8_enc(cp, numbuf);
            zero = false;
            break;
        }
        default:
            st = TPL_ERR(c, "unsupported format character '%c' (0x%x)", (conv >= 0x20 && conv < 0x7f) ? conv : '?',
                         (unsigned)(unsigned char)conv);
            goto fail;
        }
        char align = left ? '<' : (zero ? '=' : '>');
        const char *fill = (zero && !left) ? "0" : " ";
        if ((st = pad_put(c, &b, txt, tlen, width, align, fill, 1, sign_len))) goto fail;
    }
    if (!used_mapping && !mapping && !single_container && argi < argc) {
        st = TPL_ERR(c, "not all arguments converted during string formatting");
        goto fail;
    }
    *out = rf__sb_take(c, &b, &st);
    return st;
fail:
    rf__sb_free(&b);
    return st;
}

/* ---- str.format ----------------------------------------------------------------------------------- */
typedef struct fspec {
    char fill[4];
    size_t fill_len;
    char align;      /* 0 = default */
    char sign;       /* 0, '+', '-', ' ' */
    bool alt, zero;
    size_t width;
    char group;      /* 0, ',', '_' */
    int prec;        /* -1 = none */
    char type;       /* 0 = none */
} fspec;

static rf_status parse_spec(tpl_ctx *c, const char *s, size_t len, fspec *f) {
    memset(f, 0, sizeof *f);
    f->prec = -1;
    memcpy(f->fill, " ", 1);
    f->fill_len = 1;
    size_t i = 0;
    int32_t cp;
    size_t w = len ? rf__utf8_dec(s, len, &cp) : 0;
    if (w && w < len && (s[w] == '<' || s[w] == '>' || s[w] == '^' || s[w] == '=')) {
        memcpy(f->fill, s, w);
        f->fill_len = w;
        f->align = s[w];
        i = w + 1;
    } else if (len && (s[0] == '<' || s[0] == '>' || s[0] == '^' || s[0] == '=')) {
        f->align = s[0];
        i = 1;
    }
    if (i < len && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) f->sign = s[i++];
    if (i < len && s[i] == 'z') i++;
    if (i < len && s[i] == '#') { f->alt = true; i++; }
    if (i < len && s[i] == '0') { f->zero = true; i++; }
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        f->width = f->width * 10 + (size_t)(s[i++] - '0');
        if (f->width > c->max_str) return rf__tpl_fail(c, RF_ERR_BUDGET, "format width too large");
    }
    if (i < len && (s[i] == ',' || s[i] == '_')) f->group = s[i++];
    if (i < len && s[i] == '.') {
        i++;
        if (i >= len || s[i] < '0' || s[i] > '9') return TPL_ERR(c, "Format specifier missing precision");
        f->prec = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') { f->prec = f->prec * 10 + (s[i++] - '0'); if (f->prec > 100000) f->prec = 100000; }
    }
    if (i < len) f->type = s[i++];
    if (i < len) return TPL_ERR(c, "Invalid format specifier");
    if (f->zero && !f->align) {
        memcpy(f->fill, "0", 1);
        f->fill_len = 1;
        f->align = '=';
    }
    return RF_OK;
}

static rf_status format_value(tpl_ctx *c, sbuf *b, tv v, const char *spec, size_t slen) {
    rf_status st;
    if (!slen) {
        sbuf tmp = {0};
        if ((st = rf__tv_write_str(c, &tmp, v))) { rf__sb_free(&tmp); return st; }
        st = rf__sb_put(c, b, tmp.p ? tmp.p : "", tmp.len);
        rf__sb_free(&tmp);
        return st;
    }
    fspec f;
    if ((st = parse_spec(c, spec, slen, &f))) return st;
    char num[1024];
    size_t nlen = 0, sign_len = 0;
    if (v.t == TV_STR) {
        if (f.type && f.type != 's') return TPL_ERR(c, "Unknown format code '%c' for object of type 'str'", f.type);
        if (f.sign) return TPL_ERR(c, "Sign not allowed in string format specifier");
        if (f.align == '=') return TPL_ERR(c, "'=' alignment not allowed in string format specifier");
        size_t len = v.u.s->len;
        if (f.prec >= 0) len = rf__utf8_offset(v.u.s->s, len, (size_t)f.prec);
        return pad_put(c, b, v.u.s->s, len, f.width, f.align ? f.align : '<', f.fill, f.fill_len, 0);
    }
    if (!tv_is_num(v)) return TPL_ERR(c, "unsupported format string passed to %s.__format__", rf__tv_type_name(v));
    char type = f.type;
    bool is_int = tv_is_intlike(v);
    if (is_int && (!type || type == 'd' || type == 'n' || type == 'b' || type == 'o' || type == 'x' ||
                   type == 'X' || type == 'c')) {
        if (f.prec >= 0) return TPL_ERR(c, "Precision not allowed in integer format specifier");
        int64_t iv = tv_ival(v);
        char *p = num;
        if (type == 'c') {
            if (iv < 0 || iv > 0x10FFFF) return TPL_ERR(c, "%%c arg not in range(0x110000)");
            nlen = rf__utf8_enc((int32_t)iv, num);
        } else {
            if (iv < 0) *p++ = '-';
            else if (f.sign == '+' || f.sign == ' ') *p++ = f.sign;
            int base = type == 'b' ? 2 : type == 'o' ? 8 : (type == 'x' || type == 'X') ? 16 : 10;
            if (f.alt && base != 10) { *p++ = '0'; *p++ = type == 'b' ? 'b' : type == 'o' ? 'o' : type; }
            sign_len = (size_t)(p - num);
            p += int_digits(uabs64(iv), base, type == 'X', f.group, base == 10 ? 3 : 4, p, sizeof num - 8);
            nlen = (size_t)(p - num);
        }
    } else if (!type || type == 'e' || type == 'E' || type == 'f' || type == 'F' || type == 'g' ||
               type == 'G' || type == 'n' || type == '%') {
        double fv = tv_fval(v);
        bool pct = type == '%';
        if (pct) fv *= 100.0;
        char body[400];
        size_t blen;
        if (!type && f.prec < 0) {
            if (is_int) blen = (size_t)snprintf(body, sizeof body, "%lld", (long long)tv_ival(v));
            else blen = rf__py_float_repr(fv, body, sizeof body);
        } else {
            char ct = (!type || type == 'n') ? 'g' : pct ? 'f' : type;
            int pr = f.prec < 0 ? 6 : RF_MIN(f.prec, 300);
            if ((ct == 'f' || ct == 'F') && fabs(fv) > 1e300) pr = RF_MIN(pr, 20);
            char cf[8] = {'%', 0};
            size_t q = 1;
            if (f.alt) cf[q++] = '#';
            cf[q++] = '.';
            cf[q++] = '*';
            cf[q++] = ct;
            int n = snprintf(body, sizeof body, cf, pr, fv);
            blen = n < 0 ? 0 : RF_MIN((size_t)n, sizeof body - 1);
            if (!type && f.prec >= 0 && !memchr(body, '.', blen) && !memchr(body, 'e', blen) &&
                !memchr(body, 'n', blen) && blen + 2 < sizeof body) {
                memcpy(body + blen, ".0", 2);
                blen += 2;
            }
        }
        char *p = num;
        const char *bd = body;
        if (*bd == '-') { *p++ = '-'; bd++; blen--; }
        else if (f.sign == '+' || f.sign == ' ') *p++ = f.sign;
        sign_len = (size_t)(p - num);
        if (f.group) {
            size_t intlen = 0;
            while (intlen < blen && bd[intlen] >= '0' && bd[intlen] <= '9') intlen++;
            for (size_t i = 0; i < intlen; i++) {
                if (i && (intlen - i) % 3 == 0) *p++ = f.group;
                *p++ = bd[i];
            }
            memcpy(p, bd + intlen, blen - intlen);
            p += blen - intlen;
        } else {
            memcpy(p, bd, blen);
            p += blen;
        }
        if (pct) *p++ = '%';
        nlen = (size_t)(p - num);
    } else {
        return TPL_ERR(c, "Unknown format code '%c' for object of type '%s'", type, rf__tv_type_name(v));
    }
    return pad_put(c, b, num, nlen, f.width, f.align ? f.align : '>', f.fill, f.fill_len, sign_len);
}

static rf_status field_value(tpl_ctx *c, const char *s, size_t len, const tv *args, size_t nargs,
                             const tdict *kwargs, size_t *auto_idx, int *mode, tv *out) {
    size_t i = 0;
    while (i < len && s[i] != '.' && s[i] != '[') i++;
    tv v;
    if (i == 0) {
        if (*mode == 2) return TPL_ERR(c, "cannot switch from manual field specification to automatic field numbering");
        *mode = 1;
        if (*auto_idx >= nargs) return TPL_ERR(c, "Replacement index %zu out of range for positional args tuple", *auto_idx);
        v = args[(*auto_idx)++];
    } else {
        bool digits = true;
        for (size_t k = 0; k < i; k++) if (s[k] < '0' || s[k] > '9') digits = false;
        if (digits) {
            if (*mode == 1) return TPL_ERR(c, "cannot switch from automatic field numbering to manual field specification");
            *mode = 2;
            size_t idx = 0;
            for (size_t k = 0; k < i; k++) idx = RF_MIN(idx * 10 + (size_t)(s[k] - '0'), (size_t)1 << 30);
            if (idx >= nargs) return TPL_ERR(c, "Replacement index %zu out of range for positional args tuple", idx);
            v = args[idx];
        } else {
            if (!kwargs || !rf__tdict_get_str(kwargs, s, i, &v))
                return TPL_ERR(c, "KeyError: '%.*s'", (int)RF_MIN(i, 100), s);
        }
    }
    while (i < len) {
        rf_status st;
        if (s[i] == '.') {
            size_t k = ++i;
            while (i < len && s[i] != '.' && s[i] != '[') i++;
            if (i == k) return TPL_ERR(c, "Empty attribute in format string");
            if ((st = rf__tpl_getattr(c, v, s + k, i - k, &v))) return st;
        } else {
            size_t k = ++i;
            while (i < len && s[i] != ']') i++;
            if (i >= len || i == k) return TPL_ERR(c, "Missing ']' in format string");
            bool digits = true;
            for (size_t q = k; q < i; q++) if (s[q] < '0' || s[q] > '9') digits = false;
            tv key;
            if (digits) {
                int64_t idx = 0;
                for (size_t q = k; q < i; q++) idx = RF_MIN(idx * 10 + (s[q] - '0'), (int64_t)1 << 40);
                key = tv_int(idx);
            } else {
                key = rf__tv_str(c, s + k, i - k, &st);
                if (st) return st;
            }
            if ((st = rf__tpl_getitem(c, v, key, &v))) return st;
            i++;
            if (i < len && s[i] != '.' && s[i] != '[') return TPL_ERR(c, "Only '.' or '[' may follow ']' in format field specifier");
        }
    }
    *out = v;
    return RF_OK;
}

static rf_status str_format_rec(tpl_ctx *c, sbuf *b, const char *s, size_t len, const tv *args, size_t nargs,
                                const tdict *kwargs, size_t *auto_idx, int *mode, int depth) {
    rf_status st = RF_OK;
    size_t i = 0;
    if (depth > 2) return TPL_ERR(c, "Max string recursion exceeded");
    while (i < len) {
        char ch = s[i];
        if (ch == '}') {
            if (i + 1 < len && s[i + 1] == '}') { if ((st = rf__sb_putc(c, b, '}'))) return st; i += 2; continue; }
            return TPL_ERR(c, "Single '}' encountered in format string");
        }
        if (ch != '{') {
            size_t k = i;
            while (k < len && s[k] != '{' && s[k] != '}') k++;
            if ((st = rf__sb_put(c, b, s + i, k - i))) return st;
            i = k;
            continue;
        }
        if (i + 1 < len && s[i + 1] == '{') { if ((st = rf__sb_putc(c, b, '{'))) return st; i += 2; continue; }
        /* replacement field: find the matching '}' (nested braces allowed in the spec) */
        size_t k = i + 1, fend = 0, spec = 0;
        int nest = 1;
        char conv = 0;
        while (k < len) {
            if (s[k] == '[' && !spec) { while (k < len && s[k] != ']') k++; if (k >= len) break; k++; continue; }
            if (s[k] == '{') nest++;
            else if (s[k] == '}') { if (--nest == 0) break; }
            else if (s[k] == ':' && nest == 1 && !spec) spec = k;
            else if (s[k] == '!' && nest == 1 && !spec && !fend) fend = k;
            k++;
        }
        if (k >= len) return TPL_ERR(c, "expected '}' before end of string");
        size_t name_end = fend ? fend : spec ? spec : k;
        if (fend) {
            if (fend + 2 != (spec ? spec : k)) return TPL_ERR(c, "expected ':' after conversion specifier");
            conv = s[fend + 1];
            if (conv != 'r' && conv != 's' && conv != 'a') return TPL_ERR(c, "Unknown conversion specifier %c", conv);
        }
        tv v;
        if ((st = field_value(c, s + i + 1, name_end - i - 1, args, nargs, kwargs, auto_idx, mode, &v))) return st;
        if (conv) {
            sbuf tmp = {0};
            st = conv == 's' ? rf__tv_write_str(c, &tmp, v) : rf__tv_write_repr(c, &tmp, v);
            if (st) { rf__sb_free(&tmp); return st; }
            v = rf__sb_take(c, &tmp, &st);
            if (st) return st;
        }
        if (spec) {
            sbuf sp = {0};
            if ((st = str_format_rec(c, &sp, s + spec + 1, k - spec - 1, args, nargs, kwargs, auto_idx, mode, depth + 1))) {
                rf__sb_free(&sp);
                return st;
            }
            st = format_value(c, b, v, sp.p ? sp.p : "", sp.len);
            rf__sb_free(&sp);
            if (st) return st;
        } else if ((st = format_value(c, b, v, "", 0))) {
            return st;
        }
        i = k + 1;
    }
    return RF_OK;
}

rf_status rf__py_str_format(tpl_ctx *c, tstr *fmt, const tv *args, size_t nargs, const tdict *kwargs, tv *out) {
    sbuf b = {0};
    size_t auto_idx = 0;
    int mode = 0;
    rf_status st = str_format_rec(c, &b, fmt->s, fmt->len, args, nargs, kwargs, &auto_idx, &mode, 0);
    if (st) { rf__sb_free(&b); return st; }
    *out = rf__sb_take(c, &b, &st);
    return st;
}
