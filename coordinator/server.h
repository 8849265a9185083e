/*  server.h: the coordinator's loop. One ROUTER socket serves workers and
    CLI clients. Each turn: wait until a message arrives or the next lease
    deadline, expire what is due, handle a batch of messages (handlers
    are rows of a table keyed by the envelope's body), hand out trials,
    commit everything in one transaction, and only then send the replies:
    an acknowledgement always means the change is on disk.               */
#ifndef HPO_SERVER_H
#define HPO_SERVER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

typedef struct {
    const char *db_path;
    const char *listen; //  e.g. tcp://*:5555
    int64_t heartbeat_ms;
    int64_t lease_ms;
    hpo_sync_t sync;
    int max_batch; //  messages per transaction, at most
    //  CURVE (issue #13): the coordinator's secret key file and the
    //  allow directory (common/keys.h); both NULL: no keys, every
    //  connection is served and has every role.
    const char *curve_secret;
    const char *allow_dir;
} hpo_server_config_t;

typedef struct _hpo_server_t hpo_server_t;

//  Opens the store, loads the studies and binds. NULL with *error set (the
//  caller frees) if any of that fails.
hpo_server_t *hpo_server_new (const hpo_server_config_t *cfg, char **error);
void hpo_server_destroy (hpo_server_t **self_p);

//  The endpoint actually bound (a tcp://*:0 or :* port resolved).
const char *hpo_server_endpoint (hpo_server_t *self);

//  With keys on, every message is checked against the roles of the key
//  its connection was made with (the User-Id the ZAP handler gave it):
//  a worker key may send only the worker's messages, a client key the
//  study, trial and read requests, an admin key those and study delete
//  and admin backup. A refused message is answered ERR_DENIED naming the
//  role it needs, and logged (a line a second at most). A worker name is
//  bound to the first key that said Hello with it, until the coordinator
//  restarts; another key's Hello with that name is refused the same way.

//  Runs until *stop is set (by a signal handler); finishes the turn,
//  commits, and returns 0. Returns -1 if the store fails: memory and disk
//  may then disagree, so the process must exit and be restarted from what
//  is on disk.
int hpo_server_run (hpo_server_t *self, volatile sig_atomic_t *stop);

//  Test hook: handles one frame as if it had arrived from the peer rid, in
//  a loop turn of its own (begin, decode and handle, expire, dispatch,
//  commit, send the replies). Returns hpo_server_run's -1 when the store
//  fails, else 0. For fuzzers and tests only.
int hpo_server_feed (hpo_server_t *self, const uint8_t *rid, size_t rid_size,
                     const void *frame, size_t size);
//  The same, showing tap each encoded reply of the turn as it is sent
//  (after the commit, as every reply).
typedef void (hpo_server_tap_fn) (void *arg, const uint8_t *rid,
                                  size_t rid_size, const void *data,
                                  size_t size);
int hpo_server_feed_tap (hpo_server_t *self, const uint8_t *rid,
                         size_t rid_size, const void *frame, size_t size,
                         hpo_server_tap_fn *tap, void *arg);
//  The server's store: for the dashboard's snapshot and tap
//  (coordinator/feed.h), taken before hpo_server_run; and for a test that
//  makes a write fail (hpo_store_fail_after) or counts commits.
hpo_store_t *hpo_server_store (hpo_server_t *self);

//  The dashboard's live workers: fn is called from the loop, between
//  turns, about once a second, with the answer hpo workers gets (an
//  encoded Envelope holding a WorkerList, size bytes, borrowed). NULL:
//  never (the default).
typedef void (hpo_server_workers_fn) (void *arg, const void *envelope,
                                      size_t size);
void hpo_server_publish_workers (hpo_server_t *self, hpo_server_workers_fn *fn,
                                 void *arg);

#endif
