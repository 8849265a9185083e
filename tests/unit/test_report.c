/*  test_report: report lines (key=value and JSON), bad lines, and the line
    buffer that reassembles lines split across reads.                     */
#include "testutil.h"

#include "worker/report.h"

static int
s_parse (const char *line, hpo_report_t *r, char **reason)
{
    return hpo_report_parse (line, strlen (line), r, reason);
}

static void
s_bad (const char *line, const char *why)
{
    hpo_report_t r;
    char *reason = NULL;
    CHECK (s_parse (line, &r, &reason) == -1);
    CHECK_CONTAINS (reason, why);
    CHECK (r.n_metrics == 0 && r.metrics == NULL);
    free (reason);
}

static void
test_words (void)
{
    hpo_report_t r;
    char *reason = NULL;
    CHECK (s_parse ("step=3 val_loss=0.41 acc=0.88", &r, &reason) == 0);
    CHECK (reason == NULL);
    CHECK (r.has_step && r.step == 3);
    CHECK (r.n_metrics == 2);
    CHECK_STR (r.metrics[0].name, "val_loss");
    CHECK_NEAR (r.metrics[0].value, 0.41, 1e-12);
    CHECK_STR (r.metrics[1].name, "acc");
    CHECK (hpo_report_metric (&r, "acc") &&
           *hpo_report_metric (&r, "acc") == 0.88);
    CHECK (hpo_report_metric (&r, "step") == NULL);
    hpo_report_clear (&r);
    hpo_report_clear (&r); //  twice is fine

    //  No step: a summary line. Tabs, runs of blanks, CRLF, exponents,
    //  names with the punctuation ML tools use.
    CHECK (s_parse ("  loss=1e-3\t\tval/acc=-2  train.x:y-z=7\r\n", &r,
                    &reason) == 0);
    CHECK (!r.has_step);
    CHECK (r.n_metrics == 3);
    CHECK_NEAR (*hpo_report_metric (&r, "loss"), 1e-3, 1e-15);
    CHECK_NEAR (*hpo_report_metric (&r, "val/acc"), -2, 0);
    CHECK_NEAR (*hpo_report_metric (&r, "train.x:y-z"), 7, 0);
    hpo_report_clear (&r);

    //  Blank lines are not errors and report nothing.
    CHECK (s_parse ("", &r, &reason) == 0 && r.n_metrics == 0);
    CHECK (s_parse (" \t\r\n", &r, &reason) == 0 && r.n_metrics == 0);

    //  Not NUL-terminated: only len bytes count.
    const char *text = "loss=0.5 junk";
    CHECK (hpo_report_parse (text, 8, &r, &reason) == 0);
    CHECK (r.n_metrics == 1 && r.metrics[0].value == 0.5);
    hpo_report_clear (&r);
}

static void
test_json (void)
{
    hpo_report_t r;
    char *reason = NULL;
    CHECK (s_parse ("{\"step\": 3, \"val_loss\": 0.41, \"n\": 7}", &r,
                    &reason) == 0);
    CHECK (r.has_step && r.step == 3);
    CHECK (r.n_metrics == 2);
    CHECK_NEAR (*hpo_report_metric (&r, "val_loss"), 0.41, 1e-12);
    CHECK_NEAR (*hpo_report_metric (&r, "n"), 7, 0);
    hpo_report_clear (&r);

    CHECK (s_parse ("  {\"step\": 4.0, \"loss\": 1}\n", &r, &reason) == 0);
    CHECK (r.has_step && r.step == 4);
    hpo_report_clear (&r);

    CHECK (s_parse ("{\"acc\": 0.9}", &r, &reason) == 0);
    CHECK (!r.has_step && r.n_metrics == 1);
    hpo_report_clear (&r);
}

static void
test_bad (void)
{
    s_bad ("loss", "not key=value");
    s_bad ("loss=0.5 oops", "'oops' is not key=value");
    s_bad ("loss=abc", "metric 'loss' is not a number");
    s_bad ("loss=", "metric 'loss' is not a number");
    s_bad ("loss=0.5x", "not a number");
    s_bad ("loss=nan", "not finite");
    s_bad ("loss=inf", "not finite");
    s_bad ("loss=1e999", "not finite");
    s_bad ("step=-1 loss=1", "step");
    s_bad ("step=1.5 loss=1", "step");
    s_bad ("step=99999999999999999999 loss=1", "step");
    s_bad ("step=1 step=2 loss=1", "twice");
    s_bad ("loss=1 loss=2", "given twice");
    s_bad ("=1", "bad metric name");
    s_bad ("lo$s=1", "bad metric name");
    s_bad ("step=3", "no metrics");
    s_bad ("{\"step\": 3}", "no metrics");
    s_bad ("{}", "no metrics");
    s_bad ("{\"loss\": 0.5", "bad JSON");
    s_bad ("{\"loss\": 0.5} trailing", "bad JSON");
    s_bad ("{\"loss\": \"0.5\"}", "metric 'loss' is not a number");
    s_bad ("{\"loss\": true}", "not a number");
    s_bad ("{\"loss\": null}", "not a number");
    s_bad ("{\"loss\": 1, \"loss\": 2}", "bad JSON");
    s_bad ("{\"step\": -2, \"loss\": 1}", "step");
    s_bad ("{\"step\": 2.5, \"loss\": 1}", "step");
    s_bad ("{\"step\": \"2\", \"loss\": 1}", "step");
    s_bad ("{\"a b\": 1}", "bad metric name");
    s_bad ("[1, 2]", "not key=value");

    //  A long quoted token is cut short in the reason.
    char word[300];
    memset (word, 'x', sizeof word - 1);
    word[sizeof word - 1] = '\0';
    hpo_report_t r;
    char *reason = NULL;
    CHECK (s_parse (word, &r, &reason) == -1);
    CHECK (reason && strlen (reason) < 100);
    CHECK_CONTAINS (reason, "...");
    free (reason);

    //  A NUL byte inside the line.
    CHECK (hpo_report_parse ("loss=1\0x=2", 10, &r, &reason) == -1);
    CHECK_CONTAINS (reason, "NUL");
    free (reason);

    //  Too many metrics.
    size_t size = 2000 * 8 + 1;
    char *many = malloc (size);
    char *p = many;
    for (int k = 0; k < 2000; k++)
        p += sprintf (p, "m%d=1 ", k);
    CHECK (s_parse (many, &r, &reason) == -1);
    CHECK_CONTAINS (reason, "more than");
    free (reason);
    free (many);
}

//  Takes the next line from buf as a string (or "ERR"/"NONE").
static const char *
s_next (hpo_report_buf_t *buf)
{
    static char out[256];
    const char *line;
    size_t len;
    int rc = hpo_report_buf_next (buf, &line, &len);
    if (rc == 0)
        return "NONE";
    if (rc < 0)
        return "ERR";
    snprintf (out, sizeof out, "%.*s", (int)(len < 200 ? len : 200), line);
    return out;
}

static void
test_lines (void)
{
    hpo_report_buf_t *buf = hpo_report_buf_new ();
    CHECK_STR (s_next (buf), "NONE");
    hpo_report_buf_feed (buf, "step=1 lo", 9);
    CHECK_STR (s_next (buf), "NONE");
    hpo_report_buf_feed (buf, "ss=0.5\nstep=2", 13);
    CHECK_STR (s_next (buf), "step=1 loss=0.5");
    CHECK_STR (s_next (buf), "NONE");
    hpo_report_buf_feed (buf, " loss=0.4\n\nstep=3 loss=0.3\r\nacc=1", 33);
    CHECK_STR (s_next (buf), "step=2 loss=0.4");
    CHECK_STR (s_next (buf), "");
    CHECK_STR (s_next (buf), "step=3 loss=0.3\r");
    CHECK_STR (s_next (buf), "NONE");
    //  The last line needs no newline once the stream ends.
    hpo_report_buf_eof (buf);
    CHECK_STR (s_next (buf), "acc=1");
    CHECK_STR (s_next (buf), "NONE");
    hpo_report_buf_eof (buf);
    CHECK_STR (s_next (buf), "NONE");
    hpo_report_buf_destroy (&buf);
    hpo_report_buf_destroy (&buf); //  idempotent
    CHECK (buf == NULL);

    //  Byte by byte.
    buf = hpo_report_buf_new ();
    const char *text = "{\"step\": 1, \"loss\": 2}\nx=1\n";
    for (const char *p = text; *p; p++)
        hpo_report_buf_feed (buf, p, 1);
    CHECK_STR (s_next (buf), "{\"step\": 1, \"loss\": 2}");
    CHECK_STR (s_next (buf), "x=1");
    CHECK_STR (s_next (buf), "NONE");
    hpo_report_buf_destroy (&buf);
}

static void
test_long_lines (void)
{
    size_t big = HPO_REPORT_MAX_LINE + 1000;
    char *chunk = malloc (big);
    memset (chunk, 'a', big);

    //  An overlong line fed in pieces is dropped, with one error in its
    //  place, and the lines around it survive.
    hpo_report_buf_t *buf = hpo_report_buf_new ();
    hpo_report_buf_feed (buf, "x=1\n", 4);
    for (int k = 0; k < 5; k++)
        hpo_report_buf_feed (buf, chunk, big); //  ~330 KiB, no newline
    hpo_report_buf_feed (buf, "aaa\ny=2\n", 8);
    CHECK_STR (s_next (buf), "x=1");
    CHECK_STR (s_next (buf), "ERR");
    CHECK_STR (s_next (buf), "y=2");
    CHECK_STR (s_next (buf), "NONE");

    //  An overlong line that arrives whole in one read.
    chunk[big - 1] = '\n';
    hpo_report_buf_feed (buf, chunk, big);
    hpo_report_buf_feed (buf, "z=3\n", 4);
    CHECK_STR (s_next (buf), "ERR");
    CHECK_STR (s_next (buf), "z=3");
    CHECK_STR (s_next (buf), "NONE");

    //  An overlong unterminated line at the end of the stream.
    chunk[big - 1] = 'a';
    hpo_report_buf_feed (buf, chunk, big);
    hpo_report_buf_eof (buf);
    CHECK_STR (s_next (buf), "ERR");
    CHECK_STR (s_next (buf), "NONE");

    //  Exactly the maximum is fine, with or without "\r".
    chunk[HPO_REPORT_MAX_LINE] = '\r';
    chunk[HPO_REPORT_MAX_LINE + 1] = '\n';
    hpo_report_buf_feed (buf, chunk, HPO_REPORT_MAX_LINE + 2);
    const char *line;
    size_t len;
    CHECK (hpo_report_buf_next (buf, &line, &len) == 1);
    CHECK (len == HPO_REPORT_MAX_LINE + 1);
    hpo_report_t r;
    char *reason = NULL;
    CHECK (hpo_report_parse (line, len, &r, &reason) == -1);
    CHECK_CONTAINS (reason, "not key=value"); //  length was fine
    free (reason);
    hpo_report_buf_destroy (&buf);

    //  The parser refuses an overlong line on its own, too.
    CHECK (hpo_report_parse (chunk, big, &r, &reason) == -1);
    CHECK_CONTAINS (reason, "longer than");
    free (reason);
    free (chunk);
}

//  ---- stdout lines, matched (common/linepat.h) -------------------------

//  Matches line with pattern (NULL: the default); returns what
//  hpo_report_match does, *reason freed unless wanted.
static int
s_match (const char *pattern, const char *line, hpo_report_t *r,
         char **reason)
{
    char *error = NULL;
    hpo_linepat_t *pat = hpo_linepat_new (pattern, &error);
    CHECK (pat != NULL && error == NULL);
    int rc = hpo_report_match (pat, line, strlen (line), r, reason);
    hpo_linepat_destroy (&pat);
    CHECK (pat == NULL);
    return rc;
}

static void
test_match_default (void)
{
    hpo_report_t r;
    char *reason = NULL;
    //  What a script prints, unchanged: epoch names the step.
    CHECK (s_match (NULL, "epoch=3 val_loss=0.41\n", &r, &reason) == 0);
    CHECK (r.has_step && r.step == 3);
    CHECK (r.n_metrics == 1);
    CHECK_STR (r.metrics[0].name, "val_loss");
    CHECK_NEAR (r.metrics[0].value, 0.41, 1e-12);
    hpo_report_clear (&r);
    //  Among other text, commas between; text values are text.
    CHECK (s_match (NULL, "[train] step=7, loss=1e-3; opt=adam lr=0.1 x= =2",
                    &r, &reason) == 0);
    CHECK (r.has_step && r.step == 7 && r.n_metrics == 2);
    CHECK_STR (r.metrics[0].name, "loss");
    CHECK_NEAR (r.metrics[0].value, 1e-3, 1e-15);
    CHECK_STR (r.metrics[1].name, "lr");
    hpo_report_clear (&r);
    //  step wins over epoch; "epoch=1/10" is progress text.
    CHECK (s_match (NULL, "epoch=2 step=40 acc=0.5", &r, &reason) == 0);
    CHECK (r.step == 40);
    hpo_report_clear (&r);
    CHECK (s_match (NULL, "epoch=1/10 acc=0.5", &r, &reason) == 0);
    CHECK (!r.has_step && r.n_metrics == 1);
    hpo_report_clear (&r);
    //  Plain text: nothing to report, nothing wrong.
    CHECK (s_match (NULL, "Loading data... done", &r, &reason) == 0);
    CHECK (r.n_metrics == 0 && reason == NULL);
    //  Values are checked as on the report descriptor.
    CHECK (s_match (NULL, "epoch=1 loss=nan", &r, &reason) == -1);
    CHECK_CONTAINS (reason, "not finite");
    CHECK (r.n_metrics == 0);
    free (reason);
    CHECK (s_match (NULL, "step=-1 loss=2", &r, &reason) == -1);
    CHECK_CONTAINS (reason, "step");
    free (reason);
    CHECK (s_match (NULL, "loss=1 loss=2", &r, &reason) == -1);
    CHECK_CONTAINS (reason, "twice");
    free (reason);
}

static void
test_match_pattern (void)
{
    hpo_report_t r;
    char *reason = NULL;
    const char *pat = "^Epoch (?<epoch>\\d+)/\\d+ .*val (?P<val_loss>\\S+)"
                      "( acc (?<acc>\\S+))?";
    CHECK (s_match (pat, "Epoch 4/10 - train 0.5 - val 0.25 acc 0.9", &r,
                    &reason) == 0);
    CHECK (r.has_step && r.step == 4 && r.n_metrics == 2);
    CHECK (*hpo_report_metric (&r, "val_loss") == 0.25);
    CHECK (*hpo_report_metric (&r, "acc") == 0.9);
    hpo_report_clear (&r);
    //  A group that took no part gives nothing.
    CHECK (s_match (pat, "Epoch 5/10 val 0.2", &r, &reason) == 0);
    CHECK (r.n_metrics == 1 && hpo_report_metric (&r, "acc") == NULL);
    hpo_report_clear (&r);
    CHECK (s_match (pat, "loss=0.3", &r, &reason) == 0);
    CHECK (r.n_metrics == 0 && !r.has_step);
    //  A group's text must be a number.
    CHECK (s_match (pat, "Epoch 5/10 val abc", &r, &reason) == -1);
    CHECK_CONTAINS (reason, "metric 'val_loss' is not a number");
    free (reason);
    CHECK (s_match ("s=(?<step>\\S+) l=(?<l>\\S+)", "s=x l=1", &r,
                    &reason) == -1);
    CHECK_CONTAINS (reason, "step 'x' is not an integer");
    free (reason);
    //  Catastrophic backtracking stops at the match limit, as an error.
    char line[4096];
    memset (line, 'a', sizeof line - 2);
    line[sizeof line - 2] = '!';
    line[sizeof line - 1] = '\0';
    CHECK (s_match ("^(a|aa)+$(?<x>\\d)", line, &r, &reason) == -1);
    CHECK_CONTAINS (reason, "limit");
    free (reason);
}

static void
test_pattern_errors (void)
{
    static const struct {
        const char *pattern, *why;
    } bad[] = {
        {"(?<loss>\\d+", "missing closing parenthesis"},
        {"loss=(\\S+)", "no named group for a metric"},
        {"step=(?<step>\\d+)", "no named group for a metric"},
        {"(*UTF)(?<x>.)", "offset"},
        {"(?<a>x)(?<a>y)", "same name"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char *error = NULL;
        hpo_linepat_t *pat = hpo_linepat_new (bad[k].pattern, &error);
        CHECK (pat == NULL);
        CHECK_CONTAINS (error, bad[k].why);
        free (error);
    }
    char *huge = malloc (HPO_LINEPAT_MAX + 2);
    memset (huge, 'a', HPO_LINEPAT_MAX + 1);
    huge[HPO_LINEPAT_MAX + 1] = '\0';
    char *error = NULL;
    CHECK (hpo_linepat_new (huge, &error) == NULL);
    CHECK_CONTAINS (error, "longer than");
    free (error);
    free (huge);
    hpo_linepat_t *pat = hpo_linepat_new ("(?<val_loss>\\d)", &error);
    CHECK (pat && hpo_linepat_has (pat, "val_loss") &&
           !hpo_linepat_has (pat, "loss") && !hpo_linepat_is_default (pat));
    hpo_linepat_destroy (&pat);
    pat = hpo_linepat_new ("", &error);
    CHECK (pat && hpo_linepat_has (pat, "anything") &&
           hpo_linepat_is_default (pat));
    hpo_linepat_destroy (&pat);
}

int
main (void)
{
    test_words ();
    test_json ();
    test_bad ();
    test_lines ();
    test_long_lines ();
    test_match_default ();
    test_match_pattern ();
    test_pattern_errors ();
    TEST_DONE ();
}
