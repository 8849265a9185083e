#!/usr/bin/python3
"""optuna_peer: the load generator's throughput work, done with Optuna.

Each trial is what one hpo-bench-load session does per trial: ask for a
trial (which samples x uniformly in [0, 1], as the coordinator's random
sampler does), report one intermediate value at step 0, and finish it
with its objective value:

    trial = study.ask()
    trial.suggest_float("x", 0, 1)
    trial.report(0.5, step=0)
    study.tell(trial, 0.5)

--processes P processes (multiprocessing) each load the same study by name
from the shared storage and run their share of --trials N. The clock runs
from the moment every process has its study loaded to the moment the last
one finishes, so interpreter start-up and imports are not counted.

Run it with Debian's python3-optuna (3.1):

    /usr/bin/python3 bench/optuna_peer.py --storage sqlite --path /tmp/o.db \
        --trials 300 --processes 1

With --steps S (report ingestion, as `hpo-bench-load --mode reports`),
each trial instead reports S intermediate values, asking the median
pruner after each (Optuna 3.1's MedianPruner, n_startup_trials 5), and is
told PRUNED when it says so, COMPLETE otherwise; the same curves as the
load generator's (each trial a little better than the ones before, every
tenth three times worse). The result counts reports per second.

Prints one line of key=value results, like hpo-bench-load.
"""
import argparse
import multiprocessing as mp
import os
import sys
import time
import warnings


def _quiet():
    warnings.filterwarnings("ignore")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    optuna.logging.disable_default_handler()
    return optuna


def _storage(optuna, kind, path):
    if kind == "sqlite":
        return optuna.storages.RDBStorage("sqlite:///" + path)
    from optuna.storages import JournalFileStorage, JournalStorage

    return JournalStorage(JournalFileStorage(path))


def _curve_level(number):
    level = 1.0 / (1.0 + number / 1e3)
    return level * 3.0 if number % 10 == 0 else level


def _one_trial(optuna, study, steps):
    """One trial; returns the reports it made."""
    trial = study.ask()
    trial.suggest_float("x", 0, 1)
    if steps == 0:
        trial.report(0.5, step=0)
        study.tell(trial, 0.5)
        return 1
    level = _curve_level(trial.number)
    for step in range(steps):
        trial.report(level * (1.0 + 4.0 / (step + 1)), step=step)
        if trial.should_prune():
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            return step + 1
    study.tell(trial, level)
    return steps


def _worker(kind, path, name, count, barrier, out, steps=0):
    optuna = _quiet()
    errors = 0
    done = 0
    try:
        study = optuna.load_study(
            study_name=name,
            storage=_storage(optuna, kind, path),
            sampler=optuna.samplers.RandomSampler(seed=os.getpid()),
            pruner=optuna.pruners.MedianPruner(n_startup_trials=5),
        )
    except Exception as e:  # report, but still meet the others
        out.put(("error", repr(e)))
        barrier.wait()
        return
    barrier.wait()
    reports = 0
    for _ in range(count):
        try:
            reports += _one_trial(optuna, study, steps)
            done += 1
        except Exception as e:
            # "database is locked" and the like: count it, keep going.
            errors += 1
            if errors == 1:
                out.put(("first_error", repr(e)))
    out.put(("done", done, errors, time.monotonic(), reports))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--storage", choices=["sqlite", "journal"], required=True)
    ap.add_argument("--path", required=True,
                    help="database file (sqlite) or journal file (journal)")
    ap.add_argument("--trials", type=int, default=300)
    ap.add_argument("--processes", type=int, default=1)
    ap.add_argument("--study", default="bench")
    ap.add_argument("--steps", type=int, default=0,
                    help="reports per trial, with the median pruner "
                    "(0: the throughput work, one report)")
    args = ap.parse_args()
    if args.trials < 1 or args.processes < 1:
        ap.error("--trials and --processes must be positive")

    optuna = _quiet()
    optuna.create_study(
        study_name=args.study,
        storage=_storage(optuna, args.storage, args.path),
        direction="minimize",
        load_if_exists=True,
    )

    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(args.processes + 1)
    out = ctx.Queue()
    share = [args.trials // args.processes] * args.processes
    for k in range(args.trials % args.processes):
        share[k] += 1
    procs = [
        ctx.Process(target=_worker,
                    args=(args.storage, args.path, args.study, n, barrier, out,
                          args.steps))
        for n in share
    ]
    for p in procs:
        p.start()
    barrier.wait()
    start = time.monotonic()
    done = errors = reports = 0
    end = start
    notes = []
    finished = 0
    while finished < len(procs):
        msg = out.get(timeout=3600)
        if msg[0] == "done":
            finished += 1
            done += msg[1]
            errors += msg[2]
            end = max(end, msg[3])
            reports += msg[4]
        elif msg[0] == "error":
            finished += 1
            notes.append(msg[1])
        else:
            notes.append(msg[1])
    for p in procs:
        p.join()
    secs = end - start
    print("storage=%s processes=%d trials=%d errors=%d seconds=%.3f "
          "trials_per_s=%.1f reports=%d reports_per_s=%.1f" % (
              args.storage, args.processes, done, errors, secs,
              done / secs if secs > 0 else 0.0, reports,
              reports / secs if secs > 0 else 0.0))
    for n in notes:
        print("optuna_peer: " + n, file=sys.stderr)
    return 0 if done == args.trials else 1


if __name__ == "__main__":
    sys.exit(main())
