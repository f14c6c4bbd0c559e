/*
 * unicode.h - code point helpers shared by the tokenizers: UTF-8 decoding
 * with the reference tokenizers' error handling, general-category classes,
 * case and decomposition (utf8proc), and GPT-2's byte-to-code-point map.
 */
#ifndef RF_TOK_UNICODE_H
#define RF_TOK_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* General category classes (low 3 bits of the table entry). */
enum {
    RF_UCAT_UNASSIGNED = 0, /* Cn */
    RF_UCAT_NUMBER = 1,     /* N* */
    RF_UCAT_LETTER = 2,     /* L* */
    RF_UCAT_SEPARATOR = 3,  /* Z* */
    RF_UCAT_MARK = 4,       /* M* */
    RF_UCAT_PUNCT = 5,      /* P* */
    RF_UCAT_SYMBOL = 6,     /* S* */
    RF_UCAT_OTHER = 7,      /* Cc, Cf, Co, Cs */
};
#define RF_UCP_WHITESPACE 8u /* White_Space property */

extern const uint16_t rf__ucd_stage1[];
extern const uint8_t rf__ucd_stage2[][256];

/* Class and White_Space bit of a code point; beyond U+10FFFF: unassigned. */
static inline unsigned rf__ucp_flags(uint32_t cp) {
    if (cp >= 0x110000) return RF_UCAT_UNASSIGNED;
    return rf__ucd_stage2[rf__ucd_stage1[cp >> 8]][cp & 255];
}
static inline unsigned rf__ucp_cat(uint32_t cp) { return rf__ucp_flags(cp) & 7u; }
static inline bool rf__ucp_is_space(uint32_t cp) { return (rf__ucp_flags(cp) & RF_UCP_WHITESPACE) != 0; }
static inline bool rf__ucp_is_letter(uint32_t cp) { return rf__ucp_cat(cp) == RF_UCAT_LETTER; }
static inline bool rf__ucp_is_number(uint32_t cp) { return rf__ucp_cat(cp) == RF_UCAT_NUMBER; }

/* Byte length of a UTF-8 sequence judged by its first byte alone (1 for
 * continuation and invalid bytes), as the reference SPM/BPE code splits. */
static inline size_t rf__utf8_lead_len(uint8_t c) {
    static const uint8_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lookup[c >> 4];
}

/* Decodes the code point at s[0..n) (n >= 1) and stores its byte length in
 * *adv. Lead and continuation bits are checked, overlong forms and
 * surrogates are accepted (as the reference does); a malformed sequence or
 * one beyond U+10FFFF yields U+FFFD with *adv = 1. */
uint32_t rf__utf8_decode(const uint8_t *s, size_t n, size_t *adv);

/* Encodes cp (<= 0x10FFFF, surrogates allowed) into out; returns 1..4. */
size_t rf__utf8_encode(uint32_t cp, char out[4]);

/* Decodes a whole string into code points (caller frees with rf__free). */
uint32_t *rf__utf8_to_cpts(const char *s, size_t n, size_t *n_out);

/* Strict check: true when s[0..n) is well-formed UTF-8. */
bool rf__utf8_valid(const char *s, size_t n);

/* Simple lowercase mapping and the first code point of the canonical
 * decomposition (utf8proc). */
uint32_t rf__ucp_tolower(uint32_t cp);
uint32_t rf__ucp_nfd_first(uint32_t cp);

/* GPT-2 byte-level mapping: every byte to a printable code point and back. */
uint32_t rf__byte_to_ucp(uint8_t b);
int rf__ucp_to_byte(uint32_t cp); /* -1 when cp is not in the map */

#endif /* RF_TOK_UNICODE_H */
