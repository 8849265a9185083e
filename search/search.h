/*  search.h: what samplers (search/sampler.h) and pruners
    (search/pruner.h) share: how the study file hands them their options
    and how they say what is wrong with them.

    A sampler or pruner never sees the study file's YAML. common/spec.c
    reads the mapping under sampler: or pruner:, checks its keys against
    the ones the entry names, and hands the rest over as a list of
    (key, value, line); the entry's check names the option, parameter or
    part of the space at fault, and spec.c turns that into the usual
    "file:line: path: message".                                            */
#ifndef HPO_SEARCH_H
#define HPO_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "../common/value.h"

//  The parsed study file (common/spec.h), which includes this header.
typedef struct _hpo_spec_t hpo_spec_t;

//  One option under sampler: or pruner:, other than type. The value is
//  typed by its YAML form, as a categorical value is: a plain integer is
//  HPO_KIND_INT, a plain number HPO_KIND_FLOAT, anything else (quoted,
//  true, null) HPO_KIND_STR with its text. Lists and mappings are refused
//  before a check sees them. Borrowed: valid during the check only.
typedef struct {
    const char *key;
    hpo_value_t value;
    int line; //  in the study file, 1-based
} hpo_search_option_t;

//  What a check found at fault.
typedef enum {
    HPO_SEARCH_AT_SECTION = 0, //  the sampler: or pruner: mapping itself
    HPO_SEARCH_AT_OPTION,      //  options[index]
    HPO_SEARCH_AT_PARAM,       //  spec->params[index]
    HPO_SEARCH_AT_SPACE,       //  the space: as a whole
} hpo_search_at_t;

typedef struct {
    hpo_search_at_t at;
    size_t index;
    char *message; //  malloc'd; whoever receives the problem frees it
} hpo_search_problem_t;

//  A sampler's or pruner's check: validates the n options (their keys
//  from the entry's list) and what the entry needs of the space, which is
//  parsed by then. Returns 0 and sets *config (NULL is fine) for the spec
//  to keep, or -1 with *problem saying what is wrong and where.
typedef int hpo_search_check_fn (const hpo_spec_t *spec,
                                 const hpo_search_option_t *options, size_t n,
                                 void **config, hpo_search_problem_t *problem);

//  Sets *problem and returns -1, so a check can "return hpo_search_fail".
int hpo_search_fail (hpo_search_problem_t *problem, hpo_search_at_t at,
                     size_t index, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

//  Reads options[index] as an integer in [0, INT64_MAX] (a seed, a count).
//  Returns 0 and sets *out, or -1 with *problem naming the option.
int hpo_search_option_uint (const hpo_search_option_t *options, size_t index,
                            uint64_t *out, hpo_search_problem_t *problem);

//  Reads options[index] as a finite number above 0 (a weight, a step
//  size), plain integer or not. Returns 0 and sets *out, or -1 with
//  *problem naming the option.
int hpo_search_option_positive (const hpo_search_option_t *options,
                                size_t index, double *out,
                                hpo_search_problem_t *problem);

//  x with the binary noise of low + k * step removed: 0.1 * 3 is
//  0.30000000000000004, and the command line should read 0.3.
double hpo_search_tidy (double x);

//  The names of a NULL-terminated list of names as "a, b, c"; malloc'd.
char *hpo_search_join (const char *const *names);

#endif
