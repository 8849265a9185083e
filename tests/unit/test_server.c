/*  test_server: the coordinator's loop turn. A turn's replies leave only
    after its commit, and a turn whose store write fails sends nothing and
    ends the loop. Turns are fed through hpo_server_feed_tap, whose tap
    sees each reply at the moment it is handed to the socket; the loop
    itself (hpo_server_run) is driven through a real socket once.        */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <zmq.h>

#include "../../common/log.h"
#include "../../common/mem.h"
#include "../../common/wire.h"
#include "../../coordinator/server.h"
#include "../../coordinator/store.h"
#include "testutil.h"

//  A study file; %s is its name.
#define S_SPEC                                                                 \
    "name: %s\n"                                                               \
    "command: \"true {x}\"\n"                                                  \
    "objective: {metric: loss, direction: minimize}\n"                         \
    "sampler: {type: random, seed: 1}\n"                                       \
    "budget: {trials: 4, parallel: 2}\n"                                       \
    "space:\n"                                                                 \
    "  x: {type: float, low: 0, high: 1}\n"

//  ---- frames a peer would send -------------------------------------------

//  An empty envelope with the next sequence number.
static hpo_env_t
s_env (void)
{
    static uint64_t seq;
    hpo_env_t env;
    hpo_wire_init (&env, ++seq);
    return env;
}

static uint8_t *
s_study_create (const char *name, size_t *size)
{
    char *text = hpo_sprintf (S_SPEC, name);
    Hpo__StudyCreate req = HPO__STUDY_CREATE__INIT;
    req.filename = "s.yaml";
    req.spec = text;
    hpo_env_t env = s_env ();
    env.body_case = HPO__ENVELOPE__BODY_STUDY_CREATE;
    env.study_create = &req;
    uint8_t *frame = hpo_wire_encode (&env, size);
    free (text);
    return frame;
}

static uint8_t *
s_hello_slots (const char *name, uint32_t slots, size_t *size)
{
    Hpo__Hello hello = HPO__HELLO__INIT;
    hello.name = (char *)name;
    hello.host = "h";
    hello.slots = slots;
    hello.pid = 42;
    hello.incarnation = 1;
    hello.started_us = 1;
    hpo_env_t env = s_env ();
    env.body_case = HPO__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    return hpo_wire_encode (&env, size);
}

static uint8_t *
s_hello (const char *name, size_t *size)
{
    return s_hello_slots (name, 1, size);
}

//  A heartbeat with a free slot: the turn's dispatch hands out a trial,
//  so the turn writes at its end, after the handlers.
static uint8_t *
s_heartbeat (size_t *size)
{
    Hpo__Heartbeat hb = HPO__HEARTBEAT__INIT;
    hb.free = 1;
    hpo_env_t env = s_env ();
    env.body_case = HPO__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    return hpo_wire_encode (&env, size);
}

//  ---- the tap: what leaves, and what was committed when it left ---------

#define S_MAX_SEEN 8

typedef struct {
    hpo_store_t *store;
    int n;                        //  replies sent
    int body[S_MAX_SEEN];         //  each one's body case
    uint64_t commits[S_MAX_SEEN]; //  the store's commits as it left
} s_seen_t;

static void
s_tap (void *arg, const uint8_t *rid, size_t rid_size, const void *data,
       size_t size)
{
    s_seen_t *seen = arg;
    if (seen->n < S_MAX_SEEN) {
        hpo_wire_status_t status;
        hpo_env_t *env = hpo_wire_decode (data, size, &status);
        CHECK (env != NULL);
        seen->body[seen->n] = env ? (int)env->body_case : -1;
        seen->commits[seen->n] = hpo_store_commits (seen->store);
        hpo_wire_free (&env);
    }
    seen->n++;
}

//  Feeds frame from peer as one turn; returns the feed's rc, with what
//  left in *seen.
static int
s_feed (hpo_server_t *server, const char *peer, uint8_t *frame, size_t size,
        s_seen_t *seen)
{
    memset (seen, 0, sizeof *seen);
    seen->store = hpo_server_store (server);
    int rc = hpo_server_feed_tap (server, (const uint8_t *)peer, strlen (peer),
                                  frame, size, s_tap, seen);
    free (frame);
    return rc;
}

//  ---- the server, and what it left on disk -------------------------------

static hpo_server_t *
s_server (const char *path)
{
    hpo_server_config_t cfg = {
        .db_path = path,
        .listen = "tcp://127.0.0.1:*",
        .heartbeat_ms = 1000,
        .lease_ms = 10000,
        .sync = HPO_SYNC_OFF,
        .max_batch = 16,
    };
    char *error = NULL;
    hpo_server_t *server = hpo_server_new (&cfg, &error);
    CHECK (server != NULL);
    if (!server) {
        fprintf (stderr, "test_server: %s\n", error);
        exit (1);
    }
    return server;
}

static int
s_count_study (void *ctx, const hpo_store_study_row_t *row)
{
    (*(int *)ctx)++;
    return 0;
}

static int
s_count_trial (void *ctx, const hpo_store_trial_row_t *row)
{
    (*(int *)ctx)++;
    return 0;
}

//  Studies and trials on disk at path (the server must be gone).
static void
s_on_disk (const char *path, int *studies, int *trials)
{
    char *error = NULL;
    hpo_store_t *store = hpo_store_open (path, HPO_SYNC_OFF, &error);
    CHECK (store != NULL);
    *studies = *trials = 0;
    if (store) {
        CHECK (hpo_store_studies (store, s_count_study, studies) == 0);
        CHECK (hpo_store_trials (store, s_count_trial, trials) == 0);
    }
    hpo_store_destroy (&store);
    free (error);
}

//  ---- the tests ----------------------------------------------------------

//  A normal turn: every reply leaves after the turn's commit, whether the
//  write was a handler's (StudyCreate) or the turn end's (a heartbeat's
//  dispatch hands out a trial).
static void
s_test_commit_then_send (const char *dir)
{
    char *path = hpo_sprintf ("%s/order.db", dir);
    hpo_server_t *server = s_server (path);
    hpo_store_t *store = hpo_server_store (server);
    s_seen_t seen;
    size_t size;
    uint8_t *frame;

    frame = s_study_create ("s", &size);
    CHECK (s_feed (server, "cli", frame, size, &seen) == 0);
    CHECK (seen.n == 1);
    CHECK (seen.body[0] == HPO__ENVELOPE__BODY_OK);
    CHECK (seen.commits[0] == 1);

    //  A Hello writes nothing: its Welcome needs no commit.
    frame = s_hello ("w0", &size);
    CHECK (s_feed (server, "w0", frame, size, &seen) == 0);
    CHECK (seen.n == 1);
    CHECK (seen.body[0] == HPO__ENVELOPE__BODY_WELCOME);
    CHECK (hpo_store_commits (store) == 1);

    frame = s_heartbeat (&size);
    CHECK (s_feed (server, "w0", frame, size, &seen) == 0);
    CHECK (seen.n >= 1);
    int assigned = 0;
    for (int k = 0; k < seen.n && k < S_MAX_SEEN; k++) {
        assigned += seen.body[k] == HPO__ENVELOPE__BODY_ASSIGN;
        CHECK (seen.commits[k] == 2);
    }
    CHECK (assigned == 1);
    CHECK (!hpo_store_failed (store));
    hpo_server_destroy (&server);
    int studies, trials;
    s_on_disk (path, &studies, &trials);
    CHECK (studies == 1 && trials == 1);
    free (path);
}

//  A write that fails (in a handler, in the turn end's dispatch, or the
//  commit itself): no reply leaves, the feed reports the failure, and
//  nothing of the turn is on disk.
static void
s_test_failed_write (const char *dir, int which)
{
    char *path = hpo_sprintf ("%s/fail%d.db", dir, which);
    hpo_server_t *server = s_server (path);
    hpo_store_t *store = hpo_server_store (server);
    s_seen_t seen;
    size_t size;
    uint8_t *frame;
    if (which == 2) {
        //  The study and the worker first, so the heartbeat's turn writes
        //  only in its dispatch.
        frame = s_study_create ("s", &size);
        CHECK (s_feed (server, "cli", frame, size, &seen) == 0);
        frame = s_hello ("w0", &size);
        CHECK (s_feed (server, "w0", frame, size, &seen) == 0);
        CHECK (seen.n == 1);
    }
    //  0: the StudyCreate's insert fails; 1: its commit; 2: the
    //  dispatch's trial insert.
    hpo_store_fail_after (store, which == 1 ? 1 : 0);
    if (which == 2) {
        frame = s_heartbeat (&size);
        CHECK (s_feed (server, "w0", frame, size, &seen) == -1);
    } else {
        frame = s_study_create ("s", &size);
        CHECK (s_feed (server, "cli", frame, size, &seen) == -1);
    }
    CHECK (seen.n == 0);
    CHECK (hpo_store_failed (store));
    hpo_server_destroy (&server);
    int studies, trials;
    s_on_disk (path, &studies, &trials);
    CHECK (studies == (which == 2 ? 1 : 0));
    CHECK (trials == 0);
    free (path);
}

static volatile sig_atomic_t s_stop;

static void
s_on_alarm (int sig)
{
    (void)sig;
    s_stop = 1;
}

//  Runs the loop until it returns or after_ms pass (then *stop is set);
//  returns hpo_server_run's rc.
static int
s_run_for (hpo_server_t *server, long after_ms)
{
    s_stop = 0;
    struct itimerval timer = {
        .it_value = {after_ms / 1000, (after_ms % 1000) * 1000}};
    CHECK (setitimer (ITIMER_REAL, &timer, NULL) == 0);
    int rc = hpo_server_run (server, &s_stop);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer (ITIMER_REAL, &off, NULL);
    return rc;
}

//  Whether a reply reaches the client within wait_ms.
static int
s_replied (void *client, long wait_ms)
{
    zmq_pollitem_t item = {client, 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&item, 1, wait_ms) <= 0)
        return 0;
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    zmq_msg_recv (&msg, client, 0);
    zmq_msg_close (&msg);
    return 1;
}

//  The loop itself, over a socket: a turn answers when nothing fails;
//  when a write fails, hpo_server_run returns -1 at once (not at the
//  stop, which is set only after 10 s) and the client hears nothing.
static void
s_test_loop_exits (const char *dir)
{
    struct sigaction sa = {.sa_handler = s_on_alarm};
    sigemptyset (&sa.sa_mask);
    CHECK (sigaction (SIGALRM, &sa, NULL) == 0);
    char *path = hpo_sprintf ("%s/loop.db", dir);
    hpo_server_t *server = s_server (path);
    void *ctx = zmq_ctx_new ();
    void *client = zmq_socket (ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt (client, ZMQ_LINGER, &linger, sizeof linger);
    CHECK (zmq_connect (client, hpo_server_endpoint (server)) == 0);
    size_t size;
    uint8_t *frame = s_study_create ("s", &size);
    CHECK (zmq_send (client, frame, size, 0) == (int)size);
    free (frame);
    //  The control: the same path answers when the write succeeds (the
    //  loop runs in slices until the reply is in, for at most 10 s).
    int replied = 0;
    for (int k = 0; k < 40 && !replied; k++) {
        CHECK (s_run_for (server, 250) == 0);
        replied = s_replied (client, 0);
    }
    CHECK (replied);

    hpo_store_fail_after (hpo_server_store (server), 0);
    frame = s_study_create ("t", &size);
    CHECK (zmq_send (client, frame, size, 0) == (int)size);
    free (frame);
    CHECK (s_run_for (server, 10000) == -1);
    CHECK (!s_stop);
    CHECK (!s_replied (client, 300));
    zmq_close (client);
    zmq_ctx_term (ctx);
    hpo_server_destroy (&server);
    int studies, trials;
    s_on_disk (path, &studies, &trials);
    CHECK (studies == 1);
    free (path);
}

//  The trial whose Assign a tap sees.
static void
s_tap_assign (void *arg, const uint8_t *rid, size_t rid_size,
              const void *data, size_t size)
{
    hpo_wire_status_t status;
    hpo_env_t *env = hpo_wire_decode (data, size, &status);
    if (env && env->body_case == HPO__ENVELOPE__BODY_ASSIGN)
        *(uint64_t *)arg = env->assign->trial_id;
    hpo_wire_free (&env);
}

typedef struct {
    uint64_t id;
    char state[64]; //  "STATE ATTEMPT" of trial id
} s_trial_t;

static int
s_trial_state (void *ctx, const hpo_store_trial_row_t *row)
{
    s_trial_t *t = ctx;
    if (row->id == t->id)
        snprintf (t->state, sizeof t->state, "%s %u", row->state,
                  row->attempt);
    return 0;
}

//  A worker runs trials A and B. A's Finish waits in the coordinator's
//  queue behind a burst of B's reports, longer than a lease: A's lease
//  must not expire before the loop has read its queue to the end, or an
//  attempt that did its part is lost to the coordinator's own backlog (a
//  soak under load once saw "alive but stopped renewing" for such an
//  attempt).
static void
s_test_backlog_no_expiry (const char *dir)
{
    char *path = hpo_sprintf ("%s/backlog.db", dir);
    hpo_server_config_t cfg = {
        .db_path = path,
        .listen = "tcp://127.0.0.1:*",
        //  A lease long enough that the setup's Hello and heartbeats
        //  (real time, under ASan on a loaded machine) come within it.
        .heartbeat_ms = 300,
        .lease_ms = 1000,
        .sync = HPO_SYNC_OFF,
        .max_batch = 16,
    };
    char *error = NULL;
    hpo_server_t *server = hpo_server_new (&cfg, &error);
    CHECK (server != NULL);
    size_t size;
    uint8_t *frame = s_study_create ("b", &size);
    CHECK (hpo_server_feed (server, (const uint8_t *)"cli", 3, frame, size) ==
           0);
    free (frame);
    frame = s_hello_slots ("w0", 2, &size);
    CHECK (hpo_server_feed (server, (const uint8_t *)"w0", 2, frame, size) ==
           0);
    free (frame);
    uint64_t trial_id = 0, other_id = 0;
    frame = s_heartbeat (&size);
    CHECK (hpo_server_feed_tap (server, (const uint8_t *)"w0", 2, frame, size,
                                s_tap_assign, &trial_id) == 0);
    free (frame);
    frame = s_heartbeat (&size);
    CHECK (hpo_server_feed_tap (server, (const uint8_t *)"w0", 2, frame, size,
                                s_tap_assign, &other_id) == 0);
    free (frame);
    CHECK (trial_id != 0 && other_id != 0 && other_id != trial_id);

    //  The worker's session, on the routing id the feed used: 200 reports
    //  of B, then A's Finish, all queued while the loop is not running.
    void *ctx = zmq_ctx_new ();
    void *w = zmq_socket (ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt (w, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (w, ZMQ_ROUTING_ID, "w0", 2);
    CHECK (zmq_connect (w, hpo_server_endpoint (server)) == 0);
    uint64_t seq = 1000;
    for (int k = 0; k < 200; k++) {
        hpo_wire_msg_t msg;
        hpo_wire_report (&msg, ++seq, other_id, 1, 1, k);
        hpo_wire_metric_add (&msg, "loss", 1.0 / (k + 1));
        CHECK (hpo_wire_send (w, NULL, 0, &msg.env) == 0);
        hpo_wire_msg_done (&msg);
    }
    hpo_wire_finish_t fin = {.trial_id = trial_id,
                             .attempt = 1,
                             .outcome = HPO__OUTCOME__OUTCOME_COMPLETE,
                             .has_value = 1,
                             .value = 0.005,
                             .exit_status = 0};
    hpo_wire_msg_t msg;
    hpo_wire_finish (&msg, ++seq, &fin);
    CHECK (hpo_wire_send (w, NULL, 0, &msg.env) == 0);
    hpo_wire_msg_done (&msg);
    //  The lease's deadline passes with everything still queued.
    usleep (2000 * 1000);
    CHECK (s_run_for (server, 2500) == 0);
    zmq_close (w);
    zmq_ctx_term (ctx);
    hpo_server_destroy (&server);

    char *e2 = NULL;
    hpo_store_t *store = hpo_store_open (path, HPO_SYNC_OFF, &e2);
    s_trial_t t = {.id = trial_id};
    CHECK (store && hpo_store_trials (store, s_trial_state, &t) == 0);
    hpo_store_destroy (&store);
    //  Attempt 1 completed; the old loop expired it (LOST) and re-ran it.
    CHECK_STR (t.state, "COMPLETE 1");
    free (e2);
    free (error);
    free (path);
}

int
main (void)
{
    hpo_log_init ("test_server", HPO_LOG_ERROR);
    char dir[] = "/tmp/hpo-test-server-XXXXXX";
    CHECK (mkdtemp (dir) != NULL);
    s_test_commit_then_send (dir);
    for (int which = 0; which < 3; which++)
        s_test_failed_write (dir, which);
    s_test_loop_exits (dir);
    s_test_backlog_no_expiry (dir);
    char *cmd = hpo_sprintf ("rm -rf %s", dir);
    CHECK (system (cmd) == 0);
    free (cmd);
    TEST_DONE ();
}
