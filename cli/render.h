/*  render.h: what the CLI prints for people. Pure functions of the
    coordinator's replies, each writing text to a FILE (the --json
    documents come from common/json_render.h). No sockets and no clocks:
    times are shown relative to the coordinator's own clock
    (StudyInfo.now, WorkerList.now), so output does not depend on the
    clock of the machine the CLI runs on.                                */
#ifndef HPO_RENDER_H
#define HPO_RENDER_H

#include <stdio.h>

#include "../common/wire.h"

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
