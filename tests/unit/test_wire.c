#include "testutil.h"
int main (void) { CHECK (!"not yet written"); TEST_DONE (); }
