/*  runner.h: one attempt of a trial as a process group.

    The worker never forks the training program itself. It forks a small
    shim, which forks the program:

        hpo-worker ── shim (own session) ── program (own group) ── ...

    The shim exists so that no training process outlives its worker,
    whatever kills the worker:
    - It leaves the worker's session and process group (setsid), so a kill
      of the worker's whole group (systemctl kill, Slurm, a terminal's
      Ctrl-\) does not take it along. Terminal signals no longer reach it;
      the worker forwards the stops it wants.
    - It asks the kernel for SIGTERM when the worker dies
      (PR_SET_PDEATHSIG, which fires even on SIGKILL).
    - It is a child subreaper (PR_SET_CHILD_SUBREAPER), so descendants
      that leave the program's group (setsid, a double fork) stay in its
      tree instead of being reparented to init.
    On SIGTERM, whoever sends it, it stops the trial: SIGTERM to the
    program's group and to every other descendant it finds in /proc, then
    SIGKILL once the grace period is over (at once if the grace is 0).
    When the program exits, it SIGKILLs and reaps whatever is left of its
    tree, round after round until nothing is (bounded), then writes the
    program's wait status to a pipe the worker reads, and exits. So once
    the worker sees the shim gone, the report pipe's writers are gone.

    Where /proc cannot be read, only the program's group is reached.
    cgroups are not used: they are often not delegated to an unprivileged
    worker (or, in containers, not mounted as v2 at all).

    The program gets: stdin from /dev/null; stdout and stderr appended to
    the log file; the write end of the report pipe as fd 3, named by
    HPO_REPORT_FD=3; no other inherited descriptor; the worker's
    environment with the caller's variables on top; default signal
    dispositions and an empty signal mask; the config's workdir, else the
    worker's working directory.

    Everything is prepared before fork (the worker has ZeroMQ threads, so
    between fork and exec only async-signal-safe calls are made): argv[0]
    is looked up in PATH by the parent, and a command that is not found
    (or not executable, or a workdir that is not there) is an error of
    hpo_runner_new, not a child that exits 127. What only exec can tell
    (a missing #! interpreter) the child writes to the log, and exits 127.

    The worker watches two descriptors: the report pipe (lines from the
    program) and the status pipe, which reaches end-of-file when the shim
    has exited; hpo_runner_poll then reaps the shim. No SIGCHLD handling is
    needed, though calling hpo_runner_poll on SIGCHLD does no harm.        */
#ifndef HPO_RUNNER_H
#define HPO_RUNNER_H

#include <stdint.h>
#include <sys/types.h>

//  The descriptor the program writes reports to.
#define HPO_RUNNER_REPORT_FD 3

typedef struct {
    //  The program and its arguments, NULL-terminated; argv[0] is looked
    //  up in PATH (the PATH of env if it sets one) unless it holds a '/'.
    //  For a shell command pass {"/bin/sh", "-c", text, NULL}.
    char *const *argv;
    //  "NAME=value" strings set on top of the worker's environment,
    //  NULL-terminated; may be NULL. Inherited HPO_PARAM_* variables are
    //  dropped so they cannot pass for this trial's parameters.
    char *const *env;
    //  stdout and stderr go here, appended; created mode 0644.
    const char *log_path;
    //  Time between SIGTERM and SIGKILL when the attempt is stopped; 0:
    //  SIGKILL at once.
    uint64_t grace_ms;
    //  The attempt, for log lines: "trial mnist#3 attempt 1"
    //  (HPO_LOG_TRIAL); may be NULL.
    const char *tag;
    //  The directory the program runs in, absolute or relative to the
    //  worker's; NULL or "": the worker's. argv[0] with a '/' and
    //  relative entries of PATH are looked up from there.
    const char *workdir;
    //  1: the program's stdout is the report pipe (a study's metrics
    //  from stdout: the caller copies it to the log); it gets no fd 3
    //  and no HPO_REPORT_FD. stderr still goes to the log.
    int stdout_reports;
} hpo_runner_config_t;

//  Why hpo_runner_new failed.
typedef enum {
    HPO_RUNNER_FAULT_SYSTEM = 1, //  this host now: fork, pipes, the log
    HPO_RUNNER_FAULT_COMMAND,    //  argv[0] not found, or not executable
    HPO_RUNNER_FAULT_WORKDIR,    //  workdir missing, not a directory, or
                                 //  not searchable
} hpo_runner_fault_t;

//  The first words of what the program's process writes to the log when
//  it cannot enter workdir or execute argv[0] after all (it then exits
//  127): "hpo-worker: cannot execute 'PATH': permission denied".
#define HPO_RUNNER_EXEC_MSG "hpo-worker: cannot execute '"
#define HPO_RUNNER_CHDIR_MSG "hpo-worker: cannot enter workdir '"

typedef struct _hpo_runner_t hpo_runner_t;

//  Starts the attempt. Returns the runner, or NULL with *error set to a
//  malloc'd message (caller frees) and, unless fault is NULL, *fault to
//  its kind: "command not found: NAME", "cannot execute PATH: permission
//  denied", "workdir DIR: No such file or directory", log file cannot be
//  opened, out of processes. The config is not kept.
hpo_runner_t *hpo_runner_new (const hpo_runner_config_t *config, char **error,
                              hpo_runner_fault_t *fault);

//  If the shim is still running, sends it SIGTERM (it then stops the
//  group with its grace period, or not at all if the worker dies first:
//  PDEATHSIG stops it too), then frees the runner without waiting; the
//  shim is reaped by whoever reaps the worker's children later. Prefer to
//  stop and poll until done. Idempotent; nulls *self_p.
void hpo_runner_destroy (hpo_runner_t **self_p);

//  Asks the shim to stop the program (SIGTERM to its group and the rest of
//  its tree, SIGKILL after the grace period). Does nothing once the attempt is
//  done or was already asked. Returns 0, or -1 if the signal could not be sent.
int hpo_runner_stop (hpo_runner_t *self);

//  The status pipe: poll it for input; readable means "call
//  hpo_runner_poll". -1 once the runner is done.
int hpo_runner_status_fd (const hpo_runner_t *self);

//  Reads what the status pipe has and, once it reports end-of-file, reaps
//  the shim. Never blocks for long (after end-of-file the shim is already
//  exiting). Returns 1 when the attempt is done, 0 while it runs.
int hpo_runner_poll (hpo_runner_t *self);

//  The report pipe's read end (non-blocking), or -1 after end-of-file.
int hpo_runner_report_fd (const hpo_runner_t *self);

//  Reads up to size bytes of reports. Returns the count; 0 at end-of-file
//  or on a read error (logged), after which the descriptor is closed; or
//  -1 with errno EAGAIN when nothing is waiting.
ssize_t hpo_runner_read (hpo_runner_t *self, void *buf, size_t size);

//  After done: 1 if the program's wait status is known (*status set),
//  0 if the shim died without reporting it (killed, or could not fork the
//  program); then *status is the shim's own wait status.
int hpo_runner_status (const hpo_runner_t *self, int *status);

//  The shim's pid, and the program's pid = its process group id (0 until
//  the shim reported it).
pid_t hpo_runner_shim_pid (const hpo_runner_t *self);
pid_t hpo_runner_pgid (const hpo_runner_t *self);

//  Describes a wait status the way Finish.reason wants it: "exit status
//  3", "killed by signal 9 (SIGKILL)". Returns a malloc'd string.
char *hpo_runner_describe_status (int status);

#endif
