/*  search.c: helpers for samplers' and pruners' option checks.            */
#include "search.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"

int
hpo_search_fail (hpo_search_problem_t *problem, hpo_search_at_t at,
                 size_t index, const char *fmt, ...)
{
    assert (problem);
    va_list ap;
    va_start (ap, fmt);
    char *message = hpo_vsprintf (fmt, ap);
    va_end (ap);
    free (problem->message);
    *problem = (hpo_search_problem_t){at, index, message};
    return -1;
}

int
hpo_search_option_uint (const hpo_search_option_t *options, size_t index,
                        uint64_t *out, hpo_search_problem_t *problem)
{
    assert (options && out);
    const hpo_value_t *v = &options[index].value;
    //  A plain integer too large for int64 reads as a float; say so rather
    //  than call 1e30 "not an integer".
    if (v->kind == HPO_KIND_FLOAT && v->f == floor (v->f) &&
        fabs (v->f) >= 9.2e18)
        return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, index,
                                "is out of range");
    if (v->kind != HPO_KIND_INT || v->i < 0)
        return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, index,
                                "must be a non-negative integer");
    *out = (uint64_t)v->i;
    return 0;
}

int
hpo_search_option_positive (const hpo_search_option_t *options, size_t index,
                            double *out, hpo_search_problem_t *problem)
{
    assert (options && out);
    const hpo_value_t *v = &options[index].value;
    double x = v->kind == HPO_KIND_INT     ? (double)v->i
               : v->kind == HPO_KIND_FLOAT ? v->f
                                           : NAN;
    if (!(x > 0) || !isfinite (x))
        return hpo_search_fail (problem, HPO_SEARCH_AT_OPTION, index,
                                "must be a positive number");
    *out = x;
    return 0;
}

//  15 significant digits drop the noise and keep every intended digit.
double
hpo_search_tidy (double x)
{
    char buf[40];
    snprintf (buf, sizeof buf, "%.15g", x);
    return strtod (buf, NULL);
}

char *
hpo_search_join (const char *const *names)
{
    assert (names);
    size_t len = 1;
    for (size_t k = 0; names[k]; k++)
        len += strlen (names[k]) + 2;
    char *text = hpo_calloc (len, 1);
    for (size_t k = 0; names[k]; k++) {
        if (k)
            strcat (text, ", ");
        strcat (text, names[k]);
    }
    return text;
}
