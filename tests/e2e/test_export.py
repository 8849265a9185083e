"""Results leave hpo (issue #9): hpo export as CSV and JSON Lines, the
curves in long form, read back and checked against hpo trials --json and
hpo trial show --json; hpo trials --sort/--limit; hpo watch's exit status
3 for a study that ended with no complete trial, and hpo watch outliving
a coordinator restart."""
import csv
import io
import json
import math
import os
import signal
import subprocess
import sys
import time
import unittest
from datetime import datetime, timezone

from harness import ClusterTest, PYTHON, exe, study_yaml, wait_for

# Reports loss and acc at every step, then the objective. Trial 0's first
# attempt reports two steps more and fails, so its curves hold two
# attempts (the store keeps, per step and metric, the newest attempt's).
METRICS = r'''
import json, os, sys, time
fd = int(os.environ["HPO_REPORT_FD"])
with open(os.environ["HPO_PARAMS_FILE"]) as f:
    p = json.load(f)
first = os.environ["HPO_TRIAL"] == "0" and os.environ["HPO_ATTEMPT"] == "1"
x = p["x"]
for step in range(5 if first else 3):
    loss = (x - 0.3) ** 2 + 1.0 / (step + 1)
    os.write(fd, ("step=%d loss=%.17g acc=%.17g\n"
                  % (step, loss, 1 - loss / 3)).encode())
    time.sleep(0.02)
if first:
    sys.exit(3)
os.write(fd, ("loss=%.17g\n" % ((x - 0.3) ** 2)).encode())
'''

SPACE = ('  x: {type: float, low: 0, high: 1}\n'
         '  opt: {type: categorical, values: ["a,b", "say \\"hi\\"", '
         '"two\\nlines"]}\n')


def iso(t):
    """A timestamp in seconds from the ISO 8601 UTC text export writes."""
    if t == "" or t is None:
        return None
    return datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc).timestamp()


class ExportTest(ClusterTest):

    def make_study(self, name, trials=5):
        c = self.c
        script = os.path.join(c.dir, "metrics.py")
        with open(script, "w") as f:
            f.write(METRICS)
        text = "\n".join([
            "name: %s" % name,
            "command: %s %s" % (PYTHON, script),
            "objective: {metric: loss, direction: minimize}",
            "sampler: {type: random, seed: 3}",
            "budget: {trials: %d, parallel: 2}" % trials,
            "trial: {retries: 1}",
            "space:"]) + "\n" + SPACE
        c.start_worker("w1", slots=2)
        c.create_study(text)
        s = c.wait_study_done(name)
        self.assertEqual(s["counts"]["COMPLETE"], trials)

    def export(self, *args):
        r = self.c.cli("export", *args)
        return r.stdout

    def check_pandas(self, path, n):
        try:
            import pandas
        except ImportError:
            # Loud: scripts/install-deps.sh installs python3-pandas.
            sys.stderr.write("\n*** pandas is missing: pd.read_csv of the "
                             "export NOT checked ***\n")
            return
        df = pandas.read_csv(path)
        self.assertEqual(len(df), n)
        for col in ("number", "x", "value", "metric:loss", "duration"):
            self.assertTrue(pandas.api.types.is_numeric_dtype(df[col]), col)

    def test_export_rows_and_curves(self):
        c = self.c
        self.make_study("ex")
        trials = {t["number"]: t for t in c.trials("ex")}
        shows = {n: c.cli_json("trial", "show", "ex", str(n))
                 for n in trials}

        path = os.path.join(c.dir, "ex.csv")
        self.export("ex", "--csv", path)
        # The promise: pandas reads it with no options, one row a trial,
        # the parameters and metrics as numbers.
        self.check_pandas(path, len(trials))
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        with open(path, newline="") as f:
            header = next(csv.reader(f))
        self.assertEqual(header[:2], ["number", "state"])
        self.assertEqual(sorted(header[2:4]), ["opt", "x"])
        self.assertEqual(header[4:7], ["value", "metric:acc", "metric:loss"])
        self.assertEqual(header[7:], ["attempts", "worker", "started",
                                      "ended", "duration", "reason"])
        self.assertEqual(len(rows), len(trials))

        jpath = os.path.join(c.dir, "ex.jsonl")
        self.export("ex", "--jsonl", jpath)
        with open(jpath) as f:
            jrows = [json.loads(line) for line in f]
        self.assertEqual([list(j) for j in jrows], [header] * len(trials))
        # "-" is standard output, the same bytes.
        self.assertEqual(self.export("ex", "--jsonl", "-"),
                         open(jpath).read())

        for row, jrow in zip(rows, jrows):
            n = int(row["number"])
            t, show = trials[n], shows[n]
            self.assertEqual(jrow["number"], n)
            self.assertEqual(row["state"], t["state"])
            # Exact: the CSV's text reads back as the same double.
            self.assertEqual(float(row["value"]), t["value"])
            self.assertEqual(jrow["value"], t["value"])
            self.assertEqual(float(row["x"]), t["params"]["x"])
            # Commas, quotes and a line break survive CSV quoting.
            self.assertEqual(row["opt"], t["params"]["opt"])
            self.assertEqual(jrow["opt"], t["params"]["opt"])
            self.assertEqual(int(row["attempts"]), t["attempt"])
            self.assertEqual(row["worker"], t["worker"])
            self.assertAlmostEqual(iso(row["started"]), t["started"],
                                   delta=0.002)
            self.assertAlmostEqual(iso(row["ended"]), t["ended"], delta=0.002)
            self.assertAlmostEqual(float(row["duration"]),
                                   t["ended"] - t["started"], places=6)
            self.assertEqual(row["reason"], t["reason"] or "")
            # The last value of each metric: the latest attempt's last step.
            for metric in ("loss", "acc"):
                mine = [v for v in show["intermediate"]
                        if v["metric"] == metric
                        and v["attempt"] == t["attempt"]]
                last = max(mine, key=lambda v: v["step"])["value"]
                self.assertEqual(float(row["metric:" + metric]), last)
                self.assertEqual(jrow["metric:" + metric], last)

        # Curves, long form: every value of trial show, with its attempt.
        cpath = os.path.join(c.dir, "curves.csv")
        self.export("ex", "--curves", "--csv", cpath)
        with open(cpath, newline="") as f:
            crows = list(csv.DictReader(f))
        self.assertEqual(list(crows[0]), ["trial", "attempt", "step",
                                          "metric", "value"])
        got = sorted((int(r["trial"]), int(r["attempt"]), int(r["step"]),
                      r["metric"], float(r["value"])) for r in crows)
        want = sorted((n, v["attempt"], v["step"], v["metric"], v["value"])
                      for n, show in shows.items()
                      for v in show["intermediate"])
        self.assertEqual(got, want)
        # Trial 0 ran twice: steps 3 and 4 are its first attempt's.
        self.assertEqual(trials[0]["attempt"], 2)
        self.assertIn((0, 1, 4, "loss"), {g[:4] for g in got})
        self.assertIn((0, 2, 2, "loss"), {g[:4] for g in got})
        jl = [json.loads(line) for line in
              self.export("ex", "--curves", "--jsonl", "-").splitlines()]
        self.assertEqual(sorted((j["trial"], j["attempt"], j["step"],
                                 j["metric"], j["value"]) for j in jl), want)

        # trial show prints a row per (attempt, step), a column per metric.
        out = c.cli("trial", "show", "ex", "0").stdout
        self.assertIn("ATTEMPT  STEP  acc", out)
        self.assertRegex(out, r"\n  1 +4 +\S+ +\S+\n")

        # Usage: one of --csv, --jsonl; a missing study leaves no file.
        r = c.cli("export", "ex", check=False)
        self.assertEqual(r.returncode, 2)
        missing = os.path.join(c.dir, "none.csv")
        r = c.cli("export", "nosuch", "--csv", missing, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertFalse(os.path.exists(missing))

    def test_curves_larger_than_a_page(self):
        # 60000 values are more than a page's bytes (1 MiB): the trial
        # comes in pieces, joined back without a loss or a repeat.
        c = self.c
        c.start_worker("w1", slots=1)
        c.create_study(study_yaml("big", trials=1,
                                  args="--burst --steps 60000"))
        s = c.wait_study_done("big", timeout=120)
        self.assertEqual(s["counts"]["COMPLETE"], 1)
        out = c.cli("export", "big", "--curves", "--csv", "-",
                    timeout=60).stdout
        rows = list(csv.DictReader(io.StringIO(out)))
        show = c.cli_json("trial", "show", "big", "0")["intermediate"]
        # Whatever the worker got through (issue #10), the export has all
        # of it, in step order, each once.
        self.assertGreater(len(show), 40000)
        self.assertEqual([(int(r["step"]), float(r["value"])) for r in rows],
                         [(v["step"], v["value"]) for v in show])
        rows = list(csv.DictReader(io.StringIO(
            c.cli("export", "big", "--csv", "-").stdout)))
        self.assertEqual(len(rows), 1)
        self.assertEqual(float(rows[0]["metric:loss"]), show[-1]["value"])

    def test_trials_sort_limit(self):
        c = self.c
        self.make_study("so", trials=6)
        every = c.trials("so")
        by_value = c.cli_json("trials", "so", "--sort", "value")["trials"]
        values = [t["value"] for t in by_value]
        self.assertEqual(values, sorted(values))
        top = c.cli_json("trials", "so", "--sort", "value", "--limit", "2")
        self.assertEqual(top["trials"], by_value[:2])
        longest = c.cli_json("trials", "so", "--sort", "duration")["trials"]
        d = [t["duration"] for t in longest]
        self.assertEqual(d, sorted(d, reverse=True))
        self.assertEqual(
            c.cli_json("trials", "so", "--sort", "number")["trials"], every)
        text = c.cli("trials", "so", "--sort", "value", "--limit", "3").stdout
        lines = text.splitlines()
        self.assertEqual(len(lines), 4)
        self.assertIn("DURATION", lines[0])
        self.assertIn("REASON", lines[0])
        self.assertTrue(lines[1].startswith(str(by_value[0]["number"]) + " "))
        # Tables: at most 6 significant digits; the long categorical
        # value "two\nlines" stays on one line.
        for line in lines[1:]:
            for word in line.split():
                if word.replace(".", "").replace("-", "").isdigit():
                    self.assertLessEqual(len(word.replace(".", "")
                                             .lstrip("-0")), 6, word)
        r = c.cli("trials", "so", "--sort", "size", check=False)
        self.assertEqual(r.returncode, 2)
        r = c.cli("trials", "so", "--limit", "0", check=False)
        self.assertEqual(r.returncode, 2)


class WatchTest(ClusterTest):

    def test_watch_exits_3_when_nothing_completed(self):
        c = self.c
        c.start_worker("w1", slots=2)
        c.create_study(study_yaml("bad", trials=2, retries=0,
                                  args="--exit 2"))
        r = c.cli("watch", "bad", "--interval", "0.2", check=False,
                  timeout=60)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        # The last failure is shown once the coordinator names it
        # (StudyInfo.last_failed, filled by another part of issue #9).
        if c.study("bad").get("last_failed"):
            self.assertIn("last failure: trial", r.stdout)
        # A study that completed a trial: 0.
        c.create_study(study_yaml("good", trials=2), name="good.yaml")
        r = c.cli("watch", "good", "--interval", "0.2", check=False,
                  timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("exit", c.cli("watch", "--help").stdout.lower())

    def test_watch_survives_coordinator_restart(self):
        c = self.c
        c.start_worker("w1", slots=1)
        c.create_study(study_yaml("slow", trials=4, args="--sleep 0.4"))
        out = open(os.path.join(c.dir, "watch.out"), "w+")
        watch = subprocess.Popen(
            [exe("hpo"), "--coordinator", c.endpoint, "--timeout", "1",
             "watch", "slow", "--interval", "0.2"],
            stdout=out, stderr=subprocess.STDOUT, cwd=c.dir)
        try:
            wait_for(lambda: os.path.getsize(out.name) > 0, 20,
                     "watch to print")
            c.stop_coordinator(signal.SIGKILL)
            # Longer than --timeout: the old watch gave up here.
            time.sleep(2.5)
            self.assertIsNone(watch.poll(), "watch ended while the "
                              "coordinator was down")
            c.start_coordinator()
            rc = watch.wait(timeout=90)
        finally:
            if watch.poll() is None:
                watch.kill()
                watch.wait()
        text = open(out.name).read()
        out.close()
        self.assertEqual(rc, 0, text)
        self.assertIn("reconnecting", text)
        self.assertIn("answers again", text)
        self.assertEqual(c.study("slow")["state"], "FINISHED")


if __name__ == "__main__":
    unittest.main(verbosity=2)
