/*  mem.h: the one allocation wrapper. Running out of memory is not an error
    hpo recovers from: these abort with a message instead of returning NULL,
    so callers never check. Everything else from the outside world is an
    error the caller handles.                                              */
#ifndef HPO_MEM_H
#define HPO_MEM_H

#include <stdarg.h>
#include <stddef.h>

void *hpo_malloc (size_t size);
void *hpo_calloc (size_t count, size_t size);
void *hpo_realloc (void *ptr, size_t size);
char *hpo_strdup (const char *s);
char *hpo_strndup (const char *s, size_t n);
//  Like asprintf, aborting on failure.
char *hpo_sprintf (const char *fmt, ...)
    __attribute__ ((format (printf, 1, 2)));
//  The same with a va_list, for functions that take a format themselves.
char *hpo_vsprintf (const char *fmt, va_list ap)
    __attribute__ ((format (printf, 1, 0)));

//  Frees *p_p and sets it to NULL; safe on NULL.
#define hpo_free(p_p)                                                          \
    do {                                                                       \
        free (*(p_p));                                                         \
        *(p_p) = NULL;                                                         \
    } while (0)

#endif
