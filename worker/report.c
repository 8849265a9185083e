#include "report.h"

#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/names.h"

//  More metrics than this in one line is surely a bug in the program that
//  wrote it; the cap also keeps the duplicate check below cheap.
#define S_MAX_METRICS 1024

//  ---- one line ------------------------------------------------------------

void
hpo_report_clear (hpo_report_t *report)
{
    for (size_t k = 0; k < report->n_metrics; k++)
        free (report->metrics[k].name);
    free (report->metrics);
    memset (report, 0, sizeof *report);
}

const double *
hpo_report_metric (const hpo_report_t *report, const char *name)
{
    for (size_t k = 0; k < report->n_metrics; k++)
        if (strcmp (report->metrics[k].name, name) == 0)
            return &report->metrics[k].value;
    return NULL;
}

//  Sets *reason; the quoted text is cut short so a huge token cannot make
//  a huge log line.
static int
s_fail (char **reason, const char *before, const char *text, size_t len,
        const char *after)
{
    int n = len > 40 ? 40 : (int)len;
    *reason = hpo_sprintf ("%s'%.*s%s'%s", before, n, text,
                           len > 40 ? "..." : "", after);
    return -1;
}

//  Adds one metric, refusing duplicates and too many.
static int
s_add_metric (hpo_report_t *report, const char *name, size_t name_len,
              double value, char **reason)
{
    if (hpo_name_metric_problem (name, name_len))
        return s_fail (reason, "bad metric name ", name, name_len, "");
    if (!isfinite (value))
        return s_fail (reason, "metric ", name, name_len, " is not finite");
    if (report->n_metrics == S_MAX_METRICS) {
        *reason = hpo_sprintf ("more than %d metrics", S_MAX_METRICS);
        return -1;
    }
    for (size_t k = 0; k < report->n_metrics; k++)
        if (strlen (report->metrics[k].name) == name_len &&
            memcmp (report->metrics[k].name, name, name_len) == 0)
            return s_fail (reason, "metric ", name, name_len, " given twice");
    report->metrics = hpo_realloc (report->metrics, (report->n_metrics + 1) *
                                                        sizeof (hpo_metric_t));
    report->metrics[report->n_metrics].name = hpo_strndup (name, name_len);
    report->metrics[report->n_metrics].value = value;
    report->n_metrics++;
    return 0;
}

//  "step=3 loss=0.5": text is NUL-terminated and has no newline.
static int
s_parse_words (char *text, hpo_report_t *report, char **reason)
{
    char *p = text;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        char *word = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        size_t word_len = (size_t)(p - word);
        if (*p)
            *p++ = '\0';
        char *eq = strchr (word, '=');
        if (!eq)
            return s_fail (reason, "", word, word_len, " is not key=value");
        size_t key_len = (size_t)(eq - word);
        char *value = eq + 1;
        if (key_len == 4 && memcmp (word, "step", 4) == 0) {
            if (report->has_step)
                return s_fail (reason, "", "step", 4, " given twice");
            char *end;
            errno = 0;
            long long step = strtoll (value, &end, 10);
            if (!*value || *end || errno || step < 0)
                return s_fail (reason, "step ", value, strlen (value),
                               " is not an integer >= 0");
            report->has_step = 1;
            report->step = step;
            continue;
        }
        char *end;
        errno = 0;
        double v = strtod (value, &end);
        //  ERANGE on underflow still gives a usable (tiny) value; overflow
        //  gives HUGE_VAL, which the finiteness check refuses.
        if (!*value || *end)
            return s_fail (reason, "metric ", word, key_len,
                           " is not a number");
        if (s_add_metric (report, word, key_len, v, reason))
            return -1;
    }
    return 0;
}

//  {"step": 3, "loss": 0.5}
static int
s_parse_json (const char *text, size_t len, hpo_report_t *report, char **reason)
{
    json_error_t error;
    json_t *obj = json_loadb (text, len, JSON_REJECT_DUPLICATES, &error);
    if (!obj) {
        *reason = hpo_sprintf ("bad JSON: %s", error.text);
        return -1;
    }
    if (!json_is_object (obj)) {
        json_decref (obj);
        *reason = hpo_strdup ("JSON line is not an object");
        return -1;
    }
    int rc = 0;
    const char *key;
    json_t *value;
    json_object_foreach (obj, key, value)
    {
        size_t key_len = strlen (key);
        if (strcmp (key, "step") == 0) {
            json_int_t step = 0;
            if (json_is_integer (value))
                step = json_integer_value (value);
            else if (json_is_real (value) &&
                     floor (json_real_value (value)) ==
                         json_real_value (value) &&
                     fabs (json_real_value (value)) < 9e18)
                step = (json_int_t)json_real_value (value);
            else
                step = -1;
            if (step < 0) {
                *reason = hpo_strdup ("step is not an integer >= 0");
                rc = -1;
                break;
            }
            report->has_step = 1;
            report->step = step;
            continue;
        }
        if (!json_is_number (value)) {
            rc = s_fail (reason, "metric ", key, key_len, " is not a number");
            break;
        }
        if (s_add_metric (report, key, key_len, json_number_value (value),
                          reason)) {
            rc = -1;
            break;
        }
    }
    json_decref (obj);
    return rc;
}

int
hpo_report_parse (const char *line, size_t len, hpo_report_t *report,
                  char **reason)
{
    memset (report, 0, sizeof *report);
    *reason = NULL;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len > HPO_REPORT_MAX_LINE) {
        *reason =
            hpo_sprintf ("line longer than %d bytes", HPO_REPORT_MAX_LINE);
        return -1;
    }
    if (memchr (line, '\0', len)) {
        *reason = hpo_strdup ("line holds a NUL byte");
        return -1;
    }
    size_t skip = 0;
    while (skip < len && (line[skip] == ' ' || line[skip] == '\t'))
        skip++;
    if (skip == len)
        return 0; //  blank: nothing to report, nothing wrong
    int rc;
    if (line[skip] == '{')
        rc = s_parse_json (line + skip, len - skip, report, reason);
    else {
        char *text = hpo_strndup (line + skip, len - skip);
        rc = s_parse_words (text, report, reason);
        free (text);
    }
    if (rc == 0 && report->n_metrics == 0) {
        *reason = hpo_strdup ("no metrics in line");
        rc = -1;
    }
    if (rc)
        hpo_report_clear (report);
    return rc;
}

//  ---- a stdout line, matched ---------------------------------------------

typedef struct {
    hpo_report_t *report;
    int words;     //  the default pattern: a word that is no number is
                   //  text ("opt=adam"), not a bad line
    int step_word; //  the step came from "step" (which "epoch" yields to)
    char **reason;
} s_match_t;

//  One field of a match, as s_parse_words takes a word.
static int
s_match_field (void *arg, const char *name, size_t name_len, const char *text,
               size_t text_len)
{
    s_match_t *m = arg;
    char *value = hpo_strndup (text, text_len);
    int rc = 0;
    char *end;
    errno = 0;
    if (name_len == 4 || name_len == 5) { //  step, epoch (linepat.h)
        int is_step = name_len == 4 && !memcmp (name, "step", 4);
        int is_epoch = name_len == 5 && !memcmp (name, "epoch", 5);
        if (is_step || is_epoch) {
            long long step = strtoll (value, &end, 10);
            if (!*value || *end || errno || step < 0)
                rc = m->words && !is_step
                         ? 0 //  "epoch=1/10" is progress text
                         : s_fail (m->reason, "step ", value, text_len,
                                   " is not an integer >= 0");
            else if (is_step || !m->step_word) {
                m->report->has_step = 1;
                m->report->step = step;
                m->step_word = is_step;
            }
            free (value);
            return rc;
        }
    }
    double v = strtod (value, &end);
    if (!*value || *end)
        rc = m->words ? 0
                      : s_fail (m->reason, "metric ", name, name_len,
                                " is not a number");
    else
        rc = s_add_metric (m->report, name, name_len, v, m->reason);
    free (value);
    return rc;
}

int
hpo_report_match (hpo_linepat_t *pattern, const char *line, size_t len,
                  hpo_report_t *report, char **reason)
{
    memset (report, 0, sizeof *report);
    *reason = NULL;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    s_match_t m = {report, hpo_linepat_is_default (pattern), 0, reason};
    if (hpo_linepat_match (pattern, line, len, s_match_field, &m, reason) < 0) {
        hpo_report_clear (report);
        return -1;
    }
    return 0;
}

//  ---- line buffer -----------------------------------------------------------

struct _hpo_report_buf_t {
    char *data;
    size_t cap;
    size_t start;   //  first byte not yet handed out
    size_t tail;    //  first byte of the incomplete last line
    size_t end;     //  end of the buffered bytes
    int skipping;   //  inside an overlong line: drop bytes to the newline
    uint64_t taken; //  lines handed out so far
    uint64_t ready; //  complete lines buffered so far (in total)
    //  Overlong lines, as the number of complete lines that came before
    //  each, so the error is handed out in its place among the lines.
    uint64_t *errors;
    size_t n_errors, cap_errors;
};

hpo_report_buf_t *
hpo_report_buf_new (void)
{
    hpo_report_buf_t *self = hpo_calloc (1, sizeof *self);
    return self;
}

void
hpo_report_buf_destroy (hpo_report_buf_t **self_p)
{
    hpo_report_buf_t *self = *self_p;
    if (!self)
        return;
    free (self->data);
    free (self->errors);
    free (self);
    *self_p = NULL;
}

static void
s_append (hpo_report_buf_t *self, const char *data, size_t size)
{
    if (self->start > 0) {
        //  Move what is still wanted to the front before growing.
        memmove (self->data, self->data + self->start, self->end - self->start);
        self->tail -= self->start;
        self->end -= self->start;
        self->start = 0;
    }
    if (self->end + size > self->cap) {
        size_t cap = self->cap ? self->cap : 4096;
        while (cap < self->end + size)
            cap *= 2;
        self->data = hpo_realloc (self->data, cap);
        self->cap = cap;
    }
    memcpy (self->data + self->end, data, size);
    self->end += size;
}

static void
s_overlong (hpo_report_buf_t *self)
{
    if (self->n_errors == self->cap_errors) {
        self->cap_errors = self->cap_errors ? self->cap_errors * 2 : 4;
        self->errors =
            hpo_realloc (self->errors, self->cap_errors * sizeof (uint64_t));
    }
    self->errors[self->n_errors++] = self->ready;
}

void
hpo_report_buf_feed (hpo_report_buf_t *self, const void *data, size_t size)
{
    const char *p = data;
    while (size > 0) {
        const char *nl = memchr (p, '\n', size);
        size_t n = nl ? (size_t)(nl - p) + 1 : size;
        if (self->skipping) {
            //  The rest of an overlong line, already counted: drop it.
            if (nl)
                self->skipping = 0;
        } else {
            s_append (self, p, n);
            if (nl) {
                self->tail = self->end;
                self->ready++;
            } else if (self->end - self->tail > HPO_REPORT_MAX_LINE + 1) {
                //  +1 leaves room for the "\r" of a "\r\n" ending on a
                //  line of exactly the maximum length.
                self->end = self->tail;
                self->skipping = 1;
                s_overlong (self);
            }
        }
        p += n;
        size -= n;
    }
}

void
hpo_report_buf_eof (hpo_report_buf_t *self)
{
    if (self->skipping)
        self->skipping = 0;
    else if (self->end > self->tail)
        hpo_report_buf_feed (self, "\n", 1);
}

int
hpo_report_buf_next (hpo_report_buf_t *self, const char **line, size_t *len)
{
    if (self->n_errors > 0 && self->errors[0] == self->taken) {
        memmove (self->errors, self->errors + 1,
                 (self->n_errors - 1) * sizeof (uint64_t));
        self->n_errors--;
        return -1;
    }
    if (self->start == self->tail)
        return 0;
    char *first = self->data + self->start;
    char *nl = memchr (first, '\n', self->tail - self->start);
    assert (nl); //  tail is only ever set just past a newline
    *line = first;
    *len = (size_t)(nl - first);
    self->start += *len + 1;
    self->taken++;
    //  A line that arrived whole in one read can still be too long.
    size_t body = *len;
    if (body > 0 && first[body - 1] == '\r')
        body--;
    if (body > HPO_REPORT_MAX_LINE)
        return -1;
    return 1;
}
