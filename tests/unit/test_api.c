/*  test_api.c: the dashboard's JSON answers (dash/api.h), parsed back
    with jansson and compared with what the model was given; the JSON
    writer's numbers and strings (dash/jw.h).                            */
#include <jansson.h>
#include <math.h>

#include "../../dash/api.h"
#include "../../dash/jw.h"
#include "dashtest.h"
#include "testutil.h"

//  ---- the writer ----------------------------------------------------------

static void
test_jw_reals (void)
{
    //  Exactly what %.17g writes, over the magnitudes answers hold and
    //  any bit pattern at all.
    srand48 (7);
    int bad = 0;
    for (long k = 0; k < 300000; k++) {
        double x;
        switch (k % 6) {
        case 0: x = 1.764e9 + drand48 () * 1e6; break;
        case 1: x = drand48 (); break;
        case 2: x = exp (drand48 () * 90 - 45); break;
        case 3: x = (double)(lrand48 () % 100000) / 1000.0; break;
        case 4: x = -drand48 () * 1e-5; break;
        default: {
            uint64_t u = ((uint64_t)lrand48 () << 33) ^ (uint64_t)lrand48 ();
            memcpy (&x, &u, sizeof x);
        }
        }
        if (!isfinite (x))
            continue;
        char a[40], b[40];
        hpo_jw_format_real (a, x);
        snprintf (b, sizeof b, "%.17g", x);
        if (strcmp (a, b) != 0 && bad++ < 5)
            fprintf (stderr, "%s != %s\n", a, b);
    }
    CHECK (bad == 0);
    double edge[] = {0.0, -0.0, 1.0, 0.1, 1e-5, 1e-6, 9.9999999999999995e-7,
                     1e16, 1e17, 123456789012345678.0, 0.5, 100.0, 5e-324,
                     1.7976931348623157e308, 99999999999999999.0};
    //  Around every power of ten the fast path covers, where its first
    //  guess of the exponent is most often wrong.
    for (int p = -8; p <= 18; p++) {
        double x = pow (10, p);
        double near[] = {x, nextafter (x, 0), nextafter (x, INFINITY),
                         nextafter (nextafter (x, 0), 0), x * (1 - 1e-16),
                         x * 9.9999999999999995, -x};
        for (size_t k = 0; k < sizeof near / sizeof *near; k++) {
            char a[40], b[40];
            hpo_jw_format_real (a, near[k]);
            snprintf (b, sizeof b, "%.17g", near[k]);
            CHECK_STR (a, b);
        }
    }
    for (size_t k = 0; k < sizeof edge / sizeof *edge; k++) {
        char a[40], b[40];
        hpo_jw_format_real (a, edge[k]);
        snprintf (b, sizeof b, "%.17g", edge[k]);
        CHECK_STR (a, b);
    }
}

static void
test_jw_strings (void)
{
    hpo_jw_t w;
    hpo_jw_init (&w);
    hpo_jw_open (&w, '[');
    hpo_jw_str (&w, "a\"b\\c\n\x01");
    hpo_jw_str (&w, "caf\xc3\xa9");
    hpo_jw_str (&w, "bad\xff\xc3");      //  not UTF-8
    hpo_jw_real (&w, NAN);
    hpo_jw_real (&w, INFINITY);
    hpo_jw_int (&w, INT64_MIN);
    hpo_jw_str (&w, NULL);
    hpo_jw_open (&w, '{');
    hpo_jw_key (&w, "k");
    hpo_jw_uint (&w, 42);
    hpo_jw_close (&w, '}');
    hpo_jw_close (&w, ']');
    size_t len;
    char *text = hpo_jw_take (&w, &len);
    json_error_t error;
    json_t *doc = json_loadb (text, len, 0, &error);
    CHECK (doc != NULL);
    CHECK_STR (json_string_value (json_array_get (doc, 0)), "a\"b\\c\n\x01");
    CHECK_STR (json_string_value (json_array_get (doc, 1)), "caf\xc3\xa9");
    CHECK_STR (json_string_value (json_array_get (doc, 2)),
               "bad\xef\xbf\xbd\xef\xbf\xbd");
    CHECK (json_is_null (json_array_get (doc, 3)));
    CHECK (json_is_null (json_array_get (doc, 4)));
    CHECK (json_integer_value (json_array_get (doc, 5)) == INT64_MIN);
    CHECK (json_is_null (json_array_get (doc, 6)));
    CHECK_CONTAINS (text, "{\"k\":42}");
    json_decref (doc);
    free (text);
    hpo_jw_uint (&w, UINT64_MAX);
    text = hpo_jw_take (&w, &len);
    CHECK_STR (text, "18446744073709551615");
    free (text);
}

//  ---- answers -----------------------------------------------------------

static hpo_model_t *
s_model (void)
{
    hpo_model_t *m = hpo_model_new ();
    hpo_batch_t *b = hpo_batch_new ();
    hpo_batch_study_insert (b, 1, "mnist", t_spec, 1000.0);
    hpo_batch_study_insert (b, 2, "a-b.c", t_spec, 1000.0);
    //  0: COMPLETE after a lost attempt; 1: PRUNED (conditional mom);
    //  2: RUNNING its first attempt; 3: FAILED.
    t_trial (b, 10, 1, 0, "COMPLETE", 2,
             "{\"lr\": 0.001, \"layers\": 3, \"opt\": \"adam\"}", 1, 0.31,
             "gpu2", 1100, 1160, NULL);
    t_attempt (b, 10, 1, "gpu1", 1010, 1090, "LOST", "lease expired");
    t_attempt (b, 10, 2, "gpu2", 1100, 1160, "COMPLETE", NULL);
    hpo_batch_value (b, 10, 1, 0, "val_loss", 0.95);
    hpo_batch_value (b, 10, 1, 1, "val_loss", 0.85);
    hpo_batch_value (b, 10, 2, 0, "val_loss", 0.9);
    hpo_batch_value (b, 10, 2, 0, "acc", 0.5);
    t_trial (b, 11, 1, 1, "PRUNED", 1,
             "{\"lr\": 0.01, \"layers\": 2, \"opt\": \"sgd\", \"mom\": 0.9}",
             0, 0, "gpu1", 1020, 1080, "pruned at step 3");
    t_attempt (b, 11, 1, "gpu1", 1020, 1080, "PRUNED", "pruned at step 3");
    hpo_batch_value (b, 11, 1, 3, "val_loss", 0.52);
    t_trial (b, 12, 1, 2, "RUNNING", 1,
             "{\"lr\": 0.003, \"layers\": 8, \"opt\": \"adam\"}", 0, 0,
             "gpu1", 1170, 0, NULL);
    t_trial (b, 13, 1, 3, "FAILED", 1,
             "{\"lr\": 0.002, \"layers\": 1, \"opt\": \"adam\"}", 0, 0,
             "gpu3", 1005, 1006, "exit status 1");
    t_attempt (b, 13, 1, "gpu3", 1005, 1006, "FAILED", "exit status 1");
    t_workers (b, "gpu1", 1200);
    hpo_model_apply (m, b);
    hpo_batch_destroy (&b);
    CHECK (hpo_model_skipped (m) == 0);
    return m;
}

//  GETs path?query; checks the status; returns the parsed answer.
static json_t *
s_get (hpo_model_t *m, const char *path, const char *query, int status)
{
    char *body = NULL;
    size_t len = 0;
    int rc = hpo_api_get (m, path, query, 812, 1200.0, &body, &len);
    if (rc != status)
        fprintf (stderr, "GET %s: %d, not %d: %s\n", path, rc, status, body);
    CHECK (rc == status);
    CHECK (body && strlen (body) == len);
    json_error_t error;
    json_t *doc = json_loadb (body, len, 0, &error);
    if (!doc)
        fprintf (stderr, "GET %s: %s: %s\n", path, error.text, body);
    CHECK (doc != NULL);
    if (status != 200)
        CHECK (json_is_string (json_object_get (doc, "error")));
    else
        CHECK (json_integer_value (json_object_get (doc, "version")) == 812);
    free (body);
    return doc;
}

#define S_INT(obj, key) json_integer_value (json_object_get ((obj), (key)))
#define S_REAL(obj, key) json_number_value (json_object_get ((obj), (key)))
#define S_STR(obj, key) json_string_value (json_object_get ((obj), (key)))
#define S_NULL(obj, key) json_is_null (json_object_get ((obj), (key)))

static void
test_studies (hpo_model_t *m)
{
    json_t *doc = s_get (m, "/api/studies", NULL, 200);
    CHECK (S_REAL (doc, "now") == 1200.0);
    json_t *studies = json_object_get (doc, "studies");
    CHECK (json_array_size (studies) == 2);
    json_t *s = json_array_get (studies, 0);
    CHECK_STR (S_STR (s, "name"), "mnist");
    CHECK_STR (S_STR (s, "state"), "RUNNING");
    CHECK_STR (S_STR (s, "direction"), "minimize");
    CHECK_STR (S_STR (s, "metric"), "val_loss");
    CHECK_STR (S_STR (s, "sampler"), "random");
    CHECK_STR (S_STR (s, "pruner"), "median");
    CHECK (S_REAL (s, "created") == 1000.0 && S_NULL (s, "ended"));
    CHECK (S_INT (s, "budget") == 10 && S_INT (s, "trials") == 4);
    json_t *counts = json_object_get (s, "counts");
    CHECK (S_INT (counts, "WAITING") == 0 && S_INT (counts, "RUNNING") == 1 &&
           S_INT (counts, "COMPLETE") == 1 && S_INT (counts, "PRUNED") == 1 &&
           S_INT (counts, "FAILED") == 1);
    json_t *best = json_object_get (s, "best");
    CHECK (S_INT (best, "number") == 0 && S_REAL (best, "value") == 0.31);
    //  3 ended in the 200 s (3.33 minutes) since creation.
    CHECK_NEAR (S_REAL (s, "trials_per_minute"), 3 / (200.0 / 60), 1e-9);
    json_t *params = json_object_get (s, "params");
    CHECK (json_array_size (params) == 4);
    CHECK_STR (json_string_value (json_array_get (params, 3)), "mom");
    json_t *empty = json_array_get (studies, 1);
    CHECK (S_NULL (empty, "best") && S_INT (empty, "trials") == 0);
    json_t *w = json_array_get (json_object_get (doc, "workers"), 0);
    CHECK_STR (S_STR (w, "name"), "gpu1");
    CHECK (S_INT (w, "slots") == 4);
    json_decref (doc);

    doc = s_get (m, "/api/workers", NULL, 200);
    CHECK (json_array_size (json_object_get (doc, "workers")) == 1);
    CHECK (S_REAL (doc, "now") == 1200.0);
    json_decref (doc);
}

static void
test_study (hpo_model_t *m)
{
    json_t *doc = s_get (m, "/api/studies/mnist", NULL, 200);
    CHECK_STR (S_STR (json_object_get (doc, "study"), "name"), "mnist");
    CHECK_STR (S_STR (doc, "spec"), t_spec);
    json_t *space = json_object_get (doc, "space");
    CHECK (json_array_size (space) == 4);
    json_t *lr = json_array_get (space, 0);
    CHECK_STR (S_STR (lr, "kind"), "float");
    CHECK (json_is_true (json_object_get (lr, "log")));
    CHECK (S_REAL (lr, "low") == 1e-5 && S_REAL (lr, "high") == 0.1);
    CHECK (S_NULL (lr, "step") && S_NULL (lr, "values") && S_NULL (lr, "when"));
    json_t *opt = json_array_get (space, 2);
    CHECK_STR (S_STR (opt, "kind"), "categorical");
    CHECK (S_NULL (opt, "low"));
    CHECK_STR (json_string_value (
                   json_array_get (json_object_get (opt, "values"), 1)),
               "sgd");
    json_t *when = json_object_get (json_array_get (space, 3), "when");
    CHECK_STR (S_STR (when, "param"), "opt");
    CHECK_STR (json_string_value (
                   json_array_get (json_object_get (when, "values"), 0)),
               "sgd");
    CHECK_STR (S_STR (json_array_get (space, 1), "kind"), "int");
    json_t *metrics = json_object_get (doc, "metrics");
    CHECK (json_array_size (metrics) == 2);
    CHECK_STR (json_string_value (json_array_get (metrics, 0)), "val_loss");
    json_decref (doc);

    //  A percent-encoded name.
    doc = s_get (m, "/api/studies/a%2Db%2ec", NULL, 200);
    CHECK_STR (S_STR (json_object_get (doc, "study"), "name"), "a-b.c");
    json_decref (doc);
}

static void
test_trials (hpo_model_t *m)
{
    json_t *doc = s_get (m, "/api/studies/mnist/trials", NULL, 200);
    CHECK (S_INT (doc, "n") == 4);
    const char *cols[] = {"number", "state", "value", "attempt", "worker",
                          "started", "ended", "last_step", "last_value",
                          "reason"};
    for (size_t k = 0; k < sizeof cols / sizeof *cols; k++)
        CHECK (json_array_size (json_object_get (doc, cols[k])) == 4);
    json_t *state = json_object_get (doc, "state");
    CHECK_STR (json_string_value (json_array_get (state, 1)), "PRUNED");
    json_t *value = json_object_get (doc, "value");
    CHECK (json_real_value (json_array_get (value, 0)) == 0.31);
    CHECK (json_is_null (json_array_get (value, 1)));
    CHECK (json_integer_value (
               json_array_get (json_object_get (doc, "attempt"), 0)) == 2);
    CHECK_STR (json_string_value (
                   json_array_get (json_object_get (doc, "worker"), 0)),
               "gpu2");
    CHECK (json_is_null (json_array_get (json_object_get (doc, "ended"), 2)));
    //  last_step: trial 0's current attempt (2) reported step 0 only.
    json_t *last_step = json_object_get (doc, "last_step");
    CHECK (json_integer_value (json_array_get (last_step, 0)) == 0);
    CHECK (json_integer_value (json_array_get (last_step, 1)) == 3);
    CHECK (json_is_null (json_array_get (last_step, 2)));
    CHECK (json_real_value (json_array_get (
               json_object_get (doc, "last_value"), 1)) == 0.52);
    CHECK_STR (json_string_value (
                   json_array_get (json_object_get (doc, "reason"), 3)),
               "exit status 1");
    json_t *params = json_object_get (doc, "params");
    CHECK (json_object_size (params) == 4);
    json_t *opt = json_object_get (params, "opt");
    CHECK_STR (json_string_value (json_array_get (opt, 1)), "sgd");
    json_t *mom = json_object_get (params, "mom");
    CHECK (json_is_null (json_array_get (mom, 0)));   //  conditional
    CHECK (json_real_value (json_array_get (mom, 1)) == 0.9);
    CHECK (json_integer_value (
               json_array_get (json_object_get (params, "layers"), 2)) == 8);
    json_decref (doc);

    doc = s_get (m, "/api/studies/a-b.c/trials", NULL, 200);
    CHECK (S_INT (doc, "n") == 0);
    CHECK (json_array_size (json_object_get (doc, "number")) == 0);
    json_decref (doc);
}

static void
test_curves (hpo_model_t *m)
{
    //  Default metric, latest attempts only: trial 0's attempt 2 (step
    //  0, replacing attempt 1's), not attempt 1's step 1; trial 1's.
    json_t *doc = s_get (m, "/api/studies/mnist/curves", NULL, 200);
    CHECK_STR (S_STR (doc, "metric"), "val_loss");
    CHECK (S_INT (doc, "n") == 2);
    json_t *number = json_object_get (doc, "number");
    json_t *step = json_object_get (doc, "step");
    json_t *value = json_object_get (doc, "value");
    CHECK (json_array_size (number) == 2 && json_array_size (value) == 2);
    CHECK (json_integer_value (json_array_get (number, 0)) == 0);
    CHECK (json_integer_value (json_array_get (step, 0)) == 0);
    CHECK (json_real_value (json_array_get (value, 0)) == 0.9);
    CHECK (json_integer_value (json_array_get (step, 1)) == 3);
    json_decref (doc);

    doc = s_get (m, "/api/studies/mnist/curves", "metric=acc", 200);
    CHECK (S_INT (doc, "n") == 1);
    json_decref (doc);
    doc = s_get (m, "/api/studies/mnist/curves", "trials=1,7&metric=val%5Floss",
                 200);
    CHECK (S_INT (doc, "n") == 1);
    CHECK (json_integer_value (json_array_get (json_object_get (doc, "number"),
                                               0)) == 1);
    json_decref (doc);
    doc = s_get (m, "/api/studies/mnist/curves", "metric=nope", 200);
    CHECK (S_INT (doc, "n") == 0);
    json_decref (doc);
    json_decref (s_get (m, "/api/studies/mnist/curves", "trials=1,x", 400));
    json_decref (s_get (m, "/api/studies/mnist/curves", "trials=,", 400));
    json_decref (s_get (m, "/api/studies/mnist/curves", "metric=%zz", 400));
}

static void
test_timeline (hpo_model_t *m)
{
    json_t *doc = s_get (m, "/api/studies/mnist/timeline", NULL, 200);
    //  Four ended attempts and the running one, by start time.
    CHECK (S_INT (doc, "n") == 5);
    json_t *number = json_object_get (doc, "number");
    json_t *started = json_object_get (doc, "started");
    int64_t expect[] = {3, 0, 1, 0, 2};
    for (size_t k = 0; k < 5; k++)
        CHECK (json_integer_value (json_array_get (number, k)) == expect[k]);
    for (size_t k = 1; k < 5; k++)
        CHECK (json_real_value (json_array_get (started, k - 1)) <=
               json_real_value (json_array_get (started, k)));
    json_t *outcome = json_object_get (doc, "outcome");
    CHECK_STR (json_string_value (json_array_get (outcome, 1)), "LOST");
    CHECK_STR (json_string_value (json_array_get (outcome, 4)), "RUNNING");
    CHECK (json_is_null (json_array_get (json_object_get (doc, "ended"), 4)));
    CHECK_STR (json_string_value (
                   json_array_get (json_object_get (doc, "reason"), 1)),
               "lease expired");
    CHECK (json_integer_value (
               json_array_get (json_object_get (doc, "attempt"), 3)) == 2);
    CHECK_STR (json_string_value (
                   json_array_get (json_object_get (doc, "worker"), 4)),
               "gpu1");
    json_decref (doc);
}

static void
test_trial (hpo_model_t *m)
{
    json_t *doc = s_get (m, "/api/studies/mnist/trials/0", NULL, 200);
    json_t *t = json_object_get (doc, "trial");
    CHECK (S_INT (t, "number") == 0 && S_INT (t, "attempt") == 2);
    CHECK_STR (S_STR (t, "state"), "COMPLETE");
    CHECK (S_REAL (t, "value") == 0.31 && S_NULL (t, "reason"));
    CHECK (S_REAL (t, "started") == 1100 && S_REAL (t, "ended") == 1160);
    json_t *params = json_object_get (t, "params");
    CHECK (json_object_size (params) == 3); //  mom absent: no key
    CHECK (S_REAL (params, "lr") == 0.001);
    json_t *attempts = json_object_get (doc, "attempts");
    CHECK (json_array_size (attempts) == 2);
    json_t *a = json_array_get (attempts, 0);
    CHECK_STR (S_STR (a, "outcome"), "LOST");
    CHECK_STR (S_STR (a, "worker"), "gpu1");
    CHECK (S_NULL (a, "log_tail"));
    json_t *values = json_object_get (doc, "values");
    //  By step, then metric name: acc before val_loss at step 0.
    CHECK (json_array_size (values) == 3);
    CHECK_STR (S_STR (json_array_get (values, 0), "metric"), "acc");
    CHECK (S_INT (json_array_get (values, 1), "attempt") == 2);
    CHECK (S_REAL (json_array_get (values, 1), "value") == 0.9);
    CHECK (S_INT (json_array_get (values, 2), "step") == 1);
    json_decref (doc);

    //  The running attempt is listed.
    doc = s_get (m, "/api/studies/mnist/trials/2", NULL, 200);
    attempts = json_object_get (doc, "attempts");
    CHECK (json_array_size (attempts) == 1);
    CHECK_STR (S_STR (json_array_get (attempts, 0), "outcome"), "RUNNING");
    CHECK (S_NULL (json_array_get (attempts, 0), "ended"));
    json_decref (doc);
}

static void
test_importance (hpo_model_t *m)
{
    json_t *doc = s_get (m, "/api/studies/mnist/importance", NULL, 200);
    CHECK_STR (S_STR (doc, "method"), "ped-anova");
    CHECK (S_INT (doc, "n_trials") == 1);
    json_t *params = json_object_get (doc, "params");
    CHECK (json_array_size (params) == 4);
    //  One COMPLETE trial is too few: every importance is null.
    for (size_t k = 0; k < 4; k++) {
        json_t *p = json_array_get (params, k);
        CHECK (json_is_string (json_object_get (p, "name")));
        CHECK (S_NULL (p, "importance"));
    }
    json_decref (doc);
}

//  With enough COMPLETE trials, the parameter the value depends on leads,
//  importances sum to 1, and a maximized objective is handled.
static void
test_importance_ranked (void)
{
    hpo_model_t *m = hpo_model_new ();
    hpo_batch_t *b = hpo_batch_new ();
    hpo_batch_study_insert (b, 1, "mnist", t_spec, 1000.0);
    srand48 (3);
    for (int k = 0; k < 60; k++) {
        double lr = exp (log (1e-5) + drand48 () * (log (0.1) - log (1e-5)));
        char *params = hpo_sprintf (
            "{\"lr\": %.17g, \"layers\": %d, \"opt\": \"%s\"}", lr,
            1 + (int)(drand48 () * 8), drand48 () < 0.5 ? "adam" : "sgd");
        t_trial (b, 100 + k, 1, k, "COMPLETE", 1, params, 1,
                 fabs (log10 (lr) + 3) + drand48 () * 0.01, "w", 1000 + k,
                 1001 + k, NULL);
        free (params);
    }
    hpo_model_apply (m, b);
    hpo_batch_destroy (&b);
    json_t *doc = s_get (m, "/api/studies/mnist/importance", NULL, 200);
    CHECK (S_INT (doc, "n_trials") == 60);
    json_t *params = json_object_get (doc, "params");
    CHECK (json_array_size (params) == 4);
    CHECK_STR (S_STR (json_array_get (params, 0), "name"), "lr");
    double sum = 0;
    for (size_t k = 0; k < json_array_size (params); k++) {
        json_t *imp = json_object_get (json_array_get (params, k),
                                       "importance");
        if (json_is_number (imp))
            sum += json_number_value (imp);
    }
    CHECK_NEAR (sum, 1.0, 1e-9);
    json_decref (doc);
    hpo_model_destroy (&m);
}

//  spearman is the correlation with the objective's value, also when it
//  is maximized (the importance code ranks -value then).
static void
test_importance_maximize (void)
{
    static const char spec[] =
        "name: up\n"
        "objective: {metric: acc, direction: maximize}\n"
        "sampler: {type: random}\n"
        "budget: {trials: 40}\n"
        "space:\n"
        "  x: {type: float, low: 0.0, high: 1.0}\n";
    hpo_model_t *m = hpo_model_new ();
    hpo_batch_t *b = hpo_batch_new ();
    hpo_batch_study_insert (b, 1, "up", spec, 1000.0);
    for (int k = 0; k < 40; k++) {
        char *params = hpo_sprintf ("{\"x\": %.17g}", k / 40.0);
        t_trial (b, 100 + k, 1, k, "COMPLETE", 1, params, 1, 2.0 * k, "w",
                 1000 + k, 1001 + k, NULL);
        free (params);
    }
    hpo_model_apply (m, b);
    hpo_batch_destroy (&b);
    json_t *doc = s_get (m, "/api/studies/up/importance", NULL, 200);
    json_t *x = json_array_get (json_object_get (doc, "params"), 0);
    CHECK_STR (S_STR (x, "name"), "x");
    CHECK_NEAR (json_number_value (json_object_get (x, "spearman")), 1.0,
                1e-9);
    json_decref (doc);
    hpo_model_destroy (&m);
}

static void
test_errors (hpo_model_t *m)
{
    json_t *doc = s_get (m, "/api/studies/nope", NULL, 404);
    CHECK_STR (S_STR (doc, "error"), "no study named \"nope\"");
    json_decref (doc);
    doc = s_get (m, "/api/studies/mnist/trials/9", NULL, 404);
    CHECK_STR (S_STR (doc, "error"), "study mnist has no trial 9");
    json_decref (doc);
    json_decref (s_get (m, "/api/studies/mnist/trials/x", NULL, 404));
    json_decref (s_get (m, "/api/studies/mnist/trials/1/more", NULL, 404));
    json_decref (s_get (m, "/api/studies/mnist/nothing", NULL, 404));
    json_decref (s_get (m, "/api/nothing", NULL, 404));
    json_decref (s_get (m, "/", NULL, 404));
    json_decref (s_get (m, "/api/studies/mn%", NULL, 400));
    json_decref (s_get (m, "/api/studies/mn%00", NULL, 400));
}

int
main (void)
{
    test_jw_reals ();
    test_jw_strings ();
    hpo_model_t *m = s_model ();
    test_studies (m);
    test_study (m);
    test_trials (m);
    test_curves (m);
    test_timeline (m);
    test_trial (m);
    test_importance (m);
    test_errors (m);
    hpo_model_destroy (&m);
    test_importance_ranked ();
    test_importance_maximize ();
    TEST_DONE ();
}
