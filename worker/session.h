/*  session.h: a worker's session with the coordinator (docs/protocol.md,
    worker side), and the trials it runs.

    One DEALER socket, one thread, one loop: hpo_session_step polls the
    socket, the signal descriptor and each running trial's report and
    status pipes, for at most the time to the next deadline (heartbeat,
    trial timeout, Hello retry, shutdown), then handles what is ready.

    Reliability: every Report and Finish is packed once, with its own seq,
    into an outbox, sent at once and resent unchanged on every heartbeat
    tick (and right after every Hello) until the coordinator Acks that
    seq. The coordinator deduplicates; the worker never gives up on a
    message, except Reports beyond HPO_SESSION_OUTBOX_MAX (oldest first,
    counted and logged) and messages of attempts the coordinator told us
    to kill. Heartbeats and Hellos are not kept: the next one replaces a
    lost one.

    Leases: a heartbeat names the attempts still running (including one
    being stopped for its timeout, whose Finish is still to come). An
    attempt whose Finish was sent is no longer named: the Finish travels
    ahead of every later heartbeat on the same connection. A Hello, which
    a restarted coordinator uses to give trials back, names both kinds, so
    an unacknowledged Finish can still land on its trial.

    Files, under the state directory:
        logs/STUDY/trial-N-attempt-A.log     stdout and stderr, appended
        trials/STUDY/trial-N-attempt-A/params.json   HPO_PARAMS_FILE
        checkpoints/STUDY/N/                 HPO_CHECKPOINT_DIR, the same
                                             for every attempt on this host
    Nothing is ever deleted by the worker.                                 */
#ifndef HPO_SESSION_H
#define HPO_SESSION_H

#include <stddef.h>
#include <stdint.h>

//  Reports kept unacknowledged at most; beyond it the oldest are dropped.
#define HPO_SESSION_OUTBOX_MAX 100000
//  How long a stopping worker keeps flushing its outbox.
#define HPO_SESSION_FLUSH_MS 1000

typedef struct {
    const char *endpoint;  //  the coordinator, "tcp://head:5555"
    const char *name;      //  this worker's name, as the CLI shows it
    uint32_t slots;        //  trials run at once, >= 1
    const char *state_dir; //  created if missing
    //  A signalfd for SIGINT, SIGTERM (stop) and SIGCHLD, or -1. The
    //  caller blocks those signals before any thread exists and owns the
    //  descriptor.
    int signal_fd;
} hpo_session_config_t;

typedef struct _hpo_session_t hpo_session_t;

//  Creates the state directory and the socket and sends Hello. Returns
//  NULL after logging why (bad endpoint, state directory not writable).
hpo_session_t *hpo_session_new (const hpo_session_config_t *config);

//  Closes the socket (linger 0) and frees everything. Attempts still
//  running are asked to stop (see hpo_runner_destroy). Idempotent.
void hpo_session_destroy (hpo_session_t **self_p);

//  Waits for something to happen, at most max_wait_ms (and never past the
//  next deadline), and handles it. Returns 0, or -1 if polling failed
//  for a reason other than a signal.
int hpo_session_step (hpo_session_t *self, int max_wait_ms);

//  Begins a graceful stop, as SIGINT or SIGTERM on the signal descriptor
//  do: running attempts are stopped without a Finish (their leases lapse
//  and the coordinator reassigns them), no new work is taken, and the
//  outbox is flushed for up to HPO_SESSION_FLUSH_MS.
void hpo_session_stop (hpo_session_t *self);

//  True once a stopping session has flushed (or given up flushing) and
//  may be destroyed.
int hpo_session_finished (const hpo_session_t *self);

//  Steps until finished. Returns 0, or -1 on a polling failure.
int hpo_session_run (hpo_session_t *self);

//  For tests and logs: attempts holding a slot, and messages awaiting Ack.
size_t hpo_session_busy (const hpo_session_t *self);
size_t hpo_session_unacked (const hpo_session_t *self);

#endif
