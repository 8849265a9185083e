"""hpo: the training program's side of hpo, standard library only.

    import hpo

    p = hpo.params()                  # {"lr": 0.001, "layers": 3, ...}
    ckpt = os.path.join(hpo.checkpoint_dir(), "model.pt")
    start = load(ckpt) if os.path.exists(ckpt) else 0
    try:
        for epoch in range(start, epochs):
            ...
            save(ckpt, epoch + 1)
            hpo.report(epoch, val_loss=loss, acc=acc)
    except hpo.Pruned:
        save(ckpt, epoch + 1)         # stopped: leave cleanly
        sys.exit(0)

Under an hpo worker:
- params() reads the file HPO_PARAMS_FILE names;
- report() writes one line such as "step=3 val_loss=0.41 acc=0.88" to
  the descriptor HPO_REPORT_FD names (see worker/report.h), or prints it
  when the study takes its metrics from stdout (no HPO_REPORT_FD then);
- checkpoint_dir() is HPO_CHECKPOINT_DIR: the same for every attempt of
  the trial (on every host, with hpo-worker --checkpoint-root);
- the worker stops a trial (pruned, timed out, the study stopped) with
  SIGTERM, then SIGKILL after the study's trial.grace. SIGTERM sets a
  flag that should_stop() returns, and the next report() raises Pruned
  (after writing its line), so the script can save and exit.

Run by hand (no HPO_TRIAL in the environment), the same script works:
params() reads "--name value" (or "--name=value") arguments, report()
prints its lines, checkpoint_dir() is ./hpo-checkpoint, and SIGTERM is
left alone.

Install with `pip install ./python` from the top of the hpo repository,
or copy this one file next to your script.
"""

import json
import math
import os
import re
import signal
import sys

__all__ = ["params", "report", "checkpoint_dir", "should_stop", "Pruned",
           "under_worker"]
__version__ = "0.1.0"

# The metric names a worker accepts (common/names.h, worker/report.h).
_NAME = re.compile(r"^[A-Za-z0-9_.:/-]{1,128}$")

_stop = False
_params = None


class Pruned(Exception):
    """Raised by report() once the worker asked the trial to stop
    (SIGTERM): pruned, timed out, or its study stopped. Save what you need
    and exit; the worker kills the trial after the study's trial.grace."""


def under_worker():
    """Whether an hpo worker runs this program."""
    return "HPO_TRIAL" in os.environ


def _on_sigterm(signum, frame):
    global _stop
    _stop = True


def _install():
    # Only under a worker, only in the main thread, and never over a
    # handler the script set itself.
    if not under_worker():
        return
    try:
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread
        pass


def should_stop():
    """True once the worker asked the trial to stop (SIGTERM)."""
    return _stop


def _typed(text):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _from_argv(argv):
    out = {}
    words = list(argv)
    while words:
        word = words.pop(0)
        if not word.startswith("--") or len(word) == 2:
            continue
        name, eq, value = word[2:].partition("=")
        if not eq:
            # "--x -1e-05" is a value: only "--" starts an option.
            if words and not words[0].startswith("--"):
                value = words.pop(0)
            else:
                out[name.replace("-", "_")] = True
                continue
        out[name.replace("-", "_")] = _typed(value)
    return out


def params(argv=None):
    """The trial's parameters: under a worker, from HPO_PARAMS_FILE (ints,
    floats and strings as the study's space gives them); by hand, from
    "--name value" arguments (argv, default sys.argv[1:]), each an int, a
    float or else a string. The result is read once and kept (unless argv
    is given). Under a worker the file holds only the space's parameters:
    read settings the study's command fixes (--epochs 30) with
    params(sys.argv[1:])."""
    global _params
    if argv is not None:
        return _from_argv(argv)
    if _params is None:
        path = os.environ.get("HPO_PARAMS_FILE")
        if path:
            with open(path, encoding="utf-8") as f:
                _params = json.load(f)
        else:
            _params = _from_argv(sys.argv[1:])
    return dict(_params)


def _format(name, value):
    if not _NAME.match(name) or name in ("step", "epoch"):
        raise ValueError("bad metric name %r: 1-128 of A-Z a-z 0-9 _ . : / -,"
                         " and not step or epoch" % name)
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        return "%s=%d" % (name, value)
    value = float(value)
    if not math.isfinite(value):
        # The worker refuses the whole line: say so here.
        raise ValueError("metric %s is not finite (%r)" % (name, value))
    # repr() of a float is the shortest text that reads back exactly.
    return "%s=%r" % (name, value)


def _write(line):
    fd = os.environ.get("HPO_REPORT_FD")
    if fd is None:
        sys.stdout.write(line)
        sys.stdout.flush()
        return
    data = line.encode()
    fd = int(fd)
    # A pipe may take less than asked; lines are short, so this is
    # nearly always one call.
    while data:
        data = data[os.write(fd, data):]


def report(step, **metrics):
    """Reports numeric metrics at step (an int >= 0, or None for none):
    report(3, val_loss=0.41, acc=0.88). Raises ValueError for a bad name
    or a value that is not a finite number, and Pruned (after reporting)
    once the worker asked the trial to stop."""
    if not metrics:
        raise ValueError("report() needs at least one metric")
    words = []
    if step is not None:
        if isinstance(step, bool) or int(step) != step or step < 0:
            raise ValueError("step must be an integer >= 0, not %r"
                             % (step,))
        words.append("step=%d" % int(step))
    words += [_format(name, value) for name, value in metrics.items()]
    _write(" ".join(words) + "\n")
    if _stop:
        raise Pruned("the worker stopped this trial (SIGTERM) at step %s"
                     % step)


def checkpoint_dir():
    """The directory to keep checkpoints in, created if missing: under a
    worker HPO_CHECKPOINT_DIR, the same for every attempt of the trial;
    by hand ./hpo-checkpoint."""
    path = os.environ.get("HPO_CHECKPOINT_DIR") or os.path.abspath(
        "hpo-checkpoint")
    os.makedirs(path, exist_ok=True)
    return path


_install()
