/* rf_tok_synth.c - writes the synthetic vocabularies of tests/tok_synth.h as
 * vocabulary-only GGUF files (llama architecture with tiny hyperparameters),
 * so that llama.cpp can tokenize with them too:
 *     rf_tok_synth OUTDIR  ->  OUTDIR/synth-{spm,spm-phi3,wpm,ugm,ugm-nocharsmap,bpe-gpt2,bpe-tekken}.gguf */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"
#include "tok_synth.h"

static char g_path[4096];

static rf_status write_gguf(const rf_vocab_desc *d, rf_tokenizer **out, rf_err *err) {
    rf_gguf_writer *w = NULL;
    rf_status st = rf_gguf_writer_create(&w);
    const char **toks = calloc(d->n_tokens + 1, sizeof *toks), **mer = calloc(d->n_merges + 1, sizeof *mer);
    *out = NULL;
    if (st || !toks || !mer) goto out;
    rf_gguf_writer_set_str(w, "general.architecture", "llama");
    if (d->name) rf_gguf_writer_set_str(w, "general.name", d->name);
    rf_gguf_writer_set_u32(w, "llama.block_count", 1);
    rf_gguf_writer_set_u32(w, "llama.context_length", 512);
    rf_gguf_writer_set_u32(w, "llama.embedding_length", 64);
    rf_gguf_writer_set_u32(w, "llama.feed_forward_length", 128);
    rf_gguf_writer_set_u32(w, "llama.attention.head_count", 4);
    rf_gguf_writer_set_u32(w, "llama.attention.head_count_kv", 4);
    rf_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    rf_gguf_writer_set_u32(w, "llama.vocab_size", d->n_tokens);
    rf_gguf_writer_set_u32(w, "llama.rope.dimension_count", 16);
    rf_gguf_writer_set_str(w, "tokenizer.ggml.model", d->model);
    if (d->pre) rf_gguf_writer_set_str(w, "tokenizer.ggml.pre", d->pre);
    for (uint32_t i = 0; i < d->n_tokens; i++) toks[i] = strndup(d->tokens[i].ptr, d->tokens[i].len);
    rf_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, d->n_tokens);
    if (d->scores) rf_gguf_writer_set_arr(w, "tokenizer.ggml.scores", RF_GGUF_F32, d->scores, d->n_tokens);
    if (d->types) rf_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", RF_GGUF_I32, d->types, d->n_tokens);
    if (d->n_merges) {
        for (uint32_t i = 0; i < d->n_merges; i++) mer[i] = strndup(d->merges[i].ptr, d->merges[i].len);
        rf_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", mer, d->n_merges);
    }
    if (d->charsmap_len)
        rf_gguf_writer_set_arr(w, "tokenizer.ggml.precompiled_charsmap", RF_GGUF_U8, d->charsmap, d->charsmap_len);
    const struct {
        const char *key;
        int64_t v;
    } ids[] = {{"bos", d->bos}, {"eos", d->eos}, {"unknown", d->unk}, {"seperator", d->sep},
               {"padding", d->pad}, {"mask", d->mask}};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        char key[64];
        snprintf(key, sizeof key, "tokenizer.ggml.%s_token_id", ids[i].key);
        if (ids[i].v >= 0) rf_gguf_writer_set_u32(w, key, (uint32_t)ids[i].v);
    }
    if (d->add_space_prefix >= 0) rf_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", d->add_space_prefix);
    if (d->remove_extra_ws >= 0)
        rf_gguf_writer_set_bool(w, "tokenizer.ggml.remove_extra_whitespaces", d->remove_extra_ws);
    st = rf_gguf_writer_write(w, g_path, NULL, NULL, err);
out:
    for (uint32_t i = 0; toks && i < d->n_tokens; i++) free((void *)toks[i]);
    for (uint32_t i = 0; mer && i < d->n_merges; i++) free((void *)mer[i]);
    free(toks);
    free(mer);
    rf_gguf_writer_free(w);
    if (st == RF_OK) printf("%s\n", g_path);
    return st ? st : RF_ERR_CANCELLED; /* no tokenizer is built */
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: rf_tok_synth OUTDIR\n");
        return 2;
    }
    rf_err err = {0};
    synth_sink = write_gguf;
#define OUT(name, call)                                                          \
    do {                                                                         \
        snprintf(g_path, sizeof g_path, "%s/synth-%s.gguf", argv[1], name);      \
        err.status = RF_OK;                                                      \
        call;                                                                    \
        if (err.status != RF_ERR_CANCELLED && err.status != RF_OK) {             \
            fprintf(stderr, "rf_tok_synth: %s: %s\n", g_path, err.msg);          \
            return 1;                                                            \
        }                                                                        \
    } while (0)
    OUT("spm", synth_spm(NULL, &err));
    OUT("spm-phi3", synth_spm("Phi3", &err));
    OUT("wpm", synth_wpm(&err));
    OUT("ugm", synth_ugm(true, &err));
    OUT("ugm-nocharsmap", synth_ugm(false, &err));
    OUT("bpe-gpt2", synth_bpe("gpt-2", NULL, &err));
    OUT("bpe-tekken", synth_bpe("tekken", NULL, &err));
    return 0;
}
