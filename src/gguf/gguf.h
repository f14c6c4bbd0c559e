/*
 * gguf.h - GGUF reader (memory-mapped or from a buffer) and writer.
 *
 * The reader validates the whole header, key/value section and tensor table
 * when the file is opened; after a successful open every accessor below is
 * safe on any input. Strings inside the file are NOT NUL-terminated: they are
 * returned as (pointer, length) pairs into the mapping and stay valid until
 * rf_gguf_free.
 */
#ifndef RF_GGUF_H
#define RF_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "quant/quant.h"

#define RF_GGUF_MAX_DIMS 4
#define RF_GGUF_DEFAULT_ALIGNMENT 32
/* general.alignment must be a power of two in [1, RF_GGUF_MAX_ALIGNMENT]. */
#define RF_GGUF_MAX_ALIGNMENT (1u << 20)
/* Arrays of arrays are accepted up to this depth (a top-level array is depth 1). */
#define RF_GGUF_MAX_NESTING 16

/* Metadata value types, numbered as in the file format. */
typedef enum rf_gguf_vtype {
    RF_GGUF_U8 = 0, RF_GGUF_I8 = 1, RF_GGUF_U16 = 2, RF_GGUF_I16 = 3,
    RF_GGUF_U32 = 4, RF_GGUF_I32 = 5, RF_GGUF_F32 = 6, RF_GGUF_BOOL = 7,
    RF_GGUF_STRING = 8, RF_GGUF_ARRAY = 9, RF_GGUF_U64 = 10, RF_GGUF_I64 = 11,
    RF_GGUF_F64 = 12,
    RF_GGUF_VTYPE_COUNT
} rf_gguf_vtype;

const char *rf_gguf_vtype_name(rf_gguf_vtype t);

typedef struct rf_str {
    const char *ptr;  /* not NUL-terminated */
    uint64_t len;
} rf_str;

/* A view of one metadata value. For arrays, `arr` describes the elements;
 * nested arrays are reached through rf_gguf_arr_iter. */
typedef struct rf_gguf_value {
    rf_gguf_vtype type;
    union {
        uint64_t u;   /* U8/U16/U32/U64/BOOL */
        int64_t i;    /* I8/I16/I32/I64 */
        double f;     /* F32/F64 */
        rf_str s;     /* STRING */
        struct {
            rf_gguf_vtype elem_type;
            uint64_t n;
            const uint8_t *data;   /* first element's encoding in the file */
            uint64_t nbytes;       /* bytes covered by all elements */
        } arr;        /* ARRAY */
    } v;
} rf_gguf_value;

/* Iterates the elements of an array value in order: O(1) per step for
 * scalars and strings, O(size of the element) for an element that is itself
 * an array (its extent is measured). Elements that are arrays can be iterated
 * in turn. The value must come from the reader (or satisfy the same
 * encoding); iteration stops early rather than read past the array. */
typedef struct rf_gguf_arr_iter {
    const rf_gguf_value *arr;
    uint64_t index;
    const uint8_t *pos;
    const uint8_t *end;
} rf_gguf_arr_iter;

void rf_gguf_arr_iter_init(rf_gguf_arr_iter *it, const rf_gguf_value *arr);
/* Fills *out with the next element; false when done. */
bool rf_gguf_arr_iter_next(rf_gguf_arr_iter *it, rf_gguf_value *out);

typedef struct rf_gguf_tensor {
    rf_str name;
    uint32_t n_dims;
    int64_t ne[RF_GGUF_MAX_DIMS];   /* ne[0] is the innermost (row) length; unused dims are 1 */
    rf_type type;
    uint64_t offset;                /* relative to its file's data section */
    uint64_t nbytes;
    const void *data;               /* inside the mapping of its file */
    uint32_t split;                 /* index of the split file holding it */
} rf_gguf_tensor;

typedef struct rf_gguf rf_gguf;

/* Opens and validates a GGUF file (memory-mapped). Versions 2 and 3 are
 * read; version 1 and big-endian files give RF_ERR_UNSUPPORTED, malformed
 * files RF_ERR_FORMAT, a missing file RF_ERR_NOT_FOUND, other open/map
 * failures RF_ERR_IO, allocation failures RF_ERR_NOMEM. Key and tensor names
 * are checked to be non-empty, unique, valid UTF-8 without NUL bytes; string
 * values may hold any bytes. A name matching
 * `*-00001-of-0000N.gguf` opens all N splits as one model. On failure *out
 * is NULL and `err` names the problem. Free with rf_gguf_free. */
rf_status rf_gguf_open(const char *path, rf_gguf **out, rf_err *err);

/* Same, over a caller-owned buffer that must outlive the returned object.
 * A buffer holding one split of a split model gives RF_ERR_UNSUPPORTED. */
rf_status rf_gguf_open_buffer(const void *buf, size_t size, rf_gguf **out, rf_err *err);

void rf_gguf_free(rf_gguf *g);  /* NULL is a no-op */

uint32_t rf_gguf_version(const rf_gguf *g);
uint64_t rf_gguf_alignment(const rf_gguf *g);
uint32_t rf_gguf_n_splits(const rf_gguf *g);
uint64_t rf_gguf_file_size(const rf_gguf *g);  /* all splits together */
/* Offset of the data section within split `split` (0 if out of range). */
uint64_t rf_gguf_data_offset(const rf_gguf *g, uint32_t split);

/* ---- metadata ---- */
uint64_t rf_gguf_n_kv(const rf_gguf *g);
rf_str rf_gguf_kv_key(const rf_gguf *g, uint64_t i);
const rf_gguf_value *rf_gguf_kv_value(const rf_gguf *g, uint64_t i);
/* Index of `key`, or -1. */
int64_t rf_gguf_find_key(const rf_gguf *g, const char *key);
const rf_gguf_value *rf_gguf_get(const rf_gguf *g, const char *key); /* NULL if absent */

/* Typed getters: RF_ERR_NOT_FOUND if absent, RF_ERR_TYPE if of a type that
 * cannot represent the request, RF_ERR_RANGE if the value does not fit.
 * Integer getters accept any integer type whose value fits; f32 accepts F32/F64. */
rf_status rf_gguf_get_u32(const rf_gguf *g, const char *key, uint32_t *out);
rf_status rf_gguf_get_u64(const rf_gguf *g, const char *key, uint64_t *out);
rf_status rf_gguf_get_i32(const rf_gguf *g, const char *key, int32_t *out);
rf_status rf_gguf_get_f32(const rf_gguf *g, const char *key, float *out);
rf_status rf_gguf_get_bool(const rf_gguf *g, const char *key, bool *out);
rf_status rf_gguf_get_str(const rf_gguf *g, const char *key, rf_str *out);
/* Array: element type and count. */
rf_status rf_gguf_get_arr(const rf_gguf *g, const char *key, rf_gguf_vtype *elem_type, uint64_t *n);
/* Copies a numeric array into out[0..n) converting elements; n must equal the
 * array length (RF_ERR_RANGE otherwise). _f32 accepts integer and float
 * elements, _i32 integer elements whose values fit (RF_ERR_RANGE if not). */
rf_status rf_gguf_get_arr_f32(const rf_gguf *g, const char *key, float *out, uint64_t n);
rf_status rf_gguf_get_arr_i32(const rf_gguf *g, const char *key, int32_t *out, uint64_t n);
/* Scalar-or-per-layer keys: a scalar is replicated to all n_layer entries; an
 * array must have exactly n_layer elements (RF_ERR_FORMAT otherwise). */
rf_status rf_gguf_get_u32_layers(const rf_gguf *g, const char *key, uint32_t *out, uint32_t n_layer);
rf_status rf_gguf_get_f32_layers(const rf_gguf *g, const char *key, float *out, uint32_t n_layer);

/* rf_str helpers */
bool rf_str_eq(rf_str s, const char *cstr);

/* ---- tensors ---- */
uint64_t rf_gguf_n_tensors(const rf_gguf *g);
const rf_gguf_tensor *rf_gguf_tensor_at(const rf_gguf *g, uint64_t i);
const rf_gguf_tensor *rf_gguf_find_tensor(const rf_gguf *g, const char *name); /* NULL if absent */
/* Number of elements (product of ne), already checked not to overflow. */
int64_t rf_gguf_tensor_nelements(const rf_gguf_tensor *t);

/* ---- writer ----
 * Builds a GGUF v3 file: add metadata and tensor descriptions, then write.
 * Tensor data is supplied either as a pointer (copied at write time) or via a
 * callback that produces the bytes (for streaming quantization). */
typedef struct rf_gguf_writer rf_gguf_writer;

rf_status rf_gguf_writer_create(rf_gguf_writer **out);
void rf_gguf_writer_free(rf_gguf_writer *w);
/* Power of two up to RF_GGUF_MAX_ALIGNMENT; stored as the u32 key
 * general.alignment (setting that key directly has the same effect). */
rf_status rf_gguf_writer_set_alignment(rf_gguf_writer *w, uint32_t alignment);
/* Setters replace an existing key of the same name. Keys must be non-empty
 * valid UTF-8 (RF_ERR_INVALID_ARG otherwise). */
rf_status rf_gguf_writer_set_u32(rf_gguf_writer *w, const char *key, uint32_t v);
rf_status rf_gguf_writer_set_i32(rf_gguf_writer *w, const char *key, int32_t v);
rf_status rf_gguf_writer_set_u64(rf_gguf_writer *w, const char *key, uint64_t v);
rf_status rf_gguf_writer_set_f32(rf_gguf_writer *w, const char *key, float v);
rf_status rf_gguf_writer_set_bool(rf_gguf_writer *w, const char *key, bool v);
rf_status rf_gguf_writer_set_str(rf_gguf_writer *w, const char *key, const char *v);
rf_status rf_gguf_writer_set_arr(rf_gguf_writer *w, const char *key, rf_gguf_vtype elem_type,
                                 const void *data, uint64_t n); /* numeric elements, packed */
rf_status rf_gguf_writer_set_arr_str(rf_gguf_writer *w, const char *key,
                                     const char *const *strs, uint64_t n);
/* Sets any value: a scalar of any type, a string, or an array whose
 * v.arr.data/nbytes hold the GGUF encoding of its n elements (as returned by
 * the reader; arrays of arrays included). The encoding is validated. */
rf_status rf_gguf_writer_set_value(rf_gguf_writer *w, const char *key, const rf_gguf_value *v);
/* Copies key/value `i` of `src` verbatim (any type, nested arrays included). */
rf_status rf_gguf_writer_copy_kv(rf_gguf_writer *w, const rf_gguf *src, uint64_t i);
/* Declares a tensor; `data` (nbytes as implied by type and shape) is read
 * when the file is written and must stay valid until then. May be NULL if a
 * producer callback is given to rf_gguf_writer_write. */
rf_status rf_gguf_writer_add_tensor(rf_gguf_writer *w, const char *name, rf_type type,
                                    uint32_t n_dims, const int64_t *ne, const void *data);
/* Called for each tensor whose data pointer is NULL, in declaration order;
 * must fill exactly nbytes at dst. */
typedef rf_status (*rf_gguf_tensor_producer)(void *user, uint64_t tensor_index, void *dst,
                                             uint64_t nbytes, rf_err *err);
/* Writes the file at `path` (replacing it); on failure the partial file is
 * removed. A producer's error is returned with the tensor's name added. */
rf_status rf_gguf_writer_write(rf_gguf_writer *w, const char *path,
                               rf_gguf_tensor_producer producer, void *user, rf_err *err);
/* Writes to a heap buffer (freed by the caller with rf__free). Every tensor
 * must have a data pointer (no producer here). */
rf_status rf_gguf_writer_write_buffer(rf_gguf_writer *w, void **buf, size_t *size, rf_err *err);

#endif /* RF_GGUF_H */
