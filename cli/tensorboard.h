/*  tensorboard.h: hpo export --tensorboard, a study as TensorBoard event
    files that its HParams dashboard reads.

    The layout under DIR, as TensorBoard's HParams plugin expects it:

        DIR/events.out.tfevents.T.HOST.PID.0    the experiment: every
                                                parameter with its domain,
                                                every metric reported
        DIR/N/events.out.tfevents.T.HOST.PID.N  trial N, one run: its
                                                session start (the trial's
                                                parameters; those absent
                                                by when: are left out), a
                                                scalar per report (tag:
                                                the metric, step), and at
                                                its end the objective's
                                                value and the session end

    Each file is TFRecord framing of tensorflow.Event messages (schema:
    event.proto and hparams.proto in proto/tensorboard): a little-endian
    uint64 length, the masked CRC32C of those 8 bytes, the Event, the
    masked CRC32C of the Event.
    Its first record says file_version "brain.Event:2".

    A trial's run is made when it first runs (WAITING trials have none).
    Scalars are float, as TensorBoard keeps them. Only the values of the
    trial's current attempt are written; a new attempt starts its curve
    over (TensorBoard drops a series' points at or past a step written
    again). The session end: STATUS_SUCCESS for COMPLETE and PRUNED (the
    pruner's stop is a normal end of a trial; its value is the last one
    reported), STATUS_FAILURE for FAILED. The objective's value is written
    as one more scalar of the objective metric at the last step it was
    reported (0 when never), so it is the last point TensorBoard reads.

    One export writes into an empty (or new) DIR only: it keeps in memory
    what it has written, so it can add what is new on each update (hpo
    export --follow), but it does not read event files back to resume.
    The experiment is written once, by hpo_tb_finish, when every metric
    is known (TensorBoard derives one from the runs until then).          */
#ifndef HPO_CLI_TENSORBOARD_H
#define HPO_CLI_TENSORBOARD_H

#include <stddef.h>
#include <stdint.h>

#include "hpo.pb-c.h"

typedef struct _hpo_tb_t hpo_tb_t;

//  Starts an export into dir, made (mode 0777 less the umask) when
//  missing. Returns NULL with *why (the caller frees it) when dir cannot
//  be made or already holds anything.
hpo_tb_t *hpo_tb_new (const char *dir, char **why);
void hpo_tb_destroy (hpo_tb_t **self_p);

//  Writes what is new in study (a study show answer: its objective, its
//  creation time, and the space from its spec) and trials (with
//  TrialsQuery.curves: every trial, or those from hpo_tb_first_open on):
//  runs of trials that started, reports not written yet, ends. The study
//  is read on the first call only. Returns 0, or -1 after logging when a
//  file cannot be written or a trial is numbered 2^26 or more (a run per
//  trial is kept in memory by number).
int hpo_tb_update (hpo_tb_t *self, const Hpo__StudyInfo *study,
                   const Hpo__TrialList *trials);

//  Writes the experiment summary at DIR's root, with every parameter of
//  the space (from the spec: categoricals and value lists as discrete
//  domains, ranges as intervals; without a spec, every parameter seen,
//  without a domain) and every metric seen, the objective's first. Once:
//  a second call does nothing. Returns 0, or -1 after logging.
int hpo_tb_finish (hpo_tb_t *self);

//  The lowest trial number whose run is not ended (or not seen yet):
//  every trial below it has its session end written, so an update needs
//  only the trials from it on.
uint64_t hpo_tb_first_open (hpo_tb_t *self);

//  What has been written: runs (trials) and scalars.
void hpo_tb_counts (hpo_tb_t *self, size_t *runs, size_t *scalars);

//  CRC-32C (Castagnoli) of data, and the TFRecord mask of a CRC:
//  rotated right by 15 bits plus 0xa282ead8.
uint32_t hpo_tb_crc32c (const void *data, size_t len);
uint32_t hpo_tb_crc_mask (uint32_t crc);

#endif
