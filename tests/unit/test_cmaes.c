/*  test_cmaes.c: the cmaes sampler (search/cmaes.c) keeps every
    parameter in its bounds, steps, scale, list and condition and the
    caller's fixed values; is reproducible from its seed and the order of
    results; converges on a sphere and a shifted ellipsoid, also when
    results come back out of order; drops failed trials and late
    results; restarts (IPOP) with a larger population when it converges;
    and a new instance told the history in number order (a coordinator
    restart) carries on where the old one was.                           */
#include <assert.h>
#include <inttypes.h>
#include <stdint.h>

#include "common/rng.h"
#include "common/spec.h"
#include "search/cmaes.h"
#include "search/sampler.h"
#include "searchtest.h"
#include "testutil.h"

#define S_MAX 16 //  parameters in a test space

//  "x0: {type: float, low: LOW, high: HIGH}" for n parameters.
static char *
s_floats (size_t n, double low, double high)
{
    char *space = calloc (1, 64 * n + 1);
    for (size_t k = 0; k < n; k++)
        sprintf (space + strlen (space),
                 "  x%zu: {type: float, low: %g, high: %g}\n", k, low, high);
    return space;
}

typedef double s_fn_t (const hpo_value_t *row, size_t n);

static double
s_sphere (const hpo_value_t *row, size_t n)
{
    double s = 0;
    for (size_t k = 0; k < n; k++)
        s += (row[k].f - 0.3) * (row[k].f - 0.3);
    return s;
}

//  Axis ratios up to 100 (condition 10^4), centred off the box's middle.
static double
s_ellipsoid (const hpo_value_t *row, size_t n)
{
    double s = 0;
    for (size_t k = 0; k < n; k++) {
        double c = 0.1 * (double)k - 0.25;
        s += pow (1e4, (double)k / (double)(n - 1)) * (row[k].f - c) *
             (row[k].f - c);
    }
    return s;
}

static double
s_flat (const hpo_value_t *row, size_t n)
{
    return 1;
}

//  A study driven by hand: its spec, sampler instance and history, with
//  up to `parallel` trials running, finished oldest first or in an order
//  drawn from order_seed (0: oldest first).
typedef struct {
    hpo_spec_t *spec;
    void *self;
    hpo_history_t *history;
    uint64_t running[64];
    size_t n_running;
    hpo_rng_t order;
    int shuffle;
    double best;
} s_study_t;

static void
s_study_init (s_study_t *s, hpo_spec_t *spec, uint64_t order_seed)
{
    *s = (s_study_t){.spec = spec, .best = INFINITY};
    s->self = spec->sampler.ops->new (spec, spec->sampler.config);
    s->history = hpo_history_new (spec->n_params);
    s->shuffle = order_seed != 0;
    hpo_rng_seed (&s->order, order_seed, 0);
}

static void
s_study_fini (s_study_t *s)
{
    s->spec->sampler.ops->destroy (s->self);
    hpo_history_destroy (&s->history);
}

//  Creates the next trial and starts it.
static uint64_t
s_start (s_study_t *s)
{
    hpo_value_t row[S_MAX];
    uint64_t number = s->history->n;
    CHECK (s->spec->sampler.ops->suggest (s->self, s->spec, s->history, number,
                                          NULL, row) == 0);
    CHECK (hpo_history_append (s->history, row) == number);
    hpo_values_clear (row, s->spec->n_params);
    hpo_history_set_state (s->history, number, HPO_TRIAL_RUNNING);
    assert (s->n_running < 64);
    s->running[s->n_running++] = number;
    return number;
}

//  Finishes one running trial with state and f's value, and tells.
static void
s_finish (s_study_t *s, s_fn_t *f, hpo_trial_state_t state)
{
    size_t k = s->shuffle ? hpo_rng_below (&s->order, s->n_running) : 0;
    uint64_t number = s->running[k];
    memmove (&s->running[k], &s->running[k + 1],
             (s->n_running - k - 1) * sizeof s->running[0]);
    s->n_running--;
    double value =
        f (hpo_history_params (s->history, number), s->spec->n_params);
    if (state == HPO_TRIAL_COMPLETE) {
        hpo_history_set_value (s->history, number, value);
        s->best = fmin (s->best, value);
    }
    hpo_history_set_state (s->history, number, state);
    s->spec->sampler.ops->tell (s->self, s->history, number);
}

//  Runs trials until `trials` exist, `parallel` at a time; the rest stay
//  running. Returns the best value.
static double
s_run (s_study_t *s, s_fn_t *f, size_t trials, size_t parallel)
{
    while (s->history->n < trials) {
        while (s->n_running < parallel && s->history->n < trials)
            s_start (s);
        if (s->history->n < trials)
            s_finish (s, f, HPO_TRIAL_COMPLETE);
    }
    return s->best;
}

static hpo_cmaes_state_t
s_state (const s_study_t *s)
{
    hpo_cmaes_state_t state;
    hpo_cmaes_state (s->self, &state);
    return state;
}

//  The 5-d sphere to 1e-6 within 600 trials, one at a time; with 12 at
//  a time finished in random order, within 1200.
static void
s_test_sphere (void)
{
    char *space = s_floats (5, -1, 1);
    hpo_spec_t *spec = t_spec_ok ("{type: cmaes, seed: 1}", space);
    free (space);
    if (!spec)
        return;
    s_study_t s;
    s_study_init (&s, spec, 0);
    double best = s_run (&s, s_sphere, 600, 1);
    printf ("sphere 5-d, 600 trials in order: best %.3g, %" PRIu64
            " generations\n",
            best, s_state (&s).generation);
    CHECK (best < 1e-6);
    CHECK (s_state (&s).popsize == 8); //  4 + floor (3 ln 5)
    s_study_fini (&s);
    s_study_init (&s, spec, 77);
    best = s_run (&s, s_sphere, 1200, 12);
    printf ("sphere 5-d, 1200 trials, 12 at a time, any order: best %.3g\n",
            best);
    CHECK (best < 1e-6);
    s_study_fini (&s);
    hpo_spec_destroy (&spec);
}

static void
s_test_ellipsoid (void)
{
    char *space = s_floats (5, -1, 1);
    hpo_spec_t *spec = t_spec_ok ("{type: cmaes, seed: 2}", space);
    free (space);
    if (!spec)
        return;
    s_study_t s;
    s_study_init (&s, spec, 0);
    double best = s_run (&s, s_ellipsoid, 1200, 1);
    printf ("shifted ellipsoid 5-d, 1200 trials: best %.3g\n", best);
    CHECK (best < 1e-6);
    s_study_fini (&s);
    hpo_spec_destroy (&spec);
}

//  Rosenbrock's valley in [-2, 2]^5 needs the evolution path (the rank-one
//  update) to follow its bend: the median best of five seeds after 1500
//  trials is below 1e-3 with it, near 0.1 without.
static double
s_rosenbrock (const hpo_value_t *row, size_t n)
{
    double s = 0;
    for (size_t k = 0; k + 1 < n; k++)
        s += 100 * pow (row[k + 1].f - row[k].f * row[k].f, 2) +
             pow (1 - row[k].f, 2);
    return s;
}

static int
s_by_double (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void
s_test_rosenbrock (void)
{
    char *space = s_floats (5, -2, 2);
    double best[5];
    for (int seed = 0; seed < 5; seed++) {
        char sampler[64];
        snprintf (sampler, sizeof sampler,
                  "{type: cmaes, seed: %d, restart: none}", seed);
        hpo_spec_t *spec = t_spec_ok (sampler, space);
        if (!spec)
            break;
        s_study_t s;
        s_study_init (&s, spec, 0);
        best[seed] = s_run (&s, s_rosenbrock, 1500, 1);
        s_study_fini (&s);
        hpo_spec_destroy (&spec);
    }
    free (space);
    qsort (best, 5, sizeof best[0], s_by_double);
    printf ("rosenbrock 5-d, 1500 trials: median best %.3g\n", best[2]);
    CHECK (best[2] < 1e-3);
}

//  Maximizing -sphere is minimizing the sphere.
static double
s_negative (const hpo_value_t *row, size_t n)
{
    return -s_sphere (row, n);
}

static void
s_test_maximize (void)
{
    char *space = s_floats (3, -1, 1);
    char text[1024];
    snprintf (text, sizeof text, "%s", space);
    free (space);
    char *error = NULL;
    char study[2048];
    snprintf (study, sizeof study,
              "name: s\ncommand: ./run\n"
              "objective: {metric: acc, direction: maximize}\n"
              "sampler: {type: cmaes}\nbudget: {trials: 400}\nspace:\n%s",
              text);
    hpo_spec_t *spec = hpo_spec_parse (study, strlen (study), "s.yaml", &error);
    CHECK (spec != NULL);
    free (error);
    if (!spec)
        return;
    s_study_t s;
    s_study_init (&s, spec, 0);
    s_run (&s, s_negative, 400, 1);
    double best = -INFINITY;
    for (size_t k = 0; k < s.history->n; k++)
        if (s.history->states[k] == HPO_TRIAL_COMPLETE)
            best = fmax (best, s.history->values[k]);
    CHECK (best > -1e-6);
    s_study_fini (&s);
    hpo_spec_destroy (&spec);
}

static int
s_rows_same (const s_study_t *a, const s_study_t *b, size_t from)
{
    if (a->history->n != b->history->n)
        return 0;
    size_t n = a->spec->n_params;
    for (size_t t = from; t < a->history->n; t++)
        for (size_t k = 0; k < n; k++)
            if (!t_same (&hpo_history_params (a->history, t)[k],
                         &hpo_history_params (b->history, t)[k]))
                return 0;
    return 1;
}

//  The same seed and order of results give the same trials; another
//  seed other ones.
static void
s_test_determinism (void)
{
    char *space = s_floats (4, -2, 2);
    hpo_spec_t *spec = t_spec_ok ("{type: cmaes, seed: 9}", space);
    hpo_spec_t *other = t_spec_ok ("{type: cmaes, seed: 10}", space);
    free (space);
    if (!spec || !other)
        return;
    s_study_t a, b, c;
    s_study_init (&a, spec, 5);
    s_study_init (&b, spec, 5);
    s_study_init (&c, other, 5);
    s_run (&a, s_sphere, 300, 6);
    s_run (&b, s_sphere, 300, 6);
    s_run (&c, s_sphere, 300, 6);
    CHECK (s_rows_same (&a, &b, 0));
    CHECK (!s_rows_same (&a, &c, 0));
    CHECK (s_state (&a).generation == s_state (&b).generation);
    CHECK (s_state (&a).generation > 20);
    s_study_fini (&a);
    s_study_fini (&b);
    s_study_fini (&c);
    hpo_spec_destroy (&spec);
    hpo_spec_destroy (&other);
}

//  Every kind of parameter stays what its spec says: bounds, log, steps,
//  ints, lists, conditions; the caller's fixed values are kept.
static double
s_mixed (const hpo_value_t *row, size_t n)
{
    //  x, lr, q, i, w, s: pull towards a corner inside.
    double f = (row[0].f - 0.7) * (row[0].f - 0.7);
    f += pow (log10 (row[1].f) + 3, 2);
    f += pow (row[2].f - 0.5, 2) + pow ((double)row[3].i - 3, 2);
    f += pow (log10 ((double)row[4].i) - 1, 2) + pow ((double)row[5].i, 2);
    return f + (!strcmp (row[6].s, "b") ? 0 : 1);
}

static int
s_row_ok (const hpo_value_t *v)
{
    int ok = v[0].kind == HPO_KIND_FLOAT && v[0].f >= -2 && v[0].f <= 3;
    ok &= v[1].kind == HPO_KIND_FLOAT && v[1].f >= 1e-5 && v[1].f <= 0.1;
    ok &= v[2].kind == HPO_KIND_FLOAT && v[2].f * 4 == round (v[2].f * 4);
    ok &= v[2].f >= 0 && v[2].f <= 1;
    ok &= v[3].kind == HPO_KIND_INT && v[3].i >= -3 && v[3].i <= 4;
    ok &= v[4].kind == HPO_KIND_INT && v[4].i >= 1 && v[4].i <= 1000;
    ok &= v[5].kind == HPO_KIND_INT && v[5].i % 5 == 0;
    ok &= v[5].i >= -20 && v[5].i <= 20;
    ok &= v[6].kind == HPO_KIND_STR;
    int sgd = v[6].kind == HPO_KIND_STR && !strcmp (v[6].s, "sgd");
    ok &= sgd ? v[7].kind == HPO_KIND_FLOAT && v[7].f >= 0 && v[7].f <= 0.9
              : v[7].kind == HPO_KIND_NONE;
    return ok;
}

static void
s_test_kinds (void)
{
    hpo_spec_t *spec =
        t_spec_ok ("{type: cmaes, seed: 4}",
                   "  x: {type: float, low: -2, high: 3}\n"
                   "  lr: {type: float, low: 1.0e-5, high: 1.0e-1, log: true}\n"
                   "  q: {type: float, low: 0, high: 1, step: 0.25}\n"
                   "  n: {type: int, low: -3, high: 4}\n"
                   "  w: {type: int, low: 1, high: 1000, log: true}\n"
                   "  s: {type: int, low: -20, high: 20, step: 5}\n"
                   "  c: {type: categorical, values: [a, b, sgd]}\n"
                   "  momentum: {type: float, low: 0, high: 0.9}\n");
    if (!spec)
        return;
    //  when: {c: sgd}, set by hand until the parser reads it.
    hpo_param_spec_t *m = &spec->params[7];
    m->when_param = 6;
    m->when_values = calloc (1, sizeof *m->when_values);
    m->when_values[0] =
        (hpo_value_t){.kind = HPO_KIND_STR, .s = strdup ("sgd")};
    m->n_when_values = 1;
    s_study_t s;
    s_study_init (&s, spec, 3);
    s_run (&s, s_mixed, 600, 4);
    CHECK (s_state (&s).dims == 6); //  c and momentum are drawn uniformly
    int ok = 1, sgd = 0, last_ok = 1;
    for (size_t t = 0; t < s.history->n; t++) {
        const hpo_value_t *v = hpo_history_params (s.history, t);
        ok &= s_row_ok (v);
        sgd += !strcmp (v[6].s, "sgd");
        if (t >= 500)
            last_ok &= v[3].i == 3 && v[5].i == 0;
    }
    CHECK (ok);
    CHECK (sgd > 150 && sgd < 250);
    CHECK (last_ok); //  the int optimum found and kept
    printf ("mixed space, 600 trials: best %.3g\n", s.best);
    //  Fixed values stay; the others are what they would have been.
    uint8_t fixed[S_MAX] = {0, 1, 0, 0, 0, 0, 1};
    for (uint64_t t = 600; t < 640; t++) {
        hpo_value_t v[S_MAX], w[S_MAX] = {{0}};
        CHECK (spec->sampler.ops->suggest (s.self, spec, s.history, t, NULL,
                                           v) == 0);
        w[1] = (hpo_value_t){.kind = HPO_KIND_FLOAT, .f = 0.5};
        w[6] = (hpo_value_t){.kind = HPO_KIND_STR, .s = strdup ("a")};
        CHECK (spec->sampler.ops->suggest (s.self, spec, s.history, t, fixed,
                                           w) == 0);
        ok &= w[1].f == 0.5 && !strcmp (w[6].s, "a");
        ok &= w[7].kind == HPO_KIND_NONE && t_same (&v[0], &w[0]);
        ok &= t_same (&v[3], &w[3]);
        hpo_values_clear (v, spec->n_params);
        hpo_values_clear (w, spec->n_params);
    }
    CHECK (ok);
    s_study_fini (&s);
    hpo_spec_destroy (&spec);
}

//  FAILED and PRUNED trials are dropped; a result of a generation that
//  ended is ignored; asks beyond lambda draw from the same generation.
static void
s_test_dropped_and_late (void)
{
    char *space = s_floats (2, 0, 1);
    hpo_spec_t *spec = t_spec_ok ("{type: cmaes, popsize: 4}", space);
    free (space);
    if (!spec)
        return;
    s_study_t s;
    s_study_init (&s, spec, 0);
    for (int k = 0; k < 7; k++)
        s_start (&s);
    s_finish (&s, s_sphere, HPO_TRIAL_FAILED);
    s_finish (&s, s_sphere, HPO_TRIAL_PRUNED);
    CHECK (s_state (&s).told == 0);
    s_finish (&s, s_sphere, HPO_TRIAL_COMPLETE);
    s_finish (&s, s_sphere, HPO_TRIAL_COMPLETE);
    s_finish (&s, s_sphere, HPO_TRIAL_COMPLETE);
    CHECK (s_state (&s).told == 3 && s_state (&s).generation == 0);
    s_finish (&s, s_sphere, HPO_TRIAL_COMPLETE);
    CHECK (s_state (&s).told == 0 && s_state (&s).generation == 1);
    //  Trial 6, drawn from generation 0, comes back late.
    s_finish (&s, s_sphere, HPO_TRIAL_COMPLETE);
    CHECK (s_state (&s).told == 0);
    s_start (&s);
    s_finish (&s, s_sphere, HPO_TRIAL_COMPLETE);
    CHECK (s_state (&s).told == 1);
    s_study_fini (&s);
    hpo_spec_destroy (&spec);
}

//  A flat function converges at once (tolfun): IPOP restarts with twice
//  the population; restart: none carries on.
static void
s_test_restart (void)
{
    char *space = s_floats (2, 0, 1);
    hpo_spec_t *ipop = t_spec_ok ("{type: cmaes}", space);
    hpo_spec_t *none = t_spec_ok ("{type: cmaes, restart: none}", space);
    hpo_spec_t *three =
        t_spec_ok ("{type: cmaes, popsize: 5, inc_popsize: 3}", space);
    free (space);
    if (!ipop || !none || !three)
        return;
    s_study_t s;
    s_study_init (&s, ipop, 0);
    s_run (&s, s_flat, 300, 1);
    hpo_cmaes_state_t state = s_state (&s);
    printf ("flat 2-d, 300 trials: %" PRIu64 " restarts, popsize %zu\n",
            state.restarts, state.popsize);
    CHECK (state.restarts == 1 && state.popsize == 12);
    s_study_fini (&s);
    s_study_init (&s, none, 0);
    s_run (&s, s_flat, 300, 1);
    CHECK (s_state (&s).restarts == 0 && s_state (&s).popsize == 6);
    s_study_fini (&s);
    s_study_init (&s, three, 0);
    s_run (&s, s_flat, 300, 1);
    CHECK (s_state (&s).restarts >= 1 && s_state (&s).popsize == 15);
    s_study_fini (&s);
    hpo_spec_destroy (&ipop);
    hpo_spec_destroy (&none);
    hpo_spec_destroy (&three);
}

//  A new instance told every finished trial in number order, as the
//  coordinator does at start-up, is the old instance again: the same
//  state, the same next trials, with results in number order (and asks
//  beyond lambda) or out of order with a few more running than lambda.
//  With many more, it is a sane CMA-ES that carries on converging.
static void
s_replay (s_study_t *live, s_study_t *copy)
{
    s_study_init (copy, live->spec, 0);
    hpo_history_destroy (&copy->history);
    copy->history = hpo_history_new (live->spec->n_params);
    for (size_t t = 0; t < live->history->n; t++) {
        hpo_history_append (copy->history,
                            hpo_history_params (live->history, t));
        hpo_history_set_value (copy->history, t, live->history->values[t]);
        hpo_history_set_state (copy->history, t, live->history->states[t]);
    }
    const hpo_sampler_ops_t *ops = live->spec->sampler.ops;
    for (size_t t = 0; t < live->history->n; t++)
        if (live->history->states[t] >= HPO_TRIAL_COMPLETE)
            ops->tell (copy->self, copy->history, t);
        else if (live->history->states[t] == HPO_TRIAL_RUNNING)
            ops->pending (copy->self, copy->history, t);
    memcpy (copy->running, live->running, sizeof live->running);
    copy->n_running = live->n_running;
    copy->shuffle = live->shuffle;
    copy->order = live->order;
    copy->best = live->best;
}

static void
s_test_replay (void)
{
    char *space = s_floats (3, -1, 1);
    hpo_spec_t *spec = t_spec_ok ("{type: cmaes, seed: 6}", space);
    free (space);
    if (!spec)
        return;
    s_study_t live, copy;
    s_study_init (&live, spec, 0);
    s_run (&live, s_sphere, 150, 9); //  lambda 7: two extra asks
    s_replay (&live, &copy);
    hpo_cmaes_state_t a = s_state (&live), b = s_state (&copy);
    //  Oldest first with 9 running and lambda 7: the 8 running at an
    //  update come back late, so a generation costs 15 trials.
    CHECK (a.generation == b.generation && a.generation >= 9);
    CHECK (a.told == b.told && a.sigma == b.sigma);
    s_run (&live, s_sphere, 300, 9);
    s_run (&copy, s_sphere, 300, 9);
    CHECK (s_rows_same (&live, &copy, 150));
    s_study_fini (&live);
    s_study_fini (&copy);
    //  Out of order, 12 at a time: the replay finds which 7 results each
    //  generation kept, though it sees them in number order.
    s_study_init (&live, spec, 31);
    s_run (&live, s_sphere, 200, 12);
    s_replay (&live, &copy);
    a = s_state (&live), b = s_state (&copy);
    CHECK (a.generation == b.generation && a.sigma == b.sigma);
    s_run (&live, s_sphere, 300, 12);
    s_run (&copy, s_sphere, 300, 12);
    CHECK (s_rows_same (&live, &copy, 200));
    s_study_fini (&live);
    s_study_fini (&copy);
    //  Long enough to converge and restart: the draws of a converged run
    //  differ in their last digits only, and must still tell the sets
    //  apart.
    s_study_init (&live, spec, 32);
    s_run (&live, s_sphere, 2500, 6);
    s_replay (&live, &copy);
    a = s_state (&live), b = s_state (&copy);
    printf ("replay of 2500 trials, 6 at a time: %" PRIu64
            " generations, live %" PRIu64 ", %" PRIu64 " restarts\n",
            b.generation, a.generation, a.restarts);
    CHECK (a.generation == b.generation && a.restarts >= 1);
    s_run (&live, s_sphere, 2600, 6);
    s_run (&copy, s_sphere, 2600, 6);
    CHECK (s_rows_same (&live, &copy, 2500));
    s_study_fini (&live);
    s_study_fini (&copy);
    //  24 at a time: too many sets to try for the first generation, so
    //  the replay counts the results as they come in number order; it
    //  has more generations, and goes on converging.
    s_study_init (&live, spec, 31);
    s_run (&live, s_sphere, 200, 24);
    s_replay (&live, &copy);
    a = s_state (&live), b = s_state (&copy);
    printf ("replay of 200 trials, 24 at a time: %" PRIu64
            " generations, live %" PRIu64 "\n",
            b.generation, a.generation);
    CHECK (b.generation > a.generation && b.sigma > 0 && b.sigma < 1);
    double best = s_run (&copy, s_sphere, 900, 24);
    CHECK (best < 1e-6);
    s_study_fini (&live);
    s_study_fini (&copy);
    hpo_spec_destroy (&spec);
}

//  n_startup_trials: the first trials are uniform and not told to the
//  model; options out of range are refused.
static void
s_test_options (void)
{
    char *space = s_floats (2, 0, 1);
    hpo_spec_t *spec = t_spec_ok ("{type: cmaes, n_startup_trials: 5, "
                                  "popsize: 4, sigma0: 0.1}",
                                  space);
    if (spec) {
        s_study_t s;
        s_study_init (&s, spec, 0);
        s_run (&s, s_sphere, 9, 1); //  trial 8 still running
        CHECK (s_state (&s).told == 3 && s_state (&s).generation == 0);
        CHECK (s_state (&s).sigma == 0.1);
        s_study_fini (&s);
        hpo_spec_destroy (&spec);
    }
    const char *bad[][2] = {
        {"{type: cmaes, popsize: 1}", "sampler.popsize: must be from 2"},
        {"{type: cmaes, sigma0: -1}", "sampler.sigma0: must be a positive"},
        {"{type: cmaes, sigma0: x}", "sampler.sigma0: must be a positive"},
        {"{type: cmaes, restart: bipop}", "sampler.restart: must be ipop"},
        {"{type: cmaes, inc_popsize: 0}", "sampler.inc_popsize: must be"},
        {"{type: cmaes, seed: -1}", "sampler.seed:"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char *error = NULL;
        hpo_spec_t *no = t_spec (bad[k][0], space, &error);
        CHECK (no == NULL);
        CHECK_CONTAINS (error, bad[k][1]);
        free (error);
        hpo_spec_destroy (&no);
    }
    free (space);
}

//  Corners of the options and spaces: the smallest population, one
//  coordinate, a huge sigma0, a tiny int space that keeps converging (and
//  restarting) all stay in bounds and finite.
static double
s_ints (const hpo_value_t *row, size_t n)
{
    return (double)(row[0].i + row[1].i);
}

static void
s_test_corners (void)
{
    const char *cases[][2] = {
        {"{type: cmaes, popsize: 2}", "  a: {type: float, low: -1, high: 1}\n"
                                      "  b: {type: float, low: -1, high: 1}\n"},
        {"{type: cmaes}", "  a: {type: float, low: -1, high: 1}\n"},
        {"{type: cmaes, sigma0: 10}", "  a: {type: float, low: -1, high: 1}\n"
                                      "  b: {type: float, low: -1, high: 1}\n"},
    };
    for (size_t k = 0; k < 3; k++) {
        hpo_spec_t *spec = t_spec_ok (cases[k][0], cases[k][1]);
        if (!spec)
            return;
        s_study_t s;
        s_study_init (&s, spec, 0);
        double best = s_run (&s, s_sphere, 400, 1);
        int ok = 1;
        for (size_t t = 0; t < s.history->n; t++)
            for (size_t j = 0; j < spec->n_params; j++) {
                double x = hpo_history_params (s.history, t)[j].f;
                ok &= x >= -1 && x <= 1;
            }
        CHECK (ok);
        CHECK (best < 1e-3);
        double sigma = s_state (&s).sigma;
        CHECK (isfinite (sigma) && sigma > 0);
        s_study_fini (&s);
        hpo_spec_destroy (&spec);
    }
    hpo_spec_t *spec = t_spec_ok ("{type: cmaes, inc_popsize: 16}",
                                  "  a: {type: int, low: 0, high: 1}\n"
                                  "  b: {type: int, low: 0, high: 1}\n");
    if (!spec)
        return;
    s_study_t s;
    s_study_init (&s, spec, 0);
    s_run (&s, s_ints, 25000, 3); //  lambda 6, 96, 1536, then 4096
    hpo_cmaes_state_t state = s_state (&s);
    CHECK (state.restarts == 3 && state.popsize == 4096);
    CHECK (s.best == 0);
    s_study_fini (&s);
    hpo_spec_destroy (&spec);
}

//  More than 200 float and int parameters are refused at check;
//  categoricals do not count.
static void
s_test_too_many (void)
{
    char *space = s_floats (201, 0, 1);
    char *error = NULL;
    hpo_spec_t *spec = t_spec ("{type: cmaes}", space, &error);
    CHECK (spec == NULL);
    CHECK_CONTAINS (error, "cmaes models at most 200 float and int");
    free (error);
    strstr (space, "  x200:")[0] = 0;
    strcat (space, "  c: {type: categorical, values: [a, b]}\n");
    spec = t_spec_ok ("{type: cmaes}", space);
    hpo_spec_destroy (&spec);
    free (space);
}

//  A space with nothing to model is drawn uniformly.
static void
s_test_no_coordinates (void)
{
    hpo_spec_t *spec = t_spec_ok ("{type: cmaes}",
                                  "  c: {type: categorical, values: [a, b]}\n");
    if (!spec)
        return;
    s_study_t s;
    s_study_init (&s, spec, 0);
    hpo_history_set_state (s.history, s_start (&s), HPO_TRIAL_COMPLETE);
    spec->sampler.ops->tell (s.self, s.history, 0);
    CHECK (s_state (&s).dims == 0);
    s_study_fini (&s);
    hpo_spec_destroy (&spec);
}

int
main (void)
{
    s_test_sphere ();
    s_test_ellipsoid ();
    s_test_rosenbrock ();
    s_test_maximize ();
    s_test_determinism ();
    s_test_kinds ();
    s_test_dropped_and_late ();
    s_test_restart ();
    s_test_replay ();
    s_test_options ();
    s_test_no_coordinates ();
    s_test_too_many ();
    s_test_corners ();
    TEST_DONE ();
}
