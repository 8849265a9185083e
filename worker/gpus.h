/*  gpus.h: the GPUs a worker hands out (--gpus 0,1,2 or --gpus auto),
    one trial each at a time (issue #11). The coordinator picks which
    trial gets which (coordinator/resource.h); the worker tells it what
    it has in its Hello and which are still held by a process group in
    every Heartbeat.                                                      */
#ifndef HPO_GPUS_H
#define HPO_GPUS_H

#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"

typedef struct {
    uint32_t index; //  what CUDA_VISIBLE_DEVICES names
    char *name;     //  "NVIDIA H200", or NULL when not known
    char *uuid;     //  "GPU-3b1e...", or NULL
} hpo_gpu_t;

//  --gpus LIST: comma-separated indices ("0,1,2"), each at most 4095
//  and none twice, at most HPO_SPEC_MAX_GPUS of them. Returns 0 with
//  *gpus (free with hpo_gpus_free) and *n set, or -1 with *error (the
//  caller frees it) saying what is wrong.
int hpo_gpus_parse_list (const char *text, hpo_gpu_t **gpus, size_t *n,
                         char **error);

//  The GPUs in nvidia-smi -L's output: lines "GPU N: NAME (UUID: U)",
//  N the index; other lines (MIG devices, indented) are skipped, and so
//  is an index seen before. Returns how many, in *gpus (NULL for none).
size_t hpo_gpus_parse_smi (const char *output, hpo_gpu_t **gpus);

//  Keeps only the GPUs whose index is in visible, a CUDA_VISIBLE_DEVICES
//  value of indices ("2,3"; a batch system's allocation): a worker under
//  Slurm hands out only the GPUs of its job. A value that is not a list
//  of indices (UUIDs) keeps them all. Returns the new count.
size_t hpo_gpus_filter (hpo_gpu_t *gpus, size_t n, const char *visible);

//  --gpus auto: runs `nvidia-smi -L` (looked up in PATH) and parses it,
//  restricted by the worker's own CUDA_VISIBLE_DEVICES if set. No
//  nvidia-smi, or one that fails, is no GPUs (logged). Returns how many.
size_t hpo_gpus_detect (hpo_gpu_t **gpus);

void hpo_gpus_free (hpo_gpu_t *gpus, size_t n);

//  ---- which slot holds which GPU ------------------------------------------
//  A slot holds its attempt's GPUs from its start until its whole process
//  group is gone (the session frees the slot only then), so the busy list
//  a Heartbeat carries never lets a GPU go while a process may still use
//  it. The coordinator never assigns a busy GPU; the worker checks anyway
//  and refuses an Assign naming one (its lease then runs out).
typedef struct _hpo_gpu_set_t hpo_gpu_set_t;

//  Takes ownership of gpus (n of them, may be 0).
hpo_gpu_set_t *hpo_gpu_set_new (hpo_gpu_t **gpus_p, size_t n);
void hpo_gpu_set_destroy (hpo_gpu_set_t **self_p);
size_t hpo_gpu_set_size (const hpo_gpu_set_t *self);
//  The GPUs as a Hello lists them (owned by the set).
Hpo__Gpu *const *hpo_gpu_set_wire (const hpo_gpu_set_t *self);
//  Why an attempt cannot take these n GPU indices (one is not this
//  worker's, or a slot holds it), or NULL: it can. The text is the
//  caller's to free.
char *hpo_gpu_set_check (const hpo_gpu_set_t *self, const uint32_t *index,
                         size_t n);
//  slot takes these GPUs (checked first) / gives back all it holds.
void hpo_gpu_set_hold (hpo_gpu_set_t *self, uint32_t slot,
                       const uint32_t *index, size_t n);
void hpo_gpu_set_release (hpo_gpu_set_t *self, uint32_t slot);
//  The indices held by any slot but skip (UINT32_MAX: none skipped), in
//  out (room for hpo_gpu_set_size). Returns how many.
size_t hpo_gpu_set_busy (const hpo_gpu_set_t *self, uint32_t skip,
                         uint32_t *out);

#endif
