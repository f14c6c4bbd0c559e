/* test_template.c - chat template engine: expressions, filters, errors with
 * line numbers, budgets (range(10**9), recursion, string repetition, nested
 * loops, output, memory, nesting, time), the sandbox, allocation failures,
 * concurrent renders, and the replay of tests/corpus/template/. */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "rf_test.h"
#include "template/template.h"

static const char *CTX =
    "{\"s\": \"Hello\", \"n\": 7, \"lst\": [3, 1, 2], \"d\": {\"b\": 2, \"a\": 1}, \"none\": null,"
    " \"messages\": [{\"role\": \"system\", \"content\": \"sys\"}, {\"role\": \"user\", \"content\": \"hi \\u00e9\"},"
    " {\"role\": \"assistant\", \"content\": \"yo\"}], \"bos_token\": \"<s>\"}";

static json_t *ctx_json(void) {
    json_error_t e;
    json_t *j = json_loads(CTX, 0, &e);
    if (!j) { fprintf(stderr, "bad test context: %s\n", e.text); exit(1); }
    return j;
}

/* Render src; returns status, *out (caller frees) and the error text. */
static rf_status render(const char *src, const json_t *ctx, const rf_template_opts *o, char **out, rf_err *err) {
    rf_template *t = NULL;
    *out = NULL;
    rf_status st = rf__template_parse(src, strlen(src), &t, err);
    if (st) return st;
    st = rf__template_render(t, ctx, o, out, NULL, err);
    rf__template_free(t);
    return st;
}

static int check_out(const char *src, const char *want) {
    json_t *ctx = ctx_json();
    char *out;
    rf_err err = {0};
    rf_status st = render(src, ctx, NULL, &out, &err);
    int ok = st == RF_OK && out && strcmp(out, want) == 0;
    if (!ok)
        fprintf(stderr, "  template %s\n    want [%s]\n    got  [%s] (status %d: %s)\n", src, want, out ? out : "",
                st, err.msg);
    rf__free(out);
    json_decref(ctx);
    return ok;
}

/* Expect failure with `want` status and, when given, a substring of the message. */
static int check_err(const char *src, rf_status want, const char *msg_part, const rf_template_opts *o) {
    json_t *ctx = ctx_json();
    char *out;
    rf_err err = {0};
    rf_status st = render(src, ctx, o, &out, &err);
    int ok = st == want && !out && (!msg_part || strstr(err.msg, msg_part));
    if (!ok)
        fprintf(stderr, "  template %.120s\n    want status %d (%s)\n    got  status %d: %s / out [%.80s]\n", src, want,
                msg_part ? msg_part : "", st, err.msg, out ? out : "");
    rf__free(out);
    json_decref(ctx);
    return ok;
}

static void test_expressions(void) {
    static const struct { const char *src, *want; } cases[] = {
        {"{{ 1 + 2 * 3 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % -3 }}|{{ 2 ** 10 }}|{{ 7 / 2 }}", "7|3|-4|-2|1024|3.5"},
        {"{{ 1e20 }}|{{ 0.1 + 0.2 }}|{{ 1/3 }}|{{ 1.0 }}|{{ 1e-5 }}", "1e+20|0.30000000000000004|0.3333333333333333|1.0|1e-05"},
        {"{{ none }}|{{ true }}|{{ [1, 'a', none] }}|{{ {'k': (1,)} }}", "None|True|[1, 'a', None]|{'k': (1,)}"},
        {"{{ s ~ n }}|{{ s[::-1] }}|{{ s[1:3] }}|{{ lst[-1] }}|{{ d.a }}|{{ d['b'] }}", "Hello7|olleH|el|2|1|2"},
        {"{{ 'x' if n > 5 else 'y' }}|{{ 1 < 2 < 3 }}|{{ 'a' in 'cat' }}|{{ 4 not in lst }}", "x|True|True|True"},
        {"{{ s.upper() }}|{{ ' a '.strip() }}|{{ 'a,b'.split(',') }}|{{ s.startswith('He') }}", "HELLO|a|['a', 'b']|True"},
        {"{{ lst|sort }}|{{ lst|join('-') }}|{{ d|dictsort }}|{{ lst|max }}|{{ s|length }}", "[1, 2, 3]|3-1-2|[('a', 1), ('b', 2)]|3|5"},
        {"{{ d|tojson }}|{{ messages[1].content|tojson }}|{{ lst|tojson(indent=1) }}", "{\"b\": 2, \"a\": 1}|\"hi \xc3\xa9\"|[\n 3,\n 1,\n 2\n]"},
        {"{{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|list }}", "['hi \xc3\xa9']"},
        {"{% for m in messages %}{{ loop.index }}{{ m.role[0] }}{% if not loop.last %},{% endif %}{% endfor %}", "1s,2u,3a"},
        {"{% set ns = namespace(c=0) %}{% for x in lst if x > 1 %}{% set ns.c = ns.c + x %}{% endfor %}{{ ns.c }}", "5"},
        {"{% macro m(a, b='d') %}{{ a }}{{ b }}{% endmacro %}{{ m(1) }}{{ m(2, b=3) }}", "1d23"},
        {"{% macro m() %}[{{ caller() }}]{% endmacro %}{% call m() %}in{% endcall %}", "[in]"},
        {"a\n  {% if true %}\n  b\n  {% endif %}\nc\n", "a\n  b\nc"},
        {"a  {{- 'b' -}}  c{# x #}", "abc"},
        {"{{ '%s=%05.1f' % ('x', 2.25) }}|{{ '{:>4}|{:.2f}'.format('a', 1) }}", "x=002.2|   a|1.00"},
        {"{{ strftime_now('%Y') is string }}|{{ range(3)|list }}|{{ dict(a=1) }}", "True|[0, 1, 2]|{'a': 1}"},
        {"{{ undefined_thing }}|{{ undefined_thing is defined }}|{{ undefined_thing|default('x') }}", "|False|x"},
        {"{% for i in range(10) %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}", "012"},
        {"{% raw %}{{ x }}{% endraw %}", "{{ x }}"},
    };
    for (size_t i = 0; i < RF_ARRAY_LEN(cases); i++) RF_CHECK(check_out(cases[i].src, cases[i].want));
}

static void test_errors(void) {
    /* parse errors name the line */
    RF_CHECK(check_err("a\nb\n{% if x %}\n", RF_ERR_TEMPLATE, "line 3: Unexpected end of template", NULL));
    RF_CHECK(check_err("line1\n{% endfor %}", RF_ERR_TEMPLATE, "line 2: Encountered unknown tag 'endfor'", NULL));
    RF_CHECK(check_err("\n\n{{ 1 + }}", RF_ERR_TEMPLATE, "line 3", NULL));
    RF_CHECK(check_err("{{ x | nosuchfilter }}", RF_ERR_TEMPLATE, "No filter named 'nosuchfilter'", NULL));
    RF_CHECK(check_err("{{ 'abc }}", RF_ERR_TEMPLATE, "line 1", NULL));
    RF_CHECK(check_err("{% for x in y %}{% macro m() %}{% break %}{% endmacro %}{% endfor %}", RF_ERR_TEMPLATE, "outside loop", NULL));
    RF_CHECK(check_err("\xff\xfe", RF_ERR_TEMPLATE, "UTF-8", NULL));
    /* runtime errors name the line too */
    RF_CHECK(check_err("a\nb\n\n{{ 1 // 0 }}", RF_ERR_TEMPLATE, "line 4: integer division or modulo by zero", NULL));
    RF_CHECK(check_err("{{ raise_exception('Roles must alternate') }}", RF_ERR_TEMPLATE, "Roles must alternate", NULL));
    RF_CHECK(check_err("\n{{ nope.attr }}", RF_ERR_TEMPLATE, "line 2: 'nope' is undefined", NULL));
    RF_CHECK(check_err("{{ d.missing.x }}", RF_ERR_TEMPLATE, "'dict object' has no attribute 'missing'", NULL));
    RF_CHECK(check_err("{{ 'a' + 1 }}", RF_ERR_TEMPLATE, "can only concatenate str", NULL));
    RF_CHECK(check_err("{% set a, b = [1] %}", RF_ERR_TEMPLATE, "not enough values to unpack", NULL));
    RF_CHECK(check_err("{{ lst|tojson(indent='x', bogus=1) }}", RF_ERR_TEMPLATE, "unexpected keyword argument 'bogus'", NULL));
    RF_CHECK(check_err("{{ 2 ** 64 }}", RF_ERR_TEMPLATE, "64 bits", NULL));
}

static void test_budgets(void) {
    rf_template_opts small;
    rf__template_opts_default(&small);
    small.max_steps = 200000;
    small.max_output = 1 << 20;
    small.max_memory = 16u << 20;
    small.max_depth = 50;
    double t0 = rf__now();
    RF_CHECK(check_err("{{ range(10**9)|length }}", RF_ERR_BUDGET, "range()", NULL));
    RF_CHECK(check_err("{% for i in range(10**9) %}{% endfor %}", RF_ERR_BUDGET, "sandbox limit", NULL));
    RF_CHECK(check_err("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", RF_ERR_BUDGET, "recursion", NULL));
    RF_CHECK(check_err("{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}", RF_ERR_BUDGET, "recursive loop", NULL));
    RF_CHECK(check_err("{{ 'a' * 10**9 }}", RF_ERR_BUDGET, "string repetition", NULL));
    RF_CHECK(check_err("{{ ['a'] * 10**9 }}", RF_ERR_BUDGET, "list repetition", NULL));
    RF_CHECK(check_err("{{ '%1000000000s' % 'x' }}", RF_ERR_BUDGET, NULL, NULL));
    RF_CHECK(check_err("{{ 'x'.center(10**9) }}", RF_ERR_BUDGET, NULL, NULL));
    /* nested loops: the default budget stops them, quickly */
    double t1 = rf__now();
    RF_CHECK(check_err("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                       RF_ERR_BUDGET, NULL, NULL));
    double nested_s = rf__now() - t1;
    RF_CHECK(nested_s < 30.0);
    RF_CHECK(check_err("{% for i in range(100000) %}{% for j in range(100000) %}{{ j }}{% endfor %}{% endfor %}",
                       RF_ERR_BUDGET, NULL, &small));
    /* output and memory caps */
    RF_CHECK(check_err("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", RF_ERR_BUDGET, "limit", &small));
    RF_CHECK(check_err("{% set ns = namespace(s='') %}{% for i in range(100000) %}{% set ns.s = ns.s ~ 'xxxxxxxxxxxxxxxxxxxxxx' %}{% endfor %}",
                       RF_ERR_BUDGET, NULL, &small));
    /* work on big strings is charged by size: comparing 1 MB strings in a loop ends quickly */
    t1 = rf__now();
    RF_CHECK(check_err("{% set big = 'x' * 1000000 %}{% for i in range(100000) %}{% if big == big ~ '' %}{% endif %}{% endfor %}",
                       RF_ERR_BUDGET, NULL, NULL));
    RF_CHECK(check_err("{% set big = 'xy' * 500000 %}{% for i in range(100000) %}{{ big[i] }}{% endfor %}", RF_ERR_BUDGET, NULL, NULL));
    fprintf(stderr, "big-string loops stopped after %.2f s\n", rf__now() - t1);
    /* exponential string growth */
    RF_CHECK(check_err("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
                       RF_ERR_BUDGET, NULL, NULL));
    /* deep syntax nesting */
    char deep[8192];
    size_t k = 0;
    for (int i = 0; i < 2000; i++) deep[k++] = '(';
    deep[k++] = '1';
    for (int i = 0; i < 2000; i++) deep[k++] = ')';
    deep[k] = '\0';
    char src[8300];
    snprintf(src, sizeof src, "{{ %s }}", deep);
    RF_CHECK(check_err(src, RF_ERR_BUDGET, "nested too deeply", NULL));
    k = (size_t)snprintf(src, sizeof src, "{{ ");
    for (int i = 0; i < 1000; i++) k += (size_t)snprintf(src + k, sizeof src - k, "[");
    RF_CHECK(check_err(src, RF_ERR_BUDGET, "nested too deeply", NULL));
    k = 0;
    for (int i = 0; i < 500; i++) k += (size_t)snprintf(src + k, sizeof src - k, "{%%if 1%%}");
    RF_CHECK(check_err(src, RF_ERR_BUDGET, "nested too deeply", NULL));
    k = 0;
    for (int i = 0; i < 3000 && k + 8 < sizeof src; i++) k += (size_t)snprintf(src + k, sizeof src - k, "not ");
    snprintf(src + k, sizeof src - k, "1");
    char src2[8400];
    snprintf(src2, sizeof src2, "{{ %s }}", src);
    RF_CHECK(check_err(src2, RF_ERR_BUDGET, "nested too deeply", NULL));
    /* deep and cyclic data */
    RF_CHECK(check_err("{% set ns = namespace(x=[]) %}{% for i in range(5000) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}",
                       RF_ERR_BUDGET, "nested too deeply", NULL));
    RF_CHECK(check_err("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}", RF_ERR_BUDGET, NULL, NULL));
    RF_CHECK(check_err("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns.me == ns }}{{ [ns]|tojson }}", RF_ERR_TEMPLATE,
                       "JSON serializable", NULL));
    /* time limit */
    rf_template_opts slow;
    rf__template_opts_default(&slow);
    slow.max_steps = UINT64_MAX / 2;
    slow.max_seconds = 0.2;
    t1 = rf__now();
    RF_CHECK(check_err("{% set r = range(100000) %}{% for i in r %}{% for j in r %}{% endfor %}{% endfor %}",
                       RF_ERR_BUDGET, "time limit", &slow));
    RF_CHECK(rf__now() - t1 < 5.0);
    /* deeply nested context data */
    char *nested = malloc(30000);
    k = (size_t)snprintf(nested, 30000, "{\"x\": ");
    for (int i = 0; i < 2000; i++) nested[k++] = '[';
    for (int i = 0; i < 2000; i++) nested[k++] = ']';
    nested[k++] = '}';
    nested[k] = '\0';
    json_error_t je;
    json_t *jn = json_loads(nested, 0, &je);
    free(nested);
    if (jn) {
        rf_template *t = NULL;
        rf_err err = {0};
        char *out = NULL;
        RF_CHECK(rf__template_parse("{{ x }}", 7, &t, &err) == RF_OK);
        RF_CHECK(rf__template_render(t, jn, NULL, &out, NULL, &err) == RF_ERR_BUDGET);
        RF_CHECK(out == NULL);
        rf__template_free(t);
        json_decref(jn);
    } else {
        RF_CHECK(strstr(je.text, "depth") != NULL); /* jansson refused it: also fine */
    }
    fprintf(stderr, "budget tests: %.2f s (nested loops to the default budget: %.2f s)\n", rf__now() - t0, nested_s);
}

static void test_sandbox(void) {
    RF_CHECK(check_out("{{ ''.__class__ }}|{{ s.__class__ }}|{{ d.__dict__ }}|{{ lst.__len__ }}|{{ d.__init__ }}", "||||"));
    RF_CHECK(check_out("{{ lst.append }}|{{ d.update is defined }}|{{ self }}|{{ config }}", "|False||"));
    RF_CHECK(check_err("{{ ''.__class__.__mro__ }}", RF_ERR_TEMPLATE, NULL, NULL));
    RF_CHECK(check_err("{{ messages.__class__.__init__.__globals__ }}", RF_ERR_TEMPLATE, NULL, NULL));
    RF_CHECK(check_err("{{ lst.append(4) }}", RF_ERR_TEMPLATE, "unsafe", NULL));
    RF_CHECK(check_err("{{ d.pop('a') }}", RF_ERR_TEMPLATE, "unsafe", NULL));
    RF_CHECK(check_err("{{ d.clear() }}", RF_ERR_TEMPLATE, "unsafe", NULL));
    RF_CHECK(check_err("{{ s.__class__() }}", RF_ERR_TEMPLATE, "unsafe", NULL));
    RF_CHECK(check_err("{% include 'x' %}", RF_ERR_TEMPLATE, "not supported", NULL));
    RF_CHECK(check_err("{% import 'os' as os %}", RF_ERR_TEMPLATE, "not supported", NULL));
    /* the list seen by the template is a copy: the caller's data is unchanged */
    json_t *ctx = ctx_json();
    char *before = json_dumps(ctx, JSON_SORT_KEYS), *out = NULL;
    rf_err err = {0};
    RF_CHECK(render("{% set messages = messages[1:] %}{% set ns = namespace(m=messages) %}{{ messages|length }}", ctx,
                    NULL, &out, &err) == RF_OK);
    RF_CHECK(out && strcmp(out, "2") == 0);
    char *after = json_dumps(ctx, JSON_SORT_KEYS);
    RF_CHECK(before && after && strcmp(before, after) == 0);
    free(before);
    free(after);
    rf__free(out);
    json_decref(ctx);
}

static void test_chat_apply(void) {
    json_error_t je;
    json_t *msgs = json_loads("[{\"role\": \"user\", \"content\": \"Hi\"}]", 0, &je);
    char *out = NULL;
    rf_err err = {0};
    const char *tpl = "{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"
                      "{% if tools is none %}[no tools]{% endif %}{% if add_generation_prompt %}<assistant>{% endif %}"
                      "{{ eos_token }}|{{ strftime_now('%Y') }}";
    RF_CHECK(rf__chat_apply(tpl, msgs, NULL, true, "<s>", "</s>", &out, &err) == RF_OK);
    RF_CHECK(out && strncmp(out, "<s><user>Hi[no tools]<assistant></s>|20", 39) == 0);
    rf__free(out);
    json_t *extra = json_loads("{\"bos_token\": \"B\", \"x\": 5}", 0, &je);
    rf_template_opts o;
    rf__template_opts_default(&o);
    o.fixed_time = true;
    o.now = 1735787045;
    size_t len = 0;
    const char *t2 = "{{ bos_token }}{{ x }}{{ strftime_now('%d %b %Y') }}";
    RF_CHECK(rf__chat_apply_ex(t2, strlen(t2), msgs, NULL, extra, false, "<s>",
                               NULL, &o, &out, &len, &err) == RF_OK);
    RF_CHECK(out && strcmp(out, "B502 Jan 2025") == 0 && len == 13);
    rf__free(out);
    RF_CHECK(rf__chat_apply("{{ messages[0].content + 1 }}", msgs, NULL, false, NULL, NULL, &out, &err) == RF_ERR_TEMPLATE);
    RF_CHECK(out == NULL && strstr(err.msg, "line 1") != NULL);
    RF_CHECK(rf__chat_apply(NULL, msgs, NULL, false, NULL, NULL, &out, &err) == RF_ERR_INVALID_ARG);
    json_decref(extra);
    json_decref(msgs);
    rf__template_free(NULL);
}

/* Fail the Nth allocation for N = 0, 1, ... until parse + render succeed:
 * every failure must be a clean error and nothing may leak. */
static void test_alloc_failures(void) {
    const char *tpl = "{%- set ns = namespace(n=0) -%}{% macro m(x) %}<{{ x|upper }}>{% endmacro %}"
                      "{% for msg in messages if msg.role != 'system' %}{% set ns.n = ns.n + 1 %}{{ m(msg.content) }}"
                      "{{ msg|tojson }}{{ loop.index }}{% endfor %}{{ ns.n }}{{ messages|map(attribute='role')|join(',') }}"
                      "{{ '%s-%d'|format('a', 2) }}{{ lst|sort|reverse|list }}{{ d|dictsort }}{{ 'a b c'.split() }}";
    json_t *ctx = ctx_json();
    size_t base = rf__alloc_live_blocks();
    int n, failures = 0, bad = 0;
    for (n = 0; n < 5000; n++) {
        rf__alloc_fail_after(n);
        char *out = NULL;
        rf_err err = {0};
        rf_status st = render(tpl, ctx, NULL, &out, &err);
        bool injected = rf__alloc_failed_injected();
        rf__alloc_fail_after(-1);
        if (st == RF_OK) {
            rf__free(out);
            if (!injected) break;
        } else {
            failures++;
            if (st != RF_ERR_NOMEM || out || !err.msg[0]) {
                bad++;
                fprintf(stderr, "  alloc failure %d: status %d (%s)\n", n, st, err.msg);
            }
        }
        if (rf__alloc_live_blocks() != base) {
            bad++;
            fprintf(stderr, "  alloc failure %d: %zu blocks leaked\n", n, rf__alloc_live_blocks() - base);
            base = rf__alloc_live_blocks();
        }
    }
    RF_CHECK(n < 5000 && failures > 10);
    RF_CHECK(bad == 0);
    fprintf(stderr, "allocation failures injected: %d, all clean\n", failures);
    json_decref(ctx);
}

typedef struct { const rf_template *t; const json_t *ctx; int ok; } thread_arg;

static void *thread_main(void *p) {
    thread_arg *a = p;
    a->ok = 1;
    for (int i = 0; i < 200; i++) {
        char *out = NULL;
        rf_err err = {0};
        if (rf__template_render(a->t, a->ctx, NULL, &out, NULL, &err) != RF_OK ||
            strcmp(out, "<system:sys><user:hi \xc3\xa9><assistant:yo>3") != 0)
            a->ok = 0;
        rf__free(out);
    }
    return NULL;
}

static void test_threads(void) {
    const char *src = "{% for m in messages %}<{{ m.role }}:{{ m.content }}>{% endfor %}{{ messages|length }}";
    rf_template *t = NULL;
    rf_err err = {0};
    json_t *ctx = ctx_json();
    RF_CHECK(rf__template_parse(src, strlen(src), &t, &err) == RF_OK);
    pthread_t th[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thread_arg){t, ctx, 0};
        pthread_create(&th[i], NULL, thread_main, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        RF_CHECK(args[i].ok);
    }
    rf__template_free(t);
    json_decref(ctx);
}

/* The deepest templates the limits allow must fit a 1 MiB thread stack (the
 * sanitizer build included): nesting is cut off with RF_ERR_BUDGET first. */
typedef struct { const char *src; rf_status parse, render; } stack_case;

static void *stack_main(void *p) {
    stack_case *sc = p;
    rf_template *t = NULL;
    rf_err err = {0};
    sc->render = RF_OK;
    sc->parse = rf__template_parse(sc->src, strlen(sc->src), &t, &err);
    if (sc->parse == RF_OK) {
        char *out = NULL;
        sc->render = rf__template_render(t, NULL, NULL, &out, NULL, &err);
        rf__free(out);
    }
    rf__template_free(t);
    return NULL;
}

static void test_stack(void) {
    static const char *const unit[][3] = { /* prefix, repeated open, repeated close */
        {"{{ ", "(", ")"}, {"{{ ", "x(", ")"}, {"{{ ", "[{'a': ", "}]"}, {"{{ ", "not -", ""},
        {"", "{% if 1 %}", "{% endif %}"}, {"", "{% for x in [1] %}", "{% endfor %}"},
        {"", "{% macro m() %}{{ caller() }}", "{% endmacro %}"}, {"{{ ", "1 if x else ", ""},
    };
    char *src = malloc(1 << 20);
    for (size_t u = 0; u < RF_ARRAY_LEN(unit); u++) {
        for (int n = 10; n <= 2000; n *= 3) {
            size_t k = (size_t)snprintf(src, 64, "%s", unit[u][0]);
            for (int i = 0; i < n; i++) k += (size_t)snprintf(src + k, 64, "%s", unit[u][1]);
            src[k++] = '1';
            for (int i = 0; i < n; i++) k += (size_t)snprintf(src + k, 64, "%s", unit[u][2]);
            if (unit[u][0][0]) k += (size_t)snprintf(src + k, 64, " }}");
            src[k] = '\0';
            stack_case sc = {src, -1, -1};
            pthread_attr_t a;
            pthread_t th;
            pthread_attr_init(&a);
            pthread_attr_setstacksize(&a, 1u << 20);
            RF_CHECK(pthread_create(&th, &a, stack_main, &sc) == 0);
            pthread_join(th, NULL);
            pthread_attr_destroy(&a);
            RF_CHECK(sc.parse == RF_OK || sc.parse == RF_ERR_BUDGET || sc.parse == RF_ERR_TEMPLATE);
            RF_CHECK(sc.render == RF_OK || sc.render == RF_ERR_BUDGET || sc.render == RF_ERR_TEMPLATE);
            if (n >= 2000) RF_CHECK(sc.parse == RF_ERR_BUDGET || sc.render == RF_ERR_BUDGET);
        }
    }
    /* deep macro recursion and deep values, rendered */
    static const char *const deep[] = {
        "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(100000) }}",
        "{% set ns = namespace(x=[]) %}{% for i in range(590) %}{% set ns.x = [ns.x] %}{% endfor %}"
        "{{ ns.x }}{{ ns.x|tojson }}{{ ns.x == ns.x }}{{ ns.x|string|length }}",
    };
    for (size_t i = 0; i < RF_ARRAY_LEN(deep); i++) {
        stack_case sc = {deep[i], -1, -1};
        pthread_attr_t a;
        pthread_t th;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 1u << 20);
        RF_CHECK(pthread_create(&th, &a, stack_main, &sc) == 0);
        pthread_join(th, NULL);
        pthread_attr_destroy(&a);
        RF_CHECK(sc.parse == RF_OK);
        RF_CHECK(sc.render == (i == 0 ? RF_ERR_BUDGET : RF_OK));
    }
    free(src);
}

/* Every input that once crashed the fuzzer renders (or fails) cleanly. */
static void test_corpus(void) {
    const char *srcdir = getenv("RF_SOURCE_DIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/corpus/template", srcdir ? srcdir : ".");
    DIR *d = opendir(dir);
    RF_CHECK(d != NULL);
    if (!d) { fprintf(stderr, "cannot open %s (set RF_SOURCE_DIR)\n", dir); return; }
    json_t *ctx = ctx_json();
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        static char buf[1 << 16];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        rf_template *t = NULL;
        rf_err err = {0};
        rf_status st = rf__template_parse(buf, len, &t, &err);
        RF_CHECK(st == RF_OK || st == RF_ERR_TEMPLATE || st == RF_ERR_BUDGET);
        if (st == RF_OK) {
            rf_template_opts o;
            rf__template_opts_default(&o);
            o.max_steps = 20000;
            o.max_output = 1 << 16;
            o.max_memory = 8u << 20;
            o.max_depth = 16;
            char *out = NULL;
            st = rf__template_render(t, ctx, &o, &out, NULL, &err);
            RF_CHECK(st == RF_OK || st == RF_ERR_TEMPLATE || st == RF_ERR_BUDGET);
            rf__free(out);
        }
        rf__template_free(t);
        n++;
    }
    closedir(d);
    json_decref(ctx);
    RF_CHECK(n > 0);
    fprintf(stderr, "replayed %d corpus inputs\n", n);
}

int main(void) {
    size_t base = rf__alloc_live_blocks();
    test_expressions();
    test_errors();
    test_budgets();
    test_sandbox();
    test_chat_apply();
    test_alloc_failures();
    test_threads();
    test_stack();
    test_corpus();
    RF_CHECK(rf__alloc_live_blocks() == base);
    return rf_test_finish("test_template");
}
