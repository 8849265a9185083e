/*  api.c: the dashboard's JSON answers (api.h, docs/dashboard.md), written
    with the append-only writer of jw.h straight from the read model: the
    trial table of 100,000 trials is one pass per column and no DOM.     */
#include "api.h"

#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "importance.h"
#include "jw.h"
#include "modelp.h"

//  ---- shared documents (modelp.h) -------------------------------------

static void
s_write_value (hpo_jw_t *w, const hpo_value_t *v)
{
    if (v->kind == HPO_KIND_STR)
        hpo_jw_str (w, v->s ? v->s : "");
    else if (v->kind == HPO_KIND_INT)
        hpo_jw_int (w, v->i);
    else if (v->kind == HPO_KIND_FLOAT)
        hpo_jw_real (w, v->f);
    else
        hpo_jw_null (w);
}

void
hpo_dash_write_pval (hpo_jw_t *w, const hpo_param_spec_t *param,
                     const hpo_dash_pval_t *v)
{
    switch (v->kind) {
    case HPO_KIND_FLOAT:
        hpo_jw_real (w, v->u.f);
        break;
    case HPO_KIND_INT:
        hpo_jw_int (w, v->u.i);
        break;
    case HPO_KIND_STR:
        //  A listed value, written as the study file typed it.
        s_write_value (w, &param->values[v->u.cat]);
        break;
    default:
        hpo_jw_null (w);
    }
}

//  A value, or null when the row has none.
static void
s_maybe_real (hpo_jw_t *w, int has, double value)
{
    if (has)
        hpo_jw_real (w, value);
    else
        hpo_jw_null (w);
}

static void
s_maybe_int (hpo_jw_t *w, int has, int64_t value)
{
    if (has)
        hpo_jw_int (w, value);
    else
        hpo_jw_null (w);
}

//  trials_per_minute (docs/dashboard.md): trials ended in the last 10
//  minutes, per minute of those 10 the study has existed.
static double
s_per_minute (const hpo_dash_study_t *s, double now)
{
    double minutes = s->created > 0 ? (now - s->created) / 60 : 10;
    if (minutes > 10)
        minutes = 10;
    if (!(minutes > 0))
        return 0;
    uint64_t ended = 0;
    for (size_t k = 0; k < s->n_numbers; k++) {
        const hpo_dash_trial_t *t = s->trials[k];
        if (t && t->state >= 2 && t->ended > now - 600)
            ended++;
    }
    return (double)ended / minutes;
}

void
hpo_dash_write_study (hpo_jw_t *w, const hpo_dash_study_t *s, double now)
{
    const hpo_spec_t *spec = s->spec;
    hpo_jw_open (w, '{');
    hpo_jw_key (w, "name");
    hpo_jw_str (w, s->name);
    hpo_jw_key (w, "state");
    hpo_jw_str (w, s->state);
    hpo_jw_key (w, "direction");
    hpo_jw_str (w, spec ? (spec->maximize ? "maximize" : "minimize") : NULL);
    hpo_jw_key (w, "metric");
    hpo_jw_str (w, spec ? spec->metric : NULL);
    hpo_jw_key (w, "sampler");
    hpo_jw_str (w, spec && spec->sampler.ops ? spec->sampler.ops->name : NULL);
    hpo_jw_key (w, "pruner");
    const char *pruner =
        spec && spec->pruner.ops ? spec->pruner.ops->name : NULL;
    hpo_jw_str (w, pruner && strcmp (pruner, "none") ? pruner : NULL);
    hpo_jw_key (w, "created");
    hpo_jw_time (w, s->created);
    hpo_jw_key (w, "ended");
    hpo_jw_time (w, s->ended);
    hpo_jw_key (w, "budget");
    uint64_t budget = s->budget ? s->budget : spec ? spec->trials : 0;
    s_maybe_int (w, budget > 0, (int64_t)budget);
    hpo_jw_key (w, "counts");
    hpo_jw_open (w, '{');
    for (int k = 0; k < HPO_DASH_STATES; k++) {
        hpo_jw_key (w, hpo_dash_states[k]);
        hpo_jw_uint (w, s->counts[k]);
    }
    hpo_jw_close (w, '}');
    hpo_jw_key (w, "trials");
    hpo_jw_uint (w, s->n_trials);
    hpo_jw_key (w, "best");
    const hpo_dash_trial_t *best = hpo_dash_study_best (s);
    if (best) {
        hpo_jw_open (w, '{');
        hpo_jw_key (w, "number");
        hpo_jw_uint (w, best->number);
        hpo_jw_key (w, "value");
        hpo_jw_real (w, best->value);
        hpo_jw_close (w, '}');
    } else
        hpo_jw_null (w);
    hpo_jw_key (w, "trials_per_minute");
    hpo_jw_real (w, s_per_minute (s, now));
    hpo_jw_key (w, "params");
    hpo_jw_open (w, '[');
    for (size_t k = 0; k < s->n_params; k++)
        hpo_jw_str (w, spec->params[k].name);
    hpo_jw_close (w, ']');
    hpo_jw_close (w, '}');
}

//  The worker of the trial's current attempt, or of its last ended one.
static const char *
s_trial_worker (const hpo_dash_trial_t *t)
{
    if (t->worker)
        return t->worker;
    return t->n_attempts ? t->attempts[t->n_attempts - 1].worker : NULL;
}

void
hpo_dash_write_trial (hpo_jw_t *w, const hpo_dash_trial_t *t)
{
    const hpo_dash_study_t *s = t->study;
    hpo_jw_open (w, '{');
    hpo_jw_key (w, "number");
    hpo_jw_uint (w, t->number);
    hpo_jw_key (w, "state");
    hpo_jw_str (w, hpo_dash_states[t->state]);
    hpo_jw_key (w, "params");
    hpo_jw_open (w, '{');
    for (size_t k = 0; k < s->n_params; k++) {
        //  Absent (when:) parameters have no key, as in the trial's
        //  params file and hpo trials --json.
        if (t->params[k].kind == HPO_KIND_NONE)
            continue;
        hpo_jw_key (w, s->spec->params[k].name);
        hpo_dash_write_pval (w, &s->spec->params[k], &t->params[k]);
    }
    hpo_jw_close (w, '}');
    hpo_jw_key (w, "value");
    s_maybe_real (w, t->has_value, t->value);
    hpo_jw_key (w, "attempt");
    hpo_jw_uint (w, t->attempt);
    hpo_jw_key (w, "worker");
    hpo_jw_str (w, s_trial_worker (t));
    hpo_jw_key (w, "started");
    hpo_jw_time (w, t->started);
    hpo_jw_key (w, "ended");
    hpo_jw_time (w, t->ended);
    hpo_jw_key (w, "reason");
    hpo_jw_str (w, t->reason);
    int64_t step;
    double last;
    int has_last = hpo_dash_trial_last (t, &step, &last);
    hpo_jw_key (w, "last_step");
    s_maybe_int (w, has_last, step);
    hpo_jw_key (w, "last_value");
    s_maybe_real (w, has_last, last);
    hpo_jw_close (w, '}');
}

void
hpo_dash_write_attempt_keys (hpo_jw_t *w, const hpo_dash_attempt_t *a,
                             int log_tail)
{
    hpo_jw_key (w, "attempt");
    hpo_jw_uint (w, a->attempt);
    hpo_jw_key (w, "worker");
    hpo_jw_str (w, a->worker);
    hpo_jw_key (w, "started");
    hpo_jw_time (w, a->started);
    hpo_jw_key (w, "ended");
    hpo_jw_time (w, a->ended);
    hpo_jw_key (w, "outcome");
    hpo_jw_str (w, a->outcome);
    hpo_jw_key (w, "reason");
    hpo_jw_str (w, a->reason);
    if (log_tail) {
        hpo_jw_key (w, "log_tail");
        hpo_jw_str (w, a->log_tail);
    }
}

//  ---- requests ----------------------------------------------------------

typedef struct {
    hpo_model_t *model;
    const hpo_dash_view_t *view;
    uint64_t version;
    double now;
    hpo_jw_t w;
    int status;
} s_req_t;

static int
s_error (s_req_t *r, int status, const char *message)
{
    r->w.len = 0;
    hpo_jw_open (&r->w, '{');
    hpo_jw_key (&r->w, "error");
    hpo_jw_str (&r->w, message);
    hpo_jw_close (&r->w, '}');
    r->status = status;
    return status;
}

static void
s_begin (s_req_t *r)
{
    hpo_jw_open (&r->w, '{');
    hpo_jw_key (&r->w, "version");
    hpo_jw_uint (&r->w, r->version);
}

static void
s_workers_array (s_req_t *r)
{
    const char *json = r->view->workers_json;
    if (json)
        hpo_jw_json (&r->w, json, strlen (json));
    else
        hpo_jw_raw (&r->w, "[]", 2);
}

static int
s_studies (s_req_t *r)
{
    s_begin (r);
    hpo_jw_key (&r->w, "now");
    hpo_jw_real (&r->w, r->now);
    hpo_jw_key (&r->w, "studies");
    hpo_jw_open (&r->w, '[');
    for (size_t k = 0; k < r->view->n_studies; k++)
        hpo_dash_write_study (&r->w, r->view->studies[k], r->now);
    hpo_jw_close (&r->w, ']');
    hpo_jw_key (&r->w, "workers");
    s_workers_array (r);
    hpo_jw_close (&r->w, '}');
    return 200;
}

static int
s_workers (s_req_t *r)
{
    s_begin (r);
    hpo_jw_key (&r->w, "now");
    hpo_jw_real (&r->w, r->now);
    hpo_jw_key (&r->w, "workers");
    s_workers_array (r);
    hpo_jw_close (&r->w, '}');
    return 200;
}

static void
s_space_param (hpo_jw_t *w, const hpo_spec_t *spec, const hpo_param_spec_t *p)
{
    static const char *const kinds[] = {NULL, "float", "int", "categorical"};
    int numeric = p->type != HPO_PARAM_CATEGORICAL;
    hpo_jw_open (w, '{');
    hpo_jw_key (w, "name");
    hpo_jw_str (w, p->name);
    hpo_jw_key (w, "kind");
    hpo_jw_str (w, p->type >= 1 && p->type <= 3 ? kinds[p->type] : NULL);
    hpo_jw_key (w, "log");
    hpo_jw_bool (w, p->log);
    hpo_jw_key (w, "low");
    s_maybe_real (w, numeric, p->low);
    hpo_jw_key (w, "high");
    s_maybe_real (w, numeric, p->high);
    hpo_jw_key (w, "step");
    s_maybe_real (w, p->has_step, p->step);
    hpo_jw_key (w, "values");
    if (p->n_values) {
        hpo_jw_open (w, '[');
        for (size_t k = 0; k < p->n_values; k++)
            s_write_value (w, &p->values[k]);
        hpo_jw_close (w, ']');
    } else
        hpo_jw_null (w);
    hpo_jw_key (w, "when");
    if (p->when_param >= 0) {
        hpo_jw_open (w, '{');
        hpo_jw_key (w, "param");
        hpo_jw_str (w, spec->params[p->when_param].name);
        hpo_jw_key (w, "values");
        hpo_jw_open (w, '[');
        for (size_t k = 0; k < p->n_when_values; k++)
            s_write_value (w, &p->when_values[k]);
        hpo_jw_close (w, ']');
        hpo_jw_close (w, '}');
    } else
        hpo_jw_null (w);
    hpo_jw_close (w, '}');
}

static int
s_study (s_req_t *r, const hpo_dash_study_t *s)
{
    s_begin (r);
    hpo_jw_key (&r->w, "study");
    hpo_dash_write_study (&r->w, s, r->now);
    hpo_jw_key (&r->w, "spec");
    hpo_jw_str (&r->w, s->spec_text);
    hpo_jw_key (&r->w, "space");
    hpo_jw_open (&r->w, '[');
    for (size_t k = 0; k < s->n_params; k++)
        s_space_param (&r->w, s->spec, &s->spec->params[k]);
    hpo_jw_close (&r->w, ']');
    hpo_jw_key (&r->w, "metrics");
    hpo_jw_open (&r->w, '[');
    for (size_t k = 0; k < s->n_metrics; k++)
        hpo_jw_str (&r->w, s->metrics[k]);
    hpo_jw_close (&r->w, ']');
    hpo_jw_close (&r->w, '}');
    return 200;
}

//  ---- trials, columnar ------------------------------------------------

typedef enum {
    S_COL_STATE, S_COL_VALUE, S_COL_ATTEMPT, S_COL_WORKER, S_COL_STARTED,
    S_COL_ENDED, S_COL_LAST_STEP, S_COL_LAST_VALUE, S_COL_REASON,
} s_col_t;

static const char *const s_col_names[] = {
    "state", "value", "attempt", "worker", "started",
    "ended", "last_step", "last_value", "reason"};

static void
s_trial_cell (hpo_jw_t *w, const hpo_dash_trial_t *t, s_col_t col)
{
    int64_t step;
    double last;
    switch (col) {
    case S_COL_STATE:
        hpo_jw_str (w, hpo_dash_states[t->state]);
        break;
    case S_COL_VALUE:
        s_maybe_real (w, t->has_value, t->value);
        break;
    case S_COL_ATTEMPT:
        hpo_jw_uint (w, t->attempt);
        break;
    case S_COL_WORKER:
        hpo_jw_str (w, s_trial_worker (t));
        break;
    case S_COL_STARTED:
        hpo_jw_time (w, t->started);
        break;
    case S_COL_ENDED:
        hpo_jw_time (w, t->ended);
        break;
    case S_COL_LAST_STEP: {
        int has = hpo_dash_trial_last (t, &step, &last);
        s_maybe_int (w, has, step);
        break;
    }
    case S_COL_LAST_VALUE: {
        int has = hpo_dash_trial_last (t, &step, &last);
        s_maybe_real (w, has, last);
        break;
    }
    case S_COL_REASON:
        hpo_jw_str (w, t->reason);
        break;
    }
}

//  One pass over the trials, each column written into a writer of its
//  own, then joined: a pass per column would fetch every trial from
//  memory once per column.
static int
s_trials (s_req_t *r, const hpo_dash_study_t *s)
{
    size_t n_fixed = sizeof s_col_names / sizeof *s_col_names;
    size_t n_cols = 1 + n_fixed + s->n_params;
    hpo_jw_t *cols = hpo_malloc (n_cols * sizeof *cols);
    for (size_t c = 0; c < n_cols; c++) {
        hpo_jw_init (&cols[c]);
        //  About a timestamp's worth a cell: most columns grow once.
        hpo_jw_reserve (&cols[c], s->n_trials * 20 + 16);
        hpo_jw_open (&cols[c], '[');
    }
    for (size_t k = 0; k < s->n_numbers; k++) {
        const hpo_dash_trial_t *t = s->trials[k];
        if (!t)
            continue;
        hpo_jw_uint (&cols[0], k);
        for (size_t c = 0; c < n_fixed; c++)
            s_trial_cell (&cols[1 + c], t, (s_col_t)c);
        for (size_t p = 0; p < s->n_params; p++)
            hpo_dash_write_pval (&cols[1 + n_fixed + p], &s->spec->params[p],
                                 &t->params[p]);
    }
    hpo_jw_t *w = &r->w;
    size_t total = 256;
    for (size_t c = 0; c < n_cols; c++)
        total += cols[c].len + 64;
    hpo_jw_reserve (w, total);
    s_begin (r);
    hpo_jw_key (w, "n");
    hpo_jw_uint (w, s->n_trials);
    for (size_t c = 0; c < n_cols; c++) {
        if (c == 1 + n_fixed) {
            hpo_jw_key (w, "params");
            hpo_jw_open (w, '{');
        }
        hpo_jw_key (w, c == 0 ? "number"
                       : c <= n_fixed ? s_col_names[c - 1]
                                      : s->spec->params[c - 1 - n_fixed].name);
        hpo_jw_raw (w, cols[c].data, cols[c].len);
        hpo_jw_close (w, ']');
        hpo_jw_free (&cols[c]);
    }
    if (!s->n_params) {
        hpo_jw_key (w, "params");
        hpo_jw_open (w, '{');
    }
    hpo_jw_close (w, '}');
    hpo_jw_close (w, '}');
    free (cols);
    return 200;
}

//  ---- query strings -----------------------------------------------------

static int
s_hex (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower ((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

//  Percent-decodes len bytes at s into a new string; NULL if malformed or
//  decoding to a NUL.
static char *
s_decode (const char *s, size_t len)
{
    char *out = hpo_malloc (len + 1);
    size_t n = 0;
    for (size_t k = 0; k < len; k++) {
        if (s[k] != '%') {
            out[n++] = s[k];
            continue;
        }
        int hi = k + 2 < len ? s_hex (s[k + 1]) : -1;
        int lo = k + 2 < len ? s_hex (s[k + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free (out);
            return NULL;
        }
        out[n++] = (char)(hi * 16 + lo);
        k += 2;
    }
    out[n] = 0;
    return out;
}

//  The decoded value of key in query, or NULL when absent; *bad set when
//  it is malformed.
static char *
s_query (const char *query, const char *key, int *bad)
{
    size_t klen = strlen (key);
    for (const char *p = query; p && *p;) {
        const char *end = strchr (p, '&');
        size_t len = end ? (size_t)(end - p) : strlen (p);
        if (len > klen && strncmp (p, key, klen) == 0 && p[klen] == '=') {
            char *value = s_decode (p + klen + 1, len - klen - 1);
            if (!value)
                *bad = 1;
            return value;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

//  ---- curves --------------------------------------------------------------

//  The trial numbers listed in text ("1,5,9") as a flag per number of s;
//  -1 if malformed.
static int
s_trial_set (const char *text, const hpo_dash_study_t *s, uint8_t *wanted)
{
    const char *p = text;
    while (*p) {
        if (!isdigit ((unsigned char)*p))
            return -1;
        char *end;
        unsigned long long number = strtoull (p, &end, 10);
        if (*end && *end != ',')
            return -1;
        if (number < s->n_numbers)
            wanted[number] = 1;
        p = *end ? end + 1 : end;
    }
    return 0;
}

static int
s_curves (s_req_t *r, const hpo_dash_study_t *s, const char *query)
{
    int bad = 0;
    char *metric = s_query (query, "metric", &bad);
    char *list = s_query (query, "trials", &bad);
    uint8_t *wanted = NULL;
    if (!bad && list) {
        wanted = hpo_calloc (s->n_numbers + 1, 1);
        bad = s_trial_set (list, s, wanted) != 0;
    }
    free (list);
    if (bad) {
        free (metric);
        free (wanted);
        return s_error (r, 400, "bad query: metric=NAME&trials=N,N,...");
    }
    const char *name = metric ? metric : s->spec ? s->spec->metric : NULL;
    int index = -1;
    for (size_t k = 0; name && k < s->n_metrics; k++)
        if (strcmp (s->metrics[k], name) == 0)
            index = (int)k;
    //  Three passes (count, steps, values) over the same selection.
    hpo_jw_t *w = &r->w;
    s_begin (r);
    hpo_jw_key (w, "metric");
    hpo_jw_str (w, name);
    size_t n = 0;
    for (int pass = 0; pass < 4; pass++) {
        if (pass > 0) {
            static const char *const keys[] = {NULL, "number", "step",
                                               "value"};
            hpo_jw_key (w, keys[pass]);
            hpo_jw_open (w, '[');
        }
        for (size_t k = 0; index >= 0 && k < s->n_numbers; k++) {
            const hpo_dash_trial_t *t = s->trials[k];
            if (!t || (wanted && !wanted[k]))
                continue;
            for (uint32_t j = 0; j < t->n_values; j++) {
                const hpo_dash_value_t *v = &t->values[j];
                if ((int)v->metric != index || v->attempt != t->attempt)
                    continue;
                if (pass == 0)
                    n++;
                else if (pass == 1)
                    hpo_jw_uint (w, t->number);
                else if (pass == 2)
                    hpo_jw_int (w, v->step);
                else
                    hpo_jw_real (w, v->value);
            }
        }
        if (pass == 0) {
            hpo_jw_key (w, "n");
            hpo_jw_uint (w, n);
        } else
            hpo_jw_close (w, ']');
    }
    hpo_jw_close (w, '}');
    free (metric);
    free (wanted);
    return 200;
}

//  ---- timeline ------------------------------------------------------------

typedef struct {
    double started;
    const hpo_dash_trial_t *t;
    const hpo_dash_attempt_t *a;    //  NULL: the running attempt
} s_span_t;

static int
s_span_cmp (const void *a_, const void *b_)
{
    const s_span_t *a = a_, *b = b_;
    if (a->started != b->started)
        return a->started < b->started ? -1 : 1;
    if (a->t->number != b->t->number)
        return a->t->number < b->t->number ? -1 : 1;
    uint32_t aa = a->a ? a->a->attempt : a->t->attempt;
    uint32_t ba = b->a ? b->a->attempt : b->t->attempt;
    return aa < ba ? -1 : aa > ba;
}

//  Whether t's current attempt is running and so not among its ended ones.
static int
s_running (const hpo_dash_trial_t *t)
{
    if (t->state != 1 || !t->attempt)
        return 0;
    for (uint32_t k = 0; k < t->n_attempts; k++)
        if (t->attempts[k].attempt == t->attempt)
            return 0;
    return 1;
}

static int
s_timeline (s_req_t *r, const hpo_dash_study_t *s)
{
    size_t n = 0, cap = 0;
    s_span_t *spans = NULL;
    for (size_t k = 0; k < s->n_numbers; k++) {
        const hpo_dash_trial_t *t = s->trials[k];
        if (!t)
            continue;
        int running = s_running (t);
        if (n + t->n_attempts + 1 > cap) {
            cap = cap ? cap * 2 : 256;
            if (cap < n + t->n_attempts + 1)
                cap = n + t->n_attempts + 1;
            spans = hpo_realloc (spans, cap * sizeof *spans);
        }
        for (uint32_t j = 0; j < t->n_attempts; j++)
            spans[n++] = (s_span_t){t->attempts[j].started, t, &t->attempts[j]};
        if (running)
            spans[n++] = (s_span_t){t->started, t, NULL};
    }
    if (n)
        qsort (spans, n, sizeof *spans, s_span_cmp);
    hpo_jw_t *w = &r->w;
    s_begin (r);
    hpo_jw_key (w, "n");
    hpo_jw_uint (w, n);
    static const char *const keys[] = {"number", "attempt", "worker", "started",
                                       "ended", "outcome", "reason"};
    for (int c = 0; c < 7; c++) {
        hpo_jw_key (w, keys[c]);
        hpo_jw_open (w, '[');
        for (size_t k = 0; k < n; k++) {
            const s_span_t *sp = &spans[k];
            const hpo_dash_attempt_t *a = sp->a;
            switch (c) {
            case 0: hpo_jw_uint (w, sp->t->number); break;
            case 1: hpo_jw_uint (w, a ? a->attempt : sp->t->attempt); break;
            case 2: hpo_jw_str (w, a ? a->worker : sp->t->worker); break;
            case 3: hpo_jw_time (w, sp->started); break;
            case 4: hpo_jw_time (w, a ? a->ended : 0); break;
            case 5: hpo_jw_str (w, a ? a->outcome : "RUNNING"); break;
            default: hpo_jw_str (w, a ? a->reason : NULL);
            }
        }
        hpo_jw_close (w, ']');
    }
    hpo_jw_close (w, '}');
    free (spans);
    return 200;
}

//  ---- one trial -----------------------------------------------------------

static int
s_value_by_name (const void *a_, const void *b_, void *study_)
{
    const hpo_dash_study_t *s = study_;
    const hpo_dash_value_t *a = a_, *b = b_;
    if (a->step != b->step)
        return a->step < b->step ? -1 : 1;
    return strcmp (s->metrics[a->metric], s->metrics[b->metric]);
}

static int
s_trial_detail (s_req_t *r, const hpo_dash_trial_t *t)
{
    const hpo_dash_study_t *s = t->study;
    hpo_jw_t *w = &r->w;
    s_begin (r);
    hpo_jw_key (w, "trial");
    hpo_dash_write_trial (w, t);
    hpo_jw_key (w, "attempts");
    hpo_jw_open (w, '[');
    for (uint32_t k = 0; k < t->n_attempts; k++) {
        hpo_jw_open (w, '{');
        hpo_dash_write_attempt_keys (w, &t->attempts[k], 1);
        hpo_jw_close (w, '}');
    }
    if (s_running (t)) {
        hpo_dash_attempt_t running = {.attempt = t->attempt,
                                      .worker = t->worker,
                                      .started = t->started,
                                      .outcome = "RUNNING"};
        hpo_jw_open (w, '{');
        hpo_dash_write_attempt_keys (w, &running, 1);
        hpo_jw_close (w, '}');
    }
    hpo_jw_close (w, ']');
    //  The store's order: by step, then metric name.
    hpo_dash_value_t *values = NULL;
    if (t->n_values) {
        values = hpo_malloc (t->n_values * sizeof *values);
        memcpy (values, t->values, t->n_values * sizeof *values);
        qsort_r (values, t->n_values, sizeof *values, s_value_by_name,
                 (void *)s);
    }
    hpo_jw_key (w, "values");
    hpo_jw_open (w, '[');
    for (uint32_t k = 0; k < t->n_values; k++) {
        hpo_jw_open (w, '{');
        hpo_jw_key (w, "attempt");
        hpo_jw_uint (w, values[k].attempt);
        hpo_jw_key (w, "step");
        hpo_jw_int (w, values[k].step);
        hpo_jw_key (w, "metric");
        hpo_jw_str (w, s->metrics[values[k].metric]);
        hpo_jw_key (w, "value");
        hpo_jw_real (w, values[k].value);
        hpo_jw_close (w, '}');
    }
    hpo_jw_close (w, ']');
    hpo_jw_close (w, '}');
    free (values);
    return 200;
}

//  ---- importance ------------------------------------------------------------

typedef struct {
    hpo_importance_t result;
    size_t param;
} s_ranked_t;

static int
s_ranked_cmp (const void *a_, const void *b_)
{
    const s_ranked_t *a = a_, *b = b_;
    double x = a->result.importance, y = b->result.importance;
    if (isnan (x) != isnan (y))
        return isnan (x) ? 1 : -1;
    if (!isnan (x) && x != y)
        return x > y ? -1 : 1;
    return a->param < b->param ? -1 : a->param > b->param;
}

//  Parameter p's column over the trials picked, as hpo_importance takes
//  it (log space for a log parameter, category indexes for a
//  categorical one).
static void
s_importance_column (const hpo_dash_study_t *s, size_t p,
                     const hpo_dash_trial_t **picked, size_t n,
                     hpo_importance_param_t *param, double *x)
{
    const hpo_param_spec_t *ps = &s->spec->params[p];
    param->name = ps->name;
    param->x = x;
    param->categorical = ps->type == HPO_PARAM_CATEGORICAL;
    param->n_choices = (int)ps->n_values;
    param->log = ps->log && !param->categorical;
    param->lo = param->log ? log (ps->low) : ps->low;
    param->hi = param->log ? log (ps->high) : ps->high;
    for (size_t k = 0; k < n; k++) {
        const hpo_dash_pval_t *v = &picked[k]->params[p];
        double value = NAN;
        if (v->kind == HPO_KIND_STR)
            value = param->categorical ? (double)v->u.cat : NAN;
        else if (v->kind == HPO_KIND_INT)
            value = (double)v->u.i;
        else if (v->kind == HPO_KIND_FLOAT)
            value = v->u.f;
        if (param->categorical && v->kind != HPO_KIND_STR) {
            //  A numeric categorical choice: its index.
            hpo_value_t probe = {.kind = v->kind, .i = v->u.i,
                                 .f = v->kind == HPO_KIND_INT ? (double)v->u.i
                                                              : v->u.f};
            int64_t index = v->kind ? hpo_param_value_index (ps, &probe) : -1;
            value = index >= 0 ? (double)index : NAN;
        } else if (param->log)
            value = value > 0 ? log (value) : NAN;
        x[k] = value;
    }
}

static int
s_importance (s_req_t *r, const hpo_dash_study_t *s)
{
    size_t n = 0;
    const hpo_dash_trial_t **picked =
        hpo_malloc ((s->n_trials + 1) * sizeof *picked);
    double *y = hpo_malloc ((s->n_trials + 1) * sizeof *y);
    int maximize = s->spec && s->spec->maximize;
    for (size_t k = 0; k < s->n_numbers; k++) {
        const hpo_dash_trial_t *t = s->trials[k];
        if (t && t->state == 2 && t->has_value && isfinite (t->value)) {
            picked[n] = t;
            y[n++] = maximize ? -t->value : t->value;
        }
    }
    size_t np = s->n_params;
    hpo_importance_param_t *params = hpo_calloc (np + 1, sizeof *params);
    double *xs = hpo_malloc ((np * n + 1) * sizeof *xs);
    hpo_importance_t *out = hpo_calloc (np + 1, sizeof *out);
    for (size_t p = 0; p < np; p++)
        s_importance_column (s, p, picked, n, &params[p], xs + p * n);
    if (np && hpo_importance (params, np, y, n, 0, out) != 0)
        for (size_t p = 0; p < np; p++)
            out[p].importance = out[p].spearman = NAN;
    //  y was negated for a maximized objective (importance wants lower is
    //  better); the answer's spearman is against the value itself.
    if (maximize)
        for (size_t p = 0; p < np; p++)
            out[p].spearman = -out[p].spearman;
    s_ranked_t *ranked = hpo_malloc ((np + 1) * sizeof *ranked);
    for (size_t p = 0; p < np; p++)
        ranked[p] = (s_ranked_t){out[p], p};
    qsort (ranked, np, sizeof *ranked, s_ranked_cmp);
    hpo_jw_t *w = &r->w;
    s_begin (r);
    hpo_jw_key (w, "method");
    hpo_jw_str (w, "ped-anova");
    hpo_jw_key (w, "n_trials");
    hpo_jw_uint (w, n);
    hpo_jw_key (w, "params");
    hpo_jw_open (w, '[');
    for (size_t k = 0; k < np; k++) {
        hpo_jw_open (w, '{');
        hpo_jw_key (w, "name");
        hpo_jw_str (w, s->spec->params[ranked[k].param].name);
        hpo_jw_key (w, "importance");
        hpo_jw_real (w, ranked[k].result.importance);
        hpo_jw_key (w, "spearman");
        hpo_jw_real (w, ranked[k].result.spearman);
        hpo_jw_close (w, '}');
    }
    hpo_jw_close (w, ']');
    hpo_jw_close (w, '}');
    free (ranked);
    free (out);
    free (xs);
    free (params);
    free (y);
    free (picked);
    return 200;
}

//  ---- dispatch ------------------------------------------------------------

//  /api/studies/NAME[/REST]: the study's answers.
static int
s_study_path (s_req_t *r, const char *rest, const char *query)
{
    const char *slash = strchr (rest, '/');
    size_t len = slash ? (size_t)(slash - rest) : strlen (rest);
    char *name = s_decode (rest, len);
    if (!name)
        return s_error (r, 400, "bad percent-encoding in the study name");
    const hpo_dash_study_t *s = hpo_model_study (r->model, name);
    if (!s) {
        //  The name quoted as JSON quotes it: no study named "x".
        hpo_jw_t quoted;
        hpo_jw_init (&quoted);
        hpo_jw_str (&quoted, name);
        char *text = hpo_sprintf ("no study named %s", quoted.data);
        s_error (r, 404, text);
        free (text);
        hpo_jw_free (&quoted);
        free (name);
        return 404;
    }
    free (name);
    const char *sub = slash ? slash + 1 : "";
    if (!slash)
        return s_study (r, s);
    if (strcmp (sub, "trials") == 0)
        return s_trials (r, s);
    if (strcmp (sub, "curves") == 0)
        return s_curves (r, s, query);
    if (strcmp (sub, "importance") == 0)
        return s_importance (r, s);
    if (strcmp (sub, "timeline") == 0)
        return s_timeline (r, s);
    if (strncmp (sub, "trials/", 7) == 0) {
        const char *digits = sub + 7;
        size_t nd = strspn (digits, "0123456789");
        if (nd == 0 || nd > 19 || digits[nd])
            return s_error (r, 404, "no such path");
        uint64_t number = strtoull (digits, NULL, 10);
        if (number < s->n_numbers && s->trials[number])
            return s_trial_detail (r, s->trials[number]);
        char *text = hpo_sprintf ("study %s has no trial %" PRIu64, s->name,
                                  number);
        s_error (r, 404, text);
        free (text);
        return 404;
    }
    return s_error (r, 404, "no such path");
}

int
hpo_api_get (hpo_model_t *model, const char *path, const char *query,
             uint64_t version, double now, char **body, size_t *len)
{
    assert (model && path && body && len);
    s_req_t r = {.model = model,
                 .view = hpo_model_view (model),
                 .version = version,
                 .now = now,
                 .status = 200};
    hpo_jw_init (&r.w);
    int status;
    if (strcmp (path, "/api/studies") == 0 ||
        strcmp (path, "/api/studies/") == 0)
        status = s_studies (&r);
    else if (strcmp (path, "/api/workers") == 0)
        status = s_workers (&r);
    else if (strncmp (path, "/api/studies/", 13) == 0)
        status = s_study_path (&r, path + 13, query);
    else
        status = s_error (&r, 404, "no such path");
    *body = hpo_jw_take (&r.w, len);
    return status;
}
