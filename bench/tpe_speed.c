/*  tpe_speed.c: the time of one TPE suggestion (search/tpe.c) after n
    finished trials, in-process, for the target (under 3 ms at
    10,000 trials and four parameters).

        hpo-bench-tpe [--params 4] [--repeat 20] [--multivariate]
                      [--int] [--clustered] N ...

    Each history holds N COMPLETE trials of a 4-d sphere with parameters
    drawn uniformly (or, with --clustered, 90% of them within 1% of the
    range around one point: a study that has converged, the worst case
    for the windowed sum), --int makes every parameter an int in
    [0, 1000]. The times printed are medians over --repeat suggestions
    (trial numbers N, N+1, ...), each from the same history (the first
    reads all of it; the others, as in a running study, only what is
    new), in wall-clock and in this thread's processor time.           */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rng.h"
#include "common/spec.h"
#include "search/sampler.h"

typedef struct {
    int params, repeat, multivariate, ints, clustered;
} s_opts_t;

static double
s_now (clockid_t clock)
{
    struct timespec ts;
    clock_gettime (clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int
s_cmp (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static hpo_spec_t *
s_spec (const s_opts_t *o)
{
    char text[4096];
    int len = snprintf (text, sizeof text,
                        "name: speed\ncommand: ./run\n"
                        "objective: {metric: loss}\n"
                        "sampler: {type: tpe, seed: 1, multivariate: %s}\n"
                        "budget: {trials: 1000000}\nspace:\n",
                        o->multivariate ? "true" : "false");
    for (int k = 0; k < o->params; k++)
        len += snprintf (text + len, sizeof text - (size_t)len,
                         "  x%d: {type: %s, low: 0, high: 1000}\n", k,
                         o->ints ? "int" : "float");
    char *error = NULL;
    hpo_spec_t *spec = hpo_spec_parse (text, strlen (text), "speed", &error);
    if (!spec) {
        fprintf (stderr, "hpo-bench-tpe: %s\n", error);
        exit (1);
    }
    return spec;
}

//  N COMPLETE trials of a sphere centred at 300 in every coordinate.
static hpo_history_t *
s_history (const s_opts_t *o, size_t n)
{
    hpo_history_t *h = hpo_history_new ((size_t)o->params);
    hpo_rng_t rng;
    hpo_rng_seed (&rng, 42, 0);
    hpo_value_t v[64];
    for (size_t t = 0; t < n; t++) {
        double loss = 0;
        int near = o->clustered && hpo_rng_uniform (&rng) < 0.9;
        for (int k = 0; k < o->params; k++) {
            double x = near ? 295 + 10 * hpo_rng_uniform (&rng)
                            : 1000 * hpo_rng_uniform (&rng);
            if (o->ints)
                v[k] = (hpo_value_t){.kind = HPO_KIND_INT,
                                     .i = (int64_t)x,
                                     .f = (double)(int64_t)x};
            else
                v[k] = (hpo_value_t){.kind = HPO_KIND_FLOAT, .f = x};
            loss += (v[k].f - 300) * (v[k].f - 300);
        }
        hpo_history_append (h, v);
        hpo_history_set_state (h, t, HPO_TRIAL_COMPLETE);
        hpo_history_set_value (h, t, loss);
    }
    return h;
}

static void
s_run (const s_opts_t *o, size_t n)
{
    hpo_spec_t *spec = s_spec (o);
    hpo_history_t *h = s_history (o, n);
    const hpo_sampler_ops_t *ops = spec->sampler.ops;
    void *self = ops->new (spec, spec->sampler.config);
    double *ms = calloc ((size_t)o->repeat, sizeof *ms);
    double *cpu = calloc ((size_t)o->repeat, sizeof *cpu);
    hpo_value_t v[64];
    for (int r = 0; r < o->repeat; r++) {
        double t0 = s_now (CLOCK_MONOTONIC);
        double c0 = s_now (CLOCK_THREAD_CPUTIME_ID);
        if (ops->suggest (self, spec, h, n + (size_t)r, NULL, v)) {
            fprintf (stderr, "hpo-bench-tpe: suggest failed\n");
            exit (1);
        }
        cpu[r] = 1e3 * (s_now (CLOCK_THREAD_CPUTIME_ID) - c0);
        ms[r] = 1e3 * (s_now (CLOCK_MONOTONIC) - t0);
        hpo_values_clear (v, spec->n_params);
    }
    qsort (ms, (size_t)o->repeat, sizeof *ms, s_cmp);
    qsort (cpu, (size_t)o->repeat, sizeof *cpu, s_cmp);
    //  The processor time is the figure to read on a busy machine: the
    //  wall time then includes waiting for a core.
    printf ("tpe %s%s%s: %d params, %zu trials: %.3f ms per suggestion, "
            "%.3f ms of processor time (medians of %d; wall min %.3f, "
            "max %.3f)\n",
            o->multivariate ? "multivariate" : "univariate",
            o->ints ? ", ints" : "", o->clustered ? ", clustered" : "",
            o->params, n, ms[o->repeat / 2], cpu[o->repeat / 2], o->repeat,
            ms[0], ms[o->repeat - 1]);
    free (ms);
    free (cpu);
    ops->destroy (self);
    for (size_t t = 0; t < n; t++)
        hpo_values_clear ((hpo_value_t *)hpo_history_params (h, t),
                          spec->n_params);
    hpo_history_destroy (&h);
    hpo_spec_destroy (&spec);
}

static void
s_usage (void)
{
    fprintf (stderr, "usage: hpo-bench-tpe [--params K] [--repeat R] "
                     "[--multivariate] [--int] [--clustered] N ...\n");
    exit (2);
}

int
main (int argc, char **argv)
{
    s_opts_t o = {.params = 4, .repeat = 20};
    int runs = 0;
    for (int a = 1; a < argc; a++) {
        if (!strcmp (argv[a], "--params") && a + 1 < argc)
            o.params = atoi (argv[++a]);
        else if (!strcmp (argv[a], "--repeat") && a + 1 < argc)
            o.repeat = atoi (argv[++a]);
        else if (!strcmp (argv[a], "--multivariate"))
            o.multivariate = 1;
        else if (!strcmp (argv[a], "--int"))
            o.ints = 1;
        else if (!strcmp (argv[a], "--clustered"))
            o.clustered = 1;
        else if (argv[a][0] == '-' || atol (argv[a]) <= 0)
            s_usage ();
        else if (o.params < 1 || o.params > 64 || o.repeat < 1)
            s_usage ();
        else {
            s_run (&o, (size_t)atol (argv[a]));
            runs++;
        }
    }
    if (!runs)
        s_usage ();
    return 0;
}
