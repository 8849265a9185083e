/*  resource.c: GPUs and CPUs of workers, held by trials. See resource.h. */
#include "resource.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"

//  What one trial of spec takes: at least one CPU (a spec built by hand
//  in a test may leave cpus 0).
static uint32_t
s_cpus (const hpo_spec_t *spec)
{
    return spec->cpus ? spec->cpus : 1;
}

static void
s_count_free (hpo_worker_t *w)
{
    w->gpus_free = 0;
    for (uint32_t k = 0; k < w->n_gpus; k++)
        if (!w->gpus[k].trial && !w->gpus[k].busy)
            w->gpus_free++;
}

void
hpo_resource_gpus_free (hpo_worker_gpu_t *gpus, size_t n)
{
    for (size_t k = 0; gpus && k < n; k++) {
        free (gpus[k].name);
        free (gpus[k].uuid);
    }
    free (gpus);
}

void
hpo_resource_hello (hpo_worker_t *w, const hpo_hello_t *h)
{
    hpo_worker_gpu_t *gpus = hpo_calloc (h->n_gpus + 1, sizeof *gpus);
    for (size_t k = 0; k < h->n_gpus; k++) {
        gpus[k].index = h->gpus[k].index;
        gpus[k].name = h->gpus[k].name ? hpo_strdup (h->gpus[k].name) : NULL;
        gpus[k].uuid = h->gpus[k].uuid ? hpo_strdup (h->gpus[k].uuid) : NULL;
    }
    //  The same session's Hello again: its leases keep their GPUs, by
    //  position; one whose position is gone no longer counts any.
    for (uint32_t k = 0; k < w->n_gpus; k++) {
        hpo_trial_t *t = w->gpus[k].trial;
        if (!t)
            continue;
        if (k < h->n_gpus)
            gpus[k].trial = t;
        else
            t->n_gpus = 0;
    }
    hpo_resource_gpus_free (w->gpus, w->n_gpus);
    w->gpus = gpus;
    w->n_gpus = (uint32_t)h->n_gpus;
    //  An older worker sends no CPUs: its slots are its capacity, as
    //  before resources existed.
    w->cpus = h->cpus ? h->cpus : h->slots;
    hpo_resource_busy (w, h->busy_gpus, h->n_busy);
}

void
hpo_resource_free (hpo_worker_t *w)
{
    hpo_resource_gpus_free (w->gpus, w->n_gpus);
    w->gpus = NULL;
    w->n_gpus = w->gpus_free = 0;
}

int
hpo_resource_fits (const hpo_worker_t *w, const hpo_spec_t *spec)
{
    return spec->gpus <= w->gpus_free &&
           (uint64_t)w->cpus_used + s_cpus (spec) <= w->cpus;
}

void
hpo_resource_take (hpo_worker_t *w, hpo_trial_t *t)
{
    const hpo_spec_t *spec = t->study->spec;
    assert (hpo_resource_fits (w, spec));
    assert (t->n_gpus == 0 && t->cpus == 0);
    if (spec->gpus) {
        t->gpus = hpo_realloc (t->gpus, spec->gpus * sizeof *t->gpus);
        for (uint32_t k = 0; k < w->n_gpus && t->n_gpus < spec->gpus; k++)
            if (!w->gpus[k].trial && !w->gpus[k].busy) {
                w->gpus[k].trial = t;
                t->gpus[t->n_gpus++] = k;
            }
        assert (t->n_gpus == spec->gpus);
        w->gpus_free -= spec->gpus;
    }
    t->cpus = s_cpus (spec);
    w->cpus_used += t->cpus;
}

void
hpo_resource_adopt (hpo_worker_t *w, hpo_trial_t *t)
{
    assert (t->cpus == 0);
    t->n_gpus = 0;
    t->cpus = s_cpus (t->study->spec);
    w->cpus_used += t->cpus;
}

void
hpo_resource_give (hpo_worker_t *w, hpo_trial_t *t)
{
    for (uint32_t k = 0; k < t->n_gpus; k++) {
        hpo_worker_gpu_t *g = &w->gpus[t->gpus[k]];
        assert (g->trial == t);
        g->trial = NULL;
        //  Its process group may still be dying: the worker says when
        //  it is gone (hpo_resource_busy).
        g->busy = 1;
    }
    t->n_gpus = 0;
    assert (w->cpus_used >= t->cpus);
    w->cpus_used -= t->cpus;
    t->cpus = 0;
}

void
hpo_resource_busy (hpo_worker_t *w, const uint32_t *busy, size_t n)
{
    if (w->n_gpus == 0)
        return;
    for (uint32_t k = 0; k < w->n_gpus; k++) {
        w->gpus[k].busy = 0;
        for (size_t b = 0; b < n; b++)
            if (busy[b] == w->gpus[k].index) {
                w->gpus[k].busy = 1;
                break;
            }
    }
    s_count_free (w);
}

char *
hpo_resource_describe (const hpo_worker_t *w)
{
    if (w->n_gpus == 0)
        return NULL;
    char *out = hpo_strdup ("");
    for (uint32_t k = 0; k < w->n_gpus; k++) {
        const hpo_worker_gpu_t *g = &w->gpus[k];
        char *held = g->trial
                         ? hpo_sprintf (" (%s#%" PRIu64 ")",
                                        g->trial->study->name, g->trial->number)
                         : hpo_strdup (g->busy ? " (busy)" : "");
        char *next = hpo_sprintf ("%s%s%" PRIu32 "%s", out, k ? ", " : "",
                                  g->index, held);
        free (held);
        free (out);
        out = next;
    }
    return out;
}
