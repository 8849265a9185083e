#!/usr/bin/python3
"""bench/samplers_optuna.py: Optuna 3.1's samplers on the functions of
bench/samplers_fn.c, the Optuna side of `bench/run.py samplers`.

The functions and their spaces come from the same C code hpo's side runs
(build/libhpo-bench-fn.so, through ctypes), so both minimise the same
formulas over the same spaces. The space is suggested the define-by-run
way, in its order; a parameter whose `when` condition does not hold is not
suggested at all, as a user's objective would skip it.

    quality   the best value of --trials trials, per seed, with trials
              asked --batch at a time before any is told (--batch 16: what
              16 workers sharing one study get)
    speed     the time of one suggestion (ask plus suggesting every
              parameter) after 100, 1000, ... finished trials, the study
              filled beforehand with add_trials of random trials

Each result is one JSON line, with the same fields as hpo-bench-samplers'.
In-process, in-memory storage. Run with /usr/bin/python3 (Debian's
python3-optuna and python3-cmaes).
"""
import argparse
import ctypes
import json
import math
import os
import random
import sys
import time
import warnings

import optuna

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Functions:
    """The shared library of test functions (samplers_fn.h)."""

    def __init__(self, path):
        lib = ctypes.CDLL(path)
        lib.hpo_bench_fn_find.argtypes = [ctypes.c_char_p]
        lib.hpo_bench_fn_space.restype = ctypes.c_char_p
        lib.hpo_bench_fn_eval.restype = ctypes.c_double
        lib.hpo_bench_fn_eval.argtypes = [ctypes.c_int,
                                          ctypes.POINTER(ctypes.c_double)]
        self.lib = lib

    def find(self, name):
        k = self.lib.hpo_bench_fn_find(name.encode())
        if k < 0:
            raise SystemExit("samplers_optuna.py: no function %s" % name)
        return k

    def space(self, k):
        return json.loads(self.lib.hpo_bench_fn_space(k).decode())

    def eval(self, k, x):
        arr = (ctypes.c_double * max(len(x), 1))(*x)
        return self.lib.hpo_bench_fn_eval(k, arr)


def active(spec, row):
    """Whether a parameter exists given the values suggested so far."""
    when = spec.get("when")
    if not when:
        return True
    (name, want), = when.items()
    want = want if isinstance(want, list) else [want]
    return name in row and row[name] in want


def suggest(trial, space):
    """Suggests every parameter of space that exists; returns the point
    as samplers_fn.h takes it (categoricals as indices, NaN if absent)."""
    row, x = {}, []
    for name, p in space.items():
        if not active(p, row):
            x.append(math.nan)
            continue
        if p["type"] == "categorical":
            v = trial.suggest_categorical(name, p["values"])
            x.append(float(p["values"].index(v)))
        elif p["type"] == "int":
            v = trial.suggest_int(name, p["low"], p["high"],
                                  step=p.get("step", 1),
                                  log=p.get("log", False))
            x.append(float(v))
        else:
            v = trial.suggest_float(name, p["low"], p["high"],
                                    step=p.get("step"),
                                    log=p.get("log", False))
            x.append(float(v))
        row[name] = v
    return x


def make_sampler(name, seed, liar=False):
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, constant_liar=liar)
    if name == "qmc":
        return optuna.samplers.QMCSampler(scramble=True, seed=seed)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed)
    raise SystemExit("samplers_optuna.py: no sampler %s" % name)


def emit(obj):
    print(json.dumps(obj), flush=True)


def base(args, mode):
    return {"mode": mode, "side": "optuna", "function": args.function,
            "sampler": args.sampler + ("+liar" if args.liar else "")}


def quality(args, fns):
    k = fns.find(args.function)
    space = fns.space(k)
    for seed in range(args.seed0, args.seed0 + args.seeds):
        study = optuna.create_study(
            direction="minimize",
            sampler=make_sampler(args.sampler, seed, args.liar))
        best, t0, n = math.inf, time.monotonic(), 0
        while n < args.trials:
            m = min(args.batch, args.trials - n)
            # Every trial of the batch has its parameters before any is
            # told: the others are RUNNING while each is sampled.
            asked = [study.ask() for _ in range(m)]
            points = [suggest(t, space) for t in asked]
            for t, x in zip(asked, points):
                y = fns.eval(k, x)
                if math.isnan(y):
                    study.tell(t, state=optuna.trial.TrialState.FAIL)
                else:
                    study.tell(t, y)
                    best = min(best, y)
            n += m
        out = base(args, "quality")
        out.update(seed=seed, trials=args.trials, batch=args.batch,
                   best=best if math.isfinite(best) else None, ran=n,
                   seconds=time.monotonic() - t0)
        emit(out)


def distributions(space):
    d = {}
    for name, p in space.items():
        if p["type"] == "categorical":
            d[name] = optuna.distributions.CategoricalDistribution(p["values"])
        elif p["type"] == "int":
            d[name] = optuna.distributions.IntDistribution(
                p["low"], p["high"], log=p.get("log", False),
                step=p.get("step", 1))
        else:
            d[name] = optuna.distributions.FloatDistribution(
                p["low"], p["high"], log=p.get("log", False),
                step=p.get("step"))
    return d


def fill(study, fns, k, space, dists, count, rng):
    """Adds count finished trials at uniform random points of a box space
    (floats only: the speed benchmark's), untimed."""
    trials = []
    for _ in range(count):
        params = {name: rng.uniform(p["low"], p["high"])
                  for name, p in space.items()}
        y = fns.eval(k, [params[name] for name in space])
        trials.append(optuna.trial.create_trial(
            params=params, distributions=dists, value=y))
    study.add_trials(trials)


def speed(args, fns):
    k = fns.find(args.function)
    space = fns.space(k)
    if any(p["type"] != "float" or "when" in p for p in space.values()):
        raise SystemExit("samplers_optuna.py: speed needs a space of floats")
    dists = distributions(space)
    rng = random.Random(args.seed0 + 1000)
    study = optuna.create_study(
        direction="minimize",
        sampler=make_sampler(args.sampler, args.seed0, args.liar))
    have = 0
    for target in args.finished:
        if target > have:
            fill(study, fns, k, space, dists, target - have, rng)
            have = target
        samples = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            trial = study.ask()
            x = suggest(trial, space)
            samples.append((time.perf_counter() - t0) * 1e3)
            study.tell(trial, fns.eval(k, x))
            have += 1
        s = sorted(samples)
        out = base(args, "speed")
        out.update(finished=target, repeat=args.repeat,
                   median_ms=s[len(s) // 2], min_ms=s[0], max_ms=s[-1],
                   samples_ms=samples)
        emit(out)


def main():
    ap = argparse.ArgumentParser(
        description="Optuna's samplers on bench/samplers_fn.c's functions; "
        "one JSON line per result",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("mode", choices=["quality", "speed"])
    ap.add_argument("--lib", default=os.path.join(ROOT, "build",
                                                  "libhpo-bench-fn.so"),
                    help="the functions' shared library")
    ap.add_argument("--function", default="branin")
    ap.add_argument("--sampler", default="random",
                    choices=["random", "tpe", "qmc", "cmaes"])
    ap.add_argument("--liar", action="store_true",
                    help="TPESampler(constant_liar=True)")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--seed0", type=int, default=1)
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--finished", default="100,1000,10000",
                    help="speed: comma-separated history sizes")
    ap.add_argument("--repeat", type=int, default=9,
                    help="speed: suggestions timed per size")
    args = ap.parse_args()
    args.finished = [int(w) for w in args.finished.split(",")]
    if args.seeds < 1 or args.trials < 1 or args.batch < 1 \
            or args.repeat < 1:
        ap.error("--seeds, --trials, --batch and --repeat must be positive")

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions
                            .ExperimentalWarning)
    # CmaEsSampler warns about falling back for categoricals, and so on.
    warnings.filterwarnings("ignore", category=UserWarning)
    fns = Functions(args.lib)
    if args.mode == "quality":
        quality(args, fns)
    else:
        speed(args, fns)
    return 0


if __name__ == "__main__":
    sys.exit(main())
