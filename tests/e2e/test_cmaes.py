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

    def cut(self, name, trials, parallel, after):
        """Runs study name, restarting the coordinator once `after` trials
        are COMPLETE; returns its values by trial number once it ends."""
        c = self.c
        c.create_study(study(name, trials, parallel), name + ".yaml")
        wait_for(lambda: c.study(name)["counts"]["COMPLETE"] >= after, 60,
                 "%d trials of %s" % (after, name))
        c.stop_coordinator()
        c.start_coordinator()
        s = c.wait_study_done(name, timeout=120)
        self.assertEqual(s["counts"]["COMPLETE"], trials, s)
        return {t["number"]: t["value"] for t in c.trials(name)}

    def test_restart_replays_generations(self):
        c = self.c
        self.objective()
        c.start_worker("w", slots=1)
        trials = 40  # lambda is 7: five generations and some
        c.create_study(study("whole", trials), "whole.yaml")
        s = c.wait_study_done("whole", timeout=120)
        self.assertEqual(s["counts"]["COMPLETE"], trials, s)
        whole = self.params("whole")
        values = self.cut("cut", trials, 1, 17)
        cut = self.params("cut")
        # Same seed, same results in the same order: the same trials,
        # before the restart and after it.
        for n in range(trials):
            self.assertEqual(cut[n], whole[n], "trial %d" % n)
        # And the search moved: later trials are better than the first.
        self.assertLess(min(values[n] for n in range(30, 40)),
                        min(values[n] for n in range(7)))

    def test_restart_with_trials_running(self):
        """Four workers, results in any order, a restart while trials
        run: the study ends with every trial, and the search went on."""
        self.objective()
        for w in "abcd":
            self.c.start_worker(w, slots=1)
        values = self.cut("par", 60, 4, 25)
        self.assertLess(min(values[n] for n in range(45, 60)),
                        min(values[n] for n in range(7)))

if __name__ == "__main__":
    unittest.main(verbosity=2)
