/*
 * tpl.h - internals of the chat template engine shared by its files:
 * arena, values, tokens, syntax tree, render state.
 *
 *   lexer.c    source -> tokens (jinja2's lexer rules, trim/lstrip blocks)
 *   parser.c   tokens -> syntax tree
 *   value.c    values: strings, lists, dicts, str()/repr(), ==, <, JSON
 *   pyfmt.c    Python formatting: float repr, '%' and str.format
 *   interp.c   statements and expressions, scopes, macros, entry points
 *   filters.c  filters and tests
 *   methods.c  str/dict/list methods and global functions
 *
 * Memory: the syntax tree lives in the template's arena; everything a
 * render creates lives in the render's arena, freed at once when the render
 * ends. Values are immutable except namespaces and loop objects, so they
 * are shared freely. All strings are valid UTF-8 (the source is checked,
 * jansson checks JSON strings).
 */
#ifndef RF_TPL_H
#define RF_TPL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "template/template.h"

/* ---- arena ---------------------------------------------------------------- */
typedef struct tpl_chunk tpl_chunk;
typedef struct tpl_arena {
    tpl_chunk *head;
    size_t total;   /* bytes taken from the allocator */
    size_t cap;     /* 0 = no cap */
    bool over_cap;  /* a request was refused because of the cap */
} tpl_arena;

void *rf__tpl_alloc(tpl_arena *a, size_t n);          /* 16-byte aligned, NULL on failure */
void *rf__tpl_zalloc(tpl_arena *a, size_t n);
void rf__tpl_arena_free(tpl_arena *a);

/* ---- values ----------------------------------------------------------------- */
typedef enum tv_type {
    TV_UNDEF, TV_NONE, TV_BOOL, TV_INT, TV_FLOAT, TV_STR, TV_LIST, TV_DICT,
    TV_NS,      /* namespace(): a dict whose attributes can be assigned */
    TV_FUNC,    /* global function: range, namespace, dict, ... */
    TV_METHOD,  /* bound method of a str/list/dict/loop */
    TV_MACRO,   /* macro or caller */
    TV_LOOP,    /* the `loop` object of a for loop */
} tv_type;

/* Kinds of list: they differ in printing, len(), subscripts, truthiness. */
enum { LK_LIST, LK_TUPLE, LK_GEN, LK_ITEMS, LK_KEYS, LK_VALUES, LK_REVERSED };
/* String flag: markupsafe.Markup (from |safe, |e). */
#define TVF_MARKUP 1u

typedef struct tstr { size_t len; char s[]; } tstr;          /* s is NUL-terminated */
typedef struct tv tv;
/* pos: items already consumed (generators are single-use, like Python's);
 * group: a groupby() result pair, with .grouper and .list attributes. */
typedef struct tlist { size_t n; tv *v; size_t pos; bool group; } tlist;
typedef struct tdict tdict;
typedef struct tundef tundef;
typedef struct tmethod tmethod;
typedef struct tmacro tmacro;
typedef struct tloop tloop;

struct tv {
    uint8_t t;       /* tv_type */
    uint8_t kind;    /* LK_* for lists, TVF_* for strings, function id for TV_FUNC */
    union {
        bool b;
        int64_t i;
        double f;
        tstr *s;
        tlist *l;
        tdict *d;
        const tundef *u;
        tmethod *m;
        tmacro *mac;
        tloop *loop;
    } u;
};

struct tdict {
    size_t n, cap;
    tv *keys, *vals;
    uint32_t *index;     /* open addressing, entry+1 (0 = empty); NULL while small */
    size_t index_cap;
};

/* Why a value is undefined; only used for error messages. */
enum { UND_PLAIN, UND_HINT, UND_ATTR, UND_ITEM, UND_UNSAFE };
struct tundef {
    uint8_t why;
    const char *name;    /* variable / attribute name, or hint text */
    const char *owner;   /* "dict object" and the like, for UND_ATTR/UND_ITEM/UND_UNSAFE */
};

/* ---- syntax tree ------------------------------------------------------------ */
typedef enum node_kind {
    /* expressions */
    N_CONST, N_NAME, N_GETATTR, N_GETITEM, N_SLICE, N_CALL, N_FILTER, N_TEST,
    N_NEG, N_POS, N_NOT, N_BIN, N_CONCAT, N_COMPARE, N_AND, N_OR, N_COND,
    N_LIST, N_TUPLE, N_DICT, N_NSREF,
    /* statements */
    S_DATA, S_PRINT, S_IF, S_FOR, S_SET, S_SETBLOCK, S_MACRO, S_CALLBLOCK,
    S_FILTERBLOCK, S_WITH, S_BREAK, S_CONTINUE, S_BODY,
} node_kind;

enum { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_FLOORDIV, BIN_MOD, BIN_POW };
enum { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_IN, CMP_NOTIN };

typedef struct node node;
typedef struct node_list { uint32_t n; node **v; } node_list;

/* Call arguments (calls, filters, tests). */
typedef struct call_args {
    node_list pos;
    uint32_t nkw;
    tstr **kwnames;
    node **kwvals;
    node *dyn_args, *dyn_kwargs;
} call_args;

/* Macro / caller signature. */
typedef struct macro_sig {
    uint32_t n;
    uint32_t *syms;
    tstr **names;
    node **defaults;     /* n entries; NULL where no default */
    bool uses_caller, uses_varargs, uses_kwargs;
} macro_sig;

struct node {
    uint8_t kind;
    uint8_t op;          /* BIN_*, filter/test id, ... */
    uint8_t flag;        /* N_FILTER/N_TEST: unknown name (runtime error); S_FOR: recursive */
    int line;
    node *a, *b, *c;     /* operands / target, iterable, condition, ... */
    tv cval;             /* N_CONST, S_DATA */
    tstr *name;          /* N_NAME, N_GETATTR, N_NSREF attr, filter/test/macro name */
    uint32_t sym;        /* N_NAME, N_NSREF, S_MACRO */
    node_list items;     /* list/tuple/concat items, dict keys, body statements */
    node_list items2;    /* dict values, else-body, with values */
    uint8_t *ops;        /* N_COMPARE operators (items.n of them) */
    call_args args;      /* N_CALL, N_FILTER, N_TEST */
    macro_sig *sig;      /* S_MACRO, S_CALLBLOCK */
};

/* ---- tokens ------------------------------------------------------------------ */
typedef enum tk_type {
    TK_EOF, TK_DATA, TK_VAR_BEGIN, TK_VAR_END, TK_BLOCK_BEGIN, TK_BLOCK_END,
    TK_NAME, TK_STRING, TK_INT, TK_FLOAT, TK_OP,
} tk_type;

typedef enum op_type {
    OP_ADD, OP_SUB, OP_DIV, OP_FLOORDIV, OP_MUL, OP_MOD, OP_POW, OP_TILDE,
    OP_LBRACKET, OP_RBRACKET, OP_LPAREN, OP_RPAREN, OP_LBRACE, OP_RBRACE,
    OP_EQ, OP_NE, OP_GT, OP_GTEQ, OP_LT, OP_LTEQ, OP_ASSIGN, OP_DOT, OP_COLON,
    OP_PIPE, OP_COMMA, OP_SEMICOLON,
} op_type;

typedef struct tpl_token {
    uint8_t type, op;
    int line;
    const char *s;       /* TK_NAME, TK_DATA: bytes in the arena; TK_STRING: decoded */
    size_t len;
    int64_t ival;
    double fval;
} tpl_token;

/* Tokenize; *toks is from rf__malloc (caller frees). Strings live in `ar`. */
rf_status rf__tpl_lex(tpl_arena *ar, const char *src, size_t len, tpl_token **toks,
                      size_t *ntoks, rf_err *err);

/* ---- the parsed template --------------------------------------------------------- */
struct rf_template {
    tpl_arena ar;
    node_list body;
    uint32_t nsyms;
    tstr **syms;         /* symbol id -> name */
};

rf_status rf__tpl_parse_tokens(rf_template *t, const tpl_token *toks, size_t ntoks, rf_err *err);

/* ---- render state ------------------------------------------------------------ */
typedef struct frame frame;
struct frame {
    frame *parent;
    uint32_t n, cap;
    uint32_t *syms;
    tv *vals;
    bool captured;       /* a macro or loop object holds it: do not reuse */
};

typedef struct sbuf { char *p; size_t len, cap; } sbuf;

typedef struct tpl_ctx {
    const rf_template *tpl;
    tpl_arena ar;
    rf_err *err;
    rf_status st;
    int line;
    uint64_t steps, max_steps, next_clock;
    size_t max_str;
    uint32_t depth, max_depth;          /* macro call depth */
    uint32_t nest, max_nest;            /* C recursion depth of the evaluator */
    double deadline;
    tv *globals;                        /* by symbol id */
    frame *root;
    sbuf *out;
    int ctrl;                           /* CTRL_* */
    bool fixed_time;
    int64_t now;
    uint32_t sym_loop, sym_caller, sym_varargs, sym_kwargs;   /* UINT32_MAX if unused */
} tpl_ctx;

enum { CTRL_NONE, CTRL_BREAK, CTRL_CONTINUE };

/* Errors: first one wins; message gets "line N: ". Return the status. */
rf_status rf__tpl_fail(tpl_ctx *c, rf_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define TPL_ERR(c, ...) rf__tpl_fail((c), RF_ERR_TEMPLATE, __VA_ARGS__)
rf_status rf__tpl_nomem(tpl_ctx *c);
rf_status rf__tpl_step_slow(tpl_ctx *c);
static inline rf_status tpl_steps(tpl_ctx *c, uint64_t n) {
    c->steps += n;
    if (c->steps >= c->next_clock) return rf__tpl_step_slow(c);
    return RF_OK;
}

/* ---- value helpers (value.c) ---------------------------------------------------- */
static inline tv tv_undef(void) { tv v = {0}; v.t = TV_UNDEF; return v; }
static inline tv tv_none(void) { tv v = {0}; v.t = TV_NONE; return v; }
static inline tv tv_bool(bool b) { tv v = {0}; v.t = TV_BOOL; v.u.b = b; return v; }
static inline tv tv_int(int64_t i) { tv v = {0}; v.t = TV_INT; v.u.i = i; return v; }
static inline tv tv_float(double f) { tv v = {0}; v.t = TV_FLOAT; v.u.f = f; return v; }
static inline tv tv_strv(tstr *s) { tv v = {0}; v.t = TV_STR; v.u.s = s; return v; }
static inline tv tv_listv(tlist *l, int kind) { tv v = {0}; v.t = TV_LIST; v.kind = (uint8_t)kind; v.u.l = l; return v; }
static inline tv tv_dictv(tdict *d) { tv v = {0}; v.t = TV_DICT; v.u.d = d; return v; }
static inline bool tv_is_num(tv v) { return v.t == TV_INT || v.t == TV_FLOAT || v.t == TV_BOOL; }
static inline bool tv_is_intlike(tv v) { return v.t == TV_INT || v.t == TV_BOOL; }
static inline int64_t tv_ival(tv v) { return v.t == TV_BOOL ? (int64_t)v.u.b : v.u.i; }
static inline double tv_fval(tv v) { return v.t == TV_FLOAT ? v.u.f : (double)tv_ival(v); }

tstr *rf__tstr_new(tpl_ctx *c, const char *s, size_t len);       /* NULL + error on failure */
tstr *rf__tstr_alloc(tpl_ctx *c, size_t len);                    /* uninitialised, NUL set */
tstr *rf__tstr_arena(tpl_arena *a, const char *s, size_t len);   /* no ctx (parser) */
tv rf__tv_str(tpl_ctx *c, const char *s, size_t len, rf_status *st);
tv rf__tv_cstr(tpl_ctx *c, const char *s, rf_status *st);
tv rf__tv_undef_named(tpl_ctx *c, int why, const char *name, const char *owner);
tlist *rf__tlist_new(tpl_ctx *c, size_t n);
tdict *rf__tdict_new(tpl_ctx *c, size_t cap);
/* Insert or replace (keeps the first position, like Python). Keys must be hashable. */
rf_status rf__tdict_set(tpl_ctx *c, tdict *d, tv key, tv val);
/* Lookup: returns true and *out when present. *st set if the key is unhashable. */
bool rf__tdict_get(tpl_ctx *c, const tdict *d, tv key, tv *out, rf_status *st);
bool rf__tdict_get_str(const tdict *d, const char *k, size_t klen, tv *out);

const char *rf__tv_type_name(tv v);         /* Python type name: 'str', 'list', ... */
bool rf__tv_truthy(tv v);
bool rf__tv_hashable(tv v);
/* Python ==. Fails only on nesting beyond the limit. */
rf_status rf__tv_eq(tpl_ctx *c, tv a, tv b, bool *out);
/* Python <, <=, >, >= (op = CMP_*): TypeError on unorderable types. */
rf_status rf__tv_cmp(tpl_ctx *c, int op, tv a, tv b, bool *out);
/* Three-way compare for sorting (TypeError on unorderable types). */
rf_status rf__tv_order(tpl_ctx *c, tv a, tv b, int *out);
/* Python `a in b`. */
rf_status rf__tv_contains(tpl_ctx *c, tv container, tv item, bool *out);
/* str(v) and repr(v) appended to a buffer. */
rf_status rf__tv_write_str(tpl_ctx *c, sbuf *b, tv v);
rf_status rf__tv_write_repr(tpl_ctx *c, sbuf *b, tv v);
/* str(v) as a value (strings are returned as is). */
rf_status rf__tv_to_str(tpl_ctx *c, tv v, tv *out);
/* Iterate: a flat array of items (lists as is; str -> chars; dict -> keys). */
rf_status rf__tv_iter(tpl_ctx *c, tv v, tv **items, size_t *n);
/* len(): fails with TypeError where Python would. */
rf_status rf__tv_len(tpl_ctx *c, tv v, int64_t *out);
/* JSON in and out. */
rf_status rf__tv_from_json(tpl_ctx *c, const json_t *j, tv *out, int depth);
typedef struct json_opts { bool ensure_ascii, sort_keys; int indent; /* -1: none */
                           const char *indent_str; size_t indent_len;
                           const char *item_sep, *key_sep; size_t item_sep_len, key_sep_len; } json_opts;
rf_status rf__tv_write_json(tpl_ctx *c, sbuf *b, tv v, const json_opts *o);

/* ---- strings and UTF-8 ------------------------------------------------------------ */
size_t rf__utf8_dec(const char *s, size_t len, int32_t *cp);      /* bytes used, >= 1 */
size_t rf__utf8_enc(int32_t cp, char out[4]);
size_t rf__utf8_count(const char *s, size_t len);                 /* codepoints */
/* Byte offset of codepoint index `i` (clamped to len). */
size_t rf__utf8_offset(const char *s, size_t len, size_t i);
bool rf__py_isspace(int32_t cp);
size_t rf__py_space_at(const char *p, const char *end);           /* bytes of a whitespace char at p */
size_t rf__py_space_before(const char *start, const char *p);     /* bytes of a whitespace char ending at p */

/* Growable buffer capped at c->max_str (RF_ERR_BUDGET beyond). */
rf_status rf__sb_put(tpl_ctx *c, sbuf *b, const char *s, size_t n);
rf_status rf__sb_putc(tpl_ctx *c, sbuf *b, char ch);
rf_status rf__sb_printf(tpl_ctx *c, sbuf *b, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
tv rf__sb_take(tpl_ctx *c, sbuf *b, rf_status *st);                /* to an arena string; frees b */
void rf__sb_free(sbuf *b);

/* ---- Python number formatting (pyfmt.c) ------------------------------------------ */
/* repr() of a float: shortest round-trip, Python's rules. Returns length. */
size_t rf__py_float_repr(double f, char *out, size_t cap);
/* 'fmt' % args (Python printf-style). `args` is a tuple, a dict or one value. */
rf_status rf__py_percent_format(tpl_ctx *c, tstr *fmt, tv args, tv *out);
/* fmt.format(*args, **kwargs) */
rf_status rf__py_str_format(tpl_ctx *c, tstr *fmt, const tv *args, size_t nargs,
                            const tdict *kwargs, tv *out);

/* ---- interpreter hooks used by filters/methods ------------------------------------ */
/* Call any callable value. kwargs may be NULL. */
rf_status rf__tpl_call(tpl_ctx *c, tv callee, const tv *args, size_t nargs, tdict *kwargs, tv *out);
/* environment.getattr / getitem (sandboxed). */
rf_status rf__tpl_getattr(tpl_ctx *c, tv obj, const char *name, size_t nlen, tv *out);
rf_status rf__tpl_getitem(tpl_ctx *c, tv obj, tv key, tv *out);
/* Python binary operators (BIN_*). */
rf_status rf__tpl_binop(tpl_ctx *c, int op, tv a, tv b, tv *out);
/* The error an operation on undefined raises. */
rf_status rf__tpl_undef_error(tpl_ctx *c, tv u);
/* markupsafe.escape(): Markup strings are returned unchanged. */
rf_status rf__tpl_html_escape(tpl_ctx *c, tv v, tv *out);
/* Python getattr() only (no item fallback): *found false if there is no attribute. */
rf_status rf__tpl_pygetattr(tpl_ctx *c, tv obj, const char *name, size_t nlen, tv *out, bool *found);

/* ---- filters and tests (filters.c) -------------------------------------------------- */
int rf__tpl_filter_id(const char *name, size_t len);   /* -1 if unknown */
int rf__tpl_test_id(const char *name, size_t len);
const char *rf__tpl_filter_name(int id);
const char *rf__tpl_test_name(int id);
rf_status rf__tpl_apply_filter(tpl_ctx *c, int id, tv v, const tv *args, size_t nargs,
                               tdict *kwargs, tv *out);
rf_status rf__tpl_apply_test(tpl_ctx *c, int id, tv v, const tv *args, size_t nargs,
                             tdict *kwargs, bool *out);
/* By run-time name (map('upper'), select('odd')). */
rf_status rf__tpl_filter_by_name(tpl_ctx *c, tv name, tv v, const tv *args, size_t nargs,
                                 tdict *kwargs, tv *out);
rf_status rf__tpl_test_by_name(tpl_ctx *c, tv name, tv v, const tv *args, size_t nargs,
                               tdict *kwargs, bool *out);
/* HF's tojson with Python keyword arguments. */
rf_status rf__tpl_tojson(tpl_ctx *c, tv v, const tv *args, size_t nargs, tdict *kwargs, tv *out);

/* ---- methods and globals (methods.c) -------------------------------------------------- */
enum { FN_RANGE, FN_NAMESPACE, FN_DICT, FN_RAISE, FN_STRFTIME, FN_LIPSUM, FN_CYCLER, FN_JOINER, FN_COUNT };
const char *rf__tpl_func_name(int id);
rf_status rf__tpl_call_func(tpl_ctx *c, int id, const tv *args, size_t nargs, tdict *kwargs, tv *out);
/* Attribute of a str/list/dict/loop that names a method: bound method value.
 * Returns false when there is no such method; *unsafe when it exists but the
 * sandbox forbids it (list.append and the like). */
bool rf__tpl_method_lookup(tpl_ctx *c, tv obj, const char *name, size_t nlen, tv *out,
                           bool *unsafe, rf_status *st);
rf_status rf__tpl_call_method(tpl_ctx *c, tmethod *m, const tv *args, size_t nargs,
                              tdict *kwargs, tv *out);

struct tmethod { tv self; int id; const char *name; };

struct tmacro {
    const node *def;      /* S_MACRO, or S_CALLBLOCK for a call block's caller */
    frame *closure;
};

struct tloop {
    tv *items;
    size_t n, index0;
    int depth0;
    const node *for_node;  /* for recursive loop(...) */
    frame *closure;
    bool has_changed;
    tv last_changed;
};

/* String helpers shared by methods and filters (Python semantics). */
enum { STRIP_BOTH, STRIP_LEFT, STRIP_RIGHT };
rf_status rf__str_strip(tpl_ctx *c, tv s, tv chars, int mode, tv *out);
enum { CASE_UPPER, CASE_LOWER, CASE_TITLE, CASE_CAPITALIZE, CASE_SWAP };
rf_status rf__str_case(tpl_ctx *c, tv s, int mode, tv *out);
/* Multi-character case mappings (unicase.c): count written to out, 0 if none. */
size_t rf__case_special(int32_t cp, int mode, int32_t out[3]);
rf_status rf__str_replace(tpl_ctx *c, tv s, tv old, tv repl, int64_t count, tv *out);
/* str.splitlines(keepends) */
rf_status rf__str_splitlines(tpl_ctx *c, tv s, bool keepends, tv *out);
/* int(str, base) and float(str) parsing; false on a Python ValueError */
bool rf__py_parse_int(const char *s, size_t len, int base, int64_t *out, bool *overflow);
bool rf__py_parse_float(const char *s, size_t len, double *out);
/* str.center/ljust/rjust */
rf_status rf__str_pad(tpl_ctx *c, tv s, int64_t width, const char *fill, size_t fill_len, char align, tv *out);

/* Argument helpers: fetch positional arg i or keyword `name`; returns false if absent. */
bool rf__tpl_arg(const tv *args, size_t nargs, tdict *kw, size_t i, const char *name, tv *out);
/* Fail if there are more positional args than `maxpos` or keywords not in `names`
 * (NULL-terminated list). */
rf_status rf__tpl_check_args(tpl_ctx *c, const char *fname, size_t nargs, size_t maxpos,
                             tdict *kw, const char *const *names);

#endif /* RF_TPL_H */
