#include "client.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "../common/clock.h"
#include "../common/endpoint.h"
#include "../common/mem.h"
#include "../common/sock.h"

struct _hpo_client_t {
    void *ctx;
    void *sock;  //  NULL after a reconnect failed
    void *watch; //  the socket's failed handshakes, or NULL
    hpo_keys_t keys;
    int has_keys;
    int refused; //  the last request failed on a refused handshake
    char *endpoint;
    int timeout_ms;
    uint64_t seq; //  seq of the last request sent
    char error[512];
};

//  Opens a DEALER on self->sock. Returns 0, or -1 with *error set (the
//  caller frees).
static int
s_connect (hpo_client_t *self, char **error)
{
    assert (!self->sock);
    self->sock = hpo_sock_open_keys (self->ctx, HPO_SOCK_CLIENT, self->endpoint,
                                     self->has_keys ? &self->keys : NULL,
                                     &self->watch, error);
    return self->sock ? 0 : -1;
}

static void
s_disconnect (hpo_client_t *self)
{
    hpo_sock_close (&self->watch);
    hpo_sock_close (&self->sock);
}

hpo_client_t *
hpo_client_new (const char *endpoint, int timeout_ms, char **error)
{
    return hpo_client_new_keys (endpoint, timeout_ms, NULL, error);
}

hpo_client_t *
hpo_client_new_keys (const char *endpoint, int timeout_ms,
                     const hpo_keys_t *keys, char **error)
{
    assert (endpoint);
    assert (timeout_ms > 0);
    assert (error);
    *error = NULL;
    //  ZeroMQ would take a bad port or an unknown host and retry in the
    //  background until the request timed out: say what is wrong now.
    char *why = NULL;
    if (hpo_endpoint_check (endpoint, HPO_ENDPOINT_RESOLVE, &why)) {
        *error = hpo_sprintf ("bad endpoint '%.200s': %s", endpoint, why);
        free (why);
        return NULL;
    }
    hpo_client_t *self = hpo_calloc (1, sizeof *self);
    self->endpoint = hpo_strdup (endpoint);
    self->timeout_ms = timeout_ms;
    if (keys) {
        self->keys = *keys;
        self->has_keys = 1;
    }
    self->ctx = hpo_sock_ctx_new (error);
    if (!self->ctx || s_connect (self, error) != 0) {
        hpo_client_destroy (&self);
        return NULL;
    }
    return self;
}

void
hpo_client_destroy (hpo_client_t **self_p)
{
    assert (self_p);
    hpo_client_t *self = *self_p;
    if (!self)
        return;
    s_disconnect (self);
    hpo_sock_ctx_destroy (&self->ctx);
    memset (&self->keys, 0, sizeof self->keys); //  no secret left behind
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

void
hpo_client_set_timeout (hpo_client_t *self, int timeout_ms)
{
    assert (timeout_ms > 0);
    self->timeout_ms = timeout_ms;
}

int
hpo_client_refused (const hpo_client_t *self)
{
    return self->refused;
}

const char *
hpo_client_error (const hpo_client_t *self)
{
    return self->error;
}

const char *
hpo_client_endpoint (const hpo_client_t *self)
{
    return self->endpoint;
}

//  Reads everything waiting on the socket. Returns the reply to seq if it
//  came, dropping the rest; *dropped remembers why the last bad message
//  was dropped, for the error message if no good one comes.
static hpo_env_t *
s_read_replies (hpo_client_t *self, hpo_wire_status_t *dropped)
{
    while (1) {
        hpo_wire_status_t status;
        hpo_env_t *env = hpo_wire_recv (self->sock, NULL, &status);
        if (!env) {
            if (status == HPO_WIRE_OK)
                return NULL; //  nothing more waiting
            *dropped = status;
            continue;
        }
        if (env->seq == self->seq)
            return env;
        hpo_wire_free (&env); //  a straggler from an earlier request
    }
}

hpo_env_t *
hpo_client_request (hpo_client_t *self, hpo_env_t *request)
{
    assert (self);
    assert (request);
    self->error[0] = '\0';
    self->refused = 0;
    char *why = NULL;
    if (!self->sock && s_connect (self, &why) != 0) {
        snprintf (self->error, sizeof self->error, "%s", why);
        free (why);
        return NULL;
    }
    request->seq = ++self->seq;
    if (hpo_wire_send (self->sock, NULL, 0, request) != 0) {
        snprintf (self->error, sizeof self->error, "cannot send to %s: %s",
                  self->endpoint, zmq_strerror (errno));
        s_disconnect (self);
        return NULL;
    }
    hpo_wire_status_t dropped = HPO_WIRE_OK;
    int64_t deadline = hpo_clock_mono_ms () + self->timeout_ms;
    while (1) {
        int64_t left = deadline - hpo_clock_mono_ms ();
        if (left <= 0)
            break;
        zmq_pollitem_t items[2] = {{self->sock, 0, ZMQ_POLLIN, 0},
                                   {self->watch, 0, ZMQ_POLLIN, 0}};
        int rc = zmq_poll (items, self->watch ? 2 : 1, (long)left);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            snprintf (self->error, sizeof self->error, "cannot wait for %s: %s",
                      self->endpoint, zmq_strerror (errno));
            s_disconnect (self);
            return NULL;
        }
        if (rc > 0 && (items[0].revents & ZMQ_POLLIN)) {
            hpo_env_t *reply = s_read_replies (self, &dropped);
            if (reply)
                return reply;
        }
        //  A refused key, keys on one side only, or (with keys) a
        //  handshake broken off: waiting longer would not help.
        char said[256];
        int what = rc > 0 && self->watch && (items[1].revents & ZMQ_POLLIN)
                       ? hpo_sock_watch_read (self->watch, self->has_keys,
                                              said, sizeof said)
                       : 0;
        if (what) {
            snprintf (self->error, sizeof self->error, "cannot talk to %s: %s",
                      self->endpoint, said);
            self->refused = 1;
            s_disconnect (self);
            return NULL;
        }
    }
    int n = snprintf (self->error, sizeof self->error,
                      "no answer from %s within %gs", self->endpoint,
                      self->timeout_ms / 1000.0);
    if (dropped != HPO_WIRE_OK && n > 0 && (size_t)n < sizeof self->error)
        snprintf (self->error + n, sizeof self->error - n,
                  " (a reply was dropped: %s)", hpo_wire_status_str (dropped));
    //  Start afresh, so this request's late reply never surfaces.
    s_disconnect (self);
    return NULL;
}
