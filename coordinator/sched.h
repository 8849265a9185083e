/*  sched.h: the scheduler. It owns every study, trial, worker and lease in
    memory, and is the only code that changes a trial's state: through
    one transition table and one function that applies it
    (hpo_sched_apply).

        from     event                          next state
        WAITING  assign                         RUNNING
        RUNNING  complete                       COMPLETE
        RUNNING  pruned (by the program),       PRUNED
                 prune (by the study's pruner)
        RUNNING  fail, lose: budget left        WAITING, first in line
        RUNNING  fail, lose: budget spent;      FAILED
                 fail: permanent; stop now
        FAILED   retry                          WAITING, first in line
        WAITING  study stop                     FAILED

    Each row of the table (s_table in sched.c) is (state, event[, budget
    left, spent, or permanent]) -> (next state, actions), the actions
    being the side effects, run in a fixed order: spend one of the
    event's budget, tell the worker to kill the attempt, release the
    lease, record the result or the reason, write the attempt's row, take
    a new lease, reset the budgets, requeue at the front, update the
    best, resume the study, tell the sampler the trial started or ended,
    send the assignment, check whether the study failed (fail fast),
    check whether the study ended. Every row also changes the state,
    keeps the study's per-state counts and history and writes the trial's
    row, in one place.

    Two budgets: trial.retries counts the program's own failures (an exit
    status, a signal, a timeout, no objective); trial.max_lost counts
    attempts lost to the worker (its lease expired, it was not claimed
    after a restart, the worker stopped or was replaced). A lost attempt
    never uses up a retry. An attempt that fails or is lost while its
    study is not RUNNING is not run again: the trial FAILS. A failure the
    worker calls permanent (the command was not found, the objective was
    never reported while other metrics were) cannot change on a retry:
    the trial FAILS at once, spending nothing.

    WAITING -> FAILED happens only when a study is stopped with trials
    still waiting for a retry. FAILED -> WAITING happens only when a
    person retries a failed trial: it gets its budgets afresh, and its
    study runs again.

    Studies have a table too: RUNNING --stop--> STOPPING --drained (or
    budget used up)--> STOPPED; RUNNING --budget used up--> FINISHED;
    RUNNING --fail--> FAILING --drained (or budget used up)--> FAILED;
    every state but RUNNING --resume--> RUNNING. Drained: nothing waits
    or runs; budget used up: drained, and every trial of the budget was
    created. A study fails by itself (fail fast) when its first
    budget.fail_fast trials all FAILED and none completed, or when
    budget.max_failed trials FAILED; both count from the study's last
    resume (study->fail_base), so a resumed study does not fail again at
    once. Like a stop, a failing study starts nothing new and its running
    trials finish.

    A trial handed to a worker is a lease (trial, attempt, deadline). The
    attempt number is a fencing token: a message naming any other attempt
    is stale. Leases live in a min-heap on their deadline, so expiry costs
    O(log n) and the server's poll timeout is the heap's top.

    Time is always passed in (now_ms, monotonic; wall seconds are read for
    records only), so tests drive leases by hand. Every change is written
    to the store inside the caller's transaction; the caller commits
    before any reply leaves. What the scheduler wants sent (an assignment,
    a kill) it hands to the events it was created with.                   */
#ifndef HPO_SCHED_H
#define HPO_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "../common/spec.h"
#include "../search/history.h" //  hpo_trial_state_t
#include "../search/suggest.h"
#include "store.h"

typedef enum {
    HPO_STUDY_RUNNING = 0, //  hands out trials
    HPO_STUDY_STOPPING,    //  stopped by a person; trials still running
    HPO_STUDY_STOPPED,     //  stopped, nothing running
    HPO_STUDY_FINISHED,    //  budget or grid used up, nothing running
    HPO_STUDY_FAILING,     //  failed by itself (reason); trials still
                           //  running
    HPO_STUDY_FAILED,      //  failed by itself, nothing running
} hpo_study_state_t;

typedef struct _hpo_study_t hpo_study_t;
typedef struct _hpo_worker_t hpo_worker_t;

//  A trial as the scheduler keeps it. Read-only outside sched.c.
typedef struct {
    uint64_t id;     //  store id, global
    uint64_t number; //  0-based within its study
    hpo_study_t *study;
    hpo_trial_state_t state;
    uint32_t attempt;    //  attempts started; the current one if RUNNING
    uint32_t failures;   //  attempts the program failed (retries)
    uint32_t lost;       //  attempts lost to the worker (max_lost)
    hpo_value_t *params; //  study->spec->n_params values
    int has_value;
    double value;
    hpo_worker_t *worker;  //  lease holder while RUNNING (NULL after a
                           //  coordinator restart until it says Hello)
    char *worker_name;     //  name of the current attempt's worker
    int64_t deadline;      //  lease deadline, monotonic ms
    size_t heap_index;     //  position in the lease heap, or SIZE_MAX
    double started, ended; //  wall seconds
    double duration;       //  ended - started, while in a final state
    char *reason;
    int has_step; //  latest intermediate report of this attempt
    int64_t last_step;
    int has_last; //  latest value of the objective metric
    double last_value;
    //  Latest step of the objective in this attempt: the history's curve
    //  and the pruner see each step once, in increasing order.
    int has_point;
    int64_t point_step;
    int stored; //  its row exists in the store
    //  Attempt whose end the worker knows of (0: none yet): its Finish
    //  was applied, or the coordinator decided it (prune, stop now) and
    //  told the worker to kill it. That attempt's late reports and a
    //  repeated Finish are answered OK.
    uint32_t finished;
    //  Loaded RUNNING after a coordinator restart and not claimed back
    //  yet: if its lease runs out, the reason says so.
    int unclaimed;
} hpo_trial_t;

struct _hpo_study_t {
    uint64_t id;
    char *name;
    char *spec_text;
    hpo_spec_t *spec;
    //  The study's suggestion driver and, inside it, its sampler
    //  instance (search/suggest.h).
    hpo_suggest_t *suggest;
    void *pruner;  //  spec->pruner.ops's instance for this study
    //  The trials as the sampler and pruner see them, row = number: kept
    //  in step with every creation and state change, rebuilt from the
    //  store at start-up. Curves (the objective's points of each trial's
    //  latest attempt) only when curves is set.
    hpo_history_t *history;
    int curves;   //  the sampler or pruner reads curves (or cfg.curves)
    char **names; //  spec's parameter names, in spec order
    hpo_study_state_t state;
    double created, ended;
    hpo_trial_t **trials; //  by number
    size_t n_trials, cap_trials;
    uint64_t budget; //  trials to create in all (hpo study extend adds)
    uint64_t count[HPO_TRIAL_NSTATES];
    //  Why it FAILED (fail fast, max_failed), or NULL; stored.
    char *reason;
    //  FAILED trials when the study last resumed (stored): fail fast and
    //  max_failed count the failures after it.
    uint64_t fail_base;
    hpo_trial_t *last_failed; //  the trial that ended FAILED last
    //  Durations of the trials in a final state (trial->duration), for
    //  their mean: kept as they end (and leave it on a retry), rebuilt
    //  at start-up.
    double duration_sum;
    uint64_t duration_n;
    uint64_t *waiting; //  FIFO ring of trial numbers waiting
    size_t wait_head, wait_len, wait_cap;
    hpo_trial_t *best;
};

struct _hpo_worker_t {
    uint8_t rid[256]; //  ZeroMQ routing id of its session
    size_t rid_size;
    char *key; //  rid in hex, the session map's key
    char *name;
    char *host;
    uint32_t pid;
    uint32_t slots;
    uint32_t want;     //  free slots it last told us of
    uint32_t held;     //  leases it holds
    int64_t last_seen; //  monotonic ms
    double last_seen_wall;
    int gone; //  replaced by a newer session
    //  The process, as opposed to the name (Hello.incarnation and
    //  started_us; 0 from a worker that does not send them).
    uint64_t incarnation;
    uint64_t started_us;
    //  A newer process took this name: the session's next message is
    //  answered ERR_REPLACED with this text (who holds the name now).
    char *replaced_by;
    int leaving; //  said Goodbye: gets no more work
    //  Owned by the server: acknowledgements owed this loop turn.
    uint64_t *acks;
    size_t n_acks, cap_acks;
};

typedef struct {
    void *ctx;
    //  Send an assignment of trial (now RUNNING, leased to worker).
    void (*assign) (void *ctx, hpo_worker_t *worker, hpo_trial_t *trial);
    //  Tell the worker to kill this attempt.
    void (*kill) (void *ctx, hpo_worker_t *worker, uint64_t trial_id,
                  uint32_t attempt, const char *reason);
} hpo_sched_events_t;

typedef struct {
    int64_t lease_ms;     //  a lease lasts this long without renewal
    int64_t heartbeat_ms; //  workers heartbeat this often
    //  A silent worker holding nothing is forgotten this long after its
    //  last message (0: ten minutes); `hpo workers` lists it until then.
    int64_t forget_ms;
    //  After a restart, RUNNING trials wait this long for their workers
    //  to claim them (0: lease_ms).
    int64_t restart_grace_ms;
    //  Keep every study's curves in its history, whether or not its
    //  sampler or pruner reads them (tests; a dashboard that plots them).
    //  Otherwise only studies that need them load them at start-up.
    int curves;
} hpo_sched_config_t;

typedef struct _hpo_sched_t hpo_sched_t;

//  Loads every study and trial from the store, and rebuilds each study's
//  history (with its curves where they are kept); its sampler is told of
//  every trial that ended and every one still running, as if it had run
//  all along. RUNNING trials keep their lease for cfg->restart_grace_ms
//  from now, so workers that outlived a coordinator restart can claim
//  them back. NULL on a store error.
hpo_sched_t *hpo_sched_new (hpo_store_t *store, const hpo_sched_config_t *cfg,
                            const hpo_sched_events_t *events, int64_t now_ms);
void hpo_sched_destroy (hpo_sched_t **self_p);

//  Result of a worker message about a trial.
typedef enum {
    HPO_SCHED_OK = 0,  //  applied (or an idempotent repeat)
    HPO_SCHED_STALE,   //  not this trial's current attempt on this
                       //  worker: refuse and tell the worker to kill
    HPO_SCHED_UNKNOWN, //  no such trial
    HPO_SCHED_ERROR,   //  store failure
} hpo_sched_rc_t;

//  ---- studies ----------------------------------------------------------
//  Creates a study from a parsed spec (takes ownership of *spec_p) and its
//  source text. Returns the study, or NULL with *error set: a study of
//  that name exists (*exists set to 1), or a store error.
hpo_study_t *hpo_sched_study_create (hpo_sched_t *self, hpo_spec_t **spec_p,
                                     const char *spec_text, int *exists,
                                     char **error);
hpo_study_t *hpo_sched_study (hpo_sched_t *self, const char *name);
//  Studies in creation order.
size_t hpo_sched_studies (hpo_sched_t *self, hpo_study_t ***studies);
//  ---- a person's requests about a study ------------------------------
//  Each returns 0 with *message set to what happened ("study mnist:
//  budget 100 → 150, RUNNING"), 1 with *message set to why nothing was
//  done (a request that does not apply: answer ERR_INVALID), or -1 on a
//  store error (*message NULL). The caller frees *message.
//
//  Stop: no new trials; trials waiting for a retry fail; running ones
//  finish, or with now are stopped (STOP_NOW: killed, FAILED "stopped").
//  Refused for a study already FINISHED, STOPPED or FAILED.
int hpo_sched_study_stop (hpo_sched_t *self, hpo_study_t *study, int now,
                          char **message);
//  Raises the budget by trials (stored); a FINISHED study runs again.
//  New trials continue the numbers, so a seeded sampler continues its
//  sequence. Refused past what the sampler can suggest (a grid's points).
int hpo_sched_study_extend (hpo_sched_t *self, hpo_study_t *study,
                            uint64_t trials, char **message);
//  A STOPPING, STOPPED, FAILING or FAILED study runs again; fail fast
//  counts from here. Refused for one RUNNING or FINISHED (extend it).
int hpo_sched_study_resume (hpo_sched_t *self, hpo_study_t *study,
                            char **message);
//  FAILED trials run again as a new attempt with the same parameters
//  (RETRY): the numbers given, or with failed every FAILED trial. Refused,
//  with nothing changed, if one of them is not FAILED or does not exist.
int hpo_sched_trial_retry (hpo_sched_t *self, hpo_study_t *study,
                           const uint64_t *numbers, size_t n, int failed,
                           char **message);
//  Removes a FINISHED, STOPPED or FAILED study and every row of it; the
//  study and its trials are freed (study is invalid after a 0).
int hpo_sched_study_delete (hpo_sched_t *self, hpo_study_t *study,
                            char **message);
const char *hpo_study_state_str (hpo_study_state_t state);
hpo_trial_t *hpo_study_trial (hpo_study_t *study, uint64_t number);

//  ---- workers ----------------------------------------------------------
typedef struct {
    uint64_t trial_id;
    uint32_t attempt;
} hpo_lease_t;

//  What a worker says in its Hello.
typedef struct {
    const char *name;
    const char *host;
    uint32_t pid;
    uint32_t slots;
    uint64_t incarnation; //  0: not sent (an older worker)
    uint64_t started_us;
    const hpo_lease_t *leases; //  the attempts it still runs
    size_t n_leases;
} hpo_hello_t;

//  A worker session starts (or restarts). Leases the worker says it runs
//  are given back to it when they are the trial's current attempt under
//  the same worker name; the others are written to refused (capacity
//  hello->n_leases) and *n_refused set. Returns the worker.
//
//  One process per name: when a live session of this name belongs to
//  another process (another incarnation), the process started later
//  keeps the name (ties: the larger incarnation). If that is the one
//  already here, returns NULL with *winner set to it: the newcomer gets
//  nothing. If it is the newcomer, the old session is marked gone with
//  replaced_by set, and the attempts it held that the newcomer does not
//  claim are lost. Returns NULL with *winner NULL on a store error.
hpo_worker_t *hpo_sched_hello (hpo_sched_t *self, const uint8_t *rid,
                               size_t rid_size, const hpo_hello_t *hello,
                               hpo_lease_t *refused, size_t *n_refused,
                               hpo_worker_t **winner, int64_t now_ms);
//  The worker is stopping (Goodbye): it gets no more work in this
//  session, and the attempts named that it holds end at once as lost
//  ("worker NAME stopped: reason") and are re-run under trial.max_lost.
//  Returns -1 on a store error.
int hpo_sched_goodbye (hpo_sched_t *self, hpo_worker_t *worker,
                       const hpo_lease_t *leases, size_t n, const char *reason,
                       int64_t now_ms);
//  The live session with this routing id, or NULL.
hpo_worker_t *hpo_sched_worker (hpo_sched_t *self, const uint8_t *rid,
                                size_t rid_size);
size_t hpo_sched_workers (hpo_sched_t *self, hpo_worker_t ***workers);
//  Renews the leases named; those that are not this worker's current
//  attempts are announced through events->kill, at most
//  HPO_SCHED_MAX_KILLS of them and each once (the rest are told on a
//  later heartbeat, which lists them again). free: slots it has free.
#define HPO_SCHED_MAX_KILLS 64
void hpo_sched_heartbeat (hpo_sched_t *self, hpo_worker_t *worker,
                          const hpo_lease_t *leases, size_t n, uint32_t free,
                          int64_t now_ms);

//  ---- trials -----------------------------------------------------------
//  An intermediate report: metrics at step (has_step) for an attempt.
//  A late report of an attempt whose Finish was applied (it overtook
//  them) is still stored and answers OK. Values must be finite (the
//  server refuses others); one that is not is skipped, never stored.
//  The objective's value at a new step (above the attempt's last) joins
//  the trial's curve and goes to the study's pruner; when it says stop,
//  the trial is PRUNED with that value (hpo_sched_apply, PRUNE), the
//  worker is told to kill the attempt (events->kill, with the pruner's
//  reason), and the report still answers OK.
hpo_sched_rc_t hpo_sched_report (hpo_sched_t *self, hpo_worker_t *worker,
                                 uint64_t trial_id, uint32_t attempt,
                                 int has_step, int64_t step,
                                 char *const *metrics, const double *values,
                                 size_t n, int64_t now_ms);

typedef enum {
    HPO_FINISH_COMPLETE = 1,
    HPO_FINISH_FAILED = 2,
    HPO_FINISH_PRUNED = 3,
    //  Failed, and a retry cannot change it (Finish.permanent): FAILED
    //  at once, trial.retries untouched.
    HPO_FINISH_FAILED_PERMANENT = 4,
} hpo_finish_t;

hpo_sched_rc_t hpo_sched_finish (hpo_sched_t *self, hpo_worker_t *worker,
                                 uint64_t trial_id, uint32_t attempt,
                                 hpo_finish_t outcome, int has_value,
                                 double value, const char *reason,
                                 const char *log_tail, int64_t now_ms);

hpo_trial_t *hpo_sched_trial (hpo_sched_t *self, uint64_t trial_id);

//  The coordinator itself was away for delta_ms (stopped, or one turn
//  that ran long): every lease deadline and every worker's last-seen
//  time move later by delta_ms, so no worker is blamed for the
//  coordinator's own stall. A uniform shift keeps the heap in order.
void hpo_sched_shift (hpo_sched_t *self, int64_t delta_ms);
//  Expires every lease whose deadline is at or before now.
//  Returns -1 on a store error.
int hpo_sched_expire (hpo_sched_t *self, int64_t now_ms);
//  Hands out trials to workers with free slots, through events->assign.
//  Returns -1 on a store error.
int hpo_sched_dispatch (hpo_sched_t *self, int64_t now_ms);
//  Earliest lease deadline, or INT64_MAX when no lease is held.
int64_t hpo_sched_next_deadline (hpo_sched_t *self);

//  ---- the transition table ---------------------------------------------
typedef enum {
    HPO_SCHED_ASSIGN = 0, //  WAITING -> RUNNING: event.worker takes it
    HPO_SCHED_COMPLETE,   //  RUNNING -> COMPLETE: Finish with a value
    HPO_SCHED_PRUNED,     //  RUNNING -> PRUNED: Finish, the program pruned
                          //  itself
    HPO_SCHED_FAIL,       //  RUNNING -> WAITING (retries left) or FAILED:
                          //  the program failed
    HPO_SCHED_LOSE,       //  RUNNING -> WAITING (max_lost left) or FAILED:
                          //  the worker lost the attempt
    HPO_SCHED_PRUNE,      //  RUNNING -> PRUNED: the study's pruner stops
                          //  it; the worker is told to kill the attempt
    HPO_SCHED_STOP_NOW,   //  RUNNING -> FAILED: a person stops it; the
                          //  worker is told to kill the attempt
    HPO_SCHED_RETRY,      //  FAILED -> WAITING: a person retries it
    HPO_SCHED_STUDY_STOP, //  WAITING -> FAILED: its study stopped before
                          //  its retry ran
    HPO_SCHED_NEVENTS
} hpo_sched_ev_t;

//  What happened to a trial. Fields an event does not use are ignored.
typedef struct {
    hpo_sched_ev_t type;
    //  Why (FAIL, LOSE, PRUNE, STOP_NOW, STUDY_STOP; NULL or "": the
    //  event's own default). Kept as the trial's reason and written to
    //  the ended attempt's row.
    const char *reason;
    const char *log_tail; //  the ended attempt's, or NULL
    int permanent;        //  FAIL: a retry cannot change it
    int has_value;        //  COMPLETE, PRUNED, PRUNE: the trial's value
    double value;
    hpo_worker_t *worker; //  ASSIGN: the worker that takes it
    int64_t now_ms;       //  ASSIGN: the lease starts now
} hpo_sched_event_t;

//  Applies one event to a trial: finds its row in the table, runs its
//  actions, changes the state, and writes it all to the store. Returns
//  HPO_SCHED_OK; HPO_SCHED_ERROR on a store error; HPO_SCHED_STALE when
//  the table has no row for the trial's state and this event (a person's
//  request about a trial that has moved on, e.g. retry of a trial that
//  is not FAILED): nothing changes. The scheduler's own callers check
//  the state first, so for them a missing row is a programming error
//  (they assert).
hpo_sched_rc_t hpo_sched_apply (hpo_sched_t *self, hpo_trial_t *trial,
                                const hpo_sched_event_t *event);
//  The event's name ("ASSIGN", ...), for logs and tests.
const char *hpo_sched_ev_str (hpo_sched_ev_t type);
//  Whether some row moves a trial from -> to (derived from the table).
int hpo_sched_legal (hpo_trial_state_t from, hpo_trial_state_t to);

//  Whether the worker has been heard from within a lease period.
int hpo_sched_worker_alive (hpo_sched_t *self, const hpo_worker_t *worker,
                            int64_t now_ms);

#endif
