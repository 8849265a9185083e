/*  none.c: the pruner that never prunes, every study's default.          */
#include "pruner.h"

static const char *const s_keys[] = {NULL};

static int
s_check (const hpo_spec_t *spec, const hpo_search_option_t *options, size_t n,
         void **config, hpo_search_problem_t *problem)
{
    *config = NULL;
    return 0;
}

static void *
s_new (const hpo_spec_t *spec, const void *config)
{
    //  No state; a non-NULL instance keeps "NULL means none" out of callers.
    static char instance;
    return &instance;
}

static void
s_destroy (void *self)
{
}

static hpo_prune_t
s_report (void *self, const hpo_history_t *history, uint64_t number,
          int64_t step, double value, char **reason)
{
    return HPO_PRUNE_CONTINUE;
}

const hpo_pruner_ops_t hpo_pruner_none = {
    .name = "none",
    .summary = "never stops a trial early",
    .keys = s_keys,
    .needs_curves = 0,
    .check = s_check,
    .config_free = NULL,
    .new = s_new,
    .destroy = s_destroy,
    .report = s_report,
};
