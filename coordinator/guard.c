#include "guard.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/mem.h"

//  An error message longer than this is cut; study errors are one line.
#define S_MAX_MESSAGE 4096
//  Exit codes of the child.
#define S_CHILD_OK 0
#define S_CHILD_REFUSED 3

static void
s_child (int fd, hpo_guard_fn *fn, void *arg, uint32_t timeout_ms)
{
    //  A spinning parser is stopped by the kernel even if the parent is
    //  gone; the parent's wall-clock limit is the usual one.
    struct rlimit cpu = {.rlim_cur = timeout_ms / 1000 + 1,
                         .rlim_max = timeout_ms / 1000 + 2};
    setrlimit (RLIMIT_CPU, &cpu);
    char *error = NULL;
    int rc = fn (arg, &error);
    if (rc == 0)
        _exit (S_CHILD_OK);
    const char *text = error ? error : "refused";
    size_t len = strlen (text);
    if (len > S_MAX_MESSAGE)
        len = S_MAX_MESSAGE;
    while (len > 0) {
        ssize_t n = write (fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        text += n;
        len -= (size_t)n;
    }
    _exit (S_CHILD_REFUSED);
}

//  Reads what the child says until end-of-file or the deadline. Returns
//  0 at end-of-file, -1 at the deadline.
static int
s_read_all (int fd, char *buf, size_t cap, size_t *len, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - hpo_clock_mono_ms ();
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll (&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue; //  timed out: the loop's check says so
        char tmp[512];
        ssize_t n = read (fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        size_t take = (size_t)n < cap - *len ? (size_t)n : cap - *len;
        memcpy (buf + *len, tmp, take);
        *len += take;
    }
}

int
hpo_guard_run (hpo_guard_fn *fn, void *arg, const char *what,
               uint32_t timeout_ms, char **error)
{
    *error = NULL;
    int fds[2];
    if (pipe2 (fds, O_CLOEXEC) < 0) {
        hpo_log_warn ("guard: pipe");
        return 1;
    }
    pid_t pid = fork ();
    if (pid < 0) {
        hpo_log_warn ("guard: fork");
        close (fds[0]);
        close (fds[1]);
        return 1;
    }
    if (pid == 0) {
        close (fds[0]);
        s_child (fds[1], fn, arg, timeout_ms);
    }
    close (fds[1]);
    char *msg = hpo_malloc (S_MAX_MESSAGE + 1);
    size_t len = 0;
    int timed_out = s_read_all (fds[0], msg, S_MAX_MESSAGE, &len,
                                hpo_clock_mono_ms () + timeout_ms) < 0;
    close (fds[0]);
    msg[len] = '\0';
    if (timed_out)
        kill (pid, SIGKILL);
    int status = 0;
    while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
        ;
    int rc = -1;
    if (timed_out)
        *error = hpo_sprintf ("%s took longer than %u ms and was stopped",
                              what, timeout_ms);
    else if (WIFEXITED (status) && WEXITSTATUS (status) == S_CHILD_OK)
        rc = 0;
    else if (WIFEXITED (status) && WEXITSTATUS (status) == S_CHILD_REFUSED &&
             len > 0) {
        *error = msg;
        msg = NULL;
    } else if (WIFSIGNALED (status))
        *error = hpo_sprintf ("%s crashed (signal %d, %s)", what,
                              WTERMSIG (status), strsignal (WTERMSIG (status)));
    else
        *error = hpo_sprintf ("%s crashed (exit status %d)", what,
                              WIFEXITED (status) ? WEXITSTATUS (status) : -1);
    if (rc != 0 && !(WIFEXITED (status) && WEXITSTATUS (status) ==
                                               S_CHILD_REFUSED && !timed_out))
        hpo_log_warnx ("guard: %s", *error);
    free (msg);
    return rc;
}
