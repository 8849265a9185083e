/*  outbox.c: the unacknowledged messages, in one array in seq order.
    Acknowledged messages are left as holes (data NULL) and compacted away
    in bulk, so an Ack is a binary search and a free, not a move.         */
#include "outbox.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

//  Compaction waits for this many holes (and for half the array).
#define S_COMPACT_MIN 64

typedef struct {
    uint64_t seq;
    uint64_t trial_id; //  Report and Finish only
    uint32_t attempt;
    hpo_outbox_kind_t kind;
    uint8_t *data; //  NULL once acknowledged or dropped
    size_t size;
    int64_t sent_ms; //  last sent; -1: never
} s_msg_t;

struct _hpo_outbox_t {
    //  Entries before next have been sent in the current round; the rest
    //  wait for the send function to take them.
    s_msg_t *msgs;
    size_t n, cap, live, next;
    size_t max, low; //  backpressure: pause, resume
    int paused;
    hpo_outbox_send_fn *send;
    void *arg;
};

hpo_outbox_t *
hpo_outbox_new (size_t max, hpo_outbox_send_fn *send, void *arg)
{
    assert (max >= 1 && send);
    hpo_outbox_t *self = hpo_calloc (1, sizeof *self);
    self->max = max;
    self->low = max - max / 4;
    self->send = send;
    self->arg = arg;
    return self;
}

void
hpo_outbox_destroy (hpo_outbox_t **self_p)
{
    hpo_outbox_t *self = *self_p;
    if (!self)
        return;
    for (size_t k = 0; k < self->n; k++)
        free (self->msgs[k].data);
    free (self->msgs);
    free (self);
    *self_p = NULL;
}

static void
s_forget (hpo_outbox_t *self, s_msg_t *m)
{
    hpo_free (&m->data);
    self->live--;
}

void
hpo_outbox_compact (hpo_outbox_t *self)
{
    size_t holes = self->n - self->live;
    if (holes < S_COMPACT_MIN || holes * 2 < self->n)
        return;
    size_t n = 0, next = 0;
    for (size_t k = 0; k < self->n; k++) {
        if (k == self->next)
            next = n;
        if (self->msgs[k].data)
            self->msgs[n++] = self->msgs[k];
    }
    self->next = self->next >= self->n ? n : next;
    self->n = n;
}

void
hpo_outbox_pump (hpo_outbox_t *self, int64_t now)
{
    while (self->next < self->n) {
        s_msg_t *m = &self->msgs[self->next];
        if (m->data) {
            if (self->send (self->arg, m->data, m->size, m->seq) < 0)
                return; //  never skip one: nothing overtakes an older one
            m->sent_ms = now;
        }
        self->next++;
    }
}

int
hpo_outbox_backlog (const hpo_outbox_t *self)
{
    return self->next < self->n;
}

void
hpo_outbox_add (hpo_outbox_t *self, uint64_t seq, hpo_outbox_kind_t kind,
                uint64_t trial_id, uint32_t attempt, uint8_t **data_p,
                size_t size, int64_t now)
{
    assert (data_p && *data_p);
    assert (self->n == 0 || self->msgs[self->n - 1].seq < seq);
    hpo_outbox_compact (self);
    if (self->n == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 64;
        self->msgs = hpo_realloc (self->msgs, self->cap * sizeof (s_msg_t));
    }
    s_msg_t *m = &self->msgs[self->n++];
    memset (m, 0, sizeof *m);
    m->seq = seq;
    m->trial_id = trial_id;
    m->attempt = attempt;
    m->kind = kind;
    m->sent_ms = -1;
    m->data = *data_p;
    m->size = size;
    *data_p = NULL;
    self->live++;
    hpo_outbox_pump (self, now);
}

//  Within a round messages go in seq order, so a resend never lets a
//  Finish overtake its attempt's Reports.
void
hpo_outbox_resend (hpo_outbox_t *self, int64_t now)
{
    self->next = 0;
    hpo_outbox_pump (self, now);
}

void
hpo_outbox_resend_due (hpo_outbox_t *self, int64_t now, int64_t wait_ms)
{
    if (hpo_outbox_backlog (self))
        return;
    size_t k = 0;
    while (k < self->n && !self->msgs[k].data)
        k++;
    if (k == self->n || self->msgs[k].sent_ms + wait_ms > now)
        return;
    hpo_outbox_resend (self, now);
}

int
hpo_outbox_ack (hpo_outbox_t *self, uint64_t seq)
{
    size_t lo = 0, hi = self->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->msgs[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == self->n || self->msgs[lo].seq != seq || !self->msgs[lo].data)
        return -1;
    s_forget (self, &self->msgs[lo]);
    return 0;
}

void
hpo_outbox_drop_attempt (hpo_outbox_t *self, uint64_t trial_id,
                         uint32_t attempt)
{
    for (size_t k = 0; k < self->n; k++) {
        s_msg_t *m = &self->msgs[k];
        if (m->data && m->kind != HPO_OUTBOX_GOODBYE &&
            m->trial_id == trial_id && m->attempt == attempt)
            s_forget (self, m);
    }
}

size_t
hpo_outbox_live (const hpo_outbox_t *self)
{
    return self->live;
}

int
hpo_outbox_full (const hpo_outbox_t *self)
{
    return self->live >= self->max;
}

int
hpo_outbox_paused (hpo_outbox_t *self)
{
    if (self->paused && self->live <= self->low)
        self->paused = 0;
    else if (!self->paused && self->live >= self->max)
        self->paused = 1;
    return self->paused;
}

size_t
hpo_outbox_finishes (const hpo_outbox_t *self, int unsent,
                     hpo_outbox_attempt_t *out, size_t max)
{
    //  A message never sent lies at or after the cursor: everything
    //  before it went out in this round.
    size_t n = 0;
    for (size_t k = unsent ? self->next : 0; k < self->n; k++) {
        const s_msg_t *m = &self->msgs[k];
        if (!m->data || m->kind != HPO_OUTBOX_FINISH ||
            (unsent && m->sent_ms >= 0))
            continue;
        if (n < max) {
            out[n].trial_id = m->trial_id;
            out[n].attempt = m->attempt;
        }
        n++;
    }
    return n;
}
