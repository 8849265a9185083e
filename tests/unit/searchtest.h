/*  searchtest.h: what the tests of samplers that parse their own study
    files share (test_qmc.c, test_cmaes.c).                             */
#ifndef HPO_SEARCHTEST_H
#define HPO_SEARCHTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/spec.h"
#include "testutil.h"

//  A study with this sampler: mapping and these space: lines; NULL with
//  *error set (the caller frees it) when it does not parse.
static hpo_spec_t *
t_spec (const char *sampler, const char *space, char **error)
{
    char text[16384];
    snprintf (text, sizeof text,
              "name: s\n"
              "command: ./run\n"
              "objective: {metric: loss}\n"
              "sampler: %s\n"
              "budget: {trials: 100}\n"
              "space:\n%s",
              sampler, space);
    return hpo_spec_parse (text, strlen (text), "s.yaml", error);
}

//  The same, which must parse.
static hpo_spec_t *
t_spec_ok (const char *sampler, const char *space)
{
    char *error = NULL;
    hpo_spec_t *spec = t_spec (sampler, space, &error);
    if (!spec)
        fprintf (stderr, "spec: %s\n", error);
    CHECK (spec != NULL);
    free (error);
    return spec;
}

//  Whether two values are the same value of the same kind.
static int
t_same (const hpo_value_t *a, const hpo_value_t *b)
{
    if (a->kind != b->kind)
        return 0;
    if (a->kind == HPO_KIND_STR)
        return !strcmp (a->s, b->s);
    return a->kind == HPO_KIND_NONE || (a->f == b->f && a->i == b->i);
}

#endif
