/*  sampler.c: the samplers' registry. A new sampler is its own file
    defining hpo_sampler_NAME and one X (NAME) below; the first is the
    default.                                                                */
#include "sampler.h"

#include <assert.h>
#include <string.h>

#include "../common/mem.h"

#define S_SAMPLERS(X) X (random) X (grid) X (tpe) X (qmc) X (cmaes)

#define S_DECLARE(name) extern const hpo_sampler_ops_t hpo_sampler_##name;
S_SAMPLERS (S_DECLARE)
#define S_ENTRY(name) &hpo_sampler_##name,
static const hpo_sampler_ops_t *const s_samplers[] = {S_SAMPLERS (S_ENTRY)};
#define S_COUNT (sizeof s_samplers / sizeof s_samplers[0])

const hpo_sampler_ops_t *
hpo_sampler_find (const char *name)
{
    assert (name);
    for (size_t k = 0; k < S_COUNT; k++)
        if (!strcmp (s_samplers[k]->name, name))
            return s_samplers[k];
    return NULL;
}

const hpo_sampler_ops_t *
hpo_sampler_at (size_t k)
{
    return k < S_COUNT ? s_samplers[k] : NULL;
}

char *
hpo_sampler_names (void)
{
    const char *names[S_COUNT + 1];
    for (size_t k = 0; k < S_COUNT; k++)
        names[k] = s_samplers[k]->name;
    names[S_COUNT] = NULL;
    return hpo_search_join (names);
}
