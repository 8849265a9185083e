#!/usr/bin/python3
"""bench/run.py: the benchmarks of issue #3, each one command, each
printing a markdown table (median of --repeat runs, with min and max).

    bench/run.py throughput   trials/s, hpo (1, 16, 256 sessions) vs Optuna
    bench/run.py workers      2000 heartbeating sessions: CPU, memory, acks
    bench/run.py growth       throughput and hand-out time on a large database
    bench/run.py startup      time to the first answer on a large database
    bench/run.py all          all four
    bench/run.py dashboard    throughput with and without a dashboard
                              client following a 100,000-trial study
                              (issue #12); not part of all
    bench/run.py samplers     search quality and TPE speed, hpo's samplers
                              vs Optuna's on the same functions (issue #7);
                              not part of all

Every measurement starts a fresh hpo-coordinator on a fresh database in a
temporary directory and stops it (by pid: SIGTERM, then SIGKILL after a
bounded wait) before the next. Runs of different configurations are
interleaved, so a burst of load from elsewhere on the machine spreads over
all of them rather than landing on one.

The binaries are copied from --build at the start, so a rebuild in the
shared build directory while the benchmark runs cannot change them half
way. Standard library only; run with /usr/bin/python3 (bench/optuna_peer.py
needs Debian's python3-optuna, which only /usr/bin/python3 sees).
"""
import argparse
import json
import math
import os
import platform
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import dashclient  # bench/dashclient.py, beside this file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"
TICK = os.sysconf("SC_CLK_TCK")
BINARIES = ["hpo-coordinator", "hpo-bench-load", "hpo-bench-populate", "hpo"]


class BenchError(Exception):
    pass


def log(msg):
    print("[run.py %s] %s" % (time.strftime("%H:%M:%S"), msg),
          file=sys.stderr, flush=True)


def parse_kv(line):
    out = {}
    for word in line.split():
        if "=" in word:
            k, v = word.split("=", 1)
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
    return out


# ---- /proc ------------------------------------------------------------------

def proc_cpu_ticks(pid, tid=None):
    """utime + stime of pid (or of its thread tid), in clock ticks."""
    with open("/proc/%d/task/%d/stat" % (pid, tid) if tid else
              "/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def proc_status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def proc_nofile(pid):
    """The process's soft RLIMIT_NOFILE."""
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                soft = line.split()[3]
                return float("inf") if soft == "unlimited" else int(soft)
    return 0


def proc_nfds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return 0


# ---- processes --------------------------------------------------------------

class Bins:
    """The binaries, copied out of the shared build directory."""

    def __init__(self, build, workdir, names=BINARIES):
        self.build = build
        self.dir = os.path.join(workdir, "bin")
        os.makedirs(self.dir)
        for name in names:
            src = os.path.join(build, name)
            if not os.access(src, os.X_OK):
                raise BenchError("%s is missing: build first (cmake -S . -B "
                                 "build && make -C build)" % src)
            shutil.copy2(src, self.dir)
        self.built = time.strftime(
            "%Y-%m-%d %H:%M:%S",
            time.localtime(os.stat(os.path.join(build, names[0])).st_mtime))

    def __getattr__(self, name):
        return os.path.join(self.dir, name.replace("_", "-"))


class Coordinator:
    """One hpo-coordinator in its own directory."""

    def __init__(self, bins, workdir, db=None, sync="full", extra=(),
                 nofile=None):
        self.dir = tempfile.mkdtemp(prefix="coord-", dir=workdir)
        self.db = db or os.path.join(self.dir, "hpo.db")
        self.epfile = os.path.join(self.dir, "endpoint")
        self.logpath = os.path.join(self.dir, "coordinator.log")
        self.argv = [bins.hpo_coordinator, "--db", self.db,
                     "--listen", "tcp://127.0.0.1:*",
                     "--endpoint-file", self.epfile, "--sync", sync,
                     *extra]
        self.endpoint = None

        def limit():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.logf = open(self.logpath, "wb")
        self.spawned = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=self.logf,
                                     stderr=subprocess.STDOUT,
                                     preexec_fn=limit)
        self.pid = self.proc.pid

    def log_tail(self, n=15):
        try:
            with open(self.logpath, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def wait_endpoint(self, timeout=120):
        """Waits for the endpoint file; returns seconds since spawn."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.epfile):
                with open(self.epfile) as f:
                    self.endpoint = f.read().strip()
                return time.monotonic() - self.spawned
            if self.proc.poll() is not None:
                raise BenchError("coordinator exited (%s):\n%s"
                                 % (self.proc.returncode, self.log_tail()))
            time.sleep(0.001)
        self.stop()
        raise BenchError("coordinator wrote no endpoint in %d s" % timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                log("coordinator %d ignored SIGTERM for 15 s; SIGKILL"
                    % self.pid)
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.logf.close()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def loadgen_argv(bins, endpoint, mode, sessions, study, trials=None,
                 duration=None):
    argv = [bins.hpo_bench_load, "--coordinator", endpoint, "--mode", mode,
            "--sessions", str(sessions), "--study", study]
    if trials is not None:
        argv += ["--trials", str(trials)]
    if duration is not None:
        argv += ["--duration", str(duration)]
    return argv


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_loadgen(argv, timeout):
    """Runs hpo-bench-load; its result line as a dict, with its own CPU
    seconds under "_cpu_s"."""
    c0 = children_cpu()
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError("hpo-bench-load did not finish in %d s" % timeout)
    lines = r.stdout.strip().splitlines()
    if r.returncode != 0 or not lines:
        raise BenchError("hpo-bench-load failed (exit %d): %s %s"
                         % (r.returncode, r.stdout.strip(),
                            r.stderr.strip()[-500:]))
    kv = parse_kv(lines[-1])
    kv["_cpu_s"] = children_cpu() - c0
    return kv


def shown(argv, subst):
    """A command line as a person would type it."""
    words = []
    for w in argv:
        for old, new in subst.items():
            w = w.replace(old, new)
        words.append(w)
    return " ".join(shlex.quote(w) if not w.startswith("$") else w
                    for w in words)


# ---- statistics and tables --------------------------------------------------

def med(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt(x, digits=0):
    if x != x:  # nan
        return "–"
    if digits == 0:
        return "{:,.0f}".format(x)
    return "{:,.{}f}".format(x, digits)


def spread(xs, digits=0):
    """median (min–max)"""
    if not xs:
        return "–"
    if len(xs) == 1:
        return fmt(xs[0], digits)
    return "%s (%s–%s)" % (fmt(med(xs), digits), fmt(min(xs), digits),
                           fmt(max(xs), digits))


def table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def labelled(configs, cmds, before=None):
    """The commands of each configuration under a comment naming it."""
    out = []
    for c in configs:
        out.append("# " + c["key"])
        if before and c["key"] in before:
            out.append(before[c["key"]])
        out += cmds[c["key"]]
    return out


def commands_block(cmds):
    return "Commands:\n\n```\n" + "\n".join(cmds) + "\n```"


# ---- the benchmarks ---------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.workdir = tempfile.mkdtemp(prefix="hpo-bench-")
        self.bins = Bins(args.build, self.workdir)
        self.failures = []
        self.n = 0
        self.key_args = self.keys() if args.keys else []

    def keys(self):
        """--keys: the coordinator's pair and one key in both the worker
        and client roles, which hpo-bench-load reads from the
        environment. Returns the coordinator's options."""
        d = os.path.join(self.workdir, "keys")
        allow = os.path.join(d, "allow")
        for sub in ("worker", "client"):
            os.makedirs(os.path.join(allow, sub))
        for name in ("server", "load"):
            subprocess.run([self.bins.hpo, "keygen", name, "--dir", d],
                           check=True, capture_output=True)
        for sub in ("worker", "client"):
            shutil.copy(os.path.join(d, "load.key"),
                        os.path.join(allow, sub))
        os.environ["HPO_CURVE_SECRET"] = os.path.join(d, "load.key_secret")
        os.environ["HPO_SERVER_KEY"] = os.path.join(d, "server.key")
        return ["--curve-secret", os.path.join(d, "server.key_secret"),
                "--allow", allow]

    def study(self):
        self.n += 1
        return "bench-%d-%d" % (os.getpid(), self.n)

    def subst(self, coord=None):
        """Replacements that turn a command line into the one to type;
        the most specific first."""
        s = {}
        if coord is not None:
            s[os.path.dirname(coord.db)] = "$DIR"
            s[coord.dir] = "$DIR"
            if coord.endpoint:
                s[coord.endpoint] = "$EP"
        s[self.bins.dir + "/"] = "build/"
        s[self.workdir] = "$TMP"
        return s

    def cleanup(self):
        if self.args.keep:
            log("kept %s" % self.workdir)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def repeat(self, configs, measure):
        """Runs measure(config) --repeat times for every config,
        interleaved; returns {config key: [result dicts]}."""
        results = {c["key"]: [] for c in configs}
        for r in range(self.args.repeat):
            for c in configs:
                log("%s, run %d of %d" % (c["key"], r + 1, self.args.repeat))
                try:
                    res = measure(c)
                except BenchError as e:
                    msg = "%s run %d: %s" % (c["key"], r + 1, e)
                    log("FAILED " + msg)
                    self.failures.append(msg)
                    continue
                log("  " + " ".join("%s=%s" % (k, v) for k, v in res.items()
                                    if not k.startswith("_")))
                results[c["key"]].append(res)
        return results

    # -- hpo throughput, used by throughput and growth --

    def hpo_throughput(self, sessions, trials, sync="full", db_src=None,
                       cmds=None, extra=(), follow=None):
        """follow: with the coordinator's --http in extra, the study a
        dashboard client (bench/dashclient.py) follows during the run."""
        coord_db = None
        tmp = None
        follower = None
        if db_src:
            tmp = tempfile.mkdtemp(prefix="db-", dir=self.workdir)
            coord_db = os.path.join(tmp, "hpo.db")
            shutil.copyfile(db_src, coord_db)
        c = Coordinator(self.bins, self.workdir, db=coord_db, sync=sync,
                        extra=self.key_args + list(extra))
        try:
            c.wait_endpoint()
            if "--http" in extra:
                follower = self.dash_ready(c, follow)
            rss_ready = proc_status_kb(c.pid, "VmRSS")
            argv = loadgen_argv(self.bins, c.endpoint, "throughput", sessions,
                                self.study(), trials=trials)
            if cmds is not None and not cmds:
                cmds.append(shown(c.argv, self.subst(c)))
                cmds.append(shown(argv, self.subst(c)))
            t0 = proc_cpu_ticks(c.pid)
            m0 = proc_cpu_ticks(c.pid, c.pid)
            o0 = os.times()
            w0 = time.monotonic()
            kv = run_loadgen(argv, timeout=self.args.load_timeout)
            wall = time.monotonic() - w0
            cpu = (proc_cpu_ticks(c.pid) - t0) / TICK / wall
            # The coordinator's main thread is its loop; the rest is the
            # dashboard's (and libmicrohttpd's) threads.
            dash = {"loop_cpu": (proc_cpu_ticks(c.pid, c.pid) - m0)
                    / TICK / wall}
            if follower:
                o1 = os.times()
                follower.stop()
                if follower.errors:
                    raise BenchError("dashboard client: %s"
                                     % "; ".join(follower.errors[:3]))
                # This process's CPU is the client's: it only waits
                # otherwise.
                dash.update(events=follower.events,
                            fetches=follower.fetches,
                            client_cpu=(o1.user + o1.system - o0.user
                                        - o0.system) / wall)
            res = {
                "trials_per_s": kv["trials_per_s"],
                "handout_p50_us": kv["handout_p50_us"],
                "handout_p99_us": kv["handout_p99_us"],
                "coord_cpu": cpu,
                "load_cpu": kv["_cpu_s"] / wall,
                "rss_ready_mb": rss_ready / 1024,
                "rss_after_mb": proc_status_kb(c.pid, "VmRSS") / 1024,
                "hwm_mb": proc_status_kb(c.pid, "VmHWM") / 1024,
                **dash,
            }
            if c.proc.poll() is not None:
                raise BenchError("coordinator died:\n" + c.log_tail())
            return res
        finally:
            if follower:
                follower.stop()
            c.stop()
            c.cleanup()
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)

    def optuna(self, storage, processes, trials, cmds=None, steps=0):
        """optuna_peer.py: the throughput work, or with steps the report
        ingestion work (steps reports a trial, the median pruner on)."""
        tmp = tempfile.mkdtemp(prefix="optuna-", dir=self.workdir)
        try:
            path = os.path.join(tmp, "optuna.db" if storage == "sqlite"
                                else "optuna.log")
            argv = [PYTHON, os.path.join(ROOT, "bench", "optuna_peer.py"),
                    "--storage", storage, "--path", path,
                    "--trials", str(trials), "--processes", str(processes)]
            if steps:
                argv += ["--steps", str(steps)]
            if cmds is not None and not cmds:
                cmds.append(shown(argv, {ROOT + "/": "", tmp: "$DIR"}))
            try:
                r = subprocess.run(argv, capture_output=True, text=True,
                                   timeout=self.args.load_timeout)
            except subprocess.TimeoutExpired:
                raise BenchError("optuna_peer did not finish")
            lines = r.stdout.strip().splitlines()
            if not lines:
                raise BenchError("optuna_peer failed: " + r.stderr[-800:])
            kv = parse_kv(lines[-1])
            res = {"trials_per_s": kv["trials_per_s"],
                   "reports_per_s": kv["reports_per_s"],
                   "errors": kv["errors"]}
            if r.stderr.strip():
                res["_note"] = r.stderr.strip().splitlines()[-1][:200]
            return res
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # -- throughput --

    def throughput(self):
        a = self.args
        cmds = {}
        configs = []
        for s in (1, 16, 256):
            configs.append({"key": "hpo, %d session%s, --sync full"
                            % (s, "" if s == 1 else "s"),
                            "kind": "hpo", "sessions": s, "sync": "full",
                            "trials": a.hpo_trials_single if s == 1
                            else a.hpo_trials})
        configs.append({"key": "hpo, %d sessions, --sync normal"
                        % a.normal_sessions, "kind": "hpo",
                        "sessions": a.normal_sessions, "sync": "normal",
                        "trials": a.hpo_trials})
        for st, n in (("journal", a.optuna_journal_trials),
                      ("sqlite", a.optuna_sqlite_trials)):
            for p in (1, 4):
                configs.append({"key": "Optuna %s, %d process%s"
                                % ("JournalFileStorage" if st == "journal"
                                   else "RDBStorage sqlite", p,
                                   "" if p == 1 else "es"),
                                "kind": "optuna", "storage": st,
                                "processes": p, "trials": n})
        for c in configs:
            cmds[c["key"]] = []

        def measure(c):
            if c["kind"] == "hpo":
                return self.hpo_throughput(c["sessions"], c["trials"],
                                           sync=c["sync"], cmds=cmds[c["key"]])
            return self.optuna(c["storage"], c["processes"], c["trials"],
                               cmds=cmds[c["key"]])

        res = self.repeat(configs, measure)

        def best(storage):
            meds = [med([r["trials_per_s"] for r in res[c["key"]]])
                    for c in configs if c.get("storage") == storage]
            meds = [m for m in meds if m == m]
            return max(meds) if meds else float("nan")

        journal, sqlite = best("journal"), best("sqlite")
        rows = []
        for c in configs:
            rs = res[c["key"]]
            tps = [r["trials_per_s"] for r in rs]
            m = med(tps)
            if c["kind"] == "hpo":
                extra = [fmt(med([r["handout_p50_us"] for r in rs])),
                         fmt(med([r["handout_p99_us"] for r in rs])),
                         fmt(med([r["coord_cpu"] for r in rs]), 2),
                         fmt(med([r["load_cpu"] for r in rs]), 2)]
                errors = "–"
            else:
                extra = ["–", "–", "–", "–"]
                errors = fmt(sum(r["errors"] for r in rs))
            rows.append([c["key"], fmt(c["trials"]), spread(tps)] + extra +
                        [errors, fmt(m / journal, 1) + "×",
                         fmt(m / sqlite, 0) + "×"])
        notes = sorted({r["_note"] for rs in res.values() for r in rs
                        if "_note" in r})
        out = ["## Trial throughput", "",
               "Each trial: ask, one report (step 0), finish, acknowledged "
               "(hpo acknowledges only after the commit). Median of %d runs "
               "(min–max). Ratios divide the row's median by the best "
               "Optuna configuration of that storage (journal %s/s, SQLite "
               "%s/s). Target: ≥ 20,000 trials/s durable (--sync full), "
               "≥ 25× journal, ≥ 300× SQLite."
               % (a.repeat, fmt(journal), fmt(sqlite)), "",
               table(["configuration", "trials per run", "trials/s",
                      "hand-out p50 µs", "hand-out p99 µs",
                      "coordinator CPU (cores)", "loadgen CPU (cores)",
                      "Optuna errors",
                      "÷ Optuna journal", "÷ Optuna SQLite"], rows)]
        if notes:
            out += ["", "Optuna errors seen (counted above, the trial is "
                    "skipped): " + "; ".join(notes)]
        out += ["", commands_block(labelled(configs, cmds))]
        return "\n".join(out)

    # -- the dashboard's cost to the trial loop (issue #12) --

    def dash_ready(self, coord, study):
        """Waits for the coordinator's dashboard to answer (its read model
        built), then, with study, starts a client following it."""
        if not hasattr(self, "dash_token"):
            self.dash_token = dashclient.write_token(
                os.path.join(self.workdir, "dash-token"))
        try:
            addr = dashclient.address_from_log(coord.logpath,
                                               proc=coord.proc)
        except RuntimeError as e:
            raise BenchError("%s:\n%s" % (e, coord.log_tail()))
        c = dashclient.Client(addr, self.dash_token)
        deadline = time.monotonic() + 120
        while True:
            try:
                if c.get("/api/studies")[0] == 200:
                    break
            except OSError:
                c.close()
            if time.monotonic() > deadline:
                raise BenchError("the dashboard never answered:\n"
                                 + coord.log_tail())
            time.sleep(0.02)
        c.close()
        if not study:
            return None
        kind, name = study
        return getattr(dashclient.Follower, kind)(addr, self.dash_token,
                                                  name)

    def dash_db(self):
        """A cached database with one finished 100,000-trial study, as
        the dashboard's fixtures have it (hpo-bench-populate --rich)."""
        a = self.args
        cache = a.cache or os.path.join(self.workdir, "cache")
        os.makedirs(cache, exist_ok=True)
        path = os.path.join(cache, "dash-%d.db" % a.dash_trials)
        argv = [self.bins.hpo_bench_populate, "--db", path, "--rich",
                "--study", "big", "--trials", str(a.dash_trials),
                "--values", str(10 * a.dash_trials)]
        self.populate_cmd = shown(argv, {self.bins.dir + "/": "build/",
                                         cache: "$CACHE"})
        if os.path.exists(path + ".done"):
            return path
        for p in (path, path + "-wal"):
            if os.path.exists(p):
                os.unlink(p)
        log("populating " + path)
        r = subprocess.run(argv, capture_output=True, text=True,
                           timeout=1800)
        if r.returncode != 0:
            raise BenchError("hpo-bench-populate failed: " + r.stderr)
        with open(path + ".done", "w") as f:
            f.write(r.stdout)
        return path

    def dashboard(self):
        a = self.args
        db = self.dash_db()
        http = ["--http", "127.0.0.1:0", "--http-token-file",
                os.path.join(self.workdir, "dash-token")]
        configs = [
            {"key": "no dashboard", "extra": [], "follow": None},
            {"key": "--http, no client", "extra": http, "follow": None},
            {"key": "--http, a page following the study", "extra": http,
             "follow": ("page", "big")},
            {"key": "--http, the same page, its events read by curl",
             "extra": http, "follow": ("page_curl", "big")},
            {"key": "--http, its trials fetched every second",
             "extra": http, "follow": ("reloading", "big")}]
        cmds = {c["key"]: [] for c in configs}
        if not hasattr(self, "dash_token"):
            self.dash_token = dashclient.write_token(
                os.path.join(self.workdir, "dash-token"))

        def measure(c):
            return self.hpo_throughput(a.dash_sessions, a.hpo_trials,
                                       db_src=db, cmds=cmds[c["key"]],
                                       extra=c["extra"], follow=c["follow"])

        res = self.repeat(configs, measure)
        base = med([r["trials_per_s"] for r in res["no dashboard"]])
        rows = []
        for c in configs:
            rs = res[c["key"]]
            m = med([r["trials_per_s"] for r in rs])
            rows.append([c["key"], spread([r["trials_per_s"] for r in rs]),
                         fmt(100 * m / base, 1) + "%",
                         fmt(med([r["handout_p99_us"] for r in rs])),
                         fmt(med([r["coord_cpu"] for r in rs]), 2),
                         fmt(med([r["rss_after_mb"] for r in rs])),
                         fmt(med([r["loop_cpu"] for r in rs]), 2),
                         fmt(med([r.get("client_cpu", 0) for r in rs]), 2)
                         if c["follow"] else "–",
                         fmt(med([r.get("events", 0) for r in rs]))
                         if c["follow"] else "–",
                         fmt(med([r.get("fetches", 0) for r in rs]))
                         if c["follow"] else "–"])
        following = med([r["trials_per_s"]
                         for r in res["--http, a page following the study"]])
        out = ["## Throughput with a dashboard client following", "",
               "%d sessions, %s trials per run, --sync full, on a database "
               "that holds a finished %s-trial study (`%s`). A page "
               "following the study (bench/dashclient.py, as web/README.md "
               "says the page does): the study list and all its trials "
               "once, then /api/events (every trial of the load arrives "
               "there), importance every 10 s. The last row is a worst "
               "case: the study list and all its trials fetched again every "
               "second. The client stands for a browser elsewhere: it runs "
               "on the same two cores (Python threads of this process, and "
               "curl) at nice 19, taking only the CPU the work leaves; its "
               "CPU is shown. The coordinator's thread that applies its "
               "commits to the dashboard runs at nice 19 (dash/http.c), "
               "its HTTP threads at 0. The loop is its main thread. "
               "Median of %d runs (min–max), interleaved. Target: the page "
               "following ≥ 90%% of no dashboard: **%s** (%s%%)."
               % (a.dash_sessions, fmt(a.hpo_trials), fmt(a.dash_trials),
                  self.populate_cmd, a.repeat,
                  "met" if following >= 0.9 * base else "NOT met",
                  fmt(100 * following / base, 1)), "",
               table(["configuration", "trials/s", "of no dashboard",
                      "hand-out p99 µs", "coordinator CPU (cores)",
                      "coordinator RSS MB", "its loop thread's CPU",
                      "client CPU", "events read", "fetches"],
                     rows), "", commands_block(labelled(configs, cmds))]
        return "\n".join(out)

    # -- report ingestion (issue #8) --

    def hpo_reports(self, sessions, cmds=None):
        a = self.args
        c = Coordinator(self.bins, self.workdir, sync="full")
        try:
            c.wait_endpoint()
            argv = loadgen_argv(self.bins, c.endpoint, "reports", sessions,
                                self.study(), duration=a.reports_duration)
            argv += ["--steps", str(a.reports_steps)]
            if cmds is not None and not cmds:
                cmds.append(shown(c.argv, self.subst(c)))
                cmds.append(shown(argv, self.subst(c)))
            t0 = proc_cpu_ticks(c.pid)
            w0 = time.monotonic()
            kv = run_loadgen(argv, timeout=self.args.load_timeout)
            wall = time.monotonic() - w0
            if c.proc.poll() is not None:
                raise BenchError("coordinator died:\n" + c.log_tail())
            return {"reports_per_s": kv["reports_per_s"],
                    "pruned": kv["pruned"], "completed": kv["completed"],
                    "coord_cpu": (proc_cpu_ticks(c.pid) - t0) / TICK / wall}
        finally:
            c.stop()
            c.cleanup()

    def reports(self):
        a = self.args
        configs = [{"key": "hpo, %d trials at once, --sync full" % s,
                    "kind": "hpo", "sessions": s} for s in (100, 1000)]
        for st, n in (("journal", a.optuna_reports_journal_trials),
                      ("sqlite", a.optuna_reports_sqlite_trials)):
            configs.append({"key": "Optuna %s, 1 process, MedianPruner"
                            % ("JournalFileStorage" if st == "journal"
                               else "RDBStorage sqlite"),
                            "kind": "optuna", "storage": st, "trials": n})
        cmds = {c["key"]: [] for c in configs}

        def measure(c):
            if c["kind"] == "hpo":
                return self.hpo_reports(c["sessions"], cmds=cmds[c["key"]])
            return self.optuna(c["storage"], 1, c["trials"],
                               cmds=cmds[c["key"]], steps=a.reports_steps)

        res = self.repeat(configs, measure)
        peer = {c["storage"]: med([r["reports_per_s"]
                                   for r in res[c["key"]]])
                for c in configs if c["kind"] == "optuna"}
        rows = []
        for c in configs:
            rs = res[c["key"]]
            rps = [r["reports_per_s"] for r in rs]
            m = med(rps)
            hpo = c["kind"] == "hpo"
            rows.append([c["key"], spread(rps),
                         fmt(med([r["pruned"] for r in rs])) if hpo else "–",
                         fmt(med([r["coord_cpu"] for r in rs]), 2)
                         if hpo else "–",
                         fmt(m / peer["journal"], 0) + "×",
                         fmt(m / peer["sqlite"], 0) + "×"])
        out = ["## Report ingestion, with the median pruner", "",
               "Each trial streams %d intermediate values of its objective; "
               "the study's median pruner (n_startup_trials 5) decides at "
               "every report, and hpo acknowledges each report after its "
               "commit, the decision riding with it (a Kill). Each trial is "
               "a little better than the ones before and every tenth is "
               "three times worse, in both hpo and Optuna, so both prune "
               "the same kind of trial. hpo: reports acknowledged per second "
               "over %g s after a 2 s warm-up; Optuna 3.1: trial.report and "
               "should_prune per step. Median of %d runs (min–max). Target: "
               "≥ 100,000 reports/s." % (a.reports_steps, a.reports_duration,
                                          a.repeat), "",
               table(["configuration", "reports/s", "trials pruned",
                      "coordinator CPU (cores)", "÷ Optuna journal",
                      "÷ Optuna SQLite"], rows),
               "", commands_block(labelled(configs, cmds))]
        return "\n".join(out)

    # -- workers --

    def workers(self):
        a = self.args
        cfg = {"key": "%d sessions" % a.sessions}
        cmds = []
        limits = []

        def measure(c):
            extra = ["--heartbeat-ms", str(a.heartbeat_ms),
                     "--lease-ms", str(a.lease_ms)]
            coord = Coordinator(self.bins, self.workdir, extra=extra,
                                nofile=a.coordinator_nofile)
            samples = []
            stop = threading.Event()
            try:
                coord.wait_endpoint()
                nofile = proc_nofile(coord.pid)
                limits.append(nofile)

                def sample():
                    k = 0
                    while not stop.is_set():
                        try:
                            samples.append((time.monotonic(),
                                            proc_cpu_ticks(coord.pid),
                                            proc_nfds(coord.pid)
                                            if k % 8 == 0 else 0))
                        except OSError:
                            return
                        k += 1
                        stop.wait(0.25)

                th = threading.Thread(target=sample, daemon=True)
                th.start()
                study = self.study()
                argv = loadgen_argv(self.bins, coord.endpoint, "heartbeat",
                                    a.sessions, study, duration=a.duration)
                probe_argv = loadgen_argv(
                    self.bins, coord.endpoint, "heartbeat", a.probe_sessions,
                    study + "-probe", duration=max(2.0, a.duration - 8))
                if not cmds:
                    cmds.append(shown(coord.argv, self.subst(coord)))
                    cmds.append(shown(argv, self.subst(coord)) + " &")
                    cmds.append("# once all hold a trial (hpo --json study "
                                "show: counts.RUNNING), the probe:")
                    cmds.append(shown(probe_argv, self.subst(coord)))
                # stdbuf: the result line is printed when the hold ends,
                # before 2000 sockets are closed; its arrival marks the end
                # of the hold window.
                lg = subprocess.Popen(["stdbuf", "-oL"] + argv,
                                      stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
                t_start = time.monotonic()
                c0 = children_cpu()
                timer = threading.Timer(a.duration + 240, lg.kill)
                timer.start()
                probe = self.probe(coord, study, probe_argv, t_start)
                line = lg.stdout.readline()
                t_line = time.monotonic()
                hwm = proc_status_kb(coord.pid, "VmHWM")
                rss = proc_status_kb(coord.pid, "VmRSS")
                rest, err = lg.communicate()
                load_cpu = (children_cpu() - c0) / (time.monotonic() - t_start)
                timer.cancel()
                stop.set()
                th.join()
                if lg.returncode != 0 or not line.strip():
                    raise BenchError("hpo-bench-load failed (exit %s): %s %s"
                                     % (lg.returncode, line + rest,
                                        err[-500:]))
                kv = parse_kv(line)
                # The hold: the last `duration` seconds before the line;
                # trim a second at each end.
                w0, w1 = t_line - a.duration + 1.0, t_line - 1.0
                inside = [s for s in samples if w0 <= s[0] <= w1]
                if len(inside) < 2:
                    raise BenchError("too few CPU samples in the hold")
                cpu = ((inside[-1][1] - inside[0][1]) / TICK
                       / (inside[-1][0] - inside[0][0]))
                before = [s for s in samples if s[0] < w0]
                ramp_cpu = float("nan")
                if len(before) >= 2:
                    ramp_cpu = ((before[-1][1] - before[0][1]) / TICK
                                / (before[-1][0] - before[0][0]))
                return {
                    "held": kv["held"],
                    "cpu": cpu,
                    "ramp_s": t_line - a.duration - t_start,
                    "ramp_cpu": ramp_cpu,
                    "load_cpu": load_cpu,
                    "hwm_mb": hwm / 1024,
                    "rss_mb": rss / 1024,
                    "fds": max(s[2] for s in samples) if samples else 0,
                    "nofile": nofile,
                    "heartbeats": kv["heartbeats"],
                    "p50": kv["ack_p50_ms"],
                    "p99": kv["ack_p99_ms"],
                    "max": kv["ack_max_ms"],
                    "lost": kv["leases_lost"] + probe.get("leases_lost", 0),
                    "probe_p50": probe.get("ack_p50_ms", float("nan")),
                    "probe_p99": probe.get("ack_p99_ms", float("nan")),
                    "probe_max": probe.get("ack_max_ms", float("nan")),
                    "kills": kv["kills"],
                }
            finally:
                stop.set()
                coord.stop()
                coord.cleanup()

        res = self.repeat([cfg], measure)[cfg["key"]]
        out = ["## Many workers", "",
               "%d worker sessions (one DEALER each, one process), each "
               "holding one lease and heartbeating every %d ms (lease %d "
               "ms), held for %g s after the last one got its trial. CPU "
               "is the coordinator's utime+stime over the hold (its first "
               "and last second trimmed) as a fraction of one core; ramp "
               "is connecting, Hello and hand-out of all sessions. The "
               "delay from a heartbeat's send to its Ack is measured by "
               "the load generator itself, whose one thread polls all %d "
               "sockets, so it includes that process's own latency; a "
               "second, %d-session load generator started during the hold "
               "(the probe) shows the coordinator's share. Median of %d "
               "runs (min–max). Target: < 0.25 core, no lease lost."
               % (a.sessions, a.heartbeat_ms, a.lease_ms, a.duration,
                  a.sessions, a.probe_sessions, a.repeat), ""]
        if res:
            def col(k, d=0):
                return spread([r[k] for r in res], d)
            rows = [
                ["sessions holding a lease", col("held")],
                ["coordinator CPU over the hold (cores)", col("cpu", 3)],
                ["heartbeats acknowledged in the hold", col("heartbeats")],
                ["heartbeat ack p50 ms, %d sessions" % a.sessions,
                 col("p50", 2)],
                ["heartbeat ack p99 ms, %d sessions" % a.sessions,
                 col("p99", 2)],
                ["heartbeat ack max ms, %d sessions" % a.sessions,
                 col("max", 2)],
                ["heartbeat ack p50 ms, %d-session probe" % a.probe_sessions,
                 col("probe_p50", 2)],
                ["heartbeat ack p99 ms, %d-session probe" % a.probe_sessions,
                 col("probe_p99", 2)],
                ["heartbeat ack max ms, %d-session probe" % a.probe_sessions,
                 col("probe_max", 2)],
                ["leases lost (must be 0)",
                 "%d in all runs" % sum(r["lost"] for r in res)],
                ["Kills received", "%d in all runs"
                 % sum(r["kills"] for r in res)],
                ["coordinator max RSS (VmHWM) MB", col("hwm_mb", 1)],
                ["coordinator RSS at end of hold MB", col("rss_mb", 1)],
                ["coordinator open fds (max seen)", col("fds")],
                ["ramp: seconds to connect and assign all", col("ramp_s", 1)],
                ["ramp: coordinator CPU (cores)", col("ramp_cpu", 3)],
                ["load generators' CPU, probe included (cores)", col("load_cpu", 2)],
            ]
            out.append(table(["measure", "value"], rows))
        nofile = min(limits) if limits else None
        if nofile is not None:
            need = a.sessions + 64
            started = ("started with soft and hard limit %d"
                       % a.coordinator_nofile if a.coordinator_nofile
                       else "inherited soft %d, hard %d"
                       % resource.getrlimit(resource.RLIMIT_NOFILE))
            if nofile < need:
                out += ["", "**The coordinator's RLIMIT_NOFILE while it ran "
                        "was %s (%s), fewer than the ~%d descriptors %d "
                        "sessions need; see 'sessions holding a lease'.**"
                        % (nofile, started, need, a.sessions)]
            else:
                out += ["", "The coordinator's soft RLIMIT_NOFILE while it "
                        "ran was %s (%s): enough for %d sessions. "
                        "`--coordinator-nofile N` starts it with a lower "
                        "hard limit." % (nofile, started, a.sessions)]
        out += ["", commands_block(cmds)]
        return "\n".join(out)

    def probe(self, coord, study, argv, t_start):
        """Once all sessions of study hold a trial, runs the small probe
        load generator; its result line as a dict ({} if it could not)."""
        show = [self.bins.hpo, "--coordinator", coord.endpoint, "--timeout",
                "5", "--json", "study", "show", study]
        deadline = t_start + 120
        while time.monotonic() < deadline:
            r = subprocess.run(show, capture_output=True, text=True,
                               timeout=30)
            if r.returncode == 0:
                running = json.loads(r.stdout)["counts"]["RUNNING"]
                if running >= self.args.sessions:
                    break
            time.sleep(0.5)
        else:
            log("probe: the sessions never all held a trial")
            return {}
        try:
            return run_loadgen(argv, timeout=self.args.duration + 120)
        except BenchError as e:
            log("probe: %s" % e)
            return {}

    # -- the large database --

    def big_db(self):
        a = self.args
        cache = a.cache or os.path.join(self.workdir, "cache")
        os.makedirs(cache, exist_ok=True)
        path = os.path.join(cache, "big-%d-%d.db" % (a.big_trials,
                                                    a.big_values))
        done = path + ".done"
        argv = [self.bins.hpo_bench_populate, "--db", path, "--study", "big",
                "--trials", str(a.big_trials), "--values", str(a.big_values)]
        self.populate_cmd = shown(argv, {self.bins.dir + "/": "build/",
                                         cache: "$CACHE",
                                         self.workdir: "$TMP"})
        if os.path.exists(done):
            with open(done) as f:
                self.populate_line = f.read().strip() + " (cached)"
            return path
        for p in (path, path + "-wal"):
            if os.path.exists(p):
                os.unlink(p)
        log("populating %s (%d trials, %d values)" % (path, a.big_trials,
                                                       a.big_values))
        r = subprocess.run(argv, capture_output=True, text=True,
                           timeout=7200)
        if r.returncode != 0:
            raise BenchError("hpo-bench-populate failed: " + r.stderr)
        self.populate_line = r.stdout.strip()
        log(self.populate_line)
        with open(done, "w") as f:
            f.write(self.populate_line)
        return path

    def growth(self):
        a = self.args
        big = self.big_db()
        size_mb = os.path.getsize(big) / 2**20
        configs = [{"key": "empty database", "db": None},
                   {"key": "%s trials, %s values (%.0f MB)"
                    % (fmt(a.big_trials), fmt(a.big_values), size_mb),
                    "db": big}]
        cmds = {c["key"]: [] for c in configs}

        def measure(c):
            return self.hpo_throughput(a.growth_sessions, a.hpo_trials,
                                       db_src=c["db"], cmds=cmds[c["key"]])

        res = self.repeat(configs, measure)
        rows = []
        keys = [("trials_per_s", 0), ("handout_p50_us", 0),
                ("handout_p99_us", 0), ("rss_ready_mb", 1),
                ("rss_after_mb", 1), ("hwm_mb", 1)]
        for c in configs:
            rs = res[c["key"]]
            rows.append([c["key"]] + [spread([r[k] for r in rs], d)
                                      for k, d in keys])
        e, b = (res[c["key"]] for c in configs)
        ratio = ["large ÷ empty"] + [
            fmt(med([r[k] for r in b]) / med([r[k] for r in e]), 2) + "×"
            for k, _ in keys]
        rows.append(ratio)
        out = ["## Growth", "",
               "hpo with %d sessions, %s trials per run, --sync full, on a "
               "fresh copy of the large database (the copy leaves it in the "
               "page cache) vs an empty one. The loadgen's study is a new "
               "study beside the large one. RSS is the coordinator's, "
               "read once it serves (ready), after the run, and its peak. "
               "Median of %d runs (min–max). Target: within 2× of empty."
               % (a.growth_sessions, fmt(a.hpo_trials), a.repeat), "",
               table(["database", "trials/s", "hand-out p50 µs",
                      "hand-out p99 µs", "RSS ready MB", "RSS after MB",
                      "VmHWM MB"], rows),
               "", "Large database: `%s` → %s" % (self.populate_cmd,
                                                  self.populate_line),
               "", commands_block(labelled(configs, cmds, {
                   configs[1]["key"]: "cp $CACHE/%s $DIR/hpo.db"
                   % os.path.basename(big)}))]
        return "\n".join(out)

    # -- startup --

    def first_answer(self, coord, timeout=120):
        argv = [self.bins.hpo, "--coordinator", coord.endpoint, "--timeout",
                "2", "--json", "study", "list"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = subprocess.run(argv, capture_output=True, timeout=30)
            if r.returncode == 0:
                return time.monotonic() - coord.spawned, argv
            if coord.proc.poll() is not None:
                raise BenchError("coordinator exited:\n" + coord.log_tail())
        raise BenchError("no answer in %d s" % timeout)

    def startup(self):
        a = self.args
        big = self.big_db()
        configs = [{"key": "empty database", "db": None, "cold": False},
                   {"key": "large database, in page cache", "db": big,
                    "cold": False},
                   {"key": "large database, evicted from page cache",
                    "db": big, "cold": True}]
        cmds = []

        def measure(c):
            tmp = tempfile.mkdtemp(prefix="db-", dir=self.workdir)
            db = None
            try:
                if c["db"]:
                    db = os.path.join(tmp, "hpo.db")
                    shutil.copyfile(c["db"], db)
                    # Evict: flush the copy, then drop its clean pages.
                    fd = os.open(db, os.O_RDONLY)
                    os.fsync(fd)
                    if c["cold"]:
                        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                    os.close(fd)
                coord = Coordinator(self.bins, self.workdir, db=db)
                try:
                    t_ep = coord.wait_endpoint()
                    t_ans, argv = self.first_answer(coord)
                    if not cmds:
                        cmds.append(shown(coord.argv, self.subst(coord)))
                        cmds.append("# poll until it answers:")
                        cmds.append(shown(argv, self.subst(coord)))
                    return {"endpoint_ms": t_ep * 1000,
                            "answer_ms": t_ans * 1000,
                            "rss_mb": proc_status_kb(coord.pid, "VmRSS")
                            / 1024}
                finally:
                    coord.stop()
                    coord.cleanup()
            finally:
                shutil.rmtree(tmp, ignore_errors=True)

        res = self.repeat(configs, measure)
        rows = [[c["key"]] + [spread([r[k] for r in res[c["key"]]], d)
                              for k, d in (("endpoint_ms", 0),
                                           ("answer_ms", 0), ("rss_mb", 1))]
                for c in configs]
        out = ["## Start-up", "",
               "From spawning hpo-coordinator to (a) its endpoint file "
               "(written once the database is loaded and the socket bound) "
               "and (b) the first answer to `hpo study list`, polled (this "
               "includes starting the hpo CLI, a few ms). Large database: "
               "%s trials, %s values. Median of %d runs (min–max)."
               % (fmt(a.big_trials), fmt(a.big_values), a.repeat), "",
               table(["database", "endpoint written ms", "first answer ms",
                      "RSS then MB"], rows),
               "", commands_block(cmds)]
        return "\n".join(out)


# ---- samplers: search quality and speed against Optuna (issue #7) -----------

SAMPLER_BINARIES = ["hpo-bench-samplers", "libhpo-bench-fn.so"]
SAMPLER_FUNCTIONS = ["branin", "hartmann6", "rosenbrock10", "mixed"]
SAMPLER_KINDS = ["random", "tpe", "qmc", "cmaes"]


def quartiles(xs):
    """(q1, median, q3) of xs."""
    if len(xs) == 1:
        return xs[0], xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[1], q[2]


def fmt_value(x):
    """A best value, to four significant digits (grouped when large)."""
    if x is None or x != x:
        return "–"
    if abs(x) >= 10000:
        return "{:,.0f}".format(x)
    return "%.4g" % x


def fmt_delta(x):
    """A difference of best values, signed."""
    if x is None:
        return "–"
    return "{:+,.0f}".format(x) if abs(x) >= 1000 else "%+.3g" % x


def fmt_quartiles(xs):
    """median (q1–q3)"""
    if not xs:
        return "n/a"
    q1, m, q3 = quartiles(xs)
    return "%s (%s – %s)" % (fmt_value(m), fmt_value(q1), fmt_value(q3))


def rank_sum_p(xs, ys):
    """Two-sided p-value of the Mann-Whitney rank-sum test of xs against
    ys (normal approximation, ties corrected): how often samples this far
    apart would come from one distribution. Tells a real difference of
    medians from the noise of 20 seeds."""
    n1, n2 = len(xs), len(ys)
    if n1 < 2 or n2 < 2:
        return float("nan")
    vals = sorted([(v, 0) for v in xs] + [(v, 1) for v in ys])
    r1, ties, i = 0.0, 0, 0
    while i < len(vals):
        j = i
        while j + 1 < len(vals) and vals[j + 1][0] == vals[i][0]:
            j += 1
        r1 += (i + j + 2) / 2 * sum(1 for k in range(i, j + 1)
                                    if vals[k][1] == 0)
        ties += (j - i + 1) ** 3 - (j - i + 1)
        i = j + 1
    n = n1 + n2
    u = r1 - n1 * (n1 + 1) / 2
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))))
    if sigma == 0:
        return 1.0
    z = max(abs(u - n1 * n2 / 2) - 0.5, 0) / sigma
    return math.erfc(z / math.sqrt(2))


def fmt_p(xs, ys):
    p = rank_sum_p(xs, ys)
    return "p %.2g" % p if p == p else "p –"


def met(ok):
    return "**met**" if ok else "**not met**"


class SamplerBench:
    """hpo-bench-samplers and samplers_optuna.py on the same functions,
    seeds and budgets; the tables of issue #7's proof of quality.

    Quality runs are not timed, so up to --jobs of them run at once. The
    speed runs (hpo's, then Optuna's) run alone, after them. Optuna's
    quality results depend only on Optuna, samplers_optuna.py and the
    functions, so --cache DIR keeps them between invocations; hpo's are
    always measured afresh."""

    def __init__(self, args):
        self.args = args
        self.workdir = tempfile.mkdtemp(prefix="hpo-bench-samplers-")
        self.bins = Bins(args.build, self.workdir, SAMPLER_BINARIES)
        self.lib = os.path.join(self.bins.dir, "libhpo-bench-fn.so")
        self.failures = []
        self.notes = []
        self.hpo_samplers = self.hpo_list()

    def cleanup(self):
        if self.args.keep:
            log("kept %s" % self.workdir)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def hpo_list(self):
        r = subprocess.run([self.bins.hpo_bench_samplers, "list"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise BenchError("hpo-bench-samplers list failed: " + r.stderr)
        lines = [json.loads(line) for line in r.stdout.splitlines()]
        self.functions = {d["function"]: d for d in lines if "function" in d}
        return [d["sampler"] for d in lines if "sampler" in d]

    # -- running one side --

    def hpo_argv(self, mode, fn, sampler, batch=1):
        argv = [self.bins.hpo_bench_samplers, mode, "--function", fn,
                "--sampler", sampler]
        if mode == "quality":
            argv += ["--seeds", str(self.args.seeds), "--trials",
                     str(self.args.trials), "--batch", str(batch)]
        else:
            argv += ["--finished", self.args.speed_finished, "--repeat",
                     str(self.args.speed_repeat)]
        return argv

    def optuna_argv(self, mode, fn, sampler, batch=1, liar=False):
        argv = [PYTHON, os.path.join(ROOT, "bench", "samplers_optuna.py"),
                mode, "--lib", self.lib, "--function", fn, "--sampler",
                sampler]
        if mode == "quality":
            argv += ["--seeds", str(self.args.seeds), "--trials",
                     str(self.args.trials), "--batch", str(batch)]
        else:
            argv += ["--finished", self.args.speed_finished, "--repeat",
                     str(self.args.speed_repeat)]
        return argv + (["--liar"] if liar else [])

    def cache_path(self, argv):
        """Where --cache keeps the result of an Optuna argv, keyed by it
        and by the code it ran (Optuna's version, the script, the
        functions); None without --cache."""
        if not self.args.cache:
            return None
        import hashlib
        h = hashlib.sha256()
        h.update(optuna_version().encode())
        for part in argv:
            if part != self.lib:
                h.update(part.encode() + b"\0")
        for name in ("samplers_optuna.py", "samplers_fn.c"):
            with open(os.path.join(ROOT, "bench", name), "rb") as f:
                h.update(f.read())
        os.makedirs(self.args.cache, exist_ok=True)
        return os.path.join(self.args.cache,
                            "samplers-%s.jsonl" % h.hexdigest()[:20])

    def run_lines(self, argv, cache=None):
        """Runs one side; its JSON lines, or None (with the failure
        recorded) if it failed or refused the study."""
        if cache and os.path.exists(cache):
            with open(cache) as f:
                return [json.loads(line) for line in f]
        label = shown(argv[:6], {self.bins.dir + "/": "build/",
                                 ROOT + "/": ""})
        try:
            r = subprocess.run(argv, capture_output=True, text=True,
                               timeout=self.args.run_timeout)
        except subprocess.TimeoutExpired:
            self.failures.append("%s: no result in %d s"
                                 % (label, self.args.run_timeout))
            return None
        lines = [json.loads(line) for line in r.stdout.splitlines()
                 if line.startswith("{")]
        errors = [d["error"] for d in lines if "error" in d]
        if r.returncode != 0 or errors:
            self.failures.append("%s: %s" % (
                label, errors[0] if errors else r.stderr.strip()[-300:]))
            return None
        if cache:
            with open(cache + ".tmp", "w") as f:
                f.write("".join(json.dumps(d) + "\n" for d in lines))
            os.rename(cache + ".tmp", cache)
        return lines

    def quality_runs(self):
        """Every quality run: {(side, fn, sampler, batch): [best, ...]}."""
        a = self.args
        todo = []
        for fn in a.functions:
            for s in a.samplers:
                # CMA-ES on the mixed space: both sides draw what it does
                # not model (categoricals, conditional parameters) at
                # random; shown, though its target is on the others.
                todo.append(("hpo", fn, s, 1))
                todo.append(("optuna", fn, s, 1))
            todo += [("hpo", fn, "tpe", a.batch), ("optuna", fn, "tpe", a.batch),
                     ("optuna", fn, "tpe+liar", a.batch)]

        def one(key):
            side, fn, s, batch = key
            if side == "hpo":
                if s not in self.hpo_samplers:
                    return key, None
                return key, self.run_lines(self.hpo_argv("quality", fn, s,
                                                         batch))
            argv = self.optuna_argv("quality", fn, s.split("+")[0], batch,
                                    liar=s.endswith("+liar"))
            return key, self.run_lines(argv, self.cache_path(argv))

        from concurrent.futures import ThreadPoolExecutor
        out = {}
        with ThreadPoolExecutor(max_workers=a.jobs) as pool:
            for key, lines in pool.map(one, todo):
                log("%s %s %s batch %d: %s" % (
                    key + (("%d runs" % len(lines)) if lines else "n/a",)))
                out[key] = None if lines is None else [
                    d["best"] for d in lines if d.get("best") is not None]
                bad = sum(d.get("violations", 0) for d in lines or [])
                if bad:
                    self.failures.append("%s %s %s: %d suggestions broke "
                                         "the space" % (key[0], key[1],
                                                        key[2], bad))
        return out

    def speed_runs(self):
        """hpo's TPE, then Optuna's, each alone on the machine."""
        res = {}
        for side in ("hpo", "optuna"):
            if side == "hpo" and "tpe" not in self.hpo_samplers:
                continue
            argv = (self.hpo_argv if side == "hpo" else self.optuna_argv)(
                "speed", self.args.speed_function, "tpe")
            log("speed: %s" % side)
            lines = self.run_lines(argv)
            for d in lines or []:
                res[(side, d["finished"])] = d
        return res

    # -- the tables --

    def quality_table(self, q):
        a = self.args
        rows = []
        for fn in a.functions:
            for s in a.samplers:
                if ("optuna", fn, s, 1) not in q:
                    continue
                h, o = q.get(("hpo", fn, s, 1)), q[("optuna", fn, s, 1)]
                cmp = "–"
                if h and o:
                    d = med(h) - med(o)
                    cmp = "%s (%s)" % ("hpo better" if d < 0 else "equal"
                                       if d == 0 else "Optuna better",
                                       fmt_p(h, o))
                rows.append(["%s (min %s)" % (fn, fmt_value(
                    self.functions[fn]["minimum"])), s, fmt_quartiles(h or []),
                    fmt_quartiles(o or []), cmp])
        return table(["function", "sampler", "hpo: median (q1 – q3)",
                      "Optuna: median (q1 – q3)", "medians (rank-sum p)"],
                     rows)

    def parallel_table(self, q):
        a = self.args
        rows = []
        for fn in a.functions:
            cells = [q.get(k) for k in (
                ("hpo", fn, "tpe", 1), ("hpo", fn, "tpe", a.batch),
                ("optuna", fn, "tpe", 1), ("optuna", fn, "tpe", a.batch),
                ("optuna", fn, "tpe+liar", a.batch))]
            meds = [med(c) if c else None for c in cells]
            loss = [None if None in (meds[i], meds[j]) else meds[j] - meds[i]
                    for i, j in ((0, 1), (2, 3), (2, 4))]
            rows.append([fn] + [fmt_value(m) for m in meds] +
                        [fmt_delta(x) for x in loss])
        return table(["function", "hpo TPE, 1 at a time",
                      "hpo TPE, %d pending (liar)" % a.batch,
                      "Optuna TPE, 1 at a time",
                      "Optuna TPE, %d pending" % a.batch,
                      "Optuna TPE, %d pending, constant_liar" % a.batch,
                      "hpo loss", "Optuna loss", "Optuna loss, liar"], rows)

    def speed_table(self, sp):
        rows = []
        for n in [int(w) for w in self.args.speed_finished.split(",")]:
            h, o = sp.get(("hpo", n)), sp.get(("optuna", n))
            hm = h["median_ms"] if h else None
            om = o["median_ms"] if o else None
            rows.append([fmt(n), "%.3f" % hm if h else "n/a",
                         "%.1f" % om if o else "n/a",
                         "%s×" % fmt(om / hm) if h and o and hm > 0 else "–"])
        return table(["finished trials", "hpo TPE ms", "Optuna TPE ms",
                      "Optuna ÷ hpo"], rows)

    def targets(self, q, sp):
        a = self.args
        out = []

        def cmp_all(s, fns):
            bad = []
            for fn in fns:
                h, o = q.get(("hpo", fn, s, 1)), q.get(("optuna", fn, s, 1))
                if not h or not o:
                    bad.append("%s: no result" % fn)
                elif med(h) > med(o):
                    bad.append("%s: %s vs %s, %s" % (
                        fn, fmt_value(med(h)), fmt_value(med(o)),
                        fmt_p(h, o)))
            return bad

        cont = [fn for fn in a.functions if self.functions[fn]["continuous"]]
        for s, fns, what in (("tpe", a.functions, "every function"),
                             ("cmaes", cont, "every continuous function")):
            if s not in a.samplers:
                continue
            bad = cmp_all(s, fns)
            out.append("- hpo's %s at least as good as Optuna's (median "
                       "best) on %s: %s%s" % (s, what, met(not bad),
                                              "; short on " + ", ".join(bad)
                                              if bad else ""))
        out += self.beats_random(q)
        out += self.speed_target(sp)
        out += self.parallel_target(q)
        return "\n".join(out)

    def beats_random(self, q):
        a = self.args
        bad, checked = [], 0
        for s in a.samplers:
            for fn in a.functions if s != "random" else []:
                o, orand = q.get(("optuna", fn, s, 1)), q.get(
                    ("optuna", fn, "random", 1))
                if not o or not orand or med(o) >= med(orand):
                    continue  # Optuna's does not beat random here
                checked += 1
                h, hrand = q.get(("hpo", fn, s, 1)), q.get(
                    ("hpo", fn, "random", 1))
                if not h or not hrand or med(h) >= med(hrand):
                    bad.append("%s on %s (%s vs random %s)" % (
                        s, fn, fmt_value(med(h)) if h else "n/a",
                        fmt_value(med(hrand)) if hrand else "n/a"))
        return ["- each hpo sampler beats random where Optuna's counterpart "
                "does (%d cases): %s%s" % (checked, met(not bad),
                                           "; not on " + ", ".join(bad)
                                           if bad else "")]

    def speed_target(self, sp):
        n = max(int(w) for w in self.args.speed_finished.split(","))
        h, o = sp.get(("hpo", n)), sp.get(("optuna", n))
        if not h or not o:
            return ["- one TPE suggestion at %s trials under 3 ms and 100× "
                    "faster than Optuna: **not measured**" % fmt(n)]
        ratio = o["median_ms"] / h["median_ms"] if h["median_ms"] else 0
        return ["- one TPE suggestion at %s trials under 3 ms: %s (%.3f ms); "
                "at least 100× faster than Optuna's: %s (%s×, Optuna %.0f ms)"
                % (fmt(n), met(h["median_ms"] < 3), h["median_ms"],
                   met(ratio >= 100), fmt(ratio), o["median_ms"])]

    def parallel_target(self, q):
        a = self.args
        bad = []
        for fn in a.functions:
            k = [q.get(x) for x in (("hpo", fn, "tpe", 1),
                                    ("hpo", fn, "tpe", a.batch),
                                    ("optuna", fn, "tpe", 1),
                                    ("optuna", fn, "tpe", a.batch))]
            if not all(k):
                bad.append("%s: no result" % fn)
                continue
            hl, ol = med(k[1]) - med(k[0]), med(k[3]) - med(k[2])
            if hl >= ol:
                bad.append("%s: hpo loses %s, Optuna %s"
                           % (fn, fmt_delta(hl), fmt_delta(ol)))
        return ["- with %d trials pending, hpo's TPE loses less than Optuna's "
                "(median best, %d pending minus 1 at a time): %s%s"
                % (a.batch, a.batch, met(not bad),
                   "; not on " + "; ".join(bad) if bad else "")]

    def report(self):
        a = self.args
        t0 = time.monotonic()
        q = self.quality_runs()
        sp = self.speed_runs()
        subst = {self.bins.dir + "/": "build/", ROOT + "/": "",
                 self.lib: "build/libhpo-bench-fn.so"}
        cmds = ["# quality: every function F and sampler S",
                shown(self.hpo_argv("quality", "F", "S"), subst),
                shown(self.optuna_argv("quality", "F", "S"), subst),
                "# parallel: TPE with %d pending" % a.batch,
                shown(self.hpo_argv("quality", "F", "tpe", a.batch), subst),
                shown(self.optuna_argv("quality", "F", "tpe", a.batch),
                      subst),
                shown(self.optuna_argv("quality", "F", "tpe", a.batch, True),
                      subst),
                "# speed",
                shown(self.hpo_argv("speed", a.speed_function, "tpe"), subst),
                shown(self.optuna_argv("speed", a.speed_function, "tpe"),
                      subst)]
        missing = [s for s in a.samplers if s not in self.hpo_samplers]
        out = [
            "## Search quality vs Optuna", "",
            "The best value found in %d trials, minimising, over %d seeds "
            "(1 .. %d): median and quartiles. Same functions (one C "
            "definition, bench/samplers_fn.c), spaces and budgets on both "
            "sides; Optuna %s with default settings and a seed, "
            "in-process, in memory. n/a: hpo has no such sampler%s. The "
            "last column compares the medians; p is the two-sided "
            "rank-sum (Mann-Whitney) test of the two sets of %d: above "
            "0.05, the difference is within the noise of this many seeds."
            % (a.trials, a.seeds, a.seeds, optuna_version(),
               " (%s)" % ", ".join(missing) if missing else "", a.seeds), "",
            self.quality_table(q), "",
            "### With %d trials pending" % a.batch, "",
            "TPE asked for %d trials before any is told, then told them "
            "together, and again: %d workers on one study. hpo's liar "
            "counts every pending trial; Optuna's default TPESampler does "
            "not see running trials (what %d workers on one study get); "
            "constant_liar=True is shown as a note. Median best value; loss "
            "= %d pending minus 1 at a time (lower is better)."
            % (a.batch, a.batch, a.batch, a.batch), "",
            self.parallel_table(q), "",
            "### Speed of one TPE suggestion", "",
            "%s's 4 floats; the history filled with random finished trials "
            "(untimed), then %d suggestions timed at each size, median. "
            "Optuna: study.ask() and the 4 suggest_float calls, which run "
            "TPESampler.sample_independent. Same run, one after the other."
            % (a.speed_function, a.speed_repeat), "",
            self.speed_table(sp), "",
            "### Targets of issue #7", "",
            self.targets(q, sp), "",
            commands_block(cmds)]
        if self.failures:
            out += ["", "Failed or refused runs (n/a above):", ""]
            out += ["- " + f.replace("\n", " / ") for f in self.failures]
        out += ["", "Took %.0f s." % (time.monotonic() - t0)]
        return "\n".join(out)


def optuna_version():
    r = subprocess.run([PYTHON, "-c", "import optuna; print(optuna.__version__)"],
                       capture_output=True, text=True, timeout=120)
    return r.stdout.strip() or "?"


def samplers_header(bench):
    def sh(cmd):
        return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                              cwd=ROOT, timeout=30).stdout.strip()
    dirty = sh("git status --porcelain -- search common bench")
    return ("# hpo sampler benchmark\n\n"
            "- date: %s\n- machine: %s, %d cores, load average at start %s\n"
            "- commit: %s%s\n- binaries: %s (built %s), copied before the "
            "run\n" % (time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                       platform.node(), os.cpu_count(),
                       " ".join(open("/proc/loadavg").read().split()[:3]),
                       sh("git rev-parse --short HEAD"),
                       " (search/, common/ or bench/ differ from it: "
                       "uncommitted changes)" if dirty else "",
                       bench.args.build, bench.bins.built))


def samplers_main(args):
    """bench/run.py samplers: prints the tables and writes them to
    --out."""
    try:
        bench = SamplerBench(args)
    except BenchError as e:
        print("run.py: %s" % e, file=sys.stderr)
        return 1
    try:
        text = samplers_header(bench) + "\n" + bench.report() + "\n"
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        bench.cleanup()
    print(text, flush=True)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(text)
        log("wrote %s" % args.out)
    return 0


def header(bench):
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True,
                                  text=True, cwd=ROOT,
                                  timeout=30).stdout.strip()
        except Exception:
            return "?"
    dirty = sh("git status --porcelain -- coordinator common proto")
    return ("# hpo benchmarks\n\n"
            "- date: %s\n- machine: %s, %d cores, %s, %s\n"
            "- load average at start: %s\n- commit: %s%s\n"
            "- binaries: %s (built %s), copied before the run\n"
            "- repeats: %d (median, min–max)\n"
            % (time.strftime("%Y-%m-%d %H:%M:%S %Z"), platform.node(),
               os.cpu_count(), sh(". /etc/os-release; echo $PRETTY_NAME"),
               platform.release(), " ".join(sh("cat /proc/loadavg")
                                            .split()[:3]),
               sh("git rev-parse --short HEAD"),
               " (coordinator/common/proto differ from it: uncommitted "
               "changes)" if dirty else "",
               bench.args.build, bench.bins.built, bench.args.repeat))


def main():
    ap = argparse.ArgumentParser(
        description="hpo benchmarks (issues #3 and #7); prints markdown "
        "tables",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("what", choices=["throughput", "reports", "workers",
                                     "growth",
                                     "startup", "all", "samplers",
                                     "dashboard"])
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs per configuration; tables show the median")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"),
                    help="where the binaries are")
    ap.add_argument("--hpo-trials", type=int, default=50000,
                    help="trials per hpo run with 16 or more sessions")
    ap.add_argument("--hpo-trials-single", type=int, default=5000,
                    help="trials per hpo run with 1 session")
    ap.add_argument("--normal-sessions", type=int, default=16,
                    help="sessions for the --sync normal row")
    ap.add_argument("--optuna-journal-trials", type=int, default=2000)
    ap.add_argument("--optuna-sqlite-trials", type=int, default=300)
    ap.add_argument("--sessions", type=int, default=2000,
                    help="workers: sessions")
    ap.add_argument("--duration", type=float, default=30,
                    help="workers: seconds to hold the leases")
    ap.add_argument("--probe-sessions", type=int, default=20,
                    help="workers: sessions of the probe load generator")
    ap.add_argument("--heartbeat-ms", type=int, default=1000)
    ap.add_argument("--lease-ms", type=int, default=10000)
    ap.add_argument("--coordinator-nofile", type=int, default=None,
                    help="workers: start the coordinator with this soft "
                    "RLIMIT_NOFILE (default: inherit)")
    ap.add_argument("--big-trials", type=int, default=100000)
    ap.add_argument("--big-values", type=int, default=10000000)
    ap.add_argument("--growth-sessions", type=int, default=16)
    ap.add_argument("--dash-trials", type=int, default=100000,
                    help="dashboard: trials of the study the client follows")
    ap.add_argument("--dash-sessions", type=int, default=16,
                    help="dashboard: load generator sessions")
    ap.add_argument("--reports-duration", type=float, default=10,
                    help="reports: seconds each hpo run measures")
    ap.add_argument("--reports-steps", type=int, default=100,
                    help="reports: steps per trial")
    ap.add_argument("--optuna-reports-journal-trials", type=int, default=60)
    ap.add_argument("--optuna-reports-sqlite-trials", type=int, default=20)
    ap.add_argument("--cache", default=None,
                    help="directory to keep the large database (and, for "
                    "samplers, Optuna's quality results) in between runs "
                    "(default: this run's temporary directory)")
    ap.add_argument("--load-timeout", type=int, default=300,
                    help="seconds one load run may take")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory")
    ap.add_argument("--keys", action="store_true",
                    help="hpo's throughput with CURVE keys on (issue #13): "
                    "the coordinator admits one key that the load "
                    "generator's sessions share")
    g = ap.add_argument_group("samplers (issue #7)")
    g.add_argument("--seeds", type=int, default=20,
                   help="seeds per function and sampler")
    g.add_argument("--trials", type=int, default=100,
                   help="trials per run")
    g.add_argument("--batch", type=int, default=16,
                   help="trials pending at once in the parallel table")
    g.add_argument("--functions", default=",".join(SAMPLER_FUNCTIONS))
    g.add_argument("--samplers", default=",".join(SAMPLER_KINDS))
    g.add_argument("--jobs", type=int, default=2,
                   help="quality runs at once (they are not timed)")
    g.add_argument("--speed-function", default="sphere4")
    g.add_argument("--speed-finished", default="100,1000,10000",
                   help="history sizes at which a suggestion is timed")
    g.add_argument("--speed-repeat", type=int, default=9,
                   help="suggestions timed per size (median)")
    g.add_argument("--run-timeout", type=int, default=1800,
                   help="seconds one side's run may take")
    g.add_argument("--out", default=os.path.join(ROOT, "bench", "results",
                                                 "samplers.md"),
                   help="where the tables are written too ('' for nowhere)")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    if args.what == "samplers":
        args.functions = args.functions.split(",")
        args.samplers = args.samplers.split(",")
        if min(args.seeds, args.trials, args.batch, args.jobs,
               args.speed_repeat) < 1:
            ap.error("--seeds, --trials, --batch, --jobs and --speed-repeat "
                     "must be positive")
        return samplers_main(args)

    try:
        bench = Bench(args)
    except BenchError as e:
        print("run.py: %s" % e, file=sys.stderr)
        return 1
    try:
        print(header(bench), flush=True)
        todo = (["throughput", "reports", "workers", "growth", "startup"]
                if args.what == "all" else [args.what])
        for what in todo:
            print(getattr(bench, what)() + "\n", flush=True)
        if bench.failures:
            print("## Failed runs (left out of the medians)\n")
            for f in bench.failures:
                print("- " + f.replace("\n", " / "))
        print("Finished; load average at end: %s" % " ".join(
            open("/proc/loadavg").read().split()[:3]))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        bench.cleanup()
    return 1 if bench.failures else 0


if __name__ == "__main__":
    sys.exit(main())
