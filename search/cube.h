/*  cube.h: a parameter's values as the points of [0, 1], for the samplers
    that work in the unit cube (qmc.c, cmaes.c): each parameter is one
    coordinate, and these two functions cross between the coordinate and
    the parameter's value.

    Uniform u gives a draw with the random sampler's distribution: a float
    range is linear (log for log: true); a list of values (categoricals)
    and the points of an int or a stepped float range get equal shares of
    [0, 1], in order, so nearby u give nearby values; a log int range is
    widened half a unit each side in log space so its ends get their full
    share.                                                                 */
#ifndef HPO_CUBE_H
#define HPO_CUBE_H

#include "../common/spec.h"

//  Sets *out to parameter p's value at u in [0, 1] (u outside is clamped).
//  A categorical's value is a copy the caller frees (hpo_values_clear).
void hpo_cube_value (const hpo_param_spec_t *p, double u, hpo_value_t *out);

//  The point of [0, 1] that gives value v: the inverse of hpo_cube_value,
//  the middle of v's share for a value with one. A value p cannot take (a
//  value no longer in the list, a number out of range) gives 0.5 if it is
//  not a number, else the point of the nearest value.
double hpo_cube_point (const hpo_param_spec_t *p, const hpo_value_t *v);

//  Fills a trial's row from the points u[0 .. n_params), in space order:
//  out[k] is parameter k's value at u[k], HPO_KIND_NONE where its
//  condition does not hold given the row so far (hpo_spec_active), and
//  left as it is where fixed (NULL: none) says the caller set it.
void hpo_cube_row (const hpo_spec_t *spec, const uint8_t *fixed,
                   const double *u, hpo_value_t *out);

#endif
