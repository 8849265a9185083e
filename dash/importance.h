/*  importance.h: which parameters matter, from finished trials, for the
    dashboard's importance view: PED-ANOVA (Watanabe et al., 2023: the
    Pearson divergence between a parameter's distribution in the top
    trials and in all of them) and Spearman's rank correlation with the
    objective. Pure functions over columns; no model, no JSON.           */
#ifndef HPO_IMPORTANCE_H
#define HPO_IMPORTANCE_H

#include <stddef.h>

typedef struct {
    const char *name;
    const double *x;    //  n values, in [lo, hi] (in log space when log);
                        //  NAN where the trial lacks the parameter
    int categorical;    //  x holds category indexes 0..n_choices-1
    int n_choices;
    double lo, hi;      //  the parameter's range (numeric)
    int log;            //  x is log(value); lo, hi too
} hpo_importance_param_t;

typedef struct {
    double importance;  //  share of the total, sums to 1; NAN: unknown
    double spearman;    //  rank correlation with y; NAN: not numeric or
                        //  too few trials
} hpo_importance_t;

//  Importance of n_params parameters over n trials with objective
//  values y (lower is better; the caller negates a maximized objective).
//  quantile: the share of trials counted as top (0.1 by default when 0).
//  out holds n_params results. Returns 0, or -1 when there are too few
//  trials (every result NAN).
int hpo_importance (const hpo_importance_param_t *params, size_t n_params,
                    const double *y, size_t n, double quantile,
                    hpo_importance_t *out);

#endif
