"""What the worker promises whatever happens to it: no process of a trial
outlives it, even when its whole process group is killed with SIGKILL
(systemctl kill, Slurm, a terminal's Ctrl-\\); a bad --name is a usage
error, not a worker that retries for ever."""
import os
import signal
import subprocess
import time
import unittest

from harness import Cluster, study_yaml, wait_for, alive, test_ok, exe


def shims_of(state_dir):
    """Pids of hpo-shim processes forked by the worker using state_dir
    (a shim is a fork of the worker: it keeps the worker's command line)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % entry) as f:
                if f.read().strip() != "hpo-shim":
                    continue
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                if state_dir.encode() not in f.read():
                    continue
        except OSError:
            continue
        if alive(int(entry)):
            out.append(int(entry))
    return out


class WorkerPromisesTest(unittest.TestCase):
    def setUp(self):
        self.c = Cluster(heartbeat_ms=200, lease_ms=1500)
        self.c.start_coordinator()

    def tearDown(self):
        if not test_ok(self):
            self.c.dump_logs()
        # Whatever a failed run left behind.
        for name in os.listdir(self.c.dir):
            if name.startswith(("escaped-", "grandchild-")) and \
                    not name.endswith(".tmp"):
                for line in open(os.path.join(self.c.dir, name)):
                    try:
                        os.kill(int(line), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass
        self.c.close()

    def _pids(self, prefix, lines):
        """Pids in the files named prefix-*, once each has its lines."""
        pids = []
        for name in os.listdir(self.c.dir):
            if name.startswith(prefix) and not name.endswith(".tmp"):
                got = [int(x) for x in open(os.path.join(self.c.dir, name))
                       .read().split()]
                if len(got) < lines:
                    return None
                pids += got
        return pids

    def test_group_sigkill_leaves_no_trial_process(self):
        c = self.c
        # The worker leads its own process group, as under systemd or
        # Slurm; setsid(1) execs, so the pid stays the worker's.
        w = c.start_worker("victim", slots=3, prefix=["setsid"])
        state_dir = os.path.join(c.dir, "state-victim")
        text = study_yaml("g", trials=3, retries=0,
                          args="--hang --spawn --escape --ignore-term")
        text = text.replace("trial: {retries: 0}",
                            "trial: {retries: 0, grace: 1s}")
        c.create_study(text)
        wait_for(lambda: len([r for r in c.runs() if r[3] == "start"]) == 3,
                 30, "three trials to start")
        escaped = wait_for(lambda: (lambda p: p if p and len(p) == 6 else
                                    None)(self._pids("escaped-", 2)),
                           20, "the escaped processes of three trials")
        children = wait_for(lambda: (lambda p: p if p and len(p) == 3 else
                                     None)(self._pids("grandchild-", 1)),
                            20, "the grandchildren of three trials")
        programs = [pid for _, _, pid, ev in c.runs() if ev == "start"]
        victims = programs + children + escaped
        for pid in victims:
            self.assertTrue(alive(pid), pid)
        self.assertEqual(os.getpgid(w.pid), w.pid)
        self.assertEqual(len(shims_of(state_dir)), 3)

        os.killpg(w.pid, signal.SIGKILL)
        w.wait(timeout=10)
        # The programs ignore SIGTERM: their grace (1 s) runs out, then
        # everything of theirs goes, escaped or not.
        for pid in victims:
            wait_for(lambda: not alive(pid), 15,
                     "trial process %d to die with its worker" % pid)
        wait_for(lambda: not shims_of(state_dir), 10,
                 "the shims to exit")

    def test_fast_reports_all_stored(self):
        # Issue #10, item 1: 5,000 reports at once, then the objective. The
        # worker's send queue holds 1,000: the rest must still arrive, and
        # before the Finish, so every step is stored.
        c = self.c
        c.start_worker("w1", slots=2)
        c.create_study(study_yaml("fast", trials=2, retries=0,
                                  args="--steps 5000 --burst"))
        s = c.wait_study_done("fast", timeout=120)
        self.assertEqual(s["counts"]["COMPLETE"], 2, s)
        for n in range(2):
            show = c.cli_json("trial", "show", "fast", str(n))
            steps = sorted(v["step"] for v in show["intermediate"]
                           if v["metric"] == "loss")
            self.assertEqual(len(steps), 5000,
                             "trial %d: %d steps stored" % (n, len(steps)))
            self.assertEqual(steps, list(range(5000)))

    def test_bad_name_is_a_usage_error(self):
        for name, why in (("x" * 300, "at most 255 bytes"),
                          ("tab\there", "control characters"),
                          ("", "empty")):
            r = subprocess.run([exe("hpo-worker"), "--coordinator",
                                self.c.endpoint, "--name", name,
                                "--state-dir",
                                os.path.join(self.c.dir, "state-bad")],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("--name", r.stderr)
            self.assertIn(why, r.stderr)
        # 255 bytes is fine: the coordinator takes it.
        name = "n" * 255
        c = self.c
        # Not through start_worker: the harness names files after workers.
        with open(os.path.join(c.dir, "worker-long.log"), "ab") as log:
            w = subprocess.Popen([exe("hpo-worker"), "--coordinator",
                                  c.endpoint, "--name", name, "--state-dir",
                                  os.path.join(c.dir, "state-long")],
                                 stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, cwd=c.dir)
        c.workers["long"] = w
        wait_for(lambda: any(w["name"] == name for w in
                             c.cli_json("workers")["workers"]), 15,
                 "the worker with a 255-byte name to join")

    def test_bad_coordinator_endpoint_is_a_usage_error(self):
        # Before, a malformed endpoint was taken without a word and the
        # worker retried its Hello for ever.
        for endpoint, why in (("tcp://127.0.0.1:99999", "port 99999"),
                              ("udp://127.0.0.1:5555", "unknown transport"),
                              ("tcp://127.0.0.1", "port")):
            t0 = time.monotonic()
            r = subprocess.run([exe("hpo-worker"), "--coordinator", endpoint,
                                "--state-dir",
                                os.path.join(self.c.dir, "state-bad")],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("bad endpoint", r.stderr)
            self.assertIn(why, r.stderr)
            self.assertLess(time.monotonic() - t0, 5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
