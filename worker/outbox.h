/*  outbox.h: a worker's unacknowledged messages (docs/protocol.md,
    "Delivery"). Every Report, Finish and Goodbye is packed once, with its
    own seq, and kept here, the same bytes, until the coordinator Acks
    that seq or the attempt it belongs to is dropped.

    Order: messages leave strictly in seq order, so a Finish never
    overtakes its attempt's Reports. A cursor marks the first message the
    current round has not sent; when the send function refuses one (the
    socket's queue is full), sending stops there and the next pump goes
    on from the cursor, never past it. A new round (hpo_outbox_resend)
    starts again from the oldest message still unacknowledged.

    Backpressure: nothing is dropped to bound memory. hpo_outbox_full
    says the outbox holds max messages; hpo_outbox_paused says, with
    hysteresis, whether the caller should stop producing: from full until
    it drains to three quarters of max.

    The outbox neither reads a clock nor owns a socket: every function
    that needs the time is given it, and messages go out through the send
    function given to hpo_outbox_new. Its tests need no sleep and no
    socket.                                                                */
#ifndef HPO_OUTBOX_H
#define HPO_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    HPO_OUTBOX_REPORT,
    HPO_OUTBOX_FINISH,
    HPO_OUTBOX_GOODBYE, //  belongs to no attempt: never dropped with one
} hpo_outbox_kind_t;

//  Sends one packed message without blocking. Returns 0 once it is on
//  its way, -1 when it cannot be taken now (the caller's queue is full):
//  it is offered again, first, at the next pump.
typedef int (hpo_outbox_send_fn) (void *arg, const uint8_t *data, size_t size,
                                  uint64_t seq);

//  An attempt named by a message (hpo_outbox_finishes).
typedef struct {
    uint64_t trial_id;
    uint32_t attempt;
} hpo_outbox_attempt_t;

typedef struct _hpo_outbox_t hpo_outbox_t;

//  A new, empty outbox that pauses at max messages (>= 1) and sends
//  through send (arg is passed back to it).
hpo_outbox_t *hpo_outbox_new (size_t max, hpo_outbox_send_fn *send, void *arg);

//  Frees the outbox and every message in it. Idempotent.
void hpo_outbox_destroy (hpo_outbox_t **self_p);

//  Keeps the message of size bytes at *data_p (malloc'd; the outbox takes
//  it and nulls *data_p) under seq, which must be greater than every seq
//  added before, and sends it in its turn (hpo_outbox_pump). trial_id and
//  attempt name its attempt (Report, Finish; 0 for a Goodbye).
void hpo_outbox_add (hpo_outbox_t *self, uint64_t seq, hpo_outbox_kind_t kind,
                     uint64_t trial_id, uint32_t attempt, uint8_t **data_p,
                     size_t size, int64_t now);

//  Sends, oldest first, what the current round has not sent yet, until
//  the send function refuses one or none is left. Marks each sent at now.
void hpo_outbox_pump (hpo_outbox_t *self, int64_t now);

//  1 while the current round still has messages to send (the caller
//  should call hpo_outbox_pump again when its queue has room).
int hpo_outbox_backlog (const hpo_outbox_t *self);

//  Starts a new round at once: everything unacknowledged goes out again,
//  oldest first, the same bytes under the same seq (after a Hello).
void hpo_outbox_resend (hpo_outbox_t *self, int64_t now);

//  Starts a new round only if the current one is complete and the oldest
//  unacknowledged message was last sent wait_ms or more before now.
void hpo_outbox_resend_due (hpo_outbox_t *self, int64_t now, int64_t wait_ms);

//  Forgets the message with this seq. Returns 0, or -1 when nothing waits
//  for it (a second Ack for a resent message, an Ack for a heartbeat).
int hpo_outbox_ack (hpo_outbox_t *self, uint64_t seq);

//  Forgets every Report and Finish of this attempt (the coordinator
//  refused or killed it: they would only be refused).
void hpo_outbox_drop_attempt (hpo_outbox_t *self, uint64_t trial_id,
                              uint32_t attempt);

//  Messages unacknowledged.
size_t hpo_outbox_live (const hpo_outbox_t *self);

//  1 when the outbox holds max messages or more.
int hpo_outbox_full (const hpo_outbox_t *self);

//  Whether the producer should wait: turns 1 when the outbox is full and
//  back to 0 once it holds three quarters of max or fewer.
int hpo_outbox_paused (hpo_outbox_t *self);

//  The attempts whose Finish waits unacknowledged, in seq order; with
//  unsent, only those whose Finish was never sent at all. Writes up to
//  max of them to out (may be NULL when max is 0) and returns how many
//  there are in all.
size_t hpo_outbox_finishes (const hpo_outbox_t *self, int unsent,
                            hpo_outbox_attempt_t *out, size_t max);

//  Reclaims the room of acknowledged messages once they are many (at
//  least 64 and half the array); order and the cursor are kept.
void hpo_outbox_compact (hpo_outbox_t *self);

#endif
