/*  value.h: one parameter value, as a sampler makes it, the wire carries
    it, the store keeps it (common/params.h) and a command line shows it.
    Values know nothing of study files: common/spec.h says which values a
    parameter may take.                                                    */
#ifndef HPO_VALUE_H
#define HPO_VALUE_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    //  No value: the parameter does not exist in this trial, because its
    //  when: condition (common/spec.h) does not hold. It is absent from the
    //  trial's argv, environment, params file and JSON.
    HPO_KIND_NONE = 0,
    HPO_KIND_FLOAT = 1,
    HPO_KIND_INT = 2,
    HPO_KIND_STR = 3,
} hpo_kind_t;

//  One parameter value. s is owned by whoever owns the value array
//  (hpo_values_clear releases it). An int value also has f set to (double) i.
typedef struct {
    hpo_kind_t kind;
    double f;
    int64_t i;
    char *s;
} hpo_value_t;

//  Frees the strings inside an array of values (not the array).
void hpo_values_clear (hpo_value_t *values, size_t n);
//  Deep copy of one value.
void hpo_value_copy (hpo_value_t *dst, const hpo_value_t *src);
//  Formats a value as a command-line word: floats with %.17g trimmed to the
//  shortest form that round-trips; "" for HPO_KIND_NONE. Returns a
//  malloc'd string.
char *hpo_value_format (const hpo_value_t *value);

#endif
