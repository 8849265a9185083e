/*  test_runner: real processes through the shim, with /bin/sh as the
    training program. Every wait is bounded.

    The test process makes itself a child subreaper, so processes orphaned
    by a test (a grandchild whose shell was killed, a shim whose "worker"
    died) are reparented to it and can be reaped; otherwise they could
    linger as zombies under a PID 1 that never reaps, and kill (pid, 0)
    would still find them.                                                 */
#include "proctest.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "worker/runner.h"

static char s_dir[64];

static char *
s_path (const char *name)
{
    static char path[4][256];
    static int next = 0;
    char *p = path[next++ % 4];
    snprintf (p, 256, "%s/%s", s_dir, name);
    return p;
}

//  Waits up to timeout_ms for the attempt to end, collecting what it
//  reports into out (if not NULL). Returns 1 when done.
static int
s_wait (hpo_runner_t *runner, char *out, size_t out_size, int timeout_ms)
{
    size_t used = out ? strlen (out) : 0;
    int64_t deadline = hpo_clock_mono_ms () + timeout_ms;
    while (hpo_clock_mono_ms () < deadline) {
        struct pollfd fds[2];
        int n = 0;
        fds[n].fd = hpo_runner_status_fd (runner);
        fds[n++].events = POLLIN;
        if (hpo_runner_report_fd (runner) >= 0) {
            fds[n].fd = hpo_runner_report_fd (runner);
            fds[n++].events = POLLIN;
        }
        poll (fds, (nfds_t)n, 50);
        char buf[4096];
        ssize_t got;
        while ((got = hpo_runner_read (runner, buf, sizeof buf)) > 0)
            if (out && used + (size_t)got < out_size) {
                memcpy (out + used, buf, (size_t)got);
                used += (size_t)got;
                out[used] = '\0';
            }
        if (hpo_runner_poll (runner)) {
            //  What the program wrote before it exited is in the pipe.
            while ((got = hpo_runner_read (runner, buf, sizeof buf)) > 0)
                if (out && used + (size_t)got < out_size) {
                    memcpy (out + used, buf, (size_t)got);
                    used += (size_t)got;
                    out[used] = '\0';
                }
            return 1;
        }
    }
    return 0;
}

//  Reads a line of reports (up to '\n') within timeout_ms, into line.
static int
s_read_line (hpo_runner_t *runner, char *line, size_t size, int timeout_ms)
{
    size_t used = 0;
    int64_t deadline = hpo_clock_mono_ms () + timeout_ms;
    while (hpo_clock_mono_ms () < deadline && used + 1 < size) {
        struct pollfd pfd = {hpo_runner_report_fd (runner), POLLIN, 0};
        if (pfd.fd < 0)
            return -1;
        poll (&pfd, 1, 50);
        char c;
        ssize_t n = hpo_runner_read (runner, &c, 1);
        if (n == 0)
            return -1;
        if (n < 0)
            continue;
        if (c == '\n') {
            line[used] = '\0';
            return 0;
        }
        line[used++] = c;
    }
    return -1;
}

//  True once pid no longer exists (reaping it if it became our zombie).
static int
s_gone (pid_t pid)
{
    int status;
    waitpid (pid, &status, WNOHANG);
    return kill (pid, 0) < 0 && errno == ESRCH;
}

static int
s_wait_gone (pid_t pid, int timeout_ms)
{
    int64_t deadline = hpo_clock_mono_ms () + timeout_ms;
    while (hpo_clock_mono_ms () < deadline) {
        if (s_gone (pid))
            return 1;
        usleep (20000);
    }
    return s_gone (pid);
}

//  True once no process of group pgid is left (reaping those that became
//  our zombies).
static int
s_wait_group_gone (pid_t pgid, int timeout_ms)
{
    int64_t deadline = hpo_clock_mono_ms () + timeout_ms;
    for (;;) {
        if (t_group_gone (pgid))
            return 1;
        if (hpo_clock_mono_ms () >= deadline)
            return 0;
        usleep (20000);
    }
}

//  Waits until the runner knows the program's pid.
static pid_t
s_pgid (hpo_runner_t *runner)
{
    int64_t deadline = hpo_clock_mono_ms () + 5000;
    while (hpo_runner_pgid (runner) == 0 && hpo_clock_mono_ms () < deadline) {
        struct pollfd pfd = {hpo_runner_status_fd (runner), POLLIN, 0};
        poll (&pfd, 1, 50);
        if (hpo_runner_poll (runner))
            break;
    }
    return hpo_runner_pgid (runner);
}

static hpo_runner_t *
s_start (const char *script, char *const *env, uint64_t grace_ms)
{
    char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
    hpo_runner_config_t config = {argv,     env,  s_path ("trial.log"),
                                  grace_ms, NULL, NULL, 0};
    char *error = NULL;
    hpo_runner_t *runner = hpo_runner_new (&config, &error, NULL);
    if (!runner)
        fprintf (stderr, "hpo_runner_new: %s\n", error);
    free (error);
    return runner;
}

static void
test_exit_codes (void)
{
    hpo_runner_t *r = s_start ("exit 0", NULL, 1000);
    CHECK (r);
    CHECK (s_wait (r, NULL, 0, 10000));
    int status = -1;
    CHECK (hpo_runner_status (r, &status) == 1);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    CHECK (hpo_runner_status_fd (r) == -1);
    CHECK (hpo_runner_stop (r) == 0); //  after the end: nothing to do
    hpo_runner_destroy (&r);
    hpo_runner_destroy (&r);
    CHECK (r == NULL);

    r = s_start ("echo out; echo err >&2; exit 3", NULL, 1000);
    CHECK (s_wait (r, NULL, 0, 10000));
    CHECK (hpo_runner_status (r, &status) == 1);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 3);
    char *text = hpo_runner_describe_status (status);
    CHECK_STR (text, "exit status 3");
    free (text);
    hpo_runner_destroy (&r);
    CHECK_CONTAINS (t_slurp (s_path ("trial.log")), "out\nerr\n");

    r = s_start ("kill -9 $$", NULL, 1000);
    CHECK (s_wait (r, NULL, 0, 10000));
    CHECK (hpo_runner_status (r, &status) == 1);
    CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    text = hpo_runner_describe_status (status);
    CHECK_STR (text, "killed by signal 9 (SIGKILL)");
    free (text);
    hpo_runner_destroy (&r);
}

static void
test_reports (void)
{
    hpo_runner_t *r = s_start ("echo step=1 loss=0.5 >&$HPO_REPORT_FD; "
                               "echo to-log; "
                               "printf '{\"loss\": 0.25}\\n' >&3",
                               NULL, 1000);
    char out[1024] = "";
    CHECK (s_wait (r, out, sizeof out, 10000));
    CHECK_STR (out, "step=1 loss=0.5\n{\"loss\": 0.25}\n");
    CHECK_CONTAINS (t_slurp (s_path ("trial.log")), "to-log\n");
    hpo_runner_destroy (&r);
}

static void
test_environment (void)
{
    //  Stale parameters in the worker's own environment must not reach
    //  the program; variables the caller sets replace inherited ones.
    setenv ("HPO_PARAM_STALE", "x", 1);
    setenv ("HPO_TEST_OVERRIDE", "old", 1);
    setenv ("HPO_TEST_INHERIT", "yes", 1);
    //  The worker runs with these blocked; the program must not.
    sigset_t set, old;
    sigemptyset (&set);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGCHLD);
    sigprocmask (SIG_BLOCK, &set, &old);
    signal (SIGUSR1, SIG_IGN);

    char *env[] = {"HPO_STUDY=mnist", "HPO_PARAM_LR=0.001",
                   "HPO_TEST_OVERRIDE=new", "HPO_PARAMS_FILE=/x/y.json", NULL};
    hpo_runner_t *r = s_start (
        "echo \"$HPO_STUDY $HPO_PARAM_LR $HPO_REPORT_FD $HPO_TEST_OVERRIDE "
        "$HPO_TEST_INHERIT ${HPO_PARAM_STALE-unset} $HPO_PARAMS_FILE\" >&3; "
        "echo pgid $(ps -o pgid= -p $$ 2>/dev/null || echo $$) >&3; "
        "echo pid $$ >&3; "

        "echo stdin $(readlink /proc/$$/fd/0) >&3; "
        "grep -E '^Sig(Blk|Ign)' /proc/$$/status | tr '\\t' ' ' >&3",
        env, 1000);
    CHECK (r);
    char out[4096] = "";
    CHECK (s_wait (r, out, sizeof out, 10000));
    CHECK_CONTAINS (out, "mnist 0.001 3 new yes unset /x/y.json\n");

    CHECK_CONTAINS (out, "stdin /dev/null\n");
    CHECK_CONTAINS (out, "SigBlk: 0000000000000000\n");
    CHECK_CONTAINS (out, "SigIgn: 0000000000000000\n");
    //  The program leads its own process group, which the runner knows.
    char *pid = strstr (out, "pid ");
    CHECK (pid && atoi (pid + 4) == (int)hpo_runner_pgid (r));
    int pgid = -1;
    char *p = strstr (out, "pgid ");
    if (p)
        pgid = atoi (p + 5);
    CHECK (pgid == (int)hpo_runner_pgid (r));
    CHECK (hpo_runner_pgid (r) != getpgrp ());
    hpo_runner_destroy (&r);

    sigprocmask (SIG_SETMASK, &old, NULL);
    signal (SIGUSR1, SIG_DFL);
    unsetenv ("HPO_PARAM_STALE");
    unsetenv ("HPO_TEST_OVERRIDE");
    unsetenv ("HPO_TEST_INHERIT");
}

//  The program holds exactly 0-3: nothing of the worker's leaks through.
static void
test_descriptors (void)
{
    //  An extra descriptor without O_CLOEXEC, as a careless library might
    //  leave one.
    int leak = open ("/dev/null", O_RDONLY);
    char *argv[] = {"sleep", "5", NULL};
    hpo_runner_config_t config = {argv, NULL, s_path ("trial.log"),
                                  100,  NULL, NULL, 0};
    char *error = NULL;
    hpo_runner_t *r = hpo_runner_new (&config, &error, NULL);
    CHECK (r);
    pid_t pid = s_pgid (r);
    CHECK (pid > 0);
    //  Wait for the exec, after which the descriptors are final.
    char exe[64], target[256] = "";
    snprintf (exe, sizeof exe, "/proc/%d/exe", (int)pid);
    int64_t deadline = hpo_clock_mono_ms () + 5000;
    while (hpo_clock_mono_ms () < deadline) {
        ssize_t n = readlink (exe, target, sizeof target - 1);
        target[n > 0 ? n : 0] = '\0';
        if (strstr (target, "sleep"))
            break;
        usleep (10000);
    }
    CHECK_CONTAINS (target, "sleep");
    char cmd[128];
    snprintf (cmd, sizeof cmd, "ls /proc/%d/fd | sort -n | tr '\\n' ' '",
              (int)pid);
    //  /proc/PID/exe names the new program a moment before the kernel
    //  closes the O_CLOEXEC descriptors of the exec, so list them until
    //  they settle (a leaked one never goes away: the check still fails).
    char fds[256] = "";
    deadline = hpo_clock_mono_ms () + 5000;
    do {
        FILE *p = popen (cmd, "r");
        fds[0] = '\0';
        CHECK (p && fgets (fds, sizeof fds, p));
        if (p)
            pclose (p);
        if (!strcmp (fds, "0 1 2 3 "))
            break;
        usleep (10000);
    } while (hpo_clock_mono_ms () < deadline);
    CHECK_STR (fds, "0 1 2 3 ");
    snprintf (cmd, sizeof cmd, "/proc/%d/fd/3", (int)pid);
    ssize_t n = readlink (cmd, target, sizeof target - 1);
    target[n > 0 ? n : 0] = '\0';
    CHECK_CONTAINS (target, "pipe:");
    //  The shim names itself, so pgrep hpo-worker does not count it.
    snprintf (cmd, sizeof cmd, "/proc/%d/comm", (int)hpo_runner_shim_pid (r));
    CHECK_STR (t_slurp (cmd), "hpo-shim\n");
    CHECK (hpo_runner_stop (r) == 0);
    CHECK (s_wait (r, NULL, 0, 10000));
    hpo_runner_destroy (&r);
    close (leak);
}

static void
test_stop (void)
{
    //  A polite program: SIGTERM ends it and its background child at once.
    hpo_runner_t *r = s_start ("sleep 100 & echo $! >&3; wait", NULL, 5000);
    char line[64];
    CHECK (s_read_line (r, line, sizeof line, 5000) == 0);
    pid_t grandchild = atoi (line);
    CHECK (grandchild > 0);
    int64_t t0 = hpo_clock_mono_ms ();
    CHECK (hpo_runner_stop (r) == 0);
    CHECK (hpo_runner_stop (r) == 0); //  twice is fine
    CHECK (s_wait (r, NULL, 0, 10000));
    CHECK (hpo_clock_mono_ms () - t0 < 4000); //  well before the grace
    int status;
    CHECK (hpo_runner_status (r, &status) == 1);
    CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGTERM);
    CHECK (s_wait_gone (grandchild, 5000));
    hpo_runner_destroy (&r);

    //  A stubborn one ignores SIGTERM (and so does its child, which
    //  inherits the disposition): SIGKILL after the grace period takes
    //  the whole group, grandchild included.
    r = s_start ("trap '' TERM; sleep 100 & echo $! >&3; "
                 "while :; do sleep 1; done",
                 NULL, 300);
    CHECK (s_read_line (r, line, sizeof line, 5000) == 0);
    grandchild = atoi (line);
    CHECK (grandchild > 0 && !s_gone (grandchild));
    pid_t pgid = s_pgid (r);
    CHECK (pgid > 0);
    t0 = hpo_clock_mono_ms ();
    CHECK (hpo_runner_stop (r) == 0);
    CHECK (s_wait (r, NULL, 0, 10000));
    int64_t took = hpo_clock_mono_ms () - t0;
    CHECK (took >= 250 && took < 4000);
    CHECK (hpo_runner_status (r, &status) == 1);
    CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    CHECK (s_wait_gone (grandchild, 5000));
    CHECK (s_wait_group_gone (pgid, 5000));
    hpo_runner_destroy (&r);

    //  A program that exits on its own but leaves a child behind: the
    //  shim sweeps the group, and the report pipe (which the child also
    //  held) reaches end-of-file.
    r = s_start ("sleep 100 & echo $! >&3; exit 0", NULL, 300);
    char out[256] = "";
    CHECK (s_wait (r, out, sizeof out, 10000));
    grandchild = atoi (out);
    CHECK (grandchild > 0);
    CHECK (hpo_runner_status (r, &status) == 1);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    CHECK (s_wait_gone (grandchild, 5000));
    hpo_runner_destroy (&r);
}

static void
test_start_errors (void)
{
    char *argv[] = {"hpo-no-such-program-xyz", "arg", NULL};
    hpo_runner_config_t config = {argv, NULL, s_path ("trial.log"),
                                  100,  NULL, NULL, 0};
    char *error = NULL;
    CHECK (hpo_runner_new (&config, &error, NULL) == NULL);
    CHECK_STR (error, "command not found: hpo-no-such-program-xyz");
    free (error);

    char *empty[] = {NULL};
    config.argv = empty;
    CHECK (hpo_runner_new (&config, &error, NULL) == NULL);
    CHECK_STR (error, "empty command");
    free (error);

    char *sh[] = {"sh", "-c", "exit 0", NULL};
    config.argv = sh;
    config.log_path = s_path ("no/such/dir/trial.log");
    CHECK (hpo_runner_new (&config, &error, NULL) == NULL);
    CHECK_CONTAINS (error, "cannot open log");
    free (error);

    //  PATH lookup uses the PATH the program will get.
    char *env[] = {"PATH=/nonexistent", NULL};
    config.env = env;
    config.log_path = s_path ("trial.log");
    CHECK (hpo_runner_new (&config, &error, NULL) == NULL);
    CHECK_STR (error, "command not found: sh");
    free (error);
    config.env = NULL;

    //  s_path's buffers are reused: keep the log's path apart.
    static char log_path[256];
    snprintf (log_path, sizeof log_path, "%s", s_path ("trial.log"));
    config.log_path = log_path;

    //  A path that exists but cannot be executed is refused before fork,
    //  as one that does not exist; both are the command's fault.
    char *data = s_path ("data");
    FILE *f = fopen (data, "w");
    fprintf (f, "not a program\n");
    fclose (f);
    char *bad[] = {data, NULL};
    config.argv = bad;
    hpo_runner_fault_t fault = 0;
    CHECK (hpo_runner_new (&config, &error, &fault) == NULL);
    CHECK (fault == HPO_RUNNER_FAULT_COMMAND);
    CHECK_CONTAINS (error, "data: Permission denied");
    CHECK_STR (error + strlen (error) - 5, "enied");
    free (error);
    char *missing[] = {s_path ("no-such-file"), NULL};
    config.argv = missing;
    CHECK (hpo_runner_new (&config, &error, &fault) == NULL);
    CHECK (fault == HPO_RUNNER_FAULT_COMMAND);
    CHECK_CONTAINS (error, "command not found: /");
    free (error);

    //  A workdir that is not there, or not a directory.
    char *sh_ok[] = {"sh", "-c", "exit 0", NULL};
    config.argv = sh_ok;
    config.workdir = s_path ("no-such-dir");
    CHECK (hpo_runner_new (&config, &error, &fault) == NULL);
    CHECK (fault == HPO_RUNNER_FAULT_WORKDIR);
    CHECK_CONTAINS (error, "no-such-dir: No such file or directory");
    free (error);
    config.workdir = data;
    CHECK (hpo_runner_new (&config, &error, &fault) == NULL);
    CHECK (fault == HPO_RUNNER_FAULT_WORKDIR);
    CHECK_CONTAINS (error, "data: not a directory");
    free (error);
    config.workdir = NULL;

    //  What only exec can tell (the #! line names no interpreter there)
    //  fails after fork: the log says why and the status is 127, as from
    //  a shell.
    CHECK (truncate (s_path ("trial.log"), 0) == 0);
    char *bang = s_path ("badbang");
    f = fopen (bang, "w");
    fprintf (f, "#!/hpo-no-such-interpreter\n");
    fclose (f);
    CHECK (chmod (bang, 0755) == 0);
    char *bad_bang[] = {bang, NULL};
    config.argv = bad_bang;
    hpo_runner_t *r = hpo_runner_new (&config, &error, NULL);
    CHECK (r);
    CHECK (r && s_wait (r, NULL, 0, 10000));
    int status;
    CHECK (r && hpo_runner_status (r, &status) == 1 && WIFEXITED (status) &&
           WEXITSTATUS (status) == 127);
    CHECK_CONTAINS (t_slurp (s_path ("trial.log")), HPO_RUNNER_EXEC_MSG);
    CHECK_CONTAINS (t_slurp (s_path ("trial.log")),
                    "badbang': no such file or directory");
    hpo_runner_destroy (&r);

    //  The program runs in workdir; a relative argv[0] is found there.
    CHECK (truncate (s_path ("trial.log"), 0) == 0);
    char *wd = s_path ("wd");
    CHECK (mkdir (wd, 0755) == 0 || errno == EEXIST);
    char script_path[512];
    snprintf (script_path, sizeof script_path, "%s/run.sh", wd);
    f = fopen (script_path, "w");
    fprintf (f, "#!/bin/sh\npwd\n");
    fclose (f);
    CHECK (chmod (script_path, 0755) == 0);
    char *rel[] = {"./run.sh", NULL};
    config.argv = rel;
    config.workdir = wd;
    r = hpo_runner_new (&config, &error, NULL);
    CHECK (r && s_wait (r, NULL, 0, 10000));
    CHECK (r && hpo_runner_status (r, &status) == 1 && WIFEXITED (status) &&
           WEXITSTATUS (status) == 0);
    char expect[512];
    snprintf (expect, sizeof expect, "%s\n", wd);
    CHECK_STR (t_slurp (s_path ("trial.log")), expect);
    hpo_runner_destroy (&r);
    config.workdir = NULL;

    //  An executable script without "#!" runs under /bin/sh, as execvp
    //  would run it.
    char *script = s_path ("script");
    f = fopen (script, "w");
    fprintf (f, "echo script-ran $1 >&3\n");
    fclose (f);
    chmod (script, 0755);
    char *run[] = {script, "arg1", NULL};
    config.argv = run;
    r = hpo_runner_new (&config, &error, NULL);
    char out[256] = "";
    CHECK (r && s_wait (r, out, sizeof out, 10000));
    CHECK_STR (out, "script-ran arg1\n");
    hpo_runner_destroy (&r);
}

static void
test_sigchld_ignored (void)
{
    //  A worker that ignores SIGCHLD auto-reaps its shims; the program's
    //  status must still come through the pipe.
    signal (SIGCHLD, SIG_IGN);
    hpo_runner_t *r = s_start ("exit 5", NULL, 100);
    CHECK (s_wait (r, NULL, 0, 10000));
    int status;
    CHECK (hpo_runner_status (r, &status) == 1);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 5);
    hpo_runner_destroy (&r);
    signal (SIGCHLD, SIG_DFL);
}

//  A worker dies (SIGKILL or plain exit) while its trial runs: the shim
//  gets SIGTERM from PR_SET_PDEATHSIG and takes the group down, grace and
//  SIGKILL included, because the program ignores SIGTERM.
static void
test_worker_death (int by_sigkill)
{
    int fds[2];
    CHECK (pipe (fds) == 0);
    pid_t worker = fork ();
    if (worker == 0) {
        close (fds[0]);
        hpo_runner_t *r = s_start ("trap '' TERM; sleep 100 & echo $! >&3; "
                                   "while :; do sleep 1; done",
                                   NULL, 300);
        char line[64];
        if (!r || s_read_line (r, line, sizeof line, 5000) != 0)
            _exit (1);
        int pids[3] = {atoi (line), (int)s_pgid (r),
                       (int)hpo_runner_shim_pid (r)};
        if (write (fds[1], pids, sizeof pids) != sizeof pids)
            _exit (1);
        if (by_sigkill)
            pause (); //  the test kills us
        _exit (0);
    }
    close (fds[1]);
    int pids[3] = {0, 0, 0};
    struct pollfd pfd = {fds[0], POLLIN, 0};
    CHECK (poll (&pfd, 1, 10000) == 1);
    CHECK (read (fds[0], pids, sizeof pids) == sizeof pids);
    close (fds[0]);
    pid_t grandchild = pids[0], pgid = pids[1], shim = pids[2];
    CHECK (grandchild > 0 && pgid > 0 && shim > 0);
    CHECK (grandchild > 0 && !s_gone (grandchild));
    if (by_sigkill)
        kill (worker, SIGKILL);
    int status;
    CHECK (waitpid (worker, &status, 0) == worker);
    if (grandchild <= 0 || pgid <= 0 || shim <= 0)
        return;
    CHECK (s_wait_gone (grandchild, 5000));
    CHECK (s_wait_gone (pgid, 5000));
    CHECK (s_wait_group_gone (pgid, 5000));
    CHECK (s_wait_gone (shim, 5000));
}

//  Reads the pids a program reports, one a line, until it has n of them.
static int
s_read_pids (hpo_runner_t *r, pid_t *pids, int n)
{
    for (int k = 0; k < n; k++) {
        char line[64];
        if (s_read_line (r, line, sizeof line, 5000) != 0)
            return -1;
        pids[k] = atoi (line);
        if (pids[k] <= 0)
            return -1;
    }
    return 0;
}

//  Processes that left the program's group (setsid, a double fork whose
//  middle process exited) are swept too when the program exits, and the
//  report pipe they held reaches end-of-file.
static void
test_escapees (void)
{
    hpo_runner_t *r = s_start ("sleep 100 & echo $! >&3; "
                               "setsid sleep 100 & echo $! >&3; "
                               "(setsid sleep 100 & echo $! >&3); "
                               "echo done >&3; exit 0",
                               NULL, 300);
    CHECK (r);
    pid_t pids[3] = {0, 0, 0};
    CHECK (r && s_read_pids (r, pids, 3) == 0);
    char out[256] = "";
    CHECK (r && s_wait (r, out, sizeof out, 10000));
    for (int k = 0; k < 3; k++)
        CHECK (pids[k] > 0 && s_wait_gone (pids[k], 5000));
    //  No descriptor of the pipe is left open anywhere.
    CHECK (r && hpo_runner_report_fd (r) == -1);
    hpo_runner_destroy (&r);
}

//  trial.grace 0: SIGKILL at once, even for a program that ignores
//  SIGTERM.
static void
test_no_grace (void)
{
    hpo_runner_t *r = s_start ("trap '' TERM; echo $$ >&3; "
                               "while :; do sleep 1; done",
                               NULL, 0);
    pid_t pid = 0;
    CHECK (r && s_read_pids (r, &pid, 1) == 0);
    int64_t t0 = hpo_clock_mono_ms ();
    CHECK (hpo_runner_stop (r) == 0);
    CHECK (s_wait (r, NULL, 0, 10000));
    CHECK (hpo_clock_mono_ms () - t0 < 1000);
    int status;
    CHECK (hpo_runner_status (r, &status) == 1);
    CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    CHECK (s_wait_gone (pid, 5000));
    hpo_runner_destroy (&r);
}

//  The worker's whole process group is killed (systemctl kill, Slurm, a
//  terminal's Ctrl-\): the shim, in a session of its own, survives the
//  kill, notices its worker died and stops the trial, grandchildren and
//  escaped processes included, though the program ignores SIGTERM.
static void
test_group_kill (void)
{
    int fds[2];
    CHECK (pipe (fds) == 0);
    pid_t worker = fork ();
    if (worker == 0) {
        setpgid (0, 0);
        close (fds[0]);
        hpo_runner_t *r = s_start ("trap '' TERM; sleep 100 & echo $! >&3; "
                                   "setsid sleep 100 & echo $! >&3; "
                                   "echo $$ >&3; "
                                   "while :; do sleep 1; done",
                                   NULL, 300);
        pid_t pids[4];
        if (!r || s_read_pids (r, pids, 3) != 0)
            _exit (1);
        pids[3] = hpo_runner_shim_pid (r);
        if (write (fds[1], pids, sizeof pids) != sizeof pids)
            _exit (1);
        pause (); //  the test kills us
        _exit (0);
    }
    close (fds[1]);
    pid_t pids[4] = {0, 0, 0, 0};
    struct pollfd pfd = {fds[0], POLLIN, 0};
    CHECK (poll (&pfd, 1, 10000) == 1);
    CHECK (read (fds[0], pids, sizeof pids) == sizeof pids);
    close (fds[0]);
    //  The shim is out of the worker's group; the program out of both.
    CHECK (pids[3] > 0 && getpgid (pids[3]) != worker);
    kill (-worker, SIGKILL);
    int status;
    CHECK (waitpid (worker, &status, 0) == worker);
    for (int k = 0; k < 4; k++)
        CHECK (pids[k] > 0 && s_wait_gone (pids[k], 5000));
}

int
main (void)
{
    //  Orphans come to us, so they can be reaped and checked for.
    if (t_proc_setup (s_dir, sizeof s_dir, "runner") < 0)
        return 1;
    test_exit_codes ();
    test_reports ();
    test_environment ();
    test_descriptors ();
    test_stop ();
    test_start_errors ();
    test_sigchld_ignored ();
    test_worker_death (1);
    test_worker_death (0);
    test_escapees ();
    test_no_grace ();
    test_group_kill ();

    t_proc_cleanup (s_dir);
    TEST_DONE ();
}
