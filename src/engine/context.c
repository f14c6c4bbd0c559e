/*
 * context.c - an evaluation context: the KV cache and the per-batch-size
 * graphs that are built once and replayed.
 *
 * A graph is keyed by (number of tokens, all logits or only the last). The
 * token ids and positions of a step are uploaded into the graph's input
 * tensors, so the same graph (and on a GPU the same captured launch
 * sequence) serves every decode step. A few graphs are cached (least
 * recently used goes): decode (1 token), full prefill chunks (n_batch) and
 * the last partial chunk cover almost all calls.
 */
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"

static void drop_graph(rf_ctx_graph *cg) {
    rf__graph_free(cg->g);
    memset(cg, 0, sizeof *cg);
}

void rf__ctx_impl_free(rf_ctx_impl *c) {
    if (!c) return;
    for (int i = 0; i < RF_CTX_GRAPHS; i++) drop_graph(&c->graphs[i]);
    rf__buffer_free(c->kv_buf);
    rf__free(c->kv);
    rf__free(c->k_ptrs);
    rf__free(c->v_ptrs);
    rf__free(c->pos_scratch);
    rf__backend_free(c->be);
    rf__free(c);
}

rf_status rf__ctx_impl_create(rf_model_impl *m, uint32_t n_ctx, uint32_t n_batch, int n_threads,
                              rf_type kv_type, rf_ctx_impl **out, rf_err *err) {
    rf_status st;
    *out = NULL;
    const rf_hparams *hp = &m->hp;
    if (n_ctx == 0) n_ctx = RF_MIN(hp->n_ctx_train, 4096u);
    if (n_batch == 0) n_batch = 512;
    if (n_ctx > (1u << 24)) return rf__err(err, RF_ERR_INVALID_ARG, "n_ctx %u too large", n_ctx);
    if (n_batch > 65536) return rf__err(err, RF_ERR_INVALID_ARG, "n_batch %u too large", n_batch);
    if (kv_type != RF_TYPE_F16 && kv_type != RF_TYPE_F32)
        return rf__err(err, RF_ERR_INVALID_ARG, "KV cache type must be F16 or F32");
    if (n_batch > n_ctx) n_batch = n_ctx;

    rf_ctx_impl *c = rf__calloc(1, sizeof *c);
    if (!c) return rf__err(err, RF_ERR_NOMEM, "out of memory");
    c->m = m;
    c->n_ctx = n_ctx;
    c->n_batch = n_batch;
    c->kv_type = kv_type;
    st = rf__cpu_backend_create(n_threads, &c->be, err);
    if (st != RF_OK) goto fail;
    c->n_threads = n_threads;

    uint32_t L = hp->n_layer;
    c->kv = rf__calloc(2 * (size_t)L, sizeof *c->kv);
    c->k_ptrs = rf__calloc(L, sizeof *c->k_ptrs);
    c->v_ptrs = rf__calloc(L, sizeof *c->v_ptrs);
    c->pos_scratch = rf__calloc(n_batch, sizeof *c->pos_scratch);
    if (!c->kv || !c->k_ptrs || !c->v_ptrs || !c->pos_scratch) {
        st = rf__err(err, RF_ERR_NOMEM, "out of memory");
        goto fail;
    }
    /* sizes of every layer's K and V rows, checked */
    size_t esz = kv_type == RF_TYPE_F16 ? 2 : 4;
    uint64_t total = 0;
    for (uint32_t l = 0; l < L; l++) {
        uint64_t rk = (uint64_t)hp->head_dim_k * hp->n_head_kv[l] * esz;
        uint64_t rv = (uint64_t)hp->head_dim_v * hp->n_head_kv[l] * esz;
        uint64_t a, b;
        if (!rf__mul_ok(rk, n_ctx, &a) || !rf__mul_ok(rv, n_ctx, &b) || !rf__add_ok(total, a, &total) ||
            !rf__add_ok(total, b, &total)) {
            st = rf__err(err, RF_ERR_NOMEM, "KV cache size overflows");
            goto fail;
        }
    }
    st = rf__buffer_alloc(c->be, (size_t)total, &c->kv_buf, err);
    if (st != RF_OK) {
        st = rf__err(err, RF_ERR_NOMEM, "cannot allocate the KV cache: %llu MiB for %u positions",
                     (unsigned long long)(total >> 20), n_ctx);
        goto fail;
    }
    c->kv_bytes = (size_t)total;
    size_t off = 0;
    for (uint32_t l = 0; l < L; l++) {
        int64_t rk = (int64_t)hp->head_dim_k * hp->n_head_kv[l];
        int64_t rv = (int64_t)hp->head_dim_v * hp->n_head_kv[l];
        char name[32];
        snprintf(name, sizeof name, "cache_k_l%u", l);
        rf__tensor_init_external(&c->kv[l], c->kv_buf, off, kv_type, rk, n_ctx, 1, 1, name);
        off += rf__tensor_nbytes(&c->kv[l]);
        snprintf(name, sizeof name, "cache_v_l%u", l);
        rf__tensor_init_external(&c->kv[L + l], c->kv_buf, off, kv_type, rv, n_ctx, 1, 1, name);
        off += rf__tensor_nbytes(&c->kv[L + l]);
        c->k_ptrs[l] = &c->kv[l];
        c->v_ptrs[l] = &c->kv[L + l];
    }
    /* positions never written are never read (attention stops at pos), but
     * a defined cache makes runs reproducible under memory checkers */
    if (c->be->iface->buffer_memset) {
        st = c->be->iface->buffer_memset(c->kv_buf, 0, 0, c->kv_bytes, err);
        if (st != RF_OK) goto fail;
    }
    *out = c;
    return RF_OK;
fail:
    rf__ctx_impl_free(c);
    return st;
}

static rf_status build_graph(rf_ctx_impl *c, int64_t n, bool all, rf_ctx_graph *cg, rf_err *err) {
    rf_status st = rf__graph_create(c->be, &cg->g, err);
    if (st != RF_OK) return st;
    rf_build b = {
        .m = c->m,
        .hp = &c->m->hp,
        .w = &c->m->w,
        .g = cg->g,
        .n_tokens = n,
        .k_cache = c->k_ptrs,
        .v_cache = c->v_ptrs,
        .all_logits = all,
    };
    b.tokens = cg->tokens = rf__g_input(cg->g, RF_TYPE_I32, n, 1, "tokens");
    b.pos = cg->pos = rf__g_input(cg->g, RF_TYPE_I32, n, 1, "positions");
    cg->logits = c->m->arch->build(&b);
    rf__g_set_output(cg->g, cg->logits);
    st = rf__graph_alloc(cg->g, err);
    if (st == RF_OK && (!cg->logits || cg->logits->ne[0] != c->m->hp.n_vocab ||
                        cg->logits->ne[1] != (all ? n : 1)))
        st = rf__err(err, RF_ERR_INTERNAL, "%s: the graph does not produce logits of the expected shape",
                     c->m->hp.arch);
    if (st != RF_OK) {
        drop_graph(cg);
        return st;
    }
    cg->n_tokens = n;
    cg->all_logits = all;
    return RF_OK;
}

static rf_status get_graph(rf_ctx_impl *c, int64_t n, bool all, rf_ctx_graph **out, rf_err *err) {
    rf_ctx_graph *victim = &c->graphs[0];
    for (int i = 0; i < RF_CTX_GRAPHS; i++) {
        rf_ctx_graph *cg = &c->graphs[i];
        if (cg->g && cg->n_tokens == n && cg->all_logits == all) {
            cg->last_used = ++c->tick;
            *out = cg;
            return RF_OK;
        }
        if (!cg->g || (victim->g && cg->last_used < victim->last_used)) victim = cg;
    }
    drop_graph(victim);
    rf_status st = build_graph(c, n, all, victim, err);
    if (st != RF_OK) return st;
    victim->last_used = ++c->tick;
    *out = victim;
    return RF_OK;
}

rf_status rf__ctx_eval(rf_ctx_impl *c, const int32_t *tokens, uint32_t n, bool all_logits,
                       float *logits, rf_err *err) {
    const uint32_t n_vocab = c->m->hp.n_vocab;
    if (n == 0) return RF_OK;
    if (n > c->n_ctx - c->n_past)
        return rf__err(err, RF_ERR_CONTEXT_FULL, "%u tokens do not fit: %u of %u positions used", n,
                       c->n_past, c->n_ctx);
    for (uint32_t i = 0; i < n; i++)
        if (tokens[i] < 0 || (uint32_t)tokens[i] >= n_vocab)
            return rf__err(err, RF_ERR_RANGE, "token id %d outside the vocabulary (0..%u)", tokens[i],
                           n_vocab - 1);
    for (uint32_t done = 0; done < n;) {
        uint32_t k = RF_MIN(c->n_batch, n - done);
        bool last = done + k == n;
        rf_ctx_graph *cg;
        rf_status st = get_graph(c, k, all_logits, &cg, err);
        if (st != RF_OK) return st;
        for (uint32_t i = 0; i < k; i++) c->pos_scratch[i] = (int32_t)(c->n_past + i);
        st = rf__tensor_upload(cg->tokens, tokens + done, (size_t)k * sizeof(int32_t), err);
        if (st == RF_OK) st = rf__tensor_upload(cg->pos, c->pos_scratch, (size_t)k * sizeof(int32_t), err);
        if (st == RF_OK) st = rf__graph_compute(cg->g, err);
        if (st != RF_OK) return st;
        c->n_past += k;
        if (logits && all_logits)
            st = rf__tensor_download(cg->logits, logits + (size_t)done * n_vocab,
                                     (size_t)k * n_vocab * sizeof(float), err);
        else if (logits && last)
            st = rf__tensor_download(cg->logits, logits, (size_t)n_vocab * sizeof(float), err);
        if (st != RF_OK) return st;
        done += k;
    }
    return RF_OK;
}

void rf__ctx_truncate(rf_ctx_impl *c, uint32_t n_past) {
    if (n_past < c->n_past) c->n_past = n_past;
}
