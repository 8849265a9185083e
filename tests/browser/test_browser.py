"""The dashboard (issue #12) in a real browser: playwright-core drives
Debian's Chromium, headless, against a real coordinator started here.

One coordinator holds every fixture study:

- s1k, s100k: 1,000 and 100,000 trials written by `hpo-bench-populate
  --rich` before the coordinator starts (parameters of every kind, a
  when: parameter, PRUNED, FAILED and re-run trials, curves);
- empty: an ask/tell study no loop has asked yet;
- one: one trial, told, with three reports;
- cond: a conditional space (momentum only when opt is sgd);
- pruned: every trial PRUNED after its reports;
- rerun: a study whose program fails for some trials, run by a worker
  that is killed in the middle of a trial, so that attempt is LOST and
  the trial runs again on a second worker;
- live: an ask/tell study with one trial handed out, which views.js
  finishes with `hpo tell` while the page is open.

tests/browser/views.js then opens every view of every fixture and checks
it reaches `main#view[data-state=ready|empty]` with no console error and
no failed request, saving a screenshot of each (the directory is printed);
checks the told trial shows in the open page within a second (SSE);
times the overview and parallel coordinates of s1k and s100k in the same
run against BUDGET (printed as a table); and opens `hpo report`'s file
from file://.

Skips (exit 77, loudly) only when node or chromium is missing. npm ci
installs playwright-core from the lockfile into the build directory
(browser-node/KEY, KEY from the lockfile), once.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from harness import (BIN, PYTHON, Cluster, exe, run_or_skip,  # noqa: E402
                     test_ok, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = os.environ.get("HPO_CHROMIUM") or "/usr/bin/chromium"

# Seconds from navigation (a fresh page) to main#view[data-state=ready],
# median of REPEAT loads, 1,000- and 100,000-trial studies alike. On the
# shared 2-core build machine under a load average of 13 the 100,000-trial
# study took 2.9-4.7 s (overview) and 5.8-9.7 s (parallel), the 1,000-
# trial one 0.8-2.8 s. Scaled by $HPO_BROWSER_BUDGET_SCALE (the sanitized
# build sets 4). Stated in the README's "Dashboard" section: keep the two
# in step.
BUDGET = {"overview": 8.0, "parallel": 15.0}
REPEAT = 3

VIEWS = ["", "history", "parallel", "importance", "trials", "curves",
         "slice", "contour", "timeline", "trial"]

# Fails the trial when fail is "yes"; reports three steps of loss, slowly
# enough that a worker can be killed in the middle of one.
# Its pid goes to runs.log as trainer.py's does, so Cluster.close kills
# one the killed worker left behind.
PROGRAM = r'''
import os, sys, time
x, fail = float(sys.argv[1]), sys.argv[2]
with open(os.path.join(os.environ["HPO_TEST_DIR"], "runs.log"), "a") as f:
    f.write("%s %s %d start\n" % (os.environ["HPO_TRIAL"],
                                  os.environ["HPO_ATTEMPT"], os.getpid()))
fd = int(os.environ["HPO_REPORT_FD"])
for step in range(3):
    time.sleep(0.8)
    os.write(fd, b"step=%d loss=%r\n" % (step, (x - 0.3) ** 2 + 1.0 / (step + 1)))
if fail == "yes":
    sys.stderr.write("Traceback (most recent call last):\nValueError: boom\n")
    sys.exit(1)
os.write(fd, b"loss=%r\n" % ((x - 0.3) ** 2))
'''


def why_not():
    if not shutil.which("node"):
        return "no node (apt-get install nodejs npm)"
    if not shutil.which("npm"):
        return "no npm (apt-get install npm)"
    if not os.access(CHROMIUM, os.X_OK):
        return "no %s (apt-get install chromium)" % CHROMIUM
    return None


def install():
    """node_modules for the lockfile, under the build directory; npm ci
    once per lockfile. A failure here fails the test: CI has the
    registry."""
    with open(os.path.join(HERE, "package-lock.json"), "rb") as f:
        key = hashlib.sha256(f.read()).hexdigest()[:16]
    base = os.path.join(os.path.abspath(BIN), "browser-node")
    d = os.path.join(base, key)
    if os.path.exists(os.path.join(d, "node_modules", "playwright-core",
                                   "package.json")):
        return d
    os.makedirs(base, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=key + "-", dir=base)
    for f in ("package.json", "package-lock.json"):
        shutil.copy(os.path.join(HERE, f), tmp)
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund",
                        "--ignore-scripts", "--loglevel=error"],
                       cwd=tmp, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise AssertionError("npm ci failed: " + r.stderr[-2000:])
    try:
        os.rename(tmp, d)     # whole, so a killed run leaves no half copy
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
    return d


def asktell(name, trials, space=None, pruner=""):
    space = space or ("  x: {type: float, low: -5, high: 5}\n"
                      "  opt: {type: categorical, values: [adam, sgd]}\n")
    return ("name: %s\nobjective: {metric: loss, direction: minimize}\n"
            "sampler: {type: random, seed: 11}\n"
            "budget: {trials: %d}\n%sspace:\n%s"
            % (name, trials, pruner, space))


COND_SPACE = """  opt: {type: categorical, values: [sgd, adam]}
  momentum: {type: float, low: 0.5, high: 0.99, when: {opt: sgd}}
  lr: {type: float, low: 0.001, high: 0.1, log: true}
"""


class Fixtures:
    """The coordinator and its studies; everything the views need."""

    def __init__(self):
        self.c = Cluster(heartbeat_ms=200, lease_ms=1500)
        self.token = "t-%s" % os.urandom(8).hex()
        with open(os.path.join(self.c.dir, "token"), "w") as f:
            f.write(self.token + "\n")
        self.base = None

    def populate(self):
        db = os.path.join(self.c.dir, "hpo.db")
        for name, trials, values in (("s1k", 1000, 10000),
                                     ("s100k", 100000, 500000)):
            subprocess.run([exe("hpo-bench-populate"), "--db", db, "--rich",
                            "--study", name, "--trials", str(trials),
                            "--values", str(values)], check=True,
                           capture_output=True, timeout=120)

    def start(self):
        """Cluster.start_coordinator, with a longer wait: the dashboard's
        read model of s100k is built before the coordinator listens, 10 s
        and more under ASan."""
        c = self.c
        epfile = os.path.join(c.dir, "endpoint")
        c.coordinator = c._spawn(
            [exe("hpo-coordinator"), "--db", os.path.join(c.dir, "hpo.db"),
             "--listen", c.listen, "--endpoint-file", epfile,
             "--heartbeat-ms", str(c.heartbeat_ms),
             "--lease-ms", str(c.lease_ms), "--http", "127.0.0.1:0",
             "--http-token-file", os.path.join(c.dir, "token")],
            "coordinator.log")
        c.endpoint = wait_for(lambda: os.path.exists(epfile) and
                              open(epfile).read().strip(), 120,
                              "the coordinator to listen", interval=0.1)
        m = wait_for(lambda: re.search(
            r"dashboard on (http://[0-9.:]+)/",
            self.c.log_text("coordinator.log")), 60,
            "the dashboard's address in the log")
        self.base = m.group(1)

    def ask(self, name):
        return self.c.cli_json("ask", name)

    def asktell_studies(self):
        c = self.c
        c.create_study(asktell("empty", 10), "empty.yaml")
        c.create_study(asktell("one", 1), "one.yaml")
        t = self.ask("one")
        for step in range(3):
            c.cli("report", "one", str(t["number"]), str(step),
                  "loss=%r" % (1.0 / (step + 1)))
        c.cli("tell", "one", str(t["number"]), "0.25")
        c.create_study(asktell("cond", 12, COND_SPACE), "cond.yaml")
        for _ in range(12):
            t = self.ask("cond")
            p = t["params"]
            c.cli("tell", "cond", str(t["number"]),
                  repr(p["lr"] * 10 + p.get("momentum", 0.5)))
        c.create_study(asktell("pruned", 5), "pruned.yaml")
        for _ in range(5):
            t = self.ask("pruned")
            for step in range(2):
                c.cli("report", "pruned", str(t["number"]), str(step),
                      "loss=%r" % (t["params"]["x"] ** 2 + 1 - step * 0.1))
            c.cli("tell", "pruned", str(t["number"]), "--state", "pruned")
        c.create_study(asktell("live", 4), "live.yaml")
        self.live = self.ask("live")["number"]

    def rerun_study(self):
        """Worker a is killed while trial 0 runs: that attempt is LOST
        and the trial runs again on worker b; fail=yes trials FAIL."""
        c = self.c
        prog = os.path.join(c.dir, "prog.py")
        with open(prog, "w") as f:
            f.write(PROGRAM)
        text = "\n".join([
            "name: rerun",
            "command: %s %s {x} {fail}" % (PYTHON, prog),
            "objective: {metric: loss, direction: minimize}",
            "sampler: {type: grid}",
            "budget: {trials: 4, parallel: 1}",
            "trial: {retries: 0}",
            "space:",
            "  x: {type: float, low: 0, high: 1, step: 1}",
            "  fail: {type: categorical, values: ['no', 'yes']}", ""])
        c.start_worker("a")
        c.create_study(text, "rerun.yaml")
        wait_for(lambda: any(t["state"] == "RUNNING"
                             for t in c.trials("rerun")), 20,
                 "a trial of rerun to start")
        time.sleep(0.3)
        c.kill_worker("a")
        c.start_worker("b")
        s = c.wait_study_done("rerun", timeout=90)
        trials = c.trials("rerun")
        assert any(t["attempt"] > 1 for t in trials), trials
        assert s["counts"].get("FAILED", 0) >= 1, s
        assert s["counts"].get("COMPLETE", 0) >= 1, s
        self.rerun = max(trials, key=lambda t: t["attempt"])["number"]

    def close(self):
        self.c.close()


class BrowserTest(unittest.TestCase):
    """One test: the fixtures take a while to build, so every check runs
    on them in one node process; its JSON result is checked here."""

    def setUp(self):
        self.f = Fixtures()

    def tearDown(self):
        if not test_ok(self):
            self.f.c.dump_logs()
        self.f.close()

    def report_file(self, study):
        path = os.path.join(self.f.c.dir, "report-%s.html" % study)
        self.f.c.cli("report", study, "-o", path, timeout=120)
        return path

    def test_views(self):
        f = self.f
        f.populate()
        f.start()
        f.asktell_studies()
        f.rerun_study()
        shots = os.path.join(os.path.abspath(BIN), "browser-shots")
        shutil.rmtree(shots, ignore_errors=True)
        os.makedirs(shots)
        numbers = {"s1k": 0, "s100k": 0, "one": 0, "cond": 0, "pruned": 0,
                   "rerun": f.rerun, "live": f.live}
        fixtures = [{"study": s, "trial": numbers.get(s)} for s in
                    ("empty", "one", "cond", "pruned", "rerun", "s1k",
                     "s100k")]
        reports = [{"study": s, "file": self.report_file(s),
                    "trial": numbers[s]} for s in ("rerun", "s1k")]
        scale = float(os.environ.get("HPO_BROWSER_BUDGET_SCALE") or 1)
        config = {
            "base": f.base, "token": f.token, "chromium": CHROMIUM,
            "hpo": exe("hpo"), "endpoint": f.c.endpoint, "shots": shots,
            "views": VIEWS, "fixtures": fixtures, "reports": reports,
            "live": {"study": "live", "trial": f.live, "value": 0.4375},
            "timing": {"studies": ["s1k", "s100k"],
                       "views": ["", "parallel"], "repeat": REPEAT},
            "root": os.getuid() == 0,
        }
        cfg = os.path.join(f.c.dir, "config.json")
        with open(cfg, "w") as fh:
            json.dump(config, fh)
        out = os.path.join(f.c.dir, "result.json")
        env = dict(os.environ)
        env["NODE_PATH"] = os.path.join(install(), "node_modules")
        r = subprocess.run(["node", os.path.join(HERE, "views.js"), cfg,
                            out], env=env, timeout=900, text=True,
                           stdout=sys.stderr, stderr=subprocess.STDOUT)
        self.assertEqual(r.returncode, 0, "views.js failed (output above)")
        with open(out) as fh:
            res = json.load(fh)
        sys.stderr.write("\nscreenshots: %s\n" % shots)
        # Each check on its own, so one run reports every failure.
        with self.subTest("views"):
            self.check_views(res)
        with self.subTest("live"):
            self.check_live(res)
        with self.subTest("timing"):
            self.check_timing(res, scale)

    def check_views(self, res):
        bad = [v for v in res["views"] if v["errors"] or v["failed"]
               or v["state"] not in ("ready", "empty")]
        for v in bad:
            sys.stderr.write("BAD %s: state %s\n  console: %s\n"
                             "  failed: %s\n" % (v["url"], v["state"],
                                                 v["errors"], v["failed"]))
        self.assertEqual(bad, [])
        for v in res["views"]:
            self.assertTrue(os.path.getsize(v["shot"]) > 1000, v["shot"])
        want = len(res["expected"])
        self.assertEqual(len(res["views"]), want)

    def check_live(self, res):
        live = res["live"]
        sys.stderr.write("live: the told trial showed after %.3f s\n"
                         % live["seconds"])
        self.assertTrue(live["seen"], live)
        self.assertEqual(live["errors"] + live["failed"], [], live)
        self.assertLess(live["seconds"], 1.0, live)

    def check_timing(self, res, scale):
        rows = res["timing"]
        sys.stderr.write("\n| study | view | median s | min | max | "
                         "budget s |\n|---|---|---|---|---|---|\n")
        for t in rows:
            budget = BUDGET[t["view"] or "overview"] * scale
            sys.stderr.write("| %s | %s | %.2f | %.2f | %.2f | %.1f |\n" % (
                t["study"], t["view"] or "overview", t["median"],
                min(t["seconds"]), max(t["seconds"]), budget))
        for t in rows:
            budget = BUDGET[t["view"] or "overview"] * scale
            self.assertLess(t["median"], budget, t)


if __name__ == "__main__":
    run_or_skip("tests/browser", why_not, lambda: None)
