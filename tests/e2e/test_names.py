"""Names, limits and endpoints, end to end (issue #10).

- Study names "." and ".." were accepted by the coordinator, then every
  trial failed on the worker ("bad study name"); names the rule allows,
  however odd, must run on a worker too.
- A study at the parameter limit is created quickly; one over it is
  refused with the file, the line and the key.
- An endpoint with a bad port or a host that does not resolve is refused
  at once, not after --timeout.
"""
import os
import subprocess
import time
import unittest

from harness import ClusterTest, study_yaml, exe


def big_study(name, n):
    lines = ["name: %s" % name,
             "command: ./run {p0}",
             "objective: {metric: loss}",
             "budget: {trials: 1}",
             "space:"]
    lines += ["  p%d: {type: int, low: 0, high: 9}" % k for k in range(n)]
    return "\n".join(lines) + "\n"


class NamesTest(ClusterTest):

    def test_dot_names_refused(self):
        c = self.c
        for name, why in ((".", "must not be . or .."),
                          ('".."', "must not be . or .."),
                          ("a/b", "may hold only letters")):
            path = os.path.join(c.dir, "dots.yaml")
            with open(path, "w") as f:
                f.write(study_yaml(name))
            r = c.cli("study", "create", path, check=False)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("dots.yaml:1: name: " + why, r.stderr)
        self.assertEqual(c.cli_json("study", "list")["studies"], [])

    def test_odd_names_run(self):
        # Every name the parser accepts is one the worker accepts.
        c = self.c
        c.start_worker("w1", slots=2)
        # (A name may start with '-'; the CLI then needs "--" before it.)
        for name in ("...", "a..b", ".x", "_.9"):
            c.create_study(study_yaml(name, trials=2), name="odd.yaml")
        for name in ("...", "a..b", ".x", "_.9"):
            s = c.wait_study_done(name)
            self.assertEqual(s["counts"]["COMPLETE"], 2, name)
            self.assertEqual(s["counts"]["FAILED"], 0, name)

    def test_parameter_limit(self):
        c = self.c
        start = time.monotonic()
        c.create_study(big_study("wide", 1024), name="wide.yaml")
        self.assertLess(time.monotonic() - start, 10)
        self.assertEqual(c.study("wide")["name"], "wide")
        path = os.path.join(c.dir, "wider.yaml")
        with open(path, "w") as f:
            f.write(big_study("wider", 1025))
        r = c.cli("study", "create", path, check=False)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("wider.yaml:5: space: has 1025 parameters; at most "
                      "1024 are allowed", r.stderr)

    def test_bad_endpoint_fails_at_once(self):
        for endpoint, why in (
                ("tcp://127.0.0.1:99999", "port 99999 is not 1-65535"),
                ("tcp://no-such-host.invalid:5555",
                 "host no-such-host.invalid does not resolve: "),
                ("udp://127.0.0.1:5555", "unknown transport 'udp'")):
            start = time.monotonic()
            r = subprocess.run([exe("hpo"), "--coordinator", endpoint,
                                "--timeout", "30", "study", "list"],
                               capture_output=True, text=True, timeout=60)
            took = time.monotonic() - start
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("bad endpoint '%s': %s" % (endpoint, why),
                          r.stderr)
            self.assertEqual(r.stdout, "")
            # Before: 30 s (--timeout), then "no answer".
            self.assertLess(took, 20)


if __name__ == "__main__":
    unittest.main()
