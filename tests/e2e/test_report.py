"""hpo report STUDY -o FILE (issue #12, docs/dashboard.md "The report") on
a real coordinator: an ask/tell study with a conditional parameter,
intermediate values over two attempts of a trial (one lost to a worker
is not needed: a trial told after reports has one attempt; the worker
study below gives attempts from a real worker), pruned and failed
trials. The page's data element is parsed back and checked against
`hpo trials --json` and `hpo trial show --json`; "</" never appears
inside it (the study file's text holds "</script>").
"""
import json
import os
import re
import unittest

from harness import ClusterTest, study_yaml, wait_for

SPEC = """name: rep
# a comment a page must not end on: </script><script>alert(1)</script>
objective: {metric: loss, direction: minimize}
sampler: {type: random, seed: 3}
pruner: {type: median}
budget: {trials: 8}
space:
  x: {type: float, low: -5, high: 5}
  opt: {type: categorical, values: [adam, sgd]}
  mom: {type: float, low: 0.5, high: 0.99, when: {opt: sgd}}
"""

DATA = re.compile(r'<script id="hpo-data" type="application/json">(.*?)'
                  r'</script>', re.S)


class ReportTest(ClusterTest):
    cluster_args = {"heartbeat_ms": 200, "lease_ms": 3000}

    def drive(self):
        """Runs the ask/tell study: reports, tells, a failure."""
        told = {}
        for k in range(8):
            r = self.c.cli("ask", "rep", "--json", check=False)
            if r.returncode == 3:
                break
            self.assertEqual(r.returncode, 0, r.stderr)
            t = json.loads(r.stdout)
            n, x = t["number"], t["params"]["x"]
            if k == 5:
                self.c.cli("tell", "rep", str(n), "--state", "failed")
                continue
            pruned = False
            for step in range(3):
                r = self.c.cli("report", "rep", str(n), str(step),
                               "loss=%r" % (x * x + 1.0 / (step + 1)),
                               "acc=%r" % (step / 3.0), check=False)
                self.assertIn(r.returncode, (0, 3), r.stderr)
                if r.returncode == 3:
                    pruned = True
                    break
            if pruned:
                self.c.cli("tell", "rep", str(n), "--state", "pruned")
            else:
                self.c.cli("tell", "rep", str(n), repr(x * x))
                told[n] = x * x
        return told

    def report(self, name):
        path = os.path.join(self.c.dir, "report.html")
        r = self.c.cli("report", name, "-o", path)
        self.assertEqual(r.stdout, "")
        with open(path, encoding="utf-8") as f:
            html = f.read()
        found = DATA.findall(html)
        self.assertEqual(len(found), 1)
        self.assertNotIn("</", found[0])
        # Right before the page's own first script, if it has one.
        start = html.index('<script id="hpo-data"')
        rest = html[start + len(DATA.search(html).group(0)):]
        self.assertNotIn("<script", html[:start])
        # The rest is the page as built in, unchanged.
        with open(os.path.join(os.environ.get("HPO_SRC", "."), "web",
                               "dist", "index.html"), encoding="utf-8") as f:
            page = f.read()
        self.assertEqual(html[:start] + rest[1:], page)
        return json.loads(found[0])

    def test_asktell_study(self):
        path = os.path.join(self.c.dir, "rep.yaml")
        with open(path, "w") as f:
            f.write(SPEC)
        self.c.cli("study", "create", path)
        told = self.drive()
        doc = self.report("rep")
        self.assertEqual(doc["mode"], "report")
        api = doc["api"]
        studies = api["/api/studies"]["studies"]
        self.assertEqual([s["name"] for s in studies], ["rep"])
        shown = self.c.study("rep")
        s = studies[0]
        self.assertEqual(s["counts"], shown["counts"])
        self.assertEqual(s["state"], shown["state"])
        self.assertEqual(s["best"]["number"], shown["best"]["number"])
        self.assertEqual(s["best"]["value"], min(told.values()))
        self.assertEqual(s["params"], ["x", "opt", "mom"])
        detail = api["/api/studies/rep"]
        self.assertEqual(detail["spec"], SPEC)
        self.assertEqual(detail["metrics"], ["acc", "loss"]
                         if detail["metrics"][0] == "acc"
                         else ["loss", "acc"])
        self.assertEqual(detail["space"][2]["when"],
                         {"param": "opt", "values": ["sgd"]})

        # The trial table against hpo trials --json.
        trials = self.c.trials("rep")
        table = api["/api/studies/rep/trials"]
        self.assertEqual(table["n"], len(trials))
        self.assertEqual(table["number"], [t["number"] for t in trials])
        for k, t in enumerate(trials):
            self.assertEqual(table["state"][k], t["state"])
            self.assertEqual(table["value"][k], t["value"])
            self.assertEqual(table["attempt"][k], t["attempt"])
            self.assertEqual(table["ended"][k], t["ended"])
            self.assertEqual(table["reason"][k], t["reason"])
            for p in ("x", "opt", "mom"):
                self.assertEqual(table["params"][p][k], t["params"].get(p))
        self.assertIn(None, table["params"]["mom"])   # conditional

        # Curves: every value of the objective, by trial then step.
        # The objective's curves first; no copy without a metric.
        keys = [k for k in api if "/curves" in k]
        self.assertEqual(keys, ["/api/studies/rep/curves?metric=loss",
                                "/api/studies/rep/curves?metric=acc"])
        curves = api["/api/studies/rep/curves?metric=loss"]
        self.assertEqual(curves["metric"], "loss")
        expect = []
        for t in trials:
            show = self.c.cli_json("trial", "show", "rep", str(t["number"]))
            for v in show["intermediate"]:
                if v["metric"] == "loss":
                    expect.append((t["number"], v["step"], v["value"]))
            # Every ended trial's detail is in (8 trials: fewer than 50).
            if t["ended"] is None:
                continue
            d = api["/api/studies/rep/trials/%d" % t["number"]]
            self.assertEqual(d["trial"]["state"], show["state"])
            self.assertEqual(d["trial"]["params"], show["params"])
            self.assertEqual(
                [(v["attempt"], v["step"], v["metric"], v["value"])
                 for v in d["values"]],
                [(v["attempt"], v["step"], v["metric"], v["value"])
                 for v in show["intermediate"]])
            self.assertEqual(
                [(a["attempt"], a["outcome"], a["started"], a["ended"])
                 for a in d["attempts"]],
                [(a["attempt"], a["outcome"], a["started"], a["ended"])
                 for a in show["attempts"]])
        self.assertEqual(list(zip(curves["number"], curves["step"],
                                  curves["value"])), expect)
        timeline = api["/api/studies/rep/timeline"]
        self.assertEqual(timeline["n"], len(trials))
        self.assertIn("/api/studies/rep/importance", api)
        self.assertIn("workers", api["/api/workers"])

    def test_worker_study_and_errors(self):
        self.c.create_study(study_yaml("w", trials=4, parallel=2))
        self.c.start_worker("w1", slots=2)
        self.c.wait_study_done("w", timeout=60)
        doc = self.report("w")
        api = doc["api"]
        trials = self.c.trials("w")
        table = api["/api/studies/w/trials"]
        self.assertEqual(table["worker"], [t["worker"] for t in trials])
        self.assertEqual(table["started"], [t["started"] for t in trials])
        timeline = api["/api/studies/w/timeline"]
        self.assertEqual(sorted(timeline["outcome"]), ["COMPLETE"] * 4)
        self.assertEqual(set(timeline["worker"]), {"w1"})
        workers = api["/api/workers"]["workers"]
        self.assertEqual([w["name"] for w in workers], ["w1"])
        # An unknown study: exit 1, no file.
        out = os.path.join(self.c.dir, "none.html")
        r = self.c.cli("report", "nope", "-o", out, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no study named nope", r.stderr)
        self.assertFalse(os.path.exists(out))
        # -o with the other form's operands: usage.
        r = self.c.cli("report", "w", "0", "-o", out, check=False)
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
