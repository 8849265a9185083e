/*  jw.c: the append-only JSON writer of jw.h.                           */
#include "jw.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "../common/utf8.h"

void
hpo_jw_init (hpo_jw_t *self)
{
    memset (self, 0, sizeof *self);
}

char *
hpo_jw_take (hpo_jw_t *self, size_t *len)
{
    if (!self->data)
        hpo_jw_raw (self, "", 0);
    char *text = self->data;
    if (len)
        *len = self->len;
    hpo_jw_init (self);
    return text;
}

void
hpo_jw_free (hpo_jw_t *self)
{
    free (self->data);
    hpo_jw_init (self);
}

static inline void
s_reserve (hpo_jw_t *self, size_t more)
{
    if (self->len + more + 1 <= self->cap)
        return;
    size_t cap = self->cap ? self->cap : 256;
    while (cap < self->len + more + 1)
        cap *= 2;
    self->data = hpo_realloc (self->data, cap);
    self->cap = cap;
}

void
hpo_jw_reserve (hpo_jw_t *self, size_t more)
{
    s_reserve (self, more);
}

void
hpo_jw_raw (hpo_jw_t *self, const char *text, size_t len)
{
    s_reserve (self, len);
    memcpy (self->data + self->len, text, len);
    self->len += len;
    self->data[self->len] = 0;
}

//  A value or key follows a value already written: it needs a comma.
static inline void
s_comma (hpo_jw_t *self)
{
    if (self->len == 0)
        return;
    char last = self->data[self->len - 1];
    if (last != '[' && last != '{' && last != ':') {
        s_reserve (self, 1);
        self->data[self->len++] = ',';
        self->data[self->len] = 0;
    }
}

void
hpo_jw_open (hpo_jw_t *self, char bracket)
{
    assert (bracket == '{' || bracket == '[');
    s_comma (self);
    hpo_jw_raw (self, &bracket, 1);
}

void
hpo_jw_close (hpo_jw_t *self, char bracket)
{
    assert (bracket == '}' || bracket == ']');
    hpo_jw_raw (self, &bracket, 1);
}

static void
s_escaped (hpo_jw_t *self, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    s_reserve (self, len + 2);
    self->data[self->len++] = '"';
    size_t k = 0;
    while (k < len) {
        unsigned char c = (unsigned char)s[k];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            //  The common case: a run of plain ASCII, copied at once.
            size_t run = k + 1;
            while (run < len) {
                unsigned char d = (unsigned char)s[run];
                if (d < 0x20 || d >= 0x80 || d == '"' || d == '\\')
                    break;
                run++;
            }
            hpo_jw_raw (self, s + k, run - k);
            k = run;
        } else if (c >= 0x80) {
            size_t n = hpo_utf8_char (s + k, len - k);
            if (n)
                hpo_jw_raw (self, s + k, n);
            else
                hpo_jw_raw (self, "\xef\xbf\xbd", 3); //  U+FFFD
            k += n ? n : 1;
        } else {
            char esc[7] = {'\\', 0};
            size_t n = 2;
            switch (c) {
            case '"': esc[1] = '"'; break;
            case '\\': esc[1] = '\\'; break;
            case '\n': esc[1] = 'n'; break;
            case '\r': esc[1] = 'r'; break;
            case '\t': esc[1] = 't'; break;
            case '\b': esc[1] = 'b'; break;
            case '\f': esc[1] = 'f'; break;
            default:
                memcpy (esc + 1, "u00", 3);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                n = 6;
            }
            hpo_jw_raw (self, esc, n);
            k++;
        }
    }
    hpo_jw_raw (self, "\"", 1);
}

void
hpo_jw_key (hpo_jw_t *self, const char *key)
{
    s_comma (self);
    s_escaped (self, key, strlen (key));
    hpo_jw_raw (self, ":", 1);
}

void
hpo_jw_null (hpo_jw_t *self)
{
    s_comma (self);
    hpo_jw_raw (self, "null", 4);
}

void
hpo_jw_bool (hpo_jw_t *self, int value)
{
    s_comma (self);
    if (value)
        hpo_jw_raw (self, "true", 4);
    else
        hpo_jw_raw (self, "false", 5);
}

//  Digits of v, written backwards from end; returns where they start.
static char *
s_digits (char *end, uint64_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

void
hpo_jw_uint (hpo_jw_t *self, uint64_t value)
{
    char buf[24];
    char *start = s_digits (buf + sizeof buf, value);
    s_comma (self);
    hpo_jw_raw (self, start, (size_t)(buf + sizeof buf - start));
}

void
hpo_jw_int (hpo_jw_t *self, int64_t value)
{
    char buf[24];
    uint64_t mag = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
    char *start = s_digits (buf + sizeof buf, mag);
    if (value < 0)
        *--start = '-';
    s_comma (self);
    hpo_jw_raw (self, start, (size_t)(buf + sizeof buf - start));
}

//  ---- reals -----------------------------------------------------------
//  glibc's "%.17g" costs about 600 ns a number here; an answer of 100,000
//  trials holds over a million. The fast path computes the same 17
//  correctly rounded digits exactly, in 128-bit integers: value = m * 2^e,
//  digits = round (m * 10^p * 2^e) with p = 16 - (decimal exponent). That
//  is exact while m * 10^p fits 128 bits (p <= 22) and no digits lie left
//  of 10^17 (p >= 0): values from 1e-6 to 1e17. Others go to snprintf.

static const uint64_t s_pow10[20] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
    10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
    100000000000ULL, 1000000000000ULL, 10000000000000ULL,
    100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
    100000000000000000ULL, 1000000000000000000ULL,
    10000000000000000000ULL};

static unsigned __int128
s_pow10_128 (int p)
{
    if (p < 20)
        return s_pow10[p];
    return (unsigned __int128)s_pow10[19] * s_pow10[p - 19];
}

//  m * 10^p * 2^e: its integer part in *whole, and round (), ties to
//  even, as the result; e > -128.
static unsigned __int128
s_scaled (uint64_t m, int p, int e, unsigned __int128 *whole)
{
    unsigned __int128 n = (unsigned __int128)m * s_pow10_128 (p);
    if (e >= 0)
        return *whole = n << e;
    int s = -e;
    unsigned __int128 q = n >> s;
    unsigned __int128 rem = n - (q << s);
    unsigned __int128 half = (unsigned __int128)1 << (s - 1);
    *whole = q;
    if (rem > half || (rem == half && (q & 1)))
        q++;
    return q;
}

//  The 17 digits of v (> 0) and its decimal exponent, or -1 when the fast
//  path cannot say.
static int
s_digits17 (double v, uint64_t *digits, int *exp10)
{
    //  v = m * 2^e with m's top bit at 2^52 (v is normal and positive
    //  here: subnormals are far below the fast path's range).
    uint64_t bits;
    memcpy (&bits, &v, sizeof bits);
    int biased = (int)(bits >> 52);
    if (biased == 0 || biased == 0x7ff)
        return -1;
    uint64_t m = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
    int e = biased - 1075;
    //  log10 (v) to within one, from the binary exponent; the loop below
    //  corrects it.
    //  floor ((e + 52) * log10 (2)), in integers: 78913 / 2^18 is log10 (2)
    //  to within 2^-20 (near enough: the loop below corrects a miss).
    int d = ((e + 52) * 78913) >> 18;
    //  The estimate is the exponent or one less: a comparison with the
    //  next power settles it (a power that is not exact in binary may
    //  misjudge a value right at it, which the loop below corrects).
    static const double next[] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1e0,
                                  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                  1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14,
                                  1e15, 1e16, 1e17};
    if (d >= -7 && d <= 16 && v >= next[d + 7])
        d++;
    for (int tries = 0; tries < 3; tries++) {
        int p = 16 - d;
        if (p < 0 || p > 22 || e > 8 || e <= -127)
            return -1;
        //  The exponent is right when the exact value (not its rounding)
        //  has 17 digits left of the point.
        unsigned __int128 whole;
        unsigned __int128 q = s_scaled (m, p, e, &whole);
        if (whole >= s_pow10[17]) {
            d++;
            continue;
        }
        if (whole < s_pow10[16]) {
            d--;
            continue;
        }
        if (q == s_pow10[17]) {
            //  Rounding carried into an 18th digit: 1 followed by zeros.
            q = s_pow10[16];
            d++;
        }
        *digits = (uint64_t)q;
        *exp10 = d;
        return 0;
    }
    return -1;
}

size_t
hpo_jw_format_real (char *out, double value)
{
    assert (isfinite (value));
    uint64_t digits;
    int d;
    double mag = fabs (value);
    if (mag == 0 || s_digits17 (mag, &digits, &d))
        return (size_t)snprintf (out, 32, "%.17g", value);
    static const char pairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233"
        "34353637383940414243444546474849505152535455565758596061626364656667"
        "6869707172737475767778798081828384858687888990919293949596979899";
    //  1 + 8 + 8 digits: each half in 32-bit arithmetic, which is cheaper.
    char dig[18];
    uint32_t halves[2] = {(uint32_t)(digits / 100000000 % 100000000),
                          (uint32_t)(digits % 100000000)};
    dig[0] = (char)('0' + digits / 10000000000000000ULL);
    for (int h = 0; h < 2; h++) {
        uint32_t v = halves[h];
        for (int k = 7; k > 0; k -= 2) {
            memcpy (dig + 1 + 8 * h + k - 1, pairs + 2 * (v % 100), 2);
            v /= 100;
        }
    }
    int last = 16; //  %g drops trailing zeros
    while (last > 0 && dig[last] == '0')
        last--;
    size_t n = 0;
    if (value < 0)
        out[n++] = '-';
    if (d < -4) {
        out[n++] = dig[0];
        if (last > 0) {
            out[n++] = '.';
            memcpy (out + n, dig + 1, (size_t)last);
            n += (size_t)last;
        }
        n += (size_t)snprintf (out + n, 8, "e-%02d", -d);
    } else if (d < 0) {
        out[n++] = '0';
        out[n++] = '.';
        for (int k = 0; k < -d - 1; k++)
            out[n++] = '0';
        memcpy (out + n, dig, (size_t)last + 1);
        n += (size_t)last + 1;
    } else {
        //  d <= 16 here: the fast path holds no larger values.
        memcpy (out + n, dig, (size_t)d + 1);
        n += (size_t)d + 1;
        if (last > d) {
            out[n++] = '.';
            memcpy (out + n, dig + d + 1, (size_t)(last - d));
            n += (size_t)(last - d);
        }
    }
    out[n] = 0;
    return n;
}

void
hpo_jw_real (hpo_jw_t *self, double value)
{
    if (!isfinite (value)) {
        hpo_jw_null (self);
        return;
    }
    s_comma (self);
    s_reserve (self, 40);
    self->len += hpo_jw_format_real (self->data + self->len, value);
}

void
hpo_jw_time (hpo_jw_t *self, double t)
{
    if (t > 0)
        hpo_jw_real (self, t);
    else
        hpo_jw_null (self);
}

void
hpo_jw_strn (hpo_jw_t *self, const char *s, size_t len)
{
    s_comma (self);
    s_escaped (self, s, len);
}

void
hpo_jw_str (hpo_jw_t *self, const char *s)
{
    if (!s)
        hpo_jw_null (self);
    else
        hpo_jw_strn (self, s, strlen (s));
}

void
hpo_jw_json (hpo_jw_t *self, const char *json, size_t len)
{
    s_comma (self);
    hpo_jw_raw (self, json, len);
}
