/*  refine.c: a grid around the best trials of another study.

    Around each centre (refine.h) every numeric parameter gets `points`
    values evenly spread across a window of `shrink` times its range,
    centred on the centre's value: in log space for a log parameter,
    clipped to the bounds, rounded to the parameter's integers, steps or
    listed values, repeats removed. A categorical parameter takes the
    values the centres have, in the order the space lists them. A window
    is the product of its parameters' values; the grid is the windows one
    after another, best centre first, each point once: a point an earlier
    window has is skipped. Trial n is point n; after the last the study
    ends.

    The grid is built by check, from the options, so that the study's
    size is known when the spec is parsed; new and suggest only read it.
    Until the coordinator wrote the centres in, size is an upper bound.  */
#include "refine.h"

#include <assert.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "../common/spec.h"

typedef struct {
    char *from; //  NULL when only centres were given
    uint64_t top, points;
    double shrink;
    size_t n_params;
    //  The grid, n_points rows of n_params values; NULL without centres,
    //  when bound is the size's upper bound instead.
    hpo_value_t *grid;
    uint64_t n_points;
    uint64_t bound;
} s_config_t;

static const char *const s_keys[] = {"from",   "top",     "points",
                                     "shrink", "centres", NULL};

static void
s_config_free (void *config_)
{
    s_config_t *config = config_;
    if (!config)
        return;
    free (config->from);
    if (config->grid)
        hpo_values_clear (config->grid, config->n_points * config->n_params);
    free (config->grid);
    free (config);
}

//  ---- one window ----------------------------------------------------------

//  A parameter's values in one window.
typedef struct {
    hpo_value_t *v;
    size_t n;
} s_axis_t;

static double
s_to (const hpo_param_spec_t *p, double x)
{
    return p->log ? log (x) : x;
}

static double
s_from (const hpo_param_spec_t *p, double u)
{
    return p->log ? exp (u) : u;
}

//  x moved onto the nearest value the parameter can take.
static hpo_value_t
s_snap (const hpo_param_spec_t *p, double x)
{
    if (p->values) {
        size_t best = 0;
        for (size_t k = 1; k < p->n_values; k++)
            if (fabs (s_to (p, p->values[k].f) - s_to (p, x)) <
                fabs (s_to (p, p->values[best].f) - s_to (p, x)))
                best = k;
        hpo_value_t v;
        hpo_value_copy (&v, &p->values[best]);
        return v;
    }
    if (p->type == HPO_PARAM_INT || p->has_step) {
        double step = p->has_step ? p->step : 1;
        double k = round ((x - p->low) / step);
        x = p->low + k * step;
        if (x > p->high + step * 1e-9)
            x -= step;
        if (p->type == HPO_PARAM_FLOAT)
            x = fmin (hpo_search_tidy (x), p->high);
    }
    if (p->type == HPO_PARAM_INT)
        return (hpo_value_t){.kind = HPO_KIND_INT, .i = (int64_t)x, .f = x};
    return (hpo_value_t){.kind = HPO_KIND_FLOAT, .f = x};
}

static int
s_same (const hpo_value_t *a, const hpo_value_t *b)
{
    if (a->kind != b->kind)
        return 0;
    if (a->kind == HPO_KIND_STR)
        return !strcmp (a->s, b->s);
    return a->kind == HPO_KIND_INT ? a->i == b->i : a->f == b->f;
}

//  Appends v to the axis unless it holds it already; takes v.
static void
s_axis_add (s_axis_t *axis, hpo_value_t v)
{
    for (size_t k = 0; k < axis->n; k++)
        if (s_same (&axis->v[k], &v)) {
            hpo_values_clear (&v, 1);
            return;
        }
    axis->v = hpo_realloc (axis->v, (axis->n + 1) * sizeof (hpo_value_t));
    axis->v[axis->n++] = v;
}

//  A numeric parameter's values around centre c.
static void
s_axis_numeric (const s_config_t *config, const hpo_param_spec_t *p,
                const hpo_value_t *c, s_axis_t *axis)
{
    double lo = s_to (p, p->low), hi = s_to (p, p->high);
    double mid = s_to (p, c->f);
    double half = config->shrink * (hi - lo) / 2;
    uint64_t n = config->points;
    for (uint64_t k = 0; k < n; k++) {
        double u = n == 1 ? mid : mid - half + 2 * half * (double)k / (n - 1);
        //  The centre itself, exactly: exp (log (x)) need not be x.
        double x = 2 * k + 1 == n ? c->f : s_from (p, fmin (fmax (u, lo), hi));
        s_axis_add (axis, s_snap (p, fmin (fmax (x, p->low), p->high)));
    }
}

//  A categorical parameter's values: those of the centres, in the order
//  the space lists them.
static void
s_axis_categorical (const hpo_param_spec_t *p, const hpo_value_t *centres,
                    size_t n_centres, size_t k, size_t n_params, s_axis_t *axis)
{
    for (size_t v = 0; v < p->n_values; v++)
        for (size_t c = 0; c < n_centres; c++)
            if (s_same (&p->values[v], &centres[c * n_params + k])) {
                hpo_value_t copy;
                hpo_value_copy (&copy, &p->values[v]);
                s_axis_add (axis, copy);
                break;
            }
}

//  ---- the grid ------------------------------------------------------------

//  A set of points, each as the text of its values, to skip repeats.
typedef struct {
    char **keys;
    size_t cap, n;
} s_seen_t;

static uint64_t
s_hash (const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

//  Adds key (taken) and returns 1, or 0 if the set held it already.
static int
s_seen_add (s_seen_t *self, char *key)
{
    if (2 * (self->n + 1) > self->cap) {
        s_seen_t bigger = {.cap = self->cap ? self->cap * 2 : 64};
        bigger.keys = hpo_calloc (bigger.cap, sizeof (char *));
        for (size_t k = 0; k < self->cap; k++)
            if (self->keys[k])
                s_seen_add (&bigger, self->keys[k]);
        free (self->keys);
        *self = bigger;
    }
    size_t at = s_hash (key) & (self->cap - 1);
    for (; self->keys[at]; at = (at + 1) & (self->cap - 1))
        if (!strcmp (self->keys[at], key)) {
            free (key);
            return 0;
        }
    self->keys[at] = key;
    self->n++;
    return 1;
}

static void
s_seen_free (s_seen_t *self)
{
    for (size_t k = 0; k < self->cap; k++)
        free (self->keys[k]);
    free (self->keys);
}

//  The text of a row: each value with its kind, so 1 and "1" differ.
static char *
s_row_key (const hpo_value_t *row, size_t n)
{
    char *key = hpo_strdup ("");
    for (size_t k = 0; k < n; k++) {
        char *v = hpo_value_format (&row[k]);
        char *next = hpo_sprintf ("%s%d:%s\x1f", key, row[k].kind, v);
        free (v);
        free (key);
        key = next;
    }
    return key;
}

//  Appends the window's points that are new to the grid. The point count
//  was checked against the limit before.
static void
s_window_add (s_config_t *config, const s_axis_t *axes, s_seen_t *seen)
{
    size_t n = config->n_params;
    uint64_t count = 1;
    for (size_t k = 0; k < n; k++)
        count *= axes[k].n;
    hpo_value_t *row = hpo_calloc (n ? n : 1, sizeof (hpo_value_t));
    for (uint64_t i = 0; i < count; i++) {
        uint64_t rest = i;
        for (size_t k = n; k-- > 0;) {
            row[k] = axes[k].v[rest % axes[k].n]; //  borrowed
            rest /= axes[k].n;
        }
        if (!s_seen_add (seen, s_row_key (row, n)))
            continue;
        config->grid = hpo_realloc (config->grid, (config->n_points + 1) * n *
                                                      sizeof (hpo_value_t));
        for (size_t k = 0; k < n; k++)
            hpo_value_copy (&config->grid[config->n_points * n + k], &row[k]);
        config->n_points++;
    }
    free (row);
}

static void
s_axes_clear (s_axis_t *axes, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        hpo_values_clear (axes[k].v, axes[k].n);
        free (axes[k].v);
        axes[k] = (s_axis_t){0};
    }
}

//  Builds the grid around the centres (n_centres rows of n_params), or
//  returns -1 when it would pass HPO_REFINE_MAX_POINTS.
static int
s_grid_build (const hpo_spec_t *spec, s_config_t *config,
              const hpo_value_t *centres, size_t n_centres)
{
    size_t n = spec->n_params;
    s_axis_t *axes = hpo_calloc (n ? n : 1, sizeof (s_axis_t));
    s_seen_t seen = {0};
    int rc = 0;
    for (size_t c = 0; c < n_centres && rc == 0; c++) {
        uint64_t count = 1;
        for (size_t k = 0; k < n; k++) {
            const hpo_param_spec_t *p = &spec->params[k];
            if (p->type == HPO_PARAM_CATEGORICAL)
                s_axis_categorical (p, centres, n_centres, k, n, &axes[k]);
            else
                s_axis_numeric (config, p, &centres[c * n + k], &axes[k]);
            count = count > HPO_REFINE_MAX_POINTS ? count : count * axes[k].n;
        }
        if (count > HPO_REFINE_MAX_POINTS - config->n_points)
            rc = -1;
        else
            s_window_add (config, axes, &seen);
        s_axes_clear (axes, n);
    }
    s_seen_free (&seen);
    free (axes);
    return rc;
}

//  ---- the centres option --------------------------------------------------

//  Centre c's value of parameter p from JSON j, checked against the space.
static char *
s_centre_value (const hpo_param_spec_t *p, json_t *j, hpo_value_t *out)
{
    if (!j)
        return hpo_sprintf ("has no %s", p->name);
    if (p->type == HPO_PARAM_CATEGORICAL) {
        for (size_t k = 0; k < p->n_values; k++) {
            const hpo_value_t *v = &p->values[k];
            int same =
                v->kind == HPO_KIND_STR
                    ? json_is_string (j) &&
                          !strcmp (json_string_value (j), v->s)
                : v->kind == HPO_KIND_INT
                    ? json_is_integer (j) && json_integer_value (j) == v->i
                    : json_is_number (j) && json_number_value (j) == v->f;
            if (same) {
                hpo_value_copy (out, v);
                return NULL;
            }
        }
        return hpo_sprintf ("has a %s that is not among its values", p->name);
    }
    if (p->type == HPO_PARAM_INT ? !json_is_integer (j) : !json_is_number (j))
        return hpo_sprintf ("has a %s that is not %s", p->name,
                            p->type == HPO_PARAM_INT ? "an integer"
                                                     : "a number");
    double x = json_number_value (j);
    if (!(x >= p->low && x <= p->high))
        return hpo_sprintf ("has %s %g, outside [%g, %g]", p->name, x, p->low,
                            p->high);
    if (p->type == HPO_PARAM_INT)
        *out = (hpo_value_t){
            .kind = HPO_KIND_INT, .i = (int64_t)json_integer_value (j), .f = x};
    else
        *out = (hpo_value_t){.kind = HPO_KIND_FLOAT, .f = x};
    return NULL;
}

//  Reads the centres' JSON into rows of n_params values; NULL, or why not.
static char *
s_centres_read (const hpo_spec_t *spec, const char *text, hpo_value_t **rows,
                size_t *n_rows)
{
    json_error_t jerr;
    json_t *list = json_loads (text, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_array (list) || json_array_size (list) == 0) {
        json_decref (list);
        return hpo_strdup ("must be a JSON list of objects, one per centre");
    }
    size_t n = spec->n_params, count = json_array_size (list);
    *rows = hpo_calloc (count * n + 1, sizeof (hpo_value_t));
    *n_rows = count;
    char *why = NULL;
    for (size_t c = 0; c < count && !why; c++) {
        json_t *obj = json_array_get (list, c);
        if (!json_is_object (obj) || json_object_size (obj) != n)
            why = hpo_strdup ("has parameters the space does not");
        for (size_t k = 0; k < n && !why; k++) {
            const hpo_param_spec_t *p = &spec->params[k];
            why = s_centre_value (p, json_object_get (obj, p->name),
                                  &(*rows)[c * n + k]);
        }
        if (why) {
            char *at = hpo_sprintf ("centre %zu %s", c + 1, why);
            free (why);
            why = at;
        }
    }
    json_decref (list);
    return why;
}

//  ---- check ---------------------------------------------------------------

static int
s_option_shrink (const hpo_search_option_t *o, size_t k, double *out,
                 hpo_search_problem_t *problem)
{
    if (o->value.kind == HPO_KIND_STR || !(o->value.f > 0) ||
        !(o->value.f <= 1))
        return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, k,
                                "must be a number above 0, at most 1");
    *out = o->value.f;
    return 0;
}

//  Reads the options into config; *centres is the centres option's text.
static int
s_options (const hpo_search_option_t *options, size_t n, s_config_t *config,
           const char **centres, size_t *at_centres,
           hpo_search_problem_t *problem)
{
    for (size_t k = 0; k < n; k++) {
        const hpo_search_option_t *o = &options[k];
        uint64_t *count = !strcmp (o->key, "top")      ? &config->top
                          : !strcmp (o->key, "points") ? &config->points
                                                       : NULL;
        if (count) {
            if (hpo_search_option_uint (options, k, count, problem))
                return -1;
            if (*count < 1 || *count > 1000)
                return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, k,
                                        "must be from 1 to 1000");
        } else if (!strcmp (o->key, "shrink")) {
            if (s_option_shrink (o, k, &config->shrink, problem))
                return -1;
        } else if (!strcmp (o->key, "from"))
            config->from = hpo_value_format (&o->value);
        else {
            assert (!strcmp (o->key, "centres"));
            if (o->value.kind != HPO_KIND_STR)
                return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, k,
                                        "must be a JSON list, quoted");
            *centres = o->value.s;
            *at_centres = k;
        }
    }
    return 0;
}

//  Until the centres are known: top windows of the most points each
//  parameter can have, a bound on the grid.
static uint64_t
s_bound (const hpo_spec_t *spec, const s_config_t *config)
{
    uint64_t bound = config->top;
    for (size_t k = 0; k < spec->n_params; k++) {
        const hpo_param_spec_t *p = &spec->params[k];
        uint64_t count = p->type == HPO_PARAM_CATEGORICAL
                             ? p->n_values
                             : hpo_param_grid_count (p);
        if (p->type != HPO_PARAM_CATEGORICAL &&
            (count == 0 || count > config->points))
            count = config->points;
        bound = bound > HPO_SPEC_MAX_GRID / count ? HPO_SPEC_MAX_GRID
                                                  : bound * count;
    }
    return bound;
}

static int
s_check (const hpo_spec_t *spec, const hpo_search_option_t *options, size_t n,
         void **config_p, hpo_search_problem_t *problem)
{
    s_config_t *config = hpo_calloc (1, sizeof *config);
    config->top = HPO_REFINE_TOP;
    config->points = HPO_REFINE_POINTS;
    config->shrink = HPO_REFINE_SHRINK;
    config->n_params = spec->n_params;
    const char *centres = NULL;
    size_t at = 0;
    int rc = s_options (options, n, config, &centres, &at, problem);
    for (size_t k = 0; rc == 0 && k < spec->n_params; k++)
        if (spec->params[k].when_param >= 0 || spec->params[k].grid)
            rc = hpo_search_fail (problem, HPO_SEARCH_AT_PARAM, k,
                                  spec->params[k].grid
                                      ? "refine is a grid already: it "
                                        "takes no grid: true"
                                      : "refine does not take conditional "
                                        "parameters (when:)");
    if (rc == 0 && !centres && !config->from)
        rc = hpo_search_fail (problem, HPO_SEARCH_AT_SECTION, 0,
                              "refine needs from: the study to refine");
    hpo_value_t *rows = NULL;
    size_t n_rows = 0;
    char *why = NULL;
    if (rc == 0 && centres &&
        (why = s_centres_read (spec, centres, &rows, &n_rows)))
        rc = hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, at, "%s", why);
    if (rc == 0 && centres && s_grid_build (spec, config, rows, n_rows))
        rc = hpo_search_fail (problem, HPO_SEARCH_AT_SECTION, 0,
                              "the refined grid has more than %d points: "
                              "fewer points or a smaller top",
                              HPO_REFINE_MAX_POINTS);
    free (why);
    if (rows)
        hpo_values_clear (rows, n_rows * spec->n_params);
    free (rows);
    config->bound = s_bound (spec, config);
    if (rc)
        s_config_free (config);
    else
        *config_p = config;
    return rc;
}

static uint64_t
s_size (const hpo_spec_t *spec, const void *config_)
{
    const s_config_t *config = config_;
    return config->grid ? config->n_points : config->bound;
}

//  ---- the instance --------------------------------------------------------

static void *
s_new (const hpo_spec_t *spec, const void *config)
{
    //  The grid lives in the config, which lives as long as the spec.
    (void)spec;
    return (void *)config;
}

static void
s_destroy (void *self)
{
    (void)self;
}

static int
s_suggest (void *self, const hpo_spec_t *spec, const hpo_history_t *history,
           uint64_t number, const uint8_t *fixed, hpo_value_t *out)
{
    const s_config_t *config = self;
    (void)history;
    assert (config->n_params == spec->n_params);
    if (!config->grid)
        return -1; //  the coordinator writes the centres in before
    if (number >= config->n_points)
        return 1;
    for (size_t k = 0; k < spec->n_params; k++)
        if (!fixed || !fixed[k])
            hpo_value_copy (&out[k],
                            &config->grid[number * spec->n_params + k]);
    return 0;
}

const hpo_sampler_ops_t hpo_sampler_refine = {
    .name = "refine",
    .summary = "a grid around the best trials of another study (from:)",
    .keys = s_keys,
    .needs_curves = 0,
    .check = s_check,
    .config_free = s_config_free,
    .size = s_size,
    .new = s_new,
    .destroy = s_destroy,
    .suggest = s_suggest,
};

//  ---- for the coordinator -------------------------------------------------

const char *
hpo_refine_from (const hpo_spec_t *spec)
{
    if (spec->sampler.ops != &hpo_sampler_refine)
        return NULL;
    const s_config_t *config = spec->sampler.config;
    return config->grid ? NULL : config->from;
}

uint64_t
hpo_refine_top (const hpo_spec_t *spec)
{
    assert (spec->sampler.ops == &hpo_sampler_refine);
    return ((const s_config_t *)spec->sampler.config)->top;
}

char *
hpo_refine_mismatch (const hpo_spec_t *spec, const hpo_spec_t *from)
{
    for (size_t k = 0; k < spec->n_params; k++) {
        const hpo_param_spec_t *p = &spec->params[k];
        int j = hpo_spec_param_index (from, p->name);
        if (j < 0)
            return hpo_sprintf ("study %s has no parameter %s", from->name,
                                p->name);
        if (from->params[j].type != p->type)
            return hpo_sprintf ("parameter %s is of another type in study %s",
                                p->name, from->name);
    }
    for (size_t k = 0; k < from->n_params; k++)
        if (hpo_spec_param_index (spec, from->params[k].name) < 0)
            return hpo_sprintf ("study %s has a parameter %s this space has "
                                "not",
                                from->name, from->params[k].name);
    return NULL;
}
