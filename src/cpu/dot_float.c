/* dot_float.c - scalar dot products of F32, F16 and BF16 weights with
 * activations of the same type, and the activation converters. Sums are
 * kept in double, as ggml's generic code does. */
#include "core/core.h"
#include "cpu/dot_impl.h"

static void act_f32(const float *x, void *dst, int64_t n) {
    memcpy(dst, x, (size_t)n * sizeof(float));
}

static void act_f16(const float *x, void *dst, int64_t n) {
    uint16_t *y = dst;
    for (int64_t i = 0; i < n; i++) y[i] = rf__fp32_to_fp16(x[i]);
}

static void act_bf16(const float *x, void *dst, int64_t n) {
    uint16_t *y = dst;
    for (int64_t i = 0; i < n; i++) y[i] = rf__fp32_to_bf16(x[i]);
}

static void dot_f32(int64_t n, float *s, const void *w, const void *a) {
    const float *x = w, *y = a;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)(x[i] * y[i]);
    *s = (float)sum;
}

static void dot_f16(int64_t n, float *s, const void *w, const void *a) {
    const uint16_t *x = w, *y = a;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)(rf__h2f(x[i]) * rf__h2f(y[i]));
    *s = (float)sum;
}

static inline float bf16(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static void dot_bf16(int64_t n, float *s, const void *w, const void *a) {
    const uint16_t *x = w, *y = a;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)(bf16(x[i]) * bf16(y[i]));
    *s = (float)sum;
}

void rf__dot_fill_float(rf_dot_table *t) {
    t->dot[RF_TYPE_F32] = dot_f32;
    t->dot[RF_TYPE_F16] = dot_f16;
    t->dot[RF_TYPE_BF16] = dot_bf16;
    t->quant[RF_TYPE_F32] = act_f32;
    t->quant[RF_TYPE_F16] = act_f16;
    t->quant[RF_TYPE_BF16] = act_bf16;
}
