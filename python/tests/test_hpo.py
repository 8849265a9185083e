"""Unit tests of python/hpo.py, each script in a fresh interpreter (the
module reads its environment and installs its SIGTERM handler at import).
Run: /usr/bin/python3 python/tests/test_hpo.py"""
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.dirname(HERE)
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") \
    else sys.executable


def run(code, args=(), env=None, pass_fds=(), cwd=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("HPO_")}
    e["PYTHONPATH"] = PYDIR
    e.update(env or {})
    return subprocess.run([PYTHON, "-c", textwrap.dedent(code)] + list(args),
                          capture_output=True, text=True, env=e,
                          pass_fds=pass_fds, cwd=cwd, timeout=30)


class ByHandTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hpo-py-")

    def test_params_from_argv(self):
        r = run("""
            import hpo, json
            print(json.dumps(hpo.params()))
            """, ["--x", "3", "--lr=0.5", "--neg", "-1e-05", "--opt", "adam",
                  "stray", "--dry-run"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout),
                         {"x": 3, "lr": 0.5, "neg": -1e-05, "opt": "adam",
                          "dry_run": True})

    def test_report_prints(self):
        r = run("""
            import hpo, signal
            hpo.report(3, val_loss=0.41, acc=0.88, n=7, ok=True)
            hpo.report(None, loss=1e-300)
            assert not hpo.under_worker() and not hpo.should_stop()
            assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
            """)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "step=3 val_loss=0.41 acc=0.88 n=7 ok=1\n"
                         "loss=1e-300\n")

    def test_checkpoint_dir_here(self):
        r = run("import hpo; print(hpo.checkpoint_dir())", cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        path = os.path.join(os.path.realpath(self.dir), "hpo-checkpoint")
        self.assertEqual(os.path.realpath(r.stdout.strip()), path)
        self.assertTrue(os.path.isdir(path))

    def test_bad_reports(self):
        r = run("""
            import hpo
            for step, m in [(-1, {"a": 1}), (1.5, {"a": 1}), (True, {"a": 1}),
                            (1, {}), (1, {"a": float("nan")}),
                            (1, {"a": float("inf")}), (1, {"epoch": 2}),
                            (1, {"bad name": 2}), (1, {"a": "x"})]:
                try:
                    hpo.report(step, **m)
                except ValueError as e:
                    print("refused", e)
                else:
                    print("taken", step, m)
            """)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 9, r.stdout)
        self.assertTrue(all(ln.startswith("refused") for ln in lines),
                        r.stdout)


class UnderWorkerTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hpo-py-")
        self.params = os.path.join(self.dir, "params.json")
        with open(self.params, "w") as f:
            json.dump({"lr": 0.001, "layers": 3, "opt": "adam"}, f)
        self.ckpt = os.path.join(self.dir, "ckpt", "s", "0")

    def env(self, fd):
        return {"HPO_TRIAL": "0", "HPO_STUDY": "s", "HPO_REPORT_FD": str(fd),
                "HPO_PARAMS_FILE": self.params,
                "HPO_CHECKPOINT_DIR": self.ckpt}

    def run_piped(self, code, args=()):
        r_fd, w_fd = os.pipe()
        try:
            r = run(code, args, env=self.env(w_fd), pass_fds=(w_fd,))
        finally:
            os.close(w_fd)
        with os.fdopen(r_fd) as f:
            return r, f.read()

    def test_params_report_checkpoint(self):
        r, reports = self.run_piped("""
            import hpo, json
            print(json.dumps(hpo.params()))
            print(hpo.checkpoint_dir())
            hpo.report(0, loss=0.5)
            hpo.report(1, loss=0.25, acc=0.5)
            """, ["--lr", "9"])  # the file wins over argv
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.splitlines()
        self.assertEqual(json.loads(out[0]),
                         {"lr": 0.001, "layers": 3, "opt": "adam"})
        self.assertEqual(out[1], self.ckpt)
        self.assertTrue(os.path.isdir(self.ckpt))
        self.assertEqual(reports, "step=0 loss=0.5\nstep=1 loss=0.25 acc=0.5\n")

    def test_sigterm_raises_pruned_at_next_report(self):
        r, reports = self.run_piped("""
            import hpo, os, signal, sys
            hpo.report(0, loss=1.0)
            os.kill(os.getpid(), signal.SIGTERM)
            assert hpo.should_stop()
            try:
                hpo.report(1, loss=0.5)
            except hpo.Pruned:
                print("pruned, saved")
                sys.exit(0)
            sys.exit(3)
            """)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "pruned, saved\n")
        self.assertEqual(reports, "step=0 loss=1.0\nstep=1 loss=0.5\n")

    def test_own_sigterm_handler_kept(self):
        r, _ = self.run_piped("""
            import signal
            signal.signal(signal.SIGTERM, lambda s, f: print("mine"))
            import importlib, hpo
            assert signal.getsignal(signal.SIGTERM) is not hpo._on_sigterm
            """)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_stdout_source_prints(self):
        # metrics from stdout: the worker gives no HPO_REPORT_FD.
        env = self.env(0)
        del env["HPO_REPORT_FD"]
        r = run("import hpo; hpo.report(2, val_loss=0.125)", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "step=2 val_loss=0.125\n")


def _why_no_pip():
    for mod in ("pip", "ensurepip", "setuptools"):
        r = subprocess.run([PYTHON, "-c", "import " + mod],
                           capture_output=True)
        if r.returncode:
            return "python3 cannot import %s (Debian: python3-pip, " \
                "python3-venv, python3-setuptools)" % mod
    return None


@unittest.skipIf(_why_no_pip(), "cannot install: %s" % _why_no_pip())
class InstallTest(unittest.TestCase):
    def test_pip_install_offline(self):
        # A copy, so the build leaves nothing in the source tree.
        import shutil
        tmp = tempfile.mkdtemp(prefix="hpo-py-install-")
        try:
            src = os.path.join(tmp, "python")
            shutil.copytree(PYDIR, src, ignore=shutil.ignore_patterns(
                "tests", "build", "*.egg-info", "__pycache__"))
            venv = os.path.join(tmp, "venv")
            subprocess.run([PYTHON, "-m", "venv", "--system-site-packages",
                            venv], check=True, timeout=120)
            vpy = os.path.join(venv, "bin", "python")
            r = subprocess.run([vpy, "-m", "pip", "install", "--no-index",
                                "--no-build-isolation", src],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            r = subprocess.run([vpy, "-c", "import hpo; print(hpo.__file__)"],
                               capture_output=True, text=True, cwd=tmp,
                               timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(r.stdout.startswith(venv), r.stdout)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
