#!/usr/bin/python3
"""Fault-injection soak: a real coordinator and workers run studies of many
short, fast-reporting trials while faults are injected at random (seeded)
moments; then every promise is checked against the database and the
programs' own side logs. tests/soak/README.md says what is checked and how.

    /usr/bin/python3 tests/soak/soak.py --faults N --seed S [--workers W]
                                        [--keep DIR]

Binaries come from $HPO_BIN (default: build/ at the top of the repository),
as in tests/e2e/harness.py.
Exit status: 0 no violations, 1 violations, 2 the soak itself failed,
77 it cannot run here (no binaries, no /proc).
"""
import argparse
import collections
import datetime
import ctypes
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import harness  # noqa: E402  (BIN, exe, PYTHON, alive, wait_for)

TRAINER = os.path.join(HERE, "soak_trainer.py")
BAD_STEP = 1000000  # soak_trainer.py: bad lines use steps from here up

FAULT_WEIGHTS = {
    "worker_kill": 3,         # kill -9 PID, restarted after a while
    "worker_group_kill": 3,   # kill -9 -PGID (systemctl kill, Slurm)
    "worker_stop": 2,         # SIGSTOP past the lease, then SIGCONT
    "worker_pause": 1,        # SIGSTOP well under the lease: no loss
    "coord_stop": 2,          # SIGSTOP of the coordinator past the lease
    "coord_pause": 1,         # SIGSTOP of the coordinator under the lease
    "coord_pause_flood": 0,   # the same while a flood program writes
    "coord_kill": 2,          # kill -9 at a random moment, restart
    "coord_kill_commit": 2,   # kill -9 right after an assign or a finish
    "disk_full": 1,           # the database's tmpfs fills, then is freed
    "study_stop": 0.3,        # hpo study stop of a running study
}
MODE_WEIGHTS = {
    "normal": 5, "chatty": 2, "burst": 2, "ignoreterm": 1.5, "fork": 1.5,
    "setsid": 1.5, "fail": 0.6, "badlines": 1,
}
KILLS = ("worker_kill", "worker_group_kill")
# From starting a worker process to its Hello being handled: start-up, the
# connection, and the coordinator's queue (slow under the sanitizers).
HELLO_SLACK_S = 5.0

LIBC = ctypes.CDLL("libc.so.6", use_errno=True)
PR_SET_PDEATHSIG = 1


def s_die_with_soak():
    # Our daemons die with the soak, even if it is SIGKILLed (ctest's
    # timeout): nothing of theirs may outlive a run.
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def proc_stat(pid):
    """(state, pgrp, starttime) of pid, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return rest[0], int(rest[2]), int(rest[19])
    except (OSError, IndexError, ValueError):
        return None


def same_process_alive(pid, start):
    st = proc_stat(pid)
    return st is not None and st[0] != "Z" and st[2] == start


class Interrupted(Exception):
    pass


class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.t_start = time.time()
        self.lease = args.lease_ms / 1000.0
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
            if os.listdir(args.keep):
                raise SystemExit("soak: --keep %s: not empty" % args.keep)
            self.dir = os.path.abspath(args.keep)
        else:
            self.dir = tempfile.mkdtemp(prefix="hpo-soak-")
        self.side = os.path.join(self.dir, "side")
        self.plans = os.path.join(self.dir, "plans")
        self.dbdir = os.path.join(self.dir, "db")
        for d in (self.side, self.plans, self.dbdir):
            os.makedirs(d)
        self.db = os.path.join(self.dbdir, "hpo.db")
        self.mounted = False
        self.skipped = {}        # fault kind -> why
        self.coord = None        # Popen
        self.coord_state = "down"  # up | stopped | down
        self.endpoint = None
        self.listen = "tcp://127.0.0.1:*"
        self.coord_log = os.path.join(self.dir, "coordinator.log")
        self.coord_expected_exit = False
        self.workers = {}        # name -> Popen (None while dead)
        self.worker_state = {}   # name -> up | stopped | dead
        self.worker_pgids = set()
        self.pending = []        # (time, what, callable)
        self.faults = []         # dicts: kind, target, t0, t1, note
        self.fault_counts = collections.Counter()
        self.violations = []     # (kind, text)
        self.studies = {}        # name -> dict
        self.study_seq = 0
        self.disk_full = False
        self.disk_freed_at = 0.0
        self.fill_path = os.path.join(self.dbdir, "fill")
        self.coord_restarts = []  # wall times of coordinator (re)starts
        self.coord_exits = []    # (time, status, expected)
        self.logs = []

    # ---- bookkeeping ----------------------------------------------------
    def violation(self, kind, text):
        self.violations.append((kind, text))

    def say(self, text):
        print("soak %6.1fs: %s" % (time.time() - self.t_start, text),
              flush=True)

    def fault(self, kind, target, note=""):
        f = {"kind": kind, "target": target, "t0": time.time(),
             "t1": None, "note": note}
        self.faults.append(f)
        self.fault_counts[kind] += 1
        with open(os.path.join(self.dir, "faults.log"), "a") as out:
            out.write("%.6f %s %s %s\n" % (f["t0"], kind, target, note))
        return f

    def later(self, delay, what, fn):
        self.pending.append((time.time() + delay, what, fn))

    # ---- processes -----------------------------------------------------
    def spawn(self, args, log_name):
        log = open(os.path.join(self.dir, log_name), "ab")
        self.logs.append(log)
        return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=self.dir,
                                start_new_session=True,
                                preexec_fn=s_die_with_soak)

    def start_coordinator(self):
        epfile = os.path.join(self.dir, "endpoint")
        if os.path.exists(epfile):
            os.unlink(epfile)
        p = self.spawn([harness.exe("hpo-coordinator"), "--db", self.db,
                        "--listen", self.listen, "--endpoint-file", epfile,
                        "--heartbeat-ms", str(self.args.heartbeat_ms),
                        "--lease-ms", str(self.args.lease_ms),
                        "--log-level", "debug"], "coordinator.log")
        deadline = time.time() + 15
        while time.time() < deadline:
            if p.poll() is not None:
                self.coord_exits.append((time.time(), p.returncode, False))
                self.violation("coordinator-start", "the coordinator exited "
                               "%s at start-up" % p.returncode)
                return False
            if os.path.exists(epfile):
                ep = open(epfile).read().strip()
                if ep:
                    self.endpoint = self.listen = ep
                    self.coord = p
                    self.coord_state = "up"
                    self.coord_expected_exit = False
                    self.coord_restarts.append(time.time())
                    return True
            time.sleep(0.02)
        p.kill()
        p.wait()
        self.violation("coordinator-start", "no endpoint within 15 s")
        return False

    def start_worker(self, name):
        p = self.spawn([harness.exe("hpo-worker"), "--coordinator",
                        self.endpoint, "--slots", str(self.args.slots),
                        "--name", name, "--state-dir",
                        os.path.join(self.dir, "state-" + name)],
                       "worker-%s.log" % name)
        self.workers[name] = p
        self.worker_pgids.add(p.pid)
        self.worker_state[name] = "up"

    def check_processes(self):
        """Daemons that exit without being told to are violations; they
        are restarted, as systemd or Slurm would."""
        p = self.coord
        if p is not None and p.poll() is not None:
            # Exit 1 on a full disk is the promise; a turn that was
            # already failing when the space came back may end just after.
            expected = self.coord_expected_exit or (
                p.returncode == 1 and (
                    self.disk_full or
                    time.time() - self.disk_freed_at < 1.0))
            self.coord_exits.append((time.time(), p.returncode, expected))
            self.coord = None
            self.coord_state = "down"
            if not expected:
                self.violation("coordinator-exit",
                               "the coordinator exited %s on its own; "
                               "log: %s" % (p.returncode,
                                            self.log_tail("coordinator.log")))
            if self.disk_full:
                self.say("coordinator exited %s on the full disk"
                         % p.returncode)
            else:
                self.later(0.5, "restart coordinator", self.restart_coord)
        for name, p in self.workers.items():
            if p is not None and p.poll() is not None and \
                    self.worker_state[name] == "up":
                self.violation("worker-exit", "worker %s exited %s on its "
                               "own; log: %s" % (
                                   name, p.returncode,
                                   self.log_tail("worker-%s.log" % name)))
                self.workers[name] = None
                self.worker_state[name] = "dead"
                f = self.fault("worker_crash", name)
                self.later(0.5, "restart " + name,
                           lambda n=name, f=f: self.restart_worker(n, f))

    def restart_coord(self, f=None):
        if self.coord is not None:
            return
        if not self.start_coordinator():
            self.later(1.0, "restart coordinator", self.restart_coord)
            return
        if f is not None:
            f["t1"] = time.time()

    def restart_worker(self, name, f):
        if self.endpoint is None:
            self.later(0.5, "restart " + name,
                       lambda: self.restart_worker(name, f))
            return
        self.start_worker(name)
        # The dead incarnation's session lasts until the new one's Hello
        # is in (the checker reads that from the coordinator's log).
        f["t1"] = time.time()
        f["new_pid"] = self.workers[name].pid

    def log_tail(self, name, n=600):
        try:
            with open(os.path.join(self.dir, name), "rb") as f:
                f.seek(0, 2)
                size = f.tell()
                f.seek(max(0, size - n))
                return f.read().decode(errors="replace").replace("\n", " | ")
        except OSError:
            return "?"

    # ---- the CLI -------------------------------------------------------
    def cli(self, *args):
        """Runs hpo; None if the coordinator cannot answer now."""
        if self.coord_state != "up" or self.endpoint is None:
            return None
        try:
            return subprocess.run(
                [harness.exe("hpo"), "--coordinator", self.endpoint,
                 "--timeout", "3"] + list(args), capture_output=True,
                text=True, timeout=10, cwd=self.dir)
        except subprocess.TimeoutExpired:
            self.violation("cli-hang", "hpo %s: no answer within 10 s "
                           "despite --timeout 3" % " ".join(args))
            return None

    # ---- studies -------------------------------------------------------
    def new_study(self):
        self.study_seq += 1
        name = "s%03d" % self.study_seq
        rng = self.rng
        budget = rng.randint(15, 30)
        plans = []
        for _ in range(budget):
            plans.append(self.plan(rng.choices(
                list(MODE_WEIGHTS), weights=list(MODE_WEIGHTS.values()))[0]))
        if self.study_seq == 1:
            # The first study runs every mode at least once.
            for mode, k in zip(MODE_WEIGHTS, rng.sample(range(budget),
                                                        len(MODE_WEIGHTS))):
                plans[k] = self.plan(mode)
        if self.floods_left > 0:
            self.floods_left -= 1
            # Early in the study, so that it runs while faults are
            # still injected.
            plans[rng.randrange(4)] = {
                "mode": "flood", "reports": rng.randint(150000, 200000)}
        plan_path = os.path.join(self.plans, name + ".json")
        with open(plan_path, "w") as f:
            json.dump({"trials": plans}, f)
        retries = rng.choice([0, 1, 2, 3, 3])
        grace_s = rng.choice([0, 0.5, 1])
        grace = {0: "0", 0.5: "500ms", 1: "1s"}[grace_s]
        parallel = rng.choice([0, 0, 0, 3])
        text = "\n".join([
            "name: %s" % name,
            "command: %s %s --x {x} --plan %s --side %s" % (
                harness.PYTHON, TRAINER, plan_path, self.side),
            "objective: {metric: loss, direction: minimize}",
            "sampler: {type: random, seed: %d}" % rng.randint(1, 10 ** 6),
            "budget: {trials: %d, parallel: %d}" % (budget, parallel),
            "trial: {retries: %d, grace: %s, timeout: 120s}" % (retries,
                                                                grace),
            "space:",
            "  x: {type: float, low: 0, high: 1}",
        ]) + "\n"
        path = os.path.join(self.plans, name + ".yaml")
        with open(path, "w") as f:
            f.write(text)
        self.studies[name] = {"name": name, "budget": budget,
                              "retries": retries, "path": path,
                              "grace": grace_s,
                              "created": False, "state": None,
                              "stopped_by_soak": False,
                              "modes": collections.Counter(
                                  p["mode"] for p in plans)}

    def plan(self, mode):
        """What one trial's program does (soak_trainer.py)."""
        rng = self.rng
        plan = {"mode": mode}
        if mode == "chatty":
            plan["reports"] = rng.randint(1500, 4000)
        elif mode == "burst":
            plan["reports"] = rng.randint(1200, 5000)
        elif mode == "ignoreterm":
            # Long enough to be running when its worker is frozen, then
            # fenced off: the stop that needs the SIGKILL.
            plan["steps"] = rng.randint(20, 40)
            plan["sleep"] = round(rng.uniform(0.1, 0.2), 3)
        else:
            plan["steps"] = rng.randint(8, 25)
            plan["sleep"] = round(rng.uniform(0.05, 0.2), 3)
        return plan

    def manage_studies(self, want_new):
        """Creates what is still to be created; starts a new study when
        fewer than three run and want_new."""
        for s in self.studies.values():
            if not s["created"]:
                r = self.cli("study", "create", s["path"])
                if r is None:
                    return
                if r.returncode == 0 or "already exists" in r.stderr:
                    s["created"] = True
                    s["state"] = "RUNNING"
                    self.say("study %s created (%d trials, retries %d)"
                             % (s["name"], s["budget"], s["retries"]))
                else:
                    self.say("study create %s: %s" % (s["name"],
                                                      r.stderr.strip()))
                    return
        r = self.cli("--json", "study", "list")
        if r is None or r.returncode != 0:
            return
        try:
            listed = json.loads(r.stdout)["studies"]
        except ValueError:
            self.violation("cli-json", "study list: not JSON: %r"
                           % r.stdout[:200])
            return
        for st in listed:
            if st["name"] in self.studies:
                self.studies[st["name"]]["state"] = st["state"]
                self.studies[st["name"]]["listed"] = st
        running = [s for s in self.studies.values()
                   if s["state"] not in ("FINISHED", "STOPPED")]
        if want_new and len(running) < 3:
            self.new_study()

    def all_studies_ended(self):
        return all(s["state"] in ("FINISHED", "STOPPED")
                   for s in self.studies.values())

    # ---- faults --------------------------------------------------------
    def pick_fault(self):
        """A kind that can run now and its target, drawn by weight."""
        up = sorted(n for n in self.workers if self.worker_state[n] == "up")
        running = sorted(s["name"] for s in self.studies.values()
                         if s["state"] == "RUNNING" and s["created"])
        coord_ok = self.coord_state == "up" and not self.disk_full
        ok = []
        for kind in FAULT_WEIGHTS:
            if kind in self.skipped:
                continue
            if FAULT_WEIGHTS[kind] == 0:
                continue
            if kind.startswith("worker") and not up:
                continue
            if (kind.startswith("coord") or kind == "disk_full") and \
                    not coord_ok:
                continue
            if kind == "study_stop" and (not running or not coord_ok or
                                         len(running) < 2):
                continue
            ok.append(kind)
        if not ok:
            return None, None
        # Every kind once first, in random order, so that even a short
        # run covers them all; then by weight.
        fresh = [k for k in self.unused_kinds if k in ok]
        if fresh:
            kind = fresh[0]
            self.unused_kinds.remove(kind)
        else:
            kind = self.rng.choices(ok, weights=[FAULT_WEIGHTS[k]
                                                 for k in ok])[0]
        if kind.startswith("worker"):
            return kind, self.rng.choice(up)
        if kind == "study_stop":
            return kind, self.rng.choice(running)
        return kind, "coordinator"

    def inject(self, kind, target):
        rng = self.rng
        lease = self.lease
        if kind in KILLS:
            p = self.workers[target]
            f = self.fault(kind, target)
            if kind == "worker_kill":
                p.send_signal(signal.SIGKILL)
            else:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            self.workers[target] = None
            self.worker_state[target] = "dead"
            self.later(rng.uniform(0.2, 3.0), "restart " + target,
                       lambda: self.restart_worker(target, f))
        elif kind in ("worker_stop", "worker_pause"):
            d = rng.uniform(1.3, 2.2) * lease if kind == "worker_stop" \
                else 0.3 * lease
            f = self.fault(kind, target, "%.2fs" % d)
            p = self.workers[target]
            p.send_signal(signal.SIGSTOP)
            self.worker_state[target] = "stopped"

            def cont():
                p.send_signal(signal.SIGCONT)
                f["t1"] = time.time()
                if self.workers.get(target) is p:
                    self.worker_state[target] = "up"
            self.later(d, "SIGCONT " + target, cont)
        elif kind in ("coord_stop", "coord_pause", "coord_pause_flood"):
            d = rng.uniform(1.3, 2.2) * lease if kind == "coord_stop" \
                else 0.6 * lease
            f = self.fault(kind, target, "%.2fs" % d)
            p = self.coord
            p.send_signal(signal.SIGSTOP)
            self.coord_state = "stopped"

            def cont():
                p.send_signal(signal.SIGCONT)
                f["t1"] = time.time()
                if self.coord is p:
                    self.coord_state = "up"
            self.later(d, "SIGCONT coordinator", cont)
        elif kind == "coord_kill":
            f = self.fault(kind, target)
            self.kill_coord(f, rng.uniform(0.1, 2.0))
        elif kind == "coord_kill_commit":
            # Right after the coordinator logged an assign or a finish:
            # the kill lands just before or just after its commit, and
            # before or after the reply left.
            what = rng.choice(["assigned to", " COMPLETE value "])
            delay = rng.choice([0, 0, rng.uniform(0, 0.02)])
            seen = self.wait_log(what, 5.0)
            if delay:
                time.sleep(delay)
            f = self.fault(kind, target, "after %r (%s), +%.1f ms" % (
                what.strip(), "seen" if seen else "not seen in 5 s",
                delay * 1000))
            self.kill_coord(f, rng.uniform(0.1, 1.5))
        elif kind == "disk_full":
            # Held until the coordinator fails on it, or up to 12 s: its
            # WAL reuses space it already has, so only a turn that needs
            # a new page fails.
            f = self.fault(kind, target)
            self.fill_disk()
            deadline = time.time() + rng.uniform(6.0, 12.0)

            def free():
                if self.coord is not None and time.time() < deadline:
                    self.later(0.1, "free the disk", free)
                    return
                os.unlink(self.fill_path)
                self.disk_full = False
                self.disk_freed_at = f["t1"] = time.time()
                f["note"] = "held %.1fs, %s" % (
                    f["t1"] - f["t0"], "the coordinator still ran"
                    if self.coord else "the coordinator exited")
                self.say("disk freed: " + f["note"])
                if self.coord is None:
                    self.later(0.1, "restart coordinator",
                               lambda: self.restart_coord(f))
            self.later(0.1, "free the disk", free)
        elif kind == "study_stop":
            r = self.cli("study", "stop", target)
            if r is not None and r.returncode == 0:
                self.fault(kind, target)
                self.studies[target]["stopped_by_soak"] = True
        else:
            raise AssertionError(kind)

    def kill_coord(self, f, down_for):
        p = self.coord
        p.send_signal(signal.SIGKILL)
        p.wait()
        self.coord_exits.append((time.time(), p.returncode, True))
        self.coord = None
        self.coord_state = "down"
        self.later(down_for, "restart coordinator",
                   lambda: self.restart_coord(f))

    def wait_log(self, text, timeout):
        with open(self.coord_log, "rb") as f:
            f.seek(0, 2)
            buf = b""
            deadline = time.time() + timeout
            pat = text.encode()
            while time.time() < deadline:
                chunk = f.read()
                if chunk:
                    buf = (buf + chunk)[-4096:]
                    if pat in buf:
                        return True
                else:
                    time.sleep(0.001)
        return False

    def fill_disk(self):
        self.disk_full = True
        fd = os.open(self.fill_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                     0o600)
        try:
            for size in (1 << 20, 1 << 12, 1 << 9):
                block = b"\0" * size
                try:
                    while True:
                        os.write(fd, block)
                except OSError:
                    pass
        finally:
            os.close(fd)
        st = os.statvfs(self.dbdir)
        self.say("disk full: %d bytes free" % (st.f_bavail * st.f_frsize))

    def mount(self):
        size = "%dm" % self.args.tmpfs_mb
        try:
            r = subprocess.run(["mount", "-t", "tmpfs", "-o",
                                "size=" + size, "hpo-soak", self.dbdir],
                               capture_output=True, text=True)
            if r.returncode == 0:
                self.mounted = True
                return
            why = " ".join(r.stderr.split()) or \
                "mount exited %d" % r.returncode
        except OSError as e:
            why = str(e)
        self.skipped["disk_full"] = "cannot mount a tmpfs: %s" % why
        print("SKIPPED: fault kind disk_full: %s (run as root to cover it)"
              % self.skipped["disk_full"], flush=True)

    def run(self):
        a = self.args
        self.say("dir %s, seed %d, faults %d, workers %d x %d slots, lease "
                 "%d ms" % (self.dir, a.seed, a.faults, a.workers, a.slots,
                            a.lease_ms))
        self.mount()
        self.floods_left = a.floods
        self.unused_kinds = [k for k in FAULT_WEIGHTS
                             if FAULT_WEIGHTS[k] and k not in self.skipped]
        self.rng.shuffle(self.unused_kinds)
        self.floods_seen = 0
        self.side_seen = set()
        if not self.start_coordinator():
            raise RuntimeError("the coordinator does not start: "
                               + self.log_tail("coordinator.log"))
        for k in range(a.workers):
            self.start_worker("w%d" % k)
        for _ in range(3):
            self.new_study()
        injected = 0
        next_fault = time.time() + 2.0
        next_poll = next_flood_scan = 0
        while injected < a.faults:
            self.step_pending()
            self.check_processes()
            now = time.time()
            if now >= next_poll:
                self.manage_studies(want_new=True)
                next_poll = time.time() + 0.5
            if now >= next_flood_scan:
                if "coord_pause_flood" in FAULT_WEIGHTS and \
                        self.flood_started() and self.coord_state == "up" and \
                        not self.disk_full and injected < a.faults:
                    # The worker's outbox fills while the coordinator
                    # cannot ack: more than 100,000 reports wait.
                    self.say("fault %d/%d: coord_pause_flood" % (
                        injected + 1, a.faults))
                    self.inject("coord_pause_flood", "coordinator")
                    injected += 1
                next_flood_scan = time.time() + 0.1
            if now >= next_fault and injected < a.faults:
                kind, target = self.pick_fault()
                if kind:
                    self.say("fault %d/%d: %s %s" % (injected + 1, a.faults,
                                                      kind, target))
                    self.inject(kind, target)
                    injected += 1
                next_fault = time.time() + self.rng.uniform(0.3, 1.8)
            time.sleep(0.02)
        self.say("all %d faults injected; letting the studies end" % injected)
        t_last = time.time()
        while self.pending:
            self.step_pending()
            self.check_processes()
            time.sleep(0.02)
        deadline = t_last + a.settle
        while time.time() < deadline:
            self.step_pending()
            self.check_processes()
            self.manage_studies(want_new=False)
            if self.all_studies_ended():
                break
            time.sleep(0.5)
        for s in self.studies.values():
            if s["state"] not in ("FINISHED", "STOPPED"):
                self.violation("stuck-study", "study %s is %s %.0f s after "
                               "the last fault" % (s["name"], s["state"],
                                                   a.settle))
        self.say("studies: %s" % ", ".join(
            "%s %s" % (s["name"], s["state"])
            for s in self.studies.values()))
        self.shutdown()

    def flood_started(self):
        """Whether a flood program started since the last call."""
        if self.floods_seen >= self.args.floods:
            return False
        found = False
        for name in os.listdir(self.side):
            if name in self.side_seen:
                continue
            try:
                with open(os.path.join(self.side, name)) as f:
                    first = f.readline()
            except OSError:
                continue
            if not first.endswith("\n"):
                continue  # being written
            self.side_seen.add(name)
            first = first.split()
            if len(first) > 4 and first[4] == "flood":
                self.floods_seen += 1
                found = True
        return found

    def step_pending(self):
        now = time.time()
        due = [x for x in self.pending if x[0] <= now]
        self.pending = [x for x in self.pending if x[0] > now]
        for _, _, fn in sorted(due, key=lambda x: x[0]):
            fn()

    def shutdown(self):
        """Workers get SIGTERM (their running trials stop), then the
        coordinator; after that no process of any trial may be alive."""
        for name, p in self.workers.items():
            if p is not None:
                self.fault("shutdown", name)
                p.send_signal(signal.SIGCONT)
                p.send_signal(signal.SIGTERM)
        for name, p in self.workers.items():
            if p is None:
                continue
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.violation("worker-stop", "worker %s still runs 20 s "
                               "after SIGTERM" % name)
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            self.worker_state[name] = "dead"
        # The shims of killed workers get a grace period to finish their
        # work (grace is at most 1 s in our studies).
        self.t_workers_gone = time.time()
        time.sleep(3.0)
        if self.coord is not None:
            self.coord_expected_exit = True
            self.coord.send_signal(signal.SIGCONT)
            self.coord.send_signal(signal.SIGTERM)
            try:
                rc = self.coord.wait(timeout=20)
                if rc != 0:
                    self.violation("coordinator-exit", "SIGTERM: exit %s; "
                                   "log: %s" % (
                                       rc, self.log_tail("coordinator.log")))
            except subprocess.TimeoutExpired:
                self.violation("coordinator-exit", "still runs 20 s after "
                               "SIGTERM")
                self.coord.kill()
                self.coord.wait()
            self.coord = None

    # ---- teardown ------------------------------------------------------
    def recorded_pids(self):
        """(pid, starttime, role, key) of every process a program said it
        started."""
        out = []
        for name in os.listdir(self.side):
            with open(os.path.join(self.side, name), errors="replace") as f:
                for line in f:
                    if line.startswith("R"):
                        break  # S and P lines come before any report
                    if not line.endswith("\n"):
                        continue
                    w = line.split()
                    if w and w[0] == "S" and len(w) >= 4:
                        out.append((int(w[2]), int(w[3]), "program", name))
                    elif w and w[0] == "P" and len(w) == 4:
                        out.append((int(w[1]), int(w[2]), w[3], name))
        return out

    def teardown(self):
        """Everything this run started dies, by pid; the tmpfs goes."""
        for p in list(self.workers.values()) + [self.coord]:
            if p is not None and p.poll() is None:
                try:
                    p.send_signal(signal.SIGCONT)
                    p.kill()
                except ProcessLookupError:
                    pass
        for p in list(self.workers.values()) + [self.coord]:
            if p is not None:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        # What the programs recorded (pid and start time, so never a
        # recycled pid), and what is left in the workers' process groups
        # (shims): members started after the soak, not the group's leader
        # (every worker, the leader, is reaped by now, so a leader with
        # that pid would be some other process's new group).
        our_start = self.soak_start_ticks()
        for _ in range(3):
            victims = set()
            for pid, start, _, _ in self.recorded_pids():
                if same_process_alive(pid, start):
                    victims.add(pid)
            for d in os.listdir("/proc"):
                if d.isdigit():
                    pid = int(d)
                    st = proc_stat(pid)
                    if st and st[1] in self.worker_pgids and \
                            st[1] != pid and st[0] != "Z" and \
                            st[2] >= our_start:
                        victims.add(pid)
            if not victims:
                break
            for pid in victims:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.3)
        for log in self.logs:
            log.close()
        if self.mounted:
            if os.path.exists(self.fill_path):
                os.unlink(self.fill_path)
            if self.args.keep:
                # The database lives on the tmpfs: keep a copy.
                shutil.copytree(self.dbdir, self.dbdir + "-kept")
            r = subprocess.run(["umount", self.dbdir], capture_output=True)
            if r.returncode != 0:
                subprocess.run(["umount", "-l", self.dbdir])
            self.mounted = False
        if self.args.keep:
            print("soak: kept %s" % self.dir, flush=True)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def soak_start_ticks(self):
        st = proc_stat(os.getpid())
        return st[2] if st else 0


# ---- the checks -----------------------------------------------------------
class Attempt:
    def __init__(self):
        self.starts = []     # S lines (split)
        self.mode = None
        self.pids = []       # (pid, start, role)
        self.reports = {}    # (step, metric) -> (value, time)
        self.dups = 0
        self.objective = None
        self.bad = set()
        self.exit = None
        self.broken = False


def read_side(side_dir):
    out = {}
    for name in os.listdir(side_dir):
        m = re.match(r"(\d+)-(\d+)\.side$", name)
        if not m:
            continue
        a = Attempt()
        out[(int(m.group(1)), int(m.group(2)))] = a
        with open(os.path.join(side_dir, name), errors="replace") as f:
            for line in f:
                w = line.split()
                # A program killed in the middle of a write leaves a
                # partial last line; the lines it holds never reached
                # the report pipe (the side log is written first).
                if not w or not line.endswith("\n"):
                    continue
                if w[0] == "S":
                    a.starts.append(w)
                    a.mode = w[4]
                    a.pids.append((int(w[2]), int(w[3]), "program"))
                elif w[0] == "P":
                    a.pids.append((int(w[1]), int(w[2]), w[3]))
                elif w[0] == "R":
                    key = (int(w[2]), w[3])
                    if key in a.reports:
                        a.dups += 1
                    a.reports[key] = (float(w[4]), float(w[1]))
                elif w[0] == "O":
                    a.objective = float(w[2])
                elif w[0] == "B":
                    a.bad.add(int(w[1]))
                elif w[0] == "E":
                    a.exit = int(w[2])
                elif w[0] == "X":
                    a.broken = True
    return out


class Checker:
    def __init__(self, soak):
        self.soak = soak
        self.v = soak.violation
        self.lease = soak.lease

    def run(self):
        s = self.soak
        self.side = read_side(s.side)
        hellos = self.hellos()
        for f in s.faults:
            if "new_pid" in f:
                f["t1"] = hellos.get((f["target"], f["new_pid"]),
                                     f["t1"] + 1.0)
        self.orphans()
        if not os.path.exists(s.db):
            self.v("database", "no database at %s" % s.db)
            return
        conn = sqlite3.connect("file:%s?mode=ro" % s.db, uri=True)
        try:
            self.load(conn)
        finally:
            conn.close()
        self.studies()
        self.trials()
        self.reports()
        self.reasons()
        self.graces()

    def orphans(self):
        """No process of any trial outlives its worker: after every worker
        stopped (and 3 s for shims), none is left."""
        s = self.soak
        deadline = s.t_workers_gone + 5.0
        alive = []
        while True:
            alive = [(key, pid, start, role)
                     for key, a in self.side.items()
                     for pid, start, role in a.pids
                     if same_process_alive(pid, start)]
            if not alive or time.time() >= deadline:
                break
            time.sleep(0.2)
        for (tid, att), pid, start, role in alive:
            a = self.side[(tid, att)]
            self.v("orphan", "pid %d (%s, trial id %d attempt %d, "
                   "worker %s%s) outlived every worker"
                   % (pid, "the %s program itself" % a.mode
                      if role == "program" else
                      "%s of a %s program" % (role, a.mode), tid, att,
                      a.starts[0][9] if a.starts else "?",
                      ", its report pipe broke" if a.broken else ""))

    def load(self, conn):
        self.db_studies = {r[0]: {"name": r[1], "state": r[2]} for r in
                           conn.execute("SELECT id, name, state FROM study")}
        self.db_trials = {}
        for r in conn.execute("SELECT id, study_id, number, state, attempt,"
                              " value, worker, reason FROM trial"):
            self.db_trials[r[0]] = dict(zip(
                ("id", "study_id", "number", "state", "attempt", "value",
                 "worker", "reason"), r))
        self.db_attempts = collections.defaultdict(dict)
        for r in conn.execute("SELECT trial_id, attempt, worker, started,"
                              " ended, outcome, reason FROM attempt"):
            self.db_attempts[r[0]][r[1]] = dict(zip(
                ("trial_id", "attempt", "worker", "started", "ended",
                 "outcome", "reason"), r))
        self.db_values = collections.defaultdict(dict)
        self.n_values = 0
        for tid, step, metric, att, value in conn.execute(
                "SELECT trial_id, step, metric, attempt, value FROM value"):
            self.db_values[tid][(step, metric)] = (att, value)
            self.n_values += 1

    def tname(self, tid):
        t = self.db_trials.get(tid)
        if not t:
            return "trial id %d" % tid
        return "%s#%d (id %d)" % (
            self.db_studies.get(t["study_id"], {}).get("name", "?"),
            t["number"], tid)

    def studies(self):
        s = self.soak
        by_name = {st["name"]: (sid, st) for sid, st in
                   self.db_studies.items()}
        for name, mine in s.studies.items():
            if not mine["created"]:
                continue
            if name not in by_name:
                self.v("study-lost", "study %s was created but is not in "
                       "the database" % name)
                continue
            sid, st = by_name[name]
            trials = [t for t in self.db_trials.values()
                      if t["study_id"] == sid]
            numbers = sorted(t["number"] for t in trials)
            if numbers != list(range(len(numbers))):
                self.v("budget", "study %s: trial numbers are not 0..n-1: "
                       "%s" % (name, numbers))
            if st["state"] == "FINISHED" and len(trials) != mine["budget"]:
                self.v("budget", "study %s FINISHED with %d trials, budget "
                       "%d" % (name, len(trials), mine["budget"]))
            if len(trials) > mine["budget"]:
                self.v("budget", "study %s: %d trials, budget %d" % (
                    name, len(trials), mine["budget"]))
            if st["state"] == "STOPPED" and not mine["stopped_by_soak"]:
                self.v("study-state", "study %s STOPPED, but nobody "
                       "stopped it" % name)
            if st["state"] not in ("FINISHED", "STOPPED"):
                self.v("stuck-study", "study %s is %s in the database"
                       % (name, st["state"]))
            listed = mine.get("listed")
            if listed and listed["state"] in ("FINISHED", "STOPPED"):
                counts = collections.Counter(t["state"] for t in trials)
                said = {k: v for k, v in listed.get("counts", {}).items()
                        if v}
                if said != dict(counts):
                    self.v("counts", "study %s: hpo study list said %s, "
                           "the database has %s" % (name, said,
                                                    dict(counts)))
            for t in trials:
                if t["state"] in ("WAITING", "RUNNING"):
                    self.v("stuck-trial", "%s is %s in an ended study"
                           % (self.tname(t["id"]), t["state"]))

    def trials(self):
        for tid, t in self.db_trials.items():
            atts = self.db_attempts.get(tid, {})
            nums = sorted(atts)
            name = self.tname(tid)
            ended = t["state"] in ("COMPLETE", "FAILED", "PRUNED")
            if ended and nums != list(range(1, t["attempt"] + 1)):
                self.v("attempts", "%s: attempt rows %s, trial says attempt "
                       "%d" % (name, nums, t["attempt"]))
            outcomes = [atts[n]["outcome"] for n in nums]
            if outcomes.count("COMPLETE") > 1:
                self.v("stale-complete", "%s: %d COMPLETE attempts" % (
                    name, outcomes.count("COMPLETE")))
            if "COMPLETE" in outcomes and (
                    outcomes[-1] != "COMPLETE" or
                    nums[-1] != t["attempt"] or t["state"] != "COMPLETE"):
                self.v("stale-complete", "%s is %s, attempts %s" % (
                    name, t["state"], list(zip(nums, outcomes))))
            if t["state"] == "COMPLETE":
                last = atts.get(t["attempt"])
                if not last or last["outcome"] != "COMPLETE":
                    self.v("stale-complete", "%s COMPLETE but attempt %d is "
                           "%s" % (name, t["attempt"],
                                   last and last["outcome"]))
                a = self.side.get((tid, t["attempt"]))
                if a is None:
                    self.v("phantom-complete", "%s COMPLETE by attempt %d, "
                           "which never ran" % (name, t["attempt"]))
                else:
                    if a.exit != 0:
                        self.v("phantom-complete", "%s COMPLETE by attempt %d"
                               ", which did not exit 0 (exit %r)" % (
                                   name, t["attempt"], a.exit))
                    if t["value"] is None or t["value"] != a.objective:
                        self.v("value", "%s: value %r, the program's last "
                               "loss was %r" % (name, t["value"],
                                                a.objective))
            if t["state"] == "FAILED" and not t["reason"]:
                self.v("reason", "%s FAILED without a reason" % name)
        for (tid, att), a in self.side.items():
            name = self.tname(tid)
            # No S line: killed between creating its side log and
            # writing to it, before it could report anything.
            if len(a.starts) > 1:
                self.v("attempt-twice", "%s attempt %d started %d times" % (
                    name, att, len(a.starts)))
            t = self.db_trials.get(tid)
            if t is None:
                self.v("attempt-unknown", "trial id %d attempt %d ran, but "
                       "the database has no such trial" % (tid, att))
                continue
            if att > t["attempt"]:
                self.v("attempt-unknown", "%s attempt %d ran, but the trial "
                       "is at attempt %d" % (name, att, t["attempt"]))
            elif t["state"] in ("COMPLETE", "FAILED", "PRUNED") and \
                    att not in self.db_attempts.get(tid, {}):
                self.v("attempt-unknown", "%s attempt %d ran, but has no "
                       "attempt row" % (name, att))
            if a.dups:
                self.v("soak", "%s attempt %d: the program wrote a step "
                       "twice" % (name, att))

    def reports(self):
        """Stored values: each is one a program wrote, in the attempt the
        row names (no phantoms, no bad lines). Written values: an attempt
        that ended by its program's own exit (COMPLETE or FAILED) has all
        of them stored; a lost one, a subset (checked as no phantoms)."""
        self.written = 0
        self.stored_ok = 0
        lost = collections.defaultdict(list)
        for tid, rows in self.db_values.items():
            for (step, metric), (att, value) in rows.items():
                a = self.side.get((tid, att))
                w = a and a.reports.get((step, metric))
                if step >= BAD_STEP:
                    self.v("bad-line-stored", "%s attempt %d: step %d %s=%r "
                           "from a bad line is stored" % (
                               self.tname(tid), att, step, metric, value))
                elif w is None:
                    self.v("phantom-report", "%s: stored step %d %s=%r of "
                           "attempt %d, which never wrote it" % (
                               self.tname(tid), step, metric, value, att))
                elif w[0] != value:
                    self.v("phantom-report", "%s: stored step %d %s=%r of "
                           "attempt %d, which wrote %r" % (
                               self.tname(tid), step, metric, value, att,
                               w[0]))
        for (tid, att), a in self.side.items():
            self.written += len(a.reports)
            row = self.db_attempts.get(tid, {}).get(att)
            if not row or row["outcome"] not in ("COMPLETE", "FAILED") or \
                    a.exit is None:
                continue
            stored = self.db_values.get(tid, {})
            for key in a.reports:
                s = stored.get(key)
                if s is None or s[0] < att:
                    lost[(tid, att)].append(key[0])
                else:
                    self.stored_ok += 1
        drops = self.log_times("outbox full")
        for (tid, att), steps in sorted(lost.items()):
            a = self.side[(tid, att)]
            steps = sorted(set(steps))
            row = self.db_attempts[tid][att]
            hints = []
            if any(row["started"] <= t <= row["ended"] + 1
                   for t in drops.get(row["worker"], ())):
                hints.append("its worker logged 'outbox full'")
            n = sum(row["started"] <= r <= row["ended"]
                    for r in self.soak.coord_restarts)
            if n:
                hints.append("the coordinator restarted %d times during "
                             "it" % n)
            self.v("report-lost", "%s attempt %d (%s, %s, %d reports "
                   "written): %d steps not stored, from step %d (%s)%s" % (
                       self.tname(tid), att, a.mode, row["outcome"],
                       len(a.reports), len(steps), steps[0],
                       s_ranges(steps),
                       "; " + ", ".join(hints) if hints else ""))

    def graces(self):
        """A trial the worker stops (its attempt was fenced off) gets
        SIGTERM, and SIGKILL `trial.grace` later: from "stopping it" to
        "stopped after" in the worker's log takes no longer than the
        study's grace, plus 2 s for a loaded machine."""
        start = re.compile(r"trial (\S+)#(\d+) attempt (\d+): .*: "
                           r"stopping it$")
        end = re.compile(r"trial (\S+)#(\d+) attempt (\d+): stopped "
                         r"after")
        self.n_stops = 0
        for name in self.soak.workers:
            began = {}
            try:
                with open(os.path.join(self.soak.dir, "worker-%s.log"
                                       % name), errors="replace") as f:
                    lines = f.read().splitlines()
            except OSError:
                continue
            for line in lines:
                m = start.search(line)
                if m:
                    began[m.groups()] = s_log_time(line)
                    continue
                m = end.search(line)
                if m and m.groups() in began:
                    t0 = began.pop(m.groups())
                    study = self.soak.studies.get(m.group(1))
                    if not study:
                        continue
                    self.n_stops += 1
                    t1 = s_log_time(line)
                    took = t1 - t0
                    frozen = any(
                        f["target"] == name and f["kind"] in (
                            "worker_stop", "worker_pause") and
                        f["t0"] <= t1 and (f["t1"] or t1) >= t0
                        for f in self.soak.faults)
                    if took > study["grace"] + 2.0 and not frozen:
                        self.v("grace", "%s#%s attempt %s on %s: stopped "
                               "%.1f s after its SIGTERM, with grace %gs"
                               % (m.group(1), m.group(2), m.group(3), name,
                                  took, study["grace"]))

    def log_times(self, text):
        """worker name -> wall times of its log lines that contain text."""
        out = collections.defaultdict(list)
        for name in self.soak.workers:
            try:
                with open(os.path.join(self.soak.dir, "worker-%s.log"
                                       % name), errors="replace") as f:
                    for line in f:
                        if text in line:
                            out[name].append(s_log_time(line))
            except OSError:
                pass
        return out

    # -- reasons --
    def rehellos(self):
        """worker name -> wall times at which it said Hello again because
        the coordinator did not know its session."""
        if not hasattr(self, "_rehellos"):
            self._rehellos = self.log_times(
                "coordinator does not know this session")
        return self._rehellos

    def hellos(self):
        """(worker name, pid) -> wall time of its first Hello, from the
        coordinator's log."""
        out = {}
        pat = re.compile(r"^(\S+)Z .*: worker (\S+) \(\S+ pid (\d+)\)"
                         r": hello")
        try:
            with open(self.soak.coord_log, errors="replace") as f:
                for line in f:
                    m = pat.match(line)
                    if m and (m.group(2), int(m.group(3))) not in out:
                        out[(m.group(2), int(m.group(3)))] = \
                            s_log_time(line)
        except OSError:
            pass
        return out

    def faults_on(self, worker, t0, t1, need_silence):
        """Faults that made `worker` dead or frozen during [t0, t1]."""
        out = []
        for f in self.soak.faults:
            if f["target"] != worker:
                continue
            end = f["t1"] if f["t1"] is not None else float("inf")
            if f["kind"] in KILLS + ("worker_crash",):
                # Assigned before the new incarnation's Hello: to the
                # dead one. f["t1"] is when the soak started the new
                # process; its Hello reaches the coordinator later (under
                # the sanitizers and a loaded machine, seconds later), and
                # until then an Assign still goes to the dead session.
                if f["t0"] <= t1 and end + HELLO_SLACK_S >= t0 + 0.5:
                    out.append(f)
            elif f["kind"] == "worker_stop":
                if f["t0"] <= t1 and end >= t0 and \
                        (not need_silence or end - f["t0"] >= self.lease):
                    out.append(f)
            elif f["kind"] == "shutdown" and f["t0"] <= t1 + 1:
                out.append(f)
        return out

    def coord_faults(self, t0, t1):
        return [f for f in self.soak.faults
                if f["target"] == "coordinator" and f["t0"] <= t1 and
                (f["t1"] or float("inf")) >= t0]

    def judge(self, tid, row):
        """(verdict, why) for the reason of a LOST or FAILED attempt."""
        reason = row["reason"] or ""
        a = self.side.get((tid, row["attempt"]))
        t0, t1 = row["started"] - 0.5, row["ended"]
        m = re.match(r"lease expired: worker (\S+) silent for (\d+) ms",
                     reason)
        if m:
            if self.faults_on(m.group(1), t0, t1, need_silence=True):
                return True, ""
            near = self.coord_faults(t1 - self.lease - 10, t1)
            why = "worker %s was never silent that long" % m.group(1)
            if near:
                why += "; the coordinator was: " + ", ".join(
                    "%s at %+.1fs" % (f["kind"], f["t0"] - t1)
                    for f in near)
            if a is None and any(t0 <= r <= t1 for r in
                                 self.soak.coord_restarts):
                why += "; the attempt never ran and the coordinator " \
                    "restarted during it (an Assign that never arrived?)"
            return False, why
        m = re.match(r"exit status (\d+)", reason)
        if m:
            if a is not None and a.exit == int(m.group(1)):
                return True, ""
            return False, "the program exited %r" % (a and a.exit)
        if reason.startswith("timeout after"):
            return row["ended"] - row["started"] >= 100, ""
        if reason == "study stopped before a retry ran":
            t = self.db_trials[tid]
            name = self.db_studies[t["study_id"]]["name"]
            return self.soak.studies.get(name, {}).get(
                "stopped_by_soak", False), "nobody stopped the study"
        # Reasons worded by later fixes: one that names a worker is true
        # if that worker died, froze or was stopped during the attempt;
        # one about a restart or an unclaimed trial, if the coordinator
        # restarted during it.
        m = re.search(r"worker (\S+)", reason)
        if m and self.faults_on(m.group(1), t0, t1, False):
            return True, ""
        # "not claimed by worker W after it reconnected": true if W itself
        # logged that it said Hello again on a new connection during the
        # attempt (a coordinator pause can break the TCP connection, and
        # an Assign sent to the old one is lost with it).
        m2 = re.match(r"not claimed by worker (\S+) after it reconnected",
                      reason)
        if m2:
            again = self.rehellos().get(m2.group(1), [])
            if any(t0 <= t <= t1 + 1 for t in again):
                return True, ""
            return False, "worker %s did not reconnect then" % m2.group(1)
        if re.search(r"restart|claim", reason):
            restarts = [r for r in self.soak.coord_restarts[1:]
                        if t0 - 1 <= r <= t1]
            return bool(restarts), "no coordinator restart during it"
        if m:
            return False, "worker %s had no fault then" % m.group(1)
        return False, "unexplained"

    def reasons(self):
        self.reason_table = collections.Counter()
        for tid, atts in self.db_attempts.items():
            for n, row in atts.items():
                if row["outcome"] not in ("LOST", "FAILED"):
                    continue
                ok, why = self.judge(tid, row)
                shape = re.sub(r"worker \S+", "worker W",
                               re.sub(r"\d+", "N", row["reason"] or ""))
                self.reason_table[(row["outcome"], shape, ok)] += 1
                if not ok:
                    a = self.side.get((tid, n))
                    self.v("false-reason", "%s attempt %d %s: %r: %s "
                           "(program: %s)" % (
                               self.tname(tid), n, row["outcome"],
                               row["reason"], why,
                               "never ran" if a is None else
                               "%s, exit %r" % (a.mode, a.exit)))


def s_log_time(line):
    """Wall time of an hpo log line ("2026-11-28T07:07:45.642Z ..."), or 0."""
    try:
        return datetime.datetime.strptime(
            line[:23], "%Y-%m-%dT%H:%M:%S.%f").replace(
                tzinfo=datetime.timezone.utc).timestamp()
    except ValueError:
        return 0.0


def s_ranges(nums, most=6):
    """'998-1999, 2100' for sorted ints, at most `most` runs."""
    runs = []
    for n in nums:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    text = ", ".join("%d-%d" % (a, b) if a != b else "%d" % a
                     for a, b in runs[:most])
    return text + (", ..." if len(runs) > most else "")


def summary(soak, checker):
    s = soak
    print("\n==== soak summary (seed %d) ====" % s.args.seed)
    print("faults injected: %d" % sum(n for k, n in s.fault_counts.items()
                                      if k in FAULT_WEIGHTS))
    for k in FAULT_WEIGHTS:
        if k in s.skipped:
            print("  %-18s SKIPPED: %s" % (k, s.skipped[k]))
        else:
            print("  %-18s %d" % (k, s.fault_counts.get(k, 0)))
    if s.fault_counts.get("worker_crash"):
        print("  (workers that exited on their own: %d)"
              % s.fault_counts["worker_crash"])
    if checker and hasattr(checker, "side"):
        modes = collections.Counter(a.mode or "?"
                                    for a in checker.side.values())
        print("program attempts: %d (%s); %d cut short (no exit of "
              "their own), %d saw their report pipe break" % (
                  len(checker.side), ", ".join(
                      "%s %d" % kv for kv in sorted(modes.items())),
                  sum(a.exit is None for a in checker.side.values()),
                  sum(a.broken for a in checker.side.values())))
    if checker and hasattr(checker, "db_trials"):
        states = collections.Counter(str(t["state"])
                                     for t in checker.db_trials.values())
        outcomes = collections.Counter(
            str(r["outcome"]) for atts in checker.db_attempts.values()
            for r in atts.values())
        print("studies: %d; trials: %d (%s); attempts: %d (%s)" % (
            len(checker.db_studies), len(checker.db_trials),
            ", ".join("%s %d" % kv for kv in sorted(states.items())),
            sum(outcomes.values()),
            ", ".join("%s %d" % kv for kv in sorted(outcomes.items()))))
        print("reports: %d written by programs, %d values stored, %d "
              "checked stored of attempts that ended by their own exit"
              % (checker.written, checker.n_values, checker.stored_ok))
        print("trials stopped by their worker (grace checked): %d"
              % checker.n_stops)
        print("reasons of LOST and FAILED attempts (ok = true):")
        for (outcome, shape, ok), n in sorted(checker.reason_table.items()):
            print("  %-5s %5d  %-6s %s" % ("ok" if ok else "FALSE", n,
                                           outcome, shape))
    coord_exits = [e for e in s.coord_exits if not e[2]]
    print("coordinator restarts: %d; unexpected exits: %d" % (
        max(0, len(s.coord_restarts) - 1), len(coord_exits)))
    print("violations: %d" % len(s.violations))
    by_kind = collections.defaultdict(list)
    for kind, text in s.violations:
        by_kind[kind].append(text)
    for kind, texts in sorted(by_kind.items()):
        print("  %s: %d" % (kind, len(texts)))
        show = len(texts) if s.args.show is None else s.args.show
        for text in texts[:show]:
            print("    - " + text)
        if len(texts) > show:
            print("    ... and %d more" % (len(texts) - show))


def write_violations(soak):
    """All of them, with the faults, in DIR/violations.txt."""
    with open(os.path.join(soak.dir, "violations.txt"), "w") as f:
        for kind, text in soak.violations:
            f.write("%s: %s\n" % (kind, text))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--faults", type=int, default=25)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--slots", type=int, default=2)
    p.add_argument("--keep", metavar="DIR",
                   help="run in DIR (new or empty) and keep it")
    p.add_argument("--lease-ms", type=int, default=2000)
    p.add_argument("--heartbeat-ms", type=int, default=250)
    p.add_argument("--settle", type=float, default=90.0,
                   help="seconds after the last fault for every study to "
                   "end (default 90)")
    p.add_argument("--floods", type=int, default=None,
                   help="trials that write over 100,000 lines (default: "
                   "1 + one per 100 faults)")
    p.add_argument("--tmpfs-mb", type=int, default=None,
                   help="size of the database's tmpfs (default: 64, or "
                   "faults / 2 if more)")
    p.add_argument("--kinds", help="only these fault kinds (comma "
                   "list; default all)")
    p.add_argument("--modes", help="only these program modes (comma "
                   "list; default all but flood, which --floods adds)")
    p.add_argument("--show", type=int, default=None,
                   help="violations listed per kind (default: all)")
    args = p.parse_args()
    floods_given = args.floods is not None
    for opt, table in (("kinds", FAULT_WEIGHTS), ("modes", MODE_WEIGHTS)):
        if not getattr(args, opt):
            continue
        chosen = getattr(args, opt).split(",")
        known = list(table) + (["flood"] if opt == "modes" else [])
        bad = [k for k in chosen if k not in known]
        if bad:
            p.error("--%s: unknown %s (known: %s)" % (
                opt, ", ".join(bad), ", ".join(known)))
        for k in list(table):
            if k not in chosen:
                del table[k]
        if opt == "modes" and "flood" not in chosen and not floods_given:
            args.floods = 0
    if not any(FAULT_WEIGHTS.values()) and args.faults:
        p.error("--kinds: coord_pause_flood comes only with floods; "
                "name another kind too")
    if not MODE_WEIGHTS:
        p.error("--modes: name a mode besides flood")
    if args.tmpfs_mb is None:
        args.tmpfs_mb = max(64, args.faults // 2)
    if args.floods is None:
        args.floods = 1 + args.faults // 100
    for name in ("hpo-coordinator", "hpo-worker", "hpo"):
        if not os.access(harness.exe(name), os.X_OK):
            print("SKIPPED: no %s (build first, or set HPO_BIN)"
                  % harness.exe(name))
            return 77
    if not os.path.isdir("/proc/self"):
        print("SKIPPED: no /proc")
        return 77

    def on_term(signum, frame):
        raise Interrupted("signal %d" % signum)
    # SIGINT too: a shell starts background jobs with SIGINT ignored,
    # and then Python would not raise KeyboardInterrupt.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_term)
    soak = Soak(args)
    checker = None
    status = 2
    try:
        soak.run()
        checker = Checker(soak)
        checker.run()
        write_violations(soak)
        summary(soak, checker)
        status = 1 if soak.violations else 0
    except (KeyboardInterrupt, Interrupted) as e:
        print("soak: interrupted (%s); tearing down" % (e or "SIGINT"),
              flush=True)
        status = 130
    except Exception:
        traceback.print_exc()
        print("soak: the soak itself failed; tearing down", flush=True)
        status = 2
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        soak.teardown()
    return status


if __name__ == "__main__":
    sys.exit(main())
