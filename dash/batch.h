/*  batch.h: the writes of one committed loop turn, as the dashboard's
    read model takes them (docs/dashboard.md). The loop thread fills a
    batch through the store's tap (coordinator/feed.c); the dashboard
    thread applies it (dash/model.h). Every appender copies what it is
    given, so a batch owns all it holds and may cross threads. The CLI's
    report fills batches from the coordinator's answers the same way.   */
#ifndef HPO_BATCH_H
#define HPO_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "../coordinator/store.h"

typedef struct _hpo_batch_t hpo_batch_t;

hpo_batch_t *hpo_batch_new (void);
void hpo_batch_destroy (hpo_batch_t **self_p);
//  Whether nothing was appended.
int hpo_batch_empty (const hpo_batch_t *self);
//  Records appended so far (tests, and a bound on a batch's size).
size_t hpo_batch_size (const hpo_batch_t *self);

//  The store's writes (store.h), in the order they were made.
void hpo_batch_study_insert (hpo_batch_t *self, uint64_t id, const char *name,
                             const char *spec_text, double created);
void hpo_batch_study_state (hpo_batch_t *self, uint64_t id, const char *state,
                            double ended);
void hpo_batch_study_update (hpo_batch_t *self,
                             const hpo_store_study_row_t *row);
void hpo_batch_study_delete (hpo_batch_t *self, uint64_t id);
//  A trial inserted (row->id is the id it got) or updated.
void hpo_batch_trial (hpo_batch_t *self, const hpo_store_trial_row_t *row);
void hpo_batch_attempt (hpo_batch_t *self, uint64_t trial_id,
                        const hpo_store_attempt_row_t *row);
void hpo_batch_value (hpo_batch_t *self, uint64_t trial_id, uint32_t attempt,
                      int64_t step, const char *metric, double value);
//  Not a write: the live workers, an encoded wire Envelope holding a
//  WorkerList (the answer hpo workers gets), published by the loop about
//  once a second.
void hpo_batch_workers (hpo_batch_t *self, const void *envelope, size_t size);

//  ---- reading a batch back (dash/model.c) ------------------------------
typedef enum {
    HPO_BATCH_STUDY_INSERT = 1, //  id, study.name, .spec, .created
    HPO_BATCH_STUDY_STATE,      //  id, study.state, .ended
    HPO_BATCH_STUDY_UPDATE,     //  id, study (the mutable columns)
    HPO_BATCH_STUDY_DELETE,     //  id
    HPO_BATCH_TRIAL,            //  id, trial
    HPO_BATCH_ATTEMPT,          //  id (the trial's), attempt
    HPO_BATCH_VALUE,            //  id (the trial's), value
    HPO_BATCH_WORKERS,          //  blob, size: the encoded envelope
} hpo_batch_kind_t;

typedef struct {
    hpo_batch_kind_t kind;
    uint64_t id;
    hpo_store_study_row_t study;
    hpo_store_trial_row_t trial;
    hpo_store_attempt_row_t attempt;
    struct {
        uint32_t attempt;
        int64_t step;
        const char *metric;
        double value;
    } value;
    const void *blob;
    size_t size;
} hpo_batch_record_t;

//  Fills *record with the index'th record (index < hpo_batch_size); its
//  pointers live until the batch is appended to or destroyed.
void hpo_batch_get (const hpo_batch_t *self, size_t index,
                    hpo_batch_record_t *record);

#endif
