/*  sock.h: every ZeroMQ context and socket hpo opens, with the options of
    its role in one place. The coordinator binds a ROUTER; workers and
    the CLI connect a DEALER. Security options (CURVE keys, issue #13)
    belong in this module too, so that no caller sets them by hand.       */
#ifndef HPO_SOCK_H
#define HPO_SOCK_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"

typedef enum {
    HPO_SOCK_SERVER, //  the coordinator's ROUTER: binds
    HPO_SOCK_WORKER, //  a worker's DEALER: connects, reconnects for ever
    HPO_SOCK_CLIENT, //  the CLI's DEALER: connects, one request at a time
} hpo_sock_role_t;

//  A new ZeroMQ context, or NULL with *error set (caller frees).
void *hpo_sock_ctx_new (char **error);
//  Terminates a context made by hpo_sock_ctx_new; NULL is ignored.
void hpo_sock_ctx_destroy (void **ctx_p);

//  Opens a socket for role on ctx and binds it (server) or connects it
//  (worker, client) to endpoint, which the caller has already checked
//  (hpo_endpoint_check). Returns the socket, or NULL with *error set to a
//  sentence naming the endpoint (caller frees).
void *hpo_sock_open (void *ctx, hpo_sock_role_t role, const char *endpoint,
                     char **error);
//  The same with CURVE security when keys is not NULL: a server takes
//  only CURVE connections (with its secret key; the ZAP handler of
//  keys.h, started on ctx before, decides which), a worker or a client
//  connects with its own pair to keys->server_key, which must be set.
//  With watch not NULL (a worker or a client), *watch receives a PAIR
//  socket, set up before the connection starts, on which the socket's
//  failed handshakes arrive (hpo_sock_watch_read); NULL if it could not
//  be set up (nothing is then reported). Close it before the socket.
void *hpo_sock_open_keys (void *ctx, hpo_sock_role_t role, const char *endpoint,
                          const hpo_keys_t *keys, void **watch, char **error);
//  Closes a socket (linger 0: nothing waits at exit); NULL is ignored.
void hpo_sock_close (void **sock_p);

//  The endpoint a bound socket really listens on (with the port the
//  kernel chose for tcp://HOST:0), into buf. Returns buf, or "" if unknown.
const char *hpo_sock_endpoint (void *sock, char *buf, size_t size);

//  Reads one event from a socket monitor (zmq_socket_monitor's PAIR)
//  without blocking: its id (ZMQ_EVENT_*) and value (errno, status,
//  protocol error). Returns 0, or -1 when none is waiting.
int hpo_sock_event_recv (void *monitor, uint16_t *id, uint32_t *value);

//  Reads what a watch saw, without blocking. Returns 0 when nothing (more)
//  is waiting, else a sentence in buf ("the coordinator refused this
//  key") and HPO_SOCK_REFUSED when the coordinator refused the key or
//  disagrees on keys (ZeroMQ then gives the connection up for good: the
//  socket must be opened again to retry), or HPO_SOCK_BROKEN when the
//  handshake broke off (a wrong --server-key; ZeroMQ reconnects).
//  has_keys says whether the socket has CURVE keys: without them, a
//  handshake that broke off is a coordinator that wants keys (it closed
//  the connection on our NULL greeting before we read its CURVE one), so
//  it is REFUSED, as a mechanism mismatch is.
enum { HPO_SOCK_REFUSED = 1, HPO_SOCK_BROKEN = 2 };
int hpo_sock_watch_read (void *watch, int has_keys, char *buf, size_t size);

#endif
