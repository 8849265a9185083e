"""A random and a grid study run end to end, to the exact counts, and the
CLI reads them back."""
import socket
import os
import subprocess
import unittest

from harness import ClusterTest, study_yaml, wait_for, exe


class StudyTest(ClusterTest):

    def test_random_study_exact_count(self):
        c = self.c
        c.start_worker("w1", slots=2)
        c.start_worker("w2", slots=2)
        c.create_study(study_yaml("rand", trials=12, parallel=3))
        s = c.wait_study_done("rand")
        self.assertEqual(s["state"], "FINISHED")
        self.assertEqual(s["counts"]["COMPLETE"], 12)
        self.assertEqual(s["counts"]["FAILED"], 0)
        trials = c.trials("rand")
        self.assertEqual(sorted(t["number"] for t in trials), list(range(12)))
        runs = c.runs()
        # Each trial ran exactly once: one start and one end per trial.
        starts = sorted(t for t, a, _, ev in runs if ev == "start")
        self.assertEqual(starts, list(range(12)))
        for t in trials:
            self.assertEqual(t["state"], "COMPLETE")
            self.assertEqual(t["attempt"], 1)
            x = t["params"]["x"]
            self.assertTrue(0 <= x <= 1)
            self.assertAlmostEqual(t["value"], (x - 0.3) ** 2, places=9)
        # Both workers took part.
        self.assertEqual({t["worker"] for t in trials}, {"w1", "w2"})
        best = c.cli_json("best", "rand")
        self.assertEqual(best["value"], min(t["value"] for t in trials))
        # trial show carries the intermediate values, in step order.
        show = c.cli_json("trial", "show", "rand", "0")
        steps = [v["step"] for v in show["intermediate"] if v["metric"] == "loss"]
        self.assertEqual(steps, [0, 1, 2])
        self.assertEqual(show["attempts"][0]["outcome"], "COMPLETE")
        # People's tables mention the study and the best value.
        out = c.cli("study", "show", "rand").stdout
        self.assertIn("rand", out)
        self.assertIn("COMPLETE", out)
        out = c.cli("study", "list").stdout
        self.assertIn("rand", out)
        workers = c.cli_json("workers")["workers"]
        self.assertEqual(sorted(w["name"] for w in workers), ["w1", "w2"])

    def test_random_is_reproducible(self):
        c = self.c
        c.start_worker("w1", slots=2)
        c.create_study(study_yaml("r1", trials=4, seed=11))
        c.create_study(study_yaml("r2", trials=4, seed=11))
        c.create_study(study_yaml("r3", trials=4, seed=12))
        for n in ("r1", "r2", "r3"):
            c.wait_study_done(n)
        p = {n: [t["params"]["x"] for t in
                 sorted(c.trials(n), key=lambda t: t["number"])]
             for n in ("r1", "r2", "r3")}
        self.assertEqual(p["r1"], p["r2"])
        self.assertNotEqual(p["r1"], p["r3"])

    def test_grid_study_every_point_once(self):
        c = self.c
        c.start_worker("w1", slots=2)
        c.start_worker("w2", slots=1)
        space = ("  x: {type: float, values: [0.1, 0.3, 0.5]}\n"
                 "  k: {type: int, low: 1, high: 3}\n"
                 "  opt: {type: categorical, values: [adam, sgd]}\n")
        c.create_study(study_yaml("grid", trials=1000, sampler="grid",
                                  space=space))
        s = c.wait_study_done("grid")
        self.assertEqual(s["state"], "FINISHED")
        self.assertEqual(s["budget"], 18)
        self.assertEqual(s["counts"]["COMPLETE"], 18)
        points = sorted((t["params"]["x"], t["params"]["k"],
                         t["params"]["opt"]) for t in c.trials("grid"))
        expect = sorted((x, k, o) for x in (0.1, 0.3, 0.5) for k in (1, 2, 3)
                        for o in ("adam", "sgd"))
        self.assertEqual(points, expect)
        best = c.cli_json("best", "grid")
        self.assertEqual(best["params"]["x"], 0.3)

    def test_failures_and_bad_input(self):
        c = self.c
        c.start_worker("w1", slots=2)
        # A program that exits non-zero, one that never reports the
        # objective: FAILED with the reason and the log tail.
        c.create_study(study_yaml("bad", trials=2, retries=0,
                                  args="--exit 3"))
        c.create_study(study_yaml("noobj", trials=1, retries=0,
                                  args="--no-objective"))
        s = c.wait_study_done("bad")
        self.assertEqual(s["counts"]["FAILED"], 2)
        show = c.cli_json("trial", "show", "bad", "0")
        self.assertEqual(show["state"], "FAILED")
        self.assertIn("3", show["reason"])
        self.assertIn("this goes to the log", show["log_tail"])
        s = c.wait_study_done("noobj")
        show = c.cli_json("trial", "show", "noobj", "0")
        self.assertIn("loss", show["reason"])
        r = c.cli("best", "bad", check=False)
        self.assertNotEqual(r.returncode, 0)
        # A bad study file: file, line and key; nothing stored.
        path = os.path.join(c.dir, "broken.yaml")
        with open(path, "w") as f:
            f.write("name: broken\ncommand: x {lr}\nobjective: {metric: l}\n"
                    "budget: {trials: 3}\nspace:\n"
                    "  lr: {type: float, low: 1, high: oops}\n")
        r = c.cli("study", "create", path, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("broken.yaml:6", r.stderr)
        self.assertIn("space.lr.high", r.stderr)
        r = c.cli("study", "show", "broken", check=False)
        self.assertNotEqual(r.returncode, 0)
        # The same name twice is refused.
        c.create_study(study_yaml("dup", trials=1))
        r = c.cli("study", "create", os.path.join(c.dir, "study.yaml"),
                  check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("exists", r.stderr)
        # Unknown study and unknown trial.
        r = c.cli("trials", "nope", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nope", r.stderr)

    def test_stop_and_watch(self):
        c = self.c
        c.start_worker("w1", slots=1)
        c.create_study(study_yaml("slow", trials=50, args="--sleep 0.3"))
        wait_for(lambda: c.study("slow")["counts"]["COMPLETE"] >= 1, 30,
                 "a first trial")
        # watch, not on a terminal, prints plain lines and ends with the
        # study.
        w = subprocess.Popen([exe("hpo"), "--coordinator", c.endpoint,
                              "watch", "slow", "--interval", "0.2"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        c.cli("study", "stop", "slow")
        out, err = w.communicate(timeout=30)
        self.assertEqual(w.returncode, 0, err)
        self.assertIn("slow", out)
        s = c.wait_study_done("slow")
        self.assertEqual(s["state"], "STOPPED")
        done = s["counts"]["COMPLETE"] + s["counts"]["FAILED"]
        self.assertLess(done, 50)
        self.assertEqual(s["counts"]["RUNNING"], 0)

    def test_coordinator_unreachable_is_an_error(self):
        c = self.c
        c.stop_coordinator()
        r = subprocess.run([exe("hpo"), "--coordinator", c.endpoint,
                            "--timeout", "1", "study", "list"],
                           capture_output=True, text=True, timeout=15)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("answer", r.stderr)


class DescriptorsTest(ClusterTest):
    """A coordinator that runs out of file descriptors says so, and serves
    again once connections close."""

    # prlimit (util-linux) sets both limits, so the coordinator cannot
    # raise its own.
    cluster_args = {"prefix": ["prlimit", "--nofile=48:48", "--"],
                    "cli_prefix": []}

    def test_out_of_descriptors_is_logged(self):
        c = self.c
        host, port = c.endpoint.rsplit("/", 1)[1].rsplit(":", 1)
        socks = []
        try:
            for _ in range(80):
                socks.append(socket.create_connection((host, int(port)),
                                                      timeout=5))
            wait_for(lambda: "cannot accept connections" in
                     c.log_text("coordinator.log"), 20,
                     "the coordinator to log the accept failure")
        finally:
            for s in socks:
                s.close()
        log = c.log_text("coordinator.log")
        self.assertIn("open-file limit is 48", log)
        self.assertIn("Too many open files", log)
        # Once the connections are gone it serves again.
        wait_for(lambda: c.cli("study", "list", check=False).returncode == 0,
                 30, "the coordinator to answer again")


if __name__ == "__main__":
    unittest.main(verbosity=2)
