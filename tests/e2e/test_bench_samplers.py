"""The sampler benchmark (bench/run.py samplers, issue #7) cannot rot:
hpo-bench-samplers runs every registered sampler on every test function
with tiny budgets, its JSON lines parse, every suggestion respects the
space, best values are bounded by the known minima and repeat with the
seed; the shared functions take their textbook minima; Optuna's side and
run.py produce their tables. No timing is asserted."""
import ctypes
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

from harness import BIN, PYTHON, SRC, exe

LIB = os.path.join(BIN, "libhpo-bench-fn.so")
OPTUNA = subprocess.run([PYTHON, "-c", "import optuna, cmaes"],
                        capture_output=True).returncode == 0


def bench(*args, check=True):
    """hpo-bench-samplers' JSON lines and exit status."""
    r = subprocess.run([exe("hpo-bench-samplers")] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=120)
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    if check and r.returncode != 0:
        raise AssertionError("hpo-bench-samplers %s: exit %d: %s %s"
                             % (" ".join(map(str, args)), r.returncode,
                                r.stdout, r.stderr))
    return lines, r.returncode


class Listing:
    lines, _ = None, None

    @classmethod
    def get(cls):
        if cls.lines is None:
            cls.lines, _ = bench("list")
        fns = {d["function"]: d for d in cls.lines if "function" in d}
        samplers = [d["sampler"] for d in cls.lines if "sampler" in d]
        return fns, samplers


class TestFunctions(unittest.TestCase):
    """The one definition both sides evaluate."""

    def setUp(self):
        lib = ctypes.CDLL(LIB)
        lib.hpo_bench_fn_find.argtypes = [ctypes.c_char_p]
        lib.hpo_bench_fn_eval.restype = ctypes.c_double
        lib.hpo_bench_fn_eval.argtypes = [ctypes.c_int,
                                          ctypes.POINTER(ctypes.c_double)]
        lib.hpo_bench_fn_minimum.restype = ctypes.c_double
        self.lib = lib

    def f(self, name, x):
        k = self.lib.hpo_bench_fn_find(name.encode())
        self.assertGreaterEqual(k, 0, name)
        return self.lib.hpo_bench_fn_eval(k, (ctypes.c_double * len(x))(*x))

    def test_minima(self):
        for x in ((-math.pi, 12.275), (math.pi, 2.275), (9.42478, 2.475)):
            self.assertAlmostEqual(self.f("branin", x), 0.397887, places=5)
        self.assertAlmostEqual(
            self.f("hartmann6", (0.20169, 0.150011, 0.476874, 0.275332,
                                 0.311652, 0.6573)), -3.32237, places=4)
        self.assertEqual(self.f("rosenbrock10", [1.0] * 10), 0)
        self.assertGreater(self.f("rosenbrock10", [0.0] * 10), 0)
        self.assertEqual(self.f("sphere4", [0.0] * 4), 0)
        # mixed: layers, units, lr, opt (index), momentum (NaN: absent)
        self.assertAlmostEqual(self.f("mixed", (5, 64, 1e-2, 1, 0.9)), 0)
        self.assertAlmostEqual(self.f("mixed", (5, 64, 1e-3, 0, math.nan)),
                               0.2)
        self.assertTrue(math.isnan(self.f("mixed", (5, 64, 1e-2, 1,
                                                    math.nan))))
        fns, _ = Listing.get()
        for name, d in fns.items():
            k = self.lib.hpo_bench_fn_find(name.encode())
            self.assertEqual(self.lib.hpo_bench_fn_minimum(k), d["minimum"])


class TestHpoSide(unittest.TestCase):
    def test_every_sampler_every_function(self):
        fns, samplers = Listing.get()
        self.assertIn("random", samplers)
        for fn, d in fns.items():
            for s in samplers:
                for batch in (1, 4):
                    with self.subTest(function=fn, sampler=s, batch=batch):
                        self.check_quality(fn, d, s, batch)

    def check_quality(self, fn, d, sampler, batch):
        lines, rc = bench("quality", "--function", fn, "--sampler", sampler,
                          "--seeds", 2, "--trials", 24, "--batch", batch,
                          check=False)
        self.assertTrue(lines, "no output")
        if "error" in lines[0]:
            # A sampler may refuse a space (grid: floats without steps),
            # at parse time only, and random takes every space.
            self.assertNotEqual(sampler, "random", lines[0])
            self.assertTrue(lines[0]["error"].startswith("bench.yaml:"),
                            lines[0])
            self.assertEqual(rc, 1)
            return
        self.assertEqual(rc, 0)
        self.assertEqual([x["seed"] for x in lines], [1, 2])
        for x in lines:
            self.assertEqual((x["mode"], x["side"], x["function"],
                              x["sampler"], x["batch"]),
                             ("quality", "hpo", fn, sampler, batch))
            self.assertEqual(x["violations"], 0, x)
            self.assertEqual(x["ran"], 24, x)
            self.assertIsNotNone(x["best"], x)
            self.assertGreaterEqual(x["best"], d["minimum"] - 1e-9, x)

    def test_deterministic_by_seed(self):
        _, samplers = Listing.get()
        for s in samplers:
            args = ("quality", "--function", "mixed", "--sampler", s,
                    "--seeds", 3, "--trials", 30, "--batch", 4)
            a, rc = bench(*args, check=False)
            if rc:
                continue
            b, _ = bench(*args)
            self.assertEqual([x["best"] for x in a], [x["best"] for x in b],
                             s)
        a, _ = bench("quality", "--function", "branin", "--seeds", 3,
                     "--trials", 20)
        self.assertEqual(len({x["best"] for x in a}), 3, "seeds differ")

    def test_speed(self):
        _, samplers = Listing.get()
        for s in [x for x in ("random", "tpe") if x in samplers]:
            lines, _ = bench("speed", "--function", "sphere4", "--sampler", s,
                             "--finished", "5,20", "--repeat", 3)
            self.assertEqual([x["finished"] for x in lines], [5, 20])
            for x in lines:
                self.assertEqual(len(x["samples_ms"]), 3)
                self.assertLessEqual(x["min_ms"], x["median_ms"])
                self.assertLessEqual(x["median_ms"], x["max_ms"])

    def test_usage(self):
        _, rc = bench("quality", "--function", "nope", check=False)
        self.assertEqual(rc, 2)
        _, rc = bench("frobnicate", check=False)
        self.assertEqual(rc, 2)


@unittest.skipUnless(OPTUNA, "python3-optuna and python3-cmaes are needed")
class TestOptunaSide(unittest.TestCase):
    def test_optuna_quality(self):
        script = os.path.join(SRC, "bench", "samplers_optuna.py")
        for s, fn, batch in (("tpe", "mixed", 4), ("cmaes", "branin", 1),
                             ("qmc", "hartmann6", 1)):
            r = subprocess.run([PYTHON, script, "quality", "--lib", LIB,
                                "--function", fn, "--sampler", s,
                                "--seeds", "2", "--trials", "15",
                                "--batch", str(batch)],
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stderr)
            lines = [json.loads(line) for line in r.stdout.splitlines()]
            self.assertEqual(len(lines), 2)
            fns, _ = Listing.get()
            for x in lines:
                self.assertEqual(x["ran"], 15)
                self.assertGreaterEqual(x["best"], fns[fn]["minimum"] - 1e-9)

    def test_run_py_tables(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "samplers.md")
            r = subprocess.run(
                [PYTHON, os.path.join(SRC, "bench", "run.py"), "samplers",
                 "--build", BIN, "--functions", "branin,mixed",
                 "--samplers", "random,tpe", "--seeds", "2", "--trials",
                 "12", "--batch", "4", "--speed-finished", "15",
                 "--speed-repeat", "2", "--out", out],
                capture_output=True, text=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            with open(out) as f:
                text = f.read()
        for want in ("## Search quality vs Optuna", "| branin (min 0.3979) "
                     "| random |", "### With 4 trials pending",
                     "### Speed of one TPE suggestion",
                     "### Targets of issue #7"):
            self.assertIn(want, text)
        self.assertNotIn("suggestions broke the space", text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
