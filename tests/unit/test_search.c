/*  test_search.c: the sampler and pruner registries, and the history
    samplers and pruners read.                                            */
#include <math.h>
#include <stdint.h>

#include "common/spec.h"
#include "search/history.h"
#include "search/pruner.h"
#include "search/sampler.h"
#include "testutil.h"

static void
s_test_registry (void)
{
    const hpo_sampler_ops_t *random = hpo_sampler_find ("random");
    const hpo_sampler_ops_t *grid = hpo_sampler_find ("grid");
    CHECK (random && !strcmp (random->name, "random"));
    CHECK (grid && !strcmp (grid->name, "grid"));
    CHECK (random != grid);
    CHECK (hpo_sampler_find ("bogus") == NULL);
    CHECK (hpo_sampler_find ("") == NULL);
    CHECK (hpo_sampler_find ("Random") == NULL);
    //  The first entry is the default; the list ends in NULL.
    CHECK (hpo_sampler_at (0) == random);
    CHECK (hpo_sampler_at (1) == grid);
    CHECK (hpo_sampler_at (2) == hpo_sampler_find ("tpe"));
    CHECK (hpo_sampler_at (3) == hpo_sampler_find ("qmc"));
    CHECK (hpo_sampler_at (4) == hpo_sampler_find ("cmaes"));
    CHECK (hpo_sampler_at (5) == NULL);
    char *names = hpo_sampler_names ();
    CHECK_STR (names, "random, grid, tpe, qmc, cmaes");
    free (names);
    //  Every entry is complete: what the scheduler and spec.c call is set.
    for (size_t k = 0; hpo_sampler_at (k); k++) {
        const hpo_sampler_ops_t *ops = hpo_sampler_at (k);
        CHECK (ops->summary && *ops->summary && ops->keys);
        CHECK (ops->check && ops->size && ops->new && ops->destroy &&
               ops->suggest);
        //  TPE ranks PRUNED trials by their curves' last step.
        CHECK (!ops->needs_curves || !strcmp (ops->name, "tpe"));
    }

    const hpo_pruner_ops_t *none = hpo_pruner_find ("none");
    CHECK (none && !strcmp (none->name, "none"));
    CHECK (hpo_pruner_find ("bogus") == NULL);
    CHECK (hpo_pruner_at (0) == none);
    names = hpo_pruner_names ();
    CHECK (!strncmp (names, "none, ", 6) && strstr (names, "median"));
    free (names);
    CHECK (!none->needs_curves);
    //  Every pruner is complete; every real one reads the curves.
    for (size_t k = 0; hpo_pruner_at (k); k++) {
        const hpo_pruner_ops_t *ops = hpo_pruner_at (k);
        CHECK (ops->summary && *ops->summary && ops->keys);
        CHECK (ops->check && ops->new && ops->destroy && ops->report);
        CHECK (k == 0 || ops->needs_curves);
    }
}

static void
s_test_none (void)
{
    const hpo_pruner_ops_t *none = hpo_pruner_find ("none");
    if (!none)
        return;
    void *config = (void *)1;
    hpo_search_problem_t problem = {0};
    CHECK (none->check (NULL, NULL, 0, &config, &problem) == 0);
    CHECK (config == NULL);
    void *self = none->new (NULL, config);
    CHECK (self != NULL);
    hpo_history_t *history = hpo_history_new (0);
    hpo_history_append (history, NULL);
    hpo_history_add_point (history, 0, 1, 1e9);
    char *reason = NULL;
    CHECK (none->report (self, history, 0, 1, 1e9, &reason) ==
           HPO_PRUNE_CONTINUE);
    CHECK (reason == NULL);
    none->destroy (self);
    hpo_history_destroy (&history);
}

static void
s_test_history (void)
{
    hpo_history_t *h = hpo_history_new (2);
    CHECK (h->n == 0 && h->n_params == 2);
    //  Enough rows to grow several times; each copies its values.
    const size_t n = 1000;
    for (size_t k = 0; k < n; k++) {
        char name[16];
        snprintf (name, sizeof name, "v%zu", k);
        hpo_value_t row[2] = {
            {.kind = HPO_KIND_INT, .i = (int64_t)k, .f = (double)k},
            {.kind = HPO_KIND_STR, .s = name},
        };
        CHECK (hpo_history_append (h, row) == k);
    }
    CHECK (h->n == n && h->cap >= n);
    int rows_ok = 1;
    for (size_t k = 0; k < n; k++) {
        const hpo_value_t *row = hpo_history_params (h, k);
        char name[16];
        snprintf (name, sizeof name, "v%zu", k);
        rows_ok &= row[0].kind == HPO_KIND_INT && row[0].i == (int64_t)k;
        rows_ok &= row[1].kind == HPO_KIND_STR && !strcmp (row[1].s, name);
        rows_ok &= row == &h->params[k * 2];
        rows_ok &= h->states[k] == HPO_TRIAL_WAITING && isnan (h->values[k]);
        rows_ok &= h->curves[k].n == 0;
    }
    CHECK (rows_ok);

    hpo_history_set_state (h, 7, HPO_TRIAL_COMPLETE);
    hpo_history_set_value (h, 7, 0.25);
    CHECK (h->states[7] == HPO_TRIAL_COMPLETE && h->values[7] == 0.25);
    CHECK (h->states[6] == HPO_TRIAL_WAITING && isnan (h->values[6]));
    hpo_history_set_value (h, 7, NAN);
    CHECK (isnan (h->values[7]));

    //  A curve keeps its points in order through growth; another trial's
    //  stays empty; clearing starts the next attempt afresh.
    for (int64_t step = 0; step < 100; step++)
        hpo_history_add_point (h, 3, step * 10, 1.0 / (double)(step + 1));
    const hpo_curve_t *c = &h->curves[3];
    CHECK (c->n == 100);
    int curve_ok = 1;
    for (size_t k = 0; k < c->n; k++)
        curve_ok &= c->steps[k] == (int64_t)k * 10 &&
                    c->values[k] == 1.0 / (double)(k + 1);
    CHECK (curve_ok);
    CHECK (h->curves[4].n == 0);
    hpo_history_clear_curve (h, 3);
    CHECK (h->curves[3].n == 0);
    hpo_history_add_point (h, 3, 5, 2.5);
    CHECK (h->curves[3].n == 1 && h->curves[3].steps[0] == 5 &&
           h->curves[3].values[0] == 2.5);
    hpo_history_destroy (&h);
    CHECK (h == NULL);
    hpo_history_destroy (&h);

    //  States by name, both ways.
    CHECK_STR (hpo_trial_state_str (HPO_TRIAL_PRUNED), "PRUNED");
    CHECK_STR (hpo_trial_state_str (HPO_TRIAL_NSTATES), "?");
    CHECK (hpo_trial_state_parse ("complete") == HPO_TRIAL_COMPLETE);
    CHECK (hpo_trial_state_parse ("FAILED") == HPO_TRIAL_FAILED);
    CHECK (hpo_trial_state_parse ("done") == -1);
}

int
main (void)
{
    s_test_registry ();
    s_test_none ();
    s_test_history ();
    TEST_DONE ();
}
