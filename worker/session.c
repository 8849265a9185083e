/*  session.c: the worker's side of the protocol and its loop. What is
    unacknowledged lives in outbox.c, what one attempt does in attempt.c;
    this file says Hello, heartbeats, handles what the coordinator says,
    and polls.                                                            */
#include "session.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "attempt.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/sock.h"
#include "common/wire.h"
#include "gpus.h"
#include "outbox.h"

//  Until the first Welcome we do not know the heartbeat interval.
#define S_DEFAULT_HEARTBEAT_MS 1000
//  No Welcome this long after a Hello: the Hello was lost (the coordinator
//  died with it unread), so say it again, backing off to one a minute:
//  while the coordinator is unreachable each Hello waits in the queue, and
//  all of them are delivered when it comes back.
#define S_HELLO_RETRY_MS 5000
#define S_HELLO_RETRY_MAX_MS 60000
//  At most one Hello a second, however many "unknown session" errors
//  arrive (one comes back for every message queued while we were away).
#define S_HELLO_MIN_MS HPO_WIRE_HELLO_MIN_MS
//  Fairness between trials and the socket within one step.
#define S_READ_PER_STEP (256 * 1024)
#define S_RECV_PER_STEP 1000
//  A warning the coordinator provokes (garbage, errors, assignments
//  beyond our slots) is logged at most this often.
#define S_WARN_EVERY_MS 10000
//  After the coordinator refused our key, ZeroMQ gives the connection up:
//  it is opened again this much later.
#define S_REOPEN_MS 5000

struct _hpo_session_t {
    void *ctx;
    void *dealer;
    void *watch;       //  the dealer's failed handshakes (sock.h), or NULL
    hpo_keys_t *keys;  //  NULL: no CURVE
    int64_t reopen_at; //  open the socket again then (0: no need)
    char *endpoint;
    char *name;
    char *host;
    char *state_dir;
    char *checkpoint_root; //  absolute; NULL: STATE/checkpoints
    uint32_t slots;
    hpo_gpu_set_t *gpus; //  --gpus, and which slot holds each
    uint32_t cpus;       //  --cpus
    int signal_fd;
    hpo_attempt_t **trials; //  [slots]; NULL: free slot
    hpo_outbox_t *outbox;   //  Reports, Finishes, Goodbyes until Acked
    //  What one step polls: the socket, the signals, two pipes a slot.
    zmq_pollitem_t *items;
    uint32_t *item_slot; //  [k]: the slot of items [k]
    int *ready;          //  [slots]: a pipe of this slot is readable
    uint64_t seq;
    uint32_t heartbeat_ms;
    int welcomed;           //  a Welcome came after our latest Hello
    int64_t hello_ms;       //  when the latest Hello went out
    int hello_wanted;       //  the coordinator does not know us
    int64_t hello_retry_ms; //  current wait for a Welcome
    int64_t next_heartbeat;
    int stopping;
    int64_t stop_deadline;
    int finished;
    int failed;  //  a fatal answer from the coordinator: exit 1
    int abandon; //  failed: do not wait for the outbox to flush
    //  Recent Hellos' seqs: an error answering one is about the Hello.
    uint64_t hello_seqs[8];
    uint64_t incarnation;
    uint64_t started_us;
    //  Warnings the coordinator can provoke at will, rate limited.
    hpo_log_limit_t bad_messages, errors, overbooked, handshakes, gpu_refused;
};

static void s_stop (hpo_session_t *self, const char *reason);
static void s_fail (hpo_session_t *self);

//  ---- sending ---------------------------------------------------------------

//  Sends a Heartbeat or Hello and releases it: they are not kept, the
//  next one replaces a lost one.
static void
s_send (hpo_session_t *self, hpo_wire_msg_t *msg)
{
    if (hpo_wire_send (self->dealer, NULL, 0, &msg->env) < 0)
        //  Full queue (high-water mark): heartbeats and hellos are
        //  replaced by the next; outbox entries are resent.
        hpo_log_debug ("send: %s", zmq_strerror (errno));
    hpo_wire_msg_done (msg);
}

//  The outbox's way out (hpo_outbox_send_fn).
static int
s_send_packed (void *arg, const uint8_t *data, size_t size, uint64_t seq)
{
    hpo_session_t *self = arg;
    if (zmq_send (self->dealer, data, size, ZMQ_DONTWAIT) < 0) {
        if (errno != EAGAIN)
            hpo_log_debug ("send seq %" PRIu64 ": %s", seq,
                           zmq_strerror (errno));
        return -1;
    }
    return 0;
}

//  Packs msg (seq set here) into the outbox, which sends it in its turn,
//  and releases it.
static void
s_queue (hpo_session_t *self, hpo_wire_msg_t *msg, hpo_outbox_kind_t kind,
         uint64_t trial_id, uint32_t attempt, int64_t now)
{
    msg->env.seq = ++self->seq;
    size_t size;
    uint8_t *data = hpo_wire_encode (&msg->env, &size);
    hpo_wire_msg_done (msg);
    hpo_outbox_add (self->outbox, self->seq, kind, trial_id, attempt, &data,
                    size, now);
}

//  ---- leases ----------------------------------------------------------------

//  Adds to a Hello, Heartbeat or Goodbye the attempts that hold a lease
//  and, if finishes, those whose Finish waits in the outbox (unsent: only
//  those never sent).
static void
s_add_leases (const hpo_session_t *self, hpo_wire_msg_t *msg, int finishes,
              int unsent)
{
    for (uint32_t k = 0; k < self->slots; k++) {
        const hpo_attempt_t *t = self->trials[k];
        if (t && hpo_attempt_holds_lease (t))
            hpo_wire_lease_add (msg, hpo_attempt_trial_id (t),
                                hpo_attempt_number (t));
    }
    size_t n =
        finishes ? hpo_outbox_finishes (self->outbox, unsent, NULL, 0) : 0;
    if (n == 0)
        return;
    hpo_outbox_attempt_t *fin = hpo_calloc (n, sizeof *fin);
    hpo_outbox_finishes (self->outbox, unsent, fin, n);
    for (size_t k = 0; k < n; k++)
        hpo_wire_lease_add (msg, fin[k].trial_id, fin[k].attempt);
    free (fin);
}

//  ---- session messages ------------------------------------------------------

size_t
hpo_session_busy (const hpo_session_t *self)
{
    size_t n = 0;
    for (uint32_t k = 0; k < self->slots; k++)
        if (self->trials[k])
            n++;
    return n;
}

size_t
hpo_session_unacked (const hpo_session_t *self)
{
    return hpo_outbox_live (self->outbox);
}

//  Adds to a Hello, Heartbeat or Finish the GPUs a process group still
//  holds (borrowed from busy: room for every GPU, kept until sent).
static void
s_add_busy (const hpo_session_t *self, hpo_wire_msg_t *msg, uint32_t *busy)
{
    size_t n = hpo_gpu_set_busy (self->gpus, UINT32_MAX, busy);
    hpo_wire_busy_gpus (msg, busy, n);
}

static void
s_send_hello (hpo_session_t *self, int64_t now)
{
    hpo_wire_msg_t msg;
    hpo_wire_hello (&msg, ++self->seq, self->name, self->host, self->slots,
                    (uint32_t)getpid (), self->incarnation, self->started_us);
    uint32_t *busy =
        hpo_calloc (hpo_gpu_set_size (self->gpus) + 1, sizeof *busy);
    hpo_wire_hello_resources (&msg, hpo_gpu_set_wire (self->gpus),
                              hpo_gpu_set_size (self->gpus), self->cpus);
    s_add_busy (self, &msg, busy);
    //  Running attempts and finished ones whose Finish is unacknowledged.
    s_add_leases (self, &msg, 1, 0);
    hpo_log_debug ("hello to %s (%zu leases)", self->endpoint,
                   msg.body.hello.n_leases);
    size_t ring = sizeof self->hello_seqs / sizeof self->hello_seqs[0];
    memmove (self->hello_seqs + 1, self->hello_seqs,
             (ring - 1) * sizeof self->hello_seqs[0]);
    self->hello_seqs[0] = self->seq;
    s_send (self, &msg);
    free (busy);
    self->hello_ms = now;
    self->hello_wanted = 0;
    self->welcomed = 0;
    //  A restarted coordinator has not seen what we kept: it gets it right
    //  after the Hello, on the same connection, so in order.
    hpo_outbox_resend (self->outbox, now);
}

static void
s_send_heartbeat (hpo_session_t *self, int64_t now)
{
    //  A stopping worker takes no more work. A slot whose attempt is
    //  still dying is not free: its GPU is still in use.
    uint32_t free_slots =
        self->stopping ? 0 : self->slots - (uint32_t)hpo_session_busy (self);
    hpo_wire_msg_t msg;
    hpo_wire_heartbeat (&msg, ++self->seq, free_slots);
    //  Running attempts, and ended ones whose Finish still waits in the
    //  outbox, never sent: the heartbeat would overtake it.
    s_add_leases (self, &msg, 1, 1);
    uint32_t *busy =
        hpo_calloc (hpo_gpu_set_size (self->gpus) + 1, sizeof *busy);
    s_add_busy (self, &msg, busy);
    s_send (self, &msg);
    free (busy);
    self->next_heartbeat = now + self->heartbeat_ms;
}

//  ---- trials ----------------------------------------------------------------

static hpo_attempt_t *
s_trial_find (hpo_session_t *self, uint64_t trial_id, uint32_t attempt)
{
    for (uint32_t k = 0; k < self->slots; k++) {
        hpo_attempt_t *t = self->trials[k];
        if (t && hpo_attempt_trial_id (t) == trial_id &&
            hpo_attempt_number (t) == attempt)
            return t;
    }
    return NULL;
}

//  The attempt sink (hpo_attempt_sink_t): Reports go to the outbox.
static int
s_sink_full (void *arg)
{
    hpo_session_t *self = arg;
    return hpo_outbox_full (self->outbox);
}

static void
s_sink_report (void *arg, const hpo_attempt_t *t, const hpo_report_t *r,
               int64_t now)
{
    hpo_session_t *self = arg;
    uint64_t trial_id = hpo_attempt_trial_id (t);
    uint32_t attempt = hpo_attempt_number (t);
    hpo_wire_msg_t msg;
    hpo_wire_report (&msg, 0, trial_id, attempt, r->has_step, r->step);
    for (size_t k = 0; k < r->n_metrics; k++)
        hpo_wire_metric_add (&msg, r->metrics[k].name, r->metrics[k].value);
    s_queue (self, &msg, HPO_OUTBOX_REPORT, trial_id, attempt, now);
}

//  Queues the Finish of an attempt that ended as result says; asks: the
//  slot is about to be free, so ask for the next trial in the same
//  message.
static void
s_queue_finish (hpo_session_t *self, uint64_t trial_id, uint32_t attempt,
                const hpo_attempt_result_t *result, int asks, int64_t now)
{
    hpo_wire_finish_t f = {
        .trial_id = trial_id,
        .attempt = attempt,
        .outcome = result->failed ? HPO__OUTCOME__OUTCOME_FAILED
                                  : HPO__OUTCOME__OUTCOME_COMPLETE,
        .has_value = !result->failed,
        .value = result->failed ? 0 : result->value,
        .reason = result->failed ? result->reason : NULL,
        .log_tail = result->failed ? result->log_tail : NULL,
        .exit_status = result->exit_status,
        .runtime_s = result->runtime_s,
        .asks = asks,
        .free = asks ? self->slots - (uint32_t)hpo_session_busy (self) + 1 : 0,
        .permanent = result->failed && result->permanent,
    };
    hpo_wire_msg_t msg;
    hpo_wire_finish (&msg, 0, &f);
    //  With asks, the GPUs still held, so the coordinator can hand out
    //  the ones this attempt (whose processes are gone) gave back.
    uint32_t *busy =
        hpo_calloc (hpo_gpu_set_size (self->gpus) + 1, sizeof *busy);
    if (asks)
        s_add_busy (self, &msg, busy);
    s_queue (self, &msg, HPO_OUTBOX_FINISH, trial_id, attempt, now);
    free (busy);
}

//  The attempt's processes are gone and all it reported is queued: tell
//  the coordinator (unless it already decided) and free the slot.
static void
s_trial_end (hpo_session_t *self, uint32_t slot, int64_t now)
{
    hpo_attempt_t *t = self->trials[slot];
    int asks = self->welcomed && !self->stopping;
    //  Its process group is gone: its GPUs are free from here on.
    hpo_gpu_set_release (self->gpus, slot);
    hpo_attempt_result_t result;
    if (hpo_attempt_end (t, now, &result)) {
        s_queue_finish (self, hpo_attempt_trial_id (t), hpo_attempt_number (t),
                        &result, asks, now);
        hpo_attempt_result_clear (&result);
    }
    hpo_attempt_destroy (&self->trials[slot]);
    //  The slot is free again: ask for the next trial now rather than at
    //  the next tick (the heartbeat also goes for the leases).
    if (asks)
        s_send_heartbeat (self, now);
}

//  Stops an attempt the coordinator no longer wants; no Finish follows.
static void
s_trial_kill (hpo_session_t *self, uint64_t trial_id, uint32_t attempt,
              const char *why)
{
    hpo_outbox_drop_attempt (self->outbox, trial_id, attempt);
    hpo_attempt_t *t = s_trial_find (self, trial_id, attempt);
    //  The message names no study, and the attempt is not here to say it.
    if (!t || hpo_attempt_kill (t, why) < 0)
        hpo_log_debug ("%s: no such attempt running here (trial id %" PRIu64
                       ", attempt %" PRIu32 ")",
                       why, trial_id, attempt);
}

//  Starts an Assign's attempt in slot, or says at once that it failed.
static void
s_trial_start (hpo_session_t *self, uint32_t slot, const Hpo__Assign *a,
               int64_t now)
{
    hpo_attempt_host_t host = {self->state_dir, self->name,
                               self->checkpoint_root,
                               hpo_gpu_set_size (self->gpus) > 0};
    hpo_attempt_result_t result;
    self->trials[slot] = hpo_attempt_start (a, &host, now, &result);
    if (self->trials[slot]) {
        hpo_gpu_set_hold (self->gpus, slot, a->gpus, a->n_gpus);
        return;
    }
    s_queue_finish (self, a->trial_id, a->attempt, &result, 0, now);
    hpo_attempt_result_clear (&result);
}

//  ---- message handlers ------------------------------------------------------

static void
s_on_welcome (hpo_session_t *self, const hpo_env_t *env, int64_t now)
{
    const Hpo__Welcome *w = env->welcome;
    uint32_t hb = w->heartbeat_ms ? w->heartbeat_ms : S_DEFAULT_HEARTBEAT_MS;
    //  Never trust a number from the wire to be sane.
    if (hb < 10)
        hb = 10;
    if (hb > 60000)
        hb = 60000;
    //  The lease itself is the coordinator's to time: only logged here.
    if (!self->welcomed)
        hpo_log_info ("welcomed by %s: heartbeat %ums, lease %ums, %zu "
                      "refused",
                      self->endpoint, hb, w->lease_ms, w->n_refused);
    self->heartbeat_ms = hb;
    self->welcomed = 1;
    self->hello_retry_ms = S_HELLO_RETRY_MS;
    for (size_t k = 0; k < w->n_refused; k++)
        if (w->refused[k])
            s_trial_kill (self, w->refused[k]->trial_id, w->refused[k]->attempt,
                          "refused by the coordinator");
    //  Free slots ask for work at once.
    if (!self->stopping)
        s_send_heartbeat (self, now);
}

static uint32_t
s_free_slot (const hpo_session_t *self)
{
    uint32_t slot = 0;
    while (slot < self->slots && self->trials[slot])
        slot++;
    return slot;
}

//  Whether an Assign names a GPU that is not ours or that a process group
//  still holds. The coordinator hands out neither; if it ever does (an
//  old heartbeat crossed a kill), two trials must still not share a GPU:
//  the Assign is ignored and its lease runs out (a lost attempt).
static int
s_gpus_refused (hpo_session_t *self, const Hpo__Assign *a, const char *tag,
                int64_t now)
{
    char *why = hpo_gpu_set_check (self->gpus, a->gpus, a->n_gpus);
    if (!why)
        return 0;
    if (hpo_log_limit (&self->gpu_refused, now, S_WARN_EVERY_MS))
        hpo_log_warnx ("%s: assigned but %s: ignored (%" PRIu64 " so far)", tag,
                       why, self->gpu_refused.count);
    free (why);
    return 1;
}

static void
s_on_assign (hpo_session_t *self, const hpo_env_t *env, int64_t now)
{
    const Hpo__Assign *a = env->assign;
    char *tag = hpo_attempt_tag_of (a);
    uint32_t slot = s_free_slot (self);
    if (self->stopping)
        hpo_log_info ("%s: assigned while stopping: ignored", tag);
    else if (s_trial_find (self, a->trial_id, a->attempt))
        hpo_log_debug ("%s: already running", tag);
    else if (slot == self->slots) {
        //  The coordinator counts its own assignments, so this should not
        //  happen; if it does, the lease just expires unrenewed.
        if (hpo_log_limit (&self->overbooked, now, S_WARN_EVERY_MS))
            hpo_log_warnx ("%s: assigned but all %u slots are busy: ignored "
                           "(%" PRIu64 " so far)",
                           tag, self->slots, self->overbooked.count);
    } else if (!s_gpus_refused (self, a, tag, now))
        s_trial_start (self, slot, a, now);
    free (tag);
}

static void
s_ack (hpo_session_t *self, uint64_t seq)
{
    if (hpo_outbox_ack (self->outbox, seq) < 0)
        //  A second Ack for a resent message, or one for a heartbeat.
        hpo_log_debug ("ack for seq %" PRIu64 ": nothing waits for it", seq);
}

static void
s_on_ack (hpo_session_t *self, const hpo_env_t *env, int64_t now)
{
    if (env->ack->ack_seq)
        s_ack (self, env->ack->ack_seq);
}

static void
s_on_kill (hpo_session_t *self, const hpo_env_t *env, int64_t now)
{
    const Hpo__Kill *k = env->kill;
    char *why =
        hpo_sprintf ("killed by the coordinator (%.200s)",
                     k->reason && *k->reason ? k->reason : "no reason given");
    s_trial_kill (self, k->trial_id, k->attempt, why);
    free (why);
}

//  Whether a reply with this seq answers one of our recent Hellos.
static int
s_answers_hello (const hpo_session_t *self, uint64_t seq)
{
    size_t ring = sizeof self->hello_seqs / sizeof self->hello_seqs[0];
    for (size_t k = 0; k < ring; k++)
        if (seq && self->hello_seqs[k] == seq)
            return 1;
    return 0;
}

static void
s_on_error (hpo_session_t *self, const hpo_env_t *env, int64_t now)
{
    const Hpo__Error *e = env->error;
    const char *message = e->message ? e->message : "";
    if (e->code == HPO__ERROR_CODE__ERR_REPLACED) {
        hpo_log_error ("another worker process named '%s' (newer) took "
                       "over this name; exiting (coordinator: %.200s)",
                       self->name, message);
        s_fail (self);
        return;
    }
    //  Saying Hello again would only be refused again.
    if (e->code == HPO__ERROR_CODE__ERR_BAD_VERSION ||
        ((e->code == HPO__ERROR_CODE__ERR_INVALID ||
          e->code == HPO__ERROR_CODE__ERR_DENIED ||
          e->code == HPO__ERROR_CODE__ERR_BAD_MESSAGE) &&
         s_answers_hello (self, env->seq))) {
        hpo_log_error ("coordinator %s refused this worker: %.200s; "
                       "exiting",
                       self->endpoint, message);
        s_fail (self);
        return;
    }
    if (e->code == HPO__ERROR_CODE__ERR_UNKNOWN_SESSION) {
        //  Before the Welcome to our latest Hello, this answers something
        //  sent before that Hello (the coordinator handles a connection's
        //  messages in order): the Hello already fixes it.
        if (!self->welcomed)
            return;
        if (!self->hello_wanted)
            hpo_log_info ("coordinator does not know this session "
                          "(restarted?): saying hello again");
        self->hello_wanted = 1;
        return;
    }
    if (hpo_log_limit (&self->errors, now, S_WARN_EVERY_MS))
        hpo_log_warnx ("coordinator error %d: %.200s (%" PRIu64 " so far)",
                       (int)e->code, message, self->errors.count);
}

typedef void (s_handler_fn) (hpo_session_t *self, const hpo_env_t *env,
                             int64_t now);

//  One row a message: a new message kind is one row and one function.
static const struct {
    Hpo__Envelope__BodyCase body;
    s_handler_fn *handler;
} s_handlers[] = {
    {HPO__ENVELOPE__BODY_WELCOME, s_on_welcome},
    {HPO__ENVELOPE__BODY_ASSIGN, s_on_assign},
    {HPO__ENVELOPE__BODY_ACK, s_on_ack},
    {HPO__ENVELOPE__BODY_KILL, s_on_kill},
    {HPO__ENVELOPE__BODY_ERROR, s_on_error},
};

static void
s_dispatch (hpo_session_t *self, const hpo_env_t *env, int64_t now)
{
    //  Any message may carry acknowledgements.
    for (size_t a = 0; a < env->n_acks; a++)
        s_ack (self, env->acks[a]);
    size_t row = 0, rows = sizeof s_handlers / sizeof s_handlers[0];
    while (row < rows && s_handlers[row].body != env->body_case)
        row++;
    if (row < rows)
        s_handlers[row].handler (self, env, now);
    else
        hpo_log_debug ("unexpected message (body %d): ignored",
                       (int)env->body_case);
}

static void
s_recv_all (hpo_session_t *self, int64_t now)
{
    for (int k = 0; k < S_RECV_PER_STEP; k++) {
        hpo_wire_status_t status;
        hpo_env_t *env = hpo_wire_recv (self->dealer, NULL, &status);
        if (env) {
            s_dispatch (self, env, now);
            hpo_wire_free (&env);
        } else if (status == HPO_WIRE_OK)
            return; //  nothing more waiting
        else if (hpo_log_limit (&self->bad_messages, now, S_WARN_EVERY_MS))
            hpo_log_warnx (
                "bad message from coordinator (%s); %" PRIu64 " so far",
                hpo_wire_status_str (status), self->bad_messages.count);
    }
}

//  ---- the loop --------------------------------------------------------------

static void
s_on_signals (hpo_session_t *self, int *sigchld)
{
    struct signalfd_siginfo info;
    for (;;) {
        ssize_t n = read (self->signal_fd, &info, sizeof info);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof info)
            return; //  EAGAIN: all read
        if (info.ssi_signo == SIGCHLD)
            *sigchld = 1;
        else if (info.ssi_signo == SIGINT || info.ssi_signo == SIGTERM) {
            const char *name = sigabbrev_np ((int)info.ssi_signo);
            if (self->stopping) {
                hpo_log_info ("SIG%s again: exiting now", name);
                self->finished = 1;
            } else {
                hpo_log_info ("SIG%s: stopping trials and exiting", name);
                char *reason = hpo_sprintf ("worker stopping (SIG%s)", name);
                s_stop (self, reason);
                free (reason);
            }
        }
    }
}

//  How long the poll may wait: until the next deadline, at most
//  max_wait_ms, and not at all while lines wait in a buffer (not in a
//  pipe) that can be handled now.
static long
s_timeout (const hpo_session_t *self, int64_t now, int max_wait_ms, int paused)
{
    int64_t next = now + max_wait_ms;
#define S_EARLIER(t)                                                           \
    do {                                                                       \
        if ((t) < next)                                                        \
            next = (t);                                                        \
    } while (0)
    S_EARLIER (self->next_heartbeat);
    if (!self->stopping && self->hello_wanted)
        S_EARLIER (self->hello_ms + S_HELLO_MIN_MS);
    if (!self->stopping && !self->welcomed)
        S_EARLIER (self->hello_ms + self->hello_retry_ms);
    for (uint32_t k = 0; k < self->slots; k++) {
        const hpo_attempt_t *t = self->trials[k];
        if (t && hpo_attempt_deadline (t))
            S_EARLIER (hpo_attempt_deadline (t));
        if (t && hpo_attempt_waits (t, paused))
            next = now;
    }
    if (self->stopping)
        S_EARLIER (self->stop_deadline);
    if (self->reopen_at)
        S_EARLIER (self->reopen_at);
#undef S_EARLIER
    return next > now ? (long)(next - now) : 0;
}

static int s_connect (hpo_session_t *self);

//  What the handshake watch saw: a refused key is logged, and the
//  socket, which ZeroMQ gave up, is opened again S_REOPEN_MS later; a
//  handshake that broke off (a wrong server key) is logged, and ZeroMQ
//  tries again by itself.
static void
s_on_watch (hpo_session_t *self, int64_t now)
{
    char said[256];
    int what =
        hpo_sock_watch_read (self->watch, self->keys != NULL, said, sizeof said);
    if (!what)
        return;
    if (hpo_log_limit (&self->handshakes, now, S_WARN_EVERY_MS))
        hpo_log_error ("cannot connect to %s: %s (%" PRIu64 " times so far)%s",
                       self->endpoint, said, self->handshakes.count,
                       what == HPO_SOCK_REFUSED ? "; trying again every 5 s"
                                                : "");
    if (what == HPO_SOCK_REFUSED && !self->reopen_at)
        self->reopen_at = now + S_REOPEN_MS;
}

//  Opens the socket again after a refused handshake, and says Hello on
//  the new connection.
static void
s_reopen (hpo_session_t *self, int64_t now)
{
    self->reopen_at = 0;
    hpo_sock_close (&self->watch);
    hpo_sock_close (&self->dealer);
    if (s_connect (self) < 0) {
        self->reopen_at = now + S_REOPEN_MS;
        return;
    }
    s_send_hello (self, now);
}

static void
s_timers (hpo_session_t *self, int64_t now)
{
    if (self->reopen_at && now >= self->reopen_at && !self->stopping)
        s_reopen (self, now);
    for (uint32_t k = 0; k < self->slots; k++)
        if (self->trials[k])
            hpo_attempt_check_timeout (self->trials[k], now);
    if (!self->stopping) {
        if (self->hello_wanted && now >= self->hello_ms + S_HELLO_MIN_MS)
            s_send_hello (self, now);
        else if (!self->welcomed &&
                 now >= self->hello_ms + self->hello_retry_ms) {
            hpo_log_info ("no welcome from %s in %" PRId64
                          "s: saying hello again",
                          self->endpoint, self->hello_retry_ms / 1000);
            s_send_hello (self, now);
            self->hello_retry_ms *= 2;
            if (self->hello_retry_ms > S_HELLO_RETRY_MAX_MS)
                self->hello_retry_ms = S_HELLO_RETRY_MAX_MS;
        }
    }
    if (now >= self->next_heartbeat) {
        if (self->welcomed && !self->stopping)
            s_send_heartbeat (self, now);
        else
            self->next_heartbeat = now + self->heartbeat_ms;
        //  The oldest unacknowledged message has waited a heartbeat.
        hpo_outbox_resend_due (self->outbox, now, self->heartbeat_ms);
    }
}

//  Fills self->items: the socket (writable matters while a backlog waits
//  for room), the signals, and each attempt's pipes, its report pipe not
//  while the outbox is full, so programs wait on their writes. Returns
//  how many; *first_trial is the first item of an attempt.
static size_t
s_poll_items (hpo_session_t *self, int paused, size_t *first_trial)
{
    size_t n = 0;
    short dealer_events = ZMQ_POLLIN;
    if (hpo_outbox_backlog (self->outbox))
        dealer_events |= ZMQ_POLLOUT;
    self->items[n++] = (zmq_pollitem_t){self->dealer, 0, dealer_events, 0};
    if (self->signal_fd >= 0)
        self->items[n++] =
            (zmq_pollitem_t){NULL, self->signal_fd, ZMQ_POLLIN, 0};
    if (self->watch)
        self->items[n++] = (zmq_pollitem_t){self->watch, 0, ZMQ_POLLIN, 0};
    *first_trial = n;
    for (uint32_t k = 0; k < self->slots; k++) {
        int fds[2];
        size_t m = self->trials[k]
                       ? hpo_attempt_fds (self->trials[k], paused, fds)
                       : 0;
        for (size_t j = 0; j < m; j++) {
            self->item_slot[n] = k;
            self->items[n++] = (zmq_pollitem_t){NULL, fds[j], ZMQ_POLLIN, 0};
        }
    }
    return n;
}

//  Reads what the attempts reported, notices their ends, and ends those
//  whose processes are gone and whose every line is queued.
static void
s_service_trials (hpo_session_t *self, size_t first, size_t n, int sigchld,
                  int64_t now)
{
    memset (self->ready, 0, self->slots * sizeof self->ready[0]);
    for (size_t k = first; k < n; k++)
        if (self->items[k].revents & (ZMQ_POLLIN | ZMQ_POLLERR))
            self->ready[self->item_slot[k]] = 1;
    int paused = hpo_outbox_paused (self->outbox);
    hpo_attempt_sink_t sink = {s_sink_full, s_sink_report, self};
    for (uint32_t k = 0; k < self->slots; k++) {
        hpo_attempt_t *t = self->trials[k];
        if (t && (self->ready[k] || sigchld || hpo_attempt_waits (t, paused)) &&
            hpo_attempt_service (t, S_READ_PER_STEP, &sink, now))
            s_trial_end (self, k, now);
    }
}

//  A stopping session is finished once its attempts are gone and its
//  outbox is flushed (or abandoned), or its flush time is over.
static void
s_check_finished (hpo_session_t *self, int64_t now)
{
    size_t unacked = hpo_outbox_live (self->outbox);
    if (!self->stopping ||
        ((hpo_session_busy (self) || (unacked && !self->abandon)) &&
         now < self->stop_deadline))
        return;
    if (unacked && !self->abandon)
        hpo_log_warnx ("exiting with %zu messages unacknowledged", unacked);
    self->finished = 1;
}

int
hpo_session_step (hpo_session_t *self, int max_wait_ms)
{
    if (self->finished)
        return 0;
    int64_t now = hpo_clock_mono_ms ();
    int paused = hpo_outbox_paused (self->outbox);
    long timeout = s_timeout (self, now, max_wait_ms, paused);
    size_t first_trial;
    size_t n = s_poll_items (self, paused, &first_trial);
    if (zmq_poll (self->items, (int)n, timeout) < 0) {
        if (errno == EINTR)
            return 0;
        hpo_log_warn ("zmq_poll");
        return -1;
    }
    now = hpo_clock_mono_ms ();
    int sigchld = 0;
    if (self->signal_fd >= 0 && (self->items[1].revents & ZMQ_POLLIN))
        s_on_signals (self, &sigchld);
    //  zmq_poll's readiness of a ZeroMQ socket is edge-like: always drain.
    s_recv_all (self, now);
    if (self->watch)
        s_on_watch (self, now);
    hpo_outbox_pump (self->outbox, now);
    s_service_trials (self, first_trial, n, sigchld, now);
    s_timers (self, now);
    hpo_outbox_compact (self->outbox);
    s_check_finished (self, now);
    return 0;
}

//  Stops the session; a Goodbye names the attempts being stopped, so the
//  coordinator re-runs them at once and hands us nothing more.
static void
s_stop (hpo_session_t *self, const char *reason)
{
    if (self->stopping)
        return;
    int64_t now = hpo_clock_mono_ms ();
    self->stopping = 1;
    self->stop_deadline = now + HPO_SESSION_FLUSH_MS;
    hpo_wire_msg_t msg;
    hpo_wire_goodbye (&msg, 0, reason);
    s_add_leases (self, &msg, 0, 0);
    size_t stopped = msg.body.goodbye.n_leases;
    for (uint32_t k = 0; k < self->slots; k++)
        if (self->trials[k])
            hpo_attempt_shutdown (self->trials[k]);
    //  After every Report and Finish already queued, in seq order; kept
    //  and resent like them until acknowledged or the flush time is over.
    s_queue (self, &msg, HPO_OUTBOX_GOODBYE, 0, 0, now);
    hpo_log_info ("goodbye to %s: %s (%zu attempts stopped)", self->endpoint,
                  reason, stopped);
}

void
hpo_session_stop (hpo_session_t *self)
{
    s_stop (self, "worker stopping");
}

//  The coordinator will not have us: stop the trials and exit 1 without
//  waiting for anything to be acknowledged.
static void
s_fail (hpo_session_t *self)
{
    self->failed = 1;
    if (self->stopping && self->abandon)
        return;
    int64_t now = hpo_clock_mono_ms ();
    if (!self->stopping)
        self->stop_deadline = now + HPO_SESSION_FLUSH_MS;
    self->stopping = 1;
    self->abandon = 1;
    for (uint32_t k = 0; k < self->slots; k++)
        if (self->trials[k])
            hpo_attempt_shutdown (self->trials[k]);
}

int
hpo_session_failed (const hpo_session_t *self)
{
    return self->failed;
}

int
hpo_session_finished (const hpo_session_t *self)
{
    return self->finished;
}

int
hpo_session_run (hpo_session_t *self)
{
    while (!self->finished)
        if (hpo_session_step (self, 1000) < 0)
            return -1;
    return self->failed ? -1 : 0;
}

//  ---- construction ----------------------------------------------------------

//  This process's incarnation (random) and start time (unix us), chosen
//  once: every session of the process says the same.
static void
s_identity (uint64_t *incarnation, uint64_t *started_us)
{
    static uint64_t s_incarnation, s_started_us;
    if (!s_incarnation) {
        struct timespec ts;
        clock_gettime (CLOCK_REALTIME, &ts);
        s_started_us =
            (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
        uint64_t r = 0;
        if (getrandom (&r, sizeof r, 0) != (ssize_t)sizeof r) {
            //  No entropy yet: time and pid still tell processes apart.
            struct timespec mono;
            clock_gettime (CLOCK_MONOTONIC, &mono);
            r = s_started_us ^ ((uint64_t)getpid () << 32) ^
                (uint64_t)mono.tv_nsec;
        }
        s_incarnation = r ? r : 1;
    }
    *incarnation = s_incarnation;
    *started_us = s_started_us;
}

//  The state directory (or the checkpoint root), created if missing, as
//  an absolute path; NULL after logging why.
static char *
s_state_dir (const char *path, const char *what)
{
    char *real = NULL;
    if (hpo_attempt_mkdirs (path) == 0 && access (path, W_OK) == 0)
        real = realpath (path, NULL);
    if (!real)
        hpo_log_error ("%s %s: %s", what, path, strerror (errno));
    return real;
}

//  The context and the DEALER, connected (common/sock sets the options).
static int
s_connect (hpo_session_t *self)
{
    char *error = NULL;
    if (!self->ctx)
        self->ctx = hpo_sock_ctx_new (&error);
    if (self->ctx)
        self->dealer =
            hpo_sock_open_keys (self->ctx, HPO_SOCK_WORKER, self->endpoint,
                                self->keys, &self->watch, &error);
    if (self->dealer)
        return 0;
    hpo_log_error ("%s", error);
    free (error);
    return -1;
}

hpo_session_t *
hpo_session_new (const hpo_session_config_t *config)
{
    assert (config->endpoint && config->name && config->state_dir);
    assert (config->slots >= 1);
    char *state_dir = s_state_dir (config->state_dir, "state directory");
    if (!state_dir)
        return NULL;
    char *ckpt_root = NULL;
    if (config->checkpoint_root &&
        !(ckpt_root =
              s_state_dir (config->checkpoint_root, "checkpoint root"))) {
        free (state_dir);
        return NULL;
    }
    hpo_session_t *self = hpo_calloc (1, sizeof *self);
    self->state_dir = state_dir;
    self->checkpoint_root = ckpt_root;
    self->endpoint = hpo_strdup (config->endpoint);
    self->name = hpo_strdup (config->name);
    char host[256];
    if (gethostname (host, sizeof host) < 0)
        snprintf (host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    self->host = hpo_strdup (host);
    self->slots = config->slots;
    self->cpus = config->cpus ? config->cpus : config->slots;
    hpo_gpu_t *gpus = hpo_calloc (config->n_gpus + 1, sizeof *gpus);
    for (size_t k = 0; k < config->n_gpus; k++) {
        const hpo_gpu_t *g = &config->gpus[k];
        gpus[k].index = g->index;
        gpus[k].name = g->name ? hpo_strdup (g->name) : NULL;
        gpus[k].uuid = g->uuid ? hpo_strdup (g->uuid) : NULL;
    }
    self->gpus = hpo_gpu_set_new (&gpus, config->n_gpus);
    self->signal_fd = config->signal_fd;
    self->trials = hpo_calloc (self->slots, sizeof (hpo_attempt_t *));
    self->items =
        hpo_calloc (3 + 2 * (size_t)self->slots, sizeof (zmq_pollitem_t));
    self->item_slot =
        hpo_calloc (3 + 2 * (size_t)self->slots, sizeof (uint32_t));
    if (config->keys) {
        self->keys = hpo_calloc (1, sizeof *self->keys);
        *self->keys = *config->keys;
    }
    self->ready = hpo_calloc (self->slots, sizeof (int));
    self->heartbeat_ms = S_DEFAULT_HEARTBEAT_MS;
    self->hello_retry_ms = S_HELLO_RETRY_MS;
    self->outbox = hpo_outbox_new (config->outbox_max ? config->outbox_max
                                                      : HPO_SESSION_OUTBOX_MAX,
                                   s_send_packed, self);
    s_identity (&self->incarnation, &self->started_us);
    if (s_connect (self) < 0) {
        hpo_session_destroy (&self);
        return NULL;
    }
    hpo_log_info ("worker %s (%u slots, state in %s, incarnation %016" PRIx64
                  ") connecting to %s",
                  self->name, self->slots, self->state_dir, self->incarnation,
                  self->endpoint);
    int64_t now = hpo_clock_mono_ms ();
    s_send_hello (self, now);
    self->next_heartbeat = now + self->heartbeat_ms;
    return self;
}

void
hpo_session_destroy (hpo_session_t **self_p)
{
    hpo_session_t *self = *self_p;
    if (!self)
        return;
    for (uint32_t k = 0; self->trials && k < self->slots; k++)
        hpo_attempt_destroy (&self->trials[k]);
    free (self->trials);
    hpo_gpu_set_destroy (&self->gpus);
    free (self->items);
    free (self->item_slot);
    free (self->ready);
    hpo_outbox_destroy (&self->outbox);
    hpo_sock_close (&self->watch);
    hpo_sock_close (&self->dealer);
    hpo_sock_ctx_destroy (&self->ctx);
    free (self->endpoint);
    free (self->name);
    free (self->host);
    free (self->state_dir);
    free (self->checkpoint_root);
    if (self->keys)
        memset (self->keys, 0, sizeof *self->keys); //  no secret left behind
    free (self->keys);
    free (self);
    *self_p = NULL;
}
