/*  query.c: the read-only answers, built from the scheduler's memory as
    wire messages (see query.h).                                          */
#include "query.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/mem.h"

//  A page of `hpo trials`: so many trials, or so many encoded bytes,
//  whichever comes first. One page costs the loop a few milliseconds.
#define S_TRIALS_PAGE 2000
#define S_TRIALS_PAGE_BYTES (1u << 20)
//  An export's page reads the store once or twice a trial (about 0.1 ms
//  each): fewer trials keep it to a few milliseconds too.
#define S_EXPORT_PAGE 200

//  ---- the wire form of studies and trials ---------------------------------

static Hpo__TrialInfo *
s_trial_info (hpo_trial_t *t)
{
    const hpo_spec_t *spec = t->study->spec;
    Hpo__TrialInfo *info = hpo_malloc (sizeof *info);
    hpo__trial_info__init (info);
    info->study = t->study->name;
    info->number = t->number;
    info->state = (char *)hpo_trial_state_str (t->state);
    info->n_params = spec->n_params;
    info->params =
        hpo_wire_params_new (t->study->names, t->params, spec->n_params);
    info->has_value = t->has_value;
    info->value = t->value;
    info->attempt = t->attempt;
    //  An attempt without a worker's name was handed out by hpo ask.
    info->worker = t->worker_name ? t->worker_name
                   : t->attempt   ? HPO_SCHED_ASKER
                                  : "";
    info->started = t->started;
    info->ended = t->ended;
    info->reason = t->reason ? t->reason : "";
    if (t->state == HPO_TRIAL_RUNNING) {
        info->has_step = t->has_step;
        info->last_step = t->last_step;
        info->has_last = t->has_last;
        info->last_value = t->last_value;
    }
    return info;
}

static void
s_trial_info_free (Hpo__TrialInfo *info)
{
    if (!info)
        return;
    hpo_wire_params_free (info->params, info->n_params);
    for (size_t k = 0; k < info->n_attempts; k++)
        free (info->attempts[k]);
    free (info->attempts);
    for (size_t k = 0; k < info->n_values; k++) {
        free (info->values[k]->metric);
        free (info->values[k]);
    }
    free (info->values);
    for (size_t k = 0; k < info->n_last_metrics; k++) {
        free (info->last_metrics[k]->name);
        free (info->last_metrics[k]);
    }
    free (info->last_metrics);
    free (info);
}

//  ---- a trial's values, for trial show and export ---------------------

//  Collects a trial's values into its TrialInfo (each metric name a copy
//  the info owns) until max_bytes of them are in (0: no limit).
typedef struct {
    Hpo__TrialInfo *info;
    size_t cap;
    size_t bytes, max_bytes;
} s_values_t;

static int
s_value_add (void *ctx, uint32_t attempt, int64_t step, const char *metric,
             double value)
{
    s_values_t *self = ctx;
    Hpo__TrialInfo *info = self->info;
    Hpo__IntermediateValue *v = hpo_malloc (sizeof *v);
    hpo__intermediate_value__init (v);
    v->attempt = attempt;
    v->step = step;
    v->metric = hpo_strdup (metric ? metric : "");
    v->value = value;
    if (info->n_values == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 16;
        info->values = hpo_realloc (info->values, self->cap * sizeof (void *));
    }
    info->values[info->n_values++] = v;
    self->bytes += hpo__intermediate_value__get_packed_size (v) + 4;
    return self->max_bytes && self->bytes >= self->max_bytes;
}

static int
s_last_metric_add (void *ctx, uint32_t attempt, int64_t step,
                   const char *metric, double value)
{
    Hpo__TrialInfo *info = ctx;
    (void)attempt;
    (void)step;
    Hpo__Metric *m = hpo_malloc (sizeof *m);
    hpo__metric__init (m);
    m->name = hpo_strdup (metric ? metric : "");
    m->value = value;
    info->last_metrics = hpo_realloc (
        info->last_metrics, (info->n_last_metrics + 1) * sizeof (void *));
    info->last_metrics[info->n_last_metrics++] = m;
    return 0;
}

static void
s_trial_info_release (void *info)
{
    s_trial_info_free (info);
}

static int
s_cmp_step (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

//  Where the study's PRUNED trials stopped: the least, median and
//  greatest of their last steps. A scan of the study's trials, for a
//  request a person makes (study show, watch), never for a report.
static void
s_pruned_steps (hpo_study_t *study, Hpo__StudyInfo *info)
{
    if (study->count[HPO_TRIAL_PRUNED] == 0)
        return;
    int64_t *steps =
        hpo_malloc (study->count[HPO_TRIAL_PRUNED] * sizeof *steps);
    size_t n = 0;
    const hpo_history_t *h = study->history;
    for (size_t k = 0; k < study->n_trials; k++) {
        const hpo_trial_t *t = study->trials[k];
        if (!t || t->state != HPO_TRIAL_PRUNED ||
            n >= study->count[HPO_TRIAL_PRUNED])
            continue;
        //  The attempt's last report; after a restart, the history's
        //  curve (loaded for a pruner, which every pruning study has).
        if (t->has_step)
            steps[n++] = t->last_step;
        else if (h && k < h->n && h->curves[k].n > 0)
            steps[n++] = h->curves[k].steps[h->curves[k].n - 1];
    }
    if (n > 0) {
        qsort (steps, n, sizeof *steps, s_cmp_step);
        info->has_pruned_steps = 1;
        info->pruned_step_min = steps[0];
        info->pruned_step_median = steps[(n - 1) / 2];
        info->pruned_step_max = steps[n - 1];
    }
    free (steps);
}

//  Points of a hybrid search listed one by one in study show's answer:
//  about 40 bytes each, so a table this long stays well inside a message.
#define S_MAX_GRID_ROWS 10000

//  The grid points of a hybrid search and their trials: how many, the
//  spread, and with rows, each point (study show). O(points), for a
//  request a person makes.
static void
s_grid_info (hpo_study_t *study, Hpo__StudyInfo *info, int rows)
{
    uint64_t points = hpo_suggest_grid_points (study->suggest);
    if (points == 0)
        return;
    info->grid_points = points;
    hpo_suggest_grid_spread (study->suggest, study->history,
                             &info->grid_trials_min, &info->grid_trials_max);
    if (!rows || points > S_MAX_GRID_ROWS)
        return;
    const hpo_spec_t *spec = study->spec;
    size_t n_grid = 0;
    char *names[spec->n_params ? spec->n_params : 1];
    for (size_t k = 0; k < spec->n_params; k++)
        if (spec->params[k].grid)
            names[n_grid++] = spec->params[k].name;
    info->grid = hpo_calloc (points, sizeof (Hpo__GridPoint *));
    info->n_grid = points;
    for (uint64_t p = 0; p < points; p++) {
        hpo_value_t values[n_grid ? n_grid : 1];
        Hpo__GridPoint *g = hpo_malloc (sizeof *g);
        hpo__grid_point__init (g);
        g->trials =
            hpo_suggest_grid_trials (study->suggest, study->history, p, values);
        g->params = hpo_wire_params_new (names, values, n_grid);
        g->n_params = n_grid;
        info->grid[p] = g; //  its Params hold the values' strings
    }
}

static void
s_grid_info_free (Hpo__StudyInfo *info)
{
    for (size_t p = 0; p < info->n_grid; p++) {
        Hpo__GridPoint *g = info->grid[p];
        for (size_t j = 0; j < g->n_params; j++)
            if (g->params[j]->kind == HPO_KIND_STR)
                free (g->params[j]->s);
        hpo_wire_params_free (g->params, g->n_params);
        free (g);
    }
    free (info->grid);
}

static Hpo__StudyInfo *
s_study_info (hpo_study_t *study)
{
    Hpo__StudyInfo *info = hpo_malloc (sizeof *info);
    hpo__study_info__init (info);
    info->name = study->name;
    info->state = (char *)hpo_study_state_str (study->state);
    info->budget = study->budget;
    info->parallel = study->spec->parallel;
    info->waiting = study->count[HPO_TRIAL_WAITING];
    info->running = study->count[HPO_TRIAL_RUNNING];
    info->complete = study->count[HPO_TRIAL_COMPLETE];
    info->pruned = study->count[HPO_TRIAL_PRUNED];
    info->failed = study->count[HPO_TRIAL_FAILED];
    info->created = study->created;
    info->ended = study->ended;
    info->objective = study->spec->metric;
    info->direction = study->spec->maximize ? "maximize" : "minimize";
    info->sampler = (char *)study->spec->sampler.ops->name;
    info->now = hpo_clock_wall ();
    if (study->best) {
        info->has_best = 1;
        info->best = s_trial_info (study->best);
    }
    info->reason = study->reason ? study->reason : "";
    if (study->last_failed) {
        info->has_last_failed = 1;
        info->last_failed = s_trial_info (study->last_failed);
    }
    info->mean_duration =
        study->duration_n ? study->duration_sum / study->duration_n : 0;
    s_pruned_steps (study, info);
    s_grid_info (study, info, 0);
    info->ask_tell = study->spec->command == NULL;
    return info;
}

static void
s_study_info_free (Hpo__StudyInfo *info)
{
    s_trial_info_free (info->best);
    s_trial_info_free (info->last_failed);
    s_grid_info_free (info);
    if (info->unrunnable && *info->unrunnable) //  else the static ""
        free (info->unrunnable);
    free (info);
}

static void
s_study_info_release (void *info)
{
    s_study_info_free (info);
}

//  ---- study show, study list, best ----------------------------------------

hpo_study_t *
hpo_query_study (hpo_sched_t *sched, const char *name, uint64_t seq,
                 hpo_wire_msg_t *reply)
{
    hpo_study_t *study = name ? hpo_sched_study (sched, name) : NULL;
    if (!study) {
        char *text = hpo_sprintf ("no study named %.200s", name ? name : "");
        hpo_wire_error (reply, seq, HPO__ERROR_CODE__ERR_NOT_FOUND, text);
        free (text);
    }
    return study;
}

static void
s_study_show (hpo_sched_t *sched, const hpo_env_t *req, int64_t now_ms,
              hpo_wire_msg_t *reply)
{
    hpo_study_t *study =
        hpo_query_study (sched, req->study_show->name, req->seq, reply);
    if (!study)
        return;
    Hpo__StudyInfo *info = s_study_info (study);
    s_grid_info (study, info, 1);
    info->spec = study->spec_text ? study->spec_text : "";
    //  Only while it has trials to hand out: a scan of the workers, for
    //  a person's request, never on the dispatch path.
    char *why = study->state == HPO_STUDY_RUNNING
                    ? hpo_sched_unrunnable (sched, study, now_ms)
                    : NULL;
    if (why)
        info->unrunnable = why;
    hpo_wire_study_info (reply, req->seq, info);
    hpo_wire_msg_own (reply, s_study_info_release, info);
}

static void
s_study_list_release (void *list_)
{
    Hpo__StudyList *list = list_;
    for (size_t k = 0; k < list->n_studies; k++)
        s_study_info_free (list->studies[k]);
    free (list->studies);
    free (list);
}

static void
s_study_list (hpo_sched_t *sched, const hpo_env_t *req, hpo_wire_msg_t *reply)
{
    hpo_study_t **studies;
    size_t n = hpo_sched_studies (sched, &studies);
    Hpo__StudyList *list = hpo_malloc (sizeof *list);
    hpo__study_list__init (list);
    list->n_studies = n;
    list->studies = hpo_calloc (n, sizeof (void *));
    for (size_t k = 0; k < n; k++)
        list->studies[k] = s_study_info (studies[k]);
    hpo_wire_study_list_answer (reply, req->seq, list);
    hpo_wire_msg_own (reply, s_study_list_release, list);
}

static void
s_best (hpo_sched_t *sched, const hpo_env_t *req, hpo_wire_msg_t *reply)
{
    hpo_study_t *study =
        hpo_query_study (sched, req->best->name, req->seq, reply);
    if (!study)
        return;
    if (!study->best) {
        char *text =
            hpo_sprintf ("study %s has no complete trial yet", study->name);
        hpo_wire_error (reply, req->seq, HPO__ERROR_CODE__ERR_NOT_FOUND, text);
        free (text);
        return;
    }
    Hpo__TrialInfo *info = s_trial_info (study->best);
    hpo_wire_trial_info (reply, req->seq, info);
    hpo_wire_msg_own (reply, s_trial_info_release, info);
}

void
hpo_query_trial (hpo_trial_t *t, uint64_t seq, hpo_wire_msg_t *reply)
{
    Hpo__TrialInfo *info = s_trial_info (t);
    hpo_wire_trial_info (reply, seq, info);
    hpo_wire_msg_own (reply, s_trial_info_release, info);
}

//  ---- trials: one page
//  --------------------------------------------------------

static void
s_trial_list_release (void *list_)
{
    Hpo__TrialList *list = list_;
    for (size_t k = 0; k < list->n_trials; k++)
        s_trial_info_free (list->trials[k]);
    free (list->trials);
    free (list);
}

//  An ended attempt as the wire has it, in one allocation with its
//  strings, so freeing the info's attempts (s_trial_info_free) frees all.
static int
s_export_attempt (void *info_, const hpo_store_attempt_row_t *row)
{
    Hpo__TrialInfo *info = info_;
    const char *strs[3] = {row->worker ? row->worker : "",
                           row->outcome ? row->outcome : "",
                           row->reason ? row->reason : ""};
    size_t lens[3], total = sizeof (Hpo__AttemptInfo);
    for (int k = 0; k < 3; k++)
        total += (lens[k] = strlen (strs[k]) + 1);
    Hpo__AttemptInfo *a = hpo_malloc (total);
    hpo__attempt_info__init (a);
    char *p = (char *)(a + 1);
    char **fields[3] = {&a->worker, &a->outcome, &a->reason};
    for (int k = 0; k < 3; k++) {
        memcpy (p, strs[k], lens[k]);
        *fields[k] = p;
        p += lens[k];
    }
    a->attempt = row->attempt;
    a->started = row->started;
    a->ended = row->ended;
    info->attempts =
        hpo_realloc (info->attempts, (info->n_attempts + 1) * sizeof (void *));
    info->attempts[info->n_attempts++] = a;
    return 0;
}

//  Adds to info what an export asks for: the last value of each metric,
//  and the values from the skip'th on, until max_bytes of them are in.
//  Returns 0, 1 if it stopped there (the page ends inside this trial,
//  perhaps at its very end), or -1 if the store could not be read.
static int
s_export_fill (hpo_store_t *store, hpo_trial_t *t, const Hpo__TrialsQuery *q,
               uint64_t skip, size_t max_bytes, Hpo__TrialInfo *info)
{
    if (q->metrics && skip == 0 &&
        hpo_store_trial_values (store, t->id, 1, 0, s_last_metric_add, info) <
            0)
        return -1;
    if (q->attempts && skip == 0 &&
        hpo_store_attempts (store, t->id, s_export_attempt, info) < 0)
        return -1;
    if (!q->curves)
        return 0;
    s_values_t values = {.info = info, .max_bytes = max_bytes};
    return hpo_store_trial_values (store, t->id, 0, skip, s_value_add, &values);
}

static void
s_trials (hpo_sched_t *sched, hpo_store_t *store, const hpo_env_t *req,
          hpo_wire_msg_t *reply)
{
    const Hpo__TrialsQuery *q = req->trials;
    hpo_study_t *study = hpo_query_study (sched, q->study, req->seq, reply);
    if (!study)
        return;
    int state = -1;
    if (q->state && *q->state &&
        (state = hpo_trial_state_parse (q->state)) < 0) {
        hpo_wire_error (reply, req->seq, HPO__ERROR_CODE__ERR_INVALID,
                        "unknown trial state");
        return;
    }
    //  One page: trials numbered from `after`, at most a page of them
    //  and a page's bytes, so no listing holds the loop for long. A
    //  trial's values count in its bytes; one whose values alone would
    //  pass the page's bytes ends the page inside it (values_next).
    size_t page = q->metrics || q->curves || q->attempts ? S_EXPORT_PAGE
                                                          : S_TRIALS_PAGE;
    size_t limit = q->limit && q->limit < page ? q->limit : page;
    Hpo__TrialList *list = hpo_malloc (sizeof *list);
    hpo__trial_list__init (list);
    list->trials = hpo_calloc (limit, sizeof (void *));
    size_t bytes = 0;
    uint64_t k = q->after;
    for (; k < study->n_trials && list->n_trials < limit &&
           bytes < S_TRIALS_PAGE_BYTES;
         k++) {
        hpo_trial_t *t = study->trials[k];
        if (!t || (state >= 0 && (int)t->state != state))
            continue;
        Hpo__TrialInfo *info = s_trial_info (t);
        list->trials[list->n_trials++] = info;
        uint64_t skip = k == q->after ? q->values_after : 0;
        int cut = 0;
        if ((q->metrics || q->curves || q->attempts) &&
            (cut = s_export_fill (store, t, q, skip,
                                  S_TRIALS_PAGE_BYTES - bytes, info)) < 0) {
            s_trial_list_release (list);
            hpo_wire_error (reply, req->seq, HPO__ERROR_CODE__ERR_INTERNAL,
                            "store read failed");
            return;
        }
        bytes += hpo__trial_info__get_packed_size (info) + 8;
        if (cut) {
            //  The next page resumes inside this trial.
            list->values_next = skip + info->n_values;
            break;
        }
    }
    list->more = k < study->n_trials;
    list->next = k;
    hpo_wire_trial_list (reply, req->seq, list);
    hpo_wire_msg_own (reply, s_trial_list_release, list);
}

//  ---- trial show: the trial with its attempts and values
//  ---------------------

typedef struct {
    Hpo__TrialInfo *info;
    char **owned; //  copies of row strings, freed with the answer
    size_t n_owned, cap_owned;
} s_show_t;

static char *
s_keep (s_show_t *show, const char *s)
{
    if (show->n_owned == show->cap_owned) {
        show->cap_owned = show->cap_owned ? show->cap_owned * 2 : 32;
        show->owned =
            hpo_realloc (show->owned, show->cap_owned * sizeof (char *));
    }
    char *copy = hpo_strdup (s ? s : "");
    show->owned[show->n_owned++] = copy;
    return copy;
}

static void
s_show_release (void *show_)
{
    s_show_t *show = show_;
    s_trial_info_free (show->info);
    for (size_t k = 0; k < show->n_owned; k++)
        free (show->owned[k]);
    free (show->owned);
    free (show);
}

static int
s_show_attempt (void *show_, const hpo_store_attempt_row_t *row)
{
    s_show_t *show = show_;
    Hpo__TrialInfo *info = show->info;
    Hpo__AttemptInfo *a = hpo_malloc (sizeof *a);
    hpo__attempt_info__init (a);
    a->attempt = row->attempt;
    a->worker = s_keep (show, row->worker);
    a->started = row->started;
    a->ended = row->ended;
    a->outcome = s_keep (show, row->outcome ? row->outcome : "RUNNING");
    a->reason = s_keep (show, row->reason);
    info->attempts =
        hpo_realloc (info->attempts, (info->n_attempts + 1) * sizeof (void *));
    info->attempts[info->n_attempts++] = a;
    //  The trial's log tail is its latest attempt's that has one.
    if (row->log_tail)
        info->log_tail = s_keep (show, row->log_tail);
    return 0;
}

//  Reads t's attempts and intermediate values into show. Returns 0, or -1
//  if the store could not be read.
static int
s_show_history (hpo_store_t *store, hpo_trial_t *t, s_show_t *show)
{
    if (hpo_store_attempts (store, t->id, s_show_attempt, show))
        return -1;
    if (t->state == HPO_TRIAL_RUNNING) {
        //  The running attempt is not in the store until it ends.
        hpo_store_attempt_row_t running = {.attempt = t->attempt,
                                           .worker = t->worker_name,
                                           .started = t->started,
                                           .outcome = "RUNNING"};
        s_show_attempt (show, &running);
    }
    s_values_t values = {.info = show->info};
    return hpo_store_trial_values (store, t->id, 0, 0, s_value_add, &values)
               ? -1
               : 0;
}

static void
s_trial_show (hpo_sched_t *sched, hpo_store_t *store, const hpo_env_t *req,
              hpo_wire_msg_t *reply)
{
    const Hpo__TrialRef *ref = req->trial_show;
    hpo_study_t *study = hpo_query_study (sched, ref->study, req->seq, reply);
    if (!study)
        return;
    hpo_trial_t *t = hpo_study_trial (study, ref->number);
    if (!t) {
        char *text = hpo_sprintf ("study %s has no trial %" PRIu64, study->name,
                                  ref->number);
        hpo_wire_error (reply, req->seq, HPO__ERROR_CODE__ERR_NOT_FOUND, text);
        free (text);
        return;
    }
    s_show_t *show = hpo_calloc (1, sizeof *show);
    show->info = s_trial_info (t);
    if (s_show_history (store, t, show)) {
        s_show_release (show);
        hpo_wire_error (reply, req->seq, HPO__ERROR_CODE__ERR_INTERNAL,
                        "store read failed");
        return;
    }
    hpo_wire_trial_info (reply, req->seq, show->info);
    hpo_wire_msg_own (reply, s_show_release, show);
}

//  ---- workers -------------------------------------------------------------

typedef struct {
    Hpo__WorkerList list;
    Hpo__WorkerInfo *infos;
} s_workers_t;

static void
s_workers_release (void *workers_)
{
    s_workers_t *workers = workers_;
    for (size_t k = 0; k < workers->list.n_workers; k++) {
        Hpo__WorkerInfo *info = workers->list.workers[k];
        for (size_t g = 0; g < info->n_gpus; g++)
            if (*info->gpus[g]->trial)
                free (info->gpus[g]->trial);
        if (info->n_gpus)
            free (info->gpus[0]);
        free (info->gpus);
    }
    free (workers->list.workers);
    free (workers->infos);
    free (workers);
}

//  The worker's GPUs and the trial holding each, and its CPUs.
static void
s_worker_resources (const hpo_worker_t *w, Hpo__WorkerInfo *info)
{
    info->cpus = w->cpus;
    info->cpus_used = w->cpus_used;
    if (w->n_gpus == 0)
        return;
    Hpo__WorkerGpu *gpus = hpo_calloc (w->n_gpus, sizeof *gpus);
    info->gpus = hpo_calloc (w->n_gpus, sizeof (void *));
    for (uint32_t k = 0; k < w->n_gpus; k++) {
        const hpo_worker_gpu_t *g = &w->gpus[k];
        hpo__worker_gpu__init (&gpus[k]);
        gpus[k].index = g->index;
        gpus[k].name = g->name ? g->name : "";
        gpus[k].uuid = g->uuid ? g->uuid : "";
        if (g->trial)
            gpus[k].trial = hpo_sprintf ("%s#%" PRIu64, g->trial->study->name,
                                         g->trial->number);
        gpus[k].busy = g->busy;
        info->gpus[k] = &gpus[k];
    }
    info->n_gpus = w->n_gpus;
}

static void
s_workers (hpo_sched_t *sched, const hpo_env_t *req, int64_t now_ms,
           hpo_wire_msg_t *reply)
{
    hpo_worker_t **all;
    size_t n = hpo_sched_workers (sched, &all);
    s_workers_t *workers = hpo_calloc (1, sizeof *workers);
    Hpo__WorkerList *list = &workers->list;
    hpo__worker_list__init (list);
    workers->infos = hpo_calloc (n, sizeof *workers->infos);
    list->workers = hpo_calloc (n, sizeof (void *));
    for (size_t k = 0; k < n; k++) {
        hpo_worker_t *w = all[k];
        if (w->gone)
            continue; //  superseded by a newer session of that name
        Hpo__WorkerInfo *info = &workers->infos[list->n_workers];
        hpo__worker_info__init (info);
        info->name = w->name;
        info->host = w->host;
        info->slots = w->slots;
        info->running = w->held;
        info->last_seen = w->last_seen_wall;
        info->alive = hpo_sched_worker_alive (sched, w, now_ms);
        info->pid = w->pid;
        s_worker_resources (w, info);
        list->workers[list->n_workers++] = info;
    }
    list->now = hpo_clock_wall ();
    hpo_wire_worker_list (reply, req->seq, list);
    hpo_wire_msg_own (reply, s_workers_release, workers);
}

//  ---- dispatch ------------------------------------------------------------

int
hpo_query_serves (Hpo__Envelope__BodyCase body)
{
    switch (body) {
    case HPO__ENVELOPE__BODY_STUDY_SHOW:
    case HPO__ENVELOPE__BODY_STUDY_LIST:
    case HPO__ENVELOPE__BODY_TRIALS:
    case HPO__ENVELOPE__BODY_TRIAL_SHOW:
    case HPO__ENVELOPE__BODY_BEST:
    case HPO__ENVELOPE__BODY_WORKERS:
        return 1;
    default:
        return 0;
    }
}

void
hpo_query_answer (hpo_sched_t *sched, hpo_store_t *store,
                  const hpo_env_t *request, int64_t now_ms,
                  hpo_wire_msg_t *reply)
{
    switch (request->body_case) {
    case HPO__ENVELOPE__BODY_STUDY_SHOW:
        s_study_show (sched, request, now_ms, reply);
        break;
    case HPO__ENVELOPE__BODY_STUDY_LIST:
        s_study_list (sched, request, reply);
        break;
    case HPO__ENVELOPE__BODY_TRIALS:
        s_trials (sched, store, request, reply);
        break;
    case HPO__ENVELOPE__BODY_TRIAL_SHOW:
        s_trial_show (sched, store, request, reply);
        break;
    case HPO__ENVELOPE__BODY_BEST:
        s_best (sched, request, reply);
        break;
    case HPO__ENVELOPE__BODY_WORKERS:
        s_workers (sched, request, now_ms, reply);
        break;
    default:
        assert (!"not a query");
    }
}
