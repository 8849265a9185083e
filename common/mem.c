#include "mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_oom (size_t size)
{
    //  Not through the log module: it may itself need memory.
    fprintf (stderr, "hpo: out of memory allocating %zu bytes\n", size);
    abort ();
}

void *
hpo_malloc (size_t size)
{
    void *p = malloc (size ? size : 1);
    if (!p)
        s_oom (size);
    return p;
}

void *
hpo_calloc (size_t count, size_t size)
{
    void *p = calloc (count ? count : 1, size ? size : 1);
    if (!p)
        s_oom (count * size);
    return p;
}

void *
hpo_realloc (void *ptr, size_t size)
{
    void *p = realloc (ptr, size ? size : 1);
    if (!p)
        s_oom (size);
    return p;
}

char *
hpo_strdup (const char *s)
{
    return hpo_strndup (s, strlen (s));
}

char *
hpo_strndup (const char *s, size_t n)
{
    size_t len = strnlen (s, n);
    char *p = hpo_malloc (len + 1);
    memcpy (p, s, len);
    p[len] = 0;
    return p;
}

char *
hpo_sprintf (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char *p = hpo_vsprintf (fmt, ap);
    va_end (ap);
    return p;
}

char *
hpo_vsprintf (const char *fmt, va_list ap)
{
    char *p = NULL;
    if (vasprintf (&p, fmt, ap) < 0)
        s_oom (strlen (fmt));
    return p;
}
