/*  feed.c: the store's tap, copying each write into the turn's batch.   */
#include "feed.h"

#include <stdlib.h>

#include "../common/mem.h"

struct _hpo_feed_t {
    hpo_store_t *store;
    hpo_http_t *http;
    hpo_batch_t *batch; //  the turn's writes so far, or NULL
};

//  The turn's batch, made at its first write: a turn that writes nothing
//  allocates nothing.
static hpo_batch_t *
s_batch (hpo_feed_t *self)
{
    if (!self->batch)
        self->batch = hpo_batch_new ();
    return self->batch;
}

static void
s_study_insert (void *ctx, uint64_t id, const char *name, const char *spec,
                double created)
{
    hpo_batch_study_insert (s_batch (ctx), id, name, spec, created);
}

static void
s_study_state (void *ctx, uint64_t id, const char *state, double ended)
{
    hpo_batch_study_state (s_batch (ctx), id, state, ended);
}

static void
s_study_update (void *ctx, const hpo_store_study_row_t *row)
{
    hpo_batch_study_update (s_batch (ctx), row);
}

static void
s_study_delete (void *ctx, uint64_t id)
{
    hpo_batch_study_delete (s_batch (ctx), id);
}

static void
s_trial (void *ctx, const hpo_store_trial_row_t *row)
{
    hpo_batch_trial (s_batch (ctx), row);
}

static void
s_attempt (void *ctx, uint64_t trial_id, const hpo_store_attempt_row_t *row)
{
    hpo_batch_attempt (s_batch (ctx), trial_id, row);
}

static void
s_value (void *ctx, uint64_t trial_id, uint32_t attempt, int64_t step,
         const char *metric, double value)
{
    hpo_batch_value (s_batch (ctx), trial_id, attempt, step, metric, value);
}

static void
s_commit (void *ctx)
{
    hpo_feed_t *self = ctx;
    if (self->batch)
        hpo_http_push (self->http, &self->batch);
}

static void
s_rollback (void *ctx)
{
    hpo_feed_t *self = ctx;
    hpo_batch_destroy (&self->batch);
}

static const hpo_store_tap_t s_tap = {
    .study_insert = s_study_insert,
    .study_state = s_study_state,
    .study_update = s_study_update,
    .study_delete = s_study_delete,
    .trial_insert = s_trial,
    .trial_update = s_trial,
    .attempt_end = s_attempt,
    .value_put = s_value,
    .commit = s_commit,
    .rollback = s_rollback,
};

hpo_feed_t *
hpo_feed_new (hpo_store_t *store, hpo_http_t *http)
{
    hpo_feed_t *self = hpo_calloc (1, sizeof *self);
    self->store = store;
    self->http = http;
    hpo_store_set_tap (store, &s_tap, self);
    return self;
}

void
hpo_feed_destroy (hpo_feed_t **self_p)
{
    hpo_feed_t *self = *self_p;
    if (!self)
        return;
    if (self->store)
        hpo_store_set_tap (self->store, NULL, NULL);
    hpo_batch_destroy (&self->batch);
    free (self);
    *self_p = NULL;
}

void
hpo_feed_workers (hpo_feed_t *self, const void *envelope, size_t size)
{
    hpo_batch_t *batch = hpo_batch_new ();
    hpo_batch_workers (batch, envelope, size);
    hpo_http_push (self->http, &batch);
}

//  ---- the snapshot -------------------------------------------------------

static int
s_snap_study (void *ctx, const hpo_store_study_row_t *row)
{
    //  An insert makes the study, an update gives it the columns an
    //  insert does not take.
    hpo_batch_study_insert (ctx, row->id, row->name, row->spec, row->created);
    hpo_batch_study_update (ctx, row);
    return 0;
}

static int
s_snap_trial (void *ctx, const hpo_store_trial_row_t *row)
{
    hpo_batch_trial (ctx, row);
    return 0;
}

static int
s_snap_attempt (void *ctx, uint64_t trial_id,
                const hpo_store_attempt_row_t *row)
{
    hpo_batch_attempt (ctx, trial_id, row);
    return 0;
}

static int
s_snap_value (void *ctx, uint64_t trial_id, uint32_t attempt, int64_t step,
              const char *metric, double value)
{
    hpo_batch_value (ctx, trial_id, attempt, step, metric, value);
    return 0;
}

hpo_batch_t *
hpo_feed_snapshot (hpo_store_t *store)
{
    hpo_batch_t *batch = hpo_batch_new ();
    if (hpo_store_studies (store, s_snap_study, batch) ||
        hpo_store_trials (store, s_snap_trial, batch) ||
        hpo_store_all_attempts (store, s_snap_attempt, batch) ||
        hpo_store_all_values (store, s_snap_value, batch))
        hpo_batch_destroy (&batch);
    return batch;
}
