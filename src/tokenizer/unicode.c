/* unicode.c - UTF-8 coding, case/decomposition via utf8proc, GPT-2 byte map. */
#include "tokenizer/unicode.h"

#include <utf8proc.h>

#include "core/core.h"

uint32_t rf__utf8_decode(const uint8_t *s, size_t n, size_t *adv) {
    uint8_t b0 = s[0];
    *adv = 1;
    if (b0 < 0x80) return b0;
    if (!(b0 & 0x40)) return 0xFFFD;
    if (!(b0 & 0x20)) {
        if (n < 2 || (s[1] & 0xC0) != 0x80) return 0xFFFD;
        *adv = 2;
        return ((uint32_t)(b0 & 0x1F) << 6) | (s[1] & 0x3F);
    }
    if (!(b0 & 0x10)) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0xFFFD;
        *adv = 3;
        return ((uint32_t)(b0 & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    }
    if (!(b0 & 0x08)) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0xFFFD;
        uint32_t cp = ((uint32_t)(b0 & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
                      ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        if (cp > 0x10FFFF) return 0xFFFD;
        *adv = 4;
        return cp;
    }
    return 0xFFFD;
}

size_t rf__utf8_encode(uint32_t cp, char out[4]) {
    if (cp <= 0x7F) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp <= 0x7FF) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp <= 0xFFFF) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp > 0x10FFFF) cp = 0xFFFD; /* never produced by rf__utf8_decode */
    if (cp <= 0xFFFF) return rf__utf8_encode(cp, out);
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

uint32_t *rf__utf8_to_cpts(const char *s, size_t n, size_t *n_out) {
    uint32_t *cp = rf__malloc((n ? n : 1) * sizeof *cp);
    size_t k = 0;
    if (!cp) return NULL;
    for (size_t i = 0; i < n;) {
        size_t adv;
        cp[k++] = rf__utf8_decode((const uint8_t *)s + i, n - i, &adv);
        i += adv;
    }
    *n_out = k;
    return cp;
}

bool rf__utf8_valid(const char *s, size_t n) {
    utf8proc_int32_t cp;
    for (size_t i = 0; i < n;) {
        utf8proc_ssize_t r = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                              (utf8proc_ssize_t)RF_MIN(n - i, 4), &cp);
        if (r <= 0) return false;
        i += (size_t)r;
    }
    return true;
}

uint32_t rf__ucp_tolower(uint32_t cp) {
    if (cp > 0x10FFFF) return cp;
    return (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
}

uint32_t rf__ucp_nfd_first(uint32_t cp) {
    utf8proc_int32_t buf[8];
    int last = 0;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return cp;
    utf8proc_ssize_t r = utf8proc_decompose_char((utf8proc_int32_t)cp, buf, 8, UTF8PROC_DECOMPOSE, &last);
    if (r <= 0 || r > 8) return cp;
    return (uint32_t)buf[0];
}

static bool byte_is_printable(unsigned b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

uint32_t rf__byte_to_ucp(uint8_t b) {
    if (byte_is_printable(b)) return b;
    unsigned n = 0;
    for (unsigned c = 0; c < b; c++)
        if (!byte_is_printable(c)) n++;
    return 256 + n;
}

int rf__ucp_to_byte(uint32_t cp) {
    if (cp < 256) return byte_is_printable(cp) ? (int)cp : -1;
    if (cp >= 256 + 68) return -1;
    unsigned n = 0;
    for (unsigned c = 0; c < 256; c++) {
        if (byte_is_printable(c)) continue;
        if (n == cp - 256) return (int)c;
        n++;
    }
    return -1;
}
