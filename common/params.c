#include "params.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "spec.h"

static json_t *
s_value_json (const hpo_value_t *v)
{
    switch (v->kind) {
    case HPO_KIND_FLOAT:
        return json_real (v->f);
    case HPO_KIND_INT:
        return json_integer ((json_int_t)v->i);
    case HPO_KIND_STR:
        return json_string (v->s ? v->s : "");
    case HPO_KIND_NONE:
        break;
    }
    return json_null ();
}

json_t *
hpo_params_json (char *const *names, const hpo_value_t *values, size_t n)
{
    json_t *obj = json_object ();
    //  A parameter that does not exist in this trial has no key at all.
    for (size_t k = 0; k < n; k++)
        if (values[k].kind != HPO_KIND_NONE)
            json_object_set_new (obj, names[k], s_value_json (&values[k]));
    return obj;
}

char *
hpo_params_dump (char *const *names, const hpo_value_t *values, size_t n)
{
    json_t *obj = hpo_params_json (names, values, n);
    char *text = json_dumps (obj, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                      JSON_REAL_PRECISION (17));
    json_decref (obj);
    if (!text)
        abort (); //  jansson fails here only when out of memory
    char *copy = hpo_strdup (text);
    free (text);
    return copy;
}

int
hpo_params_load (const hpo_spec_t *spec, const char *text, hpo_value_t *out)
{
    memset (out, 0, sizeof (hpo_value_t) * spec->n_params);
    json_t *obj = json_loads (text, 0, NULL);
    if (!obj || !json_is_object (obj)) {
        json_decref (obj);
        return -1;
    }
    int rc = 0;
    for (size_t k = 0; k < spec->n_params && rc == 0; k++) {
        json_t *j = json_object_get (obj, spec->params[k].name);
        if (json_is_integer (j)) {
            out[k].kind = HPO_KIND_INT;
            out[k].i = json_integer_value (j);
            out[k].f = (double)out[k].i;
        } else if (json_is_real (j)) {
            out[k].kind = HPO_KIND_FLOAT;
            out[k].f = json_real_value (j);
        } else if (json_is_string (j)) {
            out[k].kind = HPO_KIND_STR;
            out[k].s = hpo_strdup (json_string_value (j));
        } else if (!j && !hpo_spec_active (spec, k, out))
            out[k].kind = HPO_KIND_NONE;
        else
            rc = -1;
    }
    json_decref (obj);
    if (rc)
        hpo_values_clear (out, spec->n_params);
    return rc;
}
