/*  command.h: a study's command template turned into what a worker runs.

    Without a shell (the default), the template is split into words the way
    a POSIX shell would split it, honouring '...' and "..." quotes and
    backslash escapes, but with no expansion of any kind. Then {name}
    placeholders are replaced inside each word with the parameter's value,
    so a value holding spaces stays one argument. "{{" and "}}" are literal
    braces.

    With shell: true the template is run by /bin/sh -c, and each value is
    substituted single-quoted so no value can inject shell syntax.        */
#ifndef HPO_COMMAND_H
#define HPO_COMMAND_H

#include "value.h"

//  Checks a template: quotes balanced, braces balanced, and every
//  placeholder names one of the n names. Returns 0, or -1 with *error set
//  to a malloc'd message naming the problem (caller frees).
int hpo_command_check (const char *tmpl, char *const *names, size_t n,
                       char **error);

//  Returns a malloc'd NULL-terminated argv with values substituted (free
//  with hpo_command_free), or NULL with *error set as above.
char **hpo_command_argv (const char *tmpl, char *const *names,
                         const hpo_value_t *values, size_t n, char **error);

//  Returns the template with values substituted single-quoted, for
//  /bin/sh -c; NULL with *error as above. Caller frees.
char *hpo_command_shell (const char *tmpl, char *const *names,
                         const hpo_value_t *values, size_t n, char **error);

void hpo_command_free (char ***argv_p);

#endif
