/*  ring.c: numbered events in a circular array under one mutex, with a
    condition variable on the monotonic clock for readers to wait on.    */
#include "ring.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/mem.h"

typedef struct {
    char *text; //  "id: N\nevent: T\ndata: J\n\n"
    size_t len;
} s_event_t;

struct _hpo_ring_t {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    s_event_t *events; //  circular: the oldest at head
    size_t cap, head, count;
    size_t bytes, max_bytes;
    uint64_t first; //  id of events[head]
    int closed;
};

hpo_ring_t *
hpo_ring_new (uint64_t base, size_t max_events, size_t max_bytes)
{
    assert (max_events > 0);
    hpo_ring_t *self = hpo_calloc (1, sizeof *self);
    pthread_mutex_init (&self->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (&self->cv, &attr);
    pthread_condattr_destroy (&attr);
    self->cap = max_events;
    self->events = hpo_calloc (max_events, sizeof *self->events);
    self->max_bytes = max_bytes;
    self->first = base + 1;
    return self;
}

void
hpo_ring_destroy (hpo_ring_t **self_p)
{
    hpo_ring_t *self = *self_p;
    if (!self)
        return;
    for (size_t k = 0; k < self->count; k++)
        free (self->events[(self->head + k) % self->cap].text);
    free (self->events);
    pthread_cond_destroy (&self->cv);
    pthread_mutex_destroy (&self->mu);
    free (self);
    *self_p = NULL;
}

static void
s_drop_oldest (hpo_ring_t *self)
{
    s_event_t *e = &self->events[self->head];
    self->bytes -= e->len;
    free (e->text);
    e->text = NULL;
    self->head = (self->head + 1) % self->cap;
    self->count--;
    self->first++;
}

uint64_t
hpo_ring_append (hpo_ring_t *self, const char *type, const char *json,
                 size_t len)
{
    pthread_mutex_lock (&self->mu);
    uint64_t id = self->first + self->count;
    char head[64];
    int n = snprintf (head, sizeof head, "id: %llu\nevent: %s\ndata: ",
                      (unsigned long long)id, type);
    assert (n > 0 && (size_t)n < sizeof head);
    s_event_t e = {hpo_malloc ((size_t)n + len + 2), (size_t)n + len + 2};
    memcpy (e.text, head, (size_t)n);
    memcpy (e.text + n, json, len);
    memcpy (e.text + n + len, "\n\n", 2);
    while (self->count > 0 &&
           (self->count == self->cap || self->bytes + e.len > self->max_bytes))
        s_drop_oldest (self);
    self->events[(self->head + self->count) % self->cap] = e;
    self->count++;
    self->bytes += e.len;
    pthread_mutex_unlock (&self->mu);
    return id;
}

void
hpo_ring_wake (hpo_ring_t *self)
{
    pthread_mutex_lock (&self->mu);
    pthread_cond_broadcast (&self->cv);
    pthread_mutex_unlock (&self->mu);
}

uint64_t
hpo_ring_last (hpo_ring_t *self)
{
    pthread_mutex_lock (&self->mu);
    uint64_t last = self->first + self->count - 1;
    pthread_mutex_unlock (&self->mu);
    return last;
}

uint64_t
hpo_ring_first (hpo_ring_t *self)
{
    pthread_mutex_lock (&self->mu);
    uint64_t first = self->first;
    pthread_mutex_unlock (&self->mu);
    return first;
}

void
hpo_ring_close (hpo_ring_t *self)
{
    pthread_mutex_lock (&self->mu);
    self->closed = 1;
    pthread_cond_broadcast (&self->cv);
    pthread_mutex_unlock (&self->mu);
}

void
hpo_ring_cursor (hpo_ring_t *self, hpo_ring_cursor_t *c, int has_since,
                 uint64_t since)
{
    memset (c, 0, sizeof *c);
    pthread_mutex_lock (&self->mu);
    uint64_t last = self->first + self->count - 1;
    c->next = last + 1;
    //  The events after since are not all kept (or since is another
    //  run's): the page must fetch everything again.
    if (has_since && (since + 1 < self->first || since > last)) {
        int n = snprintf (c->pre, sizeof c->pre,
                          "id: %llu\nevent: reset\ndata: {}\n\n",
                          (unsigned long long)last);
        assert (n > 0 && (size_t)n < sizeof c->pre);
        c->pre_len = (size_t)n;
    } else if (has_since)
        c->next = since + 1;
    pthread_mutex_unlock (&self->mu);
}

//  Copies what fits of the events from c->next on. Holding the mutex.
static size_t
s_copy (hpo_ring_t *self, hpo_ring_cursor_t *c, char *buf, size_t max)
{
    size_t n = 0;
    if (c->pre_off < c->pre_len) {
        size_t take = c->pre_len - c->pre_off;
        take = take < max ? take : max;
        memcpy (buf, c->pre + c->pre_off, take);
        c->pre_off += take;
        n += take;
    }
    while (n < max && c->next < self->first + self->count) {
        s_event_t *e =
            &self->events[(self->head + (c->next - self->first)) % self->cap];
        size_t take = e->len - c->off < max - n ? e->len - c->off : max - n;
        memcpy (buf + n, e->text + c->off, take);
        n += take;
        c->off += take;
        if (c->off == e->len) {
            c->next++;
            c->off = 0;
        }
    }
    return n;
}

static void
s_deadline (struct timespec *ts, int timeout_ms)
{
    clock_gettime (CLOCK_MONOTONIC, ts);
    ts->tv_sec += timeout_ms / 1000;
    ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

ssize_t
hpo_ring_read (hpo_ring_t *self, hpo_ring_cursor_t *c, char *buf, size_t max,
               int timeout_ms)
{
    assert (max > 0);
    struct timespec deadline;
    s_deadline (&deadline, timeout_ms);
    ssize_t rc = 0;
    pthread_mutex_lock (&self->mu);
    for (;;) {
        //  An event partly sent and then dropped cannot be finished
        //  either: behind is behind.
        if (self->closed || c->next < self->first) {
            rc = -1;
            break;
        }
        size_t n = s_copy (self, c, buf, max);
        if (n > 0) {
            rc = (ssize_t)n;
            break;
        }
        if (pthread_cond_timedwait (&self->cv, &self->mu, &deadline) != 0)
            break; //  timed out: rc 0
    }
    pthread_mutex_unlock (&self->mu);
    return rc;
}
