/*  test_guard: work run in a guard child comes back as a result, an
    error, a crash or a timeout, and never takes the caller down.        */
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/mem.h"
#include "coordinator/guard.h"
#include "testutil.h"

static int
s_ok (void *arg, char **error)
{
    return 0;
}

static int
s_refuse (void *arg, char **error)
{
    *error = hpo_sprintf ("study.yaml:3: %s: must be a number", (char *)arg);
    return -1;
}

static int
s_abort (void *arg, char **error)
{
    abort ();
}

static int
s_kill (void *arg, char **error)
{
    raise (SIGKILL);
    return 0;
}

static int
s_spin (void *arg, char **error)
{
    volatile uint64_t n = 0;
    for (;;)
        n++;
    return 0;
}

static int
s_long_error (void *arg, char **error)
{
    char *text = hpo_malloc (100000);
    memset (text, 'x', 99999);
    text[99999] = '\0';
    *error = text;
    return -1;
}

int
main (void)
{
    char *error = NULL;
    CHECK (hpo_guard_run (s_ok, NULL, "the parser", 2000, &error) == 0);
    CHECK (error == NULL);

    CHECK (hpo_guard_run (s_refuse, "space.lr.high", "the parser", 2000,
                          &error) == -1);
    CHECK_STR (error, "study.yaml:3: space.lr.high: must be a number");
    free (error);

    CHECK (hpo_guard_run (s_abort, NULL, "the parser", 2000, &error) == -1);
    CHECK_CONTAINS (error, "the parser crashed");
    free (error);

    CHECK (hpo_guard_run (s_kill, NULL, "the parser", 2000, &error) == -1);
    CHECK_CONTAINS (error, "the parser crashed (signal 9");
    free (error);

    //  A spinning child is stopped at the wall-clock limit, and the
    //  caller gets control back about then.
    int64_t t0 = hpo_clock_mono_ms ();
    CHECK (hpo_guard_run (s_spin, NULL, "the parser", 300, &error) == -1);
    int64_t took = hpo_clock_mono_ms () - t0;
    CHECK_CONTAINS (error, "the parser took longer than 300 ms");
    CHECK (took >= 300 && took < 5000);
    free (error);

    //  A long message is cut, not a failure.
    CHECK (hpo_guard_run (s_long_error, NULL, "the parser", 2000, &error) ==
           -1);
    CHECK (error && strlen (error) == 4096 && error[0] == 'x');
    free (error);
    TEST_DONE ();
}
