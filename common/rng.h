/*  rng.h: xoshiro256** seeded through splitmix64. Deterministic on every
    platform, so a seed reproduces a study anywhere.                      */
#ifndef HPO_RNG_H
#define HPO_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s [4];
} hpo_rng_t;

//  Seeds from a seed and a stream number (a trial number, say): the same
//  pair always gives the same sequence, whatever came before.
void hpo_rng_seed (hpo_rng_t *self, uint64_t seed, uint64_t stream);
uint64_t hpo_rng_next (hpo_rng_t *self);
//  Uniform in [0, 1).
double hpo_rng_uniform (hpo_rng_t *self);
//  Uniform integer in [0, n), n > 0, without modulo bias.
uint64_t hpo_rng_below (hpo_rng_t *self, uint64_t n);

#endif
