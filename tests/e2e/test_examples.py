"""The training examples, end to end on a real coordinator and workers, on
tiny budgets (issue #8): examples/sklearn_digits.yaml and
examples/torch_digits.yaml, their study files as shipped but for the
name, the Python, fewer trials and epochs. Every trial must end COMPLETE
or PRUNED (ASHA's first rung is inside the budget) with a validation
accuracy that is a fraction and, for the best, well above chance.

A retried PyTorch trial resumes from its checkpoint: the worker running
it is killed after a few epochs, a second worker with the same
--checkpoint-root takes the trial over, and its attempt starts at the
epoch the checkpoint holds, not at 0.

The PyTorch cases skip, loudly (the reason printed and given to
unittest), only when torch cannot be imported; scikit-learn is needed by
both (and is in scripts/install-deps.sh), so without it the file exits
77, which ctest reports as skipped.
"""
import os
import re
import subprocess
import sys
import unittest

from harness import PYTHON, SRC, ClusterTest, run_or_skip, wait_for

ROOT = os.path.abspath(SRC)


def _why_no(module):
    """None if the test Python imports module, else the reason."""
    r = subprocess.run([PYTHON, "-c", "import " + module],
                       capture_output=True, text=True, timeout=120)
    if r.returncode == 0:
        return None
    lines = (r.stderr or r.stdout).strip().splitlines()
    return "%s cannot import %s: %s" % (PYTHON, module,
                                        lines[-1] if lines else "?")


NO_TORCH = _why_no("torch")
if NO_TORCH:
    sys.stderr.write("\n*** test_examples: the PyTorch cases SKIP: %s "
                     "(apt-get install python3-torch) ***\n\n" % NO_TORCH)


def example(name, study, trials, parallel, epochs):
    """examples/NAME.yaml renamed to study, run with the test's Python
    from the top of the repository, with trials trials, parallel at once,
    epochs epochs."""
    with open(os.path.join(ROOT, "examples", name + ".yaml")) as f:
        text = f.read()
    text = re.sub(r"(?m)^name: .*$", "name: " + study, text)
    text = re.sub(r"(?m)^command: python3 ", "command: %s " % PYTHON, text)
    text = re.sub(r"--epochs \d+", "--epochs %d" % epochs, text)
    text = re.sub(r"(?m)^budget: .*$", "budget: {trials: %d, parallel: %d}"
                  % (trials, parallel), text)
    return text + "workdir: %s\n" % ROOT


class ExamplesTest(ClusterTest):
    cluster_args = {"heartbeat_ms": 500, "lease_ms": 5000}

    def check_study(self, name, trials, epochs):
        c = self.c
        s = c.wait_study_done(name, timeout=240)
        self.assertEqual(s["state"], "FINISHED", s)
        counts = s["counts"]
        self.assertEqual(counts["COMPLETE"] + counts["PRUNED"], trials, s)
        self.assertGreaterEqual(counts["COMPLETE"], 1, s)
        best = None
        for t in c.trials(name):
            self.assertIn(t["state"], ("COMPLETE", "PRUNED"), t)
            v = t["value"]
            self.assertIsNotNone(v, t)
            self.assertTrue(0.0 <= v <= 1.0, t)
            if t["state"] == "COMPLETE":
                best = v if best is None else max(best, v)
                # The command line's --epochs counts (under a worker
                # hpo.params() has only the space's parameters).
                shown = c.cli_json("trial", "show", name, str(t["number"]))
                self.assertEqual(max(p["step"] for p in shown["intermediate"]),
                                 epochs - 1, shown)
        # Ten classes: chance is 0.1; any sane setting of these models
        # passes 0.8 within a few epochs, and TPE's first trials are
        # random, so the best of them is far from the worst corners.
        self.assertGreater(best, 0.8, c.trials(name))
        return s

    def test_sklearn_study(self):
        self.c.start_worker("w", slots=2)
        self.c.create_study(re.sub(r"--passes \d+", "--passes 2",
                                   example("sklearn_digits", "sk", 4, 2, 3)))
        self.check_study("sk", 4, 3)

    @unittest.skipIf(NO_TORCH, NO_TORCH or "")
    def test_torch_study(self):
        self.c.start_worker("w", slots=2)
        self.c.create_study(example("torch_digits", "tc", 4, 2, 3))
        self.check_study("tc", 4, 3)

    @unittest.skipIf(NO_TORCH, NO_TORCH or "")
    def test_torch_resumes_from_checkpoint(self):
        c = self.c
        root = os.path.join(c.dir, "shared-ckpt")
        text = example("torch_digits", "tr", 1, 1, 400)
        # No pruner: one trial alone is never pruned anyway, but the
        # point here is the checkpoint.
        text = re.sub(r"(?m)^pruner: .*$", "pruner: {type: none}", text)
        text = re.sub(r"(?m)^trial: .*$", "trial: {max_lost: 2}", text)
        c.start_worker("wa", extra=["--checkpoint-root", root])
        c.create_study(text)
        ckpt = os.path.join(root, "tr", "0", "model.pt")

        def steps(attempt):
            t = c.cli_json("trial", "show", "tr", "0")
            return sorted(v["step"] for v in t["intermediate"]
                          if v["attempt"] == attempt and
                          v["metric"] == "val_acc")

        def stored():
            return len(steps(1)) >= 3 and os.path.exists(ckpt)
        wait_for(stored, 120, "attempt 1 to store three epochs")
        c.kill_worker("wa")
        c.start_worker("wb", extra=["--checkpoint-root", root])

        first_step = wait_for(lambda: steps(2), 120,
                              "attempt 2 to report")[0]
        self.assertGreaterEqual(first_step, 3)
        t = c.cli_json("trial", "show", "tr", "0")
        self.assertEqual(t["attempts"][0]["outcome"], "LOST", t)
        # The program says where it started, too.
        self.assertIn({"attempt": 2, "step": first_step, "metric": "start",
                       "value": float(first_step)}, t["intermediate"])
        last_one = steps(1)[-1]
        # Attempt 2 starts where attempt 1's last checkpoint left off:
        # after attempt 1's last stored epoch, or the one it saved but
        # had no worker left to report to.
        self.assertIn(first_step, (last_one + 1, last_one + 2), t)
        c.cli("study", "stop", "tr")


if __name__ == "__main__":
    run_or_skip("test_examples", lambda: _why_no("sklearn"),
                lambda: None)
