"""Pruners through a real coordinator and worker (issue #8).

- pruner: {type: median, n_startup_trials: 2}: a grid of four trials run
  one at a time; the first two complete, the last two start well and then
  turn bad, and the median pruner stops each at step 3. They end PRUNED
  with their value and the pruner's reason in `hpo trial show`, and the
  program and the grandchild it started are gone within trial.grace.
- objective.value: best: a program whose loss falls then rises ends
  COMPLETE with its lowest loss, not its last, also after a coordinator
  restart; the default (last) keeps the last.
"""
import json
import os
import time
import unittest

from harness import PYTHON, ClusterTest, alive, wait_for

# loss = q_eff / (step + 1), q_eff 1 for the first three steps, then q;
# with --shape v the loss falls to its lowest at the middle step and
# rises again. Writes "<pid> <grandchild pid>" to tree-<trial> first.
TRAIN = r'''
import os, subprocess, sys, time
q, steps, shape = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
d, trial = os.environ["HPO_TEST_DIR"], os.environ["HPO_TRIAL"]
g = subprocess.Popen(["sleep", "300"])
with open(os.path.join(d, "tree-%s" % trial), "w") as f:
    f.write("%d %d\n" % (os.getpid(), g.pid))
rep = os.fdopen(int(os.environ["HPO_REPORT_FD"]), "w")
for s in range(steps):
    if shape == "v":
        loss = q * ((s - steps // 2) ** 2 + 1)
    else:
        loss = (1.0 if s < 3 else q) / (s + 1)
    rep.write("step=%d loss=%r\n" % (s, loss))
    rep.flush()
    time.sleep(0.15)
g.kill()
'''

GRACE_S = 2


def study(name, values, steps, shape, extra):
    return ("name: %s\n"
            "command: %s train.py {q} %d %s\n"
            "objective: {metric: loss, direction: minimize%s}\n"
            "sampler: {type: grid}\n"
            "budget: {parallel: 1}\n"
            "trial: {grace: %ds}\n"
            "space: {q: {type: categorical, values: [%s]}}\n%s"
            % (name, PYTHON, steps, shape,
               extra.get("value", ""), GRACE_S,
               ", ".join(str(v) for v in values), extra.get("pruner", "")))


class PruneTest(ClusterTest):
    cluster_args = {"heartbeat_ms": 200, "lease_ms": 5000}

    def setUp(self):
        super().setUp()
        with open(os.path.join(self.c.dir, "train.py"), "w") as f:
            f.write(TRAIN)
        self.c.start_worker("w1")

    def tree(self, number):
        path = os.path.join(self.c.dir, "tree-%d" % number)
        return [int(p) for p in open(path).read().split()]

    def ended(self, name, number):
        """Trial number's record once it has ended, else None."""
        r = self.c.cli("--json", "trial", "show", name, str(number),
                       check=False)
        if r.returncode != 0:
            return None  # not created yet
        t = json.loads(r.stdout)
        return t if t["state"] not in ("WAITING", "RUNNING") else None

    def test_median_prunes_bad_trials(self):
        self.c.create_study(study(
            "med", [1.0, 1.2, 5.0, 6.0], 12, "turn",
            {"pruner": "pruner: {type: median, n_startup_trials: 2}\n"}))
        # Each bad trial: PRUNED, then its tree gone within the grace.
        for number, q in ((2, 5.0), (3, 6.0)):
            t = wait_for(lambda: self.ended("med", number), 60,
                         "trial %d to end" % number, interval=0.05)
            ended = time.monotonic()
            self.assertEqual(t["state"], "PRUNED", t)
            self.assertIn("pruned at step 3: ", t["reason"])
            self.assertIn("worse than the median 0.275 of 2 trials at "
                          "step 3", t["reason"])
            self.assertAlmostEqual(t["value"], q / 4)
            pids = self.tree(number)
            wait_for(lambda: not any(alive(p) for p in pids),
                     GRACE_S + 1.5, "trial %d's process tree to go" % number)
            self.assertLess(time.monotonic() - ended, GRACE_S + 1.5)
        s = self.c.wait_study_done("med", timeout=60)
        states = [t["state"] for t in self.c.trials("med")]
        self.assertEqual(states, ["COMPLETE", "COMPLETE", "PRUNED", "PRUNED"])
        r = self.c.cli("trial", "show", "med", "2")
        self.assertIn("worse than the median", r.stdout)
        # study show says where the pruned trials stopped, also after a
        # coordinator restart (from the history's curves).
        self.assertEqual(s["pruned_steps"],
                         {"min": 3, "median": 3, "max": 3}, s)
        self.assertIn("pruned at  steps 3 to 3",
                      self.c.cli("study", "show", "med").stdout)
        self.c.stop_coordinator()
        self.c.start_coordinator()
        self.assertEqual(self.c.study("med")["pruned_steps"],
                         {"min": 3, "median": 3, "max": 3})

    def test_value_best(self):
        self.c.create_study(study("best", [1.0], 7, "v",
                                  {"value": ", value: best"}))
        self.c.create_study(study("last", [1.0], 7, "v", {}), name="l.yaml")
        self.c.wait_study_done("best", timeout=60)
        self.c.wait_study_done("last", timeout=60)
        best = self.c.cli_json("trial", "show", "best", "0")
        last = self.c.cli_json("trial", "show", "last", "0")
        self.assertEqual(best["state"], "COMPLETE", best)
        # loss over steps 0..6: 10, 5, 2, 1, 2, 5, 10
        self.assertEqual(best["value"], 1.0)
        self.assertEqual(last["value"], 10.0)
        # The chosen value is the stored one: a restart keeps it.
        self.c.stop_coordinator()
        self.c.start_coordinator()
        self.assertEqual(self.c.cli_json("trial", "show", "best",
                                         "0")["value"], 1.0)
        self.assertEqual(self.c.cli_json("best", "best")["value"], 1.0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
