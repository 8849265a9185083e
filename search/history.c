/*  history.c: a study's trials as growing arrays.                        */
#include "history.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/mem.h"

static const char *s_state_names[HPO_TRIAL_NSTATES] = {
    "WAITING", "RUNNING", "COMPLETE", "PRUNED", "FAILED"};

const char *
hpo_trial_state_str (hpo_trial_state_t state)
{
    return state < HPO_TRIAL_NSTATES ? s_state_names[state] : "?";
}

int
hpo_trial_state_parse (const char *name)
{
    assert (name);
    for (int k = 0; k < HPO_TRIAL_NSTATES; k++)
        if (strcasecmp (name, s_state_names[k]) == 0)
            return k;
    return -1;
}

hpo_history_t *
hpo_history_new (size_t n_params)
{
    hpo_history_t *self = hpo_calloc (1, sizeof *self);
    self->n_params = n_params;
    return self;
}

void
hpo_history_destroy (hpo_history_t **self_p)
{
    assert (self_p);
    hpo_history_t *self = *self_p;
    if (!self)
        return;
    hpo_values_clear (self->params, self->n * self->n_params);
    for (size_t k = 0; k < self->n; k++) {
        free (self->curves[k].steps);
        free (self->curves[k].values);
    }
    free (self->params);
    free (self->values);
    free (self->states);
    free (self->curves);
    free (self->completed);
    free (self);
    *self_p = NULL;
}

//  Doubling keeps appends amortised O(1) however long a study runs.
static void
s_grow (hpo_history_t *self)
{
    size_t cap = self->cap ? self->cap * 2 : 16;
    self->params =
        hpo_realloc (self->params, cap * self->n_params * sizeof (hpo_value_t));
    self->values = hpo_realloc (self->values, cap * sizeof (double));
    self->states = hpo_realloc (self->states, cap * sizeof (hpo_trial_state_t));
    self->curves = hpo_realloc (self->curves, cap * sizeof (hpo_curve_t));
    self->cap = cap;
}

uint64_t
hpo_history_append (hpo_history_t *self, const hpo_value_t *params)
{
    assert (self);
    assert (params || self->n_params == 0);
    if (self->n == self->cap)
        s_grow (self);
    size_t row = self->n++;
    for (size_t k = 0; k < self->n_params; k++)
        hpo_value_copy (&self->params[row * self->n_params + k], &params[k]);
    self->values[row] = NAN;
    self->states[row] = HPO_TRIAL_WAITING;
    self->curves[row] = (hpo_curve_t){0};
    return row;
}

const hpo_value_t *
hpo_history_params (const hpo_history_t *self, uint64_t number)
{
    assert (self && number < self->n);
    return &self->params[number * self->n_params];
}

void
hpo_history_set_state (hpo_history_t *self, uint64_t number,
                       hpo_trial_state_t state)
{
    assert (self && number < self->n && state < HPO_TRIAL_NSTATES);
    if (state == HPO_TRIAL_COMPLETE &&
        self->states[number] != HPO_TRIAL_COMPLETE) {
        if (self->n_completed == self->cap_completed) {
            self->cap_completed =
                self->cap_completed ? self->cap_completed * 2 : 16;
            self->completed =
                hpo_realloc (self->completed,
                             self->cap_completed * sizeof (uint64_t));
        }
        self->completed[self->n_completed++] = number;
    }
    self->states[number] = state;
}

void
hpo_history_set_value (hpo_history_t *self, uint64_t number, double value)
{
    assert (self && number < self->n);
    self->values[number] = value;
}

void
hpo_history_add_point (hpo_history_t *self, uint64_t number, int64_t step,
                       double value)
{
    assert (self && number < self->n);
    hpo_curve_t *c = &self->curves[number];
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->steps = hpo_realloc (c->steps, c->cap * sizeof *c->steps);
        c->values = hpo_realloc (c->values, c->cap * sizeof *c->values);
    }
    c->steps[c->n] = step;
    c->values[c->n] = value;
    c->n++;
}

void
hpo_history_clear_curve (hpo_history_t *self, uint64_t number)
{
    assert (self && number < self->n);
    self->curves[number].n = 0;
}
