/*  hpo: the command-line client. Each command is one request to the
    coordinator and one reply (hpo watch: one every interval), printed as
    text for people or, with --json, as one JSON document (cli/render.h).

    Exit status: 0 success; 1 an error (the coordinator said no, did not
    answer, or output could not be written); 2 a usage error or a study
    file that is not valid; 3 stop: (hpo watch) the study ended with no
    complete trial, (hpo ask) the study hands out no more trials, (hpo
    report) the pruner stopped the trial; 4 (hpo ask) budget.parallel
    trials are running: tell one first.                                   */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/json_render.h"
#include "../common/log.h"
#include "../common/mem.h"
#include "../common/names.h"
#include "../common/spec.h"
#include "../common/wire.h"
#include "client.h"
#include "keys.h"
#include "../dash/page.h"
#include "render.h"
#include "report.h"
#include "slurm.h"
#include "tensorboard.h"

#ifndef HPO_VERSION
#define HPO_VERSION "unknown"
#endif

#define DEFAULT_ENDPOINT "tcp://127.0.0.1:5555"
#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_INTERVAL_MS 1000

enum {
    EXIT_ERROR = 1,
    EXIT_USAGE = 2,
    EXIT_NO_RESULT = 3,
    EXIT_STOP = 3, //  hpo ask: no more trials; hpo report: pruned
    EXIT_BUSY = 4, //  hpo ask: budget.parallel trials running
};

//  Options a command accepts besides the global ones.
enum {
    OPT_STATE = 1,
    OPT_INTERVAL = 2,
    OPT_NOW = 4,
    OPT_TRIALS = 8,
    OPT_FAILED = 16,
    OPT_YES = 32,
    OPT_SORT = 64,
    OPT_LIMIT = 128,
    OPT_CSV = 256,
    OPT_JSONL = 512,
    OPT_CURVES = 1024,
    OPT_GRID = 2048,
    OPT_TOP = 4096,
    OPT_POINTS = 8192,
    OPT_SHRINK = 16384,
    OPT_NAME = 32768,
    OPT_DIR = 65536,
    OPT_FORCE = 131072,
    OPT_NODES = 262144,
    OPT_WAIT = 524288,
    OPT_OUTPUT = 1048576,
    OPT_TENSORBOARD = 2097152,
    OPT_FOLLOW = 4194304,
};

//  Each OPT_* by name and the command it belongs to, for the message
//  when it is given to another.
static const struct {
    unsigned opt;
    const char *name;
    const char *command;
} s_options[] = {
    {OPT_STATE, "--state", "trials' and 'hpo tell"},
    {OPT_INTERVAL, "--interval", "watch' and 'hpo export"},
    {OPT_NOW, "--now", "study stop"},   {OPT_TRIALS, "--trials", "study extend"},
    {OPT_FAILED, "--failed", "trial retry"},
    {OPT_YES, "--yes", "study delete"}, {OPT_SORT, "--sort", "trials"},
    {OPT_LIMIT, "--limit", "trials"},   {OPT_CSV, "--csv", "export"},
    {OPT_JSONL, "--jsonl", "export"},   {OPT_CURVES, "--curves", "export"},
    {OPT_GRID, "--grid", "study show"},
    {OPT_TOP, "--top", "study refine"},
    {OPT_POINTS, "--points", "study refine"},
    {OPT_SHRINK, "--shrink", "study refine"},
    {OPT_NAME, "--name", "study refine"},
    {OPT_DIR, "--dir", "keygen' and 'hpo slurm launch"},
    {OPT_FORCE, "--force", "keygen"},
    {OPT_NODES, "--nodes", "slurm launch"},
    {OPT_WAIT, "--wait", "slurm launch"},
    {OPT_OUTPUT, "--output", "report"},
    {OPT_TENSORBOARD, "--tensorboard", "export"},
    {OPT_FOLLOW, "--follow", "export"},
};

typedef struct {
    const char *endpoint;
    int timeout_ms;
    int json;
    const char *state; //  --state, NULL if not given
    int interval_ms;
    const char *trials;   //  --trials, NULL if not given
    const char *sort;     //  --sort, NULL if not given
    uint64_t limit;       //  --limit, 0 if not given
    const char *csv;      //  --csv FILE
    const char *jsonl;    //  --jsonl FILE
    int curves;           //  --curves
    const char *tb_dir;   //  --tensorboard DIR
    int grid;             //  --grid
    //  hpo study refine's --top, --points, --shrink, --name; NULL if not
    //  given (the refine sampler's defaults).
    const char *top, *points, *shrink, *name;
    const char *dir;      //  --dir DIR (keygen, slurm launch)
    long nodes;           //  --nodes N (slurm launch)
    int wait_ms;          //  --wait (slurm launch)
    const char *curve_secret; //  --curve-secret FILE
    const char *server_key;   //  --server-key FILE
    const char *output;       //  -o/--output FILE (hpo report STUDY)
    unsigned given;       //  OPT_* seen on the command line
    int n_args;           //  operands given (commands taking a list)
    hpo_client_t *client; //  made once the command line is good
} s_ctx_t;

typedef int (s_handler_fn) (s_ctx_t *ctx, char **args);

typedef struct {
    const char *group; //  "study", "trial", or NULL
    const char *name;
    int n_args;           //  operands, exactly; -N: at least N
    const char *synopsis; //  after "hpo "
    const char *brief;    //  for the list of commands
    const char *summary;
    const char *detail; //  more help, may be NULL
    unsigned options;   //  OPT_* it accepts
    s_handler_fn *handler;
} s_command_t;

static s_handler_fn s_study_create, s_study_list, s_study_show, s_study_stop,
    s_study_extend, s_study_resume, s_study_delete, s_trial_retry, s_trials,
    s_trial_show, s_best, s_workers, s_watch, s_export, s_ask, s_tell, s_report,
    s_enqueue, s_keygen, s_admin_backup, s_slurm_launch;
static s_handler_fn s_study_refine;

static const s_command_t s_commands[] = {
    {"study", "create", 1, "study create FILE", "submit a study file",
     "submit the study described in FILE (\"-\": standard input)",
     "FILE is checked here first, so a mistake is reported at once as\n"
     "FILE:LINE: KEY: message (exit 2) before anything is sent.\n",
     0, s_study_create},
    {"study", "refine", 1,
     "study refine NAME [--top K] [--points N] [--shrink F] [--name NEW]",
     "a grid around a study's best trials",
     "create a study that runs a grid around the K best COMPLETE trials of\n"
     "NAME, with NAME's command, objective, space, trial settings and env",
     "Around each of those trials every numeric parameter gets N points\n"
     "across a window of F times its range (in log space for a log\n"
     "parameter), centred on the trial's value and clipped to the bounds;\n"
     "integers and steps are rounded, repeats removed. A categorical\n"
     "parameter takes the values those trials have. Points two windows\n"
     "share run once. The budget is the number of points. The trials are\n"
     "read when the study is created: NAME may change or go afterwards.\n"
     "  --top K          trials to refine around (default 5)\n"
     "  --points N       points per parameter in a window (default 5)\n"
     "  --shrink F       a window's width, as a fraction of the range\n"
     "                   (default 0.2; above 0, at most 1)\n"
     "  --name NEW       the new study's name (default NAME-refine, or\n"
     "                   NAME-refine2, -refine3 ... if taken)\n",
     OPT_TOP | OPT_POINTS | OPT_SHRINK | OPT_NAME, s_study_refine},
    {"study", "list", 0, "study list", "all studies and their progress",
     "all studies: NAME STATE DONE/BUDGET RUNNING BEST ELAPSED", NULL, 0,
     s_study_list},
    {"study", "show", 1, "study show NAME [--grid]", "one study in detail",
     "one study: trials per state, best so far, elapsed, objective, "
     "sampler",
     "A hybrid search (grid: true parameters) shows how many grid points\n"
     "it has and the fewest and most trials any of them has had.\n"
     "  --grid           one row per grid point: its values and trials\n"
     "                   (with --json, one document of them)\n",
     OPT_GRID, s_study_show},
    {"study", "stop", 1, "study stop NAME [--now]", "start no new trials",
     "start no new trials of NAME; the running ones finish",
     "Trials waiting for a retry end FAILED. A study already FINISHED,\n"
     "STOPPED or FAILED is left as it is (exit 1).\n"
     "  --now            also stop the running trials: their workers kill\n"
     "                   them (SIGTERM, the grace period, SIGKILL) and they\n"
     "                   end FAILED with reason \"stopped\"\n",
     OPT_NOW, s_study_stop},
    {"study", "extend", 1, "study extend NAME --trials N",
     "raise a study's budget",
     "raise the budget of NAME by N trials; a FINISHED study runs again",
     "New trials continue the numbering, so a seeded sampler continues its\n"
     "sequence instead of repeating it. A grid study cannot grow past its\n"
     "points: the error says how many are left. A STOPPED or FAILED study\n"
     "keeps its state: hpo study resume runs it.\n"
     "  --trials N       trials to add (at least 1)\n",
     OPT_TRIALS, s_study_extend},
    {"study", "resume", 1, "study resume NAME",
     "run a stopped or failed study again",
     "take a STOPPED or FAILED study (or one stopping) back to RUNNING",
     "budget.fail_fast and budget.max_failed count the failures after the\n"
     "resume, so a study that failed fast does not fail again at once.\n"
     "A FINISHED study has used its budget: hpo study extend adds trials.\n",
     0, s_study_resume},
    {"study", "delete", 1, "study delete NAME [--yes]", "remove an ended study",
     "remove a FINISHED, STOPPED or FAILED study and all its trials, "
     "attempts\nand values; its name can be used again",
     "Asks for confirmation on a terminal; elsewhere (a script, a pipe)\n"
     "--yes is required.\n"
     "  --yes            delete without asking\n",
     OPT_YES, s_study_delete},
    {"trial", "retry", -1, "trial retry NAME N...|--failed",
     "run failed trials again",
     "run FAILED trials of NAME again with the same parameters, as a new\n"
     "attempt; their earlier attempts stay in hpo trial show",
     "Every trial named must be FAILED, or nothing is retried. The study\n"
     "runs again if it had ended.\n"
     "  --failed         every FAILED trial of the study\n",
     OPT_FAILED, s_trial_retry},
    {NULL, "trials", 1, "trials NAME [--state S] [--sort K] [--limit N]",
     "a study's trials",
     "a study's trials: NUMBER STATE VALUE ATTEMPT WORKER DURATION "
     "PARAMS... REASON",
     "  --state STATE    only trials in STATE: WAITING, RUNNING, COMPLETE,\n"
     "                   PRUNED or FAILED (any case)\n"
     "  --sort KEY       value (best first by the study's direction, trials\n"
     "                   without a value last), number, or duration\n"
     "                   (longest first, unfinished last)\n"
     "  --limit N        only the first N trials (after sorting)\n",
     OPT_STATE | OPT_SORT | OPT_LIMIT, s_trials},
    {"trial", "show", 2, "trial show NAME NUMBER", "one trial in detail",
     "one trial: params, attempts, intermediate values, log tail", NULL, 0,
     s_trial_show},
    {NULL, "best", 1, "best NAME", "the best trial so far",
     "the best trial of NAME so far (exit 1 if none has completed)", NULL, 0,
     s_best},
    {NULL, "workers", 0, "workers", "the workers and their slots",
     "the workers: NAME HOST SLOTS RUNNING LAST-HEARTBEAT ALIVE", NULL, 0,
     s_workers},
    {NULL, "watch", 1, "watch NAME [--interval SECONDS]",
     "follow a study until it ends",
     "follow NAME until it is FINISHED, STOPPED or FAILED, then print a "
     "summary",
     "On a terminal the view is redrawn in place: a progress bar, the\n"
     "running trials with their latest step and value, the best so far.\n"
     "Otherwise one line is printed per change. With --json nothing is\n"
     "printed until the end, then the study document. The view shows an\n"
     "ETA (from the mean duration of ended trials) and the last failure.\n"
     "Each poll waits at most --timeout. If the coordinator stops\n"
     "answering (it restarted), the watch says \"reconnecting\" and keeps\n"
     "trying until it answers again; it ends only when the study ends,\n"
     "the coordinator refuses (the study is gone), or on Ctrl-C. A\n"
     "coordinator that never answered at all is given up after --timeout.\n"
     "  --interval SECONDS  time between polls (default 1)\n"
     "Exit status: 0 the study ended with a complete trial; 3 it ended\n"
     "(FINISHED, STOPPED or FAILED) with none; 1 an error; 2 usage.\n",
     OPT_INTERVAL, s_watch},
    {NULL, "export", 1,
     "export NAME (--csv|--jsonl) FILE [--curves] | --tensorboard DIR "
     "[--follow]",
     "results: CSV, JSON Lines, TensorBoard",
     "write NAME's trials to FILE (\"-\": standard output), one row each,\n"
     "or as TensorBoard event files under DIR",
     "  --csv FILE     CSV with a header line (pandas.read_csv reads it)\n"
     "  --jsonl FILE   JSON Lines: one object per trial, the same keys\n"
     "  --curves       the intermediate values instead, in long form:\n"
     "                 trial, attempt, step, metric, value\n"
     "Columns: number, state, a column per parameter, value, metric:NAME\n"
     "(the last value of each metric), attempts, worker, started, ended\n"
     "(ISO 8601 UTC), duration (seconds), reason. Values are exact.\n\n"
     "  --tensorboard DIR  event files for TensorBoard's HParams dashboard\n"
     "                 (tensorboard --logdir DIR): DIR/N/ per trial that\n"
     "                 ran (its parameters, a scalar per report, its end:\n"
     "                 SUCCESS for COMPLETE and PRUNED, FAILURE for\n"
     "                 FAILED), and the experiment (domains, metrics) at\n"
     "                 DIR's root. DIR must be new or empty: an export does\n"
     "                 not resume. Scalars are float, as TensorBoard's are.\n"
     "  --follow       keep adding what is new until the study is\n"
     "                 FINISHED, STOPPED or FAILED; Ctrl-C stops it, with\n"
     "                 the experiment written\n"
     "  --interval SECONDS  time between polls with --follow (default 2)\n",
     OPT_CSV | OPT_JSONL | OPT_CURVES | OPT_TENSORBOARD | OPT_FOLLOW |
         OPT_INTERVAL,
     s_export},
    {NULL, "ask", 1, "ask NAME [--json]", "hand out a trial to this loop",
     "create NAME's next trial, as a worker would be given it, and hand it\n"
     "to this caller: its number and parameters",
     "The trial is RUNNING until hpo tell finishes it. It has no worker and\n"
     "no lease, so it never expires: it stays RUNNING until told (hpo\n"
     "study stop --now stops it). budget.parallel counts it.\n"
     "  --json           {\"number\": N, \"params\": {...}}; parameters\n"
     "                   absent from the trial (when:) are left out\n"
     "Exit status: 0 a trial; 3 the study hands out no more (its budget is\n"
     "used up, or it is not RUNNING); 4 budget.parallel trials are running:\n"
     "tell one first; 1 an error; 2 usage.\n",
     0, s_ask},
    {NULL, "tell", -2, "tell NAME NUMBER [VALUE] [--state S]",
     "finish a trial hpo ask handed out",
     "finish trial NUMBER of NAME, handed out by hpo ask, with VALUE",
     "VALUE may be negative (hpo tell s 3 -301.5). The study's sampler\n"
     "learns of it as of a trial a worker finished.\n"
     "  --state S        complete (default: VALUE needed), pruned (VALUE\n"
     "                   optional: the last reported value) or failed\n"
     "                   (VALUE ignored; the trial is not retried)\n"
     "A trial is told once; one a worker runs, or one not handed out, is\n"
     "refused (exit 1). Telling PRUNED a trial the pruner stopped is fine.\n",
     OPT_STATE, s_tell},
    {NULL, "report", -1,
     "report NAME -o FILE | report NAME NUMBER STEP METRIC=VALUE...",
     "a study's dashboard as one HTML file; or an asked trial's value",
     "with -o FILE: write NAME's dashboard page, its data inside, to FILE;\n"
     "otherwise: record intermediate values of trial NUMBER (handed out by\n"
     "hpo ask) at STEP",
     "hpo report NAME -o FILE (\"-\": standard output) writes one\n"
     "self-contained HTML file with the dashboard's views of NAME (the\n"
     "page hpo-coordinator --http serves), for sharing: it needs no\n"
     "coordinator and no network to open. It holds every trial, every\n"
     "intermediate value and attempt, and the detail of the best 50 trials\n"
     "and the 50 that ended last.\n"
     "  -o, --output FILE  where to write the page\n"
     "hpo report NAME NUMBER STEP METRIC=VALUE...: the objective's value\n"
     "goes to the study's pruner, as a worker's report does. The answer\n"
     "says whether to go on.\n"
     "  --json           {\"prune\": true|false, \"message\": ...}\n"
     "Exit status: 0 go on (or the page written); 3 the pruner stopped the\n"
     "trial (it is PRUNED): stop training it; 1 an error; 2 usage.\n",
     OPT_OUTPUT, s_report},
    {NULL, "enqueue", -2, "enqueue NAME PARAM=VALUE...",
     "queue a configuration to run first",
     "queue a configuration of NAME's parameters to run before anything "
     "sampled",
     "Values are checked against the study's space as a study file's are.\n"
     "Parameters left out are drawn by the study's sampler, now. The trial\n"
     "is stored before the answer (a restart keeps it) and counts toward\n"
     "the budget: when the budget is full, hpo study extend makes room.\n"
     "Workers, or hpo ask for a study without a command, run it next.\n",
     0, s_enqueue},
    {NULL, "keygen", 1, "keygen NAME [--dir DIR] [--force]",
     "make a CURVE key pair",
     "write a new key pair: NAME.key (public) and NAME.key_secret (secret,\n"
     "mode 0600), in the current directory or DIR; talks to no coordinator",
     "The coordinator's pair: hpo keygen server; give hpo-coordinator\n"
     "--curve-secret server.key_secret, and every worker and client\n"
     "server.key. A worker's or client's NAME.key goes in the coordinator's\n"
     "--allow DIR, under worker/, client/ or admin/ (its role).\n"
     "  --dir DIR        write the files there (it must exist)\n"
     "  --force          replace existing files (the old key stops working)\n",
     OPT_DIR | OPT_FORCE, s_keygen},
    {"admin", "backup", 1, "admin backup FILE",
     "copy the coordinator's database while it runs",
     "the coordinator copies its database to FILE on its own host, a few\n"
     "pages between loop turns, while studies run; answers once complete",
     "FILE must not exist; a relative FILE is made absolute from this\n"
     "directory (meant for a coordinator on this host). The copy is a\n"
     "database hpo-coordinator --db FILE starts on. Needs an admin key when\n"
     "the coordinator has keys. Waits at least 10 minutes (or --timeout).\n",
     0, s_admin_backup},
    {"slurm", "launch", -1,
     "slurm launch FILE --nodes N [--dir DIR] [--wait S] [-- SBATCH_OPT...]",
     "a study and its workers as Slurm jobs",
     "submit the coordinator job (unless one answers at the shared\n"
     "directory's address), wait for it, create the study in FILE, and\n"
     "submit N worker jobs (deploy/slurm/hpo-workers.sbatch); prints the\n"
     "job ids",
     "  --nodes N        worker jobs to submit, one node each\n"
     "  --dir DIR        the shared directory, which must exist (default\n"
     "                   $HPO_SLURM_DIR, else ~/.hpo/slurm, made if\n"
     "                   missing): the coordinator writes its endpoint\n"
     "                   to DIR/coordinator.address, its database is\n"
     "                   DIR/hpo.db, its output DIR/hpo-coordinator-JOB.out\n"
     "  --wait S         how long to wait for the coordinator job to start\n"
     "                   and answer (default 300 seconds)\n"
     "Words after \"--\" go to sbatch for every worker job (--partition,\n"
     "--gpus-per-node, --time, --output...). Both jobs also take sbatch's\n"
     "SBATCH_* variables (SBATCH_PARTITION, SBATCH_ACCOUNT...), and their\n"
     "scripts HPO_* ones (deploy/slurm/*.sbatch say which: HPO_INSECURE=1\n"
     "runs the coordinator without keys). The scripts are looked for in\n"
     "$HPO_SLURM_SCRIPTS, else next to this program (share/hpo/slurm).\n"
     "Exit status: 0 every job submitted; 1 sbatch failed, or the\n"
     "coordinator did not answer in time; 2 usage or a bad study file.\n",
     OPT_NODES | OPT_DIR | OPT_WAIT, s_slurm_launch},
};
#define N_COMMANDS (sizeof s_commands / sizeof s_commands[0])

static const char *s_global_help =
    "Options:\n"
    "  --coordinator ENDPOINT  the coordinator (default $HPO_COORDINATOR,\n"
    "                          else " DEFAULT_ENDPOINT ")\n"
    "  --timeout SECONDS       how long to wait for an answer (default 5)\n"
    "  --curve-secret FILE     this client's secret key (hpo keygen), and\n"
    "  --server-key FILE       the coordinator's public key; default\n"
    "                          $HPO_CURVE_SECRET and $HPO_SERVER_KEY, else\n"
    "                          ~/.config/hpo/client.key_secret and\n"
    "                          ~/.config/hpo/server.key if present\n"
    "  --json                  print one JSON document (read commands)\n"
    "  --help                  this help; hpo COMMAND --help for a command\n"
    "  --version               print the version\n";

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: hpo [OPTIONS] COMMAND [ARGS]\n\n"
                  "hpo submits studies to an hpo coordinator and shows "
                  "their progress.\n\nCommands:\n");
    //  A synopsis too long for its column puts its brief on the next line.
    for (size_t k = 0; k < N_COMMANDS; k++) {
        const char *synopsis = s_commands[k].synopsis;
        if (strlen (synopsis) > 32)
            fprintf (out, "  %s\n  %-32s %s\n", synopsis, "",
                     s_commands[k].brief);
        else
            fprintf (out, "  %-32s %s\n", synopsis, s_commands[k].brief);
    }
    fprintf (out, "  %-32s %s\n", "help [COMMAND]",
             "this help, or a command's");
    fprintf (out,
             "\n%s\nExit status: 0 success, 1 error, 2 usage error or "
             "invalid study file,\n3 stop: (hpo watch) the study ended with "
             "no complete trial, (hpo ask)\nno more trials, (hpo report) the "
             "trial was pruned; 4 (hpo ask) budget.parallel\ntrials running."
             "\n",
             s_global_help);
}

static void
s_command_usage (FILE *out, const s_command_t *cmd)
{
    fprintf (out, "usage: hpo %s [OPTIONS]\n\n%s\n", cmd->synopsis,
             cmd->summary);
    if (cmd->detail)
        fprintf (out, "\n%s", cmd->detail);
    fprintf (out, "\n%s", s_global_help);
}

static void
s_group_usage (FILE *out, const char *group)
{
    fprintf (out, "usage: hpo %s SUBCOMMAND [ARGS]\n\n", group);
    for (size_t k = 0; k < N_COMMANDS; k++)
        if (s_commands[k].group && strcmp (s_commands[k].group, group) == 0)
            fprintf (out, "  %-32s %s\n", s_commands[k].synopsis,
                     s_commands[k].brief);
    fprintf (out, "\n%s", s_global_help);
}

static int
s_is_group (const char *word)
{
    return strcmp (word, "study") == 0 || strcmp (word, "trial") == 0 ||
           strcmp (word, "admin") == 0 || strcmp (word, "slurm") == 0;
}

//  Finds the command the words name. Returns it, or NULL; *used says how
//  many words the command's name took.
static const s_command_t *
s_lookup (char **words, int n, int *used)
{
    if (n == 0)
        return NULL;
    for (size_t k = 0; k < N_COMMANDS; k++) {
        const s_command_t *cmd = &s_commands[k];
        if (cmd->group) {
            if (n >= 2 && strcmp (words[0], cmd->group) == 0 &&
                strcmp (words[1], cmd->name) == 0) {
                *used = 2;
                return cmd;
            }
        } else if (strcmp (words[0], cmd->name) == 0) {
            *used = 1;
            return cmd;
        }
    }
    return NULL;
}

//  ---- talking to the coordinator ---------------------------------------

static const char *
s_error_code_name (Hpo__ErrorCode code)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value (
        &hpo__error_code__descriptor, code);
    return v ? v->name : "unknown error";
}

//  The exit status for an Error answering request.
static int
s_error_status (const hpo_env_t *request, Hpo__ErrorCode code)
{
    //  The coordinator judged the study file invalid: the same outcome as
    //  when the local check does.
    if (request->body_case == HPO__ENVELOPE__BODY_STUDY_CREATE &&
        code == HPO__ERROR_CODE__ERR_INVALID)
        return EXIT_USAGE;
    if (code == HPO__ERROR_CODE__ERR_DONE)
        return EXIT_STOP;
    if (code == HPO__ERROR_CODE__ERR_BUSY)
        return EXIT_BUSY;
    return EXIT_ERROR;
}

//  Sends request and checks that the reply's body is the one expected.
//  Returns 0 with *reply_p set, or the exit status after saying what went
//  wrong. not_found is what to say for ERR_NOT_FOUND if the coordinator
//  gives no message. With no_answer non-NULL, a request that got no answer
//  is not reported but flagged there, for the caller to try again.
static int
s_call_ex (s_ctx_t *ctx, hpo_env_t *request, Hpo__Envelope__BodyCase expect,
           const char *not_found, hpo_env_t **reply_p, int *no_answer)
{
    *reply_p = NULL;
    hpo_env_t *reply = hpo_client_request (ctx->client, request);
    if (!reply) {
        //  A refused key is an answer of sorts: asking again won't help.
        if (no_answer && !hpo_client_refused (ctx->client))
            *no_answer = 1;
        else
            hpo_log_error ("%s", hpo_client_error (ctx->client));
        return EXIT_ERROR;
    }
    if (reply->body_case == HPO__ENVELOPE__BODY_ERROR) {
        const Hpo__Error *error = reply->error;
        const char *message = error->message;
        if (!message || !*message)
            message = error->code == HPO__ERROR_CODE__ERR_NOT_FOUND && not_found
                          ? not_found
                          : s_error_code_name (error->code);
        hpo_log_error ("%s", message);
        int status = s_error_status (request, error->code);
        hpo_wire_free (&reply);
        return status;
    }
    if (reply->body_case != expect) {
        hpo_log_error ("unexpected reply from %s (body %d, wanted %d)",
                       hpo_client_endpoint (ctx->client), (int)reply->body_case,
                       (int)expect);
        hpo_wire_free (&reply);
        return EXIT_ERROR;
    }
    *reply_p = reply;
    return 0;
}

static int
s_call (s_ctx_t *ctx, hpo_env_t *request, Hpo__Envelope__BodyCase expect,
        const char *not_found, hpo_env_t **reply_p)
{
    return s_call_ex (ctx, request, expect, not_found, reply_p, NULL);
}

static int
s_print_json (json_t *doc)
{
    int rc = hpo_json_render_print (stdout, doc);
    json_decref (doc);
    return rc == 0 ? 0 : EXIT_ERROR;
}

//  (Re)connects ctx's client to endpoint, with the keys the options or
//  the usual places give (keys.h). Returns 0, or EXIT_USAGE after logging.
static int
s_connect (s_ctx_t *ctx, const char *endpoint)
{
    hpo_client_destroy (&ctx->client);
    hpo_keys_t keys;
    int has_keys = hpo_cli_keys (ctx->curve_secret, ctx->server_key, &keys);
    if (has_keys < 0)
        return EXIT_USAGE;
    char *why = NULL;
    ctx->client = hpo_client_new_keys (endpoint, ctx->timeout_ms,
                                       has_keys ? &keys : NULL, &why);
    memset (&keys, 0, sizeof keys); //  no secret left on the stack
    if (!ctx->client) {
        hpo_log_error ("%s", why);
        free (why);
        return EXIT_USAGE;
    }
    return 0;
}

//  ---- commands -----------------------------------------------------------

//  Reads a whole file ("-": stdin) into a new NUL-terminated buffer.
static char *
s_read_file (const char *path, size_t *len_p)
{
    FILE *file = strcmp (path, "-") == 0 ? stdin : fopen (path, "rb");
    if (!file) {
        hpo_log_warn ("cannot open %s", path);
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *text = hpo_malloc (cap);
    size_t n;
    while ((n = fread (text + len, 1, cap - len - 1, file)) > 0) {
        len += n;
        if (len > HPO_WIRE_MAX_BYTES / 2) {
            hpo_log_error ("%s: too large for a study file (over %u bytes)",
                           path, HPO_WIRE_MAX_BYTES / 2);
            break;
        }
        if (len + 1 == cap) {
            cap *= 2;
            text = hpo_realloc (text, cap);
        }
    }
    int failed = ferror (file) || len > HPO_WIRE_MAX_BYTES / 2;
    if (ferror (file))
        hpo_log_warn ("cannot read %s", path);
    if (file != stdin)
        fclose (file);
    if (failed) {
        free (text);
        return NULL;
    }
    text[len] = '\0';
    *len_p = len;
    return text;
}

//  Reads and checks the study file at path ("-": stdin), so a mistake is
//  reported before anything is sent. Returns 0 with *text_p and *spec_p
//  the caller's, or the exit status after saying what is wrong.
static int
s_load_study (const char *path, char **text_p, hpo_spec_t **spec_p)
{
    const char *filename = strcmp (path, "-") == 0 ? "<stdin>" : path;
    size_t len;
    char *text = s_read_file (path, &len);
    if (!text)
        return EXIT_ERROR;
    if (memchr (text, '\0', len)) {
        hpo_log_error ("%s: contains a NUL byte; not a study file", filename);
        free (text);
        return EXIT_USAGE;
    }
    char *error = NULL;
    hpo_spec_t *spec = hpo_spec_parse (text, len, filename, &error);
    if (!spec) {
        hpo_log_error ("%s", error ? error : "invalid study file");
        free (error);
        free (text);
        return EXIT_USAGE;
    }
    *text_p = text;
    *spec_p = spec;
    return 0;
}

static int
s_study_create (s_ctx_t *ctx, char **args)
{
    const char *path = args[0];
    const char *filename = strcmp (path, "-") == 0 ? "<stdin>" : path;
    char *text;
    hpo_spec_t *spec;
    int loaded = s_load_study (path, &text, &spec);
    if (loaded)
        return loaded;
    hpo_wire_msg_t request;
    hpo_wire_study_create (&request, 0, filename, text);
    char *exists = hpo_sprintf ("a study named %s already exists", spec->name);
    hpo_env_t *reply;
    int status =
        s_call (ctx, &request.env, HPO__ENVELOPE__BODY_OK, exists, &reply);
    if (status == 0) {
        //  The coordinator's count, where it says one: a refine study's
        //  grid is known only once it has read the study refined.
        const char *said = reply->ok->message;
        if (strstr (said, " trials, sampler "))
            printf ("%s\n", said);
        else
            printf ("created study %s (%" PRIu64 " trials, sampler %s)\n",
                    spec->name, spec->trials, spec->sampler.ops->name);
        hpo_wire_free (&reply);
    }
    free (exists);
    hpo_spec_destroy (&spec);
    free (text);
    return status;
}

//  --top and --points: a whole number; --shrink: a number. The refine
//  sampler judges their ranges, with the rest of the study.
static int
s_refine_number (const char *option, const char *text, int whole)
{
    char *end;
    errno = 0;
    double x = strtod (text, &end);
    if (!*text || *end || errno || !isfinite (x) ||
        (whole && strspn (text, "0123456789") != strlen (text))) {
        hpo_log_error ("%s '%s': want %s", option, text,
                       whole ? "a whole number" : "a number");
        return -1;
    }
    return 0;
}

//  The request: the refine sampler and, if given, the name; the
//  coordinator copies the rest from the study refined (derive.h).
static char *
s_refine_request (s_ctx_t *ctx, const char *from)
{
    const char *names[] = {from, ctx->name};
    for (int k = 0; k < 2; k++) {
        const char *why =
            names[k] ? hpo_name_study_problem (names[k], strlen (names[k]))
                     : NULL;
        if (why) {
            hpo_log_error ("study name '%s': %s", names[k], why);
            return NULL;
        }
    }
    if ((ctx->top && s_refine_number ("--top", ctx->top, 1)) ||
        (ctx->points && s_refine_number ("--points", ctx->points, 1)) ||
        (ctx->shrink && s_refine_number ("--shrink", ctx->shrink, 0)))
        return NULL;
    char *name =
        ctx->name ? hpo_sprintf ("name: '%s'\n", ctx->name) : hpo_strdup ("");
    char *text = hpo_sprintf (
        "%ssampler: {type: refine, from: '%s'%s%s%s%s%s%s}\n", name, from,
        ctx->top ? ", top: " : "", ctx->top ? ctx->top : "",
        ctx->points ? ", points: " : "", ctx->points ? ctx->points : "",
        ctx->shrink ? ", shrink: " : "", ctx->shrink ? ctx->shrink : "");
    free (name);
    return text;
}

static int
s_study_refine (s_ctx_t *ctx, char **args)
{
    char *text = s_refine_request (ctx, args[0]);
    if (!text)
        return EXIT_USAGE;
    hpo_wire_msg_t request;
    hpo_wire_study_derive (&request, 0, text);
    hpo_env_t *reply;
    int status =
        s_call (ctx, &request.env, HPO__ENVELOPE__BODY_OK, NULL, &reply);
    if (status == 0) {
        printf ("%s\n", reply->ok->message);
        hpo_wire_free (&reply);
    }
    free (text);
    return status;
}

static int
s_study_list (s_ctx_t *ctx, char **args)
{
    hpo_wire_msg_t request;
    hpo_wire_study_list (&request, 0);
    hpo_env_t *reply;
    int status = s_call (ctx, &request.env, HPO__ENVELOPE__BODY_STUDY_LIST,
                         NULL, &reply);
    if (status)
        return status;
    if (ctx->json)
        status = s_print_json (hpo_json_render_study_list (reply->study_list));
    else
        hpo_render_study_list (stdout, reply->study_list);
    hpo_wire_free (&reply);
    return status;
}

//  Asks for one study; *reply_p holds its StudyInfo. no_answer as for
//  s_call_ex.
static int
s_get_study (s_ctx_t *ctx, const char *name, hpo_env_t **reply_p,
             int *no_answer)
{
    hpo_wire_msg_t request;
    hpo_wire_study_show (&request, 0, name);
    char *not_found = hpo_sprintf ("no study named %s", name);
    int status = s_call_ex (ctx, &request.env, HPO__ENVELOPE__BODY_STUDY_INFO,
                            not_found, reply_p, no_answer);
    free (not_found);
    return status;
}

static int
s_study_show (s_ctx_t *ctx, char **args)
{
    hpo_env_t *reply;
    int status = s_get_study (ctx, args[0], &reply, NULL);
    if (status)
        return status;
    if (ctx->grid && ctx->json)
        status = s_print_json (hpo_render_study_grid_json (reply->study_info));
    else if (ctx->grid)
        hpo_render_study_grid (stdout, reply->study_info);
    else if (ctx->json)
        status = s_print_json (hpo_json_render_study (reply->study_info));
    else
        hpo_render_study (stdout, reply->study_info);
    hpo_wire_free (&reply);
    return status;
}

//  Sends a request that changes a study and prints the coordinator's
//  Ok message, which says what happened. An Error (the request does not
//  apply: a study already FINISHED, a trial that is not FAILED) is
//  printed by s_call and exits 1.
static int
s_change (s_ctx_t *ctx, hpo_wire_msg_t *request, const char *name)
{
    char *not_found = hpo_sprintf ("no study named %s", name);
    hpo_env_t *reply;
    int status =
        s_call (ctx, &request->env, HPO__ENVELOPE__BODY_OK, not_found, &reply);
    free (not_found);
    if (status)
        return status;
    printf ("%s\n", reply->ok->message && *reply->ok->message
                        ? reply->ok->message
                        : "done");
    hpo_wire_free (&reply);
    return 0;
}

//  A count or trial number on the command line: decimal digits only.
static int
s_parse_count (const char *what, const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull (text, &end, 10);
    if (!isdigit ((unsigned char)*text) || *end || errno) {
        hpo_log_error ("%s '%s' is not a number", what, text);
        return EXIT_USAGE;
    }
    *out = n;
    return 0;
}

static int
s_study_stop (s_ctx_t *ctx, char **args)
{
    hpo_wire_msg_t request;
    hpo_wire_study_stop (&request, 0, args[0], (ctx->given & OPT_NOW) != 0);
    return s_change (ctx, &request, args[0]);
}

static int
s_study_extend (s_ctx_t *ctx, char **args)
{
    uint64_t trials;
    if (!ctx->trials) {
        hpo_log_error ("how many trials? usage: hpo study extend NAME "
                       "--trials N");
        return EXIT_USAGE;
    }
    if (s_parse_count ("--trials", ctx->trials, &trials))
        return EXIT_USAGE;
    if (trials == 0) {
        hpo_log_error ("--trials must be at least 1");
        return EXIT_USAGE;
    }
    hpo_wire_msg_t request;
    hpo_wire_study_extend (&request, 0, args[0], trials);
    return s_change (ctx, &request, args[0]);
}

static int
s_study_resume (s_ctx_t *ctx, char **args)
{
    hpo_wire_msg_t request;
    hpo_wire_study_resume (&request, 0, args[0]);
    return s_change (ctx, &request, args[0]);
}

//  Asks on the terminal whether to delete the study; 1 if the answer is
//  yes. Without a terminal nobody can answer: that takes --yes.
static int
s_confirm_delete (const char *name)
{
    if (!isatty (STDIN_FILENO)) {
        hpo_log_error ("standard input is not a terminal, so nobody can "
                       "confirm: hpo study delete %s --yes deletes it",
                       name);
        return 0;
    }
    fprintf (stderr,
             "delete study %s with all its trials, attempts and values? "
             "[y/N] ",
             name);
    fflush (stderr);
    char line[16];
    if (!fgets (line, sizeof line, stdin))
        return 0;
    return strcasecmp (line, "y\n") == 0 || strcasecmp (line, "yes\n") == 0;
}

static int
s_study_delete (s_ctx_t *ctx, char **args)
{
    if (!(ctx->given & OPT_YES) && !s_confirm_delete (args[0])) {
        if (isatty (STDIN_FILENO))
            fprintf (stderr, "study %s not deleted\n", args[0]);
        return isatty (STDIN_FILENO) ? EXIT_ERROR : EXIT_USAGE;
    }
    hpo_wire_msg_t request;
    hpo_wire_study_delete (&request, 0, args[0]);
    return s_change (ctx, &request, args[0]);
}

static int
s_trial_retry (s_ctx_t *ctx, char **args)
{
    int failed = (ctx->given & OPT_FAILED) != 0;
    size_t n = (size_t)ctx->n_args - 1;
    if (failed == (n > 0)) {
        hpo_log_error ("name the trials to retry, or give --failed for every "
                       "FAILED one (not both); usage: hpo trial retry NAME "
                       "NUMBER... | --failed");
        return EXIT_USAGE;
    }
    uint64_t *numbers = hpo_calloc (n ? n : 1, sizeof *numbers);
    int status = 0;
    for (size_t k = 0; k < n && status == 0; k++)
        status = s_parse_count ("trial number", args[k + 1], &numbers[k]);
    if (status == 0) {
        hpo_wire_msg_t request;
        hpo_wire_trial_retry (&request, 0, args[0], numbers, n, failed);
        status = s_change (ctx, &request, args[0]);
    }
    free (numbers);
    return status;
}

//  Moves the trials of page onto list (the pages were decoded with the
//  default allocator, so their arrays are malloc's to grow); page keeps
//  none of them.
static void
s_trials_take (Hpo__TrialList *list, Hpo__TrialList *page)
{
    if (page->n_trials == 0)
        return;
    list->trials = hpo_realloc (
        list->trials, (list->n_trials + page->n_trials) * sizeof *list->trials);
    memcpy (list->trials + list->n_trials, page->trials,
            page->n_trials * sizeof *page->trials);
    list->n_trials += page->n_trials;
    page->n_trials = 0;
}

//  A page that resumes inside list's last trial (TrialList.values_next)
//  starts with the rest of that trial's values: they join the values
//  list has, and the repeated trial leaves the page.
static void
s_trials_continue (Hpo__TrialList *list, Hpo__TrialList *page)
{
    if (list->n_trials == 0 || page->n_trials == 0 ||
        page->trials[0]->number != list->trials[list->n_trials - 1]->number)
        return;
    Hpo__TrialInfo *last = list->trials[list->n_trials - 1];
    Hpo__TrialInfo *piece = page->trials[0];
    if (piece->n_values) {
        last->values =
            hpo_realloc (last->values, (last->n_values + piece->n_values) *
                                           sizeof *last->values);
        memcpy (last->values + last->n_values, piece->values,
                piece->n_values * sizeof *piece->values);
        last->n_values += piece->n_values;
        piece->n_values = 0;
    }
    hpo__trial_info__free_unpacked (piece, NULL);
    memmove (page->trials, page->trials + 1,
             (page->n_trials - 1) * sizeof *page->trials);
    page->n_trials--;
}

//  What to ask of each page of trials.
typedef struct {
    const char *state; //  "" for all
    int metrics;       //  TrialsQuery.metrics
    int curves;        //  TrialsQuery.curves
    uint64_t after;    //  the first trial number wanted (0: all)
    int attempts;      //  TrialsQuery.attempts (with curves)
    //  With each: every page is handed to each and dropped, not joined
    //  (hpo report: a study's values need not all be held at once).
    void (*each) (void *arg, const Hpo__TrialList *page);
    void *arg;
} s_trials_query_t;

//  Asks for a study's trials. The coordinator answers a page at a time
//  (so no listing holds its loop for long, and a trial with many values
//  may come in pieces); the pages are asked for in turn and joined into
//  one reply, as if it came whole (or each handed to query->each, and
//  *reply_p left NULL). no_answer as for s_call_ex.
static int
s_get_pages (s_ctx_t *ctx, const char *name, const s_trials_query_t *query,
             hpo_env_t **reply_p, int *no_answer)
{
    *reply_p = NULL;
    char *not_found = hpo_sprintf ("no study named %s", name);
    uint64_t after = query->after, values_after = 0;
    int status = 0;
    for (;;) {
        hpo_wire_msg_t request;
        if (query->attempts)
            hpo_wire_trials_report (&request, 0, name, after, values_after);
        else if (query->metrics || query->curves)
            hpo_wire_trials_export (&request, 0, name, after, values_after,
                                    query->metrics, query->curves);
        else
            hpo_wire_trials (&request, 0, name, query->state, after, 0);
        hpo_env_t *page;
        status = s_call_ex (ctx, &request.env, HPO__ENVELOPE__BODY_TRIAL_LIST,
                            not_found, &page, no_answer);
        if (status) {
            hpo_wire_free (reply_p);
            break;
        }
        Hpo__TrialList *list = page->trial_list;
        //  A coordinator that does not page answers whole (more unset);
        //  one that would not move forward is not asked again.
        int again = list->more &&
                    (list->next > after ||
                     (list->next == after && list->values_next > values_after));
        if (*reply_p && values_after)
            s_trials_continue ((*reply_p)->trial_list, list);
        after = list->next;
        values_after = list->values_next;
        if (query->each) {
            query->each (query->arg, list);
            hpo_wire_free (&page);
        } else if (!*reply_p)
            *reply_p = page;
        else {
            s_trials_take ((*reply_p)->trial_list, list);
            hpo_wire_free (&page);
        }
        if (!again)
            break;
    }
    if (*reply_p)
        (*reply_p)->trial_list->more = 0;
    free (not_found);
    return status;
}

static int
s_get_trials (s_ctx_t *ctx, const char *name, const char *state,
              hpo_env_t **reply_p, int *no_answer)
{
    s_trials_query_t query = {.state = state};
    return s_get_pages (ctx, name, &query, reply_p, no_answer);
}

//  ---- hpo trials --sort, --limit

//  The sort key's direction: +1 larger first, -1 smaller first.
static int s_sort_sign;

static int
s_by_number (const void *a_, const void *b_)
{
    const Hpo__TrialInfo *a = *(Hpo__TrialInfo *const *)a_;
    const Hpo__TrialInfo *b = *(Hpo__TrialInfo *const *)b_;
    return a->number < b->number ? -1 : a->number > b->number;
}

//  Trials with a key first, by the key (s_sort_sign), ties by number.
static int
s_by_key (int has_a, double a, int has_b, double b, const void *a_,
          const void *b_)
{
    if (has_a != has_b)
        return has_a ? -1 : 1;
    if (has_a && a != b)
        return (a < b ? -1 : 1) * -s_sort_sign;
    return s_by_number (a_, b_);
}

static int
s_by_value (const void *a_, const void *b_)
{
    const Hpo__TrialInfo *a = *(Hpo__TrialInfo *const *)a_;
    const Hpo__TrialInfo *b = *(Hpo__TrialInfo *const *)b_;
    return s_by_key (a->has_value && !isnan (a->value), a->value,
                     b->has_value && !isnan (b->value), b->value, a_, b_);
}

static int
s_by_duration (const void *a_, const void *b_)
{
    double a = hpo_render_trial_duration (*(Hpo__TrialInfo *const *)a_);
    double b = hpo_render_trial_duration (*(Hpo__TrialInfo *const *)b_);
    return s_by_key (a >= 0, a, b >= 0, b, a_, b_);
}

//  Sorts list by ctx->sort and keeps the first ctx->limit. Returns 0, or
//  the exit status after saying why not.
static int
s_trials_order (s_ctx_t *ctx, const char *name, Hpo__TrialList *list)
{
    int (*cmp) (const void *, const void *) = NULL;
    if (ctx->sort && strcmp (ctx->sort, "value") == 0) {
        //  Best first needs the study's direction.
        hpo_env_t *study;
        int status = s_get_study (ctx, name, &study, NULL);
        if (status)
            return status;
        const char *direction = study->study_info->direction;
        s_sort_sign = direction && strcmp (direction, "maximize") == 0 ? 1 : -1;
        hpo_wire_free (&study);
        cmp = s_by_value;
    } else if (ctx->sort && strcmp (ctx->sort, "duration") == 0) {
        s_sort_sign = 1;
        cmp = s_by_duration;
    } else if (ctx->sort)
        cmp = s_by_number;
    if (cmp)
        qsort (list->trials, list->n_trials, sizeof *list->trials, cmp);
    if (ctx->limit && ctx->limit < list->n_trials) {
        for (size_t k = ctx->limit; k < list->n_trials; k++)
            hpo__trial_info__free_unpacked (list->trials[k], NULL);
        list->n_trials = ctx->limit;
    }
    return 0;
}

static int
s_trials (s_ctx_t *ctx, char **args)
{
    static const char *states[] = {"WAITING", "RUNNING", "COMPLETE", "PRUNED",
                                   "FAILED"};
    const char *state = "";
    if (ctx->state) {
        for (size_t k = 0; k < 5 && !*state; k++)
            if (strcasecmp (ctx->state, states[k]) == 0)
                state = states[k];
        if (!*state) {
            hpo_log_error ("unknown state '%s': use WAITING, RUNNING, "
                           "COMPLETE, PRUNED or FAILED",
                           ctx->state);
            return EXIT_USAGE;
        }
    }
    if (ctx->sort && strcmp (ctx->sort, "value") != 0 &&
        strcmp (ctx->sort, "number") != 0 &&
        strcmp (ctx->sort, "duration") != 0) {
        hpo_log_error ("unknown sort key '%s': use value, number or duration",
                       ctx->sort);
        return EXIT_USAGE;
    }
    hpo_env_t *reply;
    int status = s_get_trials (ctx, args[0], state, &reply, NULL);
    if (status)
        return status;
    status = s_trials_order (ctx, args[0], reply->trial_list);
    if (status == 0 && ctx->json)
        status =
            s_print_json (hpo_json_render_trials (args[0], reply->trial_list));
    else if (status == 0)
        hpo_render_trials (stdout, reply->trial_list);
    hpo_wire_free (&reply);
    return status;
}

static int
s_trial_show (s_ctx_t *ctx, char **args)
{
    const char *text = args[1];
    char *end;
    errno = 0;
    unsigned long long number = strtoull (text, &end, 10);
    if (!isdigit ((unsigned char)*text) || *end || errno) {
        hpo_log_error ("trial number '%s' is not a number", text);
        return EXIT_USAGE;
    }
    hpo_wire_msg_t request;
    hpo_wire_trial_show (&request, 0, args[0], number);
    char *not_found = hpo_sprintf (
        "no trial %llu in study %s (or no such study)", number, args[0]);
    hpo_env_t *reply;
    int status = s_call (ctx, &request.env, HPO__ENVELOPE__BODY_TRIAL_INFO,
                         not_found, &reply);
    free (not_found);
    if (status)
        return status;
    if (ctx->json)
        status = s_print_json (
            hpo_json_render_trial (reply->trial_info, args[0], 1));
    else
        hpo_render_trial (stdout, reply->trial_info, args[0]);
    hpo_wire_free (&reply);
    return status;
}

static int
s_best (s_ctx_t *ctx, char **args)
{
    hpo_wire_msg_t request;
    hpo_wire_best (&request, 0, args[0]);
    //  The coordinator answers ERR_NOT_FOUND both for an unknown study
    //  and for one with no complete trial; its message says which.
    char *not_found = hpo_sprintf (
        "no completed trial in study %s (or no such study)", args[0]);
    hpo_env_t *reply;
    int status = s_call (ctx, &request.env, HPO__ENVELOPE__BODY_TRIAL_INFO,
                         not_found, &reply);
    free (not_found);
    if (status)
        return status;
    if (ctx->json)
        status = s_print_json (
            hpo_json_render_trial (reply->trial_info, args[0], 0));
    else
        hpo_render_best (stdout, reply->trial_info, args[0]);
    hpo_wire_free (&reply);
    return status;
}

static int
s_workers (s_ctx_t *ctx, char **args)
{
    hpo_wire_msg_t request;
    hpo_wire_workers (&request, 0);
    hpo_env_t *reply;
    int status = s_call (ctx, &request.env, HPO__ENVELOPE__BODY_WORKER_LIST,
                         NULL, &reply);
    if (status)
        return status;
    if (ctx->json)
        status = s_print_json (hpo_json_render_workers (reply->worker_list));
    else
        hpo_render_workers (stdout, reply->worker_list);
    hpo_wire_free (&reply);
    return status;
}

//  ---- hpo slurm launch ---------------------------------------------------

//  Whether a coordinator answers at endpoint: 1 yes, 0 not (yet), -1 it
//  refused our key or the endpoint is bad (logged). ctx's client is
//  connected there afterwards.
static int
s_answers (s_ctx_t *ctx, const char *endpoint)
{
    if (s_connect (ctx, endpoint) != 0)
        return -1;
    //  A short try: the caller asks again until its own deadline.
    hpo_client_set_timeout (ctx->client, 1000);
    hpo_wire_msg_t request;
    hpo_wire_study_list (&request, 0);
    hpo_env_t *reply = hpo_client_request (ctx->client, &request.env);
    hpo_client_set_timeout (ctx->client, ctx->timeout_ms);
    if (reply) {
        hpo_wire_free (&reply);
        return 1;
    }
    if (hpo_client_refused (ctx->client)) {
        hpo_log_error ("%s", hpo_client_error (ctx->client));
        return -1;
    }
    return 0;
}

//  Waits, up to --wait, for the coordinator job to write its address and
//  answer there. Returns the endpoint (new), or NULL after saying why.
static char *
s_await_coordinator (s_ctx_t *ctx, const char *dir, const char *job)
{
    int64_t deadline = hpo_clock_mono_ms () + ctx->wait_ms;
    for (;;) {
        char *address = hpo_slurm_address (dir);
        int answers = address ? s_answers (ctx, address) : 0;
        if (answers > 0) {
            printf ("coordinator at %s\n", address);
            return address;
        }
        free (address);
        if (answers < 0)
            return NULL;
        if (hpo_slurm_listed (job) == 0) {
            hpo_log_error ("coordinator job %s ended before it answered; "
                           "see %s/hpo-coordinator-%s.out",
                           job, dir, job);
            return NULL;
        }
        if (hpo_clock_mono_ms () >= deadline) {
            hpo_log_error ("coordinator job %s did not answer within %d s "
                           "(still pending? squeue -j %s); hpo slurm launch "
                           "finds it once it runs",
                           job, ctx->wait_ms / 1000, job);
            return NULL;
        }
        usleep (500 * 1000);
    }
}

//  The coordinator at the shared directory's address if it answers, else
//  a new coordinator job's once it does. Returns the endpoint (new), or
//  NULL after saying why.
static char *
s_find_coordinator (s_ctx_t *ctx, const char *dir, const char *scripts)
{
    char *address = hpo_slurm_address (dir);
    if (address) {
        int answers = s_answers (ctx, address);
        if (answers > 0) {
            printf ("coordinator at %s (running)\n", address);
            return address;
        }
        free (address);
        if (answers < 0)
            return NULL;
        //  Left by a coordinator that no longer answers: not to be
        //  mistaken for the new job's.
        char *path = hpo_sprintf ("%s/coordinator.address", dir);
        unlink (path);
        free (path);
    }
    char *script = hpo_sprintf ("%s/hpo-coordinator.sbatch", scripts);
    char *output = hpo_sprintf ("--output=%s/hpo-coordinator-%%j.out", dir);
    char *env = hpo_sprintf ("HPO_SLURM_DIR=%s", dir);
    char job[64];
    int rc = hpo_slurm_sbatch (script, &output, 1, &env, 1, job, sizeof job);
    free (env);
    free (output);
    free (script);
    if (rc != 0)
        return NULL;
    printf ("coordinator job %s\n", job);
    fflush (stdout);
    return s_await_coordinator (ctx, dir, job);
}

//  Submits ctx->nodes worker jobs, opts going to sbatch. Returns 0, or
//  EXIT_ERROR once one failed (those before it stay submitted).
static int
s_submit_workers (s_ctx_t *ctx, const char *scripts, const char *dir,
                  const char *endpoint, char **opts, int n_opts)
{
    char *script = hpo_sprintf ("%s/hpo-workers.sbatch", scripts);
    char *env[] = {hpo_sprintf ("HPO_COORDINATOR=%s", endpoint),
                   hpo_sprintf ("HPO_SLURM_DIR=%s", dir)};
    //  --nodes=1 first: a --nodes among opts has the last word.
    char **argv = hpo_calloc ((size_t)n_opts + 1, sizeof (char *));
    argv[0] = "--nodes=1";
    memcpy (argv + 1, opts, (size_t)n_opts * sizeof (char *));
    int status = 0;
    printf ("worker jobs");
    for (long k = 0; k < ctx->nodes && status == 0; k++) {
        char job[64];
        if (hpo_slurm_sbatch (script, argv, n_opts + 1, env, 2, job,
                              sizeof job) != 0)
            status = EXIT_ERROR;
        else
            printf (" %s", job);
        fflush (stdout);
    }
    printf ("\n");
    free (argv);
    free (env[0]);
    free (env[1]);
    free (script);
    return status;
}

static int
s_slurm_launch (s_ctx_t *ctx, char **args)
{
    if (!(ctx->given & OPT_NODES)) {
        hpo_log_error ("--nodes N is needed: how many worker jobs");
        return EXIT_USAGE;
    }
    if (strcmp (args[0], "-") == 0) {
        hpo_log_error ("hpo slurm launch reads FILE itself; not stdin");
        return EXIT_USAGE;
    }
    char *text;
    hpo_spec_t *spec;
    int status = s_load_study (args[0], &text, &spec);
    if (status)
        return status;
    hpo_spec_destroy (&spec);
    free (text);
    char *dir = hpo_slurm_dir (ctx->dir);
    char *scripts = dir ? hpo_slurm_scripts () : NULL;
    char *endpoint = scripts ? s_find_coordinator (ctx, dir, scripts) : NULL;
    if (!endpoint)
        status = EXIT_ERROR;
    else
        status = s_study_create (ctx, args);
    if (status == 0)
        status = s_submit_workers (ctx, scripts, dir, endpoint, args + 1,
                                   ctx->n_args - 1);
    free (endpoint);
    free (scripts);
    free (dir);
    return status;
}

//  ---- keys and admin -----------------------------------------------------

static int
s_keygen (s_ctx_t *ctx, char **args)
{
    char *error = NULL;
    if (hpo_keys_generate (ctx->dir, args[0], (ctx->given & OPT_FORCE) != 0,
                           &error)) {
        hpo_log_error ("%s", error);
        free (error);
        return EXIT_ERROR;
    }
    const char *dir = ctx->dir ? ctx->dir : ".";
    printf ("wrote %s/%s.key (public) and %s/%s.key_secret (secret)\n", dir,
            args[0], dir, args[0]);
    return 0;
}

//  The backup's path as the coordinator is to read it: absolute, from
//  this directory when relative (caller frees).
static char *
s_absolute (const char *path)
{
    if (path[0] == '/')
        return hpo_strdup (path);
    char cwd[4096];
    if (!getcwd (cwd, sizeof cwd))
        return NULL;
    return hpo_sprintf ("%s/%s", cwd, path);
}

static int
s_admin_backup (s_ctx_t *ctx, char **args)
{
    char *path = s_absolute (args[0]);
    if (!path) {
        hpo_log_warn ("getcwd");
        return EXIT_ERROR;
    }
    //  A copy of a large database takes a while: its answer comes at the
    //  end.
    if (ctx->timeout_ms < 600000)
        hpo_client_set_timeout (ctx->client, 600000);
    hpo_wire_msg_t request;
    hpo_wire_admin_backup (&request, 0, path);
    hpo_env_t *reply;
    int status =
        s_call (ctx, &request.env, HPO__ENVELOPE__BODY_OK, NULL, &reply);
    if (status == 0) {
        printf ("backup written to %s on the coordinator's host\n", path);
        hpo_wire_free (&reply);
    }
    free (path);
    return status;
}

//  ---- hpo watch ----------------------------------------------------------

static void
s_sleep_ms (int64_t ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep (&ts, &ts) != 0 && errno == EINTR)
        ;
}

//  FAILED is the state a study ends in when it stops itself (fail_fast).
static int
s_study_over (const Hpo__StudyInfo *study)
{
    return study->state && (strcmp (study->state, "FINISHED") == 0 ||
                            strcmp (study->state, "STOPPED") == 0 ||
                            strcmp (study->state, "FAILED") == 0);
}

//  Terminal size, or 80x24 when it cannot be asked.
static void
s_term_size (int *cols, int *rows)
{
    struct winsize ws;
    *cols = 80;
    *rows = 24;
    if (ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 &&
        ws.ws_row > 0) {
        *cols = ws.ws_col;
        *rows = ws.ws_row;
    }
}

//  Redraws the terminal view over the previous one (*drawn lines).
static void
s_draw (const hpo_env_t *study, const hpo_env_t *running, const char *warning,
        int *drawn)
{
    if (*drawn > 0)
        printf ("\033[%dA\r\033[J", *drawn); //  up, column 0, clear below
    int cols, rows;
    s_term_size (&cols, &rows);
    //  Header lines, table header, "... more" and a warning take 7 rows.
    int max_rows = rows > 8 ? rows - 7 : 1;
    int lines = 0;
    if (study)
        lines = hpo_render_watch_frame (stdout, study->study_info,
                                        running ? running->trial_list : NULL,
                                        cols, max_rows);
    if (warning) {
        printf ("%.*s\n", cols > 1 ? cols - 1 : 0, warning);
        lines++;
    }
    *drawn = lines;
    fflush (stdout);
}

//  One line per change, when stdout is not a terminal.
static void
s_print_line (const hpo_env_t *study, char **last_p)
{
    char *line = hpo_render_watch_line (study->study_info);
    if (*last_p && strcmp (*last_p, line) == 0) {
        free (line);
        return;
    }
    time_t now = time (NULL);
    struct tm tm;
    char stamp[16] = "";
    if (localtime_r (&now, &tm))
        strftime (stamp, sizeof stamp, "%H:%M:%S", &tm);
    printf ("[%s] %s\n", stamp, line);
    fflush (stdout);
    free (*last_p);
    *last_p = line;
}

//  Says, once per outage, that the coordinator stopped answering, and
//  when it answers again (*outage tracks which was said last).
static void
s_watch_outage (s_ctx_t *ctx, int tty, int answered, int *outage,
                const hpo_env_t *study, const hpo_env_t *running, int *drawn)
{
    const char *endpoint = hpo_client_endpoint (ctx->client);
    if (answered) {
        if (*outage && !tty)
            hpo_log_info ("%s answers again", endpoint);
        *outage = 0;
        return;
    }
    if (tty) {
        char *warning = hpo_sprintf (
            "(no answer from %s; reconnecting\xE2\x80\xA6)", endpoint);
        s_draw (study, running, warning, drawn);
        free (warning);
    } else if (!*outage)
        hpo_log_warnx ("no answer from %s; reconnecting\xE2\x80\xA6", endpoint);
    *outage = 1;
}

//  One poll: the study, and on a terminal its running trials. Returns 0
//  with both set, or the exit status (with *no_answer set when the
//  coordinator did not answer).
static int
s_watch_poll (s_ctx_t *ctx, const char *name, int tty, hpo_env_t **study,
              hpo_env_t **running, int *no_answer)
{
    *running = NULL;
    int status = s_get_study (ctx, name, study, no_answer);
    if (status == 0 && tty)
        status = s_get_trials (ctx, name, "RUNNING", running, no_answer);
    if (status)
        hpo_wire_free (study);
    return status;
}

static int
s_watch (s_ctx_t *ctx, char **args)
{
    const char *name = args[0];
    int tty = !ctx->json && isatty (STDOUT_FILENO);
    //  Each poll waits at most a third of --timeout (but not less than the
    //  interval), so a coordinator that restarted, and lost the request,
    //  is picked up again by the next poll. Once the coordinator has
    //  answered, the watch outlives its restarts: it keeps asking until
    //  the study ends. One that never answered is given up after
    //  --timeout (a wrong endpoint should not hang a script).
    int poll_ms = ctx->timeout_ms / 3;
    if (poll_ms < ctx->interval_ms)
        poll_ms = ctx->interval_ms;
    if (poll_ms > ctx->timeout_ms)
        poll_ms = ctx->timeout_ms;
    int64_t began = hpo_clock_mono_ms ();
    hpo_env_t *study = NULL, *running = NULL;
    char *last_line = NULL;
    int drawn = 0, status = 0, outage = 0;
    while (1) {
        int64_t start = hpo_clock_mono_ms ();
        int64_t left = began + ctx->timeout_ms - start;
        if (!study && left <= 0) {
            hpo_log_error ("no answer from %s within %gs",
                           hpo_client_endpoint (ctx->client),
                           ctx->timeout_ms / 1000.0);
            status = EXIT_ERROR;
            break;
        }
        hpo_client_set_timeout (
            ctx->client, (int)(!study && left < poll_ms ? left : poll_ms));
        int no_answer = 0;
        hpo_env_t *new_study = NULL, *new_running = NULL;
        status =
            s_watch_poll (ctx, name, tty, &new_study, &new_running, &no_answer);
        if (status && !no_answer)
            break; //  the coordinator said no; s_call_ex said why
        status = 0;
        s_watch_outage (ctx, tty, !no_answer, &outage, study, running, &drawn);
        if (!no_answer) {
            hpo_wire_free (&study);
            hpo_wire_free (&running);
            study = new_study;
            running = new_running;
            if (tty)
                s_draw (study, running, NULL, &drawn);
            else if (!ctx->json)
                s_print_line (study, &last_line);
            if (s_study_over (study->study_info))
                break;
        }
        int64_t spent = hpo_clock_mono_ms () - start;
        if (spent < ctx->interval_ms)
            s_sleep_ms (ctx->interval_ms - spent);
    }
    if (status == 0 && study) {
        if (ctx->json)
            status = s_print_json (hpo_json_render_study (study->study_info));
        else {
            printf ("\n");
            hpo_render_study (stdout, study->study_info);
        }
        //  A study that ended with nothing to show is a failure to a
        //  script, whatever the reason it ended.
        if (status == 0 && study->study_info->complete == 0)
            status = EXIT_NO_RESULT;
    }
    free (last_line);
    hpo_wire_free (&study);
    hpo_wire_free (&running);
    return status;
}

//  ---- hpo export -------------------------------------------------------

//  ---- hpo export --tensorboard

static volatile sig_atomic_t s_stopped;

static void
s_on_stop (int sig)
{
    (void)sig;
    s_stopped = 1;
}

//  SIGINT and SIGTERM end a follow at its next turn. No SA_RESTART: a
//  sleep wakes at once (a request in flight finishes first).
static void
s_catch_stop (void)
{
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_stop;
    sigemptyset (&sa.sa_mask);
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
}

//  One turn: the study, then every trial with its values, written to
//  *tb (made on the first turn, once the study is known to exist, so a
//  wrong name leaves no directory behind). *over: the study had ended
//  before its trials were read, so they hold every end.
static int
s_tensorboard_turn (s_ctx_t *ctx, const char *name, hpo_tb_t **tb, int *over,
                    int *no_answer)
{
    hpo_env_t *study;
    int status = s_get_study (ctx, name, &study, no_answer);
    if (status)
        return status;
    *over = s_study_over (study->study_info);
    //  Trials below the first one still open were written to the end:
    //  only the rest is asked for again.
    s_trials_query_t query = {
        .state = "", .curves = 1, .after = *tb ? hpo_tb_first_open (*tb) : 0};
    hpo_env_t *trials = NULL;
    status = s_get_pages (ctx, name, &query, &trials, no_answer);
    char *why = NULL;
    if (status == 0 && !*tb && !(*tb = hpo_tb_new (ctx->tb_dir, &why))) {
        hpo_log_error ("%s", why);
        free (why);
        status = EXIT_ERROR;
    }
    if (status == 0 &&
        hpo_tb_update (*tb, study->study_info, trials->trial_list) != 0)
        status = EXIT_ERROR;
    hpo_wire_free (&trials);
    hpo_wire_free (&study);
    return status;
}

//  Sleeps ms, or less when a stop signal comes.
static void
s_nap_ms (int64_t ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (!s_stopped && nanosleep (&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int
s_export_tensorboard (s_ctx_t *ctx, const char *name)
{
    int follow = (ctx->given & OPT_FOLLOW) != 0;
    int interval_ms = ctx->given & OPT_INTERVAL ? ctx->interval_ms : 2000;
    if (follow)
        s_catch_stop ();
    hpo_tb_t *tb = NULL;
    int status = 0, over = 0, quiet = 0;
    for (;;) {
        int no_answer = 0;
        //  Once the export has begun, a coordinator that stops answering
        //  (a restart) is waited for, as hpo watch does.
        status = s_tensorboard_turn (ctx, name, &tb, &over,
                                     follow && tb ? &no_answer : NULL);
        if (no_answer && !quiet++)
            hpo_log_warnx ("%s; trying again", hpo_client_error (ctx->client));
        if (!no_answer)
            quiet = 0;
        if ((status && !no_answer) || !follow || over || s_stopped)
            break;
        s_nap_ms (interval_ms);
        if (s_stopped)
            break;
    }
    if (tb && hpo_tb_finish (tb) != 0 && status == 0)
        status = EXIT_ERROR;
    if (tb && status == 0) {
        size_t runs, scalars;
        hpo_tb_counts (tb, &runs, &scalars);
        printf ("%s %zu trials and %zu scalars to %s\n",
                s_stopped ? "stopped; wrote" : "wrote", runs, scalars,
                ctx->tb_dir);
    }
    hpo_tb_destroy (&tb);
    return status;
}

static int
s_export (s_ctx_t *ctx, char **args)
{
    if (!ctx->csv + !ctx->jsonl + !ctx->tb_dir != 2) {
        hpo_log_error ("hpo export needs one of --csv FILE, --jsonl FILE or "
                       "--tensorboard DIR");
        return EXIT_USAGE;
    }
    if (ctx->tb_dir && ctx->curves) {
        hpo_log_error ("--curves goes with --csv or --jsonl: --tensorboard "
                       "writes the curves anyway");
        return EXIT_USAGE;
    }
    if (!ctx->tb_dir && (ctx->given & (OPT_FOLLOW | OPT_INTERVAL))) {
        hpo_log_error ("--follow and --interval go with --tensorboard");
        return EXIT_USAGE;
    }
    if (ctx->tb_dir)
        return s_export_tensorboard (ctx, args[0]);
    const char *path = ctx->csv ? ctx->csv : ctx->jsonl;
    s_trials_query_t query = {
        .state = "", .metrics = !ctx->curves, .curves = ctx->curves};
    hpo_env_t *reply;
    int status = s_get_pages (ctx, args[0], &query, &reply, NULL);
    if (status)
        return status;
    //  The file is opened only once the answer is in, so a study that
    //  does not exist leaves no empty file behind.
    int to_stdout = strcmp (path, "-") == 0;
    FILE *out = to_stdout ? stdout : fopen (path, "w");
    if (!out) {
        hpo_log_warn ("cannot open %s", path);
        hpo_wire_free (&reply);
        return EXIT_ERROR;
    }
    int jsonl = ctx->jsonl != NULL;
    int rc = ctx->curves
                 ? hpo_render_export_curves (out, reply->trial_list, jsonl)
                 : hpo_render_export (out, reply->trial_list, jsonl);
    if (!to_stdout && fclose (out) != 0)
        rc = -1;
    if (rc != 0) {
        hpo_log_warn ("cannot write %s", to_stdout ? "the output" : path);
        status = EXIT_ERROR;
    }
    hpo_wire_free (&reply);
    return status;
}

//  ---- ask and tell -------------------------------------------------------

static int
s_ask (s_ctx_t *ctx, char **args)
{
    hpo_wire_msg_t request;
    hpo_wire_ask (&request, 0, args[0]);
    char *not_found = hpo_sprintf ("no study named %s", args[0]);
    hpo_env_t *reply;
    int status = s_call (ctx, &request.env, HPO__ENVELOPE__BODY_TRIAL_INFO,
                         not_found, &reply);
    free (not_found);
    if (status)
        return status;
    if (ctx->json)
        status = s_print_json (hpo_json_render_asked (reply->trial_info));
    else
        hpo_render_asked (stdout, reply->trial_info);
    hpo_wire_free (&reply);
    return status;
}

//  A value on the command line: a finite number, the whole word.
static int
s_parse_value (const char *what, const char *text, double *out)
{
    char *end;
    errno = 0;
    *out = strtod (text, &end);
    if (!*text || *end || errno || !isfinite (*out)) {
        hpo_log_error ("%s '%s' is not a finite number", what, text);
        return EXIT_USAGE;
    }
    return 0;
}

static int
s_tell (s_ctx_t *ctx, char **args)
{
    const char *state = ctx->state ? ctx->state : "complete";
    int complete = strcasecmp (state, "complete") == 0;
    if (!complete && strcasecmp (state, "pruned") != 0 &&
        strcasecmp (state, "failed") != 0) {
        hpo_log_error ("--state '%s': want complete, pruned or failed", state);
        return EXIT_USAGE;
    }
    if (ctx->n_args > 3 || (complete && ctx->n_args < 3)) {
        hpo_log_error ("%s; usage: hpo tell NAME NUMBER VALUE [--state S]",
                       ctx->n_args > 3 ? "too many arguments"
                                       : "a complete trial needs its VALUE");
        return EXIT_USAGE;
    }
    uint64_t number;
    double value = 0;
    int has_value = ctx->n_args == 3;
    if (s_parse_count ("trial number", args[1], &number) ||
        (has_value && s_parse_value ("VALUE", args[2], &value)))
        return EXIT_USAGE;
    hpo_wire_msg_t request;
    hpo_wire_tell (&request, 0, args[0], number, state, has_value, value);
    return s_change (ctx, &request, args[0]);
}

//  Adds the METRIC=VALUE words to a report request. Each word is cut at
//  its '=' in place, so the request borrows the names from the words.
static int
s_report_metrics (hpo_wire_msg_t *request, char **words, int n)
{
    for (int k = 0; k < n; k++) {
        char *eq = strchr (words[k], '=');
        double value;
        if (!eq || eq == words[k]) {
            hpo_log_error ("'%s' is not METRIC=VALUE", words[k]);
            return EXIT_USAGE;
        }
        *eq = '\0';
        if (s_parse_value (words[k], eq + 1, &value))
            return EXIT_USAGE;
        hpo_wire_metric_add (request, words[k], value);
    }
    return 0;
}

//  hpo report NAME -o FILE: the study, every trial with its values and
//  attempts (page by page), and the workers, made into the dashboard's
//  page.
static void
s_report_page_trials (void *report, const Hpo__TrialList *page)
{
    hpo_htmlreport_trials (report, page);
}

static int
s_report_page (s_ctx_t *ctx, const char *name)
{
    hpo_env_t *study = NULL, *workers = NULL;
    int status = s_get_study (ctx, name, &study, NULL);
    if (status)
        return status;
    hpo_htmlreport_t *report = hpo_htmlreport_new (study->study_info);
    s_trials_query_t query = {.state = "", .curves = 1, .attempts = 1,
                              .each = s_report_page_trials, .arg = report};
    hpo_env_t *none = NULL;
    status = s_get_pages (ctx, name, &query, &none, NULL);
    if (status == 0) {
        hpo_wire_msg_t request;
        hpo_wire_workers (&request, 0);
        status = s_call (ctx, &request.env, HPO__ENVELOPE__BODY_WORKER_LIST,
                         NULL, &workers);
    }
    if (status == 0) {
        hpo_htmlreport_workers (report, workers->worker_list);
        double now = study->study_info->now;
        char *error = NULL;
        if (hpo_htmlreport_write (report, now > 0 ? now : (double)time (NULL),
                                  hpo_page, hpo_page_size, ctx->output,
                                  &error) != 0) {
            hpo_log_error ("%s", error);
            free (error);
            status = EXIT_ERROR;
        }
    }
    hpo_htmlreport_destroy (&report);
    hpo_wire_free (&study);
    hpo_wire_free (&workers);
    return status;
}

static int
s_report (s_ctx_t *ctx, char **args)
{
    if (ctx->given & OPT_OUTPUT) {
        if (ctx->n_args != 1) {
            hpo_log_error ("hpo report NAME -o FILE: %s",
                           ctx->n_args > 1 ? "too many arguments"
                                           : "missing argument");
            return EXIT_USAGE;
        }
        return s_report_page (ctx, args[0]);
    }
    if (ctx->n_args < 4) {
        hpo_log_error ("hpo report: missing argument (NAME -o FILE, or NAME "
                       "NUMBER STEP METRIC=VALUE...)");
        return EXIT_USAGE;
    }
    uint64_t number, step;
    if (s_parse_count ("trial number", args[1], &number) ||
        s_parse_count ("STEP", args[2], &step))
        return EXIT_USAGE;
    hpo_wire_msg_t request;
    hpo_wire_client_report (&request, 0, args[0], number, (int64_t)step);
    int status = s_report_metrics (&request, args + 3, ctx->n_args - 3);
    hpo_env_t *reply = NULL;
    if (status == 0) {
        char *not_found = hpo_sprintf ("no study named %s", args[0]);
        status = s_call (ctx, &request.env, HPO__ENVELOPE__BODY_REPORT_ANSWER,
                         not_found, &reply);
        free (not_found);
    }
    hpo_wire_msg_done (&request);
    if (status)
        return status;
    const Hpo__ReportAnswer *answer = reply->report_answer;
    if (ctx->json) {
        json_t *doc = json_object ();
        json_object_set_new (doc, "prune", json_boolean (answer->prune));
        json_object_set_new (doc, "message",
                             hpo_json_render_string (answer->message));
        status = s_print_json (doc);
    } else
        printf ("%s\n", answer->prune ? "prune" : "continue");
    if (status == 0 && answer->prune)
        status = EXIT_STOP;
    hpo_wire_free (&reply);
    return status;
}

static int
s_enqueue (s_ctx_t *ctx, char **args)
{
    //  The coordinator checks the words against the study's space, which
    //  only it holds; here, only that each is NAME=VALUE.
    for (int k = 1; k < ctx->n_args; k++) {
        const char *eq = strchr (args[k], '=');
        if (!eq || eq == args[k]) {
            hpo_log_error ("'%s' is not PARAM=VALUE", args[k]);
            return EXIT_USAGE;
        }
    }
    hpo_wire_msg_t request;
    hpo_wire_enqueue (&request, 0, args[0], args + 1, (size_t)ctx->n_args - 1);
    return s_change (ctx, &request, args[0]);
}

//  ---- main ---------------------------------------------------------------

//  Parses a --timeout or --interval value into milliseconds > 0.
static int
s_parse_ms (const char *option, const char *text, int *ms)
{
    uint64_t value;
    if (hpo_duration_parse (text, &value) != 0 || value == 0 ||
        value > INT_MAX) {
        hpo_log_error ("--%s '%s': want a positive number of seconds "
                       "(or 500ms, 2m)",
                       option, text);
        return -1;
    }
    *ms = (int)value;
    return 0;
}

static int s_main (int argc, char *argv[], char **words, char **given);

//  Whether word is a negative number ("-301.5", "-1e3", "-.5"): an
//  operand (hpo tell s 3 -301.5), never an option.
static int
s_negative (const char *word)
{
    if (word[0] != '-' ||
        !(isdigit ((unsigned char)word[1]) ||
          (word[1] == '.' && isdigit ((unsigned char)word[2]))))
        return 0;
    char *end;
    (void)strtod (word, &end);
    return *end == '\0';
}

//  The word getopt handed back, as given: a negative number was passed
//  to getopt without its '-' (see main).
static char *
s_as_given (char *word, int argc, char **argv, char **given)
{
    for (int k = 1; word && k < argc; k++)
        if (word == argv[k])
            return given[k];
    return word;
}

int
main (int argc, char *argv[])
{
    hpo_log_init ("hpo", HPO_LOG_INFO);
    hpo_log_plain (1);
    //  The listing of a study with a million trials is far larger than
    //  any request the coordinator accepts; answers may be up to 1 GiB.
    hpo_wire_set_limit ((size_t)1 << 30);
    char **words = hpo_calloc ((size_t)argc + 1, sizeof (char *));
    //  getopt takes "-301.5" for options -3 -0 -1 ...: it sees negative
    //  numbers without their '-', and s_as_given puts it back.
    char **seen = hpo_calloc ((size_t)argc + 1, sizeof (char *));
    for (int k = 0; k < argc; k++)
        seen[k] = k > 0 && s_negative (argv[k]) ? argv[k] + 1 : argv[k];
    int status = s_main (argc, seen, words, argv);
    free (seen);
    free (words);
    return status;
}

//  words has room for every argument: the command words and operands are
//  gathered there. argv is what getopt reads, given what was given.
static int
s_main (int argc, char *argv[], char **words, char **given)
{
    s_ctx_t ctx = {0};
    ctx.endpoint = getenv ("HPO_COORDINATOR");
    if (!ctx.endpoint || !*ctx.endpoint)
        ctx.endpoint = DEFAULT_ENDPOINT;
    ctx.timeout_ms = DEFAULT_TIMEOUT_MS;
    ctx.interval_ms = DEFAULT_INTERVAL_MS;
    ctx.wait_ms = 300 * 1000;

    static const struct option options[] = {
        {"coordinator", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"state", required_argument, NULL, 's'},
        {"interval", required_argument, NULL, 'i'},
        {"now", no_argument, NULL, 'n'},
        {"trials", required_argument, NULL, 'T'},
        {"failed", no_argument, NULL, 'F'},
        {"yes", no_argument, NULL, 'y'},
        {"sort", required_argument, NULL, 'S'},
        {"output", required_argument, NULL, 'o'},
        {"limit", required_argument, NULL, 'l'},
        {"csv", required_argument, NULL, 'C'},
        {"jsonl", required_argument, NULL, 'J'},
        {"curves", no_argument, NULL, 'K'},
        {"grid", no_argument, NULL, 'G'},
        {"top", required_argument, NULL, 'O'},
        {"points", required_argument, NULL, 'P'},
        {"shrink", required_argument, NULL, 'R'},
        {"name", required_argument, NULL, 'N'},
        {"dir", required_argument, NULL, 'D'},
        {"force", no_argument, NULL, 'f'},
        {"curve-secret", required_argument, NULL, 'X'},
        {"server-key", required_argument, NULL, 'Y'},
        {"nodes", required_argument, NULL, 'M'},
        {"wait", required_argument, NULL, 'W'},
        {"tensorboard", required_argument, NULL, 'B'},
        {"follow", no_argument, NULL, 'L'},
        {NULL, 0, NULL, 0},
    };
    //  Options may come anywhere ("hpo best mnist --json"): the leading
    //  '-' hands back the words in order, whatever POSIXLY_CORRECT says;
    //  ':' reports a missing value apart from an unknown option.
    int n_words = 0;
    int help = 0, version = 0;
    opterr = 0;
    int opt;
    while ((opt = getopt_long (argc, argv, "-:ho:", options, NULL)) != -1) {
        optarg = s_as_given (optarg, argc, argv, given);
        switch (opt) {
        case 1:
            words[n_words++] = optarg;
            break;
        case 'c':
            ctx.endpoint = optarg;
            break;
        case 't':
            if (s_parse_ms ("timeout", optarg, &ctx.timeout_ms) != 0)
                return EXIT_USAGE;
            break;
        case 'j':
            ctx.json = 1;
            break;
        case 'h':
            help = 1;
            break;
        case 'V':
            version = 1;
            break;
        case 's':
            ctx.state = optarg;
            ctx.given |= OPT_STATE;
            break;
        case 'i':
            if (s_parse_ms ("interval", optarg, &ctx.interval_ms) != 0)
                return EXIT_USAGE;
            ctx.given |= OPT_INTERVAL;
            break;
        case 'n':
            ctx.given |= OPT_NOW;
            break;
        case 'T':
            ctx.trials = optarg;
            ctx.given |= OPT_TRIALS;
            break;
        case 'F':
            ctx.given |= OPT_FAILED;
            break;
        case 'y':
            ctx.given |= OPT_YES;
            break;
        case 'S':
            ctx.sort = optarg;
            ctx.given |= OPT_SORT;
            break;
        case 'o':
            ctx.output = optarg;
            ctx.given |= OPT_OUTPUT;
            break;
        case 'l': {
            char *end;
            errno = 0;
            unsigned long long n = strtoull (optarg, &end, 10);
            if (!isdigit ((unsigned char)*optarg) || *end || errno || n == 0) {
                hpo_log_error ("--limit '%s': want a number of trials > 0",
                               optarg);
                return EXIT_USAGE;
            }
            ctx.limit = n;
            ctx.given |= OPT_LIMIT;
            break;
        }
        case 'C':
            ctx.csv = optarg;
            ctx.given |= OPT_CSV;
            break;
        case 'J':
            ctx.jsonl = optarg;
            ctx.given |= OPT_JSONL;
            break;
        case 'K':
            ctx.curves = 1;
            ctx.given |= OPT_CURVES;
            break;
        case 'G':
            ctx.grid = 1;
            ctx.given |= OPT_GRID;
            break;
        case 'O':
            ctx.top = optarg;
            ctx.given |= OPT_TOP;
            break;
        case 'P':
            ctx.points = optarg;
            ctx.given |= OPT_POINTS;
            break;
        case 'R':
            ctx.shrink = optarg;
            ctx.given |= OPT_SHRINK;
            break;
        case 'N':
            ctx.name = optarg;
            ctx.given |= OPT_NAME;
            break;
        case 'D':
            ctx.dir = optarg;
            ctx.given |= OPT_DIR;
            break;
        case 'f':
            ctx.given |= OPT_FORCE;
            break;
        case 'X':
            ctx.curve_secret = optarg;
            break;
        case 'Y':
            ctx.server_key = optarg;
            break;
        case 'M': {
            char *end;
            errno = 0;
            ctx.nodes = strtol (optarg, &end, 10);
            if (!isdigit ((unsigned char)*optarg) || *end || errno ||
                ctx.nodes <= 0 || ctx.nodes > 10000) {
                hpo_log_error ("--nodes '%s': want a number from 1 to 10000",
                               optarg);
                return EXIT_USAGE;
            }
            ctx.given |= OPT_NODES;
            break;
        }
        case 'W':
            if (s_parse_ms ("wait", optarg, &ctx.wait_ms) != 0)
                return EXIT_USAGE;
            ctx.given |= OPT_WAIT;
            break;
        case 'B':
            ctx.tb_dir = optarg;
            ctx.given |= OPT_TENSORBOARD;
            break;
        case 'L':
            ctx.given |= OPT_FOLLOW;
            break;
        case ':':
            hpo_log_error ("option '%s' needs a value", argv[optind - 1]);
            return EXIT_USAGE;
        default:
            if (optopt)
                hpo_log_error ("unknown option '-%c'; try 'hpo help'", optopt);
            else
                hpo_log_error ("unknown option '%s'; try 'hpo help'",
                               argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    //  Whatever follows "--" is operands.
    while (optind < argc)
        words[n_words++] = given[optind++];

    if (version) {
        printf ("hpo %s\n", HPO_VERSION);
        return 0;
    }
    int is_help = n_words > 0 && strcmp (words[0], "help") == 0;
    if (is_help) {
        help = 1;
        words++;
        n_words--;
    }
    if (n_words == 0) {
        if (help) {
            s_usage (stdout);
            return 0;
        }
        hpo_log_error ("no command given; try 'hpo help'");
        return EXIT_USAGE;
    }
    int used = 0;
    const s_command_t *cmd = s_lookup (words, n_words, &used);
    if (!cmd) {
        if (s_is_group (words[0]) && (help || n_words == 1)) {
            if (help) {
                s_group_usage (stdout, words[0]);
                return 0;
            }
            hpo_log_error ("'hpo %s' needs a subcommand; try 'hpo help %s'",
                           words[0], words[0]);
            return EXIT_USAGE;
        }
        if (s_is_group (words[0]))
            hpo_log_error ("unknown command 'hpo %s %s'; try 'hpo help %s'",
                           words[0], words[1], words[0]);
        else
            hpo_log_error ("unknown command '%s'; try 'hpo help'", words[0]);
        return EXIT_USAGE;
    }
    if (help) {
        s_command_usage (stdout, cmd);
        return 0;
    }
    for (size_t k = 0; k < sizeof s_options / sizeof *s_options; k++)
        if (ctx.given & ~cmd->options & s_options[k].opt) {
            hpo_log_error ("%s applies to 'hpo %s' only", s_options[k].name,
                           s_options[k].command);
            return EXIT_USAGE;
        }
    char **args = words + used;
    int n_args = n_words - used;
    ctx.n_args = n_args;
    if (cmd->n_args >= 0 ? n_args != cmd->n_args : n_args < -cmd->n_args) {
        hpo_log_error ("%s; usage: hpo %s",
                       n_args < cmd->n_args ? "missing argument"
                                            : "too many arguments",
                       cmd->synopsis);
        return EXIT_USAGE;
    }

    if (cmd->handler == s_keygen) //  talks to no coordinator
        return s_keygen (&ctx, args);
    int status = 0;
    //  hpo slurm launch connects once it knows where the coordinator is.
    if (cmd->handler != s_slurm_launch)
        status = s_connect (&ctx, ctx.endpoint);
    if (status == 0)
        status = cmd->handler (&ctx, args);
    hpo_client_destroy (&ctx.client);
    if (fflush (stdout) != 0 || ferror (stdout)) {
        hpo_log_warn ("cannot write the output");
        if (status == 0)
            status = EXIT_ERROR;
    }
    return status;
}
