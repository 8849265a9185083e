/*  samplers_fn.c: the benchmark's test functions (samplers_fn.h). The
    constants are the textbook ones (Branin-Hoo; Hartmann's 6-d function
    as in Dixon and Szegö; Rosenbrock's valley), with their usual
    bounds. Pure C and libm: this file is also a shared library loaded
    into Python, so it includes nothing else of hpo.                      */
#include <math.h>
#include <string.h>

#include "samplers_fn.h"

typedef double (s_eval_fn) (const double *x);

typedef struct {
    const char *name;
    const char *space;
    int continuous;
    double minimum;
    s_eval_fn *eval;
} s_fn_t;

static double
s_branin (const double *x)
{
    const double a = 1, b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, r = 6,
                 s = 10, t = 1 / (8 * M_PI);
    double u = x[1] - b * x[0] * x[0] + c * x[0] - r;
    return a * u * u + s * (1 - t) * cos (x[0]) + s;
}

static double
s_hartmann6 (const double *x)
{
    static const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
    static const double A[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                   {0.05, 10, 17, 0.1, 8, 14},
                                   {3, 3.5, 1.7, 10, 17, 8},
                                   {17, 8, 0.05, 10, 0.1, 14}};
    static const double P[4][6] = {{1312, 1696, 5569, 124, 8283, 5886},
                                   {2329, 4135, 8307, 3736, 1004, 9991},
                                   {2348, 1451, 3522, 2883, 3047, 6650},
                                   {4047, 8828, 8732, 5743, 1091, 381}};
    double sum = 0;
    for (int i = 0; i < 4; i++) {
        double inner = 0;
        for (int j = 0; j < 6; j++) {
            double d = x[j] - P[i][j] * 1e-4;
            inner += A[i][j] * d * d;
        }
        sum += alpha[i] * exp (-inner);
    }
    return -sum;
}

static double
s_rosenbrock10 (const double *x)
{
    double sum = 0;
    for (int i = 0; i < 9; i++) {
        double a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
        sum += 100 * a * a + b * b;
    }
    return sum;
}

//  A training run's loss, as a caricature: the best learning rate
//  depends on the optimiser, sgd wins only with a good momentum (which
//  exists only for sgd), and depth and width have a sweet spot. The
//  minimum, 0, is at layers 5, units 64, sgd, lr 1e-2, momentum 0.9.
static double
s_mixed (const double *x)
{
    static const double best_lr[3] = {-3.0, -2.0, -3.5}; //  log10
    static const double cost[3] = {0.2, 0.0, 0.4};
    double layers = x[0], units = x[1], lr = x[2], momentum = x[4];
    int opt = (int)x[3];
    if (opt < 0 || opt > 2 || (opt == 1) == isnan (momentum))
        return NAN;
    double a = log10 (lr) - best_lr[opt], w = log2 (units) - 6;
    double f = a * a / 4 + 0.05 * (layers - 5) * (layers - 5) + 0.1 * w * w +
               cost[opt];
    if (opt == 1)
        f += 4 * (momentum - 0.9) * (momentum - 0.9);
    return f;
}

static double
s_sphere4 (const double *x)
{
    double sum = 0;
    for (int i = 0; i < 4; i++)
        sum += x[i] * x[i];
    return sum;
}

//  Spaces are written out in full, one parameter a line, so that what
//  each side reads is plain to see.
static const s_fn_t s_fns[] = {
    {"branin",
     "{\"x1\": {\"type\": \"float\", \"low\": -5, \"high\": 10}, "
     "\"x2\": {\"type\": \"float\", \"low\": 0, \"high\": 15}}",
     1, 0.397887357729739, s_branin},
    {"hartmann6",
     "{\"x1\": {\"type\": \"float\", \"low\": 0, \"high\": 1}, "
     "\"x2\": {\"type\": \"float\", \"low\": 0, \"high\": 1}, "
     "\"x3\": {\"type\": \"float\", \"low\": 0, \"high\": 1}, "
     "\"x4\": {\"type\": \"float\", \"low\": 0, \"high\": 1}, "
     "\"x5\": {\"type\": \"float\", \"low\": 0, \"high\": 1}, "
     "\"x6\": {\"type\": \"float\", \"low\": 0, \"high\": 1}}",
     1, -3.32236801141551, s_hartmann6},
    {"rosenbrock10",
     "{\"x1\": {\"type\": \"float\", \"low\": -5, \"high\": 10}, "
     "\"x2\": {\"type\": \"float\", \"low\": -5, \"high\": 10}, "
     "\"x3\": {\"type\": \"float\", \"low\": -5, \"high\": 10}, "
     "\"x4\": {\"type\": \"float\", \"low\": -5, \"high\": 10}, "
     "\"x5\": {\"type\": \"float\", \"low\": -5, \"high\": 10}, "
     "\"x6\": {\"type\": \"float\", \"low\": -5, \"high\": 10}, "
     "\"x7\": {\"type\": \"float\", \"low\": -5, \"high\": 10}, "
     "\"x8\": {\"type\": \"float\", \"low\": -5, \"high\": 10}, "
     "\"x9\": {\"type\": \"float\", \"low\": -5, \"high\": 10}, "
     "\"x10\": {\"type\": \"float\", \"low\": -5, \"high\": 10}}",
     1, 0, s_rosenbrock10},
    {"mixed",
     "{\"layers\": {\"type\": \"int\", \"low\": 1, \"high\": 8}, "
     "\"units\": {\"type\": \"int\", \"low\": 8, \"high\": 512, "
     "\"log\": true}, "
     "\"lr\": {\"type\": \"float\", \"low\": 1e-5, \"high\": 0.1, "
     "\"log\": true}, "
     "\"opt\": {\"type\": \"categorical\", "
     "\"values\": [\"adam\", \"sgd\", \"rmsprop\"]}, "
     "\"momentum\": {\"type\": \"float\", \"low\": 0, \"high\": 0.99, "
     "\"when\": {\"opt\": \"sgd\"}}}",
     0, 0, s_mixed},
    //  The speed benchmark's space: four floats, as in the issue's
    //  figure for Optuna.
    {"sphere4",
     "{\"x1\": {\"type\": \"float\", \"low\": -5, \"high\": 5}, "
     "\"x2\": {\"type\": \"float\", \"low\": -5, \"high\": 5}, "
     "\"x3\": {\"type\": \"float\", \"low\": -5, \"high\": 5}, "
     "\"x4\": {\"type\": \"float\", \"low\": -5, \"high\": 5}}",
     1, 0, s_sphere4},
};
#define S_NFNS (int)(sizeof s_fns / sizeof s_fns[0])

int
hpo_bench_fn_count (void)
{
    return S_NFNS;
}

const char *
hpo_bench_fn_name (int k)
{
    return k >= 0 && k < S_NFNS ? s_fns[k].name : NULL;
}

int
hpo_bench_fn_find (const char *name)
{
    for (int k = 0; k < S_NFNS; k++)
        if (!strcmp (s_fns[k].name, name))
            return k;
    return -1;
}

const char *
hpo_bench_fn_space (int k)
{
    return k >= 0 && k < S_NFNS ? s_fns[k].space : NULL;
}

int
hpo_bench_fn_continuous (int k)
{
    return k >= 0 && k < S_NFNS && s_fns[k].continuous;
}

double
hpo_bench_fn_minimum (int k)
{
    return k >= 0 && k < S_NFNS ? s_fns[k].minimum : NAN;
}

double
hpo_bench_fn_eval (int k, const double *x)
{
    return k >= 0 && k < S_NFNS ? s_fns[k].eval (x) : NAN;
}
