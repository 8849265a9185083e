/*  server.c: the ROUTER loop (a turn: read, expire, dispatch, commit,
    flush), the message table, and the worker messages translated into
    scheduler calls. The CLI's read-only requests are answered by
    query.c; this file only sends those answers.                         */
#include "server.h"

#include <assert.h>
#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zmq.h>

#include "../common/clock.h"
#include "../common/keys.h"
#include "../common/log.h"
#include "../common/mem.h"
#include "../common/names.h"
#include "../common/sock.h"
#include "../common/utf8.h"
#include "../common/wire.h"
#include "../search/refine.h"
#include "derive.h"
#include "enqueue.h"
#include "guard.h"
#include "query.h"
#include "resource.h"
#include "sched.h"

//  Limits on what a peer may ask of us in one message. A worker runs at
//  most S_MAX_SLOTS trials, so it has no reason to list more leases.
#define S_MAX_SLOTS 4096
#define S_MAX_LEASES S_MAX_SLOTS
#define S_MAX_METRICS 1024
#define S_MAX_NAME 255
//  Steps are integers >= 0 that survive a trip through JSON (2^53).
#define S_MAX_STEP ((int64_t)1 << 53)
//  How long the study-file parser may take in its guard child: a file of
//  the largest size parses in milliseconds, so only a bug takes this long.
#define S_PARSE_GUARD_MS 2000
//  The loop is "away" when a turn comes later than its poll timeout by
//  more than this (or the lease's quarter, if less): stopped, or a turn
//  that ran long. Leases are then extended by the time away.
#define S_AWAY_MS 500
//  How long, in lease periods, the loop may stay behind its own queue
//  before leases expire again anyway (s_may_expire).
#define S_BEHIND_MAX_LEASES 3
//  Database pages an online backup copies between two loop turns: a
//  fraction of a millisecond, so the trial loop never waits on it.
#define S_BACKUP_PAGES 64

typedef struct {
    uint8_t rid[HPO_WIRE_MAX_RID];
    size_t rid_size;
    uint8_t *data;
    size_t size;
} s_reply_t;

struct _hpo_server_t {
    hpo_server_config_t cfg;
    hpo_store_t *store;
    hpo_sched_t *sched;
    void *ctx;
    void *router;
    void *monitor; //  PAIR receiving the router's accept failures
    hpo_log_limit_t accept_failed;
    char *endpoint;
    s_reply_t *out; //  replies held until the commit
    size_t n_out, cap_out;
    hpo_worker_t **owed; //  workers owed acks this turn
    size_t n_owed, cap_owed;
    uint64_t seq;
    int64_t now; //  monotonic ms of this turn
    hpo_server_tap_fn *tap; //  test hook: sees each reply as it is sent
    void *tap_arg;
    hpo_log_limit_t bad;     //  bad messages dropped
    hpo_log_limit_t refused; //  worker messages refused (s_refuse)
    int64_t turn_at;         //  when the last turn started (0: none yet)
    int64_t behind_since;    //  a turn last left messages unread (0: none)
    hpo_keys_zap_t *zap;     //  the key check; NULL: keys are off
    zhashx_t *name_keys;     //  worker name -> name of the key it is bound to
    hpo_log_limit_t denied;  //  messages refused for their key's roles
    hpo_log_limit_t handshakes; //  connections refused before the key check
    hpo_store_backup_t *backup; //  an online backup under way, or NULL
    uint8_t backup_rid[HPO_WIRE_MAX_RID]; //  who asked for it
    size_t backup_rid_size;
    uint64_t backup_seq;
    hpo_server_workers_fn *workers_fn; //  the dashboard's, or NULL
    void *workers_arg;
    int64_t workers_at; //  when they were last published
};

//  ---- replies ----------------------------------------------------------

//  A message being handled, and who sent it.
typedef struct {
    const hpo_wire_peer_t *peer;
    hpo_env_t *env;
} s_msg_t;

//  Queues msg for rid until the commit, and releases it.
static void
s_reply (hpo_server_t *self, const uint8_t *rid, size_t rid_size,
         hpo_wire_msg_t *msg)
{
    if (self->n_out == self->cap_out) {
        self->cap_out = self->cap_out ? self->cap_out * 2 : 256;
        self->out = hpo_realloc (self->out, self->cap_out * sizeof *self->out);
    }
    s_reply_t *r = &self->out[self->n_out++];
    memcpy (r->rid, rid, rid_size);
    r->rid_size = rid_size;
    r->data = hpo_wire_encode (&msg->env, &r->size);
    hpo_wire_msg_done (msg);
}

static void
s_flush (hpo_server_t *self)
{
    for (size_t k = 0; k < self->n_out; k++) {
        s_reply_t *r = &self->out[k];
        if (self->tap)
            self->tap (self->tap_arg, r->rid, r->rid_size, r->data, r->size);
        //  A peer that is gone or not reading loses its reply; it resends.
        if (zmq_send (self->router, r->rid, r->rid_size,
                      ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
            zmq_send (self->router, r->data, r->size, ZMQ_DONTWAIT);
        free (r->data);
    }
    self->n_out = 0;
}

//  Sends an Error; with acks_of, it also carries the acknowledgements
//  owed that worker (taken from it before the reply is encoded).
static void
s_error_acking (hpo_server_t *self, const uint8_t *rid, size_t rid_size,
                uint64_t seq, Hpo__ErrorCode code, const char *message,
                hpo_worker_t *acks_of)
{
    //  The message may quote what a peer sent: hpo_wire_error cleans it.
    hpo_wire_msg_t msg;
    hpo_wire_error (&msg, seq, code, message);
    if (acks_of) {
        hpo_wire_msg_acks (&msg, acks_of->acks, acks_of->n_acks);
        acks_of->n_acks = 0;
    }
    s_reply (self, rid, rid_size, &msg);
}

//  Answers m with reply.
static void
s_answer (hpo_server_t *self, s_msg_t *m, hpo_wire_msg_t *reply)
{
    s_reply (self, m->peer->rid, m->peer->rid_size, reply);
}

//  Answers m with an Error.
static void
s_error (hpo_server_t *self, s_msg_t *m, Hpo__ErrorCode code,
         const char *message)
{
    s_error_acking (self, m->peer->rid, m->peer->rid_size, m->env->seq, code,
                    message, NULL);
}

//  Acknowledgements are owed, not sent at once: all a worker is owed in
//  one turn travel together, on an Assign or Kill for it if there is one
//  (s_take_acks), else in one Ack message when the turn ends.
static void
s_ack (hpo_server_t *self, hpo_worker_t *w, uint64_t seq)
{
    if (w->n_acks == 0) {
        if (self->n_owed == self->cap_owed) {
            self->cap_owed = self->cap_owed ? self->cap_owed * 2 : 64;
            self->owed =
                hpo_realloc (self->owed, self->cap_owed * sizeof *self->owed);
        }
        self->owed[self->n_owed++] = w;
    }
    if (w->n_acks == w->cap_acks) {
        w->cap_acks = w->cap_acks ? w->cap_acks * 2 : 4;
        w->acks = hpo_realloc (w->acks, w->cap_acks * sizeof *w->acks);
    }
    w->acks[w->n_acks++] = seq;
}

//  Moves what w is owed onto msg (encoded before the next s_ack).
static void
s_take_acks (hpo_worker_t *w, hpo_wire_msg_t *msg)
{
    hpo_wire_msg_acks (msg, w->acks, w->n_acks);
    w->n_acks = 0;
}

//  Refuses a worker's message for good: an Error that also acknowledges
//  it (with whatever else w is owed), so a worker that resends what it
//  has not seen acknowledged drops it instead of resending it for ever.
//  Nothing of the message was applied.
static void
s_refuse (hpo_server_t *self, hpo_worker_t *w, uint64_t seq,
          Hpo__ErrorCode code, const char *message)
{
    //  At most one line a second: a peer must not flood the log.
    if (hpo_log_limit (&self->refused, self->now, 1000)) {
        char *clean_name = hpo_utf8_clean (w->name, S_MAX_NAME);
        hpo_log_warnx ("worker %s: refused message %" PRIu64 " (%" PRIu64
                       " so far): %s",
                       clean_name, seq, self->refused.count, message);
        free (clean_name);
    }
    s_ack (self, w, seq);
    s_error_acking (self, w->rid, w->rid_size, seq, code, message, w);
}

static void
s_pay_acks (hpo_server_t *self)
{
    for (size_t k = 0; k < self->n_owed; k++) {
        hpo_worker_t *w = self->owed[k];
        if (w->n_acks == 0)
            continue; //  paid on an Assign or Kill
        hpo_wire_msg_t msg;
        hpo_wire_ack (&msg, ++self->seq);
        s_take_acks (w, &msg);
        s_reply (self, w->rid, w->rid_size, &msg);
    }
    self->n_owed = 0;
}

//  ---- keys (issue #13) ------------------------------------------------

//  The roles that may send a body (common/keys.h): a worker's messages
//  take a worker key; deleting and admin commands an admin key; the
//  rest (a new request included) a client or admin key.
static unsigned
s_roles_for (Hpo__Envelope__BodyCase body)
{
    switch (body) {
    case HPO__ENVELOPE__BODY_HELLO:
    case HPO__ENVELOPE__BODY_HEARTBEAT:
    case HPO__ENVELOPE__BODY_REPORT:
    case HPO__ENVELOPE__BODY_FINISH:
    case HPO__ENVELOPE__BODY_GOODBYE:
        return HPO_KEYS_WORKER;
    case HPO__ENVELOPE__BODY_STUDY_DELETE:
    case HPO__ENVELOPE__BODY_ADMIN_BACKUP:
        return HPO_KEYS_ADMIN;
    default:
        return HPO_KEYS_CLIENT | HPO_KEYS_ADMIN;
    }
}

//  Refuses m with ERR_DENIED and logs why, naming the key and address
//  (a line a second at most: a peer must not flood the log).
static void
s_deny (hpo_server_t *self, s_msg_t *m, const char *why)
{
    if (hpo_log_limit (&self->denied, self->now, 1000))
        hpo_log_warnx ("refused a message from %s (key %s): %s (%" PRIu64
                       " refused so far)",
                       *m->peer->address ? m->peer->address : "?",
                       *m->peer->user_id ? m->peer->user_id : "none", why,
                       self->denied.count);
    s_error (self, m, HPO__ERROR_CODE__ERR_DENIED, why);
}

//  With keys on: whether m's key holds a role that may send it; if not,
//  m is refused.
static int
s_permitted (hpo_server_t *self, s_msg_t *m)
{
    char name[256];
    unsigned roles = hpo_keys_user_parse (m->peer->user_id, name, sizeof name);
    unsigned needed = s_roles_for (m->env->body_case);
    if (roles & needed)
        return 1;
    char *why =
        hpo_sprintf ("this key may not send that: it needs a key in the allow "
                     "directory's %s",
                     needed == HPO_KEYS_WORKER  ? "worker/"
                     : needed == HPO_KEYS_ADMIN ? "admin/"
                                                : "client/ or admin/");
    s_deny (self, m, why);
    free (why);
    return 0;
}

//  With keys on: binds a worker name to the first key that says Hello
//  with it; another key's Hello with that name is refused (1).
static int
s_name_taken (hpo_server_t *self, s_msg_t *m, const char *worker)
{
    char key[256];
    hpo_keys_user_parse (m->peer->user_id, key, sizeof key);
    const char *owner = zhashx_lookup (self->name_keys, worker);
    if (!owner) {
        zhashx_insert (self->name_keys, worker, key);
        return 0;
    }
    if (strcmp (owner, key) == 0)
        return 0;
    char *clean = hpo_utf8_clean (worker, S_MAX_NAME);
    char *why = hpo_sprintf ("worker name %s is bound to another key (%s)",
                             clean, owner);
    s_deny (self, m, why);
    free (why);
    free (clean);
    return 1;
}

//  ---- scheduler events -------------------------------------------------

static void
s_on_assign (void *ctx, hpo_worker_t *w, hpo_trial_t *t)
{
    hpo_server_t *self = ctx;
    const hpo_spec_t *spec = t->study->spec;
    //  The device indices of the GPUs the scheduler picked (resource.h).
    uint32_t *gpus = hpo_calloc (t->n_gpus + 1, sizeof *gpus);
    for (uint32_t k = 0; k < t->n_gpus; k++)
        gpus[k] = w->gpus[t->gpus[k]].index;
    hpo_wire_assign_t assign = {
        .trial_id = t->id,
        .attempt = t->attempt,
        .study = t->study->name,
        .number = t->number,
        .command = spec->command,
        .shell = spec->shell,
        .names = t->study->names,
        .values = t->params,
        .n_params = spec->n_params,
        .objective = spec->metric,
        .timeout_ms = spec->timeout_ms,
        .grace_ms = spec->grace_ms,
        .workdir = spec->workdir,
        .env = spec->env,
        .n_env = spec->n_env,
        .metrics_source = spec->metrics_stdout ? "stdout" : NULL,
        .metrics_pattern = spec->metrics_pattern,
        .gpus = gpus,
        .n_gpus = t->n_gpus,
        .cpus = t->cpus,
    };
    hpo_wire_msg_t msg;
    hpo_wire_assign (&msg, ++self->seq, &assign);
    s_take_acks (w, &msg);
    s_reply (self, w->rid, w->rid_size, &msg);
    free (gpus);
    hpo_log_debug (HPO_LOG_TRIAL ": assigned to %s", t->study->name, t->number,
                   t->attempt, w->name);
}

static void
s_on_kill (void *ctx, hpo_worker_t *w, uint64_t trial_id, uint32_t attempt,
           const char *reason)
{
    hpo_server_t *self = ctx;
    hpo_wire_msg_t msg;
    hpo_wire_kill (&msg, ++self->seq, trial_id, attempt, reason);
    s_take_acks (w, &msg);
    s_reply (self, w->rid, w->rid_size, &msg);
    hpo_trial_t *t = hpo_sched_trial (self->sched, trial_id);
    if (t)
        hpo_log_debug (HPO_LOG_TRIAL ": told %s to kill it (%s)",
                       t->study->name, t->number, attempt, w->name, reason);
    else
        hpo_log_debug ("trial id %" PRIu64 " attempt %" PRIu32
                       ": told %s to kill it (%s)",
                       trial_id, attempt, w->name, reason);
}

//  ---- worker messages --------------------------------------------------

static hpo_lease_t *
s_leases (Hpo__Lease **wire, size_t n)
{
    hpo_lease_t *leases = hpo_calloc (n, sizeof *leases);
    for (size_t k = 0; k < n; k++) {
        leases[k].trial_id = wire[k]->trial_id;
        leases[k].attempt = wire[k]->attempt;
    }
    return leases;
}

//  A Hello's GPUs (issue #11), checked: at most HPO_SPEC_MAX_GPUS, no
//  index twice (two entries of one device would let two trials share
//  it), names and UUIDs cleaned and bounded. Returns the array (free
//  with hpo_resource_gpus_free), or NULL when refused (*bad set) or empty.
static hpo_worker_gpu_t *
s_hello_gpus (const Hpo__Hello *hello, int *bad)
{
    size_t n = hello->n_gpus;
    *bad = n > HPO_SPEC_MAX_GPUS || hello->cpus > HPO_SPEC_MAX_CPUS ||
           hello->n_busy_gpus > HPO_SPEC_MAX_GPUS;
    for (size_t k = 0; k < n && !*bad; k++)
        for (size_t j = 0; j < k && !*bad; j++)
            *bad = hello->gpus[j]->index == hello->gpus[k]->index;
    if (*bad || n == 0)
        return NULL;
    hpo_worker_gpu_t *gpus = hpo_calloc (n, sizeof *gpus);
    for (size_t k = 0; k < n; k++) {
        gpus[k].index = hello->gpus[k]->index;
        gpus[k].name = hpo_utf8_clean (hello->gpus[k]->name, S_MAX_NAME);
        gpus[k].uuid = hpo_utf8_clean (hello->gpus[k]->uuid, S_MAX_NAME);
    }
    return gpus;
}

static void
s_on_hello (hpo_server_t *self, s_msg_t *m)
{
    Hpo__Hello *hello = m->env->hello;
    int bad_gpus;
    hpo_worker_gpu_t *gpus = s_hello_gpus (hello, &bad_gpus);
    //  The name is the worker's identity in the store and in every
    //  reason shown: it must be valid as it is, not cleaned.
    if (!hpo_name_worker_ok (hello->name) ||
        strnlen (hello->host, S_MAX_NAME + 1) > S_MAX_NAME ||
        hello->slots == 0 || hello->slots > S_MAX_SLOTS ||
        hello->n_leases > S_MAX_LEASES || bad_gpus) {
        s_error (self, m, HPO__ERROR_CODE__ERR_INVALID,
                 "hello: name must be 1-255 bytes of UTF-8 without control "
                 "characters, host at most 255 "
                 "bytes, slots 1-4096, leases at most 4096, GPUs at most "
                 "1024 with no index twice, CPUs at most 65536");
        hpo_resource_gpus_free (gpus, hello->n_gpus);
        return;
    }
    if (self->zap && s_name_taken (self, m, hello->name))
        return;
    char *host = hpo_utf8_clean (hello->host, S_MAX_NAME);
    hpo_lease_t *leases = s_leases (hello->leases, hello->n_leases);
    hpo_lease_t *refused = hpo_calloc (hello->n_leases, sizeof *refused);
    size_t n_refused = 0;
    hpo_hello_t h = {
        .name = hello->name,
        .host = host,
        .pid = hello->pid,
        .slots = hello->slots,
        .incarnation = hello->incarnation,
        .started_us = hello->started_us,
        .leases = leases,
        .n_leases = hello->n_leases,
        .gpus = gpus,
        .n_gpus = gpus ? hello->n_gpus : 0,
        .cpus = hello->cpus,
        .busy_gpus = hello->busy_gpus,
        .n_busy = hello->n_busy_gpus,
    };
    hpo_worker_t *winner = NULL;
    hpo_worker_t *w =
        hpo_sched_hello (self->sched, m->peer->rid, m->peer->rid_size, &h,
                         refused, &n_refused, &winner, self->now);
    if (!w && winner) {
        char *text = hpo_sprintf ("worker name %s is held by a newer process "
                                  "(host %s, pid %u): this one gets no work",
                                  winner->name, winner->host, winner->pid);
        s_error (self, m, HPO__ERROR_CODE__ERR_REPLACED, text);
        free (text);
    } else if (w) { //  else the store failed, and the turn ends unanswered
        hpo_wire_msg_t msg;
        hpo_wire_welcome (&msg, m->env->seq, (uint32_t)self->cfg.heartbeat_ms,
                          (uint32_t)self->cfg.lease_ms);
        for (size_t k = 0; k < n_refused; k++)
            hpo_wire_lease_add (&msg, refused[k].trial_id, refused[k].attempt);
        s_answer (self, m, &msg);
    }
    free (refused);
    free (leases);
    free (host);
    hpo_resource_gpus_free (gpus, h.n_gpus);
}

//  The worker session a message comes from; answers UNKNOWN_SESSION (say
//  Hello again) when there is none.
static hpo_worker_t *
s_worker (hpo_server_t *self, s_msg_t *m)
{
    hpo_worker_t *w =
        hpo_sched_worker (self->sched, m->peer->rid, m->peer->rid_size);
    if (!w)
        s_error (self, m, HPO__ERROR_CODE__ERR_UNKNOWN_SESSION,
                 "unknown session: send Hello");
    else if (w->replaced_by) {
        //  A newer process took this session's name: nothing it sends is
        //  applied, and it is told why (it should exit).
        s_error (self, m, HPO__ERROR_CODE__ERR_REPLACED, w->replaced_by);
        w = NULL;
    }
    return w;
}

static void
s_on_heartbeat (hpo_server_t *self, s_msg_t *m)
{
    hpo_worker_t *w = s_worker (self, m);
    if (!w)
        return;
    Hpo__Heartbeat *hb = m->env->heartbeat;
    if (hb->n_leases > S_MAX_LEASES || hb->free > S_MAX_SLOTS ||
        hb->n_busy_gpus > HPO_SPEC_MAX_GPUS) {
        s_refuse (self, w, m->env->seq, HPO__ERROR_CODE__ERR_INVALID,
                  "heartbeat: at most 4096 leases, 4096 free slots and 1024 "
                  "busy GPUs");
        return;
    }
    hpo_lease_t *leases = s_leases (hb->leases, hb->n_leases);
    hpo_sched_heartbeat (self->sched, w, leases, hb->n_leases, hb->free,
                         self->now);
    hpo_resource_busy (w, hb->busy_gpus, hb->n_busy_gpus);
    free (leases);
    s_ack (self, w, m->env->seq);
}

//  After a report or finish: Ack it either way (so the worker stops
//  resending), and tell the worker to kill a stale attempt.
static void
s_settle (hpo_server_t *self, hpo_worker_t *w, s_msg_t *m, hpo_sched_rc_t rc,
          uint64_t trial_id, uint32_t attempt)
{
    if (rc == HPO_SCHED_ERROR)
        return; //  the store failed: the turn ends unanswered
    s_ack (self, w, m->env->seq);
    if (rc == HPO_SCHED_STALE || rc == HPO_SCHED_UNKNOWN)
        s_on_kill (self, w, trial_id, attempt,
                   rc == HPO_SCHED_STALE ? "stale attempt" : "unknown trial");
}

//  Checks a report's metrics (a worker's or a client's): how many, their
//  names, finite values. NULL if they may be stored, else why not (the
//  caller frees).
static char *
s_metrics_invalid (Hpo__Metric **metrics, size_t n)
{
    if (n > S_MAX_METRICS)
        return hpo_sprintf ("report: %zu metrics, at most %d", n,
                            S_MAX_METRICS);
    for (size_t k = 0; k < n; k++) {
        //  The worker's own rule for metric names (common/names.h): what
        //  is stored is then valid as it came, with nothing to clean.
        const char *name = metrics[k]->name ? metrics[k]->name : "";
        const char *problem = hpo_name_metric_problem (name, strlen (name));
        if (problem) {
            char *clean = hpo_utf8_clean (name, 64);
            char *text = hpo_sprintf ("report: metric name '%s' %s; nothing "
                                      "of the report was stored",
                                      clean, problem);
            free (clean);
            return text;
        }
    }
    for (size_t k = 0; k < n; k++)
        if (!isfinite (metrics[k]->value)) {
            char *name = hpo_utf8_clean (metrics[k]->name, S_MAX_NAME);
            char *text = hpo_sprintf ("report: metric '%s' is %g, not a "
                                      "finite number; nothing of the report "
                                      "was stored",
                                      name, metrics[k]->value);
            free (name);
            return text;
        }
    return NULL;
}

//  Checks a Report's numbers; NULL if it may be applied, else why not
//  (the caller frees). Nothing of a refused report is stored.
static char *
s_report_invalid (const Hpo__Report *r)
{
    if (r->attempt == 0)
        return hpo_strdup (
            "report: attempt 0 does not exist (they start at 1)");
    if (r->has_step && (r->step < 0 || r->step > S_MAX_STEP))
        return hpo_sprintf ("report: step %" PRId64 " is out of range "
                            "(0 to 2^53)",
                            r->step);
    return s_metrics_invalid (r->metrics, r->n_metrics);
}

static void
s_on_report (hpo_server_t *self, s_msg_t *m)
{
    hpo_worker_t *w = s_worker (self, m);
    if (!w)
        return;
    Hpo__Report *r = m->env->report;
    char *invalid = s_report_invalid (r);
    if (invalid) {
        s_refuse (self, w, m->env->seq, HPO__ERROR_CODE__ERR_INVALID, invalid);
        free (invalid);
        return;
    }
    //  Every name was checked above; a report has a few metrics, so the
    //  arrays live on the stack in the common case (this runs for every
    //  report a worker sends).
    char *names_s[16];
    double values_s[16];
    size_t n = r->n_metrics;
    char **names = n <= 16 ? names_s : hpo_calloc (n, sizeof (char *));
    double *values = n <= 16 ? values_s : hpo_calloc (n, sizeof (double));
    for (size_t k = 0; k < n; k++) {
        names[k] = r->metrics[k]->name;
        values[k] = r->metrics[k]->value;
    }
    hpo_sched_rc_t rc =
        hpo_sched_report (self->sched, w, r->trial_id, r->attempt, r->has_step,
                          r->step, names, values, n, self->now);
    if (names != names_s) {
        free (names);
        free (values);
    }
    s_settle (self, w, m, rc, r->trial_id, r->attempt);
}

static void
s_on_finish (hpo_server_t *self, s_msg_t *m)
{
    hpo_worker_t *w = s_worker (self, m);
    if (!w)
        return;
    Hpo__Finish *f = m->env->finish;
    if (f->attempt == 0 || f->free > S_MAX_SLOTS ||
        f->n_busy_gpus > HPO_SPEC_MAX_GPUS) {
        s_refuse (self, w, m->env->seq, HPO__ERROR_CODE__ERR_INVALID,
                  f->attempt == 0 ? "finish: attempt 0 does not exist"
                                  : "finish: at most 4096 free slots and "
                                    "1024 busy GPUs");
        return;
    }
    hpo_finish_t outcome;
    switch (f->outcome) {
    case HPO__OUTCOME__OUTCOME_COMPLETE:
        outcome = HPO_FINISH_COMPLETE;
        break;
    case HPO__OUTCOME__OUTCOME_PRUNED:
        outcome = HPO_FINISH_PRUNED;
        break;
    case HPO__OUTCOME__OUTCOME_FAILED:
        //  The worker knows a retry cannot change it (proto: permanent).
        outcome =
            f->permanent ? HPO_FINISH_FAILED_PERMANENT : HPO_FINISH_FAILED;
        break;
    default:
        //  A killed attempt was already decided here; nothing to record.
        s_ack (self, w, m->env->seq);
        return;
    }
    //  Bounded copies: a log tail or reason is for people, not unbounded.
    char *reason = hpo_utf8_clean (f->reason, 1024);
    char *tail = f->log_tail && *f->log_tail
                     ? hpo_utf8_clean (f->log_tail, 16384)
                     : NULL;
    //  A value that is not a finite number is refused, but the attempt
    //  did end: the scheduler records it FAILED (a program that computes
    //  NaN failed), and the Error says so. It never ranks as best.
    int bad_value = f->has_value && !isfinite (f->value);
    hpo_sched_rc_t rc =
        hpo_sched_finish (self->sched, w, f->trial_id, f->attempt, outcome,
                          f->has_value, f->value, reason, tail, self->now);
    free (reason);
    free (tail);
    if (bad_value && rc == HPO_SCHED_OK) {
        hpo_trial_t *t = hpo_sched_trial (self->sched, f->trial_id);
        char *text = hpo_sprintf (
            "finish: objective '%s' is %g, not a finite number; the attempt "
            "is recorded %s",
            t ? t->study->spec->metric : "?", f->value,
            outcome == HPO_FINISH_COMPLETE ? "FAILED" : "without a value");
        s_refuse (self, w, m->env->seq, HPO__ERROR_CODE__ERR_INVALID, text);
        free (text);
    } else
        s_settle (self, w, m, rc, f->trial_id, f->attempt);
    if (f->asks && rc != HPO_SCHED_ERROR) {
        hpo_sched_heartbeat (self->sched, w, NULL, 0, f->free, self->now);
        hpo_resource_busy (w, f->busy_gpus, f->n_busy_gpus);
    }
}

static void
s_on_goodbye (hpo_server_t *self, s_msg_t *m)
{
    hpo_worker_t *w = s_worker (self, m);
    if (!w)
        return;
    Hpo__Goodbye *g = m->env->goodbye;
    if (g->n_leases > S_MAX_LEASES) {
        s_refuse (self, w, m->env->seq, HPO__ERROR_CODE__ERR_INVALID,
                  "goodbye: at most 4096 leases");
        return;
    }
    char *reason = hpo_utf8_clean (g->reason, 1024);
    hpo_lease_t *leases = s_leases (g->leases, g->n_leases);
    int rc = hpo_sched_goodbye (self->sched, w, leases, g->n_leases, reason,
                                self->now);
    free (leases);
    free (reason);
    if (rc == 0) //  else the store failed: the turn ends unanswered
        s_ack (self, w, m->env->seq);
}

//  ---- CLI requests -----------------------------------------------------

static void
s_ok (hpo_server_t *self, s_msg_t *m, const char *text)
{
    hpo_wire_msg_t msg;
    hpo_wire_ok (&msg, m->env->seq, text);
    s_answer (self, m, &msg);
}

//  The study-file parser, as guard.h runs it in a child.
typedef struct {
    const char *text;
    size_t len;
    const char *filename;
} s_parse_arg_t;

static int
s_parse_guarded (void *arg_, char **error)
{
    s_parse_arg_t *arg = arg_;
    hpo_spec_t *spec =
        hpo_spec_parse (arg->text, arg->len, arg->filename, error);
    int ok = spec != NULL;
    hpo_spec_destroy (&spec);
    return ok ? 0 : -1;
}

//  Parses a study file the client sent, or one written from it; NULL
//  with *error set.
static hpo_spec_t *
s_spec_parse (const char *text, const char *filename, char **error)
{
    //  A library bug on a hostile file must not stop the coordinator (and
    //  the file, once stored, stop it again at every restart): the parser
    //  runs in a child first (guard.h).
    s_parse_arg_t arg = {text, strlen (text), filename};
    if (hpo_guard_run (s_parse_guarded, &arg, "the study-file parser",
                       S_PARSE_GUARD_MS, error) < 0)
        return NULL;
    return hpo_spec_parse (text, strlen (text), filename, error);
}

//  The study a create request asks for, and its text (*text_p, taken):
//  a refine study's text gets its centres written in and is parsed again
//  (derive.h), so that the text stored is all a restart needs.
static hpo_spec_t *
s_create_spec (hpo_server_t *self, const Hpo__StudyCreate *req, char **text_p,
               char **error)
{
    const char *filename =
        req->filename && *req->filename ? req->filename : "study";
    char *text = req->derive ? hpo_derive_refine (self->sched, req->spec, error)
                             : hpo_strdup (req->spec);
    hpo_spec_t *spec = text ? s_spec_parse (text, filename, error) : NULL;
    if (spec && hpo_refine_from (spec)) {
        char *centred = hpo_derive_centres (self->sched, spec, text, error);
        hpo_spec_destroy (&spec);
        free (text);
        text = centred;
        spec = text ? s_spec_parse (text, filename, error) : NULL;
    }
    if (spec)
        *text_p = text;
    else
        free (text);
    return spec;
}

static void
s_on_study_create (hpo_server_t *self, s_msg_t *m)
{
    char *error = NULL, *text = NULL;
    hpo_spec_t *spec =
        s_create_spec (self, m->env->study_create, &text, &error);
    if (!spec) {
        s_error (self, m, HPO__ERROR_CODE__ERR_INVALID, error);
        free (error);
        return;
    }
    int exists;
    hpo_study_t *study =
        hpo_sched_study_create (self->sched, &spec, text, &exists, &error);
    hpo_spec_destroy (&spec);
    free (text);
    if (!study) {
        s_error (self, m,
                 exists ? HPO__ERROR_CODE__ERR_EXISTS
                        : HPO__ERROR_CODE__ERR_INTERNAL,
                 error);
        free (error);
        return;
    }
    char *reply = hpo_sprintf ("created study %s (%" PRIu64 " trials, "
                               "sampler %s)",
                               study->name, study->budget,
                               study->spec->sampler.ops->name);
    s_ok (self, m, reply);
    free (reply);
}

//  The study a request names, or NULL after answering that there is none.
static hpo_study_t *
s_study_of (hpo_server_t *self, s_msg_t *m, const char *name)
{
    hpo_wire_msg_t reply;
    hpo_study_t *study =
        hpo_query_study (self->sched, name, m->env->seq, &reply);
    if (!study)
        s_answer (self, m, &reply);
    return study;
}

//  Answers a person's request as the scheduler decided it (sched.h): 0
//  an Ok saying what happened, 1 an ERR_INVALID saying why not, -1 the
//  store failed and the turn ends unanswered. Frees message.
static void
s_decided (hpo_server_t *self, s_msg_t *m, int rc, char *message)
{
    if (rc == 0)
        s_ok (self, m, message);
    else if (rc > 0)
        s_error (self, m, HPO__ERROR_CODE__ERR_INVALID, message);
    free (message);
}

static void
s_on_study_stop (hpo_server_t *self, s_msg_t *m)
{
    const Hpo__StudyStop *req = m->env->study_stop;
    hpo_study_t *study = s_study_of (self, m, req->name);
    char *message = NULL;
    if (!study)
        return;
    int rc = hpo_sched_study_stop (self->sched, study, req->now, &message);
    s_decided (self, m, rc, message);
}

static void
s_on_study_extend (hpo_server_t *self, s_msg_t *m)
{
    const Hpo__StudyExtend *req = m->env->study_extend;
    hpo_study_t *study = s_study_of (self, m, req->name);
    char *message = NULL;
    if (!study)
        return;
    int rc = hpo_sched_study_extend (self->sched, study, req->trials, &message);
    s_decided (self, m, rc, message);
}

static void
s_on_study_resume (hpo_server_t *self, s_msg_t *m)
{
    hpo_study_t *study = s_study_of (self, m, m->env->study_resume->name);
    char *message = NULL;
    if (!study)
        return;
    int rc = hpo_sched_study_resume (self->sched, study, &message);
    s_decided (self, m, rc, message);
}

static void
s_on_trial_retry (hpo_server_t *self, s_msg_t *m)
{
    const Hpo__TrialRetry *req = m->env->trial_retry;
    if (req->n_numbers == 0 && !req->failed) {
        s_error (self, m, HPO__ERROR_CODE__ERR_INVALID,
                 "trial retry: name trial numbers, or every failed trial");
        return;
    }
    hpo_study_t *study = s_study_of (self, m, req->study);
    char *message = NULL;
    if (!study)
        return;
    int rc = hpo_sched_trial_retry (self->sched, study, req->numbers,
                                    req->n_numbers, req->failed, &message);
    s_decided (self, m, rc, message);
}

static void
s_on_study_delete (hpo_server_t *self, s_msg_t *m)
{
    hpo_study_t *study = s_study_of (self, m, m->env->study_delete->name);
    char *message = NULL;
    if (!study)
        return;
    int rc = hpo_sched_study_delete (self->sched, study, &message);
    s_decided (self, m, rc, message);
}

//  ---- ask and tell ------------------------------------------------------

static void
s_on_ask (hpo_server_t *self, s_msg_t *m)
{
    hpo_study_t *study = s_study_of (self, m, m->env->ask->name);
    if (!study)
        return;
    hpo_trial_t *t;
    char *message = NULL;
    int busy = 0;
    int rc = hpo_sched_ask (self->sched, study, self->now, &t, &busy, &message);
    if (rc == 0) {
        hpo_wire_msg_t reply;
        hpo_query_trial (t, m->env->seq, &reply);
        s_answer (self, m, &reply);
    } else if (rc > 0)
        s_error (self, m,
                 busy ? HPO__ERROR_CODE__ERR_BUSY : HPO__ERROR_CODE__ERR_DONE,
                 message);
    free (message);
}

//  A Tell's state: COMPLETE (also ""), PRUNED or FAILED, in any case; -1
//  for anything else.
static int
s_tell_state (const char *text)
{
    if (!text || !*text || strcasecmp (text, "COMPLETE") == 0)
        return HPO_TELL_COMPLETE;
    if (strcasecmp (text, "PRUNED") == 0)
        return HPO_TELL_PRUNED;
    if (strcasecmp (text, "FAILED") == 0)
        return HPO_TELL_FAILED;
    return -1;
}

static void
s_on_tell (hpo_server_t *self, s_msg_t *m)
{
    const Hpo__Tell *req = m->env->tell;
    int state = s_tell_state (req->state);
    if (state < 0) {
        s_error (self, m, HPO__ERROR_CODE__ERR_INVALID,
                 "tell: state must be COMPLETE, PRUNED or FAILED");
        return;
    }
    hpo_study_t *study = s_study_of (self, m, req->study);
    char *message = NULL;
    if (!study)
        return;
    int rc = hpo_sched_tell (self->sched, study, req->number, state,
                             req->has_value, req->value, &message);
    s_decided (self, m, rc, message);
}

//  Applies a checked ClientReport; the answer says whether to stop.
static void
s_client_report (hpo_server_t *self, s_msg_t *m, hpo_study_t *study)
{
    const Hpo__ClientReport *req = m->env->client_report;
    size_t n = req->n_metrics;
    char **names = hpo_calloc (n + 1, sizeof (char *));
    double *values = hpo_calloc (n + 1, sizeof (double));
    for (size_t k = 0; k < n; k++) {
        names[k] = req->metrics[k]->name;
        values[k] = req->metrics[k]->value;
    }
    int prune = 0;
    char *message = NULL;
    int rc =
        hpo_sched_client_report (self->sched, study, req->number, req->step,
                                 names, values, n, &prune, &message);
    free (names);
    free (values);
    if (rc == 0) {
        hpo_wire_msg_t reply;
        hpo_wire_report_answer (&reply, m->env->seq, prune, message);
        s_answer (self, m, &reply);
    } else if (rc > 0)
        s_error (self, m, HPO__ERROR_CODE__ERR_INVALID, message);
    free (message);
}

static void
s_on_client_report (hpo_server_t *self, s_msg_t *m)
{
    const Hpo__ClientReport *req = m->env->client_report;
    char *invalid =
        req->step < 0 || req->step > S_MAX_STEP
            ? hpo_sprintf ("report: step %" PRId64 " is out of range (0 to "
                           "2^53)",
                           req->step)
            : s_metrics_invalid (req->metrics, req->n_metrics);
    if (!invalid && req->n_metrics == 0)
        invalid = hpo_strdup ("report: no metric given");
    if (invalid) {
        s_error (self, m, HPO__ERROR_CODE__ERR_INVALID, invalid);
        free (invalid);
        return;
    }
    hpo_study_t *study = s_study_of (self, m, req->study);
    if (study)
        s_client_report (self, m, study);
}

static void
s_on_enqueue (hpo_server_t *self, s_msg_t *m)
{
    const Hpo__Enqueue *req = m->env->enqueue;
    hpo_study_t *study = s_study_of (self, m, req->study);
    if (!study)
        return;
    size_t n = study->spec->n_params;
    if (req->n_params > n) {
        char *why = hpo_sprintf ("enqueue: %zu values given; the space has "
                                 "%zu parameters",
                                 req->n_params, n);
        s_error (self, m, HPO__ERROR_CODE__ERR_INVALID, why);
        free (why);
        return;
    }
    hpo_value_t *values = hpo_calloc (n + 1, sizeof *values);
    uint8_t *fixed = hpo_calloc (n + 1, 1);
    char *message = NULL;
    //  Refused (1) when a value does not fit the space, as a study file's
    //  would not.
    int rc =
        hpo_enqueue_parse (study->spec, req->params, req->n_params, values,
                           fixed, &message)
            ? 1
            : hpo_sched_enqueue (self->sched, study, values, fixed, &message);
    hpo_values_clear (values, n);
    free (values);
    free (fixed);
    s_decided (self, m, rc, message);
}

//  hpo admin backup: starts a copy of the database, made between loop
//  turns (s_backup_step); the answer comes once it is complete.
static void
s_on_admin_backup (hpo_server_t *self, s_msg_t *m)
{
    const char *path = m->env->admin_backup->path;
    char *error = NULL;
    if (self->backup)
        error = hpo_strdup ("a backup is already under way");
    else if (path[0] != '/')
        error = hpo_strdup ("admin backup: the path must be absolute (it is "
                            "on the coordinator's host)");
    else
        self->backup = hpo_store_backup_new (self->store, path, &error);
    if (!self->backup) {
        s_error (self, m, HPO__ERROR_CODE__ERR_INVALID, error);
        free (error);
        return;
    }
    memcpy (self->backup_rid, m->peer->rid, m->peer->rid_size);
    self->backup_rid_size = m->peer->rid_size;
    self->backup_seq = m->env->seq;
    hpo_log_info ("backup to %s started", path);
}

//  A read-only request (query.h): answered from memory, nothing to commit.
static void
s_on_query (hpo_server_t *self, s_msg_t *m)
{
    hpo_wire_msg_t reply;
    hpo_query_answer (self->sched, self->store, m->env, self->now, &reply);
    s_answer (self, m, &reply);
}

//  ---- the table --------------------------------------------------------

typedef void (s_handler_fn) (hpo_server_t *self, s_msg_t *m);

static const struct {
    Hpo__Envelope__BodyCase body;
    s_handler_fn *handler;
} s_handlers[] = {
    {HPO__ENVELOPE__BODY_HELLO, s_on_hello},
    {HPO__ENVELOPE__BODY_HEARTBEAT, s_on_heartbeat},
    {HPO__ENVELOPE__BODY_REPORT, s_on_report},
    {HPO__ENVELOPE__BODY_FINISH, s_on_finish},
    {HPO__ENVELOPE__BODY_GOODBYE, s_on_goodbye},
    {HPO__ENVELOPE__BODY_STUDY_CREATE, s_on_study_create},
    {HPO__ENVELOPE__BODY_STUDY_STOP, s_on_study_stop},
    {HPO__ENVELOPE__BODY_STUDY_EXTEND, s_on_study_extend},
    {HPO__ENVELOPE__BODY_STUDY_RESUME, s_on_study_resume},
    {HPO__ENVELOPE__BODY_TRIAL_RETRY, s_on_trial_retry},
    {HPO__ENVELOPE__BODY_STUDY_DELETE, s_on_study_delete},
    {HPO__ENVELOPE__BODY_STUDY_SHOW, s_on_query},
    {HPO__ENVELOPE__BODY_STUDY_LIST, s_on_query},
    {HPO__ENVELOPE__BODY_TRIALS, s_on_query},
    {HPO__ENVELOPE__BODY_TRIAL_SHOW, s_on_query},
    {HPO__ENVELOPE__BODY_BEST, s_on_query},
    {HPO__ENVELOPE__BODY_WORKERS, s_on_query},
    {HPO__ENVELOPE__BODY_ASK, s_on_ask},
    {HPO__ENVELOPE__BODY_TELL, s_on_tell},
    {HPO__ENVELOPE__BODY_CLIENT_REPORT, s_on_client_report},
    {HPO__ENVELOPE__BODY_ENQUEUE, s_on_enqueue},
    {HPO__ENVELOPE__BODY_ADMIN_BACKUP, s_on_admin_backup},
};

static void
s_bad (hpo_server_t *self, const hpo_wire_peer_t *peer,
       hpo_wire_status_t status)
{
    //  Garbage must not flood the log: a line a second at most.
    if (hpo_log_limit (&self->bad, self->now, 1000))
        hpo_log_warnx ("dropped a bad message (%s); %" PRIu64 " so far",
                       hpo_wire_status_str (status), self->bad.count);
    if (peer->rid_size > 0)
        s_error_acking (self, peer->rid, peer->rid_size, 0,
                        status == HPO_WIRE_BAD_VERSION
                            ? HPO__ERROR_CODE__ERR_BAD_VERSION
                            : HPO__ERROR_CODE__ERR_BAD_MESSAGE,
                        hpo_wire_status_str (status), NULL);
}

static void
s_handle (hpo_server_t *self, const hpo_wire_peer_t *peer, hpo_env_t *env)
{
    s_msg_t m = {peer, env};
    if (self->zap && !s_permitted (self, &m))
        return;
    for (size_t k = 0; k < sizeof s_handlers / sizeof *s_handlers; k++)
        if (s_handlers[k].body == env->body_case) {
            s_handlers[k].handler (self, &m);
            return;
        }
    //  A reply body sent to us, or a request this version lacks.
    self->bad.count++;
    s_error (self, &m, HPO__ERROR_CODE__ERR_BAD_MESSAGE,
             "not a request this coordinator serves");
}

//  ---- life -------------------------------------------------------------

//  Opens the ROUTER, and the monitor that watches it for failed accepts.
static int
s_listen (hpo_server_t *self, char **error)
{
    self->ctx = hpo_sock_ctx_new (error);
    if (!self->ctx)
        return -1;
    hpo_keys_t keys;
    if (self->cfg.curve_secret) {
        //  The key check listens on the context before the socket binds,
        //  so no connection is ever made without it.
        assert (self->cfg.allow_dir);
        if (hpo_keys_load_secret (&keys, self->cfg.curve_secret, error) ||
            !(self->zap =
                  hpo_keys_zap_new (self->ctx, self->cfg.allow_dir, error)))
            return -1;
        self->name_keys = zhashx_new ();
        zhashx_set_destructor (self->name_keys,
                               (zhashx_destructor_fn *)zstr_free);
        zhashx_set_duplicator (self->name_keys, (zhashx_duplicator_fn *)strdup);
    }
    self->router =
        hpo_sock_open_keys (self->ctx, HPO_SOCK_SERVER, self->cfg.listen,
                            self->zap ? &keys : NULL, NULL, error);
    if (!self->router)
        return -1;
    //  When the process runs out of descriptors, libzmq retries accept()
    //  quietly; watch for that so the log says why workers cannot join.
    //  With keys, it also sees handshakes that fail before the key check:
    //  a peer without keys, or with another server's key.
    int events = ZMQ_EVENT_ACCEPT_FAILED;
    if (self->zap)
        events |= ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                  ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
    if (zmq_socket_monitor (self->router, "inproc://hpo-accept-monitor",
                            events) == 0) {
        self->monitor = zmq_socket (self->ctx, ZMQ_PAIR);
        int linger = 0;
        zmq_setsockopt (self->monitor, ZMQ_LINGER, &linger, sizeof linger);
        if (zmq_connect (self->monitor, "inproc://hpo-accept-monitor") != 0)
            hpo_sock_close (&self->monitor);
    }
    char endpoint[512];
    self->endpoint = hpo_strdup (
        hpo_sock_endpoint (self->router, endpoint, sizeof endpoint));
    return 0;
}

hpo_server_t *
hpo_server_new (const hpo_server_config_t *cfg, char **error)
{
    hpo_server_t *self = hpo_calloc (1, sizeof *self);
    self->cfg = *cfg;
    if (self->cfg.max_batch <= 0)
        self->cfg.max_batch = 4096;
    self->store = hpo_store_open (cfg->db_path, cfg->sync, error);
    if (!self->store) {
        hpo_server_destroy (&self);
        return NULL;
    }
    //  Workers that outlived a restart need a moment to notice it:
    //  reconnect (backing off to HPO_WIRE_RECONNECT_MAX_MS), be told the
    //  session is unknown on their next heartbeat, say Hello.
    hpo_sched_config_t sc = {
        .lease_ms = cfg->lease_ms,
        .heartbeat_ms = cfg->heartbeat_ms,
        .restart_grace_ms = cfg->lease_ms + HPO_WIRE_RECONNECT_MAX_MS +
                            HPO_WIRE_HELLO_MIN_MS + cfg->heartbeat_ms,
    };
    hpo_sched_events_t events = {self, s_on_assign, s_on_kill};
    self->now = hpo_clock_mono_ms ();
    self->sched = hpo_sched_new (self->store, &sc, &events, self->now);
    if (!self->sched) {
        *error = hpo_sprintf ("%s: cannot load the studies", cfg->db_path);
        hpo_server_destroy (&self);
        return NULL;
    }
    if (s_listen (self, error)) {
        hpo_server_destroy (&self);
        return NULL;
    }
    return self;
}

void
hpo_server_destroy (hpo_server_t **self_p)
{
    hpo_server_t *self = *self_p;
    if (!self)
        return;
    for (size_t k = 0; k < self->n_out; k++)
        free (self->out[k].data);
    free (self->out);
    free (self->owed);
    hpo_sock_close (&self->monitor);
    hpo_sock_close (&self->router);
    hpo_keys_zap_destroy (&self->zap);
    hpo_sock_ctx_destroy (&self->ctx);
    zhashx_destroy (&self->name_keys);
    hpo_store_backup_destroy (&self->backup);
    hpo_sched_destroy (&self->sched);
    hpo_store_destroy (&self->store);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

const char *
hpo_server_endpoint (hpo_server_t *self)
{
    return self->endpoint;
}

//  A connection refused before the key check (ZeroMQ does not say from
//  where): one without CURVE keys, or whose HELLO this server's key
//  cannot open (it was given another server's public key).
static void
s_on_handshake_failed (hpo_server_t *self, uint16_t id, uint32_t value)
{
    if (hpo_log_limit (&self->handshakes, self->now, 1000))
        hpo_log_warnx ("refused a connection: %s (%" PRIu64 " refused so far)",
                       value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
                           ? "it has no CURVE keys"
                       : id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                           ? "its handshake does not open with this "
                             "coordinator's key (a wrong --server-key?)"
                           : "its handshake broke off (no CURVE keys, or "
                             "a wrong --server-key?)",
                       self->handshakes.count);
}

//  Reads the monitor's events: each is two frames, the event (16-bit id,
//  32-bit value: errno here) and the endpoint.
static void
s_on_monitor (hpo_server_t *self)
{
    //  A few a turn: when descriptors run out, libzmq retries accept()
    //  in a tight loop and would keep this loop from serving anyone.
    for (int k = 0; k < 64; k++) {
        uint16_t id;
        uint32_t value;
        if (hpo_sock_event_recv (self->monitor, &id, &value) < 0)
            return;
        if (id != ZMQ_EVENT_ACCEPT_FAILED) {
            s_on_handshake_failed (self, id, value);
            continue;
        }
        if (hpo_log_limit (&self->accept_failed, self->now, 10000))
            hpo_log_error ("cannot accept connections: %s (%" PRIu64
                           " failures so far)%s",
                           strerror (value), self->accept_failed.count,
                           value == EMFILE || value == ENFILE
                               ? "; raise the open-file limit (ulimit -n, "
                                 "LimitNOFILE=)"
                               : "");
    }
}

//  Was the loop itself away since the last turn began: stopped
//  (SIGSTOP, a suspended VM) or held by a long turn? Its last turn
//  started at turn_at and it meant to wait at most timeout_ms; anything
//  past that, beyond a little, is the coordinator's own stall, and every
//  lease is extended by it so that no worker is blamed for it.
static void
s_away (hpo_server_t *self, long timeout_ms)
{
    int64_t threshold =
        self->cfg.lease_ms / 4 < S_AWAY_MS ? self->cfg.lease_ms / 4 : S_AWAY_MS;
    if (self->turn_at) {
        int64_t away = self->now - self->turn_at - timeout_ms;
        if (away > threshold)
            hpo_sched_shift (self->sched, away);
    }
    self->turn_at = self->now;
}

//  Reads and handles what is queued, up to a batch, until the store
//  fails. The batch's envelopes are decoded into one arena and dropped
//  together after it: no malloc and free per field. Returns 1 when the
//  queue was read to its end, 0 when messages were left for later.
static int
s_turn_read (hpo_server_t *self)
{
    int drained = 0;
    hpo_wire_peer_t peer;
    hpo_wire_arena_begin ();
    for (int k = 0; k < self->cfg.max_batch; k++) {
        hpo_wire_status_t status;
        hpo_env_t *env = hpo_wire_recv (self->router, &peer, &status);
        if (env) {
            s_handle (self, &peer, env);
            hpo_wire_free (&env);
        } else if (status != HPO_WIRE_OK)
            s_bad (self, &peer, status);
        else {
            drained = 1;
            break;
        }
        if (hpo_store_failed (self->store))
            break;
    }
    hpo_wire_arena_end ();
    return drained;
}

//  Whether leases may expire this turn. A message still waiting in the
//  queue may renew a lease (a heartbeat) or end it (a Finish): when a
//  burst of reports puts the loop more than a lease behind its queue, a
//  worker that did its part would lose its attempt to the coordinator's
//  own backlog. So leases expire only once the queue has been read to
//  its end, when every renewal sent in time has been seen. A loop that
//  stays behind for S_BEHIND_MAX_LEASES lease periods is overloaded, not
//  briefly behind, and expires leases anyway: a dead worker's trials must
//  not wait for the flood to end.
static int
s_may_expire (hpo_server_t *self, int drained)
{
    if (drained) {
        self->behind_since = 0;
        return 1;
    }
    if (!self->behind_since)
        self->behind_since = self->now;
    return self->now - self->behind_since >
           S_BEHIND_MAX_LEASES * self->cfg.lease_ms;
}

//  The end of a loop turn, after its messages were handled: leases
//  expire (when expire is set), trials are handed out, everything is
//  committed, and only then do the replies leave. Returns -1 if the store
//  failed: the turn is rolled back and nothing of it is answered.
static int
s_turn_end (hpo_server_t *self, int expire)
{
    //  A write that failed in this turn failed the store (store.h): what
    //  is left of the turn is skipped, and the commit refuses.
    if (!hpo_store_failed (self->store) &&
        (!expire || hpo_sched_expire (self->sched, self->now) == 0))
        hpo_sched_dispatch (self->sched, self->now);
    s_pay_acks (self);
    if (hpo_store_commit (self->store)) {
        //  Memory may be ahead of disk now; nothing of this turn is
        //  acknowledged, and the restart reloads what was committed.
        hpo_log_error ("the store failed; exiting so a restart reloads "
                       "the last committed state");
        return -1;
    }
    s_flush (self);
    return 0;
}

//  Copies a few pages of the backup under way, between turns (no
//  transaction is open); once it is complete or failed, answers whoever
//  asked for it.
static void
s_backup_step (hpo_server_t *self)
{
    char *error = NULL;
    int rc = hpo_store_backup_step (self->backup, S_BACKUP_PAGES, &error);
    if (rc == 0)
        return;
    hpo_wire_msg_t msg;
    if (rc > 0) {
        hpo_log_info ("backup complete");
        hpo_wire_ok (&msg, self->backup_seq, "backup complete");
    } else {
        hpo_log_error ("%s", error);
        hpo_wire_error (&msg, self->backup_seq, HPO__ERROR_CODE__ERR_INTERNAL,
                        error);
    }
    free (error);
    hpo_store_backup_destroy (&self->backup);
    s_reply (self, self->backup_rid, self->backup_rid_size, &msg);
    s_flush (self);
}

//  About once a second, the dashboard's live workers: the answer hpo
//  workers would get, encoded. s_timeout wakes the loop every second.
static void
s_publish_workers (hpo_server_t *self)
{
    if (self->now - self->workers_at < 1000)
        return;
    self->workers_at = self->now;
    hpo_wire_msg_t request, reply;
    hpo_wire_workers (&request, 0);
    hpo_query_answer (self->sched, self->store, &request.env, self->now,
                      &reply);
    size_t size;
    uint8_t *data = hpo_wire_encode (&reply.env, &size);
    self->workers_fn (self->workers_arg, data, size);
    free (data);
    hpo_wire_msg_done (&reply);
    hpo_wire_msg_done (&request);
}

void
hpo_server_publish_workers (hpo_server_t *self, hpo_server_workers_fn *fn,
                            void *arg)
{
    self->workers_fn = fn;
    self->workers_arg = arg;
}

//  How long the loop may wait for a message: until the next lease
//  deadline, and a second at most.
static long
s_timeout (hpo_server_t *self)
{
    if (self->backup)
        return 0; //  copy the next pages as soon as the turn allows
    int64_t now = hpo_clock_mono_ms ();
    int64_t next = hpo_sched_next_deadline (self->sched);
    if (next == INT64_MAX)
        return 1000;
    return next <= now ? 0 : next - now < 1000 ? (long)(next - now) : 1000;
}

int
hpo_server_run (hpo_server_t *self, volatile sig_atomic_t *stop)
{
    zmq_pollitem_t items[2] = {{self->router, 0, ZMQ_POLLIN, 0},
                               {self->monitor, 0, ZMQ_POLLIN, 0}};
    int n_items = self->monitor ? 2 : 1;
    while (!*stop) {
        long timeout = s_timeout (self);
        if (zmq_poll (items, n_items, timeout) < 0 && errno != EINTR) {
            hpo_log_warn ("zmq_poll");
            return -1;
        }
        self->now = hpo_clock_mono_ms ();
        s_away (self, timeout);
        if (n_items == 2 && (items[1].revents & ZMQ_POLLIN))
            s_on_monitor (self);
        hpo_store_begin (self->store);
        //  What is queued is read before anything expires: a heartbeat
        //  that waited in the queue while the loop was busy still counts.
        int drained = s_turn_read (self);
        if (s_turn_end (self, s_may_expire (self, drained)))
            return -1;
        if (self->backup)
            s_backup_step (self);
        if (self->workers_fn)
            s_publish_workers (self);
    }
    return 0;
}

//  ---- test hook ----------------------------------------------------------

//  One loop turn for one frame, as hpo_server_run would handle it had the
//  frame arrived from rid: begin, decode and handle, then the loop's own
//  turn end (expire, dispatch, commit, send), where each reply is shown to
//  tap (when not NULL) as it is sent. For fuzzers and tests, which drive
//  the handlers without sockets.
int
hpo_server_feed_tap (hpo_server_t *self, const uint8_t *rid, size_t rid_size,
                     const void *frame, size_t size, hpo_server_tap_fn *tap,
                     void *arg)
{
    self->now = hpo_clock_mono_ms ();
    hpo_store_begin (self->store);
    hpo_wire_peer_t peer = {.rid_size = 0};
    hpo_wire_status_t status = HPO_WIRE_BAD_PEER;
    hpo_env_t *env = NULL;
    hpo_wire_arena_begin ();
    //  A routing id too long to keep is refused as hpo_wire_recv does.
    if (rid_size <= HPO_WIRE_MAX_RID) {
        memcpy (peer.rid, rid, rid_size);
        peer.rid_size = rid_size;
        env = hpo_wire_decode (frame, size, &status);
    }
    if (env) {
        s_handle (self, &peer, env);
        hpo_wire_free (&env);
    } else
        s_bad (self, &peer, status);
    hpo_wire_arena_end ();
    self->tap = tap;
    self->tap_arg = arg;
    int rc = s_turn_end (self, 1);
    self->tap = NULL;
    return rc;
}

hpo_store_t *
hpo_server_store (hpo_server_t *self)
{
    return self->store;
}

int
hpo_server_feed (hpo_server_t *self, const uint8_t *rid, size_t rid_size,
                 const void *frame, size_t size)
{
    return hpo_server_feed_tap (self, rid, rid_size, frame, size, NULL, NULL);
}
