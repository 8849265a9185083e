/*  hpo-bench-load: a load generator that speaks the worker protocol to a
    real coordinator over its socket, from many sessions in one process.

    throughput mode: each session asks for a trial, sends one report and a
    finish, waits for the finish's acknowledgement (which the coordinator
    sends only after the commit), and asks again. Prints trials per second
    and the time from asking to being handed a trial.

    heartbeat mode: each session takes one trial and holds it, heartbeating
    at the coordinator's interval, for --duration seconds. Prints the
    heartbeat-to-acknowledgement delays and whether any lease was lost
    (a Kill, or a trial not RUNNING at its first attempt at the end).

    reports mode: report ingestion with the median pruner on. Each session
    runs trials of --steps steps, streaming one report a step with up to
    S_WINDOW unacknowledged (as a worker's outbox would), and finishes the
    trial once every report is acknowledged; a Kill is the pruner's
    decision, and the session asks for the next trial. Prints the reports
    acknowledged (so durably committed) per second over --duration
    seconds, after the first S_WARMUP_S.                                  */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "../common/clock.h"
#include "../common/sock.h"
#include "../common/wire.h"

typedef struct {
    void *sock;
    uint64_t seq;
    int welcomed;
    uint64_t trial_id;
    uint32_t attempt;
    uint64_t finish_seq;
    int64_t asked_us; //  when it last asked for a trial
    int64_t hb_due_ms;
    uint64_t hb_seq; //  seq of the heartbeat awaiting its ack
    int64_t hb_sent_us;
    int holding;
    //  reports mode: the trial's next step, and the seqs of the reports
    //  not acknowledged yet (a ring, at most S_WINDOW).
    int streaming;
    int64_t step;
    uint64_t unacked[64];
    int n_unacked;
    double level; //  the trial's loss scale: some trials are worse
} s_session_t;

#define S_WINDOW 16
#define S_WARMUP_S 2.0

static int64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

typedef struct {
    int64_t *v;
    size_t n, cap;
} s_samples_t;

static void
s_sample (s_samples_t *s, int64_t x)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->v = realloc (s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = x;
}

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t
s_pct (s_samples_t *s, double p)
{
    if (!s->n)
        return 0;
    size_t k = (size_t)(p * (double)(s->n - 1));
    return s->v[k];
}

static hpo_env_t *
s_request (void *sock, hpo_env_t *env, int timeout_ms)
{
    hpo_wire_send (sock, NULL, 0, env);
    zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&item, 1, timeout_ms) <= 0)
        return NULL;
    hpo_wire_status_t st;
    return hpo_wire_recv (sock, NULL, &st);
}

static void
s_send_hb (s_session_t *s, uint32_t free_slots)
{
    hpo_wire_msg_t msg;
    hpo_wire_heartbeat (&msg, ++s->seq, free_slots);
    if (s->holding)
        hpo_wire_lease_add (&msg, s->trial_id, s->attempt);
    s->hb_seq = s->seq;
    s->hb_sent_us = s_now_us ();
    hpo_wire_send (s->sock, NULL, 0, &msg.env);
    hpo_wire_msg_done (&msg);
}

static void
s_send_result (s_session_t *s)
{
    hpo_wire_msg_t msg;
    hpo_wire_report (&msg, ++s->seq, s->trial_id, s->attempt, 1, 0);
    hpo_wire_metric_add (&msg, "loss", 0.5);
    hpo_wire_send (s->sock, NULL, 0, &msg.env);
    hpo_wire_msg_done (&msg);
    hpo_wire_finish_t f = {
        .trial_id = s->trial_id,
        .attempt = s->attempt,
        .outcome = HPO__OUTCOME__OUTCOME_COMPLETE,
        .has_value = 1,
        .value = 0.5,
        //  Ask for the next trial in the same message, as hpo-worker does.
        .asks = 1,
        .free = 1,
    };
    s->asked_us = s_now_us ();
    hpo_wire_finish (&msg, ++s->seq, &f);
    s->finish_seq = s->seq;
    hpo_wire_send (s->sock, NULL, 0, &msg.env);
    hpo_wire_msg_done (&msg);
}

//  reports mode: sends reports while the window has room; at the last
//  step, with everything acknowledged, finishes and asks for more.
static void
s_stream (s_session_t *s, int64_t steps)
{
    while (s->streaming && s->step < steps && s->n_unacked < S_WINDOW) {
        hpo_wire_msg_t msg;
        hpo_wire_report (&msg, ++s->seq, s->trial_id, s->attempt, 1,
                         s->step);
        //  A learning curve: falls with the step, scaled per trial.
        double loss = s->level * (1.0 + 4.0 / (double)(s->step + 1));
        hpo_wire_metric_add (&msg, "loss", loss);
        hpo_wire_send (s->sock, NULL, 0, &msg.env);
        hpo_wire_msg_done (&msg);
        s->unacked[s->n_unacked++] = s->seq;
        s->step++;
    }
    if (s->streaming && s->step >= steps && s->n_unacked == 0) {
        s->streaming = 0;
        hpo_wire_finish_t f = {
            .trial_id = s->trial_id,
            .attempt = s->attempt,
            .outcome = HPO__OUTCOME__OUTCOME_COMPLETE,
            .has_value = 1,
            .value = s->level,
            .asks = 1,
            .free = 1,
        };
        hpo_wire_msg_t msg;
        hpo_wire_finish (&msg, ++s->seq, &f);
        hpo_wire_send (s->sock, NULL, 0, &msg.env);
        hpo_wire_msg_done (&msg);
    }
}

//  reports mode: an acknowledgement of one of the session's reports.
static int
s_acked_report (s_session_t *s, uint64_t seq)
{
    for (int k = 0; k < s->n_unacked; k++)
        if (s->unacked[k] == seq) {
            s->unacked[k] = s->unacked[--s->n_unacked];
            return 1;
        }
    return 0;
}

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "Usage: hpo-bench-load --coordinator EP [options]\n"
        "  --mode throughput|heartbeat|reports   (default throughput)\n"
        "  --sessions N     worker sessions, one DEALER each (default 16)\n"
        "  --trials N       throughput: trials to run (default 20000)\n"
        "  --duration S     heartbeat: seconds to hold leases; reports:\n"
        "                   seconds to measure (default 30)\n"
        "  --steps N        reports: steps per trial (default 100)\n"
        "  --study NAME     study name (default bench-PID)\n"
        "Prints one line of key=value results.\n");
}

int
main (int argc, char **argv)
{
    const char *endpoint = NULL, *mode = "throughput";
    int sessions = 16;
    long trials = 20000;
    double duration = 30;
    long steps = 100;
    char study[128];
    snprintf (study, sizeof study, "bench-%d", (int)getpid ());
    static const struct option options[] = {
        {"coordinator", required_argument, NULL, 'c'},
        {"mode", required_argument, NULL, 'm'},
        {"sessions", required_argument, NULL, 's'},
        {"trials", required_argument, NULL, 't'},
        {"duration", required_argument, NULL, 'd'},
        {"study", required_argument, NULL, 'n'},
        {"steps", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'c':
            endpoint = optarg;
            break;
        case 'm':
            mode = optarg;
            break;
        case 's':
            sessions = atoi (optarg);
            break;
        case 't':
            trials = atol (optarg);
            break;
        case 'd':
            duration = atof (optarg);
            break;
        case 'n':
            snprintf (study, sizeof study, "%s", optarg);
            break;
        case 'S':
            steps = atol (optarg);
            break;
        case 'h':
            s_usage (stdout);
            return 0;
        default:
            s_usage (stderr);
            return 2;
        }
    }
    int heartbeat_mode = strcmp (mode, "heartbeat") == 0;
    int reports_mode = strcmp (mode, "reports") == 0;
    if (!endpoint || sessions < 1 || trials < 1 || steps < 1 ||
        (!heartbeat_mode && !reports_mode &&
         strcmp (mode, "throughput") != 0)) {
        s_usage (stderr);
        return 2;
    }
    //  Thousands of sockets need thousands of descriptors.
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit (RLIMIT_NOFILE, &rl);
    }
    char *error = NULL;
    void *ctx = hpo_sock_ctx_new (&error);
    if (!ctx) {
        fprintf (stderr, "hpo-bench-load: %s\n", error);
        return 1;
    }
    zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, sessions + 64);

    //  Create the study through the same socket API the CLI uses. The
    //  sessions too are client sockets: they measure the coordinator, not
    //  a worker's reconnect and heartbeat options.
    //  CURVE keys from the environment (bench/run.py --keys): one key
    //  that holds the worker and client roles.
    hpo_keys_t keys_buf, *keys = NULL;
    const char *secret = getenv ("HPO_CURVE_SECRET");
    const char *server = getenv ("HPO_SERVER_KEY");
    if (secret && *secret && server && *server) {
        if (hpo_keys_load (&keys_buf, secret, server, &error)) {
            fprintf (stderr, "hpo-bench-load: %s\n", error);
            return 1;
        }
        keys = &keys_buf;
    }
    void *cli =
        hpo_sock_open_keys (ctx, HPO_SOCK_CLIENT, endpoint, keys, NULL, &error);
    if (!cli) {
        fprintf (stderr, "hpo-bench-load: %s\n", error);
        return 1;
    }
    char spec[1024];
    snprintf (spec, sizeof spec,
              "name: %s\ncommand: true\nobjective: {metric: loss}\n"
              "sampler: {type: random, seed: 1}\n"
              "budget: {trials: %ld}\ntrial: {retries: 0}\n"
              "%s"
              "space: {x: {type: float, low: 0, high: 1}}\n",
              study,
              heartbeat_mode ? (long)sessions
              : reports_mode ? 100000000L
                             : trials,
              reports_mode ? "pruner: {type: median, n_startup_trials: 5}\n"
                           : "");
    hpo_wire_msg_t msg;
    hpo_wire_study_create (&msg, 1, "bench", spec);
    hpo_env_t *reply = s_request (cli, &msg.env, 10000);
    if (!reply || reply->body_case != HPO__ENVELOPE__BODY_OK) {
        fprintf (stderr, "hpo-bench-load: study create failed: %s\n",
                 reply && reply->body_case == HPO__ENVELOPE__BODY_ERROR
                     ? reply->error->message
                     : "no answer");
        return 1;
    }
    hpo_wire_free (&reply);

    s_session_t *ss = calloc ((size_t)sessions, sizeof *ss);
    zmq_pollitem_t *items = calloc ((size_t)sessions, sizeof *items);
    char name[64];
    for (int k = 0; k < sessions; k++) {
        ss[k].sock = hpo_sock_open_keys (ctx, HPO_SOCK_CLIENT, endpoint, keys,
                                         NULL, &error);
        if (!ss[k].sock) {
            fprintf (stderr, "hpo-bench-load: socket %d: %s\n", k, error);
            return 1;
        }
        items[k].socket = ss[k].sock;
        items[k].events = ZMQ_POLLIN;
        snprintf (name, sizeof name, "load-%d-%d", (int)getpid (), k);
        hpo_wire_hello (&msg, ++ss[k].seq, name, "bench", 1,
                        (uint32_t)getpid (), 0, 0);
        hpo_wire_send (ss[k].sock, NULL, 0, &msg.env);
    }

    s_samples_t hand_out = {0}, hb_delay = {0};
    long done = 0, kills = 0, welcomed = 0, holding = 0;
    long reports_acked = 0, reports_at_warmup = -1, trials_done = 0;
    int64_t warmup_us = 0;
    int64_t hb_ms = 1000;
    int64_t start_us = s_now_us (), first_done_us = 0;
    int64_t end_us = heartbeat_mode
                         ? start_us + (int64_t)(duration * 1e6) + 60000000
                     : reports_mode
                         ? start_us + (int64_t)((duration + S_WARMUP_S) * 1e6)
                         : INT64_MAX;
    int64_t hold_until_us = INT64_MAX;
    while (1) {
        int64_t now_us = s_now_us ();
        if (!heartbeat_mode && !reports_mode && done >= trials)
            break;
        if (reports_mode && reports_at_warmup < 0 &&
            now_us - start_us >= (int64_t)(S_WARMUP_S * 1e6)) {
            reports_at_warmup = reports_acked;
            warmup_us = now_us;
        }
        if (now_us > end_us || now_us > hold_until_us)
            break;
        if (!heartbeat_mode && !reports_mode &&
            now_us - start_us > 600 * 1000000LL) {
            fprintf (stderr, "hpo-bench-load: gave up after 600 s\n");
            break;
        }
        int64_t now_ms = now_us / 1000;
        if (heartbeat_mode)
            for (int k = 0; k < sessions; k++)
                if (ss[k].welcomed && now_ms >= ss[k].hb_due_ms) {
                    s_send_hb (&ss[k], ss[k].holding ? 0 : 1);
                    ss[k].hb_due_ms = now_ms + hb_ms;
                }
        if (zmq_poll (items, sessions, heartbeat_mode || reports_mode ? 10
                                                                       : 1000) <
            0)
            break;
        for (int k = 0; k < sessions; k++) {
            if (!(items[k].revents & ZMQ_POLLIN))
                continue;
            s_session_t *s = &ss[k];
            hpo_wire_status_t st;
            hpo_env_t *m;
            while ((m = hpo_wire_recv (s->sock, NULL, &st))) {
                //  Acknowledgements ride on any message.
                for (size_t a = 0; a < m->n_acks; a++) {
                    uint64_t seq = m->acks[a];
                    if (seq == s->hb_seq && s->hb_sent_us) {
                        if (heartbeat_mode && holding == sessions)
                            s_sample (&hb_delay, s_now_us () - s->hb_sent_us);
                        s->hb_sent_us = 0;
                    }
                    if (reports_mode && s_acked_report (s, seq))
                        reports_acked++;
                    if (!heartbeat_mode && seq == s->finish_seq) {
                        if (!first_done_us)
                            first_done_us = s_now_us ();
                        done++;
                    }
                }
                switch (m->body_case) {
                case HPO__ENVELOPE__BODY_WELCOME:
                    s->welcomed = 1;
                    welcomed++;
                    hb_ms = m->welcome->heartbeat_ms;
                    s->asked_us = s_now_us ();
                    s_send_hb (s, 1);
                    //  Spread heartbeats over the interval, as real
                    //  workers started at different times would.
                    s->hb_due_ms =
                        s_now_us () / 1000 + 1 + (int64_t)k * hb_ms / sessions;
                    break;
                case HPO__ENVELOPE__BODY_ASSIGN:
                    s->trial_id = m->assign->trial_id;
                    s->attempt = m->assign->attempt;
                    s_sample (&hand_out, s_now_us () - s->asked_us);
                    if (heartbeat_mode) {
                        s->holding = 1;
                        if (++holding == sessions)
                            hold_until_us =
                                s_now_us () + (int64_t)(duration * 1e6);
                    } else if (reports_mode) {
                        s->streaming = 1;
                        s->step = 0;
                        s->n_unacked = 0;
                        //  Each trial a little better than the ones
                        //  before, so the median pruner decides at every
                        //  report and lets it run; every tenth is clearly
                        //  worse, and is pruned.
                        s->level = 1.0 / (1.0 + (double)s->trial_id / 1e3);
                        if (s->trial_id % 10 == 0)
                            s->level *= 3.0;
                    } else
                        s_send_result (s);
                    break;
                case HPO__ENVELOPE__BODY_KILL:
                    kills++;
                    //  reports mode: the pruner stopped this trial; the
                    //  Kill carries the acknowledgements of its reports.
                    if (reports_mode && s->streaming &&
                        m->kill->trial_id == s->trial_id) {
                        s->streaming = 0;
                        s->n_unacked = 0;
                        s_send_hb (s, 1);
                    }
                    break;
                case HPO__ENVELOPE__BODY_ERROR:
                    fprintf (stderr, "hpo-bench-load: error: %s\n",
                             m->error->message);
                    break;
                default:
                    break;
                }
                hpo_wire_free (&m);
            }
            if (reports_mode) {
                int was = s->streaming;
                s_stream (s, steps);
                trials_done += was && !s->streaming;
            }
        }
    }
    int64_t elapsed_us = s_now_us () - start_us;
    qsort (hand_out.v, hand_out.n, sizeof (int64_t), s_cmp);
    qsort (hb_delay.v, hb_delay.n, sizeof (int64_t), s_cmp);
    if (reports_mode) {
        double secs = (double)(s_now_us () - warmup_us) / 1e6;
        long counted = reports_acked - (reports_at_warmup < 0 ? 0
                                                               : reports_at_warmup);
        printf ("mode=reports sessions=%d steps=%ld seconds=%.3f "
                "reports=%ld reports_per_s=%.0f pruned=%ld completed=%ld\n",
                sessions, steps, secs, counted,
                secs > 0 ? (double)counted / secs : 0.0, kills, trials_done);
    } else if (heartbeat_mode) {
        //  Every lease must still be held, at its first attempt.
        hpo_wire_study_show (&msg, 2, study);
        reply = s_request (cli, &msg.env, 10000);
        uint64_t running =
            reply && reply->body_case == HPO__ENVELOPE__BODY_STUDY_INFO
                ? reply->study_info->running
                : 0;
        hpo_wire_free (&reply);
        printf ("mode=heartbeat sessions=%d held=%ld heartbeats=%zu "
                "ack_p50_ms=%.2f ack_p99_ms=%.2f ack_max_ms=%.2f kills=%ld "
                "running_at_end=%" PRIu64 " leases_lost=%ld\n",
                sessions, holding, hb_delay.n, s_pct (&hb_delay, 0.5) / 1e3,
                s_pct (&hb_delay, 0.99) / 1e3,
                hb_delay.n ? hb_delay.v[hb_delay.n - 1] / 1e3 : 0.0, kills,
                running, (long)sessions - (long)running + kills);
    } else {
        //  Throughput over the steady part: from the first finished trial
        //  on, so connection set-up is not counted.
        double secs = (double)(s_now_us () - first_done_us) / 1e6;
        printf ("mode=throughput sessions=%d trials=%ld seconds=%.3f "
                "trials_per_s=%.0f handout_p50_us=%" PRId64
                " handout_p99_us=%" PRId64 "\n",
                sessions, done, (double)elapsed_us / 1e6,
                done > 1 && secs > 0 ? (double)(done - 1) / secs : 0.0,
                s_pct (&hand_out, 0.5), s_pct (&hand_out, 0.99));
    }
    for (int k = 0; k < sessions; k++)
        hpo_sock_close (&ss[k].sock);
    hpo_sock_close (&cli);
    hpo_sock_ctx_destroy (&ctx);
    free (ss);
    free (items);
    free (hand_out.v);
    free (hb_delay.v);
    return done >= trials || heartbeat_mode || reports_mode ? 0 : 1;
}
