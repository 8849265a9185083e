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
    int64_t min_resource, max_resource; //  max 0: auto
    uint64_t eta, bootstrap;
} s_config_t;

typedef struct {
    s_config_t config;
    int maximize;
    char *study;
    uint32_t n_brackets; //  0 until max_resource is known
    uint64_t shares[S_MAX_BRACKETS];
    uint64_t total; //  sum of shares, saturated
    hpo_asha_ladder_t *ladders[S_MAX_BRACKETS];
    hpo_asha_trials_t trials;
    int asked;
    int never; //  auto came out below min_resource: Optuna never prunes
} s_hyperband_t;

static const char *const s_keys[] = {"min_resource", "max_resource",
                                     "reduction_factor", "bootstrap_count",
                                     NULL};

static int
s_check (const hpo_spec_t *spec, const hpo_search_option_t *options, size_t n,
         void **config, hpo_search_problem_t *problem)
{
    s_config_t c = {.min_resource = 1, .max_resource = 0, .eta = 3};
    size_t bootstrap_at = 0, max_at = 0;
    for (size_t k = 0; k < n; k++) {
        const char *key = options[k].key;
        int rc;
        if (!strcmp (key, "min_resource"))
            rc = hpo_asha_option_resource (options, k, 0, &c.min_resource,
                                           problem);
        else if (!strcmp (key, "max_resource")) {
            rc = hpo_asha_option_resource (options, k, 1, &c.max_resource,
                                           problem);
            max_at = k;
        } else if (!strcmp (key, "reduction_factor"))
            rc = hpo_asha_option_at_least (options, k, 2, &c.eta, problem);
        else {
            assert (!strcmp (key, "bootstrap_count"));
            rc = hpo_asha_option_at_least (options, k, 0, &c.bootstrap,
                                           problem);
            bootstrap_at = k;
        }
        if (rc)
            return -1;
    }
    if (c.bootstrap > 0 && c.max_resource == 0)
        return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, bootstrap_at,
                                "needs a max_resource other than auto");
    //  Optuna takes it and never prunes (no bracket); say so instead.
    if (c.max_resource && c.max_resource < c.min_resource)
        return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, max_at,
                                "must be at least min_resource (%lld)",
                                (long long)c.min_resource);
    s_config_t *self = hpo_malloc (sizeof *self);
    *self = c;
    *config = self;
    return 0;
}

static void
s_config_free (void *config)
{
    free (config);
}

static void *
s_new (const hpo_spec_t *spec, const void *config)
{
    s_hyperband_t *self = hpo_malloc (sizeof *self);
    *self = (s_hyperband_t){.config = *(const s_config_t *)config,
                            .maximize = spec->maximize,
                            .study = hpo_strdup (spec->name)};
    return self;
}

static void
s_destroy (void *self_)
{
    s_hyperband_t *self = self_;
    for (uint32_t b = 0; b < self->n_brackets; b++)
        hpo_asha_ladder_destroy (&self->ladders[b]);
    hpo_asha_trials_free (&self->trials);
    free (self->study);
    free (self);
}

static uint64_t
s_sat_mul (uint64_t a, uint64_t b)
{
    return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

//  Brackets and their shares once max_resource is known; whether it is.
static int
s_init (s_hyperband_t *self, const hpo_history_t *history)
{
    if (self->n_brackets || self->never)
        return self->n_brackets > 0;
    const s_config_t *c = &self->config;
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

static hpo_prune_t
s_step (s_hyperband_t *self, uint64_t number, int64_t step, double value,
        int fresh, char **reason)
{
    hpo_asha_trial_t *row = hpo_asha_trials_at (&self->trials, number);
    if (row->bracket < 0)
        row->bracket = (int32_t)s_bracket (self, number);
    hpo_asha_trial_point (row, step, value, fresh);
    hpo_prune_t decision =
        hpo_asha_ladder_climb (self->ladders[row->bracket], &row->rung,
                               row->last_step, row->last_value, reason);
    if (decision == HPO_PRUNE_STOP && reason && *reason) {
        char *with = hpo_sprintf ("bracket %d, %s", row->bracket, *reason);
        free (*reason);
        *reason = with;
    }
    return decision;
}

//  As asha.c's rebuild: each trial's curve in trial order.
static void
s_rebuild (s_hyperband_t *self, const hpo_history_t *history,
           uint64_t number)
{
    for (size_t k = 0; k < history->n; k++) {
        const hpo_curve_t *c = &history->curves[k];
        size_t n = k == number && c->n ? c->n - 1 : c->n;
        for (size_t j = 0; j < n; j++)
            if (s_step (self, k, c->steps[j], c->values[j], j == 0, NULL) ==
                    HPO_PRUNE_STOP &&
                history->states[k] == HPO_TRIAL_PRUNED)
                break;
    }
}

static hpo_prune_t
s_report (void *self_, const hpo_history_t *history, uint64_t number,
          int64_t step, double value, char **reason)
{
    s_hyperband_t *self = self_;
    int first = !self->asked;
    self->asked = 1;
    if (!s_init (self, history))
        return HPO_PRUNE_CONTINUE;
    if (first)
        s_rebuild (self, history, number);
    int fresh = number < history->n && history->curves[number].n <= 1;
    return s_step (self, number, step, value, fresh, reason);
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
    .config_free = s_config_free,
    .new = s_new,
    .destroy = s_destroy,
    .report = s_report,
};
