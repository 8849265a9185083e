/*  model.h: the dashboard's read model (docs/dashboard.md): every study,
    trial, attempt and intermediate value, kept in the dashboard's own
    memory and changed only by applying batches (dash/batch.h), so
    answering a request never touches the coordinator's database or its
    scheduler. Not thread-safe: the caller (dash/http.c) applies under a
    write lock and reads (dash/api.h) under a read lock.                */
#ifndef HPO_MODEL_H
#define HPO_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"

typedef struct _hpo_model_t hpo_model_t;

hpo_model_t *hpo_model_new (void);
void hpo_model_destroy (hpo_model_t **self_p);

//  Applies batch. Records that do not fit (a trial of a study the model
//  does not know, an update of an unknown trial) are skipped and counted,
//  never trusted into a crash.
void hpo_model_apply (hpo_model_t *self, const hpo_batch_t *batch);

//  The live events (docs/dashboard.md, "GET /api/events") for what the
//  batches applied since the last call changed, coalesced (a trial changed
//  twice is sent once, in its last form), each as type and one line of
//  JSON (no newline), in the order a page should apply them. fn is
//  called once per event; the strings live until fn returns. now: unix
//  seconds (trials_per_minute). Returns how many events were given.
typedef void (hpo_model_event_fn) (void *ctx, const char *type,
                                   const char *json, size_t len);
size_t hpo_model_events (hpo_model_t *self, double now,
                         hpo_model_event_fn *fn, void *ctx);

//  While quiet, applying records nothing for hpo_model_events: for a
//  model loaded at once and never followed (the start-up snapshot, whose
//  state a page fetches whole; hpo report). Off by default.
void hpo_model_quiet (hpo_model_t *self, int quiet);

//  Records skipped by hpo_model_apply so far (tests).
uint64_t hpo_model_skipped (const hpo_model_t *self);

#endif
