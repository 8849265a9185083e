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


def _worker(kind, path, name, count, barrier, out):
    optuna = _quiet()
    errors = 0
    done = 0
    try:
        study = optuna.load_study(
            study_name=name,
            storage=_storage(optuna, kind, path),
            sampler=optuna.samplers.RandomSampler(seed=os.getpid()),
        )
    except Exception as e:  # report, but still meet the others
        out.put(("error", repr(e)))
        barrier.wait()
        return
    barrier.wait()
    for _ in range(count):
        try:
            trial = study.ask()
            trial.suggest_float("x", 0, 1)
            trial.report(0.5, step=0)
            study.tell(trial, 0.5)
            done += 1
        except Exception as e:
            # "database is locked" and the like: count it, keep going.
            errors += 1
            if errors == 1:
                out.put(("first_error", repr(e)))
    out.put(("done", done, errors, time.monotonic()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--storage", choices=["sqlite", "journal"], required=True)
    ap.add_argument("--path", required=True,
                    help="database file (sqlite) or journal file (journal)")
    ap.add_argument("--trials", type=int, default=300)
    ap.add_argument("--processes", type=int, default=1)
    ap.add_argument("--study", default="bench")
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
                    args=(args.storage, args.path, args.study, n, barrier, out))
        for n in share
    ]
    for p in procs:
        p.start()
    barrier.wait()
    start = time.monotonic()
    done = errors = 0
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
        elif msg[0] == "error":
            finished += 1
            notes.append(msg[1])
        else:
            notes.append(msg[1])
    for p in procs:
        p.join()
    secs = end - start
    print("storage=%s processes=%d trials=%d errors=%d seconds=%.3f "
          "trials_per_s=%.1f" % (args.storage, args.processes, done, errors,
                                 secs, done / secs if secs > 0 else 0.0))
    for n in notes:
        print("optuna_peer: " + n, file=sys.stderr)
    return 0 if done == args.trials else 1


if __name__ == "__main__":
    sys.exit(main())
