// A plain C face for the parts of ICU the lab uses. Only primitive types appear here: ICU's own
// headers are included by the .c file alone, so they never meet Foundation's bundled ICU in a
// Swift module (a clean build would fail with "'UErrorCode' has different definitions").
#ifndef BACKDOOR_LAB_CICU_H
#define BACKDOOR_LAB_CICU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Segment classes reported by the word breaker. White space is never reported.
enum {
  BL_SEGMENT_LETTERS = 1,      ///< ICU rule status "letter" (words, contractions, "21st")
  BL_SEGMENT_NUMBER = 2,       ///< ICU rule status "number" ("3.5", "1,000")
  BL_SEGMENT_KANA = 3,         ///< Hiragana / katakana words
  BL_SEGMENT_IDEOGRAPHIC = 4,  ///< Han words, segmented by ICU's dictionary
  BL_SEGMENT_EMOJI = 5,        ///< contains an Extended_Pictographic or Regional_Indicator code point
  BL_SEGMENT_PUNCTUATION = 6,  ///< any other non-space segment: punctuation and symbols
};

/// Name of an ICU error code ("U_ILLEGAL_ARGUMENT_ERROR").
const char *bl_error_name(int32_t status);

/// Opens a word breaker for `locale` ("root", "en_US", "ja", "th", ...). Returns NULL and sets
/// `*status` to an ICU error code (> 0) on failure. Not thread-safe: one breaker per thread.
void *bl_word_breaker_open(const char *locale, int32_t *status);
void bl_word_breaker_close(void *breaker);

/// Segments `length` bytes of valid UTF-8. Returns the number of reported segments, or -1 with
/// `*status` set. Segment i spans bytes [starts[i], ends[i]) of `utf8` and has class kinds[i];
/// the arrays stay owned by the breaker and are valid until the next call. Punctuation segments are
/// reported only when `keep_punctuation` is non-zero.
int32_t bl_word_breaker_segment(void *breaker, const uint8_t *utf8, int32_t length,
                                int32_t keep_punctuation, int32_t *status);
const int32_t *bl_word_breaker_starts(const void *breaker);
const int32_t *bl_word_breaker_ends(const void *breaker);
const uint8_t *bl_word_breaker_kinds(const void *breaker);

/// NFKC_Casefold normaliser (BL_MAP_NFKC_CASEFOLD) with its own scratch buffers. Not thread-safe: one per thread.
void *bl_normalizer_open(int32_t *status);
void bl_normalizer_close(void *normalizer);
/// Normalises `length` bytes of valid UTF-8; returns a pointer to the normaliser's buffer holding
/// `*out_length` bytes of UTF-8 (valid until the next call), or NULL with `*status` set.
const uint8_t *bl_normalizer_normalize(void *normalizer, const uint8_t *utf8, int32_t length,
                                       int32_t *out_length, int32_t *status);

/// Text mappings for `bl_text_mapper_open`.
enum {
  BL_MAP_NFKC_CASEFOLD = 0,        ///< ICU's NFKC_Casefold (drops default-ignorable characters)
  BL_MAP_NFKC_THEN_FOLD_CASE = 1,  ///< NFKC, then full case folding: Python's normalize("NFKC", s).casefold()
  BL_MAP_LOWERCASE = 2,            ///< full lowercase mapping, root locale: Python's s.lower()
  BL_MAP_NFD = 3,                  ///< canonical decomposition
};

/// A normaliser for one of the BL_MAP_ mappings, used with `bl_normalizer_normalize`. Returns NULL and
/// sets `*status` on failure (an unknown mode is U_ILLEGAL_ARGUMENT_ERROR).
void *bl_text_mapper_open(int32_t mode, int32_t *status);

/// ICU's time limit for one text's matches (steps of its match engine, on the order of a millisecond each).
#define BL_REGEX_TIME_LIMIT 30000

/// Compiles an ICU regular expression given as `length` bytes of UTF-8. Returns NULL and sets `*status`
/// (and `*error_offset`, the pattern position ICU names) when it does not compile. Not thread-safe.
void *bl_regex_open(const uint8_t *pattern, int32_t length, int32_t *status, int32_t *error_offset);
void bl_regex_close(void *regex);
/// Every match of the pattern in `length` bytes of valid UTF-8, left to right (empty matches included).
/// Returns the count, or -1 with `*status` set (U_REGEX_TIME_OUT past BL_REGEX_TIME_LIMIT). Match i spans bytes [starts[i], ends[i]); the arrays stay
/// owned by the regex and are valid until the next call.
int32_t bl_regex_find_all(void *regex, const uint8_t *utf8, int32_t length, int32_t *status);
const int32_t *bl_regex_starts(const void *regex);
const int32_t *bl_regex_ends(const void *regex);

/// ICU's version, e.g. "72.1".
void bl_icu_version(char *buffer, int32_t capacity);

#ifdef __cplusplus
}
#endif
#endif
