/*  dash_api.c: hpo-bench-dash, the dashboard's read model and API at
    scale (docs/dashboard.md): fills a model with N trials of 8
    parameters and ~20 values each through batches, then times the
    answers. Prints; asserts nothing about time.

        hpo-bench-dash [TRIALS [PATH]] (default 100000; every path)                        */
#include <inttypes.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/mem.h"
#include "../dash/api.h"
#include "../dash/batch.h"
#include "../dash/model.h"

static const char s_spec[] =
    "name: big\n"
    "objective: {metric: loss, direction: minimize}\n"
    "sampler: {type: random}\n"
    "budget: {trials: 1000000}\n"
    "space:\n"
    "  lr: {type: float, low: 1.0e-5, high: 0.1, log: true}\n"
    "  wd: {type: float, low: 1.0e-6, high: 0.01, log: true}\n"
    "  drop: {type: float, low: 0.0, high: 0.5}\n"
    "  mom: {type: float, low: 0.5, high: 0.99}\n"
    "  layers: {type: int, low: 1, high: 8}\n"
    "  width: {type: int, low: 16, high: 1024, log: true}\n"
    "  opt: {type: categorical, values: [adam, sgd, rmsprop]}\n"
    "  act: {type: categorical, values: [relu, gelu, tanh]}\n";

static double
s_clock (clockid_t clock)
{
    struct timespec ts;
    clock_gettime (clock, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
s_now (void)
{
    return s_clock (CLOCK_MONOTONIC);
}

static const char *s_only;  //  argv[2]: time only this path

static void
s_time (hpo_model_t *m, const char *path, const char *query)
{
    if (s_only && strcmp (path, s_only) != 0)
        return;
    //  Wall time and the thread's CPU time: on a shared machine the
    //  second says what the answer costs, the first what a client waits.
    double best = 1e9, best_cpu = 1e9;
    size_t len = 0;
    const char *env = getenv ("HPO_BENCH_REPEAT");
    int repeat = env && atoi (env) > 0 ? atoi (env) : 5;
    for (int k = 0; k < repeat; k++) {
        double t0 = s_now ();
        double c0 = s_clock (CLOCK_THREAD_CPUTIME_ID);
        char *body;
        int status = hpo_api_get (m, path, query, 1, 1.8e9, &body, &len);
        double t = s_now () - t0;
        double c = s_clock (CLOCK_THREAD_CPUTIME_ID) - c0;
        if (status != 200)
            fprintf (stderr, "%s: %d\n", path, status);
        free (body);
        if (t < best)
            best = t;
        if (c < best_cpu)
            best_cpu = c;
    }
    printf ("GET %s%s%s: %.1f ms wall, %.1f ms cpu, %.1f MB (best of %d)\n",
            path, query ? "?" : "", query ? query : "", best * 1e3,
            best_cpu * 1e3, len / 1e6, repeat);
}

//  A yardstick for a shared machine: CPU ns of one snprintf ("%.17g"),
//  about 600 on this repository's unloaded 2-core builder.
static double
s_yardstick (void)
{
    char buf[40];
    double c0 = s_clock (CLOCK_THREAD_CPUTIME_ID);
    size_t n = 0;
    for (int k = 0; k < 200000; k++)
        n += (size_t)snprintf (buf, sizeof buf, "%.17g", 1.8e9 + k * 0.37);
    double c = s_clock (CLOCK_THREAD_CPUTIME_ID) - c0;
    return n ? c / 200000 * 1e9 : 0;
}

int
main (int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull (argv[1], NULL, 10) : 100000;
    s_only = argc > 2 ? argv[2] : NULL;
    const char *opts[] = {"adam", "sgd", "rmsprop"};
    const char *acts[] = {"relu", "gelu", "tanh"};
    srand48 (1);
    hpo_model_t *m = hpo_model_new ();
    hpo_model_quiet (m, 1);     //  nothing follows it here
    hpo_batch_t *b = hpo_batch_new ();
    hpo_batch_study_insert (b, 1, "big", s_spec, 1.8e9 - 3600);
    double t_fill = 0, t_apply = 0;
    uint64_t records = 0;
    for (uint64_t k = 0; k < n; k++) {
        char *params = hpo_sprintf (
            "{\"lr\": %.17g, \"wd\": %.17g, \"drop\": %.17g, \"mom\": %.17g, "
            "\"layers\": %d, \"width\": %d, \"opt\": \"%s\", \"act\": \"%s\"}",
            1e-5 + drand48 () * 0.1, 1e-6 + drand48 () * 0.01,
            drand48 () * 0.5, 0.5 + drand48 () * 0.49, 1 + (int)(k % 8),
            16 + (int)(k % 1000), opts[k % 3], acts[(k / 3) % 3]);
        double start = 1.8e9 - 3600 + k * 0.03;
        hpo_store_trial_row_t row = {
            .id = k + 1, .study_id = 1, .number = k, .state = "COMPLETE",
            .attempt = 1, .params = params, .has_value = 1,
            .value = drand48 (), .worker = k % 2 ? "gpu1" : "gpu2",
            .started = start, .ended = start + 30};
        double t0 = s_now ();
        hpo_batch_trial (b, &row);
        for (int s = 0; s < 20; s++)
            hpo_batch_value (b, k + 1, 1, s, "loss", 1.0 / (s + 1) + drand48 ());
        hpo_store_attempt_row_t a = {.attempt = 1, .worker = row.worker,
                                     .started = start, .ended = start + 30,
                                     .outcome = "COMPLETE"};
        hpo_batch_attempt (b, k + 1, &a);
        t_fill += s_now () - t0;
        records += 22;
        free (params);
        if (hpo_batch_size (b) > 100000 || k + 1 == n) {
            t0 = s_now ();
            hpo_model_apply (m, b);
            t_apply += s_now () - t0;
            hpo_batch_destroy (&b);
            b = hpo_batch_new ();
        }
    }
    hpo_batch_destroy (&b);
    printf ("%" PRIu64 " trials: batch appends %.0f ns/record, "
            "apply %.2f us/record, skipped %" PRIu64 "\n",
            n, t_fill / records * 1e9, t_apply / records * 1e6,
            hpo_model_skipped (m));
    struct rusage ru;
    getrusage (RUSAGE_SELF, &ru);
    printf ("peak resident set after loading: %.0f MB\n", ru.ru_maxrss / 1e3);
    printf ("yardstick: snprintf %%.17g %.0f ns cpu\n", s_yardstick ());
    s_time (m, "/api/studies", NULL);
    s_time (m, "/api/studies/big/trials", NULL);
    s_time (m, "/api/studies/big/curves", NULL);
    s_time (m, "/api/studies/big/timeline", NULL);
    s_time (m, "/api/studies/big/importance", NULL);
    s_time (m, "/api/studies/big/trials/5", NULL);
    hpo_model_destroy (&m);
    return 0;
}
