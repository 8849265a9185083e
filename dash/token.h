/*  token.h: the dashboard's token (docs/dashboard.md, "Authentication"):
    reading it from its file, and comparing what a request carries with
    it in constant time.                                                 */
#ifndef HPO_TOKEN_H
#define HPO_TOKEN_H

#include <stddef.h>

//  The first line of the file at path, surrounding whitespace removed
//  (caller frees). NULL with *error set (caller frees) when the file
//  cannot be read or that line is empty. Warns (once) when the file may
//  be read by its group or by others.
char *hpo_token_read (const char *path, char **error);

//  Whether given (len bytes, not NUL-terminated) equals token, in a time
//  that depends only on their lengths, never on where they differ.
int hpo_token_equal (const char *token, const char *given, size_t len);

//  The token of an "Authorization: Bearer TOKEN" header's value: sets
//  *tok and *len and returns 1, or returns 0 for another scheme or none.
int hpo_token_bearer (const char *header, const char **tok, size_t *len);

//  Percent-decodes src (len bytes) into a new string (caller frees); a
//  malformed escape is kept as it is.
char *hpo_token_unescape (const char *src, size_t len);

#endif
