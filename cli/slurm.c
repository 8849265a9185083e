/*  slurm.c (cli): Slurm's commands and the shared directory for hpo slurm
    launch. See slurm.h.                                                  */
#include "slurm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/mem.h"

extern char **environ;

//  Whether DIR holds both scripts.
static int
s_has_scripts (const char *dir)
{
    char path[PATH_MAX];
    snprintf (path, sizeof path, "%s/hpo-coordinator.sbatch", dir);
    if (access (path, R_OK) != 0)
        return 0;
    snprintf (path, sizeof path, "%s/hpo-workers.sbatch", dir);
    return access (path, R_OK) == 0;
}

char *
hpo_slurm_scripts (void)
{
    const char *given = getenv ("HPO_SLURM_SCRIPTS");
    if (given && *given) {
        if (s_has_scripts (given))
            return hpo_strdup (given);
        hpo_log_error ("HPO_SLURM_SCRIPTS=%s: no hpo-coordinator.sbatch and "
                       "hpo-workers.sbatch there",
                       given);
        return NULL;
    }
    char self[PATH_MAX];
    ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr (self, '/');
        if (slash)
            *slash = '\0';
        static const char *const below[] = {"../share/hpo/slurm",
                                            "../deploy/slurm"};
        for (size_t k = 0; k < sizeof below / sizeof *below; k++) {
            char *dir = hpo_sprintf ("%s/%s", self, below[k]);
            if (s_has_scripts (dir))
                return dir;
            free (dir);
        }
    }
    hpo_log_error ("cannot find hpo-coordinator.sbatch and "
                   "hpo-workers.sbatch; set HPO_SLURM_SCRIPTS to their "
                   "directory (deploy/slurm in the sources)");
    return NULL;
}

char *
hpo_slurm_dir (const char *given)
{
    char *dir;
    const char *env = getenv ("HPO_SLURM_DIR");
    const char *home = getenv ("HOME");
    if (given)
        dir = hpo_strdup (given);
    else if (env && *env)
        dir = hpo_strdup (env);
    else if (home && *home) {
        //  The default is made; a directory given must exist (a typo
        //  should not become a new, empty shared directory).
        dir = hpo_sprintf ("%s/.hpo", home);
        if (mkdir (dir, 0755) != 0 && errno != EEXIST)
            hpo_log_warn ("cannot make %s", dir);
        free (dir);
        dir = hpo_sprintf ("%s/.hpo/slurm", home);
        if (mkdir (dir, 0755) != 0 && errno != EEXIST)
            hpo_log_warn ("cannot make %s", dir);
    } else {
        hpo_log_error ("no shared directory: give --dir or set HPO_SLURM_DIR");
        return NULL;
    }
    //  Absolute: the jobs read it from wherever they start.
    char *real = realpath (dir, NULL);
    struct stat st;
    if (!real || stat (real, &st) != 0 || !S_ISDIR (st.st_mode)) {
        hpo_log_error ("%s: not a directory%s", dir,
                       given || (env && *env) ? " (make it first)" : "");
        free (real);
        free (dir);
        return NULL;
    }
    free (dir);
    dir = hpo_strdup (real);
    free (real);
    return dir;
}

char *
hpo_slurm_address (const char *dir)
{
    char *path = hpo_sprintf ("%s/coordinator.address", dir);
    FILE *f = fopen (path, "r");
    free (path);
    if (!f)
        return NULL;
    char line[1024];
    char *got = fgets (line, sizeof line, f);
    fclose (f);
    if (!got)
        return NULL;
    line[strcspn (line, "\r\n")] = '\0';
    return *line ? hpo_strdup (line) : NULL;
}

//  environ with env's variables put in (replacing those of the same
//  name). The array is new; its strings are borrowed.
static char **
s_environment (char **env, int n_env)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **out = hpo_calloc (n + (size_t)n_env + 1, sizeof (char *));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int replaced = 0;
        for (int j = 0; j < n_env && !replaced; j++) {
            size_t len = strcspn (env[j], "=");
            replaced = strncmp (environ[i], env[j], len + 1) == 0;
        }
        if (!replaced)
            out[k++] = environ[i];
    }
    for (int j = 0; j < n_env; j++)
        out[k++] = env[j];
    return out;
}

//  Runs argv (found on PATH; no shell) with envp, its standard output
//  into out (size bytes, NUL-terminated, the rest dropped); its standard
//  error stays ours, so Slurm's messages reach the user. Returns its exit
//  status, or -1 after logging if it could not run.
static int
s_run (char **argv, char **envp, char *out, size_t size)
{
    int fds[2];
    if (pipe2 (fds, O_CLOEXEC) != 0) {
        hpo_log_warn ("pipe");
        return -1;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init (&actions);
    posix_spawn_file_actions_adddup2 (&actions, fds[1], STDOUT_FILENO);
    pid_t pid;
    int rc = posix_spawnp (&pid, argv[0], &actions, NULL, argv, envp);
    posix_spawn_file_actions_destroy (&actions);
    close (fds[1]);
    if (rc != 0) {
        close (fds[0]);
        hpo_log_error ("cannot run %s: %s", argv[0], strerror (rc));
        return -1;
    }
    size_t len = 0;
    char sink[256];
    for (;;) {
        char *to = len + 1 < size ? out + len : sink;
        size_t room = len + 1 < size ? size - 1 - len : sizeof sink;
        ssize_t n = read (fds[0], to, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (to != sink)
            len += (size_t)n;
    }
    out[len] = '\0';
    close (fds[0]);
    int status;
    while (waitpid (pid, &status, 0) < 0)
        if (errno != EINTR) {
            hpo_log_warn ("waitpid %s", argv[0]);
            return -1;
        }
    if (!WIFEXITED (status)) {
        hpo_log_error ("%s was killed by signal %d", argv[0],
                       WIFSIGNALED (status) ? WTERMSIG (status) : 0);
        return -1;
    }
    return WEXITSTATUS (status);
}

int
hpo_slurm_sbatch (const char *script, char **opts, int n_opts, char **env,
                  int n_env, char *job, size_t size)
{
    char **argv = hpo_calloc ((size_t)n_opts + 4, sizeof (char *));
    int n = 0;
    argv[n++] = "sbatch";
    argv[n++] = "--parsable";
    for (int k = 0; k < n_opts; k++)
        argv[n++] = opts[k];
    argv[n++] = (char *)script;
    char **envp = s_environment (env, n_env);
    char out[256];
    int rc = s_run (argv, envp, out, sizeof out);
    free (envp);
    free (argv);
    if (rc != 0) {
        if (rc > 0)
            hpo_log_error ("sbatch %s failed (exit status %d)", script, rc);
        return -1;
    }
    //  --parsable: "JOBID" or "JOBID;CLUSTER".
    size_t len = strspn (out, "0123456789");
    if (len == 0 || len >= size) {
        hpo_log_error ("sbatch %s: no job id in its output '%s'", script, out);
        return -1;
    }
    memcpy (job, out, len);
    job[len] = '\0';
    return 0;
}

int
hpo_slurm_listed (const char *job)
{
    //  The states a job has before it ends: some squeue versions list an
    //  ended job given by id for a while.
    char *argv[] = {
        "squeue",    "-h", "-j",
        (char *)job, "-t", "PENDING,CONFIGURING,RUNNING,SUSPENDED,COMPLETING",
        "-o",        "%i", NULL};
    char out[256];
    int rc = s_run (argv, environ, out, sizeof out);
    //  squeue fails for a job id it no longer knows: not listed.
    if (rc > 0)
        return 0;
    if (rc < 0)
        return -1;
    return strspn (out, " \t\r\n") != strlen (out);
}
