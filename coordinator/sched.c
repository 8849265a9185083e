/*  sched.c: studies, trials, workers and leases in memory; the trial state
    machine; leases in a min-heap.                                        */
#include "sched.h"

#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/mem.h"
#include "../common/params.h"

struct _hpo_sched_t {
    hpo_store_t *store;
    uint64_t last_id;  //  highest trial id given out
    int64_t forgot_at; //  last s_forget_workers
    hpo_sched_config_t cfg;
    hpo_sched_events_t events;
    hpo_study_t **studies;
    size_t n_studies, cap_studies;
    size_t next_study;   //  round-robin cursor for dispatch
    hpo_trial_t **by_id; //  trials indexed by store id
    size_t cap_by_id;
    hpo_trial_t **heap; //  lease min-heap on deadline
    size_t n_heap, cap_heap;
    hpo_worker_t **workers; //  every session, live or not
    size_t n_workers, cap_workers;
    zhashx_t *sessions; //  hex routing id -> live worker
};

//  ---- the transition table ----------------------------------------------

static const unsigned char s_legal[HPO_TRIAL_NSTATES][HPO_TRIAL_NSTATES] = {
    //  to: WAITING RUNNING COMPLETE PRUNED FAILED
    [HPO_TRIAL_WAITING] = {0, 1, 0, 0, 1},
    [HPO_TRIAL_RUNNING] = {1, 0, 1, 1, 1},
    [HPO_TRIAL_COMPLETE] = {0, 0, 0, 0, 0},
    [HPO_TRIAL_PRUNED] = {0, 0, 0, 0, 0},
    [HPO_TRIAL_FAILED] = {0, 0, 0, 0, 0},
};

int
hpo_sched_legal (hpo_trial_state_t from, hpo_trial_state_t to)
{
    if (from >= HPO_TRIAL_NSTATES || to >= HPO_TRIAL_NSTATES)
        return 0;
    return s_legal[from][to];
}

const char *
hpo_study_state_str (hpo_study_state_t state)
{
    static const char *names[] = {"RUNNING", "STOPPING", "STOPPED", "FINISHED"};
    return state <= HPO_STUDY_FINISHED ? names[state] : "?";
}

static int
s_study_state_parse (const char *name)
{
    for (int k = 0; k <= HPO_STUDY_FINISHED; k++)
        if (strcmp (name, hpo_study_state_str (k)) == 0)
            return k;
    return -1;
}

//  Writes the trial's row. A new trial's row is first written here, at
//  its first transition (to RUNNING, usually), so handing out a new trial
//  costs one INSERT rather than an INSERT and an UPDATE.
static int
s_persist (hpo_sched_t *self, hpo_trial_t *t)
{
    hpo_store_trial_row_t row = {
        .id = t->id,
        .study_id = t->study->id,
        .number = t->number,
        .state = hpo_trial_state_str (t->state),
        .attempt = t->attempt,
        .failures = t->failures,
        .lost = t->lost,
        .has_value = t->has_value,
        .value = t->value,
        .worker = t->worker_name,
        .started = t->started,
        .ended = t->ended,
        .reason = t->reason,
    };
    if (t->stored)
        return hpo_store_trial_update (self->store, &row);
    char *json =
        hpo_params_dump (t->study->names, t->params, t->study->spec->n_params);
    row.params = json;
    uint64_t id;
    int rc = hpo_store_trial_insert (self->store, &row, &id);
    free (json);
    if (rc == 0)
        t->stored = 1;
    return rc;
}

//  The only place a trial's state changes. Other fields are set by the
//  caller first; this checks the move, keeps the counts and writes the row.
static int
s_transition (hpo_sched_t *self, hpo_trial_t *t, hpo_trial_state_t to)
{
    assert (hpo_sched_legal (t->state, to));
    hpo_study_t *study = t->study;
    study->count[t->state]--;
    study->count[to]++;
    t->state = to;
    return s_persist (self, t);
}

//  ---- lease heap -------------------------------------------------------

static void
s_heap_swap (hpo_sched_t *self, size_t a, size_t b)
{
    hpo_trial_t *t = self->heap[a];
    self->heap[a] = self->heap[b];
    self->heap[b] = t;
    self->heap[a]->heap_index = a;
    self->heap[b]->heap_index = b;
}

static void
s_heap_up (hpo_sched_t *self, size_t k)
{
    while (k > 0) {
        size_t parent = (k - 1) / 2;
        if (self->heap[parent]->deadline <= self->heap[k]->deadline)
            break;
        s_heap_swap (self, parent, k);
        k = parent;
    }
}

static void
s_heap_down (hpo_sched_t *self, size_t k)
{
    for (;;) {
        size_t l = 2 * k + 1, r = l + 1, min = k;
        if (l < self->n_heap &&
            self->heap[l]->deadline < self->heap[min]->deadline)
            min = l;
        if (r < self->n_heap &&
            self->heap[r]->deadline < self->heap[min]->deadline)
            min = r;
        if (min == k)
            break;
        s_heap_swap (self, k, min);
        k = min;
    }
}

static void
s_lease_set (hpo_sched_t *self, hpo_trial_t *t, int64_t deadline)
{
    if (t->heap_index == SIZE_MAX) {
        if (self->n_heap == self->cap_heap) {
            self->cap_heap = self->cap_heap ? self->cap_heap * 2 : 64;
            self->heap =
                hpo_realloc (self->heap, self->cap_heap * sizeof *self->heap);
        }
        t->deadline = deadline;
        t->heap_index = self->n_heap;
        self->heap[self->n_heap++] = t;
        s_heap_up (self, t->heap_index);
        return;
    }
    int64_t old = t->deadline;
    t->deadline = deadline;
    if (deadline < old)
        s_heap_up (self, t->heap_index);
    else
        s_heap_down (self, t->heap_index);
}

static void
s_lease_drop (hpo_sched_t *self, hpo_trial_t *t)
{
    size_t k = t->heap_index;
    if (k == SIZE_MAX)
        return;
    size_t last = --self->n_heap;
    if (k != last) {
        s_heap_swap (self, k, last);
        s_heap_down (self, k);
        s_heap_up (self, k);
    }
    t->heap_index = SIZE_MAX;
}

int64_t
hpo_sched_next_deadline (hpo_sched_t *self)
{
    return self->n_heap ? self->heap[0]->deadline : INT64_MAX;
}

//  ---- waiting queue (a ring; retries go to the front) --------------------

static void
s_wait_push (hpo_study_t *study, uint64_t number, int front)
{
    if (study->wait_len == study->wait_cap) {
        size_t cap = study->wait_cap ? study->wait_cap * 2 : 16;
        uint64_t *ring = hpo_malloc (cap * sizeof *ring);
        for (size_t k = 0; k < study->wait_len; k++)
            ring[k] = study->waiting[(study->wait_head + k) % study->wait_cap];
        free (study->waiting);
        study->waiting = ring;
        study->wait_cap = cap;
        study->wait_head = 0;
    }
    if (front) {
        study->wait_head =
            (study->wait_head + study->wait_cap - 1) % study->wait_cap;
        study->waiting[study->wait_head] = number;
    } else
        study->waiting[(study->wait_head + study->wait_len) % study->wait_cap] =
            number;
    study->wait_len++;
}

static int
s_wait_pop (hpo_study_t *study, uint64_t *number)
{
    if (study->wait_len == 0)
        return -1;
    *number = study->waiting[study->wait_head];
    study->wait_head = (study->wait_head + 1) % study->wait_cap;
    study->wait_len--;
    return 0;
}

//  ---- construction -----------------------------------------------------

static hpo_trial_t *
s_trial_new (hpo_sched_t *self, hpo_study_t *study, uint64_t id,
             uint64_t number)
{
    hpo_trial_t *t = hpo_calloc (1, sizeof *t);
    t->id = id;
    t->number = number;
    t->study = study;
    t->heap_index = SIZE_MAX;
    t->params = hpo_calloc (study->spec->n_params, sizeof (hpo_value_t));
    if (number >= study->cap_trials) {
        size_t cap = study->cap_trials ? study->cap_trials * 2 : 64;
        while (cap <= number)
            cap *= 2;
        study->trials = hpo_realloc (study->trials, cap * sizeof (void *));
        memset (study->trials + study->cap_trials, 0,
                (cap - study->cap_trials) * sizeof (void *));
        study->cap_trials = cap;
    }
    study->trials[number] = t;
    if (number + 1 > study->n_trials)
        study->n_trials = number + 1;
    if (id >= self->cap_by_id) {
        size_t cap = self->cap_by_id ? self->cap_by_id * 2 : 1024;
        while (cap <= id)
            cap *= 2;
        self->by_id = hpo_realloc (self->by_id, cap * sizeof (void *));
        memset (self->by_id + self->cap_by_id, 0,
                (cap - self->cap_by_id) * sizeof (void *));
        self->cap_by_id = cap;
    }
    self->by_id[id] = t;
    return t;
}

static void
s_trial_free (hpo_trial_t *t, size_t n_params)
{
    hpo_values_clear (t->params, n_params);
    free (t->params);
    free (t->worker_name);
    free (t->reason);
    free (t);
}

static hpo_study_t *
s_study_add (hpo_sched_t *self, uint64_t id, const char *name,
             const char *spec_text, hpo_spec_t *spec, double created)
{
    hpo_study_t *study = hpo_calloc (1, sizeof *study);
    study->id = id;
    study->name = hpo_strdup (name);
    study->spec_text = hpo_strdup (spec_text);
    study->spec = spec;
    study->created = created;
    study->budget = spec->trials;
    study->sampler = spec->sampler.ops->new (spec, spec->sampler.config);
    study->names = hpo_calloc (spec->n_params + 1, sizeof (char *));
    for (size_t k = 0; k < spec->n_params; k++)
        study->names[k] = spec->params[k].name;
    if (self->n_studies == self->cap_studies) {
        self->cap_studies = self->cap_studies ? self->cap_studies * 2 : 8;
        self->studies =
            hpo_realloc (self->studies, self->cap_studies * sizeof (void *));
    }
    self->studies[self->n_studies++] = study;
    return study;
}

static void
s_best_update (hpo_study_t *study, hpo_trial_t *t)
{
    //  A value that is not a number never ranks (the server refuses one;
    //  this keeps it so whatever the caller).
    if (t->state != HPO_TRIAL_COMPLETE || !t->has_value || !isfinite (t->value))
        return;
    hpo_trial_t *best = study->best;
    if (!best || (study->spec->maximize ? t->value > best->value
                                        : t->value < best->value))
        study->best = t;
}

static int
s_load_study (void *ctx, const hpo_store_study_row_t *row)
{
    hpo_sched_t *self = ctx;
    char *error = NULL;
    hpo_spec_t *spec =
        hpo_spec_parse (row->spec, strlen (row->spec), row->name, &error);
    if (!spec) {
        //  Only a newer hpo could have stored a spec this one rejects.
        hpo_log_error ("study %s: stored spec no longer parses: %s", row->name,
                       error);
        free (error);
        return -1;
    }
    hpo_study_t *study =
        s_study_add (self, row->id, row->name, row->spec, spec, row->created);
    int state = s_study_state_parse (row->state);
    study->state = state < 0 ? HPO_STUDY_RUNNING : state;
    study->ended = row->ended;
    return 0;
}

static hpo_study_t *
s_study_by_id (hpo_sched_t *self, uint64_t id)
{
    for (size_t k = 0; k < self->n_studies; k++)
        if (self->studies[k]->id == id)
            return self->studies[k];
    return NULL;
}

typedef struct {
    hpo_sched_t *self;
    int64_t now_ms;
} s_load_ctx_t;

static int
s_load_trial (void *ctx_, const hpo_store_trial_row_t *row)
{
    s_load_ctx_t *ctx = ctx_;
    hpo_sched_t *self = ctx->self;
    hpo_study_t *study = s_study_by_id (self, row->study_id);
    int state = hpo_trial_state_parse (row->state ? row->state : "");
    if (!study || state < 0) {
        hpo_log_error ("trial %" PRIu64 ": bad row in store", row->id);
        return -1;
    }
    hpo_trial_t *t = s_trial_new (self, study, row->id, row->number);
    t->stored = 1;
    if (row->id > self->last_id)
        self->last_id = row->id;
    if (hpo_params_load (study->spec, row->params, t->params)) {
        hpo_log_error ("trial %s#%" PRIu64 ": stored params do not parse",
                       study->name, row->number);
        return -1;
    }
    t->state = state;
    t->attempt = row->attempt;
    t->failures = row->failures;
    t->lost = row->lost;
    t->has_value = row->has_value;
    t->value = row->value;
    t->worker_name = row->worker ? hpo_strdup (row->worker) : NULL;
    t->started = row->started;
    t->ended = row->ended;
    t->reason = row->reason ? hpo_strdup (row->reason) : NULL;
    study->count[state]++;
    if (state == HPO_TRIAL_WAITING)
        s_wait_push (study, t->number, 0);
    else if (state == HPO_TRIAL_RUNNING) {
        //  Its worker may still be running it: hold the lease one lease
        //  period for it to say Hello again.
        t->unclaimed = 1;
        s_lease_set (self, t, ctx->now_ms + self->cfg.restart_grace_ms);
    } else if (state == HPO_TRIAL_COMPLETE || state == HPO_TRIAL_PRUNED)
        //  Reports of its last attempt that trail its Finish are still
        //  that attempt's.
        t->finished = t->attempt;
    s_best_update (study, t);
    return 0;
}

static void
s_worker_free (hpo_worker_t *w)
{
    free (w->key);
    free (w->acks);
    free (w->replaced_by);
    free (w->name);
    free (w->host);
    free (w);
}

hpo_sched_t *
hpo_sched_new (hpo_store_t *store, const hpo_sched_config_t *cfg,
               const hpo_sched_events_t *events, int64_t now_ms)
{
    hpo_sched_t *self = hpo_calloc (1, sizeof *self);
    self->store = store;
    self->cfg = *cfg;
    if (self->cfg.restart_grace_ms <= 0)
        self->cfg.restart_grace_ms = self->cfg.lease_ms;
    self->events = *events;
    self->sessions = zhashx_new ();
    s_load_ctx_t ctx = {self, now_ms};
    if (hpo_store_studies (store, s_load_study, self) ||
        hpo_store_trials (store, s_load_trial, &ctx)) {
        hpo_sched_destroy (&self);
        return NULL;
    }
    size_t running = 0;
    for (size_t k = 0; k < self->n_studies; k++)
        running += self->studies[k]->count[HPO_TRIAL_RUNNING];
    if (self->n_studies)
        hpo_log_info ("loaded %zu studies; %zu trials running, held %" PRId64
                      " ms for their workers",
                      self->n_studies, running, self->cfg.restart_grace_ms);
    return self;
}

void
hpo_sched_destroy (hpo_sched_t **self_p)
{
    hpo_sched_t *self = *self_p;
    if (!self)
        return;
    for (size_t k = 0; k < self->n_studies; k++) {
        hpo_study_t *study = self->studies[k];
        for (size_t n = 0; n < study->n_trials; n++)
            if (study->trials[n])
                s_trial_free (study->trials[n], study->spec->n_params);
        free (study->trials);
        free (study->waiting);
        free (study->name);
        free (study->spec_text);
        free (study->names);
        study->spec->sampler.ops->destroy (study->sampler);
        hpo_spec_destroy (&study->spec);
        free (study);
    }
    for (size_t k = 0; k < self->n_workers; k++)
        s_worker_free (self->workers[k]);
    zhashx_destroy (&self->sessions);
    free (self->studies);
    free (self->by_id);
    free (self->heap);
    free (self->workers);
    free (self);
    *self_p = NULL;
}

//  ---- studies ----------------------------------------------------------

hpo_study_t *
hpo_sched_study (hpo_sched_t *self, const char *name)
{
    for (size_t k = 0; k < self->n_studies; k++)
        if (strcmp (self->studies[k]->name, name) == 0)
            return self->studies[k];
    return NULL;
}

size_t
hpo_sched_studies (hpo_sched_t *self, hpo_study_t ***studies)
{
    *studies = self->studies;
    return self->n_studies;
}

hpo_trial_t *
hpo_study_trial (hpo_study_t *study, uint64_t number)
{
    return number < study->n_trials ? study->trials[number] : NULL;
}

hpo_study_t *
hpo_sched_study_create (hpo_sched_t *self, hpo_spec_t **spec_p,
                        const char *spec_text, int *exists, char **error)
{
    hpo_spec_t *spec = *spec_p;
    *exists = 0;
    if (hpo_sched_study (self, spec->name)) {
        *exists = 1;
        *error = hpo_sprintf ("a study named %s already exists", spec->name);
        return NULL;
    }
    double created = hpo_clock_wall ();
    uint64_t id;
    if (hpo_store_study_insert (self->store, spec->name, spec_text, created,
                                &id)) {
        *error = hpo_strdup ("the coordinator could not store the study");
        return NULL;
    }
    *spec_p = NULL;
    hpo_study_t *study =
        s_study_add (self, id, spec->name, spec_text, spec, created);
    hpo_log_info ("study %s: created (%" PRIu64 " trials, parallel %u)",
                  study->name, study->budget, spec->parallel);
    return study;
}

static int
s_study_set_state (hpo_sched_t *self, hpo_study_t *study,
                   hpo_study_state_t state)
{
    study->state = state;
    if (state == HPO_STUDY_STOPPED || state == HPO_STUDY_FINISHED) {
        study->ended = hpo_clock_wall ();
        hpo_log_info ("study %s: %s", study->name, hpo_study_state_str (state));
    }
    return hpo_store_study_state (self->store, study->id,
                                  hpo_study_state_str (state), study->ended);
}

//  After any trial ends: has the study as a whole ended?
static int
s_study_check_end (hpo_sched_t *self, hpo_study_t *study)
{
    if (study->count[HPO_TRIAL_RUNNING] || study->count[HPO_TRIAL_WAITING])
        return 0;
    if (study->state == HPO_STUDY_STOPPING)
        return s_study_set_state (self, study, HPO_STUDY_STOPPED);
    if (study->state == HPO_STUDY_RUNNING && study->n_trials >= study->budget)
        return s_study_set_state (self, study, HPO_STUDY_FINISHED);
    return 0;
}

int
hpo_sched_study_stop (hpo_sched_t *self, hpo_study_t *study)
{
    if (study->state != HPO_STUDY_RUNNING)
        return 0;
    uint64_t number;
    while (s_wait_pop (study, &number) == 0) {
        hpo_trial_t *t = study->trials[number];
        free (t->reason);
        t->reason = hpo_strdup ("study stopped before a retry ran");
        t->ended = hpo_clock_wall ();
        if (s_transition (self, t, HPO_TRIAL_FAILED))
            return -1;
    }
    if (s_study_set_state (self, study, HPO_STUDY_STOPPING))
        return -1;
    hpo_log_info ("study %s: stopping; %" PRIu64 " trials still running",
                  study->name, study->count[HPO_TRIAL_RUNNING]);
    return s_study_check_end (self, study);
}

//  ---- attempts end -----------------------------------------------------

static void
s_release (hpo_sched_t *self, hpo_trial_t *t)
{
    s_lease_drop (self, t);
    if (t->worker) {
        assert (t->worker->held > 0);
        t->worker->held--;
        t->worker = NULL;
    }
}

//  t's attempt ended without a result: run it again (first in line) while
//  spent <= budget and the study still runs, else the trial fails. what
//  names the budget for the log.
static int
s_attempt_again (hpo_sched_t *self, hpo_trial_t *t, const char *reason,
                 uint32_t spent, uint32_t budget, const char *what)
{
    hpo_study_t *study = t->study;
    free (t->reason);
    t->reason = hpo_strdup (reason);
    t->has_step = t->has_last = 0;
    if (spent <= budget && study->state == HPO_STUDY_RUNNING) {
        hpo_log_info ("trial %s#%" PRIu64 " attempt %u: %s; again (%u of %u "
                      "%s used)",
                      study->name, t->number, t->attempt, reason, spent, budget,
                      what);
        if (s_transition (self, t, HPO_TRIAL_WAITING))
            return -1;
        s_wait_push (study, t->number, 1);
        return 0;
    }
    hpo_log_info ("trial %s#%" PRIu64 " attempt %u: %s; FAILED (%u of %u %s "
                  "used)",
                  study->name, t->number, t->attempt, reason, spent, budget,
                  what);
    t->ended = hpo_clock_wall ();
    if (s_transition (self, t, HPO_TRIAL_FAILED))
        return -1;
    return s_study_check_end (self, study);
}

//  The program failed (exit status, signal, timeout, no objective): the
//  trial's retries decide.
static int
s_attempt_failed (hpo_sched_t *self, hpo_trial_t *t, const char *reason)
{
    t->failures++;
    return s_attempt_again (self, t, reason, t->failures,
                            t->study->spec->retries, "retries");
}

//  The worker lost the attempt (it died, went silent, stopped, was
//  replaced, never claimed it): the trial's max_lost decides, and its
//  retries are untouched.
static int
s_attempt_lost (hpo_sched_t *self, hpo_trial_t *t, const char *reason)
{
    t->lost++;
    uint32_t budget = t->study->spec->max_lost;
    if (t->lost <= budget)
        return s_attempt_again (self, t, reason, t->lost, budget,
                                "lost attempts");
    //  The trial fails for its workers, not its program: say so.
    char *why = hpo_sprintf ("%s (%u attempts lost; trial.max_lost is %u)",
                             reason, t->lost, budget);
    int rc = s_attempt_again (self, t, why, t->lost, budget, "lost attempts");
    free (why);
    return rc;
}

//  Forgets workers that are gone and hold nothing, so a cluster whose
//  workers come and go (Slurm jobs, autoscaling) does not grow the list
//  dispatch walks.
static void
s_forget_workers (hpo_sched_t *self, int64_t now_ms)
{
    int64_t forget = self->cfg.forget_ms > 0 ? self->cfg.forget_ms : 600000;
    size_t kept = 0;
    for (size_t k = 0; k < self->n_workers; k++) {
        hpo_worker_t *w = self->workers[k];
        //  A replaced session stays in the session map until forgotten,
        //  so its next message can be told that it was replaced.
        int drop = w->replaced_by ? now_ms - w->last_seen >= forget
                                  : w->gone || now_ms - w->last_seen >= forget;
        if (w->held == 0 && drop) {
            //  A replaced session's routing id may have started a new
            //  session since: remove the map's entry only if it is w's.
            if (zhashx_lookup (self->sessions, w->key) == w)
                zhashx_delete (self->sessions, w->key);
            s_worker_free (w);
        } else
            self->workers[kept++] = w;
    }
    self->n_workers = kept;
}

//  Records the end of t's current attempt.
static int
s_attempt_end (hpo_sched_t *self, hpo_trial_t *t, double ended,
               const char *outcome, const char *reason, const char *log_tail)
{
    hpo_store_attempt_row_t row = {
        .attempt = t->attempt,
        .worker = t->worker_name,
        .started = t->started,
        .ended = ended,
        .outcome = outcome,
        .reason = reason,
        .log_tail = log_tail,
    };
    return hpo_store_attempt_end (self->store, t->id, &row);
}

//  The live session of this worker name, or NULL.
static hpo_worker_t *
s_by_name (hpo_sched_t *self, const char *name)
{
    for (size_t k = 0; name && k < self->n_workers; k++) {
        hpo_worker_t *w = self->workers[k];
        if (!w->gone && strcmp (w->name, name) == 0)
            return w;
    }
    return NULL;
}

//  Why t's lease ran out, truly: a worker is blamed for silence only when
//  it was silent (the coordinator's own stalls are shifted away).
static char *
s_expiry_reason (hpo_sched_t *self, hpo_trial_t *t, int64_t now_ms)
{
    const char *name = t->worker_name ? t->worker_name : "?";
    hpo_worker_t *w = t->worker ? t->worker : s_by_name (self, name);
    int alive = w && hpo_sched_worker_alive (self, w, now_ms);
    if (!t->worker) {
        const char *when = t->unclaimed ? "after the coordinator restarted"
                                        : "after it reconnected";
        if (alive)
            return hpo_sprintf ("not claimed by worker %s %s", name, when);
        return hpo_sprintf ("worker %s did not come back %s", name, when);
    }
    if (alive)
        return hpo_sprintf ("lease expired: worker %s is alive but stopped "
                            "renewing this attempt for %" PRId64 " ms",
                            name, self->cfg.lease_ms);
    return hpo_sprintf ("lease expired: worker %s silent for %" PRId64 " ms",
                        name, now_ms - w->last_seen);
}

//  Ends t's current attempt as LOST and re-runs it if max_lost allows.
static int
s_lose (hpo_sched_t *self, hpo_trial_t *t, const char *reason)
{
    s_release (self, t);
    t->unclaimed = 0;
    return s_attempt_end (self, t, hpo_clock_wall (), "LOST", reason, NULL) ||
           s_attempt_lost (self, t, reason);
}

int
hpo_sched_expire (hpo_sched_t *self, int64_t now_ms)
{
    if (now_ms - self->forgot_at >= 1000) {
        s_forget_workers (self, now_ms);
        self->forgot_at = now_ms;
    }
    while (self->n_heap && self->heap[0]->deadline <= now_ms) {
        hpo_trial_t *t = self->heap[0];
        char *reason = s_expiry_reason (self, t, now_ms);
        int rc = s_lose (self, t, reason);
        free (reason);
        if (rc)
            return -1;
    }
    return 0;
}

void
hpo_sched_shift (hpo_sched_t *self, int64_t delta_ms)
{
    if (delta_ms <= 0)
        return;
    for (size_t k = 0; k < self->n_heap; k++)
        self->heap[k]->deadline += delta_ms;
    for (size_t k = 0; k < self->n_workers; k++)
        self->workers[k]->last_seen += delta_ms;
    self->forgot_at += delta_ms;
    hpo_log_warnx ("the coordinator was away for %" PRId64 " ms (stopped or "
                   "busy): %zu leases extended by as much",
                   delta_ms, self->n_heap);
}

//  ---- workers ----------------------------------------------------------

//  Writes data as hex into out (2 * size + 1 bytes). Runs for every
//  message a worker sends, so no printf.
static void
s_hex_into (const uint8_t *data, size_t size, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t k = 0; k < size; k++) {
        out[2 * k] = digits[data[k] >> 4];
        out[2 * k + 1] = digits[data[k] & 15];
    }
    out[2 * size] = 0;
}

static char *
s_hex (const uint8_t *data, size_t size)
{
    char *hex = hpo_malloc (size * 2 + 1);
    s_hex_into (data, size, hex);
    return hex;
}

hpo_worker_t *
hpo_sched_worker (hpo_sched_t *self, const uint8_t *rid, size_t rid_size)
{
    char key[2 * 256 + 1];
    if (rid_size > 256)
        return NULL;
    s_hex_into (rid, rid_size, key);
    return zhashx_lookup (self->sessions, key);
}

size_t
hpo_sched_workers (hpo_sched_t *self, hpo_worker_t ***workers)
{
    *workers = self->workers;
    return self->n_workers;
}

int
hpo_sched_worker_alive (hpo_sched_t *self, const hpo_worker_t *worker,
                        int64_t now_ms)
{
    return !worker->gone && now_ms - worker->last_seen < self->cfg.lease_ms;
}

//  Is this the worker holding t's current attempt? A trial reloaded after
//  a restart has no session yet: its worker is known by name, and the
//  first session of that name to claim it adopts it.
static int
s_holds (hpo_trial_t *t, hpo_worker_t *worker, uint32_t attempt)
{
    if (t->state != HPO_TRIAL_RUNNING || t->attempt != attempt)
        return 0;
    if (t->worker == worker)
        return 1;
    return t->worker == NULL && t->worker_name &&
           strcmp (t->worker_name, worker->name) == 0;
}

static void
s_adopt (hpo_trial_t *t, hpo_worker_t *worker)
{
    t->unclaimed = 0;
    if (t->worker == worker)
        return;
    assert (t->worker == NULL);
    t->worker = worker;
    worker->held++;
}

//  Of two processes claiming one name, does the newcomer (started_us,
//  incarnation) win over cur? The one started later keeps the name.
static int
s_newcomer_wins (const hpo_worker_t *cur, const hpo_hello_t *h)
{
    if (h->started_us != cur->started_us)
        return h->started_us > cur->started_us;
    return h->incarnation > cur->incarnation;
}

//  Is this Hello from the process that holds cur's name? Workers that do
//  not send an incarnation (0) are taken to be the same process.
static int
s_same_process (const hpo_worker_t *cur, const hpo_hello_t *h)
{
    return h->incarnation == 0 || cur->incarnation == 0 ||
           h->incarnation == cur->incarnation;
}

static hpo_worker_t *
s_session (hpo_sched_t *self, const uint8_t *rid, size_t rid_size)
{
    char *key = s_hex (rid, rid_size);
    hpo_worker_t *w = zhashx_lookup (self->sessions, key);
    if (w && w->replaced_by) {
        //  A replaced session's routing id says Hello again: a new
        //  session (the old object is forgotten in time).
        zhashx_delete (self->sessions, key);
        w = NULL;
    }
    if (w) {
        free (key);
        return w;
    }
    w = hpo_calloc (1, sizeof *w);
    memcpy (w->rid, rid, rid_size);
    w->rid_size = rid_size;
    w->key = key;
    if (self->n_workers == self->cap_workers) {
        self->cap_workers = self->cap_workers ? self->cap_workers * 2 : 16;
        self->workers =
            hpo_realloc (self->workers, self->cap_workers * sizeof (void *));
    }
    self->workers[self->n_workers++] = w;
    zhashx_insert (self->sessions, w->key, w);
    return w;
}

//  Ends an older session of w's name. The same process (it reconnected):
//  its trials wait for this session to claim them, as after a restart.
//  Another process (replaced): it runs none of them, so those the new
//  process does not claim are lost now. Returns -1 on a store error.
static int
s_supersede (hpo_sched_t *self, hpo_worker_t *old, hpo_worker_t *w,
             int replaced, const hpo_lease_t *leases, size_t n)
{
    old->gone = 1;
    if (!replaced)
        zhashx_delete (self->sessions, old->key);
    else
        old->replaced_by = hpo_sprintf (
            "worker name %s is now held by a newer process (host %s, pid "
            "%u)",
            w->name, w->host, w->pid);
    for (size_t h = 0; h < self->n_heap; h++)
        if (self->heap[h]->worker == old) {
            self->heap[h]->worker = NULL;
            old->held--;
        }
    if (!replaced)
        return 0;
    hpo_log_warnx ("worker %s: a newer process (%s pid %u) replaces the one "
                   "on %s pid %u",
                   w->name, w->host, w->pid, old->host, old->pid);
    char *reason = hpo_sprintf ("worker %s was replaced by a newer process "
                                "(%s pid %u)",
                                w->name, w->host, w->pid);
    int rc = 0;
    //  The heap changes as attempts are lost: walk it again each time.
    for (size_t h = 0; h < self->n_heap && rc == 0;) {
        hpo_trial_t *t = self->heap[h];
        int claimed = 0;
        for (size_t k = 0; k < n && !claimed; k++)
            claimed =
                leases[k].trial_id == t->id && leases[k].attempt == t->attempt;
        if (t->worker == NULL && !t->unclaimed && !claimed && t->worker_name &&
            strcmp (t->worker_name, w->name) == 0) {
            rc = s_lose (self, t, reason);
            h = 0;
        } else
            h++;
    }
    free (reason);
    return rc;
}

hpo_worker_t *
hpo_sched_hello (hpo_sched_t *self, const uint8_t *rid, size_t rid_size,
                 const hpo_hello_t *h, hpo_lease_t *refused, size_t *n_refused,
                 hpo_worker_t **winner, int64_t now_ms)
{
    assert (rid_size <= sizeof ((hpo_worker_t *)0)->rid);
    *winner = NULL;
    *n_refused = 0;
    hpo_worker_t *cur = s_by_name (self, h->name);
    int replaced = cur && !s_same_process (cur, h);
    if (replaced && hpo_sched_worker_alive (self, cur, now_ms) &&
        !s_newcomer_wins (cur, h)) {
        hpo_log_warnx ("worker %s: refused a second process (%s pid %u): the "
                       "name is held by the newer one on %s pid %u",
                       h->name, h->host, h->pid, cur->host, cur->pid);
        *winner = cur;
        return NULL;
    }
    hpo_worker_t *w = s_session (self, rid, rid_size);
    if (w == cur)
        cur = NULL; //  the same session says Hello again
    free (w->name);
    free (w->host);
    w->name = hpo_strdup (h->name);
    w->host = hpo_strdup (h->host);
    w->pid = h->pid;
    w->slots = h->slots;
    w->incarnation = h->incarnation;
    w->started_us = h->started_us;
    w->last_seen = now_ms;
    w->last_seen_wall = hpo_clock_wall ();
    w->want = 0;
    //  An older session of the same worker name is over.
    if (cur && s_supersede (self, cur, w, replaced, h->leases, h->n_leases))
        return NULL;
    for (size_t k = 0; k < h->n_leases; k++) {
        hpo_trial_t *t = hpo_sched_trial (self, h->leases[k].trial_id);
        if (t && s_holds (t, w, h->leases[k].attempt)) {
            s_adopt (t, w);
            s_lease_set (self, t, now_ms + self->cfg.lease_ms);
            hpo_log_info ("trial %s#%" PRIu64 " attempt %u: reclaimed by %s",
                          t->study->name, t->number, t->attempt, h->name);
        } else
            refused[(*n_refused)++] = h->leases[k];
    }
    hpo_log_info ("worker %s (%s pid %u): hello, %u slots, %zu leases kept, "
                  "%zu refused",
                  h->name, h->host, h->pid, h->slots, h->n_leases - *n_refused,
                  *n_refused);
    return w;
}

int
hpo_sched_goodbye (hpo_sched_t *self, hpo_worker_t *worker,
                   const hpo_lease_t *leases, size_t n, const char *reason,
                   int64_t now_ms)
{
    worker->leaving = 1;
    worker->want = 0;
    worker->last_seen = now_ms;
    worker->last_seen_wall = hpo_clock_wall ();
    char *why = hpo_sprintf ("worker %s stopped: %s", worker->name,
                             reason && *reason ? reason : "goodbye");
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0; k++) {
        hpo_trial_t *t = hpo_sched_trial (self, leases[k].trial_id);
        if (t && s_holds (t, worker, leases[k].attempt))
            rc = s_lose (self, t, why);
    }
    hpo_log_info ("worker %s (%s pid %u): goodbye (%s); it gets no more work",
                  worker->name, worker->host, worker->pid,
                  reason && *reason ? reason : "no reason given");
    free (why);
    return rc;
}

void
hpo_sched_heartbeat (hpo_sched_t *self, hpo_worker_t *worker,
                     const hpo_lease_t *leases, size_t n, uint32_t free,
                     int64_t now_ms)
{
    worker->last_seen = now_ms;
    worker->last_seen_wall = hpo_clock_wall ();
    //  A worker that said Goodbye takes nothing more, whatever it asks.
    worker->want = worker->leaving ? 0 : free;
    hpo_lease_t killed[HPO_SCHED_MAX_KILLS];
    size_t n_killed = 0;
    for (size_t k = 0; k < n; k++) {
        hpo_trial_t *t = hpo_sched_trial (self, leases[k].trial_id);
        if (t && s_holds (t, worker, leases[k].attempt)) {
            s_adopt (t, worker);
            s_lease_set (self, t, now_ms + self->cfg.lease_ms);
            continue;
        }
        //  One Kill per stale lease, and a bounded number per heartbeat:
        //  a heartbeat listing thousands must not draw thousands of
        //  replies. Those left out are listed again next time.
        size_t seen = 0;
        while (seen < n_killed &&
               !(killed[seen].trial_id == leases[k].trial_id &&
                 killed[seen].attempt == leases[k].attempt))
            seen++;
        if (seen < n_killed)
            continue;
        if (n_killed == HPO_SCHED_MAX_KILLS)
            break;
        killed[n_killed++] = leases[k];
        self->events.kill (self->events.ctx, worker, leases[k].trial_id,
                           leases[k].attempt,
                           "lease is not this worker's current attempt");
    }
}

//  ---- trials -----------------------------------------------------------

hpo_trial_t *
hpo_sched_trial (hpo_sched_t *self, uint64_t trial_id)
{
    return trial_id < self->cap_by_id ? self->by_id[trial_id] : NULL;
}

hpo_sched_rc_t
hpo_sched_report (hpo_sched_t *self, hpo_worker_t *worker, uint64_t trial_id,
                  uint32_t attempt, int has_step, int64_t step,
                  char *const *metrics, const double *values, size_t n,
                  int64_t now_ms)
{
    hpo_trial_t *t = hpo_sched_trial (self, trial_id);
    if (!t)
        return HPO_SCHED_UNKNOWN;
    if (!s_holds (t, worker, attempt)) {
        //  The attempt's Finish overtook this report (the worker sends a
        //  Finish at once, reports as its queue drains): the report is
        //  still that attempt's, and values are idempotent per (trial,
        //  attempt, step, metric). Store it; the trial is not touched.
        if (t->finished == attempt && t->worker_name &&
            strcmp (t->worker_name, worker->name) == 0) {
            worker->last_seen = now_ms;
            for (size_t k = 0; k < n && has_step; k++)
                if (isfinite (values[k]) &&
                    hpo_store_value_put (self->store, t->id, attempt, step,
                                         metrics[k], values[k]))
                    return HPO_SCHED_ERROR;
            return HPO_SCHED_OK;
        }
        return HPO_SCHED_STALE;
    }
    s_adopt (t, worker);
    //  A report proves the worker and this attempt alive as much as a
    //  heartbeat does: both are renewed, so "alive" and "holds its
    //  lease" never disagree.
    worker->last_seen = now_ms;
    s_lease_set (self, t, now_ms + self->cfg.lease_ms);
    const char *objective = t->study->spec->metric;
    for (size_t k = 0; k < n; k++) {
        if (!isfinite (values[k]))
            continue; //  SQLite would store NaN as NULL: never reaches it
        if (has_step && hpo_store_value_put (self->store, t->id, attempt, step,
                                             metrics[k], values[k]))
            return HPO_SCHED_ERROR;
        if (strcmp (metrics[k], objective) == 0) {
            t->has_last = 1;
            t->last_value = values[k];
        }
    }
    if (has_step && (!t->has_step || step >= t->last_step)) {
        t->has_step = 1;
        t->last_step = step;
    }
    return HPO_SCHED_OK;
}

hpo_sched_rc_t
hpo_sched_finish (hpo_sched_t *self, hpo_worker_t *worker, uint64_t trial_id,
                  uint32_t attempt, hpo_finish_t outcome, int has_value,
                  double value, const char *reason, const char *log_tail,
                  int64_t now_ms)
{
    hpo_trial_t *t = hpo_sched_trial (self, trial_id);
    if (!t)
        return HPO_SCHED_UNKNOWN;
    if (!s_holds (t, worker, attempt)) {
        //  The same Finish again (its Ack was lost): already applied.
        //  A Finish for an attempt that was declared lost is stale, even
        //  when no newer attempt has started yet.
        if (t->finished == attempt && t->worker_name &&
            strcmp (t->worker_name, worker->name) == 0)
            return HPO_SCHED_OK;
        return HPO_SCHED_STALE;
    }
    worker->last_seen = now_ms;
    s_release (self, t);
    t->unclaimed = 0;
    t->finished = attempt;
    double now = hpo_clock_wall ();
    hpo_study_t *study = t->study;
    if (has_value && !isfinite (value)) {
        //  The server refuses these; a value that is not a number must
        //  never rank as best, nor reach the store as NULL.
        has_value = 0;
        if (outcome == HPO_FINISH_COMPLETE) {
            outcome = HPO_FINISH_FAILED;
            reason = "the objective's value is not a finite number";
        }
    }
    if (outcome == HPO_FINISH_COMPLETE && !has_value) {
        outcome = HPO_FINISH_FAILED;
        reason = "finished without a value of the objective";
    }
    const char *outcome_name = outcome == HPO_FINISH_COMPLETE ? "COMPLETE"
                               : outcome == HPO_FINISH_PRUNED ? "PRUNED"
                                                              : "FAILED";
    if (s_attempt_end (self, t, now, outcome_name, reason, log_tail))
        return HPO_SCHED_ERROR;
    int rc;
    if (outcome == HPO_FINISH_FAILED)
        rc = s_attempt_failed (self, t,
                               reason && *reason ? reason : "attempt failed");
    else {
        t->ended = now;
        t->has_value = has_value;
        t->value = value;
        free (t->reason);
        t->reason = NULL;
        rc = s_transition (self, t,
                           outcome == HPO_FINISH_COMPLETE ? HPO_TRIAL_COMPLETE
                                                          : HPO_TRIAL_PRUNED);
        s_best_update (study, t);
        hpo_log_debug ("trial %s#%" PRIu64 " attempt %u: %s value %g on %s",
                       study->name, t->number, attempt, outcome_name, value,
                       worker->name);
        if (rc == 0)
            rc = s_study_check_end (self, study);
    }
    return rc ? HPO_SCHED_ERROR : HPO_SCHED_OK;
}

//  ---- dispatch ---------------------------------------------------------

//  The next trial this study can hand out, creating it if the budget
//  allows; NULL if none (or on a store error, with *err set).
static hpo_trial_t *
s_next_trial (hpo_sched_t *self, hpo_study_t *study, int *err)
{
    if (study->state != HPO_STUDY_RUNNING)
        return NULL;
    if (study->spec->parallel &&
        study->count[HPO_TRIAL_RUNNING] >= study->spec->parallel)
        return NULL;
    uint64_t number;
    if (s_wait_pop (study, &number) == 0)
        return study->trials[number];
    if (study->n_trials >= study->budget)
        return NULL;
    number = study->n_trials;
    const hpo_spec_t *spec = study->spec;
    hpo_value_t *params = hpo_calloc (spec->n_params, sizeof *params);
    //  No history yet: random and grid never read it.
    hpo_history_t history = {.n_params = spec->n_params};
    if (spec->sampler.ops->suggest (study->sampler, spec, &history, number,
                                    params)) {
        //  The grid ran out before the budget: that is the study's end.
        free (params);
        study->budget = study->n_trials;
        return NULL;
    }
    //  Ids are ours to give (the store keeps them): the row is written
    //  at the trial's first transition.
    uint64_t id = ++self->last_id;
    hpo_trial_t *t = s_trial_new (self, study, id, number);
    free (t->params);
    t->params = params;
    study->count[HPO_TRIAL_WAITING]++;
    return t;
}

static int
s_assign (hpo_sched_t *self, hpo_trial_t *t, hpo_worker_t *w, int64_t now_ms)
{
    t->attempt++;
    t->worker = w;
    free (t->worker_name);
    t->worker_name = hpo_strdup (w->name);
    t->started = hpo_clock_wall ();
    t->has_step = t->has_last = 0;
    w->held++;
    w->want--;
    s_lease_set (self, t, now_ms + self->cfg.lease_ms);
    if (s_transition (self, t, HPO_TRIAL_RUNNING))
        return -1;
    self->events.assign (self->events.ctx, w, t);
    return 0;
}

int
hpo_sched_dispatch (hpo_sched_t *self, int64_t now_ms)
{
    if (self->n_studies == 0)
        return 0;
    for (size_t k = 0; k < self->n_workers; k++) {
        hpo_worker_t *w = self->workers[k];
        //  A worker silent for a lease period gets nothing more: what
        //  it holds is about to expire too.
        if (!hpo_sched_worker_alive (self, w, now_ms) || w->leaving)
            continue;
        while (w->want > 0 && w->held < w->slots) {
            //  Round-robin over studies so that one large study does not
            //  starve the others.
            hpo_trial_t *t = NULL;
            int err = 0;
            for (size_t s = 0; s < self->n_studies && !t && !err; s++) {
                hpo_study_t *study =
                    self->studies[(self->next_study + s) % self->n_studies];
                t = s_next_trial (self, study, &err);
            }
            if (err)
                return -1;
            if (!t)
                return 0; //  nothing to hand out to anyone
            self->next_study = (self->next_study + 1) % self->n_studies;
            if (s_assign (self, t, w, now_ms))
                return -1;
        }
    }
    return 0;
}
