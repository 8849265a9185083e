/*  feed.h: what the coordinator's loop tells the dashboard
    (docs/dashboard.md). It is the store's tap (store.h): each write the
    loop makes is copied into a batch (dash/batch.h), and the batch is
    handed to the dashboard (hpo_http_push) when the turn's commit
    succeeds, or dropped when the turn is rolled back. Loop thread only. */
#ifndef HPO_FEED_H
#define HPO_FEED_H

#include <stddef.h>

#include "../dash/batch.h"
#include "../dash/http.h"
#include "store.h"

typedef struct _hpo_feed_t hpo_feed_t;

//  A feed into http (borrowed: it must outlive the feed), tapping store
//  (which must outlive the feed too, or be destroyed first: the tap is
//  removed by hpo_feed_destroy).
hpo_feed_t *hpo_feed_new (hpo_store_t *store, hpo_http_t *http);
//  Removes the tap and drops a batch not yet committed.
void hpo_feed_destroy (hpo_feed_t **self_p);

//  Everything in the store, as one batch for a read model to start from
//  (caller owns): every study, trial, ended attempt and intermediate
//  value, one query each. NULL on a database error (logged).
hpo_batch_t *hpo_feed_snapshot (hpo_store_t *store);

//  Hands the dashboard the live workers (an encoded Envelope holding a
//  WorkerList), in a batch of its own. Not a write: between turns.
void hpo_feed_workers (hpo_feed_t *self, const void *envelope, size_t size);

#endif
