"""A dashboard client for the benchmarks (standard library only): what
bench/dash_api.py times and what bench/run.py dashboard runs beside the
trial loop. It speaks to `hpo-coordinator --http` as the page does: the
token as a bearer header, gzip accepted, and the event stream followed.
"""
import gzip
import http.client
import os
import re
import subprocess
import tempfile
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



# The client stands for a browser on the user's own machine. Here it shares
# the benchmark's two cores with the load generator and the coordinator, so
# its threads (and curl) run at the lowest priority: they take the CPU the
# work leaves, as a browser elsewhere would take none of it. Its CPU is
# still measured and shown (the table's "client CPU").
CLIENT_NICE = 19


def _yield_cpu():
    """Lowers the calling thread's priority (Linux keeps nice per thread)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(),
                       CLIENT_NICE)
    except OSError:
        pass

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
    """An open page: fetches `initial` paths once, follows /api/events,
    and fetches `periodic` paths every `every` seconds, in two threads
    until stop(). page() and reloading() make the two the benchmarks
    use."""

    def __init__(self, addr, token, initial, periodic, every, events=True):
        self.addr, self.token = addr, token
        self.initial, self.periodic, self.every = initial, periodic, every
        self.events = 0
        self.fetches = 0
        self.errors = []
        self._stop = threading.Event()
        self._sse = None
        self._curl = None
        if events == "curl":
            self._curl_out = tempfile.TemporaryFile()
            self._curl = subprocess.Popen(
                ["nice", "-n", str(CLIENT_NICE), "curl", "-sN", "-H", "Authorization: Bearer " + token,
                 "http://%s:%d/api/events" % addr], stdout=self._curl_out,
                stdin=subprocess.DEVNULL)
            events = False
        self._threads = (
            [threading.Thread(target=self._follow, daemon=True)] * events
            + [threading.Thread(target=self._poll, daemon=True)])
        for t in self._threads:
            t.start()

    @classmethod
    def page(cls, addr, token, study):
        """What the page does on a study's overview (web/README.md): the
        study list and the study's trials once, then the event stream;
        importance, which has no event, again every 10 s."""
        s = "/api/studies/" + quote(study)
        return cls(addr, token, ["/api/studies", s, s + "/trials"],
                   [s + "/importance"], 10.0)

    @classmethod
    def page_curl(cls, addr, token, study):
        """page(), the event stream read by curl rather than Python: how
        much of the cost is the client's own, on a shared machine."""
        s = "/api/studies/" + quote(study)
        return cls(addr, token, ["/api/studies", s, s + "/trials"],
                   [s + "/importance"], 10.0, events="curl")

    @classmethod
    def reloading(cls, addr, token, study):
        """A worst case: the list and the study's whole trial table
        fetched again every second (someone pressing reload)."""
        s = "/api/studies/" + quote(study)
        return cls(addr, token, [], ["/api/studies", s + "/trials"], 1.0)

    def _follow(self):
        _yield_cpu()
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
        _yield_cpu()
        c = Client(self.addr, self.token)

        def fetch(paths):
            for p in paths:
                status = c.get(p)[0]
                self.fetches += 1
                if status != 200:
                    self.errors.append("%s: %d" % (p, status))

        try:
            fetch(self.initial)
            while not self._stop.wait(self.every):
                fetch(self.periodic)
        except (OSError, http.client.HTTPException) as e:
            if not self._stop.is_set():
                self.errors.append("poll: %r" % e)
        finally:
            c.close()

    def stop(self):
        self._stop.set()
        if self._curl is not None and self._curl.poll() is None:
            self._curl.terminate()
            self._curl.wait(timeout=10)
            self._curl_out.seek(0)
            self.events = sum(1 for line in self._curl_out
                              if line.startswith(b"event:"))
        if self._sse is not None:
            try:
                self._sse.sock.shutdown(2)
            except (OSError, AttributeError):
                pass
        for t in self._threads:
            t.join(timeout=10)
        if self._sse is not None:
            self._sse.close()
