/*  spec.h: a study as its study file describes it, parsed and validated.

    Study files are YAML 1.2 (JSON is YAML, so JSON files parse too):

        name: mnist
        command: python3 train.py --lr {lr} --layers {layers}
        objective: {metric: val_loss, direction: minimize}
        sampler: {type: random, seed: 7}
        budget: {trials: 200, parallel: 16}
        trial: {timeout: 30m, retries: 2}
        space:
          lr:     {type: float, low: 1.0e-5, high: 1.0e-1, log: true}
          layers: {type: int, low: 1, high: 8}
          opt:    {type: categorical, values: [adam, sgd]}

    The parser is the only judge of what a valid study is: the CLI runs it
    to give the user early errors, and the coordinator runs it again on what
    arrives over the network before anything is stored.                    */
#ifndef HPO_SPEC_H
#define HPO_SPEC_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    HPO_KIND_FLOAT = 1,
    HPO_KIND_INT = 2,
    HPO_KIND_STR = 3,
} hpo_kind_t;

//  One parameter value. s is owned by whoever owns the value array
//  (hpo_values_free releases it).
typedef struct {
    hpo_kind_t kind;
    double f;
    int64_t i;
    char *s;
} hpo_value_t;

typedef enum {
    HPO_PARAM_FLOAT = 1,
    HPO_PARAM_INT = 2,
    HPO_PARAM_CATEGORICAL = 3,
} hpo_param_type_t;

typedef struct {
    char *name;                 //  [A-Za-z_][A-Za-z0-9_]*
    hpo_param_type_t type;
    double low, high;           //  float and int
    int log;                    //  sample uniformly in log space; low > 0
    int has_step;
    double step;                //  float and int: grid spacing / quantum
    //  Explicit values: always for categorical (each scalar typed as int,
    //  float or string by its YAML form); optional for float/int, where
    //  they are the grid's points.
    hpo_value_t *values;
    size_t n_values;
} hpo_param_spec_t;

typedef enum {
    HPO_SAMPLER_RANDOM = 1,
    HPO_SAMPLER_GRID = 2,
} hpo_sampler_type_t;

typedef struct {
    char *name;                 //  [A-Za-z0-9_.-]+, at most 128 bytes
    char *command;              //  template with {param} placeholders
    int shell;                  //  run with /bin/sh -c (command.shell)
    char *metric;               //  objective metric
    int maximize;               //  direction: maximize
    hpo_sampler_type_t sampler;
    uint64_t seed;              //  random: 0 when not given
    uint64_t trials;            //  budget; grid: min(trials, grid size)
    uint32_t parallel;          //  0: as many as workers take
    uint64_t timeout_ms;        //  0: no timeout
    uint64_t grace_ms;          //  SIGTERM to SIGKILL (default 10 s)
    uint32_t retries;           //  extra attempts after a lost or failed one
    hpo_param_spec_t *params;
    size_t n_params;
    uint64_t grid_size;         //  grid: product of the value counts
} hpo_spec_t;

//  Parses and validates a study file's text. filename is used in messages
//  only. On error returns NULL and sets *error to a malloc'd message that
//  names the file, the line and the key ("mnist.yaml:7: space.lr.low: ...");
//  the caller frees it.
hpo_spec_t *hpo_spec_parse (const char *text, size_t len, const char *filename,
                            char **error);
void hpo_spec_destroy (hpo_spec_t **self_p);

//  Index of the parameter named name, or -1.
int hpo_spec_param_index (const hpo_spec_t *self, const char *name);

//  Parses a duration: "90s", "30m", "2h", "1d", "500ms", or a plain number
//  of seconds ("1.5"). Returns 0 and sets *ms, or -1 if malformed.
int hpo_duration_parse (const char *text, uint64_t *ms);

//  Frees the strings inside an array of values (not the array).
void hpo_values_clear (hpo_value_t *values, size_t n);
//  Deep copy of one value.
void hpo_value_copy (hpo_value_t *dst, const hpo_value_t *src);
//  Formats a value as a command-line word: floats with %.17g trimmed to the
//  shortest form that round-trips. Returns a malloc'd string.
char *hpo_value_format (const hpo_value_t *value);

#endif
