/*  token.c: the dashboard's token.                                      */
#include "token.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../common/log.h"
#include "../common/mem.h"

char *
hpo_token_read (const char *path, char **error)
{
    FILE *f = fopen (path, "r");
    if (!f) {
        *error = hpo_sprintf ("--http-token-file %s: %s", path,
                              strerror (errno));
        return NULL;
    }
    struct stat st;
    if (fstat (fileno (f), &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)))
        hpo_log_warnx ("--http-token-file %s may be read by others "
                       "(chmod 600 it): anyone who reads the token reads "
                       "the dashboard",
                       path);
    char line[4096];
    int got = fgets (line, sizeof line, f) != NULL, bad = ferror (f);
    fclose (f);
    if (bad) {
        *error = hpo_sprintf ("--http-token-file %s: cannot read it", path);
        return NULL;
    }
    char *start = line, *end = got ? line + strlen (line) : line;
    while (start < end && isspace ((unsigned char)*start))
        start++;
    while (end > start && isspace ((unsigned char)end[-1]))
        end--;
    if (end == start) {
        *error = hpo_sprintf ("--http-token-file %s: its first line is "
                              "empty: put the token there (for instance "
                              "openssl rand -hex 32 > %s)",
                              path, path);
        return NULL;
    }
    return hpo_strndup (start, (size_t)(end - start));
}

int
hpo_token_equal (const char *token, const char *given, size_t len)
{
    size_t want = strlen (token);
    assert (want > 0);
    //  Every byte of given is compared, against token's bytes cycled
    //  (never past its end), so the time says nothing of where a wrong
    //  guess went wrong; a length mismatch is folded in, not returned early.
    unsigned diff = want != len;
    for (size_t k = 0; k < len; k++)
        diff |= (unsigned char)given[k] ^ (unsigned char)token[k % want];
    return diff == 0 && len > 0;
}

int
hpo_token_bearer (const char *header, const char **tok, size_t *len)
{
    if (!header || strncasecmp (header, "Bearer", 6) != 0 ||
        (header[6] != ' ' && header[6] != '\t'))
        return 0;
    const char *p = header + 6;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen (p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    *tok = p;
    *len = n;
    return n > 0;
}

static int
s_hex (int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower (c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

char *
hpo_token_unescape (const char *src, size_t len)
{
    char *out = hpo_malloc (len + 1);
    size_t n = 0;
    for (size_t k = 0; k < len; k++) {
        int hi, lo;
        if (src[k] == '%' && k + 2 < len && (hi = s_hex (src[k + 1])) >= 0 &&
            (lo = s_hex (src[k + 2])) >= 0) {
            out[n++] = (char)(hi * 16 + lo);
            k += 2;
        } else
            out[n++] = src[k];
    }
    out[n] = 0;
    return out;
}
