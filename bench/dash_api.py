#!/usr/bin/python3
"""bench/dash_api.py: the dashboard's HTTP API at 100,000 trials (issue
#12). Writes a study with `hpo-bench-populate --rich` (parameters of every
kind, PRUNED, FAILED and re-run trials, curves), starts `hpo-coordinator
--http` on it, and times every endpoint as the page asks for it (bearer
token, gzip accepted, one kept-alive connection): the median, min and max
of --repeat requests after one warm-up, the bytes on the wire (gzip) and
once unpacked. Also the time from the coordinator's start to the first
answer (the read model built from the database). Prints a markdown table
and writes it to --out.

    cmake -S . -B build && cmake --build build -j2
    /usr/bin/python3 bench/dash_api.py            # 100,000 trials
    /usr/bin/python3 bench/dash_api.py --trials 1000 --out ''

Standard library only. The coordinator is stopped by pid (SIGTERM, then
SIGKILL after a bounded wait) and its temporary directory removed.
"""
import argparse
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dashclient  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Seconds, the median at 100,000 trials on the 2-core build machine: what
# the README's "Dashboard" section promises. A row over budget is marked
# and the exit status is 1.
BUDGET = {"page": 0.5, "studies": 0.25, "workers": 0.25, "study": 0.25,
          "trials": 1.5, "curves": 3.0, "curves?trials": 0.25,
          "importance": 1.5, "timeline": 1.5, "trial": 0.25}


def endpoints(study, trials):
    s = "/api/studies/" + dashclient.quote(study)
    picked = ",".join(str(n) for n in range(0, trials, max(1, trials // 50)))
    return [("page", "/"),
            ("studies", "/api/studies"),
            ("workers", "/api/workers"),
            ("study", s),
            ("trials", s + "/trials"),
            ("curves", s + "/curves"),
            ("curves?trials", s + "/curves?trials=" + picked),
            ("importance", s + "/importance"),
            ("timeline", s + "/timeline"),
            ("trial", s + "/trials/7")]


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def first_answer(client, proc, t0, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the coordinator exited")
        try:
            if client.get("/api/studies")[0] == 200:
                return time.monotonic() - t0
        except OSError:
            client.close()
        time.sleep(0.01)
    raise RuntimeError("no answer in %d s" % timeout)


def measure(a, d):
    db = os.path.join(d, "hpo.db")
    pop = subprocess.run(
        [os.path.join(a.build, "hpo-bench-populate"), "--db", db, "--rich",
         "--study", "big", "--trials", str(a.trials), "--values",
         str(a.values)], check=True, capture_output=True, text=True,
        timeout=600).stdout.strip()
    print("populate: " + pop, file=sys.stderr)
    token = dashclient.write_token(os.path.join(d, "token"))
    logpath = os.path.join(d, "coordinator.log")
    argv = [os.path.join(a.build, "hpo-coordinator"), "--db", db,
            "--listen", "tcp://127.0.0.1:*", "--http", "127.0.0.1:0",
            "--http-token-file", os.path.join(d, "token")]
    t0 = time.monotonic()
    with open(logpath, "wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    try:
        addr = dashclient.address_from_log(logpath, proc=proc)
        c = dashclient.Client(addr, token)
        ready = first_answer(c, proc, t0)
        rows = []
        for name, path in endpoints("big", a.trials):
            c.get(path)                                  # warm-up
            got = [c.get(path) for _ in range(a.repeat)]
            status = {g[0] for g in got}
            secs = [g[3] for g in got]
            rows.append({"name": name, "path": path, "status": status,
                         "wire": got[-1][1], "raw": got[-1][2],
                         "median": statistics.median(secs),
                         "min": min(secs), "max": max(secs)})
            print("%-14s %s %.4f s" % (name, sorted(status),
                                       rows[-1]["median"]), file=sys.stderr)
        c.close()
        return pop, ready, rows
    finally:
        stop(proc)


def kb(n):
    return "%.1f" % (n / 1024) if n < 10 * 1024 else "{:,}".format(n // 1024)


def render(a, pop, ready, rows):
    commit = subprocess.run(["git", "-C", ROOT, "log", "-1", "--format=%h"],
                            capture_output=True, text=True).stdout.strip()
    out = ["# The dashboard's API at %s trials" % "{:,}".format(a.trials), "",
           "`bench/dash_api.py --trials %d --values %d --repeat %d` at "
           "commit %s, %s, %s (%d cores), load average %s at the end."
           % (a.trials, a.values, a.repeat, commit,
              time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              platform.processor() or platform.machine(), os.cpu_count(),
              " ".join(open("/proc/loadavg").read().split()[:3])),
           "", "Study: " + pop + " (hpo-bench-populate --rich).", "",
           "Coordinator start to the first answer (the read model built "
           "from the database): %.2f s." % ready, "",
           "Each request: bearer token, `Accept-Encoding: gzip`, one "
           "kept-alive connection, time to the last byte; median (min–max) "
           "of %d after one warm-up. The budget is the README's; `curves` "
           "is every value of every trial (the page asks for a subset, "
           "the `curves?trials` row: 50 trials)." % a.repeat, "",
           "| endpoint | status | gzip KiB | JSON KiB | median ms | min–max "
           "ms | budget ms |", "|---|---|---|---|---|---|---|"]
    over = []
    for r in rows:
        budget = BUDGET[r["name"]]
        ok = r["status"] == {200} and r["median"] <= budget * a.scale
        if not ok:
            over.append(r["name"])
        out.append("| `%s` | %s | %s | %s | %.1f | %.1f–%.1f | %d%s |" % (
            r["path"] if len(r["path"]) < 60 else r["path"][:57] + "...",
            ",".join(str(s) for s in sorted(r["status"])), kb(r["wire"]),
            kb(r["raw"]), r["median"] * 1e3, r["min"] * 1e3, r["max"] * 1e3,
            budget * 1e3, "" if ok else " **over**"))
    return "\n".join(out) + "\n", over


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--trials", type=int, default=100000)
    ap.add_argument("--values", type=int, default=1000000,
                    help="intermediate values in all")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiply the budgets (a sanitized build)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results",
                                                  "dashboard.md"),
                    help="where the table is written too ('' for nowhere)")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="hpo-dash-api-")
    try:
        pop, ready, rows = measure(a, d)
    finally:
        if a.keep:
            print("kept " + d, file=sys.stderr)
        else:
            shutil.rmtree(d, ignore_errors=True)
    text, over = render(a, pop, ready, rows)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    if over:
        print("over budget: " + ", ".join(over), file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
