"""deploy/: the systemd units, the Slurm scripts' choices and the
Containerfile, checked without the systems they are for.

- systemd: `systemd-analyze verify` (Debian's systemd package; it needs no
  running systemd) on copies of the units whose ExecStart names the built
  programs (verify wants the binaries to exist); any warning it prints
  fails the test, as does a broken copy that verify must catch.
  `systemd-analyze security --offline` rates the hardening: the
  coordinator must stay at 2.0 or below, the worker 4.0 or below.
- Slurm: hpo-workers.sbatch under a fake srun and hpo-worker, for the
  options it gives the worker from Slurm's variables (CPUs, GPUs);
  shellcheck on both scripts where installed.
- Container: the build stage's RUN steps, taken from the Containerfile
  itself, run in a copy of the sources (there is no container runtime
  here), and every library the installed programs need comes from a
  package the runtime stage installs.
Each part skips itself, loudly, when its tool is missing.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from harness import exe, SRC

SYSTEMD = os.path.join(SRC, "deploy", "systemd")
SLURM = os.path.join(SRC, "deploy", "slurm")
CONTAINERFILE = os.path.join(SRC, "deploy", "container", "Containerfile")
UNITS = ["hpo-coordinator.service", "hpo-worker@.service"]


def _skip(why):
    sys.stderr.write("\n*** SKIPPED: %s ***\n" % why)
    raise unittest.SkipTest(why)


class SystemdTest(unittest.TestCase):
    def setUp(self):
        self.analyze = shutil.which("systemd-analyze")
        if not self.analyze:
            _skip("no systemd-analyze (apt-get install systemd)")
        for b in ("hpo-coordinator", "hpo-worker"):
            if not os.access(exe(b), os.X_OK):
                _skip("%s is not built" % exe(b))
        self.dir = tempfile.mkdtemp(prefix="hpo-deploy-")
        bindir = os.path.abspath(exe(""))
        for unit in UNITS:
            with open(os.path.join(SYSTEMD, unit)) as f:
                text = f.read()
            self.assertIn("ExecStart=/usr/local/bin/", text)
            text = text.replace("ExecStart=/usr/local/bin/",
                                "ExecStart=%s/" % bindir)
            self.write(unit, text)
        # A template is verified through an instance of it.
        shutil.copy(self.path("hpo-worker@.service"),
                    self.path("hpo-worker@test.service"))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)

    def verify(self, unit):
        """systemd-analyze verify's complaints about unit ("" if none)."""
        r = subprocess.run([self.analyze, "verify", "--man=no",
                            self.path(unit)], capture_output=True, text=True,
                           timeout=60, cwd=self.dir)
        said = (r.stdout + r.stderr).strip()
        if r.returncode != 0 and not said:
            said = "exit status %d" % r.returncode
        return said

    def test_units_verify_clean(self):
        for unit in ("hpo-coordinator.service", "hpo-worker@test.service"):
            self.assertEqual(self.verify(unit), "", unit)

    def test_verify_catches_a_broken_unit(self):
        with open(self.path("hpo-coordinator.service")) as f:
            text = f.read()
        # A misspelt key, a bad value, a program that is not there: each
        # must be reported, or the clean result above proves nothing.
        for old, new, said in [
                ("NoNewPrivileges=yes", "NoNewPrivilege=yes", "Unknown key"),
                ("ProtectSystem=strict", "ProtectSystem=bogus", "bogus"),
                ("ExecStart=%s/" % os.path.abspath(exe("")),
                 "ExecStart=/nonexistent/", "not executable")]:
            self.assertIn(old, text)
            self.write("broken.service", text.replace(old, new, 1))
            self.assertIn(said, self.verify("broken.service"), new)

    def test_hardening_scores(self):
        # --threshold counts tenths of the printed level (0-100).
        for unit, threshold in (("hpo-coordinator.service", 20),
                                ("hpo-worker@test.service", 40)):
            r = subprocess.run(
                [self.analyze, "security", "--offline=yes", "--no-pager",
                 "--threshold=%d" % threshold, self.path(unit)],
                capture_output=True, text=True, timeout=60, cwd=self.dir)
            level = re.search(r"Overall exposure level for \S+: ([0-9.]+)",
                              r.stdout + r.stderr)
            self.assertTrue(level, r.stdout + r.stderr)
            self.assertEqual(r.returncode, 0, "%s: exposure %s over %.1f" % (
                unit, level.group(1), threshold / 10))
            sys.stderr.write("%s: exposure %s\n" % (unit, level.group(1)))

    def test_units_as_documented(self):
        wanted = {
            "hpo-coordinator.service": [
                "DynamicUser=yes", "StateDirectory=hpo",
                "SystemCallFilter=@system-service",
                "/etc/hpo/keys/server.key_secret"],
            "hpo-worker@.service": [
                "User=hpo", "StateDirectory=hpo-worker/%i",
                "/etc/hpo/keys/workers.key_secret",
                "--coordinator ${HPO_COORDINATOR}"],
        }
        for unit, lines in wanted.items():
            with open(os.path.join(SYSTEMD, unit)) as f:
                text = f.read()
            for line in lines + ["Restart=on-failure", "NoNewPrivileges=yes",
                                 "ProtectSystem=strict",
                                 "CapabilityBoundingSet=\n"]:
                self.assertIn(line, text, unit)


class SlurmScriptTest(unittest.TestCase):
    """hpo-workers.sbatch with srun and hpo-worker replaced by scripts
    that print what they were given."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hpo-deploy-")
        fake = os.path.join(self.dir, "bin")
        os.mkdir(fake)
        # srun: drop its options, run the command here, once.
        self.script(fake, "srun",
                    'while [ "${1#-}" != "$1" ]; do shift; done\n'
                    'exec "$@"\n')
        self.script(fake, "hpo-worker",
                    'for a in "$@"; do printf "%s\\n" "$a"; done\n')
        self.path = fake + ":" + os.environ["PATH"]

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def script(self, d, name, body):
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write("#!/bin/bash\n" + body)
        os.chmod(p, 0o755)

    def worker_args(self, **env):
        e = {k: v for k, v in os.environ.items()
             if not k.startswith(("SLURM_", "HPO_", "CUDA_"))}
        e.update({"PATH": self.path, "SLURM_JOB_ID": "42",
                  "HOME": self.dir, "HPO_COORDINATOR": "tcp://head:5555"})
        e.update(env)
        r = subprocess.run(["bash", os.path.join(SLURM,
                                                 "hpo-workers.sbatch")],
                           capture_output=True, text=True, env=e, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.split("\n")[:-1]

    def option(self, args, name):
        return [args[i + 1] for i, a in enumerate(args) if a == name]

    def test_resources_from_slurm(self):
        cases = [
            # CPUs only: a slot per allocated CPU.
            ({"SLURM_CPUS_ON_NODE": "6"}, [], ["6"]),
            # GPUs Slurm made visible: those, and no --slots.
            ({"SLURM_CPUS_ON_NODE": "16", "SLURM_GPUS_ON_NODE": "2",
              "CUDA_VISIBLE_DEVICES": "2,3"}, ["2,3"], []),
            # GPUs but no CUDA_VISIBLE_DEVICES: ask nvidia-smi.
            ({"SLURM_CPUS_ON_NODE": "16", "SLURM_GPUS_ON_NODE": "4"},
             ["auto"], []),
            ({"SLURM_GPUS_ON_NODE": "1", "CUDA_VISIBLE_DEVICES":
              "NoDevFiles"}, ["auto"], []),
            # The user's word wins.
            ({"SLURM_CPUS_ON_NODE": "16", "HPO_SLOTS": "3"}, [], ["3"]),
            ({"SLURM_GPUS_ON_NODE": "4", "CUDA_VISIBLE_DEVICES": "0,1,2,3",
              "HPO_GPUS": "0,1"}, ["0,1"], []),
            ({"SLURM_GPUS_ON_NODE": "0", "SLURM_CPUS_ON_NODE": "2"}, [],
             ["2"]),
        ]
        for env, gpus, slots in cases:
            args = self.worker_args(**env)
            self.assertEqual(self.option(args, "--gpus"), gpus, env)
            self.assertEqual(self.option(args, "--slots"), slots, env)
            self.assertEqual(self.option(args, "--coordinator"),
                             ["tcp://head:5555"])
            self.assertEqual(len(self.option(args, "--name")), 1)

    def test_address_file(self):
        d = os.path.join(self.dir, "shared")
        os.mkdir(d)
        with open(os.path.join(d, "coordinator.address"), "w") as f:
            f.write("tcp://node7:40001\n")
        args = self.worker_args(HPO_COORDINATOR="", HPO_SLURM_DIR=d)
        self.assertEqual(self.option(args, "--coordinator"),
                         ["tcp://node7:40001"])

    def test_shellcheck(self):
        sc = shutil.which("shellcheck")
        if not sc:
            _skip("no shellcheck (apt-get install shellcheck)")
        r = subprocess.run([sc, os.path.join(SLURM, "hpo-workers.sbatch"),
                            os.path.join(SLURM, "hpo-coordinator.sbatch")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


def _containerfile_stages():
    """{stage: [instruction, ...]} with continuation lines joined."""
    stages, stage, cur = {}, None, ""
    with open(CONTAINERFILE) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not cur and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.endswith("\\"):
                cur += line[:-1] + " "
                continue
            cur += line
            m = re.match(r"FROM\s+(\S+)\s+AS\s+(\S+)", cur)
            if m:
                stage = m.group(2)
                stages[stage] = [cur]
            else:
                stages[stage].append(cur)
            cur = ""
    return stages


class ContainerfileTest(unittest.TestCase):
    def test_build_stage_runs(self):
        if os.environ.get("HPO_SKIP_CONTAINER_BUILD"):
            _skip("HPO_SKIP_CONTAINER_BUILD is set")
        stages = _containerfile_stages()
        self.assertEqual(sorted(stages), ["build", "runtime"])
        self.assertTrue(stages["build"][0].startswith("FROM debian:12 "))
        self.assertTrue(stages["runtime"][0].startswith("FROM debian:12"))
        runs = [i[4:] for i in stages["build"] if i.startswith("RUN ")]
        # The build is CI's (scripts/test.sh): the install script, cmake,
        # RelWithDebInfo.
        self.assertIn("scripts/install-deps.sh", runs[0])
        self.assertIn("cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo",
                      runs[1])
        work = tempfile.mkdtemp(prefix="hpo-deploy-")
        try:
            src = os.path.join(work, "src")
            # COPY . . : the tracked files (the build context).
            files = subprocess.run(["git", "-C", SRC, "ls-files", "-z"],
                                   capture_output=True, check=True,
                                   timeout=60).stdout.split(b"\0")
            for name in filter(None, files):
                name = name.decode()
                if not os.path.exists(os.path.join(SRC, name)):
                    continue
                os.makedirs(os.path.dirname(os.path.join(src, name)),
                            exist_ok=True)
                shutil.copy2(os.path.join(SRC, name),
                             os.path.join(src, name))
            prefix = os.path.join(work, "opt")
            for cmd in runs:
                # The install prefix inside the image: here, a temp dir.
                cmd = cmd.replace("/opt/hpo", prefix)
                r = subprocess.run(["bash", "-euo", "pipefail", "-c", cmd],
                                   cwd=src, capture_output=True, text=True,
                                   timeout=900)
                self.assertEqual(r.returncode, 0, "RUN %s:\n%s%s" % (
                    cmd, r.stdout[-3000:], r.stderr[-3000:]))
            for b in ("hpo", "hpo-worker", "hpo-coordinator"):
                self.assertTrue(os.access(os.path.join(prefix, "bin", b),
                                          os.X_OK), b)
            for s in ("hpo-coordinator.sbatch", "hpo-workers.sbatch"):
                self.assertTrue(os.path.exists(os.path.join(
                    prefix, "share", "hpo", "slurm", s)), s)
            self.check_runtime_packages(prefix, stages["runtime"])
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def check_runtime_packages(self, prefix, runtime):
        """Every shared library the programs name is in a package the
        runtime stage installs (libc6 comes with the base image)."""
        install = " ".join(i for i in runtime if "apt-get install" in i)
        # Every word of the command: a package need not start with "lib"
        # (zlib1g, the dashboard's gzip).
        have = set(install.replace("\\", " ").split()) | {"libc6"}
        for b in ("hpo", "hpo-worker", "hpo-coordinator"):
            out = subprocess.run(["readelf", "-d", os.path.join(
                prefix, "bin", b)], capture_output=True, text=True,
                check=True, timeout=30).stdout
            for soname in re.findall(r"NEEDED.*\[(.+)\]", out):
                pkg = self.package_of(soname)
                self.assertIn(pkg, have, "%s needs %s from %s" % (
                    b, soname, pkg))

    def package_of(self, soname):
        for d in ("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu",
                  "/usr/lib/aarch64-linux-gnu", "/lib/aarch64-linux-gnu"):
            r = subprocess.run(["dpkg", "-S", os.path.join(d, soname)],
                               capture_output=True, text=True, timeout=30)
            if r.returncode == 0:
                return r.stdout.split(":")[0]
        self.fail("no package holds %s" % soname)


if __name__ == "__main__":
    unittest.main(verbosity=2)
