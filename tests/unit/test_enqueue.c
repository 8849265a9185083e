/*  test_enqueue: hpo enqueue's words checked against a study's space.   */
#include <stdlib.h>

#include "../../common/spec.h"
#include "../../coordinator/enqueue.h"
#include "testutil.h"

static const char *s_text =
    "name: e\n"
    "objective: {metric: loss}\n"
    "budget: {trials: 10}\n"
    "space:\n"
    "  lr: {type: float, low: 1.0e-5, high: 0.1, log: true}\n"
    "  layers: {type: int, low: 1, high: 9, step: 2}\n"
    "  opt: {type: categorical, values: [adam, sgd, 3]}\n"
    "  drop: {type: float, low: 0, high: 1, step: 0.25}\n";

//  Parses the words; returns the error (caller frees) or NULL, with the
//  values and mask in out and fixed.
static char *
s_parse (hpo_spec_t *spec, char **words, size_t n, hpo_value_t *out,
         uint8_t *fixed)
{
    char *error = NULL;
    memset (out, 0, spec->n_params * sizeof *out);
    memset (fixed, 0, spec->n_params);
    int rc = hpo_enqueue_parse (spec, words, n, out, fixed, &error);
    CHECK ((rc == 0) == (error == NULL));
    return error;
}

//  The words must be refused with a message containing expect.
static void
s_bad (hpo_spec_t *spec, char *word, const char *expect)
{
    hpo_value_t out[4];
    uint8_t fixed[4];
    char *error = s_parse (spec, &word, 1, out, fixed);
    CHECK_CONTAINS (error, expect);
    hpo_values_clear (out, spec->n_params);
    free (error);
}

int
main (void)
{
    char *error = NULL;
    hpo_spec_t *spec =
        hpo_spec_parse (s_text, strlen (s_text), "e.yaml", &error);
    CHECK (spec != NULL);
    if (!spec)
        return 1;
    hpo_value_t out[4];
    uint8_t fixed[4];
    char *words[] = {"lr=0.001", "layers=5", "opt=3", "drop=0.75"};
    CHECK (s_parse (spec, words, 4, out, fixed) == NULL);
    CHECK (fixed[0] && fixed[1] && fixed[2] && fixed[3]);
    CHECK (out[0].kind == HPO_KIND_FLOAT && out[0].f == 0.001);
    CHECK (out[1].kind == HPO_KIND_INT && out[1].i == 5);
    CHECK (out[2].kind == HPO_KIND_INT && out[2].i == 3);
    CHECK (out[3].f == 0.75);
    hpo_values_clear (out, 4);
    //  A partial configuration: the rest is the sampler's.
    char *some[] = {"opt=sgd"};
    CHECK (s_parse (spec, some, 1, out, fixed) == NULL);
    CHECK (!fixed[0] && !fixed[1] && fixed[2] && !fixed[3]);
    CHECK (out[2].kind == HPO_KIND_STR && !strcmp (out[2].s, "sgd"));
    hpo_values_clear (out, 4);
    s_bad (spec, "momentum=0.9", "enqueue: momentum: no such parameter");
    s_bad (spec, "lr=1", "lr: 1 is out of range");
    s_bad (spec, "lr=abc", "lr: 'abc' is not a number");
    s_bad (spec, "lr=nan", "lr: 'nan' is not a number");
    s_bad (spec, "layers=2", "layers: 2 is not on its step");
    s_bad (spec, "layers=3.5", "layers: '3.5' is not an integer");
    s_bad (spec, "opt=rmsprop", "opt: 'rmsprop' is not one of: adam, sgd, 3");
    s_bad (spec, "drop=0.3", "drop: 0.3 is not on its step");
    s_bad (spec, "lr", "'lr' is not NAME=VALUE");
    s_bad (spec, "=1", "'=1' is not NAME=VALUE");
    char *twice[] = {"lr=0.01", "lr=0.02"};
    error = s_parse (spec, twice, 2, out, fixed);
    CHECK_CONTAINS (error, "lr: given twice");
    free (error);
    hpo_values_clear (out, 4);
    hpo_spec_destroy (&spec);

    //  A conditional parameter needs its condition among the values
    //  given. (Set by hand until the parser reads when:.)
    spec = hpo_spec_parse (s_text, strlen (s_text), "e.yaml", &error);
    CHECK (spec != NULL);
    if (!spec)
        return 1;
    hpo_param_spec_t *drop = &spec->params[3];
    drop->when_param = 2;
    drop->when_values = calloc (1, sizeof *drop->when_values);
    drop->when_values[0] =
        (hpo_value_t){.kind = HPO_KIND_STR, .s = strdup ("sgd")};
    drop->n_when_values = 1;
    s_bad (spec, "drop=0.5", "drop: exists only for some values of opt");
    char *adam[] = {"opt=adam", "drop=0.5"};
    error = s_parse (spec, adam, 2, out, fixed);
    CHECK_CONTAINS (error, "drop: does not exist when opt");
    free (error);
    hpo_values_clear (out, 4);
    char *sgd[] = {"drop=0.5", "opt=sgd"};
    CHECK (s_parse (spec, sgd, 2, out, fixed) == NULL);
    hpo_values_clear (out, 4);
    hpo_spec_destroy (&spec);
    TEST_DONE ();
}
