#include "runner.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"

extern char **environ;

//  Exit codes of a shim that could not run the program; the worker sees
//  them only when the status pipe did not deliver a status.
#define S_SHIM_ORPHAN 124 //  the worker died before the shim got going
#define S_SHIM_NOFORK 125 //  fork of the program failed
//  Exit codes of the program's process before exec, as shells use them.
#define S_CHILD_SETUP 126
#define S_CHILD_NOEXEC 127

struct _hpo_runner_t {
    pid_t shim;           //  0 once reaped
    pid_t pgid;           //  the program's pid and group; 0 until known
    int status_fd;        //  read end of the status pipe, -1 once done
    int report_fd;        //  read end of the report pipe, -1 after EOF
    unsigned char got[8]; //  pgid then status, as the shim wrote them
    size_t n_got;
    int stopped; //  SIGTERM sent to the shim
    int done;
    int shim_status; //  the shim's own wait status
    int has_status;  //  child_status came through the pipe
    int child_status;
    char *prefix; //  "trial mnist#3 attempt 1: " for log lines, or ""
};

//  Everything the two forked processes need, made before fork so that
//  after it nothing allocates, locks or formats.
typedef struct {
    char *path; //  resolved program
    char *const *argv;
    char **sh_argv; //  /bin/sh path args..., if exec says ENOEXEC
    char **envp;
    int log_fd, null_fd, report_w, status_w;
    int stdout_reports; //  stdout is the report pipe; no fd 3
    pid_t worker;       //  the shim checks it still has this parent
    struct timespec grace;
    int max_fd;          //  for closing by hand without close_range
    char *exec_msg;      //  "hpo-worker: cannot execute 'x': "
    const char *workdir; //  NULL: stay where the worker is
    char *chdir_msg;     //  "hpo-worker: cannot enter workdir 'd': "
} s_plan_t;

//  ---- after fork: async-signal-safe code only -------------------------------

static void
s_write_all (int fd, const void *data, size_t size)
{
    const char *p = data;
    while (size > 0) {
        ssize_t n = write (fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; //  nobody to tell; the caller exits next
        p += n;
        size -= (size_t)n;
    }
}

static void
s_write_str (int fd, const char *s)
{
    s_write_all (fd, s, strlen (s));
}

//  strerror is not async-signal-safe (it may translate and allocate);
//  these are the errors execve gives for a bad program in practice.
static const char *
s_errno_text (int err)
{
    switch (err) {
    case EACCES:
        return "permission denied";
    case ENOENT:
        return "no such file or directory";
    case ENOEXEC:
        return "exec format error";
    case ENOTDIR:
        return "not a directory";
    case E2BIG:
        return "argument list too long";
    case ENOMEM:
        return "out of memory";
    case ELOOP:
        return "too many levels of symbolic links";
    case ETXTBSY:
        return "text file busy";
    case EMFILE:
        return "too many open files";
    case EISDIR:
        return "is a directory";
    }
    return "system error";
}

//  Closes every descriptor from low up.
static void
s_close_from (int low, int max_fd)
{
#ifdef SYS_close_range
    if (syscall (SYS_close_range, (unsigned)low, ~0u, 0) == 0)
        return;
#endif
    for (int fd = low; fd < max_fd; fd++)
        close (fd);
}

//  Closes every descriptor except the n in keep (n small).
static void
s_close_except (int *keep, int n, int max_fd)
{
    //  Insertion sort: n is 4.
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
            int t = keep[j];
            keep[j] = keep[j - 1];
            keep[j - 1] = t;
        }
    int low = 0;
    for (int i = 0; i < n; i++) {
        for (int fd = low; fd < keep[i]; fd++)
            close (fd);
        low = keep[i] + 1;
    }
    s_close_from (low, max_fd);
}

static void
s_timespec_add (struct timespec *t, const struct timespec *d)
{
    t->tv_sec += d->tv_sec;
    t->tv_nsec += d->tv_nsec;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

//  Signals the program's group; falls back to the program alone if the
//  group never came to be (setpgid failed in both processes).
static void
s_kill_group (pid_t child, int sig)
{
    if (kill (-child, sig) < 0 && errno == ESRCH)
        kill (child, sig);
}

//  "/proc/PID/stat" into path (32 bytes), without snprintf.
static void
s_stat_path (char *path, pid_t pid)
{
    char digits[16];
    int n = 0;
    unsigned v = (unsigned)pid;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) && n < 15);
    memcpy (path, "/proc/", 6);
    int k = 6;
    while (n > 0)
        path[k++] = digits[--n];
    memcpy (path + k, "/stat", 6);
}

//  The parent and state of pid, from /proc. Returns 0, or -1 if it is
//  gone (or /proc cannot say).
static int
s_proc_parent (pid_t pid, pid_t *ppid, char *state)
{
    char path[32], buf[256];
    s_stat_path (path, pid);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n;
    do
        n = read (fd, buf, sizeof buf - 1);
    while (n < 0 && errno == EINTR);
    close (fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    //  "pid (comm) S ppid ...": comm may hold ')' and blanks, but nothing
    //  after it does.
    char *p = NULL;
    for (char *q = buf; *q; q++)
        if (*q == ')')
            p = q;
    if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
        return -1;
    *state = p[2];
    long v = 0;
    for (p += 4; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (*p - '0');
    *ppid = (pid_t)v;
    return 0;
}

//  Every process on the host, as (pid, parent, state), for the sweep. In
//  the shim's memory only (never touched by the worker), so no allocation
//  is needed after fork.
#define S_MAX_PROCS 65536
static struct {
    pid_t pid, ppid;
    char state;
    char mark;
} s_procs[S_MAX_PROCS];

//  Fills s_procs from /proc with getdents64 (opendir allocates). Returns
//  the count, or -1 if /proc cannot be read.
static int
s_proc_scan (void)
{
    int dir = open ("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return -1;
    int n = 0;
    char buf[8192];
    for (;;) {
        long got = syscall (SYS_getdents64, dir, buf, sizeof buf);
        if (got <= 0)
            break;
        for (long off = 0; off < got;) {
            //  struct linux_dirent64: ino 8, off 8, reclen 2, type 1, name.
            unsigned short reclen;
            memcpy (&reclen, buf + off + 16, sizeof reclen);
            const char *name = buf + off + 19;
            off += reclen;
            long pid = 0;
            const char *c = name;
            for (; *c >= '0' && *c <= '9'; c++)
                pid = pid * 10 + (*c - '0');
            if (*c || c == name || n == S_MAX_PROCS)
                continue;
            if (s_proc_parent ((pid_t)pid, &s_procs[n].ppid,
                               &s_procs[n].state) == 0) {
                s_procs[n].pid = (pid_t)pid;
                s_procs[n].mark = 0;
                n++;
            }
        }
    }
    close (dir);
    return n;
}

//  Sends sig to the program's group and to every descendant of the shim
//  still alive, however it left the group (setsid, a double fork: as the
//  shim is a child subreaper, orphans of the tree are reparented to it
//  and stay its descendants). Returns how many live descendants it found
//  (0 if /proc cannot be read: then only the group is reached).
static int
s_kill_tree (pid_t shim, pid_t child, int sig)
{
    s_kill_group (child, sig);
    int n = s_proc_scan ();
    if (n < 0)
        return 0;
    //  Mark the shim's children, then their children, and so on: a pass
    //  per generation, each looking parents up among the marked.
    static pid_t marked[4096];
    int n_marked = 0, found = 0, grew = 1;
    marked[n_marked++] = shim;
    while (grew && n_marked < 4096) {
        grew = 0;
        for (int k = 0; k < n && n_marked < 4096; k++) {
            if (s_procs[k].mark)
                continue;
            for (int j = 0; j < n_marked; j++)
                if (s_procs[k].ppid == marked[j]) {
                    s_procs[k].mark = 1;
                    marked[n_marked++] = s_procs[k].pid;
                    grew = 1;
                    break;
                }
        }
    }
    for (int k = 0; k < n; k++)
        if (s_procs[k].mark && s_procs[k].state != 'Z') {
            kill (s_procs[k].pid, sig);
            found++;
        }
    return found;
}

//  After the program's end: SIGKILL what is left of its tree and reap it
//  all, until nothing is left (bounded: a process stuck in the kernel
//  may take a while to die; we do not wait for ever).
static void
s_sweep (pid_t shim, pid_t child)
{
    struct timespec pause = {0, 10 * 1000 * 1000};
    for (int round = 0; round < 300; round++) {
        int found = s_kill_tree (shim, child, SIGKILL);
        int status;
        pid_t r;
        while ((r = waitpid (-1, &status, WNOHANG)) > 0)
            ;
        if (found == 0 && r < 0 && errno == ECHILD)
            return;
        nanosleep (&pause, NULL);
    }
}

//  The training program's process, between fork and exec.
static void __attribute__ ((noreturn))
s_child (const s_plan_t *plan, pid_t shim)
{
    //  Own group first, so the shim's kill (-pid) reaches everything the
    //  program starts. The shim calls setpgid too: whichever runs first.
    setpgid (0, 0);
    //  If the shim dies without reaping us (it was SIGKILLed), stop.
    prctl (PR_SET_PDEATHSIG, SIGTERM);
    if (getppid () != shim)
        _exit (S_CHILD_SETUP);

    //  Lift the descriptors out of 0-3 first, so no dup2 below can
    //  overwrite one still needed.
    int null_fd = fcntl (plan->null_fd, F_DUPFD, 10);
    int log_fd = fcntl (plan->log_fd, F_DUPFD, 10);
    int report_fd = fcntl (plan->report_w, F_DUPFD, 10);
    if (null_fd < 0 || log_fd < 0 || report_fd < 0)
        _exit (S_CHILD_SETUP);
    if (plan->stdout_reports) {
        if (dup2 (null_fd, 0) < 0 || dup2 (report_fd, 1) < 0 ||
            dup2 (log_fd, 2) < 0)
            _exit (S_CHILD_SETUP);
        s_close_from (3, plan->max_fd);
    } else {
        if (dup2 (null_fd, 0) < 0 || dup2 (log_fd, 1) < 0 ||
            dup2 (log_fd, 2) < 0 || dup2 (report_fd, HPO_RUNNER_REPORT_FD) < 0)
            _exit (S_CHILD_SETUP);
        s_close_from (HPO_RUNNER_REPORT_FD + 1, plan->max_fd);
    }

    //  Dispositions set to "ignore" and the blocked mask survive exec; a
    //  program started with SIGTERM blocked could not be stopped nicely.
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        sigaction (sig, &sa, NULL); //  EINVAL for KILL, STOP: harmless
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);

    //  Checked before fork; this fails only if it changed since.
    if (plan->workdir && chdir (plan->workdir) < 0) {
        int err = errno;
        s_write_str (2, plan->chdir_msg);
        s_write_str (2, s_errno_text (err));
        s_write_str (2, "\n");
        _exit (S_CHILD_NOEXEC);
    }
    execve (plan->path, plan->argv, plan->envp);
    if (errno == ENOEXEC)
        //  A script without #!: run it the way execvp and shells do.
        execve ("/bin/sh", plan->sh_argv, plan->envp);
    int err = errno;
    s_write_str (2, plan->exec_msg);
    s_write_str (2, s_errno_text (err));
    s_write_str (2, "\n");
    _exit (S_CHILD_NOEXEC);
}

//  The shim's first steps, before it forks the program.
static void
s_shim_setup (const s_plan_t *plan)
{
    //  Every signal arrives blocked (the parent blocked all around fork)
    //  and stays so: the shim takes the few it cares for with sigwaitinfo
    //  and lets the rest wait, so a stray signal cannot kill it.
    //  SIGCHLD must not be ignored, or the program would be reaped
    //  without us; the worker may have inherited SIG_IGN.
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction (SIGCHLD, &sa, NULL);

    //  Out of the worker's session and process group: a kill of the
    //  worker's whole group (systemctl kill, Slurm, a terminal's Ctrl-\\)
    //  must not take the shim with it, or nobody would stop the trial.
    //  The worker forwards the stops it wants.
    setsid ();
    //  SIGTERM when the worker dies, even by SIGKILL. If it died before
    //  this line, we have been reparented already and must not start.
    if (prctl (PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid () != plan->worker)
        _exit (S_SHIM_ORPHAN);
    //  Orphans of the trial's tree (a double fork, a setsid daemon) come
    //  to us rather than to init, so the sweep can find and reap them.
    //  If the kernel says no, the program's group is still swept.
    prctl (PR_SET_CHILD_SUBREAPER, 1);
    //  So that ps and pgrep tell shims from workers ("pgrep -x hpo-worker"
    //  must not count them).
    prctl (PR_SET_NAME, "hpo-shim");

    //  Hold nothing of the worker's (its sockets, other trials' pipes):
    //  a connection must close when the worker dies, not when we do.
    int keep[4] = {plan->log_fd, plan->null_fd, plan->report_w, plan->status_w};
    s_close_except (keep, 4, plan->max_fd);
}

//  The shim while the program runs.
typedef struct {
    const s_plan_t *plan;
    pid_t shim, child;
    int stopping; //  1: SIGTERM sent, 2: SIGKILL sent
    struct timespec kill_at;
} s_watch_t;

//  Waits for a signal of set; during the grace period only until it is
//  over, and then SIGKILLs the tree. Returns the signal, or -1 (EINTR,
//  or the grace ran out).
static int
s_shim_sigwait (s_watch_t *w, const sigset_t *set)
{
    siginfo_t info;
    if (w->stopping != 1)
        return sigwaitinfo (set, &info);
    struct timespec now, left;
    clock_gettime (CLOCK_MONOTONIC, &now);
    left.tv_sec = w->kill_at.tv_sec - now.tv_sec;
    left.tv_nsec = w->kill_at.tv_nsec - now.tv_nsec;
    if (left.tv_nsec < 0) {
        left.tv_sec--;
        left.tv_nsec += 1000000000L;
    }
    int sig = left.tv_sec < 0 ? -1 : sigtimedwait (set, &info, &left);
    if (left.tv_sec < 0 || (sig < 0 && errno == EAGAIN)) {
        s_kill_tree (w->shim, w->child, SIGKILL);
        w->stopping = 2;
        return -1;
    }
    return sig;
}

//  A stop (SIGTERM, SIGINT, SIGHUP): SIGTERM to the tree and SIGKILL
//  after the grace period, or SIGKILL at once without one.
static void
s_shim_stop (s_watch_t *w)
{
    if (w->stopping != 0)
        return;
    const s_plan_t *plan = w->plan;
    if (plan->grace.tv_sec == 0 && plan->grace.tv_nsec == 0) {
        s_kill_tree (w->shim, w->child, SIGKILL); //  no grace
        w->stopping = 2;
    } else {
        s_kill_tree (w->shim, w->child, SIGTERM);
        clock_gettime (CLOCK_MONOTONIC, &w->kill_at);
        s_timespec_add (&w->kill_at, &plan->grace);
        w->stopping = 1;
    }
}

//  After SIGCHLD, also sent when the program stops or continues, and for
//  orphans of its tree, which we reap: returns 1 with *status once the
//  program itself exited.
static int
s_shim_reap (pid_t child, int *status)
{
    int st;
    pid_t r;
    while ((r = waitpid (-1, &st, WNOHANG)) > 0)
        if (r == child) {
            *status = st;
            return 1;
        }
    if (r < 0 && errno == ECHILD) {
        *status = 0;
        return 1; //  cannot happen; never spin on it
    }
    return 0;
}

//  Waits for the program's exit, stopping it when asked. Returns its
//  wait status.
static int
s_shim_wait (const s_plan_t *plan, pid_t shim, pid_t child)
{
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGCHLD);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGHUP);
    s_watch_t w = {plan, shim, child, 0, {0, 0}};
    for (;;) {
        int sig = s_shim_sigwait (&w, &set);
        int status;
        if (sig == SIGCHLD && s_shim_reap (child, &status))
            return status;
        if (sig >= 0 && sig != SIGCHLD)
            s_shim_stop (&w);
    }
}

//  The shim: starts the program, waits for it or for a stop, reports.
static void __attribute__ ((noreturn)) s_shim (const s_plan_t *plan)
{
    s_shim_setup (plan);
    pid_t shim = getpid ();
    pid_t child = fork ();
    if (child < 0)
        _exit (S_SHIM_NOFORK);
    if (child == 0)
        s_child (plan, shim);
    setpgid (child, child); //  EACCES once the child exec'd: it did it
    //  Only the program may hold the report pipe's write end, so its
    //  end-of-file means the program's group is gone.
    close (plan->report_w);
    close (plan->log_fd);
    close (plan->null_fd);
    int32_t pid32 = (int32_t)child;
    s_write_all (plan->status_w, &pid32, sizeof pid32);
    int status = s_shim_wait (plan, shim, child);
    //  The program is gone; whatever it left behind, in its group or out
    //  of it, goes too, before the worker hears that the attempt ended.
    s_sweep (shim, child);
    int32_t status32 = (int32_t)status;
    s_write_all (plan->status_w, &status32, sizeof status32);
    _exit (0);
}

//  ---- before fork -------------------------------------------------------

//  The environment: the worker's, minus names the caller sets and stale
//  HPO_PARAM_*, plus the caller's, plus HPO_REPORT_FD (unless the reports
//  are stdout). Strings borrowed.
static char **
s_build_env (char *const *extra, int stdout_reports)
{
    size_t n_inherit = 0, n_extra = 0;
    for (char **e = environ; e && *e; e++)
        n_inherit++;
    for (char *const *e = extra; e && *e; e++)
        n_extra++;
    char **envp = hpo_calloc (n_inherit + n_extra + 2, sizeof (char *));
    size_t n = 0;
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr (*e, '=');
        size_t name_len = eq ? (size_t)(eq - *e) : strlen (*e);
        if (strncmp (*e, "HPO_PARAM_", 10) == 0 ||
            strncmp (*e, "HPO_REPORT_FD=", 14) == 0)
            continue;
        int overridden = 0;
        for (char *const *x = extra; x && *x && !overridden; x++)
            if (strncmp (*x, *e, name_len) == 0 && (*x)[name_len] == '=')
                overridden = 1;
        if (!overridden)
            envp[n++] = *e;
    }
    for (char *const *x = extra; x && *x; x++)
        envp[n++] = *x;
    static char report_fd[] = "HPO_REPORT_FD=3";
    assert (HPO_RUNNER_REPORT_FD == 3);
    if (!stdout_reports)
        envp[n++] = report_fd;
    envp[n] = NULL;
    return envp;
}

//  Whether path names an executable regular file, a relative path
//  taken from workdir (NULL: from here). Sets errno when not.
static int
s_executable (const char *path, const char *workdir)
{
    char *full = workdir && path[0] != '/'
                     ? hpo_sprintf ("%s/%s", workdir, path)
                     : hpo_strdup (path);
    struct stat st;
    int ok = stat (full, &st) == 0;
    if (ok && !S_ISREG (st.st_mode)) {
        errno = S_ISDIR (st.st_mode) ? EISDIR : EACCES;
        ok = 0;
    }
    if (ok && access (full, X_OK) < 0)
        ok = 0;
    int saved = errno;
    free (full);
    errno = saved;
    return ok;
}

//  Looks name up in PATH as execvp would, from workdir. Returns a
//  malloc'd path, or NULL with *error set: no directory holds an
//  executable file of that name, or the path given is no such file.
static char *
s_find_program (const char *name, char *const *envp, const char *workdir,
                char **error)
{
    if (strchr (name, '/')) {
        if (s_executable (name, workdir))
            return hpo_strdup (name);
        if (errno == ENOENT || errno == ENOTDIR)
            *error = hpo_sprintf ("command not found: %s", name);
        else
            *error =
                hpo_sprintf ("cannot execute %s: %s", name, strerror (errno));
        return NULL;
    }
    const char *path = NULL;
    for (char *const *e = envp; *e; e++)
        if (strncmp (*e, "PATH=", 5) == 0)
            path = *e + 5; //  s_build_env left at most one
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    const char *p = path;
    for (;;) {
        const char *colon = strchr (p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen (p);
        char *candidate = len ? hpo_sprintf ("%.*s/%s", (int)len, p, name)
                              : hpo_strdup (name); //  empty entry: "."
        if (s_executable (candidate, workdir))
            return candidate;
        free (candidate);
        if (!colon) {
            *error = hpo_sprintf ("command not found: %s", name);
            return NULL;
        }
        p = colon + 1;
    }
}

//  The workdir, if any, is a directory we may enter. Returns 0, or -1
//  with *error set.
static int
s_check_workdir (const char *workdir, char **error)
{
    struct stat st;
    if (stat (workdir, &st) < 0)
        *error = hpo_sprintf ("workdir %s: %s", workdir, strerror (errno));
    else if (!S_ISDIR (st.st_mode))
        *error = hpo_sprintf ("workdir %s: not a directory", workdir);
    else if (access (workdir, X_OK) < 0)
        *error = hpo_sprintf ("workdir %s: %s", workdir, strerror (errno));
    else
        return 0;
    return -1;
}

static void
s_close (int *fd_p)
{
    if (*fd_p >= 0) {
        close (*fd_p);
        *fd_p = -1;
    }
}

//  What the program runs with: environment, path, arguments, grace.
//  Returns 0, or -1 with *error set.
static int
s_plan_make (s_plan_t *plan, const hpo_runner_config_t *config, char **error,
             hpo_runner_fault_t *fault)
{
    plan->envp = s_build_env (config->env, config->stdout_reports);
    plan->stdout_reports = config->stdout_reports;
    if (config->workdir && *config->workdir) {
        if (s_check_workdir (config->workdir, error)) {
            *fault = HPO_RUNNER_FAULT_WORKDIR;
            return -1;
        }
        plan->workdir = config->workdir;
        plan->chdir_msg =
            hpo_sprintf (HPO_RUNNER_CHDIR_MSG "%s': ", config->workdir);
    }
    plan->path =
        s_find_program (config->argv[0], plan->envp, plan->workdir, error);
    if (!plan->path) {
        *fault = HPO_RUNNER_FAULT_COMMAND;
        return -1;
    }
    plan->argv = config->argv;
    size_t argc = 0;
    while (config->argv[argc])
        argc++;
    plan->sh_argv = hpo_calloc (argc + 2, sizeof (char *));
    plan->sh_argv[0] = "/bin/sh";
    plan->sh_argv[1] = plan->path;
    for (size_t k = 1; k < argc; k++)
        plan->sh_argv[k + 1] = config->argv[k];
    plan->exec_msg = hpo_sprintf (HPO_RUNNER_EXEC_MSG "%s': ", plan->path);
    plan->grace.tv_sec = (time_t)(config->grace_ms / 1000);
    plan->grace.tv_nsec = (long)(config->grace_ms % 1000) * 1000000L;
    struct rlimit rl;
    plan->max_fd = getrlimit (RLIMIT_NOFILE, &rl) == 0 &&
                           rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 1048576
                       ? (int)rl.rlim_cur
                       : 1048576;
    plan->worker = getpid ();
    return 0;
}

//  The descriptors: the log, /dev/null, and the report and status pipes
//  (the worker's read ends in *report_r, *status_r). Returns 0, or -1
//  with *error set.
static int
s_plan_open (s_plan_t *plan, const char *log_path, int *report_r, int *status_r,
             char **error)
{
    plan->log_fd = open (
        log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
    if (plan->log_fd < 0) {
        *error =
            hpo_sprintf ("cannot open log %s: %s", log_path, strerror (errno));
        return -1;
    }
    plan->null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
    if (plan->null_fd < 0) {
        *error = hpo_sprintf ("cannot open /dev/null: %s", strerror (errno));
        return -1;
    }
    //  Only the read ends are non-blocking: the write end's flags are the
    //  program's, and a program that fills the pipe should wait for us,
    //  not see EAGAIN.
    int fds[2];
    if (pipe2 (fds, O_CLOEXEC) < 0) {
        *error = hpo_sprintf ("pipe: %s", strerror (errno));
        return -1;
    }
    *report_r = fds[0];
    plan->report_w = fds[1];
    if (pipe2 (fds, O_CLOEXEC) < 0) {
        *error = hpo_sprintf ("pipe: %s", strerror (errno));
        return -1;
    }
    *status_r = fds[0];
    plan->status_w = fds[1];
    if (fcntl (*report_r, F_SETFL, O_NONBLOCK) < 0 ||
        fcntl (*status_r, F_SETFL, O_NONBLOCK) < 0) {
        *error = hpo_sprintf ("fcntl: %s", strerror (errno));
        return -1;
    }
    return 0;
}

//  Forks the shim. Returns its pid, or -1 with *error set.
static pid_t
s_fork_shim (const s_plan_t *plan, char **error)
{
    //  The shim starts with every signal blocked, so nothing can reach it
    //  before it has set itself up (see s_shim).
    sigset_t all, old;
    sigfillset (&all);
    int rc = pthread_sigmask (SIG_BLOCK, &all, &old);
    if (rc) {
        *error = hpo_sprintf ("pthread_sigmask: %s", strerror (rc));
        return -1;
    }
    pid_t shim = fork ();
    if (shim == 0)
        s_shim (plan);
    int fork_errno = errno;
    rc = pthread_sigmask (SIG_SETMASK, &old, NULL);
    assert (rc == 0); //  restoring a mask we just read cannot fail
    if (shim < 0)
        *error = hpo_sprintf ("fork: %s", strerror (fork_errno));
    return shim;
}

hpo_runner_t *
hpo_runner_new (const hpo_runner_config_t *config, char **error,
                hpo_runner_fault_t *fault)
{
    *error = NULL;
    hpo_runner_fault_t ignored;
    if (!fault)
        fault = &ignored;
    *fault = HPO_RUNNER_FAULT_SYSTEM;
    if (!config->argv || !config->argv[0] || !*config->argv[0]) {
        *error = hpo_strdup ("empty command");
        *fault = HPO_RUNNER_FAULT_COMMAND;
        return NULL;
    }
    s_plan_t plan;
    memset (&plan, 0, sizeof plan);
    plan.log_fd = plan.null_fd = plan.report_w = plan.status_w = -1;
    int report_r = -1, status_r = -1;
    hpo_runner_t *self = NULL;
    pid_t shim = -1;
    if (s_plan_make (&plan, config, error, fault) == 0 &&
        s_plan_open (&plan, config->log_path, &report_r, &status_r, error) == 0)
        shim = s_fork_shim (&plan, error);
    if (shim > 0) {
        self = hpo_calloc (1, sizeof *self);
        self->shim = shim;
        self->status_fd = status_r;
        self->report_fd = report_r;
        self->prefix =
            config->tag ? hpo_sprintf ("%s: ", config->tag) : hpo_strdup ("");
        status_r = report_r = -1;
    }
    s_close (&plan.log_fd);
    s_close (&plan.null_fd);
    s_close (&plan.report_w);
    s_close (&plan.status_w);
    s_close (&report_r);
    s_close (&status_r);
    free (plan.envp);
    free (plan.sh_argv);
    free (plan.path);
    free (plan.exec_msg);
    free (plan.chdir_msg);
    return self;
}

int
hpo_runner_stop (hpo_runner_t *self)
{
    if (self->done || self->stopped)
        return 0;
    //  Until we reap it the shim's pid cannot be reused, so this reaches
    //  the shim or its zombie, never a stranger.
    if (kill (self->shim, SIGTERM) < 0) {
        hpo_log_warn ("%skill shim %d", self->prefix, (int)self->shim);
        return -1;
    }
    self->stopped = 1;
    return 0;
}

int
hpo_runner_status_fd (const hpo_runner_t *self)
{
    return self->status_fd;
}

int
hpo_runner_report_fd (const hpo_runner_t *self)
{
    return self->report_fd;
}

pid_t
hpo_runner_shim_pid (const hpo_runner_t *self)
{
    return self->shim;
}

pid_t
hpo_runner_pgid (const hpo_runner_t *self)
{
    return self->pgid;
}

static void
s_reap (hpo_runner_t *self)
{
    int status = 0;
    pid_t r;
    do
        r = waitpid (self->shim, &status, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        //  ECHILD: someone reaped it for us (SIGCHLD ignored); the pipe
        //  still tells what happened to the program.
        hpo_log_warn ("%swaitpid shim %d", self->prefix, (int)self->shim);
        status = 0;
    }
    self->shim_status = status;
    self->shim = 0;
    self->done = 1;
    if (self->n_got == sizeof self->got) {
        int32_t status32;
        memcpy (&status32, self->got + 4, sizeof status32);
        self->child_status = status32;
        self->has_status = 1;
    } else if (self->pgid > 0)
        //  The shim died before the program (someone SIGKILLed it): the
        //  program got SIGTERM from its own PDEATHSIG, but its children
        //  did not. Nobody else will sweep the group now.
        kill (-self->pgid, SIGKILL);
}

int
hpo_runner_poll (hpo_runner_t *self)
{
    if (self->done)
        return 1;
    for (;;) {
        unsigned char buf[64];
        ssize_t n = read (self->status_fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n < 0)
            hpo_log_warn ("%sread status pipe of shim %d", self->prefix,
                          (int)self->shim);
        if (n <= 0)
            break; //  end-of-file (or a broken pipe): the shim is exiting
        for (ssize_t k = 0; k < n && self->n_got < sizeof self->got; k++)
            self->got[self->n_got++] = buf[k];
        if (self->n_got >= 4 && self->pgid == 0) {
            int32_t pid32;
            memcpy (&pid32, self->got, sizeof pid32);
            self->pgid = pid32;
        }
    }
    s_close (&self->status_fd);
    //  End-of-file means the shim closed its last descriptor, which it
    //  does only by exiting: this wait is short.
    s_reap (self);
    return 1;
}

ssize_t
hpo_runner_read (hpo_runner_t *self, void *buf, size_t size)
{
    if (self->report_fd < 0)
        return 0;
    ssize_t n;
    do
        n = read (self->report_fd, buf, size);
    while (n < 0 && errno == EINTR);
    if (n > 0 || (n < 0 && errno == EAGAIN))
        return n;
    if (n < 0)
        hpo_log_warn ("%sread report pipe of shim %d", self->prefix,
                      (int)self->shim);
    s_close (&self->report_fd);
    return 0;
}

int
hpo_runner_status (const hpo_runner_t *self, int *status)
{
    assert (self->done);
    *status = self->has_status ? self->child_status : self->shim_status;
    return self->has_status;
}

char *
hpo_runner_describe_status (int status)
{
    if (WIFEXITED (status))
        return hpo_sprintf ("exit status %d", WEXITSTATUS (status));
    if (WIFSIGNALED (status)) {
        const char *name = sigabbrev_np (WTERMSIG (status));
        if (name)
            return hpo_sprintf ("killed by signal %d (SIG%s)",
                                WTERMSIG (status), name);
        return hpo_sprintf ("killed by signal %d", WTERMSIG (status));
    }
    return hpo_sprintf ("wait status %#x", (unsigned)status);
}

void
hpo_runner_destroy (hpo_runner_t **self_p)
{
    hpo_runner_t *self = *self_p;
    if (!self)
        return;
    if (!self->done) {
        hpo_runner_stop (self);
        //  Reap if it is already gone; otherwise leave the zombie to the
        //  worker's exit rather than wait out a grace period here.
        int status;
        if (waitpid (self->shim, &status, WNOHANG) == self->shim)
            self->shim = 0;
    }
    s_close (&self->status_fd);
    s_close (&self->report_fd);
    free (self->prefix);
    free (self);
    *self_p = NULL;
}
