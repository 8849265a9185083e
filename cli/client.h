/*  client.h: the CLI's side of one request and its reply. A DEALER
    connected to the coordinator sends an envelope and waits, at most
    timeout_ms, for the reply that carries the same seq; anything else that
    arrives (a late reply to an earlier request, a message that does not
    decode) is dropped. A coordinator that does not answer is an error, never
    a hang.

    After a request times out the socket is closed and a fresh one opened
    ("lazy pirate"), so a reply that straggles in later can never be taken
    for the answer to the next request, and nothing queued for a dead peer
    is delivered to a restarted one. Sockets linger 0: exiting never waits
    for unsent messages.                                                   */
#ifndef HPO_CLIENT_H
#define HPO_CLIENT_H

#include "../common/keys.h"
#include "../common/wire.h"

typedef struct _hpo_client_t hpo_client_t;

//  Connects to endpoint ("tcp://host:port"). The endpoint is checked first
//  and its host looked up (common/endpoint.h), so a bad port, a host that
//  does not resolve or an unknown transport fail here at once; the
//  connection itself is made in the background, so a host that resolves
//  but does not answer shows up as a request that gets no answer. Returns
//  NULL with *error set to a malloc'd message the caller frees ("bad
//  endpoint 'tcp://x:99999': port 99999 is not 1-65535"). timeout_ms must
//  be > 0.
hpo_client_t *hpo_client_new (const char *endpoint, int timeout_ms,
                              char **error);
//  The same with CURVE keys (common/keys.h; NULL: none). A handshake the
//  coordinator refuses (this key is not allowed, keys on one side only,
//  a wrong server key) ends the request at once, keys or not:
//  hpo_client_error says so instead of a timeout.
hpo_client_t *hpo_client_new_keys (const char *endpoint, int timeout_ms,
                                   const hpo_keys_t *keys, char **error);
void hpo_client_destroy (hpo_client_t **self_p);

//  Sends request (the caller builds it with hpo_wire_init and sets the
//  body; the client sets its seq) and waits for the reply with that seq.
//  Returns the reply, which the caller frees with hpo_wire_free; an Error
//  reply is a reply like any other. Returns NULL when no reply came within
//  the timeout or the request could not be sent; hpo_client_error then
//  says why ("no answer from tcp://127.0.0.1:5555 within 5s").
hpo_env_t *hpo_client_request (hpo_client_t *self, hpo_env_t *request);

//  Changes how long later requests wait for their reply (> 0).
void hpo_client_set_timeout (hpo_client_t *self, int timeout_ms);

//  Whether the last hpo_client_request returned NULL because the
//  coordinator refused the handshake (a key matter, not an outage: asking
//  again will not help).
int hpo_client_refused (const hpo_client_t *self);

//  Why the last hpo_client_request returned NULL ("" if it did not).
const char *hpo_client_error (const hpo_client_t *self);
const char *hpo_client_endpoint (const hpo_client_t *self);

#endif
