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

//  Shortest text that reads back as v ("0.001", not "0.0010000000000000000").
static char *
s_shortest (double v)
{
    if (!isfinite (v))
        return hpo_strdup (isnan (v) ? "nan" : v < 0 ? "-inf" : "inf");
    for (int prec = 1; prec < 17; prec++) {
        char *text = hpo_sprintf ("%.*g", prec, v);
        if (strtod (text, NULL) == v)
            return text;
        free (text);
    }
    return hpo_sprintf ("%.17g", v);
}

//  A value in a dense table: six significant digits are plenty to read.
static char *
s_short (double v)
{
    return hpo_sprintf ("%.6g", v);
}

static char *
s_param_text (const Hpo__Param *param)
{
    switch (param->kind) {
    case HPO_KIND_FLOAT:
        return s_shortest (param->f);
    case HPO_KIND_INT:
        return hpo_sprintf ("%" PRId64, param->i);
    case HPO_KIND_STR:
        return hpo_strdup (param->s ? param->s : "");
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
    char *cell = NULL;
    if (vasprintf (&cell, fmt, ap) < 0)
        abort (); //  out of memory
    va_end (ap);
    s_table_add (table, cell);
}

static void
s_table_print (s_table_t *table, FILE *out, const char *indent)
{
    assert (table->n % table->cols == 0);
    size_t *width = hpo_calloc (table->cols, sizeof (size_t));
    for (size_t k = 0; k < table->n; k++) {
        size_t len = strlen (table->cells[k]);
        if (len > width[k % table->cols])
            width[k % table->cols] = len;
    }
    for (size_t k = 0; k < table->n; k++) {
        size_t col = k % table->cols;
        if (col == 0)
            fputs (indent, out);
        if (col + 1 < table->cols)
            fprintf (out, "%-*s  ", (int)width[col], table->cells[k]);
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
    s_table_t table;
    s_table_init (&table, 6);
    const char *head[] = {"NAME",    "STATE", "DONE/BUDGET",
                          "RUNNING", "BEST",  "ELAPSED"};
    for (size_t c = 0; c < 6; c++)
        s_table_add (&table, hpo_strdup (head[c]));
    for (size_t k = 0; k < list->n_studies; k++) {
        const Hpo__StudyInfo *s = list->studies[k];
        const Hpo__TrialInfo *best = s_best (s);
        s_table_add (&table, s_dup (s->name));
        s_table_add (&table, s_dup (s->state));
        s_table_addf (&table, "%" PRIu64 "/%" PRIu64, s_done (s), s->budget);
        s_table_addf (&table, "%" PRIu64, s->running);
        s_table_add (&table, best && best->has_value ? s_short (best->value)
                                                     : hpo_strdup ("-"));
        s_table_add (&table, hpo_render_duration (hpo_json_render_elapsed (s)));
    }
    s_table_print (&table, out, "");
    s_table_clear (&table);
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
    const Hpo__TrialInfo *best = s_best (study);
    s_table_add (&table, hpo_strdup ("best"));
    if (best) {
        char *value =
            best->has_value ? s_shortest (best->value) : hpo_strdup ("-");
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

void
hpo_render_trials (FILE *out, const Hpo__TrialList *list)
{
    if (!list || list->n_trials == 0) {
        fprintf (out, "no trials\n");
        return;
    }
    const char **names;
    size_t n_names = s_param_names (list, &names);
    s_table_t table;
    s_table_init (&table, 5 + n_names);
    const char *head[] = {"NUMBER", "STATE", "VALUE", "ATTEMPT", "WORKER"};
    for (size_t c = 0; c < 5; c++)
        s_table_add (&table, hpo_strdup (head[c]));
    for (size_t c = 0; c < n_names; c++)
        s_table_add (&table, hpo_strdup (names[c]));
    for (size_t k = 0; k < list->n_trials; k++) {
        const Hpo__TrialInfo *t = list->trials[k];
        s_table_addf (&table, "%" PRIu64, t->number);
        s_table_add (&table, s_dup (t->state));
        s_table_add (&table,
                     t->has_value ? s_short (t->value) : hpo_strdup ("-"));
        s_table_addf (&table, "%u", t->attempt);
        s_table_add (&table, hpo_strdup (s_has (t->worker) ? t->worker : "-"));
        for (size_t c = 0; c < n_names; c++) {
            const Hpo__Param *param = NULL;
            for (size_t p = 0; p < t->n_params && !param; p++)
                if (t->params[p]->name &&
                    strcmp (t->params[p]->name, names[c]) == 0)
                    param = t->params[p];
            s_table_add (&table,
                         param ? s_param_text (param) : hpo_strdup ("-"));
        }
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
    s_table_add (&table, trial->has_value ? s_shortest (trial->value)
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
        char *value =
            trial->has_last ? s_shortest (trial->last_value) : hpo_strdup ("-");
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
            s_table_add (&table, hpo_strdup (a->reason ? a->reason : ""));
        }
        s_table_print (&table, out, "  ");
        s_table_clear (&table);
    }
    if (trial->n_values) {
        fprintf (out, "\nintermediate values\n");
        s_table_init (&table, 3);
        s_table_add (&table, hpo_strdup ("STEP"));
        s_table_add (&table, hpo_strdup ("METRIC"));
        s_table_add (&table, hpo_strdup ("VALUE"));
        for (size_t k = 0; k < trial->n_values; k++) {
            const Hpo__IntermediateValue *v = trial->values[k];
            s_table_addf (&table, "%" PRId64, v->step);
            s_table_add (&table, s_dup (v->metric));
            s_table_add (&table, s_shortest (v->value));
        }
        s_table_print (&table, out, "  ");
        s_table_clear (&table);
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
        trial->has_value ? s_shortest (trial->value) : hpo_strdup ("-");
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
        s_table_add (&table, s_dup (w->name));
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
    char *value = s_short (best->value);
    char *text =
        hpo_sprintf ("best %s (trial %" PRIu64 ")", value, best->number);
    free (value);
    return text;
}

char *
hpo_render_watch_line (const Hpo__StudyInfo *study)
{
    char *best = s_best_text (study);
    //  The state is news only once it is no longer RUNNING.
    int other = s_has (study->state) && strcmp (study->state, "RUNNING");
    char *line = hpo_sprintf (
        "%s %" PRIu64 "/%" PRIu64 " done, %" PRIu64 " running, %s%s%s",
        study->name, s_done (study), study->budget, study->running, best,
        other ? ", " : "", other ? study->state : "");
    free (best);
    return line;
}

//  Writes one line of at most width - 1 columns (bytes, cut on a UTF-8
//  character boundary).
static void
s_put_cut (FILE *out, const char *line, size_t len, int width)
{
    if (width > 1 && len > (size_t)width - 1) {
        len = (size_t)width - 1;
        while (len > 0 && ((unsigned char)line[len] & 0xC0) == 0x80)
            len--;
    }
    fprintf (out, "%.*s\n", (int)len, line);
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
    fprintf (buf, "%s  %s  [%s]  %" PRIu64 "/%" PRIu64 " done  elapsed %s\n",
             study->name, study->state, bar, done, study->budget, elapsed);
    free (elapsed);
    fprintf (buf,
             "complete %" PRIu64 "  pruned %" PRIu64 "  failed %" PRIu64
             "  running %" PRIu64 "  waiting %" PRIu64 "\n",
             study->complete, study->pruned, study->failed, study->running,
             study->waiting);
    char *best = s_best_text (study);
    const Hpo__TrialInfo *b = s_best (study);
    char *params = b && b->has_value ? s_params_line (b) : hpo_strdup ("");
    fprintf (buf, "%s%s%s\n", best, *params ? "  " : "", params);
    free (params);
    free (best);

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
            s_table_add (&table,
                         hpo_strdup (s_has (t->worker) ? t->worker : "-"));
            if (t->has_step)
                s_table_addf (&table, "%" PRId64, t->last_step);
            else
                s_table_add (&table, hpo_strdup ("-"));
            s_table_add (&table, t->has_last ? s_short (t->last_value)
                                             : hpo_strdup ("-"));
            s_table_add (&table, s_params_line (t));
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
