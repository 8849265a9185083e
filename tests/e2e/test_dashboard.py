"""The dashboard's HTTP side (issue #12, docs/dashboard.md) on a real
coordinator started with --http 127.0.0.1:0 and a token file, workers
running a study and an ask/tell study told through the CLI:

- the token: 401 without one, with a wrong one (Bearer, ?token=, cookie);
  Bearer works; /?token= sets the cookie (HttpOnly, SameSite=Strict) and
  redirects (303) to the same address without the token; the cookie
  works; POST is 405;
- the page is the one in web/dist/index.html, with a Content-Security-
  Policy that allows no network but the dashboard itself;
- every /api endpoint agrees with `hpo study show`, `hpo trials` and
  `hpo trial show` (--json); unknown paths and studies are 404;
- gzip when asked for, plain otherwise;
- the event stream: a trial told through the CLI arrives within a
  second; a stream resumed with Last-Event-ID gets what it missed and
  nothing it had; an id older than what is kept (or another run's)
  gets `reset`;
- a restart keeps everything (the snapshot at start-up);
- the option errors: --http without a token file, an empty or missing
  token file.
"""
import gzip
import http.client
import json
import os
import re
import socket
import subprocess
import time
import unittest
import urllib.parse

from harness import (Cluster, ClusterTest, SRC, exe, study_yaml, test_ok,
                     wait_for)

TOKEN = "s3cret-token+/="


def asktell_yaml(name, trials):
    return ("name: %s\n"
            "objective: {metric: loss, direction: minimize}\n"
            "sampler: {type: random, seed: 11}\n"
            "budget: {trials: %d}\n"
            "space:\n"
            "  x: {type: float, low: -5, high: 5}\n"
            "  opt: {type: categorical, values: [adam, sgd]}\n"
            % (name, trials))


class Http:
    """A small client of the dashboard at host:port."""

    def __init__(self, url):
        m = re.match(r"http://([^/:]+):(\d+)/", url)
        self.host, self.port = m.group(1), int(m.group(2))

    def request(self, path, headers=None, method="GET", token=TOKEN):
        h = dict(headers or {})
        if token is not None:
            h.setdefault("Authorization", "Bearer " + token)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, path, headers=h)
            r = conn.getresponse()
            body = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, body
        finally:
            conn.close()

    def json(self, path):
        status, headers, body = self.request(path)
        assert status == 200, (path, status, body)
        assert headers["content-type"].startswith("application/json"), headers
        return json.loads(body)


class Stream:
    """An open /api/events stream, read event by event with a deadline."""

    def __init__(self, http_, last_id=None, query=""):
        self.sock = socket.create_connection((http_.host, http_.port),
                                             timeout=10)
        extra = "Last-Event-ID: %s\r\n" % last_id if last_id else ""
        self.sock.sendall(("GET /api/events%s HTTP/1.1\r\nHost: x\r\n"
                           "Authorization: Bearer %s\r\n%s\r\n"
                           % (query, TOKEN, extra)).encode())
        self.buf = b""
        self.headers = self._until(b"\r\n\r\n", time.monotonic() + 10)
        assert b" 200 " in self.headers.split(b"\r\n")[0], self.headers
        self.chunk_left = 0
        self.text = ""

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no event in time")
        self.sock.settimeout(left)
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("stream closed")
        self.buf += data

    def _until(self, sep, deadline):
        while sep not in self.buf:
            self._fill(deadline)
        head, self.buf = self.buf.split(sep, 1)
        return head

    def _dechunk(self, deadline):
        """Moves what chunked transfer encoding carried into self.text."""
        while True:
            if self.chunk_left == 0:
                if b"\r\n" not in self.buf:
                    return
                size, rest = self.buf.split(b"\r\n", 1)
                if not size:            # the CRLF after a chunk
                    self.buf = rest
                    continue
                self.chunk_left = int(size.split(b";")[0], 16)
                self.buf = rest
                if self.chunk_left == 0:
                    raise EOFError("stream ended")
            take = self.buf[:self.chunk_left]
            self.buf = self.buf[len(take):]
            self.chunk_left -= len(take)
            self.text += take.decode()
            if not self.buf:
                return

    def next(self, timeout=5):
        """The next event as (id, type, data), or None for a comment."""
        deadline = time.monotonic() + timeout
        while "\n\n" not in self.text:
            self._dechunk(deadline)
            if "\n\n" in self.text:
                break
            self._fill(deadline)
        block, self.text = self.text.split("\n\n", 1)
        fields = {}
        for line in block.split("\n"):
            if line.startswith(":"):
                continue
            k, _, v = line.partition(": ")
            fields[k] = v
        if not fields:
            return None
        return (int(fields["id"]), fields["event"], json.loads(fields["data"]))

    def until(self, pred, timeout):
        """Events until pred(event) holds; returns them all."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            ev = self.next(max(0.01, deadline - time.monotonic()))
            if ev is None:
                continue
            seen.append(ev)
            if pred(ev):
                return seen

    def close(self):
        self.sock.close()


class DashboardTest(ClusterTest):
    cluster_args = {"heartbeat_ms": 200, "lease_ms": 3000}

    def setUp(self):
        self.c = Cluster(**self.cluster_args)
        self.peers = []
        self.token_file = os.path.join(self.c.dir, "token")
        with open(self.token_file, "w") as f:
            f.write("  %s  \n" % TOKEN)
        os.chmod(self.token_file, 0o600)
        self.start()

    def start(self):
        self.c.start_coordinator(["--http", "127.0.0.1:0",
                                  "--http-token-file", self.token_file])
        url = wait_for(lambda: re.findall(
            r"dashboard on (http://\S+)", self.c.log_text("coordinator.log")),
            10, "the dashboard's address")[-1]
        self.http = Http(url)

    def run_studies(self):
        """A study run by workers, and an ask/tell one told by hand."""
        self.c.create_study(study_yaml("run", trials=12, parallel=4,
                                       args="--steps 3"))
        self.c.start_worker("w1", slots=2)
        self.c.start_worker("w2", slots=2)
        self.c.wait_study_done("run", timeout=90)
        self.c.create_study(asktell_yaml("at", 20))
        for _ in range(3):
            self.tell_next()

    def tell_next(self, value=None):
        t = json.loads(self.c.cli("ask", "at", "--json").stdout)
        v = value if value is not None else t["params"]["x"] ** 2
        self.c.cli("tell", "at", str(t["number"]), repr(v))
        return t["number"]

    # ---- the token ---------------------------------------------------
    def test_token_and_methods(self):
        h = self.http
        status, headers, body = h.request("/api/studies", token=None)
        self.assertEqual(status, 401)
        self.assertIn(b"token", body)
        self.assertEqual(h.request("/api/studies", token="wrong")[0], 401)
        self.assertEqual(h.request("/api/studies", token=TOKEN + "x")[0], 401)
        self.assertEqual(h.request("/", token=None)[0], 401)
        self.assertEqual(h.request("/api/events", token=None)[0], 401)
        self.assertEqual(h.request("/api/studies")[0], 200)
        # ?token= with the wrong token: 401, no cookie.
        status, headers, _ = h.request("/?token=nope", token=None)
        self.assertEqual(status, 401)
        self.assertNotIn("set-cookie", headers)
        # The right one: a cookie, and the same address without it.
        q = urllib.parse.quote(TOKEN, safe="")
        status, headers, _ = h.request("/?view=trials&token=%s" % q,
                                       token=None)
        self.assertEqual(status, 303)
        self.assertEqual(headers["location"], "/?view=trials")
        cookie = headers["set-cookie"]
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        self.assertIn("Path=/", cookie)
        # Never to another site.
        status, headers, _ = h.request("//evil.example/?token=%s" % q,
                                       token=None)
        self.assertEqual((status, headers["location"]), (303, "/"))
        pair = cookie.split(";")[0]
        status, _, body = h.request("/api/studies", {"Cookie": pair},
                                    token=None)
        self.assertEqual(status, 200, body)
        self.assertEqual(h.request("/api/studies",
                                   {"Cookie": "hpo_token=wrong"},
                                   token=None)[0], 401)
        # Read-only: every other method is refused.
        for method in ("POST", "PUT", "DELETE"):
            status, headers, _ = h.request("/api/studies", method=method)
            self.assertEqual(status, 405, method)
            self.assertIn("GET", headers["allow"])
        status, _, body = h.request("/api/studies", method="HEAD")
        self.assertEqual((status, body), (200, b""))

    def test_page(self):
        status, headers, body = self.http.request("/")
        self.assertEqual(status, 200)
        with open(os.path.join(SRC, "web", "dist", "index.html"), "rb") as f:
            self.assertEqual(body, f.read())
        self.assertTrue(headers["content-type"].startswith("text/html"))
        csp = headers["content-security-policy"]
        self.assertIn("default-src 'none'", csp)
        self.assertIn("connect-src 'self'", csp)
        self.assertNotIn("http", csp)
        self.assertEqual(self.http.request("/index.html")[2], body)
        status, headers, gz = self.http.request(
            "/", {"Accept-Encoding": "gzip"})
        self.assertEqual(headers.get("content-encoding"), "gzip")
        self.assertEqual(gzip.decompress(gz), body)
        self.assertEqual(self.http.request("/nope")[0], 404)

    # ---- the API against the CLI -----------------------------------------
    def check_api(self):
        h = self.http
        # Batches are applied a flush (a quarter second) after their
        # commit: wait for the last one before comparing.
        def caught_up():
            got = {s["name"]: s["counts"]
                   for s in h.json("/api/studies")["studies"]}
            return all(got.get(n) == self.c.study(n)["counts"]
                       for n in ("run", "at"))
        wait_for(caught_up, 5, "the dashboard to catch up")
        studies = h.json("/api/studies")
        self.assertEqual(sorted(s["name"] for s in studies["studies"]),
                         ["at", "run"])
        for s in studies["studies"]:
            cli = self.c.study(s["name"])
            self.assertEqual(s["state"], cli["state"])
            self.assertEqual(s["counts"], cli["counts"])
            self.assertEqual(s["trials"], sum(cli["counts"].values()))
            self.assertEqual(s["best"]["number"], cli["best"]["number"])
            self.assertEqual(s["best"]["value"], cli["best"]["value"])
            self.assertEqual(s["sampler"], cli["sampler"])
            self.assertEqual(s["metric"], cli["objective"]["metric"])
            one = h.json("/api/studies/%s" % s["name"])
            self.assertEqual(one["study"]["counts"], cli["counts"])
            self.assertEqual(sorted(p["name"] for p in one["space"]),
                             sorted(s["params"]))
            self.check_trials(s["name"])
        return studies

    def check_trials(self, name):
        h = self.http
        cols = h.json("/api/studies/%s/trials" % name)
        trials = sorted(self.c.trials(name), key=lambda t: t["number"])
        self.assertEqual(cols["n"], len(trials))
        self.assertEqual(cols["number"], [t["number"] for t in trials])
        for i, t in enumerate(trials):
            for key in ("state", "value", "attempt", "worker", "started",
                        "ended", "reason"):
                self.assertEqual(cols[key][i], t[key], (name, i, key))
            # The CLI says the last step of running trials only; the
            # dashboard of every trial (the curve's end).
            if t["state"] == "RUNNING":
                self.assertEqual(cols["last_step"][i], t["last_step"])
            for p, v in t["params"].items():
                self.assertEqual(cols["params"][p][i], v, (name, i, p))
        for t in trials[:4]:
            got = h.json("/api/studies/%s/trials/%d" % (name, t["number"]))
            cli = self.c.cli_json("trial", "show", name, str(t["number"]))
            for key in ("state", "value", "params", "attempt", "worker",
                        "started", "ended", "reason"):
                self.assertEqual(got["trial"][key], cli[key], key)
            self.assertEqual(
                [(a["attempt"], a["outcome"], a["worker"])
                 for a in got["attempts"]],
                [(a["attempt"], a["outcome"], a["worker"])
                 for a in cli["attempts"]])
            self.assertEqual(
                sorted((v["step"], v["value"]) for v in got["values"]),
                sorted((v["step"], v["value"]) for v in cli["intermediate"]
                       if v.get("metric", "loss") == "loss"))
        timeline = h.json("/api/studies/%s/timeline" % name)
        self.assertEqual(timeline["n"], sum(t["attempt"] for t in trials
                                            if t["state"] != "WAITING"))

    def test_api_matches_cli(self):
        self.run_studies()
        self.check_api()
        h = self.http
        cols = h.json("/api/studies/run/trials")
        self.assertEqual(cols["last_step"], [2] * 12)
        curves = h.json("/api/studies/run/curves?metric=loss")
        self.assertEqual(curves["metric"], "loss")
        self.assertEqual(curves["n"], 12 * 3)
        importance = h.json("/api/studies/run/importance")
        self.assertEqual(importance["n_trials"], 12)
        # The loop publishes the live workers once a second.
        workers = wait_for(lambda: h.json("/api/workers")["workers"], 5,
                           "the workers")
        self.assertEqual(sorted(w["name"] for w in workers), ["w1", "w2"])
        cli = self.c.cli_json("workers")["workers"]
        self.assertEqual(sorted(w["name"] for w in cli), ["w1", "w2"])
        self.assertEqual(h.request("/api/studies/nope")[0], 404)
        self.assertEqual(h.request("/api/studies/run/trials/999")[0], 404)
        # gzip when asked for and the answer is big enough.
        status, headers, plain = h.request("/api/studies/run/trials")
        self.assertGreater(len(plain), 1024)
        self.assertNotIn("content-encoding", headers)
        status, headers, gz = h.request("/api/studies/run/trials",
                                        {"Accept-Encoding": "br, gzip"})
        self.assertEqual(headers.get("content-encoding"), "gzip")
        self.assertLess(len(gz), len(plain))
        self.assertEqual(json.loads(gzip.decompress(gz))["number"],
                         json.loads(plain)["number"])
        status, headers, _ = h.request("/api/studies/run/trials",
                                       {"Accept-Encoding": "gzip;q=0"})
        self.assertNotIn("content-encoding", headers)

        # A restart keeps everything: the snapshot at start-up.
        before = {n: h.json("/api/studies/%s/trials" % n)
                  for n in ("run", "at")}
        for p in list(self.c.workers):
            self.c.kill_worker(p, __import__("signal").SIGTERM)
        self.c.workers.clear()
        self.assertEqual(self.c.stop_coordinator(), 0)
        self.start()
        after = {n: self.http.json("/api/studies/%s/trials" % n)
                 for n in ("run", "at")}
        for n in before:
            del before[n]["version"], after[n]["version"]
        self.assertEqual(after, before)
        self.check_api()

    # ---- events ----------------------------------------------------------
    def test_events(self):
        self.c.create_study(asktell_yaml("at", 20))
        s = Stream(self.http)
        self.peers.append(s)
        number = None
        t0 = None
        # A trial told through the CLI arrives within a second.
        t = json.loads(self.c.cli("ask", "at", "--json").stdout)
        number = t["number"]
        self.c.cli("tell", "at", str(number), "2.5")
        t0 = time.monotonic()
        seen = s.until(lambda e: e[1] == "trial" and
                       e[2]["trial"]["number"] == number and
                       e[2]["trial"]["state"] == "COMPLETE", 5)
        self.assertLess(time.monotonic() - t0, 1.0)
        ev = seen[-1]
        self.assertEqual(ev[2]["study"], "at")
        self.assertEqual(ev[2]["trial"]["value"], 2.5)
        self.assertEqual(ev[2]["trial"]["params"], t["params"])
        ids = [e[0] for e in seen]
        self.assertEqual(ids, sorted(set(ids)))
        last = ids[-1]
        # The API's version is the last event its answer includes.
        self.assertGreaterEqual(self.http.json("/api/studies")["version"],
                                last)
        s.close()

        # Missed while away, then resumed with Last-Event-ID: the missed
        # events, none of those already seen.
        missed = self.tell_next(value=7.0)
        wait_for(lambda: self.http.json("/api/studies/at/trials")["state"]
                 .count("COMPLETE") == 2, 5, "the second trial")
        s2 = Stream(self.http, last_id=last)
        self.peers.append(s2)
        got = s2.until(lambda e: e[1] == "trial" and
                       e[2]["trial"]["number"] == missed, 5)
        self.assertTrue(all(e[0] > last for e in got), got)
        self.assertNotIn("reset", [e[1] for e in got])
        s2.close()
        # ?since= does the same; Last-Event-ID wins over it.
        s3 = Stream(self.http, query="?since=%d" % last)
        self.peers.append(s3)
        got = s3.until(lambda e: e[1] == "trial", 5)
        self.assertTrue(all(e[0] > last for e in got))
        s3.close()

        # Too old (or another run's): reset.
        for since in (1, last + 10 ** 6):
            s4 = Stream(self.http, query="?since=%d" % since)
            self.peers.append(s4)
            ev = s4.next(5)
            self.assertEqual(ev[1], "reset")
            self.assertEqual(ev[2], {})
            s4.close()

        # A stream left open does not hold up a stop, and the stop is
        # clean (under ASan: nothing leaked, every thread joined).
        s5 = Stream(self.http)
        self.peers.append(s5)
        t0 = time.monotonic()
        self.assertEqual(self.c.stop_coordinator(), 0)
        self.assertLess(time.monotonic() - t0, 5)

    # ---- options ---------------------------------------------------------
    def test_options(self):
        def coordinator(*args):
            return subprocess.run(
                [exe("hpo-coordinator"), "--db",
                 os.path.join(self.c.dir, "other.db"),
                 "--listen", "tcp://127.0.0.1:*"] + list(args),
                capture_output=True, text=True, timeout=20)
        r = coordinator("--http", "0")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--http-token-file", r.stderr)
        empty = os.path.join(self.c.dir, "empty")
        open(empty, "w").close()
        r = coordinator("--http", "0", "--http-token-file", empty)
        self.assertEqual(r.returncode, 1)
        self.assertIn("empty", r.stderr)
        r = coordinator("--http", "0", "--http-token-file",
                        os.path.join(self.c.dir, "missing"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("No such file", r.stderr)
        r = coordinator("--http", "nope:x", "--http-token-file",
                        self.token_file)
        self.assertEqual(r.returncode, 1)
        self.assertIn("--http", r.stderr)
        r = subprocess.run([exe("hpo-coordinator"), "--help"],
                           capture_output=True, text=True, timeout=20)
        self.assertIn("--http-token-file", r.stdout)


if __name__ == "__main__":
    unittest.main()
