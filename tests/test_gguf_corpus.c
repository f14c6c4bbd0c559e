/* test_gguf_corpus.c - replays every file under tests/corpus/gguf/ (inputs
 * that once broke the reader, and hand-made hard cases) and fuzz/corpus/gguf/
 * (the fuzzer's seeds) through the fuzz target's checks, through the buffer
 * reader and through the mmap reader. Files named ok-* (and all seeds) must
 * open; the others must fail with a message; none may crash or leak. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz_gguf.c"
#include "gguf_test_util.h"
#include "rf_test.h"

static int replay_dir(const char *dir, bool all_valid) {
    DIR *d = opendir(dir);
    int n = 0;
    RF_CHECK(d != NULL);
    if (!d) {
        fprintf(stderr, "cannot open %s\n", dir);
        return 0;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !strcmp(de->d_name, "README.md")) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t size = 0;
        uint8_t *buf = read_whole(path, &size);
        RF_CHECK(buf != NULL);
        if (!buf) continue;
        /* exact-size copy so over-reads are caught */
        uint8_t *copy = malloc(size ? size : 1);
        memcpy(copy, buf, size);
        free(buf);
        size_t base = rf__alloc_live_blocks();
        LLVMFuzzerTestOneInput(copy, size);
        RF_CHECK(rf__alloc_live_blocks() == base);
        bool want_ok = all_valid || strncmp(de->d_name, "ok-", 3) == 0;
        rf_gguf *g = NULL;
        rf_err e = {0};
        rf_status st = rf_gguf_open_buffer(copy, size, &g, &e);
        if ((st == RF_OK) != want_ok) fprintf(stderr, "%s: status %d (%s)\n", path, st, e.msg);
        RF_CHECK((st == RF_OK) == want_ok);
        RF_CHECK(st == RF_OK || (g == NULL && e.msg[0] != 0));
        rf_gguf_free(g);
        g = NULL;
        rf_status st2 = rf_gguf_open(path, &g, &e);
        RF_CHECK(st2 == st || (st == RF_ERR_UNSUPPORTED && st2 != RF_OK));
        rf_gguf_free(g);
        RF_CHECK(rf__alloc_live_blocks() == base);
        free(copy);
        n++;
    }
    closedir(d);
    return n;
}

int main(void) {
    const char *src = getenv("RF_SOURCE_DIR");
    RF_CHECK(src != NULL);
    if (!src) {
        fprintf(stderr, "RF_SOURCE_DIR is not set\n");
        return rf_test_finish("test_gguf_corpus");
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/fuzz/corpus/gguf", src);
    int seeds = replay_dir(dir, true);
    snprintf(dir, sizeof dir, "%s/tests/corpus/gguf", src);
    int regress = replay_dir(dir, false);
    fprintf(stderr, "replayed %d seeds, %d regression inputs\n", seeds, regress);
    RF_CHECK(seeds >= 4 && regress >= 1);
    return rf_test_finish("test_gguf_corpus");
}
