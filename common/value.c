/*  value.c: copying, freeing and printing parameter values.              */
#include "value.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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
    return hpo_strdup (buf);
}
