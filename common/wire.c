#include "wire.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "mem.h"
#include "utf8.h"

const char *
hpo_wire_status_str (hpo_wire_status_t status)
{
    switch (status) {
    case HPO_WIRE_OK:
        return "ok";
    case HPO_WIRE_TOO_LARGE:
        return "message too large";
    case HPO_WIRE_UNDECODABLE:
        return "message does not decode";
    case HPO_WIRE_BAD_VERSION:
        return "wrong protocol version";
    case HPO_WIRE_NO_BODY:
        return "message has no body";
    case HPO_WIRE_BAD_FRAMES:
        return "wrong number of frames";
    case HPO_WIRE_BAD_PEER:
        return "sender's identity too long";
    }
    return "unknown";
}

static size_t s_limit = HPO_WIRE_MAX_BYTES;

void
hpo_wire_set_limit (size_t max_bytes)
{
    s_limit = max_bytes;
}

size_t
hpo_wire_limit (void)
{
    return s_limit;
}

void
hpo_wire_init (hpo_env_t *env, uint64_t seq)
{
    hpo__envelope__init (env);
    env->version = HPO_WIRE_VERSION;
    env->seq = seq;
}

//  ---- the arena ----------------------------------------------------------

#define S_ARENA_CHUNK (256 * 1024)

typedef struct s_chunk_t {
    struct s_chunk_t *next;
    size_t size, used;
    max_align_t data[];
} s_chunk_t;

//  Per thread: the arena is the coordinator loop's, and another thread
//  (the dashboard's, decoding the worker list) must neither allocate in
//  it nor have its envelopes freed with it.
static _Thread_local s_chunk_t *s_chunks; //  newest first; the oldest is
                                          //  kept on reset
static _Thread_local int s_arena_on;

static s_chunk_t *
s_chunk_new (size_t size)
{
    s_chunk_t *chunk = hpo_malloc (sizeof *chunk + size);
    chunk->size = size;
    chunk->used = 0;
    chunk->next = s_chunks;
    s_chunks = chunk;
    return chunk;
}

static void *
s_arena_alloc (void *unused, size_t size)
{
    size_t align = sizeof (max_align_t);
    size = (size + align - 1) / align * align;
    s_chunk_t *chunk = s_chunks;
    if (!chunk || chunk->size - chunk->used < size)
        chunk = s_chunk_new (size > S_ARENA_CHUNK ? size : S_ARENA_CHUNK);
    void *p = (char *)chunk->data + chunk->used;
    chunk->used += size;
    return p;
}

static void
s_arena_free (void *unused, void *ptr)
{
}

static ProtobufCAllocator s_arena = {s_arena_alloc, s_arena_free, NULL};

void
hpo_wire_arena_begin (void)
{
    s_arena_on = 1;
}

void
hpo_wire_arena_end (void)
{
    s_arena_on = 0;
    //  Keep one chunk of the usual size for the next turn.
    s_chunk_t *keep = NULL;
    while (s_chunks) {
        s_chunk_t *next = s_chunks->next;
        if (!keep && s_chunks->size == S_ARENA_CHUNK)
            keep = s_chunks;
        else
            free (s_chunks);
        s_chunks = next;
    }
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
    s_chunks = keep;
}

hpo_env_t *
hpo_wire_decode (const void *data, size_t size, hpo_wire_status_t *status)
{
    if (size > s_limit) {
        *status = HPO_WIRE_TOO_LARGE;
        return NULL;
    }
    ProtobufCAllocator *alloc = s_arena_on ? &s_arena : NULL;
    hpo_env_t *env = hpo__envelope__unpack (alloc, size, data);
    if (!env) {
        *status = HPO_WIRE_UNDECODABLE;
        return NULL;
    }
    if (env->version != HPO_WIRE_VERSION) {
        hpo__envelope__free_unpacked (env, alloc);
        *status = HPO_WIRE_BAD_VERSION;
        return NULL;
    }
    if (env->body_case == HPO__ENVELOPE__BODY__NOT_SET) {
        hpo__envelope__free_unpacked (env, alloc);
        *status = HPO_WIRE_NO_BODY;
        return NULL;
    }
    *status = HPO_WIRE_OK;
    return env;
}

void
hpo_wire_free (hpo_env_t **env_p)
{
    if (*env_p) {
        if (!s_arena_on)
            hpo__envelope__free_unpacked (*env_p, NULL);
        *env_p = NULL;
    }
}

uint8_t *
hpo_wire_encode (const hpo_env_t *env, size_t *size)
{
    *size = hpo__envelope__get_packed_size (env);
    uint8_t *buf = hpo_malloc (*size);
    hpo__envelope__pack (env, buf);
    return buf;
}

static void
s_free_buf (void *data, void *hint)
{
    free (data);
}

int
hpo_wire_send (void *socket, const void *rid, size_t rid_size,
               const hpo_env_t *env)
{
    if (rid && zmq_send (socket, rid, rid_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    size_t size;
    uint8_t *buf = hpo_wire_encode (env, &size);
    zmq_msg_t msg;
    zmq_msg_init_data (&msg, buf, size, s_free_buf, NULL);
    if (zmq_msg_send (&msg, socket, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&msg);
        return -1;
    }
    return 0;
}

//  Reads and discards the rest of a multipart message.
static void
s_drain (void *socket)
{
    int more = 1;
    size_t more_size = sizeof more;
    while (zmq_getsockopt (socket, ZMQ_RCVMORE, &more, &more_size) == 0 &&
           more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, socket, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&part);
            break;
        }
        zmq_msg_close (&part);
    }
}

static int
s_has_more (void *socket)
{
    int more = 0;
    size_t more_size = sizeof more;
    zmq_getsockopt (socket, ZMQ_RCVMORE, &more, &more_size);
    return more;
}

//  Reads the routing id frame into peer. Returns 0, or -1 with *status
//  set (nothing waiting: HPO_WIRE_OK).
static int
s_recv_rid (void *socket, hpo_wire_peer_t *peer, hpo_wire_status_t *status)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    if (zmq_msg_recv (&msg, socket, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&msg);
        return -1;
    }
    //  libzmq's ids are at most 255 bytes; one longer cannot be kept, so
    //  the message is dropped and its sender cannot be answered.
    size_t n = zmq_msg_size (&msg);
    if (n <= HPO_WIRE_MAX_RID) {
        memcpy (peer->rid, zmq_msg_data (&msg), n);
        peer->rid_size = n;
    }
    zmq_msg_close (&msg);
    if (n > HPO_WIRE_MAX_RID) {
        s_drain (socket);
        *status = HPO_WIRE_BAD_PEER;
        return -1;
    }
    if (!s_has_more (socket)) {
        *status = HPO_WIRE_BAD_FRAMES;
        return -1;
    }
    return 0;
}

//  Copies the connection's properties from msg into peer. Returns 0, or
//  -1 if the User-Id is too long to keep whole (an identity cut short
//  could name someone else).
static int
s_peer_props (zmq_msg_t *msg, hpo_wire_peer_t *peer)
{
    const char *user = zmq_msg_gets (msg, "User-Id");
    const char *address = zmq_msg_gets (msg, "Peer-Address");
    if (address) {
        //  Cut to fit: the address only names the peer in logs. No
        //  snprintf: this runs for every message the coordinator reads.
        size_t n = strnlen (address, sizeof peer->address - 1);
        memcpy (peer->address, address, n);
        peer->address[n] = '\0';
    }
    if (!user)
        return 0;
    size_t n = strlen (user);
    if (n > HPO_WIRE_MAX_PROP)
        return -1;
    memcpy (peer->user_id, user, n + 1);
    return 0;
}

hpo_env_t *
hpo_wire_recv (void *socket, hpo_wire_peer_t *peer, hpo_wire_status_t *status)
{
    *status = HPO_WIRE_OK;
    if (peer) {
        peer->rid_size = 0;
        peer->user_id[0] = '\0';
        peer->address[0] = '\0';
        if (s_recv_rid (socket, peer, status))
            return NULL;
    }
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    if (zmq_msg_recv (&msg, socket, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&msg);
        if (peer)
            *status = HPO_WIRE_BAD_FRAMES;
        return NULL;
    }
    hpo_env_t *env = NULL;
    if (s_has_more (socket)) {
        s_drain (socket);
        *status = HPO_WIRE_BAD_FRAMES;
    } else if (peer && s_peer_props (&msg, peer))
        *status = HPO_WIRE_BAD_PEER;
    else
        env =
            hpo_wire_decode (zmq_msg_data (&msg), zmq_msg_size (&msg), status);
    zmq_msg_close (&msg);
    return env;
}

Hpo__Param **
hpo_wire_params_new (char *const *names, const hpo_value_t *values, size_t n)
{
    Hpo__Param **params = hpo_calloc (n, sizeof (Hpo__Param *));
    for (size_t k = 0; k < n; k++) {
        Hpo__Param *p = hpo_malloc (sizeof *p);
        hpo__param__init (p);
        p->name = names[k];
        p->kind = values[k].kind;
        p->f = values[k].f;
        p->i = values[k].i;
        if (values[k].kind == HPO_KIND_STR && values[k].s)
            p->s = values[k].s;
        params[k] = p;
    }
    return params;
}

void
hpo_wire_params_free (Hpo__Param **params, size_t n)
{
    //  The strings are borrowed from the caller's arrays.
    for (size_t k = 0; k < n; k++)
        free (params[k]);
    free (params);
}

int
hpo_wire_param_get (const Hpo__Param *param, hpo_value_t *value)
{
    memset (value, 0, sizeof *value);
    switch (param->kind) {
    case HPO_KIND_FLOAT:
        value->kind = HPO_KIND_FLOAT;
        value->f = param->f;
        return 0;
    case HPO_KIND_INT:
        value->kind = HPO_KIND_INT;
        value->i = param->i;
        value->f = (double)param->i;
        return 0;
    case HPO_KIND_STR:
        value->kind = HPO_KIND_STR;
        value->s = hpo_strdup (param->s ? param->s : "");
        return 0;
    case HPO_KIND_NONE:
        //  Absent from this trial: a kind 0 that carries a value is not
        //  that, but a sender that forgot to set the kind.
        value->kind = HPO_KIND_NONE;
        return param->f == 0 && param->i == 0 && (!param->s || !*param->s) ? 0
                                                                           : -1;
    }
    return -1;
}

//  ---- outgoing messages ----------------------------------------------------

//  A borrowed string for a protobuf field; NULL is the field's default.
static char *
s_str (const char *s)
{
    return s ? (char *)s : (char *)protobuf_c_empty_string;
}

//  Starts msg as an envelope with body case and body (inside msg).
static void
s_msg_init (hpo_wire_msg_t *msg, uint64_t seq, Hpo__Envelope__BodyCase body)
{
    memset (msg, 0, sizeof *msg);
    hpo_wire_init (&msg->env, seq);
    msg->env.body_case = body;
}

void
hpo_wire_msg_done (hpo_wire_msg_t *msg)
{
    free (msg->items);
    free (msg->ptrs);
    if (msg->params)
        hpo_wire_params_free (msg->params, msg->env.assign->n_params);
    free (msg->text);
    if (msg->release)
        msg->release (msg->owned);
    msg->items = NULL;
    msg->ptrs = NULL;
    msg->params = NULL;
    msg->text = NULL;
    msg->release = NULL;
    msg->n = msg->cap = 0;
}

void
hpo_wire_msg_own (hpo_wire_msg_t *msg, void (*release) (void *owned),
                  void *owned)
{
    assert (!msg->release);
    msg->release = release;
    msg->owned = owned;
}

void
hpo_wire_msg_acks (hpo_wire_msg_t *msg, uint64_t *acks, size_t n)
{
    msg->env.n_acks = n;
    msg->env.acks = acks;
}

//  A new item of size bytes at the end of msg's repeated field; the
//  pointer array is rebuilt when the items move.
static void *
s_msg_item (hpo_wire_msg_t *msg, size_t size)
{
    if (msg->n == msg->cap) {
        msg->cap = msg->cap ? msg->cap * 2 : 8;
        msg->items = hpo_realloc (msg->items, msg->cap * size);
        msg->ptrs = hpo_realloc (msg->ptrs, msg->cap * sizeof (void *));
        for (size_t k = 0; k < msg->n; k++)
            msg->ptrs[k] = (char *)msg->items + k * size;
    }
    void *item = (char *)msg->items + msg->n * size;
    msg->ptrs[msg->n++] = item;
    return item;
}

void
hpo_wire_lease_add (hpo_wire_msg_t *msg, uint64_t trial_id, uint32_t attempt)
{
    Hpo__Lease *lease = s_msg_item (msg, sizeof *lease);
    hpo__lease__init (lease);
    lease->trial_id = trial_id;
    lease->attempt = attempt;
    Hpo__Lease **ptrs = (Hpo__Lease **)msg->ptrs;
    switch (msg->env.body_case) {
    case HPO__ENVELOPE__BODY_HELLO:
        msg->body.hello.n_leases = msg->n;
        msg->body.hello.leases = ptrs;
        break;
    case HPO__ENVELOPE__BODY_HEARTBEAT:
        msg->body.heartbeat.n_leases = msg->n;
        msg->body.heartbeat.leases = ptrs;
        break;
    case HPO__ENVELOPE__BODY_GOODBYE:
        msg->body.goodbye.n_leases = msg->n;
        msg->body.goodbye.leases = ptrs;
        break;
    case HPO__ENVELOPE__BODY_WELCOME:
        msg->body.welcome.n_refused = msg->n;
        msg->body.welcome.refused = ptrs;
        break;
    default:
        assert (!"this message has no leases");
    }
}

void
hpo_wire_metric_add (hpo_wire_msg_t *msg, const char *name, double value)
{
    Hpo__Metric *metric = s_msg_item (msg, sizeof *metric);
    hpo__metric__init (metric);
    metric->name = s_str (name);
    metric->value = value;
    if (msg->env.body_case == HPO__ENVELOPE__BODY_CLIENT_REPORT) {
        msg->body.client_report.n_metrics = msg->n;
        msg->body.client_report.metrics = (Hpo__Metric **)msg->ptrs;
        return;
    }
    assert (msg->env.body_case == HPO__ENVELOPE__BODY_REPORT);
    msg->body.report.n_metrics = msg->n;
    msg->body.report.metrics = (Hpo__Metric **)msg->ptrs;
}

void
hpo_wire_hello (hpo_wire_msg_t *msg, uint64_t seq, const char *name,
                const char *host, uint32_t slots, uint32_t pid,
                uint64_t incarnation, uint64_t started_us)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_HELLO);
    Hpo__Hello *hello = &msg->body.hello;
    hpo__hello__init (hello);
    hello->name = s_str (name);
    hello->host = s_str (host);
    hello->slots = slots;
    hello->pid = pid;
    hello->incarnation = incarnation;
    hello->started_us = started_us;
    msg->env.hello = hello;
}

void
hpo_wire_heartbeat (hpo_wire_msg_t *msg, uint64_t seq, uint32_t free_slots)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_HEARTBEAT);
    hpo__heartbeat__init (&msg->body.heartbeat);
    msg->body.heartbeat.free = free_slots;
    msg->env.heartbeat = &msg->body.heartbeat;
}

void
hpo_wire_report (hpo_wire_msg_t *msg, uint64_t seq, uint64_t trial_id,
                 uint32_t attempt, int has_step, int64_t step)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_REPORT);
    Hpo__Report *report = &msg->body.report;
    hpo__report__init (report);
    report->trial_id = trial_id;
    report->attempt = attempt;
    report->has_step = has_step != 0;
    report->step = step;
    msg->env.report = report;
}

void
hpo_wire_finish (hpo_wire_msg_t *msg, uint64_t seq,
                 const hpo_wire_finish_t *finish)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_FINISH);
    Hpo__Finish *f = &msg->body.finish;
    hpo__finish__init (f);
    f->trial_id = finish->trial_id;
    f->attempt = finish->attempt;
    f->outcome = finish->outcome;
    f->has_value = finish->has_value != 0;
    f->value = finish->value;
    f->reason = s_str (finish->reason);
    f->log_tail = s_str (finish->log_tail);
    f->exit_status = finish->exit_status;
    f->runtime_s = finish->runtime_s;
    f->asks = finish->asks != 0;
    f->free = finish->free;
    f->permanent = finish->permanent != 0;
    msg->env.finish = f;
}

void
hpo_wire_goodbye (hpo_wire_msg_t *msg, uint64_t seq, const char *reason)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_GOODBYE);
    hpo__goodbye__init (&msg->body.goodbye);
    msg->body.goodbye.reason = s_str (reason);
    msg->env.goodbye = &msg->body.goodbye;
}

void
hpo_wire_welcome (hpo_wire_msg_t *msg, uint64_t seq, uint32_t heartbeat_ms,
                  uint32_t lease_ms)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_WELCOME);
    Hpo__Welcome *welcome = &msg->body.welcome;
    hpo__welcome__init (welcome);
    welcome->heartbeat_ms = heartbeat_ms;
    welcome->lease_ms = lease_ms;
    msg->env.welcome = welcome;
}

void
hpo_wire_assign (hpo_wire_msg_t *msg, uint64_t seq,
                 const hpo_wire_assign_t *assign)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_ASSIGN);
    Hpo__Assign *a = &msg->body.assign;
    hpo__assign__init (a);
    a->trial_id = assign->trial_id;
    a->attempt = assign->attempt;
    a->study = s_str (assign->study);
    a->number = assign->number;
    a->command = s_str (assign->command);
    a->shell = assign->shell != 0;
    a->n_params = assign->n_params;
    msg->params =
        hpo_wire_params_new (assign->names, assign->values, assign->n_params);
    a->params = msg->params;
    a->objective = s_str (assign->objective);
    a->timeout_ms = assign->timeout_ms;
    a->grace_ms = assign->grace_ms;
    a->workdir = s_str (assign->workdir);
    //  Borrowed, like every string here: packing only reads them.
    a->n_env = assign->n_env;
    a->env = (char **)assign->env;
    a->metrics_source = s_str (assign->metrics_source);
    a->metrics_pattern = s_str (assign->metrics_pattern);
    a->n_gpus = assign->n_gpus;
    a->gpus = (uint32_t *)assign->gpus;
    a->cpus = assign->cpus;
    msg->env.assign = a;
}

void
hpo_wire_hello_resources (hpo_wire_msg_t *msg, Hpo__Gpu *const *gpus,
                          size_t n_gpus, uint32_t cpus)
{
    assert (msg->env.body_case == HPO__ENVELOPE__BODY_HELLO);
    msg->body.hello.n_gpus = n_gpus;
    msg->body.hello.gpus = (Hpo__Gpu **)gpus;
    msg->body.hello.cpus = cpus;
}

void
hpo_wire_busy_gpus (hpo_wire_msg_t *msg, const uint32_t *gpus, size_t n)
{
    uint32_t *busy = (uint32_t *)gpus;
    switch (msg->env.body_case) {
    case HPO__ENVELOPE__BODY_HELLO:
        msg->body.hello.n_busy_gpus = n;
        msg->body.hello.busy_gpus = busy;
        break;
    case HPO__ENVELOPE__BODY_HEARTBEAT:
        msg->body.heartbeat.n_busy_gpus = n;
        msg->body.heartbeat.busy_gpus = busy;
        break;
    case HPO__ENVELOPE__BODY_FINISH:
        msg->body.finish.n_busy_gpus = n;
        msg->body.finish.busy_gpus = busy;
        break;
    default:
        assert (!"busy GPUs go in a Hello, Heartbeat or Finish");
    }
}

void
hpo_wire_ack (hpo_wire_msg_t *msg, uint64_t seq)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_ACK);
    hpo__ack__init (&msg->body.ack);
    msg->env.ack = &msg->body.ack;
}

void
hpo_wire_kill (hpo_wire_msg_t *msg, uint64_t seq, uint64_t trial_id,
               uint32_t attempt, const char *reason)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_KILL);
    Hpo__Kill *kill = &msg->body.kill;
    hpo__kill__init (kill);
    kill->trial_id = trial_id;
    kill->attempt = attempt;
    kill->reason = s_str (reason);
    msg->env.kill = kill;
}

void
hpo_wire_error (hpo_wire_msg_t *msg, uint64_t seq, Hpo__ErrorCode code,
                const char *message)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_ERROR);
    hpo__error__init (&msg->body.error);
    msg->body.error.code = code;
    msg->text = hpo_utf8_clean (message, 4096);
    msg->body.error.message = msg->text;
    msg->env.error = &msg->body.error;
}

void
hpo_wire_ok (hpo_wire_msg_t *msg, uint64_t seq, const char *message)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_OK);
    hpo__ok__init (&msg->body.ok);
    msg->body.ok.message = s_str (message);
    msg->env.ok = &msg->body.ok;
}

void
hpo_wire_study_create (hpo_wire_msg_t *msg, uint64_t seq, const char *filename,
                       const char *spec)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_STUDY_CREATE);
    hpo__study_create__init (&msg->body.study_create);
    msg->body.study_create.filename = s_str (filename);
    msg->body.study_create.spec = s_str (spec);
    msg->env.study_create = &msg->body.study_create;
}

void
hpo_wire_study_derive (hpo_wire_msg_t *msg, uint64_t seq, const char *spec)
{
    hpo_wire_study_create (msg, seq, "refine", spec);
    msg->body.study_create.derive = 1;
}

//  The requests that name a study: show, stop, best.
static Hpo__StudyRef *
s_study_ref (hpo_wire_msg_t *msg, uint64_t seq, Hpo__Envelope__BodyCase body,
             const char *name)
{
    s_msg_init (msg, seq, body);
    hpo__study_ref__init (&msg->body.study_ref);
    msg->body.study_ref.name = s_str (name);
    return &msg->body.study_ref;
}

void
hpo_wire_study_show (hpo_wire_msg_t *msg, uint64_t seq, const char *name)
{
    msg->env.study_show =
        s_study_ref (msg, seq, HPO__ENVELOPE__BODY_STUDY_SHOW, name);
}

void
hpo_wire_study_stop (hpo_wire_msg_t *msg, uint64_t seq, const char *name,
                     int now)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_STUDY_STOP);
    hpo__study_stop__init (&msg->body.study_stop);
    msg->body.study_stop.name = s_str (name);
    msg->body.study_stop.now = now != 0;
    msg->env.study_stop = &msg->body.study_stop;
}

void
hpo_wire_study_extend (hpo_wire_msg_t *msg, uint64_t seq, const char *name,
                       uint64_t trials)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_STUDY_EXTEND);
    hpo__study_extend__init (&msg->body.study_extend);
    msg->body.study_extend.name = s_str (name);
    msg->body.study_extend.trials = trials;
    msg->env.study_extend = &msg->body.study_extend;
}

void
hpo_wire_study_resume (hpo_wire_msg_t *msg, uint64_t seq, const char *name)
{
    msg->env.study_resume =
        s_study_ref (msg, seq, HPO__ENVELOPE__BODY_STUDY_RESUME, name);
}

void
hpo_wire_trial_retry (hpo_wire_msg_t *msg, uint64_t seq, const char *study,
                      uint64_t *numbers, size_t n, int failed)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_TRIAL_RETRY);
    Hpo__TrialRetry *retry = &msg->body.trial_retry;
    hpo__trial_retry__init (retry);
    retry->study = s_str (study);
    retry->numbers = numbers;
    retry->n_numbers = n;
    retry->failed = failed != 0;
    msg->env.trial_retry = retry;
}

void
hpo_wire_study_delete (hpo_wire_msg_t *msg, uint64_t seq, const char *name)
{
    msg->env.study_delete =
        s_study_ref (msg, seq, HPO__ENVELOPE__BODY_STUDY_DELETE, name);
}

void
hpo_wire_best (hpo_wire_msg_t *msg, uint64_t seq, const char *name)
{
    msg->env.best = s_study_ref (msg, seq, HPO__ENVELOPE__BODY_BEST, name);
}

void
hpo_wire_study_list (hpo_wire_msg_t *msg, uint64_t seq)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_STUDY_LIST);
    hpo__study_list__init (&msg->body.study_list);
    msg->env.study_list = &msg->body.study_list;
}

void
hpo_wire_trials (hpo_wire_msg_t *msg, uint64_t seq, const char *study,
                 const char *state, uint64_t after, uint32_t limit)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_TRIALS);
    Hpo__TrialsQuery *q = &msg->body.trials;
    hpo__trials_query__init (q);
    q->study = s_str (study);
    q->state = s_str (state);
    q->after = after;
    q->limit = limit;
    msg->env.trials = q;
}

void
hpo_wire_trials_export (hpo_wire_msg_t *msg, uint64_t seq, const char *study,
                        uint64_t after, uint64_t values_after, int metrics,
                        int curves)
{
    hpo_wire_trials (msg, seq, study, "", after, 0);
    msg->body.trials.values_after = values_after;
    msg->body.trials.metrics = metrics != 0;
    msg->body.trials.curves = curves != 0;
}

void
hpo_wire_trials_report (hpo_wire_msg_t *msg, uint64_t seq, const char *study,
                        uint64_t after, uint64_t values_after)
{
    hpo_wire_trials_export (msg, seq, study, after, values_after, 0, 1);
    msg->body.trials.attempts = 1;
}

void
hpo_wire_trial_show (hpo_wire_msg_t *msg, uint64_t seq, const char *study,
                     uint64_t number)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_TRIAL_SHOW);
    hpo__trial_ref__init (&msg->body.trial_ref);
    msg->body.trial_ref.study = s_str (study);
    msg->body.trial_ref.number = number;
    msg->env.trial_show = &msg->body.trial_ref;
}

void
hpo_wire_workers (hpo_wire_msg_t *msg, uint64_t seq)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_WORKERS);
    hpo__workers_query__init (&msg->body.workers);
    msg->env.workers = &msg->body.workers;
}

void
hpo_wire_ask (hpo_wire_msg_t *msg, uint64_t seq, const char *study)
{
    msg->env.ask = s_study_ref (msg, seq, HPO__ENVELOPE__BODY_ASK, study);
}

void
hpo_wire_tell (hpo_wire_msg_t *msg, uint64_t seq, const char *study,
               uint64_t number, const char *state, int has_value, double value)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_TELL);
    Hpo__Tell *tell = &msg->body.tell;
    hpo__tell__init (tell);
    tell->study = s_str (study);
    tell->number = number;
    tell->state = s_str (state);
    tell->has_value = has_value != 0;
    tell->value = value;
    msg->env.tell = tell;
}

void
hpo_wire_client_report (hpo_wire_msg_t *msg, uint64_t seq, const char *study,
                        uint64_t number, int64_t step)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_CLIENT_REPORT);
    Hpo__ClientReport *report = &msg->body.client_report;
    hpo__client_report__init (report);
    report->study = s_str (study);
    report->number = number;
    report->step = step;
    msg->env.client_report = report;
}

void
hpo_wire_enqueue (hpo_wire_msg_t *msg, uint64_t seq, const char *study,
                  char **params, size_t n)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_ENQUEUE);
    Hpo__Enqueue *enqueue = &msg->body.enqueue;
    hpo__enqueue__init (enqueue);
    enqueue->study = s_str (study);
    enqueue->params = params;
    enqueue->n_params = n;
    msg->env.enqueue = enqueue;
}

void
hpo_wire_report_answer (hpo_wire_msg_t *msg, uint64_t seq, int prune,
                        const char *message)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_REPORT_ANSWER);
    hpo__report_answer__init (&msg->body.report_answer);
    msg->body.report_answer.prune = prune != 0;
    msg->body.report_answer.message = s_str (message);
    msg->env.report_answer = &msg->body.report_answer;
}

void
hpo_wire_admin_backup (hpo_wire_msg_t *msg, uint64_t seq, const char *path)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_ADMIN_BACKUP);
    hpo__admin_backup__init (&msg->body.admin_backup);
    msg->body.admin_backup.path = s_str (path);
    msg->env.admin_backup = &msg->body.admin_backup;
}

void
hpo_wire_study_info (hpo_wire_msg_t *msg, uint64_t seq, Hpo__StudyInfo *info)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_STUDY_INFO);
    msg->env.study_info = info;
}

void
hpo_wire_study_list_answer (hpo_wire_msg_t *msg, uint64_t seq,
                            Hpo__StudyList *list)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_STUDY_LIST);
    msg->env.study_list = list;
}

void
hpo_wire_trial_list (hpo_wire_msg_t *msg, uint64_t seq, Hpo__TrialList *list)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_TRIAL_LIST);
    msg->env.trial_list = list;
}

void
hpo_wire_trial_info (hpo_wire_msg_t *msg, uint64_t seq, Hpo__TrialInfo *info)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_TRIAL_INFO);
    msg->env.trial_info = info;
}

void
hpo_wire_worker_list (hpo_wire_msg_t *msg, uint64_t seq, Hpo__WorkerList *list)
{
    s_msg_init (msg, seq, HPO__ENVELOPE__BODY_WORKER_LIST);
    msg->env.worker_list = list;
}
