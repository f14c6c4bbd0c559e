/* test_tokenizer_corpus.c - replays every file under tests/corpus/tokenizer/
 * (inputs that once broke the tokenizer) and fuzz/corpus/tokenizer/ (the
 * fuzzer's seeds) through the fuzz target's checks; none may crash, trip an
 * invariant (the target aborts) or leak. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz_tokenizer.c"
#include "rf_test.h"

static uint8_t *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    for (size_t r; buf && (r = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *size = n;
    return buf;
}

static int replay_dir(const char *dir) {
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
        uint8_t *buf = read_file(path, &size);
        RF_CHECK(buf != NULL);
        if (!buf) continue;
        uint8_t *copy = malloc(size ? size : 1); /* exact size, so over-reads are caught */
        memcpy(copy, buf, size);
        free(buf);
        size_t base = rf__alloc_live_blocks();
        LLVMFuzzerTestOneInput(copy, size);
        RF_CHECK(rf__alloc_live_blocks() == base);
        free(copy);
        n++;
    }
    closedir(d);
    return n;
}

int main(void) {
    const char *src = getenv("RF_SOURCE_DIR");
    char dir[1024];
    if (!src) {
        fprintf(stderr, "RF_SOURCE_DIR is not set\n");
        return 1;
    }
    uint8_t warm = 0;
    LLVMFuzzerTestOneInput(&warm, 1); /* builds the tokenizers once */
    snprintf(dir, sizeof dir, "%s/tests/corpus/tokenizer", src);
    int a = replay_dir(dir);
    snprintf(dir, sizeof dir, "%s/fuzz/corpus/tokenizer", src);
    int b = replay_dir(dir);
    fprintf(stderr, "replayed %d regression inputs and %d seeds\n", a, b);
    RF_CHECK(a >= 1 && b >= 10);
    return rf_test_finish("test_tokenizer_corpus");
}
