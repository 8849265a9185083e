/*  params.h: a trial's parameters as JSON, the form they take in the store,
    in the file named by HPO_PARAMS_FILE and in --json output:
    {"lr": 0.001, "layers": 3, "opt": "adam"}.                            */
#ifndef HPO_PARAMS_H
#define HPO_PARAMS_H

#include <jansson.h>

#include "value.h"

//  common/spec.h
typedef struct _hpo_spec_t hpo_spec_t;

//  A new JSON object of names [k] -> values [k]. Caller owns (json_decref).
json_t *hpo_params_json (char *const *names, const hpo_value_t *values,
                         size_t n);
//  Same, as a compact string; caller frees.
char *hpo_params_dump (char *const *names, const hpo_value_t *values, size_t n);
//  Reads the values of spec's parameters, in spec order, from a JSON object
//  text. Returns 0, or -1 if it does not parse or a parameter is missing
//  or of a kind it cannot have. out must hold spec->n_params values; the
//  caller clears them with hpo_values_clear.
int hpo_params_load (const hpo_spec_t *spec, const char *text,
                     hpo_value_t *out);

#endif
