/*  percentile.c: the median and percentile pruners, with Optuna 3.1's
    semantics and defaults (MedianPruner is PercentilePruner at 50).

    A trial reporting value v at step s is stopped when, at once:
    - at least n_startup_trials (default 5, and at least 1) trials are
      COMPLETE: Optuna's comparison set is the COMPLETE trials only; a
      PRUNED, FAILED or running trial's curve never counts;
    - s >= n_warmup_steps (default 0);
    - s is the trial's first report in its interval: the trial's previous
      step is below (s - warmup) / interval_steps * interval_steps + warmup;
    - the trial's best value so far (min, or max when maximizing; NaN
      values skipped) is worse than the percentile (linear interpolation,
      as numpy's nanpercentile; 100 - p when maximizing) of the COMPLETE
      trials' values at exactly step s, and at least n_min_trials
      (default 1) of them reported step s. A step none of them reported
      decides nothing. A trial whose values so far are all NaN is stopped.

    The data structure. COMPLETE is final (no transition leaves it), so
    the comparison set only grows, and a value enters it once: when its
    trial completes. The history lists trials in the order they
    completed; the pruner keeps a cursor into that list and, before each
    decision, indexes the curves of the trials completed since. Per step
    it keeps an order-statistics treap (a binary search tree by value,
    balanced by random priorities, each node counting its subtree), found
    through an open-addressing hash table by step. Indexing a point costs
    O(log n) expected and each point is indexed once; a decision is one
    hash probe and two k-th-element descents, O(log n) expected in n, the
    number of COMPLETE trials that reported that step. The trial's own
    best value is kept per trial and updated by its new point, O(1).
    Memory: one node per point of a COMPLETE trial.

    Differences with Optuna, both from what the coordinator keeps: a NaN
    report never joins a curve, so COMPLETE trials' NaN values neither
    count toward n_min_trials nor (as in Optuna) toward the percentile;
    and a report of an attempt that trails its Finish after the trial
    was indexed is not indexed.                                            */
#include "pruner.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "../common/spec.h"

static const char *const s_median_keys[] = {
    "n_startup_trials", "n_warmup_steps", "interval_steps", "n_min_trials",
    NULL};
static const char *const s_percentile_keys[] = {
    "percentile",   "n_startup_trials", "n_warmup_steps",
    "interval_steps", "n_min_trials",   NULL};

typedef struct {
    int median;
    double percentile; //  0 .. 100
    uint64_t startup, warmup, interval, min_trials;
} s_config_t;

//  ---- order-statistics treap, nodes in one pool, 0 is "none" ----------

typedef struct {
    double value;
    uint32_t prio, size, left, right;
} s_node_t;

typedef struct {
    int64_t step;
    uint32_t root; //  0: slot empty
} s_slot_t;

typedef struct {
    s_config_t cfg;
    int maximize;
    s_node_t *nodes;
    size_t n_nodes, cap_nodes;
    s_slot_t *slots; //  hash by step; power-of-two size
    size_t n_slots, used_slots;
    size_t cursor; //  into history->completed
    uint64_t rng;
    //  Per trial number: its best value so far and how many points of its
    //  curve that covers.
    double *best;
    size_t *seen;
    size_t n_trials;
} s_self_t;

static uint32_t
s_size (const s_self_t *self, uint32_t k)
{
    return k ? self->nodes[k].size : 0;
}

static void
s_fix (s_self_t *self, uint32_t k)
{
    s_node_t *n = &self->nodes[k];
    n->size = 1 + s_size (self, n->left) + s_size (self, n->right);
}

static uint32_t
s_node_new (s_self_t *self, double value)
{
    if (self->n_nodes == self->cap_nodes) {
        self->cap_nodes = self->cap_nodes ? self->cap_nodes * 2 : 64;
        self->nodes =
            hpo_realloc (self->nodes, self->cap_nodes * sizeof (s_node_t));
    }
    //  xorshift64: priorities need only be independent of the values.
    self->rng ^= self->rng << 13;
    self->rng ^= self->rng >> 7;
    self->rng ^= self->rng << 17;
    uint32_t k = (uint32_t)self->n_nodes++;
    self->nodes[k] = (s_node_t){value, (uint32_t)self->rng, 1, 0, 0};
    return k;
}

//  Inserts node k into the treap at root; returns the new root.
static uint32_t
s_insert (s_self_t *self, uint32_t root, uint32_t k)
{
    if (!root)
        return k;
    s_node_t *r = &self->nodes[root];
    if (self->nodes[k].value < r->value) {
        uint32_t child = s_insert (self, r->left, k);
        r = &self->nodes[root];
        r->left = child;
        if (self->nodes[child].prio > r->prio) { //  rotate right
            r->left = self->nodes[child].right;
            s_fix (self, root);
            self->nodes[child].right = root;
            s_fix (self, child);
            return child;
        }
    } else {
        uint32_t child = s_insert (self, r->right, k);
        r = &self->nodes[root];
        r->right = child;
        if (self->nodes[child].prio > r->prio) { //  rotate left
            r->right = self->nodes[child].left;
            s_fix (self, root);
            self->nodes[child].left = root;
            s_fix (self, child);
            return child;
        }
    }
    s_fix (self, root);
    return root;
}

//  The k-th smallest value (0-based) of the treap at root.
static double
s_kth (const s_self_t *self, uint32_t root, uint32_t k)
{
    for (;;) {
        const s_node_t *n = &self->nodes[root];
        uint32_t left = s_size (self, n->left);
        if (k < left)
            root = n->left;
        else if (k == left)
            return n->value;
        else {
            k -= left + 1;
            root = n->right;
        }
    }
}

//  ---- steps: open addressing, linear probing ---------------------------

static size_t
s_hash (int64_t step, size_t n_slots)
{
    uint64_t x = (uint64_t)step * 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 17) & (n_slots - 1);
}

static s_slot_t *
s_slot (s_self_t *self, int64_t step, int create)
{
    if (create && 2 * (self->used_slots + 1) > self->n_slots) {
        size_t old_n = self->n_slots;
        s_slot_t *old = self->slots;
        self->n_slots = old_n ? old_n * 2 : 64;
        self->slots = hpo_calloc (self->n_slots, sizeof (s_slot_t));
        for (size_t k = 0; k < old_n; k++)
            if (old[k].root) {
                size_t h = s_hash (old[k].step, self->n_slots);
                while (self->slots[h].root)
                    h = (h + 1) & (self->n_slots - 1);
                self->slots[h] = old[k];
            }
        free (old);
    }
    if (!self->n_slots)
        return NULL;
    size_t h = s_hash (step, self->n_slots);
    while (self->slots[h].root && self->slots[h].step != step)
        h = (h + 1) & (self->n_slots - 1);
    if (self->slots[h].root)
        return &self->slots[h];
    if (!create)
        return NULL;
    self->used_slots++;
    self->slots[h].step = step;
    return &self->slots[h];
}

static void
s_index_point (s_self_t *self, int64_t step, double value)
{
    if (isnan (value))
        return;
    uint32_t k = s_node_new (self, value);
    s_slot_t *slot = s_slot (self, step, 1);
    slot->root = s_insert (self, slot->root, k);
}

//  Indexes the curves of the trials completed since the last call.
static void
s_catch_up (s_self_t *self, const hpo_history_t *history)
{
    for (; self->cursor < history->n_completed; self->cursor++) {
        const hpo_curve_t *c = &history->curves[history->completed[self->cursor]];
        for (size_t k = 0; k < c->n; k++)
            s_index_point (self, c->steps[k], c->values[k]);
    }
}

//  numpy's linear interpolation of the p-th percentile (0 .. 100) of the
//  m values of the treap at root; numpy computes its lerp from the
//  nearer end, which this follows so that equal inputs compare equal.
static double
s_percentile (const s_self_t *self, uint32_t root, double p)
{
    uint32_t m = s_size (self, root);
    double pos = p / 100.0 * (double)(m - 1);
    double lo = floor (pos);
    double t = pos - lo;
    double a = s_kth (self, root, (uint32_t)lo);
    if (t == 0)
        return a;
    double b = s_kth (self, root, (uint32_t)lo + 1);
    double d = b - a;
    return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

//  Trial number's best value so far, NaN when none is a number. Each new
//  point updates it; a shorter curve than seen is a new attempt's.
static double
s_best (s_self_t *self, const hpo_history_t *history, uint64_t number,
        double value)
{
    if (number >= self->n_trials) {
        size_t n = history->n > number ? history->n : number + 1;
        self->best = hpo_realloc (self->best, n * sizeof (double));
        self->seen = hpo_realloc (self->seen, n * sizeof (size_t));
        for (size_t k = self->n_trials; k < n; k++) {
            self->best[k] = NAN;
            self->seen[k] = 0;
        }
        self->n_trials = n;
    }
    const hpo_curve_t *c =
        number < history->n ? &history->curves[number] : NULL;
    size_t n = c ? c->n : 0;
    if (n <= self->seen[number] && n > 0) {
        self->best[number] = NAN;
        self->seen[number] = 0;
    }
    for (size_t k = self->seen[number]; k < n; k++) {
        double v = c->values[k];
        double *b = &self->best[number];
        if (!isnan (v) && (isnan (*b) || (self->maximize ? v > *b : v < *b)))
            *b = v;
    }
    self->seen[number] = n;
    double b = self->best[number];
    if (!isnan (value) && (isnan (b) || (self->maximize ? value > b : value < b)))
        b = value;
    return b;
}

//  The trial's step before step, -1 if none: curves increase in step.
static int64_t
s_previous_step (const hpo_history_t *history, uint64_t number, int64_t step)
{
    if (number >= history->n)
        return -1;
    const hpo_curve_t *c = &history->curves[number];
    for (size_t k = c->n; k-- > 0;)
        if (c->steps[k] != step)
            return c->steps[k];
    return -1;
}

static hpo_prune_t
s_report (void *self_, const hpo_history_t *history, uint64_t number,
          int64_t step, double value, char **reason)
{
    s_self_t *self = self_;
    const s_config_t *cfg = &self->cfg;
    s_catch_up (self, history);
    double best = s_best (self, history, number, value);
    size_t completed = history->n_completed;
    if (completed == 0 || completed < cfg->startup)
        return HPO_PRUNE_CONTINUE;
    int64_t warmup = (int64_t)cfg->warmup;
    int64_t interval = (int64_t)cfg->interval;
    if (step < warmup)
        return HPO_PRUNE_CONTINUE;
    int64_t lower = (step - warmup) / interval * interval + warmup;
    if (s_previous_step (history, number, step) >= lower)
        return HPO_PRUNE_CONTINUE;
    if (isnan (best)) {
        *reason = hpo_sprintf ("pruned at step %" PRId64
                               ": no value so far is a number",
                               step);
        return HPO_PRUNE_STOP;
    }
    s_slot_t *slot = s_slot (self, step, 0);
    uint32_t m = slot ? s_size (self, slot->root) : 0;
    if (m == 0 || m < cfg->min_trials)
        return HPO_PRUNE_CONTINUE;
    double p = self->maximize ? 100 - cfg->percentile : cfg->percentile;
    double ref = s_percentile (self, slot->root, p);
    if (self->maximize ? !(best < ref) : !(best > ref))
        return HPO_PRUNE_CONTINUE;
    char which[48];
    if (cfg->median)
        snprintf (which, sizeof which, "the median");
    else
        snprintf (which, sizeof which, "the %gth percentile", cfg->percentile);
    *reason = hpo_sprintf ("pruned at step %" PRId64 ": %g worse than %s %g "
                           "of %" PRIu32 " trials at step %" PRId64,
                           step, best, which, ref, m, step);
    return HPO_PRUNE_STOP;
}

//  ---- options and life -------------------------------------------------

static int
s_check_common (const hpo_search_option_t *options, size_t n, int median,
                void **config, hpo_search_problem_t *problem)
{
    s_config_t cfg = {median, 50, 5, 0, 1, 1};
    int has_percentile = median;
    for (size_t k = 0; k < n; k++) {
        const char *key = options[k].key;
        const hpo_value_t *v = &options[k].value;
        if (!strcmp (key, "percentile")) {
            if ((v->kind != HPO_KIND_INT && v->kind != HPO_KIND_FLOAT) ||
                !(v->f >= 0 && v->f <= 100))
                return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, k,
                                        "must be a number from 0 to 100");
            cfg.percentile = v->f;
            has_percentile = 1;
            continue;
        }
        uint64_t u;
        if (hpo_search_option_uint (options, k, &u, problem))
            return -1;
        if (!strcmp (key, "n_startup_trials"))
            cfg.startup = u;
        else if (!strcmp (key, "n_warmup_steps"))
            cfg.warmup = u;
        else if (u < 1)
            return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, k,
                                    "must be at least 1");
        else if (!strcmp (key, "interval_steps"))
            cfg.interval = u;
        else
            cfg.min_trials = u;
    }
    if (!has_percentile)
        return hpo_search_fail (problem, HPO_SEARCH_AT_SECTION, 0,
                                "percentile: missing (0 to 100)");
    s_config_t *out = hpo_malloc (sizeof *out);
    *out = cfg;
    *config = out;
    return 0;
}

static int
s_check_median (const hpo_spec_t *spec, const hpo_search_option_t *options,
                size_t n, void **config, hpo_search_problem_t *problem)
{
    return s_check_common (options, n, 1, config, problem);
}

static int
s_check_percentile (const hpo_spec_t *spec,
                    const hpo_search_option_t *options, size_t n,
                    void **config, hpo_search_problem_t *problem)
{
    return s_check_common (options, n, 0, config, problem);
}

static void *
s_new (const hpo_spec_t *spec, const void *config)
{
    s_self_t *self = hpo_calloc (1, sizeof *self);
    self->cfg = *(const s_config_t *)config;
    self->maximize = spec->maximize;
    self->rng = 0x2545F4914F6CDD1Dull;
    self->n_nodes = 1; //  node 0 is "none"
    self->cap_nodes = 64;
    self->nodes = hpo_calloc (self->cap_nodes, sizeof (s_node_t));
    return self;
}

static void
s_destroy (void *self_)
{
    s_self_t *self = self_;
    free (self->nodes);
    free (self->slots);
    free (self->best);
    free (self->seen);
    free (self);
}

const hpo_pruner_ops_t hpo_pruner_median = {
    .name = "median",
    .summary = "stops a trial worse than the median of completed trials at "
               "its step (Optuna's MedianPruner)",
    .keys = s_median_keys,
    .needs_curves = 1,
    .check = s_check_median,
    .config_free = free,
    .new = s_new,
    .destroy = s_destroy,
    .report = s_report,
};

const hpo_pruner_ops_t hpo_pruner_percentile = {
    .name = "percentile",
    .summary = "stops a trial worse than a percentile of completed trials "
               "at its step (Optuna's PercentilePruner)",
    .keys = s_percentile_keys,
    .needs_curves = 1,
    .check = s_check_percentile,
    .config_free = free,
    .new = s_new,
    .destroy = s_destroy,
    .report = s_report,
};
