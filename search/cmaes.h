/*  cmaes.h: what a CMA-ES sampler instance (search/cmaes.c, the sampler
    "cmaes") has learnt so far, for tests, benchmarks and listings. The
    sampler itself is used through its registry entry, as any other.     */
#ifndef HPO_CMAES_H
#define HPO_CMAES_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t dims;         //  parameters it models (float and int ranges)
    size_t popsize;      //  lambda of the current run
    uint64_t generation; //  updates so far, over every restart
    uint64_t restarts;   //  IPOP restarts so far
    double sigma;        //  step size, in the unit box
    size_t told;         //  results of the current generation so far
} hpo_cmaes_state_t;

//  Fills *state from self, an instance of hpo_sampler_cmaes (its new's).
void hpo_cmaes_state (const void *self, hpo_cmaes_state_t *state);

#endif
