/*  names.c: name rules (names.h). Each rule is a length check and a
    character class; the character classes are written out rather than
    taken from <ctype.h>, whose answers depend on the locale.              */
#include "names.h"

#include <string.h>

static bool
s_alpha (unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool
s_digit (unsigned char c)
{
    return c >= '0' && c <= '9';
}

//  The length of the UTF-8 sequence at s (at most n bytes), or 0 if it is
//  not a valid one: overlong forms, surrogates and code points past
//  U+10FFFF are invalid, as a strict protobuf decoder holds.
static size_t
s_utf8_char (const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len = c >= 0xc2 && c <= 0xdf   ? 2
                 : c >= 0xe0 && c <= 0xef ? 3
                 : c >= 0xf0 && c <= 0xf4 ? 4
                                          : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t k = 1; k < len; k++)
        if ((s[k] & 0xc0) != 0x80)
            return 0;
    //  The second byte's range is what excludes overlongs (E0, F0),
    //  surrogates (ED) and values past U+10FFFF (F4).
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
        (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
        return 0;
    return len;
}

size_t
hpo_name_utf8_prefix (const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t k = 0;
    while (k < len) {
        size_t n = s_utf8_char (u + k, len - k);
        if (n == 0)
            break;
        k += n;
    }
    return k;
}

const char *
hpo_name_study_problem (const char *name, size_t len)
{
    if (!name || len == 0)
        return "must not be empty";
    if (len > HPO_NAME_STUDY_MAX)
        return "must be at most 128 bytes";
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)name[k];
        if (!s_alpha (c) && !s_digit (c) && c != '_' && c != '.' && c != '-')
            return "may hold only letters, digits, '_', '.' and '-'";
    }
    //  Both are valid file names that mean another directory.
    if ((len == 1 && name[0] == '.') ||
        (len == 2 && name[0] == '.' && name[1] == '.'))
        return "must not be . or ..";
    return NULL;
}

bool
hpo_name_study_ok (const char *name)
{
    return name && !hpo_name_study_problem (name, strlen (name));
}

const char *
hpo_name_param_problem (const char *name, size_t len)
{
    if (!name || len == 0)
        return "must not be empty";
    if (len > HPO_NAME_PARAM_MAX)
        return "must be at most 64 bytes";
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)name[k];
        if (!s_alpha (c) && c != '_' && !(k > 0 && s_digit (c)))
            return "must match [A-Za-z_][A-Za-z0-9_]*";
    }
    return NULL;
}

bool
hpo_name_param_ok (const char *name)
{
    return name && !hpo_name_param_problem (name, strlen (name));
}

const char *
hpo_name_metric_problem (const char *name, size_t len)
{
    if (!name || len == 0)
        return "must not be empty";
    if (len > HPO_NAME_METRIC_MAX)
        return "must be at most 128 bytes";
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)name[k];
        if (!s_alpha (c) && !s_digit (c) && !strchr ("_.:/-", c))
            return "may hold only letters, digits, '_', '.', ':', '/' and "
                   "'-'";
    }
    return NULL;
}

bool
hpo_name_metric_ok (const char *name)
{
    return name && !hpo_name_metric_problem (name, strlen (name));
}

const char *
hpo_name_worker_problem (const char *name, size_t len)
{
    if (!name || len == 0)
        return "must not be empty";
    if (len > HPO_NAME_WORKER_MAX)
        return "must be at most 255 bytes";
    const unsigned char *s = (const unsigned char *)name;
    for (size_t k = 0; k < len;) {
        //  Control characters would let a name forge log lines or move
        //  the cursor of whoever reads `hpo workers`.
        if (s[k] < 0x20 || s[k] == 0x7f)
            return "must not hold control characters";
        size_t n = s_utf8_char (s + k, len - k);
        if (n == 0)
            return "must be valid UTF-8";
        //  C1 controls (U+0080-U+009F) are two bytes, C2 80-9F.
        if (n == 2 && s[k] == 0xc2 && s[k + 1] < 0xa0)
            return "must not hold control characters";
        k += n;
    }
    return NULL;
}

bool
hpo_name_worker_ok (const char *name)
{
    return name && !hpo_name_worker_problem (name, strlen (name));
}
