/* vexp.c - scalar block exp and the row helpers (see vexp.h). */
#include <math.h>
#include <pthread.h>

#include "cpu/cpu_features.h"
#include "cpu/vexp.h"

/* Constants of the routine: 1/ln2, ln2 split in two parts, the polynomial. */
#define VEXP_SHIFT 0x1.8p23f
#define VEXP_INV_LN2 0x1.715476p+0f
#define VEXP_LN2_HI 0x1.62e4p-1f
#define VEXP_LN2_LO 0x1.7f7d1cp-20f
#define VEXP_C1 0x1.ffffecp-1f
#define VEXP_C2 0x1.fffdb6p-2f
#define VEXP_C3 0x1.555e66p-3f
#define VEXP_C4 0x1.573e2ep-5f
#define VEXP_C5 0x1.0e4020p-7f

float rf__vexpf_ref(float x) {
    float z = fmaf(x, VEXP_INV_LN2, VEXP_SHIFT);
    float n = z - VEXP_SHIFT;                                  /* round(x / ln2) */
    float b = fmaf(-n, VEXP_LN2_LO, fmaf(-n, VEXP_LN2_HI, x)); /* x - n ln2 */
    float u = b * b;
    float p = fmaf(fmaf(fmaf(VEXP_C5, b, VEXP_C4), u, fmaf(VEXP_C3, b, VEXP_C2)), u,
                   fmaf(VEXP_C1, b, 1.0f));
    if (isnan(n)) return n;
    if (fabsf(n) > 192.0f) return n <= 0.0f ? 0.0f : INFINITY;
    return ldexpf(p, (int)n);
}

static void vexp16_scalar(const float *x, float *y) {
    for (int i = 0; i < 16; i++) y[i] = rf__vexpf_ref(x[i]);
}

rf_vexp16_fn rf__vexp16_scalar(void) { return vexp16_scalar; }

#if defined(__x86_64__)
rf_vexp16_fn rf__vexp16_avx2_impl(void);
rf_vexp16_fn rf__vexp16_avx512_impl(void);
rf_vexp16_fn rf__vexp16_avx2(void) { return rf__cpu_has_avx2() ? rf__vexp16_avx2_impl() : NULL; }
rf_vexp16_fn rf__vexp16_avx512(void) {
    const rf_cpu_features *f = rf__cpu_features();
    return f->avx512f && f->avx512dq && f->fma ? rf__vexp16_avx512_impl() : NULL;
}
#else
rf_vexp16_fn rf__vexp16_avx2(void) { return NULL; }
rf_vexp16_fn rf__vexp16_avx512(void) { return NULL; }
#endif

static rf_vexp16_fn best;
static pthread_once_t best_once = PTHREAD_ONCE_INIT;

static void choose(void) {
    best = rf__vexp16_avx512();
    if (!best) best = rf__vexp16_avx2();
    if (!best) best = vexp16_scalar;
}

rf_vexp16_fn rf__vexp16(void) {
    pthread_once(&best_once, choose);
    return best;
}

void rf__cpu_swiglu_row(int64_t n, const float *g, const float *u, float *y) {
    rf_vexp16_fn ex = rf__vexp16();
    int64_t i = 0;
    float ng[16], e[16];
    for (; i + 16 <= n; i += 16) {
        for (int k = 0; k < 16; k++) ng[k] = 0.0f - g[i + k];
        ex(ng, e);
        for (int k = 0; k < 16; k++) y[i + k] = (g[i + k] / (1.0f + e[k])) * u[i + k];
    }
    for (; i < n; i++) y[i] = (g[i] / (1.0f + expf(-g[i]))) * u[i];
}

double rf__cpu_exp_sum_row(int64_t n, const float *x, float mx, float *y) {
    rf_vexp16_fn ex = rf__vexp16();
    double sum = 0.0;
    int64_t i = 0;
    float d[16];
    for (; i + 16 <= n; i += 16) {
        for (int k = 0; k < 16; k++) d[k] = x[i + k] - mx;
        ex(d, y + i);
        sum += (double)rf__reduce16(y + i);
    }
    for (; i < n; i++) {
        y[i] = expf(x[i] - mx);
        sum += (double)y[i];
    }
    return sum;
}
