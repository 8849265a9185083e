/*  sock.h: every ZeroMQ context and socket hpo opens, with the options of
    its role in one place. The coordinator binds a ROUTER; workers and
    the CLI connect a DEALER. Security options (CURVE keys, issue #13)
    belong in this module too, so that no caller sets them by hand.       */
#ifndef HPO_SOCK_H
#define HPO_SOCK_H

#include <stddef.h>

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
//  Closes a socket (linger 0: nothing waits at exit); NULL is ignored.
void hpo_sock_close (void **sock_p);

//  The endpoint a bound socket really listens on (with the port the
//  kernel chose for tcp://HOST:0), into buf. Returns buf, or "" if unknown.
const char *hpo_sock_endpoint (void *sock, char *buf, size_t size);

#endif
