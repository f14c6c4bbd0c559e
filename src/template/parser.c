/*
 * parser.c - tokens to syntax tree, following jinja2's parser (3.1).
 *
 * Grammar (lowest precedence first):
 *   tuple      expr ("," expr)*
 *   expr       or ("if" or ["else" expr])*
 *   or         and ("or" and)*          and   not ("and" not)*
 *   not        "not" not | compare
 *   compare    math1 (("=="|"!="|"<"|"<="|">"|">="|"in"|"not in") math1)*
 *   math1      concat (("+"|"-") concat)*
 *   concat     math2 ("~" math2)*
 *   math2      pow (("*"|"/"|"//"|"%") pow)*
 *   pow        unary ("**" unary)*
 *   unary      ("-"|"+") unary-without-filters | primary postfix (filter|test|call)*
 *   postfix    ("." name | "." int | "[" subscript "]" | "(" args ")")*
 *
 * Statements: if/elif/else, for (else, filter, recursive), set (expression,
 * block, namespace attribute), macro, call, filter, with, print,
 * break/continue, generation (transformers' extension; renders its body).
 *
 * Unknown filters and tests are errors at parse time, except inside an if
 * statement or a conditional expression, where jinja2 reports them only
 * when they run.
 */
#include <string.h>

#include "template/tpl.h"

#define MAX_PARSE_DEPTH 600

typedef struct parser {
    rf_template *t;
    const tpl_token *tk;
    size_t n, i;
    rf_err *err;
    bool failed;
    rf_status st;
    int depth;
    bool soft;          /* inside if / conditional expression */
    int loops;          /* enclosing for loops (for break/continue) */
    uint32_t uses[3];   /* counts of loads of caller, varargs, kwargs */
    uint32_t syms_cap;
    const char *const *ends[64];   /* end-tag stack, for messages */
    int nends;
} parser;

typedef struct nvec { node **v; uint32_t n, cap; } nvec;

/* ---- helpers --------------------------------------------------------------------- */

static const char *op_text(int op) {
    static const char *const t[] = {
        "+", "-", "/", "//", "*", "%", "**", "~", "[", "]", "(", ")", "{", "}",
        "==", "!=", ">", ">=", "<", "<=", "=", ".", ":", "|", ",", ";",
    };
    return op >= 0 && op < (int)RF_ARRAY_LEN(t) ? t[op] : "?";
}

static void describe(const tpl_token *tk, char *buf, size_t cap) {
    switch (tk->type) {
    case TK_EOF: snprintf(buf, cap, "end of template"); break;
    case TK_DATA: snprintf(buf, cap, "template data / text"); break;
    case TK_VAR_BEGIN: snprintf(buf, cap, "begin of print statement"); break;
    case TK_VAR_END: snprintf(buf, cap, "end of print statement"); break;
    case TK_BLOCK_BEGIN: snprintf(buf, cap, "begin of statement block"); break;
    case TK_BLOCK_END: snprintf(buf, cap, "end of statement block"); break;
    case TK_NAME: snprintf(buf, cap, "%.*s", (int)RF_MIN(tk->len, 40), tk->s); break;
    case TK_STRING: snprintf(buf, cap, "string"); break;
    case TK_INT: snprintf(buf, cap, "integer"); break;
    case TK_FLOAT: snprintf(buf, cap, "float"); break;
    case TK_OP: snprintf(buf, cap, "%s", op_text(tk->op)); break;
    default: snprintf(buf, cap, "token"); break;
    }
}

static void *fail_at(parser *p, int line, rf_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void *fail_at(parser *p, int line, rf_status st, const char *fmt, ...) {
    if (p->failed) return NULL;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->failed = true;
    p->st = st;
    if (st == RF_ERR_TEMPLATE)
        rf__err(p->err, st, "template syntax error, line %d: %s", line, msg);
    else
        rf__err(p->err, st, "line %d: %s", line, msg);
    return NULL;
}

#define FAIL(p, ...) fail_at((p), cur(p)->line, RF_ERR_TEMPLATE, __VA_ARGS__)

static const tpl_token *cur(parser *p) { return &p->tk[p->i]; }
static const tpl_token *look(parser *p) { return &p->tk[p->i + 1 < p->n ? p->i + 1 : p->i]; }
static const tpl_token *next(parser *p) {
    const tpl_token *t = &p->tk[p->i];
    if (p->i + 1 < p->n) p->i++;
    return t;
}
static bool is_op(const tpl_token *t, int op) { return t->type == TK_OP && t->op == op; }
static bool is_name(const tpl_token *t, const char *name) {
    size_t n = strlen(name);
    return t->type == TK_NAME && t->len == n && memcmp(t->s, name, n) == 0;
}
static bool skip_op(parser *p, int op) {
    if (is_op(cur(p), op)) { next(p); return true; }
    return false;
}
static bool skip_name(parser *p, const char *name) {
    if (is_name(cur(p), name)) { next(p); return true; }
    return false;
}
static bool expect_op(parser *p, int op) {
    if (skip_op(p, op)) return true;
    char d[64];
    describe(cur(p), d, sizeof d);
    FAIL(p, "expected token '%s', got '%s'", op_text(op), d);
    return false;
}
static bool expect_type(parser *p, int type, const char *what) {
    if (cur(p)->type == type) { next(p); return true; }
    char d[64];
    describe(cur(p), d, sizeof d);
    FAIL(p, "expected %s, got '%s'", what, d);
    return false;
}

static node *mk(parser *p, int kind, int line) {
    node *n = rf__tpl_zalloc(&p->t->ar, sizeof *n);
    if (!n) return fail_at(p, line, RF_ERR_NOMEM, "out of memory parsing template");
    n->kind = (uint8_t)kind;
    n->line = line;
    return n;
}

static bool vpush(parser *p, nvec *v, node *x) {
    if (v->n == v->cap) {
        uint32_t nc = v->cap ? v->cap * 2 : 4;
        node **nv = rf__tpl_alloc(&p->t->ar, nc * sizeof *nv);
        if (!nv) { fail_at(p, cur(p)->line, RF_ERR_NOMEM, "out of memory parsing template"); return false; }
        if (v->n) memcpy(nv, v->v, v->n * sizeof *nv);
        v->v = nv;
        v->cap = nc;
    }
    v->v[v->n++] = x;
    return true;
}

static node_list vlist(nvec v) { node_list l = { v.n, v.v }; return l; }

static tstr *tok_str(parser *p, const tpl_token *t) {
    tstr *s = rf__tstr_arena(&p->t->ar, t->s, t->len);
    if (!s) fail_at(p, t->line, RF_ERR_NOMEM, "out of memory parsing template");
    return s;
}

static uint32_t intern(parser *p, const char *s, size_t len) {
    rf_template *t = p->t;
    for (uint32_t k = 0; k < t->nsyms; k++)
        if (t->syms[k]->len == len && memcmp(t->syms[k]->s, s, len) == 0) return k;
    if (t->nsyms == p->syms_cap) {
        uint32_t nc = p->syms_cap ? p->syms_cap * 2 : 32;
        tstr **ns = rf__tpl_alloc(&t->ar, nc * sizeof *ns);
        if (!ns) { fail_at(p, cur(p)->line, RF_ERR_NOMEM, "out of memory parsing template"); return 0; }
        if (t->nsyms) memcpy(ns, t->syms, t->nsyms * sizeof *ns);
        t->syms = ns;
        p->syms_cap = nc;
    }
    tstr *name = rf__tstr_arena(&t->ar, s, len);
    if (!name) { fail_at(p, cur(p)->line, RF_ERR_NOMEM, "out of memory parsing template"); return 0; }
    t->syms[t->nsyms] = name;
    return t->nsyms++;
}

static bool enter(parser *p) {
    if (++p->depth > MAX_PARSE_DEPTH) {
        fail_at(p, cur(p)->line, RF_ERR_BUDGET, "template nested too deeply (limit %d levels)", MAX_PARSE_DEPTH);
        return false;
    }
    return true;
}
#define ENTER(p) do { if (!enter(p)) return NULL; } while (0)
#define LEAVE(p, x) do { p->depth--; return (x); } while (0)

/* ---- expressions ------------------------------------------------------------------- */

static node *parse_expression(parser *p, bool with_condexpr);
static node *parse_tuple(parser *p, bool simplified, bool with_condexpr,
                         const char *const *extra_end, bool explicit_parens, bool with_ns);
static node *parse_primary(parser *p, bool with_ns);
static node *parse_postfix(parser *p, node *n);
static node *parse_unary(parser *p, bool with_filter);
static node *parse_or(parser *p);

static node *parse_condexpr(parser *p) {
    ENTER(p);
    int line = cur(p)->line;
    node *e1 = parse_or(p);
    while (e1 && is_name(cur(p), "if")) {
        bool saved = p->soft;
        p->soft = true;
        next(p);
        node *e2 = parse_or(p), *e3 = NULL;
        if (!e2) LEAVE(p, NULL);
        if (skip_name(p, "else") && !(e3 = parse_condexpr(p))) LEAVE(p, NULL);
        p->soft = saved;
        node *c = mk(p, N_COND, line);
        if (!c) LEAVE(p, NULL);
        c->a = e2;
        c->b = e1;
        c->c = e3;
        e1 = c;
        line = cur(p)->line;
    }
    LEAVE(p, e1);
}

static node *parse_not(parser *p);
static node *parse_and(parser *p) {
    int line = cur(p)->line;
    node *l = parse_not(p);
    while (l && skip_name(p, "and")) {
        node *r = parse_not(p), *n;
        if (!r || !(n = mk(p, N_AND, line))) return NULL;
        n->a = l; n->b = r; l = n;
        line = cur(p)->line;
    }
    return l;
}

static node *parse_or(parser *p) {
    ENTER(p);
    int line = cur(p)->line;
    node *l = parse_and(p);
    while (l && skip_name(p, "or")) {
        node *r = parse_and(p), *n;
        if (!r || !(n = mk(p, N_OR, line))) LEAVE(p, NULL);
        n->a = l; n->b = r; l = n;
        line = cur(p)->line;
    }
    LEAVE(p, l);
}

static node *parse_math1(parser *p);
static node *parse_compare(parser *p) {
    int line = cur(p)->line;
    node *e = parse_math1(p);
    if (!e) return NULL;
    nvec ops = {0};
    uint8_t opbuf[64];
    uint32_t nops = 0;
    for (;;) {
        const tpl_token *t = cur(p);
        int op = -1;
        if (t->type == TK_OP) {
            switch (t->op) {
            case OP_EQ: op = CMP_EQ; break; case OP_NE: op = CMP_NE; break;
            case OP_LT: op = CMP_LT; break; case OP_LTEQ: op = CMP_LE; break;
            case OP_GT: op = CMP_GT; break; case OP_GTEQ: op = CMP_GE; break;
            default: break;
            }
            if (op >= 0) next(p);
        } else if (is_name(t, "in")) {
            next(p);
            op = CMP_IN;
        } else if (is_name(t, "not") && is_name(look(p), "in")) {
            next(p);
            next(p);
            op = CMP_NOTIN;
        }
        if (op < 0) break;
        if (nops >= sizeof opbuf) return FAIL(p, "too many chained comparisons");
        node *r = parse_math1(p);
        if (!r || !vpush(p, &ops, r)) return NULL;
        opbuf[nops++] = (uint8_t)op;
        line = cur(p)->line;
    }
    if (!nops) return e;
    node *n = mk(p, N_COMPARE, line);
    if (!n) return NULL;
    n->a = e;
    n->items = vlist(ops);
    n->ops = rf__tpl_alloc(&p->t->ar, nops);
    if (!n->ops) return fail_at(p, line, RF_ERR_NOMEM, "out of memory parsing template");
    memcpy(n->ops, opbuf, nops);
    return n;
}

static node *parse_not(parser *p) {
    ENTER(p);
    if (is_name(cur(p), "not")) {
        int line = next(p)->line;
        node *x = parse_not(p), *n;
        if (!x || !(n = mk(p, N_NOT, line))) LEAVE(p, NULL);
        n->a = x;
        LEAVE(p, n);
    }
    node *r = parse_compare(p);
    LEAVE(p, r);
}

static node *parse_concat(parser *p);
static node *parse_math1(parser *p) {
    int line = cur(p)->line;
    node *l = parse_concat(p);
    while (l && (is_op(cur(p), OP_ADD) || is_op(cur(p), OP_SUB))) {
        int op = next(p)->op == OP_ADD ? BIN_ADD : BIN_SUB;
        node *r = parse_concat(p), *n;
        if (!r || !(n = mk(p, N_BIN, line))) return NULL;
        n->op = (uint8_t)op; n->a = l; n->b = r; l = n;
        line = cur(p)->line;
    }
    return l;
}

static node *parse_math2(parser *p);
static node *parse_concat(parser *p) {
    int line = cur(p)->line;
    node *first = parse_math2(p);
    if (!first || !is_op(cur(p), OP_TILDE)) return first;
    nvec v = {0};
    if (!vpush(p, &v, first)) return NULL;
    while (skip_op(p, OP_TILDE)) {
        node *x = parse_math2(p);
        if (!x || !vpush(p, &v, x)) return NULL;
    }
    node *n = mk(p, N_CONCAT, line);
    if (!n) return NULL;
    n->items = vlist(v);
    return n;
}

static node *parse_pow(parser *p);
static node *parse_math2(parser *p) {
    int line = cur(p)->line;
    node *l = parse_pow(p);
    for (;;) {
        if (!l) return NULL;
        const tpl_token *t = cur(p);
        int op = -1;
        if (t->type == TK_OP) {
            if (t->op == OP_MUL) op = BIN_MUL;
            else if (t->op == OP_DIV) op = BIN_DIV;
            else if (t->op == OP_FLOORDIV) op = BIN_FLOORDIV;
            else if (t->op == OP_MOD) op = BIN_MOD;
        }
        if (op < 0) return l;
        next(p);
        node *r = parse_pow(p), *n;
        if (!r || !(n = mk(p, N_BIN, line))) return NULL;
        n->op = (uint8_t)op; n->a = l; n->b = r; l = n;
        line = cur(p)->line;
    }
}

static node *parse_pow(parser *p) {
    int line = cur(p)->line;
    node *l = parse_unary(p, true);
    while (l && skip_op(p, OP_POW)) {
        node *r = parse_unary(p, true), *n;
        if (!r || !(n = mk(p, N_BIN, line))) return NULL;
        n->op = BIN_POW; n->a = l; n->b = r; l = n;
        line = cur(p)->line;
    }
    return l;
}

static bool parse_call_args(parser *p, call_args *ca) {
    int line = cur(p)->line;
    if (!expect_op(p, OP_LPAREN)) return false;
    nvec pos = {0}, kwv = {0};
    tstr *kwn[64];
    uint32_t nkw = 0;
    bool require_comma = false;
    while (!is_op(cur(p), OP_RPAREN)) {
        if (require_comma) {
            if (!expect_op(p, OP_COMMA)) return false;
            if (is_op(cur(p), OP_RPAREN)) break;
        }
        if (is_op(cur(p), OP_MUL)) {
            if (ca->dyn_args || ca->dyn_kwargs) { fail_at(p, line, RF_ERR_TEMPLATE, "invalid syntax for function call expression"); return false; }
            next(p);
            if (!(ca->dyn_args = parse_expression(p, true))) return false;
        } else if (is_op(cur(p), OP_POW)) {
            if (ca->dyn_kwargs) { fail_at(p, line, RF_ERR_TEMPLATE, "invalid syntax for function call expression"); return false; }
            next(p);
            if (!(ca->dyn_kwargs = parse_expression(p, true))) return false;
        } else if (cur(p)->type == TK_NAME && is_op(look(p), OP_ASSIGN)) {
            if (ca->dyn_kwargs) { fail_at(p, line, RF_ERR_TEMPLATE, "invalid syntax for function call expression"); return false; }
            if (nkw >= RF_ARRAY_LEN(kwn)) { FAIL(p, "too many keyword arguments"); return false; }
            tstr *k = tok_str(p, cur(p));
            if (!k) return false;
            next(p);
            next(p);
            node *v = parse_expression(p, true);
            if (!v || !vpush(p, &kwv, v)) return false;
            kwn[nkw++] = k;
        } else {
            if (ca->dyn_args || ca->dyn_kwargs || nkw) { fail_at(p, line, RF_ERR_TEMPLATE, "invalid syntax for function call expression"); return false; }
            node *v = parse_expression(p, true);
            if (!v || !vpush(p, &pos, v)) return false;
        }
        require_comma = true;
    }
    if (!expect_op(p, OP_RPAREN)) return false;
    ca->pos = vlist(pos);
    ca->nkw = nkw;
    ca->kwvals = kwv.v;
    if (nkw) {
        ca->kwnames = rf__tpl_alloc(&p->t->ar, nkw * sizeof *ca->kwnames);
        if (!ca->kwnames) { fail_at(p, line, RF_ERR_NOMEM, "out of memory parsing template"); return false; }
        memcpy(ca->kwnames, kwn, nkw * sizeof *kwn);
    }
    return true;
}

/* filter/test name, possibly dotted */
static bool parse_dotted_name(parser *p, char *buf, size_t cap, size_t *len) {
    const tpl_token *t = cur(p);
    *len = 0;
    buf[0] = '\0';
    if (t->type != TK_NAME) return expect_type(p, TK_NAME, "name");
    size_t n = RF_MIN(t->len, cap - 1);
    memcpy(buf, t->s, n);
    next(p);
    while (is_op(cur(p), OP_DOT)) {
        next(p);
        t = cur(p);
        if (t->type != TK_NAME) return expect_type(p, TK_NAME, "name");
        if (n + 1 + t->len < cap) { buf[n++] = '.'; memcpy(buf + n, t->s, t->len); n += t->len; }
        next(p);
    }
    buf[n] = '\0';
    *len = n;
    return true;
}

static node *parse_filter(parser *p, node *operand, bool start_inline) {
    while (is_op(cur(p), OP_PIPE) || start_inline) {
        if (!start_inline) next(p);
        int line = cur(p)->line;
        char name[128];
        size_t nlen;
        if (!parse_dotted_name(p, name, sizeof name, &nlen)) return NULL;
        node *f = mk(p, N_FILTER, line);
        if (!f) return NULL;
        f->a = operand;
        if (!(f->name = rf__tstr_arena(&p->t->ar, name, nlen))) return fail_at(p, line, RF_ERR_NOMEM, "out of memory");
        int id = rf__tpl_filter_id(name, nlen);
        if (id < 0) {
            if (!p->soft) return fail_at(p, line, RF_ERR_TEMPLATE, "No filter named '%s'.", name);
            f->flag = 1;
        } else {
            f->op = (uint8_t)id;
        }
        if (is_op(cur(p), OP_LPAREN) && !parse_call_args(p, &f->args)) return NULL;
        operand = f;
        start_inline = false;
    }
    return operand;
}

static node *parse_test(parser *p, node *operand) {
    int line = next(p)->line; /* 'is' */
    bool negated = skip_name(p, "not");
    char name[128];
    size_t nlen;
    if (!parse_dotted_name(p, name, sizeof name, &nlen)) return NULL;
    node *t = mk(p, N_TEST, line);
    if (!t) return NULL;
    t->a = operand;
    if (!(t->name = rf__tstr_arena(&p->t->ar, name, nlen))) return fail_at(p, line, RF_ERR_NOMEM, "out of memory");
    int id = rf__tpl_test_id(name, nlen);
    if (id < 0) {
        if (!p->soft) return fail_at(p, line, RF_ERR_TEMPLATE, "No test named '%s'.", name);
        t->flag = 1;
    } else {
        t->op = (uint8_t)id;
    }
    const tpl_token *c = cur(p);
    if (is_op(c, OP_LPAREN)) {
        if (!parse_call_args(p, &t->args)) return NULL;
    } else if ((c->type == TK_NAME || c->type == TK_STRING || c->type == TK_INT || c->type == TK_FLOAT ||
                is_op(c, OP_LBRACKET) || is_op(c, OP_LBRACE)) &&
               !is_name(c, "else") && !is_name(c, "or") && !is_name(c, "and")) {
        if (is_name(c, "is")) return FAIL(p, "You cannot chain multiple tests with is");
        node *arg = parse_primary(p, false);
        if (!arg || !(arg = parse_postfix(p, arg))) return NULL;
        nvec v = {0};
        if (!vpush(p, &v, arg)) return NULL;
        t->args.pos = vlist(v);
    }
    if (negated) {
        node *n = mk(p, N_NOT, line);
        if (!n) return NULL;
        n->a = t;
        return n;
    }
    return t;
}

static node *parse_subscribed(parser *p) {
    int line = cur(p)->line;
    node *args[3] = {NULL, NULL, NULL};
    if (is_op(cur(p), OP_COLON)) {
        next(p);
    } else {
        node *e = parse_expression(p, true);
        if (!e) return NULL;
        if (!is_op(cur(p), OP_COLON)) return e;
        next(p);
        args[0] = e;
    }
    if (!is_op(cur(p), OP_COLON) && !is_op(cur(p), OP_RBRACKET) && !is_op(cur(p), OP_COMMA)) {
        if (!(args[1] = parse_expression(p, true))) return NULL;
    }
    if (is_op(cur(p), OP_COLON)) {
        next(p);
        if (!is_op(cur(p), OP_RBRACKET) && !is_op(cur(p), OP_COMMA))
            if (!(args[2] = parse_expression(p, true))) return NULL;
    }
    node *s = mk(p, N_SLICE, line);
    if (!s) return NULL;
    s->a = args[0]; s->b = args[1]; s->c = args[2];
    return s;
}

static node *parse_subscript(parser *p, node *obj) {
    const tpl_token *t = next(p);
    int line = t->line;
    if (t->type == TK_OP && t->op == OP_DOT) {
        const tpl_token *a = cur(p);
        if (a->type == TK_NAME) {
            next(p);
            node *g = mk(p, N_GETATTR, line);
            if (!g || !(g->name = tok_str(p, a))) return NULL;
            g->a = obj;
            return g;
        }
        if (a->type != TK_INT) return fail_at(p, a->line, RF_ERR_TEMPLATE, "expected name or number");
        next(p);
        node *k = mk(p, N_CONST, a->line), *g;
        if (!k || !(g = mk(p, N_GETITEM, line))) return NULL;
        k->cval = tv_int(a->ival);
        g->a = obj;
        g->b = k;
        return g;
    }
    /* '[' */
    nvec args = {0};
    while (!is_op(cur(p), OP_RBRACKET)) {
        if (args.n && !expect_op(p, OP_COMMA)) return NULL;
        node *s = parse_subscribed(p);
        if (!s || !vpush(p, &args, s)) return NULL;
    }
    if (!expect_op(p, OP_RBRACKET)) return NULL;
    node *g = mk(p, N_GETITEM, line);
    if (!g) return NULL;
    g->a = obj;
    if (args.n == 1) {
        g->b = args.v[0];
    } else {
        node *tu = mk(p, N_TUPLE, line);
        if (!tu) return NULL;
        tu->items = vlist(args);
        g->b = tu;
    }
    return g;
}

static node *parse_call(parser *p, node *callee) {
    node *c = mk(p, N_CALL, cur(p)->line);
    if (!c) return NULL;
    c->a = callee;
    if (!parse_call_args(p, &c->args)) return NULL;
    return c;
}

static node *parse_postfix(parser *p, node *n) {
    while (n) {
        const tpl_token *t = cur(p);
        if (is_op(t, OP_DOT) || is_op(t, OP_LBRACKET)) n = parse_subscript(p, n);
        else if (is_op(t, OP_LPAREN)) n = parse_call(p, n);
        else break;
    }
    return n;
}

static node *parse_filter_expr(parser *p, node *n) {
    while (n) {
        const tpl_token *t = cur(p);
        if (is_op(t, OP_PIPE)) n = parse_filter(p, n, false);
        else if (is_name(t, "is")) n = parse_test(p, n);
        else if (is_op(t, OP_LPAREN)) n = parse_call(p, n);
        else break;
    }
    return n;
}

static node *parse_unary(parser *p, bool with_filter) {
    ENTER(p);
    const tpl_token *t = cur(p);
    node *n;
    if (is_op(t, OP_SUB) || is_op(t, OP_ADD)) {
        int kind = t->op == OP_SUB ? N_NEG : N_POS;
        next(p);
        node *x = parse_unary(p, false);
        if (!x || !(n = mk(p, kind, t->line))) LEAVE(p, NULL);
        n->a = x;
    } else {
        n = parse_primary(p, false);
    }
    n = parse_postfix(p, n);
    if (with_filter) n = parse_filter_expr(p, n);
    LEAVE(p, n);
}

static node *parse_list(parser *p) {
    int line = next(p)->line;
    nvec v = {0};
    while (!is_op(cur(p), OP_RBRACKET)) {
        if (v.n && !expect_op(p, OP_COMMA)) return NULL;
        if (is_op(cur(p), OP_RBRACKET)) break;
        node *x = parse_expression(p, true);
        if (!x || !vpush(p, &v, x)) return NULL;
    }
    if (!expect_op(p, OP_RBRACKET)) return NULL;
    node *n = mk(p, N_LIST, line);
    if (!n) return NULL;
    n->items = vlist(v);
    return n;
}

static node *parse_dict(parser *p) {
    int line = next(p)->line;
    nvec k = {0}, v = {0};
    while (!is_op(cur(p), OP_RBRACE)) {
        if (k.n && !expect_op(p, OP_COMMA)) return NULL;
        if (is_op(cur(p), OP_RBRACE)) break;
        node *key = parse_expression(p, true);
        if (!key || !expect_op(p, OP_COLON)) return NULL;
        node *val = parse_expression(p, true);
        if (!val || !vpush(p, &k, key) || !vpush(p, &v, val)) return NULL;
    }
    if (!expect_op(p, OP_RBRACE)) return NULL;
    node *n = mk(p, N_DICT, line);
    if (!n) return NULL;
    n->items = vlist(k);
    n->items2 = vlist(v);
    return n;
}

static node *parse_primary(parser *p, bool with_ns) {
    ENTER(p);
    const tpl_token *t = cur(p);
    node *n = NULL;
    if (t->type == TK_NAME) {
        next(p);
        if (is_name(t, "true") || is_name(t, "True") || is_name(t, "false") || is_name(t, "False")) {
            if ((n = mk(p, N_CONST, t->line))) n->cval = tv_bool(t->s[0] == 't' || t->s[0] == 'T');
        } else if (is_name(t, "none") || is_name(t, "None")) {
            if ((n = mk(p, N_CONST, t->line))) n->cval = tv_none();
        } else if (with_ns && is_op(cur(p), OP_DOT)) {
            next(p);
            const tpl_token *a = cur(p);
            if (!expect_type(p, TK_NAME, "name")) LEAVE(p, NULL);
            if ((n = mk(p, N_NSREF, t->line))) {
                n->sym = intern(p, t->s, t->len);
                n->name = tok_str(p, a);
            }
        } else if ((n = mk(p, N_NAME, t->line))) {
            n->sym = intern(p, t->s, t->len);
            n->name = p->t->syms ? p->t->syms[n->sym] : NULL;
            if (is_name(t, "caller")) p->uses[0]++;
            else if (is_name(t, "varargs")) p->uses[1]++;
            else if (is_name(t, "kwargs")) p->uses[2]++;
        }
    } else if (t->type == TK_STRING) {
        int line = t->line;
        size_t total = 0, k = p->i;
        while (p->tk[k].type == TK_STRING) total += p->tk[k++].len;
        tstr *s = rf__tstr_arena(&p->t->ar, NULL, total);
        if (!s) LEAVE(p, fail_at(p, line, RF_ERR_NOMEM, "out of memory parsing template"));
        size_t o = 0;
        while (cur(p)->type == TK_STRING) {
            memcpy(s->s + o, cur(p)->s, cur(p)->len);
            o += cur(p)->len;
            next(p);
        }
        if ((n = mk(p, N_CONST, line))) n->cval = tv_strv(s);
    } else if (t->type == TK_INT || t->type == TK_FLOAT) {
        next(p);
        if ((n = mk(p, N_CONST, t->line))) n->cval = t->type == TK_INT ? tv_int(t->ival) : tv_float(t->fval);
    } else if (is_op(t, OP_LPAREN)) {
        next(p);
        n = parse_tuple(p, false, true, NULL, true, false);
        if (n && !expect_op(p, OP_RPAREN)) n = NULL;
    } else if (is_op(t, OP_LBRACKET)) {
        n = parse_list(p);
    } else if (is_op(t, OP_LBRACE)) {
        n = parse_dict(p);
    } else {
        char d[64];
        describe(t, d, sizeof d);
        n = FAIL(p, "unexpected '%s'", d);
    }
    LEAVE(p, n);
}

static bool is_tuple_end(parser *p, const char *const *extra) {
    const tpl_token *t = cur(p);
    if (t->type == TK_VAR_END || t->type == TK_BLOCK_END || is_op(t, OP_RPAREN)) return true;
    for (; extra && *extra; extra++)
        if (is_name(t, *extra)) return true;
    return false;
}

static node *parse_tuple(parser *p, bool simplified, bool with_condexpr,
                         const char *const *extra_end, bool explicit_parens, bool with_ns) {
    ENTER(p);
    int line = cur(p)->line;
    nvec v = {0};
    bool is_tuple = false;
    for (;;) {
        if (v.n && !expect_op(p, OP_COMMA)) LEAVE(p, NULL);
        if (is_tuple_end(p, extra_end)) break;
        node *x = simplified ? parse_primary(p, with_ns) : parse_expression(p, with_condexpr);
        if (!x || !vpush(p, &v, x)) LEAVE(p, NULL);
        if (is_op(cur(p), OP_COMMA)) is_tuple = true;
        else break;
        line = cur(p)->line;
    }
    if (!is_tuple) {
        if (v.n) LEAVE(p, v.v[0]);
        if (!explicit_parens) {
            char d[64];
            describe(cur(p), d, sizeof d);
            LEAVE(p, FAIL(p, "Expected an expression, got '%s'", d));
        }
    }
    node *n = mk(p, N_TUPLE, line);
    if (n) n->items = vlist(v);
    LEAVE(p, n);
}

static node *parse_expression(parser *p, bool with_condexpr) {
    return with_condexpr ? parse_condexpr(p) : parse_or(p);
}

/* ---- statements ------------------------------------------------------------------------- */

static bool subparse(parser *p, const char *const *ends, node_list *out);

static bool can_assign(const node *n) {
    if (n->kind == N_NAME || n->kind == N_NSREF) return true;
    if (n->kind == N_TUPLE) {
        for (uint32_t i = 0; i < n->items.n; i++)
            if (!can_assign(n->items.v[i]) || n->items.v[i]->kind == N_NSREF) return false;
        return true;
    }
    return false;
}

static node *parse_assign_target(parser *p, bool name_only, const char *const *extra_end, bool with_ns) {
    node *t;
    if (name_only) {
        const tpl_token *tk = cur(p);
        if (!expect_type(p, TK_NAME, "name")) return NULL;
        if (!(t = mk(p, N_NAME, tk->line))) return NULL;
        t->sym = intern(p, tk->s, tk->len);
        t->name = p->t->syms ? p->t->syms[t->sym] : NULL;
        return t;
    }
    t = parse_tuple(p, true, true, extra_end, false, with_ns);
    if (!t) return NULL;
    if (!can_assign(t))
        return fail_at(p, t->line, RF_ERR_TEMPLATE, "can't assign to '%s'",
                       t->kind == N_CONST ? "const" : t->kind == N_TUPLE ? "tuple" : "expression");
    return t;
}

/* skip ':'; expect block end; parse until one of `ends`; on return cur() is the end name */
static bool parse_statements(parser *p, const char *const *ends, bool drop_needle, node_list *out) {
    skip_op(p, OP_COLON);
    if (!expect_type(p, TK_BLOCK_END, "end of statement block")) return false;
    if (!subparse(p, ends, out)) return false;
    if (cur(p)->type == TK_EOF) {
        char want[200];
        size_t o = 0;
        for (const char *const *e = ends; *e; e++)
            o += (size_t)snprintf(want + o, sizeof want - o, "%s'%s'", e == ends ? "" : " or ", *e),
                o = RF_MIN(o, sizeof want - 1);
        FAIL(p, "Unexpected end of template. Jinja was looking for the following tags: %s.", want);
        return false;
    }
    if (drop_needle) next(p);
    return true;
}

static bool parse_signature(parser *p, macro_sig **out) {
    macro_sig *sig = rf__tpl_zalloc(&p->t->ar, sizeof *sig);
    if (!sig) { fail_at(p, cur(p)->line, RF_ERR_NOMEM, "out of memory"); return false; }
    uint32_t syms[64];
    tstr *names[64];
    node *defs[64];
    uint32_t n = 0;
    bool any_default = false;
    if (!expect_op(p, OP_LPAREN)) return false;
    while (!is_op(cur(p), OP_RPAREN)) {
        if (n && !expect_op(p, OP_COMMA)) return false;
        if (n >= RF_ARRAY_LEN(syms)) { FAIL(p, "too many macro arguments"); return false; }
        node *a = parse_assign_target(p, true, NULL, false);
        if (!a) return false;
        defs[n] = NULL;
        if (skip_op(p, OP_ASSIGN)) {
            if (!(defs[n] = parse_expression(p, true))) return false;
            any_default = true;
        } else if (any_default) {
            FAIL(p, "non-default argument follows default argument");
            return false;
        }
        syms[n] = a->sym;
        names[n] = a->name;
        n++;
    }
    if (!expect_op(p, OP_RPAREN)) return false;
    sig->n = n;
    if (n) {
        sig->syms = rf__tpl_alloc(&p->t->ar, n * sizeof *sig->syms);
        sig->names = rf__tpl_alloc(&p->t->ar, n * sizeof *sig->names);
        sig->defaults = rf__tpl_alloc(&p->t->ar, n * sizeof *sig->defaults);
        if (!sig->syms || !sig->names || !sig->defaults) {
            fail_at(p, cur(p)->line, RF_ERR_NOMEM, "out of memory");
            return false;
        }
        memcpy(sig->syms, syms, n * sizeof *syms);
        memcpy(sig->names, names, n * sizeof *names);
        memcpy(sig->defaults, defs, n * sizeof *defs);
    }
    *out = sig;
    return true;
}

/* Parse a macro or caller body, noting whether it reads caller/varargs/kwargs. */
static bool parse_macro_body(parser *p, macro_sig *sig, const char *const *ends, node_list *body) {
    uint32_t before[3] = { p->uses[0], p->uses[1], p->uses[2] };
    int loops = p->loops;
    bool soft = p->soft;
    p->loops = 0;
    p->soft = false;
    bool ok = parse_statements(p, ends, true, body);
    p->loops = loops;
    p->soft = soft;
    if (!ok) return false;
    bool explicit[3] = {false, false, false};
    static const char *const special[3] = {"caller", "varargs", "kwargs"};
    for (uint32_t k = 0; k < sig->n; k++)
        for (int q = 0; q < 3; q++)
            if (sig->names[k]->len == strlen(special[q]) && memcmp(sig->names[k]->s, special[q], sig->names[k]->len) == 0) {
                explicit[q] = true;
                if (q == 0 && !sig->defaults[k] && p->uses[0] > before[0]) {
                    FAIL(p, "When defining macros or call blocks the special \"caller\" argument must be omitted or be given a default.");
                    return false;
                }
            }
    sig->uses_caller = p->uses[0] > before[0] && !explicit[0];
    sig->uses_varargs = p->uses[1] > before[1] && !explicit[1];
    sig->uses_kwargs = p->uses[2] > before[2] && !explicit[2];
    return true;
}

static node *parse_statement(parser *p) {
    ENTER(p);
    const tpl_token *t = cur(p);
    int line = t->line;
    node *n = NULL;
    if (t->type != TK_NAME) LEAVE(p, FAIL(p, "tag name expected"));

    if (is_name(t, "if")) {
        bool soft = p->soft;
        p->soft = true;
        next(p);
        node *top = NULL, *last = NULL;
        for (;;) {
            node *c = mk(p, S_IF, cur(p)->line);
            if (!c || !(c->a = parse_tuple(p, false, false, NULL, false, false))) LEAVE(p, NULL);
            static const char *const ends[] = {"elif", "else", "endif", NULL};
            if (!parse_statements(p, ends, false, &c->items)) LEAVE(p, NULL);
            if (!top) top = c;
            else {
                last->items2.v = rf__tpl_alloc(&p->t->ar, sizeof(node *));
                if (!last->items2.v) LEAVE(p, fail_at(p, line, RF_ERR_NOMEM, "out of memory"));
                last->items2.v[0] = c;
                last->items2.n = 1;
            }
            last = c;
            const tpl_token *e = next(p);
            if (is_name(e, "elif")) continue;
            if (is_name(e, "else")) {
                static const char *const ends2[] = {"endif", NULL};
                if (!parse_statements(p, ends2, true, &c->items2)) LEAVE(p, NULL);
            }
            break;
        }
        p->soft = soft;
        LEAVE(p, top);
    }
    if (is_name(t, "for")) {
        next(p);
        static const char *const in_end[] = {"in", NULL};
        static const char *const rec_end[] = {"recursive", NULL};
        if (!(n = mk(p, S_FOR, line))) LEAVE(p, NULL);
        if (!(n->a = parse_assign_target(p, false, in_end, false))) LEAVE(p, NULL);
        if (!is_name(cur(p), "in")) {
            char d[64];
            describe(cur(p), d, sizeof d);
            LEAVE(p, FAIL(p, "expected token 'in', got '%s'", d));
        }
        next(p);
        if (!(n->b = parse_tuple(p, false, false, rec_end, false, false))) LEAVE(p, NULL);
        bool soft = p->soft;
        p->soft = false;
        if (skip_name(p, "if") && !(n->c = parse_expression(p, true))) LEAVE(p, NULL);
        n->flag = skip_name(p, "recursive");
        static const char *const ends[] = {"endfor", "else", NULL};
        p->loops++;
        if (!parse_statements(p, ends, false, &n->items)) LEAVE(p, NULL);
        p->loops--;
        if (is_name(next(p), "else")) {
            static const char *const ends2[] = {"endfor", NULL};
            if (!parse_statements(p, ends2, true, &n->items2)) LEAVE(p, NULL);
        }
        p->soft = soft;
        LEAVE(p, n);
    }
    if (is_name(t, "set")) {
        next(p);
        node *target = parse_assign_target(p, false, NULL, true);
        if (!target) LEAVE(p, NULL);
        if (skip_op(p, OP_ASSIGN)) {
            if (!(n = mk(p, S_SET, line))) LEAVE(p, NULL);
            n->a = target;
            n->b = parse_tuple(p, false, true, NULL, false, false);
            LEAVE(p, n->b ? n : NULL);
        }
        if (!(n = mk(p, S_SETBLOCK, line))) LEAVE(p, NULL);
        n->a = target;
        bool soft = p->soft;
        p->soft = false;
        if (is_op(cur(p), OP_PIPE) && !(n->b = parse_filter(p, NULL, false))) LEAVE(p, NULL);
        static const char *const ends[] = {"endset", NULL};
        if (!parse_statements(p, ends, true, &n->items)) LEAVE(p, NULL);
        p->soft = soft;
        LEAVE(p, n);
    }
    if (is_name(t, "macro")) {
        next(p);
        node *name = parse_assign_target(p, true, NULL, false);
        if (!name || !(n = mk(p, S_MACRO, line))) LEAVE(p, NULL);
        n->sym = name->sym;
        n->name = name->name;
        if (!parse_signature(p, &n->sig)) LEAVE(p, NULL);
        static const char *const ends[] = {"endmacro", NULL};
        if (!parse_macro_body(p, n->sig, ends, &n->items)) LEAVE(p, NULL);
        LEAVE(p, n);
    }
    if (is_name(t, "call")) {
        next(p);
        if (!(n = mk(p, S_CALLBLOCK, line))) LEAVE(p, NULL);
        if (is_op(cur(p), OP_LPAREN)) {
            if (!parse_signature(p, &n->sig)) LEAVE(p, NULL);
        } else if (!(n->sig = rf__tpl_zalloc(&p->t->ar, sizeof *n->sig))) {
            LEAVE(p, fail_at(p, line, RF_ERR_NOMEM, "out of memory"));
        }
        node *call = parse_expression(p, true);
        if (!call) LEAVE(p, NULL);
        if (call->kind != N_CALL) LEAVE(p, fail_at(p, line, RF_ERR_TEMPLATE, "expected call"));
        n->a = call;
        static const char *const ends[] = {"endcall", NULL};
        if (!parse_macro_body(p, n->sig, ends, &n->items)) LEAVE(p, NULL);
        LEAVE(p, n);
    }
    if (is_name(t, "filter")) {
        next(p);
        if (!(n = mk(p, S_FILTERBLOCK, line))) LEAVE(p, NULL);
        bool soft = p->soft;
        p->soft = false;
        if (!(n->b = parse_filter(p, NULL, true))) LEAVE(p, NULL);
        static const char *const ends[] = {"endfilter", NULL};
        if (!parse_statements(p, ends, true, &n->items)) LEAVE(p, NULL);
        p->soft = soft;
        LEAVE(p, n);
    }
    if (is_name(t, "with")) {
        next(p);
        if (!(n = mk(p, S_WITH, line))) LEAVE(p, NULL);
        nvec targets = {0}, vals = {0};
        while (cur(p)->type != TK_BLOCK_END) {
            if (targets.n && !expect_op(p, OP_COMMA)) LEAVE(p, NULL);
            node *tg = parse_assign_target(p, false, NULL, false);
            if (!tg || !expect_op(p, OP_ASSIGN)) LEAVE(p, NULL);
            node *v = parse_expression(p, true);
            if (!v || !vpush(p, &targets, tg) || !vpush(p, &vals, v)) LEAVE(p, NULL);
        }
        n->items2 = vlist(targets);
        n->b = NULL;
        /* values are kept in a tuple node so that the body can use `items` */
        node *tu = mk(p, N_TUPLE, line);
        if (!tu) LEAVE(p, NULL);
        tu->items = vlist(vals);
        n->c = tu;
        bool soft = p->soft;
        p->soft = false;
        static const char *const ends[] = {"endwith", NULL};
        if (!parse_statements(p, ends, true, &n->items)) LEAVE(p, NULL);
        p->soft = soft;
        LEAVE(p, n);
    }
    if (is_name(t, "print")) {
        next(p);
        nvec v = {0};
        while (cur(p)->type != TK_BLOCK_END) {
            if (v.n && !expect_op(p, OP_COMMA)) LEAVE(p, NULL);
            node *e = parse_expression(p, true), *pr;
            if (!e || !(pr = mk(p, S_PRINT, line))) LEAVE(p, NULL);
            pr->a = e;
            if (!vpush(p, &v, pr)) LEAVE(p, NULL);
        }
        if (!(n = mk(p, S_BODY, line))) LEAVE(p, NULL);
        n->items = vlist(v);
        LEAVE(p, n);
    }
    if (is_name(t, "break") || is_name(t, "continue")) {
        bool brk = is_name(t, "break");
        next(p);
        if (!p->loops) LEAVE(p, FAIL(p, "'%s' outside loop", brk ? "break" : "continue"));
        LEAVE(p, mk(p, brk ? S_BREAK : S_CONTINUE, line));
    }
    if (is_name(t, "generation")) {
        next(p);
        if (!(n = mk(p, S_BODY, line))) LEAVE(p, NULL);
        n->flag = 1; /* its own scope: transformers renders it as a call block */
        static const char *const ends[] = {"endgeneration", NULL};
        if (!parse_statements(p, ends, true, &n->items)) LEAVE(p, NULL);
        LEAVE(p, n);
    }
    static const char *const unsupported[] = {
        "block", "extends", "include", "import", "from", "autoescape", NULL,
    };
    for (const char *const *u = unsupported; *u; u++)
        if (is_name(t, *u)) LEAVE(p, FAIL(p, "the '%s' tag is not supported", *u));
    char name[64];
    describe(t, name, sizeof name);
    if (p->nends > 0) {
        char want[200];
        size_t o = 0;
        for (const char *const *e = p->ends[p->nends - 1]; *e; e++)
            o += (size_t)snprintf(want + o, sizeof want - o, "%s'%s'", e == p->ends[p->nends - 1] ? "" : " or ", *e),
                o = RF_MIN(o, sizeof want - 1);
        LEAVE(p, FAIL(p, "Encountered unknown tag '%s'. Jinja was looking for the following tags: %s.", name, want));
    }
    LEAVE(p, FAIL(p, "Encountered unknown tag '%s'.", name));
}

static bool subparse(parser *p, const char *const *ends, node_list *out) {
    nvec body = {0};
    if (ends) {
        if (p->nends >= (int)RF_ARRAY_LEN(p->ends)) {
            fail_at(p, cur(p)->line, RF_ERR_BUDGET, "template nested too deeply");
            return false;
        }
        p->ends[p->nends++] = ends;
    }
    bool ok = false;
    while (cur(p)->type != TK_EOF) {
        const tpl_token *t = cur(p);
        if (t->type == TK_DATA) {
            node *d = mk(p, S_DATA, t->line);
            tstr *s;
            if (!d || !(s = tok_str(p, t))) goto out;
            d->cval = tv_strv(s);
            if (!vpush(p, &body, d)) goto out;
            next(p);
        } else if (t->type == TK_VAR_BEGIN) {
            next(p);
            node *e = parse_tuple(p, false, true, NULL, false, false), *pr;
            if (!e || !expect_type(p, TK_VAR_END, "end of print statement")) goto out;
            if (!(pr = mk(p, S_PRINT, t->line))) goto out;
            pr->a = e;
            if (!vpush(p, &body, pr)) goto out;
        } else if (t->type == TK_BLOCK_BEGIN) {
            next(p);
            if (ends)
                for (const char *const *e = ends; *e; e++)
                    if (is_name(cur(p), *e)) { ok = true; goto out; }
            node *s = parse_statement(p);
            if (!s || !vpush(p, &body, s)) goto out;
            if (!expect_type(p, TK_BLOCK_END, "end of statement block")) goto out;
        } else {
            char d[64];
            describe(t, d, sizeof d);
            FAIL(p, "unexpected '%s'", d);
            goto out;
        }
    }
    ok = true;
out:
    if (ends) p->nends--;
    *out = vlist(body);
    return ok && !p->failed;
}

rf_status rf__tpl_parse_tokens(rf_template *t, const tpl_token *toks, size_t ntoks, rf_err *err) {
    parser p;
    memset(&p, 0, sizeof p);
    p.t = t;
    p.tk = toks;
    p.n = ntoks;
    p.err = err;
    if (!subparse(&p, NULL, &t->body) || p.failed) {
        if (!p.failed) return rf__err(err, RF_ERR_TEMPLATE, "template syntax error");
        return p.st;
    }
    return RF_OK;
}
