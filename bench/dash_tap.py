"""The trial loop's cost of the dashboard's tap and feed (issue #12).

    /usr/bin/python3 bench/dash_tap.py BASE_BUILD BUILD [RUNS SESSIONS TRIALS SYNC]

Runs hpo-bench-load's throughput work (BUILD's) against four
coordinators, interleaved, RUNS times each: BASE_BUILD's (a build from
before the tap, e.g. of commit 7b67d9c), BUILD's without --http (the tap
code present, no tap set), BUILD's with --http 0 (tap, feed and the
dashboard thread, no client), and the same with one client following
/api/events. Prints trials/s and the coordinator's CPU per trial, of all
its threads and of the loop thread alone (/proc/PID/task/PID/stat),
median (min-max). Defaults: 3 runs, 16 sessions, 20,000 trials, --sync off
(the loop's own cost, with no fsync to hide it)."""
import os, re, socket, statistics, subprocess, sys, tempfile, time, shutil
BASE, MINE = sys.argv[1], sys.argv[2]
N = int(sys.argv[3]) if len(sys.argv) > 3 else 3
SESSIONS = int(sys.argv[4]) if len(sys.argv) > 4 else 16
TRIALS = int(sys.argv[5]) if len(sys.argv) > 5 else 20000
SYNC = sys.argv[6] if len(sys.argv) > 6 else "off"
TICK = os.sysconf("SC_CLK_TCK")

def cpu(pid, task=False):
    path = "/proc/%d/task/%d/stat" % (pid, pid) if task else "/proc/%d/stat" % pid
    f = open(path).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK

def run(kind):
    d = tempfile.mkdtemp(prefix="hpo-dash-tap-")
    build = BASE if kind == "base" else MINE
    tok = os.path.join(d, "token"); open(tok, "w").write("t\n"); os.chmod(tok, 0o600)
    argv = [build + "/hpo-coordinator", "--db", d + "/db", "--listen", "tcp://127.0.0.1:*",
            "--endpoint-file", d + "/ep", "--sync", SYNC]
    if kind.startswith("http"):
        argv += ["--http", "0", "--http-token-file", tok]
    log = open(d + "/log", "wb")
    p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    while not os.path.exists(d + "/ep"):
        time.sleep(0.01)
    time.sleep(0.2)
    ep = open(d + "/ep").read().strip()
    sse = None
    if kind == "http+sse":
        url = re.findall(r"dashboard on http://([\d.]+):(\d+)/", open(d + "/log").read())[-1]
        sse = socket.create_connection((url[0], int(url[1])))
        sse.sendall(b"GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n")
        reader = subprocess.Popen(["cat"], stdin=sse.fileno(), stdout=subprocess.DEVNULL)
    try:
        return measure(p, ep, d)
    finally:
        p.terminate(); p.wait(timeout=20)
        if sse:
            reader.kill(); reader.wait(); sse.close()
        shutil.rmtree(d)

def measure(p, ep, d):
    c0 = cpu(p.pid); l0 = cpu(p.pid, True); w0 = time.monotonic()
    r = subprocess.run([MINE + "/hpo-bench-load", "--coordinator", ep, "--mode", "throughput",
                        "--sessions", str(SESSIONS), "--study", "b", "--trials", str(TRIALS)],
                       capture_output=True, text=True, timeout=600)
    wall = time.monotonic() - w0; c1 = cpu(p.pid); l1 = cpu(p.pid, True)
    if r.returncode != 0 or not r.stdout.strip():
        raise SystemExit("loadgen failed: %s %s" % (r.stdout, r.stderr[-800:]))
    kv = dict(w.split("=", 1) for w in r.stdout.strip().splitlines()[-1].split() if "=" in w)
    return float(kv["trials_per_s"]), (c1 - c0) / TRIALS * 1e6, (l1 - l0) / TRIALS * 1e6

kinds = os.environ.get("KINDS", "base tap-off http http+sse").split()
res = {k: [] for k in kinds}
for i in range(N):
    for k in kinds:
        res[k].append(run(k))
        print(k, res[k][-1], file=sys.stderr, flush=True)
print("sessions=%d trials=%d sync=%s runs=%d" % (SESSIONS, TRIALS, SYNC, N))
print("| configuration | trials/s median (min-max) | coordinator CPU us/trial, all threads | loop thread CPU us/trial |")
print("|---|---|---|---|")
for k in kinds:
    t = [x[0] for x in res[k]]; c = [x[1] for x in res[k]]; l = [x[2] for x in res[k]]
    print("| %s | %.0f (%.0f-%.0f) | %.1f (%.1f-%.1f) | %.1f (%.1f-%.1f) |" % (k, statistics.median(t), min(t), max(t),
          statistics.median(c), min(c), max(c), statistics.median(l), min(l), max(l)))
