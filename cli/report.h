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

//  What the page is made from. workers may be NULL. now: the clock the
//  answers are relative to (the coordinator's, StudyInfo.now).
typedef struct {
    const Hpo__StudyInfo *study;    //  study show's answer, with spec
    const Hpo__TrialList *trials;   //  every trial, curves and attempts
    const Hpo__WorkerList *workers;
    double now;
} hpo_htmlreport_input_t;

//  The data document: {"mode": "report", "generated": now, "api": {PATH:
//  ANSWER, ...}}, "</" written "<\/". Returns a malloc'd string of *len
//  bytes.
char *hpo_htmlreport_data (const hpo_htmlreport_input_t *input, size_t *len);

//  The page (page_size bytes) with the data element inserted before its
//  first "<script", written to path ("-": standard output) through a
//  temporary file renamed into place. Returns 0, or -1 with *error set
//  (the caller frees).
int hpo_htmlreport_write (const hpo_htmlreport_input_t *input,
                          const char *page, size_t page_size,
                          const char *path, char **error);

#endif
