#!/usr/bin/python3
"""hpo's parameter importance (dash/importance.c, PED-ANOVA) against
Optuna 3.1's FanovaImportanceEvaluator on the same trials.

The two methods differ (a divergence of densities against a random
forest's variance decomposition), so the figures are not compared; the
ranking is printed, and the most important parameter must be the same.
Each case draws trials at random with a fixed seed over a space with
floats, log floats, ints and categoricals, and an objective where one
parameter clearly leads; importance_replay (tests/conformance/
importance_replay.c) computes hpo's side.

Exit 77 (skip) when Optuna or scikit-learn is missing."""
import math
import os
import random
import subprocess
import sys
import warnings

try:
    import optuna
    import sklearn  # noqa: F401  (fANOVA's forest)
    from optuna.distributions import (CategoricalDistribution,
                                      FloatDistribution, IntDistribution)
    from optuna.importance import FanovaImportanceEvaluator
except ImportError:
    print("SKIP: python3-optuna or python3-sklearn is not installed")
    sys.exit(77)

warnings.simplefilter("ignore")
optuna.logging.set_verbosity(optuna.logging.ERROR)

BIN = os.environ.get("HPO_BIN", os.path.join(os.path.dirname(__file__),
                                             "..", "..", "build"))
REPLAY = os.path.join(BIN, "importance_replay")
N_TRIALS = 200

# Each parameter: Optuna distribution, draw(rng).
SPACE = {
    "x": (FloatDistribution(-5, 5), lambda r: r.uniform(-5, 5)),
    "y": (FloatDistribution(0, 1), lambda r: r.uniform(0, 1)),
    "z": (FloatDistribution(0, 1), lambda r: r.uniform(0, 1)),
    "lr": (FloatDistribution(1e-5, 1, log=True),
           lambda r: math.exp(r.uniform(math.log(1e-5), 0))),
    "n": (IntDistribution(1, 10), lambda r: r.randint(1, 10)),
    "opt": (CategoricalDistribution(["sgd", "adam", "rmsprop"]),
            lambda r: r.choice(["sgd", "adam", "rmsprop"])),
}

# name: (parameters, objective, the parameter that leads)
CASES = {
    "bowl": (["x", "y", "z"],
             lambda p: 10 * (p["x"] / 5 - 0.3) ** 2 + (p["y"] - 0.5) ** 2,
             "x"),
    "linear": (["x", "y", "z"],
               lambda p: p["y"] * 3 + p["x"] / 10 + 0.1 * p["z"], "y"),
    "log": (["lr", "y", "z"],
            lambda p: (math.log10(p["lr"]) + 3) ** 2 + 0.5 * p["y"], "lr"),
    "int": (["n", "y", "z"],
            lambda p: (p["n"] - 7) ** 2 + p["y"], "n"),
    "categorical": (["opt", "y", "z"],
                    lambda p: {"sgd": 1.0, "adam": 0.0, "rmsprop": 0.8}
                    [p["opt"]] + 0.2 * p["y"] + 0.05 * p["z"], "opt"),
    "mixed": (["x", "lr", "n", "opt", "z"],
              lambda p: 0.2 * (p["x"] / 5) ** 2
              + 3 * (math.log10(p["lr"]) + 2) ** 2 / 9
              + 0.05 * p["n"]
              + {"sgd": 0.3, "adam": 0.0, "rmsprop": 0.1}[p["opt"]],
              "lr"),
}


def draw(names, objective, seed):
    r = random.Random(seed)
    trials = []
    for _ in range(N_TRIALS):
        params = {k: SPACE[k][1](r) for k in names}
        trials.append((params, objective(params)))
    return trials


def optuna_ranking(names, trials, seed):
    study = optuna.create_study(direction="minimize")
    for params, value in trials:
        study.add_trial(optuna.trial.create_trial(
            params=params, distributions={k: SPACE[k][0] for k in names},
            value=value))
    got = optuna.importance.get_param_importances(
        study, evaluator=FanovaImportanceEvaluator(seed=seed))
    return sorted(got.items(), key=lambda kv: -kv[1])


def replay_input(names, trials):
    lines = []
    for k in names:
        dist = SPACE[k][0]
        if isinstance(dist, CategoricalDistribution):
            lines.append(f"cat {k} {len(dist.choices)}")
        else:
            lines.append(f"float {k} {dist.low!r} {dist.high!r} "
                         f"{int(dist.log)}")
    for params, value in trials:
        xs = []
        for k in names:
            dist = SPACE[k][0]
            v = params[k]
            if isinstance(dist, CategoricalDistribution):
                v = dist.choices.index(v)
            xs.append(repr(float(v)))
        lines.append(f"trial {value!r} " + " ".join(xs))
    return "\n".join(lines) + "\n"


def hpo_ranking(names, trials):
    out = subprocess.run([REPLAY], input=replay_input(names, trials),
                         capture_output=True, text=True, timeout=60,
                         check=True).stdout
    got = {}
    for line in out.splitlines():
        name, importance, _rho = line.split()
        got[name] = float(importance)
    assert set(got) == set(names), out
    assert abs(sum(got.values()) - 1) < 1e-9, out
    return sorted(got.items(), key=lambda kv: -kv[1])


def show(ranking):
    return ", ".join(f"{k} {v:.3f}" for k, v in ranking)


def main():
    if not os.path.exists(REPLAY):
        print(f"FAIL: {REPLAY} is not built")
        return 1
    failures = 0
    for seed, (case, (names, objective, leader)) in enumerate(CASES.items()):
        trials = draw(names, objective, seed)
        theirs = optuna_ranking(names, trials, seed)
        ours = hpo_ranking(names, trials)
        ok = theirs[0][0] == ours[0][0] == leader
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {case}: hpo {show(ours)}; "
              f"optuna fanova {show(theirs)}")
    print(f"{len(CASES) - failures}/{len(CASES)} cases agree on the leader")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
