/*  store.h: all of the coordinator's SQL. The coordinator is the database's
    only writer (WAL mode, exclusive lock); nothing else opens it while it
    runs.

    The API speaks the domain. Writes happen inside the transaction the
    server opens for one loop turn (hpo_store_begin .. hpo_store_commit);
    a reply leaves only after that commit, so "acknowledged" means "on
    disk". Schema changes are numbered migrations keyed on user_version.

    A write that fails inside a turn fails the store. The caller keeps in
    memory what it writes, so once a write of a turn has failed, memory
    is ahead of the disk: the turn must not be committed in part, and no
    later turn may commit on top of it either (a later turn writes only
    the rows it touches, so a change rolled back here would never reach
    the disk, though memory says it did). From the failed write on, every
    write and every commit returns -1 without touching the database, and
    the commit rolls the turn back. The only way on is to destroy the
    store and open it again, reloading memory from the disk. Outside a
    turn (no hpo_store_begin) each write is its own transaction, and a
    failure is only returned.

    Functions that return int return 0 on success and -1 on a database
    error, which they log once.                                          */
#ifndef HPO_STORE_H
#define HPO_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct _hpo_store_t hpo_store_t;

typedef enum {
    HPO_SYNC_FULL = 0,   //  fsync on every commit: acknowledged = on disk
    HPO_SYNC_NORMAL = 1, //  WAL fsync at checkpoints: a power cut may lose
                         //  the last commits (a process crash loses none)
    HPO_SYNC_OFF = 2,    //  benchmarks only
} hpo_sync_t;

//  Opens or creates the database and migrates it to the current schema.
//  NULL on failure with *error set (caller frees).
hpo_store_t *hpo_store_open (const char *path, hpo_sync_t sync, char **error);
void hpo_store_destroy (hpo_store_t **self_p);

//  ---- the turn's transaction ------------------------------------------
//  Starts a turn: its writes go into one transaction, opened at the first
//  of them (a turn that writes nothing touches no file). It cannot fail:
//  a failure to open the transaction is the first write's.
void hpo_store_begin (hpo_store_t *self);
//  Commits the turn's writes. If a write of the turn (or of an earlier
//  one) failed, or the commit itself fails, rolls the turn back and
//  returns -1: nothing of the turn is on disk, and the store is failed.
int hpo_store_commit (hpo_store_t *self);
//  Drops the turn's writes.
int hpo_store_rollback (hpo_store_t *self);
//  Whether a write inside a turn has failed (see the top of this file):
//  true from that write until the store is destroyed.
int hpo_store_failed (hpo_store_t *self);

//  ---- studies ----------------------------------------------------------
//  Inserts a RUNNING study; sets *id. A name already taken fails.
int hpo_store_study_insert (hpo_store_t *self, const char *name,
                            const char *spec_text, double created,
                            uint64_t *id);
//  state is a study state name (RUNNING, STOPPING, STOPPED, FINISHED,
//  FAILING, FAILED).
int hpo_store_study_state (hpo_store_t *self, uint64_t id, const char *state,
                           double ended);

typedef struct {
    uint64_t id;
    const char *name;
    const char *spec;
    const char *state;
    double created;
    double ended;
    const char *reason; //  why it FAILED, or NULL
    uint64_t budget;    //  0: the spec's (never extended)
    uint64_t fail_base; //  FAILED trials when it last resumed
} hpo_store_study_row_t;

//  Writes every mutable column of the study row->id: state, ended,
//  reason, budget, fail_base.
int hpo_store_study_update (hpo_store_t *self,
                            const hpo_store_study_row_t *row);
//  Removes the study and every row of it (its trials, their attempts and
//  values), in one transaction: the turn's, or its own outside a turn.
int hpo_store_study_delete (hpo_store_t *self, uint64_t id);

//  The readers below call fn for each row (its strings live until fn
//  returns) and stop at fn's first non-zero, which they return; else 0,
//  or -1 on a database error.
typedef int (hpo_store_study_fn) (void *ctx, const hpo_store_study_row_t *row);
//  Every study, in id order.
int hpo_store_studies (hpo_store_t *self, hpo_store_study_fn *fn, void *ctx);

//  ---- trials -----------------------------------------------------------
typedef struct {
    uint64_t id;
    uint64_t study_id;
    uint64_t number;
    const char *state;  //  WAITING RUNNING COMPLETE PRUNED FAILED
    uint32_t attempt;   //  attempts started so far
    uint32_t failures;  //  attempts the program failed
    uint32_t lost;      //  attempts lost to the worker
    const char *params; //  JSON object
    int has_value;
    double value;
    const char *worker; //  worker of the current attempt, or NULL
    double started;
    double ended;
    const char *reason; //  why it failed, or NULL
} hpo_store_trial_row_t;

//  Inserts a trial with row->id, or a new id when row->id is 0; sets *id.
int hpo_store_trial_insert (hpo_store_t *self, const hpo_store_trial_row_t *row,
                            uint64_t *id);
//  Writes every mutable column of the trial row->id.
int hpo_store_trial_update (hpo_store_t *self,
                            const hpo_store_trial_row_t *row);

typedef int (hpo_store_trial_fn) (void *ctx, const hpo_store_trial_row_t *row);
//  Every trial, in id order.
int hpo_store_trials (hpo_store_t *self, hpo_store_trial_fn *fn, void *ctx);

//  ---- attempts: one row per time a trial was handed to a worker --------
//  A running attempt lives in its trial's row (worker, started); its own
//  row is written when it ends.
typedef struct {
    uint32_t attempt;
    const char *worker;
    double started;
    double ended;
    const char *outcome;  //  COMPLETE FAILED PRUNED LOST
    const char *reason;   //  may be NULL
    const char *log_tail; //  may be NULL
} hpo_store_attempt_row_t;

//  Records an ended attempt. Idempotent: the same attempt again changes
//  nothing.
int hpo_store_attempt_end (hpo_store_t *self, uint64_t trial_id,
                           const hpo_store_attempt_row_t *row);

typedef int (hpo_store_attempt_fn) (void *ctx,
                                    const hpo_store_attempt_row_t *row);
//  A trial's ended attempts, in attempt order.
int hpo_store_attempts (hpo_store_t *self, uint64_t trial_id,
                        hpo_store_attempt_fn *fn, void *ctx);

//  ---- intermediate values ---------------------------------------------
//  Records metric at step for the trial. Idempotent: the same (trial,
//  step, metric) again changes nothing unless it comes from a newer
//  attempt, which replaces the older attempt's value.
int hpo_store_value_put (hpo_store_t *self, uint64_t trial_id, uint32_t attempt,
                         int64_t step, const char *metric, double value);

typedef int (hpo_store_value_fn) (void *ctx, int64_t step, const char *metric,
                                  double value);
//  A trial's values ordered by step, then metric.
int hpo_store_values (hpo_store_t *self, uint64_t trial_id,
                      hpo_store_value_fn *fn, void *ctx);

//  One study's curves of metric: for every trial, the values of its
//  latest attempt (trial.attempt), by trial number then step. fn is
//  called once per value; stops at its first non-zero. For rebuilding
//  the scheduler's history at start-up, once per study that needs them.
typedef int (hpo_store_curve_fn) (void *ctx, uint64_t number, int64_t step,
                                  double value);
int hpo_store_curves (hpo_store_t *self, uint64_t study_id, const char *metric,
                      hpo_store_curve_fn *fn, void *ctx);

//  A trial's intermediate values with the attempt that reported each
//  (the table keeps, per step and metric, the newest attempt's value).
//  last = 0: every value by step then metric, after the first skip of
//  them (where a page cut short resumes). last = 1: the last value of
//  each metric (its latest attempt's highest step), by metric; skip is
//  ignored. fn and the result as for the readers above.
typedef int (hpo_store_trial_value_fn) (void *ctx, uint32_t attempt,
                                        int64_t step, const char *metric,
                                        double value);
int hpo_store_trial_values (hpo_store_t *self, uint64_t trial_id, int last,
                            uint64_t skip, hpo_store_trial_value_fn *fn,
                            void *ctx);

//  ---- the dashboard's tap (docs/dashboard.md) ---------------------------
//  Callbacks for each successful write, made as the store makes it, with
//  what it wrote (strings live until the callback returns), then commit
//  when the turn's commit succeeded (or, outside a turn, when that one
//  write succeeded), or rollback when the turn's writes were dropped
//  (hpo_store_rollback, or a commit that failed). A write that changed
//  no row (an attempt ended again, a value resent by the same attempt)
//  is not reported. A callback must not call the store. Any member may
//  be NULL except commit and rollback.
typedef struct {
    void (*study_insert) (void *ctx, uint64_t id, const char *name,
                          const char *spec_text, double created);
    void (*study_state) (void *ctx, uint64_t id, const char *state,
                         double ended);
    void (*study_update) (void *ctx, const hpo_store_study_row_t *row);
    void (*study_delete) (void *ctx, uint64_t id);
    //  row->id is the id the trial got, even when the caller passed 0.
    void (*trial_insert) (void *ctx, const hpo_store_trial_row_t *row);
    //  row->params and row->study_id, which an update does not write,
    //  may be NULL and 0.
    void (*trial_update) (void *ctx, const hpo_store_trial_row_t *row);
    void (*attempt_end) (void *ctx, uint64_t trial_id,
                         const hpo_store_attempt_row_t *row);
    void (*value_put) (void *ctx, uint64_t trial_id, uint32_t attempt,
                       int64_t step, const char *metric, double value);
    void (*commit) (void *ctx);
    void (*rollback) (void *ctx);
} hpo_store_tap_t;

//  Sets the tap (borrowed: it and ctx must outlive the store, or be
//  replaced), or removes it (NULL). Without one a write costs one branch
//  more.
void hpo_store_set_tap (hpo_store_t *self, const hpo_store_tap_t *tap,
                        void *ctx);

//  Bulk readers for a snapshot (hpo_feed_snapshot): every ended attempt
//  and every intermediate value of every trial, one statement each (not
//  one per trial), in trial id order. fn and the result as for the
//  readers above.
typedef int (hpo_store_any_attempt_fn) (void *ctx, uint64_t trial_id,
                                        const hpo_store_attempt_row_t *row);
int hpo_store_all_attempts (hpo_store_t *self, hpo_store_any_attempt_fn *fn,
                            void *ctx);
typedef int (hpo_store_any_value_fn) (void *ctx, uint64_t trial_id,
                                      uint32_t attempt, int64_t step,
                                      const char *metric, double value);
int hpo_store_all_values (hpo_store_t *self, hpo_store_any_value_fn *fn,
                          void *ctx);

//  ---- online backup (issue #13) ----------------------------------------
//  A copy of the database made a few pages at a time with SQLite's backup
//  API, between loop turns (never inside a turn's transaction), so the
//  trial loop never stalls on it. Pages written meanwhile by the store's
//  own connection reach the copy as well. The copy goes to PATH.part and
//  is renamed PATH once complete, so PATH is never half a database.
typedef struct _hpo_store_backup_t hpo_store_backup_t;
//  Starts a copy of the store into path, which must not exist. NULL with
//  *error set (caller frees) if it cannot.
hpo_store_backup_t *hpo_store_backup_new (hpo_store_t *self, const char *path,
                                          char **error);
//  Copies up to pages more pages. Returns 1 when the copy is complete
//  (and renamed into place), 0 when pages remain, -1 with *error set when
//  it failed (nothing is left at path).
int hpo_store_backup_step (hpo_store_backup_t *backup, int pages, char **error);
//  Stops a copy (removing what it wrote, unless complete) and frees it.
void hpo_store_backup_destroy (hpo_store_backup_t **backup_p);
//  A copy of the database at db_path made by this process, for a
//  coordinator that is not running (a running one holds the file for
//  itself: its copy is asked for through the socket, hpo admin backup).
//  Returns 0, or -1 with *error set.
int hpo_store_backup_file (const char *db_path, const char *path, char **error);

//  ---- for tests only ---------------------------------------------------
//  The query plan SQLite picks for one of the hot statements, as the text
//  EXPLAIN QUERY PLAN prints, one line a step (for the test that checks
//  indexes are used); empty for a statement that reads no table. which:
//  "trial_update", "value_put", "values", "attempt_end", "attempts".
//  NULL for another name or on a database error; the caller frees.
char *hpo_store_explain (hpo_store_t *self, const char *which);

//  Fault injection: the next n writes run, and the one after fails as a
//  disk error would, without running (n = 0: the next write fails). A
//  write is a call that changes the database, or a commit that has a
//  transaction to commit. It fires once; n < 0 disarms it.
void hpo_store_fail_after (hpo_store_t *self, int n);
//  How many transactions the store has committed since it was opened
//  (tests check that a reply leaves only after its turn's commit).
uint64_t hpo_store_commits (hpo_store_t *self);

#endif
