/*  cmaes.c: CMA-ES, the covariance matrix adaptation evolution strategy
    (Hansen, "The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772),
    with IPOP restarts (Auger and Hansen 2005), for float and int ranges.

    Model. Each float or int range that always exists and is not swept
    by a grid (grid: true) is one coordinate of the unit box [0, 1]^n, a
    log range in log space (search/cube.h). A run starts at the centre
    with step size sigma0 (1/6 by default, as Optuna's) and C = I, with
    lambda = 4 + floor (3 ln n) unless popsize says. Categoricals, lists
    of values and conditional parameters are drawn uniformly at random
    for each trial, as Optuna's CmaEsSampler leaves them to its
    independent sampler; so is every parameter of the first
    n_startup_trials trials (by number). Ints and stepped floats are
    rounded to their step after the mapping, and the update sees the
    rounded value, as Optuna's does.

    Sampling. Trial n's normal deviates come from a generator seeded with
    (seed, n), and x = m + sigma B D z; a point outside the box is drawn
    again, up to 10 n times (Optuna's limit; at most 100), then clipped
    (the python cmaes library's repair). The trial remembers its
    generation.

    Updates. Results arrive in any order. A COMPLETE trial of the current
    generation is kept; when lambda are in, the generation ends: they are
    ranked by (value, trial number), so the update depends on which
    trials were kept and not on the order they came in, and the
    tutorial's update applies (weighted recombination with negative
    weights, CSA for sigma, rank-one and rank-mu updates of C). PRUNED
    and FAILED trials are dropped; the trials handed out next replace
    them. Asks beyond lambda while results are awaited draw from the same
    generation. A result of an older generation that arrives after its
    generation ended is ignored. C's eigensystem (GSL's gsl_eigen_symmv)
    is recomputed every max (1, 1 / (c1 + cmu) / n / 10) generations.

    Restarts. After each update the python cmaes library's stopping
    tests (tolfun over the recent generations' best and worst values,
    tolx, tolxup, no effect of a coordinate or an axis, a condition
    number past 1e14) say whether the run converged. With restart: ipop
    (the default) a converged run starts again from a random mean with
    sigma0 and C = I, and lambda times inc_popsize (2), up to 4096; with
    restart: none it carries on.

    At most 200 parameters are modelled (S_MAX_DIMS); a larger space is
    refused when the study file is read.

    After a coordinator restart, the sampler is rebuilt from tell()s of
    the finished trials in number order (pending() for the running ones),
    and nothing says which generation drew which trial. A trial this
    instance did not draw is recognized by its values: if they are what
    the current generation's draw for its number gives, it belongs to it;
    if they are the previous generation's, it is a late result, ignored;
    if neither (the caller gave them, or the replay lost track) it counts
    for the current generation, a point the update uses wherever it came
    from. Replayed in number order, a generation would keep its lambda
    lowest-numbered COMPLETE trials, where the run that drew them kept the
    first lambda to finish; when later COMPLETE trials of the generation
    exist, the first trial of the next generation says which set it was
    (s_choose). So the state is rebuilt exactly when results came in
    number order, and out of order when few of a generation's results
    overtook lower-numbered ones (the set is searched for within
    max_tries updates per generation; in tests, 12 running with lambda
    7, or 6 running through restarts to lambda 14); past that the
    replay is a CMA-ES that saw the same points in number order.       */
#include "cmaes.h"

#include <assert.h>
#include <gsl/gsl_eigen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "../common/rng.h"
#include "../common/spec.h"
#include "cube.h"
#include "sampler.h"

//  Coordinates modelled at most. Each generation costs O(lambda n^2) and
//  an eigendecomposition O(n^3) on the coordinator's loop: about 0.1 s at
//  200 on a busy machine, seconds at 1000; and CMA-ES needs on the order
//  of n^2 trials to learn C, far beyond any study's budget past that.
#define S_MAX_DIMS 200
//  IPOP doubles lambda at each restart; past this it grows no more, so
//  memory stays bounded (lambda x n doubles per generation).
#define S_MAX_LAMBDA 4096
//  The python cmaes library's bounds and tolerances.
#define S_SIGMA_MAX 1e32
#define S_EPS 1e-8
#define S_TOLFUN 1e-12
#define S_TOLXUP 1e4
#define S_TOLCONDITION 1e14
//  Draws of a point outside the box before it is clipped: 10 n, as
//  Optuna's, but at most this many, since each costs n^2 and a large
//  space whose mean lies on a face would spend seconds on them.
#define S_MAX_REDRAWS 100
//  A replayed generation's later COMPLETE trials considered, and updates
//  tried, to find which results it kept (s_choose): at most S_MAX_TRIES
//  per generation, fewer in a large space (about S_TRY_WORK flops), and
//  S_MAX_TRIES_ALL in all, so a coordinator starts in seconds at worst.
#define S_MAX_EXTRAS 64
#define S_MAX_TRIES 10000
#define S_TRY_WORK 1e8
#define S_MAX_TRIES_ALL 100000
//  In drawn[]: the generation was recognized in a replay, not drawn.
#define S_RECOGNIZED (1ULL << 63)

typedef struct {
    uint64_t seed;
    double sigma0;
    uint64_t popsize; //  0: 4 + floor (3 ln n)
    uint64_t n_startup;
    int ipop;
    uint64_t inc_popsize;
} s_config_t;

//  What a trial is drawn from: m + sigma B D z.
typedef struct {
    double *mean; //  n
    double sigma;
    double *B; //  n x n, row-major: column j is C's j-th eigenvector
    double *D; //  n: the square roots of C's eigenvalues
} s_dist_t;

//  A kept result, for ranking.
typedef struct {
    double f;
    uint64_t number;
    size_t slot;
} s_rank_t;

typedef struct {
    s_config_t config;
    int maximize;
    size_t n_params;
    size_t n;                //  coordinates
    size_t *param;           //  n: the parameter of each coordinate
    hpo_param_spec_t *range; //  n: copies of their ranges, no pointers
    //  The current run's constants (s_constants).
    size_t lambda, mu;
    double *w; //  lambda
    double mueff, cc, c1, cmu, cs, ds, chin;
    uint64_t eigen_every;
    //  The current run's state.
    s_dist_t dist, prev; //  prev: the generation before, once have_prev
    int have_prev;
    double *C, *ps, *pc; //  n x n, n, n
    uint64_t g;          //  generations of this run
    uint64_t eigen_g;    //  g at the last eigendecomposition
    double *funhist;     //  best and worst of the last funhist_term
    size_t funhist_term;
    //  Over every run.
    uint64_t epoch; //  the current generation's number, from 0
    uint64_t restarts;
    //  The current generation's results.
    double *xs; //  lambda x n
    s_rank_t *kept;
    size_t told;
    //  Trial number -> 1 + the epoch that drew it; 0: not drawn here.
    uint64_t *drawn;
    size_t n_drawn;
    //  Replay: the updates s_choose may try per generation, and whether
    //  it gave up (the history is not what this replay rebuilds), after
    //  which it tries no more.
    size_t max_tries, tries_left;
    int lost;
    //  Scratch.
    double *x, *z, *u, *ys, *yw, *t; //  n, n, n_params, lambda x n, n, n
    gsl_eigen_symmv_workspace *eigen;
    gsl_matrix *a, *evec;
    gsl_vector *eval;
} s_cmaes_t;

static const char *const s_keys[] = {
    "seed",    "sigma0",      "popsize", "n_startup_trials",
    "restart", "inc_popsize", NULL};

//  ---- options ----------------------------------------------------------

static int
s_restart_option (const hpo_search_option_t *options, size_t k, int *ipop,
                  hpo_search_problem_t *problem)
{
    const hpo_value_t *v = &options[k].value;
    if (v->kind == HPO_KIND_STR && !strcmp (v->s, "ipop"))
        *ipop = 1;
    else if (v->kind == HPO_KIND_STR && !strcmp (v->s, "none"))
        *ipop = 0;
    else
        return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, k,
                                "must be ipop or none");
    return 0;
}

static int
s_option (const hpo_search_option_t *options, size_t k, s_config_t *c,
          hpo_search_problem_t *problem)
{
    const char *key = options[k].key;
    if (!strcmp (key, "sigma0"))
        return hpo_search_option_positive (options, k, &c->sigma0, problem);
    if (!strcmp (key, "restart"))
        return s_restart_option (options, k, &c->ipop, problem);
    uint64_t *out = !strcmp (key, "seed")          ? &c->seed
                    : !strcmp (key, "popsize")     ? &c->popsize
                    : !strcmp (key, "inc_popsize") ? &c->inc_popsize
                                                   : &c->n_startup;
    if (hpo_search_option_uint (options, k, out, problem))
        return -1;
    if (out == &c->popsize && (*out < 2 || *out > S_MAX_LAMBDA))
        return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, k,
                                "must be from 2 to %d", S_MAX_LAMBDA);
    if (out == &c->inc_popsize && (*out < 1 || *out > 16))
        return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, k,
                                "must be from 1 to 16");
    return 0;
}

//  Whether CMA-ES models parameter p: a float or int range that always
//  exists and that no grid sweeps.
static int
s_modelled (const hpo_param_spec_t *p)
{
    return p->type != HPO_PARAM_CATEGORICAL && !p->values &&
           p->when_param < 0 && !p->grid;
}

static int
s_check (const hpo_spec_t *spec, const hpo_search_option_t *options, size_t n,
         void **config, hpo_search_problem_t *problem)
{
    s_config_t c = {.sigma0 = 1.0 / 6, .ipop = 1, .inc_popsize = 2};
    for (size_t k = 0; k < n; k++)
        if (s_option (options, k, &c, problem))
            return -1;
    size_t dims = 0;
    for (size_t k = 0; k < spec->n_params; k++)
        dims += s_modelled (&spec->params[k]);
    if (dims > S_MAX_DIMS)
        return hpo_search_fail (problem, HPO_SEARCH_AT_SPACE, 0,
                                "cmaes models at most %d float and int "
                                "parameters, this space has %zu; use "
                                "random or tpe",
                                S_MAX_DIMS, dims);
    s_config_t *self = hpo_malloc (sizeof *self);
    *self = c;
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

//  ---- a run's constants and start ---------------------------------------

//  Hansen's recombination weights, negative ones included (the
//  tutorial's eq. 49 to 53), and learning rates for lambda and n.
static void
s_constants (s_cmaes_t *self)
{
    size_t lambda = self->lambda, mu = lambda / 2;
    double n = (double)self->n, *w = self->w;
    double pos = 0, pos2 = 0, neg = 0, neg2 = 0, sum_pos = 0, sum_neg = 0;
    for (size_t i = 0; i < lambda; i++) {
        w[i] = log ((double)(lambda + 1) / 2) - log ((double)i + 1);
        if (i < mu)
            pos += w[i], pos2 += w[i] * w[i];
        else
            neg += w[i], neg2 += w[i] * w[i];
        if (w[i] >= 0)
            sum_pos += w[i];
        else
            sum_neg -= w[i];
    }
    double mueff = pos * pos / pos2;
    double mueff_minus = neg2 > 0 ? neg * neg / neg2 : 0;
    double c1 = 2 / ((n + 1.3) * (n + 1.3) + mueff);
    double cmu = fmin (1 - c1 - 1e-8, 2 * (mueff - 2 + 1 / mueff) /
                                          ((n + 2) * (n + 2) + mueff));
    double alpha = 1 + 2 * mueff_minus / (mueff + 2);
    if (cmu > 0)
        alpha = fmin (alpha, fmin (1 + c1 / cmu, (1 - c1 - cmu) / (n * cmu)));
    for (size_t i = 0; i < lambda; i++)
        w[i] = w[i] >= 0 ? w[i] / sum_pos : alpha * w[i] / sum_neg;
    self->mu = mu;
    self->mueff = mueff;
    self->c1 = c1;
    self->cmu = cmu;
    self->cs = (mueff + 2) / (n + mueff + 5);
    self->ds = 1 + 2 * fmax (0, sqrt ((mueff - 1) / (n + 1)) - 1) + self->cs;
    self->cc = (4 + mueff / n) / (n + 4 + 2 * mueff / n);
    self->chin = sqrt (n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
    double work = n * n * (n + (double)lambda) + 1000; //  + a clone's cost
    self->max_tries = (size_t)fmax (1, fmin (S_MAX_TRIES, S_TRY_WORK / work));
    double every = floor (1 / (c1 + cmu) / n / 10);
    self->eigen_every = every > 1 ? (uint64_t)every : 1;
}

//  Sizes the per-generation arrays for lambda.
static void
s_size_lambda (s_cmaes_t *self)
{
    size_t lambda = self->lambda, n = self->n;
    self->w = hpo_realloc (self->w, lambda * sizeof *self->w);
    self->xs = hpo_realloc (self->xs, lambda * n * sizeof *self->xs);
    self->ys = hpo_realloc (self->ys, lambda * n * sizeof *self->ys);
    self->kept = hpo_realloc (self->kept, lambda * sizeof *self->kept);
    self->funhist_term = 10 + (size_t)ceil (30.0 * (double)n / (double)lambda);
    self->funhist = hpo_realloc (self->funhist, 2 * self->funhist_term *
                                                    sizeof *self->funhist);
}

//  A new run with the current lambda: mean at the centre for the first,
//  uniform in the box (from the seed and the restart's number) after.
static void
s_begin_run (s_cmaes_t *self)
{
    size_t n = self->n;
    s_size_lambda (self);
    s_constants (self);
    hpo_rng_t rng;
    hpo_rng_seed (&rng, self->config.seed, UINT64_MAX - self->restarts);
    for (size_t i = 0; i < n; i++) {
        self->dist.mean[i] = self->restarts ? hpo_rng_uniform (&rng) : 0.5;
        self->dist.D[i] = 1;
        self->ps[i] = self->pc[i] = 0;
        for (size_t j = 0; j < n; j++)
            self->dist.B[i * n + j] = self->C[i * n + j] = i == j;
    }
    self->dist.sigma = self->config.sigma0;
    self->g = self->eigen_g = 0;
    self->told = 0;
}

static void
s_dist_alloc (s_dist_t *d, size_t n)
{
    d->mean = hpo_calloc (n, sizeof *d->mean);
    d->B = hpo_calloc (n * n, sizeof *d->B);
    d->D = hpo_calloc (n, sizeof *d->D);
}

static void
s_dist_copy (s_dist_t *dst, const s_dist_t *src, size_t n)
{
    memcpy (dst->mean, src->mean, n * sizeof *dst->mean);
    memcpy (dst->B, src->B, n * n * sizeof *dst->B);
    memcpy (dst->D, src->D, n * sizeof *dst->D);
    dst->sigma = src->sigma;
}

static void
s_dist_free (s_dist_t *d)
{
    free (d->mean);
    free (d->B);
    free (d->D);
}

//  The coordinates: the parameters it models, in space order.
static void
s_coordinates (s_cmaes_t *self, const hpo_spec_t *spec)
{
    self->param = hpo_calloc (spec->n_params, sizeof *self->param);
    self->range = hpo_calloc (spec->n_params, sizeof *self->range);
    for (size_t k = 0; k < spec->n_params; k++) {
        const hpo_param_spec_t *p = &spec->params[k];
        if (!s_modelled (p))
            continue;
        self->param[self->n] = k;
        self->range[self->n] = *p;
        self->range[self->n].name = NULL;
        self->range[self->n].when_values = NULL;
        self->range[self->n].n_when_values = 0;
        self->n++;
    }
}

static void *
s_new (const hpo_spec_t *spec, const void *config)
{
    s_cmaes_t *self = hpo_calloc (1, sizeof *self);
    self->config = *(const s_config_t *)config;
    self->maximize = spec->maximize;
    self->n_params = spec->n_params;
    self->tries_left = S_MAX_TRIES_ALL;
    self->u = hpo_calloc (spec->n_params + 1, sizeof *self->u);
    s_coordinates (self, spec);
    size_t n = self->n;
    if (!n)
        return self;
    s_dist_alloc (&self->dist, n);
    s_dist_alloc (&self->prev, n);
    self->C = hpo_calloc (n * n, sizeof *self->C);
    self->ps = hpo_calloc (n, sizeof *self->ps);
    self->pc = hpo_calloc (n, sizeof *self->pc);
    self->x = hpo_calloc (n, sizeof *self->x);
    self->z = hpo_calloc (n, sizeof *self->z);
    self->yw = hpo_calloc (n, sizeof *self->yw);
    self->t = hpo_calloc (n, sizeof *self->t);
    //  GSL reports a failed allocation through its error handler, which
    //  aborts, as hpo_malloc does.
    self->eigen = gsl_eigen_symmv_alloc (n);
    self->a = gsl_matrix_alloc (n, n);
    self->evec = gsl_matrix_alloc (n, n);
    self->eval = gsl_vector_alloc (n);
    uint64_t lambda = self->config.popsize;
    if (!lambda)
        lambda = 4 + (uint64_t)floor (3 * log ((double)n));
    self->lambda = lambda;
    s_begin_run (self);
    return self;
}

static void
s_destroy (void *self_)
{
    s_cmaes_t *self = self_;
    if (self->n) {
        s_dist_free (&self->dist);
        s_dist_free (&self->prev);
        gsl_eigen_symmv_free (self->eigen);
        gsl_matrix_free (self->a);
        gsl_matrix_free (self->evec);
        gsl_vector_free (self->eval);
    }
    free (self->param);
    free (self->range);
    free (self->w);
    free (self->C);
    free (self->ps);
    free (self->pc);
    free (self->funhist);
    free (self->xs);
    free (self->kept);
    free (self->drawn);
    free (self->x);
    free (self->z);
    free (self->u);
    free (self->ys);
    free (self->yw);
    free (self->t);
    free (self);
}

//  ---- sampling -----------------------------------------------------------

//  A standard normal deviate (Box and Muller).
static double
s_gauss (hpo_rng_t *rng)
{
    double r = 1 - hpo_rng_uniform (rng); //  in (0, 1]
    double theta = 2 * M_PI * hpo_rng_uniform (rng);
    return sqrt (-2 * log (r)) * cos (theta);
}

//  Trial number's point of distribution d into self->x.
static void
s_draw (s_cmaes_t *self, const s_dist_t *d, uint64_t number)
{
    size_t n = self->n;
    double *x = self->x, *z = self->z;
    hpo_rng_t rng;
    hpo_rng_seed (&rng, self->config.seed, 2 * number);
    for (size_t attempt = 0;; attempt++) {
        for (size_t j = 0; j < n; j++)
            z[j] = d->D[j] * s_gauss (&rng);
        int inside = 1;
        for (size_t i = 0; i < n; i++) {
            double y = 0;
            for (size_t j = 0; j < n; j++)
                y += d->B[i * n + j] * z[j];
            x[i] = d->mean[i] + d->sigma * y;
            inside &= x[i] >= 0 && x[i] <= 1;
        }
        if (inside)
            return;
        if (attempt == (10 * n < S_MAX_REDRAWS ? 10 * n : S_MAX_REDRAWS))
            break;
    }
    for (size_t i = 0; i < n; i++)
        x[i] = fmin (fmax (x[i], 0), 1);
}

//  Records that trial number belongs to the generation `mark` - 1
//  (drawn[]); S_RECOGNIZED in mark says a replay found it, not a draw.
static void
s_mark (s_cmaes_t *self, uint64_t number, uint64_t mark)
{
    if (number >= self->n_drawn) {
        size_t cap = self->n_drawn * 2 > number + 1 ? self->n_drawn * 2
                                                    : (size_t)number + 64;
        self->drawn = hpo_realloc (self->drawn, cap * sizeof *self->drawn);
        memset (self->drawn + self->n_drawn, 0,
                (cap - self->n_drawn) * sizeof *self->drawn);
        self->n_drawn = cap;
    }
    self->drawn[number] = mark;
}

//  drawn[number], 0 when none.
static uint64_t
s_drawn (const s_cmaes_t *self, uint64_t number)
{
    return number < self->n_drawn ? self->drawn[number] : 0;
}

static int
s_suggest (void *self_, const hpo_spec_t *spec, const hpo_history_t *history,
           uint64_t number, const uint8_t *fixed, hpo_value_t *out)
{
    s_cmaes_t *self = self_;
    assert (spec->n_params == self->n_params);
    //  The uniform draws of the parameters CMA-ES does not model come
    //  from a stream of their own, so they are the same whatever it does.
    hpo_rng_t rng;
    hpo_rng_seed (&rng, self->config.seed, 2 * number + 1);
    for (size_t k = 0; k < spec->n_params; k++)
        self->u[k] = hpo_rng_uniform (&rng);
    if (self->n && number >= self->config.n_startup) {
        s_draw (self, &self->dist, number);
        for (size_t j = 0; j < self->n; j++)
            self->u[self->param[j]] = self->x[j];
        s_mark (self, number, self->epoch + 1);
    }
    hpo_cube_row (spec, fixed, self->u, out);
    return 0;
}

//  ---- the update -------------------------------------------------------

static int
s_by_value (const void *a_, const void *b_)
{
    const s_rank_t *a = a_, *b = b_;
    if (a->f != b->f)
        return a->f < b->f ? -1 : 1;
    return a->number < b->number ? -1 : a->number > b->number;
}

//  out = C^(-1/2) v = B D^-1 B^T v, with the last eigensystem.
static void
s_invsqrt (const s_cmaes_t *self, const double *v, double *out)
{
    size_t n = self->n;
    const double *B = self->dist.B, *D = self->dist.D;
    double *t = self->z; //  scratch: B^T v / D
    for (size_t j = 0; j < n; j++) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += B[i * n + j] * v[i];
        t[j] = s / D[j];
    }
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < n; j++)
            s += B[i * n + j] * t[j];
        out[i] = s;
    }
}

static double
s_norm (const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i] * v[i];
    return sqrt (s);
}

//  The kept results ranked, as steps y = (x - m) / sigma into self->ys;
//  the mean moves to the weighted recombination (self->yw is its step).
static void
s_recombine (s_cmaes_t *self)
{
    size_t n = self->n, lambda = self->lambda;
    s_dist_t *d = &self->dist;
    qsort (self->kept, lambda, sizeof *self->kept, s_by_value);
    memset (self->yw, 0, n * sizeof *self->yw);
    for (size_t r = 0; r < lambda; r++) {
        const double *x = &self->xs[self->kept[r].slot * n];
        double *y = &self->ys[r * n];
        for (size_t i = 0; i < n; i++) {
            y[i] = (x[i] - d->mean[i]) / d->sigma;
            if (r < self->mu)
                self->yw[i] += self->w[r] * y[i];
        }
    }
    for (size_t i = 0; i < n; i++)
        d->mean[i] += d->sigma * self->yw[i];
}

//  Cumulative step-size adaptation; returns h_sigma, whether the
//  evolution path may feed the rank-one update.
static double
s_csa (s_cmaes_t *self)
{
    size_t n = self->n;
    double cs = self->cs;
    s_invsqrt (self, self->yw, self->t);
    double k = sqrt (cs * (2 - cs) * self->mueff);
    for (size_t i = 0; i < n; i++)
        self->ps[i] = (1 - cs) * self->ps[i] + k * self->t[i];
    double norm = s_norm (self->ps, n);
    double sigma =
        self->dist.sigma * exp ((cs / self->ds) * (norm / self->chin - 1));
    self->dist.sigma = fmin (sigma, S_SIGMA_MAX);
    double left = norm / sqrt (1 - pow (1 - cs, 2.0 * (double)(self->g + 1)));
    return left < (1.4 + 2 / ((double)n + 1)) * self->chin ? 1 : 0;
}

//  Rank-one and rank-mu updates of C (eq. 45 to 47).
static void
s_adapt (s_cmaes_t *self, double hsig)
{
    size_t n = self->n, lambda = self->lambda;
    double cc = self->cc, c1 = self->c1, cmu = self->cmu, wsum = 0;
    double k = hsig * sqrt (cc * (2 - cc) * self->mueff);
    for (size_t i = 0; i < n; i++)
        self->pc[i] = (1 - cc) * self->pc[i] + k * self->yw[i];
    for (size_t r = 0; r < lambda; r++)
        wsum += self->w[r];
    double delta = (1 - hsig) * cc * (2 - cc);
    double keep = 1 + c1 * delta - c1 - cmu * wsum;
    for (size_t i = 0; i < n * n; i++)
        self->C[i] *= keep;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            self->C[i * n + j] += c1 * self->pc[i] * self->pc[j];
    for (size_t r = 0; r < lambda; r++) {
        const double *y = &self->ys[r * n];
        double w = self->w[r];
        if (w < 0) {
            s_invsqrt (self, y, self->t);
            double norm = s_norm (self->t, n);
            w *= (double)n / (norm * norm + S_EPS);
        }
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                self->C[i * n + j] += cmu * w * y[i] * y[j];
    }
}

//  C = B D^2 B^T from GSL's eigensystem of C (symmetrized); a negative
//  eigenvalue from rounding becomes a tiny positive one.
static void
s_eigen (s_cmaes_t *self)
{
    size_t n = self->n;
    double *C = self->C, *B = self->dist.B, *D = self->dist.D;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            gsl_matrix_set (self->a, i, j, (C[i * n + j] + C[j * n + i]) / 2);
    gsl_eigen_symmv (self->a, self->eval, self->evec, self->eigen);
    gsl_eigen_symmv_sort (self->eval, self->evec, GSL_EIGEN_SORT_VAL_ASC);
    for (size_t j = 0; j < n; j++) {
        double e = gsl_vector_get (self->eval, j);
        D[j] = sqrt (e < 0 ? S_EPS : e);
        for (size_t i = 0; i < n; i++)
            B[i * n + j] = gsl_matrix_get (self->evec, i, j);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t k = 0; k < n; k++)
                s += B[i * n + k] * D[k] * D[k] * B[j * n + k];
            C[i * n + j] = s;
        }
    self->eigen_g = self->g;
}

//  ---- stopping -----------------------------------------------------------

//  Whether every number of the state is finite: a run that overflowed
//  starts again.
static int
s_finite (const s_cmaes_t *self)
{
    size_t n = self->n;
    int ok = isfinite (self->dist.sigma) && self->dist.sigma > 0;
    for (size_t i = 0; i < n * n; i++)
        ok &= isfinite (self->C[i]);
    for (size_t i = 0; i < n; i++)
        ok &= isfinite (self->dist.mean[i]) && isfinite (self->ps[i]) &&
              isfinite (self->pc[i]);
    return ok;
}

//  No change of the mean from a step of 0.2 standard deviations along a
//  coordinate, or of 0.1 along the principal axis of this generation.
static int
s_no_effect (const s_cmaes_t *self)
{
    size_t n = self->n, axis = (size_t)(self->g % n);
    const s_dist_t *d = &self->dist;
    int all_axis = 1;
    for (size_t i = 0; i < n; i++) {
        double m = d->mean[i];
        if (m == m + 0.2 * d->sigma * sqrt (self->C[i * n + i]))
            return 1;
        all_axis &= m == m + 0.1 * d->sigma * d->D[axis] * d->B[i * n + axis];
    }
    return all_axis;
}

//  The python cmaes library's stopping tests, after an update.
static int
s_converged (const s_cmaes_t *self)
{
    size_t n = self->n;
    const s_dist_t *d = &self->dist;
    if (self->g > self->funhist_term) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < 2 * self->funhist_term; i++)
            lo = fmin (lo, self->funhist[i]), hi = fmax (hi, self->funhist[i]);
        if (hi - lo < S_TOLFUN)
            return 1;
    }
    double tolx = 1e-12 * self->config.sigma0, dmax = 0, dmin = INFINITY;
    int small = 1;
    for (size_t i = 0; i < n; i++) {
        small &= d->sigma * self->C[i * n + i] < tolx &&
                 d->sigma * fabs (self->pc[i]) < tolx;
        dmax = fmax (dmax, d->D[i]);
        dmin = fmin (dmin, d->D[i]);
    }
    return small || d->sigma * dmax > S_TOLXUP ||
           dmax / dmin > S_TOLCONDITION || s_no_effect (self);
}

//  The current generation's lambda results are in: update, and restart
//  a run that converged (IPOP) or overflowed.
static void
s_generation_end (s_cmaes_t *self)
{
    s_dist_copy (&self->prev, &self->dist, self->n);
    self->have_prev = 1;
    s_recombine (self);
    size_t slot = 2 * (size_t)((self->g + 1) % self->funhist_term);
    self->funhist[slot] = self->kept[0].f;
    self->funhist[slot + 1] = self->kept[self->lambda - 1].f;
    double hsig = s_csa (self);
    s_adapt (self, hsig);
    self->g++;
    if (self->g - self->eigen_g >= self->eigen_every)
        s_eigen (self);
    self->told = 0;
    self->epoch++;
    int finite = s_finite (self);
    if (finite && !(self->config.ipop && s_converged (self)))
        return;
    if (finite) {
        self->restarts++;
        uint64_t lambda = self->lambda * self->config.inc_popsize;
        self->lambda = lambda < S_MAX_LAMBDA ? lambda : S_MAX_LAMBDA;
    }
    s_begin_run (self);
}

//  ---- results ------------------------------------------------------------

//  Whether trial number's values, from the history, are distribution d's
//  draw for it. Exactly the same: the store keeps values exactly, and
//  near enough would not do, since in a run that has converged the
//  draws of different distributions differ in the last digits only.
static int
s_matches (s_cmaes_t *self, const s_dist_t *d, const hpo_history_t *history,
           uint64_t number)
{
    const hpo_value_t *row = hpo_history_params (history, number);
    s_draw (self, d, number);
    for (size_t j = 0; j < self->n; j++) {
        const hpo_value_t *was = &row[self->param[j]];
        hpo_value_t v;
        hpo_cube_value (&self->range[j], self->x[j], &v);
        if (v.kind != was->kind || v.f != was->f || v.i != was->i)
            return 0;
    }
    return 1;
}

//  The mark (s_mark) of a trial this instance did not draw, by the draw
//  its values are: the current generation's or the one before; 0 for
//  neither.
static uint64_t
s_recognize (s_cmaes_t *self, const hpo_history_t *history, uint64_t number)
{
    if (s_matches (self, &self->dist, history, number))
        return S_RECOGNIZED | (self->epoch + 1);
    if (self->have_prev && s_matches (self, &self->prev, history, number))
        return S_RECOGNIZED | self->epoch;
    return 0;
}

//  Whether trial number's result counts for the current generation.
static int
s_member (s_cmaes_t *self, const hpo_history_t *history, uint64_t number)
{
    if (number < self->config.n_startup)
        return 0;
    for (size_t k = 0; k < self->told; k++)
        if (self->kept[k].number == number)
            return 0; //  told twice
    uint64_t mark = s_drawn (self, number);
    if (!mark) {
        //  Not drawn here: replayed after a restart, or values the caller
        //  gave (enqueued). Neither generation's draw: it counts, as a
        //  point of the search wherever it came from.
        mark = s_recognize (self, history, number);
        if (!mark)
            return 1;
        s_mark (self, number, mark);
    }
    return (mark & ~S_RECOGNIZED) == self->epoch + 1;
}

//  Keeps trial number's result (COMPLETE, finite) for the generation.
static void
s_keep (s_cmaes_t *self, const hpo_history_t *history, uint64_t number)
{
    size_t n = self->n, slot = self->told++;
    assert (slot < self->lambda);
    const hpo_value_t *row = hpo_history_params (history, number);
    for (size_t j = 0; j < n; j++)
        self->xs[slot * n + j] =
            hpo_cube_point (&self->range[j], &row[self->param[j]]);
    double f = history->values[number];
    self->kept[slot] = (s_rank_t){
        .f = self->maximize ? -f : f, .number = number, .slot = slot};
}

//  ---- replay: which results a generation kept ---------------------------
//
//  Replayed in number order, a generation keeps its lambda lowest-numbered
//  COMPLETE trials, where the run that drew them kept the first lambda to
//  finish. When later trials of the generation are COMPLETE too, the kept
//  set is in doubt; the first trial of the next generation settles it:
//  only the right set gives a distribution whose draw for that trial is
//  what the history holds. s_choose tries the sets nearest the
//  lowest-numbered one (one result swapped for a later one, then two,
//  and so on), up to max_tries updates; when none is found, the replay
//  has lost track (lost) and keeps what it has from then on.

static void *
s_dup (const void *p, size_t size)
{
    void *q = hpo_malloc (size ? size : 1);
    memcpy (q, p, size);
    return q;
}

static void
s_dist_dup (s_dist_t *dst, const s_dist_t *src, size_t n)
{
    s_dist_alloc (dst, n);
    s_dist_copy (dst, src, n);
}

//  A copy of self that can end the generation and draw; no drawn[].
static s_cmaes_t *
s_clone (const s_cmaes_t *self)
{
    size_t n = self->n, lambda = self->lambda;
    s_cmaes_t *c = hpo_malloc (sizeof *c);
    *c = *self;
    c->param = s_dup (self->param, n * sizeof *c->param);
    c->range = s_dup (self->range, n * sizeof *c->range);
    c->w = s_dup (self->w, lambda * sizeof *c->w);
    s_dist_dup (&c->dist, &self->dist, n);
    s_dist_dup (&c->prev, &self->prev, n);
    c->C = s_dup (self->C, n * n * sizeof *c->C);
    c->ps = s_dup (self->ps, n * sizeof *c->ps);
    c->pc = s_dup (self->pc, n * sizeof *c->pc);
    c->funhist =
        s_dup (self->funhist, 2 * self->funhist_term * sizeof *c->funhist);
    c->xs = s_dup (self->xs, lambda * n * sizeof *c->xs);
    c->ys = s_dup (self->ys, lambda * n * sizeof *c->ys);
    c->kept = s_dup (self->kept, lambda * sizeof *c->kept);
    c->drawn = NULL;
    c->n_drawn = 0;
    c->x = hpo_calloc (n, sizeof *c->x);
    c->z = hpo_calloc (n, sizeof *c->z);
    c->yw = hpo_calloc (n, sizeof *c->yw);
    c->t = hpo_calloc (n, sizeof *c->t);
    c->u = hpo_calloc (self->n_params + 1, sizeof *c->u);
    c->eigen = gsl_eigen_symmv_alloc (n);
    c->a = gsl_matrix_alloc (n, n);
    c->evec = gsl_matrix_alloc (n, n);
    c->eval = gsl_vector_alloc (n);
    return c;
}

//  Whether ending the generation with trials set[0 .. lambda) gives the
//  distribution that drew trial next.
static int
s_try (const s_cmaes_t *self, const hpo_history_t *history, const uint64_t *set,
       uint64_t next)
{
    s_cmaes_t *c = s_clone (self);
    c->told = 0;
    for (size_t k = 0; k < c->lambda; k++)
        s_keep (c, history, set[k]);
    s_generation_end (c);
    int same = s_matches (c, &c->dist, history, next);
    s_destroy (c);
    return same;
}

//  The updates s_choose may try for this generation.
static size_t
s_budget (const s_cmaes_t *self)
{
    return self->max_tries < self->tries_left ? self->max_tries
                                              : self->tries_left;
}

//  Whether swapping `swaps` more kept results for as many extras gives
//  the distribution that drew next; set then holds it. Kept results are
//  dropped from the highest-numbered down (the latest drawn were the
//  likeliest still running when the generation ended), from the drop-th
//  on, extras taken from the add-th on; *tries counts updates.
static int
s_swap (const s_cmaes_t *self, const hpo_history_t *history, uint64_t *set,
        const uint64_t *extras, size_t n_extras, size_t swaps, size_t drop,
        size_t add, uint64_t next, size_t *tries)
{
    if (swaps == 0)
        return ++*tries <= s_budget (self) && s_try (self, history, set, next);
    for (size_t i = drop; i < self->lambda; i++)
        for (size_t j = add; j < n_extras; j++) {
            size_t at = self->lambda - 1 - i;
            uint64_t was = set[at];
            set[at] = extras[j];
            if (s_swap (self, history, set, extras, n_extras, swaps - 1, i + 1,
                        j + 1, next, tries))
                return 1;
            set[at] = was;
            if (*tries > s_budget (self))
                return 0;
        }
    return 0;
}

//  Whether trial number's result is already kept.
static int
s_kept (const s_cmaes_t *self, uint64_t number)
{
    for (size_t k = 0; k < self->told; k++)
        if (self->kept[k].number == number)
            return 1;
    return 0;
}

//  The current generation has lambda results, the last one trial last,
//  which this instance did not draw: if later COMPLETE trials of the
//  generation are in the history, keeps the set that explains the next
//  generation's first trial (see above), else what it has.
static void
s_choose (s_cmaes_t *self, const hpo_history_t *history, uint64_t last)
{
    uint64_t extras[S_MAX_EXTRAS], next = UINT64_MAX;
    size_t n_extras = 0;
    for (uint64_t t = last + 1; t < history->n; t++) {
        if (!s_matches (self, &self->dist, history, t)) {
            next = t;
            break;
        }
        if (history->states[t] == HPO_TRIAL_COMPLETE &&
            isfinite (history->values[t]) && !s_kept (self, t) &&
            n_extras < S_MAX_EXTRAS)
            extras[n_extras++] = t;
    }
    if (!n_extras || next == UINT64_MAX)
        return;
    uint64_t set[S_MAX_LAMBDA];
    for (size_t k = 0; k < self->lambda; k++)
        set[k] = self->kept[k].number;
    size_t tries = 0;
    int found = 0;
    for (size_t swaps = 0; !found && swaps <= self->lambda && swaps <= n_extras;
         swaps++)
        found = s_swap (self, history, set, extras, n_extras, swaps, 0, 0, next,
                        &tries);
    self->tries_left -= tries < self->tries_left ? tries : self->tries_left;
    if (found) {
        self->told = 0;
        for (size_t k = 0; k < self->lambda; k++)
            s_keep (self, history, set[k]);
        return;
    }
    //  Not found, or no tries left: the replay has left what happened
    //  (or cannot afford to follow it), and will search no more.
    self->lost = 1;
}

static void
s_tell (void *self_, const hpo_history_t *history, uint64_t number)
{
    s_cmaes_t *self = self_;
    assert (number < history->n);
    if (!self->n || history->states[number] != HPO_TRIAL_COMPLETE)
        return;
    if (!isfinite (history->values[number]) ||
        !s_member (self, history, number))
        return;
    s_keep (self, history, number);
    if (self->told < self->lambda)
        return;
    if (!self->lost && s_drawn (self, number) & S_RECOGNIZED)
        s_choose (self, history, number);
    s_generation_end (self);
}

//  A trial that was running when the coordinator stopped is found its
//  generation now, while the replay is at it, for when it ends.
static void
s_pending (void *self_, const hpo_history_t *history, uint64_t number)
{
    s_cmaes_t *self = self_;
    assert (number < history->n);
    if (!self->n || number < self->config.n_startup || s_drawn (self, number))
        return;
    uint64_t mark = s_recognize (self, history, number);
    if (mark)
        s_mark (self, number, mark);
}

void
hpo_cmaes_state (const void *self_, hpo_cmaes_state_t *state)
{
    const s_cmaes_t *self = self_;
    *state = (hpo_cmaes_state_t){
        .dims = self->n,
        .popsize = self->lambda,
        .generation = self->epoch,
        .restarts = self->restarts,
        .sigma = self->n ? self->dist.sigma : 0,
        .told = self->told,
    };
}

const hpo_sampler_ops_t hpo_sampler_cmaes = {
    .name = "cmaes",
    .summary = "CMA-ES with IPOP restarts over float and int ranges",
    .keys = s_keys,
    .needs_curves = 0,
    .check = s_check,
    .config_free = s_config_free,
    .size = s_size,
    .new = s_new,
    .destroy = s_destroy,
    .suggest = s_suggest,
    .tell = s_tell,
    .pending = s_pending,
};
