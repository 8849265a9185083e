/*  test_model.c: the dashboard's batches and read model (dash/batch.h,
    dash/model.h): what applying does, value replacement, skipped
    records, and the events' coalescing.                                 */
#include <jansson.h>

#include "../../dash/model.h"
#include "../../dash/modelp.h"
#include "dashtest.h"
#include "testutil.h"

//  ---- batches own what they hold ----------------------------------------

static void
test_batch (void)
{
    hpo_batch_t *b = hpo_batch_new ();
    CHECK (hpo_batch_empty (b));
    char name[] = "mnist";
    hpo_batch_study_insert (b, 1, name, t_spec, 100.0);
    name[0] = 'X';  //  the batch holds a copy
    char params[] = "{\"lr\": 0.01}";
    t_trial (b, 7, 1, 0, "RUNNING", 1, params, 0, 0, "gpu1", 101, 0, NULL);
    params[2] = 'X';
    hpo_batch_value (b, 7, 1, 3, "val_loss", 0.5);
    //  Enough records and bytes that both arrays move.
    for (int k = 0; k < 1000; k++)
        hpo_batch_value (b, 7, 1, k, "a_metric_with_a_long_name", k);
    t_workers (b, "gpu1", 200);
    CHECK (!hpo_batch_empty (b));
    CHECK (hpo_batch_size (b) == 1004);
    hpo_batch_record_t rec;
    hpo_batch_get (b, 0, &rec);
    CHECK (rec.kind == HPO_BATCH_STUDY_INSERT);
    CHECK_STR (rec.study.name, "mnist");
    CHECK_STR (rec.study.spec, t_spec);
    CHECK (rec.study.created == 100.0);
    hpo_batch_get (b, 1, &rec);
    CHECK (rec.kind == HPO_BATCH_TRIAL);
    CHECK (rec.trial.id == 7 && rec.trial.study_id == 1);
    CHECK_STR (rec.trial.params, "{\"lr\": 0.01}");
    CHECK_STR (rec.trial.worker, "gpu1");
    CHECK (rec.trial.reason == NULL);
    hpo_batch_get (b, 2, &rec);
    CHECK (rec.kind == HPO_BATCH_VALUE && rec.id == 7);
    CHECK (rec.value.step == 3 && rec.value.value == 0.5);
    CHECK_STR (rec.value.metric, "val_loss");
    hpo_batch_get (b, 1002, &rec);
    CHECK_STR (rec.value.metric, "a_metric_with_a_long_name");
    CHECK (rec.value.step == 999);
    hpo_batch_get (b, 1003, &rec);
    CHECK (rec.kind == HPO_BATCH_WORKERS && rec.blob && rec.size > 0);
    hpo_batch_destroy (&b);
    CHECK (b == NULL);
    hpo_batch_destroy (&b);
}

//  ---- applying ----------------------------------------------------------

static hpo_model_t *
s_loaded (void)
{
    hpo_model_t *m = hpo_model_new ();
    hpo_batch_t *b = hpo_batch_new ();
    hpo_batch_study_insert (b, 1, "mnist", t_spec, 100.0);
    t_trial (b, 10, 1, 0, "WAITING", 0,
             "{\"lr\": 0.001, \"layers\": 3, \"opt\": \"adam\"}", 0, 0, NULL,
             0, 0, NULL);
    t_trial (b, 11, 1, 1, "WAITING", 0,
             "{\"lr\": 0.01, \"layers\": 2, \"opt\": \"sgd\", \"mom\": 0.9}",
             0, 0, NULL, 0, 0, NULL);
    hpo_model_apply (m, b);
    hpo_batch_destroy (&b);
    return m;
}

static void
test_apply (void)
{
    hpo_model_t *m = s_loaded ();
    const hpo_dash_view_t *view = hpo_model_view (m);
    CHECK (view->n_studies == 1);
    hpo_dash_study_t *s = hpo_model_study (m, "mnist");
    CHECK (s && s->spec && s->n_params == 4);
    CHECK (s->n_trials == 2 && s->counts[0] == 2);
    hpo_dash_trial_t *t0 = s->trials[0], *t1 = s->trials[1];
    CHECK (t0->params[0].kind == HPO_KIND_FLOAT && t0->params[0].u.f == 0.001);
    CHECK (t0->params[1].kind == HPO_KIND_INT && t0->params[1].u.i == 3);
    CHECK (t0->params[2].kind == HPO_KIND_STR && t0->params[2].u.cat == 0);
    CHECK (t0->params[3].kind == HPO_KIND_NONE); //  conditional: absent
    CHECK (t1->params[2].u.cat == 1 && t1->params[3].u.f == 0.9);

    //  Counts follow state changes.
    hpo_batch_t *b = hpo_batch_new ();
    t_trial (b, 10, 1, 0, "RUNNING", 1,
             "{\"lr\": 0.001, \"layers\": 3, \"opt\": \"adam\"}", 0, 0, "gpu1",
             101, 0, NULL);
    t_trial (b, 10, 1, 0, "COMPLETE", 1,
             "{\"lr\": 0.001, \"layers\": 3, \"opt\": \"adam\"}", 1, 0.25,
             "gpu1", 101, 160, NULL);
    hpo_model_apply (m, b);
    hpo_batch_destroy (&b);
    CHECK (s->counts[0] == 1 && s->counts[1] == 0 && s->counts[2] == 1);
    CHECK (hpo_dash_study_best (s) == t0);
    //  The store's update carries no params (store.h's tap): the
    //  insert's stay.
    b = hpo_batch_new ();
    t_trial (b, 11, 1, 1, "RUNNING", 1, NULL, 0, 0, "gpu1", 170, 0, NULL);
    hpo_model_apply (m, b);
    hpo_batch_destroy (&b);
    CHECK (t1->state == 1 && t1->params[2].kind == HPO_KIND_STR &&
           t1->params[3].u.f == 0.9);
    CHECK (hpo_model_skipped (m) == 0);
    hpo_model_destroy (&m);
    CHECK (m == NULL);
}

//  A newer attempt's value at the same step and metric replaces the
//  older one; the same or an older attempt's changes nothing (store.h).
static void
test_values (void)
{
    hpo_model_t *m = s_loaded ();
    hpo_dash_study_t *s = hpo_model_study (m, "mnist");
    hpo_dash_trial_t *t = s->trials[1];
    hpo_batch_t *b = hpo_batch_new ();
    hpo_batch_value (b, 11, 1, 1, "val_loss", 0.8);
    hpo_batch_value (b, 11, 1, 0, "val_loss", 0.9);  //  out of order
    hpo_batch_value (b, 11, 1, 0, "acc", 0.1);
    hpo_batch_value (b, 11, 2, 0, "val_loss", 0.7);  //  newer: replaces
    hpo_batch_value (b, 11, 1, 0, "val_loss", 0.95); //  older: ignored
    hpo_batch_value (b, 11, 2, 0, "val_loss", 0.6);  //  same: ignored
    hpo_model_apply (m, b);
    hpo_batch_destroy (&b);
    CHECK (t->n_values == 3);
    CHECK (s->n_metrics == 2 && s->objective == 0);
    CHECK (t->values[0].step == 0 && t->values[0].value == 0.7 &&
           t->values[0].attempt == 2);
    CHECK (t->values[1].step == 0 && t->values[1].value == 0.1);
    CHECK (t->values[2].step == 1 && t->values[2].value == 0.8);
    //  last_step and last_value: the current attempt's latest.
    t->attempt = 1;
    int64_t step;
    double value;
    CHECK (hpo_dash_trial_last (t, &step, &value) && step == 1 &&
           value == 0.8);
    t->attempt = 2;
    CHECK (hpo_dash_trial_last (t, &step, &value) && step == 0 &&
           value == 0.7);
    hpo_model_destroy (&m);
}

//  Records that do not fit are skipped and counted.
static void
test_skipped (void)
{
    hpo_model_t *m = s_loaded ();
    hpo_batch_t *b = hpo_batch_new ();
    t_trial (b, 50, 99, 0, "WAITING", 0, "{}", 0, 0, NULL, 0, 0, NULL);
    t_trial (b, 51, 1, 0, "WAITING", 0, "{}", 0, 0, NULL, 0, 0, NULL);
    t_trial (b, 10, 1, 5, "WAITING", 0, "{}", 0, 0, NULL, 0, 0, NULL);
    t_trial (b, 52, 1, 1ULL << 40, "WAITING", 0, "{}", 0, 0, NULL, 0, 0,
             NULL);
    t_trial (b, 10, 1, 0, "DANCING", 0, "{}", 0, 0, NULL, 0, 0, NULL);
    hpo_batch_value (b, 999, 1, 0, "val_loss", 1);
    t_attempt (b, 999, 1, "gpu1", 1, 2, "LOST", NULL);
    hpo_batch_study_state (b, 42, "STOPPED", 5);
    hpo_batch_study_delete (b, 42);
    hpo_batch_study_insert (b, 2, "mnist", t_spec, 1);  //  name taken
    hpo_batch_workers (b, "garbage", 7);
    //  A params text that is not JSON: every parameter null, no crash.
    t_trial (b, 53, 1, 2, "WAITING", 0, "{not json", 0, 0, NULL, 0, 0, NULL);
    hpo_model_apply (m, b);
    hpo_batch_destroy (&b);
    CHECK (hpo_model_skipped (m) == 11);
    hpo_dash_study_t *s = hpo_model_study (m, "mnist");
    CHECK (s->n_trials == 3 && s->trials[2]->params[0].kind == 0);
    CHECK (s->trials[0]->number == 0 && s->trials[0]->state == 0);
    hpo_model_destroy (&m);
}

//  ---- events --------------------------------------------------------------

typedef struct {
    char types[64][16];
    json_t *docs[64];
    size_t n;
} s_events_t;

static void
s_collect (void *ctx, const char *type, const char *json, size_t len)
{
    s_events_t *ev = ctx;
    CHECK (strlen (json) == len && !memchr (json, '\n', len));
    if (ev->n == 64)
        return;
    snprintf (ev->types[ev->n], 16, "%s", type);
    ev->docs[ev->n] = json_loadb (json, len, 0, NULL);
    CHECK (ev->docs[ev->n] != NULL);
    ev->n++;
}

static void
s_events_free (s_events_t *ev)
{
    for (size_t k = 0; k < ev->n; k++)
        json_decref (ev->docs[k]);
    ev->n = 0;
}

static size_t
s_count (const s_events_t *ev, const char *type)
{
    size_t n = 0;
    for (size_t k = 0; k < ev->n; k++)
        n += strcmp (ev->types[k], type) == 0;
    return n;
}

static json_t *
s_first (const s_events_t *ev, const char *type)
{
    for (size_t k = 0; k < ev->n; k++)
        if (strcmp (ev->types[k], type) == 0)
            return ev->docs[k];
    return NULL;
}

static void
test_events (void)
{
    s_events_t ev = {.n = 0};
    hpo_model_t *m = s_loaded ();
    CHECK (hpo_model_events (m, 200, s_collect, &ev) == 3);
    CHECK (s_count (&ev, "study") == 1 && s_count (&ev, "trial") == 2);
    s_events_free (&ev);
    CHECK (hpo_model_events (m, 200, s_collect, &ev) == 0);

    //  A trial changed three times is sent once, in its last form.
    hpo_batch_t *b = hpo_batch_new ();
    const char *p = "{\"lr\": 0.001, \"layers\": 3, \"opt\": \"adam\"}";
    t_trial (b, 10, 1, 0, "RUNNING", 1, p, 0, 0, "gpu1", 101, 0, NULL);
    hpo_batch_value (b, 10, 1, 0, "val_loss", 0.5);
    t_attempt (b, 10, 1, "gpu1", 101, 130, "LOST", "lease expired");
    t_trial (b, 10, 1, 0, "RUNNING", 2, p, 0, 0, "gpu2", 131, 0, NULL);
    t_trial (b, 10, 1, 0, "COMPLETE", 2, p, 1, 0.25, "gpu2", 131, 160, NULL);
    t_workers (b, "gpu2", 161);
    hpo_model_apply (m, b);
    hpo_batch_destroy (&b);
    CHECK (hpo_model_events (m, 200, s_collect, &ev) == 5);
    CHECK (s_count (&ev, "study") == 1 && s_count (&ev, "trial") == 1 &&
           s_count (&ev, "attempt") == 1 && s_count (&ev, "value") == 1 &&
           s_count (&ev, "workers") == 1);
    //  The order a page applies them in.
    CHECK_STR (ev.types[0], "study");
    CHECK_STR (ev.types[1], "trial");
    CHECK_STR (ev.types[4], "workers");
    json_t *trial = s_first (&ev, "trial");
    CHECK_STR (json_string_value (json_object_get (trial, "study")), "mnist");
    json_t *t = json_object_get (trial, "trial");
    CHECK_STR (json_string_value (json_object_get (t, "state")), "COMPLETE");
    CHECK (json_real_value (json_object_get (t, "value")) == 0.25);
    CHECK_STR (json_string_value (json_object_get (t, "worker")), "gpu2");
    json_t *a = s_first (&ev, "attempt");
    CHECK (json_integer_value (json_object_get (a, "number")) == 0);
    CHECK (json_integer_value (json_object_get (a, "attempt")) == 1);
    CHECK_STR (json_string_value (json_object_get (a, "outcome")), "LOST");
    CHECK_STR (json_string_value (json_object_get (a, "reason")),
               "lease expired");
    CHECK (json_object_size (a) == 8);
    json_t *v = s_first (&ev, "value");
    CHECK_STR (json_string_value (json_object_get (v, "metric")), "val_loss");
    CHECK (json_integer_value (json_object_get (v, "step")) == 0);
    CHECK (json_real_value (json_object_get (v, "value")) == 0.5);
    json_t *study = json_object_get (s_first (&ev, "study"), "study");
    CHECK (json_integer_value (json_object_get (
               json_object_get (study, "counts"), "COMPLETE")) == 1);
    json_t *w = json_object_get (s_first (&ev, "workers"), "workers");
    CHECK_STR (json_string_value (json_object_get (json_array_get (w, 0),
                                                   "name")),
               "gpu2");
    s_events_free (&ev);

    //  A study deleted: one study_deleted, nothing for its trials, even
    //  those changed before the delete in the same interval.
    b = hpo_batch_new ();
    t_trial (b, 11, 1, 1, "RUNNING", 1, "{}", 0, 0, "gpu1", 170, 0, NULL);
    hpo_batch_study_delete (b, 1);
    hpo_model_apply (m, b);
    hpo_batch_destroy (&b);
    CHECK (hpo_model_events (m, 200, s_collect, &ev) == 1);
    CHECK_STR (ev.types[0], "study_deleted");
    CHECK_STR (json_string_value (json_object_get (ev.docs[0], "name")),
               "mnist");
    s_events_free (&ev);
    CHECK (hpo_model_view (m)->n_studies == 0);
    hpo_model_destroy (&m);

    //  Quiet: nothing recorded.
    m = hpo_model_new ();
    hpo_model_quiet (m, 1);
    b = hpo_batch_new ();
    hpo_batch_study_insert (b, 1, "mnist", t_spec, 100.0);
    t_trial (b, 10, 1, 0, "WAITING", 0, "{}", 0, 0, NULL, 0, 0, NULL);
    hpo_batch_value (b, 10, 1, 0, "val_loss", 0.5);
    hpo_model_apply (m, b);
    hpo_batch_destroy (&b);
    CHECK (hpo_model_events (m, 200, s_collect, &ev) == 0);
    hpo_model_destroy (&m);
}

int
main (void)
{
    test_batch ();
    test_apply ();
    test_values ();
    test_skipped ();
    test_events ();
    TEST_DONE ();
}
