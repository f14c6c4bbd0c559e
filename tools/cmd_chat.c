/* cmd_chat.c - rocmforge chat: a conversation with the model's chat
 * template. Reads one user message per line from stdin (a terminal or a
 * pipe); the reply streams to stdout. The whole conversation is rendered
 * each turn and the KV cache keeps the part already seen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_opts.h"
#include "commands.h"

static const char usage[] =
    "usage: rocmforge chat -m MODEL.gguf [options]\n"
    "  -sys TEXT             system message\n"
    "  -n N                  tokens per reply at most (-1 = no limit; default -1)\n"
    "  -c N, -b N, -t N      context size, batch size, threads\n"
    "  --temp, --top-k, --top-p, --min-p, --seed, --repeat-penalty, --repeat-last-n,\n"
    "  --presence-penalty, --frequency-penalty, --stop   as for 'rocmforge run'\n"
    "Type a message and press Enter; an empty line is skipped; end of input quits.\n";

typedef struct {
    char *buf;
    size_t n, cap;
    bool failed;
} text_buf;

static int on_piece(const char *piece, size_t len, void *user) {
    text_buf *t = user;
    fwrite(piece, 1, len, stdout);
    fflush(stdout);
    if (t->n + len + 1 > t->cap) {
        size_t cap = (t->n + len + 1) * 2;
        char *nb = realloc(t->buf, cap);
        if (!nb) {
            t->failed = true;
            return 1;
        }
        t->buf = nb;
        t->cap = cap;
    }
    memcpy(t->buf + t->n, piece, len);
    t->n += len;
    t->buf[t->n] = '\0';
    return 0;
}

typedef struct {
    rf_chat_message *msgs;
    char **owned;
    size_t n, cap;
} history;

static bool push_msg(history *h, const char *role, const char *content) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        rf_chat_message *nm = realloc(h->msgs, cap * sizeof *nm);
        if (!nm) return false;
        h->msgs = nm;
        char **no = realloc(h->owned, cap * sizeof *no);
        if (!no) return false;
        h->owned = no;
        h->cap = cap;
    }
    char *copy = strdup(content);
    if (!copy) return false;
    h->owned[h->n] = copy;
    h->msgs[h->n++] = (rf_chat_message){role, copy};
    return true;
}

static void free_history(history *h) {
    for (size_t i = 0; i < h->n; i++) free(h->owned[i]);
    free(h->owned);
    free(h->msgs);
}

/* Renders the conversation; returns a heap string or NULL. */
static char *render(rf_model *m, const history *h) {
    size_t len = 0;
    char err[512];
    rf_status st = rf_chat_apply_template(m, NULL, h->msgs, h->n, true, NULL, 0, &len, err, sizeof err);
    if (st != RF_ERR_RANGE) {
        fprintf(stderr, "error: chat template: %s (%s)\n", err, rf_status_str(st));
        return NULL;
    }
    char *out = malloc(len + 1);
    if (!out) return NULL;
    st = rf_chat_apply_template(m, NULL, h->msgs, h->n, true, out, len + 1, &len, err, sizeof err);
    if (st != RF_OK) {
        fprintf(stderr, "error: chat template: %s (%s)\n", err, rf_status_str(st));
        free(out);
        return NULL;
    }
    return out;
}

int rf_cmd_chat(int argc, char **argv) {
    cli_opts o = {.n_predict = -1, .show_stats = true, .warmup = true};
    o.cp = rf_context_params_default();
    o.sp = rf_sampling_params_default();
    int rc = cli_parse(argc, argv, &o, false, usage);
    if (rc) return rc == 1 ? 0 : rc;
    rf_model *m = NULL;
    rf_context *c = NULL;
    history h = {0};
    char *line = NULL;
    size_t line_cap = 0;
    rc = 1;
    m = cli_load_model(o.model);
    if (!m) goto out;
    if (!rf_model_chat_template(m)) {
        fprintf(stderr, "error: the model has no chat template (tokenizer.chat_template); use 'rocmforge run'\n");
        goto out;
    }
    char err[512];
    if (rf_context_create(m, &o.cp, &c, err, sizeof err) != RF_OK) {
        fprintf(stderr, "error: %s\n", err);
        goto out;
    }
    if (o.system && !push_msg(&h, "system", o.system)) goto oom;
    /* BOS text written by the template itself must not be added again */
    char bos[256];
    size_t bos_len = 0;
    rf_token bt = rf_token_bos(m);
    if (bt < 0 || rf_token_to_piece(m, bt, true, bos, sizeof bos, &bos_len) != RF_OK) bos_len = 0;

    bool tty = isatty(0);
    if (tty) fprintf(stderr, "chat with %s; end with Ctrl-D\n", rf_model_desc(m));
    for (;;) {
        if (tty) {
            fputs("> ", stderr);
            fflush(stderr);
        }
        ssize_t got = getline(&line, &line_cap, stdin);
        if (got < 0) break;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r')) line[--got] = '\0';
        if (got == 0) continue;
        if (!push_msg(&h, "user", line)) goto oom;
        char *prompt = render(m, &h);
        if (!prompt) goto out;
        rf_sampling_params sp = o.sp;
        sp.add_special = (bos_len && strncmp(prompt, bos, bos_len) == 0) ? 0 : -1;
        sp.parse_special = true;
        text_buf reply = {0};
        rf_generate_stats gs;
        rf_status st = rf_generate(c, prompt, &sp, on_piece, &reply, &gs);
        free(prompt);
        fputc('\n', stdout);
        fflush(stdout);
        if (st != RF_OK || reply.failed) {
            fprintf(stderr, "error: %s (%s)\n", reply.failed ? "out of memory" : rf_context_error(c),
                    rf_status_str(st));
            free(reply.buf);
            goto out;
        }
        bool ok = push_msg(&h, "assistant", reply.buf ? reply.buf : "");
        free(reply.buf);
        if (!ok) goto oom;
        if (o.show_stats && tty)
            fprintf(stderr, "[%u prompt tokens (%u cached), %u generated, %.1f t/s]\n", gs.n_prompt,
                    gs.n_prompt_cached, gs.n_generated,
                    gs.t_gen_s > 0 ? gs.n_generated / gs.t_gen_s : 0.0);
        if (gs.stop == RF_STOP_CONTEXT_FULL) {
            fprintf(stderr, "the context is full (%u tokens); start a new chat or raise -c\n",
                    rf_context_n_ctx(c));
            break;
        }
    }
    rc = 0;
    goto out;
oom:
    fprintf(stderr, "error: out of memory\n");
out:
    free(line);
    free_history(&h);
    rf_context_free(c);
    rf_model_free(m);
    cli_opts_free(&o);
    return rc;
}
