/*  grid.c: grid search.

    Trial n reads n as a mixed-radix number whose digits index each
    parameter's points (hpo_param_grid_count), the last parameter's digit
    changing fastest. Every point comes up exactly once, in order; after
    the last the study ends. The history is never read.                   */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "../common/spec.h"
#include "sampler.h"

typedef struct {
    uint64_t size; //  points: the product of the parameters' counts
} s_config_t;

typedef struct {
    uint64_t size;
    uint64_t *counts; //  each parameter's points
    size_t n;
} s_grid_t;

//  A seed does nothing here; grid takes one so that a study file switches
//  between random and grid by its type alone.
static const char *const s_keys[] = {"seed", NULL};

static int
s_check (const hpo_spec_t *spec, const hpo_search_option_t *options, size_t n,
         void **config, hpo_search_problem_t *problem)
{
    for (size_t k = 0; k < n; k++) {
        uint64_t seed;
        assert (!strcmp (options[k].key, "seed"));
        if (hpo_search_option_uint (options, k, &seed, problem))
            return -1;
    }
    uint64_t size = 1;
    for (size_t k = 0; k < spec->n_params; k++) {
        uint64_t count = hpo_param_grid_count (&spec->params[k]);
        if (count == 0)
            return hpo_search_fail (problem, HPO_SEARCH_AT_PARAM, k,
                                    "grid needs values or step");
        if (count > HPO_SPEC_MAX_GRID || size > HPO_SPEC_MAX_GRID / count)
            return hpo_search_fail (problem, HPO_SEARCH_AT_SPACE, 0,
                                    "grid has more than %llu points",
                                    (unsigned long long)HPO_SPEC_MAX_GRID);
        size *= count;
    }
    s_config_t *self = hpo_malloc (sizeof *self);
    self->size = size;
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
    return ((const s_config_t *)config)->size;
}

static void *
s_new (const hpo_spec_t *spec, const void *config)
{
    s_grid_t *self = hpo_calloc (1, sizeof *self);
    self->size = s_size (spec, config);
    self->n = spec->n_params;
    self->counts = hpo_calloc (self->n, sizeof *self->counts);
    for (size_t k = 0; k < self->n; k++) {
        self->counts[k] = hpo_param_grid_count (&spec->params[k]);
        assert (self->counts[k] > 0 && self->counts[k] != UINT64_MAX);
    }
    return self;
}

static void
s_destroy (void *self_)
{
    s_grid_t *self = self_;
    free (self->counts);
    free (self);
}

//  The value of point k (< count) of a parameter's grid.
static void
s_point (const hpo_param_spec_t *p, uint64_t k, hpo_value_t *out)
{
    if (p->values) {
        assert (k < p->n_values);
        hpo_value_copy (out, &p->values[k]);
    } else if (p->type == HPO_PARAM_INT) {
        int64_t step = p->has_step ? (int64_t)p->step : 1;
        int64_t i = (int64_t)p->low + (int64_t)k * step;
        *out = (hpo_value_t){.kind = HPO_KIND_INT, .i = i, .f = (double)i};
    } else {
        assert (p->type == HPO_PARAM_FLOAT && p->has_step);
        double x = hpo_search_tidy (p->low + (double)k * p->step);
        *out = (hpo_value_t){.kind = HPO_KIND_FLOAT, .f = fmin (x, p->high)};
    }
}

static int
s_suggest (void *self_, const hpo_spec_t *spec, const hpo_history_t *history,
           uint64_t number, const uint8_t *fixed, hpo_value_t *out)
{
    const s_grid_t *self = self_;
    assert (self->n == spec->n_params);
    if (number >= self->size)
        return 1;
    uint64_t digits[self->n ? self->n : 1];
    for (size_t k = spec->n_params; k-- > 0;) {
        digits[k] = number % self->counts[k];
        number /= self->counts[k];
    }
    for (size_t k = 0; k < spec->n_params; k++) {
        if (fixed && fixed[k])
            continue;
        if (!hpo_spec_active (spec, k, out))
            out[k] = (hpo_value_t){.kind = HPO_KIND_NONE};
        else
            s_point (&spec->params[k], digits[k], &out[k]);
    }
    return 0;
}

const hpo_sampler_ops_t hpo_sampler_grid = {
    .name = "grid",
    .summary = "every point of the space once, last parameter fastest",
    .keys = s_keys,
    .needs_curves = 0,
    .check = s_check,
    .config_free = s_config_free,
    .size = s_size,
    .new = s_new,
    .destroy = s_destroy,
    .suggest = s_suggest,
};
