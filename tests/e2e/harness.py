"""End-to-end harness: real hpo processes on loopback.

Each Cluster lives in its own temporary directory, binds ports the kernel
chooses (tcp://127.0.0.1:*), starts the processes it needs and tears them
down by pid. Every wait is bounded.
"""
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

BIN = os.environ.get("HPO_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build")
SRC = os.environ.get("HPO_SRC") or os.path.join(os.path.dirname(__file__),
                                                "..", "..")
TRAINER = os.path.abspath(os.path.join(os.path.dirname(__file__),
                                       "trainer.py"))
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") \
    else sys.executable


def exe(name):
    return os.path.join(BIN, name)


class TimeoutError_(AssertionError):
    pass


def wait_for(pred, timeout, what, interval=0.05):
    """Polls pred until it returns something true; fails after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise TimeoutError_("timed out after %.1fs waiting for %s (last: %r)"
                        % (timeout, what, last))


def test_ok(tc):
    """Whether the unittest case tc has not failed so far (for tearDown:
    dump the logs of a failed test, so CI output says what happened)."""
    outcome = getattr(tc, "_outcome", None)
    if outcome is None:
        return True
    if any(exc for _, exc in getattr(outcome, "errors", [])):
        return False
    result = getattr(outcome, "result", None)
    return not any(t is tc for t, _ in getattr(result, "failures", [])
                   + getattr(result, "errors", []))


def alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


class Cluster:
    """prefix: a command the coordinator runs under (for example
    ["ip", "netns", "exec", "ns1"], which execs, so the pid stays the
    coordinator's); cli_prefix the same for `hpo` (default: prefix);
    start_worker takes its own. listen: the coordinator's --listen."""

    def __init__(self, heartbeat_ms=200, lease_ms=1500, keep=False,
                 listen="tcp://127.0.0.1:*", prefix=(), cli_prefix=None):
        self.dir = tempfile.mkdtemp(prefix="hpo-e2e-")
        self.heartbeat_ms = heartbeat_ms
        self.lease_ms = lease_ms
        self.coordinator = None
        self.endpoint = None
        self.listen = listen
        self.prefix = list(prefix)
        self.cli_prefix = list(prefix if cli_prefix is None else cli_prefix)
        self.workers = {}
        self.logs = []
        self.keep = keep

    # ---- processes ---------------------------------------------------
    def _spawn(self, args, log_name, env=None):
        log = open(os.path.join(self.dir, log_name), "ab")
        self.logs.append(log)
        e = dict(os.environ)
        e["HPO_TEST_DIR"] = self.dir
        if env:
            e.update(env)
        return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=e,
                                cwd=self.dir)

    def start_coordinator(self, extra=()):
        epfile = os.path.join(self.dir, "endpoint")
        if os.path.exists(epfile):
            os.unlink(epfile)
        self.coordinator = self._spawn(
            self.prefix +
            [exe("hpo-coordinator"), "--db", os.path.join(self.dir, "hpo.db"),
             "--listen", self.listen, "--endpoint-file", epfile,
             "--heartbeat-ms", str(self.heartbeat_ms),
             "--lease-ms", str(self.lease_ms)] + list(extra),
            "coordinator.log")
        ep = wait_for(lambda: os.path.exists(epfile) and
                      open(epfile).read().strip(), 10,
                      "the coordinator to listen")
        self.endpoint = ep
        # Restarts bind the same port, as a real head node would.
        self.listen = ep
        return self.coordinator

    def stop_coordinator(self, sig=signal.SIGTERM, timeout=10):
        p = self.coordinator
        p.send_signal(sig)
        p.wait(timeout=timeout)
        self.coordinator = None
        return p.returncode

    def start_worker(self, name, slots=1, extra=(), prefix=()):
        p = self._spawn(
            list(prefix) +
            [exe("hpo-worker"), "--coordinator", self.endpoint,
             "--slots", str(slots), "--name", name,
             "--state-dir", os.path.join(self.dir, "state-" + name)]
            + list(extra), "worker-%s.log" % name)
        self.workers[name] = p
        return p

    def kill_worker(self, name, sig=signal.SIGKILL):
        p = self.workers[name]
        p.send_signal(sig)
        if sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
            p.wait(timeout=10)

    # ---- the CLI -------------------------------------------------------
    def cli(self, *args, check=True, timeout=20):
        r = subprocess.run(self.cli_prefix
                           + [exe("hpo"), "--coordinator", self.endpoint]
                           + list(args), capture_output=True, text=True,
                           timeout=timeout, cwd=self.dir)
        if check and r.returncode != 0:
            raise AssertionError("hpo %s failed (%d): %s%s" % (
                " ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def cli_json(self, *args):
        r = self.cli("--json", *args)
        return json.loads(r.stdout)

    def create_study(self, text, name="study.yaml"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return self.cli("study", "create", path)

    def study(self, name):
        return self.cli_json("study", "show", name)

    def trials(self, name):
        return self.cli_json("trials", name)["trials"]

    def wait_study_done(self, name, timeout=60):
        return wait_for(lambda: (lambda s: s if s["state"] in
                                 ("FINISHED", "STOPPED", "FAILED") else None)(
                                     self.study(name)),
                        timeout, "study %s to finish" % name, interval=0.2)

    def runs(self):
        """Lines of runs.log: (trial, attempt, pid, event)."""
        path = os.path.join(self.dir, "runs.log")
        if not os.path.exists(path):
            return []
        out = []
        for line in open(path):
            t, a, pid, ev = line.split()
            out.append((int(t), int(a), int(pid), ev))
        return out

    def log_text(self, name):
        with open(os.path.join(self.dir, name), errors="replace") as f:
            return f.read()

    # ---- teardown ------------------------------------------------------
    def close(self):
        procs = list(self.workers.values())
        if self.coordinator:
            procs.append(self.coordinator)
        for p in procs:
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGCONT)
                    p.kill()
                except ProcessLookupError:
                    pass
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        # Anything a trial started that outlived its worker is a bug the
        # orphan tests look for; here we only make sure nothing lingers.
        for _, _, pid, _ in self.runs():
            if alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for log in self.logs:
            log.close()
        if self.keep or os.environ.get("HPO_KEEP"):
            print("kept", self.dir, file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def dump_logs(self):
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".log") and name != "runs.log":
                sys.stderr.write("---- %s ----\n" % name)
                sys.stderr.write(self.log_text(name)[-6000:])


def study_yaml(name, trials=6, parallel=0, sampler="random", retries=1,
               timeout=None, args="", space=None, seed=7):
    space = space or "  x: {type: float, low: 0, high: 1}\n"
    lines = [
        "name: %s" % name,
        "command: %s %s --x {x} %s" % (PYTHON, TRAINER, args),
        "objective: {metric: loss, direction: minimize}",
        "sampler: {type: %s, seed: %d}" % (sampler, seed),
        "budget: {trials: %d, parallel: %d}" % (trials, parallel),
        "trial: {retries: %d%s}" % (retries, (", timeout: %s" % timeout)
                                     if timeout else ""),
        "space:",
    ]
    return "\n".join(lines) + "\n" + space


class ClusterTest(unittest.TestCase):
    """A test case on a fresh cluster whose coordinator is running. A
    subclass sets cluster_args (Cluster's keywords) and may append what
    else to close to self.peers (raw peers); the cluster's logs are
    printed when a test fails."""

    cluster_args = {}

    def setUp(self):
        self.c = Cluster(**self.cluster_args)
        self.c.start_coordinator()
        self.peers = []

    def tearDown(self):
        for p in self.peers:
            p.close()
        if not test_ok(self):
            self.c.dump_logs()
        self.c.close()


def run_or_skip(name, why_not, teardown):
    """main() of a test that needs what a machine may lack (root, network
    namespaces, Slurm): exits 77 with the reason when why_not() gives one,
    so ctest reports the test as skipped (SKIP_RETURN_CODE), loudly, not
    as passed. Otherwise runs the tests with teardown() at exit, also on
    SIGTERM (ctest's timeout)."""
    why = why_not()
    if why:
        sys.stderr.write("\n*** %s SKIPPED: %s ***\n\n" % (name, why))
        sys.exit(77)

    def on_signal(signum, frame):
        # KeyboardInterrupt gets through unittest (SystemExit would be
        # caught as a test error); atexit then tears everything down.
        raise KeyboardInterrupt("signal %d" % signum)

    atexit.register(teardown)
    signal.signal(signal.SIGTERM, on_signal)
    unittest.main(verbosity=2)
