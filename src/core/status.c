/* status.c - status names, error messages, version, small numeric helpers. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core.h"

const char *rf_status_str(rf_status st) {
    switch (st) {
    case RF_OK: return "ok";
    case RF_ERR_NOMEM: return "out of memory";
    case RF_ERR_IO: return "i/o error";
    case RF_ERR_INVALID_ARG: return "invalid argument";
    case RF_ERR_FORMAT: return "malformed data";
    case RF_ERR_UNSUPPORTED: return "unsupported";
    case RF_ERR_NOT_FOUND: return "not found";
    case RF_ERR_TYPE: return "wrong type";
    case RF_ERR_RANGE: return "out of range";
    case RF_ERR_TEMPLATE: return "template error";
    case RF_ERR_BUDGET: return "budget exhausted";
    case RF_ERR_CANCELLED: return "cancelled";
    case RF_ERR_CONTEXT_FULL: return "context full";
    case RF_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

const char *rf_version(void) { return "0.1.0"; }

rf_status rf__err(rf_err *e, rf_status st, const char *fmt, ...) {
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
        e->status = st;
    }
    return st;
}

void rf__err_clear(rf_err *e) {
    if (e) { e->status = RF_OK; e->msg[0] = '\0'; }
}

double rf__now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* IEEE half <-> single, bit-exact with ggml's reference conversions. */
float rf__fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do { mant <<= 1; e++; } while (!(mant & 0x400));
            mant &= 0x3ff;
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | (mant << 13);
        }
    } else if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Round to nearest, ties to even; overflow gives infinity. A NaN keeps its
 * sign and the top 10 bits of its payload (made nonzero so it stays a NaN),
 * exactly as numpy's float32 -> float16 cast does. */
uint16_t rf__fp32_to_fp16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t absx = x & 0x7fffffffu;
    if (absx > 0x7f800000u) { /* NaN */
        uint16_t m = (uint16_t)((absx & 0x7fffffu) >> 13);
        return (uint16_t)(sign | 0x7c00 | (m ? m : 1));
    }
    if (absx >= 0x477ff000u) return (uint16_t)(sign | 0x7c00); /* >= 65520 rounds to inf */
    if (absx < 0x38800000u) { /* below 2^-14: subnormal half or zero */
        if (absx <= 0x33000000u) return sign; /* <= 2^-25, half the smallest subnormal: ties to 0 */
        uint32_t e = absx >> 23;
        uint32_t m = (absx & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - e; /* 14..24: m * 2^(e-150) in units of 2^-24 */
        uint32_t half = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t h = (absx - 0x38000000u) >> 13; /* rebias 127 -> 15, drop 13 bits */
    uint32_t rem = absx & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++; /* may carry into inf: correct */
    return (uint16_t)(sign | h);
}

float rf__bf16_to_fp32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t rf__fp32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 64); /* quiet NaN */
    return (uint16_t)((x + (0x7fff + ((x >> 16) & 1))) >> 16);
}
