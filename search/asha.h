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

//  A pruner's trials on its ladders: asha has one ladder, hyperband one
//  per bracket. The owner says when its ladders are ready (resources
//  known) and which ladder a trial climbs.
typedef struct {
    uint32_t rung;     //  rungs recorded
    int32_t ladder;    //  the trial's ladder, -1 not picked yet
    int has_last;      //  last_step/last_value hold the largest step
    int64_t last_step; //  ... of the current attempt's curve
    double last_value;
} hpo_asha_trial_t;

typedef struct {
    //  Whether the ladders are ready (false: continue, record nothing).
    int (*ready) (void *owner, const hpo_history_t *history);
    //  Index of trial number's ladder, asked once per trial.
    int32_t (*pick) (void *owner, uint64_t number);
    //  The ladder of that index.
    hpo_asha_ladder_t *(*ladder) (void *owner, int32_t index);
    void *owner;
    int bracketed;           //  reasons name the ladder as a bracket
    hpo_asha_trial_t *rows;  //  by trial number
    size_t n_rows;
    int restored;            //  hpo_asha_restore has run
} hpo_asha_run_t;

//  A report of the pruner's (pruner.h's report): the trial's latest
//  point (its largest step and that step's value, as Optuna's
//  trial.last_step and intermediate_values[last_step]) climbs its
//  ladder. A new instance's first report with the ladders ready first
//  rebuilds them from the history's curves (asha.c's header says how).
//  self is the pruner's instance, which begins with its hpo_asha_run_t,
//  so this is both pruners' ops->report.
hpo_prune_t hpo_asha_report (void *self, const hpo_history_t *history,
                             uint64_t number, int64_t step, double value,
                             char **reason);
//  Both pruners' restore (pruner.h): the rebuild above, at most once per
//  instance (with auto, only once the ladders are ready at that call).
void hpo_asha_restore (void *self, const hpo_history_t *history,
                       uint64_t number);
void hpo_asha_run_free (hpo_asha_run_t *run);

//  Largest last step of the COMPLETE trials with a curve, or -1 if none:
//  what Optuna's auto resources are estimated from. Reads the history's
//  list of completed trials: O(1) until one completes, then run once.
int64_t hpo_asha_complete_last_step (const hpo_history_t *history);

//  Both pruners' options, as their checks leave them.
typedef struct {
    int64_t min_resource; //  0: auto (asha only)
    int64_t max_resource; //  hyperband; 0: auto
    uint64_t eta;         //  reduction_factor
    uint64_t rate;        //  min_early_stopping_rate (asha only)
    uint64_t bootstrap;   //  bootstrap_count
} hpo_asha_config_t;

//  The check (search/search.h) of asha's options, or hyperband's where
//  hyperband is set; *config is a malloc'd hpo_asha_config_t.
int hpo_asha_check (const hpo_search_option_t *options, size_t n,
                    int hyperband, void **config,
                    hpo_search_problem_t *problem);

//  For tests, on a hyperband instance (search/hyperband.c): the number
//  of brackets (0 until max_resource is known), bracket b's share of the
//  trials, and trial number's bracket (brackets known).
uint32_t hpo_hyperband_n_brackets (void *self);
uint64_t hpo_hyperband_share (void *self, uint32_t b);
uint32_t hpo_hyperband_bracket (void *self, uint64_t number);

#endif
