/*  batch.c: the loop's writes, copied for the dashboard (batch.h).

    Appending runs in the loop thread for every write the store makes, so
    it is a few copies into two growing arrays: fixed-size records, and
    one arena for every string and blob they hold (records keep offsets,
    which stay valid when the arena moves). No per-record malloc, no JSON. */
#include "batch.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"

//  An offset into the arena, plus one; 0 is NULL.
typedef size_t s_ref_t;

//  One record. Intermediate values, by far the most numerous, fit in it
//  whole (40 bytes); the other kinds keep their fields in a wide record
//  of their own (s_wide_t), which step indexes.
typedef struct {
    uint8_t kind;
    uint32_t attempt;
    uint64_t id;
    int64_t step;       //  a value's step, or the index of the wide record
    double value;
    s_ref_t metric;
} s_rec_t;

typedef struct {
    int has_value;
    uint32_t u32[3];    //  attempt, failures, lost
    uint64_t u64[2];    //  study id / budget, number / fail_base
    double d[3];        //  value, started / created, ended
    s_ref_t str[4];
    size_t size;        //  the blob's (HPO_BATCH_WORKERS)
} s_wide_t;

struct _hpo_batch_t {
    s_rec_t *recs;
    size_t n, cap;
    s_wide_t *wide;
    size_t n_wide, cap_wide;
    char *arena;
    size_t used, arena_cap;
};

hpo_batch_t *
hpo_batch_new (void)
{
    return hpo_calloc (1, sizeof (hpo_batch_t));
}

void
hpo_batch_destroy (hpo_batch_t **self_p)
{
    assert (self_p);
    hpo_batch_t *self = *self_p;
    if (!self)
        return;
    free (self->recs);
    free (self->wide);
    free (self->arena);
    free (self);
    *self_p = NULL;
}

int
hpo_batch_empty (const hpo_batch_t *self)
{
    return self->n == 0;
}

size_t
hpo_batch_size (const hpo_batch_t *self)
{
    return self->n;
}

static s_rec_t *
s_append (hpo_batch_t *self, hpo_batch_kind_t kind, uint64_t id)
{
    if (self->n == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 64;
        self->recs = hpo_realloc (self->recs, self->cap * sizeof (s_rec_t));
    }
    s_rec_t *rec = &self->recs[self->n++];
    memset (rec, 0, sizeof *rec);
    rec->kind = (uint8_t)kind;
    rec->id = id;
    return rec;
}

//  A record of a kind other than a value, with its wide part.
static s_wide_t *
s_append_wide (hpo_batch_t *self, hpo_batch_kind_t kind, uint64_t id)
{
    s_rec_t *rec = s_append (self, kind, id);
    if (self->n_wide == self->cap_wide) {
        self->cap_wide = self->cap_wide ? self->cap_wide * 2 : 16;
        self->wide =
            hpo_realloc (self->wide, self->cap_wide * sizeof (s_wide_t));
    }
    rec->step = (int64_t)self->n_wide;
    s_wide_t *wide = &self->wide[self->n_wide++];
    memset (wide, 0, sizeof *wide);
    return wide;
}

static s_ref_t
s_blob (hpo_batch_t *self, const void *data, size_t size)
{
    if (self->used + size > self->arena_cap) {
        size_t cap = self->arena_cap ? self->arena_cap : 4096;
        while (cap < self->used + size)
            cap *= 2;
        self->arena = hpo_realloc (self->arena, cap);
        self->arena_cap = cap;
    }
    s_ref_t ref = self->used + 1;
    if (size)
        memcpy (self->arena + self->used, data, size);
    self->used += size;
    return ref;
}

static s_ref_t
s_str (hpo_batch_t *self, const char *s)
{
    return s ? s_blob (self, s, strlen (s) + 1) : 0;
}

static const char *
s_ptr (const hpo_batch_t *self, s_ref_t ref)
{
    return ref ? self->arena + ref - 1 : NULL;
}

void
hpo_batch_study_insert (hpo_batch_t *self, uint64_t id, const char *name,
                        const char *spec_text, double created)
{
    s_wide_t *rec = s_append_wide (self, HPO_BATCH_STUDY_INSERT, id);
    rec->d[1] = created;
    rec->str[0] = s_str (self, name);
    rec->str[1] = s_str (self, spec_text);
}

void
hpo_batch_study_state (hpo_batch_t *self, uint64_t id, const char *state,
                       double ended)
{
    s_wide_t *rec = s_append_wide (self, HPO_BATCH_STUDY_STATE, id);
    rec->d[2] = ended;
    rec->str[2] = s_str (self, state);
}

void
hpo_batch_study_update (hpo_batch_t *self, const hpo_store_study_row_t *row)
{
    s_wide_t *rec = s_append_wide (self, HPO_BATCH_STUDY_UPDATE, row->id);
    rec->d[2] = row->ended;
    rec->u64[0] = row->budget;
    rec->u64[1] = row->fail_base;
    rec->str[2] = s_str (self, row->state);
    rec->str[3] = s_str (self, row->reason);
}

void
hpo_batch_study_delete (hpo_batch_t *self, uint64_t id)
{
    s_append_wide (self, HPO_BATCH_STUDY_DELETE, id);
}

void
hpo_batch_trial (hpo_batch_t *self, const hpo_store_trial_row_t *row)
{
    s_wide_t *rec = s_append_wide (self, HPO_BATCH_TRIAL, row->id);
    rec->u64[0] = row->study_id;
    rec->u64[1] = row->number;
    rec->u32[0] = row->attempt;
    rec->u32[1] = row->failures;
    rec->u32[2] = row->lost;
    rec->has_value = row->has_value ? 1 : 0;
    rec->d[0] = row->value;
    rec->d[1] = row->started;
    rec->d[2] = row->ended;
    rec->str[0] = s_str (self, row->state);
    rec->str[1] = s_str (self, row->params);
    rec->str[2] = s_str (self, row->worker);
    rec->str[3] = s_str (self, row->reason);
}

void
hpo_batch_attempt (hpo_batch_t *self, uint64_t trial_id,
                   const hpo_store_attempt_row_t *row)
{
    s_wide_t *rec = s_append_wide (self, HPO_BATCH_ATTEMPT, trial_id);
    rec->u32[0] = row->attempt;
    rec->d[1] = row->started;
    rec->d[2] = row->ended;
    rec->str[0] = s_str (self, row->worker);
    rec->str[1] = s_str (self, row->outcome);
    rec->str[2] = s_str (self, row->reason);
    rec->str[3] = s_str (self, row->log_tail);
}

void
hpo_batch_value (hpo_batch_t *self, uint64_t trial_id, uint32_t attempt,
                 int64_t step, const char *metric, double value)
{
    s_ref_t ref = s_str (self, metric);
    s_rec_t *rec = s_append (self, HPO_BATCH_VALUE, trial_id);
    rec->attempt = attempt;
    rec->step = step;
    rec->value = value;
    rec->metric = ref;
}

void
hpo_batch_workers (hpo_batch_t *self, const void *envelope, size_t size)
{
    s_wide_t *rec = s_append_wide (self, HPO_BATCH_WORKERS, 0);
    rec->str[0] = s_blob (self, envelope, size);
    rec->size = size;
}

void
hpo_batch_get (const hpo_batch_t *self, size_t index,
               hpo_batch_record_t *record)
{
    assert (index < self->n);
    const s_rec_t *r = &self->recs[index];
    memset (record, 0, sizeof *record);
    record->kind = (hpo_batch_kind_t)r->kind;
    record->id = r->id;
    if (record->kind == HPO_BATCH_VALUE) {
        record->value.attempt = r->attempt;
        record->value.step = r->step;
        record->value.value = r->value;
        record->value.metric = s_ptr (self, r->metric);
        return;
    }
    const s_wide_t *rec = &self->wide[r->step];
    switch (record->kind) {
    case HPO_BATCH_STUDY_INSERT:
    case HPO_BATCH_STUDY_STATE:
    case HPO_BATCH_STUDY_UPDATE:
    case HPO_BATCH_STUDY_DELETE: {
        hpo_store_study_row_t *s = &record->study;
        s->id = r->id;
        s->name = s_ptr (self, rec->str[0]);
        s->spec = s_ptr (self, rec->str[1]);
        s->state = s_ptr (self, rec->str[2]);
        s->reason = s_ptr (self, rec->str[3]);
        s->created = rec->d[1];
        s->ended = rec->d[2];
        s->budget = rec->u64[0];
        s->fail_base = rec->u64[1];
        break;
    }
    case HPO_BATCH_TRIAL: {
        hpo_store_trial_row_t *t = &record->trial;
        t->id = r->id;
        t->study_id = rec->u64[0];
        t->number = rec->u64[1];
        t->attempt = rec->u32[0];
        t->failures = rec->u32[1];
        t->lost = rec->u32[2];
        t->has_value = rec->has_value;
        t->value = rec->d[0];
        t->started = rec->d[1];
        t->ended = rec->d[2];
        t->state = s_ptr (self, rec->str[0]);
        t->params = s_ptr (self, rec->str[1]);
        t->worker = s_ptr (self, rec->str[2]);
        t->reason = s_ptr (self, rec->str[3]);
        break;
    }
    case HPO_BATCH_ATTEMPT: {
        hpo_store_attempt_row_t *a = &record->attempt;
        a->attempt = rec->u32[0];
        a->started = rec->d[1];
        a->ended = rec->d[2];
        a->worker = s_ptr (self, rec->str[0]);
        a->outcome = s_ptr (self, rec->str[1]);
        a->reason = s_ptr (self, rec->str[2]);
        a->log_tail = s_ptr (self, rec->str[3]);
        break;
    }
    case HPO_BATCH_VALUE:   //  above
    case HPO_BATCH_WORKERS:
        record->blob = s_ptr (self, rec->str[0]);
        record->size = rec->size;
        break;
    }
}
