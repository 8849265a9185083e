#include "render.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/json_render.h"
#include "../common/mem.h"
#include "../common/utf8.h"

//  ---- small helpers ------------------------------------------------------

static int
s_has (const char *s)
{
    return s && *s;
}

//  A copy of s for a table cell; protobuf-c gives "" for unset strings, but
//  a hand-built message may hold NULL.
static char *
s_dup (const char *s)
{
    return hpo_strdup (s ? s : "");
}

char *
hpo_render_number (double v)
{
    if (!isfinite (v))
        return hpo_strdup (isnan (v) ? "nan" : v < 0 ? "-inf" : "inf");
    return hpo_sprintf ("%.6g", v);
}

//  Columns s takes on a terminal: one per character (a byte that does
//  not continue a UTF-8 sequence); wide and combining characters are rare
//  in names and reasons, and not worth a table of them.
static size_t
s_cols (const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

char *
hpo_render_cut (const char *s, size_t max)
{
    static const char ellipsis[] = "\xE2\x80\xA6"; //  U+2026
    s = s ? s : "";
    size_t len = strlen (s);
    size_t keep = 0, chars = 0, cut = 0;
    //  Walk characters: note where max - 1 of them end (where a cut text
    //  stops), and whether there are more than max.
    while (keep < len) {
        size_t n = hpo_utf8_char (s + keep, len - keep);
        keep += n ? n : 1; //  an invalid byte is one column
        chars++;
        if (chars == (max ? max - 1 : 0))
            cut = keep;
        if (chars > max)
            break;
    }
    char *text;
    if (chars > max)
        text = hpo_sprintf ("%.*s%s", (int)cut, s, max ? ellipsis : "");
    else
        text = hpo_strdup (s);
    //  A cell is one line: line breaks and tabs in a reason become spaces.
    for (char *c = text; *c; c++)
        if (*c == '\n' || *c == '\r' || *c == '\t')
            *c = ' ';
    return text;
}

//  Widest a cell of each kind is shown; longer ones end in "…".
#define S_MAX_NAME 24
#define S_MAX_VALUE 24
#define S_MAX_REASON 48
#define S_MAX_PARAMS 64

//  A string cell, cut to max columns.
static char *
s_cell (const char *s, size_t max)
{
    return hpo_render_cut (s, max);
}

static char *
s_param_text (const Hpo__Param *param)
{
    switch (param->kind) {
    case HPO_KIND_FLOAT:
        return hpo_render_number (param->f);
    case HPO_KIND_INT:
        return hpo_sprintf ("%" PRId64, param->i);
    case HPO_KIND_STR:
        return s_cell (param->s, S_MAX_VALUE);
    }
    return hpo_strdup ("?");
}

//  "lr=0.001 layers=3 opt=adam"
static char *
s_params_line (const Hpo__TrialInfo *trial)
{
    char *line = hpo_strdup ("");
    for (size_t k = 0; k < trial->n_params; k++) {
        char *value = s_param_text (trial->params[k]);
        const char *name = trial->params[k]->name;
        char *next = hpo_sprintf ("%s%s%s=%s", line, k ? " " : "",
                                  name ? name : "", value);
        free (value);
        free (line);
        line = next;
    }
    return line;
}

//  Local time for people; "-" for "not yet".
static char *
s_clock_text (double t)
{
    if (!(t > 0))
        return hpo_strdup ("-");
    time_t secs = (time_t)t;
    struct tm tm;
    if (!localtime_r (&secs, &tm))
        return hpo_strdup ("-");
    char text[32];
    strftime (text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
    return hpo_strdup (text);
}

static uint64_t
s_done (const Hpo__StudyInfo *study)
{
    return study->complete + study->pruned + study->failed;
}

static const Hpo__TrialInfo *
s_best (const Hpo__StudyInfo *study)
{
    return study->has_best && study->best ? study->best : NULL;
}

char *
hpo_render_duration (double seconds)
{
    if (!(seconds >= 0))
        return hpo_strdup ("-");
    long long s = (long long)seconds;
    if (s < 60)
        return hpo_sprintf ("%llds", s);
    if (s < 3600)
        return hpo_sprintf ("%lldm%02llds", s / 60, s % 60);
    if (s < 86400)
        return hpo_sprintf ("%lldh%02lldm", s / 3600, s % 3600 / 60);
    return hpo_sprintf ("%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

//  ---- tables -------------------------------------------------------------

//  Cells in row order; columns are as wide as their widest cell, two spaces
//  apart, the last one unpadded so no line ends in blanks.
typedef struct {
    size_t cols;
    size_t n;
    size_t cap;
    char **cells;
} s_table_t;

static void
s_table_init (s_table_t *table, size_t cols)
{
    assert (cols > 0);
    memset (table, 0, sizeof *table);
    table->cols = cols;
}

//  Takes ownership of cell.
static void
s_table_add (s_table_t *table, char *cell)
{
    if (table->n == table->cap) {
        table->cap = table->cap ? table->cap * 2 : 32;
        table->cells = hpo_realloc (table->cells, table->cap * sizeof (char *));
    }
    table->cells[table->n++] = cell;
}

static void s_table_addf (s_table_t *table, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
s_table_addf (s_table_t *table, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char *cell = hpo_vsprintf (fmt, ap);
    va_end (ap);
    s_table_add (table, cell);
}

static void
s_table_print (s_table_t *table, FILE *out, const char *indent)
{
    assert (table->n % table->cols == 0);
    size_t *width = hpo_calloc (table->cols, sizeof (size_t));
    for (size_t k = 0; k < table->n; k++) {
        size_t len = s_cols (table->cells[k]);
        if (len > width[k % table->cols])
            width[k % table->cols] = len;
    }
    //  Padded by columns, not bytes, so a cell ending in "…" lines up.
    for (size_t k = 0; k < table->n; k++) {
        size_t col = k % table->cols;
        if (col == 0)
            fputs (indent, out);
        if (col + 1 < table->cols)
            fprintf (out, "%s%*s  ", table->cells[k],
                     (int)(width[col] - s_cols (table->cells[k])), "");
        else
            fprintf (out, "%s\n", table->cells[k]);
    }
    free (width);
}

static void
s_table_clear (s_table_t *table)
{
    for (size_t k = 0; k < table->n; k++)
        free (table->cells[k]);
    free (table->cells);
    table->cells = NULL;
    table->n = table->cap = 0;
}

//  ---- text for people ----------------------------------------------------

void
hpo_render_study_list (FILE *out, const Hpo__StudyList *list)
{
    if (!list || list->n_studies == 0) {
        fprintf (out, "no studies\n");
        return;
    }
    enum { COLS = 7 };
    s_table_t table;
    s_table_init (&table, COLS);
    const char *head[COLS] = {"NAME",   "STATE", "DONE/BUDGET", "RUNNING",
                              "FAILED", "BEST",  "ELAPSED"};
    for (size_t c = 0; c < COLS; c++)
        s_table_add (&table, hpo_strdup (head[c]));
    for (size_t k = 0; k < list->n_studies; k++) {
        const Hpo__StudyInfo *s = list->studies[k];
        const Hpo__TrialInfo *best = s_best (s);
        s_table_add (&table, s_cell (s->name, S_MAX_NAME));
        s_table_add (&table, s_dup (s->state));
        s_table_addf (&table, "%" PRIu64 "/%" PRIu64, s_done (s), s->budget);
        s_table_addf (&table, "%" PRIu64, s->running);
        s_table_addf (&table, "%" PRIu64, s->failed);
        s_table_add (&table, best && best->has_value
                                 ? hpo_render_number (best->value)
                                 : hpo_strdup ("-"));
        s_table_add (&table, hpo_render_duration (hpo_json_render_elapsed (s)));
    }
    s_table_print (&table, out, "");
    s_table_clear (&table);
}

//  "12, trials each 3-4": a hybrid search's grid points and how evenly
//  its trials are spread over them.
static char *
s_grid_line (const Hpo__StudyInfo *study)
{
    if (study->grid_trials_min == study->grid_trials_max)
        return hpo_sprintf ("%" PRIu64 ", trials each %" PRIu64,
                            study->grid_points, study->grid_trials_min);
    return hpo_sprintf ("%" PRIu64 ", trials each %" PRIu64 "-%" PRIu64,
                        study->grid_points, study->grid_trials_min,
                        study->grid_trials_max);
}

void
hpo_render_study_grid (FILE *out, const Hpo__StudyInfo *study)
{
    if (!study->grid_points) {
        fprintf (out, "study %s has no grid: true parameters\n",
                 study->name ? study->name : "");
        return;
    }
    char *line = s_grid_line (study);
    fprintf (out, "grid points: %s\n", line);
    free (line);
    if (study->n_grid < study->grid_points) {
        fprintf (out, "(too many points to list one by one)\n");
        return;
    }
    size_t cols = (study->n_grid ? study->grid[0]->n_params : 0) + 1;
    s_table_t table;
    s_table_init (&table, cols);
    for (size_t j = 0; j + 1 < cols; j++) {
        const char *name = study->grid[0]->params[j]->name;
        s_table_add (&table, s_cell (name ? name : "", S_MAX_NAME));
    }
    s_table_add (&table, hpo_strdup ("TRIALS"));
    for (size_t p = 0; p < study->n_grid; p++) {
        const Hpo__GridPoint *g = study->grid[p];
        for (size_t j = 0; j + 1 < cols; j++)
            s_table_add (&table, j < g->n_params ? s_param_text (g->params[j])
                                                 : hpo_strdup ("-"));
        s_table_addf (&table, "%" PRIu64, g->trials);
    }
    s_table_print (&table, out, "");
    s_table_clear (&table);
}

json_t *
hpo_render_study_grid_json (const Hpo__StudyInfo *study)
{
    json_t *doc = json_object ();
    json_object_set_new (doc, "study", hpo_json_render_string (study->name));
    json_object_set_new (doc, "grid_points",
                         json_integer ((json_int_t)study->grid_points));
    json_object_set_new (doc, "trials_min",
                         json_integer ((json_int_t)study->grid_trials_min));
    json_object_set_new (doc, "trials_max",
                         json_integer ((json_int_t)study->grid_trials_max));
    json_t *points =
        study->n_grid < study->grid_points ? json_null () : json_array ();
    for (size_t p = 0; p < study->n_grid && json_is_array (points); p++) {
        const Hpo__GridPoint *g = study->grid[p];
        json_t *params = json_object ();
        for (size_t j = 0; j < g->n_params; j++)
            json_object_set_new (params,
                                 g->params[j]->name ? g->params[j]->name : "",
                                 hpo_json_render_param (g->params[j]));
        json_t *row = json_object ();
        json_object_set_new (row, "params", params);
        json_object_set_new (row, "trials",
                             json_integer ((json_int_t)g->trials));
        json_array_append_new (points, row);
    }
    json_object_set_new (doc, "points", points);
    return doc;
}

void
hpo_render_study (FILE *out, const Hpo__StudyInfo *study)
{
    s_table_t table;
    s_table_init (&table, 2);
    s_table_add (&table, hpo_strdup ("study"));
    s_table_add (&table, s_dup (study->name));
    s_table_add (&table, hpo_strdup ("state"));
    s_table_add (&table, s_dup (study->state));
    if (s_has (study->reason)) { //  why it FAILED (fail fast)
        s_table_add (&table, hpo_strdup ("reason"));
        s_table_add (&table, s_dup (study->reason));
    }
    s_table_add (&table, hpo_strdup ("objective"));
    if (s_has (study->objective))
        s_table_addf (&table, "%s (%s)", study->objective,
                      s_has (study->direction) ? study->direction : "-");
    else
        s_table_add (&table, hpo_strdup ("-"));
    s_table_add (&table, hpo_strdup ("sampler"));
    s_table_add (&table, s_dup (study->sampler));
    s_table_add (&table, hpo_strdup ("budget"));
    if (study->parallel)
        s_table_addf (&table, "%" PRIu64 " trials, %u at a time", study->budget,
                      study->parallel);
    else
        s_table_addf (&table, "%" PRIu64 " trials", study->budget);
    s_table_add (&table, hpo_strdup ("trials"));
    s_table_addf (&table,
                  "%" PRIu64 "/%" PRIu64 " done: WAITING %" PRIu64
                  "  RUNNING %" PRIu64 "  COMPLETE %" PRIu64 "  PRUNED %" PRIu64
                  "  FAILED %" PRIu64,
                  s_done (study), study->budget, study->waiting, study->running,
                  study->complete, study->pruned, study->failed);
    if (study->grid_points) {
        s_table_add (&table, hpo_strdup ("grid points"));
        s_table_add (&table, s_grid_line (study));
    }
    if (study->has_pruned_steps) {
        s_table_add (&table, hpo_strdup ("pruned at"));
        s_table_addf (&table,
                      "steps %" PRId64 " to %" PRId64 ", median %" PRId64,
                      study->pruned_step_min, study->pruned_step_max,
                      study->pruned_step_median);
    }
    const Hpo__TrialInfo *best = s_best (study);
    s_table_add (&table, hpo_strdup ("best"));
    if (best) {
        char *value = best->has_value ? hpo_render_number (best->value)
                                      : hpo_strdup ("-");
        s_table_addf (&table, "trial %" PRIu64 ", value %s", best->number,
                      value);
        free (value);
        s_table_add (&table, hpo_strdup (""));
        s_table_add (&table, s_params_line (best));
    } else
        s_table_add (&table, hpo_strdup ("-"));
    s_table_add (&table, hpo_strdup ("created"));
    s_table_add (&table, s_clock_text (study->created));
    if (study->ended > 0) {
        s_table_add (&table, hpo_strdup ("ended"));
        s_table_add (&table, s_clock_text (study->ended));
    }
    s_table_add (&table, hpo_strdup ("elapsed"));
    s_table_add (&table, hpo_render_duration (hpo_json_render_elapsed (study)));
    s_table_print (&table, out, "");
    s_table_clear (&table);
}

//  Names of the parameters across trials, in order of first appearance
//  (every trial of a study has the same ones, but a reply is not trusted
//  to say so).
static size_t
s_param_names (const Hpo__TrialList *list, const char ***names_p)
{
    const char **names = NULL;
    size_t n = 0;
    for (size_t k = 0; k < list->n_trials; k++) {
        const Hpo__TrialInfo *t = list->trials[k];
        for (size_t p = 0; p < t->n_params; p++) {
            const char *name = t->params[p]->name ? t->params[p]->name : "";
            size_t j = 0;
            while (j < n && strcmp (names[j], name) != 0)
                j++;
            if (j == n) {
                names = hpo_realloc (names, (n + 1) * sizeof (char *));
                names[n++] = name;
            }
        }
    }
    *names_p = names;
    return n;
}

double
hpo_render_trial_duration (const Hpo__TrialInfo *trial)
{
    if (!(trial->started > 0) || !(trial->ended >= trial->started))
        return -1;
    return trial->ended - trial->started;
}

//  A trial's duration for a table: "0.52s" under a minute, else "3m04s".
static char *
s_duration_cell (const Hpo__TrialInfo *trial)
{
    double d = hpo_render_trial_duration (trial);
    if (d < 0)
        return hpo_strdup ("-");
    if (d >= 60)
        return hpo_render_duration (d);
    char *number = hpo_render_number (d);
    char *text = hpo_sprintf ("%ss", number);
    free (number);
    return text;
}

void
hpo_render_trials (FILE *out, const Hpo__TrialList *list)
{
    if (!list || list->n_trials == 0) {
        fprintf (out, "no trials\n");
        return;
    }
    const char **names;
    size_t n_names = s_param_names (list, &names);
    //  The reason goes last: it is the one cell of free text.
    enum { FIXED = 6 };
    s_table_t table;
    s_table_init (&table, FIXED + n_names + 1);
    const char *head[FIXED] = {"NUMBER",  "STATE",  "VALUE",
                               "ATTEMPT", "WORKER", "DURATION"};
    for (size_t c = 0; c < FIXED; c++)
        s_table_add (&table, hpo_strdup (head[c]));
    for (size_t c = 0; c < n_names; c++)
        s_table_add (&table, s_cell (names[c], S_MAX_NAME));
    s_table_add (&table, hpo_strdup ("REASON"));
    for (size_t k = 0; k < list->n_trials; k++) {
        const Hpo__TrialInfo *t = list->trials[k];
        s_table_addf (&table, "%" PRIu64, t->number);
        s_table_add (&table, s_dup (t->state));
        s_table_add (&table, t->has_value ? hpo_render_number (t->value)
                                          : hpo_strdup ("-"));
        s_table_addf (&table, "%u", t->attempt);
        s_table_add (&table, s_has (t->worker) ? s_cell (t->worker, S_MAX_NAME)
                                               : hpo_strdup ("-"));
        s_table_add (&table, s_duration_cell (t));
        for (size_t c = 0; c < n_names; c++) {
            const Hpo__Param *param = NULL;
            for (size_t p = 0; p < t->n_params && !param; p++)
                if (t->params[p]->name &&
                    strcmp (t->params[p]->name, names[c]) == 0)
                    param = t->params[p];
            s_table_add (&table,
                         param ? s_param_text (param) : hpo_strdup ("-"));
        }
        s_table_add (&table, s_has (t->reason)
                                 ? s_cell (t->reason, S_MAX_REASON)
                                 : hpo_strdup ("-"));
    }
    s_table_print (&table, out, "");
    s_table_clear (&table);
    free (names);
}

static void
s_render_params (FILE *out, const Hpo__TrialInfo *trial)
{
    if (trial->n_params == 0)
        return;
    s_table_t table;
    s_table_init (&table, 2);
    for (size_t k = 0; k < trial->n_params; k++) {
        s_table_add (&table, s_dup (trial->params[k]->name));
        s_table_add (&table, s_param_text (trial->params[k]));
    }
    s_table_print (&table, out, "  ");
    s_table_clear (&table);
}

//  Orders values by attempt, then step, then metric.
static int
s_value_cmp (const void *a_, const void *b_)
{
    const Hpo__IntermediateValue *a = *(Hpo__IntermediateValue *const *)a_;
    const Hpo__IntermediateValue *b = *(Hpo__IntermediateValue *const *)b_;
    if (a->attempt != b->attempt)
        return a->attempt < b->attempt ? -1 : 1;
    if (a->step != b->step)
        return a->step < b->step ? -1 : 1;
    return strcmp (a->metric ? a->metric : "", b->metric ? b->metric : "");
}

static int
s_str_cmp (const void *a, const void *b)
{
    return strcmp (*(const char *const *)a, *(const char *const *)b);
}

//  The metrics the values name, sorted, each once.
static size_t
s_metric_names (Hpo__IntermediateValue **values, size_t n, const char ***out)
{
    const char **names = hpo_calloc (n ? n : 1, sizeof (char *));
    for (size_t k = 0; k < n; k++)
        names[k] = values[k]->metric ? values[k]->metric : "";
    qsort (names, n, sizeof (char *), s_str_cmp);
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        if (m == 0 || strcmp (names[m - 1], names[k]) != 0)
            names[m++] = names[k];
    *out = names;
    return m;
}

//  Intermediate values as a table: one row per (attempt, step), a column
//  per metric, "-" where a step did not report that metric.
static void
s_render_values (FILE *out, const Hpo__TrialInfo *trial)
{
    size_t n = trial->n_values;
    Hpo__IntermediateValue **values = hpo_calloc (n, sizeof (void *));
    memcpy (values, trial->values, n * sizeof (void *));
    qsort (values, n, sizeof (void *), s_value_cmp);
    const char **names;
    size_t n_names = s_metric_names (values, n, &names);
    s_table_t table;
    s_table_init (&table, 2 + n_names);
    s_table_add (&table, hpo_strdup ("ATTEMPT"));
    s_table_add (&table, hpo_strdup ("STEP"));
    for (size_t c = 0; c < n_names; c++)
        s_table_add (&table, s_cell (names[c], S_MAX_NAME));
    for (size_t k = 0; k < n;) {
        const Hpo__IntermediateValue *row = values[k];
        s_table_addf (&table, "%u", row->attempt);
        s_table_addf (&table, "%" PRId64, row->step);
        for (size_t c = 0; c < n_names; c++) {
            const char *metric =
                k < n && values[k]->metric ? values[k]->metric : "";
            if (k < n && values[k]->attempt == row->attempt &&
                values[k]->step == row->step && strcmp (metric, names[c]) == 0)
                s_table_add (&table, hpo_render_number (values[k++]->value));
            else
                s_table_add (&table, hpo_strdup ("-"));
        }
        //  A metric reported twice at one step (a reply not to be
        //  trusted) would stall the walk: skip the repeats.
        while (k < n && values[k]->attempt == row->attempt &&
               values[k]->step == row->step)
            k++;
    }
    s_table_print (&table, out, "  ");
    s_table_clear (&table);
    free (names);
    free (values);
}

void
hpo_render_trial (FILE *out, const Hpo__TrialInfo *trial, const char *study)
{
    s_table_t table;
    s_table_init (&table, 2);
    s_table_add (&table, hpo_strdup ("trial"));
    s_table_addf (&table, "%" PRIu64, trial->number);
    s_table_add (&table, hpo_strdup ("study"));
    s_table_add (&table, hpo_strdup (s_has (trial->study) ? trial->study
                                     : study              ? study
                                                          : "-"));
    s_table_add (&table, hpo_strdup ("state"));
    s_table_add (&table, s_dup (trial->state));
    s_table_add (&table, hpo_strdup ("value"));
    s_table_add (&table, trial->has_value ? hpo_render_number (trial->value)
                                          : hpo_strdup ("-"));
    s_table_add (&table, hpo_strdup ("attempt"));
    s_table_addf (&table, "%u", trial->attempt);
    s_table_add (&table, hpo_strdup ("worker"));
    s_table_add (&table,
                 hpo_strdup (s_has (trial->worker) ? trial->worker : "-"));
    s_table_add (&table, hpo_strdup ("started"));
    s_table_add (&table, s_clock_text (trial->started));
    s_table_add (&table, hpo_strdup ("ended"));
    s_table_add (&table, s_clock_text (trial->ended));
    if (s_has (trial->reason)) {
        s_table_add (&table, hpo_strdup ("reason"));
        s_table_add (&table, hpo_strdup (trial->reason));
    }
    if (trial->has_step) {
        char *value = trial->has_last ? hpo_render_number (trial->last_value)
                                      : hpo_strdup ("-");
        s_table_add (&table, hpo_strdup ("last step"));
        s_table_addf (&table, "%" PRId64 ": %s", trial->last_step, value);
        free (value);
    }
    s_table_print (&table, out, "");
    s_table_clear (&table);

    if (trial->n_params) {
        fprintf (out, "\nparams\n");
        s_render_params (out, trial);
    }
    if (trial->n_attempts) {
        fprintf (out, "\nattempts\n");
        s_table_init (&table, 6);
        const char *head[] = {"ATTEMPT", "WORKER",  "STARTED",
                              "ENDED",   "OUTCOME", "REASON"};
        for (size_t c = 0; c < 6; c++)
            s_table_add (&table, hpo_strdup (head[c]));
        for (size_t k = 0; k < trial->n_attempts; k++) {
            const Hpo__AttemptInfo *a = trial->attempts[k];
            s_table_addf (&table, "%u", a->attempt);
            s_table_add (&table,
                         hpo_strdup (s_has (a->worker) ? a->worker : "-"));
            s_table_add (&table, s_clock_text (a->started));
            s_table_add (&table, s_clock_text (a->ended));
            s_table_add (&table,
                         hpo_strdup (s_has (a->outcome) ? a->outcome : "-"));
            s_table_add (&table, s_has (a->reason)
                                     ? s_cell (a->reason, S_MAX_REASON)
                                     : hpo_strdup ("-"));
        }
        s_table_print (&table, out, "  ");
        s_table_clear (&table);
    }
    if (trial->n_values) {
        fprintf (out, "\nintermediate values\n");
        s_render_values (out, trial);
    }
    if (s_has (trial->log_tail)) {
        fprintf (out, "\nlog tail\n");
        const char *line = trial->log_tail;
        while (*line) {
            size_t len = strcspn (line, "\n");
            fprintf (out, "  | %.*s\n", (int)len, line);
            line += len;
            if (*line == '\n')
                line++;
        }
    }
}

void
hpo_render_best (FILE *out, const Hpo__TrialInfo *trial, const char *study)
{
    const char *name = s_has (trial->study) ? trial->study : study;
    char *value =
        trial->has_value ? hpo_render_number (trial->value) : hpo_strdup ("-");
    if (s_has (name))
        fprintf (out, "best of %s: trial %" PRIu64 ", value %s\n", name,
                 trial->number, value);
    else
        fprintf (out, "best: trial %" PRIu64 ", value %s\n", trial->number,
                 value);
    free (value);
    s_render_params (out, trial);
}

void
hpo_render_workers (FILE *out, const Hpo__WorkerList *list)
{
    if (!list || list->n_workers == 0) {
        fprintf (out, "no workers\n");
        return;
    }
    s_table_t table;
    s_table_init (&table, 6);
    const char *head[] = {"NAME",    "HOST",           "SLOTS",
                          "RUNNING", "LAST-HEARTBEAT", "ALIVE"};
    for (size_t c = 0; c < 6; c++)
        s_table_add (&table, hpo_strdup (head[c]));
    for (size_t k = 0; k < list->n_workers; k++) {
        const Hpo__WorkerInfo *w = list->workers[k];
        s_table_add (&table, s_cell (w->name, S_MAX_NAME));
        s_table_add (&table, hpo_strdup (s_has (w->host) ? w->host : "-"));
        s_table_addf (&table, "%u", w->slots);
        s_table_addf (&table, "%u", w->running);
        if (list->now > 0 && w->last_seen > 0) {
            double age = list->now - w->last_seen;
            s_table_addf (&table, "%.1fs ago", age > 0 ? age : 0.0);
        } else
            s_table_add (&table, hpo_strdup ("-"));
        s_table_add (&table, hpo_strdup (w->alive ? "yes" : "no"));
    }
    s_table_print (&table, out, "");
    s_table_clear (&table);
}

//  ---- hpo watch ----------------------------------------------------------

static char *
s_best_text (const Hpo__StudyInfo *study)
{
    const Hpo__TrialInfo *best = s_best (study);
    if (!best || !best->has_value)
        return hpo_strdup ("no best yet");
    char *value = hpo_render_number (best->value);
    char *text =
        hpo_sprintf ("best %s (trial %" PRIu64 ")", value, best->number);
    free (value);
    return text;
}

char *
hpo_render_eta (const Hpo__StudyInfo *study)
{
    uint64_t done = s_done (study);
    uint64_t par = study->running ? study->running : study->parallel;
    if (!(study->mean_duration > 0) || par == 0 || done >= study->budget)
        return NULL;
    double left =
        (double)(study->budget - done) * study->mean_duration / (double)par;
    if (!(left < 1e12))
        return NULL;
    long long s = (long long)(left + 0.5);
    if (s < 60)
        return hpo_sprintf ("ETA %llds", s);
    if (s < 3600)
        return hpo_sprintf ("ETA %lldm %llds", s / 60, s % 60);
    if (s < 86400)
        return hpo_sprintf ("ETA %lldh %lldm", s / 3600, s % 3600 / 60);
    return hpo_sprintf ("ETA %lldd %lldh", s / 86400, s % 86400 / 3600);
}

//  "last failure: trial 3: exit status 2", or NULL when none is known.
static char *
s_failure_text (const Hpo__StudyInfo *study)
{
    const Hpo__TrialInfo *t = study->has_last_failed && study->last_failed
                                  ? study->last_failed
                                  : NULL;
    if (!t)
        return NULL;
    char *reason = s_cell (s_has (t->reason) ? t->reason : "-", S_MAX_REASON);
    char *text =
        hpo_sprintf ("last failure: trial %" PRIu64 ": %s", t->number, reason);
    free (reason);
    return text;
}

char *
hpo_render_watch_line (const Hpo__StudyInfo *study)
{
    char *best = s_best_text (study);
    char *eta = hpo_render_eta (study);
    char *failure = s_failure_text (study);
    //  The state is news only once it is no longer RUNNING.
    int other = s_has (study->state) && strcmp (study->state, "RUNNING");
    char *line = hpo_sprintf (
        "%s %" PRIu64 "/%" PRIu64 " done, %" PRIu64 " running, %s%s%s%s%s%s%s",
        study->name, s_done (study), study->budget, study->running, best,
        eta ? ", " : "", eta ? eta : "", failure ? ", " : "",
        failure ? failure : "", other ? ", " : "", other ? study->state : "");
    free (failure);
    free (eta);
    free (best);
    return line;
}

//  Writes one line of at most width - 1 columns; a longer one is cut
//  with "…" (never inside a UTF-8 character).
static void
s_put_cut (FILE *out, const char *line, size_t len, int width)
{
    char *copy = hpo_sprintf ("%.*s", (int)len, line);
    char *cut = width > 1 ? hpo_render_cut (copy, (size_t)width - 1) : copy;
    fprintf (out, "%s\n", cut);
    if (cut != copy)
        free (cut);
    free (copy);
}

int
hpo_render_watch_frame (FILE *out, const Hpo__StudyInfo *study,
                        const Hpo__TrialList *running, int width, int max_rows)
{
    char *text = NULL;
    size_t size = 0;
    FILE *buf = open_memstream (&text, &size);
    if (!buf)
        abort (); //  out of memory

    //  [##########..........]  12/50 done
    enum { BAR = 30 };
    uint64_t done = s_done (study);
    size_t fill =
        study->budget
            ? (size_t)(BAR * (done > study->budget ? study->budget : done) /
                       study->budget)
            : 0;
    char bar[BAR + 1];
    memset (bar, '#', fill);
    memset (bar + fill, '.', BAR - fill);
    bar[BAR] = '\0';
    char *elapsed = hpo_render_duration (hpo_json_render_elapsed (study));
    char *eta = hpo_render_eta (study);
    fprintf (buf,
             "%s  %s  [%s]  %" PRIu64 "/%" PRIu64 " done  elapsed %s%s%s\n",
             study->name, study->state, bar, done, study->budget, elapsed,
             eta ? "  " : "", eta ? eta : "");
    free (eta);
    free (elapsed);
    char pruned_at[96] = "";
    if (study->has_pruned_steps)
        snprintf (pruned_at, sizeof pruned_at,
                  " (at steps %" PRId64 "-%" PRId64 ", median %" PRId64 ")",
                  study->pruned_step_min, study->pruned_step_max,
                  study->pruned_step_median);
    fprintf (buf,
             "complete %" PRIu64 "  pruned %" PRIu64 "%s  failed %" PRIu64
             "  running %" PRIu64 "  waiting %" PRIu64 "\n",
             study->complete, study->pruned, pruned_at, study->failed,
             study->running, study->waiting);
    char *best = s_best_text (study);
    const Hpo__TrialInfo *b = s_best (study);
    char *params = b && b->has_value ? s_params_line (b) : hpo_strdup ("");
    fprintf (buf, "%s%s%s\n", best, *params ? "  " : "", params);
    free (params);
    free (best);
    char *failure = s_failure_text (study);
    if (failure)
        fprintf (buf, "%s\n", failure);
    free (failure);

    size_t n = running ? running->n_trials : 0;
    if (n) {
        size_t shown =
            max_rows >= 0 && n > (size_t)max_rows ? (size_t)max_rows : n;
        s_table_t table;
        s_table_init (&table, 5);
        s_table_add (&table, hpo_strdup ("TRIAL"));
        s_table_add (&table, hpo_strdup ("WORKER"));
        s_table_add (&table, hpo_strdup ("STEP"));
        s_table_add (
            &table,
            hpo_strdup (s_has (study->objective) ? study->objective : "LAST"));
        s_table_add (&table, hpo_strdup ("PARAMS"));
        for (size_t k = 0; k < shown; k++) {
            const Hpo__TrialInfo *t = running->trials[k];
            s_table_addf (&table, "%" PRIu64, t->number);
            s_table_add (&table, s_has (t->worker)
                                     ? s_cell (t->worker, S_MAX_NAME)
                                     : hpo_strdup ("-"));
            if (t->has_step)
                s_table_addf (&table, "%" PRId64, t->last_step);
            else
                s_table_add (&table, hpo_strdup ("-"));
            s_table_add (&table, t->has_last ? hpo_render_number (t->last_value)
                                             : hpo_strdup ("-"));
            char *all = s_params_line (t);
            s_table_add (&table, s_cell (all, S_MAX_PARAMS));
            free (all);
        }
        s_table_print (&table, buf, "  ");
        s_table_clear (&table);
        if (shown < n)
            fprintf (buf, "  ... and %zu more running\n", n - shown);
    }
    fclose (buf);

    int lines = 0;
    const char *line = text;
    while (*line) {
        size_t len = strcspn (line, "\n");
        s_put_cut (out, line, len, width);
        lines++;
        line += len;
        if (*line == '\n')
            line++;
    }
    free (text);
    return lines;
}

//  ---- hpo export ---------------------------------------------------------

void
hpo_render_csv_field (FILE *out, const char *s)
{
    s = s ? s : "";
    if (!s[strcspn (s, ",\"\r\n")]) {
        fputs (s, out);
        return;
    }
    fputc ('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc ('"', out);
        fputc (*s, out);
    }
    fputc ('"', out);
}

//  "2026-11-28T10:11:03.250Z", or null for "not yet".
static json_t *
s_iso_time (double t)
{
    if (!(t > 0) || !(t < 1e11))
        return json_null ();
    time_t secs = (time_t)t;
    struct tm tm;
    if (!gmtime_r (&secs, &tm))
        return json_null ();
    char text[32];
    strftime (text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    int ms = (int)((t - (double)secs) * 1000);
    char *iso = hpo_sprintf ("%s.%03dZ", text, ms > 999 ? 999 : ms);
    json_t *j = json_string (iso);
    free (iso);
    return j;
}

//  The columns of an export (see render.h): the fixed ones around the
//  parameters and the metrics.
typedef struct {
    const char **params; //  parameter names, in order of appearance
    size_t n_params;
    const char **metrics; //  metric names, sorted
    size_t n_metrics;
    char **keys; //  every column's name, in order
    size_t n_keys;
} s_columns_t;

static const char *s_fixed_head[] = {"number", "state"};
static const char *s_fixed_tail[] = {"attempts", "worker",   "started",
                                     "ended",    "duration", "reason"};

static int
s_is_fixed (const char *name)
{
    if (strcmp (name, "value") == 0)
        return 1;
    for (size_t k = 0; k < 2; k++)
        if (strcmp (name, s_fixed_head[k]) == 0)
            return 1;
    for (size_t k = 0; k < 6; k++)
        if (strcmp (name, s_fixed_tail[k]) == 0)
            return 1;
    return 0;
}

static void
s_columns_init (s_columns_t *self, const Hpo__TrialList *list)
{
    memset (self, 0, sizeof *self);
    self->n_params = s_param_names (list, &self->params);
    size_t n = 0;
    for (size_t k = 0; k < list->n_trials; k++)
        n += list->trials[k]->n_last_metrics;
    const char **names = hpo_calloc (n ? n : 1, sizeof (char *));
    n = 0;
    for (size_t k = 0; k < list->n_trials; k++)
        for (size_t m = 0; m < list->trials[k]->n_last_metrics; m++) {
            const char *name = list->trials[k]->last_metrics[m]->name;
            names[n++] = name ? name : "";
        }
    qsort (names, n, sizeof (char *), s_str_cmp);
    for (size_t k = 0; k < n; k++)
        if (self->n_metrics == 0 ||
            strcmp (names[self->n_metrics - 1], names[k]) != 0)
            names[self->n_metrics++] = names[k];
    self->metrics = names;
    self->keys =
        hpo_calloc (self->n_params + self->n_metrics + 9, sizeof (char *));
    for (size_t k = 0; k < 2; k++)
        self->keys[self->n_keys++] = hpo_strdup (s_fixed_head[k]);
    //  A parameter named like a fixed column is told apart by a prefix;
    //  metrics always have one, so adding a metric never renames one.
    for (size_t k = 0; k < self->n_params; k++)
        self->keys[self->n_keys++] =
            s_is_fixed (self->params[k])
                ? hpo_sprintf ("param:%s", self->params[k])
                : hpo_strdup (self->params[k]);
    self->keys[self->n_keys++] = hpo_strdup ("value");
    for (size_t k = 0; k < self->n_metrics; k++)
        self->keys[self->n_keys++] =
            hpo_sprintf ("metric:%s", self->metrics[k]);
    for (size_t k = 0; k < 6; k++)
        self->keys[self->n_keys++] = hpo_strdup (s_fixed_tail[k]);
}

static void
s_columns_clear (s_columns_t *self)
{
    for (size_t k = 0; k < self->n_keys; k++)
        free (self->keys[k]);
    free (self->keys);
    free (self->params);
    free (self->metrics);
}

//  One trial as an object with every column, in column order.
static json_t *
s_export_row (const s_columns_t *cols, const Hpo__TrialInfo *t)
{
    json_t *row = json_object ();
    size_t key = 0;
    json_object_set_new (row, cols->keys[key++],
                         json_integer ((json_int_t)t->number));
    json_object_set_new (row, cols->keys[key++],
                         hpo_json_render_string (t->state));
    for (size_t c = 0; c < cols->n_params; c++) {
        json_t *value = json_null ();
        for (size_t p = 0; p < t->n_params; p++)
            if (t->params[p]->name &&
                strcmp (t->params[p]->name, cols->params[c]) == 0) {
                json_decref (value);
                value = hpo_json_render_param (t->params[p]);
                break;
            }
        json_object_set_new (row, cols->keys[key++], value);
    }
    json_object_set_new (row, cols->keys[key++],
                         t->has_value ? hpo_json_render_real (t->value)
                                      : json_null ());
    for (size_t c = 0; c < cols->n_metrics; c++) {
        json_t *value = json_null ();
        for (size_t m = 0; m < t->n_last_metrics; m++)
            if (t->last_metrics[m]->name &&
                strcmp (t->last_metrics[m]->name, cols->metrics[c]) == 0) {
                json_decref (value);
                value = hpo_json_render_real (t->last_metrics[m]->value);
                break;
            }
        json_object_set_new (row, cols->keys[key++], value);
    }
    json_object_set_new (row, cols->keys[key++], json_integer (t->attempt));
    json_object_set_new (row, cols->keys[key++],
                         hpo_json_render_string (t->worker));
    json_object_set_new (row, cols->keys[key++], s_iso_time (t->started));
    json_object_set_new (row, cols->keys[key++], s_iso_time (t->ended));
    double d = hpo_render_trial_duration (t);
    json_object_set_new (row, cols->keys[key++],
                         d >= 0 ? json_real (d) : json_null ());
    json_object_set_new (row, cols->keys[key++],
                         hpo_json_render_string (t->reason));
    assert (key == cols->n_keys);
    return row;
}

//  Writes the header of a CSV export: the keys, in order.
static void
s_csv_head (FILE *out, char *const *keys, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (k)
            fputc (',', out);
        hpo_render_csv_field (out, keys[k]);
    }
    fputc ('\n', out);
}

//  Writes row as one CSV line (the keys' values in order; null is an
//  empty field, reals with 17 digits so they read back exact) or as one
//  JSON line. Takes the row.
static void
s_put_row (FILE *out, json_t *row, int jsonl)
{
    if (jsonl) {
        json_dumpf (row, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fputc ('\n', out);
        json_decref (row);
        return;
    }
    const char *key;
    json_t *value;
    int first = 1;
    json_object_foreach (row, key, value)
    {
        if (!first)
            fputc (',', out);
        first = 0;
        if (json_is_string (value))
            hpo_render_csv_field (out, json_string_value (value));
        else if (json_is_integer (value))
            fprintf (out, "%" JSON_INTEGER_FORMAT, json_integer_value (value));
        else if (json_is_real (value))
            fprintf (out, "%.17g", json_real_value (value));
    }
    fputc ('\n', out);
    json_decref (row);
}

int
hpo_render_export (FILE *out, const Hpo__TrialList *list, int jsonl)
{
    s_columns_t cols;
    s_columns_init (&cols, list);
    if (!jsonl)
        s_csv_head (out, cols.keys, cols.n_keys);
    for (size_t k = 0; k < list->n_trials; k++)
        s_put_row (out, s_export_row (&cols, list->trials[k]), jsonl);
    s_columns_clear (&cols);
    return fflush (out) != 0 || ferror (out) ? -1 : 0;
}

int
hpo_render_export_curves (FILE *out, const Hpo__TrialList *list, int jsonl)
{
    static char *keys[] = {"trial", "attempt", "step", "metric", "value"};
    if (!jsonl)
        s_csv_head (out, keys, 5);
    for (size_t k = 0; k < list->n_trials; k++) {
        const Hpo__TrialInfo *t = list->trials[k];
        size_t n = t->n_values;
        Hpo__IntermediateValue **values =
            hpo_calloc (n ? n : 1, sizeof (void *));
        memcpy (values, t->values, n * sizeof (void *));
        qsort (values, n, sizeof (void *), s_value_cmp);
        for (size_t v = 0; v < n; v++) {
            json_t *row = json_object ();
            json_object_set_new (row, keys[0],
                                 json_integer ((json_int_t)t->number));
            json_object_set_new (row, keys[1],
                                 json_integer (values[v]->attempt));
            json_object_set_new (row, keys[2],
                                 json_integer ((json_int_t)values[v]->step));
            json_object_set_new (row, keys[3],
                                 hpo_json_render_string (values[v]->metric));
            json_object_set_new (row, keys[4],
                                 hpo_json_render_real (values[v]->value));
            s_put_row (out, row, jsonl);
        }
        free (values);
    }
    return fflush (out) != 0 || ferror (out) ? -1 : 0;
}
