"""deploy/k8s: the manifests validated offline against the Kubernetes API
schemas.

The schemas come from the npm package kubernetes-models (one compiled JSON
schema validator per kind), pinned in deploy/k8s/test/package-lock.json
and installed with `npm ci` into a cache directory keyed by the lockfile
($HPO_NPM_CACHE, else ~/.cache/hpo-k8s-check), so the registry is asked
once per lockfile. deploy/k8s/test/validate.js parses each YAML document
and validates it as its apiVersion and kind say.

Negative checks: a manifest with a wrong type, one missing a required
field and one of a kind with no schema must all be refused. Known limit:
these schemas do not refuse unknown fields (a misspelt optional key passes,
as with kubectl's client-side validation), so the test also checks the
fields this deployment relies on by name.

Skips (exit 77) without node and npm, or when the registry is unreachable
and nothing is cached.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from harness import SRC

K8S = os.path.join(SRC, "deploy", "k8s")
CHECK = os.path.join(K8S, "test")
MANIFESTS = ["namespace.yaml", "coordinator.yaml", "workers.yaml",
             "kustomization.yaml"]
_dir = None


def _install():
    """The node_modules directory for the lockfile, installed if missing.
    Returns (directory, None) or (None, why not)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        return None, "no node/npm (apt-get install nodejs npm)"
    with open(os.path.join(CHECK, "package-lock.json"), "rb") as f:
        key = hashlib.sha256(f.read()).hexdigest()[:16]
    base = os.environ.get("HPO_NPM_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "hpo-k8s-check")
    d = os.path.join(base, key)
    if os.path.exists(os.path.join(d, "node_modules", "kubernetes-models",
                                   "package.json")):
        return d, None
    os.makedirs(base, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=key + "-", dir=base)
    for f in ("package.json", "package-lock.json"):
        shutil.copy(os.path.join(CHECK, f), tmp)
    try:
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund",
                            "--ignore-scripts", "--loglevel=error"],
                           cwd=tmp, capture_output=True, text=True,
                           timeout=240)
    except subprocess.TimeoutExpired:
        r = None
    if r is None or r.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        return None, "npm ci failed (registry unreachable?): %s" % (
            r.stderr[-500:] if r else "timed out")
    # Renamed whole: a run killed half way leaves no half cache behind.
    try:
        os.rename(tmp, d)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)   # another run won
    return d, None


class K8sTest(unittest.TestCase):
    def validate(self, *paths):
        env = dict(os.environ)
        env["NODE_PATH"] = os.path.join(_dir, "node_modules")
        return subprocess.run(["node", os.path.join(CHECK, "validate.js")]
                              + list(paths), capture_output=True, text=True,
                              timeout=120, env=env)

    def test_manifests_valid(self):
        r = self.validate(*[os.path.join(K8S, m) for m in MANIFESTS])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for kind in ("Namespace hpo", "Service hpo-coordinator",
                     "StatefulSet hpo-coordinator", "Deployment hpo-worker",
                     "Kustomization"):
            self.assertIn("ok " + kind, r.stdout)

    def test_broken_manifests_refused(self):
        with open(os.path.join(K8S, "workers.yaml")) as f:
            workers = f.read()
        with open(os.path.join(K8S, "coordinator.yaml")) as f:
            coord = f.read()
        d = tempfile.mkdtemp(prefix="hpo-k8s-")
        try:
            cases = [
                ("type.yaml", workers.replace("replicas: 2", "replicas: two"),
                 "replicas must be integer"),
                ("required.yaml", coord.replace("containerPort: 5555",
                                                "containerPrt: 5555"),
                 "required property containerPort"),
                ("kind.yaml", workers.replace("kind: Deployment",
                                              "kind: Deploymnt"),
                 "no schema for apps/v1 Deploymnt"),
                ("yaml.yaml", workers.replace("replicas: 2",
                                              "replicas: [2"),
                 "INVALID YAML"),
            ]
            for name, text, said in cases:
                self.assertNotIn(text, (workers, coord), name)
                p = os.path.join(d, name)
                with open(p, "w") as f:
                    f.write(text)
                r = self.validate(p)
                self.assertEqual(r.returncode, 1, name + r.stdout + r.stderr)
                self.assertIn(said, r.stdout, name)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_fields_relied_on(self):
        # What the schemas cannot say: unknown keys pass them.
        with open(os.path.join(K8S, "workers.yaml")) as f:
            workers = f.read()
        with open(os.path.join(K8S, "coordinator.yaml")) as f:
            coord = f.read()
        for text in ("nvidia.com/gpu: 1", "--gpus=auto",
                     "secretName: hpo-worker", "readOnly: true",
                     "terminationGracePeriodSeconds: 60"):
            self.assertIn(text, workers)
        for text in ("volumeClaimTemplates:", "kind: StatefulSet",
                     "kind: Service", "replicas: 1", "--db=/var/lib/hpo/",
                     "mountPath: /var/lib/hpo}", "readOnly: true",
                     "secretName: hpo-server",
                     "secretName: hpo-allow-worker"):
            self.assertIn(text, coord)


if __name__ == "__main__":
    _dir, why = _install()
    if why:
        sys.stderr.write("\n*** test_k8s SKIPPED: %s ***\n\n" % why)
        sys.exit(77)
    unittest.main(verbosity=2)
