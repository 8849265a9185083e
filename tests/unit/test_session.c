/*  test_session: the worker's side of the protocol against a fake
    coordinator, a ROUTER on tcp://127.0.0.1:* driven by hand from this
    thread between steps of the session. Real trials run through /bin/sh.

    Like test_runner, the test is a child subreaper so that processes
    orphaned when their shim exits can be reaped and checked for.        */
#include "proctest.h"
#include "testutil.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/sock.h"
#include "common/wire.h"
#include "worker/session.h"

#define HB_MS 100

static char s_dir[64];
static zsock_t *s_router;
static char s_endpoint[128];
static uint8_t s_rid[HPO_WIRE_MAX_RID];
static size_t s_rid_size;
static hpo_session_t *s_session;

//  What the fake coordinator received and has not yet looked at.
static hpo_env_t *s_inbox[4096];
static size_t s_n_inbox;

//  Every Report, Finish and Goodbye in the order it arrived, resends
//  included.
typedef struct {
    int body;
    uint64_t seq;
    uint64_t trial_id;
    int has_step;
    int64_t step;
} s_arrival_t;
static s_arrival_t *s_arrivals;
static size_t s_n_arrivals, s_cap_arrivals;
//  1: the fake coordinator acknowledges Reports, Finishes and Goodbyes
//  as they come, as the real one does, and keeps them out of the inbox.
static int s_autoack;
//  1: Reports, Finishes and Goodbyes are only recorded in s_arrivals, not
//  kept in the inbox (a test that floods them and acks nothing).
static int s_record_only;

//  Binds the fake coordinator: "tcp://127.0.0.1:*" for a port the kernel
//  chooses, or the endpoint it had before a "restart". Through libzmq,
//  not czmq, whose ":*" takes the first free port from 49152 up, which a
//  test running beside this one may take while the router is closed.
static void
s_router_new (const char *endpoint)
{
    s_router = zsock_new (ZMQ_ROUTER);
    if (!s_router || zmq_bind (zsock_resolve (s_router), endpoint) < 0) {
        fprintf (stderr, "cannot bind %s\n", endpoint);
        exit (1);
    }
    hpo_sock_endpoint (zsock_resolve (s_router), s_endpoint, sizeof s_endpoint);
}

static void
s_inbox_clear (void)
{
    for (size_t k = 0; k < s_n_inbox; k++)
        hpo_wire_free (&s_inbox[k]);
    s_n_inbox = 0;
}

static void s_send (hpo_wire_msg_t *msg);

static void
s_send_acks (uint64_t *seqs, size_t n)
{
    hpo_wire_msg_t msg;
    hpo_wire_ack (&msg, 0);
    hpo_wire_msg_acks (&msg, seqs, n);
    s_send (&msg);
}

static void
s_arrived (const hpo_env_t *env)
{
    if (s_n_arrivals == s_cap_arrivals) {
        s_cap_arrivals = s_cap_arrivals ? 2 * s_cap_arrivals : 1024;
        s_arrivals =
            realloc (s_arrivals, s_cap_arrivals * sizeof (s_arrival_t));
    }
    s_arrival_t *a = &s_arrivals[s_n_arrivals++];
    memset (a, 0, sizeof *a);
    a->body = (int)env->body_case;
    a->seq = env->seq;
    if (env->body_case == HPO__ENVELOPE__BODY_REPORT) {
        a->trial_id = env->report->trial_id;
        a->has_step = env->report->has_step;
        a->step = env->report->step;
    } else if (env->body_case == HPO__ENVELOPE__BODY_FINISH)
        a->trial_id = env->finish->trial_id;
}

//  Lets the session and the fake coordinator run for ms.
static void
s_pump (int ms)
{
    int64_t until = hpo_clock_mono_ms () + ms;
    do {
        hpo_session_step (s_session, 5);
        hpo_wire_status_t status;
        hpo_env_t *env;
        hpo_wire_peer_t peer;
        uint64_t acks[256];
        size_t n_acks = 0;
        while (
            (env = hpo_wire_recv (zsock_resolve (s_router), &peer, &status))) {
            memcpy (s_rid, peer.rid, peer.rid_size);
            s_rid_size = peer.rid_size;
            int kept = env->body_case == HPO__ENVELOPE__BODY_REPORT ||
                       env->body_case == HPO__ENVELOPE__BODY_FINISH ||
                       env->body_case == HPO__ENVELOPE__BODY_GOODBYE;
            if (kept)
                s_arrived (env);
            if (kept && s_autoack) {
                acks[n_acks++] = env->seq;
                if (n_acks == 256) {
                    s_send_acks (acks, n_acks);
                    n_acks = 0;
                }
                hpo_wire_free (&env);
            } else if (kept && s_record_only)
                hpo_wire_free (&env);
            else if (s_n_inbox < sizeof s_inbox / sizeof s_inbox[0])
                s_inbox[s_n_inbox++] = env;
            else
                hpo_wire_free (&env);
        }
        if (n_acks)
            s_send_acks (acks, n_acks);
    } while (hpo_clock_mono_ms () < until);
}

//  Takes the first received message with this body (and, if seq is not
//  0, that seq), waiting up to timeout_ms. NULL if none came.
static hpo_env_t *
s_take_seq (int body, uint64_t seq, int timeout_ms)
{
    int64_t until = hpo_clock_mono_ms () + timeout_ms;
    for (;;) {
        for (size_t k = 0; k < s_n_inbox; k++)
            if ((int)s_inbox[k]->body_case == body &&
                (seq == 0 || s_inbox[k]->seq == seq)) {
                hpo_env_t *env = s_inbox[k];
                memmove (s_inbox + k, s_inbox + k + 1,
                         (s_n_inbox - k - 1) * sizeof (hpo_env_t *));
                s_n_inbox--;
                return env;
            }
        if (hpo_clock_mono_ms () >= until)
            return NULL;
        s_pump (5);
    }
}

static hpo_env_t *
s_take (int body, int timeout_ms)
{
    return s_take_seq (body, 0, timeout_ms);
}

static size_t
s_count (int body)
{
    size_t n = 0;
    for (size_t k = 0; k < s_n_inbox; k++)
        if ((int)s_inbox[k]->body_case == body)
            n++;
    return n;
}

static void
s_drop (int body)
{
    size_t n = 0;
    for (size_t k = 0; k < s_n_inbox; k++)
        if ((int)s_inbox[k]->body_case == body)
            hpo_wire_free (&s_inbox[k]);
        else
            s_inbox[n++] = s_inbox[k];
    s_n_inbox = n;
}

//  Sends msg as the coordinator (a seq of its own unless msg has one)
//  and releases it.
static void
s_send (hpo_wire_msg_t *msg)
{
    static uint64_t seq = 1000;
    if (!msg->env.seq)
        msg->env.seq = ++seq;
    CHECK (hpo_wire_send (zsock_resolve (s_router), s_rid, s_rid_size,
                          &msg->env) == 0);
    hpo_wire_msg_done (msg);
}

static void
s_send_welcome (uint64_t refused_id, uint32_t refused_attempt)
{
    hpo_wire_msg_t msg;
    hpo_wire_welcome (&msg, 0, HB_MS, 10 * HB_MS);
    if (refused_id)
        hpo_wire_lease_add (&msg, refused_id, refused_attempt);
    s_send (&msg);
}

//  An Ack of one seq in the Ack body's own field (the coordinator puts
//  its acknowledgements in the envelope's; the worker takes both).
static void
s_send_ack (uint64_t seq)
{
    hpo_wire_msg_t msg;
    hpo_wire_ack (&msg, 0);
    msg.body.ack.ack_seq = seq;
    s_send (&msg);
}

static void
s_send_kill (uint64_t trial_id, uint32_t attempt)
{
    hpo_wire_msg_t msg;
    hpo_wire_kill (&msg, 0, trial_id, attempt, "stale attempt");
    s_send (&msg);
}

static void
s_send_error_to (Hpo__ErrorCode code, uint64_t seq, const char *message)
{
    hpo_wire_msg_t msg;
    hpo_wire_error (&msg, seq, code, message);
    s_send (&msg);
}

static void
s_send_error (Hpo__ErrorCode code)
{
    s_send_error_to (code, 0, "test");
}

//  The study's workdir and env the next Assigns carry (issue #9).
static const char *s_workdir;
static char **s_env;
static size_t s_n_env;

//  Assigns a trial: number n, id 100 + n, attempt 1, in study "mnist",
//  with lr = 0.01 and opt = adam.
static void
s_send_assign (uint64_t number, const char *command, int shell,
               uint64_t timeout_ms, uint64_t grace_ms, const char *study)
{
    char *names[2] = {"lr", "opt"};
    hpo_value_t values[2] = {{.kind = HPO_KIND_FLOAT, .f = 0.01},
                             {.kind = HPO_KIND_STR, .s = "adam"}};
    hpo_wire_assign_t a = {
        .trial_id = 100 + number,
        .attempt = 1,
        .study = study ? study : "mnist",
        .number = number,
        .command = command,
        .shell = shell,
        .names = names,
        .values = values,
        .n_params = 2,
        .objective = "loss",
        .timeout_ms = timeout_ms,
        .grace_ms = grace_ms,
        .workdir = s_workdir,
        .env = s_env,
        .n_env = s_n_env,
    };
    hpo_wire_msg_t msg;
    hpo_wire_assign (&msg, 0, &a);
    s_send (&msg);
}

//  A new session with a fake coordinator that has welcomed it.
static void
s_start_with (uint32_t slots, size_t outbox_max, int signal_fd)
{
    s_router_new ("tcp://127.0.0.1:*");
    hpo_session_config_t config = {.endpoint = s_endpoint,
                                   .name = "test-worker",
                                   .slots = slots,
                                   .state_dir = s_dir,
                                   .signal_fd = signal_fd,
                                   .outbox_max = outbox_max};
    s_session = hpo_session_new (&config);
    CHECK (s_session);
    hpo_env_t *hello = s_take (HPO__ENVELOPE__BODY_HELLO, 5000);
    CHECK (hello);
    if (hello) {
        CHECK_STR (hello->hello->name, "test-worker");
        CHECK (hello->hello->slots == slots);
        CHECK (hello->hello->n_leases == 0);
        CHECK (hello->hello->pid == (uint32_t)getpid ());
    }
    hpo_wire_free (&hello);
    s_send_welcome (0, 0);
    //  Welcome is answered at once by a heartbeat asking for work.
    hpo_env_t *hb = s_take (HPO__ENVELOPE__BODY_HEARTBEAT, 2000);
    CHECK (hb && hb->heartbeat->free == slots);
    hpo_wire_free (&hb);
}

static void
s_start (uint32_t slots)
{
    s_start_with (slots, 0, -1);
}

static void
s_stop (void)
{
    hpo_session_stop (s_session);
    int64_t until = hpo_clock_mono_ms () + 3000;
    while (!hpo_session_finished (s_session) && hpo_clock_mono_ms () < until)
        s_pump (10);
    CHECK (hpo_session_finished (s_session));
    hpo_session_destroy (&s_session);
    hpo_session_destroy (&s_session);
    CHECK (s_session == NULL);
    s_inbox_clear ();
    zsock_destroy (&s_router);
    s_autoack = 0;
    s_record_only = 0;
    s_n_arrivals = 0;
}

static char *
s_log_of (uint64_t number)
{
    static char path[256];
    snprintf (path, sizeof path, "%s/logs/mnist/trial-%d-attempt-1.log", s_dir,
              (int)number);
    return t_slurp (path);
}

//  The heartbeat's leases include trial_id.
static int
s_names (const hpo_env_t *hb, uint64_t trial_id)
{
    for (size_t k = 0; k < hb->heartbeat->n_leases; k++)
        if (hb->heartbeat->leases[k]->trial_id == trial_id)
            return 1;
    return 0;
}

//  Waits for the process whose pid the trial wrote to file to be gone,
//  with its whole group.
static int
s_group_gone (const char *file, int timeout_ms)
{
    char path[256];
    snprintf (path, sizeof path, "%s/%s", s_dir, file);
    int pgid = atoi (t_slurp (path));
    if (pgid <= 0)
        return 0;
    int64_t until = hpo_clock_mono_ms () + timeout_ms;
    for (;;) {
        if (t_group_gone (pgid))
            return 1;
        if (hpo_clock_mono_ms () >= until)
            return 0;
        if (s_session)
            s_pump (20);
        else
            usleep (20000);
    }
}

static void
test_complete (void)
{
    s_start (1);
    s_send_assign (12,
                   "echo step=1 loss=0.5 >&3\n"
                   "echo \"lr={lr} opt={opt}\"\n"
                   "env | grep ^HPO_ | sort\n"
                   "cat \"$HPO_PARAMS_FILE\"; echo\n"
                   "test -d \"$HPO_CHECKPOINT_DIR\" && echo ckpt-ok\n"
                   "echo garbage >&3\n"
                   "echo '{{\"step\": 2, \"loss\": 0.25, \"acc\": 0.9}}' >&3\n",
                   1, 10000, 1000, NULL);
    hpo_env_t *r1 = s_take (HPO__ENVELOPE__BODY_REPORT, 5000);
    hpo_env_t *r2 = s_take (HPO__ENVELOPE__BODY_REPORT, 5000);
    CHECK (r1 && r2);
    if (!r1 || !r2) {
        hpo_wire_free (&r1);
        hpo_wire_free (&r2);
        s_stop ();
        return;
    }
    CHECK (r1->report->trial_id == 112 && r1->report->attempt == 1);
    CHECK (r1->report->has_step && r1->report->step == 1);
    CHECK (r1->report->n_metrics == 1);
    CHECK_STR (r1->report->metrics[0]->name, "loss");
    CHECK (r1->report->metrics[0]->value == 0.5);
    CHECK (r2->report->step == 2 && r2->report->n_metrics == 2);
    CHECK (r2->seq > r1->seq);
    //  Ack the second only: the first must come again, same seq.
    s_send_ack (r2->seq);
    hpo_env_t *fin = s_take (HPO__ENVELOPE__BODY_FINISH, 5000);
    CHECK (fin);
    if (fin) {
        CHECK (fin->finish->trial_id == 112);
        CHECK (fin->finish->outcome == HPO__OUTCOME__OUTCOME_COMPLETE);
        CHECK (fin->finish->has_value && fin->finish->value == 0.25);
        CHECK (fin->finish->exit_status == 0);
        //  It asks for the next trial in the same message.
        CHECK (fin->finish->asks && fin->finish->free == 1);
        CHECK (fin->seq > r2->seq);
    }
    //  The freed slot asks for work at once: free 1, no lease.
    s_drop (HPO__ENVELOPE__BODY_HEARTBEAT);
    hpo_env_t *hb = s_take (HPO__ENVELOPE__BODY_HEARTBEAT, 2000);
    CHECK (hb && hb->heartbeat->free == 1 && hb->heartbeat->n_leases == 0);
    hpo_wire_free (&hb);
    hpo_env_t *again = s_take_seq (HPO__ENVELOPE__BODY_REPORT, r1->seq, 2000);
    CHECK (again);
    if (again)
        CHECK (again->report->step == 1);
    hpo_wire_free (&again);
    s_send_ack (r1->seq);
    if (fin) {
        again = s_take_seq (HPO__ENVELOPE__BODY_FINISH, fin->seq, 2000);
        CHECK (again);
        hpo_wire_free (&again);
        s_send_ack (fin->seq);
    }
    //  All acknowledged: nothing more is resent.
    s_pump (HB_MS);
    s_drop (HPO__ENVELOPE__BODY_REPORT);
    s_drop (HPO__ENVELOPE__BODY_FINISH);
    s_pump (5 * HB_MS);
    CHECK (s_count (HPO__ENVELOPE__BODY_REPORT) == 0);
    CHECK (s_count (HPO__ENVELOPE__BODY_FINISH) == 0);
    CHECK (hpo_session_unacked (s_session) == 0);
    CHECK (hpo_session_busy (s_session) == 0);

    const char *log = s_log_of (12);
    CHECK_CONTAINS (log, "lr=0.01 opt=adam\n");
    CHECK_CONTAINS (log, "HPO_STUDY=mnist\n");
    CHECK_CONTAINS (log, "HPO_TRIAL=12\n");
    CHECK_CONTAINS (log, "HPO_ATTEMPT=1\n");
    CHECK_CONTAINS (log, "HPO_TRIAL_ID=112\n");
    CHECK_CONTAINS (log, "HPO_OBJECTIVE=loss\n");
    CHECK_CONTAINS (log, "HPO_REPORT_FD=3\n");
    CHECK_CONTAINS (log, "HPO_PARAM_LR=0.01\n");
    CHECK_CONTAINS (log, "HPO_PARAM_OPT=adam\n");
    CHECK_CONTAINS (log, "HPO_WORKER=test-worker\n");
    CHECK_CONTAINS (log, "/checkpoints/mnist/12\n");
    CHECK_CONTAINS (log, "/trials/mnist/trial-12-attempt-1/params.json\n");
    CHECK_CONTAINS (log, "\"opt\":\"adam\"");
    CHECK_CONTAINS (log, "\"lr\":0.01");
    CHECK_CONTAINS (log, "ckpt-ok\n");
    char path[256];
    snprintf (path, sizeof path, "%s/checkpoints/mnist/12", s_dir);
    struct stat st;
    CHECK (stat (path, &st) == 0 && S_ISDIR (st.st_mode));

    hpo_wire_free (&r1);
    hpo_wire_free (&r2);
    hpo_wire_free (&fin);
    s_stop ();
}

//  Runs one trial to its Finish and acknowledges it.
static hpo_env_t *
s_run_to_finish (uint64_t number, const char *command, int shell,
                 uint64_t timeout_ms, const char *study)
{
    s_send_assign (number, command, shell, timeout_ms, 200, study);
    hpo_env_t *fin = s_take (HPO__ENVELOPE__BODY_FINISH, 10000);
    CHECK (fin);
    if (fin) {
        CHECK (fin->finish->trial_id == 100 + number);
        s_send_ack (fin->seq);
    }
    return fin;
}

static void
test_failures (void)
{
    s_start (1);
    hpo_env_t *fin = s_run_to_finish (
        1, "sh -c 'echo partial-output; echo loss=1 >&3; exit 3'", 0, 0, NULL);
    if (fin) {
        CHECK (fin->finish->outcome == HPO__OUTCOME__OUTCOME_FAILED);
        CHECK_STR (fin->finish->reason, "exit status 3");
        CHECK (!fin->finish->permanent); //  may pass on a retry
        CHECK_CONTAINS (fin->finish->log_tail, "partial-output\n");
        CHECK (WIFEXITED (fin->finish->exit_status) &&
               WEXITSTATUS (fin->finish->exit_status) == 3);
        CHECK (!fin->finish->has_value);
    }
    hpo_wire_free (&fin);

    fin = s_run_to_finish (2, "sh -c 'echo acc=1 >&3'", 0, 0, NULL);
    if (fin) {
        CHECK (fin->finish->outcome == HPO__OUTCOME__OUTCOME_FAILED);
        CHECK_STR (fin->finish->reason,
                   "objective 'loss' never reported (reported: acc)");
        CHECK (fin->finish->permanent);
    }
    hpo_wire_free (&fin);

    fin = s_run_to_finish (3, "kill -9 $$", 1, 0, NULL);
    if (fin)
        CHECK_STR (fin->finish->reason, "killed by signal 9 (SIGKILL)");
    hpo_wire_free (&fin);

    fin = s_run_to_finish (4, "hpo-no-such-program {lr}", 0, 0, NULL);
    if (fin) {
        CHECK (fin->finish->outcome == HPO__OUTCOME__OUTCOME_FAILED);
        CHECK_STR (fin->finish->reason,
                   "command not found: hpo-no-such-program");
        CHECK (fin->finish->permanent);
    }
    hpo_wire_free (&fin);

    fin = s_run_to_finish (5, "echo {nope}", 0, 0, NULL);
    if (fin)
        CHECK_CONTAINS (fin->finish->reason, "bad command: ");
    hpo_wire_free (&fin);

    fin = s_run_to_finish (6, "echo hi", 0, 0, "../escape");
    if (fin)
        CHECK_CONTAINS (fin->finish->reason, "bad study name");
    hpo_wire_free (&fin);

    //  Invalid UTF-8 in the log does not reach the wire as such: each
    //  bad byte becomes U+FFFD, a NUL becomes '?'.
    fin = s_run_to_finish (7, "printf 'caf\\351 \\377\\000\\n'; exit 1", 1, 0,
                           NULL);
    if (fin)
        CHECK_CONTAINS (fin->finish->log_tail,
                        "caf\xef\xbf\xbd \xef\xbf\xbd?\n");
    hpo_wire_free (&fin);

    //  A timeout: SIGTERM is ignored, so the grace period runs out and
    //  SIGKILL ends it.
    int64_t t0 = hpo_clock_mono_ms ();
    fin = s_run_to_finish (8, "trap '' TERM; echo $$ > pid8; sleep 30", 1, 300,
                           NULL);
    int64_t took = hpo_clock_mono_ms () - t0;
    if (fin) {
        CHECK_STR (fin->finish->reason, "timeout after 0.3s");
        CHECK (fin->finish->runtime_s >= 0.45 && fin->finish->runtime_s < 3);
    }
    CHECK (took >= 450 && took < 3000);
    CHECK (s_group_gone ("pid8", 3000));
    hpo_wire_free (&fin);

    fin = s_run_to_finish (9, "sleep 30", 1, 2000, NULL);
    if (fin)
        CHECK_STR (fin->finish->reason, "timeout after 2s");
    hpo_wire_free (&fin);
    s_stop ();
}

//  Failures a retry cannot change say so (Finish.permanent), and say
//  why in words that name the fix; workdir and env reach the program.
static void
s_reason_of (uint64_t number, const char *command, int shell,
             const char *reason, int permanent)
{
    hpo_env_t *fin = s_run_to_finish (number, command, shell, 0, NULL);
    if (fin) {
        CHECK (fin->finish->outcome == HPO__OUTCOME__OUTCOME_FAILED);
        CHECK_STR (fin->finish->reason, reason);
        CHECK (fin->finish->permanent == (permanent != 0));
    }
    hpo_wire_free (&fin);
}

static void
test_reasons (void)
{
    s_start (1);
    s_reason_of (
        20, "echo step=1 b=1 a=2 g=1 f=1 >&3; echo e=1 d=1 c=0 a=1 >&3", 1,
        "objective 'loss' never reported (reported: a, b, c, d, e, \u2026)", 1);
    s_reason_of (
        21, "echo 'epoch 1'; echo step=1 loss=0.5; echo loss=0.4 1>&2", 1,
        "objective 'loss' never reported; stdout/stderr had 2 report lines: "
        "write them to the file descriptor in $HPO_REPORT_FD (see README "
        "\"Reporting metrics\")",
        1);
    //  Both: a metric reported, the objective printed.
    s_reason_of (
        22, "echo acc=1 >&3; echo '{{\"loss\": 1}}'", 1,
        "objective 'loss' never reported (reported: acc); stdout/stderr had "
        "1 report line: write them to the file descriptor in $HPO_REPORT_FD "
        "(see README \"Reporting metrics\")",
        1);
    //  Printed metrics that are not the objective, beside reported ones,
    //  are a person's progress lines, not a mistake.
    s_reason_of (23, "echo acc=1 >&3; echo acc=1", 1,
                 "objective 'loss' never reported (reported: acc)", 1);
    //  Nothing at all: it may be flaky, as before.
    s_reason_of (24, "echo hello", 1, "objective 'loss' never reported", 0);
    //  Under a shell, the shell's own "not found" (127) and "Permission
    //  denied" (126) are told from a program's exit status by its message.
    s_reason_of (25, "echo hi; hpo-no-such-cmd-xyz --lr {lr}", 1,
                 "command not found: hpo-no-such-cmd-xyz", 1);
    s_reason_of (26, "exit 127", 1, "exit status 127", 0);
    FILE *f = fopen ("plain.txt", "w");
    fprintf (f, "not a program\n");
    fclose (f);
    s_reason_of (27, "./plain.txt", 1,
                 "cannot execute ./plain.txt: Permission denied", 1);
    s_reason_of (28, "./plain.txt", 0,
                 "cannot execute ./plain.txt: Permission denied", 1);
    s_reason_of (29, "./hpo-no-such-file {lr}", 0,
                 "command not found: ./hpo-no-such-file", 1);
    //  What only exec can tell: a #! interpreter that is not there.
    f = fopen ("badbang", "w");
    fprintf (f, "#!/hpo-no-such-interpreter\n");
    fclose (f);
    chmod ("badbang", 0755);
    s_reason_of (
        30, "./badbang", 0,
        "cannot execute ./badbang: No such file or directory (is its #! "
        "interpreter missing?)",
        1);

    //  What may pass is not permanent: a script still open for writing
    //  (ETXTBSY from exec).
    int busy = open ("busy.sh", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    CHECK (busy >= 0 && write (busy, "#!/bin/sh\n", 10) == 10);
    s_reason_of (34, "./busy.sh", 0, "cannot execute ./busy.sh: Text file busy",
                 0);
    close (busy);

    //  workdir (relative to the worker's directory) and env reach it.
    CHECK (mkdir ("wd", 0755) == 0 || errno == EEXIST);
    char *env[] = {"T_A=a b", "PATH_X=1", NULL};
    s_workdir = "wd";
    s_env = env;
    s_n_env = 2;
    hpo_env_t *fin =
        s_run_to_finish (31,
                         "pwd > where; echo \"$T_A|$HPO_TRIAL\" >> where; echo "
                         "loss=$PATH_X >&3",
                         1, 0, NULL);
    CHECK (fin && fin->finish->outcome == HPO__OUTCOME__OUTCOME_COMPLETE &&
           fin->finish->value == 1);
    if (fin && fin->finish->outcome != HPO__OUTCOME__OUTCOME_COMPLETE)
        fprintf (stderr, "%s\n", fin->finish->reason);
    hpo_wire_free (&fin);
    char expect[256];
    snprintf (expect, sizeof expect, "%s/wd\na b|31\n", s_dir);
    CHECK_STR (t_slurp ("wd/where"), expect);
    //  An env entry hpo sets itself, from a coordinator that let it by.
    char *bad_env[] = {"HPO_TRIAL=7", NULL};
    s_env = bad_env;
    s_n_env = 1;
    s_reason_of (
        32, "echo loss=1 >&3", 1,
        "env variable 'HPO_TRIAL' starts with HPO_, which hpo keeps for its "
        "own variables",
        1);
    s_env = NULL;
    s_n_env = 0;
    s_workdir = "/hpo-no-such-dir";
    s_reason_of (33, "echo loss=1 >&3", 1,
                 "workdir /hpo-no-such-dir: No such file or directory", 1);
    s_workdir = NULL;
    s_stop ();
}

static void
test_kill (void)
{
    s_start (2);
    s_send_assign (1, "echo $$ > pid1; echo loss=1 >&3; sleep 30", 1, 0, 200,
                   NULL);
    s_send_assign (2, "echo $$ > pid2; trap '' TERM; sleep 30", 1, 0, 300,
                   NULL);
    //  A report we leave unacknowledged: the Kill must drop it too.
    hpo_env_t *r = s_take (HPO__ENVELOPE__BODY_REPORT, 5000);
    CHECK (r && r->report->trial_id == 101);
    hpo_wire_free (&r);
    s_pump (2 * HB_MS);
    s_drop (HPO__ENVELOPE__BODY_HEARTBEAT);
    hpo_env_t *hb = s_take (HPO__ENVELOPE__BODY_HEARTBEAT, 2000);
    CHECK (hb && hb->heartbeat->free == 0 && s_names (hb, 101) &&
           s_names (hb, 102));
    hpo_wire_free (&hb);
    CHECK (hpo_session_unacked (s_session) == 1);

    s_send_kill (101, 1);
    int64_t until = hpo_clock_mono_ms () + 2000;
    while (hpo_session_unacked (s_session) && hpo_clock_mono_ms () < until)
        s_pump (10);
    CHECK (hpo_session_unacked (s_session) == 0);
    s_drop (HPO__ENVELOPE__BODY_REPORT); //  resent before the Kill came
    //  Once it is gone its slot is free, and no heartbeat names it.
    CHECK (s_group_gone ("pid1", 3000));
    s_pump (2 * HB_MS);
    s_drop (HPO__ENVELOPE__BODY_HEARTBEAT);
    hb = s_take (HPO__ENVELOPE__BODY_HEARTBEAT, 2000);
    CHECK (hb && hb->heartbeat->free == 1 && !s_names (hb, 101) &&
           s_names (hb, 102));
    hpo_wire_free (&hb);

    //  A Welcome that refuses a lease stops that attempt the same way.
    s_send_welcome (102, 1);
    CHECK (s_group_gone ("pid2", 3000));
    s_pump (2 * HB_MS);
    s_drop (HPO__ENVELOPE__BODY_HEARTBEAT);
    hb = s_take (HPO__ENVELOPE__BODY_HEARTBEAT, 2000);
    CHECK (hb && hb->heartbeat->free == 2 && hb->heartbeat->n_leases == 0);
    hpo_wire_free (&hb);
    CHECK (s_count (HPO__ENVELOPE__BODY_FINISH) == 0);
    CHECK (s_count (HPO__ENVELOPE__BODY_REPORT) == 0);
    CHECK (hpo_session_busy (s_session) == 0);
    s_stop ();
}

static void
test_busy_and_hello (void)
{
    s_start (1);
    s_send_assign (1, "echo $$ > pid1; echo step=1 loss=2 >&3; sleep 30", 1, 0,
                   200, NULL);
    hpo_env_t *r = s_take (HPO__ENVELOPE__BODY_REPORT, 5000);
    CHECK (r);
    //  No free slot: the second assignment is ignored, not failed.
    s_send_assign (2, "echo never", 1, 0, 200, NULL);
    s_pump (3 * HB_MS);
    CHECK (hpo_session_busy (s_session) == 1);
    CHECK (s_count (HPO__ENVELOPE__BODY_FINISH) == 0);

    //  The coordinator forgot us (restarted): one Hello however many
    //  errors, naming the running lease, and followed by the resent
    //  Report.
    s_drop (HPO__ENVELOPE__BODY_REPORT);
    s_send_error (HPO__ERROR_CODE__ERR_UNKNOWN_SESSION);
    s_send_error (HPO__ERROR_CODE__ERR_UNKNOWN_SESSION);
    s_send_error (HPO__ERROR_CODE__ERR_UNKNOWN_SESSION);
    hpo_env_t *hello = s_take (HPO__ENVELOPE__BODY_HELLO, 2000);
    CHECK (hello);
    if (hello) {
        CHECK (hello->hello->n_leases == 1);
        CHECK (hello->hello->n_leases == 1 &&
               hello->hello->leases[0]->trial_id == 101 &&
               hello->hello->leases[0]->attempt == 1);
    }
    hpo_wire_free (&hello);
    if (r) {
        hpo_env_t *again =
            s_take_seq (HPO__ENVELOPE__BODY_REPORT, r->seq, 2000);
        CHECK (again);
        hpo_wire_free (&again);
    }
    s_pump (500);
    CHECK (s_count (HPO__ENVELOPE__BODY_HELLO) == 0);
    //  Before the Welcome no heartbeat goes out.
    s_drop (HPO__ENVELOPE__BODY_HEARTBEAT);
    s_pump (3 * HB_MS);
    CHECK (s_count (HPO__ENVELOPE__BODY_HEARTBEAT) == 0);
    //  Without a Welcome, Hello is said again after a while.
    hello = s_take (HPO__ENVELOPE__BODY_HELLO, 6000);
    CHECK (hello);
    hpo_wire_free (&hello);
    s_send_welcome (0, 0);
    hpo_env_t *hb = s_take (HPO__ENVELOPE__BODY_HEARTBEAT, 2000);
    CHECK (hb && s_names (hb, 101) && hb->heartbeat->free == 0);
    hpo_wire_free (&hb);
    if (r)
        s_send_ack (r->seq);
    hpo_wire_free (&r);

    //  A graceful stop: no Finish, the trial's group is gone, and the
    //  session is finished within its flush time.
    int64_t t0 = hpo_clock_mono_ms ();
    s_drop (HPO__ENVELOPE__BODY_FINISH);
    hpo_session_stop (s_session);
    while (!hpo_session_finished (s_session) &&
           hpo_clock_mono_ms () - t0 < 3000)
        s_pump (10);
    CHECK (hpo_session_finished (s_session));
    CHECK (hpo_clock_mono_ms () - t0 <= HPO_SESSION_FLUSH_MS + 1000);
    CHECK (s_count (HPO__ENVELOPE__BODY_FINISH) == 0);
    hpo_session_destroy (&s_session);
    CHECK (s_group_gone ("pid1", 3000));
    s_inbox_clear ();
    zsock_destroy (&s_router);
}

//  The coordinator restarts while a trial runs: the worker's queued Report
//  reaches the new one, which does not know the session; after Hello and
//  Welcome, the Report and the Finish come through.
static void
test_restart (void)
{
    s_start (1);
    char endpoint[128];
    snprintf (endpoint, sizeof endpoint, "%s", s_endpoint);
    s_send_assign (1, "sleep 1; echo step=1 loss=0.125 >&3; sleep 0.5", 1, 0,
                   200, NULL);
    s_pump (200);
    CHECK (hpo_session_busy (s_session) == 1);
    zsock_destroy (&s_router);
    s_inbox_clear ();
    //  The coordinator is away while the report is made.
    for (int k = 0; k < 120; k++)
        hpo_session_step (s_session, 10);
    s_router_new (endpoint);
    hpo_env_t *r = s_take (HPO__ENVELOPE__BODY_REPORT, 5000);
    CHECK (r);
    s_send_error (HPO__ERROR_CODE__ERR_UNKNOWN_SESSION);
    hpo_env_t *hello = s_take (HPO__ENVELOPE__BODY_HELLO, 3000);
    CHECK (hello);
    if (hello)
        CHECK (hello->hello->n_leases == 1);
    hpo_wire_free (&hello);
    s_send_welcome (0, 0);
    if (r) {
        hpo_env_t *again =
            s_take_seq (HPO__ENVELOPE__BODY_REPORT, r->seq, 3000);
        CHECK (again && again->report->metrics[0]->value == 0.125);
        hpo_wire_free (&again);
        s_send_ack (r->seq);
    }
    hpo_env_t *fin = s_take (HPO__ENVELOPE__BODY_FINISH, 5000);
    CHECK (fin && fin->finish->outcome == HPO__OUTCOME__OUTCOME_COMPLETE &&
           fin->finish->value == 0.125);
    if (fin)
        s_send_ack (fin->seq);
    s_pump (3 * HB_MS);
    CHECK (hpo_session_unacked (s_session) == 0);
    hpo_wire_free (&r);
    hpo_wire_free (&fin);
    s_stop ();
}

//  The index in s_arrivals of the first Finish of trial_id, or
//  s_n_arrivals.
static size_t
s_first_finish (uint64_t trial_id)
{
    for (size_t k = 0; k < s_n_arrivals; k++)
        if (s_arrivals[k].body == HPO__ENVELOPE__BODY_FINISH &&
            s_arrivals[k].trial_id == trial_id)
            return k;
    return s_n_arrivals;
}

//  Waits until the Finish of trial_id has arrived.
static int
s_wait_finish (uint64_t trial_id, int timeout_ms)
{
    int64_t until = hpo_clock_mono_ms () + timeout_ms;
    while (s_first_finish (trial_id) == s_n_arrivals &&
           hpo_clock_mono_ms () < until)
        s_pump (10);
    return s_first_finish (trial_id) < s_n_arrivals;
}

//  How many of steps 0..n-1 of trial_id arrived before index end, and
//  how many distinct Report seqs.
static size_t
s_steps_before (uint64_t trial_id, int64_t n, size_t end, size_t *seqs)
{
    char *seen = calloc ((size_t)n, 1);
    size_t found = 0;
    uint64_t max_seq = 0;
    for (size_t k = 0; k < end; k++)
        if (s_arrivals[k].body == HPO__ENVELOPE__BODY_REPORT &&
            s_arrivals[k].seq > max_seq)
            max_seq = s_arrivals[k].seq;
    char *seq_seen = calloc (max_seq + 1, 1);
    *seqs = 0;
    for (size_t k = 0; k < end; k++) {
        const s_arrival_t *a = &s_arrivals[k];
        if (a->body != HPO__ENVELOPE__BODY_REPORT || a->trial_id != trial_id)
            continue;
        if (!seq_seen[a->seq]) {
            seq_seen[a->seq] = 1;
            (*seqs)++;
        }
        if (a->has_step && a->step >= 0 && a->step < n && !seen[a->step]) {
            seen[a->step] = 1;
            found++;
        }
    }
    free (seen);
    free (seq_seen);
    return found;
}

//  A program that reports faster than the socket takes it: 5000 steps
//  and the objective in one burst. Every Report reaches the coordinator,
//  and all of them before the Finish (issue #10, item 1).
static void
test_fast_reports (void)
{
    s_start (1);
    s_autoack = 1;
    s_send_assign (20,
                   "i=0; while [ $i -lt 5000 ]; do "
                   "echo step=$i loss=$i; i=$((i+1)); done >&3; "
                   "echo loss=0.5 >&3",
                   1, 0, 200, NULL);
    CHECK (s_wait_finish (120, 20000));
    size_t fin = s_first_finish (120);
    size_t seqs = 0;
    size_t steps = s_steps_before (120, 5000, fin, &seqs);
    if (steps != 5000 || seqs != 5001)
        fprintf (stderr, "before the Finish: %zu steps, %zu reports\n", steps,
                 seqs);
    CHECK (steps == 5000);
    CHECK (seqs == 5001); //  the objective's line too
    s_pump (3 * HB_MS);
    CHECK (hpo_session_unacked (s_session) == 0);
    s_stop ();
}

static int
s_exists (const char *file)
{
    char path[256];
    snprintf (path, sizeof path, "%s/%s", s_dir, file);
    return access (path, F_OK) == 0;
}

//  A program that reports far more than the outbox may hold while the
//  coordinator acknowledges nothing: nothing is dropped, the program
//  blocks in its write until acks resume, and every report arrives before
//  the Finish (issue #10, item 2).
static void
test_backpressure (void)
{
    s_start_with (1, 200, -1);
    s_record_only = 1;
    s_send_assign (21,
                   "i=0; while [ $i -lt 20000 ]; do "
                   "echo step=$i loss=$i; i=$((i+1)); done >&3; "
                   "echo loss=0.5 >&3; touch wrote-all",
                   1, 0, 200, NULL);
    s_pump (1500);
    //  20,000 lines do not fit in the pipe and one read: it waits.
    CHECK (!s_exists ("wrote-all"));
    CHECK (hpo_session_unacked (s_session) == 200);
    CHECK (s_first_finish (121) == s_n_arrivals);
    CHECK (hpo_session_busy (s_session) == 1);
    s_autoack = 1;
    CHECK (s_wait_finish (121, 60000));
    CHECK (s_exists ("wrote-all"));
    size_t seqs = 0;
    size_t steps = s_steps_before (121, 20000, s_first_finish (121), &seqs);
    if (steps != 20000 || seqs != 20001)
        fprintf (stderr, "before the Finish: %zu steps, %zu reports\n", steps,
                 seqs);
    CHECK (steps == 20000);
    CHECK (seqs == 20001);
    s_pump (3 * HB_MS);
    CHECK (hpo_session_unacked (s_session) == 0);
    s_stop ();
}

//  trial.grace 0 is no grace: a program that ignores SIGTERM is killed at
//  its timeout, not 10 s later (issue #10, item 9).
static void
test_no_grace (void)
{
    s_start (1);
    int64_t t0 = hpo_clock_mono_ms ();
    s_send_assign (22, "trap '' TERM; echo $$ > pid22; sleep 30", 1, 300, 0,
                   NULL);
    hpo_env_t *fin = s_take (HPO__ENVELOPE__BODY_FINISH, 15000);
    int64_t took = hpo_clock_mono_ms () - t0;
    CHECK (fin);
    if (fin) {
        CHECK_STR (fin->finish->reason, "timeout after 0.3s");
        CHECK (WIFSIGNALED (fin->finish->exit_status) &&
               WTERMSIG (fin->finish->exit_status) == SIGKILL);
        s_send_ack (fin->seq);
    }
    CHECK (took >= 250 && took < 2500);
    CHECK (s_group_gone ("pid22", 3000));
    hpo_wire_free (&fin);
    s_stop ();
}

//  SIGTERM: a Goodbye names the attempt being stopped, after the Finish
//  of one that ended before the stop; both are resent until acknowledged,
//  in order, and then the session ends without waiting out its flush time.
static void
test_goodbye (void)
{
    sigset_t mask, old;
    sigemptyset (&mask);
    sigaddset (&mask, SIGTERM);
    sigprocmask (SIG_BLOCK, &mask, &old);
    int sfd = signalfd (-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    CHECK (sfd >= 0);
    s_start_with (2, 0, sfd);
    s_send_assign (23, "echo loss=1 >&3", 1, 0, 200, NULL);
    hpo_env_t *report = s_take (HPO__ENVELOPE__BODY_REPORT, 5000);
    CHECK (report);
    if (report)
        s_send_ack (report->seq);
    hpo_wire_free (&report);
    hpo_env_t *fin = s_take (HPO__ENVELOPE__BODY_FINISH, 5000);
    CHECK (fin && fin->finish->trial_id == 123);
    s_send_assign (24, "echo $$ > pid24; sleep 30", 1, 0, 200, NULL);
    int64_t until = hpo_clock_mono_ms () + 5000;
    while (!s_exists ("pid24") && hpo_clock_mono_ms () < until)
        s_pump (10);
    s_n_arrivals = 0;
    int64_t t0 = hpo_clock_mono_ms ();
    raise (SIGTERM);
    hpo_env_t *bye = s_take (HPO__ENVELOPE__BODY_GOODBYE, 2000);
    CHECK (bye);
    if (bye) {
        CHECK (bye->goodbye->n_leases == 1 &&
               bye->goodbye->leases[0]->trial_id == 124 &&
               bye->goodbye->leases[0]->attempt == 1);
        CHECK_STR (bye->goodbye->reason, "worker stopping (SIGTERM)");
        CHECK (fin && bye->seq > fin->seq);
        //  Not acknowledged: it comes again, after the Finish.
        hpo_env_t *again =
            s_take_seq (HPO__ENVELOPE__BODY_GOODBYE, bye->seq, 1000);
        CHECK (again);
        hpo_wire_free (&again);
        size_t fin_at = s_n_arrivals, bye_at = s_n_arrivals;
        for (size_t k = 0; k < s_n_arrivals; k++) {
            if (fin && s_arrivals[k].seq == fin->seq && fin_at == s_n_arrivals)
                fin_at = k;
            if (s_arrivals[k].seq == bye->seq && k > fin_at)
                bye_at = k;
        }
        CHECK (fin_at < bye_at && bye_at < s_n_arrivals);
        s_send_ack (bye->seq);
    }
    if (fin)
        s_send_ack (fin->seq);
    until = hpo_clock_mono_ms () + 3000;
    while (!hpo_session_finished (s_session) && hpo_clock_mono_ms () < until)
        s_pump (10);
    CHECK (hpo_session_finished (s_session));
    CHECK (!hpo_session_failed (s_session));
    //  Done once acknowledged and the trial is gone: well within the
    //  flush time (the trial's grace is 0.2 s).
    CHECK (hpo_clock_mono_ms () - t0 < HPO_SESSION_FLUSH_MS);
    CHECK (s_count (HPO__ENVELOPE__BODY_FINISH) == 0 ||
           s_take (HPO__ENVELOPE__BODY_FINISH, 0)->finish->trial_id == 123);
    CHECK (s_group_gone ("pid24", 3000));
    hpo_wire_free (&fin);
    hpo_wire_free (&bye);
    s_stop ();
    close (sfd);
    sigprocmask (SIG_SETMASK, &old, NULL);
}

//  A Hello refused as invalid is final: the session fails at once instead
//  of saying Hello for ever. An ERR_INVALID that answers something else
//  is not. Hello carries the process's incarnation and start time.
static void
test_hello_refused (void)
{
    s_router_new ("tcp://127.0.0.1:*");
    hpo_session_config_t config = {.endpoint = s_endpoint,
                                   .name = "test-worker",
                                   .slots = 1,
                                   .state_dir = s_dir,
                                   .signal_fd = -1};
    s_session = hpo_session_new (&config);
    CHECK (s_session);
    hpo_env_t *hello = s_take (HPO__ENVELOPE__BODY_HELLO, 5000);
    CHECK (hello);
    if (!hello) {
        hpo_session_destroy (&s_session);
        zsock_destroy (&s_router);
        return;
    }
    CHECK (hello->hello->incarnation != 0);
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    uint64_t now_us = (uint64_t)ts.tv_sec * 1000000u;
    CHECK (hello->hello->started_us <= now_us + 1000000u &&
           hello->hello->started_us + 600000000u > now_us);
    static uint64_t incarnation;
    incarnation = hello->hello->incarnation;
    s_send_error_to (HPO__ERROR_CODE__ERR_INVALID, hello->seq + 1000,
                     "heartbeat: too many leases");
    s_pump (200);
    CHECK (!hpo_session_finished (s_session));
    s_send_error_to (HPO__ERROR_CODE__ERR_INVALID, hello->seq,
                     "hello: name must be 1-255 bytes");
    int64_t until = hpo_clock_mono_ms () + 3000;
    while (!hpo_session_finished (s_session) && hpo_clock_mono_ms () < until)
        s_pump (10);
    CHECK (hpo_session_finished (s_session));
    CHECK (hpo_session_failed (s_session));
    CHECK (hpo_session_run (s_session) == -1);
    hpo_wire_free (&hello);
    hpo_session_destroy (&s_session);
    s_inbox_clear ();
    zsock_destroy (&s_router);

    //  One incarnation a process, whatever its sessions.
    s_start (1);
    hpo_session_stop (s_session);
    hello = NULL;
    zsock_t *first_router = s_router;
    s_router_new ("tcp://127.0.0.1:*");
    hpo_session_config_t again = {.endpoint = s_endpoint,
                                  .name = "w2",
                                  .slots = 1,
                                  .state_dir = s_dir,
                                  .signal_fd = -1};
    hpo_session_t *second = hpo_session_new (&again);
    hpo_session_t *first = s_session;
    s_session = second;
    hello = s_take (HPO__ENVELOPE__BODY_HELLO, 5000);
    CHECK (hello && hello->hello->incarnation == incarnation);
    hpo_wire_free (&hello);
    hpo_session_destroy (&second);
    s_inbox_clear ();
    zsock_destroy (&s_router);
    s_session = first;
    hpo_session_destroy (&s_session);
    zsock_destroy (&first_router);
}

//  ERR_REPLACED: a newer process took our name. The session stops its
//  trials and fails, without waiting for acknowledgements.
static void
test_replaced (void)
{
    s_start (1);
    s_send_assign (25,
                   "trap '' TERM; echo $$ > pid25; echo step=1 loss=1 >&3; "
                   "sleep 30",
                   1, 0, 200, NULL);
    hpo_env_t *r = s_take (HPO__ENVELOPE__BODY_REPORT, 5000);
    CHECK (r); //  left unacknowledged
    hpo_wire_free (&r);
    int64_t t0 = hpo_clock_mono_ms ();
    s_send_error_to (HPO__ERROR_CODE__ERR_REPLACED, 0,
                     "a newer worker process took this name");
    int64_t until = t0 + 3000;
    while (!hpo_session_finished (s_session) && hpo_clock_mono_ms () < until)
        s_pump (10);
    CHECK (hpo_session_finished (s_session));
    CHECK (hpo_session_failed (s_session));
    CHECK (hpo_clock_mono_ms () - t0 < 1500);
    CHECK (s_count (HPO__ENVELOPE__BODY_GOODBYE) == 0);
    hpo_session_destroy (&s_session);
    CHECK (s_group_gone ("pid25", 3000));
    s_inbox_clear ();
    zsock_destroy (&s_router);
}

int
main (void)
{
    if (t_proc_setup (s_dir, sizeof s_dir, "session") < 0)
        return 1;
    //  The trials write their pid files into the test's directory.
    if (chdir (s_dir) < 0) {
        perror ("chdir");
        return 1;
    }
    test_complete ();
    test_failures ();
    test_reasons ();
    test_kill ();
    test_busy_and_hello ();
    test_restart ();
    test_fast_reports ();
    test_backpressure ();
    test_no_grace ();
    test_goodbye ();
    test_hello_refused ();
    test_replaced ();

    t_proc_cleanup (s_dir);
    TEST_DONE ();
}
