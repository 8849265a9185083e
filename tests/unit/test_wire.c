/*  test_wire: round trips, and garbage, oversized, wrong-version and
    bodiless input refused with the right reason.                        */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "../../common/mem.h"
#include "../../common/rng.h"
#include "../../common/utf8.h"
#include "../../common/wire.h"
#include "testutil.h"

//  Whether msg encodes to the same bytes as the envelope built by hand.
static int
s_same (hpo_wire_msg_t *msg, hpo_env_t *ref)
{
    size_t a_size, b_size;
    uint8_t *a = hpo_wire_encode (&msg->env, &a_size);
    uint8_t *b = hpo_wire_encode (ref, &b_size);
    int same = a_size == b_size && memcmp (a, b, a_size) == 0;
    free (a);
    free (b);
    hpo_wire_msg_done (msg);
    return same;
}

//  Each constructor sends exactly what the hand-filled structs it
//  replaced sent: what is on the wire does not change.
static void
s_test_worker_messages (void)
{
    hpo_wire_msg_t msg;
    hpo_env_t ref;

    Hpo__Lease l1 = HPO__LEASE__INIT, l2 = HPO__LEASE__INIT;
    l1.trial_id = 7;
    l1.attempt = 1;
    l2.trial_id = 9;
    l2.attempt = 2;
    Hpo__Lease *leases[] = {&l1, &l2};
    Hpo__Hello hello = HPO__HELLO__INIT;
    hello.name = "w1";
    hello.host = "box";
    hello.slots = 4;
    hello.pid = 123;
    hello.incarnation = 77;
    hello.started_us = 88;
    hello.n_leases = 2;
    hello.leases = leases;
    hpo_wire_init (&ref, 5);
    ref.body_case = HPO__ENVELOPE__BODY_HELLO;
    ref.hello = &hello;
    hpo_wire_hello (&msg, 5, "w1", "box", 4, 123, 77, 88);
    hpo_wire_lease_add (&msg, 7, 1);
    hpo_wire_lease_add (&msg, 9, 2);
    CHECK (s_same (&msg, &ref));

    //  More leases than the first allocation holds.
    hpo_wire_heartbeat (&msg, 6, 3);
    for (uint64_t k = 0; k < 100; k++)
        hpo_wire_lease_add (&msg, k, 1);
    CHECK (msg.env.heartbeat->n_leases == 100);
    CHECK (msg.env.heartbeat->leases[99]->trial_id == 99);
    CHECK (msg.env.heartbeat->leases[0]->trial_id == 0);
    hpo_wire_msg_done (&msg);
    Hpo__Heartbeat hb = HPO__HEARTBEAT__INIT;
    hb.free = 3;
    hpo_wire_init (&ref, 6);
    ref.body_case = HPO__ENVELOPE__BODY_HEARTBEAT;
    ref.heartbeat = &hb;
    hpo_wire_heartbeat (&msg, 6, 3);
    CHECK (s_same (&msg, &ref));

    Hpo__Metric m1 = HPO__METRIC__INIT;
    m1.name = "loss";
    m1.value = 0.5;
    Hpo__Metric *metrics[] = {&m1};
    Hpo__Report report = HPO__REPORT__INIT;
    report.trial_id = 3;
    report.attempt = 1;
    report.has_step = 1;
    report.step = 0;
    report.n_metrics = 1;
    report.metrics = metrics;
    hpo_wire_init (&ref, 0);
    ref.body_case = HPO__ENVELOPE__BODY_REPORT;
    ref.report = &report;
    hpo_wire_report (&msg, 0, 3, 1, 1, 0);
    hpo_wire_metric_add (&msg, "loss", 0.5);
    CHECK (s_same (&msg, &ref));

    Hpo__Finish f = HPO__FINISH__INIT;
    f.trial_id = 3;
    f.attempt = 2;
    f.outcome = HPO__OUTCOME__OUTCOME_FAILED;
    f.reason = "exit 1";
    f.log_tail = "boom";
    f.exit_status = 256;
    f.runtime_s = 1.5;
    f.asks = 1;
    f.free = 2;
    hpo_wire_init (&ref, 0);
    ref.body_case = HPO__ENVELOPE__BODY_FINISH;
    ref.finish = &f;
    hpo_wire_finish_t wf = {.trial_id = 3,
                            .attempt = 2,
                            .outcome = HPO__OUTCOME__OUTCOME_FAILED,
                            .reason = "exit 1",
                            .log_tail = "boom",
                            .exit_status = 256,
                            .runtime_s = 1.5,
                            .asks = 1,
                            .free = 2};
    hpo_wire_finish (&msg, 0, &wf);
    CHECK (s_same (&msg, &ref));

    Hpo__Goodbye bye = HPO__GOODBYE__INIT;
    bye.reason = "worker stopping";
    bye.n_leases = 1;
    bye.leases = leases;
    hpo_wire_init (&ref, 0);
    ref.body_case = HPO__ENVELOPE__BODY_GOODBYE;
    ref.goodbye = &bye;
    hpo_wire_goodbye (&msg, 0, "worker stopping");
    hpo_wire_lease_add (&msg, 7, 1);
    CHECK (s_same (&msg, &ref));
}

static void
s_test_coordinator_messages (void)
{
    hpo_wire_msg_t msg;
    hpo_env_t ref;
    uint64_t acks[] = {4, 5, 6};

    Hpo__Lease l1 = HPO__LEASE__INIT;
    l1.trial_id = 7;
    l1.attempt = 1;
    Hpo__Lease *leases[] = {&l1};
    Hpo__Welcome welcome = HPO__WELCOME__INIT;
    welcome.heartbeat_ms = 1000;
    welcome.lease_ms = 5000;
    welcome.n_refused = 1;
    welcome.refused = leases;
    hpo_wire_init (&ref, 9);
    ref.body_case = HPO__ENVELOPE__BODY_WELCOME;
    ref.welcome = &welcome;
    hpo_wire_welcome (&msg, 9, 1000, 5000);
    hpo_wire_lease_add (&msg, 7, 1);
    CHECK (s_same (&msg, &ref));

    char *names[] = {"lr", "opt"};
    hpo_value_t values[] = {{.kind = HPO_KIND_FLOAT, .f = 0.1},
                            {.kind = HPO_KIND_STR, .s = "adam"}};
    Hpo__Assign assign = HPO__ASSIGN__INIT;
    assign.trial_id = 11;
    assign.attempt = 2;
    assign.study = "s";
    assign.number = 3;
    assign.command = "train";
    assign.shell = 1;
    assign.n_params = 2;
    assign.params = hpo_wire_params_new (names, values, 2);
    assign.objective = "loss";
    assign.timeout_ms = 60000;
    assign.grace_ms = 5000;
    hpo_wire_init (&ref, 10);
    ref.body_case = HPO__ENVELOPE__BODY_ASSIGN;
    ref.assign = &assign;
    ref.n_acks = 3;
    ref.acks = acks;
    hpo_wire_assign_t wa = {.trial_id = 11,
                            .attempt = 2,
                            .study = "s",
                            .number = 3,
                            .command = "train",
                            .shell = 1,
                            .names = names,
                            .values = values,
                            .n_params = 2,
                            .objective = "loss",
                            .timeout_ms = 60000,
                            .grace_ms = 5000};
    hpo_wire_assign (&msg, 10, &wa);
    hpo_wire_msg_acks (&msg, acks, 3);
    CHECK (s_same (&msg, &ref));
    hpo_wire_params_free (assign.params, 2);

    Hpo__Ack ack = HPO__ACK__INIT;
    hpo_wire_init (&ref, 12);
    ref.body_case = HPO__ENVELOPE__BODY_ACK;
    ref.ack = &ack;
    ref.n_acks = 3;
    ref.acks = acks;
    hpo_wire_ack (&msg, 12);
    hpo_wire_msg_acks (&msg, acks, 3);
    CHECK (s_same (&msg, &ref));

    Hpo__Kill kill = HPO__KILL__INIT;
    kill.trial_id = 11;
    kill.attempt = 2;
    kill.reason = "stale attempt";
    hpo_wire_init (&ref, 13);
    ref.body_case = HPO__ENVELOPE__BODY_KILL;
    ref.kill = &kill;
    hpo_wire_kill (&msg, 13, 11, 2, "stale attempt");
    CHECK (s_same (&msg, &ref));

    Hpo__Error error = HPO__ERROR__INIT;
    error.code = HPO__ERROR_CODE__ERR_INVALID;
    error.message = "no";
    hpo_wire_init (&ref, 14);
    ref.body_case = HPO__ENVELOPE__BODY_ERROR;
    ref.error = &error;
    hpo_wire_error (&msg, 14, HPO__ERROR_CODE__ERR_INVALID, "no");
    CHECK (s_same (&msg, &ref));

    Hpo__Ok ok = HPO__OK__INIT;
    ok.message = "created study s";
    hpo_wire_init (&ref, 15);
    ref.body_case = HPO__ENVELOPE__BODY_OK;
    ref.ok = &ok;
    hpo_wire_ok (&msg, 15, "created study s");
    CHECK (s_same (&msg, &ref));
}

static void
s_test_cli_messages (void)
{
    hpo_wire_msg_t msg;
    hpo_env_t ref;

    Hpo__StudyCreate create = HPO__STUDY_CREATE__INIT;
    create.filename = "s.yaml";
    create.spec = "name: s\n";
    hpo_wire_init (&ref, 1);
    ref.body_case = HPO__ENVELOPE__BODY_STUDY_CREATE;
    ref.study_create = &create;
    hpo_wire_study_create (&msg, 1, "s.yaml", "name: s\n");
    CHECK (s_same (&msg, &ref));

    Hpo__StudyRef sref = HPO__STUDY_REF__INIT;
    sref.name = "s";
    hpo_wire_init (&ref, 2);
    ref.body_case = HPO__ENVELOPE__BODY_STUDY_SHOW;
    ref.study_show = &sref;
    hpo_wire_study_show (&msg, 2, "s");
    CHECK (s_same (&msg, &ref));
    ref.body_case = HPO__ENVELOPE__BODY_STUDY_STOP;
    hpo_wire_study_stop (&msg, 2, "s", 0);
    CHECK (s_same (&msg, &ref));
    ref.body_case = HPO__ENVELOPE__BODY_BEST;
    hpo_wire_best (&msg, 2, "s");
    CHECK (s_same (&msg, &ref));

    Hpo__StudyList list = HPO__STUDY_LIST__INIT;
    hpo_wire_init (&ref, 3);
    ref.body_case = HPO__ENVELOPE__BODY_STUDY_LIST;
    ref.study_list = &list;
    hpo_wire_study_list (&msg, 3);
    CHECK (s_same (&msg, &ref));

    Hpo__TrialsQuery q = HPO__TRIALS_QUERY__INIT;
    q.study = "s";
    q.state = "";
    q.after = 2000;
    hpo_wire_init (&ref, 4);
    ref.body_case = HPO__ENVELOPE__BODY_TRIALS;
    ref.trials = &q;
    hpo_wire_trials (&msg, 4, "s", "", 2000, 0);
    CHECK (s_same (&msg, &ref));

    Hpo__TrialRef tref = HPO__TRIAL_REF__INIT;
    tref.study = "s";
    tref.number = 42;
    hpo_wire_init (&ref, 5);
    ref.body_case = HPO__ENVELOPE__BODY_TRIAL_SHOW;
    ref.trial_show = &tref;
    hpo_wire_trial_show (&msg, 5, "s", 42);
    CHECK (s_same (&msg, &ref));

    Hpo__WorkersQuery wq = HPO__WORKERS_QUERY__INIT;
    hpo_wire_init (&ref, 6);
    ref.body_case = HPO__ENVELOPE__BODY_WORKERS;
    ref.workers = &wq;
    hpo_wire_workers (&msg, 6);
    CHECK (s_same (&msg, &ref));
}

//  Answers one ZAP request on zap (RFC 27) with user_id.
static void
s_zap_answer (void *zap, const char *user_id)
{
    char frames[8][256];
    size_t sizes[8];
    int n = 0, more = 1;
    while (more && n < 8) {
        int got = zmq_recv (zap, frames[n], sizeof frames[n], 0);
        sizes[n++] = got < 0 ? 0 : (size_t)got;
        size_t more_size = sizeof more;
        zmq_getsockopt (zap, ZMQ_RCVMORE, &more, &more_size);
    }
    zmq_send (zap, "1.0", 3, ZMQ_SNDMORE);
    zmq_send (zap, frames[1], sizes[1], ZMQ_SNDMORE); //  request id
    zmq_send (zap, "200", 3, ZMQ_SNDMORE);
    zmq_send (zap, "OK", 2, ZMQ_SNDMORE);
    zmq_send (zap, user_id, strlen (user_id), ZMQ_SNDMORE);
    zmq_send (zap, "", 0, 0);
}

//  Receives one message on router within 5 s, answering ZAP meanwhile.
static hpo_env_t *
s_recv_peer (void *router, void *zap, const char *user_id,
             hpo_wire_peer_t *peer, hpo_wire_status_t *status)
{
    for (int k = 0; k < 500; k++) {
        zmq_pollitem_t items[] = {{router, 0, ZMQ_POLLIN, 0},
                                  {zap, 0, ZMQ_POLLIN, 0}};
        zmq_poll (items, 2, 10);
        if (items[1].revents & ZMQ_POLLIN)
            s_zap_answer (zap, user_id);
        if (items[0].revents & ZMQ_POLLIN)
            return hpo_wire_recv (router, peer, status);
    }
    *status = HPO_WIRE_OK;
    return NULL;
}

//  hpo_wire_recv keeps who sent a message: its routing id, the User-Id
//  the ZAP handler gave the connection, and its address; a User-Id too
//  long to keep whole drops the message rather than cut the identity.
static void
s_test_peer (void)
{
    void *ctx = zmq_ctx_new ();
    void *zap = zmq_socket (ctx, ZMQ_REP);
    CHECK (zmq_bind (zap, "inproc://zeromq.zap.01") == 0);
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    zmq_setsockopt (router, ZMQ_ZAP_DOMAIN, "hpo", 3);
    CHECK (zmq_bind (router, "tcp://127.0.0.1:*") == 0);
    char endpoint[256];
    size_t size = sizeof endpoint;
    zmq_getsockopt (router, ZMQ_LAST_ENDPOINT, endpoint, &size);
    char long_id[HPO_WIRE_MAX_PROP + 2];
    memset (long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    const char *ids[] = {"alice", long_id};
    for (int k = 0; k < 2; k++) {
        void *dealer = zmq_socket (ctx, ZMQ_DEALER);
        int linger = 0;
        zmq_setsockopt (dealer, ZMQ_LINGER, &linger, sizeof linger);
        char rid[] = {'w', (char)('0' + k)};
        zmq_setsockopt (dealer, ZMQ_ROUTING_ID, rid, 2);
        CHECK (zmq_connect (dealer, endpoint) == 0);
        hpo_wire_msg_t msg;
        hpo_wire_workers (&msg, 3);
        CHECK (hpo_wire_send (dealer, NULL, 0, &msg.env) == 0);
        hpo_wire_msg_done (&msg);
        hpo_wire_peer_t peer;
        hpo_wire_status_t status;
        hpo_env_t *env = s_recv_peer (router, zap, ids[k], &peer, &status);
        CHECK (peer.rid_size == 2 && memcmp (peer.rid, rid, 2) == 0);
        if (k == 0) {
            CHECK (env && env->seq == 3);
            CHECK_STR (peer.user_id, "alice");
            CHECK_STR (peer.address, "127.0.0.1");
        } else {
            CHECK (env == NULL);
            CHECK (status == HPO_WIRE_BAD_PEER);
            CHECK_STR (peer.user_id, "");
        }
        hpo_wire_free (&env);
        zmq_close (dealer);
    }
    zmq_close (router);
    zmq_close (zap);
    zmq_ctx_term (ctx);
}

//  A parameter absent from a trial (kind 0, HPO_KIND_NONE) crosses the
//  wire in an Assign and a TrialInfo and reads back as absent; kind 0
//  with a value is refused, as is a kind beyond the known ones.
static void
s_test_absent_param (void)
{
    char *names[] = {"opt", "momentum"};
    hpo_value_t values[] = {{.kind = HPO_KIND_STR, .s = "adam"},
                            {.kind = HPO_KIND_NONE}};
    hpo_wire_msg_t msg;
    hpo_wire_assign_t wa = {.trial_id = 1,
                            .attempt = 1,
                            .study = "s",
                            .command = "train --momentum={momentum}",
                            .names = names,
                            .values = values,
                            .n_params = 2,
                            .objective = "loss"};
    hpo_wire_assign (&msg, 5, &wa);
    size_t size;
    uint8_t *buf = hpo_wire_encode (&msg.env, &size);
    hpo_wire_msg_done (&msg);
    hpo_wire_status_t status;
    hpo_env_t *back = hpo_wire_decode (buf, size, &status);
    free (buf);
    CHECK (back && status == HPO_WIRE_OK);
    if (back) {
        CHECK (back->assign->n_params == 2);
        CHECK (back->assign->params[1]->kind == 0);
        hpo_value_t got = {.kind = HPO_KIND_INT};
        CHECK (hpo_wire_param_get (back->assign->params[1], &got) == 0);
        CHECK (got.kind == HPO_KIND_NONE);
        CHECK (hpo_wire_param_get (back->assign->params[0], &got) == 0);
        CHECK (got.kind == HPO_KIND_STR);
        free (got.s);
    }
    hpo_wire_free (&back);

    Hpo__Param **params = hpo_wire_params_new (names, values, 2);
    Hpo__TrialInfo info = HPO__TRIAL_INFO__INIT;
    info.n_params = 2;
    info.params = params;
    hpo_value_t got;
    CHECK (hpo_wire_param_get (info.params[1], &got) == 0);
    CHECK (got.kind == HPO_KIND_NONE);
    //  Kind 0 means absent, nothing else: with a value it is malformed.
    params[1]->f = 0.5;
    CHECK (hpo_wire_param_get (params[1], &got) == -1);
    params[1]->f = 0;
    params[1]->i = 3;
    CHECK (hpo_wire_param_get (params[1], &got) == -1);
    params[1]->i = 0;
    params[1]->s = "x";
    CHECK (hpo_wire_param_get (params[1], &got) == -1);
    params[1]->s = (char *)protobuf_c_empty_string;
    CHECK (hpo_wire_param_get (params[1], &got) == 0);
    params[1]->kind = 4;
    CHECK (hpo_wire_param_get (params[1], &got) == -1);
    hpo_wire_params_free (params, 2);
}

//  The arena is the thread's that turned it on: another thread decoding
//  meanwhile (the dashboard's, the worker list) gets memory of its own,
//  which outlives the arena and which it frees itself.
typedef struct {
    const uint8_t *buf;
    size_t size;
    hpo_env_t *env;
} s_other_t;

static void *
s_other_decode (void *arg)
{
    s_other_t *o = arg;
    hpo_wire_status_t status;
    o->env = hpo_wire_decode (o->buf, o->size, &status);
    return NULL;
}

static void *
s_other_free (void *arg)
{
    s_other_t *o = arg;
    hpo_wire_free (&o->env);
    return NULL;
}

static void
s_test_arena_threads (const uint8_t *buf, size_t size)
{
    s_other_t o = {buf, size, NULL};
    pthread_t th;
    hpo_wire_arena_begin ();
    pthread_create (&th, NULL, s_other_decode, &o);
    pthread_join (th, NULL);
    //  Ends the loop's arena, and would free what the other thread got,
    //  had it come from the arena; churn reuses that memory.
    hpo_wire_arena_end ();
    hpo_wire_arena_begin ();
    hpo_wire_status_t status;
    for (int k = 0; k < 2000; k++) {
        hpo_env_t *a = hpo_wire_decode (buf, 3, &status);
        hpo_wire_free (&a);
        char *junk = hpo_malloc (64);
        memset (junk, 0x5a, 64);
        free (junk);
    }
    hpo_wire_arena_end ();
    CHECK (o.env && o.env->seq == 99 && o.env->report &&
           o.env->report->trial_id == 42);
    if (o.env && o.env->report && o.env->report->n_metrics == 2)
        CHECK_STR (o.env->report->metrics[1]->name, "acc");
    //  Freed in its thread with the arena on here: a real free there.
    hpo_wire_arena_begin ();
    pthread_create (&th, NULL, s_other_free, &o);
    pthread_join (th, NULL);
    hpo_wire_arena_end ();
    CHECK (o.env == NULL);
}

int
main (void)
{
    s_test_peer ();
    s_test_worker_messages ();
    s_test_coordinator_messages ();
    s_test_cli_messages ();
    s_test_absent_param ();
    //  Round trip of a report.
    Hpo__Metric m1 = HPO__METRIC__INIT, m2 = HPO__METRIC__INIT;
    m1.name = "loss";
    m1.value = 0.25;
    m2.name = "acc";
    m2.value = 0.75;
    Hpo__Metric *metrics[] = {&m1, &m2};
    Hpo__Report report = HPO__REPORT__INIT;
    report.trial_id = 42;
    report.attempt = 3;
    report.has_step = 1;
    report.step = 7;
    report.n_metrics = 2;
    report.metrics = metrics;
    hpo_env_t env;
    hpo_wire_init (&env, 99);
    env.body_case = HPO__ENVELOPE__BODY_REPORT;
    env.report = &report;
    size_t size;
    uint8_t *buf = hpo_wire_encode (&env, &size);
    hpo_wire_status_t status;
    hpo_env_t *back = hpo_wire_decode (buf, size, &status);
    CHECK (back != NULL);
    CHECK (status == HPO_WIRE_OK);
    CHECK (back->seq == 99);
    CHECK (back->body_case == HPO__ENVELOPE__BODY_REPORT);
    CHECK (back->report->trial_id == 42 && back->report->attempt == 3);
    CHECK (back->report->n_metrics == 2);
    CHECK_STR (back->report->metrics[1]->name, "acc");
    hpo_wire_free (&back);
    CHECK (back == NULL);

    //  In an arena: the same envelope, many times over (more than one
    //  chunk), and garbage; all released at once at the end.
    hpo_wire_arena_begin ();
    for (int k = 0; k < 20000; k++) {
        hpo_env_t *a = hpo_wire_decode (buf, size, &status);
        CHECK (a && a->report->n_metrics == 2);
        if (a && k == 19999)
            CHECK_STR (a->report->metrics[0]->name, "loss");
        hpo_wire_free (&a);
        CHECK (a == NULL);
    }
    CHECK (hpo_wire_decode (buf, 3, &status) == NULL);
    hpo_wire_arena_end ();
    hpo_wire_arena_begin ();
    back = hpo_wire_decode (buf, size, &status);
    CHECK (back && back->report->trial_id == 42);
    hpo_wire_free (&back);
    hpo_wire_arena_end ();
    s_test_arena_threads (buf, size);

    //  Wrong version.
    env.version = HPO_WIRE_VERSION + 1;
    uint8_t *buf2 = hpo_wire_encode (&env, &size);
    CHECK (hpo_wire_decode (buf2, size, &status) == NULL);
    CHECK (status == HPO_WIRE_BAD_VERSION);
    free (buf2);

    //  No body.
    hpo_env_t empty;
    hpo_wire_init (&empty, 1);
    buf2 = hpo_wire_encode (&empty, &size);
    CHECK (hpo_wire_decode (buf2, size, &status) == NULL);
    CHECK (status == HPO_WIRE_NO_BODY);
    free (buf2);

    //  Oversized: refused before any decoding.
    CHECK (hpo_wire_decode (buf, HPO_WIRE_MAX_BYTES + 1, &status) == NULL);
    CHECK (status == HPO_WIRE_TOO_LARGE);
    //  A client raises its limit; what is over it is still refused.
    hpo_wire_set_limit (64);
    CHECK (hpo_wire_limit () == 64);
    CHECK (hpo_wire_decode (buf, 65, &status) == NULL);
    CHECK (status == HPO_WIRE_TOO_LARGE);
    hpo_wire_set_limit (HPO_WIRE_MAX_BYTES);
    free (buf);

    //  Garbage of every length up to 512 bytes, many times: never a crash,
    //  never an accepted envelope without a body, never a wrong version.
    hpo_rng_t rng;
    hpo_rng_seed (&rng, 1, 0);
    uint8_t junk[512];
    int accepted = 0;
    for (int round = 0; round < 20000; round++) {
        size_t n = hpo_rng_below (&rng, sizeof junk + 1);
        for (size_t k = 0; k < n; k++)
            junk[k] = (uint8_t)hpo_rng_next (&rng);
        hpo_env_t *e = hpo_wire_decode (junk, n, &status);
        if (e) {
            CHECK (e->version == HPO_WIRE_VERSION);
            CHECK (e->body_case != HPO__ENVELOPE__BODY__NOT_SET);
            accepted++;
            hpo_wire_free (&e);
        } else
            CHECK (status != HPO_WIRE_OK);
    }
    printf ("random garbage: %d of 20000 decoded to a valid envelope\n",
            accepted);

    //  Params between domain and wire forms.
    char *names[] = {"lr", "layers", "opt"};
    hpo_value_t values[3] = {
        {.kind = HPO_KIND_FLOAT, .f = 0.001},
        {.kind = HPO_KIND_INT, .i = 4},
        {.kind = HPO_KIND_STR, .s = "adam"},
    };
    Hpo__Param **params = hpo_wire_params_new (names, values, 3);
    hpo_value_t got;
    CHECK (hpo_wire_param_get (params[0], &got) == 0);
    CHECK (got.kind == HPO_KIND_FLOAT && got.f == 0.001);
    CHECK (hpo_wire_param_get (params[1], &got) == 0);
    CHECK (got.kind == HPO_KIND_INT && got.i == 4);
    CHECK (hpo_wire_param_get (params[2], &got) == 0);
    CHECK (got.kind == HPO_KIND_STR);
    CHECK_STR (got.s, "adam");
    free (got.s);
    params[0]->kind = 9;
    CHECK (hpo_wire_param_get (params[0], &got) == -1);
    hpo_wire_params_free (params, 3);

    //  UTF-8: peers' strings are cleaned before they are echoed or stored.
    CHECK (hpo_utf8_valid ("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 14));
    const char *bad[] = {
        "\xC3",             //  cut short
        "\xC0\xAF",         //  overlong '/'
        "\xE0\x80\xAF",     //  overlong
        "\xED\xA0\x80",     //  surrogate
        "\xF4\x90\x80\x80", //  past U+10FFFF
        "\xFF",             //  never valid
        "\x80",             //  a continuation alone
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        CHECK (!hpo_utf8_valid (bad[k], strlen (bad[k])));
        char *clean = hpo_utf8_clean (bad[k], 0);
        CHECK (hpo_utf8_valid (clean, strlen (clean)));
        CHECK_CONTAINS (clean, "\xEF\xBF\xBD");
        free (clean);
    }
    char *clean = hpo_utf8_clean ("ok \xFF end", 0);
    CHECK_STR (clean, "ok \xEF\xBF\xBD end");
    free (clean);
    clean = hpo_utf8_clean ("caf\xC3\xA9", 0);
    CHECK_STR (clean, "caf\xC3\xA9");
    free (clean);
    //  Cut to max bytes, never inside a character.
    clean = hpo_utf8_clean ("caf\xC3\xA9", 4);
    CHECK_STR (clean, "caf");
    free (clean);
    clean = hpo_utf8_clean ("\xFF\xFF", 4);
    CHECK_STR (clean, "\xEF\xBF\xBD");
    free (clean);
    clean = hpo_utf8_clean (NULL, 10);
    CHECK_STR (clean, "");
    free (clean);
    TEST_DONE ();
}
