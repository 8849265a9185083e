"""A CMA-ES study survives a coordinator restart: the new coordinator
rebuilds the sampler from the stored trials (tell() of each finished
trial in number order), and with results in number order the study goes
on with exactly the trials an uninterrupted one runs."""
import os
import unittest

from harness import ClusterTest, PYTHON, wait_for

OBJECTIVE = r'''
import os, sys, math
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
x, y, n = float(args["--x"]), float(args["--y"]), int(args["--n"])
loss = (x - 0.3) ** 2 + (math.log10(y) + 2) ** 2 + (n - 4) ** 2 / 100
os.write(int(os.environ["HPO_REPORT_FD"]), b"loss=%.17g\n" % loss)
'''


def study(name, trials, parallel=1):
    return "\n".join([
        "name: %s" % name,
        "command: %s objective.py --x {x} --y {y} --n {n}" % PYTHON,
        "objective: {metric: loss}",
        "sampler: {type: cmaes, seed: 3}",
        "budget: {trials: %d, parallel: %d}" % (trials, parallel),
        "space:",
        "  x: {type: float, low: -1, high: 1}",
        "  y: {type: float, low: 1.0e-3, high: 1, log: true}",
        "  n: {type: int, low: 0, high: 10}",
    ]) + "\n"


class CmaesTest(ClusterTest):

    def params(self, name):
        return {t["number"]: t["params"] for t in self.c.trials(name)}

    def objective(self):
        with open(os.path.join(self.c.dir, "objective.py"), "w") as f:
            f.write(OBJECTIVE)

    def test_restart_replays_generations(self):
        c = self.c
        self.objective()
        c.start_worker("w", slots=1)
        trials = 40  # lambda is 7: five generations and some
        c.create_study(study("whole", trials), "whole.yaml")
        s = c.wait_study_done("whole", timeout=120)
        self.assertEqual(s["counts"]["COMPLETE"], trials, s)
        whole = self.params("whole")

        c.create_study(study("cut", trials), "cut.yaml")
        wait_for(lambda: c.study("cut")["counts"]["COMPLETE"] >= 17, 60,
                 "17 trials of cut")
        c.stop_coordinator()
        c.start_coordinator()
        s = c.wait_study_done("cut", timeout=120)
        self.assertEqual(s["counts"]["COMPLETE"], trials, s)
        cut = self.params("cut")
        # Same seed, same results in the same order: the same trials,
        # before the restart and after it.
        for n in range(trials):
            self.assertEqual(cut[n], whole[n], "trial %d" % n)
        # And the search moved: later trials are better than the first.
        values = {t["number"]: t["value"] for t in c.trials("cut")}
        self.assertLess(min(values[n] for n in range(30, 40)),
                        min(values[n] for n in range(7)))

    def test_restart_with_trials_running(self):
        """Four workers, results in any order, a restart while trials
        run: the study ends with every trial, and the search went on."""
        c = self.c
        self.objective()
        for w in "abcd":
            c.start_worker(w, slots=1)
        trials = 60
        c.create_study(study("par", trials, parallel=4), "par.yaml")
        wait_for(lambda: c.study("par")["counts"]["COMPLETE"] >= 25, 60,
                 "25 trials of par")
        c.stop_coordinator()
        c.start_coordinator()
        s = c.wait_study_done("par", timeout=120)
        self.assertEqual(s["counts"]["COMPLETE"], trials, s)
        values = {t["number"]: t["value"] for t in c.trials("par")}
        self.assertLess(min(values[n] for n in range(45, 60)),
                        min(values[n] for n in range(7)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
