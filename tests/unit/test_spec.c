/*  test_spec.c: study files, good and bad. Every bad file must be refused
    with the file, the right line and the right key path in the message,
    and without a byte written to stderr.                                 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/spec.h"
#include "testutil.h"

//  How many points the study's sampler can suggest (grid: the grid).
static uint64_t
s_size (const hpo_spec_t *spec)
{
    return spec->sampler.ops->size (spec, spec->sampler.config);
}

static char *
s_read_data (const char *name, size_t *len)
{
    const char *dir = getenv ("HPO_TEST_DATA");
    if (!dir)
        dir = "tests/data";
    char path[1024];
    snprintf (path, sizeof path, "%s/spec/%s", dir, name);
    FILE *f = fopen (path, "rb");
    CHECK (f != NULL);
    if (!f) {
        fprintf (stderr, "cannot open %s\n", path);
        *len = 0;
        return strdup ("");
    }
    char *text = malloc (1 << 16);
    *len = fread (text, 1, (1 << 16) - 1, f);
    text[*len] = 0;
    fclose (f);
    return text;
}

static hpo_spec_t *
s_parse_file (const char *name, char **error)
{
    size_t len;
    char *text = s_read_data (name, &len);
    hpo_spec_t *spec = hpo_spec_parse (text, len, name, error);
    free (text);
    return spec;
}

static hpo_spec_t *
s_parse (const char *text, char **error)
{
    return hpo_spec_parse (text, strlen (text), "t.yaml", error);
}

//  Parses text expecting failure with a message containing expect.
static void
s_bad (const char *text, const char *expect, int line)
{
    char *error = NULL;
    hpo_spec_t *spec = s_parse (text, &error);
    t_checks++;
    if (spec || !error || !strstr (error, expect)) {
        fprintf (stderr, "%s:%d: expected error \"%s\", got %s\n", __FILE__,
                 line, expect,
                 spec    ? "success"
                 : error ? error
                         : "(null)");
        t_failures++;
    }
    hpo_spec_destroy (&spec);
    free (error);
}
#define BAD(text, expect) s_bad (text, expect, __LINE__)

static void
s_check_full (const hpo_spec_t *spec)
{
    CHECK (spec != NULL);
    if (!spec)
        return;
    CHECK_STR (spec->name, "mnist-v2.1");
    CHECK_STR (spec->command,
               "python3 train.py --lr {lr} --layers {layers} --opt {opt}");
    CHECK (!spec->shell);
    CHECK_STR (spec->metric, "val_loss");
    CHECK (spec->maximize);
    CHECK (spec->sampler.ops == hpo_sampler_find ("random"));
    CHECK (spec->pruner.ops == hpo_pruner_find ("none"));
    CHECK (spec->trials == 200);
    CHECK (spec->parallel == 16);
    CHECK (spec->timeout_ms == 30 * 60 * 1000);
    CHECK (spec->retries == 2);
    CHECK (spec->grace_ms == 5000);
    CHECK (s_size (spec) == UINT64_MAX);
    CHECK (spec->n_params == 3);
    if (spec->n_params != 3)
        return;
    const hpo_param_spec_t *lr = &spec->params[0];
    CHECK_STR (lr->name, "lr");
    CHECK (lr->type == HPO_PARAM_FLOAT);
    CHECK (lr->low == 1.0e-5 && lr->high == 1.0e-1);
    CHECK (lr->log && !lr->has_step && lr->n_values == 0);
    const hpo_param_spec_t *layers = &spec->params[1];
    CHECK_STR (layers->name, "layers");
    CHECK (layers->type == HPO_PARAM_INT);
    CHECK (layers->low == 1 && layers->high == 8 && !layers->log);
    const hpo_param_spec_t *opt = &spec->params[2];
    CHECK_STR (opt->name, "opt");
    CHECK (opt->type == HPO_PARAM_CATEGORICAL);
    CHECK (opt->n_values == 2);
    if (opt->n_values == 2) {
        CHECK (opt->values[0].kind == HPO_KIND_STR);
        CHECK_STR (opt->values[0].s, "adam");
        CHECK_STR (opt->values[1].s, "sgd");
    }
    CHECK (hpo_spec_param_index (spec, "lr") == 0);
    CHECK (hpo_spec_param_index (spec, "opt") == 2);
    CHECK (hpo_spec_param_index (spec, "nope") == -1);
    CHECK (hpo_spec_param_index (spec, "") == -1);
}

static void
s_test_files (void)
{
    char *error = NULL;
    hpo_spec_t *spec = s_parse_file ("full.yaml", &error);
    CHECK (error == NULL);
    s_check_full (spec);
    hpo_spec_destroy (&spec);
    CHECK (spec == NULL);
    hpo_spec_destroy (&spec); //  idempotent

    //  The same study as JSON (tab-indented, as editors write it).
    spec = s_parse_file ("full.json", &error);
    CHECK (error == NULL);
    s_check_full (spec);
    hpo_spec_destroy (&spec);

    spec = s_parse_file ("grid.yaml", &error);
    CHECK (error == NULL);
    CHECK (spec != NULL);
    if (spec) {
        CHECK (spec->sampler.ops == hpo_sampler_find ("grid"));
        CHECK (spec->shell);
        CHECK_STR (spec->command,
                   "./train --opt {opt} --n {n} --x {x} > out.txt");
        CHECK (!spec->maximize);
        //  3 opts x {2,4,6,8,10} x {0,.25,.5,.75,1}
        CHECK (s_size (spec) == 3 * 5 * 5);
        CHECK (spec->trials == 75); //  no budget: the whole grid
        CHECK (hpo_param_grid_count (&spec->params[0]) == 3);
        CHECK (hpo_param_grid_count (&spec->params[1]) == 5);
        CHECK (hpo_param_grid_count (&spec->params[2]) == 5);
    }
    hpo_spec_destroy (&spec);

    spec = s_parse_file ("bad_type.yaml", &error);
    CHECK (spec == NULL);
    CHECK_STR (error, "bad_type.yaml:10: space.lr.low: must be a number");
    free (error);

    spec = s_parse_file ("bad_syntax.yaml", &error);
    CHECK (spec == NULL);
    CHECK_CONTAINS (error, "bad_syntax.yaml:4: syntax error: ");
    free (error);

    //  JSON is strict: a quoted number is a string.
    spec = s_parse_file ("bad.json", &error);
    CHECK (spec == NULL);
    CHECK_STR (error, "bad.json:7: space.lr.low: must be a number");
    free (error);
}

static void
s_test_defaults (void)
{
    char *error = NULL;
    hpo_spec_t *spec = s_parse ("name: t\n"
                                "command: ./run {x}\n"
                                "objective: {metric: val/loss}\n"
                                "budget: {trials: 5}\n"
                                "space:\n"
                                "  x: {type: float, low: -1, high: 1}\n",
                                &error);
    CHECK (spec != NULL);
    CHECK (error == NULL);
    if (!spec)
        return;
    CHECK_STR (spec->metric, "val/loss");
    CHECK (!spec->maximize);
    CHECK (spec->sampler.ops == hpo_sampler_find ("random"));
    CHECK (spec->pruner.ops == hpo_pruner_find ("none"));
    CHECK (spec->trials == 5);
    CHECK (spec->parallel == 0);
    CHECK (spec->timeout_ms == 0);
    CHECK (spec->grace_ms == 10000);
    CHECK (spec->retries == 0);
    CHECK (!spec->shell);
    CHECK (spec->params[0].low == -1 && spec->params[0].high == 1);
    hpo_spec_destroy (&spec);

    //  Optional sections may be present but empty.
    spec = s_parse ("name: t\n"
                    "command: {run: './run {x}'}\n"
                    "objective: {metric: loss, direction: minimize}\n"
                    "sampler:\n"
                    "trial: {}\n"
                    "budget: {trials: 1, parallel: 0}\n"
                    "space: {x: {type: int, low: 3, high: 3}}\n",
                    &error);
    CHECK (spec != NULL);
    if (!spec)
        fprintf (stderr, "  %s\n", error);
    if (spec) {
        CHECK (!spec->shell);
        CHECK_STR (spec->command, "./run {x}");
        CHECK (spec->params[0].low == 3 && spec->params[0].high == 3);
    }
    hpo_spec_destroy (&spec);
    free (error);
}

static void
s_test_values (void)
{
    char *error = NULL;
    hpo_spec_t *spec = s_parse (
        "name: t\n"
        "command: ./run {c} {f} {i}\n"
        "objective: {metric: acc}\n"
        "budget: {trials: 5}\n"
        "space:\n"
        "  c: {type: categorical,\n"
        "      values: [1, 2.5, adam, \"3\", true, !!str 4, -7, 1e3, 'x y']}\n"
        "  f: {type: float, values: [0.5, 2, -1.25]}\n"
        "  i: {type: int, values: [16, 4, 64]}\n",
        &error);
    CHECK (spec != NULL);
    CHECK (error == NULL);
    free (error);
    if (!spec)
        return;
    const hpo_param_spec_t *c = &spec->params[0];
    CHECK (c->n_values == 9);
    if (c->n_values == 9) {
        CHECK (c->values[0].kind == HPO_KIND_INT && c->values[0].i == 1);
        CHECK (c->values[1].kind == HPO_KIND_FLOAT && c->values[1].f == 2.5);
        CHECK (c->values[2].kind == HPO_KIND_STR);
        CHECK_STR (c->values[2].s, "adam");
        CHECK (c->values[3].kind == HPO_KIND_STR); //  quoted
        CHECK_STR (c->values[3].s, "3");
        CHECK (c->values[4].kind == HPO_KIND_STR);
        CHECK_STR (c->values[4].s, "true");
        CHECK (c->values[5].kind == HPO_KIND_STR); //  tagged !!str
        CHECK_STR (c->values[5].s, "4");
        CHECK (c->values[6].kind == HPO_KIND_INT && c->values[6].i == -7);
        CHECK (c->values[7].kind == HPO_KIND_FLOAT && c->values[7].f == 1000);
        CHECK_STR (c->values[8].s, "x y");
    }
    const hpo_param_spec_t *f = &spec->params[1];
    CHECK (f->type == HPO_PARAM_FLOAT && f->n_values == 3);
    CHECK (f->values[1].kind == HPO_KIND_FLOAT && f->values[1].f == 2);
    CHECK (f->low == -1.25 && f->high == 2);
    const hpo_param_spec_t *i = &spec->params[2];
    CHECK (i->type == HPO_PARAM_INT && i->n_values == 3);
    CHECK (i->values[0].kind == HPO_KIND_INT && i->values[0].i == 16);
    CHECK (i->values[0].f == 16);
    CHECK (i->low == 4 && i->high == 64);
    CHECK (hpo_param_grid_count (c) == 9);
    hpo_spec_destroy (&spec);
}

//  Parses a study whose sampler and pruner lines are given (line 4 on),
//  expecting the error want, or success when want is NULL.
static hpo_spec_t *
s_search (const char *lines, const char *want)
{
    char text[1024];
    snprintf (text, sizeof text,
              "name: t\n"
              "command: ./run {x}\n"
              "objective: {metric: loss}\n"
              "%s\n"
              "budget: {trials: 5}\n"
              "space: {x: {type: float, low: 0, high: 1, step: 0.5}}\n",
              lines);
    char *error = NULL;
    hpo_spec_t *spec = s_parse (text, &error);
    if (want)
        CHECK_STR (error, want);
    else if (!spec)
        fprintf (stderr, "unexpected: %s\n", error);
    CHECK (want ? spec == NULL : spec != NULL);
    free (error);
    return spec;
}

//  sampler: and pruner: name registry entries (search/) and hand them
//  their options; what is wrong is reported at file:line: path.
static void
s_test_search (void)
{
    s_search ("sampler: {type: bogus}",
              "t.yaml:4: sampler.type: must be one of: random, grid, tpe, "
              "qmc, cmaes");
    s_search ("sampler:\n  seed: 3\n  type: [grid]",
              "t.yaml:6: sampler.type: must be a string");
    //  An option's value is the entry's to judge, at the option's line.
    s_search ("sampler:\n  type: grid\n  seed: many",
              "t.yaml:6: sampler.seed: must be a non-negative integer");
    s_search ("sampler:\n  type: random\n  seed: 1.5",
              "t.yaml:6: sampler.seed: must be a non-negative integer");
    s_search ("sampler:\n  type: random\n  seed: 99999999999999999999",
              "t.yaml:6: sampler.seed: is out of range");
    s_search ("sampler:\n  type: random\n  seed: [1]",
              "t.yaml:6: sampler.seed: must be a scalar");
    //  Which keys exist depends on the type.
    s_search ("sampler: {type: random, sede: 1}",
              "t.yaml:4: sampler.sede: unknown key (did you mean seed?)");
    s_search ("sampler: {type: grid, seed: 1, seed: 2}",
              "t.yaml:4: sampler.seed: duplicate key");
    s_search ("sampler: random", "t.yaml:4: sampler: must be a mapping");

    hpo_spec_t *spec = s_search ("pruner: {type: none}", NULL);
    CHECK (spec && spec->pruner.ops == hpo_pruner_find ("none"));
    hpo_spec_destroy (&spec);
    spec = s_search ("pruner: ~", NULL);
    CHECK (spec && spec->pruner.ops == hpo_pruner_find ("none"));
    CHECK (spec && spec->sampler.ops == hpo_sampler_find ("random"));
    hpo_spec_destroy (&spec);
    spec = s_search ("sampler: {type: grid, seed: 4}\npruner: {}", NULL);
    CHECK (spec && spec->sampler.ops == hpo_sampler_find ("grid"));
    CHECK (spec && spec->pruner.ops == hpo_pruner_find ("none"));
    hpo_spec_destroy (&spec);
    s_search ("pruner: {type: bogus}",
              "t.yaml:4: pruner.type: must be one of: none, median, percentile, "
              "threshold, patient, asha, hyperband");
    s_search ("pruner:\n  type: none\n  patience: 2",
              "t.yaml:6: pruner.patience: unknown key");
    s_search ("pruner: [none]", "t.yaml:4: pruner: must be a mapping");
}

static void
s_test_grid (void)
{
    const char *head = "name: g\n"
                       "command: ./run {a} {b}\n"
                       "objective: {metric: loss}\n"
                       "sampler: {type: grid}\n";
    char text[1024];
    char *error = NULL;

    //  budget.trials caps the grid; a larger budget is cut to the grid.
    snprintf (text, sizeof text,
              "%sbudget: {trials: 7}\n"
              "space:\n"
              "  a: {type: int, low: 1, high: 3}\n"
              "  b: {type: float, values: [0.1, 0.2]}\n",
              head);
    hpo_spec_t *spec = s_parse (text, &error);
    CHECK (spec && s_size (spec) == 6 && spec->trials == 6);
    hpo_spec_destroy (&spec);
    snprintf (text, sizeof text,
              "%sbudget: {trials: 4}\n"
              "space:\n"
              "  a: {type: int, low: 1, high: 3}\n"
              "  b: {type: float, values: [0.1, 0.2]}\n",
              head);
    spec = s_parse (text, &error);
    CHECK (spec && s_size (spec) == 6 && spec->trials == 4);
    hpo_spec_destroy (&spec);

    //  A float step that does not divide the range exactly in binary.
    snprintf (text, sizeof text,
              "%sspace:\n"
              "  a: {type: float, low: 0, high: 1, step: 0.1}\n"
              "  b: {type: int, low: 0, high: 10, step: 3}\n",
              head);
    spec = s_parse (text, &error);
    CHECK (spec && s_size (spec) == 11 * 4);
    hpo_spec_destroy (&spec);

    //  Log int ranges enumerate every integer.
    snprintf (text, sizeof text,
              "%sspace:\n"
              "  a: {type: int, low: 1, high: 100, log: true}\n"
              "  b: {type: categorical, values: [x]}\n",
              head);
    spec = s_parse (text, &error);
    CHECK (spec && s_size (spec) == 100);
    hpo_spec_destroy (&spec);

    snprintf (text, sizeof text,
              "%sspace:\n"
              "  a: {type: int, low: 1, high: 3}\n"
              "  b: {type: float, low: 0, high: 1}\n",
              head);
    BAD (text, "t.yaml:7: space.b: grid needs values, step or points");

    //  1e5 * 1e5 points: too many, and the message says where.
    snprintf (text, sizeof text,
              "%sspace:\n"
              "  a: {type: int, low: 1, high: 100000}\n"
              "  b: {type: int, low: 1, high: 100000}\n",
              head);
    BAD (text, "t.yaml:5: space: grid has more than 1000000000 points");
    //  Overflows 64 bits on the way.
    snprintf (text, sizeof text,
              "%sspace:\n"
              "  a: {type: int, low: 0, high: 9007199254740992}\n"
              "  b: {type: float, low: 0, high: 1e300, step: 1e-300}\n",
              head);
    BAD (text, "t.yaml:5: space: grid has more than 1000000000 points");
    free (error);
}

static void
s_test_bad (void)
{
    //  Line numbers are 1-based and point at the offending key or value.
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space:\n"
         "  x: {type: float, low: 0, high: 1, lowe: 2}\n",
         "t.yaml:6: space.x.lowe: unknown key");
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "pruner: {type: bogus}\n"
         "space: {x: {type: float, low: 0, high: 1}}\n",
         "t.yaml:5: pruner.type: must be one of: none, median, percentile, "
         "threshold, patient, asha, hyperband");
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "objective: {metric: loss, goal: 3}\n"
         "budget: {trials: 5}\n"
         "space: {x: {type: float, low: 0, high: 1}}\n",
         "t.yaml:3: objective.goal: unknown key");
    //  Missing keys point at their parent.
    BAD ("command: ./run {x}\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space: {x: {type: float, low: 0, high: 1}}\n",
         "t.yaml:1: name: missing");
    BAD ("name: t\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space: {x: {type: float, low: 0, high: 1}}\n",
         "t.yaml:1: command: missing");
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n",
         "t.yaml:1: space: missing");
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "budget: {trials: 5}\n"
         "space: {x: {type: float, low: 0, high: 1}}\n",
         "t.yaml:1: objective: missing");
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "objective:\n"
         "  direction: maximize\n"
         "budget: {trials: 5}\n"
         "space: {x: {type: float, low: 0, high: 1}}\n",
         "t.yaml:3: objective.metric: missing");
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "objective: {metric: loss}\n"
         "space: {x: {type: float, low: 0, high: 1}}\n",
         "t.yaml:1: budget.trials: missing");
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "objective: {metric: loss}\n"
         "budget:\n"
         "  parallel: 4\n"
         "space: {x: {type: float, low: 0, high: 1}}\n",
         "t.yaml:4: budget.trials: missing");
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space:\n"
         "  x:\n"
         "    type: float\n"
         "    high: 1\n",
         "t.yaml:6: space.x.low: missing");
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space:\n"
         "  x: {low: 0, high: 1}\n",
         "t.yaml:6: space.x.type: missing");

    //  Names.
    BAD ("name: my study\n", "t.yaml:1: name: may hold only letters");
    BAD ("name: ''\n", "t.yaml:1: name: must not be empty");
    //  Issue #10: "." and ".." were accepted here, then every trial failed
    //  on the worker ("bad study name"), which builds paths from the name.
    BAD ("name: .\n", "t.yaml:1: name: must not be . or ..");
    BAD ("name: \"..\"\n", "t.yaml:1: name: must not be . or ..");
    BAD ("name: a/b\n", "t.yaml:1: name: may hold only letters");
    BAD ("name: caf\xc3\xa9\n", "t.yaml:1: name: may hold only letters");
    BAD ("name: [a]\n", "t.yaml:1: name: must be a string");
    BAD ("name:\n", "t.yaml:1: name: must be a string");
    {
        char text[512];
        memset (text, 0, sizeof text);
        strcpy (text, "name: ");
        memset (text + 6, 'a', 129);
        BAD (text, "t.yaml:1: name: must be at most 128 bytes");
    }
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space:\n"
         "  1x: {type: float, low: 0, high: 1}\n",
         "t.yaml:6: space.1x: a parameter name must match");
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space:\n"
         "  x-y: {type: float, low: 0, high: 1}\n",
         "t.yaml:6: space.x-y: a parameter name must match");
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "objective: {metric: 'val loss'}\n"
         "budget: {trials: 5}\n"
         "space: {x: {type: float, low: 0, high: 1}}\n",
         "t.yaml:3: objective.metric: must be 1 to 128 bytes of letters");
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "objective: {metric: step}\n"
         "budget: {trials: 5}\n"
         "space: {x: {type: float, low: 0, high: 1}}\n",
         "t.yaml:3: objective.metric: step is a report's step, not a metric");
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space: {x: {type: float, low: 0, hihg: 1}}\n",
         "t.yaml:5: space.x.hihg: unknown key (did you mean high?)");
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "objective: {metric: loss}\n"
         "budget: {trails: 5}\n"
         "space: {x: {type: float, low: 0, high: 1}}\n",
         "t.yaml:4: budget.trails: unknown key (did you mean trials?)");

    //  Wrong types and values.
    const char *head = "name: t\n"
                       "command: ./run {x}\n"
                       "objective: {metric: loss}\n"
                       "budget: {trials: 5}\n"
                       "space:\n";
    struct {
        const char *param;
        const char *expect;
    } params[] = {
        {"  x: {type: double, low: 0, high: 1}",
         "t.yaml:6: space.x.type: must be float, int or categorical"},
        {"  x: {type: float, low: '0', high: 1}",
         "t.yaml:6: space.x.low: must be a number"},
        {"  x: {type: float, low: 0, high: .inf}",
         "t.yaml:6: space.x.high: must be a finite number"},
        {"  x: {type: float, low: 1, high: 1}",
         "t.yaml:6: space.x.high: must be greater than low"},
        {"  x: {type: float, low: 2, high: 1}",
         "t.yaml:6: space.x.high: must be greater than low"},
        {"  x: {type: int, low: 2, high: 1}",
         "t.yaml:6: space.x.high: must not be less than low"},
        {"  x: {type: int, low: 0.5, high: 1}",
         "t.yaml:6: space.x.low: must be an integer"},
        {"  x: {type: int, low: 0, high: 99999999999999999999}",
         "t.yaml:6: space.x.high: is out of range"},
        {"  x: {type: int, low: 0, high: 9007199254740993}",
         "t.yaml:6: space.x.high: is out of range"},
        {"  x: {type: float, low: 0, high: 1, log: true}",
         "t.yaml:6: space.x.low: must be positive when log is true"},
        {"  x: {type: int, low: 0, high: 8, log: true}",
         "t.yaml:6: space.x.low: must be positive when log is true"},
        {"  x: {type: float, low: 0, high: 1, log: yes}",
         "t.yaml:6: space.x.log: must be true or false"},
        {"  x: {type: float, low: 0.1, high: 1, log: true,\n"
         "      step: 0.1}",
         "t.yaml:7: space.x.step: cannot be combined with log"},
        {"  x: {type: float, low: 0, high: 1, step: 0}",
         "t.yaml:6: space.x.step: must be positive"},
        {"  x: {type: int, low: 0, high: 10, step: 1.5}",
         "t.yaml:6: space.x.step: must be a positive integer"},
        {"  x: {type: int, low: 0, high: 10, step: -1}",
         "t.yaml:6: space.x.step: must be a positive integer"},
        {"  x: {type: categorical}", "t.yaml:6: space.x.values: missing"},
        {"  x:\n    type: categorical\n    values: []",
         "t.yaml:8: space.x.values: must not be empty"},
        {"  x:\n    type: categorical\n    values: adam",
         "t.yaml:8: space.x.values: must be a list"},
        {"  x:\n    type: categorical\n    values:\n      - a\n"
         "      - [b, c]",
         "t.yaml:10: space.x.values[1]: must be a scalar"},
        {"  x:\n    type: categorical\n    values:\n      - a\n"
         "      - {b: 1}",
         "t.yaml:10: space.x.values[1]: must be a scalar"},
        {"  x:\n    type: categorical\n    values:\n      - a\n"
         "      - ~",
         "t.yaml:10: space.x.values[1]: must not be null"},
        {"  x:\n    type: categorical\n    values: [a, b, a]",
         "t.yaml:8: space.x.values[2]: duplicate value"},
        //  1 and 1.0 are one word on a command line.
        {"  x:\n    type: categorical\n    values: [1, 2, 1.0]",
         "t.yaml:8: space.x.values[2]: duplicate value"},
        {"  x:\n    type: categorical\n    values: [a]\n    low: 0",
         "t.yaml:9: space.x.low: not allowed for categorical"},
        {"  x:\n    type: float\n    values: [1, 2]\n    step: 1",
         "t.yaml:9: space.x.step: cannot be combined with values"},
        {"  x:\n    type: int\n    values: [1, 2.5]",
         "t.yaml:8: space.x.values[1]: must be an integer"},
        {"  x:\n    type: float\n    values: [1, two]",
         "t.yaml:8: space.x.values[1]: must be a number"},
        {"  x: {type: float, low: !!float 0, high: 1}",
         "t.yaml:6: space.x.low: unsupported tag"},
        {"  x: 3", "t.yaml:6: space.x: must be a mapping"},
    };
    for (size_t k = 0; k < sizeof params / sizeof params[0]; k++) {
        char text[1024];
        snprintf (text, sizeof text, "%s%s\n", head, params[k].param);
        s_bad (text, params[k].expect, (int)k);
    }
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space: {}\n",
         "t.yaml:5: space: must name at least one parameter");
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space: [x]\n",
         "t.yaml:5: space: must be a mapping");

    //  The study's other sections.
    const char *tail = "space: {x: {type: float, low: 0, high: 1}}\n";
    struct {
        const char *middle;
        const char *expect;
    } sections[] = {
        {"objective: {metric: loss, direction: up}\nbudget: {trials: 5}",
         "t.yaml:2: objective.direction: must be minimize or maximize"},
        {"objective: loss\nbudget: {trials: 5}",
         "t.yaml:2: objective: must be a mapping"},
        {"objective: {metric: loss}\nbudget: {trials: 0}",
         "t.yaml:3: budget.trials: must be a positive integer"},
        {"objective: {metric: loss}\nbudget: {trials: many}",
         "t.yaml:3: budget.trials: must be a positive integer"},
        {"objective: {metric: loss}\nbudget: {trials: 5, parallel: -1}",
         "t.yaml:3: budget.parallel: must be a non-negative integer"},
        {"objective: {metric: loss}\nbudget: {trials: 5, parallel: 1e9}",
         "t.yaml:3: budget.parallel: must be a non-negative integer"},
        {"objective: {metric: loss}\nbudget: {trials: 5, parallel: 5000000000}",
         "t.yaml:3: budget.parallel: is out of range"},
        {"objective: {metric: loss}\nbudget: 5",
         "t.yaml:3: budget: must be a mapping"},
        {"objective: {metric: loss}\nbudget: {trials: 5}\n"
         "sampler: {type: bogus}",
         "t.yaml:4: sampler.type: must be one of: random, grid, tpe, qmc, "
         "cmaes"},
        {"objective: {metric: loss}\nbudget: {trials: 5}\n"
         "sampler: {seed: -3}",
         "t.yaml:4: sampler.seed: must be a non-negative integer"},
        {"objective: {metric: loss}\nbudget: {trials: 5}\n"
         "trial: {timeout: soon}",
         "t.yaml:4: trial.timeout: must be a duration"},
        {"objective: {metric: loss}\nbudget: {trials: 5}\n"
         "trial: {timeout: 0}",
         "t.yaml:4: trial.timeout: must be at least 1ms"},
        {"objective: {metric: loss}\nbudget: {trials: 5}\n"
         "trial: {retries: -1}",
         "t.yaml:4: trial.retries: must be a non-negative integer"},
        {"objective: {metric: loss}\nbudget: {trials: 5}\n"
         "trial: {grace: -5s}",
         "t.yaml:4: trial.grace: must be a duration"},
        {"objective: {metric: loss}\nbudget: {trials: 5}\n"
         "trial: {gpus: 1}",
         "t.yaml:4: trial.gpus: unknown key"},
    };
    for (size_t k = 0; k < sizeof sections / sizeof sections[0]; k++) {
        char text[1024];
        snprintf (text, sizeof text, "name: t\n%s\ncommand: ./run {x}\n%s",
                  sections[k].middle, tail);
        s_bad (text, sections[k].expect, (int)k);
    }

    //  The command template, checked against the space.
    BAD ("name: t\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space: {x: {type: float, low: 0, high: 1}}\n"
         "command: ./run --x {y}\n",
         "t.yaml:5: command: unknown placeholder {y}");
    BAD ("name: t\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space: {x: {type: float, low: 0, high: 1}}\n"
         "command: \"./run 'x={x}\"\n",
         "t.yaml:5: command: unterminated ' quote");
    BAD ("name: t\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space: {x: {type: float, low: 0, high: 1}}\n"
         "command:\n"
         "  shell: true\n"
         "  run: echo ${HOME} {x}\n",
         "t.yaml:7: command.run: unknown placeholder {HOME}");
    BAD ("name: t\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space: {x: {type: float, low: 0, high: 1}}\n"
         "command:\n"
         "  shell: 1\n"
         "  run: echo {x}\n",
         "t.yaml:6: command.shell: must be true or false");
    BAD ("name: t\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space: {x: {type: float, low: 0, high: 1}}\n"
         "command:\n"
         "  shell: true\n",
         "t.yaml:5: command.run: missing");
    BAD ("name: t\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space: {x: {type: float, low: 0, high: 1}}\n"
         "command: [./run, '{x}']\n",
         "t.yaml:5: command: must be a string, or a mapping of run and shell");
    BAD ("name: t\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space: {x: {type: float, low: 0, high: 1}}\n"
         "command: '  '\n",
         "t.yaml:5: command: empty command");

    //  Documents that are not a study at all.
    BAD ("", "t.yaml:1: the study file is empty");
    BAD ("# nothing\n", "t.yaml:1: the study file is empty");
    BAD ("---\n", "t.yaml:1: the study file is empty");
    BAD ("- a\n- b\n", "t.yaml:1: a study file must be a mapping");
    BAD ("just text\n", "t.yaml:1: a study file must be a mapping");
    BAD ("name: a\n---\nname: b\n",
         "t.yaml:3: a study file holds one YAML document");
    BAD ("name: a\nname: b\n", "t.yaml:2: name: duplicate key");
    //  The indented line is at fault, not the key above it (issue #9).
    BAD ("name: a\n  bad: indent\n", "t.yaml:2: syntax error: ");
    BAD ("name: t\ncommand: \"unterminated\n", "t.yaml:");
    BAD ("name: t\n[1]: x\n", "t.yaml:2: keys must be strings");

    //  JSON mode by file name.
    char *error = NULL;
    const char *json = "{\"name\": \"t\",\n \"command\": \"./run {x}\",\n"
                       " \"objective\": {\"metric\": \"loss\"},\n"
                       " \"budget\": {\"trials\": 1},\n"
                       " \"space\": {\"x\": {\"type\": \"int\", \"low\": 1,"
                       " \"high\": 2, \"bogus\": 0}}}\n";
    hpo_spec_t *spec = hpo_spec_parse (json, strlen (json), "s.json", &error);
    CHECK (!spec);
    CHECK_STR (error, "s.json:5: space.x.bogus: unknown key");
    free (error);
    const char *trailing = "{\"name\": \"t\",}\n";
    spec = hpo_spec_parse (trailing, strlen (trailing), "s.json", &error);
    CHECK (!spec);
    CHECK_CONTAINS (error, "s.json:1: syntax error: ");
    free (error);

    //  No file name still gives a usable message; NUL is refused.
    spec = hpo_spec_parse ("name: [", 7, NULL, &error);
    CHECK (!spec);
    CHECK_CONTAINS (error, "<study>:");
    CHECK_CONTAINS (error, ": syntax error: ");
    free (error);
    spec = hpo_spec_parse ("name: \"a\\0b\"\n", 13, "n.yaml", &error);
    CHECK (!spec);
    CHECK_STR (error, "n.yaml:1: name: must not contain NUL");
    free (error);
}

//  Anchors, aliases and merge keys work; alias bombs are refused quickly.
static void
s_test_aliases (void)
{
    char *error = NULL;
    hpo_spec_t *spec = s_parse ("name: t\n"
                                "command: ./run {a} {b}\n"
                                "objective: {metric: loss}\n"
                                "budget: {trials: 5}\n"
                                "space:\n"
                                "  a: &unit {type: float, low: 0, high: 1}\n"
                                "  b:\n"
                                "    <<: *unit\n"
                                "    high: 2\n",
                                &error);
    CHECK (spec != NULL);
    if (!spec)
        fprintf (stderr, "  %s\n", error);
    else {
        CHECK (spec->params[0].high == 1);
        CHECK (spec->params[1].type == HPO_PARAM_FLOAT);
        CHECK (spec->params[1].low == 0 && spec->params[1].high == 2);
    }
    hpo_spec_destroy (&spec);
    free (error);

    //  Errors inside an aliased node point at the anchor's text.
    BAD ("name: t\n"
         "command: ./run {a} {b}\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space:\n"
         "  a: &unit {type: float, low: zero, high: 1}\n"
         "  b: *unit\n",
         "t.yaml:6: space.a.low: must be a number");
    BAD ("name: *nowhere\n", "t.yaml:1: ");
    BAD ("a: &x [1, *x]\n", "aliases expand the study file past");

    //  Nine levels of ten: 10^9 nodes once expanded.
    char text[4096];
    size_t len = (size_t)snprintf (text, sizeof text,
                                   "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int k = 1; k < 10; k++) {
        len += (size_t)snprintf (text + len, sizeof text - len, "a%d: &a%d [",
                                 k, k);
        for (int j = 0; j < 10; j++)
            len += (size_t)snprintf (text + len, sizeof text - len, "%s*a%d",
                                     j ? ", " : "", k - 1);
        len += (size_t)snprintf (text + len, sizeof text - len, "]\n");
    }
    BAD (text, "t.yaml:1: aliases expand the study file past 100000 nodes");
}

//  Errors travel in *error; nothing may reach stderr (the coordinator runs
//  this on whatever arrives over the network).
static void
s_test_quiet (void)
{
    fflush (stderr);
    int saved = dup (2);
    char path[] = "/tmp/hpo-test-spec-XXXXXX";
    int fd = mkstemp (path);
    CHECK (fd >= 0 && saved >= 0);
    dup2 (fd, 2);
    const char *inputs[] = {
        "name: a\n  bad: indent\n",
        "{",
        "name: a\nname: b\n",
        "a: *nope\n",
        "name: a\n---\n- [\n",
        "",
        "\t- x\n",
    };
    for (size_t k = 0; k < sizeof inputs / sizeof inputs[0]; k++) {
        char *error = NULL;
        hpo_spec_t *spec =
            hpo_spec_parse (inputs[k], strlen (inputs[k]), "q.yaml", &error);
        CHECK (!spec && error);
        free (error);
        spec = hpo_spec_parse (inputs[k], strlen (inputs[k]), "q.json", &error);
        CHECK (!spec && error);
        free (error);
    }
    fflush (stderr);
    dup2 (saved, 2);
    close (saved);
    struct stat st;
    CHECK (fstat (fd, &st) == 0 && st.st_size == 0);
    if (st.st_size > 0) {
        char buf[512] = "";
        ssize_t n = pread (fd, buf, sizeof buf - 1, 0);
        fprintf (stderr, "stderr got %zd bytes: %s\n", n, buf);
    }
    close (fd);
    unlink (path);
}

static void
s_test_durations (void)
{
    struct {
        const char *text;
        int ok;
        uint64_t ms;
    } cases[] = {
        {"90s", 1, 90000},
        {"30m", 1, 1800000},
        {"2h", 1, 7200000},
        {"1d", 1, 86400000},
        {"500ms", 1, 500},
        {"1.5", 1, 1500},
        {"10", 1, 10000},
        {"0", 1, 0},
        {"1h30m", 1, 5400000},
        {"0.5s", 1, 500},
        {".25s", 1, 250},
        {"1m30s", 1, 90000},
        {"", 0, 0},
        {"s", 0, 0},
        {"-1s", 0, 0},
        {"5x", 0, 0},
        {"1 s", 0, 0},
        {"1e3", 0, 0},
        {"1.5.2s", 0, 0},
        {"1h 2m", 0, 0},
        {" 5s", 0, 0},
        {"10s5", 0, 0},
        {"1ms5", 0, 0},
        {".", 0, 0},
        {"99999999999999999999d", 0, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        uint64_t ms = 12345;
        int rc = hpo_duration_parse (cases[k].text, &ms);
        if (cases[k].ok) {
            CHECK (rc == 0);
            CHECK (ms == cases[k].ms);
            if (rc != 0 || ms != cases[k].ms)
                fprintf (stderr, "  duration \"%s\": rc %d ms %llu\n",
                         cases[k].text, rc, (unsigned long long)ms);
        } else {
            CHECK (rc == -1);
            if (rc != -1)
                fprintf (stderr, "  duration \"%s\" accepted\n", cases[k].text);
        }
    }
    //  A plain YAML number is seconds too.
    char *error = NULL;
    hpo_spec_t *spec = s_parse ("name: t\n"
                                "command: ./run {x}\n"
                                "objective: {metric: loss}\n"
                                "budget: {trials: 5}\n"
                                "trial: {timeout: 90, grace: 0}\n"
                                "space: {x: {type: float, low: 0, high: 1}}\n",
                                &error);
    CHECK (spec && spec->timeout_ms == 90000 && spec->grace_ms == 0);
    hpo_spec_destroy (&spec);
    free (error);
}

static void
s_check_format (hpo_value_t v, const char *expect)
{
    char *text = hpo_value_format (&v);
    CHECK_STR (text, expect);
    free (text);
}

static void
s_test_format (void)
{
    hpo_value_t f = {.kind = HPO_KIND_FLOAT};
    f.f = 0.1;
    s_check_format (f, "0.1");
    f.f = 1e-5;
    s_check_format (f, "1e-05");
    f.f = 2.0;
    s_check_format (f, "2");
    f.f = -3.25;
    s_check_format (f, "-3.25");
    f.f = 0.1 + 0.2;
    s_check_format (f, "0.30000000000000004");
    f.f = 1.0 / 3;
    s_check_format (f, "0.3333333333333333");
    f.f = 123456789.0;
    s_check_format (f, "123456789");
    //  Every double comes back exactly from its shortest form.
    double probes[] = {5e-324, 1.7976931348623157e308, 0.1 * 3, 2.0 / 7,
                       1e21,   6.02214076e23};
    for (size_t k = 0; k < sizeof probes / sizeof probes[0]; k++) {
        f.f = probes[k];
        char *text = hpo_value_format (&f);
        CHECK (strtod (text, NULL) == probes[k]);
        free (text);
    }
    hpo_value_t i = {.kind = HPO_KIND_INT, .i = -42};
    s_check_format (i, "-42");
    i.i = INT64_MAX;
    s_check_format (i, "9223372036854775807");
    hpo_value_t s = {.kind = HPO_KIND_STR, .s = "it's a b"};
    s_check_format (s, "it's a b");

    //  Copies are deep; clearing frees and nulls the strings.
    hpo_value_t copies[2];
    hpo_value_copy (&copies[0], &s);
    hpo_value_copy (&copies[1], &i);
    CHECK (copies[0].s != s.s);
    CHECK_STR (copies[0].s, "it's a b");
    CHECK (copies[1].kind == HPO_KIND_INT && copies[1].i == INT64_MAX);
    CHECK (copies[1].s == NULL);
    hpo_values_clear (copies, 2);
    CHECK (copies[0].s == NULL);
    hpo_values_clear (NULL, 0);
}

//  The study files in examples/ are what people copy; they must parse.
static void
s_test_examples (void)
{
    const char *dir = getenv ("HPO_TEST_DATA");
    const char *names[] = {"quadratic.yaml", "grid.yaml"};
    for (int k = 0; k < 2; k++) {
        char path[1024];
        snprintf (path, sizeof path, "%s/../../examples/%s",
                  dir ? dir : "tests/data", names[k]);
        FILE *f = fopen (path, "rb");
        CHECK (f != NULL);
        if (!f)
            continue;
        char text[8192];
        size_t len = fread (text, 1, sizeof text, f);
        fclose (f);
        char *error = NULL;
        hpo_spec_t *spec = hpo_spec_parse (text, len, names[k], &error);
        CHECK (spec != NULL);
        if (!spec)
            fprintf (stderr, "  %s\n", error);
        else if (k == 0) {
            CHECK_STR (spec->name, "quadratic");
            CHECK (spec->n_params == 3 && spec->trials == 40);
        } else
            CHECK (s_size (spec) == 40 && spec->trials == 40);
        hpo_spec_destroy (&spec);
        free (error);
    }
}

//  ---- limits ---------------------------------------------------------
//  Issue #10: a 1.2 MB study of 30,000 parameters held the coordinator's
//  loop for 15-21 s, as libfyaml compared every key of a mapping with
//  every other one. Parsing is now linear and studies are bounded.

//  A study of n parameters, line 4 being "space:". With alias, each
//  parameter after the first is an alias of it (or, with merge, merges it
//  and overrides high). The command names every parameter, or only the
//  first. Caller frees.
static char *
s_big_study (size_t n, int alias, int merge, int every)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream (&text, &size);
    fprintf (f, "name: big\nobjective: {metric: loss}\nbudget: {trials: 9}\n"
                "space:\n");
    for (size_t k = 0; k < n; k++)
        if (k > 0 && alias)
            fprintf (f, "  p%zu: *u\n", k);
        else if (k > 0 && merge)
            fprintf (f, "  p%zu: {<<: *u, high: 2}\n", k);
        else if (k == 0 && (alias || merge))
            fprintf (f, "  p0: &u {type: float, low: 0, high: 1}\n");
        else if (k % 3 == 0)
            fprintf (f, "  p%zu: {type: float, low: 0.0, high: 1.0}\n", k);
        else if (k % 3 == 1)
            fprintf (f, "  p%zu: {type: int, low: 1, high: 8}\n", k);
        else
            fprintf (f, "  p%zu: {type: categorical, values: [a, b, c]}\n", k);
    fprintf (f, "command: ./train");
    for (size_t k = 0; k < (every ? n : 1); k++)
        fprintf (f, " --p%zu {p%zu}", k, k);
    fprintf (f, "\n");
    fclose (f);
    return text;
}

static double
s_cpu_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

//  The least CPU time of runs parses of text, in ms; CPU time, and the
//  least of several, so that a loaded machine does not make it flaky.
static double
s_parse_ms (const char *text, int runs)
{
    double best = 1e9;
    for (int r = 0; r < runs; r++) {
        char *error = NULL;
        double start = s_cpu_ms ();
        hpo_spec_t *spec =
            hpo_spec_parse (text, strlen (text), "t.yaml", &error);
        double took = s_cpu_ms () - start;
        CHECK (spec != NULL);
        if (!spec)
            fprintf (stderr, "  %s\n", error);
        hpo_spec_destroy (&spec);
        free (error);
        if (took < best)
            best = took;
    }
    return best;
}

static void
s_test_params_limit (void)
{
    char *error = NULL;
    char *text = s_big_study (HPO_SPEC_MAX_PARAMS, 0, 0, 1);
    hpo_spec_t *spec = hpo_spec_parse (text, strlen (text), "t.yaml", &error);
    CHECK (spec && spec->n_params == HPO_SPEC_MAX_PARAMS);
    if (spec) {
        CHECK_STR (spec->params[1023].name, "p1023");
        CHECK (spec->params[1022].type == HPO_PARAM_CATEGORICAL);
    }
    hpo_spec_destroy (&spec);
    free (text);
    free (error);

    //  Aliases and merge keys are resolved by libfyaml, whose cost has a
    //  budget; a study at the limit stays within it.
    for (int merge = 0; merge < 2; merge++) {
        text = s_big_study (HPO_SPEC_MAX_PARAMS, !merge, merge, 1);
        spec = hpo_spec_parse (text, strlen (text), "t.yaml", &error);
        CHECK (spec && spec->n_params == HPO_SPEC_MAX_PARAMS);
        if (!spec)
            fprintf (stderr, "  %s\n", error);
        else
            CHECK (spec->params[1000].high == (merge ? 2 : 1));
        hpo_spec_destroy (&spec);
        free (text);
        free (error);
    }

    //  One more is an error naming the file, the line and the key.
    for (int alias = 0; alias < 2; alias++) {
        text = s_big_study (HPO_SPEC_MAX_PARAMS + 1, alias, 0, 0);
        BAD (text, "t.yaml:4: space: has 1025 parameters; at most 1024 are "
                   "allowed");
        free (text);
    }
    text = s_big_study (10000, 0, 0, 0);
    BAD (text, "t.yaml:4: space: has 10000 parameters; at most 1024 are "
               "allowed");
    free (text);
    //  The file itself is bounded too.
    text = s_big_study (30000, 0, 0, 1);
    char expect[100];
    snprintf (expect, sizeof expect,
              "t.yaml:1: the study file is %zu bytes; at most 1048576 are "
              "allowed",
              strlen (text));
    BAD (text, expect);
    free (text);
}

//  Parsing grows linearly: 8 times the parameters, each a placeholder in
//  the command, costs about 8 times the time (the old parser: 30 times).
//  16 leaves room for noise and caches.
static void
s_test_params_linear (void)
{
    char *small = s_big_study (HPO_SPEC_MAX_PARAMS / 8, 0, 0, 1);
    char *large = s_big_study (HPO_SPEC_MAX_PARAMS, 0, 0, 1);
    s_parse_ms (large, 1); //  warm up the allocator
    double t_small = s_parse_ms (small, 15);
    double t_large = s_parse_ms (large, 7);
    //  A floor, so a small time near the clock's grain cannot fail it.
    if (t_small < 0.05)
        t_small = 0.05;
    CHECK (t_large < 16 * t_small);
    if (t_large >= 16 * t_small)
        fprintf (stderr, "  %d parameters: %.2f ms, %d: %.2f ms\n",
                 HPO_SPEC_MAX_PARAMS / 8, t_small, HPO_SPEC_MAX_PARAMS,
                 t_large);
    free (small);
    free (large);
}

static void
s_test_other_limits (void)
{
    //  Values in one list.
    char *text = NULL;
    size_t size = 0;
    for (int extra = 0; extra < 2; extra++) {
        FILE *f = open_memstream (&text, &size);
        fprintf (f, "name: t\ncommand: ./run {x}\nobjective: {metric: m}\n"
                    "budget: {trials: 1}\nspace:\n  x:\n    type: int\n"
                    "    values: [0");
        for (int k = 1; k < HPO_SPEC_MAX_VALUES + extra; k++)
            fprintf (f, ", %d", k);
        fprintf (f, "]\n");
        fclose (f);
        char *error = NULL;
        hpo_spec_t *spec =
            hpo_spec_parse (text, strlen (text), "t.yaml", &error);
        if (extra)
            CHECK_STR (error, "t.yaml:8: space.x.values: has 10001 values; "
                              "at most 10000 are allowed");
        else
            CHECK (spec && spec->params[0].n_values == HPO_SPEC_MAX_VALUES);
        hpo_spec_destroy (&spec);
        free (error);
        free (text);
    }

    //  The command's length.
    for (int extra = 0; extra < 2; extra++) {
        size_t n = HPO_SPEC_MAX_COMMAND + extra;
        char *cmd = malloc (n + 1);
        memset (cmd, 'a', n);
        memcpy (cmd, "./run {x} ", 10);
        cmd[n] = 0;
        text = NULL;
        FILE *f = open_memstream (&text, &size);
        fprintf (f,
                 "name: t\nobjective: {metric: m}\nbudget: {trials: 1}\n"
                 "space: {x: {type: int, low: 0, high: 1}}\n"
                 "command: %s\n",
                 cmd);
        fclose (f);
        char *error = NULL;
        hpo_spec_t *spec =
            hpo_spec_parse (text, strlen (text), "t.yaml", &error);
        if (extra)
            CHECK_STR (error, "t.yaml:5: command: is 65537 bytes long; at "
                              "most 65536 are allowed");
        else
            CHECK (spec != NULL);
        hpo_spec_destroy (&spec);
        free (error);
        free (text);
        free (cmd);
    }

    //  Duplicate keys, found by the parser now that libfyaml does not.
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5, trials: 6}\n"
         "space: {x: {type: int, low: 0, high: 1}}\n",
         "t.yaml:4: budget.trials: duplicate key");
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space:\n"
         "  x: {type: int, low: 0, high: 1}\n"
         "  y: {type: int, low: 0, high: 1}\n"
         "  z: {type: int, low: 0, high: 1}\n"
         "  y: {type: int, low: 0, high: 2}\n"
         "  x: {type: int, low: 0, high: 2}\n",
         "t.yaml:9: space.y: duplicate key");
    BAD ("name: t\n"
         "command: ./run {x}\n"
         "objective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space:\n"
         "  x: {type: int, low: 0, high: 1, low: 0}\n",
         "t.yaml:6: space.x.low: duplicate key");
    //  With aliases libfyaml checks, as it must for merge keys.
    BAD ("name: &n t\n"
         "command: ./run {x}\n"
         "objective: {metric: *n}\n"
         "budget: {trials: 5}\n"
         "budget: {trials: 5}\n",
         "t.yaml:5: syntax error: duplicate key");

    //  Anchors: each costs every node freed a look, so they are counted.
    text = NULL;
    FILE *f = open_memstream (&text, &size);
    fprintf (f, "name: t\nx:\n");
    for (int k = 0; k < 257; k++)
        fprintf (f, "  - &a%d %d\n", k, k);
    fclose (f);
    BAD (text, "t.yaml:259: more than 256 anchors");
    free (text);

    //  A mapping too large for libfyaml to check in time, with an alias.
    text = NULL;
    f = open_memstream (&text, &size);
    fprintf (f, "name: &n t\nobjective: {metric: *n}\nx:\n");
    for (int k = 0; k < 1025; k++)
        fprintf (f, "  k%d: %d\n", k, k);
    fclose (f);
    BAD (text, "t.yaml:4: a mapping has more than 1024 keys");
    free (text);

    //  Aliases of a large mapping: few nodes, many comparisons.
    text = NULL;
    f = open_memstream (&text, &size);
    fprintf (f, "m: &m {k0: 0");
    for (int k = 1; k < 1000; k++)
        fprintf (f, ", k%d: %d", k, k);
    fprintf (f, "}\nl: [*m, *m, *m, *m]\n");
    fclose (f);
    double start = s_cpu_ms ();
    BAD (text, "t.yaml:1: aliases expand the study file past");
    CHECK (s_cpu_ms () - start < 2000);
    free (text);
}

//  Any bytes at all, NULs and invalid UTF-8 included, give a study or an
//  error, never an abort (the coordinator parses what the network sends).
//  A small fixed-seed mutation fuzzer; the sanitized build checks memory.
static void
s_test_any_bytes (void)
{
    size_t len;
    char *seed = s_read_data ("full.yaml", &len);
    uint64_t state = 0x9e3779b97f4a7c15ULL;
    int bad = 0;
    for (int round = 0; round < 3000; round++) {
        char text[1 << 13];
        size_t n = len < sizeof text ? len : sizeof text;
        memcpy (text, seed, n);
        int edits = 1 + round % 8;
        for (int e = 0; e < edits && n > 0; e++) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            uint64_t r = state >> 17;
            size_t at = (size_t)(r % n);
            static const char bytes[] = {0,   '\xff', '\xc3', '{', '[',  '&',
                                         '*', ':',    '\n',   '"', '\'', '-'};
            switch ((r >> 20) % 4) {
            case 0:
                text[at] = bytes[(r >> 24) % sizeof bytes];
                break;
            case 1:
                text[at] ^= (char)(1 << ((r >> 24) % 8));
                break;
            case 2:
                n = at; //  cut short
                break;
            default:
                if (n < sizeof text) {
                    memmove (text + at + 1, text + at, n - at);
                    text[at] = bytes[(r >> 24) % sizeof bytes];
                    n++;
                }
            }
        }
        char *error = NULL;
        hpo_spec_t *spec =
            hpo_spec_parse (text, n, round % 2 ? "f.json" : "f.yaml", &error);
        if ((spec == NULL) == (error == NULL))
            bad++;
        hpo_spec_destroy (&spec);
        free (error);
    }
    CHECK (bad == 0);
    free (seed);
}

//  Found by fuzzing: libfyaml 0.7 loops for ever on a directive holding a
//  byte that is not UTF-8, which would have hung the coordinator's loop.
//  Text that is not UTF-8 is refused before libfyaml sees it.
static void
s_test_not_utf8 (void)
{
    static const struct {
        const char *text;
        const char *expect;
    } cases[] = {
        {"%\x8b", "t.yaml:1: not valid UTF-8 (byte 2 of the file)"},
        {"%YAML\xff", "t.yaml:1: not valid UTF-8 (byte 6 of the file)"},
        {"---\n%\xc3", "t.yaml:2: not valid UTF-8 (byte 6 of the file)"},
        {"a: 1\n...\n%\x80\n", "t.yaml:3: not valid UTF-8"},
        {"name: caf\xe9\n", "t.yaml:1: not valid UTF-8 (byte 10 of the file)"},
        {"name: t\n# \xed\xa0\x80\n", "t.yaml:2: not valid UTF-8"},
        {"name: \"\xc0\xaf\"\n", "t.yaml:1: not valid UTF-8"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        BAD (cases[k].text, cases[k].expect);
    //  A byte-order mark is UTF-8, and fine.
    BAD ("\xef\xbb\xbfname: .\n", "t.yaml:1: name: must not be . or ..");
}

//  Found by fuzzing: libfyaml 0.7 builds a single-quoted scalar whose
//  escapes meet wrongly ('x''''y' came back as x''') and leaks memory
//  doing so (the sanitized build catches the leak). The parser decodes
//  single-quoted scalars itself, by the YAML rules: '' is ', a line break
//  folds to a space, or to n newlines when n empty lines follow it, and
//  white space around a break goes.
static void
s_test_single_quoted (void)
{
    const char *text = "name: 'q'\n"
                       "command: './run {x}'\n"
                       "objective: {'metric': 'loss'}\n"
                       "budget: {trials: 5}\n"
                       "space:\n"
                       "  'x':\n"
                       "    type: categorical\n"
                       "    values:\n"
                       "      - 'x''''y'\n"
                       "      - 'a''''''''''''b'\n"
                       "      - 'ab''''''''cd''''''''ef'\n"
                       "      - 'it''s'\n"
                       "      - ''''\n"
                       "      - ''\n"
                       "      - 'l1  \n"
                       "         l2\t\n"
                       "\n"
                       "         \n"
                       "         l3  '\n"
                       "      - ' a ''\n"
                       "\n"
                       "        '' b '\n"
                       "      - 'one\r\n"
                       "         two'\n";
    const char *expect[] = {"x''y",          "a''''''b",   "ab''''cd''''ef",
                            "it's",          "'",          "",
                            "l1 l2\n\nl3  ", " a '\n' b ", "one two"};
    char *error = NULL;
    hpo_spec_t *spec = s_parse (text, &error);
    CHECK (spec != NULL);
    if (!spec)
        fprintf (stderr, "  %s\n", error);
    else {
        CHECK_STR (spec->name, "q");
        CHECK_STR (spec->metric, "loss");
        CHECK_STR (spec->params[0].name, "x");
        size_t n = sizeof expect / sizeof expect[0];
        CHECK (spec->params[0].n_values == n);
        for (size_t k = 0; k < n && k < spec->params[0].n_values; k++)
            CHECK_STR (spec->params[0].values[k].s, expect[k]);
    }
    hpo_spec_destroy (&spec);
    free (error);
    //  The fuzzer's input: a key of many escapes.
    BAD ("\n'''''''''''''''':", "t.yaml:2: ");
}

//  Found by fuzzing: libfyaml 0.7 crashes (its parser's indentation stack
//  corrupted) on an explicit key in block context followed by a tab. Such
//  lines are refused before libfyaml reads them.
static void
s_test_explicit_keys (void)
{
    BAD ("? n:\t:", "t.yaml:1: explicit keys ('? ') are not supported");
    BAD ("x:\n ? n:\t:", "t.yaml:2: explicit keys ('? ') are not supported");
    BAD ("- - ? n:\t:", "t.yaml:1: explicit keys");
    BAD ("a: 1\n\n  -\t? 'n':\t|\n", "t.yaml:3: explicit keys");
    BAD ("?\n", "t.yaml:1: explicit keys");
    //  A '?' that is no explicit key is text like any other.
    BAD ("name: t\ncommand: ./run {x} ?\nobjective: {metric: '?x'}\n"
         "space: {x: {type: int, low: 0, high: 1}}\n",
         "t.yaml:3: objective.metric: must be 1 to 128 bytes");
}

//  ---- issue #9: workdir, env, did-you-mean, syntax error lines -------
//  Constructors (they run before main) keep these clear of other changes
//  to main's list.

#define S_BASE                                                                 \
    "name: w\ncommand: t {x}\nobjective: {metric: loss}\n"                     \
    "budget: {trials: 2}\nspace: {x: {type: int, low: 1, high: 3}}\n"

__attribute__ ((constructor)) static void
s_test_workdir_env (void)
{
    char *error = NULL;
    hpo_spec_t *spec = s_parse (S_BASE, &error);
    CHECK (spec && !spec->workdir && spec->n_env == 0 && !spec->env);
    hpo_spec_destroy (&spec);

    const char *good = S_BASE "workdir: ../proj\n"
                              "env:\n"
                              "  OMP_NUM_THREADS: 4\n"
                              "  _X: 'a b=c'\n"
                              "  EMPTY: \"\"\n"
                              "  FLAG: true\n";
    spec = s_parse (good, &error);
    CHECK (spec != NULL);
    if (spec) {
        CHECK_STR (spec->workdir, "../proj");
        CHECK (spec->n_env == 4);
        if (spec->n_env == 4) {
            CHECK_STR (spec->env[0], "OMP_NUM_THREADS=4");
            CHECK_STR (spec->env[1], "_X=a b=c");
            CHECK_STR (spec->env[2], "EMPTY=");
            CHECK_STR (spec->env[3], "FLAG=true");
        }
    } else
        fprintf (stderr, "%s\n", error);
    hpo_spec_destroy (&spec);
    free (error);
    error = NULL;
    spec = s_parse (S_BASE "workdir: ~\nenv: {}\n", &error);
    CHECK (spec && !spec->workdir && spec->n_env == 0);
    hpo_spec_destroy (&spec);

    BAD (S_BASE "workdir: ''\n", "t.yaml:6: workdir: must not be empty");
    BAD (S_BASE "workdir: [a]\n", "t.yaml:6: workdir: must be a string");
    BAD (S_BASE "workdir: \"a\\0b\"\n",
         "t.yaml:6: workdir: must not contain NUL");
    BAD (S_BASE "env: [A]\n",
         "t.yaml:6: env: must be a mapping of NAME: value");
    BAD (S_BASE "env:\n  A: 1\n  1B: 2\n",
         "t.yaml:8: env.1B: a variable name must match [A-Za-z_][A-Za-z0-9_]*");
    BAD (S_BASE "env:\n  A-B: 2\n", "t.yaml:7: env.A-B: a variable name must");
    BAD (S_BASE "env:\n  HPO_TRIAL: 2\n",
         "t.yaml:7: env.HPO_TRIAL: a variable name starts with HPO_, which "
         "hpo keeps for its own variables");
    BAD (S_BASE "env:\n  HPO_PARAM_X: 2\n", "env.HPO_PARAM_X: a variable");
    BAD (S_BASE "env:\n  A:\n", "t.yaml:7: env.A: must be a value (write \"\"");
    BAD (S_BASE "env:\n  A: null\n", "t.yaml:7: env.A: must be a value");
    BAD (S_BASE "env:\n  A: [1]\n",
         "t.yaml:7: env.A: must be a string or a number");
    BAD (S_BASE "env:\n  A: {b: 1}\n",
         "t.yaml:7: env.A: must be a string or a number");
    BAD (S_BASE "env:\n  A: 1\n  B: 2\n  A: 3\n",
         "t.yaml:9: env.A: duplicate key");
    BAD (S_BASE "env:\n  A: \"x\\0y\"\n",
         "t.yaml:7: env.A: must not contain NUL");
    BAD (S_BASE "workdri: x\n", "t.yaml:6: workdri: unknown key (did you mean "
                                "workdir?)");
    BAD (S_BASE "evn: {}\n", "t.yaml:6: evn: unknown key (did you mean env?)");

    //  The limits.
    size_t cap = 64 + (HPO_SPEC_MAX_ENV + 1) * 16;
    char *text = malloc (cap);
    size_t n = (size_t)snprintf (text, cap, "%senv:\n", S_BASE);
    for (int k = 0; k <= HPO_SPEC_MAX_ENV; k++)
        n += (size_t)snprintf (text + n, cap - n, "  V%d: %d\n", k, k);
    BAD (text, "t.yaml:6: env: has 257 variables; at most 256 are allowed");
    free (text);
    cap = 128 + HPO_SPEC_MAX_ENV_VALUE;
    text = malloc (cap);
    n = (size_t)snprintf (text, cap, "%senv: {A: ", S_BASE);
    memset (text + n, 'v', HPO_SPEC_MAX_ENV_VALUE + 1);
    strcpy (text + n + HPO_SPEC_MAX_ENV_VALUE + 1, "}\n");
    BAD (text, "t.yaml:6: env.A: is 32769 bytes long; at most 32768");
    n = (size_t)snprintf (text, cap, "%sworkdir: ", S_BASE);
    memset (text + n, 'd', HPO_SPEC_MAX_WORKDIR + 1);
    strcpy (text + n + HPO_SPEC_MAX_WORKDIR + 1, "\n");
    BAD (text, "t.yaml:6: workdir: is 4097 bytes long; at most 4096");
    free (text);
}

//  A swap of two neighbours is one edit: "lgo" is nearer "log" than
//  "low" (both two substitutions away), though low comes first.
__attribute__ ((constructor)) static void
s_test_did_you_mean (void)
{
    BAD ("name: t\ncommand: ./run {x}\nobjective: {metric: loss}\n"
         "budget: {trials: 5}\n"
         "space: {x: {type: float, low: 1, high: 2, lgo: true}}\n",
         "t.yaml:5: space.x.lgo: unknown key (did you mean log?)");
    BAD ("name: t\ncommand: ./run {x}\nobjective: {metric: loss}\n"
         "budget: {trials: 5}\nspace: {x: {type: float, low: 1, hgih: 2}}\n",
         "t.yaml:5: space.x.hgih: unknown key (did you mean high?)");
    BAD ("name: t\ncommand: ./run {x}\nobjective: {metric: loss}\n"
         "budget: {trials: 5}\nspace: {x: {type: float, olw: 1, high: 2}}\n",
         "(did you mean low?)");
    BAD ("nmae: t\n", "t.yaml:1: nmae: unknown key (did you mean name?)");
    //  Still nothing suggested when nothing is near.
    BAD ("name: t\nzzzzzz: 1\n", "t.yaml:2: zzzzzz: unknown key");
    char *error = NULL;
    hpo_spec_t *spec = s_parse ("name: t\nzzzzzz: 1\n", &error);
    CHECK (!spec && error && !strstr (error, "did you mean"));
    free (error);
}

//  A syntax error names the line it is on (issue #9).
__attribute__ ((constructor)) static void
s_test_syntax_lines (void)
{
    //  A tab on line 2 (libfyaml places it on line 1).
    BAD ("name: x\n\tcommand: y\n",
         "t.yaml:2: syntax error: a tab indents this line");
    BAD ("name: x\n  \tcommand: y\nspace: {}\n",
         "t.yaml:2: syntax error: a tab indents this line");
    BAD ("name: x\nspace:\n\ta: 1\n", "t.yaml:3: syntax error: tab");
    //  An unclosed quote on line 3.
    BAD ("name: x\ncommand: y\nobjective: \"abc\nspace: {}\n",
         "t.yaml:3: syntax error: ");
    BAD ("name: x\ncommand: y\nobjective: \"abc\n", "t.yaml:3: syntax error: ");
    BAD ("name: x\ncommand: y\nobjective: 'abc\nspace: {}\n",
         "t.yaml:3: syntax error: ");
    //  A bad indent on line 4: too little, too much.
    BAD ("name: x\nspace:\n  a: 1\n b: 2\n", "t.yaml:4: syntax error: ");
    BAD ("name: x\nspace:\n  a: 1\n    b: 2\ncommand: y\n",
         "t.yaml:4: syntax error: invalid multiline plain key (this line "
         "continues line 3: check its indentation)");
    BAD ("name: x\ncommand: y\nobjective: {metric: l}\n  budget: 3\n",
         "t.yaml:4: syntax error: ");
    //  A plain scalar over three lines is a key where its colon is.
    BAD ("name: x\n y\n  z: 1\n",
         "t.yaml:3: syntax error: invalid multiline plain key (this line "
         "continues line 1");
}

int
main (void)
{
    s_test_examples ();
    s_test_files ();
    s_test_defaults ();
    s_test_values ();
    s_test_grid ();
    s_test_search ();
    s_test_bad ();
    s_test_aliases ();
    s_test_quiet ();
    s_test_durations ();
    s_test_format ();
    s_test_params_limit ();
    s_test_params_linear ();
    s_test_other_limits ();
    s_test_any_bytes ();
    s_test_not_utf8 ();
    s_test_single_quoted ();
    s_test_explicit_keys ();
    TEST_DONE ();
}

//  trial.max_lost (issue #9): attempts lost to the worker that are re-run,
//  default 3, apart from retries. Runs before main (a constructor) so that
//  this test stays at the end of the file, clear of other changes to it.
__attribute__ ((constructor)) static void
s_test_max_lost (void)
{
    const char *base = "name: m\ncommand: t {x}\nobjective: {metric: loss}\n"
                       "budget: {trials: 2}\nspace: {x: {type: int, low: 1, "
                       "high: 3}}\n";
    char *error = NULL;
    hpo_spec_t *spec = hpo_spec_parse (base, strlen (base), "m.yaml", &error);
    CHECK (spec && spec->max_lost == 3 && spec->retries == 0);
    hpo_spec_destroy (&spec);
    char text[512];
    snprintf (text, sizeof text, "%strial: {retries: 1, max_lost: 0}\n", base);
    spec = hpo_spec_parse (text, strlen (text), "m.yaml", &error);
    CHECK (spec && spec->max_lost == 0 && spec->retries == 1);
    hpo_spec_destroy (&spec);
    snprintf (text, sizeof text, "%strial: {max_lost: -1}\n", base);
    spec = hpo_spec_parse (text, strlen (text), "m.yaml", &error);
    CHECK (spec == NULL);
    CHECK_CONTAINS (error, "trial.max_lost");
    free (error);
}

//  metrics: {source: stdout, pattern: REGEX} (issue #8): the pattern is
//  compiled at parse time, and must be able to give the objective.
__attribute__ ((constructor)) static void
s_test_metrics (void)
{
#define S_MBASE                                                              \
    "name: m\ncommand: t {x}\nobjective: {metric: val_loss}\n"              \
    "budget: {trials: 2}\nspace: {x: {type: int, low: 1, high: 3}}\n"
    char *error = NULL;
    hpo_spec_t *spec = s_parse (S_MBASE, &error);
    CHECK (spec && !spec->metrics_stdout && !spec->metrics_pattern);
    hpo_spec_destroy (&spec);
    spec = s_parse (S_MBASE "metrics: {source: stdout}\n", &error);
    CHECK (spec && spec->metrics_stdout && !spec->metrics_pattern);
    hpo_spec_destroy (&spec);
    spec = s_parse (S_MBASE "metrics:\n  source: stdout\n"
                           "  pattern: 'ep (?<epoch>\\d+) (?P<val_loss>\\S+)'\n",
                    &error);
    CHECK (spec && spec->metrics_stdout &&
           !strcmp (spec->metrics_pattern, "ep (?<epoch>\\d+) (?P<val_loss>\\S+)"));
    hpo_spec_destroy (&spec);
    spec = s_parse (S_MBASE "metrics: {source: report}\n", &error);
    CHECK (spec && !spec->metrics_stdout);
    hpo_spec_destroy (&spec);
    BAD (S_MBASE "metrics: {source: stderr}\n",
         "t.yaml:6: metrics.source: must be report or stdout");
    BAD (S_MBASE "metrics: {source: stdout, pattern: '(?<val_loss>\\d+'}\n",
         "t.yaml:6: metrics.pattern: at offset 15: missing closing "
         "parenthesis");
    BAD (S_MBASE "metrics: {source: stdout, pattern: 'loss (?<loss>\\S+)'}\n",
         "t.yaml:6: metrics.pattern: has no group named val_loss, the "
         "objective");
    BAD (S_MBASE "metrics:\n  source: stdout\n  pattern: 'e (?<step>\\d+)'\n",
         "t.yaml:8: metrics.pattern: has no named group for a metric");
    BAD (S_MBASE "metrics: {pattern: '(?<val_loss>.)'}\n",
         "metrics.pattern: only with source: stdout");
    BAD (S_MBASE "metrics: {source: stdout, patern: x}\n",
         "metrics.patern: unknown key (did you mean pattern?)");
    BAD ("name: m\ncommand: t {x}\nobjective: {metric: epoch}\n"
         "budget: {trials: 2}\nspace: {x: {type: int, low: 1, high: 3}}\n"
         "metrics: {source: stdout}\n",
         "t.yaml:6: metrics.source: from stdout, epoch is the step");
    BAD (S_MBASE "metrics: {source: stdout, pattern: [a]}\n",
         "metrics.pattern: must be a string");
#undef S_MBASE
}

//  Search spaces (issue #7): when:, grid: true, points:, log ints. A
//  constructor, like the tests above, to keep clear of other changes.
#define S_SPACE_HEAD                                                           \
    "name: s\n"                                                                \
    "command: ./run\n"                                                         \
    "objective: {metric: loss}\n"                                              \
    "budget: {trials: 10}\n"                                                   \
    "space:\n"

__attribute__ ((constructor)) static void
s_test_space_when (void)
{
    char *error = NULL;
    hpo_spec_t *spec = s_parse (
        S_SPACE_HEAD "  opt: {type: categorical, values: [adam, sgd, rms]}\n"
                     "  momentum: {type: float, low: 0, high: 1, when: {opt: "
                     "sgd}}\n"
                     "  nesterov: {type: categorical, values: [0, 1], when: "
                     "{momentum: [0.5]}}\n"
                     "  layers: {type: int, low: 1, high: 4}\n"
                     "  width: {type: int, low: 8, high: 64, when: {layers: "
                     "[2, 3]}}\n"
                     "  decay: {type: float, values: [0.1, 0.2], when: "
                     "{opt: [sgd, rms]}}\n"
                     "  beta: {type: float, low: 0, high: 1, when: {decay: "
                     "0.2}}\n",
        &error);
    //  momentum, a continuous float, cannot be a condition: nesterov is
    //  refused.
    CHECK (spec == NULL);
    CHECK_CONTAINS (error, "t.yaml:8: space.nesterov.when.momentum: a "
                           "condition needs a categorical, an int, or a float "
                           "with values or points");
    free (error);
    spec = s_parse (S_SPACE_HEAD
                    "  opt: {type: categorical, values: [adam, sgd, rms]}\n"
                    "  momentum: {type: float, low: 0, high: 1, when: {opt: "
                    "sgd}}\n"
                    "  layers: {type: int, low: 1, high: 4}\n"
                    "  width: {type: int, low: 8, high: 64, when: {layers: "
                    "[2, 3]}}\n"
                    "  decay: {type: float, values: [0.1, 0.2], when: "
                    "{opt: [sgd, rms]}}\n"
                    "  beta: {type: float, low: 0, high: 1, when: {decay: "
                    "0.2}}\n",
                    &error);
    CHECK (spec != NULL);
    if (!spec) {
        fprintf (stderr, "%s\n", error);
        free (error);
        return;
    }
    CHECK (spec->params[0].when_param == -1);
    CHECK (spec->params[1].when_param == 0 &&
           spec->params[1].n_when_values == 1);
    CHECK (spec->params[3].when_param == 2 &&
           spec->params[3].n_when_values == 2);
    CHECK (spec->params[4].n_when_values == 2);
    CHECK (spec->params[5].when_param == 4);
    //  Chains: beta exists when decay is 0.2, which exists for sgd, rms.
    hpo_value_t row[6] = {
        {.kind = HPO_KIND_STR, .s = "adam"},
        {.kind = HPO_KIND_NONE},
        {.kind = HPO_KIND_INT, .i = 2, .f = 2},
        {.kind = HPO_KIND_INT, .i = 9, .f = 9},
        {.kind = HPO_KIND_NONE},
    };
    CHECK (!hpo_spec_active (spec, 1, row));
    CHECK (hpo_spec_active (spec, 3, row));
    CHECK (!hpo_spec_active (spec, 4, row));
    CHECK (!hpo_spec_active (spec, 5, row)); //  decay does not exist
    row[0].s = "rms";
    CHECK (hpo_spec_active (spec, 4, row));
    row[4] = (hpo_value_t){.kind = HPO_KIND_FLOAT, .f = 0.2};
    CHECK (hpo_spec_active (spec, 5, row));
    row[4].f = 0.1;
    CHECK (!hpo_spec_active (spec, 5, row));
    row[2].i = 4, row[2].f = 4;
    CHECK (!hpo_spec_active (spec, 3, row));
    hpo_spec_destroy (&spec);

    //  Each mistake, with its message.
    BAD (S_SPACE_HEAD "  a: {type: categorical, values: [x, y]}\n"
                      "  b: {type: int, low: 1, high: 2, when: {c: x}}\n"
                      "  c: {type: categorical, values: [x, y]}\n",
         "t.yaml:7: space.b.when.c: must be declared earlier in the space "
         "than b");
    BAD (S_SPACE_HEAD "  a: {type: categorical, values: [x, y]}\n"
                      "  b: {type: int, low: 1, high: 2, when: {zz: x}}\n",
         "t.yaml:7: space.b.when.zz: no such parameter");
    BAD (S_SPACE_HEAD "  a: {type: categorical, values: [x, y], when: {a: "
                      "x}}\n",
         "t.yaml:6: space.a.when.a: a parameter cannot depend on itself");
    BAD (S_SPACE_HEAD "  a: {type: categorical, values: [x, y]}\n"
                      "  b: {type: int, low: 1, high: 2, when: {a: z}}\n",
         "t.yaml:7: space.b.when.a: z is not a value a can take");
    BAD (S_SPACE_HEAD "  a: {type: categorical, values: [x, y]}\n"
                      "  b: {type: int, low: 1, high: 2, when: {a: [x, w]}}\n",
         "t.yaml:7: space.b.when.a[1]: w is not a value a can take");
    BAD (S_SPACE_HEAD "  a: {type: int, low: 1, high: 8, step: 2}\n"
                      "  b: {type: int, low: 1, high: 2, when: {a: 4}}\n",
         "t.yaml:7: space.b.when.a: 4 is not a value a can take");
    BAD (S_SPACE_HEAD "  a: {type: int, low: 1, high: 8}\n"
                      "  b: {type: int, low: 1, high: 2, when: {a: 9}}\n",
         "t.yaml:7: space.b.when.a: 9 is not a value a can take");
    BAD (S_SPACE_HEAD "  a: {type: categorical, values: [x, y]}\n"
                      "  b: {type: int, low: 1, high: 2, when: {a: x, c: "
                      "y}}\n",
         "t.yaml:7: space.b.when: must be a mapping of one parameter");
    BAD (S_SPACE_HEAD "  a: {type: categorical, values: [x, y]}\n"
                      "  b: {type: int, low: 1, high: 2, when: x}\n",
         "t.yaml:7: space.b.when: must be a mapping of one parameter");
    BAD (S_SPACE_HEAD "  a: {type: categorical, values: [x, y]}\n"
                      "  b: {type: int, low: 1, high: 2, when: {a: []}}\n",
         "space.b.when.a: must not be empty");
}

__attribute__ ((constructor)) static void
s_test_space_grid_points (void)
{
    char *error = NULL;
    hpo_spec_t *spec = s_parse (
        S_SPACE_HEAD "  a: {type: categorical, values: [x, y], grid: true}\n"
                     "  b: {type: int, low: 1, high: 5, grid: true}\n"
                     "  c: {type: float, low: 0, high: 1, step: 0.25, grid: "
                     "true}\n"
                     "  d: {type: float, low: 1.0e-4, high: 1, log: true, "
                     "points: 5, grid: true}\n"
                     "  e: {type: float, low: 0, high: 1, grid: false}\n",
        &error);
    CHECK (spec != NULL);
    if (spec) {
        CHECK (spec->params[0].grid && spec->params[1].grid &&
               spec->params[2].grid && spec->params[3].grid &&
               !spec->params[4].grid);
        const hpo_param_spec_t *d = &spec->params[3];
        CHECK (d->n_values == 5);
        double want[] = {1e-4, 1e-3, 1e-2, 1e-1, 1};
        for (size_t k = 0; k < 5 && k < d->n_values; k++)
            CHECK (d->values[k].kind == HPO_KIND_FLOAT &&
                   d->values[k].f == want[k]);
    }
    hpo_spec_destroy (&spec);
    BAD (S_SPACE_HEAD "  a: {type: float, low: 0, high: 1, grid: true}\n",
         "t.yaml:6: space.a.grid: needs a finite set of points: values, an "
         "int range, a float with step, or points");
    BAD (S_SPACE_HEAD "  a: {type: categorical, values: [x, y]}\n"
                      "  b: {type: int, low: 1, high: 2, when: {a: x}, grid: "
                      "true}\n",
         "t.yaml:7: space.b.grid: cannot be combined with when: every grid "
         "point gets its share of trials");
    BAD (S_SPACE_HEAD "  a: {type: int, low: 1, high: 2, grid: yes}\n",
         "space.a.grid: must be true or false");
    //  Sampler grid: grid: true says nothing more, and is accepted.
    spec = s_parse ("name: s\ncommand: ./run\nobjective: {metric: loss}\n"
                    "sampler: {type: grid}\n"
                    "space: {a: {type: int, low: 1, high: 3, grid: true}}\n",
                    &error);
    CHECK (spec && s_size (spec) == 3);
    hpo_spec_destroy (&spec);

    //  Log ints with points: rounded, repeats dropped, sorted.
    spec = s_parse (S_SPACE_HEAD "  a: {type: int, low: 1, high: 1000, log: "
                                 "true, points: 7}\n"
                                 "  b: {type: int, low: 1, high: 3, log: "
                                 "true, points: 10}\n"
                                 "  c: {type: float, low: 0, high: 1, "
                                 "points: 3}\n",
                    &error);
    CHECK (spec != NULL);
    if (spec) {
        const hpo_param_spec_t *a = &spec->params[0];
        int64_t want[] = {1, 3, 10, 32, 100, 316, 1000};
        CHECK (a->n_values == 7);
        for (size_t k = 0; k < 7 && k < a->n_values; k++)
            CHECK (a->values[k].kind == HPO_KIND_INT &&
                   a->values[k].i == want[k]);
        CHECK (spec->params[1].n_values == 3);
        CHECK (spec->params[2].n_values == 3 &&
               spec->params[2].values[1].f == 0.5);
    }
    hpo_spec_destroy (&spec);
    BAD (S_SPACE_HEAD "  a: {type: float, low: 0, high: 1, step: 0.1, "
                      "points: 3}\n",
         "t.yaml:6: space.a.points: cannot be combined with step");
    BAD (S_SPACE_HEAD "  a: {type: float, low: 0, high: 1, points: 1}\n",
         "t.yaml:6: space.a.points: must be an integer from 2 to 10000");
    BAD (S_SPACE_HEAD "  a: {type: float, values: [1, 2], points: 3}\n",
         "t.yaml:6: space.a.points: cannot be combined with values");
    BAD (S_SPACE_HEAD "  a: {type: categorical, values: [x], points: 3}\n",
         "t.yaml:6: space.a.points: not allowed for categorical");
    //  A log float with points grids; without, it cannot.
    spec = s_parse ("name: s\ncommand: ./run\nobjective: {metric: loss}\n"
                    "sampler: {type: grid}\n"
                    "space: {a: {type: float, low: 0.001, high: 10, log: "
                    "true, points: 5}}\n",
                    &error);
    CHECK (spec && s_size (spec) == 5);
    hpo_spec_destroy (&spec);
}

__attribute__ ((constructor)) static void
s_test_space_distinct (void)
{
    //  Grid size counts distinct configurations: momentum (3 points)
    //  exists only for sgd, so adam 1 + sgd 3 = 4, times layers 2 = 8;
    //  not 2 * 3 * 2 = 12.
    char *error = NULL;
    hpo_spec_t *spec = s_parse (
        "name: s\ncommand: ./run\nobjective: {metric: loss}\n"
        "sampler: {type: grid}\n"
        "space:\n"
        "  opt: {type: categorical, values: [adam, sgd]}\n"
        "  momentum: {type: float, values: [0.5, 0.9, 0.99], when: {opt: "
        "sgd}}\n"
        "  layers: {type: int, low: 1, high: 2}\n",
        &error);
    CHECK (spec && s_size (spec) == 8 && spec->trials == 8);
    hpo_spec_destroy (&spec);
    //  Any sampler: a finite space caps the budget, as no configuration
    //  is handed out twice; an infinite one does not.
    spec = s_parse (S_SPACE_HEAD "  a: {type: int, low: 1, high: 3}\n"
                                 "  b: {type: categorical, values: [x, y]}\n",
                    &error);
    CHECK (spec && spec->trials == 6);
    hpo_spec_destroy (&spec);
    spec = s_parse (S_SPACE_HEAD "  a: {type: int, low: 1, high: 3}\n"
                                 "  b: {type: float, low: 0, high: 1}\n",
                    &error);
    CHECK (spec && spec->trials == 10);
    hpo_spec_destroy (&spec);
}

//  A condition's values are looked up in its parameter's values by hash,
//  not by a scan of the list for each: 10,000 against 10,000 would be
//  10^8 comparisons. Time grows linearly: 8 times the values, well
//  under 24 times the time (a scan makes it 64).
static char *
s_when_study (int n)
{
    size_t cap = 64 + (size_t)n * 24, len = 0;
    char *text = malloc (cap);
    len += (size_t)snprintf (text + len, cap - len,
                             S_SPACE_HEAD "  a: {type: categorical, values: [");
    for (int k = 0; k < n; k++)
        len += (size_t)snprintf (text + len, cap - len, "%sv%d", k ? "," : "",
                                 k);
    len += (size_t)snprintf (text + len, cap - len,
                             "]}\n  b: {type: int, low: 1, high: 2, when: "
                             "{a: [");
    for (int k = 0; k < n; k++)
        len += (size_t)snprintf (text + len, cap - len, "%sv%d", k ? "," : "",
                                 n - 1 - k);
    snprintf (text + len, cap - len, "]}}\n");
    return text;
}

__attribute__ ((constructor)) static void
s_test_space_when_linear (void)
{
    char *small = s_when_study (1250), *large = s_when_study (10000);
    s_parse_ms (large, 1);
    double t_small = s_parse_ms (small, 7), t_large = s_parse_ms (large, 3);
    if (t_small < 0.05)
        t_small = 0.05;
    CHECK (t_large < 24 * t_small);
    if (t_large >= 24 * t_small)
        fprintf (stderr, "  when: 1250 values %.2f ms, 10000: %.2f ms\n",
                 t_small, t_large);
    free (small);
    free (large);
}
