/*  samplers_fn.h: the test functions of the sampler benchmark, defined
    once for both sides. hpo-bench-samplers links them in; the Optuna side
    (bench/samplers_optuna.py) loads the same code as a shared library
    (libhpo-bench-fn.so) through ctypes, so both minimise exactly the same
    formulas over exactly the same spaces.

    A space is JSON text, which is also YAML: the C side puts it under
    space: in a study file and parses it with hpo_spec_parse; the Python
    side reads it with json and suggests each parameter the way Optuna's
    define-by-run API does, skipping one whose when: condition does not
    hold.

    A point is an array of doubles, one per parameter in space order: a
    float's or int's value, a categorical's index in its values, NaN for
    a parameter that does not exist in this trial.                       */
#ifndef HPO_BENCH_SAMPLERS_FN_H
#define HPO_BENCH_SAMPLERS_FN_H

#include <stddef.h>

//  How many functions there are.
int hpo_bench_fn_count (void);
//  Function k's name ("branin"), or NULL past the last.
const char *hpo_bench_fn_name (int k);
//  Index of the function named name, or -1.
int hpo_bench_fn_find (const char *name);
//  Function k's space as JSON text (a mapping, in parameter order).
const char *hpo_bench_fn_space (int k);
//  1 if every parameter of function k is a float or an int (the spaces
//  CMA-ES takes).
int hpo_bench_fn_continuous (int k);
//  The known minimum of function k (the global optimum over its space).
double hpo_bench_fn_minimum (int k);
//  Function k at point x (see above); NaN if x is not a valid point.
double hpo_bench_fn_eval (int k, const double *x);

#endif
