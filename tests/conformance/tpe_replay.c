/*  tpe_replay.c: hpo's TPE estimators on a history given as text, for
    tests/conformance/test_tpe.py, which computes the same with Optuna
    3.1's and compares.

        tpe_replay STUDY_FILE < INPUT

    INPUT lines:

        trial STATE VALUE STEP STEP_VALUE X...
            appends a trial: STATE COMPLETE, PRUNED, RUNNING or FAILED;
            VALUE its value (nan for none); a PRUNED trial's last report
            at STEP with STEP_VALUE (STEP -1: none); X one word per
            parameter: a number, a categorical's index, or - for absent
        score K Y...
            prints log l(y) - log g(y) for parameter K at each Y (its
            value; a categorical's index), one line
        joint Y...
            the same for the joint model of multivariate TPE at the point
            Y (one value per parameter)

    It includes search/tpe.c to reach the estimators.                     */
#include "search/tpe.c"

#include <stdio.h>

static hpo_spec_t *
s_load (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        perror (path);
        exit (2);
    }
    static char text[1 << 16];
    size_t len = fread (text, 1, sizeof text, f);
    fclose (f);
    char *error = NULL;
    hpo_spec_t *spec = hpo_spec_parse (text, len, path, &error);
    if (!spec) {
        fprintf (stderr, "tpe_replay: %s\n", error);
        exit (2);
    }
    return spec;
}

static void
s_trial (const hpo_spec_t *spec, hpo_history_t *history, char *rest)
{
    char state[32], value[64];
    long long step;
    double step_value;
    int used;
    if (sscanf (rest, "%31s %63s %lld %lf%n", state, value, &step, &step_value,
                &used) != 4) {
        fprintf (stderr, "tpe_replay: bad trial line\n");
        exit (2);
    }
    rest += used;
    hpo_value_t row[64] = {{0}};
    for (size_t k = 0; k < spec->n_params; k++) {
        char word[64];
        if (sscanf (rest, "%63s%n", word, &used) != 1)
            exit (2);
        rest += used;
        const hpo_param_spec_t *p = &spec->params[k];
        if (!strcmp (word, "-"))
            row[k].kind = HPO_KIND_NONE;
        else if (p->values)
            hpo_value_copy (&row[k], &p->values[atoi (word)]);
        else if (p->type == HPO_PARAM_INT)
            row[k] = (hpo_value_t){.kind = HPO_KIND_INT,
                                   .i = atoll (word),
                                   .f = (double)atoll (word)};
        else
            row[k] = (hpo_value_t){.kind = HPO_KIND_FLOAT, .f = atof (word)};
    }
    uint64_t number = hpo_history_append (history, row);
    hpo_values_clear (row, spec->n_params);
    hpo_history_set_state (history, number,
                           (hpo_trial_state_t)hpo_trial_state_parse (state));
    hpo_history_set_value (history, number, atof (value));
    if (step >= 0)
        hpo_history_add_point (history, number, step, step_value);
}

//  A point's internal value for parameter p.
static double
s_point (const hpo_param_spec_t *p, double y)
{
    return p->values || !p->log ? y : log (y);
}

static void
s_print_scores (s_tpe_t *self, const hpo_spec_t *spec, size_t n_obs, char *rest)
{
    int used;
    size_t k;
    if (sscanf (rest, "%zu%n", &k, &used) != 1 || k >= spec->n_params)
        exit (2);
    rest += used;
    const hpo_param_spec_t *p = &spec->params[k];
    double *pl = NULL, *pg = NULL;
    if (s_is_categorical (p)) {
        size_t nb, na;
        s_gather (self, n_obs, k, &nb, &na);
        pl = hpo_malloc (2 * p->n_values * sizeof *pl);
        pg = pl + p->n_values;
        s_cat_probs (self, self->xb, nb, p->n_values, pl);
        s_cat_probs (self, self->xa, na, p->n_values, pg);
    } else {
        s_kde_build (self, &self->l, p, k, n_obs, S_BELOW);
        s_kde_build (self, &self->g, p, k, n_obs, S_ABOVE);
    }
    double y;
    const char *sep = "";
    while (sscanf (rest, "%lf%n", &y, &used) == 1) {
        rest += used;
        double score;
        if (pl)
            score = log (pl[(size_t)y]) - log (pg[(size_t)y]);
        else
            score = s_kde_log_pdf (&self->l, s_point (p, y)) -
                    s_kde_log_pdf (&self->g, s_point (p, y));
        printf ("%s%.17g", sep, score);
        sep = " ";
    }
    printf ("\n");
    free (pl);
}

static void
s_joint (s_tpe_t *self, const hpo_spec_t *spec, const hpo_history_t *history,
         size_t n_obs, char *rest)
{
    s_dim_t dims[64];
    size_t d = s_joint_dims (spec, NULL, dims);
    double *xs = hpo_malloc ((n_obs + 1) * d * sizeof *xs), y[64];
    for (size_t r = 0; r < n_obs; r++) {
        const hpo_value_t *row = hpo_history_params (history, self->obs[r].row);
        for (size_t j = 0; j < d; j++)
            xs[r * d + j] = s_internal (dims[j].p, &row[dims[j].k]);
    }
    for (size_t j = 0; j < d; j++) {
        int used;
        if (sscanf (rest, "%lf%n", &y[j], &used) != 1)
            exit (2);
        rest += used;
        y[j] = s_point (dims[j].p, y[j]);
    }
    s_mv_t l = {0}, g = {0};
    s_mv_build (self, &l, dims, d, xs, n_obs, S_BELOW);
    s_mv_build (self, &g, dims, d, xs, n_obs, S_ABOVE);
    double *scratch = hpo_malloc ((l.n + g.n) * sizeof *scratch);
    printf ("%.17g\n", s_mv_log_pdf (&l, dims, y, scratch) -
                           s_mv_log_pdf (&g, dims, y, scratch));
    free (scratch);
    free (xs);
    s_mv_free (&l);
    s_mv_free (&g);
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: tpe_replay STUDY_FILE < INPUT\n");
        return 2;
    }
    hpo_spec_t *spec = s_load (argv[1]);
    hpo_history_t *history = hpo_history_new (spec->n_params);
    s_tpe_t *self = s_new (spec, spec->sampler.config);
    static char line[1 << 16];
    while (fgets (line, sizeof line, stdin)) {
        char word[16];
        int used;
        if (sscanf (line, "%15s%n", word, &used) != 1)
            continue;
        if (!strcmp (word, "trial")) {
            s_trial (spec, history, line + used);
            continue;
        }
        size_t n_obs;
        s_split (self, spec, history, &n_obs);
        s_sync (self, spec, history);
        if (!strcmp (word, "score"))
            s_print_scores (self, spec, n_obs, line + used);
        else if (!strcmp (word, "joint"))
            s_joint (self, spec, history, n_obs, line + used);
        else
            return 2;
        fflush (stdout);
    }
    s_destroy (self);
    for (size_t k = 0; k < history->n; k++)
        hpo_values_clear ((hpo_value_t *)hpo_history_params (history, k),
                          spec->n_params);
    hpo_history_destroy (&history);
    hpo_spec_destroy (&spec);
    return 0;
}
