/*  pruner.h: decides, from a running trial's intermediate reports,
    whether to stop it early. Each pruner is one entry, an ops table, in
    the registry in search/pruner.c; registering one is a line there. Like
    samplers (search/sampler.h) pruners are pure functions of the spec and
    the history: no SQL, sockets or clocks.

    Life of a pruner, for a study file saying pruner: {type: NAME, ...}
    (none when absent):

        ops = hpo_pruner_find (NAME)           common/spec.c, parsing
        ops->check (spec, options, ...)        -> config, or a problem
        self = ops->new (spec, config)         once per study, scheduler
        ops->report (self, history, number, step, value, &reason)
                                               per intermediate report
        ops->destroy (self)                    with the study
        ops->config_free (config)              with the spec            */
#ifndef HPO_PRUNER_H
#define HPO_PRUNER_H

#include <stdint.h>

#include "../common/value.h"
#include "history.h"
#include "search.h"

typedef enum {
    HPO_PRUNE_CONTINUE = 0,
    HPO_PRUNE_STOP = 1,
} hpo_prune_t;

typedef struct {
    const char *name;    //  the study file's pruner.type
    const char *summary; //  one line, for help and listings
    //  Options besides type, NULL-terminated. Any other key is refused
    //  before check.
    const char *const *keys;
    //  Whether report reads the history's curves (every real pruner
    //  does); if no sampler or pruner of a study does, the scheduler need
    //  not record them.
    int needs_curves;
    //  Whether the pruner wraps another: its keys hold "wrapped", a
    //  mapping spec.c parses as a pruner into spec->pruner.wrapped_ops
    //  and wrapped_config instead of handing it to check.
    int wraps;

    //  Validates the options into a config (search/search.h).
    hpo_search_check_fn *check;
    //  Frees what check returned; NULL if check never allocates.
    void (*config_free) (void *config);

    //  One instance per study; never NULL (out of memory aborts).
    void *(*new) (const hpo_spec_t *spec, const void *config);
    void (*destroy) (void *self);
    //  Trial number's running attempt reported the objective value at
    //  step; the history already holds the point in its curve. Returns
    //  HPO_PRUNE_CONTINUE, or HPO_PRUNE_STOP with *reason set to a
    //  malloc'd sentence saying why, for the trial's record.
    hpo_prune_t (*report) (void *self, const hpo_history_t *history,
                           uint64_t number, int64_t step, double value,
                           char **reason);
    //  Optional, for a pruner that keeps state derived from the reports
    //  it is asked about (asha's rungs); NULL: nothing to restore. Once
    //  per instance, at the first report that reaches it, it rebuilds
    //  that state from the history's curves, leaving out trial number's
    //  latest point (the report in hand): a new instance cannot tell a
    //  restarted coordinator from a new study, where there is nothing
    //  to rebuild. report calls it itself at its first report; a wrapper
    //  that asks its wrapped pruner about only some reports (patient)
    //  calls it at its own first report, so the wrapped pruner then
    //  records only what it is asked, as Optuna's does. Later calls do
    //  nothing.
    void (*restore) (void *self, const hpo_history_t *history, uint64_t number);
} hpo_pruner_ops_t;

//  Whether a report of trial number at step is judged at all, as Optuna's
//  pruners with n_warmup_steps and interval_steps (>= 1) do: step is at
//  least warmup, and the trial's step before it (its curve increases in
//  step) is below the interval's start, (step - warmup) / interval *
//  interval + warmup. A report that skips steps is judged when it is the
//  first in its interval.
int hpo_pruner_judged (const hpo_history_t *history, uint64_t number,
                       int64_t step, uint64_t warmup, uint64_t interval);

//  The pruner named name, or NULL.
const hpo_pruner_ops_t *hpo_pruner_find (const char *name);
//  The k-th pruner of the registry, or NULL past the last.
const hpo_pruner_ops_t *hpo_pruner_at (size_t k);
//  Every pruner's name, "none, ...", for messages; malloc'd.
char *hpo_pruner_names (void);

#endif
