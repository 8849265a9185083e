/*  refine.h: what the coordinator needs of the refine sampler besides its
    ops (search/sampler.h).

    sampler: {type: refine, from: STUDY, top: K, points: N, shrink: F}
    runs a grid around the K best COMPLETE trials of STUDY. The sampler is
    pure, so it cannot read STUDY: when such a study is created, the
    coordinator (coordinator/derive.h) finds those trials and writes
    their parameters into the stored study file as the sampler's centres
    option, a JSON list of {name: value} objects, best first:

        sampler: {type: refine, from: mnist, top: 2, points: 3,
                  shrink: 0.2, centres: '[{"lr":0.01,"opt":"adam"},
                                          {"lr":0.003,"opt":"sgd"}]'}

    From then on the study depends on STUDY no more: a restart rebuilds
    the same grid even if STUDY changed or was deleted.                   */
#ifndef HPO_REFINE_H
#define HPO_REFINE_H

#include <stddef.h>
#include <stdint.h>

#include "sampler.h"

extern const hpo_sampler_ops_t hpo_sampler_refine;

//  Defaults of the options, for messages and --help.
#define HPO_REFINE_TOP 5
#define HPO_REFINE_POINTS 5
#define HPO_REFINE_SHRINK 0.2
//  Points in one refine grid at most: past it the study file is refused
//  (fewer points or a smaller top brings it under).
#define HPO_REFINE_MAX_POINTS 100000

//  The study spec's refine sampler takes its centres from, when it has no
//  centres yet; NULL for any other spec (another sampler, or centres
//  given). Borrowed from the spec.
const char *hpo_refine_from (const hpo_spec_t *spec);

//  How many best trials the spec's refine sampler centres on (its top).
uint64_t hpo_refine_top (const hpo_spec_t *spec);

//  Why the trials of study from cannot be centres of spec's space: a
//  parameter missing on either side, or of another type. NULL when the
//  two spaces have the same parameter names and types (order aside);
//  else a malloc'd message the caller frees.
char *hpo_refine_mismatch (const hpo_spec_t *spec, const hpo_spec_t *from);

#endif
