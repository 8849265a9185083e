/*  test_htmlreport.c: hpo report's page (cli/report.h) from answers built
    by hand: the data element sits right before the page's first script,
    "</" never appears inside it, a trial cut across two pages is whole,
    and the detailed trials are the best 50 and the last 50 ended.       */
#include <jansson.h>
#include <stdio.h>
#include <unistd.h>

#include "../../cli/report.h"
#include "dashtest.h"
#include "testutil.h"

#define S_N 150

static Hpo__Param s_x[S_N];
static Hpo__Param *s_xp[S_N];
static Hpo__TrialInfo s_trials[S_N];
static Hpo__TrialInfo *s_tp[S_N];
static Hpo__IntermediateValue s_values[S_N][2];
static Hpo__IntermediateValue *s_vp[S_N][2];

static void
s_make (void)
{
    for (int k = 0; k < S_N; k++) {
        hpo__param__init (&s_x[k]);
        s_x[k].name = (char *)"lr";
        s_x[k].kind = HPO_KIND_FLOAT;
        s_x[k].f = 0.001 * (k + 1);
        s_xp[k] = &s_x[k];
        Hpo__TrialInfo *t = &s_trials[k];
        hpo__trial_info__init (t);
        t->number = (uint64_t)k;
        t->state = (char *)(k % 10 == 9 ? "FAILED" : "COMPLETE");
        t->params = &s_xp[k];
        t->n_params = 1;
        t->has_value = k % 10 != 9;
        //  The best values are the middle numbers; the last ended the
        //  lowest ones.
        t->value = (k - 75) * (k - 75);
        t->attempt = 1;
        t->worker = (char *)"w</1";
        t->started = 1000 + S_N - k;
        t->ended = 1001 + S_N - k;
        t->reason = (char *)(k % 10 == 9 ? "exit </script>" : "");
        for (int j = 0; j < 2; j++) {
            hpo__intermediate_value__init (&s_values[k][j]);
            s_values[k][j].attempt = 1;
            s_values[k][j].step = j;
            s_values[k][j].metric = (char *)"val_loss";
            s_values[k][j].value = j + k;
            s_vp[k][j] = &s_values[k][j];
        }
        t->values = s_vp[k];
        t->n_values = 2;
        s_tp[k] = t;
    }
}

int
main (void)
{
    s_make ();
    s_trials[1].worker = (char *)"<!--<script>";
    Hpo__StudyInfo study = HPO__STUDY_INFO__INIT;
    study.name = (char *)"mnist";
    study.state = (char *)"RUNNING";
    study.spec = (char *)t_spec;
    study.direction = (char *)"minimize";
    study.created = 900;
    hpo_htmlreport_t *report = hpo_htmlreport_new (&study);
    //  Two pages, the second continuing trial 99 (its second value).
    Hpo__TrialList page = HPO__TRIAL_LIST__INIT;
    page.trials = s_tp;
    page.n_trials = 100;
    s_trials[99].n_values = 1;
    hpo_htmlreport_trials (report, &page);
    Hpo__TrialInfo piece = s_trials[99];
    piece.values = &s_vp[99][1];
    piece.n_values = 1;
    Hpo__TrialInfo *second[S_N - 99];
    second[0] = &piece;
    for (int k = 100; k < S_N; k++)
        second[k - 99] = s_tp[k];
    page.trials = second;
    page.n_trials = S_N - 99;
    hpo_htmlreport_trials (report, &page);

    char path[] = "/tmp/hpo-test-report-XXXXXX";
    int fd = mkstemp (path);
    CHECK (fd >= 0);
    close (fd);
    const char html[] = "<html><head><title>t</title>\n<script>page()"
                        "</script></head><script>x</script></html>";
    char *error = NULL;
    CHECK (hpo_htmlreport_write (report, 2000, html, sizeof html - 1, path,
                                 &error) == 0);
    CHECK (error == NULL);
    FILE *f = fopen (path, "r");
    char *text = hpo_calloc (1 << 22, 1);
    size_t n = fread (text, 1, (1 << 22) - 1, f);
    fclose (f);
    unlink (path);
    const char *open = "<script id=\"hpo-data\" type=\"application/json\">";
    char *at = strstr (text, open);
    CHECK (at != NULL);
    //  Right before the page's first script; the rest of the page as is.
    CHECK (at == text + strlen ("<html><head><title>t</title>\n"));
    char *data = at + strlen (open);
    char *end = strstr (data, "</script>");
    CHECK (end && strcmp (end, "</script>\n<script>page()</script></head>"
                               "<script>x</script></html>") == 0);
    CHECK (n == strlen (text));
    *end = 0;
    CHECK (strstr (data, "</") == NULL);
    CHECK (strstr (data, "<!--") == NULL);
    json_error_t jerr;
    json_t *doc = json_loads (data, 0, &jerr);
    CHECK (doc != NULL);
    CHECK_STR (json_string_value (json_object_get (doc, "mode")), "report");
    CHECK (json_number_value (json_object_get (doc, "generated")) == 2000);
    json_t *api = json_object_get (doc, "api");
    const char *paths[] = {"/api/studies", "/api/workers",
                           "/api/studies/mnist", "/api/studies/mnist/trials",
                           "/api/studies/mnist/importance",
                           "/api/studies/mnist/timeline",
                           "/api/studies/mnist/curves?metric=val_loss"};
    for (size_t k = 0; k < sizeof paths / sizeof *paths; k++)
        CHECK (json_is_object (json_object_get (api, paths[k])));
    json_t *trials = json_object_get (api, "/api/studies/mnist/trials");
    CHECK (json_integer_value (json_object_get (trials, "n")) == S_N);
    CHECK_STR (json_string_value (json_array_get (
                   json_object_get (trials, "worker"), 0)),
               "w</1");
    CHECK_STR (json_string_value (json_array_get (
                   json_object_get (trials, "worker"), 1)),
               "<!--<script>");
    //  Trial 99's two pieces make one curve of two values.
    CHECK (json_object_get (api, "/api/studies/mnist/curves") == NULL);
    json_t *curves =
        json_object_get (api, "/api/studies/mnist/curves?metric=val_loss");
    CHECK (json_integer_value (json_object_get (curves, "n")) == 2 * S_N);
    //  The detail: the best 50 (numbers 48..102 around 75, FAILED ones
    //  excluded) and the last 50 ended (numbers 0..49): 98 trials.
    size_t details = 0;
    const char *k_;
    json_t *v_;
    json_object_foreach (api, k_, v_)
        details += strncmp (k_, "/api/studies/mnist/trials/", 26) == 0;
    CHECK (details == 98);
    CHECK (json_object_get (api, "/api/studies/mnist/trials/75") != NULL);
    CHECK (json_object_get (api, "/api/studies/mnist/trials/0") != NULL);
    CHECK (json_object_get (api, "/api/studies/mnist/trials/49") != NULL);
    CHECK (json_object_get (api, "/api/studies/mnist/trials/102") != NULL);
    CHECK (json_object_get (api, "/api/studies/mnist/trials/79") == NULL);
    CHECK (json_object_get (api, "/api/studies/mnist/trials/103") == NULL);
    CHECK (json_object_get (api, "/api/studies/mnist/trials/140") == NULL);
    json_decref (doc);
    free (text);

    //  A file that cannot be written: an error, nothing left behind.
    CHECK (hpo_htmlreport_write (report, 2000, html, sizeof html - 1,
                                 "/nonexistent/dir/r.html", &error) == -1);
    CHECK_CONTAINS (error, "/nonexistent/dir/r.html");
    free (error);
    hpo_htmlreport_destroy (&report);
    CHECK (report == NULL);
    TEST_DONE ();
}
