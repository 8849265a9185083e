/*  hpo-bench-populate: builds a large database for the growth and
    start-up benchmarks by writing straight through the store API, as a
    coordinator that had run the study would have left it.

    One study (a valid study file, the one hpo-bench-load submits) with
    --trials finished trials, each COMPLETE at its first attempt, with
    params {"x": ...}, one attempt row, and --values intermediate values
    in all, spread evenly over the trials (steps 0, 1, ... of metric
    "loss"). Synchronous writes are off and rows are committed in batches
    of about --batch, so ten million values take a minute, not a day.

    The database must not be in use by a coordinator. Prints one line of
    key=value results.                                                    */
#include <getopt.h>
#include <inttypes.h>
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
                  "Prints one line of key=value results.\n");
}

int
main (int argc, char **argv)
{
    const char *db = NULL, *study = "big";
    long long trials = 100000, values = 10000000, batch = 10000;
    static const struct option options[] = {
        {"db", required_argument, NULL, 'd'},
        {"study", required_argument, NULL, 'n'},
        {"trials", required_argument, NULL, 't'},
        {"values", required_argument, NULL, 'v'},
        {"batch", required_argument, NULL, 'b'},
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

    //  The spec hpo-bench-load submits, so the coordinator loads it as it
    //  would one of its own studies.
    char *spec_text =
        hpo_sprintf ("name: %s\ncommand: true\nobjective: {metric: loss}\n"
                     "sampler: {type: random, seed: 1}\n"
                     "budget: {trials: %lld}\ntrial: {retries: 0}\n"
                     "space: {x: {type: float, low: 0, high: 1}}\n",
                     study, trials);
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
    hpo_store_t *store = hpo_store_open (db, HPO_SYNC_OFF, &error);
    if (!store) {
        fprintf (stderr, "hpo-bench-populate: %s\n", error);
        free (error);
        free (spec_text);
        return 1;
    }
    hpo_rng_t rng;
    hpo_rng_seed (&rng, 1, 0);
    double wall = hpo_clock_wall () - (double)trials; //  one trial a second
    uint64_t study_id = 0;
    long long rows = 0, written_values = 0;
    hpo_store_begin (store);
    int rc = hpo_store_study_insert (store, study, spec_text, wall, &study_id);
    if (rc == 0)
        rc = hpo_store_study_state (store, study_id, "FINISHED",
                                    wall + (double)trials);
    char params[64];
    for (long long n = 0; n < trials && rc == 0; n++) {
        double started = wall + (double)n, ended = started + 0.5;
        snprintf (params, sizeof params, "{\"x\": %.17g}",
                  hpo_rng_uniform (&rng));
        hpo_store_trial_row_t row = {
            .study_id = study_id,
            .number = (uint64_t)n,
            .state = "COMPLETE",
            .attempt = 1,
            .params = params,
            .has_value = 1,
            .value = 0.5,
            .worker = "populate",
            .started = started,
            .ended = ended,
        };
        uint64_t trial_id;
        //  Values spread evenly: the first (values % trials) trials take
        //  one extra.
        long long mine = values / trials + (n < values % trials ? 1 : 0);
        hpo_store_attempt_row_t attempt = {.attempt = 1,
                                           .worker = "populate",
                                           .started = started,
                                           .ended = ended,
                                           .outcome = "COMPLETE"};
        rc = hpo_store_trial_insert (store, &row, &trial_id) ||
             hpo_store_attempt_end (store, trial_id, &attempt);
        rows += 2;
        for (long long step = 0; step < mine && rc == 0; step++) {
            rc = hpo_store_value_put (store, trial_id, 1, step, "loss",
                                      1.0 / (double)(step + 1));
            written_values++;
            rows++;
        }
        if (rc == 0 && rows >= batch) {
            rc = hpo_store_commit (store);
            hpo_store_begin (store);
            rows = 0;
        }
    }
    if (rc == 0)
        rc = hpo_store_commit (store);
    else
        hpo_store_rollback (store);
    hpo_store_destroy (&store);
    free (spec_text);
    if (rc) {
        fprintf (stderr, "hpo-bench-populate: store failed (see above)\n");
        return 1;
    }
    printf ("study=%s trials=%lld values=%lld seconds=%.1f\n", study, trials,
            written_values, s_now () - t0);
    return 0;
}
