/*
 * gguf_internal.h - structures shared by the GGUF reader files (not public).
 */
#ifndef RF_GGUF_INTERNAL_H
#define RF_GGUF_INTERNAL_H

#include "gguf/gguf.h"

/* One metadata entry; `key` is the first member (the name index relies on it). */
typedef struct rf__gguf_kv {
    rf_str key;
    rf_gguf_value val;
} rf__gguf_kv;

/* Open-addressing hash index over an array of items whose first member is an
 * rf_str name. Slots hold item index + 1; 0 marks an empty slot. */
typedef struct rf__gguf_index {
    uint32_t *slots;
    uint64_t mask;   /* capacity - 1 (capacity is a power of two) */
} rf__gguf_index;

/* One parsed file (a model has one per split). */
typedef struct rf__gguf_file {
    const uint8_t *base;      /* first byte of the file */
    uint64_t size;            /* bytes in the file */
    void *map;                /* mmap'ed region, NULL for caller buffers */
    size_t map_size;
    uint32_t version;
    uint64_t alignment;
    uint64_t n_kv;
    rf__gguf_kv *kv;
    rf__gguf_index kv_index;
    uint64_t n_tensors;
    rf_gguf_tensor *tensors;  /* moved into rf_gguf.tensors once all splits are read */
    uint64_t data_offset;     /* start of the data section in the file */
    uint64_t data_size;       /* bytes from data_offset to the end of the file */
} rf__gguf_file;

struct rf_gguf {
    uint32_t n_files;
    rf__gguf_file *files;     /* files[0] carries the model's metadata */
    uint64_t n_tensors;
    rf_gguf_tensor *tensors;  /* all splits, in split order */
    rf__gguf_index tensor_index;
};

/* Decodes the value of type `type` starting at p (never reading at or past
 * end). On success fills *out (may be NULL) and sets *next past the value.
 * `base` is only used for offsets in error messages; err may be NULL. Arrays
 * are validated element by element, nested arrays up to RF_GGUF_MAX_NESTING. */
rf_status rf__gguf_decode_value(uint32_t type, const uint8_t *p, const uint8_t *end,
                                const uint8_t *base, unsigned depth, rf_gguf_value *out,
                                const uint8_t **next, rf_err *err);

/* Builds `ix` over n items of `stride` bytes whose first member is an rf_str.
 * Fails with RF_ERR_FORMAT naming `what` on a duplicate name. */
rf_status rf__gguf_index_build(rf__gguf_index *ix, const void *items, size_t stride, uint64_t n,
                               const char *what, rf_err *err);
/* Index of the item named (s, len), or -1. */
int64_t rf__gguf_index_find(const rf__gguf_index *ix, const void *items, size_t stride,
                            const char *s, size_t len);
void rf__gguf_index_free(rf__gguf_index *ix);

/* Names (keys and tensor names) must be non-empty, valid UTF-8 and free of
 * NUL bytes; `what` and `index` go into the message. */
rf_status rf__gguf_check_name(rf_str s, const char *what, uint64_t index, rf_err *err);

/* Key lookup within one file (used for split keys of every split). */
const rf_gguf_value *rf__gguf_file_get(const rf__gguf_file *f, const char *key);

#endif /* RF_GGUF_INTERNAL_H */
