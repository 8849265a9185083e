/*  sock.c: socket options by role.

    Why these values:
    - Linger 0 everywhere: at exit nothing waits on the network. A worker's
      unacknowledged messages are its outbox's to resend, and the
      coordinator recovers what never arrived by lease expiry.
    - ZMTP heartbeats notice a silently dead TCP peer in seconds rather
      than at TCP's timeout (about 15 minutes after a partition). Workers
      probe faster than the coordinator, so a worker reconnects (and its
      outbox resends) before the coordinator gives up on the connection.
    - The coordinator's queues are deep (a million messages): a burst of
      reports from many workers must queue, not drop. A worker's send
      queue is short on purpose: its outbox, not the queue, makes delivery
      reliable, and every heartbeat queued during an outage would be
      delivered, stale, when the coordinator comes back. No ZMQ_IMMEDIATE:
      what a worker queues while disconnected goes out once reconnected.
    - The coordinator refuses frames beyond the wire limit before they are
      read into memory.
    - IPv6 is enabled where the endpoint is a bracketed address.
    - CURVE (issue #13): the server sets its secret key and a ZAP domain,
      and the ZAP handler of keys.c on the same context admits keys; a
      worker or client sets its own pair and the server's public key.
      Options, then bind or connect: ZeroMQ reads them at the handshake.  */
#include "sock.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "endpoint.h"
#include "mem.h"
#include "wire.h"

//  ZMTP heartbeat interval and timeout, coordinator and worker.
#define S_SERVER_HB_IVL_MS 2000
#define S_SERVER_HB_TIMEOUT_MS 6000
#define S_WORKER_HB_IVL_MS 1000
#define S_WORKER_HB_TIMEOUT_MS 3000
#define S_WORKER_HB_TTL_MS 6000
#define S_WORKER_RECONNECT_MS 250
#define S_SERVER_HWM 1000000
#define S_WORKER_SNDHWM 1000

void *
hpo_sock_ctx_new (char **error)
{
    assert (error);
    void *ctx = zmq_ctx_new ();
    if (!ctx)
        *error = hpo_sprintf ("cannot start ZeroMQ: %s", zmq_strerror (errno));
    return ctx;
}

void
hpo_sock_ctx_destroy (void **ctx_p)
{
    assert (ctx_p);
    if (*ctx_p) {
        zmq_ctx_term (*ctx_p);
        *ctx_p = NULL;
    }
}

//  Sets one int option; on failure names it in *error.
static int
s_int (void *sock, int option, const char *name, int value, char **error)
{
    if (zmq_setsockopt (sock, option, &value, sizeof value) == 0)
        return 0;
    *error = hpo_sprintf ("cannot set %s: %s", name, zmq_strerror (errno));
    return -1;
}

#define S_INT(sock, opt, value, error) s_int (sock, opt, #opt, value, error)

static int
s_options (void *sock, hpo_sock_role_t role, const char *endpoint, char **error)
{
    if (S_INT (sock, ZMQ_LINGER, 0, error) ||
        S_INT (sock, ZMQ_IPV6, hpo_endpoint_ipv6 (endpoint), error))
        return -1;
    switch (role) {
    case HPO_SOCK_SERVER: {
        int64_t maxmsg = (int64_t)HPO_WIRE_MAX_BYTES + 4096;
        if (zmq_setsockopt (sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg)) {
            *error = hpo_sprintf ("cannot set ZMQ_MAXMSGSIZE: %s",
                                  zmq_strerror (errno));
            return -1;
        }
        //  ROUTER_MANDATORY off: a reply to a peer that left is dropped
        //  rather than failing the send (the peer recovers by resending).
        return S_INT (sock, ZMQ_SNDHWM, S_SERVER_HWM, error) ||
                       S_INT (sock, ZMQ_RCVHWM, S_SERVER_HWM, error) ||
                       S_INT (sock, ZMQ_HEARTBEAT_IVL, S_SERVER_HB_IVL_MS,
                              error) ||
                       S_INT (sock, ZMQ_HEARTBEAT_TIMEOUT,
                              S_SERVER_HB_TIMEOUT_MS, error) ||
                       S_INT (sock, ZMQ_ROUTER_MANDATORY, 0, error)
                   ? -1
                   : 0;
    }
    case HPO_SOCK_WORKER:
        return S_INT (sock, ZMQ_HEARTBEAT_IVL, S_WORKER_HB_IVL_MS, error) ||
                       S_INT (sock, ZMQ_HEARTBEAT_TIMEOUT,
                              S_WORKER_HB_TIMEOUT_MS, error) ||
                       S_INT (sock, ZMQ_HEARTBEAT_TTL, S_WORKER_HB_TTL_MS,
                              error) ||
                       S_INT (sock, ZMQ_RECONNECT_IVL, S_WORKER_RECONNECT_MS,
                              error) ||
                       S_INT (sock, ZMQ_RECONNECT_IVL_MAX,
                              HPO_WIRE_RECONNECT_MAX_MS, error) ||
                       S_INT (sock, ZMQ_SNDHWM, S_WORKER_SNDHWM, error)
                   ? -1
                   : 0;
    case HPO_SOCK_CLIENT:
        return 0;
    }
    assert (!"unknown socket role");
    return -1;
}

//  Sets one binary option (a key), on failure naming it in *error.
static int
s_bin (void *sock, int option, const char *name, const void *value, size_t size,
       char **error)
{
    if (zmq_setsockopt (sock, option, value, size) == 0)
        return 0;
    *error = hpo_sprintf ("cannot set %s: %s", name, zmq_strerror (errno));
    return -1;
}

static int
s_curve (void *sock, hpo_sock_role_t role, const hpo_keys_t *keys, char **error)
{
    if (role == HPO_SOCK_SERVER)
        return S_INT (sock, ZMQ_CURVE_SERVER, 1, error) ||
                       s_bin (sock, ZMQ_CURVE_SECRETKEY, "ZMQ_CURVE_SECRETKEY",
                              keys->secret_key, HPO_KEYS_BYTES, error) ||
                       s_bin (sock, ZMQ_ZAP_DOMAIN, "ZMQ_ZAP_DOMAIN", "hpo", 3,
                              error)
                   ? -1
                   : 0;
    assert (keys->has_server_key);
    return s_bin (sock, ZMQ_CURVE_SERVERKEY, "ZMQ_CURVE_SERVERKEY",
                  keys->server_key, HPO_KEYS_BYTES, error) ||
                   s_bin (sock, ZMQ_CURVE_PUBLICKEY, "ZMQ_CURVE_PUBLICKEY",
                          keys->public_key, HPO_KEYS_BYTES, error) ||
                   s_bin (sock, ZMQ_CURVE_SECRETKEY, "ZMQ_CURVE_SECRETKEY",
                          keys->secret_key, HPO_KEYS_BYTES, error)
               ? -1
               : 0;
}

void *
hpo_sock_open (void *ctx, hpo_sock_role_t role, const char *endpoint,
               char **error)
{
    return hpo_sock_open_keys (ctx, role, endpoint, NULL, NULL, error);
}

//  A PAIR that receives sock's failed handshakes, or NULL.
static void *
s_watch (void *ctx, void *sock)
{
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "inproc://hpo-watch-%p", sock);
    if (zmq_socket_monitor (sock, endpoint,
                            ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                                ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0)
        return NULL;
    void *watch = zmq_socket (ctx, ZMQ_PAIR);
    int linger = 0;
    if (watch)
        zmq_setsockopt (watch, ZMQ_LINGER, &linger, sizeof linger);
    if (watch && zmq_connect (watch, endpoint) != 0)
        hpo_sock_close (&watch);
    return watch;
}

void *
hpo_sock_open_keys (void *ctx, hpo_sock_role_t role, const char *endpoint,
                    const hpo_keys_t *keys, void **watch, char **error)
{
    assert (ctx && endpoint && error);
    assert (!watch || role != HPO_SOCK_SERVER);
    *error = NULL;
    void *sock =
        zmq_socket (ctx, role == HPO_SOCK_SERVER ? ZMQ_ROUTER : ZMQ_DEALER);
    if (!sock) {
        *error = hpo_sprintf ("cannot open a socket: %s", zmq_strerror (errno));
        return NULL;
    }
    char *why = NULL;
    if (s_options (sock, role, endpoint, &why) ||
        (keys && s_curve (sock, role, keys, &why))) {
        *error = hpo_sprintf ("%.200s: %s", endpoint, why);
        free (why);
        hpo_sock_close (&sock);
        return NULL;
    }
    //  Watched before it connects: a handshake can fail at once.
    if (watch)
        *watch = s_watch (ctx, sock);
    int rc = role == HPO_SOCK_SERVER ? zmq_bind (sock, endpoint)
                                     : zmq_connect (sock, endpoint);
    if (rc != 0) {
        *error =
            hpo_sprintf ("cannot %s %.200s: %s",
                         role == HPO_SOCK_SERVER ? "listen on" : "connect to",
                         endpoint, zmq_strerror (errno));
        if (watch)
            hpo_sock_close (watch);
        hpo_sock_close (&sock);
        return NULL;
    }
    return sock;
}

void
hpo_sock_close (void **sock_p)
{
    assert (sock_p);
    if (*sock_p) {
        zmq_close (*sock_p);
        *sock_p = NULL;
    }
}

const char *
hpo_sock_endpoint (void *sock, char *buf, size_t size)
{
    assert (sock && buf && size > 0);
    size_t len = size;
    if (zmq_getsockopt (sock, ZMQ_LAST_ENDPOINT, buf, &len) != 0)
        buf[0] = '\0';
    buf[size - 1] = '\0';
    return buf;
}

//  Says what a failed handshake means for the person who started us.
static void
s_watch_say (uint16_t event, uint32_t value, int has_keys, char *buf,
             size_t size)
{
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        snprintf (buf, size,
                  "the coordinator refused this key (ZAP status "
                  "%u): its allow directory does not hold it",
                  value);
    else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
             value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
        snprintf (buf, size,
                  "the coordinator and this process disagree on "
                  "CURVE keys: one uses them, the other not "
                  "(--curve-secret, --server-key)");
    else if (!has_keys)
        //  A coordinator with keys that reads our NULL greeting first
        //  closes the connection before ours has read its CURVE one, so
        //  which of the two events we see is a race: both mean this.
        snprintf (buf, size,
                  "the coordinator and this process disagree on "
                  "CURVE keys: it broke off the handshake, and this "
                  "process has none (--curve-secret, --server-key); or "
                  "the port is not an hpo coordinator's");
    else
        snprintf (buf, size,
                  "the coordinator broke off the handshake: a "
                  "wrong --server-key (not the coordinator's "
                  "server.key)?");
}

int
hpo_sock_event_recv (void *monitor, uint16_t *id, uint32_t *value)
{
    zmq_msg_t event;
    zmq_msg_init (&event);
    if (zmq_msg_recv (&event, monitor, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&event);
        return -1;
    }
    //  Two frames: 16-bit id and 32-bit value, then the endpoint.
    *id = 0;
    *value = 0;
    if (zmq_msg_size (&event) >= 6) {
        memcpy (id, zmq_msg_data (&event), sizeof *id);
        memcpy (value, (uint8_t *)zmq_msg_data (&event) + 2, sizeof *value);
    }
    int more = zmq_msg_more (&event);
    zmq_msg_close (&event);
    if (more) {
        zmq_msg_t address;
        zmq_msg_init (&address);
        zmq_msg_recv (&address, monitor, ZMQ_DONTWAIT);
        zmq_msg_close (&address);
    }
    return 0;
}

int
hpo_sock_watch_read (void *watch, int has_keys, char *buf, size_t size)
{
    assert (watch && buf && size > 0);
    int said = 0;
    uint16_t id;
    uint32_t value;
    while (hpo_sock_event_recv (watch, &id, &value) == 0)
        if (id & (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                  ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                  ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)) {
            s_watch_say (id, value, has_keys, buf, size);
            if (said != HPO_SOCK_REFUSED)
                said = id == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL && has_keys
                           ? HPO_SOCK_BROKEN
                           : HPO_SOCK_REFUSED;
        }
    return said;
}
