/*  hyperband.c: Hyperband as Optuna 3.1's HyperbandPruner runs it:
    brackets of successive halving (search/asha.c's ladder), bracket b
    starting its rungs at min_resource * eta^b. Options and defaults:
    min_resource 1, max_resource auto, reduction_factor 3,
    bootstrap_count 0.

    The number of brackets is floor(log_eta(max_resource /
    min_resource)) + 1, counted with integers: the largest s with
    min_resource * eta^s <= max_resource, plus one. (Optuna computes it
    with a floating-point logarithm, which falls one short at some exact
    powers: max_resource 243 = 3^5 with min_resource 1 gives it 5
    brackets, here 6; 1000 = 10^3 with eta 10 gives it 3, here 4.)
    max_resource auto is the largest last step of the COMPLETE trials
    plus one, fixed the first time a trial has completed; until then
    nothing is pruned.

    Bracket b (s = n - 1 - b) gets a share ceil(n * eta^s / (s + 1)) of
    the trials. A trial's bracket is the CRC-32 (IEEE 802.3, as zlib's
    and Python's binascii.crc32) of "STUDY_NUMBER" modulo the sum of the
    shares, walked through the shares in bracket order: the same rule as
    Optuna's, so the same study name and trial number land in the same
    bracket here as there, in every run. The CRC is computed bit by bit
    from its definition, once per trial. A trial competes only with the
    trials of its bracket.                                                 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "../common/spec.h"
#include "asha.h"

#define S_MAX_BRACKETS 64 //  eta >= 2 and steps < 2^63

typedef struct {
    hpo_asha_run_t run; //  first: hpo_asha_report's
    hpo_asha_config_t config;
    int maximize;
    char *study;
    uint32_t n_brackets; //  0 until max_resource is known
    uint64_t shares[S_MAX_BRACKETS];
    uint64_t total; //  sum of shares, saturated
    hpo_asha_ladder_t *ladders[S_MAX_BRACKETS];
    int never; //  auto came out below min_resource: Optuna never prunes
} s_hyperband_t;

static const char *const s_keys[] = {"min_resource", "max_resource",
                                     "reduction_factor", "bootstrap_count",
                                     NULL};

static int
s_check (const hpo_spec_t *spec, const hpo_search_option_t *options, size_t n,
         void **config, hpo_search_problem_t *problem)
{
    return hpo_asha_check (options, n, 1, config, problem);
}

static uint64_t
s_sat_mul (uint64_t a, uint64_t b)
{
    return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

//  Brackets and their shares once max_resource is known; whether it is.
static int
s_ready (void *self_, const hpo_history_t *history)
{
    s_hyperband_t *self = self_;
    if (self->n_brackets || self->never)
        return self->n_brackets > 0;
    const hpo_asha_config_t *c = &self->config;
    int64_t max = c->max_resource;
    if (!max) {
        int64_t last = hpo_asha_complete_last_step (history);
        if (last < 0)
            return 0;
        max = last + 1;
    }
    if (max < c->min_resource) {
        //  Optuna fixes max_resource at its first estimate, and a
        //  negative count of brackets then stays.
        self->never = 1;
        return 0;
    }
    uint32_t n = 1;
    for (uint64_t r = (uint64_t)c->min_resource;
         r <= (uint64_t)max / c->eta && n < S_MAX_BRACKETS; r *= c->eta)
        n++;
    self->n_brackets = n;
    self->total = 0;
    for (uint32_t b = 0; b < n; b++) {
        uint32_t s = n - 1 - b;
        uint64_t power = 1;
        for (uint32_t k = 0; k < s; k++)
            power = s_sat_mul (power, c->eta);
        uint64_t top = s_sat_mul (n, power);
        //  ceil (top / (s + 1)) without the overflow of top + s.
        self->shares[b] = top / (s + 1) + (top % (s + 1) != 0);
        self->total = self->total > UINT64_MAX - self->shares[b]
                          ? UINT64_MAX
                          : self->total + self->shares[b];
        self->ladders[b] = hpo_asha_ladder_new (
            c->min_resource, c->eta, b, c->bootstrap, self->maximize);
    }
    return 1;
}

//  CRC-32 of IEEE 802.3 (reflected polynomial 0xEDB88320), bit by bit.
static uint32_t
s_crc32 (const char *text)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        crc ^= *p;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

static uint32_t
s_bracket (const s_hyperband_t *self, uint64_t number)
{
    char *key = hpo_sprintf ("%s_%llu", self->study,
                             (unsigned long long)number);
    //  A saturated total is above any CRC: the modulo is then the CRC.
    uint64_t left = s_crc32 (key) % self->total;
    free (key);
    for (uint32_t b = 0; b < self->n_brackets; b++) {
        if (left < self->shares[b])
            return b;
        left -= self->shares[b];
    }
    assert (!"the shares sum to the total");
    return 0;
}

static int32_t
s_pick (void *self, uint64_t number)
{
    return (int32_t)s_bracket (self, number);
}

static hpo_asha_ladder_t *
s_ladder (void *self_, int32_t index)
{
    s_hyperband_t *self = self_;
    assert (index >= 0 && (uint32_t)index < self->n_brackets);
    return self->ladders[index];
}

static void *
s_new (const hpo_spec_t *spec, const void *config)
{
    s_hyperband_t *self = hpo_malloc (sizeof *self);
    *self = (s_hyperband_t){.config = *(const hpo_asha_config_t *)config,
                            .maximize = spec->maximize,
                            .study = hpo_strdup (spec->name),
                            .run = {.ready = s_ready,
                                    .pick = s_pick,
                                    .ladder = s_ladder,
                                    .bracketed = 1}};
    self->run.owner = self;
    return self;
}

static void
s_destroy (void *self_)
{
    s_hyperband_t *self = self_;
    for (uint32_t b = 0; b < self->n_brackets; b++)
        hpo_asha_ladder_destroy (&self->ladders[b]);
    hpo_asha_run_free (&self->run);
    free (self->study);
    free (self);
}

uint32_t
hpo_hyperband_bracket (void *self_, uint64_t number)
{
    s_hyperband_t *self = self_;
    assert (self->n_brackets);
    return s_bracket (self, number);
}

uint64_t
hpo_hyperband_share (void *self_, uint32_t b)
{
    s_hyperband_t *self = self_;
    return b < self->n_brackets ? self->shares[b] : 0;
}

uint32_t
hpo_hyperband_n_brackets (void *self_)
{
    return ((s_hyperband_t *)self_)->n_brackets;
}

const hpo_pruner_ops_t hpo_pruner_hyperband = {
    .name = "hyperband",
    .summary = "brackets of successive halving (Optuna's HyperbandPruner)",
    .keys = s_keys,
    .needs_curves = 1,
    .check = s_check,
    .config_free = free, //  an hpo_asha_config_t
    .new = s_new,
    .destroy = s_destroy,
    .report = hpo_asha_report,
    .restore = hpo_asha_restore,
};
