/*  test_refine.c: the refine sampler's grid around given centres: the
    window's arithmetic, log space, rounding to integers and steps,
    clipping, repeats removed within and across windows, categoricals;
    and what it refuses. Driven through the study-file parser and the
    registry entry, as the coordinator drives it.                        */
#include <stdint.h>

#include "common/spec.h"
#include "search/refine.h"
#include "testutil.h"

static hpo_spec_t *
s_parse (const char *sampler, const char *space, char **error)
{
    char text[4096];
    snprintf (text, sizeof text,
              "name: r\n"
              "command: ./run\n"
              "objective: {metric: loss}\n"
              "sampler: %s\n"
              "budget: {trials: 1000}\n"
              "space:\n%s",
              sampler, space);
    *error = NULL;
    return hpo_spec_parse (text, strlen (text), "r.yaml", error);
}

static hpo_spec_t *
s_spec (const char *sampler, const char *space)
{
    char *error;
    hpo_spec_t *spec = s_parse (sampler, space, &error);
    if (!spec)
        fprintf (stderr, "spec: %s\n", error);
    CHECK (spec != NULL);
    free (error);
    return spec;
}

//  Every point of the grid, "a|b;a|b;...", and checks the study ends
//  right after the last and that size says how many there are.
static char *
s_points (const hpo_spec_t *spec)
{
    const hpo_sampler_ops_t *ops = spec->sampler.ops;
    void *self = ops->new (spec, spec->sampler.config);
    hpo_history_t history = {.n_params = spec->n_params};
    uint64_t size = ops->size (spec, spec->sampler.config);
    CHECK (spec->trials == size);
    char *all = strdup ("");
    hpo_value_t out[8];
    uint64_t n = 0;
    for (; n <= size; n++) {
        memset (out, 0, sizeof out);
        int rc = ops->suggest (self, spec, &history, n, NULL, out);
        if (rc) {
            CHECK (rc == 1);
            break;
        }
        for (size_t k = 0; k < spec->n_params; k++) {
            char *v = hpo_value_format (&out[k]);
            char *next = malloc (strlen (all) + strlen (v) + 2);
            sprintf (next, "%s%s%s", all, k ? "|" : (n ? ";" : ""), v);
            free (all);
            free (v);
            all = next;
        }
        hpo_values_clear (out, spec->n_params);
    }
    CHECK (n == size);
    ops->destroy (self);
    return all;
}

static void
s_grid_is (const char *sampler, const char *space, const char *expect, int line)
{
    hpo_spec_t *spec = s_spec (sampler, space);
    if (!spec)
        return;
    char *got = s_points (spec);
    t_checks++;
    if (strcmp (got, expect)) {
        fprintf (stderr, "%s:%d: grid [%s], want [%s]\n", __FILE__, line, got,
                 expect);
        t_failures++;
    }
    free (got);
    hpo_spec_destroy (&spec);
}
#define GRID_IS(sampler, space, expect)                                        \
    s_grid_is (sampler, space, expect, __LINE__)

static const char *s_x = "  x: {type: float, low: 0, high: 10}\n";

static void
s_test_window (void)
{
    //  A fifth of the range, five points, centred on the centre.
    GRID_IS ("{type: refine, centres: '[{\"x\": 5}]'}", s_x, "4;4.5;5;5.5;6");
    GRID_IS ("{type: refine, points: 3, shrink: 0.5, centres: '[{\"x\": 5}]'}",
             s_x, "2.5;5;7.5");
    GRID_IS ("{type: refine, points: 1, centres: '[{\"x\": 3.25}]'}", s_x,
             "3.25");
    //  Clipped to the bounds, and the clipped points run once.
    GRID_IS ("{type: refine, centres: '[{\"x\": 0.5}]'}", s_x, "0;0.5;1;1.5");
    GRID_IS ("{type: refine, shrink: 1, points: 3, centres: '[{\"x\": 10}]'}",
             s_x, "5;10");
}

static void
s_test_log (void)
{
    //  In log space: half of 4 decades either side is one decade.
    hpo_spec_t *spec =
        s_spec ("{type: refine, points: 3, shrink: 0.5, "
                "centres: '[{\"lr\": 0.01}]'}",
                "  lr: {type: float, low: 1.0e-4, high: 1, log: true}\n");
    if (!spec)
        return;
    const hpo_sampler_ops_t *ops = spec->sampler.ops;
    void *self = ops->new (spec, spec->sampler.config);
    hpo_history_t history = {.n_params = 1};
    CHECK (ops->size (spec, spec->sampler.config) == 3);
    double want[] = {0.001, 0.01, 0.1};
    for (uint64_t n = 0; n < 3; n++) {
        hpo_value_t v = {0};
        CHECK (ops->suggest (self, spec, &history, n, NULL, &v) == 0);
        CHECK (v.kind == HPO_KIND_FLOAT);
        CHECK_NEAR (v.f, want[n], want[n] * 1e-9);
        if (n == 1)
            CHECK (v.f == 0.01); //  the centre exactly, not exp (log (x))
    }
    ops->destroy (self);
    hpo_spec_destroy (&spec);
}

static void
s_test_rounding (void)
{
    const char *n = "  n: {type: int, low: 1, high: 100}\n";
    //  7.5 .. 12.5 rounds to five distinct integers.
    GRID_IS ("{type: refine, shrink: 0.05, centres: '[{\"n\": 10}]'}", n,
             "8;9;10;11;12");
    //  A window narrower than one integer is the centre alone.
    GRID_IS ("{type: refine, shrink: 0.01, centres: '[{\"n\": 10}]'}", n, "10");
    //  Steps: onto the step's points, inside the bounds.
    GRID_IS ("{type: refine, points: 3, centres: '[{\"x\": 0.5}]'}",
             "  x: {type: float, low: 0, high: 1, step: 0.1}\n", "0.4;0.5;0.6");
    GRID_IS ("{type: refine, points: 5, shrink: 0.4, centres: '[{\"n\": 9}]'}",
             "  n: {type: int, low: 1, high: 9, step: 2}\n", "7;9");
    //  Listed values: the nearest of them.
    GRID_IS ("{type: refine, points: 3, shrink: 0.5, "
             "centres: '[{\"b\": 32}]'}",
             "  b: {type: int, values: [8, 16, 32, 64, 128]}\n",
             "8;32;64"); //  2, 32, 62 in linear space
}

static void
s_test_windows (void)
{
    //  Two windows that overlap: the points both have run once, in the
    //  first window's place; the best centre's window comes first.
    GRID_IS ("{type: refine, centres: '[{\"x\": 5}, {\"x\": 5.5}]'}", s_x,
             "4;4.5;5;5.5;6;6.5");
    //  Each window is a product, the last parameter fastest.
    GRID_IS ("{type: refine, points: 2, shrink: 0.2, "
             "centres: '[{\"x\": 5, \"y\": 5}, {\"x\": 6, \"y\": 5}]'}",
             "  x: {type: float, low: 0, high: 10}\n"
             "  y: {type: float, low: 0, high: 10}\n",
             "4|4;4|6;6|4;6|6;5|4;5|6;7|4;7|6");
}

static void
s_test_categorical (void)
{
    //  The values the centres have, in the space's order, in every
    //  window.
    GRID_IS ("{type: refine, points: 1, "
             "centres: '[{\"opt\": \"c\", \"x\": 5}, {\"opt\": \"a\", "
             "\"x\": 5}]'}",
             "  opt: {type: categorical, values: [a, b, c]}\n"
             "  x: {type: float, low: 0, high: 10}\n",
             "a|5;c|5");
    GRID_IS ("{type: refine, points: 1, "
             "centres: '[{\"opt\": 2, \"x\": 1}, {\"opt\": \"two\", "
             "\"x\": 2}]'}",
             "  opt: {type: categorical, values: [two, 2]}\n"
             "  x: {type: float, low: 0, high: 10}\n",
             "two|1;2|1;two|2;2|2");
}

static void
s_refused (const char *sampler, const char *space, const char *expect, int line)
{
    char *error;
    hpo_spec_t *spec = s_parse (sampler, space, &error);
    t_checks++;
    if (spec || !error || !strstr (error, expect)) {
        fprintf (stderr, "%s:%d: expected \"%s\", got %s\n", __FILE__, line,
                 expect, error ? error : "success");
        t_failures++;
    }
    hpo_spec_destroy (&spec);
    free (error);
}
#define REFUSED(sampler, space, expect)                                        \
    s_refused (sampler, space, expect, __LINE__)

static void
s_test_refused (void)
{
    REFUSED ("{type: refine}", s_x, "refine needs from");
    REFUSED ("{type: refine, from: a, top: 0}", s_x, "must be from 1 to 1000");
    REFUSED ("{type: refine, from: a, points: 1001}", s_x,
             "must be from 1 to 1000");
    REFUSED ("{type: refine, from: a, shrink: 0}", s_x, "above 0, at most 1");
    REFUSED ("{type: refine, from: a, shrink: 1.5}", s_x, "above 0, at most 1");
    REFUSED ("{type: refine, centres: 'x'}", s_x, "must be a JSON list");
    REFUSED ("{type: refine, centres: '[]'}", s_x, "must be a JSON list");
    REFUSED ("{type: refine, centres: '[{\"x\": 11}]'}", s_x,
             "centre 1 has x 11, outside [0, 10]");
    REFUSED ("{type: refine, centres: '[{\"x\": 1}, {\"y\": 1}]'}", s_x,
             "centre 2 has no x");
    REFUSED ("{type: refine, centres: '[{\"x\": 1, \"y\": 1}]'}", s_x,
             "centre 1 has parameters the space does not");
    REFUSED ("{type: refine, centres: '[{\"x\": \"a\"}]'}", s_x,
             "centre 1 has a x that is not a number");
    REFUSED ("{type: refine, centres: '[{\"o\": \"d\"}]'}",
             "  o: {type: categorical, values: [a, b]}\n",
             "has a o that is not among its values");
    REFUSED ("{type: refine, centres: '[{\"n\": 1.5}]'}",
             "  n: {type: int, low: 1, high: 9}\n", "not an integer");
    REFUSED ("{type: refine, from: a}",
             "  opt: {type: categorical, values: [a, b]}\n"
             "  m: {type: float, low: 0, high: 1, when: {opt: a}}\n",
             "r.yaml:8: space.m: refine does not take conditional parameters");
    REFUSED ("{type: refine, from: a}",
             "  n: {type: int, low: 0, high: 3, grid: true}\n",
             "space.n: refine is a grid already");
    //  Past the limit on points: 1000^2 in one window.
    REFUSED ("{type: refine, points: 1000, shrink: 1, "
             "centres: '[{\"x\": 5, \"y\": 5}]'}",
             "  x: {type: float, low: 0, high: 10}\n"
             "  y: {type: float, low: 0, high: 10}\n",
             "more than 100000 points");
}

//  Before the coordinator writes the centres in: the study it names, and
//  a bound for the size (top windows of the most points each).
static void
s_test_from (void)
{
    hpo_spec_t *spec = s_spec ("{type: refine, from: src, top: 3, points: 4}",
                               "  x: {type: float, low: 0, high: 10}\n"
                               "  opt: {type: categorical, values: [a, b]}\n"
                               "  n: {type: int, low: 1, high: 2}\n");
    if (!spec)
        return;
    CHECK_STR (hpo_refine_from (spec), "src");
    CHECK (hpo_refine_top (spec) == 3);
    CHECK (spec->sampler.ops->size (spec, spec->sampler.config) ==
           3 * 4 * 2 * 2);
    hpo_spec_t *same =
        s_spec ("{type: random}", "  n: {type: int, low: 5, high: 7}\n"
                                  "  x: {type: float, low: 0, high: 1}\n"
                                  "  opt: {type: categorical, values: [c]}\n");
    hpo_spec_t *other =
        s_spec ("{type: random}", "  n: {type: float, low: 5, high: 7}\n"
                                  "  x: {type: float, low: 0, high: 1}\n"
                                  "  opt: {type: categorical, values: [c]}\n");
    hpo_spec_t *fewer =
        s_spec ("{type: random}", "  x: {type: float, low: 0, high: 1}\n"
                                  "  opt: {type: categorical, values: [c]}\n");
    hpo_spec_t *more =
        s_spec ("{type: random}", "  n: {type: int, low: 5, high: 7}\n"
                                  "  x: {type: float, low: 0, high: 1}\n"
                                  "  y: {type: float, low: 0, high: 1}\n"
                                  "  opt: {type: categorical, values: [c]}\n");
    //  Names and types must match; order and bounds need not.
    CHECK (hpo_refine_mismatch (spec, same) == NULL);
    char *why = hpo_refine_mismatch (spec, other);
    CHECK_CONTAINS (why, "parameter n is of another type");
    free (why);
    why = hpo_refine_mismatch (spec, fewer);
    CHECK_CONTAINS (why, "has no parameter n");
    free (why);
    why = hpo_refine_mismatch (spec, more);
    CHECK_CONTAINS (why, "has a parameter y this space has not");
    free (why);
    hpo_spec_destroy (&same);
    hpo_spec_destroy (&other);
    hpo_spec_destroy (&fewer);
    hpo_spec_destroy (&more);
    //  With centres given, from: is only a note: nothing to resolve.
    hpo_spec_t *given =
        s_spec ("{type: refine, from: src, centres: '[{\"x\": 5}]'}", s_x);
    CHECK (given && hpo_refine_from (given) == NULL);
    hpo_spec_destroy (&given);
    //  Another sampler is not a refine.
    hpo_spec_t *random = s_spec ("{type: random}", s_x);
    CHECK (random && hpo_refine_from (random) == NULL);
    hpo_spec_destroy (&random);
    hpo_spec_destroy (&spec);
}

int
main (void)
{
    s_test_window ();
    s_test_log ();
    s_test_rounding ();
    s_test_windows ();
    s_test_categorical ();
    s_test_refused ();
    s_test_from ();
    TEST_DONE ();
}
