/*  test_tensorboard.c: hpo export --tensorboard's writer (cli/
    tensorboard.h): CRC-32C against RFC 3720's vectors, DIR refused when
    not empty, and --follow's updates: only what is new is appended, and
    a trial's new attempt starts its curve over.                          */
#include <dirent.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/tensorboard.h"
#include "common/log.h"
#include "tensorboard/event.pb-c.h"
#include "testutil.h"

static void
s_test_crc (void)
{
    CHECK (hpo_tb_crc32c ("123456789", 9) == 0xE3069283u);
    //  RFC 3720, B.4: 32 bytes of zeros, of ones, ascending.
    uint8_t bytes[32];
    memset (bytes, 0, sizeof bytes);
    CHECK (hpo_tb_crc32c (bytes, 32) == 0x8A9136AAu);
    memset (bytes, 0xFF, sizeof bytes);
    CHECK (hpo_tb_crc32c (bytes, 32) == 0x62A8AB43u);
    for (int k = 0; k < 32; k++)
        bytes[k] = (uint8_t)k;
    CHECK (hpo_tb_crc32c (bytes, 32) == 0x46DD794Eu);
    CHECK (hpo_tb_crc_mask (0) == 0xa282ead8u);
    CHECK (hpo_tb_crc_mask (1u << 15) == 0xa282ead8u + 1);
}

//  The scalars of the only events file under dir: their steps and tags,
//  as "tag@step" joined by spaces, into out. Returns the events read.
static int
s_read_run (const char *dir, char *out, size_t size)
{
    char *pattern = malloc (strlen (dir) + 32);
    sprintf (pattern, "%s/events.out.tfevents.*", dir);
    glob_t g;
    int n = -1;
    out[0] = '\0';
    if (glob (pattern, 0, NULL, &g) == 0 && g.gl_pathc == 1) {
        FILE *f = fopen (g.gl_pathv[0], "rb");
        uint8_t head[12], data[4096], crc[4];
        n = 0;
        while (f && fread (head, 1, 12, f) == 12) {
            uint64_t len = 0;
            for (int k = 7; k >= 0; k--)
                len = len << 8 | head[k];
            if (len > sizeof data || fread (data, 1, len, f) != len ||
                fread (crc, 1, 4, f) != 4)
                break;
            Tensorboard__Event *e =
                tensorboard__event__unpack (NULL, len, data);
            n++;
            if (e && e->what_case == TENSORBOARD__EVENT__WHAT_SUMMARY &&
                e->summary->value[0]->value_case ==
                    TENSORBOARD__SUMMARY__VALUE__VALUE_SIMPLE_VALUE) {
                size_t used = strlen (out);
                snprintf (out + used, size - used, "%s%s@%lld", used ? " " : "",
                          e->summary->value[0]->tag, (long long)e->step);
            }
            tensorboard__event__free_unpacked (e, NULL);
        }
        if (f)
            fclose (f);
    }
    globfree (&g);
    free (pattern);
    return n;
}

static Hpo__IntermediateValue *
s_value (int64_t step, const char *metric, double v, uint32_t attempt)
{
    Hpo__IntermediateValue *x = calloc (1, sizeof *x);
    hpo__intermediate_value__init (x);
    x->step = step;
    x->metric = (char *)metric;
    x->value = v;
    x->attempt = attempt;
    return x;
}

static void
s_test_follow (const char *root)
{
    char *dir = malloc (strlen (root) + 16);
    sprintf (dir, "%s/tb", root);
    char *why = NULL;
    hpo_tb_t *tb = hpo_tb_new (dir, &why);
    CHECK (tb && !why);

    Hpo__StudyInfo study = HPO__STUDY_INFO__INIT;
    study.name = "s";
    study.objective = "loss";
    study.spec = "";
    Hpo__Param p = HPO__PARAM__INIT;
    p.name = "x";
    p.kind = 1;
    p.f = 0.5;
    Hpo__Param *params[] = {&p};
    Hpo__TrialInfo t = HPO__TRIAL_INFO__INIT;
    t.number = 0;
    t.state = "RUNNING";
    t.attempt = 1;
    t.started = 100;
    t.n_params = 1;
    t.params = params;
    Hpo__IntermediateValue *values[] = {
        s_value (0, "loss", 1.0, 1),
        s_value (1, "loss", 0.5, 1),
        s_value (0, "loss", 0.9, 2),
        s_value (1, "loss", 0.4, 2),
    };
    t.values = values;
    t.n_values = 2;
    Hpo__TrialInfo *trials[] = {&t};
    Hpo__TrialList list = HPO__TRIAL_LIST__INIT;
    list.n_trials = 1;
    list.trials = trials;

    char run[64], got[512];
    sprintf (run, "%s/0", dir);
    CHECK (hpo_tb_first_open (tb) == 0);
    CHECK (hpo_tb_update (tb, &study, &list) == 0);
    CHECK (s_read_run (run, got, sizeof got) == 4); //  version, start
    CHECK (hpo_tb_first_open (tb) == 0);            //  trial 0 runs
    CHECK_STR (got, "loss@0 loss@1");
    //  Nothing new: nothing appended.
    CHECK (hpo_tb_update (tb, &study, &list) == 0);
    CHECK (s_read_run (run, got, sizeof got) == 4);
    //  Attempt 2 (attempt 1's values are gone from the store at these
    //  steps): its curve from step 0 again, then its end.
    t.attempt = 2;
    t.values = values + 2;
    t.n_values = 1;
    CHECK (hpo_tb_update (tb, &study, &list) == 0);
    CHECK_STR ((s_read_run (run, got, sizeof got), got),
               "loss@0 loss@1 loss@0");
    t.n_values = 2;
    t.state = "COMPLETE";
    t.has_value = 1;
    t.value = 0.4;
    t.ended = 200;
    CHECK (hpo_tb_update (tb, &study, &list) == 0);
    CHECK (s_read_run (run, got, sizeof got) == 8); //  + scalar, end
    CHECK_STR (got, "loss@0 loss@1 loss@0 loss@1 loss@1");
    CHECK (hpo_tb_first_open (tb) == 1);
    //  Ended: later updates add nothing.
    CHECK (hpo_tb_update (tb, &study, &list) == 0);
    CHECK (s_read_run (run, got, sizeof got) == 8);
    size_t runs, scalars;
    hpo_tb_counts (tb, &runs, &scalars);
    CHECK (runs == 1 && scalars == 5);
    //  A trial number past what an export keeps is refused, not grown
    //  into (a confused peer must not make it allocate gigabytes).
    t.number = 1ull << 40;
    t.state = "RUNNING";
    CHECK (hpo_tb_update (tb, &study, &list) == -1);
    CHECK (hpo_tb_finish (tb) == 0);
    CHECK (s_read_run (dir, got, sizeof got) == 2); //  version, experiment
    hpo_tb_destroy (&tb);
    CHECK (tb == NULL);

    //  The directory now holds files: a second export is refused.
    tb = hpo_tb_new (dir, &why);
    CHECK (!tb);
    CHECK_CONTAINS (why, "not empty");
    free (why);
    for (size_t k = 0; k < 4; k++)
        free (values[k]);
    free (dir);
}

int
main (void)
{
    hpo_log_init ("test_tensorboard", HPO_LOG_ERROR);
    s_test_crc ();
    char root[] = "/tmp/hpo-test-tb-XXXXXX";
    CHECK (mkdtemp (root) != NULL);
    s_test_follow (root);
    char *cmd = malloc (strlen (root) + 16);
    sprintf (cmd, "rm -rf '%s'", root);
    CHECK (system (cmd) == 0);
    free (cmd);
    TEST_DONE ();
}
