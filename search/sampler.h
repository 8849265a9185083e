/*  sampler.h: chooses the parameters of a new trial. Each sampler is one
    entry, an ops table, in the registry in search/sampler.c; registering
    one is a line there. Samplers are pure: they see the study's spec and
    its history (search/history.h) as plain data and return a decision.
    No SQL, sockets or clocks, so they are tested and benchmarked on their
    own.

    Life of a sampler, for a study file saying sampler: {type: NAME, ...}:

        ops = hpo_sampler_find (NAME)          common/spec.c, parsing
        ops->check (spec, options, ...)        -> config, or a problem
        ops->size (spec, config)               -> the budget's cap
        self = ops->new (spec, config)         once per study, by its
                                               driver (search/suggest.h)
        ops->suggest (self, spec, history, number, fixed, out)
                                               per new trial; the driver
                                               holds given values and
                                               grid points in fixed, and
                                               replaces a configuration
                                               already taken
        ops->pending / ops->tell               as trials start and end
        ops->destroy (self)                    with the study
        ops->config_free (config)              with the spec            */
#ifndef HPO_SAMPLER_H
#define HPO_SAMPLER_H

#include <stdint.h>

#include "../common/value.h"
#include "history.h"
#include "search.h"

typedef struct {
    const char *name;    //  the study file's sampler.type
    const char *summary; //  one line, for help and listings
    //  Options besides type, NULL-terminated ("seed" for one that draws
    //  at random). Any other key is refused before check.
    const char *const *keys;
    //  Whether suggest reads the history's curves; if no sampler or pruner
    //  of a study does, the scheduler need not record them.
    int needs_curves;

    //  Validates the options into a config (search/search.h).
    hpo_search_check_fn *check;
    //  Frees what check returned; NULL if check never allocates.
    void (*config_free) (void *config);
    //  How many distinct points the sampler can suggest in this space;
    //  UINT64_MAX when unlimited. The budget is min(budget.trials, size),
    //  and budget.trials may be omitted only when size is finite.
    uint64_t (*size) (const hpo_spec_t *spec, const void *config);

    //  One instance per study; never NULL (out of memory aborts).
    void *(*new) (const hpo_spec_t *spec, const void *config);
    void (*destroy) (void *self);
    //  Fills out [0 .. spec->n_params) with the parameters of the trial
    //  with this number (0-based, in creation order; history has rows for
    //  trials 0 .. number-1). Returns 0, 1 when no point is left (the
    //  study ends there), or -1 on error. On 0 the caller frees the values
    //  with hpo_values_clear; otherwise out holds nothing the sampler
    //  allocated (fixed values stay the caller's).
    //
    //  fixed, when not NULL, has n_params flags: fixed[k] nonzero means
    //  the caller already set out[k] (a hybrid study's grid point, an
    //  enqueued value) and the sampler must keep it, drawing the others
    //  given it. Parameters are filled in space order; one whose condition
    //  does not hold given the row so far (hpo_spec_active) is set to
    //  HPO_KIND_NONE, never drawn.
    int (*suggest) (void *self, const hpo_spec_t *spec,
                    const hpo_history_t *history, uint64_t number,
                    const uint8_t *fixed, hpo_value_t *out);
    //  Optional (NULL): trial number reached a final state (COMPLETE,
    //  PRUNED or FAILED), which the history shows.
    void (*tell) (void *self, const hpo_history_t *history, uint64_t number);
    //  Optional (NULL): trial number started running, so a sampler can
    //  steer new points away from those in flight.
    void (*pending) (void *self, const hpo_history_t *history, uint64_t number);
} hpo_sampler_ops_t;

//  The sampler named name, or NULL.
const hpo_sampler_ops_t *hpo_sampler_find (const char *name);
//  The k-th sampler of the registry, or NULL past the last.
const hpo_sampler_ops_t *hpo_sampler_at (size_t k);
//  Every sampler's name, "random, grid", for messages; malloc'd.
char *hpo_sampler_names (void);

#endif
