/*  test_sched: the trial state machine, leases, fencing, budgets and
    recovery, with time moved by hand.                                    */
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../common/mem.h"
#include "../../coordinator/sched.h"
#include "testutil.h"

//  What the scheduler asked the server to send.
typedef struct {
    hpo_trial_t *assigned[256];
    hpo_worker_t *assigned_to[256];
    int n_assigned;
    uint64_t killed[256];
    uint32_t killed_attempt[256];
    int n_killed;
    char kill_reason[128]; //  the last Kill's
} s_events_t;

static void
s_assign (void *ctx, hpo_worker_t *w, hpo_trial_t *t)
{
    s_events_t *ev = ctx;
    ev->assigned_to[ev->n_assigned] = w;
    ev->assigned[ev->n_assigned++] = t;
}

static void
s_kill (void *ctx, hpo_worker_t *w, uint64_t trial_id, uint32_t attempt,
        const char *reason)
{
    s_events_t *ev = ctx;
    //  Counted always, recorded while there is room (a flood of Kills
    //  must fail a check, not overrun the array).
    if (ev->n_killed < 256) {
        ev->killed_attempt[ev->n_killed] = attempt;
        ev->killed[ev->n_killed] = trial_id;
    }
    snprintf (ev->kill_reason, sizeof ev->kill_reason, "%s", reason);
    ev->n_killed++;
}

//  A Hello from a worker that sends no incarnation (every test before
//  incarnations): rid is 5 bytes.
static hpo_worker_t *
s_hello (hpo_sched_t *sched, const uint8_t *rid, const char *name, uint32_t pid,
         uint32_t slots, const hpo_lease_t *leases, size_t n,
         hpo_lease_t *refused, size_t *n_refused, int64_t now)
{
    hpo_hello_t h = {.name = name,
                     .host = "h",
                     .pid = pid,
                     .slots = slots,
                     .leases = leases,
                     .n_leases = n};
    hpo_worker_t *winner = NULL;
    return hpo_sched_hello (sched, rid, 5, &h, refused, n_refused, &winner,
                            now);
}

static const char *s_spec_text =
    "name: s\n"
    "command: train {x}\n"
    "objective: {metric: loss, direction: minimize}\n"
    "sampler: {type: random, seed: 3}\n"
    "budget: {trials: 5, parallel: 4}\n"
    "trial: {retries: 1}\n"
    "space:\n"
    "  x: {type: float, low: 0, high: 1}\n";

static hpo_study_t *
s_create (hpo_sched_t *sched, const char *text)
{
    char *error = NULL;
    hpo_spec_t *spec = hpo_spec_parse (text, strlen (text), "s.yaml", &error);
    CHECK (spec != NULL);
    if (!spec) {
        fprintf (stderr, "%s\n", error);
        exit (1);
    }
    int exists;
    hpo_study_t *study =
        hpo_sched_study_create (sched, &spec, text, &exists, &error);
    CHECK (study != NULL);
    CHECK (spec == NULL);
    return study;
}

static void
s_test_table (void)
{
    //  Every legal move, and every other move refused.
    int legal[][2] = {
        {HPO_TRIAL_WAITING, HPO_TRIAL_RUNNING},
        {HPO_TRIAL_WAITING, HPO_TRIAL_FAILED},
        {HPO_TRIAL_RUNNING, HPO_TRIAL_WAITING},
        {HPO_TRIAL_RUNNING, HPO_TRIAL_COMPLETE},
        {HPO_TRIAL_RUNNING, HPO_TRIAL_PRUNED},
        {HPO_TRIAL_RUNNING, HPO_TRIAL_FAILED},
        {HPO_TRIAL_FAILED, HPO_TRIAL_WAITING}, //  a person retries it
    };
    int n_legal = 0;
    for (int from = 0; from < HPO_TRIAL_NSTATES; from++)
        for (int to = 0; to < HPO_TRIAL_NSTATES; to++) {
            int expect = 0;
            for (size_t k = 0; k < sizeof legal / sizeof *legal; k++)
                if (legal[k][0] == from && legal[k][1] == to)
                    expect = 1;
            n_legal += expect;
            CHECK (hpo_sched_legal (from, to) == expect);
        }
    CHECK (n_legal == 7);
    CHECK (!hpo_sched_legal (HPO_TRIAL_NSTATES, HPO_TRIAL_WAITING));
    CHECK (hpo_trial_state_parse ("complete") == HPO_TRIAL_COMPLETE);
    CHECK (hpo_trial_state_parse ("DONE") == -1);
}

//  ---- issue #10: promises under stress ---------------------------------

typedef struct {
    char dir[64];
    char *path;
    hpo_store_t *store;
    hpo_sched_t *sched;
    s_events_t ev;
    hpo_sched_events_t events;
    hpo_sched_config_t cfg;
} s_env_t;

static void
s_env_open (s_env_t *e, int64_t now)
{
    e->store = hpo_store_open (e->path, HPO_SYNC_OFF, &(char *){NULL});
    CHECK (e->store != NULL);
    e->events = (hpo_sched_events_t){&e->ev, s_assign, s_kill};
    e->sched = hpo_sched_new (e->store, &e->cfg, &e->events, now);
    CHECK (e->sched != NULL);
    hpo_store_begin (e->store);
}

static void
s_env_new (s_env_t *e, int64_t now)
{
    memset (e, 0, sizeof *e);
    strcpy (e->dir, "/tmp/hpo-test-sched2-XXXXXX");
    CHECK (mkdtemp (e->dir) != NULL);
    e->path = hpo_sprintf ("%s/hpo.db", e->dir);
    e->cfg = (hpo_sched_config_t){.lease_ms = 1000, .heartbeat_ms = 100};
    s_env_open (e, now);
}

//  Commits, and starts a new coordinator on the same database.
static void
s_env_restart (s_env_t *e, int64_t now)
{
    CHECK (hpo_store_commit (e->store) == 0);
    hpo_sched_destroy (&e->sched);
    hpo_store_destroy (&e->store);
    memset (&e->ev, 0, sizeof e->ev);
    s_env_open (e, now);
}

static void
s_env_destroy (s_env_t *e)
{
    CHECK (hpo_store_commit (e->store) == 0);
    hpo_sched_destroy (&e->sched);
    hpo_store_destroy (&e->store);
    char *cmd = hpo_sprintf ("rm -rf %s", e->dir);
    CHECK (system (cmd) == 0);
    free (cmd);
    free (e->path);
}

//  Worker "name" (routing id 1.1.1.1.1) says Hello with slots slots,
//  asks for want trials, and the scheduler hands them out.
static hpo_worker_t *
s_env_worker (s_env_t *e, const char *name, uint32_t slots, uint32_t want,
              int64_t now)
{
    uint8_t rid[] = {1, 1, 1, 1, 1};
    hpo_worker_t *w = s_hello (e->sched, rid, name, 1, slots, NULL, 0,
                               (hpo_lease_t[1]){{0}}, &(size_t){0}, now);
    hpo_sched_heartbeat (e->sched, w, NULL, 0, want, now);
    CHECK (hpo_sched_dispatch (e->sched, now) == 0);
    return w;
}

static hpo_worker_t *
s_hello_inc (s_env_t *e, const uint8_t *rid, const char *name, uint32_t pid,
             uint64_t incarnation, uint64_t started_us,
             const hpo_lease_t *leases, size_t n, hpo_worker_t **winner,
             int64_t now)
{
    hpo_hello_t h = {.name = name,
                     .host = "h",
                     .pid = pid,
                     .slots = 4,
                     .incarnation = incarnation,
                     .started_us = started_us,
                     .leases = leases,
                     .n_leases = n};
    hpo_lease_t refused[16];
    size_t n_refused;
    return hpo_sched_hello (e->sched, rid, 5, &h, refused, &n_refused, winner,
                            now);
}

static const char *s_spec_lost =
    "name: l\n"
    "command: train {x}\n"
    "objective: {metric: loss, direction: minimize}\n"
    "budget: {trials: 1}\n"
    "trial: {retries: 0, max_lost: 2}\n"
    "space:\n"
    "  x: {type: float, low: 0, high: 1}\n";

static int
s_count_value (void *ctx, int64_t step, const char *metric, double value)
{
    (*(int *)ctx)++;
    return 0;
}

//  #1: reports that a Finish overtook are stored, acknowledged, no Kill.
static void
s_test_late_reports (void)
{
    s_env_t e;
    int64_t now = 5000000;
    s_env_new (&e, now);
    hpo_study_t *study = s_create (e.sched, s_spec_lost);
    hpo_worker_t *w = s_env_worker (&e, "w", 1, 1, now);
    CHECK (e.ev.n_assigned == 1);
    hpo_trial_t *t = e.ev.assigned[0];
    char *m[] = {"loss"};
    double v[] = {0.5};
    CHECK (hpo_sched_report (e.sched, w, t->id, 1, 1, 0, m, v, 1, now) ==
           HPO_SCHED_OK);
    CHECK (hpo_sched_finish (e.sched, w, t->id, 1, HPO_FINISH_COMPLETE, 1, 0.2,
                             NULL, NULL, now) == HPO_SCHED_OK);
    CHECK (t->state == HPO_TRIAL_COMPLETE);
    //  Steps 1 and 2 arrive after the Finish: stored, OK, no Kill.
    for (int64_t step = 1; step <= 2; step++)
        CHECK (hpo_sched_report (e.sched, w, t->id, 1, 1, step, m, v, 1, now) ==
               HPO_SCHED_OK);
    //  A resend of one of them changes nothing.
    CHECK (hpo_sched_report (e.sched, w, t->id, 1, 1, 2, m, v, 1, now) ==
           HPO_SCHED_OK);
    int n_values = 0;
    CHECK (hpo_store_values (e.store, t->id, s_count_value, &n_values) == 0);
    CHECK (n_values == 3);
    CHECK (t->state == HPO_TRIAL_COMPLETE && study->best == t);
    //  Another worker, or another attempt, is still stale.
    uint8_t rid2[] = {2, 2, 2, 2, 2};
    hpo_worker_t *w2 = s_hello (e.sched, rid2, "w2", 2, 1, NULL, 0,
                                (hpo_lease_t[1]){{0}}, &(size_t){0}, now);
    CHECK (hpo_sched_report (e.sched, w2, t->id, 1, 1, 3, m, v, 1, now) ==
           HPO_SCHED_STALE);
    CHECK (hpo_sched_report (e.sched, w, t->id, 2, 1, 3, m, v, 1, now) ==
           HPO_SCHED_STALE);
    //  After a restart too: the complete trial's last attempt is known.
    uint64_t id = t->id;
    s_env_restart (&e, now);
    t = hpo_sched_trial (e.sched, id);
    CHECK (t->finished == 1);
    w = s_hello (e.sched, (uint8_t[]){1, 1, 1, 1, 1}, "w", 1, 1, NULL, 0,
                 (hpo_lease_t[1]){{0}}, &(size_t){0}, now);
    CHECK (hpo_sched_report (e.sched, w, t->id, 1, 1, 3, m, v, 1, now) ==
           HPO_SCHED_OK);
    s_env_destroy (&e);
}

//  #3: the coordinator's own stall is not the workers' silence.
static void
s_test_stall_shift (void)
{
    s_env_t e;
    int64_t now = 5000000;
    s_env_new (&e, now);
    s_create (e.sched, s_spec_lost);
    hpo_worker_t *w = s_env_worker (&e, "w", 1, 1, now);
    hpo_trial_t *t = e.ev.assigned[0];
    CHECK (t->deadline == now + 1000);
    //  The loop was stopped for 2.5 leases: everything moves with it.
    hpo_sched_shift (e.sched, 2500);
    CHECK (t->deadline == now + 3500);
    CHECK (hpo_sched_next_deadline (e.sched) == now + 3500);
    now += 2600;
    CHECK (hpo_sched_expire (e.sched, now) == 0);
    CHECK (t->state == HPO_TRIAL_RUNNING);
    CHECK (hpo_sched_worker_alive (e.sched, w, now));
    //  A heartbeat read after the stall renews it as usual.
    hpo_lease_t held = {t->id, t->attempt};
    hpo_sched_heartbeat (e.sched, w, &held, 1, 0, now);
    CHECK (t->deadline == now + 1000);
    //  Without the shift, it would have expired: a real silence does.
    now += 1000;
    CHECK (hpo_sched_expire (e.sched, now) == 0);
    CHECK (t->state == HPO_TRIAL_WAITING);
    CHECK_CONTAINS (t->reason, "worker w silent for 1000 ms");
    s_env_destroy (&e);
}

//  #4 and issue #9: a trial not claimed after a restart is LOST with a
//  true reason and re-run; lost attempts spend max_lost, never retries.
static void
s_test_lost_budget (void)
{
    s_env_t e;
    int64_t now = 5000000;
    s_env_new (&e, now);
    e.cfg.restart_grace_ms = 3000;
    hpo_study_t *study = s_create (e.sched, s_spec_lost);
    hpo_worker_t *w = s_env_worker (&e, "w0", 1, 1, now);
    hpo_trial_t *t = e.ev.assigned[0];
    uint64_t id = t->id;
    //  The Assign was committed and the coordinator killed before it
    //  reached w0. After the restart w0 says Hello without the lease and
    //  heartbeats all along: the lease runs out, not because w0 was
    //  silent.
    s_env_restart (&e, now);
    study = hpo_sched_study (e.sched, "l");
    t = hpo_sched_trial (e.sched, id);
    CHECK (t->state == HPO_TRIAL_RUNNING && t->unclaimed);
    w = s_hello (e.sched, (uint8_t[]){1, 1, 1, 1, 1}, "w0", 1, 1, NULL, 0,
                 (hpo_lease_t[1]){{0}}, &(size_t){0}, now);
    for (int k = 0; k < 4; k++) {
        now += 800;
        hpo_sched_heartbeat (e.sched, w, NULL, 0, 0, now);
        CHECK (hpo_sched_expire (e.sched, now) == 0);
    }
    CHECK (t->state == HPO_TRIAL_WAITING); //  re-run, though retries: 0
    CHECK (t->lost == 1 && t->failures == 0);
    CHECK_CONTAINS (t->reason,
                    "not claimed by worker w0 after the coordinator restarted");
    CHECK (strstr (t->reason, "silent") == NULL);
    //  Attempt 2 on w0 is lost too: its lease runs out while w0 is alive
    //  but stops listing it. That is said, not "silent".
    hpo_sched_heartbeat (e.sched, w, NULL, 0, 1, now);
    CHECK (hpo_sched_dispatch (e.sched, now) == 0);
    CHECK (t->attempt == 2 && t->state == HPO_TRIAL_RUNNING);
    for (int k = 0; k < 2; k++) {
        now += 600;
        hpo_sched_heartbeat (e.sched, w, NULL, 0, 0, now);
        CHECK (hpo_sched_expire (e.sched, now) == 0);
    }
    CHECK (t->state == HPO_TRIAL_WAITING && t->lost == 2);
    CHECK_CONTAINS (t->reason, "alive but stopped renewing");
    //  Attempt 3 is lost: max_lost (2) is spent, the trial FAILED.
    hpo_sched_heartbeat (e.sched, w, NULL, 0, 1, now);
    CHECK (hpo_sched_dispatch (e.sched, now) == 0);
    CHECK (t->attempt == 3);
    now += 1001;
    CHECK (hpo_sched_expire (e.sched, now) == 0);
    CHECK (t->state == HPO_TRIAL_FAILED && t->lost == 3 && t->failures == 0);
    CHECK_CONTAINS (t->reason, "worker w0 silent");
    CHECK (study->state == HPO_STUDY_FINISHED);
    //  The lost count survives a restart.
    s_env_restart (&e, now);
    t = hpo_sched_trial (e.sched, id);
    CHECK (t->lost == 3 && t->failures == 0);
    s_env_destroy (&e);
}

//  Two live processes with one name: the one started later keeps it.
static void
s_test_incarnation (void)
{
    s_env_t e;
    int64_t now = 5000000;
    s_env_new (&e, now);
    hpo_study_t *study = s_create (
        e.sched, "name: i\ncommand: t {x}\nobjective: {metric: loss}\n"
                 "budget: {trials: 3}\nspace: {x: {type: int, low: 1, "
                 "high: 3}}\n");
    uint8_t rid_old[] = {1, 1, 1, 1, 1}, rid_new[] = {2, 2, 2, 2, 2},
            rid_older[] = {3, 3, 3, 3, 3}, rid_re[] = {4, 4, 4, 4, 4};
    hpo_worker_t *winner = NULL;
    hpo_worker_t *old =
        s_hello_inc (&e, rid_old, "w", 10, 111, 1000, NULL, 0, &winner, now);
    CHECK (old != NULL && winner == NULL);
    hpo_sched_heartbeat (e.sched, old, NULL, 0, 2, now);
    CHECK (hpo_sched_dispatch (e.sched, now) == 0);
    CHECK (old->held == 2);
    hpo_trial_t *t0 = e.ev.assigned[0], *t1 = e.ev.assigned[1];
    //  A process started earlier than the one holding the name: refused,
    //  told who holds it, given nothing.
    CHECK (s_hello_inc (&e, rid_older, "w", 9, 222, 500, NULL, 0, &winner,
                        now) == NULL);
    CHECK (winner == old);
    CHECK (hpo_sched_worker (e.sched, rid_older, 5) == NULL);
    //  The same process on a new connection: a reconnect, as always.
    hpo_lease_t both[2] = {{t0->id, 1}, {t1->id, 1}};
    hpo_worker_t *re =
        s_hello_inc (&e, rid_re, "w", 10, 111, 1000, both, 2, &winner, now);
    CHECK (re != NULL && old->gone && !old->replaced_by);
    CHECK (re->held == 2);
    old = re;
    //  A process started later takes the name. It claims t0; t1, which
    //  it cannot be running, is lost at once and re-run.
    hpo_lease_t claim = {t0->id, 1};
    hpo_worker_t *nw =
        s_hello_inc (&e, rid_new, "w", 11, 333, 2000, &claim, 1, &winner, now);
    CHECK (nw != NULL);
    CHECK (old->gone && old->replaced_by != NULL);
    CHECK_CONTAINS (old->replaced_by, "pid 11");
    CHECK (t0->worker == nw && t0->state == HPO_TRIAL_RUNNING);
    CHECK (t1->state == HPO_TRIAL_WAITING && t1->lost == 1);
    CHECK_CONTAINS (t1->reason, "replaced by a newer process");
    //  The replaced session is still known by its routing id (so its
    //  next message can be told), but takes no part.
    CHECK (hpo_sched_worker (e.sched, rid_re, 5) == old);
    hpo_worker_t **ws;
    size_t n = hpo_sched_workers (e.sched, &ws), live = 0;
    for (size_t k = 0; k < n; k++)
        live += !ws[k]->gone;
    CHECK (live == 1);
    CHECK (study->count[HPO_TRIAL_RUNNING] == 1);
    s_env_destroy (&e);
}

//  Goodbye: no more work; the attempts named end LOST and are re-run.
static void
s_test_goodbye (void)
{
    s_env_t e;
    int64_t now = 5000000;
    s_env_new (&e, now);
    hpo_study_t *study = s_create (
        e.sched, "name: g\ncommand: t {x}\nobjective: {metric: loss}\n"
                 "budget: {trials: 3}\nspace: {x: {type: int, low: 1, "
                 "high: 3}}\n");
    hpo_worker_t *w = s_env_worker (&e, "w", 4, 2, now);
    CHECK (w->held == 2);
    hpo_trial_t *t0 = e.ev.assigned[0];
    hpo_lease_t leases[2] = {{t0->id, 1}, {999999, 1}}; //  one unknown
    CHECK (hpo_sched_goodbye (e.sched, w, leases, 2, "SIGTERM", now) == 0);
    CHECK (t0->state == HPO_TRIAL_WAITING && t0->lost == 1);
    CHECK_STR (t0->reason, "worker w stopped: SIGTERM");
    CHECK (w->held == 1);
    //  Whatever it asks afterwards, it gets nothing.
    int before = e.ev.n_assigned;
    hpo_sched_heartbeat (e.sched, w, NULL, 0, 4, now);
    CHECK (hpo_sched_dispatch (e.sched, now) == 0);
    CHECK (e.ev.n_assigned == before);
    CHECK (study->count[HPO_TRIAL_RUNNING] == 1);
    s_env_destroy (&e);
}

//  A heartbeat listing 65,536 leases it does not hold draws a bounded
//  number of Kills, each lease once.
static void
s_test_kill_bound (void)
{
    s_env_t e;
    int64_t now = 5000000;
    s_env_new (&e, now);
    uint8_t rid[] = {1, 1, 1, 1, 1};
    hpo_worker_t *w = s_hello (e.sched, rid, "w", 1, 4, NULL, 0,
                               (hpo_lease_t[1]){{0}}, &(size_t){0}, now);
    size_t n = 65536;
    hpo_lease_t *leases = hpo_calloc (n, sizeof *leases);
    for (size_t k = 0; k < n; k++)
        leases[k] = (hpo_lease_t){k % 10 + 1000000, 1}; //  10 distinct
    hpo_sched_heartbeat (e.sched, w, leases, n, 0, now);
    CHECK (e.ev.n_killed == 10);
    e.ev.n_killed = 0;
    for (size_t k = 0; k < n; k++)
        leases[k] = (hpo_lease_t){k + 1000000, 1};
    hpo_sched_heartbeat (e.sched, w, leases, n, 0, now);
    CHECK (e.ev.n_killed == HPO_SCHED_MAX_KILLS);
    free (leases);
    s_env_destroy (&e);
}

//  A value that is not a number never becomes best, nor reaches the store.
static void
s_test_nan (void)
{
    s_env_t e;
    int64_t now = 5000000;
    s_env_new (&e, now);
    hpo_study_t *study = s_create (
        e.sched, "name: n\ncommand: t {x}\nobjective: {metric: loss}\n"
                 "budget: {trials: 2}\nspace: {x: {type: int, low: 1, "
                 "high: 3}}\n");
    hpo_worker_t *w = s_env_worker (&e, "w", 4, 2, now);
    hpo_trial_t *t0 = e.ev.assigned[0], *t1 = e.ev.assigned[1];
    char *m[] = {"loss"};
    double v[] = {NAN};
    CHECK (hpo_sched_report (e.sched, w, t0->id, 1, 1, 0, m, v, 1, now) ==
           HPO_SCHED_OK);
    int n_values = 0;
    CHECK (hpo_store_values (e.store, t0->id, s_count_value, &n_values) == 0);
    CHECK (n_values == 0);
    CHECK (hpo_sched_finish (e.sched, w, t0->id, 1, HPO_FINISH_COMPLETE, 1, NAN,
                             NULL, NULL, now) == HPO_SCHED_OK);
    CHECK (t0->state == HPO_TRIAL_FAILED && !t0->has_value);
    CHECK (study->best == NULL);
    CHECK (hpo_sched_finish (e.sched, w, t1->id, 1, HPO_FINISH_COMPLETE, 1,
                             -INFINITY, NULL, NULL, now) == HPO_SCHED_OK);
    CHECK (study->best == NULL);
    s_env_destroy (&e);
}

//  ---- the transition table, row by row ---------------------------------

static const char *s_spec_rows = "name: r\n"
                                 "command: t {x}\n"
                                 "objective: {metric: loss}\n"
                                 "budget: {trials: 2}\n"
                                 "trial: {retries: 1, max_lost: 1}\n"
                                 "space: {x: {type: int, low: 1, high: 3}}\n";

//  One study of two trials (retries 1, max_lost 1), both RUNNING on one
//  worker with two slots: e->ev.assigned[0] and [1].
typedef struct {
    s_env_t e;
    int64_t now;
    hpo_study_t *study;
    hpo_worker_t *w;
    hpo_trial_t *t0, *t1;
} s_rows_t;

static void
s_rows_new (s_rows_t *r)
{
    r->now = 5000000;
    s_env_new (&r->e, r->now);
    r->study = s_create (r->e.sched, s_spec_rows);
    r->w = s_env_worker (&r->e, "w", 2, 2, r->now);
    CHECK (r->e.ev.n_assigned == 2);
    r->t0 = r->e.ev.assigned[0];
    r->t1 = r->e.ev.assigned[1];
}

//  Hands out one trial to the worker's one free slot; returns it.
static hpo_trial_t *
s_rows_dispatch (s_rows_t *r)
{
    int before = r->e.ev.n_assigned;
    hpo_sched_heartbeat (r->e.sched, r->w, NULL, 0, 1, r->now);
    CHECK (hpo_sched_dispatch (r->e.sched, r->now) == 0);
    CHECK (r->e.ev.n_assigned == before + 1);
    return r->e.ev.n_assigned > before ? r->e.ev.assigned[before] : NULL;
}

static hpo_sched_rc_t
s_rows_finish (s_rows_t *r, hpo_trial_t *t, hpo_finish_t outcome, double value,
               const char *reason)
{
    return hpo_sched_finish (r->e.sched, r->w, t->id, t->attempt, outcome,
                             outcome != HPO_FINISH_FAILED, value, reason, NULL,
                             r->now);
}

static hpo_sched_rc_t
s_rows_apply (s_rows_t *r, hpo_trial_t *t, hpo_sched_ev_t type,
              const char *reason)
{
    hpo_sched_event_t ev = {.type = type, .reason = reason};
    return hpo_sched_apply (r->e.sched, t, &ev);
}

//  The attempts' rows in the store, as "OUTCOME:reason" joined by ",".
typedef struct {
    char text[512];
    int n;
} s_attempts_t;

static int
s_attempt_row (void *ctx, const hpo_store_attempt_row_t *row)
{
    s_attempts_t *a = ctx;
    size_t len = strlen (a->text);
    snprintf (a->text + len, sizeof a->text - len, "%s%u %s:%s",
              a->n++ ? "," : "", row->attempt, row->outcome,
              row->reason ? row->reason : "");
    return 0;
}

static const char *
s_attempts (s_rows_t *r, hpo_trial_t *t)
{
    static s_attempts_t a;
    memset (&a, 0, sizeof a);
    CHECK (hpo_store_attempts (r->e.store, t->id, s_attempt_row, &a) == 0);
    return a.text;
}

//  Is the trial's lease gone, and the worker's hold with it?
static int
s_released (s_rows_t *r, hpo_trial_t *t)
{
    return t->worker == NULL && t->heap_index == SIZE_MAX;
}

//  The study's counts agree with its trials' states.
static int
s_counts_true (hpo_study_t *study)
{
    uint64_t count[HPO_TRIAL_NSTATES] = {0};
    for (size_t k = 0; k < study->n_trials; k++)
        count[study->trials[k]->state]++;
    return memcmp (count, study->count, sizeof count) == 0;
}

//  ASSIGN: a new attempt, leased, sent. COMPLETE: lease released,
//  attempt row, best updated; the last one ends the study.
static void
s_test_row_assign_complete (void)
{
    s_rows_t r;
    s_rows_new (&r);
    CHECK (r.t0->state == HPO_TRIAL_RUNNING && r.t0->attempt == 1);
    CHECK (r.t0->worker == r.w && r.w->held == 2 && r.w->want == 0);
    CHECK (r.t0->deadline == r.now + 1000 && r.t0->heap_index != SIZE_MAX);
    CHECK (r.study->count[HPO_TRIAL_RUNNING] == 2);
    CHECK (s_rows_finish (&r, r.t0, HPO_FINISH_COMPLETE, 0.3, NULL) ==
           HPO_SCHED_OK);
    CHECK (r.t0->state == HPO_TRIAL_COMPLETE && r.t0->value == 0.3);
    CHECK (s_released (&r, r.t0) && r.w->held == 1);
    CHECK_STR (s_attempts (&r, r.t0), "1 COMPLETE:");
    CHECK (r.study->best == r.t0);
    CHECK (r.study->state == HPO_STUDY_RUNNING); //  t1 still runs
    CHECK (s_rows_finish (&r, r.t1, HPO_FINISH_COMPLETE, 0.5, NULL) ==
           HPO_SCHED_OK);
    CHECK (r.study->best == r.t0); //  0.5 is worse (minimize)
    CHECK (r.study->state == HPO_STUDY_FINISHED && r.study->ended > 0);
    CHECK (hpo_sched_next_deadline (r.e.sched) == INT64_MAX);
    CHECK (s_counts_true (r.study));
    s_env_destroy (&r.e);
}

//  PRUNED (the program pruned itself): released, its value kept, never
//  best; the last one ends the study.
static void
s_test_row_pruned (void)
{
    s_rows_t r;
    s_rows_new (&r);
    CHECK (s_rows_finish (&r, r.t0, HPO_FINISH_PRUNED, 0.1, NULL) ==
           HPO_SCHED_OK);
    CHECK (r.t0->state == HPO_TRIAL_PRUNED && r.t0->has_value &&
           r.t0->value == 0.1);
    CHECK (s_released (&r, r.t0) && r.w->held == 1);
    CHECK_STR (s_attempts (&r, r.t0), "1 PRUNED:");
    CHECK (r.study->best == NULL);
    CHECK (r.e.ev.n_killed == 0); //  the program stopped itself
    CHECK (s_rows_finish (&r, r.t1, HPO_FINISH_PRUNED, 0.2, NULL) ==
           HPO_SCHED_OK);
    CHECK (r.study->state == HPO_STUDY_FINISHED);
    s_env_destroy (&r.e);
}

//  FAIL with retries left: WAITING, first in line. FAIL with none
//  left: FAILED, and the study may end.
static void
s_test_row_fail (void)
{
    s_rows_t r;
    s_rows_new (&r);
    CHECK (s_rows_finish (&r, r.t0, HPO_FINISH_FAILED, 0, "exit status 2") ==
           HPO_SCHED_OK);
    CHECK (r.t0->state == HPO_TRIAL_WAITING && r.t0->failures == 1);
    CHECK (s_released (&r, r.t0) && r.w->held == 1);
    CHECK_STR (r.t0->reason, "exit status 2");
    CHECK_STR (s_attempts (&r, r.t0), "1 FAILED:exit status 2");
    //  No reason given: the trial says the attempt failed.
    CHECK (s_rows_finish (&r, r.t1, HPO_FINISH_FAILED, 0, NULL) ==
           HPO_SCHED_OK);
    CHECK_STR (r.t1->reason, "attempt failed");
    CHECK (r.study->count[HPO_TRIAL_WAITING] == 2);
    //  Requeued at the front: the last one to fail runs first.
    CHECK (s_rows_dispatch (&r) == r.t1);
    CHECK (r.t1->attempt == 2);
    CHECK (s_rows_finish (&r, r.t1, HPO_FINISH_FAILED, 0, "exit status 3") ==
           HPO_SCHED_OK);
    CHECK (r.t1->state == HPO_TRIAL_FAILED && r.t1->failures == 2);
    CHECK (s_released (&r, r.t1) && r.t1->ended > 0);
    CHECK_STR (s_attempts (&r, r.t1), "1 FAILED:,2 FAILED:exit status 3");
    //  A failed attempt's Finish again is an idempotent repeat.
    CHECK (hpo_sched_finish (r.e.sched, r.w, r.t1->id, 2, HPO_FINISH_FAILED, 0,
                             0, "exit status 3", NULL, r.now) == HPO_SCHED_OK);
    CHECK (r.study->state == HPO_STUDY_RUNNING); //  t0 waits
    CHECK (s_rows_dispatch (&r) == r.t0);
    CHECK (s_rows_finish (&r, r.t0, HPO_FINISH_COMPLETE, 1, NULL) ==
           HPO_SCHED_OK);
    CHECK (r.study->state == HPO_STUDY_FINISHED);
    CHECK (s_counts_true (r.study));
    s_env_destroy (&r.e);
}

//  LOSE with max_lost left: WAITING, first in line, retries untouched;
//  with none left: FAILED, and the reason blames the workers.
static void
s_test_row_lose (void)
{
    s_rows_t r;
    s_rows_new (&r);
    CHECK (s_rows_apply (&r, r.t0, HPO_SCHED_LOSE, "worker w vanished") ==
           HPO_SCHED_OK);
    CHECK (r.t0->state == HPO_TRIAL_WAITING && r.t0->lost == 1 &&
           r.t0->failures == 0);
    CHECK (s_released (&r, r.t0) && r.w->held == 1);
    CHECK_STR (s_attempts (&r, r.t0), "1 LOST:worker w vanished");
    CHECK (r.e.ev.n_killed == 0);
    //  The lost attempt's Finish is stale: the loss was counted.
    CHECK (hpo_sched_finish (r.e.sched, r.w, r.t0->id, 1, HPO_FINISH_COMPLETE,
                             1, 0.1, NULL, NULL, r.now) == HPO_SCHED_STALE);
    CHECK (s_rows_dispatch (&r) == r.t0 && r.t0->attempt == 2);
    CHECK (s_rows_apply (&r, r.t0, HPO_SCHED_LOSE, "worker w vanished") ==
           HPO_SCHED_OK);
    CHECK (r.t0->state == HPO_TRIAL_FAILED && r.t0->lost == 2);
    CHECK_CONTAINS (r.t0->reason, "trial.max_lost is 1");
    CHECK_STR (s_attempts (&r, r.t0),
               "1 LOST:worker w vanished,2 LOST:worker w vanished");
    CHECK (s_rows_finish (&r, r.t1, HPO_FINISH_COMPLETE, 1, NULL) ==
           HPO_SCHED_OK);
    CHECK (r.study->state == HPO_STUDY_FINISHED);
    s_env_destroy (&r.e);
}

//  PRUNE (the study's pruner decides): the worker is told to kill the
//  attempt with the reason; PRUNED with the value given; the attempt's
//  late reports and its Finish are answered OK and change nothing.
static void
s_test_row_prune (void)
{
    s_rows_t r;
    s_rows_new (&r);
    hpo_sched_event_t ev = {.type = HPO_SCHED_PRUNE,
                            .reason = "below the median at step 3",
                            .has_value = 1,
                            .value = 0.9};
    CHECK (hpo_sched_apply (r.e.sched, r.t0, &ev) == HPO_SCHED_OK);
    CHECK (r.e.ev.n_killed == 1 && r.e.ev.killed[0] == r.t0->id &&
           r.e.ev.killed_attempt[0] == 1);
    CHECK_STR (r.e.ev.kill_reason, "below the median at step 3");
    CHECK (r.t0->state == HPO_TRIAL_PRUNED && r.t0->value == 0.9);
    CHECK_STR (r.t0->reason, "below the median at step 3");
    CHECK (s_released (&r, r.t0) && r.w->held == 1);
    CHECK_STR (s_attempts (&r, r.t0), "1 PRUNED:below the median at step 3");
    CHECK (r.study->best == NULL);
    char *m[] = {"loss"};
    double v[] = {0.95};
    CHECK (hpo_sched_report (r.e.sched, r.w, r.t0->id, 1, 1, 4, m, v, 1,
                             r.now) == HPO_SCHED_OK);
    CHECK (hpo_sched_finish (r.e.sched, r.w, r.t0->id, 1, HPO_FINISH_FAILED, 0,
                             0, "killed", NULL, r.now) == HPO_SCHED_OK);
    CHECK (r.t0->state == HPO_TRIAL_PRUNED);
    CHECK (s_rows_apply (&r, r.t1, HPO_SCHED_PRUNE, NULL) == HPO_SCHED_OK);
    CHECK_STR (r.t1->reason, "pruned");
    CHECK (r.study->state == HPO_STUDY_FINISHED);
    s_env_destroy (&r.e);
}

//  STOP_NOW (a person): the worker is told to kill it; FAILED "stopped",
//  without spending a retry.
static void
s_test_row_stop_now (void)
{
    s_rows_t r;
    s_rows_new (&r);
    CHECK (s_rows_apply (&r, r.t0, HPO_SCHED_STOP_NOW, NULL) == HPO_SCHED_OK);
    CHECK (r.e.ev.n_killed == 1 && r.e.ev.killed[0] == r.t0->id);
    CHECK_STR (r.e.ev.kill_reason, "stopped");
    CHECK (r.t0->state == HPO_TRIAL_FAILED && r.t0->failures == 0);
    CHECK_STR (r.t0->reason, "stopped");
    CHECK (s_released (&r, r.t0) && r.w->held == 1);
    CHECK_STR (s_attempts (&r, r.t0), "1 FAILED:");
    CHECK (s_rows_apply (&r, r.t1, HPO_SCHED_STOP_NOW, NULL) == HPO_SCHED_OK);
    CHECK (r.study->state == HPO_STUDY_FINISHED);
    s_env_destroy (&r.e);
}

//  RETRY (a person): FAILED -> WAITING with budgets afresh, first in
//  line; a FINISHED study runs again, and finishes again.
static void
s_test_row_retry (void)
{
    s_rows_t r;
    s_rows_new (&r);
    CHECK (s_rows_finish (&r, r.t0, HPO_FINISH_FAILED, 0, "exit 1") ==
           HPO_SCHED_OK);
    CHECK (s_rows_finish (&r, r.t1, HPO_FINISH_COMPLETE, 1, NULL) ==
           HPO_SCHED_OK);
    CHECK (s_rows_dispatch (&r) == r.t0);
    CHECK (s_rows_finish (&r, r.t0, HPO_FINISH_FAILED, 0, "exit 1") ==
           HPO_SCHED_OK);
    CHECK (r.t0->state == HPO_TRIAL_FAILED && r.t0->failures == 2);
    CHECK (r.study->state == HPO_STUDY_FINISHED);
    CHECK (s_rows_apply (&r, r.t0, HPO_SCHED_RETRY, NULL) == HPO_SCHED_OK);
    CHECK (r.t0->state == HPO_TRIAL_WAITING);
    CHECK (r.t0->failures == 0 && r.t0->lost == 0 && r.t0->ended == 0);
    CHECK (r.study->state == HPO_STUDY_RUNNING && r.study->ended == 0);
    CHECK (r.study->count[HPO_TRIAL_WAITING] == 1);
    CHECK (s_rows_dispatch (&r) == r.t0);
    CHECK (r.t0->attempt == 3);
    CHECK (s_rows_finish (&r, r.t0, HPO_FINISH_COMPLETE, 0.5, NULL) ==
           HPO_SCHED_OK);
    CHECK (r.study->best == r.t0);
    CHECK (r.study->state == HPO_STUDY_FINISHED);
    CHECK_STR (s_attempts (&r, r.t0),
               "1 FAILED:exit 1,2 FAILED:exit 1,3 COMPLETE:");
    s_env_destroy (&r.e);
}

//  STUDY_STOP: a trial waiting for its retry fails when its study stops;
//  the study is STOPPED once the running one ends.
static void
s_test_row_study_stop (void)
{
    s_rows_t r;
    s_rows_new (&r);
    CHECK (s_rows_finish (&r, r.t0, HPO_FINISH_FAILED, 0, "exit 1") ==
           HPO_SCHED_OK);
    CHECK (r.t0->state == HPO_TRIAL_WAITING);
    char *message;
    CHECK (hpo_sched_study_stop (r.e.sched, r.study, 0, &message) == 0);
    free (message);
    CHECK (r.t0->state == HPO_TRIAL_FAILED && r.t0->ended > 0);
    CHECK_STR (r.t0->reason, "study stopped before a retry ran");
    CHECK_STR (s_attempts (&r, r.t0), "1 FAILED:exit 1"); //  no new row
    CHECK (r.study->state == HPO_STUDY_STOPPING);
    //  The running one fails with a retry left: none for a stopped study.
    CHECK (s_rows_finish (&r, r.t1, HPO_FINISH_FAILED, 0, "exit 1") ==
           HPO_SCHED_OK);
    CHECK (r.t1->state == HPO_TRIAL_FAILED && r.t1->failures == 1);
    CHECK (r.study->state == HPO_STUDY_STOPPED);
    //  Stopping it again changes nothing, and says so.
    CHECK (hpo_sched_study_stop (r.e.sched, r.study, 0, &message) == 1);
    CHECK_STR (message, "study r is already STOPPED");
    free (message);
    CHECK (r.study->state == HPO_STUDY_STOPPED);
    s_env_destroy (&r.e);
}

//  A pair without a row is STALE and changes nothing.
static void
s_test_row_missing (void)
{
    s_rows_t r;
    s_rows_new (&r);
    CHECK (s_rows_finish (&r, r.t0, HPO_FINISH_COMPLETE, 0.3, NULL) ==
           HPO_SCHED_OK);
    uint64_t count[HPO_TRIAL_NSTATES];
    memcpy (count, r.study->count, sizeof count);
    hpo_sched_ev_t stale[] = {HPO_SCHED_RETRY, HPO_SCHED_PRUNE,
                              HPO_SCHED_ASSIGN, HPO_SCHED_STUDY_STOP,
                              HPO_SCHED_NEVENTS};
    for (size_t k = 0; k < sizeof stale / sizeof *stale; k++) {
        CHECK (s_rows_apply (&r, r.t0, stale[k], NULL) == HPO_SCHED_STALE);
        CHECK (s_rows_apply (&r, r.t1, HPO_SCHED_RETRY, NULL) ==
               HPO_SCHED_STALE);
    }
    CHECK (r.t0->state == HPO_TRIAL_COMPLETE && r.t0->attempt == 1);
    CHECK (r.t1->state == HPO_TRIAL_RUNNING && r.t1->worker == r.w);
    CHECK (memcmp (count, r.study->count, sizeof count) == 0);
    CHECK (r.e.ev.n_killed == 0 && r.e.ev.n_assigned == 2);
    CHECK (!hpo_sched_legal (HPO_TRIAL_COMPLETE, HPO_TRIAL_WAITING));
    CHECK_STR (hpo_sched_ev_str (HPO_SCHED_STOP_NOW), "STOP_NOW");
    s_env_destroy (&r.e);
}

//  Loading from the store counts trials as creating and moving them did.
static void
s_test_counts_restart (void)
{
    s_env_t e;
    int64_t now = 5000000;
    s_env_new (&e, now);
    hpo_study_t *study = s_create (
        e.sched, "name: c\ncommand: t {x}\nobjective: {metric: loss}\n"
                 "budget: {trials: 6}\ntrial: {retries: 1}\n"
                 //  Six configurations at least: a finite space hands
                 //  each out once (search/suggest.h).
                 "space: {x: {type: int, low: 1, high: 9}}\n");
    hpo_worker_t *w = s_env_worker (&e, "w", 5, 5, now);
    hpo_trial_t **t = e.ev.assigned;
    CHECK (hpo_sched_finish (e.sched, w, t[0]->id, 1, HPO_FINISH_COMPLETE, 1,
                             0.5, NULL, NULL, now) == HPO_SCHED_OK);
    CHECK (hpo_sched_finish (e.sched, w, t[1]->id, 1, HPO_FINISH_PRUNED, 1, 0.7,
                             NULL, NULL, now) == HPO_SCHED_OK);
    hpo_sched_event_t stop = {.type = HPO_SCHED_STOP_NOW};
    CHECK (hpo_sched_apply (e.sched, t[2], &stop) == HPO_SCHED_OK);
    CHECK (hpo_sched_finish (e.sched, w, t[3]->id, 1, HPO_FINISH_FAILED, 0, 0,
                             "exit 1", NULL, now) == HPO_SCHED_OK);
    uint64_t before[HPO_TRIAL_NSTATES];
    memcpy (before, study->count, sizeof before);
    for (int k = 0; k < HPO_TRIAL_NSTATES; k++)
        CHECK (before[k] == 1); //  one trial in each state
    CHECK (s_counts_true (study));
    s_env_restart (&e, now);
    study = hpo_sched_study (e.sched, "c");
    CHECK (memcmp (before, study->count, sizeof before) == 0);
    CHECK (s_counts_true (study));
    CHECK (study->best && study->best->number == 0);
    s_env_destroy (&e);
}

//  Random search is reproducible: a second coordinator on another
//  database, with the same seed, draws the same parameters for the same
//  trial numbers; another seed draws others.
static void
s_draw (const char *spec, double *x, int n)
{
    s_env_t e;
    int64_t now = 5000000;
    s_env_new (&e, now);
    s_create (e.sched, spec);
    s_env_worker (&e, "w", n, n, now);
    CHECK (e.ev.n_assigned == n);
    for (int k = 0; k < e.ev.n_assigned && k < n; k++) {
        hpo_trial_t *t = e.ev.assigned[k];
        CHECK (t->params[0].kind == HPO_KIND_FLOAT);
        x[t->number] = t->params[0].f;
    }
    s_env_destroy (&e);
}

static void
s_test_reproducible (void)
{
    double a[4] = {0}, b[4] = {0}, c[4] = {0};
    s_draw (s_spec_text, a, 4);
    s_draw (s_spec_text, b, 4);
    char *other = hpo_strdup (s_spec_text);
    memcpy (strstr (other, "seed: 3"), "seed: 4", 7);
    s_draw (other, c, 4);
    free (other);
    for (int k = 0; k < 4; k++) {
        CHECK (a[k] >= 0 && a[k] <= 1);
        CHECK (a[k] == b[k]);
        CHECK (a[k] != c[k]);
    }
}

//  ---- samplers, pruners and the history --------------------------------

//  The history as text: one line per trial, "number state value params
//  | step:value ...", values printed exactly.
static char *
s_history_text (const hpo_history_t *h)
{
    char *text = hpo_sprintf ("n=%zu params=%zu\n", h->n, h->n_params);
    for (size_t k = 0; k < h->n; k++) {
        char *line =
            hpo_sprintf ("%zu %s %.17g", k, hpo_trial_state_str (h->states[k]),
                         h->values[k]);
        for (size_t p = 0; p < h->n_params; p++) {
            char *v = hpo_value_format (&h->params[k * h->n_params + p]);
            char *next = hpo_sprintf ("%s %s", line, v);
            free (v);
            free (line);
            line = next;
        }
        const hpo_curve_t *c = &h->curves[k];
        for (size_t p = 0; p < c->n; p++) {
            char *next = hpo_sprintf ("%s %s%" PRId64 ":%.17g", line,
                                      p ? "" : "| ", c->steps[p], c->values[p]);
            free (line);
            line = next;
        }
        char *next = hpo_sprintf ("%s%s\n", text, line);
        free (line);
        free (text);
        text = next;
    }
    return text;
}

static hpo_sched_rc_t
s_report1 (s_env_t *e, hpo_worker_t *w, hpo_trial_t *t, int64_t step,
           double value, int64_t now)
{
    char *m[] = {"acc", "loss"};
    double v[] = {1 - value, value};
    return hpo_sched_report (e->sched, w, t->id, t->attempt, 1, step, m, v, 2,
                             now);
}

//  The history rebuilt from the store at start-up is the one the
//  scheduler kept: params, states, values, and each trial's curve of its
//  latest attempt (resent, late and superseded reports included).
static void
s_test_history_restart (void)
{
    s_env_t e;
    int64_t now = 5000000;
    s_env_new (&e, now);
    e.cfg.curves = 1;
    s_env_restart (&e, now);
    hpo_study_t *study = s_create (
        e.sched, "name: h\ncommand: t {x} {y}\nobjective: {metric: loss}\n"
                 "budget: {trials: 6}\ntrial: {retries: 1, max_lost: 1}\n"
                 "space: {x: {type: int, low: 1, high: 9}, y: {type: float,"
                 " low: 0, high: 1}}\n");
    CHECK (study->curves);
    hpo_worker_t *w = s_env_worker (&e, "w", 5, 5, now);
    CHECK (e.ev.n_assigned == 5);
    hpo_trial_t **t = e.ev.assigned;
    for (int k = 0; k < 5; k++)
        CHECK (s_report1 (&e, w, t[k], 0, 0.5 + k, now) == HPO_SCHED_OK);
    //  t0: steps 1, 2, step 1 resent; COMPLETE; step 3 trails the Finish.
    CHECK (s_report1 (&e, w, t[0], 1, 0.4, now) == HPO_SCHED_OK);
    CHECK (s_report1 (&e, w, t[0], 2, 0.3, now) == HPO_SCHED_OK);
    CHECK (s_report1 (&e, w, t[0], 1, 0.4, now) == HPO_SCHED_OK);
    CHECK (hpo_sched_finish (e.sched, w, t[0]->id, 1, HPO_FINISH_COMPLETE, 1,
                             0.3, NULL, NULL, now) == HPO_SCHED_OK);
    CHECK (s_report1 (&e, w, t[0], 3, 0.25, now) == HPO_SCHED_OK);
    //  t1 fails and waits for its retry: its curve is attempt 1's.
    CHECK (s_report1 (&e, w, t[1], 1, 1.25, now) == HPO_SCHED_OK);
    CHECK (hpo_sched_finish (e.sched, w, t[1]->id, 1, HPO_FINISH_FAILED, 0, 0,
                             "exit 1", NULL, now) == HPO_SCHED_OK);
    //  t2 is lost after two steps and runs again: attempt 2's one step.
    CHECK (s_report1 (&e, w, t[2], 1, 2.25, now) == HPO_SCHED_OK);
    hpo_sched_event_t lose = {.type = HPO_SCHED_LOSE, .reason = "gone"};
    CHECK (hpo_sched_apply (e.sched, t[2], &lose) == HPO_SCHED_OK);
    hpo_sched_heartbeat (e.sched, w, NULL, 0, 1, now);
    CHECK (hpo_sched_dispatch (e.sched, now) == 0);
    CHECK (t[2]->attempt == 2 && t[2]->state == HPO_TRIAL_RUNNING);
    CHECK (s_report1 (&e, w, t[2], 0, 7.5, now) == HPO_SCHED_OK);
    //  t3 prunes itself; t4 runs on.
    CHECK (hpo_sched_finish (e.sched, w, t[3]->id, 1, HPO_FINISH_PRUNED, 1, 3.5,
                             NULL, NULL, now) == HPO_SCHED_OK);
    CHECK (s_report1 (&e, w, t[4], 1, 4.25, now) == HPO_SCHED_OK);
    //  t1 runs again; a report of its attempt 1 trails in: stored, but
    //  the curve is attempt 2's.
    hpo_sched_heartbeat (e.sched, w, NULL, 0, 1, now);
    CHECK (hpo_sched_dispatch (e.sched, now) == 0);
    CHECK (t[1]->attempt == 2 && t[1]->state == HPO_TRIAL_RUNNING);
    char *m[] = {"loss"};
    double v[] = {6.5};
    CHECK (hpo_sched_report (e.sched, w, t[1]->id, 1, 1, 5, m, v, 1, now) ==
           HPO_SCHED_OK);
    CHECK (s_report1 (&e, w, t[1], 0, 9.5, now) == HPO_SCHED_OK);
    char *before = s_history_text (study->history);
    CHECK_CONTAINS (before, "0 COMPLETE 0.29999999999999999 ");
    CHECK_CONTAINS (before, "| 0:0.5 1:0.40000000000000002 "
                            "2:0.29999999999999999 3:0.25\n");
    CHECK_CONTAINS (before, "1 RUNNING nan ");
    CHECK_CONTAINS (before, "| 0:9.5\n");
    CHECK_CONTAINS (before, "2 RUNNING nan ");
    CHECK_CONTAINS (before, "| 0:7.5\n");
    CHECK_CONTAINS (before, "3 PRUNED 3.5 ");
    s_env_restart (&e, now);
    study = hpo_sched_study (e.sched, "h");
    char *after = s_history_text (study->history);
    CHECK_STR (after, before);
    free (after);
    //  Without curves, the same rows and no curve.
    e.cfg.curves = 0;
    s_env_restart (&e, now);
    study = hpo_sched_study (e.sched, "h");
    CHECK (!study->curves);
    after = s_history_text (study->history);
    CHECK (strstr (after, "|") == NULL);
    //  before with its curves (" | ..." to the end of each line) cut out
    char *rows = hpo_strdup (before), *out = rows;
    for (const char *in = before; *in; in++) {
        if (in[0] == ' ' && in[1] == '|')
            in = strchr (in, '\n');
        *out++ = *in;
    }
    *out = 0;
    CHECK_STR (after, rows);
    free (rows);
    free (after);
    free (before);
    s_env_destroy (&e);
}

//  A sampler that draws as random does and records what it is told.
static char s_spy_log[512];

static void
s_spy_say (const hpo_history_t *h, const char *what, uint64_t number)
{
    size_t len = strlen (s_spy_log);
    snprintf (s_spy_log + len, sizeof s_spy_log - len, "%s%s %" PRIu64 " %s;",
              len ? " " : "", what, number,
              hpo_trial_state_str (h->states[number]));
}

static void
s_spy_tell (void *self, const hpo_history_t *h, uint64_t number)
{
    s_spy_say (h, "tell", number);
}

static void
s_spy_pending (void *self, const hpo_history_t *h, uint64_t number)
{
    s_spy_say (h, "pending", number);
}

static int
s_spy_suggest (void *self, const hpo_spec_t *spec, const hpo_history_t *h,
               uint64_t number, const uint8_t *fixed, hpo_value_t *out)
{
    CHECK (h->n == number); //  every earlier trial, no more
    return hpo_sampler_find ("random")->suggest (self, spec, h, number, fixed, out);
}

//  A pruner that reads curves: stops a trial above 0.5 from step 2 on.
static int s_prune_calls;

static hpo_prune_t
s_spy_report (void *self, const hpo_history_t *h, uint64_t number, int64_t step,
              double value, char **reason)
{
    s_prune_calls++;
    const hpo_curve_t *c = &h->curves[number];
    CHECK (c->n > 0 && c->steps[c->n - 1] == step); //  already there
    if (step < 2 || value <= 0.5)
        return HPO_PRUNE_CONTINUE;
    *reason = hpo_sprintf ("%g above 0.5 at step %" PRId64, value, step);
    return HPO_PRUNE_STOP;
}

//  The sampler is told when a trial starts and when it ends; the pruner
//  is asked at each new step of the objective, and its decision prunes
//  the trial and kills the attempt. Neither registry takes a test's
//  entry, so the study's spec is given them by hand.
static void
s_test_search_wiring (void)
{
    s_env_t e;
    int64_t now = 5000000;
    s_env_new (&e, now);
    hpo_sampler_ops_t sampler = *hpo_sampler_find ("random");
    sampler.tell = s_spy_tell;
    sampler.pending = s_spy_pending;
    sampler.suggest = s_spy_suggest;
    hpo_pruner_ops_t pruner = *hpo_pruner_find ("none");
    pruner.report = s_spy_report;
    pruner.needs_curves = 1;
    const char *text = "name: p\ncommand: t {x}\nobjective: {metric: loss}\n"
                       "budget: {trials: 2}\nspace: {x: {type: int, low: 1,"
                       " high: 3}}\n";
    char *error = NULL;
    hpo_spec_t *spec = hpo_spec_parse (text, strlen (text), "p.yaml", &error);
    CHECK (spec != NULL);
    spec->sampler.ops = &sampler;
    spec->pruner.ops = &pruner;
    int exists;
    hpo_study_t *study =
        hpo_sched_study_create (e.sched, &spec, text, &exists, &error);
    CHECK (study != NULL && study->curves);
    s_spy_log[0] = 0;
    hpo_worker_t *w = s_env_worker (&e, "w", 2, 2, now);
    hpo_trial_t *t0 = e.ev.assigned[0], *t1 = e.ev.assigned[1];
    CHECK_STR (s_spy_log, "pending 0 RUNNING; pending 1 RUNNING;");
    CHECK (s_report1 (&e, w, t0, 1, 0.9, now) == HPO_SCHED_OK);
    CHECK (t0->state == HPO_TRIAL_RUNNING && s_prune_calls == 1);
    CHECK (s_report1 (&e, w, t0, 2, 0.8, now) == HPO_SCHED_OK);
    CHECK (s_prune_calls == 2);
    CHECK (t0->state == HPO_TRIAL_PRUNED && t0->value == 0.8);
    CHECK_STR (t0->reason, "0.8 above 0.5 at step 2");
    CHECK (e.ev.n_killed == 1 && e.ev.killed[0] == t0->id &&
           e.ev.killed_attempt[0] == 1);
    CHECK_STR (e.ev.kill_reason, "0.8 above 0.5 at step 2");
    CHECK (w->held == 1);
    //  The attempt's resent and trailing reports, and its Finish once
    //  killed, are answered OK; the pruner is not asked again.
    CHECK (s_report1 (&e, w, t0, 2, 0.8, now) == HPO_SCHED_OK);
    CHECK (s_report1 (&e, w, t0, 3, 0.7, now) == HPO_SCHED_OK);
    CHECK (hpo_sched_finish (e.sched, w, t0->id, 1, HPO_FINISH_FAILED, 0, 0,
                             "killed by signal 15", NULL, now) == HPO_SCHED_OK);
    CHECK (t0->state == HPO_TRIAL_PRUNED && s_prune_calls == 2);
    CHECK (study->history->curves[0].n == 3); //  steps 1, 2, 3
    //  Below the line: it runs on, and completes.
    CHECK (s_report1 (&e, w, t1, 2, 0.1, now) == HPO_SCHED_OK);
    CHECK (t1->state == HPO_TRIAL_RUNNING && s_prune_calls == 3);
    CHECK (hpo_sched_finish (e.sched, w, t1->id, 1, HPO_FINISH_COMPLETE, 1, 0.1,
                             NULL, NULL, now) == HPO_SCHED_OK);
    CHECK_STR (s_spy_log, "pending 0 RUNNING; pending 1 RUNNING; tell 0 "
                          "PRUNED; tell 1 COMPLETE;");
    CHECK (study->state == HPO_STUDY_FINISHED);
    s_env_destroy (&e);
}

//  A sampler with no point left for trial 1 (as a grid that runs out).
static int
s_short_suggest (void *self, const hpo_spec_t *spec, const hpo_history_t *h,
                 uint64_t number, const uint8_t *fixed,
                 hpo_value_t *out)
{
    if (number >= 1)
        return 1;
    return hpo_sampler_find ("random")->suggest (self, spec, h, number, fixed, out);
}

//  When the sampler runs out before the budget, the study ends with the
//  trials it has, even when they all ended before it ran out.
static void
s_test_sampler_ends (void)
{
    s_env_t e;
    int64_t now = 5000000;
    s_env_new (&e, now);
    hpo_sampler_ops_t sampler = *hpo_sampler_find ("random");
    sampler.suggest = s_short_suggest;
    const char *text = "name: q\ncommand: t {x}\nobjective: {metric: loss}\n"
                       "budget: {trials: 3}\nspace: {x: {type: int, low: 1,"
                       " high: 3}}\n";
    char *error = NULL;
    hpo_spec_t *spec = hpo_spec_parse (text, strlen (text), "q.yaml", &error);
    CHECK (spec != NULL);
    spec->sampler.ops = &sampler;
    int exists;
    hpo_study_t *study =
        hpo_sched_study_create (e.sched, &spec, text, &exists, &error);
    CHECK (study != NULL);
    hpo_worker_t *w = s_env_worker (&e, "w", 1, 1, now);
    CHECK (e.ev.n_assigned == 1);
    hpo_trial_t *t0 = e.ev.assigned[0];
    CHECK (hpo_sched_finish (e.sched, w, t0->id, 1, HPO_FINISH_COMPLETE, 1, 0.5,
                             NULL, NULL, now) == HPO_SCHED_OK);
    CHECK (study->state == HPO_STUDY_RUNNING); //  2 more in the budget
    hpo_sched_heartbeat (e.sched, w, NULL, 0, 1, now);
    CHECK (hpo_sched_dispatch (e.sched, now) == 0);
    CHECK (e.ev.n_assigned == 1);
    CHECK (study->budget == 1 && study->state == HPO_STUDY_FINISHED);
    s_env_destroy (&e);
}

//  ---- issue #9: the study's lifecycle ----------------------------------

//  FAIL with permanent set (FOREVER): FAILED at once, no retry spent;
//  the same failure without it is retried.
static void
s_test_row_permanent (void)
{
    s_rows_t r;
    s_rows_new (&r);
    CHECK (s_rows_finish (&r, r.t0, HPO_FINISH_FAILED_PERMANENT, 0,
                          "command not found: t") == HPO_SCHED_OK);
    CHECK (r.t0->state == HPO_TRIAL_FAILED && r.t0->failures == 0);
    CHECK_STR (r.t0->reason, "command not found: t");
    CHECK (s_released (&r, r.t0));
    CHECK_STR (s_attempts (&r, r.t0), "1 FAILED:command not found: t");
    CHECK (s_rows_finish (&r, r.t1, HPO_FINISH_FAILED, 0, "exit 1") ==
           HPO_SCHED_OK);
    CHECK (r.t1->state == HPO_TRIAL_WAITING && r.t1->failures == 1);
    CHECK (r.study->last_failed == r.t0);
    CHECK (s_counts_true (r.study));
    s_env_destroy (&r.e);
}

//  Finishes every running trial of study on w as FAILED (exit status 2).
static void
s_fail_running (s_env_t *e, hpo_study_t *study, hpo_worker_t *w, int64_t now)
{
    for (size_t k = 0; k < study->n_trials; k++) {
        hpo_trial_t *t = study->trials[k];
        if (t->state == HPO_TRIAL_RUNNING)
            CHECK (hpo_sched_finish (e->sched, w, t->id, t->attempt,
                                     HPO_FINISH_FAILED, 0, 0, "exit status 2",
                                     NULL, now) == HPO_SCHED_OK);
    }
}

static const char *s_spec_ff = "name: ff\n"
                               "command: t {x}\n"
                               "objective: {metric: loss}\n"
                               "budget: {trials: 20, fail_fast: 3}\n"
                               "space: {x: {type: int, low: 1, high: 9}}\n";

//  The first fail_fast trials all FAILED: the study is FAILING while one
//  still runs, then FAILED, with the reason naming trial 0; the state and
//  reason survive a restart; a resume counts failures afresh.
static void
s_test_fail_fast (void)
{
    s_env_t e;
    int64_t now = 5000000;
    s_env_new (&e, now);
    hpo_study_t *study = s_create (e.sched, s_spec_ff);
    hpo_worker_t *w = s_env_worker (&e, "w", 4, 4, now);
    CHECK (e.ev.n_assigned == 4);
    for (int k = 0; k < 3; k++)
        CHECK (hpo_sched_finish (e.sched, w, e.ev.assigned[k]->id, 1,
                                 HPO_FINISH_FAILED, 0, 0, "exit status 2", NULL,
                                 now) == HPO_SCHED_OK);
    CHECK (study->state == HPO_STUDY_FAILING);
    CHECK_STR (study->reason, "all of the first 3 trials failed (exit status "
                              "2): see hpo trial show ff 0");
    //  Nothing new starts; the running one finishes.
    hpo_sched_heartbeat (e.sched, w, NULL, 0, 3, now);
    CHECK (hpo_sched_dispatch (e.sched, now) == 0);
    CHECK (e.ev.n_assigned == 4 && study->n_trials == 4);
    s_fail_running (&e, study, w, now);
    CHECK (study->state == HPO_STUDY_FAILED && study->ended > 0);
    CHECK (study->count[HPO_TRIAL_FAILED] == 4);
    CHECK (study->last_failed && study->last_failed->number == 3);
    CHECK (study->duration_n == 4);
    char *reason = hpo_strdup (study->reason);
    s_env_restart (&e, now);
    study = hpo_sched_study (e.sched, "ff");
    CHECK (study->state == HPO_STUDY_FAILED);
    CHECK_STR (study->reason, reason);
    CHECK (study->duration_n == 4 && study->last_failed);
    //  Resumed, it fails again only after three more failures.
    char *message;
    CHECK (hpo_sched_study_resume (e.sched, study, &message) == 0);
    CHECK_STR (message, "study ff: FAILED → RUNNING");
    free (message);
    CHECK (study->reason == NULL && study->fail_base == 4);
    w = s_env_worker (&e, "w", 2, 2, now);
    s_fail_running (&e, study, w, now);
    CHECK (study->state == HPO_STUDY_RUNNING);
    hpo_sched_heartbeat (e.sched, w, NULL, 0, 1, now);
    CHECK (hpo_sched_dispatch (e.sched, now) == 0);
    s_fail_running (&e, study, w, now);
    CHECK (study->state == HPO_STUDY_FAILED);
    CHECK_STR (study->reason, reason);
    CHECK (study->count[HPO_TRIAL_FAILED] == 7);
    //  Resume again: refused once RUNNING.
    CHECK (hpo_sched_study_resume (e.sched, study, &message) == 0);
    free (message);
    CHECK (hpo_sched_study_resume (e.sched, study, &message) == 1);
    CHECK_STR (message, "study ff is already RUNNING");
    free (message);
    free (reason);
    s_env_destroy (&e);
}

//  budget.max_failed: FAILED after that many failures, completions or
//  not; fail_fast 0 never fails it.
static void
s_test_max_failed (void)
{
    s_env_t e;
    int64_t now = 5000000;
    s_env_new (&e, now);
    hpo_study_t *study =
        s_create (e.sched, "name: mf\ncommand: t {x}\nobjective: {metric: "
                           "loss}\nbudget: {trials: 9, fail_fast: 0, "
                           "max_failed: 2}\nspace: {x: {type: int, low: 1, "
                           "high: 9}}\n");
    hpo_worker_t *w = s_env_worker (&e, "w", 3, 3, now);
    hpo_trial_t *t0 = e.ev.assigned[0];
    CHECK (hpo_sched_finish (e.sched, w, t0->id, 1, HPO_FINISH_COMPLETE, 1, 0.5,
                             NULL, NULL, now) == HPO_SCHED_OK);
    s_fail_running (&e, study, w, now);
    CHECK (study->state == HPO_STUDY_FAILED);
    CHECK_STR (study->reason, "2 trials failed (budget.max_failed), the last "
                              "trial 2 (exit status 2): see hpo trial show mf "
                              "2");
    s_env_destroy (&e);
}

//  Stop now (STOP_NOW on each running trial): killed, FAILED "stopped",
//  the study STOPPED; stopping an ended study is refused.
static void
s_test_stop_now (void)
{
    s_rows_t r;
    s_rows_new (&r);
    char *message;
    CHECK (hpo_sched_study_stop (r.e.sched, r.study, 1, &message) == 0);
    CHECK_STR (message, "study r: STOPPED; 2 running trials stopped (FAILED, "
                        "stopped)");
    free (message);
    CHECK (r.e.ev.n_killed == 2);
    CHECK (r.t0->state == HPO_TRIAL_FAILED && r.t1->state == HPO_TRIAL_FAILED);
    CHECK_STR (r.t1->reason, "stopped");
    CHECK (r.study->state == HPO_STUDY_STOPPED);
    CHECK (hpo_sched_study_stop (r.e.sched, r.study, 1, &message) == 1);
    CHECK_STR (message, "study r is already STOPPED");
    free (message);
    CHECK (r.e.ev.n_killed == 2);
    s_env_destroy (&r.e);
}

//  Extend: the budget grows and is stored; a FINISHED study runs again
//  with new numbers and new points; a grid cannot grow past its points.
static void
s_test_extend (void)
{
    s_rows_t r;
    s_rows_new (&r);
    char *message;
    CHECK (s_rows_finish (&r, r.t0, HPO_FINISH_COMPLETE, 0.5, NULL) == 0);
    CHECK (s_rows_finish (&r, r.t1, HPO_FINISH_COMPLETE, 0.4, NULL) == 0);
    CHECK (r.study->state == HPO_STUDY_FINISHED);
    CHECK (hpo_sched_study_extend (r.e.sched, r.study, 0, &message) == 1);
    free (message);
    //  A grid of x in 1..3 has 3 points, 2 in the budget.
    hpo_study_t *grid = s_create (
        r.e.sched, "name: g\ncommand: t {x}\nobjective: {metric: loss}\n"
                   "sampler: {type: grid}\nbudget: {trials: 2}\n"
                   "space: {x: {type: int, low: 1, high: 3}}\n");
    CHECK (hpo_sched_study_extend (r.e.sched, grid, 2, &message) == 1);
    CHECK_STR (message, "study g: its grid sampler has 3 points and the "
                        "budget holds 2: 1 left to add");
    free (message);
    CHECK (grid->budget == 2);
    CHECK (hpo_sched_study_extend (r.e.sched, grid, 1, &message) == 0);
    free (message);
    CHECK (grid->budget == 3);
    s_env_destroy (&r.e);

    s_env_t e;
    int64_t now = 5000000;
    s_env_new (&e, now);
    hpo_study_t *study = s_create (e.sched, s_spec_lost); //  random, 1 trial
    hpo_worker_t *w = s_env_worker (&e, "w", 1, 1, now);
    hpo_trial_t *t0 = e.ev.assigned[0];
    CHECK (hpo_sched_finish (e.sched, w, t0->id, 1, HPO_FINISH_COMPLETE, 1, 0.5,
                             NULL, NULL, now) == HPO_SCHED_OK);
    CHECK (study->state == HPO_STUDY_FINISHED);
    CHECK (hpo_sched_study_extend (e.sched, study, 2, &message) == 0);
    CHECK_STR (message, "study l: budget 1 → 3, RUNNING");
    free (message);
    hpo_sched_heartbeat (e.sched, w, NULL, 0, 1, now);
    CHECK (hpo_sched_dispatch (e.sched, now) == 0);
    CHECK (e.ev.n_assigned == 2 && e.ev.assigned[1]->number == 1);
    CHECK (e.ev.assigned[1]->params[0].f != t0->params[0].f);
    s_env_restart (&e, now);
    study = hpo_sched_study (e.sched, "l");
    CHECK (study->budget == 3 && study->state == HPO_STUDY_RUNNING);
    s_env_destroy (&e);
}

//  Retry (RETRY): only FAILED trials, all or nothing; a new attempt with
//  the same parameters, earlier attempts kept; the study runs again.
static void
s_test_retry_request (void)
{
    s_rows_t r;
    s_rows_new (&r);
    char *message;
    CHECK (s_rows_finish (&r, r.t0, HPO_FINISH_FAILED_PERMANENT, 0,
                          "no objective") == HPO_SCHED_OK);
    CHECK (s_rows_finish (&r, r.t1, HPO_FINISH_COMPLETE, 0.4, NULL) == 0);
    CHECK (r.study->state == HPO_STUDY_FINISHED);
    uint64_t both[] = {0, 1}, zero[] = {0}, nine[] = {9};
    CHECK (hpo_sched_trial_retry (r.e.sched, r.study, both, 2, 0, &message) ==
           1);
    CHECK_STR (message, "study r: trial 1 is COMPLETE, not FAILED; nothing "
                        "retried");
    free (message);
    CHECK (hpo_sched_trial_retry (r.e.sched, r.study, nine, 1, 0, &message) ==
           1);
    free (message);
    CHECK (r.t0->state == HPO_TRIAL_FAILED);
    CHECK (hpo_sched_trial_retry (r.e.sched, r.study, zero, 1, 0, &message) ==
           0);
    CHECK_STR (message, "study r: 1 failed trial to run again as a new "
                        "attempt, RUNNING");
    free (message);
    CHECK (r.t0->state == HPO_TRIAL_WAITING && r.study->last_failed == NULL);
    CHECK (r.study->state == HPO_STUDY_RUNNING);
    int x = (int)r.t0->params[0].i;
    CHECK (s_rows_dispatch (&r) == r.t0);
    CHECK (r.t0->attempt == 2 && (int)r.t0->params[0].i == x);
    CHECK_STR (s_attempts (&r, r.t0), "1 FAILED:no objective");
    CHECK (s_rows_finish (&r, r.t0, HPO_FINISH_FAILED_PERMANENT, 0,
                          "no objective") == HPO_SCHED_OK);
    CHECK (r.study->state == HPO_STUDY_FINISHED);
    CHECK (hpo_sched_trial_retry (r.e.sched, r.study, NULL, 0, 1, &message) ==
           0);
    free (message);
    CHECK (r.t0->state == HPO_TRIAL_WAITING &&
           r.t1->state == HPO_TRIAL_COMPLETE);
    CHECK (s_counts_true (r.study));
    s_env_destroy (&r.e);
}

//  Delete: only an ended study; its rows and memory go, the name is
//  free again, and a restart does not bring it back.
static void
s_test_delete (void)
{
    s_rows_t r;
    s_rows_new (&r);
    char *message;
    CHECK (hpo_sched_study_delete (r.e.sched, r.study, &message) == 1);
    CHECK_CONTAINS (message, "study r is RUNNING");
    free (message);
    uint64_t id0 = r.t0->id;
    CHECK (s_rows_finish (&r, r.t0, HPO_FINISH_COMPLETE, 0.5, NULL) == 0);
    CHECK (s_rows_finish (&r, r.t1, HPO_FINISH_FAILED_PERMANENT, 0, "x") == 0);
    hpo_study_t *other = s_create (r.e.sched, s_spec_lost);
    CHECK (hpo_sched_study_delete (r.e.sched, r.study, &message) == 0);
    CHECK_STR (message, "study r: deleted, with its 2 trials");
    free (message);
    CHECK (hpo_sched_study (r.e.sched, "r") == NULL);
    CHECK (hpo_sched_trial (r.e.sched, id0) == NULL);
    hpo_study_t **all;
    CHECK (hpo_sched_studies (r.e.sched, &all) == 1 && all[0] == other);
    //  The other study still runs.
    hpo_sched_heartbeat (r.e.sched, r.w, NULL, 0, 1, r.now);
    CHECK (hpo_sched_dispatch (r.e.sched, r.now) == 0);
    CHECK (other->count[HPO_TRIAL_RUNNING] == 1);
    s_env_restart (&r.e, r.now);
    CHECK (hpo_sched_study (r.e.sched, "r") == NULL);
    CHECK (hpo_sched_study (r.e.sched, "l") != NULL);
    hpo_study_t *again = s_create (r.e.sched, s_spec_rows);
    CHECK (again->n_trials == 0 && again->state == HPO_STUDY_RUNNING);
    s_env_destroy (&r.e);
}

//  #8: objective.value picks the trial's value among its reports, also
//  from a report its Finish overtook, and the stored value survives a
//  restart.
static void
s_test_value_choice (void)
{
    s_env_t e;
    int64_t now = 5000000;
    s_env_new (&e, now);
    hpo_study_t *study = s_create (e.sched, "name: v\n"
                                            "command: train {x}\n"
                                            "objective: {metric: loss, "
                                            "value: best}\n"
                                            "budget: {trials: 1}\n"
                                            "space:\n"
                                            "  x: {type: float, low: 0, "
                                            "high: 1}\n");
    hpo_worker_t *w = s_env_worker (&e, "w", 1, 1, now);
    CHECK (e.ev.n_assigned == 1);
    hpo_trial_t *t = e.ev.assigned[0];
    char *m[] = {"loss"};
    double v[] = {0.5};
    CHECK (hpo_sched_report (e.sched, w, t->id, 1, 1, 0, m, v, 1, now) ==
           HPO_SCHED_OK);
    v[0] = 0.3;
    CHECK (hpo_sched_report (e.sched, w, t->id, 1, 1, 1, m, v, 1, now) ==
           HPO_SCHED_OK);
    CHECK (hpo_sched_finish (e.sched, w, t->id, 1, HPO_FINISH_COMPLETE, 1, 0.4,
                             NULL, NULL, now) == HPO_SCHED_OK);
    CHECK (t->state == HPO_TRIAL_COMPLETE && t->value == 0.3);
    v[0] = 0.1; //  overtaken by the Finish
    CHECK (hpo_sched_report (e.sched, w, t->id, 1, 1, 2, m, v, 1, now) ==
           HPO_SCHED_OK);
    CHECK (t->value == 0.1 && study->best == t);
    CHECK (study->history->values[t->number] == 0.1);
    uint64_t id = t->id;
    s_env_restart (&e, now);
    t = hpo_sched_trial (e.sched, id);
    CHECK (t && t->value == 0.1);
    s_env_destroy (&e);
}

//  #8: the median pruner through the scheduler: a worse trial is PRUNED
//  with the pruner's reason and its worker told to kill it; after a
//  restart the pruner's index is rebuilt from the stored curves.
static void
s_test_median_pruner (void)
{
    s_env_t e;
    int64_t now = 5000000;
    s_env_new (&e, now);
    s_create (e.sched, "name: p\n"
                       "command: train {x}\n"
                       "objective: {metric: loss}\n"
                       "pruner: {type: median, n_startup_trials: 1}\n"
                       "budget: {trials: 3}\n"
                       "space:\n"
                       "  x: {type: float, low: 0, high: 1}\n");
    hpo_worker_t *w = s_env_worker (&e, "w", 2, 2, now);
    CHECK (e.ev.n_assigned == 2);
    hpo_trial_t *t0 = e.ev.assigned[0], *t1 = e.ev.assigned[1];
    char *m[] = {"loss"};
    double one[] = {1}, five[] = {5};
    for (int64_t step = 0; step < 2; step++)
        CHECK (hpo_sched_report (e.sched, w, t0->id, 1, 1, step, m, one, 1,
                                 now) == HPO_SCHED_OK);
    //  No trial is COMPLETE yet: no decision.
    CHECK (hpo_sched_report (e.sched, w, t1->id, 1, 1, 0, m, five, 1, now) ==
           HPO_SCHED_OK);
    CHECK (t1->state == HPO_TRIAL_RUNNING);
    CHECK (hpo_sched_finish (e.sched, w, t0->id, 1, HPO_FINISH_COMPLETE, 1, 1,
                             NULL, NULL, now) == HPO_SCHED_OK);
    CHECK (hpo_sched_report (e.sched, w, t1->id, 1, 1, 1, m, five, 1, now) ==
           HPO_SCHED_OK);
    CHECK (t1->state == HPO_TRIAL_PRUNED && t1->value == 5);
    CHECK (t1->reason && !strcmp (t1->reason, "pruned at step 1: 5 worse "
                                              "than the median 1 of 1 "
                                              "trials at step 1"));
    CHECK (e.ev.n_killed == 1 && e.ev.killed[0] == t1->id);
    s_env_restart (&e, now);
    w = s_env_worker (&e, "w", 2, 1, now);
    CHECK (e.ev.n_assigned == 1);
    hpo_trial_t *t2 = e.ev.assigned[0];
    CHECK (hpo_sched_report (e.sched, w, t2->id, 1, 1, 1, m, five, 1, now) ==
           HPO_SCHED_OK);
    CHECK (t2->state == HPO_TRIAL_PRUNED);
    s_env_destroy (&e);
}

int
main (void)
{
    s_test_table ();
    s_test_late_reports ();
    s_test_stall_shift ();
    s_test_lost_budget ();
    s_test_incarnation ();
    s_test_goodbye ();
    s_test_kill_bound ();
    s_test_nan ();
    s_test_row_assign_complete ();
    s_test_row_pruned ();
    s_test_row_fail ();
    s_test_row_lose ();
    s_test_row_prune ();
    s_test_row_stop_now ();
    s_test_row_retry ();
    s_test_row_study_stop ();
    s_test_row_missing ();
    s_test_counts_restart ();
    s_test_reproducible ();
    s_test_history_restart ();
    s_test_search_wiring ();
    s_test_sampler_ends ();
    s_test_row_permanent ();
    s_test_fail_fast ();
    s_test_max_failed ();
    s_test_stop_now ();
    s_test_extend ();
    s_test_retry_request ();
    s_test_delete ();
    s_test_value_choice ();
    s_test_median_pruner ();
    char dir[] = "/tmp/hpo-test-sched-XXXXXX";
    CHECK (mkdtemp (dir) != NULL);
    char *path = hpo_sprintf ("%s/hpo.db", dir);
    char *error = NULL;
    hpo_store_t *store = hpo_store_open (path, HPO_SYNC_OFF, &error);
    CHECK (store != NULL);
    s_events_t ev = {0};
    hpo_sched_config_t cfg = {.lease_ms = 1000, .heartbeat_ms = 100};
    hpo_sched_events_t events = {&ev, s_assign, s_kill};
    int64_t now = 1000000;
    hpo_sched_t *sched = hpo_sched_new (store, &cfg, &events, now);
    CHECK (sched != NULL);
    CHECK (hpo_sched_next_deadline (sched) == INT64_MAX);

    hpo_store_begin (store);
    hpo_study_t *study = s_create (sched, s_spec_text);
    //  A second study of the same name is refused.
    char *e2 = NULL;
    hpo_spec_t *dup =
        hpo_spec_parse (s_spec_text, strlen (s_spec_text), "d", &e2);
    int exists = 0;
    CHECK (hpo_sched_study_create (sched, &dup, s_spec_text, &exists, &e2) ==
           NULL);
    CHECK (exists == 1);
    hpo_spec_destroy (&dup);
    free (e2);

    //  Two workers; A has 3 slots, B 3. parallel 4 caps what runs.
    uint8_t rid_a[] = {0, 1, 2, 3, 4}, rid_b[] = {0, 9, 9, 9, 9};
    hpo_lease_t refused[8];
    size_t n_refused;
    hpo_worker_t *a =
        s_hello (sched, rid_a, "a", 1, 3, NULL, 0, refused, &n_refused, now);
    hpo_worker_t *b =
        s_hello (sched, rid_b, "b", 2, 3, NULL, 0, refused, &n_refused, now);
    CHECK (hpo_sched_worker (sched, rid_a, 5) == a);
    hpo_sched_heartbeat (sched, a, NULL, 0, 3, now);
    hpo_sched_heartbeat (sched, b, NULL, 0, 3, now);
    CHECK (hpo_sched_dispatch (sched, now) == 0);
    CHECK (ev.n_assigned == 4); //  parallel: 4
    CHECK (study->count[HPO_TRIAL_RUNNING] == 4);
    CHECK (study->n_trials == 4);
    CHECK (a->held == 3 && b->held == 1);
    CHECK (ev.assigned[0]->attempt == 1);
    CHECK (hpo_sched_next_deadline (sched) == now + 1000);

    //  (Reproducible random search: s_test_reproducible.)
    hpo_trial_t *t0 = ev.assigned[0];
    CHECK (t0->number == 0);

    //  Reports for the current attempt are accepted; step is recorded.
    char *m[] = {"loss", "acc"};
    double v[] = {0.5, 0.9};
    CHECK (hpo_sched_report (sched, a, t0->id, 1, 1, 3, m, v, 2, now) ==
           HPO_SCHED_OK);
    CHECK (t0->has_step && t0->last_step == 3 && t0->last_value == 0.5);
    //  A report renews the lease of the attempt it is about.
    CHECK (hpo_sched_report (sched, a, t0->id, 1, 1, 4, m, v, 2, now + 500) ==
           HPO_SCHED_OK);
    CHECK (t0->deadline == now + 1500);
    //  The same report from another worker, or another attempt, is stale.
    CHECK (hpo_sched_report (sched, b, t0->id, 1, 1, 3, m, v, 2, now) ==
           HPO_SCHED_STALE);
    CHECK (hpo_sched_report (sched, a, t0->id, 2, 1, 3, m, v, 2, now) ==
           HPO_SCHED_STALE);
    CHECK (hpo_sched_report (sched, a, 999999, 1, 1, 3, m, v, 2, now) ==
           HPO_SCHED_UNKNOWN);

    //  Finish: complete; a repeat is an idempotent no-op.
    CHECK (hpo_sched_finish (sched, a, t0->id, 1, HPO_FINISH_COMPLETE, 1, 0.4,
                             NULL, NULL, now) == HPO_SCHED_OK);
    CHECK (t0->state == HPO_TRIAL_COMPLETE);
    CHECK (study->best == t0);
    CHECK (hpo_sched_finish (sched, a, t0->id, 1, HPO_FINISH_COMPLETE, 1, 0.4,
                             NULL, NULL, now) == HPO_SCHED_OK);
    CHECK (study->count[HPO_TRIAL_COMPLETE] == 1);
    CHECK (a->held == 2);

    //  Worker B goes silent. A keeps heartbeating; B's lease expires and
    //  its trial goes back to WAITING for attempt 2.
    hpo_trial_t *tb = NULL;
    for (int k = 0; k < ev.n_assigned; k++)
        if (ev.assigned_to[k] == b)
            tb = ev.assigned[k];
    CHECK (tb != NULL);
    hpo_lease_t held_a[3];
    size_t n_held_a = 0;
    for (int k = 1; k < ev.n_assigned; k++)
        if (ev.assigned_to[k] == a) {
            held_a[n_held_a].trial_id = ev.assigned[k]->id;
            held_a[n_held_a++].attempt = ev.assigned[k]->attempt;
        }
    CHECK (n_held_a == 2);
    now += 600;
    hpo_sched_heartbeat (sched, a, held_a, n_held_a, 0, now);
    hpo_sched_expire (sched, now);
    CHECK (tb->state == HPO_TRIAL_RUNNING); //  not yet
    now += 500;
    hpo_sched_expire (sched, now);
    CHECK (tb->state == HPO_TRIAL_WAITING); //  B's lease ran out
    CHECK (tb->lost == 1 && tb->failures == 0);
    CHECK_CONTAINS (tb->reason, "worker b silent for 1100 ms");
    CHECK (b->held == 0);
    CHECK (study->count[HPO_TRIAL_RUNNING] == 2); //  A's two renewed
    CHECK_CONTAINS (tb->reason, "lease expired");
    //  B's Finish for the attempt declared lost is stale, though no newer
    //  attempt has started yet: the loss was already counted.
    CHECK (hpo_sched_finish (sched, b, tb->id, 1, HPO_FINISH_COMPLETE, 1, 0.1,
                             NULL, NULL, now) == HPO_SCHED_STALE);
    CHECK (tb->state == HPO_TRIAL_WAITING);

    //  A has a free slot: the retry goes first, as attempt 2.
    int before = ev.n_assigned;
    hpo_sched_heartbeat (sched, a, held_a, n_held_a, 1, now);
    CHECK (hpo_sched_dispatch (sched, now) == 0);
    CHECK (ev.n_assigned == before + 1);
    CHECK (ev.assigned[before] == tb);
    CHECK (tb->attempt == 2);
    CHECK (tb->worker == a);

    //  B comes back (it was frozen) and reports for attempt 1: refused,
    //  and told to kill. Its heartbeat naming the old lease too.
    CHECK (hpo_sched_report (sched, b, tb->id, 1, 1, 1, m, v, 1, now) ==
           HPO_SCHED_STALE);
    CHECK (hpo_sched_finish (sched, b, tb->id, 1, HPO_FINISH_COMPLETE, 1, 0.0,
                             NULL, NULL, now) == HPO_SCHED_STALE);
    CHECK (tb->state == HPO_TRIAL_RUNNING && tb->attempt == 2);
    hpo_lease_t old = {tb->id, 1};
    int kills = ev.n_killed;
    hpo_sched_heartbeat (sched, b, &old, 1, 3, now);
    CHECK (ev.n_killed == kills + 1);
    CHECK (ev.killed[kills] == tb->id && ev.killed_attempt[kills] == 1);

    //  Attempt 2 fails. The lost attempt 1 counted against max_lost,
    //  not retries: the one retry is still there (issue #9).
    CHECK (tb->lost == 1 && tb->failures == 0);
    CHECK (hpo_sched_finish (sched, a, tb->id, 2, HPO_FINISH_FAILED, 0, 0,
                             "exit status 3", "boom", now) == HPO_SCHED_OK);
    CHECK (tb->state == HPO_TRIAL_WAITING);
    CHECK (tb->lost == 1 && tb->failures == 1);
    //  Attempt 3 fails too: retries (1) are spent, the trial is FAILED.
    before = ev.n_assigned;
    hpo_sched_heartbeat (sched, a, held_a, n_held_a, 1, now);
    CHECK (hpo_sched_dispatch (sched, now) == 0);
    CHECK (ev.n_assigned > before && ev.assigned[before] == tb);
    CHECK (tb->worker == a);
    CHECK (tb->attempt == 3);
    CHECK (hpo_sched_finish (sched, a, tb->id, 3, HPO_FINISH_FAILED, 0, 0,
                             "exit status 3", "boom", now) == HPO_SCHED_OK);
    CHECK (tb->state == HPO_TRIAL_FAILED);
    CHECK (tb->failures == 2);
    CHECK_STR (tb->reason, "exit status 3");

    //  The budget is exact: 5 trials in all, whatever the workers ask.
    hpo_sched_heartbeat (sched, b, NULL, 0, 3, now);
    CHECK (hpo_sched_dispatch (sched, now) == 0);
    CHECK (study->n_trials == 5);
    CHECK (study->count[HPO_TRIAL_RUNNING] == 3);
    hpo_sched_heartbeat (sched, b, NULL, 0, 3, now);
    CHECK (hpo_sched_dispatch (sched, now) == 0);
    CHECK (study->n_trials == 5);
    CHECK (hpo_store_commit (store) == 0);

    //  The coordinator restarts: RUNNING trials are held for their
    //  workers one lease period; A says Hello with its leases and keeps
    //  them; a lease for a stale attempt is refused.
    uint64_t running_ids[8];
    uint32_t running_attempts[8];
    size_t n_running = 0;
    for (size_t k = 0; k < study->n_trials; k++) {
        hpo_trial_t *t = study->trials[k];
        if (t->state == HPO_TRIAL_RUNNING && t->worker == a) {
            running_ids[n_running] = t->id;
            running_attempts[n_running++] = t->attempt;
        }
    }
    CHECK (n_running >= 1);
    uint64_t tb_id = tb->id;
    hpo_sched_destroy (&sched);
    hpo_store_destroy (&store);
    store = hpo_store_open (path, HPO_SYNC_OFF, &error);
    memset (&ev, 0, sizeof ev);
    now += 100000;
    //  Running trials wait restart_grace_ms for their workers, longer
    //  than a lease: the workers first have to reconnect.
    cfg.restart_grace_ms = 3000;
    sched = hpo_sched_new (store, &cfg, &events, now);
    CHECK (sched != NULL);
    study = hpo_sched_study (sched, "s");
    CHECK (study != NULL);
    CHECK (study->n_trials == 5);
    CHECK (study->count[HPO_TRIAL_COMPLETE] == 1);
    CHECK (study->count[HPO_TRIAL_FAILED] == 1);
    CHECK (study->count[HPO_TRIAL_RUNNING] == 3);
    CHECK (study->best && study->best->number == 0);
    CHECK (hpo_sched_next_deadline (sched) == now + 3000);
    hpo_store_begin (store);
    hpo_lease_t claim[9];
    for (size_t k = 0; k < n_running; k++) {
        claim[k].trial_id = running_ids[k];
        claim[k].attempt = running_attempts[k];
    }
    claim[n_running].trial_id = tb_id;
    claim[n_running].attempt = 1;
    uint8_t rid_a2[] = {0, 7, 7, 7, 7};
    a = s_hello (sched, rid_a2, "a", 1, 3, claim, n_running + 1, refused,
                 &n_refused, now);
    CHECK (n_refused == 1);
    CHECK (refused[0].attempt == 1);
    CHECK (a->held == n_running);
    //  B's trial was never reclaimed: it expires after the grace period.
    now += 900;
    hpo_sched_heartbeat (sched, a, claim, n_running, 0, now);
    now += 900;
    hpo_sched_heartbeat (sched, a, claim, n_running, 0, now);
    now += 700;
    hpo_sched_expire (sched, now);
    CHECK (study->count[HPO_TRIAL_RUNNING] == 3); //  B's: not yet
    now += 501;
    hpo_sched_heartbeat (sched, a, claim, n_running, 0, now - 1);
    hpo_sched_expire (sched, now);
    CHECK (study->count[HPO_TRIAL_RUNNING] == n_running);

    //  A finishes everything: the study is FINISHED.
    for (size_t k = 0; k < n_running; k++)
        CHECK (hpo_sched_finish (sched, a, claim[k].trial_id, claim[k].attempt,
                                 HPO_FINISH_COMPLETE, 1, 1.0 + k, NULL, NULL,
                                 now) == HPO_SCHED_OK);
    //  Drain whatever waits (B's expired trial) with A.
    for (int round = 0; round < 4 && study->state == HPO_STUDY_RUNNING;
         round++) {
        int base = ev.n_assigned;
        hpo_sched_heartbeat (sched, a, NULL, 0, 3, now);
        CHECK (hpo_sched_dispatch (sched, now) == 0);
        for (int k = base; k < ev.n_assigned; k++)
            CHECK (hpo_sched_finish (sched, a, ev.assigned[k]->id,
                                     ev.assigned[k]->attempt,
                                     HPO_FINISH_COMPLETE, 1, 2.0, NULL, NULL,
                                     now) == HPO_SCHED_OK);
    }
    CHECK (study->state == HPO_STUDY_FINISHED);
    CHECK (study->n_trials == 5);
    CHECK (study->count[HPO_TRIAL_COMPLETE] + study->count[HPO_TRIAL_FAILED] ==
           5);

    //  Stop: a new study stops handing out trials at once.
    hpo_study_t *s2 =
        s_create (sched, "name: s2\ncommand: t\nobjective: {metric: loss}\n"
                         "budget: {trials: 10}\nspace: {x: {type: int, low: 1, "
                         "high: 3}}\n");
    hpo_sched_heartbeat (sched, a, NULL, 0, 1, now);
    CHECK (hpo_sched_dispatch (sched, now) == 0);
    CHECK (s2->count[HPO_TRIAL_RUNNING] == 1);
    char *message;
    CHECK (hpo_sched_study_stop (sched, s2, 0, &message) == 0);
    free (message);
    CHECK (s2->state == HPO_STUDY_STOPPING);
    hpo_sched_heartbeat (sched, a, NULL, 0, 2, now);
    CHECK (hpo_sched_dispatch (sched, now) == 0);
    CHECK (s2->n_trials == 1);
    hpo_trial_t *last = s2->trials[0];
    CHECK (hpo_sched_finish (sched, a, last->id, last->attempt,
                             HPO_FINISH_FAILED, 0, 0, "exit status 1", NULL,
                             now) == HPO_SCHED_OK);
    //  No retry for a stopped study, and it is now STOPPED.
    CHECK (last->state == HPO_TRIAL_FAILED);
    CHECK (s2->state == HPO_STUDY_STOPPED);
    CHECK (hpo_store_commit (store) == 0);

    //  Workers that went silent holding nothing are forgotten after
    //  forget_ms; one that still holds a lease is kept until it expires.
    hpo_worker_t **ws;
    size_t n_before = hpo_sched_workers (sched, &ws);
    CHECK (n_before >= 1);
    uint8_t rid_c[] = {0, 5, 5, 5, 5};
    hpo_worker_t *wc =
        s_hello (sched, rid_c, "c", 3, 1, NULL, 0, refused, &n_refused, now);
    hpo_study_t *s3 =
        s_create (sched, "name: s3\ncommand: t\nobjective: {metric: loss}\n"
                         "budget: {trials: 1}\nspace: {x: {type: int, low: 1, "
                         "high: 3}}\n");
    hpo_sched_heartbeat (sched, a, NULL, 0, 0, now); //  a is full
    hpo_sched_heartbeat (sched, wc, NULL, 0, 1, now);
    CHECK (hpo_sched_dispatch (sched, now) == 0);
    CHECK (wc->held == 1);
    CHECK (s3->count[HPO_TRIAL_RUNNING] == 1);
    now += 600001;
    hpo_sched_expire (sched, now); //  frees the others; c's lease expires
    CHECK (hpo_sched_worker (sched, rid_c, 5) == wc);
    CHECK (s3->count[HPO_TRIAL_RUNNING] == 0);
    now += 1000;
    hpo_sched_expire (sched, now);
    CHECK (hpo_sched_worker (sched, rid_c, 5) == NULL);
    CHECK (hpo_sched_workers (sched, &ws) == 0);
    CHECK (hpo_store_commit (store) == 0);

    hpo_sched_destroy (&sched);
    CHECK (sched == NULL);
    hpo_store_destroy (&store);
    char *cmd = hpo_sprintf ("rm -rf %s", dir);
    CHECK (system (cmd) == 0);
    free (cmd);
    free (path);
    TEST_DONE ();
}

//  A random study in a finite space cannot grow past its distinct
//  configurations, which no sampler hands out twice (issue #7). A
//  constructor, to stay clear of other changes to main.
__attribute__ ((constructor)) static void
s_test_extend_finite_space (void)
{
    s_env_t e;
    s_env_new (&e, 5000000);
    hpo_study_t *study = s_create (
        e.sched, "name: f\ncommand: t {x}\nobjective: {metric: loss}\n"
                 "budget: {trials: 2}\n"
                 "space: {x: {type: int, low: 1, high: 3}}\n");
    char *message;
    CHECK (hpo_sched_study_extend (e.sched, study, 2, &message) == 1);
    CHECK_STR (message, "study f: its space has 3 points and the budget "
                        "holds 2: 1 left to add");
    free (message);
    CHECK (hpo_sched_study_extend (e.sched, study, 1, &message) == 0);
    free (message);
    CHECK (study->budget == 3);
    s_env_destroy (&e);
}
