/*  command.h: a study's command template turned into what a worker runs.

    Without a shell (the default), the template is split into words the way
    a POSIX shell would split it, honouring '...' and "..." quotes and
    backslash escapes, but with no expansion of any kind. Then {name}
    placeholders are replaced inside each word with the parameter's value,
    so a value holding spaces stays one argument. "{{" and "}}" are literal
    braces.

    With shell: true the template is run by /bin/sh -c, and each value is
    substituted single-quoted so no value can inject shell syntax.

    A parameter absent from a trial (HPO_KIND_NONE: its when: condition
    does not hold) takes its whole word with it: the word holding its
    placeholder is left out of the argv, or out of the shell text. So an
    option is written as one word, "--momentum={momentum}". With a shell
    the word is what hpo splits at blanks, quotes honoured; shell
    operators are not word ends to hpo, so keep them apart from such a
    word by blanks ("--m={m} ; next", not "--m={m};").                   */
#ifndef HPO_COMMAND_H
#define HPO_COMMAND_H

#include "../search/search.h"
#include "value.h"

//  Checks a template: quotes balanced, braces balanced, and every
//  placeholder names one of the n names. Returns 0, or -1 with *error set
//  to a malloc'd message naming the problem (caller frees).
int hpo_command_check (const char *tmpl, char *const *names, size_t n,
                       char **error);

//  Checks a study's template against its space (hpo_command_check's
//  checks, over the spec's parameter names), and moreover refuses the
//  placeholder of a conditional parameter (when_param >= 0) standing as a
//  word of its own right after a bare option word ("--momentum
//  {momentum}"): in trials without the parameter its word is dropped and
//  the option would take the next word as its value. The message names
//  the parameter and hints "write --momentum={momentum}". Returns 0, or
//  -1 with *error as above.
int hpo_command_check_when (const char *tmpl, const hpo_spec_t *spec,
                            char **error);

//  Returns a malloc'd NULL-terminated argv with values substituted (free
//  with hpo_command_free), or NULL with *error set as above (also when
//  no word is left once absent parameters' words are dropped).
char **hpo_command_argv (const char *tmpl, char *const *names,
                         const hpo_value_t *values, size_t n, char **error);

//  Returns the template with values substituted single-quoted, for
//  /bin/sh -c; NULL with *error as above. Caller frees.
char *hpo_command_shell (const char *tmpl, char *const *names,
                         const hpo_value_t *values, size_t n, char **error);

void hpo_command_free (char ***argv_p);

#endif
