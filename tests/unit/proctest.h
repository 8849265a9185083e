/*  proctest.h: what the unit tests that run real processes (test_runner,
    test_session) share: a temporary directory for their files, and the
    test process as a child subreaper, so that processes orphaned by a
    test (a grandchild whose shell was killed, a shim whose "worker" died)
    are reparented to it and can be reaped and checked for; otherwise they
    could linger as zombies under a PID 1 that never reaps, and
    kill (pid, 0) would still find them.                                  */
#ifndef HPO_PROCTEST_H
#define HPO_PROCTEST_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>

//  Makes the process a subreaper and dir (size bytes) a new directory
//  /tmp/hpo-test-NAME-XXXXXX. Returns 0, or -1 after saying why.
static int
t_proc_setup (char *dir, size_t size, const char *name)
{
    if (prctl (PR_SET_CHILD_SUBREAPER, 1) < 0)
        perror ("prctl");
    snprintf (dir, size, "/tmp/hpo-test-%s-XXXXXX", name);
    if (!mkdtemp (dir)) {
        perror ("mkdtemp");
        return -1;
    }
    return 0;
}

//  Removes the directory and all in it.
static void
t_proc_cleanup (const char *dir)
{
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    if (system (cmd) != 0)
        perror ("rm");
}

//  The file's text (up to 64 KiB; "" if unreadable), in a buffer the next
//  call reuses.
static char *
t_slurp (const char *path)
{
    static char text[65536];
    text[0] = '\0';
    FILE *f = fopen (path, "r");
    if (!f)
        return text;
    size_t n = fread (text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose (f);
    return text;
}

//  Reaps the processes of group pgid that became our zombies; 1 once
//  none is left.
static int
t_group_gone (pid_t pgid)
{
    int status;
    while (waitpid (-pgid, &status, WNOHANG) > 0)
        ;
    return kill (-pgid, 0) < 0 && errno == ESRCH;
}

#endif
