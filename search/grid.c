/*  grid.c: grid search.

    Trial n is configuration n of the space as search/space.h numbers
    them: without conditions, n read as a mixed-radix number whose digits
    index each parameter's points (hpo_param_grid_count), the last
    parameter's digit changing fastest; with conditions, a parameter that
    does not exist multiplies nothing. Every distinct configuration comes
    up exactly once, in order; after the last the study ends. The history
    is never read.                                                        */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "../common/spec.h"
#include "sampler.h"
#include "space.h"

typedef struct {
    uint64_t size; //  points: the product of the parameters' counts
} s_config_t;

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
    for (size_t k = 0; k < spec->n_params; k++)
        if (hpo_param_grid_count (&spec->params[k]) == 0)
            return hpo_search_fail (problem, HPO_SEARCH_AT_PARAM, k,
                                    "grid needs values, step or points");
    //  Distinct configurations: a parameter absent from some of them
    //  counts once there, not once per point.
    hpo_space_t *space = hpo_space_new (spec, NULL, NULL);
    uint64_t size = hpo_space_size (space);
    hpo_space_destroy (&space);
    if (size > HPO_SPEC_MAX_GRID)
        return hpo_search_fail (problem, HPO_SEARCH_AT_SPACE, 0,
                                "grid has more than %llu points",
                                (unsigned long long)HPO_SPEC_MAX_GRID);
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
    hpo_space_t *self = hpo_space_new (spec, NULL, NULL);
    assert (hpo_space_size (self) == s_size (spec, config));
    return self;
}

static void
s_destroy (void *self_)
{
    hpo_space_t *self = self_;
    hpo_space_destroy (&self);
}

static int
s_suggest (void *self_, const hpo_spec_t *spec, const hpo_history_t *history,
           uint64_t number, const uint8_t *fixed, hpo_value_t *out)
{
    const hpo_space_t *self = self_;
    if (number >= hpo_space_size (self))
        return 1;
    size_t n = spec->n_params;
    hpo_value_t point[n ? n : 1];
    hpo_space_at (self, number, point);
    for (size_t k = 0; k < n; k++) {
        if (fixed && fixed[k])
            continue;
        if (!hpo_spec_active (spec, k, out))
            out[k] = (hpo_value_t){.kind = HPO_KIND_NONE};
        else if (point[k].kind != HPO_KIND_NONE)
            hpo_value_copy (&out[k], &point[k]);
        else //  a fixed value made it exist: its first point
            hpo_space_point (&spec->params[k], 0, &out[k]);
    }
    hpo_values_clear (point, n);
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
