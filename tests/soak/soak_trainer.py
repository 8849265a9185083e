#!/usr/bin/python3
"""The training program of the soak (tests/soak/soak.py), stdlib only.

    soak_trainer.py --x X --plan PLAN.json --side DIR

PLAN.json, written by the soak when it creates the study, says what each
trial number does: {"trials": [{"mode": ..., "steps": ..., ...}, ...]}.
Every attempt of a trial behaves the same way, but the values it reports
are its own (seeded by trial id and attempt), so a stored value names the
attempt that wrote it.

The program keeps a side log, DIR/<trial_id>-<attempt>.side, of everything
it did. A record is written (unbuffered, with O_APPEND) BEFORE the line it
describes goes to HPO_REPORT_FD, so the side log is a superset of what the
worker could have read:

    S <time> <pid> <starttime> <mode> <study> <number> <trial_id> <attempt>
      <worker>                       started (starttime: /proc/PID/stat 22)
    P <pid> <starttime> <role>       a child or grandchild it started
    R <time> <step> <metric> <value> one metric of one stepped report line
    O <metric> <value>               a report line without a step
    B <step>                         a bad line, at a step no good line uses
    X <time>                         the report pipe is broken (worker gone)
    E <time> <status>                exits on its own with this status

Modes:
  normal      steps with a short sleep between them
  chatty      thousands of reports a second, in chunks and in bursts of
              thousands of lines written at once
  burst       thousands of lines in one write, then the objective and exit
  flood       more than 100,000 lines as fast as the pipe takes them
  ignoreterm  ignores SIGTERM, and so does its child
  fork        a child and a grandchild, in the program's process group
  setsid      a child and a grandchild that called setsid (it also keeps
              the report pipe open)
  fail        reports, then exits with status 3
  badlines    reports, with bad lines (nan, a non-number, a line over
              64 KiB) mixed in

A program whose report pipe breaks (its worker died) does not notice the
way a real one would not: it writes X and sleeps, so it is an orphan
until something kills it. Otherwise it kills its own children before it
exits: whatever of a trial is alive at the end was left by hpo.
"""
import json
import os
import random
import signal
import sys
import time

BAD_STEP = 1000000  # bad lines use steps from here up


def starttime(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


class Trial:
    def __init__(self, side_dir, plan):
        self.trial_id = int(os.environ["HPO_TRIAL_ID"])
        self.attempt = int(os.environ["HPO_ATTEMPT"])
        self.number = int(os.environ["HPO_TRIAL"])
        self.plan = plan
        self.mode = plan["mode"]
        self.report_fd = int(os.environ["HPO_REPORT_FD"])
        self.rng = random.Random(self.trial_id * 100003 + self.attempt)
        self.side = os.open(
            os.path.join(side_dir, "%d-%d.side" % (self.trial_id,
                                                   self.attempt)),
            os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.children = []
        self.step = 0
        self.record("S %.6f %d %d %s %s %d %d %d %s\n" % (
            time.time(), os.getpid(), starttime(os.getpid()), self.mode,
            os.environ["HPO_STUDY"], self.number, self.trial_id,
            self.attempt, os.environ.get("HPO_WORKER", "?")))

    def record(self, text):
        data = text.encode()
        while data:
            n = os.write(self.side, data)
            data = data[n:]

    def value(self):
        # attempt * 1e6 + step + a fraction: unique to (attempt, step),
        # and exact through "%r" and strtod.
        return self.attempt * 1e6 + self.step + \
            round(self.rng.random(), 6) * 0.5

    def send(self, data):
        """Writes report lines to the worker; on a broken pipe, becomes
        an orphan (see the module's text)."""
        try:
            while data:
                n = os.write(self.report_fd, data)
                data = data[n:]
        except BrokenPipeError:
            self.record("X %.6f\n" % time.time())
            time.sleep(600)
            os._exit(1)

    def lines(self, count):
        """count stepped report lines: side records first, then the lines
        to the worker in one write."""
        now = time.time()
        side, out = [], []
        for _ in range(count):
            loss = self.value()
            if self.step % 3 == 2:
                acc = 1.0 - loss / 1e7
                side.append("R %.6f %d loss %r\nR %.6f %d acc %r\n" % (
                    now, self.step, loss, now, self.step, acc))
                out.append(json.dumps({"step": self.step, "loss": loss,
                                       "acc": acc}) + "\n")
            else:
                side.append("R %.6f %d loss %r\n" % (now, self.step, loss))
                out.append("step=%d loss=%r\n" % (self.step, loss))
            self.step += 1
        self.record("".join(side))
        self.send("".join(out).encode())

    def bad_lines(self):
        k = self.step
        self.record("B %d\nB %d\nB %d\n" % (BAD_STEP + k, BAD_STEP + k + 1,
                                            BAD_STEP + k + 2))
        self.send(("step=%d loss=nan\n" % (BAD_STEP + k)).encode())
        self.send(("step=%d loss=abc\n" % (BAD_STEP + k + 1)).encode())
        self.send(("step=%d loss=0.5 %s\n" % (
            BAD_STEP + k + 2, "pad=1 " * 12000)).encode())

    def spawn(self, setsid=False, keep_report_fd=False):
        """A child `sleep 600` and its own child `sleep 600` (which calls
        setsid if asked); both recorded with their start times."""
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                g = os.fork()
                if g == 0:
                    if setsid:
                        os.setsid()
                    if not keep_report_fd:
                        os.close(self.report_fd)
                    os.execvp("sleep", ["sleep", "600"])
                os.write(w, str(g).encode())
                os.close(w)
                os.close(self.report_fd)
                os.execvp("sleep", ["sleep", "600"])
            finally:
                os._exit(127)
        os.close(w)
        g = int(os.read(r, 64) or b"0")
        os.close(r)
        self.record("P %d %d child\n" % (pid, starttime(pid)))
        if g:
            self.record("P %d %d %s\n" % (
                g, starttime(g), "grandchild-setsid" if setsid
                else "grandchild"))
        self.children += [pid, g] if g else [pid]

    def finish(self, status=0):
        loss = round(self.rng.random(), 6)
        self.record("O loss %r\n" % loss)
        self.send(("loss=%r\n" % loss).encode())
        for pid in self.children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.waitpid(self.children[0], 0) if self.children else None
        except ChildProcessError:
            pass
        self.record("E %.6f %d\n" % (time.time(), status))
        os._exit(status)


def main():
    a = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    with open(a["--plan"]) as f:
        plans = json.load(f)["trials"]
    plan = plans[int(os.environ["HPO_TRIAL"]) % len(plans)]
    t = Trial(a["--side"], plan)
    mode = t.mode
    steps = plan.get("steps", 8)
    sleep = plan.get("sleep", 0.05)
    if mode == "ignoreterm":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        t.spawn()
    elif mode == "fork":
        t.spawn()
    elif mode == "setsid":
        t.spawn(setsid=True, keep_report_fd=True)
    if mode == "chatty":
        # Thousands a second: chunks every few ms, and bursts.
        total = plan.get("reports", 3000)
        while t.step < total:
            if t.rng.random() < 0.05:
                t.lines(min(total - t.step, t.rng.randint(1000, 3000)))
            else:
                t.lines(min(total - t.step, t.rng.randint(10, 60)))
                time.sleep(0.01)
    elif mode == "burst":
        t.lines(plan.get("reports", 3000))
    elif mode == "flood":
        total = plan.get("reports", 120000)
        while t.step < total:
            t.lines(min(total - t.step, 5000))
    else:
        for k in range(steps):
            t.lines(1)
            if mode == "badlines" and k == steps // 2:
                t.bad_lines()
            time.sleep(sleep)
    t.finish(3 if mode == "fail" else 0)


if __name__ == "__main__":
    main()
