/*  suggest.c: the suggestion driver (suggest.h). First cut: given values
    and the sampler; hybrid grid points and duplicates come next.        */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "../common/spec.h"
#include "suggest.h"

struct _hpo_suggest_t {
    const hpo_spec_t *spec;
    const hpo_sampler_ops_t *ops;
    void *sampler;
};

hpo_suggest_t *
hpo_suggest_new (const hpo_spec_t *spec)
{
    hpo_suggest_t *self = hpo_calloc (1, sizeof *self);
    self->spec = spec;
    self->ops = spec->sampler.ops;
    self->sampler = self->ops->new (spec, spec->sampler.config);
    return self;
}

void
hpo_suggest_destroy (hpo_suggest_t **self_p)
{
    hpo_suggest_t *self = *self_p;
    if (!self)
        return;
    self->ops->destroy (self->sampler);
    free (self);
    *self_p = NULL;
}

int
hpo_suggest_next (hpo_suggest_t *self, const hpo_history_t *history,
                  uint64_t number, const uint8_t *given,
                  const hpo_value_t *given_values, hpo_value_t *out)
{
    const hpo_spec_t *spec = self->spec;
    size_t n = spec->n_params;
    uint8_t fixed[n ? n : 1];
    memset (fixed, 0, sizeof fixed);
    memset (out, 0, n * sizeof *out);
    for (size_t k = 0; k < n && given; k++)
        if (given[k]) {
            fixed[k] = 1;
            hpo_value_copy (&out[k], &given_values[k]);
        }
    int rc =
        self->ops->suggest (self->sampler, spec, history, number, fixed, out);
    if (rc) {
        hpo_values_clear (out, n);
        return rc;
    }
    return 0;
}

void
hpo_suggest_pending (hpo_suggest_t *self, const hpo_history_t *history,
                     uint64_t number)
{
    if (self->ops->pending)
        self->ops->pending (self->sampler, history, number);
}

void
hpo_suggest_tell (hpo_suggest_t *self, const hpo_history_t *history,
                  uint64_t number)
{
    if (self->ops->tell)
        self->ops->tell (self->sampler, history, number);
}

uint64_t
hpo_suggest_grid_points (const hpo_suggest_t *self)
{
    return 0;
}

uint64_t
hpo_suggest_grid_trials (hpo_suggest_t *self, const hpo_history_t *history,
                         uint64_t p, hpo_value_t *values)
{
    return 0;
}

void
hpo_suggest_grid_spread (hpo_suggest_t *self, const hpo_history_t *history,
                         uint64_t *min, uint64_t *max)
{
    *min = *max = 0;
}
