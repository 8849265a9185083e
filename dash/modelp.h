/*  modelp.h: the read model's insides, shared by dash/model.c (which
    changes them) and dash/api.c (which renders them). Private to dash/;
    nothing outside it includes this.                                    */
#ifndef HPO_MODELP_H
#define HPO_MODELP_H

#include <stddef.h>
#include <stdint.h>

#include "../common/spec.h"
#include "jw.h"
#include "model.h"

//  Trial states, in the order of the documents' "counts".
#define HPO_DASH_STATES 5
extern const char *const hpo_dash_states[HPO_DASH_STATES];

//  One parameter of one trial, typed by the study's space. A categorical
//  (or listed) value is its index among the parameter's values, so no
//  trial holds a string of its own.
typedef struct {
    uint8_t kind;   //  HPO_KIND_NONE (absent: null), _FLOAT, _INT, _STR
    union {
        double f;
        int64_t i;
        int64_t cat;    //  _STR: index in the spec's values
    } u;
} hpo_dash_pval_t;

//  An ended attempt (store.h's attempt row).
typedef struct {
    uint32_t attempt;
    const char *worker;     //  interned
    const char *outcome;    //  interned
    char *reason;           //  owned, or NULL
    char *log_tail;         //  owned, or NULL
    double started, ended;
} hpo_dash_attempt_t;

//  An intermediate value; a trial's are sorted by (step, metric).
typedef struct {
    int64_t step;
    double value;
    uint32_t attempt;
    uint32_t metric;        //  index in the study's metrics
} hpo_dash_value_t;

typedef struct _hpo_dash_study_t hpo_dash_study_t;

typedef struct {
    uint64_t id, number;
    hpo_dash_study_t *study;
    int state;              //  index in hpo_dash_states
    uint32_t attempt, failures, lost;
    int has_value;
    double value;
    const char *worker;     //  interned, or NULL
    double started, ended;
    char *reason;           //  owned, or NULL
    hpo_dash_attempt_t *attempts;
    uint32_t n_attempts, cap_attempts;
    hpo_dash_value_t *values;
    uint32_t n_values, cap_values;
    uint8_t dirty;          //  in the model's dirty trial list
    hpo_dash_pval_t params[];   //  the study's space's n_params
} hpo_dash_trial_t;

struct _hpo_dash_study_t {
    uint64_t id;
    char *name;
    char *spec_text;
    hpo_spec_t *spec;       //  NULL if the text does not parse: no space
    size_t n_params;        //  spec's, or 0
    char *state;
    double created, ended;
    char *reason;
    uint64_t budget;        //  0: the spec's
    hpo_dash_trial_t **trials;  //  by number; NULL where none (yet)
    size_t n_numbers, cap_numbers;  //  highest number + 1
    size_t n_trials;        //  trials present
    uint64_t counts[HPO_DASH_STATES];
    char **metrics;         //  every metric reported, in order seen
    size_t n_metrics, cap_metrics;
    int objective;          //  index of spec's metric in metrics, or -1
    uint8_t dirty;
};

typedef struct {
    hpo_dash_study_t **studies;     //  in id order
    size_t n_studies;
    char *workers_json;             //  the "workers" array, or NULL
    double workers_now;
} hpo_dash_view_t;

//  The model's studies and workers, for rendering.
const hpo_dash_view_t *hpo_model_view (const hpo_model_t *self);
hpo_dash_study_t *hpo_model_study (const hpo_model_t *self, const char *name);

//  The trial's objective value at its latest step of its current attempt
//  (the documents' last_step, last_value). 0 when it has none.
int hpo_dash_trial_last (const hpo_dash_trial_t *t, int64_t *step,
                         double *value);
//  The best COMPLETE trial, or NULL.
const hpo_dash_trial_t *hpo_dash_study_best (const hpo_dash_study_t *s);

//  Documents shared by the API (dash/api.c) and the events (model.c).
//  A study as in /api/studies; a trial as in trials/N's "trial"; an
//  ended attempt's keys as in trials/N's "attempts" (no braces; log_tail:
//  with "log_tail").
void hpo_dash_write_study (hpo_jw_t *w, const hpo_dash_study_t *s, double now);
void hpo_dash_write_trial (hpo_jw_t *w, const hpo_dash_trial_t *t);
void hpo_dash_write_attempt_keys (hpo_jw_t *w, const hpo_dash_attempt_t *a,
                                  int log_tail);
//  A parameter value, typed (null when absent).
void hpo_dash_write_pval (hpo_jw_t *w, const hpo_param_spec_t *param,
                          const hpo_dash_pval_t *v);

#endif
