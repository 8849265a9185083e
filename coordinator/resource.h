/*  resource.h: a worker's GPUs and CPUs, and which trial holds each, for
    the scheduler (sched.c calls these where a lease is taken, claimed
    back and released; dispatch asks hpo_resource_fits).

    The coordinator picks a trial's GPUs among the worker's free ones, so
    it alone knows which trial holds which (hpo workers shows it) and no
    two leases it grants share one. A GPU is free when no lease holds it
    AND the worker's latest Heartbeat, Finish or Hello did not list it
    busy. A released lease (the trial ended, was pruned, killed or lost)
    leaves its GPUs busy until the worker's next list says otherwise:
    the worker lists every GPU a process group it has not reaped holds,
    so a GPU goes back into service only once the whole group is gone.
    CPUs are a count (trial.cpus of the worker's cpus), given back as
    soon as the lease is released: the worker's slot, which it frees
    only after the group is gone, already holds the next trial back.

    Costs: fits is O(1); take, give and busy are O(GPUs of the worker). */
#ifndef HPO_RESOURCE_H
#define HPO_RESOURCE_H

#include "sched.h"

//  The worker's GPUs and CPUs as its Hello says (a second Hello of the
//  same session keeps the holders of the GPUs that are still there).
void hpo_resource_hello (hpo_worker_t *w, const hpo_hello_t *hello);
//  Frees n GPUs (their names and UUIDs) and the array; NULL is fine.
void hpo_resource_gpus_free (hpo_worker_gpu_t *gpus, size_t n);
//  Frees what hpo_resource_hello allocated. Idempotent.
void hpo_resource_free (hpo_worker_t *w);
//  Whether w has free the GPUs and CPUs one trial of spec takes.
int hpo_resource_fits (const hpo_worker_t *w, const hpo_spec_t *spec);
//  t, now leased to w, takes its study's GPUs (the first free ones) and
//  CPUs of w. hpo_resource_fits must have said so.
void hpo_resource_take (hpo_worker_t *w, hpo_trial_t *t);
//  t, claimed back by w (a reconnect, a coordinator restart), counts its
//  CPUs on w; which GPUs it has is the worker's to say (busy list).
void hpo_resource_adopt (hpo_worker_t *w, hpo_trial_t *t);
//  t's lease on w ends: its CPUs are free at once, its GPUs once the
//  worker says so.
void hpo_resource_give (hpo_worker_t *w, hpo_trial_t *t);
//  The GPU indices a live process group of w holds now (the worker's
//  list; indices it does not have are ignored).
void hpo_resource_busy (hpo_worker_t *w, const uint32_t *busy, size_t n);
//  "0 (study#3), 1 (busy), 2": w's GPUs and their holders, for logs and
//  hpo workers. NULL when w has none. The caller frees it.
char *hpo_resource_describe (const hpo_worker_t *w);

#endif
