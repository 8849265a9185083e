#!/usr/bin/python3
"""Conformance of hpo's pruners with Optuna 3.1's (python3-optuna).

Each case generates learning curves with a fixed seed, interleaves their
reports as concurrent trials would send them, and drives Optuna's pruner
over them: an in-memory study, study.ask() per trial, trial.report and
should_prune per report. A trial pruned there reports no more and is told
PRUNED; a trial whose curve ends is told COMPLETE. That run is recorded
as JSON Lines (the reports, and each trial's end) with Optuna's decision
at every report, then replayed through hpo's pruner (prune_replay, built
from tests/conformance/prune_replay.c), which must print the same
decision at every report.

To add a pruner: a function mapping the case's options to an Optuna
pruner in OPTUNA_PRUNERS, and cases in CASES whose "pruner" mapping is
the study file's.  Exit 77 (skip) when Optuna is missing."""
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import warnings

try:
    import optuna
except ImportError:
    print("SKIP: python3-optuna is not installed")
    sys.exit(77)

optuna.logging.set_verbosity(optuna.logging.ERROR)
# numpy warns of all-NaN slices, which the NaN cases make on purpose, and
# Optuna of its experimental PatientPruner.
warnings.simplefilter("ignore")

BIN = os.environ.get("HPO_BIN", os.path.join(os.path.dirname(__file__),
                                             "..", "..", "build"))
REPLAY = os.path.join(BIN, "prune_replay")


def _median(o):
    return optuna.pruners.MedianPruner(
        n_startup_trials=o.get("n_startup_trials", 5),
        n_warmup_steps=o.get("n_warmup_steps", 0),
        interval_steps=o.get("interval_steps", 1),
        n_min_trials=o.get("n_min_trials", 1))


def _percentile(o):
    return optuna.pruners.PercentilePruner(
        o["percentile"],
        n_startup_trials=o.get("n_startup_trials", 5),
        n_warmup_steps=o.get("n_warmup_steps", 0),
        interval_steps=o.get("interval_steps", 1),
        n_min_trials=o.get("n_min_trials", 1))


def _threshold(o):
    return optuna.pruners.ThresholdPruner(
        lower=o.get("lower"), upper=o.get("upper"),
        n_warmup_steps=o.get("n_warmup_steps", 0),
        interval_steps=o.get("interval_steps", 1))


def _patient(o):
    w = o.get("wrapped")
    return optuna.pruners.PatientPruner(
        OPTUNA_PRUNERS[w["type"]](w) if w else None, o["patience"],
        min_delta=o.get("min_delta", 0.0))


def _asha(o):
    return optuna.pruners.SuccessiveHalvingPruner(
        min_resource=o.get("min_resource", "auto"),
        reduction_factor=o.get("reduction_factor", 4),
        min_early_stopping_rate=o.get("min_early_stopping_rate", 0),
        bootstrap_count=o.get("bootstrap_count", 0))


def _hyperband(o):
    return optuna.pruners.HyperbandPruner(
        min_resource=o.get("min_resource", 1),
        max_resource=o.get("max_resource", "auto"),
        reduction_factor=o.get("reduction_factor", 3),
        bootstrap_count=o.get("bootstrap_count", 0))


OPTUNA_PRUNERS = {"median": _median, "percentile": _percentile,
                  "threshold": _threshold, "patient": _patient,
                  "asha": _asha, "hyperband": _hyperband}


# ---- curves ---------------------------------------------------------------

def noisy_decreasing(rng, n_steps, steps=None, nan_rate=0.0):
    """A loss curve: a trial-specific floor and rate, with noise."""
    floor = rng.uniform(0.05, 1.0)
    rate = rng.uniform(0.05, 0.5)
    start = floor + rng.uniform(0.5, 2.0)
    steps = steps if steps is not None else list(range(n_steps))
    out = []
    for s in steps:
        v = floor + (start - floor) * math.exp(-rate * s)
        v += rng.gauss(0, 0.03)
        if rng.random() < nan_rate:
            v = float("nan")
        out.append((s, v))
    return out


def skipping(rng, n_steps):
    """Steps with gaps: each trial reports a random subset, increasing."""
    steps = sorted(rng.sample(range(n_steps * 2), n_steps))
    return noisy_decreasing(rng, n_steps, steps=steps)


def make_curves(shape, seed, n_trials, n_steps):
    rng = random.Random(seed)
    curves = []
    for _ in range(n_trials):
        if shape == "skip":
            c = skipping(rng, n_steps)
        elif shape == "nan":
            c = noisy_decreasing(rng, n_steps, nan_rate=0.15)
        elif shape == "allnan" :
            c = noisy_decreasing(rng, n_steps, nan_rate=0.15)
            if rng.random() < 0.3:
                c = [(s, float("nan")) for s, _ in c]
        else:
            c = noisy_decreasing(rng, n_steps)
        if shape == "maximize":
            c = [(s, 1.0 - v) for s, v in c]
        if shape == "ties":
            # Coarse values, so a best value often equals the reference.
            c = [(s, round(v * 4) / 4) for s, v in c]
        # Trials of different length, as early-stopped or short runs are.
        cut = rng.randint(max(1, n_steps // 2), n_steps)
        curves.append(c[:cut])
    return curves


# ---- Optuna's run, recorded -----------------------------------------------

def optuna_run(case, curves, seed):
    """Drives Optuna over curves with up to case["parallel"] trials at once,
    reports interleaved at random. Returns the events (JSON-able dicts),
    each report with Optuna's decision under "optuna"."""
    rng = random.Random(seed + 1)
    # Named as study_yaml names it: Hyperband's brackets hash the name.
    study = optuna.create_study(
        study_name="conformance",
        direction=case.get("direction", "minimize"),
        pruner=OPTUNA_PRUNERS[case["pruner"]["type"]](case["pruner"]))
    events = []
    pending = list(range(len(curves)))
    active = {}          # our number -> [optuna trial, next point index]
    parallel = case.get("parallel", 4)
    while pending or active:
        while pending and len(active) < parallel:
            k = pending.pop(0)
            t = study.ask()
            assert t.number == k
            active[k] = [t, 0]
        k = rng.choice(sorted(active))
        t, i = active[k]
        step, value = curves[k][i]
        t.report(value, step)
        prune = t.should_prune()
        events.append({"trial": k, "step": step, "value": value,
                       "optuna": "prune" if prune else "continue"})
        active[k][1] = i + 1
        if prune:
            study.tell(t, state=optuna.trial.TrialState.PRUNED)
            events.append({"trial": k, "end": "PRUNED"})
            del active[k]
        elif i + 1 == len(curves[k]):
            finite = [v for _, v in curves[k] if not math.isnan(v)]
            study.tell(t, finite[-1] if finite else 0.0)
            events.append({"trial": k, "end": "COMPLETE"})
            del active[k]
    return events


def study_yaml(case):
    opts = ", ".join("%s: %s" % (k, json.dumps(v))
                     for k, v in case["pruner"].items())
    return ("name: conformance\n"
            "command: 'true'\n"
            "objective: {metric: loss, direction: %s}\n"
            "pruner: {%s}\n"
            "budget: {trials: 10}\n"
            "space:\n  x: {type: float, low: 0, high: 1}\n"
            % (case.get("direction", "minimize"), opts))


def hpo_replay(case, events, tmp):
    path = os.path.join(tmp, case["name"] + ".yaml")
    with open(path, "w") as f:
        f.write(study_yaml(case))
    lines = "".join(json.dumps({k: v for k, v in e.items() if k != "optuna"})
                    + "\n" for e in events)
    p = subprocess.run([REPLAY, path], input=lines, capture_output=True,
                       text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError("prune_replay failed: %s" % p.stderr)
    return [line.split(" ", 3) for line in p.stdout.splitlines()]


def run_case(case, tmp):
    """Returns (decisions compared, prunes, mismatches as text)."""
    seed = case.get("seed", 1)
    curves = make_curves(case.get("shape", "decreasing"), seed,
                         case.get("trials", 30), case.get("steps", 20))
    events = optuna_run(case, curves, seed)
    reports = [e for e in events if "optuna" in e]
    decided = hpo_replay(case, events, tmp)
    bad = []
    if len(decided) != len(reports):
        bad.append("%d decisions from hpo for %d reports"
                   % (len(decided), len(reports)))
    for e, d in zip(reports, decided):
        if (int(d[0]), int(d[1])) != (e["trial"], e["step"]):
            bad.append("out of step: %r vs %r" % (d, e))
            break
        if d[2] != e["optuna"]:
            bad.append("trial %d step %d value %r: optuna %s, hpo %s %s"
                       % (e["trial"], e["step"], e["value"], e["optuna"],
                          d[2], d[3] if len(d) > 3 else ""))
    prunes = sum(e["optuna"] == "prune" for e in reports)
    return len(reports), prunes, bad


# ---- cases ----------------------------------------------------------------

CASES = [
    {"name": "median-default", "pruner": {"type": "median"}},
    {"name": "median-warmup-interval",
     "pruner": {"type": "median", "n_startup_trials": 3,
                "n_warmup_steps": 4, "interval_steps": 3}},
    {"name": "median-min-trials",
     "pruner": {"type": "median", "n_startup_trials": 2, "n_min_trials": 6},
     "parallel": 8},
    {"name": "median-maximize", "direction": "maximize", "shape": "maximize",
     "pruner": {"type": "median", "n_startup_trials": 3}},
    {"name": "median-skip", "shape": "skip",
     "pruner": {"type": "median", "n_startup_trials": 2,
                "interval_steps": 2}},
    {"name": "median-nan", "shape": "nan",
     "pruner": {"type": "median", "n_startup_trials": 2}},
    {"name": "median-allnan", "shape": "allnan", "seed": 3,
     "pruner": {"type": "median", "n_startup_trials": 2}},
    {"name": "median-few", "trials": 4,
     "pruner": {"type": "median"}},
    {"name": "median-many", "trials": 300, "steps": 30, "parallel": 16,
     "seed": 7, "pruner": {"type": "median", "n_startup_trials": 5}},
    {"name": "median-ties", "shape": "ties", "seed": 13,
     "pruner": {"type": "median", "n_startup_trials": 3}},
    {"name": "percentile-40-ties", "shape": "ties", "seed": 14,
     "pruner": {"type": "percentile", "percentile": 40,
                "n_startup_trials": 2}},
    {"name": "percentile-25", "pruner": {"type": "percentile",
                                         "percentile": 25.0}},
    {"name": "percentile-80-maximize", "direction": "maximize",
     "shape": "maximize", "seed": 4,
     "pruner": {"type": "percentile", "percentile": 80,
                "n_startup_trials": 3, "n_warmup_steps": 2}},
    {"name": "percentile-0", "seed": 5,
     "pruner": {"type": "percentile", "percentile": 0,
                "n_startup_trials": 1}},
    {"name": "threshold-upper", "seed": 8,
     "pruner": {"type": "threshold", "upper": 1.0}},
    {"name": "threshold-both-interval", "shape": "skip", "seed": 9,
     "pruner": {"type": "threshold", "lower": 0.3, "upper": 1.5,
                "n_warmup_steps": 3, "interval_steps": 2}},
    {"name": "threshold-nan", "shape": "nan", "seed": 10,
     "pruner": {"type": "threshold", "upper": 2.5}},
    {"name": "patient-alone", "seed": 11, "steps": 40,
     "pruner": {"type": "patient", "patience": 3, "min_delta": 0.02}},
    {"name": "patient-median-maximize", "direction": "maximize",
     "shape": "maximize", "seed": 12, "steps": 40,
     "pruner": {"type": "patient", "patience": 2,
                "wrapped": {"type": "median", "n_startup_trials": 2}}},
    {"name": "percentile-100-skip", "shape": "skip", "seed": 6,
     "pruner": {"type": "percentile", "percentile": 100,
                "n_startup_trials": 2, "interval_steps": 3}},
    # ASHA: auto min_resource (20 steps: 1), fixed ones, several rungs
    # passed by one report (skip), NaN, maximize, bootstrap.
    {"name": "asha-default", "pruner": {"type": "asha"}},
    {"name": "asha-auto-long", "steps": 250, "trials": 40, "seed": 11,
     "pruner": {"type": "asha"}},
    {"name": "asha-min2-eta2", "seed": 12, "steps": 40, "parallel": 6,
     "pruner": {"type": "asha", "min_resource": 2, "reduction_factor": 2}},
    {"name": "asha-rate", "seed": 13, "steps": 40,
     "pruner": {"type": "asha", "min_resource": 1,
                "reduction_factor": 3, "min_early_stopping_rate": 1}},
    {"name": "asha-skip", "shape": "skip", "seed": 14, "steps": 30,
     "pruner": {"type": "asha", "min_resource": 1,
                "reduction_factor": 2}},
    {"name": "asha-nan", "shape": "nan", "seed": 15,
     "pruner": {"type": "asha", "min_resource": 1}},
    {"name": "asha-allnan", "shape": "allnan", "seed": 16,
     "pruner": {"type": "asha"}},
    {"name": "asha-maximize", "direction": "maximize", "shape": "maximize",
     "seed": 17, "pruner": {"type": "asha", "min_resource": 1,
                            "reduction_factor": 3}},
    {"name": "asha-bootstrap", "seed": 18, "parallel": 8,
     "pruner": {"type": "asha", "min_resource": 2, "reduction_factor": 2,
                "bootstrap_count": 3}},
    {"name": "asha-many", "trials": 300, "steps": 30, "parallel": 16,
     "seed": 19, "pruner": {"type": "asha", "reduction_factor": 3}},
    # Hyperband: auto max_resource, fixed ones, several brackets.
    {"name": "hyperband-default", "trials": 60, "steps": 30,
     "pruner": {"type": "hyperband"}},
    {"name": "hyperband-max", "trials": 80, "steps": 40, "seed": 21,
     "parallel": 8, "pruner": {"type": "hyperband", "max_resource": 40}},
    {"name": "hyperband-eta2", "trials": 80, "steps": 33, "seed": 22,
     "pruner": {"type": "hyperband", "min_resource": 2,
                "max_resource": 33, "reduction_factor": 2}},
    {"name": "hyperband-skip", "shape": "skip", "trials": 60, "steps": 30,
     "seed": 23, "pruner": {"type": "hyperband", "max_resource": 60}},
    {"name": "hyperband-nan", "shape": "nan", "trials": 60, "seed": 24,
     "pruner": {"type": "hyperband"}},
    {"name": "hyperband-maximize", "direction": "maximize",
     "shape": "maximize", "trials": 60, "seed": 25,
     "pruner": {"type": "hyperband", "reduction_factor": 2}},
    {"name": "hyperband-bootstrap", "trials": 60, "seed": 26, "parallel": 8,
     "pruner": {"type": "hyperband", "max_resource": 20,
                "bootstrap_count": 2}},
    {"name": "hyperband-many", "trials": 300, "steps": 30, "parallel": 16,
     "seed": 27, "pruner": {"type": "hyperband"}},
    # Ties at a rung: a value equal to the last one kept is promoted.
    {"name": "asha-ties", "shape": "ties", "seed": 28, "parallel": 6,
     "pruner": {"type": "asha", "min_resource": 1, "reduction_factor": 2}},
    {"name": "hyperband-ties", "shape": "ties", "trials": 60, "seed": 29,
     "pruner": {"type": "hyperband", "max_resource": 20,
                "reduction_factor": 2}},
    # Patient asks its wrapped pruner only when patience runs out: the
    # wrapped ASHA or Hyperband records only those reports, not the
    # points before them (search/pruner.h's restore).
    {"name": "patient-asha", "seed": 30, "steps": 40, "trials": 60,
     "parallel": 6,
     "pruner": {"type": "patient", "patience": 2,
                "wrapped": {"type": "asha", "min_resource": 1,
                            "reduction_factor": 2}}},
    {"name": "patient-asha-auto", "seed": 31, "steps": 40, "trials": 60,
     "pruner": {"type": "patient", "patience": 1,
                "wrapped": {"type": "asha"}}},
    {"name": "patient-hyperband", "seed": 32, "steps": 30, "trials": 80,
     "parallel": 8,
     "pruner": {"type": "patient", "patience": 1, "min_delta": 0.01,
                "wrapped": {"type": "hyperband", "max_resource": 30}}},
]


def main():
    if not os.access(REPLAY, os.X_OK):
        print("FAIL: %s not built" % REPLAY)
        return 1
    only = sys.argv[1:]
    total = prunes = 0
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            if only and case["name"] not in only:
                continue
            n, p, bad = run_case(case, tmp)
            total += n
            prunes += p
            print("%-28s %5d decisions, %4d prunes: %s"
                  % (case["name"], n, p, "same" if not bad else "DIFFERENT"))
            for b in bad[:10]:
                print("    " + b)
            failed += bool(bad)
    print("%d decisions compared (%d prunes), %d case(s) differ"
          % (total, prunes, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
