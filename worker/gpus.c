/*  gpus.c: --gpus lists and nvidia-smi -L's output. See gpus.h.         */
#include "gpus.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/spec.h" //  HPO_SPEC_MAX_GPUS

//  Output of nvidia-smi -L read at most: about 100 bytes a GPU.
#define S_SMI_MAX_BYTES (256 * 1024)
//  A GPU index in a list: larger is a typing error, not a GPU.
#define S_MAX_INDEX 4095

//  A decimal index at *p (advanced past it); -1 if none or too large.
static long
s_index (const char **p)
{
    const char *s = *p;
    long v = 0;
    if (*s < '0' || *s > '9')
        return -1;
    while (*s >= '0' && *s <= '9' && v <= S_MAX_INDEX)
        v = v * 10 + (*s++ - '0');
    *p = s;
    return v > S_MAX_INDEX ? -1 : v;
}

static int
s_seen (const hpo_gpu_t *gpus, size_t n, uint32_t index)
{
    for (size_t k = 0; k < n; k++)
        if (gpus[k].index == index)
            return 1;
    return 0;
}

int
hpo_gpus_parse_list (const char *text, hpo_gpu_t **gpus, size_t *n,
                     char **error)
{
    *gpus = NULL;
    *n = 0;
    *error = NULL;
    hpo_gpu_t *out = hpo_calloc (HPO_SPEC_MAX_GPUS, sizeof *out);
    size_t count = 0;
    const char *p = text;
    for (;;) {
        long v = s_index (&p);
        if (v < 0 || (*p && *p != ',')) {
            *error = hpo_sprintf ("'%.64s' is not a list of GPU indices "
                                  "(0-%d) such as 0,1,2, or auto",
                                  text, S_MAX_INDEX);
            break;
        }
        if (s_seen (out, count, (uint32_t)v)) {
            *error = hpo_sprintf ("GPU %ld is listed twice", v);
            break;
        }
        if (count == HPO_SPEC_MAX_GPUS) {
            *error = hpo_sprintf ("more than %d GPUs", HPO_SPEC_MAX_GPUS);
            break;
        }
        out[count++].index = (uint32_t)v;
        if (!*p)
            break;
        p++;
    }
    if (*error) {
        free (out);
        return -1;
    }
    *gpus = out;
    *n = count;
    return 0;
}

//  One line of nvidia-smi -L: "GPU 0: NVIDIA H200 (UUID: GPU-...)".
static int
s_smi_line (const char *line, size_t len, hpo_gpu_t *gpu)
{
    if (len < 6 || strncmp (line, "GPU ", 4) != 0)
        return -1;
    const char *p = line + 4;
    long v = s_index (&p);
    if (v < 0 || *p != ':')
        return -1;
    p++;
    while (*p == ' ')
        p++;
    const char *end = line + len;
    const char *uuid = NULL;
    for (const char *q = p; q + 8 <= end; q++)
        if (!strncmp (q, " (UUID: ", 8))
            uuid = q;
    const char *name_end = uuid ? uuid : end;
    gpu->index = (uint32_t)v;
    gpu->name = hpo_strndup (p, (size_t)(name_end - p));
    gpu->uuid = NULL;
    if (uuid) {
        const char *u = uuid + 8;
        const char *close = memchr (u, ')', (size_t)(end - u));
        gpu->uuid = hpo_strndup (u, (size_t)((close ? close : end) - u));
    }
    return 0;
}

size_t
hpo_gpus_parse_smi (const char *output, hpo_gpu_t **gpus)
{
    hpo_gpu_t *out = NULL;
    size_t n = 0;
    for (const char *line = output; line && *line;) {
        const char *nl = strchr (line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen (line);
        hpo_gpu_t gpu;
        if (n < HPO_SPEC_MAX_GPUS && s_smi_line (line, len, &gpu) == 0) {
            if (s_seen (out, n, gpu.index)) {
                free (gpu.name);
                free (gpu.uuid);
            } else {
                out = hpo_realloc (out, (n + 1) * sizeof *out);
                out[n++] = gpu;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    *gpus = out;
    return n;
}

size_t
hpo_gpus_filter (hpo_gpu_t *gpus, size_t n, const char *visible)
{
    if (!visible || !*visible)
        return n;
    hpo_gpu_t *allowed = NULL;
    size_t n_allowed;
    char *error = NULL;
    if (hpo_gpus_parse_list (visible, &allowed, &n_allowed, &error) < 0) {
        free (error);
        return n;
    }
    size_t kept = 0;
    for (size_t k = 0; k < n; k++) {
        if (s_seen (allowed, n_allowed, gpus[k].index))
            gpus[kept++] = gpus[k];
        else {
            free (gpus[k].name);
            free (gpus[k].uuid);
        }
    }
    free (allowed);
    return kept;
}

//  nvidia-smi -L's output, or NULL (logged) when it cannot be run or
//  fails.
static char *
s_smi_output (void)
{
    FILE *f = popen ("exec nvidia-smi -L 2>/dev/null", "r");
    if (!f) {
        hpo_log_warn ("--gpus auto: cannot run nvidia-smi");
        return NULL;
    }
    char *buf = hpo_calloc (S_SMI_MAX_BYTES + 1, 1);
    size_t got = fread (buf, 1, S_SMI_MAX_BYTES, f);
    buf[got] = '\0';
    int status = pclose (f);
    if (status == -1 || !WIFEXITED (status) || WEXITSTATUS (status) != 0) {
        if (WIFEXITED (status) && WEXITSTATUS (status) == 127)
            hpo_log_info ("--gpus auto: no nvidia-smi on PATH: no GPUs");
        else
            hpo_log_warnx ("--gpus auto: nvidia-smi -L failed (status "
                           "%d): no GPUs",
                           status);
        free (buf);
        return NULL;
    }
    return buf;
}

size_t
hpo_gpus_detect (hpo_gpu_t **gpus)
{
    *gpus = NULL;
    char *output = s_smi_output ();
    if (!output)
        return 0;
    size_t n = hpo_gpus_parse_smi (output, gpus);
    free (output);
    n = hpo_gpus_filter (*gpus, n, getenv ("CUDA_VISIBLE_DEVICES"));
    if (n == 0)
        hpo_log_info ("--gpus auto: nvidia-smi lists no GPUs");
    return n;
}

void
hpo_gpus_free (hpo_gpu_t *gpus, size_t n)
{
    for (size_t k = 0; gpus && k < n; k++) {
        free (gpus[k].name);
        free (gpus[k].uuid);
    }
    free (gpus);
}

//  ---- which slot holds which GPU ------------------------------------------

struct _hpo_gpu_set_t {
    hpo_gpu_t *gpus;
    size_t n;
    int64_t *holder; //  [n]: the slot holding it, or -1
    Hpo__Gpu *wire;  //  [n], for the Hello
    Hpo__Gpu **ptrs;
};

hpo_gpu_set_t *
hpo_gpu_set_new (hpo_gpu_t **gpus_p, size_t n)
{
    hpo_gpu_set_t *self = hpo_calloc (1, sizeof *self);
    self->gpus = *gpus_p;
    *gpus_p = NULL;
    self->n = n;
    self->holder = hpo_calloc (n + 1, sizeof *self->holder);
    self->wire = hpo_calloc (n + 1, sizeof *self->wire);
    self->ptrs = hpo_calloc (n + 1, sizeof *self->ptrs);
    for (size_t k = 0; k < n; k++) {
        self->holder[k] = -1;
        hpo__gpu__init (&self->wire[k]);
        self->wire[k].index = self->gpus[k].index;
        //  Borrowed: protobuf-c only reads them when packing.
        self->wire[k].name = self->gpus[k].name ? self->gpus[k].name : "";
        self->wire[k].uuid = self->gpus[k].uuid ? self->gpus[k].uuid : "";
        self->ptrs[k] = &self->wire[k];
    }
    return self;
}

void
hpo_gpu_set_destroy (hpo_gpu_set_t **self_p)
{
    hpo_gpu_set_t *self = *self_p;
    if (!self)
        return;
    hpo_gpus_free (self->gpus, self->n);
    free (self->holder);
    free (self->wire);
    free (self->ptrs);
    free (self);
    *self_p = NULL;
}

size_t
hpo_gpu_set_size (const hpo_gpu_set_t *self)
{
    return self->n;
}

Hpo__Gpu *const *
hpo_gpu_set_wire (const hpo_gpu_set_t *self)
{
    return self->ptrs;
}

//  The position of GPU index, or n.
static size_t
s_position (const hpo_gpu_set_t *self, uint32_t index)
{
    size_t k = 0;
    while (k < self->n && self->gpus[k].index != index)
        k++;
    return k;
}

char *
hpo_gpu_set_check (const hpo_gpu_set_t *self, const uint32_t *index, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        size_t at = s_position (self, index[k]);
        if (at == self->n)
            return hpo_sprintf ("GPU %" PRIu32 " is not one of this worker's",
                                index[k]);
        if (self->holder[at] >= 0)
            return hpo_sprintf ("GPU %" PRIu32 " is still held by the "
                                "process group in slot %" PRId64,
                                index[k], self->holder[at]);
        for (size_t j = 0; j < k; j++)
            if (index[j] == index[k])
                return hpo_sprintf ("GPU %" PRIu32 " is named twice", index[k]);
    }
    return NULL;
}

void
hpo_gpu_set_hold (hpo_gpu_set_t *self, uint32_t slot, const uint32_t *index,
                  size_t n)
{
    for (size_t k = 0; k < n; k++) {
        size_t at = s_position (self, index[k]);
        if (at < self->n)
            self->holder[at] = slot;
    }
}

void
hpo_gpu_set_release (hpo_gpu_set_t *self, uint32_t slot)
{
    for (size_t k = 0; k < self->n; k++)
        if (self->holder[k] == (int64_t)slot)
            self->holder[k] = -1;
}

size_t
hpo_gpu_set_busy (const hpo_gpu_set_t *self, uint32_t skip, uint32_t *out)
{
    size_t n = 0;
    for (size_t k = 0; k < self->n; k++)
        if (self->holder[k] >= 0 && self->holder[k] != (int64_t)skip)
            out[n++] = self->gpus[k].index;
    return n;
}
