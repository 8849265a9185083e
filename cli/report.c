/*  report.c: hpo report's page (report.h).                              */
#include "report.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/json_render.h"
#include "../common/mem.h"
#include "../dash/api.h"
#include "../dash/batch.h"
#include "../dash/model.h"
#include "../dash/jw.h"

//  Trial details in a report: the best so many and the last so many ended.
#define S_DETAIL_BEST 50
#define S_DETAIL_LAST 50

//  ---- the batch: the answers as the store's writes ---------------------

static const char *
s_or_null (const char *s)
{
    return s && *s ? s : NULL;
}

static char *
s_params_text (const Hpo__TrialInfo *t)
{
    json_t *obj = json_object ();
    for (size_t k = 0; k < t->n_params; k++) {
        const Hpo__Param *p = t->params[k];
        if (p->kind != HPO_KIND_NONE)
            json_object_set_new (obj, p->name ? p->name : "",
                                 hpo_json_render_param (p));
    }
    char *text = json_dumps (obj, JSON_COMPACT);
    json_decref (obj);
    return text;
}

static void
s_fill_trial (hpo_batch_t *b, const Hpo__TrialInfo *t)
{
    //  Ids are the model's only: number + 1, in the one study (id 1).
    uint64_t id = t->number + 1;
    char *params = s_params_text (t);
    hpo_store_trial_row_t row = {.id = id, .study_id = 1,
                                 .number = t->number, .state = t->state,
                                 .attempt = t->attempt, .params = params,
                                 .has_value = t->has_value,
                                 .value = t->value,
                                 .worker = s_or_null (t->worker),
                                 .started = t->started, .ended = t->ended,
                                 .reason = s_or_null (t->reason)};
    hpo_batch_trial (b, &row);
    free (params);
    for (size_t k = 0; k < t->n_attempts; k++) {
        const Hpo__AttemptInfo *a = t->attempts[k];
        //  The running attempt is the trial row's worker and start.
        if (!a->outcome || strcmp (a->outcome, "RUNNING") == 0)
            continue;
        hpo_store_attempt_row_t arow = {.attempt = a->attempt,
                                        .worker = s_or_null (a->worker),
                                        .started = a->started,
                                        .ended = a->ended,
                                        .outcome = a->outcome,
                                        .reason = s_or_null (a->reason)};
        hpo_batch_attempt (b, id, &arow);
    }
    for (size_t k = 0; k < t->n_values; k++) {
        const Hpo__IntermediateValue *v = t->values[k];
        hpo_batch_value (b, id, v->attempt ? v->attempt : t->attempt,
                         v->step, v->metric ? v->metric : "", v->value);
    }
}

static void
s_fill_workers (hpo_batch_t *b, const Hpo__WorkerList *workers)
{
    hpo_wire_msg_t msg;
    hpo_wire_worker_list (&msg, 0, (Hpo__WorkerList *)workers);
    size_t size;
    uint8_t *data = hpo_wire_encode (&msg.env, &size);
    hpo_batch_workers (b, data, size);
    free (data);
    hpo_wire_msg_done (&msg);
}

//  What choosing the detailed trials needs of each trial, by number.
typedef struct {
    int present;
    int complete;       //  COMPLETE with a finite value
    double value, ended;
} s_seen_t;

struct _hpo_htmlreport_t {
    const Hpo__StudyInfo *study;
    hpo_model_t *model;
    s_seen_t *seen;
    size_t n_seen;      //  highest number + 1
};

hpo_htmlreport_t *
hpo_htmlreport_new (const Hpo__StudyInfo *study)
{
    hpo_htmlreport_t *self = hpo_calloc (1, sizeof *self);
    self->study = study;
    self->model = hpo_model_new ();
    hpo_model_quiet (self->model, 1);
    hpo_batch_t *b = hpo_batch_new ();
    hpo_batch_study_insert (b, 1, study->name, study->spec, study->created);
    hpo_store_study_row_t row = {.id = 1, .state = study->state,
                                 .ended = study->ended,
                                 .reason = s_or_null (study->reason),
                                 .budget = study->budget};
    hpo_batch_study_update (b, &row);
    hpo_model_apply (self->model, b);
    hpo_batch_destroy (&b);
    return self;
}

void
hpo_htmlreport_destroy (hpo_htmlreport_t **self_p)
{
    hpo_htmlreport_t *self = *self_p;
    if (!self)
        return;
    hpo_model_destroy (&self->model);
    free (self->seen);
    free (self);
    *self_p = NULL;
}

static void
s_seen (hpo_htmlreport_t *self, const Hpo__TrialInfo *t)
{
    //  Numbers are dense from 0 (a bound keeps a bad answer from asking
    //  for the moon: such a trial is simply not chosen).
    if (t->number >= (1ULL << 27))
        return;
    if (t->number >= self->n_seen) {
        size_t n = self->n_seen ? self->n_seen : 64;
        while (n <= t->number)
            n *= 2;
        self->seen = hpo_realloc (self->seen, n * sizeof *self->seen);
        memset (self->seen + self->n_seen, 0,
                (n - self->n_seen) * sizeof *self->seen);
        self->n_seen = n;
    }
    s_seen_t *seen = &self->seen[t->number];
    seen->present = 1;
    seen->complete = t->has_value && isfinite (t->value) && t->state &&
                     strcmp (t->state, "COMPLETE") == 0;
    seen->value = t->value;
    seen->ended = t->ended;
}

void
hpo_htmlreport_trials (hpo_htmlreport_t *self, const Hpo__TrialList *page)
{
    hpo_batch_t *b = hpo_batch_new ();
    for (size_t k = 0; k < page->n_trials; k++) {
        s_fill_trial (b, page->trials[k]);
        s_seen (self, page->trials[k]);
    }
    hpo_model_apply (self->model, b);
    hpo_batch_destroy (&b);
}

void
hpo_htmlreport_workers (hpo_htmlreport_t *self,
                        const Hpo__WorkerList *workers)
{
    hpo_batch_t *b = hpo_batch_new ();
    s_fill_workers (b, workers);
    hpo_model_apply (self->model, b);
    hpo_batch_destroy (&b);
}

//  ---- the documents -----------------------------------------------------

//  text percent-encoded as a path segment or query value (all but
//  unreserved characters), as a page's encodeURIComponent writes it.
static char *
s_encode (const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = hpo_malloc (strlen (text) * 3 + 1);
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            (*p >= '0' && *p <= '9') || strchr ("-_.~!*'()", *p))
            out[n++] = (char)*p;
        else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    out[n] = 0;
    return out;
}

//  Adds "PATH[?QUERY]": ANSWER to the api object being written.
static void
s_answer (hpo_jw_t *w, hpo_model_t *model, double now, const char *path,
          const char *query)
{
    char *body;
    size_t len;
    hpo_api_get (model, path, query, 0, now, &body, &len);
    char *key = query ? hpo_sprintf ("%s?%s", path, query) : hpo_strdup (path);
    hpo_jw_key (w, key);
    hpo_jw_json (w, body, len);
    free (key);
    free (body);
}

typedef struct {
    uint64_t number;
    double key;
} s_pick_t;

static int
s_pick_cmp (const void *a_, const void *b_)
{
    const s_pick_t *a = a_, *b = b_;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->number < b->number ? -1 : a->number > b->number;
}

//  Marks in chosen (by number) the best S_DETAIL_BEST COMPLETE trials
//  and the S_DETAIL_LAST that ended last.
static void
s_choose (const hpo_htmlreport_t *self, uint8_t *chosen)
{
    size_t n = self->n_seen;
    s_pick_t *best = hpo_calloc (n + 1, sizeof *best);
    s_pick_t *last = hpo_calloc (n + 1, sizeof *last);
    size_t n_best = 0, n_last = 0;
    const char *direction = self->study->direction;
    int maximize = direction && strcmp (direction, "maximize") == 0;
    for (size_t k = 0; k < n; k++) {
        const s_seen_t *t = &self->seen[k];
        if (t->complete)
            best[n_best++] = (s_pick_t){k, maximize ? -t->value : t->value};
        if (t->present && t->ended > 0)
            last[n_last++] = (s_pick_t){k, -t->ended};
    }
    qsort (best, n_best, sizeof *best, s_pick_cmp);
    qsort (last, n_last, sizeof *last, s_pick_cmp);
    for (size_t j = 0; j < n_best && j < S_DETAIL_BEST; j++)
        chosen[best[j].number] = 1;
    for (size_t j = 0; j < n_last && j < S_DETAIL_LAST; j++)
        chosen[last[j].number] = 1;
    free (best);
    free (last);
}

//  The metrics whose curves the report holds, from the study's own
//  answer: the objective's first (so a page asking for the curves of no
//  metric in particular finds it first), then every other one reported.
static json_t *
s_metrics (hpo_model_t *model, const char *path, double now)
{
    char *body;
    size_t len;
    hpo_api_get (model, path, NULL, 0, now, &body, &len);
    json_t *doc = json_loadb (body, len, 0, NULL);
    free (body);
    json_t *out = json_array ();
    const char *objective = json_string_value (
        json_object_get (json_object_get (doc, "study"), "metric"));
    if (objective)
        json_array_append_new (out, json_string (objective));
    json_t *metrics = json_object_get (doc, "metrics");
    for (size_t k = 0; k < json_array_size (metrics); k++) {
        const char *m = json_string_value (json_array_get (metrics, k));
        if (m && (!objective || strcmp (m, objective) != 0))
            json_array_append_new (out, json_string (m));
    }
    json_decref (doc);
    return out;
}

//  JSON text made safe inside a <script> element, whose raw text ends at
//  the first "</" and whose parsing changes after "<!--": "</" is written
//  "<\/" (JSON's escape of "/") and "<!--" "\u003c!--". A '<' occurs
//  only inside strings, where both escapes read back the same.
static char *
s_script_safe (const char *text, size_t n, size_t *len)
{
    char *out = hpo_malloc (n * 6 / 4 + 16);
    size_t cap = n * 6 / 4 + 16, o = 0;
    for (size_t k = 0; k < n; k++) {
        if (o + 8 > cap) {
            cap *= 2;
            out = hpo_realloc (out, cap);
        }
        if (text[k] == '<' && k + 1 < n && text[k + 1] == '/') {
            memcpy (out + o, "<\\", 2);
            o += 2;
        } else if (text[k] == '<' && n - k >= 4 &&
                   memcmp (text + k, "<!--", 4) == 0) {
            memcpy (out + o, "\\u003c", 6);
            o += 6;
        } else
            out[o++] = text[k];
    }
    out[o] = 0;
    *len = o;
    return out;
}

char *
hpo_htmlreport_data (hpo_htmlreport_t *self, double now, size_t *len)
{
    hpo_model_t *model = self->model;
    const char *study = self->study->name ? self->study->name : "";
    char *name = s_encode (study);
    char *base = hpo_sprintf ("/api/studies/%s", name);
    free (name);
    hpo_jw_t w;
    hpo_jw_init (&w);
    hpo_jw_open (&w, '{');
    hpo_jw_key (&w, "mode");
    hpo_jw_str (&w, "report");
    hpo_jw_key (&w, "generated");
    hpo_jw_real (&w, now);
    hpo_jw_key (&w, "api");
    hpo_jw_open (&w, '{');
    s_answer (&w, model, now, "/api/studies", NULL);
    s_answer (&w, model, now, "/api/workers", NULL);
    s_answer (&w, model, now, base, NULL);
    const char *subs[] = {"trials", "importance", "timeline"};
    for (size_t k = 0; k < 3; k++) {
        char *path = hpo_sprintf ("%s/%s", base, subs[k]);
        s_answer (&w, model, now, path, NULL);
        free (path);
    }
    //  Curves by metric only: the answer without one is the objective's,
    //  the same document again (half of a large report).
    char *curves = hpo_sprintf ("%s/curves", base);
    json_t *metrics = s_metrics (model, base, now);
    if (!json_array_size (metrics))
        s_answer (&w, model, now, curves, NULL);
    for (size_t k = 0; k < json_array_size (metrics); k++) {
        char *metric = s_encode (json_string_value (json_array_get (metrics, k)));
        char *query = hpo_sprintf ("metric=%s", metric);
        s_answer (&w, model, now, curves, query);
        free (query);
        free (metric);
    }
    json_decref (metrics);
    free (curves);
    uint8_t *chosen = hpo_calloc (self->n_seen + 1, 1);
    s_choose (self, chosen);
    for (size_t k = 0; k < self->n_seen; k++) {
        if (!chosen[k])
            continue;
        char *path = hpo_sprintf ("%s/trials/%zu", base, k);
        s_answer (&w, model, now, path, NULL);
        free (path);
    }
    free (chosen);
    hpo_jw_close (&w, '}');
    hpo_jw_close (&w, '}');
    free (base);
    size_t n_text;
    char *text = hpo_jw_take (&w, &n_text);
    char *out = s_script_safe (text, n_text, len);
    free (text);
    return out;
}

//  ---- the page ------------------------------------------------------------

static int
s_write_all (FILE *f, const char *data, size_t len)
{
    return fwrite (data, 1, len, f) == len ? 0 : -1;
}

int
hpo_htmlreport_write (hpo_htmlreport_t *self, double now, const char *page,
                      size_t page_size, const char *path, char **error)
{
    size_t len;
    char *data = hpo_htmlreport_data (self, now, &len);
    //  Before the page's first script, so the data is there when it runs.
    const char *script = memmem (page, page_size, "<script", 7);
    size_t at = script ? (size_t)(script - page) : page_size;
    int to_stdout = strcmp (path, "-") == 0;
    char *tmp = to_stdout ? NULL : hpo_sprintf ("%s.tmp.%d", path, getpid ());
    FILE *f = to_stdout ? stdout : fopen (tmp, "w");
    if (!f) {
        *error = hpo_sprintf ("cannot write %s: %s", tmp, strerror (errno));
        free (tmp);
        free (data);
        return -1;
    }
    static const char tag[] =
        "<script id=\"hpo-data\" type=\"application/json\">";
    int rc = s_write_all (f, page, at) || s_write_all (f, tag, strlen (tag)) ||
             s_write_all (f, data, len) ||
             s_write_all (f, "</script>\n", 10) ||
             s_write_all (f, page + at, page_size - at);
    rc = fflush (f) != 0 || rc ? -1 : 0;
    if (!to_stdout) {
        if (fclose (f) != 0)
            rc = -1;
        if (rc == 0 && rename (tmp, path) != 0)
            rc = -1;
        if (rc)
            *error = hpo_sprintf ("cannot write %s: %s", path,
                                  strerror (errno));
        if (rc)
            unlink (tmp);
    } else if (rc)
        *error = hpo_sprintf ("cannot write the report: %s", strerror (errno));
    free (tmp);
    free (data);
    return rc;
}
