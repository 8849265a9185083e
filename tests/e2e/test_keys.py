"""Who may connect: CURVE keys, roles, loud when open, online backup
(issue #13).

- A study runs with keys on: workers and the CLI with their keys.
- A client and a worker without keys, with a key the coordinator does not
  hold, and with a key of the wrong role are each refused, say so (the
  CLI within --timeout, the worker in its log), and the coordinator logs
  it.
- A key removed from the allow directory is refused from the next
  connection on; one added is admitted.
- A worker name taken with one key cannot be taken with another.
- A coordinator refuses to listen beyond loopback without keys unless
  --insecure, and then warns.
- hpo admin backup under load writes a database a coordinator starts on;
  --backup-to copies a stopped coordinator's database, and says to use
  hpo admin backup for a running one.
"""
import os
import shutil
import subprocess
import time
import unittest

from harness import Cluster, exe, study_yaml, test_ok, wait_for


def keygen(name, directory):
    os.makedirs(directory, exist_ok=True)
    r = subprocess.run([exe("hpo"), "keygen", name, "--dir", directory],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return os.path.join(directory, name + ".key_secret")


class KeysTest(unittest.TestCase):
    def setUp(self):
        self.c = Cluster()
        d = self.c.dir
        self.allow = os.path.join(d, "allow")
        self.server_secret = keygen("server", d)
        self.server_key = os.path.join(d, "server.key")
        self.worker_secret = keygen("w1", os.path.join(self.allow, "worker"))
        self.client_secret = keygen("c1", os.path.join(self.allow, "client"))
        self.admin_secret = keygen("root", os.path.join(self.allow, "admin"))
        self.stranger_secret = keygen("stranger", os.path.join(d, "elsewhere"))
        self.c.start_coordinator(extra=("--curve-secret", self.server_secret,
                                        "--allow", self.allow))

    def tearDown(self):
        if not test_ok(self):
            self.c.dump_logs()
        self.c.close()

    def as_(self, secret, *args, check=True, timeout_s="10"):
        keys = [] if secret is None else ["--curve-secret", secret,
                                          "--server-key", self.server_key]
        return self.c.cli(*(keys + ["--timeout", timeout_s] + list(args)),
                          check=check)

    def worker(self, name, secret, extra=()):
        keys = [] if secret is None else ["--curve-secret", secret,
                                          "--server-key", self.server_key]
        return self.c.start_worker(name, extra=keys + list(extra))

    def coordinator_says(self, text, timeout=15):
        wait_for(lambda: text in self.c.log_text("coordinator.log"), timeout,
                 "the coordinator to log %r" % text)

    def test_study_runs_with_keys(self):
        self.worker("w1", self.worker_secret)
        self.as_(self.client_secret, "study", "create",
                 self.write("s.yaml", study_yaml("s", trials=4)))
        s = wait_for(lambda: (lambda j: j if j["state"] == "FINISHED"
                              else None)(self.show("s")), 60,
                     "study s to finish", interval=0.3)
        self.assertEqual(s["counts"]["COMPLETE"], 4)
        # The CLI finds its keys in the environment as well.
        env = dict(os.environ, HPO_CURVE_SECRET=self.client_secret,
                   HPO_SERVER_KEY=self.server_key)
        r = subprocess.run([exe("hpo"), "--coordinator", self.c.endpoint,
                            "study", "list"], capture_output=True, text=True,
                           timeout=20, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("s", r.stdout)
        # ... and in ~/.config/hpo/ (client.key_secret, server.key).
        home = os.path.join(self.c.dir, "home")
        os.makedirs(os.path.join(home, ".config", "hpo"))
        shutil.copy(self.client_secret,
                    os.path.join(home, ".config", "hpo", "client.key_secret"))
        shutil.copy(self.server_key,
                    os.path.join(home, ".config", "hpo", "server.key"))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("HPO_") and k != "XDG_CONFIG_HOME"}
        env["HOME"] = home
        r = subprocess.run([exe("hpo"), "--coordinator", self.c.endpoint,
                            "study", "list"], capture_output=True, text=True,
                           timeout=20, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        # A worker takes its keys from the environment.
        p = self.c._spawn(
            [exe("hpo-worker"), "--coordinator", self.c.endpoint, "--name",
             "envkeys", "--state-dir", os.path.join(self.c.dir, "state-env")],
            "worker-envkeys.log",
            env={"HPO_CURVE_SECRET": self.worker_secret,
                 "HPO_SERVER_KEY": self.server_key})
        self.c.workers["envkeys"] = p
        wait_for(lambda: '"envkeys"' in self.as_(
            self.client_secret, "--json", "workers").stdout, 30,
            "the worker with keys from its environment to join")

    def show(self, name):
        import json
        r = self.as_(self.client_secret, "--json", "study", "show", name)
        return json.loads(r.stdout)

    def write(self, name, text):
        path = os.path.join(self.c.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_clients_refused(self):
        start = time.monotonic()
        r = self.as_(None, "study", "list", check=False, timeout_s="30")
        self.assertEqual(r.returncode, 1)
        self.assertIn("disagree on CURVE keys", r.stderr)
        # Said at once, not after the 30 s timeout.
        self.assertLess(time.monotonic() - start, 15)
        # (Whichever side notices first, the coordinator's words differ.)
        self.coordinator_says("refused a connection: ")
        time.sleep(1.1)  # the coordinator logs a refusal a second at most
        start = time.monotonic()
        r = self.as_(self.stranger_secret, "study", "list", check=False,
                     timeout_s="30")
        self.assertEqual(r.returncode, 1)
        self.assertIn("refused this key", r.stderr)
        self.assertLess(time.monotonic() - start, 15)
        self.coordinator_says("is not in the allow directory")
        # hpo watch, which waits out outages, takes a refusal as final.
        start = time.monotonic()
        r = self.as_(self.stranger_secret, "watch", "s", check=False,
                     timeout_s="30")
        self.assertEqual(r.returncode, 1)
        self.assertIn("refused this key", r.stderr)
        self.assertLess(time.monotonic() - start, 15)
        # A worker's key is authenticated but may not manage studies.
        r = self.as_(self.worker_secret, "study", "list", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("needs a key in the allow directory's client/",
                      r.stderr)
        self.coordinator_says("(key worker:w1)")
        # A client key may not delete; an admin key may.
        r = self.as_(self.client_secret, "study", "delete", "nosuch",
                     "--yes", check=False)
        self.assertIn("admin/", r.stderr)
        r = self.as_(self.admin_secret, "study", "delete", "nosuch", "--yes",
                     check=False)
        self.assertIn("no study named nosuch", r.stderr)
        # The wrong server key: the handshake cannot open.
        r = self.c.cli("--curve-secret", self.client_secret, "--server-key",
                       os.path.join(self.allow, "worker", "w1.key"),
                       "--timeout", "30", "study", "list", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("wrong --server-key", r.stderr)

    def test_workers_refused(self):
        self.worker("nokey", None)
        self.worker("stranger", self.stranger_secret)
        p = self.worker("client", self.client_secret)
        wait_for(lambda: "disagree on CURVE keys" in
                 self.c.log_text("worker-nokey.log"), 20,
                 "the keyless worker to say it was refused")
        wait_for(lambda: "refused this key" in
                 self.c.log_text("worker-stranger.log"), 20,
                 "the stranger worker to say it was refused")
        # A client's key is not a worker's: refused for good, exit 1.
        p.wait(timeout=20)
        self.assertEqual(p.returncode, 1)
        self.assertIn("needs a key in the allow directory's worker/",
                      self.c.log_text("worker-client.log"))
        self.coordinator_says("(key client:c1)")
        self.coordinator_says("is not in the allow directory")
        r = self.as_(self.client_secret, "--json", "workers")
        self.assertEqual(r.stdout.count('"name"'), 0, r.stdout)
        # Once its key is allowed, the refused worker gets in: it opens
        # its connection again (ZeroMQ gave the refused one up).
        shutil.copy(os.path.join(self.c.dir, "elsewhere", "stranger.key"),
                    os.path.join(self.allow, "worker"))
        wait_for(lambda: '"stranger"' in self.as_(
            self.client_secret, "--json", "workers").stdout, 30,
            "the stranger worker to join once its key is allowed",
            interval=0.5)

    def test_key_removed_and_added(self):
        secret = keygen("c2", os.path.join(self.allow, "client"))
        # The coordinator looks at the directory once a second.
        wait_for(lambda: self.as_(secret, "study", "list",
                                  check=False).returncode == 0,
                 20, "the new key to be admitted", interval=0.5)
        os.unlink(os.path.join(self.allow, "client", "c2.key"))

        def refused():
            r = self.as_(secret, "study", "list", check=False)
            return r.returncode == 1 and "refused this key" in r.stderr
        wait_for(refused, 20, "the removed key to be refused", interval=0.5)
        # A new key counts from its next connection too.
        fresh = keygen("c3", os.path.join(self.c.dir, "pending"))
        os.rename(os.path.join(self.c.dir, "pending", "c3.key"),
                  os.path.join(self.allow, "client", "c3.key"))
        wait_for(lambda: self.as_(fresh, "study", "list",
                                  check=False).returncode == 0,
                 20, "the added key to be admitted", interval=0.5)

    def test_worker_name_bound_to_key(self):
        other = keygen("w2", os.path.join(self.allow, "worker"))
        self.worker("gpu1", self.worker_secret)
        wait_for(lambda: '"gpu1"' in self.as_(self.client_secret, "--json",
                                              "workers").stdout,
                 20, "gpu1 to join")
        p = self.c._spawn(
            [exe("hpo-worker"), "--coordinator", self.c.endpoint,
             "--name", "gpu1", "--curve-secret", other, "--server-key",
             self.server_key, "--state-dir",
             os.path.join(self.c.dir, "state-thief")], "worker-thief.log")
        p.wait(timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn("bound to another key",
                      self.c.log_text("worker-thief.log"))
        self.coordinator_says("bound to another key")
        # The first keeps its name and its session.
        self.assertEqual(self.c.workers["gpu1"].poll(), None)

    def test_backup_under_load(self):
        for k in range(2):
            self.worker("w%d" % k, self.worker_secret, extra=("--slots", "2"))
        self.as_(self.client_secret, "study", "create",
                 self.write("s.yaml", study_yaml("busy", trials=400,
                                                 args="--steps 5 --sleep 0")))
        wait_for(lambda: self.show("busy")["counts"]["COMPLETE"] >= 5, 60,
                 "trials to complete")
        out = os.path.join(self.c.dir, "copy.db")
        r = self.as_(self.client_secret, "admin", "backup", out, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("admin/", r.stderr)
        self.assertFalse(os.path.exists(out))
        r = self.as_(self.admin_secret, "admin", "backup", out)
        self.assertIn("backup written to", r.stdout)
        self.assertTrue(os.path.exists(out))
        self.assertFalse(os.path.exists(out + ".part"))
        # Never over an existing file.
        r = self.as_(self.admin_secret, "admin", "backup", out, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("exists", r.stderr)
        # The study kept running meanwhile.
        done = self.show("busy")["counts"]["COMPLETE"]
        wait_for(lambda: self.show("busy")["counts"]["COMPLETE"] > done, 30,
                 "more trials to complete after the backup")
        # The copy serves: a coordinator (on loopback, no keys) starts on it.
        c2 = Cluster()
        try:
            os.rename(out, os.path.join(c2.dir, "hpo.db"))
            c2.start_coordinator()
            r = c2.cli("study", "list")
            self.assertIn("busy", r.stdout)
            r = c2.cli("--json", "trials", "busy")
            self.assertIn('"COMPLETE"', r.stdout)
        finally:
            if not test_ok(self):
                c2.dump_logs()
            c2.close()
        # --backup-to: a running coordinator's database is held.
        db = os.path.join(self.c.dir, "hpo.db")
        r = subprocess.run([exe("hpo-coordinator"), "--db", db, "--backup-to",
                            os.path.join(self.c.dir, "offline.db")],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertIn("hpo admin backup", r.stderr)
        self.c.stop_coordinator()
        r = subprocess.run([exe("hpo-coordinator"), "--db", db, "--backup-to",
                            os.path.join(self.c.dir, "offline.db")],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.c.dir,
                                                    "offline.db")))


class OpenTest(unittest.TestCase):
    def run_coordinator(self, d, *args):
        return subprocess.Popen(
            [exe("hpo-coordinator"), "--db", os.path.join(d, "hpo.db"),
             "--endpoint-file", os.path.join(d, "ep")] + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def test_loud_when_open(self):
        c = Cluster()
        try:
            p = self.run_coordinator(c.dir, "--listen", "tcp://0.0.0.0:0")
            out, _ = p.communicate(timeout=10)
            self.assertEqual(p.returncode, 2)
            self.assertIn("refusing to listen on tcp://0.0.0.0:0 without keys",
                          out)
            p = self.run_coordinator(c.dir, "--listen", "tcp://*:0",
                                     "--insecure", "--log-level", "warn")
            try:
                wait_for(lambda: os.path.exists(os.path.join(c.dir, "ep")),
                         10, "the insecure coordinator to listen")
            finally:
                p.terminate()
                out, _ = p.communicate(timeout=10)
            self.assertIn("INSECURE", out)
            self.assertIn("run any command on every worker", out)
            # Keys need both options.
            p = self.run_coordinator(c.dir, "--curve-secret", "x")
            out, _ = p.communicate(timeout=10)
            self.assertEqual(p.returncode, 2)
            self.assertIn("go together", out)
        finally:
            c.close()

    def test_half_a_key_pair_is_a_usage_error(self):
        c = Cluster()
        try:
            secret = keygen("k", c.dir)
            r = subprocess.run([exe("hpo"), "--curve-secret", secret,
                                "study", "list"], capture_output=True,
                               text=True, timeout=10)
            self.assertEqual(r.returncode, 2)
            self.assertIn("go together", r.stderr)
            r = subprocess.run([exe("hpo-worker"), "--coordinator",
                                "tcp://127.0.0.1:9", "--curve-secret", secret,
                                "--state-dir", os.path.join(c.dir, "st")],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2)
            self.assertIn("go together", r.stderr)
            # A public key given as the secret is said to be one.
            os.unlink(secret)
            r = subprocess.run([exe("hpo"), "--curve-secret",
                                os.path.join(c.dir, "k.key"), "--server-key",
                                os.path.join(c.dir, "k.key"), "study",
                                "list"], capture_output=True, text=True,
                               timeout=10)
            self.assertEqual(r.returncode, 2)
            self.assertIn("no secret key", r.stderr)
        finally:
            c.close()

    def test_keygen_refuses_to_overwrite(self):
        c = Cluster()
        try:
            keygen("k", c.dir)
            st = os.stat(os.path.join(c.dir, "k.key_secret"))
            self.assertEqual(st.st_mode & 0o777, 0o600)
            r = subprocess.run([exe("hpo"), "keygen", "k", "--dir", c.dir],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 1)
            self.assertIn("not overwritten", r.stderr)
            r = subprocess.run([exe("hpo"), "keygen", "k", "--dir", c.dir,
                                "--force"], capture_output=True, text=True,
                               timeout=10)
            self.assertEqual(r.returncode, 0, r.stderr)
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
