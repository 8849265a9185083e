/*  patient.c: Optuna 3.1's PatientPruner. A trial whose best value of its
    last patience + 1 steps is no better, by more than min_delta, than
    its best before them has stopped improving; then the wrapped pruner
    decides (wrapped: {type: median, ...}, parsed by common/spec.c into
    spec->pruner.wrapped_ops), or, with none, the trial is stopped.

        pruner: {type: patient, patience: 3, min_delta: 0.01,
                 wrapped: {type: median, n_startup_trials: 2}}

    patience (required) and min_delta (default 0) are at least 0. A
    decision reads the trial's own curve once: O(s) in its steps, not in
    the study's trials; the wrapped pruner's costs its own. As elsewhere,
    a NaN report never joins a curve, so it does not count as a step as
    it does in Optuna.

    The wrapped pruner is asked only when patience runs out, so it must
    not rebuild its state from every point of the history at its first
    question (asha's rungs would then hold values Optuna's wrapped
    pruner never saw): patient's first report calls its restore op
    (pruner.h) instead, when there is little or nothing to rebuild.      */
#include "pruner.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "../common/spec.h"

static const char *const s_keys[] = {"patience", "min_delta", "wrapped", NULL};

typedef struct {
    uint64_t patience;
    double min_delta;
} s_config_t;

typedef struct {
    s_config_t cfg;
    int maximize;
    const hpo_pruner_ops_t *wrapped_ops; //  NULL: none
    void *wrapped;
} s_self_t;

static int
s_check (const hpo_spec_t *spec, const hpo_search_option_t *options, size_t n,
         void **config, hpo_search_problem_t *problem)
{
    s_config_t cfg = {0, 0};
    int has_patience = 0;
    for (size_t k = 0; k < n; k++) {
        const hpo_value_t *v = &options[k].value;
        if (!strcmp (options[k].key, "patience")) {
            if (hpo_search_option_uint (options, k, &cfg.patience, problem))
                return -1;
            has_patience = 1;
        } else if ((v->kind != HPO_KIND_INT && v->kind != HPO_KIND_FLOAT) ||
                   !(v->f >= 0 && isfinite (v->f)))
            return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, k,
                                    "must be a number, at least 0");
        else
            cfg.min_delta = v->f;
    }
    if (!has_patience)
        return hpo_search_fail (problem, HPO_SEARCH_AT_SECTION, 0,
                                "patience: missing");
    s_config_t *out = hpo_malloc (sizeof *out);
    *out = cfg;
    *config = out;
    return 0;
}

static void *
s_new (const hpo_spec_t *spec, const void *config)
{
    s_self_t *self = hpo_calloc (1, sizeof *self);
    self->cfg = *(const s_config_t *)config;
    self->maximize = spec->maximize;
    self->wrapped_ops = spec->pruner.wrapped_ops;
    if (self->wrapped_ops)
        self->wrapped =
            self->wrapped_ops->new (spec, spec->pruner.wrapped_config);
    return self;
}

static void
s_destroy (void *self_)
{
    s_self_t *self = self_;
    if (self->wrapped_ops)
        self->wrapped_ops->destroy (self->wrapped);
    free (self);
}

//  The better of a and b, NaN only if both are.
static double
s_better (const s_self_t *self, double a, double b)
{
    if (isnan (a))
        return b;
    if (isnan (b))
        return a;
    return (self->maximize ? b > a : b < a) ? b : a;
}

//  Every report reaches patient, so its first one is the instance's
//  first: the wrapped pruner restores there (it ignores later calls).
static void
s_restore (void *self_, const hpo_history_t *history, uint64_t number)
{
    s_self_t *self = self_;
    if (self->wrapped_ops && self->wrapped_ops->restore)
        self->wrapped_ops->restore (self->wrapped, history, number);
}

static hpo_prune_t
s_report (void *self_, const hpo_history_t *history, uint64_t number,
          int64_t step, double value, char **reason)
{
    s_self_t *self = self_;
    s_restore (self, history, number);
    if (number >= history->n)
        return HPO_PRUNE_CONTINUE;
    const hpo_curve_t *c = &history->curves[number];
    uint64_t window = self->cfg.patience + 1;
    if (c->n <= window)
        return HPO_PRUNE_CONTINUE;
    double before = NAN, after = NAN;
    size_t split = c->n - (size_t)window;
    for (size_t k = 0; k < c->n; k++)
        if (k < split)
            before = s_better (self, before, c->values[k]);
        else
            after = s_better (self, after, c->values[k]);
    double delta = self->cfg.min_delta;
    int stalled =
        self->maximize ? before - delta > after : before + delta < after;
    if (!stalled)
        return HPO_PRUNE_CONTINUE;
    if (self->wrapped_ops)
        return self->wrapped_ops->report (self->wrapped, history, number, step,
                                          value, reason);
    *reason = hpo_sprintf ("pruned at step %" PRId64 ": no better than %g "
                           "for the last %" PRIu64 " steps (best %g)",
                           step, before, window, after);
    return HPO_PRUNE_STOP;
}

const hpo_pruner_ops_t hpo_pruner_patient = {
    .name = "patient",
    .summary = "stops a trial that stopped improving, if its wrapped pruner "
               "agrees (Optuna's PatientPruner)",
    .keys = s_keys,
    .needs_curves = 1,
    .wraps = 1,
    .check = s_check,
    .config_free = free,
    .new = s_new,
    .destroy = s_destroy,
    .report = s_report,
    .restore = s_restore,
};
