/*  dashtest.h: building batches for the dashboard's unit tests
    (test_model.c, test_api.c) and its bench (bench/dash_api.c).        */
#ifndef HPO_DASHTEST_H
#define HPO_DASHTEST_H

#include <stdlib.h>
#include <string.h>

#include "../../common/mem.h"
#include "../../common/wire.h"
#include "../../dash/batch.h"

//  A study with a conditional parameter (mom only when opt is sgd).
static const char t_spec[] =
    "name: mnist\n"
    "objective: {metric: val_loss, direction: minimize}\n"
    "sampler: {type: random}\n"
    "pruner: {type: median}\n"
    "budget: {trials: 10}\n"
    "space:\n"
    "  lr: {type: float, low: 1.0e-5, high: 0.1, log: true}\n"
    "  layers: {type: int, low: 1, high: 8}\n"
    "  opt: {type: categorical, values: [adam, sgd]}\n"
    "  mom: {type: float, low: 0.5, high: 0.99, when: {opt: sgd}}\n";

static inline void
t_trial (hpo_batch_t *b, uint64_t id, uint64_t study, uint64_t number,
         const char *state, uint32_t attempt, const char *params,
         int has_value, double value, const char *worker, double started,
         double ended, const char *reason)
{
    hpo_store_trial_row_t row = {.id = id, .study_id = study,
                                 .number = number, .state = state,
                                 .attempt = attempt, .params = params,
                                 .has_value = has_value, .value = value,
                                 .worker = worker, .started = started,
                                 .ended = ended, .reason = reason};
    hpo_batch_trial (b, &row);
}

static inline void
t_attempt (hpo_batch_t *b, uint64_t trial, uint32_t attempt,
           const char *worker, double started, double ended,
           const char *outcome, const char *reason)
{
    hpo_store_attempt_row_t row = {.attempt = attempt, .worker = worker,
                                   .started = started, .ended = ended,
                                   .outcome = outcome, .reason = reason};
    hpo_batch_attempt (b, trial, &row);
}

//  A WorkerList envelope with one worker, as the loop publishes it.
static inline void
t_workers (hpo_batch_t *b, const char *name, double now)
{
    Hpo__WorkerInfo w = HPO__WORKER_INFO__INIT;
    w.name = (char *)name;
    w.host = (char *)"node1";
    w.slots = 4;
    w.running = 1;
    w.last_seen = now - 1;
    w.alive = 1;
    Hpo__WorkerInfo *ws[] = {&w};
    Hpo__WorkerList list = HPO__WORKER_LIST__INIT;
    list.workers = ws;
    list.n_workers = 1;
    list.now = now;
    hpo_wire_msg_t msg;
    hpo_wire_worker_list (&msg, 1, &list);
    size_t size;
    uint8_t *data = hpo_wire_encode (&msg.env, &size);
    hpo_batch_workers (b, data, size);
    free (data);
    hpo_wire_msg_done (&msg);
}

#endif
