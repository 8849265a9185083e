/*  test_sock.c: sockets open by role, bound ones report their real
    endpoint, errors name the endpoint, and a client talks to a server.   */
#include <stdint.h>
#include <zmq.h>

#include "../../common/mem.h"
#include "../../common/sock.h"
#include "testutil.h"

static void
test_roundtrip (void)
{
    char *error = NULL;
    void *ctx = hpo_sock_ctx_new (&error);
    CHECK (ctx && !error);
    void *server = hpo_sock_open (ctx, HPO_SOCK_SERVER, "tcp://127.0.0.1:0",
                                  &error);
    CHECK (server && !error);
    char ep[256];
    hpo_sock_endpoint (server, ep, sizeof ep);
    //  The kernel chose a port: the endpoint names it, not ":0".
    CHECK_CONTAINS (ep, "tcp://127.0.0.1:");
    CHECK (strcmp (ep, "tcp://127.0.0.1:0") != 0);

    void *client = hpo_sock_open (ctx, HPO_SOCK_CLIENT, ep, &error);
    CHECK (client && !error);
    void *worker = hpo_sock_open (ctx, HPO_SOCK_WORKER, ep, &error);
    CHECK (worker && !error);
    int timeout = 5000;
    zmq_setsockopt (server, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    CHECK (zmq_send (client, "hi", 2, 0) == 2);
    CHECK (zmq_send (worker, "yo", 2, 0) == 2);
    //  A ROUTER hands over (routing id, payload) per message.
    for (int k = 0; k < 2; k++) {
        char rid[256], data[16];
        CHECK (zmq_recv (server, rid, sizeof rid, 0) > 0);
        int n = zmq_recv (server, data, sizeof data, 0);
        CHECK (n == 2);
    }
    //  Linger 0 on every role: close does not wait for unsent messages.
    int linger = -1;
    size_t size = sizeof linger;
    zmq_getsockopt (worker, ZMQ_LINGER, &linger, &size);
    CHECK (linger == 0);
    //  The coordinator refuses frames past the wire limit.
    int64_t maxmsg = 0;
    size = sizeof maxmsg;
    zmq_getsockopt (server, ZMQ_MAXMSGSIZE, &maxmsg, &size);
    CHECK (maxmsg > 0);
    hpo_sock_close (&client);
    hpo_sock_close (&worker);
    hpo_sock_close (&server);
    CHECK (!server && !client && !worker);
    hpo_sock_ctx_destroy (&ctx);
    CHECK (!ctx);
}

static void
test_errors (void)
{
    char *error = NULL;
    void *ctx = hpo_sock_ctx_new (&error);
    void *a = hpo_sock_open (ctx, HPO_SOCK_SERVER, "tcp://127.0.0.1:0", &error);
    char ep[256];
    hpo_sock_endpoint (a, ep, sizeof ep);
    //  The port is taken: the error says which endpoint and why.
    void *b = hpo_sock_open (ctx, HPO_SOCK_SERVER, ep, &error);
    CHECK (!b);
    CHECK_CONTAINS (error, "cannot listen on");
    CHECK_CONTAINS (error, ep);
    free (error);
    error = NULL;
    b = hpo_sock_open (ctx, HPO_SOCK_CLIENT, "bogus://x", &error);
    CHECK (!b);
    CHECK_CONTAINS (error, "cannot connect to bogus://x");
    free (error);
    hpo_sock_close (&a);
    hpo_sock_ctx_destroy (&ctx);
}

static void
test_ipv6 (void)
{
    //  A bracketed endpoint turns on IPv6; where the machine has no IPv6
    //  loopback the bind fails with a reason, never a crash.
    char *error = NULL;
    void *ctx = hpo_sock_ctx_new (&error);
    void *s = hpo_sock_open (ctx, HPO_SOCK_SERVER, "tcp://[::1]:0", &error);
    if (s) {
        int ipv6 = 0;
        size_t size = sizeof ipv6;
        zmq_getsockopt (s, ZMQ_IPV6, &ipv6, &size);
        CHECK (ipv6 == 1);
        hpo_sock_close (&s);
    } else {
        fprintf (stderr, "test_sock: no IPv6 loopback here (%s); "
                         "IPv6 bind not checked\n", error);
        CHECK (error != NULL);
        free (error);
    }
    hpo_sock_ctx_destroy (&ctx);
}

int
main (void)
{
    test_roundtrip ();
    test_errors ();
    test_ipv6 ();
    TEST_DONE ();
}
