/*  sampler.c: random search and grid search.

    Random search draws trial n's parameters from a generator seeded with
    (study seed, n) alone, so trial 17 has the same parameters whether it
    was created first or after a restart, and whatever its neighbours did.
    Grid search reads n as a mixed-radix number whose digits index each
    parameter's points, the last parameter's digit changing fastest.      */
#include "sampler.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/rng.h"

//  low + k * step carries binary noise (0.1 * 3 is 0.30000000000000004);
//  15 significant digits drop the noise and keep every intended digit, so
//  the command line reads --lr 0.3.
static double
s_tidy (double x)
{
    char buf[40];
    snprintf (buf, sizeof buf, "%.15g", x);
    return strtod (buf, NULL);
}

static void
s_set_float (hpo_value_t *out, double x)
{
    out->kind = HPO_KIND_FLOAT;
    out->f = x;
}

static void
s_set_int (hpo_value_t *out, int64_t i)
{
    out->kind = HPO_KIND_INT;
    out->i = i;
    out->f = (double)i;
}

//  The value of point k (< hpo_param_grid_count) of a parameter's grid.
static void
s_grid_point (const hpo_param_spec_t *p, uint64_t k, hpo_value_t *out)
{
    if (p->values) {
        assert (k < p->n_values);
        hpo_value_copy (out, &p->values[k]);
    } else if (p->type == HPO_PARAM_INT) {
        int64_t step = p->has_step ? (int64_t)p->step : 1;
        s_set_int (out, (int64_t)p->low + (int64_t)k * step);
    } else {
        assert (p->type == HPO_PARAM_FLOAT && p->has_step);
        double x = s_tidy (p->low + (double)k * p->step);
        s_set_float (out, fmin (x, p->high));
    }
}

static void
s_random_float (const hpo_param_spec_t *p, hpo_rng_t *rng, hpo_value_t *out)
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
        x = s_tidy (p->low + k * p->step);
    }
    //  exp (log (high)) may land a rounding error past high.
    s_set_float (out, fmin (fmax (x, p->low), p->high));
}

static void
s_random_int (const hpo_param_spec_t *p, hpo_rng_t *rng, hpo_value_t *out)
{
    int64_t low = (int64_t)p->low, high = (int64_t)p->high;
    if (p->log) {
        //  Widening by half a unit each side gives the end points their
        //  full share once rounded; low >= 1, so low - 0.5 stays positive.
        double a = log ((double)low - 0.5), b = log ((double)high + 0.5);
        double x = round (exp (a + hpo_rng_uniform (rng) * (b - a)));
        int64_t i = (int64_t)x;
        s_set_int (out, i < low ? low : i > high ? high : i);
    } else {
        //  Uniform over the points low, low + step, ... <= high.
        uint64_t count = hpo_param_grid_count (p);
        uint64_t k = hpo_rng_below (rng, count);
        int64_t step = p->has_step ? (int64_t)p->step : 1;
        s_set_int (out, low + (int64_t)k * step);
    }
}

static void
s_random (const hpo_spec_t *spec, uint64_t number, hpo_value_t *out)
{
    hpo_rng_t rng;
    hpo_rng_seed (&rng, spec->seed, number);
    for (size_t k = 0; k < spec->n_params; k++) {
        const hpo_param_spec_t *p = &spec->params[k];
        if (p->values)
            hpo_value_copy (&out[k],
                            &p->values[hpo_rng_below (&rng, p->n_values)]);
        else if (p->type == HPO_PARAM_FLOAT)
            s_random_float (p, &rng, &out[k]);
        else
            s_random_int (p, &rng, &out[k]);
    }
}

static int
s_grid (const hpo_spec_t *spec, uint64_t number, hpo_value_t *out)
{
    if (number >= spec->grid_size)
        return -1;
    for (size_t k = spec->n_params; k-- > 0;) {
        const hpo_param_spec_t *p = &spec->params[k];
        uint64_t count = hpo_param_grid_count (p);
        assert (count > 0 && count != UINT64_MAX);
        s_grid_point (p, number % count, &out[k]);
        number /= count;
    }
    return 0;
}

int
hpo_sampler_sample (const hpo_spec_t *spec, uint64_t number,
                    const hpo_history_t *history, hpo_value_t *out)
{
    assert (spec);
    assert (out || spec->n_params == 0);
    memset (out, 0, spec->n_params * sizeof (hpo_value_t));
    switch (spec->sampler) {
    case HPO_SAMPLER_RANDOM:
        s_random (spec, number, out);
        return 0;
    case HPO_SAMPLER_GRID:
        return s_grid (spec, number, out);
    }
    assert (!"unknown sampler");
    return -1;
}
