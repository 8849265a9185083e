/*  names.c: name rules (names.h). Each rule is a length check and a
    character class; the character classes are written out rather than
    taken from <ctype.h>, whose answers depend on the locale.              */
#include "names.h"

#include <string.h>

#include "utf8.h"

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

//  The rule shared by study and metric names: not empty, at most max
//  bytes, only ASCII letters, digits and the punctuation in extra.
static const char *
s_word_problem (const char *name, size_t len, size_t max,
                const char *too_long, const char *extra, const char *bad)
{
    if (!name || len == 0)
        return "must not be empty";
    if (len > max)
        return too_long;
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)name[k];
        //  c != 0: strchr finds the terminator too.
        if (!s_alpha (c) && !s_digit (c) && !(c && strchr (extra, c)))
            return bad;
    }
    return NULL;
}

const char *
hpo_name_study_problem (const char *name, size_t len)
{
    const char *problem = s_word_problem (
        name, len, HPO_NAME_STUDY_MAX, "must be at most 128 bytes", "_.-",
        "may hold only letters, digits, '_', '.' and '-'");
    if (problem)
        return problem;
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

//  Whether len bytes of name are [A-Za-z_][A-Za-z0-9_]*: a C identifier,
//  and so a shell variable's name.
static bool
s_identifier (const char *name, size_t len)
{
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)name[k];
        if (!s_alpha (c) && c != '_' && !(k > 0 && s_digit (c)))
            return false;
    }
    return true;
}

const char *
hpo_name_param_problem (const char *name, size_t len)
{
    if (!name || len == 0)
        return "must not be empty";
    if (len > HPO_NAME_PARAM_MAX)
        return "must be at most 64 bytes";
    if (!s_identifier (name, len))
        return "must match [A-Za-z_][A-Za-z0-9_]*";
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
    return s_word_problem (name, len, HPO_NAME_METRIC_MAX,
                           "must be at most 128 bytes", "_.:/-",
                           "may hold only letters, digits, '_', '.', ':', "
                           "'/' and '-'");
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
        size_t n = hpo_utf8_char (name + k, len - k);
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

const char *
hpo_name_env_problem (const char *name, size_t len)
{
    if (!name || len == 0)
        return "must not be empty";
    if (len > HPO_NAME_ENV_MAX)
        return "must be at most 128 bytes";
    if (!s_identifier (name, len))
        return "must match [A-Za-z_][A-Za-z0-9_]*";
    //  HPO_TRIAL, HPO_PARAM_*, HPO_REPORT_FD...: the program's promises
    //  (README), which a study's variables must not be able to break.
    if (len >= 4 && !memcmp (name, "HPO_", 4))
        return "starts with HPO_, which hpo keeps for its own variables";
    return NULL;
}

bool
hpo_name_env_ok (const char *name)
{
    return name && !hpo_name_env_problem (name, strlen (name));
}
