/*  cube.c: parameter values as points of [0, 1] (cube.h).               */
#include "cube.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "search.h"

//  Ints and stepped floats on a linear scale: points with equal shares.
static int
s_discrete (const hpo_param_spec_t *p)
{
    return !p->log && (p->type == HPO_PARAM_INT || p->has_step);
}

static double
s_step (const hpo_param_spec_t *p)
{
    return p->has_step ? p->step : 1;
}

//  How many points low, low + step, ... up to high has, as grid search
//  counts them; a range too large to count is counted in doubles.
static double
s_count (const hpo_param_spec_t *p)
{
    uint64_t count = hpo_param_grid_count (p);
    if (count && count != UINT64_MAX)
        return (double)count;
    return floor ((p->high - p->low) / s_step (p) + 1e-9) + 1;
}

//  The ends of a log range in log space; an int's widened half a unit
//  each side (low >= 1, so low - 0.5 stays positive).
static void
s_log_ends (const hpo_param_spec_t *p, double *a, double *b)
{
    double widen = p->type == HPO_PARAM_INT ? 0.5 : 0;
    *a = log (p->low - widen);
    *b = log (p->high + widen);
}

//  Which of count equal shares of [0, 1] u falls in.
static double
s_share (double u, double count)
{
    double k = floor (u * count);
    return k > count - 1 ? count - 1 : k;
}

//  Index of the nearest point of the range low + k * step to x.
static double
s_nearest (const hpo_param_spec_t *p, double x)
{
    double k = round ((x - p->low) / s_step (p));
    double last = s_count (p) - 1;
    return k < 0 ? 0 : k > last ? last : k;
}

void
hpo_cube_value (const hpo_param_spec_t *p, double u, hpo_value_t *out)
{
    assert (p && out);
    u = isnan (u) ? 0.5 : fmin (fmax (u, 0), 1);
    if (p->values) {
        double k = s_share (u, (double)p->n_values);
        hpo_value_copy (out, &p->values[(size_t)k]);
        return;
    }
    double x;
    if (p->log) {
        double a, b;
        s_log_ends (p, &a, &b);
        x = exp (a + u * (b - a));
        if (p->type == HPO_PARAM_INT || p->has_step)
            x = p->low + s_nearest (p, x) * s_step (p);
    } else if (s_discrete (p))
        x = p->low + s_share (u, s_count (p)) * s_step (p);
    else
        x = p->low + u * (p->high - p->low);
    //  exp (log (high)) may land a rounding error past high.
    x = fmin (fmax (x, p->low), p->high);
    if (p->type == HPO_PARAM_INT) {
        int64_t i = (int64_t)x;
        *out = (hpo_value_t){.kind = HPO_KIND_INT, .i = i, .f = (double)i};
    } else
        *out = (hpo_value_t){.kind = HPO_KIND_FLOAT,
                             .f = p->has_step ? hpo_search_tidy (x) : x};
}

//  The point of the value in p's list nearest v: the same one, else the
//  numerically nearest; -1 when none compares.
static double
s_list_point (const hpo_param_spec_t *p, const hpo_value_t *v)
{
    size_t best = SIZE_MAX;
    double gap = INFINITY;
    for (size_t k = 0; k < p->n_values; k++) {
        const hpo_value_t *w = &p->values[k];
        if ((w->kind == HPO_KIND_STR) != (v->kind == HPO_KIND_STR))
            continue;
        double d = w->kind == HPO_KIND_STR
                       ? (strcmp (w->s, v->s) ? INFINITY : 0)
                       : fabs (w->f - v->f);
        if (d < gap)
            gap = d, best = k;
    }
    return best == SIZE_MAX ? -1 : ((double)best + 0.5) / (double)p->n_values;
}

double
hpo_cube_point (const hpo_param_spec_t *p, const hpo_value_t *v)
{
    assert (p && v);
    if (p->values) {
        double u = v->kind == HPO_KIND_NONE ? -1 : s_list_point (p, v);
        return u < 0 ? 0.5 : u;
    }
    if (v->kind != HPO_KIND_FLOAT && v->kind != HPO_KIND_INT)
        return 0.5;
    double x = v->kind == HPO_KIND_INT ? (double)v->i : v->f;
    x = fmin (fmax (x, p->low), p->high);
    double u;
    if (p->log) {
        double a, b;
        s_log_ends (p, &a, &b);
        u = (log (x) - a) / (b - a);
    } else if (s_discrete (p))
        u = (s_nearest (p, x) + 0.5) / s_count (p);
    else
        u = (x - p->low) / (p->high - p->low);
    return isnan (u) ? 0.5 : fmin (fmax (u, 0), 1);
}

void
hpo_cube_row (const hpo_spec_t *spec, const uint8_t *fixed, const double *u,
              hpo_value_t *out)
{
    for (size_t k = 0; k < spec->n_params; k++) {
        if (fixed && fixed[k])
            continue;
        if (hpo_spec_active (spec, k, out))
            hpo_cube_value (&spec->params[k], u[k], &out[k]);
        else
            out[k] = (hpo_value_t){.kind = HPO_KIND_NONE};
    }
}
