/*  test_qmc.c: the qmc sampler (search/qmc.c) keeps every parameter in
    its bounds, steps, scale, list and condition, keeps the caller's fixed
    values, is reproducible from (seed, trial), and its first 2^m points
    are a net: in 2-d, each cell of a 2^(m/2) x 2^(m/2) grid holds one.  */
#include <assert.h>
#include <stdint.h>

#include "common/spec.h"
#include "search/cube.h"
#include "search/sampler.h"
#include "searchtest.h"
#include "testutil.h"

//  Trial number's parameters from instance self.
static void
s_draw (const hpo_spec_t *spec, void *self, uint64_t number,
        const uint8_t *fixed, hpo_value_t *out)
{
    hpo_history_t history = {.n_params = spec->n_params};
    CHECK (spec->sampler.ops->suggest (self, spec, &history, number, fixed,
                                       out) == 0);
}

//  Every value of 512 trials is in its parameter's range, on its step,
//  in its list; a categorical's values come equally often; a log range
//  puts half its points below the geometric mean.
static void
s_test_bounds (void)
{
    hpo_spec_t *spec =
        t_spec_ok ("{type: qmc, seed: 3}",
                   "  x: {type: float, low: -2, high: 3}\n"
                   "  lr: {type: float, low: 1.0e-5, high: 1.0e-1, log: true}\n"
                   "  q: {type: float, low: 0, high: 1, step: 0.25}\n"
                   "  n: {type: int, low: -3, high: 4}\n"
                   "  w: {type: int, low: 1, high: 1000, log: true}\n"
                   "  s: {type: int, low: 0, high: 20, step: 5}\n"
                   "  c: {type: categorical, values: [a, b, 7, 2.5]}\n");
    if (!spec)
        return;
    CHECK (spec->sampler.ops == hpo_sampler_find ("qmc"));
    CHECK (spec->sampler.ops->size (spec, spec->sampler.config) == UINT64_MAX);
    void *self = spec->sampler.ops->new (spec, spec->sampler.config);
    int ok = 1, counts[4] = {0}, ints[8] = {0}, below = 0, wlow = 0;
    for (uint64_t t = 0; t < 512; t++) {
        hpo_value_t v[7];
        s_draw (spec, self, t, NULL, v);
        ok &= v[0].kind == HPO_KIND_FLOAT && v[0].f >= -2 && v[0].f <= 3;
        ok &= v[1].kind == HPO_KIND_FLOAT && v[1].f >= 1e-5 && v[1].f <= 0.1;
        below += v[1].f < 1e-3;
        ok &= v[2].kind == HPO_KIND_FLOAT && v[2].f * 4 == round (v[2].f * 4);
        ok &= v[2].f >= 0 && v[2].f <= 1;
        ok &= v[3].kind == HPO_KIND_INT && v[3].i >= -3 && v[3].i <= 4;
        if (v[3].i >= -3 && v[3].i <= 4)
            ints[v[3].i + 3]++;
        ok &= v[4].kind == HPO_KIND_INT && v[4].i >= 1 && v[4].i <= 1000;
        wlow += v[4].i <= 31;
        ok &= v[5].kind == HPO_KIND_INT && v[5].i % 5 == 0;
        ok &= v[5].i >= 0 && v[5].i <= 20;
        for (size_t k = 0; k < 4; k++)
            counts[k] += t_same (&v[6], &spec->params[6].values[k]);
        hpo_values_clear (v, 7);
    }
    CHECK (ok);
    //  One-dimensional projections of a net are stratified: exact shares.
    for (size_t k = 0; k < 4; k++)
        CHECK (counts[k] == 128);
    for (size_t k = 0; k < 8; k++)
        CHECK (ints[k] == 64);
    CHECK (below == 256);
    CHECK (wlow > 200 && wlow < 312);
    spec->sampler.ops->destroy (self);
    hpo_spec_destroy (&spec);
}

//  The cells of a side x side grid that the first side^2 trials' (x, y)
//  fall in, each counted.
static int
s_cells_once (const hpo_spec_t *spec, void *self, int side)
{
    int cells[64 * 64] = {0}, once = 1;
    assert (side <= 64);
    for (uint64_t t = 0; t < (uint64_t)(side * side); t++) {
        hpo_value_t v[2];
        s_draw (spec, self, t, NULL, v);
        int i = (int)floor (v[0].f * side), j = (int)floor (v[1].f * side);
        if (i >= 0 && i < side && j >= 0 && j < side)
            cells[i * side + j]++;
    }
    for (int c = 0; c < side * side; c++)
        once &= cells[c] == 1;
    return once;
}

//  The first 2^m points are a (0, m, 2)-net whatever the seed; random
//  search leaves cells empty.
static void
s_test_net (void)
{
    const char *space = "  x: {type: float, low: 0, high: 1}\n"
                        "  y: {type: float, low: 0, high: 1}\n";
    for (int seed = 0; seed < 4; seed++) {
        char sampler[64];
        snprintf (sampler, sizeof sampler, "{type: qmc, seed: %d}", seed);
        hpo_spec_t *spec = t_spec_ok (sampler, space);
        if (!spec)
            return;
        void *self = spec->sampler.ops->new (spec, spec->sampler.config);
        CHECK (s_cells_once (spec, self, 16));
        CHECK (s_cells_once (spec, self, 32));
        spec->sampler.ops->destroy (self);
        hpo_spec_destroy (&spec);
    }
    hpo_spec_t *random = t_spec_ok ("{type: random, seed: 1}", space);
    if (!random)
        return;
    void *self = random->sampler.ops->new (random, random->sampler.config);
    CHECK (!s_cells_once (random, self, 16));
    random->sampler.ops->destroy (self);
    hpo_spec_destroy (&random);
}

//  Two instances agree on every trial, in any order; seeds differ; no
//  seed is seed 0.
static void
s_test_seeds (void)
{
    const char *space = "  x: {type: float, low: 0, high: 1}\n"
                        "  c: {type: categorical, values: [a, b, c]}\n";
    hpo_spec_t *a = t_spec_ok ("{type: qmc, seed: 11}", space);
    hpo_spec_t *b = t_spec_ok ("{type: qmc, seed: 12}", space);
    hpo_spec_t *zero = t_spec_ok ("{type: qmc, seed: 0}", space);
    hpo_spec_t *plain = t_spec_ok ("{type: qmc}", space);
    if (!a || !b || !zero || !plain)
        return;
    const hpo_sampler_ops_t *ops = a->sampler.ops;
    void *one = ops->new (a, a->sampler.config);
    void *two = ops->new (a, a->sampler.config);
    void *other = ops->new (b, b->sampler.config);
    void *z = ops->new (zero, zero->sampler.config);
    void *p = ops->new (plain, plain->sampler.config);
    int same = 1, differ = 0, plain_same = 1;
    for (uint64_t t = 0; t < 40; t++) {
        hpo_value_t x[2], y[2], w[2];
        s_draw (a, one, t, NULL, x);
        s_draw (a, two, 39 - t, NULL, y); //  backwards: replayed
        hpo_values_clear (y, 2);
        s_draw (a, two, t, NULL, y);
        s_draw (b, other, t, NULL, w);
        same &= t_same (&x[0], &y[0]) && t_same (&x[1], &y[1]);
        differ += fabs (x[0].f - w[0].f) > 1e-6; //  not just low digits
        hpo_values_clear (x, 2);
        hpo_values_clear (y, 2);
        hpo_values_clear (w, 2);
        s_draw (zero, z, t, NULL, x);
        s_draw (plain, p, t, NULL, y);
        plain_same &= t_same (&x[0], &y[0]) && t_same (&x[1], &y[1]);
        hpo_values_clear (x, 2);
        hpo_values_clear (y, 2);
    }
    CHECK (same);
    CHECK (differ == 40);
    CHECK (plain_same);
    ops->destroy (one);
    ops->destroy (two);
    ops->destroy (other);
    ops->destroy (z);
    ops->destroy (p);
    hpo_spec_destroy (&a);
    hpo_spec_destroy (&b);
    hpo_spec_destroy (&zero);
    hpo_spec_destroy (&plain);
}

//  A parameter whose condition fails is NONE; one that holds is drawn;
//  the caller's fixed values stay, and the others are what they would
//  have been.
static void
s_test_conditions_fixed (void)
{
    hpo_spec_t *spec =
        t_spec_ok ("{type: qmc, seed: 5}",
                   "  opt: {type: categorical, values: [sgd, adam]}\n"
                   "  momentum: {type: float, low: 0, high: 1}\n"
                   "  lr: {type: float, low: 0.1, high: 1}\n");
    if (!spec)
        return;
    //  when: {opt: sgd}, set by hand until the parser reads it.
    hpo_param_spec_t *m = &spec->params[1];
    m->when_param = 0;
    m->when_values = calloc (1, sizeof *m->when_values);
    m->when_values[0] =
        (hpo_value_t){.kind = HPO_KIND_STR, .s = strdup ("sgd")};
    m->n_when_values = 1;
    void *self = spec->sampler.ops->new (spec, spec->sampler.config);
    int ok = 1, sgd = 0;
    for (uint64_t t = 0; t < 64; t++) {
        hpo_value_t v[3];
        s_draw (spec, self, t, NULL, v);
        int is_sgd = !strcmp (v[0].s, "sgd");
        sgd += is_sgd;
        ok &= is_sgd ? v[1].kind == HPO_KIND_FLOAT && v[1].f >= 0 && v[1].f <= 1
                     : v[1].kind == HPO_KIND_NONE;
        ok &= v[2].kind == HPO_KIND_FLOAT;
        //  Fixing opt to adam removes momentum and keeps lr.
        hpo_value_t w[3] = {{.kind = HPO_KIND_STR, .s = strdup ("adam")}};
        uint8_t fixed[3] = {1, 0, 0};
        s_draw (spec, self, t, fixed, w);
        ok &= !strcmp (w[0].s, "adam") && w[1].kind == HPO_KIND_NONE;
        ok &= t_same (&w[2], &v[2]);
        hpo_values_clear (w, 3);
        hpo_values_clear (v, 3);
    }
    CHECK (ok);
    CHECK (sgd == 32);
    spec->sampler.ops->destroy (self);
    hpo_spec_destroy (&spec);
}

//  More parameters than GSL's Sobol table has dimensions are refused at
//  check, with a message that says so.
static void
s_test_too_many (void)
{
    char space[4096] = "";
    for (int k = 0; k < 41; k++) {
        char line[64];
        snprintf (line, sizeof line, "  p%d: {type: float, low: 0, high: 1}\n",
                  k);
        strcat (space, line);
    }
    char *error = NULL;
    hpo_spec_t *spec = t_spec ("{type: qmc}", space, &error);
    CHECK (spec == NULL);
    CHECK_CONTAINS (error, "at most 40 parameters");
    free (error);
    hpo_spec_destroy (&spec);
    //  40 are fine.
    strstr (space, "  p40:")[0] = 0;
    spec = t_spec_ok ("{type: qmc}", space);
    hpo_spec_destroy (&spec);
}

//  cube.h's two directions agree: the point of a value gives it back.
static void
s_test_cube (void)
{
    hpo_spec_t *spec = t_spec_ok (
        "{type: qmc}", "  x: {type: float, low: -2, high: 3}\n"
                       "  lr: {type: float, low: 1.0e-5, high: 1, log: true}\n"
                       "  q: {type: float, low: 0, high: 1, step: 0.1}\n"
                       "  w: {type: int, low: 1, high: 1000, log: true}\n"
                       "  s: {type: int, low: 0, high: 20, step: 5}\n"
                       "  c: {type: categorical, values: [a, b, 7]}\n");
    if (!spec)
        return;
    int ok = 1;
    for (size_t k = 0; k < spec->n_params; k++)
        for (int i = 0; i <= 100; i++) {
            hpo_value_t v, w;
            hpo_cube_value (&spec->params[k], i / 100.0, &v);
            double u = hpo_cube_point (&spec->params[k], &v);
            hpo_cube_value (&spec->params[k], u, &w);
            ok &= u >= 0 && u <= 1 && t_same (&v, &w);
            if (spec->params[k].type == HPO_PARAM_FLOAT &&
                !spec->params[k].has_step)
                ok &= fabs (u - i / 100.0) < 1e-9;
            hpo_values_clear (&v, 1);
            hpo_values_clear (&w, 1);
        }
    CHECK (ok);
    hpo_value_t str = {.kind = HPO_KIND_STR, .s = "zzz"};
    CHECK (hpo_cube_point (&spec->params[5], &str) == 0.5);
    hpo_value_t big = {.kind = HPO_KIND_FLOAT, .f = 99};
    CHECK (hpo_cube_point (&spec->params[0], &big) == 1);
    hpo_spec_destroy (&spec);
}

int
main (void)
{
    s_test_bounds ();
    s_test_net ();
    s_test_seeds ();
    s_test_conditions_fixed ();
    s_test_too_many ();
    s_test_cube ();
    TEST_DONE ();
}
