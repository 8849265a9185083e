"""A raw peer: speaks the wire protocol (proto/hpo.proto) to a coordinator
directly, with python3-zmq and python3-protobuf, so tests can send what no
hpo program would: NaN, other workers' trials, huge counts, invalid UTF-8.

The schema is compiled at build time (protoc --python_out, CMakeLists.txt)
into $HPO_BIN/python/hpo_pb2.py. load() imports it, or returns None with
the reason when python3-zmq, python3-protobuf or the compiled schema is
missing, so a test can skip (exit 77) instead of failing on setup.

Replies are parsed by python-protobuf, which, unlike protobuf-c, refuses a
string field that is not valid UTF-8: a reply that does not decode raises
ReplyUndecodable.
"""
import os
import sys
import time

from harness import BIN

pb = None
zmq = None

VERSION = 1  # HPO_WIRE_VERSION (common/wire.h)


def load():
    """Imports zmq and the compiled schema; returns None, or why not."""
    global pb, zmq
    try:
        import zmq as zmq_
    except ImportError as e:
        return "python3-zmq is missing (%s)" % e
    sys.path.insert(0, os.path.join(BIN, "python"))
    try:
        import hpo_pb2
    except ImportError as e:
        return "hpo_pb2 is not built (protoc, python3-protobuf: %s)" % e
    finally:
        sys.path.pop(0)
    zmq, pb = zmq_, hpo_pb2
    return None


class ReplyUndecodable(AssertionError):
    pass


def body_of(env):
    return env.WhichOneof("body")


def with_bytes(data, placeholder, raw):
    """Serialized data with the bytes of placeholder (a unique ASCII
    string of the same length) replaced by raw: python-protobuf will not
    serialize a string field that is not UTF-8, so tests write one this
    way."""
    placeholder = placeholder.encode()
    assert len(placeholder) == len(raw), (placeholder, raw)
    assert data.count(placeholder) == 1, "placeholder must be unique"
    return data.replace(placeholder, raw)


class RawPeer:
    """One DEALER connected to the coordinator: one session as the
    coordinator sees it."""

    def __init__(self, endpoint, name=None):
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.RCVHWM, 0)
        self.sock.connect(endpoint)
        self.seq = 0
        self.name = name
        self.inbox = []  # received but not yet taken

    def close(self):
        self.sock.close(0)
        self.ctx.term()

    # ---- sending ---------------------------------------------------------
    def envelope(self, body, msg):
        self.seq += 1
        env = pb.Envelope(version=VERSION, seq=self.seq)
        getattr(env, body).CopyFrom(msg)
        return env

    def send(self, body, msg):
        """Sends one message; returns its seq."""
        env = self.envelope(body, msg)
        self.sock.send(env.SerializeToString())
        return env.seq

    def send_raw(self, data):
        self.sock.send(data)

    def hello(self, name=None, slots=1, leases=(), incarnation=1,
              started_us=None, host="rawpeer", pid=None):
        return self.send("hello", pb.Hello(
            name=self.name if name is None else name, host=host, slots=slots,
            leases=[pb.Lease(trial_id=t, attempt=a) for t, a in leases],
            pid=os.getpid() if pid is None else pid,
            incarnation=incarnation,
            started_us=int(time.time() * 1e6) if started_us is None
            else started_us))

    def heartbeat(self, leases=(), free=0):
        return self.send("heartbeat", pb.Heartbeat(
            leases=[pb.Lease(trial_id=t, attempt=a) for t, a in leases],
            free=free))

    def report(self, trial_id, attempt, step=None, **metrics):
        r = pb.Report(trial_id=trial_id, attempt=attempt,
                      metrics=[pb.Metric(name=k, value=v)
                               for k, v in metrics.items()])
        if step is not None:
            r.has_step = True
            r.step = step
        return self.send("report", r)

    def finish(self, trial_id, attempt, value=None,
               outcome="OUTCOME_COMPLETE", asks=False, free=0):
        f = pb.Finish(trial_id=trial_id, attempt=attempt,
                      outcome=pb.Outcome.Value(outcome), reason="rawpeer",
                      asks=asks, free=free)
        if value is not None:
            f.has_value = True
            f.value = value
        return self.send("finish", f)

    # ---- receiving -------------------------------------------------------
    def _recv(self, timeout):
        """One message, strictly decoded, or None after timeout s."""
        if not self.sock.poll(max(0, int(timeout * 1000))):
            return None
        data = self.sock.recv()
        env = pb.Envelope()
        try:
            env.ParseFromString(data)
        except Exception as e:  # DecodeError; its module varies
            raise ReplyUndecodable("a reply does not decode strictly "
                                   "(%s): %r" % (e, data[:300]))
        return env

    def collect(self, timeout, until=None):
        """Messages received within timeout s (all of them, once taken),
        stopping early once until(messages) is true."""
        deadline = time.monotonic() + timeout
        got = self.inbox
        self.inbox = []
        while not (until and until(got)):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            env = self._recv(left)
            if env is not None:
                got.append(env)
        return got

    def wait(self, pred, timeout, what):
        """The first message for which pred is true; the others received
        meanwhile stay in the inbox. Fails after timeout s."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            for k, env in enumerate(self.inbox):
                if pred(env):
                    del self.inbox[k]
                    self.inbox = seen + self.inbox
                    return env
            seen += self.inbox
            self.inbox = []
            left = deadline - time.monotonic()
            if left <= 0:
                self.inbox = seen
                raise AssertionError(
                    "no %s within %.1fs; got %s" % (
                        what, timeout, [describe(e) for e in seen][-10:]))
            env = self._recv(left)
            if env is not None:
                self.inbox.append(env)

    def reply_to(self, seq, timeout=5, what=None):
        """The reply carrying seq (an Error, Welcome or CLI answer)."""
        return self.wait(lambda e: e.seq == seq and body_of(e) in REPLIES,
                         timeout, what or "reply to seq %d" % seq)

    def acked(self, seq, timeout=5):
        """Waits until some message acknowledges seq."""
        return self.wait(lambda e: seq in e.acks or
                         (body_of(e) == "ack" and e.ack.ack_seq == seq),
                         timeout, "an ack of seq %d" % seq)

    def assigned(self, n, timeout=10):
        """Waits for n Assigns; returns [(trial_id, attempt, number)]."""
        out = []
        while len(out) < n:
            a = self.wait(lambda e: body_of(e) == "assign", timeout,
                          "assignment %d of %d" % (len(out) + 1, n)).assign
            out.append((a.trial_id, a.attempt, a.number))
        return out

    def request(self, body, msg, timeout=5):
        return self.reply_to(self.send(body, msg), timeout)


# Bodies that answer a request with its seq.
REPLIES = ("welcome", "error", "ok", "study_info", "trial_list",
           "trial_info", "worker_list", "study_list")


def describe(env):
    b = body_of(env)
    inner = getattr(env, b) if b else None
    text = str(inner).replace("\n", " ")[:120] if inner is not None else ""
    return "%s(seq=%d%s) %s" % (b, env.seq,
                                ", acks=%d" % len(env.acks) if env.acks
                                else "", text)
