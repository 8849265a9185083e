/*  importance.c: PED-ANOVA and Spearman's rank correlation over columns
    (importance.h).

    PED-ANOVA (Watanabe, Bansal, Hutter, IJCAI 2023) scores a parameter
    by how far its density among the top trials (the best quantile of
    them by y) strays from its density among all trials: the Pearson
    divergence D = sum over a grid of (p_top - p_all)^2 / p_all. The
    paper shows D is, up to the constant gamma^2, the variance of "is
    this trial a top one" that the parameter explains alone, so the
    scores of different parameters compare; we report shares of their
    sum. A parameter that does not matter has the same density in both
    sets and scores near 0.

    Densities live on a grid. A numeric parameter's range [lo, hi] (in
    log space for log ones: the caller passes log values) is cut into
    S_GRID points; each trial counts at its nearest one, and a Gaussian
    kernel density over those counts, each kernel truncated to the grid,
    with Scott's rule for the bandwidth (1.059 min(sd, IQR / 1.34)
    n^(-1/5), in grid steps, never under S_MIN_BANDWIDTH), smooths
    them. A categorical's density is its counts. Both mix in a uniform
    prior of weight S_PRIOR (one trial's worth), which keeps p_all above
    0 and tames a top set of a handful of trials.

    A trial that lacks a parameter (conditional) is left out of that
    parameter's densities. The score is then weighted as the paper's
    conditional extension does (Conditional PED-ANOVA, 2026): by
    alpha^2 / beta, alpha the share of top trials that have the
    parameter and beta the share of all trials that do, so a parameter
    present in few trials counts for what those trials say.

    Speed: the densities cost O(n + S_GRID^2) a parameter; the rank
    correlation needs each column sorted, which a bucket sort (s_sort)
    does in about O(n) for sampled values, where qsort took 16 ms for
    100,000 on the 2-core test machine: too slow for 8 columns. 100,000
    trials of 8 parameters take about 45 ms there (test_importance).   */
#include "dash/importance.h"

#include "common/mem.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_QUANTILE 0.1      //  the header's default top share
#define S_GRID 50           //  grid points over a numeric range
#define S_PRIOR 1.0         //  weight of the uniform prior
#define S_MIN_BANDWIDTH 0.5 //  in grid steps: a kernel spans a point
#define S_EPSILON 1e-12     //  keeps p_all off 0 in the divergence
#define S_FANOUT 256        //  s_sort's buckets a round
#define S_SMALL 32          //  sorted by insertion
#define S_DEPTH 8           //  rounds before qsort

//  A value and its trial, sorted together so the values stay close.
typedef struct {
    double v;
    size_t i;
} s_pair_t;

typedef struct {
    size_t n;           //  trials given
    size_t n_finite;    //  with a finite y
    size_t *by_y;       //  those, best first
    double *rank_y_all; //  per trial: y's rank among them
    unsigned char *top; //  per trial: among the top ones
    size_t n_top;
    //  Scratch for one parameter at a time.
    unsigned char *has;    //  per trial: a finite y and the parameter
    double *rank_y;        //  per trial: y's rank among those
    s_pair_t *pairs, *tmp; //  what s_sort sorts, its scratch
    unsigned char *bucket; //  s_sort's too
    size_t grid;           //  room in the grid arrays
    double *count_all, *count_top, *pdf_all, *pdf_top, *kernel;
    size_t *tally; //  2 grid: s_score's counts
} s_work_t;

//  ---------------------------------------------------------------------
//  Sorting and ranks

//  The bucket of x: its place between least and the greatest, scale
//  being S_FANOUT / (greatest - least). x - least may overflow to inf:
//  then x is near the greatest.
static size_t
s_bucket (double x, double least, double scale)
{
    double at = (x - least) * scale;
    return at < S_FANOUT ? (size_t)at : S_FANOUT - 1;
}

static int
s_pair_compare (const void *a, const void *b)
{
    double x = ((const s_pair_t *)a)->v, y = ((const s_pair_t *)b)->v;
    return (x > y) - (x < y);
}

//  Sorts a[0..m) (finite values), tmp[0..m) its scratch, bucket[0..m)
//  too: they are dealt into S_FANOUT buckets spread evenly between the
//  least and the greatest, and each bucket sorted the same way, down to
//  S_SMALL values (insertion) or all equal (nothing to do). Sampled
//  values fill their range smoothly: two rounds sort 100,000 of them,
//  each writing to a few hundred places at a time, which caches serve.
//  Values that keep bunching up fall back on qsort at S_DEPTH. Returns
//  0 with the result in a, 1 with it in tmp: the first round leaves it
//  there rather than copy it back (the caller swaps), deeper ones copy
//  it back while it is in the cache.
static int
s_sort (s_pair_t *a, s_pair_t *tmp, unsigned char *bucket, size_t m, int depth)
{
    if (m <= S_SMALL) {
        for (size_t k = 1; k < m; k++) {
            s_pair_t p = a[k];
            size_t j = k;
            for (; j > 0 && a[j - 1].v > p.v; j--)
                a[j] = a[j - 1];
            a[j] = p;
        }
        return 0;
    }
    double least = a[0].v, greatest = least;
    for (size_t k = 1; k < m; k++) {
        least = a[k].v < least ? a[k].v : least;
        greatest = a[k].v > greatest ? a[k].v : greatest;
    }
    if (!(greatest > least))
        return 0;
    //  Halves, so that greatest - least cannot overflow.
    double scale = S_FANOUT / (greatest / 2 - least / 2) / 2;
    if (depth == S_DEPTH || !isfinite (scale)) {
        qsort (a, m, sizeof *a, s_pair_compare);
        return 0;
    }
    size_t start[S_FANOUT + 1] = {0};
    for (size_t k = 0; k < m; k++) {
        bucket[k] = (unsigned char)s_bucket (a[k].v, least, scale);
        start[bucket[k] + 1]++;
    }
    for (size_t b = 0; b < S_FANOUT; b++)
        start[b + 1] += start[b];
    for (size_t k = 0; k < m; k++)
        tmp[start[bucket[k]]++] = a[k];
    //  start[b] is now where bucket b + 1 begins. Deeper rounds leave
    //  their result in place.
    for (size_t b = 0, from = 0; b < S_FANOUT; from = start[b++])
        s_sort (tmp + from, a + from, bucket + from, start[b] - from,
                depth + 1);
    if (depth == 0)
        return 1;
    memcpy (a, tmp, m * sizeof *a);
    return 0;
}

//  Sorts w->pairs[0..m) by value.
static void
s_sort_pairs (s_work_t *w, size_t m)
{
    if (s_sort (w->pairs, w->tmp, w->bucket, m, 0)) {
        s_pair_t *sorted = w->tmp;
        w->tmp = w->pairs;
        w->pairs = sorted;
    }
}

//  rank[sorted[k].i] = the 1-based rank of sorted[k] (sorted by value);
//  equal values
//  share the average of their ranks.
static void
s_rank (const s_pair_t *sorted, size_t m, double *rank)
{
    size_t k = 0;
    while (k < m) {
        size_t end = k + 1;
        while (end < m && sorted[end].v == sorted[k].v)
            end++;
        double average = (double)(k + 1 + end) / 2.0;
        for (size_t j = k; j < end; j++)
            rank[sorted[j].i] = average;
        k = end;
    }
}

//  Spearman's rho: Pearson's correlation of x's ranks, read off the m
//  pairs sorted by x (equal values share the average of their ranks),
//  with y's in rank_y. NAN when either column is constant.
static double
s_spearman (const s_pair_t *sorted, size_t m, const double *rank_y)
{
    double mean = (double)(m + 1) / 2.0; //  of either column's ranks
    double sxy = 0, sxx = 0, syy = 0;
    size_t k = 0;
    while (k < m) {
        size_t end = k + 1;
        while (end < m && sorted[end].v == sorted[k].v)
            end++;
        double dx = (double)(k + 1 + end) / 2.0 - mean;
        for (size_t j = k; j < end; j++) {
            double dy = rank_y[sorted[j].i] - mean;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        k = end;
    }
    if (sxx <= 0 || syy <= 0)
        return NAN;
    double rho = sxy / sqrt (sxx * syy);
    return fmax (-1.0, fmin (1.0, rho));
}

//  ---------------------------------------------------------------------
//  Densities on the grid

//  The grid point a numeric value counts at, clamped to the range;
//  scale is (S_GRID - 1) / (hi - lo).
static size_t
s_cell (double x, double lo, double scale)
{
    double at = (x - lo) * scale + 0.5;
    return at < 0 ? 0 : at < S_GRID - 1 ? (size_t)at : S_GRID - 1;
}

//  The smallest grid point at which the counts reach mass.
static double
s_quantile_point (const double *count, size_t g, double mass)
{
    double sum = 0;
    for (size_t t = 0; t < g; t++) {
        sum += count[t];
        if (sum >= mass)
            return (double)t;
    }
    return (double)(g - 1);
}

//  Scott's rule on the counts, in grid steps. The IQR is left out when
//  it is 0 (over half the mass on one point), where it would say 0.
static double
s_bandwidth (const double *count, size_t g, double weight)
{
    double mean = 0;
    for (size_t t = 0; t < g; t++)
        mean += count[t] * (double)t;
    mean /= weight;
    double squares = 0;
    for (size_t t = 0; t < g; t++)
        squares += count[t] * ((double)t - mean) * ((double)t - mean);
    double sd = sqrt (squares / fmax (1.0, weight - 1));
    double iqr = s_quantile_point (count, g, weight * 0.75) -
                 s_quantile_point (count, g, weight * 0.25);
    double spread = iqr > 0 ? fmin (sd, iqr / 1.34) : sd;
    return fmax (1.059 * spread * pow (weight, -0.2), S_MIN_BANDWIDTH);
}

//  pdf[0..g) from count[0..g): a kernel density over the grid (numeric)
//  or the counts themselves (categorical), mixed with the prior.
static void
s_density (s_work_t *w, const double *count, size_t g, int categorical,
           double *pdf)
{
    double weight = 0;
    for (size_t t = 0; t < g; t++)
        weight += count[t];
    for (size_t t = 0; t < g; t++)
        pdf[t] = S_PRIOR / (double)g + (categorical ? count[t] : 0);
    if (!categorical && weight > 0) {
        double h = s_bandwidth (count, g, weight);
        for (size_t d = 0; d < g; d++)
            w->kernel[d] = exp (-0.5 * ((double)d / h) * ((double)d / h));
        for (size_t c = 0; c < g; c++) {
            if (count[c] == 0)
                continue;
            //  Truncated to the grid: each kernel's mass is its count.
            double norm = 0;
            for (size_t t = 0; t < g; t++)
                norm += w->kernel[t > c ? t - c : c - t];
            for (size_t t = 0; t < g; t++)
                pdf[t] += count[c] * w->kernel[t > c ? t - c : c - t] / norm;
        }
    }
    for (size_t t = 0; t < g; t++)
        pdf[t] /= weight + S_PRIOR;
}

//  ---------------------------------------------------------------------
//  One parameter

//  Whether trial i has the parameter, with a usable value.
static int
s_has (const hpo_importance_param_t *param, size_t i)
{
    double x = param->x[i];
    if (!isfinite (x))
        return 0;
    if (param->categorical)
        return x >= 0 && x < param->n_choices && x == floor (x);
    return 1;
}

//  Whether the parameter can tell anything: more than one value.
static int
s_single (const hpo_importance_param_t *param)
{
    return param->categorical ? param->n_choices < 2 : !(param->hi > param->lo);
}

//  One pass over the trials: marks those with a finite y that have the
//  parameter, counts them on its grid (all, and top), and lists a
//  numeric one's values for the rank correlation. Returns their count.
static size_t
s_gather (s_work_t *w, const hpo_importance_param_t *param, const double *y)
{
    size_t g = param->categorical ? (size_t)param->n_choices : S_GRID;
    int count = !s_single (param), list = !param->categorical;
    //  Counted as integers, all and top interleaved: 2 cell + top.
    memset (w->tally, 0, 2 * g * sizeof *w->tally);
    double scale = (S_GRID - 1) / (param->hi - param->lo);
    size_t m = 0;
    for (size_t i = 0; i < w->n; i++) {
        w->has[i] = isfinite (y[i]) && s_has (param, i);
        if (!w->has[i])
            continue;
        double x = param->x[i];
        if (count) {
            size_t cell =
                param->categorical ? (size_t)x : s_cell (x, param->lo, scale);
            w->tally[2 * cell + w->top[i]]++;
        }
        if (list)
            w->pairs[m] = (s_pair_t){x, i};
        m++;
    }
    return m;
}

//  PED-ANOVA's score before normalising, alpha^2 / beta D (see top), from
//  the m trials s_gather counted.
static double
s_score (s_work_t *w, const hpo_importance_param_t *param, size_t m)
{
    size_t g = param->categorical ? (size_t)param->n_choices : S_GRID;
    if (m < 2 || s_single (param))
        return 0;
    size_t m_top = 0;
    for (size_t t = 0; t < g; t++) {
        w->count_all[t] = (double)(w->tally[2 * t] + w->tally[2 * t + 1]);
        w->count_top[t] = (double)w->tally[2 * t + 1];
        m_top += w->tally[2 * t + 1];
    }
    if (m_top == 0)
        return 0;
    s_density (w, w->count_all, g, param->categorical, w->pdf_all);
    s_density (w, w->count_top, g, param->categorical, w->pdf_top);
    double divergence = 0;
    for (size_t t = 0; t < g; t++) {
        double gap = w->pdf_top[t] - w->pdf_all[t];
        divergence += gap * gap / (w->pdf_all[t] + S_EPSILON);
    }
    double alpha = (double)m_top / (double)w->n_top;
    double beta = (double)m / (double)w->n_finite;
    return alpha * alpha / beta * divergence;
}

//  Spearman's rho of a numeric parameter over the m trials s_gather
//  listed.
static double
s_correlate (s_work_t *w, const hpo_importance_param_t *param, const double *y,
             size_t m)
{
    if (param->categorical || m < 2)
        return NAN;
    //  y's ranks among these trials: those among all, when all have it.
    const double *rank_y = w->rank_y_all;
    if (m < w->n_finite) {
        size_t k = 0;
        for (size_t j = 0; j < w->n_finite; j++)
            if (w->has[w->by_y[j]])
                w->tmp[k++] = (s_pair_t){y[w->by_y[j]], w->by_y[j]};
        s_rank (w->tmp, m, w->rank_y);
        rank_y = w->rank_y;
    }
    s_sort_pairs (w, m);
    return s_spearman (w->pairs, m, rank_y);
}

//  ---------------------------------------------------------------------
//  The whole

static void
s_work_init (s_work_t *w, const hpo_importance_param_t *params, size_t n_params,
             size_t n)
{
    memset (w, 0, sizeof *w);
    w->n = n;
    w->by_y = hpo_malloc (n * sizeof *w->by_y);
    w->rank_y_all = hpo_malloc (n * sizeof *w->rank_y_all);
    w->top = hpo_calloc (n, 1);
    w->has = hpo_malloc (n);
    w->rank_y = hpo_malloc (n * sizeof *w->rank_y);
    w->pairs = hpo_malloc (n * sizeof *w->pairs);
    w->tmp = hpo_malloc (n * sizeof *w->tmp);
    w->bucket = hpo_malloc (n);
    w->grid = S_GRID;
    for (size_t k = 0; k < n_params; k++)
        if (params[k].categorical && (size_t)params[k].n_choices > w->grid)
            w->grid = (size_t)params[k].n_choices;
    w->tally = hpo_malloc (2 * w->grid * sizeof *w->tally);
    w->count_all = hpo_malloc (w->grid * sizeof (double));
    w->count_top = hpo_malloc (w->grid * sizeof (double));
    w->pdf_all = hpo_malloc (w->grid * sizeof (double));
    w->pdf_top = hpo_malloc (w->grid * sizeof (double));
    w->kernel = hpo_malloc (w->grid * sizeof (double));
}

static void
s_work_free (s_work_t *w)
{
    hpo_free (&w->by_y);
    hpo_free (&w->rank_y_all);
    hpo_free (&w->top);
    hpo_free (&w->has);
    hpo_free (&w->rank_y);
    hpo_free (&w->pairs);
    hpo_free (&w->tmp);
    hpo_free (&w->bucket);
    hpo_free (&w->tally);
    hpo_free (&w->count_all);
    hpo_free (&w->count_top);
    hpo_free (&w->pdf_all);
    hpo_free (&w->pdf_top);
    hpo_free (&w->kernel);
}

//  Sorts the trials with a finite y, best first, ranks them, and marks
//  the top ones: the best ceil(quantile n), and any that tie with the
//  last of them, so the order trials come in cannot matter.
static void
s_split (s_work_t *w, const double *y, double quantile)
{
    for (size_t i = 0; i < w->n; i++)
        if (isfinite (y[i]))
            w->pairs[w->n_finite++] = (s_pair_t){y[i], i};
    s_sort_pairs (w, w->n_finite);
    s_rank (w->pairs, w->n_finite, w->rank_y_all);
    for (size_t k = 0; k < w->n_finite; k++)
        w->by_y[k] = w->pairs[k].i;
    //  0.07 * 100 is 7.000000000000001 in doubles: not 8 trials.
    double want = ceil (quantile * (double)w->n_finite - 1e-9);
    size_t n_top = (size_t)fmax (1.0, want);
    double cutoff = w->pairs[n_top - 1].v;
    while (n_top < w->n_finite && w->pairs[n_top].v <= cutoff)
        n_top++;
    for (size_t k = 0; k < n_top; k++)
        w->top[w->by_y[k]] = 1;
    w->n_top = n_top;
}

int
hpo_importance (const hpo_importance_param_t *params, size_t n_params,
                const double *y, size_t n, double quantile,
                hpo_importance_t *out)
{
    assert (n_params == 0 || (params && out));
    assert (n == 0 || y);
    assert (quantile >= 0 && quantile <= 1);
    size_t n_finite = 0;
    for (size_t i = 0; i < n; i++)
        n_finite += isfinite (y[i]) != 0;
    for (size_t k = 0; k < n_params; k++)
        out[k] = (hpo_importance_t){NAN, NAN};
    if (n_finite < 2)
        return -1;

    s_work_t w;
    s_work_init (&w, params, n_params, n);
    s_split (&w, y, quantile > 0 ? quantile : S_QUANTILE);
    double total = 0;
    for (size_t k = 0; k < n_params; k++) {
        assert (params[k].x);
        size_t m = s_gather (&w, &params[k], y);
        //  The score waits in .importance until the total is known.
        out[k].importance = s_score (&w, &params[k], m);
        out[k].spearman = s_correlate (&w, &params[k], y, m);
        total += out[k].importance;
    }
    for (size_t k = 0; k < n_params; k++)
        out[k].importance =
            total > 0 && isfinite (total) ? out[k].importance / total : NAN;
    s_work_free (&w);
    return 0;
}
