/*  render.h: what the CLI prints for people. Pure functions of the
    coordinator's replies, each writing text to a FILE (the --json
    documents come from common/json_render.h). No sockets and no clocks:
    times are shown relative to the coordinator's own clock
    (StudyInfo.now, WorkerList.now), so output does not depend on the
    clock of the machine the CLI runs on.

    On a terminal numbers have at most 6 significant digits and a long
    name, parameter value or reason is cut to a width with "…" (never
    inside a UTF-8 character); --json and hpo export keep exact values.  */
#ifndef HPO_RENDER_H
#define HPO_RENDER_H

#include <jansson.h>
#include <stdio.h>

#include "../common/wire.h"

//  ---- text for people ---------------------------------------------------

//  NAME STATE DONE/BUDGET RUNNING FAILED BEST ELAPSED
void hpo_render_study_list (FILE *out, const Hpo__StudyList *list);
//  Counts per state, best so far, elapsed, objective, sampler.
void hpo_render_study (FILE *out, const Hpo__StudyInfo *study);
//  hpo study show NAME --grid: a hybrid search's grid points, a column
//  per grid parameter and TRIALS, one row per point (a line saying so
//  when there are too many to list, or none).
void hpo_render_study_grid (FILE *out, const Hpo__StudyInfo *study);
//  The same as one JSON document: {"study", "grid_points", "trials_min",
//  "trials_max", "points": [{"params": {...}, "trials": N}] or null when
//  too many to list}. A new reference the caller owns.
json_t *hpo_render_study_grid_json (const Hpo__StudyInfo *study);
//  NUMBER STATE VALUE ATTEMPT WORKER DURATION, one column per parameter,
//  REASON.
void hpo_render_trials (FILE *out, const Hpo__TrialList *list);
//  One trial in full: params, attempts, intermediate values (a row per
//  attempt and step, a column per metric), log tail.
void hpo_render_trial (FILE *out, const Hpo__TrialInfo *trial,
                       const char *study);
//  The best trial: number, value, params.
void hpo_render_best (FILE *out, const Hpo__TrialInfo *trial,
                      const char *study);
//  NAME HOST SLOTS RUNNING LAST-HEARTBEAT ALIVE
void hpo_render_workers (FILE *out, const Hpo__WorkerList *list);

//  hpo watch when stdout is not a terminal: one line, without the time
//  ("mnist 12/50 done, 4 running, best 0.123 (trial 7), ETA 4m 10s,
//  last failure: trial 3: exit status 2"). Caller frees.
char *hpo_render_watch_line (const Hpo__StudyInfo *study);
//  hpo watch on a terminal: a progress bar with the ETA, the best so far,
//  the last failure (when the answer names one), the running trials with their
//  latest step and value (at most max_rows of them), and the best so far.
//  Lines are cut to width - 1 columns so none wraps and the caller can
//  move the cursor back over them; running may be NULL. Returns the
//  number of lines written.
int hpo_render_watch_frame (FILE *out, const Hpo__StudyInfo *study,
                            const Hpo__TrialList *running, int width,
                            int max_rows);

//  "45s", "3m04s", "2h05m", "3d04h"; "-" for a negative time. Caller frees.
char *hpo_render_duration (double seconds);

//  "ETA 4m 10s": the trials left (budget less those ended) times
//  StudyInfo.mean_duration, shared among the running trials (or the
//  study's parallel when none runs). NULL when it cannot be known: no
//  mean yet (0), no parallelism to go by, or nothing left. Caller frees.
char *hpo_render_eta (const Hpo__StudyInfo *study);

//  v with at most 6 significant digits ("0.123457", "1.5e-07", "nan",
//  "-inf"). Caller frees.
char *hpo_render_number (double v);

//  s (NULL: "") in at most max columns (a column per character): a
//  longer text keeps max - 1 characters and ends in "…". Line breaks and
//  tabs become spaces, so a cell stays one line. Caller frees.
char *hpo_render_cut (const char *s, size_t max);

//  Seconds from the trial's (current attempt's) start to its end, or -1
//  while it has not ended.
double hpo_render_trial_duration (const Hpo__TrialInfo *trial);

//  ---- hpo export ----------------------------------------------------------
//  One row per trial of list (filled with TrialsQuery.metrics), as CSV
//  with a header line, or as JSON Lines (an object per line, the same
//  keys). The columns:
//      number, state, one per parameter (its name; "param:NAME" if the
//      name is one of the fixed columns), value, "metric:NAME" for every
//      metric any trial reported (its last value: the latest attempt's
//      highest step), attempts, worker, started, ended (ISO 8601 UTC,
//      "2026-11-28T10:11:03.250Z"), duration (seconds), reason.
//  Missing is an empty field (null in JSON); reals are written with 17
//  significant digits, so they read back as the same double. Returns 0,
//  or -1 if the output could not be written.
int hpo_render_export (FILE *out, const Hpo__TrialList *list, int jsonl);
//  The intermediate values of list (filled with TrialsQuery.curves) in
//  long form: trial, attempt, step, metric, value; by trial, then
//  attempt, step, metric.
int hpo_render_export_curves (FILE *out, const Hpo__TrialList *list, int jsonl);
//  Writes s (NULL: "") as one CSV field, quoted (quotes doubled) when it
//  holds a comma, a quote, CR or LF (RFC 4180).
void hpo_render_csv_field (FILE *out, const char *s);

#endif
