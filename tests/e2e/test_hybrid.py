"""A hybrid search (issue #7) on real workers: a grid: true categorical
is swept while the sampler draws a float. Every grid point has its first
trial before any has its second, the study ends with exactly budget /
points trials per point (one more for the first budget % points), and
hpo study show reports the counts, the same after a restart."""
import unittest

from harness import ClusterTest, PYTHON, TRAINER

POINTS = [1, 2, 3, 4]
BUDGET = 10


def hybrid_yaml(name):
    return ("name: %s\n"
            "command: %s %s --x {x} --steps {steps} --sleep 0.01\n"
            "objective: {metric: loss, direction: minimize}\n"
            "sampler: {type: random, seed: 3}\n"
            "budget: {trials: %d, parallel: 3}\n"
            "space:\n"
            "  steps: {type: categorical, values: [%s], grid: true}\n"
            "  x: {type: float, low: 0, high: 1}\n"
            % (name, PYTHON, TRAINER, BUDGET,
               ", ".join(str(p) for p in POINTS)))


class HybridTest(ClusterTest):

    def expected(self):
        n = len(POINTS)
        return {p: BUDGET // n + (1 if k < BUDGET % n else 0)
                for k, p in enumerate(POINTS)}

    def check_show(self, name):
        grid = self.c.cli_json("study", "show", name, "--grid")
        self.assertEqual(grid["grid_points"], len(POINTS), grid)
        self.assertEqual((grid["trials_min"], grid["trials_max"]), (2, 3))
        got = {g["params"]["steps"]: g["trials"] for g in grid["points"]}
        self.assertEqual(got, self.expected())
        text = self.c.cli("study", "show", name).stdout
        self.assertIn("grid points", text)
        self.assertIn("4, trials each 2-3", text)
        table = self.c.cli("study", "show", name, "--grid").stdout
        self.assertIn("TRIALS", table)

    def test_hybrid_counts_per_point(self):
        c = self.c
        c.start_worker("w1", slots=2)
        c.start_worker("w2", slots=2)
        c.create_study(hybrid_yaml("hy"))
        s = c.wait_study_done("hy", timeout=90)
        self.assertEqual(s["state"], "FINISHED", s)
        self.assertEqual(s["counts"]["COMPLETE"], BUDGET, s)
        trials = sorted(c.trials("hy"), key=lambda t: t["number"])
        self.assertEqual(len(trials), BUDGET)
        steps = [t["params"]["steps"] for t in trials]
        # Trials are made in number order: point n % 4 for trial n, so
        # each point had its first before any had its second.
        self.assertEqual(steps, [POINTS[n % len(POINTS)]
                                 for n in range(BUDGET)])
        counts = {p: steps.count(p) for p in POINTS}
        self.assertEqual(counts, self.expected())
        xs = [t["params"]["x"] for t in trials]
        self.assertTrue(all(0 <= x <= 1 for x in xs))
        self.assertEqual(len(set(xs)), BUDGET)  # drawn, not swept
        self.check_show("hy")
        # The counts come from the trials, so a restart reads the same.
        c.stop_coordinator()
        c.start_coordinator()
        self.check_show("hy")


if __name__ == "__main__":
    unittest.main(verbosity=2)
