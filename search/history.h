/*  history.h: a study's trials as samplers and pruners see them. Plain
    arrays, row index = trial number, so a sampler reads trial k's
    parameters, state, objective value and intermediate curve without
    SQL, sockets or clocks. The scheduler owns one per study and keeps it
    in step with its trials.                                               */
#ifndef HPO_HISTORY_H
#define HPO_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "../common/value.h"

//  A trial's state. The scheduler (coordinator/sched.h) is the only code
//  that changes one, through its transition table.
typedef enum {
    HPO_TRIAL_WAITING = 0,
    HPO_TRIAL_RUNNING,
    HPO_TRIAL_COMPLETE,
    HPO_TRIAL_PRUNED,
    HPO_TRIAL_FAILED,
    HPO_TRIAL_NSTATES
} hpo_trial_state_t;

//  "WAITING", "RUNNING", ...; "?" for anything else.
const char *hpo_trial_state_str (hpo_trial_state_t state);
//  The state named name, in any case, or -1 if name is not a state.
int hpo_trial_state_parse (const char *name);

//  The objective's intermediate values of one trial's current attempt,
//  in the order reported.
typedef struct {
    int64_t *steps;
    double *values;
    size_t n, cap;
} hpo_curve_t;

typedef struct {
    size_t n;            //  rows: trials 0 .. n-1
    size_t n_params;     //  values per row
    hpo_value_t *params; //  n x n_params, row-major; owned
    double *values;      //  objective value, NaN when none
    hpo_trial_state_t *states;
    hpo_curve_t *curves;
    size_t cap; //  rows allocated
    //  Trial numbers in the order they became COMPLETE (a final state),
    //  so a pruner indexes newly completed trials from a cursor instead
    //  of scanning every row per report.
    uint64_t *completed;
    size_t n_completed, cap_completed;
} hpo_history_t;

//  A new, empty history for a space of n_params parameters.
hpo_history_t *hpo_history_new (size_t n_params);
void hpo_history_destroy (hpo_history_t **self_p);

//  Appends the next trial, WAITING with no value and an empty curve, with
//  a copy of its n_params values. Returns its number (the old n).
uint64_t hpo_history_append (hpo_history_t *self, const hpo_value_t *params);

//  Trial number's row of n_params values.
const hpo_value_t *hpo_history_params (const hpo_history_t *self,
                                       uint64_t number);

//  A trial entering COMPLETE is appended to completed.
void hpo_history_set_state (hpo_history_t *self, uint64_t number,
                            hpo_trial_state_t state);
//  NaN clears the value.
void hpo_history_set_value (hpo_history_t *self, uint64_t number, double value);

//  Adds (step, value) to trial number's curve.
void hpo_history_add_point (hpo_history_t *self, uint64_t number, int64_t step,
                            double value);
//  Empties trial number's curve: a new attempt starts from scratch.
void hpo_history_clear_curve (hpo_history_t *self, uint64_t number);

#endif
