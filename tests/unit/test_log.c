/*  test_log.c: the one rate limiter for warnings a peer can provoke.     */
#include "../../common/log.h"
#include "testutil.h"

int
main (void)
{
    hpo_log_limit_t limit = {0};
    //  The first occurrence logs, even at time 0.
    CHECK (hpo_log_limit (&limit, 0, 1000) == 1);
    //  Then at most one line per interval; every occurrence is counted.
    CHECK (hpo_log_limit (&limit, 10, 1000) == 0);
    CHECK (hpo_log_limit (&limit, 999, 1000) == 0);
    CHECK (hpo_log_limit (&limit, 1000, 1000) == 1);
    CHECK (hpo_log_limit (&limit, 1500, 1000) == 0);
    CHECK (limit.count == 5);
    //  Time that starts far from 0 (monotonic clocks do) logs at once too.
    hpo_log_limit_t other = {0};
    CHECK (hpo_log_limit (&other, 123456789, 10000) == 1);
    CHECK (hpo_log_limit (&other, 123456790, 10000) == 0);
    CHECK_STR (HPO_LOG_TRIAL, "trial %s#%" PRIu64 " attempt %" PRIu32);
    TEST_DONE ();
}
