/* Small string and number helpers: comparisons, checked parsing, hex. */
#ifndef MC_UTIL_H
#define MC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "error.h"

static inline bool
streq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static inline bool
streq_ptr(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static inline bool
isempty(const char *s)
{
    return !s || !*s;
}

/* Returns the rest of s after prefix, or NULL when s does not start with it. */
const char *startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);

/* Checked integer parsing of a whole string (no trailing garbage, no overflow). */
int mc_parse_int64(const char *s, int64_t *ret);
int mc_parse_uint64(const char *s, uint64_t *ret);
int mc_parse_int(const char *s, int *ret);
/* Accepts 1/0, true/false, yes/no, on/off. */
int mc_parse_bool(const char *s, bool *ret);
/* Durations: "1500ms", "10s", "2m", "1h", "1h30m"; a bare number is seconds. */
int mc_parse_duration_ms(const char *s, int64_t *ret_ms);
/* Sizes: "64m", "1g", "512k", "1024" (bytes); binary units, case-insensitive, "b" optional. */
int mc_parse_size(const char *s, uint64_t *ret);
/* "1.2 GB"-style human size (decimal, as docker prints), written into buf. */
const char *mc_format_size(uint64_t bytes, char *buf, size_t len);

/* Lower-case hex of n bytes; out must hold 2n+1 bytes. */
void mc_hex_encode(const uint8_t *in, size_t n, char *out);
/* Decodes exactly 2n hex digits into n bytes. */
int mc_hex_decode(const char *in, uint8_t *out, size_t n);
/* The value of one hex digit (either case), -1 for any other character. */
int mc_hex_digit(char c);
bool mc_is_hex(const char *s, size_t len);

/* Levenshtein distance, for "did you mean". */
size_t mc_edit_distance(const char *a, const char *b);

/* RFC 1123 label check for machine names: letters, digits, inner hyphens, 1..63. */
bool mc_name_is_valid(const char *name);

#endif
