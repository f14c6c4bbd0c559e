/*
 * cpu_features.h - what the CPU we run on can execute, detected once at run
 * time (CPUID + XGETBV on x86-64, HWCAP on AArch64). A feature counts only if
 * both the CPU and the operating system support it (the OS must save the
 * AVX / AVX-512 register state on context switches).
 */
#ifndef RF_CPU_FEATURES_H
#define RF_CPU_FEATURES_H

#include <stdbool.h>

typedef struct rf_cpu_features {
    /* x86-64 */
    bool avx, avx2, fma, f16c;
    bool avx512f, avx512bw, avx512vl, avx512dq, avx512vnni, avx512bf16, avx512vbmi;
    bool avxvnni;
    /* AArch64 */
    bool neon, dotprod, fp16, i8mm, sve;
} rf_cpu_features;

/* The features of this CPU; detected on the first call, then cached. */
const rf_cpu_features *rf__cpu_features(void);

/* True if this CPU runs our AVX2 kernels (AVX2 + FMA + F16C). */
bool rf__cpu_has_avx2(void);
/* True if this CPU runs our AVX-512 kernels (F, BW, VL, DQ, VNNI). */
bool rf__cpu_has_avx512(void);

/* Fills buf with a space-separated list of the detected features. */
void rf__cpu_features_string(char *buf, int size);

#endif /* RF_CPU_FEATURES_H */
