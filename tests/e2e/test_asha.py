#!/usr/bin/python3
"""The asha and hyperband pruners through a real coordinator and worker
(issue #8): a study whose trials report worse curves than the first has
trials PRUNED, each with the rung (and bracket) that stopped it in
`hpo trial show`, and the study still finishes."""
import unittest

from harness import PYTHON, TRAINER, ClusterTest


def study(name, pruner, trials=8):
    # One trial at a time, so the order of the reports, and so each
    # decision, is the same in every run.
    return ("name: %s\n"
            "command: %s %s --x {x} --steps 8 --sleep 0.02\n"
            "objective: {metric: loss, direction: minimize}\n"
            "sampler: {type: random, seed: 7}\n"
            "pruner: %s\n"
            "budget: {trials: %d, parallel: 1}\n"
            "space:\n  x: {type: float, low: 0, high: 1}\n"
            % (name, PYTHON, TRAINER, pruner, trials))


class AshaTest(ClusterTest):
    def run_study(self, name, pruner, word):
        self.c.start_worker("w1", slots=1)
        self.c.create_study(study(name, pruner))
        s = self.c.wait_study_done(name, timeout=120)
        self.assertEqual(s["state"], "FINISHED", s)
        trials = self.c.trials(name)
        states = [t["state"] for t in trials]
        self.assertEqual(len(trials), 8)
        self.assertTrue(set(states) <= {"COMPLETE", "PRUNED"}, states)
        # The first trial is alone at every rung: it always completes.
        self.assertEqual(states[0], "COMPLETE", states)
        pruned = [t for t in trials if t["state"] == "PRUNED"]
        self.assertTrue(pruned, states)
        show = self.c.cli("trial", "show", name,
                          str(pruned[0]["number"])).stdout
        self.assertIn(word, show)
        return trials

    def test_asha_prunes_at_a_rung(self):
        self.run_study("a", "{type: asha, min_resource: 1, "
                       "reduction_factor: 2}", "rung ")

    def test_hyperband_prunes_in_a_bracket(self):
        self.run_study("h", "{type: hyperband, max_resource: 8, "
                       "reduction_factor: 2}", "bracket ")


if __name__ == "__main__":
    unittest.main(verbosity=2)
