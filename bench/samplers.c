/*  hpo-bench-samplers: hpo's samplers on the benchmark's test functions
    (bench/samplers_fn.h), in-process, with no coordinator or sockets.

    Each run parses a study file made of the function's space and the
    sampler's options with hpo_spec_parse, makes the sampler through the
    registry and its suggestion driver (search/suggest.h, as the
    coordinator does), and plays the scheduler's part: a new trial gets its
    parameters from suggest, a row in the history (search/history.h) and
    the state RUNNING (the sampler hears pending); once evaluated it
    becomes COMPLETE with its value (the sampler hears tell). With
    --batch B, B trials are suggested before any of them is told, as B
    workers on one study would run them.

        quality   the best value found in --trials trials, per seed
        speed     the time of one suggestion after 100, 1000, ... trials
        list      the functions and samplers

    Every result is one JSON line on stdout, so bench/run.py and the tests
    read them without parsing prose. Each suggestion is also checked
    against the space (bounds, steps, categories, conditions); the count
    of points that broke it is printed as "violations".                  */
#include <assert.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/log.h"
#include "../common/mem.h"
#include "../common/spec.h"
#include "../search/history.h"
#include "../search/sampler.h"
#include "../search/space.h"
#include "../search/suggest.h"
#include "samplers_fn.h"

//  Sampler options from --option, appended to the study's sampler:.
#define S_MAX_OPTIONS 16

typedef struct {
    const char *mode;
    const char *function;
    const char *sampler;
    uint64_t seed0;
    int seeds;
    int trials;
    int batch;
    const char *options[S_MAX_OPTIONS];
    int n_options;
    //  speed
    long finished[16];
    int n_finished;
    int repeat;
} s_args_t;

//  One study being run: the scheduler's side of it.
typedef struct {
    int fn;
    hpo_spec_t *spec;
    hpo_suggest_t *driver; //  the study's sampler, as sched.c drives it
    hpo_history_t *history;
    double best;
    uint64_t violations;
} s_run_t;

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

//  Prints obj as one JSON line and drops it.
static void
s_emit (json_t *obj)
{
    char *text = json_dumps (obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    puts (text);
    fflush (stdout);
    free (text);
    json_decref (obj);
}

//  A number for JSON, which has no NaN or infinities: those become null.
static json_t *
s_real (double x)
{
    return isfinite (x) ? json_real (x) : json_null ();
}

static int
s_has_key (const hpo_sampler_ops_t *ops, const char *key)
{
    for (const char *const *k = ops->keys; k && *k; k++)
        if (!strcmp (*k, key))
            return 1;
    return 0;
}

//  The study file for function fn under this sampler; malloc'd.
static char *
s_study_text (const s_args_t *args, int fn, const char *sampler, uint64_t seed,
              int trials)
{
    const hpo_sampler_ops_t *ops = hpo_sampler_find (sampler);
    char *opts = hpo_strdup ("");
    if (ops && s_has_key (ops, "seed")) {
        free (opts);
        opts = hpo_sprintf (", seed: %" PRIu64, seed);
    }
    for (int k = 0; k < args->n_options; k++) {
        const char *eq = strchr (args->options[k], '=');
        char *more =
            hpo_sprintf ("%s, %.*s: %s", opts, (int)(eq - args->options[k]),
                         args->options[k], eq + 1);
        free (opts);
        opts = more;
    }
    char *text = hpo_sprintf ("name: bench\ncommand: \"true\"\n"
                              "objective: {metric: y, direction: minimize}\n"
                              "sampler: {type: %s%s}\n"
                              "budget: {trials: %d}\n"
                              "space: %s\n",
                              sampler, opts, trials, hpo_bench_fn_space (fn));
    free (opts);
    return text;
}

//  Opens a run of sampler on function fn; -1 with *error (malloc'd) if
//  hpo refuses the study (a sampler that does not take this space).
static int
s_run_open (s_run_t *run, const s_args_t *args, int fn, const char *sampler,
            uint64_t seed, int trials, char **error)
{
    char *text = s_study_text (args, fn, sampler, seed, trials);
    *run = (s_run_t){.fn = fn, .best = INFINITY};
    run->spec = hpo_spec_parse (text, strlen (text), "bench.yaml", error);
    free (text);
    if (!run->spec)
        return -1;
    run->driver = hpo_suggest_new (run->spec);
    run->history = hpo_history_new (run->spec->n_params);
    return 0;
}

static void
s_run_close (s_run_t *run)
{
    if (!run->spec)
        return;
    hpo_suggest_destroy (&run->driver);
    hpo_history_destroy (&run->history);
    hpo_spec_destroy (&run->spec);
}

//  Index of v among p's values, or -1.
static int
s_value_index (const hpo_param_spec_t *p, const hpo_value_t *v)
{
    for (size_t k = 0; k < p->n_values; k++)
        if (hpo_space_value_eq (&p->values[k], v))
            return (int)k;
    return -1;
}

//  Whether v is a value parameter p may take: a listed value, or a number
//  of p's type within its bounds and on its steps.
static int
s_value_ok (const hpo_param_spec_t *p, const hpo_value_t *v)
{
    if (p->values)
        return s_value_index (p, v) >= 0;
    if (v->kind != (p->type == HPO_PARAM_INT ? HPO_KIND_INT : HPO_KIND_FLOAT))
        return 0;
    double x = v->kind == HPO_KIND_INT ? (double)v->i : v->f;
    if (!(x >= p->low && x <= p->high))
        return 0;
    if (p->has_step) {
        double k = (x - p->low) / p->step;
        if (fabs (k - round (k)) > 1e-6)
            return 0;
    }
    return 1;
}

//  Converts a suggested row into the function's point (samplers_fn.h);
//  returns how many parameters broke the space.
static uint64_t
s_point (const hpo_spec_t *spec, const hpo_value_t *row, double *x)
{
    uint64_t bad = 0;
    for (size_t k = 0; k < spec->n_params; k++) {
        const hpo_param_spec_t *p = &spec->params[k];
        const hpo_value_t *v = &row[k];
        int active = hpo_spec_active (spec, k, row);
        if (!active || v->kind == HPO_KIND_NONE) {
            //  One that should exist and does not, or the reverse.
            bad += active || v->kind != HPO_KIND_NONE ? 1 : 0;
            x[k] = NAN;
            continue;
        }
        bad += s_value_ok (p, v) ? 0 : 1;
        if (p->type == HPO_PARAM_CATEGORICAL)
            x[k] = s_value_index (p, v);
        else
            x[k] = v->kind == HPO_KIND_INT ? (double)v->i : v->f;
    }
    return bad;
}

//  Trial number gets its parameters from driver, the run's own or another
//  of the same space (the speed benchmark's random filler), and starts
//  running. Returns 0, 1 when the sampler has no point left, -1 if it
//  failed.
static int
s_ask_from (s_run_t *run, hpo_suggest_t *driver, uint64_t number)
{
    size_t n = run->spec->n_params;
    hpo_value_t *row = hpo_calloc (n ? n : 1, sizeof *row);
    int rc = hpo_suggest_next (driver, run->history, number, NULL, NULL, row);
    if (rc == 0) {
        uint64_t got = hpo_history_append (run->history, row);
        assert (got == number);
        hpo_values_clear (row, n);
        hpo_history_set_state (run->history, number, HPO_TRIAL_RUNNING);
        hpo_suggest_pending (run->driver, run->history, number);
    }
    free (row);
    return rc;
}

//  Trial number gets its parameters from the run's sampler.
static int
s_ask (s_run_t *run, uint64_t number)
{
    return s_ask_from (run, run->driver, number);
}

//  Evaluates trial number, which completes with its value.
static void
s_tell (s_run_t *run, uint64_t number)
{
    const hpo_spec_t *spec = run->spec;
    double x[HPO_SPEC_MAX_PARAMS];
    const hpo_value_t *row = hpo_history_params (run->history, number);
    uint64_t bad = s_point (spec, row, x);
    run->violations += bad;
    double y = bad ? NAN : hpo_bench_fn_eval (run->fn, x);
    if (isnan (y)) {
        //  A point outside the space has no value: the trial fails.
        run->violations += bad ? 0 : 1;
        hpo_history_set_state (run->history, number, HPO_TRIAL_FAILED);
    } else {
        hpo_history_set_state (run->history, number, HPO_TRIAL_COMPLETE);
        hpo_history_set_value (run->history, number, y);
        run->best = fmin (run->best, y);
    }
    hpo_suggest_tell (run->driver, run->history, number);
}

//  Runs trials trials, batch at a time; -1 if the sampler failed.
static int
s_run_trials (s_run_t *run, int trials, int batch)
{
    for (int n = 0; n < trials;) {
        int m = batch < trials - n ? batch : trials - n, asked = 0;
        int rc = 0;
        while (asked < m && (rc = s_ask (run, (uint64_t)(n + asked))) == 0)
            asked++;
        for (int j = 0; j < asked; j++)
            s_tell (run, (uint64_t)(n + j));
        if (rc)
            return rc < 0 ? -1 : 0;
        n += m;
    }
    return 0;
}

//  A result line's common fields.
static json_t *
s_result (const s_args_t *args, const char *mode)
{
    return json_pack ("{s:s, s:s, s:s, s:s}", "mode", mode, "side", "hpo",
                      "function", args->function, "sampler", args->sampler);
}

//  One line per seed: the best value of --trials trials.
static int
s_quality (const s_args_t *args, int fn)
{
    for (int k = 0; k < args->seeds; k++) {
        uint64_t seed = args->seed0 + (uint64_t)k;
        json_t *out = s_result (args, "quality");
        json_object_set_new (out, "seed", json_integer ((json_int_t)seed));
        json_object_set_new (out, "trials", json_integer (args->trials));
        json_object_set_new (out, "batch", json_integer (args->batch));
        s_run_t run;
        char *error = NULL;
        if (s_run_open (&run, args, fn, args->sampler, seed, args->trials,
                        &error)) {
            json_object_set_new (out, "error", json_string (error));
            free (error);
            s_emit (out);
            return 1;
        }
        double t0 = s_now ();
        int rc = s_run_trials (&run, args->trials, args->batch);
        json_object_set_new (out, "best", s_real (run.best));
        json_object_set_new (out, "ran",
                             json_integer ((json_int_t)run.history->n));
        json_object_set_new (out, "violations",
                             json_integer ((json_int_t)run.violations));
        json_object_set_new (out, "seconds", json_real (s_now () - t0));
        if (rc)
            json_object_set_new (out, "error", json_string ("suggest failed"));
        s_emit (out);
        s_run_close (&run);
        if (rc)
            return 1;
    }
    return 0;
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

//  Times --repeat suggestions at the history's current size; each timed
//  trial then completes, so the next is timed one trial later. Returns
//  the line, or NULL if the sampler failed.
static json_t *
s_time_suggestions (const s_args_t *args, s_run_t *run)
{
    double *ms = hpo_calloc ((size_t)args->repeat, sizeof *ms);
    json_t *out = s_result (args, "speed");
    json_object_set_new (out, "finished",
                         json_integer ((json_int_t)run->history->n));
    json_t *samples = json_array ();
    for (int r = 0; r < args->repeat; r++) {
        uint64_t number = run->history->n;
        double t0 = s_now ();
        if (s_ask (run, number)) {
            json_decref (samples);
            json_decref (out);
            free (ms);
            return NULL;
        }
        ms[r] = (s_now () - t0) * 1e3;
        json_array_append_new (samples, json_real (ms[r]));
        s_tell (run, number);
    }
    qsort (ms, (size_t)args->repeat, sizeof *ms, s_cmp_double);
    json_object_set_new (out, "repeat", json_integer (args->repeat));
    json_object_set_new (out, "median_ms", json_real (ms[args->repeat / 2]));
    json_object_set_new (out, "min_ms", json_real (ms[0]));
    json_object_set_new (out, "max_ms", json_real (ms[args->repeat - 1]));
    json_object_set_new (out, "samples_ms", samples);
    free (ms);
    return out;
}

//  One line per --finished size: the history is filled with random
//  trials (completed and told, untimed) up to that size, then
//  suggestions are timed.
static int
s_speed (const s_args_t *args, int fn)
{
    s_run_t run, filler;
    char *error = NULL;
    int trials = 1 << 30;
    if (s_run_open (&run, args, fn, args->sampler, args->seed0, trials,
                    &error) ||
        s_run_open (&filler, args, fn, "random", args->seed0 + 1000, trials,
                    &error)) {
        json_t *out = s_result (args, "speed");
        json_object_set_new (out, "error", json_string (error));
        free (error);
        s_emit (out);
        s_run_close (&run);
        return 1;
    }
    int rc = 0;
    for (int k = 0; k < args->n_finished && rc == 0; k++) {
        while (run.history->n < (size_t)args->finished[k] && rc == 0) {
            uint64_t number = run.history->n;
            rc = s_ask_from (&run, filler.driver, number);
            if (rc == 0)
                s_tell (&run, number);
        }
        json_t *out = rc ? NULL : s_time_suggestions (args, &run);
        if (!out) {
            out = s_result (args, "speed");
            json_object_set_new (out, "error", json_string ("suggest failed"));
            rc = -1;
        }
        s_emit (out);
    }
    s_run_close (&filler);
    s_run_close (&run);
    return rc ? 1 : 0;
}

//  The functions and the samplers, one line each.
static int
s_list (void)
{
    for (int k = 0; k < hpo_bench_fn_count (); k++) {
        json_t *space =
            json_loads (hpo_bench_fn_space (k), JSON_DECODE_ANY, NULL);
        assert (space);
        s_emit (json_pack ("{s:s, s:b, s:o, s:o}", "function",
                           hpo_bench_fn_name (k), "continuous",
                           hpo_bench_fn_continuous (k), "minimum",
                           s_real (hpo_bench_fn_minimum (k)), "space", space));
    }
    for (size_t k = 0; hpo_sampler_at (k); k++)
        s_emit (json_pack ("{s:s, s:s}", "sampler", hpo_sampler_at (k)->name,
                           "summary", hpo_sampler_at (k)->summary));
    return 0;
}

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "Usage: hpo-bench-samplers quality|speed|list [options]\n"
        "Runs hpo's samplers in-process on bench/samplers_fn.c's functions;\n"
        "prints one JSON line per result.\n"
        "  quality: the best value of --trials trials, for each seed\n"
        "  speed:   the time of one suggestion after --finished trials\n"
        "  list:    the functions and samplers\n"
        "Options:\n"
        "  --function F     branin, hartmann6, rosenbrock10, mixed, sphere4\n"
        "  --sampler S      a sampler of the registry (default random)\n"
        "  --option K=V     an option of the sampler (repeatable)\n"
        "  --seeds N        seeds seed0 .. seed0+N-1 (default 20)\n"
        "  --seed0 S        the first seed (default 1)\n"
        "  --trials T       trials per run (default 100)\n"
        "  --batch B        trials suggested before any is told (default 1)\n"
        "  --finished L     speed: comma-separated history sizes\n"
        "                   (default 100,1000,10000)\n"
        "  --repeat R       speed: suggestions timed per size (default 9)\n");
}

//  Parses "100,1000,10000" into args->finished; -1 if malformed.
static int
s_parse_finished (s_args_t *args, const char *text)
{
    args->n_finished = 0;
    char *copy = hpo_strdup (text), *save = NULL;
    int rc = 0;
    for (char *w = strtok_r (copy, ",", &save); w && rc == 0;
         w = strtok_r (NULL, ",", &save)) {
        char *end;
        long n = strtol (w, &end, 10);
        if (*end || n < 0 || args->n_finished == 16 ||
            (args->n_finished && n < args->finished[args->n_finished - 1]))
            rc = -1;
        else
            args->finished[args->n_finished++] = n;
    }
    free (copy);
    return args->n_finished ? rc : -1;
}

static int
s_parse_args (s_args_t *args, int argc, char **argv)
{
    static const struct option options[] = {
        {"function", required_argument, NULL, 'f'},
        {"sampler", required_argument, NULL, 's'},
        {"option", required_argument, NULL, 'o'},
        {"seeds", required_argument, NULL, 'n'},
        {"seed0", required_argument, NULL, 'S'},
        {"trials", required_argument, NULL, 't'},
        {"batch", required_argument, NULL, 'b'},
        {"finished", required_argument, NULL, 'F'},
        {"repeat", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, bad = 0;
    while ((c = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'f':
            args->function = optarg;
            break;
        case 's':
            args->sampler = optarg;
            break;
        case 'o':
            if (args->n_options == S_MAX_OPTIONS || !strchr (optarg, '='))
                bad = 1;
            else
                args->options[args->n_options++] = optarg;
            break;
        case 'n':
            args->seeds = atoi (optarg);
            break;
        case 'S':
            args->seed0 = strtoull (optarg, NULL, 10);
            break;
        case 't':
            args->trials = atoi (optarg);
            break;
        case 'b':
            args->batch = atoi (optarg);
            break;
        case 'F':
            bad |= s_parse_finished (args, optarg) ? 1 : 0;
            break;
        case 'r':
            args->repeat = atoi (optarg);
            break;
        case 'h':
            s_usage (stdout);
            exit (0);
        default:
            bad = 1;
        }
    }
    if (optind + 1 != argc)
        return -1;
    args->mode = argv[optind];
    return bad || args->seeds < 1 || args->trials < 1 || args->batch < 1 ||
                   args->repeat < 1
               ? -1
               : 0;
}

int
main (int argc, char **argv)
{
    s_args_t args = {.function = "branin",
                     .sampler = "random",
                     .seed0 = 1,
                     .seeds = 20,
                     .trials = 100,
                     .batch = 1,
                     .repeat = 9,
                     .finished = {100, 1000, 10000},
                     .n_finished = 3};
    if (s_parse_args (&args, argc, argv)) {
        s_usage (stderr);
        return 2;
    }
    hpo_log_init ("hpo-bench-samplers", HPO_LOG_WARN);
    if (!strcmp (args.mode, "list"))
        return s_list ();
    int fn = hpo_bench_fn_find (args.function);
    if (fn < 0) {
        fprintf (stderr, "hpo-bench-samplers: no function %s\n", args.function);
        return 2;
    }
    if (!strcmp (args.mode, "quality"))
        return s_quality (&args, fn);
    if (!strcmp (args.mode, "speed"))
        return s_speed (&args, fn);
    s_usage (stderr);
    return 2;
}
