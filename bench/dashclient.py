"""A dashboard client for the benchmarks (standard library only): what
bench/dash_api.py times and what bench/run.py dashboard runs beside the
trial loop. It speaks to `hpo-coordinator --http` as the page does: the
token as a bearer header, gzip accepted, and the event stream followed.
"""
import gzip
import http.client
import os
import re
import threading
import time
import urllib.parse


def address_from_log(logpath, timeout=120, proc=None):
    """(host, port) from the coordinator's `dashboard on http://ADDR:PORT/`
    log line; waits up to timeout seconds (less if proc exits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(logpath, errors="replace") as f:
                m = re.search(r"dashboard on http://([0-9.]+):(\d+)/",
                              f.read())
        except OSError:
            m = None
        if m:
            return m.group(1), int(m.group(2))
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.01)
    raise RuntimeError("no `dashboard on` line in %s" % logpath)


def write_token(path):
    token = "bench-" + os.urandom(8).hex()
    with open(path, "w") as f:
        f.write(token + "\n")
    return token


def quote(name):
    return urllib.parse.quote(name, safe="")


class Client:
    def __init__(self, addr, token, timeout=60):
        self.addr = addr
        self.token = token
        self.timeout = timeout
        self.conn = None

    def get(self, path):
        """One GET on a kept-alive connection. Returns (status, bytes on
        the wire, bytes once gunzipped, seconds to the last byte)."""
        for tries in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(*self.addr,
                                                       timeout=self.timeout)
            t0 = time.monotonic()
            try:
                self.conn.request("GET", path, headers={
                    "Authorization": "Bearer " + self.token,
                    "Accept-Encoding": "gzip"})
                r = self.conn.getresponse()
                body = r.read()
            except (http.client.HTTPException, OSError):
                self.close()
                if tries:
                    raise
                continue
            seconds = time.monotonic() - t0
            raw = body
            if r.getheader("Content-Encoding") == "gzip":
                raw = gzip.decompress(body)
            return r.status, len(body), len(raw), seconds

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Follower:
    """A page left open: follows /api/events and, every `every` seconds,
    fetches the study list and the study's trials, as the page does when
    it comes back to them. Runs in two threads until stop()."""

    def __init__(self, addr, token, study, every=1.0):
        self.addr, self.token, self.study = addr, token, study
        self.every = every
        self.events = 0
        self.fetches = 0
        self.errors = []
        self._stop = threading.Event()
        self._sse = None
        self._threads = [threading.Thread(target=self._follow, daemon=True),
                         threading.Thread(target=self._poll, daemon=True)]
        for t in self._threads:
            t.start()

    def _follow(self):
        try:
            c = http.client.HTTPConnection(*self.addr, timeout=30)
            self._sse = c
            c.request("GET", "/api/events", headers={
                "Authorization": "Bearer " + self.token,
                "Accept": "text/event-stream"})
            r = c.getresponse()
            if r.status != 200:
                self.errors.append("events: %d" % r.status)
                return
            while not self._stop.is_set():
                line = r.fp.readline()
                if not line:
                    break
                if line.startswith(b"event:"):
                    self.events += 1
        except (OSError, http.client.HTTPException, ValueError,
                AttributeError) as e:
            if not self._stop.is_set():
                self.errors.append("events: %r" % e)

    def _poll(self):
        c = Client(self.addr, self.token)
        paths = ["/api/studies",
                 "/api/studies/%s/trials" % quote(self.study)]
        try:
            while not self._stop.wait(self.every):
                for p in paths:
                    status = c.get(p)[0]
                    self.fetches += 1
                    if status != 200:
                        self.errors.append("%s: %d" % (p, status))
        except (OSError, http.client.HTTPException) as e:
            if not self._stop.is_set():
                self.errors.append("poll: %r" % e)
        finally:
            c.close()

    def stop(self):
        self._stop.set()
        if self._sse is not None:
            try:
                self._sse.sock.shutdown(2)
            except (OSError, AttributeError):
                pass
        for t in self._threads:
            t.join(timeout=10)
        if self._sse is not None:
            self._sse.close()
