/*  ring.h: the dashboard's live events (docs/dashboard.md, "GET
    /api/events"), numbered and kept, the newest ones, for streams to
    resume from. Thread-safe: the dashboard thread appends, every event
    stream's thread reads, each with its own cursor, waiting on the
    ring's condition variable (never polling) for what comes next.
    Memory is the ring's bound, not the number or the speed of readers:
    a reader that falls behind what is kept is cut, and reconnects.      */
#ifndef HPO_RING_H
#define HPO_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct _hpo_ring_t hpo_ring_t;

//  A ring whose first event will have the id base + 1 (base: a number
//  above any id an earlier run gave, so a stream from before a restart
//  resumes with reset), keeping at most max_events events and about
//  max_bytes of their text.
hpo_ring_t *hpo_ring_new (uint64_t base, size_t max_events, size_t max_bytes);
void hpo_ring_destroy (hpo_ring_t **self_p);

//  Appends an event (json: one line) as its Server-Sent Events text and
//  returns its id; drops the oldest events beyond the bounds. Readers
//  are woken by hpo_ring_wake, once per batch of appends.
uint64_t hpo_ring_append (hpo_ring_t *self, const char *type,
                          const char *json, size_t len);
void hpo_ring_wake (hpo_ring_t *self);
//  The id of the last event appended (base when none).
uint64_t hpo_ring_last (hpo_ring_t *self);
//  The oldest id kept (last + 1 when none is).
uint64_t hpo_ring_first (hpo_ring_t *self);
//  Wakes every reader for good: their reads return -1.
void hpo_ring_close (hpo_ring_t *self);

//  Where a reader is. Set by hpo_ring_cursor, then read with it.
typedef struct {
    uint64_t next;  //  id of the next event to send
    size_t off;     //  bytes of it already sent
    char pre[64];   //  a reset event still to send
    size_t pre_len, pre_off;
} hpo_ring_cursor_t;

//  Starts a reader after the event since (has_since), or with what comes
//  next (!has_since). A since older than the oldest kept event's
//  predecessor, or newer than the last (another run's), starts with a
//  reset event (id: the last one), then what comes next.
void hpo_ring_cursor (hpo_ring_t *self, hpo_ring_cursor_t *c, int has_since,
                      uint64_t since);

//  Copies into buf (max bytes at most, at least 1) the text of what the
//  reader has not been sent, waiting up to timeout_ms for something to
//  send. An event larger than max goes over several reads. Returns the
//  bytes copied, 0 if nothing came in time, -1 if the reader fell behind
//  what is kept (cut it) or the ring was closed.
ssize_t hpo_ring_read (hpo_ring_t *self, hpo_ring_cursor_t *c, char *buf,
                       size_t max, int timeout_ms);

#endif
