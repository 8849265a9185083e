//  test_render: the CLI's JSON documents and tables, from hand-built
//  replies. The JSON documents are an interface: the golden strings here
//  pin their keys, key order and types.
#include "testutil.h"

#include <stdlib.h>
#include <time.h>

#include "cli/render.h"
#include "common/json_render.h"

//  Renders into a string through fn's FILE.
#define CAPTURE(text, call)                                                    \
    do {                                                                       \
        size_t t_size;                                                         \
        FILE *out = open_memstream (&(text), &t_size);                         \
        call;                                                                  \
        fclose (out);                                                          \
    } while (0)

static char *
s_compact (json_t *doc)
{
    char *text = json_dumps (doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref (doc);
    return text;
}

//  A COMPLETE trial with one param of each kind.
static Hpo__Param s_lr, s_layers, s_opt;
static Hpo__Param *s_params[3];
static Hpo__TrialInfo s_trial;

static void
s_make_trial (void)
{
    hpo__param__init (&s_lr);
    s_lr.name = "lr";
    s_lr.kind = 1;
    s_lr.f = 0.25;
    hpo__param__init (&s_layers);
    s_layers.name = "layers";
    s_layers.kind = 2;
    s_layers.i = 3;
    hpo__param__init (&s_opt);
    s_opt.name = "opt";
    s_opt.kind = 3;
    s_opt.s = "adam";
    s_params[0] = &s_lr;
    s_params[1] = &s_layers;
    s_params[2] = &s_opt;

    hpo__trial_info__init (&s_trial);
    s_trial.number = 7;
    s_trial.state = "COMPLETE";
    s_trial.n_params = 3;
    s_trial.params = s_params;
    s_trial.has_value = 1;
    s_trial.value = 0.5;
    s_trial.attempt = 2;
    s_trial.worker = "gpu1";
    s_trial.started = 1000;
    s_trial.ended = 1060.5;
}

static void
test_trial_json (void)
{
    char *text = s_compact (hpo_json_render_trial (&s_trial, "mnist", 0));
    CHECK_STR (text, "{\"study\":\"mnist\",\"number\":7,\"state\":\"COMPLETE\","
                     "\"params\":{\"lr\":0.25,\"layers\":3,\"opt\":\"adam\"},"
                     "\"value\":0.5,\"attempt\":2,\"worker\":\"gpu1\","
                     "\"started\":1000.0,\"ended\":1060.5,\"duration\":60.5,"
                     "\"reason\":null,\"last_step\":null,\"last_value\":null,"
                     "\"last_metrics\":null}");
    free (text);

    //  A waiting trial: what is not known yet is null, never "" or 0.
    Hpo__TrialInfo waiting = HPO__TRIAL_INFO__INIT;
    waiting.number = 9;
    waiting.state = "WAITING";
    waiting.study = "other";
    waiting.attempt = 1;
    text = s_compact (hpo_json_render_trial (&waiting, "mnist", 0));
    CHECK_STR (text, "{\"study\":\"other\",\"number\":9,\"state\":\"WAITING\","
                     "\"params\":{},\"value\":null,\"attempt\":1,"
                     "\"worker\":null,\"started\":null,\"ended\":null,"
                     "\"duration\":null,\"reason\":null,\"last_step\":null,"
                     "\"last_value\":null,\"last_metrics\":null}");
    free (text);

    //  A running trial's latest report; a value JSON cannot hold is null.
    Hpo__TrialInfo running = HPO__TRIAL_INFO__INIT;
    running.state = "RUNNING";
    running.has_step = 1;
    running.last_step = 4;
    running.has_last = 1;
    running.last_value = NAN;
    json_t *doc = hpo_json_render_trial (&running, NULL, 0);
    CHECK (json_is_null (json_object_get (doc, "study")));
    CHECK (json_integer_value (json_object_get (doc, "last_step")) == 4);
    CHECK (json_is_null (json_object_get (doc, "last_value")));
    json_decref (doc);
}

static void
test_trial_detail_json (void)
{
    Hpo__AttemptInfo a1 = HPO__ATTEMPT_INFO__INIT, a2 = HPO__ATTEMPT_INFO__INIT;
    a1.attempt = 1;
    a1.worker = "gpu0";
    a1.started = 900;
    a1.ended = 950;
    a1.outcome = "LOST";
    a1.reason = "lease expired";
    a2.attempt = 2;
    a2.worker = "gpu1";
    a2.started = 1000;
    a2.outcome = "RUNNING";
    Hpo__AttemptInfo *attempts[] = {&a1, &a2};
    Hpo__IntermediateValue v1 = HPO__INTERMEDIATE_VALUE__INIT;
    v1.attempt = 2;
    v1.step = 1;
    v1.metric = "val_loss";
    v1.value = 0.75;
    Hpo__IntermediateValue *values[] = {&v1};

    Hpo__TrialInfo trial = s_trial;
    trial.n_attempts = 2;
    trial.attempts = attempts;
    trial.n_values = 1;
    trial.values = values;
    //  Cut in the middle of a character, as a 4 KiB tail can be.
    trial.log_tail = "ok\nbad \xC3";
    json_t *doc = hpo_json_render_trial (&trial, "mnist", 1);
    char *text = s_compact (json_incref (doc));
    CHECK_CONTAINS (text,
                    "\"attempts\":[{\"attempt\":1,\"worker\":\"gpu0\","
                    "\"started\":900.0,\"ended\":950.0,\"outcome\":\"LOST\","
                    "\"reason\":\"lease expired\"},{\"attempt\":2,"
                    "\"worker\":\"gpu1\",\"started\":1000.0,\"ended\":null,"
                    "\"outcome\":\"RUNNING\",\"reason\":null}],"
                    "\"intermediate\":[{\"attempt\":2,\"step\":1,"
                    "\"metric\":\"val_loss\","
                    "\"value\":0.75}],\"log_tail\":\"ok\\nbad \xEF\xBF\xBD\"}");
    free (text);
    //  Without detail, none of the three keys.
    json_decref (doc);
    doc = hpo_json_render_trial (&trial, "mnist", 0);
    CHECK (!json_object_get (doc, "attempts"));
    CHECK (!json_object_get (doc, "log_tail"));
    json_decref (doc);
}

static Hpo__StudyInfo
s_make_study (void)
{
    Hpo__StudyInfo study = HPO__STUDY_INFO__INIT;
    study.name = "mnist";
    study.state = "RUNNING";
    study.budget = 50;
    study.parallel = 4;
    study.waiting = 34;
    study.running = 4;
    study.complete = 10;
    study.pruned = 1;
    study.failed = 1;
    study.created = 1000;
    study.now = 1184;
    study.objective = "val_loss";
    study.direction = "minimize";
    study.sampler = "random";
    study.has_best = 1;
    study.best = &s_trial;
    return study;
}

static void
test_study_json (void)
{
    Hpo__StudyInfo study = s_make_study ();
    char *text = s_compact (hpo_json_render_study (&study));
    CHECK_STR (text,
               "{\"name\":\"mnist\",\"state\":\"RUNNING\",\"budget\":50,"
               "\"parallel\":4,\"counts\":{\"WAITING\":34,\"RUNNING\":4,"
               "\"COMPLETE\":10,\"PRUNED\":1,\"FAILED\":1},"
               "\"best\":{\"study\":\"mnist\",\"number\":7,"
               "\"state\":\"COMPLETE\",\"params\":{\"lr\":0.25,"
               "\"layers\":3,\"opt\":\"adam\"},\"value\":0.5,\"attempt\":2,"
               "\"worker\":\"gpu1\",\"started\":1000.0,\"ended\":1060.5,"
               "\"duration\":60.5,\"reason\":null,\"last_step\":null,"
               "\"last_value\":null,\"last_metrics\":null},"
               "\"created\":1000.0,\"ended\":null,\"elapsed\":184.0,"
               "\"objective\":{\"metric\":\"val_loss\","
               "\"direction\":\"minimize\"},\"sampler\":\"random\","
               "\"reason\":null,\"last_failed\":null,"
               "\"pruned_steps\":null,\"mean_duration\":null}");
    free (text);

    //  Where pruned trials stopped: in the JSON, study show and watch.
    study.has_pruned_steps = 1;
    study.pruned_step_min = 2;
    study.pruned_step_median = 5;
    study.pruned_step_max = 40;
    text = s_compact (hpo_json_render_study (&study));
    CHECK_CONTAINS (text,
                    "\"pruned_steps\":{\"min\":2,\"median\":5,\"max\":40}");
    free (text);
    study.has_pruned_steps = 0;

    //  Ended: elapsed runs to the end, not to now. No best: null.
    study.ended = 1100;
    study.has_best = 0;
    json_t *doc = hpo_json_render_study (&study);
    CHECK_NEAR (json_real_value (json_object_get (doc, "elapsed")), 100, 1e-9);
    CHECK_NEAR (json_real_value (json_object_get (doc, "ended")), 1100, 1e-9);
    CHECK (json_is_null (json_object_get (doc, "best")));
    json_decref (doc);

    //  A reply without the coordinator's clock: elapsed is unknown.
    study.ended = 0;
    study.now = 0;
    doc = hpo_json_render_study (&study);
    CHECK (json_is_null (json_object_get (doc, "elapsed")));
    json_decref (doc);

    Hpo__StudyInfo *studies[] = {&study};
    Hpo__StudyList list = HPO__STUDY_LIST__INIT;
    text = s_compact (hpo_json_render_study_list (&list));
    CHECK_STR (text, "{\"studies\":[]}");
    free (text);
    list.n_studies = 1;
    list.studies = studies;
    doc = hpo_json_render_study_list (&list);
    CHECK (json_array_size (json_object_get (doc, "studies")) == 1);
    json_decref (doc);
}

static void
test_trials_workers_json (void)
{
    Hpo__TrialInfo *trials[] = {&s_trial};
    Hpo__TrialList list = HPO__TRIAL_LIST__INIT;
    list.n_trials = 1;
    list.trials = trials;
    json_t *doc = hpo_json_render_trials ("mnist", &list);
    CHECK_STR (json_string_value (json_object_get (doc, "study")), "mnist");
    json_t *first = json_array_get (json_object_get (doc, "trials"), 0);
    CHECK (json_integer_value (json_object_get (first, "number")) == 7);
    CHECK_STR (json_string_value (json_object_get (first, "study")), "mnist");
    json_decref (doc);

    Hpo__WorkerInfo w1 = HPO__WORKER_INFO__INIT, w2 = HPO__WORKER_INFO__INIT;
    w1.name = "gpu1";
    w1.host = "node3";
    w1.slots = 4;
    w1.running = 2;
    w1.last_seen = 998.5;
    w1.alive = 1;
    w1.pid = 4242;
    w2.name = "cpu9";
    Hpo__WorkerInfo *workers[] = {&w1, &w2};
    Hpo__WorkerList wl = HPO__WORKER_LIST__INIT;
    wl.n_workers = 2;
    wl.workers = workers;
    wl.now = 1000;
    char *text = s_compact (hpo_json_render_workers (&wl));
    CHECK_STR (text,
               "{\"workers\":[{\"name\":\"gpu1\",\"host\":\"node3\","
               "\"slots\":4,\"running\":2,\"last_heartbeat\":998.5,"
               "\"age\":1.5,\"alive\":true,\"pid\":4242},"
               "{\"name\":\"cpu9\",\"host\":null,\"slots\":0,\"running\":0,"
               "\"last_heartbeat\":null,\"age\":null,\"alive\":false,"
               "\"pid\":null}]}");
    free (text);
}

static void
test_json_print (void)
{
    char *text = NULL;
    json_t *doc = hpo_json_render_trial (&s_trial, "m", 0);
    CAPTURE (text, CHECK (hpo_json_render_print (out, doc) == 0));
    json_decref (doc);
    size_t len = strlen (text);
    CHECK (len > 2 && text[len - 1] == '\n');
    CHECK_CONTAINS (text, "\n  \"number\": 7,\n");
    json_t *back = json_loads (text, 0, NULL);
    CHECK (back && json_integer_value (json_object_get (back, "number")) == 7);
    json_decref (back);
    free (text);
}

static void
test_duration (void)
{
    const struct {
        double seconds;
        const char *text;
    } cases[] = {
        {0, "0s"},       {45.9, "45s"},     {60, "1m00s"}, {184, "3m04s"},
        {7500, "2h05m"}, {273600, "3d04h"}, {-1, "-"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *text = hpo_render_duration (cases[k].seconds);
        CHECK_STR (text, cases[k].text);
        free (text);
    }
}

static void
test_tables (void)
{
    Hpo__StudyInfo study = s_make_study ();
    Hpo__StudyInfo *studies[] = {&study};
    Hpo__StudyList list = HPO__STUDY_LIST__INIT;
    char *text = NULL;
    CAPTURE (text, hpo_render_study_list (out, &list));
    CHECK_STR (text, "no studies\n");
    free (text);
    list.n_studies = 1;
    list.studies = studies;
    CAPTURE (text, hpo_render_study_list (out, &list));
    CHECK_STR (text, "NAME   STATE    DONE/BUDGET  RUNNING  FAILED  BEST  "
                     "ELAPSED\n"
                     "mnist  RUNNING  12/50        4        1       0.5   "
                     "3m04s\n");
    free (text);

    CAPTURE (text, hpo_render_study (out, &study));
    CHECK_CONTAINS (text, "study      mnist\n");
    CHECK_CONTAINS (text, "objective  val_loss (minimize)\n");
    CHECK_CONTAINS (text, "budget     50 trials, 4 at a time\n");
    CHECK_CONTAINS (text, "WAITING 34  RUNNING 4  COMPLETE 10  PRUNED 1  "
                          "FAILED 1\n");
    CHECK_CONTAINS (text, "best       trial 7, value 0.5\n"
                          "           lr=0.25 layers=3 opt=adam\n");
    CHECK_CONTAINS (text, "created    1970-01-01 00:16:40\n");
    CHECK_CONTAINS (text, "elapsed    3m04s\n");
    CHECK (!strstr (text, "pruned at"));
    free (text);
    study.has_pruned_steps = 1;
    study.pruned_step_min = 2;
    study.pruned_step_median = 5;
    study.pruned_step_max = 40;
    CAPTURE (text, hpo_render_study (out, &study));
    CHECK_CONTAINS (text, "pruned at  steps 2 to 40, median 5\n");
    free (text);
    CAPTURE (text, hpo_render_watch_frame (out, &study, NULL, 200, 5));
    CHECK_CONTAINS (text, "pruned 1 (at steps 2-40, median 5)");
    free (text);
    study.has_pruned_steps = 0;

    //  A column per parameter; a trial without a value shows "-".
    Hpo__TrialInfo waiting = HPO__TRIAL_INFO__INIT;
    waiting.number = 8;
    waiting.state = "WAITING";
    waiting.attempt = 1;
    waiting.n_params = 1;
    waiting.params = s_params + 1;
    Hpo__TrialInfo *trials[] = {&s_trial, &waiting};
    Hpo__TrialList tl = HPO__TRIAL_LIST__INIT;
    tl.n_trials = 2;
    tl.trials = trials;
    CAPTURE (text, hpo_render_trials (out, &tl));
    CHECK_STR (text,
               "NUMBER  STATE     VALUE  ATTEMPT  WORKER  DURATION  lr    "
               "layers  opt   REASON\n"
               "7       COMPLETE  0.5    2        gpu1    1m00s     0.25  "
               "3       adam  -\n"
               "8       WAITING   -      1        -       -         -     "
               "3       -     -\n");
    free (text);

    Hpo__WorkerInfo w = HPO__WORKER_INFO__INIT;
    w.name = "gpu1";
    w.host = "node3";
    w.slots = 4;
    w.running = 2;
    w.last_seen = 998.5;
    w.alive = 1;
    Hpo__WorkerInfo *workers[] = {&w};
    Hpo__WorkerList wl = HPO__WORKER_LIST__INIT;
    wl.n_workers = 1;
    wl.workers = workers;
    wl.now = 1000;
    CAPTURE (text, hpo_render_workers (out, &wl));
    CHECK_STR (text, "NAME  HOST   SLOTS  RUNNING  LAST-HEARTBEAT  ALIVE\n"
                     "gpu1  node3  4      2        1.5s ago        yes\n");
    free (text);
}

static void
test_trial_text (void)
{
    Hpo__AttemptInfo a1 = HPO__ATTEMPT_INFO__INIT;
    a1.attempt = 1;
    a1.worker = "gpu0";
    a1.started = 900;
    a1.ended = 950;
    a1.outcome = "FAILED";
    a1.reason = "exit status 1";
    Hpo__AttemptInfo *attempts[] = {&a1};
    Hpo__IntermediateValue v1 = HPO__INTERMEDIATE_VALUE__INIT;
    v1.step = 1;
    v1.metric = "val_loss";
    v1.value = 0.1;
    Hpo__IntermediateValue *values[] = {&v1};
    Hpo__TrialInfo trial = s_trial;
    trial.state = "FAILED";
    trial.has_value = 0;
    trial.reason = "exit status 1";
    trial.n_attempts = 1;
    trial.attempts = attempts;
    trial.n_values = 1;
    trial.values = values;
    trial.log_tail = "Traceback\nValueError: nan\n";
    char *text = NULL;
    CAPTURE (text, hpo_render_trial (out, &trial, "mnist"));
    CHECK_CONTAINS (text, "trial    7\nstudy    mnist\nstate    FAILED\n"
                          "value    -\n");
    CHECK_CONTAINS (text, "reason   exit status 1\n");
    CHECK_CONTAINS (text, "\nparams\n  lr      0.25\n  layers  3\n"
                          "  opt     adam\n");
    CHECK_CONTAINS (text, "\nattempts\n  ATTEMPT  WORKER  STARTED");
    CHECK_CONTAINS (text, "  1        gpu0    1970-01-01 00:15:00  "
                          "1970-01-01 00:15:50  FAILED   exit status 1\n");
    //  Values read back as written: 0.1, not 0.10000000000000001.
    CHECK_CONTAINS (text, "\nintermediate values\n  ATTEMPT  STEP  val_loss\n"
                          "  0        1     0.1\n");
    CHECK_CONTAINS (text, "\nlog tail\n  | Traceback\n  | ValueError: nan\n");
    free (text);

    CAPTURE (text, hpo_render_best (out, &s_trial, "mnist"));
    CHECK_STR (text, "best of mnist: trial 7, value 0.5\n"
                     "  lr      0.25\n  layers  3\n  opt     adam\n");
    free (text);
}

static void
test_watch (void)
{
    Hpo__StudyInfo study = s_make_study ();
    char *line = hpo_render_watch_line (&study);
    CHECK_STR (line, "mnist 12/50 done, 4 running, best 0.5 (trial 7)");
    free (line);
    study.has_best = 0;
    study.state = "STOPPING";
    line = hpo_render_watch_line (&study);
    CHECK_STR (line, "mnist 12/50 done, 4 running, no best yet, STOPPING");
    free (line);
    study.has_best = 1;
    study.state = "RUNNING";

    Hpo__TrialInfo r[3];
    Hpo__TrialInfo *rp[3];
    for (int k = 0; k < 3; k++) {
        hpo__trial_info__init (&r[k]);
        r[k].number = 20 + k;
        r[k].state = "RUNNING";
        r[k].worker = "gpu1";
        r[k].n_params = 1;
        r[k].params = s_params;
        rp[k] = &r[k];
    }
    r[0].has_step = 1;
    r[0].last_step = 3;
    r[0].has_last = 1;
    r[0].last_value = 0.41;
    Hpo__TrialList running = HPO__TRIAL_LIST__INIT;
    running.n_trials = 3;
    running.trials = rp;

    char *text = NULL;
    int lines = 0;
    CAPTURE (text,
             lines = hpo_render_watch_frame (out, &study, &running, 200, 2));
    //  3 header lines, the table header, 2 rows, "... and 1 more".
    CHECK (lines == 7);
    CHECK_CONTAINS (text, "mnist  RUNNING  [#######.......................]"
                          "  12/50 done  elapsed 3m04s\n");
    CHECK_CONTAINS (text, "complete 10  pruned 1  failed 1  running 4  "
                          "waiting 34\n");
    CHECK_CONTAINS (text, "best 0.5 (trial 7)  lr=0.25 layers=3 opt=adam\n");
    CHECK_CONTAINS (text, "  TRIAL  WORKER  STEP  val_loss  PARAMS\n"
                          "  20     gpu1    3     0.41      lr=0.25\n"
                          "  21     gpu1    -     -         lr=0.25\n"
                          "  ... and 1 more running\n");
    free (text);

    //  No line is longer than width - 1, so none wraps.
    CAPTURE (text, lines = hpo_render_watch_frame (out, &study, NULL, 20, 10));
    CHECK (lines == 3);
    for (const char *p = text; *p;) {
        size_t len = strcspn (p, "\n"), cols = 0;
        for (size_t k = 0; k < len; k++)
            cols += ((unsigned char)p[k] & 0xC0) != 0x80;
        CHECK (cols <= 19);
        p += len + (p[len] == '\n');
    }
    //  ... and a cut line says so.
    CHECK_CONTAINS (text, "\xE2\x80\xA6\n");
    free (text);
}

//  Six significant digits on a terminal, whatever the double holds.
static void
test_numbers (void)
{
    struct {
        double v;
        const char *text;
    } cases[] = {
        {0.1, "0.1"},
        {0.123456789, "0.123457"},
        {123456789, "1.23457e+08"},
        {-2.5e-7, "-2.5e-07"},
        {1.0 / 3, "0.333333"},
        {42, "42"},
        {NAN, "nan"},
        {-INFINITY, "-inf"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char *text = hpo_render_number (cases[k].v);
        CHECK_STR (text, cases[k].text);
        free (text);
    }
}

//  Cutting counts characters, never splits one, and says it cut.
static void
test_cut (void)
{
    char *text = hpo_render_cut ("abcdef", 6);
    CHECK_STR (text, "abcdef");
    free (text);
    text = hpo_render_cut ("abcdefg", 6);
    CHECK_STR (text, "abcde\xE2\x80\xA6");
    free (text);
    //  "é" is two bytes, "€" three, "𝄞" four: each one column.
    text = hpo_render_cut ("\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E"
                           "abc",
                           4);
    CHECK_STR (text, "\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E\xE2\x80\xA6");
    free (text);
    text = hpo_render_cut ("\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E", 3);
    CHECK_STR (text, "\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E");
    free (text);
    //  A cell is one line; NULL is empty.
    text = hpo_render_cut ("two\nlines\ttab", 40);
    CHECK_STR (text, "two lines tab");
    free (text);
    text = hpo_render_cut (NULL, 5);
    CHECK_STR (text, "");
    free (text);

    //  A table lines up cells that hold multi-byte characters.
    Hpo__TrialInfo t1 = s_trial, t2 = s_trial;
    t1.reason = "\xC3\xA9t\xC3\xA9 perdu";
    t1.worker = "g\xC3\xBC"; //  2 columns, 3 bytes
    t2.number = 8;
    t2.reason = "exit status 1, and a reason far too long to show whole "
                "in a table";
    Hpo__TrialInfo *trials[] = {&t1, &t2};
    Hpo__TrialList tl = HPO__TRIAL_LIST__INIT;
    tl.n_trials = 2;
    tl.trials = trials;
    CAPTURE (text, hpo_render_trials (out, &tl));
    CHECK_CONTAINS (text, "2        g\xC3\xBC      1m00s");
    CHECK_CONTAINS (text, "2        gpu1    1m00s");
    CHECK_CONTAINS (text, "adam  \xC3\xA9t\xC3\xA9 perdu\n");
    CHECK_CONTAINS (text, "adam  exit status 1, and a reason far too long to "
                          "sho\xE2\x80\xA6\n");
    free (text);
}

static void
test_csv (void)
{
    const char *fields[] = {"plain", "a,b", "say \"hi\"", "two\nlines",
                            "cr\r",  "",    NULL};
    const char *want[] = {
        "plain", "\"a,b\"", "\"say \"\"hi\"\"\"", "\"two\nlines\"", "\"cr\r\"",
        "",      ""};
    for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
        char *text = NULL;
        CAPTURE (text, hpo_render_csv_field (out, fields[k]));
        CHECK_STR (text, want[k]);
        free (text);
    }

    //  A row per trial: params, value, last metrics, ISO times, exact.
    Hpo__Metric acc = HPO__METRIC__INIT, loss = HPO__METRIC__INIT;
    acc.name = "acc";
    acc.value = 0.1;
    loss.name = "loss";
    loss.value = 1.0 / 3;
    Hpo__Metric *metrics[] = {&loss, &acc};
    Hpo__Param value = HPO__PARAM__INIT;
    value.name = "value"; //  a parameter named like a column
    value.kind = 2;
    value.i = 5;
    Hpo__Param *params[] = {&s_opt, &value};
    Hpo__TrialInfo t = s_trial;
    t.n_params = 2;
    t.params = params;
    t.n_last_metrics = 2;
    t.last_metrics = metrics;
    t.reason = "lost, \"badly\"";
    t.started = 1764296385.25;
    t.ended = 1764296445.75;
    Hpo__TrialInfo w = HPO__TRIAL_INFO__INIT;
    w.number = 9;
    w.state = "WAITING";
    Hpo__TrialInfo *trials[] = {&t, &w};
    Hpo__TrialList tl = HPO__TRIAL_LIST__INIT;
    tl.n_trials = 2;
    tl.trials = trials;
    char *text = NULL;
    CAPTURE (text, hpo_render_export (out, &tl, 0));
    CHECK_STR (text,
               "number,state,opt,param:value,value,metric:acc,metric:loss,"
               "attempts,worker,started,ended,duration,reason\n"
               "7,COMPLETE,adam,5,0.5,0.10000000000000001,"
               "0.33333333333333331,2,gpu1,2025-11-28T02:19:45.250Z,"
               "2025-11-28T02:20:45.750Z,60.5,\"lost, \"\"badly\"\"\"\n"
               "9,WAITING,,,,,,0,,,,,\n");
    free (text);
    CAPTURE (text, hpo_render_export (out, &tl, 1));
    CHECK_CONTAINS (text,
                    "{\"number\":9,\"state\":\"WAITING\",\"opt\":null,"
                    "\"param:value\":null,\"value\":null,"
                    "\"metric:acc\":null,\"metric:loss\":null,"
                    "\"attempts\":0,\"worker\":null,\"started\":null,"
                    "\"ended\":null,\"duration\":null,\"reason\":null}\n");
    free (text);
}

//  Intermediate values: a row per (attempt, step), a column per metric,
//  in that order whatever order they came in; the same in long form.
static void
test_step_table (void)
{
    Hpo__IntermediateValue v[5];
    Hpo__IntermediateValue *values[5];
    struct {
        uint32_t attempt;
        int64_t step;
        const char *metric;
        double value;
    } rows[] = {{2, 0, "loss", 0.5},
                {1, 4, "loss", 1.0 / 3},
                {2, 0, "acc", 0.9},
                {2, 1, "acc", 0.95},
                {1, 3, "acc", 0.125}};
    for (int k = 0; k < 5; k++) {
        hpo__intermediate_value__init (&v[k]);
        v[k].attempt = rows[k].attempt;
        v[k].step = rows[k].step;
        v[k].metric = (char *)rows[k].metric;
        v[k].value = rows[k].value;
        values[k] = &v[k];
    }
    Hpo__TrialInfo t = s_trial;
    t.n_values = 5;
    t.values = values;
    char *text = NULL;
    CAPTURE (text, hpo_render_trial (out, &t, "mnist"));
    CHECK_CONTAINS (text, "\nintermediate values\n"
                          "  ATTEMPT  STEP  acc    loss\n"
                          "  1        3     0.125  -\n"
                          "  1        4     -      0.333333\n"
                          "  2        0     0.9    0.5\n"
                          "  2        1     0.95   -\n");
    free (text);
    Hpo__TrialInfo *trials[] = {&t};
    Hpo__TrialList tl = HPO__TRIAL_LIST__INIT;
    tl.n_trials = 1;
    tl.trials = trials;
    CAPTURE (text, hpo_render_export_curves (out, &tl, 0));
    CHECK_STR (text, "trial,attempt,step,metric,value\n"
                     "7,1,3,acc,0.125\n"
                     "7,1,4,loss,0.33333333333333331\n"
                     "7,2,0,acc,0.90000000000000002\n"
                     "7,2,0,loss,0.5\n"
                     "7,2,1,acc,0.94999999999999996\n");
    free (text);
}

//  The ETA: trials left times the mean duration, over the parallelism.
static void
test_eta (void)
{
    Hpo__StudyInfo study = s_make_study ();
    char *eta = hpo_render_eta (&study);
    CHECK (eta == NULL); //  no mean duration yet
    study.mean_duration = 10;
    eta = hpo_render_eta (&study);
    //  38 left, 4 running: 95 s.
    CHECK_STR (eta, "ETA 1m 35s");
    free (eta);
    study.running = 0;
    study.parallel = 0;
    CHECK (hpo_render_eta (&study) == NULL);
    study.parallel = 2;
    study.mean_duration = 400;
    eta = hpo_render_eta (&study);
    CHECK_STR (eta, "ETA 2h 6m");
    free (eta);
    study.running = 4;
    study.mean_duration = 10;
    Hpo__TrialInfo failed = HPO__TRIAL_INFO__INIT;
    failed.number = 3;
    failed.reason = "exit status 2";
    study.has_last_failed = 1;
    study.last_failed = &failed;
    char *line = hpo_render_watch_line (&study);
    CHECK_STR (line, "mnist 12/50 done, 4 running, best 0.5 (trial 7), "
                     "ETA 1m 35s, last failure: trial 3: exit status 2");
    free (line);
    char *text = NULL;
    CAPTURE (text, hpo_render_watch_frame (out, &study, NULL, 200, 5));
    CHECK_CONTAINS (text, "elapsed 3m04s  ETA 1m 35s\n");
    CHECK_CONTAINS (text, "last failure: trial 3: exit status 2\n");
    free (text);
}

int
main (void)
{
    setenv ("TZ", "UTC", 1);
    tzset ();
    s_make_trial ();
    test_trial_json ();
    test_trial_detail_json ();
    test_study_json ();
    test_trials_workers_json ();
    test_json_print ();
    test_duration ();
    test_tables ();
    test_trial_text ();
    test_watch ();
    test_numbers ();
    test_cut ();
    test_csv ();
    test_step_table ();
    test_eta ();
    TEST_DONE ();
}

//  A hybrid search's grid points (issue #7): the line in study show,
//  the --grid table and its JSON. A constructor, to stay clear of other
//  changes to main.
__attribute__ ((constructor)) static void
test_study_grid (void)
{
    Hpo__Param a = HPO__PARAM__INIT, b = HPO__PARAM__INIT;
    a.name = "opt", a.kind = 3, a.s = "adam";
    b.name = "opt", b.kind = 3, b.s = "sgd";
    Hpo__Param *pa[] = {&a}, *pb[] = {&b};
    Hpo__GridPoint g0 = HPO__GRID_POINT__INIT, g1 = HPO__GRID_POINT__INIT;
    g0.n_params = g1.n_params = 1;
    g0.params = pa, g1.params = pb;
    g0.trials = 4, g1.trials = 3;
    Hpo__GridPoint *grid[] = {&g0, &g1};
    Hpo__StudyInfo study = HPO__STUDY_INFO__INIT;
    study.name = "hy";
    study.state = "RUNNING";
    study.grid_points = 2;
    study.grid_trials_min = 3;
    study.grid_trials_max = 4;
    study.grid = grid;
    study.n_grid = 2;
    char *text = NULL;
    CAPTURE (text, hpo_render_study (out, &study));
    CHECK_CONTAINS (text, "grid points  2, trials each 3-4\n");
    free (text);
    CAPTURE (text, hpo_render_study_grid (out, &study));
    CHECK_STR (text, "grid points: 2, trials each 3-4\n"
                     "opt   TRIALS\n"
                     "adam  4\n"
                     "sgd   3\n");
    free (text);
    text = s_compact (hpo_render_study_grid_json (&study));
    CHECK_STR (text, "{\"study\":\"hy\",\"grid_points\":2,\"trials_min\":3,"
                     "\"trials_max\":4,\"points\":[{\"params\":{\"opt\":"
                     "\"adam\"},\"trials\":4},{\"params\":{\"opt\":\"sgd\"},"
                     "\"trials\":3}]}");
    free (text);
    //  Too many points to list: the counts alone.
    study.n_grid = 0;
    CAPTURE (text, hpo_render_study_grid (out, &study));
    CHECK_STR (text, "grid points: 2, trials each 3-4\n"
                     "(too many points to list one by one)\n");
    free (text);
    text = s_compact (hpo_render_study_grid_json (&study));
    CHECK_CONTAINS (text, "\"points\":null");
    free (text);
    //  No grid: true parameters: no line.
    study.grid_points = 0;
    CAPTURE (text, hpo_render_study (out, &study));
    CHECK (!strstr (text, "grid points"));
    free (text);
}
