/*  suggest.c: the suggestion driver (suggest.h).

    Its state is counts derived from the history's rows, read once each
    as they appear (s_sync):
    - a hash set of the distinct configurations taken (open addressing
      over row numbers, compared against the history's rows), so "is
      this one taken" is O(1) whatever the history's length;
    - for hybrid search, each grid point's trials, in a min-heap on
      (trials, point) so the point to fill next is at its top, and each
      point's distinct configurations, to know when one is used up.

    A sampler that proposes a configuration already taken gets a
    replacement from the same sub-space (the given values and grid point
    held): a few uniform draws over it, then the first free one in its
    numbering (search/space.h) from a seeded start. Configurations are
    never freed, so a cursor past the taken ones only moves forward and
    the scan costs O(size) over the whole study, not per suggestion.   */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/mem.h"
#include "../common/rng.h"
#include "../common/spec.h"
#include "space.h"
#include "suggest.h"

//  Uniform draws over the sub-space before scanning it in order.
#define S_DRAWS 4

typedef struct {
    uint64_t hash;
    uint64_t row; //  history row + 1; 0: empty
} s_slot_t;

//  A scan in numbering order from a seeded start: configurations
//  start .. start + done - 1 (mod size) are known taken.
typedef struct {
    uint64_t start, done;
} s_cursor_t;

struct _hpo_suggest_t {
    const hpo_spec_t *spec;
    const hpo_sampler_ops_t *ops;
    void *sampler;
    size_t n;
    uint64_t seen; //  history rows read
    //  No duplicates, in a finite space.
    int finite;
    uint64_t size; //  distinct configurations
    s_slot_t *slots;
    size_t cap, distinct;
    s_cursor_t cursor; //  over the whole space
    //  Hybrid search: grid points numbered mixed-radix over the grid
    //  parameters (space order, the last fastest).
    size_t n_grid;
    size_t *grid;    //  their indices in the space
    uint64_t *radix; //  their counts
    uint64_t points;
    uint64_t *trials; //  per point
    uint64_t *taken;  //  distinct configurations per point (finite)
    uint64_t *sub;    //  configurations per point; 0: not counted yet
    s_cursor_t *cursors;
    uint8_t *full;  //  every configuration of the point is taken
    uint64_t *heap; //  points not full, min (trials, point) on top
    uint64_t *pos;  //  each point's place in the heap
    size_t heap_n;
};

// ---------------------------------------------------------------------
//  The set of configurations taken

static int
s_row_eq (const hpo_value_t *a, const hpo_value_t *b, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!hpo_space_value_eq (&a[k], &b[k]))
            return 0;
    return 1;
}

//  The slot holding row's configuration, or the empty one where it
//  would go.
static s_slot_t *
s_slot (const hpo_suggest_t *self, const hpo_history_t *history,
        const hpo_value_t *row, uint64_t hash)
{
    size_t mask = self->cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        s_slot_t *slot = &self->slots[i];
        if (slot->row == 0 ||
            (slot->hash == hash &&
             s_row_eq (hpo_history_params (history, slot->row - 1), row,
                       self->n)))
            return slot;
    }
}

static int
s_taken (const hpo_suggest_t *self, const hpo_history_t *history,
         const hpo_value_t *row)
{
    return self->cap &&
           s_slot (self, history, row, hpo_space_row_hash (row, self->n))
                   ->row != 0;
}

static void
s_grow (hpo_suggest_t *self, const hpo_history_t *history)
{
    s_slot_t *old = self->slots;
    size_t old_cap = self->cap;
    self->cap = old_cap ? old_cap * 2 : 64;
    self->slots = hpo_calloc (self->cap, sizeof *self->slots);
    for (size_t k = 0; k < old_cap; k++)
        if (old[k].row)
            *s_slot (self, history,
                     hpo_history_params (history, old[k].row - 1),
                     old[k].hash) = old[k];
    free (old);
}

//  Adds row number's configuration; whether it was new.
static int
s_add (hpo_suggest_t *self, const hpo_history_t *history, uint64_t number)
{
    //  At most half full, so probes stay short.
    if (2 * (self->distinct + 1) > self->cap)
        s_grow (self, history);
    const hpo_value_t *row = hpo_history_params (history, number);
    uint64_t hash = hpo_space_row_hash (row, self->n);
    s_slot_t *slot = s_slot (self, history, row, hash);
    if (slot->row)
        return 0;
    *slot = (s_slot_t){hash, number + 1};
    self->distinct++;
    return 1;
}

// ---------------------------------------------------------------------
//  Hybrid: the grid points' heap

static int
s_less (const hpo_suggest_t *self, uint64_t a, uint64_t b)
{
    return self->trials[a] < self->trials[b] ||
           (self->trials[a] == self->trials[b] && a < b);
}

static void
s_heap_set (hpo_suggest_t *self, size_t i, uint64_t p)
{
    self->heap[i] = p;
    self->pos[p] = i;
}

static void
s_sift_down (hpo_suggest_t *self, size_t i)
{
    uint64_t p = self->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= self->heap_n)
            break;
        if (c + 1 < self->heap_n &&
            s_less (self, self->heap[c + 1], self->heap[c]))
            c++;
        if (!s_less (self, self->heap[c], p))
            break;
        s_heap_set (self, i, self->heap[c]);
        i = c;
    }
    s_heap_set (self, i, p);
}

//  Point p leaves the heap: every configuration it has is taken.
static void
s_heap_remove_top (hpo_suggest_t *self)
{
    assert (self->heap_n > 0);
    self->full[self->heap[0]] = 1;
    self->heap_n--;
    if (self->heap_n) {
        s_heap_set (self, 0, self->heap[self->heap_n]);
        s_sift_down (self, 0);
    }
}

//  The grid point a row has, or UINT64_MAX if its grid parameters hold
//  a value off the grid.
static uint64_t
s_point_of (const hpo_suggest_t *self, const hpo_value_t *row)
{
    uint64_t p = 0;
    for (size_t j = 0; j < self->n_grid; j++) {
        const hpo_param_spec_t *param = &self->spec->params[self->grid[j]];
        int64_t i = hpo_space_point_index (param, &row[self->grid[j]]);
        if (i < 0)
            return UINT64_MAX;
        p = p * self->radix[j] + (uint64_t)i;
    }
    return p;
}

//  Point p's values into row's grid parameters.
static void
s_point_values (const hpo_suggest_t *self, uint64_t p, hpo_value_t *row)
{
    for (size_t j = self->n_grid; j-- > 0;) {
        const hpo_param_spec_t *param = &self->spec->params[self->grid[j]];
        hpo_space_point (param, p % self->radix[j], &row[self->grid[j]]);
        p /= self->radix[j];
    }
}

static void
s_hybrid_new (hpo_suggest_t *self)
{
    const hpo_spec_t *spec = self->spec;
    self->grid = hpo_calloc (self->n ? self->n : 1, sizeof (size_t));
    self->radix = hpo_calloc (self->n ? self->n : 1, sizeof (uint64_t));
    self->points = 1;
    for (size_t k = 0; k < self->n; k++)
        if (spec->params[k].grid) {
            self->grid[self->n_grid] = k;
            self->radix[self->n_grid++] =
                hpo_param_grid_count (&spec->params[k]);
            self->points *= hpo_param_grid_count (&spec->params[k]);
        }
    assert (self->points <= HPO_SPEC_MAX_HYBRID);
    size_t P = (size_t)self->points;
    self->trials = hpo_calloc (P, sizeof (uint64_t));
    self->full = hpo_calloc (P, 1);
    self->heap = hpo_calloc (P, sizeof (uint64_t));
    self->pos = hpo_calloc (P, sizeof (uint64_t));
    for (size_t p = 0; p < P; p++)
        s_heap_set (self, p, p);
    self->heap_n = P;
    if (self->finite) {
        self->taken = hpo_calloc (P, sizeof (uint64_t));
        self->sub = hpo_calloc (P, sizeof (uint64_t));
        self->cursors = hpo_calloc (P, sizeof (s_cursor_t));
    }
}

// ---------------------------------------------------------------------
//  Reading the history

//  Counts the history's rows not read yet.
static void
s_sync (hpo_suggest_t *self, const hpo_history_t *history)
{
    assert (history->n_params == self->n);
    for (; self->seen < history->n; self->seen++) {
        uint64_t r = self->seen;
        int fresh = self->finite ? s_add (self, history, r) : 0;
        if (!self->n_grid)
            continue;
        uint64_t p = s_point_of (self, hpo_history_params (history, r));
        if (p == UINT64_MAX)
            continue;
        self->trials[p]++;
        if (fresh)
            self->taken[p]++;
        if (!self->full[p])
            s_sift_down (self, self->pos[p]);
    }
}

// ---------------------------------------------------------------------
//  The driver

hpo_suggest_t *
hpo_suggest_new (const hpo_spec_t *spec)
{
    hpo_suggest_t *self = hpo_calloc (1, sizeof *self);
    self->spec = spec;
    self->ops = spec->sampler.ops;
    self->sampler = self->ops->new (spec, spec->sampler.config);
    self->n = spec->n_params;
    hpo_space_t *space = hpo_space_new (spec, NULL, NULL);
    self->size = hpo_space_size (space);
    hpo_space_destroy (&space);
    self->finite = self->size != UINT64_MAX;
    int hybrid = 0;
    for (size_t k = 0; k < self->n; k++)
        hybrid |= spec->params[k].grid;
    //  A grid sampler sweeps every parameter already.
    if (hybrid && strcmp (self->ops->name, "grid") != 0)
        s_hybrid_new (self);
    return self;
}

void
hpo_suggest_destroy (hpo_suggest_t **self_p)
{
    hpo_suggest_t *self = *self_p;
    if (!self)
        return;
    self->ops->destroy (self->sampler);
    free (self->slots);
    free (self->grid);
    free (self->radix);
    free (self->trials);
    free (self->taken);
    free (self->sub);
    free (self->cursors);
    free (self->full);
    free (self->heap);
    free (self->pos);
    free (self);
    *self_p = NULL;
}

//  Sets each parameter whose condition does not hold to HPO_KIND_NONE:
//  one configuration has one row.
static void
s_canonical (const hpo_spec_t *spec, hpo_value_t *row)
{
    for (size_t k = 0; k < spec->n_params; k++)
        if (row[k].kind != HPO_KIND_NONE && !hpo_spec_active (spec, k, row)) {
            hpo_values_clear (&row[k], 1);
            row[k] = (hpo_value_t){.kind = HPO_KIND_NONE};
        }
}

//  The configurations of point p (its grid parameters held).
static uint64_t
s_sub_size (hpo_suggest_t *self, uint64_t p)
{
    if (self->sub[p] == 0) {
        uint8_t fixed[self->n ? self->n : 1];
        hpo_value_t row[self->n ? self->n : 1];
        memset (fixed, 0, sizeof fixed);
        memset (row, 0, sizeof row);
        for (size_t j = 0; j < self->n_grid; j++)
            fixed[self->grid[j]] = 1;
        s_point_values (self, p, row);
        hpo_space_t *space = hpo_space_new (self->spec, fixed, row);
        self->sub[p] = hpo_space_size (space);
        hpo_space_destroy (&space);
        hpo_values_clear (row, self->n);
    }
    return self->sub[p];
}

//  The grid point to fill next: the top of the heap, once points whose
//  every configuration is taken have left it. UINT64_MAX when none.
static uint64_t
s_next_point (hpo_suggest_t *self)
{
    while (self->heap_n) {
        uint64_t p = self->heap[0];
        if (!self->finite || self->taken[p] < s_sub_size (self, p))
            return p;
        s_heap_remove_top (self);
    }
    return UINT64_MAX;
}

//  Some grid parameters given (an enqueued configuration in part): the
//  others from the point with the fewest trials among those that agree,
//  so the spread holds. A scan of the points, for the rare given case.
static void
s_given_point (hpo_suggest_t *self, hpo_value_t *out, uint8_t *held)
{
    int64_t want[self->n_grid];
    for (size_t j = 0; j < self->n_grid; j++) {
        size_t k = self->grid[j];
        want[j] = held[k] ? hpo_space_point_index (&self->spec->params[k],
                                                   &out[k])
                          : -1;
        if (held[k] && want[j] < 0)
            return; //  off the grid: the sampler draws the rest
    }
    uint64_t best = UINT64_MAX;
    for (uint64_t p = 0; p < self->points; p++) {
        uint64_t q = p;
        int match = 1;
        for (size_t j = self->n_grid; j-- > 0 && match;) {
            match = want[j] < 0 || (uint64_t)want[j] == q % self->radix[j];
            q /= self->radix[j];
        }
        if (match && !self->full[p] &&
            (best == UINT64_MAX || self->trials[p] < self->trials[best]))
            best = p;
    }
    if (best == UINT64_MAX)
        return;
    hpo_value_t row[self->n ? self->n : 1];
    memset (row, 0, sizeof row);
    s_point_values (self, best, row);
    for (size_t j = 0; j < self->n_grid; j++) {
        size_t k = self->grid[j];
        if (!held[k]) {
            out[k] = row[k];
            held[k] = 1;
        } else
            hpo_values_clear (&row[k], 1);
    }
}

//  A configuration not taken in the space with the fixed parameters held
//  at out's values, into out; 0 if every one is taken. cursor, when not
//  NULL, persists the scan for this sub-space, named by cursor_key.
static int
s_free_one (hpo_suggest_t *self, const hpo_history_t *history, uint64_t number,
            const uint8_t *fixed, hpo_value_t *out, s_cursor_t *cursor,
            uint64_t cursor_key)
{
    hpo_space_t *space = hpo_space_new (self->spec, fixed, out);
    uint64_t size = hpo_space_size (space);
    assert (size != UINT64_MAX);
    size_t n = self->n;
    hpo_value_t cand[n ? n : 1];
    hpo_rng_t rng;
    hpo_rng_seed (&rng, size, number);
    s_cursor_t local = {hpo_rng_below (&rng, size), 0};
    if (!cursor)
        cursor = &local;
    else if (cursor->done == 0) {
        //  A start that depends on the sub-space alone, not on when the
        //  scan began, so a coordinator restarted mid-study scans alike.
        hpo_rng_t at;
        hpo_rng_seed (&at, size, cursor_key);
        cursor->start = hpo_rng_below (&at, size);
    }
    int found = 0;
    for (int k = 0; k < S_DRAWS && !found; k++) {
        hpo_space_at (space, hpo_rng_below (&rng, size), cand);
        found = !s_taken (self, history, cand);
        if (!found)
            hpo_values_clear (cand, n);
    }
    for (; !found && cursor->done < size; cursor->done++) {
        hpo_space_at (space, (cursor->start + cursor->done) % size, cand);
        found = !s_taken (self, history, cand);
        if (!found)
            hpo_values_clear (cand, n);
    }
    hpo_space_destroy (&space);
    if (!found)
        return 0;
    hpo_values_clear (out, n);
    memcpy (out, cand, n * sizeof *out);
    return 1;
}

//  Asks the sampler, with out's fixed values held, then makes out a
//  configuration not taken if dedup says so. 0 done, 1 nothing left in
//  this sub-space (out cleared), -1 the sampler failed, 2 the sampler
//  has no point left.
static int
s_draw (hpo_suggest_t *self, const hpo_history_t *history, uint64_t number,
        const uint8_t *fixed, hpo_value_t *out, int dedup, uint64_t point)
{
    int rc = self->ops->suggest (self->sampler, self->spec, history, number,
                                 fixed, out);
    if (rc) {
        hpo_values_clear (out, self->n);
        return rc < 0 ? -1 : 2;
    }
    s_canonical (self->spec, out);
    if (!dedup || !s_taken (self, history, out))
        return 0;
    //  The fixed values alone, for the sub-space to search.
    for (size_t k = 0; k < self->n; k++)
        if (!fixed[k]) {
            hpo_values_clear (&out[k], 1);
            out[k] = (hpo_value_t){.kind = HPO_KIND_NONE};
        }
    //  The scan of a sub-space that recurs (the whole space, a grid
    //  point's) is kept; one of given values is the caller's once.
    int given = 0;
    for (size_t k = 0; k < self->n; k++)
        given |=
            fixed[k] && (point == UINT64_MAX || !self->spec->params[k].grid);
    s_cursor_t *cursor = given                 ? NULL
                         : point != UINT64_MAX ? &self->cursors[point]
                                               : &self->cursor;
    if (s_free_one (self, history, number, fixed, out, cursor, point))
        return 0;
    hpo_values_clear (out, self->n);
    return 1;
}

int
hpo_suggest_next (hpo_suggest_t *self, const hpo_history_t *history,
                  uint64_t number, const uint8_t *given,
                  const hpo_value_t *given_values, hpo_value_t *out)
{
    const hpo_spec_t *spec = self->spec;
    size_t n = self->n;
    assert (number == history->n);
    s_sync (self, history);
    uint8_t fixed[n ? n : 1];
    size_t n_given = 0, grid_given = 0;
    for (size_t k = 0; k < n; k++) {
        fixed[k] = given && given[k];
        n_given += fixed[k];
        grid_given += fixed[k] && spec->params[k].grid;
    }
    //  A configuration given whole, or a sampler's point given in part,
    //  is what the caller asked for: duplicates are only avoided among
    //  what the driver and sampler choose.
    int dedup = self->finite && n_given < n;
    if (dedup && !n_given && !self->n_grid && self->distinct >= self->size)
        return 1;
    for (;;) {
        memset (out, 0, n * sizeof *out);
        for (size_t k = 0; k < n; k++)
            if (fixed[k])
                hpo_value_copy (&out[k], &given_values[k]);
        uint8_t held[n ? n : 1];
        memcpy (held, fixed, sizeof held);
        uint64_t point = UINT64_MAX;
        if (self->n_grid && !grid_given) {
            point = s_next_point (self);
            if (point == UINT64_MAX) {
                hpo_values_clear (out, n);
                return 1; //  every point's every configuration is taken
            }
            s_point_values (self, point, out);
            for (size_t j = 0; j < self->n_grid; j++)
                held[self->grid[j]] = 1;
        } else if (grid_given && grid_given < self->n_grid)
            s_given_point (self, out, held);
        int rc = s_draw (self, history, number, held, out, dedup, point);
        if (rc == 0)
            return 0;
        if (rc < 0 || rc == 2)
            return rc < 0 ? -1 : 1;
        if (point != UINT64_MAX && self->heap_n && self->heap[0] == point) {
            s_heap_remove_top (self); //  used up: on to the next point
            continue;
        }
        if (!n_given)
            return 1;
        //  Every completion of the given values is taken: the caller
        //  still asked for one.
        dedup = 0;
    }
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
    return self->n_grid ? self->points : 0;
}

uint64_t
hpo_suggest_grid_trials (hpo_suggest_t *self, const hpo_history_t *history,
                         uint64_t p, hpo_value_t *values)
{
    assert (p < hpo_suggest_grid_points (self));
    s_sync (self, history);
    if (values) {
        hpo_value_t row[self->n ? self->n : 1];
        memset (row, 0, sizeof row);
        s_point_values (self, p, row);
        for (size_t j = 0; j < self->n_grid; j++)
            values[j] = row[self->grid[j]];
    }
    return self->trials[p];
}

void
hpo_suggest_grid_spread (hpo_suggest_t *self, const hpo_history_t *history,
                         uint64_t *min, uint64_t *max)
{
    *min = *max = 0;
    if (!self->n_grid)
        return;
    s_sync (self, history);
    *min = UINT64_MAX;
    for (uint64_t p = 0; p < self->points; p++) {
        *min = self->trials[p] < *min ? self->trials[p] : *min;
        *max = self->trials[p] > *max ? self->trials[p] : *max;
    }
}
