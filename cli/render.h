/*  render.h: what the CLI prints. Pure functions of the coordinator's
    replies: each either builds a JSON document (--json) or writes text for
    people to a FILE. No sockets and no clocks: times are shown relative to
    the coordinator's own clock (StudyInfo.now, WorkerList.now), so output
    does not depend on the clock of the machine the CLI runs on.

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
         "reason": "exit status 1" | null,
         "last_step": 3 | null,          latest intermediate report
         "last_value": 0.41 | null}      its objective value
    trial, hpo trial show: the above plus
         "attempts": [{"attempt": 1, "worker": "gpu1", "started": ..,
                       "ended": .. | null, "outcome": "LOST",
                       "reason": "lease expired" | null}, ...],
         "intermediate": [{"step": 1, "metric": "val_loss",
                           "value": 0.52}, ...],
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
#ifndef HPO_RENDER_H
#define HPO_RENDER_H

#include <jansson.h>
#include <stdio.h>

#include "../common/wire.h"

//  ---- JSON documents; each returns a new reference the caller owns ----

//  A trial document. study names the trial's study when TrialInfo.study
//  is empty (may be NULL). detail adds attempts, intermediate, log_tail.
json_t *hpo_render_trial_json (const Hpo__TrialInfo *trial, const char *study,
                               int detail);
json_t *hpo_render_study_json (const Hpo__StudyInfo *study);
json_t *hpo_render_study_list_json (const Hpo__StudyList *list);
json_t *hpo_render_trials_json (const char *study, const Hpo__TrialList *list);
json_t *hpo_render_workers_json (const Hpo__WorkerList *list);

//  Writes doc, indented, keys in a fixed order, and a newline. Returns 0,
//  or -1 if it could not be written.
int hpo_render_json_print (FILE *out, const json_t *doc);

//  ---- text for people ---------------------------------------------------

//  NAME STATE DONE/BUDGET RUNNING BEST ELAPSED
void hpo_render_study_list (FILE *out, const Hpo__StudyList *list);
//  Counts per state, best so far, elapsed, objective, sampler.
void hpo_render_study (FILE *out, const Hpo__StudyInfo *study);
//  NUMBER STATE VALUE ATTEMPT WORKER and one column per parameter.
void hpo_render_trials (FILE *out, const Hpo__TrialList *list);
//  One trial in full: params, attempts, intermediate values, log tail.
void hpo_render_trial (FILE *out, const Hpo__TrialInfo *trial,
                       const char *study);
//  The best trial: number, value, params.
void hpo_render_best (FILE *out, const Hpo__TrialInfo *trial,
                      const char *study);
//  NAME HOST SLOTS RUNNING LAST-HEARTBEAT ALIVE
void hpo_render_workers (FILE *out, const Hpo__WorkerList *list);

//  hpo watch when stdout is not a terminal: one line, without the time
//  ("mnist 12/50 done, 4 running, best 0.123 (trial 7)"). Caller frees.
char *hpo_render_watch_line (const Hpo__StudyInfo *study);
//  hpo watch on a terminal: a progress bar, the running trials with their
//  latest step and value (at most max_rows of them), and the best so far.
//  Lines are cut to width - 1 columns so none wraps and the caller can
//  move the cursor back over them; running may be NULL. Returns the
//  number of lines written.
int hpo_render_watch_frame (FILE *out, const Hpo__StudyInfo *study,
                            const Hpo__TrialList *running, int width,
                            int max_rows);

//  "45s", "3m04s", "2h05m", "3d04h"; "-" for a negative time. Caller frees.
char *hpo_render_duration (double seconds);

#endif
