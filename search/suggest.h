/*  suggest.h: the suggestion driver, one per study. It owns the study's
    sampler instance and is the only caller of its suggest, pending and
    tell. Around the sampler it does what every sampler needs alike:

      1. given values: a configuration the caller already chose, whole or
         in part (an enqueued trial, `hpo ask` with values), is kept as it
         is and the sampler draws only the rest;
      2. hybrid search: the grid parameters (grid: true) of a study whose
         sampler is not grid are set to the grid point with the fewest
         trials so far (ties: the lowest point), so every point has its
         first trial before any has its second, and after B trials each of
         P points has B / P of them (one more for the first B % P);
      3. no duplicates: in a space of finite size, a configuration that
         any trial of the study already has (running, finished, waiting)
         is never handed out again; when every one is taken, next returns
         1 and the study ends, as a grid's does.

    Everything it counts derives from the history's rows, which it reads
    as they appear (rows are never changed once added), so a coordinator
    that replays a study's trials at start-up gets the same counts and,
    with the same results in the same order, the same suggestions.

        hpo_suggest_t *s = hpo_suggest_new (spec);
        rc = hpo_suggest_next (s, history, history->n, NULL, NULL, row);
        hpo_history_append (history, row);   //  the caller's, then:
        hpo_suggest_pending (s, history, number);   //  as it starts
        hpo_suggest_tell (s, history, number);      //  as it ends
        hpo_suggest_destroy (&s);                                         */
#ifndef HPO_SUGGEST_H
#define HPO_SUGGEST_H

#include <stddef.h>
#include <stdint.h>

#include "../common/value.h"
#include "history.h"
#include "search.h"

typedef struct _hpo_suggest_t hpo_suggest_t;

//  A driver for a study of this spec, with a new instance of its sampler
//  (spec->sampler). The spec must outlive it. Never NULL (out of memory
//  aborts).
hpo_suggest_t *hpo_suggest_new (const hpo_spec_t *spec);
//  Destroys the driver and its sampler instance; idempotent.
void hpo_suggest_destroy (hpo_suggest_t **self_p);

//  Fills out [0 .. n_params) with the parameters of trial number, which
//  must be history->n (the next row). given, when not NULL, has n_params
//  flags: given[k] nonzero means out[k] is given_values[k] (copied;
//  HPO_KIND_NONE is allowed for a parameter whose condition does not
//  hold). Given values win over the hybrid grid point; a configuration
//  fully given is handed out even if a trial already has it (the caller
//  asked for it), and so is a partial one whose every completion is
//  taken. A given value of a parameter whose condition does not hold in
//  the row is dropped (HPO_KIND_NONE). Some grid parameters given: the
//  others come from the least-tried grid point that agrees. Returns 0
//  (the caller frees out's values with hpo_values_clear), 1 when no
//  configuration is left (the study ends), -1 when the sampler failed
//  (the caller logs it); on 1 and -1 out holds nothing.
int hpo_suggest_next (hpo_suggest_t *self, const hpo_history_t *history,
                      uint64_t number, const uint8_t *given,
                      const hpo_value_t *given_values, hpo_value_t *out);

//  Trial number started running / reached a final state: passed to the
//  sampler's pending / tell.
void hpo_suggest_pending (hpo_suggest_t *self, const hpo_history_t *history,
                          uint64_t number);
void hpo_suggest_tell (hpo_suggest_t *self, const hpo_history_t *history,
                       uint64_t number);

//  Hybrid search: the number of grid points (the product of the grid
//  parameters' counts), 0 when the study has no grid parameter or its
//  sampler is grid.
uint64_t hpo_suggest_grid_points (const hpo_suggest_t *self);
//  Trials so far at grid point p (< hpo_suggest_grid_points), as of the
//  history's rows (read up to history->n first). The grid point's
//  values, in space order of the grid parameters, are written to
//  values[0 .. n_grid) when values is not NULL (the caller clears them).
uint64_t hpo_suggest_grid_trials (hpo_suggest_t *self,
                                  const hpo_history_t *history, uint64_t p,
                                  hpo_value_t *values);
//  The fewest and most trials any grid point has had (0, 0 without grid
//  points).
void hpo_suggest_grid_spread (hpo_suggest_t *self, const hpo_history_t *history,
                              uint64_t *min, uint64_t *max);

#endif
