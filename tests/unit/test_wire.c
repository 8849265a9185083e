/*  test_wire: round trips, and garbage, oversized, wrong-version and
    bodiless input refused with the right reason.                        */
#include <stdlib.h>

#include "../../common/mem.h"
#include "../../common/rng.h"
#include "../../common/utf8.h"
#include "../../common/wire.h"
#include "testutil.h"

int
main (void)
{
    //  Round trip of a report.
    Hpo__Metric m1 = HPO__METRIC__INIT, m2 = HPO__METRIC__INIT;
    m1.name = "loss";
    m1.value = 0.25;
    m2.name = "acc";
    m2.value = 0.75;
    Hpo__Metric *metrics[] = {&m1, &m2};
    Hpo__Report report = HPO__REPORT__INIT;
    report.trial_id = 42;
    report.attempt = 3;
    report.has_step = 1;
    report.step = 7;
    report.n_metrics = 2;
    report.metrics = metrics;
    hpo_env_t env;
    hpo_wire_init (&env, 99);
    env.body_case = HPO__ENVELOPE__BODY_REPORT;
    env.report = &report;
    size_t size;
    uint8_t *buf = hpo_wire_encode (&env, &size);
    hpo_wire_status_t status;
    hpo_env_t *back = hpo_wire_decode (buf, size, &status);
    CHECK (back != NULL);
    CHECK (status == HPO_WIRE_OK);
    CHECK (back->seq == 99);
    CHECK (back->body_case == HPO__ENVELOPE__BODY_REPORT);
    CHECK (back->report->trial_id == 42 && back->report->attempt == 3);
    CHECK (back->report->n_metrics == 2);
    CHECK_STR (back->report->metrics[1]->name, "acc");
    hpo_wire_free (&back);
    CHECK (back == NULL);

    //  In an arena: the same envelope, many times over (more than one
    //  chunk), and garbage; all released at once at the end.
    hpo_wire_arena_begin ();
    for (int k = 0; k < 20000; k++) {
        hpo_env_t *a = hpo_wire_decode (buf, size, &status);
        CHECK (a && a->report->n_metrics == 2);
        if (a && k == 19999)
            CHECK_STR (a->report->metrics[0]->name, "loss");
        hpo_wire_free (&a);
        CHECK (a == NULL);
    }
    CHECK (hpo_wire_decode (buf, 3, &status) == NULL);
    hpo_wire_arena_end ();
    hpo_wire_arena_begin ();
    back = hpo_wire_decode (buf, size, &status);
    CHECK (back && back->report->trial_id == 42);
    hpo_wire_free (&back);
    hpo_wire_arena_end ();

    //  Wrong version.
    env.version = HPO_WIRE_VERSION + 1;
    uint8_t *buf2 = hpo_wire_encode (&env, &size);
    CHECK (hpo_wire_decode (buf2, size, &status) == NULL);
    CHECK (status == HPO_WIRE_BAD_VERSION);
    free (buf2);

    //  No body.
    hpo_env_t empty;
    hpo_wire_init (&empty, 1);
    buf2 = hpo_wire_encode (&empty, &size);
    CHECK (hpo_wire_decode (buf2, size, &status) == NULL);
    CHECK (status == HPO_WIRE_NO_BODY);
    free (buf2);

    //  Oversized: refused before any decoding.
    CHECK (hpo_wire_decode (buf, HPO_WIRE_MAX_BYTES + 1, &status) == NULL);
    CHECK (status == HPO_WIRE_TOO_LARGE);
    //  A client raises its limit; what is over it is still refused.
    hpo_wire_set_limit (64);
    CHECK (hpo_wire_limit () == 64);
    CHECK (hpo_wire_decode (buf, 65, &status) == NULL);
    CHECK (status == HPO_WIRE_TOO_LARGE);
    hpo_wire_set_limit (HPO_WIRE_MAX_BYTES);
    free (buf);

    //  Garbage of every length up to 512 bytes, many times: never a crash,
    //  never an accepted envelope without a body, never a wrong version.
    hpo_rng_t rng;
    hpo_rng_seed (&rng, 1, 0);
    uint8_t junk[512];
    int accepted = 0;
    for (int round = 0; round < 20000; round++) {
        size_t n = hpo_rng_below (&rng, sizeof junk + 1);
        for (size_t k = 0; k < n; k++)
            junk[k] = (uint8_t)hpo_rng_next (&rng);
        hpo_env_t *e = hpo_wire_decode (junk, n, &status);
        if (e) {
            CHECK (e->version == HPO_WIRE_VERSION);
            CHECK (e->body_case != HPO__ENVELOPE__BODY__NOT_SET);
            accepted++;
            hpo_wire_free (&e);
        } else
            CHECK (status != HPO_WIRE_OK);
    }
    printf ("random garbage: %d of 20000 decoded to a valid envelope\n",
            accepted);

    //  Params between domain and wire forms.
    char *names[] = {"lr", "layers", "opt"};
    hpo_value_t values[3] = {
        {.kind = HPO_KIND_FLOAT, .f = 0.001},
        {.kind = HPO_KIND_INT, .i = 4},
        {.kind = HPO_KIND_STR, .s = "adam"},
    };
    Hpo__Param **params = hpo_wire_params_new (names, values, 3);
    hpo_value_t got;
    CHECK (hpo_wire_param_get (params[0], &got) == 0);
    CHECK (got.kind == HPO_KIND_FLOAT && got.f == 0.001);
    CHECK (hpo_wire_param_get (params[1], &got) == 0);
    CHECK (got.kind == HPO_KIND_INT && got.i == 4);
    CHECK (hpo_wire_param_get (params[2], &got) == 0);
    CHECK (got.kind == HPO_KIND_STR);
    CHECK_STR (got.s, "adam");
    free (got.s);
    params[0]->kind = 9;
    CHECK (hpo_wire_param_get (params[0], &got) == -1);
    hpo_wire_params_free (params, 3);

    //  UTF-8: peers' strings are cleaned before they are echoed or stored.
    CHECK (hpo_utf8_valid ("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 14));
    const char *bad[] = {
        "\xC3",             //  cut short
        "\xC0\xAF",         //  overlong '/'
        "\xE0\x80\xAF",     //  overlong
        "\xED\xA0\x80",     //  surrogate
        "\xF4\x90\x80\x80", //  past U+10FFFF
        "\xFF",             //  never valid
        "\x80",             //  a continuation alone
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        CHECK (!hpo_utf8_valid (bad[k], strlen (bad[k])));
        char *clean = hpo_utf8_clean (bad[k], 0);
        CHECK (hpo_utf8_valid (clean, strlen (clean)));
        CHECK_CONTAINS (clean, "\xEF\xBF\xBD");
        free (clean);
    }
    char *clean = hpo_utf8_clean ("ok \xFF end", 0);
    CHECK_STR (clean, "ok \xEF\xBF\xBD end");
    free (clean);
    clean = hpo_utf8_clean ("caf\xC3\xA9", 0);
    CHECK_STR (clean, "caf\xC3\xA9");
    free (clean);
    //  Cut to max bytes, never inside a character.
    clean = hpo_utf8_clean ("caf\xC3\xA9", 4);
    CHECK_STR (clean, "caf");
    free (clean);
    clean = hpo_utf8_clean ("\xFF\xFF", 4);
    CHECK_STR (clean, "\xEF\xBF\xBD");
    free (clean);
    clean = hpo_utf8_clean (NULL, 10);
    CHECK_STR (clean, "");
    free (clean);
    TEST_DONE ();
}
