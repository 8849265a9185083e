"""deploy/slurm/hpo-workers.sbatch under a real Slurm.

A private one-node Slurm (munged, slurmctld, slurmd) runs out of a temporary
directory, on ports the kernel picked, with its configuration passed through
SLURM_CONF (see /work/shared/CLUSTER-TESTING.md for the facts it relies on).
The batch script is submitted with sbatch against a coordinator on loopback:
the study must finish on the Slurm-started worker, the worker must be named
and sized as the script says, and scancel must take it down with nothing left
behind. Needs root; exits 77 (skipped) without root or without the Slurm and
munge binaries.
"""
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from harness import run_or_skip, Cluster, study_yaml, wait_for, exe, test_ok, alive, SRC

SCRIPT = os.path.abspath(os.path.join(SRC, "deploy", "slurm",
                                      "hpo-workers.sbatch"))
PREFIX = "hpo-slurm-e2e-"
BINARIES = ["munged", "mungekey", "munge", "slurmctld", "slurmd", "sbatch",
            "squeue", "scancel", "scontrol", "sinfo", "srun"]
SBIN_PATH = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"


def _which(name):
    return shutil.which(name, path=SBIN_PATH)


def _why_not():
    if os.geteuid() != 0:
        return "needs root (munged runs as user munge, slurmd as root)"
    missing = [b for b in BINARIES if not _which(b)]
    if missing:
        return ("missing %s (apt-get install --no-install-recommends "
                "slurmctld slurmd slurm-client munge)" % " ".join(missing))
    try:
        import pwd
        pwd.getpwnam("munge")
    except KeyError:
        return "no user munge"
    for b in ("hpo-coordinator", "hpo-worker", "hpo"):
        if not os.access(exe(b), os.X_OK):
            return "%s is not built" % exe(b)
    return None


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _proc_text(pid, what):
    """/proc/PID/WHAT (cmdline, environ) with NULs as spaces; "" once gone."""
    try:
        with open("/proc/%d/%s" % (pid, what), "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _mentions(pid, marker, env=False):
    return marker in _proc_text(pid, "cmdline") or (env and marker in _proc_text(pid, "environ"))


def _kill_pid(pid, marker, timeout=10, env=False):
    """Kills pid if its command line (or, with env, its environment) still
    mentions marker, so a reused pid is left alone; waits, bounded, for it
    to be gone."""
    if not alive(pid) or not _mentions(pid, marker, env):
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout / 2
        while time.monotonic() < deadline and alive(pid):
            time.sleep(0.05)
        if not alive(pid):
            return


def _pids_mentioning(marker, env=False):
    """Live processes whose command line (or, with env, environment)
    mentions marker."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != os.getpid() and alive(int(d)) \
                and _mentions(int(d), marker, env):
            out.append(int(d))
    return out


class Slurm:
    """A one-node Slurm of its own in a temporary directory named after this
    process's pid, so a later run can recognise and remove leftovers."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="%s%d-" % (PREFIX, os.getpid()))
        # munged (user munge) must reach its key, socket and log in here.
        os.chmod(self.dir, 0o755)
        self.procs = {}
        self.jobs = []
        self.env = dict(os.environ)
        self.env["SLURM_CONF"] = os.path.join(self.dir, "slurm.conf")
        self.env["PATH"] = SBIN_PATH
        for k in list(self.env):
            if k.startswith("SLURM_") and k != "SLURM_CONF":
                del self.env[k]

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def _spawn(self, name, args, env=None):
        log = open(self.path(name + ".out"), "ab")
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT, env=env or self.env,
                             cwd=self.dir, start_new_session=True)
        log.close()
        self.procs[name] = p
        with open(self.path(name + ".pid-e2e"), "w") as f:
            f.write("%d\n" % p.pid)
        return p

    def run(self, *args, check=True, timeout=20, env=None):
        r = subprocess.run(list(args), capture_output=True, text=True,
                           env=env or self.env, timeout=timeout, cwd=self.dir)
        if check and r.returncode != 0:
            raise AssertionError("%s failed (%d): %s%s" % (
                " ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def start(self):
        self._start_munge()
        self._write_conf()
        self._spawn("slurmctld", [_which("slurmctld"), "-D", "-c",
                                  "-f", self.env["SLURM_CONF"]])
        wait_for(lambda: self._check_alive("slurmctld") and "UP" in self.run(
            "scontrol", "ping", check=False, timeout=10).stdout,
            20, "slurmctld to answer scontrol ping", interval=0.2)
        self._spawn("slurmd", [_which("slurmd"), "-D", "-N", "localhost",
                               "-f", self.env["SLURM_CONF"]])
        wait_for(lambda: self._check_alive("slurmd") and "idle" in self.run(
            "sinfo", "-h", "-o", "%t", check=False, timeout=10).stdout,
            20, "the node to be idle", interval=0.2)

    def _check_alive(self, name):
        p = self.procs[name]
        if p.poll() is not None:
            raise AssertionError("%s exited with %d" % (name, p.returncode))
        return True

    def _start_munge(self):
        import pwd
        pw = pwd.getpwnam("munge")
        mdir = self.path("munge")
        os.mkdir(mdir, 0o755)
        os.chown(mdir, pw.pw_uid, pw.pw_gid)
        key = os.path.join(mdir, "munge.key")
        if os.path.exists("/etc/munge/munge.key"):
            shutil.copyfile("/etc/munge/munge.key", key)
        else:
            self.run(_which("mungekey"), "--create", "--keyfile", key)
        os.chmod(key, 0o600)
        os.chown(key, pw.pw_uid, pw.pw_gid)
        self.munge_socket = os.path.join(mdir, "munge.socket")
        # runuser: munged refuses to run as root.
        self._spawn("munged", [
            _which("runuser"), "-u", "munge", "--", _which("munged"),
            "--foreground", "--socket", self.munge_socket,
            "--key-file", key, "--pid-file", os.path.join(mdir, "munged.pid"),
            "--seed-file", os.path.join(mdir, "munged.seed"),
            "--log-file", os.path.join(mdir, "munged.log")])
        ok = lambda: self._check_alive("munged") and subprocess.run(
            "%s -n -S %s | %s -S %s" % (_which("munge"), self.munge_socket,
                                        _which("unmunge"), self.munge_socket),
            shell=True, capture_output=True, timeout=10).returncode == 0
        wait_for(ok, 10, "munge -n | unmunge", interval=0.1)

    def _write_conf(self):
        for d in ("state", "spool"):
            os.mkdir(self.path(d), 0o755)
        conf = """\
ClusterName=hpoe2e
SlurmctldHost=localhost
SlurmctldPort=%(ctld)d
SlurmdPort=%(slurmd)d
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=%(sock)s
StateSaveLocation=%(dir)s/state
SlurmdSpoolDir=%(dir)s/spool
SlurmctldPidFile=%(dir)s/slurmctld.pid
SlurmdPidFile=%(dir)s/slurmd.pid
SlurmctldLogFile=%(dir)s/slurmctld.log
SlurmdLogFile=%(dir)s/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=%(dir)s/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
KillWait=5
NodeName=localhost NodeAddr=127.0.0.1 CPUs=4 RealMemory=1000
SlurmdParameters=config_overrides
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
""" % {"ctld": _free_port(), "slurmd": _free_port(),
            "sock": self.munge_socket, "dir": self.dir}
        with open(self.env["SLURM_CONF"], "w") as f:
            f.write(conf)

    def sbatch(self, *args, env):
        r = self.run("sbatch", "--parsable", *args, env=env)
        job = r.stdout.strip().split(";")[0]
        self.jobs.append(job)
        return job

    def job_state(self, job):
        r = self.run("squeue", "-h", "-j", job, "-o", "%T", check=False)
        return r.stdout.strip()

    def close(self):
        for job in self.jobs:
            try:
                self.run("scancel", job, check=False, timeout=10)
            except Exception:
                pass
        # Job steps outlive slurmd if it goes first: give them a moment.
        if self.jobs:
            try:
                wait_for(lambda: not any(self.job_state(j)
                                         for j in self.jobs), 10,
                         "the jobs to end", interval=0.2)
            except Exception:
                pass
        for name in ("slurmd", "slurmctld", "munged"):
            p = self.procs.get(name)
            if p and p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait(timeout=10)
        # Whatever still names this directory goes: slurmstepd, job scripts
        # and what they started carry SLURM_CONF in their environment.
        for pid in _pids_mentioning(self.dir, env=True):
            _kill_pid(pid, self.dir, env=True)
        if os.environ.get("HPO_KEEP"):
            print("kept", self.dir, file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def dump_logs(self):
        for name in sorted(glob.glob(self.path("*.log")) +
                           glob.glob(self.path("*.out")) +
                           glob.glob(self.path("munge", "*.log"))):
            sys.stderr.write("---- %s ----\n" % name)
            with open(name, errors="replace") as f:
                sys.stderr.write(f.read()[-4000:])


def _clean_leftovers():
    """Removes what an aborted run of this test left: its directory is named
    after its pid, and its daemons' command lines or environments (job
    steps: SLURM_CONF) name the directory."""
    for d in glob.glob(os.path.join(tempfile.gettempdir(), PREFIX + "*")):
        try:
            pid = int(os.path.basename(d)[len(PREFIX):].split("-")[0])
        except ValueError:
            continue
        if pid == os.getpid() or alive(pid):
            continue
        # The run's coordinator lived in the Cluster directory it noted.
        try:
            with open(os.path.join(d, "cluster-dir")) as f:
                cdir = f.read().strip()
        except OSError:
            cdir = None
        if cdir and os.path.basename(cdir).startswith("hpo-e2e-"):
            for p in _pids_mentioning(cdir):
                _kill_pid(p, cdir)
            shutil.rmtree(cdir, ignore_errors=True)
        for p in _pids_mentioning(d, env=True):
            _kill_pid(p, d, env=True)
        shutil.rmtree(d, ignore_errors=True)


_live = []


def _teardown_all():
    while _live:
        try:
            _live.pop().close()
        except Exception as e:
            sys.stderr.write("teardown: %s\n" % e)


def worker_pids(job):
    """hpo-worker processes started by the job (their --name says so)."""
    return [p for p in _pids_mentioning("slurm-%s-" % job)
            if "hpo-worker" in _proc_text(p, "cmdline")]


class SlurmTest(unittest.TestCase):
    def setUp(self):
        _clean_leftovers()
        self.s = Slurm()
        _live.append(self.s)
        self.c = Cluster()
        _live.append(self.c)
        with open(self.s.path("cluster-dir"), "w") as f:
            f.write(self.c.dir + "\n")
        try:
            self.s.start()
            self.c.start_coordinator()
        except BaseException:
            # tearDown does not run when setUp fails.
            self.s.dump_logs()
            self.c.dump_logs()
            raise

    def tearDown(self):
        if not test_ok(self):
            self.s.dump_logs()
            self.c.dump_logs()
            for out in glob.glob(os.path.join(self.c.dir, "job-*.out")):
                sys.stderr.write("---- %s ----\n" % out)
                with open(out, errors="replace") as f:
                    sys.stderr.write(f.read()[-4000:])
        # Slurm first: its jobs hold workers connected to the coordinator.
        _live.remove(self.s)
        self.s.close()
        _live.remove(self.c)
        self.c.close()

    def test_sbatch_script_runs_a_worker(self):
        s, c = self.s, self.c
        c.create_study(study_yaml("slurm", trials=6))
        env = dict(s.env)
        env["HPO_COORDINATOR"] = c.endpoint
        env["HPO_TEST_DIR"] = c.dir     # the trainer's runs.log
        env["PATH"] = os.path.abspath(exe("")) + ":" + env["PATH"]
        env["TMPDIR"] = c.dir           # the script's default state dir
        job = s.sbatch("--nodes=1", "--cpus-per-task=2",
                       "--chdir", c.dir,
                       "--output", os.path.join(c.dir, "job-%j.out"),
                       SCRIPT, env=env)
        st = c.wait_study_done("slurm", timeout=60)
        self.assertEqual(st["state"], "FINISHED")
        self.assertEqual(st["counts"]["COMPLETE"], 6)
        trials = c.trials("slurm")
        self.assertEqual(len(trials), 6)
        host = socket.gethostname().split(".")[0]
        name = "slurm-%s-%s" % (job, host)
        for t in trials:
            self.assertEqual(t["state"], "COMPLETE")
            self.assertEqual(t["worker"], name)
        workers = c.cli_json("workers")["workers"]
        self.assertEqual([(w["name"], w["slots"]) for w in workers],
                         [(name, 2)])
        self.assertTrue(workers[0]["alive"])
        self.assertEqual(s.job_state(job), "RUNNING")
        pids = worker_pids(job)
        self.assertEqual(len(pids), 1, pids)
        self.assertEqual(workers[0]["pid"], pids[0])
        # The script's default state directory, per host.
        self.assertTrue(os.path.isdir(os.path.join(
            c.dir, "hpo-worker-%s" % job, host)))

        # scancel: the job ends, the worker exits, nothing is left.
        s.run("scancel", job)
        wait_for(lambda: not s.job_state(job), 30, "job %s to end" % job,
                 interval=0.2)
        wait_for(lambda: not worker_pids(job), 15,
                 "the job's hpo-worker to exit")
        wait_for(lambda: not any(w["alive"] for w in
                                 c.cli_json("workers")["workers"]),
                 15, "the coordinator to see the worker gone", interval=0.2)
        for _, _, pid, _ in c.runs():
            self.assertFalse(alive(pid), "trial process %d outlived the job"
                             % pid)
        self.assertEqual(_pids_mentioning("slurm-%s-" % job), [])

        # Without HPO_COORDINATOR the script stops at once and says why.
        del env["HPO_COORDINATOR"]
        job2 = s.sbatch("--nodes=1", "--chdir", c.dir,
                        "--output", os.path.join(c.dir, "job-%j.out"),
                        SCRIPT, env=env)
        wait_for(lambda: not s.job_state(job2), 30, "job %s to end" % job2,
                 interval=0.2)
        with open(os.path.join(c.dir, "job-%s.out" % job2)) as f:
            out = f.read()
        self.assertIn("set HPO_COORDINATOR", out)
        self.assertNotIn("unexpected EOF", out)
        self.assertEqual(len(c.cli_json("workers")["workers"]), 1)
        # A sanitizer build (HPO_BIN=build-asan) reports into the job's
        # output: the worker must have stopped cleanly.
        with open(os.path.join(c.dir, "job-%s.out" % job)) as f:
            out = f.read()
        for bad in ("Sanitizer", "runtime error:"):
            self.assertNotIn(bad, out)


if __name__ == "__main__":
    run_or_skip("test_slurm", _why_not, _teardown_all)
