/*  tpe.c: the Tree-structured Parzen Estimator, with Optuna 3.1's
    TPESampler algorithm and defaults, so that what people tuned there
    carries over.

    The first n_startup_trials (10) suggestions, counted in COMPLETE and
    PRUNED trials, are random search's (search/random.c, same seed). After
    that, the finished trials are ranked (COMPLETE by value, best first,
    then PRUNED by the last step they reached, furthest first, then by
    the value there; a PRUNED trial with no report after those; see
    s_score) and the best gamma(n) = min(ceil(n / 10), 25) are "below",
    the rest "above". With constant_liar (on by default, since the
    coordinator sees every worker's pending trials), RUNNING and WAITING
    trials join the above set: a point already being tried looks bad, so
    parallel suggestions spread out. FAILED trials never count.

    Each parameter, in space order, gets two Parzen estimators (weighted
    mixtures), l from the below trials where it exists and g from the
    above ones, each with a prior component (mean at the centre of the
    range, width the range). A numeric component sits on an observation;
    its width is the larger gap to its sorted neighbours, clipped to
    [range / min(100, n + 1), range] (consider_magic_clip), and it is a
    normal truncated to the range. Log parameters live in log space; ints
    and stepped floats are discrete: a candidate's density is the mass of
    [x - step/2, x + step/2]. Categoricals (and numeric parameters with a
    values list, as indices) are smoothed counts. Observations' weights
    are Optuna's: 1 each, except in a set of more than 25, where all but
    the 25 newest ramp linearly from 1/n (oldest) to 1. n_ei_candidates
    (24) candidates are drawn from l; the one with the largest
    log l(x) - log g(x) wins.

    multivariate: true models the parameters that always exist (no when:)
    and are not fixed by the caller jointly, with product kernels of width
    0.2 n^(-1 / (d + 4)) times the range (Scott's rule, as Optuna); the
    others are drawn one at a time as above.

    Speed. A suggestion reads only the history's rows that are new since
    the last one: each parameter's values are kept sorted, by value then
    row, so nothing depends on the order the rows were read in, and a
    restart suggests the same. Then it costs O(n) per parameter, plus
    the density of g at the candidates. A component's density here is
    w exp (-z^2 / 2) / (Z sqrt (2 pi)), not divided by its width (as
    Optuna 3.1's: s_kde_finish), with Z >= 1/2 its mass inside the range.
    A component of g no wider than cut = max (minimum width, range / 100)
    is summed only within S_WINDOW = 8 cut of the candidate (and half a
    step more for a discrete one, whose mass spans the step): those left
    out add less than 2 phi (8) < 1.1e-14 in all, where the prior
    component alone gives g at least 0.35 times its weight, so the
    relative error is under 3e-14 / (the prior's share of the weight),
    about 1e-10 at 10,000 trials. Wider components (at most 2 range / cut
    of them: a component is wide only beside a gap that wide) are always
    summed. When many components have the smallest width, they are summed
    by Hermite expansions per block instead (s_kde_expand), with an error
    under 3e-14 of their weight, so a crowd of trials around the
    candidates (a converged study) costs no more than a spread one.
    Components with the same mean and width are merged first, so an int
    with few values costs little however many trials there are.

    tests/conformance/test_tpe.py checks that these estimators score
    candidates as Optuna's do, to 1e-9, on the same histories.

    Differences with Optuna: random streams differ (same distributions);
    among equal observed values, which gets the wider kernel (which
    matters with the ramp of weights) goes by trial number, where Optuna
    leaves it to numpy's unstable sort;
    a categorical's candidates are drawn from the mixture's marginal
    directly, which is the same distribution as component then category.
    The caller's fixed parameters (hybrid grid points, enqueued values)
    are kept and left out of the joint model.                             */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "../common/rng.h"
#include "../common/spec.h"
#include "sampler.h"

extern const hpo_sampler_ops_t hpo_sampler_random;

#define S_EPS 1e-12
//  Components of g within this many cut widths of a candidate are summed.
#define S_WINDOW 8.0
//  Optuna's defaults.
#define S_STARTUP 10
#define S_CANDIDATES 24
#define S_GAMMA_MAX 25
//  More candidates than this is a typo; each costs a density of g on the
//  coordinator's one thread.
#define S_MAX_CANDIDATES 10000
//  Terms of the expansions of s_kde_expand.
#define S_TERMS 11
//  Components of the smallest width worth expanding.
#define S_EXPAND_MIN 64

typedef struct {
    uint64_t seed;
    uint64_t startup;    //  n_startup_trials
    uint64_t candidates; //  n_ei_candidates
    int multivariate;
    int liar;
    int prior;
    double prior_weight;
    int magic_clip;
    int endpoints;
} s_config_t;

//  A trial's rank key (s_score): smaller is better, compared as a pair.
typedef struct {
    double k1, k2;
    size_t row;
} s_obs_t;

//  A numeric Parzen estimator in internal (log, if log) space, its
//  components sorted by mean.
typedef struct {
    size_t n, cap;
    double *mu, *sigma;
    double *w;   //  weights, normalized
    double *c;   //  w / Z, and / sqrt (2 pi) when continuous
    double *cum; //  running sums of w, for drawing a component
    size_t *wide;
    size_t n_wide;
    double low, high, q; //  q: the step of a discrete parameter, else 0
    double min_sigma, cut;
    //  With many components of the smallest width s (= cut), those are
    //  summed through Hermite expansions per block of width s / 4
    //  (s_kde_expand): moments[b * S_TERMS + p] is the sum over block b's
    //  components of c v^p / p!, v = (mu - centre) / s.
    int expanded;
    size_t n_blocks, cap_moments;
    double *moments;
} s_kde_t;

//  A parameter's values in internal space over the history's rows, in
//  order of (value, row).
typedef struct {
    double *x;
    uint32_t *row;
    size_t n, cap;
} s_sorted_t;

typedef struct {
    s_config_t cfg;
    void *random; //  random search's instance, for the start-up trials
    //  Scratch, grown as needed and kept between calls.
    s_obs_t *obs;
    size_t cap_obs;
    uint8_t *cls;   //  per history row: S_ABOVE, S_BELOW, or 0: not counted
    uint32_t *rank; //  per history row: its place in its set, by number
    size_t cap_rows;
    double *xb, *xa;
    size_t cap_x;
    uint64_t *keys, *keys2;
    uint32_t *idx, *idx2;
    size_t cap_sort;
    s_kde_t l, g;
    //  Kept in step with the history (s_sync): a row's parameters never
    //  change once appended, so each suggestion reads only the new rows
    //  instead of sorting every value again. Everything derived from
    //  them is the same whatever order the rows were read in.
    const hpo_history_t *synced_history;
    size_t synced;      //  rows read
    double *cache;      //  rows x n_params values in internal space
    size_t cap_cache;   //  rows
    s_sorted_t *sorted; //  per numeric parameter
    size_t n_params;
} s_tpe_t;

enum { S_ABOVE = 1, S_BELOW = 2 };

static const char *const s_keys[] = {"seed",
                                     "n_startup_trials",
                                     "n_ei_candidates",
                                     "multivariate",
                                     "constant_liar",
                                     "consider_prior",
                                     "prior_weight",
                                     "consider_magic_clip",
                                     "consider_endpoints",
                                     NULL};

//  ---- options ----------------------------------------------------------

static int
s_option_bool (const hpo_search_option_t *options, size_t k, int *out,
               hpo_search_problem_t *problem)
{
    const hpo_value_t *v = &options[k].value;
    if (v->kind == HPO_KIND_STR &&
        (!strcmp (v->s, "true") || !strcmp (v->s, "True") ||
         !strcmp (v->s, "TRUE")))
        *out = 1;
    else if (v->kind == HPO_KIND_STR &&
             (!strcmp (v->s, "false") || !strcmp (v->s, "False") ||
              !strcmp (v->s, "FALSE")))
        *out = 0;
    else
        return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, k,
                                "must be true or false");
    return 0;
}

static int
s_option (const hpo_search_option_t *options, size_t k, s_config_t *cfg,
          hpo_search_problem_t *problem)
{
    const char *key = options[k].key;
    if (!strcmp (key, "seed"))
        return hpo_search_option_uint (options, k, &cfg->seed, problem);
    if (!strcmp (key, "n_startup_trials"))
        return hpo_search_option_uint (options, k, &cfg->startup, problem);
    if (!strcmp (key, "n_ei_candidates")) {
        if (hpo_search_option_uint (options, k, &cfg->candidates, problem))
            return -1;
        if (cfg->candidates < 1 || cfg->candidates > S_MAX_CANDIDATES)
            return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, k,
                                    "must be between 1 and %d",
                                    S_MAX_CANDIDATES);
        return 0;
    }
    if (!strcmp (key, "prior_weight"))
        return hpo_search_option_positive (options, k, &cfg->prior_weight, problem);
    int *flag = !strcmp (key, "multivariate")          ? &cfg->multivariate
                : !strcmp (key, "constant_liar")       ? &cfg->liar
                : !strcmp (key, "consider_prior")      ? &cfg->prior
                : !strcmp (key, "consider_magic_clip") ? &cfg->magic_clip
                                                       : &cfg->endpoints;
    assert (flag != &cfg->endpoints || !strcmp (key, "consider_endpoints"));
    return s_option_bool (options, k, flag, problem);
}

static int
s_check (const hpo_spec_t *spec, const hpo_search_option_t *options, size_t n,
         void **config, hpo_search_problem_t *problem)
{
    s_config_t cfg = {.startup = S_STARTUP,
                      .candidates = S_CANDIDATES,
                      .liar = 1,
                      .prior = 1,
                      .prior_weight = 1.0,
                      .magic_clip = 1};
    for (size_t k = 0; k < n; k++)
        if (s_option (options, k, &cfg, problem))
            return -1;
    s_config_t *self = hpo_malloc (sizeof *self);
    *self = cfg;
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
    return UINT64_MAX;
}

//  ---- life -------------------------------------------------------------

static void *
s_new (const hpo_spec_t *spec, const void *config)
{
    s_tpe_t *self = hpo_calloc (1, sizeof *self);
    self->cfg = *(const s_config_t *)config;
    //  Random search with the same seed, through its own option check.
    hpo_search_option_t seed = {
        .key = "seed",
        .value = {.kind = HPO_KIND_INT, .i = (int64_t)self->cfg.seed}};
    hpo_search_problem_t problem = {0};
    void *random_config = NULL;
    int rc =
        hpo_sampler_random.check (spec, &seed, 1, &random_config, &problem);
    assert (rc == 0);
    (void)rc;
    self->random = hpo_sampler_random.new(spec, random_config);
    hpo_sampler_random.config_free (random_config);
    self->n_params = spec->n_params;
    self->sorted = hpo_calloc (spec->n_params + 1, sizeof *self->sorted);
    return self;
}

static void
s_kde_free (s_kde_t *kde)
{
    free (kde->mu);
    free (kde->sigma);
    free (kde->w);
    free (kde->c);
    free (kde->cum);
    free (kde->wide);
    free (kde->moments);
}

static void
s_destroy (void *self_)
{
    s_tpe_t *self = self_;
    hpo_sampler_random.destroy (self->random);
    free (self->obs);
    free (self->cls);
    free (self->rank);
    free (self->cache);
    for (size_t k = 0; k < self->n_params; k++) {
        free (self->sorted[k].x);
        free (self->sorted[k].row);
    }
    free (self->sorted);
    free (self->xb);
    free (self->xa);
    free (self->keys);
    free (self->keys2);
    free (self->idx);
    free (self->idx2);
    s_kde_free (&self->l);
    s_kde_free (&self->g);
    free (self);
}

//  fmin and fmax are calls into libm where NaN rules apply; these inline,
//  for the loops over every component (no NaN reaches them).
static inline double
s_max (double a, double b)
{
    return a > b ? a : b;
}

static inline double
s_clamp (double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

//  Grows *p to hold n elements of size each, by doubling.
static void
s_grow (void **p, size_t *cap, size_t n, size_t size)
{
    if (n <= *cap)
        return;
    size_t want = *cap ? *cap : 64;
    while (want < n)
        want *= 2;
    *p = hpo_realloc (*p, want * size);
    *cap = want;
}

//  ---- the normal distribution --------------------------------------------

static double
s_phi_lower (double z) //  P(Z <= z)
{
    return 0.5 * erfc (-z * M_SQRT1_2);
}

//  P(a <= Z <= b), a <= b, computed on the side where it loses no digits.
static double
s_mass (double a, double b)
{
    if (a >= 0)
        return 0.5 * (erfc (a * M_SQRT1_2) - erfc (b * M_SQRT1_2));
    if (b <= 0)
        return 0.5 * (erfc (-b * M_SQRT1_2) - erfc (-a * M_SQRT1_2));
    return 1 - 0.5 * erfc (-a * M_SQRT1_2) - 0.5 * erfc (b * M_SQRT1_2);
}

//  log P(z - h/2 <= Z <= z + h/2). A narrow interval (h (|z| + 1) <=
//  1/4) by the series of phi around z, which costs an exp where the
//  difference costs two erfc:
//      phi (z) h sum_k He_2k (z) (h/2)^2k / (2k + 1)!,
//  to k = 3; the rest is under 2e-11 of the mass.
static double
s_log_step_mass (double z, double h)
{
    double hz = h * (fabs (z) + 1);
    if (hz > 0.25)
        return log (s_mass (z - 0.5 * h, z + 0.5 * h));
    double z2 = z * z, h2 = h * h;
    double he2 = z2 - 1, he4 = (z2 - 6) * z2 + 3;
    double he6 = ((z2 - 15) * z2 + 45) * z2 - 15;
    double series = h2 * (he2 / 24 + h2 * (he4 / 1920 + h2 * he6 / 322560));
    return -0.5 * z2 - 0.5 * log (2 * M_PI) + log (h) + log1p (series);
}

//  The z with P(Z <= z) = p, for 0 < p <= 1/2: Abramowitz and Stegun's
//  26.2.23 to start, then Newton's method on log P, which stays well
//  conditioned far into the tail.
static double
s_quantile_lower (double p)
{
    if (!(p > 0))
        return -38.5; //  where erfc underflows; the caller clips
    double t = sqrt (-2 * log (p));
    double z =
        -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
                  (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t));
    for (int k = 0; k < 3; k++) {
        double cdf = s_phi_lower (z);
        if (!(cdf > 0))
            break;
        double pdf = exp (-0.5 * z * z) / sqrt (2 * M_PI);
        z -= (log (cdf) - log (p)) * cdf / pdf;
    }
    return z;
}

//  A draw of a standard normal truncated to [a, b], by inverting the
//  distribution function; each tail is inverted from its own side.
static double
s_truncnorm (hpo_rng_t *rng, double a, double b)
{
    double r = hpo_rng_uniform (rng);
    double pa = s_phi_lower (a), pb = s_phi_lower (b);
    double u = pa + r * (pb - pa);
    double z;
    if (u <= 0.5)
        z = s_quantile_lower (u);
    else {
        double qa = s_phi_lower (-a), qb = s_phi_lower (-b);
        z = -s_quantile_lower (qb + (1 - r) * (qa - qb));
    }
    return fmin (fmax (z, a), b);
}

//  ---- sorting ----------------------------------------------------------

//  An unsigned key that sorts as the double does.
static uint64_t
s_key_of (double x)
{
    uint64_t u;
    memcpy (&u, &x, sizeof u);
    return (u >> 63) ? ~u : u | (1ULL << 63);
}

//  Sorts idx[0 .. n) by x[idx], stably: a least-significant-digit radix
//  sort on 8-bit digits, skipping digits all keys share. 10,000 values
//  take a few dozen microseconds, against a millisecond for qsort.
static void
s_sort (s_tpe_t *self, const double *x, size_t n)
{
    if (n > self->cap_sort) {
        size_t cap = self->cap_sort;
        s_grow ((void **)&self->keys, &cap, n, sizeof (uint64_t));
        cap = self->cap_sort;
        s_grow ((void **)&self->keys2, &cap, n, sizeof (uint64_t));
        cap = self->cap_sort;
        s_grow ((void **)&self->idx2, &cap, n, sizeof (uint32_t));
        cap = self->cap_sort;
        s_grow ((void **)&self->idx, &cap, n, sizeof (uint32_t));
        self->cap_sort = cap;
    }
    if (n == 0)
        return;
    uint64_t *k = self->keys, *k2 = self->keys2;
    uint32_t *ix = self->idx, *ix2 = self->idx2;
    for (size_t i = 0; i < n; i++) {
        ix[i] = (uint32_t)i;
        k[i] = s_key_of (x[i]);
    }
    for (int shift = 0; shift < 64; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[((k[i] >> shift) & 0xff) + 1]++;
        if (count[((k[0] >> shift) & 0xff) + 1] == n)
            continue;
        for (size_t d = 0; d < 256; d++)
            count[d + 1] += count[d];
        for (size_t i = 0; i < n; i++) {
            size_t at = count[(k[i] >> shift) & 0xff]++;
            k2[at] = k[i];
            ix2[at] = ix[i];
        }
        uint64_t *tk = k;
        k = k2;
        k2 = tk;
        uint32_t *ti = ix;
        ix = ix2;
        ix2 = ti;
    }
    //  The result may sit in either buffer; leave it in self->idx.
    if (ix != self->idx)
        memcpy (self->idx, ix, n * sizeof *ix);
}

//  ---- parameters in internal space -----------------------------------------

//  Whether the parameter is drawn as a category index: categoricals, and
//  numeric parameters with a values list (their points, unordered).
static int
s_is_categorical (const hpo_param_spec_t *p)
{
    return p->values != NULL;
}

//  Index of v among p's values, or -1.
static int
s_index (const hpo_param_spec_t *p, const hpo_value_t *v)
{
    for (size_t i = 0; i < p->n_values; i++) {
        const hpo_value_t *u = &p->values[i];
        if (u->kind == HPO_KIND_STR || v->kind == HPO_KIND_STR) {
            if (u->kind == v->kind && !strcmp (u->s, v->s))
                return (int)i;
        } else if (u->kind != HPO_KIND_NONE && v->kind != HPO_KIND_NONE &&
                   u->f == v->f)
            return (int)i;
    }
    return -1;
}

//  The last point of a stepped parameter's grid.
static double
s_last_point (const hpo_param_spec_t *p)
{
    uint64_t count = hpo_param_grid_count (p);
    if (count == 0 || count == UINT64_MAX)
        return p->high;
    return p->low + (double)(count - 1) * p->step;
}

//  The step of a discrete parameter (an int, or a float with a step, not
//  on a log scale), else 0.
static double
s_quantum (const hpo_param_spec_t *p)
{
    if (p->log)
        return 0;
    if (p->type == HPO_PARAM_INT)
        return p->has_step ? p->step : 1;
    return p->has_step ? p->step : 0;
}

//  The estimator's bounds in internal space: a discrete parameter's range
//  widened by half a step each side, a log parameter's in logs (an int's
//  widened by half a unit first, as Optuna does).
static void
s_bounds (const hpo_param_spec_t *p, double *low, double *high, double *q)
{
    *q = s_quantum (p);
    if (p->log && p->type == HPO_PARAM_INT) {
        *low = log (p->low - 0.5);
        *high = log (p->high + 0.5);
    } else if (p->log) {
        *low = log (p->low);
        *high = log (p->high);
    } else if (*q > 0) {
        *low = p->low - 0.5 * *q;
        *high = (p->has_step ? s_last_point (p) : p->high) + 0.5 * *q;
    } else {
        *low = p->low;
        *high = p->high;
    }
}

//  A history value of p in internal space (an index for a categorical);
//  NAN if it is absent or not a value of p (the space changed since).
static double
s_internal (const hpo_param_spec_t *p, const hpo_value_t *v)
{
    if (v->kind == HPO_KIND_NONE)
        return NAN;
    if (s_is_categorical (p)) {
        int i = s_index (p, v);
        return i < 0 ? NAN : (double)i;
    }
    if (v->kind == HPO_KIND_STR || !isfinite (v->f))
        return NAN;
    double x = v->f;
    if (x < p->low || x > p->high)
        return NAN;
    return p->log ? log (x) : x;
}

//  The parameter's value for internal x: rounded to its grid, clipped to
//  its range (the same rules as random search).
static void
s_external (const hpo_param_spec_t *p, double x, hpo_value_t *out)
{
    if (s_is_categorical (p)) {
        size_t i = (size_t)fmin (fmax (x, 0), (double)(p->n_values - 1));
        hpo_value_copy (out, &p->values[i]);
        return;
    }
    if (p->log)
        x = exp (x);
    if (p->has_step) {
        double k = round ((x - p->low) / p->step);
        uint64_t count = hpo_param_grid_count (p);
        if (count != UINT64_MAX && k > (double)(count - 1))
            k = (double)(count - 1);
        x = hpo_search_tidy (p->low + fmax (k, 0) * p->step);
    } else if (p->type == HPO_PARAM_INT)
        x = round (x);
    x = fmin (fmax (x, p->low), p->high);
    if (p->type == HPO_PARAM_INT)
        *out = (hpo_value_t){
            .kind = HPO_KIND_INT, .i = (int64_t)x, .f = (double)(int64_t)x};
    else
        *out = (hpo_value_t){.kind = HPO_KIND_FLOAT, .f = x};
}

//  ---- ranking ----------------------------------------------------------

//  Optuna's default_gamma: how many trials are "below".
static size_t
s_gamma (size_t n)
{
    size_t g = (n + 9) / 10;
    return g < S_GAMMA_MAX ? g : S_GAMMA_MAX;
}

//  Optuna's default_weights for n observations in trial order: the 25
//  newest weigh 1, the older ones ramp linearly from 1/n up to 1.
typedef struct {
    size_t n, ramp; //  ramp: how many are on the ramp
    double a, slope;
} s_weights_t;

static s_weights_t
s_weights (size_t n)
{
    s_weights_t w = {.n = n};
    if (n > S_GAMMA_MAX) {
        w.ramp = n - S_GAMMA_MAX;
        w.a = 1.0 / (double)n;
        w.slope = w.ramp > 1 ? (1 - w.a) / (double)(w.ramp - 1) : 0;
    }
    return w;
}

//  The j-th one's weight.
static inline double
s_weight_at (const s_weights_t *w, size_t j)
{
    return j < w->ramp ? w->a + w->slope * (double)j : 1;
}

//  Their sum: the ramp's is its length times its middle.
static double
s_weights_total (const s_weights_t *w)
{
    double ramp = (double)w->ramp;
    double on_ramp = w->ramp > 1 ? 0.5 * ramp * (w->a + 1) : ramp * w->a;
    return on_ramp + (double)(w->n - w->ramp);
}

//  Trial row's rank key, as Optuna's _get_observation_pairs: COMPLETE
//  (-inf, value); PRUNED (-last step, value there), or (1, 0) without a
//  report; pending (+inf, +inf). Values are negated when maximizing, and
//  a NaN report ranks as +inf. Returns 0 for a trial that does not
//  count (FAILED, a COMPLETE one without a value, pending without liar).
static int
s_score (const s_tpe_t *self, const hpo_spec_t *spec,
         const hpo_history_t *history, size_t row, s_obs_t *obs)
{
    double sign = spec->maximize ? -1 : 1;
    obs->row = row;
    switch (history->states[row]) {
    case HPO_TRIAL_COMPLETE:
        if (!isfinite (history->values[row]))
            return 0;
        obs->k1 = -INFINITY;
        obs->k2 = sign * history->values[row];
        return 1;
    case HPO_TRIAL_PRUNED: {
        const hpo_curve_t *c = history->curves ? &history->curves[row] : NULL;
        if (!c || c->n == 0) {
            obs->k1 = 1;
            obs->k2 = 0;
            return 1;
        }
        //  Optuna keeps a step's first report and ranks by the largest.
        size_t best = 0;
        for (size_t i = 1; i < c->n; i++)
            if (c->steps[i] > c->steps[best])
                best = i;
        obs->k1 = -(double)c->steps[best];
        obs->k2 = isnan (c->values[best]) ? INFINITY : sign * c->values[best];
        return 1;
    }
    case HPO_TRIAL_RUNNING:
    case HPO_TRIAL_WAITING:
        obs->k1 = obs->k2 = INFINITY;
        return self->cfg.liar;
    default:
        return 0;
    }
}

static int
s_better (const s_obs_t *a, const s_obs_t *b)
{
    return a->k1 < b->k1 || (a->k1 == b->k1 && a->k2 < b->k2);
}

//  Scores the history into self->obs (trial order) and classes each row
//  in self->cls: the best gamma(n) S_BELOW, ties going to the older trial
//  as in a stable sort, the other counted ones S_ABOVE. Returns n, the
//  COMPLETE and PRUNED trials counted.
static size_t
s_split (s_tpe_t *self, const hpo_spec_t *spec, const hpo_history_t *history,
         size_t *n_obs)
{
    s_grow ((void **)&self->obs, &self->cap_obs, history->n + 1,
            sizeof *self->obs);
    size_t cap = self->cap_rows;
    s_grow ((void **)&self->cls, &cap, history->n + 1, 1);
    cap = self->cap_rows;
    s_grow ((void **)&self->rank, &cap, history->n + 1, sizeof (uint32_t));
    self->cap_rows = cap;
    memset (self->cls, 0, history->n);
    size_t n = 0, m = 0;
    for (size_t row = 0; row < history->n; row++)
        if (s_score (self, spec, history, row, &self->obs[m])) {
            n += self->obs[m].k1 != INFINITY; //  pending ones do not count
            m++;
        }
    //  The best gamma, kept sorted by insertion: gamma is at most 25.
    size_t gamma = s_gamma (n), kept = 0;
    s_obs_t best[S_GAMMA_MAX];
    for (size_t i = 0; i < m && gamma; i++) {
        const s_obs_t *o = &self->obs[i];
        if (kept == gamma && !s_better (o, &best[kept - 1]))
            continue;
        size_t at = kept < gamma ? kept++ : kept - 1;
        while (at > 0 && s_better (o, &best[at - 1])) {
            best[at] = best[at - 1];
            at--;
        }
        best[at] = *o;
    }
    for (size_t i = 0; i < m; i++)
        self->cls[self->obs[i].row] = S_ABOVE;
    for (size_t i = 0; i < kept; i++)
        self->cls[best[i].row] = S_BELOW;
    *n_obs = m;
    return n;
}

//  ---- the history's values, kept sorted ----------------------------------

//  Merges the m new values (x, rows) of parameter k, in row order, into
//  its sorted list.
static void
s_sorted_add (s_tpe_t *self, s_sorted_t *sorted, const double *x,
              const uint32_t *rows, size_t m)
{
    s_sort (self, x, m);
    size_t n = sorted->n, cap = sorted->cap;
    s_grow ((void **)&sorted->x, &cap, n + m, sizeof (double));
    cap = sorted->cap;
    s_grow ((void **)&sorted->row, &cap, n + m, sizeof (uint32_t));
    sorted->cap = cap;
    //  From the end: the new rows come after the old ones of equal value.
    size_t i = n, j = m, at = n + m;
    while (j > 0) {
        uint32_t nj = self->idx[j - 1];
        if (i > 0 && sorted->x[i - 1] > x[nj]) {
            sorted->x[--at] = sorted->x[i - 1];
            sorted->row[at] = sorted->row[--i];
        } else {
            sorted->x[--at] = x[nj];
            sorted->row[at] = rows[nj];
            j--;
        }
    }
    sorted->n = n + m;
}

//  Reads the history's rows that are new since the last call into the
//  cache and the sorted lists; starts over for another history.
static void
s_sync (s_tpe_t *self, const hpo_spec_t *spec, const hpo_history_t *history)
{
    size_t np = spec->n_params;
    assert (np == self->n_params);
    if (history != self->synced_history || history->n < self->synced) {
        self->synced_history = history;
        self->synced = 0;
        for (size_t k = 0; k < np; k++)
            self->sorted[k].n = 0;
    }
    size_t from = self->synced, fresh = history->n - from;
    if (fresh == 0 || np == 0)
        return;
    //  Rows are kept as 32-bit numbers; a study has far fewer trials.
    assert (history->n < UINT32_MAX);
    s_grow ((void **)&self->cache, &self->cap_cache, history->n,
            np * sizeof (double));
    double *x = hpo_malloc (fresh * sizeof *x);
    uint32_t *rows = hpo_malloc (fresh * sizeof *rows);
    for (size_t k = 0; k < np; k++) {
        const hpo_param_spec_t *p = &spec->params[k];
        size_t m = 0;
        for (size_t r = from; r < history->n; r++) {
            double v = s_internal (p, &history->params[r * np + k]);
            self->cache[r * np + k] = v;
            if (!isnan (v) && !s_is_categorical (p)) {
                x[m] = v;
                rows[m++] = (uint32_t)r;
            }
        }
        if (m)
            s_sorted_add (self, &self->sorted[k], x, rows, m);
    }
    free (x);
    free (rows);
    self->synced = history->n;
}

//  ---- the numeric Parzen estimator ---------------------------------------

static void
s_kde_reserve (s_kde_t *kde, size_t n)
{
    if (n <= kde->cap)
        return;
    size_t cap = kde->cap;
    s_grow ((void **)&kde->mu, &cap, n, sizeof (double));
    cap = kde->cap;
    s_grow ((void **)&kde->sigma, &cap, n, sizeof (double));
    cap = kde->cap;
    s_grow ((void **)&kde->w, &cap, n, sizeof (double));
    cap = kde->cap;
    s_grow ((void **)&kde->c, &cap, n, sizeof (double));
    cap = kde->cap;
    s_grow ((void **)&kde->cum, &cap, n, sizeof (double));
    cap = kde->cap;
    s_grow ((void **)&kde->wide, &cap, n, sizeof (size_t));
    kde->cap = cap;
}

//  The smallest width a component may have.
static double
s_min_sigma (const s_tpe_t *self, double range, size_t n)
{
    return self->cfg.magic_clip ? range / fmin (100.0, 1.0 + (double)n) : S_EPS;
}

//  Widths by the gap to the neighbours (Optuna's univariate rule; the
//  prior's mean is among the neighbours).
static void
s_kde_widths (const s_tpe_t *self, s_kde_t *kde)
{
    size_t n = kde->n;
    double range = kde->high - kde->low;
    for (size_t i = 0; i < n; i++) {
        double left = kde->mu[i] - (i ? kde->mu[i - 1] : kde->low);
        double right = (i + 1 < n ? kde->mu[i + 1] : kde->high) - kde->mu[i];
        kde->sigma[i] = s_max (left, right);
    }
    if (!self->cfg.endpoints && n >= 2) {
        kde->sigma[0] = kde->mu[1] - kde->mu[0];
        kde->sigma[n - 1] = kde->mu[n - 1] - kde->mu[n - 2];
    }
    double lo = s_min_sigma (self, range, n);
    for (size_t i = 0; i < n; i++)
        kde->sigma[i] = s_clamp (kde->sigma[i], lo, range);
}

//  A component's mass inside the bounds; 1 when past 9 widths each side
//  (the rest is under 1e-18).
static double
s_inside (const s_kde_t *kde, double mu, double sigma)
{
    double a = (kde->low - mu) / sigma, b = (kde->high - mu) / sigma;
    return a < -9 && b > 9 ? 1 : s_mass (a, b);
}

//  With at least S_EXPAND_MIN continuous components of the smallest
//  width s, and no narrower cut than s, sums them by block instead of
//  one by one: the fast Gauss transform (Greengard and Strain, 1991).
//  Block b of width h = s / 4 centred at m holds components at
//  v = (mu - m) / s in [-1/8, 1/8]; at y, with u = (y - m) / s,
//      exp (-(u - v)^2 / 2) = exp (-u^2 / 2) sum_p He_p (u) v^p / p!
//  (He_p the Hermite polynomials: their generating function), so the
//  block adds exp (-u^2 / 2) sum_p He_p (u) B_p, its moments
//  B_p = sum_i c_i v_i^p / p!. By Cramer's bound on He_p, the terms from
//  S_TERMS = 11 on leave out less than 1.1 sum_p>=11 8^-p / sqrt (p!),
//  under 3e-14, of each component's weight. A suggestion then costs
//  O(n S_TERMS) once and O(S_TERMS) per block within S_WINDOW s + h of a
//  candidate, however many trials crowd around the candidates.
static void
s_kde_expand (const s_tpe_t *self, s_kde_t *kde)
{
    double range = kde->high - kde->low, s = kde->cut, h = 0.25 * s;
    kde->expanded = 0;
    if (kde->q > 0 || s != kde->min_sigma ||
        kde->n - kde->n_wide < S_EXPAND_MIN || range / h > 100000)
        return; //  the last only without the magic clip: widths vary then
    kde->expanded = 1;
    kde->n_blocks = (size_t)ceil (range / h) + 1;
    s_grow ((void **)&kde->moments, &kde->cap_moments, kde->n_blocks * S_TERMS,
            sizeof (double));
    memset (kde->moments, 0, kde->n_blocks * S_TERMS * sizeof (double));
    double inv_fact[S_TERMS];
    inv_fact[0] = 1;
    for (int p = 1; p < S_TERMS; p++)
        inv_fact[p] = inv_fact[p - 1] / p;
    //  A block's components are consecutive, the means being sorted: its
    //  sums stay in registers while they run.
    for (size_t i = 0; i < kde->n;) {
        size_t b = (size_t)((kde->mu[i] - kde->low) / h);
        b = b < kde->n_blocks ? b : kde->n_blocks - 1;
        double centre = kde->low + ((double)b + 0.5) * h;
        double end = b + 1 < kde->n_blocks ? centre + 0.5 * h : INFINITY;
        double acc[S_TERMS] = {0};
        for (; i < kde->n && kde->mu[i] < end; i++) {
            if (kde->sigma[i] > s)
                continue;
            double v = (kde->mu[i] - centre) / s, t = kde->c[i];
#pragma GCC unroll 16
            for (int p = 0; p < S_TERMS; p++) {
                acc[p] += t;
                t *= v;
            }
        }
        double *a = &kde->moments[b * S_TERMS];
        for (int p = 0; p < S_TERMS; p++)
            a[p] += acc[p] * inv_fact[p];
    }
}

//  The expanded components' density at y (s_kde_expand).
static double
s_kde_expanded_sum (const s_kde_t *kde, double y)
{
    double s = kde->cut, h = 0.25 * s, reach = S_WINDOW * s + h;
    double from = (y - reach - kde->low) / h, to = (y + reach - kde->low) / h;
    if (to < 0)
        return 0;
    size_t last = kde->n_blocks - 1;
    size_t b0 = from > 0 ? (size_t)from : 0;
    size_t b1 = to < (double)last ? (size_t)to : last;
    double sum = 0;
    for (size_t b = b0; b <= b1; b++) {
        double u = (y - (kde->low + ((double)b + 0.5) * h)) / s;
        const double *a = &kde->moments[b * S_TERMS];
        double he0 = 1, he1 = u, poly = a[0] + a[1] * u;
        for (int p = 1; p + 1 < S_TERMS; p++) {
            double he2 = u * he1 - p * he0;
            poly += a[p + 1] * he2;
            he0 = he1;
            he1 = he2;
        }
        if (poly != 0)
            sum += exp (-0.5 * u * u) * poly;
    }
    return sum;
}

//  Merges neighbours with the same mean and width, and derives each
//  component's constant, the running sums and the list of wide ones.
static void
s_kde_finish (const s_tpe_t *self, s_kde_t *kde)
{
    size_t out = 0;
    for (size_t i = 0; i < kde->n; i++) {
        if (out && kde->mu[i] == kde->mu[out - 1] &&
            kde->sigma[i] == kde->sigma[out - 1]) {
            kde->w[out - 1] += kde->w[i];
            continue;
        }
        kde->mu[out] = kde->mu[i];
        kde->sigma[out] = kde->sigma[i];
        kde->w[out] = kde->w[i];
        out++;
    }
    double range = kde->high - kde->low, sum = 0;
    kde->min_sigma = s_min_sigma (self, range, kde->n);
    kde->cut = fmax (kde->min_sigma, range / 100);
    kde->n = out;
    kde->n_wide = 0;
    for (size_t i = 0; i < out; i++) {
        double s = kde->sigma[i];
        double c = kde->w[i] / s_inside (kde, kde->mu[i], s);
        //  Not divided by the width: Optuna 3.1's truncated normal density
        //  leaves out the scale (its _truncnorm.logpdf), which favours
        //  wide components. Kept, as what its users tuned with, and it
        //  finds better points (a 2-d bowl in 60 trials: median distance
        //  to the optimum 0.92 with it, 1.27 without; Optuna 0.98).
        kde->c[i] = kde->q == 0 ? c / sqrt (2 * M_PI) : c;
        sum += kde->w[i];
        kde->cum[i] = sum;
        if (s > kde->cut)
            kde->wide[kde->n_wide++] = i;
    }
    s_kde_expand (self, kde);
}

//  Counts the observations of parameter k in class want, writing their
//  places in trial order to self->rank and, when there are few, their
//  values in trial order to self->xb. Returns how many.
static size_t
s_kde_rank (s_tpe_t *self, size_t k, size_t n_obs, int want, int few)
{
    if (few) {
        size_t cap = self->cap_x;
        s_grow ((void **)&self->xb, &cap, n_obs + 1, sizeof (double));
        cap = self->cap_x;
        s_grow ((void **)&self->xa, &cap, n_obs + 1, sizeof (double));
        self->cap_x = cap;
    }
    size_t m = 0;
    for (size_t r = 0; r < n_obs; r++) {
        size_t row = self->obs[r].row;
        double x = self->cache[row * self->n_params + k];
        if (self->cls[row] != want || isnan (x))
            continue;
        if (few)
            self->xb[m] = x;
        self->rank[row] = (uint32_t)m++;
    }
    return m;
}

//  Appends a component, the prior first if its mean comes before x.
static void
s_kde_put (s_kde_t *kde, double x, double w, double prior_mu, double prior_w,
           size_t *at_prior)
{
    if (*at_prior == SIZE_MAX && prior_w > 0 && x > prior_mu) {
        *at_prior = kde->n;
        kde->mu[kde->n] = prior_mu;
        kde->w[kde->n++] = prior_w;
    }
    kde->mu[kde->n] = x;
    kde->w[kde->n++] = w;
}

//  Builds the estimator of parameter p (index k) from the observations
//  of class want: Optuna's weights, a prior unless consider_prior is off
//  (always one when there is no observation), widths by s_kde_widths.
//  The means come in order from the sorted values (s_sync), the prior's
//  put in its place.
static void
s_kde_build (s_tpe_t *self, s_kde_t *kde, const hpo_param_spec_t *p, size_t k,
             size_t n_obs, int want)
{
    s_bounds (p, &kde->low, &kde->high, &kde->q);
    const s_sorted_t *sorted = &self->sorted[k];
    //  The below set is small: sorting its own values beats walking all.
    int few = want == S_BELOW;
    size_t m = s_kde_rank (self, k, n_obs, want, few);
    int prior = self->cfg.prior || m == 0;
    s_weights_t weights = s_weights (m);
    double total = s_weights_total (&weights);
    if (prior)
        total += self->cfg.prior_weight;
    double prior_mu = 0.5 * (kde->low + kde->high);
    double prior_w = prior ? self->cfg.prior_weight / total : 0;
    s_kde_reserve (kde, m + 1);
    kde->n = 0;
    size_t at_prior = SIZE_MAX;
    if (few) {
        //  Stable, and the values are in row order: the same order as
        //  the sorted list's.
        s_sort (self, self->xb, m);
        for (size_t i = 0; i < m; i++) {
            uint32_t j = self->idx[i];
            s_kde_put (kde, self->xb[j], s_weight_at (&weights, j) / total,
                       prior_mu, prior_w, &at_prior);
        }
    } else
        for (size_t i = 0; i < sorted->n; i++) {
            uint32_t row = sorted->row[i];
            if (self->cls[row] == want)
                s_kde_put (kde, sorted->x[i],
                           s_weight_at (&weights, self->rank[row]) / total,
                           prior_mu, prior_w, &at_prior);
        }
    if (prior && at_prior == SIZE_MAX) {
        at_prior = kde->n;
        kde->mu[kde->n] = prior_mu;
        kde->w[kde->n++] = prior_w;
    }
    assert (kde->n == m + (prior ? 1 : 0));
    s_kde_widths (self, kde);
    if (prior)
        kde->sigma[at_prior] = kde->high - kde->low;
    s_kde_finish (self, kde);
}

//  Component i's density at y (its mass around y when discrete).
static double
s_kde_term (const s_kde_t *kde, size_t i, double y)
{
    double mu = kde->mu[i], s = kde->sigma[i];
    if (kde->q > 0) {
        double a = s_max (y - 0.5 * kde->q, kde->low);
        double b = s_clamp (y + 0.5 * kde->q, a, kde->high);
        if (b - a == kde->q) //  not clipped: the usual case
            return kde->c[i] * exp (s_log_step_mass ((y - mu) / s, kde->q / s));
        return kde->c[i] * s_mass ((a - mu) / s, (b - mu) / s);
    }
    double z = (y - mu) / s;
    return kde->c[i] * exp (-0.5 * z * z);
}

//  The first component whose mean is at least y.
static size_t
s_kde_lower (const s_kde_t *kde, double y)
{
    size_t lo = 0, hi = kde->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (kde->mu[mid] < y)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

//  log density at y: every wide component, and the narrow ones within
//  S_WINDOW cut of y (the error bound is in the comment at the top).
static double
s_kde_log_pdf (const s_kde_t *kde, double y)
{
    double sum = 0;
    for (size_t k = 0; k < kde->n_wide; k++)
        sum += s_kde_term (kde, kde->wide[k], y);
    if (kde->expanded)
        return log (sum + s_kde_expanded_sum (kde, y));
    //  A discrete kernel reaches y through the half step around it too.
    double reach = S_WINDOW * kde->cut + 0.5 * kde->q;
    for (size_t i = s_kde_lower (kde, y - reach);
         i < kde->n && kde->mu[i] <= y + reach; i++)
        if (kde->sigma[i] <= kde->cut)
            sum += s_kde_term (kde, i, y);
    return log (sum);
}

//  Index of the component a uniform draw picks by weight.
static size_t
s_pick (const double *cum, size_t n, hpo_rng_t *rng)
{
    double u = hpo_rng_uniform (rng) * cum[n - 1];
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cum[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

//  A draw from component i of the estimator, in internal space.
static double
s_kde_draw_from (const s_kde_t *kde, size_t i, hpo_rng_t *rng)
{
    double mu = kde->mu[i], s = kde->sigma[i];
    double z = s_truncnorm (rng, (kde->low - mu) / s, (kde->high - mu) / s);
    return fmin (fmax (mu + s * z, kde->low), kde->high);
}

//  ---- one parameter at a time ------------------------------------------

//  Parameter k's observations in internal space, in trial order: the
//  below trials' into self->xb, the others' into self->xa.
static void
s_gather (s_tpe_t *self, size_t n_obs, size_t k, size_t *nb, size_t *na)
{
    size_t cap = self->cap_x;
    s_grow ((void **)&self->xb, &cap, n_obs + 1, sizeof (double));
    cap = self->cap_x;
    s_grow ((void **)&self->xa, &cap, n_obs + 1, sizeof (double));
    self->cap_x = cap;
    *nb = *na = 0;
    for (size_t i = 0; i < n_obs; i++) {
        size_t row = self->obs[i].row;
        double x = self->cache[row * self->n_params + k];
        if (isnan (x))
            continue;
        if (self->cls[row] == S_BELOW)
            self->xb[(*nb)++] = x;
        else
            self->xa[(*na)++] = x;
    }
}

static void
s_numeric (s_tpe_t *self, const hpo_param_spec_t *p, size_t k, size_t n_obs,
           hpo_rng_t *rng, hpo_value_t *out)
{
    s_kde_build (self, &self->l, p, k, n_obs, S_BELOW);
    s_kde_build (self, &self->g, p, k, n_obs, S_ABOVE);
    double best = -INFINITY;
    for (uint64_t c = 0; c < self->cfg.candidates; c++) {
        size_t i = s_pick (self->l.cum, self->l.n, rng);
        hpo_value_t v;
        s_external (p, s_kde_draw_from (&self->l, i, rng), &v);
        //  Scored where it lands once rounded to the grid, as Optuna.
        double y = s_internal (p, &v);
        double score =
            s_kde_log_pdf (&self->l, y) - s_kde_log_pdf (&self->g, y);
        if (c == 0 || score > best) {
            best = score;
            *out = v;
        }
    }
}

//  A categorical estimator's probability of each of n_values choices,
//  from m observed indices x: Optuna's smoothed counts (each observation
//  adds 1 to its choice and prior_weight / (m + 1) to all, normalized),
//  mixed with the observations' weights and a uniform prior.
static void
s_cat_probs (const s_tpe_t *self, const double *x, size_t m, size_t n_values,
             double *prob)
{
    int prior = self->cfg.prior || m == 0;
    double pw = self->cfg.prior_weight;
    double v = pw / (double)(prior ? m + 1 : m);
    double norm = (double)n_values * v + 1;
    s_weights_t weights = s_weights (m);
    double sum_obs = s_weights_total (&weights);
    double total = (prior ? pw : 0) + sum_obs;
    double base = sum_obs / total * v / norm;
    if (prior)
        base += pw / total / (double)n_values;
    for (size_t c = 0; c < n_values; c++)
        prob[c] = base;
    for (size_t j = 0; j < m; j++)
        prob[(size_t)x[j]] += s_weight_at (&weights, j) / total / norm;
}

static void
s_categorical (s_tpe_t *self, const hpo_param_spec_t *p, size_t nb, size_t na,
               hpo_rng_t *rng, hpo_value_t *out)
{
    size_t n = p->n_values;
    double *pl = hpo_malloc (3 * n * sizeof *pl), *pg = pl + n, *cum = pg + n;
    s_cat_probs (self, self->xb, nb, n, pl);
    s_cat_probs (self, self->xa, na, n, pg);
    double sum = 0;
    for (size_t c = 0; c < n; c++)
        cum[c] = sum += pl[c];
    size_t pick = 0;
    double best = -INFINITY;
    for (uint64_t k = 0; k < self->cfg.candidates; k++) {
        size_t c = s_pick (cum, n, rng);
        double score = log (pl[c]) - log (pg[c]);
        if (k == 0 || score > best) {
            best = score;
            pick = c;
        }
    }
    free (pl);
    hpo_value_copy (out, &p->values[pick]);
}

static void
s_univariate (s_tpe_t *self, const hpo_spec_t *spec, size_t n_obs, size_t k,
              hpo_rng_t *rng, hpo_value_t *out)
{
    if (s_is_categorical (&spec->params[k])) {
        size_t nb, na;
        s_gather (self, n_obs, k, &nb, &na);
        s_categorical (self, &spec->params[k], nb, na, rng, out);
    } else
        s_numeric (self, &spec->params[k], k, n_obs, rng, out);
}

//  ---- multivariate: product kernels ---------------------------------------

//  One dimension of the joint model: a parameter and its bounds.
typedef struct {
    const hpo_param_spec_t *p;
    size_t k; //  index in the space
    int categorical;
    int continuous; //  neither categorical nor discrete
    double low, high, q;
} s_dim_t;

//  A joint Parzen estimator over d dimensions: component i sits on one
//  trial's values x[i * d ..], with the same width in each dimension for
//  every observation (Scott's rule), the prior last.
typedef struct {
    size_t n, d;
    double *x;     //  n x d means (category indices for categoricals)
    double *logz;  //  n x d: log of the mass inside the bounds
    double *logw;  //  n: log weights, normalized
    double *cum;   //  n: running sums of the weights
    double *sigma; //  d: the observations' widths
    int prior;     //  the last component is the prior
    double v;      //  categorical smoothing: prior_weight / (m + 1)
    //  n: log weight plus the constant parts of the continuous kernels,
    //  for s_mv_log_pdf's loop over the observations.
    double *base;
} s_mv_t;

static void
s_mv_free (s_mv_t *mv)
{
    free (mv->x);
    free (mv->logz);
    free (mv->logw);
    free (mv->cum);
    free (mv->sigma);
    free (mv->base);
}

//  Component i's mean and width in dimension j.
static void
s_mv_kernel (const s_mv_t *mv, const s_dim_t *dim, size_t i, size_t j,
             double *mu, double *sigma)
{
    int prior = mv->prior && i == mv->n - 1;
    *mu = prior ? 0.5 * (dim->low + dim->high) : mv->x[i * mv->d + j];
    *sigma = prior ? dim->high - dim->low : mv->sigma[j];
}

//  Builds the joint estimator from the rows of self->obs of class want
//  (S_BELOW or S_ABOVE; trial order), their values in internal space xs
//  (n_obs x d, NAN where a row does not count).
static void
s_mv_build (const s_tpe_t *self, s_mv_t *mv, const s_dim_t *dims, size_t d,
            const double *xs, size_t n_obs, int want)
{
    size_t m = 0;
    for (size_t r = 0; r < n_obs; r++)
        m += self->cls[self->obs[r].row] == want && !isnan (xs[r * d]);
    mv->prior = self->cfg.prior || m == 0;
    mv->n = m + (mv->prior ? 1 : 0);
    mv->d = d;
    mv->x = hpo_calloc (mv->n * d, sizeof (double));
    mv->logz = hpo_calloc (mv->n * d, sizeof (double));
    mv->logw = hpo_calloc (mv->n, sizeof (double));
    mv->cum = hpo_calloc (mv->n, sizeof (double));
    mv->sigma = hpo_calloc (d, sizeof (double));
    double total = mv->prior ? self->cfg.prior_weight : 0;
    s_weights_t weights = s_weights (m);
    size_t i = 0;
    for (size_t r = 0; r < n_obs; r++) {
        if (self->cls[self->obs[r].row] != want || isnan (xs[r * d]))
            continue;
        memcpy (&mv->x[i * d], &xs[r * d], d * sizeof (double));
        total += mv->logw[i] = s_weight_at (&weights, i);
        i++;
    }
    if (mv->prior)
        mv->logw[m] = self->cfg.prior_weight;
    double sum = 0;
    for (i = 0; i < mv->n; i++) {
        mv->cum[i] = sum += mv->logw[i];
        mv->logw[i] = log (mv->logw[i] / total);
    }
    mv->v = self->cfg.prior_weight / (double)(mv->prior ? m + 1 : m);
    //  Scott's rule, with the constant 0.2 Optuna took from BOHB.
    double sigma0 = 0.2 * pow ((double)(m ? m : 1), -1.0 / ((double)d + 4));
    for (size_t j = 0; j < d; j++) {
        double range = dims[j].high - dims[j].low;
        mv->sigma[j] = fmin (
            fmax (sigma0 * range, s_min_sigma (self, range, mv->n)), range);
        for (i = 0; i < mv->n && !dims[j].categorical; i++) {
            double mu, sg;
            s_mv_kernel (mv, &dims[j], i, j, &mu, &sg);
            double a = (dims[j].low - mu) / sg, b = (dims[j].high - mu) / sg;
            mv->logz[i * d + j] = a < -9 && b > 9 ? 0 : log (s_mass (a, b));
        }
    }
    mv->base = hpo_calloc (mv->n, sizeof (double));
    for (i = 0; i < mv->n; i++) {
        mv->base[i] = mv->logw[i];
        for (size_t j = 0; j < d; j++)
            if (dims[j].continuous)
                mv->base[i] -= 0.5 * log (2 * M_PI) + mv->logz[i * d + j];
    }
}

//  log of component i's kernel at y in dimension j (Optuna 3.1's: a
//  continuous one not divided by its width, as in s_kde_finish).
static double
s_mv_log_kernel (const s_mv_t *mv, const s_dim_t *dim, size_t i, size_t j,
                 double y)
{
    if (dim->categorical) {
        double n_values = (double)dim->p->n_values;
        if (mv->prior && i == mv->n - 1)
            return -log (n_values);
        double hit = y == mv->x[i * mv->d + j] ? 1 : 0;
        return log ((mv->v + hit) / (n_values * mv->v + 1));
    }
    double mu, s;
    s_mv_kernel (mv, dim, i, j, &mu, &s);
    double logz = mv->logz[i * mv->d + j];
    if (dim->q > 0) {
        double a = s_max (y - 0.5 * dim->q, dim->low);
        double b = s_clamp (y + 0.5 * dim->q, a, dim->high);
        if (b - a == dim->q)
            return s_log_step_mass ((y - mu) / s, dim->q / s) - logz;
        return log (s_mass ((a - mu) / s, (b - mu) / s)) - logz;
    }
    double z = (y - mu) / s;
    return -0.5 * z * z - 0.5 * log (2 * M_PI) - logz;
}

//  log density of the joint estimator at y (d values), by log-sum-exp.
static double
s_mv_log_pdf (const s_mv_t *mv, const s_dim_t *dims, const double *y,
              double *scratch)
{
    double top = -INFINITY;
    size_t n_obs = mv->n - (mv->prior ? 1 : 0), d = mv->d;
    for (size_t i = 0; i < mv->n; i++) {
        double s;
        if (i < n_obs) {
            //  The observations' continuous kernels inline (same width
            //  in each dimension); the others through s_mv_log_kernel.
            double q = 0;
            s = mv->base[i];
            for (size_t j = 0; j < d; j++) {
                if (dims[j].continuous) {
                    double z = (y[j] - mv->x[i * d + j]) / mv->sigma[j];
                    q += z * z;
                } else
                    s += s_mv_log_kernel (mv, &dims[j], i, j, y[j]);
            }
            s -= 0.5 * q;
        } else {
            s = mv->logw[i];
            for (size_t j = 0; j < d && s > -INFINITY; j++)
                s += s_mv_log_kernel (mv, &dims[j], i, j, y[j]);
        }
        scratch[i] = s;
        top = s > top ? s : top;
    }
    if (top == -INFINITY)
        return -INFINITY;
    double sum = 0;
    for (size_t i = 0; i < mv->n; i++)
        sum += exp (scratch[i] - top);
    return top + log (sum);
}

//  A draw from the joint estimator, as values in out (by dims[j].k) and
//  in internal space in y.
static void
s_mv_draw (const s_mv_t *mv, const s_dim_t *dims, hpo_rng_t *rng,
           hpo_value_t *out, double *y)
{
    size_t i = s_pick (mv->cum, mv->n, rng);
    for (size_t j = 0; j < mv->d; j++) {
        const s_dim_t *dim = &dims[j];
        double x;
        if (dim->categorical) {
            //  The component's choice with probability 1 / (C v + 1),
            //  else uniform: its smoothed counts.
            double n_values = (double)dim->p->n_values;
            int own = !(mv->prior && i == mv->n - 1) &&
                      hpo_rng_uniform (rng) < 1 / (n_values * mv->v + 1);
            x = own ? mv->x[i * mv->d + j]
                    : (double)hpo_rng_below (rng, dim->p->n_values);
        } else {
            double mu, s;
            s_mv_kernel (mv, dim, i, j, &mu, &s);
            double z =
                s_truncnorm (rng, (dim->low - mu) / s, (dim->high - mu) / s);
            x = fmin (fmax (mu + s * z, dim->low), dim->high);
        }
        s_external (dim->p, x, &out[dim->k]);
        y[j] = s_internal (dim->p, &out[dim->k]);
    }
}

//  The joint dimensions: parameters that always exist and that the
//  caller did not fix. Returns d.
static size_t
s_joint_dims (const hpo_spec_t *spec, const uint8_t *fixed, s_dim_t *dims)
{
    size_t d = 0;
    for (size_t k = 0; k < spec->n_params; k++) {
        const hpo_param_spec_t *p = &spec->params[k];
        if (p->when_param >= 0 || (fixed && fixed[k]))
            continue;
        dims[d] =
            (s_dim_t){.p = p, .k = k, .categorical = s_is_categorical (p)};
        if (!dims[d].categorical)
            s_bounds (p, &dims[d].low, &dims[d].high, &dims[d].q);
        dims[d].continuous = !dims[d].categorical && dims[d].q == 0;
        d++;
    }
    return d;
}

//  Draws the joint dimensions into out and marks them in joint[].
static void
s_multivariate (s_tpe_t *self, const hpo_spec_t *spec,
                const hpo_history_t *history, size_t n_obs,
                const uint8_t *fixed, hpo_rng_t *rng, hpo_value_t *out,
                uint8_t *joint)
{
    s_dim_t *dims = hpo_calloc (spec->n_params, sizeof *dims);
    size_t d = s_joint_dims (spec, fixed, dims);
    if (d == 0) {
        free (dims);
        return;
    }
    //  Each counted row's values; a row lacking one of them is left out.
    double *xs = hpo_malloc ((n_obs ? n_obs : 1) * d * sizeof *xs);
    for (size_t r = 0; r < n_obs; r++) {
        const hpo_value_t *row = hpo_history_params (history, self->obs[r].row);
        for (size_t j = 0; j < d; j++)
            xs[r * d + j] = s_internal (dims[j].p, &row[dims[j].k]);
        for (size_t j = 1; j < d; j++)
            if (isnan (xs[r * d + j]))
                xs[r * d] = NAN;
    }
    s_mv_t l = {0}, g = {0};
    s_mv_build (self, &l, dims, d, xs, n_obs, S_BELOW);
    s_mv_build (self, &g, dims, d, xs, n_obs, S_ABOVE);
    double *y = hpo_malloc (d * sizeof *y);
    double *scratch = hpo_malloc ((l.n > g.n ? l.n : g.n) * sizeof *scratch);
    hpo_value_t *cand = hpo_calloc (spec->n_params, sizeof *cand);
    double best = -INFINITY;
    for (uint64_t c = 0; c < self->cfg.candidates; c++) {
        s_mv_draw (&l, dims, rng, cand, y);
        double score = s_mv_log_pdf (&l, dims, y, scratch) -
                       s_mv_log_pdf (&g, dims, y, scratch);
        int better = c == 0 || score > best;
        if (better)
            best = score;
        for (size_t j = 0; j < d; j++) {
            size_t k = dims[j].k;
            if (better) {
                hpo_values_clear (&out[k], joint[k]);
                out[k] = cand[k];
                joint[k] = 1;
            } else
                hpo_values_clear (&cand[k], 1);
            cand[k] = (hpo_value_t){0};
        }
    }
    free (cand);
    free (scratch);
    free (y);
    s_mv_free (&l);
    s_mv_free (&g);
    free (xs);
    free (dims);
}

//  ---- suggest ------------------------------------------------------------

static int
s_suggest (void *self_, const hpo_spec_t *spec, const hpo_history_t *history,
           uint64_t number, const uint8_t *fixed, hpo_value_t *out)
{
    s_tpe_t *self = self_;
    assert (history->n_params == spec->n_params);
    size_t n_obs;
    size_t n = s_split (self, spec, history, &n_obs);
    s_sync (self, spec, history);
    if (n < self->cfg.startup)
        return hpo_sampler_random.suggest (self->random, spec, history, number,
                                           fixed, out);
    hpo_rng_t rng;
    hpo_rng_seed (&rng, self->cfg.seed, number);
    uint8_t *joint = hpo_calloc (spec->n_params ? spec->n_params : 1, 1);
    if (self->cfg.multivariate)
        s_multivariate (self, spec, history, n_obs, fixed, &rng, out, joint);
    for (size_t k = 0; k < spec->n_params; k++) {
        if ((fixed && fixed[k]) || joint[k])
            continue;
        if (!hpo_spec_active (spec, k, out))
            out[k] = (hpo_value_t){.kind = HPO_KIND_NONE};
        else
            s_univariate (self, spec, n_obs, k, &rng, &out[k]);
    }
    free (joint);
    return 0;
}

const hpo_sampler_ops_t hpo_sampler_tpe = {
    .name = "tpe",
    .summary = "tree-structured Parzen estimator, as Optuna 3.1's TPESampler",
    .keys = s_keys,
    //  A PRUNED trial ranks by the last step its curve reached.
    .needs_curves = 1,
    .check = s_check,
    .config_free = s_config_free,
    .size = s_size,
    .new = s_new,
    .destroy = s_destroy,
    .suggest = s_suggest,
};
