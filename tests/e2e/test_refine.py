"""Refinement around the best: a random study runs on real workers, then
`hpo study refine` (and a study file with sampler: {type: refine}) runs a
grid around its best trials: exactly the grid's points, each once, around
the best values; the centres are kept in the stored study, so it survives
the source study's deletion and a coordinator restart."""
import unittest

from harness import ClusterTest, study_yaml, PYTHON, TRAINER


def window(c, points, shrink, low=0.0, high=1.0):
    """The refine sampler's points around c, as refine.c computes them."""
    half = shrink * (high - low) / 2
    out = []
    for k in range(points):
        if 2 * k + 1 == points:
            x = c
        else:
            u = c if points == 1 else c - half + 2 * half * k / (points - 1)
            x = min(max(u, low), high)
        if x not in out:
            out.append(x)
    return out


class RefineTest(ClusterTest):

    def _source(self):
        c = self.c
        c.start_worker("w1", slots=2)
        c.create_study(study_yaml("src", trials=10, seed=5))
        s = c.wait_study_done("src")
        self.assertEqual(s["counts"]["COMPLETE"], 10)
        best = sorted(c.trials("src"), key=lambda t: (t["value"],
                                                       t["number"]))
        return [t["params"]["x"] for t in best]

    def _expect(self, centres, points, shrink):
        grid = []
        for c in centres:
            for x in window(c, points, shrink):
                if x not in grid:
                    grid.append(x)
        return grid

    def test_refine_command(self):
        c = self.c
        xs = self._source()
        r = c.cli("study", "refine", "src", "--top", "3", "--points", "3",
                  "--shrink", "0.2")
        self.assertIn("created study src-refine", r.stdout)
        want = self._expect(xs[:3], 3, 0.2)
        s = c.wait_study_done("src-refine")
        self.assertEqual(s["state"], "FINISHED")
        self.assertEqual(s["budget"], len(want))
        self.assertEqual(s["counts"]["COMPLETE"], len(want))
        got = [t["params"]["x"] for t in sorted(c.trials("src-refine"),
                                                key=lambda t: t["number"])]
        self.assertEqual(len(got), len(want))
        for g, w in zip(got, want):
            self.assertAlmostEqual(g, w, places=12)
        # Each point ran once, on a real worker.
        starts = sorted(t for t, a, _, ev in c.runs() if ev == "start")
        self.assertEqual(len(starts), 10 + len(want))
        # The refined study is no worse than its source: the best is a
        # centre, and the grid is around it.
        self.assertLessEqual(s["best"]["value"],
                             c.study("src")["best"]["value"] + 1e-12)
        self.assertTrue(all(abs(g - xs[0]) <= 0.1 + 1e-12 or
                            any(abs(g - x) <= 0.1 + 1e-12 for x in xs[:3])
                            for g in got))
        # A second refine takes the next free name; its own options.
        r = c.cli("study", "refine", "src", "--top", "1", "--points", "1")
        self.assertIn("created study src-refine2 (1 trials", r.stdout)
        # The centres are in the stored study: delete the source and
        # restart, and the refined study is as it was.
        c.cli("study", "delete", "src", "--yes")
        # A clean exit: under ASan, a leak makes it nonzero.
        self.assertEqual(c.stop_coordinator(), 0)
        c.start_coordinator()
        s2 = c.study("src-refine")
        self.assertEqual(s2["budget"], len(want))
        self.assertEqual(s2["counts"]["COMPLETE"], len(want))
        r = c.cli("study", "refine", "src", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("there is no study src to refine", r.stderr)

    def test_refine_study_file(self):
        c = self.c
        xs = self._source()
        text = "\n".join([
            "name: fine",
            "command: %s %s --x {x}" % (PYTHON, TRAINER),
            "objective: {metric: loss, direction: minimize}",
            "sampler: {type: refine, from: src, top: 2, points: 5, "
            "shrink: 0.1}",
            "space:",
            "  x: {type: float, low: 0, high: 1}",
        ]) + "\n"
        r = c.create_study(text, name="fine.yaml")
        want = self._expect(xs[:2], 5, 0.1)
        self.assertIn("created study fine (%d trials, sampler refine)"
                      % len(want), r.stdout)
        s = c.wait_study_done("fine")
        self.assertEqual(s["counts"]["COMPLETE"], len(want))
        got = sorted(t["params"]["x"] for t in c.trials("fine"))
        for g, w in zip(got, sorted(want)):
            self.assertAlmostEqual(g, w, places=12)
        # Another space, or a study with nothing complete, is refused.
        bad = text.replace("name: fine", "name: fine2").replace(
            "  x: {type: float", "  y: {type: float").replace("{x}", "{y}")
        path = c.dir + "/bad.yaml"
        with open(path, "w") as f:
            f.write(bad)
        r = c.cli("study", "create", path, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("study src has no parameter y", r.stderr)
        c.create_study(study_yaml("empty", trials=1, args="--exit 3",
                                  retries=0))
        c.wait_study_done("empty")
        r = c.cli("study", "refine", "empty", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("study empty has no COMPLETE trial", r.stderr)
        r = c.cli("study", "refine", "src", "--points", "x", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--points 'x'", r.stderr)
        self.assertEqual(c.stop_coordinator(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
