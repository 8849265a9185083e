/*  spec.h: a study as its study file describes it, parsed and validated.

    Study files are YAML 1.2 (JSON is YAML, so JSON files parse too):

        name: mnist
        command: python3 train.py --lr {lr} --layers {layers}
        objective: {metric: val_loss, direction: minimize, value: last}
        sampler: {type: random, seed: 7}
        pruner: {type: none}
        budget: {trials: 200, parallel: 16}
        trial: {timeout: 30m, retries: 2}
        workdir: /home/me/mnist
        env: {CUDA_VISIBLE_DEVICES: 0, OMP_NUM_THREADS: 4}
        space:
          lr:     {type: float, low: 1.0e-5, high: 1.0e-1, log: true}
          layers: {type: int, low: 1, high: 8}
          opt:    {type: categorical, values: [adam, sgd], grid: true}
          mom:    {type: float, low: 0.5, high: 0.99, when: {opt: sgd}}
          wd:     {type: float, low: 1.0e-6, high: 1.0e-2, log: true,
                   points: 5}

    when: makes a parameter conditional (when_param, when_values below),
    grid: true sweeps it in a study whose sampler draws the rest (hybrid
    search, search/suggest.h), and points: N writes a range out as N
    values, evenly spaced in log space when log is true.

    The parser is the only judge of what a valid study is: the CLI runs it
    to give the user early errors, and the coordinator runs it again on what
    arrives over the network before anything is stored.                    */
#ifndef HPO_SPEC_H
#define HPO_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "../search/pruner.h"
#include "../search/sampler.h"
#include "value.h"

//  Limits on what one study may hold. The coordinator parses a study on
//  its loop, sends each trial's parameters in one message, and a worker
//  passes them in one argv and environment; beyond these a study is far
//  more likely a generated mistake than a search anyone can run.
//  Parameters: a space of more than a thousand dimensions is beyond what
//  random or grid search explores, and every trial carries all of them.
#define HPO_SPEC_MAX_PARAMS 1024
//  Values in one parameter's list.
#define HPO_SPEC_MAX_VALUES 10000
//  Bytes in the command template. Linux refuses a single argument over
//  128 KiB, which is what the whole command is with shell: true; half of
//  that leaves room for the values substituted into it.
#define HPO_SPEC_MAX_COMMAND 65536
//  Points in a grid: the product of its parameters' counts.
#define HPO_SPEC_MAX_GRID 1000000000ULL
//  Points of a hybrid search's grid (the grid: true parameters): the
//  coordinator keeps counts for each, and hpo study show lists them.
#define HPO_SPEC_MAX_HYBRID 1000000ULL
//  Bytes in the study file. A study at the limits above is far smaller
//  (1024 parameters take about 60 KB); this bounds the time loading one
//  takes on the coordinator's loop to about 0.1 s.
#define HPO_SPEC_MAX_BYTES (1u << 20)
//  The workdir, in bytes: Linux's PATH_MAX.
#define HPO_SPEC_MAX_WORKDIR 4096
//  Variables in env, and bytes in one's value. Linux refuses one
//  environment string over 128 KiB, and all of them together (with the
//  arguments) past a quarter of the stack limit, 2 MiB by default.
#define HPO_SPEC_MAX_ENV 256
#define HPO_SPEC_MAX_ENV_VALUE 32768

typedef enum {
    HPO_PARAM_FLOAT = 1,
    HPO_PARAM_INT = 2,
    HPO_PARAM_CATEGORICAL = 3,
} hpo_param_type_t;

typedef struct {
    char *name;                 //  hpo_name_param_ok (names.h)
    hpo_param_type_t type;
    double low, high;           //  float and int; with values, their
                                //  smallest and largest
    int log;                    //  sample uniformly in log space; low > 0
    int has_step;
    double step;                //  float and int: grid spacing / quantum
    //  Explicit values: always for categorical (each scalar typed as int,
    //  float or string by its YAML form); optional for float/int, where
    //  they are the grid's points (points: N writes a range out here).
    hpo_value_t *values;
    size_t n_values;
    //  values' lookup table for hpo_param_value_index (index + 1 per
    //  slot, 0: empty), built by the parser; NULL in a spec built by
    //  hand, whose values are then searched in order.
    uint32_t *value_slots;
    size_t n_value_slots;
    //  grid: true: in a study whose sampler is not grid, this parameter
    //  is swept exhaustively and the others are sampled (hybrid search,
    //  search/suggest.h). It has a finite grid and no when:.
    int grid;
    //  when: {PARAM: VALUE or [VALUES]}: the parameter exists only in
    //  trials where parameter when_param (declared earlier in the space,
    //  and existing itself) has one of these values. when_param is -1
    //  for a parameter that always exists.
    int when_param;
    hpo_value_t *when_values;
    size_t n_when_values;
} hpo_param_spec_t;

//  objective.value: which of a trial's reported values of the objective
//  becomes its value. The worker's final value is always a candidate;
//  besides it, the attempt's intermediate values at each step.
typedef enum {
    HPO_SPEC_VALUE_LAST = 0, //  the final value, as the worker reports it
    HPO_SPEC_VALUE_BEST,     //  the lowest, or highest when maximizing
    HPO_SPEC_VALUE_MIN,
    HPO_SPEC_VALUE_MAX,
} hpo_spec_value_t;

//  hpo_spec_t is declared in search/search.h, for samplers and pruners.
struct _hpo_spec_t {
    char *name;                 //  hpo_name_study_ok (names.h)
    char *command;              //  template with {param} placeholders
    int shell;                  //  run with /bin/sh -c (command.shell)
    char *metric;               //  objective metric
    int maximize;               //  direction: maximize
    hpo_spec_value_t value;     //  objective.value: which reported value
                                //  is the trial's (default last)
    struct {
        const hpo_sampler_ops_t *ops;   //  search/sampler.h
        void *config;                   //  ops->check's; freed with the spec
    } sampler;
    struct {
        const hpo_pruner_ops_t *ops;    //  search/pruner.h; none by default
        void *config;
        //  The pruner under wrapped: of one that wraps another (patient),
        //  else NULL; the wrapping pruner's new makes its instance.
        const hpo_pruner_ops_t *wrapped_ops;
        void *wrapped_config;
    } pruner;
    uint64_t trials;            //  budget: min(trials, sampler's size)
    uint32_t parallel;          //  0: as many as workers take
    uint32_t fail_fast;         //  the study FAILS when its first this
                                //  many trials all failed (default 5;
                                //  0: never)
    uint64_t max_failed;        //  ... or after this many failures in
                                //  all (0: no limit)
    uint64_t timeout_ms;        //  0: no timeout
    uint64_t grace_ms;          //  SIGTERM to SIGKILL (default 10 s)
    uint32_t retries;           //  extra attempts after the program failed
    uint32_t max_lost;          //  attempts lost to the worker that are
                                //  re-run (default 3); never uses retries
    hpo_param_spec_t *params;
    size_t n_params;
    //  The directory the command runs in, absolute or relative to the
    //  worker's; NULL: the worker's own.
    char *workdir;
    //  Variables added to the trial's environment, "NAME=VALUE", names
    //  by hpo_name_env_ok (names.h), none repeated, in file order.
    char **env;
    size_t n_env;
    //  metrics: {source: stdout, pattern: REGEX}: the program's metrics
    //  are its stdout lines, matched by common/linepat.h; the pattern is
    //  NULL for the default (NAME=VALUE words). 0: the report descriptor.
    int metrics_stdout;
    char *metrics_pattern;
};

//  Parses and validates a study file's text. filename is used in messages
//  only; a name ending in ".json" parses the text in strict JSON mode. On
//  error returns NULL and sets *error to a malloc'd message that names the
//  file, the line (1-based) and the key path, the caller frees it:
//
//      mnist.yaml:7: space.lr.low: must be a number
//      mnist.yaml:9: space.opt.values[2]: duplicate value
//      mnist.yaml:3: budget.trials: missing
//      mnist.yaml:5: sampler.type: must be one of: random, grid
//      mnist.yaml:5: sampler.seed: must be a non-negative integer
//      mnist.yaml:4: syntax error: <libfyaml's message>
//      mnist.yaml:8: space.mom.when.opt: must be declared earlier in the
//          space than mom
//      mnist.yaml:8: space.mom.when.opt: rms is not a value opt can take
//      mnist.yaml:9: space.lr.grid: needs a finite set of points: ...
//
//  Nothing is printed. Text that is not UTF-8, duplicate keys, unknown
//  keys, wrong types, values out of range and studies past the limits
//  above are all errors; the first one found is reported. No input makes
//  it abort, and its time grows about linearly with the text (aliases
//  aside, which are bounded: see spec.c).
hpo_spec_t *hpo_spec_parse (const char *text, size_t len, const char *filename,
                            char **error);
void hpo_spec_destroy (hpo_spec_t **self_p);

//  Whether parameter k exists in a trial whose earlier parameters
//  (0 .. k-1) have the values row[0 .. k-1]: its condition holds and the
//  parameter it depends on exists. Samplers fill a row in space order and
//  set each parameter that does not exist to HPO_KIND_NONE.
int hpo_spec_active (const hpo_spec_t *self, size_t k, const hpo_value_t *row);

//  Index of the parameter named name, or -1.
int hpo_spec_param_index (const hpo_spec_t *self, const char *name);

//  How many points a parameter has in a grid: its values (points: N
//  fills them), the integers low, low + step, ... up to high (step 1 by
//  default), or for a float with a step the points low + k * step up to
//  high. 0 when the set is not finite (a float without values or step);
//  UINT64_MAX when too large to count. A space's distinct configurations,
//  conditions counted, are search/space.h's.
uint64_t hpo_param_grid_count (const hpo_param_spec_t *param);

//  The index of value among param's values (numbers by value, strings by
//  their bytes), or -1 when it is none of them. O(1) in a parsed spec.
int64_t hpo_param_value_index (const hpo_param_spec_t *param,
                               const hpo_value_t *value);

//  Parses a duration: "90s", "30m", "2h", "1d", "500ms", or a plain number
//  of seconds ("1.5"). Returns 0 and sets *ms, or -1 if malformed.
int hpo_duration_parse (const char *text, uint64_t *ms);

#endif
