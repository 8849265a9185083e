"""Metrics from programs that cannot be changed, checkpoints across hosts,
and the Python helper (issue #8).

- A study with `metrics: {source: stdout}` completes from what its
  program prints: `epoch=3 val_loss=0.41` with the default pattern, any
  text with a pattern of named groups.
- Two workers with the same --checkpoint-root give a trial the same
  HPO_CHECKPOINT_DIR: an attempt that replaces one lost with its worker
  resumes from what that one saved, and the lost attempt's intermediate
  values stay in `hpo trial show`, marked with their attempt.
- python/hpo.py under a real worker (parameters, reports, the checkpoint
  directory, SIGTERM raising hpo.Pruned at the next report) and by hand.
"""
import json
import os
import signal
import stat
import subprocess
import sys
import time
import unittest

from harness import PYTHON, SRC, ClusterTest, exe, wait_for

PYDIR = os.path.abspath(os.path.join(SRC, "python"))

# Saves a checkpoint after three steps, then (first attempt) waits to be
# killed with its worker; an attempt that finds the checkpoint carries on
# from it. Each attempt writes what it saw to ckpt-ATTEMPT.json.
RESUME = r'''
import json, os, sys, time
ck = os.environ["HPO_CHECKPOINT_DIR"]
rep = os.fdopen(int(os.environ["HPO_REPORT_FD"]), "w", buffering=1)
path = os.path.join(ck, "state")
start = int(open(path).read()) if os.path.exists(path) else 0
out = os.path.join(os.environ["HPO_TEST_DIR"],
                   "ckpt-%s.json" % os.environ["HPO_ATTEMPT"])
with open(out, "w") as f:
    json.dump({"dir": ck, "start": start,
               "worker": os.environ["HPO_WORKER"]}, f)
for step in range(start, 6):
    rep.write("step=%d loss=%g\n" % (step, 1.0 / (step + 1)))
    if step == 2 and start == 0:
        with open(path + ".tmp", "w") as f:
            f.write("3")
        os.rename(path + ".tmp", path)
        time.sleep(120)   # killed with its worker
'''


class CheckpointTest(ClusterTest):
    cluster_args = {"heartbeat_ms": 200, "lease_ms": 1500}

    def test_resume_on_another_worker(self):
        c = self.c
        root = os.path.join(c.dir, "shared-ckpt")
        with open(os.path.join(c.dir, "resume.py"), "w") as f:
            f.write(RESUME)
        c.start_worker("wa", extra=["--checkpoint-root", root])
        c.create_study("name: ck\n"
                       "command: %s resume.py {x}\n"
                       "objective: {metric: loss}\n"
                       "budget: {trials: 1}\n"
                       "trial: {max_lost: 2}\n"
                       "space: {x: {type: int, low: 1, high: 1}}\n" % PYTHON)
        first = os.path.join(c.dir, "ckpt-1.json")
        ckdir = os.path.join(root, "ck", "0")
        wait_for(lambda: os.path.exists(os.path.join(ckdir, "state")), 30,
                 "attempt 1 to save its checkpoint")
        # Its three reports are acknowledged before the worker dies.
        wait_for(lambda: len(c.cli_json("trial", "show", "ck", "0")
                             ["intermediate"]) == 3, 15,
                 "attempt 1's reports to be stored")
        c.kill_worker("wa")
        c.start_worker("wb", extra=["--checkpoint-root", root])
        c.wait_study_done("ck", timeout=60)

        with open(first) as f:
            one = json.load(f)
        with open(os.path.join(c.dir, "ckpt-2.json")) as f:
            two = json.load(f)
        self.assertEqual(one["dir"], os.path.realpath(ckdir))
        self.assertEqual(two["dir"], one["dir"])
        self.assertEqual((one["worker"], two["worker"]), ("wa", "wb"))
        self.assertEqual(two["start"], 3)
        for d in (os.path.join(root, "ck"), ckdir):
            self.assertEqual(stat.S_IMODE(os.stat(d).st_mode), 0o700, d)

        trial = c.cli_json("trial", "show", "ck", "0")
        self.assertEqual(trial["state"], "COMPLETE", trial)
        self.assertAlmostEqual(trial["value"], 1.0 / 6, places=5)
        self.assertEqual([a["outcome"] for a in trial["attempts"]],
                         ["LOST", "COMPLETE"])
        seen = sorted((v["step"], v["attempt"])
                      for v in trial["intermediate"])
        self.assertEqual(seen, [(0, 1), (1, 1), (2, 1),
                                (3, 2), (4, 2), (5, 2)])

    def test_option(self):
        r = subprocess.run([exe("hpo-worker"), "--help"], capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(r.returncode, 0)
        self.assertIn("--checkpoint-root DIR", r.stdout)
        afile = os.path.join(self.c.dir, "a-file")
        open(afile, "w").close()
        r = subprocess.run([exe("hpo-worker"), "--coordinator",
                            self.c.endpoint, "--state-dir",
                            os.path.join(self.c.dir, "st"),
                            "--checkpoint-root", afile],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn("checkpoint root %s: Not a directory" % afile,
                      r.stderr)

    def test_without_root_this_hosts_own(self):
        c = self.c
        c.start_worker("wa")
        with open(os.path.join(c.dir, "where.py"), "w") as f:
            f.write("import os\n"
                    "open(os.path.join(os.environ['HPO_TEST_DIR'], "
                    "'where'), 'w').write(os.environ['HPO_CHECKPOINT_DIR'])\n"
                    "os.write(3, b'loss=1\\n')\n")
        c.create_study("name: lo\n"
                       "command: %s where.py {x}\n"
                       "objective: {metric: loss}\n"
                       "budget: {trials: 1}\n"
                       "space: {x: {type: int, low: 1, high: 1}}\n" % PYTHON)
        c.wait_study_done("lo", timeout=60)
        with open(os.path.join(c.dir, "where")) as f:
            where = f.read()
        self.assertEqual(where, os.path.realpath(os.path.join(
            c.dir, "state-wa", "checkpoints", "lo", "0")))


# Prints its metrics as an unchanged script would, among other output;
# writes nothing to the report descriptor (which it does not get).
PRINTS = r"""
import os, sys, time
style = sys.argv[1]
x = float(sys.argv[2])
with open(os.path.join(os.environ.get("HPO_TEST_DIR", "."),
                       "fd-" + os.environ["HPO_STUDY"]), "w") as f:
    f.write(os.environ.get("HPO_REPORT_FD", "none"))
print("loading data... 1797 samples")
print("a progress bar longer than a report line " + "#" * 70000)
for epoch in range(4):
    loss = (x - 0.5) ** 2 + 1.0 / (epoch + 1)
    if style == "plain":
        print("epoch=%d val_loss=%.6f opt=sgd" % (epoch, loss))
    else:
        print("Epoch %d/4 - loss: %.6f - acc: 0.9%d" % (epoch, loss, epoch))
    print("a warning on stderr", file=sys.stderr)
print("done")
"""


class StdoutTest(ClusterTest):
    cluster_args = {"heartbeat_ms": 200, "lease_ms": 5000}

    def setUp(self):
        super().setUp()
        with open(os.path.join(self.c.dir, "prints.py"), "w") as f:
            f.write(PRINTS)
        self.c.start_worker("w1")

    def run_study(self, name, style, metrics):
        c = self.c
        c.create_study("name: %s\n"
                       "command: %s prints.py %s {x}\n"
                       "objective: {metric: val_loss}\n"
                       "budget: {trials: 2}\n"
                       "metrics: %s\n"
                       "space: {x: {type: float, low: 0, high: 1}}\n"
                       % (name, PYTHON, style, metrics))
        st = c.wait_study_done(name, timeout=60)
        self.assertEqual(st["state"], "FINISHED", st)
        out = []
        for t in c.trials(name):
            trial = c.cli_json("trial", "show", name, str(t["number"]))
            self.assertEqual(trial["state"], "COMPLETE", trial)
            x = trial["params"]["x"]
            self.assertAlmostEqual(trial["value"], (x - 0.5) ** 2 + 0.25,
                                   places=5)
            out.append(trial)
        # The log is what it was: stdout and stderr, all of it.
        log = c.log_text(os.path.join("state-w1", "logs", name,
                                      "trial-0-attempt-1.log"))
        self.assertIn("loading data... 1797 samples", log)
        self.assertIn("a warning on stderr", log)
        self.assertIn("done", log)
        # Every byte of it (a later stderr line may land inside it: stdout
        # now reaches the log through the worker, a pipe's worth at once).
        self.assertEqual(log.count("#") - log.count(name + "#0"), 70000)
        # Printed text that is no report is no bad line either.
        self.assertNotIn("bad report line", c.log_text("worker-w1.log"))
        with open(os.path.join(c.dir, "fd-" + name)) as f:
            self.assertEqual(f.read(), "none")
        return out, log

    def test_default_pattern(self):
        trials, log = self.run_study("plain", "plain", "{source: stdout}")
        self.assertIn("epoch=3 val_loss=", log)
        for trial in trials:
            steps = sorted((v["step"], v["metric"])
                           for v in trial["intermediate"])
            self.assertEqual(steps, [(k, "val_loss") for k in range(4)])

    def test_named_groups(self):
        trials, log = self.run_study(
            "keras", "keras",
            "{source: stdout, pattern: "
            "'^Epoch (?<epoch>\\d+)/\\d+ - loss: (?P<val_loss>\\S+)"
            " - acc: (?<acc>\\S+)'}")
        self.assertIn("Epoch 3/4 - loss:", log)
        for trial in trials:
            got = sorted((v["step"], v["metric"], v["value"])
                         for v in trial["intermediate"]
                         if v["metric"] == "acc")
            self.assertEqual(got, [(k, "acc", float("0.9%d" % k))
                                   for k in range(4)])

    def test_report_source_unchanged(self):
        # Without metrics: the same script's prints are no reports.
        c = self.c
        c.create_study("name: rep\n"
                       "command: %s prints.py plain {x}\n"
                       "objective: {metric: val_loss}\n"
                       "budget: {trials: 1}\n"
                       "space: {x: {type: float, low: 0, high: 1}}\n"
                       % PYTHON)
        c.wait_study_done("rep", timeout=60)
        trial = c.cli_json("trial", "show", "rep", "0")
        self.assertEqual(trial["state"], "FAILED")
        self.assertIn("objective 'val_loss' never reported", trial["reason"])


# A training script written with the Python helper.
HELPED = r"""
import json, os, sys, time
import hpo
p = hpo.params()
x, steps = p["x"], p["steps"]
ck = hpo.checkpoint_dir()
out = os.path.join(os.environ.get("HPO_TEST_DIR", ck),
                   "helped-%s" % os.environ.get("HPO_TRIAL", "hand"))
step = -1
try:
    for step in range(steps):
        hpo.report(step, loss=(x - 0.5) ** 2 + 1.0 / (step + 1))
        time.sleep(float(os.environ.get("NAP", "0")))
except hpo.Pruned:
    with open(out, "w") as f:
        json.dump({"pruned_at": step, "ckpt": ck, "params": p}, f)
    sys.exit(0)
with open(out, "w") as f:
    json.dump({"done": step, "ckpt": ck, "params": p}, f)
"""


class HelperTest(ClusterTest):
    cluster_args = {"heartbeat_ms": 200, "lease_ms": 5000}

    def setUp(self):
        super().setUp()
        self.script = os.path.join(self.c.dir, "helped.py")
        with open(self.script, "w") as f:
            f.write(HELPED)
        self.c.start_worker("w1")

    def study(self, name, steps, extra=""):
        return ("name: %s\n"
                "command: %s helped.py --x {x} --steps {steps}\n"
                "objective: {metric: loss}\n"
                "budget: {trials: 1}\n"
                "env: {PYTHONPATH: %s%s}\n"
                "space:\n"
                "  x: {type: float, low: 0, high: 1}\n"
                "  steps: {type: int, low: %d, high: %d}\n"
                % (name, PYTHON, PYDIR, extra, steps, steps))

    def test_under_a_worker(self):
        c = self.c
        c.create_study(self.study("ok", 3))
        c.wait_study_done("ok", timeout=60)
        trial = c.cli_json("trial", "show", "ok", "0")
        self.assertEqual(trial["state"], "COMPLETE", trial)
        x = trial["params"]["x"]
        self.assertAlmostEqual(trial["value"], (x - 0.5) ** 2 + 1.0 / 3,
                               places=9)
        self.assertEqual(sorted(v["step"] for v in trial["intermediate"]),
                         [0, 1, 2])
        with open(os.path.join(c.dir, "helped-0")) as f:
            seen = json.load(f)
        self.assertEqual(seen["params"], {"x": x, "steps": 3})
        self.assertEqual(seen["done"], 2)
        self.assertEqual(seen["ckpt"], os.path.realpath(os.path.join(
            c.dir, "state-w1", "checkpoints", "ok", "0")))

    def test_stdout_source(self):
        # The helper prints its reports when the study reads stdout.
        c = self.c
        c.create_study(self.study("out", 3) + "metrics: {source: stdout}\n")
        c.wait_study_done("out", timeout=60)
        trial = c.cli_json("trial", "show", "out", "0")
        self.assertEqual(trial["state"], "COMPLETE", trial)
        self.assertEqual(sorted(v["step"] for v in trial["intermediate"]),
                         [0, 1, 2])

    def test_example(self):
        # examples/quadratic-stdout.yaml, as it is, on the real example.
        c = self.c
        with open(os.path.join(SRC, "examples", "quadratic-stdout.yaml")) as f:
            text = f.read()
        text = text.replace("python3 examples/", "%s %s/examples/" % (
            PYTHON, os.path.abspath(SRC))).replace("trials: 20", "trials: 2")
        c.create_study(text)
        st = c.wait_study_done("quadratic-stdout", timeout=60)
        self.assertEqual(st["state"], "FINISHED", st)
        for t in c.trials("quadratic-stdout"):
            self.assertEqual(t["state"], "COMPLETE", t)

    def test_sigterm_raises_pruned(self):
        # A timeout stops the trial as a prune does: SIGTERM, then SIGKILL
        # after the grace (20 s). The helper raises hpo.Pruned at the next
        # report, and the script saves and exits long before the SIGKILL.
        c = self.c
        c.create_study(self.study("stop", 100000, ", NAP: 0.05")
                       + "trial: {timeout: 1s, grace: 20s}\n")
        t0 = time.monotonic()
        c.wait_study_done("stop", timeout=60)
        self.assertLess(time.monotonic() - t0, 12)
        trial = c.cli_json("trial", "show", "stop", "0")
        self.assertEqual(trial["state"], "FAILED", trial)
        self.assertEqual(trial["reason"], "timeout after 1s")
        with open(os.path.join(c.dir, "helped-0")) as f:
            seen = json.load(f)
        self.assertGreater(seen["pruned_at"], 0)
        log = c.log_text(os.path.join("state-w1", "logs", "stop",
                                      "trial-0-attempt-1.log"))
        self.assertNotIn("Traceback", log)

    def test_by_hand(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("HPO_")}
        env["PYTHONPATH"] = PYDIR
        r = subprocess.run([PYTHON, self.script, "--x", "3", "--steps", "2"],
                           capture_output=True, text=True, env=env,
                           cwd=self.c.dir, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "step=0 loss=7.25\nstep=1 loss=6.75\n")
        ck = os.path.join(self.c.dir, "hpo-checkpoint")
        with open(os.path.join(ck, "helped-hand")) as f:
            seen = json.load(f)
        self.assertEqual(seen, {"done": 1, "ckpt": ck,
                                "params": {"x": 3, "steps": 2}})


import test_reasons  # noqa: E402


class PatternOnTheWireTest(test_reasons.PermanentOnTheWireTest):
    """A pattern from the network is checked again by the worker: one no
    study file could hold fails the attempt with a clear reason. (A fake
    coordinator and a real worker, as test_reasons sets them up.)"""

    test_permanent_flags = None  # test_reasons' own, run there

    def setUp(self):
        super().setUp()
        with open(os.path.join(self.dir, "prints.py"), "w") as f:
            f.write(PRINTS)

    def finish_of(self, source, pattern):
        self.trial += 1
        pb = self.fake.pb
        self.fake.send("assign", pb.Assign(
            trial_id=self.trial, attempt=1, study="wire",
            number=self.trial, command="%s prints.py plain {x}" % PYTHON,
            params=[pb.Param(name="x", kind=2, i=1)], objective="val_loss",
            grace_ms=100, metrics_source=source, metrics_pattern=pattern))
        env = self.fake.wait("finish", 20)
        self.fake.send("ack", pb.Ack(), acks=[env.seq])
        return env.finish

    def test_bad_patterns(self):
        f = self.finish_of("stdout", "(?<val_loss>\\d+")
        self.assertEqual(f.reason, "bad metrics pattern: at offset 15: "
                         "missing closing parenthesis")
        self.assertTrue(f.permanent)
        f = self.finish_of("stdout", "loss (?<loss>\\S+)")
        self.assertEqual(f.reason, "metrics pattern has no group named "
                         "val_loss, the objective")
        self.assertTrue(f.permanent)
        f = self.finish_of("stdout", "^never (?<val_loss>\\d+)")
        self.assertEqual(f.reason, "objective 'val_loss' never reported; "
                         "no line it printed matched the metrics pattern")
        self.assertFalse(f.permanent)
        f = self.finish_of("pigeon", "")
        self.assertEqual(f.reason, "unknown metrics source 'pigeon'")
        self.assertTrue(f.permanent)
        f = self.finish_of("stdout", "")
        self.assertEqual(f.outcome, self.fake.pb.Outcome.Value(
            "OUTCOME_COMPLETE"))
        self.assertAlmostEqual(f.value, 0.25 + 0.25, places=5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
