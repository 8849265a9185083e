#!/usr/bin/env python3
"""A stand-in training program for trying hpo, standard library only.

    python3 examples/quadratic.py --x 1.5 --y 3 --opt a

"Trains" for a few steps, reporting a loss that falls towards

    (x - 1.5)^2 + 0.1 * (y - 3)^2 + (0 if opt == "a" else 0.5)

so the best trial is known: x = 1.5, y = 3, opt = a, loss 0. Each step
sleeps HPO_EXAMPLE_SLEEP seconds (default 0.2) so a study takes long
enough to watch. It reports through the Python helper (python/hpo.py):
under a worker the reports go to HPO_REPORT_FD; run by hand they are
printed.
"""

import argparse
import os
import sys
import time

# The helper from this repository, unless it is installed
# (pip install ./python).
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "..", "python"))
import hpo  # noqa: E402

STEPS = 5


def objective(x, y, opt):
    return (x - 1.5) ** 2 + 0.1 * (y - 3) ** 2 + (0.0 if opt == "a" else 0.5)


def parse_args(argv):
    # Not argparse: it takes "--x -1e-05" for two options, and a sampler
    # may well hand us a small negative number in that form.
    args = {"x": 0.0, "y": 1, "opt": "a", "steps": STEPS}
    kinds = {"x": float, "y": int, "opt": str, "steps": int}
    words = list(argv)
    while words:
        word = words.pop(0)
        name, eq, value = word.partition("=")
        if not name.startswith("--") or name[2:] not in kinds:
            sys.exit("usage: quadratic.py [--x X] [--y Y] [--opt a|b] "
                     "[--steps N]  (unknown argument %r)" % word)
        if not eq:
            if not words:
                sys.exit("quadratic.py: %s needs a value" % name)
            value = words.pop(0)
        try:
            args[name[2:]] = kinds[name[2:]](value)
        except ValueError:
            sys.exit("quadratic.py: bad value for %s: %r" % (name, value))
    if args["opt"] not in ("a", "b"):
        sys.exit("quadratic.py: --opt must be a or b")
    return argparse.Namespace(**args)


def main():
    args = parse_args(sys.argv[1:])
    pause = float(os.environ.get("HPO_EXAMPLE_SLEEP", "0.2"))

    final = objective(args.x, args.y, args.opt)
    for step in range(1, args.steps + 1):
        time.sleep(pause)
        # Starts 2.0 above the final loss and reaches it at the last step,
        # like a training curve flattening out.
        loss = round(final + 2.0 * (1 - step / args.steps), 9)
        hpo.report(step, loss=loss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
