/* test_iq_grids.c - the i-quant grid tables (sizes, entries copied from ggml's
 * ggml-common.h, internal consistency) and two hand-built blocks decoded
 * through the type table. The full comparison against gguf's dequantizers is
 * tests/py/test_dequant.py. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "quant/iq_grids.h"
#include "quant/quant.h"
#include "rf_test.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void test_sizes(void) {
    RF_CHECK(N_OF(rf__iq2xxs_grid) == 256);
    RF_CHECK(N_OF(rf__iq2xs_grid) == 512);
    RF_CHECK(N_OF(rf__iq2s_grid) == 1024);
    RF_CHECK(N_OF(rf__iq3xxs_grid) == 256);
    RF_CHECK(N_OF(rf__iq3s_grid) == 512);
    RF_CHECK(N_OF(rf__iq1s_grid) == RF_NGRID_IQ1S && RF_NGRID_IQ1S == 2048);
    RF_CHECK(N_OF(rf__iq1s_grid_gpu) == 2048);
    RF_CHECK(N_OF(rf__ksigns_iq2xs) == 128);
    RF_CHECK(N_OF(rf__ksigns64) == 128);
    RF_CHECK(N_OF(rf__kmask_iq2xs) == 8);
    RF_CHECK(RF_IQ1S_DELTA == 0.125f && RF_IQ1M_DELTA == 0.125f);
}

/* Entries as printed in ggml-common.h (first, last and a few in between). */
static void test_known_entries(void) {
    RF_CHECK(rf__iq2xxs_grid[0] == 0x0808080808080808ull);
    RF_CHECK(rf__iq2xxs_grid[1] == 0x080808080808082bull);
    RF_CHECK(rf__iq2xxs_grid[32] == 0x0808190808080819ull);
    RF_CHECK(rf__iq2xxs_grid[255] == 0x2b2b2b1908081908ull);

    RF_CHECK(rf__iq2xs_grid[7] == 0x080808080819192bull);
    RF_CHECK(rf__iq2xs_grid[508] == 0x2b2b2b2b082b2b08ull);
    RF_CHECK(rf__iq2xs_grid[510] == 0x2b2b2b2b2b190819ull);
    RF_CHECK(rf__iq2xs_grid[511] == 0x2b2b2b2b2b2b2b2bull);

    RF_CHECK(rf__iq2s_grid[23] == 0x08080808192b192bull);
    RF_CHECK(rf__iq2s_grid[1020] == 0x2b2b2b2b082b082bull);
    RF_CHECK(rf__iq2s_grid[1022] == 0x2b2b2b2b2b082b08ull);
    RF_CHECK(rf__iq2s_grid[1023] == 0x2b2b2b2b2b2b2b2bull);

    RF_CHECK(rf__iq3xxs_grid[0] == 0x04040404u);
    RF_CHECK(rf__iq3xxs_grid[5] == 0x04040c3eu);
    RF_CHECK(rf__iq3xxs_grid[248] == 0x3e1c1c1cu);
    RF_CHECK(rf__iq3xxs_grid[255] == 0x3e341c04u);

    RF_CHECK(rf__iq3s_grid[0] == 0x01010101u);
    RF_CHECK(rf__iq3s_grid[3] == 0x0101010bu);
    RF_CHECK(rf__iq3s_grid[504] == 0x0f090307u);
    RF_CHECK(rf__iq3s_grid[511] == 0x0f0f0101u);

    RF_CHECK(rf__iq1s_grid[0] == 0xffffffffffffffffull);
    RF_CHECK(rf__iq1s_grid[1] == 0xffffffffffffff01ull);
    RF_CHECK(rf__iq1s_grid[5] == 0xffffffffff00ff00ull);
    RF_CHECK(rf__iq1s_grid[2047] == 0x0101010101010101ull);

    RF_CHECK(rf__iq1s_grid_gpu[0] == 0x00000000u);
    RF_CHECK(rf__iq1s_grid_gpu[1] == 0x00000002u);
    RF_CHECK(rf__iq1s_grid_gpu[8] == 0x00020002u);
    RF_CHECK(rf__iq1s_grid_gpu[24] == 0x02020202u);
    RF_CHECK(rf__iq1s_grid_gpu[25] == 0x00000110u);

    RF_CHECK(rf__ksigns_iq2xs[0] == 0 && rf__ksigns_iq2xs[1] == 129);
    RF_CHECK(rf__ksigns_iq2xs[3] == 3 && rf__ksigns_iq2xs[127] == 255);
    RF_CHECK(rf__ksigns64[1] == 0xff000000000000ffull);
    RF_CHECK(rf__ksigns64[127] == 0xffffffffffffffffull);
}

static int popcount8(unsigned v) {
    int c = 0;
    for (; v; v &= v - 1) c++;
    return c;
}

/* Every element is one of the format's levels; entries are distinct; the
 * derived tables agree with the ones they are derived from. */
static void test_consistency(void) {
    int bad = 0;
    for (size_t i = 0; i < 1024; i++) {
        const uint64_t *tabs[3] = {rf__iq2xxs_grid, rf__iq2xs_grid, rf__iq2s_grid};
        const size_t lens[3] = {256, 512, 1024};
        for (int t = 0; t < 3; t++) {
            if (i >= lens[t]) continue;
            for (int j = 0; j < 8; j++) {
                unsigned e = (unsigned)(tabs[t][i] >> (8 * j)) & 0xff;
                bad += e != 0x08 && e != 0x19 && e != 0x2b;
            }
            bad += i > 0 && tabs[t][i] == tabs[t][i - 1];
        }
    }
    RF_CHECK(bad == 0);

    bad = 0;
    for (size_t i = 0; i < 512; i++) {
        for (int j = 0; j < 4; j++) {
            unsigned e3s = (rf__iq3s_grid[i] >> (8 * j)) & 0xff;
            bad += e3s < 1 || e3s > 15 || !(e3s & 1);
            if (i < 256) {
                unsigned e = (rf__iq3xxs_grid[i] >> (8 * j)) & 0xff;
                bad += e < 0x04 || e > 0x3e || (e != 0x3e && (e - 4) % 8 != 0);
            }
        }
    }
    RF_CHECK(bad == 0);

    bad = 0;
    for (size_t i = 0; i < 2048; i++) {
        uint32_t gpu = 0;
        for (int j = 0; j < 8; j++) {
            int e = (int8_t)(uint8_t)(rf__iq1s_grid[i] >> (8 * j));
            bad += e < -1 || e > 1;
            gpu |= (uint32_t)(e + 1) << (j < 4 ? 8 * j : 8 * (j - 4) + 4);
        }
        bad += gpu != rf__iq1s_grid_gpu[i];
        bad += i > 0 && rf__iq1s_grid[i] == rf__iq1s_grid[i - 1];
    }
    RF_CHECK(bad == 0);

    bad = 0;
    for (unsigned i = 0; i < 128; i++) {
        unsigned s = rf__ksigns_iq2xs[i];
        bad += (s & 127) != i || popcount8(s) % 2 != 0;
        uint64_t m = 0;
        for (int j = 0; j < 8; j++)
            if (s & rf__kmask_iq2xs[j]) m |= 0xffull << (8 * j);
        bad += m != rf__ksigns64[i];
    }
    for (int j = 0; j < 8; j++) bad += rf__kmask_iq2xs[j] != (1u << j);
    RF_CHECK(bad == 0);
}

/* IQ2_XXS: d = 1.0; group 0, run 0 uses grid entry 1 with sign index 1 and
 * scale 3; everything else zero (grid entry 0, no signs, scale 0). */
static void test_block_iq2_xxs(void) {
    const rf_type_traits *tr = rf_type_get(RF_TYPE_IQ2_XXS);
    RF_CHECK(tr && tr->to_f32);
    if (!tr || !tr->to_f32) return;
    uint8_t blk[66] = {0};
    blk[0] = 0x00, blk[1] = 0x3c;            /* d = 1.0 */
    blk[2] = 1;                              /* group 0, run 0: grid index 1 */
    const uint32_t aux = (3u << 28) | 1u;    /* scale 3, run 0 sign index 1 */
    memcpy(blk + 6, &aux, 4);
    float y[256];
    tr->to_f32(blk, y, 256);
    /* db = (0.5 + 3) * 0.25 = 0.875; grid[1] = 43, 8 x7; ksigns[1] = bits 0, 7 */
    RF_CHECK(y[0] == -0.875f * 43.0f);
    for (int j = 1; j < 7; j++) RF_CHECK(y[j] == 7.0f);
    RF_CHECK(y[7] == -7.0f);
    int bad = 0;
    for (int j = 8; j < 256; j++) bad += y[j] != (j < 32 ? 7.0f : 1.0f);
    RF_CHECK(bad == 0);
}

/* IQ1_M: the f16 scale d = 1.0 (0x3c00) is split over the top nibbles of the
 * four scale words; group 0 has scales 2 and 1, run 0 grid entry 1 with a
 * negative delta. */
static void test_block_iq1_m(void) {
    const rf_type_traits *tr = rf_type_get(RF_TYPE_IQ1_M);
    RF_CHECK(tr && tr->to_f32);
    if (!tr || !tr->to_f32) return;
    uint8_t blk[56] = {0};
    blk[0] = 1;                 /* run 0: grid index 1 */
    blk[32] = 0x08;             /* run 0: delta sign set; run 1: positive */
    const uint16_t sc[4] = {(1u << 3) | 2u, 0, 0xc000, 0x3000};
    memcpy(blk + 48, sc, 8);
    float y[256];
    tr->to_f32(blk, y, 256);
    /* run 0: dl = 5, grid[1] = {+1, -1 x7}, delta -0.125 */
    RF_CHECK(y[0] == 5.0f * 0.875f);
    int bad = 0;
    for (int j = 1; j < 8; j++) bad += y[j] != 5.0f * -1.125f;
    for (int j = 8; j < 16; j++) bad += y[j] != 5.0f * -0.875f;   /* run 1 */
    for (int j = 16; j < 32; j++) bad += y[j] != 3.0f * -0.875f;  /* runs 2, 3 */
    for (int j = 32; j < 256; j++) bad += y[j] != -0.875f;        /* scale 0 */
    RF_CHECK(bad == 0);
}

static void test_traits(void) {
    const rf_type ts[] = {RF_TYPE_IQ1_S, RF_TYPE_IQ1_M, RF_TYPE_IQ2_XXS, RF_TYPE_IQ2_XS,
                          RF_TYPE_IQ2_S, RF_TYPE_IQ3_XXS, RF_TYPE_IQ3_S};
    const size_t sizes[] = {50, 56, 66, 74, 82, 98, 110};
    for (size_t i = 0; i < N_OF(ts); i++) {
        const rf_type_traits *tr = rf_type_get(ts[i]);
        RF_CHECK(tr && tr->to_f32 && tr->block_size == 256 && tr->type_size == sizes[i]);
    }
}

int main(void) {
    test_sizes();
    test_known_entries();
    test_consistency();
    test_block_iq2_xxs();
    test_block_iq1_m();
    test_traits();
    return rf_test_finish("test_iq_grids");
}
