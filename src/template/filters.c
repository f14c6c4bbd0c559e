/*
 * filters.c - jinja2's built-in filters and tests, with jinja2 3.1's argument
 * names and defaults, plus transformers' tojson (json.dumps with
 * ensure_ascii=False, indent, separators, sort_keys).
 *
 * Filters that are generators in jinja2 (map, select, reject, selectattr,
 * rejectattr, unique, batch, slice, items) return generator-like lists:
 * always true, no len(), not subscriptable, not JSON serializable, like the
 * real thing; |list turns them into lists.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <utf8proc.h>

#include "template/tpl.h"

enum {
    F_ABS, F_ATTR, F_BATCH, F_CAPITALIZE, F_CENTER, F_COUNT, F_D, F_DEFAULT, F_DICTSORT, F_E, F_ESCAPE,
    F_FILESIZEFORMAT, F_FIRST, F_FLOAT, F_FORCEESCAPE, F_FORMAT, F_GROUPBY, F_INDENT, F_INT, F_ITEMS, F_JOIN,
    F_LAST, F_LENGTH, F_LIST, F_LOWER, F_MAP, F_MAX, F_MIN, F_REJECT, F_REJECTATTR, F_REPLACE, F_REVERSE,
    F_ROUND, F_SAFE, F_SELECT, F_SELECTATTR, F_SLICE, F_SORT, F_STRING, F_SUM, F_TITLE, F_TOJSON, F_TRIM,
    F_TRUNCATE, F_UNIQUE, F_UPPER, F_WORDCOUNT,
    F_NUM
};

static const char *const filter_names[F_NUM] = {
    "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape",
    "filesizeformat", "first", "float", "forceescape", "format", "groupby", "indent", "int", "items", "join",
    "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse",
    "round", "safe", "select", "selectattr", "slice", "sort", "string", "sum", "title", "tojson", "trim",
    "truncate", "unique", "upper", "wordcount",
};

enum {
    T_ODD, T_EVEN, T_DIVISIBLEBY, T_DEFINED, T_UNDEFINED, T_FILTER, T_TEST, T_NONE, T_BOOLEAN, T_FALSE, T_TRUE,
    T_INTEGER, T_FLOAT, T_LOWER, T_UPPER, T_STRING, T_MAPPING, T_NUMBER, T_SEQUENCE, T_ITERABLE, T_CALLABLE,
    T_SAMEAS, T_ESCAPED, T_IN, T_EQ, T_EQ2, T_EQUALTO, T_NE, T_NE2, T_GT, T_GT2, T_GREATERTHAN, T_GE, T_GE2,
    T_LT, T_LT2, T_LESSTHAN, T_LE, T_LE2,
    T_NUM
};

static const char *const test_names[T_NUM] = {
    "odd", "even", "divisibleby", "defined", "undefined", "filter", "test", "none", "boolean", "false", "true",
    "integer", "float", "lower", "upper", "string", "mapping", "number", "sequence", "iterable", "callable",
    "sameas", "escaped", "in", "==", "eq", "equalto", "!=", "ne", ">", "gt", "greaterthan", ">=", "ge",
    "<", "lt", "lessthan", "<=", "le",
};

static int find_name(const char *const *names, int n, const char *s, size_t len) {
    for (int i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) return i;
    return -1;
}

int rf__tpl_filter_id(const char *name, size_t len) { return find_name(filter_names, F_NUM, name, len); }
int rf__tpl_test_id(const char *name, size_t len) { return find_name(test_names, T_NUM, name, len); }
const char *rf__tpl_filter_name(int id) { return id >= 0 && id < F_NUM ? filter_names[id] : "?"; }
const char *rf__tpl_test_name(int id) { return id >= 0 && id < T_NUM ? test_names[id] : "?"; }

/* ---- helpers ------------------------------------------------------------------------------ */
static rf_status soft_str(tpl_ctx *c, tv v, tv *out) { return rf__tv_to_str(c, v, out); }

static tv gen(tlist *l) { return tv_listv(l, LK_GEN); }

/* make_attrgetter: "a.b.0" -> getitem chain (digits become ints) */
static rf_status attr_get(tpl_ctx *c, tv item, tv attr, tv dflt, bool lower, tv *out) {
    rf_status st;
    if (attr.t == TV_NONE) {
        *out = item;
    } else if (attr.t == TV_STR) {
        const char *s = attr.u.s->s;
        size_t len = attr.u.s->len, i = 0;
        tv cur = item;
        for (;;) {
            size_t j = i;
            while (j < len && s[j] != '.') j++;
            bool digits = j > i;
            for (size_t k = i; k < j; k++) if (s[k] < '0' || s[k] > '9') digits = false;
            tv key;
            if (digits) {
                int64_t v = 0;
                for (size_t k = i; k < j; k++) v = RF_MIN(v * 10 + (s[k] - '0'), (int64_t)1 << 40);
                key = tv_int(v);
            } else {
                key = rf__tv_str(c, s + i, j - i, &st);
                if (st) return st;
            }
            if ((st = rf__tpl_getitem(c, cur, key, &cur))) return st;
            if (dflt.t != TV_NONE && cur.t == TV_UNDEF) cur = dflt;
            if (j >= len) break;
            i = j + 1;
        }
        *out = cur;
    } else {
        if ((st = rf__tpl_getitem(c, item, attr, out))) return st;
        if (dflt.t != TV_NONE && out->t == TV_UNDEF) *out = dflt;
    }
    if (lower && out->t == TV_STR) return rf__str_case(c, *out, CASE_LOWER, out);
    return RF_OK;
}

static rf_status iter_of(tpl_ctx *c, tv v, tv **items, size_t *n) { return rf__tv_iter(c, v, items, n); }

/* stable merge sort of keys[] carrying vals[] */
static rf_status msort(tpl_ctx *c, tv *keys, tv *vals, size_t n, bool reverse, tv *tk, tv *tvv) {
    rf_status st;
    if (n < 2) return RF_OK;
    size_t m = n / 2;
    if ((st = msort(c, keys, vals, m, reverse, tk, tvv)) || (st = msort(c, keys + m, vals + m, n - m, reverse, tk, tvv)))
        return st;
    size_t i = 0, j = m, k = 0;
    while (i < m && j < n) {
        bool take_right;
        if ((st = tpl_steps(c, 1))) return st;
        if (reverse) {
            if ((st = rf__tv_cmp(c, CMP_LT, keys[i], keys[j], &take_right))) return st;
        } else {
            if ((st = rf__tv_cmp(c, CMP_LT, keys[j], keys[i], &take_right))) return st;
        }
        if (take_right) { tk[k] = keys[j]; tvv[k++] = vals[j++]; }
        else { tk[k] = keys[i]; tvv[k++] = vals[i++]; }
    }
    while (i < m) { tk[k] = keys[i]; tvv[k++] = vals[i++]; }
    while (j < n) { tk[k] = keys[j]; tvv[k++] = vals[j++]; }
    memcpy(keys, tk, n * sizeof(tv));
    memcpy(vals, tvv, n * sizeof(tv));
    return RF_OK;
}

static rf_status sort_by(tpl_ctx *c, tv *keys, tv *vals, size_t n, bool reverse) {
    tv *tk = rf__tpl_alloc(&c->ar, (n + 1) * sizeof(tv)), *tvv = rf__tpl_alloc(&c->ar, (n + 1) * sizeof(tv));
    if (!tk || !tvv) return rf__tpl_nomem(c);
    return msort(c, keys, vals, n, reverse, tk, tvv);
}

/* Python sum's `+` on two values (numbers, lists, tuples) */
static rf_status add_values(tpl_ctx *c, tv a, tv b, tv *out) {
    if (tv_is_intlike(a) && tv_is_intlike(b)) {
        int64_t r;
        if (__builtin_add_overflow(tv_ival(a), tv_ival(b), &r)) return TPL_ERR(c, "integer overflow");
        *out = tv_int(r);
        return RF_OK;
    }
    if (tv_is_num(a) && tv_is_num(b)) { *out = tv_float(tv_fval(a) + tv_fval(b)); return RF_OK; }
    if (a.t == TV_LIST && b.t == TV_LIST && a.kind == b.kind && (a.kind == LK_LIST || a.kind == LK_TUPLE)) {
        tlist *l = rf__tlist_new(c, a.u.l->n + b.u.l->n);
        if (!l) return c->st;
        memcpy(l->v, a.u.l->v, a.u.l->n * sizeof(tv));
        memcpy(l->v + a.u.l->n, b.u.l->v, b.u.l->n * sizeof(tv));
        *out = tv_listv(l, a.kind);
        return RF_OK;
    }
    if (a.t == TV_UNDEF) return rf__tpl_undef_error(c, a);
    if (b.t == TV_UNDEF) return rf__tpl_undef_error(c, b);
    return TPL_ERR(c, "unsupported operand type(s) for +: '%s' and '%s'", rf__tv_type_name(a), rf__tv_type_name(b));
}

static rf_status python_round(tpl_ctx *c, tv v, int64_t prec, tv *out) {
    if (tv_is_intlike(v)) {
        int64_t x = tv_ival(v);
        if (prec >= 0) { *out = tv_int(x); return RF_OK; }
        if (prec < -18) { *out = tv_int(0); return RF_OK; }
        int64_t p = 1;
        for (int64_t i = 0; i < -prec; i++) p *= 10;
        int64_t q = x / p, r = x % p;
        if (r < 0) { r += p; q--; }
        if (2 * r > p || (2 * r == p && (q & 1))) q++;
        int64_t res;
        if (__builtin_mul_overflow(q, p, &res)) return TPL_ERR(c, "integer overflow");
        *out = tv_int(res);
        return RF_OK;
    }
    double x = v.u.f;
    if (!isfinite(x)) { *out = v; return RF_OK; }
    if (prec > 300) { *out = v; return RF_OK; }
    if (prec >= 0) {
        char buf[420];
        snprintf(buf, sizeof buf, "%.*f", (int)prec, x);
        *out = tv_float(strtod(buf, NULL));
        return RF_OK;
    }
    if (prec < -308) { *out = tv_float(copysign(0.0, x)); return RF_OK; }
    double p = pow(10.0, (double)-prec), y = x / p, r = nearbyint(y);
    *out = tv_float(r * p);
    return RF_OK;
}

static rf_status to_json(tpl_ctx *c, tv v, bool ascii, tv indent, tv seps, bool sort, tv *out) {
    rf_status st;
    json_opts o;
    memset(&o, 0, sizeof o);
    o.ensure_ascii = ascii;
    o.sort_keys = sort;
    o.indent = -1;
    char spaces[64];
    if (indent.t != TV_NONE && indent.t != TV_UNDEF) {
        if (tv_is_intlike(indent)) {
            int64_t n = tv_ival(indent);
            if (n < 0) n = 0;
            if (n > (int64_t)sizeof spaces) return TPL_ERR(c, "tojson indent too large");
            memset(spaces, ' ', (size_t)n);
            o.indent_str = spaces;
            o.indent_len = (size_t)n;
        } else if (indent.t == TV_STR) {
            o.indent_str = indent.u.s->s;
            o.indent_len = indent.u.s->len;
        } else {
            return TPL_ERR(c, "tojson indent must be an integer or a string");
        }
        o.indent = 1;
    }
    o.item_sep = o.indent >= 0 ? "," : ", ";
    o.key_sep = ": ";
    if (seps.t != TV_NONE && seps.t != TV_UNDEF) {
        if (seps.t != TV_LIST || (seps.kind != LK_LIST && seps.kind != LK_TUPLE) || seps.u.l->n != 2 ||
            seps.u.l->v[0].t != TV_STR || seps.u.l->v[1].t != TV_STR)
            return TPL_ERR(c, "tojson separators must be a pair of strings");
        o.item_sep = seps.u.l->v[0].u.s->s;
        o.key_sep = seps.u.l->v[1].u.s->s;
        o.item_sep_len = seps.u.l->v[0].u.s->len;
        o.key_sep_len = seps.u.l->v[1].u.s->len;
    } else {
        o.item_sep_len = strlen(o.item_sep);
        o.key_sep_len = strlen(o.key_sep);
    }
    sbuf b = {0};
    if ((st = rf__tv_write_json(c, &b, v, &o))) { rf__sb_free(&b); return st; }
    *out = rf__sb_take(c, &b, &st);
    return st;
}

rf_status rf__tpl_tojson(tpl_ctx *c, tv v, const tv *args, size_t nargs, tdict *kw, tv *out) {
    static const char *const names[] = {"ensure_ascii", "indent", "separators", "sort_keys", NULL};
    rf_status st;
    if ((st = rf__tpl_check_args(c, "tojson", nargs, 4, kw, names))) return st;
    tv ascii = tv_bool(false), indent = tv_none(), seps = tv_none(), sort = tv_bool(false);
    rf__tpl_arg(args, nargs, kw, 0, "ensure_ascii", &ascii);
    rf__tpl_arg(args, nargs, kw, 1, "indent", &indent);
    rf__tpl_arg(args, nargs, kw, 2, "separators", &seps);
    rf__tpl_arg(args, nargs, kw, 3, "sort_keys", &sort);
    return to_json(c, v, rf__tv_truthy(ascii), indent, seps, rf__tv_truthy(sort), out);
}

/* select/reject/selectattr/rejectattr */
static rf_status select_impl(tpl_ctx *c, tv v, const tv *args, size_t nargs, tdict *kw, bool attr, bool want,
                             tv *out) {
    rf_status st;
    tlist *r;
    if (!rf__tv_truthy(v)) {
        if (!(r = rf__tlist_new(c, 0))) return c->st;
        *out = gen(r);
        return RF_OK;
    }
    size_t off = 0;
    tv attrname = tv_none();
    if (attr) {
        if (nargs < 1) return TPL_ERR(c, "Missing parameter for attribute name");
        attrname = args[0];
        off = 1;
    }
    bool has_test = nargs > off;
    tv *items;
    size_t n;
    if ((st = iter_of(c, v, &items, &n))) return st;
    if (!(r = rf__tlist_new(c, n))) return c->st;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        tv x = items[i];
        bool ok;
        if ((st = tpl_steps(c, 1))) return st;
        if (attr && (st = attr_get(c, x, attrname, tv_none(), false, &x))) return st;
        if (has_test) {
            if ((st = rf__tpl_test_by_name(c, args[off], x, args + off + 1, nargs - off - 1, kw, &ok))) return st;
        } else {
            ok = rf__tv_truthy(x);
        }
        if (ok == want) r->v[k++] = items[i];
    }
    r->n = k;
    *out = gen(r);
    return RF_OK;
}

static rf_status map_impl(tpl_ctx *c, tv v, const tv *args, size_t nargs, tdict *kw, tv *out) {
    rf_status st;
    tlist *r;
    if (!rf__tv_truthy(v)) {
        if (!(r = rf__tlist_new(c, 0))) return c->st;
        *out = gen(r);
        return RF_OK;
    }
    tv *items;
    size_t n;
    if ((st = iter_of(c, v, &items, &n))) return st;
    tv attrname = tv_none(), dflt = tv_none();
    bool by_attr = !nargs && kw && rf__tdict_get_str(kw, "attribute", 9, &attrname);
    tdict *fkw = kw;
    if (by_attr) {
        rf__tdict_get_str(kw, "default", 7, &dflt);
        for (size_t i = 0; i < kw->n; i++) {
            tv key = kw->keys[i];
            if (key.t == TV_STR && strcmp(key.u.s->s, "attribute") && strcmp(key.u.s->s, "default"))
                return TPL_ERR(c, "Unexpected keyword argument '%s'", key.u.s->s);
        }
    } else if (!nargs) {
        return TPL_ERR(c, "map requires a filter argument");
    }
    if (!(r = rf__tlist_new(c, n))) return c->st;
    for (size_t i = 0; i < n; i++) {
        if ((st = tpl_steps(c, 1))) return st;
        if (by_attr) st = attr_get(c, items[i], attrname, dflt, false, &r->v[i]);
        else st = rf__tpl_filter_by_name(c, args[0], items[i], args + 1, nargs - 1, fkw, &r->v[i]);
        if (st) return st;
    }
    *out = gen(r);
    return RF_OK;
}

static rf_status do_indent(tpl_ctx *c, tv s, tv width, bool first, bool blank, tv *out) {
    rf_status st;
    if (s.t == TV_UNDEF) return rf__tpl_undef_error(c, s);
    /* jinja2 does `s += "\n"; s.splitlines()`: only strings get through */
    if (s.t != TV_STR) return TPL_ERR(c, "indent() needs a string, not %s", rf__tv_type_name(s));
    tv ind;
    if (width.t == TV_STR) ind = width;
    else {
        if (!tv_is_intlike(width)) return TPL_ERR(c, "indent width must be an integer or a string");
        int64_t w = tv_ival(width);
        if (w < 0) w = 0;
        if (w > 4096) return rf__tpl_fail(c, RF_ERR_BUDGET, "indent width too large");
        tstr *sp = rf__tstr_alloc(c, (size_t)w);
        if (!sp) return c->st;
        memset(sp->s, ' ', (size_t)w);
        ind = tv_strv(sp);
    }
    /* s += "\n"; lines = s.splitlines() */
    tstr *nl = rf__tstr_new(c, "\n", 1);
    tv s2, lines;
    if (!nl) return c->st;
    sbuf tmp = {0};
    if ((st = rf__sb_put(c, &tmp, s.u.s->s, s.u.s->len)) || (st = rf__sb_putc(c, &tmp, '\n'))) { rf__sb_free(&tmp); return st; }
    s2 = rf__sb_take(c, &tmp, &st);
    if (st || (st = rf__str_splitlines(c, s2, false, &lines))) return st;
    sbuf b = {0};
    const tlist *l = lines.u.l;
    for (size_t i = 0; i < l->n && !st; i++) {
        const tstr *line = l->v[i].u.s;
        if (i) st = rf__sb_putc(c, &b, '\n');
        if (!st && (blank ? i > 0 : (i > 0 && line->len > 0))) st = rf__sb_put(c, &b, ind.u.s->s, ind.u.s->len);
        if (!st) st = rf__sb_put(c, &b, line->s, line->len);
        if (!st) st = tpl_steps(c, 1);
    }
    if (st) { rf__sb_free(&b); return st; }
    tv body = rf__sb_take(c, &b, &st);
    if (st) return st;
    if (first) {
        sbuf f = {0};
        if ((st = rf__sb_put(c, &f, ind.u.s->s, ind.u.s->len)) || (st = rf__sb_put(c, &f, body.u.s->s, body.u.s->len))) {
            rf__sb_free(&f);
            return st;
        }
        body = rf__sb_take(c, &f, &st);
    }
    *out = body;
    return st;
}

static rf_status do_title(tpl_ctx *c, tv s, tv *out) {
    rf_status st;
    if ((st = soft_str(c, s, &s))) return st;
    /* re.split(r"([-\s({\[<]+)"): each piece's first char .upper(), the rest .lower() */
    sbuf b = {0};
    const char *p = s.u.s->s;
    size_t len = s.u.s->len, i = 0;
    while (i < len) {
        size_t j = i;
        int32_t cp;
        bool sep = false;
        while (j < len) {
            size_t w = rf__utf8_dec(p + j, len - j, &cp);
            bool is_sep = cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || rf__py_isspace(cp);
            if (j == i) sep = is_sep;
            else if (is_sep != sep) break;
            j += w;
        }
        tv head, rest;
        if (sep) {
            st = rf__sb_put(c, &b, p + i, j - i);
        } else {
            size_t w = rf__utf8_dec(p + i, j - i, &cp);
            tv h = rf__tv_str(c, p + i, w, &st), r = tv_none();
            if (!st) r = rf__tv_str(c, p + i + w, j - i - w, &st);
            if (!st) st = rf__str_case(c, h, CASE_UPPER, &head);
            if (!st) st = rf__str_case(c, r, CASE_LOWER, &rest);
            if (!st) st = rf__sb_put(c, &b, head.u.s->s, head.u.s->len);
            if (!st) st = rf__sb_put(c, &b, rest.u.s->s, rest.u.s->len);
        }
        if (st) goto fail;
        i = j;
    }
    *out = rf__sb_take(c, &b, &st);
    return st;
fail:
    rf__sb_free(&b);
    return st;
}

static rf_status do_wordcount(tpl_ctx *c, tv s, tv *out) {
    rf_status st;
    if ((st = soft_str(c, s, &s))) return st;
    int64_t n = 0;
    bool in = false;
    const char *p = s.u.s->s;
    size_t len = s.u.s->len, i = 0;
    while (i < len) {
        int32_t cp;
        i += rf__utf8_dec(p + i, len - i, &cp);
        utf8proc_category_t k = utf8proc_category(cp);
        bool w = cp == '_' || (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
                 (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
        if (w && !in) n++;
        in = w;
    }
    *out = tv_int(n);
    return tpl_steps(c, len / 64);
}

static rf_status do_int(tpl_ctx *c, tv v, tv dflt, tv basev, tv *out) {
    int64_t base = 10;
    if (tv_is_intlike(basev)) base = tv_ival(basev);
    switch (v.t) {
    case TV_UNDEF: return rf__tpl_undef_error(c, v);
    case TV_BOOL: case TV_INT: *out = tv_int(tv_ival(v)); return RF_OK;
    case TV_FLOAT:
        if (!isfinite(v.u.f)) { *out = dflt; return RF_OK; }
        if (fabs(v.u.f) >= 9.2e18) return TPL_ERR(c, "integer overflow: results beyond 64 bits are not supported");
        *out = tv_int((int64_t)v.u.f);
        return RF_OK;
    case TV_STR: {
        int64_t r;
        bool ovf;
        if (rf__py_parse_int(v.u.s->s, v.u.s->len, (int)base, &r, &ovf)) {
            if (ovf) return TPL_ERR(c, "integer overflow: results beyond 64 bits are not supported");
            *out = tv_int(r);
            return RF_OK;
        }
        double f;
        if (rf__py_parse_float(v.u.s->s, v.u.s->len, &f) && isfinite(f)) {
            if (fabs(f) >= 9.2e18) return TPL_ERR(c, "integer overflow: results beyond 64 bits are not supported");
            *out = tv_int((int64_t)f);
            return RF_OK;
        }
        *out = dflt;
        return RF_OK;
    }
    default: *out = dflt; return RF_OK;
    }
}

static rf_status do_float(tpl_ctx *c, tv v, tv dflt, tv *out) {
    switch (v.t) {
    case TV_UNDEF: return rf__tpl_undef_error(c, v);
    case TV_BOOL: case TV_INT: *out = tv_float((double)tv_ival(v)); return RF_OK;
    case TV_FLOAT: *out = v; return RF_OK;
    case TV_STR: {
        double f;
        *out = rf__py_parse_float(v.u.s->s, v.u.s->len, &f) ? tv_float(f) : dflt;
        return RF_OK;
    }
    default: *out = dflt; return RF_OK;
    }
}

static rf_status do_filesize(tpl_ctx *c, tv v, bool binary, tv *out) {
    rf_status st;
    double bytes;
    if (tv_is_num(v)) bytes = tv_fval(v);
    else if (v.t == TV_STR && rf__py_parse_float(v.u.s->s, v.u.s->len, &bytes)) {}
    else return TPL_ERR(c, "could not convert %s to float", rf__tv_type_name(v));
    double base = binary ? 1024 : 1000;
    static const char *const pre_b[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
    static const char *const pre_d[] = {"kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
    char buf[96];
    if (bytes == 1) snprintf(buf, sizeof buf, "1 Byte");
    else if (bytes < base) snprintf(buf, sizeof buf, "%lld Bytes", (long long)bytes);
    else {
        double unit = base;
        int i;
        for (i = 0; i < 8; i++) {
            unit = pow(base, i + 2);
            if (bytes < unit) break;
        }
        if (i == 8) i = 7;
        snprintf(buf, sizeof buf, "%.1f %s", base * bytes / unit, binary ? pre_b[i] : pre_d[i]);
    }
    *out = rf__tv_cstr(c, buf, &st);
    return st;
}

static rf_status do_truncate(tpl_ctx *c, tv s, int64_t length, bool killwords, tv end, int64_t leeway, tv *out) {
    rf_status st;
    if (end.t != TV_STR) return TPL_ERR(c, "truncate end must be a string");
    int64_t elen = (int64_t)rf__utf8_count(end.u.s->s, end.u.s->len);
    if (length < elen) return TPL_ERR(c, "expected length >= %lld, got %lld", (long long)elen, (long long)length);
    if (leeway < 0) return TPL_ERR(c, "expected leeway >= 0, got %lld", (long long)leeway);
    int64_t n;
    if ((st = rf__tv_len(c, s, &n))) return st;
    if (n <= length + leeway) { *out = s; return RF_OK; }
    if (s.t != TV_STR) return TPL_ERR(c, "'%s' object has no attribute 'rsplit'", rf__tv_type_name(s));
    size_t cut = rf__utf8_offset(s.u.s->s, s.u.s->len, (size_t)(length - elen));
    if (!killwords) {
        /* rsplit(" ", 1)[0] */
        size_t k = cut;
        while (k > 0 && s.u.s->s[k - 1] != ' ') k--;
        if (k > 0) cut = k - 1;
    }
    sbuf b = {0};
    if ((st = rf__sb_put(c, &b, s.u.s->s, cut)) || (st = rf__sb_put(c, &b, end.u.s->s, end.u.s->len))) {
        rf__sb_free(&b);
        return st;
    }
    *out = rf__sb_take(c, &b, &st);
    return st;
}

#define CHECK(fname, maxpos, ...)                                                            \
    do {                                                                                     \
        static const char *const names_[] = {__VA_ARGS__};                                   \
        if ((st = rf__tpl_check_args(c, fname, nargs, maxpos, kw, names_))) return st;       \
    } while (0)
#define ARG(i, name, var) rf__tpl_arg(args, nargs, kw, (i), (name), &(var))

rf_status rf__tpl_apply_filter(tpl_ctx *c, int id, tv v, const tv *args, size_t nargs, tdict *kw, tv *out) {
    rf_status st;
    tv a = tv_none(), b = tv_none(), d = tv_none(), e = tv_none();
    tv *items;
    size_t n;
    switch (id) {
    case F_ABS:
        CHECK("abs", 0, NULL);
        if (v.t == TV_FLOAT) { *out = tv_float(fabs(v.u.f)); return RF_OK; }
        if (tv_is_intlike(v)) {
            if (tv_ival(v) == INT64_MIN) return TPL_ERR(c, "integer overflow");
            *out = tv_int(llabs(tv_ival(v)));
            return RF_OK;
        }
        return TPL_ERR(c, "bad operand type for abs(): '%s'", rf__tv_type_name(v));
    case F_ATTR: {
        CHECK("attr", 1, "name", NULL);
        if (!ARG(0, "name", a)) return TPL_ERR(c, "attr() missing required argument 'name'");
        if (a.t != TV_STR) return TPL_ERR(c, "attribute name must be a string");
        bool found;
        if (v.t == TV_UNDEF) return rf__tpl_undef_error(c, v);
        if ((st = rf__tpl_pygetattr(c, v, a.u.s->s, a.u.s->len, out, &found))) return st;
        if (!found) *out = rf__tv_undef_named(c, UND_ATTR, a.u.s->s, rf__tv_type_name(v));
        return RF_OK;
    }
    case F_BATCH: case F_SLICE: {
        bool batch = id == F_BATCH;
        if (batch) CHECK("batch", 2, "linecount", "fill_with", NULL);
        else CHECK("slice", 2, "slices", "fill_with", NULL);
        if (!ARG(0, batch ? "linecount" : "slices", a)) return TPL_ERR(c, "%s() missing required argument", batch ? "batch" : "slice");
        ARG(1, "fill_with", b);
        int64_t cnt;
        if (!tv_is_intlike(a)) return TPL_ERR(c, "'%s' object cannot be interpreted as an integer", rf__tv_type_name(a));
        cnt = tv_ival(a);
        if ((st = iter_of(c, v, &items, &n))) return st;
        if (batch) {
            if (cnt <= 0) return TPL_ERR(c, "batch size must be positive");
            size_t nb = (n + (size_t)cnt - 1) / (size_t)cnt;
            tlist *r = rf__tlist_new(c, nb);
            if (!r) return c->st;
            for (size_t i = 0; i < nb; i++) {
                size_t from = i * (size_t)cnt, len = RF_MIN((size_t)cnt, n - from);
                size_t full = (b.t != TV_NONE && len < (size_t)cnt) ? (size_t)cnt : len;
                tlist *x = rf__tlist_new(c, full);
                if (!x) return c->st;
                memcpy(x->v, items + from, len * sizeof(tv));
                for (size_t k = len; k < full; k++) x->v[k] = b;
                r->v[i] = tv_listv(x, LK_LIST);
                if ((st = tpl_steps(c, 1))) return st;
            }
            *out = gen(r);
            return RF_OK;
        }
        if (cnt <= 0) return TPL_ERR(c, cnt == 0 ? "integer division or modulo by zero" : "slices must be positive");
        if (cnt > 100000) return rf__tpl_fail(c, RF_ERR_BUDGET, "too many slices");
        size_t per = n / (size_t)cnt, extra = n % (size_t)cnt, off = 0;
        tlist *r = rf__tlist_new(c, (size_t)cnt);
        if (!r) return c->st;
        for (size_t i = 0; i < (size_t)cnt; i++) {
            size_t start = off + i * per;
            if (i < extra) off++;
            size_t end = off + (i + 1) * per, len = end - start;
            bool fill = b.t != TV_NONE && i >= extra;
            tlist *x = rf__tlist_new(c, len + fill);
            if (!x) return c->st;
            memcpy(x->v, items + start, len * sizeof(tv));
            if (fill) x->v[len] = b;
            r->v[i] = tv_listv(x, LK_LIST);
            if ((st = tpl_steps(c, 1))) return st;
        }
        *out = gen(r);
        return RF_OK;
    }
    case F_CAPITALIZE: case F_LOWER: case F_UPPER:
        CHECK(filter_names[id], 0, NULL);
        if ((st = soft_str(c, v, &v))) return st;
        return rf__str_case(c, v, id == F_UPPER ? CASE_UPPER : id == F_LOWER ? CASE_LOWER : CASE_CAPITALIZE, out);
    case F_TITLE:
        CHECK("title", 0, NULL);
        return do_title(c, v, out);
    case F_CENTER:
        CHECK("center", 1, "width", NULL);
        a = tv_int(80);
        ARG(0, "width", a);
        if (!tv_is_intlike(a)) return TPL_ERR(c, "'%s' object cannot be interpreted as an integer", rf__tv_type_name(a));
        if ((st = soft_str(c, v, &v))) return st;
        return rf__str_pad(c, v, tv_ival(a), " ", 1, '^', out);
    case F_COUNT: case F_LENGTH: {
        CHECK(filter_names[id], 0, NULL);
        int64_t len;
        if ((st = rf__tv_len(c, v, &len))) return st;
        *out = tv_int(len);
        return RF_OK;
    }
    case F_D: case F_DEFAULT: {
        CHECK("default", 2, "default_value", "boolean", NULL);
        tstr *empty = rf__tstr_new(c, "", 0);
        if (!empty) return c->st;
        a = tv_strv(empty);
        ARG(0, "default_value", a);
        ARG(1, "boolean", b);
        *out = (v.t == TV_UNDEF || (rf__tv_truthy(b) && !rf__tv_truthy(v))) ? a : v;
        return RF_OK;
    }
    case F_DICTSORT: {
        CHECK("dictsort", 3, "case_sensitive", "by", "reverse", NULL);
        ARG(0, "case_sensitive", a);
        bool by_value = false;
        if (ARG(1, "by", b)) {
            if (b.t == TV_STR && !strcmp(b.u.s->s, "value")) by_value = true;
            else if (!(b.t == TV_STR && !strcmp(b.u.s->s, "key")))
                return TPL_ERR(c, "You can only sort by either \"key\" or \"value\"");
        }
        ARG(2, "reverse", d);
        if (v.t == TV_UNDEF) return rf__tpl_undef_error(c, v);
        if (v.t != TV_DICT) return TPL_ERR(c, "'%s' object has no attribute 'items'", rf__tv_type_name(v));
        n = v.u.d->n;
        tv *keys = rf__tpl_alloc(&c->ar, (n + 1) * sizeof(tv)), *vals = rf__tpl_alloc(&c->ar, (n + 1) * sizeof(tv));
        if (!keys || !vals) return rf__tpl_nomem(c);
        for (size_t i = 0; i < n; i++) {
            tlist *pair = rf__tlist_new(c, 2);
            if (!pair) return c->st;
            pair->v[0] = v.u.d->keys[i];
            pair->v[1] = v.u.d->vals[i];
            vals[i] = tv_listv(pair, LK_TUPLE);
            keys[i] = by_value ? v.u.d->vals[i] : v.u.d->keys[i];
            if (!rf__tv_truthy(a) && keys[i].t == TV_STR && (st = rf__str_case(c, keys[i], CASE_LOWER, &keys[i]))) return st;
        }
        if ((st = sort_by(c, keys, vals, n, rf__tv_truthy(d)))) return st;
        tlist *r = rf__tlist_new(c, n);
        if (!r) return c->st;
        memcpy(r->v, vals, n * sizeof(tv));
        *out = tv_listv(r, LK_LIST);
        return RF_OK;
    }
    case F_E: case F_ESCAPE: case F_FORCEESCAPE:
        CHECK(filter_names[id], 0, NULL);
        if (id == F_FORCEESCAPE && v.t == TV_STR) v.kind = 0;
        return rf__tpl_html_escape(c, v, out);
    case F_FILESIZEFORMAT:
        CHECK("filesizeformat", 1, "binary", NULL);
        ARG(0, "binary", a);
        return do_filesize(c, v, rf__tv_truthy(a), out);
    case F_FIRST: case F_LAST:
        CHECK(filter_names[id], 0, NULL);
        if (id == F_LAST && v.t == TV_LIST && (v.kind == LK_GEN || v.kind == LK_REVERSED))
            return TPL_ERR(c, "'%s' object is not reversible", rf__tv_type_name(v));
        if (id == F_FIRST && v.t == TV_LIST && (v.kind == LK_GEN || v.kind == LK_REVERSED)) {
            tlist *l = v.u.l; /* next(iter(gen)) takes one item */
            if (l->pos < l->n) *out = l->v[l->pos++];
            else *out = rf__tv_undef_named(c, UND_HINT, "No first item, sequence was empty.", NULL);
            return RF_OK;
        }
        if ((st = iter_of(c, v, &items, &n))) return st;
        if (!n) {
            *out = rf__tv_undef_named(c, UND_HINT, id == F_FIRST ? "No first item, sequence was empty." : "No last item, sequence was empty.", NULL);
            return RF_OK;
        }
        *out = items[id == F_FIRST ? 0 : n - 1];
        return RF_OK;
    case F_FLOAT:
        CHECK("float", 1, "default", NULL);
        a = tv_float(0.0);
        ARG(0, "default", a);
        return do_float(c, v, a, out);
    case F_INT:
        CHECK("int", 2, "default", "base", NULL);
        a = tv_int(0);
        b = tv_int(10);
        ARG(0, "default", a);
        ARG(1, "base", b);
        return do_int(c, v, a, b, out);
    case F_FORMAT: {
        if (nargs && kw && kw->n) return TPL_ERR(c, "can't handle positional and keyword arguments at the same time");
        if ((st = soft_str(c, v, &v))) return st;
        tv fa;
        if (kw && kw->n) fa = tv_dictv(kw);
        else {
            tlist *l = rf__tlist_new(c, nargs);
            if (!l) return c->st;
            if (nargs) memcpy(l->v, args, nargs * sizeof(tv));
            fa = tv_listv(l, LK_TUPLE);
        }
        return rf__py_percent_format(c, v.u.s, fa, out);
    }
    case F_GROUPBY: {
        CHECK("groupby", 3, "attribute", "default", "case_sensitive", NULL);
        if (!ARG(0, "attribute", a)) return TPL_ERR(c, "groupby() missing required argument 'attribute'");
        ARG(1, "default", b);
        ARG(2, "case_sensitive", d);
        bool lower = !rf__tv_truthy(d);
        if ((st = iter_of(c, v, &items, &n))) return st;
        tv *keys = rf__tpl_alloc(&c->ar, (n + 1) * sizeof(tv)), *vals = rf__tpl_alloc(&c->ar, (n + 1) * sizeof(tv));
        if (!keys || !vals) return rf__tpl_nomem(c);
        for (size_t i = 0; i < n; i++) {
            vals[i] = items[i];
            if ((st = attr_get(c, items[i], a, b, lower, &keys[i]))) return st;
        }
        if ((st = sort_by(c, keys, vals, n, false))) return st;
        tlist *r = rf__tlist_new(c, n);
        if (!r) return c->st;
        size_t ng = 0;
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            bool eq = true;
            while (j < n && !(st = rf__tv_eq(c, keys[i], keys[j], &eq)) && eq) j++;
            if (st) return st;
            tlist *grp = rf__tlist_new(c, j - i), *pair = rf__tlist_new(c, 2);
            if (!grp || !pair) return c->st;
            memcpy(grp->v, vals + i, (j - i) * sizeof(tv));
            pair->v[0] = keys[i];
            if (lower && (st = attr_get(c, vals[i], a, b, false, &pair->v[0]))) return st;
            pair->v[1] = tv_listv(grp, LK_LIST);
            pair->group = true;
            r->v[ng++] = tv_listv(pair, LK_TUPLE);
            i = j;
        }
        r->n = ng;
        *out = tv_listv(r, LK_LIST);
        return RF_OK;
    }
    case F_INDENT:
        CHECK("indent", 3, "width", "first", "blank", NULL);
        a = tv_int(4);
        ARG(0, "width", a);
        ARG(1, "first", b);
        ARG(2, "blank", d);
        return do_indent(c, v, a, rf__tv_truthy(b), rf__tv_truthy(d), out);
    case F_ITEMS: {
        CHECK("items", 0, NULL);
        tlist *r;
        if (v.t == TV_UNDEF) {
            if (!(r = rf__tlist_new(c, 0))) return c->st;
            *out = gen(r);
            return RF_OK;
        }
        if (v.t != TV_DICT) return TPL_ERR(c, "Can only get item pairs from a mapping.");
        if (!(r = rf__tlist_new(c, v.u.d->n))) return c->st;
        for (size_t i = 0; i < v.u.d->n; i++) {
            tlist *pair = rf__tlist_new(c, 2);
            if (!pair) return c->st;
            pair->v[0] = v.u.d->keys[i];
            pair->v[1] = v.u.d->vals[i];
            r->v[i] = tv_listv(pair, LK_TUPLE);
        }
        *out = gen(r);
        return tpl_steps(c, v.u.d->n / 4);
    }
    case F_JOIN: {
        CHECK("join", 2, "d", "attribute", NULL);
        tstr *empty = rf__tstr_new(c, "", 0);
        if (!empty) return c->st;
        a = tv_strv(empty);
        ARG(0, "d", a);
        ARG(1, "attribute", b);
        if ((st = soft_str(c, a, &a))) return st;
        if ((st = iter_of(c, v, &items, &n))) return st;
        sbuf buf = {0};
        for (size_t i = 0; i < n; i++) {
            tv x = items[i];
            if ((b.t != TV_NONE && (st = attr_get(c, x, b, tv_none(), false, &x))) ||
                (i && (st = rf__sb_put(c, &buf, a.u.s->s, a.u.s->len))) || (st = rf__tv_write_str(c, &buf, x)) ||
                (st = tpl_steps(c, 1))) {
                rf__sb_free(&buf);
                return st;
            }
        }
        *out = rf__sb_take(c, &buf, &st);
        return st;
    }
    case F_LIST: {
        CHECK("list", 0, NULL);
        if ((st = iter_of(c, v, &items, &n))) return st;
        tlist *r = rf__tlist_new(c, n);
        if (!r) return c->st;
        if (n) memcpy(r->v, items, n * sizeof(tv));
        *out = tv_listv(r, LK_LIST);
        return tpl_steps(c, n / 8);
    }
    case F_MAP:
        return map_impl(c, v, args, nargs, kw, out);
    case F_MAX: case F_MIN: case F_UNIQUE: case F_SORT: {
        bool sort = id == F_SORT;
        if (sort) {
            CHECK("sort", 3, "reverse", "case_sensitive", "attribute", NULL);
            ARG(0, "reverse", e);
            ARG(1, "case_sensitive", a);
            ARG(2, "attribute", b);
        } else {
            CHECK(filter_names[id], 2, "case_sensitive", "attribute", NULL);
            ARG(0, "case_sensitive", a);
            ARG(1, "attribute", b);
        }
        bool lower = !rf__tv_truthy(a);
        if ((st = iter_of(c, v, &items, &n))) return st;
        if (!n && (id == F_MAX || id == F_MIN)) {
            *out = rf__tv_undef_named(c, UND_HINT, "No aggregated item, sequence was empty.", NULL);
            return RF_OK;
        }
        tv *keys = rf__tpl_alloc(&c->ar, (n + 1) * sizeof(tv)), *vals = rf__tpl_alloc(&c->ar, (n + 1) * sizeof(tv));
        if (!keys || !vals) return rf__tpl_nomem(c);
        for (size_t i = 0; i < n; i++) {
            vals[i] = items[i];
            if (sort && b.t == TV_STR && memchr(b.u.s->s, ',', b.u.s->len)) {
                /* multiple attributes: key is a list of each */
                size_t parts = 1;
                for (size_t k = 0; k < b.u.s->len; k++) parts += b.u.s->s[k] == ',';
                tlist *kl = rf__tlist_new(c, parts);
                if (!kl) return c->st;
                size_t from = 0, pi = 0;
                for (size_t k = 0; k <= b.u.s->len; k++) {
                    if (k < b.u.s->len && b.u.s->s[k] != ',') continue;
                    tv part = rf__tv_str(c, b.u.s->s + from, k - from, &st);
                    if (st || (st = attr_get(c, items[i], part, tv_none(), lower, &kl->v[pi++]))) return st;
                    from = k + 1;
                }
                keys[i] = tv_listv(kl, LK_LIST);
            } else if ((st = attr_get(c, items[i], b, tv_none(), lower, &keys[i]))) {
                return st;
            }
        }
        if (id == F_UNIQUE) {
            tdict *seen = rf__tdict_new(c, 8);
            tlist *r = rf__tlist_new(c, n);
            if (!seen || !r) return c->st;
            size_t k = 0;
            for (size_t i = 0; i < n; i++) {
                tv dummy;
                if ((st = tpl_steps(c, 1))) return st;
                if (rf__tdict_get(c, seen, keys[i], &dummy, &st)) continue;
                if (st || (st = rf__tdict_set(c, seen, keys[i], tv_none()))) return st;
                r->v[k++] = vals[i];
            }
            r->n = k;
            *out = gen(r);
            return RF_OK;
        }
        if (id == F_MAX || id == F_MIN) {
            size_t best = 0;
            for (size_t i = 1; i < n; i++) {
                bool better;
                if ((st = rf__tv_cmp(c, id == F_MAX ? CMP_GT : CMP_LT, keys[i], keys[best], &better))) return st;
                if (better) best = i;
            }
            *out = vals[best];
            return RF_OK;
        }
        if ((st = sort_by(c, keys, vals, n, rf__tv_truthy(e)))) return st;
        tlist *r = rf__tlist_new(c, n);
        if (!r) return c->st;
        if (n) memcpy(r->v, vals, n * sizeof(tv));
        *out = tv_listv(r, LK_LIST);
        return RF_OK;
    }
    case F_REJECT: return select_impl(c, v, args, nargs, kw, false, false, out);
    case F_SELECT: return select_impl(c, v, args, nargs, kw, false, true, out);
    case F_REJECTATTR: return select_impl(c, v, args, nargs, kw, true, false, out);
    case F_SELECTATTR: return select_impl(c, v, args, nargs, kw, true, true, out);
    case F_REPLACE: {
        CHECK("replace", 3, "old", "new", "count", NULL);
        if (!ARG(0, "old", a) || !ARG(1, "new", b)) return TPL_ERR(c, "replace() missing required arguments");
        int64_t cnt = -1;
        if (ARG(2, "count", d) && d.t != TV_NONE) {
            if (!tv_is_intlike(d)) return TPL_ERR(c, "'%s' object cannot be interpreted as an integer", rf__tv_type_name(d));
            cnt = tv_ival(d);
        }
        if ((st = soft_str(c, v, &v)) || (st = soft_str(c, a, &a)) || (st = soft_str(c, b, &b))) return st;
        return rf__str_replace(c, v, a, b, cnt, out);
    }
    case F_REVERSE: {
        CHECK("reverse", 0, NULL);
        if (v.t == TV_STR) {
            tstr *r = rf__tstr_alloc(c, v.u.s->len);
            if (!r) return c->st;
            size_t i = 0, len = v.u.s->len;
            while (i < len) {
                int32_t cp;
                size_t w = rf__utf8_dec(v.u.s->s + i, len - i, &cp);
                memcpy(r->s + len - i - w, v.u.s->s + i, w);
                i += w;
            }
            *out = tv_strv(r);
            return tpl_steps(c, len / 64);
        }
        if (v.t != TV_LIST && v.t != TV_DICT && v.t != TV_UNDEF) return TPL_ERR(c, "argument must be iterable");
        if ((st = iter_of(c, v, &items, &n))) return st;
        tlist *r = rf__tlist_new(c, n);
        if (!r) return c->st;
        for (size_t i = 0; i < n; i++) r->v[i] = items[n - 1 - i];
        *out = tv_listv(r, (v.t == TV_LIST && v.kind == LK_GEN) ? LK_LIST : LK_REVERSED);
        return tpl_steps(c, n / 8);
    }
    case F_ROUND: {
        CHECK("round", 2, "precision", "method", NULL);
        a = tv_int(0);
        ARG(0, "precision", a);
        const char *method = "common";
        if (ARG(1, "method", b)) {
            if (b.t != TV_STR || (strcmp(b.u.s->s, "common") && strcmp(b.u.s->s, "ceil") && strcmp(b.u.s->s, "floor")))
                return TPL_ERR(c, "method must be common, ceil or floor");
            method = b.u.s->s;
        }
        if (!tv_is_num(v)) {
            if (v.t == TV_UNDEF) return rf__tpl_undef_error(c, v);
            return TPL_ERR(c, "type %s doesn't define __round__ method", rf__tv_type_name(v));
        }
        if (!tv_is_intlike(a)) return TPL_ERR(c, "'%s' object cannot be interpreted as an integer", rf__tv_type_name(a));
        int64_t p = tv_ival(a);
        if (!strcmp(method, "common")) return python_round(c, v, p, out);
        double scale = pow(10.0, (double)RF_MAX(RF_MIN(p, 308), -308));
        double x = tv_fval(v) * scale;
        x = method[0] == 'c' ? ceil(x) : floor(x);
        *out = tv_float(x / scale);
        return RF_OK;
    }
    case F_SAFE:
        CHECK("safe", 0, NULL);
        if ((st = soft_str(c, v, out))) return st;
        out->kind = TVF_MARKUP;
        return RF_OK;
    case F_STRING:
        CHECK("string", 0, NULL);
        return soft_str(c, v, out);
    case F_SUM: {
        CHECK("sum", 2, "attribute", "start", NULL);
        ARG(0, "attribute", a);
        tv acc = tv_int(0);
        ARG(1, "start", acc);
        if (acc.t == TV_STR) return TPL_ERR(c, "sum() can't sum strings [use ''.join(seq) instead]");
        if ((st = iter_of(c, v, &items, &n))) return st;
        for (size_t i = 0; i < n; i++) {
            tv x = items[i];
            if ((st = tpl_steps(c, 1))) return st;
            if (a.t != TV_NONE && (st = attr_get(c, x, a, tv_none(), false, &x))) return st;
            if ((st = add_values(c, acc, x, &acc))) return st;
        }
        *out = acc;
        return RF_OK;
    }
    case F_TOJSON:
        return rf__tpl_tojson(c, v, args, nargs, kw, out);
    case F_TRIM:
        CHECK("trim", 1, "chars", NULL);
        ARG(0, "chars", a);
        if ((st = soft_str(c, v, &v))) return st;
        return rf__str_strip(c, v, a, STRIP_BOTH, out);
    case F_TRUNCATE: {
        CHECK("truncate", 4, "length", "killwords", "end", "leeway", NULL);
        a = tv_int(255);
        ARG(0, "length", a);
        ARG(1, "killwords", b);
        tstr *dots = rf__tstr_new(c, "...", 3);
        if (!dots) return c->st;
        d = tv_strv(dots);
        ARG(2, "end", d);
        e = tv_int(5);
        ARG(3, "leeway", e);
        if (e.t == TV_NONE) e = tv_int(5);
        if (!tv_is_intlike(a) || !tv_is_intlike(e)) return TPL_ERR(c, "truncate length must be an integer");
        return do_truncate(c, v, tv_ival(a), rf__tv_truthy(b), d, tv_ival(e), out);
    }
    case F_WORDCOUNT:
        CHECK("wordcount", 0, NULL);
        return do_wordcount(c, v, out);
    default:
        return TPL_ERR(c, "unknown filter");
    }
}

rf_status rf__tpl_filter_by_name(tpl_ctx *c, tv name, tv v, const tv *args, size_t nargs, tdict *kw, tv *out) {
    if (name.t != TV_STR) return TPL_ERR(c, "filter name must be a string");
    int id = rf__tpl_filter_id(name.u.s->s, name.u.s->len);
    if (id < 0) return TPL_ERR(c, "No filter named '%s'.", name.u.s->s);
    return rf__tpl_apply_filter(c, id, v, args, nargs, kw, out);
}

rf_status rf__tpl_test_by_name(tpl_ctx *c, tv name, tv v, const tv *args, size_t nargs, tdict *kw, bool *out) {
    if (name.t != TV_STR) return TPL_ERR(c, "test name must be a string");
    int id = rf__tpl_test_id(name.u.s->s, name.u.s->len);
    if (id < 0) return TPL_ERR(c, "No test named '%s'.", name.u.s->s);
    return rf__tpl_apply_test(c, id, v, args, nargs, kw, out);
}

/* ---- tests ---------------------------------------------------------------------------------------- */
/* value % m == want (jinja2's odd/even/divisibleby, with Python's % on any type) */
static rf_status mod_equals(tpl_ctx *c, tv v, tv m, int64_t want, bool *out) {
    rf_status st;
    tv r;
    if (v.t == TV_UNDEF) return rf__tpl_undef_error(c, v);
    if ((st = rf__tpl_binop(c, BIN_MOD, v, m, &r))) return st;
    return rf__tv_eq(c, r, tv_int(want), out);
}

rf_status rf__tpl_apply_test(tpl_ctx *c, int id, tv v, const tv *args, size_t nargs, tdict *kw, bool *out) {
    rf_status st;
    tv a = tv_none();
    bool one_arg = id == T_DIVISIBLEBY || id == T_SAMEAS || id == T_IN || id >= T_EQ;
    if (one_arg) {
        static const char *const names[] = {"num", "other", "seq", "value", "b", NULL};
        if (nargs > 1) return TPL_ERR(c, "test '%s' takes one argument (%zu given)", test_names[id], nargs);
        if (!rf__tpl_arg(args, nargs, NULL, 0, NULL, &a)) {
            bool got = false;
            for (const char *const *n = names; *n && !got; n++) got = kw && rf__tdict_get_str(kw, *n, strlen(*n), &a);
            if (!got) return TPL_ERR(c, "test '%s' is missing its argument", test_names[id]);
        }
    } else if (nargs || (kw && kw->n)) {
        return TPL_ERR(c, "test '%s' takes no arguments", test_names[id]);
    }
    switch (id) {
    case T_ODD: return mod_equals(c, v, tv_int(2), 1, out);
    case T_EVEN: return mod_equals(c, v, tv_int(2), 0, out);
    case T_DIVISIBLEBY: return mod_equals(c, v, a, 0, out);
    case T_DEFINED: *out = v.t != TV_UNDEF; return RF_OK;
    case T_UNDEFINED: *out = v.t == TV_UNDEF; return RF_OK;
    case T_FILTER: *out = v.t == TV_STR && rf__tpl_filter_id(v.u.s->s, v.u.s->len) >= 0; return RF_OK;
    case T_TEST: *out = v.t == TV_STR && rf__tpl_test_id(v.u.s->s, v.u.s->len) >= 0; return RF_OK;
    case T_NONE: *out = v.t == TV_NONE; return RF_OK;
    case T_BOOLEAN: *out = v.t == TV_BOOL; return RF_OK;
    case T_FALSE: *out = v.t == TV_BOOL && !v.u.b; return RF_OK;
    case T_TRUE: *out = v.t == TV_BOOL && v.u.b; return RF_OK;
    case T_INTEGER: *out = v.t == TV_INT; return RF_OK;
    case T_FLOAT: *out = v.t == TV_FLOAT; return RF_OK;
    case T_LOWER: case T_UPPER: {
        tv s, r;
        if ((st = soft_str(c, v, &s))) return st;
        const char *mname = id == T_LOWER ? "islower" : "isupper";
        bool unsafe;
        tv meth;
        if (!rf__tpl_method_lookup(c, s, mname, strlen(mname), &meth, &unsafe, &st)) return st ? st : TPL_ERR(c, "internal");
        if ((st = rf__tpl_call_method(c, meth.u.m, NULL, 0, NULL, &r))) return st;
        *out = r.u.b;
        return RF_OK;
    }
    case T_STRING: *out = v.t == TV_STR; return RF_OK;
    case T_MAPPING: *out = v.t == TV_DICT; return RF_OK;
    case T_NUMBER: *out = tv_is_num(v); return RF_OK;
    case T_SEQUENCE:
        *out = v.t == TV_STR || v.t == TV_DICT || v.t == TV_UNDEF || (v.t == TV_LIST && (v.kind == LK_LIST || v.kind == LK_TUPLE));
        return RF_OK;
    case T_ITERABLE:
        *out = v.t == TV_STR || v.t == TV_DICT || v.t == TV_UNDEF || v.t == TV_LIST || v.t == TV_LOOP;
        return RF_OK;
    case T_CALLABLE:
        *out = v.t == TV_FUNC || v.t == TV_METHOD || v.t == TV_MACRO || v.t == TV_LOOP || v.t == TV_UNDEF;
        return RF_OK;
    case T_SAMEAS:
        if (v.t != a.t) { *out = false; return RF_OK; }
        switch (v.t) {
        case TV_NONE: case TV_UNDEF: *out = v.t == TV_NONE || v.u.u == a.u.u; return RF_OK;
        case TV_BOOL: *out = v.u.b == a.u.b; return RF_OK;
        case TV_INT: *out = v.u.i == a.u.i && v.u.i >= -5 && v.u.i <= 256; return RF_OK;
        case TV_FLOAT: *out = false; return RF_OK;
        case TV_FUNC: *out = v.kind == a.kind; return RF_OK;
        default: *out = v.u.d == a.u.d; return RF_OK;
        }
    case T_ESCAPED: *out = v.t == TV_STR && (v.kind & TVF_MARKUP); return RF_OK;
    case T_IN: return rf__tv_contains(c, a, v, out);
    case T_EQ: case T_EQ2: case T_EQUALTO: return rf__tv_eq(c, v, a, out);
    case T_NE: case T_NE2:
        if ((st = rf__tv_eq(c, v, a, out))) return st;
        *out = !*out;
        return RF_OK;
    case T_GT: case T_GT2: case T_GREATERTHAN: return rf__tv_cmp(c, CMP_GT, v, a, out);
    case T_GE: case T_GE2: return rf__tv_cmp(c, CMP_GE, v, a, out);
    case T_LT: case T_LT2: case T_LESSTHAN: return rf__tv_cmp(c, CMP_LT, v, a, out);
    case T_LE: case T_LE2: return rf__tv_cmp(c, CMP_LE, v, a, out);
    default: return TPL_ERR(c, "unknown test");
    }
}
