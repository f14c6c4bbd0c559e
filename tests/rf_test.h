/* rf_test.h - minimal assertion helpers for the C tests (no early-return passes). */
#ifndef RF_TEST_H
#define RF_TEST_H
#include <stdio.h>

static int rf_test_failures;
static int rf_test_checks;

#define RF_CHECK(cond)                                                              \
    do {                                                                            \
        rf_test_checks++;                                                           \
        if (!(cond)) {                                                              \
            rf_test_failures++;                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                           \
    } while (0)

static inline int rf_test_finish(const char *name) {
    if (rf_test_checks == 0) {
        fprintf(stderr, "%s: no checks ran\n", name);
        return 1;
    }
    fprintf(stderr, "%s: %d checks, %d failed\n", name, rf_test_checks, rf_test_failures);
    return rf_test_failures ? 1 : 0;
}
#endif
