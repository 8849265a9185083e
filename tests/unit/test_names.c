/*  test_names.c: the one name rule of each kind (common/names.h). The
    study rule is what keeps "." and ".." from reaching a worker, which
    would refuse every trial of such a study.                             */
#include "common/names.h"
#include "common/utf8.h"
#include "testutil.h"

static char *
s_repeat (char c, size_t n)
{
    char *s = malloc (n + 1);
    memset (s, c, n);
    s[n] = 0;
    return s;
}

static void
s_test_study (void)
{
    CHECK (hpo_name_study_ok ("mnist"));
    CHECK (hpo_name_study_ok ("a.b-c_D9"));
    CHECK (hpo_name_study_ok ("..."));
    CHECK (hpo_name_study_ok (".hidden"));
    CHECK (hpo_name_study_ok ("a..b"));
    CHECK (!hpo_name_study_ok ("."));
    CHECK (!hpo_name_study_ok (".."));
    CHECK (!hpo_name_study_ok (""));
    CHECK (!hpo_name_study_ok (NULL));
    CHECK (!hpo_name_study_ok ("a/b"));
    CHECK (!hpo_name_study_ok ("../x"));
    CHECK (!hpo_name_study_ok ("a b"));
    CHECK (!hpo_name_study_ok ("caf\xc3\xa9"));
    CHECK (!hpo_name_study_ok ("\xff"));
    char *name = s_repeat ('a', 128);
    CHECK (hpo_name_study_ok (name));
    free (name);
    name = s_repeat ('a', 129);
    CHECK (!hpo_name_study_ok (name));
    CHECK_STR (hpo_name_study_problem (name, 129), "must be at most 128 bytes");
    free (name);
    CHECK_STR (hpo_name_study_problem (".", 1), "must not be . or ..");
    CHECK_STR (hpo_name_study_problem ("..", 2), "must not be . or ..");
    CHECK_STR (hpo_name_study_problem ("", 0), "must not be empty");
    CHECK_STR (hpo_name_study_problem ("a/b", 3),
               "may hold only letters, digits, '_', '.' and '-'");
    //  Bytes and a length: a NUL inside is judged, not a terminator.
    CHECK (hpo_name_study_problem ("a\0b", 3) != NULL);
    CHECK (hpo_name_study_problem ("ab", 2) == NULL);
}

static void
s_test_param (void)
{
    CHECK (hpo_name_param_ok ("lr"));
    CHECK (hpo_name_param_ok ("_x9"));
    CHECK (!hpo_name_param_ok ("9x"));
    CHECK (!hpo_name_param_ok (""));
    CHECK (!hpo_name_param_ok (NULL));
    CHECK (!hpo_name_param_ok ("a-b"));
    CHECK (!hpo_name_param_ok ("a.b"));
    CHECK (!hpo_name_param_ok ("a/b"));
    CHECK (!hpo_name_param_ok ("."));
    CHECK (!hpo_name_param_ok ("\xc3\xa9"));
    char *name = s_repeat ('p', 64);
    CHECK (hpo_name_param_ok (name));
    free (name);
    name = s_repeat ('p', 65);
    CHECK (!hpo_name_param_ok (name));
    free (name);
    CHECK (hpo_name_param_problem ("a\0", 2) != NULL);
}

static void
s_test_metric (void)
{
    CHECK (hpo_name_metric_ok ("val/loss"));
    CHECK (hpo_name_metric_ok ("top-1:acc.x_y"));
    CHECK (hpo_name_metric_ok ("step"));
    CHECK (!hpo_name_metric_ok (""));
    CHECK (!hpo_name_metric_ok ("a b"));
    CHECK (!hpo_name_metric_ok ("a=b"));
    CHECK (!hpo_name_metric_ok ("\xc3\xa9"));
    char *name = s_repeat ('m', 128);
    CHECK (hpo_name_metric_ok (name));
    free (name);
    name = s_repeat ('m', 129);
    CHECK (!hpo_name_metric_ok (name));
    free (name);
    //  A NUL inside is refused: strchr ("_.:/-", 0) finds the terminator,
    //  which once let "a\0b" pass as a metric name.
    CHECK (hpo_name_metric_problem ("a\0b", 3) != NULL);
}

static void
s_test_worker (void)
{
    CHECK (hpo_name_worker_ok ("gpu-node-1"));
    CHECK (hpo_name_worker_ok ("slurm-42-node 7"));
    CHECK (hpo_name_worker_ok ("n\xc5\x93ud-\xe2\x82\xac-\xf0\x9f\x98\x80"));
    CHECK (!hpo_name_worker_ok (""));
    CHECK (!hpo_name_worker_ok (NULL));
    CHECK (!hpo_name_worker_ok ("a\nb"));
    CHECK (!hpo_name_worker_ok ("a\x1b[2Jb"));
    CHECK (!hpo_name_worker_ok ("a\x7f"));
    CHECK (!hpo_name_worker_ok ("a\xc2\x85"));        //  U+0085, a C1 control
    CHECK (!hpo_name_worker_ok ("\xff"));             //  never in UTF-8
    CHECK (!hpo_name_worker_ok ("\xc3"));             //  cut short
    CHECK (!hpo_name_worker_ok ("\xc0\xaf"));         //  overlong '/'
    CHECK (!hpo_name_worker_ok ("\xe0\x80\xaf"));     //  overlong '/'
    CHECK (!hpo_name_worker_ok ("\xed\xa0\x80"));     //  a surrogate
    CHECK (!hpo_name_worker_ok ("\xf4\x90\x80\x80")); //  past U+10FFFF
    CHECK_STR (hpo_name_worker_problem ("\xff", 1), "must be valid UTF-8");
    char *name = s_repeat ('w', 255);
    CHECK (hpo_name_worker_ok (name));
    free (name);
    name = s_repeat ('w', 256); //  the 300-byte --name of issue #10
    CHECK (!hpo_name_worker_ok (name));
    CHECK_STR (hpo_name_worker_problem (name, 256),
               "must be at most 255 bytes");
    free (name);
}

static void
s_test_utf8 (void)
{
    CHECK (hpo_utf8_prefix ("", 0) == 0);
    CHECK (hpo_utf8_prefix ("abc", 3) == 3);
    CHECK (hpo_utf8_prefix ("a\0b", 3) == 3);
    CHECK (hpo_utf8_prefix ("caf\xc3\xa9", 5) == 5);
    CHECK (hpo_utf8_prefix ("caf\xc3", 4) == 3);
    CHECK (hpo_utf8_prefix ("%\x8b", 2) == 1);
    CHECK (hpo_utf8_prefix ("\xf0\x9f\x98\x80!", 5) == 5);
    CHECK (hpo_utf8_prefix ("x\xed\xa0\x80", 4) == 1);
    CHECK (hpo_utf8_prefix ("\xef\xbb\xbf", 3) == 3);
}

//  A study's env names (issue #9): identifiers, hpo's own kept for hpo.
//  A constructor, so main's list stays as it is.
__attribute__ ((constructor)) static void
s_test_env (void)
{
    CHECK (hpo_name_env_ok ("OMP_NUM_THREADS"));
    CHECK (hpo_name_env_ok ("_x1"));
    CHECK (hpo_name_env_ok ("HPO"));
    CHECK (hpo_name_env_ok ("HPOX_A"));
    CHECK (!hpo_name_env_ok (NULL));
    CHECK (!hpo_name_env_ok (""));
    CHECK (!hpo_name_env_ok ("1A"));
    CHECK (!hpo_name_env_ok ("A-B"));
    CHECK (!hpo_name_env_ok ("A=B"));
    CHECK_STR (hpo_name_env_problem ("HPO_TRIAL", 9),
               "starts with HPO_, which hpo keeps for its own variables");
    CHECK_STR (hpo_name_env_problem ("HPO_", 4),
               "starts with HPO_, which hpo keeps for its own variables");
    char longest[HPO_NAME_ENV_MAX + 2];
    memset (longest, 'A', sizeof longest);
    longest[HPO_NAME_ENV_MAX] = 0;
    CHECK (hpo_name_env_ok (longest));
    longest[HPO_NAME_ENV_MAX] = 'A';
    longest[HPO_NAME_ENV_MAX + 1] = 0;
    CHECK_STR (hpo_name_env_problem (longest, HPO_NAME_ENV_MAX + 1),
               "must be at most 128 bytes");
    //  The bytes given, not the C string: "A\0B" is no name.
    CHECK (hpo_name_env_problem ("A\0B", 3) != NULL);
}

int
main (void)
{
    s_test_study ();
    s_test_param ();
    s_test_metric ();
    s_test_worker ();
    s_test_utf8 ();
    TEST_DONE ();
}
