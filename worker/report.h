/*  report.h: what a training program writes to HPO_REPORT_FD, one report a
    line, in either of two forms:

        step=3 val_loss=0.41 acc=0.88
        {"step": 3, "val_loss": 0.41, "acc": 0.88}

    A line whose first non-blank byte is '{' is JSON (one object); any
    other line is space- or tab-separated key=value words. The key "step",
    if present, is the report's step: an integer >= 0 (JSON may also write
    it as 3.0). Every other key is a metric whose value must be a finite
    number: "loss=nan" is a bad line, so a diverged run that only ever
    reports NaN ends up without an objective value instead of with a
    meaningless one. Metric names are 1-128 bytes of [A-Za-z0-9_.:/-], so
    "val/loss" and "train.acc" work. A key may appear once a line. A line
    with no metrics is bad, except a blank line, which is ignored.

    hpo_report_buf_t turns the byte stream of a pipe into lines: reads end
    anywhere, so a line may arrive in pieces, and a line longer than
    HPO_REPORT_MAX_LINE is rejected as a whole (its remainder is skipped up
    to the next newline) rather than growing a buffer without bound.

    A study with `metrics: {source: stdout}` has its program's stdout
    lines matched instead (hpo_report_match), into the same reports.     */
#ifndef HPO_REPORT_H
#define HPO_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "common/linepat.h"

#define HPO_REPORT_MAX_LINE (64 * 1024)

typedef struct {
    char *name;
    double value;
} hpo_metric_t;

//  One parsed line. Plain data: the caller owns it and releases what it
//  holds with hpo_report_clear.
typedef struct {
    int has_step;
    int64_t step;
    hpo_metric_t *metrics;
    size_t n_metrics;
} hpo_report_t;

//  Parses one line of len bytes (no newline needed; a trailing "\r" or
//  "\n" is ignored; the line need not be NUL-terminated). Returns 0 and
//  fills *report (n_metrics 0 for a blank line), or -1 with *reason set to
//  a malloc'd message saying what is wrong ("metric 'loss' is not a
//  number"), which the caller frees; *report is then empty.
int hpo_report_parse (const char *line, size_t len, hpo_report_t *report,
                      char **reason);

//  Matches one line a program printed to stdout (len bytes, a trailing
//  "\r" or "\n" ignored) with pattern (common/linepat.h). A field named
//  step or epoch is the step (an integer >= 0; "step" wins over
//  "epoch"); every other is a metric whose text must be a finite number,
//  as in a report line. With the default pattern a word whose value is
//  no number is only text ("opt=adam", "epoch=1/10"), not an error.
//  Returns 0 and fills *report (n_metrics 0: nothing to report in the
//  line), or -1 with *reason set (malloc'd; caller frees) and *report
//  empty.
int hpo_report_match (hpo_linepat_t *pattern, const char *line, size_t len,
                      hpo_report_t *report, char **reason);

//  Frees what report holds and empties it; safe on an empty report.
void hpo_report_clear (hpo_report_t *report);

//  Returns the value of metric name in report, or NULL.
const double *hpo_report_metric (const hpo_report_t *report, const char *name);

//  ---- line buffer -------------------------------------------------------

typedef struct _hpo_report_buf_t hpo_report_buf_t;

//  A new, empty line buffer. Never NULL (allocation failure aborts).
hpo_report_buf_t *hpo_report_buf_new (void);
void hpo_report_buf_destroy (hpo_report_buf_t **self_p);

//  Appends size bytes read from the pipe.
void hpo_report_buf_feed (hpo_report_buf_t *self, const void *data,
                          size_t size);

//  Marks the end of the stream: a last line without a newline becomes a
//  complete line.
void hpo_report_buf_eof (hpo_report_buf_t *self);

//  Takes the next complete line. Returns 1 and points *line at its *len
//  bytes (without the newline, valid until the next call on self), 0 when
//  no complete line is buffered, or -1 when a line longer than
//  HPO_REPORT_MAX_LINE was skipped (once per such line).
int hpo_report_buf_next (hpo_report_buf_t *self, const char **line,
                         size_t *len);

#endif
