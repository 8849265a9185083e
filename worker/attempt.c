/*  attempt.c: one trial attempt, from its Assign to its end.             */
#include "attempt.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/command.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/names.h"
#include "common/params.h"
#include "common/spec.h"
#include "common/utf8.h"
#include "runner.h"

//  Finish.log_tail.
#define S_LOG_TAIL 4096
//  After the shim exited: what we still read from a report pipe that a
//  process which escaped the shim may hold open and keep writing to. The
//  program's own unread lines are at most a pipe's capacity.
#define S_DRAIN_MAX (4 * 1024 * 1024)
//  How much of the log is searched for report lines a program printed
//  instead of writing them to its report descriptor.
#define S_STDOUT_SCAN (1024 * 1024)
//  Metric names an objective-never-reported reason lists; one more is
//  kept, to know there are more.
#define S_SEEN_SHOW 5

//  What becomes of an attempt when its process group is gone.
typedef enum {
    S_RUN,      //  running: Finish by its exit status
    S_TIMEOUT,  //  stopped for its timeout: Finish FAILED
    S_DROP,     //  killed on the coordinator's order: no Finish
    S_SHUTDOWN, //  stopped because the worker stops: no Finish
} s_fate_t;

struct _hpo_attempt_t {
    uint64_t trial_id;
    uint32_t attempt;
    char *tag; //  "trial mnist#12 attempt 2", for log lines
    char *objective;
    int shell; //  run by /bin/sh -c
    hpo_runner_t *runner;
    hpo_report_buf_t *lines;
    s_fate_t fate;
    int64_t started_ms;
    int64_t deadline_ms; //  0: no timeout
    uint64_t timeout_ms;
    char *log_path;
    //  metrics from stdout: the program's stdout is the report pipe,
    //  matched with this, and copied to the log through log_fd. NULL:
    //  the report descriptor.
    hpo_linepat_t *pattern;
    int log_fd;
    int has_value; //  the objective's last reported value
    double value;
    size_t bad_lines;
    int exited;     //  the shim is reaped: the program and its tree are gone
    int eof;        //  the report stream is over (read to its end)
    int pending;    //  complete lines wait for room in the sink
    size_t drained; //  bytes read after the shim exited
    //  The smallest distinct metric names reported, sorted: the first
    //  S_SEEN_SHOW and, if more were, one more.
    char *seen[S_SEEN_SHOW + 1];
    size_t n_seen;
};

//  ---- small helpers ---------------------------------------------------------

int
hpo_attempt_mkdirs (const char *path)
{
    char *copy = hpo_strdup (path);
    int rc = 0;
    for (char *p = copy + 1; rc == 0; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir (copy, 0755) < 0 && errno != EEXIST)
            rc = -1;
        else if (c == '\0') {
            struct stat st;
            if (stat (copy, &st) < 0)
                rc = -1;
            else if (!S_ISDIR (st.st_mode)) {
                errno = ENOTDIR;
                rc = -1;
            }
            *p = c;
            break;
        }
        *p = c;
    }
    int saved = errno;
    free (copy);
    errno = saved;
    return rc;
}

//  The last max bytes of the log (fewer if it is shorter), NUL-
//  terminated, *len of them; *cut: the log is longer. NULL if it cannot
//  be read.
static char *
s_log_read (const char *path, size_t max, size_t *len, int *cut)
{
    *len = 0;
    *cut = 0;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *text = hpo_malloc (max + 1);
    struct stat st;
    if (fstat (fd, &st) == 0) {
        off_t from = st.st_size > (off_t)max ? st.st_size - (off_t)max : 0;
        *cut = from > 0;
        ssize_t n;
        do
            n = pread (fd, text, max, from);
        while (n < 0 && errno == EINTR);
        if (n > 0)
            *len = (size_t)n;
    }
    close (fd);
    text[*len] = '\0';
    return text;
}

//  The last S_LOG_TAIL bytes of the log, as clean UTF-8; "" if unreadable.
static char *
s_log_tail (const char *path)
{
    size_t len;
    int cut;
    char *text = s_log_read (path, S_LOG_TAIL, &len, &cut);
    if (!text)
        return hpo_strdup ("");
    //  The cut may fall inside a character: start at the next one.
    if (cut) {
        size_t skip = 0;
        while (skip < len && skip < 3 &&
               ((unsigned char)text[skip] & 0xc0) == 0x80)
            skip++;
        memmove (text, text + skip, len - skip);
        len -= skip;
    }
    //  The log is arbitrary bytes and a protobuf string must be UTF-8:
    //  NULs become '?' (they would cut the string short), and the rest
    //  goes through the one cleaner peers' strings go through.
    for (size_t k = 0; k < len; k++)
        if (text[k] == '\0')
            text[k] = '?';
    text[len] = '\0';
    char *clean = hpo_utf8_clean (text, 0);
    free (text);
    return clean;
}

//  "2s", "1.5s", "0.3s": timeouts as people write them.
static char *
s_seconds (uint64_t ms)
{
    if (ms % 1000 == 0)
        return hpo_sprintf ("%" PRIu64 "s", ms / 1000);
    char *text = hpo_sprintf ("%" PRIu64 ".%03" PRIu64, ms / 1000, ms % 1000);
    size_t len = strlen (text);
    while (text[len - 1] == '0')
        text[--len] = '\0';
    char *out = hpo_sprintf ("%ss", text);
    free (text);
    return out;
}

//  A command for a log line: one line, not too long.
static char *
s_oneline (const char *text)
{
    size_t len = strlen (text);
    char *line = hpo_strndup (text, len > 200 ? 200 : len);
    for (char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    if (len > 200) {
        char *longer = hpo_sprintf ("%s...", line);
        free (line);
        line = longer;
    }
    return line;
}

//  Writes text to path, whole. Returns 0, or -1 with errno set.
static int
s_write_file (const char *path, const char *text)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t len = strlen (text), done = 0;
    while (done < len) {
        ssize_t n = write (fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            close (fd);
            errno = saved;
            return -1;
        }
        done += (size_t)n;
    }
    if (close (fd) < 0)
        return -1;
    return 0;
}

//  A line at the top of each attempt's log, so a log read alone says
//  what ran where.
static void
s_log_header (const char *path, const char *tag, const char *worker,
              const char *command)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return; //  the runner will say why when it opens it
    char *line = hpo_sprintf ("hpo-worker %s: %s: %s\n", worker, tag, command);
    ssize_t n = write (fd, line, strlen (line));
    (void)n; //  a missing header line hurts nobody
    free (line);
    close (fd);
}

//  ---- what a start prepares -------------------------------------------------

typedef struct {
    char **env;
    size_t n, cap;
} s_env_t;

static void
s_env_add (s_env_t *env, char *entry)
{
    if (env->n + 2 > env->cap) {
        env->cap = env->cap ? env->cap * 2 : 16;
        env->env = hpo_realloc (env->env, env->cap * sizeof (char *));
    }
    env->env[env->n++] = entry;
    env->env[env->n] = NULL;
}

//  Everything a start works out before the program runs.
typedef struct {
    const Hpo__Assign *a;
    const hpo_attempt_host_t *host;
    size_t n; //  parameters
    char **names;
    hpo_value_t *values;
    char *logs_dir, *trial_dir, *ckpt_dir, *params_path;
    char **argv;   //  without a shell
    char *shell;   //  with one: its -c text
    char *command; //  for the log: words joined by spaces, or the shell text
    s_env_t env;
} s_prep_t;

static void
s_prep_free (s_prep_t *p)
{
    hpo_values_clear (p->values, p->n);
    free (p->values);
    free (p->names);
    hpo_command_free (&p->argv);
    free (p->shell);
    free (p->logs_dir);
    free (p->trial_dir);
    free (p->ckpt_dir);
    free (p->params_path);
    free (p->command);
    for (size_t k = 0; k < p->env.n; k++)
        free (p->env.env[k]);
    free (p->env.env);
}

//  The parameters, from the wire: a name goes into a variable name.
static int
s_prep_params (s_prep_t *p, char **reason)
{
    p->n = p->a->n_params;
    p->names = hpo_calloc (p->n + 1, sizeof (char *));
    p->values = hpo_calloc (p->n + 1, sizeof (hpo_value_t));
    for (size_t k = 0; k < p->n; k++) {
        const Hpo__Param *param = p->a->params[k];
        if (!hpo_name_param_ok (param->name)) {
            *reason = hpo_sprintf ("bad parameter name '%.64s'",
                                   param->name ? param->name : "");
            return -1;
        }
        p->names[k] = param->name;
        if (hpo_wire_param_get (param, &p->values[k]) < 0) {
            *reason = hpo_sprintf ("parameter '%s' has a bad kind %u",
                                   param->name, param->kind);
            return -1;
        }
    }
    return 0;
}

//  ROOT/STUDY/N, mode 0700 (a checkpoint is nobody else's business);
//  ROOT exists. Another host may create either at the same moment.
static int
s_mkdir_private (const char *root, const char *study, uint64_t number)
{
    char *study_dir = hpo_sprintf ("%s/%s", root, study);
    char *dir = hpo_sprintf ("%s/%" PRIu64, study_dir, number);
    int rc = 0;
    if ((mkdir (study_dir, 0700) < 0 && errno != EEXIST) ||
        (mkdir (dir, 0700) < 0 && errno != EEXIST) ||
        hpo_attempt_mkdirs (dir) < 0) //  is a directory
        rc = -1;
    int saved = errno;
    free (study_dir);
    free (dir);
    errno = saved;
    return rc;
}

//  Directories and files the program is promised.
static int
s_prep_files (s_prep_t *p, hpo_attempt_t *self, char **reason)
{
    const Hpo__Assign *a = p->a;
    const char *state_dir = p->host->state_dir;
    p->logs_dir = hpo_sprintf ("%s/logs/%s", state_dir, a->study);
    p->trial_dir = hpo_sprintf ("%s/trials/%s/trial-%" PRIu64 "-attempt-%u",
                                state_dir, a->study, a->number, a->attempt);
    const char *root = p->host->checkpoint_root;
    p->ckpt_dir =
        root ? hpo_sprintf ("%s/%s/%" PRIu64, root, a->study, a->number)
             : hpo_sprintf ("%s/checkpoints/%s/%" PRIu64, state_dir, a->study,
                            a->number);
    const char *dirs[] = {p->logs_dir, p->trial_dir, p->ckpt_dir};
    for (size_t k = 0; k < 3; k++)
        if ((root && k == 2 ? s_mkdir_private (root, a->study, a->number)
                            : hpo_attempt_mkdirs (dirs[k])) < 0) {
            *reason =
                hpo_sprintf ("cannot create %s: %s", dirs[k], strerror (errno));
            return -1;
        }
    self->log_path = hpo_sprintf ("%s/trial-%" PRIu64 "-attempt-%u.log",
                                  p->logs_dir, a->number, a->attempt);
    p->params_path = hpo_sprintf ("%s/params.json", p->trial_dir);
    char *json = hpo_params_dump (p->names, p->values, p->n);
    int rc = s_write_file (p->params_path, json);
    free (json);
    if (rc < 0)
        *reason = hpo_sprintf ("cannot write %s: %s", p->params_path,
                               strerror (errno));
    return rc;
}

//  Words joined by spaces, for the log only.
static char *
s_join (char **argv)
{
    size_t len = 1;
    for (char **w = argv; *w; w++)
        len += strlen (*w) + 1;
    char *line = hpo_calloc (1, len);
    for (char **w = argv; *w; w++) {
        if (w != argv)
            strcat (line, " ");
        strcat (line, *w);
    }
    return line;
}

//  The command, with the values substituted.
static int
s_prep_command (s_prep_t *p, char **reason)
{
    char *error = NULL;
    if (p->a->shell) {
        p->shell = hpo_command_shell (p->a->command, p->names, p->values, p->n,
                                      &error);
        p->command = p->shell ? hpo_strdup (p->shell) : NULL;
    } else {
        p->argv =
            hpo_command_argv (p->a->command, p->names, p->values, p->n, &error);
        p->command = p->argv ? s_join (p->argv) : NULL;
    }
    if (p->command)
        return 0;
    *reason = hpo_sprintf ("bad command: %s", error ? error : "?");
    free (error);
    return -1;
}

//  Whether the study's env sets the variable name (with its '=').
static int
s_study_sets (const Hpo__Assign *a, const char *name_eq)
{
    for (size_t k = 0; k < a->n_env; k++)
        if (!strncmp (a->env[k], name_eq, strlen (name_eq)))
            return 1;
    return 0;
}

//  The attempt's resources (issue #11): HPO_GPUS and HPO_CPUS, and
//  OMP_NUM_THREADS and MKL_NUM_THREADS as HPO_CPUS unless the study's
//  env sets them. Returns CUDA_VISIBLE_DEVICES=its GPUs when this worker
//  hands out GPUs (to go after the study's env, which cannot override
//  it: another trial's GPU is not the program's to take), else NULL.
static char *
s_prep_resources (s_prep_t *p)
{
    const Hpo__Assign *a = p->a;
    char *list = hpo_strdup ("");
    for (size_t k = 0; k < a->n_gpus; k++) {
        char *next =
            hpo_sprintf ("%s%s%" PRIu32, list, k ? "," : "", a->gpus[k]);
        free (list);
        list = next;
    }
    uint32_t cpus = a->cpus ? a->cpus : 1;
    s_env_add (&p->env, hpo_sprintf ("HPO_GPUS=%s", list));
    s_env_add (&p->env, hpo_sprintf ("HPO_CPUS=%" PRIu32, cpus));
    if (!s_study_sets (a, "OMP_NUM_THREADS="))
        s_env_add (&p->env, hpo_sprintf ("OMP_NUM_THREADS=%" PRIu32, cpus));
    if (!s_study_sets (a, "MKL_NUM_THREADS="))
        s_env_add (&p->env, hpo_sprintf ("MKL_NUM_THREADS=%" PRIu32, cpus));
    char *cuda = NULL;
    if (p->host->has_gpus || a->n_gpus)
        cuda = hpo_sprintf ("CUDA_VISIBLE_DEVICES=%s", list);
    free (list);
    return cuda;
}

//  HPO_* variables: which trial this is, where its files are, and each
//  parameter that exists in this trial as HPO_PARAM_NAME (upper case).
static void
s_prep_env (s_prep_t *p)
{
    const Hpo__Assign *a = p->a;
    s_env_t *env = &p->env;
    s_env_add (env, hpo_sprintf ("HPO_STUDY=%s", a->study));
    s_env_add (env, hpo_sprintf ("HPO_TRIAL=%" PRIu64, a->number));
    s_env_add (env, hpo_sprintf ("HPO_ATTEMPT=%u", a->attempt));
    s_env_add (env, hpo_sprintf ("HPO_TRIAL_ID=%" PRIu64, a->trial_id));
    s_env_add (env, hpo_sprintf ("HPO_OBJECTIVE=%s", a->objective));
    s_env_add (env, hpo_sprintf ("HPO_PARAMS_FILE=%s", p->params_path));
    s_env_add (env, hpo_sprintf ("HPO_CHECKPOINT_DIR=%s", p->ckpt_dir));
    s_env_add (env, hpo_sprintf ("HPO_WORKER=%s", p->host->worker));
    for (size_t k = 0; k < p->n; k++) {
        const hpo_value_t *v = &p->values[k];
        if (v->kind == HPO_KIND_NONE)
            continue; //  absent from this trial: no variable at all
        char *value = v->kind == HPO_KIND_STR ? hpo_strdup (v->s ? v->s : "")
                                              : hpo_value_format (v);
        char *entry = hpo_sprintf ("HPO_PARAM_%s=%s", p->names[k], value);
        free (value);
        for (char *c = entry + 10; *c != '='; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
        s_env_add (env, entry);
    }
    char *cuda = s_prep_resources (p);
    //  The study's own, after hpo's: s_check_env let no HPO_ name in.
    int unbuffered = 0;
    for (size_t k = 0; k < a->n_env; k++) {
        if (cuda && !strncmp (a->env[k], "CUDA_VISIBLE_DEVICES=", 21))
            continue;
        s_env_add (env, hpo_strdup (a->env[k]));
        unbuffered |= !strncmp (a->env[k], "PYTHONUNBUFFERED=", 17);
    }
    if (cuda)
        s_env_add (env, cuda);
    //  Python buffers a pipe's output in 8 KiB blocks: metrics printed to
    //  stdout would reach the coordinator in bursts, or only at the end.
    if (a->metrics_source && !strcmp (a->metrics_source, "stdout") &&
        !unbuffered)
        s_env_add (env, hpo_strdup ("PYTHONUNBUFFERED=1"));
}

//  Starts the program of a prepared attempt.
static int
s_prep_run (s_prep_t *p, hpo_attempt_t *self, int64_t now, char **reason,
            int *permanent)
{
    char *shell_argv[4] = {"/bin/sh", "-c", p->shell, NULL};
    s_log_header (self->log_path, self->tag, p->host->worker, p->command);
    hpo_runner_config_t config;
    config.argv = p->a->shell ? shell_argv : p->argv;
    config.env = p->env.env;
    config.log_path = self->log_path;
    config.grace_ms = p->a->grace_ms; //  0: SIGKILL at once
    config.tag = self->tag;
    config.workdir = p->a->workdir;
    config.stdout_reports = self->pattern != NULL;
    hpo_runner_fault_t fault;
    self->runner = hpo_runner_new (&config, reason, &fault);
    if (!self->runner) {
        //  Not found here is not found on a retry: the same command, the
        //  same directory. A fork or a pipe may work next time.
        *permanent = fault != HPO_RUNNER_FAULT_SYSTEM;
        return -1;
    }
    //  The log the runner created; what the program prints is copied
    //  there as it is read.
    if (self->pattern &&
        (self->log_fd =
             open (self->log_path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0)
        hpo_log_warn ("%s: open %s", self->tag, self->log_path);
    self->lines = hpo_report_buf_new ();
    self->started_ms = now;
    self->timeout_ms = p->a->timeout_ms;
    self->deadline_ms = p->a->timeout_ms ? now + (int64_t)p->a->timeout_ms : 0;
    char *line = s_oneline (p->command);
    hpo_log_info ("%s: started (shim %d): %s", self->tag,
                  (int)hpo_runner_shim_pid (self->runner), line);
    free (line);
    return 0;
}

//  ---- start and end ---------------------------------------------------------

char *
hpo_attempt_tag_of (const Hpo__Assign *a)
{
    //  A bad study name is cut (and refused before it goes into a path).
    char *study = hpo_strndup (a->study ? a->study : "", 64);
    char *tag = hpo_sprintf (HPO_LOG_TRIAL, study, a->number, a->attempt);
    free (study);
    return tag;
}

//  What is wrong with the study's workdir and env, or NULL. They come
//  from the network: bounded as a study file bounds them, and every name
//  one a study file may hold (a protobuf-c string ends at its first NUL,
//  so none holds one).
static char *
s_check_env (const Hpo__Assign *a)
{
    if (a->workdir && strlen (a->workdir) > HPO_SPEC_MAX_WORKDIR)
        return hpo_sprintf ("workdir longer than %d bytes",
                            HPO_SPEC_MAX_WORKDIR);
    if (a->n_env > HPO_SPEC_MAX_ENV)
        return hpo_sprintf ("%zu env variables; at most %d are allowed",
                            a->n_env, HPO_SPEC_MAX_ENV);
    for (size_t k = 0; k < a->n_env; k++) {
        const char *e = a->env[k] ? a->env[k] : "";
        const char *eq = strchr (e, '=');
        if (!eq)
            return hpo_sprintf ("env entry '%.64s' is not NAME=VALUE", e);
        size_t len = (size_t)(eq - e);
        const char *why = hpo_name_env_problem (e, len);
        if (why)
            return hpo_sprintf ("env variable '%.*s' %s",
                                (int)(len > 64 ? 64 : len), e, why);
        if (strlen (eq + 1) > HPO_SPEC_MAX_ENV_VALUE)
            return hpo_sprintf ("env variable '%.*s' longer than %d bytes",
                                (int)len, e, HPO_SPEC_MAX_ENV_VALUE);
        for (size_t j = 0; j < k; j++)
            if (!strncmp (a->env[j], e, len + 1))
                return hpo_sprintf ("env variable '%.*s' given twice", (int)len,
                                    e);
    }
    return NULL;
}

//  What is wrong with an Assign before anything is prepared, or NULL.
static char *
s_check (const Hpo__Assign *a)
{
    //  A study name goes into paths: it must be what spec.h allows.
    if (!hpo_name_study_ok (a->study ? a->study : ""))
        return hpo_sprintf ("bad study name '%.64s'", a->study ? a->study : "");
    if (!a->command || !*a->command)
        return hpo_strdup ("empty command");
    if (!a->objective || !*a->objective)
        return hpo_strdup ("no objective metric");
    const char *source = a->metrics_source ? a->metrics_source : "";
    if (*source && strcmp (source, "report") && strcmp (source, "stdout"))
        return hpo_sprintf ("unknown metrics source '%.64s'", source);
    return s_check_env (a);
}

//  The matcher for metrics from stdout; 0 when there is none to make.
//  Returns -1 with *reason for a pattern no study file could hold.
static int
s_prep_pattern (hpo_attempt_t *self, const Hpo__Assign *a, char **reason)
{
    if (!a->metrics_source || strcmp (a->metrics_source, "stdout"))
        return 0;
    char *error = NULL;
    self->pattern = hpo_linepat_new (a->metrics_pattern, &error);
    if (!self->pattern) {
        *reason = hpo_sprintf ("bad metrics pattern: %s", error);
        free (error);
        return -1;
    }
    if (!hpo_linepat_has (self->pattern, self->objective)) {
        *reason = hpo_sprintf ("metrics pattern has no group named %s, "
                               "the objective",
                               self->objective);
        return -1;
    }
    return 0;
}

//  Prepares and starts the program. Returns 0, or -1 with *reason, and
//  *permanent when the Assign itself is at fault (a retry would be the
//  same Assign) rather than this host (a full disk).
static int
s_launch (hpo_attempt_t *self, const Hpo__Assign *a,
          const hpo_attempt_host_t *host, int64_t now, char **reason,
          int *permanent)
{
    s_prep_t p;
    memset (&p, 0, sizeof p);
    p.a = a;
    p.host = host;
    int rc = -1;
    if (s_prep_params (&p, reason) < 0)
        *permanent = 1;
    else if (s_prep_files (&p, self, reason) < 0)
        *permanent = 0;
    else if (s_prep_command (&p, reason) < 0)
        *permanent = 1;
    else {
        s_prep_env (&p);
        rc = s_prep_run (&p, self, now, reason, permanent);
    }
    s_prep_free (&p);
    return rc;
}

hpo_attempt_t *
hpo_attempt_start (const Hpo__Assign *a, const hpo_attempt_host_t *host,
                   int64_t now, hpo_attempt_result_t *result)
{
    memset (result, 0, sizeof *result);
    hpo_attempt_t *self = hpo_calloc (1, sizeof *self);
    self->trial_id = a->trial_id;
    self->attempt = a->attempt;
    self->fate = S_RUN;
    self->tag = hpo_attempt_tag_of (a);
    self->objective = hpo_strdup (a->objective ? a->objective : "");
    self->shell = a->shell;
    char *reason = s_check (a);
    int permanent = 1;
    self->log_fd = -1;
    if (!reason && s_prep_pattern (self, a, &reason) == 0 &&
        s_launch (self, a, host, now, &reason, &permanent) == 0)
        return self;
    //  Nothing runs: the caller says so, so the coordinator can retry
    //  elsewhere instead of waiting for the lease to run out.
    hpo_log_warnx ("%s: cannot start: %s", self->tag, reason);
    if (self->log_path) {
        char *line = hpo_sprintf ("cannot start: %s", reason);
        s_log_header (self->log_path, self->tag, host->worker, line);
        free (line);
    }
    result->failed = 1;
    result->permanent = permanent;
    result->reason = hpo_utf8_clean (reason, 0);
    result->log_tail = hpo_strdup (result->reason);
    result->exit_status = -1;
    free (reason);
    hpo_attempt_destroy (&self);
    return NULL;
}

void
hpo_attempt_destroy (hpo_attempt_t **self_p)
{
    hpo_attempt_t *self = *self_p;
    if (!self)
        return;
    hpo_runner_destroy (&self->runner);
    hpo_report_buf_destroy (&self->lines);
    hpo_linepat_destroy (&self->pattern);
    if (self->log_fd >= 0)
        close (self->log_fd);
    free (self->tag);
    free (self->objective);
    free (self->log_path);
    for (size_t k = 0; k < self->n_seen; k++)
        free (self->seen[k]);
    free (self);
    *self_p = NULL;
}

//  ---- why it failed ------------------------------------------------------

//  The reason a line of the log gives for a program that could not be
//  started at all, or NULL: the runner's child's own words (runner.h),
//  or /bin/sh's ("/bin/sh: 1: NAME: not found", or bash's "...: command
//  not found"; "...: Permission denied" with 126).
static char *
s_start_line (const char *line, int code, int shell, int *permanent)
{
    const char *rest, *q;
    size_t n = strlen (line);
    //  What the child says of errors that may pass (runner.c's
    //  s_errno_text): a busy text file, memory, descriptors.
    *permanent = !strstr (line, "': text file busy") &&
                 !strstr (line, "': out of memory") &&
                 !strstr (line, "': too many open files") &&
                 !strstr (line, "': system error");
    //  The child's words are lower case (it cannot call strerror); the
    //  reason reads like the others, which strerror wrote.
    if (!strncmp (line, HPO_RUNNER_CHDIR_MSG, strlen (HPO_RUNNER_CHDIR_MSG)) &&
        (q = strstr (rest = line + strlen (HPO_RUNNER_CHDIR_MSG), "': ")) &&
        q[3])
        return hpo_sprintf ("cannot enter workdir %.*s: %c%s", (int)(q - rest),
                            rest, toupper ((unsigned char)q[3]), q + 4);
    if (!shell && code == 127 &&
        !strncmp (line, HPO_RUNNER_EXEC_MSG, strlen (HPO_RUNNER_EXEC_MSG)) &&
        (q = strstr (rest = line + strlen (HPO_RUNNER_EXEC_MSG), "': ")) &&
        q[3])
        //  The worker found the file before it forked: ENOENT from exec
        //  is the interpreter its #! line names.
        return hpo_sprintf ("cannot execute %.*s: %c%s%s", (int)(q - rest),
                            rest, toupper ((unsigned char)q[3]), q + 4,
                            strcmp (q + 3, "no such file or directory")
                                ? ""
                                : " (is its #! interpreter missing?)");
    if (!shell || strncmp (line, "/bin/sh: ", 9))
        return NULL;
    static const char *ends[] = {": not found", ": command not found",
                                 ": Permission denied"};
    for (size_t k = 0; k < 3; k++) {
        size_t m = strlen (ends[k]);
        if (n < 9 + m || strcmp (line + n - m, ends[k]) ||
            (k == 2) != (code == 126))
            continue;
        //  "/bin/sh: 1: NAME": NAME follows the last ": ".
        const char *name = line + 9, *stop = line + n - m;
        for (const char *c = name; c + 1 < stop; c++)
            if (c[0] == ':' && c[1] == ' ')
                name = c + 2;
        int len = (int)(stop - name);
        return k < 2 ? hpo_sprintf ("command not found: %.*s", len, name)
                     : hpo_sprintf ("cannot execute %.*s: Permission denied",
                                    len, name);
    }
    return NULL;
}

//  A program that exited 127 (or 126 under a shell) because it could
//  not be started at all, as the last such line of its log says; NULL
//  when the log says nothing of the kind. An exit status alone cannot
//  tell: a program may exit 127 itself. *permanent unless the cause may
//  pass (a text file busy, out of memory).
static char *
s_start_failure (const hpo_attempt_t *self, int status, int *permanent)
{
    if (!WIFEXITED (status))
        return NULL;
    int code = WEXITSTATUS (status);
    if (code != 127 && !(code == 126 && self->shell))
        return NULL;
    size_t len;
    int cut;
    char *text = s_log_read (self->log_path, S_LOG_TAIL, &len, &cut);
    char *reason = NULL;
    for (char *end = text ? text + len : NULL; !reason && end && end > text;) {
        while (end > text && (end[-1] == '\n' || end[-1] == '\r'))
            end--;
        char *start = end;
        while (start > text && start[-1] != '\n')
            start--;
        *end = '\0';
        reason = s_start_line (start, code, self->shell, permanent);
        end = start;
    }
    free (text);
    if (!reason)
        *permanent = 0;
    char *clean = reason ? hpo_utf8_clean (reason, 512) : NULL;
    free (reason);
    return clean;
}

//  Notes a reported metric's name, keeping the S_SEEN_SHOW + 1 smallest
//  distinct ones: a name dropped is larger than all those kept, so it is
//  dropped again if it comes back.
static void
s_seen_add (hpo_attempt_t *self, const char *name)
{
    size_t k = 0;
    while (k < self->n_seen && strcmp (self->seen[k], name) < 0)
        k++;
    if ((k < self->n_seen && !strcmp (self->seen[k], name)) ||
        k == S_SEEN_SHOW + 1)
        return;
    if (self->n_seen == S_SEEN_SHOW + 1)
        free (self->seen[--self->n_seen]);
    memmove (&self->seen[k + 1], &self->seen[k],
             (self->n_seen - k) * sizeof (char *));
    self->seen[k] = hpo_strdup (name);
    self->n_seen++;
}

//  Counts the lines of the log (its last S_STDOUT_SCAN bytes) that read
//  as report lines, and those of them holding the objective: what a
//  program printed that it meant to report.
static size_t
s_printed_reports (const hpo_attempt_t *self, size_t *with_objective, int *cut)
{
    size_t len, lines = 0;
    *with_objective = 0;
    char *text = s_log_read (self->log_path, S_STDOUT_SCAN, &len, cut);
    const char *p = text, *end = text ? text + len : NULL;
    if (p && *cut) //  the first line is a piece of one
        p = (p = memchr (p, '\n', len)) ? p + 1 : end;
    while (p && p < end) {
        const char *nl = memchr (p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        hpo_report_t r;
        char *why = NULL;
        if (n <= HPO_REPORT_MAX_LINE &&
            hpo_report_parse (p, n, &r, &why) == 0 && r.n_metrics > 0) {
            lines++;
            *with_objective += hpo_report_metric (&r, self->objective) != NULL;
        }
        hpo_report_clear (&r);
        free (why);
        p += n + 1;
    }
    free (text);
    return lines;
}

//  Why a program that exited 0 has no objective value. *permanent when
//  what it did report, or printed, says a retry would do the same: the
//  study names a metric the program does not report, or the program
//  writes its reports to stdout.
static char *
s_never_reported (const hpo_attempt_t *self, int *permanent)
{
    char *reason =
        hpo_sprintf ("objective '%s' never reported", self->objective);
    if (self->n_seen > 0) {
        char *list = hpo_strdup ("");
        for (size_t k = 0; k < self->n_seen && k < S_SEEN_SHOW; k++) {
            char *longer =
                hpo_sprintf ("%s%s%s", list, k ? ", " : "", self->seen[k]);
            free (list);
            list = longer;
        }
        char *longer =
            hpo_sprintf ("%s (reported: %s%s)", reason, list,
                         self->n_seen > S_SEEN_SHOW ? ", \u2026" : "");
        free (list);
        free (reason);
        reason = longer;
        *permanent = 1;
    }
    size_t with_objective = 0, lines = 0;
    int cut = 0;
    //  From stdout, the printed lines are the reports: none to suggest,
    //  but a pattern that never matched is worth saying.
    if (!self->pattern)
        lines = s_printed_reports (self, &with_objective, &cut);
    else if (self->n_seen == 0) {
        char *longer = hpo_sprintf (
            "%s; %s", reason,
            hpo_linepat_is_default (self->pattern)
                ? "it printed no line with a NAME=NUMBER word"
                : "no line it printed matched the metrics pattern");
        free (reason);
        reason = longer;
    }
    if (with_objective > 0 || (lines > 0 && self->n_seen == 0)) {
        char *longer = hpo_sprintf (
            "%s; stdout/stderr had %s%zu report line%s: write them to the "
            "file descriptor in $HPO_REPORT_FD (see README \"Reporting "
            "metrics\")",
            reason, cut ? "at least " : "", lines, lines == 1 ? "" : "s");
        free (reason);
        reason = longer;
        *permanent = 1;
    }
    return reason;
}

//  Why an attempt whose program is gone failed, or NULL if it completed.
//  *status is its wait status, *known whether that is the program's;
//  *permanent whether a retry would fail the same way.
static char *
s_failure (const hpo_attempt_t *self, int *status, int *known, int *permanent)
{
    *permanent = 0;
    *known = hpo_runner_status (self->runner, status);
    if (!*known) {
        char *how = hpo_runner_describe_status (*status);
        char *reason = WIFEXITED (*status) && WEXITSTATUS (*status) == 125
                           ? hpo_strdup ("could not start the training process")
                           : hpo_sprintf ("process shim died (%s)", how);
        free (how);
        return reason;
    }
    if (self->fate == S_TIMEOUT) {
        char *limit = s_seconds (self->timeout_ms);
        char *reason = hpo_sprintf ("timeout after %s", limit);
        free (limit);
        return reason;
    }
    if (WIFEXITED (*status) && WEXITSTATUS (*status) == 0)
        return self->has_value ? NULL : s_never_reported (self, permanent);
    char *reason = s_start_failure (self, *status, permanent);
    return reason ? reason : hpo_runner_describe_status (*status);
}

int
hpo_attempt_end (hpo_attempt_t *self, int64_t now, hpo_attempt_result_t *result)
{
    memset (result, 0, sizeof *result);
    double runtime_s = (double)(now - self->started_ms) / 1000.0;
    if (self->bad_lines > 1)
        hpo_log_warnx ("%s: %zu bad report lines in all", self->tag,
                       self->bad_lines);
    if (self->fate == S_DROP || self->fate == S_SHUTDOWN) {
        hpo_log_info ("%s: stopped after %.1fs", self->tag, runtime_s);
        return 0;
    }
    int status, known, permanent;
    char *reason = s_failure (self, &status, &known, &permanent);
    result->exit_status = known ? status : -1;
    result->runtime_s = runtime_s;
    if (reason) {
        result->failed = 1;
        result->permanent = permanent;
        result->reason = reason;
        result->log_tail = s_log_tail (self->log_path);
        hpo_log_info ("%s: FAILED after %.1fs: %s", self->tag, runtime_s,
                      reason);
    } else {
        result->value = self->value;
        hpo_log_info ("%s: COMPLETE after %.1fs: %s=%.17g", self->tag,
                      runtime_s, self->objective, self->value);
    }
    return 1;
}

void
hpo_attempt_result_clear (hpo_attempt_result_t *result)
{
    free (result->reason);
    free (result->log_tail);
    memset (result, 0, sizeof *result);
}

//  ---- state -----------------------------------------------------------------

uint64_t
hpo_attempt_trial_id (const hpo_attempt_t *self)
{
    return self->trial_id;
}

uint32_t
hpo_attempt_number (const hpo_attempt_t *self)
{
    return self->attempt;
}

const char *
hpo_attempt_tag (const hpo_attempt_t *self)
{
    return self->tag;
}

int
hpo_attempt_holds_lease (const hpo_attempt_t *self)
{
    return self->fate == S_RUN || self->fate == S_TIMEOUT;
}

int64_t
hpo_attempt_deadline (const hpo_attempt_t *self)
{
    return self->fate == S_RUN ? self->deadline_ms : 0;
}

void
hpo_attempt_check_timeout (hpo_attempt_t *self, int64_t now)
{
    if (self->fate != S_RUN || !self->deadline_ms || now < self->deadline_ms)
        return;
    char *limit = s_seconds (self->timeout_ms);
    hpo_log_info ("%s: timeout after %s: stopping it", self->tag, limit);
    free (limit);
    self->fate = S_TIMEOUT;
    hpo_runner_stop (self->runner);
}

int
hpo_attempt_kill (hpo_attempt_t *self, const char *why)
{
    if (self->fate == S_DROP)
        return -1;
    hpo_log_info ("%s: %s: stopping it", self->tag, why);
    if (self->fate != S_SHUTDOWN)
        self->fate = S_DROP;
    hpo_runner_stop (self->runner);
    return 0;
}

void
hpo_attempt_shutdown (hpo_attempt_t *self)
{
    if (self->fate != S_DROP)
        self->fate = S_SHUTDOWN;
    hpo_runner_stop (self->runner);
}

size_t
hpo_attempt_fds (const hpo_attempt_t *self, int paused, int fds[2])
{
    size_t n = 0;
    int report_fd = hpo_runner_report_fd (self->runner);
    if (report_fd >= 0 && !self->eof &&
        !(paused && hpo_attempt_holds_lease (self)))
        fds[n++] = report_fd;
    if (hpo_runner_status_fd (self->runner) >= 0)
        fds[n++] = hpo_runner_status_fd (self->runner);
    return n;
}

int
hpo_attempt_waits (const hpo_attempt_t *self, int paused)
{
    return self->pending && (!paused || !hpo_attempt_holds_lease (self));
}

//  ---- reports ---------------------------------------------------------------

static void
s_bad_line (hpo_attempt_t *self, const char *reason)
{
    //  A program that writes something else to the report descriptor
    //  would otherwise fill the log with one warning a line.
    if (self->bad_lines++ == 0)
        hpo_log_warnx ("%s: bad report line (%s); further bad lines are "
                       "only counted",
                       self->tag, reason);
}

//  One complete line: a Report into the sink, unless it is bad or blank.
static void
s_line (hpo_attempt_t *self, const char *line, size_t len,
        const hpo_attempt_sink_t *sink, int64_t now)
{
    hpo_report_t r;
    char *reason = NULL;
    if ((self->pattern
             ? hpo_report_match (self->pattern, line, len, &r, &reason)
             : hpo_report_parse (line, len, &r, &reason)) < 0) {
        s_bad_line (self, reason);
        free (reason);
        return;
    }
    if (r.n_metrics == 0)
        return; //  blank line
    for (size_t k = 0; k < r.n_metrics; k++)
        s_seen_add (self, r.metrics[k].name);
    const double *v = hpo_report_metric (&r, self->objective);
    if (v) {
        self->has_value = 1;
        self->value = *v;
    }
    sink->report (sink->arg, self, &r, now);
    hpo_report_clear (&r);
}

//  Turns the complete lines buffered into Reports, as long as the sink
//  has room. Returns 1 when no complete line is left, 0 when some wait
//  for room (self->pending).
static int
s_lines (hpo_attempt_t *self, const hpo_attempt_sink_t *sink, int64_t now)
{
    //  A killed attempt's late lines would only be refused: they are
    //  read and dropped, however full the sink.
    int keep = hpo_attempt_holds_lease (self);
    self->pending = 0;
    for (;;) {
        if (keep && sink->full (sink->arg)) {
            self->pending = 1;
            return 0;
        }
        const char *line;
        size_t len;
        int rc = hpo_report_buf_next (self->lines, &line, &len);
        if (rc == 0)
            return 1;
        if (rc < 0) {
            if (!self->pattern) //  stdout may print what it likes
                s_bad_line (self, "line longer than 64 KiB");
        } else if (keep)
            s_line (self, line, len, sink, now);
    }
}

//  Stdout read for its metrics goes on to the log, as it would have
//  without them.
static void
s_log_copy (hpo_attempt_t *self, const char *data, size_t size)
{
    while (self->log_fd >= 0 && size > 0) {
        ssize_t n = write (self->log_fd, data, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            hpo_log_warn ("%s: write %s", self->tag, self->log_path);
            close (self->log_fd);
            self->log_fd = -1;
            return;
        }
        data += n;
        size -= (size_t)n;
    }
}

//  Reads up to max bytes of reports, and no more than the sink has room
//  for: a program that reports faster than the coordinator takes it
//  waits on its write (backpressure). Returns 1 once the stream is over
//  and every line of it is queued.
static int
s_read (hpo_attempt_t *self, size_t max, const hpo_attempt_sink_t *sink,
        int64_t now)
{
    static char buf[65536];
    size_t total = 0;
    while (!self->eof) {
        if (!s_lines (self, sink, now) || total >= max)
            return 0;
        ssize_t n = hpo_runner_read (self->runner, buf, sizeof buf);
        if (n < 0 && !self->exited)
            return 0; //  nothing more for now
        if (n > 0) {
            s_log_copy (self, buf, (size_t)n);
            hpo_report_buf_feed (self->lines, buf, (size_t)n);
            total += (size_t)n;
            if (!self->exited || (self->drained += (size_t)n) <= S_DRAIN_MAX)
                continue;
            hpo_log_warnx ("%s: a process that escaped the trial keeps "
                           "writing reports: ignoring them after %d MiB",
                           self->tag, S_DRAIN_MAX >> 20);
        }
        //  End-of-file; or the program's whole tree is gone and the pipe
        //  is empty, so what is left is a process that escaped it and
        //  still holds the pipe open: it is no part of the attempt.
        self->eof = 1;
        hpo_report_buf_eof (self->lines);
    }
    return s_lines (self, sink, now);
}

int
hpo_attempt_service (hpo_attempt_t *self, size_t max,
                     const hpo_attempt_sink_t *sink, int64_t now)
{
    //  The exit first: after it, an empty pipe means the stream is over.
    if (!self->exited && hpo_runner_poll (self->runner))
        self->exited = 1;
    int read_all = s_read (self, max, sink, now);
    return self->exited &&
           (read_all || self->fate == S_DROP || self->fate == S_SHUTDOWN);
}
