"""Conditional parameters end to end: momentum exists only when opt is
sgd. Where it does not, it is absent from the trial's argv (the word that
holds its placeholder is dropped), environment, params file, `hpo trials
--json` and JSON Lines export; a study whose conditional placeholder is a
word of its own after an option is refused with a hint."""
import json
import os
import unittest

from harness import ClusterTest, PYTHON

# Records what the trial was given, then reports a loss.
RECORDER = r'''
import json, os, sys
params = json.load(open(os.environ["HPO_PARAMS_FILE"]))
env = {k: v for k, v in os.environ.items() if k.startswith("HPO_PARAM_")}
path = os.path.join(os.environ["HPO_TEST_DIR"],
                    "rec-%s-%s.json" % (os.environ["HPO_STUDY"],
                                        os.environ["HPO_TRIAL"]))
with open(path, "w") as f:
    json.dump({"argv": sys.argv[1:], "env": env, "file": params}, f)
os.write(int(os.environ["HPO_REPORT_FD"]), b"loss=%d\n" % len(sys.argv))
'''

SPACE = """space:
  opt: {type: categorical, values: [sgd, adam]}
  momentum: {type: float, low: 0.5, high: 0.99, when: {opt: sgd}}
  lr: {type: float, low: 0.001, high: 0.1, log: true}
"""


def study(name, command, trials=12):
    return "\n".join([
        "name: %s" % name,
        "command: %s" % command,
        "objective: {metric: loss, direction: minimize}",
        "sampler: {type: random, seed: 3}",
        "budget: {trials: %d}" % trials,
    ]) + "\n" + SPACE


class ConditionalTest(ClusterTest):

    def setUp(self):
        super().setUp()
        self.rec = os.path.join(self.c.dir, "rec.py")
        with open(self.rec, "w") as f:
            f.write(RECORDER)

    def _check(self, name, trials, argv_of):
        c = self.c
        s = c.wait_study_done(name)
        self.assertEqual(s["state"], "FINISHED")
        self.assertEqual(s["counts"]["COMPLETE"], trials)
        seen = set()
        for t in c.trials(name):
            p = t["params"]
            seen.add(p["opt"])
            with open(os.path.join(c.dir, "rec-%s-%d.json"
                                   % (name, t["number"]))) as f:
                rec = json.load(f)
            sgd = p["opt"] == "sgd"
            self.assertEqual("momentum" in p, sgd, t)
            self.assertEqual("momentum" in rec["file"], sgd, rec)
            self.assertEqual("HPO_PARAM_MOMENTUM" in rec["env"], sgd, rec)
            self.assertEqual(rec["env"]["HPO_PARAM_OPT"], p["opt"])
            self.assertEqual(rec["argv"], argv_of(p), rec)
            if sgd:
                self.assertTrue(0.5 <= p["momentum"] <= 0.99)
                self.assertEqual(float(rec["env"]["HPO_PARAM_MOMENTUM"]),
                                 p["momentum"])
                self.assertEqual(rec["file"]["momentum"], p["momentum"])
        # Both branches ran (seed 3 draws both among 12).
        self.assertEqual(seen, {"sgd", "adam"})

    def test_absent_everywhere(self):
        c = self.c
        c.start_worker("w1", slots=2)
        c.create_study(study("cond", "%s %s --opt={opt} --momentum={momentum}"
                             " --lr {lr}" % (PYTHON, self.rec)))

        def argv(p):
            words = ["--opt=" + p["opt"]]
            if "momentum" in p:
                words.append("--momentum=%r" % p["momentum"])
            return words + ["--lr", repr(p["lr"])]
        self._check("cond", 12, argv)
        # The table shows the absent cell as "-"; JSON Lines has no key.
        table = c.cli("trials", "cond").stdout
        self.assertIn("momentum", table.splitlines()[0])
        out = os.path.join(c.dir, "cond.jsonl")
        c.cli("export", "cond", "--jsonl", out)
        rows = [json.loads(line) for line in open(out)]
        self.assertEqual(len(rows), 12)
        for row in rows:
            self.assertEqual("momentum" in row, row["opt"] == "sgd", row)
        out = os.path.join(c.dir, "cond.csv")
        c.cli("export", "cond", "--csv", out)
        lines = open(out).read().splitlines()
        head = lines[0].split(",")
        col = head.index("momentum")
        for line, row in zip(lines[1:], rows):
            cell = line.split(",")[col]
            self.assertEqual(cell == "", row["opt"] != "sgd", line)

    def test_absent_with_shell(self):
        c = self.c
        c.start_worker("w1", slots=2)
        c.create_study(study(
            "condsh", "{run: '%s %s --momentum={momentum} ; true', "
            "shell: true}" % (PYTHON, self.rec), trials=8))

        def argv(p):
            return ["--momentum=%r" % p["momentum"]] if "momentum" in p \
                else []
        self._check("condsh", 8, argv)

    def test_option_word_refused(self):
        c = self.c
        path = os.path.join(c.dir, "bad.yaml")
        with open(path, "w") as f:
            f.write(study("bad", "%s %s --momentum {momentum}"
                          % (PYTHON, self.rec)))
        r = c.cli("study", "create", path, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("momentum", r.stderr)
        self.assertIn("write --momentum={momentum}", r.stderr)
        r = c.cli("study", "list")
        self.assertNotIn("bad", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
