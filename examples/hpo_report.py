"""hpo_report: the training program's side of hpo, standard library only.

Copy this file next to your training script, then:

    import hpo_report
    p = hpo_report.params()           # {"lr": 0.001, "layers": 3, ...}
    for step in range(epochs):
        ...
        hpo_report.report(step=step, val_loss=loss, acc=acc)

Under an hpo worker, report() writes one line such as
"step=3 val_loss=0.41 acc=0.88" to the file descriptor named by
HPO_REPORT_FD, where the worker reads it. Run by hand (no HPO_REPORT_FD),
it prints the same line to stdout, so a script works either way.
"""

import json
import math
import os
import re
import sys

__all__ = ["report", "params", "checkpoint_dir"]

# The metric names a worker accepts (see worker/report.h).
_NAME = re.compile(r"^[A-Za-z0-9_.:/-]{1,128}$")


def _format(value):
    # repr() of a float is the shortest text that reads back exactly.
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        return str(value)
    value = float(value)
    if not math.isfinite(value):
        # The worker refuses the whole line, so say why here instead.
        raise ValueError("metric value %r is not finite" % value)
    return repr(value)


def report(step=None, **metrics):
    """Report metrics (numbers) for a step (an int >= 0, or None)."""
    if not metrics:
        raise ValueError("report() needs at least one metric")
    words = []
    if step is not None:
        if int(step) != step or step < 0:
            raise ValueError("step must be a non-negative integer")
        words.append("step=%d" % int(step))
    for name, value in metrics.items():
        if not _NAME.match(name) or name == "step":
            raise ValueError("bad metric name %r" % name)
        words.append("%s=%s" % (name, _format(value)))
    line = (" ".join(words) + "\n").encode()
    fd = os.environ.get("HPO_REPORT_FD")
    if fd is None:
        sys.stdout.write(line.decode())
        sys.stdout.flush()
        return
    # os.write may write less than asked on a pipe; loop until it is all
    # out. Lines are short, so in practice this is one call.
    fd = int(fd)
    while line:
        line = line[os.write(fd, line):]


def params():
    """The trial's parameters from the JSON file named by HPO_PARAMS_FILE,
    or {} when not run by a worker."""
    path = os.environ.get("HPO_PARAMS_FILE")
    if not path:
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def checkpoint_dir():
    """The directory for checkpoints (kept for a retried attempt of the same
    trial), or None when not run by a worker."""
    return os.environ.get("HPO_CHECKPOINT_DIR")
