/*  json_render.c: the JSON documents of json_render.h, built with
    jansson from the coordinator's answers.                               */
#include "json_render.h"

#include <math.h>
#include <stdlib.h>

#include "utf8.h"

//  ---- values ----------------------------------------------------------------

static int
s_has (const char *s)
{
    return s && *s;
}

//  A JSON string, or null for a missing or empty one. A log tail is cut
//  at a byte count and may split a character; jansson refuses such a
//  string, and the document must still come out, so it is cleaned.
static json_t *
s_json_str (const char *s)
{
    if (!s_has (s))
        return json_null ();
    json_t *j = json_string (s);
    if (!j) {
        char *clean = hpo_utf8_clean (s, 0);
        j = json_string (clean);
        free (clean);
    }
    return j ? j : json_null ();
}

//  A JSON real, or null where JSON has no number (NaN, infinities).
static json_t *
s_json_real (double v)
{
    return isfinite (v) ? json_real (v) : json_null ();
}

//  A timestamp: 0 on the wire means "not yet".
static json_t *
s_json_time (double t)
{
    return t > 0 ? s_json_real (t) : json_null ();
}

double
hpo_json_render_elapsed (const Hpo__StudyInfo *study)
{
    if (!(study->created > 0))
        return -1;
    double end = study->ended > 0 ? study->ended : study->now;
    if (!(end > 0))
        return -1;
    return end > study->created ? end - study->created : 0;
}

//  ---- documents -----------------------------------------------------------

json_t *
hpo_json_render_param (const Hpo__Param *param)
{
    switch (param->kind) {
    case HPO_KIND_FLOAT:
        return s_json_real (param->f);
    case HPO_KIND_INT:
        return json_integer ((json_int_t)param->i);
    case HPO_KIND_STR: {
        //  "" is a value a categorical may take, not a missing one.
        json_t *value = json_string (param->s ? param->s : "");
        return value ? value : s_json_str (param->s);
    }
    default:
        return json_null ();
    }
}

static json_t *
s_params_json (const Hpo__TrialInfo *trial)
{
    json_t *obj = json_object ();
    for (size_t k = 0; k < trial->n_params; k++) {
        const Hpo__Param *param = trial->params[k];
        //  A parameter absent from this trial (when:) has no key at all,
        //  as in the trial's params file.
        if (param->kind == HPO_KIND_NONE)
            continue;
        json_object_set_new (obj, param->name ? param->name : "",
                             hpo_json_render_param (param));
    }
    return obj;
}

json_t *
hpo_json_render_asked (const Hpo__TrialInfo *trial)
{
    json_t *params = json_object ();
    for (size_t k = 0; k < trial->n_params; k++) {
        const Hpo__Param *param = trial->params[k];
        if (param->kind != HPO_KIND_NONE) //  absent in this trial
            json_object_set_new (params, param->name ? param->name : "",
                                 hpo_json_render_param (param));
    }
    json_t *doc = json_object ();
    json_object_set_new (doc, "number",
                         json_integer ((json_int_t)trial->number));
    json_object_set_new (doc, "params", params);
    return doc;
}

json_t *
hpo_json_render_trial (const Hpo__TrialInfo *trial, const char *study,
                       int detail)
{
    assert (trial);
    json_t *doc = json_object ();
    json_object_set_new (
        doc, "study", s_json_str (s_has (trial->study) ? trial->study : study));
    json_object_set_new (doc, "number",
                         json_integer ((json_int_t)trial->number));
    json_object_set_new (doc, "state", s_json_str (trial->state));
    json_object_set_new (doc, "params", s_params_json (trial));
    json_object_set_new (doc, "value",
                         trial->has_value ? s_json_real (trial->value)
                                          : json_null ());
    json_object_set_new (doc, "attempt", json_integer (trial->attempt));
    json_object_set_new (doc, "worker", s_json_str (trial->worker));
    json_object_set_new (doc, "started", s_json_time (trial->started));
    json_object_set_new (doc, "ended", s_json_time (trial->ended));
    json_object_set_new (doc, "duration",
                         trial->started > 0 && trial->ended >= trial->started
                             ? s_json_real (trial->ended - trial->started)
                             : json_null ());
    json_object_set_new (doc, "reason", s_json_str (trial->reason));
    json_object_set_new (doc, "last_step",
                         trial->has_step
                             ? json_integer ((json_int_t)trial->last_step)
                             : json_null ());
    json_object_set_new (doc, "last_value",
                         trial->has_last ? s_json_real (trial->last_value)
                                         : json_null ());
    //  Filled only when asked (TrialsQuery.metrics): null otherwise.
    json_t *metrics = json_null ();
    if (trial->n_last_metrics) {
        metrics = json_object ();
        for (size_t k = 0; k < trial->n_last_metrics; k++) {
            const Hpo__Metric *m = trial->last_metrics[k];
            json_object_set_new (metrics, m->name ? m->name : "",
                                 s_json_real (m->value));
        }
    }
    json_object_set_new (doc, "last_metrics", metrics);
    if (!detail)
        return doc;

    json_t *attempts = json_array ();
    for (size_t k = 0; k < trial->n_attempts; k++) {
        const Hpo__AttemptInfo *a = trial->attempts[k];
        json_t *obj = json_object ();
        json_object_set_new (obj, "attempt", json_integer (a->attempt));
        json_object_set_new (obj, "worker", s_json_str (a->worker));
        json_object_set_new (obj, "started", s_json_time (a->started));
        json_object_set_new (obj, "ended", s_json_time (a->ended));
        json_object_set_new (obj, "outcome", s_json_str (a->outcome));
        json_object_set_new (obj, "reason", s_json_str (a->reason));
        json_array_append_new (attempts, obj);
    }
    json_object_set_new (doc, "attempts", attempts);

    json_t *values = json_array ();
    for (size_t k = 0; k < trial->n_values; k++) {
        const Hpo__IntermediateValue *v = trial->values[k];
        json_t *obj = json_object ();
        json_object_set_new (obj, "attempt",
                             v->attempt ? json_integer (v->attempt)
                                        : json_null ());
        json_object_set_new (obj, "step", json_integer ((json_int_t)v->step));
        json_object_set_new (obj, "metric", s_json_str (v->metric));
        json_object_set_new (obj, "value", s_json_real (v->value));
        json_array_append_new (values, obj);
    }
    json_object_set_new (doc, "intermediate", values);
    json_object_set_new (doc, "log_tail", s_json_str (trial->log_tail));
    return doc;
}

json_t *
hpo_json_render_study (const Hpo__StudyInfo *study)
{
    assert (study);
    json_t *doc = json_object ();
    json_object_set_new (doc, "name", s_json_str (study->name));
    json_object_set_new (doc, "state", s_json_str (study->state));
    json_object_set_new (doc, "budget",
                         json_integer ((json_int_t)study->budget));
    json_object_set_new (doc, "parallel", json_integer (study->parallel));

    json_t *counts = json_object ();
    json_object_set_new (counts, "WAITING",
                         json_integer ((json_int_t)study->waiting));
    json_object_set_new (counts, "RUNNING",
                         json_integer ((json_int_t)study->running));
    json_object_set_new (counts, "COMPLETE",
                         json_integer ((json_int_t)study->complete));
    json_object_set_new (counts, "PRUNED",
                         json_integer ((json_int_t)study->pruned));
    json_object_set_new (counts, "FAILED",
                         json_integer ((json_int_t)study->failed));
    json_object_set_new (doc, "counts", counts);

    const Hpo__TrialInfo *best =
        study->has_best && study->best ? study->best : NULL;
    json_object_set_new (doc, "best",
                         best ? hpo_json_render_trial (best, study->name, 0)
                              : json_null ());
    json_object_set_new (doc, "created", s_json_time (study->created));
    json_object_set_new (doc, "ended", s_json_time (study->ended));
    double elapsed = hpo_json_render_elapsed (study);
    json_object_set_new (doc, "elapsed",
                         elapsed >= 0 ? json_real (elapsed) : json_null ());
    json_t *objective = json_object ();
    json_object_set_new (objective, "metric", s_json_str (study->objective));
    json_object_set_new (objective, "direction", s_json_str (study->direction));
    json_object_set_new (doc, "objective", objective);
    json_object_set_new (doc, "sampler", s_json_str (study->sampler));
    json_object_set_new (doc, "ask_tell", json_boolean (study->ask_tell));
    json_object_set_new (doc, "unrunnable", s_json_str (study->unrunnable));
    json_object_set_new (doc, "reason", s_json_str (study->reason));
    const Hpo__TrialInfo *last = study->has_last_failed && study->last_failed
                                     ? study->last_failed
                                     : NULL;
    json_object_set_new (doc, "last_failed",
                         last ? hpo_json_render_trial (last, study->name, 0)
                              : json_null ());
    json_t *pruned = json_null ();
    if (study->has_pruned_steps) {
        pruned = json_object ();
        json_object_set_new (pruned, "min",
                             json_integer (study->pruned_step_min));
        json_object_set_new (pruned, "median",
                             json_integer (study->pruned_step_median));
        json_object_set_new (pruned, "max",
                             json_integer (study->pruned_step_max));
    }
    json_object_set_new (doc, "pruned_steps", pruned);
    //  A hybrid search's grid (search/suggest.h): points and the fewest
    //  and most trials any point has had; null without grid parameters.
    json_t *grid = json_null ();
    if (study->grid_points) {
        grid = json_object ();
        json_object_set_new (grid, "points",
                             json_integer ((json_int_t)study->grid_points));
        json_object_set_new (grid, "trials_min",
                             json_integer ((json_int_t)study->grid_trials_min));
        json_object_set_new (grid, "trials_max",
                             json_integer ((json_int_t)study->grid_trials_max));
    }
    json_object_set_new (doc, "grid", grid);
    json_object_set_new (doc, "mean_duration",
                         study->mean_duration > 0
                             ? s_json_real (study->mean_duration)
                             : json_null ());
    return doc;
}

json_t *
hpo_json_render_study_list (const Hpo__StudyList *list)
{
    json_t *studies = json_array ();
    for (size_t k = 0; list && k < list->n_studies; k++)
        json_array_append_new (studies,
                               hpo_json_render_study (list->studies[k]));
    json_t *doc = json_object ();
    json_object_set_new (doc, "studies", studies);
    return doc;
}

json_t *
hpo_json_render_trials (const char *study, const Hpo__TrialList *list)
{
    json_t *trials = json_array ();
    for (size_t k = 0; list && k < list->n_trials; k++)
        json_array_append_new (
            trials, hpo_json_render_trial (list->trials[k], study, 0));
    json_t *doc = json_object ();
    json_object_set_new (doc, "study", s_json_str (study));
    json_object_set_new (doc, "trials", trials);
    return doc;
}

//  A worker's "cpus", "cpus_used" and "gpus": [{index, name, uuid,
//  trial, busy}] (issue #11).
static void
s_json_worker_resources (json_t *obj, const Hpo__WorkerInfo *w)
{
    json_object_set_new (obj, "cpus", json_integer (w->cpus));
    json_object_set_new (obj, "cpus_used", json_integer (w->cpus_used));
    json_t *gpus = json_array ();
    for (size_t g = 0; g < w->n_gpus; g++) {
        const Hpo__WorkerGpu *gpu = w->gpus[g];
        json_t *o = json_object ();
        json_object_set_new (o, "index", json_integer (gpu->index));
        json_object_set_new (o, "name", s_json_str (gpu->name));
        json_object_set_new (o, "uuid", s_json_str (gpu->uuid));
        json_object_set_new (o, "trial", s_json_str (gpu->trial));
        json_object_set_new (o, "busy", json_boolean (gpu->busy));
        json_array_append_new (gpus, o);
    }
    json_object_set_new (obj, "gpus", gpus);
}

json_t *
hpo_json_render_workers (const Hpo__WorkerList *list)
{
    json_t *workers = json_array ();
    for (size_t k = 0; list && k < list->n_workers; k++) {
        const Hpo__WorkerInfo *w = list->workers[k];
        json_t *obj = json_object ();
        json_object_set_new (obj, "name", s_json_str (w->name));
        json_object_set_new (obj, "host", s_json_str (w->host));
        json_object_set_new (obj, "slots", json_integer (w->slots));
        json_object_set_new (obj, "running", json_integer (w->running));
        json_object_set_new (obj, "last_heartbeat", s_json_time (w->last_seen));
        json_object_set_new (obj, "age",
                             list->now > 0 && w->last_seen > 0
                                 ? s_json_real (list->now - w->last_seen)
                                 : json_null ());
        json_object_set_new (obj, "alive", json_boolean (w->alive));
        json_object_set_new (obj, "pid",
                             w->pid ? json_integer (w->pid) : json_null ());
        s_json_worker_resources (obj, w);
        json_array_append_new (workers, obj);
    }
    json_t *doc = json_object ();
    json_object_set_new (doc, "workers", workers);
    return doc;
}

int
hpo_json_render_print (FILE *out, const json_t *doc)
{
    if (json_dumpf (doc, out, JSON_INDENT (2) | JSON_PRESERVE_ORDER) != 0)
        return -1;
    if (fputc ('\n', out) == EOF || fflush (out) != 0 || ferror (out))
        return -1;
    return 0;
}

json_t *
hpo_json_render_string (const char *s)
{
    return s_json_str (s);
}

json_t *
hpo_json_render_real (double v)
{
    return s_json_real (v);
}
