/*  hpo-test-garbage ENDPOINT: sends a coordinator well-framed ZeroMQ
    messages that are not valid hpo envelopes (random bytes, a wrong
    version, no body, extra frames, a reply body as a request) and checks
    that each is answered with an Error, never silence or a crash. Used by
    tests/e2e/test_faults.py. Exit 0 if every probe got its Error.       */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "../../common/rng.h"
#include "../../common/wire.h"

static int
s_expect_error (void *dealer, const char *what, Hpo__ErrorCode code)
{
    zmq_pollitem_t item = {dealer, 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&item, 1, 5000) <= 0) {
        fprintf (stderr, "%s: no answer within 5 s\n", what);
        return -1;
    }
    hpo_wire_status_t status;
    hpo_env_t *env = hpo_wire_recv (dealer, NULL, &status);
    if (!env || env->body_case != HPO__ENVELOPE__BODY_ERROR ||
        env->error->code != code) {
        fprintf (stderr, "%s: expected error %d, got %s\n", what, code,
                 env ? "another reply" : hpo_wire_status_str (status));
        hpo_wire_free (&env);
        return -1;
    }
    printf ("%s: answered \"%s\"\n", what, env->error->message);
    hpo_wire_free (&env);
    return 0;
}

//  The next message with this body within 5 s (others are dropped), or
//  NULL.
static hpo_env_t *
s_next (void *dealer, Hpo__Envelope__BodyCase body)
{
    zmq_pollitem_t item = {dealer, 0, ZMQ_POLLIN, 0};
    for (int k = 0; k < 100; k++) {
        if (zmq_poll (&item, 1, 5000) <= 0)
            return NULL;
        hpo_wire_status_t status;
        hpo_env_t *env = hpo_wire_recv (dealer, NULL, &status);
        if (env && env->body_case == body)
            return env;
        hpo_wire_free (&env);
    }
    return NULL;
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: hpo-test-garbage ENDPOINT\n");
        return 2;
    }
    void *ctx = zmq_ctx_new ();
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt (dealer, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect (dealer, argv[1])) {
        perror ("connect");
        return 1;
    }
    int failures = 0;
    hpo_rng_t rng;
    hpo_rng_seed (&rng, 5, 0);

    //  Random bytes that do not decode as an envelope (a valid one by
    //  chance would get another answer; these fixed bytes never decode).
    uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
    zmq_send (dealer, junk, sizeof junk, 0);
    failures += s_expect_error (dealer, "garbage",
                                HPO__ERROR_CODE__ERR_BAD_MESSAGE) != 0;

    //  A valid envelope of another version.
    Hpo__WorkersQuery q = HPO__WORKERS_QUERY__INIT;
    hpo_env_t env;
    hpo_wire_init (&env, 1);
    env.version = HPO_WIRE_VERSION + 7;
    env.body_case = HPO__ENVELOPE__BODY_WORKERS;
    env.workers = &q;
    hpo_wire_send (dealer, NULL, 0, &env);
    failures += s_expect_error (dealer, "wrong version",
                                HPO__ERROR_CODE__ERR_BAD_VERSION) != 0;

    //  No body.
    hpo_wire_init (&env, 2);
    hpo_wire_send (dealer, NULL, 0, &env);
    failures += s_expect_error (dealer, "no body",
                                HPO__ERROR_CODE__ERR_BAD_MESSAGE) != 0;

    //  Two frames where one is expected.
    zmq_send (dealer, "a", 1, ZMQ_SNDMORE);
    zmq_send (dealer, "b", 1, 0);
    failures += s_expect_error (dealer, "extra frames",
                                HPO__ERROR_CODE__ERR_BAD_MESSAGE) != 0;

    //  A reply body sent as a request.
    Hpo__Ok ok = HPO__OK__INIT;
    hpo_wire_init (&env, 3);
    env.body_case = HPO__ENVELOPE__BODY_OK;
    env.ok = &ok;
    hpo_wire_send (dealer, NULL, 0, &env);
    failures += s_expect_error (dealer, "reply as request",
                                HPO__ERROR_CODE__ERR_BAD_MESSAGE) != 0;

    //  Worker messages without a session.
    Hpo__Heartbeat hb = HPO__HEARTBEAT__INIT;
    hpo_wire_init (&env, 4);
    env.body_case = HPO__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    hpo_wire_send (dealer, NULL, 0, &env);
    failures += s_expect_error (dealer, "heartbeat without hello",
                                HPO__ERROR_CODE__ERR_UNKNOWN_SESSION) != 0;

    //  A hello with no name.
    Hpo__Hello hello = HPO__HELLO__INIT;
    hello.slots = 1;
    hpo_wire_init (&env, 5);
    env.body_case = HPO__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    hpo_wire_send (dealer, NULL, 0, &env);
    failures += s_expect_error (dealer, "hello without a name",
                                HPO__ERROR_CODE__ERR_INVALID) != 0;

    //  A burst of random frames; the coordinator must still answer after.
    uint8_t buf[300];
    for (int k = 0; k < 2000; k++) {
        size_t n = hpo_rng_below (&rng, sizeof buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)hpo_rng_next (&rng);
        zmq_send (dealer, buf, n, 0);
    }
    //  Drain the answers, then check a real request still works.
    zmq_pollitem_t item = {dealer, 0, ZMQ_POLLIN, 0};
    while (zmq_poll (&item, 1, 500) > 0) {
        hpo_wire_status_t status;
        hpo_env_t *e = hpo_wire_recv (dealer, NULL, &status);
        hpo_wire_free (&e);
    }
    hpo_wire_init (&env, 6);
    env.body_case = HPO__ENVELOPE__BODY_WORKERS;
    env.workers = &q;
    hpo_wire_send (dealer, NULL, 0, &env);
    if (zmq_poll (&item, 1, 5000) <= 0) {
        fprintf (stderr, "no answer to a valid request after the burst\n");
        failures++;
    } else {
        hpo_wire_status_t status;
        hpo_env_t *e = hpo_wire_recv (dealer, NULL, &status);
        if (!e || e->body_case != HPO__ENVELOPE__BODY_WORKER_LIST) {
            fprintf (stderr, "wrong answer to a valid request\n");
            failures++;
        } else
            printf ("valid request after 2000 random frames: answered\n");
        hpo_wire_free (&e);
    }

    //  As a worker: a Finish that asks (Finish.asks) is handed the next
    //  trial with no Heartbeat in between.
    Hpo__StudyCreate create = HPO__STUDY_CREATE__INIT;
    char spec[512];
    snprintf (spec, sizeof spec,
              "name: probe-%d\ncommand: 'true'\nobjective: {metric: loss}\n"
              "budget: {trials: 1000}\n"
              "space: {x: {type: float, low: 0, high: 1}}\n",
              (int)getpid ());
    create.filename = "probe";
    create.spec = spec;
    hpo_wire_init (&env, 7);
    env.body_case = HPO__ENVELOPE__BODY_STUDY_CREATE;
    env.study_create = &create;
    hpo_wire_send (dealer, NULL, 0, &env);
    hpo_env_t *e = s_next (dealer, HPO__ENVELOPE__BODY_OK);
    hello.name = "probe-worker";
    hello.host = "probe";
    hello.slots = 1;
    hpo_wire_init (&env, 8);
    env.body_case = HPO__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    hpo_wire_send (dealer, NULL, 0, &env);
    hpo_wire_free (&e);
    e = s_next (dealer, HPO__ENVELOPE__BODY_WELCOME);
    hpo_wire_free (&e);
    hb.free = 1;
    hpo_wire_init (&env, 9);
    env.body_case = HPO__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    hpo_wire_send (dealer, NULL, 0, &env);
    e = s_next (dealer, HPO__ENVELOPE__BODY_ASSIGN);
    if (!e) {
        fprintf (stderr, "no trial for a heartbeat asking for one\n");
        failures++;
    } else {
        Hpo__Finish fin = HPO__FINISH__INIT;
        fin.trial_id = e->assign->trial_id;
        fin.attempt = e->assign->attempt;
        fin.outcome = HPO__OUTCOME__OUTCOME_COMPLETE;
        fin.has_value = 1;
        fin.value = 0.5;
        fin.asks = 1;
        fin.free = 1;
        hpo_wire_free (&e);
        hpo_wire_init (&env, 10);
        env.body_case = HPO__ENVELOPE__BODY_FINISH;
        env.finish = &fin;
        hpo_wire_send (dealer, NULL, 0, &env);
        e = s_next (dealer, HPO__ENVELOPE__BODY_ASSIGN);
        if (!e) {
            fprintf (stderr, "a Finish that asks was not handed a trial\n");
            failures++;
        } else
            printf ("a Finish that asks: handed trial %" PRIu64 "\n",
                    e->assign->trial_id);
        hpo_wire_free (&e);
    }

    //  An oversized frame: the coordinator drops the connection
    //  (ZMQ_MAXMSGSIZE) and goes on; checked by the caller.
    size_t big = HPO_WIRE_MAX_BYTES + 65536;
    uint8_t *huge = calloc (1, big);
    zmq_send (dealer, huge, big, 0);
    free (huge);

    zmq_close (dealer);
    zmq_ctx_term (ctx);
    return failures ? 1 : 0;
}
