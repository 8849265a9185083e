/*  utf8.c: UTF-8 validation and cleaning (RFC 3629).                     */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

#include "mem.h"

//  Length of the valid sequence at s (at most left bytes), or 0 if the
//  bytes there do not begin one.
static size_t
s_seq (const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; //  range of the second byte
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; //  overlong
        else if (c == 0xED)
            hi = 0x9F; //  surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; //  overlong
        else if (c == 0xF4)
            hi = 0x8F; //  past U+10FFFF
    } else
        return 0;
    if (left < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if ((s[k] & 0xC0) != 0x80)
            return 0;
    return len;
}

size_t
hpo_utf8_char (const char *s, size_t left)
{
    return left ? s_seq ((const unsigned char *)s, left) : 0;
}

size_t
hpo_utf8_prefix (const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t k = 0;
    while (k < len) {
        size_t n = s_seq (p + k, len - k);
        if (n == 0)
            break;
        k += n;
    }
    return k;
}

int
hpo_utf8_valid (const char *s, size_t len)
{
    return hpo_utf8_prefix (s, len) == len;
}

char *
hpo_utf8_clean (const char *s, size_t max)
{
    if (!s)
        s = "";
    size_t len = strlen (s);
    if (max == 0)
        max = SIZE_MAX / 4;
    //  Each bad byte becomes three: the copy is at most 3 * len.
    size_t cap = (len < max ? len : max) * 3 + 1;
    if (cap > max + 1)
        cap = max + 1;
    char *out = hpo_malloc (cap);
    const unsigned char *p = (const unsigned char *)s;
    size_t used = 0, k = 0;
    while (k < len) {
        size_t n = s_seq (p + k, len - k);
        const char *from = n ? (const char *)p + k : "\xEF\xBF\xBD";
        size_t size = n ? n : 3;
        if (used + size > max)
            break;
        memcpy (out + used, from, size);
        used += size;
        k += n ? n : 1;
    }
    out[used] = 0;
    return out;
}
