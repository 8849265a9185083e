/*  asha.c: asynchronous successive halving (ASHA), with the semantics and
    defaults of Optuna 3.1's SuccessiveHalvingPruner, so a study carries
    over: min_resource (auto), reduction_factor 4, min_early_stopping_rate
    0, bootstrap_count 0. The ladder, the per-trial rows and the option
    check here serve search/hyperband.c too (search/asha.h).

    Rung r is reached at step min_resource * eta^(rate + r). A trial that
    reports a step at or past the promotion step of its next rung records
    its value there (the value at its largest step so far, not the value
    at the rung's step: a report that skips steps brings its own value to
    every rung it passed) and is promoted if that value is among the best
    floor(n / eta) of the n values at the rung, its own included, ties
    promoted; with fewer than eta values, if it is the best. One report
    can pass several rungs. A NaN prunes as soon as a rung is reached,
    without a record (the coordinator never passes one: a value that is
    not finite does not join a curve). A trial's value stays at every
    rung it reached, pruned or not, and counts for later trials; a trial
    that reports again after being stopped goes on from its next rung.
    With bootstrap_count b, a rung with b or fewer values prunes.

    min_resource auto is Optuna's estimate: the largest last step of the
    COMPLETE trials, divided by 100 (at least 1), fixed at the first
    report after a trial has completed; until then nothing is pruned and
    nothing is recorded, so trials that passed rungs meanwhile record
    their value of that later report at every rung they passed, as in
    Optuna.

    The rungs: each holds its values in a treap (a binary search tree
    whose nodes also obey a heap order on priorities drawn independently
    of the values) whose nodes count their subtrees, in one array per
    rung. Inserting a value and counting the values below (or above) one
    are each O(log n) expected in the n values at that rung, whatever the
    values, so a decision is O(log n) per rung passed, never a scan of
    the trials. Memory: one 24-byte node per (trial, rung) reached. A
    sorted array would make the insert O(n); a Fenwick tree needs the
    values known in advance. The per-trial row (rung reached, largest
    step and its value, bracket) is an array by trial number: O(1).

    The rungs are derived state: the history's curves are the truth. A
    new instance (the coordinator restarted) rebuilds them at its first
    report, O(points) once, by replaying every trial's curve in trial
    order (with auto, only if a trial had completed by then: before,
    nothing was recorded). A trial records at each rung the value of its
    first point at or past the rung's step, as it did live, and a PRUNED
    trial's replay ends where the replay first stops it. The replay
    cannot know how the reports were interleaved, so where its decisions
    differ from the original ones (a PRUNED trial it promotes, values
    recorded late under auto), a rung may hold a value more or fewer than
    before the restart; decisions after it follow the rebuilt rungs.
    The rebuild is the pruner's restore op (pruner.h): wrapped by
    patient, which asks only when patience runs out, it is called at
    patient's first report, not at the first question, so the rungs then
    hold only the values of the reports patient asked about, as Optuna's
    wrapped pruner's do (tests/conformance, patient-asha).               */
#include "asha.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "../common/spec.h"

//  ---------------------------------------------------------------------
//  Order-statistics treap: node 0 is the empty tree.

typedef struct {
    double key;
    uint32_t left, right;
    uint32_t size;     //  nodes in this subtree
    uint32_t priority; //  heap order: a parent's is not below a child's
} s_node_t;

typedef struct {
    s_node_t *nodes; //  nodes[0] is the empty tree, size 0
    uint32_t n, cap; //  n counts nodes[0]
    uint32_t root;
} s_rung_t;

//  A node's priority: a mix of its index, so equal inputs in any order
//  still give a balanced tree on average, and runs are reproducible.
static uint32_t
s_priority (uint32_t index)
{
    uint64_t z = (uint64_t)index * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static void
s_fix (s_rung_t *r, uint32_t t)
{
    s_node_t *n = &r->nodes[t];
    n->size = 1 + r->nodes[n->left].size + r->nodes[n->right].size;
}

//  Splits tree t into the keys below key (*lo) and the rest (*hi).
static void
s_split (s_rung_t *r, uint32_t t, double key, uint32_t *lo, uint32_t *hi)
{
    if (!t) {
        *lo = *hi = 0;
        return;
    }
    if (r->nodes[t].key < key) {
        uint32_t right = r->nodes[t].right;
        s_split (r, right, key, &r->nodes[t].right, hi);
        *lo = t;
    } else {
        uint32_t left = r->nodes[t].left;
        s_split (r, left, key, lo, &r->nodes[t].left);
        *hi = t;
    }
    s_fix (r, t);
}

//  Joins a and b, every key of a below every key of b.
static uint32_t
s_merge (s_rung_t *r, uint32_t a, uint32_t b)
{
    if (!a || !b)
        return a ? a : b;
    if (r->nodes[a].priority >= r->nodes[b].priority) {
        r->nodes[a].right = s_merge (r, r->nodes[a].right, b);
        s_fix (r, a);
        return a;
    }
    r->nodes[b].left = s_merge (r, a, r->nodes[b].left);
    s_fix (r, b);
    return b;
}

static void
s_rung_insert (s_rung_t *r, double key)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->nodes = hpo_realloc (r->nodes, r->cap * sizeof *r->nodes);
    }
    if (r->n == 0)
        r->nodes[r->n++] = (s_node_t){0};
    uint32_t t = r->n++;
    r->nodes[t] = (s_node_t){.key = key, .size = 1, .priority = s_priority (t)};
    uint32_t lo, hi;
    s_split (r, r->root, key, &lo, &hi);
    r->root = s_merge (r, s_merge (r, lo, t), hi);
}

//  Values strictly below key (above, when above is set).
static uint64_t
s_rung_beyond (const s_rung_t *r, double key, int above)
{
    uint64_t count = 0;
    for (uint32_t t = r->root; t;) {
        const s_node_t *n = &r->nodes[t];
        if (above ? n->key > key : n->key < key) {
            count += 1 + r->nodes[above ? n->right : n->left].size;
            t = above ? n->left : n->right;
        } else
            t = above ? n->right : n->left;
    }
    return count;
}

static uint64_t
s_rung_size (const s_rung_t *r)
{
    return r->root ? r->nodes[r->root].size : 0;
}

//  ---------------------------------------------------------------------
//  A ladder of rungs.

struct _hpo_asha_ladder_t {
    int64_t min_resource; //  0: not known yet
    uint64_t eta, rate, bootstrap;
    int maximize;
    s_rung_t *rungs;
    uint32_t n_rungs;
};

hpo_asha_ladder_t *
hpo_asha_ladder_new (int64_t min_resource, uint64_t eta, uint64_t rate,
                     uint64_t bootstrap, int maximize)
{
    assert (min_resource >= 0 && eta >= 2);
    hpo_asha_ladder_t *self = hpo_malloc (sizeof *self);
    *self = (hpo_asha_ladder_t){.min_resource = min_resource,
                                .eta = eta,
                                .rate = rate,
                                .bootstrap = bootstrap,
                                .maximize = maximize};
    return self;
}

void
hpo_asha_ladder_destroy (hpo_asha_ladder_t **self_p)
{
    assert (self_p);
    hpo_asha_ladder_t *self = *self_p;
    if (!self)
        return;
    for (uint32_t k = 0; k < self->n_rungs; k++)
        free (self->rungs[k].nodes);
    free (self->rungs);
    free (self);
    *self_p = NULL;
}

void
hpo_asha_ladder_set_min (hpo_asha_ladder_t *self, int64_t min_resource)
{
    assert (min_resource >= 1);
    self->min_resource = min_resource;
}

int64_t
hpo_asha_ladder_min (const hpo_asha_ladder_t *self)
{
    return self->min_resource;
}

uint64_t
hpo_asha_ladder_count (const hpo_asha_ladder_t *self, uint32_t rung)
{
    return rung < self->n_rungs ? s_rung_size (&self->rungs[rung]) : 0;
}

//  min_resource * eta^(rate + rung), or INT64_MAX once past it.
static int64_t
s_promotion_step (const hpo_asha_ladder_t *self, uint32_t rung)
{
    uint64_t step = (uint64_t)self->min_resource;
    uint64_t power = self->rate + rung;
    if (power < self->rate)
        return INT64_MAX;
    for (uint64_t k = 0; k < power; k++) {
        if (step > (uint64_t)INT64_MAX / self->eta)
            return INT64_MAX;
        step *= self->eta;
    }
    return (int64_t)step;
}

static s_rung_t *
s_rung (hpo_asha_ladder_t *self, uint32_t rung)
{
    if (rung >= self->n_rungs) {
        self->rungs =
            hpo_realloc (self->rungs, (rung + 1) * sizeof *self->rungs);
        memset (self->rungs + self->n_rungs, 0,
                (rung + 1 - self->n_rungs) * sizeof *self->rungs);
        self->n_rungs = rung + 1;
    }
    return &self->rungs[rung];
}

//  Whether value, just recorded at r, is among its best max(n / eta, 1).
//  Ties are promoted, as Optuna's <= on the sorted values does.
static int
s_promotable (const hpo_asha_ladder_t *self, const s_rung_t *r, double value,
              uint64_t *better, uint64_t *keep)
{
    uint64_t n = s_rung_size (r);
    *keep = n / self->eta ? n / self->eta : 1;
    *better = s_rung_beyond (r, value, self->maximize);
    return *better < *keep;
}

hpo_prune_t
hpo_asha_ladder_climb (hpo_asha_ladder_t *self, uint32_t *rung, int64_t step,
                       double value, char **reason)
{
    assert (self->min_resource >= 1);
    while (*rung < UINT32_MAX) {
        int64_t at = s_promotion_step (self, *rung);
        if (step < at || at == INT64_MAX)
            return HPO_PRUNE_CONTINUE;
        if (isnan (value)) {
            if (reason)
                *reason = hpo_sprintf (
                    "the value at step %lld is not a number (rung %u, "
                    "step %lld)",
                    (long long)step, *rung, (long long)at);
            return HPO_PRUNE_STOP;
        }
        s_rung_t *r = s_rung (self, *rung);
        s_rung_insert (r, value);
        uint32_t reached = (*rung)++;
        uint64_t n = s_rung_size (r), better, keep;
        if (n <= self->bootstrap) {
            if (reason)
                *reason = hpo_sprintf (
                    "rung %u (step %lld) holds %llu values, bootstrap_count "
                    "wants more",
                    reached, (long long)at, (unsigned long long)n);
            return HPO_PRUNE_STOP;
        }
        if (!s_promotable (self, r, value, &better, &keep)) {
            if (reason)
                *reason = hpo_sprintf (
                    "rung %u (step %lld): %.6g is not in the best %llu of "
                    "the %llu values there (%llu better)",
                    reached, (long long)at, value, (unsigned long long)keep,
                    (unsigned long long)n, (unsigned long long)better);
            return HPO_PRUNE_STOP;
        }
    }
    return HPO_PRUNE_CONTINUE;
}

//  ---------------------------------------------------------------------
//  What both pruners keep per trial, and read from the history.

//  Trial number's row, grown as needed.
static hpo_asha_trial_t *
s_row (hpo_asha_run_t *run, uint64_t number)
{
    if (number >= run->n_rows) {
        size_t n = run->n_rows ? run->n_rows : 64;
        while (n <= number)
            n *= 2;
        run->rows = hpo_realloc (run->rows, n * sizeof *run->rows);
        for (size_t k = run->n_rows; k < n; k++)
            run->rows[k] = (hpo_asha_trial_t){.ladder = -1};
        run->n_rows = n;
    }
    return &run->rows[number];
}

//  A point of trial number climbs. fresh: the point starts a new
//  attempt's curve, read from its start.
static hpo_prune_t
s_point (hpo_asha_run_t *run, uint64_t number, int64_t step, double value,
         int fresh, char **reason)
{
    hpo_asha_trial_t *row = s_row (run, number);
    if (row->ladder < 0)
        row->ladder = run->pick (run->owner, number);
    //  Optuna keeps the first value of a step reported twice.
    if (fresh || !row->has_last || step > row->last_step) {
        row->has_last = 1;
        row->last_step = step;
        row->last_value = value;
    }
    hpo_prune_t decision =
        hpo_asha_ladder_climb (run->ladder (run->owner, row->ladder),
                               &row->rung, row->last_step, row->last_value,
                               reason);
    if (decision == HPO_PRUNE_STOP && run->bracketed && reason && *reason) {
        char *with = hpo_sprintf ("bracket %d, %s", row->ladder, *reason);
        free (*reason);
        *reason = with;
    }
    return decision;
}

//  The rungs as the history's curves make them (see the header); the
//  reporting trial's latest point is left to its report.
static void
s_rebuild (hpo_asha_run_t *run, const hpo_history_t *history,
           uint64_t number)
{
    for (size_t k = 0; k < history->n; k++) {
        const hpo_curve_t *c = &history->curves[k];
        size_t n = k == number && c->n ? c->n - 1 : c->n;
        for (size_t j = 0; j < n; j++)
            if (s_point (run, k, c->steps[j], c->values[j], j == 0, NULL) ==
                    HPO_PRUNE_STOP &&
                history->states[k] == HPO_TRIAL_PRUNED)
                break;
    }
}

void
hpo_asha_restore (void *self, const hpo_history_t *history, uint64_t number)
{
    hpo_asha_run_t *run = self;
    if (run->restored)
        return;
    run->restored = 1;
    //  With auto, reports before the first completion record nothing, as
    //  in Optuna, so no rebuild follows them.
    if (run->ready (run->owner, history))
        s_rebuild (run, history, number);
}

hpo_prune_t
hpo_asha_report (void *self, const hpo_history_t *history, uint64_t number,
                 int64_t step, double value, char **reason)
{
    hpo_asha_run_t *run = self;
    //  Only a new instance's first report finds curves it was not asked
    //  about.
    hpo_asha_restore (self, history, number);
    if (!run->ready (run->owner, history))
        return HPO_PRUNE_CONTINUE;
    int fresh = number < history->n && history->curves[number].n <= 1;
    return s_point (run, number, step, value, fresh, reason);
}

void
hpo_asha_run_free (hpo_asha_run_t *run)
{
    free (run->rows);
    run->rows = NULL;
    run->n_rows = 0;
}

int64_t
hpo_asha_complete_last_step (const hpo_history_t *history)
{
    int64_t last = -1;
    int found = 0;
    for (size_t k = 0; k < history->n_complete_log; k++) {
        uint64_t number = history->complete_log[k];
        const hpo_curve_t *c = &history->curves[number];
        if (history->states[number] != HPO_TRIAL_COMPLETE)
            continue;
        for (size_t j = 0; j < c->n; j++)
            if (!found || c->steps[j] > last) {
                last = c->steps[j];
                found = 1;
            }
    }
    return found ? (last < 0 ? 0 : last) : -1;
}

//  options[index]: a positive integer or, where auto_ok, "auto" (0).
static int
s_resource (const hpo_search_option_t *options, size_t index, int auto_ok,
            int64_t *out, hpo_search_problem_t *problem)
{
    const hpo_value_t *v = &options[index].value;
    if (auto_ok && v->kind == HPO_KIND_STR && !strcmp (v->s, "auto")) {
        *out = 0;
        return 0;
    }
    if (v->kind != HPO_KIND_INT || v->i < 1)
        return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, index,
                                auto_ok ? "must be a positive integer or auto"
                                        : "must be a positive integer");
    *out = v->i;
    return 0;
}

//  options[index]: an integer >= min.
static int
s_at_least (const hpo_search_option_t *options, size_t index, uint64_t min,
            uint64_t *out, hpo_search_problem_t *problem)
{
    if (hpo_search_option_uint (options, index, out, problem))
        return -1;
    if (*out < min)
        return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, index,
                                "must be at least %llu",
                                (unsigned long long)min);
    return 0;
}

//  One option into c; its index is kept in *at where a rule between
//  options may blame it.
static int
s_option (const hpo_search_option_t *options, size_t k, int hyperband,
          hpo_asha_config_t *c, size_t *bootstrap_at, size_t *max_at,
          hpo_search_problem_t *problem)
{
    const char *key = options[k].key;
    if (!strcmp (key, "min_resource"))
        return s_resource (options, k, !hyperband, &c->min_resource, problem);
    if (!strcmp (key, "max_resource")) {
        *max_at = k;
        return s_resource (options, k, 1, &c->max_resource, problem);
    }
    if (!strcmp (key, "reduction_factor"))
        return s_at_least (options, k, 2, &c->eta, problem);
    if (!strcmp (key, "min_early_stopping_rate"))
        return s_at_least (options, k, 0, &c->rate, problem);
    assert (!strcmp (key, "bootstrap_count"));
    *bootstrap_at = k;
    return s_at_least (options, k, 0, &c->bootstrap, problem);
}

int
hpo_asha_check (const hpo_search_option_t *options, size_t n, int hyperband,
                void **config, hpo_search_problem_t *problem)
{
    //  Optuna's defaults.
    hpo_asha_config_t c = {.min_resource = hyperband ? 1 : 0,
                           .eta = hyperband ? 3 : 4};
    size_t bootstrap_at = 0, max_at = 0;
    for (size_t k = 0; k < n; k++)
        if (s_option (options, k, hyperband, &c, &bootstrap_at, &max_at,
                      problem))
            return -1;
    //  Auto waits for a completed trial; a bootstrap would prune every
    //  trial before then.
    if (c.bootstrap > 0 && (hyperband ? !c.max_resource : !c.min_resource))
        return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, bootstrap_at,
                                "needs a %s other than auto",
                                hyperband ? "max_resource" : "min_resource");
    //  Optuna takes it and never prunes (no bracket); say so instead.
    if (c.max_resource && c.max_resource < c.min_resource)
        return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, max_at,
                                "must be at least min_resource (%lld)",
                                (long long)c.min_resource);
    hpo_asha_config_t *self = hpo_malloc (sizeof *self);
    *self = c;
    *config = self;
    return 0;
}

//  ---------------------------------------------------------------------
//  The asha pruner.

typedef struct {
    hpo_asha_run_t run; //  first: hpo_asha_report's
    hpo_asha_ladder_t *ladder;
} s_asha_t;

static const char *const s_keys[] = {"min_resource", "reduction_factor",
                                     "min_early_stopping_rate",
                                     "bootstrap_count", NULL};

static int
s_check (const hpo_spec_t *spec, const hpo_search_option_t *options, size_t n,
         void **config, hpo_search_problem_t *problem)
{
    return hpo_asha_check (options, n, 0, config, problem);
}

//  Whether min_resource is known, estimating it if auto.
static int
s_ready (void *self_, const hpo_history_t *history)
{
    s_asha_t *self = self_;
    if (hpo_asha_ladder_min (self->ladder))
        return 1;
    int64_t last = hpo_asha_complete_last_step (history);
    if (last < 0)
        return 0;
    hpo_asha_ladder_set_min (self->ladder, last / 100 > 1 ? last / 100 : 1);
    return 1;
}

static int32_t
s_pick (void *self, uint64_t number)
{
    return 0;
}

static hpo_asha_ladder_t *
s_ladder (void *self, int32_t index)
{
    return ((s_asha_t *)self)->ladder;
}

static void *
s_new (const hpo_spec_t *spec, const void *config_)
{
    const hpo_asha_config_t *c = config_;
    s_asha_t *self = hpo_malloc (sizeof *self);
    *self = (s_asha_t){
        .ladder = hpo_asha_ladder_new (c->min_resource, c->eta, c->rate,
                                       c->bootstrap, spec->maximize),
        .run = {.ready = s_ready, .pick = s_pick, .ladder = s_ladder}};
    self->run.owner = self;
    return self;
}

static void
s_destroy (void *self_)
{
    s_asha_t *self = self_;
    hpo_asha_ladder_destroy (&self->ladder);
    hpo_asha_run_free (&self->run);
    free (self);
}

const hpo_pruner_ops_t hpo_pruner_asha = {
    .name = "asha",
    .summary = "asynchronous successive halving (Optuna's "
               "SuccessiveHalvingPruner)",
    .keys = s_keys,
    .needs_curves = 1,
    .check = s_check,
    .config_free = free, //  an hpo_asha_config_t
    .new = s_new,
    .destroy = s_destroy,
    .report = hpo_asha_report,
    .restore = hpo_asha_restore,
};
