#!/usr/bin/env python3
"""GPU slots and CPU capacity (issue #11), on a machine without GPUs.

Workers are given GPUs by index (--gpus 0,1,2) or through a fake
nvidia-smi on PATH (--gpus auto). A fake training program records what it
saw (CUDA_VISIBLE_DEVICES, HPO_GPUS, HPO_CPUS, OMP_NUM_THREADS,
MKL_NUM_THREADS) with its start and end times, and the tests check that
no two overlapping trials shared a GPU, that every trial saw exactly its
K GPUs, that every GPU was used, that trials needing more than any worker
has wait (and study show says why), and that a killed trial's GPU goes to
the next trial only once its whole process group is gone.
"""
import json
import os
import stat
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import ClusterTest, PYTHON, exe, wait_for  # noqa: E402

# The fake training program: one JSON line per run in $HPO_TEST_DIR/
# gpus.log, then the objective on HPO_REPORT_FD. --hold S sleeps S
# seconds; --stubborn ignores SIGTERM in itself and in a child it starts,
# both pids going to stubborn-<study>.pids; --check-pids FILE records
# whether any pid in FILE is still alive (not a zombie) when it starts.
TRAINER = r'''
import json, os, signal, sys, time
args = sys.argv[1:]
hold = float(args[args.index("--hold") + 1]) if "--hold" in args else 0.4
d = os.environ["HPO_TEST_DIR"]
rec = {k: os.environ.get(k) for k in (
    "CUDA_VISIBLE_DEVICES", "HPO_GPUS", "HPO_CPUS", "OMP_NUM_THREADS",
    "MKL_NUM_THREADS", "HPO_STUDY", "HPO_TRIAL")}
rec["start"] = time.time()
def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
if "--check-pids" in args:
    path = os.path.join(d, args[args.index("--check-pids") + 1])
    pids = [int(p) for p in open(path).read().split()]
    rec["others_alive"] = [p for p in pids if alive(p)]
if "--stubborn" in args:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = os.fork()
    if child == 0:
        time.sleep(300)
        os._exit(0)
    with open(os.path.join(d, "stubborn.pids.tmp"), "w") as f:
        f.write("%d %d\n" % (os.getpid(), child))
    os.rename(os.path.join(d, "stubborn.pids.tmp"),
              os.path.join(d, "stubborn.pids"))
    if "--report-high" in args:  # a threshold pruner stops it at step 1
        os.write(3, b"step=1 loss=10.0\n")
time.sleep(hold)
rec["end"] = time.time()
with open(os.path.join(d, "gpus.log"), "a") as f:
    f.write(json.dumps(rec) + "\n")
os.write(3, b"loss=%s\n" % str(float(os.environ["HPO_TRIAL"])).encode())
'''

FAKE_SMI = r'''#!/bin/sh
[ "$1" = "-L" ] || exit 2
i=0
while [ $i -lt %d ]; do
  echo "GPU $i: Fake GPU $i (UUID: GPU-0000000$i-fake)"
  i=$((i+1))
done
echo "  MIG 1g.10gb     Device  0: (UUID: MIG-not-a-gpu)"
'''


def study(name, trials, gpus=None, cpus=None, parallel=0, args="",
          grace=None, env=None, pruner=None):
    res = []
    if gpus is not None:
        res.append("gpus: %d" % gpus)
    if cpus is not None:
        res.append("cpus: %d" % cpus)
    if grace:
        res.append("grace: %s" % grace)
    lines = [
        "name: %s" % name,
        "command: %s trainer_gpus.py --x {x} %s" % (PYTHON, args),
        "objective: {metric: loss, direction: minimize}",
        "sampler: {type: random, seed: 3}",
        "budget: {trials: %d, parallel: %d}" % (trials, parallel),
        "trial: {%s}" % ", ".join(res),
    ]
    if env:
        lines.append("env: {%s}" % ", ".join("%s: '%s'" % kv
                                              for kv in env.items()))
    if pruner:
        lines.append("pruner: %s" % pruner)
    lines += ["space:", "  x: {type: float, low: 0, high: 1}"]
    return "\n".join(lines) + "\n"


class GpuTest(ClusterTest):

    def setUp(self):
        super().setUp()
        with open(os.path.join(self.c.dir, "trainer_gpus.py"), "w") as f:
            f.write(TRAINER)
        self.saved_env = dict(os.environ)
        # The worker under test must not inherit a real allocation.
        os.environ.pop("CUDA_VISIBLE_DEVICES", None)

    def tearDown(self):
        os.environ.clear()
        os.environ.update(self.saved_env)
        super().tearDown()

    def records(self, study_name=None):
        path = os.path.join(self.c.dir, "gpus.log")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            recs = [json.loads(line) for line in f]
        return [r for r in recs
                if study_name is None or r["HPO_STUDY"] == study_name]

    def fake_smi(self, n):
        bindir = os.path.join(self.c.dir, "bin")
        os.makedirs(bindir, exist_ok=True)
        path = os.path.join(bindir, "nvidia-smi")
        with open(path, "w") as f:
            f.write(FAKE_SMI % n)
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
        os.environ["PATH"] = bindir + os.pathsep + os.environ["PATH"]

    def check_no_sharing(self, recs):
        """No two overlapping runs shared a GPU."""
        for i, a in enumerate(recs):
            for b in recs[i + 1:]:
                overlap = a["start"] < b["end"] and b["start"] < a["end"]
                shared = set(a["HPO_GPUS"].split(",")) & \
                    set(b["HPO_GPUS"].split(",")) - {""}
                self.assertFalse(overlap and shared,
                                 "overlapping trials shared GPUs %s: %s %s"
                                 % (shared, a, b))

    def check_saw(self, recs, k, cpus=1):
        for r in recs:
            gpus = [g for g in r["HPO_GPUS"].split(",") if g]
            self.assertEqual(len(gpus), k, r)
            self.assertEqual(len(set(gpus)), k, r)
            self.assertEqual(r["CUDA_VISIBLE_DEVICES"], r["HPO_GPUS"], r)
            self.assertEqual(r["HPO_CPUS"], str(cpus), r)

    def workers(self):
        return {w["name"]: w for w in self.c.cli_json("workers")["workers"]}

    # ------------------------------------------------------------------
    def test_gpu_list_one_trial_per_gpu_and_packing(self):
        c = self.c
        c.start_worker("g3", extra=["--gpus", "0,1,2"])
        w = wait_for(lambda: self.workers().get("g3"), 10, "the worker")
        self.assertEqual(w["slots"], 3, w)  # one slot per GPU
        self.assertEqual([g["index"] for g in w["gpus"]], [0, 1, 2], w)
        c.create_study(study("one", 9, gpus=1))
        c.create_study(study("two", 4, gpus=2), name="two.yaml")
        # While they run, hpo workers names the trial on each GPU.
        seen = wait_for(lambda: [g["trial"] for g in
                                 self.workers()["g3"]["gpus"] if g["trial"]],
                        20, "a trial on a GPU")
        self.assertTrue(all("#" in t for t in seen), seen)
        text = c.cli("workers").stdout
        self.assertIn("WORKER", text)
        self.assertIn("GPU", text)
        for name in ("one", "two"):
            s = c.wait_study_done(name, timeout=90)
            self.assertEqual(s["state"], "FINISHED", s)
        one, two = self.records("one"), self.records("two")
        self.assertEqual(len(one), 9)
        self.assertEqual(len(two), 4)
        self.check_saw(one, 1)
        self.check_saw(two, 2)
        self.check_no_sharing(one + two)
        used = {g for r in one for g in r["HPO_GPUS"].split(",")}
        self.assertEqual(used, {"0", "1", "2"})
        for r in one + two:
            self.assertEqual(r["OMP_NUM_THREADS"], "1", r)
            self.assertEqual(r["MKL_NUM_THREADS"], "1", r)
        # Two trials of 2 GPUs never ran at once on 3 GPUs.
        for i, a in enumerate(two):
            for b in two[i + 1:]:
                self.assertFalse(a["start"] < b["end"] and
                                 b["start"] < a["end"], (a, b))
        w = self.workers()["g3"]
        self.assertTrue(all(not g["trial"] for g in w["gpus"]), w)

    def test_gpus_auto_with_fake_nvidia_smi(self):
        c = self.c
        self.fake_smi(4)
        c.start_worker("auto4", extra=["--gpus", "auto"])
        w = wait_for(lambda: self.workers().get("auto4"), 10, "the worker")
        self.assertEqual(w["slots"], 4, w)
        self.assertEqual([g["index"] for g in w["gpus"]], [0, 1, 2, 3])
        self.assertEqual(w["gpus"][2]["name"], "Fake GPU 2", w)
        self.assertEqual(w["gpus"][2]["uuid"], "GPU-00000002-fake", w)
        c.create_study(study("auto", 12, gpus=1))
        s = c.wait_study_done("auto", timeout=90)
        self.assertEqual(s["state"], "FINISHED", s)
        recs = self.records("auto")
        self.assertEqual(len(recs), 12)
        self.check_saw(recs, 1)
        self.check_no_sharing(recs)
        self.assertEqual({r["HPO_GPUS"] for r in recs}, {"0", "1", "2", "3"})

    def test_auto_honours_cuda_visible_devices(self):
        c = self.c
        self.fake_smi(4)
        os.environ["CUDA_VISIBLE_DEVICES"] = "1,3"
        c.start_worker("slurm", extra=["--gpus", "auto"])
        w = wait_for(lambda: self.workers().get("slurm"), 10, "the worker")
        self.assertEqual([g["index"] for g in w["gpus"]], [1, 3], w)

    def test_auto_without_nvidia_smi_has_no_gpus(self):
        c = self.c
        os.environ["PATH"] = "/usr/bin:/bin"  # no nvidia-smi here
        if any(os.path.exists(os.path.join(d, "nvidia-smi"))
               for d in ("/usr/bin", "/bin")):
            self.skipTest("a real nvidia-smi is installed")
        c.start_worker("cpu", slots=2, extra=["--gpus", "auto"])
        w = wait_for(lambda: self.workers().get("cpu"), 10, "the worker")
        self.assertEqual(w["gpus"], [], w)
        self.assertEqual(w["slots"], 2, w)  # --slots as before
        wait_for(lambda: "no nvidia-smi" in c.log_text("worker-cpu.log"), 5,
                 "the worker to log that it found no nvidia-smi")
        c.create_study(study("needs1", 2, gpus=1))
        s = c.study("needs1")
        self.assertEqual(s["unrunnable"],
                         "needs 1 GPU per trial; no connected worker has 1")

    def test_too_many_gpus_waits_and_says_why(self):
        c = self.c
        c.start_worker("g3", extra=["--gpus", "0,1,2"])
        wait_for(lambda: self.workers().get("g3"), 10, "the worker")
        c.create_study(study("big", 2, gpus=5))
        why = "needs 5 GPUs per trial; no connected worker has 5"
        self.assertEqual(c.study("big")["unrunnable"], why)
        self.assertIn(why, c.cli("study", "show", "big").stdout)
        # A study that fits runs alongside; the big one still waits.
        c.create_study(study("small", 3, gpus=1), name="small.yaml")
        self.assertEqual(c.wait_study_done("small", 60)["state"], "FINISHED")
        s = c.study("big")
        self.assertEqual((s["state"], s["counts"]["RUNNING"],
                          s["counts"]["COMPLETE"]), ("RUNNING", 0, 0), s)
        self.assertEqual(self.records("big"), [])
        # A worker with enough GPUs comes: the study runs.
        c.start_worker("g8", extra=["--gpus", "0,1,2,3,4,5,6,7"])
        s = c.wait_study_done("big", timeout=60)
        self.assertEqual(s["state"], "FINISHED", s)
        self.assertEqual(s["unrunnable"], None, s)
        self.check_saw(self.records("big"), 5)

    def test_cpus(self):
        c = self.c
        c.start_worker("c8", slots=4, extra=["--cpus", "8"])
        w = wait_for(lambda: self.workers().get("c8"), 10, "the worker")
        self.assertEqual((w["cpus"], w["gpus"]), (8, []), w)
        c.create_study(study("four", 6, cpus=4, env={"OMP_NUM_THREADS": 7}))
        s = c.wait_study_done("four", timeout=60)
        self.assertEqual(s["state"], "FINISHED", s)
        recs = self.records("four")
        self.assertEqual(len(recs), 6)
        for r in recs:
            self.assertEqual((r["HPO_CPUS"], r["OMP_NUM_THREADS"],
                              r["MKL_NUM_THREADS"]), ("4", "7", "4"), r)
            self.assertEqual(r["HPO_GPUS"], "", r)
            # A worker without --gpus leaves CUDA_VISIBLE_DEVICES alone.
            self.assertIsNone(r["CUDA_VISIBLE_DEVICES"], r)
        # 8 CPUs hold two 4-CPU trials at once, never three.
        events = sorted([(r["start"], 1) for r in recs] +
                        [(r["end"], -1) for r in recs])
        running = peak = 0
        for _, d in events:
            running += d
            peak = max(peak, running)
        self.assertEqual(peak, 2, recs)
        c.create_study(study("huge", 1, cpus=9), name="huge.yaml")
        self.assertEqual(c.study("huge")["unrunnable"],
                         "needs 9 CPUs per trial; no connected worker has 9")
        # --cpus without --slots: the CPUs bound the trials.
        c.workers["c32"] = c._spawn(
            [exe("hpo-worker"), "--coordinator", c.endpoint, "--name", "c32",
             "--cpus", "32", "--state-dir", os.path.join(c.dir, "s32")],
            "worker-c32.log")
        w = wait_for(lambda: self.workers().get("c32"), 10, "the worker")
        self.assertEqual((w["slots"], w["cpus"]), (32, 32), w)
        self.assertEqual(c.wait_study_done("huge", 30)["state"], "FINISHED")

    def test_killed_trial_frees_its_gpu_only_when_its_group_is_gone(self):
        self.stubborn_then_next(pruned=False)

    def test_pruned_trial_frees_its_gpu_only_when_its_group_is_gone(self):
        self.stubborn_then_next(pruned=True)

    def stubborn_then_next(self, pruned):
        """A trial on the worker's one GPU whose processes ignore SIGTERM
        is stopped (hpo study stop --now) or pruned (a threshold pruner);
        the next trial gets the GPU only after the 2 s grace, once both
        processes are gone."""
        c = self.c
        c.start_worker("g1", extra=["--gpus", "0"])
        wait_for(lambda: self.workers().get("g1"), 10, "the worker")
        c.create_study(study(
            "stubborn", 1, gpus=1, grace="2s",
            args="--stubborn --hold 300" + (" --report-high" if pruned
                                            else ""),
            pruner="{type: threshold, upper: 1.0}" if pruned else None))
        pids_file = os.path.join(c.dir, "stubborn.pids")
        wait_for(lambda: os.path.exists(pids_file), 20, "the stubborn trial")
        stopped = time.time()
        c.create_study(study("next", 1, gpus=1,
                             args="--check-pids stubborn.pids"),
                       name="next.yaml")
        if pruned:
            t = wait_for(lambda: (lambda t: t if t["state"] == "PRUNED"
                                  else None)(c.trials("stubborn")[0]),
                         10, "the pruner to stop the trial")
            self.assertIn("threshold", t["reason"] or "", t)
        else:
            time.sleep(0.5)
            self.assertEqual(self.records("next"), [])  # GPU 0 is taken
            c.cli("study", "stop", "stubborn", "--now")
        # The trial is over for the coordinator, but its processes ignore
        # SIGTERM for the 2 s grace: GPU 0 stays busy until then.
        w = self.workers()["g1"]
        self.assertEqual((w["gpus"][0]["trial"], w["gpus"][0]["busy"]),
                         (None, True), w)
        s = c.wait_study_done("next", timeout=30)
        self.assertEqual(s["state"], "FINISHED", s)
        rec = self.records("next")[0]
        self.assertEqual(rec["others_alive"], [], rec)
        self.assertGreaterEqual(rec["start"], stopped + 1.5, rec)
        self.assertEqual(rec["HPO_GPUS"], "0", rec)

if __name__ == "__main__":
    unittest.main(verbosity=2)
