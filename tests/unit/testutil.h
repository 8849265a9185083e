/*  testutil.h: the unit tests' checks. Unlike assert() they never compile
    away, report file and line, and count failures so one run shows all.  */
#ifndef HPO_TESTUTIL_H
#define HPO_TESTUTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_failures = 0;
static int t_checks = 0;

#define CHECK(cond)                                                          \
    do {                                                                     \
        t_checks++;                                                          \
        if (!(cond)) {                                                       \
            fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__,          \
                     __LINE__, #cond);                                       \
            t_failures++;                                                    \
        }                                                                    \
    } while (0)

#define CHECK_STR(a, b)                                                      \
    do {                                                                     \
        const char *t_a = (a), *t_b = (b);                                   \
        t_checks++;                                                          \
        if (!t_a || !t_b || strcmp (t_a, t_b) != 0) {                        \
            fprintf (stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__,          \
                     __LINE__, t_a ? t_a : "(null)", t_b ? t_b : "(null)");  \
            t_failures++;                                                    \
        }                                                                    \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                          \
    do {                                                                     \
        const char *t_h = (hay), *t_n = (needle);                            \
        t_checks++;                                                          \
        if (!t_h || !strstr (t_h, t_n)) {                                    \
            fprintf (stderr, "%s:%d: \"%s\" does not contain \"%s\"\n",      \
                     __FILE__, __LINE__, t_h ? t_h : "(null)", t_n);         \
            t_failures++;                                                    \
        }                                                                    \
    } while (0)

#define CHECK_NEAR(a, b, eps) CHECK (fabs ((double) (a) - (double) (b)) <= (eps))

#define TEST_DONE()                                                          \
    do {                                                                     \
        printf ("%s: %d checks, %d failed\n", __FILE__, t_checks,            \
                t_failures);                                                 \
        return t_failures ? 1 : 0;                                           \
    } while (0)

#endif
