/*
 * rf_tmpl - render chat templates for the Python tests: one JSON request per
 * input line, one JSON answer per output line, in one process.
 *
 * Request fields:
 *   "template": path of a template file (parsed once, cached) or
 *   "source":   template text
 *   "context":  JSON object of globals                 (rendered with rf__template_render)
 *   "chat":     {"messages", "tools", "add_generation_prompt", "bos_token",
 *                "eos_token", "extra"}                  (rendered with rf__chat_apply_ex)
 *   "now":      fixed UNIX time for strftime_now (UTC)
 *   "max_steps", "max_output", "max_memory", "max_depth": limits (optional)
 * Answer: {"ok": true, "out": "..."} or {"ok": false, "status": N, "error": "..."}
 *
 * Usage: rf_tmpl [FILE]   (reads FILE or stdin)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "template/template.h"

typedef struct cached { char *path; char *src; size_t len; rf_template *t; rf_status st; rf_err err; } cached;

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) *len = n;
    return buf;
}

static void answer(rf_status st, const char *out, size_t out_len, const rf_err *err) {
    json_t *a = json_object();
    json_object_set_new(a, "ok", json_boolean(st == RF_OK));
    if (st == RF_OK) {
        json_object_set_new(a, "out", json_stringn(out, out_len));
    } else {
        json_object_set_new(a, "status", json_integer(st));
        json_object_set_new(a, "error", json_string(err->msg));
    }
    char *s = json_dumps(a, JSON_COMPACT);
    puts(s ? s : "{\"ok\": false, \"status\": -1, \"error\": \"cannot encode answer\"}");
    fflush(stdout);
    free(s);
    json_decref(a);
}

int main(int argc, char **argv) {
    FILE *in = argc > 1 ? fopen(argv[1], "rb") : stdin;
    if (!in) { perror(argv[1]); return 2; }
    cached cache[64];
    int ncache = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, in)) > 0) {
        json_error_t jerr;
        json_t *req = json_loadb(line, (size_t)len, JSON_ALLOW_NUL, &jerr);
        rf_err err = {0};
        if (!req) {
            snprintf(err.msg, sizeof err.msg, "bad request: %s", jerr.text);
            answer(RF_ERR_INVALID_ARG, NULL, 0, &err);
            continue;
        }
        rf_template_opts o;
        rf__template_opts_default(&o);
        json_t *now = json_object_get(req, "now");
        if (json_is_integer(now)) { o.fixed_time = true; o.now = json_integer_value(now); }
        if (json_is_integer(json_object_get(req, "max_steps"))) o.max_steps = (uint64_t)json_integer_value(json_object_get(req, "max_steps"));
        if (json_is_integer(json_object_get(req, "max_output"))) o.max_output = (size_t)json_integer_value(json_object_get(req, "max_output"));
        if (json_is_integer(json_object_get(req, "max_memory"))) o.max_memory = (size_t)json_integer_value(json_object_get(req, "max_memory"));
        if (json_is_integer(json_object_get(req, "max_depth"))) o.max_depth = (uint32_t)json_integer_value(json_object_get(req, "max_depth"));

        const char *src = NULL;
        size_t src_len = 0;
        char *owned = NULL;
        rf_template *t = NULL;
        rf_status st = RF_OK;
        const char *path = json_string_value(json_object_get(req, "template"));
        json_t *jsrc = json_object_get(req, "source");
        if (path) {
            int k;
            for (k = 0; k < ncache; k++) if (!strcmp(cache[k].path, path)) break;
            if (k == ncache) {
                if (ncache == (int)(sizeof cache / sizeof cache[0])) {
                    snprintf(err.msg, sizeof err.msg, "too many templates");
                    answer(RF_ERR_INVALID_ARG, NULL, 0, &err);
                    json_decref(req);
                    continue;
                }
                cached *e = &cache[ncache++];
                memset(e, 0, sizeof *e);
                e->path = strdup(path);
                e->src = read_file(path, &e->len);
                if (!e->src) {
                    e->st = RF_ERR_IO;
                    snprintf(e->err.msg, sizeof e->err.msg, "cannot read %s", path);
                } else {
                    e->st = rf__template_parse(e->src, e->len, &e->t, &e->err);
                }
            }
            cached *e = &cache[k];
            src = e->src;
            src_len = e->len;
            t = e->t;
            st = e->st;
            err = e->err;
        } else if (json_is_string(jsrc)) {
            src = json_string_value(jsrc);
            src_len = json_string_length(jsrc);
        } else {
            snprintf(err.msg, sizeof err.msg, "request needs \"template\" or \"source\"");
            answer(RF_ERR_INVALID_ARG, NULL, 0, &err);
            json_decref(req);
            continue;
        }
        char *out = NULL;
        size_t out_len = 0;
        json_t *chat = json_object_get(req, "chat");
        if (json_is_object(chat)) {
            json_t *gp = json_object_get(chat, "add_generation_prompt");
            st = rf__chat_apply_ex(src, src_len, json_object_get(chat, "messages"),
                                   json_is_null(json_object_get(chat, "tools")) ? NULL : json_object_get(chat, "tools"),
                                   json_object_get(chat, "extra"), json_is_true(gp),
                                   json_string_value(json_object_get(chat, "bos_token")),
                                   json_string_value(json_object_get(chat, "eos_token")), &o, &out, &out_len, &err);
        } else if (st == RF_OK) {
            if (!t && (st = rf__template_parse(src, src_len, &t, &err)) == RF_OK) {
                st = rf__template_render(t, json_object_get(req, "context"), &o, &out, &out_len, &err);
                rf__template_free(t);
            } else if (t) {
                st = rf__template_render(t, json_object_get(req, "context"), &o, &out, &out_len, &err);
            }
        }
        answer(st, out, out_len, &err);
        rf__free(out);
        free(owned);
        json_decref(req);
    }
    free(line);
    for (int k = 0; k < ncache; k++) {
        rf__template_free(cache[k].t);
        free(cache[k].src);
        free(cache[k].path);
    }
    if (in != stdin) fclose(in);
    return 0;
}
