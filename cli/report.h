/*  report.h: hpo report STUDY -o FILE, the dashboard's page as one file
    (docs/dashboard.md, "The report"). From the coordinator's answers (the
    study with its spec, every trial with its values and ended attempts,
    the workers) it fills a batch, applies it to a read model, asks the
    dashboard's own API (dash/api.h) for the documents the page would
    fetch, and writes the page with them inside. No sockets here: the
    CLI fetches, this module builds.                                     */
#ifndef HPO_CLI_REPORT_H
#define HPO_CLI_REPORT_H

#include <stddef.h>

#include "../common/wire.h"

typedef struct _hpo_htmlreport_t hpo_htmlreport_t;

//  A report of study (study show's answer, with its spec; borrowed until
//  the report is destroyed).
hpo_htmlreport_t *hpo_htmlreport_new (const Hpo__StudyInfo *study);
void hpo_htmlreport_destroy (hpo_htmlreport_t **self_p);
//  Takes in one page of the study's trials (TrialsQuery with curves and
//  attempts), which the caller may then free: a trial cut short by one
//  page continues in the next (TrialList.values_next).
void hpo_htmlreport_trials (hpo_htmlreport_t *self,
                            const Hpo__TrialList *page);
//  Takes in the live workers.
void hpo_htmlreport_workers (hpo_htmlreport_t *self,
                             const Hpo__WorkerList *workers);

//  The data document: {"mode": "report", "generated": now, "api": {PATH:
//  ANSWER, ...}}, "</" written "<\/". now: the clock the answers are
//  relative to (the coordinator's, StudyInfo.now). Returns a malloc'd
//  string of *len bytes.
char *hpo_htmlreport_data (hpo_htmlreport_t *self, double now, size_t *len);

//  The page (page_size bytes) with the data element inserted before its
//  first "<script", written to path ("-": standard output) through a
//  temporary file renamed into place. Returns 0, or -1 with *error set
//  (the caller frees).
int hpo_htmlreport_write (hpo_htmlreport_t *self, double now,
                          const char *page, size_t page_size,
                          const char *path, char **error);

#endif
