#!/usr/bin/env python3
"""A training program for the end-to-end tests, stdlib only.

Reports `steps` intermediate values of `loss` on HPO_REPORT_FD, sleeping
`sleep` seconds per step, then exits. Behaviour is steered by arguments so
each test can ask for what it needs:

  --x X          the parameter; loss converges to (x - 0.3)^2
  --steps N      intermediate reports (default 3)
  --sleep S      seconds per step (default 0.05)
  --exit N       exit with status N after reporting
  --no-objective report only `acc`, never `loss`
  --hang         sleep forever after the first report (for timeouts)
  --spawn        start a grandchild `sleep 300` first (orphan checks); its
                 pid goes to $HPO_TEST_DIR/grandchild-<trial>-<attempt>
  --escape       start two `sleep 300` that leave the process group: one
                 through setsid, one through a double fork and setsid (a
                 daemon); their pids go, a line each, to
                 $HPO_TEST_DIR/escaped-<trial>-<attempt>
  --ignore-term  ignore SIGTERM (and so do the children it starts)
  --burst        write all `steps` reports at once, as fast as a pipe
                 takes them, then the objective (no sleep, no stdout)
Every run appends "<trial> <attempt> <pid> start|end" to
$HPO_TEST_DIR/runs.log so tests can see what ran where.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time


def log(event):
    d = os.environ.get("HPO_TEST_DIR")
    if d:
        with open(os.path.join(d, "runs.log"), "a") as f:
            f.write("%s %s %d %s\n" % (os.environ.get("HPO_TRIAL"),
                                        os.environ.get("HPO_ATTEMPT"),
                                        os.getpid(), event))


def escape():
    path = os.path.join(os.environ["HPO_TEST_DIR"], "escaped-%s-%s" % (
        os.environ["HPO_TRIAL"], os.environ["HPO_ATTEMPT"]))
    child = subprocess.Popen(["sleep", "300"], start_new_session=True)
    pids = [child.pid]
    r, w = os.pipe()
    first = os.fork()
    if first == 0:
        os.close(r)
        os.setsid()
        second = os.fork()
        if second == 0:
            os.close(w)
            os.execvp("sleep", ["sleep", "300"])
        os.write(w, b"%d\n" % second)
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        pids.append(int(f.read().strip()))
    os.waitpid(first, 0)
    with open(path + ".tmp", "w") as f:
        f.write("".join("%d\n" % pid for pid in pids))
    os.rename(path + ".tmp", path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--x", type=float, required=True)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--sleep", type=float, default=0.05)
    p.add_argument("--exit", type=int, default=0)
    p.add_argument("--no-objective", action="store_true")
    p.add_argument("--hang", action="store_true")
    p.add_argument("--spawn", action="store_true")
    p.add_argument("--escape", action="store_true")
    p.add_argument("--ignore-term", action="store_true")
    p.add_argument("--burst", action="store_true")
    a = p.parse_args()
    if a.ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    log("start")
    # Parameters arrive three ways; check they agree.
    env_x = float(os.environ["HPO_PARAM_X"])
    with open(os.environ["HPO_PARAMS_FILE"]) as f:
        file_x = float(json.load(f)["x"])
    if abs(env_x - a.x) > 1e-9 or abs(file_x - a.x) > 1e-9:
        print("params disagree: argv %r env %r file %r" % (a.x, env_x, file_x))
        sys.exit(7)
    if a.spawn:
        child = subprocess.Popen(["sleep", "300"])
        d = os.environ["HPO_TEST_DIR"]
        with open(os.path.join(d, "grandchild-%s-%s" % (
                os.environ["HPO_TRIAL"], os.environ["HPO_ATTEMPT"])), "w") as f:
            f.write(str(child.pid))
    if a.escape:
        escape()
    fd = int(os.environ["HPO_REPORT_FD"])
    target = (a.x - 0.3) ** 2
    if a.burst:
        data = "".join("step=%d loss=%.17g\n" % (step, target + 1.0 / (step + 1))
                       for step in range(a.steps)).encode()
        data += ("loss=%.17g\n" % target).encode()
        while data:
            data = data[os.write(fd, data):]
        log("end")
        sys.exit(a.exit)
    for step in range(a.steps):
        loss = target + 1.0 / (step + 1)
        if a.no_objective:
            line = "step=%d acc=%.6f\n" % (step, 1 - loss)
        elif step % 2:
            line = json.dumps({"step": step, "loss": loss}) + "\n"
        else:
            line = "step=%d loss=%.17g\n" % (step, loss)
        os.write(fd, line.encode())
        print("step", step, "loss", loss, flush=True)
        if a.hang:
            time.sleep(3600)
        time.sleep(a.sleep)
    if not a.no_objective:
        os.write(fd, ("loss=%.17g\n" % target).encode())
    print("this goes to the log", file=sys.stderr, flush=True)
    log("end")
    sys.exit(a.exit)


if __name__ == "__main__":
    main()
