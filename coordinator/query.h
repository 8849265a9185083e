/*  query.h: the coordinator's read-only answers to the CLI (study show
    and list, trials, trial show, best, workers). Each reads the
    scheduler's memory, and the store for a trial's history, and builds
    its answer as a wire message, or an Error saying why not. Nothing
    here changes any state, so an answer needs no commit; the loop in
    server.c only sends it. Another front end (an HTTP server) can take
    the same answers and render them (common/json_render.h).             */
#ifndef HPO_QUERY_H
#define HPO_QUERY_H

#include <stdint.h>

#include "../common/wire.h"
#include "sched.h"
#include "store.h"

//  Whether a request with this body is answered here.
int hpo_query_serves (Hpo__Envelope__BodyCase body);

//  Answers request (a body hpo_query_serves) into reply, with the
//  request's seq; now_ms is the loop's monotonic time (whether a worker
//  is alive). The reply owns what it holds: release it with
//  hpo_wire_msg_done once sent or encoded.
void hpo_query_answer (hpo_sched_t *sched, hpo_store_t *store,
                       const hpo_env_t *request, int64_t now_ms,
                       hpo_wire_msg_t *reply);

//  The study named name (NULL allowed), or NULL with reply set to the
//  ERR_NOT_FOUND Error for seq that says so.
hpo_study_t *hpo_query_study (hpo_sched_t *sched, const char *name,
                              uint64_t seq, hpo_wire_msg_t *reply);

//  A TrialInfo answer for trial t (hpo ask's), with seq.
void hpo_query_trial (hpo_trial_t *t, uint64_t seq, hpo_wire_msg_t *reply);

#endif
