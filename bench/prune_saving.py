#!/usr/bin/python3
"""prune_saving: what early stopping saves on a real training job.

Runs examples/sklearn_digits.yaml (scikit-learn's SGDClassifier on the
digits data, 81 epochs of 10 passes, 40 TPE trials) twice with the same
sampler and seed, on a real coordinator and --workers workers of one
slot each: once with the study's ASHA pruner, once with `pruner: {type:
none}`; nothing else differs. The first n_startup_trials (10) parameter
sets are the same in both runs (random search's, a function of seed and
trial number); after them TPE follows each run's own results, so the
runs explore differently, as two real studies would (--sampler random
keeps all parameter sets the same). It prints, side by side, the total
CPU seconds of all trials (the sum of each trial's last reported cpu_s:
the program's own user + system time, Python's start and imports
included) and the best validation accuracy of a COMPLETE trial, and the
ratios.

    /usr/bin/python3 bench/prune_saving.py [--trials N] [--workers W]
                                           [--seed S] [--sampler TYPE]

Target (issue #8): at least 3 times less CPU, at a best accuracy within
0.5 percentage points.
"""
import argparse
import os
import re
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from harness import Cluster, PYTHON  # noqa: E402


def study_text(name, pruner, args):
    trials, parallel = args.trials, args.workers
    text = open(os.path.join(ROOT, "examples", "sklearn_digits.yaml")).read()
    text = re.sub(r"(?m)^sampler: .*$", "sampler: {type: %s, seed: %d}"
                  % (args.sampler, args.seed), text)
    text = re.sub(r"(?m)^name: .*$", "name: " + name, text)
    text = re.sub(r"(?m)^command: python3 ", "command: %s " % PYTHON, text)
    if pruner is not None:
        text = re.sub(r"(?m)^pruner: .*$", "pruner: " + pruner, text)
    text = re.sub(r"(?m)^budget: .*$",
                  "budget: {trials: %d, parallel: %d}" % (trials, parallel),
                  text)
    return text + "workdir: %s\n" % ROOT


def run(c, name, pruner, args):
    c.create_study(study_text(name, pruner, args),
                   name=name + ".yaml")
    t0 = time.monotonic()
    s = c.wait_study_done(name, timeout=args.timeout)
    wall = time.monotonic() - t0
    path = os.path.join(c.dir, name + ".jsonl")
    c.cli("export", name, "--jsonl", path)
    import json
    cpu, best, counts = 0.0, None, s["counts"]
    for line in open(path):
        row = json.loads(line)
        if row.get("metric:cpu_s") is not None:
            cpu += row["metric:cpu_s"]
        if row["state"] == "COMPLETE" and row["value"] is not None:
            best = row["value"] if best is None else max(best, row["value"])
    return {"cpu": cpu, "best": best, "wall": wall, "counts": counts}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--seed", type=int, default=1,
                    help="the sampler's seed, the same in both runs")
    ap.add_argument("--sampler", default="tpe",
                    help="the sampler type, the same in both runs")
    args = ap.parse_args()
    import importlib.util
    if importlib.util.find_spec("sklearn") is None:
        print("prune_saving: needs python3-sklearn", file=sys.stderr)
        return 2
    c = Cluster(heartbeat_ms=1000, lease_ms=20000)
    try:
        c.start_coordinator()
        for k in range(args.workers):
            c.start_worker("w%d" % k, slots=1)
        pruned = run(c, "digits-asha", None, args)
        full = run(c, "digits-none", "{type: none}", args)
    finally:
        c.close()
    print("| run | trials COMPLETE / PRUNED | CPU s (all trials) | "
          "best val_acc | wall s |")
    print("|---|---|---|---|---|")
    for label, r in (("ASHA", pruned), ("no pruner", full)):
        print("| %s | %d / %d | %.1f | %.4f | %.0f |" % (
            label, r["counts"]["COMPLETE"], r["counts"]["PRUNED"], r["cpu"],
            r["best"] or float("nan"), r["wall"]))
    print()
    print("CPU saved: %.2fx less; best accuracy %+.2f percentage points" % (
        full["cpu"] / pruned["cpu"] if pruned["cpu"] else float("nan"),
        100 * ((pruned["best"] or 0) - (full["best"] or 0))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
