/*  fuzz_spec.c: libFuzzer target for the study-file parser, which the
    coordinator runs on every StudyCreate a client sends. The first byte
    picks the file name, and with it the mode: odd for strict JSON
    ("study.json"), even for YAML ("study.yaml"); the rest is the text. An
    error message is fine; only a sanitizer report or an assert is a bug. A
    study that parses is walked as the sampler and the worker walk it.   */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/spec.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *filename = (data[0] & 1) ? "study.json" : "study.yaml";
    //  Every caller (the CLI, the coordinator, the store's reload) hands
    //  the parser text with a NUL at text[len]: libfyaml needs it (it
    //  runs strtol on an alias's path, "*/-", and reads past an
    //  unterminated buffer; regressions/spec/alias-path-unterminated).
    //  An exact-size copy with that NUL, so ASan sees any read past it.
    char *text = hpo_malloc (size);
    memcpy (text, data + 1, size - 1);
    text[size - 1] = '\0';
    char *error = NULL;
    hpo_spec_t *spec = hpo_spec_parse (text, size - 1, filename, &error);
    if (spec) {
        if (error)
            abort (); //  success leaves no message behind
        for (size_t k = 0; k < spec->n_params; k++) {
            const hpo_param_spec_t *p = &spec->params[k];
            (void)hpo_param_grid_count (p);
            if (hpo_spec_param_index (spec, p->name) < 0)
                abort (); //  every parameter is found by its name
        }
        hpo_spec_destroy (&spec);
    } else if (!error)
        abort (); //  a refusal says why
    free (error);
    free (text);
    return 0;
}
