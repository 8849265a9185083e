/*  test_asha.c: the asha and hyperband pruners against hand-worked cases. */
#include "testutil.h"

int
main (void)
{
    TEST_DONE ();
}
