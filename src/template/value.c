/*
 * value.c - template values with Python semantics: arena, strings, lists,
 * ordered dicts, truthiness, ==, ordering, `in`, str()/repr(), iteration,
 * len(), and conversion from and to JSON (json.dumps rules).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <utf8proc.h>

#include "template/tpl.h"

#define VALUE_DEPTH_MAX 600

/* ---- arena ------------------------------------------------------------------------- */
struct tpl_chunk {
    tpl_chunk *next;
    size_t used, cap, pad;
    unsigned char data[];
};

void *rf__tpl_alloc(tpl_arena *a, size_t n) {
    if (n > SIZE_MAX / 2) return NULL;
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    tpl_chunk *h = a->head;
    if (h && h->cap - h->used >= n) {
        void *p = h->data + h->used;
        h->used += n;
        return p;
    }
    size_t base = a->total < (1u << 20) ? (64u << 10) : (1u << 20);
    size_t csz = n > base / 2 ? n : base;
    if (a->cap && (a->total + csz + sizeof(tpl_chunk) > a->cap)) {
        a->over_cap = true;
        return NULL;
    }
    tpl_chunk *c = rf__malloc(sizeof(tpl_chunk) + csz);
    if (!c) return NULL;
    a->total += sizeof(tpl_chunk) + csz;
    c->cap = csz;
    c->used = n;
    if (h && csz != base) {
        /* a large block: keep filling the current chunk */
        c->next = h->next;
        h->next = c;
    } else {
        c->next = h;
        a->head = c;
    }
    return c->data;
}

void *rf__tpl_zalloc(tpl_arena *a, size_t n) {
    void *p = rf__tpl_alloc(a, n);
    if (p) memset(p, 0, n);
    return p;
}

void rf__tpl_arena_free(tpl_arena *a) {
    tpl_chunk *c = a->head;
    while (c) {
        tpl_chunk *nx = c->next;
        rf__free(c);
        c = nx;
    }
    a->head = NULL;
    a->total = 0;
}

/* ---- UTF-8 and whitespace ----------------------------------------------------------------- */
size_t rf__utf8_dec(const char *s, size_t len, int32_t *cp) {
    const unsigned char *p = (const unsigned char *)s;
    if (!len) { *cp = 0; return 1; }
    unsigned c = p[0];
    if (c < 0x80) { *cp = (int32_t)c; return 1; }
    size_t n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    if (n == 1 || n > len) { *cp = 0xFFFD; return 1; }
    int32_t v = (int32_t)(c & (0x7F >> n));
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xC0) != 0x80) { *cp = 0xFFFD; return 1; }
        v = (v << 6) | (p[k] & 0x3F);
    }
    *cp = v;
    return n;
}

size_t rf__utf8_enc(int32_t cp, char out[4]) {
    if (cp < 0 || cp > 0x10FFFF) cp = 0xFFFD;
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) { out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t rf__utf8_count(const char *s, size_t len) {
    /* code points = bytes that are not continuation bytes (10xxxxxx), 8 at a time */
    size_t n = 0, i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        uint64_t cont = (x & 0x8080808080808080ull) & ~((x << 1) & 0x8080808080808080ull);
        n += 8 - (size_t)__builtin_popcountll(cont);
    }
    for (; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

size_t rf__utf8_offset(const char *s, size_t len, size_t idx) {
    size_t i = 0, k = 0;
    while (i < len) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (k == idx) return i;
            k++;
        }
        i++;
    }
    return len;
}

bool rf__py_isspace(int32_t cp) {
    if (cp < 0x80) return (cp >= 9 && cp <= 13) || (cp >= 0x1C && cp <= 0x20);
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

size_t rf__py_space_at(const char *p, const char *end) {
    if (p >= end) return 0;
    unsigned char c = (unsigned char)*p;
    if (c < 0x80) return rf__py_isspace(c) ? 1 : 0;
    int32_t cp;
    size_t n = rf__utf8_dec(p, (size_t)(end - p), &cp);
    return rf__py_isspace(cp) ? n : 0;
}

size_t rf__py_space_before(const char *start, const char *p) {
    if (p <= start) return 0;
    const char *q = p - 1;
    if (!((unsigned char)*q & 0x80)) return rf__py_isspace((unsigned char)*q) ? 1 : 0;
    while (q > start && ((unsigned char)*q & 0xC0) == 0x80 && p - q < 4) q--;
    int32_t cp;
    size_t n = rf__utf8_dec(q, (size_t)(p - q), &cp);
    return (q + n == p && rf__py_isspace(cp)) ? n : 0;
}

/* ---- buffers -------------------------------------------------------------------------------- */
rf_status rf__sb_put(tpl_ctx *c, sbuf *b, const char *s, size_t n) {
    if (!n) return RF_OK;
    if (n >= 256) {
        rf_status st = tpl_steps(c, n >> 8); /* bulk copies cost steps too */
        if (st) return st;
    }
    if (n > c->max_str || b->len > c->max_str - n)
        return rf__tpl_fail(c, RF_ERR_BUDGET, "string or output longer than the limit of %zu bytes", c->max_str);
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->len + n + 1) nc *= 2;
        char *np = rf__realloc(b->p, nc);
        if (!np) return rf__tpl_nomem(c);
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return RF_OK;
}

rf_status rf__sb_putc(tpl_ctx *c, sbuf *b, char ch) { return rf__sb_put(c, b, &ch, 1); }

rf_status rf__sb_printf(tpl_ctx *c, sbuf *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return TPL_ERR(c, "formatting failed");
    return rf__sb_put(c, b, tmp, RF_MIN((size_t)n, sizeof tmp - 1));
}

tv rf__sb_take(tpl_ctx *c, sbuf *b, rf_status *st) {
    tv v = rf__tv_str(c, b->p ? b->p : "", b->len, st);
    rf__sb_free(b);
    return v;
}

void rf__sb_free(sbuf *b) {
    rf__free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ---- constructors --------------------------------------------------------------------------- */
tstr *rf__tstr_arena(tpl_arena *a, const char *s, size_t len) {
    if (len > SIZE_MAX / 2) return NULL;
    tstr *t = rf__tpl_alloc(a, sizeof(tstr) + len + 1);
    if (!t) return NULL;
    t->len = len;
    if (s && len) memcpy(t->s, s, len);
    t->s[len] = '\0';
    return t;
}

tstr *rf__tstr_alloc(tpl_ctx *c, size_t len) {
    if (len > c->max_str) {
        rf__tpl_fail(c, RF_ERR_BUDGET, "string of %zu bytes is longer than the limit of %zu bytes", len, c->max_str);
        return NULL;
    }
    if (len >= 256 && tpl_steps(c, len >> 8)) return NULL;
    tstr *t = rf__tstr_arena(&c->ar, NULL, len);
    if (!t) rf__tpl_nomem(c);
    return t;
}

tstr *rf__tstr_new(tpl_ctx *c, const char *s, size_t len) {
    tstr *t = rf__tstr_alloc(c, len);
    if (t && len) memcpy(t->s, s, len);
    return t;
}

tv rf__tv_str(tpl_ctx *c, const char *s, size_t len, rf_status *st) {
    tstr *t = rf__tstr_new(c, s, len);
    if (!t) { *st = c->st ? c->st : RF_ERR_NOMEM; return tv_undef(); }
    *st = RF_OK;
    return tv_strv(t);
}

tv rf__tv_cstr(tpl_ctx *c, const char *s, rf_status *st) { return rf__tv_str(c, s, strlen(s), st); }

tv rf__tv_undef_named(tpl_ctx *c, int why, const char *name, const char *owner) {
    tundef *u = rf__tpl_alloc(&c->ar, sizeof *u);
    tv v = tv_undef();
    if (!u) return v; /* a plain undefined still behaves correctly */
    u->why = (uint8_t)why;
    u->name = name;
    u->owner = owner;
    v.u.u = u;
    return v;
}

tlist *rf__tlist_new(tpl_ctx *c, size_t n) {
    uint64_t bytes;
    if (!rf__mul_ok(n, sizeof(tv), &bytes) || n > c->max_str / 4 + 4096) {
        rf__tpl_fail(c, RF_ERR_BUDGET, "list of %zu items is too large", n);
        return NULL;
    }
    tlist *l = rf__tpl_alloc(&c->ar, sizeof *l + (size_t)bytes);
    if (!l) { rf__tpl_nomem(c); return NULL; }
    l->n = n;
    l->v = (tv *)(l + 1);
    l->pos = 0;
    l->group = false;
    memset(l->v, 0, (size_t)bytes);
    return l;
}

tdict *rf__tdict_new(tpl_ctx *c, size_t cap) {
    tdict *d = rf__tpl_zalloc(&c->ar, sizeof *d);
    if (!d) { rf__tpl_nomem(c); return NULL; }
    if (cap) {
        d->keys = rf__tpl_alloc(&c->ar, cap * sizeof(tv));
        d->vals = rf__tpl_alloc(&c->ar, cap * sizeof(tv));
        if (!d->keys || !d->vals) { rf__tpl_nomem(c); return NULL; }
        d->cap = cap;
    }
    return d;
}

/* ---- hashing and dicts ------------------------------------------------------------------------ */
bool rf__tv_hashable(tv v) {
    switch (v.t) {
    case TV_LIST:
        if (v.kind != LK_TUPLE) return false;
        for (size_t i = 0; i < v.u.l->n; i++)
            if (!rf__tv_hashable(v.u.l->v[i])) return false;
        return true;
    case TV_DICT: case TV_LOOP: return false;
    default: return true;
    }
}

static uint64_t mix(uint64_t h) {
    h ^= h >> 33; h *= 0xff51afd7ed558ccdull; h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53ull; h ^= h >> 33;
    return h;
}

static uint64_t tv_hash(tv v, int depth) {
    switch (v.t) {
    case TV_UNDEF: return 0x5a5a;
    case TV_NONE: return 0x1234;
    case TV_BOOL: case TV_INT: return mix((uint64_t)tv_ival(v));
    case TV_FLOAT: {
        double f = v.u.f;
        if (f == floor(f) && fabs(f) < 9.2e18) return mix((uint64_t)(int64_t)f);
        if (f != f) return 0x7ff8;
        uint64_t b;
        memcpy(&b, &f, 8);
        return mix(b);
    }
    case TV_STR: {
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < v.u.s->len; i++) h = (h ^ (unsigned char)v.u.s->s[i]) * 1099511628211ull;
        return h;
    }
    case TV_LIST: {
        uint64_t h = 0x77;
        if (depth > VALUE_DEPTH_MAX) return h;
        for (size_t i = 0; i < v.u.l->n; i++) h = mix(h * 31 + tv_hash(v.u.l->v[i], depth + 1));
        return h;
    }
    case TV_FUNC: return mix(v.kind + 99);
    default: return mix((uint64_t)(uintptr_t)v.u.d);
    }
}

static rf_status tv_eq_d(tpl_ctx *c, tv a, tv b, bool *out, int depth);

static rf_status dict_find(tpl_ctx *c, const tdict *d, tv key, size_t *pos, bool *found) {
    *found = false;
    if (key.t == TV_STR && key.u.s->len >= 256) {
        rf_status st = tpl_steps(c, key.u.s->len >> 8);
        if (st) return st;
    }
    if (d->index) {
        size_t mask = d->index_cap - 1, i = (size_t)tv_hash(key, 0) & mask;
        for (;;) {
            uint32_t e = d->index[i];
            if (!e) return RF_OK;
            bool eq;
            rf_status st = tv_eq_d(c, d->keys[e - 1], key, &eq, 0);
            if (st) return st;
            if (eq) { *pos = e - 1; *found = true; return RF_OK; }
            i = (i + 1) & mask;
        }
    }
    for (size_t i = 0; i < d->n; i++) {
        tv k = d->keys[i];
        bool eq;
        if (k.t == TV_STR && key.t == TV_STR) {
            eq = k.u.s->len == key.u.s->len && memcmp(k.u.s->s, key.u.s->s, k.u.s->len) == 0;
        } else {
            rf_status st = tv_eq_d(c, k, key, &eq, 0);
            if (st) return st;
        }
        if (eq) { *pos = i; *found = true; return RF_OK; }
    }
    return RF_OK;
}

static rf_status dict_reindex(tpl_ctx *c, tdict *d) {
    size_t cap = 64;
    while (cap < d->n * 2 + 2) cap *= 2;
    uint32_t *idx = rf__tpl_zalloc(&c->ar, cap * sizeof *idx);
    if (!idx) return rf__tpl_nomem(c);
    for (size_t k = 0; k < d->n; k++) {
        size_t i = (size_t)tv_hash(d->keys[k], 0) & (cap - 1);
        while (idx[i]) i = (i + 1) & (cap - 1);
        idx[i] = (uint32_t)(k + 1);
    }
    d->index = idx;
    d->index_cap = cap;
    return RF_OK;
}

rf_status rf__tdict_set(tpl_ctx *c, tdict *d, tv key, tv val) {
    if (!rf__tv_hashable(key)) return TPL_ERR(c, "unhashable type: '%s'", rf__tv_type_name(key));
    size_t pos;
    bool found;
    rf_status st = dict_find(c, d, key, &pos, &found);
    if (st) return st;
    if (found) { d->vals[pos] = val; return RF_OK; }
    if (d->n >= UINT32_MAX - 1) return rf__tpl_fail(c, RF_ERR_BUDGET, "dict too large");
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 8;
        tv *nk = rf__tpl_alloc(&c->ar, nc * sizeof(tv)), *nv = rf__tpl_alloc(&c->ar, nc * sizeof(tv));
        if (!nk || !nv) return rf__tpl_nomem(c);
        if (d->n) {
            memcpy(nk, d->keys, d->n * sizeof(tv));
            memcpy(nv, d->vals, d->n * sizeof(tv));
        }
        d->keys = nk;
        d->vals = nv;
        d->cap = nc;
    }
    d->keys[d->n] = key;
    d->vals[d->n] = val;
    d->n++;
    if (d->index && d->n * 2 + 2 <= d->index_cap) {
        size_t i = (size_t)tv_hash(key, 0) & (d->index_cap - 1);
        while (d->index[i]) i = (i + 1) & (d->index_cap - 1);
        d->index[i] = (uint32_t)d->n;
    } else if (d->n > 16) {
        return dict_reindex(c, d);
    }
    return RF_OK;
}

bool rf__tdict_get(tpl_ctx *c, const tdict *d, tv key, tv *out, rf_status *st) {
    *st = RF_OK;
    if (!rf__tv_hashable(key)) {
        *st = TPL_ERR(c, "unhashable type: '%s'", rf__tv_type_name(key));
        return false;
    }
    size_t pos;
    bool found;
    if ((*st = dict_find(c, d, key, &pos, &found)) || !found) return false;
    *out = d->vals[pos];
    return true;
}

bool rf__tdict_get_str(const tdict *d, const char *k, size_t klen, tv *out) {
    if (d->index) {
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < klen; i++) h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
        size_t mask = d->index_cap - 1, i = (size_t)h & mask;
        for (;;) {
            uint32_t e = d->index[i];
            if (!e) return false;
            tv key = d->keys[e - 1];
            if (key.t == TV_STR && key.u.s->len == klen && memcmp(key.u.s->s, k, klen) == 0) {
                *out = d->vals[e - 1];
                return true;
            }
            i = (i + 1) & mask;
        }
    }
    for (size_t i = 0; i < d->n; i++) {
        tv key = d->keys[i];
        if (key.t == TV_STR && key.u.s->len == klen && memcmp(key.u.s->s, k, klen) == 0) {
            *out = d->vals[i];
            return true;
        }
    }
    return false;
}

/* ---- type names, truthiness ------------------------------------------------------------------ */
const char *rf__tv_type_name(tv v) {
    switch (v.t) {
    case TV_UNDEF: return "Undefined";
    case TV_NONE: return "NoneType";
    case TV_BOOL: return "bool";
    case TV_INT: return "int";
    case TV_FLOAT: return "float";
    case TV_STR: return (v.kind & TVF_MARKUP) ? "Markup" : "str";
    case TV_LIST:
        switch (v.kind) {
        case LK_TUPLE: return "tuple";
        case LK_GEN: return "generator";
        case LK_ITEMS: return "dict_items";
        case LK_KEYS: return "dict_keys";
        case LK_VALUES: return "dict_values";
        case LK_REVERSED: return "list_reverseiterator";
        default: return "list";
        }
    case TV_DICT: return "dict";
    case TV_NS: return "Namespace";
    case TV_FUNC: return "function";
    case TV_METHOD: return "builtin_function_or_method";
    case TV_MACRO: return "Macro";
    case TV_LOOP: return "LoopContext";
    default: return "object";
    }
}

bool rf__tv_truthy(tv v) {
    switch (v.t) {
    case TV_UNDEF: case TV_NONE: return false;
    case TV_BOOL: return v.u.b;
    case TV_INT: return v.u.i != 0;
    case TV_FLOAT: return v.u.f != 0.0;
    case TV_STR: return v.u.s->len > 0;
    case TV_LIST: return v.kind == LK_GEN || v.kind == LK_REVERSED || v.u.l->n > 0;
    case TV_DICT: return v.u.d->n > 0;
    case TV_LOOP: return v.u.loop->n > 0;
    default: return true;
    }
}

/* ---- equality and ordering ------------------------------------------------------------------- */
static bool num_eq(tv a, tv b) {
    if (a.t != TV_FLOAT && b.t != TV_FLOAT) return tv_ival(a) == tv_ival(b);
    if (a.t == TV_FLOAT && b.t == TV_FLOAT) return a.u.f == b.u.f;
    double f = a.t == TV_FLOAT ? a.u.f : b.u.f;
    int64_t i = a.t == TV_FLOAT ? tv_ival(b) : tv_ival(a);
    if (f != f || f != floor(f) || fabs(f) >= 9.3e18) return false;
    if (f >= 9.2233720368547758e18 || f < -9.2233720368547758e18) return false;
    return (int64_t)f == i;
}

static int num_cmp(tv a, tv b) { /* -1, 0, 1; 2 = unordered (NaN) */
    if (a.t != TV_FLOAT && b.t != TV_FLOAT) {
        int64_t x = tv_ival(a), y = tv_ival(b);
        return x < y ? -1 : x > y;
    }
    double x = tv_fval(a), y = tv_fval(b);
    if (x != x || y != y) return 2;
    if (a.t != TV_FLOAT || b.t != TV_FLOAT) {
        if (num_eq(a, b)) return 0;
    }
    return x < y ? -1 : x > y ? 1 : 0;
}

static rf_status tv_eq_d(tpl_ctx *c, tv a, tv b, bool *out, int depth) {
    *out = false;
    if (depth > VALUE_DEPTH_MAX) return rf__tpl_fail(c, RF_ERR_BUDGET, "values nested too deeply to compare");
    if (tv_is_num(a) && tv_is_num(b)) { *out = num_eq(a, b); return RF_OK; }
    if (a.t != b.t) return RF_OK;
    switch (a.t) {
    case TV_UNDEF: case TV_NONE: *out = true; return RF_OK;
    case TV_STR:
        *out = a.u.s->len == b.u.s->len && memcmp(a.u.s->s, b.u.s->s, a.u.s->len) == 0;
        return tpl_steps(c, a.u.s->len >> 8);
    case TV_LIST: {
        if (a.kind != b.kind) return RF_OK;
        if (a.kind != LK_LIST && a.kind != LK_TUPLE && a.kind != LK_VALUES && a.kind != LK_KEYS && a.kind != LK_ITEMS) {
            *out = a.u.l == b.u.l;
            return RF_OK;
        }
        if (a.kind == LK_VALUES) { *out = a.u.l == b.u.l; return RF_OK; }
        if (a.u.l->n != b.u.l->n) return RF_OK;
        for (size_t i = 0; i < a.u.l->n; i++) {
            bool e;
            rf_status st = tv_eq_d(c, a.u.l->v[i], b.u.l->v[i], &e, depth + 1);
            if (st) return st;
            if (!e) return RF_OK;
        }
        *out = true;
        return RF_OK;
    }
    case TV_DICT: {
        const tdict *x = a.u.d, *y = b.u.d;
        if (x == y) { *out = true; return RF_OK; }
        if (x->n != y->n) return RF_OK;
        for (size_t i = 0; i < x->n; i++) {
            size_t pos;
            bool found, e;
            rf_status st = dict_find(c, y, x->keys[i], &pos, &found);
            if (st) return st;
            if (!found) return RF_OK;
            if ((st = tv_eq_d(c, x->vals[i], y->vals[pos], &e, depth + 1))) return st;
            if (!e) return RF_OK;
        }
        *out = true;
        return RF_OK;
    }
    case TV_FUNC: *out = a.kind == b.kind; return RF_OK;
    case TV_METHOD: {
        if (a.u.m->id != b.u.m->id) return RF_OK;
        tv sa = a.u.m->self, sb = b.u.m->self;
        *out = sa.t == sb.t && sa.u.d == sb.u.d;
        return RF_OK;
    }
    default: *out = a.u.d == b.u.d; return RF_OK;
    }
}

rf_status rf__tv_eq(tpl_ctx *c, tv a, tv b, bool *out) { return tv_eq_d(c, a, b, out, 0); }

static rf_status cmp_d(tpl_ctx *c, int op, tv a, tv b, bool *out, int depth) {
    static const char *const sym[] = {"==", "!=", "<", "<=", ">", ">="};
    *out = false;
    if (depth > VALUE_DEPTH_MAX) return rf__tpl_fail(c, RF_ERR_BUDGET, "values nested too deeply to compare");
    if (a.t == TV_UNDEF) return rf__tpl_undef_error(c, a);
    if (b.t == TV_UNDEF) return rf__tpl_undef_error(c, b);
    int r;
    if (tv_is_num(a) && tv_is_num(b)) {
        r = num_cmp(a, b);
        if (r == 2) return RF_OK;
    } else if (a.t == TV_STR && b.t == TV_STR) {
        size_t n = RF_MIN(a.u.s->len, b.u.s->len);
        rf_status st = tpl_steps(c, n >> 8);
        if (st) return st;
        int m = memcmp(a.u.s->s, b.u.s->s, n);
        r = m < 0 ? -1 : m > 0 ? 1 : a.u.s->len < b.u.s->len ? -1 : a.u.s->len > b.u.s->len;
    } else if (a.t == TV_LIST && b.t == TV_LIST && a.kind == b.kind && (a.kind == LK_LIST || a.kind == LK_TUPLE)) {
        size_t n = RF_MIN(a.u.l->n, b.u.l->n), i;
        for (i = 0; i < n; i++) {
            bool e;
            rf_status st = tv_eq_d(c, a.u.l->v[i], b.u.l->v[i], &e, depth + 1);
            if (st) return st;
            if (!e) break;
        }
        if (i < n) return cmp_d(c, op, a.u.l->v[i], b.u.l->v[i], out, depth + 1);
        r = a.u.l->n < b.u.l->n ? -1 : a.u.l->n > b.u.l->n;
    } else {
        return TPL_ERR(c, "'%s' not supported between instances of '%s' and '%s'", sym[op],
                       rf__tv_type_name(a), rf__tv_type_name(b));
    }
    switch (op) {
    case CMP_LT: *out = r < 0; break;
    case CMP_LE: *out = r <= 0; break;
    case CMP_GT: *out = r > 0; break;
    case CMP_GE: *out = r >= 0; break;
    default: *out = r == 0; break;
    }
    return RF_OK;
}

rf_status rf__tv_cmp(tpl_ctx *c, int op, tv a, tv b, bool *out) { return cmp_d(c, op, a, b, out, 0); }

rf_status rf__tv_order(tpl_ctx *c, tv a, tv b, int *out) {
    bool lt;
    rf_status st = rf__tv_cmp(c, CMP_LT, a, b, &lt);
    if (st) return st;
    if (lt) { *out = -1; return RF_OK; }
    if ((st = rf__tv_cmp(c, CMP_LT, b, a, &lt))) return st;
    *out = lt ? 1 : 0;
    return RF_OK;
}

rf_status rf__tv_contains(tpl_ctx *c, tv container, tv item, bool *out) {
    *out = false;
    switch (container.t) {
    case TV_STR: {
        if (item.t != TV_STR) {
            if (item.t == TV_UNDEF) return rf__tpl_undef_error(c, item);
            return TPL_ERR(c, "'in <string>' requires string as left operand, not %s", rf__tv_type_name(item));
        }
        tstr *h = container.u.s, *n = item.u.s;
        if (!n->len) { *out = true; return RF_OK; }
        *out = n->len <= h->len && memmem(h->s, h->len, n->s, n->len) != NULL;
        return tpl_steps(c, h->len / 64);
    }
    case TV_LIST: {
        tlist *l = container.u.l;
        bool iter = container.kind == LK_GEN || container.kind == LK_REVERSED;
        for (size_t i = iter ? l->pos : 0; i < l->n; i++) {
            rf_status st = rf__tv_eq(c, l->v[i], item, out);
            if (st) return st;
            if (*out) {
                if (iter) l->pos = i + 1; /* `in` consumes an iterator up to the match */
                return RF_OK;
            }
        }
        if (iter) l->pos = l->n;
        return tpl_steps(c, l->n / 16);
    }
    case TV_DICT: {
        tv dummy;
        rf_status st;
        *out = rf__tdict_get(c, container.u.d, item, &dummy, &st);
        return st;
    }
    case TV_UNDEF: return RF_OK;
    default:
        return TPL_ERR(c, "argument of type '%s' is not iterable", rf__tv_type_name(container));
    }
}

/* ---- str() and repr() --------------------------------------------------------------------------- */
static rf_status repr_str(tpl_ctx *c, sbuf *b, const tstr *s) {
    bool has_sq = memchr(s->s, '\'', s->len) != NULL, has_dq = memchr(s->s, '"', s->len) != NULL;
    char q = (has_sq && !has_dq) ? '"' : '\'';
    rf_status st = rf__sb_putc(c, b, q);
    size_t i = 0, run = 0;
    while (!st && i < s->len) {
        unsigned char ch = (unsigned char)s->s[i];
        char esc[16];
        size_t elen = 0, clen = 1;
        if (ch == (unsigned char)q || ch == '\\') { esc[0] = '\\'; esc[1] = (char)ch; elen = 2; }
        else if (ch == '\n') { memcpy(esc, "\\n", 2); elen = 2; }
        else if (ch == '\r') { memcpy(esc, "\\r", 2); elen = 2; }
        else if (ch == '\t') { memcpy(esc, "\\t", 2); elen = 2; }
        else if (ch < 0x20 || ch == 0x7f) elen = (size_t)snprintf(esc, sizeof esc, "\\x%02x", ch);
        else if (ch >= 0x80) {
            int32_t cp;
            clen = rf__utf8_dec(s->s + i, s->len - i, &cp);
            utf8proc_category_t cat = utf8proc_category(cp);
            bool printable = !(cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF ||
                               cat == UTF8PROC_CATEGORY_CS || cat == UTF8PROC_CATEGORY_CO ||
                               cat == UTF8PROC_CATEGORY_CN || cat == UTF8PROC_CATEGORY_ZL ||
                               cat == UTF8PROC_CATEGORY_ZP || cat == UTF8PROC_CATEGORY_ZS);
            if (!printable) {
                if (cp <= 0xff) elen = (size_t)snprintf(esc, sizeof esc, "\\x%02x", (unsigned)cp);
                else if (cp <= 0xffff) elen = (size_t)snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
                else elen = (size_t)snprintf(esc, sizeof esc, "\\U%08x", (unsigned)cp);
            }
        }
        if (elen) {
            if (run) st = rf__sb_put(c, b, s->s + i - run, run);
            run = 0;
            if (!st) st = rf__sb_put(c, b, esc, elen);
        } else {
            run += clen;
        }
        i += clen;
    }
    if (!st && run) st = rf__sb_put(c, b, s->s + i - run, run);
    if (!st) st = rf__sb_putc(c, b, q);
    return st;
}

static rf_status write_d(tpl_ctx *c, sbuf *b, tv v, bool repr, int depth);

static rf_status write_items(tpl_ctx *c, sbuf *b, const tlist *l, int depth) {
    rf_status st = RF_OK;
    for (size_t i = 0; !st && i < l->n; i++) {
        if (i) st = rf__sb_put(c, b, ", ", 2);
        if (!st) st = write_d(c, b, l->v[i], true, depth + 1);
    }
    return st;
}

static rf_status write_dict(tpl_ctx *c, sbuf *b, const tdict *d, int depth) {
    rf_status st = rf__sb_putc(c, b, '{');
    for (size_t i = 0; !st && i < d->n; i++) {
        if (i) st = rf__sb_put(c, b, ", ", 2);
        if (!st) st = write_d(c, b, d->keys[i], true, depth + 1);
        if (!st) st = rf__sb_put(c, b, ": ", 2);
        if (!st) st = write_d(c, b, d->vals[i], true, depth + 1);
    }
    if (!st) st = rf__sb_putc(c, b, '}');
    return st;
}

static rf_status write_d(tpl_ctx *c, sbuf *b, tv v, bool repr, int depth) {
    rf_status st;
    if (depth > VALUE_DEPTH_MAX) return rf__tpl_fail(c, RF_ERR_BUDGET, "values nested too deeply to print");
    if ((st = tpl_steps(c, 1))) return st;
    switch (v.t) {
    case TV_UNDEF: return repr ? rf__sb_put(c, b, "Undefined", 9) : RF_OK;
    case TV_NONE: return rf__sb_put(c, b, "None", 4);
    case TV_BOOL: return v.u.b ? rf__sb_put(c, b, "True", 4) : rf__sb_put(c, b, "False", 5);
    case TV_INT: return rf__sb_printf(c, b, "%lld", (long long)v.u.i);
    case TV_FLOAT: {
        char tmp[64];
        size_t n = rf__py_float_repr(v.u.f, tmp, sizeof tmp);
        return rf__sb_put(c, b, tmp, n);
    }
    case TV_STR:
        if (!repr) return rf__sb_put(c, b, v.u.s->s, v.u.s->len);
        if (v.kind & TVF_MARKUP) {
            if ((st = rf__sb_put(c, b, "Markup(", 7)) || (st = repr_str(c, b, v.u.s))) return st;
            return rf__sb_putc(c, b, ')');
        }
        return repr_str(c, b, v.u.s);
    case TV_LIST:
        switch (v.kind) {
        case LK_TUPLE:
            if ((st = rf__sb_putc(c, b, '(')) || (st = write_items(c, b, v.u.l, depth))) return st;
            if (v.u.l->n == 1 && (st = rf__sb_putc(c, b, ','))) return st;
            return rf__sb_putc(c, b, ')');
        case LK_GEN: return rf__sb_put(c, b, "<generator object>", 18);
        case LK_REVERSED: return rf__sb_put(c, b, "<list_reverseiterator object>", 29);
        case LK_ITEMS: case LK_KEYS: case LK_VALUES: {
            const char *pre = v.kind == LK_ITEMS ? "dict_items([" : v.kind == LK_KEYS ? "dict_keys([" : "dict_values([";
            if ((st = rf__sb_put(c, b, pre, strlen(pre))) || (st = write_items(c, b, v.u.l, depth))) return st;
            return rf__sb_put(c, b, "])", 2);
        }
        default:
            if ((st = rf__sb_putc(c, b, '[')) || (st = write_items(c, b, v.u.l, depth))) return st;
            return rf__sb_putc(c, b, ']');
        }
    case TV_DICT: return write_dict(c, b, v.u.d, depth);
    case TV_NS:
        if ((st = rf__sb_put(c, b, "<Namespace ", 11)) || (st = write_dict(c, b, v.u.d, depth))) return st;
        return rf__sb_putc(c, b, '>');
    case TV_FUNC: return rf__sb_printf(c, b, "<function %s>", rf__tpl_func_name(v.kind));
    case TV_METHOD: return rf__sb_printf(c, b, "<built-in method %s of %s object>", v.u.m->name,
                                         rf__tv_type_name(v.u.m->self));
    case TV_MACRO: {
        const node *d = v.u.mac->def;
        if (d->kind == S_CALLBLOCK) return rf__sb_put(c, b, "<Macro 'caller'>", 16);
        return rf__sb_printf(c, b, "<Macro '%.*s'>", (int)RF_MIN(d->name->len, 100), d->name->s);
    }
    case TV_LOOP:
        return rf__sb_printf(c, b, "<LoopContext %zu/%zu>", v.u.loop->index0 + 1, v.u.loop->n);
    default: return RF_OK;
    }
}

rf_status rf__tv_write_str(tpl_ctx *c, sbuf *b, tv v) { return write_d(c, b, v, false, 0); }
rf_status rf__tv_write_repr(tpl_ctx *c, sbuf *b, tv v) { return write_d(c, b, v, true, 0); }

rf_status rf__tv_to_str(tpl_ctx *c, tv v, tv *out) {
    if (v.t == TV_STR) { *out = v; return RF_OK; }
    if (v.t == TV_UNDEF) {
        static tstr empty = {0};
        *out = tv_strv(&empty);
        return RF_OK;
    }
    sbuf b = {0};
    rf_status st = rf__tv_write_str(c, &b, v);
    if (st) { rf__sb_free(&b); return st; }
    *out = rf__sb_take(c, &b, &st);
    return st;
}

/* ---- iteration and len() ---------------------------------------------------------------------------- */
rf_status rf__tv_iter(tpl_ctx *c, tv v, tv **items, size_t *n) {
    static tv none_items[1];
    *items = none_items;
    *n = 0;
    switch (v.t) {
    case TV_LIST:
        if (v.kind == LK_GEN || v.kind == LK_REVERSED) { /* an iterator: what is taken is gone */
            tlist *l = v.u.l;
            *items = l->v + RF_MIN(l->pos, l->n);
            *n = l->n - RF_MIN(l->pos, l->n);
            l->pos = l->n;
            return RF_OK;
        }
        *items = v.u.l->v;
        *n = v.u.l->n;
        return RF_OK;
    case TV_UNDEF: return RF_OK;
    case TV_DICT: case TV_NS: {
        if (v.t == TV_NS) return TPL_ERR(c, "'Namespace' object is not iterable");
        *items = v.u.d->keys;
        *n = v.u.d->n;
        return RF_OK;
    }
    case TV_STR: {
        size_t cnt = rf__utf8_count(v.u.s->s, v.u.s->len);
        rf_status st = tpl_steps(c, cnt / 4);
        if (st) return st;
        tlist *l = rf__tlist_new(c, cnt);
        if (!l) return c->st;
        size_t i = 0, k = 0;
        while (i < v.u.s->len) {
            int32_t cp;
            size_t w = rf__utf8_dec(v.u.s->s + i, v.u.s->len - i, &cp);
            tstr *ch = rf__tstr_new(c, v.u.s->s + i, w);
            if (!ch) return c->st;
            l->v[k++] = tv_strv(ch);
            i += w;
        }
        *items = l->v;
        *n = k;
        return RF_OK;
    }
    case TV_LOOP:
        *items = v.u.loop->items;
        *n = v.u.loop->n;
        return RF_OK;
    default:
        return TPL_ERR(c, "'%s' object is not iterable", rf__tv_type_name(v));
    }
}

rf_status rf__tv_len(tpl_ctx *c, tv v, int64_t *out) {
    switch (v.t) {
    case TV_STR: *out = (int64_t)rf__utf8_count(v.u.s->s, v.u.s->len); return tpl_steps(c, v.u.s->len >> 6);
    case TV_LIST:
        if (v.kind == LK_GEN || v.kind == LK_REVERSED)
            return TPL_ERR(c, "object of type '%s' has no len()", rf__tv_type_name(v));
        *out = (int64_t)v.u.l->n;
        return RF_OK;
    case TV_DICT: *out = (int64_t)v.u.d->n; return RF_OK;
    case TV_UNDEF: *out = 0; return RF_OK;
    case TV_LOOP: *out = (int64_t)v.u.loop->n; return RF_OK;
    default: return TPL_ERR(c, "object of type '%s' has no len()", rf__tv_type_name(v));
    }
}

/* ---- JSON ---------------------------------------------------------------------------------------------- */
rf_status rf__tv_from_json(tpl_ctx *c, const json_t *j, tv *out, int depth) {
    rf_status st;
    if (depth > 512) return rf__tpl_fail(c, RF_ERR_BUDGET, "context data nested too deeply");
    if ((st = tpl_steps(c, 1))) return st;
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        tdict *d = rf__tdict_new(c, json_object_size(j));
        if (!d) return c->st;
        const char *k;
        json_t *val;
        void *iter = json_object_iter((json_t *)j);
        while (iter) {
            k = json_object_iter_key(iter);
            val = json_object_iter_value(iter);
            tv kv, vv;
            tstr *ks = rf__tstr_new(c, k, strlen(k));
            if (!ks) return c->st;
            kv = tv_strv(ks);
            if ((st = rf__tv_from_json(c, val, &vv, depth + 1))) return st;
            if ((st = rf__tdict_set(c, d, kv, vv))) return st;
            iter = json_object_iter_next((json_t *)j, iter);
        }
        *out = tv_dictv(d);
        return RF_OK;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        tlist *l = rf__tlist_new(c, n);
        if (!l) return c->st;
        for (size_t i = 0; i < n; i++)
            if ((st = rf__tv_from_json(c, json_array_get(j, i), &l->v[i], depth + 1))) return st;
        *out = tv_listv(l, LK_LIST);
        return RF_OK;
    }
    case JSON_STRING: {
        tstr *s = rf__tstr_new(c, json_string_value(j), json_string_length(j));
        if (!s) return c->st;
        *out = tv_strv(s);
        return RF_OK;
    }
    case JSON_INTEGER: *out = tv_int((int64_t)json_integer_value(j)); return RF_OK;
    case JSON_REAL: *out = tv_float(json_real_value(j)); return RF_OK;
    case JSON_TRUE: *out = tv_bool(true); return RF_OK;
    case JSON_FALSE: *out = tv_bool(false); return RF_OK;
    default: *out = tv_none(); return RF_OK;
    }
}

static rf_status json_str(tpl_ctx *c, sbuf *b, const char *s, size_t len, bool ascii) {
    rf_status st = rf__sb_putc(c, b, '"');
    size_t i = 0, run = 0;
    while (!st && i < len) {
        unsigned char ch = (unsigned char)s[i];
        char esc[16];
        size_t elen = 0, clen = 1;
        switch (ch) {
        case '"': memcpy(esc, "\\\"", 2); elen = 2; break;
        case '\\': memcpy(esc, "\\\\", 2); elen = 2; break;
        case '\n': memcpy(esc, "\\n", 2); elen = 2; break;
        case '\r': memcpy(esc, "\\r", 2); elen = 2; break;
        case '\t': memcpy(esc, "\\t", 2); elen = 2; break;
        case '\b': memcpy(esc, "\\b", 2); elen = 2; break;
        case '\f': memcpy(esc, "\\f", 2); elen = 2; break;
        default:
            if (ch < 0x20) {
                elen = (size_t)snprintf(esc, sizeof esc, "\\u%04x", ch);
            } else if (ch >= 0x80) {
                int32_t cp;
                clen = rf__utf8_dec(s + i, len - i, &cp);
                if (ascii) {
                    if (cp >= 0x10000) {
                        int32_t v = cp - 0x10000;
                        elen = (size_t)snprintf(esc, sizeof esc, "\\u%04x\\u%04x", (unsigned)(0xD800 | (v >> 10)),
                                                (unsigned)(0xDC00 | (v & 0x3FF)));
                    } else {
                        elen = (size_t)snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
                    }
                }
            }
        }
        if (elen) {
            if (run) st = rf__sb_put(c, b, s + i - run, run);
            run = 0;
            if (!st) st = rf__sb_put(c, b, esc, elen);
        } else {
            run += clen;
        }
        i += clen;
    }
    if (!st && run) st = rf__sb_put(c, b, s + i - run, run);
    if (!st) st = rf__sb_putc(c, b, '"');
    return st;
}

static rf_status json_newline(tpl_ctx *c, sbuf *b, const json_opts *o, int level) {
    if (o->indent < 0) return RF_OK;
    rf_status st = rf__sb_putc(c, b, '\n');
    for (int i = 0; !st && i < level; i++) st = rf__sb_put(c, b, o->indent_str, o->indent_len);
    return st;
}

static rf_status json_d(tpl_ctx *c, sbuf *b, tv v, const json_opts *o, int level);

static rf_status json_key(tpl_ctx *c, sbuf *b, tv k, const json_opts *o) {
    char tmp[64];
    switch (k.t) {
    case TV_STR: return json_str(c, b, k.u.s->s, k.u.s->len, o->ensure_ascii);
    case TV_INT: snprintf(tmp, sizeof tmp, "%lld", (long long)k.u.i); break;
    case TV_BOOL: snprintf(tmp, sizeof tmp, "%s", k.u.b ? "true" : "false"); break;
    case TV_NONE: snprintf(tmp, sizeof tmp, "null"); break;
    case TV_FLOAT:
        if (k.u.f != k.u.f) snprintf(tmp, sizeof tmp, "NaN");
        else if (isinf(k.u.f)) snprintf(tmp, sizeof tmp, "%s", k.u.f > 0 ? "Infinity" : "-Infinity");
        else rf__py_float_repr(k.u.f, tmp, sizeof tmp);
        break;
    default:
        return TPL_ERR(c, "keys must be str, int, float, bool or None, not %s", rf__tv_type_name(k));
    }
    return json_str(c, b, tmp, strlen(tmp), false);
}

static rf_status json_d(tpl_ctx *c, sbuf *b, tv v, const json_opts *o, int level) {
    rf_status st;
    if (level > VALUE_DEPTH_MAX) return TPL_ERR(c, "Circular reference detected or data nested too deeply");
    if ((st = tpl_steps(c, 1))) return st;
    switch (v.t) {
    case TV_NONE: return rf__sb_put(c, b, "null", 4);
    case TV_BOOL: return v.u.b ? rf__sb_put(c, b, "true", 4) : rf__sb_put(c, b, "false", 5);
    case TV_INT: return rf__sb_printf(c, b, "%lld", (long long)v.u.i);
    case TV_FLOAT: {
        if (v.u.f != v.u.f) return rf__sb_put(c, b, "NaN", 3);
        if (isinf(v.u.f)) return v.u.f > 0 ? rf__sb_put(c, b, "Infinity", 8) : rf__sb_put(c, b, "-Infinity", 9);
        char tmp[64];
        size_t n = rf__py_float_repr(v.u.f, tmp, sizeof tmp);
        return rf__sb_put(c, b, tmp, n);
    }
    case TV_STR: return json_str(c, b, v.u.s->s, v.u.s->len, o->ensure_ascii);
    case TV_LIST: {
        if (v.kind != LK_LIST && v.kind != LK_TUPLE)
            return TPL_ERR(c, "Object of type %s is not JSON serializable", rf__tv_type_name(v));
        const tlist *l = v.u.l;
        if (!l->n) return rf__sb_put(c, b, "[]", 2);
        if ((st = rf__sb_putc(c, b, '['))) return st;
        for (size_t i = 0; i < l->n; i++) {
            if (i && (st = rf__sb_put(c, b, o->item_sep, o->item_sep_len))) return st;
            if ((st = json_newline(c, b, o, level + 1))) return st;
            if ((st = json_d(c, b, l->v[i], o, level + 1))) return st;
        }
        if ((st = json_newline(c, b, o, level))) return st;
        return rf__sb_putc(c, b, ']');
    }
    case TV_DICT: {
        const tdict *d = v.u.d;
        if (!d->n) return rf__sb_put(c, b, "{}", 2);
        size_t *order = NULL;
        if (o->sort_keys && d->n > 1) {
            order = rf__tpl_alloc(&c->ar, d->n * sizeof *order);
            if (!order) return rf__tpl_nomem(c);
            /* insertion sort keeps it simple; dict sizes here are small and the budget is charged */
            for (size_t i = 0; i < d->n; i++) {
                size_t k = i;
                order[k] = i;
                while (k > 0) {
                    bool lt;
                    if ((st = rf__tv_cmp(c, CMP_LT, d->keys[order[k]], d->keys[order[k - 1]], &lt))) return st;
                    if ((st = tpl_steps(c, 1))) return st;
                    if (!lt) break;
                    size_t t = order[k]; order[k] = order[k - 1]; order[k - 1] = t;
                    k--;
                }
            }
        }
        if ((st = rf__sb_putc(c, b, '{'))) return st;
        for (size_t i = 0; i < d->n; i++) {
            size_t k = order ? order[i] : i;
            if (i && (st = rf__sb_put(c, b, o->item_sep, o->item_sep_len))) return st;
            if ((st = json_newline(c, b, o, level + 1))) return st;
            if ((st = json_key(c, b, d->keys[k], o))) return st;
            if ((st = rf__sb_put(c, b, o->key_sep, o->key_sep_len))) return st;
            if ((st = json_d(c, b, d->vals[k], o, level + 1))) return st;
        }
        if ((st = json_newline(c, b, o, level))) return st;
        return rf__sb_putc(c, b, '}');
    }
    default:
        return TPL_ERR(c, "Object of type %s is not JSON serializable", rf__tv_type_name(v));
    }
}

rf_status rf__tv_write_json(tpl_ctx *c, sbuf *b, tv v, const json_opts *o) { return json_d(c, b, v, o, 0); }
