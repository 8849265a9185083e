"""A study's life as a person steers it (issue #9): lost work re-run with
default settings, fail fast (a study whose command always fails ends
FAILED, and stays so across a restart), stop of an ended study refused,
stop --now, extend, resume, retry, delete, and a permanent failure that
is not retried."""
import os
import pty
import signal
import subprocess
import sys
import unittest

from harness import (PYTHON, TRAINER, ClusterTest, alive, exe, wait_for)
import rawpeer
from rawpeer import RawPeer, body_of

WHY_NOT_RAW = rawpeer.load()


def yaml(name, trials, args="", extra="", parallel=None, trial=None):
    """A study file with hpo's defaults but for what is given: no trial
    section unless trial says one (so retries 0, max_lost 3)."""
    budget = "trials: %d" % trials
    if parallel is not None:
        budget += ", parallel: %d" % parallel
    if extra:
        budget += ", " + extra
    lines = [
        "name: %s" % name,
        "command: %s %s --x {x} %s" % (PYTHON, TRAINER, args),
        "objective: {metric: loss, direction: minimize}",
        "sampler: {type: random, seed: 11}",
        "budget: {%s}" % budget,
    ]
    if trial:
        lines.append("trial: {%s}" % trial)
    lines += ["space:", "  x: {type: float, low: 0, high: 1}"]
    return "\n".join(lines) + "\n"


def pgid_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[2])
    except (FileNotFoundError, ProcessLookupError):
        return None


def group_gone(pgid):
    try:
        os.killpg(pgid, 0)
        return False
    except ProcessLookupError:
        return True


class LifecycleTest(ClusterTest):
    cluster_args = {"heartbeat_ms": 200, "lease_ms": 1500}

    def done(self, name, states=("FINISHED", "STOPPED", "FAILED"),
             timeout=60):
        return wait_for(lambda: (lambda s: s if s["state"] in states
                                 else None)(self.c.study(name)),
                        timeout, "study %s to end" % name, interval=0.2)

    def hpo(self, *args, stdin=subprocess.DEVNULL):
        """hpo with stdin not a terminal."""
        return subprocess.run([exe("hpo"), "--coordinator", self.c.endpoint]
                              + list(args), capture_output=True, text=True,
                              timeout=20, stdin=stdin, cwd=self.c.dir)

    def on_tty(self, args, answer):
        """hpo with a terminal on stdin, which gets answer."""
        master, slave = pty.openpty()
        try:
            os.write(master, answer)
            return subprocess.run([exe("hpo"), "--coordinator",
                                   self.c.endpoint] + list(args),
                                  stdin=slave, capture_output=True,
                                  text=True, timeout=20)
        finally:
            os.close(master)
            os.close(slave)

    # ---- lost work ---------------------------------------------------------
    def test_worker_killed_with_default_settings_reruns(self):
        """Default settings (retries 0): a worker SIGKILLed mid-trial
        loses its attempt, which another worker runs again."""
        self.c.start_worker("a", slots=1)
        self.c.start_worker("b", slots=1)
        self.c.create_study(yaml("lost", 6, "--steps 10 --sleep 0.1"))
        wait_for(lambda: any(t["state"] == "RUNNING" and t["worker"] == "a"
                             for t in self.c.trials("lost")), 30,
                 "a trial running on worker a")
        self.c.kill_worker("a")
        s = self.done("lost", timeout=90)
        self.assertEqual(s["state"], "FINISHED", s)
        self.assertEqual(s["counts"]["COMPLETE"], 6, s)
        self.assertTrue(any(t["attempt"] >= 2 for t in self.c.trials("lost")),
                        self.c.trials("lost"))

    # ---- fail fast, survives a restart, resume -----------------------------
    def test_fail_fast_restart_resume(self):
        self.c.start_worker("a", slots=1)
        self.c.create_study(yaml("bad", 50, "--steps 0 --exit 2"))
        s = self.done("bad")
        self.assertEqual(s["state"], "FAILED", s)
        self.assertEqual(s["counts"]["FAILED"], 5, s)
        self.assertEqual(s["counts"]["WAITING"] + s["counts"]["RUNNING"], 0)
        self.assertIn("all of the first 5 trials failed (", s["reason"])
        self.assertIn("see hpo trial show bad 0", s["reason"])
        self.assertEqual(s["last_failed"]["number"], 4, s)
        self.assertIsNotNone(s["mean_duration"], s)
        self.assertIn(s["reason"], self.c.cli("study", "show", "bad").stdout)
        # hpo watch on a study that failed fast exits 3, so scripts notice.
        r = self.c.cli("watch", "bad", check=False)
        self.assertEqual(r.returncode, 3, r)
        # Stopping a FAILED study is refused.
        r = self.c.cli("study", "stop", "bad", check=False)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("already FAILED", r.stderr)
        # A restart keeps the state and the reason.
        self.c.stop_coordinator()
        self.c.start_coordinator()
        s2 = self.c.study("bad")
        self.assertEqual(s2["state"], "FAILED", s2)
        self.assertEqual(s2["reason"], s["reason"])
        # Resumed, it fails again only after five more failures.
        r = self.c.cli("study", "resume", "bad")
        self.assertIn("FAILED → RUNNING", r.stdout)
        s3 = self.done("bad")
        self.assertEqual(s3["state"], "FAILED", s3)
        self.assertEqual(s3["counts"]["FAILED"], 10, s3)

    def test_max_failed(self):
        self.c.start_worker("a", slots=1)
        self.c.create_study(yaml("some", 20, "--steps 0 --exit 2",
                                 extra="fail_fast: 0, max_failed: 3"))
        s = self.done("some")
        self.assertEqual(s["state"], "FAILED", s)
        self.assertEqual(s["counts"]["FAILED"], 3, s)
        self.assertIn("3 trials failed (budget.max_failed)", s["reason"])

    def test_budget_keys_checked(self):
        """budget.fail_fast and budget.max_failed are checked with the
        file and line, before anything is sent."""
        for extra, key, what in (
                ("fail_fast: -1", "budget.fail_fast", "non-negative"),
                ("fail_fast: many", "budget.fail_fast", "non-negative"),
                ("max_failed: 0", "budget.max_failed", "positive")):
            path = os.path.join(self.c.dir, "k.yaml")
            with open(path, "w") as f:
                f.write(yaml("k", 3, extra=extra))
            r = self.c.cli("study", "create", path, check=False)
            self.assertEqual(r.returncode, 2, r)
            self.assertIn("k.yaml:5: %s: must be a %s" % (key, what),
                          r.stderr)
        names = [s["name"] for s in
                 self.c.cli_json("study", "list")["studies"]]
        self.assertEqual(names, [])

    # ---- stop ----------------------------------------------------------------
    def test_stop_finished_study_exits_1(self):
        self.c.start_worker("a", slots=2)
        self.c.create_study(yaml("fin", 2))
        self.assertEqual(self.done("fin")["state"], "FINISHED")
        r = self.c.cli("study", "stop", "fin", check=False)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("study fin is already FINISHED", r.stderr)
        self.assertEqual(self.c.study("fin")["state"], "FINISHED")

    def test_stop_now_kills_running_trials(self):
        self.c.start_worker("a", slots=2)
        self.c.create_study(yaml("hang", 10, "--steps 2 --hang",
                                 trial="grace: 2s"))
        wait_for(lambda: len([r for r in self.c.runs()
                              if r[3] == "start"]) >= 2
                 and self.c.study("hang")["counts"]["RUNNING"] == 2, 30,
                 "two trials running")
        pids = [r[2] for r in self.c.runs() if r[3] == "start"]
        groups = [g for g in map(pgid_of, pids) if g]
        self.assertEqual(len(groups), 2, pids)
        r = self.c.cli("study", "stop", "hang", "--now")
        self.assertIn("2 running trials stopped", r.stdout)
        s = self.done("hang")
        self.assertEqual(s["state"], "STOPPED", s)
        ts = [t for t in self.c.trials("hang") if t["state"] != "WAITING"]
        self.assertEqual(len(ts), 2, ts)
        for t in ts:
            self.assertEqual((t["state"], t["reason"]), ("FAILED", "stopped"))
        wait_for(lambda: not any(alive(p) for p in pids) and
                 all(group_gone(g) for g in groups), 15,
                 "the stopped trials' process groups to be gone")

    # ---- extend --------------------------------------------------------------
    def test_extend_finished_study(self):
        self.c.start_worker("a", slots=2)
        self.c.create_study(yaml("ext", 3))
        self.assertEqual(self.done("ext")["state"], "FINISHED")
        before = {t["number"]: t["params"]["x"] for t in self.c.trials("ext")}
        r = self.c.cli("study", "extend", "ext", "--trials", "2")
        self.assertIn("study ext: budget 3 → 5", r.stdout)
        s = self.done("ext")
        self.assertEqual((s["state"], s["budget"]), ("FINISHED", 5), s)
        after = {t["number"]: t["params"]["x"] for t in self.c.trials("ext")}
        self.assertEqual(sorted(after), [0, 1, 2, 3, 4])
        for n in before:
            self.assertEqual(after[n], before[n])
        # The sampler continued its sequence: new points, not a replay.
        for n in (3, 4):
            self.assertNotIn(after[n], before.values())
        # Survives a restart.
        self.c.stop_coordinator()
        self.c.start_coordinator()
        self.assertEqual(self.c.study("ext")["budget"], 5)

    def test_extend_grid_says_points_left(self):
        text = yaml("grid", 2).replace("type: random, seed: 11", "type: grid")
        text = text.replace("x: {type: float, low: 0, high: 1}",
                            "x: {type: int, low: 1, high: 3}")
        self.c.create_study(text)
        r = self.c.cli("study", "extend", "grid", "--trials", "5",
                       check=False)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("1 left to add", r.stderr)

    # ---- retry ---------------------------------------------------------------
    def test_retry_numbers_and_failed(self):
        self.c.start_worker("a", slots=1)
        self.c.create_study(yaml("rt", 3, "--steps 0 --exit 2",
                                 extra="fail_fast: 0"))
        s = self.done("rt")
        self.assertEqual((s["state"], s["counts"]["FAILED"]),
                         ("FINISHED", 3), s)
        x1 = self.c.trials("rt")[1]["params"]["x"]
        r = self.c.cli("trial", "retry", "rt", "1")
        self.assertIn("1 failed trial to run again", r.stdout)
        wait_for(lambda: self.c.cli_json("trial", "show", "rt", "1")
                 ["attempt"] == 2, 30, "trial 1's second attempt")
        self.done("rt")
        t1 = self.c.cli_json("trial", "show", "rt", "1")
        self.assertEqual(t1["params"]["x"], x1)
        self.assertEqual([a["attempt"] for a in t1["attempts"]], [1, 2])
        self.assertEqual(t1["state"], "FAILED")
        r = self.c.cli("trial", "retry", "rt", "--failed")
        self.assertIn("3 failed trials to run again", r.stdout)
        wait_for(lambda: [t["attempt"] for t in self.c.trials("rt")] ==
                 [2, 3, 2] and self.c.study("rt")["state"] == "FINISHED",
                 30, "every trial's new attempt")
        t1 = self.c.cli_json("trial", "show", "rt", "1")
        self.assertEqual([a["attempt"] for a in t1["attempts"]], [1, 2, 3])
        # Not FAILED: nothing retried.
        self.c.create_study(yaml("ok", 1))
        self.done("ok")
        r = self.c.cli("trial", "retry", "ok", "0", check=False)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("not FAILED", r.stderr)

    # ---- delete --------------------------------------------------------------
    def test_delete(self):
        self.c.start_worker("a", slots=2)
        self.c.create_study(yaml("gone", 2))
        self.done("gone")
        r = self.hpo("study", "delete", "gone")
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("--yes", r.stderr)
        self.assertIn("not a terminal", r.stderr)
        self.assertEqual(self.c.study("gone")["state"], "FINISHED")
        # On a terminal it asks: "n" keeps the study.
        r = self.on_tty(["study", "delete", "gone"], b"n\n")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("[y/N]", r.stderr)
        self.assertEqual(self.c.study("gone")["state"], "FINISHED")
        r = self.hpo("study", "delete", "gone", "--yes")
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("deleted", r.stdout)
        names = [s["name"] for s in
                 self.c.cli_json("study", "list")["studies"]]
        self.assertNotIn("gone", names)
        r = self.c.cli("study", "show", "gone", check=False)
        self.assertEqual(r.returncode, 1, r)
        # The name can be used again, and the new study runs.
        self.c.create_study(yaml("gone", 3))
        s = self.done("gone")
        self.assertEqual(s["counts"]["COMPLETE"], 3, s)
        # Gone from the database too: a restart does not bring it back.
        self.c.stop_coordinator()
        self.c.start_coordinator()
        self.assertEqual(len(self.c.trials("gone")), 3)
        # A running study is not deleted.
        self.c.create_study(yaml("busy", 50, "--steps 50 --sleep 0.2"))
        r = self.hpo("study", "delete", "busy", "--yes")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("stop", r.stderr)
        r = self.c.cli("study", "resume", "busy", check=False)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("already RUNNING", r.stderr)

    # ---- a permanent failure -----------------------------------------------
    @unittest.skipIf(WHY_NOT_RAW, WHY_NOT_RAW or "")
    def test_permanent_failure_not_retried(self):
        self.c.create_study(yaml("perm", 4, trial="retries: 3"))
        p = RawPeer(self.c.endpoint, "raw")
        self.peers.append(p)
        self.assertEqual(body_of(p.reply_to(p.hello(slots=2))), "welcome")
        p.heartbeat(free=2)
        (t0, a0, n0), (t1, a1, n1) = p.assigned(2)
        pb = rawpeer.pb
        for tid, att, permanent in ((t0, a0, True), (t1, a1, False)):
            p.send("finish", pb.Finish(
                trial_id=tid, attempt=att, reason="command not found: nope",
                outcome=pb.Outcome.Value("OUTCOME_FAILED"),
                permanent=permanent))
        wait_for(lambda: self.c.cli_json("trial", "show", "perm", str(n0))
                 ["state"] == "FAILED", 10, "the permanent failure")
        t = self.c.cli_json("trial", "show", "perm", str(n0))
        self.assertEqual((t["state"], t["attempt"], t["reason"]),
                         ("FAILED", 1, "command not found: nope"), t)
        # The same failure, not permanent, is retried (retries: 3).
        other = self.c.cli_json("trial", "show", "perm", str(n1))
        self.assertIn(other["state"], ("WAITING", "RUNNING"), other)


if __name__ == "__main__":
    unittest.main(verbosity=2)
