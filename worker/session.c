#include "session.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/command.h"
#include "common/endpoint.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/names.h"
#include "common/params.h"
#include "common/utf8.h"
#include "common/wire.h"
#include "report.h"
#include "runner.h"

//  Until the first Welcome we do not know the heartbeat interval.
#define S_DEFAULT_HEARTBEAT_MS 1000
//  No Welcome this long after a Hello: the Hello was lost (the coordinator
//  died with it unread), so say it again, backing off to one a minute:
//  while the coordinator is unreachable each Hello waits in the queue, and
//  all of them are delivered when it comes back.
#define S_HELLO_RETRY_MS 5000
#define S_HELLO_RETRY_MAX_MS 60000
//  At most one Hello a second, however many "unknown session" errors
//  arrive (one comes back for every message queued while we were away).
#define S_HELLO_MIN_MS HPO_WIRE_HELLO_MIN_MS
//  Finish.log_tail.
#define S_LOG_TAIL 4096
//  Fairness between trials and the socket within one step.
#define S_READ_PER_STEP (256 * 1024)
#define S_RECV_PER_STEP 1000
//  After the shim exited: what we still read from a report pipe that a
//  process which escaped the shim may hold open and keep writing to. The
//  program's own unread lines are at most a pipe's capacity.
#define S_DRAIN_MAX (4 * 1024 * 1024)

//  What becomes of an attempt when its process group is gone.
typedef enum {
    S_RUN,      //  running: Finish by its exit status
    S_TIMEOUT,  //  stopped for its timeout: Finish FAILED
    S_DROP,     //  killed on the coordinator's order: no Finish
    S_SHUTDOWN, //  stopped because the worker stops: no Finish
} s_fate_t;

typedef struct {
    uint64_t trial_id;
    uint32_t attempt;
    char *tag; //  "trial mnist#12 attempt 2", for log lines
    char *objective;
    hpo_runner_t *runner;
    hpo_report_buf_t *lines;
    s_fate_t fate;
    int64_t started_ms;
    int64_t deadline_ms; //  0: no timeout
    uint64_t timeout_ms;
    char *log_path;
    int has_value; //  the objective's last reported value
    double value;
    size_t bad_lines;
    int exited;     //  the shim is reaped: the program and its tree are gone
    int eof;        //  the report stream is over (read to its end)
    int pending;    //  complete lines wait for room in the outbox
    size_t drained; //  bytes read after the shim exited
} s_trial_t;

typedef enum {
    S_OUT_REPORT,
    S_OUT_FINISH,
    S_OUT_GOODBYE,
} s_kind_t;

//  A Report, Finish or Goodbye until it is acknowledged, packed once so
//  every resend is the same bytes with the same seq.
typedef struct {
    uint64_t seq;
    uint64_t trial_id; //  Report and Finish only
    uint32_t attempt;
    s_kind_t kind;
    uint8_t *data; //  NULL once acknowledged or dropped
    size_t size;
    int64_t sent_ms; //  last sent; -1: never
} s_out_t;

struct _hpo_session_t {
    void *ctx;
    void *dealer;
    char *endpoint;
    char *name;
    char *host;
    char *state_dir;
    uint32_t slots;
    int signal_fd;
    s_trial_t **trials; //  [slots]; NULL: free slot
    //  The outbox, in seq order; acknowledged entries are left as holes
    //  and compacted away in bulk. Entries before out_next have been sent
    //  in the current round; the rest wait for room in the socket's queue.
    s_out_t *out;
    size_t n_out, cap_out, live_out, out_next;
    size_t out_max, out_low; //  backpressure: stop reading, resume
    int paused;              //  reports are not read (s_out_paused)
    uint64_t seq;
    uint32_t heartbeat_ms;
    uint32_t lease_ms;
    int welcomed;           //  a Welcome came after our latest Hello
    int64_t hello_ms;       //  when the latest Hello went out
    int hello_wanted;       //  the coordinator does not know us
    int64_t hello_retry_ms; //  current wait for a Welcome
    int64_t next_heartbeat;
    int stopping;
    int64_t stop_deadline;
    int finished;
    int failed;  //  a fatal answer from the coordinator: exit 1
    int abandon; //  failed: do not wait for the outbox to flush
    //  Recent Hellos' seqs: an error answering one is about the Hello.
    uint64_t hello_seqs[8];
    uint64_t incarnation;
    uint64_t started_us;
    uint64_t bad_messages;
};

static void s_stop (hpo_session_t *self, const char *reason);
static void s_fail (hpo_session_t *self);

//  ---- small helpers ---------------------------------------------------------

//  mkdir -p. Returns 0, or -1 with errno set.
static int
s_mkdirs (const char *path)
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

//  The last S_LOG_TAIL bytes of the log, as clean UTF-8; "" if unreadable.
static char *
s_log_tail (const char *path)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hpo_strdup ("");
    char *text = hpo_malloc (S_LOG_TAIL + 1);
    size_t len = 0;
    struct stat st;
    if (fstat (fd, &st) == 0) {
        off_t from = st.st_size > S_LOG_TAIL ? st.st_size - S_LOG_TAIL : 0;
        ssize_t n;
        do
            n = pread (fd, text, S_LOG_TAIL, from);
        while (n < 0 && errno == EINTR);
        if (n > 0)
            len = (size_t)n;
        //  The cut may fall inside a character: start at the next one.
        if (from > 0) {
            size_t skip = 0;
            while (skip < len && skip < 3 &&
                   ((unsigned char)text[skip] & 0xc0) == 0x80)
                skip++;
            memmove (text, text + skip, len - skip);
            len -= skip;
        }
    }
    close (fd);
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

//  A study name goes into paths: it must be what spec.h allows.
static int
s_study_ok (const char *name)
{
    return hpo_name_study_ok (name);
}

//  A parameter name goes into a variable name.
static int
s_param_name_ok (const char *name)
{
    return hpo_name_param_ok (name);
}

//  ---- the outbox ------------------------------------------------------------

static int
s_send (hpo_session_t *self, const hpo_env_t *env)
{
    if (hpo_wire_send (self->dealer, NULL, 0, env) < 0) {
        //  Full queue (high-water mark): heartbeats and hellos are
        //  replaced by the next; outbox entries are resent.
        hpo_log_debug ("send: %s", zmq_strerror (errno));
        return -1;
    }
    return 0;
}

static void
s_out_forget (hpo_session_t *self, s_out_t *m)
{
    hpo_free (&m->data);
    self->live_out--;
}

static void
s_out_compact (hpo_session_t *self)
{
    size_t holes = self->n_out - self->live_out;
    if (holes < 64 || holes * 2 < self->n_out)
        return;
    size_t n = 0, next = 0;
    for (size_t k = 0; k < self->n_out; k++) {
        if (k == self->out_next)
            next = n;
        if (self->out[k].data)
            self->out[n++] = self->out[k];
    }
    self->out_next = self->out_next >= self->n_out ? n : next;
    self->n_out = n;
}

//  Sends, oldest first, what the current round has not sent yet, until
//  the socket's queue is full; the loop then polls for room and calls
//  this again. Never skips a message: nothing overtakes an older one.
static void
s_out_pump (hpo_session_t *self, int64_t now)
{
    while (self->out_next < self->n_out) {
        s_out_t *m = &self->out[self->out_next];
        if (m->data) {
            if (zmq_send (self->dealer, m->data, m->size, ZMQ_DONTWAIT) < 0) {
                if (errno != EAGAIN)
                    hpo_log_debug ("send seq %" PRIu64 ": %s", m->seq,
                                   zmq_strerror (errno));
                return;
            }
            m->sent_ms = now;
        }
        self->out_next++;
    }
}

//  Messages of the current round still to send.
static int
s_out_backlog (const hpo_session_t *self)
{
    return self->out_next < self->n_out;
}

//  Packs env (seq set here) into the outbox and sends it in its turn.
static void
s_out_queue (hpo_session_t *self, hpo_env_t *env, uint64_t trial_id,
             uint32_t attempt, s_kind_t kind, int64_t now)
{
    s_out_compact (self);
    env->seq = ++self->seq;
    if (self->n_out == self->cap_out) {
        self->cap_out = self->cap_out ? self->cap_out * 2 : 64;
        self->out = hpo_realloc (self->out, self->cap_out * sizeof (s_out_t));
    }
    s_out_t *m = &self->out[self->n_out++];
    memset (m, 0, sizeof *m);
    m->seq = env->seq;
    m->trial_id = trial_id;
    m->attempt = attempt;
    m->kind = kind;
    m->sent_ms = -1;
    m->data = hpo_wire_encode (env, &m->size);
    self->live_out++;
    s_out_pump (self, now);
}

//  Starts a new round: everything unacknowledged goes out again, oldest
//  first. If all, at once (right after a Hello); otherwise only once the
//  current round is complete and the oldest message has waited a
//  heartbeat for its Ack. Within a round messages are sent in seq order,
//  so resends never let a Finish overtake its attempt's Reports.
static void
s_out_resend (hpo_session_t *self, int64_t now, int all)
{
    if (!all) {
        if (s_out_backlog (self))
            return;
        size_t k = 0;
        while (k < self->n_out && !self->out[k].data)
            k++;
        if (k == self->n_out ||
            self->out[k].sent_ms + (int64_t)self->heartbeat_ms > now)
            return;
    }
    self->out_next = 0;
    s_out_pump (self, now);
}

//  Whether reading the trials' reports waits for the outbox to drain:
//  from the moment it holds out_max messages until it is down to out_low.
static int
s_out_paused (hpo_session_t *self)
{
    if (self->paused && self->live_out <= self->out_low)
        self->paused = 0;
    else if (!self->paused && self->live_out >= self->out_max)
        self->paused = 1;
    return self->paused;
}

static void
s_out_ack (hpo_session_t *self, uint64_t seq)
{
    size_t lo = 0, hi = self->n_out;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->out[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < self->n_out && self->out[lo].seq == seq && self->out[lo].data)
        s_out_forget (self, &self->out[lo]);
    else
        //  A second Ack for a resent message, or one for a heartbeat.
        hpo_log_debug ("ack for seq %" PRIu64 ": nothing waits for it", seq);
}

//  Forgets what an attempt the coordinator refused still had to say.
static void
s_out_drop_attempt (hpo_session_t *self, uint64_t trial_id, uint32_t attempt)
{
    for (size_t k = 0; k < self->n_out; k++) {
        s_out_t *m = &self->out[k];
        if (m->data && m->kind != S_OUT_GOODBYE && m->trial_id == trial_id &&
            m->attempt == attempt)
            s_out_forget (self, m);
    }
}

//  ---- session messages ------------------------------------------------------

static int
s_holds_lease (const s_trial_t *t)
{
    return t && (t->fate == S_RUN || t->fate == S_TIMEOUT);
}

size_t
hpo_session_busy (const hpo_session_t *self)
{
    size_t n = 0;
    for (uint32_t k = 0; k < self->slots; k++)
        if (self->trials[k])
            n++;
    return n;
}

size_t
hpo_session_unacked (const hpo_session_t *self)
{
    return self->live_out;
}

static void
s_send_hello (hpo_session_t *self, int64_t now)
{
    //  Running attempts and finished ones whose Finish is unacknowledged.
    size_t cap = self->slots + self->live_out;
    Hpo__Lease *leases = hpo_calloc (cap, sizeof (Hpo__Lease));
    Hpo__Lease **lease_ps = hpo_calloc (cap, sizeof (Hpo__Lease *));
    size_t n = 0;
    for (uint32_t k = 0; k < self->slots; k++)
        if (s_holds_lease (self->trials[k])) {
            hpo__lease__init (&leases[n]);
            leases[n].trial_id = self->trials[k]->trial_id;
            leases[n].attempt = self->trials[k]->attempt;
            lease_ps[n] = &leases[n];
            n++;
        }
    for (size_t k = 0; k < self->n_out; k++)
        if (self->out[k].data && self->out[k].kind == S_OUT_FINISH) {
            hpo__lease__init (&leases[n]);
            leases[n].trial_id = self->out[k].trial_id;
            leases[n].attempt = self->out[k].attempt;
            lease_ps[n] = &leases[n];
            n++;
        }
    Hpo__Hello hello;
    hpo__hello__init (&hello);
    hello.name = self->name;
    hello.host = self->host;
    hello.slots = self->slots;
    hello.pid = (uint32_t)getpid ();
    hello.n_leases = n;
    hello.leases = lease_ps;
    hello.incarnation = self->incarnation;
    hello.started_us = self->started_us;
    hpo_env_t env;
    hpo_wire_init (&env, ++self->seq);
    env.body_case = HPO__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    s_send (self, &env);
    size_t ring = sizeof self->hello_seqs / sizeof self->hello_seqs[0];
    memmove (self->hello_seqs + 1, self->hello_seqs,
             (ring - 1) * sizeof self->hello_seqs[0]);
    self->hello_seqs[0] = env.seq;
    free (lease_ps);
    free (leases);
    self->hello_ms = now;
    self->hello_wanted = 0;
    self->welcomed = 0;
    hpo_log_debug ("hello to %s (%zu leases)", self->endpoint, n);
    //  A restarted coordinator has not seen what we kept: it gets it right
    //  after the Hello, on the same connection, so in order.
    s_out_resend (self, now, 1);
}

static void
s_send_heartbeat (hpo_session_t *self, int64_t now)
{
    //  Running attempts, and ended ones whose Finish still waits in the
    //  outbox, never sent: the heartbeat would overtake it.
    size_t cap = self->slots;
    for (size_t k = self->out_next; k < self->n_out; k++)
        if (self->out[k].data && self->out[k].kind == S_OUT_FINISH &&
            self->out[k].sent_ms < 0)
            cap++;
    Hpo__Lease *leases = hpo_calloc (cap, sizeof (Hpo__Lease));
    Hpo__Lease **lease_ps = hpo_calloc (cap, sizeof (Hpo__Lease *));
    size_t n = 0;
    for (uint32_t k = 0; k < self->slots; k++)
        if (s_holds_lease (self->trials[k])) {
            hpo__lease__init (&leases[n]);
            leases[n].trial_id = self->trials[k]->trial_id;
            leases[n].attempt = self->trials[k]->attempt;
            lease_ps[n] = &leases[n];
            n++;
        }
    for (size_t k = self->out_next; k < self->n_out && n < cap; k++) {
        const s_out_t *m = &self->out[k];
        if (m->data && m->kind == S_OUT_FINISH && m->sent_ms < 0) {
            hpo__lease__init (&leases[n]);
            leases[n].trial_id = m->trial_id;
            leases[n].attempt = m->attempt;
            lease_ps[n] = &leases[n];
            n++;
        }
    }
    Hpo__Heartbeat hb;
    hpo__heartbeat__init (&hb);
    hb.n_leases = n;
    hb.leases = lease_ps;
    //  A stopping worker takes no more work. A slot whose attempt is
    //  still dying is not free: its GPU is still in use.
    hb.free =
        self->stopping ? 0 : self->slots - (uint32_t)hpo_session_busy (self);
    hpo_env_t env;
    hpo_wire_init (&env, ++self->seq);
    env.body_case = HPO__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    s_send (self, &env);
    free (lease_ps);
    free (leases);
    self->next_heartbeat = now + self->heartbeat_ms;
}

//  ---- trials ----------------------------------------------------------------

static void
s_trial_destroy (s_trial_t **t_p)
{
    s_trial_t *t = *t_p;
    if (!t)
        return;
    hpo_runner_destroy (&t->runner);
    hpo_report_buf_destroy (&t->lines);
    free (t->tag);
    free (t->objective);
    free (t->log_path);
    free (t);
    *t_p = NULL;
}

static s_trial_t *
s_trial_find (hpo_session_t *self, uint64_t trial_id, uint32_t attempt)
{
    for (uint32_t k = 0; k < self->slots; k++) {
        s_trial_t *t = self->trials[k];
        if (t && t->trial_id == trial_id && t->attempt == attempt)
            return t;
    }
    return NULL;
}

static void
s_bad_line (s_trial_t *t, const char *reason)
{
    //  A program that writes something else to the report descriptor
    //  would otherwise fill the log with one warning a line.
    if (t->bad_lines++ == 0)
        hpo_log_warnx ("%s: bad report line (%s); further bad lines are "
                       "only counted",
                       t->tag, reason);
}

//  Turns the complete lines buffered for t into Reports, as long as the
//  outbox has room. Returns 1 when no complete line is left, 0 when some
//  wait for room (t->pending).
static int
s_trial_lines (hpo_session_t *self, s_trial_t *t, int64_t now)
{
    //  A killed attempt's late lines would only be refused: they are
    //  read and dropped, whatever the outbox holds.
    int keep = s_holds_lease (t);
    const char *line;
    size_t len;
    int rc;
    t->pending = 0;
    for (;;) {
        if (keep && self->live_out >= self->out_max) {
            t->pending = 1;
            return 0;
        }
        rc = hpo_report_buf_next (t->lines, &line, &len);
        if (rc == 0)
            return 1;
        if (rc < 0) {
            s_bad_line (t, "line longer than 64 KiB");
            continue;
        }
        if (!keep)
            continue;
        hpo_report_t r;
        char *reason = NULL;
        if (hpo_report_parse (line, len, &r, &reason) < 0) {
            s_bad_line (t, reason);
            free (reason);
            continue;
        }
        if (r.n_metrics == 0)
            continue; //  blank line
        const double *v = hpo_report_metric (&r, t->objective);
        if (v) {
            t->has_value = 1;
            t->value = *v;
        }
        Hpo__Metric *metrics = hpo_calloc (r.n_metrics, sizeof *metrics);
        Hpo__Metric **metric_ps = hpo_calloc (r.n_metrics, sizeof *metric_ps);
        for (size_t k = 0; k < r.n_metrics; k++) {
            hpo__metric__init (&metrics[k]);
            metrics[k].name = r.metrics[k].name;
            metrics[k].value = r.metrics[k].value;
            metric_ps[k] = &metrics[k];
        }
        Hpo__Report report;
        hpo__report__init (&report);
        report.trial_id = t->trial_id;
        report.attempt = t->attempt;
        report.has_step = r.has_step;
        report.step = r.step;
        report.n_metrics = r.n_metrics;
        report.metrics = metric_ps;
        hpo_env_t env;
        hpo_wire_init (&env, 0);
        env.body_case = HPO__ENVELOPE__BODY_REPORT;
        env.report = &report;
        s_out_queue (self, &env, t->trial_id, t->attempt, S_OUT_REPORT, now);
        free (metric_ps);
        free (metrics);
        hpo_report_clear (&r);
    }
}

//  Reads up to max bytes of reports, and no more than the outbox has
//  room for: a program that reports faster than the coordinator takes
//  it waits on its write (backpressure). Returns 1 once the stream is
//  over and every line of it is queued.
static int
s_trial_read (hpo_session_t *self, s_trial_t *t, size_t max, int64_t now)
{
    static char buf[65536];
    size_t total = 0;
    while (!t->eof) {
        if (!s_trial_lines (self, t, now) || total >= max)
            return 0;
        ssize_t n = hpo_runner_read (t->runner, buf, sizeof buf);
        if (n < 0 && !t->exited)
            return 0; //  nothing more for now
        if (n > 0) {
            hpo_report_buf_feed (t->lines, buf, (size_t)n);
            total += (size_t)n;
            if (!t->exited || (t->drained += (size_t)n) <= S_DRAIN_MAX)
                continue;
            hpo_log_warnx ("%s: a process that escaped the trial keeps "
                           "writing reports: ignoring them after %d MiB",
                           t->tag, S_DRAIN_MAX >> 20);
        }
        //  End-of-file; or the program's whole tree is gone and the pipe
        //  is empty, so what is left is a process that escaped it and
        //  still holds the pipe open: it is no part of the attempt.
        t->eof = 1;
        hpo_report_buf_eof (t->lines);
    }
    return s_trial_lines (self, t, now);
}

static void
s_queue_finish (hpo_session_t *self, uint64_t trial_id, uint32_t attempt,
                Hpo__Finish *finish, int64_t now)
{
    finish->trial_id = trial_id;
    finish->attempt = attempt;
    hpo_env_t env;
    hpo_wire_init (&env, 0);
    env.body_case = HPO__ENVELOPE__BODY_FINISH;
    env.finish = finish;
    s_out_queue (self, &env, trial_id, attempt, S_OUT_FINISH, now);
}

//  The attempt's processes are gone and all it reported is queued: tell
//  the coordinator (unless it already decided) and free the slot.
static void
s_trial_end (hpo_session_t *self, uint32_t slot, int64_t now)
{
    s_trial_t *t = self->trials[slot];
    double runtime_s = (double)(now - t->started_ms) / 1000.0;
    if (t->bad_lines > 1)
        hpo_log_warnx ("%s: %zu bad report lines in all", t->tag, t->bad_lines);

    if (t->fate == S_DROP || t->fate == S_SHUTDOWN) {
        hpo_log_info ("%s: stopped after %.1fs", t->tag, runtime_s);
        s_trial_destroy (&self->trials[slot]);
        if (self->welcomed && !self->stopping)
            s_send_heartbeat (self, now); //  the slot is free again
        return;
    }
    int status;
    int known = hpo_runner_status (t->runner, &status);
    char *reason = NULL;
    if (!known) {
        char *how = hpo_runner_describe_status (status);
        reason = WIFEXITED (status) && WEXITSTATUS (status) == 125
                     ? hpo_strdup ("could not start the training process")
                     : hpo_sprintf ("process shim died (%s)", how);
        free (how);
    } else if (t->fate == S_TIMEOUT) {
        char *limit = s_seconds (t->timeout_ms);
        reason = hpo_sprintf ("timeout after %s", limit);
        free (limit);
    } else if (WIFEXITED (status) && WEXITSTATUS (status) == 0) {
        if (!t->has_value)
            reason =
                hpo_sprintf ("objective '%s' never reported", t->objective);
    } else
        reason = hpo_runner_describe_status (status);

    Hpo__Finish finish;
    hpo__finish__init (&finish);
    finish.exit_status = known ? status : -1;
    finish.runtime_s = runtime_s;
    char *tail = NULL;
    if (reason) {
        finish.outcome = HPO__OUTCOME__OUTCOME_FAILED;
        finish.reason = reason;
        tail = s_log_tail (t->log_path);
        finish.log_tail = tail;
        hpo_log_info ("%s: FAILED after %.1fs: %s", t->tag, runtime_s, reason);
    } else {
        finish.outcome = HPO__OUTCOME__OUTCOME_COMPLETE;
        finish.has_value = 1;
        finish.value = t->value;
        hpo_log_info ("%s: COMPLETE after %.1fs: %s=%.17g", t->tag, runtime_s,
                      t->objective, t->value);
    }
    //  The slot is free once this returns: ask for the next trial in the
    //  same message (the heartbeat below still goes, for the leases).
    if (self->welcomed && !self->stopping) {
        finish.asks = 1;
        finish.free = self->slots - (uint32_t)hpo_session_busy (self) + 1;
    }
    s_queue_finish (self, t->trial_id, t->attempt, &finish, now);
    free (reason);
    free (tail);
    s_trial_destroy (&self->trials[slot]);
    //  Ask for the next trial now rather than at the next tick.
    if (self->welcomed && !self->stopping)
        s_send_heartbeat (self, now);
}

//  Stops an attempt the coordinator no longer wants; no Finish follows.
static void
s_trial_kill (hpo_session_t *self, uint64_t trial_id, uint32_t attempt,
              const char *why)
{
    s_out_drop_attempt (self, trial_id, attempt);
    s_trial_t *t = s_trial_find (self, trial_id, attempt);
    if (!t || t->fate == S_DROP) {
        hpo_log_debug ("kill trial %" PRIu64 " attempt %u (%s): not running",
                       trial_id, attempt, why);
        return;
    }
    hpo_log_info ("%s: %s: stopping it", t->tag, why);
    if (t->fate != S_SHUTDOWN)
        t->fate = S_DROP;
    hpo_runner_stop (t->runner);
}

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

static void
s_env_free (s_env_t *env)
{
    for (size_t k = 0; k < env->n; k++)
        free (env->env[k]);
    free (env->env);
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

//  Prepares and starts the attempt in slot. Returns 0, or -1 with *reason
//  set (malloc'd) and nothing left running.
static int
s_trial_start (hpo_session_t *self, uint32_t slot, const Hpo__Assign *a,
               s_trial_t *t, int64_t now, char **reason)
{
    int rc = -1;
    size_t n = a->n_params;
    char **names = hpo_calloc (n + 1, sizeof (char *));
    hpo_value_t *values = hpo_calloc (n + 1, sizeof (hpo_value_t));
    char **argv = NULL;
    char *shell = NULL;
    char *shell_argv[4] = {"/bin/sh", "-c", NULL, NULL};
    char *logs_dir = NULL, *trial_dir = NULL, *ckpt_dir = NULL;
    char *params_path = NULL, *params_json = NULL, *command = NULL;
    s_env_t env = {NULL, 0, 0};

    for (size_t k = 0; k < n; k++) {
        const Hpo__Param *p = a->params[k];
        if (!s_param_name_ok (p->name)) {
            *reason = hpo_sprintf ("bad parameter name '%.64s'",
                                   p->name ? p->name : "");
            goto done;
        }
        names[k] = p->name;
        if (hpo_wire_param_get (p, &values[k]) < 0) {
            *reason = hpo_sprintf ("parameter '%s' has unknown kind %u",
                                   p->name, p->kind);
            goto done;
        }
    }

    //  Directories and files the program is promised.
    logs_dir = hpo_sprintf ("%s/logs/%s", self->state_dir, a->study);
    trial_dir = hpo_sprintf ("%s/trials/%s/trial-%" PRIu64 "-attempt-%u",
                             self->state_dir, a->study, a->number, a->attempt);
    ckpt_dir = hpo_sprintf ("%s/checkpoints/%s/%" PRIu64, self->state_dir,
                            a->study, a->number);
    const char *dirs[] = {logs_dir, trial_dir, ckpt_dir};
    for (size_t k = 0; k < 3; k++)
        if (s_mkdirs (dirs[k]) < 0) {
            *reason =
                hpo_sprintf ("cannot create %s: %s", dirs[k], strerror (errno));
            goto done;
        }
    t->log_path = hpo_sprintf ("%s/trial-%" PRIu64 "-attempt-%u.log", logs_dir,
                               a->number, a->attempt);
    params_path = hpo_sprintf ("%s/params.json", trial_dir);
    params_json = hpo_params_dump (names, values, n);
    if (s_write_file (params_path, params_json) < 0) {
        *reason =
            hpo_sprintf ("cannot write %s: %s", params_path, strerror (errno));
        goto done;
    }

    //  The command, with the values substituted.
    char *error = NULL;
    if (a->shell) {
        shell = hpo_command_shell (a->command, names, values, n, &error);
        shell_argv[2] = shell;
        command = shell ? hpo_strdup (shell) : NULL;
    } else {
        argv = hpo_command_argv (a->command, names, values, n, &error);
        if (argv) {
            //  For the log only: words joined by spaces.
            size_t len = 1;
            for (char **w = argv; *w; w++)
                len += strlen (*w) + 1;
            command = hpo_calloc (1, len);
            for (char **w = argv; *w; w++) {
                if (w != argv)
                    strcat (command, " ");
                strcat (command, *w);
            }
        }
    }
    if (!command) {
        *reason = hpo_sprintf ("bad command: %s", error ? error : "?");
        free (error);
        goto done;
    }

    s_env_add (&env, hpo_sprintf ("HPO_STUDY=%s", a->study));
    s_env_add (&env, hpo_sprintf ("HPO_TRIAL=%" PRIu64, a->number));
    s_env_add (&env, hpo_sprintf ("HPO_ATTEMPT=%u", a->attempt));
    s_env_add (&env, hpo_sprintf ("HPO_TRIAL_ID=%" PRIu64, a->trial_id));
    s_env_add (&env, hpo_sprintf ("HPO_OBJECTIVE=%s", a->objective));
    s_env_add (&env, hpo_sprintf ("HPO_PARAMS_FILE=%s", params_path));
    s_env_add (&env, hpo_sprintf ("HPO_CHECKPOINT_DIR=%s", ckpt_dir));
    s_env_add (&env, hpo_sprintf ("HPO_WORKER=%s", self->name));
    for (size_t k = 0; k < n; k++) {
        char *value = values[k].kind == HPO_KIND_STR
                          ? hpo_strdup (values[k].s ? values[k].s : "")
                          : hpo_value_format (&values[k]);
        char *entry = hpo_sprintf ("HPO_PARAM_%s=%s", names[k], value);
        free (value);
        for (char *p = entry + 10; *p != '='; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        s_env_add (&env, entry);
    }

    s_log_header (t->log_path, t->tag, self->name, command);
    hpo_runner_config_t config;
    config.argv = a->shell ? shell_argv : argv;
    config.env = env.env;
    config.log_path = t->log_path;
    config.grace_ms = a->grace_ms; //  0: SIGKILL at once
    t->runner = hpo_runner_new (&config, reason);
    if (!t->runner)
        goto done;
    t->lines = hpo_report_buf_new ();
    t->started_ms = now;
    t->timeout_ms = a->timeout_ms;
    t->deadline_ms = a->timeout_ms ? now + (int64_t)a->timeout_ms : 0;
    self->trials[slot] = t;
    char *line = s_oneline (command);
    hpo_log_info ("%s: started (shim %d): %s", t->tag,
                  (int)hpo_runner_shim_pid (t->runner), line);
    free (line);
    rc = 0;

done:
    hpo_values_clear (values, n);
    free (values);
    free (names);
    hpo_command_free (&argv);
    free (shell);
    free (logs_dir);
    free (trial_dir);
    free (ckpt_dir);
    free (params_path);
    free (params_json);
    free (command);
    s_env_free (&env);
    return rc;
}

//  ---- message handlers ------------------------------------------------------

static void
s_on_welcome (hpo_session_t *self, const hpo_env_t *env, int64_t now)
{
    const Hpo__Welcome *w = env->welcome;
    uint32_t hb = w->heartbeat_ms ? w->heartbeat_ms : S_DEFAULT_HEARTBEAT_MS;
    //  Never trust a number from the wire to be sane.
    if (hb < 10)
        hb = 10;
    if (hb > 60000)
        hb = 60000;
    if (!self->welcomed)
        hpo_log_info ("welcomed by %s: heartbeat %ums, lease %ums, %zu "
                      "refused",
                      self->endpoint, hb, w->lease_ms, w->n_refused);
    self->heartbeat_ms = hb;
    self->lease_ms = w->lease_ms;
    self->welcomed = 1;
    self->hello_retry_ms = S_HELLO_RETRY_MS;
    for (size_t k = 0; k < w->n_refused; k++)
        if (w->refused[k])
            s_trial_kill (self, w->refused[k]->trial_id, w->refused[k]->attempt,
                          "refused by the coordinator");
    //  Free slots ask for work at once.
    if (!self->stopping)
        s_send_heartbeat (self, now);
}

static void
s_on_assign (hpo_session_t *self, const hpo_env_t *env, int64_t now)
{
    const Hpo__Assign *a = env->assign;
    const char *study = a->study ? a->study : "";
    if (self->stopping) {
        hpo_log_info ("trial %s#%" PRIu64 " attempt %u: assigned while "
                      "stopping: ignored",
                      study, a->number, a->attempt);
        return;
    }
    if (s_trial_find (self, a->trial_id, a->attempt)) {
        hpo_log_debug ("trial %s#%" PRIu64 " attempt %u: already running",
                       study, a->number, a->attempt);
        return;
    }
    uint32_t slot = self->slots;
    for (uint32_t k = 0; k < self->slots && slot == self->slots; k++)
        if (!self->trials[k])
            slot = k;
    if (slot == self->slots) {
        //  The coordinator counts its own assignments, so this should not
        //  happen; if it does, the lease just expires unrenewed.
        hpo_log_warnx ("trial %s#%" PRIu64 " attempt %u: assigned but all "
                       "%u slots are busy: ignored",
                       study, a->number, a->attempt, self->slots);
        return;
    }
    s_trial_t *t = hpo_calloc (1, sizeof *t);
    t->trial_id = a->trial_id;
    t->attempt = a->attempt;
    t->fate = S_RUN;
    char *reason = NULL;
    if (!s_study_ok (study))
        reason = hpo_sprintf ("bad study name '%.64s'", study);
    else if (!a->command || !*a->command)
        reason = hpo_strdup ("empty command");
    else if (!a->objective || !*a->objective)
        reason = hpo_strdup ("no objective metric");
    //  The tag is for logs; a bad study name is cut and quoted above.
    t->tag = hpo_sprintf ("trial %.64s#%" PRIu64 " attempt %u", study,
                          a->number, a->attempt);
    t->objective = hpo_strdup (a->objective ? a->objective : "");
    if (!reason && s_trial_start (self, slot, a, t, now, &reason) == 0)
        return;
    //  Nothing runs: say so, so the coordinator can retry elsewhere
    //  instead of waiting for the lease to run out.
    hpo_log_warnx ("%s: cannot start: %s", t->tag, reason);
    if (t->log_path) {
        char *line = hpo_sprintf ("cannot start: %s", reason);
        s_log_header (t->log_path, t->tag, self->name, line);
        free (line);
    }
    Hpo__Finish finish;
    hpo__finish__init (&finish);
    finish.outcome = HPO__OUTCOME__OUTCOME_FAILED;
    char *clean = hpo_utf8_clean (reason, 0);
    free (reason);
    reason = clean;
    finish.reason = reason;
    finish.log_tail = reason;
    finish.exit_status = -1;
    s_queue_finish (self, t->trial_id, t->attempt, &finish, now);
    free (reason);
    s_trial_destroy (&t);
}

static void
s_on_ack (hpo_session_t *self, const hpo_env_t *env, int64_t now)
{
    if (env->ack->ack_seq)
        s_out_ack (self, env->ack->ack_seq);
}

static void
s_on_kill (hpo_session_t *self, const hpo_env_t *env, int64_t now)
{
    const Hpo__Kill *k = env->kill;
    char *why =
        hpo_sprintf ("killed by the coordinator (%.200s)",
                     k->reason && *k->reason ? k->reason : "no reason given");
    s_trial_kill (self, k->trial_id, k->attempt, why);
    free (why);
}

//  Whether a reply with this seq answers one of our recent Hellos.
static int
s_answers_hello (const hpo_session_t *self, uint64_t seq)
{
    size_t ring = sizeof self->hello_seqs / sizeof self->hello_seqs[0];
    for (size_t k = 0; k < ring; k++)
        if (seq && self->hello_seqs[k] == seq)
            return 1;
    return 0;
}

static void
s_on_error (hpo_session_t *self, const hpo_env_t *env, int64_t now)
{
    const Hpo__Error *e = env->error;
    const char *message = e->message ? e->message : "";
    if (e->code == HPO__ERROR_CODE__ERR_REPLACED) {
        hpo_log_error ("another worker process named '%s' (newer) took "
                       "over this name; exiting (coordinator: %.200s)",
                       self->name, message);
        s_fail (self);
        return;
    }
    //  Saying Hello again would only be refused again.
    if (e->code == HPO__ERROR_CODE__ERR_BAD_VERSION ||
        ((e->code == HPO__ERROR_CODE__ERR_INVALID ||
          e->code == HPO__ERROR_CODE__ERR_BAD_MESSAGE) &&
         s_answers_hello (self, env->seq))) {
        hpo_log_error ("coordinator %s refused this worker: %.200s; "
                       "exiting",
                       self->endpoint, message);
        s_fail (self);
        return;
    }
    if (e->code == HPO__ERROR_CODE__ERR_UNKNOWN_SESSION) {
        //  Before the Welcome to our latest Hello, this answers something
        //  sent before that Hello (the coordinator handles a connection's
        //  messages in order): the Hello already fixes it.
        if (!self->welcomed)
            return;
        if (!self->hello_wanted)
            hpo_log_info ("coordinator does not know this session "
                          "(restarted?): saying hello again");
        self->hello_wanted = 1;
        return;
    }
    hpo_log_warnx ("coordinator error %d: %.200s", (int)e->code, message);
}

typedef void (s_handler_fn) (hpo_session_t *self, const hpo_env_t *env,
                             int64_t now);

//  One row a message: a new message kind is one row and one function.
static const struct {
    Hpo__Envelope__BodyCase body;
    s_handler_fn *handler;
} s_handlers[] = {
    {HPO__ENVELOPE__BODY_WELCOME, s_on_welcome},
    {HPO__ENVELOPE__BODY_ASSIGN, s_on_assign},
    {HPO__ENVELOPE__BODY_ACK, s_on_ack},
    {HPO__ENVELOPE__BODY_KILL, s_on_kill},
    {HPO__ENVELOPE__BODY_ERROR, s_on_error},
};

static void
s_recv_all (hpo_session_t *self, int64_t now)
{
    for (int k = 0; k < S_RECV_PER_STEP; k++) {
        hpo_wire_status_t status;
        hpo_env_t *env = hpo_wire_recv (self->dealer, NULL, &status);
        if (!env) {
            if (status == HPO_WIRE_OK)
                return; //  nothing more waiting
            if (self->bad_messages++ % 100 == 0)
                hpo_log_warnx (
                    "bad message from coordinator (%s); %" PRIu64 " so far",
                    hpo_wire_status_str (status), self->bad_messages);
            continue;
        }
        //  Any message may carry acknowledgements.
        for (size_t a = 0; a < env->n_acks; a++)
            s_out_ack (self, env->acks[a]);
        size_t row = 0, rows = sizeof s_handlers / sizeof s_handlers[0];
        while (row < rows && s_handlers[row].body != env->body_case)
            row++;
        if (row < rows)
            s_handlers[row].handler (self, env, now);
        else
            hpo_log_debug ("unexpected message (body %d): ignored",
                           (int)env->body_case);
        hpo_wire_free (&env);
    }
}

//  ---- the loop --------------------------------------------------------------

static void
s_on_signals (hpo_session_t *self, int *sigchld)
{
    struct signalfd_siginfo info;
    for (;;) {
        ssize_t n = read (self->signal_fd, &info, sizeof info);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof info)
            return; //  EAGAIN: all read
        if (info.ssi_signo == SIGCHLD)
            *sigchld = 1;
        else if (info.ssi_signo == SIGINT || info.ssi_signo == SIGTERM) {
            if (self->stopping) {
                hpo_log_info ("SIG%s again: exiting now",
                              sigabbrev_np ((int)info.ssi_signo));
                self->finished = 1;
            } else {
                const char *name = sigabbrev_np ((int)info.ssi_signo);
                hpo_log_info ("SIG%s: stopping trials and exiting", name);
                char *reason = hpo_sprintf ("worker stopping (SIG%s)", name);
                s_stop (self, reason);
                free (reason);
            }
        }
    }
}

static int64_t
s_next_deadline (hpo_session_t *self, int64_t now, int max_wait_ms)
{
    int64_t next = now + max_wait_ms;
#define S_EARLIER(t)                                                           \
    do {                                                                       \
        if ((t) < next)                                                        \
            next = (t);                                                        \
    } while (0)
    S_EARLIER (self->next_heartbeat);
    if (!self->stopping && self->hello_wanted)
        S_EARLIER (self->hello_ms + S_HELLO_MIN_MS);
    if (!self->stopping && !self->welcomed)
        S_EARLIER (self->hello_ms + self->hello_retry_ms);
    for (uint32_t k = 0; k < self->slots; k++) {
        s_trial_t *t = self->trials[k];
        if (t && t->fate == S_RUN && t->deadline_ms)
            S_EARLIER (t->deadline_ms);
    }
    if (self->stopping)
        S_EARLIER (self->stop_deadline);
#undef S_EARLIER
    return next;
}

//  Whether t has lines buffered that can be handled now, though its pipes
//  may be quiet: the outbox has room again, or they are to be dropped.
static int
s_trial_waits (const s_trial_t *t, int paused)
{
    return t && t->pending && (!paused || !s_holds_lease (t));
}

//  Reads what a trial reported, notices its end, and once its processes
//  are gone and every line it wrote is queued, ends it.
static void
s_trial_service (hpo_session_t *self, uint32_t slot, int64_t now)
{
    s_trial_t *t = self->trials[slot];
    //  The exit first: after it, an empty pipe means the stream is over.
    if (!t->exited && hpo_runner_poll (t->runner))
        t->exited = 1;
    int read_all = s_trial_read (self, t, S_READ_PER_STEP, now);
    if (t->exited && (read_all || t->fate == S_DROP || t->fate == S_SHUTDOWN))
        s_trial_end (self, slot, now);
}

static void
s_timers (hpo_session_t *self, int64_t now)
{
    for (uint32_t k = 0; k < self->slots; k++) {
        s_trial_t *t = self->trials[k];
        if (t && t->fate == S_RUN && t->deadline_ms && now >= t->deadline_ms) {
            char *limit = s_seconds (t->timeout_ms);
            hpo_log_info ("%s: timeout after %s: stopping it", t->tag, limit);
            free (limit);
            t->fate = S_TIMEOUT;
            hpo_runner_stop (t->runner);
        }
    }
    if (!self->stopping) {
        if (self->hello_wanted && now >= self->hello_ms + S_HELLO_MIN_MS)
            s_send_hello (self, now);
        else if (!self->welcomed &&
                 now >= self->hello_ms + self->hello_retry_ms) {
            hpo_log_info ("no welcome from %s in %" PRId64
                          "s: saying hello again",
                          self->endpoint, self->hello_retry_ms / 1000);
            s_send_hello (self, now);
            self->hello_retry_ms *= 2;
            if (self->hello_retry_ms > S_HELLO_RETRY_MAX_MS)
                self->hello_retry_ms = S_HELLO_RETRY_MAX_MS;
        }
    }
    if (now >= self->next_heartbeat) {
        if (self->welcomed && !self->stopping)
            s_send_heartbeat (self, now);
        else
            self->next_heartbeat = now + self->heartbeat_ms;
        s_out_resend (self, now, 0);
    }
}

int
hpo_session_step (hpo_session_t *self, int max_wait_ms)
{
    if (self->finished)
        return 0;
    int64_t now = hpo_clock_mono_ms ();
    int64_t next = s_next_deadline (self, now, max_wait_ms);
    int paused = s_out_paused (self);
    for (uint32_t k = 0; k < self->slots; k++)
        if (s_trial_waits (self->trials[k], paused))
            next = now; //  lines wait in a buffer, not in a pipe
    long timeout = next > now ? (long)(next - now) : 0;

    //  The socket (writable matters while a backlog waits for room), the
    //  signals, and two pipes per running attempt; the report pipes not
    //  while the outbox is full, so programs wait on their writes.
    size_t cap = 2 + 2 * (size_t)self->slots;
    zmq_pollitem_t items[cap];
    uint32_t item_slot[cap];
    size_t n = 0;
    short dealer_events = ZMQ_POLLIN;
    if (s_out_backlog (self))
        dealer_events |= ZMQ_POLLOUT;
    items[n++] = (zmq_pollitem_t){self->dealer, 0, dealer_events, 0};
    size_t signal_item = n;
    if (self->signal_fd >= 0)
        items[n++] = (zmq_pollitem_t){NULL, self->signal_fd, ZMQ_POLLIN, 0};
    size_t first_trial_item = n;
    for (uint32_t k = 0; k < self->slots; k++) {
        s_trial_t *t = self->trials[k];
        if (!t)
            continue;
        int report_fd = hpo_runner_report_fd (t->runner);
        if (report_fd >= 0 && !t->eof && !(paused && s_holds_lease (t))) {
            item_slot[n] = k;
            items[n++] = (zmq_pollitem_t){NULL, report_fd, ZMQ_POLLIN, 0};
        }
        if (hpo_runner_status_fd (t->runner) >= 0) {
            item_slot[n] = k;
            items[n++] = (zmq_pollitem_t){
                NULL, hpo_runner_status_fd (t->runner), ZMQ_POLLIN, 0};
        }
    }
    if (zmq_poll (items, (int)n, timeout) < 0) {
        if (errno == EINTR)
            return 0;
        hpo_log_warn ("zmq_poll");
        return -1;
    }
    now = hpo_clock_mono_ms ();

    int sigchld = 0;
    if (self->signal_fd >= 0 && (items[signal_item].revents & ZMQ_POLLIN))
        s_on_signals (self, &sigchld);
    //  zmq_poll's readiness of a ZeroMQ socket is edge-like: always drain.
    s_recv_all (self, now);
    s_out_pump (self, now);

    int ready[self->slots];
    memset (ready, 0, sizeof ready);
    for (size_t k = first_trial_item; k < n; k++)
        if (items[k].revents & (ZMQ_POLLIN | ZMQ_POLLERR))
            ready[item_slot[k]] = 1;
    paused = s_out_paused (self);
    for (uint32_t k = 0; k < self->slots; k++) {
        s_trial_t *t = self->trials[k];
        if (t && (ready[k] || sigchld || s_trial_waits (t, paused)))
            s_trial_service (self, k, now);
    }
    s_timers (self, now);
    s_out_compact (self);
    if (self->stopping && ((hpo_session_busy (self) == 0 &&
                            (self->live_out == 0 || self->abandon)) ||
                           now >= self->stop_deadline)) {
        if (self->live_out && !self->abandon)
            hpo_log_warnx ("exiting with %zu messages unacknowledged",
                           self->live_out);
        self->finished = 1;
    }
    return 0;
}

//  Stops every running attempt without a Finish; returns how many held
//  a lease, and fills leases (slots of room) with them.
static size_t
s_stop_trials (hpo_session_t *self, Hpo__Lease *leases, Hpo__Lease **lease_ps)
{
    size_t n = 0;
    for (uint32_t k = 0; k < self->slots; k++) {
        s_trial_t *t = self->trials[k];
        if (!t)
            continue;
        if (s_holds_lease (t)) {
            hpo__lease__init (&leases[n]);
            leases[n].trial_id = t->trial_id;
            leases[n].attempt = t->attempt;
            lease_ps[n] = &leases[n];
            n++;
        }
        if (t->fate != S_DROP)
            t->fate = S_SHUTDOWN;
        hpo_runner_stop (t->runner);
    }
    return n;
}

//  Stops the session; a Goodbye names the attempts being stopped, so the
//  coordinator re-runs them at once and hands us nothing more.
static void
s_stop (hpo_session_t *self, const char *reason)
{
    if (self->stopping)
        return;
    int64_t now = hpo_clock_mono_ms ();
    self->stopping = 1;
    self->stop_deadline = now + HPO_SESSION_FLUSH_MS;
    Hpo__Lease leases[self->slots];
    Hpo__Lease *lease_ps[self->slots];
    Hpo__Goodbye bye;
    hpo__goodbye__init (&bye);
    bye.n_leases = s_stop_trials (self, leases, lease_ps);
    bye.leases = lease_ps;
    bye.reason = (char *)reason;
    hpo_env_t env;
    hpo_wire_init (&env, 0);
    env.body_case = HPO__ENVELOPE__BODY_GOODBYE;
    env.goodbye = &bye;
    //  After every Report and Finish already queued, in seq order; kept
    //  and resent like them until acknowledged or the flush time is over.
    s_out_queue (self, &env, 0, 0, S_OUT_GOODBYE, now);
    hpo_log_info ("goodbye to %s: %s (%zu attempts stopped)", self->endpoint,
                  reason, bye.n_leases);
}

void
hpo_session_stop (hpo_session_t *self)
{
    s_stop (self, "worker stopping");
}

//  The coordinator will not have us: stop the trials and exit 1 without
//  waiting for anything to be acknowledged.
static void
s_fail (hpo_session_t *self)
{
    self->failed = 1;
    if (self->stopping && self->abandon)
        return;
    int64_t now = hpo_clock_mono_ms ();
    if (!self->stopping)
        self->stop_deadline = now + HPO_SESSION_FLUSH_MS;
    self->stopping = 1;
    self->abandon = 1;
    Hpo__Lease leases[self->slots];
    Hpo__Lease *lease_ps[self->slots];
    s_stop_trials (self, leases, lease_ps);
}

int
hpo_session_failed (const hpo_session_t *self)
{
    return self->failed;
}

int
hpo_session_finished (const hpo_session_t *self)
{
    return self->finished;
}

int
hpo_session_run (hpo_session_t *self)
{
    while (!self->finished)
        if (hpo_session_step (self, 1000) < 0)
            return -1;
    return self->failed ? -1 : 0;
}

//  ---- construction ----

//  This process's incarnation (random) and start time (unix us), chosen
//  once: every session of the process says the same.
static void
s_identity (uint64_t *incarnation, uint64_t *started_us)
{
    static uint64_t s_incarnation, s_started_us;
    if (!s_incarnation) {
        struct timespec ts;
        clock_gettime (CLOCK_REALTIME, &ts);
        s_started_us =
            (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
        uint64_t r = 0;
        if (getrandom (&r, sizeof r, 0) != (ssize_t)sizeof r) {
            //  No entropy yet: time and pid still tell processes apart.
            struct timespec mono;
            clock_gettime (CLOCK_MONOTONIC, &mono);
            r = s_started_us ^ ((uint64_t)getpid () << 32) ^
                (uint64_t)mono.tv_nsec;
        }
        s_incarnation = r ? r : 1;
    }
    *incarnation = s_incarnation;
    *started_us = s_started_us;
}

static int
s_setsockopt_int (void *socket, int option, int value)
{
    if (zmq_setsockopt (socket, option, &value, sizeof value) < 0) {
        hpo_log_error ("zmq_setsockopt %d: %s", option, zmq_strerror (errno));
        return -1;
    }
    return 0;
}

hpo_session_t *
hpo_session_new (const hpo_session_config_t *config)
{
    assert (config->endpoint && config->name && config->state_dir);
    assert (config->slots >= 1);
    if (s_mkdirs (config->state_dir) < 0 ||
        access (config->state_dir, W_OK) < 0) {
        hpo_log_error ("state directory %s: %s", config->state_dir,
                       strerror (errno));
        return NULL;
    }
    char *state_dir = realpath (config->state_dir, NULL);
    if (!state_dir) {
        hpo_log_error ("state directory %s: %s", config->state_dir,
                       strerror (errno));
        return NULL;
    }
    hpo_session_t *self = hpo_calloc (1, sizeof *self);
    self->state_dir = hpo_strdup (state_dir);
    free (state_dir);
    self->endpoint = hpo_strdup (config->endpoint);
    self->name = hpo_strdup (config->name);
    char host[256];
    if (gethostname (host, sizeof host) < 0)
        snprintf (host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    self->host = hpo_strdup (host);
    self->slots = config->slots;
    self->signal_fd = config->signal_fd;
    self->trials = hpo_calloc (self->slots, sizeof (s_trial_t *));
    self->heartbeat_ms = S_DEFAULT_HEARTBEAT_MS;
    self->hello_retry_ms = S_HELLO_RETRY_MS;
    self->out_max =
        config->outbox_max ? config->outbox_max : HPO_SESSION_OUTBOX_MAX;
    self->out_low = self->out_max - self->out_max / 4;
    s_identity (&self->incarnation, &self->started_us);

    self->ctx = zmq_ctx_new ();
    if (!self->ctx) {
        hpo_log_error ("zmq_ctx_new: %s", zmq_strerror (errno));
        hpo_session_destroy (&self);
        return NULL;
    }
    self->dealer = zmq_socket (self->ctx, ZMQ_DEALER);
    if (!self->dealer) {
        hpo_log_error ("zmq_socket: %s", zmq_strerror (errno));
        hpo_session_destroy (&self);
        return NULL;
    }
    //  ZMTP heartbeats notice a silently dead connection in seconds, so
    //  the reconnect (and our resends) start early. No ZMQ_IMMEDIATE:
    //  what is queued while disconnected must go out after reconnecting.
    //  Linger 0: at exit, what was not acknowledged within the flush time
    //  is the coordinator's to recover by lease expiry. The send queue is
    //  kept short on purpose: the outbox, not the queue, is what makes
    //  delivery reliable, and every heartbeat queued during an outage is
    //  delivered, stale, when the coordinator comes back.
    if (s_setsockopt_int (self->dealer, ZMQ_LINGER, 0) ||
        s_setsockopt_int (self->dealer, ZMQ_HEARTBEAT_IVL, 1000) ||
        s_setsockopt_int (self->dealer, ZMQ_HEARTBEAT_TIMEOUT, 3000) ||
        s_setsockopt_int (self->dealer, ZMQ_HEARTBEAT_TTL, 6000) ||
        s_setsockopt_int (self->dealer, ZMQ_RECONNECT_IVL, 250) ||
        s_setsockopt_int (self->dealer, ZMQ_RECONNECT_IVL_MAX,
                          HPO_WIRE_RECONNECT_MAX_MS) ||
        s_setsockopt_int (self->dealer, ZMQ_SNDHWM, 1000) ||
        s_setsockopt_int (self->dealer, ZMQ_IPV6,
                          hpo_endpoint_ipv6 (self->endpoint))) {
        hpo_session_destroy (&self);
        return NULL;
    }
    if (zmq_connect (self->dealer, self->endpoint) < 0) {
        hpo_log_error ("cannot connect to %s: %s", self->endpoint,
                       zmq_strerror (errno));
        hpo_session_destroy (&self);
        return NULL;
    }
    hpo_log_info ("worker %s (%u slots, state in %s, incarnation %016" PRIx64
                  ") connecting to %s",
                  self->name, self->slots, self->state_dir, self->incarnation,
                  self->endpoint);
    int64_t now = hpo_clock_mono_ms ();
    s_send_hello (self, now);
    self->next_heartbeat = now + self->heartbeat_ms;
    return self;
}

void
hpo_session_destroy (hpo_session_t **self_p)
{
    hpo_session_t *self = *self_p;
    if (!self)
        return;
    for (uint32_t k = 0; self->trials && k < self->slots; k++)
        s_trial_destroy (&self->trials[k]);
    free (self->trials);
    for (size_t k = 0; k < self->n_out; k++)
        free (self->out[k].data);
    free (self->out);
    if (self->dealer)
        zmq_close (self->dealer);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    free (self->endpoint);
    free (self->name);
    free (self->host);
    free (self->state_dir);
    free (self);
    *self_p = NULL;
}
