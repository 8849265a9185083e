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

int
hpo_pruner_judged (const hpo_history_t *history, uint64_t number, int64_t step,
                   uint64_t warmup, uint64_t interval)
{
    assert (history && interval >= 1);
    if (step < (int64_t)warmup)
        return 0;
    int64_t previous = -1;
    const hpo_curve_t *c =
        number < history->n ? &history->curves[number] : NULL;
    for (size_t k = c ? c->n : 0; k-- > 0;)
        if (c->steps[k] != step) {
            previous = c->steps[k];
            break;
        }
    int64_t w = (int64_t)warmup, i = (int64_t)interval;
    return previous < (step - w) / i * i + w;
}

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
