/*
 * gguf_read.c - GGUF parser: validation of header, metadata and tensor table,
 * memory mapping, split files.
 *
 * File layout (GGUF v2 and v3, little-endian; v1 used 32-bit counts and is
 * rejected). Offsets are from the start of the file.
 *
 *   offset  size  field
 *   ------  ----  -----------------------------------------------------------
 *        0     4  magic "GGUF" (0x47 0x47 0x55 0x46)
 *        4     4  u32 version (2 or 3)
 *        8     8  u64 n_tensors
 *       16     8  u64 n_kv
 *       24        n_kv key/value entries, back to back:
 *                   string key            (u64 length + bytes, no NUL)
 *                   u32 value type        (rf_gguf_vtype, 0..12)
 *                   value:
 *                     U8/I8/BOOL 1, U16/I16 2, U32/I32/F32 4, U64/I64/F64 8 bytes
 *                     STRING: u64 length + bytes
 *                     ARRAY:  u32 element type, u64 count, then the elements
 *                             encoded as above (elements may be arrays again)
 *        .        n_tensors tensor descriptions, back to back:
 *                   string name
 *                   u32 n_dims                    (1..4)
 *                   u64 ne[n_dims]                (ne[0] innermost)
 *                   u32 type                      (ggml type id)
 *                   u64 offset                    (relative to the data section)
 *        .        zero padding up to a multiple of the alignment
 *   data_offset   tensor data; each tensor at data_offset + its offset, which
 *                 is a multiple of the alignment (general.alignment, a u32
 *                 power of two, default 32)
 *
 * Smallest encodings used to bound counts before allocating: a key/value
 * entry takes at least 8 + 1 + 4 + 1 = 14 bytes (keys are non-empty), a
 * tensor description at least 8 + 1 + 4 + 8 + 4 + 8 = 33 bytes, an array
 * element of type STRING 8 bytes and of type ARRAY 12 bytes.
 *
 * Split files (written by gguf-split) are named NAME-00001-of-0000N.gguf;
 * each carries split.no (0-based), split.count and, in the first,
 * split.tensors.count. The first split holds the model's metadata; each
 * split has its own tensor table and data section.
 *
 * Every read goes through a cursor with an end pointer, and every count or
 * length is compared with the bytes left before it is used.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>

#include "gguf/gguf_internal.h"

#define KV_MIN_BYTES 14u
#define TENSOR_MIN_BYTES 33u
#define HEADER_BYTES 24u
/* Limits of the u32 slots in the name indexes. */
#define MAX_ENTRIES ((uint64_t)1 << 31)

static const uint8_t fixed_size[RF_GGUF_VTYPE_COUNT] = {
    [RF_GGUF_U8] = 1, [RF_GGUF_I8] = 1, [RF_GGUF_U16] = 2, [RF_GGUF_I16] = 2,
    [RF_GGUF_U32] = 4, [RF_GGUF_I32] = 4, [RF_GGUF_F32] = 4, [RF_GGUF_BOOL] = 1,
    [RF_GGUF_STRING] = 0, [RF_GGUF_ARRAY] = 0, [RF_GGUF_U64] = 8, [RF_GGUF_I64] = 8,
    [RF_GGUF_F64] = 8,
};

/* ---- cursor ---------------------------------------------------------------- */

typedef struct cursor {
    const uint8_t *p;
    const uint8_t *end;
    const uint8_t *base;
} cursor;

static uint64_t cur_left(const cursor *c) { return (uint64_t)(c->end - c->p); }
static uint64_t cur_off(const cursor *c) { return (uint64_t)(c->p - c->base); }

static rf_status cur_need(cursor *c, uint64_t n, const char *what, rf_err *err) {
    if (cur_left(c) < n)
        return rf__err(err, RF_ERR_FORMAT,
                       "truncated file: %s at offset %" PRIu64 " needs %" PRIu64
                       " bytes, %" PRIu64 " left",
                       what, cur_off(c), n, cur_left(c));
    return RF_OK;
}

static rf_status cur_u32(cursor *c, uint32_t *v, const char *what, rf_err *err) {
    rf_status st = cur_need(c, 4, what, err);
    if (st) return st;
    *v = rf__rd32(c->p);
    c->p += 4;
    return RF_OK;
}

static rf_status cur_u64(cursor *c, uint64_t *v, const char *what, rf_err *err) {
    rf_status st = cur_need(c, 8, what, err);
    if (st) return st;
    *v = rf__rd64(c->p);
    c->p += 8;
    return RF_OK;
}

static rf_status cur_str(cursor *c, rf_str *s, const char *what, rf_err *err) {
    uint64_t len;
    rf_status st = cur_u64(c, &len, what, err);
    if (st) return st;
    if (len > cur_left(c))
        return rf__err(err, RF_ERR_FORMAT,
                       "%s at offset %" PRIu64 ": length %" PRIu64 " exceeds the %" PRIu64
                       " bytes left in the file",
                       what, cur_off(c) - 8, len, cur_left(c));
    s->ptr = (const char *)c->p;
    s->len = len;
    c->p += len;
    return RF_OK;
}

rf_status rf__gguf_check_name(rf_str s, const char *what, uint64_t index, rf_err *err) {
    if (s.len == 0) return rf__err(err, RF_ERR_FORMAT, "%s %" PRIu64 " has an empty name", what, index);
    if (memchr(s.ptr, 0, s.len))
        return rf__err(err, RF_ERR_FORMAT, "%s %" PRIu64 " has a name containing a NUL byte", what, index);
    const uint8_t *p = (const uint8_t *)s.ptr;
    uint64_t left = s.len;
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left > 8 ? 8 : (utf8proc_ssize_t)left, &cp);
        if (n <= 0)
            return rf__err(err, RF_ERR_FORMAT, "%s %" PRIu64 " has a name that is not valid UTF-8 (byte %" PRIu64 ")",
                           what, index, s.len - left);
        p += n;
        left -= (uint64_t)n;
    }
    return RF_OK;
}

/* ---- values ---------------------------------------------------------------- */

static void decode_scalar(uint32_t type, const uint8_t *p, rf_gguf_value *out) {
    out->type = (rf_gguf_vtype)type;
    switch (type) {
    case RF_GGUF_U8: out->v.u = p[0]; break;
    case RF_GGUF_BOOL: out->v.u = p[0] != 0; break;
    case RF_GGUF_I8: out->v.i = (int8_t)p[0]; break;
    case RF_GGUF_U16: out->v.u = rf__rd16(p); break;
    case RF_GGUF_I16: out->v.i = (int16_t)rf__rd16(p); break;
    case RF_GGUF_U32: out->v.u = rf__rd32(p); break;
    case RF_GGUF_I32: out->v.i = (int32_t)rf__rd32(p); break;
    case RF_GGUF_U64: out->v.u = rf__rd64(p); break;
    case RF_GGUF_I64: out->v.i = (int64_t)rf__rd64(p); break;
    case RF_GGUF_F32: { uint32_t b = rf__rd32(p); float f; memcpy(&f, &b, 4); out->v.f = f; break; }
    case RF_GGUF_F64: { uint64_t b = rf__rd64(p); double d; memcpy(&d, &b, 8); out->v.f = d; break; }
    default: break;
    }
}

rf_status rf__gguf_decode_value(uint32_t type, const uint8_t *p, const uint8_t *end,
                                const uint8_t *base, unsigned depth, rf_gguf_value *out,
                                const uint8_t **next, rf_err *err) {
    cursor c = {p, end, base};
    rf_status st;
    if (type >= RF_GGUF_VTYPE_COUNT)
        return rf__err(err, RF_ERR_FORMAT, "unknown value type %" PRIu32 " at offset %" PRIu64, type,
                       (uint64_t)(p - base));
    if (fixed_size[type]) {
        if ((st = cur_need(&c, fixed_size[type], "value", err))) return st;
        if (out) decode_scalar(type, c.p, out);
        *next = c.p + fixed_size[type];
        return RF_OK;
    }
    if (type == RF_GGUF_STRING) {
        rf_str s;
        if ((st = cur_str(&c, &s, "string value", err))) return st;
        if (out) { out->type = RF_GGUF_STRING; out->v.s = s; }
        *next = c.p;
        return RF_OK;
    }
    /* array */
    if (depth >= RF_GGUF_MAX_NESTING)
        return rf__err(err, RF_ERR_FORMAT, "arrays nested deeper than %d levels at offset %" PRIu64,
                       RF_GGUF_MAX_NESTING, cur_off(&c));
    uint32_t et;
    uint64_t n, nbytes;
    if ((st = cur_u32(&c, &et, "array element type", err))) return st;
    if ((st = cur_u64(&c, &n, "array length", err))) return st;
    if (et >= RF_GGUF_VTYPE_COUNT)
        return rf__err(err, RF_ERR_FORMAT, "array at offset %" PRIu64 " has unknown element type %" PRIu32,
                       cur_off(&c) - 12, et);
    uint64_t min_elem = fixed_size[et] ? fixed_size[et] : (et == RF_GGUF_STRING ? 8 : 12);
    uint64_t min_bytes;
    if (!rf__mul_ok(n, min_elem, &min_bytes) || min_bytes > cur_left(&c))
        return rf__err(err, RF_ERR_FORMAT,
                       "array at offset %" PRIu64 ": %" PRIu64 " elements of type %s do not fit in the %" PRIu64
                       " bytes left",
                       cur_off(&c) - 12, n, rf_gguf_vtype_name((rf_gguf_vtype)et), cur_left(&c));
    const uint8_t *data = c.p;
    if (fixed_size[et]) {
        nbytes = min_bytes;
    } else {
        const uint8_t *q = c.p;
        for (uint64_t k = 0; k < n; k++) {
            if ((st = rf__gguf_decode_value(et, q, end, base, depth + 1, NULL, &q, err))) return st;
        }
        nbytes = (uint64_t)(q - data);
    }
    if (out) {
        out->type = RF_GGUF_ARRAY;
        out->v.arr.elem_type = (rf_gguf_vtype)et;
        out->v.arr.n = n;
        out->v.arr.data = data;
        out->v.arr.nbytes = nbytes;
    }
    *next = data + nbytes;
    return RF_OK;
}

/* ---- one file ---------------------------------------------------------------- */

static void file_release(rf__gguf_file *f) {
    rf__free(f->kv);
    rf__gguf_index_free(&f->kv_index);
    rf__free(f->tensors);
    if (f->map) munmap(f->map, f->map_size);
    memset(f, 0, sizeof *f);
}

typedef struct span { uint64_t start, end; uint64_t index; } span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static rf_status parse_header(cursor *c, rf__gguf_file *f, uint64_t *n_tensors, uint64_t *n_kv,
                              rf_err *err) {
    rf_status st;
    if (memcmp(c->p, "GGUF", 4) != 0) {
        char m[5];
        for (int i = 0; i < 4; i++) m[i] = (c->p[i] >= 0x20 && c->p[i] < 0x7f) ? (char)c->p[i] : '?';
        m[4] = 0;
        return rf__err(err, RF_ERR_FORMAT, "not a GGUF file: magic is '%s', expected 'GGUF'", m);
    }
    c->p += 4;
    uint32_t version;
    if ((st = cur_u32(c, &version, "version", err))) return st;
    if (version == 0) return rf__err(err, RF_ERR_FORMAT, "invalid GGUF version 0");
    if ((version & 0xffffu) == 0)
        return rf__err(err, RF_ERR_UNSUPPORTED,
                       "GGUF version 0x%08" PRIx32 " looks like a big-endian file, which is not supported", version);
    if (version == 1)
        return rf__err(err, RF_ERR_UNSUPPORTED,
                       "GGUF version 1 is obsolete and not supported; convert the model again");
    if (version > 3)
        return rf__err(err, RF_ERR_UNSUPPORTED, "GGUF version %" PRIu32 " is newer than the supported version 3",
                       version);
    f->version = version;
    if ((st = cur_u64(c, n_tensors, "tensor count", err))) return st;
    if ((st = cur_u64(c, n_kv, "key/value count", err))) return st;
    uint64_t a, b, need;
    if (!rf__mul_ok(*n_kv, KV_MIN_BYTES, &a) || !rf__mul_ok(*n_tensors, TENSOR_MIN_BYTES, &b) ||
        !rf__add_ok(a, b, &need) || need > cur_left(c))
        return rf__err(err, RF_ERR_FORMAT,
                       "header claims %" PRIu64 " key/value pairs and %" PRIu64
                       " tensors, more than the %" PRIu64 " bytes after the header can hold",
                       *n_kv, *n_tensors, cur_left(c));
    if (*n_kv >= MAX_ENTRIES || *n_tensors >= MAX_ENTRIES)
        return rf__err(err, RF_ERR_UNSUPPORTED, "too many keys or tensors (%" PRIu64 ", %" PRIu64 ")", *n_kv,
                       *n_tensors);
    return RF_OK;
}

static rf_status parse_kv(cursor *c, rf__gguf_file *f, uint64_t n_kv, rf_err *err) {
    rf_status st;
    f->alignment = RF_GGUF_DEFAULT_ALIGNMENT;
    if (n_kv) {
        f->kv = rf__calloc(n_kv, sizeof *f->kv);
        if (!f->kv) return rf__err(err, RF_ERR_NOMEM, "out of memory for %" PRIu64 " metadata entries", n_kv);
    }
    for (uint64_t i = 0; i < n_kv; i++) {
        rf__gguf_kv *kv = &f->kv[i];
        uint64_t at = cur_off(c);
        if ((st = cur_str(c, &kv->key, "metadata key", err))) return st;
        if ((st = rf__gguf_check_name(kv->key, "metadata key", i, err))) return st;
        uint32_t type;
        if ((st = cur_u32(c, &type, "value type", err))) return st;
        if (type >= RF_GGUF_VTYPE_COUNT)
            return rf__err(err, RF_ERR_FORMAT, "key '%.*s' (offset %" PRIu64 ") has unknown value type %" PRIu32,
                           (int)RF_MIN(kv->key.len, 200), kv->key.ptr, at, type);
        rf_err sub;
        st = rf__gguf_decode_value(type, c->p, c->end, c->base, 0, &kv->val, &c->p, &sub);
        if (st)
            return rf__err(err, st, "key '%.*s': %s", (int)RF_MIN(kv->key.len, 200), kv->key.ptr, sub.msg);
        f->n_kv = i + 1;
        if (rf_str_eq(kv->key, "general.alignment")) {
            if (kv->val.type != RF_GGUF_U32)
                return rf__err(err, RF_ERR_FORMAT, "general.alignment must be of type u32, found %s",
                               rf_gguf_vtype_name(kv->val.type));
            uint64_t al = kv->val.v.u;
            if (al == 0 || (al & (al - 1)) != 0)
                return rf__err(err, RF_ERR_FORMAT, "general.alignment %" PRIu64 " is not a power of two", al);
            if (al > RF_GGUF_MAX_ALIGNMENT)
                return rf__err(err, RF_ERR_FORMAT, "general.alignment %" PRIu64 " exceeds the limit of %u", al,
                               RF_GGUF_MAX_ALIGNMENT);
            f->alignment = al;
        }
    }
    return rf__gguf_index_build(&f->kv_index, f->kv, sizeof *f->kv, f->n_kv, "metadata key", err);
}

static rf_status parse_tensor(cursor *c, rf_gguf_tensor *t, uint64_t i, rf_err *err) {
    rf_status st;
    if ((st = cur_str(c, &t->name, "tensor name", err))) return st;
    if ((st = rf__gguf_check_name(t->name, "tensor", i, err))) return st;
    int nl = (int)RF_MIN(t->name.len, 200);
    const char *nm = t->name.ptr;
    uint32_t n_dims;
    if ((st = cur_u32(c, &n_dims, "tensor dimension count", err))) return st;
    if (n_dims == 0 || n_dims > RF_GGUF_MAX_DIMS)
        return rf__err(err, RF_ERR_FORMAT, "tensor '%.*s' has %" PRIu32 " dimensions, expected 1 to %d", nl, nm,
                       n_dims, RF_GGUF_MAX_DIMS);
    t->n_dims = n_dims;
    uint64_t nel = 1;
    for (uint32_t d = 0; d < RF_GGUF_MAX_DIMS; d++) {
        uint64_t ne = 1;
        if (d < n_dims && (st = cur_u64(c, &ne, "tensor dimension", err))) return st;
        if (ne == 0)
            return rf__err(err, RF_ERR_FORMAT, "tensor '%.*s' has a zero dimension (ne[%" PRIu32 "])", nl, nm, d);
        if (!rf__mul_ok(nel, ne, &nel) || nel > (uint64_t)INT64_MAX)
            return rf__err(err, RF_ERR_FORMAT, "tensor '%.*s': element count overflows (ne[%" PRIu32 "] = %" PRIu64 ")",
                           nl, nm, d, ne);
        t->ne[d] = (int64_t)ne;
    }
    uint32_t type;
    if ((st = cur_u32(c, &type, "tensor type", err))) return st;
    const rf_type_traits *tr = rf_type_get(type);
    if (!tr)
        return rf__err(err, RF_ERR_FORMAT, "tensor '%.*s' has unknown or retired type id %" PRIu32, nl, nm, type);
    t->type = (rf_type)type;
    if (t->ne[0] % tr->block_size != 0)
        return rf__err(err, RF_ERR_FORMAT,
                       "tensor '%.*s' of type %s: row length %" PRId64 " is not a multiple of the block size %" PRId64,
                       nl, nm, tr->name, t->ne[0], tr->block_size);
    uint64_t row = rf_type_row_size(t->type, t->ne[0]);
    uint64_t rows = (uint64_t)t->ne[1] * (uint64_t)t->ne[2] * (uint64_t)t->ne[3]; /* <= nel, no overflow */
    if (row == 0 || !rf__mul_ok(row, rows, &t->nbytes))
        return rf__err(err, RF_ERR_FORMAT, "tensor '%.*s': byte size overflows", nl, nm);
    if ((st = cur_u64(c, &t->offset, "tensor offset", err))) return st;
    return RF_OK;
}

static rf_status check_layout(rf__gguf_file *f, rf_err *err) {
    rf_status st = RF_OK;
    span *sp = NULL;
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        rf_gguf_tensor *t = &f->tensors[i];
        int nl = (int)RF_MIN(t->name.len, 200);
        uint64_t end;
        if (t->offset % f->alignment != 0)
            return rf__err(err, RF_ERR_FORMAT, "tensor '%.*s': offset %" PRIu64 " is not a multiple of the alignment %" PRIu64,
                           nl, t->name.ptr, t->offset, f->alignment);
        if (!rf__add_ok(t->offset, t->nbytes, &end) || end > f->data_size)
            return rf__err(err, RF_ERR_FORMAT,
                           "tensor '%.*s': data [%" PRIu64 ", +%" PRIu64 ") extends past the end of the file"
                           " (data section holds %" PRIu64 " bytes)",
                           nl, t->name.ptr, t->offset, t->nbytes, f->data_size);
        t->data = f->base + f->data_offset + t->offset;
    }
    if (f->n_tensors < 2) return RF_OK;
    sp = rf__calloc(f->n_tensors, sizeof *sp);
    if (!sp) return rf__err(err, RF_ERR_NOMEM, "out of memory checking tensor overlap");
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        sp[i].start = f->tensors[i].offset;
        sp[i].end = f->tensors[i].offset + f->tensors[i].nbytes;
        sp[i].index = i;
    }
    qsort(sp, f->n_tensors, sizeof *sp, span_cmp);
    for (uint64_t i = 1; i < f->n_tensors; i++) {
        if (sp[i].start < sp[i - 1].end) {
            const rf_gguf_tensor *a = &f->tensors[sp[i - 1].index], *b = &f->tensors[sp[i].index];
            st = rf__err(err, RF_ERR_FORMAT, "tensors '%.*s' and '%.*s' overlap in the data section",
                         (int)RF_MIN(a->name.len, 200), a->name.ptr, (int)RF_MIN(b->name.len, 200), b->name.ptr);
            break;
        }
    }
    rf__free(sp);
    return st;
}

/* Parses and validates one file whose bytes are f->base[0..f->size). */
static rf_status parse_file(rf__gguf_file *f, rf_err *err) {
    rf_status st;
    if (f->size < 4 || !f->base) /* also keeps NULL + 0 out of the cursor */
        return rf__err(err, RF_ERR_FORMAT, "not a GGUF file: %" PRIu64 " bytes is too short for the magic", f->size);
    cursor c = {f->base, f->base + f->size, f->base};
    uint64_t n_tensors = 0, n_kv = 0;
    if ((st = parse_header(&c, f, &n_tensors, &n_kv, err))) return st;
    if ((st = parse_kv(&c, f, n_kv, err))) return st;
    if (n_tensors) {
        f->tensors = rf__calloc(n_tensors, sizeof *f->tensors);
        if (!f->tensors) return rf__err(err, RF_ERR_NOMEM, "out of memory for %" PRIu64 " tensor descriptions", n_tensors);
    }
    for (uint64_t i = 0; i < n_tensors; i++) {
        if ((st = parse_tensor(&c, &f->tensors[i], i, err))) return st;
        f->n_tensors = i + 1;
    }
    uint64_t pos = cur_off(&c);
    /* pos < 2^63 and alignment <= 2^20: no overflow */
    f->data_offset = (pos + f->alignment - 1) / f->alignment * f->alignment;
    f->data_size = f->data_offset <= f->size ? f->size - f->data_offset : 0;
    return check_layout(f, err);
}

/* ---- opening ------------------------------------------------------------------- */

static rf_status map_file(const char *path, rf__gguf_file *f, rf_err *err) {
    rf_status st = RF_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return rf__err(err, errno == ENOENT ? RF_ERR_NOT_FOUND : RF_ERR_IO, "cannot open '%s': %s", path,
                       strerror(errno));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        st = rf__err(err, RF_ERR_IO, "cannot stat '%s': %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = rf__err(err, RF_ERR_IO, "'%s' is not a regular file", path);
        goto out;
    }
    if (sb.st_size < (off_t)HEADER_BYTES) {
        st = rf__err(err, RF_ERR_FORMAT, "'%s' is not a GGUF file: %lld bytes is shorter than the %u-byte header",
                     path, (long long)sb.st_size, HEADER_BYTES);
        goto out;
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        st = rf__err(err, RF_ERR_UNSUPPORTED, "'%s' is too large to map", path);
        goto out;
    }
    void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
        st = rf__err(err, RF_ERR_IO, "cannot map '%s': %s", path, strerror(errno));
        goto out;
    }
    f->map = m;
    f->map_size = (size_t)sb.st_size;
    f->base = m;
    f->size = (uint64_t)sb.st_size;
out:
    close(fd);
    return st;
}

static rf_status open_one(const char *path, rf__gguf_file *f, rf_err *err) {
    rf_err sub;
    rf_status st = map_file(path, f, err);
    if (st) return st;
    st = parse_file(f, &sub);
    if (st) rf__err(err, st, "%s: %s", path, sub.msg);
    return st;
}

/* Reads an integer split key; -1 if absent. */
static rf_status split_key(const rf__gguf_file *f, const char *key, int64_t *out, rf_err *err) {
    const rf_gguf_value *v = rf__gguf_file_get(f, key);
    *out = -1;
    if (!v) return RF_OK;
    switch (v->type) {
    case RF_GGUF_U8: case RF_GGUF_U16: case RF_GGUF_U32: case RF_GGUF_U64:
        if (v->v.u > 0xffffffffu) break;
        *out = (int64_t)v->v.u;
        return RF_OK;
    case RF_GGUF_I8: case RF_GGUF_I16: case RF_GGUF_I32: case RF_GGUF_I64:
        if (v->v.i < 0 || v->v.i > 0xffffffff) break;
        *out = v->v.i;
        return RF_OK;
    default:
        return rf__err(err, RF_ERR_FORMAT, "%s must be an integer, found %s", key, rf_gguf_vtype_name(v->type));
    }
    return rf__err(err, RF_ERR_FORMAT, "%s is out of range", key);
}

/* Recognises PREFIX-00001-of-NNNNN.gguf; returns prefix length and N, or 0. */
static size_t split_name(const char *path, uint32_t *no, uint32_t *count) {
    static const char tail[] = "-00000-of-00000.gguf";
    size_t len = strlen(path), tl = sizeof tail - 1;
    if (len <= tl) return 0;
    const char *s = path + len - tl;
    uint32_t a = 0, b = 0;
    for (size_t i = 0; i < tl; i++) {
        if (tail[i] == '0') {
            if (s[i] < '0' || s[i] > '9') return 0;
            if (i < 6) a = a * 10 + (uint32_t)(s[i] - '0');
            else b = b * 10 + (uint32_t)(s[i] - '0');
        } else if (s[i] != tail[i]) {
            return 0;
        }
    }
    *no = a;
    *count = b;
    return len - tl;
}

static rf_status finish(rf_gguf *g, rf_err *err) {
    rf_status st;
    uint64_t total = 0;
    for (uint32_t i = 0; i < g->n_files; i++) total += g->files[i].n_tensors;
    if (g->n_files == 1) {
        g->tensors = g->files[0].tensors;
        g->files[0].tensors = NULL;
    } else if (total) {
        g->tensors = rf__calloc(total, sizeof *g->tensors);
        if (!g->tensors) return rf__err(err, RF_ERR_NOMEM, "out of memory for %" PRIu64 " tensors", total);
        uint64_t k = 0;
        for (uint32_t i = 0; i < g->n_files; i++) {
            rf__gguf_file *f = &g->files[i];
            for (uint64_t j = 0; j < f->n_tensors; j++) {
                g->tensors[k] = f->tensors[j];
                g->tensors[k].split = i;
                k++;
            }
            rf__free(f->tensors);
            f->tensors = NULL;
        }
    }
    g->n_tensors = total;
    if (total >= MAX_ENTRIES) return rf__err(err, RF_ERR_UNSUPPORTED, "too many tensors (%" PRIu64 ")", total);
    st = rf__gguf_index_build(&g->tensor_index, g->tensors, sizeof *g->tensors, g->n_tensors, "tensor", err);
    return st;
}

static rf_gguf *gguf_alloc(uint32_t n_files) {
    rf_gguf *g = rf__calloc(1, sizeof *g);
    if (!g) return NULL;
    g->files = rf__calloc(n_files, sizeof *g->files);
    if (!g->files) { rf__free(g); return NULL; }
    g->n_files = n_files;
    return g;
}

void rf_gguf_free(rf_gguf *g) {
    if (!g) return;
    for (uint32_t i = 0; i < g->n_files; i++) file_release(&g->files[i]);
    rf__free(g->files);
    rf__free(g->tensors);
    rf__gguf_index_free(&g->tensor_index);
    rf__free(g);
}

rf_status rf_gguf_open_buffer(const void *buf, size_t size, rf_gguf **out, rf_err *err) {
    rf_status st;
    rf_gguf *g = NULL;
    if (!out) return rf__err(err, RF_ERR_INVALID_ARG, "rf_gguf_open_buffer: out is NULL");
    *out = NULL;
    if (!buf && size) return rf__err(err, RF_ERR_INVALID_ARG, "rf_gguf_open_buffer: buffer is NULL");
    g = gguf_alloc(1);
    if (!g) return rf__err(err, RF_ERR_NOMEM, "out of memory");
    g->files[0].base = buf;
    g->files[0].size = size;
    if ((st = parse_file(&g->files[0], err))) goto fail;
    int64_t count, no;
    if ((st = split_key(&g->files[0], "split.count", &count, err))) goto fail;
    if ((st = split_key(&g->files[0], "split.no", &no, err))) goto fail;
    if (count > 1 || no > 0) {
        st = rf__err(err, RF_ERR_UNSUPPORTED, "buffer holds split %" PRId64 " of a split model; open splits by path",
                     no);
        goto fail;
    }
    if ((st = finish(g, err))) goto fail;
    *out = g;
    return RF_OK;
fail:
    rf_gguf_free(g);
    return st;
}

rf_status rf_gguf_open(const char *path, rf_gguf **out, rf_err *err) {
    rf_status st;
    rf_gguf *g = NULL;
    char *name = NULL;
    rf__gguf_file first = {0};
    if (!out) return rf__err(err, RF_ERR_INVALID_ARG, "rf_gguf_open: out is NULL");
    *out = NULL;
    if (!path) return rf__err(err, RF_ERR_INVALID_ARG, "rf_gguf_open: path is NULL");
    if ((st = open_one(path, &first, err))) goto fail;

    int64_t count, no, tcount;
    if ((st = split_key(&first, "split.count", &count, err))) goto fail;
    if ((st = split_key(&first, "split.no", &no, err))) goto fail;
    if ((st = split_key(&first, "split.tensors.count", &tcount, err))) goto fail;
    uint32_t name_no = 0, name_count = 0;
    size_t prefix = split_name(path, &name_no, &name_count);
    if (count < 0 && prefix && name_count > 1) {
        st = rf__err(err, RF_ERR_FORMAT, "%s: the name says split %u of %u but the file has no split.count key", path,
                     name_no, name_count);
        goto fail;
    }
    if (count == 0) {
        st = rf__err(err, RF_ERR_FORMAT, "%s: split.count is 0", path);
        goto fail;
    }
    if (count > 1 && no != 0) {
        st = rf__err(err, RF_ERR_FORMAT, "%s is split %" PRId64 " of %" PRId64 "; open the first split (-00001-of-%05" PRId64 ".gguf)",
                     path, no + 1, count, count);
        goto fail;
    }
    if (count <= 1) {
        if (no > 0) {
            st = rf__err(err, RF_ERR_FORMAT, "%s: split.no is %" PRId64 " but split.count is 1", path, no);
            goto fail;
        }
        g = gguf_alloc(1);
        if (!g) { st = rf__err(err, RF_ERR_NOMEM, "out of memory"); goto fail; }
        g->files[0] = first;
        memset(&first, 0, sizeof first);
    } else {
        if (count > 99999 || !prefix || name_no != 1 || name_count != (uint32_t)count) {
            st = rf__err(err, RF_ERR_FORMAT,
                         "%s: split.count is %" PRId64 " but the name does not follow NAME-00001-of-%05" PRId64 ".gguf",
                         path, count, count);
            goto fail;
        }
        g = gguf_alloc((uint32_t)count);
        if (!g) { st = rf__err(err, RF_ERR_NOMEM, "out of memory"); goto fail; }
        g->files[0] = first;
        memset(&first, 0, sizeof first);
        size_t nlen = prefix + 21;
        name = rf__malloc(nlen);
        if (!name) { st = rf__err(err, RF_ERR_NOMEM, "out of memory"); goto fail; }
        for (uint32_t i = 1; i < (uint32_t)count; i++) {
            snprintf(name, nlen, "%.*s-%05u-of-%05u.gguf", (int)prefix, path, i + 1, (uint32_t)count);
            rf__gguf_file *f = &g->files[i];
            if ((st = open_one(name, f, err))) goto fail;
            int64_t c2, n2;
            if ((st = split_key(f, "split.count", &c2, err)) || (st = split_key(f, "split.no", &n2, err))) goto fail;
            if (c2 != count || n2 != (int64_t)i) {
                st = rf__err(err, RF_ERR_FORMAT, "%s: split.no %" PRId64 " / split.count %" PRId64 ", expected %u / %" PRId64,
                             name, n2, c2, i, count);
                goto fail;
            }
        }
    }
    if ((st = finish(g, err))) goto fail;
    if (tcount >= 0 && (uint64_t)tcount != g->n_tensors) {
        st = rf__err(err, RF_ERR_FORMAT, "%s: split.tensors.count is %" PRId64 " but the splits hold %" PRIu64 " tensors",
                     path, tcount, g->n_tensors);
        goto fail;
    }
    rf__free(name);
    *out = g;
    return RF_OK;
fail:
    rf__free(name);
    file_release(&first);
    rf_gguf_free(g);
    return st;
}
