"""The coordinator's options say what they do (issue #6).

- `--sync off` was accepted while the help said "full or normal" and the
  error for a bad mode offered only those two: the help names off with
  what it costs, the error offers all three, and off really runs.
"""
import os
import subprocess
import unittest

from harness import Cluster, exe, study_yaml, test_ok


class CoordOptionsTest(unittest.TestCase):
    def test_help_names_every_sync_mode(self):
        r = subprocess.run([exe("hpo-coordinator"), "--help"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("off: never fsynced", r.stdout)
        self.assertIn("can lose acknowledged results", r.stdout)

    def test_bad_sync_mode_names_every_mode(self):
        r = subprocess.run([exe("hpo-coordinator"), "--db", "/nonexistent",
                            "--sync", "sometimes"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertIn("expected full, normal or off, got 'sometimes'",
                      r.stderr)

    def test_sync_off_runs(self):
        c = Cluster()
        try:
            c.start_coordinator(extra=("--sync", "off"))
            self.assertIn("sync off", c.log_text("coordinator.log"))
            c.start_worker("w1")
            c.create_study(study_yaml("s", trials=2))
            s = c.wait_study_done("s")
            self.assertEqual(s["counts"]["COMPLETE"], 2)
        finally:
            if not test_ok(self):
                c.dump_logs()
            c.close()


if __name__ == "__main__":
    unittest.main()
