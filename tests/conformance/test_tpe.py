#!/usr/bin/python3
"""Conformance of hpo's TPE (search/tpe.c) with Optuna 3.1's TPESampler.

Each case makes a history with a fixed seed (COMPLETE trials, PRUNED ones
with a last report, RUNNING ones, FAILED ones, parameters absent from
some trials) and computes, with Optuna's own pieces, what its
TPESampler.sample_independent (or, multivariate, _sample_relative) scores
a candidate with: the observation pairs ranked by
_split_observation_pairs into below and above, a _ParzenEstimator on
each, log l(x) - log g(x). hpo's tpe_replay (tests/conformance/
tpe_replay.c) builds its estimators on the same history; both must agree
at every point to 1e-9. Random draws are not compared: the streams
differ by design.

Exit 77 (skip) when Optuna is missing."""
import math
import os
import random
import subprocess
import sys
import tempfile
import warnings

try:
    import numpy as np
    import optuna
    from optuna.distributions import (CategoricalDistribution,
                                      FloatDistribution, IntDistribution)
    from optuna.samplers._tpe.parzen_estimator import (
        _ParzenEstimator, _ParzenEstimatorParameters)
    from optuna.samplers._tpe.sampler import (default_gamma,
                                              default_weights,
                                              _split_observation_pairs)
except ImportError:
    print("SKIP: python3-optuna is not installed")
    sys.exit(77)

warnings.simplefilter("ignore")


class _StableNumpy:
    """numpy, but argsort stable. Optuna's Parzen estimator sorts the
    observations with numpy's default quicksort, which orders equal
    values arbitrarily; with the ramp of weights that decides which of
    them gets the wider kernel. hpo orders them by trial number, as a
    stable sort does, and so does Optuna here."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def argsort(a, *args, **kwargs):
        kwargs["kind"] = "stable"
        return np.argsort(a, *args, **kwargs)


optuna.samplers._tpe.parzen_estimator.np = _StableNumpy()
BIN = os.environ.get("HPO_BIN", os.path.join(os.path.dirname(__file__),
                                             "..", "..", "build"))
REPLAY = os.path.join(BIN, "tpe_replay")

# Each parameter: (study file line, Optuna distribution, draw(rng)).
PARAMS = {
    "x": ("{type: float, low: -5, high: 10}", FloatDistribution(-5, 10),
          lambda r: r.uniform(-5, 10)),
    "lr": ("{type: float, low: 1.0e-4, high: 1, log: true}",
           FloatDistribution(1e-4, 1, log=True),
           lambda r: math.exp(r.uniform(math.log(1e-4), 0))),
    "q": ("{type: float, low: 0, high: 1, step: 0.1}",
          FloatDistribution(0, 1, step=0.1),
          lambda r: round(r.randint(0, 10) * 0.1, 10)),
    "n": ("{type: int, low: 0, high: 20}", IntDistribution(0, 20),
          lambda r: r.randint(0, 20)),
    "s": ("{type: int, low: 2, high: 20, step: 3}",
          IntDistribution(2, 20, step=3), lambda r: 2 + 3 * r.randint(0, 6)),
    "u": ("{type: int, low: 1, high: 1024, log: true}",
          IntDistribution(1, 1024, log=True),
          lambda r: int(round(math.exp(r.uniform(math.log(0.5),
                                                   math.log(1024.5)))))),
    # A wide int: its kernels are much wider than a step (the series of
    # s_log_step_mass).
    "w": ("{type: int, low: 0, high: 5000}", IntDistribution(0, 5000),
          lambda r: r.randint(0, 5000)),
    "c": ("{type: categorical, values: [a, b, c, d]}",
          CategoricalDistribution(["a", "b", "c", "d"]),
          lambda r: r.randint(0, 3)),
}

CASES = [
    {"params": ["x"], "trials": 40},
    {"params": ["x", "lr", "c"], "trials": 60, "pruned": 0.3,
     "running": 0.1, "failed": 0.1},
    {"params": ["n", "s", "u"], "trials": 80, "pruned": 0.2},
    {"params": ["q", "c"], "trials": 30, "maximize": True, "pruned": 0.3},
    {"params": ["x", "n"], "trials": 400, "running": 0.02},
    {"params": ["x", "lr"], "trials": 50, "absent": 0.4},
    {"params": ["x", "n", "c"], "trials": 60,
     "options": {"consider_prior": "false", "prior_weight": 2,
                 "consider_magic_clip": "false",
                 "consider_endpoints": "true"}},
    {"params": ["x", "n", "c"], "trials": 60,
     "options": {"prior_weight": 0.5, "consider_endpoints": "true"}},
    {"params": ["x", "lr", "n", "c"], "trials": 70, "multivariate": True,
     "pruned": 0.2, "running": 0.05},
    {"params": ["q", "u"], "trials": 300, "multivariate": True},
    {"params": ["w", "x"], "trials": 150, "pruned": 0.1},
    {"params": ["w", "n"], "trials": 120, "multivariate": True},
]


def history(case, seed):
    """Trials as (state, value, step, step_value, [internal values])."""
    r = random.Random(seed)
    out = []
    for t in range(case["trials"]):
        xs = []
        for name in case["params"]:
            absent = case.get("absent", 0) and name != case["params"][0] \
                and r.random() < case["absent"]
            xs.append(None if absent else PARAMS[name][2](r))
        loss = sum((float(x) if x is not None else 0.0) ** 2 % 7 for x in xs)
        u = r.random()
        if u < case.get("running", 0):
            out.append(("RUNNING", float("nan"), -1, 0.0, xs))
        elif u < case.get("running", 0) + case.get("failed", 0):
            out.append(("FAILED", float("nan"), -1, 0.0, xs))
        elif u < (case.get("running", 0) + case.get("failed", 0) +
                  case.get("pruned", 0)):
            step = r.randint(-1, 4)  # -1: pruned before any report
            out.append(("PRUNED", float("nan"), step, loss + step, xs))
        else:
            out.append(("COMPLETE", loss, -1, 0.0, xs))
    return out


def optuna_scores(case, trials, points):
    """What Optuna's TPESampler scores each point with, per parameter (or
    for the joint model)."""
    sign = -1 if case.get("maximize") else 1
    opts = case.get("options", {})
    params = _ParzenEstimatorParameters(
        opts.get("consider_prior", "true") == "true",
        float(opts.get("prior_weight", 1.0)),
        opts.get("consider_magic_clip", "true") == "true",
        opts.get("consider_endpoints", "false") == "true",
        default_weights, bool(case.get("multivariate")))
    scores, values = [], []
    for state, value, step, step_value, xs in trials:
        if state == "COMPLETE":
            scores.append((-float("inf"), [sign * value]))
        elif state == "PRUNED":
            scores.append((-step, [sign * step_value]) if step >= 0
                          else (1, [0.0]))
        elif state == "RUNNING":  # constant_liar, on by default in hpo
            scores.append((float("inf"), [sign * float("inf")]))
        else:
            continue
        values.append([float("nan") if x is None else float(x) for x in xs])
    n = sum(s < float("inf") for s, _ in scores)
    below, above = _split_observation_pairs(scores, default_gamma(n), None)
    values = np.asarray(values)
    names = case["params"]
    space = {k: PARAMS[k][1] for k in names}
    if case.get("multivariate"):
        mask = ~np.isnan(values).any(axis=1)
        obs_b = {k: values[below[mask[below]], j] for j, k in
                 enumerate(names)}
        obs_a = {k: values[above[mask[above]], j] for j, k in
                 enumerate(names)}
        lpe = _ParzenEstimator(obs_b, space, params)
        gpe = _ParzenEstimator(obs_a, space, params)
        pts = {k: np.asarray([p[j] for p in points["joint"]])
               for j, k in enumerate(names)}
        return {"joint": list(lpe.log_pdf(pts) - gpe.log_pdf(pts))}
    out = {}
    for j, k in enumerate(names):
        col = values[:, j]
        mask = ~np.isnan(col)
        lpe = _ParzenEstimator({k: col[below[mask[below]]]}, {k: space[k]},
                               params)
        gpe = _ParzenEstimator({k: col[above[mask[above]]]}, {k: space[k]},
                               params)
        pts = {k: np.asarray(points[k])}
        out[k] = list(lpe.log_pdf(pts) - gpe.log_pdf(pts))
    return out


def points_for(case, r):
    pts = {}
    for k in case["params"]:
        pts[k] = [PARAMS[k][2](r) for _ in range(25)]
    if case.get("multivariate"):
        pts["joint"] = [[PARAMS[k][2](r) for k in case["params"]]
                        for _ in range(25)]
    return pts


def study_file(case, path):
    opts = dict(case.get("options", {}))
    if case.get("multivariate"):
        opts["multivariate"] = "true"
    sampler = ", ".join(["type: tpe"] + ["%s: %s" % kv for kv in
                                          sorted(opts.items())])
    with open(path, "w") as f:
        f.write("name: c\ncommand: ./run\n"
                "objective: {metric: loss, direction: %s}\n"
                "sampler: {%s}\nbudget: {trials: 1000}\nspace:\n"
                % ("maximize" if case.get("maximize") else "minimize",
                   sampler))
        for k in case["params"]:
            f.write("  %s: %s\n" % (k, PARAMS[k][0]))


def word(x):
    return "-" if x is None else repr(x)


def hpo_scores(case, trials, points, path):
    lines = []
    for state, value, step, step_value, xs in trials:
        lines.append("trial %s %r %d %r %s" % (
            state, value, step, step_value, " ".join(word(x) for x in xs)))
    order = []
    if case.get("multivariate"):
        for p in points["joint"]:
            lines.append("joint " + " ".join(repr(float(y)) for y in p))
            order.append("joint")
    else:
        for j, k in enumerate(case["params"]):
            lines.append("score %d %s" % (j, " ".join(
                repr(float(y)) for y in points[k])))
            order.append(k)
    r = subprocess.run([REPLAY, path], input="\n".join(lines) + "\n",
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("tpe_replay failed: %s" % r.stderr)
    out = {}
    for k, line in zip(order, r.stdout.splitlines()):
        out.setdefault(k, []).extend(float(v) for v in line.split())
    return out


def main():
    if not os.path.exists(REPLAY):
        print("tpe_replay not built at %s" % REPLAY)
        return 1
    failures = checked = 0
    with tempfile.TemporaryDirectory() as d:
        for i, case in enumerate(CASES):
            path = os.path.join(d, "case%d.yaml" % i)
            study_file(case, path)
            for seed in range(3):
                trials = history(case, 100 * i + seed)
                pts = points_for(case, random.Random(1000 + 100 * i + seed))
                want = optuna_scores(case, trials, pts)
                got = hpo_scores(case, trials, pts, path)
                for k in want:
                    for a, b in zip(want[k], got.get(k, [])):
                        checked += 1
                        same = (a == b) or abs(a - b) <= 1e-9 * max(
                            1.0, abs(a))
                        if not same:
                            failures += 1
                            if failures <= 10:
                                print("case %d seed %d %s: optuna %r, "
                                      "hpo %r" % (i, seed, k, a, b))
                    if len(got.get(k, [])) != len(want[k]):
                        failures += 1
                        print("case %d seed %d %s: %d scores, want %d" % (
                            i, seed, k, len(got.get(k, [])), len(want[k])))
    print("%d scores compared, %d differ" % (checked, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
