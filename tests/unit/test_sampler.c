/*  test_sampler.c: random search is reproducible and stays in bounds;
    grid search visits every point exactly once and then stops. Both are
    driven through their registry entries (search/sampler.h).            */
#include <stdint.h>

#include "common/spec.h"
#include "search/sampler.h"
#include "testutil.h"

//  Trial number's parameters from a new instance of spec's sampler, with
//  an empty history (random and grid never read it).
static int
s_sample (const hpo_spec_t *spec, uint64_t number, hpo_value_t *out)
{
    const hpo_sampler_ops_t *ops = spec->sampler.ops;
    void *self = ops->new (spec, spec->sampler.config);
    hpo_history_t history = {.n_params = spec->n_params};
    int rc = ops->suggest (self, spec, &history, number, NULL, out);
    ops->destroy (self);
    return rc;
}

static uint64_t
s_size (const hpo_spec_t *spec)
{
    return spec->sampler.ops->size (spec, spec->sampler.config);
}

static hpo_spec_t *
s_spec (const char *sampler, const char *space)
{
    char text[4096];
    snprintf (text, sizeof text,
              "name: s\n"
              "command: ./run\n"
              "objective: {metric: loss}\n"
              "sampler: %s\n"
              "budget: {trials: 100}\n"
              "space:\n%s",
              sampler, space);
    char *error = NULL;
    hpo_spec_t *spec = hpo_spec_parse (text, strlen (text), "s.yaml", &error);
    if (!spec)
        fprintf (stderr, "spec: %s\n", error);
    CHECK (spec != NULL);
    free (error);
    return spec;
}

//  The trial's values as one string, "a|b|c", to compare and count.
static char *
s_key (const hpo_spec_t *spec, const hpo_value_t *values)
{
    size_t cap = 256, len = 0;
    char *key = malloc (cap);
    key[0] = 0;
    for (size_t k = 0; k < spec->n_params; k++) {
        char *v = hpo_value_format (&values[k]);
        size_t need = len + strlen (v) + 2;
        if (need > cap)
            key = realloc (key, cap = need * 2);
        len += (size_t)sprintf (key + len, "%s%s", k ? "|" : "", v);
        free (v);
    }
    return key;
}

static char *
s_sample_key (const hpo_spec_t *spec, uint64_t number)
{
    hpo_value_t values[16];
    CHECK (s_sample (spec, number, values) == 0);
    char *key = s_key (spec, values);
    hpo_values_clear (values, spec->n_params);
    return key;
}

//  The trial's values from an existing instance, as one string.
static char *
s_instance_key (const hpo_spec_t *spec, void *self, uint64_t number)
{
    hpo_value_t values[16];
    hpo_history_t history = {.n_params = spec->n_params};
    CHECK (spec->sampler.ops->suggest (self, spec, &history, number, NULL, values) ==
           0);
    char *key = s_key (spec, values);
    hpo_values_clear (values, spec->n_params);
    return key;
}

//  Two instances of one study's sampler (a coordinator before and after a
//  restart) agree on every trial, whatever each drew before.
static void
s_test_instances (void)
{
    const char *space = "  x: {type: float, low: 0, high: 1}\n"
                        "  c: {type: categorical, values: [a, b, c]}\n";
    hpo_spec_t *spec = s_spec ("{type: random, seed: 11}", space);
    hpo_spec_t *zero = s_spec ("{type: random, seed: 0}", space);
    hpo_spec_t *plain = s_spec ("{type: random}", space);
    if (!spec || !zero || !plain)
        return;
    CHECK (spec->sampler.ops == hpo_sampler_find ("random"));
    CHECK (s_size (spec) == UINT64_MAX);
    const hpo_sampler_ops_t *ops = spec->sampler.ops;
    void *a = ops->new (spec, spec->sampler.config);
    void *b = ops->new (spec, spec->sampler.config);
    for (uint64_t n = 0; n < 7; n++)
        free (s_instance_key (spec, a, n));
    int same = 1, differ = 1;
    for (uint64_t n = 40; n > 0; n--) {
        char *x = s_instance_key (spec, a, n - 1);
        char *y = s_instance_key (spec, b, n - 1);
        char *next = s_instance_key (spec, b, n);
        same &= !strcmp (x, y);
        differ &= strcmp (x, next) != 0;
        free (x);
        free (y);
        free (next);
    }
    CHECK (same);
    CHECK (differ);
    ops->destroy (a);
    ops->destroy (b);
    //  No seed is seed 0.
    for (uint64_t n = 0; n < 5; n++) {
        char *x = s_sample_key (zero, n);
        char *y = s_sample_key (plain, n);
        CHECK_STR (x, y);
        free (x);
        free (y);
    }
    hpo_spec_destroy (&spec);
    hpo_spec_destroy (&zero);
    hpo_spec_destroy (&plain);
}

//  One grid instance hands out its points in order, then says none is
//  left; a seed changes nothing.
static void
s_test_grid_instance (void)
{
    const char *space = "  a: {type: int, low: 1, high: 3}\n"
                        "  b: {type: categorical, values: [x, y]}\n";
    hpo_spec_t *spec = s_spec ("{type: grid, seed: 5}", space);
    if (!spec)
        return;
    CHECK (spec->sampler.ops == hpo_sampler_find ("grid"));
    CHECK (s_size (spec) == 6);
    CHECK (spec->trials == 6);
    const hpo_sampler_ops_t *ops = spec->sampler.ops;
    void *self = ops->new (spec, spec->sampler.config);
    const char *want[] = {"1|x", "1|y", "2|x", "2|y", "3|x", "3|y"};
    for (uint64_t n = 0; n < 6; n++) {
        char *key = s_instance_key (spec, self, n);
        CHECK_STR (key, want[n]);
        free (key);
    }
    hpo_value_t v[2] = {{0}};
    hpo_history_t history = {.n_params = 2};
    CHECK (ops->suggest (self, spec, &history, 6, NULL, v) == 1);
    CHECK (v[0].s == NULL && v[1].s == NULL);
    ops->destroy (self);
    hpo_spec_destroy (&spec);
}

static void
s_test_reproducible (void)
{
    const char *space = "  lr: {type: float, low: 1.0e-5, high: 1.0e-1, "
                        "log: true}\n"
                        "  layers: {type: int, low: 1, high: 8}\n"
                        "  opt: {type: categorical, values: [adam, sgd, 3]}\n";
    hpo_spec_t *a = s_spec ("{type: random, seed: 7}", space);
    hpo_spec_t *b = s_spec ("{type: random, seed: 7}", space);
    hpo_spec_t *c = s_spec ("{type: random, seed: 8}", space);
    if (!a || !b || !c)
        return;
    //  Same (seed, number): same trial, in whatever order they are drawn.
    char *first = s_sample_key (a, 5);
    for (uint64_t n = 0; n < 20; n++)
        free (s_sample_key (a, n));
    char *again = s_sample_key (b, 5);
    CHECK_STR (first, again);
    //  Another number or another seed: another trial (the float makes a
    //  collision practically impossible).
    char *other_number = s_sample_key (a, 6);
    char *other_seed = s_sample_key (c, 5);
    CHECK (strcmp (first, other_number) != 0);
    CHECK (strcmp (first, other_seed) != 0);
    //  And no two of the first hundred trials are equal.
    char *keys[100];
    int distinct = 1;
    for (uint64_t n = 0; n < 100; n++) {
        keys[n] = s_sample_key (a, n);
        for (uint64_t m = 0; m < n; m++)
            distinct &= strcmp (keys[n], keys[m]) != 0;
    }
    CHECK (distinct);
    for (int n = 0; n < 100; n++)
        free (keys[n]);
    free (first);
    free (again);
    free (other_number);
    free (other_seed);
    hpo_spec_destroy (&a);
    hpo_spec_destroy (&b);
    hpo_spec_destroy (&c);
}

static void
s_test_bounds (void)
{
    hpo_spec_t *spec =
        s_spec ("{seed: 3}",
                "  f: {type: float, low: -2, high: 3}\n"
                "  lf: {type: float, low: 1.0e-5, high: 1.0e-1, log: true}\n"
                "  i: {type: int, low: 1, high: 8}\n"
                "  is: {type: int, low: 0, high: 10, step: 3}\n"
                "  li: {type: int, low: 1, high: 1000, log: true}\n"
                "  fs: {type: float, low: 0, high: 1, step: 0.25}\n"
                "  fs2: {type: float, low: 0, high: 1, step: 0.1}\n"
                "  c: {type: categorical, values: [a, 2, 0.5]}\n"
                "  fv: {type: float, values: [0.5, 2]}\n"
                "  iv: {type: int, values: [16, 32]}\n");
    if (!spec)
        return;
    const int n = 4000;
    int ok_f = 1, ok_lf = 1, ok_i = 1, ok_is = 1, ok_li = 1, ok_fs = 1;
    int ok_fs2 = 1, ok_c = 1, ok_fv = 1, ok_iv = 1;
    int i_seen[9] = {0}, fs_seen[5] = {0}, c_seen[3] = {0};
    int lf_low = 0, li_low = 0, fs2_tidy = 1;
    double f_sum = 0;
    for (int t = 0; t < n; t++) {
        hpo_value_t v[10];
        CHECK (s_sample (spec, (uint64_t)t, v) == 0);
        ok_f &= v[0].kind == HPO_KIND_FLOAT && v[0].f >= -2 && v[0].f <= 3;
        f_sum += v[0].f;
        ok_lf &=
            v[1].kind == HPO_KIND_FLOAT && v[1].f >= 1e-5 && v[1].f <= 1e-1;
        //  Log-uniform: half the mass lies below the geometric mean 1e-3.
        lf_low += v[1].f < 1e-3;
        ok_i &= v[2].kind == HPO_KIND_INT && v[2].i >= 1 && v[2].i <= 8 &&
                v[2].f == (double)v[2].i;
        if (v[2].i >= 1 && v[2].i <= 8)
            i_seen[v[2].i]++;
        ok_is &= v[3].kind == HPO_KIND_INT && v[3].i >= 0 && v[3].i <= 9 &&
                 v[3].i % 3 == 0;
        ok_li &= v[4].kind == HPO_KIND_INT && v[4].i >= 1 && v[4].i <= 1000;
        li_low += v[4].i <= 31;
        double q = v[5].f / 0.25;
        ok_fs &= v[5].kind == HPO_KIND_FLOAT && v[5].f >= 0 && v[5].f <= 1 &&
                 q == (double)(int)q;
        if (ok_fs)
            fs_seen[(int)q]++;
        ok_fs2 &= v[6].f >= 0 && v[6].f <= 1;
        //  low + k * step comes out as the number a person would write.
        char *text = hpo_value_format (&v[6]);
        fs2_tidy &= strlen (text) <= 3;
        free (text);
        int which = v[7].kind == HPO_KIND_STR     ? 0
                    : v[7].kind == HPO_KIND_INT   ? 1
                    : v[7].kind == HPO_KIND_FLOAT ? 2
                                                  : -1;
        ok_c &= which == 0   ? !strcmp (v[7].s, "a")
                : which == 1 ? v[7].i == 2
                             : which == 2 && v[7].f == 0.5;
        if (which >= 0)
            c_seen[which]++;
        ok_fv &= v[8].kind == HPO_KIND_FLOAT && (v[8].f == 0.5 || v[8].f == 2);
        ok_iv &= v[9].kind == HPO_KIND_INT && (v[9].i == 16 || v[9].i == 32);
        hpo_values_clear (v, spec->n_params);
    }
    CHECK (ok_f);
    CHECK_NEAR (f_sum / n, 0.5, 0.1);
    CHECK (ok_lf);
    CHECK_NEAR ((double)lf_low / n, 0.5, 0.04);
    CHECK (ok_i);
    //  Both ends are reachable and every integer comes up about n/8 times.
    int i_even = 1;
    for (int k = 1; k <= 8; k++)
        i_even &= i_seen[k] > n / 8 * 0.8 && i_seen[k] < n / 8 * 1.2;
    CHECK (i_even);
    CHECK (ok_is);
    CHECK (ok_li);
    //  Rounding log-uniform draws on [0.5, 1000.5]: P(i <= 31) is
    //  log(31.5 / 0.5) / log(1000.5 / 0.5) = 0.545.
    CHECK_NEAR ((double)li_low / n, log (63) / log (2001), 0.03);
    CHECK (ok_fs);
    int fs_all = 1;
    for (int k = 0; k < 5; k++)
        fs_all &= fs_seen[k] > 0;
    CHECK (fs_all);
    CHECK (ok_fs2);
    CHECK (fs2_tidy);
    CHECK (ok_c);
    CHECK (c_seen[0] > 0 && c_seen[1] > 0 && c_seen[2] > 0);
    CHECK (ok_fv);
    CHECK (ok_iv);
    hpo_spec_destroy (&spec);
}

static int
s_strcmp (const void *a, const void *b)
{
    return strcmp (*(char *const *)a, *(char *const *)b);
}

static void
s_test_grid (void)
{
    hpo_spec_t *spec = s_spec (
        "{type: grid}", "  opt: {type: categorical, values: [a, b, c]}\n"
                        "  n: {type: int, low: 2, high: 10, step: 2}\n"
                        "  x: {type: float, low: 0, high: 1, step: 0.1}\n"
                        "  k: {type: int, values: [7, 9]}\n");
    if (!spec)
        return;
    CHECK (s_size (spec) == 3 * 5 * 11 * 2);
    size_t size = (size_t)s_size (spec);
    char **keys = calloc (size, sizeof (char *));
    for (size_t p = 0; p < size; p++)
        keys[p] = s_sample_key (spec, p);
    //  The last parameter varies fastest, the first slowest.
    CHECK_STR (keys[0], "a|2|0|7");
    CHECK_STR (keys[1], "a|2|0|9");
    CHECK_STR (keys[2], "a|2|0.1|7");
    CHECK_STR (keys[7], "a|2|0.3|9");
    CHECK_STR (keys[21], "a|2|1|9");
    CHECK_STR (keys[22], "a|4|0|7");
    CHECK_STR (keys[size - 1], "c|10|1|9");
    //  Every point exactly once.
    qsort (keys, size, sizeof (char *), s_strcmp);
    int distinct = 1;
    for (size_t p = 1; p < size; p++)
        distinct &= strcmp (keys[p - 1], keys[p]) != 0;
    CHECK (distinct);
    for (size_t p = 0; p < size; p++)
        free (keys[p]);
    free (keys);
    //  And nothing after the last.
    hpo_value_t v[4];
    CHECK (s_sample (spec, s_size (spec), v) == 1);
    CHECK (s_sample (spec, s_size (spec) + 1000, v) == 1);
    CHECK (s_sample (spec, UINT64_MAX, v) == 1);
    hpo_spec_destroy (&spec);

    //  A categorical keeps each value's kind in the grid too.
    spec = s_spec ("{type: grid}",
                   "  c: {type: categorical, values: [x, 1, 2.5, '4']}\n");
    if (!spec)
        return;
    hpo_value_t one;
    CHECK (s_sample (spec, 0, &one) == 0);
    CHECK (one.kind == HPO_KIND_STR && !strcmp (one.s, "x"));
    hpo_values_clear (&one, 1);
    CHECK (s_sample (spec, 1, &one) == 0);
    CHECK (one.kind == HPO_KIND_INT && one.i == 1);
    CHECK (s_sample (spec, 2, &one) == 0);
    CHECK (one.kind == HPO_KIND_FLOAT && one.f == 2.5);
    CHECK (s_sample (spec, 3, &one) == 0);
    CHECK (one.kind == HPO_KIND_STR && !strcmp (one.s, "4"));
    hpo_values_clear (&one, 1);
    CHECK (s_sample (spec, 4, &one) == 1);
    hpo_spec_destroy (&spec);

    //  A float step that does not divide the range ends below high.
    spec = s_spec ("{type: grid}",
                   "  x: {type: float, low: 0, high: 1, step: 0.3}\n");
    if (!spec)
        return;
    CHECK (s_size (spec) == 4);
    char *last = s_sample_key (spec, 3);
    CHECK_STR (last, "0.9");
    free (last);
    hpo_spec_destroy (&spec);
}

//  A float reaches the command line in plain decimals between 1e-4 and
//  1e16 (10.0 used to come out as "1e+01"), with the fewest digits that
//  read back as the same double, and with an exponent outside that.
static void
s_test_value_format (void)
{
    struct {
        double x;
        const char *want;
    } cases[] = {
        {10.0, "10"},       {300.0, "300"},   {0.1, "0.1"},
        {-2500.0, "-2500"}, {1e-4, "0.0001"}, {1e-5, "1e-05"},
        {1.5e15, "1500000000000000"},         {1e16, "1e+16"},
        {0.30000000000000004, "0.30000000000000004"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        hpo_value_t v = {.kind = HPO_KIND_FLOAT, .f = cases[k].x};
        char *text = hpo_value_format (&v);
        CHECK_STR (text, cases[k].want);
        free (text);
    }
    hpo_value_t none = {.kind = HPO_KIND_NONE};
    char *text = hpo_value_format (&none);
    CHECK_STR (text, "");
    free (text);
}

int
main (void)
{
    s_test_reproducible ();
    s_test_value_format ();
    s_test_bounds ();
    s_test_grid ();
    s_test_instances ();
    s_test_grid_instance ();
    TEST_DONE ();
}
