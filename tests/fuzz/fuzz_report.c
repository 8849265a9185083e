/*  fuzz_report.c: libFuzzer target for what a training program writes to
    HPO_REPORT_FD: the line buffer that cuts the pipe's bytes into lines,
    and the parser of each line. The first byte seeds the sizes of the
    reads the buffer is fed (a pipe's reads end anywhere), and its top
    four bits all set say to feed the stream over and over past
    HPO_REPORT_MAX_LINE, so short inputs reach the over-long-line path
    (one input in 16: it is slow); the rest is the stream. A
    bad line is fine; only a sanitizer report or an assert is a
    bug. Each line is also matched as a stdout line would be
    (hpo_report_match), with the default pattern and with one of named
    groups.                                                              */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "worker/report.h"

//  A report, or a refusal, as hpo_report_parse and _match promise them.
static void
s_check (int rc, hpo_report_t *report, char *reason)
{
    if (rc == 0) {
        if (reason)
            abort ();
        for (size_t k = 0; k < report->n_metrics; k++)
            if (hpo_report_metric (report, report->metrics[k].name) == NULL)
                abort (); //  every metric is found by its name
        hpo_report_clear (report);
    } else {
        if (!reason || report->n_metrics != 0)
            abort (); //  a refusal says why and leaves nothing behind
        free (reason);
    }
}

//  stdout lines: the default pattern, and one with named groups.
static void
s_match (const char *line, size_t len)
{
    static hpo_linepat_t *pats[2];
    if (!pats[0]) {
        char *error = NULL;
        pats[0] = hpo_linepat_new (NULL, &error);
        pats[1] = hpo_linepat_new (
            "(?:epoch|step)[ =:]*(?<epoch>\\d+).*?loss[ =:]*(?<loss>\\S+)"
            "(?:.*acc[ =:]*(?<acc>[-+.e\\d]+))?",
            &error);
        if (!pats[0] || !pats[1])
            abort ();
    }
    for (size_t k = 0; k < 2; k++) {
        hpo_report_t report;
        char *reason = NULL;
        int rc = hpo_report_match (pats[k], line, len, &report, &reason);
        s_check (rc, &report, reason);
    }
}

static void
s_parse (const char *line, size_t len)
{
    //  An exact-size copy, not NUL-terminated: the parser must not need one.
    char *copy = hpo_malloc (len ? len : 1);
    memcpy (copy, line, len);
    hpo_report_t report;
    char *reason = NULL;
    int rc = hpo_report_parse (copy, len, &report, &reason);
    s_check (rc, &report, reason);
    s_match (copy, len);
    free (copy);
}

static void
s_drain (hpo_report_buf_t *buf)
{
    const char *line;
    size_t len;
    int rc;
    while ((rc = hpo_report_buf_next (buf, &line, &len)) != 0)
        if (rc == 1) {
            if (len > HPO_REPORT_MAX_LINE)
                abort ();
            s_parse (line, len);
        }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned seed = data[0];
    data++, size--;
    //  The whole input as one line, then as a stream.
    s_parse ((const char *)data, size);
    hpo_report_buf_t *buf = hpo_report_buf_new ();
    size_t total = size;
    if ((seed & 0xf0) == 0xf0 && size > 0)
        total = (HPO_REPORT_MAX_LINE + 2 * size) / size * size;
    size_t fed = 0;
    while (fed < total) {
        size_t at = fed % size;
        seed = seed * 1103515245u + 12345u;
        size_t piece = 1 + (seed >> 16) % 97;
        if (piece > size - at)
            piece = size - at;
        hpo_report_buf_feed (buf, data + at, piece);
        fed += piece;
        s_drain (buf);
    }
    hpo_report_buf_eof (buf);
    s_drain (buf);
    hpo_report_buf_destroy (&buf);
    return 0;
}
