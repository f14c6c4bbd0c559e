/* test_core.c - allocator counters, fault injection, status strings, f16/bf16. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "rf_test.h"

static void test_alloc(void) {
    size_t base = rf__alloc_live_blocks();
    void *a = rf__malloc(10), *b = rf__calloc(3, 7);
    RF_CHECK(a && b);
    RF_CHECK(rf__alloc_live_blocks() == base + 2);
    a = rf__realloc(a, 100);
    RF_CHECK(a != NULL);
    rf__free(a);
    rf__free(b);
    rf__free(NULL);
    RF_CHECK(rf__alloc_live_blocks() == base);
    RF_CHECK(rf__calloc(SIZE_MAX / 2, 4) == NULL);

    rf__alloc_fail_after(1);
    void *c = rf__malloc(8);
    void *d = rf__malloc(8);
    RF_CHECK(c != NULL && d == NULL && rf__alloc_failed_injected());
    rf__alloc_fail_after(-1);
    rf__free(c);
    RF_CHECK(rf__alloc_live_blocks() == base);
}

static void test_status(void) {
    for (int s = RF_OK; s <= RF_ERR_INTERNAL; s++)
        RF_CHECK(strcmp(rf_status_str((rf_status)s), "unknown status") != 0);
    rf_err e;
    RF_CHECK(rf__err(&e, RF_ERR_FORMAT, "bad %d", 7) == RF_ERR_FORMAT);
    RF_CHECK(strcmp(e.msg, "bad 7") == 0 && e.status == RF_ERR_FORMAT);
}

static void test_half(void) {
    /* every finite half round-trips through f32 */
    for (uint32_t h = 0; h < 65536; h++) {
        float f = rf__fp16_to_fp32((uint16_t)h);
        if (isnan(f)) continue;
        RF_CHECK(rf__fp32_to_fp16(f) == h);
    }
    RF_CHECK(rf__fp16_to_fp32(0x3c00) == 1.0f);
    RF_CHECK(rf__fp32_to_fp16(65520.0f) == 0x7c00);
    RF_CHECK(rf__bf16_to_fp32(rf__fp32_to_bf16(1.5f)) == 1.5f);
}

int main(void) {
    test_alloc();
    test_status();
    test_half();
    return rf_test_finish("test_core");
}
