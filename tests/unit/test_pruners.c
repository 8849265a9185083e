/*  test_pruners.c: the median, percentile, threshold and patient pruners
    against hand-worked cases, their options' checks, and
    objective.value's parsing. A small study harness stands in for the
    scheduler: a report joins the trial's curve as coordinator/sched.c's
    s_point does (a finite value at a step above the last), then the
    pruner is asked; a stopped trial becomes PRUNED.                       */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/spec.h"
#include "../../search/history.h"
#include "../../search/pruner.h"
#include "testutil.h"

typedef struct {
    hpo_spec_t *spec;
    void *pruner;
    hpo_history_t *history;
    char *reason; //  the last decision's, or NULL
} s_study_t;

static char *
s_parse_error (const char *objective, const char *pruner)
{
    char text[1024];
    snprintf (text, sizeof text,
              "name: t\ncommand: 'true'\nobjective: %s\npruner: %s\n"
              "budget: {trials: 5}\n"
              "space: {x: {type: float, low: 0, high: 1}}\n",
              objective, pruner);
    char *error = NULL;
    hpo_spec_t *spec = hpo_spec_parse (text, strlen (text), "t.yaml", &error);
    hpo_spec_destroy (&spec);
    return error;
}

static s_study_t *
s_study (const char *direction, const char *pruner)
{
    char text[1024];
    snprintf (text, sizeof text,
              "name: t\ncommand: 'true'\n"
              "objective: {metric: loss, direction: %s}\npruner: %s\n"
              "budget: {trials: 5}\n"
              "space: {x: {type: float, low: 0, high: 1}}\n",
              direction, pruner);
    char *error = NULL;
    s_study_t *self = calloc (1, sizeof *self);
    self->spec = hpo_spec_parse (text, strlen (text), "t.yaml", &error);
    if (!self->spec) {
        fprintf (stderr, "%s\n", error);
        abort ();
    }
    self->pruner =
        self->spec->pruner.ops->new (self->spec, self->spec->pruner.config);
    self->history = hpo_history_new (0);
    return self;
}

static void
s_study_destroy (s_study_t *self)
{
    self->spec->pruner.ops->destroy (self->pruner);
    hpo_history_destroy (&self->history);
    hpo_spec_destroy (&self->spec);
    free (self->reason);
    free (self);
}

//  Trial number reports value at step: 1 if the pruner stops it.
static int
s_rep (s_study_t *self, uint64_t number, int64_t step, double value)
{
    while (number >= self->history->n)
        hpo_history_set_state (self->history,
                               hpo_history_append (self->history, NULL),
                               HPO_TRIAL_RUNNING);
    const hpo_curve_t *c = &self->history->curves[number];
    if (isfinite (value) && (c->n == 0 || step > c->steps[c->n - 1]))
        hpo_history_add_point (self->history, number, step, value);
    free (self->reason);
    self->reason = NULL;
    hpo_prune_t d = self->spec->pruner.ops->report (
        self->pruner, self->history, number, step, value, &self->reason);
    CHECK ((d == HPO_PRUNE_STOP) == (self->reason != NULL));
    if (d == HPO_PRUNE_STOP)
        hpo_history_set_state (self->history, number, HPO_TRIAL_PRUNED);
    return d == HPO_PRUNE_STOP;
}

//  Trial number reports values[0 .. n-1] at steps 0 .. n-1, then ends
//  COMPLETE.
static void
s_complete (s_study_t *self, uint64_t number, const double *values, size_t n)
{
    for (size_t k = 0; k < n; k++)
        s_rep (self, number, (int64_t)k, values[k]);
    hpo_history_set_state (self->history, number, HPO_TRIAL_COMPLETE);
}

static void
s_test_median (void)
{
    //  n_startup_trials counts COMPLETE trials only.
    s_study_t *s = s_study ("minimize", "{type: median, n_startup_trials: 3}");
    CHECK (!s_rep (s, 0, 0, 1));
    CHECK (!s_rep (s, 1, 0, 2));
    CHECK (!s_rep (s, 2, 0, 3));
    CHECK (!s_rep (s, 3, 0, 10)); //  none complete
    hpo_history_set_state (s->history, 0, HPO_TRIAL_COMPLETE);
    hpo_history_set_state (s->history, 1, HPO_TRIAL_COMPLETE);
    CHECK (!s_rep (s, 3, 1, 10)); //  2 < 3 complete
    //  A PRUNED trial is no reference and does not count.
    CHECK (!s_rep (s, 9, 0, 0.5));
    hpo_history_set_state (s->history, 9, HPO_TRIAL_PRUNED);
    CHECK (!s_rep (s, 4, 0, 2.5));
    hpo_history_set_state (s->history, 2, HPO_TRIAL_COMPLETE);
    //  The median of {1, 2, 3} at step 0 is 2.
    CHECK (s_rep (s, 5, 0, 2.5));
    CHECK_STR (s->reason, "pruned at step 0: 2.5 worse than the median 2 "
                          "of 3 trials at step 0");
    CHECK (!s_rep (s, 6, 0, 2)); //  equal is not worse
    //  A step no COMPLETE trial reported decides nothing.
    CHECK (!s_rep (s, 6, 7, 100));
    //  The trial's best so far counts, not its last value.
    CHECK (!s_rep (s, 7, 0, 1.5));
    CHECK (!s_rep (s, 8, 0, 1.5));
    hpo_history_set_state (s->history, 8, HPO_TRIAL_COMPLETE);
    //  Now {1, 1.5, 2, 3}: median 1.75; trial 7's best is 1.5.
    CHECK (!s_rep (s, 7, 1, 9));
    CHECK (s_rep (s, 10, 0, 1.8));
    CHECK_CONTAINS (s->reason, "the median 1.75 of 4 trials");
    s_study_destroy (s);

    //  Maximize: worse is lower.
    s = s_study ("maximize", "{type: median, n_startup_trials: 1}");
    double v[] = {1, 2, 3};
    for (uint64_t k = 0; k < 3; k++)
        s_complete (s, k, &v[k], 1);
    CHECK (s_rep (s, 3, 0, 1.5));
    CHECK (!s_rep (s, 4, 0, 2.5));
    s_study_destroy (s);
}

static void
s_test_warmup_interval (void)
{
    s_study_t *s =
        s_study ("minimize", "{type: median, n_startup_trials: 1, "
                             "n_warmup_steps: 2}");
    double ones[] = {1, 1, 1, 1};
    s_complete (s, 0, ones, 4);
    CHECK (!s_rep (s, 1, 0, 5));
    CHECK (!s_rep (s, 1, 1, 5));
    CHECK (s_rep (s, 1, 2, 5));
    s_study_destroy (s);

    //  interval_steps 3: only a trial's first report at or past 0, 3, 6
    //  ... is judged.
    s = s_study ("minimize", "{type: median, n_startup_trials: 1, "
                             "interval_steps: 3}");
    double ref[] = {1, 0.1, 1, 0.1, 1, 1, 1, 1};
    s_complete (s, 0, ref, 8);
    CHECK (!s_rep (s, 1, 0, 0.9)); //  judged: 0.9 < 1
    CHECK (!s_rep (s, 1, 1, 0.9)); //  not judged (0.9 > 0.1 would prune)
    CHECK (!s_rep (s, 1, 2, 0.9));
    CHECK (s_rep (s, 1, 3, 0.9)); //  judged: 0.9 > 0.1
    //  A report that skips steps: 0 then 4 (its interval's first), then
    //  5 (not its interval's first).
    CHECK (!s_rep (s, 2, 0, 0.5));
    CHECK (s_rep (s, 2, 4, 1.5) == 0); //  best 0.5 < 1
    CHECK (!s_rep (s, 3, 0, 1));
    CHECK (!s_rep (s, 3, 4, 2)); //  judged: best 1 == 1, not worse
    CHECK (!s_rep (s, 3, 3, 9)); //  an earlier step: no point, not judged
    s_study_destroy (s);

    s = s_study ("minimize", "{type: median, n_startup_trials: 1, "
                             "interval_steps: 3}");
    s_complete (s, 0, ref, 8);
    CHECK (!s_rep (s, 1, 0, 0.5));
    CHECK (s_rep (s, 1, 3, 0.5)); //  the first of step 3's interval
    s_study_destroy (s);
}

static void
s_test_min_trials_nan (void)
{
    s_study_t *s = s_study ("minimize", "{type: median, n_startup_trials: 1,"
                                        " n_min_trials: 2}");
    double a[] = {1, 1};
    s_complete (s, 0, a, 2);
    CHECK (!s_rep (s, 1, 0, 5)); //  one trial at step 0 < n_min_trials
    double b[] = {2};             //  trial 2 reaches only step 0
    s_complete (s, 2, b, 1);
    CHECK (s_rep (s, 3, 0, 5)); //  median of {1, 2} is 1.5
    CHECK (!s_rep (s, 4, 1, 5)); //  one trial at step 1
    //  NaN: a trial with no number so far is stopped; a NaN after a
    //  number counts as nothing.
    CHECK (s_rep (s, 5, 0, NAN));
    CHECK_STR (s->reason, "pruned at step 0: no value so far is a number");
    CHECK (!s_rep (s, 6, 0, 1));
    CHECK (!s_rep (s, 6, 1, NAN));
    s_study_destroy (s);

    //  Before startup even NaN continues.
    s = s_study ("minimize", "{type: median}");
    CHECK (!s_rep (s, 0, 0, NAN));
    s_study_destroy (s);
}

static void
s_test_percentile (void)
{
    s_study_t *s = s_study ("minimize", "{type: percentile, percentile: 25,"
                                        " n_startup_trials: 1}");
    double v[] = {4, 1, 3, 2};
    for (uint64_t k = 0; k < 4; k++)
        s_complete (s, k, &v[k], 1);
    //  The 25th percentile of {1, 2, 3, 4}: position 0.75, 1.75.
    CHECK (s_rep (s, 4, 0, 1.8));
    CHECK_STR (s->reason, "pruned at step 0: 1.8 worse than the 25th "
                          "percentile 1.75 of 4 trials at step 0");
    CHECK (!s_rep (s, 5, 0, 1.7));
    s_study_destroy (s);

    //  Maximizing keeps the top 25: the reference is the 75th, 3.25.
    s = s_study ("maximize", "{type: percentile, percentile: 25,"
                             " n_startup_trials: 1}");
    for (uint64_t k = 0; k < 4; k++)
        s_complete (s, k, &v[k], 1);
    CHECK (s_rep (s, 4, 0, 3.2));
    CHECK (!s_rep (s, 5, 0, 3.3));
    s_study_destroy (s);

    //  Many trials at one step: the treap's order statistics agree with
    //  a sort (values 0 .. 999 in a scrambled order).
    s = s_study ("minimize", "{type: percentile, percentile: 10,"
                             " n_startup_trials: 1}");
    for (uint64_t k = 0; k < 1000; k++) {
        double x = (double)((k * 7919) % 1000);
        s_complete (s, k, &x, 1);
    }
    CHECK (!s_rep (s, 1000, 0, 99.85)); //  10th percentile: 99.9
    CHECK (s_rep (s, 1001, 0, 99.95));
    s_study_destroy (s);
}

static void
s_test_threshold (void)
{
    s_study_t *s = s_study ("minimize", "{type: threshold, lower: 0, "
                                        "upper: 1, n_warmup_steps: 1}");
    CHECK (!s_rep (s, 0, 0, 5)); //  warmup
    CHECK (s_rep (s, 0, 1, 5));
    CHECK_STR (s->reason, "pruned at step 1: 5 above the upper threshold 1");
    CHECK (s_rep (s, 1, 1, -1));
    CHECK_STR (s->reason, "pruned at step 1: -1 below the lower threshold 0");
    CHECK (!s_rep (s, 2, 1, 0.5));
    CHECK (s_rep (s, 2, 2, NAN));
    s_study_destroy (s);

    s = s_study ("minimize", "{type: threshold, upper: 1, "
                             "interval_steps: 2}");
    CHECK (!s_rep (s, 0, 0, 0.5));
    CHECK (!s_rep (s, 0, 1, 5)); //  not judged
    CHECK (s_rep (s, 0, 2, 5));
    s_study_destroy (s);
}

static void
s_test_patient (void)
{
    s_study_t *s = s_study ("minimize", "{type: patient, patience: 2}");
    CHECK (!s_rep (s, 0, 0, 1.0));
    CHECK (!s_rep (s, 0, 1, 0.9));
    CHECK (!s_rep (s, 0, 2, 0.95));
    CHECK (!s_rep (s, 0, 3, 0.95)); //  before {1}: 1 > 0.9
    CHECK (s_rep (s, 0, 4, 0.95));  //  before {1, 0.9}: 0.9 < 0.95
    CHECK_CONTAINS (s->reason, "pruned at step 4: no better than 0.9");
    s_study_destroy (s);

    s = s_study ("minimize", "{type: patient, patience: 2, min_delta: 0.1}");
    double v[] = {1.0, 0.9, 0.95, 0.95, 0.95};
    for (int k = 0; k < 5; k++)
        CHECK (!s_rep (s, 0, k, v[k])); //  0.9 + 0.1 is not < 0.95
    s_study_destroy (s);

    //  Maximize; and wrapping a median that has no reference: the wrapped
    //  pruner has the last word.
    s = s_study ("maximize", "{type: patient, patience: 1, wrapped: "
                             "{type: median, n_startup_trials: 1}}");
    double up[] = {0.5, 0.6, 0.7};
    s_complete (s, 0, up, 3);
    CHECK (!s_rep (s, 1, 0, 0.4));
    CHECK (!s_rep (s, 1, 1, 0.3));
    CHECK (s_rep (s, 1, 2, 0.3)); //  stalled, and below the median 0.7
    CHECK_CONTAINS (s->reason, "worse than the median 0.7");
    CHECK (!s_rep (s, 2, 0, 0.9));
    CHECK (!s_rep (s, 2, 1, 0.8));
    CHECK (!s_rep (s, 2, 2, 0.8)); //  stalled, but 0.9 beats the median
    s_study_destroy (s);
}

static void
s_test_checks (void)
{
    const char *obj = "{metric: loss}";
    struct {
        const char *pruner, *error;
    } cases[] = {
        {"{type: percentile}", "t.yaml:4: pruner: percentile: missing (0 to 100)"},
        {"{type: percentile, percentile: 101}",
         "t.yaml:4: pruner.percentile: must be a number from 0 to 100"},
        {"{type: median, interval_steps: 0}",
         "t.yaml:4: pruner.interval_steps: must be at least 1"},
        {"{type: median, n_min_trials: 0}",
         "t.yaml:4: pruner.n_min_trials: must be at least 1"},
        {"{type: median, n_startup_trials: -1}",
         "t.yaml:4: pruner.n_startup_trials: must be a non-negative integer"},
        {"{type: median, n_warmup_steps: 1.5}",
         "t.yaml:4: pruner.n_warmup_steps: must be a non-negative integer"},
        {"{type: median, percentile: 3}",
         "t.yaml:4: pruner.percentile: unknown key"},
        {"{type: threshold}", "t.yaml:4: pruner: lower or upper: missing"},
        {"{type: threshold, lower: 2, upper: 1}",
         "t.yaml:4: pruner.upper: must not be below lower"},
        {"{type: threshold, upper: x}",
         "t.yaml:4: pruner.upper: must be a number"},
        {"{type: patient}", "t.yaml:4: pruner: patience: missing"},
        {"{type: patient, patience: 1, min_delta: -1}",
         "t.yaml:4: pruner.min_delta: must be a number, at least 0"},
        {"{type: patient, patience: 1, wrapped: median}",
         "t.yaml:4: pruner.wrapped: must be a mapping with a type"},
        {"{type: patient, patience: 1, wrapped: {n_min_trials: 1}}",
         "t.yaml:4: pruner.wrapped.type: missing"},
        {"{type: patient, patience: 1, wrapped: {type: median, "
         "interval_steps: 0}}",
         "t.yaml:4: pruner.wrapped.interval_steps: must be at least 1"},
        {"{type: patient, patience: 1, wrapped: {type: patient, "
         "patience: 1}}",
         "t.yaml:4: pruner.wrapped.type: must be a pruner that wraps none"},
        {"{type: median, wrapped: {type: none}}",
         "t.yaml:4: pruner.wrapped: unknown key"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char *error = s_parse_error (obj, cases[k].pruner);
        CHECK_STR (error, cases[k].error);
        free (error);
    }
    char *error = s_parse_error ("{metric: loss, value: first}", "{}");
    CHECK_STR (error, "t.yaml:3: objective.value: must be last, best, min "
                      "or max");
    free (error);
    const char *values[] = {"last", "best", "min", "max"};
    for (int k = 0; k < 4; k++) {
        char text[512];
        snprintf (text, sizeof text,
                  "name: t\ncommand: 'true'\n"
                  "objective: {metric: loss, value: %s}\n"
                  "budget: {trials: 5}\n"
                  "space: {x: {type: float, low: 0, high: 1}}\n",
                  values[k]);
        hpo_spec_t *spec =
            hpo_spec_parse (text, strlen (text), "t.yaml", &error);
        CHECK (spec && spec->value == (hpo_spec_value_t)k);
        hpo_spec_destroy (&spec);
    }
}

int
main (void)
{
    s_test_median ();
    s_test_warmup_interval ();
    s_test_min_trials_nan ();
    s_test_percentile ();
    s_test_threshold ();
    s_test_patient ();
    s_test_checks ();
    TEST_DONE ();
}
