/*  sampler.h: chooses the parameters of a new trial. Samplers are pure:
    they see the study's spec and its history as plain arrays and return a
    decision. No SQL, sockets or clocks, so they are tested and benchmarked
    on their own.                                                          */
#ifndef HPO_SAMPLER_H
#define HPO_SAMPLER_H

#include "../common/spec.h"

//  A study's finished trials, for samplers that learn from them (TPE).
//  params is n rows of spec->n_params values; value [k] is trial k's
//  objective value.
typedef struct {
    size_t n;
    const hpo_value_t *params;
    const double *value;
} hpo_history_t;

//  Fills out [0 .. spec->n_params) with the parameters of the trial with
//  this number (0-based, in creation order). Random: a pure function of
//  (seed, number), so a study is reproducible whatever order its trials
//  run in. Grid: point number of the cartesian product, the last parameter
//  varying fastest; number must be below spec->grid_size.
//  Returns 0, or -1 if no point exists (grid exhausted). The caller frees
//  the values with hpo_values_clear.
int hpo_sampler_sample (const hpo_spec_t *spec, uint64_t number,
                        const hpo_history_t *history, hpo_value_t *out);

#endif
