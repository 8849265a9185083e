/*  hpo-bench-populate: builds a large database for the growth and
    start-up benchmarks by writing straight through the store API, as a
    coordinator that had run the study would have left it.

    One study (a valid study file, the one hpo-bench-load submits) with
    --trials finished trials, each COMPLETE at its first attempt, with
    params {"x": ...}, one attempt row, and --values intermediate values
    in all, spread evenly over the trials (steps 0, 1, ... of metric
    "loss"). Synchronous writes are off and rows are committed in batches
    of about --batch, so ten million values take a minute, not a day.

    --rich writes what a real study leaves instead, for the dashboard's
    tests and benchmarks (tests/browser, bench/dash_api.py): five
    parameters of every kind (a log float, an int, a categorical, a float
    that exists only when opt is sgd, a stepped float), an objective that
    depends on them (so importance has something to find), about 12%
    PRUNED trials (with a reason, and curves cut short), 3% FAILED (with
    a log tail), 5% re-run after a LOST first attempt, on eight workers
    whose attempts overlap in time. Curves of "loss" fall towards the
    trial's value. The database may already hold other studies.

    The database must not be in use by a coordinator. Prints one line of
    key=value results.                                                    */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/mem.h"
#include "../common/rng.h"
#include "../common/spec.h"
#include "../coordinator/store.h"

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
s_usage (FILE *out)
{
    fprintf (out, "Usage: hpo-bench-populate --db FILE [options]\n"
                  "  --study NAME   study name (default big)\n"
                  "  --trials T     finished trials (default 100000)\n"
                  "  --values V     intermediate values in all (default "
                  "10000000)\n"
                  "  --batch N      rows per transaction (default 10000)\n"
                  "  --rich         parameters of every kind, PRUNED, "
                  "FAILED and re-run\n"
                  "                 trials, eight workers (the dashboard's "
                  "fixtures)\n"
                  "Prints one line of key=value results.\n");
}

//  What one run writes, and how far it got.
typedef struct {
    hpo_store_t *store;
    uint64_t study_id;
    long long trials, values, batch;
    long long rows, written_values;
    double wall; //  the first trial's start
    hpo_rng_t rng;
} s_pop_t;

//  Commits every --batch rows, so a transaction never grows without end.
static int
s_maybe_commit (s_pop_t *self)
{
    if (self->rows < self->batch)
        return 0;
    int rc = hpo_store_commit (self->store);
    hpo_store_begin (self->store);
    self->rows = 0;
    return rc;
}

//  Trial n's share of the values: the first (values % trials) take one
//  extra.
static long long
s_share (s_pop_t *self, long long n)
{
    return self->values / self->trials
           + (n < self->values % self->trials ? 1 : 0);
}

//  The plain study: every trial COMPLETE at its first attempt.
static int
s_plain_trial (s_pop_t *self, long long n)
{
    char params[64];
    double started = self->wall + (double)n, ended = started + 0.5;
    snprintf (params, sizeof params, "{\"x\": %.17g}",
              hpo_rng_uniform (&self->rng));
    hpo_store_trial_row_t row = {
        .study_id = self->study_id, .number = (uint64_t)n,
        .state = "COMPLETE", .attempt = 1, .params = params,
        .has_value = 1, .value = 0.5, .worker = "populate",
        .started = started, .ended = ended,
    };
    hpo_store_attempt_row_t attempt = {.attempt = 1, .worker = "populate",
                                       .started = started, .ended = ended,
                                       .outcome = "COMPLETE"};
    uint64_t trial_id;
    int rc = hpo_store_trial_insert (self->store, &row, &trial_id) ||
             hpo_store_attempt_end (self->store, trial_id, &attempt);
    self->rows += 2;
    long long mine = s_share (self, n);
    for (long long step = 0; step < mine && rc == 0; step++) {
        rc = hpo_store_value_put (self->store, trial_id, 1, step, "loss",
                                  1.0 / (double)(step + 1));
        self->written_values++;
        self->rows++;
    }
    return rc;
}

static const char *s_opts[] = {"adam", "sgd", "rmsprop"};

//  One rich trial's parameters (JSON into params) and its objective: the
//  learning rate matters most, then the optimiser and the layers; dropout
//  a little; momentum only through sgd's rows.
static double
s_rich_params (s_pop_t *self, char *params, size_t size)
{
    hpo_rng_t *rng = &self->rng;
    double lr = pow (10, -5 + 4 * hpo_rng_uniform (rng));
    int layers = 1 + (int)hpo_rng_below (rng, 8);
    int opt = (int)hpo_rng_below (rng, 3);
    double dropout = 0.05 * (double)hpo_rng_below (rng, 11);
    double momentum = 0.5 + 0.49 * hpo_rng_uniform (rng);
    double value = 0.1 * pow (log10 (lr) + 3, 2) + 0.3 * (opt == 1)
                   + 0.02 * abs (layers - 5) + 0.1 * dropout
                   + 0.05 * hpo_rng_uniform (rng);
    if (opt == 1) {
        value -= 0.2 * (momentum - 0.5);
        snprintf (params, size,
                  "{\"lr\": %.17g, \"layers\": %d, \"opt\": \"sgd\", "
                  "\"momentum\": %.17g, \"dropout\": %.17g}",
                  lr, layers, momentum, dropout);
    } else
        snprintf (params, size,
                  "{\"lr\": %.17g, \"layers\": %d, \"opt\": \"%s\", "
                  "\"dropout\": %.17g}",
                  lr, layers, s_opts[opt], dropout);
    return value;
}

//  A rich trial's curve: steps of "loss" falling from 1 towards value.
static int
s_rich_curve (s_pop_t *self, uint64_t trial_id, uint32_t attempt,
              long long steps, double value)
{
    int rc = 0;
    for (long long step = 0; step < steps && rc == 0; step++) {
        double v = value + (1.0 - value) * exp (-(double)step / 3.0);
        rc = hpo_store_value_put (self->store, trial_id, attempt, step, "loss",
                                  v);
        self->written_values++;
        self->rows++;
    }
    return rc;
}

static int
s_rich_trial (s_pop_t *self, long long n)
{
    char params[256], worker[16], lost_worker[16], reason[48];
    double value = s_rich_params (self, params, sizeof params);
    double u = hpo_rng_uniform (&self->rng);
    int lost = hpo_rng_uniform (&self->rng) < 0.05;
    //  Sixteen slots: trials start half a second apart and run 2 to 10 s.
    double started = self->wall + 0.5 * (double)n;
    double ended = started + 2 + 8 * hpo_rng_uniform (&self->rng);
    long long steps = s_share (self, n);
    snprintf (worker, sizeof worker, "node-%d", (int)(n % 8));
    snprintf (lost_worker, sizeof lost_worker, "node-%d", (int)((n + 3) % 8));
    hpo_store_trial_row_t row = {
        .study_id = self->study_id, .number = (uint64_t)n,
        .state = "COMPLETE", .attempt = 1 + lost, .lost = lost,
        .params = params, .has_value = 1, .value = value, .worker = worker,
        .started = started, .ended = ended,
    };
    hpo_store_attempt_row_t attempt = {.attempt = 1 + lost, .worker = worker,
                                       .started = started, .ended = ended,
                                       .outcome = "COMPLETE"};
    if (u < 0.12) {
        steps = steps > 1 ? 1 + (long long)hpo_rng_below (
                                    &self->rng, (uint64_t)steps - 1)
                          : steps;
        snprintf (reason, sizeof reason, "pruned at step %lld",
                  steps > 0 ? steps - 1 : 0);
        row.state = attempt.outcome = "PRUNED";
        row.has_value = 0;
        row.reason = attempt.reason = reason;
    } else if (u < 0.15) {
        row.state = attempt.outcome = "FAILED";
        row.has_value = 0;
        row.failures = 1;
        row.reason = attempt.reason = "exit status 1";
        attempt.log_tail = "Traceback (most recent call last):\n"
                           "  File \"train.py\", line 42, in <module>\n"
                           "RuntimeError: CUDA out of memory\n";
        steps /= 2;
    }
    uint64_t trial_id;
    int rc = hpo_store_trial_insert (self->store, &row, &trial_id);
    if (rc == 0 && lost) {
        //  The first attempt ran on another worker until its lease ran out.
        hpo_store_attempt_row_t first = {
            .attempt = 1, .worker = lost_worker, .started = started - 30,
            .ended = started - 1, .outcome = "LOST",
            .reason = "lease expired"};
        rc = hpo_store_attempt_end (self->store, trial_id, &first) ||
             s_rich_curve (self, trial_id, 1, steps / 2, value + 0.1);
        self->rows++;
    }
    if (rc == 0)
        rc = hpo_store_attempt_end (self->store, trial_id, &attempt) ||
             s_rich_curve (self, trial_id, row.attempt, steps, value);
    self->rows += 2;
    return rc;
}

static char *
s_spec (const char *study, long long trials, int rich)
{
    if (!rich)
        //  The spec hpo-bench-load submits, so the coordinator loads it as
        //  it would one of its own studies.
        return hpo_sprintf (
            "name: %s\ncommand: true\nobjective: {metric: loss}\n"
            "sampler: {type: random, seed: 1}\n"
            "budget: {trials: %lld}\ntrial: {retries: 0}\n"
            "space: {x: {type: float, low: 0, high: 1}}\n",
            study, trials);
    return hpo_sprintf (
        "name: %s\ncommand: python3 train.py --lr {lr} --layers {layers} "
        "--opt {opt} --momentum={momentum} --dropout {dropout}\n"
        "objective: {metric: loss, direction: minimize}\n"
        "sampler: {type: tpe, seed: 1}\n"
        "pruner: {type: median, n_startup_trials: 5}\n"
        "budget: {trials: %lld, parallel: 16}\ntrial: {retries: 1}\n"
        "space:\n"
        "  lr: {type: float, low: 1.0e-5, high: 0.1, log: true}\n"
        "  layers: {type: int, low: 1, high: 8}\n"
        "  opt: {type: categorical, values: [adam, sgd, rmsprop]}\n"
        "  momentum: {type: float, low: 0.5, high: 0.99, when: {opt: sgd}}\n"
        "  dropout: {type: float, low: 0, high: 0.5, step: 0.05}\n",
        study, trials);
}

//  Writes the study and its trials; 0 or -1 (the store said why).
static int
s_populate (s_pop_t *self, const char *study, const char *spec_text, int rich)
{
    hpo_rng_seed (&self->rng, 1, 0);
    self->wall = hpo_clock_wall () - (double)self->trials; //  in the past
    hpo_store_begin (self->store);
    int rc = hpo_store_study_insert (self->store, study, spec_text,
                                     self->wall - 1, &self->study_id);
    if (rc == 0)
        rc = hpo_store_study_state (self->store, self->study_id, "FINISHED",
                                    self->wall + (double)self->trials);
    for (long long n = 0; n < self->trials && rc == 0; n++) {
        rc = rich ? s_rich_trial (self, n) : s_plain_trial (self, n);
        if (rc == 0)
            rc = s_maybe_commit (self);
    }
    if (rc == 0)
        return hpo_store_commit (self->store);
    hpo_store_rollback (self->store);
    return -1;
}

int
main (int argc, char **argv)
{
    const char *db = NULL, *study = "big";
    long long trials = 100000, values = 10000000, batch = 10000;
    int rich = 0;
    static const struct option options[] = {
        {"db", required_argument, NULL, 'd'},
        {"study", required_argument, NULL, 'n'},
        {"trials", required_argument, NULL, 't'},
        {"values", required_argument, NULL, 'v'},
        {"batch", required_argument, NULL, 'b'},
        {"rich", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'n':
            study = optarg;
            break;
        case 't':
            trials = atoll (optarg);
            break;
        case 'v':
            values = atoll (optarg);
            break;
        case 'b':
            batch = atoll (optarg);
            break;
        case 'r':
            rich = 1;
            break;
        case 'h':
            s_usage (stdout);
            return 0;
        default:
            s_usage (stderr);
            return 2;
        }
    }
    if (!db || optind < argc || trials < 1 || values < 0 || batch < 1) {
        s_usage (stderr);
        return 2;
    }
    hpo_log_init ("hpo-bench-populate", HPO_LOG_WARN);

    char *spec_text = s_spec (study, trials, rich);
    char *error = NULL;
    hpo_spec_t *spec =
        hpo_spec_parse (spec_text, strlen (spec_text), "populate", &error);
    if (!spec) {
        fprintf (stderr, "hpo-bench-populate: study spec: %s\n", error);
        free (error);
        free (spec_text);
        return 1;
    }
    hpo_spec_destroy (&spec);

    double t0 = s_now ();
    s_pop_t pop = {.trials = trials, .values = values, .batch = batch};
    pop.store = hpo_store_open (db, HPO_SYNC_OFF, &error);
    if (!pop.store) {
        fprintf (stderr, "hpo-bench-populate: %s\n", error);
        free (error);
        free (spec_text);
        return 1;
    }
    int rc = s_populate (&pop, study, spec_text, rich);
    hpo_store_destroy (&pop.store);
    free (spec_text);
    if (rc) {
        fprintf (stderr, "hpo-bench-populate: store failed (see above)\n");
        return 1;
    }
    printf ("study=%s trials=%lld values=%lld seconds=%.1f\n", study, trials,
            pop.written_values, s_now () - t0);
    return 0;
}
