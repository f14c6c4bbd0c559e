/* dot_avx2.c - AVX2 (+FMA, F16C) dot products. */
#include <immintrin.h>

#include "cpu/dot_impl.h"

void rf__dot_fill_avx2(rf_dot_table *t) {
    (void)t;
}
