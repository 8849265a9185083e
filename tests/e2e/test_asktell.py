"""Ask and tell from the CLI, and hpo enqueue (issue #7), on a real
coordinator.

- A study without a command runs to its end from a Python loop calling
  `hpo ask --json` and `hpo tell`, with no worker taking its trials (one
  is running); negative values; a trial told twice, an unknown number,
  and a trial a loop never asked for are refused; `hpo ask` exits 4 at
  budget.parallel and 3 once the budget is used up.
- `hpo report` goes through the study's pruner: exit 3 and "prune"
  (`--json`: prune true) when the median pruner stops the trial, and the
  loop's `hpo tell --state pruned` after it is accepted.
- `hpo enqueue`: values checked against the space (the error names the
  parameter); the configuration runs before anything sampled, on
  workers and through `hpo ask`; it and an asked trial survive a
  coordinator restart; a full budget is refused with the hint to extend.
- Raw peers (rawpeer.py; skipped without python3-zmq/protobuf) send what
  the CLI never would: NaN and infinite values, steps out of range, too
  many metrics, unknown states, invalid UTF-8; each is answered with an
  Error, nothing of it is stored, and the coordinator stays up.
"""
import json
import os
import unittest

import rawpeer
from harness import ClusterTest, study_yaml, wait_for


def asktell_yaml(name, trials, parallel=0, pruner=""):
    return ("name: %s\n"
            "objective: {metric: loss, direction: minimize}\n"
            "sampler: {type: random, seed: 11}\n"
            "budget: {trials: %d, parallel: %d}\n"
            "space:\n"
            "  x: {type: float, low: -5, high: 5}\n"
            "  opt: {type: categorical, values: [adam, sgd]}\n%s"
            % (name, trials, parallel, pruner))


class AskTellTest(ClusterTest):
    cluster_args = {"heartbeat_ms": 200, "lease_ms": 3000}

    def ask(self, name):
        r = self.c.cli("ask", name, "--json", check=False)
        return r.returncode, (json.loads(r.stdout) if r.returncode == 0
                              else r.stderr)

    def test_loop_without_workers(self):
        self.c.create_study(asktell_yaml("loop", 6, parallel=2))
        show = self.c.cli("study", "show", "loop").stdout
        self.assertIn("ask/tell (no command)", show)
        self.assertTrue(self.c.study("loop")["ask_tell"])
        # A worker is up: it must never be given a trial of this study.
        self.c.start_worker("w1", slots=2)
        wait_for(lambda: self.c.cli_json("workers")["workers"], 10,
                 "the worker to say hello")
        told = {}
        while True:
            rc, trial = self.ask("loop")
            if rc == 3:
                self.assertIn("hpo study extend loop", trial)
                break
            self.assertEqual(rc, 0, trial)
            x = trial["params"]["x"]
            self.assertTrue(-5 <= x <= 5)
            self.assertIn(trial["params"]["opt"], ("adam", "sgd"))
            value = (x - 1) ** 2 - 301.5     # negative
            self.c.cli("tell", "loop", str(trial["number"]), repr(value))
            told[trial["number"]] = value
        self.assertEqual(sorted(told), list(range(6)))
        s = self.c.study("loop")
        self.assertEqual(s["state"], "FINISHED")
        self.assertEqual(s["counts"]["COMPLETE"], 6)
        best = self.c.cli_json("best", "loop")
        self.assertEqual(best["value"], min(told.values()))
        self.assertFalse(os.path.exists(os.path.join(self.c.dir, "runs.log")))
        # Told twice, an unknown number: refused, exit 1.
        r = self.c.cli("tell", "loop", "0", "-1", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("told once", r.stderr)
        r = self.c.cli("tell", "loop", "17", "1", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("has no trial 17", r.stderr)

    def test_parallel_and_refusals(self):
        self.c.create_study(asktell_yaml("par", 3, parallel=1))
        rc, t0 = self.ask("par")
        self.assertEqual(rc, 0)
        rc, why = self.ask("par")
        self.assertEqual(rc, 4, why)
        self.assertIn("budget.parallel", why)
        # The value is required for complete; a usage error, exit 2.
        r = self.c.cli("tell", "par", str(t0["number"]), check=False)
        self.assertEqual(r.returncode, 2)
        self.c.cli("tell", "par", str(t0["number"]), "-301.5")
        trial = self.c.cli_json("trial", "show", "par", str(t0["number"]))
        self.assertEqual(trial["value"], -301.5)
        # A trial nobody asked for (enqueued, WAITING) is not told.
        self.c.cli("enqueue", "par", "x=2")
        r = self.c.cli("tell", "par", "1", "3", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("WAITING", r.stderr)
        rc, t1 = self.ask("par")
        self.assertEqual((rc, t1["number"], t1["params"]["x"]), (0, 1, 2.0))
        self.c.cli("tell", "par", "1", "--state", "failed")
        self.assertEqual(
            self.c.cli_json("trial", "show", "par", "1")["state"], "FAILED")
        self.c.cli("study", "stop", "par")
        rc, why = self.ask("par")
        self.assertEqual(rc, 3, why)

    def test_report_prunes(self):
        self.c.create_study(asktell_yaml(
            "pr", 4, pruner="pruner: {type: median, n_startup_trials: 1}\n"))
        rc, t0 = self.ask("pr")
        for step in range(3):
            r = self.c.cli("report", "pr", "0", str(step), "loss=-1",
                           "acc=0.5")
            self.assertEqual(r.stdout.strip(), "continue")
        self.c.cli("tell", "pr", "0", "-1")
        rc, t1 = self.ask("pr")
        self.assertEqual(t1["number"], 1)
        # The median pruner compares the trial's best value so far with
        # the median of the others at that step (as Optuna's does).
        r = self.c.cli("--json", "report", "pr", "1", "0", "loss=5",
                       check=False)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertTrue(json.loads(r.stdout)["prune"])
        r = self.c.cli("report", "pr", "1", "1", "loss=5", check=False)
        self.assertEqual((r.returncode, r.stdout.strip()), (3, "prune"))
        self.c.cli("tell", "pr", "1", "--state", "pruned")
        trial = self.c.cli_json("trial", "show", "pr", "1")
        self.assertEqual((trial["state"], trial["value"]), ("PRUNED", 5))
        # A bad metric is refused, nothing stored.
        rc, t2 = self.ask("pr")
        r = self.c.cli("report", "pr", "2", "0", "loss=nan", check=False)
        self.assertNotEqual(r.returncode, 0)

    def test_enqueue_runs_first_on_workers(self):
        self.c.create_study(study_yaml("enq", trials=4, parallel=1))
        r = self.c.cli("enqueue", "enq", "x=7", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("x: 7 is out of range", r.stderr)
        r = self.c.cli("enqueue", "enq", "y=0.5", check=False)
        self.assertIn("y: no such parameter", r.stderr)
        self.c.cli("enqueue", "enq", "x=0.125")
        self.c.start_worker("w1")
        self.c.wait_study_done("enq")
        trials = sorted(self.c.trials("enq"), key=lambda t: t["started"])
        self.assertEqual(trials[0]["number"], 0)
        self.assertEqual(trials[0]["params"]["x"], 0.125)
        self.assertEqual(len(trials), 4)
        r = self.c.cli("enqueue", "enq", "x=0.5", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("hpo study extend enq", r.stderr)

    def test_enqueue_and_ask_survive_restart(self):
        self.c.create_study(asktell_yaml("rs", 5))
        rc, t0 = self.ask("rs")
        self.c.cli("enqueue", "rs", "x=-2.5", "opt=sgd")
        self.c.cli("enqueue", "rs", "opt=adam")
        self.c.stop_coordinator()
        self.c.start_coordinator()
        # Held through the restart, with no lease to run out.
        s = self.c.study("rs")
        self.assertEqual((s["counts"]["RUNNING"], s["counts"]["WAITING"]),
                         (1, 2))
        rc, t1 = self.ask("rs")
        self.assertEqual(t1, {"number": 1,
                              "params": {"x": -2.5, "opt": "sgd"}})
        rc, t2 = self.ask("rs")
        self.assertEqual((t2["number"], t2["params"]["opt"]), (2, "adam"))
        self.c.cli("tell", "rs", "0", "-3")
        self.assertEqual(self.c.cli_json("trial", "show", "rs", "0")["value"],
                         -3)
        rc, t3 = self.ask("rs")
        self.assertEqual(t3["number"], 3)


@unittest.skipIf(rawpeer.load(), "raw peers: %s" % rawpeer.load())
class AskTellPeerTest(ClusterTest):
    cluster_args = {"heartbeat_ms": 200, "lease_ms": 3000}

    def answer(self, p, body, msg):
        seq = p.send(body, msg)
        return p.wait(lambda e: e.seq == seq, 5, "the answer to " + body)

    def refused(self, p, body, msg, text):
        r = self.answer(p, body, msg)
        self.assertEqual(rawpeer.body_of(r), "error", rawpeer.describe(r))
        self.assertEqual(rawpeer.pb.ErrorCode.Name(r.error.code),
                         "ERR_INVALID", rawpeer.describe(r))
        self.assertIn(text, r.error.message)

    def test_hostile_requests(self):
        pb = rawpeer.pb
        self.c.create_study(asktell_yaml("h", 3))
        p = rawpeer.RawPeer(self.c.endpoint)
        self.peers.append(p)
        r = self.answer(p, "ask", pb.StudyRef(name="h"))
        self.assertEqual(rawpeer.body_of(r), "trial_info")
        n = r.trial_info.number
        nan, inf = float("nan"), float("inf")
        for value in (nan, inf, -inf):
            self.refused(p, "client_report", pb.ClientReport(
                study="h", number=n, step=0,
                metrics=[pb.Metric(name="loss", value=value)]),
                "not a finite number")
            self.refused(p, "tell", pb.Tell(study="h", number=n,
                                             has_value=True, value=value),
                         "not a finite number")
        for step in (-1, 2 ** 53 + 1):
            self.refused(p, "client_report", pb.ClientReport(
                study="h", number=n, step=step,
                metrics=[pb.Metric(name="loss", value=1)]), "out of range")
        self.refused(p, "client_report", pb.ClientReport(
            study="h", number=n, step=0,
            metrics=[pb.Metric(name="m%d" % k, value=1)
                     for k in range(1025)]), "at most 1024")
        self.refused(p, "client_report", pb.ClientReport(
            study="h", number=n, step=0), "no metric")
        self.refused(p, "tell", pb.Tell(study="h", number=n, state="DONE",
                                         has_value=True, value=1),
                     "state must be")
        self.refused(p, "tell", pb.Tell(study="h", number=2 ** 64 - 1,
                                         has_value=True, value=1),
                     "has no trial")
        self.refused(p, "enqueue", pb.Enqueue(
            study="h", params=["x=1"] * 3), "3 values given")
        # Invalid UTF-8 in a word is quoted back cleaned: the answer
        # decodes strictly (rawpeer raises if it does not).
        env = p.envelope("enqueue", pb.Enqueue(study="h",
                                               params=["PH01=1"]))
        p.send_raw(rawpeer.with_bytes(env.SerializeToString(), "PH01",
                                      b"\xc3\x28\xff\xfe"))
        r = p.wait(lambda e: e.seq == env.seq, 5, "the enqueue's answer")
        self.assertEqual(rawpeer.body_of(r), "error")
        # Nothing of it was stored: trial n has no values, nothing was
        # enqueued, and the trial is still RUNNING.
        trial = self.c.cli_json("trial", "show", "h", str(n))
        self.assertEqual((trial["state"], trial["intermediate"]),
                         ("RUNNING", []))
        self.assertEqual(self.c.study("h")["counts"]["WAITING"], 0)
        self.assertIsNone(self.c.coordinator.poll())


if __name__ == "__main__":
    unittest.main(verbosity=2)
