/*  test_asha.c: the asha and hyperband pruners (search/asha.c,
    search/hyperband.c) against hand-worked cases. tests/conformance
    compares both with Optuna 3.1 on generated curves.                    */
#include <assert.h>
#include <math.h>
#include <stdint.h>

#include "common/spec.h"
#include "search/asha.h"
#include "search/history.h"
#include "search/pruner.h"
#include "testutil.h"

//  ---------------------------------------------------------------------
//  The ladder, by hand. min_resource 1, eta 2: rungs at steps 1, 2, 4, 8.

static hpo_prune_t
s_climb (hpo_asha_ladder_t *ladder, uint32_t *rung, int64_t step, double v)
{
    char *reason = NULL;
    hpo_prune_t d = hpo_asha_ladder_climb (ladder, rung, step, v, &reason);
    CHECK ((d == HPO_PRUNE_STOP) == (reason != NULL));
    free (reason);
    return d;
}

static void
s_test_ladder (void)
{
    hpo_asha_ladder_t *l = hpo_asha_ladder_new (1, 2, 0, 0, 0);
    uint32_t a = 0, b = 0, c = 0, d = 0, e = 0;
    //  One report passes four rungs, recording its value at each.
    CHECK (s_climb (l, &a, 8, 0.3) == HPO_PRUNE_CONTINUE);
    CHECK (a == 4);
    for (uint32_t r = 0; r < 4; r++)
        CHECK (hpo_asha_ladder_count (l, r) == 1);
    CHECK (hpo_asha_ladder_count (l, 4) == 0);
    //  Fewer than eta values: only the best is promoted.
    CHECK (s_climb (l, &b, 1, 0.5) == HPO_PRUNE_STOP);
    CHECK (b == 1 && hpo_asha_ladder_count (l, 0) == 2);
    //  The best at rung 0 and at rung 1, then below rung 2's step 4.
    CHECK (s_climb (l, &c, 2, 0.2) == HPO_PRUNE_CONTINUE);
    CHECK (c == 2 && hpo_asha_ladder_count (l, 1) == 2);
    //  Four values at rung 0 {0.3 0.5 0.2 0.4}: the best two go on.
    CHECK (s_climb (l, &d, 1, 0.4) == HPO_PRUNE_STOP);
    //  A tie with the second best is promoted (Optuna's <=).
    CHECK (s_climb (l, &e, 1, 0.3) == HPO_PRUNE_CONTINUE);
    CHECK (e == 1);
    //  A pruned trial that reports again starts at its next rung.
    CHECK (s_climb (l, &d, 2, 0.25) == HPO_PRUNE_STOP);
    CHECK (d == 2 && hpo_asha_ladder_count (l, 1) == 3);
    //  NaN: nothing below a rung's step; at a rung, pruned unrecorded.
    uint32_t f = 0;
    CHECK (s_climb (l, &f, 0, NAN) == HPO_PRUNE_CONTINUE);
    CHECK (s_climb (l, &f, 1, NAN) == HPO_PRUNE_STOP);
    CHECK (f == 0 && hpo_asha_ladder_count (l, 0) == 5);
    hpo_asha_ladder_destroy (&l);
    CHECK (l == NULL);

    //  Maximize: the largest values go on.
    l = hpo_asha_ladder_new (1, 2, 0, 0, 1);
    a = b = c = 0;
    CHECK (s_climb (l, &a, 1, 0.5) == HPO_PRUNE_CONTINUE);
    CHECK (s_climb (l, &b, 1, 0.7) == HPO_PRUNE_CONTINUE);
    CHECK (s_climb (l, &c, 1, 0.6) == HPO_PRUNE_STOP);
    hpo_asha_ladder_destroy (&l);

    //  bootstrap_count 2: a rung with 2 values or fewer prunes.
    l = hpo_asha_ladder_new (1, 2, 0, 2, 0);
    a = b = c = 0;
    CHECK (s_climb (l, &a, 1, 0.1) == HPO_PRUNE_STOP);
    CHECK (s_climb (l, &b, 1, 0.2) == HPO_PRUNE_STOP);
    CHECK (s_climb (l, &c, 1, 0.0) == HPO_PRUNE_CONTINUE);
    hpo_asha_ladder_destroy (&l);

    //  min_early_stopping_rate 1, min_resource 3: the first rung is 6.
    l = hpo_asha_ladder_new (3, 2, 1, 0, 0);
    a = 0;
    CHECK (s_climb (l, &a, 5, 1.0) == HPO_PRUNE_CONTINUE && a == 0);
    CHECK (s_climb (l, &a, 6, 1.0) == HPO_PRUNE_CONTINUE && a == 1);
    hpo_asha_ladder_destroy (&l);

    //  Rungs past INT64_MAX are never reached, and nothing overflows.
    l = hpo_asha_ladder_new (INT64_C (1) << 62, 4, 0, 0, 0);
    a = 0;
    CHECK (s_climb (l, &a, INT64_MAX, 1.0) == HPO_PRUNE_CONTINUE && a == 1);
    hpo_asha_ladder_destroy (&l);

    //  Many values: the rank is exact (the treap's counts hold).
    l = hpo_asha_ladder_new (1, 4, 0, 0, 0);
    int wrong = 0;
    for (int k = 0; k < 4000; k++) {
        //  A permutation of 0 .. 3999: value v has v values below it.
        int v = (k * 1237) % 4000;
        uint32_t r = 0;
        char *reason = NULL;
        hpo_prune_t got = hpo_asha_ladder_climb (l, &r, 1, v, &reason);
        free (reason);
        int below = 0; //  values already in that are below v
        for (int j = 0; j < k; j++)
            below += (j * 1237) % 4000 < v;
        int keep = (k + 1) / 4 ? (k + 1) / 4 : 1;
        wrong += (got == HPO_PRUNE_CONTINUE) != (below < keep);
    }
    CHECK (wrong == 0);
    CHECK (hpo_asha_ladder_count (l, 0) == 4000);
    hpo_asha_ladder_destroy (&l);
}

//  ---------------------------------------------------------------------
//  The pruners through the registry, as the scheduler calls them.

static hpo_spec_t *
s_spec (const char *direction, const char *pruner, char **error)
{
    char text[1024];
    snprintf (text, sizeof text,
              "name: mnist\n"
              "command: ./run {x}\n"
              "objective: {metric: loss, direction: %s}\n"
              "%s\n"
              "budget: {trials: 5}\n"
              "space: {x: {type: float, low: 0, high: 1}}\n",
              direction, pruner);
    return hpo_spec_parse (text, strlen (text), "t.yaml", error);
}

typedef struct {
    hpo_spec_t *spec;
    hpo_history_t *history;
    void *pruner;
    char *reason; //  of the last decision
} s_study_t;

static void
s_open (s_study_t *s, const char *direction, const char *pruner)
{
    char *error = NULL;
    s->spec = s_spec (direction, pruner, &error);
    if (!s->spec)
        fprintf (stderr, "unexpected: %s\n", error);
    free (error);
    assert (s->spec);
    s->history = hpo_history_new (1);
    s->pruner = s->spec->pruner.ops->new (s->spec, s->spec->pruner.config);
    s->reason = NULL;
}

static void
s_close (s_study_t *s)
{
    s->spec->pruner.ops->destroy (s->pruner);
    hpo_history_destroy (&s->history);
    hpo_spec_destroy (&s->spec);
    free (s->reason);
}

//  Trial number (created as needed, RUNNING) reports value at step, as
//  the scheduler does; a trial pruned becomes PRUNED.
static hpo_prune_t
s_report (s_study_t *s, uint64_t number, int64_t step, double value)
{
    hpo_value_t x = {.kind = HPO_KIND_FLOAT, .f = 0.5};
    while (number >= s->history->n)
        hpo_history_set_state (s->history,
                               hpo_history_append (s->history, &x),
                               HPO_TRIAL_RUNNING);
    hpo_history_add_point (s->history, number, step, value);
    free (s->reason);
    s->reason = NULL;
    hpo_prune_t d = s->spec->pruner.ops->report (
        s->pruner, s->history, number, step, value, &s->reason);
    CHECK ((d == HPO_PRUNE_STOP) == (s->reason != NULL));
    if (d == HPO_PRUNE_STOP)
        hpo_history_set_state (s->history, number, HPO_TRIAL_PRUNED);
    return d;
}

static void
s_test_check (void)
{
    static const struct {
        const char *pruner, *error;
    } bad[] = {
        {"pruner: {type: asha, reduction_factor: 1}",
         "t.yaml:4: pruner.reduction_factor: must be at least 2"},
        {"pruner: {type: asha, min_resource: 0}",
         "t.yaml:4: pruner.min_resource: must be a positive integer or auto"},
        {"pruner: {type: asha, min_resource: soon}",
         "t.yaml:4: pruner.min_resource: must be a positive integer or auto"},
        {"pruner: {type: asha, min_early_stopping_rate: -1}",
         "t.yaml:4: pruner.min_early_stopping_rate: must be a non-negative "
         "integer"},
        {"pruner:\n  type: asha\n  bootstrap_count: 2",
         "t.yaml:6: pruner.bootstrap_count: needs a min_resource other than "
         "auto"},
        {"pruner: {type: asha, patience: 2}",
         "t.yaml:4: pruner.patience: unknown key"},
        {"pruner: {type: hyperband, min_resource: auto}",
         "t.yaml:4: pruner.min_resource: must be a positive integer"},
        {"pruner:\n  type: hyperband\n  min_resource: 5\n  max_resource: 4",
         "t.yaml:7: pruner.max_resource: must be at least min_resource (5)"},
        {"pruner: {type: hyperband, max_resource: 1.5}",
         "t.yaml:4: pruner.max_resource: must be a positive integer or auto"},
        {"pruner: {type: hyperband, reduction_factor: 0}",
         "t.yaml:4: pruner.reduction_factor: must be at least 2"},
        {"pruner: {type: hyperband, bootstrap_count: 1}",
         "t.yaml:4: pruner.bootstrap_count: needs a max_resource other than "
         "auto"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char *error = NULL;
        hpo_spec_t *spec = s_spec ("minimize", bad[k].pruner, &error);
        CHECK (spec == NULL);
        CHECK_STR (error, bad[k].error);
        free (error);
        hpo_spec_destroy (&spec);
    }
    static const char *const good[] = {
        "pruner: {type: asha}",
        "pruner: {type: asha, min_resource: auto, reduction_factor: 3}",
        ("pruner: {type: asha, min_resource: 2, bootstrap_count: 1, "
         "min_early_stopping_rate: 2}"),
        "pruner: {type: hyperband}",
        "pruner: {type: hyperband, min_resource: 3, max_resource: 3}",
        "pruner: {type: hyperband, max_resource: 81, bootstrap_count: 2}",
    };
    for (size_t k = 0; k < sizeof good / sizeof good[0]; k++) {
        char *error = NULL;
        hpo_spec_t *spec = s_spec ("minimize", good[k], &error);
        CHECK (spec != NULL);
        if (!spec)
            fprintf (stderr, "unexpected: %s\n", error);
        free (error);
        hpo_spec_destroy (&spec);
    }
}

static void
s_test_asha (void)
{
    s_study_t s;
    //  Defaults (eta 4, rate 0), min_resource 1: rungs at 1, 4, 16.
    s_open (&s, "minimize", "pruner: {type: asha, min_resource: 1}");
    //  A report that skips steps: step 20 passes rungs 1 and 2 with its
    //  own value, though the trial never reported step 4 or 16.
    CHECK (s_report (&s, 0, 1, 0.5) == HPO_PRUNE_CONTINUE);
    CHECK (s_report (&s, 0, 20, 0.1) == HPO_PRUNE_CONTINUE);
    //  Rung 0 holds {0.5, 0.2}: 0.2 is the best. Rung 1 holds {0.1, 0.2}:
    //  with fewer than eta values only the best goes on.
    CHECK (s_report (&s, 1, 20, 0.2) == HPO_PRUNE_STOP);
    CHECK_CONTAINS (s.reason, "rung 1 (step 4)");
    //  NaN at a rung prunes; below the first rung it does not.
    CHECK (s_report (&s, 2, 0, NAN) == HPO_PRUNE_CONTINUE);
    CHECK (s_report (&s, 2, 1, NAN) == HPO_PRUNE_STOP);
    CHECK_CONTAINS (s.reason, "not a number");
    s_close (&s);

    //  Maximize: the largest values go on.
    s_open (&s, "maximize", "pruner: {type: asha, min_resource: 1}");
    CHECK (s_report (&s, 0, 1, 0.5) == HPO_PRUNE_CONTINUE);
    CHECK (s_report (&s, 1, 1, 0.4) == HPO_PRUNE_STOP);
    CHECK (s_report (&s, 2, 1, 0.6) == HPO_PRUNE_CONTINUE);
    s_close (&s);

    //  min_resource auto: nothing is pruned until a trial completes; then
    //  min_resource is its last step (249) // 100 = 2: rungs 2, 8, 32.
    s_open (&s, "minimize", "pruner: {type: asha}");
    for (int64_t step = 0; step < 250; step++)
        CHECK (s_report (&s, 0, step, 1.0) == HPO_PRUNE_CONTINUE);
    CHECK (s_report (&s, 1, 1, 0.1) == HPO_PRUNE_CONTINUE);
    CHECK (s_report (&s, 2, 1, 9.0) == HPO_PRUNE_CONTINUE);
    hpo_history_set_state (s.history, 0, HPO_TRIAL_COMPLETE);
    //  Step 1 is below rung 0 (step 2) now.
    CHECK (s_report (&s, 3, 1, 9.0) == HPO_PRUNE_CONTINUE);
    //  Trial 0 recorded nothing while min_resource was unknown: trial 1
    //  is alone at rung 0, trial 2 is not.
    CHECK (s_report (&s, 1, 2, 0.1) == HPO_PRUNE_CONTINUE);
    CHECK (s_report (&s, 2, 2, 9.0) == HPO_PRUNE_STOP);
    CHECK_CONTAINS (s.reason, "rung 0 (step 2)");
    s_close (&s);

    //  A new instance (the coordinator restarted) rebuilds its rungs from
    //  the curves at its first report.
    s_open (&s, "minimize", "pruner: {type: asha, min_resource: 1}");
    CHECK (s_report (&s, 0, 1, 0.1) == HPO_PRUNE_CONTINUE);
    s.spec->pruner.ops->destroy (s.pruner);
    s.pruner = s.spec->pruner.ops->new (s.spec, s.spec->pruner.config);
    CHECK (s_report (&s, 1, 1, 0.5) == HPO_PRUNE_STOP);
    s_close (&s);

}

static void
s_test_hyperband (void)
{
    s_study_t s;
    //  min 1, max 27, eta 3: 4 brackets; shares ceil(4 * 3^s / (s + 1))
    //  for s = 3, 2, 1, 0.
    s_open (&s, "minimize", "pruner: {type: hyperband, max_resource: 27}");
    CHECK (hpo_hyperband_n_brackets (s.pruner) == 0);
    CHECK (s_report (&s, 0, 0, 1.0) == HPO_PRUNE_CONTINUE);
    CHECK (hpo_hyperband_n_brackets (s.pruner) == 4);
    CHECK (hpo_hyperband_share (s.pruner, 0) == 27);
    CHECK (hpo_hyperband_share (s.pruner, 1) == 12);
    CHECK (hpo_hyperband_share (s.pruner, 2) == 6);
    CHECK (hpo_hyperband_share (s.pruner, 3) == 4);
    //  CRC-32 of "mnist_N" modulo 49, as Optuna 3.1 places trials 0..39
    //  of a study named mnist (printed by its _get_bracket_id); 13, 15,
    //  25 and 36 fall on the first value of a bracket's share.
    static const uint32_t want[40] = {
        0, 1, 2, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0, 2, 2, 0,
        1, 1, 0, 0, 1, 2, 0, 1, 2, 0, 1, 1, 0, 0, 0, 0, 2, 0, 0, 2};
    void *again = s.spec->pruner.ops->new (s.spec, s.spec->pruner.config);
    CHECK (s.spec->pruner.ops->report (again, s.history, 0, 0, 1.0, NULL) ==
           HPO_PRUNE_CONTINUE);
    for (uint64_t k = 0; k < 40; k++) {
        CHECK (hpo_hyperband_bracket (s.pruner, k) == want[k]);
        //  Stable: another instance (another run) agrees.
        CHECK (hpo_hyperband_bracket (again, k) == want[k]);
    }
    s.spec->pruner.ops->destroy (again);
    //  Bracket 0's rungs are 1, 3, 9; bracket 1's are 3, 9. Trials 0 and
    //  3 (bracket 0) compete; trial 1 (bracket 1) does not meet them.
    CHECK (s_report (&s, 0, 3, 0.1) == HPO_PRUNE_CONTINUE);
    CHECK (s_report (&s, 3, 3, 0.5) == HPO_PRUNE_STOP);
    CHECK_CONTAINS (s.reason, "bracket 0, rung 0 (step 1)");
    CHECK (s_report (&s, 1, 3, 0.5) == HPO_PRUNE_CONTINUE);
    CHECK (s_report (&s, 1, 9, 0.5) == HPO_PRUNE_CONTINUE);
    //  Trial 12 (bracket 1) at step 1 is below its bracket's first rung.
    CHECK (s_report (&s, 12, 1, 9.0) == HPO_PRUNE_CONTINUE);
    CHECK (s_report (&s, 12, 3, 9.0) == HPO_PRUNE_STOP);
    CHECK_CONTAINS (s.reason, "bracket 1, rung 0 (step 3)");
    s_close (&s);

    //  Counted with integers: 243 = 3^5 makes 6 brackets (Optuna's
    //  floating-point log makes 5); shares 243, 98, 41, 18, 9, 6.
    s_open (&s, "minimize", "pruner: {type: hyperband, max_resource: 243}");
    CHECK (s_report (&s, 0, 0, 1.0) == HPO_PRUNE_CONTINUE);
    CHECK (hpo_hyperband_n_brackets (s.pruner) == 6);
    static const uint64_t shares[6] = {243, 98, 41, 18, 9, 6};
    for (uint32_t b = 0; b < 6; b++)
        CHECK (hpo_hyperband_share (s.pruner, b) == shares[b]);
    s_close (&s);

    //  max_resource auto: known once a trial completes (last step 26,
    //  so 27), as above; nothing is pruned before.
    s_open (&s, "minimize", "pruner: {type: hyperband}");
    CHECK (s_report (&s, 0, 26, 1.0) == HPO_PRUNE_CONTINUE);
    CHECK (s_report (&s, 3, 26, 9.0) == HPO_PRUNE_CONTINUE);
    CHECK (hpo_hyperband_n_brackets (s.pruner) == 0);
    hpo_history_set_state (s.history, 0, HPO_TRIAL_COMPLETE);
    CHECK (s_report (&s, 5, 1, 0.5) == HPO_PRUNE_CONTINUE);
    CHECK (hpo_hyperband_n_brackets (s.pruner) == 4);
    CHECK (hpo_hyperband_share (s.pruner, 0) == 27);
    s_close (&s);
}

int
main (void)
{
    s_test_ladder ();
    s_test_check ();
    s_test_asha ();
    s_test_hyperband ();
    TEST_DONE ();
}
