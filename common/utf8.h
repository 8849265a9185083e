/*  utf8.h: peers send strings as they like, but a protobuf string must be
    valid UTF-8 (a strict decoder refuses the whole message) and what the
    store keeps is shown to people. Every string from a peer that is echoed
    in a reply or stored passes through hpo_utf8_clean first.            */
#ifndef HPO_UTF8_H
#define HPO_UTF8_H

#include <stddef.h>

//  Whether the len bytes at s are valid UTF-8: no overlong forms, no
//  surrogates, nothing past U+10FFFF, no sequence cut short.
int hpo_utf8_valid (const char *s, size_t len);

//  The length of the longest prefix of the len bytes at s that is valid
//  UTF-8 (len when all of it is), to say where a text goes wrong.
size_t hpo_utf8_prefix (const char *s, size_t len);

//  The length of the one valid character at s (at most left bytes), or 0
//  if the bytes there do not begin one.
size_t hpo_utf8_char (const char *s, size_t left);

//  A new copy of s (NULL is taken as "") in which every byte that does not
//  begin a valid sequence is replaced by U+FFFD. The copy holds at most
//  max bytes before its NUL and is never cut inside a character (max 0:
//  no limit). The caller frees it.
char *hpo_utf8_clean (const char *s, size_t max);

#endif
