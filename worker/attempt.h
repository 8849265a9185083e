/*  attempt.h: one attempt of a trial on this worker, from its Assign to
    its end: the directories, files and environment the program is
    promised, the line at the top of its log, its process (runner.h), the
    report lines it writes, how it ended (for the Finish, with the log's
    tail), and stopping it.

    An attempt's fate decides what its end says:
        running  -> ended by its exit status: a Finish
        timeout  -> stopped for its timeout: a Finish FAILED
        dropped  -> killed on the coordinator's order: no Finish
        shutdown -> stopped because the worker stops: no Finish
    A running or timed-out attempt holds its lease (heartbeats name it).

    Its reports are the lines the program writes to HPO_REPORT_FD
    (report.h), or, when the Assign says metrics_source "stdout", the
    lines it prints, matched with Assign.metrics_pattern (common/
    linepat.h, hpo_report_match): its stdout is then the report pipe,
    and the worker copies what it reads there to the log.

    Files, under the state directory:
        logs/STUDY/trial-N-attempt-A.log     stdout and stderr, appended
        trials/STUDY/trial-N-attempt-A/params.json   HPO_PARAMS_FILE
        checkpoints/STUDY/N/                 HPO_CHECKPOINT_DIR, the same
                                             for every attempt on this host
    With a checkpoint root (hpo-worker --checkpoint-root, usually on a
    shared file system), HPO_CHECKPOINT_DIR is ROOT/STUDY/N instead: the
    same for every attempt on every host, so an attempt that replaces a
    lost one finds what it saved. STUDY and N are created mode 0700.
    Nothing is ever deleted.

    Every log line about an attempt starts with its tag, "trial STUDY#N
    attempt A" (HPO_LOG_TRIAL).                                            */
#ifndef HPO_ATTEMPT_H
#define HPO_ATTEMPT_H

#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"
#include "report.h"

typedef struct _hpo_attempt_t hpo_attempt_t;

//  Where attempts run and who runs them.
typedef struct {
    const char *state_dir; //  absolute
    const char *worker;    //  this worker's name: HPO_WORKER, log header
    //  Absolute, or NULL: where HPO_CHECKPOINT_DIR is (see above).
    const char *checkpoint_root;
    //  The worker hands out GPUs (--gpus): every attempt gets
    //  CUDA_VISIBLE_DEVICES, its own GPUs or "" for none.
    int has_gpus;
} hpo_attempt_host_t;

//  Where an attempt's report lines go.
typedef struct {
    //  1 while no Report can be queued: lines stay buffered, the report
    //  pipe unread, and the program waits on its write (backpressure).
    int (*full) (void *arg);
    //  Queues one Report of attempt (a parsed line with metrics).
    void (*report) (void *arg, const hpo_attempt_t *attempt,
                    const hpo_report_t *report, int64_t now);
    void *arg;
} hpo_attempt_sink_t;

//  How an attempt ended, for its Finish.
typedef struct {
    int failed;       //  1: FAILED for reason; 0: COMPLETE with value
    char *reason;     //  failed: why
    char *log_tail;   //  failed: the log's last bytes, clean UTF-8
    int exit_status;  //  the program's wait status; -1 unknown
    double runtime_s; //  0 for one that never started
    double value;     //  complete: the objective's last value
    //  failed: a retry would fail the same way (Finish.permanent): the
    //  command not found or not executable, the workdir not there, a bad
    //  Assign, the objective never reported while other metrics were or
    //  while the program's output held report lines.
    int permanent;
} hpo_attempt_result_t;

//  "trial STUDY#N attempt A" for an Assign (a long or bad study name cut),
//  for log lines about it; caller frees.
char *hpo_attempt_tag_of (const Hpo__Assign *assign);

//  Starts the attempt assign describes, at now: checks it (study and
//  parameter names, command, objective, workdir, env), prepares its
//  files and environment (hpo's variables, then the study's env), and
//  starts its program in the workdir. Returns the attempt, or NULL when
//  nothing runs: then the reason is logged, written to the log if there
//  is one, and given in *result (failed, with reason and log_tail,
//  exit_status -1, permanent unless this host is at fault; release with
//  hpo_attempt_result_clear).
hpo_attempt_t *hpo_attempt_start (const Hpo__Assign *assign,
                                  const hpo_attempt_host_t *host, int64_t now,
                                  hpo_attempt_result_t *result);

//  Frees the attempt; a program still running is asked to stop (see
//  hpo_runner_destroy). Idempotent.
void hpo_attempt_destroy (hpo_attempt_t **self_p);

uint64_t hpo_attempt_trial_id (const hpo_attempt_t *self);
uint32_t hpo_attempt_number (const hpo_attempt_t *self);
const char *hpo_attempt_tag (const hpo_attempt_t *self);

//  Whether it still holds its lease: running, or stopping for its
//  timeout (its Finish is still to come).
int hpo_attempt_holds_lease (const hpo_attempt_t *self);

//  When its timeout falls (monotonic ms), while it runs; 0: none.
int64_t hpo_attempt_deadline (const hpo_attempt_t *self);

//  At or past the deadline: stops it, for a Finish FAILED.
void hpo_attempt_check_timeout (hpo_attempt_t *self, int64_t now);

//  The coordinator no longer wants it: stops it, no Finish follows.
//  Returns 0, or -1 if it was already dropped (so, not running).
int hpo_attempt_kill (hpo_attempt_t *self, const char *why);

//  The worker stops: stops it, no Finish follows.
void hpo_attempt_shutdown (hpo_attempt_t *self);

//  The descriptors to poll for input: its status pipe, and its report
//  pipe unless the stream is over or (paused) its lines must wait.
//  Fills fds (room for 2) and returns how many.
size_t hpo_attempt_fds (const hpo_attempt_t *self, int paused, int fds[2]);

//  Whether it holds complete lines that can be handled now though its
//  pipes are quiet: the sink has room again (not paused), or the lines
//  are only to be dropped (it no longer holds its lease).
int hpo_attempt_waits (const hpo_attempt_t *self, int paused);

//  Notices the program's end and reads up to max bytes of reports into
//  sink. Returns 1 once it is over: the program's tree is gone and every
//  line it wrote is queued (or, dropped or shut down, is to be ignored);
//  then end it with hpo_attempt_end.
int hpo_attempt_service (hpo_attempt_t *self, size_t max,
                         const hpo_attempt_sink_t *sink, int64_t now);

//  Logs how the attempt ended. Returns 1 and fills *result when a Finish
//  is due (release with hpo_attempt_result_clear), 0 when none is
//  (dropped, shut down).
int hpo_attempt_end (hpo_attempt_t *self, int64_t now,
                     hpo_attempt_result_t *result);

void hpo_attempt_result_clear (hpo_attempt_result_t *result);

//  mkdir -p. Returns 0, or -1 with errno set (ENOTDIR if path is a file).
int hpo_attempt_mkdirs (const char *path);

#endif
