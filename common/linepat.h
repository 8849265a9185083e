/*  linepat.h: the lines a program prints to stdout, matched for metrics
    (a study's `metrics: {source: stdout, pattern: REGEX}`).

    Two kinds of pattern:
    - the default (no pattern): every word of the line of the form
      NAME=VALUE, words being separated by blanks, ',' and ';'. NAME is a
      metric name (common/names.h); the VALUE is given as it is written,
      whatever it is ("opt=adam" too: the caller decides).
          epoch=3 val_loss=0.41 acc=0.88
    - a PCRE2 regular expression with named groups, `(?<val_loss>...)` or
      `(?P<val_loss>...)`: the first match in the line gives each named
      group that took part in it, under its name.
          Epoch (?<epoch>\d+): loss (?<val_loss>\S+)
    The names "step" and "epoch" are the step, not metrics: that is for
    the caller (worker/report.h), which also checks the values.

    PCRE2 rather than POSIX regcomp: named groups are the pattern's
    syntax, and a match has a limit on its work, so a pattern from the
    network with catastrophic backtracking costs a bounded time a line,
    not a frozen worker. Patterns are compiled without UTF (a line is
    bytes), and "(*UTF)" in one is refused.                              */
#ifndef HPO_LINEPAT_H
#define HPO_LINEPAT_H

#include <stddef.h>

//  The longest pattern, in bytes.
#define HPO_LINEPAT_MAX 4096

typedef struct _hpo_linepat_t hpo_linepat_t;

//  Compiles pattern (NULL or "": the default). Returns the matcher, or
//  NULL with *error set to a malloc'd message the caller frees ("at
//  offset 3: missing closing parenthesis", "has no named group", ...).
//  A pattern needs at least one named group that is not step or epoch,
//  and every name must be a metric name.
hpo_linepat_t *hpo_linepat_new (const char *pattern, char **error);
void hpo_linepat_destroy (hpo_linepat_t **self_p);

//  Whether it is the default (NAME=VALUE words).
int hpo_linepat_is_default (const hpo_linepat_t *self);

//  Whether the pattern has a group called name (always 1 for the
//  default, which takes any name).
int hpo_linepat_has (const hpo_linepat_t *self, const char *name);

//  Called once for each field a line gives: its name and its text,
//  neither NUL-terminated. Returns 0, or -1 to stop.
typedef int (hpo_linepat_fn_t) (void *arg, const char *name, size_t name_len,
                                const char *text, size_t text_len);

//  Matches line (len bytes; need not be NUL-terminated) and calls fn for
//  each field, in the order of the line (default) or of the groups.
//  Returns the number of fields given (0: no match), or -1 when fn
//  stopped or the match ran past its limits (then *reason is set, a
//  malloc'd message, unless fn stopped it).
int hpo_linepat_match (hpo_linepat_t *self, const char *line, size_t len,
                       hpo_linepat_fn_t *fn, void *arg, char **reason);

#endif
