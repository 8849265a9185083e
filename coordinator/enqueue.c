/*  enqueue.c: a configuration from the command line, checked against the
    study's space.                                                        */
#include "enqueue.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"

//  A number the whole text is, into *f (and *i when it is an integer
//  written as one); 0, or -1 if it is not a finite number.
static int
s_number (const char *text, double *f, int64_t *i, int *is_int)
{
    char *end;
    errno = 0;
    long long n = strtoll (text, &end, 10);
    *is_int = *text && !*end && errno == 0;
    if (*is_int) {
        *i = n;
        *f = (double)n;
        return 0;
    }
    errno = 0;
    *f = strtod (text, &end);
    return *text && !*end && errno == 0 && isfinite (*f) ? 0 : -1;
}

//  The parameter's values as "a, b, c", for messages; caller frees.
static char *
s_values_text (const hpo_param_spec_t *p)
{
    char *text = hpo_strdup ("");
    for (size_t k = 0; k < p->n_values && k < 20; k++) {
        char *v = hpo_value_format (&p->values[k]);
        char *next = hpo_sprintf ("%s%s%s", text, k ? ", " : "", v);
        free (v);
        free (text);
        text = next;
    }
    return text;
}

//  Which of p's values text is (-1: none): a string value by its text,
//  a number by its value.
static int
s_value_index (const hpo_param_spec_t *p, const char *text)
{
    double f;
    int64_t i;
    int is_int;
    int number = s_number (text, &f, &i, &is_int) == 0;
    for (size_t k = 0; k < p->n_values; k++) {
        const hpo_value_t *v = &p->values[k];
        if (v->kind == HPO_KIND_STR ? strcmp (v->s, text) == 0
                                    : number && v->f == f)
            return (int)k;
    }
    return -1;
}

//  Whether v lies on p's step from its low end.
static int
s_on_step (const hpo_param_spec_t *p, double v)
{
    if (!p->has_step || p->step <= 0)
        return 1;
    double k = (v - p->low) / p->step;
    return fabs (k - round (k)) <= 1e-9 * fmax (1, fabs (k));
}

//  Reads text as a value of p into *out; NULL, or why not (caller frees).
static char *
s_value (const hpo_param_spec_t *p, const char *text, hpo_value_t *out)
{
    if (p->n_values) {
        int k = s_value_index (p, text);
        if (k < 0) {
            char *list = s_values_text (p);
            char *why = hpo_sprintf ("'%s' is not one of: %s", text, list);
            free (list);
            return why;
        }
        hpo_value_copy (out, &p->values[k]);
        return NULL;
    }
    double f;
    int64_t i;
    int is_int;
    if (s_number (text, &f, &i, &is_int))
        return hpo_sprintf ("'%s' is not a number", text);
    if (p->type == HPO_PARAM_INT && !is_int)
        return hpo_sprintf ("'%s' is not an integer", text);
    if (f < p->low || f > p->high)
        return hpo_sprintf ("%s is out of range [%.17g, %.17g]", text, p->low,
                            p->high);
    if (!s_on_step (p, f))
        return hpo_sprintf ("%s is not on its step %.17g from %.17g", text,
                            p->step, p->low);
    out->kind = p->type == HPO_PARAM_INT ? HPO_KIND_INT : HPO_KIND_FLOAT;
    out->f = f;
    out->i = p->type == HPO_PARAM_INT ? i : 0;
    return NULL;
}

//  Reads one NAME=VALUE word; NULL, or why not (caller frees).
static char *
s_word (const hpo_spec_t *spec, const char *word, hpo_value_t *values,
        uint8_t *fixed)
{
    const char *eq = strchr (word, '=');
    if (!eq || eq == word)
        return hpo_sprintf ("'%s' is not NAME=VALUE", word);
    char *name = hpo_strndup (word, (size_t)(eq - word));
    int k = hpo_spec_param_index (spec, name);
    char *why = NULL;
    if (k < 0)
        why = hpo_sprintf ("%s: no such parameter in the study's space", name);
    else if (fixed[k])
        why = hpo_sprintf ("%s: given twice", name);
    else {
        char *problem = s_value (&spec->params[k], eq + 1, &values[k]);
        if (problem)
            why = hpo_sprintf ("%s: %s", name, problem);
        free (problem);
        fixed[k] = why == NULL;
    }
    free (name);
    return why;
}

//  A parameter given whose condition does not hold among those given
//  (or depends on one not given); NULL, or why (caller frees).
static char *
s_conditions (const hpo_spec_t *spec, const hpo_value_t *values,
              const uint8_t *fixed)
{
    for (size_t k = 0; k < spec->n_params; k++) {
        const hpo_param_spec_t *p = &spec->params[k];
        if (!fixed[k] || p->when_param < 0)
            continue;
        const char *parent = spec->params[p->when_param].name;
        if (!fixed[p->when_param])
            return hpo_sprintf ("%s: exists only for some values of %s: give "
                                "%s too",
                                p->name, parent, parent);
        if (!hpo_spec_active (spec, k, values))
            return hpo_sprintf ("%s: does not exist when %s is the value "
                                "given (its when: condition)",
                                p->name, parent);
    }
    return NULL;
}

int
hpo_enqueue_parse (const hpo_spec_t *spec, char *const *words, size_t n,
                   hpo_value_t *values, uint8_t *fixed, char **error)
{
    *error = NULL;
    for (size_t k = 0; k < n && !*error; k++)
        *error = s_word (spec, words[k], values, fixed);
    if (!*error)
        *error = s_conditions (spec, values, fixed);
    if (!*error)
        return 0;
    char *full = hpo_sprintf ("enqueue: %s", *error);
    free (*error);
    *error = full;
    return -1;
}
