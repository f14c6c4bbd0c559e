/*
 * rocmforge.h - public C API of librocmforge.
 *
 * Conventions: every function that can fail returns an rf_status; objects are
 * opaque handles created by rf_*_create/load and released by the matching
 * rf_*_free, which accepts NULL. Strings returned by the library are owned by
 * the object they came from unless the comment says otherwise.
 */
#ifndef ROCMFORGE_H
#define ROCMFORGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define RF_API __declspec(dllexport)
#else
#define RF_API __attribute__((visibility("default")))
#endif

#define RF_VERSION_MAJOR 0
#define RF_VERSION_MINOR 1
#define RF_VERSION_PATCH 0

/* Status codes. Append-only: values are never renumbered or reused. */
typedef enum rf_status {
    RF_OK = 0,
    RF_ERR_NOMEM = 1,        /* an allocation failed or would exceed a limit */
    RF_ERR_IO = 2,           /* open/read/mmap failed */
    RF_ERR_INVALID_ARG = 3,  /* caller passed something invalid */
    RF_ERR_FORMAT = 4,       /* malformed input file or data */
    RF_ERR_UNSUPPORTED = 5,  /* valid, but not supported by this build */
    RF_ERR_NOT_FOUND = 6,    /* key, tensor or file not present */
    RF_ERR_TYPE = 7,         /* present, but of the wrong type */
    RF_ERR_RANGE = 8,        /* value out of range */
    RF_ERR_TEMPLATE = 9,     /* chat template failed to parse or render */
    RF_ERR_BUDGET = 10,      /* an instruction, time or size budget ran out */
    RF_ERR_CANCELLED = 11,   /* stopped by the caller (callback returned nonzero) */
    RF_ERR_CONTEXT_FULL = 12,/* the context window is full */
    RF_ERR_INTERNAL = 13,    /* a bug: an internal invariant failed */
} rf_status;

/* A static, human-readable name for a status code. Never NULL. */
RF_API const char *rf_status_str(rf_status st);

/* Library version as "MAJOR.MINOR.PATCH". */
RF_API const char *rf_version(void);

#ifdef __cplusplus
}
#endif
#endif /* ROCMFORGE_H */
