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
//  hpo_wire_arena_end, envelopes this process decodes take their memory
//  from one arena instead of a malloc per field, hpo_wire_free only forgets
//  them, and hpo_wire_arena_end releases them all at once. Every envelope
//  decoded in between must be dropped before hpo_wire_arena_end. For one
//  thread (the coordinator's loop turn).
void hpo_wire_arena_begin (void);
void hpo_wire_arena_end (void);

//  Packs env into a new buffer of *size bytes; caller frees.
uint8_t *hpo_wire_encode (const hpo_env_t *env, size_t *size);

//  Sends env on a DEALER (rid NULL) or to a peer of a ROUTER. Never
//  blocks: returns 0, or -1 when the message could not be queued (peer
//  gone, high-water mark reached).
int hpo_wire_send (void *socket, const void *rid, size_t rid_size,
                   const hpo_env_t *env);

//  Receives one message without blocking. For a ROUTER, rid receives the
//  routing id (HPO_WIRE_MAX_RID bytes) and *rid_size its length; pass rid
//  NULL on a DEALER. Returns the envelope, or NULL: *status HPO_WIRE_OK
//  means nothing was waiting, anything else a bad message that was read
//  and dropped (the rid is still filled, so the sender can be told).
hpo_env_t *hpo_wire_recv (void *socket, uint8_t *rid, size_t *rid_size,
                          hpo_wire_status_t *status);

//  Parameter arrays between the domain form and the wire form.
//  hpo_wire_params_new returns n new Params (free with
//  hpo_wire_params_free); hpo_wire_params_get copies wire params into
//  values in spec order, -1 if one is missing, unknown or ill-typed.
Hpo__Param **hpo_wire_params_new (char *const *names, const hpo_value_t *values,
                                  size_t n);
void hpo_wire_params_free (Hpo__Param **params, size_t n);
int hpo_wire_param_get (const Hpo__Param *param, hpo_value_t *value);

#endif
