/*  space.h: the distinct configurations of a study's space, counted and
    numbered, so that grid search, hybrid search and the check for
    duplicates agree on one finite set.

    With conditions (when:), parameters form a forest: a parameter's
    parent is the one its condition names. A parameter that does not
    exist in a configuration contributes one configuration, not its
    count, so two rows that differ only in a parameter that is absent
    from both are the same configuration. Parameters may be held at
    given values ("fixed"): the set is then the configurations that
    keep them.

    Configurations are numbered 0 .. size-1: the roots (parameters that
    always exist) as a mixed-radix number, the last one fastest; within
    a parameter, its points in order, each followed by the
    configurations of the parameters that exist given it. Without
    conditions this is grid search's classic order.                      */
#ifndef HPO_SPACE_H
#define HPO_SPACE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/spec.h"

typedef struct _hpo_space_t hpo_space_t;

//  The configurations of spec's space in which each parameter k with
//  fixed[k] set has the value row[k] (fixed may be NULL: none held; a
//  fixed value must be one of the parameter's points or HPO_KIND_NONE).
//  Never NULL; the spec must outlive it.
hpo_space_t *hpo_space_new (const hpo_spec_t *spec, const uint8_t *fixed,
                            const hpo_value_t *row);
void hpo_space_destroy (hpo_space_t **self_p);

//  How many distinct configurations there are; UINT64_MAX when that is
//  not finite (a float without points that can exist) or 2^64 or more.
uint64_t hpo_space_size (const hpo_space_t *self);

//  Writes configuration index (< size, which is below UINT64_MAX) to
//  out[0 .. n_params): parameters that do not exist are HPO_KIND_NONE,
//  fixed ones a copy of their value. The caller clears out's values.
void hpo_space_at (const hpo_space_t *self, uint64_t index, hpo_value_t *out);

//  Point k (< hpo_param_grid_count) of a parameter's grid, into out.
void hpo_space_point (const hpo_param_spec_t *param, uint64_t k,
                      hpo_value_t *out);

//  The index of value among a parameter's grid points, or -1 when it is
//  none of them.
int64_t hpo_space_point_index (const hpo_param_spec_t *param,
                               const hpo_value_t *value);

//  Whether two values are the same value of a parameter (strings by
//  their bytes, numbers by value, HPO_KIND_NONE equal to itself only).
int hpo_space_value_eq (const hpo_value_t *a, const hpo_value_t *b);

//  A hash of a row of n values that is equal for rows hpo_space_value_eq
//  calls equal value by value.
uint64_t hpo_space_row_hash (const hpo_value_t *row, size_t n);

#endif
