/*  asha.h: the successive-halving engine that search/asha.c (one ladder
    of rungs) and search/hyperband.c (one ladder per bracket) share.
    Private to search/; the pruners' API is search/pruner.h.

    A ladder holds, per rung, the values trials had when they reached it,
    in an order-statistics tree, so a decision costs O(log n) in the
    trials at that rung (asha.c's header says how).                       */
#ifndef HPO_ASHA_H
#define HPO_ASHA_H

#include <stdint.h>

#include "pruner.h"

typedef struct _hpo_asha_ladder_t hpo_asha_ladder_t;

//  Rung r's promotion step is min_resource * eta^(rate + r), saturated
//  at INT64_MAX (a rung no step reaches). min_resource 0: not known yet
//  (auto); set it with hpo_asha_ladder_set_min before climbing.
hpo_asha_ladder_t *hpo_asha_ladder_new (int64_t min_resource, uint64_t eta,
                                        uint64_t rate, uint64_t bootstrap,
                                        int maximize);
void hpo_asha_ladder_destroy (hpo_asha_ladder_t **self_p);
void hpo_asha_ladder_set_min (hpo_asha_ladder_t *self, int64_t min_resource);
int64_t hpo_asha_ladder_min (const hpo_asha_ladder_t *self);

//  Values recorded at rung (0 past the top).
uint64_t hpo_asha_ladder_count (const hpo_asha_ladder_t *self, uint32_t rung);

//  A trial whose latest (largest) step is step, with value there, and
//  which has recorded *rung rungs so far, climbs: at each rung whose
//  promotion step it has reached it records value and moves up, as long
//  as value ranks in the rung's best 1/eta (at least the best one). NaN
//  stops it without a record. Returns HPO_PRUNE_STOP with *reason
//  (malloc'd, names the rung) or HPO_PRUNE_CONTINUE; reason may be NULL
//  when no sentence is wanted.
hpo_prune_t hpo_asha_ladder_climb (hpo_asha_ladder_t *self, uint32_t *rung,
                                   int64_t step, double value, char **reason);

//  Per-trial bookkeeping both pruners keep, indexed by trial number.
typedef struct {
    uint32_t rung;     //  rungs recorded
    int32_t bracket;   //  hyperband: the trial's bracket, -1 not yet
    int has_last;      //  last_step/last_value hold the largest step
    int64_t last_step; //  ... of the current attempt's curve
    double last_value;
} hpo_asha_trial_t;

typedef struct {
    hpo_asha_trial_t *rows;
    size_t n;
} hpo_asha_trials_t;

//  Trial number's row, grown as needed (new rows are zeroed, bracket -1).
hpo_asha_trial_t *hpo_asha_trials_at (hpo_asha_trials_t *self,
                                      uint64_t number);
void hpo_asha_trials_free (hpo_asha_trials_t *self);

//  A point of row's trial: keeps its largest step and that step's value,
//  as Optuna's trial.last_step and intermediate_values[last_step]. fresh:
//  the point starts a new attempt's curve, which is read from its start.
void hpo_asha_trial_point (hpo_asha_trial_t *row, int64_t step, double value,
                           int fresh);

//  Largest last step of the COMPLETE trials with a curve, or -1 if none:
//  what Optuna's auto resources are estimated from. Reads the history's
//  list of completed trials: O(1) until one completes, then run once.
int64_t hpo_asha_complete_last_step (const hpo_history_t *history);

//  Reads an option that is a positive integer or, where auto_ok, the
//  string "auto" (*out = 0). Returns 0, or -1 with *problem.
int hpo_asha_option_resource (const hpo_search_option_t *options,
                              size_t index, int auto_ok, int64_t *out,
                              hpo_search_problem_t *problem);
//  Reads an option that is an integer >= min.
int hpo_asha_option_at_least (const hpo_search_option_t *options,
                              size_t index, uint64_t min, uint64_t *out,
                              hpo_search_problem_t *problem);

//  For tests, on a hyperband instance (search/hyperband.c): the number
//  of brackets (0 until max_resource is known), bracket b's share of the
//  trials, and trial number's bracket (brackets known).
uint32_t hpo_hyperband_n_brackets (void *self);
uint64_t hpo_hyperband_share (void *self, uint32_t b);
uint32_t hpo_hyperband_bracket (void *self, uint64_t number);

#endif
