/*  model.c: the dashboard's read model (model.h), changed only by
    applying batches. Studies are few and kept in an array; trials are
    found by id through one open-addressing table and, per study, by
    number in a dense array. A trial is one allocation holding its typed
    parameters; its attempts and values are arrays that grow by doubling,
    so 100,000 trials with 20 values each cost two or three allocations
    apiece, never one per value. Worker names and attempt outcomes repeat
    across trials and are interned once.

    Events (hpo_model_events) come from dirty marks: a study or trial is
    listed once however often it changes between two calls, and
    rendered then, in its last form. Lists hold ids, not pointers, so a
    study deleted meanwhile leaves nothing dangling: its ids no longer
    resolve and are passed over.                                         */
#include "modelp.h"

#include <assert.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "../common/wire.h"
#include "../common/json_render.h"

const char *const hpo_dash_states[HPO_DASH_STATES] = {
    "WAITING", "RUNNING", "COMPLETE", "PRUNED", "FAILED"};

//  Trial numbers past this are refused: a dense array that large is a
//  corrupt record, not a study (HPO_SPEC_MAX_GRID aside, no study runs
//  a hundred million trials).
#define S_MAX_NUMBER (1ULL << 27)

//  ---- an id -> pointer table (linear probing; 0 is no key) -------------
typedef struct {
    uint64_t *keys;
    void **vals;
    size_t cap, n;  //  cap: a power of two
} s_map_t;

static size_t
s_hash (uint64_t key)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return (size_t)key;
}

static void *
s_map_get (const s_map_t *map, uint64_t key)
{
    if (!map->cap || !key)
        return NULL;
    for (size_t k = s_hash (key) & (map->cap - 1);; k = (k + 1) & (map->cap - 1)) {
        if (map->keys[k] == key)
            return map->vals[k];
        if (!map->keys[k])
            return NULL;
    }
}

static void s_map_put (s_map_t *map, uint64_t key, void *val);

static void
s_map_grow (s_map_t *map)
{
    s_map_t old = *map;
    map->cap = old.cap ? old.cap * 2 : 1024;
    map->keys = hpo_calloc (map->cap, sizeof (uint64_t));
    map->vals = hpo_calloc (map->cap, sizeof (void *));
    map->n = 0;
    for (size_t k = 0; k < old.cap; k++)
        if (old.keys[k])
            s_map_put (map, old.keys[k], old.vals[k]);
    free (old.keys);
    free (old.vals);
}

static void
s_map_put (s_map_t *map, uint64_t key, void *val)
{
    assert (key);
    if ((map->n + 1) * 2 > map->cap)
        s_map_grow (map);
    size_t k = s_hash (key) & (map->cap - 1);
    while (map->keys[k] && map->keys[k] != key)
        k = (k + 1) & (map->cap - 1);
    if (!map->keys[k])
        map->n++;
    map->keys[k] = key;
    map->vals[k] = val;
}

//  Removes key, shifting later entries of its run back so lookups that
//  pass over the hole still find them.
static void
s_map_del (s_map_t *map, uint64_t key)
{
    if (!map->cap || !key)
        return;
    size_t mask = map->cap - 1;
    size_t k = s_hash (key) & mask;
    while (map->keys[k] != key) {
        if (!map->keys[k])
            return;
        k = (k + 1) & mask;
    }
    map->keys[k] = 0;
    map->vals[k] = NULL;
    map->n--;
    for (size_t j = (k + 1) & mask; map->keys[j]; j = (j + 1) & mask) {
        size_t home = s_hash (map->keys[j]) & mask;
        //  Entry j may move into hole k if its home is not in (k, j].
        int between = k < j ? (home > k && home <= j) : (home > k || home <= j);
        if (!between) {
            map->keys[k] = map->keys[j];
            map->vals[k] = map->vals[j];
            map->keys[j] = 0;
            map->vals[j] = NULL;
            k = j;
        }
    }
}

static void
s_map_free (s_map_t *map)
{
    free (map->keys);
    free (map->vals);
    memset (map, 0, sizeof *map);
}

//  ---- the model -------------------------------------------------------

//  A value event waiting to be sent.
typedef struct {
    uint64_t trial_id;
    hpo_dash_value_t v;
} s_value_ev_t;

typedef struct {
    uint64_t trial_id;
    uint32_t attempt;
} s_attempt_ev_t;

struct _hpo_model_t {
    hpo_dash_view_t view;
    size_t cap_studies;
    s_map_t trials;         //  id -> hpo_dash_trial_t
    char **interned;        //  open-addressing set of strings
    size_t cap_interned, n_interned;
    hpo_env_t *workers;     //  the last WorkerList envelope
    uint64_t skipped;
    int quiet;
    //  Dirty lists since the last hpo_model_events.
    uint64_t *dirty_studies;
    size_t n_dirty_studies, cap_dirty_studies;
    uint64_t *dirty_trials;
    size_t n_dirty_trials, cap_dirty_trials;
    s_attempt_ev_t *new_attempts;
    size_t n_new_attempts, cap_new_attempts;
    s_value_ev_t *new_values;
    size_t n_new_values, cap_new_values;
    char **deleted;
    size_t n_deleted, cap_deleted;
    int workers_dirty;
};

//  Appends one element to a growing array.
#define S_PUSH(arr, n, cap, elem)                                              \
    do {                                                                       \
        if ((n) == (cap)) {                                                    \
            (cap) = (cap) ? (cap) * 2 : 16;                                    \
            (arr) = hpo_realloc ((arr), (cap) * sizeof *(arr));                \
        }                                                                      \
        (arr)[(n)++] = (elem);                                                 \
    } while (0)

hpo_model_t *
hpo_model_new (void)
{
    return hpo_calloc (1, sizeof (hpo_model_t));
}

static void
s_trial_free (hpo_dash_trial_t *t)
{
    for (uint32_t k = 0; k < t->n_attempts; k++) {
        free (t->attempts[k].reason);
        free (t->attempts[k].log_tail);
    }
    free (t->attempts);
    free (t->values);
    free (t->reason);
    free (t);
}

static void
s_study_free (hpo_model_t *self, hpo_dash_study_t *s)
{
    for (size_t k = 0; k < s->n_numbers; k++)
        if (s->trials[k]) {
            s_map_del (&self->trials, s->trials[k]->id);
            s_trial_free (s->trials[k]);
        }
    free (s->trials);
    for (size_t k = 0; k < s->n_metrics; k++)
        free (s->metrics[k]);
    free (s->metrics);
    hpo_spec_destroy (&s->spec);
    free (s->name);
    free (s->spec_text);
    free (s->state);
    free (s->reason);
    free (s);
}

void
hpo_model_destroy (hpo_model_t **self_p)
{
    assert (self_p);
    hpo_model_t *self = *self_p;
    if (!self)
        return;
    for (size_t k = 0; k < self->view.n_studies; k++)
        s_study_free (self, self->view.studies[k]);
    free (self->view.studies);
    free (self->view.workers_json);
    s_map_free (&self->trials);
    for (size_t k = 0; k < self->cap_interned; k++)
        free (self->interned[k]);
    free (self->interned);
    hpo_wire_free (&self->workers);
    free (self->dirty_studies);
    free (self->dirty_trials);
    free (self->new_attempts);
    free (self->new_values);
    for (size_t k = 0; k < self->n_deleted; k++)
        free (self->deleted[k]);
    free (self->deleted);
    free (self);
    *self_p = NULL;
}

uint64_t
hpo_model_skipped (const hpo_model_t *self)
{
    return self->skipped;
}

void
hpo_model_quiet (hpo_model_t *self, int quiet)
{
    self->quiet = quiet;
}

const hpo_dash_view_t *
hpo_model_view (const hpo_model_t *self)
{
    return &self->view;
}

//  ---- interned strings --------------------------------------------------

static size_t
s_str_hash (const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static const char *s_intern (hpo_model_t *self, const char *s);

static void
s_intern_grow (hpo_model_t *self)
{
    char **old = self->interned;
    size_t old_cap = self->cap_interned;
    self->cap_interned = old_cap ? old_cap * 2 : 64;
    self->interned = hpo_calloc (self->cap_interned, sizeof (char *));
    for (size_t k = 0; k < old_cap; k++) {
        if (!old[k])
            continue;
        size_t j = s_str_hash (old[k]) & (self->cap_interned - 1);
        while (self->interned[j])
            j = (j + 1) & (self->cap_interned - 1);
        self->interned[j] = old[k];
    }
    free (old);
}

//  The one stored copy of s (NULL and "" are NULL). Never freed before
//  the model: few distinct names (workers, outcomes) recur endlessly.
static const char *
s_intern (hpo_model_t *self, const char *s)
{
    if (!s || !*s)
        return NULL;
    if ((self->n_interned + 1) * 2 > self->cap_interned)
        s_intern_grow (self);
    size_t mask = self->cap_interned - 1;
    size_t j = s_str_hash (s) & mask;
    while (self->interned[j]) {
        if (strcmp (self->interned[j], s) == 0)
            return self->interned[j];
        j = (j + 1) & mask;
    }
    self->interned[j] = hpo_strdup (s);
    self->n_interned++;
    return self->interned[j];
}

//  ---- studies -----------------------------------------------------------

static hpo_dash_study_t *
s_study_by_id (const hpo_model_t *self, uint64_t id)
{
    //  Studies are in id order (ids only grow), so a binary search.
    size_t lo = 0, hi = self->view.n_studies;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint64_t mid_id = self->view.studies[mid]->id;
        if (mid_id == id)
            return self->view.studies[mid];
        if (mid_id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

hpo_dash_study_t *
hpo_model_study (const hpo_model_t *self, const char *name)
{
    for (size_t k = 0; k < self->view.n_studies; k++)
        if (strcmp (self->view.studies[k]->name, name) == 0)
            return self->view.studies[k];
    return NULL;
}

static void
s_study_dirty (hpo_model_t *self, hpo_dash_study_t *s)
{
    if (self->quiet || s->dirty)
        return;
    s->dirty = 1;
    S_PUSH (self->dirty_studies, self->n_dirty_studies,
            self->cap_dirty_studies, s->id);
}

static void
s_replace (char **field, const char *s)
{
    free (*field);
    *field = s ? hpo_strdup (s) : NULL;
}

static void
s_study_insert (hpo_model_t *self, const hpo_store_study_row_t *row)
{
    if (!row->id || !row->name || s_study_by_id (self, row->id) ||
        hpo_model_study (self, row->name)) {
        self->skipped++;
        return;
    }
    hpo_dash_study_t *s = hpo_calloc (1, sizeof *s);
    s->id = row->id;
    s->name = hpo_strdup (row->name);
    s->spec_text = hpo_strdup (row->spec ? row->spec : "");
    s->state = hpo_strdup ("RUNNING");
    s->created = row->created;
    s->objective = -1;
    char *error = NULL;
    s->spec = hpo_spec_parse (s->spec_text, strlen (s->spec_text), s->name,
                              &error);
    //  A study the coordinator stored parsed there; one that does not
    //  here (a newer coordinator's keys) is shown without its space.
    free (error);
    s->n_params = s->spec ? s->spec->n_params : 0;
    //  Keep id order: a new study's id is the highest.
    size_t at = self->view.n_studies;
    while (at > 0 && self->view.studies[at - 1]->id > s->id)
        at--;
    if (self->view.n_studies == self->cap_studies) {
        self->cap_studies = self->cap_studies ? self->cap_studies * 2 : 16;
        self->view.studies = hpo_realloc (
            self->view.studies, self->cap_studies * sizeof (void *));
    }
    memmove (self->view.studies + at + 1, self->view.studies + at,
             (self->view.n_studies - at) * sizeof (void *));
    self->view.studies[at] = s;
    self->view.n_studies++;
    s_study_dirty (self, s);
}

static void
s_study_change (hpo_model_t *self, const hpo_batch_record_t *rec)
{
    hpo_dash_study_t *s = s_study_by_id (self, rec->id);
    if (!s || !rec->study.state) {
        self->skipped++;
        return;
    }
    s_replace (&s->state, rec->study.state);
    s->ended = rec->study.ended;
    if (rec->kind == HPO_BATCH_STUDY_UPDATE) {
        s_replace (&s->reason, rec->study.reason);
        s->budget = rec->study.budget;
    }
    s_study_dirty (self, s);
}

static void
s_study_delete (hpo_model_t *self, uint64_t id)
{
    hpo_dash_study_t *s = s_study_by_id (self, id);
    if (!s) {
        self->skipped++;
        return;
    }
    size_t at = 0;
    while (self->view.studies[at] != s)
        at++;
    memmove (self->view.studies + at, self->view.studies + at + 1,
             (self->view.n_studies - at - 1) * sizeof (void *));
    self->view.n_studies--;
    if (!self->quiet)
        S_PUSH (self->deleted, self->n_deleted, self->cap_deleted,
                hpo_strdup (s->name));
    s_study_free (self, s);
}

//  The index of metric in s's metrics, added if new.
static uint32_t
s_metric (hpo_dash_study_t *s, const char *metric)
{
    for (size_t k = s->n_metrics; k > 0; k--)
        if (strcmp (s->metrics[k - 1], metric) == 0)
            return (uint32_t)(k - 1);
    S_PUSH (s->metrics, s->n_metrics, s->cap_metrics, hpo_strdup (metric));
    if (s->spec && strcmp (metric, s->spec->metric) == 0)
        s->objective = (int)(s->n_metrics - 1);
    return (uint32_t)(s->n_metrics - 1);
}

//  ---- trials ------------------------------------------------------------

static int
s_state_index (const char *state)
{
    for (int k = 0; state && k < HPO_DASH_STATES; k++)
        if (strcmp (state, hpo_dash_states[k]) == 0)
            return k;
    return -1;
}

//  The trial's parameters from the row's JSON object, typed by the
//  study's space; what is absent, or not of a kind the parameter takes,
//  is null.
static void
s_params_load (const hpo_dash_study_t *s, hpo_dash_trial_t *t,
               const char *text)
{
    memset (t->params, 0, s->n_params * sizeof (hpo_dash_pval_t));
    if (!s->n_params || !text)
        return;
    json_t *obj = json_loads (text, 0, NULL);
    if (!json_is_object (obj)) {
        json_decref (obj);
        return;
    }
    for (size_t k = 0; k < s->n_params; k++) {
        const hpo_param_spec_t *p = &s->spec->params[k];
        json_t *j = json_object_get (obj, p->name);
        hpo_dash_pval_t *v = &t->params[k];
        if (json_is_string (j)) {
            hpo_value_t probe = {.kind = HPO_KIND_STR,
                                 .s = (char *)json_string_value (j)};
            int64_t index = hpo_param_value_index (p, &probe);
            if (index >= 0) {
                v->kind = HPO_KIND_STR;
                v->u.cat = index;
            }
        } else if (json_is_integer (j)) {
            v->kind = HPO_KIND_INT;
            v->u.i = json_integer_value (j);
        } else if (json_is_real (j)) {
            v->kind = HPO_KIND_FLOAT;
            v->u.f = json_real_value (j);
        }
    }
    json_decref (obj);
}

static void
s_trial_dirty (hpo_model_t *self, hpo_dash_trial_t *t)
{
    if (self->quiet || t->dirty)
        return;
    t->dirty = 1;
    S_PUSH (self->dirty_trials, self->n_dirty_trials, self->cap_dirty_trials,
            t->id);
}

//  A new trial, placed at its number in its study; NULL if it does not fit.
static hpo_dash_trial_t *
s_trial_new (hpo_model_t *self, const hpo_store_trial_row_t *row)
{
    hpo_dash_study_t *s = s_study_by_id (self, row->study_id);
    if (!s || !row->id || row->number >= S_MAX_NUMBER ||
        (row->number < s->n_numbers && s->trials[row->number]))
        return NULL;
    if (row->number >= s->cap_numbers) {
        size_t cap = s->cap_numbers ? s->cap_numbers : 64;
        while (cap <= row->number)
            cap *= 2;
        s->trials = hpo_realloc (s->trials, cap * sizeof (void *));
        memset (s->trials + s->cap_numbers, 0,
                (cap - s->cap_numbers) * sizeof (void *));
        s->cap_numbers = cap;
    }
    if (row->number >= s->n_numbers)
        s->n_numbers = row->number + 1;
    hpo_dash_trial_t *t = hpo_calloc (
        1, sizeof *t + s->n_params * sizeof (hpo_dash_pval_t));
    t->id = row->id;
    t->number = row->number;
    t->study = s;
    t->state = -1;
    s->trials[row->number] = t;
    s->n_trials++;
    s_map_put (&self->trials, t->id, t);
    return t;
}

static void
s_trial (hpo_model_t *self, const hpo_store_trial_row_t *row)
{
    int state = s_state_index (row->state);
    hpo_dash_trial_t *t = s_map_get (&self->trials, row->id);
    if (state < 0 || (t && (t->study->id != row->study_id ||
                            t->number != row->number))) {
        self->skipped++;
        return;
    }
    if (!t && !(t = s_trial_new (self, row))) {
        self->skipped++;
        return;
    }
    hpo_dash_study_t *s = t->study;
    if (t->state >= 0)
        s->counts[t->state]--;
    s->counts[state]++;
    t->state = state;
    t->attempt = row->attempt;
    t->failures = row->failures;
    t->lost = row->lost;
    t->has_value = row->has_value;
    t->value = row->value;
    t->worker = s_intern (self, row->worker);
    t->started = row->started;
    t->ended = row->ended;
    s_replace (&t->reason, row->reason);
    //  An update (store.h's tap) does not carry the params: keep the
    //  insert's.
    if (row->params)
        s_params_load (s, t, row->params);
    s_trial_dirty (self, t);
    s_study_dirty (self, s);
}

static void
s_attempt (hpo_model_t *self, uint64_t trial_id,
           const hpo_store_attempt_row_t *row)
{
    hpo_dash_trial_t *t = s_map_get (&self->trials, trial_id);
    if (!t || !row->attempt) {
        self->skipped++;
        return;
    }
    //  Kept in attempt order; the same attempt again changes nothing.
    uint32_t at = t->n_attempts;
    while (at > 0 && t->attempts[at - 1].attempt > row->attempt)
        at--;
    if (at > 0 && t->attempts[at - 1].attempt == row->attempt)
        return;
    if (t->n_attempts == t->cap_attempts) {
        t->cap_attempts = t->cap_attempts ? t->cap_attempts * 2 : 2;
        t->attempts =
            hpo_realloc (t->attempts, t->cap_attempts * sizeof *t->attempts);
    }
    memmove (t->attempts + at + 1, t->attempts + at,
             (t->n_attempts - at) * sizeof *t->attempts);
    t->n_attempts++;
    hpo_dash_attempt_t *a = &t->attempts[at];
    a->attempt = row->attempt;
    a->worker = s_intern (self, row->worker);
    a->outcome = s_intern (self, row->outcome);
    a->reason = row->reason ? hpo_strdup (row->reason) : NULL;
    a->log_tail = row->log_tail ? hpo_strdup (row->log_tail) : NULL;
    a->started = row->started;
    a->ended = row->ended;
    if (!self->quiet) {
        s_attempt_ev_t ev = {.trial_id = trial_id, .attempt = row->attempt};
        S_PUSH (self->new_attempts, self->n_new_attempts,
                self->cap_new_attempts, ev);
    }
}

static int
s_value_cmp (int64_t step, uint32_t metric, const hpo_dash_value_t *v)
{
    if (step != v->step)
        return step < v->step ? -1 : 1;
    if (metric != v->metric)
        return metric < v->metric ? -1 : 1;
    return 0;
}

static void
s_value (hpo_model_t *self, uint64_t trial_id, const hpo_batch_record_t *rec)
{
    hpo_dash_trial_t *t = s_map_get (&self->trials, trial_id);
    if (!t || !rec->value.metric) {
        self->skipped++;
        return;
    }
    hpo_dash_value_t v = {.step = rec->value.step,
                          .value = rec->value.value,
                          .attempt = rec->value.attempt,
                          .metric = s_metric (t->study, rec->value.metric)};
    //  Values come mostly in step order: look from the end.
    uint32_t lo = 0, hi = t->n_values;
    if (hi && s_value_cmp (v.step, v.metric, &t->values[hi - 1]) > 0)
        lo = hi;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        int c = s_value_cmp (v.step, v.metric, &t->values[mid]);
        if (c == 0) {
            //  store.h: only a newer attempt replaces a value.
            if (v.attempt <= t->values[mid].attempt)
                return;
            t->values[mid] = v;
            lo = hi = UINT32_MAX;
            break;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (lo != UINT32_MAX) {
        if (t->n_values == t->cap_values) {
            t->cap_values = t->cap_values ? t->cap_values * 2 : 8;
            t->values =
                hpo_realloc (t->values, t->cap_values * sizeof *t->values);
        }
        memmove (t->values + lo + 1, t->values + lo,
                 (t->n_values - lo) * sizeof *t->values);
        t->values[lo] = v;
        t->n_values++;
    }
    if (!self->quiet) {
        s_value_ev_t ev = {.trial_id = trial_id, .v = v};
        S_PUSH (self->new_values, self->n_new_values, self->cap_new_values, ev);
        //  last_step and last_value are the trial's.
        if ((int)v.metric == t->study->objective)
            s_trial_dirty (self, t);
    }
}

static void
s_workers (hpo_model_t *self, const void *blob, size_t size)
{
    hpo_wire_status_t status;
    hpo_env_t *env = blob ? hpo_wire_decode (blob, size, &status) : NULL;
    if (!env || env->body_case != HPO__ENVELOPE__BODY_WORKER_LIST) {
        hpo_wire_free (&env);
        self->skipped++;
        return;
    }
    hpo_wire_free (&self->workers);
    self->workers = env;
    json_t *doc = hpo_json_render_workers (env->worker_list);
    free (self->view.workers_json);
    self->view.workers_json =
        json_dumps (json_object_get (doc, "workers"), JSON_COMPACT |
                                                          JSON_PRESERVE_ORDER);
    json_decref (doc);
    self->view.workers_now = env->worker_list->now;
    self->workers_dirty = !self->quiet;
}

void
hpo_model_apply (hpo_model_t *self, const hpo_batch_t *batch)
{
    size_t n = hpo_batch_size (batch);
    for (size_t k = 0; k < n; k++) {
        hpo_batch_record_t rec;
        hpo_batch_get (batch, k, &rec);
        switch (rec.kind) {
        case HPO_BATCH_STUDY_INSERT:
            s_study_insert (self, &rec.study);
            break;
        case HPO_BATCH_STUDY_STATE:
        case HPO_BATCH_STUDY_UPDATE:
            s_study_change (self, &rec);
            break;
        case HPO_BATCH_STUDY_DELETE:
            s_study_delete (self, rec.id);
            break;
        case HPO_BATCH_TRIAL:
            s_trial (self, &rec.trial);
            break;
        case HPO_BATCH_ATTEMPT:
            s_attempt (self, rec.id, &rec.attempt);
            break;
        case HPO_BATCH_VALUE:
            s_value (self, rec.id, &rec);
            break;
        case HPO_BATCH_WORKERS:
            s_workers (self, rec.blob, rec.size);
            break;
        default:
            self->skipped++;
        }
    }
}

//  ---- derived values ------------------------------------------------------

int
hpo_dash_trial_last (const hpo_dash_trial_t *t, int64_t *step, double *value)
{
    int objective = t->study->objective;
    if (objective < 0)
        return 0;
    for (uint32_t k = t->n_values; k > 0; k--) {
        const hpo_dash_value_t *v = &t->values[k - 1];
        if ((int)v->metric == objective && v->attempt == t->attempt) {
            *step = v->step;
            *value = v->value;
            return 1;
        }
    }
    return 0;
}

const hpo_dash_trial_t *
hpo_dash_study_best (const hpo_dash_study_t *s)
{
    int maximize = s->spec && s->spec->maximize;
    const hpo_dash_trial_t *best = NULL;
    for (size_t k = 0; k < s->n_numbers; k++) {
        const hpo_dash_trial_t *t = s->trials[k];
        if (!t || t->state != 2 || !t->has_value || isnan (t->value))
            continue;
        if (!best || (maximize ? t->value > best->value
                               : t->value < best->value))
            best = t;
    }
    return best;
}

//  ---- events ----------------------------------------------------------------

typedef struct {
    hpo_model_event_fn *fn;
    void *ctx;
    size_t count;
    hpo_jw_t w;
} s_emit_t;

static void
s_emit (s_emit_t *e, const char *type)
{
    e->fn (e->ctx, type, e->w.data, e->w.len);
    e->count++;
    e->w.len = 0;
}

//  Opens an event's object with its trial: {"study": ..., "number": N.
static void
s_event_trial (s_emit_t *e, const hpo_dash_trial_t *t)
{
    hpo_jw_open (&e->w, '{');
    hpo_jw_key (&e->w, "study");
    hpo_jw_str (&e->w, t->study->name);
    hpo_jw_key (&e->w, "number");
    hpo_jw_uint (&e->w, t->number);
}

static void
s_events_studies (hpo_model_t *self, s_emit_t *e, double now)
{
    for (size_t k = 0; k < self->n_deleted; k++) {
        hpo_jw_open (&e->w, '{');
        hpo_jw_key (&e->w, "name");
        hpo_jw_str (&e->w, self->deleted[k]);
        hpo_jw_close (&e->w, '}');
        s_emit (e, "study_deleted");
        free (self->deleted[k]);
    }
    self->n_deleted = 0;
    for (size_t k = 0; k < self->n_dirty_studies; k++) {
        hpo_dash_study_t *s = s_study_by_id (self, self->dirty_studies[k]);
        if (!s)
            continue;
        s->dirty = 0;
        hpo_jw_open (&e->w, '{');
        hpo_jw_key (&e->w, "study");
        hpo_dash_write_study (&e->w, s, now);
        hpo_jw_close (&e->w, '}');
        s_emit (e, "study");
    }
    self->n_dirty_studies = 0;
}

static void
s_events_trials (hpo_model_t *self, s_emit_t *e)
{
    for (size_t k = 0; k < self->n_dirty_trials; k++) {
        hpo_dash_trial_t *t = s_map_get (&self->trials, self->dirty_trials[k]);
        if (!t)
            continue;
        t->dirty = 0;
        hpo_jw_open (&e->w, '{');
        hpo_jw_key (&e->w, "study");
        hpo_jw_str (&e->w, t->study->name);
        hpo_jw_key (&e->w, "trial");
        hpo_dash_write_trial (&e->w, t);
        hpo_jw_close (&e->w, '}');
        s_emit (e, "trial");
    }
    self->n_dirty_trials = 0;
    for (size_t k = 0; k < self->n_new_attempts; k++) {
        const s_attempt_ev_t *ev = &self->new_attempts[k];
        hpo_dash_trial_t *t = s_map_get (&self->trials, ev->trial_id);
        const hpo_dash_attempt_t *a = NULL;
        for (uint32_t j = 0; t && j < t->n_attempts && !a; j++)
            if (t->attempts[j].attempt == ev->attempt)
                a = &t->attempts[j];
        if (!a)
            continue;
        s_event_trial (e, t);
        hpo_dash_write_attempt_keys (&e->w, a, 0);
        hpo_jw_close (&e->w, '}');
        s_emit (e, "attempt");
    }
    self->n_new_attempts = 0;
}

static void
s_events_values (hpo_model_t *self, s_emit_t *e)
{
    for (size_t k = 0; k < self->n_new_values; k++) {
        const s_value_ev_t *ev = &self->new_values[k];
        hpo_dash_trial_t *t = s_map_get (&self->trials, ev->trial_id);
        if (!t || ev->v.metric >= t->study->n_metrics)
            continue;
        s_event_trial (e, t);
        hpo_jw_key (&e->w, "attempt");
        hpo_jw_uint (&e->w, ev->v.attempt);
        hpo_jw_key (&e->w, "step");
        hpo_jw_int (&e->w, ev->v.step);
        hpo_jw_key (&e->w, "metric");
        hpo_jw_str (&e->w, t->study->metrics[ev->v.metric]);
        hpo_jw_key (&e->w, "value");
        hpo_jw_real (&e->w, ev->v.value);
        hpo_jw_close (&e->w, '}');
        s_emit (e, "value");
    }
    self->n_new_values = 0;
}

size_t
hpo_model_events (hpo_model_t *self, double now, hpo_model_event_fn *fn,
                  void *ctx)
{
    s_emit_t e = {.fn = fn, .ctx = ctx};
    hpo_jw_init (&e.w);
    hpo_jw_raw (&e.w, "", 0);
    s_events_studies (self, &e, now);
    s_events_trials (self, &e);
    s_events_values (self, &e);
    if (self->workers_dirty && self->view.workers_json) {
        hpo_jw_open (&e.w, '{');
        hpo_jw_key (&e.w, "now");
        hpo_jw_time (&e.w, self->view.workers_now);
        hpo_jw_key (&e.w, "workers");
        hpo_jw_json (&e.w, self->view.workers_json,
                     strlen (self->view.workers_json));
        hpo_jw_close (&e.w, '}');
        s_emit (&e, "workers");
    }
    self->workers_dirty = 0;
    hpo_jw_free (&e.w);
    return e.count;
}
