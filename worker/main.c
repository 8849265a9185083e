/*  hpo-worker: runs trials the coordinator assigns. See worker/session.h
    for the protocol side and worker/runner.h for how trials run.         */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/endpoint.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/names.h"
#include "common/spec.h"
#include "worker/session.h"

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "Usage: hpo-worker --coordinator ENDPOINT [OPTIONS]\n"
        "\n"
        "Connects to an hpo coordinator and runs the trials it assigns, each\n"
        "as its own process group, streaming their reports back.\n"
        "\n"
        "Options:\n"
        "  -c, --coordinator ENDPOINT  the coordinator, e.g. tcp://head:5555\n"
        "                              (default: $HPO_COORDINATOR)\n"
        "                              (required)\n"
        "  -s, --slots N               trials run at once (default 1; with\n"
        "                              --gpus, one per GPU; with --cpus,\n"
        "                              the CPUs, at most 1024)\n"
        "  -g, --gpus LIST|auto        the GPUs trials may use, one trial\n"
        "                              each at a time: indices (0,1,2,3)\n"
        "                              or auto (nvidia-smi -L's GPUs,\n"
        "                              within CUDA_VISIBLE_DEVICES if set;\n"
        "                              none without nvidia-smi). A study's\n"
        "                              trial: {gpus: K} takes K of them\n"
        "  -C, --cpus N                CPU capacity shared by the trials,\n"
        "                              each taking its study's trial.cpus\n"
        "                              (default: the online CPUs, at least\n"
        "                              --slots)\n"
        "  -n, --name NAME             this worker's name, 1-255 bytes of\n"
        "                              UTF-8 without control characters\n"
        "                              (default HOSTNAME-PID)\n"
        "  -d, --state-dir DIR         where trial logs, parameter files and\n"
        "                              checkpoints go (default\n"
        "                              $XDG_STATE_HOME/hpo-worker if\n"
        "                              XDG_STATE_HOME is set, else\n"
        "                              ./hpo-worker-state)\n"
        "  -k, --checkpoint-root DIR   give each trial HPO_CHECKPOINT_DIR=\n"
        "                              DIR/STUDY/N (created, mode 0700), the\n"
        "                              same on every host: on a shared file\n"
        "                              system, a trial run again elsewhere\n"
        "                              resumes from its checkpoints\n"
        "                              (default: STATE/checkpoints/STUDY/N,\n"
        "                              kept across attempts on this host)\n"
        "  -l, --log-level LEVEL       debug, info, warn or error (default "
        "info)\n"
        "      --curve-secret FILE     this worker's secret key (hpo keygen\n"
        "                              NAME writes NAME.key_secret; its\n"
        "                              NAME.key goes in the coordinator's\n"
        "                              ALLOW/worker/) (default:\n"
        "                              $HPO_CURVE_SECRET)\n"
        "      --server-key FILE       the coordinator's public key,\n"
        "                              server.key (default: $HPO_SERVER_KEY)\n"
        "                              Both or neither. A coordinator that\n"
        "                              refuses the key is logged and tried\n"
        "                              again every 5 s.\n"
        "  -h, --help                  show this help and exit\n"
        "\n"
        "Under the state directory:\n"
        "  logs/STUDY/trial-N-attempt-A.log   the trial's stdout and stderr\n"
        "  trials/STUDY/trial-N-attempt-A/params.json   its parameters\n"
        "  checkpoints/STUDY/N/               its checkpoint directory, kept\n"
        "                                     across attempts on this host\n"
        "\n"
        "A trial's program runs in the worker's working directory and gets\n"
        "HPO_STUDY, HPO_TRIAL, HPO_ATTEMPT, HPO_TRIAL_ID, HPO_OBJECTIVE,\n"
        "HPO_WORKER, HPO_PARAMS_FILE, HPO_CHECKPOINT_DIR, HPO_PARAM_<NAME>\n"
        "for each parameter, HPO_GPUS (its GPUs, also CUDA_VISIBLE_DEVICES\n"
        "on a worker with --gpus), HPO_CPUS (also OMP_NUM_THREADS and\n"
        "MKL_NUM_THREADS unless the study's env sets them), and\n"
        "HPO_REPORT_FD=3: it reports by writing\n"
        "lines like \"step=3 val_loss=0.41\" or {\"step\": 3, \"val_loss\": "
        "0.41}\n"
        "to that descriptor. stdin is /dev/null. A study with\n"
        "metrics: {source: stdout} has the lines the program prints matched\n"
        "instead (it then gets no HPO_REPORT_FD); they still go to the log.\n"
        "\n"
        "SIGINT or SIGTERM stops the running trials (SIGTERM to each process\n"
        "group, SIGKILL after the study's grace period) and exits, after\n"
        "telling the coordinator, which re-runs them elsewhere. Trials never\n"
        "outlive the worker, even when it is killed with SIGKILL.\n"
        "\n"
        "Exit status: 0 after a stop, 1 on an error (among them: the\n"
        "coordinator refused this worker, or a newer worker process took\n"
        "its name), 2 on a usage error.\n");
}

//  A daemon started with a descriptor 0-2 closed would hand that number
//  to the first file it opens, and a stray write to "stderr" would land
//  there.
static void
s_std_fds (void)
{
    for (int fd = 0; fd < 3; fd++)
        if (fcntl (fd, F_GETFD) < 0 && errno == EBADF) {
            int null_fd = open ("/dev/null", O_RDWR);
            if (null_fd < 0)
                abort ();
            if (null_fd != fd)
                abort (); //  open takes the lowest free number: fd
        }
}

//  The worker's name when --name is not given: HOST-PID.
static char *
s_default_name (void)
{
    char host[HOST_NAME_MAX + 1];
    if (gethostname (host, sizeof host) < 0)
        snprintf (host, sizeof host, "worker");
    host[sizeof host - 1] = '\0';
    return hpo_sprintf ("%s-%d", host, (int)getpid ());
}

//  The state directory when --state-dir is not given.
static char *
s_default_state_dir (void)
{
    const char *xdg = getenv ("XDG_STATE_HOME");
    return xdg && *xdg ? hpo_sprintf ("%s/hpo-worker", xdg)
                       : hpo_strdup ("./hpo-worker-state");
}

//  A signalfd taking SIGINT, SIGTERM and SIGCHLD. The signals must be
//  blocked before ZeroMQ starts its threads, which inherit the mask;
//  otherwise one of them could take SIGTERM and die with it.
static int
s_signals (void)
{
    sigset_t mask;
    sigemptyset (&mask);
    sigaddset (&mask, SIGINT);
    sigaddset (&mask, SIGTERM);
    sigaddset (&mask, SIGCHLD);
    if (sigprocmask (SIG_BLOCK, &mask, NULL) < 0)
        hpo_fatal ("sigprocmask: %s", strerror (errno));
    int signal_fd = signalfd (-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd < 0)
        hpo_fatal ("signalfd: %s", strerror (errno));
    //  A closed stderr pipe must not kill the worker and its trials with
    //  it. (The runner restores the default for the programs it starts.)
    if (signal (SIGPIPE, SIG_IGN) == SIG_ERR)
        hpo_fatal ("signal: %s", strerror (errno));
    return signal_fd;
}

//  Loads the CURVE keys the options or environment name into keys.
//  Returns 1 (keys on), 0 (none given), -1 after saying what is wrong.
static int
s_keys (const char *secret, const char *server, hpo_keys_t *keys)
{
    if (!secret || !*secret)
        secret = getenv ("HPO_CURVE_SECRET");
    if (!server || !*server)
        server = getenv ("HPO_SERVER_KEY");
    int has_secret = secret && *secret, has_server = server && *server;
    if (!has_secret && !has_server)
        return 0;
    if (!has_secret || !has_server) {
        hpo_log_error ("--curve-secret and --server-key (or "
                       "HPO_CURVE_SECRET and HPO_SERVER_KEY) go together");
        return -1;
    }
    char *error = NULL;
    if (hpo_keys_load (keys, secret, server, &error)) {
        hpo_log_error ("%s", error);
        free (error);
        return -1;
    }
    return 1;
}

//  The worker's resources: --gpus (a list, or auto) and --cpus.
typedef struct {
    const char *gpus_arg; //  NULL: no GPUs
    unsigned long cpus;   //  0: the online CPUs
    int slots_given;      //  --slots was given
    hpo_gpu_t *gpus;
    size_t n_gpus;
} s_resources_t;

//  Reads --gpus and settles slots and CPUs. 0, or -1 after logging a
//  usage error.
static int
s_resources (s_resources_t *r, unsigned long *slots)
{
    if (r->gpus_arg && !strcmp (r->gpus_arg, "auto"))
        r->n_gpus = hpo_gpus_detect (&r->gpus);
    else if (r->gpus_arg) {
        char *error = NULL;
        if (hpo_gpus_parse_list (r->gpus_arg, &r->gpus, &r->n_gpus, &error)) {
            hpo_log_error ("--gpus: %s", error);
            free (error);
            return -1;
        }
    }
    //  One slot per GPU; a worker with no GPU found keeps --slots. With
    //  --cpus and no --slots, CPUs bound the trials: --cpus 32 runs eight
    //  trials of cpus: 4, or 32 of one.
    if (r->n_gpus)
        *slots = r->n_gpus;
    else if (r->cpus && !r->slots_given)
        *slots = r->cpus < 1024 ? r->cpus : 1024;
    if (r->cpus == 0) {
        long online = sysconf (_SC_NPROCESSORS_ONLN);
        r->cpus = online > 0 ? (unsigned long)online : 1;
        //  --slots alone works as before: each default trial takes one.
        if (r->cpus < *slots)
            r->cpus = *slots;
    }
    return 0;
}

//  Runs the session until it ends; returns the exit status.
static int
s_run (const char *endpoint, const char *name, uint32_t slots,
       const char *state_dir, const char *checkpoint_root,
       const s_resources_t *r, const hpo_keys_t *keys)
{
    int signal_fd = s_signals ();
    hpo_session_config_t config = {
        .endpoint = endpoint,
        .name = name,
        .slots = slots,
        .state_dir = state_dir,
        .signal_fd = signal_fd,
        .checkpoint_root = checkpoint_root,
        .gpus = r->gpus,
        .n_gpus = r->n_gpus,
        .cpus = (uint32_t)r->cpus,
        .keys = keys,
    };
    hpo_session_t *session = hpo_session_new (&config);
    int rc = 1;
    if (session) {
        rc = hpo_session_run (session) == 0 ? 0 : 1;
        hpo_session_destroy (&session);
        hpo_log_info ("exited");
    }
    close (signal_fd);
    return rc;
}

int
main (int argc, char *argv[])
{
    s_std_fds ();
    hpo_log_init ("hpo-worker", HPO_LOG_INFO);

    const char *endpoint = NULL;
    const char *name = NULL;
    const char *state_dir = NULL;
    const char *checkpoint_root = NULL;
    unsigned long slots = 1;
    s_resources_t res = {0};
    const char *curve_secret = NULL, *server_key = NULL;
    static const struct option options[] = {
        {"gpus", required_argument, NULL, 'g'},
        {"cpus", required_argument, NULL, 'C'},
        {"curve-secret", required_argument, NULL, 'K'},
        {"server-key", required_argument, NULL, 'S'},
        {"coordinator", required_argument, NULL, 'c'},
        {"slots", required_argument, NULL, 's'},
        {"name", required_argument, NULL, 'n'},
        {"state-dir", required_argument, NULL, 'd'},
        {"checkpoint-root", required_argument, NULL, 'k'},
        {"log-level", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "c:s:g:C:n:d:k:l:h", options,
                               NULL)) != -1) {
        switch (opt) {
        case 'c':
            endpoint = optarg;
            break;
        case 's': {
            char *end;
            errno = 0;
            slots = strtoul (optarg, &end, 10);
            res.slots_given = 1;
            if (errno || !*optarg || *end || slots < 1 || slots > 1024)
                hpo_fatal ("--slots: '%s' is not a number from 1 to 1024",
                           optarg);
            break;
        }
        case 'g':
            res.gpus_arg = optarg;
            break;
        case 'K':
            curve_secret = optarg;
            break;
        case 'S':
            server_key = optarg;
            break;
        case 'C': {
            char *end;
            errno = 0;
            res.cpus = strtoul (optarg, &end, 10);
            if (errno || !*optarg || *end || res.cpus < 1 ||
                res.cpus > HPO_SPEC_MAX_CPUS)
                hpo_fatal ("--cpus: '%s' is not a number from 1 to 65536",
                           optarg);
            break;
        }
        case 'n': {
            //  The coordinator's own rule (common/names.h): a name it would
            //  refuse is a usage error here, not a Hello refused later.
            const char *problem =
                hpo_name_worker_problem (optarg, strlen (optarg));
            if (problem) {
                hpo_log_error ("--name: %s", problem);
                s_usage (stderr);
                return 2;
            }
            name = optarg;
            break;
        }
        case 'd':
            state_dir = optarg;
            break;
        case 'k':
            if (!*optarg)
                hpo_fatal ("--checkpoint-root: empty directory name");
            checkpoint_root = optarg;
            break;
        case 'l': {
            int level = hpo_log_level_parse (optarg);
            if (level < 0)
                hpo_fatal ("--log-level: '%s' is not one of debug, info, "
                           "warn, error",
                           optarg);
            hpo_log_init ("hpo-worker", (hpo_log_level_t)level);
            break;
        }
        case 'h':
            s_usage (stdout);
            return 0;
        default:
            s_usage (stderr);
            return 2;
        }
    }
    if (optind < argc) {
        hpo_log_error ("unexpected argument '%s'", argv[optind]);
        s_usage (stderr);
        return 2;
    }
    if (!endpoint || !*endpoint)
        endpoint = getenv ("HPO_COORDINATOR");
    if (!endpoint || !*endpoint) {
        hpo_log_error ("--coordinator (or HPO_COORDINATOR) is required");
        s_usage (stderr);
        return 2;
    }
    //  The form only: a worker on a node whose DNS is not up yet still
    //  starts, and ZeroMQ resolves the host when it connects.
    char *why = NULL;
    if (hpo_endpoint_check (endpoint, 0, &why) < 0) {
        hpo_log_error ("bad endpoint '%s': %s", endpoint, why);
        free (why);
        s_usage (stderr);
        return 2;
    }

    hpo_keys_t keys;
    int has_keys = s_keys (curve_secret, server_key, &keys);
    if (has_keys < 0)
        return 2;
    char *name_buf = NULL, *state_buf = NULL;
    if (!name)
        name = name_buf = s_default_name ();
    if (!state_dir)
        state_dir = state_buf = s_default_state_dir ();
    if (s_resources (&res, &slots) < 0) {
        s_usage (stderr);
        free (name_buf);
        free (state_buf);
        return 2;
    }
    int rc = s_run (endpoint, name, (uint32_t)slots, state_dir, checkpoint_root,
                    &res, has_keys ? &keys : NULL);
    hpo_gpus_free (res.gpus, res.n_gpus);
    free (name_buf);
    free (state_buf);
    return rc;
}
