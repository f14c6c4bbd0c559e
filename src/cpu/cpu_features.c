/* cpu_features.c - run-time CPU feature detection. */
#include "cpu/cpu_features.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

static rf_cpu_features features;
static pthread_once_t features_once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__)
static uint64_t read_xcr0(void) {
    uint32_t lo, hi;
    /* XGETBV with ECX = 0 reads XCR0 (valid only when OSXSAVE is set). */
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void detect(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    bool osxsave = c & (1u << 27);
    bool cpu_avx = c & (1u << 28);
    bool cpu_fma = c & (1u << 12);
    bool cpu_f16c = c & (1u << 29);
    uint64_t xcr0 = osxsave ? read_xcr0() : 0;
    bool os_avx = (xcr0 & 0x6) == 0x6;       /* XMM and YMM state */
    bool os_avx512 = (xcr0 & 0xe6) == 0xe6;  /* + opmask, ZMM_Hi256, Hi16_ZMM */
    features.avx = cpu_avx && os_avx;
    features.fma = features.avx && cpu_fma;
    features.f16c = features.avx && cpu_f16c;

    unsigned max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf < 7) return;
    __cpuid_count(7, 0, a, b, c, d);
    unsigned max_sub = a;
    features.avx2 = features.avx && (b & (1u << 5));
    if (os_avx512 && features.avx) {
        features.avx512f = b & (1u << 16);
        features.avx512dq = features.avx512f && (b & (1u << 17));
        features.avx512bw = features.avx512f && (b & (1u << 30));
        features.avx512vl = features.avx512f && (b & (1u << 31));
        features.avx512vbmi = features.avx512f && (c & (1u << 1));
        features.avx512vnni = features.avx512f && (c & (1u << 11));
    }
    if (max_sub >= 1) {
        __cpuid_count(7, 1, a, b, c, d);
        features.avxvnni = features.avx2 && (a & (1u << 4));
        features.avx512bf16 = features.avx512f && (a & (1u << 5));
    }
}
#elif defined(__aarch64__)
static void detect(void) {
    features.neon = true; /* Advanced SIMD is mandatory on AArch64 */
#if defined(__linux__)
    unsigned long hw = getauxval(AT_HWCAP);
    features.fp16 = hw & (1ul << 9);      /* HWCAP_FPHP */
    features.dotprod = hw & (1ul << 20);  /* HWCAP_ASIMDDP */
    features.sve = hw & (1ul << 22);      /* HWCAP_SVE */
    unsigned long hw2 = getauxval(AT_HWCAP2);
    features.i8mm = hw2 & (1ul << 13);    /* HWCAP2_I8MM */
#endif
}
#else
static void detect(void) {}
#endif

const rf_cpu_features *rf__cpu_features(void) {
    pthread_once(&features_once, detect);
    return &features;
}

bool rf__cpu_has_avx2(void) {
    const rf_cpu_features *f = rf__cpu_features();
    return f->avx2 && f->fma && f->f16c;
}

bool rf__cpu_has_avx512(void) {
    const rf_cpu_features *f = rf__cpu_features();
    return rf__cpu_has_avx2() && f->avx512f && f->avx512bw && f->avx512vl && f->avx512dq &&
           f->avx512vnni;
}

void rf__cpu_features_string(char *buf, int size) {
    const rf_cpu_features *f = rf__cpu_features();
    static const struct { const char *name; size_t off; } names[] = {
#define F(x) { #x, offsetof(rf_cpu_features, x) }
        F(avx), F(avx2), F(fma), F(f16c), F(avx512f), F(avx512bw), F(avx512vl), F(avx512dq),
        F(avx512vnni), F(avx512bf16), F(avx512vbmi), F(avxvnni), F(neon), F(dotprod), F(fp16),
        F(i8mm), F(sve),
#undef F
    };
    int used = 0;
    if (size <= 0) return;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        bool on;
        memcpy(&on, (const char *)f + names[i].off, sizeof(on));
        if (!on) continue;
        int w = snprintf(buf + used, (size_t)(size - used), "%s%s", used ? " " : "", names[i].name);
        if (w < 0 || w >= size - used) break;
        used += w;
    }
}
