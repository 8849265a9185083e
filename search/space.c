/*  space.c: counting and numbering a space's distinct configurations
    (space.h).

    Each parameter k has a domain (its points, or the one value it is
    held at) and children (the parameters whose condition names it). A
    point of k that some child's condition names is "special": its
    weight is the product of the configuration counts of the children it
    makes exist. Every other point weighs 1. So count (k) is the number
    of ordinary points plus the special ones' weights, found without
    walking the points one by one (an int range may have millions).   */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "space.h"

#define S_INF UINT64_MAX

typedef struct {
    uint64_t index; //  the point's index in the domain
    uint64_t weight;
    size_t child; //  while counting: the child whose condition names it
} s_special_t;

struct _hpo_space_t {
    const hpo_spec_t *spec;
    size_t n;
    uint8_t *fixed;    //  n flags
    hpo_value_t *row;  //  n values: the fixed ones (copies)
    uint64_t *domain;  //  points per parameter (1 when fixed; 0:
                       //  not finite)
    uint64_t *count;   //  configurations of each one's subtree
    size_t *child_off; //  n + 1: children of k: child[off[k]..]
    size_t *child;
    s_special_t **specials; //  per parameter, by index
    size_t *n_specials;
    uint64_t size;
};

static uint64_t
s_mul (uint64_t a, uint64_t b)
{
    if (a == S_INF || b == S_INF)
        return S_INF;
    if (a && b > (S_INF - 1) / a)
        return S_INF;
    return a * b;
}

static uint64_t
s_add (uint64_t a, uint64_t b)
{
    if (a == S_INF || b == S_INF || b >= S_INF - a)
        return S_INF;
    return a + b;
}

//  A number's value; an int's from i, whoever filled in f.
static double
s_num (const hpo_value_t *v)
{
    return v->kind == HPO_KIND_INT ? (double)v->i : v->f;
}

int
hpo_space_value_eq (const hpo_value_t *a, const hpo_value_t *b)
{
    if (a->kind == HPO_KIND_NONE || b->kind == HPO_KIND_NONE)
        return a->kind == b->kind;
    if (a->kind == HPO_KIND_STR || b->kind == HPO_KIND_STR)
        return a->kind == b->kind && !strcmp (a->s, b->s);
    return s_num (a) == s_num (b);
}

uint64_t
hpo_space_row_hash (const hpo_value_t *row, size_t n)
{
    //  FNV-1a over each value's kind class and bytes; ints and floats of
    //  equal value hash alike, as hpo_space_value_eq calls them equal.
    uint64_t h = 14695981039346656037ULL;
    for (size_t k = 0; k < n; k++) {
        const hpo_value_t *v = &row[k];
        unsigned char buf[9] = {0};
        size_t len = 1;
        const unsigned char *bytes = buf;
        if (v->kind == HPO_KIND_STR) {
            bytes = (const unsigned char *)v->s;
            len = strlen (v->s) + 1;
            h = (h ^ 's') * 1099511628211ULL;
        } else if (v->kind != HPO_KIND_NONE) {
            double f = s_num (v) == 0 ? 0 : s_num (v); //  -0 is 0
            buf[0] = 'n';
            memcpy (buf + 1, &f, 8);
            len = 9;
        }
        for (size_t j = 0; j < len; j++)
            h = (h ^ bytes[j]) * 1099511628211ULL;
    }
    return h;
}

void
hpo_space_point (const hpo_param_spec_t *p, uint64_t k, hpo_value_t *out)
{
    if (p->values) {
        assert (k < p->n_values);
        hpo_value_copy (out, &p->values[k]);
    } else if (p->type == HPO_PARAM_INT) {
        int64_t step = p->has_step ? (int64_t)p->step : 1;
        int64_t i = (int64_t)p->low + (int64_t)k * step;
        *out = (hpo_value_t){.kind = HPO_KIND_INT, .i = i, .f = (double)i};
    } else {
        assert (p->type == HPO_PARAM_FLOAT && p->has_step);
        double x = hpo_search_tidy (p->low + (double)k * p->step);
        *out = (hpo_value_t){.kind = HPO_KIND_FLOAT, .f = fmin (x, p->high)};
    }
}

int64_t
hpo_space_point_index (const hpo_param_spec_t *p, const hpo_value_t *v)
{
    if (v->kind == HPO_KIND_NONE)
        return -1;
    if (p->values)
        return hpo_param_value_index (p, v);
    uint64_t count = hpo_param_grid_count (p);
    if (v->kind == HPO_KIND_STR || count == 0 || count == UINT64_MAX)
        return -1;
    double k = round ((s_num (v) - p->low) / (p->has_step ? p->step : 1));
    if (!(k >= 0 && k < (double)count))
        return -1;
    hpo_value_t point;
    hpo_space_point (p, (uint64_t)k, &point);
    return hpo_space_value_eq (&point, v) ? (int64_t)k : -1;
}

//  Whether child c's condition holds when its parent has value v.
static int
s_holds (const hpo_param_spec_t *c, const hpo_value_t *v)
{
    for (size_t j = 0; j < c->n_when_values; j++)
        if (hpo_space_value_eq (&c->when_values[j], v))
            return 1;
    return 0;
}

static int
s_special_cmp (const void *a, const void *b)
{
    const s_special_t *x = a, *y = b;
    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    return x->child < y->child ? -1 : x->child > y->child;
}

//  The product of the counts of k's children that exist given value v.
static uint64_t
s_weight (const hpo_space_t *self, size_t k, const hpo_value_t *v)
{
    uint64_t w = 1;
    for (size_t j = self->child_off[k]; j < self->child_off[k + 1]; j++) {
        size_t c = self->child[j];
        if (v->kind != HPO_KIND_NONE && s_holds (&self->spec->params[c], v))
            w = s_mul (w, self->count[c]);
    }
    return w;
}

//  k's special points, sorted by index and each once, into
//  self->specials[k], and its count.
static void
s_count_param (hpo_space_t *self, size_t k)
{
    const hpo_param_spec_t *p = &self->spec->params[k];
    size_t room = 1;
    for (size_t j = self->child_off[k]; j < self->child_off[k + 1]; j++)
        room += self->spec->params[self->child[j]].n_when_values;
    s_special_t *sp = hpo_calloc (room, sizeof *sp);
    size_t n = 0;
    if (self->fixed[k]) {
        sp[n++] = (s_special_t){0, s_weight (self, k, &self->row[k]), 0};
    } else {
        //  (point, child) for each condition value, sorted and each
        //  once; a point's weight is the product of its children's
        //  counts. No condition is searched per point, so this is
        //  n log n in the conditions' values.
        for (size_t j = self->child_off[k]; j < self->child_off[k + 1]; j++) {
            size_t c = self->child[j];
            const hpo_param_spec_t *cp = &self->spec->params[c];
            for (size_t w = 0; w < cp->n_when_values; w++) {
                int64_t i = hpo_space_point_index (p, &cp->when_values[w]);
                if (i >= 0)
                    sp[n++] = (s_special_t){(uint64_t)i, 0, c};
            }
        }
        qsort (sp, n, sizeof *sp, s_special_cmp);
        size_t m = 0, last_child = SIZE_MAX;
        for (size_t j = 0; j < n; j++) {
            s_special_t at = sp[j]; //  sp[m - 1] may be sp[j - 1]
            int same_point = m > 0 && sp[m - 1].index == at.index;
            if (same_point && at.child == last_child)
                continue; //  a child naming the point twice
            if (!same_point)
                sp[m++] = (s_special_t){at.index, 1, 0};
            sp[m - 1].weight = s_mul (sp[m - 1].weight, self->count[at.child]);
            last_child = at.child;
        }
        n = m;
    }
    self->specials[k] = sp;
    self->n_specials[k] = n;
    uint64_t domain = self->domain[k];
    uint64_t count = domain == 0 ? S_INF : domain - n;
    for (size_t j = 0; j < n; j++)
        count = s_add (count, sp[j].weight);
    self->count[k] = count;
}

//  Children lists: a parameter's children come after it.
static void
s_links (hpo_space_t *self)
{
    const hpo_spec_t *spec = self->spec;
    size_t n = self->n;
    self->child_off = hpo_calloc (n + 1, sizeof (size_t));
    self->child = hpo_calloc (n ? n : 1, sizeof (size_t));
    for (size_t c = 0; c < n; c++)
        if (spec->params[c].when_param >= 0)
            self->child_off[spec->params[c].when_param + 1]++;
    for (size_t k = 0; k < n; k++)
        self->child_off[k + 1] += self->child_off[k];
    size_t *fill = hpo_calloc (n ? n : 1, sizeof (size_t));
    for (size_t c = 0; c < n; c++) {
        int k = spec->params[c].when_param;
        if (k >= 0)
            self->child[self->child_off[k] + fill[k]++] = c;
    }
    free (fill);
}

hpo_space_t *
hpo_space_new (const hpo_spec_t *spec, const uint8_t *fixed,
               const hpo_value_t *row)
{
    hpo_space_t *self = hpo_calloc (1, sizeof *self);
    size_t n = spec->n_params, n1 = n ? n : 1;
    self->spec = spec;
    self->n = n;
    self->fixed = hpo_calloc (n1, 1);
    self->row = hpo_calloc (n1, sizeof (hpo_value_t));
    self->domain = hpo_calloc (n1, sizeof (uint64_t));
    self->count = hpo_calloc (n1, sizeof (uint64_t));
    self->specials = hpo_calloc (n1, sizeof (s_special_t *));
    self->n_specials = hpo_calloc (n1, sizeof (size_t));
    for (size_t k = 0; k < n; k++) {
        self->fixed[k] = fixed && fixed[k];
        if (self->fixed[k])
            hpo_value_copy (&self->row[k], &row[k]);
        self->domain[k] =
            self->fixed[k] ? 1 : hpo_param_grid_count (&spec->params[k]);
        if (self->domain[k] == UINT64_MAX)
            self->domain[k] = 0; //  too many to number: as if not finite
    }
    s_links (self);
    //  Every child is counted before its parent, which comes before it.
    for (size_t k = n; k-- > 0;)
        s_count_param (self, k);
    self->size = 1;
    for (size_t k = 0; k < n; k++)
        if (spec->params[k].when_param < 0)
            self->size = s_mul (self->size, self->count[k]);
    return self;
}

void
hpo_space_destroy (hpo_space_t **self_p)
{
    hpo_space_t *self = *self_p;
    if (!self)
        return;
    for (size_t k = 0; k < self->n; k++)
        free (self->specials[k]);
    hpo_values_clear (self->row, self->n);
    free (self->row);
    free (self->fixed);
    free (self->domain);
    free (self->count);
    free (self->child_off);
    free (self->child);
    free (self->specials);
    free (self->n_specials);
    free (self);
    *self_p = NULL;
}

uint64_t
hpo_space_size (const hpo_space_t *self)
{
    return self->size;
}

//  Which point of k's domain configuration d (< count[k]) of k's
//  subtree has, and d's remainder within that point's weight.
static uint64_t
s_locate (const hpo_space_t *self, size_t k, uint64_t d, uint64_t *rest)
{
    uint64_t pos = 0, acc = 0;
    const s_special_t *sp = self->specials[k];
    for (size_t j = 0; j < self->n_specials[k]; j++) {
        uint64_t ordinary = sp[j].index - pos;
        if (d < acc + ordinary) {
            *rest = 0;
            return pos + (d - acc);
        }
        acc += ordinary;
        if (d < acc + sp[j].weight) {
            *rest = d - acc;
            return sp[j].index;
        }
        acc += sp[j].weight;
        pos = sp[j].index + 1;
    }
    *rest = 0;
    return pos + (d - acc);
}

//  Configuration d of k's subtree into out.
static void
s_at (const hpo_space_t *self, size_t k, uint64_t d, hpo_value_t *out)
{
    assert (d < self->count[k]);
    uint64_t rest;
    uint64_t i = s_locate (self, k, d, &rest);
    if (self->fixed[k])
        hpo_value_copy (&out[k], &self->row[k]);
    else
        hpo_space_point (&self->spec->params[k], i, &out[k]);
    //  The children that exist given k's value, last one fastest.
    for (size_t j = self->child_off[k + 1]; j-- > self->child_off[k];) {
        size_t c = self->child[j];
        if (out[k].kind == HPO_KIND_NONE ||
            !s_holds (&self->spec->params[c], &out[k]))
            continue;
        s_at (self, c, rest % self->count[c], out);
        rest /= self->count[c];
    }
}

void
hpo_space_at (const hpo_space_t *self, uint64_t index, hpo_value_t *out)
{
    assert (self->size != S_INF && index < self->size);
    for (size_t k = 0; k < self->n; k++)
        out[k] = (hpo_value_t){.kind = HPO_KIND_NONE};
    for (size_t k = self->n; k-- > 0;) {
        if (self->spec->params[k].when_param >= 0)
            continue;
        s_at (self, k, index % self->count[k], out);
        index /= self->count[k];
    }
}
