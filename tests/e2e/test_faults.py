"""Faults: dead, frozen and restarted processes, timeouts, garbage on the
port. Nothing acknowledged is lost, no attempt counts twice, no training
process outlives its worker."""
import os
import signal
import socket
import subprocess
import time
import unittest

from harness import ClusterTest, study_yaml, wait_for, alive


def attempts_ok(test, c, name, budget):
    """Every trial finished once; attempts are numbered 1..n with at most
    one COMPLETE, and it is the last."""
    s = c.study(name)
    test.assertEqual(s["counts"]["COMPLETE"] + s["counts"]["FAILED"]
                     + s["counts"]["PRUNED"], budget)
    for t in c.trials(name):
        show = c.cli_json("trial", "show", name, str(t["number"]))
        nums = [a["attempt"] for a in show["attempts"]]
        test.assertEqual(nums, list(range(1, len(nums) + 1)), show)
        outcomes = [a["outcome"] for a in show["attempts"]]
        test.assertLessEqual(outcomes.count("COMPLETE"), 1, show)
        if "COMPLETE" in outcomes:
            test.assertEqual(outcomes[-1], "COMPLETE", show)
            test.assertEqual(show["attempt"], len(nums))
    return s


class FaultTest(ClusterTest):

    def _running_on(self, name, worker):
        return [t for t in self.c.cli_json("trials", name, "--state",
                                           "RUNNING")["trials"]
                if t["worker"] == worker]

    def test_worker_sigkill_mid_trial(self):
        c = self.c
        c.start_worker("victim", slots=2)
        c.create_study(study_yaml("k", trials=6, retries=2,
                                  args="--sleep 0.5 --steps 6 --spawn"))
        wait_for(lambda: len(self._running_on("k", "victim")) == 2, 20,
                 "two trials on the victim")
        time.sleep(0.5)
        victims = {(t, a, pid) for t, a, pid, ev in c.runs()
                   if ev == "start"}
        grandchildren = []
        for name in os.listdir(c.dir):
            if name.startswith("grandchild-"):
                grandchildren.append(int(open(os.path.join(c.dir, name))
                                         .read()))
        c.kill_worker("victim", signal.SIGKILL)
        # Its training processes and their children die with it.
        for _, _, pid in victims:
            wait_for(lambda: not alive(pid), 15,
                     "trial process %d to die with its worker" % pid)
        for pid in grandchildren:
            wait_for(lambda: not alive(pid), 15,
                     "grandchild %d to die with its worker" % pid)
        c.start_worker("rescuer", slots=2)
        s = c.wait_study_done("k", timeout=90)
        self.assertEqual(s["counts"]["COMPLETE"], 6)
        attempts_ok(self, c, "k", 6)
        lost = 0
        for t in c.trials("k"):
            show = c.cli_json("trial", "show", "k", str(t["number"]))
            lost += sum(a["outcome"] == "LOST" for a in show["attempts"])
        self.assertEqual(lost, len(victims))

    def test_worker_sigstop_then_continue(self):
        c = self.c
        c.start_worker("frozen", slots=1)
        c.create_study(study_yaml("f", trials=3, retries=2,
                                  args="--sleep 0.4 --steps 5"))
        t = wait_for(lambda: self._running_on("f", "frozen"), 20,
                     "a trial on the frozen worker")[0]
        c.kill_worker("frozen", signal.SIGSTOP)
        c.start_worker("other", slots=1)
        # The lease runs out; the trial is handed to the other worker as
        # attempt 2.
        wait_for(lambda: any(a["attempt"] == 2 for a in c.cli_json(
            "trial", "show", "f", str(t["number"]))["attempts"]), 20,
                 "the frozen worker's trial to be reassigned")
        c.kill_worker("frozen", signal.SIGCONT)
        s = c.wait_study_done("f", timeout=60)
        self.assertEqual(s["counts"]["COMPLETE"], 3)
        attempts_ok(self, c, "f", 3)
        show = c.cli_json("trial", "show", "f", str(t["number"]))
        self.assertEqual(show["attempts"][0]["outcome"], "LOST")
        self.assertEqual(show["attempts"][0]["worker"], "frozen")
        self.assertEqual(show["attempts"][-1]["outcome"], "COMPLETE")
        # The thawed worker is alive and usable again.
        workers = {w["name"]: w for w in c.cli_json("workers")["workers"]}
        wait_for(lambda: {w["name"]: w for w in c.cli_json("workers")[
            "workers"]}["frozen"]["alive"], 10, "the frozen worker to rejoin")

    def test_coordinator_sigkill_and_restart(self):
        c = self.c
        c.start_worker("w1", slots=2)
        c.start_worker("w2", slots=2)
        c.create_study(study_yaml("r", trials=10, retries=0,
                                  args="--sleep 0.3 --steps 5"))
        wait_for(lambda: c.study("r")["counts"]["COMPLETE"] >= 2, 30,
                 "some trials to complete")
        before = {t["number"]: t for t in c.trials("r")
                  if t["state"] == "COMPLETE"}
        c.stop_coordinator(signal.SIGKILL)
        # Trials go on while it is down. Down for two lease periods: the
        # workers' reconnect backs off past a lease, and a restarted
        # coordinator must still wait for them to claim their trials.
        time.sleep(4.0)
        c.start_coordinator()
        s = c.wait_study_done("r", timeout=90)
        # retries: 0, so any lost attempt would show as FAILED: the
        # workers reclaimed their running trials.
        self.assertEqual(s["counts"]["COMPLETE"], 10, s)
        after = {t["number"]: t for t in c.trials("r")}
        for n, t in before.items():
            self.assertEqual(after[n]["value"], t["value"])
        # Every step reported before, during and after the outage is
        # stored: reports were resent until acknowledged.
        for n in range(10):
            show = c.cli_json("trial", "show", "r", str(n))
            steps = sorted(v["step"] for v in show["intermediate"]
                           if v["metric"] == "loss")
            self.assertEqual(steps, [0, 1, 2, 3, 4], show)
        attempts_ok(self, c, "r", 10)
        # The clean way down: SIGTERM exits 0.
        self.assertEqual(c.stop_coordinator(signal.SIGTERM), 0)

    def test_timeout_kills_and_fails(self):
        c = self.c
        c.start_worker("w1", slots=1)
        c.create_study(study_yaml("t", trials=1, retries=0, timeout="2s",
                                  args="--hang --spawn"))
        s = c.wait_study_done("t", timeout=60)
        self.assertEqual(s["counts"]["FAILED"], 1)
        show = c.cli_json("trial", "show", "t", "0")
        self.assertIn("timeout", show["reason"])
        for _, _, pid, ev in c.runs():
            wait_for(lambda: not alive(pid), 15, "the timed-out trial to die")
        for name in os.listdir(c.dir):
            if name.startswith("grandchild-"):
                pid = int(open(os.path.join(c.dir, name)).read())
                wait_for(lambda: not alive(pid), 15,
                         "the timed-out trial's child to die")

    def test_garbage_does_not_disturb(self):
        c = self.c
        c.start_worker("w1", slots=2)
        c.create_study(study_yaml("g", trials=8, args="--sleep 0.2"))
        host, port = c.endpoint.rsplit("/", 1)[1].rsplit(":", 1)
        # Raw bytes that are not ZMTP at all.
        for junk in (b"\x00" * 64, os.urandom(4096), b"GET / HTTP/1.0\r\n\r\n"):
            with socket.create_connection((host, int(port)), timeout=5) as s:
                try:
                    s.sendall(junk)
                    s.settimeout(0.5)
                    s.recv(100)
                except OSError:
                    pass
        # Well-framed ZeroMQ messages that are not valid envelopes: each
        # gets its Error, and a valid request is still served after.
        from harness import exe
        probe = subprocess.run([exe("hpo-test-garbage"), c.endpoint],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(probe.returncode, 0, probe.stdout + probe.stderr)
        s = c.wait_study_done("g", timeout=60)
        self.assertEqual(s["counts"]["COMPLETE"], 8)
        self.assertNotIn("ERROR", c.log_text("coordinator.log"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
