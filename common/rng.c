/*  rng.c: xoshiro256** (Blackman and Vigna), seeded through splitmix64.
    Only integer arithmetic with fixed widths, so a (seed, stream) pair
    gives the same numbers on every platform and compiler.               */
#include "rng.h"

#include <assert.h>

//  splitmix64's output function: a bijection on 64 bits whose every output
//  bit depends on every input bit. Used both to mix (seed, stream) and to
//  expand the result into xoshiro's 256 bits of state.
static uint64_t
s_mix (uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t
s_splitmix (uint64_t *x)
{
    *x += 0x9e3779b97f4a7c15ULL;
    return s_mix (*x);
}

static uint64_t
s_rotl (uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void
hpo_rng_seed (hpo_rng_t *self, uint64_t seed, uint64_t stream)
{
    assert (self);
    //  Mixing the seed before folding in the stream keeps neighbouring
    //  pairs apart: (s, n) and (s + 1, n - 1) would collide if we simply
    //  added them, and (a, b) and (b, a) if we xor'ed them unmixed.
    uint64_t x = s_mix (s_mix (seed ^ 0x6a09e667f3bcc908ULL) + stream);
    for (int k = 0; k < 4; k++)
        self->s[k] = s_splitmix (&x);
    //  The one state xoshiro cannot leave; splitmix64 never yields four
    //  zeros in a row, but the generator would be stuck forever if it did.
    if (!(self->s[0] | self->s[1] | self->s[2] | self->s[3]))
        self->s[0] = 1;
}

uint64_t
hpo_rng_next (hpo_rng_t *self)
{
    uint64_t *s = self->s;
    uint64_t result = s_rotl (s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s_rotl (s[3], 45);
    return result;
}

double
hpo_rng_uniform (hpo_rng_t *self)
{
    //  The top 53 bits fill a double's mantissa exactly: every result is a
    //  multiple of 2^-53 in [0, 1), never 1.
    return (double)(hpo_rng_next (self) >> 11) * 0x1.0p-53;
}

uint64_t
hpo_rng_below (hpo_rng_t *self, uint64_t n)
{
    assert (n > 0);
    //  Reject the low 2^64 mod n values so that what remains is a whole
    //  number of copies of [0, n): then r % n is exactly uniform. At most
    //  half the range is ever rejected, so the loop ends quickly.
    uint64_t threshold = -n % n;
    for (;;) {
        uint64_t r = hpo_rng_next (self);
        if (r >= threshold)
            return r % n;
    }
}
