/*  test_space.c: the distinct configurations of a space with conditions
    (search/space.h), grid search over them, and the suggestion driver
    (search/suggest.h): hybrid spread, no duplicates, exhaustion,
    determinism, given values, the start-up replay.                     */
#include <stdint.h>

#include "common/spec.h"
#include "search/space.h"
#include "search/suggest.h"
#include "testutil.h"

static hpo_spec_t *
s_spec (const char *sampler, const char *trials, const char *space)
{
    char text[4096];
    snprintf (text, sizeof text,
              "name: s\n"
              "command: ./run\n"
              "objective: {metric: loss}\n"
              "sampler: %s\n"
              "budget: {trials: %s}\n"
              "space:\n%s",
              sampler, trials, space);
    char *error = NULL;
    hpo_spec_t *spec = hpo_spec_parse (text, strlen (text), "s.yaml", &error);
    if (!spec)
        fprintf (stderr, "spec: %s\n", error);
    CHECK (spec != NULL);
    free (error);
    return spec;
}

//  A row as one string, absent parameters as "-", to compare and count.
static char *
s_key (size_t n, const hpo_value_t *row)
{
    size_t cap = 64, len = 0;
    char *key = calloc (1, cap);
    for (size_t k = 0; k < n; k++) {
        char *v = row[k].kind == HPO_KIND_NONE ? strdup ("-")
                                               : hpo_value_format (&row[k]);
        while (len + strlen (v) + 2 > cap)
            key = realloc (key, cap *= 2);
        len += (size_t)sprintf (key + len, "%s|", v);
        free (v);
    }
    return key;
}

//  A small set of strings, by linear search: the tests' spaces are small.
typedef struct {
    char **keys;
    size_t n;
} s_set_t;

static int
s_set_add (s_set_t *set, char *key)
{
    for (size_t k = 0; k < set->n; k++)
        if (!strcmp (set->keys[k], key)) {
            free (key);
            return 0;
        }
    set->keys = realloc (set->keys, (set->n + 1) * sizeof (char *));
    set->keys[set->n++] = key;
    return 1;
}

static void
s_set_free (s_set_t *set)
{
    for (size_t k = 0; k < set->n; k++)
        free (set->keys[k]);
    free (set->keys);
    *set = (s_set_t){0};
}

//  Every configuration by brute force: each parameter's every point,
//  mixed radix, rows made canonical (absent parameters NONE), repeats
//  dropped.
static size_t
s_brute (const hpo_spec_t *spec, s_set_t *set)
{
    size_t n = spec->n_params;
    uint64_t total = 1;
    for (size_t k = 0; k < n; k++)
        total *= hpo_param_grid_count (&spec->params[k]);
    for (uint64_t i = 0; i < total; i++) {
        hpo_value_t row[n];
        uint64_t d = i;
        for (size_t k = n; k-- > 0;) {
            uint64_t c = hpo_param_grid_count (&spec->params[k]);
            hpo_space_point (&spec->params[k], d % c, &row[k]);
            d /= c;
        }
        for (size_t k = 0; k < n; k++)
            if (!hpo_spec_active (spec, k, row)) {
                hpo_values_clear (&row[k], 1);
                row[k] = (hpo_value_t){.kind = HPO_KIND_NONE};
            }
        s_set_add (set, s_key (n, row));
        hpo_values_clear (row, n);
    }
    return set->n;
}

static const char *s_cond_space =
    "  opt: {type: categorical, values: [adam, sgd, rms]}\n"
    "  momentum: {type: float, values: [0.5, 0.9], when: {opt: [sgd, rms]}}\n"
    "  nesterov: {type: categorical, values: [no, yes], when: {momentum: "
    "0.9}}\n"
    "  layers: {type: int, low: 1, high: 3}\n"
    "  width: {type: int, low: 8, high: 32, step: 8, when: {layers: [2, "
    "3]}}\n";

//  hpo_space numbers exactly the distinct configurations, each once.
static void
s_test_space_numbering (void)
{
    hpo_spec_t *spec = s_spec ("{type: grid}", "1000", s_cond_space);
    if (!spec)
        return;
    s_set_t brute = {0};
    size_t want = s_brute (spec, &brute);
    //  opt: adam 1 + sgd, rms: (0.5 + 0.9 * 2) = 3 each: 7; layers: 1 +
    //  4 + 4 = 9; 63.
    CHECK (want == 63);
    hpo_space_t *space = hpo_space_new (spec, NULL, NULL);
    CHECK (hpo_space_size (space) == want);
    CHECK (spec->trials == want); //  the grid's size caps the budget
    s_set_t seen = {0};
    for (uint64_t i = 0; i < hpo_space_size (space); i++) {
        hpo_value_t row[5];
        hpo_space_at (space, i, row);
        char *key = s_key (5, row);
        int known = 0;
        for (size_t k = 0; k < brute.n && !known; k++)
            known = !strcmp (brute.keys[k], key);
        CHECK (known);
        CHECK (s_set_add (&seen, key));
        hpo_values_clear (row, 5);
    }
    CHECK (seen.n == want);
    hpo_space_destroy (&space);

    //  Held: opt at sgd leaves momentum (with nesterov) 3 x layers 9.
    uint8_t fixed[5] = {1, 0, 0, 0, 0};
    hpo_value_t row[5] = {{.kind = HPO_KIND_STR, .s = "sgd"}};
    space = hpo_space_new (spec, fixed, row);
    CHECK (hpo_space_size (space) == 27);
    hpo_space_destroy (&space);
    //  A float without points that can exist: not finite.
    hpo_spec_t *open =
        s_spec ("{type: random}", "10",
                "  a: {type: categorical, values: [x, y]}\n"
                "  b: {type: float, low: 0, high: 1, when: {a: y}}\n");
    space = hpo_space_new (open, NULL, NULL);
    CHECK (hpo_space_size (space) == UINT64_MAX);
    hpo_space_destroy (&space);
    //  ... unless held where it cannot exist.
    fixed[0] = 1;
    row[0] = (hpo_value_t){.kind = HPO_KIND_STR, .s = "x"};
    space = hpo_space_new (open, fixed, row);
    CHECK (hpo_space_size (space) == 1);
    hpo_space_destroy (&space);
    hpo_spec_destroy (&open);
    s_set_free (&seen);
    s_set_free (&brute);
    hpo_spec_destroy (&spec);
}

//  A study's spec, driver and history, for the driver's tests.
typedef struct {
    hpo_spec_t *spec;
    hpo_suggest_t *driver;
    hpo_history_t *history;
} s_fix_t;

static int
s_fix_new (s_fix_t *f, const char *sampler, const char *trials,
           const char *space)
{
    f->spec = s_spec (sampler, trials, space);
    if (!f->spec)
        return -1;
    f->driver = hpo_suggest_new (f->spec);
    f->history = hpo_history_new (f->spec->n_params);
    return 0;
}

static void
s_fix_free (s_fix_t *f)
{
    hpo_history_destroy (&f->history);
    hpo_suggest_destroy (&f->driver);
    hpo_spec_destroy (&f->spec);
}

//  Runs the driver for up to max trials, appending each to history;
//  returns how many it handed out before it said the space is used up.
static size_t
s_run (hpo_suggest_t *driver, hpo_history_t *history, size_t max, s_set_t *keys)
{
    size_t n = history->n_params, made = 0;
    for (; made < max; made++) {
        hpo_value_t row[n ? n : 1];
        int rc =
            hpo_suggest_next (driver, history, history->n, NULL, NULL, row);
        CHECK (rc == 0 || rc == 1);
        if (rc)
            break;
        hpo_history_append (history, row);
        if (keys)
            s_set_add (keys, s_key (n, row));
        hpo_values_clear (row, n);
    }
    return made;
}

//  Grid search: every distinct configuration once, then the end.
static void
s_test_grid_conditions (void)
{
    s_fix_t f;
    if (s_fix_new (&f, "{type: grid}", "1000", s_cond_space))
        return;
    s_set_t keys = {0};
    CHECK (s_run (f.driver, f.history, 1000, &keys) == 63);
    CHECK (keys.n == 63);
    s_set_free (&keys);
    s_fix_free (&f);
}

//  Random search in a finite space: never a configuration twice, and
//  the study ends when every one has run.
static void
s_test_no_duplicates (void)
{
    s_fix_t f;
    if (s_fix_new (&f, "{type: random, seed: 3}", "1000", s_cond_space))
        return;
    s_set_t keys = {0};
    CHECK (s_run (f.driver, f.history, 1000, &keys) == 63);
    CHECK (keys.n == 63);
    //  Used up: it stays so.
    hpo_value_t row[5];
    CHECK (hpo_suggest_next (f.driver, f.history, f.history->n, NULL, NULL,
                             row) == 1);
    //  But a configuration given whole is what the caller asked for.
    uint8_t given[5] = {1, 1, 1, 1, 1};
    hpo_value_t values[5];
    memcpy (values, hpo_history_params (f.history, 0), sizeof values);
    CHECK (hpo_suggest_next (f.driver, f.history, f.history->n, given, values,
                             row) == 0);
    char *a = s_key (5, row), *b = s_key (5, values);
    CHECK_STR (a, b);
    free (a);
    free (b);
    hpo_values_clear (row, 5);
    s_set_free (&keys);
    s_fix_free (&f);
}

static const char *s_hybrid_space =
    "  opt: {type: categorical, values: [adam, sgd, rms], grid: true}\n"
    "  depth: {type: int, low: 1, high: 2, grid: true}\n"
    "  lr: {type: float, low: 1.0e-4, high: 1, log: true}\n";

//  Hybrid: every grid point has its first trial before any has its
//  second; at the end, budget / points each, one more for the first
//  budget % points points.
static void
s_test_hybrid_spread (void)
{
    s_fix_t f;
    if (s_fix_new (&f, "{type: random, seed: 1}", "20", s_hybrid_space))
        return;
    CHECK (hpo_suggest_grid_points (f.driver) == 6);
    for (int t = 0; t < 20; t++) {
        CHECK (s_run (f.driver, f.history, 1, NULL) == 1);
        uint64_t min, max;
        hpo_suggest_grid_spread (f.driver, f.history, &min, &max);
        CHECK (max - min <= 1);
    }
    for (uint64_t p = 0; p < 6; p++) {
        hpo_value_t values[2];
        uint64_t trials =
            hpo_suggest_grid_trials (f.driver, f.history, p, values);
        CHECK (trials == (p < 20 % 6 ? 4u : 3u));
        hpo_values_clear (values, 2);
    }
    //  Point 0 is (adam, 1), point 1 (adam, 2): the last grid parameter
    //  fastest. The first trials go to points 0, 1, 2 ... in order.
    const hpo_value_t *r = hpo_history_params (f.history, 1);
    CHECK (r[0].kind == HPO_KIND_STR && !strcmp (r[0].s, "adam") &&
           r[1].i == 2);
    //  A f.driver that reads the same f.history (a coordinator restarted)
    //  counts the same, and suggests what the first would have.
    hpo_suggest_t *again = hpo_suggest_new (f.spec);
    hpo_value_t x[3], y[3];
    CHECK (hpo_suggest_next (f.driver, f.history, f.history->n, NULL, NULL,
                             x) == 0);
    CHECK (hpo_suggest_next (again, f.history, f.history->n, NULL, NULL, y) ==
           0);
    char *a = s_key (3, x), *b = s_key (3, y);
    CHECK_STR (a, b);
    free (a);
    free (b);
    hpo_values_clear (x, 3);
    hpo_values_clear (y, 3);
    hpo_suggest_destroy (&again);
    s_fix_free (&f);
}

//  Hybrid with a grid parameter given (an enqueued configuration in
//  part): the other grid parameters come from the least-tried point that
//  agrees, and the f.driver's own choices then fill the other points.
static void
s_test_hybrid_given (void)
{
    s_fix_t f;
    if (s_fix_new (&f, "{type: random, seed: 1}", "20", s_hybrid_space))
        return;
    uint8_t given[3] = {1, 0, 0};
    hpo_value_t values[3] = {{.kind = HPO_KIND_STR, .s = "sgd"}};
    for (int t = 0; t < 4; t++) {
        hpo_value_t row[3];
        CHECK (hpo_suggest_next (f.driver, f.history, f.history->n, given,
                                 values, row) == 0);
        CHECK (!strcmp (row[0].s, "sgd") && row[1].i == 1 + t % 2);
        hpo_history_append (f.history, row);
        hpo_values_clear (row, 3);
    }
    //  Points 2 and 3 (sgd) have 2 trials each: the next four go to
    //  adam 1, adam 2, rms 1, rms 2.
    CHECK (s_run (f.driver, f.history, 4, NULL) == 4);
    for (uint64_t p = 0; p < 6; p++)
        CHECK (hpo_suggest_grid_trials (f.driver, f.history, p, NULL) ==
               (p == 2 || p == 3 ? 2u : 1u));
    s_fix_free (&f);
}

//  Hybrid in a finite space: a grid point whose configurations are all
//  taken leaves the rotation; the study ends when all are.
static void
s_test_hybrid_finite (void)
{
    s_fix_t f;
    if (s_fix_new (
            &f, "{type: random, seed: 5}", "1000",
            "  opt: {type: categorical, values: [adam, sgd], grid: true}\n"
            "  mom: {type: categorical, values: [a, b, c], when: {opt: sgd}}\n"
            "  k: {type: int, low: 1, high: 2}\n"))
        return;
    s_set_t keys = {0};
    //  adam: 2 configurations; sgd: 6.
    CHECK (s_run (f.driver, f.history, 1000, &keys) == 8);
    CHECK (keys.n == 8);
    CHECK (hpo_suggest_grid_trials (f.driver, f.history, 0, NULL) == 2);
    CHECK (hpo_suggest_grid_trials (f.driver, f.history, 1, NULL) == 6);
    s_set_free (&keys);
    s_fix_free (&f);
}

//  Same f.spec, seed and f.history: the same suggestions.
static void
s_test_determinism (void)
{
    hpo_spec_t *spec = s_spec ("{type: random, seed: 9}", "1000", s_cond_space);
    if (!spec)
        return;
    hpo_history_t *h1 = hpo_history_new (spec->n_params);
    hpo_history_t *h2 = hpo_history_new (spec->n_params);
    hpo_suggest_t *d1 = hpo_suggest_new (spec), *d2 = hpo_suggest_new (spec);
    CHECK (s_run (d1, h1, 50, NULL) == 50);
    CHECK (s_run (d2, h2, 50, NULL) == 50);
    int same = 1;
    for (uint64_t k = 0; k < 50; k++) {
        char *a = s_key (5, hpo_history_params (h1, k));
        char *b = s_key (5, hpo_history_params (h2, k));
        same &= !strcmp (a, b);
        free (a);
        free (b);
    }
    CHECK (same);
    hpo_suggest_destroy (&d1);
    hpo_suggest_destroy (&d2);
    hpo_history_destroy (&h1);
    hpo_history_destroy (&h2);
    hpo_spec_destroy (&spec);
}

//  Given values are kept, the rest drawn; an absent one is dropped.
static void
s_test_given (void)
{
    s_fix_t f;
    if (s_fix_new (&f, "{type: random, seed: 2}", "100", s_cond_space))
        return;
    uint8_t given[5] = {1, 0, 0, 1, 0};
    hpo_value_t values[5] = {{.kind = HPO_KIND_STR, .s = "sgd"},
                             {0},
                             {0},
                             {.kind = HPO_KIND_INT, .i = 1, .f = 1}};
    s_set_t keys = {0};
    //  sgd with one layer: momentum (0.5, or 0.9 with nesterov no/yes) is
    //  3 configurations; after those, the caller still gets one.
    for (int t = 0; t < 4; t++) {
        hpo_value_t row[5];
        CHECK (hpo_suggest_next (f.driver, f.history, f.history->n, given,
                                 values, row) == 0);
        CHECK (!strcmp (row[0].s, "sgd") && row[3].i == 1);
        CHECK (row[1].kind == HPO_KIND_FLOAT && row[4].kind == HPO_KIND_NONE);
        hpo_history_append (f.history, row);
        CHECK (s_set_add (&keys, s_key (5, row)) == (t < 3));
        hpo_values_clear (row, 5);
    }
    //  adam: momentum given but absent, so dropped.
    values[0].s = "adam";
    given[1] = 1;
    values[1] = (hpo_value_t){.kind = HPO_KIND_FLOAT, .f = 0.5};
    hpo_value_t row[5];
    CHECK (hpo_suggest_next (f.driver, f.history, f.history->n, given, values,
                             row) == 0);
    CHECK (row[1].kind == HPO_KIND_NONE && row[2].kind == HPO_KIND_NONE);
    hpo_values_clear (row, 5);
    s_set_free (&keys);
    s_fix_free (&f);
}

//  A space used up at scale: 100 x 200 configurations, a grid point
//  per value of a. Every one exactly once, then the end; the scan for a
//  free one moves forward, so this takes well under a second.
static void
s_test_exhaust_large (void)
{
    for (int hybrid = 0; hybrid < 2; hybrid++) {
        char space[256];
        snprintf (space, sizeof space,
                  "  a: {type: int, low: 1, high: 100%s}\n"
                  "  b: {type: int, low: 1, high: 200}\n",
                  hybrid ? ", grid: true" : "");
        s_fix_t f;
        if (s_fix_new (&f, "{type: random, seed: 4}", "100000", space))
            return;
        CHECK (s_run (f.driver, f.history, 100000, NULL) == 20000);
        uint8_t *seen = calloc (20000, 1);
        size_t distinct = 0;
        for (uint64_t k = 0; k < f.history->n; k++) {
            const hpo_value_t *r = hpo_history_params (f.history, k);
            size_t i = (size_t)((r[0].i - 1) * 200 + (r[1].i - 1));
            distinct += !seen[i];
            seen[i] = 1;
        }
        CHECK (distinct == 20000);
        if (hybrid) {
            uint64_t min, max;
            hpo_suggest_grid_spread (f.driver, f.history, &min, &max);
            CHECK (min == 200 && max == 200);
        }
        free (seen);
        s_fix_free (&f);
    }
}

int
main (void)
{
    s_test_space_numbering ();
    s_test_grid_conditions ();
    s_test_no_duplicates ();
    s_test_hybrid_spread ();
    s_test_hybrid_finite ();
    s_test_hybrid_given ();
    s_test_determinism ();
    s_test_given ();
    s_test_exhaust_large ();
    TEST_DONE ();
}
