/*  wire.h: the only place protobuf is packed or unpacked. Every message is
    one hpo.Envelope (proto/hpo.proto) in one ZeroMQ frame; on the
    coordinator's ROUTER the frame is preceded by the peer's routing id.

    Nothing that arrives is trusted: hpo_wire_decode checks size, that it
    decodes, the version, and that a body is set, and says which check
    failed. Handlers then check the fields they use.                      */
#ifndef HPO_WIRE_H
#define HPO_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "hpo.pb-c.h"
#include "value.h"

#define HPO_WIRE_VERSION 1
//  Largest envelope accepted; a study file or a log tail fits many times.
#define HPO_WIRE_MAX_BYTES (4u << 20)
//  Largest routing id a ROUTER hands us (libzmq's limit is 255).
#define HPO_WIRE_MAX_RID 256
//  Longest connection property kept (User-Id, Peer-Address), in bytes.
#define HPO_WIRE_MAX_PROP 255

//  Longest a worker waits between attempts to reconnect, and shortest
//  between two Hellos. A restarted coordinator holds running trials for
//  a lease period plus these, so every worker that outlived it can come
//  back and claim its trials before they are declared lost.
#define HPO_WIRE_RECONNECT_MAX_MS 5000
#define HPO_WIRE_HELLO_MIN_MS 1000

typedef Hpo__Envelope hpo_env_t;

typedef enum {
    HPO_WIRE_OK = 0,
    HPO_WIRE_TOO_LARGE,
    HPO_WIRE_UNDECODABLE,
    HPO_WIRE_BAD_VERSION,
    HPO_WIRE_NO_BODY,
    HPO_WIRE_BAD_FRAMES, //  wrong number of frames
    HPO_WIRE_BAD_PEER,   //  routing id or User-Id longer than we keep
} hpo_wire_status_t;

const char *hpo_wire_status_str (hpo_wire_status_t status);

//  Largest envelope this process decodes: HPO_WIRE_MAX_BYTES unless
//  raised. Requests to the coordinator stay small, but a client asking for
//  every trial of a large study receives much more.
void hpo_wire_set_limit (size_t max_bytes);
size_t hpo_wire_limit (void);

//  Initialises env as an empty envelope of the current version.
void hpo_wire_init (hpo_env_t *env, uint64_t seq);

//  Decodes one frame. Returns a new envelope (free with hpo_wire_free), or
//  NULL with *status saying why.
hpo_env_t *hpo_wire_decode (const void *data, size_t size,
                            hpo_wire_status_t *status);
void hpo_wire_free (hpo_env_t **env_p);

//  Decoding into an arena. Between hpo_wire_arena_begin and
//  hpo_wire_arena_end, envelopes the calling thread decodes take their
//  memory from one arena instead of a malloc per field, hpo_wire_free only
//  forgets them, and hpo_wire_arena_end releases them all at once. Every
//  envelope decoded in between must be dropped before hpo_wire_arena_end.
//  The arena is the calling thread's own (the coordinator's loop turn):
//  other threads decode and free with malloc meanwhile.
void hpo_wire_arena_begin (void);
void hpo_wire_arena_end (void);

//  Packs env into a new buffer of *size bytes; caller frees.
uint8_t *hpo_wire_encode (const hpo_env_t *env, size_t *size);

//  Sends env on a DEALER (rid NULL) or to a peer of a ROUTER. Never
//  blocks: returns 0, or -1 when the message could not be queued (peer
//  gone, high-water mark reached).
int hpo_wire_send (void *socket, const void *rid, size_t rid_size,
                   const hpo_env_t *env);

//  Who sent a message to a ROUTER: the routing id replies go back to, and
//  what ZeroMQ says of the connection, so a handler can tell who is
//  speaking once connections are authenticated (CURVE keys, issue #13).
typedef struct {
    uint8_t rid[HPO_WIRE_MAX_RID];
    size_t rid_size; //  0: no routing id (the sender cannot be answered)
    //  The "User-Id" property: the identity the ZAP handler gave the
    //  connection (a CURVE client's public key); "" without one.
    char user_id[HPO_WIRE_MAX_PROP + 1];
    //  The "Peer-Address" property: the remote address, for logs; ""
    //  when unknown (inproc), cut to HPO_WIRE_MAX_PROP bytes.
    char address[HPO_WIRE_MAX_PROP + 1];
} hpo_wire_peer_t;

//  Receives one message without blocking. On a ROUTER, peer receives the
//  sender; pass peer NULL on a DEALER. Returns the envelope, or NULL:
//  *status HPO_WIRE_OK means nothing was waiting, anything else a bad
//  message that was read and dropped (peer is still filled as far as it
//  is known, so the sender can be told; rid_size 0 if it cannot be).
hpo_env_t *hpo_wire_recv (void *socket, hpo_wire_peer_t *peer,
                          hpo_wire_status_t *status);

//  ---- outgoing messages ---------------------------------------------------
//
//  Every message hpo sends is built by one constructor below, so no
//  caller fills a protobuf struct by hand: a constructor initialises msg
//  as a whole envelope (version, seq, body), and the message is then sent
//  (hpo_wire_send), or encoded (hpo_wire_encode), through &msg->env, and
//  released with hpo_wire_msg_done. Strings and arrays passed in are
//  borrowed: they must outlive the send or encode (a NULL string is sent
//  as the empty one). A message points into itself, so it is never
//  copied or moved; its members belong to this module.

typedef struct {
    hpo_env_t env;
    union {
        Hpo__Hello hello;
        Hpo__Heartbeat heartbeat;
        Hpo__Report report;
        Hpo__Finish finish;
        Hpo__Goodbye goodbye;
        Hpo__Welcome welcome;
        Hpo__Assign assign;
        Hpo__Ack ack;
        Hpo__Kill kill;
        Hpo__Error error;
        Hpo__Ok ok;
        Hpo__StudyCreate study_create;
        Hpo__StudyRef study_ref;
        Hpo__StudyStop study_stop;
        Hpo__StudyExtend study_extend;
        Hpo__TrialRetry trial_retry;
        Hpo__StudyList study_list;
        Hpo__TrialsQuery trials;
        Hpo__TrialRef trial_ref;
        Hpo__WorkersQuery workers;
        Hpo__Tell tell;
        Hpo__ClientReport client_report;
        Hpo__ReportAnswer report_answer;
        Hpo__Enqueue enqueue;
        Hpo__AdminBackup admin_backup;
    } body;
    //  The body's one repeated field being filled (leases or metrics):
    //  items, and the pointer array protobuf-c packs, both owned.
    void *items;
    void **ptrs;
    size_t n, cap;
    Hpo__Param **params; //  an Assign's, owned
    char *text;          //  an Error's cleaned message, owned
    void (*release) (void *owned);
    void *owned;
} hpo_wire_msg_t;

//  Releases what a constructor or hpo_wire_lease_add allocated, and what
//  hpo_wire_msg_own handed msg.
void hpo_wire_msg_done (hpo_wire_msg_t *msg);

//  Hands msg something to release with it (an answer's body, built by
//  the caller): hpo_wire_msg_done calls release (owned). One per message.
void hpo_wire_msg_own (hpo_wire_msg_t *msg, void (*release) (void *owned),
                       void *owned);

//  Acknowledgements any message may carry (borrowed, n of them).
void hpo_wire_msg_acks (hpo_wire_msg_t *msg, uint64_t *acks, size_t n);

//  Appends a lease to a Hello's, Heartbeat's or Goodbye's leases, or to a
//  Welcome's refused ones.
void hpo_wire_lease_add (hpo_wire_msg_t *msg, uint64_t trial_id,
                         uint32_t attempt);
//  Appends a metric to a Report or a ClientReport.
void hpo_wire_metric_add (hpo_wire_msg_t *msg, const char *name, double value);

//  A worker's messages.
void hpo_wire_hello (hpo_wire_msg_t *msg, uint64_t seq, const char *name,
                     const char *host, uint32_t slots, uint32_t pid,
                     uint64_t incarnation, uint64_t started_us);
void hpo_wire_heartbeat (hpo_wire_msg_t *msg, uint64_t seq,
                         uint32_t free_slots);
//  A Hello's resources: the worker's GPUs (n_gpus, borrowed) and CPUs.
void hpo_wire_hello_resources (hpo_wire_msg_t *msg, Hpo__Gpu *const *gpus,
                               size_t n_gpus, uint32_t cpus);
//  The GPU indices a live process group of the worker holds (n, borrowed),
//  in a Hello, Heartbeat or Finish.
void hpo_wire_busy_gpus (hpo_wire_msg_t *msg, const uint32_t *gpus, size_t n);
void hpo_wire_report (hpo_wire_msg_t *msg, uint64_t seq, uint64_t trial_id,
                      uint32_t attempt, int has_step, int64_t step);
//  What a Finish says, field by field as in proto/hpo.proto.
typedef struct {
    uint64_t trial_id;
    uint32_t attempt;
    Hpo__Outcome outcome;
    int has_value;
    double value;
    const char *reason;   //  NULL: none
    const char *log_tail; //  NULL: none
    int32_t exit_status;  //  raw wait status, -1 if unknown
    double runtime_s;
    int asks; //  asks for work in the same message
    uint32_t free;
    int permanent; //  the failure cannot change on a retry
} hpo_wire_finish_t;
void hpo_wire_finish (hpo_wire_msg_t *msg, uint64_t seq,
                      const hpo_wire_finish_t *finish);
void hpo_wire_goodbye (hpo_wire_msg_t *msg, uint64_t seq, const char *reason);

//  The coordinator's messages to a worker.
void hpo_wire_welcome (hpo_wire_msg_t *msg, uint64_t seq, uint32_t heartbeat_ms,
                       uint32_t lease_ms);
//  What an Assign says; params are n names and values in spec order.
typedef struct {
    uint64_t trial_id;
    uint32_t attempt;
    const char *study;
    uint64_t number;
    const char *command;
    int shell;
    char *const *names;
    const hpo_value_t *values;
    size_t n_params;
    const char *objective;
    uint64_t timeout_ms;
    uint64_t grace_ms;
    const char *workdir; //  NULL or "": the worker's directory
    char *const *env;    //  n_env "NAME=VALUE" strings
    size_t n_env;
    //  Assign.metrics_source and metrics_pattern; NULL: "".
    const char *metrics_source;
    const char *metrics_pattern;
    //  The GPU indices the attempt alone uses (n_gpus, borrowed), and its
    //  CPUs (trial.cpus).
    const uint32_t *gpus;
    size_t n_gpus;
    uint32_t cpus;
} hpo_wire_assign_t;
void hpo_wire_assign (hpo_wire_msg_t *msg, uint64_t seq,
                      const hpo_wire_assign_t *assign);
void hpo_wire_ack (hpo_wire_msg_t *msg, uint64_t seq);
void hpo_wire_kill (hpo_wire_msg_t *msg, uint64_t seq, uint64_t trial_id,
                    uint32_t attempt, const char *reason);
//  message may quote what a peer sent: it is sent cleaned to valid UTF-8
//  (a strict decoder refuses anything else) and cut to 4 KiB.
void hpo_wire_error (hpo_wire_msg_t *msg, uint64_t seq, Hpo__ErrorCode code,
                     const char *message);
void hpo_wire_ok (hpo_wire_msg_t *msg, uint64_t seq, const char *message);

//  The CLI's requests.
void hpo_wire_study_create (hpo_wire_msg_t *msg, uint64_t seq,
                            const char *filename, const char *spec);
//  hpo study refine: a StudyCreate with derive set, whose spec is only a
//  refine sampler and maybe a name (coordinator/derive.h).
void hpo_wire_study_derive (hpo_wire_msg_t *msg, uint64_t seq,
                            const char *spec);
void hpo_wire_study_show (hpo_wire_msg_t *msg, uint64_t seq, const char *name);
//  now: also stop the running trials (hpo study stop --now).
void hpo_wire_study_stop (hpo_wire_msg_t *msg, uint64_t seq, const char *name,
                          int now);
void hpo_wire_study_list (hpo_wire_msg_t *msg, uint64_t seq);
//  hpo study extend NAME --trials N: the budget grows by trials.
void hpo_wire_study_extend (hpo_wire_msg_t *msg, uint64_t seq, const char *name,
                            uint64_t trials);
void hpo_wire_study_resume (hpo_wire_msg_t *msg, uint64_t seq,
                            const char *name);
//  hpo trial retry: the n trial numbers (borrowed), or with failed every
//  FAILED trial of the study.
void hpo_wire_trial_retry (hpo_wire_msg_t *msg, uint64_t seq, const char *study,
                           uint64_t *numbers, size_t n, int failed);
void hpo_wire_study_delete (hpo_wire_msg_t *msg, uint64_t seq,
                            const char *name);
//  state "" for every state; limit 0 for the coordinator's page size.
void hpo_wire_trials (hpo_wire_msg_t *msg, uint64_t seq, const char *study,
                      const char *state, uint64_t after, uint32_t limit);
//  A page of every trial for hpo export: with metrics, each trial's last
//  value of every metric; with curves, its intermediate values of every
//  attempt, from the values_after'th of trial `after` on.
void hpo_wire_trials_export (hpo_wire_msg_t *msg, uint64_t seq,
                             const char *study, uint64_t after,
                             uint64_t values_after, int metrics, int curves);
//  A page of every trial for hpo report: its intermediate values of every
//  attempt (as hpo_wire_trials_export with curves) and its ended attempts.
void hpo_wire_trials_report (hpo_wire_msg_t *msg, uint64_t seq,
                             const char *study, uint64_t after,
                             uint64_t values_after);
void hpo_wire_trial_show (hpo_wire_msg_t *msg, uint64_t seq, const char *study,
                          uint64_t number);
void hpo_wire_best (hpo_wire_msg_t *msg, uint64_t seq, const char *name);
void hpo_wire_workers (hpo_wire_msg_t *msg, uint64_t seq);
//  Ask and tell: hpo ask NAME (answered by a TrialInfo); hpo tell, state
//  "COMPLETE", "PRUNED" or "FAILED"; hpo report (add the metrics with
//  hpo_wire_metric_add); hpo enqueue, n "NAME=VALUE" words (borrowed).
void hpo_wire_ask (hpo_wire_msg_t *msg, uint64_t seq, const char *study);
void hpo_wire_tell (hpo_wire_msg_t *msg, uint64_t seq, const char *study,
                    uint64_t number, const char *state, int has_value,
                    double value);
void hpo_wire_client_report (hpo_wire_msg_t *msg, uint64_t seq,
                             const char *study, uint64_t number, int64_t step);
void hpo_wire_enqueue (hpo_wire_msg_t *msg, uint64_t seq, const char *study,
                       char **params, size_t n);
//  The answer to a ClientReport: prune says the trial is stopped.
void hpo_wire_report_answer (hpo_wire_msg_t *msg, uint64_t seq, int prune,
                             const char *message);
//  hpo admin backup: path on the coordinator's host, absolute.
void hpo_wire_admin_backup (hpo_wire_msg_t *msg, uint64_t seq,
                            const char *path);

//  The coordinator's answers to the CLI, around bodies the caller built
//  (coordinator/query.c) and still owns.
void hpo_wire_study_info (hpo_wire_msg_t *msg, uint64_t seq,
                          Hpo__StudyInfo *info);
void hpo_wire_study_list_answer (hpo_wire_msg_t *msg, uint64_t seq,
                                 Hpo__StudyList *list);
void hpo_wire_trial_list (hpo_wire_msg_t *msg, uint64_t seq,
                          Hpo__TrialList *list);
void hpo_wire_trial_info (hpo_wire_msg_t *msg, uint64_t seq,
                          Hpo__TrialInfo *info);
void hpo_wire_worker_list (hpo_wire_msg_t *msg, uint64_t seq,
                           Hpo__WorkerList *list);

//  Parameter arrays between the domain form and the wire form.
//  hpo_wire_params_new returns n new Params (free with
//  hpo_wire_params_free); hpo_wire_param_get copies one wire param into
//  *value (a string is the caller's to free), -1 if its kind is unknown.
//  Kind 0 is HPO_KIND_NONE, a parameter absent from the trial (its when:
//  condition does not hold); it is valid only without a value (f and i
//  zero, s empty), else -1.
Hpo__Param **hpo_wire_params_new (char *const *names, const hpo_value_t *values,
                                  size_t n);
void hpo_wire_params_free (Hpo__Param **params, size_t n);
int hpo_wire_param_get (const Hpo__Param *param, hpo_value_t *value);

#endif
