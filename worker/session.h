/*  session.h: a worker's session with the coordinator (docs/protocol.md,
    worker side), and the trials it runs.

    One DEALER socket (common/sock), one thread, one loop: hpo_session_step
    polls the socket, the signal descriptor and each running attempt's
    report and status pipes, for at most the time to the next deadline
    (heartbeat, trial timeout, Hello retry, shutdown), then handles what
    is ready. The modules under it:
        outbox.h    the Reports, Finishes and Goodbyes not yet acknowledged
        attempt.h   one attempt: its files, environment, process, reports
        runner.h    the attempt's process tree, through a shim

    Reliability: every Report, Finish and Goodbye is packed once, with
    its own seq, into the outbox and kept, unchanged, until the coordinator
    Acks that seq. The coordinator deduplicates; the worker never gives up
    on a message, except those of attempts the coordinator told us to
    kill, and what is left when a stopping worker's flush time is over.
    Heartbeats and Hellos are not kept: the next one replaces a lost one.

    Order: outbox messages go on the wire strictly in seq order, so a
    Finish never overtakes its attempt's Reports. When the socket's queue
    is full (its high-water mark) sending stops, the loop polls the socket
    for room and goes on where it stopped (outbox.h). A new round resends
    everything unacknowledged, oldest first: right after every Hello (a
    restarted coordinator must see the Hello first), and on a heartbeat
    tick once the last round is complete and the oldest message has
    waited a heartbeat for its Ack.

    Backpressure: nothing is dropped to bound memory. Once the outbox
    holds outbox_max messages, no more report lines are taken: the report
    pipes are not read until the outbox drains to three quarters of that,
    so a program that reports faster than the coordinator acknowledges
    blocks in its write. An attempt whose program exited is finished only
    after every line it wrote has been read and queued, so its Finish
    follows all its Reports. (What a process that escaped the trial keeps
    writing to the pipe after the trial's processes are gone is ignored.)

    Stopping: hpo_session_stop (SIGINT, SIGTERM) queues a Goodbye naming
    the attempts it stops (no Finish comes for them; the coordinator
    re-runs them at once and assigns nothing more), stops them, and
    flushes the outbox, Finishes of attempts that ended before the stop
    included, for up to HPO_SESSION_FLUSH_MS. (An attempt whose program
    exited but whose reports still wait for room counts as stopped.)

    Fatal answers: ERR_REPLACED (a newer process took this worker's name;
    Hello carries a random incarnation and the process's start time so
    the coordinator can tell), or a Hello refused as invalid (a bad name)
    or of the wrong version, or denied (ERR_DENIED: its key is not a
    worker's, or the name is bound to another key). The session stops
    its trials, finishes without flushing, and hpo_session_failed says
    so: the process should exit 1. Retrying would only be refused again.

    Leases: a heartbeat names the attempts still running (including one
    being stopped for its timeout, whose Finish is still to come), and
    ended ones whose Finish waits in the outbox, not yet sent. An attempt
    whose Finish was sent is no longer named: the Finish travels ahead of
    every later heartbeat on the same connection. A Hello, which
    a restarted coordinator uses to give trials back, names both kinds, so
    an unacknowledged Finish can still land on its trial.

    Files, under the state directory: see attempt.h. Nothing is ever
    deleted by the worker.                                                 */
#ifndef HPO_SESSION_H
#define HPO_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "common/keys.h"
#include "gpus.h"

//  Messages kept unacknowledged before reading reports pauses (the
//  default of hpo_session_config_t.outbox_max).
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
    //  Backpressure bound, in messages; 0: HPO_SESSION_OUTBOX_MAX. Small
    //  values are for tests.
    size_t outbox_max;
    //  --checkpoint-root: HPO_CHECKPOINT_DIR is ROOT/STUDY/N, the same on
    //  every host that mounts it; NULL: under state_dir, this host's own.
    //  Created if missing.
    const char *checkpoint_root;
    //  CURVE keys (common/keys.h): this worker's pair and the
    //  coordinator's public key; NULL: none. A coordinator that refuses
    //  the key is logged, and the connection opened again every
    //  S_REOPEN_MS (a key may be added to its allow directory meanwhile).
    //  ERR_DENIED in answer to a Hello (this key is not a worker's, or
    //  the name is bound to another key) is final, like ERR_REPLACED.
    const hpo_keys_t *keys;
    //  --gpus: the GPUs handed out, one attempt each at a time (copied;
    //  n_gpus 0: none), and --cpus, the CPU capacity (0: slots). Both go
    //  to the coordinator in the Hello, which picks each attempt's GPUs;
    //  a Heartbeat lists those a process group still holds (gpus.h).
    const hpo_gpu_t *gpus;
    size_t n_gpus;
    uint32_t cpus;
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
//  do: a Goodbye names the running attempts, which are stopped without a
//  Finish (the coordinator re-runs them), no new work is taken, and the
//  outbox, Goodbye included, is flushed for up to HPO_SESSION_FLUSH_MS.
//  Does nothing if already stopping.
void hpo_session_stop (hpo_session_t *self);

//  True once a stopping session has flushed (or given up flushing) and
//  may be destroyed.
int hpo_session_finished (const hpo_session_t *self);

//  True if the coordinator refused this worker for good (ERR_REPLACED, or
//  a Hello refused as invalid): the session stops and finishes, and the
//  process should exit 1. The reason is logged.
int hpo_session_failed (const hpo_session_t *self);

//  Steps until finished. Returns 0, or -1 on a polling failure or when
//  the session failed (hpo_session_failed).
int hpo_session_run (hpo_session_t *self);

//  For tests and logs: attempts holding a slot, and messages awaiting Ack.
size_t hpo_session_busy (const hpo_session_t *self);
size_t hpo_session_unacked (const hpo_session_t *self);

#endif
