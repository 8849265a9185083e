/*  importance_replay.c: hpo's parameter importance (dash/importance.h) on
    trials given as text, for tests/conformance/test_importance.py, which
    ranks the same parameters with Optuna 3.1's fANOVA and compares.

        importance_replay < INPUT

    INPUT lines, parameters first:

        float NAME LO HI LOG    a numeric parameter; LOG 1: log scale
                                (values and range in natural units)
        cat NAME K              a categorical with K choices
        trial Y X...            a trial: objective Y (lower is better),
                                one X per parameter (a categorical's
                                index), nan where the trial lacks it

    Output: one line per parameter, in input order: NAME IMPORTANCE RHO.
    Exit 2 on bad input.                                                 */
#include "common/mem.h"
#include "dash/importance.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS 16

typedef struct {
    hpo_importance_param_t params[MAX_PARAMS];
    char names[MAX_PARAMS][64];
    double *x[MAX_PARAMS];
    size_t n_params;
    double *y;
    size_t n, room;
} replay_t;

static void
s_fail (const char *what)
{
    fprintf (stderr, "importance_replay: %s\n", what);
    exit (2);
}

static void
s_param (replay_t *r, const char *line)
{
    if (r->n_params == MAX_PARAMS || r->n)
        s_fail ("too many parameters, or one after a trial");
    hpo_importance_param_t *p = &r->params[r->n_params];
    char *name = r->names[r->n_params];
    double lo, hi;
    int log_scale, n_choices;
    if (sscanf (line, "float %63s %lf %lf %d", name, &lo, &hi, &log_scale) ==
        4) {
        p->log = log_scale;
        p->lo = log_scale ? log (lo) : lo;
        p->hi = log_scale ? log (hi) : hi;
    } else if (sscanf (line, "cat %63s %d", name, &n_choices) == 2) {
        p->categorical = 1;
        p->n_choices = n_choices;
    } else
        s_fail ("bad parameter line");
    p->name = name;
    r->n_params++;
}

static void
s_trial (replay_t *r, char *line)
{
    if (r->n == r->room) {
        r->room = r->room ? 2 * r->room : 256;
        r->y = hpo_realloc (r->y, r->room * sizeof (double));
        for (size_t k = 0; k < r->n_params; k++)
            r->x[k] = hpo_realloc (r->x[k], r->room * sizeof (double));
    }
    char *end;
    r->y[r->n] = strtod (line + strlen ("trial"), &end);
    for (size_t k = 0; k < r->n_params; k++) {
        char *at = end;
        double v = strtod (at, &end);
        if (end == at)
            s_fail ("bad trial line");
        hpo_importance_param_t *p = &r->params[k];
        r->x[k][r->n] = p->log && !p->categorical ? log (v) : v;
    }
    r->n++;
}

int
main (void)
{
    replay_t r;
    memset (&r, 0, sizeof r);
    char line[4096];
    while (fgets (line, sizeof line, stdin)) {
        if (strncmp (line, "trial ", 6) == 0)
            s_trial (&r, line);
        else if (line[0] != '\n' && line[0] != '#')
            s_param (&r, line);
    }
    for (size_t k = 0; k < r.n_params; k++)
        r.params[k].x = r.x[k];
    hpo_importance_t out[MAX_PARAMS];
    int rc = hpo_importance (r.params, r.n_params, r.y, r.n, 0, out);
    for (size_t k = 0; k < r.n_params; k++)
        printf ("%s %.17g %.17g\n", r.names[k], out[k].importance,
                out[k].spearman);
    for (size_t k = 0; k < r.n_params; k++)
        free (r.x[k]);
    free (r.y);
    return rc == 0 ? 0 : 1;
}
