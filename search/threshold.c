/*  threshold.c: stops a trial whose value leaves [lower, upper], as
    Optuna 3.1's ThresholdPruner: at least one bound; n_warmup_steps
    (default 0) and interval_steps (default 1) as in percentile.c; the
    value at the reported step is compared, and a NaN value stops the
    trial. A decision is O(1): it reads only the trial's last two steps. */
#include "pruner.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"

static const char *const s_keys[] = {"lower", "upper", "n_warmup_steps",
                                     "interval_steps", NULL};

typedef struct {
    double lower, upper; //  -inf, +inf when absent
    uint64_t warmup, interval;
} s_config_t;

static int
s_number (const hpo_search_option_t *options, size_t k, double *out,
          hpo_search_problem_t *problem)
{
    const hpo_value_t *v = &options[k].value;
    if ((v->kind != HPO_KIND_INT && v->kind != HPO_KIND_FLOAT) ||
        !isfinite (v->f))
        return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, k,
                                "must be a number");
    *out = v->f;
    return 0;
}

static int
s_check (const hpo_spec_t *spec, const hpo_search_option_t *options, size_t n,
         void **config, hpo_search_problem_t *problem)
{
    s_config_t cfg = {-INFINITY, INFINITY, 0, 1};
    size_t upper_at = 0;
    int bounded = 0;
    for (size_t k = 0; k < n; k++) {
        const char *key = options[k].key;
        if (!strcmp (key, "lower") || !strcmp (key, "upper")) {
            int lower = key[0] == 'l';
            if (s_number (options, k, lower ? &cfg.lower : &cfg.upper,
                          problem))
                return -1;
            if (!lower)
                upper_at = k;
            bounded = 1;
        } else {
            uint64_t u;
            if (hpo_search_option_uint (options, k, &u, problem))
                return -1;
            if (!strcmp (key, "n_warmup_steps"))
                cfg.warmup = u;
            else if (u < 1)
                return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, k,
                                        "must be at least 1");
            else
                cfg.interval = u;
        }
    }
    if (!bounded)
        return hpo_search_fail (problem, HPO_SEARCH_AT_SECTION, 0,
                                "lower or upper: missing");
    if (cfg.lower > cfg.upper)
        return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, upper_at,
                                "must not be below lower");
    s_config_t *out = hpo_malloc (sizeof *out);
    *out = cfg;
    *config = out;
    return 0;
}

static void *
s_new (const hpo_spec_t *spec, const void *config)
{
    s_config_t *self = hpo_malloc (sizeof *self);
    *self = *(const s_config_t *)config;
    return self;
}

static hpo_prune_t
s_report (void *self_, const hpo_history_t *history, uint64_t number,
          int64_t step, double value, char **reason)
{
    const s_config_t *cfg = self_;
    int64_t warmup = (int64_t)cfg->warmup;
    int64_t interval = (int64_t)cfg->interval;
    if (step < warmup)
        return HPO_PRUNE_CONTINUE;
    //  The trial's step before this one (curves increase in step).
    int64_t previous = -1;
    const hpo_curve_t *c =
        number < history->n ? &history->curves[number] : NULL;
    for (size_t k = c ? c->n : 0; k-- > 0;)
        if (c->steps[k] != step) {
            previous = c->steps[k];
            break;
        }
    if (previous >= (step - warmup) / interval * interval + warmup)
        return HPO_PRUNE_CONTINUE;
    if (isnan (value))
        *reason = hpo_sprintf ("pruned at step %" PRId64
                               ": the value is not a number", step);
    else if (value < cfg->lower)
        *reason = hpo_sprintf ("pruned at step %" PRId64
                               ": %g below the lower threshold %g",
                               step, value, cfg->lower);
    else if (value > cfg->upper)
        *reason = hpo_sprintf ("pruned at step %" PRId64
                               ": %g above the upper threshold %g",
                               step, value, cfg->upper);
    else
        return HPO_PRUNE_CONTINUE;
    return HPO_PRUNE_STOP;
}

const hpo_pruner_ops_t hpo_pruner_threshold = {
    .name = "threshold",
    .summary = "stops a trial whose value leaves [lower, upper] "
               "(Optuna's ThresholdPruner)",
    .keys = s_keys,
    .needs_curves = 1,
    .check = s_check,
    .config_free = free,
    .new = s_new,
    .destroy = free,
    .report = s_report,
};
