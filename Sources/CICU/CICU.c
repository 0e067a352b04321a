// ICU behind primitive types. See include/CICU.h for the contract of each function.
#include "CICU.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uregex.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>
#include <unicode/uversion.h>

const char *bl_error_name(int32_t status) { return u_errorName((UErrorCode)status); }

void bl_icu_version(char *buffer, int32_t capacity) {
  UVersionInfo version;
  char text[U_MAX_VERSION_STRING_LENGTH];
  u_getVersion(version);
  u_versionToString(version, text);
  if (capacity > 0) {
    strncpy(buffer, text, (size_t)capacity - 1);
    buffer[capacity - 1] = 0;
  }
}

// Grows *buffer to hold at least `needed` elements of `size` bytes; returns 0 on allocation failure.
static int reserve(void **buffer, int32_t *capacity, int32_t needed, size_t size) {
  if (needed <= *capacity) return 1;
  int32_t grown = *capacity > 0 ? *capacity : 256;
  while (grown < needed) grown = grown > INT32_MAX / 2 ? needed : grown * 2;
  void *resized = realloc(*buffer, (size_t)grown * size);
  if (!resized) return 0;
  *buffer = resized;
  *capacity = grown;
  return 1;
}

// ---------------------------------------------------------------------------------------------
// Word breaking

// Class of an all-ASCII segment, read from its bytes instead of ICU's rule status (a lookup per
// segment). It reproduces ICU's answer, which is the status of the last rule matched: a segment is a
// word if its last letter-or-digit is a letter ("21st", "@anonymous", "a_b"), a number if it is a digit
// ("3.5", "x1", "1_"); of the rest, a run of two or more '_' is a word and a lone '_' is not. ICU's
// rules count '@' as a letter (for e-mail addresses and handles), so "@" alone is a word too.
static uint8_t classify_ascii(const uint8_t *bytes, int32_t length) {
  int underscores = 1, blank = 1;
  for (int32_t i = length - 1; i >= 0; i--) {
    uint8_t c = bytes[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '@') return BL_SEGMENT_LETTERS;
    if (c >= '0' && c <= '9') return BL_SEGMENT_NUMBER;
    if (c != '_') underscores = 0;
    if (c > 0x20 && c != 0x7F) blank = 0;
  }
  if (underscores && length >= 2) return BL_SEGMENT_LETTERS;
  return blank ? 0 : BL_SEGMENT_PUNCTUATION;
}

// What the last byte of an all-ASCII segment tells at once (most segments): a letter or digit decides
// the class; white space only ever joins white space. Anything else needs `classify_ascii`.
enum { KIND_FROM_ALL_BYTES = 0xFF };

static uint8_t last_byte_kind(int byte) {
  if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') || byte == '@') return BL_SEGMENT_LETTERS;
  if (byte >= '0' && byte <= '9') return BL_SEGMENT_NUMBER;
  if (byte <= 0x20 || byte == 0x7F) return 0;
  return KIND_FROM_ALL_BYTES;
}

// The first index at or after `from` holding a non-ASCII UTF-16 unit, or `length`.
static int32_t next_non_ascii(const UChar *text, int32_t from, int32_t length) {
  while (from < length && text[from] < 0x80) from++;
  return from;
}

typedef struct {
  UBreakIterator *iterator;
  uint8_t last_byte_kind[128];
  UChar *utf16;
  int32_t utf16_capacity;
  int32_t *starts, *ends;
  uint8_t *kinds;
  int32_t starts_capacity, ends_capacity, kinds_capacity;
} WordBreaker;

void *bl_word_breaker_open(const char *locale, int32_t *status) {
  UErrorCode error = U_ZERO_ERROR;
  UBreakIterator *iterator = ubrk_open(UBRK_WORD, locale, NULL, 0, &error);
  if (U_FAILURE(error)) {
    *status = error;
    return NULL;
  }
  WordBreaker *breaker = calloc(1, sizeof(WordBreaker));
  if (!breaker) {
    ubrk_close(iterator);
    *status = U_MEMORY_ALLOCATION_ERROR;
    return NULL;
  }
  breaker->iterator = iterator;
  for (int byte = 0; byte < 128; byte++) breaker->last_byte_kind[byte] = last_byte_kind(byte);
  *status = error;  // may be a warning such as U_USING_DEFAULT_WARNING (< 0)
  return breaker;
}

void bl_word_breaker_close(void *opaque) {
  WordBreaker *breaker = opaque;
  if (!breaker) return;
  ubrk_close(breaker->iterator);
  free(breaker->utf16);
  free(breaker->starts);
  free(breaker->ends);
  free(breaker->kinds);
  free(breaker);
}

const int32_t *bl_word_breaker_starts(const void *breaker) { return ((const WordBreaker *)breaker)->starts; }
const int32_t *bl_word_breaker_ends(const void *breaker) { return ((const WordBreaker *)breaker)->ends; }
const uint8_t *bl_word_breaker_kinds(const void *breaker) { return ((const WordBreaker *)breaker)->kinds; }

// Class of a segment whose rule status is "none" (no letters, digits, kana or ideographs):
// 0 when it is only white space, controls or format characters (never reported).
static uint8_t classify_other(const UChar *text, int32_t start, int32_t end) {
  if (end - start == 1 && text[start] < 0x80) {
    UChar c = text[start];
    return (c <= 0x20 || c == 0x7F) ? 0 : BL_SEGMENT_PUNCTUATION;
  }
  int blank = 1, emoji = 0, number = 0, letters = 0;
  for (int32_t i = start; i < end;) {
    UChar32 c;
    U16_NEXT(text, i, end, c);
    int8_t type = u_charType(c);
    if (!u_isUWhiteSpace(c) && type != U_CONTROL_CHAR && type != U_FORMAT_CHAR) blank = 0;
    if (u_hasBinaryProperty(c, UCHAR_EXTENDED_PICTOGRAPHIC) || u_hasBinaryProperty(c, UCHAR_REGIONAL_INDICATOR))
      emoji = 1;
    // Word-break rules count only decimal digits as numeric: circled, superscript and Roman numerals
    // ("①", "²", "Ⅻ") and stray alphabetic marks land here, but NFKC turns them into digits or letters.
    if (type == U_OTHER_NUMBER || type == U_LETTER_NUMBER) number = 1;
    else if (u_hasBinaryProperty(c, UCHAR_ALPHABETIC)) letters = 1;
  }
  if (emoji) return BL_SEGMENT_EMOJI;
  if (number) return BL_SEGMENT_NUMBER;
  if (letters) return BL_SEGMENT_LETTERS;
  return blank ? 0 : BL_SEGMENT_PUNCTUATION;
}

int32_t bl_word_breaker_segment(void *opaque, const uint8_t *utf8, int32_t length, int32_t keep_punctuation,
                                int32_t *status) {
  WordBreaker *breaker = opaque;
  UErrorCode error = U_ZERO_ERROR;
  *status = 0;
  if (length < 0) {
    *status = U_ILLEGAL_ARGUMENT_ERROR;
    return -1;
  }
  // UTF-16 never needs more code units than UTF-8 has bytes.
  if (!reserve((void **)&breaker->utf16, &breaker->utf16_capacity, length + 1, sizeof(UChar))) {
    *status = U_MEMORY_ALLOCATION_ERROR;
    return -1;
  }
  int32_t utf16_length = 0;
  u_strFromUTF8WithSub(breaker->utf16, breaker->utf16_capacity, &utf16_length, (const char *)utf8, length, 0xFFFD,
                       NULL, &error);
  if (U_FAILURE(error)) {
    *status = error;
    return -1;
  }
  ubrk_setText(breaker->iterator, breaker->utf16, utf16_length, &error);
  if (U_FAILURE(error)) {
    *status = error;
    return -1;
  }
  // There are at most as many segments as UTF-16 units, so the arrays never grow inside the loop.
  int ok = reserve((void **)&breaker->starts, &breaker->starts_capacity, utf16_length + 1, sizeof(int32_t)) &&
           reserve((void **)&breaker->ends, &breaker->ends_capacity, utf16_length + 1, sizeof(int32_t)) &&
           reserve((void **)&breaker->kinds, &breaker->kinds_capacity, utf16_length + 1, sizeof(uint8_t));
  if (!ok) {
    *status = U_MEMORY_ALLOCATION_ERROR;
    return -1;
  }
  const uint8_t reported[7] = {0, 1, 1, 1, 1, 1, keep_punctuation ? 1 : 0};  // by segment class
  const UChar *text = breaker->utf16;
  int32_t count = 0;
  // Cursor pairing a UTF-16 index with the UTF-8 byte offset of the same code point.
  int32_t index16 = 0, index8 = 0;
  int32_t start16 = ubrk_first(breaker->iterator), start8 = 0, end16;
  // Everything before `ascii_until` (a UTF-16 index) is ASCII, where UTF-8 and UTF-16 offsets
  // differ by a constant and a segment's class can mostly be read from its first byte.
  int32_t ascii_until = next_non_ascii(text, 0, utf16_length);
  while ((end16 = ubrk_next(breaker->iterator)) != UBRK_DONE) {
    uint8_t kind;
    if (end16 <= ascii_until) {
      index8 = start8 + (end16 - start16);
      index16 = end16;
      kind = breaker->last_byte_kind[utf8[index8 - 1]];
      if (kind == KIND_FROM_ALL_BYTES) kind = classify_ascii(utf8 + start8, index8 - start8);
    } else {
      int ascii = 1;
      while (index16 < end16) {
        if (utf8[index8] < 0x80) {
          index8++;
          index16++;
        } else {
          UChar32 c;
          U8_NEXT(utf8, index8, length, c);
          index16 += (c > 0xFFFF) ? 2 : 1;
          ascii = 0;
        }
      }
      if (end16 > ascii_until) ascii_until = next_non_ascii(text, end16, utf16_length);
      if (ascii) {
        kind = classify_ascii(utf8 + start8, index8 - start8);
      } else {
        int32_t rule = ubrk_getRuleStatus(breaker->iterator);
        if (rule >= UBRK_WORD_IDEO) kind = BL_SEGMENT_IDEOGRAPHIC;
        else if (rule >= UBRK_WORD_KANA) kind = BL_SEGMENT_KANA;
        else if (rule >= UBRK_WORD_LETTER) kind = BL_SEGMENT_LETTERS;
        else if (rule >= UBRK_WORD_NUMBER) kind = BL_SEGMENT_NUMBER;
        else kind = classify_other(text, start16, end16);
      }
    }
    // Written unconditionally and kept by advancing `count`: words and spaces alternate, so a branch
    // here would be mispredicted about once a word.
    breaker->starts[count] = start8;
    breaker->ends[count] = index8;
    breaker->kinds[count] = kind;
    count += reported[kind];
    start16 = end16;
    start8 = index8;
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// NFKC_Casefold

typedef struct {
  const UNormalizer2 *normalizer;  // ICU-owned singleton; NULL for BL_MAP_LOWERCASE
  int32_t mode;
  UChar *input16, *output16;
  uint8_t *output8;
  int32_t input16_capacity, output16_capacity, output8_capacity;
} Normalizer;

void *bl_normalizer_open(int32_t *status) { return bl_text_mapper_open(BL_MAP_NFKC_CASEFOLD, status); }

void *bl_text_mapper_open(int32_t mode, int32_t *status) {
  UErrorCode error = U_ZERO_ERROR;
  const UNormalizer2 *instance = NULL;
  switch (mode) {
  case BL_MAP_NFKC_CASEFOLD: instance = unorm2_getNFKCCasefoldInstance(&error); break;
  case BL_MAP_NFKC_THEN_FOLD_CASE: instance = unorm2_getNFKCInstance(&error); break;
  case BL_MAP_LOWERCASE: break;
  case BL_MAP_NFD: instance = unorm2_getNFDInstance(&error); break;
  default: error = U_ILLEGAL_ARGUMENT_ERROR;
  }
  if (U_FAILURE(error)) {
    *status = error;
    return NULL;
  }
  Normalizer *normalizer = calloc(1, sizeof(Normalizer));
  if (!normalizer) {
    *status = U_MEMORY_ALLOCATION_ERROR;
    return NULL;
  }
  normalizer->normalizer = instance;
  normalizer->mode = mode;
  *status = 0;
  return normalizer;
}

void bl_normalizer_close(void *opaque) {
  Normalizer *normalizer = opaque;
  if (!normalizer) return;
  free(normalizer->input16);
  free(normalizer->output16);
  free(normalizer->output8);
  free(normalizer);
}

const uint8_t *bl_normalizer_normalize(void *opaque, const uint8_t *utf8, int32_t length, int32_t *out_length,
                                       int32_t *status) {
  Normalizer *n = opaque;
  UErrorCode error = U_ZERO_ERROR;
  *status = 0;
  if (length < 0 || !reserve((void **)&n->input16, &n->input16_capacity, length + 1, sizeof(UChar))) {
    *status = length < 0 ? U_ILLEGAL_ARGUMENT_ERROR : U_MEMORY_ALLOCATION_ERROR;
    return NULL;
  }
  int32_t length16 = 0;
  u_strFromUTF8WithSub(n->input16, n->input16_capacity, &length16, (const char *)utf8, length, 0xFFFD, NULL, &error);
  if (U_FAILURE(error)) {
    *status = error;
    return NULL;
  }
  int32_t normalized16 = 0;
  for (int attempt = 0; attempt < 2; attempt++) {
    int32_t wanted = attempt == 0 ? length16 * 2 + 16 : normalized16 + 1;
    if (!reserve((void **)&n->output16, &n->output16_capacity, wanted, sizeof(UChar))) {
      *status = U_MEMORY_ALLOCATION_ERROR;
      return NULL;
    }
    error = U_ZERO_ERROR;
    if (n->mode == BL_MAP_LOWERCASE) {
      normalized16 = u_strToLower(n->output16, n->output16_capacity, n->input16, length16, "", &error);
    } else {
      normalized16 = unorm2_normalize(n->normalizer, n->input16, length16, n->output16, n->output16_capacity, &error);
    }
    if (error != U_BUFFER_OVERFLOW_ERROR) break;
  }
  if (U_FAILURE(error)) {
    *status = error;
    return NULL;
  }
  if (n->mode == BL_MAP_NFKC_THEN_FOLD_CASE) {
    // Full case folding of the NFKC text, written back into the input buffer, which then swaps roles.
    int32_t folded16 = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
      int32_t wanted = attempt == 0 ? normalized16 * 2 + 16 : folded16 + 1;
      if (!reserve((void **)&n->input16, &n->input16_capacity, wanted, sizeof(UChar))) {
        *status = U_MEMORY_ALLOCATION_ERROR;
        return NULL;
      }
      error = U_ZERO_ERROR;
      folded16 = u_strFoldCase(n->input16, n->input16_capacity, n->output16, normalized16, U_FOLD_CASE_DEFAULT, &error);
      if (error != U_BUFFER_OVERFLOW_ERROR) break;
    }
    if (U_FAILURE(error)) {
      *status = error;
      return NULL;
    }
    UChar *swap = n->input16;
    n->input16 = n->output16;
    n->output16 = swap;
    int32_t capacity = n->input16_capacity;
    n->input16_capacity = n->output16_capacity;
    n->output16_capacity = capacity;
    normalized16 = folded16;
  }
  // Each UTF-16 unit becomes at most 3 UTF-8 bytes.
  if (!reserve((void **)&n->output8, &n->output8_capacity, normalized16 * 3 + 1, 1)) {
    *status = U_MEMORY_ALLOCATION_ERROR;
    return NULL;
  }
  error = U_ZERO_ERROR;
  u_strToUTF8((char *)n->output8, n->output8_capacity, out_length, n->output16, normalized16, &error);
  if (U_FAILURE(error)) {
    *status = error;
    return NULL;
  }
  return n->output8;
}

// ---------------------------------------------------------------------------------------------
// Regular expressions over UTF-8 (byte offsets through a UTF-8 UText)

typedef struct {
  URegularExpression *regex;
  UText text;
  int32_t *starts, *ends;
  int32_t starts_capacity, ends_capacity;
} Regex;

void *bl_regex_open(const uint8_t *pattern, int32_t length, int32_t *status, int32_t *error_offset) {
  UErrorCode error = U_ZERO_ERROR;
  UText patternText = UTEXT_INITIALIZER;
  utext_openUTF8(&patternText, (const char *)pattern, length, &error);
  UParseError parse;
  memset(&parse, 0, sizeof parse);
  URegularExpression *regex = U_SUCCESS(error) ? uregex_openUText(&patternText, 0, &parse, &error) : NULL;
  utext_close(&patternText);
  *error_offset = parse.offset;
  if (U_FAILURE(error)) {
    *status = error;
    return NULL;
  }
  Regex *result = calloc(1, sizeof(Regex));
  if (!result) {
    uregex_close(regex);
    *status = U_MEMORY_ALLOCATION_ERROR;
    return NULL;
  }
  // A pattern that backtracks without end (`(a+)+b` on a long run of a's) stops with U_REGEX_TIME_OUT instead of
  // hanging: ICU counts in steps of its match engine, about a millisecond each.
  uregex_setTimeLimit(regex, BL_REGEX_TIME_LIMIT, &error);
  result->regex = regex;
  UText initial = UTEXT_INITIALIZER;
  result->text = initial;
  *status = 0;
  return result;
}

void bl_regex_close(void *opaque) {
  Regex *regex = opaque;
  if (!regex) return;
  uregex_close(regex->regex);
  utext_close(&regex->text);
  free(regex->starts);
  free(regex->ends);
  free(regex);
}

int32_t bl_regex_find_all(void *opaque, const uint8_t *utf8, int32_t length, int32_t *status) {
  Regex *r = opaque;
  UErrorCode error = U_ZERO_ERROR;
  static const uint8_t empty = 0;
  utext_openUTF8(&r->text, (const char *)(utf8 ? utf8 : &empty), length, &error);
  uregex_setUText(r->regex, &r->text, &error);
  int32_t count = 0;
  while (U_SUCCESS(error) && uregex_findNext(r->regex, &error)) {
    int64_t start = uregex_start64(r->regex, 0, &error), end = uregex_end64(r->regex, 0, &error);
    if (U_FAILURE(error)) break;
    if (!reserve((void **)&r->starts, &r->starts_capacity, count + 1, sizeof(int32_t)) ||
        !reserve((void **)&r->ends, &r->ends_capacity, count + 1, sizeof(int32_t))) {
      *status = U_MEMORY_ALLOCATION_ERROR;
      return -1;
    }
    r->starts[count] = (int32_t)start;
    r->ends[count] = (int32_t)end;
    count++;
  }
  if (U_FAILURE(error)) {
    *status = error;
    return -1;
  }
  *status = 0;
  return count;
}

const int32_t *bl_regex_starts(const void *regex) { return ((const Regex *)regex)->starts; }
const int32_t *bl_regex_ends(const void *regex) { return ((const Regex *)regex)->ends; }
