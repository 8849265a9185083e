//  test_client: one request, one reply, a bounded wait. A fake coordinator
//  (a ROUTER in a thread) answers with stragglers and garbage first, stays
//  silent once, then answers again; and a port where nothing listens must
//  fail within the timeout, not hang.
#include "testutil.h"

#include <pthread.h>
#include <zmq.h>

#include "cli/client.h"
#include "common/clock.h"

//  A port on loopback that nothing listens on: bind to learn a free one,
//  then close it again.
static char *
s_dead_endpoint (void *ctx)
{
    void *sock = zmq_socket (ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof linger);
    CHECK (zmq_bind (sock, "tcp://127.0.0.1:*") == 0);
    char endpoint[256];
    size_t size = sizeof endpoint;
    zmq_getsockopt (sock, ZMQ_LAST_ENDPOINT, endpoint, &size);
    zmq_close (sock);
    return strdup (endpoint);
}

static void
test_no_listener (void *ctx)
{
    char *endpoint = s_dead_endpoint (ctx);
    char *error = NULL;
    hpo_client_t *client = hpo_client_new (endpoint, 300, &error);
    CHECK (client && !error);
    hpo_env_t request;
    hpo_wire_init (&request, 0);
    Hpo__StudyList list = HPO__STUDY_LIST__INIT;
    request.body_case = HPO__ENVELOPE__BODY_STUDY_LIST;
    request.study_list = &list;
    for (int round = 0; round < 2; round++) {
        int64_t start = hpo_clock_mono_ms ();
        hpo_env_t *reply = hpo_client_request (client, &request);
        int64_t took = hpo_clock_mono_ms () - start;
        CHECK (!reply);
        CHECK (took >= 290 && took < 1500);
        char expect[300];
        snprintf (expect, sizeof expect, "no answer from %s within 0.3s",
                  endpoint);
        CHECK_STR (hpo_client_error (client), expect);
    }
    hpo_client_destroy (&client);
    CHECK (!client);
    hpo_client_destroy (&client); //  idempotent
    free (endpoint);
}

//  Expects hpo_client_new to refuse endpoint at once with expect, even
//  with a long timeout: zmq would have taken it and waited that out.
static void
s_bad (const char *endpoint, const char *expect, int line)
{
    char *error = NULL;
    int64_t start = hpo_clock_mono_ms ();
    hpo_client_t *client = hpo_client_new (endpoint, 60000, &error);
    int64_t took = hpo_clock_mono_ms () - start;
    t_checks++;
    if (client || !error || !strstr (error, expect)) {
        fprintf (stderr, "%s:%d: %s: expected \"%s\", got %s\n", __FILE__, line,
                 endpoint, expect,
                 client  ? "a client"
                 : error ? error
                         : "no error");
        t_failures++;
    }
    //  Only a resolver that does not answer could make this slow.
    CHECK (took < 30000);
    hpo_client_destroy (&client);
    free (error);
}
#define BAD(endpoint, expect) s_bad (endpoint, expect, __LINE__)

static void
s_good (const char *endpoint)
{
    char *error = NULL;
    hpo_client_t *client = hpo_client_new (endpoint, 100, &error);
    CHECK (client && !error);
    if (!client)
        fprintf (stderr, "  %s: %s\n", endpoint, error);
    hpo_client_destroy (&client);
    free (error);
}

//  Issue #10: a port of 99999 or a host that does not resolve waited out
//  --timeout, then said "no answer".
static void
test_bad_endpoint (void)
{
    BAD ("tcp://127.0.0.1:99999",
         "bad endpoint 'tcp://127.0.0.1:99999': port 99999 is not 1-65535");
    BAD ("tcp://127.0.0.1:0", "port 0 is not 1-65535");
    BAD ("tcp://127.0.0.1:555555", "port 555555 is not 1-65535");
    BAD ("tcp://127.0.0.1:12ab", "port 12ab is not 1-65535");
    BAD ("tcp://127.0.0.1:-1", "port -1 is not 1-65535");
    BAD ("tcp://127.0.0.1:", "missing port");
    BAD ("tcp://127.0.0.1:*", "port * is for binding");
    BAD ("tcp://127.0.0.1", "missing :PORT");
    BAD ("tcp://:5555", "missing host");
    BAD ("tcp://*:5555", "host * is for binding");
    BAD ("tcp://a b:5555", "bad host 'a b'");
    BAD ("tcp://no-such-host.invalid:5555",
         "bad endpoint 'tcp://no-such-host.invalid:5555': host "
         "no-such-host.invalid does not resolve: ");
    BAD ("tcp://::1:5555", "an IPv6 address goes in brackets");
    BAD ("tcp://[::1:5555", "'[' without ']'");
    BAD ("tcp://[::1]", "missing :PORT after ']'");
    BAD ("tcp://[::1]:70000", "port 70000 is not 1-65535");
    BAD ("tcp://[]:5555", "missing host");
    BAD ("tcp://[zz]:5555", "bad host 'zz'");
    BAD ("tcp://[1::2::3]:5555", "1::2::3 is not an IPv6 address");
    BAD ("tcp://;127.0.0.1:5555", "empty source address");
    BAD ("nonsense", "bad endpoint 'nonsense': no transport (want "
                     "tcp://HOST:PORT");
    BAD ("", "empty endpoint");
    BAD ("bogus://x:1", "unknown transport 'bogus' (want tcp://HOST:PORT, "
                        "ipc://PATH or inproc://NAME)");
    BAD ("udp://127.0.0.1:5555", "unknown transport 'udp'");
    BAD ("ipc://", "empty ipc path");
    BAD ("inproc://", "empty inproc name");
    char path[200] = "ipc:///tmp/";
    memset (path + 11, 'x', 110);
    path[121] = 0;
    BAD (path, "ipc path longer than 107 bytes");

    s_good ("tcp://127.0.0.1:5555");
    s_good ("tcp://localhost:1");
    s_good ("tcp://127.0.0.1:65535");
    s_good ("tcp://[::1]:5555");
    s_good ("tcp://127.0.0.1;127.0.0.1:5555");
    s_good ("ipc:///tmp/hpo-test.sock");
    s_good ("ipc://@abstract");
    s_good ("inproc://hpo");
}

//  ---- a fake coordinator -------------------------------------------------

typedef struct {
    void *ctx;
    void *router;
    int answered;
} s_fake_t;

static void
s_reply (void *router, const hpo_wire_peer_t *peer, uint64_t seq,
         const char *message)
{
    hpo_wire_msg_t msg;
    hpo_wire_ok (&msg, seq, message);
    hpo_wire_send (router, peer->rid, peer->rid_size, &msg.env);
    hpo_wire_msg_done (&msg);
}

//  Request 1: a straggler with another seq, a frame that does not decode,
//  then the answer. Request 2: silence. Request 3: an Error reply.
static void *
s_fake_run (void *arg)
{
    s_fake_t *fake = arg;
    int64_t deadline = hpo_clock_mono_ms () + 10000;
    int n = 0;
    while (n < 3 && hpo_clock_mono_ms () < deadline) {
        zmq_pollitem_t item = {fake->router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&item, 1, 100) <= 0)
            continue;
        hpo_wire_peer_t peer;
        hpo_wire_status_t status;
        hpo_env_t *env = hpo_wire_recv (fake->router, &peer, &status);
        if (!env)
            continue;
        n++;
        if (n == 1) {
            s_reply (fake->router, &peer, env->seq + 100, "stale");
            zmq_send (fake->router, peer.rid, peer.rid_size, ZMQ_SNDMORE);
            zmq_send (fake->router, "\xff\xff\xff", 3, 0);
            s_reply (fake->router, &peer, env->seq, "one");
        } else if (n == 3) {
            hpo_wire_msg_t reply;
            hpo_wire_error (&reply, env->seq, HPO__ERROR_CODE__ERR_NOT_FOUND,
                            "no study named x");
            hpo_wire_send (fake->router, peer.rid, peer.rid_size, &reply.env);
            hpo_wire_msg_done (&reply);
        }
        hpo_wire_free (&env);
    }
    fake->answered = n;
    return NULL;
}

static void
test_fake_coordinator (void *ctx)
{
    s_fake_t fake = {ctx, zmq_socket (ctx, ZMQ_ROUTER), 0};
    int linger = 0;
    zmq_setsockopt (fake.router, ZMQ_LINGER, &linger, sizeof linger);
    CHECK (zmq_bind (fake.router, "tcp://127.0.0.1:*") == 0);
    char endpoint[256];
    size_t size = sizeof endpoint;
    zmq_getsockopt (fake.router, ZMQ_LAST_ENDPOINT, endpoint, &size);
    pthread_t thread;
    pthread_create (&thread, NULL, s_fake_run, &fake);

    char *error = NULL;
    hpo_client_t *client = hpo_client_new (endpoint, 2000, &error);
    CHECK (client && !error);
    CHECK_STR (hpo_client_endpoint (client), endpoint);
    hpo_env_t request;
    hpo_wire_init (&request, 0);
    Hpo__StudyRef ref = HPO__STUDY_REF__INIT;
    ref.name = "x";
    request.body_case = HPO__ENVELOPE__BODY_STUDY_SHOW;
    request.study_show = &ref;

    //  The straggler and the garbage are dropped; the answer is taken.
    hpo_env_t *reply = hpo_client_request (client, &request);
    CHECK (reply && reply->body_case == HPO__ENVELOPE__BODY_OK);
    if (reply && reply->body_case == HPO__ENVELOPE__BODY_OK)
        CHECK_STR (reply->ok->message, "one");
    CHECK (reply && reply->seq == request.seq);
    CHECK_STR (hpo_client_error (client), "");
    hpo_wire_free (&reply);

    //  Silence: an error after the timeout, not a hang.
    hpo_client_set_timeout (client, 300);
    int64_t start = hpo_clock_mono_ms ();
    reply = hpo_client_request (client, &request);
    CHECK (!reply);
    CHECK (hpo_clock_mono_ms () - start < 1500);
    CHECK_CONTAINS (hpo_client_error (client), "no answer from tcp://");

    //  The next request goes out on a fresh socket and gets its answer.
    hpo_client_set_timeout (client, 2000);
    reply = hpo_client_request (client, &request);
    CHECK (reply && reply->body_case == HPO__ENVELOPE__BODY_ERROR);
    if (reply && reply->body_case == HPO__ENVELOPE__BODY_ERROR) {
        CHECK (reply->error->code == HPO__ERROR_CODE__ERR_NOT_FOUND);
        CHECK_STR (reply->error->message, "no study named x");
    }
    hpo_wire_free (&reply);

    pthread_join (thread, NULL);
    CHECK (fake.answered == 3);
    hpo_client_destroy (&client);
    zmq_close (fake.router);
}

//  The client can reach a coordinator at an IPv6 address: it sets
//  ZMQ_IPV6 for one, which ZeroMQ needs to connect there at all.
static void *
s_answer_one (void *router)
{
    zmq_pollitem_t item = {router, 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&item, 1, 5000) <= 0)
        return NULL;
    hpo_wire_peer_t peer;
    hpo_wire_status_t status;
    hpo_env_t *env = hpo_wire_recv (router, &peer, &status);
    if (env)
        s_reply (router, &peer, env->seq, "six");
    hpo_wire_free (&env);
    return NULL;
}

static void
test_ipv6 (void *ctx)
{
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    int linger = 0, ipv6 = 1;
    zmq_setsockopt (router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (router, ZMQ_IPV6, &ipv6, sizeof ipv6);
    if (zmq_bind (router, "tcp://[::1]:*") != 0) {
        printf ("no IPv6 loopback here; IPv6 round trip skipped\n");
        zmq_close (router);
        return;
    }
    char endpoint[256];
    size_t size = sizeof endpoint;
    zmq_getsockopt (router, ZMQ_LAST_ENDPOINT, endpoint, &size);
    pthread_t thread;
    pthread_create (&thread, NULL, s_answer_one, router);
    char *error = NULL;
    hpo_client_t *client = hpo_client_new (endpoint, 5000, &error);
    CHECK (client);
    if (client) {
        hpo_env_t request;
        hpo_wire_init (&request, 0);
        Hpo__StudyList list = HPO__STUDY_LIST__INIT;
        request.body_case = HPO__ENVELOPE__BODY_STUDY_LIST;
        request.study_list = &list;
        hpo_env_t *reply = hpo_client_request (client, &request);
        CHECK (reply && reply->body_case == HPO__ENVELOPE__BODY_OK);
        if (!reply)
            fprintf (stderr, "  %s\n", hpo_client_error (client));
        hpo_wire_free (&reply);
    }
    pthread_join (thread, NULL);
    hpo_client_destroy (&client);
    free (error);
    zmq_close (router);
}

int
main (void)
{
    void *ctx = zmq_ctx_new ();
    test_bad_endpoint ();
    test_no_listener (ctx);
    test_fake_coordinator (ctx);
    test_ipv6 (ctx);
    zmq_ctx_term (ctx);
    TEST_DONE ();
}
