"""Failure reasons a person can act on, and studies that say where and
with what environment their command runs (issue #9).

- A failure a retry cannot change (the command not found, the workdir
  not there, the objective never reported while other metrics were, the
  reports printed to stdout) is sent by the worker with
  Finish.permanent, which a fake coordinator checks on the wire; through
  a real coordinator the trial fails after one attempt though it has
  retries left, with the reason in `hpo trial show`.
- workdir (relative to the worker's directory) and env reach the
  program; hpo's own variables stay hpo's.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import PYTHON, ClusterTest, exe
import rawpeer

WHY_NOT_RAW = rawpeer.load()

# Reports its objective only when told to; otherwise what the test asks:
# other metrics, or the objective printed to stdout. Writes where it ran
# and what the study's env gave it to probe.out in its directory.
PROBE = r'''
import json, os, sys
mode = sys.argv[1]
with open("probe.out", "w") as f:
    json.dump({"cwd": os.getcwd(), "var": os.environ.get("PROBE_VAR"),
               "trial": os.environ.get("HPO_TRIAL"),
               "fd": os.environ.get("HPO_REPORT_FD")}, f)
rep = os.fdopen(int(os.environ["HPO_REPORT_FD"]), "w")
if mode == "ok":
    rep.write("loss=%s\n" % os.environ.get("PROBE_VAR", "1"))
elif mode == "others":
    rep.write("step=1 val_loss=0.5 val_acc=0.7\n")
    rep.write("val_loss=0.4 val_acc=0.8\n")
elif mode == "stdout":
    for step in range(12):
        print("step=%d loss=%g" % (step, 1.0 / (step + 1)))
rep.flush()
'''


def study(name, mode="ok", command=None, retries=2, extra=""):
    command = command or "%s probe.py %s {x}" % (PYTHON, mode)
    return ("name: %s\n"
            "command: %s\n"
            "objective: {metric: loss}\n"
            "budget: {trials: 1}\n"
            "trial: {retries: %d}\n"
            "space: {x: {type: int, low: 1, high: 1}}\n%s"
            % (name, command, retries, extra))


class ReasonsTest(ClusterTest):
    cluster_args = {"heartbeat_ms": 200, "lease_ms": 5000}

    def setUp(self):
        super().setUp()
        # The worker runs from the cluster's directory; a study's relative
        # workdir is taken from there.
        self.proj = os.path.join(self.c.dir, "proj")
        os.makedirs(self.proj)
        for d in (self.c.dir, self.proj):
            with open(os.path.join(d, "probe.py"), "w") as f:
                f.write(PROBE)
        self.c.start_worker("w1")

    def run_study(self, name, text, state="FAILED"):
        self.c.create_study(text, name=name + ".yaml")
        self.c.wait_study_done(name, timeout=60)
        trial = self.c.cli_json("trial", "show", name, "0")
        self.assertEqual(trial["state"], state, trial)
        return trial

    def assert_permanent(self, trial, reason):
        self.assertEqual(trial["reason"], reason)
        # One attempt, though the study allows retries: no retry can
        # change it.
        self.assertEqual(len(trial["attempts"]), 1, trial)
        self.assertEqual(trial["attempts"][0]["reason"], reason)

    def test_command_not_found(self):
        t = self.run_study("nf", study("nf", command="hpo-no-such-cmd {x}"))
        self.assert_permanent(t, "command not found: hpo-no-such-cmd")
        t = self.run_study("nfsh", study(
            "nfsh", command='{run: "echo hi; hpo-no-such-cmd --x {x}", '
            'shell: true}'))
        self.assert_permanent(t, "command not found: hpo-no-such-cmd")

    def test_objective_never_reported_lists_the_others(self):
        t = self.run_study("others", study("others", "others"))
        self.assert_permanent(t, "objective 'loss' never reported "
                              "(reported: val_acc, val_loss)")

    def test_stdout_report_lines_name_the_fix(self):
        t = self.run_study("printed", study("printed", "stdout"))
        self.assert_permanent(
            t, "objective 'loss' never reported; stdout/stderr had 12 report "
            "lines: write them to the file descriptor in $HPO_REPORT_FD "
            "(see README \"Reporting metrics\")")

    def test_non_zero_exit_is_retried(self):
        t = self.run_study("exit3", study(
            "exit3", command="%s -c 'raise SystemExit(3)' {x}" % PYTHON,
            retries=1))
        self.assertEqual(t["reason"], "exit status 3")
        self.assertEqual(len(t["attempts"]), 2, t)

    def test_workdir_and_env_reach_the_program(self):
        t = self.run_study("wd", study(
            "wd", "ok", extra="workdir: proj\n"
            "env: {PROBE_VAR: 7, PATH: '%s'}\n"
            % os.environ.get("PATH", "/usr/bin:/bin")), state="COMPLETE")
        self.assertEqual(t["value"], 7)
        with open(os.path.join(self.proj, "probe.out")) as f:
            out = json.load(f)
        self.assertEqual(os.path.realpath(out["cwd"]),
                         os.path.realpath(self.proj))
        self.assertEqual(out["var"], "7")
        self.assertEqual(out["trial"], "0")
        self.assertEqual(out["fd"], "3")
        self.assertFalse(os.path.exists(os.path.join(self.c.dir,
                                                     "probe.out")))
        # Absolute works too.
        t = self.run_study("wdabs", study(
            "wdabs", "ok", extra="workdir: %s\nenv: {PROBE_VAR: 2}\n"
            % self.proj), state="COMPLETE")
        self.assertEqual(t["value"], 2)

    def test_bad_workdir_fails_clearly(self):
        missing = os.path.join(self.c.dir, "no-such-dir")
        t = self.run_study("badwd", study(
            "badwd", "ok", extra="workdir: %s\n" % missing))
        self.assert_permanent(
            t, "workdir %s: No such file or directory" % missing)

    def test_env_of_hpo_is_refused(self):
        path = os.path.join(self.c.dir, "hpoenv.yaml")
        with open(path, "w") as f:
            f.write(study("hpoenv", extra="env:\n  HPO_TRIAL: 3\n"))
        r = self.c.cli("study", "create", path, check=False)
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("hpoenv.yaml:8: env.HPO_TRIAL: a variable name starts "
                      "with HPO_, which hpo keeps for its own variables",
                      r.stderr)


class FakeCoordinator:
    """A ROUTER on a port the kernel picks, speaking just enough of the
    protocol to a real worker to hand it Assigns and read its Finishes."""

    def __init__(self):
        zmq, self.pb = rawpeer.zmq, rawpeer.pb
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.bind("tcp://127.0.0.1:*")
        self.endpoint = self.sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self.rid = None
        self.seq = 0

    def close(self):
        self.sock.close(0)
        self.ctx.term()

    def send(self, body, msg, acks=()):
        self.seq += 1
        env = self.pb.Envelope(version=rawpeer.VERSION, seq=self.seq,
                               acks=list(acks))
        getattr(env, body).CopyFrom(msg)
        self.sock.send_multipart([self.rid, env.SerializeToString()])

    def wait(self, body, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.sock.poll(100):
                continue
            rid, data = self.sock.recv_multipart()
            env = self.pb.Envelope()
            env.ParseFromString(data)
            self.rid = rid
            if env.WhichOneof("body") == body:
                return env
        raise AssertionError("no %s within %ss" % (body, timeout))


@unittest.skipIf(WHY_NOT_RAW, "raw peers: %s" % WHY_NOT_RAW)
class PermanentOnTheWireTest(unittest.TestCase):
    """What the worker itself sends, whatever the coordinator makes of it."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hpo-e2e-reasons-")
        self.fake = FakeCoordinator()
        self.log = open(os.path.join(self.dir, "worker.log"), "wb")
        self.worker = subprocess.Popen(
            [exe("hpo-worker"), "--coordinator", self.fake.endpoint,
             "--name", "wire", "--state-dir",
             os.path.join(self.dir, "state")],
            stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=self.dir)
        with open(os.path.join(self.dir, "probe.py"), "w") as f:
            f.write(PROBE)
        hello = self.fake.wait("hello", 10)
        self.fake.send("welcome", self.fake.pb.Welcome(heartbeat_ms=200,
                                                       lease_ms=5000),
                       acks=[hello.seq])
        self.trial = 0

    def tearDown(self):
        self.worker.kill()
        self.worker.wait(timeout=10)
        self.fake.close()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def finish_of(self, command, shell=False, workdir="", env=()):
        self.trial += 1
        pb = self.fake.pb
        self.fake.send("assign", pb.Assign(
            trial_id=self.trial, attempt=1, study="wire",
            number=self.trial, command=command, shell=shell,
            params=[pb.Param(name="x", kind=2, i=1)], objective="loss",
            grace_ms=100, workdir=workdir, env=list(env)))
        env = self.fake.wait("finish", 20)
        self.fake.send("ack", pb.Ack(), acks=[env.seq])
        return env.finish

    def test_permanent_flags(self):
        f = self.finish_of("hpo-no-such-cmd {x}")
        self.assertEqual(f.reason, "command not found: hpo-no-such-cmd")
        self.assertTrue(f.permanent)
        f = self.finish_of("%s probe.py others {x}" % PYTHON)
        self.assertEqual(f.reason, "objective 'loss' never reported "
                         "(reported: val_acc, val_loss)")
        self.assertTrue(f.permanent)
        f = self.finish_of("%s probe.py stdout {x}" % PYTHON)
        self.assertIn("stdout/stderr had 12 report lines", f.reason)
        self.assertTrue(f.permanent)
        f = self.finish_of("echo x; exit 3", shell=True)
        self.assertEqual(f.reason, "exit status 3")
        self.assertFalse(f.permanent)
        f = self.finish_of("%s probe.py ok {x}" % PYTHON, workdir="nowhere")
        self.assertEqual(f.reason,
                         "workdir nowhere: No such file or directory")
        self.assertTrue(f.permanent)
        # From the network: names hpo sets itself are refused, not applied.
        f = self.finish_of("%s probe.py ok {x}" % PYTHON,
                           env=["HPO_REPORT_FD=1"])
        self.assertIn("env variable 'HPO_REPORT_FD' starts with HPO_",
                      f.reason)
        self.assertTrue(f.permanent)
        f = self.finish_of("%s probe.py ok {x}" % PYTHON,
                           env=["PROBE_VAR=5", "1BAD=2"])
        self.assertIn("env variable '1BAD' must match", f.reason)
        f = self.finish_of("%s probe.py ok {x}" % PYTHON,
                           env=["PROBE_VAR=5"])
        self.assertEqual(f.outcome, self.fake.pb.Outcome.Value(
            "OUTCOME_COMPLETE"))
        self.assertEqual(f.value, 5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
