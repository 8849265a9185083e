"""A TPE study (sampler: {type: tpe}) end to end: four trials at a time
on real workers, so the constant liar sees pending trials; every value in
bounds; after the random start-up trials, TPE's suggestions gather near
the optimum of the trainer's loss, (x - 0.3)^2; and a coordinator restart
in the middle (the history, curves included, reloaded from the store)
lets the study finish."""
import statistics
import unittest

from harness import ClusterTest, study_yaml, wait_for

SPACE = ("  x: {type: float, low: 0, high: 1}\n"
         "  n: {type: int, low: 1, high: 64, log: true}\n"
         "  opt: {type: categorical, values: [sgd, adam]}\n")
SAMPLER = "tpe, n_startup_trials: 6"


class TpeTest(ClusterTest):
    cluster_args = {"heartbeat_ms": 200, "lease_ms": 5000}

    def check_trials(self, name, count):
        trials = self.c.trials(name)
        self.assertEqual(sorted(t["number"] for t in trials),
                         list(range(count)))
        for t in trials:
            self.assertEqual(t["state"], "COMPLETE")
            p = t["params"]
            self.assertTrue(0 <= p["x"] <= 1, p)
            self.assertTrue(1 <= p["n"] <= 64 and p["n"] == int(p["n"]), p)
            self.assertIn(p["opt"], ("sgd", "adam"))
            self.assertAlmostEqual(t["value"], (p["x"] - 0.3) ** 2, places=9)
        return sorted(trials, key=lambda t: t["number"])

    def test_tpe_study(self):
        c = self.c
        c.start_worker("w1", slots=4)
        c.create_study(study_yaml("tpe", trials=30, parallel=4,
                                  sampler=SAMPLER, space=SPACE,
                                  args="--steps 2 --sleep 0.02"))
        s = c.wait_study_done("tpe", timeout=120)
        self.assertEqual(s["state"], "FINISHED")
        self.assertEqual(s["counts"]["COMPLETE"], 30)
        trials = self.check_trials("tpe", 30)
        # Uniform draws are a median 0.25 from 0.3 (twelve of them fall
        # under 0.15 one time in 25); TPE's last twelve, about 0.08.
        late = statistics.median(abs(t["params"]["x"] - 0.3)
                                 for t in trials[18:])
        print("median distance of the last twelve to 0.3: %.3f" % late)
        self.assertLess(late, 0.15, [t["params"]["x"] for t in trials])

    def test_restart_midway(self):
        c = self.c
        c.start_worker("w1", slots=2)
        c.create_study(study_yaml("tpe", trials=24, parallel=2,
                                  sampler=SAMPLER, space=SPACE,
                                  args="--steps 2 --sleep 0.1"))
        wait_for(lambda: c.study("tpe")["counts"]["COMPLETE"] >= 10, 60,
                 "ten trials to complete")
        c.stop_coordinator()
        c.start_coordinator()
        s = c.wait_study_done("tpe", timeout=120)
        self.assertEqual(s["state"], "FINISHED")
        self.check_trials("tpe", 24)


if __name__ == "__main__":
    unittest.main(verbosity=2)
