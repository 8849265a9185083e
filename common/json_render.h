/*  json_render.h: the JSON documents hpo publishes about studies, trials
    and workers, built from the coordinator's answers (the wire's
    StudyInfo, TrialInfo, TrialList, WorkerList). The CLI prints them for
    --json; a server inside the coordinator can send the same documents
    (coordinator/query.h builds the answers). Pure functions: no sockets,
    no clocks; times relative to now use the coordinator's clock in the
    answer (StudyInfo.now, WorkerList.now).

    The JSON documents are an interface scripts rely on: a key, once
    published, keeps its name, type and meaning. Every key is always
    present; what is unknown or does not apply is null, never "" or 0.
    Timestamps are unix seconds (numbers, with fractions). Reals are written
    with 17 significant digits so they read back as the same double, the
    form the trial program itself got them in (HPO_PARAMS_FILE); 0.1 may
    therefore read 0.10000000000000001. docs/cli-json.md says the same for
    users.

    trial (hpo trials, hpo best, and "best" inside a study):
        {"study": "mnist", "number": 7, "state": "COMPLETE",
         "params": {"lr": 0.001, "layers": 3, "opt": "adam"},
         "value": 0.123 | null,          objective value, when it has one
         "attempt": 1,                   current (or last) attempt number
         "worker": "gpu1" | null,        worker of that attempt
         "started": 1764296385.5 | null, that attempt's start
         "ended": 1764296445.1 | null,
         "duration": 59.6 | null,        ended - started, once ended
         "reason": "exit status 1" | null,
         "last_step": 3 | null,          latest intermediate report
         "last_value": 0.41 | null,      its objective value
         "last_metrics": {"val_loss": 0.2, "acc": 0.9} | null}
                                         the last value of every metric,
                                         where asked (TrialsQuery.metrics)
    trial, hpo trial show: the above plus
         "attempts": [{"attempt": 1, "worker": "gpu1", "started": ..,
                       "ended": .. | null, "outcome": "LOST",
                       "reason": "lease expired" | null}, ...],
         "intermediate": [{"attempt": 1 | null, "step": 1,
                           "metric": "val_loss", "value": 0.52}, ...],
                                         attempt null from a coordinator
                                         older than issue #9
         "log_tail": "..." | null
    study (hpo study show, hpo watch --json):
        {"name": "mnist", "state": "RUNNING",
         "budget": 200, "parallel": 16,
         "counts": {"WAITING": 150, "RUNNING": 16, "COMPLETE": 30,
                    "PRUNED": 3, "FAILED": 1},
         "best": trial | null,
         "created": 1764296000.0, "ended": null | 1764299600.0,
         "elapsed": 3600.0 | null,       seconds, to ended or to now
         "objective": {"metric": "val_loss", "direction": "minimize"},
         "sampler": "random"}
    hpo study list:  {"studies": [study, ...]}
    hpo trials:      {"study": "mnist", "trials": [trial, ...]}
    hpo workers:     {"workers": [{"name": "gpu1", "host": "node3",
                      "slots": 4, "running": 2,
                      "last_heartbeat": 1764296385.2 | null,
                      "age": 1.3 | null,   seconds since that heartbeat
                      "alive": true, "pid": 4242 | null}, ...]}
    Numbers that cannot be JSON (NaN, infinities) are written as null.   */
#ifndef HPO_JSON_RENDER_H
#define HPO_JSON_RENDER_H

#include <jansson.h>
#include <stdio.h>

#include "wire.h"

//  Each returns a new reference the caller owns.

//  A trial document. study names the trial's study when TrialInfo.study
//  is empty (may be NULL). detail adds attempts, intermediate, log_tail.
json_t *hpo_json_render_trial (const Hpo__TrialInfo *trial, const char *study,
                               int detail);
json_t *hpo_json_render_study (const Hpo__StudyInfo *study);
json_t *hpo_json_render_study_list (const Hpo__StudyList *list);
json_t *hpo_json_render_trials (const char *study, const Hpo__TrialList *list);
json_t *hpo_json_render_workers (const Hpo__WorkerList *list);
//  The trial hpo ask handed out: {"number": 3, "params": {"lr": 0.001}},
//  absent parameters left out.
json_t *hpo_json_render_asked (const Hpo__TrialInfo *trial);

//  The values of the documents, for other documents of the same data
//  (hpo export): a string (null for NULL or "", invalid UTF-8 replaced),
//  a real (null for NaN and infinities), a parameter typed by its kind.
json_t *hpo_json_render_string (const char *s);
json_t *hpo_json_render_real (double v);
json_t *hpo_json_render_param (const Hpo__Param *param);

//  Writes doc, indented, keys in a fixed order, and a newline. Returns 0,
//  or -1 if it could not be written.
int hpo_json_render_print (FILE *out, const json_t *doc);

//  Seconds from the study's creation to its end, or to the coordinator's
//  now while it runs (the document's "elapsed"); -1 when the answer does
//  not say enough to know.
double hpo_json_render_elapsed (const Hpo__StudyInfo *study);

#endif
