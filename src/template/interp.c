/*
 * interp.c - evaluation of the syntax tree: scopes, expressions, statements,
 * macros and call blocks, for loops, the sandboxed attribute/item access,
 * and the entry points (parse, render, chat_apply).
 *
 * Scopes follow jinja2: the template body runs in a root frame whose parent
 * is the context (globals); each for-loop iteration, macro call, with block
 * and for-else body gets its own frame, so `set` inside them does not leak
 * out; if blocks share their frame. Macros close over the frame in which
 * they were defined and see its variables as they are when called.
 *
 * Limits: every evaluated node costs one step (bulk operations cost more);
 * strings and output are capped; the arena is capped; macro and recursive
 * loop calls and the evaluator's own C recursion are bounded.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "template/tpl.h"

#define MAX_NEST 400

static rf_status eval(tpl_ctx *c, frame *f, const node *n, tv *out);
static rf_status exec_body(tpl_ctx *c, frame *f, const node_list *body);

/* ---- errors and budget ---------------------------------------------------------------- */
rf_status rf__tpl_fail(tpl_ctx *c, rf_status st, const char *fmt, ...) {
    if (c->st) return c->st;
    char msg[420];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->st = st;
    if (st == RF_ERR_TEMPLATE)
        rf__err(c->err, st, "template error, line %d: %s", c->line, msg);
    else
        rf__err(c->err, st, "template line %d: %s", c->line, msg);
    return st;
}

rf_status rf__tpl_nomem(tpl_ctx *c) {
    if (c->ar.over_cap)
        return rf__tpl_fail(c, RF_ERR_BUDGET, "template memory limit of %zu bytes exceeded", c->ar.cap);
    return rf__tpl_fail(c, RF_ERR_NOMEM, "out of memory rendering template");
}

rf_status rf__tpl_step_slow(tpl_ctx *c) {
    if (c->st) return c->st;
    if (c->steps > c->max_steps)
        return rf__tpl_fail(c, RF_ERR_BUDGET, "template instruction budget of %llu steps exhausted",
                            (unsigned long long)c->max_steps);
    if (c->deadline > 0 && rf__now() > c->deadline)
        return rf__tpl_fail(c, RF_ERR_BUDGET, "template time limit exceeded");
    c->next_clock = RF_MIN(c->steps + 4096, c->max_steps + 1);
    return RF_OK;
}

rf_status rf__tpl_undef_error(tpl_ctx *c, tv u) {
    const tundef *d = u.u.u;
    if (!d) return TPL_ERR(c, "value is undefined");
    switch (d->why) {
    case UND_HINT: return TPL_ERR(c, "%s", d->name);
    case UND_ATTR: return TPL_ERR(c, "'%s' has no attribute '%s'", d->owner, d->name);
    case UND_ITEM: return TPL_ERR(c, "%s has no element %s", d->owner, d->name);
    case UND_UNSAFE: return TPL_ERR(c, "access to attribute '%s' of '%s' object is unsafe.", d->name, d->owner);
    default: return TPL_ERR(c, "'%s' is undefined", d->name ? d->name : "value");
    }
}

/* ---- frames ----------------------------------------------------------------------------- */
static frame *frame_new(tpl_ctx *c, frame *parent) {
    frame *f = rf__tpl_zalloc(&c->ar, sizeof *f);
    if (!f) { rf__tpl_nomem(c); return NULL; }
    f->parent = parent;
    return f;
}

static rf_status frame_set(tpl_ctx *c, frame *f, uint32_t sym, tv v) {
    for (uint32_t i = 0; i < f->n; i++)
        if (f->syms[i] == sym) { f->vals[i] = v; return RF_OK; }
    if (f->n == f->cap) {
        uint32_t nc = f->cap ? f->cap * 2 : 4;
        uint32_t *ns = rf__tpl_alloc(&c->ar, nc * sizeof *ns);
        tv *nv = rf__tpl_alloc(&c->ar, nc * sizeof *nv);
        if (!ns || !nv) return rf__tpl_nomem(c);
        if (f->n) {
            memcpy(ns, f->syms, f->n * sizeof *ns);
            memcpy(nv, f->vals, f->n * sizeof *nv);
        }
        f->syms = ns;
        f->vals = nv;
        f->cap = nc;
    }
    f->syms[f->n] = sym;
    f->vals[f->n] = v;
    f->n++;
    return RF_OK;
}

static bool lookup(tpl_ctx *c, const frame *f, uint32_t sym, tv *out) {
    for (; f; f = f->parent)
        for (uint32_t i = 0; i < f->n; i++)
            if (f->syms[i] == sym) { *out = f->vals[i]; return true; }
    if (c->globals[sym].t != TV_UNDEF) { *out = c->globals[sym]; return true; }
    return false;
}

/* ---- output ------------------------------------------------------------------------------- */
static rf_status emit(tpl_ctx *c, const char *s, size_t n) { return rf__sb_put(c, c->out, s, n); }

/* Run a body with output captured into a string. */
static rf_status capture(tpl_ctx *c, frame *f, const node_list *body, tv *out) {
    sbuf buf = {0}, *saved = c->out;
    c->out = &buf;
    rf_status st = exec_body(c, f, body);
    c->out = saved;
    if (st) { rf__sb_free(&buf); return st; }
    *out = rf__sb_take(c, &buf, &st);
    return st;
}

/* ---- attribute and item access (the sandbox) ------------------------------------------------ */
static const char *owner_name(tpl_ctx *c, tv obj) {
    const char *tn = rf__tv_type_name(obj);
    char *s = rf__tpl_alloc(&c->ar, strlen(tn) + 8);
    if (!s) return "object";
    snprintf(s, strlen(tn) + 8, "%s object", tn);
    return s;
}

static const char *arena_name(tpl_ctx *c, const char *name, size_t nlen) {
    char *s = rf__tpl_alloc(&c->ar, nlen + 1);
    if (!s) return "?";
    memcpy(s, name, nlen);
    s[nlen] = '\0';
    return s;
}

static tv undef_attr(tpl_ctx *c, tv obj, const char *name, size_t nlen) {
    return rf__tv_undef_named(c, UND_ATTR, arena_name(c, name, nlen), owner_name(c, obj));
}

static tv undef_unsafe(tpl_ctx *c, tv obj, const char *name, size_t nlen) {
    return rf__tv_undef_named(c, UND_UNSAFE, arena_name(c, name, nlen), rf__tv_type_name(obj));
}

static bool is_dunder(const char *name, size_t nlen) {
    return nlen >= 4 && name[0] == '_' && name[1] == '_' && name[nlen - 1] == '_' && name[nlen - 2] == '_';
}

static rf_status loop_attr(tpl_ctx *c, tloop *L, const char *name, size_t nlen, tv *out, bool *found);

/* Python getattr(obj, name) inside the sandbox: *found false when there is
 * no such attribute (the caller then tries obj[name]). */
rf_status rf__tpl_pygetattr(tpl_ctx *c, tv obj, const char *name, size_t nlen, tv *out, bool *found) {
    *found = false;
    if (is_dunder(name, nlen)) {
        *found = true;
        *out = undef_unsafe(c, obj, name, nlen);
        return RF_OK;
    }
    if (obj.t == TV_NS) {
        *found = rf__tdict_get_str(obj.u.d, name, nlen, out);
        return RF_OK;
    }
    if (obj.t == TV_LOOP) return loop_attr(c, obj.u.loop, name, nlen, out, found);
    if (tv_is_num(obj)) { /* int/float/bool data attributes */
        bool is_float = obj.t == TV_FLOAT;
        if (nlen == 4 && !memcmp(name, "real", 4)) { *found = true; *out = is_float ? obj : tv_int(tv_ival(obj)); }
        else if (nlen == 4 && !memcmp(name, "imag", 4)) { *found = true; *out = is_float ? tv_float(0.0) : tv_int(0); }
        else if (!is_float && nlen == 9 && !memcmp(name, "numerator", 9)) { *found = true; *out = tv_int(tv_ival(obj)); }
        else if (!is_float && nlen == 11 && !memcmp(name, "denominator", 11)) { *found = true; *out = tv_int(1); }
        return RF_OK;
    }
    if (obj.t == TV_LIST && obj.u.l->group && obj.u.l->n == 2) { /* groupby()'s (grouper, list) */
        if (nlen == 7 && !memcmp(name, "grouper", 7)) { *found = true; *out = obj.u.l->v[0]; return RF_OK; }
        if (nlen == 4 && !memcmp(name, "list", 4)) { *found = true; *out = obj.u.l->v[1]; return RF_OK; }
    }
    bool unsafe = false;
    rf_status st = RF_OK;
    if (rf__tpl_method_lookup(c, obj, name, nlen, out, &unsafe, &st)) {
        *found = true;
        return RF_OK;
    }
    if (st) return st;
    if (unsafe) {
        *found = true;
        *out = undef_unsafe(c, obj, name, nlen);
    }
    return RF_OK;
}

rf_status rf__tpl_getattr(tpl_ctx *c, tv obj, const char *name, size_t nlen, tv *out) {
    rf_status st;
    if (obj.t == TV_UNDEF) return rf__tpl_undef_error(c, obj);
    bool found;
    if ((st = rf__tpl_pygetattr(c, obj, name, nlen, out, &found)) || found) return st;
    if (obj.t == TV_DICT) {
        if (rf__tdict_get_str(obj.u.d, name, nlen, out)) return RF_OK;
    }
    *out = undef_attr(c, obj, name, nlen);
    return RF_OK;
}

static rf_status index_seq(tpl_ctx *c, tv obj, int64_t i, tv *out, bool *ok) {
    *ok = false;
    if (obj.t == TV_STR) {
        size_t len = obj.u.s->len;
        rf_status st0 = tpl_steps(c, len >> 6);
        if (st0) return st0;
        int64_t n = (int64_t)rf__utf8_count(obj.u.s->s, len);
        if (i < 0) i += n;
        if (i < 0 || i >= n) return RF_OK;
        size_t off = n == (int64_t)len ? (size_t)i : rf__utf8_offset(obj.u.s->s, len, (size_t)i);
        int32_t cp;
        size_t w = rf__utf8_dec(obj.u.s->s + off, len - off, &cp);
        rf_status st;
        *out = rf__tv_str(c, obj.u.s->s + off, w, &st);
        *ok = !st;
        return st;
    }
    int64_t n = (int64_t)obj.u.l->n;
    if (i < 0) i += n;
    if (i < 0 || i >= n) return RF_OK;
    *out = obj.u.l->v[i];
    *ok = true;
    return RF_OK;
}

rf_status rf__tpl_getitem(tpl_ctx *c, tv obj, tv key, tv *out) {
    rf_status st;
    if (obj.t == TV_UNDEF) return rf__tpl_undef_error(c, obj);
    bool subscriptable_seq = obj.t == TV_STR || (obj.t == TV_LIST && (obj.kind == LK_LIST || obj.kind == LK_TUPLE));
    if (subscriptable_seq && tv_is_intlike(key)) {
        bool ok;
        if ((st = index_seq(c, obj, tv_ival(key), out, &ok))) return st;
        if (ok) return RF_OK;
        char num[32];
        snprintf(num, sizeof num, "%lld", (long long)tv_ival(key));
        *out = rf__tv_undef_named(c, UND_ITEM, arena_name(c, num, strlen(num)), owner_name(c, obj));
        return RF_OK;
    }
    if (obj.t == TV_DICT && rf__tv_hashable(key)) {
        if (rf__tdict_get(c, obj.u.d, key, out, &st)) return RF_OK;
        if (st) return st;
    }
    if (key.t == TV_STR) {
        bool found;
        if ((st = rf__tpl_pygetattr(c, obj, key.u.s->s, key.u.s->len, out, &found)) || found) return st;
        *out = undef_attr(c, obj, key.u.s->s, key.u.s->len);
        return RF_OK;
    }
    sbuf b = {0};
    if ((st = rf__tv_write_repr(c, &b, key))) { rf__sb_free(&b); return st; }
    *out = rf__tv_undef_named(c, UND_ITEM, arena_name(c, b.p ? b.p : "", b.len), owner_name(c, obj));
    rf__sb_free(&b);
    return RF_OK;
}

/* Python slice semantics (PySlice_AdjustIndices) over str (code points), list, tuple. */
static rf_status do_slice(tpl_ctx *c, tv obj, tv a, tv b, tv s, tv *out) {
    rf_status st;
    if (obj.t == TV_UNDEF) return rf__tpl_undef_error(c, obj);
    bool seq = obj.t == TV_STR || (obj.t == TV_LIST && (obj.kind == LK_LIST || obj.kind == LK_TUPLE));
    bool bad_idx = (a.t != TV_NONE && !tv_is_intlike(a)) || (b.t != TV_NONE && !tv_is_intlike(b)) ||
                   (s.t != TV_NONE && !tv_is_intlike(s));
    if (!seq || bad_idx) {
        if (bad_idx && (a.t == TV_UNDEF || b.t == TV_UNDEF || s.t == TV_UNDEF)) {
            /* slice(Undefined) is only a TypeError inside getitem: undefined result */
        }
        *out = rf__tv_undef_named(c, UND_ITEM, "slice", owner_name(c, obj));
        return RF_OK;
    }
    int64_t step = s.t == TV_NONE ? 1 : tv_ival(s);
    if (step == 0) return TPL_ERR(c, "slice step cannot be zero");
    if (step == INT64_MIN) step = -INT64_MAX;
    bool ascii = true;
    int64_t len;
    if (obj.t == TV_STR) {
        if ((st = tpl_steps(c, obj.u.s->len >> 6))) return st;
        size_t cnt = rf__utf8_count(obj.u.s->s, obj.u.s->len);
        ascii = cnt == obj.u.s->len;
        len = (int64_t)cnt;
    } else {
        len = (int64_t)obj.u.l->n;
    }
    int64_t lower = step > 0 ? 0 : -1, upper = step > 0 ? len : len - 1, start, stop;
    if (a.t == TV_NONE) start = step < 0 ? upper : lower;
    else {
        start = tv_ival(a);
        if (start < 0) { start += len; if (start < lower) start = lower; }
        else if (start > upper) start = upper;
    }
    if (b.t == TV_NONE) stop = step < 0 ? lower : upper;
    else {
        stop = tv_ival(b);
        if (stop < 0) { stop += len; if (stop < lower) stop = lower; }
        else if (stop > upper) stop = upper;
    }
    uint64_t count = 0;
    if (step > 0 && start < stop) count = (uint64_t)((stop - start - 1) / step) + 1;
    else if (step < 0 && stop < start) count = (uint64_t)((start - stop - 1) / (-step)) + 1;
    if ((st = tpl_steps(c, count / 8))) return st;
    if (obj.t == TV_LIST) {
        tlist *l = rf__tlist_new(c, (size_t)count);
        if (!l) return c->st;
        int64_t k = start;
        for (uint64_t i = 0; i < count; i++, k += step) l->v[i] = obj.u.l->v[k];
        *out = tv_listv(l, obj.kind);
        return RF_OK;
    }
    const char *src = obj.u.s->s;
    size_t slen = obj.u.s->len;
    if (step == 1) {
        size_t o1 = ascii ? (size_t)start : rf__utf8_offset(src, slen, (size_t)start);
        size_t o2 = ascii ? (size_t)stop : rf__utf8_offset(src, slen, (size_t)stop);
        if (o2 < o1) o2 = o1;
        *out = rf__tv_str(c, src + o1, o2 - o1, &st);
        return st;
    }
    size_t *offs = NULL;
    if (!ascii) {
        offs = rf__tpl_alloc(&c->ar, ((size_t)len + 1) * sizeof *offs);
        if (!offs) return rf__tpl_nomem(c);
        size_t i = 0, k = 0;
        while (i < slen) {
            offs[k++] = i;
            int32_t cp;
            i += rf__utf8_dec(src + i, slen - i, &cp);
        }
        offs[k] = slen;
    }
    size_t total = 0;
    int64_t k = start;
    for (uint64_t i = 0; i < count; i++, k += step)
        total += ascii ? 1 : offs[k + 1] - offs[k];
    tstr *r = rf__tstr_alloc(c, total);
    if (!r) return c->st;
    size_t o = 0;
    k = start;
    for (uint64_t i = 0; i < count; i++, k += step) {
        size_t from = ascii ? (size_t)k : offs[k], w = ascii ? 1 : offs[k + 1] - offs[k];
        memcpy(r->s + o, src + from, w);
        o += w;
    }
    *out = tv_strv(r);
    return RF_OK;
}

/* ---- loop object ------------------------------------------------------------------------------- */
static rf_status loop_attr(tpl_ctx *c, tloop *L, const char *name, size_t nlen, tv *out, bool *found) {
    *found = true;
#define IS(s) (nlen == sizeof(s) - 1 && memcmp(name, s, nlen) == 0)
    int64_t i0 = (int64_t)L->index0, n = (int64_t)L->n;
    if (IS("index")) *out = tv_int(i0 + 1);
    else if (IS("index0")) *out = tv_int(i0);
    else if (IS("revindex")) *out = tv_int(n - i0);
    else if (IS("revindex0")) *out = tv_int(n - i0 - 1);
    else if (IS("first")) *out = tv_bool(i0 == 0);
    else if (IS("last")) *out = tv_bool(i0 + 1 >= n);
    else if (IS("length")) *out = tv_int(n);
    else if (IS("depth")) *out = tv_int(L->depth0 + 1);
    else if (IS("depth0")) *out = tv_int(L->depth0);
    else if (IS("previtem")) {
        *out = i0 > 0 ? L->items[i0 - 1] : rf__tv_undef_named(c, UND_HINT, "there is no previous item", NULL);
    } else if (IS("nextitem")) {
        *out = i0 + 1 < n ? L->items[i0 + 1] : rf__tv_undef_named(c, UND_HINT, "there is no next item", NULL);
    } else {
        bool unsafe;
        rf_status st = RF_OK;
        tv self = {0};
        self.t = TV_LOOP;
        self.u.loop = L;
        if (rf__tpl_method_lookup(c, self, name, nlen, out, &unsafe, &st)) return RF_OK;
        *found = false;
        return st;
    }
#undef IS
    return RF_OK;
}

/* ---- assignment ------------------------------------------------------------------------------------ */
static rf_status assign(tpl_ctx *c, frame *f, const node *target, tv v) {
    rf_status st;
    if (target->kind == N_NAME) return frame_set(c, f, target->sym, v);
    if (target->kind == N_NSREF) {
        tv ns;
        if (!lookup(c, f, target->sym, &ns) || ns.t != TV_NS)
            return TPL_ERR(c, "can not assign attribute on non-namespace object");
        tv key = tv_strv(target->name);
        return rf__tdict_set(c, ns.u.d, key, v);
    }
    if (target->kind == N_TUPLE) {
        tv *items;
        size_t n;
        if ((st = rf__tv_iter(c, v, &items, &n))) {
            if (v.t != TV_UNDEF) return st;
        }
        if (v.t == TV_UNDEF) n = 0;
        if (n > target->items.n) return TPL_ERR(c, "too many values to unpack (expected %u)", target->items.n);
        if (n < target->items.n)
            return TPL_ERR(c, "not enough values to unpack (expected %u, got %zu)", target->items.n, n);
        for (uint32_t i = 0; i < target->items.n; i++)
            if ((st = assign(c, f, target->items.v[i], items[i]))) return st;
        return RF_OK;
    }
    return TPL_ERR(c, "cannot assign to this expression");
}

/* ---- macros ---------------------------------------------------------------------------------------------- */
static rf_status call_macro(tpl_ctx *c, tmacro *m, const tv *args, size_t nargs, tdict *kwargs, tv *out) {
    rf_status st;
    const node *def = m->def;
    const macro_sig *sig = def->sig;
    const char *mname = def->kind == S_CALLBLOCK ? "caller" : def->name->s;
    if (c->depth >= c->max_depth)
        return rf__tpl_fail(c, RF_ERR_BUDGET, "macro recursion deeper than %u calls", c->max_depth);
    frame *mf = frame_new(c, m->closure);
    if (!mf) return c->st;
    /* keyword arguments still to be consumed */
    tdict *kw = rf__tdict_new(c, kwargs ? kwargs->n : 0);
    if (!kw) return c->st;
    for (size_t i = 0; kwargs && i < kwargs->n; i++)
        if ((st = rf__tdict_set(c, kw, kwargs->keys[i], kwargs->vals[i]))) return st;

    size_t npos = RF_MIN(nargs, (size_t)sig->n);
    bool found_caller = false, explicit_caller = false;
    bool *have = rf__tpl_zalloc(&c->ar, sig->n + 1);
    tv *vals = rf__tpl_zalloc(&c->ar, (sig->n + 1) * sizeof *vals);
    if (!have || !vals) return rf__tpl_nomem(c);
    for (uint32_t k = 0; k < sig->n; k++)
        if (sig->names[k]->len == 6 && memcmp(sig->names[k]->s, "caller", 6) == 0) explicit_caller = true;
    for (size_t k = 0; k < npos; k++) { vals[k] = args[k]; have[k] = true; }
    if (npos != sig->n) {
        for (uint32_t k = (uint32_t)npos; k < sig->n; k++) {
            tstr *nm = sig->names[k];
            size_t pos;
            for (pos = 0; pos < kw->n; pos++) {
                tv key = kw->keys[pos];
                if (key.t == TV_STR && key.u.s->len == nm->len && memcmp(key.u.s->s, nm->s, nm->len) == 0) break;
            }
            if (pos < kw->n) {
                vals[k] = kw->vals[pos];
                have[k] = true;
                /* remove (order of the rest is kept) */
                memmove(kw->keys + pos, kw->keys + pos + 1, (kw->n - pos - 1) * sizeof(tv));
                memmove(kw->vals + pos, kw->vals + pos + 1, (kw->n - pos - 1) * sizeof(tv));
                kw->n--;
                kw->index = NULL;
            }
            if (nm->len == 6 && memcmp(nm->s, "caller", 6) == 0) found_caller = true;
        }
    } else {
        found_caller = explicit_caller;
    }
    c->depth++;
    for (uint32_t k = 0; k < sig->n; k++) {
        tv v = vals[k];
        if (!have[k]) {
            if (sig->defaults[k]) {
                if ((st = eval(c, mf, sig->defaults[k], &v))) goto out;
            } else {
                char *hint = rf__tpl_alloc(&c->ar, sig->names[k]->len + 40);
                if (hint) snprintf(hint, sig->names[k]->len + 40, "parameter '%s' was not provided", sig->names[k]->s);
                v = rf__tv_undef_named(c, UND_HINT, hint ? hint : "parameter was not provided", NULL);
            }
        }
        if ((st = frame_set(c, mf, sig->syms[k], v))) goto out;
    }
    if (sig->uses_caller && !found_caller) {
        tv cv = tv_none();
        bool got = false;
        for (size_t pos = 0; pos < kw->n; pos++) {
            tv key = kw->keys[pos];
            if (key.t == TV_STR && key.u.s->len == 6 && memcmp(key.u.s->s, "caller", 6) == 0) {
                cv = kw->vals[pos];
                got = cv.t != TV_NONE;
                memmove(kw->keys + pos, kw->keys + pos + 1, (kw->n - pos - 1) * sizeof(tv));
                memmove(kw->vals + pos, kw->vals + pos + 1, (kw->n - pos - 1) * sizeof(tv));
                kw->n--;
                kw->index = NULL;
                break;
            }
        }
        if (!got) cv = rf__tv_undef_named(c, UND_HINT, "No caller defined", NULL);
        if (c->sym_caller != UINT32_MAX && (st = frame_set(c, mf, c->sym_caller, cv))) goto out;
    }
    if (sig->uses_kwargs) {
        if (kw->n) { kw->index = NULL; }
        tdict *kd = rf__tdict_new(c, kw->n);
        if (!kd) { st = c->st; goto out; }
        for (size_t i = 0; i < kw->n; i++)
            if ((st = rf__tdict_set(c, kd, kw->keys[i], kw->vals[i]))) goto out;
        if (c->sym_kwargs != UINT32_MAX && (st = frame_set(c, mf, c->sym_kwargs, tv_dictv(kd)))) goto out;
    } else if (kw->n) {
        tv k0 = kw->keys[0];
        if (k0.t == TV_STR && k0.u.s->len == 6 && memcmp(k0.u.s->s, "caller", 6) == 0)
            st = TPL_ERR(c, "macro '%s' was invoked with two values for the special caller argument. This is most likely a bug.", mname);
        else
            st = TPL_ERR(c, "macro '%s' takes no keyword argument '%s'", mname, k0.t == TV_STR ? k0.u.s->s : "?");
        goto out;
    }
    if (sig->uses_varargs) {
        size_t extra = nargs > sig->n ? nargs - sig->n : 0;
        tlist *l = rf__tlist_new(c, extra);
        if (!l) { st = c->st; goto out; }
        for (size_t i = 0; i < extra; i++) l->v[i] = args[sig->n + i];
        if (c->sym_varargs != UINT32_MAX && (st = frame_set(c, mf, c->sym_varargs, tv_listv(l, LK_TUPLE)))) goto out;
    } else if (nargs > sig->n) {
        st = TPL_ERR(c, "macro '%s' takes not more than %u argument(s)", mname, sig->n);
        goto out;
    }
    /* a caller passed in by a call block reaches its own `caller` through m->caller */
    st = capture(c, mf, &def->items, out);
out:
    c->depth--;
    return st;
}

/* ---- for loops --------------------------------------------------------------------------------------------- */
static rf_status run_loop(tpl_ctx *c, frame *f, const node *n, tv iterable, int depth0) {
    rf_status st;
    tv *items;
    size_t count;
    if ((st = rf__tv_iter(c, iterable, &items, &count))) return st;
    if (iterable.t == TV_DICT) { /* copy: keys of a dict being iterated stay put */
        tv *cp = rf__tpl_alloc(&c->ar, (count + 1) * sizeof *cp);
        if (!cp) return rf__tpl_nomem(c);
        if (count) memcpy(cp, items, count * sizeof *cp);
        items = cp;
    }
    if (n->c) { /* for x in y if cond */
        tv *kept = rf__tpl_alloc(&c->ar, (count + 1) * sizeof *kept);
        frame *tf = frame_new(c, f);
        if (!kept || !tf) return c->st ? c->st : rf__tpl_nomem(c);
        size_t k = 0;
        for (size_t i = 0; i < count; i++) {
            tv cond;
            tf->n = 0;
            if ((st = tpl_steps(c, 1)) || (st = assign(c, tf, n->a, items[i])) || (st = eval(c, tf, n->c, &cond)))
                return st;
            if (rf__tv_truthy(cond)) kept[k++] = items[i];
            if (tf->captured && !(tf = frame_new(c, f))) return c->st;
        }
        items = kept;
        count = k;
    }
    if (!count) {
        if (!n->items2.n) return RF_OK;
        frame *ef = frame_new(c, f);
        if (!ef) return c->st;
        return exec_body(c, ef, &n->items2);
    }
    tloop *L = rf__tpl_zalloc(&c->ar, sizeof *L);
    frame *it = frame_new(c, f);
    if (!L || !it) return c->st ? c->st : rf__tpl_nomem(c);
    L->items = items;
    L->n = count;
    L->depth0 = depth0;
    L->for_node = n;
    L->closure = f;
    f->captured = true;
    tv lv = {0};
    lv.t = TV_LOOP;
    lv.u.loop = L;
    for (size_t i = 0; i < count; i++) {
        if ((st = tpl_steps(c, 1))) return st;
        if (it->captured) {
            if (!(it = frame_new(c, f))) return c->st;
        } else {
            it->n = 0;
        }
        L->index0 = i;
        if ((st = assign(c, it, n->a, items[i]))) return st;
        if (c->sym_loop != UINT32_MAX && (st = frame_set(c, it, c->sym_loop, lv))) return st;
        if ((st = exec_body(c, it, &n->items))) return st;
        if (c->ctrl == CTRL_BREAK) { c->ctrl = CTRL_NONE; break; }
        c->ctrl = CTRL_NONE;
    }
    return RF_OK;
}

static rf_status call_loop(tpl_ctx *c, tloop *L, const tv *args, size_t nargs, tdict *kwargs, tv *out) {
    if (!L->for_node->flag)
        return TPL_ERR(c, "The loop must have the 'recursive' marker to be called recursively.");
    if (nargs != 1 || (kwargs && kwargs->n)) return TPL_ERR(c, "loop() takes exactly one argument");
    if (c->depth >= c->max_depth)
        return rf__tpl_fail(c, RF_ERR_BUDGET, "recursive loop deeper than %u calls", c->max_depth);
    sbuf buf = {0}, *saved = c->out;
    c->out = &buf;
    c->depth++;
    rf_status st = run_loop(c, L->closure, L->for_node, args[0], L->depth0 + 1);
    c->depth--;
    c->out = saved;
    if (st) { rf__sb_free(&buf); return st; }
    *out = rf__sb_take(c, &buf, &st);
    return st;
}

/* ---- calls ------------------------------------------------------------------------------------------------------ */
rf_status rf__tpl_call(tpl_ctx *c, tv callee, const tv *args, size_t nargs, tdict *kwargs, tv *out) {
    switch (callee.t) {
    case TV_FUNC: return rf__tpl_call_func(c, callee.kind, args, nargs, kwargs, out);
    case TV_METHOD: return rf__tpl_call_method(c, callee.u.m, args, nargs, kwargs, out);
    case TV_MACRO: return call_macro(c, callee.u.mac, args, nargs, kwargs, out);
    case TV_LOOP: return call_loop(c, callee.u.loop, args, nargs, kwargs, out);
    case TV_UNDEF: return rf__tpl_undef_error(c, callee);
    default: return TPL_ERR(c, "'%s' object is not callable", rf__tv_type_name(callee));
    }
}

static rf_status eval_args(tpl_ctx *c, frame *f, const call_args *ca, tv **args, size_t *nargs, tdict **kwargs,
                           const tv *extra_caller) {
    rf_status st;
    size_t n = ca->pos.n;
    tv dyn = tv_none();
    tv *dyn_items = NULL;
    size_t ndyn = 0;
    if (ca->dyn_args) {
        if ((st = eval(c, f, ca->dyn_args, &dyn))) return st;
        if ((st = rf__tv_iter(c, dyn, &dyn_items, &ndyn))) return st;
    }
    tv *a = rf__tpl_alloc(&c->ar, (n + ndyn + 1) * sizeof *a);
    if (!a) return rf__tpl_nomem(c);
    for (size_t i = 0; i < n; i++)
        if ((st = eval(c, f, ca->pos.v[i], &a[i]))) return st;
    for (size_t i = 0; i < ndyn; i++) a[n + i] = dyn_items[i];
    *args = a;
    *nargs = n + ndyn;
    *kwargs = NULL;
    if (ca->nkw || ca->dyn_kwargs || extra_caller) {
        tdict *kw = rf__tdict_new(c, ca->nkw + 1);
        if (!kw) return c->st;
        for (uint32_t i = 0; i < ca->nkw; i++) {
            tv v;
            if ((st = eval(c, f, ca->kwvals[i], &v))) return st;
            if ((st = rf__tdict_set(c, kw, tv_strv(ca->kwnames[i]), v))) return st;
        }
        if (ca->dyn_kwargs) {
            tv d;
            if ((st = eval(c, f, ca->dyn_kwargs, &d))) return st;
            if (d.t != TV_DICT) return TPL_ERR(c, "argument after ** must be a mapping, not %s", rf__tv_type_name(d));
            for (size_t i = 0; i < d.u.d->n; i++) {
                if (d.u.d->keys[i].t != TV_STR) return TPL_ERR(c, "keywords must be strings");
                if ((st = rf__tdict_set(c, kw, d.u.d->keys[i], d.u.d->vals[i]))) return st;
            }
        }
        if (extra_caller) {
            tstr *cn = rf__tstr_new(c, "caller", 6);
            if (!cn) return c->st;
            if ((st = rf__tdict_set(c, kw, tv_strv(cn), *extra_caller))) return st;
        }
        *kwargs = kw;
    }
    return RF_OK;
}

static rf_status eval_call(tpl_ctx *c, frame *f, const node *n, const tv *extra_caller, tv *out) {
    rf_status st;
    tv callee, *args;
    size_t nargs;
    tdict *kw;
    if ((st = eval(c, f, n->a, &callee))) return st;
    if ((st = eval_args(c, f, &n->args, &args, &nargs, &kw, extra_caller))) return st;
    c->line = n->line;
    return rf__tpl_call(c, callee, args, nargs, kw, out);
}

/* Apply a filter node (operand given). */
static rf_status apply_filter_node(tpl_ctx *c, frame *f, const node *n, tv v, tv *out) {
    rf_status st;
    tv *args;
    size_t nargs;
    tdict *kw;
    if ((st = eval_args(c, f, &n->args, &args, &nargs, &kw, NULL))) return st;
    c->line = n->line;
    if (n->flag) return TPL_ERR(c, "No filter named '%s'.", n->name->s);
    return rf__tpl_apply_filter(c, n->op, v, args, nargs, kw, out);
}

/* A chain of block filters ({% filter a|b %}, {% set x | a %}): the innermost operand is `input`. */
static rf_status filter_chain(tpl_ctx *c, frame *f, const node *n, tv input, tv *out) {
    rf_status st;
    tv v = input;
    if (n->a && (st = filter_chain(c, f, n->a, input, &v))) return st;
    return apply_filter_node(c, f, n, v, out);
}

/* ---- arithmetic --------------------------------------------------------------------------------------------------- */
static rf_status type_error2(tpl_ctx *c, const char *op, tv a, tv b) {
    if (a.t == TV_UNDEF) return rf__tpl_undef_error(c, a);
    if (b.t == TV_UNDEF) return rf__tpl_undef_error(c, b);
    if (a.t == TV_STR && !strcmp(op, "+"))
        return TPL_ERR(c, "can only concatenate str (not \"%s\") to str", rf__tv_type_name(b));
    return TPL_ERR(c, "unsupported operand type(s) for %s: '%s' and '%s'", op, rf__tv_type_name(a), rf__tv_type_name(b));
}

static rf_status repeat(tpl_ctx *c, tv seq, int64_t times, tv *out) {
    rf_status st;
    if (times < 0) times = 0;
    if (seq.t == TV_STR) {
        uint64_t total;
        if (!rf__mul_ok(seq.u.s->len, (uint64_t)times, &total) || total > c->max_str)
            return rf__tpl_fail(c, RF_ERR_BUDGET, "string repetition longer than the limit of %zu bytes", c->max_str);
        if ((st = tpl_steps(c, total / 64))) return st;
        tstr *r = rf__tstr_alloc(c, (size_t)total);
        if (!r) return c->st;
        for (int64_t i = 0; i < times; i++) memcpy(r->s + (size_t)i * seq.u.s->len, seq.u.s->s, seq.u.s->len);
        *out = tv_strv(r);
        out->kind = 0;
        return RF_OK;
    }
    uint64_t total;
    if (!rf__mul_ok(seq.u.l->n, (uint64_t)times, &total) || total > c->max_str / 8)
        return rf__tpl_fail(c, RF_ERR_BUDGET, "list repetition too large");
    if ((st = tpl_steps(c, total / 8))) return st;
    tlist *l = rf__tlist_new(c, (size_t)total);
    if (!l) return c->st;
    for (int64_t i = 0; i < times; i++) memcpy(l->v + (size_t)i * seq.u.l->n, seq.u.l->v, seq.u.l->n * sizeof(tv));
    *out = tv_listv(l, seq.kind);
    return RF_OK;
}

static rf_status html_escape(tpl_ctx *c, tv v, tv *out);

static rf_status concat2(tpl_ctx *c, tv a, tv b, tv *out) {
    rf_status st;
    uint64_t total;
    if (!rf__add_ok(a.u.s->len, b.u.s->len, &total) || total > c->max_str)
        return rf__tpl_fail(c, RF_ERR_BUDGET, "string longer than the limit of %zu bytes", c->max_str);
    if ((st = tpl_steps(c, total / 256))) return st;
    tstr *r = rf__tstr_alloc(c, (size_t)total);
    if (!r) return c->st;
    memcpy(r->s, a.u.s->s, a.u.s->len);
    memcpy(r->s + a.u.s->len, b.u.s->s, b.u.s->len);
    *out = tv_strv(r);
    return RF_OK;
}

rf_status rf__tpl_binop(tpl_ctx *c, int op, tv a, tv b, tv *out) {
    static const char *const names[] = {"+", "-", "*", "/", "//", "%", "**"};
    rf_status st;
    bool nums = tv_is_num(a) && tv_is_num(b);
    bool ints = tv_is_intlike(a) && tv_is_intlike(b);
    switch (op) {
    case BIN_ADD:
        if (ints) {
            int64_t r;
            if (__builtin_add_overflow(tv_ival(a), tv_ival(b), &r)) goto overflow;
            *out = tv_int(r);
            return RF_OK;
        }
        if (nums) { *out = tv_float(tv_fval(a) + tv_fval(b)); return RF_OK; }
        if (a.t == TV_STR && b.t == TV_STR) {
            bool markup = (a.kind | b.kind) & TVF_MARKUP;
            if (markup) {
                if (!(a.kind & TVF_MARKUP) && (st = html_escape(c, a, &a))) return st;
                if (!(b.kind & TVF_MARKUP) && (st = html_escape(c, b, &b))) return st;
            }
            if ((st = concat2(c, a, b, out))) return st;
            if (markup) out->kind = TVF_MARKUP;
            return RF_OK;
        }
        if (a.t == TV_LIST && b.t == TV_LIST && a.kind == b.kind && (a.kind == LK_LIST || a.kind == LK_TUPLE)) {
            size_t n = a.u.l->n + b.u.l->n;
            if ((st = tpl_steps(c, n / 8))) return st;
            tlist *l = rf__tlist_new(c, n);
            if (!l) return c->st;
            memcpy(l->v, a.u.l->v, a.u.l->n * sizeof(tv));
            memcpy(l->v + a.u.l->n, b.u.l->v, b.u.l->n * sizeof(tv));
            *out = tv_listv(l, a.kind);
            return RF_OK;
        }
        break;
    case BIN_SUB:
        if (ints) {
            int64_t r;
            if (__builtin_sub_overflow(tv_ival(a), tv_ival(b), &r)) goto overflow;
            *out = tv_int(r);
            return RF_OK;
        }
        if (nums) { *out = tv_float(tv_fval(a) - tv_fval(b)); return RF_OK; }
        break;
    case BIN_MUL:
        if (ints) {
            int64_t r;
            if (__builtin_mul_overflow(tv_ival(a), tv_ival(b), &r)) goto overflow;
            *out = tv_int(r);
            return RF_OK;
        }
        if (nums) { *out = tv_float(tv_fval(a) * tv_fval(b)); return RF_OK; }
        if ((a.t == TV_STR || (a.t == TV_LIST && (a.kind == LK_LIST || a.kind == LK_TUPLE))) && tv_is_intlike(b))
            return repeat(c, a, tv_ival(b), out);
        if ((b.t == TV_STR || (b.t == TV_LIST && (b.kind == LK_LIST || b.kind == LK_TUPLE))) && tv_is_intlike(a))
            return repeat(c, b, tv_ival(a), out);
        break;
    case BIN_DIV:
        if (nums) {
            double y = tv_fval(b);
            if (y == 0.0) return TPL_ERR(c, "division by zero");
            *out = tv_float(tv_fval(a) / y);
            return RF_OK;
        }
        break;
    case BIN_FLOORDIV: case BIN_MOD:
        if (op == BIN_MOD && a.t == TV_STR) return rf__py_percent_format(c, a.u.s, b, out);
        if (ints) {
            int64_t x = tv_ival(a), y = tv_ival(b);
            if (y == 0) return TPL_ERR(c, "integer division or modulo by zero");
            if (x == INT64_MIN && y == -1) {
                if (op == BIN_MOD) { *out = tv_int(0); return RF_OK; }
                goto overflow;
            }
            int64_t q = x / y, r = x % y;
            if (r != 0 && ((r < 0) != (y < 0))) { q--; r += y; }
            *out = tv_int(op == BIN_MOD ? r : q);
            return RF_OK;
        }
        if (nums) {
            double x = tv_fval(a), y = tv_fval(b);
            if (y == 0.0) return TPL_ERR(c, op == BIN_MOD ? "float modulo" : "float floor division by zero");
            double mod = fmod(x, y), div = (x - mod) / y;
            if (mod != 0.0) {
                if ((y < 0) != (mod < 0)) { mod += y; div -= 1.0; }
            } else {
                mod = copysign(0.0, y);
            }
            double fd;
            if (div != 0.0) {
                fd = floor(div);
                if (div - fd > 0.5) fd += 1.0;
            } else {
                fd = copysign(0.0, x / y);
            }
            *out = tv_float(op == BIN_MOD ? mod : fd);
            return RF_OK;
        }
        break;
    case BIN_POW:
        if (ints) {
            int64_t x = tv_ival(a), y = tv_ival(b);
            if (y < 0) {
                if (x == 0) return TPL_ERR(c, "0.0 cannot be raised to a negative power");
                *out = tv_float(pow((double)x, (double)y));
                return RF_OK;
            }
            int64_t r = 1, base = x;
            while (y) {
                if (y & 1 && __builtin_mul_overflow(r, base, &r)) goto overflow;
                y >>= 1;
                if (y && __builtin_mul_overflow(base, base, &base)) goto overflow;
            }
            *out = tv_int(r);
            return RF_OK;
        }
        if (nums) {
            double x = tv_fval(a), y = tv_fval(b);
            if (x == 0.0 && y < 0) return TPL_ERR(c, "0.0 cannot be raised to a negative power");
            if (x < 0 && y != floor(y)) return TPL_ERR(c, "complex results are not supported");
            double r = pow(x, y);
            if (isinf(r) && !isinf(x) && !isinf(y)) return TPL_ERR(c, "(34, 'Numerical result out of range')");
            *out = tv_float(r);
            return RF_OK;
        }
        break;
    }
    return type_error2(c, names[op], a, b);
overflow:
    return TPL_ERR(c, "integer overflow: results beyond 64 bits are not supported");
}

static rf_status html_escape(tpl_ctx *c, tv v, tv *out) {
    rf_status st;
    tv s;
    if ((st = rf__tv_to_str(c, v, &s))) return st;
    sbuf b = {0};
    const char *p = s.u.s->s;
    size_t n = s.u.s->len, run = 0;
    for (size_t i = 0; i < n && !st; i++) {
        const char *rep = NULL;
        switch (p[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&#34;"; break;
        case '\'': rep = "&#39;"; break;
        default: run++; continue;
        }
        if (run) st = rf__sb_put(c, &b, p + i - run, run);
        run = 0;
        if (!st) st = rf__sb_put(c, &b, rep, strlen(rep));
    }
    if (!st && run) st = rf__sb_put(c, &b, p + n - run, run);
    if (st) { rf__sb_free(&b); return st; }
    *out = rf__sb_take(c, &b, &st);
    out->kind = TVF_MARKUP;
    return st;
}

rf_status rf__tpl_html_escape(tpl_ctx *c, tv v, tv *out) {
    if (v.t == TV_STR && (v.kind & TVF_MARKUP)) { *out = v; return RF_OK; }
    return html_escape(c, v, out);
}

/* ---- expressions ------------------------------------------------------------------------------------------------------ */
static rf_status eval_inner(tpl_ctx *c, frame *f, const node *n, tv *out) {
    rf_status st;
    tv a, b;
    c->line = n->line;
    switch (n->kind) {
    case N_CONST:
        *out = n->cval;
        return RF_OK;
    case N_NAME:
        if (!lookup(c, f, n->sym, out)) *out = rf__tv_undef_named(c, UND_PLAIN, n->name->s, NULL);
        return RF_OK;
    case N_GETATTR:
        if ((st = eval(c, f, n->a, &a))) return st;
        c->line = n->line;
        return rf__tpl_getattr(c, a, n->name->s, n->name->len, out);
    case N_GETITEM:
        if ((st = eval(c, f, n->a, &a))) return st;
        if (n->b->kind == N_SLICE) {
            tv s[3] = {tv_none(), tv_none(), tv_none()};
            const node *parts[3] = {n->b->a, n->b->b, n->b->c};
            for (int i = 0; i < 3; i++)
                if (parts[i] && (st = eval(c, f, parts[i], &s[i]))) return st;
            c->line = n->line;
            return do_slice(c, a, s[0], s[1], s[2], out);
        }
        if ((st = eval(c, f, n->b, &b))) return st;
        c->line = n->line;
        return rf__tpl_getitem(c, a, b, out);
    case N_CALL:
        return eval_call(c, f, n, NULL, out);
    case N_FILTER:
        if (!n->a) return TPL_ERR(c, "filter without operand");
        if ((st = eval(c, f, n->a, &a))) return st;
        return apply_filter_node(c, f, n, a, out);
    case N_TEST: {
        tv *args;
        size_t nargs;
        tdict *kw;
        bool r;
        if ((st = eval(c, f, n->a, &a))) return st;
        if ((st = eval_args(c, f, &n->args, &args, &nargs, &kw, NULL))) return st;
        c->line = n->line;
        if (n->flag) return TPL_ERR(c, "No test named '%s'.", n->name->s);
        if ((st = rf__tpl_apply_test(c, n->op, a, args, nargs, kw, &r))) return st;
        *out = tv_bool(r);
        return RF_OK;
    }
    case N_NEG: case N_POS:
        if ((st = eval(c, f, n->a, &a))) return st;
        c->line = n->line;
        if (a.t == TV_UNDEF) return rf__tpl_undef_error(c, a);
        if (!tv_is_num(a))
            return TPL_ERR(c, "bad operand type for unary %c: '%s'", n->kind == N_NEG ? '-' : '+', rf__tv_type_name(a));
        if (n->kind == N_POS) { *out = a.t == TV_BOOL ? tv_int(a.u.b) : a; return RF_OK; }
        if (a.t == TV_FLOAT) { *out = tv_float(-a.u.f); return RF_OK; }
        if (tv_ival(a) == INT64_MIN) return TPL_ERR(c, "integer overflow");
        *out = tv_int(-tv_ival(a));
        return RF_OK;
    case N_NOT:
        if ((st = eval(c, f, n->a, &a))) return st;
        *out = tv_bool(!rf__tv_truthy(a));
        return RF_OK;
    case N_BIN:
        if ((st = eval(c, f, n->a, &a)) || (st = eval(c, f, n->b, &b))) return st;
        c->line = n->line;
        return rf__tpl_binop(c, n->op, a, b, out);
    case N_CONCAT: {
        sbuf buf = {0};
        for (uint32_t i = 0; i < n->items.n; i++) {
            if ((st = eval(c, f, n->items.v[i], &a)) || (st = rf__tv_write_str(c, &buf, a))) {
                rf__sb_free(&buf);
                return st;
            }
        }
        *out = rf__sb_take(c, &buf, &st);
        return st;
    }
    case N_COMPARE: {
        if ((st = eval(c, f, n->a, &a))) return st;
        for (uint32_t i = 0; i < n->items.n; i++) {
            if ((st = eval(c, f, n->items.v[i], &b))) return st;
            c->line = n->line;
            bool r;
            int op = n->ops[i];
            if (op == CMP_EQ || op == CMP_NE) {
                if ((st = rf__tv_eq(c, a, b, &r))) return st;
                if (op == CMP_NE) r = !r;
            } else if (op == CMP_IN || op == CMP_NOTIN) {
                if ((st = rf__tv_contains(c, b, a, &r))) return st;
                if (op == CMP_NOTIN) r = !r;
            } else if ((st = rf__tv_cmp(c, op, a, b, &r))) {
                return st;
            }
            if (!r) { *out = tv_bool(false); return RF_OK; }
            a = b;
        }
        *out = tv_bool(true);
        return RF_OK;
    }
    case N_AND:
        if ((st = eval(c, f, n->a, &a))) return st;
        if (!rf__tv_truthy(a)) { *out = a; return RF_OK; }
        return eval(c, f, n->b, out);
    case N_OR:
        if ((st = eval(c, f, n->a, &a))) return st;
        if (rf__tv_truthy(a)) { *out = a; return RF_OK; }
        return eval(c, f, n->b, out);
    case N_COND:
        if ((st = eval(c, f, n->a, &a))) return st;
        if (rf__tv_truthy(a)) return eval(c, f, n->b, out);
        if (n->c) return eval(c, f, n->c, out);
        {
            char *hint = rf__tpl_alloc(&c->ar, 120);
            if (hint)
                snprintf(hint, 120, "the inline if-expression on line %d evaluated to false and no else section was defined.", n->line);
            *out = rf__tv_undef_named(c, UND_HINT, hint ? hint : "undefined", NULL);
        }
        return RF_OK;
    case N_LIST: case N_TUPLE: {
        tlist *l = rf__tlist_new(c, n->items.n);
        if (!l) return c->st;
        for (uint32_t i = 0; i < n->items.n; i++)
            if ((st = eval(c, f, n->items.v[i], &l->v[i]))) return st;
        *out = tv_listv(l, n->kind == N_TUPLE ? LK_TUPLE : LK_LIST);
        return RF_OK;
    }
    case N_DICT: {
        tdict *d = rf__tdict_new(c, n->items.n);
        if (!d) return c->st;
        for (uint32_t i = 0; i < n->items.n; i++) {
            if ((st = eval(c, f, n->items.v[i], &a)) || (st = eval(c, f, n->items2.v[i], &b))) return st;
            c->line = n->line;
            if ((st = rf__tdict_set(c, d, a, b))) return st;
        }
        *out = tv_dictv(d);
        return RF_OK;
    }
    default:
        return TPL_ERR(c, "cannot evaluate this expression");
    }
}

static rf_status eval(tpl_ctx *c, frame *f, const node *n, tv *out) {
    rf_status st;
    if ((st = tpl_steps(c, 1))) return st;
    if (++c->nest > c->max_nest) {
        c->nest--;
        return rf__tpl_fail(c, RF_ERR_BUDGET, "template evaluation nested too deeply");
    }
    st = eval_inner(c, f, n, out);
    c->nest--;
    return st;
}

/* ---- statements ---------------------------------------------------------------------------------------------------------- */
static rf_status exec(tpl_ctx *c, frame *f, const node *n) {
    rf_status st;
    tv v;
    c->line = n->line;
    switch (n->kind) {
    case S_DATA:
        return emit(c, n->cval.u.s->s, n->cval.u.s->len);
    case S_PRINT:
        if ((st = eval(c, f, n->a, &v))) return st;
        if (v.t == TV_STR) return emit(c, v.u.s->s, v.u.s->len);
        return rf__tv_write_str(c, c->out, v);
    case S_IF:
        if ((st = eval(c, f, n->a, &v))) return st;
        return exec_body(c, f, rf__tv_truthy(v) ? &n->items : &n->items2);
    case S_FOR:
        if ((st = eval(c, f, n->b, &v))) return st;
        return run_loop(c, f, n, v, 0);
    case S_SET:
        if ((st = eval(c, f, n->b, &v))) return st;
        c->line = n->line;
        return assign(c, f, n->a, v);
    case S_SETBLOCK:
        if ((st = capture(c, f, &n->items, &v))) return st;
        if (n->b && (st = filter_chain(c, f, n->b, v, &v))) return st;
        return assign(c, f, n->a, v);
    case S_MACRO: {
        tmacro *m = rf__tpl_zalloc(&c->ar, sizeof *m);
        if (!m) return rf__tpl_nomem(c);
        m->def = n;
        m->closure = f;
        f->captured = true;
        tv mv = {0};
        mv.t = TV_MACRO;
        mv.u.mac = m;
        return frame_set(c, f, n->sym, mv);
    }
    case S_CALLBLOCK: {
        tmacro *m = rf__tpl_zalloc(&c->ar, sizeof *m);
        if (!m) return rf__tpl_nomem(c);
        m->def = n;
        m->closure = f;
        f->captured = true;
        tv cv = {0};
        cv.t = TV_MACRO;
        cv.u.mac = m;
        if ((st = eval_call(c, f, n->a, &cv, &v))) return st;
        return rf__tv_write_str(c, c->out, v);
    }
    case S_FILTERBLOCK:
        if ((st = capture(c, f, &n->items, &v))) return st;
        if ((st = filter_chain(c, f, n->b, v, &v))) return st;
        return rf__tv_write_str(c, c->out, v);
    case S_WITH: {
        const node *vals = n->c;
        tv *tmp = rf__tpl_alloc(&c->ar, (vals->items.n + 1) * sizeof *tmp);
        frame *wf = frame_new(c, f);
        if (!tmp || !wf) return c->st ? c->st : rf__tpl_nomem(c);
        for (uint32_t i = 0; i < vals->items.n; i++)
            if ((st = eval(c, f, vals->items.v[i], &tmp[i]))) return st;
        for (uint32_t i = 0; i < n->items2.n; i++)
            if ((st = assign(c, wf, n->items2.v[i], tmp[i]))) return st;
        return exec_body(c, wf, &n->items);
    }
    case S_BREAK: c->ctrl = CTRL_BREAK; return RF_OK;
    case S_CONTINUE: c->ctrl = CTRL_CONTINUE; return RF_OK;
    case S_BODY:
        if (n->flag) {
            frame *bf = frame_new(c, f);
            if (!bf) return c->st;
            return exec_body(c, bf, &n->items);
        }
        return exec_body(c, f, &n->items);
    default: return TPL_ERR(c, "unknown statement");
    }
}

static rf_status exec_body(tpl_ctx *c, frame *f, const node_list *body) {
    rf_status st;
    if (++c->nest > c->max_nest) {
        c->nest--;
        return rf__tpl_fail(c, RF_ERR_BUDGET, "template evaluation nested too deeply");
    }
    for (uint32_t i = 0; i < body->n; i++) {
        if ((st = tpl_steps(c, 1)) || (st = exec(c, f, body->v[i]))) { c->nest--; return st; }
        if (c->ctrl) break;
    }
    c->nest--;
    return RF_OK;
}

/* ---- entry points ---------------------------------------------------------------------------------------------------------- */
void rf__template_opts_default(rf_template_opts *o) {
    memset(o, 0, sizeof *o);
    o->max_steps = RF_TEMPLATE_DEFAULT_STEPS;
    o->max_output = RF_TEMPLATE_DEFAULT_OUTPUT;
    o->max_memory = RF_TEMPLATE_DEFAULT_MEMORY;
    o->max_depth = RF_TEMPLATE_DEFAULT_DEPTH;
    o->max_seconds = RF_TEMPLATE_DEFAULT_SECONDS;
}

rf_status rf__template_parse(const char *src, size_t len, rf_template **out, rf_err *err) {
    rf_status st;
    tpl_token *toks = NULL;
    size_t ntoks = 0;
    *out = NULL;
    if (!src && len) return rf__err(err, RF_ERR_INVALID_ARG, "template source is NULL");
    rf_template *t = rf__calloc(1, sizeof *t);
    if (!t) return rf__err(err, RF_ERR_NOMEM, "out of memory parsing template");
    if ((st = rf__tpl_lex(&t->ar, src ? src : "", len, &toks, &ntoks, err))) goto fail;
    if ((st = rf__tpl_parse_tokens(t, toks, ntoks, err))) goto fail;
    rf__free(toks);
    *out = t;
    return RF_OK;
fail:
    rf__free(toks);
    rf__template_free(t);
    return st;
}

void rf__template_free(rf_template *t) {
    if (!t) return;
    rf__tpl_arena_free(&t->ar);
    rf__free(t);
}

static uint32_t find_sym(const rf_template *t, const char *name) {
    size_t n = strlen(name);
    for (uint32_t i = 0; i < t->nsyms; i++)
        if (t->syms[i]->len == n && memcmp(t->syms[i]->s, name, n) == 0) return i;
    return UINT32_MAX;
}

rf_status rf__template_render(const rf_template *t, const json_t *context, const rf_template_opts *opts,
                              char **out, size_t *out_len, rf_err *err) {
    rf_status st = RF_OK;
    rf_template_opts o;
    tpl_ctx c;
    sbuf result = {0};
    *out = NULL;
    if (out_len) *out_len = 0;
    if (!t) return rf__err(err, RF_ERR_INVALID_ARG, "template is NULL");
    if (context && !json_is_object(context)) return rf__err(err, RF_ERR_INVALID_ARG, "template context must be a JSON object");
    rf__template_opts_default(&o);
    if (opts) {
        /* caps keep the size arithmetic far from overflow */
        const size_t big = (size_t)1 << 40;
        if (opts->max_steps) o.max_steps = opts->max_steps;
        if (opts->max_output) o.max_output = RF_MIN(opts->max_output, big);
        if (opts->max_memory) o.max_memory = RF_MIN(opts->max_memory, big);
        if (opts->max_depth) o.max_depth = opts->max_depth;
        if (opts->max_seconds) o.max_seconds = opts->max_seconds;
        o.fixed_time = opts->fixed_time;
        o.now = opts->now;
    }
    memset(&c, 0, sizeof c);
    c.tpl = t;
    c.err = err;
    c.line = 1;
    c.ar.cap = o.max_memory;
    c.max_steps = o.max_steps;
    c.next_clock = RF_MIN((uint64_t)4096, o.max_steps + 1);
    c.max_str = o.max_output;
    c.max_depth = o.max_depth;
    c.max_nest = MAX_NEST;
    c.deadline = o.max_seconds > 0 ? rf__now() + o.max_seconds : 0;
    c.fixed_time = o.fixed_time;
    c.now = o.now;
    c.out = &result;

    c.globals = rf__tpl_zalloc(&c.ar, (t->nsyms + 1) * sizeof *c.globals);
    c.root = frame_new(&c, NULL);
    if (!c.globals || !c.root) { st = c.st ? c.st : rf__tpl_nomem(&c); goto out; }
    c.sym_loop = find_sym(t, "loop");
    c.sym_caller = find_sym(t, "caller");
    c.sym_varargs = find_sym(t, "varargs");
    c.sym_kwargs = find_sym(t, "kwargs");
    for (uint32_t i = 0; i < t->nsyms; i++) {
        const tstr *name = t->syms[i];
        json_t *j = context ? json_object_getn(context, name->s, name->len) : NULL;
        if (j) {
            if ((st = rf__tv_from_json(&c, j, &c.globals[i], 0))) goto out;
            continue;
        }
        for (int fn = 0; fn < FN_COUNT; fn++) {
            const char *fname = rf__tpl_func_name(fn);
            if (fname && strlen(fname) == name->len && memcmp(fname, name->s, name->len) == 0) {
                c.globals[i].t = TV_FUNC;
                c.globals[i].kind = (uint8_t)fn;
            }
        }
    }
    st = exec_body(&c, c.root, &t->body);
    if (!st && c.st) st = c.st; /* an error recorded on the way always wins */
out:
    rf__tpl_arena_free(&c.ar);
    if (st) {
        rf__sb_free(&result);
        return st;
    }
    if (!result.p) {
        result.p = rf__malloc(1);
        if (!result.p) return rf__err(err, RF_ERR_NOMEM, "out of memory rendering template");
        result.p[0] = '\0';
    }
    *out = result.p;
    if (out_len) *out_len = result.len;
    return RF_OK;
}

rf_status rf__chat_apply_ex(const char *template_src, size_t template_len, const json_t *messages,
                            const json_t *tools, const json_t *extra, bool add_generation_prompt, const char *bos,
                            const char *eos, const rf_template_opts *opts, char **out, size_t *out_len, rf_err *err) {
    rf_status st;
    rf_template *t = NULL;
    *out = NULL;
    if (out_len) *out_len = 0;
    if (!template_src) return rf__err(err, RF_ERR_INVALID_ARG, "chat template is NULL");
    json_t *ctx = json_object();
    if (!ctx) return rf__err(err, RF_ERR_NOMEM, "out of memory");
    int bad = 0;
    bad |= json_object_set_new(ctx, "messages", messages ? json_deep_copy(messages) : json_array());
    bad |= json_object_set_new(ctx, "tools", tools ? json_deep_copy(tools) : json_null());
    bad |= json_object_set_new(ctx, "documents", json_null());
    bad |= json_object_set_new(ctx, "add_generation_prompt", json_boolean(add_generation_prompt));
    bad |= json_object_set_new(ctx, "bos_token", json_string(bos ? bos : ""));
    bad |= json_object_set_new(ctx, "eos_token", json_string(eos ? eos : ""));
    if (extra && json_is_object(extra)) bad |= json_object_update(ctx, (json_t *)extra);
    if (bad) { st = rf__err(err, RF_ERR_INVALID_ARG, "cannot build template context (invalid UTF-8 in a token?)"); goto out; }
    if ((st = rf__template_parse(template_src, template_len, &t, err))) goto out;
    st = rf__template_render(t, ctx, opts, out, out_len, err);
out:
    rf__template_free(t);
    json_decref(ctx);
    return st;
}

rf_status rf__chat_apply(const char *template_src, const json_t *messages, const json_t *tools,
                         bool add_generation_prompt, const char *bos, const char *eos, char **out, rf_err *err) {
    if (!template_src) return rf__err(err, RF_ERR_INVALID_ARG, "chat template is NULL");
    return rf__chat_apply_ex(template_src, strlen(template_src), messages, tools, NULL, add_generation_prompt, bos,
                             eos, NULL, out, NULL, err);
}
