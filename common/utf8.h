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

//  A new copy of s (NULL is taken as "") in which every byte that does not
//  begin a valid sequence is replaced by U+FFFD. The copy holds at most
//  max bytes before its NUL and is never cut inside a character (max 0:
//  no limit). The caller frees it.
char *hpo_utf8_clean (const char *s, size_t max);

#endif
