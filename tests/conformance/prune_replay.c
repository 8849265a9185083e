/*  prune_replay: feeds recorded learning curves to one of hpo's pruners
    and prints its decision at every report, for the conformance test
    (test_pruners.py), which feeds the same curves to Optuna.

        prune_replay STUDY.yaml < EVENTS.jsonl

    STUDY.yaml is a study file; its objective's direction and its pruner:
    are what count. Each line of the events is one JSON object:

        {"trial": 3, "step": 5, "value": 0.81}    a report (NaN allowed)
        {"trial": 3, "end": "COMPLETE"}            the trial ended

    Trials are numbered 0, 1, ..., all RUNNING until they end. A
    report is handled as the coordinator does (coordinator/sched.c): a
    finite value at a step above the trial's last joins its curve, then
    the pruner is asked; a trial the pruner stops becomes PRUNED. For
    each report one line is printed:

        TRIAL STEP prune|continue [REASON]

    Exit status 0, or 2 on a malformed input.                             */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/mem.h"
#include "../../common/spec.h"
#include "../../search/history.h"
#include "../../search/pruner.h"

//  The number after "key": in line, into *out; -1 when absent.
static int
s_number (const char *line, const char *key, double *out)
{
    char pattern[32];
    snprintf (pattern, sizeof pattern, "\"%s\":", key);
    const char *at = strstr (line, pattern);
    if (!at)
        return -1;
    char *end;
    *out = strtod (at + strlen (pattern), &end);
    return end == at + strlen (pattern) ? -1 : 0;
}

static char *
s_read_file (const char *path, size_t *len)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    char *text = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            text = hpo_realloc (text, cap);
        }
        size_t got = fread (text + *len, 1, cap - *len - 1, f);
        if (got == 0)
            break;
        *len += got;
    }
    text[*len] = 0;
    fclose (f);
    return text;
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: prune_replay STUDY.yaml < EVENTS.jsonl\n");
        return 2;
    }
    size_t len;
    char *text = s_read_file (argv[1], &len);
    char *error = NULL;
    hpo_spec_t *spec = text ? hpo_spec_parse (text, len, argv[1], &error) : NULL;
    free (text);
    if (!spec) {
        fprintf (stderr, "prune_replay: %s\n", error ? error : argv[1]);
        free (error);
        return 2;
    }
    const hpo_pruner_ops_t *ops = spec->pruner.ops;
    void *pruner = ops->new (spec, spec->pruner.config);
    hpo_history_t *history = hpo_history_new (0);
    char line[4096];
    int rc = 0;
    while (fgets (line, sizeof line, stdin)) {
        double trial, step, value;
        if (s_number (line, "trial", &trial) || trial < 0 || trial > 1e7) {
            rc = 2;
            break;
        }
        uint64_t number = (uint64_t)trial;
        while (number >= history->n)
            hpo_history_set_state (
                history, hpo_history_append (history, NULL), HPO_TRIAL_RUNNING);
        if (strstr (line, "\"end\":")) {
            if (history->states[number] == HPO_TRIAL_RUNNING)
                hpo_history_set_state (history, number,
                                       strstr (line, "PRUNED")
                                           ? HPO_TRIAL_PRUNED
                                           : HPO_TRIAL_COMPLETE);
            continue;
        }
        if (s_number (line, "step", &step) || s_number (line, "value", &value)) {
            rc = 2;
            break;
        }
        const hpo_curve_t *c = &history->curves[number];
        int64_t s = (int64_t)step;
        if (isfinite (value) && (c->n == 0 || s > c->steps[c->n - 1]))
            hpo_history_add_point (history, number, s, value);
        char *reason = NULL;
        hpo_prune_t d =
            ops->report (pruner, history, number, s, value, &reason);
        printf ("%" PRIu64 " %" PRId64 " %s%s%s\n", number, s,
                d == HPO_PRUNE_STOP ? "prune" : "continue", reason ? " " : "",
                reason ? reason : "");
        free (reason);
        if (d == HPO_PRUNE_STOP)
            hpo_history_set_state (history, number, HPO_TRIAL_PRUNED);
    }
    hpo_history_destroy (&history);
    ops->destroy (pruner);
    hpo_spec_destroy (&spec);
    if (rc)
        fprintf (stderr, "prune_replay: malformed line: %s", line);
    return rc;
}
