/*  fuzz_wire.c: libFuzzer target for the wire decoder. Any bytes may
    arrive on the coordinator's port; hpo_wire_decode must refuse what is
    not an envelope and decode what is, without reading or writing out of
    bounds. A refusal is fine; only a sanitizer report or an assert is a
    bug. Decoded envelopes are re-encoded and decoded again, and their
    parameters converted as the worker converts an Assign's, to walk every
    field.                                                               */
#include <stdint.h>
#include <stdlib.h>

#include "common/wire.h"

static void
s_walk_params (Hpo__Param **params, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        hpo_value_t value;
        if (hpo_wire_param_get (params[k], &value) == 0)
            hpo_values_clear (&value, 1);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    hpo_wire_status_t status;
    //  Without the arena: each field is its own allocation, so ASan sees
    //  an overrun of any of them.
    hpo_env_t *env = hpo_wire_decode (data, size, &status);
    if (!env) {
        if (status == HPO_WIRE_OK)
            abort (); //  NULL must say why
        (void)hpo_wire_status_str (status);
        return 0;
    }
    size_t packed_size;
    uint8_t *packed = hpo_wire_encode (env, &packed_size);
    //  Not checked: that it decodes again. protobuf-c keeps unknown
    //  fields, and accepts an over-long varint tag for field 0, which it
    //  then packs as a one-byte tag it refuses (fuzz_wire found this).
    //  The coordinator never re-encodes what it receives.
    hpo_env_t *again = hpo_wire_decode (packed, packed_size, &status);
    hpo_wire_free (&again);
    free (packed);
    if (env->body_case == HPO__ENVELOPE__BODY_ASSIGN)
        s_walk_params (env->assign->params, env->assign->n_params);
    hpo_wire_free (&env);
    return 0;
}
