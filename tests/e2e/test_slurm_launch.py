"""hpo slurm launch under a real one-node Slurm (test_slurm.py's).

`hpo slurm launch` submits deploy/slurm/hpo-coordinator.sbatch, waits for
the address it writes to the shared directory, creates the study there and
submits two worker jobs. One worker job is cancelled mid-study (Slurm's
SIGTERM: the worker leaves, its trials go back): the study still completes
with every trial COMPLETE, each once. A second launch finds the running
coordinator through the address file instead of submitting another.
Needs root; exits 77 (skipped) as test_slurm.py does.
"""
import os
import re
import subprocess
import sys
import unittest

from harness import run_or_skip, study_yaml, wait_for, exe, test_ok, SRC
import test_slurm
from test_slurm import Slurm, _clean_leftovers, _why_not, worker_pids

SCRIPTS = os.path.join(SRC, "deploy", "slurm")


class SlurmLaunchTest(unittest.TestCase):
    def setUp(self):
        _clean_leftovers()
        self.s = Slurm()
        test_slurm._live.append(self.s)
        self.shared = self.s.path("shared")
        os.mkdir(self.shared)
        try:
            self.s.start()
        except BaseException:
            self.s.dump_logs()
            raise
        self.env = dict(self.s.env)
        self.env.update({
            "PATH": os.path.abspath(exe("")) + ":" + self.env["PATH"],
            "HPO_SLURM_SCRIPTS": SCRIPTS,
            "HPO_TEST_DIR": self.s.dir,     # the trainer's runs.log
            "HPO_INSECURE": "1",            # one host, loopback only here
            "HPO_COORDINATOR_OPTS": "--heartbeat-ms 200 --lease-ms 2000",
            "TMPDIR": self.s.dir,
        })
        for k in ("HPO_COORDINATOR", "HPO_CURVE_SECRET", "HPO_SERVER_KEY"):
            self.env.pop(k, None)

    def tearDown(self):
        if not test_ok(self):
            self.s.dump_logs()
            for name in sorted(os.listdir(self.shared)) \
                    if os.path.isdir(self.shared) else []:
                if name.endswith(".out"):
                    sys.stderr.write("---- %s ----\n" % name)
                    with open(os.path.join(self.shared, name),
                              errors="replace") as f:
                        sys.stderr.write(f.read()[-4000:])
        test_slurm._live.remove(self.s)
        self.s.close()

    def hpo(self, *args, timeout=120, check=True):
        r = subprocess.run([exe("hpo")] + list(args), capture_output=True,
                           text=True, env=self.env, timeout=timeout,
                           cwd=self.s.dir)
        if check and r.returncode != 0:
            raise AssertionError("hpo %s failed (%d): %s%s" % (
                " ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def launch(self, name, trials, nodes):
        path = self.s.path(name + ".yaml")
        with open(path, "w") as f:
            f.write(study_yaml(name, trials=trials, retries=0,
                               args="--steps 4 --sleep 0.25"))
        r = self.hpo("slurm", "launch", path, "--nodes", str(nodes),
                     "--dir", self.shared, "--wait", "60", "--",
                     "--cpus-per-task=1",
                     "--output=%s/worker-%%j.out" % self.shared)
        jobs = re.search(r"^worker jobs((?: \d+)*)$", r.stdout, re.M)
        self.assertTrue(jobs, r.stdout)
        for j in jobs.group(1).split():
            self.s.jobs.append(j)
        return r.stdout, jobs.group(1).split()

    def cli_json(self, *args):
        import json
        return json.loads(self.hpo("--json", *args).stdout)

    def test_launch_cancel_one_worker_job(self):
        s = self.s
        out, workers = self.launch("launched", trials=16, nodes=2)
        coord = re.search(r"^coordinator job (\d+)$", out, re.M)
        self.assertTrue(coord, out)
        s.jobs.append(coord.group(1))
        self.assertEqual(len(workers), 2, out)
        with open(os.path.join(self.shared, "coordinator.address")) as f:
            endpoint = f.read().strip()
        self.assertRegex(endpoint, r"^tcp://[^:]+:\d+$")
        self.assertIn("coordinator at %s" % endpoint, out)
        self.env["HPO_COORDINATOR"] = endpoint

        # Both workers run trials, then one job is cancelled mid-study.
        wait_for(lambda: len({t["worker"] for t in
                              self.cli_json("trials", "launched")["trials"]
                              if t["state"] == "RUNNING"}) == 2,
                 60, "both worker jobs to run trials", interval=0.2)
        workers_seen = self.cli_json("workers")["workers"]
        self.assertEqual(sorted(w["slots"] for w in workers_seen), [1, 1])
        s.run("scancel", workers[0])
        wait_for(lambda: not s.job_state(workers[0]), 30,
                 "the cancelled job to end", interval=0.2)
        wait_for(lambda: not worker_pids(workers[0]), 15,
                 "its hpo-worker to exit")

        st = wait_for(lambda: (lambda x: x if x["state"] == "FINISHED"
                               else None)(self.cli_json("study", "show",
                                                        "launched")),
                      120, "the study to finish", interval=0.5)
        self.assertEqual(st["counts"]["COMPLETE"], 16)
        trials = self.cli_json("trials", "launched")["trials"]
        self.assertEqual(sorted(t["number"] for t in trials),
                         list(range(len(trials))))
        self.assertEqual(len(trials), 16)
        self.assertTrue(all(t["state"] == "COMPLETE" for t in trials))
        # Nothing lost and nothing done twice: every trial ran to its end
        # exactly once (a stopped attempt starts but never ends).
        ends = {}
        with open(os.path.join(s.dir, "runs.log")) as f:
            for line in f:
                t, _, _, ev = line.split()
                if ev == "end":
                    ends[int(t)] = ends.get(int(t), 0) + 1
        self.assertEqual(ends, {t["number"]: 1 for t in trials})
        # A second launch finds the running coordinator, submits none.
        out2, more = self.launch("again", trials=2, nodes=1)
        self.assertIn("coordinator at %s (running)" % endpoint, out2)
        self.assertNotIn("coordinator job", out2)
        st = wait_for(lambda: (lambda x: x if x["state"] == "FINISHED"
                               else None)(self.cli_json("study", "show",
                                                        "again")),
                      60, "the second study to finish", interval=0.5)
        self.assertEqual(st["counts"]["COMPLETE"], 2)

        # Cancelling the coordinator job takes its address away.
        s.run("scancel", coord.group(1))
        wait_for(lambda: not s.job_state(coord.group(1)), 30,
                 "the coordinator job to end", interval=0.2)
        self.assertFalse(os.path.exists(
            os.path.join(self.shared, "coordinator.address")))
        # A sanitizer build (HPO_BIN=build-asan) reports into the jobs'
        # output: every program must have stopped cleanly.
        for name in os.listdir(self.shared):
            if name.endswith(".out"):
                with open(os.path.join(self.shared, name)) as f:
                    out = f.read()
                for bad in ("Sanitizer", "runtime error:"):
                    self.assertNotIn(bad, out, name)

    def test_launch_refuses_a_bad_study_before_submitting(self):
        path = self.s.path("bad.yaml")
        with open(path, "w") as f:
            f.write("name: bad\ncommand: true\n")
        r = self.hpo("slurm", "launch", path, "--nodes", "1", "--dir",
                     self.shared, check=False)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertEqual(self.s.run("squeue", "-h").stdout.strip(), "")


if __name__ == "__main__":
    run_or_skip("test_slurm_launch", _why_not, test_slurm._teardown_all)
