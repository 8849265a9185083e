/*  value.c: copying, freeing and printing parameter values.              */
#include "value.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

void
hpo_values_clear (hpo_value_t *values, size_t n)
{
    assert (values || n == 0);
    for (size_t k = 0; k < n; k++)
        hpo_free (&values[k].s);
}

void
hpo_value_copy (hpo_value_t *dst, const hpo_value_t *src)
{
    assert (dst && src);
    *dst = *src;
    if (src->s)
        dst->s = hpo_strdup (src->s);
}

char *
hpo_value_format (const hpo_value_t *value)
{
    assert (value);
    switch (value->kind) {
    case HPO_KIND_INT:
        return hpo_sprintf ("%" PRId64, value->i);
    case HPO_KIND_STR:
        return hpo_strdup (value->s ? value->s : "");
    case HPO_KIND_NONE:
        return hpo_strdup ("");
    case HPO_KIND_FLOAT:
        break;
    }
    assert (value->kind == HPO_KIND_FLOAT);
    //  The shortest form that reads back as the same double: 0.1, not
    //  0.10000000000000001. %.17g always round-trips, so the loop ends.
    char buf[40];
    for (int precision = 1; precision <= 17; precision++) {
        snprintf (buf, sizeof buf, "%.*g", precision, value->f);
        if (strtod (buf, NULL) == value->f || isnan (value->f))
            break;
    }
    //  %g picks an exponent whenever it is shorter, so 10.0 came out as
    //  "1e+01" and 300.0 as "3e+02" on the user's command line. Between
    //  1e-4 and 1e16 write the plain decimal instead, as Python's repr
    //  does: the fewest decimals that still read back as the same double.
    double a = fabs (value->f);
    if (strchr (buf, 'e') && a >= 1e-4 && a < 1e16) {
        char plain[64];
        for (int decimals = 0; decimals <= 20; decimals++) {
            snprintf (plain, sizeof plain, "%.*f", decimals, value->f);
            if (strtod (plain, NULL) == value->f)
                return hpo_strdup (plain);
        }
    }
    return hpo_strdup (buf);
}
