/*  jw.h: an append-only JSON writer for the dashboard's big answers
    (dash/api.h). A jansson DOM of 100,000 trials costs a malloc per value
    and a second pass to dump it; this writes the text directly. Commas
    are placed by looking at the last byte written, so callers write keys
    and values in order and never track "first element". Reals come out
    as %.17g would write them (read back as the same double), through a
    fast exact path for the magnitudes answers hold (timestamps, losses,
    learning rates); NaN and infinities as null. Strings are escaped,
    and bytes that are not UTF-8 become U+FFFD.                          */
#ifndef HPO_JW_H
#define HPO_JW_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *data;     //  NUL-terminated while len < cap
    size_t len, cap;
} hpo_jw_t;

void hpo_jw_init (hpo_jw_t *self);
//  Gives up the text (the caller frees it) and resets the writer.
char *hpo_jw_take (hpo_jw_t *self, size_t *len);
void hpo_jw_free (hpo_jw_t *self);

//  Makes room for more bytes, so a writer whose size is known grows once.
void hpo_jw_reserve (hpo_jw_t *self, size_t more);
//  Raw bytes, no comma: punctuation and already-encoded JSON.
void hpo_jw_raw (hpo_jw_t *self, const char *text, size_t len);
void hpo_jw_open (hpo_jw_t *self, char bracket);   //  '{' or '[', after a
                                                   //  comma if needed
void hpo_jw_close (hpo_jw_t *self, char bracket);  //  '}' or ']'
//  "key": (after a comma if needed); key is written escaped.
void hpo_jw_key (hpo_jw_t *self, const char *key);
//  Values, each after a comma if needed.
void hpo_jw_null (hpo_jw_t *self);
void hpo_jw_bool (hpo_jw_t *self, int value);
void hpo_jw_int (hpo_jw_t *self, int64_t value);
void hpo_jw_uint (hpo_jw_t *self, uint64_t value);
void hpo_jw_real (hpo_jw_t *self, double value);     //  null if not finite
void hpo_jw_time (hpo_jw_t *self, double t);         //  null unless t > 0
void hpo_jw_str (hpo_jw_t *self, const char *s);     //  null for NULL
void hpo_jw_strn (hpo_jw_t *self, const char *s, size_t len);
//  A JSON value already encoded (a jansson dump), as one value.
void hpo_jw_json (hpo_jw_t *self, const char *json, size_t len);

//  Formats a finite double exactly as "%.17g" does into out (at least 32
//  bytes); returns the length. Exposed for its test.
size_t hpo_jw_format_real (char *out, double value);

#endif
