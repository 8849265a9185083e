/*  pruner.c: the pruners' registry. A new pruner is its own file defining
    hpo_pruner_NAME and one X (NAME) below; the first is the default.      */
#include "pruner.h"

#include <assert.h>
#include <string.h>

#define S_PRUNERS(X)                                                         \
    X (none) X (median) X (percentile) X (threshold) X (patient) X (asha)   \
    X (hyperband)

#define S_DECLARE(name) extern const hpo_pruner_ops_t hpo_pruner_##name;
S_PRUNERS (S_DECLARE)
#define S_ENTRY(name) &hpo_pruner_##name,
static const hpo_pruner_ops_t *const s_pruners[] = {S_PRUNERS (S_ENTRY)};
#define S_COUNT (sizeof s_pruners / sizeof s_pruners[0])

const hpo_pruner_ops_t *
hpo_pruner_find (const char *name)
{
    assert (name);
    for (size_t k = 0; k < S_COUNT; k++)
        if (!strcmp (s_pruners[k]->name, name))
            return s_pruners[k];
    return NULL;
}

const hpo_pruner_ops_t *
hpo_pruner_at (size_t k)
{
    return k < S_COUNT ? s_pruners[k] : NULL;
}

char *
hpo_pruner_names (void)
{
    const char *names[S_COUNT + 1];
    for (size_t k = 0; k < S_COUNT; k++)
        names[k] = s_pruners[k]->name;
    names[S_COUNT] = NULL;
    return hpo_search_join (names);
}
