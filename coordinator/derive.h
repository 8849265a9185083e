/*  derive.h: study files the coordinator writes from other studies.

    A refine study (search/refine.h) centres on the best trials of the
    study its sampler's from: names. Samplers do not read the store, so
    when such a study is created the coordinator reads those trials here
    and writes their parameters into the study's text as the sampler's
    centres: option. The stored text then holds all the study needs, and
    a restart rebuilds the same grid whatever became of the other study.

    `hpo study refine` sends only a sampler (and maybe a name); the
    coordinator copies the rest of the study file from the study it
    refines.                                                              */
#ifndef HPO_DERIVE_H
#define HPO_DERIVE_H

#include "../common/spec.h"
#include "sched.h"

//  spec is parsed from text and its refine sampler has no centres
//  (hpo_refine_from gives the study). Returns text with the centres
//  written in: the parameters of the top COMPLETE trials of that study,
//  best first by its own objective. NULL with *error set (malloc'd) when
//  the study does not exist, has no COMPLETE trial, or its space differs
//  from spec's (parameter names and types).
char *hpo_derive_centres (hpo_sched_t *sched, const hpo_spec_t *spec,
                          const char *text, char **error);

//  request: a study file of only sampler: (a refine sampler whose from:
//  names an existing study) and, optionally, name:. Returns that study's
//  stored file with its name and sampler replaced, its pruner and
//  budget.trials left out (the refined grid sets the budget); without a
//  name, FROM-refine, or FROM-refine2, -refine3 ... if taken. NULL with
//  *error set (malloc'd). The caller parses the result as any study file.
char *hpo_derive_refine (hpo_sched_t *sched, const char *request, char **error);

#endif
