/*  names.h: the one rule for each kind of name hpo accepts from outside.

    A name is checked where it enters (the study-file parser, the worker's
    command line, a message from a peer) and again where it is used in a
    path or a variable, and every one of those places calls these, so the
    rules cannot drift apart:

        study       1-128 bytes of [A-Za-z0-9_.-], not "." or "..": it
                    becomes a directory name on every worker
        parameter   1-64 bytes of [A-Za-z_][A-Za-z0-9_]*: it becomes a
                    {placeholder}, HPO_PARAM_<NAME> and a JSON key
        metric      1-128 bytes of [A-Za-z0-9_.:/-]: what a report line
                    may carry (worker/report.h)
        worker      1-255 bytes of printable UTF-8 (no control characters):
                    shown by `hpo workers` and in logs
        variable    1-128 bytes of [A-Za-z_][A-Za-z0-9_]*, not starting
                    with HPO_: a study's env (names hpo sets itself are
                    kept for hpo, so a study cannot replace them)

    Each rule comes in two forms: _ok takes a C string (NULL is not ok),
    _problem takes bytes and a length, so text that may hold a NUL can be
    judged as it is, and says what is wrong in words that complete "name
    ..." ("must not be empty"). It returns NULL when the name is fine; the
    phrase is static, never freed.                                        */
#ifndef HPO_NAMES_H
#define HPO_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define HPO_NAME_STUDY_MAX 128
#define HPO_NAME_PARAM_MAX 64
#define HPO_NAME_METRIC_MAX 128
#define HPO_NAME_WORKER_MAX 255
#define HPO_NAME_ENV_MAX 128

const char *hpo_name_study_problem (const char *name, size_t len);
bool hpo_name_study_ok (const char *name);

const char *hpo_name_param_problem (const char *name, size_t len);
bool hpo_name_param_ok (const char *name);

//  "step" is a valid metric name here; a study's objective may not be
//  called step (it is a report's step), which spec.c says itself.
const char *hpo_name_metric_problem (const char *name, size_t len);
bool hpo_name_metric_ok (const char *name);

const char *hpo_name_worker_problem (const char *name, size_t len);
bool hpo_name_worker_ok (const char *name);

const char *hpo_name_env_problem (const char *name, size_t len);
bool hpo_name_env_ok (const char *name);


#endif
