/*  enqueue.h: a configuration given on the command line (hpo enqueue
    NAME lr=0.01 opt=sgd), checked against a study's space as a study
    file's values are: a known parameter, given once, of its type, in its
    range, on its step, one of its values, and existing (a conditional
    parameter's condition holds among the values given). A pure function
    of the spec and the words, so it is tested without a coordinator.   */
#ifndef HPO_ENQUEUE_H
#define HPO_ENQUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/spec.h"

//  Reads n words "NAME=VALUE" into values (spec->n_params of them, all
//  HPO_KIND_NONE on entry) and sets fixed[k] for each parameter given;
//  the others are left for the sampler. Returns 0, or -1 with *error set
//  to a message naming the word's parameter (the caller frees it; values
//  then still holds what was read: clear it with hpo_values_clear).
int hpo_enqueue_parse (const hpo_spec_t *spec, char *const *words, size_t n,
                       hpo_value_t *values, uint8_t *fixed, char **error);

#endif
