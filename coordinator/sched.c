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
#include "../search/space.h"

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

//  Actions, run in this order by s_actions_before and s_actions_after
//  around the state change. Every row also changes the state, counts the
//  trial into it and writes its row (s_transition): that is no flag.
enum {
    A_SPEND = 1 << 0,       //  spend one of the event's budget
    A_KILL = 1 << 1,        //  tell the attempt's worker to kill it
    A_RELEASE = 1 << 2,     //  drop the lease and the worker's hold on it
    A_RESULT = 1 << 3,      //  the event's value is the trial's; no reason
    A_REASON = 1 << 4,      //  the event's reason is the trial's
    A_FINISHED = 1 << 5,    //  the worker knows this attempt ended
    A_END_ATTEMPT = 1 << 6, //  write the attempt's row (row's outcome)
    A_LEASE = 1 << 7,       //  a new attempt, leased to event->worker
    A_RESET = 1 << 8,       //  the budgets start afresh
    A_REQUEUE = 1 << 9,     //  wait again, first in line
    A_BEST = 1 << 10,       //  may be the study's best now
    A_REOPEN = 1 << 11,     //  the study runs again
    A_PENDING = 1 << 12,    //  tell the sampler it started
    A_TELL = 1 << 13,       //  tell the sampler it ended
    A_SEND = 1 << 14,       //  send the assignment, once the row is written
    A_FAIL_CHECK = 1 << 15, //  has the study failed (fail fast)?
    A_CHECK_END = 1 << 16,  //  has the study ended?
};

//  Which rows apply, for events that spend a budget: LEFT while the
//  event's budget has room and the study runs, SPENT otherwise; FOREVER
//  for a failure the worker calls permanent, which no retry can change.
typedef enum { S_ANY = 0, S_LEFT, S_SPENT, S_FOREVER } s_guard_t;
//  The budget an event spends.
typedef enum { S_NONE = 0, S_RETRIES, S_LOST } s_budget_t;

typedef struct {
    const char *name;
    s_budget_t budget;
    const char *reason; //  the trial's reason when the event gives none
} s_event_info_t;

static const s_event_info_t s_events[HPO_SCHED_NEVENTS] = {
    [HPO_SCHED_ASSIGN] = {"ASSIGN", S_NONE, NULL},
    [HPO_SCHED_COMPLETE] = {"COMPLETE", S_NONE, NULL},
    [HPO_SCHED_PRUNED] = {"PRUNED", S_NONE, NULL},
    [HPO_SCHED_FAIL] = {"FAIL", S_RETRIES, "attempt failed"},
    [HPO_SCHED_LOSE] = {"LOSE", S_LOST, "attempt lost"},
    [HPO_SCHED_PRUNE] = {"PRUNE", S_NONE, "pruned"},
    [HPO_SCHED_STOP_NOW] = {"STOP_NOW", S_NONE, "stopped"},
    [HPO_SCHED_RETRY] = {"RETRY", S_NONE, NULL},
    [HPO_SCHED_STUDY_STOP] = {"STUDY_STOP", S_NONE,
                              "study stopped before a retry ran"},
};

typedef struct {
    hpo_trial_state_t from;
    hpo_sched_ev_t event;
    s_guard_t guard;
    hpo_trial_state_t to;
    const char *outcome; //  the ended attempt's (A_END_ATTEMPT)
    unsigned actions;
} s_row_t;

#define W HPO_TRIAL_WAITING
#define R HPO_TRIAL_RUNNING
#define C HPO_TRIAL_COMPLETE
#define P HPO_TRIAL_PRUNED
#define F HPO_TRIAL_FAILED
#define E(event) HPO_SCHED_##event
//  An attempt ends and its worker knows it: the lease goes, the attempt's
//  row is written, its late reports and a repeated Finish are answered OK.
#define ENDS (A_RELEASE | A_END_ATTEMPT | A_FINISHED)
//  An attempt ends without its worker: a Finish for it is stale.
#define LOSES (A_RELEASE | A_END_ATTEMPT)
// clang-format off
static const s_row_t s_table[] = {
    //  from  event           guard    to  the ended attempt's outcome
    //        actions
    {W, E (ASSIGN),     S_ANY,   R, NULL,
        A_LEASE | A_PENDING | A_SEND},
    {R, E (COMPLETE),   S_ANY,   C, "COMPLETE",
        ENDS | A_RESULT | A_BEST | A_TELL | A_CHECK_END},
    {R, E (PRUNED),     S_ANY,   P, "PRUNED",
        ENDS | A_RESULT | A_TELL | A_CHECK_END},
    {R, E (FAIL),       S_LEFT,  W, "FAILED",
        ENDS | A_SPEND | A_REASON | A_REQUEUE},
    {R, E (FAIL),       S_SPENT, F, "FAILED",
        ENDS | A_SPEND | A_REASON | A_TELL | A_FAIL_CHECK | A_CHECK_END},
    {R, E (FAIL),       S_FOREVER, F, "FAILED",
        ENDS | A_REASON | A_TELL | A_FAIL_CHECK | A_CHECK_END},
    {R, E (LOSE),       S_LEFT,  W, "LOST",
        LOSES | A_SPEND | A_REASON | A_REQUEUE},
    {R, E (LOSE),       S_SPENT, F, "LOST",
        LOSES | A_SPEND | A_REASON | A_TELL | A_FAIL_CHECK | A_CHECK_END},
    {R, E (PRUNE),      S_ANY,   P, "PRUNED",
        A_KILL | ENDS | A_RESULT | A_REASON | A_TELL | A_CHECK_END},
    {R, E (STOP_NOW),   S_ANY,   F, "FAILED",
        A_KILL | ENDS | A_REASON | A_TELL | A_CHECK_END},
    {F, E (RETRY),      S_ANY,   W, NULL,
        A_RESET | A_REQUEUE | A_REOPEN},
    {W, E (STUDY_STOP), S_ANY,   F, NULL,
        A_REASON | A_TELL | A_CHECK_END},
};
// clang-format on
#undef LOSES
#undef ENDS
#undef E
#undef W
#undef R
#undef C
#undef P
#undef F
#define S_NROWS (sizeof s_table / sizeof *s_table)

int
hpo_sched_legal (hpo_trial_state_t from, hpo_trial_state_t to)
{
    for (size_t k = 0; k < S_NROWS; k++)
        if (s_table[k].from == from && s_table[k].to == to)
            return 1;
    return 0;
}

const char *
hpo_sched_ev_str (hpo_sched_ev_t type)
{
    return type < HPO_SCHED_NEVENTS ? s_events[type].name : "?";
}

static int
s_final (hpo_trial_state_t state)
{
    return state == HPO_TRIAL_COMPLETE || state == HPO_TRIAL_PRUNED ||
           state == HPO_TRIAL_FAILED;
}

const char *
hpo_study_state_str (hpo_study_state_t state)
{
    static const char *names[] = {"RUNNING",  "STOPPING", "STOPPED",
                                  "FINISHED", "FAILING",  "FAILED"};
    return state <= HPO_STUDY_FAILED ? names[state] : "?";
}

static int
s_study_state_parse (const char *name)
{
    for (int k = 0; k <= HPO_STUDY_FAILED; k++)
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

//  Gives t its row in its study's history: t->number must be the next
//  row, as trials are created, and loaded (in id order), in number
//  order. -1 if it is not.
static int
s_history_add (hpo_trial_t *t)
{
    hpo_history_t *history = t->study->history;
    if (t->number != history->n)
        return -1;
    hpo_history_append (history, t->params);
    return 0;
}

//  Counts t into state: the one place a study's per-state counts grow,
//  and its history's row takes the trial's state and value, for a trial
//  loaded from the store, a trial created, and every transition.
static void
s_count (hpo_trial_t *t, hpo_trial_state_t state)
{
    hpo_study_t *study = t->study;
    t->state = state;
    study->count[state]++;
    if (s_final (state)) {
        t->duration =
            t->ended > t->started && t->started > 0 ? t->ended - t->started : 0;
        study->duration_sum += t->duration;
        study->duration_n++;
    }
    if (state == HPO_TRIAL_FAILED &&
        (!study->last_failed || t->ended >= study->last_failed->ended))
        study->last_failed = t;
    hpo_history_set_state (study->history, t->number, state);
    hpo_history_set_value (study->history, t->number,
                           t->has_value ? t->value : NAN);
}

//  The trial other than t that ended FAILED last, or NULL: a scan, but
//  only when the last failed trial leaves FAILED (a person retries it).
static hpo_trial_t *
s_last_failed (hpo_study_t *study, const hpo_trial_t *t)
{
    hpo_trial_t *last = NULL;
    for (size_t k = 0; k < study->n_trials; k++) {
        hpo_trial_t *u = study->trials[k];
        if (u && u != t && u->state == HPO_TRIAL_FAILED &&
            (!last || u->ended >= last->ended))
            last = u;
    }
    return last;
}

//  The only place a counted trial's state changes (hpo_sched_apply is
//  its only caller): counts it out of its state and into the next, and
//  writes its row.
static int
s_transition (hpo_sched_t *self, hpo_trial_t *t, hpo_trial_state_t to)
{
    hpo_study_t *study = t->study;
    study->count[t->state]--;
    if (s_final (t->state)) {
        study->duration_sum -= t->duration;
        study->duration_n--;
    }
    if (t == study->last_failed)
        study->last_failed = s_last_failed (study, t);
    s_count (t, to);
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
    study->suggest = hpo_suggest_new (spec);
    study->pruner = spec->pruner.ops->new (spec, spec->pruner.config);
    study->history = hpo_history_new (spec->n_params);
    study->curves = self->cfg.curves || spec->sampler.ops->needs_curves ||
                    spec->pruner.ops->needs_curves ||
                    spec->value != HPO_SPEC_VALUE_LAST;
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
s_study_free (hpo_study_t *study)
{
    for (size_t n = 0; n < study->n_trials; n++)
        if (study->trials[n])
            s_trial_free (study->trials[n], study->spec->n_params);
    free (study->trials);
    free (study->waiting);
    free (study->name);
    free (study->reason);
    free (study->spec_text);
    free (study->names);
    hpo_suggest_destroy (&study->suggest);
    study->spec->pruner.ops->destroy (study->pruner);
    hpo_history_destroy (&study->history);
    hpo_spec_destroy (&study->spec);
    free (study);
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
    if (row->budget) //  0: never extended, the spec's
        study->budget = row->budget;
    study->reason = row->reason ? hpo_strdup (row->reason) : NULL;
    study->fail_base = row->fail_base;
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
        hpo_log_error (HPO_LOG_TRIAL ": stored params do not parse",
                       study->name, row->number, row->attempt);
        return -1;
    }
    t->attempt = row->attempt;
    t->failures = row->failures;
    t->lost = row->lost;
    t->has_value = row->has_value;
    t->value = row->value;
    t->worker_name = row->worker ? hpo_strdup (row->worker) : NULL;
    t->started = row->started;
    t->ended = row->ended;
    t->reason = row->reason ? hpo_strdup (row->reason) : NULL;
    if (s_history_add (t)) {
        hpo_log_error (HPO_LOG_TRIAL ": stored out of order", study->name,
                       row->number, row->attempt);
        return -1;
    }
    s_count (t, state);
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

//  The objective's value at step of t's attempt: joins t's curve (where
//  curves are kept) if step is above the attempt's last, so each step
//  counts once and a curve is increasing in step. Returns whether it
//  was new. (A resent report repeats a step; a report of an earlier
//  step than one already seen is stored but does not join the curve.)
static int
s_point (hpo_trial_t *t, int64_t step, double value)
{
    if (t->has_point && step <= t->point_step)
        return 0;
    t->has_point = 1;
    t->point_step = step;
    if (t->study->curves)
        hpo_history_add_point (t->study->history, t->number, step, value);
    return 1;
}

static int
s_load_point (void *ctx, uint64_t number, int64_t step, double value)
{
    hpo_trial_t *t = hpo_study_trial (ctx, number);
    if (t)
        s_point (t, step, value);
    return 0;
}

//  After loading a study's trials: the curves of their latest attempts
//  where they are kept, and its sampler told what it would have been
//  told had it run all along. -1 on a store error.
static int
s_history_load (hpo_sched_t *self, hpo_study_t *study)
{
    if (study->curves &&
        hpo_store_curves (self->store, study->id, study->spec->metric,
                          s_load_point, study))
        return -1;
    for (size_t k = 0; k < study->n_trials; k++) {
        hpo_trial_state_t state = study->trials[k]->state;
        if (s_final (state))
            hpo_suggest_tell (study->suggest, study->history, k);
        else if (state == HPO_TRIAL_RUNNING)
            hpo_suggest_pending (study->suggest, study->history, k);
    }
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
    int rc = hpo_store_studies (store, s_load_study, self) ||
             hpo_store_trials (store, s_load_trial, &ctx);
    for (size_t k = 0; k < self->n_studies && rc == 0; k++)
        rc = s_history_load (self, self->studies[k]);
    if (rc) {
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
    for (size_t k = 0; k < self->n_studies; k++)
        s_study_free (self->studies[k]);
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

//  ---- study states ------------------------------------------------------

typedef enum {
    S_STUDY_STOP,        //  a person stops it
    S_STUDY_FAIL,        //  fail fast, or budget.max_failed reached
    S_STUDY_DRAINED,     //  nothing waits or runs; trials remain to create
    S_STUDY_BUDGET_USED, //  nothing waits or runs, and none remain
    S_STUDY_RESUME,      //  it runs again (resumed, extended, a retry)
} s_study_ev_t;

#define RUN HPO_STUDY_RUNNING
#define STOPPING HPO_STUDY_STOPPING
#define STOPPED HPO_STUDY_STOPPED
#define FINISHED HPO_STUDY_FINISHED
#define FAILING HPO_STUDY_FAILING
#define FAILED HPO_STUDY_FAILED
static const struct {
    hpo_study_state_t from;
    s_study_ev_t event;
    hpo_study_state_t to;
} s_study_table[] = {
    {RUN, S_STUDY_STOP, STOPPING},
    {RUN, S_STUDY_FAIL, FAILING},
    {RUN, S_STUDY_BUDGET_USED, FINISHED},
    {STOPPING, S_STUDY_DRAINED, STOPPED},
    {STOPPING, S_STUDY_BUDGET_USED, STOPPED},
    {FAILING, S_STUDY_DRAINED, FAILED},
    {FAILING, S_STUDY_BUDGET_USED, FAILED},
    {STOPPING, S_STUDY_RESUME, RUN},
    {STOPPED, S_STUDY_RESUME, RUN},
    {FINISHED, S_STUDY_RESUME, RUN},
    {FAILING, S_STUDY_RESUME, RUN},
    {FAILED, S_STUDY_RESUME, RUN},
};
#undef RUN
#undef STOPPING
#undef STOPPED
#undef FINISHED
#undef FAILING
#undef FAILED

static int
s_study_ended (hpo_study_state_t state)
{
    return state == HPO_STUDY_STOPPED || state == HPO_STUDY_FINISHED ||
           state == HPO_STUDY_FAILED;
}

//  Writes the study's row: state, end, reason, budget, fail base.
static int
s_study_persist (hpo_sched_t *self, hpo_study_t *study)
{
    hpo_store_study_row_t row = {
        .id = study->id,
        .state = hpo_study_state_str (study->state),
        .ended = study->ended,
        .reason = study->reason,
        .budget = study->budget,
        .fail_base = study->fail_base,
    };
    return hpo_store_study_update (self->store, &row);
}

//  The one place a study's state changes. An event without a row
//  changes nothing: a stop of a study that is not running, a study
//  drained while trials remain to be created. A study that runs again
//  has no reason to have failed, and fail fast counts from now. -1 on a
//  store error.
static int
s_study_apply (hpo_sched_t *self, hpo_study_t *study, s_study_ev_t event)
{
    size_t n = sizeof s_study_table / sizeof *s_study_table;
    for (size_t k = 0; k < n; k++) {
        if (s_study_table[k].from != study->state ||
            s_study_table[k].event != event)
            continue;
        hpo_study_state_t to = s_study_table[k].to;
        study->state = to;
        study->ended = s_study_ended (to) ? hpo_clock_wall () : 0;
        if (to == HPO_STUDY_RUNNING) {
            free (study->reason);
            study->reason = NULL;
            study->fail_base = study->count[HPO_TRIAL_FAILED];
        }
        //  hpo_sched_study_stop and s_study_fail say more
        if (to != HPO_STUDY_STOPPING && to != HPO_STUDY_FAILING)
            hpo_log_info ("study %s: %s", study->name,
                          hpo_study_state_str (to));
        return s_study_persist (self, study);
    }
    return 0;
}

//  After any trial ends: has the study as a whole ended?
static int
s_study_check_end (hpo_sched_t *self, hpo_study_t *study)
{
    if (study->count[HPO_TRIAL_RUNNING] || study->count[HPO_TRIAL_WAITING])
        return 0;
    return s_study_apply (self, study,
                          study->n_trials >= study->budget ? S_STUDY_BUDGET_USED
                                                           : S_STUDY_DRAINED);
}

//  ---- applying the table ------------------------------------------------

//  Attempts that spent the budget so far.
static uint32_t
s_spent (const hpo_trial_t *t, s_budget_t budget)
{
    return budget == S_RETRIES ? t->failures : t->lost;
}

static uint32_t
s_limit (const hpo_trial_t *t, s_budget_t budget)
{
    return budget == S_RETRIES ? t->study->spec->retries
                               : t->study->spec->max_lost;
}

//  Whether the event's budget has room for one more attempt after this
//  one, in a study that still hands out trials; a permanent failure
//  spends nothing, for no retry would change it.
static s_guard_t
s_guard (const hpo_trial_t *t, const hpo_sched_event_t *ev)
{
    s_budget_t budget = s_events[ev->type].budget;
    if (budget == S_NONE)
        return S_ANY;
    if (ev->type == HPO_SCHED_FAIL && ev->permanent)
        return S_FOREVER;
    if (s_spent (t, budget) + 1 <= s_limit (t, budget) &&
        t->study->state == HPO_STUDY_RUNNING)
        return S_LEFT;
    return S_SPENT;
}

static const s_row_t *
s_row (const hpo_trial_t *t, const hpo_sched_event_t *ev)
{
    if (ev->type >= HPO_SCHED_NEVENTS)
        return NULL;
    s_guard_t guard = s_guard (t, ev);
    for (size_t k = 0; k < S_NROWS; k++)
        if (s_table[k].from == t->state && s_table[k].event == ev->type &&
            s_table[k].guard == guard)
            return &s_table[k];
    return NULL;
}

//  The trial's reason after this event: the event's, or its default. A
//  trial failed by spending max_lost fails for its workers, not its
//  program: the reason says so.
static char *
s_reason (const hpo_trial_t *t, const hpo_sched_event_t *ev)
{
    const char *why =
        ev->reason && *ev->reason ? ev->reason : s_events[ev->type].reason;
    uint32_t max_lost = t->study->spec->max_lost;
    if (ev->type == HPO_SCHED_LOSE && t->lost > max_lost)
        return hpo_sprintf ("%s (%u attempts lost; trial.max_lost is %u)", why,
                            t->lost, max_lost);
    return why ? hpo_strdup (why) : NULL;
}

static void
s_release (hpo_sched_t *self, hpo_trial_t *t)
{
    s_lease_drop (self, t);
    t->unclaimed = 0;
    if (t->worker) {
        assert (t->worker->held > 0);
        t->worker->held--;
        t->worker = NULL;
    }
}

//  A new attempt of t, leased to w from now_ms.
static void
s_lease (hpo_sched_t *self, hpo_trial_t *t, hpo_worker_t *w, int64_t now_ms)
{
    assert (w);
    t->attempt++;
    t->worker = w;
    free (t->worker_name);
    t->worker_name = hpo_strdup (w->name);
    t->started = hpo_clock_wall ();
    t->has_step = t->has_last = t->has_point = 0;
    hpo_history_clear_curve (t->study->history, t->number);
    t->unclaimed = 0;
    w->held++;
    if (w->want)
        w->want--;
    s_lease_set (self, t, now_ms + self->cfg.lease_ms);
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

//  The trial's value by objective.value: the attempt's final value, or
//  the best (min, max) of it and the attempt's intermediate values of
//  the objective, its curve (kept for such a study). The stored value
//  is the chosen one, so a restarted coordinator reads it back as is.
static double
s_value_counts (const hpo_trial_t *t, double final)
{
    const hpo_spec_t *spec = t->study->spec;
    hpo_spec_value_t mode = spec->value;
    if (mode == HPO_SPEC_VALUE_LAST)
        return final;
    int max = mode == HPO_SPEC_VALUE_MAX ||
              (mode == HPO_SPEC_VALUE_BEST && spec->maximize);
    const hpo_curve_t *c = &t->study->history->curves[t->number];
    double v = final;
    for (size_t k = 0; k < c->n; k++)
        if (max ? c->values[k] > v : c->values[k] < v)
            v = c->values[k];
    return v;
}

//  The row's actions that come before the state changes, in the order
//  the table's header lists them. -1 on a store error.
static int
s_actions_before (hpo_sched_t *self, hpo_trial_t *t, const s_row_t *row,
                  const hpo_sched_event_t *ev)
{
    unsigned a = row->actions;
    double now = hpo_clock_wall ();
    if (a & A_SPEND) {
        if (s_events[ev->type].budget == S_RETRIES)
            t->failures++;
        else
            t->lost++;
    }
    char *reason = a & A_REASON ? s_reason (t, ev) : NULL;
    if (a & A_KILL && t->worker)
        self->events.kill (self->events.ctx, t->worker, t->id, t->attempt,
                           reason ? reason : s_events[ev->type].name);
    if (a & A_RELEASE)
        s_release (self, t);
    if (a & (A_RESULT | A_REASON)) {
        free (t->reason);
        t->reason = reason;
    }
    if (a & A_RESULT) {
        t->has_value = ev->has_value;
        t->value = ev->has_value ? s_value_counts (t, ev->value) : ev->value;
    }
    if (a & A_FINISHED)
        t->finished = t->attempt;
    t->ended = s_final (row->to) ? now : 0;
    if (a & A_END_ATTEMPT &&
        s_attempt_end (self, t, now, row->outcome, ev->reason, ev->log_tail))
        return -1;
    if (a & A_LEASE)
        s_lease (self, t, ev->worker, ev->now_ms);
    if (a & A_RESET)
        t->failures = t->lost = 0;
    if (a & A_REQUEUE)
        t->has_step = t->has_last = 0;
    return 0;
}

//  What became of the trial, for its log line: "again (trial.retries: 1
//  of 2 used)", "FAILED (trial.retries is 0)", or the state's name.
static void
s_outcome_text (const hpo_trial_t *t, const s_row_t *row, char *out,
                size_t size)
{
    s_budget_t budget = s_events[row->event].budget;
    const char *state = hpo_trial_state_str (row->to);
    if (budget == S_NONE) {
        snprintf (out, size, "%s", state);
        return;
    }
    const char *what = budget == S_RETRIES ? "retries" : "max_lost";
    uint32_t spent = s_spent (t, budget);
    uint32_t limit = s_limit (t, budget);
    if (row->guard == S_FOREVER)
        snprintf (out, size, "%s (permanent: not retried)", state);
    else if (row->guard == S_LEFT)
        snprintf (out, size, "again (trial.%s: %u of %u used)", what, spent,
                  limit);
    else if (spent <= limit)
        snprintf (out, size, "%s (the study is %s: no retry)", state,
                  hpo_study_state_str (t->study->state));
    else if (limit == 0)
        snprintf (out, size, "%s (trial.%s is 0)", state, what);
    else
        snprintf (out, size, "%s (trial.%s: all %u used)", state, what, limit);
}

static void
s_log_row (const hpo_trial_t *t, const s_row_t *row, uint32_t attempt)
{
    const char *study = t->study->name;
    char outcome[96];
    switch (row->event) {
    case HPO_SCHED_ASSIGN:
        return; //  the assignment itself is the record; a hot path
    case HPO_SCHED_COMPLETE:
    case HPO_SCHED_PRUNED:
        hpo_log_debug (HPO_LOG_TRIAL ": %s value %g on %s", study, t->number,
                       attempt, hpo_trial_state_str (row->to), t->value,
                       t->worker_name ? t->worker_name : "?");
        return;
    default:
        s_outcome_text (t, row, outcome, sizeof outcome);
        hpo_log_info (HPO_LOG_TRIAL ": %s; %s", study, t->number, attempt,
                      row->actions & A_REASON && t->reason
                          ? t->reason
                          : s_events[row->event].name,
                      outcome);
    }
}

static int s_fail_check (hpo_sched_t *self, hpo_study_t *study);

//  The row's actions that come after the state changed. -1 on a store
//  error.
static int
s_actions_after (hpo_sched_t *self, hpo_trial_t *t, const s_row_t *row,
                 uint32_t attempt)
{
    unsigned a = row->actions;
    hpo_study_t *study = t->study;
    if (a & A_REQUEUE)
        s_wait_push (study, t->number, 1);
    if (a & A_BEST)
        s_best_update (study, t);
    s_log_row (t, row, attempt);
    if (a & A_REOPEN && s_study_apply (self, study, S_STUDY_RESUME))
        return -1;
    if (a & A_PENDING)
        hpo_suggest_pending (study->suggest, study->history, t->number);
    if (a & A_TELL)
        hpo_suggest_tell (study->suggest, study->history, t->number);
    if (a & A_SEND)
        self->events.assign (self->events.ctx, t->worker, t);
    if (a & A_FAIL_CHECK && s_fail_check (self, study))
        return -1;
    if (a & A_CHECK_END)
        return s_study_check_end (self, study);
    return 0;
}

hpo_sched_rc_t
hpo_sched_apply (hpo_sched_t *self, hpo_trial_t *t, const hpo_sched_event_t *ev)
{
    const s_row_t *row = s_row (t, ev);
    if (!row)
        return HPO_SCHED_STALE;
    uint32_t attempt = t->attempt; //  the attempt the event is about
    if (s_actions_before (self, t, row, ev) ||
        s_transition (self, t, row->to) ||
        s_actions_after (self, t, row, attempt))
        return HPO_SCHED_ERROR;
    return HPO_SCHED_OK;
}

//  Applies an event the scheduler raised itself, after checking the
//  trial's state: a missing row is a programming error. -1 on a store
//  error.
static int
s_apply (hpo_sched_t *self, hpo_trial_t *t, const hpo_sched_event_t *ev)
{
    hpo_sched_rc_t rc = hpo_sched_apply (self, t, ev);
    assert (rc != HPO_SCHED_STALE && rc != HPO_SCHED_UNKNOWN);
    return rc == HPO_SCHED_OK ? 0 : -1;
}

//  The same, for an event that carries only a reason.
static int
s_apply_why (hpo_sched_t *self, hpo_trial_t *t, hpo_sched_ev_t type,
             const char *reason)
{
    hpo_sched_event_t ev = {.type = type, .reason = reason};
    return s_apply (self, t, &ev);
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

//  Settles what a study that no longer hands out trials still waits
//  for: trials waiting for a retry fail (STUDY_STOP, with why), then the
//  study may have ended. The queue may hold entries of trials that left
//  WAITING otherwise: they are skipped.
static int
s_wind_down (hpo_sched_t *self, hpo_study_t *study, const char *why)
{
    uint64_t number;
    while (s_wait_pop (study, &number) == 0) {
        hpo_trial_t *t = study->trials[number];
        if (t->state == HPO_TRIAL_WAITING &&
            s_apply_why (self, t, HPO_SCHED_STUDY_STOP, why))
            return -1;
    }
    return s_study_check_end (self, study);
}

//  The lowest-numbered FAILED trial: the one a failing study's reason
//  points at (often trial 0, the first the person would look at).
static hpo_trial_t *
s_first_failed (hpo_study_t *study)
{
    for (size_t k = 0; k < study->n_trials; k++)
        if (study->trials[k] && study->trials[k]->state == HPO_TRIAL_FAILED)
            return study->trials[k];
    return NULL;
}

//  The study fails by itself, for why (taken): it starts nothing new,
//  its running trials finish, and it ends FAILED with why as its reason.
static int
s_study_fail (hpo_sched_t *self, hpo_study_t *study, char *why)
{
    free (study->reason);
    study->reason = why;
    if (s_study_apply (self, study, S_STUDY_FAIL))
        return -1;
    uint64_t running = study->count[HPO_TRIAL_RUNNING];
    if (running)
        hpo_log_warnx ("study %s: FAILING: %s; its %" PRIu64 " running "
                       "trials are left to finish",
                       study->name, why, running);
    else
        hpo_log_warnx ("study %s: FAILING: %s", study->name, why);
    return s_wind_down (self, study, "the study failed before a retry ran");
}

//  After a trial of a RUNNING study ended FAILED: does the study fail?
//  It does when its first budget.fail_fast trials all failed and none
//  completed, or when budget.max_failed trials failed, counting the
//  failures since it last resumed (fail_base).
static int
s_fail_check (hpo_sched_t *self, hpo_study_t *study)
{
    if (study->state != HPO_STUDY_RUNNING)
        return 0;
    const hpo_spec_t *spec = study->spec;
    uint64_t all = study->count[HPO_TRIAL_FAILED];
    uint64_t failed = all > study->fail_base ? all - study->fail_base : 0;
    uint64_t ok =
        study->count[HPO_TRIAL_COMPLETE] + study->count[HPO_TRIAL_PRUNED];
    hpo_trial_t *t;
    char *why;
    if (spec->fail_fast && ok == 0 && failed >= spec->fail_fast &&
        (t = s_first_failed (study)))
        why = hpo_sprintf ("all of the first %u trials failed (%s): see hpo "
                           "trial show %s %" PRIu64,
                           spec->fail_fast, t->reason ? t->reason : "failed",
                           study->name, t->number);
    else if (spec->max_failed && failed >= spec->max_failed &&
             (t = study->last_failed))
        why = hpo_sprintf ("%" PRIu64 " trials failed (budget.max_failed), "
                           "the last trial %" PRIu64 " (%s): see hpo trial "
                           "show %s %" PRIu64,
                           failed, t->number, t->reason ? t->reason : "failed",
                           study->name, t->number);
    else
        return 0;
    return s_study_fail (self, study, why);
}

//  A refusal (1) with its reason.
static int
s_refuse (char **message, char *why)
{
    *message = why;
    return 1;
}

//  Stops every running trial of the study now (STOP_NOW): each worker is
//  told to kill its attempt, and the trial ends FAILED "stopped".
static int
s_stop_running (hpo_sched_t *self, hpo_study_t *study)
{
    for (size_t k = 0; k < study->n_trials; k++) {
        hpo_trial_t *t = study->trials[k];
        if (t && t->state == HPO_TRIAL_RUNNING &&
            s_apply_why (self, t, HPO_SCHED_STOP_NOW, NULL))
            return -1;
    }
    return 0;
}

int
hpo_sched_study_stop (hpo_sched_t *self, hpo_study_t *study, int now,
                      char **message)
{
    *message = NULL;
    hpo_study_state_t state = study->state;
    //  A study winding down (STOPPING, FAILING) can still be stopped now.
    if (s_study_ended (state) || (!now && state != HPO_STUDY_RUNNING))
        return s_refuse (message,
                         hpo_sprintf ("study %s is already %s", study->name,
                                      hpo_study_state_str (state)));
    uint64_t running = study->count[HPO_TRIAL_RUNNING];
    if (state == HPO_STUDY_RUNNING) {
        if (s_study_apply (self, study, S_STUDY_STOP))
            return -1;
        hpo_log_info ("study %s: stopping; %" PRIu64 " trials still %s",
                      study->name, running,
                      now ? "running are stopped now" : "running");
        if (s_wind_down (self, study, NULL))
            return -1;
    }
    if (now && s_stop_running (self, study))
        return -1;
    if (now)
        *message = hpo_sprintf ("study %s: %s; %" PRIu64 " running trials "
                                "stopped (FAILED, stopped)",
                                study->name, hpo_study_state_str (study->state),
                                running);
    else
        *message = hpo_sprintf (
            "study %s: %s; no new trials start, its %" PRIu64
            " running trials finish",
            study->name, hpo_study_state_str (study->state), running);
    return 0;
}

//  Why the budget cannot grow by trials (NULL: it can): past what the
//  sampler can suggest (a grid's points) or the distinct configurations
//  of a finite space (none is handed out twice), or past 2^64.
static char *
s_extend_invalid (const hpo_study_t *study, uint64_t trials)
{
    const hpo_spec_t *spec = study->spec;
    uint64_t size = spec->sampler.ops->size (spec, spec->sampler.config);
    hpo_space_t *space = hpo_space_new (spec, NULL, NULL);
    uint64_t distinct = hpo_space_size (space);
    hpo_space_destroy (&space);
    int capped = distinct < size; //  by the space, not the sampler
    if (capped)
        size = distinct;
    uint64_t budget = study->budget;
    if (trials == 0)
        return hpo_sprintf ("study %s: --trials must be at least 1",
                            study->name);
    if (size != UINT64_MAX && (budget >= size || trials > size - budget))
        return hpo_sprintf ("study %s: its %s%s has %" PRIu64
                            " points and the budget "
                            "holds %" PRIu64 ": %" PRIu64 " left to add",
                            study->name,
                            capped ? "space" : spec->sampler.ops->name,
                            capped ? "" : " sampler", size, budget,
                            budget < size ? size - budget : 0);
    if (trials > UINT64_MAX - budget)
        return hpo_sprintf ("study %s: a budget of more than 2^64 trials",
                            study->name);
    return NULL;
}

int
hpo_sched_study_extend (hpo_sched_t *self, hpo_study_t *study, uint64_t trials,
                        char **message)
{
    *message = s_extend_invalid (study, trials);
    if (*message)
        return 1;
    uint64_t old = study->budget;
    study->budget += trials;
    int rc = study->state == HPO_STUDY_FINISHED
                 ? s_study_apply (self, study, S_STUDY_RESUME)
                 : s_study_persist (self, study);
    if (rc)
        return -1;
    int idle = s_study_ended (study->state);
    *message = hpo_sprintf (
        "study %s: budget %" PRIu64 " → %" PRIu64 ", %s%s%s", study->name, old,
        study->budget, hpo_study_state_str (study->state),
        idle ? "; hpo study resume " : "", idle ? study->name : "");
    hpo_log_info ("study %s: budget %" PRIu64 " -> %" PRIu64, study->name, old,
                  study->budget);
    return 0;
}

int
hpo_sched_study_resume (hpo_sched_t *self, hpo_study_t *study, char **message)
{
    *message = NULL;
    hpo_study_state_t from = study->state;
    if (from == HPO_STUDY_RUNNING)
        return s_refuse (
            message, hpo_sprintf ("study %s is already RUNNING", study->name));
    if (from == HPO_STUDY_FINISHED)
        return s_refuse (message,
                         hpo_sprintf ("study %s is FINISHED: its budget of "
                                      "%" PRIu64 " trials is used up; hpo "
                                      "study extend %s --trials N adds more",
                                      study->name, study->budget, study->name));
    if (s_study_apply (self, study, S_STUDY_RESUME) ||
        s_study_check_end (self, study))
        return -1;
    *message = hpo_sprintf ("study %s: %s → %s", study->name,
                            hpo_study_state_str (from),
                            hpo_study_state_str (study->state));
    return 0;
}

//  Why these trials cannot be retried (NULL: they can): every one must
//  exist and be FAILED, so a request is done whole or not at all.
static char *
s_retry_invalid (hpo_study_t *study, const uint64_t *numbers, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        hpo_trial_t *t = hpo_study_trial (study, numbers[k]);
        if (!t)
            return hpo_sprintf ("study %s has no trial %" PRIu64
                                "; nothing retried",
                                study->name, numbers[k]);
        if (t->state != HPO_TRIAL_FAILED)
            return hpo_sprintf ("study %s: trial %" PRIu64 " is %s, not "
                                "FAILED; nothing retried",
                                study->name, numbers[k],
                                hpo_trial_state_str (t->state));
    }
    return NULL;
}

int
hpo_sched_trial_retry (hpo_sched_t *self, hpo_study_t *study,
                       const uint64_t *numbers, size_t n, int failed,
                       char **message)
{
    *message = s_retry_invalid (study, numbers, n);
    if (*message)
        return 1;
    size_t count = 0;
    for (size_t k = 0; k < study->n_trials + n; k++) {
        //  Every FAILED trial (--failed), then the numbers given; a
        //  number given twice runs once.
        hpo_trial_t *t =
            k < study->n_trials
                ? (failed ? study->trials[k] : NULL)
                : hpo_study_trial (study, numbers[k - study->n_trials]);
        if (!t || t->state != HPO_TRIAL_FAILED)
            continue;
        if (s_apply_why (self, t, HPO_SCHED_RETRY, NULL))
            return -1;
        count++;
    }
    if (count == 0)
        return s_refuse (
            message, hpo_sprintf ("study %s has no FAILED trial", study->name));
    //  The study resumed at the first retry: failures count from here,
    //  so the retried trials failing again can fail it again.
    if (study->fail_base > study->count[HPO_TRIAL_FAILED]) {
        study->fail_base = study->count[HPO_TRIAL_FAILED];
        if (s_study_persist (self, study))
            return -1;
    }
    *message = hpo_sprintf ("study %s: %zu failed trial%s to run again as a "
                            "new attempt, %s",
                            study->name, count, count == 1 ? "" : "s",
                            hpo_study_state_str (study->state));
    return 0;
}

int
hpo_sched_study_delete (hpo_sched_t *self, hpo_study_t *study, char **message)
{
    *message = NULL;
    if (!s_study_ended (study->state) || study->count[HPO_TRIAL_RUNNING] ||
        study->count[HPO_TRIAL_WAITING])
        return s_refuse (message,
                         hpo_sprintf ("study %s is %s: only a FINISHED, "
                                      "STOPPED or FAILED study is deleted "
                                      "(hpo study stop %s first)",
                                      study->name,
                                      hpo_study_state_str (study->state),
                                      study->name));
    if (hpo_store_study_delete (self->store, study->id))
        return -1;
    *message = hpo_sprintf ("study %s: deleted, with its %zu trials",
                            study->name, study->n_trials);
    hpo_log_info ("study %s: deleted (%zu trials)", study->name,
                  study->n_trials);
    for (size_t k = 0; k < study->n_trials; k++)
        if (study->trials[k]) {
            assert (study->trials[k]->heap_index == SIZE_MAX);
            self->by_id[study->trials[k]->id] = NULL;
        }
    size_t at = 0;
    while (self->studies[at] != study)
        at++;
    memmove (self->studies + at, self->studies + at + 1,
             (self->n_studies - at - 1) * sizeof *self->studies);
    self->n_studies--;
    if (self->next_study >= self->n_studies)
        self->next_study = 0;
    s_study_free (study);
    return 0;
}

//  ---- attempts end ---------------------------------------------------

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
        int rc = s_apply_why (self, t, HPO_SCHED_LOSE, reason);
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
            rc = s_apply_why (self, t, HPO_SCHED_LOSE, reason);
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
            hpo_log_info (HPO_LOG_TRIAL ": reclaimed by %s", t->study->name,
                          t->number, t->attempt, h->name);
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
            rc = s_apply_why (self, t, HPO_SCHED_LOSE, why);
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

//  The trial a worker's message about (trial_id, attempt) concerns, in
//  *t_p. HPO_SCHED_OK with *late 0: the worker holds that attempt now.
//  HPO_SCHED_OK with *late 1: that attempt ended and the worker knows
//  it (its Finish was applied, or a kill was decided): a repeat, or a
//  report that its Finish overtook (the worker sends a Finish at once,
//  reports as its queue drains). A Finish for an attempt declared lost
//  is stale, even when no newer attempt has started yet.
static hpo_sched_rc_t
s_attempt_of (hpo_sched_t *self, hpo_worker_t *worker, uint64_t trial_id,
              uint32_t attempt, hpo_trial_t **t_p, int *late)
{
    hpo_trial_t *t = *t_p = hpo_sched_trial (self, trial_id);
    *late = 0;
    if (!t)
        return HPO_SCHED_UNKNOWN;
    if (s_holds (t, worker, attempt))
        return HPO_SCHED_OK;
    if (t->finished == attempt && t->worker_name &&
        strcmp (t->worker_name, worker->name) == 0) {
        *late = 1;
        return HPO_SCHED_OK;
    }
    return HPO_SCHED_STALE;
}

//  Stores the finite values of a report at step.
static int
s_values_put (hpo_sched_t *self, hpo_trial_t *t, uint32_t attempt, int64_t step,
              char *const *metrics, const double *values, size_t n)
{
    for (size_t k = 0; k < n; k++)
        //  SQLite would store NaN as NULL: it never reaches it.
        if (isfinite (values[k]) &&
            hpo_store_value_put (self->store, t->id, attempt, step, metrics[k],
                                 values[k]))
            return -1;
    return 0;
}

//  Index of the objective's (finite) value among a report's metrics;
//  -1 if it has none.
static int
s_objective (const hpo_trial_t *t, char *const *metrics, const double *values,
             size_t n)
{
    int found = -1;
    for (size_t k = 0; k < n; k++)
        if (isfinite (values[k]) &&
            strcmp (metrics[k], t->study->spec->metric) == 0)
            found = (int)k;
    return found;
}

//  A report that its attempt's Finish overtook joined the curve: where
//  objective.value is not last, the trial's value follows it, stored.
static hpo_sched_rc_t
s_value_late (hpo_sched_t *self, hpo_trial_t *t)
{
    if (!t->has_value ||
        (t->state != HPO_TRIAL_COMPLETE && t->state != HPO_TRIAL_PRUNED))
        return HPO_SCHED_OK;
    double v = s_value_counts (t, t->value);
    if (v == t->value)
        return HPO_SCHED_OK;
    t->value = v;
    hpo_history_set_value (t->study->history, t->number, v);
    s_best_update (t->study, t);
    return s_persist (self, t) ? HPO_SCHED_ERROR : HPO_SCHED_OK;
}

//  Asks the study's pruner about t's new point, and applies a decision
//  to stop: PRUNED with that value, the worker told to kill the attempt.
static hpo_sched_rc_t
s_prune_ask (hpo_sched_t *self, hpo_trial_t *t, int64_t step, double value)
{
    hpo_study_t *study = t->study;
    char *reason = NULL;
    hpo_prune_t decision = study->spec->pruner.ops->report (
        study->pruner, study->history, t->number, step, value, &reason);
    int rc = 0;
    if (decision == HPO_PRUNE_STOP) {
        hpo_sched_event_t ev = {.type = HPO_SCHED_PRUNE,
                                .reason = reason,
                                .has_value = 1,
                                .value = value};
        rc = s_apply (self, t, &ev);
    }
    free (reason);
    return rc ? HPO_SCHED_ERROR : HPO_SCHED_OK;
}

hpo_sched_rc_t
hpo_sched_report (hpo_sched_t *self, hpo_worker_t *worker, uint64_t trial_id,
                  uint32_t attempt, int has_step, int64_t step,
                  char *const *metrics, const double *values, size_t n,
                  int64_t now_ms)
{
    hpo_trial_t *t;
    int late;
    hpo_sched_rc_t rc =
        s_attempt_of (self, worker, trial_id, attempt, &t, &late);
    if (rc != HPO_SCHED_OK)
        return rc;
    //  A report proves the worker alive as much as a heartbeat does.
    worker->last_seen = now_ms;
    if (has_step && s_values_put (self, t, attempt, step, metrics, values, n))
        return HPO_SCHED_ERROR;
    int objective = s_objective (t, metrics, values, n);
    //  A late report joins the curve only while its attempt is the
    //  trial's latest: the curve is that attempt's, as the store's is.
    int point = has_step && objective >= 0 && attempt == t->attempt &&
                s_point (t, step, values[objective]);
    if (late)
        //  values are the attempt's; the trial stays, its value may not
        return point ? s_value_late (self, t) : HPO_SCHED_OK;
    s_adopt (t, worker);
    //  ... and renews the lease of the attempt it is about, so "alive"
    //  and "holds its lease" never disagree.
    s_lease_set (self, t, now_ms + self->cfg.lease_ms);
    if (objective >= 0) {
        t->has_last = 1;
        t->last_value = values[objective];
    }
    if (has_step && (!t->has_step || step >= t->last_step)) {
        t->has_step = 1;
        t->last_step = step;
    }
    return point ? s_prune_ask (self, t, step, values[objective])
                 : HPO_SCHED_OK;
}

//  The event a worker's Finish is. A value that is not a finite number
//  never ranks as best nor reaches the store as NULL (the server refuses
//  these; this keeps it so whatever the caller): a COMPLETE without a
//  usable value is a failure of the program.
static hpo_sched_event_t
s_finish_event (hpo_finish_t outcome, int has_value, double value,
                const char *reason, const char *log_tail)
{
    hpo_sched_event_t ev = {.has_value = has_value,
                            .value = value,
                            .reason = reason,
                            .log_tail = log_tail};
    if (outcome == HPO_FINISH_FAILED_PERMANENT) {
        ev.permanent = 1;
        outcome = HPO_FINISH_FAILED;
    }
    if (has_value && !isfinite (value)) {
        ev.has_value = 0;
        if (outcome == HPO_FINISH_COMPLETE) {
            outcome = HPO_FINISH_FAILED;
            ev.reason = "the objective's value is not a finite number";
        }
    }
    if (outcome == HPO_FINISH_COMPLETE && !ev.has_value) {
        outcome = HPO_FINISH_FAILED;
        ev.reason = "finished without a value of the objective";
    }
    ev.type = outcome == HPO_FINISH_COMPLETE ? HPO_SCHED_COMPLETE
              : outcome == HPO_FINISH_PRUNED ? HPO_SCHED_PRUNED
                                             : HPO_SCHED_FAIL;
    return ev;
}

hpo_sched_rc_t
hpo_sched_finish (hpo_sched_t *self, hpo_worker_t *worker, uint64_t trial_id,
                  uint32_t attempt, hpo_finish_t outcome, int has_value,
                  double value, const char *reason, const char *log_tail,
                  int64_t now_ms)
{
    hpo_trial_t *t;
    int late;
    hpo_sched_rc_t rc =
        s_attempt_of (self, worker, trial_id, attempt, &t, &late);
    if (rc != HPO_SCHED_OK || late)
        return rc; //  a late one: the same Finish again (its Ack was lost)
    worker->last_seen = now_ms;
    hpo_sched_event_t ev =
        s_finish_event (outcome, has_value, value, reason, log_tail);
    return s_apply (self, t, &ev) ? HPO_SCHED_ERROR : HPO_SCHED_OK;
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
    //  Entries of trials that left WAITING otherwise (a study stop, an
    //  event applied from outside) are skipped.
    while (s_wait_pop (study, &number) == 0)
        if (study->trials[number]->state == HPO_TRIAL_WAITING)
            return study->trials[number];
    if (study->n_trials >= study->budget)
        return NULL;
    number = study->n_trials;
    const hpo_spec_t *spec = study->spec;
    hpo_value_t *params = hpo_calloc (spec->n_params, sizeof *params);
    int rc = hpo_suggest_next (study->suggest, study->history, number, NULL,
                               NULL, params);
    if (rc) {
        //  No configuration left before the budget (a grid, a finite
        //  space used up), or the sampler failed: either way the study ends
        //  with the trials it has.
        if (rc < 0)
            hpo_log_error ("study %s: sampler %s failed at trial %" PRIu64
                           "; no more trials",
                           study->name, spec->sampler.ops->name, number);
        free (params);
        study->budget = study->n_trials;
        *err = s_study_check_end (self, study);
        return NULL;
    }
    //  Ids are ours to give (the store keeps them): the row is written
    //  at the trial's first transition.
    uint64_t id = ++self->last_id;
    hpo_trial_t *t = s_trial_new (self, study, id, number);
    free (t->params);
    t->params = params;
    if (s_history_add (t))
        assert (!"a new trial's number is its history's next row");
    s_count (t, HPO_TRIAL_WAITING);
    return t;
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
            hpo_sched_event_t ev = {
                .type = HPO_SCHED_ASSIGN, .worker = w, .now_ms = now_ms};
            if (s_apply (self, t, &ev))
                return -1;
        }
    }
    return 0;
}
