/*  qmc.c: quasi-random search with scrambled Sobol points.

    Trial n gets point n of a Sobol sequence, one coordinate per
    parameter in space order, mapped to its value as cube.h says. The
    first 2^m points of a Sobol sequence fill the unit cube far more
    evenly than 2^m random draws (each of its elementary boxes of volume
    2^-m holds one point), so small budgets cover the space better.

    The sequence is GSL's (gsl_qrng_sobol: Antonov and Saleev's Gray-code
    order, 30 bits, up to 40 dimensions), preceded by the origin it skips, so
   points 0 .. 2^m - 1 are a whole net. A space of more than 40 parameters is
   refused at check: GSL has no direction numbers beyond, and filling the rest
   at random would silently be random search.

    Raw Sobol points are the same for every study and start at the
    corner, so each study scrambles them with its seed: Owen's nested
    uniform scrambling, where each binary digit of a coordinate is flipped
    or not by a coin that depends on the digits above it. The coin is a
    hash of (seed, coordinate, depth, digits above) instead of a stored
    tree, so point n depends on (seed, n) alone, as random.c's draws do:
    the same after a restart, whatever order trials ran in. Owen's scramble
    keeps the net property and makes every point uniform in the cube; a
    random linear matrix scramble with a digital shift is cheaper to
    store but keeps more of the sequence's structure, and here nothing is
    stored either way. Digits below the 30th are filled uniformly from the
    same hash, so values are not confined to multiples of 2^-30.

    The history is never read. Draws may repeat in a finite space (small
    categoricals), so the size is unlimited, as random's.                */
#include <assert.h>
#include <gsl/gsl_qrng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "../common/spec.h"
#include "cube.h"
#include "sampler.h"

//  GSL's Sobol table ends there (gsl_qrng_sobol's max_dimension).
#define S_MAX_DIMS 40
//  GSL's Sobol points are integers over 2^30.
#define S_BITS 30

typedef struct {
    uint64_t seed; //  0 when not given
} s_config_t;

typedef struct {
    uint64_t seed;
    size_t dims;
    gsl_qrng *qrng; //  NULL for an empty space
    uint64_t next;  //  the sequence index qrng gives next (1 after init)
} s_qmc_t;

static const char *const s_keys[] = {"seed", NULL};

static int
s_check (const hpo_spec_t *spec, const hpo_search_option_t *options, size_t n,
         void **config, hpo_search_problem_t *problem)
{
    s_config_t qmc = {0};
    for (size_t k = 0; k < n; k++) {
        assert (!strcmp (options[k].key, "seed"));
        if (hpo_search_option_uint (options, k, &qmc.seed, problem))
            return -1;
    }
    if (spec->n_params > S_MAX_DIMS)
        return hpo_search_fail (problem, HPO_SEARCH_AT_SPACE, 0,
                                "qmc supports at most %d parameters (GSL's "
                                "Sobol table), this space has %zu; use "
                                "random or tpe",
                                S_MAX_DIMS, spec->n_params);
    s_config_t *self = hpo_malloc (sizeof *self);
    *self = qmc;
    *config = self;
    return 0;
}

static void
s_config_free (void *config)
{
    free (config);
}

static uint64_t
s_size (const hpo_spec_t *spec, const void *config)
{
    return UINT64_MAX;
}

static void *
s_new (const hpo_spec_t *spec, const void *config)
{
    assert (spec->n_params <= S_MAX_DIMS);
    s_qmc_t *self = hpo_calloc (1, sizeof *self);
    self->seed = ((const s_config_t *)config)->seed;
    self->dims = spec->n_params;
    if (self->dims) {
        //  GSL reports a failed allocation through its error handler,
        //  which aborts, as hpo_malloc does.
        self->qrng = gsl_qrng_alloc (gsl_qrng_sobol, (unsigned)self->dims);
        self->next = 1;
    }
    return self;
}

static void
s_destroy (void *self_)
{
    s_qmc_t *self = self_;
    if (self->qrng)
        gsl_qrng_free (self->qrng);
    free (self);
}

//  splitmix64's finalizer: a bijective mix of 64 bits.
static uint64_t
s_mix (uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

//  One coordinate's S_BITS digits v, Owen-scrambled under key, as a point
//  of [0, 1) with random digits below the last.
static double
s_owen (uint32_t v, uint64_t key)
{
    uint32_t out = v;
    for (int depth = 0; depth < S_BITS; depth++) {
        //  The node of the digit tree: its depth and the digits above.
        uint32_t above = depth ? v >> (S_BITS - depth) : 0;
        uint64_t coin = s_mix (key ^ s_mix (((uint64_t)depth << 32) | above));
        out ^= (uint32_t)(coin & 1) << (S_BITS - 1 - depth);
    }
    uint64_t tail = s_mix (key ^ s_mix (((uint64_t)S_BITS << 32) | v));
    double below = (double)(tail >> 11) * 0x1.0p-53;
    return ldexp ((double)out + below, -S_BITS);
}

//  Raw point number of the sequence into u[0 .. dims), as 30-bit digits.
static void
s_raw (s_qmc_t *self, uint64_t number, uint32_t *digits)
{
    if (number == 0) {
        memset (digits, 0, self->dims * sizeof *digits);
        return;
    }
    //  Trials come in order, so this is one step; after a restart or
    //  for an earlier number, the sequence is replayed from its start.
    if (number < self->next) {
        gsl_qrng_init (self->qrng);
        self->next = 1;
    }
    double x[S_MAX_DIMS];
    while (self->next <= number) {
        gsl_qrng_get (self->qrng, x);
        self->next++;
    }
    for (size_t j = 0; j < self->dims; j++)
        digits[j] = (uint32_t)ldexp (x[j], S_BITS);
}

static int
s_suggest (void *self_, const hpo_spec_t *spec, const hpo_history_t *history,
           uint64_t number, const uint8_t *fixed, hpo_value_t *out)
{
    s_qmc_t *self = self_;
    assert (spec->n_params == self->dims);
    uint32_t digits[S_MAX_DIMS];
    double u[S_MAX_DIMS];
    if (self->dims)
        s_raw (self, number, digits);
    for (size_t k = 0; k < self->dims; k++)
        u[k] = s_owen (digits[k], s_mix (s_mix (self->seed) ^ (uint64_t)k));
    hpo_cube_row (spec, fixed, u, out);
    return 0;
}

const hpo_sampler_ops_t hpo_sampler_qmc = {
    .name = "qmc",
    .summary = "scrambled Sobol points, reproducible from (seed, trial)",
    .keys = s_keys,
    .needs_curves = 0,
    .check = s_check,
    .config_free = s_config_free,
    .size = s_size,
    .new = s_new,
    .destroy = s_destroy,
    .suggest = s_suggest,
};
