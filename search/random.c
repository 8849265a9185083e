/*  random.c: random search.

    Trial n's parameters are drawn from a generator seeded with
    (study seed, n) alone, so trial 17 has the same parameters whether it
    was created first or after a restart, and whatever its neighbours did.
    The history is never read.                                            */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "../common/rng.h"
#include "../common/spec.h"
#include "sampler.h"

typedef struct {
    uint64_t seed; //  0 when not given
} s_random_t;

static const char *const s_keys[] = {"seed", NULL};

static int
s_check (const hpo_spec_t *spec, const hpo_search_option_t *options, size_t n,
         void **config, hpo_search_problem_t *problem)
{
    s_random_t random = {0};
    for (size_t k = 0; k < n; k++) {
        assert (!strcmp (options[k].key, "seed"));
        if (hpo_search_option_uint (options, k, &random.seed, problem))
            return -1;
    }
    s_random_t *self = hpo_malloc (sizeof *self);
    *self = random;
    *config = self;
    return 0;
}

static void
s_config_free (void *config)
{
    free (config);
}

static uint64_t
s_size (const hpo_spec_t *spec, const void *config)
{
    //  Draws may repeat, so no space is ever used up.
    return UINT64_MAX;
}

static void *
s_new (const hpo_spec_t *spec, const void *config)
{
    s_random_t *self = hpo_malloc (sizeof *self);
    *self = *(const s_random_t *)config;
    return self;
}

static void
s_destroy (void *self)
{
    free (self);
}

static void
s_float (const hpo_param_spec_t *p, hpo_rng_t *rng, hpo_value_t *out)
{
    double u = hpo_rng_uniform (rng);
    double x;
    if (p->log)
        x = exp (log (p->low) + u * (log (p->high) - log (p->low)));
    else
        x = p->low + u * (p->high - p->low);
    if (p->has_step) {
        //  Quantize to the grid of steps, never past its last point, so
        //  random and grid search agree on which values exist.
        uint64_t count = hpo_param_grid_count (p);
        double k = round ((x - p->low) / p->step);
        if (count != UINT64_MAX && k > (double)(count - 1))
            k = (double)(count - 1);
        x = hpo_search_tidy (p->low + k * p->step);
    }
    //  exp (log (high)) may land a rounding error past high.
    *out = (hpo_value_t){.kind = HPO_KIND_FLOAT,
                         .f = fmin (fmax (x, p->low), p->high)};
}

static void
s_int (const hpo_param_spec_t *p, hpo_rng_t *rng, hpo_value_t *out)
{
    int64_t low = (int64_t)p->low, high = (int64_t)p->high;
    int64_t i;
    if (p->log) {
        //  Widening by half a unit each side gives the end points their
        //  full share once rounded; low >= 1, so low - 0.5 stays positive.
        double a = log ((double)low - 0.5), b = log ((double)high + 0.5);
        i = (int64_t)round (exp (a + hpo_rng_uniform (rng) * (b - a)));
        i = i < low ? low : i > high ? high : i;
    } else {
        //  Uniform over the points low, low + step, ... <= high.
        uint64_t count = hpo_param_grid_count (p);
        uint64_t k = hpo_rng_below (rng, count);
        int64_t step = p->has_step ? (int64_t)p->step : 1;
        i = low + (int64_t)k * step;
    }
    *out = (hpo_value_t){.kind = HPO_KIND_INT, .i = i, .f = (double)i};
}

static int
s_suggest (void *self_, const hpo_spec_t *spec, const hpo_history_t *history,
           uint64_t number, const uint8_t *fixed, hpo_value_t *out)
{
    const s_random_t *self = self_;
    hpo_rng_t rng;
    hpo_rng_seed (&rng, self->seed, number);
    for (size_t k = 0; k < spec->n_params; k++) {
        const hpo_param_spec_t *p = &spec->params[k];
        if (fixed && fixed[k])
            continue;
        if (!hpo_spec_active (spec, k, out))
            out[k] = (hpo_value_t){.kind = HPO_KIND_NONE};
        else if (p->values)
            hpo_value_copy (&out[k],
                            &p->values[hpo_rng_below (&rng, p->n_values)]);
        else if (p->type == HPO_PARAM_FLOAT)
            s_float (p, &rng, &out[k]);
        else
            s_int (p, &rng, &out[k]);
    }
    return 0;
}

const hpo_sampler_ops_t hpo_sampler_random = {
    .name = "random",
    .summary = "independent uniform draws, reproducible from (seed, trial)",
    .keys = s_keys,
    .needs_curves = 0,
    .check = s_check,
    .config_free = s_config_free,
    .size = s_size,
    .new = s_new,
    .destroy = s_destroy,
    .suggest = s_suggest,
};
